from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from filelock import FileLock

REPO = Path(__file__).resolve().parent.parent
CATALOG = REPO / "catalog"
DEMO_CONFIG = CATALOG / "runs" / "demo.yaml"
CLI = [sys.executable, "-m", "rootstock.pipeline.cli"]
SAMPLE = CATALOG / "sample"  # the demo corpus generator and its sentence pools: scripts, not installed
if str(SAMPLE) not in sys.path:
    sys.path.insert(0, str(SAMPLE))

MULTI_PROCESS = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
PORTABLE = ["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"]

# Nothing may be downloaded in tests.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def entry(uid: str, connector: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A valid catalogue entry; tests override what they exercise."""
    data = {
        "uid": uid,
        "name": f"Test source {uid}",
        "description": "Written by the test suite.",
        "languages": ["en"],
        "license": {"id": "CC0-1.0"},
        "custodian": {"name": "rootstock tests", "type": "other", "contact": "tests@example.org"},
        "pii": {"likelihood": "none", "policy": "keep"},
        "removal_contact": "removal@example.org",
        "retrieved_at": "2026-01-02T03:04:05Z",
        "connector": connector,
    }
    data.update(overrides)
    return data


def write_catalog(root: Path, *entries: dict[str, Any]) -> Path:
    (root / "sources").mkdir(parents=True, exist_ok=True)
    for item in entries:
        (root / "sources" / f"{item['uid']}.yaml").write_text(yaml.safe_dump(item, sort_keys=False, allow_unicode=True))
    return root


# Test documents are a sentence long: the clean stage's ROOTS size floor (min_doc_bytes) would drop them.
NO_SIZE_FLOOR = {"clean": {"min_doc_bytes": "off"}}


def built_once(tmp_path_factory, name: str, make) -> Path:
    """A directory MAKE(root) fills once, shared by the test processes of `pytest -n` (a lock);
    tests only read it (those that change it copy it first)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / name
    with FileLock(str(shared / f"{name}.lock")):
        if not (root / "ready").exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            make(root)
            (root / "ready").touch()
    return root


@pytest.fixture(scope="session")
def demo_release(tmp_path_factory) -> Path:
    """`rootstock run` of the demo config, made once for the whole session (all `pytest -n`
    processes); tests only read it, those that change a release take a copy."""

    def make(root: Path) -> None:
        result = run_cli("run", str(DEMO_CONFIG), "--output", str(root / "release"))
        (root / "stdout.txt").write_text(result.stdout, encoding="utf-8")

    return built_once(tmp_path_factory, "demo-release", make) / "release"


def write_config(path: Path, catalog: Path, output: Path | None = None, **extra: Any) -> Path:
    data = {"release": "test-release", "catalog": str(catalog), "sources": "all"}
    if output is not None:
        data["output"] = str(output)
    data.update(extra)
    stages = data.get("stages")
    if stages is None or (isinstance(stages, dict) and "clean" not in stages):  # a test about `clean` says so
        data["stages"] = {**NO_SIZE_FLOOR, **(stages or {})}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_cli(*args: str, check: bool = True, cwd: Path = REPO) -> subprocess.CompletedProcess:
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd)
    if check and result.returncode != 0:
        raise AssertionError(
            f"rootstock {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def shard_digests(release: Path) -> dict[str, str]:
    return {
        str(p.relative_to(release)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(release.glob("data/**/*.parquet"))
    }


@pytest.fixture
def tmp_catalog(tmp_path: Path) -> Path:
    return tmp_path / "catalog"


@contextlib.contextmanager
def worker_pool(workdir: Path):
    """Beam's Python worker pool (how Flink and Spark on Kubernetes run Python workers) on
    127.0.0.1, started with this venv's bin/ first on PATH (it starts workers as `python -c …`)
    in a working directory of its own, stopped with the workers it started."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    workdir.mkdir(parents=True, exist_ok=True)
    log = open(workdir / "pool.log", "wb")  # noqa: SIM115 - closed below, after the pool
    pool = subprocess.Popen(
        [sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main", f"--service_port={port}"],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the workers it starts stop with it
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as conn:
                if conn.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if pool.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker pool did not start: {(workdir / 'pool.log').read_text()}")
            time.sleep(0.2)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pool.pid, signal.SIGTERM)
        try:
            pool.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(pool.pid, signal.SIGKILL)
            pool.wait()
        log.close()
