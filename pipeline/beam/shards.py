"""WriteShards: rows → ROOT/<prefix>/<group fields…>/part-NNNNN-of-MMMMM.parquet.

Deterministic by construction, so a re-run gives byte-identical files on any runner: the
shard count M of a group (e.g. lang and source) follows from its row and byte totals, a row's
shard is a hash of its id modulo M, and rows are sorted by id inside a shard. A shard writer
sorts at most RUN_ROWS rows in memory (more go to sorted runs on local disk) and writes row
groups as the merge produces them, so its memory does not grow with the shard.
"""

from __future__ import annotations

import hashlib
import heapq
import io
import math
import pickle
import posixpath
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from pydantic import Field, model_validator

from rootstock.pipeline.beam.gather import sum_pairs
from rootstock.pipeline.beam.spill import (
    SpillDocs,
    SpillFile,
    expand_spilled,
    read_batch,
    spill_dir,
    spill_enabled,
    write_batch,
)
from rootstock.strict import Strict

PARQUET_CODECS = ("none", "snappy", "gzip", "brotli", "lz4", "zstd")


class ShardsConfig(Strict):
    """How big a shard may grow, and how it is written."""

    max_rows: int | None = Field(100_000, gt=0)
    max_bytes: int | None = Field(256 * 1024 * 1024, gt=0, description="UTF-8 bytes of text per shard")
    row_group_rows: int = Field(10_000, gt=0)
    compression: str = "zstd"
    compression_level: int | None = None

    @model_validator(mode="after")
    def _some_limit(self) -> ShardsConfig:
        if self.max_rows is None and self.max_bytes is None:
            raise ValueError("set max_rows, max_bytes or both")
        return self

    @model_validator(mode="after")
    def _codec(self) -> ShardsConfig:
        """A codec or level Parquet cannot write fails here, before the pipeline runs, not at its end."""
        if self.compression.lower() not in PARQUET_CODECS:
            raise ValueError(f"compression {self.compression!r} is not one of {', '.join(PARQUET_CODECS)}")
        if self.compression.lower() == "none":
            if self.compression_level is not None:
                raise ValueError("compression_level needs a compression")
            return self
        if not pa.Codec.is_available(self.compression):
            raise ValueError(f"compression {self.compression!r} is not available in this pyarrow build")
        if self.compression_level is not None:
            if not pa.Codec.supports_compression_level(self.compression):
                raise ValueError(f"compression {self.compression!r} takes no compression_level")
            low = pa.Codec.minimum_compression_level(self.compression)
            high = pa.Codec.maximum_compression_level(self.compression)
            if not low <= self.compression_level <= high:
                raise ValueError(
                    f"compression_level for {self.compression} is {low}..{high}, got {self.compression_level}"
                )
        return self


def shard_of(doc_id: str, num_shards: int) -> int:
    if num_shards == 1:
        return 0
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big") % num_shards


def num_shards(rows: int, nbytes: int, shards: ShardsConfig) -> int:
    counts = [1]
    if shards.max_rows:
        counts.append(math.ceil(rows / shards.max_rows))
    if shards.max_bytes:
        counts.append(math.ceil(nbytes / shards.max_bytes))
    return max(counts)


def shard_path(prefix: str, group: tuple[str, ...], index: int, total: int) -> str:
    return "/".join([prefix, *group, f"part-{index:05d}-of-{total:05d}.parquet"])


