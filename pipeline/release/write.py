"""The tail every release-producing job shares: data shards, rejected shards, counts; then card and manifest."""

from __future__ import annotations

import posixpath
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems

from rootstock.pipeline.beam.gather import write_json_list
from rootstock.pipeline.beam.shards import ShardsConfig, WriteShards, shard_of
from rootstock.pipeline.release.card import write_card
from rootstock.pipeline.release.columns import rejected_schema, text_bytes
from rootstock.pipeline.release.counts import CountSteps
from rootstock.pipeline.release.manifest import dumps, validate_manifest
from rootstock.pipeline.release.publish import MANIFEST, WORK_DIR


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


def work_dir(staging: str) -> str:
    """The pipeline's own bookkeeping inside a staging directory (removed at publish)."""
    return posixpath.join(staging, WORK_DIR)


def write_release(
    p: beam.Pipeline,
    staging: str,
    config,
    schema: pa.Schema,
    *,
    read,
    kept,
    dropped,
    skipped,
    notes=None,
    read_notes=None,
    artifacts=(),
    stage_outputs=(),
    rejected_guards=(),
) -> None:
    """Shards, rejected shards and count rows of a release, as files under STAGING.

    `config` is the run config (its `shards`, `keep_rejected`, `rejected_sample_size`).
    `dropped` is a list of PCollections (one per stage or step). Dropped documents are counted
    as they were dropped; `rejected_guards` [(name, transform)] apply to the ones written to
    `rejected/` only. `notes(doc)` are counted over written documents, `read_notes(doc)` over
    every document read.
    """
    work = work_dir(staging)
    shards_config: ShardsConfig = config.shards
    shards = [
        kept | "Write" >> WriteShards(staging, shards_config, schema, size=text_bytes, scratch=work),
        *artifacts,
    ]
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
            | "WriteRejected"
            >> WriteShards(
                staging, shards_config, rejected_schema(schema), size=text_bytes, scratch=work, prefix="rejected"
            )
        )
    counts = p | "Count" >> CountSteps(
        read=read,
        written=kept,
        dropped=dropped,
        skipped=skipped,
        notes=notes,
        read_notes=read_notes,
        stage_outputs=stage_outputs,
    )
    write_json_list(shards | "AllShards" >> beam.Flatten(), posixpath.join(work, "shards.json"), "shards")
    write_json_list(counts, posixpath.join(work, "counts.json"), "counts")


def finish_release(root: str, manifest: dict[str, Any]) -> None:
    """Card, then the validated manifest, last: a release is complete once manifest.json exists."""
    if manifest.get("kind", "release") == "release":
        manifest["card"] = write_card(root, manifest)
        validate_manifest(manifest)
    with FileSystems.create(posixpath.join(root, MANIFEST)) as handle:
        handle.write(dumps(manifest).encode())
