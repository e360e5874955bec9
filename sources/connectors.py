"""The connector kinds a catalogue entry can name, and their option schemas."""

from __future__ import annotations

from types import ModuleType

from pydantic import BaseModel, ValidationError

from rootstock.catalog.entry import ConnectorSpec
from rootstock.sources import cc_index, code_tree, delimited, hf_dataset, jsonl, parquet, warc, wet, wikipedia

# kind → (module with iter_records/iter_unit, options model)
FILE_KINDS: dict[str, tuple[ModuleType, type[BaseModel]]] = {
    "jsonl": (jsonl, jsonl.JsonlOptions),
    "csv": (delimited, delimited.CsvOptions),
    "parquet": (parquet, parquet.ParquetOptions),
}
# Kinds read as launcher-planned work units (plan_units / iter_unit / unit_name / file_mtime).
UNIT_KINDS: dict[str, tuple[ModuleType, type[BaseModel]]] = {
    "hf_dataset": (hf_dataset, hf_dataset.HfDatasetOptions),
    "code_tree": (code_tree, code_tree.CodeTreeOptions),
    "warc": (warc, warc.WarcOptions),
    "wet": (wet, wet.WetOptions),
    "cc_index": (cc_index, cc_index.CcIndexOptions),
    "wikipedia": (wikipedia, wikipedia.WikipediaOptions),
}
# Options that name files: relative ones are resolved against the entry file, like `paths`.
PATH_OPTIONS: dict[str, tuple[str, ...]] = {"cc_index": ("seed_files",), "wikipedia": ("index",)}
KINDS = {**FILE_KINDS, **UNIT_KINDS}


def options_for(spec: ConnectorSpec) -> BaseModel:
    return KINDS[spec.kind][1].model_validate(spec.options)


def check_connector(spec: ConnectorSpec) -> list[tuple[str, str]]:
    """(field, reason) for every problem with the connector's kind-specific settings."""
    problems = []
    try:
        options = options_for(spec)
    except ValidationError as err:
        for e in err.errors():
            problems.append(("options." + ".".join(str(p) for p in e["loc"]), e["msg"]))
        return problems
    needs_paths = spec.kind in FILE_KINDS or getattr(options, "name", None) is None
    if needs_paths and not spec.paths:
        problems.append(("paths", "at least one path or glob is required"))
    return problems
