"""The stage contract: every curation step is a composite PTransform with the same shape.

A stage takes a PCollection of documents and returns `StageOutput(kept, rejected)`. Rejected
documents keep all their fields plus `drop_stage` and `drop_reason`, so the pipeline counts
every drop by reason (manifest) and can keep them for review; no stage drops silently.

A stage is three things: a settings model (`settings_class`, validated from the run config and
recorded in the manifest), the columns it adds, and `expand`. `DocumentStage` is the common
case, a decision per document (or per batch) in a DoFn; the registry (`stages.registry`) lists
the built-ins and finds the stages of other packages.
"""

from __future__ import annotations

import contextlib
import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import apache_beam as beam
import pyarrow as pa

from rootstock.catalog.entry import SourceEntry
from rootstock.catalog.registry import use_overlay
from rootstock.pipeline.release.footprint import StageClock
from rootstock.pipeline.release.publish import WORK_DIR
from rootstock.strict import Strict

if TYPE_CHECKING:
    from rootstock.catalog.loader import Catalog
    from rootstock.pipeline.config import RunConfig

REJECTED = "rejected"  # tag of a DoFn's output that carries rejected documents

# A named fact about a kept document to count in the manifest: (name, how many). Most notes
# count the document (n = 1); some count items in it (e.g. `pii:EMAIL`, 3 redactions).
Note = tuple[str, int]


class StageSettings(Strict):
    """Settings every stage has; each stage's own model extends this."""

    enabled: bool = False

    def resolve_paths(self, base: str) -> StageSettings:
        """These settings with file paths made absolute, relative to BASE (the run config's
        folder); a stage that names files overrides this."""
        return self


class StageOutput(NamedTuple):
    kept: beam.PCollection
    # One PCollection, or a list (one per step): the pipeline counts and samples each before
    # flattening, so rejected documents never wait in the runner.
    rejected: beam.PCollection | list[beam.PCollection]
    # Shard records of files the stage wrote itself under the release (e.g. dedup signatures).
    artifacts: beam.PCollection | None = None


@dataclass
class RunContext:
    """What a stage may consult besides its settings: the run config and the catalogue."""

    config: RunConfig
    catalog: Catalog | None
    entries: list[SourceEntry] = field(default_factory=list)
    staging: str | None = None  # where the release is being written (set when the graph is built)

    @property
    def work_dir(self) -> str:
        """Scratch space inside the staging directory (spill files), removed at publish."""
        assert self.staging is not None, "the graph is being built"
        return posixpath.join(self.staging, WORK_DIR)


def rejected(doc: dict[str, Any], stage: str, reason: str) -> dict[str, Any]:
    """DOC as a rejected document: every field kept, plus which stage dropped it and why."""
    return {**doc, "drop_stage": stage, "drop_reason": reason}


def reject(doc: dict[str, Any], stage: str, reason: str) -> beam.pvalue.TaggedOutput:
    """What a stage's DoFn yields for a document it drops."""
    return beam.pvalue.TaggedOutput(REJECTED, rejected(doc, stage, reason))


class Stage(beam.PTransform):
    name: ClassVar[str]
    settings_class: ClassVar[type[StageSettings]] = StageSettings
    # Columns the stage adds to every document (kept and rejected alike).
    columns: ClassVar[list[pa.Field]] = []

    def __init__(self, settings: StageSettings, context: RunContext):
        super().__init__(label=self.name)
        self.settings, self.context = settings, context

    def expand(self, documents) -> StageOutput:  # pragma: no cover - abstract
        raise NotImplementedError

    def report(self) -> dict[str, Any]:
        """Static facts for the manifest (model files and hashes, disabled checks…)."""
        return {}

    def parameters(self, source: str) -> dict[str, Any]:
        """What this stage did to SOURCE, for the source's processing record in the manifest."""
        return self.settings.model_dump(mode="json", exclude={"enabled"})

    def notes(self, doc: dict[str, Any]) -> list[Note]:
        """Facts about a kept document to count in the manifest, e.g. ("langid:unverifiable", 1)."""
        return []

    def guard_rejected(self) -> beam.PTransform | None:
        """A transform every document written to `rejected/` goes through (pii redacts them)."""
        return None


