"""Repeated spans (the `substring` step): ROOTS's substring dedup, on the documents dedup kept.

filters.substring does the text work; here, its two packed shuffles and the join:

1. Per batch of documents, their distinct anchor hashes per (scope, hash partition); a
   partition's reducer keeps the hashes two or more documents have (8 bytes per anchor, an
   anchor per ~13 bytes of text at the defaults, 1/PARTITIONS of a scope per reducer).
2. The documents again, after that barrier: the contexts of their shared anchors only (the
   side input holds shared hashes, repeated text's share of the scope), packed per partition
   with each document's place in the survivors' order; a reducer marks the windows an earlier
   document also has, merged into spans per document.
3. Spans meet their documents as a side input (`join: side_input`, only documents with
   repeated spans have any) or by a CoGroupByKey on id (`join: shuffle`); with `join: auto`,
   as a side input while at most `side_input_max_docs` documents have spans (choice.py).

A document left with nothing but white space is rejected as `substring_only`. Kept documents
carry SUBSTRING_FIELD (spans, bytes removed), counted as notes, not written.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import apache_beam as beam
import numpy as np

from rootstock.filters import dedup as d
from rootstock.filters import substring as sub
from rootstock.pipeline.beam.spill import Spilled, flatten_through_files
from rootstock.pipeline.stages.base import REJECTED, rejected
from rootstock.pipeline.stages.dedup.choice import Choice
from rootstock.pipeline.stages.dedup.packing import batches
from rootstock.pipeline.stages.dedup.settings import DedupSettings, scope_key

# Hash partitions of both shuffles: more than the duplicate keys' PARTITIONS, as a document has
# ~150 anchors per 2 kB where it has ~16 duplicate keys.
PARTITIONS = 64
SUBSTRING_FIELD = "dup_substring"  # transient: (spans, bytes) removed from a kept document


class RemoveRepeatedSpans(beam.PTransform):
    """Documents → `kept` (repeated spans removed) and REJECTED (nothing left)."""

    def __init__(self, settings: DedupSettings, priorities: dict[str, int], scratch: str):
        super().__init__()
        self.settings, self.priorities, self.scratch = settings, priorities, scratch
        self.choice: Choice | None = None  # with `join: auto`, once expanded

    def expand(self, docs):
        s = self.settings
        n, w = s.substring.min_bytes, s.substring.anchor_bytes
        spilled = Spilled(docs, self.scratch, "substrings")
        shared = (
            docs
            | "AnchorBatches" >> batches()
            | "AnchorHashes" >> beam.ParDo(_AnchorHashes(s))
            | "HashesByPartition" >> beam.GroupByKey()
            | "Shared" >> beam.FlatMap(_shared)
        )
        spans = (
            spilled.read("contexts")
            | "ContextBatches" >> batches()
            | "Contexts" >> beam.ParDo(_Contexts(s, self.priorities), beam.pvalue.AsDict(shared))
            | "ContextsByPartition" >> beam.GroupByKey()
            | "Windows" >> beam.FlatMap(_marked_spans, n, w)
            | "SpansPerDocument" >> beam.CombinePerKey(_merge_packed)
        )
        if s.join == "side_input":
            return _strip_side(spilled.read("strip"), spans)
        if s.join == "shuffle":
            return _strip_joined(spilled.read("strip"), spans)
        choice = self.choice = Choice("substring", spans, s.side_input_max_docs)
        docs = spilled.read("strip")
        side = _strip_side(choice.keep(docs, True, "SideDocs"), choice.keep(spans, True, "SideSpans"), "Side")
        joined = _strip_joined(
            choice.keep(docs, False, "ShuffleDocs"), choice.keep(spans, False, "ShuffleSpans"), "Shuffle"
        )
        return Stripped(
            flatten_through_files([side.kept, joined.kept], self.scratch, "Kept"),
            flatten_through_files([side.rejected, joined.rejected], self.scratch, "Rejected"),
        )


class Stripped(NamedTuple):
    kept: beam.PCollection
    rejected: beam.PCollection  # emptied documents (`substring_only`)


def _strip_side(docs, spans, name: str = "") -> Stripped:
    out = docs | f"{name}Strip" >> beam.ParDo(_StripSide(), beam.pvalue.AsDict(spans)).with_outputs(
        REJECTED, main="kept"
    )
    return Stripped(out.kept, out[REJECTED])


def _strip_joined(docs, spans, name: str = "") -> Stripped:
    out = (
        {"doc": docs | f"{name}DocById" >> beam.Map(lambda doc: (doc["id"], doc)), "spans": spans}
        | f"{name}JoinSpans" >> beam.CoGroupByKey()
        | f"{name}Strip" >> beam.ParDo(_StripJoined()).with_outputs(REJECTED, main="kept")
    )
    return Stripped(out.kept, out[REJECTED])


def _by_partition(scopes: list[str], doc: np.ndarray, hashes: np.ndarray):
    """(scope, partition) → the indices of the anchors in it."""
    if not len(doc):
        return
    names = sorted(set(scopes))
    scope_of = np.array([names.index(x) for x in scopes], dtype=np.int64)
    key = scope_of[doc] * PARTITIONS + (hashes % np.uint64(PARTITIONS)).astype(np.int64)
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.r_[True, key[order][1:] != key[order][:-1], True])
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        k = int(key[order[lo]])
        yield (names[k // PARTITIONS], k % PARTITIONS), order[lo:hi]


class _AnchorHashes(beam.DoFn):
    """A batch of documents → per (scope, partition), the packed distinct anchor hashes of each document."""

    def __init__(self, settings: DedupSettings):
        self.settings = settings

    def process(self, batch):
        s = self.settings
        found = sub.anchors(
            [doc["text"].encode("utf-8") for doc in batch], s.substring.min_bytes, s.substring.anchor_bytes
        )
        doc, hashes = sub.distinct_hashes(found)
        scopes = [scope_key(s, x["source"], x["lang"]) for x in batch]
        for key, rows in _by_partition(scopes, doc, hashes):
            yield key, hashes[rows].tobytes()


def _shared(kv):
    hashes = sub.shared_hashes(np.frombuffer(packed, dtype=np.uint64) for packed in kv[1])
    return [(kv[0], hashes.tobytes())] if len(hashes) else []


class _Contexts(beam.DoFn):
    """A batch of documents → per (scope, partition), the packed contexts of their shared anchors
    and, per document referred to, its place in the survivors' order (id, priority, bytes)."""

    def __init__(self, settings: DedupSettings, priorities: dict[str, int]):
        self.settings, self.priorities = settings, priorities

    def start_bundle(self):
        self._shared: dict[Any, np.ndarray] = {}

    def shared(self, key, view) -> np.ndarray:
        if key not in self._shared:
            packed = view.get(key)
            self._shared[key] = np.frombuffer(packed, dtype=np.uint64) if packed else np.empty(0, np.uint64)
        return self._shared[key]

    def process(self, batch, shared):
        s = self.settings
        n, w = s.substring.min_bytes, s.substring.anchor_bytes
        texts = [doc["text"].encode("utf-8") for doc in batch]
        found = sub.anchors(texts, n, w)
        scopes = [scope_key(s, x["source"], x["lang"]) for x in batch]
        keep = np.zeros(len(found.doc), dtype=bool)
        parts = list(_by_partition(scopes, found.doc, found.hash))
        for key, rows in parts:
            keep[rows] = sub.is_shared(found.hash[rows], self.shared(key, shared))
        if not keep.any():
            return
        index = np.flatnonzero(keep)
        ctx = sub.contexts(texts, found.doc[index], found.offset[index], n, w)
        position = np.full(len(found.doc), -1, dtype=np.int64)
        position[index] = np.arange(len(index))
        for key, rows in parts:
            rows = position[rows[keep[rows]]]
            if not len(rows):
                continue
            referred, local = np.unique(found.doc[index[rows]], return_inverse=True)
            members = [
                (batch[i]["id"], self.priorities.get(batch[i]["source"], 0), len(texts[i])) for i in referred.tolist()
            ]
            yield (
                key,
                (
                    found.hash[index[rows]].tobytes(),
                    local.astype(np.uint32).tobytes(),
                    found.offset[index[rows]].astype(np.uint32).tobytes(),
                    ctx.bytes[rows].tobytes(),
                    ctx.pad_left[rows].tobytes(),
                    ctx.pad_right[rows].tobytes(),
                    members,
                ),
            )


