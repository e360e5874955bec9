"""The CLI on the bundled sample on three runners (in-process, two processes, portable with a
worker pool): the same release, readable by pyarrow and datasets."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest

from rootstock.catalog.loader import load_catalog
from tests.conftest import CATALOG, DEMO_CONFIG, MULTI_PROCESS, run_cli, shard_digests, worker_pool

# The portable path runs with workers that are not the driver (Beam's worker pool, 2 SDK workers):
# the same job service as `--environment_type=LOOPBACK`, which tests/test_dedup.py also runs.
RUNNERS = {"fnapi": [], "fnapi-2proc": MULTI_PROCESS, "external": None}
EXTERNAL = [
    "--runner=PortableRunner",
    "--job_endpoint=embed",
    "--environment_type=EXTERNAL",
    "--sdk_worker_parallelism=2",
]
SHARD = re.compile(r"^data/(?P<lang>[a-z]+)/(?P<source>[a-z0-9_\-]+)/part-(?P<i>\d{5})-of-(?P<n>\d{5})\.parquet$")


@pytest.fixture(scope="module")
def releases(tmp_path_factory, demo_release: Path) -> dict[str, tuple[Path, str]]:
    root = tmp_path_factory.mktemp("e2e")
    # In-process: the session's demo release (run from the repository); the others from elsewhere.
    out = {"fnapi": (demo_release, (demo_release.parent / "stdout.txt").read_text(encoding="utf-8"))}
    with worker_pool(root / "pool") as port:
        for name, args in RUNNERS.items():
            if name in out:
                continue
            args = args if args is not None else [*EXTERNAL, f"--environment_config=127.0.0.1:{port}"]
            # From another working directory: nothing may depend on the launcher's cwd.
            result = run_cli("run", str(DEMO_CONFIG), "--output", str(root / name), *args, cwd=root)
            out[name] = (root / name, result.stdout)
    return out


def _manifest(release: Path) -> dict:
    return json.loads((release / "manifest.json").read_text())


def test_runners_give_byte_identical_shards(releases):
    digests = {name: shard_digests(path) for name, (path, _) in releases.items()}
    assert digests["fnapi"], "no shards written"
    assert digests["fnapi"] == digests["fnapi-2proc"] == digests["external"]


def test_layout_schema_and_manifest_agree(releases):
    release, stdout = releases["fnapi"]
    manifest = _manifest(release)
    files = sorted(str(p.relative_to(release)) for p in release.glob("data/**/*.parquet"))
    assert files == [s["path"] for s in manifest["shards"]]
    groups: dict[tuple[str, str], set[int]] = {}
    for shard in manifest["shards"]:
        match = SHARD.match(shard["path"])
        assert match, shard["path"]
        path = release / shard["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == shard["sha256"]
        assert path.stat().st_size == shard["file_bytes"]
        parquet = pq.ParquetFile(path)
        assert parquet.metadata.num_rows == shard["rows"]
        assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"
        table = parquet.read()
        assert set(table.column("lang").to_pylist()) <= {match["lang"]}
        assert set(table.column("source").to_pylist()) <= {match["source"]}
        ids = table.column("id").to_pylist()
        assert ids == sorted(ids)
        groups.setdefault((match["lang"], match["source"]), set()).add(int(match["i"]))
    for (lang, source), indices in groups.items():
        total = {
            int(SHARD.match(s["path"])["n"]) for s in manifest["shards"] if s["source"] == source and s["lang"] == lang
        }
        assert len(total) == 1 and indices == set(range(total.pop())), (lang, source)
    columns = [c["name"] for c in manifest["schema"]]
    assert columns[:7] == ["id", "text", "lang", "source", "url", "license", "source_doc_id"]
    assert {"input_file", "input_row", "retrieved_at", "meta"} <= set(columns)
    assert "documents in" in stdout and str(release) in stdout


def test_manifest_accounts_for_every_document(releases):
    release, _ = releases["fnapi"]
    manifest = _manifest(release)
    totals = manifest["totals"]
    assert totals["docs_in"] == totals["docs_out"] + totals["docs_dropped"]
    assert totals["docs_out"] == sum(s["rows"] for s in manifest["shards"])
    assert totals["bytes_out"] == sum(s["text_bytes"] for s in manifest["shards"])
    catalog = load_catalog(CATALOG)
    assert sorted(manifest["sources"]) == sorted(catalog.entries)
    for uid, source in manifest["sources"].items():
        snapshot, entry = source["catalog"], catalog[uid]
        assert snapshot["license"]["id"] == entry.license.id
        assert snapshot["custodian"]["contact"] == entry.custodian.contact
        assert snapshot["pii"]["policy"] == entry.pii.policy.value
        assert snapshot["removal_contact"] == entry.removal_contact
    skipping = [uid for uid, e in catalog.entries.items() if e.connector.on_error == "skip"]
    by_source = {}
    for cell in manifest["by_source_lang"]:
        if cell["source"] in skipping:
            by_source.setdefault(cell["source"], set()).update(
                d["reason"] for d in cell["dropped"] if d["step"] == "input"
            )
    assert by_source == {
        "broken_forum": {"bad_json", "missing_text", "invalid_utf8", "empty_text"},
        # the crawl's broken record, and what it holds that is not a page (skipped on purpose)
        "web_crawl": {"bad_header", "http_301", "http_404", "not_html", "no_text"},
        # the dump's malformed page, and what is not an article
        "fiwiki": {"malformed_page", "redirect", "namespace", "disambiguation", "empty_article"},
    }
    assert {e["reason"] for e in manifest["input_errors"]} == {
        "bad_json",
        "missing_text",
        "invalid_utf8",
        "empty_text",
        "bad_header",
        "malformed_page",
    }  # records skipped on purpose are counted, not listed as errors
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["config_sha256"])
    assert manifest["config"]["release"] == "rootstock-demo" and manifest["rootstock"]["version"]
    langs = {cell["lang"] for cell in manifest["by_source_lang"] if cell["docs_out"]}
    assert {"fi", "sw", "yo", "zhs", "ar", "hi", "vi", "eu", "python", "javascript"} <= langs


def test_release_loads_with_datasets_and_keeps_provenance(releases):
    release, _ = releases["external"]
    manifest = _manifest(release)
    data_files = [str(release / s["path"]) for s in manifest["shards"]]
    loaded = datasets.load_dataset("parquet", data_files=data_files, split="train")
    assert loaded.num_rows == manifest["totals"]["docs_out"]
    row = loaded[0]
    assert row["id"] and row["text"] and row["source"] in manifest["sources"] and row["license"]
    assert row["input_file"].startswith("data/") and row["input_row"] >= 0 and row["retrieved_at"] is not None
    json.loads(row["meta"])
    assert len(set(loaded["id"])) == loaded.num_rows
