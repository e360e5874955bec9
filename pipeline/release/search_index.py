"""A release's search index as files: where it is, which one to use, what `verify` says about it.

The index itself (tantivy) is built and read in pipeline/inspect/; this module needs no engine,
so `verify`, `push` and `--overwrite` know about indexes without importing the layer above.

Two places, one layout (`index.json` and the engine's files under `tantivy/`):

- `index/listed/`, made by `rootstock run --index` (or `refilter --index`) in the staging
  directory before the manifest is written: every file, index.json included, is listed in the
  manifest's `artifacts`, so the manifest's sha256s cover it like any other file. Its index.json
  names no manifest (it was written before the manifest existed); it is bound to the shards it
  indexed by their paths, rows and sha256s.
- `index/<manifest sha256[:16]>/`, made by `rootstock index RELEASE` after publication, a sidecar
  like the token counts (a published manifest never changes: a child release and a mix record it
  by sha256). Its index.json names the manifest sha256 it was built against.

Either way index.json lists every other file of its directory with its size and sha256, and
carries a sha256 of its own content (`sidecar_digest`): nothing can be added to, changed in or
left out of an index without it showing. A sidecar built for this manifest is preferred to the
listed index (it was asked for later, e.g. with a newer engine).
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import Any

from apache_beam.io.filesystem import BeamIOError
from apache_beam.io.filesystems import FileSystems

from rootstock.pipeline.release.release import (
    INDEX_DIR,
    INDEX_JSON,
    INDEX_KIND,
    MANIFEST,
    Release,
    file_digest,
    inside,
    sidecar_digest,
)

LISTED_DIR = f"{INDEX_DIR}/listed"
# The manifest's shard lists an index covers, and the `set` its documents get.
SETS = {"shards": "data", "rejected_shards": "rejected"}


def sidecar_dir(manifest_sha256: str) -> str:
    """Where `rootstock index` puts the index of the release with this manifest sha256 (relative)."""
    return f"{INDEX_DIR}/{manifest_sha256[:16]}"


def listed_dir(manifest: dict[str, Any]) -> str | None:
    """The directory of the index the manifest lists (an artifact `index/NAME/index.json`), or None."""
    for entry in manifest.get("artifacts") or []:
        path = entry.get("path") if isinstance(entry, dict) else None
        if (
            isinstance(path, str)
            and path.startswith(f"{INDEX_DIR}/")
            and path.count("/") == 2
            and path.endswith(f"/{INDEX_JSON}")
        ):
            return posixpath.dirname(path)
    return None


@dataclass(frozen=True)
class FoundIndex:
    path: str  # its directory, relative to the release
    sidecar: dict[str, Any]  # its index.json
    listed: bool  # listed in the manifest (`run --index`), else a sidecar (`rootstock index`)


def read_index_json(path: str) -> dict[str, Any] | None:
    """The index.json at PATH if it is one (kind search-index), else None (missing, not JSON, other)."""
    try:
        if not FileSystems.exists(path):
            return None
        with FileSystems.open(path) as handle:
            data = json.loads(handle.read())
    except (OSError, ValueError, BeamIOError):
        return None
    return data if isinstance(data, dict) and data.get("kind") == INDEX_KIND else None


def find_index(release: Release) -> FoundIndex | None:
    """The index to search RELEASE with: the sidecar built for this very manifest, else the listed one."""
    rel = sidecar_dir(release.manifest_sha256)
    sidecar = read_index_json(release.file(posixpath.join(rel, INDEX_JSON)))
    if sidecar is not None and sidecar.get("manifest_sha256") == release.manifest_sha256:
        return FoundIndex(rel, sidecar, listed=False)
    rel = listed_dir(release.manifest)
    sidecar = read_index_json(release.file(posixpath.join(rel, INDEX_JSON))) if rel else None
    if sidecar is not None:
        return FoundIndex(rel, sidecar, listed=True)
    return None


def shard_records(release: Release) -> list[dict[str, Any]]:
    """What an index.json records of the shards it covers: path, rows, sha256 and set, by path."""
    return sorted(
        (
            {"path": e.get("path"), "rows": e.get("rows", 0), "sha256": e.get("sha256"), "set": name}
            for key, name in SETS.items()
            for e in release.entries(key)
        ),
        key=lambda s: str(s["path"]),
    )


def index_jsons(release: Release) -> list[str]:
    """Relative paths of every index/*/index.json present, whatever it holds (for `verify`)."""
    try:
        found = FileSystems.match([release.file(f"{INDEX_DIR}/*/{INDEX_JSON}")])[0].metadata_list
    except (BeamIOError, OSError):  # no index/ directory at all
        return []
    return sorted(f"{INDEX_DIR}/{posixpath.basename(posixpath.dirname(m.path))}/{INDEX_JSON}" for m in found)


