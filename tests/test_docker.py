"""The images install what the lock file pins; a worker whose Beam differs from the launcher's fails on Dataflow."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import REPO


def _pin(package: str) -> str:
    text = (REPO / "constraints.txt").read_text()
    match = re.search(rf"^{re.escape(package)}==(\S+)$", text, re.MULTILINE | re.IGNORECASE)
    assert match, f"{package} is not pinned in constraints.txt"
    return match.group(1)


def test_worker_image_matches_pinned_beam():
    dockerfile = (REPO / "docker" / "worker.Dockerfile").read_text()
    base = re.search(r"^FROM apache/beam_python(\d+\.\d+)_sdk:(\S+)$", dockerfile, re.MULTILINE)
    assert base, "worker image must start from Beam's Python SDK image"
    assert base.group(1) == "3.11"
    assert base.group(2) == _pin("apache-beam")


def test_images_install_with_the_lock_file_and_every_package_folder():
    folders = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"].values()
    for name in ("worker.Dockerfile", "launcher.Dockerfile"):
        text = (REPO / "docker" / name).read_text()
        assert "-c constraints.txt" in text
        for folder in folders:
            assert re.search(rf"^COPY {folder} \./{folder}$", text, re.MULTILINE), (name, folder)
