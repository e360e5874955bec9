"""`rootstock verify RELEASE`: do the files say what the manifest says?

Recomputes every listed file's size, sha256 and Parquet row count, looks for files the
manifest does not list, and checks the totals against the shards. Works on any file system
Beam knows (local, gs://, s3://, hf:// through the fsspec bridge).
"""

from __future__ import annotations

import hashlib
import posixpath
from typing import Any

import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from rootstock.errors import ReleaseError
from rootstock.paths import is_url
from rootstock.pipeline.release.manifest import schema_problems
from rootstock.pipeline.release.release import FILE_LISTS, MANIFEST, Release


def _digest(path: str) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with FileSystems.open(path) as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def _rows(path: str) -> int:
    with FileSystems.open(path) as handle:
        return pq.ParquetFile(handle).metadata.num_rows


def _check_file(release: str, entry: dict[str, Any], problems: list[str], listed: set[str]) -> bool:
    """Size and sha256 of one listed file; False if it is missing."""
    rel = entry["path"]
    listed.add(rel)
    path = posixpath.join(release, rel)
    if not FileSystems.exists(path):
        problems.append(f"{rel}: listed in the manifest but missing")
        return False
    size, sha = _digest(path)
    if size != entry["file_bytes"]:
        problems.append(f"{rel}: {size} bytes, manifest says {entry['file_bytes']}")
    if sha != entry["sha256"]:
        problems.append(f"{rel}: sha256 {sha}, manifest says {entry['sha256']}")
    return True


def verify(release: str) -> tuple[dict[str, Any] | None, list[str]]:
    """(manifest, problems); no problems means the release is intact."""
    try:
        manifest = Release.open(release).manifest
    except ReleaseError as err:
        return None, [str(err)]
    problems, listed = [], set()
    if manifest.get("kind", "release") == "release":
        problems += [f"manifest.json: {p}" for p in schema_problems(manifest)]
    for key in FILE_LISTS:
        for entry in manifest.get(key, []):
            if not _check_file(release, entry, problems, listed) or "rows" not in entry:
                continue  # missing, or not Parquet (a JSON sidecar): size and sha256 only
            try:
                rows = _rows(posixpath.join(release, entry["path"]))
            except Exception as err:
                problems.append(f"{entry['path']}: not readable as Parquet ({err})")
                continue
            if rows != entry["rows"]:
                problems.append(f"{entry['path']}: {rows} rows, manifest says {entry['rows']}")
    if "card" in manifest:
        _check_file(release, manifest["card"], problems, listed)
    found = FileSystems.match([posixpath.join(release, "**")])[0].metadata_list
    for meta in found:
        rel = (
            posixpath.relpath(meta.path, release) if not is_url(release) else meta.path[len(release.rstrip("/")) + 1 :]
        )
        if rel != MANIFEST and rel not in listed:
            problems.append(f"{rel}: present but not listed in the manifest")
    docs_out = sum(s["rows"] for s in manifest.get("shards", []))
    if manifest.get("totals", {}).get("docs_out") != docs_out:
        problems.append(
            f"totals.docs_out is {manifest.get('totals', {}).get('docs_out')}, the data shards hold {docs_out}"
        )
    return manifest, problems
