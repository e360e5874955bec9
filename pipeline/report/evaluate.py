"""Quality decisions recomputed from the stored metrics, for any thresholds, for all documents at once.

The quality stage stores every metric on every document, so "what would these thresholds
remove" is a comparison per metric; done over arrays it costs milliseconds for 100k documents,
which is what lets the report show the effect of a small change of every threshold of every
language. Thresholds come from the same `ThresholdResolver` the stage and `refilter` use (per
source, language and language-ID mode), proposed ones from a thresholds file merged into the
release's config the way `refilter` merges it; the checks are `filters.quality.first_failure`'s,
in its order (the tests hold the two to the same answers, and to `refilter`'s).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from rootstock.catalog.registry import load_registry
from rootstock.errors import ConfigError
from rootstock.filters import code as code_filters
from rootstock.filters import quality as q
from rootstock.pipeline.config import RunConfig
from rootstock.pipeline.jobs.refilter import load_thresholds, merge_changes
from rootstock.pipeline.release.release import Release
from rootstock.pipeline.report.data import Documents
from rootstock.pipeline.stages.quality import ThresholdResolver, lid_mode
from rootstock.strict import validation_problems

# filters.quality._checks as data: (filter, metric, lower-bound field, upper-bound field), in order.
CHECKS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("number_of_words", "number_of_words", "number_words_min_cutoff", "number_words_max_cutoff"),
    ("character_repetition", "character_repetition_ratio", None, "character_repetition_max_cutoff"),
    ("word_repetition", "word_repetition_ratio", None, "word_repetition_max_cutoff"),
    ("special_characters", "special_characters_ratio", None, "special_characters_max_cutoff"),
    ("stopwords", "stopwords_ratio", "stopwords_min_cutoff", None),
    ("flagged_words", "flagged_words_ratio", None, "flagged_words_max_cutoff"),
    ("lang_id", "lang_id_score", "lang_id_min_cutoff", None),
    ("perplexity", "perplexity", None, "perplexity_max_cutoff"),
)
CHECK_NAMES = tuple(c[0] for c in CHECKS)
# The bound a calibration or a "small change" moves per check: the number-of-words maximum
# (100,000 words in ROOTS) guards against runaway documents, not quality, and stays.
MOVED = {name: (low or high) for name, _, low, high in CHECKS}
SMALL_CHANGE = 0.10  # a "small change": the threshold moved by 10% of its value
PASSED = ""


def release_config(manifest: dict[str, Any], changes: dict[str, Any] | None = None, where: str = "") -> RunConfig:
    """The release's run config, with CHANGES (a thresholds file's content) merged into
    `stages.quality` as `refilter` merges them; ConfigError naming WHERE if they do not fit."""
    data = manifest["config"]
    if changes:
        data = merge_changes(data, changes, where or "thresholds")
    try:
        config = RunConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError("invalid thresholds", problems=validation_problems(err, where or "config")) from None
    if changes:
        resolver = ThresholdResolver(config.stages.quality, config.stages.langid)
        try:
            resolver.check([lang.code for lang in load_registry().natural()], sorted(manifest["sources"]))
        except ConfigError as err:
            problems = [(where, p.field.removeprefix("stages.quality."), p.reason) for p in err.problems]
            raise ConfigError("invalid thresholds", problems=problems) from None
    return config


def resolver_for(config: RunConfig) -> ThresholdResolver:
    return ThresholdResolver(config.stages.quality, config.stages.langid)


@dataclasses.dataclass
class Proposal:
    """Thresholds read from a file (`refilter`'s format), with the resolver they give."""

    path: str
    changes: dict[str, Any]
    resolver: ThresholdResolver


def read_proposal(release: Release, path: str | Path) -> Proposal:
    changes = load_thresholds(path)
    config = release_config(release.manifest, changes, str(path))
    return Proposal(str(path), changes, resolver_for(config))


@dataclasses.dataclass
class Bounds:
    """Per document, the lower and upper bound of every check (NaN: no bound)."""

    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray]


