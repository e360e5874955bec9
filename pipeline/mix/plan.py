"""The arithmetic of a mix: available tokens → targets → sampling rates, and the sampling itself.

Pure functions (no Beam), so the plan can be computed and refused before any work and tested
on its own.

Units and buckets. A *bucket* is what one rate applies to: (component, language, rehydration
class). A *unit* is what the spec weights: a component (`group_by: component`) or a language or
named group of languages (`group_by: language`). Every bucket of a unit gets the unit's rate, so
inside a unit the budget is split naturally by tokens.

    available A_u = Σ tokens of the unit's buckets
    weight    w_u = natural: A_u / Σ A;  proportions: p_u / Σ p;  alpha: (A_u/ΣA)^α / Σ (…)^α
    target    T_u = w_u × total_tokens
    rate      r_u = T_u / A_u              (1.0 = every document once)

With rehydration a bucket splits by cluster-size class c with weight m_c, and its rate becomes
r_u × m_c / m̄ (m̄ = token-weighted mean of m_c over the bucket), which keeps the bucket's target.
A rate above the component's `max_epochs` makes the spec unreachable: `plan` raises with the
unit, its available and target tokens, the epochs it would need and the cap, and the largest
`total_tokens` that every cap allows.

Sampling. A document with rate r appears floor(r) times (epochs 0…floor(r)-1), plus once more
(epoch floor(r)) if it falls in the fractional part. The fractional part is not a coin flip per
document: each document gets a uniform position u from blake2b(seed, component, id), and the
bucket takes the documents with the smallest u until frac(r) × A tokens are reached. The cut is
found from a token-weighted histogram of u over BINS bins (a combine in the Beam job, so it
scales), which makes the achieved tokens of a bucket exact to within one bin (≤ 1/16384 of the
bucket, or one document when bins hold at most one) instead of a binomial spread — this is what
keeps achieved shares within a fraction of a percentage point of the target on small inputs.
Since u does not depend on length, the selected documents are a uniform random sample.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tabulate import tabulate

from rootstock.errors import MixSpecError, UnreachableMixError
from rootstock.pipeline.mix.spec import MixSpec

BINS = 1 << 14
NO_CLASS = -1  # bucket of a component without rehydration
_TOLERANCE = 1e-9


# -- hashing: deterministic, runner-independent ----------------------------------------------


def _hash64(person: bytes, *parts: Any) -> int:
    payload = "\x00".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(payload, digest_size=8, person=person).digest(), "big")


def position_bin(seed: int, component: str, doc_id: str, bins: int = BINS) -> int:
    """The document's uniform position u in [0, 1), as a bin index in [0, bins)."""
    return _hash64(b"rootstock-frac", seed, component, doc_id) * bins >> 64


def shuffle_key(seed: int, component: str, doc_id: str, epoch: int) -> int:
    """Where a copy lands: shard = key mod M, then rows sorted by key inside the shard."""
    return _hash64(b"rootstock-shuf", seed, component, doc_id, epoch)


# -- rehydration ----------------------------------------------------------------------------


def rehydrate_class(size: int | None, limits: list[int]) -> int:
    """Index of the weight that applies to a cluster of `size` (no cluster recorded: size 1)."""
    size = 1 if size is None or size < 1 else size
    return bisect.bisect_right(limits, size) - 1


# -- the plan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Available:
    """Tokens and documents a component offers in one language (and rehydration class)."""

    component: str
    lang: str
    cls: int
    docs: int
    tokens: int


@dataclass
class BucketPlan:
    component: str
    lang: str
    cls: int
    unit: str
    docs: int
    tokens: int
    multiplier: float
    rate: float
    cap: float

    @property
    def full(self) -> int:
        return math.floor(self.rate)

    @property
    def frac(self) -> float:
        return self.rate - self.full

    @property
    def target(self) -> float:
        return self.rate * self.tokens


@dataclass
class UnitPlan:
    unit: str
    components: list[str]
    languages: list[str]
    tokens: int
    docs: int
    weight: float  # normalised share of the budget
    target: float
    rate: float  # before rehydration
    dropped: str | None = None


