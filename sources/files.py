"""Opening input files: Beam's file systems for bytes, fast C decompressors for the stream.

Beam's own CompressedFile decompresses in Python-sized steps and reads lines slowly; gzip,
zstandard, bz2 and lzma objects from the standard library / zstandard are several times
faster for line-oriented formats, so files are opened raw and decompressed here.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
from typing import BinaryIO

import zstandard
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

import rootstock.sources.filesystems  # noqa: F401  (registers hf://, az://, http(s)://, memory://)
from rootstock.paths import is_url

COMPRESSED_SUFFIXES = (".gz", ".zst", ".zstd", ".bz2", ".xz", ".lzma")


def open_input(path: str, *, decompress: bool = True) -> BinaryIO:
    """A buffered binary stream of the file's (decompressed) bytes."""
    raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    if not decompress:
        return raw
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if lower.endswith((".zst", ".zstd")):
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        return io.BufferedReader(reader, buffer_size=1 << 20)
    if lower.endswith(".bz2"):
        return bz2.BZ2File(raw, mode="rb")
    if lower.endswith((".xz", ".lzma")):
        return lzma.LZMAFile(raw, mode="rb")
    return raw if isinstance(raw, io.BufferedIOBase) else io.BufferedReader(raw, buffer_size=1 << 20)


def display_path(path: str, root: str | None) -> str:
    """The path recorded in provenance: relative to the catalogue root when under it.

    Keeps `input_file` (and ids derived from it) identical wherever the checkout lives.
    """
    if root and not is_url(path):
        rel = os.path.relpath(path, root)
        if not rel.startswith(".."):
            return rel.replace(os.sep, "/")
    return path
