"""The `decontaminate` stage: documents sharing a word n-gram with an evaluation example go.

The run config declares evaluation sets (JSONL, Parquet, or a `datasets` `save_to_disk`
directory, with the text fields to check); filters.decontaminate holds the text logic (GPT-3's
13-gram rule). A document that shares an n-gram with any example is dropped (`action: drop`,
counted as `decontaminate:<set>`), or loses the overlapping text (`remove_spans`, counted as
notes `decontaminate:<set>`), per source and language like every drop.

It runs after `dedup` and before `pii` (stages.registry): after dedup because each copy of a
benchmark is then checked once, not once per duplicate; before pii because redaction rewrites
text (an e-mail becomes `PI:EMAIL`) that the evaluation examples still hold verbatim, and so
pii's guard redacts what this stage rejects; after langid because documents are split into
words the way their final language is.

How it scales, like dedup's shuffles (no worker holds the corpus or all of the n-grams):

1. Languages: the distinct languages of the documents (a small side input). Each evaluation
   text is split once per language (or per `languages` of its set), so both sides of a match
   were split alike; the language is part of every fingerprint.
2. Evaluation n-grams and document n-grams, packed per hash partition (PARTITIONS), meet in one
   CoGroupByKey by partition: a reducer holds its partition's evaluation n-grams (1/PARTITIONS
   of the sets') and streams the documents' packs past them, emitting the hits per document.
3. The hits (only contaminated documents have any) meet their documents: a side input dict
   (`join: side_input`) or a CoGroupByKey by id (`join: shuffle`, when contamination is large);
   documents cross that barrier through files on the local runners (pipeline.beam.spill).
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Iterator
from typing import Any, Literal

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from pydantic import Field, model_validator

from rootstock.catalog.registry import UNDETERMINED, load_registry, use_overlay
from rootstock.errors import ConfigError, InputError
from rootstock.filters import decontaminate as dc
from rootstock.paths import is_url, resolve_path
from rootstock.pipeline.beam.errors import errors_dir, record
from rootstock.pipeline.beam.spill import Spilled
from rootstock.pipeline.release.release import file_digest
from rootstock.pipeline.stages.base import REJECTED, Note, RunContext, Stage, StageOutput, StageSettings, rejected
from rootstock.strict import Strict

PARTITIONS = 64  # hash partitions of the n-gram shuffle (as the dedup stage's substring step)
BATCH = 500  # documents or evaluation texts per packed element
FIELD = "decontaminated"  # transient on a kept document: (set names, spans, characters removed)
FORMATS = ("jsonl", "parquet", "hf")
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz", ".ndjson.gz", ".jsonl.bz2", ".jsonl.zst")
HF_MARKERS = ("state.json", "dataset_dict.json")  # what datasets' save_to_disk writes


class EvalSet(Strict):
    """One evaluation set: where it is, which fields hold its text."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")  # no `+`: reasons join names with it
    path: str  # a file, a glob, a directory of JSONL/Parquet files, or a save_to_disk directory
    fields: list[str] = Field(min_length=1)  # each a text, or a list of texts; `a.b` walks into a mapping
    format: Literal["auto", "jsonl", "parquet", "hf"] = "auto"
    split: str | None = None  # of a saved DatasetDict: one split (default: all of them)
    # Check documents of these languages only (default: every language of the run).
    languages: list[str] | None = None


class DecontaminateSettings(StageSettings):
    """GPT-3's rule by default: a shared 13-gram; drop the document, or cut the overlap out."""

    ngram: int = Field(dc.NGRAM, ge=1, le=dc.MAX_NGRAM)
    action: Literal["drop", "remove_spans"] = "drop"
    # remove_spans: characters removed around each overlap too (GPT-3: 200), and a document
    # cut in more than max_spans places is dropped instead (GPT-3: 10).
    margin_chars: int = Field(200, ge=0)
    max_spans: int = Field(10, ge=1)
    join: Literal["side_input", "shuffle"] = "side_input"
    eval_sets: list[EvalSet] = []

    @model_validator(mode="before")
    @classmethod
    def _on_with_sets(cls, data: Any) -> Any:
        """Declaring evaluation sets turns the stage on; no sets, no stage."""
        if isinstance(data, dict) and "enabled" not in data and data.get("eval_sets"):
            data = {**data, "enabled": True}
        return data

    @model_validator(mode="after")
    def _sets(self) -> DecontaminateSettings:
        if self.enabled and not self.eval_sets:
            raise ValueError("the stage is enabled but `eval_sets` is empty: name the evaluation sets to check")
        names = [s.name for s in self.eval_sets]
        if len(set(names)) != len(names):
            raise ValueError(f"evaluation set names must be unique: {names}")
        if len(names) > dc.MAX_SETS:
            raise ValueError(f"at most {dc.MAX_SETS} evaluation sets, got {len(names)}")
        return self

    def resolve_paths(self, base: str) -> DecontaminateSettings:
        sets = [s.model_copy(update={"path": resolve_path(s.path, base)}) for s in self.eval_sets]
        return self.model_copy(update={"eval_sets": sets})