def natural_mask(docs: Documents) -> np.ndarray:
    """Documents the natural-language checks were applied to (those that carry the metrics)."""
    return docs.has_quality & ~docs.has_code


def modes(docs: Documents, idx: np.ndarray) -> list[str | None]:
    return [lid_mode({"lang_check": docs.strings["lang_check"][i]}) for i in idx]


def bounds(docs: Documents, idx: np.ndarray, resolver: ThresholdResolver) -> Bounds:
    """The thresholds each document at IDX is held to (per source, language and lang-ID mode)."""
    keys = list(zip(docs.source[idx], docs.lang[idx], modes(docs, idx), strict=True))
    table = {key: resolver.natural(*key) for key in set(keys)}
    low, high = {}, {}
    for name, _, lo, hi in CHECKS:
        for field, out in ((lo, low), (hi, high)):
            values = [getattr(table[k], field) if field else None for k in keys]
            out[name] = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return Bounds(low, high)


def failures(docs: Documents, idx: np.ndarray, b: Bounds) -> np.ndarray:
    """(documents × checks) booleans: does the document fail that check? (A missing metric or
    bound never fails, as in `first_failure`.)"""
    out = np.zeros((len(idx), len(CHECKS)), dtype=bool)
    for j, (name, metric, _, _) in enumerate(CHECKS):
        out[:, j] = check_fails(docs.quality[metric][idx], b.low[name], b.high[name])
    return out


