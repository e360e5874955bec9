"""`rootstock calibrate`: per-language thresholds from the metric quantiles of a trusted release.

ROOTS set its thresholds by hand, per language, looking at metric distributions with native
speakers; this proposes a starting point the same way from data: in a reference release the
curator trusts (say a Wikipedia sample curated with the same config), every calibrated check of
a language is put at the same tail quantile of that language's reference documents, the quantile
chosen (by bisection) so that all the checks together remove `target_removal` of the reference.
Lower bounds are rounded down and upper bounds up, so the written file never removes more of the
reference than the target. The language-ID bar is left to the langid stage (its per-mode
`min_score`; a quality override would flatten verify/route into one bar), the number-of-words
maximum guards against runaway documents and stays as it is.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from rootstock.errors import ConfigError, ReleaseError
from rootstock.filters import quality as q
from rootstock.pipeline.release.release import Release
from rootstock.pipeline.report import evaluate as ev
from rootstock.pipeline.report.data import Documents, load_documents

CALIBRATED = tuple(name for name in ev.CHECK_NAMES if name != "lang_id")
METRIC = {name: metric for name, metric, _, _ in ev.CHECKS}
LOWER = {name for name, _, low, _ in ev.CHECKS if low and ev.MOVED[name] == low}
DECIMALS = 4  # ratios; counts are whole numbers, perplexity one decimal
HEADER = "# Proposed by `rootstock calibrate`"  # the first line of the file it writes


@dataclasses.dataclass
class LanguageCalibration:
    lang: str
    reference_docs: float  # weighted documents of the reference the quantiles come from
    quantile: float  # the tail quantile every check of this language sits at
    reference_removal: float  # share of the reference the written thresholds remove
    thresholds: dict[str, float]  # threshold field → proposed value


@dataclasses.dataclass
class Calibration:
    release: str
    reference: str
    target_removal: float
    languages: list[LanguageCalibration]
    skipped: dict[str, str]  # language → why it was not calibrated

    def changes(self) -> dict[str, Any]:
        """The thresholds file's content (`refilter`'s format)."""
        return {"thresholds": {c.lang: dict(c.thresholds) for c in self.languages}}


def weighted_quantile(values: np.ndarray, weights: np.ndarray, p: float) -> float:
    """The smallest value v with (weighted) share(values <= v) >= P."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    k = int(np.searchsorted(cum, p * cum[-1] - 1e-12, side="left"))
    return float(values[order][min(k, len(values) - 1)])


def _round(field: str, value: float, lower: bool) -> float | int:
    if field.startswith("number_words"):
        return int(math.floor(value) if lower else math.ceil(value))
    scale = 10 ** (1 if field.startswith("perplexity") else DECIMALS)
    out = (math.floor if lower else math.ceil)(value * scale) / scale
    return min(max(out, 0.0), 1.0) if field in q._RATIOS else out


def _thresholds_at(values: dict[str, np.ndarray], weights: np.ndarray, p: float, rounded: bool) -> dict[str, float]:
    out = {}
    for name, v in values.items():
        field = ev.MOVED[name]
        lower = name in LOWER
        present = ~np.isnan(v)
        t = weighted_quantile(v[present], weights[present], p if lower else 1 - p)
        out[field] = _round(field, t, lower) if rounded else t
    return out


def _removal(values: dict[str, np.ndarray], weights: np.ndarray, thresholds: dict[str, float]) -> float:
    fails = np.zeros(len(weights), dtype=bool)
    nan = np.full(len(weights), np.nan)
    for name, v in values.items():
        t = np.full(len(weights), thresholds[ev.MOVED[name]])
        fails |= ev.check_fails(v, t, nan) if name in LOWER else ev.check_fails(v, nan, t)
    return float(weights[fails].sum() / weights.sum())


def calibrate_language(
    lang: str, values: dict[str, np.ndarray], weights: np.ndarray, target: float
) -> LanguageCalibration:
    """Bisect the common tail quantile p so the checks together remove TARGET of the reference."""
    lo, hi = 0.0, target
    for _ in range(40):
        mid = (lo + hi) / 2
        if _removal(values, weights, _thresholds_at(values, weights, mid, rounded=False)) <= target:
            lo = mid
        else:
            hi = mid
    thresholds = _thresholds_at(values, weights, lo, rounded=True)
    return LanguageCalibration(lang, float(weights.sum()), lo, _removal(values, weights, thresholds), thresholds)


def _stages(manifest: dict[str, Any]) -> list[str]:
    return [s["name"] for s in manifest.get("stages", [])]


def calibrate(
    release: Release,
    reference: Release,
    target_removal: float = 0.1,
    min_docs: int = 20,
    docs: Documents | None = None,
    reference_docs: Documents | None = None,
) -> Calibration:
    """Proposed thresholds for every natural language of RELEASE that REFERENCE has MIN_DOCS of."""
    if not 0 < target_removal < 1:
        raise ConfigError(f"--target-removal: {target_removal} is not a share between 0 and 1 (e.g. 0.1)")
    for r in (release, reference):
        if "quality" not in _stages(r.manifest):
            raise ReleaseError(f"{r.path}: made without the quality stage: its documents carry no quality metrics")
    docs = docs if docs is not None else load_documents(release)
    ref = reference_docs if reference_docs is not None else load_documents(reference)
    resolver = ev.resolver_for(ev.release_config(release.manifest))
    mine = ev.natural_mask(docs) & ev.reached_quality(docs, _stages(release.manifest))
    assessed = ev.natural_mask(ref) & ev.reached_quality(ref, _stages(reference.manifest))
    languages, skipped = [], {}
    for lang in sorted({str(x) for x in docs.lang[mine]}):
        idx = np.flatnonzero(assessed & (ref.lang == lang))
        if ref.weight[idx].sum() < min_docs:
            skipped[lang] = f"{ref.weight[idx].sum():.0f} reference documents (fewer than {min_docs})"
            continue
        b = ev.bounds(docs, np.flatnonzero(mine & (docs.lang == lang)), resolver)
        values = {}
        for name in CALIBRATED:
            in_force = b.low[name] if name in LOWER else b.high[name]
            v = ref.quality[METRIC[name]][idx]
            if np.isnan(in_force).all() or (~np.isnan(v)).sum() < min_docs:
                continue  # check off for this language, or no metric in the reference
            values[name] = v
        if not values:
            skipped[lang] = "no check in force with reference metrics"
            continue
        languages.append(calibrate_language(lang, values, ref.weight[idx], target_removal))
    return Calibration(release.path, reference.path, target_removal, languages, skipped)


def write_thresholds(calibration: Calibration, path: str | Path) -> None:
    """The proposal as a thresholds file `refilter` accepts, with where it came from on top."""
    head = [
        f"{HEADER}: per-language thresholds at metric quantiles of a reference.",
        f"# release:   {calibration.release}",
        f"# reference: {calibration.reference}",
        f"# target removal on the reference: {calibration.target_removal:g}",
    ]
    for c in calibration.languages:
        head.append(
            f"#   {c.lang}: {c.reference_docs:.0f} reference documents, tail quantile {c.quantile:.4f}, "
            f"removes {c.reference_removal:.1%} of them"
        )
    head += [f"#   {lang}: not calibrated ({why})" for lang, why in sorted(calibration.skipped.items())]
    body = yaml.safe_dump(calibration.changes(), sort_keys=False, allow_unicode=True)
    Path(path).write_text("\n".join(head) + "\n" + body, encoding="utf-8")
