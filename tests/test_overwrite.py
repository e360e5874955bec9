"""`--overwrite` replaces only what rootstock made: a release (all of whose files it lists) or an
empty directory. Everything else at --output is refused before any work, and on object stores
the new release is in place before the old one is retired."""

from __future__ import annotations

import json
from pathlib import Path

import fsspec
import pytest
from apache_beam.io.filesystems import FileSystems

import rootstock.pipeline.mix.job as mixmod
import rootstock.pipeline.release.publish as publish
from rootstock.errors import ReleaseExistsError
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from rootstock.pipeline.release.release import Release
from rootstock.pipeline.release.remove import remove
from rootstock.pipeline.release.verify import verify
from tests.conftest import entry, run_cli, write_catalog, write_config


def _catalog(root: Path, sources: tuple[str, ...] = ("docs",), rows: int = 20) -> Path:
    catalog = root / "catalog"
    (catalog / "data").mkdir(parents=True)
    entries = []
    for uid in sources:
        lines = [json.dumps({"id": i, "text": f"{uid} document {i} " + "lorem ipsum " * 20}) for i in range(rows)]
        (catalog / "data" / f"{uid}.jsonl").write_text("\n".join(lines) + "\n")
        entries.append(entry(uid, {"kind": "jsonl", "paths": [f"../data/{uid}.jsonl"], "id_field": "id"}))
    return write_catalog(catalog, *entries)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "run.yaml", _catalog(tmp_path), tmp_path / "out")


