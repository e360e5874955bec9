"""What language ID concludes about one document: verify a declared language, or route.

ROOTS semantics on the registry: a declared language is confirmed or rejected (`mismatch`,
`low_score`), a language no model covers stands unchecked (`unverifiable`), and an undeclared
document goes to its detected language when the score reaches that language's minimum, else to
`und` (the prediction keeps the best guess). Close languages the policy cannot tell apart
(`verify_as`) confirm each other's declarations instead of rejecting them. A declared language
that the deciding backend cannot name (no label) but another backend confidently named
(`Prediction.support`) is confirmed by that backend: two models each without a label for the
other's answer cannot tell the text apart, and the catalogue's declaration breaks the tie.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rootstock.filters.langid.identifier import Prediction

# What LID concluded about a document (the `lang_check` column).
VERIFIED = "verified"  # declared language confirmed
ROUTED = "routed"  # no declared language; the detected one was assigned
UNVERIFIABLE = "unverifiable"  # declared language has no label in the model: it stands unchecked
BELOW_MIN = "below_min"  # routed, but the score is under the minimum: lang = und
NOT_APPLIED = "not_applied"  # programming languages skip natural-language LID


@dataclass(frozen=True)
class Decision:
    lang: str
    check: str
    reject: str | None = None  # mismatch | low_score | unsupported_language | not_declared
    backend: str | None = None  # the backend that confirmed a declaration, when not the deciding one
    score: float | None = None  # its score


VERIFY, ROUTE = "verify", "route"


def decide(
    lang: str,
    declared: list[str] | tuple[str, ...],
    prediction: Prediction,
    covered: set[str] | frozenset[str],
    min_score,
    *,
    undetermined: str = "und",
    verify_as: Mapping[str, frozenset[str]] | None = None,
) -> Decision:
    """Verify a declared language, or route an undeclared document (ROOTS semantics + registry).

    `min_score(code, mode)` gives the minimum top-1 score for a registry language when
    verifying a declaration (mode VERIFY: the catalogue is a strong prior) or routing (ROUTE).
    `verify_as[code]` is the set of languages whose detection confirms a declared `code`
    (close pairs the policy cannot separate, `PolicySpec.pairs`); the declaration stands.
    """
    detected, score = prediction.lang, prediction.score
    same = (verify_as or {}).get(lang, frozenset())
    if declared:
        if lang == undetermined:
            # Several declared languages and no per-record field: the detected one must be one of them.
            candidates = [code for code in declared if code in covered]
            if not candidates:
                return Decision(lang, UNVERIFIABLE)
            if detected not in declared:
                return Decision(lang, VERIFIED, "not_declared")
            if score < min_score(detected, VERIFY):
                return Decision(lang, VERIFIED, "low_score")
            return Decision(detected, VERIFIED)
        if lang not in covered:
            return Decision(lang, UNVERIFIABLE)
        if detected in ("zhs", "zht") and lang in ("zhs", "zht"):
            lang = detected  # same language; the characters decide the script
        if detected != lang and detected not in same:
            for code in (lang, *sorted(same)):
                if code in prediction.support:
                    backend, backend_score = prediction.support[code]
                    return Decision(lang, VERIFIED, backend=backend, score=backend_score)
            return Decision(lang, VERIFIED, "mismatch")
        if score < min_score(detected, VERIFY):
            return Decision(lang, VERIFIED, "low_score")
        return Decision(lang, VERIFIED)
    if detected is None:
        if score >= min_score(undetermined, ROUTE):
            return Decision(undetermined, ROUTED, "unsupported_language")
        return Decision(undetermined, BELOW_MIN)
    if score < min_score(detected, ROUTE):
        return Decision(undetermined, BELOW_MIN)
    return Decision(detected, ROUTED)
