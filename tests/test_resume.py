"""`rootstock run --resume`: a run killed in any phase continues from its completed work units
and publishes the release an uninterrupted run publishes; a changed config or input refuses.

Each run is the real command line in a subprocess, killed with SIGKILL (or stopped with Ctrl-C)
when what it has written says it is in the phase under test: work units being scored, the
later stages running (every unit done, no shard yet), shards being written.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sample_texts import topic_sentences

from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from tests.conftest import CLI, REPO, entry, run_cli, write_catalog, write_config

UNITS = 6
DOCS_PER_UNIT = 600
LANGS = ["en", "fi", "fr", "sw", "hi", "zhs"]


def _corpus(root: Path) -> Path:
    """UNITS JSONL files of real sample prose in six languages, with copies across files."""
    rng = random.Random(18)
    pools = {lang: topic_sentences(lang, fill="Koivula") for lang in LANGS}
    data = root / "data"
    data.mkdir(parents=True)
    shared = []
    for unit in range(UNITS):
        rows = []
        for i in range(DOCS_PER_UNIT):
            lang = LANGS[(unit + i) % len(LANGS)]
            if shared and i % 50 == 0:
                text = rng.choice(shared)  # a copy of a document of another file: for dedup
            else:
                text = " ".join(rng.sample(pools[lang], min(6, len(pools[lang]))))
                if i % 97 == 0:
                    shared.append(text)
            rows.append(json.dumps({"id": f"u{unit}-{i}", "text": text}, ensure_ascii=False))
        (data / f"part-{unit}.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return write_catalog(
        root,
        entry("mixed", {"kind": "jsonl", "paths": ["../data/*.jsonl"], "id_field": "id"}, languages=LANGS),
    )


def _config(tmp_path: Path, catalog: Path, output: Path, name: str = "run.yaml", **stages) -> Path:
    settings = {
        "langid": {"enabled": True},
        "quality": {"enabled": True},
        "dedup": {"enabled": True},
        **stages,
    }
    return write_config(tmp_path / name, catalog, output, shards={"max_rows": 50}, stages=settings)


def _start(config: Path, *flags: str) -> subprocess.Popen:
    # Ctrl-C must reach Python: a child inherits an ignored SIGINT from a background shell.
    return subprocess.Popen(
        [*CLI, "run", str(config), "--quiet", *flags],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _resume(config: Path) -> subprocess.Popen:
    return _start(config, "--resume")


def _partial(output: Path) -> Path | None:
    found = list(output.parent.glob(f".{output.name}.partial-*"))
    assert len(found) <= 1, found
    return found[0] if found else None


def _done_units(partial: Path | None) -> int:
    return len(list(partial.glob("_work/checkpoints/*.json"))) if partial else 0


def _shards(partial: Path | None) -> list[Path]:
    return list(partial.glob("data/**/*.parquet")) if partial else []


def _interrupt_when(proc: subprocess.Popen, output: Path, ready, sig=signal.SIGKILL) -> tuple[Path, str]:
    """Send SIG once READY(partial) holds; the run must still be going, and nothing published.
    Returns the partial directory left and what the run printed on stderr."""
    deadline = time.monotonic() + 600  # a hang guard, not a speed target
    while time.monotonic() < deadline and proc.poll() is None and not ready(_partial(output)):
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before the phase under test:\n" + proc.communicate()[1][-2000:]
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=600)
    assert not output.exists(), "nothing may look published before the run completes"
    partial = _partial(output)
    assert partial is not None
    return partial, stderr


def _release_files(release: Path) -> dict[str, bytes]:
    """Every file of a release but those that say when it was made (manifest, card)."""
    return {
        str(p.relative_to(release)): p.read_bytes()
        for p in sorted(release.rglob("*"))
        if p.is_file() and p.name not in ("manifest.json", "README.md")
    }


def _manifest_body(release: Path) -> dict:
    manifest = json.loads((release / "manifest.json").read_text())
    for key in ("created", "runner", "card", "footprint"):  # when and how it ran (and at what cost); the card says when
        manifest.pop(key)
    manifest["config"].pop("output")
    manifest["resolved_paths"].pop("output")
    return manifest


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("resume")
    catalog = _corpus(root / "catalog")
    reference = root / "reference"
    run(load_config(_config(root, catalog, reference)), quiet=True)
    return catalog, reference


def test_a_run_killed_in_each_phase_resumes_to_the_uninterrupted_release(corpus, tmp_path: Path):
    catalog, reference = corpus
    output = tmp_path / "out"
    config = _config(tmp_path, catalog, output)

    # 1. Killed while work units are scored: some are complete, not all.
    partial, _ = _interrupt_when(_start(config), output, lambda p: _done_units(p) >= 1)
    done = _done_units(partial)
    assert 1 <= done < UNITS
    # 2. Resumed, and killed once every unit is scored but before any shard is written.
    partial, stderr = _interrupt_when(_resume(config), output, lambda p: _done_units(p) == UNITS)
    assert f"{done} of {UNITS} work units done" in stderr
    assert not _shards(partial)
    # 3. Resumed, and killed while shards are written.
    partial, stderr = _interrupt_when(_resume(config), output, lambda p: bool(_shards(p)))
    assert f"{UNITS} of {UNITS} work units done" in stderr
    # 4. Resumed to the end: what an uninterrupted run published, and no partial left.
    result = run_cli("run", str(config), "--quiet", "--resume")
    assert f"{UNITS} of {UNITS} work units done" in result.stderr
    assert _partial(output) is None
    assert _release_files(output) == _release_files(reference)
    assert _manifest_body(output) == _manifest_body(reference)


def test_ctrl_c_keeps_the_work_and_a_changed_config_or_input_refuses_to_resume(corpus, tmp_path: Path):
    catalog, _ = corpus
    output = tmp_path / "out"
    config = _config(tmp_path, catalog, output)
    proc = _start(config)
    partial, stderr = _interrupt_when(proc, output, lambda p: _done_units(p) >= 1, sig=signal.SIGINT)
    assert proc.returncode == 130
    assert f"the completed work is kept in {partial}" in stderr
    assert f"continue with: rootstock run {config} --output {output} --resume" in stderr
    assert "Traceback" not in stderr

    changed = _config(tmp_path, catalog, output, "changed.yaml", quality={"enabled": True, "modify_documents": False})
    refused = run_cli("run", str(changed), "--quiet", "--resume", check=False)
    assert refused.returncode != 0
    assert "run config: stages.quality.modify_documents: True → False" in refused.stderr, refused.stderr
    assert _partial(output) == partial  # refusing removes nothing

    grown = catalog / "data" / "part-0.jsonl"
    before, stat = grown.read_bytes(), grown.stat()
    grown.write_bytes(before + json.dumps({"id": "late", "text": "arrived later"}).encode() + b"\n")
    try:
        refused = run_cli("run", str(config), "--quiet", "--resume", check=False)
        assert refused.returncode != 0
        assert "part-0.jsonl changed (mtime" in refused.stderr and "size" in refused.stderr, refused.stderr
    finally:
        grown.write_bytes(before)
        os.utime(grown, ns=(stat.st_atime_ns, stat.st_mtime_ns))
