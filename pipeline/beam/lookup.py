"""Lookup tables a step reads whole: a dict side input, or batches of files where spilling is on.

The local runner hands a dict side input (AsDict) to each worker as one state response holding
every entry, which the worker keeps while it decodes the entries into the dict: for a table of
MinHash signatures, two or three copies of it at once, per worker. Spilled, the entries are
written in batches of BATCH_ENTRIES, the side input is the list of those files, and each worker
builds the dict from them itself, one batch at a time, once per bundle. On the distributed
runners (spilling off) it stays an AsDict, which their workers fetch and cache their own way.
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam

from rootstock.pipeline.beam.spill import read_batch, spill_dir, spill_enabled, write_batch

BATCH_ENTRIES = 2000


class Lookup:
    """(key, value) PAIRS as the side input `side` of a LookupFn (a dict, or its spill files)."""

    def __init__(self, pairs: beam.PCollection, scratch: str, name: str):
        if spill_enabled(pairs.pipeline):
            batches = beam.BatchElements(
                min_batch_size=BATCH_ENTRIES, max_batch_size=BATCH_ENTRIES, record_metrics=False
            )
            refs = (
                pairs
                | f"Batch[{name}]" >> batches
                | f"Spill[{name}]" >> beam.Map(write_batch, spill_dir(scratch, name))
            )
            self.side = beam.pvalue.AsList(refs)
        else:
            self.side = beam.pvalue.AsDict(pairs)


class LookupFn(beam.DoFn):
    """A DoFn reading Lookup side inputs through `table(side)`: the dict, built once per bundle
    from spill files and let go when the bundle ends, so no later step carries it."""

    def start_bundle(self):
        self._tables: dict[int, tuple[Any, dict]] = {}

    def table(self, side) -> dict:
        if isinstance(side, dict):
            return side
        built = self._tables.get(id(side))
        if built is None or built[0] is not side:
            table: dict = {}
            for ref in side:
                table.update(read_batch(ref))
            built = self._tables[id(side)] = (side, table)
        return built[1]

    def finish_bundle(self):
        self._tables = {}


class WithLookup(LookupFn):
    """FN(element, table) → the outputs of ELEMENT, TABLE the dict behind a Lookup's side input."""

    def __init__(self, fn):
        self.fn = fn

    def process(self, element, side):
        yield from self.fn(element, self.table(side))
