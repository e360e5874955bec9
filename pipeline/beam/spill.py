"""Documents cross a barrier as files, not as runner memory.

At a barrier (a step that waits for a side input, or a shuffle) the runner holds every element
crossing it until the next step starts. Dataflow, Spark and Flink keep that in their shuffle
services, on disk. The local FnApiRunner keeps it in its own process and sends it through gRPC
twice, so its memory grows with the corpus and each crossing costs an encode, two channel hops
and a decode per element (benchmarks/pipeline.py --scaling measures both).

`through_files` writes the elements in batches of a few MB to a scratch directory (a release's
work directory) and sends only the file names through the barrier; the step on the other side
reads them back. Memory per worker is one batch; the runner holds a name per batch.

`--spill=auto` (the default) does that on the local runners only (FnApiRunner, DirectRunner,
Prism, PortableRunner with the embedded job service); `always` and `never` force it either
way (the tests run both and compare the releases byte for byte). With `always` on a
distributed runner the staging directory must be shared storage (gs://, s3://, HDFS).
"""

from __future__ import annotations

import pickle
import posixpath
import uuid
from collections.abc import Iterable
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, PortableOptions, StandardOptions

LOCAL_RUNNERS = ("FnApiRunner", "DirectRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner", "PrismRunner")
BATCH_DOCS, BATCH_BYTES = 2000, 8 << 20


class SpillOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            "--spill",
            choices=("auto", "always", "never"),
            default="auto",
            help="Pass documents through barriers as files in the release's work directory: "
            "auto = on the local runners, whose barriers live in memory.",
        )


def spill_enabled(pipeline: beam.Pipeline) -> bool:
    options = pipeline.options or PipelineOptions()
    mode = options.view_as(SpillOptions).spill
    if mode != "auto":
        return mode == "always"
    return local_runner(pipeline)


def local_runner(pipeline: beam.Pipeline) -> bool:
    """Whether the pipeline runs on a local runner, whose barriers live in its own memory."""
    options = pipeline.options or PipelineOptions()
    runner = (options.view_as(StandardOptions).runner or "FnApiRunner").rsplit(".", 1)[-1]
    if runner == "PortableRunner":  # the embedded job service runs an FnApiRunner in this process
        return options.view_as(PortableOptions).job_endpoint == "embed"
    return runner in LOCAL_RUNNERS


def spill_dir(scratch: str, name: str) -> str:
    # A fresh directory per graph build, so two transforms never share file names.
    return posixpath.join(scratch, "spill", f"{name}-{uuid.uuid4().hex[:8]}")


class SpillFile(NamedTuple):
    """A batch of documents written by `write_batch`; stands for them after the barrier."""

    path: str
    docs: int


def write_batch(docs: list[dict[str, Any]], directory: str) -> SpillFile:
    # Pickle, not Arrow: documents carry nested per-language metric maps whose keys vary, and
    # the round trip must be exact (results unchanged); Beam's own coder pickles them too.
    path = posixpath.join(directory, f"{uuid.uuid4().hex}.pkl")
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        handle.write(pickle.dumps(docs, protocol=pickle.HIGHEST_PROTOCOL))
    return SpillFile(path, len(docs))


def read_batch(spilled: SpillFile) -> list[dict[str, Any]]:
    try:
        with FileSystems.open(spilled.path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            docs = pickle.loads(handle.read())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{spilled.path}: spilled batch of {spilled.docs} documents is gone; "
            "was the run's staging directory removed while it ran?"
        ) from None
    if len(docs) != spilled.docs:
        raise ValueError(f"{spilled.path}: {len(docs)} documents, {spilled.docs} were written")
    return docs


def expand_spilled(values: Iterable[Any]):
    """Documents from a mix of documents and SpillFile references."""
    for value in values:
        if isinstance(value, SpillFile):
            yield from read_batch(value)
        else:
            yield value


class SpillDocs(beam.PTransform):
    """Documents → SpillFile references, one per batch of ≤ BATCH_DOCS documents and ≈ BATCH_BYTES
    of text. With BATCH and WEIGH_TEXT=False, any picklable elements in batches of BATCH."""

    def __init__(self, directory: str, batch: int | None = None, weigh_text: bool = True):
        super().__init__()
        self.directory, self.batch, self.weigh_text = directory, batch or BATCH_DOCS, weigh_text

    def expand(self, docs):
        # A document weighs 1, or more if its text is longer than a batch's share of BATCH_BYTES.
        share = BATCH_BYTES // self.batch
        weigh = (lambda doc: 1 + len(doc.get("text") or "") // share) if self.weigh_text else (lambda _: 1)
        return (
            docs
            | "Batches"
            >> beam.BatchElements(
                min_batch_size=self.batch, max_batch_size=self.batch, record_metrics=False, element_size_fn=weigh
            )
            | "WriteBatches" >> beam.Map(write_batch, self.directory)
        )


class ReadSpilled(beam.PTransform):
    """SpillFile references → their documents, spread over the workers by a Reshuffle."""

    def expand(self, spilled):
        return spilled | "Spread" >> beam.Reshuffle() | "ReadBatches" >> beam.FlatMap(read_batch)


class Spilled:
    """DOCS written to files once; `read(label)` gives them back after a barrier, once per consumer.

    With spilling off, `read` returns DOCS themselves.
    """

    def __init__(self, docs: beam.PCollection, scratch: str, name: str):
        self.docs, self.refs = docs, None
        if spill_enabled(docs.pipeline):
            self.refs = docs | f"Spill[{name}]" >> SpillDocs(spill_dir(scratch, name))

    def read(self, label: str) -> beam.PCollection:
        return self.docs if self.refs is None else self.refs | f"Unspill[{label}]" >> ReadSpilled()


def through_files(docs: beam.PCollection, scratch: str, name: str) -> beam.PCollection:
    """DOCS, moved through files if spilling is on: put it right before the step that waits."""
    return Spilled(docs, scratch, name).read(name)


def flatten_through_files(parts: list[beam.PCollection], scratch: str, name: str) -> beam.PCollection:
    """PARTS as one collection (a Flatten labelled NAME), each part spilled first if spilling is on.

    The local runner holds a Flatten's output and hands each worker its share of it as one
    message, like a barrier: documents meeting in a Flatten would cost a worker memory in
    proportion to the corpus. Spilled, only the batches' file names meet there.
    """
    if not spill_enabled(parts[0].pipeline):
        return parts | name >> beam.Flatten()
    directory = spill_dir(scratch, name.lower())
    files = [part | f"Spill{name}[{i}]" >> SpillDocs(directory) for i, part in enumerate(parts)]
    return files | f"{name}Files" >> beam.Flatten() | f"Read{name}" >> ReadSpilled()
