"""Curation stages: each a composite PTransform with one contract (`base`), listed in `registry`.

Write your own stage with these names (see README, "Your own stage"):
"""

from rootstock.pipeline.stages.base import (
    DocumentFn,
    DocumentStage,
    Note,
    RunContext,
    Stage,
    StageOutput,
    StageSettings,
    reject,
    rejected,
)

__all__ = [
    "DocumentFn",
    "DocumentStage",
    "Note",
    "RunContext",
    "Stage",
    "StageOutput",
    "StageSettings",
    "reject",
    "rejected",
]
