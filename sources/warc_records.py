"""WARC framing: the records of a WARC file with their exact place in it, and what is wrong with a bad one.

A WARC record (ISO 28500, WARC 1.0/1.1) is a version line, header lines, a blank line, a block
of exactly `Content-Length` bytes and two CRLFs. Crawls compress each record as its own gzip
member (Common Crawl does), so a record can be fetched again by byte range: its member's offset
and length in the file are what `cc_index` rows hold and what provenance records here.

Hand-written framing because neither fastwarc nor warcio reports a damaged record: both return a
record cut by the end of the file as a shorter one, and fastwarc stops at a record whose declared
length lies. Here a damaged record is an error with its offset and reading resumes at the next
record header, so one bad record never ends a file. Parsing a record's HTTP headers and decoding
its payload (chunked, gzip, brotli) is left to fastwarc (`WarcRecord.from_bytes`).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from rootstock.sources.files import CORRUPT, TRUNCATED, DamagedInput
from rootstock.sources.records import RecordError

GZIP_MAGIC = b"\x1f\x8b"
_VERSION = b"WARC/"
_MAX_HEADER = 1 << 16  # a WARC header block longer than this is not a header
_CHUNK = 1 << 16


@dataclass(frozen=True)
class RawRecord:
    """One WARC record. `offset`/`length` place it in the file as stored (the gzip member for
    a .warc.gz written one record per member, else None for `length`); `position` is its offset
    in the decompressed stream. `block` is None when it was larger than the reader's cap."""

    offset: int
    length: int | None
    position: int
    header: bytes
    headers: dict[str, str]
    block: bytes | None
    declared: int

    @property
    def type(self) -> str:
        return self.headers.get("warc-type", "").lower()

    @property
    def url(self) -> str:
        return self.headers.get("warc-target-uri", "").strip("<>")

    def oversized(self, limit: int) -> RecordError:
        """The counted skip of a record whose block was over LIMIT (not read into memory)."""
        reason = f"{self.url}: {self.declared} bytes (max_record_bytes is {limit})"
        return RecordError(f"offset {self.offset}", "too_large", reason, expected=True)

    def raw(self) -> bytes:
        """The record as stored uncompressed: what fastwarc's WarcRecord.from_bytes parses."""
        assert self.block is not None
        return self.header + self.block + b"\r\n\r\n"


