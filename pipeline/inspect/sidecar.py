"""The search index as a sidecar of a release: where it is, whether it belongs, what verify says.

Only the release layer is used here (no tantivy), so `Release.owned_files`, `verify` and `push`
can learn about index sidecars by moving this module to pipeline/release/ as it is.

Layout: `index/<manifest sha256[:16]>/index.json` and `index/<…>/tantivy/*`. index.json names
the manifest sha256 it was built against and lists every other file of its directory with its
size and sha256, and carries a sha256 of its own content (`sidecar_digest`, like the token-count
sidecars): nothing can be added to, changed in or left out of an index without it showing.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from typing import Any

from apache_beam.io.filesystem import BeamIOError
from apache_beam.io.filesystems import FileSystems

from rootstock.pipeline.release.release import Release, sidecar_digest

INDEX_DIR = "index"
INDEX_JSON = "index.json"
INDEX_KIND = "search-index"
# The manifest's shard lists an index covers, and the `set` its documents get.
SETS = {"shards": "data", "rejected_shards": "rejected"}


def index_dir(manifest_sha256: str) -> str:
    """Where the index of the release with this manifest sha256 lives, relative to the release."""
    return f"{INDEX_DIR}/{manifest_sha256[:16]}"


def read_sidecar(release: Release) -> dict[str, Any] | None:
    """index.json of the index built for this very manifest, or None."""
    path = release.file(posixpath.join(index_dir(release.manifest_sha256), INDEX_JSON))
    if not FileSystems.exists(path):
        return None
    with FileSystems.open(path) as handle:
        try:
            sidecar = json.loads(handle.read())
        except ValueError:
            return None
    if not isinstance(sidecar, dict) or sidecar.get("kind") != INDEX_KIND:
        return None
    if sidecar.get("manifest_sha256") != release.manifest_sha256:
        return None
    return sidecar


def index_files(release: Release) -> list[str]:
    """Relative paths of the index sidecar's files present for this manifest (for `owned_files`)."""
    sidecar = read_sidecar(release)
    if sidecar is None:
        return []
    base = index_dir(release.manifest_sha256)
    return sorted([f"{base}/{INDEX_JSON}", *(f"{base}/{f['path']}" for f in sidecar.get("files") or [])])


def index_problems(release: Release) -> list[str]:
    """What `verify` should say about the index sidecars of RELEASE (none: intact or absent).

    Every `index/*/index.json`: its own sha256, the manifest it was built against, each file's
    size and sha256, no other file in its directory, and as many documents as the manifest's
    shards hold. Uses only the release layer, so it can move into pipeline/release/verify.py.
    """
    problems = []
    try:
        found = FileSystems.match([release.file(f"{INDEX_DIR}/*/{INDEX_JSON}")])[0].metadata_list
    except (BeamIOError, OSError):  # no index/ directory at all
        found = []
    for meta in found:
        base = posixpath.dirname(meta.path)
        rel = f"{INDEX_DIR}/{posixpath.basename(base)}"
        with FileSystems.open(meta.path) as handle:
            try:
                sidecar = json.loads(handle.read())
            except ValueError as err:
                problems.append(f"{rel}/{INDEX_JSON}: not valid JSON ({err})")
                continue
        if sidecar.get("sha256") != sidecar_digest(sidecar):
            problems.append(
                f"{rel}/{INDEX_JSON}: content sha256 {sidecar_digest(sidecar)}, the file says {sidecar.get('sha256')}"
            )
        if sidecar.get("manifest_sha256") != release.manifest_sha256 or rel != index_dir(release.manifest_sha256):
            problems.append(
                f"{rel}: built for manifest sha256 {sidecar.get('manifest_sha256')}, this manifest is "
                f"{release.manifest_sha256}; index again with `rootstock index`"
            )
        listed = {f["path"]: f for f in sidecar.get("files") or []}
        for path, entry in sorted(listed.items()):
            full = posixpath.join(base, path)
            if not FileSystems.exists(full):
                problems.append(f"{rel}/{path}: listed in {INDEX_JSON} but missing")
                continue
            with FileSystems.open(full) as handle:
                data = handle.read()
            if len(data) != entry.get("file_bytes") or hashlib.sha256(data).hexdigest() != entry.get("sha256"):
                problems.append(f"{rel}/{path}: {len(data)} bytes, sha256 differs from {INDEX_JSON}")
        present = FileSystems.match([posixpath.join(base, "**")])[0].metadata_list
        for m in present:
            path = m.path[len(base) + 1 :]
            if path != INDEX_JSON and path not in listed:
                problems.append(f"{rel}/{path}: present but not listed in {INDEX_JSON}")
        expected = {name: sum(e.get("rows", 0) for e in release.entries(key)) for key, name in SETS.items()}
        if sidecar.get("documents") != expected:
            problems.append(
                f"{rel}: indexes {sidecar.get('documents')} documents, the manifest's shards hold {expected}"
            )
    return problems
