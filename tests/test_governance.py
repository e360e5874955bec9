"""Governance of a release: the versioned manifest schema, per-source processing records, the
dataset card (Hub metadata parsed back, per-language configs loaded offline) and removal requests."""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import itertools
import json
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard

from rootstock.catalog.loader import load_catalog
from rootstock.errors import ConfigError, ManifestError
from rootstock.pipeline.release.card import CARD, hub_language_codes
from rootstock.pipeline.release.manifest import schema_problems, validate_manifest
from rootstock.pipeline.release.remove import remove, url_match_key
from rootstock.pipeline.release.verify import verify
from tests.conftest import CATALOG, run_cli


@pytest.fixture(scope="module")
def release(demo_release: Path) -> Path:
    return demo_release


def _manifest(release: Path) -> dict:
    return json.loads((release / "manifest.json").read_text())


def _rows(release: Path, prefix: str = "data") -> list[dict]:
    return [row for path in sorted(release.glob(f"{prefix}/**/*.parquet")) for row in pq.read_table(path).to_pylist()]


def _digests(release: Path) -> dict[str, str]:
    return {
        str(p.relative_to(release)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(release.rglob("*.parquet"))
    }


# --- manifest schema -------------------------------------------------------------------------


def test_written_manifest_matches_its_schema_and_schema_catches_breakage(release: Path):
    manifest = _manifest(release)
    assert manifest["manifest_version"] == 2 and manifest["kind"] == "release" and manifest["parent"] is None
    assert schema_problems(manifest) == []
    broken = copy.deepcopy(manifest)
    del broken["sources"]["books_fi"]["catalog"]["license"]
    broken["shards"][0]["sha256"] = "not-a-hash"
    broken["totals"]["docs_out"] = -1
    problems = schema_problems(broken)
    assert any(p.startswith("sources/books_fi/catalog") and "'license'" in p for p in problems), problems
    assert any(p.startswith("shards/0/sha256") for p in problems), problems
    assert any(p.startswith("totals/docs_out") for p in problems), problems
    with pytest.raises(ManifestError, match="shards/0/sha256"):
        validate_manifest(broken)


def test_verify_reports_a_manifest_that_breaks_the_schema(release: Path, tmp_path: Path):
    import shutil

    copy_dir = tmp_path / "copy"
    shutil.copytree(release, copy_dir)
    manifest = _manifest(copy_dir)
    manifest["sources"]["books_fi"]["catalog"].pop("removal_contact")
    (copy_dir / "manifest.json").write_text(json.dumps(manifest))
    _, problems = verify(str(copy_dir))
    assert any("manifest.json: sources/books_fi/catalog" in p and "removal_contact" in p for p in problems), problems


def test_manifest_records_models_by_sha256_and_shard_languages_and_sources(release: Path):
    manifest = _manifest(release)
    (lid,) = [m for m in manifest["models"] if m["stage"] == "langid"]
    assert hashlib.sha256(Path(lid["path"]).read_bytes()).hexdigest() == lid["sha256"]
    for shard in manifest["shards"]:
        lang, source = shard["path"].split("/")[1:3]
        assert shard["languages"] == [lang] and shard["sources"] == [source]
        assert shard["rows"] == pq.ParquetFile(release / shard["path"]).metadata.num_rows


# --- processing record -----------------------------------------------------------------------


def test_processing_record_chains_and_adds_up_per_source(release: Path):
    manifest = _manifest(release)
    catalog = load_catalog(CATALOG)
    stages = [s["name"] for s in manifest["stages"] if s["settings"]["enabled"]]
    for uid, source in manifest["sources"].items():
        record = source["processing"]
        assert [step["step"] for step in record] == ["ingest", *stages]
        for before, step in itertools.pairwise(record):
            assert step["docs_in"] == before["docs_out"] and step["bytes_in"] == before["bytes_out"]
        for step in record:
            assert step["docs_in"] - step["docs_out"] == sum(step["dropped"].values()), (uid, step)
        cells = [c for c in manifest["by_source_lang"] if c["source"] == uid]
        assert record[-1]["docs_out"] == sum(c["docs_out"] for c in cells)
        assert record[-1]["bytes_out"] == sum(c["bytes_out"] for c in cells)
        assert record[0]["docs_in"] == sum(c["docs_in"] for c in cells)
        for step in record[1:]:
            dropped = sum(d["docs"] for c in cells for d in c["dropped"] if d["step"] == step["step"])
            assert dropped == sum(step["dropped"].values())
        (pii,) = [s for s in record if s["step"] == "pii"]
        assert pii["parameters"]["source_policy"] == catalog[uid].pii.policy.value
    # The broken forum's unreadable rows are in its ingest step, by reason.
    ingest = manifest["sources"]["broken_forum"]["processing"][0]
    assert ingest["docs_in"] > ingest["docs_out"] and "bad_json" in ingest["dropped"]
    # Template-line removal and redaction change bytes of kept documents: the record shows it.
    assert any(
        s["bytes_out"] < s["bytes_in"] and s["docs_out"] == s["docs_in"]
        for src in manifest["sources"].values()
        for s in src["processing"][1:]
    )


# --- dataset card ----------------------------------------------------------------------------


def test_card_metadata_parses_back_with_huggingface_hub(release: Path):
    manifest = _manifest(release)
    card = DatasetCard.load(release / CARD)
    data = card.data
    present = sorted({s["languages"][0] for s in manifest["shards"] if s["rows"]})
    assert sorted(data.language) == sorted(hub_language_codes(present))
    assert {"fi", "sw", "yo", "zh", "ar", "hi", "eu"} <= set(data.language)
    assert "python" not in data.language and "und" not in data.language
    licenses = {s["catalog"]["license"]["id"] for s in manifest["sources"].values()}
    assert len(licenses) > 1 and data.license == "other"
    for uid, lic in ((u, s["catalog"]["license"]["id"]) for u, s in manifest["sources"].items()):
        assert f"{uid}: {lic}" in data.license_details
    assert data.size_categories == ["n<1K"] and data.task_categories == ["text-generation"]
    assert data.pretty_name == manifest["release"]
    configs = {c["config_name"]: c for c in data.configs}
    assert set(configs) == {"default", *present}
    assert configs["default"]["default"] is True
    for lang in present:
        (files,) = configs[lang]["data_files"]
        matched = sorted(s["path"] for s in manifest["shards"] if fnmatch.fnmatch(s["path"], files["path"]))
        assert matched == sorted(s["path"] for s in manifest["shards"] if s["languages"] == [lang])
    assert manifest["card"]["sha256"] == hashlib.sha256((release / CARD).read_bytes()).hexdigest()


def test_card_body_reports_sources_languages_steps_and_limits(release: Path):
    manifest = _manifest(release)
    text = DatasetCard.load(release / CARD).text
    for uid, source in manifest["sources"].items():
        assert f"`{uid}`" in text and source["catalog"]["removal_contact"] in text
    assert "| dedup |" in text and "| langid |" in text
    dedup_removed = sum(n for k, n in manifest["totals"]["dropped_by_reason"].items() if k.startswith("dedup:"))
    near = manifest["totals"]["dropped_by_reason"]["dedup:near"]
    assert f"near {near}" in text and dedup_removed > 0
    assert "## Language identification" in text and "| `yo` | Yoruba |" in text
    assert "| `fi` | Finnish | flagged_words, perplexity |" in text
    assert "rootstock remove" in text


def test_each_language_config_loads_offline_with_datasets(release: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    manifest = _manifest(release)
    rows_by_lang: dict[str, int] = {}
    for shard in manifest["shards"]:
        rows_by_lang[shard["languages"][0]] = rows_by_lang.get(shard["languages"][0], 0) + shard["rows"]
    for lang, rows in sorted(rows_by_lang.items()):
        if not rows:
            continue
        ds = datasets.load_dataset(str(release), lang, split="train", cache_dir=str(tmp_path / "cache"))
        assert ds.num_rows == rows and set(ds["lang"]) == {lang}, lang
    everything = datasets.load_dataset(str(release), split="train", cache_dir=str(tmp_path / "cache"))
    assert everything.num_rows == manifest["totals"]["docs_out"]


# --- removal requests ------------------------------------------------------------------------


def _clustered_pair(release: Path) -> tuple[dict, dict]:
    """A kept survivor and a rejected duplicate of it (same cluster)."""
    kept = {r["id"]: r for r in _rows(release) if (r.get("dup_cluster_size") or 1) > 1}
    for row in _rows(release, "rejected"):
        if row["drop_stage"] == "dedup" and row["dup_survivor_id"] in kept and row["url"]:
            return kept[row["dup_survivor_id"]], row
    raise AssertionError("the demo release has no kept duplicate cluster")


def test_remove_by_url_rewrites_only_affected_shards(release: Path, tmp_path: Path):
    parent = _manifest(release)
    target = next(r for r in _rows(release) if r["url"] and (r.get("dup_cluster_size") or 1) == 1)
    urls = tmp_path / "urls.txt"
    # the owner's spelling: http, www., trailing fragment
    owner_url = target["url"].replace("https://", "http://www.", 1) + "#top"
    urls.write_text(f"# from the owner\n{owner_url}\nhttps://nowhere.example.org/gone\n")
    out = tmp_path / "removed"
    result = run_cli("remove", str(release), "--urls", str(urls), "--reason", "owner request #12", "--output", str(out))
    assert "1 of 2 requested urls found" in result.stdout and "matched nothing" in result.stderr
    manifest = _manifest(out)
    assert verify(str(out))[1] == []
    assert target["id"] not in {r["id"] for r in _rows(out)}
    assert len(_rows(out)) == len(_rows(release)) - 1
    (request,) = manifest["removals"]
    assert request["reason"] == "owner request #12" and request["mode"] == "urls"
    assert (request["requested"], request["matched"], request["not_found"], request["removed_docs"]) == (2, 1, 1, 1)
    assert target["text"] not in json.dumps(manifest)
    before, after = _digests(release), _digests(out)
    changed = {p for p in before if before[p] != after.get(p)}
    assert set(request["diff"]["rewritten"]) == changed
    assert f"data/{target['lang']}/{target['source']}/" in " ".join(changed)
    assert request["diff"]["carried_over"] == len(before) - len(changed)
    assert manifest["parent"]["release"] == parent["release"]
    assert manifest["parent"]["manifest_sha256"] == hashlib.sha256((release / "manifest.json").read_bytes()).hexdigest()
    totals = manifest["totals"]
    assert totals["docs_out"] == parent["totals"]["docs_out"] - 1
    assert totals["dropped_by_reason"]["removal:request"] == 1
    assert totals["docs_in"] == totals["docs_out"] + totals["docs_dropped"]
    record = manifest["sources"][target["source"]]["processing"][-1]
    assert record["step"] == "removal" and record["dropped"] == {"request": 1}
    assert "owner request #12" in (out / CARD).read_text()


def test_removing_a_duplicate_removes_its_cluster(release: Path, tmp_path: Path):
    survivor, duplicate = _clustered_pair(release)
    ids = tmp_path / "ids.txt"
    ids.write_text(f"{duplicate['source']}:{duplicate['source_doc_id']}\n")  # the owner's own id
    out = tmp_path / "cluster"
    manifest = remove(str(release), output=str(out), reason="copy of my article", ids=[ids.read_text().strip()])
    (request,) = manifest["removals"]
    assert request["matched"] == 1 and request["removed_as_near_duplicates"] >= 1
    kept_ids = {r["id"] for r in _rows(out)}
    assert survivor["id"] not in kept_ids
    cluster = survivor["dup_cluster_id"]
    assert not [r for r in _rows(out) + _rows(out, "rejected") if r.get("dup_cluster_id") == cluster]
    assert not [r for r in _rows(out, "dedup") if r["id"] in {survivor["id"], duplicate["id"]}]
    assert manifest["totals"]["dropped_by_reason"]["removal:near_duplicate"] >= 1
    assert verify(str(out))[1] == []


def test_source_opt_out_deletes_its_shards_and_leaves_the_rest_byte_identical(release: Path, tmp_path: Path):
    out = tmp_path / "optout"
    result = run_cli(
        "remove",
        str(release),
        "--source",
        "forum_africa",
        "--reason",
        "custodian withdrew consent",
        "--output",
        str(out),
    )
    assert "deleted" in result.stdout
    manifest = _manifest(out)
    assert not list(out.glob("*/*/forum_africa/*.parquet"))
    assert not [r for r in _rows(out) if r["source"] == "forum_africa"]
    before, after = _digests(release), _digests(out)
    (request,) = manifest["removals"]
    removed_rows = sum(s["rows"] for s in _manifest(release)["shards"] if s["sources"] == ["forum_africa"])
    assert request["removed_docs"] == removed_rows + request["removed_as_near_duplicates"]
    for path, digest in after.items():
        if path not in request["diff"]["rewritten"]:
            assert before[path] == digest, path
    assert sorted(request["diff"]["deleted"]) == sorted(p for p in before if "/forum_africa/" in p)
    assert manifest["sources"]["forum_africa"]["processing"][-1]["docs_out"] == 0
    assert verify(str(out))[1] == []


def test_remove_refuses_unclear_requests(release: Path, tmp_path: Path):
    with pytest.raises(ConfigError, match="not a source of"):
        remove(str(release), output=str(tmp_path / "x"), reason="r", source="no_such_source")
    with pytest.raises(ConfigError, match="say why"):
        remove(str(release), output=str(tmp_path / "x"), reason=" ", ids=["a"])
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    result = run_cli(
        "remove", str(release), "--ids", str(empty), "--reason", "r", "--output", str(tmp_path / "y"), check=False
    )
    assert result.returncode == 2 and "lists nothing" in result.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_url_match_key_keeps_the_query():
    assert url_match_key("HTTP://www.Example.org/a/b/?id=1#x") == url_match_key("https://example.org/a/b?id=1")
    assert url_match_key("https://example.org/a?id=1") != url_match_key("https://example.org/a?id=2")


def test_hub_licence_and_size_category_rules():
    from rootstock.pipeline.release.card import hub_license, size_category

    assert hub_license(["CC0-1.0"]) == "cc0-1.0" and hub_license(["Apache-2.0", "Apache-2.0"]) == "apache-2.0"
    assert hub_license(["CC0-1.0", "MIT"]) is None  # mixed: `other` plus the per-source list
    assert hub_license(["LicenseRef-scraped"]) is None  # not a Hub id
    assert [size_category(n) for n in (0, 999, 1000, 99_999, 10**6, 10**12)] == [
        "n<1K",
        "n<1K",
        "1K<n<10K",
        "10K<n<100K",
        "1M<n<10M",
        "n>1T",
    ]
    assert hub_language_codes(["zhs", "zht", "fi", "und", "python", "yo"]) == ["zh", "fi", "yo"]
