"""ReadSource / ReadCatalog: catalogue entries in, documents with provenance out, split by file across workers."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystem import FileMetadata
from apache_beam.io.filesystems import FileSystems

from rootstock.catalog.entry import SourceEntry
from rootstock.catalog.registry import use_overlay
from rootstock.errors import ConfigError, InputError
from rootstock.sources.connectors import UNIT_KINDS, options_for
from rootstock.sources.files import as_pattern
from rootstock.sources.filesystems import check_storage
from rootstock.sources.units import Skipped, UnitReader
from rootstock.sources.urlfilter import UrlBlocklist

if TYPE_CHECKING:
    from rootstock.catalog.loader import Catalog

SKIPPED = "skipped"  # tag of the output carrying records that could not become documents


class _ReadRecords(beam.DoFn):
    """Reads one work unit (a file, or a dataset shard) into documents; see sources/units.py."""

    def __init__(
        self,
        entry: SourceEntry,
        paths: list[str],
        catalog_root: str | None,
        report=None,
        blocklist=None,
        languages=None,
        progress=None,
    ):
        self.entry, self.paths, self.catalog_root, self.report = entry, paths, catalog_root, report
        # progress: anything with add(**counts) and flush() (pipeline/beam/progress.py's Tally)
        self.blocklist, self.languages, self.progress = blocklist, languages, progress

    def setup(self):
        if self.languages is not None:
            use_overlay(self.languages)  # the catalogue's own languages.yaml, in this worker too
        self.reader = UnitReader(self.entry, self.paths, self.catalog_root, self.report, self.blocklist)

    def process(self, unit):
        for item in self.reader.read(unit):
            if isinstance(item, Skipped):
                yield beam.pvalue.TaggedOutput(SKIPPED, dict(item))
                continue
            if self.progress is not None:
                self.progress.add(docs=1, docs_bytes=len(item["text"].encode("utf-8")))
            yield item
        if self.progress is not None:
            self.progress.add(input_bytes=unit_size(unit), units=1)

    def finish_bundle(self):
        if self.progress is not None:
            self.progress.flush()


def unit_size(unit) -> int:
    """Bytes of input a finished unit stands for (0 when the unit is not a file)."""
    if isinstance(unit, FileMetadata):
        return unit.size_in_bytes
    if isinstance(unit, tuple) and len(unit) > 1 and isinstance(unit[1], str):
        try:
            return FileSystems.metadata(unit[1]).size_in_bytes
        except Exception:  # a directory or a store that does not say: no byte progress for it
            return 0
    return 0


def plan_source_units(entry: SourceEntry, paths: list[str]) -> list:
    """The work units of a source, on the launcher: its files (FileMetadata, with size and
    modification time) for file kinds, the connector's own units otherwise."""
    kind = entry.connector.kind
    if kind in UNIT_KINDS:
        return list(UNIT_KINDS[kind][0].plan_units(paths, options_for(entry.connector), entry.license.id))
    patterns = [as_pattern(path) for path in paths]
    check_matches(entry.uid, paths, patterns)
    found = FileSystems.match(patterns)
    units = {m.path: m for result in found for m in result.metadata_list}
    return [units[path] for path in sorted(units)]


def check_matches(uid: str, paths: list[str], patterns: list[str]) -> None:
    """Every path matches a file, asked on the launcher before any work: a typo, a missing
    bucket or an unreachable host is one line naming the path, not a worker's traceback."""
    problems = []
    for i, (path, pattern) in enumerate(zip(paths, patterns, strict=True)):
        try:
            check_storage(path, f"connector.paths.{i}")
        except ConfigError as err:
            problems += [(p.file, p.field, p.reason) for p in err.problems]
            continue
        try:
            found = FileSystems.match([pattern], limits=[1])[0].metadata_list
        except Exception as err:  # every store fails its own way (BeamIOError, OSError, aiohttp…)
            cause = next(iter(getattr(err, "exception_details", None) or {}.values()), err)
            problems.append((path, f"connector.paths.{i}", f"cannot be listed ({type(cause).__name__}: {cause})"))
            continue
        if not found:
            problems.append((path, f"connector.paths.{i}", "no file matches this path or pattern"))
    if problems:
        raise InputError(problems=problems, hint=f"source {uid}: check the path and your credentials for it")


