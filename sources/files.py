"""Opening input files: Beam's file systems for bytes, fast C decompressors for the stream.

Beam's own CompressedFile decompresses in Python-sized steps and reads lines slowly; gzip,
zstandard, bz2 and lzma objects from the standard library / zstandard are several times
faster for line-oriented formats, so files are opened raw and decompressed here.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import os
import re
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import zstandard
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

import rootstock.sources.filesystems  # noqa: F401  (registers hf://, az://, http(s)://, memory://)
from rootstock.errors import InputError
from rootstock.paths import is_url

COMPRESSED_SUFFIXES = (".gz", ".zst", ".zstd", ".bz2", ".xz", ".lzma")
_GLOB_CHARS = re.compile(r"([*?\[])")

# Reasons a whole input file (or the rest of it) cannot be read, as counted in the manifest.
TRUNCATED = "truncated_file"
CORRUPT = "corrupt_file"


class DamagedInput(Exception):
    """The bytes of an input file end early or are not what its name says.

    `code` is the counted reason (TRUNCATED or CORRUPT); the message says what is wrong in
    words a user can act on. Raised from inside a read, so the reader can say after which
    record it happened and count what was lost.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class _ZstdFrames(io.RawIOBase):
    """Concatenated zstd frames, with an EOFError when the input ends inside a frame.

    Hand-written because zstandard's stream readers end quietly at a truncated frame: half a
    file read as a shorter, valid one. Input is fed in small chunks, which bounds the output
    one call can produce.
    """

    CHUNK = 1 << 16

    def __init__(self, raw: BinaryIO):
        self._raw, self._dctx, self._obj = raw, zstandard.ZstdDecompressor(), None
        self._out, self._pos = b"", 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._pos >= len(self._out):
            chunk = self._raw.read(self.CHUNK)
            if not chunk:
                if self._obj is not None:
                    raise EOFError("the input ends inside a zstd frame")
                return 0
            self._out, self._pos = self._decompress(chunk), 0
        n = min(len(buffer), len(self._out) - self._pos)
        buffer[:n] = self._out[self._pos : self._pos + n]
        self._pos += n
        return n

    def _decompress(self, data: bytes) -> bytes:
        out = []
        while data:
            if self._obj is None:
                self._obj = self._dctx.decompressobj()
            out.append(self._obj.decompress(data))
            if self._obj.eof:  # a frame ended inside DATA: what follows starts the next one
                data, self._obj = self._obj.unused_data, None
            else:
                data = b""
        return b"".join(out)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Checked(io.RawIOBase):
    """A decompressor whose failures become DamagedInput: each codec signals a truncated file
    with EOFError and bad data with its own exception type."""

    def __init__(self, inner: BinaryIO, codec: str):
        self._inner, self._codec = inner, codec

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            if isinstance(self._inner, io.RawIOBase):
                return self._inner.readinto(buffer)
            # read1: one step of the decompressor, so what it produced before the damage is
            # returned first (readinto would fill the whole buffer and lose it with the error).
            data = self._inner.read1(len(buffer))
        except EOFError:
            raise DamagedInput(TRUNCATED, f"the {self._codec} stream ends early: the file is truncated") from None
        except (OSError, zlib.error, lzma.LZMAError, zstandard.ZstdError) as err:
            raise DamagedInput(CORRUPT, f"not a valid {self._codec} stream ({err})") from None
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def _decompressor(raw: BinaryIO, lower: str) -> tuple[BinaryIO, str] | None:
    if lower.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb"), "gzip"
    if lower.endswith((".zst", ".zstd")):
        return _ZstdFrames(raw), "zstd"
    if lower.endswith(".bz2"):
        return bz2.BZ2File(raw, mode="rb"), "bzip2"
    if lower.endswith((".xz", ".lzma")):
        return lzma.LZMAFile(raw, mode="rb"), "xz"
    return None


def open_input(path: str, *, decompress: bool = True) -> BinaryIO:
    """A buffered binary stream of the file's (decompressed) bytes; a damaged compressed
    stream raises DamagedInput where the damage is met."""
    raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    if not hasattr(raw, "peek"):  # fsspec's files (and BytesIO) buffer but cannot peek
        raw = io.BufferedReader(raw, buffer_size=1 << 20)
    found = _decompressor(raw, path.lower()) if decompress else None
    if found is None:
        return raw
    if not raw.peek(1):  # the decompressors read an empty file as empty content
        raw.close()
        raise DamagedInput(TRUNCATED, f"the file is empty, which no {found[1]} stream is (an upload that failed?)")
    return io.BufferedReader(_Checked(*found), buffer_size=1 << 20)


def text_lines(stream: BinaryIO) -> Iterator[bytes]:
    """The lines of a text file as UTF-8 bytes, whatever its line endings and byte-order mark.

    A UTF-8 BOM is dropped (it made the first JSON record invalid and the first CSV header
    `\\ufeffid`); a UTF-16 or UTF-32 file (its BOM says so) is re-encoded as UTF-8; CR-only and
    CRLF endings end lines like LF (a CR-only file used to be one line). JSON never holds a raw
    CR or LF inside a value, and CSV keeps them inside quoted fields across lines, so splitting
    at every CR is safe for both.
    """
    head = stream.peek(4)[:4] if hasattr(stream, "peek") else b""
    for bom, encoding in _WIDE_BOMS:
        if head.startswith(bom):
            yield from _reencoded(stream, encoding)
            return
    first = True
    for line in stream:
        if first:
            first = False
            if line.startswith(codecs.BOM_UTF8):
                line = line[3:]
        if b"\r" in line:
            yield from _CR_SPLIT.findall(line)
        else:
            yield line


_CR_SPLIT = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
# UTF-32 first: its little-endian BOM starts with UTF-16's.
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _reencoded(stream: BinaryIO, encoding: str) -> Iterator[bytes]:
    text = io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="")
    for line in text:
        # Bytes that are not valid in the declared encoding come out as lone surrogates and
        # are left undecodable as UTF-8, so the record reports invalid text like any other.
        yield line.encode("utf-8", "surrogatepass")


def as_pattern(path: str) -> str:
    """PATH as a pattern to match files with: a path naming an existing file has its glob
    characters escaped, so `data[1].jsonl` reads that file, not `data1.jsonl`."""
    if not _GLOB_CHARS.search(path):
        return path
    try:
        exists = FileSystems.exists(path)
    except Exception:  # a store that cannot answer: treat PATH as the pattern it looks like
        exists = False
    return _GLOB_CHARS.sub(r"[\1]", path) if exists else path


def match_files(paths: list[str]) -> list[str]:
    """Every file the paths (literal or glob, local or URL) match, sorted; an InputError if none."""
    found = FileSystems.match([as_pattern(p) for p in paths])
    files = sorted({m.path for result in found for m in result.metadata_list})
    if not files:
        raise InputError(f"{', '.join(paths)}: no file matches these paths")
    return files


# A work unit whose second item is its file's path (warc, wet, cc_index, wikipedia, hf_dataset).
def unit_file_name(unit: tuple, options=None) -> str:
    return unit[1]


def unit_file_mtime(unit: tuple) -> float | None:
    try:
        return FileSystems.last_updated(unit[1])
    except Exception:  # a store that does not say: the entry's date is used
        return None


def display_path(path: str, root: str | None) -> str:
    """The path recorded in provenance: relative to the catalogue root when under it.

    Keeps `input_file` (and ids derived from it) identical wherever the checkout lives.
    """
    if root and not is_url(path):
        rel = os.path.relpath(path, root)
        if not rel.startswith(".."):
            return rel.replace(os.sep, "/")
    return path