def to_table(docs: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist([{name: doc.get(name) for name in schema.names} for doc in docs], schema=schema)


def write_parquet(table: pa.Table, path: str, shards: ShardsConfig) -> dict[str, Any]:
    """Write through Beam's file systems (local, gs://, s3://…); return size and sha256."""
    buffer = io.BytesIO()
    pq.write_table(
        table,
        buffer,
        compression=shards.compression,
        compression_level=shards.compression_level,
        row_group_size=shards.row_group_rows,
    )
    payload = buffer.getvalue()
    with FileSystems.create(path) as handle:
        handle.write(payload)
    return {"file_bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}


class _PlanShards(beam.DoFn):
    """One placeholder per shard, so every part-i-of-M file exists even if hashing left it empty."""

    def __init__(self, shards: ShardsConfig):
        self.shards = shards

    def process(self, group):
        key, (rows, nbytes) = group
        total = num_shards(rows, nbytes, self.shards)
        for index in range(total):
            yield (key, index, total), None


class _WriteShard(beam.DoFn):
    def __init__(
        self, root: str, prefix: str, group_by: tuple[str, ...], shards: ShardsConfig, schema: pa.Schema, size
    ):
        self.root, self.prefix, self.group_by = root, prefix, group_by
        self.shards, self.schema, self.size = shards, schema, size

    def process(self, element):
        (group, index, total), rows = element
        rows = sorted_by_id(expand_spilled(r for r in rows if r is not None), RUN_ROWS)
        rel = shard_path(self.prefix, group, index, total)
        counted = {"rows": 0, "text_bytes": 0}

        def tally(row):
            counted["rows"] += 1
            counted["text_bytes"] += self.size(row)
            return row

        written = stream_parquet((tally(r) for r in rows), self.schema, posixpath.join(self.root, rel), self.shards)
        yield {"path": rel, **dict(zip(self.group_by, group, strict=True)), **counted, **written}


# Rows a shard writer sorts in memory at once; more go to sorted runs on local disk, merged as
# the row groups are written, so a worker's memory does not grow with the shard.
RUN_ROWS = 20_000
_CHUNK_ROWS = 64  # what the merge holds per run: small, as a shard of millions has a hundred runs


def sorted_by_id(rows: Iterable[dict[str, Any]], run_rows: int = RUN_ROWS) -> Iterator[dict[str, Any]]:
    """ROWS in id order, holding at most RUN_ROWS of them (plus one chunk per spilled run) at once."""
    runs, buffer = [], []
    for row in rows:
        buffer.append(row)
        if len(buffer) >= run_rows:
            buffer.sort(key=_id)
            runs.append(_spill_run(buffer))
            buffer = []
    buffer.sort(key=_id)
    if not runs:
        yield from buffer
        return
    try:
        yield from heapq.merge(*(_read_run(run) for run in runs), iter(buffer), key=_id)
    finally:
        for run in runs:
            run.close()


def _id(row: dict[str, Any]) -> str:
    return row["id"]


def _spill_run(rows: list[dict[str, Any]]):
    run = tempfile.TemporaryFile()  # noqa: SIM115 - the merge closes it; local disk, gone once closed
    for start in range(0, len(rows), _CHUNK_ROWS):
        pickle.dump(rows[start : start + _CHUNK_ROWS], run, protocol=pickle.HIGHEST_PROTOCOL)
    run.seek(0)
    return run


def _read_run(run) -> Iterator[dict[str, Any]]:
    while True:
        try:
            yield from pickle.load(run)
        except EOFError:
            return


def stream_parquet(
    rows: Iterable[dict[str, Any]], schema: pa.Schema, path: str, shards: ShardsConfig
) -> dict[str, Any]:
    """Write ROWS as Parquet row groups of `row_group_rows` one at a time (the same bytes
    write_parquet gives for the whole table), through a local temporary file, then copy it to
    PATH; return size and sha256."""
    chunk: list[dict[str, Any]] = []
    with tempfile.NamedTemporaryFile(suffix=".parquet") as local:
        writer = None
        for row in rows:
            chunk.append(row)
            if len(chunk) == shards.row_group_rows:
                writer = writer or _writer(local.name, schema, shards)
                writer.write_table(to_table(chunk, schema), row_group_size=shards.row_group_rows)
                chunk = []
        if writer is None:  # at most one row group: exactly what write_parquet writes
            return write_parquet(to_table(chunk, schema), path, shards)
        if chunk:
            writer.write_table(to_table(chunk, schema), row_group_size=shards.row_group_rows)
        writer.close()
        digest, size = hashlib.sha256(), 0
        with open(local.name, "rb") as source, FileSystems.create(path) as target:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
                target.write(block)
    return {"file_bytes": size, "sha256": digest.hexdigest()}


def _writer(path: str, schema: pa.Schema, shards: ShardsConfig) -> pq.ParquetWriter:
    return pq.ParquetWriter(path, schema, compression=shards.compression, compression_level=shards.compression_level)


def _assign(row, totals, group_by: tuple[str, ...], shards: ShardsConfig):
    group = tuple(row[field] for field in group_by)
    n = num_shards(*totals[group], shards)
    return group, shard_of(row["id"], n), n


class _Fragments(beam.DoFn):
    """A spilled batch → one file per shard it feeds, so a shard's writer reads only its rows."""

    def __init__(self, directory: str, group_by: tuple[str, ...], shards: ShardsConfig):
        self.directory, self.group_by, self.shards = directory, group_by, shards

    def process(self, spilled: SpillFile, totals):
        by_shard: dict[tuple, list] = {}
        for row in read_batch(spilled):
            by_shard.setdefault(_assign(row, totals, self.group_by, self.shards), []).append(row)
        for key, rows in by_shard.items():
            yield key, write_batch(rows, self.directory)


class WriteShards(beam.PTransform):
    """Rows (dicts with an `id` and the GROUP_BY fields) → one shard record per file written.

    `size(row)` is what `max_bytes` counts (UTF-8 text bytes for documents). A shard record
    has the path, the group fields, rows, `text_bytes`, `file_bytes` and sha256. With spilling
    on, rows reach the shard writers as files in SCRATCH: batches, then per-shard fragments of
    each batch, so no barrier holds the rows themselves.
    """

    def __init__(
        self,
        root: str,
        shards: ShardsConfig,
        schema: pa.Schema,
        *,
        size,
        scratch: str,
        prefix: str = "data",
        group_by: tuple[str, ...] = ("lang", "source"),
    ):
        super().__init__()
        self.root, self.shards, self.schema, self.prefix = root, shards, schema, prefix
        self.size, self.scratch, self.group_by = size, scratch, tuple(group_by)

    def expand(self, rows):
        shards, size, group_by = self.shards, self.size, self.group_by
        sizes = (
            rows
            | "Size" >> beam.Map(lambda r: (tuple(r[f] for f in group_by), (1, size(r))))
            | "SumSizes" >> beam.CombinePerKey(sum_pairs)
        )
        placeholders = sizes | "PlanShards" >> beam.ParDo(_PlanShards(shards))
        totals = beam.pvalue.AsDict(sizes)
        if spill_enabled(rows.pipeline):
            directory = spill_dir(self.scratch, self.prefix.replace("/", "-"))
            assigned = (
                rows
                | "Spill" >> SpillDocs(directory)
                | "Spread" >> beam.Reshuffle()
                | "Fragments"
                >> beam.ParDo(_Fragments(posixpath.join(directory, "fragments"), group_by, shards), totals)
            )
        else:
            assigned = rows | "AssignShard" >> beam.Map(
                lambda r, totals: (_assign(r, totals, group_by, shards), r), totals=totals
            )
        return (
            (assigned, placeholders)
            | "WithPlaceholders" >> beam.Flatten()
            | "GroupShards" >> beam.GroupByKey()
            | "WriteParquet" >> beam.ParDo(_WriteShard(self.root, self.prefix, group_by, shards, self.schema, size))
        )
