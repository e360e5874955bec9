"""One survivor per cluster, and the decisions applied to the documents.

The survivor is the first member by a total order (filters.dedup.survivor_key): earlier
release, catalogue priority, bytes, id. Kept documents carry dup_cluster_id (the cluster's
smallest id) and dup_cluster_size; removed ones go to the rejected set with dup_survivor_id.

Nodes meet their cluster's root, and documents their decision, in one of two ways (`join`):

- `SideInputJoin`: only clustered documents have a root or a decision, a small part of a
  corpus, so both are dicts on every worker and no document is shuffled by id.
- `ShuffleJoin`: CoGroupByKeys by id, for clusters that outgrow a worker's memory.
- `AutoJoin` (`join: auto`, the default): both in the graph, one taken per run, by the number
  of clustered documents measured in it (choice.py).

Both take {"documents", "membership", "capped"} and return `Decided`. A capped LSH bucket
(edges.CAPPED) is counted on the survivor of its first representative's cluster, as the
transient field CAPPED_FIELD (a note in the manifest, not a column): counts reach the manifest
only through kept documents.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import apache_beam as beam

from rootstock.filters import dedup as d
from rootstock.pipeline.beam.lookup import Lookup, LookupFn, WithLookup
from rootstock.pipeline.beam.spill import ReadSpilled, Spilled, flatten_through_files, through_files
from rootstock.pipeline.stages.base import REJECTED, rejected
from rootstock.pipeline.stages.dedup.choice import Choice, Routed


class Decided(NamedTuple):
    kept: beam.PCollection
    rejected: beam.PCollection
    # The nodes of this release's kept documents: their signatures go into the release.
    kept_nodes: beam.PCollection


# Transient field of a kept document: (capped LSH buckets, members they left unlinked) counted on it.
CAPPED_FIELD = "dup_capped_buckets"


class Survivors(beam.PTransform):
    """(root, slim node) pairs and (root, capped counts) → (id, decision) for every member of a
    cluster, and for the root of capped counts that has no cluster."""

    def expand(self, inputs):
        by_root, capped = inputs
        counts = capped | "CappedCounts" >> beam.Map(lambda kv: (kv[0], {CAPPED_FIELD: kv[1]}))
        return (
            (by_root, counts)
            | "WithCapped" >> beam.Flatten()
            | "Clusters" >> beam.GroupByKey()
            | "Pick" >> beam.FlatMap(_pick_survivors)
        )


class SideInputJoin(beam.PTransform):
    """Roots and decisions as side inputs (`join: side_input`, Lookups); NODES are read back from their spill.

    SPILL_DOCUMENTS: pass the documents through files before they wait for the decisions
    (AutoJoin spills them itself, before its choice).
    """

    def __init__(self, nodes: Spilled | Routed, scratch: str, spill_documents: bool = True):
        super().__init__()
        self.nodes, self.scratch, self.spill_documents = nodes, scratch, spill_documents

    def expand(self, inputs) -> Decided:
        roots = Lookup(inputs["membership"], self.scratch, "roots").side
        by_root = self.nodes.read("members") | "ByRoot" >> beam.ParDo(
            WithLookup(lambda n, roots: [(roots[n["id"]], _slim(n))] if n["id"] in roots else []), roots
        )
        capped = inputs["capped"] | "CappedRoot" >> beam.ParDo(
            WithLookup(lambda kv, roots: [(roots.get(kv[0], kv[0]), kv[1])]), roots
        )
        packed = (by_root, capped) | "Survivors" >> Survivors() | "Pack" >> beam.Map(_packed)
        decisions = Lookup(packed, self.scratch, "decisions").side
        documents = inputs["documents"]
        waiting = through_files(documents, self.scratch, "dedup") if self.spill_documents else documents
        applied = waiting | "Apply" >> beam.ParDo(_ApplySide(), decisions).with_outputs(REJECTED, main="kept")
        kept_nodes = self.nodes.read("signatures") | "KeptNodes" >> beam.ParDo(
            WithLookup(lambda n, dec: [] if n.get("released") or _is_dropped(n, dec) else [n]), decisions
        )
        return Decided(applied.kept, applied[REJECTED], kept_nodes)


class ShuffleJoin(beam.PTransform):
    """Roots and decisions joined by id (`join: shuffle`): NODES of the graph, FRESH of this release."""

    def __init__(self, nodes: beam.PCollection, fresh: beam.PCollection):
        super().__init__()
        self.nodes, self.fresh = nodes, fresh

    def expand(self, inputs) -> Decided:
        by_root = (
            {"root": inputs["membership"], "node": self.nodes | "NodeById" >> beam.Map(lambda n: (n["id"], _slim(n)))}
            | "JoinNodes" >> beam.CoGroupByKey()
            | "ByRoot" >> beam.FlatMap(lambda kv: [(root, node) for root in kv[1]["root"] for node in kv[1]["node"]])
        )
        capped = (
            {"root": inputs["membership"], "capped": inputs["capped"]}
            | "JoinCapped" >> beam.CoGroupByKey()
            | "CappedRoot"
            >> beam.FlatMap(lambda kv: [((list(kv[1]["root"]) or [kv[0]])[0], c) for c in kv[1]["capped"]])
        )
        decisions = (by_root, capped) | "Survivors" >> Survivors()
        applied = (
            {"doc": inputs["documents"] | "DocById" >> beam.Map(lambda doc: (doc["id"], doc)), "info": decisions}
            | "JoinDocs" >> beam.CoGroupByKey()
            | "Apply" >> beam.ParDo(_Apply()).with_outputs(REJECTED, main="kept")
        )
        kept_nodes = (
            {
                "node": self.fresh | "FreshById" >> beam.Map(lambda n: (n["id"], n)),
                "kept": applied.kept | "KeptIds" >> beam.Map(lambda doc: (doc["id"], None)),
            }
            | "JoinKept" >> beam.CoGroupByKey()
            | "KeptNodes" >> beam.FlatMap(lambda kv: list(kv[1]["node"]) if kv[1]["kept"] else [])
        )
        return Decided(applied.kept, applied[REJECTED], kept_nodes)


class AutoJoin(beam.PTransform):
    """`join: auto`: SideInputJoin while the clustered documents (nodes with a root) are at most
    MAX_SIDE, else ShuffleJoin. Documents wait for the choice, and leave the two branches, as
    spill files where spilling is on (beam.spill.flatten_through_files)."""

    def __init__(self, nodes: Spilled, scratch: str, max_side: int):
        super().__init__()
        self.nodes, self.scratch, self.max_side = nodes, scratch, max_side
        self.choice: Choice | None = None

    def expand(self, inputs) -> Decided:
        choice = self.choice = Choice("decide", inputs["membership"], self.max_side)
        waiting = Spilled(inputs["documents"], self.scratch, "dedup")

        def branch(side: bool, name: str) -> dict[str, beam.PCollection]:
            if waiting.refs is None:
                documents = choice.keep(waiting.docs, side, f"{name}Documents")
            else:
                refs = choice.keep(waiting.refs, side, f"{name}DocumentFiles")
                documents = refs | f"Read{name}Documents" >> ReadSpilled()
            return {
                "documents": documents,
                "membership": choice.keep(inputs["membership"], side, f"{name}Membership"),
                "capped": choice.keep(inputs["capped"], side, f"{name}Capped"),
            }

        side = branch(True, "Side") | "Side" >> SideInputJoin(Routed(self.nodes, choice, True), self.scratch, False)
        nodes = Routed(self.nodes, choice, False).read("shuffle")
        fresh = nodes | "Fresh" >> beam.Filter(lambda n: not n.get("released"))
        shuffled = branch(False, "Shuffle") | "Shuffle" >> ShuffleJoin(nodes, fresh)
        return Decided(
            flatten_through_files([side.kept, shuffled.kept], self.scratch, "Kept"),
            flatten_through_files([side.rejected, shuffled.rejected], self.scratch, "Rejected"),
            flatten_through_files([side.kept_nodes, shuffled.kept_nodes], self.scratch, "KeptNodes"),
        )


def _slim(node: dict[str, Any]) -> dict[str, Any]:
    """What survivor choice needs (signatures stay behind)."""
    return {k: node.get(k) for k in ("id", "exact", "url", "bytes", "priority", "released")}


def _pick_survivors(kv):
    root, items = kv
    members = sorted((m for m in items if CAPPED_FIELD not in m), key=d.survivor_key)
    counts = [m[CAPPED_FIELD] for m in items if CAPPED_FIELD in m]
    capped = (sum(c[0] for c in counts), sum(c[1] for c in counts)) if counts else None
    if not members:  # a capped bucket's representative without duplicates: its own survivor
        members = [{"id": root}]
    survivor = members[0]
    for member in members:
        reason = None if member is survivor else d.drop_reason(member, survivor)
        decision = {
            "dup_cluster_id": root,
            "dup_cluster_size": len(members),
            "dup_survivor_id": survivor["id"],
            "reason": reason,
        }
        if capped and reason is None:
            decision[CAPPED_FIELD] = capped
        yield member["id"], decision


def _decide(doc, cluster):
    """The document with its cluster columns, main output if it survives, REJECTED if not."""
    if cluster is None:
        return {**doc, "dup_cluster_id": doc["id"], "dup_cluster_size": 1}
    out = {**doc, "dup_cluster_id": cluster["dup_cluster_id"], "dup_cluster_size": cluster["dup_cluster_size"]}
    if cluster["reason"] is None:
        if CAPPED_FIELD in cluster:
            out[CAPPED_FIELD] = cluster[CAPPED_FIELD]
        return out
    out["dup_survivor_id"] = cluster["dup_survivor_id"]
    return beam.pvalue.TaggedOutput(REJECTED, rejected(out, "dedup", cluster["reason"]))


class _Apply(beam.DoFn):
    """Decisions joined by id in a shuffle."""

    def process(self, kv):
        _, grouped = kv
        info = list(grouped["info"])
        for doc in grouped["doc"]:
            yield _decide(doc, info[0] if info else None)


class _ApplySide(LookupFn):
    """Decisions as a side input (a Lookup): documents are not shuffled by id."""

    def process(self, doc, decisions):
        yield _decide(doc, _unpacked(doc["id"], self.table(decisions).get(doc["id"])))


def _is_dropped(node, decisions) -> bool:
    entry = decisions.get(node["id"])
    return entry is not None and _REASONS[entry[3]] is not None


# A decision as a side-input entry (copied to every worker, so kept small): a tuple, the reason
# as an index, and the document's own id left out where it is its cluster's id or its survivor.
_REASONS = (None, "exact", "url", "near")
_AS_CLUSTER = 0  # the survivor is the cluster's id


def _packed(kv):
    doc_id, decision = kv
    cluster, survivor = decision["dup_cluster_id"], decision["dup_survivor_id"]
    if survivor == doc_id:
        survivor = None
    elif survivor == cluster:
        survivor = _AS_CLUSTER
    return doc_id, (
        None if cluster == doc_id else cluster,
        decision["dup_cluster_size"],
        survivor,
        _REASONS.index(decision["reason"]),
        decision.get(CAPPED_FIELD),
    )


def _unpacked(doc_id: str, entry) -> dict[str, Any] | None:
    if entry is None:
        return None
    cluster, size, survivor, reason, capped = entry
    cluster = doc_id if cluster is None else cluster
    if survivor is None:
        survivor = doc_id
    elif not isinstance(survivor, str):  # _AS_CLUSTER
        survivor = cluster
    decision = {"dup_cluster_id": cluster, "dup_cluster_size": size, "dup_survivor_id": survivor}
    decision["reason"] = _REASONS[reason]
    if capped is not None:
        decision[CAPPED_FIELD] = capped
    return decision
