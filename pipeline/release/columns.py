"""The columns of a release's Parquet shards: provenance first, then each stage's own."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from rootstock.sources.records import ORIGIN_FIELDS

# Where a web or encyclopedia document can be fetched again (null for other sources): the WARC
# record (file, id, byte range, HTTP status and type, extractor) or the wiki page revision.
_ARROW = {"int": pa.int64(), "str": pa.string()}
ORIGIN_TYPE = pa.struct([pa.field(name, _ARROW[kind]) for name, kind in ORIGIN_FIELDS.items()])

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
        pa.field("origin", ORIGIN_TYPE),
    ]
)
# What a rejected document carries on top: which stage dropped it and why.
REJECTED_COLUMNS = [
    pa.field("drop_stage", pa.string(), nullable=False),
    pa.field("drop_reason", pa.string(), nullable=False),
]


def output_schema(extra: list[pa.Field]) -> pa.Schema:
    """The base columns, then each enabled stage's columns in stage order."""
    return pa.schema([*SCHEMA, *extra])


def rejected_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([*schema, *REJECTED_COLUMNS])


def text_bytes(doc: dict[str, Any]) -> int:
    """What `max_bytes` and every byte count of a release measure: UTF-8 bytes of the text (a
    light record of a document, pipeline/jobs/units.py, carries the number instead)."""
    if "text" not in doc:
        return doc["text_bytes"]
    return len(doc["text"].encode("utf-8"))
