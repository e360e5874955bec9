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
