"""Parquet files, read in record batches (never a whole file's table at once)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from rootstock.sources.records import RecordError


class ParquetOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(1024, gt=0)
    columns: list[str] | None = None  # read only these (default: all)


def iter_records(stream: BinaryIO, options: ParquetOptions) -> Iterator[tuple[int, str, dict | RecordError]]:
    try:
        parquet = pq.ParquetFile(stream)
    except (pa.ArrowInvalid, OSError) as err:
        yield 0, "file", RecordError("file", "bad_file", f"not a Parquet file ({err})")
        return
    row = 0
    for batch in parquet.iter_batches(batch_size=options.batch_size, columns=options.columns):
        for record in batch.to_pylist():
            yield row, f"row {row}", record
            row += 1
