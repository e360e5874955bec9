"""Reading one source's files the way the pipeline's workers do, without Beam: for connector tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apache_beam.io.filesystem import FileMetadata

from rootstock.catalog.entry import SourceEntry
from rootstock.sources.connectors import UNIT_KINDS, options_for
from rootstock.sources.units import Skipped, UnitReader
from tests.conftest import entry


def read_source(path: Path, kind: str, on_error: str = "skip", **connector: Any) -> tuple[list[dict], list[dict]]:
    """(documents, skipped) of PATH through UnitReader, the reader the pipeline's DoFn wraps.

    CONNECTOR adds catalogue connector fields (id_field, options…). Unit kinds plan their units
    as the launcher would; a file kind reads PATH as one file.
    """
    languages = connector.pop("languages", ["en"])
    spec = {"kind": kind, "paths": [str(path)], "on_error": on_error, **connector}
    source = SourceEntry.model_validate(entry("src", spec, languages=languages))
    reader = UnitReader(source, [str(path)], None)
    if kind in UNIT_KINDS:
        units = UNIT_KINDS[kind][0].plan_units([str(path)], options_for(source.connector), "CC0-1.0")
    else:
        units = [FileMetadata(str(path), path.stat().st_size, path.stat().st_mtime)]
    docs, skipped = [], []
    for unit in units:
        for item in reader.read(unit):
            (skipped if isinstance(item, Skipped) else docs).append(item)
    return docs, skipped
