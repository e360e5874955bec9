"""What a run is, for `--resume`: its record, and what changed between two records.

An interrupted run may be continued only by the same run: the same rootstock, run config,
catalogue entries and languages, and the same inputs (every work unit with its size and
modification time). The record is written into the staging directory when the run starts; a
resumed run compares its own with it and refuses, naming each change, rather than mixing the
outputs of two different runs in one release.
"""

from __future__ import annotations

import json
from typing import Any

from apache_beam.io.filesystem import FileMetadata

from rootstock.pipeline.jobs.units import unit_identity
from rootstock.pipeline.release.manifest import git_commit, version
from rootstock.pipeline.stages.base import RunContext

_SHOWN = 5  # changes of one kind listed before "and N more"


def unit_label(unit: Any) -> str:
    if isinstance(unit, FileMetadata):
        return unit.path
    if isinstance(unit, tuple):
        return " ".join(str(part) for part in unit)
    return str(unit)


def run_record(context: RunContext, units: dict[str, list]) -> dict[str, Any]:
    """What this run is: code, config (and its hash), the entries it reads, its inputs."""
    config = {k: v for k, v in context.config.canonical().items() if k != "output"}
    return {
        "rootstock": {"version": version(), **git_commit()},
        "config_sha256": context.config.sha256(),
        "config": config,
        "sources": {entry.uid: entry.model_dump(mode="json") for entry in context.entries},
        "languages": context.catalog.languages if context.catalog is not None else None,
        "inputs": {
            uid: {unit_label(unit): _plain(unit_identity(unit)) for unit in source_units}
            for uid, source_units in units.items()
        },
    }


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat or {prefix: {}}
    if isinstance(value, list):
        flat = {}
        for i, item in enumerate(value):
            flat.update(_flatten(item, f"{prefix}[{i}]"))
        return flat or {prefix: []}
    return {prefix: value}


def _changed_fields(what: str, old: Any, new: Any) -> list[str]:
    before, after = _flatten(_plain(old)), _flatten(_plain(new))
    lines = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            lines.append(f"{what}: {key}: removed (was {before[key]!r})")
        elif key not in before:
            lines.append(f"{what}: {key}: added ({after[key]!r})")
        elif before[key] != after[key]:
            lines.append(f"{what}: {key}: {before[key]!r} → {after[key]!r}")
    return _capped(lines)


def _capped(lines: list[str]) -> list[str]:
    return lines if len(lines) <= _SHOWN else [*lines[:_SHOWN], f"and {len(lines) - _SHOWN} more"]


def _changed_inputs(old: dict[str, dict], new: dict[str, dict]) -> list[str]:
    lines = []
    for uid in sorted(old.keys() | new.keys()):
        before, after = old.get(uid, {}), new.get(uid, {})
        gone = sorted(before.keys() - after.keys())
        added = sorted(after.keys() - before.keys())
        modified = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
        for label, names in (("no longer found", gone), ("new", added)):
            if names:
                lines.append(f"input of {uid}: {len(names)} {label}: " + ", ".join(names[:_SHOWN]))
        for name in modified[:_SHOWN]:
            was, now = before[name], after[name]
            detail = ", ".join(
                f"{k} {was.get(k)} → {now.get(k)}" for k in sorted(was.keys() | now.keys()) if was.get(k) != now.get(k)
            )
            lines.append(f"input of {uid}: {name} changed ({detail})")
        if len(modified) > _SHOWN:
            lines.append(f"input of {uid}: and {len(modified) - _SHOWN} more changed")
    return lines


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two run records, one line each (empty: the same run)."""
    lines = []
    if old.get("rootstock") != new.get("rootstock"):
        lines += _changed_fields("rootstock", old.get("rootstock"), new.get("rootstock"))
    lines += _changed_fields("run config", old.get("config"), new.get("config"))
    lines += _changed_fields("catalogue", old.get("sources"), new.get("sources"))
    lines += _changed_fields("languages", old.get("languages"), new.get("languages"))
    lines += _changed_inputs(old.get("inputs") or {}, new.get("inputs") or {})
    return lines
