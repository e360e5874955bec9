"""The main job: catalogue → connectors → stages → sharded Parquet → manifest, published atomically."""

from __future__ import annotations

import json
import posixpath
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from catalog.loader import Catalog, load_catalog
from catalog.schema import SourceEntry
from pipeline.config import RunConfig
from pipeline.ingest import Ingest
from pipeline.manifest import build_manifest, dumps
from pipeline.release import MANIFEST, WORK_DIR, check_target, discard, publish, staging_dir
from pipeline.stages import build_stages
from pipeline.stats import CountSteps, write_json_list
from pipeline.write import SCHEMA, WriteShards

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


def build(p: beam.Pipeline, config: RunConfig, catalog: Catalog, entries: list[SourceEntry], staging: str) -> None:
    ingested = p | "Ingest" >> Ingest(catalog, entries)
    documents = ingested.documents
    dropped = []
    for stage in build_stages(config):
        output = documents | stage
        documents = output.kept
        dropped.append(output.rejected)
    if dropped:
        all_dropped = dropped | "AllDropped" >> beam.Flatten()
    else:
        all_dropped = p | "NoneDropped" >> beam.Create([])
    shards = documents | "Write" >> WriteShards(staging, config.shards)
    counts = p | "Count" >> CountSteps(
        read=ingested.documents, written=documents, dropped=all_dropped, skipped=ingested.skipped
    )
    work = posixpath.join(staging, WORK_DIR)
    write_json_list(shards, posixpath.join(work, "shards.json"), "shards")
    write_json_list(counts, posixpath.join(work, "counts.json"), "counts")


def _read_json(path: str) -> Any:
    with FileSystems.open(path) as handle:
        return json.loads(handle.read())


def run(config: RunConfig, beam_args: list[str] | None = None, *, overwrite: bool = False) -> dict[str, Any]:
    """Run CONFIG; return the manifest of the published release."""
    catalog = load_catalog(config.catalog)
    entries = catalog.select(config.sources)
    build_stages(config)  # refuse a bad stage set before any work
    output = config.output
    assert output, "load_config fills `output`"
    check_target(output, overwrite)
    options = pipeline_options(beam_args)
    staging = staging_dir(output)
    FileSystems.mkdirs(posixpath.join(staging, WORK_DIR))
    try:
        with beam.Pipeline(options=options) as p:
            build(p, config, catalog, entries, staging)
        work = posixpath.join(staging, WORK_DIR)
        manifest = build_manifest(
            config=config,
            catalog=catalog,
            source_uids=[e.uid for e in entries],
            shards=_read_json(posixpath.join(work, "shards.json")),
            counts=_read_json(posixpath.join(work, "counts.json")),
            runner={"runner": options.view_as(StandardOptions).runner, **runner_record(options)},
            schema=[{"name": f.name, "type": str(f.type)} for f in SCHEMA],
        )
        with FileSystems.create(posixpath.join(staging, MANIFEST)) as handle:
            handle.write(dumps(manifest).encode())
        publish(staging, output, overwrite)
    except BaseException:
        discard(staging)
        raise
    return manifest
