"""The main job: catalogue → connectors → stages → sharded Parquet → manifest, published atomically."""

from __future__ import annotations

import functools
import posixpath
from typing import Any

import apache_beam as beam
import pyarrow as pa

from rootstock.catalog.loader import load_catalog
from rootstock.pipeline.beam.errors import errors_dir, record
from rootstock.pipeline.beam.gather import read_json_list, write_json_list
from rootstock.pipeline.beam.ids import UniqueIds, read_notes
from rootstock.pipeline.beam.progress import READ, CountProgress, Tally, progress_dir
from rootstock.pipeline.config import RunConfig
from rootstock.pipeline.jobs.execute import execute
from rootstock.pipeline.release.columns import output_schema
from rootstock.pipeline.release.counts import processing_records
from rootstock.pipeline.release.input_errors import INPUT_ERRORS, SampleInputErrors, input_error_order
from rootstock.pipeline.release.manifest import build_manifest, source_snapshots
from rootstock.pipeline.release.write import work_dir, write_release
from rootstock.pipeline.stages.base import RunContext, Stage
from rootstock.pipeline.stages.registry import build_stages
from rootstock.sources.read import ReadCatalog, input_size


def build(p: beam.Pipeline, context: RunContext, stages: list[Stage], staging: str) -> None:
    context.staging = staging
    report = functools.partial(record, errors_dir(context.work_dir))
    progress = progress_dir(context.work_dir)
    ingested = p | "Ingest" >> ReadCatalog(context.catalog, context.entries, report, Tally(progress, READ))
    read = documents = ingested.documents | "UniqueIds" >> UniqueIds()
    dropped, artifacts, stage_outputs = [], [], []
    for stage in stages:
        output = documents | stage
        tally = Tally(progress, stage.name)
        documents = output.kept | f"Progress[{stage.name}]" >> CountProgress(tally, "kept")
        stage_outputs.append((stage.name, documents))
        rejected = output.rejected if isinstance(output.rejected, list) else [output.rejected]
        dropped.extend(
            part | f"Progress[{stage.name}/{i}]" >> CountProgress(tally, "dropped") for i, part in enumerate(rejected)
        )
        if output.artifacts is not None:
            artifacts.append(output.artifacts)
    # A stage may guard the rejected set too (pii: no original value is stored anywhere). Only
    # what is written needs it: with `keep_rejected: sample` that is a few hundred documents.
    guards = [(stage.name, guard) for stage in stages if (guard := stage.guard_rejected()) is not None]

    def notes(doc):
        return [note for stage in stages for note in stage.notes(doc)]

    write_json_list(
        ingested.skipped | "InputErrors" >> SampleInputErrors(),
        posixpath.join(work_dir(staging), INPUT_ERRORS),
        "input_errors",
    )
    write_release(
        p,
        staging,
        context.config,
        stage_schema(stages),
        read=read,
        kept=documents,
        dropped=dropped,
        skipped=ingested.skipped,
        notes=notes,
        read_notes=read_notes,
        artifacts=artifacts,
        stage_outputs=stage_outputs,
        rejected_guards=guards,
    )


def stage_schema(stages: list[Stage]) -> pa.Schema:
    return output_schema([column for stage in stages for column in stage.columns])


def run(
    config: RunConfig, beam_args: list[str] | None = None, *, overwrite: bool = False, quiet: bool = False
) -> dict[str, Any]:
    """Run CONFIG; return the manifest of the published release."""
    catalog = load_catalog(config.catalog)
    context = RunContext(config, catalog, catalog.select(config.sources))
    stages = build_stages(config, context)  # refuses a bad stage set before any work
    reports = {stage.name: stage.report() for stage in stages}
    assert config.output, "load_config fills `output`"

    def make_manifest(shards, counts, runner):
        errors = read_json_list(posixpath.join(work_dir(context.staging), INPUT_ERRORS))
        return build_manifest(
            config=config,
            sources=source_snapshots(catalog, [e.uid for e in context.entries]),
            shards=shards,
            counts=counts,
            runner=runner,
            schema=[{"name": f.name, "type": str(f.type)} for f in stage_schema(stages)],
            stage_reports=reports,
            processing=processing_records(counts, [(stage.name, stage.parameters) for stage in stages]),
            extra={"input_errors": sorted(errors, key=input_error_order)},
        )

    watch = (([stage.name for stage in stages], input_size(catalog, context.entries)), quiet)
    return execute(
        config.output,
        beam_args,
        overwrite,
        lambda p, staging: build(p, context, stages, staging),
        make_manifest,
        progress=watch,
    )
