"""The main job: catalogue → connectors → stages → sharded Parquet → manifest, published atomically."""

from __future__ import annotations

import ctypes
import os
import posixpath
import sys
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from catalog.loader import load_catalog
from pipeline.config import RunConfig
from pipeline.ingest import Ingest
from pipeline.card import write_card
from pipeline.manifest import build_manifest, dumps, source_snapshots, validate_manifest
from pipeline.release import MANIFEST, WORK_DIR, staged_release
from pipeline.stages import RunContext, Stage, build_stages
from pipeline.stats import CountSteps, processing_records, read_json_list, write_json_list
from pipeline.write import REJECTED_COLUMNS, WriteShards, output_schema, shard_of

# The default DirectRunner first tries to download a Prism binary; name the local runner.
FN_API_RUNNER = "apache_beam.runners.portability.fn_api_runner.FnApiRunner"
_SECRET_WORDS = ("token", "secret", "password", "key", "credential")


def pipeline_options(beam_args: list[str] | None) -> PipelineOptions:
    args = list(beam_args or [])
    if not any(a == "--runner" or a.startswith("--runner=") for a in args):
        args.append(f"--runner={FN_API_RUNNER}")
    return PipelineOptions(args)


def cap_malloc_arenas(arenas: int = 2) -> None:
    """Fewer glibc malloc arenas for this process and the SDK workers it starts.

    glibc gives threads that allocate at the same time their own arenas (up to 8 per core),
    and an arena keeps what its objects freed: with Beam's gRPC and bundle threads, RSS grew
    with the work done rather than with live data (runner peak 702 → 465 MB, workers 725 →
    625 MB at 60k documents with 2 arenas). Workers inherit the variable; this process is set
    with mallopt. An explicit MALLOC_ARENA_MAX wins.
    """
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return
    os.environ["MALLOC_ARENA_MAX"] = str(arenas)
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc (musl, …): nothing to cap
        pass


def runner_record(options: PipelineOptions) -> dict[str, Any]:
    chosen = options.get_all_options(drop_default=True, retain_unknown_options=True)
    return {
        k: v
        for k, v in sorted(chosen.items())
        if v is not None and not any(word in k.lower() for word in _SECRET_WORDS)
    }


def _sample_key(doc: dict[str, Any]):
    return (doc["drop_stage"], doc["drop_reason"], doc["lang"], doc["source"]), doc


class KeepRejected(beam.PTransform):
    """All rejected documents, or a deterministic sample: the n smallest id hashes per reason."""

    def __init__(self, mode: str, size: int):
        super().__init__()
        self.mode, self.size = mode, size

    def expand(self, rejected):
        if self.mode == "all":
            return rejected
        return (
            rejected
            | "KeyByReason" >> beam.Map(_sample_key)
            | "Sample" >> beam.combiners.Top.SmallestPerKey(self.size, key=lambda d: shard_of(d["id"], 1 << 62))
            | "Flatten" >> beam.FlatMap(lambda kv: kv[1])
        )


def write_release(
    p: beam.Pipeline,
    staging: str,
    config: RunConfig,
    schema: pa.Schema,
    *,
    read,
    kept,
    dropped,
    skipped,
    notes=None,
    artifacts=(),
    stage_outputs=(),
    rejected_guards=(),
) -> None:
    """The tail every release-producing job shares: shards, rejected shards, counts.

    `dropped` is a list of PCollections (one per stage or step). Dropped documents are counted
    as they were dropped; `rejected_guards` [(name, transform)] apply to the ones written to
    `rejected/` only.
    """
    shards = [kept | "Write" >> WriteShards(staging, config.shards, schema), *artifacts]
    if config.keep_rejected != "none":
        keep = lambda: KeepRejected(config.keep_rejected, config.rejected_sample_size)  # noqa: E731
        # Sampled per stage first: the Flatten would otherwise hold every rejected document in
        # the local runner. Sampling the union again keeps the n smallest per reason exact.
        sampled = [part | f"KeepRejected[{i}]" >> keep() for i, part in enumerate(dropped)]
        sampled = sampled or [p | "NoneRejected" >> beam.Create([])]
        kept_rejected = sampled | "AllRejected" >> beam.Flatten() | "KeepRejected" >> keep()
        for name, guard in rejected_guards:
            kept_rejected = kept_rejected | f"Guard[{name}]" >> guard
        shards.append(
            kept_rejected
            | "WriteRejected" >> WriteShards(staging, config.shards, pa.schema([*schema, *REJECTED_COLUMNS]), prefix="rejected")
        )
    counts = p | "Count" >> CountSteps(
        read=read, written=kept, dropped=dropped, skipped=skipped, notes=notes, stage_outputs=stage_outputs
    )
    work = posixpath.join(staging, WORK_DIR)
    write_json_list(shards | "AllShards" >> beam.Flatten(), posixpath.join(work, "shards.json"), "shards")
    write_json_list(counts, posixpath.join(work, "counts.json"), "counts")


