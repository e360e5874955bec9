"""Which input records and files could not be read, by name: the manifest's `input_errors`.

The counts say how many records each reason cost; this list says where, so "why is that
record missing?" has an answer under `on_error: skip` too. Every damaged file is listed (up to
FILE_LIMIT per source and reason); unreadable records are sampled, RECORD_LIMIT per source and
reason, the first ones in file order, the same on every runner.
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam

from rootstock.sources.units import FILE_REASONS

INPUT_ERRORS = "input_errors.json"
FILE_LIMIT = 1000
RECORD_LIMIT = 20
FIELDS = ("source", "input_file", "where", "row", "reason", "records", "message")


def input_error_order(error: dict[str, Any]):
    return (error["source"], error["reason"], error["input_file"], error.get("row") or 0)


def _keyed(error: dict[str, Any]):
    return (error["source"], error["reason"]), error


def _limited(kv):
    (_, reason), errors = kv
    limit = FILE_LIMIT if reason in FILE_REASONS else RECORD_LIMIT
    return [{k: e.get(k) for k in FIELDS} for e in sorted(errors, key=input_error_order)[:limit]]


class SampleInputErrors(beam.PTransform):
    """Skipped records → the first few per (source, reason), in file order; records skipped on
    purpose (redirects, non-HTML payloads) are counted, not listed."""

    def expand(self, skipped):
        return (
            skipped
            | "Errors" >> beam.Filter(lambda s: not s.get("expected"))
            | "Key" >> beam.Map(_keyed)
            | "First" >> beam.combiners.Top.SmallestPerKey(FILE_LIMIT, key=input_error_order)
            | "Limit" >> beam.FlatMap(_limited)
        )
