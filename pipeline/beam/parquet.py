"""Reading Parquet files in a pipeline: Beam's own splittable reader, rows one row group at a time."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.io.parquetio import ReadAllFromParquetBatched


def _rows(element, with_path: bool):
    path, table = element
    if with_path:
        for row in table.to_pylist():
            yield path, row
    else:
        yield from table.to_pylist()


class ReadParquetRows(beam.PTransform):
    """File paths → row dicts (or (path, row) with `with_path`), never a whole file in one element.

    Beam's ReadAllFromParquetBatched splits files into ranges across workers and yields a table
    per row group, so memory per worker is bounded by the writer's `row_group_rows`.
    """

    def __init__(self, columns: list[str] | None = None, *, with_path: bool = False):
        super().__init__()
        self.columns, self.with_path = columns, with_path

    def expand(self, paths):
        return (
            paths
            | "ReadRowGroups" >> ReadAllFromParquetBatched(columns=self.columns, with_filename=True)
            | "Rows" >> beam.FlatMap(_rows, self.with_path)
        )
