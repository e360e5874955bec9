"""Lookup tables a step reads whole: a dict side input, or batches of files where spilling is on.

The local runner hands a dict side input (AsDict) to each worker as one state response holding
every entry, which the worker keeps while it decodes the entries into the dict: for a table of
MinHash signatures, two or three copies of it at once, per worker. Spilled, the entries are
written in batches of BATCH_ENTRIES, the side input is the list of those files, and each worker
builds the dict from them itself, one batch at a time. On the local runners, where a worker
gets one bundle per stage, the dict goes when the bundle ends, so no later step carries it; with
`--spill=always` on a distributed runner, whose bundles are many and small, a worker keeps it
across bundles. Where spilling is off it stays an AsDict, which the runner's workers fetch and
cache their own way.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import apache_beam as beam

from rootstock.pipeline.beam.spill import SpillDocs, SpillFile, local_runner, read_batch, spill_dir, spill_enabled

BATCH_ENTRIES = 2000


class TableFile(NamedTuple):
    """A batch of a Lookup's entries; KEEP: its table outlives a bundle (a distributed runner)."""

    file: SpillFile
    keep: bool


class Lookup:
    """(key, value) PAIRS as the side input `side` of a LookupFn (a dict, or its spill files)."""

    def __init__(self, pairs: beam.PCollection, scratch: str, name: str):
        if spill_enabled(pairs.pipeline):
            keep = not local_runner(pairs.pipeline)
            refs = (
                pairs
                | f"Spill[{name}]" >> SpillDocs(spill_dir(scratch, name), BATCH_ENTRIES, weigh_text=False)
                | f"Tables[{name}]" >> beam.Map(TableFile, keep)
            )
            self.side = beam.pvalue.AsList(refs)
        else:
            self.side = beam.pvalue.AsDict(pairs)


class LookupFn(beam.DoFn):
    """A DoFn reading Lookup side inputs through `table(side)`: the dict, built from the spill
    files once (per bundle on a local runner, per worker on a distributed one)."""

    def setup(self):
        self._tables: dict[frozenset[str], tuple[dict, bool]] = {}  # the files → (table, keep)
        self._last: tuple[Any, dict] | None = None  # this bundle's side input object and table

    def table(self, side) -> dict:
        if isinstance(side, dict):
            return side
        if self._last is not None and self._last[0] is side:
            return self._last[1]
        key = frozenset(ref.file.path for ref in side)
        entry = self._tables.get(key)
        if entry is None:
            table: dict = {}
            for ref in side:
                table.update(read_batch(ref.file))
            entry = self._tables[key] = (table, bool(side) and side[0].keep)
        self._last = (side, entry[0])
        return entry[0]

    def finish_bundle(self):
        self._last = None
        self._tables = {key: entry for key, entry in self._tables.items() if entry[1]}


class WithLookup(LookupFn):
    """FN(element, table) → the outputs of ELEMENT, TABLE the dict behind a Lookup's side input."""

    def __init__(self, fn):
        self.fn = fn

    def process(self, element, side):
        yield from self.fn(element, self.table(side))
