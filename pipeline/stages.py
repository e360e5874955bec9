"""The stage seam: every curation step is a composite PTransform with the same contract.

A stage takes a PCollection of documents and returns `StageOutput(kept, rejected)`. Rejected
documents keep all their fields plus `drop_stage` and `drop_reason`, so the pipeline counts
every drop by reason (manifest) and can keep them for review; no stage drops silently.
Stages run in STAGE_ORDER; each lives in its own module and registers itself in STAGES.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import apache_beam as beam
import pyarrow as pa

from catalog.loader import Catalog
from catalog.schema import SourceEntry
from pipeline.config import ConfigError, RunConfig, StageSettings

STAGE_ORDER = ("langid", "quality", "dedup", "pii")


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


class Stage(beam.PTransform):
    name: ClassVar[str]
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

    @staticmethod
    def notes(doc: dict[str, Any]) -> list[str]:
        """Named facts about a kept document to count in the manifest (e.g. `langid:unverified`)."""
        return []


def rejected(doc: dict[str, Any], stage: str, reason: str) -> dict[str, Any]:
    return {**doc, "drop_stage": stage, "drop_reason": reason}


# name → Stage subclass; stages add themselves here as they land.
STAGES: dict[str, type[Stage]] = {}


def _register_builtin_stages() -> None:
    # Stage modules import this one; importing them here (lazily) fills STAGES.
    import pipeline.langid  # noqa: F401
    import pipeline.quality  # noqa: F401
    import pipeline.dedup  # noqa: F401
    import pipeline.pii  # noqa: F401


def build_stages(config: RunConfig, context: RunContext) -> list[Stage]:
    _register_builtin_stages()
    stages = []
    for name in STAGE_ORDER:
        settings = getattr(config.stages, name)
        if not settings.enabled:
            continue
        if name not in STAGES:
            raise ConfigError(f"stages.{name}: this version of rootstock has no {name!r} stage yet; set enabled: false")
        stages.append(STAGES[name](settings, context))
    return stages
