"""CSV/TSV with a header row (or given column names); quoted fields may span lines."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict, Field

from rootstock.sources.records import RecordError

csv.field_size_limit(sys.maxsize)  # documents are long; the csv default (128 KiB) is not


class CsvOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delimiter: str = Field(",", min_length=1, max_length=1)
    quotechar: str = Field('"', min_length=1, max_length=1)
    columns: list[str] | None = None  # given → the file has no header row


def iter_records(stream: BinaryIO, options: CsvOptions) -> Iterator[tuple[int, str, dict | RecordError]]:
    # Lines are decoded one by one (not through a TextIOWrapper) so that invalid UTF-8 is
    # reported with its line number and, under `on_error: skip`, skipped alone.
    pending: list[RecordError] = []
    state = {"line": 0}

    def lines():
        for raw in stream:
            state["line"] += 1
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as err:
                where = f"line {state['line']}"
                pending.append(RecordError(where, "invalid_utf8", f"invalid UTF-8 ({err.reason} at byte {err.start})"))

    reader = csv.reader(lines(), delimiter=options.delimiter, quotechar=options.quotechar)
    header = options.columns
    row = 0
    start = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            yield (
                row,
                f"line {state['line']}",
                RecordError(f"line {state['line']}", "bad_row", f"unparseable CSV ({err})"),
            )
            row += 1
            continue
        for error in pending:
            yield row, error.where, error
            row += 1
        pending.clear()
        where = f"line {start}" if start == state["line"] else f"lines {start}-{state['line']}"
        start = state["line"] + 1
        if header is None:
            header = values
            continue
        if not values:
            continue
        if len(values) != len(header):
            yield row, where, RecordError(where, "bad_row", f"{len(values)} fields where the header has {len(header)}")
        else:
            yield row, where, dict(zip(header, values, strict=True))
        row += 1
    for error in pending:
        yield row, error.where, error
        row += 1
