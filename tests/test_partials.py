"""What a killed or failed run leaves behind: marked staging directories the next run removes,
and no Beam temporary directories anywhere else."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import rootstock.pipeline.jobs.curate as curate
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from rootstock.pipeline.release.publish import MARKER, make_staging, sweep_partials, write_marker
from rootstock.pipeline.release.verify import verify
from tests.conftest import CLI, PORTABLE, REPO, entry, run_cli, write_catalog, write_config


def _catalog(tmp_path: Path, rows: int, bad_line: bool = False) -> Path:
    catalog = tmp_path / "catalog"
    (catalog / "data").mkdir(parents=True)
    lines = [json.dumps({"id": i, "text": f"document {i} " + "lorem ipsum " * 30}) for i in range(rows)]
    if bad_line:
        lines.insert(rows // 2, '{"id": "x", "text": ')
    (catalog / "data" / "docs.jsonl").write_text("\n".join(lines) + "\n")
    return write_catalog(catalog, entry("docs", {"kind": "jsonl", "paths": ["../data/*.jsonl"], "id_field": "id"}))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _fake_partial(output: Path, owner: dict | None) -> Path:
    staging = Path(make_staging(str(output), work_dir=True))
    (staging / "_work" / "spill").mkdir()
    (staging / "_work" / "spill" / "batch.pkl").write_bytes(b"raw documents")
    if owner is None:
        (staging / MARKER).unlink()
    else:
        record = json.loads((staging / MARKER).read_text())
        (staging / MARKER).write_text(json.dumps({**record, **owner}))
    return staging


def test_sigkilled_run_leaves_a_marked_partial_that_the_next_run_removes(tmp_path: Path):
    config = write_config(
        tmp_path / "run.yaml", _catalog(tmp_path, rows=40_000), tmp_path / "out", shards={"max_rows": 200}
    )
    proc = subprocess.Popen(
        [*CLI, "run", str(config), "--spill=always"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.time() + 300
    try:
        while time.time() < deadline and proc.poll() is None:
            if any(tmp_path.glob(".out.partial-*/_work/spill/*/*.pkl")):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run finished before it could be interrupted; make the input larger"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    (partial,) = tmp_path.glob(".out.partial-*")
    marker = json.loads((partial / MARKER).read_text())
    assert (marker["pid"], marker["host"]) == (proc.pid, socket.gethostname())
    assert list(partial.glob("_work/spill/*/*.pkl"))  # raw, pre-redaction documents: must not stay
    assert list(partial.glob("_work/tmp/beam-pipeline-temp*"))  # Beam's own temp dir is in there too

    small = write_config(tmp_path / "small.yaml", _catalog(tmp_path / "small", rows=20), tmp_path / "out")
    result = run_cli("run", str(small))
    assert f"removed {partial}: left by pid {proc.pid}" in result.stderr
    assert not partial.exists() and not list(tmp_path.glob(".out.partial-*"))
    assert verify(str(tmp_path / "out"))[1] == []


def test_sweep_removes_only_dead_runs_of_this_host_and_reports_the_rest(tmp_path: Path):
    out = tmp_path / "out"
    dead = _fake_partial(out, {"pid": _dead_pid(), "started": None})
    live = _fake_partial(out, {})  # this process: running
    elsewhere = _fake_partial(out, {"host": "another-host.example", "pid": 1})
    unmarked = _fake_partial(out, None)
    reused = _fake_partial(out, {"pid": os.getpid(), "started": "1"})  # our pid, another process's start time
    other_output = _fake_partial(tmp_path / "other", {"pid": _dead_pid()})
    (tmp_path / "out-not-partial").mkdir()

    notes = sweep_partials(str(out))

    assert not dead.exists() and not reused.exists()
    assert live.exists() and elsewhere.exists() and unmarked.exists() and other_output.exists()
    text = "\n".join(notes)
    assert f"removed {dead}" in text and f"removed {reused}" in text
    assert f"{live}: in use by a running rootstock (pid {os.getpid()}" in text
    assert f"{elsewhere}: left by pid 1 on another-host.example" in text and f"rm -rf '{elsewhere}'" in text
    assert f"{unmarked}: looks like a staging directory of {out} but has no rootstock marker" in text
    assert f"rm -rf '{unmarked}'" in text
    assert len(notes) == 5


def test_an_old_release_whose_replacement_never_arrived_is_restored_not_deleted(tmp_path: Path):
    out = tmp_path / "out"
    old = tmp_path / ".out.partial-0123456789ab.old"
    old.mkdir()
    (old / "manifest.json").write_text("{}")
    write_marker(str(old), str(out))
    record = json.loads((old / MARKER).read_text())
    (old / MARKER).write_text(json.dumps({**record, "pid": _dead_pid(), "started": None}))
    (note,) = sweep_partials(str(out))
    assert old.exists() and f"mv '{old}' '{out}'" in note


def test_a_graph_that_fails_to_build_leaves_no_beam_temp_dir(tmp_path: Path, monkeypatch):
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    config = load_config(write_config(tmp_path / "run.yaml", _catalog(tmp_path, rows=10), tmp_path / "out"))

    def broken(*_args):
        raise RuntimeError("a stage failed while the graph was built")

    monkeypatch.setattr(curate, "build", broken)
    with pytest.raises(RuntimeError, match="while the graph was built"):
        run(config)
    assert list(temp.iterdir()) == [] and tempfile.gettempdir() == str(temp)
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.partial-*"))


@pytest.mark.parametrize("runner", [[], PORTABLE], ids=["fnapi", "portable"])
def test_a_failed_run_leaves_nothing_in_tmp(tmp_path: Path, runner: list[str]):
    temp = tmp_path / "tmp"
    temp.mkdir()
    config = write_config(tmp_path / "run.yaml", _catalog(tmp_path, rows=50, bad_line=True), tmp_path / "out")
    result = subprocess.run(
        [*CLI, "run", str(config), *runner],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(temp)},
    )
    assert result.returncode == 2 and "invalid JSON" in result.stderr
    assert list(temp.iterdir()) == []
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.partial-*"))
