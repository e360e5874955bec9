"""The `dedup` stage: template lines, then exact, URL and MinHash-LSH near-duplicates.

Every kind of duplicate becomes an edge between two document ids (edges), the connected
components of that graph are the clusters (components), and each cluster keeps one survivor
(survivors). The kept documents' signatures go into the release, for later runs that
deduplicate against it (signatures). `join` picks, once, how the shuffles are laid out.
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam
import pyarrow as pa

from rootstock.filters.minhash import false_negative_probability, false_positive_probability, lsh_params
from rootstock.pipeline.beam.spill import Spilled
from rootstock.pipeline.stages.base import REJECTED, RunContext, Stage, StageOutput
from rootstock.pipeline.stages.dedup.components import Membership
from rootstock.pipeline.stages.dedup.edges import PackedEdges, PerKeyEdges
from rootstock.pipeline.stages.dedup.settings import DedupSettings
from rootstock.pipeline.stages.dedup.signatures import NodeFeatures, ReleasedNodes, WriteSignatures, earlier_signatures
from rootstock.pipeline.stages.dedup.survivors import ShuffleJoin, SideInputJoin
from rootstock.pipeline.stages.dedup.templates import RemoveTemplateLines


class Deduplicate(Stage):
    name = "dedup"
    settings_class = DedupSettings
    columns = [
        pa.field("dup_cluster_id", pa.string()),
        pa.field("dup_cluster_size", pa.int64()),
        pa.field("dup_survivor_id", pa.string()),
    ]

    def __init__(self, settings: DedupSettings, context: RunContext):
        super().__init__(settings, context)
        self.priorities = {entry.uid: entry.priority for entry in context.entries}
        near = settings.near
        self.bands, self.rows = near.bands, near.rows
        if near.enabled and self.bands is None:
            self.bands, self.rows = lsh_params(near.threshold, near.num_perm)
        self.against_files = earlier_signatures(settings.against, near, self.bands, self.rows)

    def expand(self, documents) -> StageOutput:
        s, ctx = self.settings, self.context
        rejected_parts = []
        if s.template_lines.enabled:
            stripped = documents | "TemplateLines" >> RemoveTemplateLines(s.template_lines, ctx.work_dir)
            documents = stripped.kept
            rejected_parts.append(stripped[REJECTED])
        fresh = documents | "Nodes" >> NodeFeatures(s, self.priorities)
        nodes = fresh
        if self.against_files:
            released = documents.pipeline | "Released" >> ReleasedNodes(self.against_files)
            nodes = (fresh, released) | "AllNodes" >> beam.Flatten()
        edges, join = self._strategy(nodes, fresh)
        membership = nodes | "Edges" >> edges | "Clusters" >> Membership(s.cc_rounds, s.fallback_max_edges)
        decided = {"documents": documents, "membership": membership} | "Decide" >> join
        signatures = decided.kept_nodes | "Signatures" >> WriteSignatures(ctx.staging, ctx.config.shards, ctx.work_dir)
        return StageOutput(decided.kept, [*rejected_parts, decided.rejected], signatures)

    def _strategy(self, nodes, fresh) -> tuple[beam.PTransform, beam.PTransform]:
        """The edge finder and the join for `join`, chosen together: the side-input layout's
        steps that wait for a side input (candidates, roots, decisions) read the nodes back
        from one spill."""
        s = self.settings
        if s.join == "side_input":
            spilled = Spilled(nodes, self.context.work_dir, "nodes")
            return PackedEdges(s, self.bands, self.rows, spilled), SideInputJoin(spilled, self.context.work_dir)
        return PerKeyEdges(s, self.bands, self.rows), ShuffleJoin(nodes, fresh)

    def report(self) -> dict[str, Any]:
        s = self.settings
        report = {
            "scope": s.scope,
            "join": s.join,
            "exact": s.exact,
            "url": s.url,
            "template_lines": s.template_lines.model_dump(),
            "cc_rounds": s.cc_rounds,
            "fallback_max_edges": s.fallback_max_edges,
        }
        if s.near.enabled:
            report["near"] = {
                **s.near.model_dump(),
                "bands": self.bands,
                "rows": self.rows,
                "false_positive_probability": false_positive_probability(s.near.threshold, self.bands, self.rows),
                "false_negative_probability": false_negative_probability(s.near.threshold, self.bands, self.rows),
            }
        return report

    def notes(self, doc: dict[str, Any]) -> list[tuple[str, int]]:
        return [("dedup:has_duplicates", 1)] if doc.get("dup_cluster_size", 1) > 1 else []
