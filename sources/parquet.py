"""Parquet files, read in record batches (never a whole file's table at once)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from rootstock.sources.files import CORRUPT, TRUNCATED
from rootstock.sources.records import RecordError


class ParquetOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(1024, gt=0)
    columns: list[str] | None = None  # read only these (default: all)


def iter_records(stream: BinaryIO, options: ParquetOptions) -> Iterator[tuple[int, str, dict | RecordError]]:
    """Rows in file order; a row group that cannot be read is one error that counts its rows
    (the footer says how many), and reading goes on with the next group."""
    try:
        parquet = pq.ParquetFile(stream)
    except Exception as err:  # a damaged footer fails in many ways (ArrowInvalid, OSError, UnicodeDecodeError…)
        # No readable footer: how many rows the file held is unknown.
        stream.seek(0)
        if stream.read(4) == b"PAR1":
            error = RecordError("file", TRUNCATED, "the Parquet footer is missing: the file is truncated", records=None)
        else:
            error = RecordError("file", CORRUPT, f"not a readable Parquet file ({err})", records=None)
        yield 0, "file", error
        return
    row = accounted = 0
    for group in range(parquet.num_row_groups):
        size = max(0, parquet.metadata.row_group(group).num_rows)
        done = 0
        try:
            for batch in parquet.iter_batches(
                batch_size=options.batch_size, columns=options.columns, row_groups=[group]
            ):
                yield from batch_records(batch, row + done)
                done += batch.num_rows
            problem = None if done == size else f"row group {group} holds {size} rows but {done} could be read"
        except Exception as err:  # a damaged page fails in many ways inside pyarrow
            problem = f"row group {group} is unreadable ({err})"
        if problem is not None and done < size:
            where = f"rows {row + done}-{row + size - 1} (row group {group})"
            yield row + done, where, RecordError(where, CORRUPT, problem, records=size - done)
        accounted += max(done, size)
        row += size
    claimed = parquet.metadata.num_rows
    if accounted < claimed:  # a damaged footer: its row groups do not add up to the file's rows
        problem = f"the footer says {claimed} rows but its row groups hold {accounted}: the footer is damaged"
        yield row, "footer", RecordError("footer", CORRUPT, problem, records=claimed - accounted)


def batch_records(batch: pa.RecordBatch, first_row: int) -> Iterator[tuple[int, str, dict | RecordError]]:
    """The rows of an Arrow batch as dicts; a row whose strings are not valid UTF-8 (Arrow does
    not check what a writer put there) is an error of its own, not the batch's."""
    try:
        records = batch.to_pylist()
    except UnicodeDecodeError:
        records = None
    for i in range(batch.num_rows):
        row = first_row + i
        if records is not None:
            yield row, f"row {row}", records[i]
            continue
        try:
            (record,) = batch.slice(i, 1).to_pylist()
        except UnicodeDecodeError as err:
            yield (
                row,
                f"row {row}",
                RecordError(
                    f"row {row}", "invalid_utf8", f"invalid UTF-8 in a string column ({err.reason} at byte {err.start})"
                ),
            )
            continue
        yield row, f"row {row}", record
