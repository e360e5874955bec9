"""The `langid` stage: fastText LID verifies declared languages and routes undeclared sources.

The logic is `filters.langid.decide`; this module only batches documents through the model
(one fastText call per batch, the model loaded once per worker in `setup`).
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam
import pyarrow as pa

from catalog.registry import UNDETERMINED, load_registry
from filters import langid, quality
from pipeline.config import LangIdSettings
from pipeline.stages import STAGES, RunContext, Stage, StageOutput, rejected

REJECTED = "rejected"
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
            # ROOTS tuned this language (roots.md §2.3): its lang-id minimum applies to both modes.
            return quality.thresholds_for(lang).lang_id_min_cutoff
        return self.defaults[mode]

    def table(self, langs) -> dict[str, dict[str, float]]:
        return {lang: {mode: self(lang, mode) for mode in self.defaults} for lang in sorted(langs)}


def _identifier(settings: LangIdSettings) -> langid.LanguageIdentifier:
    return langid.LanguageIdentifier(
        settings.model, settings.label_map, settings.top_k, unreliable=settings.unreliable_labels
    )


class _Identify(beam.DoFn):
    def __init__(self, settings: LangIdSettings, declared: dict[str, list[str]]):
        self.settings, self.declared = settings, declared

    def setup(self):
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
        for doc, prediction in zip(natural, predictions):
            declared = self.declared.get(doc["source"], [])
            decision = langid.decide(doc["lang"], declared, prediction, self.covered, self.min_score)
            out = {
                **doc,
                "lang": decision.lang,
                "lang_score": prediction.score,
                "lang_topk": prediction.topk,
                "lang_check": decision.check,
            }
            if decision.reject:
                yield beam.pvalue.TaggedOutput(REJECTED, rejected(out, "langid", decision.reject))
            else:
                yield out


class LanguageId(Stage):
    name = "langid"
    columns = [
        pa.field("lang_score", pa.float64()),
        pa.field("lang_topk", TOPK_TYPE),
        pa.field("lang_check", pa.string()),
    ]

    def __init__(self, settings: LangIdSettings, context: RunContext):
        super().__init__(settings, context)
        registry = load_registry()
        natural = {lang.code for lang in registry.natural()}
        self.declared = {
            entry.uid: [code for code in entry.languages if code in natural] for entry in context.entries
        }

    def expand(self, documents) -> StageOutput:
        settings = self.settings
        results = (
            documents
            # A fixed size: predictions do not depend on it, and the adaptive size costs a fit per batch.
            | "Batch" >> beam.BatchElements(min_batch_size=settings.batch_size, max_batch_size=settings.batch_size)
            | "Identify" >> beam.ParDo(_Identify(settings, self.declared)).with_outputs(REJECTED, main="kept")
        )
        return StageOutput(results.kept, results[REJECTED])

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
        }

    @staticmethod
    def notes(doc: dict[str, Any]) -> list[str]:
        check = doc.get("lang_check")
        return [f"langid:{check}"] if check else []


STAGES[LanguageId.name] = LanguageId
