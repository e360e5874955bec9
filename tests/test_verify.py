"""`rootstock verify`: a release matches its manifest, and every kind of tampering is named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from tests.conftest import entry, run_cli, write_catalog, write_config


@pytest.fixture
def release(tmp_path: Path) -> Path:
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    rows = [
        {"id": f"d{i}", "text": f"Dokumentti numero {i} kertoo kylän kirjastosta ja sen lukupiiristä."}
        for i in range(30)
    ]
    pq.write_table(pa.Table.from_pylist(rows), data / "x.parquet")
    catalog = write_catalog(
        tmp_path / "catalog",
        entry("x", {"kind": "parquet", "paths": ["../data/x.parquet"], "id_field": "id"}, languages=["fi"]),
    )
    run(load_config(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out", shards={"max_rows": 10})))
    return tmp_path / "out"


def test_intact_release_verifies(release: Path):
    result = run_cli("verify", str(release))
    assert result.returncode == 0 and "files match the manifest" in result.stdout


def test_tampered_missing_and_unlisted_files_are_named(release: Path):
    shards = sorted(release.glob("data/fi/x/*.parquet"))
    assert len(shards) >= 3
    # same row count, other content: only the checksum (and size) can tell
    table = pq.read_table(shards[0]).to_pylist()
    table[0]["text"] = "muutettu"
    pq.write_table(pa.Table.from_pylist(table, schema=pq.read_schema(shards[0])), shards[0], compression="zstd")
    shards[1].unlink()
    shutil.copy(shards[2], release / "data" / "fi" / "x" / "stray.parquet")
    result = run_cli("verify", str(release), check=False)
    assert result.returncode == 1
    rel = lambda p: str(p.relative_to(release))  # noqa: E731
    assert f"{rel(shards[0])}: sha256" in result.stderr
    assert f"{rel(shards[1])}: listed in the manifest but missing" in result.stderr
    assert "data/fi/x/stray.parquet: present but not listed" in result.stderr


def test_row_count_and_totals_mismatch(release: Path):
    manifest = json.loads((release / "manifest.json").read_text())
    manifest["shards"][0]["rows"] += 1
    (release / "manifest.json").write_text(json.dumps(manifest))
    result = run_cli("verify", str(release), check=False)
    assert result.returncode == 1
    assert f"{manifest['shards'][0]['path']}: {manifest['shards'][0]['rows'] - 1} rows, manifest says" in result.stderr
    assert "totals.docs_out" in result.stderr


def _edit_totals(m):
    m["totals"]["docs_in"] += 1


def _edit_drop_reason(m):
    m["totals"]["dropped_by_reason"]["quality:invented"] = 3


def _edit_cell(m):
    m["by_source_lang"][0]["bytes_out"] -= 7


def _edit_text_bytes(m):
    m["shards"][0]["text_bytes"] += 1


def _edit_languages(m):
    m["shards"][0]["languages"] = ["sv"]


def _edit_licence(m):
    m["sources"]["x"]["catalog"]["license"]["id"] = "MIT"  # the card says CC0-1.0


def _edit_processing(m):
    m["sources"]["x"]["processing"][-1]["docs_out"] += 2


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (_edit_totals, "docs_in"),
        (_edit_drop_reason, "dropped_by_reason"),
        (_edit_cell, "bytes_out"),
        (_edit_text_bytes, "text bytes"),
        (_edit_languages, "languages"),
        (_edit_licence, "README.md"),
        (_edit_processing, "processing"),
    ],
)
def test_a_manifest_whose_numbers_were_edited_does_not_verify(release: Path, edit, named: str):
    """The manifest must add up and agree with the shards and the card, not only list files."""
    from rootstock.pipeline.release.verify import verify

    path = release / "manifest.json"
    assert verify(str(release))[1] == []
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    problems = verify(str(release))[1]
    assert problems, f"{edit.__name__} passed verify"
    assert any(named in p for p in problems), problems


def test_a_manifest_that_is_a_json_list_is_one_clear_problem(release: Path):
    (release / "manifest.json").write_text("[1, 2]")
    result = run_cli("verify", str(release), check=False)
    assert result.returncode == 1
    assert "a manifest is a JSON object, this is a list" in result.stderr
    assert "Traceback" not in result.stderr
