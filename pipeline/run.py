"""The main job: catalogue → connectors → stages → sharded Parquet → manifest, published atomically."""

from __future__ import annotations

import json
import posixpath
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from catalog.loader import load_catalog
from pipeline.config import RunConfig
from pipeline.ingest import Ingest
from pipeline.manifest import build_manifest, dumps
from pipeline.release import MANIFEST, WORK_DIR, check_target, discard, publish, staging_dir
from pipeline.stages import RunContext, Stage, build_stages
from pipeline.stats import CountSteps, write_json_list
from pipeline.write import REJECTED_COLUMNS, WriteShards, output_schema, shard_of

# The default DirectRunner first tries to download a Prism binary; name the local runner.
FN_API_RUNNER = "apache_beam.runners.portability.fn_api_runner.FnApiRunner"
_SECRET_WORDS = ("token", "secret", "password", "key", "credential")


def pipeline_options(beam_args: list[str] | None) -> PipelineOptions:
    args = list(beam_args or [])
    if not any(a == "--runner" or a.startswith("--runner=") for a in args):
        args.append(f"--runner={FN_API_RUNNER}")
    return PipelineOptions(args)


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


def build(p: beam.Pipeline, context: RunContext, stages: list[Stage], staging: str) -> None:
    config = context.config
    ingested = p | "Ingest" >> Ingest(context.catalog, context.entries)
    documents = ingested.documents
    dropped = []
    for stage in stages:
        output = documents | stage
        documents = output.kept
        dropped.append(output.rejected)
    if dropped:
        all_dropped = dropped | "AllDropped" >> beam.Flatten()
    else:
        all_dropped = p | "NoneDropped" >> beam.Create([])
    schema = output_schema([column for stage in stages for column in stage.columns])
    shards = [documents | "Write" >> WriteShards(staging, config.shards, schema)]
    if config.keep_rejected != "none":
        shards.append(
            all_dropped
            | "KeepRejected" >> KeepRejected(config.keep_rejected, config.rejected_sample_size)
            | "WriteRejected" >> WriteShards(staging, config.shards, pa.schema([*schema, *REJECTED_COLUMNS]), prefix="rejected")
        )

    def notes(doc):
        return [note for stage in stages for note in stage.notes(doc)]

    counts = p | "Count" >> CountSteps(
        read=ingested.documents, written=documents, dropped=all_dropped, skipped=ingested.skipped, notes=notes
    )
    work = posixpath.join(staging, WORK_DIR)
    write_json_list(shards | "AllShards" >> beam.Flatten(), posixpath.join(work, "shards.json"), "shards")
    write_json_list(counts, posixpath.join(work, "counts.json"), "counts")


def _read_json(path: str) -> Any:
    with FileSystems.open(path) as handle:
        return json.loads(handle.read())


def run(config: RunConfig, beam_args: list[str] | None = None, *, overwrite: bool = False) -> dict[str, Any]:
    """Run CONFIG; return the manifest of the published release."""
    catalog = load_catalog(config.catalog)
    context = RunContext(config, catalog, catalog.select(config.sources))
    stages = build_stages(config, context)  # refuses a bad stage set before any work
    reports = {stage.name: stage.report() for stage in stages}
    output = config.output
    assert output, "load_config fills `output`"
    check_target(output, overwrite)
    options = pipeline_options(beam_args)
    staging = staging_dir(output)
    FileSystems.mkdirs(posixpath.join(staging, WORK_DIR))
    try:
        with beam.Pipeline(options=options) as p:
            build(p, context, stages, staging)
        work = posixpath.join(staging, WORK_DIR)
        manifest = build_manifest(
            config=config,
            catalog=catalog,
            source_uids=[e.uid for e in context.entries],
            shards=_read_json(posixpath.join(work, "shards.json")),
            counts=_read_json(posixpath.join(work, "counts.json")),
            runner={"runner": options.view_as(StandardOptions).runner, **runner_record(options)},
            schema=[{"name": f.name, "type": str(f.type)} for f in output_schema([c for s in stages for c in s.columns])],
            stage_reports=reports,
        )
        with FileSystems.create(posixpath.join(staging, MANIFEST)) as handle:
            handle.write(dumps(manifest).encode())
        publish(staging, output, overwrite)
    except BaseException:
        discard(staging)
        raise
    return manifest