# --- the evaluation files, found and checked on the launcher ---------------------------------


def _format_of(path: str) -> str | None:
    lower = path.lower()
    if lower.endswith(".parquet"):
        return "parquet"
    return "jsonl" if lower.endswith(JSONL_SUFFIXES) else None


def _read_json(path: str) -> Any:
    with FileSystems.open(path) as handle:
        return json.loads(handle.read())


def _hf_files(root: str, split: str | None) -> list[str]:
    """The Arrow files of a save_to_disk directory: a Dataset (state.json lists them) or a
    DatasetDict (dataset_dict.json lists the splits, each a Dataset directory)."""
    if FileSystems.exists(posixpath.join(root, "dataset_dict.json")):
        splits = _read_json(posixpath.join(root, "dataset_dict.json"))["splits"]
        if split is not None and split not in splits:
            raise ValueError(f"no split {split!r} (splits: {', '.join(splits)})")
        return [f for name in ([split] if split else splits) for f in _hf_files(posixpath.join(root, name), None)]
    if split is not None:
        raise ValueError(f"`split: {split}` but this is a single Dataset, not a DatasetDict")
    state = _read_json(posixpath.join(root, "state.json"))
    return [posixpath.join(root, item["filename"]) for item in state["_data_files"]]


def eval_files(spec: EvalSet) -> list[tuple[str, str]]:
    """(file, format) of each file of SPEC; ValueError saying what is missing or unreadable."""
    path = spec.path.rstrip("/")
    if any(ch in path for ch in "*?["):
        found = sorted(m.path for r in FileSystems.match([path]) for m in r.metadata_list)
        if not found:
            raise ValueError(f"{spec.path}: no file matches")
    elif spec.format == "hf" or any(FileSystems.exists(posixpath.join(path, m)) for m in HF_MARKERS):
        return [(f, "arrow") for f in _hf_files(path, spec.split)]
    else:
        listed = FileSystems.match([posixpath.join(path, "*")])[0].metadata_list  # a directory's files
        found = sorted(m.path for m in listed if _format_of(m.path))
        if not found:
            if listed or (not is_url(path) and os.path.isdir(path)):
                raise ValueError(f"no JSONL or Parquet file in {spec.path}")
            if not FileSystems.exists(path):
                raise ValueError(f"no such file or directory: {spec.path}")
            found = [path]
    if spec.split is not None:
        raise ValueError("`split` applies to a save_to_disk directory only")
    out = []
    for f in found:
        kind = spec.format if spec.format != "auto" else _format_of(f)
        if kind is None:
            raise ValueError(f"{f}: not .jsonl or .parquet; set `format: jsonl|parquet|hf`")
        out.append((f, kind))
    return out


def _columns(fields: list[str]) -> list[str]:
    return sorted({f.split(".")[0] for f in fields})


