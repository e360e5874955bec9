"""Per-backend, per-language minimum scores from labelled text, for a target precision.

One floor for every language (ROOTS's 0.7 for routing) is wrong twice over: a model's scores
mean different things per language (lid.176 is right on Swahili but rarely sure of it), and
different backends score on different scales (a fastText probability, CLD2's share of bytes,
franc's margin). `calibrate` finds, for each (backend, language) the policy decides with, the
lowest minimum at which the routed texts reach `target_precision` on the labelled texts, which
is the minimum with the best recall at that precision; and the verify minimum that keeps
`keep` of the genuine texts (never above the routing one). A policy's backends gate one another
by these minimums, so `calibrate_policy` repeats until the table stops changing. The result is
keyed by backend version (library + version, or model file + sha256) and serialises to the JSON
that `policy.load_calibration` reads; languages ROOTS tuned with lid.176 keep ROOTS's values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rootstock.filters.langid.backends import FastTextBackend
from rootstock.filters.langid.decide import ROUTE, VERIFY
from rootstock.filters.langid.identifier import LID176_FTZ_SHA256, Prediction
from rootstock.filters.langid.policy import VOTE, Ensemble, LangIdPolicy, PolicySpec, roots_minimum

MIN_SUPPORT = 3  # fewer correct texts than this: too little evidence, the default stands
NEVER = 1.01  # a minimum no score reaches: no minimum gives the target precision


@dataclass
class Threshold:
    route: float
    verify: float
    n: int  # texts the backend routed to the language (any score)
    correct: int  # of which right
    precision: float  # at the route minimum
    recall: float  # of the language's texts, routed right by this backend at the route minimum
    reached: bool  # False: no minimum reaches the target precision (route is then NEVER)

    def as_dict(self) -> dict:
        return {
            ROUTE: round(self.route, 4),
            VERIFY: round(self.verify, 4),
            "n": self.n,
            "correct": self.correct,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "reached": self.reached,
        }


@dataclass
class Calibration:
    """backend version → language → Threshold, and how it was made."""

    target_precision: float
    keep: float
    tables: dict[str, dict[str, Threshold]] = field(default_factory=dict)
    made_with: dict = field(default_factory=dict)

    def minimums(self) -> dict[str, dict[str, dict[str, float]]]:
        """The table as `policy.load_calibration` returns it."""
        return {
            version: {lang: {ROUTE: t.route, VERIFY: t.verify} for lang, t in table.items()}
            for version, table in self.tables.items()
        }

    def to_json(self) -> dict:
        return {
            "made_with": self.made_with,
            "target_precision": self.target_precision,
            "keep": self.keep,
            "backends": {
                version: {lang: t.as_dict() for lang, t in sorted(table.items())}
                for version, table in sorted(self.tables.items())
            },
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def thresholds(
    truths: Sequence[str],
    predictions: Sequence[Prediction],
    versions: dict[str, str],
    target_precision: float = 0.95,
    keep: float = 0.99,
    fixed: Callable[[str, str], bool] | None = None,
    defaults: dict[str, float] | None = None,
) -> dict[str, dict[str, Threshold]]:
    """One pass: per (backend version, language) the lowest minimum reaching `target_precision`.

    Only languages with labelled texts are calibrated (with no text of a language, the share of
    its readings that are right is unknown); `fixed(backend, lang)` marks minimums that stay as
    they are (ROOTS's own). Where every reading is precise enough down to the lowest score, no
    error argues for a minimum above the backend's default (`defaults[backend]`), so the lower of
    the two stands.
    """
    present = set(truths)
    total = {lang: truths.count(lang) for lang in present}
    groups: dict[tuple[str, str], list[tuple[float, bool]]] = {}
    for truth, prediction in zip(truths, predictions, strict=True):
        if prediction.lang is None or prediction.backend is None or prediction.lang not in present:
            continue
        if fixed is not None and fixed(prediction.backend, prediction.lang):
            continue
        groups.setdefault((prediction.backend, prediction.lang), []).append(
            (prediction.score, truth == prediction.lang)
        )
    out: dict[str, dict[str, Threshold]] = {}
    for (backend, lang), scored in sorted(groups.items()):
        correct = sum(ok for _, ok in scored)
        if correct < MIN_SUPPORT:
            continue
        route, precision, routed_right, reached = _lowest_precise(scored, target_precision)
        if reached and route <= min(score for score, _ in scored):
            route = min(route, (defaults or {}).get(backend, route))
        right_scores = sorted(score for score, ok in scored if ok)
        verify = min(route, right_scores[int((1 - keep) * len(right_scores))])
        version = versions.get(backend, backend)
        out.setdefault(version, {})[lang] = Threshold(
            route=route,
            verify=verify,
            n=len(scored),
            correct=correct,
            precision=precision,
            recall=routed_right / total[lang],
            reached=reached,
        )
    return out


def _lowest_precise(scored: list[tuple[float, bool]], target: float) -> tuple[float, float, int, bool]:
    """(minimum, precision at it, right texts at or above it, reached) for the lowest minimum at target."""
    ordered = sorted(scored, key=lambda pair: -pair[0])
    best: tuple[float, float, int, bool] | None = None
    right = seen = 0
    i = 0
    while i < len(ordered):
        score = ordered[i][0]
        while i < len(ordered) and ordered[i][0] == score:  # ties go in together
            right += ordered[i][1]
            seen += 1
            i += 1
        if right / seen >= target:
            best = (score, right / seen, right, True)
    if best is None:
        return NEVER, 0.0, 0, False
    return best


def calibrate_policy(
    policy: LangIdPolicy,
    texts: Sequence[str],
    truths: Sequence[str],
    target_precision: float = 0.95,
    keep: float = 0.99,
    rounds: int = 4,
    **ensemble_kwargs,
) -> Calibration:
    """Minimums for every (backend, language) the policy routes with, repeated to a fixed point."""
    table: dict[str, dict[str, dict[str, float]]] = {}
    result = Calibration(target_precision, keep)
    for _ in range(rounds):
        ensemble = Ensemble(policy, calibration=table, **ensemble_kwargs)
        predictions = ensemble.predict_batch(list(texts))
        versions = {**ensemble.versions(), VOTE: VOTE}
        fixed = _roots_fixed(ensemble)
        defaults = {name: spec.default_min for name, spec in policy.backends.items()}
        result.tables = thresholds(truths, predictions, versions, target_precision, keep, fixed, defaults)
        result.made_with = {"backends": ensemble.versions(), "texts": len(texts)}
        new = result.minimums()
        if new == table:
            break
        table = new
    return result


def calibrate_backend(
    backend_name: str,
    policy: LangIdPolicy,
    texts: Sequence[str],
    truths: Sequence[str],
    target_precision: float = 0.95,
    keep: float = 0.99,
) -> Calibration:
    """Minimums for one backend of `policy` used alone."""
    alone = LangIdPolicy(
        backends={backend_name: policy.backends[backend_name]}, policy=PolicySpec(primary=backend_name)
    )
    return calibrate_policy(alone, texts, truths, target_precision, keep, rounds=1)


def _roots_fixed(ensemble: Ensemble) -> Callable[[str, str], bool]:
    """ROOTS's own minimums (lid.176 on the languages ROOTS tuned) and explicit ones are not recalibrated."""

    def fixed(backend: str, lang: str) -> bool:
        if lang in ensemble.policy.min_score.get(backend, {}):
            return True
        instance = ensemble.backends.get(backend)
        return (
            isinstance(instance, FastTextBackend)
            and instance.sha256 == LID176_FTZ_SHA256
            and roots_minimum(lang) is not None
        )

    return fixed


CALIBRATION_SETS = ("udhr.jsonl.gz", "everyday.jsonl.gz")  # of catalog/sample/langid/


def shipped_calibration(target_precision: float = 0.95, keep: float = 0.99) -> Calibration:
    """The table shipped as min_scores.json: the default policy on the calibration half of the shipped sets."""
    from rootstock.filters.langid.evaluate import SHIPPED, load_items  # noqa: PLC0415 - evaluate imports this module's neighbours
    from rootstock.filters.langid.policy import default_policy  # noqa: PLC0415

    # The CLDR and LibreOffice sets stay out: registers the policy was not tuned on.
    items = load_items([SHIPPED / name for name in CALIBRATION_SETS], split="calibration")
    result = calibrate_policy(
        default_policy(), [i.text for i in items], [i.lang for i in items], target_precision, keep
    )
    result.made_with["how"] = (
        "filters.langid.calibrate.shipped_calibration(): the default policy on the calibration split "
        "(paragraphs and 60-character snippets) of catalog/sample/langid/{udhr,everyday}.jsonl.gz; "
        f"per (backend, language) the lowest minimum at precision >= {target_precision} (route) and the "
        f"score keeping {keep:.0%} of right readings (verify); ROOTS's lid.176 values are not recalibrated"
    )
    return result