class ReadSource(beam.PTransform):
    """Documents of one catalogue entry; `.skipped` carries the records counted as unreadable.

    `report(error)`, if given, is called with an InputError before a worker raises it (the
    pipeline uses it to deliver the error to the launcher intact; see pipeline/beam/errors.py).
    """

    def __init__(
        self,
        entry: SourceEntry,
        paths: list[str],
        catalog_root: str | None = None,
        report=None,
        blocklist_files: list[str] | None = None,
        languages: list[dict] | None = None,
        progress=None,
    ):
        super().__init__(label=f"Read[{entry.uid}]")
        self.entry, self.paths, self.catalog_root, self.report = entry, paths, catalog_root, report
        self.languages, self.progress = languages, progress
        spec = entry.connector.url_filter
        self.blocklist = UrlBlocklist(spec, blocklist_files or []) if spec else None

    def expand(self, pbegin):
        kind = self.entry.connector.kind
        if kind in UNIT_KINDS:
            module = UNIT_KINDS[kind][0]
            units = module.plan_units(self.paths, options_for(self.entry.connector), self.entry.license.id)
            matched = pbegin | "Units" >> beam.Create(units)
        else:
            patterns = [as_pattern(path) for path in self.paths]
            check_matches(self.entry.uid, self.paths, patterns)
            matched = (
                pbegin
                | "Patterns" >> beam.Create(patterns)
                | "Match" >> fileio.MatchAll(fileio.EmptyMatchTreatment.DISALLOW)
            )
        return (
            matched
            | "SpreadFiles" >> beam.Reshuffle()
            | "Parse"
            >> beam.ParDo(
                _ReadRecords(
                    self.entry,
                    self.paths,
                    self.catalog_root,
                    self.report,
                    self.blocklist,
                    self.languages,
                    self.progress,
                )
            ).with_outputs(SKIPPED, main="documents")
        )


class Ingested(NamedTuple):
    documents: beam.PCollection
    skipped: beam.PCollection  # records that could not become documents (on_error: skip)


class ReadCatalog(beam.PTransform):
    """Every selected catalogue entry through its connector, as one PCollection of documents."""

    def __init__(self, catalog: Catalog, entries: list[SourceEntry], report=None, progress=None):
        super().__init__()
        self.catalog, self.entries, self.report, self.progress = catalog, entries, report, progress

    def expand(self, pbegin) -> Ingested:
        documents, skipped = [], []
        for entry in self.entries:
            paths = self.catalog.resolve_paths(entry.uid)
            blocklists = self.catalog.resolve_blocklist_files(entry.uid)
            read = pbegin | ReadSource(
                entry, paths, str(self.catalog.root), self.report, blocklists, self.catalog.languages, self.progress
            )
            documents.append(read.documents)
            skipped.append(read[SKIPPED])
        return Ingested(
            documents | "AllDocuments" >> beam.Flatten(),
            skipped | "AllSkipped" >> beam.Flatten(),
        )


def input_size(catalog: Catalog, entries: list[SourceEntry]) -> int | None:
    """Bytes of every file the entries read, or None when some source is not made of files
    (a saved dataset, a code tree): what read progress is measured against."""
    total = 0
    for entry in entries:
        if entry.connector.kind in ("hf_dataset", "code_tree"):
            return None
        paths = catalog.resolve_paths(entry.uid)
        try:
            found = FileSystems.match([as_pattern(p) for p in paths])
        except Exception:  # a store that cannot list: the run says so itself, progress does without
            return None
        total += sum(m.size_in_bytes for result in found for m in result.metadata_list)
    return total