def iter_records(path: str, kind: str, fields: list[str]) -> Iterator[dict[str, Any]]:
    """The records of one evaluation file, streamed (only the declared fields' columns)."""
    if kind == "jsonl":
        with FileSystems.open(path) as handle:
            for number, line in enumerate(iter(handle.readline, b""), 1):  # a compressed file has no __iter__
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError as err:
                    raise dc.FieldError(f"line {number}: not JSON ({err})") from None
                if not isinstance(value, dict):
                    raise dc.FieldError(f"line {number}: a JSON {type(value).__name__}, not an object")
                yield value
        return
    columns = _columns(fields)
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        if kind == "parquet":
            parquet = pq.ParquetFile(handle)
            missing = [c for c in columns if c not in parquet.schema_arrow.names]
            if missing:
                raise dc.FieldError(f"no field {missing[0]!r} (fields: {', '.join(parquet.schema_arrow.names)})")
            batches = parquet.iter_batches(columns=columns)
        else:
            reader = pa.ipc.open_stream(handle)
            missing = [c for c in columns if c not in reader.schema.names]
            if missing:
                raise dc.FieldError(f"no field {missing[0]!r} (fields: {', '.join(reader.schema.names)})")
            batches = reader
        for batch in batches:
            yield from batch.select(columns).to_pylist()


def check_eval_set(spec: EvalSet, where: str) -> list[dict[str, Any]]:
    """SPEC's files with size and sha256 (for the manifest), every field checked on each file's
    first record; ConfigError naming the set, the file and the field."""
    try:
        files = eval_files(spec)
    except (ValueError, OSError, KeyError) as err:
        raise ConfigError(problems=[(None, f"{where}.path", str(err))]) from None
    out = []
    for path, kind in files:
        try:
            first = next(iter_records(path, kind, spec.fields), None)
            if first is None:
                raise dc.FieldError("no records")
            for field in spec.fields:
                dc.field_texts(first, field)
        except dc.FieldError as err:
            raise ConfigError(problems=[(path, f"{where}.fields", str(err))]) from None
        except (OSError, pa.ArrowInvalid) as err:
            raise ConfigError(problems=[(path, f"{where}.path", f"cannot read it as {kind}: {err}")]) from None
        size, sha256 = file_digest(path)
        out.append({"path": path, "format": kind, "bytes": size, "sha256": sha256})
    return out


# --- the graph ---------------------------------------------------------------------------------


class _Fn(beam.DoFn):
    """A DoFn that splits words: the catalogue's languages reach the worker's registry."""

    def __init__(self, overlay):
        self.overlay = overlay

    def setup(self):
        if self.overlay is not None:
            use_overlay(self.overlay)


