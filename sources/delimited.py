"""CSV/TSV with a header row (or given column names); quoted fields may span lines."""

from __future__ import annotations

import csv
import sys
from collections import deque
from collections.abc import Iterator
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict, Field

from rootstock.sources.files import text_lines
from rootstock.sources.records import RecordError

csv.field_size_limit(sys.maxsize)  # documents are long; the csv default (128 KiB) is not


class CsvOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delimiter: str = Field(",", min_length=1, max_length=1)
    quotechar: str = Field('"', min_length=1, max_length=1)
    columns: list[str] | None = None  # given → the file has no header row


class _Lines:
    """The file's lines for csv.reader, numbered, with a way to read some of them again.

    A quote that is never closed makes the csv module take every following line into one
    field. Parsing strictly turns that into an error at the end of the damage; the lines the
    bad record took are then given to the parser again from the line after its first, so only
    the record with the stray quote is lost (and counted) and the rows after it are read.
    """

    def __init__(self, stream: BinaryIO):
        self._source = enumerate(text_lines(stream), start=1)
        self._again: deque[tuple[int, bytes]] = deque()
        self.taken: list[tuple[int, bytes]] = []  # lines of the record being parsed
        self.errors: list[RecordError] = []  # lines that are not UTF-8, reported in order

    def __iter__(self):
        return self

    def __next__(self) -> str:
        while True:
            number, raw = self._again.popleft() if self._again else next(self._source)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                where = f"line {number}"
                self.errors.append(
                    RecordError(where, "invalid_utf8", f"invalid UTF-8 ({err.reason} at byte {err.start})")
                )
                continue
            self.taken.append((number, raw))
            return text

    def span(self) -> str:
        first, last = self.taken[0][0], self.taken[-1][0]
        return f"line {first}" if first == last else f"lines {first}-{last}"

    def retry_after_first(self) -> str:
        """Give back all but the first line of the failed record; return where that record was."""
        where = f"line {self.taken[0][0]}"
        self._again.extendleft(reversed(self.taken[1:]))
        self.taken = []
        return where


def iter_records(stream: BinaryIO, options: CsvOptions) -> Iterator[tuple[int, str, dict | RecordError]]:
    lines = _Lines(stream)
    reader = csv.reader(lines, delimiter=options.delimiter, quotechar=options.quotechar, strict=True)
    header = options.columns
    row = 0
    while True:
        lines.taken = []
        try:
            values = next(reader)
            problem = None
        except StopIteration:
            break
        except csv.Error as err:
            values, problem = None, f"unparseable CSV ({err})"
        for error in lines.errors:
            yield row, error.where, error
            row += 1
        lines.errors.clear()
        if values is not None and header is None:
            header = values
            continue
        if values is not None and not values:
            continue
        if values is not None and len(values) != len(header):
            problem = f"{len(values)} fields where the header has {len(header)}"
        if problem is None:
            yield row, lines.span(), dict(zip(header, values, strict=True))
        elif len(lines.taken) > 1:
            # A record over several lines that does not parse: most likely a stray quote that
            # took the lines after it. Count it alone and read those lines again.
            where = lines.retry_after_first()
            yield row, where, RecordError(where, "bad_row", f"{problem}; an unclosed quote on this line?")
        else:
            where = lines.span() if lines.taken else "end of file"
            yield row, where, RecordError(where, "bad_row", problem)
        row += 1
    for error in lines.errors:
        yield row, error.where, error
        row += 1
