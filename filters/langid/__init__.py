"""Language identification mapped onto the registry: backends, the ensemble policy, evaluation.

`identifier.LanguageIdentifier` is the single fastText model the `langid` stage has used;
`backends` puts fastText (lid.176, GlotLID, OpenLID), CLD2, py3langid and franc behind one
interface; `policy` combines them by a declarative policy (the run config's `stages.langid`)
with per-backend, per-language minimum scores (`calibrate`), and `evaluate` scores any of them
on the labelled sets in catalog/sample/langid/. `decide` turns a prediction into the stage's
verify/route decision.
"""

from __future__ import annotations

from rootstock.filters.langid.decide import (
    BELOW_MIN,
    NOT_APPLIED,
    ROUTE,
    ROUTED,
    UNVERIFIABLE,
    VERIFIED,
    VERIFY,
    Decision,
    decide,
)
from rootstock.filters.langid.identifier import (
    KNOWN_UNRELIABLE,
    LID176_FTZ_SHA256,
    LanguageIdentifier,
    Prediction,
    default_model_path,
    load_fasttext,
    normalize,
)
from rootstock.filters.langid.labels import CHINESE_SCRIPTS, LABEL_PREFIX, LabelMapper
from rootstock.filters.langid.scripts import chinese_variant, script_of

__all__ = [
    "BELOW_MIN",
    "CHINESE_SCRIPTS",
    "KNOWN_UNRELIABLE",
    "LABEL_PREFIX",
    "LID176_FTZ_SHA256",
    "NOT_APPLIED",
    "ROUTE",
    "ROUTED",
    "UNVERIFIABLE",
    "VERIFIED",
    "VERIFY",
    "Decision",
    "LabelMapper",
    "LanguageIdentifier",
    "Prediction",
    "chinese_variant",
    "decide",
    "default_model_path",
    "load_fasttext",
    "normalize",
    "script_of",
]