def build(p: beam.Pipeline, context: RunContext, stages: list[Stage], staging: str) -> None:
    context.staging = staging
    ingested = p | "Ingest" >> Ingest(context.catalog, context.entries)
    documents = ingested.documents
    dropped, artifacts, stage_outputs = [], [], []
    for stage in stages:
        output = documents | stage
        documents = output.kept
        stage_outputs.append((stage.name, output.kept))
        dropped.extend(output.rejected if isinstance(output.rejected, list) else [output.rejected])
        if output.artifacts is not None:
            artifacts.append(output.artifacts)
    # A stage may guard the rejected set too (pii: no original value is stored anywhere). Only
    # what is written needs it: with `keep_rejected: sample` that is a few hundred documents.
    guards = [(stage.name, stage.rejected_set_filter()) for stage in stages if hasattr(stage, "rejected_set_filter")]

    def notes(doc):
        return [note for stage in stages for note in stage.notes(doc)]

    write_release(
        p, staging, context.config, stage_schema(stages),
        read=ingested.documents, kept=documents, dropped=dropped, skipped=ingested.skipped, notes=notes,
        artifacts=artifacts, stage_outputs=stage_outputs, rejected_guards=guards,
    )


def stage_schema(stages: list[Stage]) -> pa.Schema:
    return output_schema([column for stage in stages for column in stage.columns])


def finish_release(root: str, manifest: dict[str, Any]) -> None:
    """Card, then the validated manifest, last: a release is complete once manifest.json exists."""
    if manifest.get("kind", "release") == "release":
        manifest["card"] = write_card(root, manifest)
        validate_manifest(manifest)
    with FileSystems.create(posixpath.join(root, MANIFEST)) as handle:
        handle.write(dumps(manifest).encode())


def execute(output: str, beam_args: list[str] | None, overwrite: bool, build_graph, make_manifest) -> dict[str, Any]:
    """Run a release-producing graph in a staging directory; publish only a complete release.

    `build_graph(pipeline, staging)` adds the transforms; `make_manifest(shards, counts, runner)`
    returns the manifest once the pipeline has finished.
    """
    options = pipeline_options(beam_args)
    cap_malloc_arenas()
    with staged_release(output, overwrite, work_dir=True) as staging:
        with beam.Pipeline(options=options) as p:
            build_graph(p, staging)
        work = posixpath.join(staging, WORK_DIR)
        manifest = make_manifest(
            read_json_list(posixpath.join(work, "shards.json")),
            read_json_list(posixpath.join(work, "counts.json")),
            {"runner": options.view_as(StandardOptions).runner, **runner_record(options)},
        )
        finish_release(staging, manifest)
    return manifest


def run(config: RunConfig, beam_args: list[str] | None = None, *, overwrite: bool = False) -> dict[str, Any]:
    """Run CONFIG; return the manifest of the published release."""
    catalog = load_catalog(config.catalog)
    context = RunContext(config, catalog, catalog.select(config.sources))
    stages = build_stages(config, context)  # refuses a bad stage set before any work
    reports = {stage.name: stage.report() for stage in stages}
    assert config.output, "load_config fills `output`"

    def make_manifest(shards, counts, runner):
        return build_manifest(
            config=config,
            sources=source_snapshots(catalog, [e.uid for e in context.entries]),
            shards=shards,
            counts=counts,
            runner=runner,
            schema=[{"name": f.name, "type": str(f.type)} for f in stage_schema(stages)],
            stage_reports=reports,
            processing=processing_records(counts, [(stage.name, stage.parameters) for stage in stages]),
        )

    return execute(config.output, beam_args, overwrite, lambda p, staging: build(p, context, stages, staging), make_manifest)
