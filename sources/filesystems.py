"""Beam file systems for the fsspec protocols Beam does not speak (hf://, az://, http(s)://…).

Beam's fileio (MatchAll/ReadMatches) splits reading by file across workers on every runner,
and already knows local paths, gs:// (apache-beam[gcp]) and s3:// (apache-beam[aws]). This
adapter lets the very same transforms read any other fsspec URL, so a catalogue entry can
point at `hf://datasets/org/name/*.parquet` without a second code path. Beam discovers file
systems by subclass, so importing this module is all the registration there is. It is written
here because neither Beam nor fsspec ships such a bridge.
"""

from __future__ import annotations

import importlib.util
import posixpath
from typing import BinaryIO

import fsspec
from apache_beam.io.filesystem import (
    BeamIOError,
    CompressedFile,
    CompressionTypes,
    FileMetadata,
    FileSystem,
    MatchResult,
)
from apache_beam.io.filesystems import FileSystems

from rootstock.errors import ConfigError
from rootstock.paths import is_url


class _FsspecFileSystem(FileSystem):
    """Base: one subclass per URL scheme (Beam matches file systems on `scheme()`)."""

    # Beam picks a file system by `scheme()`; the base class must not claim any real scheme
    # (None would clash with LocalFileSystem), and "_" can never start a URL scheme.
    PROTOCOL = "_fsspec"

    @classmethod
    def scheme(cls):
        return cls.PROTOCOL

    @property
    def _fs(self):
        return fsspec.filesystem(self.PROTOCOL)

    def _url(self, path: str) -> str:
        return path if is_url(path) else self._fs.unstrip_protocol(path)

    def join(self, basepath, *paths):
        return posixpath.join(basepath, *paths)

    def split(self, path):
        head, tail = posixpath.split(path.rstrip("/"))
        return head, tail

    def mkdirs(self, path):
        self._fs.makedirs(path, exist_ok=True)

    def has_dirs(self):
        return True

    def _list(self, dir_or_prefix):
        try:
            for info in self._fs.ls(dir_or_prefix, detail=True):
                if info.get("type") == "directory":
                    continue
                yield FileMetadata(self._url(info["name"]), int(info.get("size") or 0))
        except FileNotFoundError:
            return
        except Exception as err:
            raise BeamIOError(f"listing {dir_or_prefix} failed", {dir_or_prefix: err}) from err

    def match(self, patterns, limits=None):
        # fsspec globs natively (and far cheaper than Beam's list-then-filter on object stores).
        results = []
        limits = limits or [None] * len(patterns)
        for pattern, limit in zip(patterns, limits, strict=True):
            found = self._fs.glob(pattern, detail=True)
            metas = [
                FileMetadata(self._url(name), int(info.get("size") or 0))
                for name, info in sorted(found.items())
                if info.get("type") != "directory"
            ]
            results.append(MatchResult(pattern, metas[:limit] if limit else metas))
        return results

    def create(self, path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO) -> BinaryIO:
        raw = self._fs.open(path, "wb")
        return self._wrap(raw, path, compression_type, write=True)

    def open(self, path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO) -> BinaryIO:
        raw = self._fs.open(path, "rb")
        return self._wrap(raw, path, compression_type, write=False)

    @staticmethod
    def _wrap(raw, path, compression_type, write):
        if compression_type == CompressionTypes.AUTO:
            compression_type = CompressionTypes.detect_compression_type(path)
        if compression_type == CompressionTypes.UNCOMPRESSED:
            return raw
        return CompressedFile(raw, compression_type=compression_type)

    def copy(self, source_file_names, destination_file_names):
        for src, dst in zip(source_file_names, destination_file_names, strict=True):
            self._fs.copy(src, dst, recursive=True)

    def rename(self, source_file_names, destination_file_names):
        for src, dst in zip(source_file_names, destination_file_names, strict=True):
            self._fs.mv(src, dst, recursive=True)

    def exists(self, path):
        return self._fs.exists(path)

    def size(self, path):
        return int(self._fs.size(path))

    def last_updated(self, path):
        modified = self._fs.modified(path)
        return modified.timestamp()

    def metadata(self, path):
        info = self._fs.info(path)
        modified = info.get("mtime") or info.get("created")
        seconds = modified.timestamp() if hasattr(modified, "timestamp") else modified
        return FileMetadata(self._url(path), int(info.get("size") or 0), seconds)

    def checksum(self, path):
        return str(self._fs.checksum(path))

    def delete(self, paths):
        for path in paths:
            self._fs.rm(path, recursive=True)


# Schemes Beam has no file system for; gs:// and s3:// stay with Beam's own implementations.
class HfFileSystem(_FsspecFileSystem):
    PROTOCOL = "hf"


class AzureBlobFileSystem(_FsspecFileSystem):
    PROTOCOL = "az"


class AbfsFileSystem(_FsspecFileSystem):
    PROTOCOL = "abfs"


class HttpFileSystem(_FsspecFileSystem):
    PROTOCOL = "http"


class HttpsFileSystem(_FsspecFileSystem):
    PROTOCOL = "https"


class MemoryFileSystem(_FsspecFileSystem):
    """fsspec's in-process memory store; only meaningful on single-process runners (tests)."""

    PROTOCOL = "memory"


# Schemes whose Beam file system needs a package that is an extra here.
_NEEDS = {
    "s3": ("boto3", "pip install 'rootstock[s3]'"),
    "gs": ("google.cloud.storage", "pip install 'apache-beam[gcp]'"),
}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def check_storage(path: str, what: str) -> None:
    """ConfigError naming PATH if no installed file system can read or write it."""
    if not is_url(path):
        return
    scheme = path.split("://", 1)[0].lower()
    if scheme in _NEEDS:
        module, install = _NEEDS[scheme]
        if not _installed(module):
            raise ConfigError(problems=[(path, what, f"{scheme}:// needs {module}: {install}")])
    try:
        FileSystems.get_filesystem(path)
    except ValueError:
        raise ConfigError(
            problems=[
                (
                    path,
                    what,
                    f"no file system for {scheme}:// (rootstock reads local paths, gs://, s3://, hf://, az://, http(s)://)",
                )
            ]
        ) from None