class DocumentFn(beam.DoFn):
    """The per-document logic of a DocumentStage: yield what is kept, `self.reject(...)` what is not.

    Load models in `setup` (once per worker process), not in `__init__` (which runs on the
    launcher and is pickled to every worker).
    """

    registry_overlay: list[dict[str, Any]] | None = None  # the catalogue's languages.yaml, set by the stage

    def __init__(self, stage: str, settings: StageSettings):
        self.stage, self.settings = stage, settings

    def setup(self):
        """Subclasses that load models call this first: the catalogue's own languages reach the worker."""
        if self.registry_overlay is not None:
            use_overlay(self.registry_overlay)

    def reject(self, doc: dict[str, Any], reason: str) -> beam.pvalue.TaggedOutput:
        return reject(doc, self.stage, reason)


class DocumentStage(Stage):
    """A stage that decides per document: a DoFn (`fn`), its rejected output, nothing else.

    Set `batch_size` to have the DoFn receive lists of documents (one model call per batch).
    """

    fn: ClassVar[type[DocumentFn] | None] = None  # the DoFn, built as fn(name, settings)
    batch_size: int | None = None  # set per instance (e.g. from settings)
    step: ClassVar[str] = "Apply"  # the label of the ParDo in the graph

    def make_fn(self) -> beam.DoFn:
        """The DoFn; override to give it more than the stage's name and settings."""
        if self.fn is None:
            raise NotImplementedError(f"{type(self).__name__}: set `fn` or override make_fn()")
        return self.fn(self.name, self.settings)

    def expand(self, documents) -> StageOutput:
        if self.batch_size:
            # A fixed size: results do not depend on it, and the adaptive size costs a fit per batch.
            documents = documents | "Batch" >> beam.BatchElements(
                min_batch_size=self.batch_size, max_batch_size=self.batch_size
            )
        fn = Timed(self.document_fn(), self.name)
        results = documents | self.step >> beam.ParDo(fn).with_outputs(REJECTED, main="kept")
        return StageOutput(results.kept, results[REJECTED])

    def per_document(self) -> bool:
        """True when the stage decides each document alone (no view of other documents): it can
        then run inside the unit that read the document, whose results are checkpointed for
        `--resume`. A stage whose `expand` does more than the DoFn says False."""
        return type(self).expand is DocumentStage.expand

    def document_fn(self) -> DocumentFn:
        """The DoFn, ready for `apply_document_fn` (or a ParDo): the catalogue's languages set."""
        fn = self.make_fn()
        if isinstance(fn, DocumentFn) and self.context.catalog is not None:
            fn.registry_overlay = self.context.catalog.languages
        return fn


def apply_document_fn(fn: beam.DoFn, docs: list[dict[str, Any]], batch_size: int | None):
    """A stage's DoFn over DOCS outside a pipeline (set up by the caller): (kept, rejected).

    What the ParDo of DocumentStage.expand does, batches of the same fixed size included (a
    stage's results do not depend on how documents are batched).
    """
    kept, dropped = [], []
    inputs = [docs[i : i + batch_size] for i in range(0, len(docs), batch_size)] if batch_size else docs
    stage = getattr(fn, "stage", None)
    with StageClock(stage).measure() if stage else contextlib.nullcontext():  # the run's footprint
        for item in inputs:
            for out in fn.process(item) or ():
                if isinstance(out, beam.pvalue.TaggedOutput):
                    dropped.append(out.value)
                else:
                    kept.append(out)
    return kept, dropped


class Timed(beam.DoFn):
    """A stage's DoFn (one whose `process` takes only the element), with the CPU time of its
    own steps added to the run's footprint (release/footprint.py) under STAGE: fused stages
    run in one thread, so each stage times itself. Any job can wrap its per-element DoFns."""

    def __init__(self, fn: beam.DoFn, stage: str):
        self.fn, self.clock = fn, StageClock(stage)

    def setup(self):
        self.fn.setup()

    def start_bundle(self):
        self.fn.start_bundle()

    def process(self, element):
        return self.clock.steps(self.fn.process(element))

    def finish_bundle(self):
        self.clock.flush()
        return self.fn.finish_bundle()

    def teardown(self):
        self.fn.teardown()