@dataclass
class Plan:
    total_tokens: int
    weighting: str
    group_by: str
    units: list[UnitPlan]
    buckets: list[BucketPlan]
    notes: list[str] = field(default_factory=list)

    def rates(self) -> dict[tuple[str, str, int], tuple[int, float]]:
        """(component, lang, cls) → (full epochs, fractional part): what the workers need."""
        return {(b.component, b.lang, b.cls): (b.full, b.frac) for b in self.buckets}

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_tokens": self.total_tokens,
            "weighting": self.weighting,
            "group_by": self.group_by,
            "units": [
                {
                    "unit": u.unit,
                    "components": u.components,
                    "languages": u.languages,
                    "available_tokens": u.tokens,
                    "available_docs": u.docs,
                    "target_share": u.weight,
                    "target_tokens": round(u.target),
                    "epochs": u.rate,
                    "dropped": u.dropped,
                }
                for u in self.units
            ],
            "notes": self.notes,
        }


def _weights(spec: MixSpec, units: dict[str, int]) -> tuple[dict[str, float], dict[str, str], list[str]]:
    """Unnormalised weight per unit, units left out (→ reason), notes."""
    dropped: dict[str, str] = {}
    notes: list[str] = []
    total = sum(units.values())
    if spec.weighting == "natural":
        return {u: float(n) for u, n in units.items()}, dropped, notes
    if spec.weighting == "alpha":
        alpha = spec.alpha if spec.alpha is not None else 1.0 / spec.temperature
        return {u: (n / total) ** alpha if n else 0.0 for u, n in units.items()}, dropped, notes
    if spec.group_by == "component":
        weights = {c.name: float(c.weight) for c in spec.components}
    else:
        weights = dict(spec.proportions)
        missing = sorted(k for k, w in weights.items() if w > 0 and not units.get(k))
        if missing:
            if spec.on_missing == "error":
                raise MixSpecError(
                    f"{spec.path}: proportions: no component has any tokens for {missing} "
                    f"(units with data: {sorted(units)}); set `on_missing: drop` to renormalise over the rest"
                )
            notes.append(f"proportions for {missing} dropped (no data); the others renormalised")
        unlisted = sorted(u for u in units if u not in weights)
        if unlisted:
            if spec.on_unlisted == "error":
                detail = ", ".join(f"{u} ({units[u]:,} tokens)" for u in unlisted)
                raise MixSpecError(
                    f"{spec.path}: proportions: no weight for {detail}; add them to `proportions` "
                    "(or a group), narrow the components, or set `on_unlisted: drop`"
                )
            for u in unlisted:
                dropped[u] = "no weight in proportions (on_unlisted: drop)"
            notes.append(f"{unlisted} have data but no weight: left out (on_unlisted: drop)")
        weights = {u: w for u, w in weights.items() if units.get(u)}
    for u in units:
        if weights.get(u, 0.0) == 0.0 and u not in dropped:
            dropped[u] = "weight 0"
    return weights, dropped, notes


