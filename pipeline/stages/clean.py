"""The `clean` stage: ROOTS's per-source cleaning, before language ID and quality filtering.

Each catalogue entry lists its steps under `clean:` (catalog/entry.py; the text logic is in
filters/cleaning.py). BigScience chose them per dataset and ran them before anything else
(bigscience-workshop/data-preparation, preprocessing/training/01a_catalogue_cleaning_and_filtering/
clean.py; the per-dataset lists are its data/training_v2.csv). A dropped document is rejected as
`clean:<step>`; a modified one records (step, bytes removed) in the `clean_edits` column, counted
as the notes `clean:<step>` and `clean:<step>:bytes_removed`.

ROOTS gave every dataset of a language the same size floor (filter_small_docs_bytes_300 or
_1024, the registry's `min_doc_bytes`); that floor applies to every source that does not list
`small_docs_bytes` itself, unless the run config says `min_doc_bytes: off`. It needs the
document's language, so it does not apply to documents whose language is undetermined (`und`)
until language ID: a crawl that wants a floor lists `small_docs_bytes` with a number.
"""

from __future__ import annotations

from typing import Any, Literal

import apache_beam as beam
import ftfy
import numpy as np
import pyarrow as pa
from pydantic import field_validator

from rootstock.catalog.entry import CLEAN_ORDER, DedupPseudocrawlNewspapers, FixMojibake, SmallDocsBytes
from rootstock.catalog.registry import UNDETERMINED, load_registry
from rootstock.filters import cleaning
from rootstock.filters.dedup import frequent_hashes
from rootstock.pipeline.beam.spill import through_files
from rootstock.pipeline.stages.base import (
    REJECTED,
    DocumentFn,
    DocumentStage,
    Note,
    RunContext,
    StageOutput,
    StageSettings,
    rejected,
)

EDITS_TYPE = pa.list_(pa.struct([("step", pa.string()), ("bytes_removed", pa.int64())]))
_SPLIT = CLEAN_ORDER.index("dedup_pseudocrawl_newspapers")  # steps before it run first, then it, then the rest
_PARTITIONS = 16  # hash partitions of the repeated-line count: a reducer holds 1/16 of a source's lines
_BATCH = 2000


