"""Progress you can watch (issue 18): workers' running counts reach the launcher during the run;
a live table on a terminal, log lines otherwise, nothing with --quiet."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

from rootstock.pipeline.beam.progress import READ, ProgressDisplay, Tally, read_progress
from tests.conftest import CLI, REPO, entry, write_catalog, write_config

TEXT = "Kylän kirjasto on avoinna tiistaisin ja torstaisin, ja lukupiiri kokoontuu joka kuun ensimmäisenä maanantaina. "


def _catalog(tmp_path: Path, n: int) -> Path:
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    for f in range(4):
        (data / f"part-{f}.jsonl").write_text(
            "".join(json.dumps({"id": f"{f}-{i}", "text": f"{TEXT}{f} {i} " * 3}) + "\n" for i in range(n))
        )
    return write_catalog(
        tmp_path / "catalog",
        entry("kirjat", {"kind": "jsonl", "paths": ["../data/*.jsonl"], "id_field": "id"}, languages=["fi"]),
    )


def test_a_run_on_a_non_terminal_logs_progress_lines_and_quiet_silences_them(tmp_path: Path):
    import subprocess

    config = write_config(tmp_path / "run.yaml", _catalog(tmp_path, 300), stages={"quality": {"enabled": True}})
    env = {**os.environ, "ROOTSTOCK_PROGRESS_INTERVAL": "0.2"}
    loud = subprocess.run(
        [*CLI, "run", str(config), "--output", str(tmp_path / "a")], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert loud.returncode == 0, loud.stderr
    lines = [line for line in loud.stderr.splitlines() if line.startswith("progress [")]
    assert len(lines) >= 2
    assert re.search(r"read 1\.2k docs \(\d[\d,]*/s\), 100% of [\d.]+kB", lines[-1]), lines[-1]
    assert re.search(r"; quality [\d.k]+ kept/[\d.k]+ dropped", lines[-1]), lines[-1]
    quiet = subprocess.run(
        [*CLI, "run", str(config), "--output", str(tmp_path / "b"), "--quiet"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert quiet.returncode == 0 and "progress [" not in quiet.stderr


def test_counts_of_every_worker_are_summed_per_step(tmp_path: Path):
    directory = str(tmp_path / "progress")
    os.makedirs(directory)
    for _ in range(3):  # three worker processes
        tally = Tally(directory, READ)
        tally.add(docs=10, input_bytes=100)
        tally.flush()
        stage = Tally(directory, "quality")
        stage.add(kept=7, dropped=3)
        stage.flush()
    snapshot = read_progress(directory)
    assert snapshot.get(READ, "docs") == 30 and snapshot.get(READ, "input_bytes") == 300
    assert (snapshot.get("quality", "kept"), snapshot.get("quality", "dropped")) == (21, 9)
    display = ProgressDisplay(directory, ["quality"], 600, stream=io.StringIO())
    line = display.line(snapshot)
    assert "50% of 600B" in line and "ETA" in line and "quality 21 kept/9 dropped" in line
    from rich.console import Console

    console = Console(file=io.StringIO(), width=100, record=True)
    console.print(display.table(snapshot))
    frame = console.export_text()
    assert "quality" in frame and "21" in frame and "docs/s" in frame
