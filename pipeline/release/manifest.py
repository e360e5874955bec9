"""manifest.json: what a release contains, how it was made and why each document is missing."""

from __future__ import annotations

import datetime as dt
import functools
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator

from rootstock.errors import ManifestError
from rootstock.pipeline.release.counts import summarize, top_domains

if TYPE_CHECKING:
    from rootstock.catalog.loader import Catalog
    from rootstock.pipeline.config import RunConfig

MANIFEST_VERSION = 2
SCHEMA_FILE = Path(__file__).resolve().parent / "schemas" / f"manifest-v{MANIFEST_VERSION}.schema.json"


@functools.cache
def _validator():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_problems(manifest: dict[str, Any]) -> list[str]:
    """Every place MANIFEST breaks the versioned JSON Schema, as `path: message`."""
    errors = sorted(_validator().iter_errors(manifest), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message[:300]}" for e in errors]


def validate_manifest(manifest: dict[str, Any]) -> None:
    problems = schema_problems(manifest)
    if problems:
        raise ManifestError(f"manifest does not match {SCHEMA_FILE.name}:\n  " + "\n  ".join(problems[:20]))


def model_files(stage_reports: dict[str, dict[str, Any]] | None) -> list[dict[str, str]]:
    """Every model file a stage reported (anything with a path and a sha256), for the tools record."""
    found = []

    def walk(node, stage, where):
        if isinstance(node, dict):
            if isinstance(node.get("path"), str) and isinstance(node.get("sha256"), str):
                found.append({"stage": stage, "role": where, "path": node["path"], "sha256": node["sha256"]})
                return
            for key, value in node.items():
                walk(value, stage, f"{where}.{key}" if where else key)

    for stage, report in (stage_reports or {}).items():
        walk(report, stage, "")
    return found


def version() -> str:
    try:
        return metadata.version("rootstock")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


@functools.cache
def git_commit() -> dict[str, Any]:
    """The commit of the rootstock checkout that ran, and whether it had local changes."""
    repo = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                check=True,
                timeout=10,
            ).stdout.strip()
        )
        return {"commit": commit, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def tool_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("apache-beam", "pyarrow", "datasets"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions


def build_manifest(
    *,
    config: RunConfig,
    sources: dict[str, dict[str, Any]],
    shards: list[dict[str, Any]],
    counts: list[dict[str, Any]],
    runner: dict[str, Any],
    schema: list[dict[str, str]],
    stage_reports: dict[str, dict[str, Any]] | None = None,
    processing: dict[str, list[dict[str, Any]]] | None = None,
    parent: dict[str, Any] | None = None,
    created: dt.datetime | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """SOURCES are catalogue snapshots by uid; PROCESSING the per-source step records."""
    created = created or dt.datetime.now(dt.UTC)
    shards = sorted((_shard_record(s) for s in shards), key=lambda s: s["path"])
    processing = processing or {}
    return {
        "manifest_version": MANIFEST_VERSION,
        "kind": "release",
        "release": config.release,
        "created": created.isoformat(timespec="seconds"),
        "parent": parent,
        "rootstock": {"version": version(), **git_commit()},
        "tools": tool_versions(),
        "models": model_files(stage_reports),
        "runner": runner,
        "config": config.canonical(),
        "resolved_paths": {"catalog": config.catalog, "output": config.output},
        "config_sha256": config.sha256(),
        "schema": schema,
        "sources": {
            uid: {"catalog": snapshot, "processing": processing.get(uid, [])}
            for uid, snapshot in sorted(sources.items())
        },
        "stages": config.stages.records(stage_reports or {}),
        "keep_rejected": {"mode": config.keep_rejected, "sample_size": config.rejected_sample_size},
        "shards": [s for s in shards if s["path"].startswith("data/")],
        "rejected_shards": [s for s in shards if s["path"].startswith("rejected/")],
        # Files stages keep for later runs (e.g. dedup/signatures for incremental dedup).
        "artifacts": [s for s in shards if not s["path"].startswith(("data/", "rejected/"))],
        **summarize(counts),
        "top_domains": top_domains(counts),
        **(extra or {}),
    }


def _shard_record(shard: dict[str, Any]) -> dict[str, Any]:
    """Shards are written per (lang, source); the lists keep one shape for shards that mix them."""
    record = dict(shard)
    if "lang" in record:
        record.setdefault("languages", [record["lang"]])
    if "source" in record:
        record.setdefault("sources", [record["source"]])
    return record


def source_snapshots(catalog: Catalog, uids: list[str]) -> dict[str, dict[str, Any]]:
    """What a release records of each source's catalogue entry (governance, not connector)."""
    return {uid: {**catalog[uid].governance(), "catalog_file": catalog.relative(uid)} for uid in uids}


def dumps(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
