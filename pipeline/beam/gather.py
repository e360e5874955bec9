"""Small results (counts, shard records) gathered into one JSON file the driver reads afterwards."""

from __future__ import annotations

import json
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems


def sum_pairs(pairs) -> tuple[int, int]:
    """Combiner for (documents, bytes) counts."""
    docs = nbytes = 0
    for d, b in pairs:
        docs += d
        nbytes += b
    return docs, nbytes


def write_json_list(pcoll, path: str, label: str):
    """Gather a small PCollection into one JSON file, sorted so it is the same on every runner."""

    def dump(rows):
        rows = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))
        with FileSystems.create(path) as handle:
            handle.write(json.dumps(rows, sort_keys=True).encode())
        return path

    return pcoll | f"Gather[{label}]" >> beam.combiners.ToList() | f"Dump[{label}]" >> beam.Map(dump)


def read_json_list(path: str) -> list[Any]:
    """What `write_json_list` wrote, once the pipeline has finished."""
    with FileSystems.open(path) as handle:
        return json.loads(handle.read())