def _partials(parent: Path) -> list[Path]:
    return [p for p in parent.iterdir() if ".partial-" in p.name]


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_overwrite_refuses_a_directory_that_is_not_a_release(config: Path, tmp_path: Path):
    # mkdir d; echo x > d/f; rootstock run cfg.yaml --output d --overwrite
    d = tmp_path / "d"
    d.mkdir()
    (d / "f").write_text("x\n")
    result = run_cli("run", str(config), "--output", str(d), "--overwrite", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{d} is not a rootstock release (no manifest.json) and not empty" in result.stderr
    assert "e.g. f" in result.stderr and "hint:" in result.stderr
    assert (d / "f").read_text() == "x\n"
    assert not _partials(tmp_path)  # refused before any work: not even a staging directory


def test_overwrite_refuses_the_working_directory(config: Path, tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine\n")
    (work / "sub").mkdir()
    (work / "sub" / "more.txt").write_text("also mine\n")
    result = run_cli("run", str(config), "--output", ".", "--overwrite", check=False, cwd=work)
    assert result.returncode == 2 and "not a rootstock release" in result.stderr
    assert _tree(work) == {"notes.txt": b"mine\n", "sub/more.txt": b"also mine\n"}


def test_overwrite_refuses_the_catalogue_it_reads(config: Path, tmp_path: Path):
    catalog = tmp_path / "catalog"
    before = _tree(catalog)
    result = run_cli("run", str(config), "--output", str(catalog), "--overwrite", check=False)
    assert result.returncode == 2 and f"{catalog} is not a rootstock release" in result.stderr
    assert _tree(catalog) == before


def test_overwrite_refuses_a_file_and_leaves_no_hidden_copy(config: Path, tmp_path: Path):
    target = tmp_path / "release.txt"
    target.write_text("not a release\n")
    result = run_cli("run", str(config), "--output", str(target), "--overwrite", check=False)
    assert result.returncode == 2 and f"{target} is a file, not a release" in result.stderr
    assert target.read_text() == "not a release\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no .old, no partial


def test_overwrite_refuses_a_symlink(config: Path, tmp_path: Path):
    real = tmp_path / "real"
    run(load_config(config, output=str(real)))
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(ReleaseExistsError, match="is a symbolic link"):
        run(load_config(config, output=str(link)), overwrite=True)
    assert link.is_symlink() and verify(str(real))[1] == []


def test_a_release_holding_files_it_does_not_list_is_not_replaced(config: Path, tmp_path: Path):
    out = tmp_path / "out"
    run(load_config(config))
    (out / "my-notes.md").write_text("keep me\n")
    (out / "data" / "extra.parquet").write_bytes(b"someone's")
    before = _tree(out)
    result = run_cli("run", str(config), "--overwrite", check=False)
    assert result.returncode == 2
    assert "is a rootstock release, but 2 file(s) in it are not in its manifest" in result.stderr
    assert "data/extra.parquet, my-notes.md" in result.stderr
    assert _tree(out) == before and not _partials(tmp_path)


def test_overwrite_replaces_a_release_and_an_empty_directory(config: Path, tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    run(load_config(config, output=str(empty)), overwrite=True)
    assert verify(str(empty))[1] == []
    run(load_config(config, output=str(empty)), overwrite=True)  # a release: replaced
    assert verify(str(empty))[1] == []
    assert not _partials(tmp_path)


def test_a_file_added_during_the_run_is_never_deleted(config: Path, tmp_path: Path, monkeypatch):
    """Checked before the work and again at publish, once the old release is moved aside."""
    out = tmp_path / "out"
    run(load_config(config))
    real_publish = publish._publish_local

    def meanwhile(staging, output):
        Path(output, "added-during-run.txt").write_text("mine\n")
        real_publish(staging, output)

    monkeypatch.setattr(publish, "_publish_local", meanwhile)
    with pytest.raises(ReleaseExistsError, match="added-during-run.txt"):
        run(load_config(config), overwrite=True)
    assert (out / "added-during-run.txt").read_text() == "mine\n"
    assert verify(str(out))[1] == ["added-during-run.txt: present but not listed in the manifest"]
    assert not _partials(tmp_path)


def test_remove_refilter_and_mix_refuse_the_same_way(config: Path, tmp_path: Path, monkeypatch):
    run(load_config(config))
    d = tmp_path / "d"
    d.mkdir()
    (d / "f").write_text("x\n")
    ids = tmp_path / "ids.txt"
    ids.write_text("docs:1\n")
    rm = run_cli(
        "remove",
        str(tmp_path / "out"),
        "--ids",
        str(ids),
        "--reason",
        "r",
        "--output",
        str(d),
        "--overwrite",
        check=False,
    )
    assert rm.returncode == 2 and "not a rootstock release" in rm.stderr
    thresholds = tmp_path / "t.yaml"
    thresholds.write_text("thresholds: {}\n")
    again = run_cli("refilter", str(tmp_path / "out"), str(thresholds), "--output", str(d), "--overwrite", check=False)
    assert again.returncode == 2 and "not a rootstock release" in again.stderr

    def no_work(*_args, **_kwargs):
        raise AssertionError("mix planned before checking its output")

    monkeypatch.setattr(mixmod, "prepare", no_work)
    with pytest.raises(ReleaseExistsError, match="not a rootstock release"):
        mixmod.mix(None, str(d), overwrite=True)
    assert _tree(d) == {"f": b"x\n"} and not _partials(tmp_path)


# -- object stores (fsspec's memory:// through the Beam bridge) ----------------------------------


@pytest.fixture
def two_sources(tmp_path: Path) -> str:
    """A release of two sources, in memory:// (Beam copies within one file system only)."""
    config = write_config(tmp_path / "two.yaml", _catalog(tmp_path / "two", ("alpha", "beta")), tmp_path / "parent")
    run(load_config(config))
    url = f"memory://rootstock-overwrite/{tmp_path.name}/parent"
    fsspec.filesystem("memory").put(str(tmp_path / "parent"), url.removeprefix("memory://"), recursive=True)
    assert verify(url)[1] == []
    return url


def _memory_files(url: str) -> set[str]:
    fs = fsspec.filesystem("memory")
    root = url.removeprefix("memory://").rstrip("/")
    return {"/".join(p.split("/")[len(root.strip("/").split("/")) + 1 :]) for p in fs.find(root)}


def test_object_store_overwrite_publishes_first_then_retires_the_old(two_sources: str, monkeypatch):
    url = two_sources.replace("/parent", "/releases/r")
    remove(two_sources, output=url, reason="opt-out", source="alpha")
    first = Release.open(url)
    assert verify(url)[1] == []
    assert all("/beta/" in e["path"] for e in first.entries("shards"))

    events = []
    real_copy, real_delete = FileSystems.copy, FileSystems.delete

    def copy(sources, destinations):
        events.append(("copy", list(destinations)))
        return real_copy(sources, destinations)

    def delete(paths):
        manifest = Release.open(url).manifest["release"] if FileSystems.exists(f"{url}/manifest.json") else None
        events.append(("delete", list(paths), manifest))
        return real_delete(paths)

    monkeypatch.setattr(FileSystems, "copy", copy)
    monkeypatch.setattr(FileSystems, "delete", delete)
    remove(two_sources, output=url, reason="opt-out", source="beta", release_id="second", overwrite=True)
    monkeypatch.undo()

    second = Release.open(url)
    assert second.id == "second" and verify(url)[1] == []
    # Every deletion under the release happened while the new manifest was already there.
    retired = [e for e in events if e[0] == "delete" and any(p.startswith(url + "/") for p in e[1])]
    assert retired and all(e[2] == "second" for e in retired)
    # What only the old release listed is gone; nothing is left that the new one does not list.
    assert _memory_files(url) == second.owned_files()
    assert not any("/beta/" in p for p in _memory_files(url))


def test_object_store_release_with_unlisted_objects_is_not_replaced(two_sources: str):
    url = two_sources.replace("/parent", "/releases/keep")
    remove(two_sources, output=url, reason="opt-out", source="alpha")
    with fsspec.open(f"{url}/notes.txt", "w") as handle:
        handle.write("mine")
    with pytest.raises(ReleaseExistsError, match=r"not in its manifest and would be lost: notes.txt"):
        remove(two_sources, output=url, reason="again", source="beta", overwrite=True)
    assert Release.open(url).manifest["removals"][0]["reason"] == "opt-out"
    plain = two_sources.replace("/parent", "/not-a-release")
    with fsspec.open(f"{plain}/f", "w") as handle:
        handle.write("x")
    with pytest.raises(ReleaseExistsError, match="not a rootstock release"):
        remove(two_sources, output=plain, reason="r", source="beta", overwrite=True)
    assert _memory_files(plain) == {"f"}


def test_no_partial_is_left_beside_an_object_store_release(two_sources: str):
    url = two_sources.replace("/parent", "/clean/r")
    remove(two_sources, output=url, reason="opt-out", source="alpha")
    parent = url.removeprefix("memory://").rsplit("/", 1)[0]
    assert [p for p in fsspec.filesystem("memory").find(parent) if ".partial-" in p] == []
    assert verify(url)[1] == []