class CleanSettings(StageSettings):
    """On by default: with no `clean:` in the catalogue only the registry's size floor runs."""

    enabled: bool = True
    # What applies to a source whose entry does not list `small_docs_bytes`: the registry's
    # `min_doc_bytes` of each document's language (ROOTS), or no size floor.
    min_doc_bytes: Literal["registry", "off"] = "registry"

    @field_validator("min_doc_bytes", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        return "off" if value is False else value  # YAML 1.1 reads a bare `off` as false


def _registry_floor() -> SmallDocsBytes:
    return SmallDocsBytes(step="small_docs_bytes", min_bytes="registry")


class _Clean(DocumentFn):
    """Steps of PHASE ("before"/"after" the source-wide step, or "all") for each document's source."""

    def __init__(self, stage: str, settings: CleanSettings, steps: dict[str, list[Any]], phase: str):
        super().__init__(stage, settings)
        self.steps, self.phase = steps, phase

    def setup(self):
        super().setup()
        self.registry = load_registry()
        self._floors: dict[str, int | None] = {}
        self._phased = {uid: _phase(steps, self.phase) for uid, steps in self.steps.items()}

    def _floor(self, lang: str) -> int | None:
        if lang not in self._floors:
            known = lang != UNDETERMINED and lang in self.registry
            self._floors[lang] = self.registry[lang].min_doc_bytes if known else None
        return self._floors[lang]

    def process(self, doc: dict[str, Any]):
        edits = list(doc.get("clean_edits") or [])
        steps = self._phased.get(doc["source"], [])
        if not steps:
            yield {**doc, "clean_edits": edits}
            return
        out = cleaning.apply_steps(doc["text"], doc.get("meta"), steps, self._floor(doc["lang"]))
        edits += [{"step": step, "bytes_removed": n} for step, n in out.edits]
        cleaned = {**doc, "text": out.text, "clean_edits": edits}
        if out.dropped_by:
            yield self.reject(cleaned, out.dropped_by)
        else:
            yield cleaned


def _phase(steps: list[Any], phase: str) -> list[Any]:
    if phase == "before":
        return [s for s in steps if CLEAN_ORDER.index(s.step) < _SPLIT]
    if phase == "after":
        return [s for s in steps if CLEAN_ORDER.index(s.step) > _SPLIT]
    return steps


class RepeatedLines(beam.PTransform):
    """dedup_pseudocrawl_newspapers for the sources in STEPS: lines occurring at least
    `min_count` times in the source's distinct documents are removed from all of them.

    Line hashes are counted once per distinct document (filters.cleaning.document_key), packed
    into int64 arrays per hash partition as the dedup stage counts template lines. Returns the
    `kept` documents and the REJECTED ones (nothing left but repeated lines).
    """

    def __init__(self, stage: str, steps: dict[str, DedupPseudocrawlNewspapers], scratch: str):
        super().__init__()
        self.stage, self.steps, self.scratch = stage, steps, scratch

    def expand(self, docs):
        steps = self.steps

        def keyed(doc):
            lines = cleaning.repeated_line_candidates(doc["text"], steps[doc["source"]].min_chars)
            return (doc["source"], cleaning.document_key(doc["text"])), (doc["id"], lines)

        repeated = (
            docs
            | "LinesPerDocument" >> beam.Map(keyed)
            | "OncePerDistinctText" >> beam.CombinePerKey(min)  # smallest id: deterministic
            | "Batch" >> beam.BatchElements(min_batch_size=_BATCH, max_batch_size=_BATCH, record_metrics=False)
            | "Pack" >> beam.FlatMap(_pack)
            | "ByPartition" >> beam.GroupByKey()
            | "Repeated"
            >> beam.FlatMap(
                lambda kv: [
                    (kv[0][0], int(h))
                    for h in frequent_hashes(
                        (np.frombuffer(b, dtype=np.int64) for b in kv[1]), steps[kv[0][0]].min_count
                    )
                ]
            )
        )
        waiting = through_files(docs, self.scratch, "clean")
        return waiting | "RemoveRepeatedLines" >> beam.ParDo(
            _RemoveRepeated(self.stage, steps), beam.pvalue.AsMultiMap(repeated)
        ).with_outputs(REJECTED, main="kept")


def _pack(batch):
    parts: dict[tuple[str, int], list[int]] = {}
    for (source, _), (_, lines) in batch:
        for h in lines:
            parts.setdefault((source, h % _PARTITIONS), []).append(h)
    for key, hashes in parts.items():
        yield key, np.array(hashes, dtype=np.int64).tobytes()


class _RemoveRepeated(beam.DoFn):
    def __init__(self, stage: str, steps: dict[str, DedupPseudocrawlNewspapers]):
        self.stage, self.steps = stage, steps
        self._sets: dict[str, frozenset[int]] = {}

    def process(self, doc, repeated):
        source = doc["source"]
        if source not in self._sets:
            # The multimap view's values are lazy iterables, truthy even when empty: materialise.
            self._sets[source] = frozenset(repeated[source])
        text = cleaning.remove_repeated_lines(doc["text"], self._sets[source], self.steps[source].min_chars)
        if text == doc["text"]:
            yield doc
            return
        removed = len(doc["text"].encode("utf-8")) - len(text.encode("utf-8"))
        step = "dedup_pseudocrawl_newspapers"
        out = {**doc, "text": text, "clean_edits": [*doc["clean_edits"], {"step": step, "bytes_removed": removed}]}
        if cleaning.is_empty(text):
            yield beam.pvalue.TaggedOutput(REJECTED, rejected(out, self.stage, step))
        else:
            yield out


class Clean(DocumentStage):
    name = "clean"
    settings_class = CleanSettings
    step = "Clean"
    columns = [pa.field("clean_edits", EDITS_TYPE)]

    def __init__(self, settings: CleanSettings, context: RunContext):
        super().__init__(settings, context)
        # Per source, the steps it runs, in CLEAN_ORDER (the entry model sorted them).
        self.steps: dict[str, list[Any]] = {}
        for entry in context.entries:
            steps = list(entry.clean)
            if settings.min_doc_bytes == "registry" and not any(s.step == "small_docs_bytes" for s in steps):
                steps.append(_registry_floor())
            self.steps[entry.uid] = steps
        self.source_wide = {
            uid: step
            for uid, steps in self.steps.items()
            for step in steps
            if isinstance(step, DedupPseudocrawlNewspapers)
        }

    def make_fn(self) -> _Clean:
        return _Clean(self.name, self.settings, self.steps, "all")

    def per_document(self) -> bool:
        # Lines repeated across a source need the whole source; every other step is per document.
        return not self.source_wide

    def expand(self, documents) -> StageOutput:
        if not self.source_wide:
            return super().expand(documents)
        overlay = self.context.catalog.languages if self.context.catalog is not None else None
        before_fn = _Clean(self.name, self.settings, self.steps, "before")
        after_fn = _Clean(self.name, self.settings, self.steps, "after")
        before_fn.registry_overlay = after_fn.registry_overlay = overlay
        before = documents | "Before" >> beam.ParDo(before_fn).with_outputs(REJECTED, main="kept")
        wide = set(self.source_wide)
        parts = before.kept | "SourceWide" >> beam.Partition(lambda doc, _: int(doc["source"] in wide), 2)
        repeated = parts[1] | "RepeatedLines" >> RepeatedLines(self.name, self.source_wide, self.context.work_dir)
        merged = (parts[0], repeated.kept) | "Merge" >> beam.Flatten()
        after = merged | "After" >> beam.ParDo(after_fn).with_outputs(REJECTED, main="kept")
        return StageOutput(after.kept, [before[REJECTED], repeated[REJECTED], after[REJECTED]])

    def parameters(self, source: str) -> dict[str, Any]:
        """The steps SOURCE ran, in order, with their parameters; the registry's floor per
        declared language where `small_docs_bytes` follows the registry."""
        steps = []
        entry = next((e for e in self.context.entries if e.uid == source), None)
        for step in self.steps.get(source, []):
            record = step.model_dump(mode="json")
            if isinstance(step, FixMojibake):
                record["ftfy"] = {"version": ftfy.__version__, "config": {**cleaning.FTFY_DEFAULTS, **step.options}}
            if isinstance(step, SmallDocsBytes) and step.min_bytes == "registry":
                registry = load_registry()
                listed = entry is not None and any(s.step == "small_docs_bytes" for s in entry.clean)
                record["from"] = "entry" if listed else "registry default"
                declared = entry.languages if entry is not None else []
                record["by_language"] = {
                    lang: registry[lang].min_doc_bytes if lang in registry else None for lang in declared
                }
                record["undetermined"] = "not applied: the language is unknown until language ID"
            steps.append(record)
        return {"min_doc_bytes": self.settings.min_doc_bytes, "steps": steps}

    def report(self) -> dict[str, Any]:
        return {"order": list(CLEAN_ORDER), "ftfy": {"version": ftfy.__version__, "defaults": cleaning.FTFY_DEFAULTS}}

    def notes(self, doc: dict[str, Any]) -> list[Note]:
        """Per step that changed the document: the document, and the bytes it removed (or added:
        ftfy's repair can lengthen a text); per step that could not read its meta field: the document."""
        notes: list[Note] = []
        for edit in doc.get("clean_edits") or []:
            step, n = edit["step"], edit["bytes_removed"]
            if n is None:
                notes.append((f"clean:{step}:not_applied", 1))
                continue
            notes.append((f"clean:{step}", 1))
            if n:
                notes.append((f"clean:{step}:bytes_removed", n) if n > 0 else (f"clean:{step}:bytes_added", -n))
        return notes
