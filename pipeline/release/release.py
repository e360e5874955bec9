"""A published release (or mix) as a value: where it is, its manifest, its files.

Every command that reads a release opens it here, so "is this a complete release" and "what
does its manifest say" have one answer: a release is complete exactly when it has a
`manifest.json` that parses as a JSON object.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

import rootstock.sources.filesystems  # noqa: F401  (registers hf://, az://, http(s)://)
from rootstock.errors import ReleaseError
from rootstock.paths import absolute

MANIFEST = "manifest.json"
WORK_DIR = "_work"  # the pipeline's own bookkeeping inside a staging directory
# The manifest's lists of files; every listed file has a path, a size and a sha256.
FILE_LISTS = ("shards", "rejected_shards", "artifacts")


@dataclass(frozen=True)
class Release:
    path: str
    manifest: dict[str, Any]
    manifest_sha256: str

    @classmethod
    def open(cls, path: str, *, kind: str | None = None) -> Release:
        """The release at PATH; ReleaseError if it has no manifest or it is not one (of KIND)."""
        path = str(path).rstrip("/") or "/"
        manifest_path = posixpath.join(path, MANIFEST)
        if not FileSystems.exists(manifest_path):
            raise ReleaseError(f"{path}: no {MANIFEST}; not a complete release")
        with FileSystems.open(manifest_path) as handle:
            raw = handle.read()
        try:
            manifest = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ReleaseError(f"{manifest_path}: not valid JSON ({err})") from None
        if not isinstance(manifest, dict):
            raise ReleaseError(f"{manifest_path}: a manifest is a JSON object, this is a {type(manifest).__name__}")
        release = cls(path, manifest, hashlib.sha256(raw).hexdigest())
        if kind is not None and release.kind != kind:
            raise ReleaseError(f"{path}: a {release.kind} manifest, not a {kind}")
        return release

    @property
    def kind(self) -> str:
        return self.manifest.get("kind", "release")

    @property
    def id(self) -> str:
        return self.manifest.get("release", "?")

    def entries(self, *lists: str) -> list[dict[str, Any]]:
        """File entries of the manifest's LISTS (default: the data shards)."""
        return [entry for key in lists or ("shards",) for entry in self.manifest.get(key, [])]

    def file(self, rel: str) -> str:
        return posixpath.join(self.path, rel)

    def schema(self, rel: str) -> pa.Schema:
        with FileSystems.open(self.file(rel)) as handle:
            return pq.read_schema(handle)

    def parent_record(self) -> dict[str, Any]:
        """How a release derived from this one points at it (its manifest by sha256)."""
        return {
            "release": self.id,
            "path": absolute(self.path),
            "created": self.manifest.get("created"),
            "config_sha256": self.manifest.get("config_sha256"),
            "manifest_sha256": self.manifest_sha256,
        }


def read_table(path: str, columns: list[str] | None = None) -> pa.Table:
    """A Parquet file through Beam's file systems; COLUMNS that the file lacks are left out."""
    with FileSystems.open(path) as handle:
        parquet = pq.ParquetFile(handle)
        wanted = None if columns is None else [c for c in columns if c in parquet.schema_arrow.names]
        return parquet.read(columns=wanted)


def iter_rows(path: str, columns: list[str] | None = None, batch_size: int = 1024) -> Iterator[dict[str, Any]]:
    """Rows of a Parquet file as dicts, one record batch in memory at a time."""
    with FileSystems.open(path) as handle:
        for batch in pq.ParquetFile(handle).iter_batches(batch_size=batch_size, columns=columns):
            yield from batch.to_pylist()