def plan(spec: MixSpec, available: list[Available], multipliers: dict[int, float] | None = None) -> Plan:
    """Targets and rates for every bucket; UnreachableMixError if any rate exceeds its cap.

    `multipliers` maps a rehydration class to its weight (classes ≥ 0; NO_CLASS is 1).
    """
    multipliers = {NO_CLASS: 1.0, **(multipliers or {})}
    caps = {c.name: spec.cap(c) for c in spec.components}
    unit_tokens: dict[str, int] = {}
    unit_docs: dict[str, int] = {}
    members: dict[str, tuple[set[str], set[str]]] = {}
    for a in available:
        unit = spec.unit_of(a.component, a.lang)
        unit_tokens[unit] = unit_tokens.get(unit, 0) + a.tokens
        unit_docs[unit] = unit_docs.get(unit, 0) + a.docs
        comps, langs = members.setdefault(unit, (set(), set()))
        comps.add(a.component)
        langs.add(a.lang)
    if not sum(unit_tokens.values()):
        raise MixSpecError(f"{spec.path}: the components hold no tokens at all")

    weights, dropped, notes = _weights(spec, unit_tokens)
    weight_sum = sum(w for u, w in weights.items() if u in unit_tokens and u not in dropped)
    units: list[UnitPlan] = []
    for unit in sorted(unit_tokens):
        share = 0.0 if unit in dropped else weights.get(unit, 0.0) / weight_sum
        target = share * spec.total_tokens
        tokens = unit_tokens[unit]
        units.append(
            UnitPlan(
                unit=unit,
                components=sorted(members[unit][0]),
                languages=sorted(members[unit][1]),
                tokens=tokens,
                docs=unit_docs[unit],
                weight=share,
                target=target,
                rate=target / tokens if tokens else 0.0,
                dropped=dropped.get(unit),
            )
        )
    unit_rate = {u.unit: u.rate for u in units}

    # Rehydration: the mean class weight of each (component, lang) bucket, weighted by tokens.
    mean: dict[tuple[str, str], tuple[float, int]] = {}
    for a in available:
        key = (a.component, a.lang)
        s, n = mean.get(key, (0.0, 0))
        mean[key] = (s + multipliers[a.cls] * a.tokens, n + a.tokens)
    buckets: list[BucketPlan] = []
    for a in sorted(available, key=lambda a: (a.component, a.lang, a.cls)):
        unit = spec.unit_of(a.component, a.lang)
        s, n = mean[(a.component, a.lang)]
        factor = multipliers[a.cls] / (s / n) if n else 1.0
        rate = unit_rate[unit] * factor
        cap = caps[a.component]
        if cap < rate <= cap * (1 + _TOLERANCE):
            rate = cap  # float noise, not a request for another epoch
        buckets.append(
            BucketPlan(
                component=a.component,
                lang=a.lang,
                cls=a.cls,
                unit=unit,
                docs=a.docs,
                tokens=a.tokens,
                multiplier=multipliers[a.cls],
                rate=rate,
                cap=cap,
            )
        )
    result = Plan(spec.total_tokens, spec.weighting, spec.group_by, units, buckets, notes)
    _check_caps(spec, result)
    return result


def _check_caps(spec: MixSpec, result: Plan) -> None:
    over = [b for b in result.buckets if b.tokens and b.rate > b.cap]
    if not over:
        return
    # Rates scale with total_tokens: the largest budget every cap allows.
    fits = min(b.cap / b.rate for b in result.buckets if b.tokens and b.rate > 0) * result.total_tokens * (1 + 1e-12)
    units = {u.unit: u for u in result.units}
    rows = []
    seen = set()
    for b in sorted(over, key=lambda b: (b.unit, -b.rate)):
        key = (b.unit, b.component)
        if key in seen:
            continue
        seen.add(key)
        u = units[b.unit]
        rows.append(
            [
                b.unit,
                b.component,
                f"{u.tokens:,}",
                f"{round(u.target):,} ({100 * u.weight:.2f}%)",
                f"{b.rate:.3f}"
                + (f" (rehydration class ×{b.multiplier:g}, lang {b.lang})" if b.cls != NO_CLASS else ""),
                f"{b.cap:g}",
            ]
        )
    header = ["unit", "component", "available tokens", "target tokens (share)", "epochs needed", "max_epochs"]
    table = tabulate(rows, headers=header, tablefmt="plain", disable_numparse=True)
    raise UnreachableMixError(
        f"{spec.path}: mix {spec.name!r} is unreachable: total_tokens {result.total_tokens:,} needs more epochs "
        f"than max_epochs allows for {len(rows)} unit(s):\n{table}\n"
        f"With these weights and caps total_tokens can be at most {math.floor(fits):,}; "
        "or raise max_epochs (per component), or lower these units' weights."
    )


def threshold(histogram, target: float) -> int:
    """The cut b (take the bins < b) whose tokens come closest to `target`; ties: the smaller b."""

    cumulative = np.concatenate(([0], np.cumsum(np.asarray(histogram, dtype=np.int64))))
    return int(np.argmin(np.abs(cumulative - target)))


def copies(full: int, position: int, cut: int) -> int:
    """How many times a document is written: every full epoch, plus the fractional one if selected."""
    return full + (1 if position < cut else 0)
