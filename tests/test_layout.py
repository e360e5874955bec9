"""The package layout: one `rootstock` namespace over the repository's folders, layers that
import one way, no import cycles, and a wheel that installs `rootstock` and nothing else."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PACKAGE_DIRS = PYPROJECT["tool"]["setuptools"]["package-dir"]


@pytest.fixture(scope="module")
def layout(tmp_path_factory) -> Path:
    """The installed layout as a directory tree (symlinks), for tools that walk packages on disk."""
    root = tmp_path_factory.mktemp("layout")
    (root / "rootstock").mkdir()
    for package, folder in PACKAGE_DIRS.items():
        if package == "rootstock":
            for module in (REPO / folder).glob("*.py"):
                (root / "rootstock" / module.name).symlink_to(module)
        else:
            (root / package.replace(".", "/")).symlink_to(REPO / folder, target_is_directory=True)
    return root


def test_every_package_folder_is_listed():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = set()
    for package, folder in PACKAGE_DIRS.items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder)
            found.add(".".join([package, *rel.parts]))
    assert found == listed


def test_layers_import_one_way(layout: Path):
    """import-linter's layers contract in pyproject.toml (cli → mix → jobs → … → the basics)."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--config", str(REPO / "pyproject.toml"), "--no-cache"],
        cwd=layout,
        env={"PYTHONPATH": str(layout), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


CYCLES = """
import json, sys
import grimp

graph = grimp.build_graph("rootstock", exclude_type_checking_imports=True, cache_dir=None)
index, low, stack, on_stack, cycles = {}, {}, [], set(), []
sys.setrecursionlimit(10_000)


def visit(node):
    index[node] = low[node] = len(index)
    stack.append(node)
    on_stack.add(node)
    for nxt in sorted(graph.find_modules_directly_imported_by(node)):
        if nxt not in index:
            visit(nxt)
            low[node] = min(low[node], low[nxt])
        elif nxt in on_stack:
            low[node] = min(low[node], index[nxt])
    if low[node] == index[node]:
        component = []
        while True:
            member = stack.pop()
            on_stack.discard(member)
            component.append(member)
            if member == node:
                break
        if len(component) > 1:
            cycles.append(sorted(component))


for module in sorted(graph.modules):
    if module not in index:
        visit(module)
print(json.dumps({"modules": len(graph.modules), "cycles": cycles}))
"""


def test_no_import_cycles(layout: Path):
    """Tarjan's strongly connected components over grimp's graph of every import the code
    executes, function-level ones included (imports only for type checking do not execute).
    In a fresh interpreter: grimp follows the package that is imported, and this one is not."""
    result = subprocess.run(
        [sys.executable, "-c", CYCLES], cwd=layout, env={"PYTHONPATH": str(layout)}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["modules"] > 60 and found["cycles"] == []


def test_the_wheel_installs_rootstock_only_and_no_demo_data(tmp_path: Path):
    # Built from a copy: setuptools leaves build/ behind in the tree it builds.
    source = tmp_path / "src"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__"))
    wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path)]
    subprocess.run([*wheel, str(source)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("rootstock-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        top_level = next(n for n in names if n.endswith("top_level.txt"))
        assert zf.read(top_level).decode().split() == ["rootstock"]
    packaged = [n for n in names if ".dist-info/" not in n]
    assert all(n.startswith("rootstock/") for n in packaged)
    for needed in (
        "rootstock/pipeline/cli/__init__.py",
        "rootstock/catalog/languages.yaml",
        "rootstock/pipeline/release/schemas/manifest-v2.schema.json",
        "rootstock/filters/assets/stopwords/fi.txt",
    ):
        assert needed in names
    demo = [
        n
        for n in packaged
        if n.startswith(
            (
                "rootstock/catalog/sources/",
                "rootstock/catalog/data/",
                "rootstock/catalog/sample/",
                "rootstock/catalog/runs/",
                "rootstock/catalog/mixes/",
            )
        )
    ]
    assert demo == []


def test_import_rootstock_from_anywhere(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-c", "import rootstock, rootstock.pipeline.cli; print(rootstock.__version__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and result.stdout.strip(), result.stderr