def _by_partition(key: np.ndarray) -> list[tuple[int, np.ndarray]]:
    part = (key % np.uint64(PARTITIONS)).astype(np.int64)
    order = np.argsort(part, kind="stable")
    bounds = np.flatnonzero(np.r_[True, part[order][1:] != part[order][:-1], True]) if len(part) else []
    return [(int(part[order[lo]]), order[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


class _ReadExamples(beam.DoFn):
    """(set index, file, format) → (set index, text) for every text of every declared field."""

    def __init__(self, sets: list[EvalSet], errors: str | None):
        self.sets, self.errors = sets, errors

    def process(self, unit):
        index, path, kind = unit
        spec = self.sets[index]
        number = 0
        try:
            for row in iter_records(path, kind, spec.fields):
                number += 1
                for field in spec.fields:
                    try:
                        texts = dc.field_texts(row, field)
                    except dc.FieldError as err:
                        raise self.fail(spec, path, f"record {number}", str(err)) from None
                    for text in texts:
                        yield index, text
        except dc.FieldError as err:  # a line that is not a JSON object
            raise self.fail(spec, path, None, str(err)) from None

    def fail(self, spec: EvalSet, path: str, where: str | None, reason: str) -> InputError:
        error = InputError(f"evaluation set {spec.name!r}", problems=[(path, where, reason)])
        record(self.errors, error)
        return error


class _ExampleNgrams(_Fn):
    """A batch of (set index, text) → per partition, packed (key, check, set mask) of their n-grams,
    each text split in every language of the run its set applies to."""

    def __init__(self, overlay, sets: list[EvalSet], n: int):
        super().__init__(overlay)
        self.wanted = [None if s.languages is None else set(s.languages) for s in sets]
        self.n = n

    def process(self, batch, present):
        registry = load_registry()
        langs = sorted(present)
        keys, checks, masks = [], [], []
        for index, text in batch:
            wanted = self.wanted[index]
            for lang in langs:
                if wanted is not None and _resolve(registry, lang) not in wanted:
                    continue
                found = dc.distinct(dc.fingerprints(dc.words(text, lang).words, self.n, lang))
                keys.append(found.key)
                checks.append(found.check)
                masks.append(np.full(len(found.key), np.uint64(1) << np.uint64(index), dtype=np.uint64))
        if not keys:
            return
        key, check, mask = np.concatenate(keys), np.concatenate(checks), np.concatenate(masks)
        for part, rows in _by_partition(key):
            yield part, (key[rows].tobytes(), check[rows].tobytes(), mask[rows].tobytes())


def _resolve(registry, lang: str) -> str:
    return lang if lang == UNDETERMINED else registry.resolve(lang) or lang


class _DocNgrams(_Fn):
    """A batch of documents → per partition, their packed distinct n-gram fingerprints and ids."""

    def __init__(self, overlay, n: int):
        super().__init__(overlay)
        self.n = n

    def process(self, batch):
        keys, checks, owner = [], [], []
        for i, doc in enumerate(batch):
            found = dc.distinct(dc.fingerprints(dc.words(doc["text"], doc["lang"]).words, self.n, doc["lang"]))
            keys.append(found.key)
            checks.append(found.check)
            owner.append(np.full(len(found.key), i, dtype=np.uint32))
        if not keys:
            return
        key, check, local = np.concatenate(keys), np.concatenate(checks), np.concatenate(owner)
        for part, rows in _by_partition(key):
            referred, index = np.unique(local[rows], return_inverse=True)
            ids = [batch[i]["id"] for i in referred.tolist()]
            yield part, (key[rows].tobytes(), check[rows].tobytes(), index.astype(np.uint32).tobytes(), ids)


def _hits(kv):
    """One partition: its evaluation n-grams as a table, its document packs streamed past it →
    (document id, packed (key, check, mask) of the document's matched n-grams)."""
    _, packs = kv
    parts = [tuple(np.frombuffer(b, dtype=np.uint64) for b in pack) for pack in packs["eval"]]
    table = dc.NgramTable.concat(parts)
    if not len(table):
        return
    for key, check, index, ids in packs["docs"]:
        key, check = np.frombuffer(key, dtype=np.uint64), np.frombuffer(check, dtype=np.uint64)
        masks = table.lookup(key, check)
        hit = np.flatnonzero(masks)
        if not len(hit):
            continue
        owner = np.frombuffer(index, dtype=np.uint32)[hit]
        for i in np.unique(owner).tolist():
            rows = hit[owner == i]
            yield ids[i], np.stack([key[rows], check[rows], masks[rows]]).tobytes()


def _merge_hits(values) -> bytes:
    return np.concatenate([np.frombuffer(v, dtype=np.uint64).reshape(3, -1) for v in values], axis=1).tobytes()


class _Apply(_Fn):
    """A document and its hits → kept (unchanged, or without the overlaps) or rejected."""

    def __init__(self, overlay, settings: DecontaminateSettings, stage: str):
        super().__init__(overlay)
        self.settings, self.stage = settings, stage
        self.names = [s.name for s in settings.eval_sets]

    def apply(self, doc: dict[str, Any], packed: bytes | None):
        if packed is None:
            return doc
        s = self.settings
        key, check, mask = np.frombuffer(packed, dtype=np.uint64).reshape(3, -1)
        found = dc.match(doc["text"], doc["lang"], dc.NgramTable(key, check, mask), s.ngram, s.margin_chars)
        if not found.mask:
            return doc
        names = [self.names[i] for i in dc.set_indices(found.mask)]
        reason = "+".join(names)
        if s.action == "drop" or len(found.spans) > s.max_spans:
            return beam.pvalue.TaggedOutput(REJECTED, rejected(doc, self.stage, reason))
        text = dc.remove_spans(doc["text"], found.spans)
        if not text.strip():
            return beam.pvalue.TaggedOutput(REJECTED, rejected(doc, self.stage, reason))
        return {**doc, "text": text, FIELD: (names, len(found.spans), len(doc["text"]) - len(text))}


class _ApplySide(_Apply):
    def process(self, doc, hits):
        yield self.apply(doc, hits.get(doc["id"]))


class _ApplyJoined(_Apply):
    def process(self, kv):
        hits = list(kv[1]["hits"])
        for doc in kv[1]["doc"]:
            yield self.apply(doc, hits[0] if hits else None)


class Decontaminate(Stage):
    name = "decontaminate"
    settings_class = DecontaminateSettings

    def __init__(self, settings: DecontaminateSettings, context: RunContext):
        super().__init__(settings, context)
        # the catalogue's own languages (load_catalog set them here; workers get them in setup)
        self.overlay = context.catalog.languages if context.catalog is not None else None
        registry = load_registry()
        problems, self.files = [], []
        for spec in settings.eval_sets:
            where = f"stages.{self.name}.eval_sets.{spec.name}"
            unknown = [lang for lang in spec.languages or [] if registry.resolve(lang) is None]
            if unknown:
                problems.append((None, f"{where}.languages", f"not in the language registry: {unknown}"))
            try:
                self.files.append(check_eval_set(spec, where))
            except ConfigError as err:
                problems += err.problems
        if problems:
            raise ConfigError("invalid evaluation sets", problems=problems)
        self.sets = [
            s.model_copy(
                update={"languages": None if s.languages is None else [registry.resolve(x) for x in s.languages]}
            )
            for s in settings.eval_sets
        ]

    def expand(self, documents) -> StageOutput:
        s, ctx = self.settings, self.context
        spilled = Spilled(documents, ctx.work_dir, "decontaminate")
        present = documents | "Languages" >> beam.Map(lambda doc: doc["lang"]) | "DistinctLanguages" >> beam.Distinct()
        units = [(i, f["path"], f["format"]) for i, files in enumerate(self.files) for f in files]
        examples = (
            documents.pipeline
            | "EvalFiles" >> beam.Create(units)
            | "SpreadFiles" >> beam.Reshuffle()
            | "ReadExamples" >> beam.ParDo(_ReadExamples(self.sets, errors_dir(ctx.work_dir)))
            | "DistinctExamples" >> beam.Distinct()  # "yes", "no"… split once
            | "ExampleBatches" >> _batches()
            | "ExampleNgrams"
            >> beam.ParDo(_ExampleNgrams(self.overlay, self.sets, s.ngram), beam.pvalue.AsList(present))
        )
        ngrams = documents | "DocBatches" >> _batches() | "DocNgrams" >> beam.ParDo(_DocNgrams(self.overlay, s.ngram))
        hits = (
            {"eval": examples, "docs": ngrams}
            | "ByPartition" >> beam.CoGroupByKey()
            | "Hits" >> beam.FlatMap(_hits)
            | "HitsPerDocument" >> beam.CombinePerKey(_merge_hits)
        )
        docs = spilled.read("apply")
        if s.join == "side_input":
            fn = _ApplySide(self.overlay, s, self.name)
            out = docs | "Apply" >> beam.ParDo(fn, beam.pvalue.AsDict(hits)).with_outputs(REJECTED, main="kept")
        else:
            fn = _ApplyJoined(self.overlay, s, self.name)
            out = (
                {"doc": docs | "DocById" >> beam.Map(lambda doc: (doc["id"], doc)), "hits": hits}
                | "JoinHits" >> beam.CoGroupByKey()
                | "Apply" >> beam.ParDo(fn).with_outputs(REJECTED, main="kept")
            )
        return StageOutput(out.kept, out[REJECTED])

    def report(self) -> dict[str, Any]:
        """The sets checked, each file with its size and sha256: which benchmarks, exactly."""
        s = self.settings
        return {
            "ngram": s.ngram,
            "action": s.action,
            **({"margin_chars": s.margin_chars, "max_spans": s.max_spans} if s.action == "remove_spans" else {}),
            "eval_sets": [
                {**spec.model_dump(mode="json"), "files": files}
                for spec, files in zip(self.sets, self.files, strict=True)
            ],
        }

    def notes(self, doc: dict[str, Any]) -> list[Note]:
        """A kept document that lost overlaps: counted per set, with its spans and characters."""
        if FIELD not in doc:
            return []
        names, spans, chars = doc[FIELD]
        return [
            *((f"decontaminate:{name}", 1) for name in names),
            ("decontaminate:spans", spans),
            ("decontaminate:chars", chars),
        ]


def _batches() -> beam.BatchElements:
    return beam.BatchElements(min_batch_size=BATCH, max_batch_size=BATCH, record_metrics=False)