def check_fails(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        below = ~np.isnan(low) & (values < low)
        above = ~np.isnan(high) & (values > high)
    return ~np.isnan(values) & (below | above)


def first_failures(fails: np.ndarray) -> np.ndarray:
    """The first failing check's name per document, PASSED where none fails."""
    names = np.array([*CHECK_NAMES, PASSED], dtype=object)
    first = np.where(fails.any(axis=1), fails.argmax(axis=1), len(CHECK_NAMES))
    return names[first]


def code_failures(docs: Documents, idx: np.ndarray, resolver: ThresholdResolver) -> np.ndarray:
    """`code_first_failure` of each code document at IDX (PASSED where it passes)."""
    out = np.full(len(idx), PASSED, dtype=object)
    for k, i in enumerate(idx):
        failure = code_filters.code_first_failure(
            docs.code_metrics(i), docs.strings["license"][i], resolver.code(docs.source[i])
        )
        out[k] = failure or PASSED
    return out


def decisions(docs: Documents, idx: np.ndarray, resolver: ThresholdResolver) -> np.ndarray:
    """The quality stage's verdict on each document at IDX under RESOLVER's thresholds: the failing
    filter, PASSED, or None for a document without metrics (dropped before the quality stage)."""
    out = np.full(len(idx), None, dtype=object)
    natural = natural_mask(docs)[idx]
    if natural.any():
        sub = idx[natural]
        out[natural] = first_failures(failures(docs, sub, bounds(docs, sub, resolver)))
    code = docs.has_code[idx]
    if code.any():
        out[code] = code_failures(docs, idx[code], resolver)
    return out


def reached_quality(docs: Documents, stages: list[str]) -> np.ndarray:
    """Documents the quality stage assessed: kept, dropped by it, or dropped by a later stage."""
    later = set(stages[stages.index("quality") :]) if "quality" in stages else set()
    return (docs.has_quality | docs.has_code) & (docs.kept | np.isin(docs.stage, list(later)))


@dataclasses.dataclass
class Refiltered:
    """What `refilter` with some thresholds does to the documents present in a release."""

    docs_out: Counter  # (source, lang) → kept documents after
    dropped: Counter  # (source, lang, reason) → quality drops after
    removed: Counter  # (source, lang) → kept documents that would be dropped
    restored: Counter  # (source, lang) → rejected-set documents that would come back


def predict_refilter(docs: Documents, resolver: ThresholdResolver) -> Refiltered:
    """`refilter`'s outcome without running it: kept documents and the quality-rejected ones of the
    rejected set are judged again (the others stay rejected; unsampled rejects cannot come back)."""
    idx = np.flatnonzero(docs.kept | (docs.stage == "quality"))
    verdicts = decisions(docs, idx, resolver)
    result = Refiltered(Counter(), Counter(), Counter(), Counter())
    for i, verdict in zip(idx, verdicts, strict=True):
        cell = (docs.source[i], docs.lang[i])
        if verdict == PASSED:
            result.docs_out[cell] += 1
            result.restored[cell] += int(not docs.kept[i])
        elif verdict is not None:
            result.dropped[(*cell, verdict)] += 1
            result.removed[cell] += int(docs.kept[i])
        elif docs.kept[i]:  # kept without metrics (quality was off): refilter would not reach it
            result.docs_out[cell] += 1
    return result


@dataclasses.dataclass
class Sensitivity:
    """One check of one language: how much a threshold (and a small change of it) removes."""

    check: str
    field: str
    thresholds: list[float]  # distinct values in force (per source / lang-ID mode)
    failing: float  # weighted documents failing this check (whatever else they fail)
    first: float  # weighted documents for which this is the first failing check
    stricter: float  # weighted documents passing every check now, failing after a SMALL_CHANGE tightening
    looser: float  # weighted documents failing now, passing every check after a SMALL_CHANGE loosening


def sensitivities(docs: Documents, idx: np.ndarray, resolver: ThresholdResolver) -> list[Sensitivity]:
    """Per check, for the natural-language documents at IDX (one language): what it removes now and
    what a SMALL_CHANGE of its threshold (other thresholds unchanged) would add or give back."""
    if not len(idx):
        return []
    b = bounds(docs, idx, resolver)
    fails = failures(docs, idx, b)
    w = docs.weight[idx]
    passing = ~fails.any(axis=1)
    first = first_failures(fails)
    out = []
    for j, (name, metric, lo, hi) in enumerate(CHECKS):
        field = MOVED[name]
        moved = b.low[name] if field == lo else b.high[name]
        present = moved[~np.isnan(moved)]
        if not len(present):
            continue
        others = np.delete(fails, j, axis=1).any(axis=1)
        values = docs.quality[metric][idx]
        results = []
        for sign in (+1, -1):  # +1 tightens
            factor = 1 + sign * SMALL_CHANGE if field == lo else 1 - sign * SMALL_CHANGE
            changed = _clip(field, moved * factor)
            low = changed if field == lo else b.low[name]
            high = changed if field == hi else b.high[name]
            now = ~(others | check_fails(values, low, high))
            results.append(float(w[passing & ~now].sum()) if sign > 0 else float(w[~passing & now].sum()))
        out.append(
            Sensitivity(
                check=name,
                field=field,
                thresholds=sorted({float(v) for v in present}),
                failing=float(w[fails[:, j]].sum()),
                first=float(w[first == name].sum()),
                stricter=results[0],
                looser=results[1],
            )
        )
    return out


def _clip(field: str, values: np.ndarray) -> np.ndarray:
    if field in q._RATIOS:
        return np.clip(values, 0.0, 1.0)
    return values


def quality_removal(docs: Documents, idx: np.ndarray, resolver: ThresholdResolver) -> tuple[float, dict[str, float]]:
    """Weighted documents at IDX the quality stage would drop under RESOLVER, in total and by filter."""
    verdicts = decisions(docs, idx, resolver)
    w = docs.weight[idx]
    by: dict[str, float] = {}
    for verdict, weight in zip(verdicts, w, strict=True):
        if verdict not in (None, PASSED):
            by[verdict] = by.get(verdict, 0.0) + float(weight)
    return sum(by.values()), dict(sorted(by.items()))
