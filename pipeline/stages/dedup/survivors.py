"""One survivor per cluster, and the decisions applied to the documents.

The survivor is the first member by a total order (filters.dedup.survivor_key): earlier
release, catalogue priority, bytes, id. Kept documents carry dup_cluster_id (the cluster's
smallest id) and dup_cluster_size; removed ones go to the rejected set with dup_survivor_id.

Nodes meet their cluster's root, and documents their decision, in one of two ways (`join`):

- `SideInputJoin`: only clustered documents have a root or a decision, a small part of a
  corpus, so both are dicts on every worker and no document is shuffled by id.
- `ShuffleJoin`: CoGroupByKeys by id, for clusters that outgrow a worker's memory.

Both take {"documents", "membership"} and return `Decided`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import apache_beam as beam

from rootstock.filters import dedup as d
from rootstock.pipeline.beam.spill import Spilled, through_files
from rootstock.pipeline.stages.base import REJECTED, rejected


class Decided(NamedTuple):
    kept: beam.PCollection
    rejected: beam.PCollection
    # The nodes of this release's kept documents: their signatures go into the release.
    kept_nodes: beam.PCollection


class Survivors(beam.PTransform):
    """(root, slim node) pairs → (id, decision) for every member of a cluster."""

    def expand(self, by_root):
        return by_root | "Clusters" >> beam.GroupByKey() | "Pick" >> beam.FlatMap(_pick_survivors)


class SideInputJoin(beam.PTransform):
    """Roots and decisions as side inputs (`join: side_input`); NODES are read back from their spill."""

    def __init__(self, nodes: Spilled, scratch: str):
        super().__init__()
        self.nodes, self.scratch = nodes, scratch

    def expand(self, inputs) -> Decided:
        by_root = self.nodes.read("members") | "ByRoot" >> beam.FlatMap(
            lambda n, roots: [(roots[n["id"]], _slim(n))] if n["id"] in roots else [],
            beam.pvalue.AsDict(inputs["membership"]),
        )
        decisions = beam.pvalue.AsDict(by_root | "Survivors" >> Survivors())
        waiting = through_files(inputs["documents"], self.scratch, "dedup")
        applied = waiting | "Apply" >> beam.ParDo(_ApplySide(), decisions).with_outputs(REJECTED, main="kept")
        kept_nodes = self.nodes.read("signatures") | "KeptNodes" >> beam.FlatMap(
            lambda n, dec: [] if n.get("released") or _is_dropped(n, dec) else [n], decisions
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
        decisions = by_root | "Survivors" >> Survivors()
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


def _slim(node: dict[str, Any]) -> dict[str, Any]:
    """What survivor choice needs (signatures stay behind)."""
    return {k: node.get(k) for k in ("id", "exact", "url", "bytes", "priority", "released")}


def _pick_survivors(kv):
    root, members = kv
    members = sorted(members, key=d.survivor_key)
    survivor = members[0]
    for member in members:
        reason = None if member is survivor else d.drop_reason(member, survivor)
        yield (
            member["id"],
            {
                "dup_cluster_id": root,
                "dup_cluster_size": len(members),
                "dup_survivor_id": survivor["id"],
                "reason": reason,
            },
        )


def _decide(doc, cluster):
    """The document with its cluster columns, main output if it survives, REJECTED if not."""
    if cluster is None:
        return {**doc, "dup_cluster_id": doc["id"], "dup_cluster_size": 1}
    out = {**doc, "dup_cluster_id": cluster["dup_cluster_id"], "dup_cluster_size": cluster["dup_cluster_size"]}
    if cluster["reason"] is None:
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


class _ApplySide(beam.DoFn):
    """Decisions as a side input: documents are not shuffled by id."""

    def process(self, doc, decisions):
        yield _decide(doc, decisions.get(doc["id"]))


def _is_dropped(node, decisions) -> bool:
    return (decisions.get(node["id"]) or {}).get("reason") is not None