class _Members:
    """The decompressed bytes of a file, one gzip member after another, remembering where each
    member starts (in the decompressed stream and in the file); plain files pass through."""

    def __init__(self, raw: BinaryIO, gzipped: bool):
        self.raw, self.gzipped = raw, gzipped
        self.starts: list[tuple[int, int]] = []  # (decompressed offset, file offset) of members not yet passed
        self._obj = None
        self._in = 0  # file bytes consumed
        self._out = 0  # decompressed bytes produced
        self._pending = b""  # file bytes read but not yet fed
        self.damage: list[tuple[int, str]] = []  # (file offset, what) of members skipped as corrupt

    def read(self) -> bytes:
        """The next piece of decompressed data; b"" at the end."""
        if not self.gzipped:
            data = self.raw.read(_CHUNK)
            self._in += len(data)
            return data
        while True:
            if not self._pending:
                self._pending = self.raw.read(_CHUNK)
                if not self._pending:
                    if self._obj is not None:
                        raise DamagedInput(
                            TRUNCATED,
                            f"the last gzip member (from byte {self.starts[-1][1]}) ends early: the file is truncated",
                        )
                    return b""
            if self._obj is None:
                if self._pending[:1] == b"\x00" and not self._pending.strip(b"\x00"):
                    self._in += len(self._pending)  # zero padding after the last member
                    self._pending = b""
                    continue
                self._obj = zlib.decompressobj(wbits=31)
                self.starts.append((self._out, self._in))
            fed = self._pending
            try:
                out = self._obj.decompress(fed)
            except zlib.error as err:
                # Skip to the next member: a record's own gzip member is damaged, not the file.
                self.damage.append((self.starts[-1][1], f"gzip member at byte {self.starts[-1][1]} is corrupt ({err})"))
                self._obj = None
                self._skip_to_next_member()
                continue
            if self._obj.eof:
                rest = self._obj.unused_data
                self._in += len(fed) - len(rest)
                self._pending, self._obj = rest, None
            else:
                self._in += len(fed)
                self._pending = b""
            self._out += len(out)
            if out:
                return out

    def _skip_to_next_member(self) -> None:
        """Drop file bytes up to the next gzip member header (or the end)."""
        data = self._pending
        consumed = self._in
        while True:
            found = data.find(GZIP_MAGIC + b"\x08", 1)
            if found > 0:
                self._in = consumed + found
                self._pending = data[found:]
                return
            more = self.raw.read(_CHUNK)
            if not more:
                self._in = consumed + len(data)
                self._pending = b""
                return
            consumed += max(0, len(data) - 2)
            data = data[-2:] + more

    def span(self, start: int, end: int) -> tuple[int, int | None]:
        """File offset and stored length of decompressed bytes [start, end): exact when they are
        one whole gzip member, else the decompressed offset and None. Members before START are
        forgotten (records are asked for in order)."""
        if not self.gzipped:
            return start, end - start
        starts = self.starts
        while len(starts) > 1 and starts[1][0] <= start:
            starts.pop(0)
        if not starts or starts[0][0] != start:
            return start, None
        in_start = starts[0][1]
        if len(starts) > 1:
            return (in_start, starts[1][1] - in_start) if starts[1][0] == end else (in_start, None)
        if end == self._out and self._obj is None:
            return in_start, self._in - in_start
        return in_start, None


class _Buffer:
    """A window over the decompressed stream: what framing needs (find, take, skip) with the
    absolute offset of its first byte."""

    def __init__(self, source: _Members):
        self.source, self.data, self.pos, self.eof = source, bytearray(), 0, False

    def fill(self, n: int) -> bool:
        """At least N bytes buffered (False at the end of the stream)."""
        while len(self.data) < n and not self.eof:
            piece = self.source.read()
            if piece:
                self.data += piece
            else:
                self.eof = True
        return len(self.data) >= n

    def find(self, needle: bytes, limit: int) -> int:
        """Index of NEEDLE within the first LIMIT bytes, reading more as needed; -1 if absent."""
        start = 0
        while True:
            found = self.data.find(needle, start, limit)
            if found >= 0 or len(self.data) >= limit or self.eof:
                return found
            start = max(0, len(self.data) - len(needle) + 1)
            self.fill(len(self.data) + _CHUNK)

    def take(self, n: int) -> bytes:
        self.fill(n)
        out = bytes(self.data[:n])
        del self.data[:n]
        self.pos += len(out)
        return out

    def skip(self, n: int) -> int:
        """Drop up to N bytes without keeping them; how many were there."""
        dropped = 0
        while dropped < n:
            if not self.data and not self.fill(1):
                break
            step = min(n - dropped, len(self.data))
            del self.data[:step]
            self.pos += step
            dropped += step
        return dropped


def _headers(header: bytes) -> dict[str, str] | None:
    lines = header.split(b"\r\n")
    if not lines[0].startswith(_VERSION):
        return None
    fields: dict[str, str] = {}
    name = None
    for line in lines[1:]:
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and name is not None:  # a folded continuation line
            fields[name] += " " + line.strip().decode("utf-8", "replace")
            continue
        key, sep, value = line.partition(b":")
        if not sep:
            return None
        name = key.strip().decode("latin-1").lower()
        fields[name] = value.strip().decode("utf-8", "replace")
    return fields


