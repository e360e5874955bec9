"""WriteShards: documents → OUTPUT/<data|rejected>/<lang>/<source>/part-NNNNN-of-MMMMM.parquet.

Deterministic by construction, so a re-run gives byte-identical files on any runner:
the shard count M of a (lang, source) group follows from its row and byte totals, a document's
shard is a hash of its id modulo M, and rows are sorted by id inside a shard. No shard holds
more than about max_rows / max_bytes, so sorting it in one worker's memory is bounded.
"""

from __future__ import annotations

import hashlib
import io
import math
import posixpath
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from pipeline.config import ShardsConfig
from pipeline.spill import SpillDocs, SpillFile, expand_spilled, read_batch, spill_dir, spill_enabled, write_batch

# The release's columns, in order (documented in README.md, "Output schema").
SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("lang", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("license", pa.string(), nullable=False),
        pa.field("source_doc_id", pa.string()),
        pa.field("input_file", pa.string(), nullable=False),
        pa.field("input_row", pa.int64(), nullable=False),
        pa.field("retrieved_at", pa.timestamp("us", tz="UTC")),
        pa.field("meta", pa.string(), nullable=False),
    ]
)


def text_bytes(doc: dict[str, Any]) -> int:
    return len(doc["text"].encode("utf-8"))


def sum_pairs(pairs) -> tuple[int, int]:
    """Combiner for (documents, bytes) counts."""
    docs = nbytes = 0
    for d, b in pairs:
        docs += d
        nbytes += b
    return docs, nbytes


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


def shard_path(prefix: str, lang: str, source: str, index: int, total: int) -> str:
    return f"{prefix}/{lang}/{source}/part-{index:05d}-of-{total:05d}.parquet"


def output_schema(extra: list[pa.Field]) -> pa.Schema:
    """The base columns, then each enabled stage's columns in stage order."""
    return pa.schema([*SCHEMA, *extra])


REJECTED_COLUMNS = [pa.field("drop_stage", pa.string(), nullable=False), pa.field("drop_reason", pa.string(), nullable=False)]


def to_table(docs: list[dict[str, Any]], schema: pa.Schema = SCHEMA) -> pa.Table:
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
        (lang, source), (rows, nbytes) = group
        total = num_shards(rows, nbytes, self.shards)
        for index in range(total):
            yield (lang, source, index, total), None


class _WriteShard(beam.DoFn):
    def __init__(self, root: str, prefix: str, shards: ShardsConfig, schema: pa.Schema, size=text_bytes):
        self.root, self.prefix, self.shards, self.schema, self.size = root, prefix, shards, schema, size

    def process(self, element):
        (lang, source, index, total), docs = element
        docs = sorted(expand_spilled(d for d in docs if d is not None), key=lambda d: d["id"])
        rel = shard_path(self.prefix, lang, source, index, total)
        written = write_parquet(to_table(docs, self.schema), posixpath.join(self.root, rel), self.shards)
        yield {
            "path": rel,
            "lang": lang,
            "source": source,
            "rows": len(docs),
            "text_bytes": sum(self.size(d) for d in docs),
            **written,
        }


def _assign(doc, totals, shards: ShardsConfig):
    group = (doc["lang"], doc["source"])
    n = num_shards(*totals[group], shards)
    return (*group, shard_of(doc["id"], n), n)


class _Fragments(beam.DoFn):
    """A spilled batch → one file per shard it feeds, so a shard's writer reads only its rows."""

    def __init__(self, directory: str, shards: ShardsConfig):
        self.directory, self.shards = directory, shards

    def process(self, spilled: SpillFile, totals):
        by_shard: dict[tuple, list] = {}
        for doc in read_batch(spilled):
            by_shard.setdefault(_assign(doc, totals, self.shards), []).append(doc)
        for key, docs in by_shard.items():
            yield key, write_batch(docs, self.directory)


class WriteShards(beam.PTransform):
    """Returns a PCollection of shard records (path, rows, bytes, sha256) for the manifest.

    With spilling on (pipeline.spill), documents reach the shard writers as files: batches,
    then per-shard fragments of each batch, so no barrier holds the documents themselves.
    """

    def __init__(self, root: str, shards: ShardsConfig, schema: pa.Schema = SCHEMA, prefix: str = "data", size=text_bytes):
        """`size(row)` is what max_bytes counts: UTF-8 text bytes for documents."""
        super().__init__()
        self.root, self.shards, self.schema, self.prefix, self.size = root, shards, schema, prefix, size

    def expand(self, docs):
        shards, size = self.shards, self.size
        sizes = (
            docs
            | "Size" >> beam.Map(lambda d: ((d["lang"], d["source"]), (1, size(d))))
            | "SumSizes" >> beam.CombinePerKey(sum_pairs)
        )
        placeholders = sizes | "PlanShards" >> beam.ParDo(_PlanShards(shards))
        totals = beam.pvalue.AsDict(sizes)
        if spill_enabled(docs.pipeline):
            directory = spill_dir(self.root, self.prefix.replace("/", "-"))
            assigned = (
                docs
                | "Spill" >> SpillDocs(directory)
                | "Spread" >> beam.Reshuffle()
                | "Fragments" >> beam.ParDo(_Fragments(posixpath.join(directory, "fragments"), shards), totals)
            )
        else:
            assigned = docs | "AssignShard" >> beam.Map(lambda d, totals: (_assign(d, totals, shards), d), totals=totals)
        return (
            (assigned, placeholders)
            | "WithPlaceholders" >> beam.Flatten()
            | "GroupShards" >> beam.GroupByKey()
            | "WriteParquet" >> beam.ParDo(_WriteShard(self.root, self.prefix, shards, self.schema, size))
        )
