"""Reading one work unit (a file, or a dataset shard) into documents, without Beam.

Every record of the unit ends as a document or as a `Skipped` record with its reason; a
damaged file (truncated, or not what its name says) ends the unit with one more `Skipped`
that says after which record it happened and how many records it took, when the file says.
Under `on_error: fail` the first problem raises an InputError naming the file and the place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from apache_beam.io.filesystem import FileMetadata

from rootstock.catalog.entry import SourceEntry
from rootstock.errors import InputError
from rootstock.sources.connectors import FILE_KINDS, UNIT_KINDS, options_for
from rootstock.sources.files import DamagedInput, display_path, open_input
from rootstock.sources.records import DocumentBuilder, RecordError, input_error
from rootstock.sources.urlfilter import BLOCKED, UrlBlocklist

UNREADABLE = "unreadable_file"  # the file could not be opened at all
# Reasons that stand for (the rest of) a whole file rather than one record.
FILE_REASONS = frozenset({UNREADABLE, "truncated_file", "corrupt_file"})


class Skipped(dict):
    """A record (or the rest of a file) that could not become a document, as counted:
    source, lang, reason, input_file, where, row, records (None: unknown, at least one), message,
    expected (a record deliberately not taken, not damage)."""


def _mtime(seconds: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC) if seconds else None


class UnitReader:
    """Reads the work units of one catalogue entry; `report(error)` is called before an
    InputError is raised (the pipeline uses it to deliver the error intact)."""

    def __init__(
        self,
        entry: SourceEntry,
        paths: list[str],
        catalog_root: str | None,
        report: Callable | None = None,
        blocklist: UrlBlocklist | None = None,
    ):
        self.entry, self.paths, self.catalog_root, self.report = entry, paths, catalog_root, report
        spec = entry.connector.url_filter
        self.blocklist = blocklist or (UrlBlocklist(spec, spec.block_domain_files) if spec else None)
        self.builder = DocumentBuilder(entry)
        self.options = options_for(entry.connector)
        self.kind = entry.connector.kind
        self.fail = entry.connector.on_error == "fail"

    def read(self, unit: Any) -> Iterator[dict[str, Any]]:
        """Documents and Skipped records of UNIT, in the unit's order."""
        if self.kind in UNIT_KINDS:
            module = UNIT_KINDS[self.kind][0]
            name = module.unit_name(unit, self.options)
            yield from self._documents(
                name, _mtime(module.file_mtime(unit)), lambda: module.iter_unit(unit, self.paths, self.options)
            )
            return
        assert isinstance(unit, FileMetadata)
        module = FILE_KINDS[self.kind][0]

        def records():
            try:
                stream = open_input(unit.path, decompress=self.kind != "parquet")
            except OSError as err:
                raise DamagedInput(UNREADABLE, f"cannot be opened ({err})") from None
            with stream:
                yield from module.iter_records(stream, self.options)

        yield from self._documents(unit.path, _mtime(unit.last_updated_in_seconds), records)

    def _documents(self, path: str, mtime, records) -> Iterator[dict[str, Any]]:
        shown = display_path(path, self.catalog_root)
        last, next_row = None, 0
        try:
            for row, where, record in records():
                last, next_row = where, row + 1
                doc = (
                    record
                    if isinstance(record, RecordError)
                    else self.builder.build(record, where=where, input_file=shown, row=row, file_mtime=mtime)
                )
                if not isinstance(doc, RecordError) and self.blocklist is not None:
                    rule = self.blocklist.blocked(doc["url"])
                    if rule is not None:
                        doc = RecordError(where, BLOCKED, f"{doc['url']}: {rule}", expected=True)
                if isinstance(doc, RecordError):
                    yield self._skip(shown, row, doc)
                else:
                    yield doc
        except DamagedInput as err:
            where = f"after {last}" if last else "at the start"
            yield self._skip(shown, next_row, RecordError(where, err.code, str(err), records=None))

    def _skip(self, shown: str, row: int, error: RecordError) -> Skipped:
        if self.fail and not error.expected:
            problem = input_error(self.entry.uid, shown, error)
            if self.report is not None:
                self.report(problem)
            raise problem
        return Skipped(
            source=self.entry.uid,
            lang=self.builder.default_lang,
            reason=error.code,
            input_file=shown,
            where=error.where,
            row=row,
            records=error.records,
            message=error.reason,
            expected=error.expected,
        )


__all__ = ["InputError", "Skipped", "UnitReader"]
