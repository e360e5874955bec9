"""The `dedup` stage: template lines, then exact, URL and MinHash-LSH near-duplicates, then
(optionally) repeated spans.

Every kind of duplicate becomes an edge between two document ids (edges), the connected
components of that graph are the clusters (components), and each cluster keeps one survivor
(survivors). The `substring` step then removes, from the documents left, spans an earlier one
holds (substrings). The kept documents' signatures (of their text before that step) go into
the release, for later runs that deduplicate against it (signatures). `join` picks how the
shuffles are laid out: once, or (`auto`) per step from counts measured in the run (choice).
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam
import pyarrow as pa

from rootstock.filters import dedup as d
from rootstock.filters.minhash import false_negative_probability, false_positive_probability, lsh_params
from rootstock.pipeline.beam.spill import Spilled
from rootstock.pipeline.stages.base import REJECTED, RunContext, Stage, StageOutput
from rootstock.pipeline.stages.dedup.choice import read_records, write_records
from rootstock.pipeline.stages.dedup.components import Membership
from rootstock.pipeline.stages.dedup.edges import PackedEdges, PerKeyEdges
from rootstock.pipeline.stages.dedup.settings import DedupSettings
from rootstock.pipeline.stages.dedup.signatures import NodeFeatures, ReleasedNodes, WriteSignatures, earlier_signatures
from rootstock.pipeline.stages.dedup.substrings import SUBSTRING_FIELD, RemoveRepeatedSpans
from rootstock.pipeline.stages.dedup.survivors import CAPPED_FIELD, AutoJoin, ShuffleJoin, SideInputJoin
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
        found = nodes | "Edges" >> edges
        membership = found.edges | "Clusters" >> Membership(s.cc_rounds, s.fallback_max_edges)
        decided = {"documents": documents, "membership": membership, "capped": found.capped} | "Decide" >> join
        kept, kept_nodes, rejected_parts = decided.kept, decided.kept_nodes, [*rejected_parts, decided.rejected]
        choices = [found.choice, getattr(join, "choice", None)]
        if s.substring.enabled:
            step = RemoveRepeatedSpans(s, self.priorities, ctx.work_dir)
            spans = kept | "Substrings" >> step
            kept = spans.kept
            rejected_parts.append(spans.rejected)
            choices.append(step.choice)
            # A document emptied by the step leaves the release, and its signature with it.
            emptied = beam.pvalue.AsDict(spans.rejected | "EmptiedIds" >> beam.Map(lambda doc: (doc["id"], None)))
            kept_nodes = kept_nodes | "NotEmptied" >> beam.Filter(lambda n, gone: n["id"] not in gone, emptied)
        signatures = kept_nodes | "Signatures" >> WriteSignatures(ctx.staging, ctx.config.shards, ctx.work_dir)
        write_records([c.record for c in choices if c is not None], ctx.work_dir)
        return StageOutput(kept, rejected_parts, signatures)

    def _strategy(self, nodes, fresh) -> tuple[beam.PTransform, beam.PTransform]:
        """The edge finder and the join for `join`, chosen together: the side-input layout's
        steps that wait for a side input (candidates, roots, decisions) read the nodes back
        from one spill."""
        s, scratch = self.settings, self.context.work_dir
        if s.join == "side_input":
            spilled = Spilled(nodes, scratch, "nodes")
            return PackedEdges(s, self.bands, self.rows, spilled, scratch), SideInputJoin(spilled, scratch)
        if s.join == "auto":
            spilled = Spilled(nodes, scratch, "nodes")
            limit = s.side_input_max_docs
            return PackedEdges(s, self.bands, self.rows, spilled, scratch, limit), AutoJoin(spilled, scratch, limit)
        return PerKeyEdges(s, self.bands, self.rows), ShuffleJoin(nodes, fresh)

    def report(self) -> dict[str, Any]:
        s = self.settings
        report = {
            "scope": s.scope,
            "join": s.join,
            "side_input_max_docs": s.side_input_max_docs,
            "exact": s.exact,
            "url": s.url,
            "template_lines": s.template_lines.model_dump(),
            "cc_rounds": s.cc_rounds,
            "fallback_max_edges": s.fallback_max_edges,
        }
        if s.substring.enabled:
            report["substring"] = s.substring.model_dump()
        if s.near.enabled:
            report["near"] = {
                **s.near.model_dump(),
                "bands": self.bands,
                "rows": self.rows,
                "false_positive_probability": false_positive_probability(s.near.threshold, self.bands, self.rows),
                "false_negative_probability": false_negative_probability(s.near.threshold, self.bands, self.rows),
            }
        return report

    def parameters(self, source: str) -> dict[str, Any]:
        """The settings, which steps ran in which order, and with `join: auto`, the join each
        step took (`joins`: the step, the documents measured, the choice), once the run is over."""
        s = self.settings
        ran = [("template_lines", s.template_lines.enabled), ("exact", s.exact), ("url", s.url)]
        ran += [("near", s.near.enabled), ("substring", s.substring.enabled)]
        out = {**super().parameters(source), "steps": [name for name, on in ran if on]}
        if s.join == "auto" and self.context.staging is not None:
            out["joins"] = read_records(self.context.work_dir)
        return out

    def notes(self, doc: dict[str, Any]) -> list[tuple[str, int]]:
        """A kept document with dup_cluster_size > 1 is its cluster's survivor: clusters are
        counted by size class on it (dedup:clusters_2, _3-9, _10-99, _100+), with the capped
        LSH buckets and the repeated spans counted on it."""
        notes = []
        size = doc.get("dup_cluster_size", 1)
        if size > 1:
            notes += [("dedup:has_duplicates", 1), (f"dedup:clusters_{d.cluster_size_class(size)}", 1)]
        if CAPPED_FIELD in doc:
            buckets, unlinked = doc[CAPPED_FIELD]
            notes += [("dedup:capped_buckets", buckets), ("dedup:capped_unlinked", unlinked)]
        if SUBSTRING_FIELD in doc:
            spans, removed = doc[SUBSTRING_FIELD]
            notes += [("dedup:substring_docs", 1), ("dedup:substring_spans", spans), ("dedup:substring_bytes", removed)]
        return notes