def _marked_spans(kv, n: int, w: int):
    """One partition's contexts → (document id, packed (start, end) int64 spans to remove)."""
    width = 2 * n - w
    hashes, owner, offsets, ctx, left, right, members = [], [], [], [], [], [], []
    for h, local, offset, rows, pad_left, pad_right, who in kv[1]:
        hashes.append(np.frombuffer(h, dtype=np.uint64))
        owner.append(np.frombuffer(local, dtype=np.uint32).astype(np.int64) + len(members))
        offsets.append(np.frombuffer(offset, dtype=np.uint32).astype(np.int64))
        ctx.append(np.frombuffer(rows, dtype=np.uint8).reshape(-1, width))
        left.append(np.frombuffer(pad_left, dtype=np.uint16))
        right.append(np.frombuffer(pad_right, dtype=np.uint16))
        members.extend(who)
    # Each document's place in the survivors' order: priority, then bytes, then id.
    order = sorted(range(len(members)), key=lambda i: _survivor_key(members[i]))
    rank = np.empty(len(members), dtype=np.int64)
    rank[order] = np.arange(len(members))
    owner_all = np.concatenate(owner)
    contexts = sub.Contexts(np.concatenate(ctx), np.concatenate(left), np.concatenate(right))
    anchor, window = sub.marked_windows(np.concatenate(hashes), rank[owner_all], contexts, n, w)
    starts = np.concatenate(offsets)[anchor] + window
    docs = owner_all[anchor]
    order = np.argsort(docs, kind="stable")
    bounds = np.flatnonzero(np.r_[True, docs[order][1:] != docs[order][:-1], True]) if len(docs) else []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        yield members[docs[order[lo]]][0], sub.window_spans(starts[order[lo:hi]], n).tobytes()


def _survivor_key(member: tuple[str, int, int]) -> tuple:
    doc_id, priority, nbytes = member
    return d.survivor_key({"id": doc_id, "priority": priority, "bytes": nbytes})


def _merge_packed(values) -> bytes:
    spans = [np.frombuffer(v, dtype=np.int64).reshape(-1, 2) for v in values]
    return sub.merge(np.concatenate(spans) if spans else np.empty((0, 2), np.int64)).tobytes()


def _strip(doc: dict[str, Any], packed: bytes | None):
    if packed is None:
        return doc
    removed = sub.remove_spans(doc["text"], np.frombuffer(packed, dtype=np.int64).reshape(-1, 2))
    if not removed.spans:
        return doc
    if not removed.text.strip():
        return beam.pvalue.TaggedOutput(REJECTED, rejected(doc, "dedup", "substring_only"))
    return {**doc, "text": removed.text, SUBSTRING_FIELD: (removed.spans, removed.bytes)}


class _StripSide(beam.DoFn):
    def process(self, doc, spans):
        yield _strip(doc, spans.get(doc["id"]))


class _StripJoined(beam.DoFn):
    def process(self, kv):
        spans = list(kv[1]["spans"])
        for doc in kv[1]["doc"]:
            yield _strip(doc, spans[0] if spans else None)
