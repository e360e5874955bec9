"""The main job: catalogue → connectors → stages → sharded Parquet → manifest, published atomically."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import posixpath
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems

from rootstock.catalog.loader import load_catalog
from rootstock.pipeline.beam.errors import errors_dir, record
from rootstock.pipeline.beam.gather import read_json_list, write_json_list
from rootstock.pipeline.beam.ids import SharedIds, read_notes, rename_shared
from rootstock.pipeline.beam.progress import READ, CountProgress, Tally, progress_dir
from rootstock.pipeline.beam.spill import flatten_through_files
from rootstock.pipeline.config import RunConfig
from rootstock.pipeline.jobs.execute import execute
from rootstock.pipeline.jobs.resume import run_record
from rootstock.pipeline.jobs.units import (
    CHECKPOINTS,
    SKIPPED,
    ScoreUnits,
    completed_units,
    out_tag,
    prefix_stages,
    rejected_tag,
)
from rootstock.pipeline.jobs.units import READ as READ_TAG
from rootstock.pipeline.release.columns import output_schema
from rootstock.pipeline.release.counts import processing_records
from rootstock.pipeline.release.input_errors import INPUT_ERRORS, SampleInputErrors, input_error_order
from rootstock.pipeline.release.manifest import build_manifest, git_commit, source_snapshots, version
from rootstock.pipeline.release.write import work_dir, write_release
from rootstock.pipeline.stages.base import RunContext, Stage
from rootstock.pipeline.stages.registry import build_stages
from rootstock.sources.read import input_size, plan_source_units
from rootstock.sources.urlfilter import UrlBlocklist

log = logging.getLogger(__name__)


def build(p: beam.Pipeline, context: RunContext, stages: list[Stage], staging: str, units: dict[str, list]) -> None:
    """The graph: each source's UNITS read and scored by the per-document stages (checkpointed
    per unit, pipeline/jobs/units.py), ids made unique, then the other stages, then the tail."""
    context.staging = staging
    report = functools.partial(record, errors_dir(context.work_dir))
    progress = progress_dir(context.work_dir)
    prefix = prefix_stages(stages)
    tallies = {READ: Tally(progress, READ), **{stage.name: Tally(progress, stage.name) for stage in prefix}}
    checkpoints = posixpath.join(context.work_dir, CHECKPOINTS)
    fingerprints = {entry.uid: unit_fingerprint(context, entry, prefix) for entry in context.entries}
    if FileSystems.exists(checkpoints):  # a resumed run: say how much of it is done
        done = sum(completed_units(checkpoints, uid, units[uid], fp) for uid, fp in fingerprints.items())
        total = sum(len(found) for found in units.values())
        log.warning("--resume: %d of %d work units done; the others are read again", done, total)
    scored = []
    for entry in context.entries:
        uid = entry.uid
        scored.append(
            p
            | f"Units[{uid}]" >> beam.Create(units[uid])
            | f"Spread[{uid}]" >> beam.Reshuffle()
            | ScoreUnits(
                entry,
                context.catalog.resolve_paths(uid),
                str(context.catalog.root),
                prefix,
                checkpoints,
                fingerprints[uid],
                report=report,
                blocklist=blocklist(context.catalog, entry),
                languages=context.catalog.languages,
                tallies=tallies,
            )
        )

    def flat(tag: str, label: str):
        return [s[tag] for s in scored] | label >> beam.Flatten()

    read_lights = flat(READ_TAG, "AllRead")
    shared = read_lights | "SharedIds" >> SharedIds()
    read = rename_shared(read_lights, shared, "RenameRead")
    # Every scored document waits here for the shared ids (a side input over the whole read):
    # as spill files where spilling is on, or the local runner holds them all and hands each
    # worker its share in one piece, so a worker's memory would grow with the corpus.
    waiting = flatten_through_files([s["kept"] for s in scored], context.work_dir, "AllScored")
    documents = rename_shared(waiting, shared, "RenameKept")
    skipped = flat(SKIPPED, "AllSkipped")
    dropped, artifacts, stage_outputs = [], [], []
    for stage in prefix:
        stage_outputs.append((stage.name, flat(out_tag(stage.name), f"Out[{stage.name}]")))
        dropped.append(
            rename_shared(
                flat(rejected_tag(stage.name), f"Rejected[{stage.name}]"), shared, f"RenameRejected[{stage.name}]"
            )
        )
    for stage in stages[len(prefix) :]:
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
        skipped | "InputErrors" >> SampleInputErrors(),
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
        skipped=skipped,
        notes=notes,
        read_notes=read_notes,
        artifacts=artifacts,
        stage_outputs=stage_outputs,
        rejected_guards=guards,
    )


def blocklist(catalog, entry):
    spec = entry.connector.url_filter
    return UrlBlocklist(spec, catalog.resolve_blocklist_files(entry.uid)) if spec else None


def unit_fingerprint(context: RunContext, entry, prefix: list[Stage]) -> str:
    """What a unit's checkpoint depends on besides its input: the code, the entry, the stages."""
    blob = {
        "rootstock": git_commit(),
        "version": version(),
        "entry": entry.model_dump(mode="json"),
        "stages": [(s.name, s.settings.model_dump(mode="json")) for s in prefix],
        "languages": context.catalog.languages,
    }
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()


def stage_schema(stages: list[Stage]) -> pa.Schema:
    return output_schema([column for stage in stages for column in stage.columns])


def run(
    config: RunConfig,
    beam_args: list[str] | None = None,
    *,
    overwrite: bool = False,
    quiet: bool = False,
    resume: bool = False,
) -> dict[str, Any]:
    """Run CONFIG; return the manifest of the published release. RESUME continues an interrupted
    run of the same config and inputs from its checkpoints (pipeline/jobs/units.py)."""
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

    # Units are planned here, on the launcher: what a resumed run compares with the interrupted one.
    units = {entry.uid: plan_source_units(entry, catalog.resolve_paths(entry.uid)) for entry in context.entries}
    watch = (([stage.name for stage in stages], input_size(catalog, context.entries)), quiet)
    return execute(
        config.output,
        beam_args,
        overwrite,
        lambda p, staging: build(p, context, stages, staging, units),
        make_manifest,
        progress=watch,
        run_record=run_record(context, units),
        resume=resume,
    )
