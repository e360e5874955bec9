"""Mix specs (`catalog/mixes/*.yaml`): which releases go into a training mix, in what proportions.

A mix draws a token budget from one or more releases ("components"). How the budget is split:

* `natural` — every document at the same rate, so each part keeps its share of the available
  tokens. BLUUMI (FinGPT, arXiv:2311.05640; HF model card TurkuNLP/bloom-finnish-176b) is
  ROOTS + Finnish "without weighting": natural.
* `proportions` — explicit shares: one `weight` per component (`group_by: component`), or a
  `proportions` map keyed by language or by a named group of languages (`group_by: language`,
  `groups:`), the way BLOOM's training mix is given (bigscience-workshop/bigscience
  `data/catalogue/training_dataset_ratios_merged_nigercongo_v3.json`: `code` = the programming
  languages, `nigercongo-all` = the 22 Niger-Congo languages).
* `alpha` — XLM-style p_u ∝ (n_u / N)^alpha over the units (components or languages); give
  `alpha` or `temperature` (alpha = 1 / temperature).

Inside a unit the budget is split naturally by tokens: a unit of several languages (a group) or
several components (`group_by: language` over two releases) samples all of them at one rate.
`max_epochs` caps how often a document may be repeated (global, overridable per component);
`rehydrate` optionally upsamples by `dup_cluster_size` (FineWeb-2). The plan arithmetic lives in
`plan.py`; resolving the releases in `resolve.py`, the Beam job in `graph.py` and `job.py`.

Strict like the run config: unknown keys are errors, and every error names the spec file and
the field. Paths (`tokenizer`, each component's `release`) are relative to the spec file.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from rootstock.catalog.registry import UNDETERMINED, load_registry
from rootstock.errors import MixSpecError
from rootstock.paths import resolve_path
from rootstock.pipeline.beam.shards import ShardsConfig
from rootstock.strict import Strict, read_yaml_model

NAME = r"^[A-Za-z0-9][A-Za-z0-9._\-]*$"
_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12}

# FineWeb-2's published re-hydration weights (huggingface/fineweb-2 README): the key is the
# smallest `dup_cluster_size` the weight applies to — singletons ×1, clusters of 2 and 3 ×N,
# 4 ×3, 5–99 ×5, 100–999 ×8, 1000 and more ×1 (assumed low quality).
FINEWEB2_WEIGHTS: dict[int, float] = {1: 1, 2: 2, 3: 3, 5: 5, 100: 8, 1000: 1}


def parse_tokens(value: Any) -> int:
    """40000000000, "40B", "2.5M", "341_000_000" → tokens (decimal suffixes K, M, B/G, T)."""
    if isinstance(value, bool):
        raise ValueError("a token count is a number or a string such as 40B")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9][0-9_]*(?:\.[0-9]+)?)\s*([KkMmBbGgTt]?)\s*", value)
        if not match:
            raise ValueError(f"{value!r} is not a token count (e.g. 40B, 2.5M, 1000000)")
        number = float(match.group(1).replace("_", "")) * _SUFFIX[match.group(2).upper()]
    else:
        raise ValueError("a token count is a number or a string such as 40B")
    if not math.isfinite(number) or number < 1 or number != round(number):
        raise ValueError(f"{value!r} is not a whole, positive number of tokens")
    return int(round(number))


class Rehydrate(Strict):
    """Upsample documents by their duplicate cluster size (FineWeb-2 "re-hydration").

    A kept document of a cluster of size n stands for n near-copies in the raw crawl; FineWeb-2
    found that mid-sized clusters are better text than singletons and huge clusters, and
    repeated them. Here the weight redistributes a bucket's budget: a document's rate is the
    bucket's rate × weight / (token-weighted mean weight of the bucket), so the bucket's target
    (and the mix's proportions) stay as planned and only which documents fill it changes.
    The epoch cap applies to the resulting per-document rate.
    """

    enabled: bool = False
    # smallest dup_cluster_size → weight; a size takes the weight of the largest key ≤ it.
    weights: dict[int, float] = Field(default_factory=lambda: dict(FINEWEB2_WEIGHTS))

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: dict[int, float]) -> dict[int, float]:
        if 1 not in value:
            raise ValueError("weights need a key 1 (the weight of documents without duplicates)")
        for size, weight in value.items():
            if size < 1:
                raise ValueError(f"cluster size {size} < 1")
            if not weight > 0:
                raise ValueError(f"weight of cluster size {size} must be > 0 (got {weight})")
        return dict(sorted(value.items()))


class Component(Strict):
    """One release (or a slice of it: some languages, some sources) in the mix."""

    name: str = Field(pattern=NAME)
    release: str  # directory or URL holding manifest.json; relative to the spec file
    languages: list[str] | None = None  # None: every language of the release
    exclude_languages: list[str] = []
    sources: list[str] | None = None  # None: every source of the release
    exclude_sources: list[str] = []
    weight: float | None = Field(None, ge=0)  # weighting: proportions, group_by: component
    max_epochs: float | None = Field(None, gt=0)  # overrides the spec's max_epochs
    rehydrate: bool | None = None  # overrides rehydrate.enabled for this component

    @field_validator("languages", "sources")
    @classmethod
    def _not_empty(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("an empty list selects nothing; leave the key out to take everything")
        return value


class MixSpec(Strict):
    name: str = Field(pattern=NAME)
    description: str | None = None
    tokenizer: str  # SentencePiece .model or tokenizer.json (or a directory holding one)
    seed: int = 0
    total_tokens: int
    max_epochs: float = Field(1.0, gt=0)  # by default no document is repeated
    weighting: Literal["natural", "proportions", "alpha"]
    alpha: float | None = Field(None, gt=0)
    temperature: float | None = Field(None, gt=0)
    group_by: Literal["component", "language"] = "component"
    groups: dict[str, list[str]] = {}  # group name → languages (group_by: language)
    proportions: dict[str, float] = {}  # language or group → weight (group_by: language)
    # A proportions key with no data in any component / a language with data but no key.
    on_missing: Literal["error", "drop"] = "error"
    on_unlisted: Literal["error", "drop"] = "error"
    rehydrate: Rehydrate = Rehydrate()
    shards: ShardsConfig = ShardsConfig()
    components: list[Component] = Field(min_length=1)

    _as_written: dict[str, Any] | None = PrivateAttr(default=None)
    _path: str | None = PrivateAttr(default=None)
    _sha256: str | None = PrivateAttr(default=None)

    @field_validator("total_tokens", mode="before")
    @classmethod
    def _tokens(cls, value: Any) -> int:
        return parse_tokens(value)

    @field_validator("proportions")
    @classmethod
    def _proportions(cls, value: dict[str, float]) -> dict[str, float]:
        for key, weight in value.items():
            if not (isinstance(weight, (int, float)) and weight >= 0 and math.isfinite(weight)):
                raise ValueError(f"proportions[{key}] = {weight!r} is not a number ≥ 0")
        if value and not sum(value.values()) > 0:
            raise ValueError("the proportions sum to 0")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MixSpec:
        names = [c.name for c in self.components]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"component names must be unique: {dupes}")
        weights = [c.name for c in self.components if c.weight is not None]
        if self.weighting != "alpha" and (self.alpha is not None or self.temperature is not None):
            raise ValueError("`alpha`/`temperature` only apply to `weighting: alpha`")
        if self.weighting == "alpha" and (self.alpha is None) == (self.temperature is None):
            raise ValueError("`weighting: alpha` needs exactly one of `alpha` or `temperature`")
        if self.groups and self.group_by != "language":
            raise ValueError("`groups` only apply to `group_by: language`")
        if self.weighting == "proportions" and self.group_by == "component":
            missing = [c.name for c in self.components if c.weight is None]
            if missing:
                raise ValueError(
                    f"`weighting: proportions` with `group_by: component` needs a `weight` on every component; missing: {missing}"
                )
            if self.proportions:
                raise ValueError("`proportions` key languages (`group_by: language`); per component, set `weight`")
            if not sum(c.weight for c in self.components) > 0:
                raise ValueError("the component weights sum to 0")
        elif weights:
            raise ValueError(
                f"component `weight` only applies to `weighting: proportions` with `group_by: component` (set on {weights})"
            )
        if self.weighting == "proportions" and self.group_by == "language" and not self.proportions:
            raise ValueError("`weighting: proportions` with `group_by: language` needs a `proportions` map")
        if self.proportions and not (self.weighting == "proportions" and self.group_by == "language"):
            raise ValueError("`proportions` only apply to `weighting: proportions` with `group_by: language`")
        self._check_languages()
        return self

    def _check_languages(self) -> None:
        registry = load_registry()

        def check(code: str, where: str) -> None:
            if code == UNDETERMINED or code in registry:
                return
            hint = registry.resolve(code)
            raise ValueError(
                f"{where}: {code!r} is not a registry language code"
                + (f" (did you mean {hint!r}?)" if hint else " (see `rootstock languages`)")
            )

        grouped: dict[str, str] = {}
        for group, langs in self.groups.items():
            if group in registry:
                raise ValueError(f"groups: group name {group!r} is a language code; pick another name")
            if not langs:
                raise ValueError(f"groups.{group}: empty")
            for code in langs:
                check(code, f"groups.{group}")
                if code in grouped:
                    raise ValueError(f"groups: {code!r} is in both {grouped[code]!r} and {group!r}")
                grouped[code] = group
        for key in self.proportions:
            if key in self.groups:
                continue
            check(key, "proportions")
            if key in grouped:
                raise ValueError(f"proportions: {key!r} is in group {grouped[key]!r}; weight the group instead")
        for index, component in enumerate(self.components):
            for field in ("languages", "exclude_languages"):
                for code in getattr(component, field) or []:
                    check(code, f"components.{index}.{field}")

    # -- what the manifest records -------------------------------------------------------

    def unit_of(self, component: str, lang: str) -> str:
        """The unit a (component, language) bucket is weighted in."""
        if self.group_by == "component":
            return component
        for group, langs in self.groups.items():
            if lang in langs:
                return group
        return lang

    def canonical(self) -> dict[str, Any]:
        return self._as_written if self._as_written is not None else self.model_dump(mode="json")

    def sha256(self) -> str:
        """Hash of the spec as written (paths unresolved): same spec, same hash, same output."""
        return hashlib.sha256(json.dumps(self.canonical(), sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    @property
    def path(self) -> str | None:
        return self._path

    @property
    def file_sha256(self) -> str | None:
        """sha256 of the spec file's bytes (comments and all)."""
        return self._sha256

    def cap(self, component: Component) -> float:
        return component.max_epochs if component.max_epochs is not None else self.max_epochs

    def rehydrates(self, component: Component) -> bool:
        return component.rehydrate if component.rehydrate is not None else self.rehydrate.enabled


def load_spec(path: str | Path, *, tokenizer: str | None = None) -> MixSpec:
    """Read a mix spec; `tokenizer` and component releases become absolute (relative to the file).

    `tokenizer` overrides the spec's (a path as given on the command line).
    """
    path = Path(path)
    spec = read_yaml_model(path, MixSpec, "mix spec", MixSpecError)
    base = path.resolve().parent
    as_written = spec.model_dump(mode="json")
    resolved = spec.model_copy(
        update={
            "tokenizer": tokenizer if tokenizer is not None else resolve_path(spec.tokenizer, base),
            "components": [c.model_copy(update={"release": resolve_path(c.release, base)}) for c in spec.components],
        }
    )
    if tokenizer is not None:
        as_written["tokenizer"] = tokenizer
    resolved._as_written = as_written
    resolved._path = str(path)
    resolved._sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    return resolved
