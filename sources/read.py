"""ReadSource / ReadCatalog: catalogue entries in, documents with provenance out, split by file across workers."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, NamedTuple

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystem import FileMetadata

from rootstock.catalog.entry import SourceEntry
from rootstock.sources.connectors import FILE_KINDS, UNIT_KINDS, options_for
from rootstock.sources.files import display_path, open_input
from rootstock.sources.records import DocumentBuilder, RecordError, input_error

if TYPE_CHECKING:
    from rootstock.catalog.loader import Catalog

SKIPPED = "skipped"  # tag of the output carrying records that could not become documents


def _mtime(seconds: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC) if seconds else None


class _ReadRecords(beam.DoFn):
    """Reads one work unit (a file, or a dataset shard) into documents."""

    def __init__(self, entry: SourceEntry, paths: list[str], catalog_root: str | None, report=None):
        self.entry = entry
        self.paths = paths
        self.catalog_root = catalog_root
        self.report = report

    def setup(self):
        self.builder = DocumentBuilder(self.entry)
        self.options = options_for(self.entry.connector)
        self.kind = self.entry.connector.kind

    def _records(self, unit):
        if self.kind in UNIT_KINDS:
            module = UNIT_KINDS[self.kind][0]
            name = module.unit_name(unit, self.options)
            yield name, _mtime(module.file_mtime(unit)), module.iter_unit(unit, self.paths, self.options)
            return
        assert isinstance(unit, FileMetadata)
        module = FILE_KINDS[self.kind][0]
        with open_input(unit.path, decompress=self.kind != "parquet") as stream:
            yield unit.path, _mtime(unit.last_updated_in_seconds), module.iter_records(stream, self.options)

    def process(self, unit):
        for path, mtime, records in self._records(unit):
            yield from self._documents(path, mtime, records)

    def _documents(self, path, mtime, records):
        shown = display_path(path, self.catalog_root)
        fail = self.entry.connector.on_error == "fail"
        for row, where, record in records:
            doc = (
                record
                if isinstance(record, RecordError)
                else self.builder.build(record, where=where, input_file=shown, row=row, file_mtime=mtime)
            )
            if isinstance(doc, RecordError):
                if fail:
                    error = input_error(self.entry.uid, shown, doc)
                    if self.report is not None:
                        self.report(error)
                    raise error
                yield beam.pvalue.TaggedOutput(
                    SKIPPED,
                    {
                        "source": self.entry.uid,
                        "lang": self.builder.default_lang,
                        "reason": doc.code,
                        "input_file": shown,
                        "where": doc.where,
                    },
                )
                continue
            yield doc


class ReadSource(beam.PTransform):
    """Documents of one catalogue entry; `.skipped` carries the records counted as unreadable.

    `report(error)`, if given, is called with an InputError before a worker raises it (the
    pipeline uses it to deliver the error to the launcher intact; see pipeline/beam/errors.py).
    """

    def __init__(self, entry: SourceEntry, paths: list[str], catalog_root: str | None = None, report=None):
        super().__init__(label=f"Read[{entry.uid}]")
        self.entry, self.paths, self.catalog_root, self.report = entry, paths, catalog_root, report

    def expand(self, pbegin):
        kind = self.entry.connector.kind
        if kind in UNIT_KINDS:
            module = UNIT_KINDS[kind][0]
            units = module.plan_units(self.paths, options_for(self.entry.connector), self.entry.license.id)
            matched = pbegin | "Units" >> beam.Create(units)
        else:
            matched = (
                pbegin
                | "Patterns" >> beam.Create(self.paths)
                | "Match" >> fileio.MatchAll(fileio.EmptyMatchTreatment.DISALLOW)
            )
        return (
            matched
            | "SpreadFiles" >> beam.Reshuffle()
            | "Parse"
            >> beam.ParDo(_ReadRecords(self.entry, self.paths, self.catalog_root, self.report)).with_outputs(
                SKIPPED, main="documents"
            )
        )


class Ingested(NamedTuple):
    documents: beam.PCollection
    skipped: beam.PCollection  # records that could not become documents (on_error: skip)


class ReadCatalog(beam.PTransform):
    """Every selected catalogue entry through its connector, as one PCollection of documents."""

    def __init__(self, catalog: Catalog, entries: list[SourceEntry], report=None):
        super().__init__()
        self.catalog, self.entries, self.report = catalog, entries, report

    def expand(self, pbegin) -> Ingested:
        documents, skipped = [], []
        for entry in self.entries:
            paths = self.catalog.resolve_paths(entry.uid)
            read = pbegin | ReadSource(entry, paths, str(self.catalog.root), self.report)
            documents.append(read.documents)
            skipped.append(read[SKIPPED])
        return Ingested(
            documents | "AllDocuments" >> beam.Flatten(),
            skipped | "AllSkipped" >> beam.Flatten(),
        )