def iter_records(stream: BinaryIO, *, max_block: int) -> Iterator[RawRecord | RecordError]:
    """The records of a WARC file (plain, or gzipped one record per member or as a whole).

    A record that cannot be framed (bad header, a Content-Length that is not a number or does
    not end where the next record starts, a block cut by the end of the file) is a RecordError
    `where="offset N"`; reading resumes at the next `WARC/` line. A gzip member cut or corrupt
    raises DamagedInput after the records before it; a corrupt member in the middle is skipped
    (an error naming its byte offset) and reading goes on with the next member. Blocks over MAX_BLOCK bytes are skipped
    (the record comes with `block=None`), never held in memory.
    """
    members = _Members(stream, gzipped=stream.peek(2)[:2] == GZIP_MAGIC)
    buf = _Buffer(members)
    while buf.fill(1):
        buf.fill(len(_VERSION))
        while members.damage:
            offset, what = members.damage.pop(0)
            yield RecordError(f"byte {offset}", CORRUPT, what, records=None)
        start = buf.pos
        if not buf.data.startswith(_VERSION):
            if buf.data.strip(b"\r\n\x00 ") == b"" and not buf.fill(len(buf.data) + 1):
                return  # trailing blank lines or padding
            skipped = _resync(buf)
            yield RecordError(f"offset {start}", "bad_record", f"{skipped} bytes that are not a WARC record")
            continue
        end = buf.find(b"\r\n\r\n", _MAX_HEADER)
        if end < 0:
            if buf.eof and len(buf.data) < _MAX_HEADER:
                yield RecordError(f"offset {start}", TRUNCATED, "the file ends inside a WARC header", records=None)
                return
            buf.skip(1)
            yield RecordError(f"offset {start}", "bad_header", f"no end of the WARC header within {_MAX_HEADER} bytes")
            _resync(buf)
            continue
        header = buf.take(end + 4)  # with the blank line that ends it
        headers = _headers(header[:-4])
        declared = None if headers is None else headers.get("content-length", "")
        if headers is None or not declared.isdigit():
            what = "malformed header line" if headers is None else f"Content-Length {declared!r} is not a number"
            yield RecordError(f"offset {start}", "bad_header", what)
            _resync(buf)
            continue
        length = int(declared)
        if length > max_block:
            got = buf.skip(length)
            block = None
        else:
            buf.fill(length)
            block = buf.take(length)
            got = len(block)
        if got < length and block is not None and b"\n" + _VERSION in block:
            # The file ends before the declared length, but another record starts inside the
            # block: the length lies (too long), the file is not cut. Read on from there.
            yield RecordError(
                f"offset {start}", "length_mismatch", f"Content-Length {length} runs past the next record's header"
            )
            buf.data[0:0] = block
            buf.pos -= len(block)
            _resync(buf)
            continue
        if got < length:
            yield RecordError(
                f"offset {start}",
                TRUNCATED,
                f"the file ends inside the record ({got} of {length} block bytes)",
                records=None,
            )
            return
        buf.fill(4)
        tail = bytes(buf.data[:4])
        if tail != b"\r\n\r\n":
            yield RecordError(
                f"offset {start}",
                "length_mismatch",
                f"the block does not end where its Content-Length ({length}) says (next bytes {tail!r})",
            )
            if block is not None:  # look for the next record from the block's start: a length too long swallowed some
                buf.data[0:0] = block
                buf.pos -= len(block)
            _resync(buf)
            continue
        buf.skip(4)
        offset, stored = members.span(start, buf.pos)
        yield RawRecord(offset, stored, start, header, headers, block, length)


def _resync(buf: _Buffer) -> int:
    """Skip to the next line that starts a WARC record; how many bytes were skipped."""
    skipped = 0
    while True:
        found = buf.find(b"\n" + _VERSION, len(buf.data) if buf.eof else max(len(buf.data), _CHUNK))
        if found >= 0:
            skipped += buf.skip(found + 1)
            return skipped
        if buf.eof:
            return skipped + buf.skip(len(buf.data))
        keep = len(_VERSION)
        skipped += buf.skip(max(0, len(buf.data) - keep))
        buf.fill(len(buf.data) + _CHUNK)