def _present(release: Release, rel: str) -> list[str]:
    """Paths (relative to the directory REL) of the files under it."""
    base = release.file(rel)
    try:
        found = FileSystems.match([posixpath.join(base, "**")])[0].metadata_list
    except (BeamIOError, OSError):
        return []
    prefix = base.rstrip("/") + "/"
    return sorted(m.path[len(prefix) :] for m in found if m.path.startswith(prefix))


def index_problems(release: Release) -> list[str]:
    """What `verify` says about the search indexes of RELEASE (none: each is intact and current).

    For every index/*/index.json: its own sha256; what it was built for (this manifest, or, for
    the listed index, the manifest's shards by sha256); each file it lists (size and sha256,
    which for the listed index the manifest's check covers: it must list the same files); no
    other file in its directory; and as many documents as the manifest's shards hold.
    """
    problems: list[str] = []
    listed_rel = listed_dir(release.manifest)
    artifacts = {e.get("path"): e for e in release.manifest.get("artifacts") or [] if isinstance(e, dict)}
    for path in index_jsons(release):
        rel = posixpath.dirname(path)
        with FileSystems.open(release.file(path)) as handle:
            try:
                sidecar = json.loads(handle.read())
            except ValueError as err:
                problems.append(f"{path}: not valid JSON ({err})")
                continue
        if not isinstance(sidecar, dict) or sidecar.get("kind") != INDEX_KIND:
            kind = sidecar.get("kind") if isinstance(sidecar, dict) else type(sidecar).__name__
            problems.append(f"{path}: not a search index (kind {kind!r}, not {INDEX_KIND!r})")
            continue
        if sidecar.get("sha256") != sidecar_digest(sidecar):
            problems.append(f"{path}: content sha256 {sidecar_digest(sidecar)}, the file says {sidecar.get('sha256')}")
        listed = rel == listed_rel
        if listed:
            recorded = [{k: s.get(k) for k in ("path", "rows", "sha256", "set")} for s in sidecar.get("shards") or []]
            if recorded != shard_records(release):
                problems.append(
                    f"{rel}: built from other shards than the {MANIFEST} lists (paths, rows or sha256 differ); "
                    "run again with --index, or build a current one with `rootstock index`"
                )
        elif sidecar.get("manifest_sha256") != release.manifest_sha256 or rel != sidecar_dir(release.manifest_sha256):
            problems.append(
                f"{rel}: built for manifest sha256 {sidecar.get('manifest_sha256')}, this manifest is "
                f"{release.manifest_sha256}; index again with `rootstock index`"
            )
        files = {f.get("path"): f for f in sidecar.get("files") or [] if isinstance(f, dict)}
        for name, entry in sorted(files.items(), key=lambda kv: str(kv[0])):
            if not inside(name):
                problems.append(f"{path}: lists {name!r}, which is not a path inside {rel}/")
                continue
            full = f"{rel}/{name}"
            if listed:  # the manifest's check reads the bytes; both lists must agree
                there = artifacts.get(full)
                if there is None:
                    problems.append(f"{full}: listed in {INDEX_JSON} but not in the {MANIFEST}")
                elif (there.get("file_bytes"), there.get("sha256")) != (entry.get("file_bytes"), entry.get("sha256")):
                    problems.append(f"{full}: {INDEX_JSON} and the {MANIFEST} give different sizes or sha256s")
                continue
            if not FileSystems.exists(release.file(full)):
                problems.append(f"{full}: listed in {INDEX_JSON} but missing")
                continue
            size, sha = file_digest(release.file(full))
            if size != entry.get("file_bytes") or sha != entry.get("sha256"):
                problems.append(f"{full}: {size} bytes, sha256 differs from {INDEX_JSON}")
        if listed:
            extra = sorted(p for p in artifacts if isinstance(p, str) and p.startswith(rel + "/"))
            extra = [p for p in extra if p != path and p[len(rel) + 1 :] not in files]
            problems += [f"{p}: listed in the {MANIFEST} but not in {path}" for p in extra]
        for name in _present(release, rel):
            if name != INDEX_JSON and name not in files and not (listed and f"{rel}/{name}" in artifacts):
                problems.append(f"{rel}/{name}: present but not listed in {INDEX_JSON}")
        expected = {name: sum(e.get("rows", 0) for e in release.entries(key)) for key, name in SETS.items()}
        if sidecar.get("documents") != expected:
            problems.append(
                f"{rel}: indexes {sidecar.get('documents')} documents, the manifest's shards hold {expected}"
            )
    return problems


def owned_by_index(rel: str, dirs: list[str]) -> bool:
    """Is REL (relative to the release) inside one of the index directories DIRS?"""
    return any(rel.startswith(d + "/") for d in dirs)
