"""`rootstock refilter RELEASE THRESHOLDS.yaml --output NEW`: new quality thresholds, no recompute.

Every document of a release (kept or in its rejected set) carries its quality metrics, so
moving a threshold is a cheap pass over Parquet: no language ID, no metrics, no re-reading of
sources. Documents another stage rejected stay rejected. Documents the quality stage dropped
can come back only if the parent kept them (`keep_rejected: all`); otherwise the manifest
says how many could not be reconsidered.
"""

from __future__ import annotations

import copy
import datetime as dt
import posixpath
from pathlib import Path
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from pydantic import ValidationError

from rootstock.catalog.registry import load_registry
from rootstock.errors import ConfigError, ReleaseError
from rootstock.filters import code as code_filters
from rootstock.filters import quality as q
from rootstock.pipeline.beam.parquet import ReadParquetRows
from rootstock.pipeline.config import RunConfig
from rootstock.pipeline.jobs.execute import execute
from rootstock.pipeline.release.columns import REJECTED_COLUMNS
from rootstock.pipeline.release.counts import processing_records
from rootstock.pipeline.release.manifest import build_manifest
from rootstock.pipeline.release.release import Release
from rootstock.pipeline.release.write import write_release
from rootstock.pipeline.stages.base import REJECTED
from rootstock.pipeline.stages.base import rejected as mark_rejected
from rootstock.pipeline.stages.quality import QualitySettings, ThresholdResolver, lid_mode
from rootstock.strict import read_yaml, validation_problems

REFILTER_KEYS = ("thresholds", "sources", "code", "code_sources")


def _deep_merge(base: dict, update: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in update.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_thresholds(path: str | Path) -> dict[str, Any]:
    data = read_yaml(Path(path), "thresholds file")
    unknown = sorted(set(data) - set(REFILTER_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {unknown}; a thresholds file may set {list(REFILTER_KEYS)}")
    return data


class _Reassess(beam.DoFn):
    def __init__(self, quality: QualitySettings, config: RunConfig):
        self.quality, self.config = quality, config

    def setup(self):
        self.resolver = ThresholdResolver(self.quality, self.config.stages.langid)
        self.programming = {lang.code for lang in load_registry().programming()}

    def process(self, doc: dict[str, Any]):
        stage = doc.pop("drop_stage", None)
        reason = doc.pop("drop_reason", None)
        if stage not in (None, "quality"):
            yield beam.pvalue.TaggedOutput(REJECTED, mark_rejected(doc, stage, reason))
            return
        if doc["lang"] in self.programming:
            failure = code_filters.code_first_failure(
                doc["code_metrics"], doc["license"], self.resolver.code(doc["source"])
            )
        else:
            th = self.resolver.natural(doc["source"], doc["lang"], lid_mode(doc))
            failure = q.first_failure(doc["quality"], th)
        if failure:
            yield beam.pvalue.TaggedOutput(REJECTED, mark_rejected(doc, "quality", failure))
        else:
            yield doc


def _processing(parent: dict[str, Any], counts: list[dict[str, Any]], changes: dict[str, Any]):
    """The parent's record per source, then this pass (its input includes the parent's kept rejects)."""
    ours = processing_records(counts, [("refilter", lambda source: {"thresholds": changes})])
    return {
        uid: [*source["processing"], *[step for step in ours.get(uid, []) if step["step"] == "refilter"]]
        for uid, source in parent["sources"].items()
    }


def refilter(
    release: str,
    thresholds_file: str,
    output: str,
    beam_args: list[str] | None = None,
    *,
    release_id: str | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    try:
        parent_release = Release.open(release, kind="release")
    except ReleaseError as err:
        raise ConfigError(str(err)) from None
    parent = parent_release.manifest
    config_data = parent["config"]
    if not config_data["stages"]["quality"]["enabled"]:
        raise ConfigError(f"{release}: its quality stage was off, so there are no metrics to re-apply")
    changes = load_thresholds(thresholds_file)
    config_data = _deep_merge(config_data, {"stages": {"quality": changes}})
    config_data["release"] = release_id or f"{parent['release']}-refiltered"
    config_data["output"] = output
    try:
        config = RunConfig.model_validate(config_data)
    except ValidationError as err:
        raise ConfigError("invalid thresholds", problems=validation_problems(err, str(thresholds_file))) from None
    resolver = ThresholdResolver(config.stages.quality, config.stages.langid)
    registry = load_registry()
    try:
        resolver.check([lang.code for lang in registry.natural()], sorted(parent["sources"]))
    except ConfigError as err:  # the fields are the thresholds file's, under stages.quality
        problems = [(str(thresholds_file), p.field.removeprefix("stages.quality."), p.reason) for p in err.problems]
        raise ConfigError("invalid thresholds", problems=problems) from None

    files = [posixpath.join(release, s["path"]) for s in parent["shards"] + parent.get("rejected_shards", [])]
    schema_source = parent["shards"] or parent.get("rejected_shards", [])
    if not schema_source:
        raise ConfigError(f"{release}: the release has no shards to refilter")
    with FileSystems.open(posixpath.join(release, schema_source[0]["path"])) as handle:
        schema = pq.read_schema(handle)
    schema = pa.schema([f for f in schema if f.name not in {c.name for c in REJECTED_COLUMNS}])

    parent_quality_drops = parent["totals"]["dropped_by_reason"]
    quality_dropped = sum(n for key, n in parent_quality_drops.items() if key.startswith("quality:"))
    kept_quality_rejects = sum(
        s["rows"] for s in parent.get("rejected_shards", [])
    )  # upper bound on what can be reconsidered; exact figure comes from the counts below

    def build_graph(p, staging):
        docs = p | "Shards" >> beam.Create(files) | "ReadRows" >> ReadParquetRows()
        results = docs | "Reassess" >> beam.ParDo(_Reassess(config.stages.quality, config)).with_outputs(
            REJECTED, main="kept"
        )
        write_release(
            p,
            staging,
            config,
            schema,
            read=docs,
            kept=results.kept,
            dropped=[results[REJECTED]],
            skipped=p | "NoSkips" >> beam.Create([]),
            stage_outputs=[("refilter", results.kept)],
        )

    def make_manifest(shards, counts, runner):
        return build_manifest(
            config=config,
            sources={uid: source["catalog"] for uid, source in parent["sources"].items()},
            processing=_processing(parent, counts, changes),
            parent=parent_release.parent_record(),
            shards=shards,
            counts=counts,
            runner=runner,
            schema=[{"name": f.name, "type": str(f.type)} for f in schema],
            stage_reports={s["name"]: s["report"] for s in parent["stages"] if "report" in s},
            extra={
                "refilter": {
                    "thresholds": changes,
                    "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    # Quality drops of the parent that were not in its rejected set cannot come back.
                    "parent_quality_dropped": quality_dropped,
                    "parent_rejected_rows_read": kept_quality_rejects,
                    "complete": parent.get("keep_rejected", {}).get("mode") == "all",
                },
            },
        )

    return execute(output, beam_args, overwrite, build_graph, make_manifest)
