"""Ingest: every selected catalogue entry through its connector, as one PCollection."""

from __future__ import annotations

from typing import NamedTuple

import apache_beam as beam

from catalog.loader import Catalog
from catalog.schema import SourceEntry
from sources.read import SKIPPED, ReadSource


class Ingested(NamedTuple):
    documents: beam.PCollection
    skipped: beam.PCollection  # records that could not become documents (on_error: skip)


class Ingest(beam.PTransform):
    def __init__(self, catalog: Catalog, entries: list[SourceEntry]):
        super().__init__()
        self.catalog, self.entries = catalog, entries

    def expand(self, pbegin) -> Ingested:
        documents, skipped = [], []
        for entry in self.entries:
            read = pbegin | ReadSource(entry, self.catalog.resolve_paths(entry.uid), str(self.catalog.root))
            documents.append(read.documents)
            skipped.append(read[SKIPPED])
        return Ingested(
            documents | "AllDocuments" >> beam.Flatten(),
            skipped | "AllSkipped" >> beam.Flatten(),
        )
