"""A release appears whole or not at all, and never replaces a good one with a broken one."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

import rootstock.pipeline.jobs.curate as curate
from rootstock.errors import ConfigError, InputError, ReleaseExistsError
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from tests.conftest import CLI, NO_SIZE_FLOOR, REPO, entry, run_cli, shard_digests, write_catalog, write_config


def _catalog(tmp_path: Path, rows: int = 200, bad_line: bool = False) -> Path:
    catalog = tmp_path / "catalog"
    (catalog / "data").mkdir(parents=True)
    lines = [json.dumps({"id": i, "text": f"document {i} " + "lorem ipsum " * 30}) for i in range(rows)]
    if bad_line:
        lines.insert(rows // 2, '{"id": "x", "text": ')
    (catalog / "data" / "docs.jsonl").write_text("\n".join(lines) + "\n")
    return write_catalog(catalog, entry("docs", {"kind": "jsonl", "paths": ["../data/*.jsonl"], "id_field": "id"}))


def test_failure_after_shards_are_written_leaves_nothing(tmp_path: Path, monkeypatch):
    config = load_config(write_config(tmp_path / "run.yaml", _catalog(tmp_path), tmp_path / "out"))

    def explode(**_):
        raise RuntimeError("disk full while writing the manifest")

    monkeypatch.setattr(curate, "build_manifest", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        run(config)
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.partial-*"))


def test_existing_release_is_kept_unless_overwrite_and_survives_a_failed_overwrite(tmp_path: Path):
    good = load_config(write_config(tmp_path / "run.yaml", _catalog(tmp_path), tmp_path / "out"))
    run(good)
    before = (tmp_path / "out" / "manifest.json").read_bytes()
    digests = shard_digests(tmp_path / "out")

    with pytest.raises(ReleaseExistsError):
        run(good)
    # A failing re-run with --overwrite must not touch the published release.
    broken = tmp_path / "broken"
    config = load_config(write_config(tmp_path / "broken.yaml", _catalog(broken, bad_line=True), tmp_path / "out"))
    with pytest.raises(InputError, match=r"data/docs.jsonl: line 101: invalid JSON"):
        run(config, overwrite=True)
    assert (tmp_path / "out" / "manifest.json").read_bytes() == before
    assert shard_digests(tmp_path / "out") == digests

    run(good, overwrite=True)
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["created"]
    assert not list(tmp_path.glob(".out.partial-*"))


def test_killed_run_never_looks_finished(tmp_path: Path):
    """SIGKILL while shards are being written: OUTPUT must not exist, only the hidden staging dir."""
    config = write_config(
        tmp_path / "run.yaml",
        _catalog(tmp_path, rows=60_000),
        tmp_path / "out",
        shards={"max_rows": 200},
        stages=NO_SIZE_FLOOR,
    )
    proc = subprocess.Popen([*CLI, "run", str(config)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    try:
        while time.time() < deadline and proc.poll() is None:
            if any(tmp_path.glob(".out.partial-*/data/en/docs/*.parquet")):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run finished before it could be interrupted; make the input larger"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.glob(".out.partial-*/data"))  # the debris is clearly marked partial


def test_cli_refuses_to_overwrite_without_flag(tmp_path: Path):
    config = write_config(tmp_path / "run.yaml", _catalog(tmp_path, rows=5), tmp_path / "out")
    run_cli("run", str(config))
    again = run_cli("run", str(config), check=False)
    assert again.returncode == 2 and "already exists; pass --overwrite" in again.stderr
    assert run_cli("run", str(config), "--overwrite").returncode == 0


def test_run_config_is_strict(tmp_path: Path):
    catalog = _catalog(tmp_path, rows=5)
    with pytest.raises(ConfigError, match=r"stages\.quality\.min_wrods: Extra inputs are not permitted"):
        load_config(write_config(tmp_path / "a.yaml", catalog, tmp_path / "out", stages={"quality": {"min_wrods": 3}}))
    with pytest.raises(ConfigError, match=r"stagez: Extra inputs"):
        load_config(write_config(tmp_path / "b.yaml", catalog, tmp_path / "out", stagez={}))
    with pytest.raises(ConfigError, match="no `output`"):
        load_config(write_config(tmp_path / "c.yaml", catalog))
    config = write_config(tmp_path / "d.yaml", catalog, tmp_path / "out", sources=["nope"])
    result = run_cli("run", str(config), check=False)
    assert result.returncode == 2 and "no catalogue entry for 'nope'" in result.stderr
