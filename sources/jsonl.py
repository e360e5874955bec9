"""JSON Lines (plain, .gz, .zst, .bz2, .xz): one object per line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import orjson
from pydantic import BaseModel, ConfigDict

from rootstock.sources.files import text_lines
from rootstock.sources.records import RecordError


class JsonlOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


def iter_records(stream: BinaryIO, options: JsonlOptions) -> Iterator[tuple[int, str, dict | RecordError]]:
    """Yield (row, where, record-or-error); blank lines are not records."""
    row = 0
    for lineno, line in enumerate(text_lines(stream), start=1):
        if not line.strip():
            continue
        where = f"line {lineno}"
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as err:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as uerr:
                yield (
                    row,
                    where,
                    RecordError(where, "invalid_utf8", f"invalid UTF-8 ({uerr.reason} at byte {uerr.start})"),
                )
            else:
                yield row, where, RecordError(where, "bad_json", f"invalid JSON ({err})")
            row += 1
            continue
        yield row, where, record
        row += 1
