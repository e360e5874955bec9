"""The stage seam: every curation step is a composite PTransform with the same contract.

A stage takes a PCollection of documents and returns `StageOutput(kept, rejected)`. Rejected
documents keep all their fields plus `drop_stage` and `drop_reason`, so the pipeline counts
every drop by reason (manifest) and can keep them for review; no stage drops silently.
Stages run in STAGE_ORDER; each lives in its own module and registers itself in STAGES.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import apache_beam as beam

from pipeline.config import ConfigError, RunConfig, StageSettings

STAGE_ORDER = ("langid", "quality", "dedup", "pii")


class StageOutput(NamedTuple):
    kept: beam.PCollection
    rejected: beam.PCollection


class Stage(beam.PTransform):
    name: ClassVar[str]

    def __init__(self, settings: StageSettings, config: RunConfig):
        super().__init__(label=self.name)
        self.settings, self.config = settings, config

    def expand(self, documents) -> StageOutput:  # pragma: no cover - abstract
        raise NotImplementedError


def rejected(doc: dict[str, Any], stage: str, reason: str) -> dict[str, Any]:
    return {**doc, "drop_stage": stage, "drop_reason": reason}


# name → Stage subclass; stages add themselves here as they land.
STAGES: dict[str, type[Stage]] = {}


def build_stages(config: RunConfig) -> list[Stage]:
    stages = []
    for name in STAGE_ORDER:
        settings = getattr(config.stages, name)
        if not settings.enabled:
            continue
        if name not in STAGES:
            raise ConfigError(f"stages.{name}: this version of rootstock has no {name!r} stage yet; set enabled: false")
        stages.append(STAGES[name](settings, config))
    return stages
