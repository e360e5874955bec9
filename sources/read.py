"""A source's work units, planned on the launcher: what workers read (sources/units.py) and
what a resumed run compares with the interrupted one (pipeline/jobs/units.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apache_beam.io.filesystem import FileMetadata
from apache_beam.io.filesystems import FileSystems

from rootstock.catalog.entry import SourceEntry
from rootstock.errors import ConfigError, InputError
from rootstock.sources.connectors import UNIT_KINDS, options_for
from rootstock.sources.files import as_pattern
from rootstock.sources.filesystems import check_storage

if TYPE_CHECKING:
    from rootstock.catalog.loader import Catalog


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
