"""A published release (or mix) as a value: where it is, its manifest, its files.

Every command that reads a release opens it here, so "is this a complete release" and "what
does its manifest say" have one answer: a release is complete exactly when it has a
`manifest.json` that parses as a JSON object. "Which files of this directory did rootstock
write" has one answer too (`owned_files`): what the manifest lists, the manifest, the card,
and the sidecars added after publication: token counts (`tokens/*.json`, see `TOKENS_DIR`) and
search indexes (`index/*/index.json` and the files each lists, see `INDEX_DIR`).
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
from apache_beam.io.filesystem import BeamIOError, CompressionTypes
from apache_beam.io.filesystems import FileSystems

import rootstock.sources.filesystems  # noqa: F401  (registers hf://, az://, http(s)://)
from rootstock.errors import ReleaseError
from rootstock.paths import absolute, is_url

MANIFEST = "manifest.json"
WORK_DIR = "_work"  # the pipeline's own bookkeeping inside a staging directory
# The manifest's lists of files; every listed file has a path, a size and a sha256.
FILE_LISTS = ("shards", "rejected_shards", "artifacts")
# Token counts added to a published release: one JSON file per tokenizer, never the manifest
# (a child release records its parent's manifest by sha256, so the manifest must not change).
TOKENS_DIR = "tokens"
TOKENS_KIND = "token-counts"
# Search indexes (`rootstock index`, `run --index`): one directory each under index/, holding the
# engine's files and an index.json that lists them (pipeline/release/search_index.py).
INDEX_DIR = "index"
INDEX_JSON = "index.json"
INDEX_KIND = "search-index"


def sidecar_path(tokenizer_sha256: str) -> str:
    """Where the token counts of the tokenizer with this sha256 live inside a release."""
    return f"{TOKENS_DIR}/{tokenizer_sha256[:16]}.json"


def relative_path(root: str, path: str) -> str | None:
    """PATH relative to ROOT, or None if it is not under it.

    File systems spell URLs differently (fsspec's memory:// answers `memory:///bucket/...` for
    `memory://bucket/...`), so slashes after the scheme do not count.
    """

    def norm(p: str) -> str:
        if is_url(p):
            scheme, rest = p.split("://", 1)
            return f"{scheme}://{rest.lstrip('/')}"
        return p

    prefix, full = norm(root).rstrip("/") + "/", norm(path)
    return full[len(prefix) :] if full.startswith(prefix) else None


def inside(rel: Any) -> bool:
    """Is REL a relative path that stays inside its directory (`a/b`, not `../a`, `/a` or `a/../b`)?"""
    return isinstance(rel, str) and bool(rel) and posixpath.normpath(rel) == rel and not rel.startswith(("/", ".."))


def file_digest(path: str) -> tuple[int, str]:
    """(size, sha256) of the file at PATH (any file system Beam knows), read in 1 MiB blocks."""
    digest, size = hashlib.sha256(), 0
    # UNCOMPRESSED: the bytes as stored, even for a name ending in .gz (Beam would decompress it).
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def sidecar_digest(sidecar: dict[str, Any]) -> str:
    """sha256 of a sidecar's content without its own `sha256` field (canonical JSON).

    Nothing else may record a hash of a sidecar (that would be the manifest, which must not
    change), so a sidecar carries its own: an edit to it shows, like an edit to a listed file.
    """
    body = {k: v for k, v in sidecar.items() if k != "sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def read_manifest_bytes(raw: bytes, where: str) -> dict[str, Any]:
    """RAW parsed as a manifest (a JSON object); ReleaseError naming WHERE otherwise."""
    try:
        manifest = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ReleaseError(f"{where}: not valid JSON ({err})") from None
    if not isinstance(manifest, dict):
        raise ReleaseError(f"{where}: a manifest is a JSON object, this is a {type(manifest).__name__}")
    return manifest


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
        manifest = read_manifest_bytes(raw, manifest_path)
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

    def listed_files(self) -> set[str]:
        """Paths (relative) the manifest names: its file lists and the card."""
        listed = {e.get("path") for key in FILE_LISTS for e in self.manifest.get(key) or [] if isinstance(e, dict)}
        card = self.manifest.get("card")
        if isinstance(card, dict):
            listed.add(card.get("path"))
        return {p for p in listed if isinstance(p, str)}

    def sidecar_files(self) -> list[str]:
        """Relative paths of the token-count sidecars present (tokens/*.json that say so), sorted."""
        pattern = posixpath.join(self.path, TOKENS_DIR, "*.json")
        try:
            found = FileSystems.match([pattern])[0].metadata_list
        except (BeamIOError, OSError):  # no tokens/ directory at all
            return []
        return sorted(
            f"{TOKENS_DIR}/{posixpath.basename(m.path)}" for m in found if _read_json(m.path).get("kind") == TOKENS_KIND
        )

    def token_sidecar(self, tokenizer_sha256: str) -> dict[str, Any] | None:
        """The token counts recorded for this tokenizer and this very manifest, or None.

        A sidecar counted against another manifest (copied from elsewhere) does not count.
        """
        path = self.file(sidecar_path(tokenizer_sha256))
        sidecar = _read_json(path) if FileSystems.exists(path) else {}
        if sidecar.get("kind") != TOKENS_KIND:
            return None
        if sidecar.get("manifest_sha256") != self.manifest_sha256:
            return None
        if (sidecar.get("tokenizer") or {}).get("sha256") != tokenizer_sha256:
            return None
        return sidecar

    def index_files(self) -> list[str]:
        """Relative paths of the search indexes' files: every index/*/index.json that says it is
        one, and the files it lists (whatever manifest it was built for: rootstock wrote them), sorted."""
        try:
            found = FileSystems.match([posixpath.join(self.path, INDEX_DIR, "*", INDEX_JSON)])[0].metadata_list
        except (BeamIOError, OSError):  # no index/ directory at all
            return []
        files = []
        for meta in found:
            sidecar = _read_json(meta.path)
            if sidecar.get("kind") != INDEX_KIND:
                continue
            base = f"{INDEX_DIR}/{posixpath.basename(posixpath.dirname(meta.path))}"
            files.append(f"{base}/{INDEX_JSON}")
            for entry in sidecar.get("files") or []:
                rel = entry.get("path") if isinstance(entry, dict) else None
                if inside(rel):  # never a path that leaves its directory: owned files may be deleted
                    files.append(f"{base}/{rel}")
        return sorted(files)

    def owned_files(self) -> set[str]:
        """Every file of this release rootstock wrote: listed ones, the manifest, sidecars, indexes."""
        return self.listed_files() | {MANIFEST, *self.sidecar_files(), *self.index_files()}

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


def _read_json(path: str) -> dict[str, Any]:
    """A small JSON object file; {} if it cannot be read or is not an object."""
    try:
        with FileSystems.open(path) as handle:
            data = json.loads(handle.read())
    except (OSError, ValueError, BeamIOError):
        return {}
    return data if isinstance(data, dict) else {}


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
