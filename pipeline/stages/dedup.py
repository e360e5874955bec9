"""The `dedup` stage: template lines, then exact, URL and MinHash-LSH near-duplicates.

Every kind of duplicate becomes an edge between two document ids; connected components of
that graph (alternating large-star/small-star rounds, Kiveris et al. 2014) are the clusters,
computed with GroupByKeys only, so no worker ever holds more than one node's neighbourhood.

Memory and rounds: a round is three GroupByKeys over the edge list (|E| ≤ |V|·(bands+2));
a node's neighbour list is the only per-worker state, bounded by the largest cluster. The
alternation converges in O(log² n) rounds in theory and a handful in practice; `cc_rounds`
(default 8) are unrolled in the graph, a check counts nodes that are not yet in star shape,
and if any remain, the remaining edges (at most `fallback_max_edges`, else the run fails with
that number) are finished by union-find on one worker.

One survivor per cluster by a total order (filters.dedup.survivor_key): earlier release,
catalogue priority, bytes, id. Kept documents carry dup_cluster_id (the cluster's smallest
id) and dup_cluster_size; removed ones go to the rejected set with `dup_survivor_id`.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections import defaultdict
from typing import Any, Literal

import apache_beam as beam
import numpy as np
import pyarrow as pa
from pydantic import Field, model_validator

from rootstock.errors import ConfigError, ReleaseError
from rootstock.filters import dedup as d
from rootstock.filters.minhash import (
    MinHasher,
    band_keys,
    estimated_jaccard,
    false_negative_probability,
    false_positive_probability,
    lsh_params,
)
from rootstock.pipeline.beam.parquet import ReadParquetRows
from rootstock.pipeline.beam.shards import WriteShards
from rootstock.pipeline.beam.spill import Spilled, through_files
from rootstock.pipeline.release.release import Release
from rootstock.pipeline.stages.base import REJECTED, RunContext, Stage, StageOutput, StageSettings, rejected
from rootstock.strict import Strict

SIGNATURES = "dedup/signatures"
# Settings that must match for signatures of another release to be comparable.
COMPATIBLE = ("num_perm", "seed", "ngram", "bands", "rows")


class TemplateLines(Strict):
    """ROOTS `dedup_template_soft`: lines this long that occur this often in a source go."""

    enabled: bool = True
    min_chars: int = Field(15, ge=1)
    min_count: int = Field(10, ge=2)


class NearDuplicates(Strict):
    enabled: bool = True
    threshold: float = Field(0.8, gt=0, lt=1)
    num_perm: int = Field(128, ge=16, le=1024)
    ngram: int = Field(5, ge=1, le=20)
    # Override the (bands, rows) derived from threshold and num_perm; both or neither.
    bands: int | None = Field(None, ge=1)
    rows: int | None = Field(None, ge=1)
    seed: int = 1

    @model_validator(mode="after")
    def _bands_rows(self) -> NearDuplicates:
        if (self.bands is None) != (self.rows is None):
            raise ValueError("set both bands and rows, or neither")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands × rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        return self


class DedupSettings(StageSettings):
    """Template lines, then exact, URL and MinHash near-duplicates as one graph of duplicates."""

    scope: Literal["source", "language", "global"] = "source"  # ROOTS deduplicated within a source
    template_lines: TemplateLines = TemplateLines()
    exact: bool = True
    url: bool = True
    near: NearDuplicates = NearDuplicates()
    # Connected components: alternating large-star/small-star rounds unrolled in the graph,
    # then a single-worker union-find over what is left, refused beyond fallback_max_edges.
    cc_rounds: int = Field(8, ge=1, le=64)
    fallback_max_edges: int = Field(2_000_000, ge=0)
    # How documents meet their dedup decision. side_input: the decisions of clustered documents
    # (a few % of the corpus) are a dict on every worker; no document is shuffled by id.
    # shuffle: a CoGroupByKey by id, for corpora whose duplicate clusters outgrow worker memory
    # (roughly > 10M clustered documents).
    join: Literal["side_input", "shuffle"] = "side_input"
    # Releases whose documents new ones are deduplicated against (incremental dedup): their
    # stored signatures are read, never recomputed, and their documents always survive.
    against: list[str] = []


SIGNATURE_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("lang", pa.string(), nullable=False),
        pa.field("exact", pa.string()),
        pa.field("url", pa.string()),
        pa.field("bytes", pa.int64()),
        pa.field("priority", pa.int64()),
        pa.field("signature", pa.list_(pa.uint32())),
    ]
)


def scope_key(settings: DedupSettings, source: str, lang: str) -> str:
    return {"source": f"s:{source}", "language": f"l:{lang}", "global": "g"}[settings.scope]


# --- template lines -----------------------------------------------------------------------


class RemoveTemplateLines(beam.PTransform):
    """Lines of ≥ min_chars occurring ≥ min_count times in a source are removed from its documents."""

    def __init__(self, settings: DedupSettings, staging: str):
        super().__init__()
        self.settings, self.staging = settings, staging

    def expand(self, docs):
        t = self.settings.template_lines
        templates = (
            docs
            | "LineBatches" >> _batches()
            | "LineHashes" >> beam.ParDo(_LineHashes(t.min_chars))
            | "ByPartition" >> beam.GroupByKey()
            | "Frequent"
            >> beam.FlatMap(
                lambda kv: [(kv[0][0], int(h)) for h in d.frequent_hashes(map(_int64s, kv[1]), t.min_count)]
            )
        )
        waiting = through_files(docs, self.staging, "templates")
        return waiting | "StripTemplates" >> beam.ParDo(
            _StripTemplates(t.min_chars), beam.pvalue.AsMultiMap(templates)
        ).with_outputs(REJECTED, main="kept")


# Hash partitions of the packed shuffles (line counts, LSH buckets): a reducer holds 1/16 of them.
PARTITIONS = 16


def _batches(size: int = 2000) -> beam.BatchElements:
    """Fixed-size batches for the packed shuffles (a fixed size skips the adaptive estimator)."""
    return beam.BatchElements(min_batch_size=size, max_batch_size=size, record_metrics=False)


def _int64s(packed: bytes) -> np.ndarray:
    return np.frombuffer(packed, dtype=np.int64)


class _LineHashes(beam.DoFn):
    """Per batch of documents, one packed int64 array of candidate line hashes per (source, partition)."""

    def __init__(self, min_chars: int):
        self.min_chars = min_chars

    def process(self, docs):
        parts: dict[tuple[str, int], list[int]] = defaultdict(list)
        for doc in docs:
            for h in d.template_candidates(doc["text"], self.min_chars):
                parts[(doc["source"], h % PARTITIONS)].append(h)
        for key, hashes in parts.items():
            yield key, np.array(hashes, dtype=np.int64).tobytes()


class _StripTemplates(beam.DoFn):
    def __init__(self, min_chars: int):
        self.min_chars = min_chars
        self._sets: dict[str, frozenset] = {}

    def process(self, doc, templates):
        source = doc["source"]
        if source not in self._sets:
            # The multimap view's values are lazy iterables, truthy even when empty: materialise.
            self._sets[source] = frozenset(templates[source])
        if not self._sets[source]:
            yield doc
            return
        text = d.remove_lines(doc["text"], self._sets[source], self.min_chars)
        if not text:
            yield beam.pvalue.TaggedOutput(REJECTED, rejected(doc, "dedup", "template_only"))
        else:
            yield {**doc, "text": text}


# --- features and edges --------------------------------------------------------------------


class _Features(beam.DoFn):
    """Per batch of documents: node records (exact key, URL key, signature) for the duplicate graph.

    Signatures are computed for the whole batch in one rensa call (2.5× per-document calls) and
    travel as raw little-endian uint32 bytes: the shuffle coder passes bytes through as they
    are, where a numpy array would be pickled at every stage boundary.
    """

    def __init__(self, settings: DedupSettings, priorities: dict[str, int]):
        self.settings, self.priorities = settings, priorities

    def setup(self):
        self.hasher = None
        if self.settings.near.enabled:
            self.hasher = MinHasher(num_perm=self.settings.near.num_perm, seed=self.settings.near.seed)

    def process(self, batch):
        s = self.settings
        signatures = [None] * len(batch)
        if self.hasher is not None:
            matrix = self.hasher.text_signatures(
                [doc["text"] for doc in batch], [doc["lang"] for doc in batch], s.near.ngram
            )
            signatures = [row.astype("<u4").tobytes() for row in matrix]
        for doc, signature in zip(batch, signatures, strict=True):
            yield {
                "id": doc["id"],
                "source": doc["source"],
                "lang": doc["lang"],
                "exact": d.normalized_hash(doc["text"]) if s.exact else None,
                "url": d.url_key(doc.get("url")) if s.url else None,
                "bytes": len(doc["text"].encode("utf-8")),
                "priority": self.priorities.get(doc["source"], 0),
                "signature": signature,
            }


def as_array(signature: bytes) -> np.ndarray:
    return np.frombuffer(signature, dtype="<u4")


def _similar(threshold: float):
    return lambda a, b: estimated_jaccard(as_array(a), as_array(b)) >= threshold


class DuplicateEdges(beam.PTransform):
    """Undirected duplicate edges (a, b): exact and URL groups as stars, verified LSH pairs.

    `join: side_input` groups all three kinds in one packed shuffle (_PackKeys) and looks up
    candidate signatures from a side input; `join: shuffle` shuffles one element per key.
    """

    def __init__(self, settings: DedupSettings, bands: int, rows: int, spilled_nodes: Spilled | None):
        super().__init__()
        self.settings, self.bands, self.rows, self.spilled_nodes = settings, bands, rows, spilled_nodes

    def expand(self, nodes):
        s = self.settings
        if not (s.exact or s.url or s.near.enabled):
            return nodes.pipeline | "NoEdges" >> beam.Create([])
        if s.join == "side_input":
            edges = self._packed(nodes)
        else:
            edges = self._per_key(nodes)
        return edges | "AllEdges" >> beam.Flatten() | "Distinct" >> beam.Distinct()

    def _packed(self, nodes):
        s = self.settings
        groups = (
            nodes
            | "KeyBatches" >> _batches()
            | "PackKeys" >> beam.ParDo(_PackKeys(s, self.bands, self.rows))
            | "ByPartition" >> beam.GroupByKey()
            | "Shared" >> beam.FlatMap(_shared_groups)
        )
        edges = [groups | "Stars" >> beam.FlatMap(lambda g: d.star_edges(g[1]) if g[0] < NEAR else [])]
        if s.near.enabled:
            similar = _similar(s.near.threshold)
            buckets = groups | "Buckets" >> beam.FlatMap(lambda g: [g[1]] if g[0] >= NEAR else [])
            candidates = (
                buckets
                | "CandidateIds" >> beam.FlatMap(lambda members: members)
                | "CandidateSet" >> beam.combiners.ToSet()
            )
            signatures = beam.pvalue.AsDict(
                self.spilled_nodes.read("candidates")
                | "CandidateSignatures"
                >> beam.FlatMap(
                    lambda n, ids: [(n["id"], n["signature"])] if n["id"] in ids else [],
                    beam.pvalue.AsSingleton(candidates),
                )
            )
            edges.append(
                buckets
                | "Verify"
                >> beam.FlatMap(
                    lambda members, sigs: d.verified_bucket_edges([(m, sigs[m]) for m in members], similar), signatures
                )
            )
        return edges

    def _per_key(self, nodes):
        s, bands, rows = self.settings, self.bands, self.rows
        edges = []
        if s.exact:
            edges.append(
                nodes
                | "ExactKey" >> beam.Map(lambda n: ((scope_key(s, n["source"], n["lang"]), n["exact"]), n["id"]))
                | "ExactGroups" >> beam.GroupByKey()
                | "ExactEdges" >> beam.FlatMap(lambda kv: d.star_edges(kv[1]))
            )
        if s.url:
            edges.append(
                nodes
                | "WithUrl" >> beam.Filter(lambda n: n["url"] is not None)
                | "UrlKey" >> beam.Map(lambda n: ((scope_key(s, n["source"], n["lang"]), n["url"]), n["id"]))
                | "UrlGroups" >> beam.GroupByKey()
                | "UrlEdges" >> beam.FlatMap(lambda kv: d.star_edges(kv[1]))
            )
        if s.near.enabled:
            similar = _similar(s.near.threshold)

            def keys(n):
                return [
                    ((scope_key(s, n["source"], n["lang"]), key), (n["id"], n["signature"]))
                    for key in band_keys(as_array(n["signature"]), bands, rows)
                ]

            edges.append(
                nodes
                | "BandKeys" >> beam.FlatMap(keys)
                | "Buckets" >> beam.GroupByKey()
                | "Shared" >> beam.Map(lambda kv: list(kv[1]))
                | "TwoOrMore" >> beam.Filter(lambda members: len(members) > 1)
                | "Verify" >> beam.FlatMap(d.verified_bucket_edges, similar)
            )
        return edges


# Key kinds of the packed shuffle: exact text, URL, then one per LSH band (NEAR + band index).
EXACT, URL, NEAR = 0, 1, 2


class _PackKeys(beam.DoFn):
    """Per batch of nodes, packed (kind, key, key, member) columns per (scope, partition).

    One element per partition and batch instead of one per document and key: a document has
    an exact key, a URL key and 14 LSH band keys, nearly all of them its own, and shuffling
    each as an element dominated the dedup graph's time and the runner's memory. Exact and URL
    keys are 128-bit (md5 of the normalised text, BLAKE2b of the URL key); band keys 64-bit,
    as candidates are verified anyway.
    """

    def __init__(self, settings: DedupSettings, bands: int, rows: int):
        self.settings, self.bands, self.rows = settings, bands, rows

    def keys(self, n):
        s = self.settings
        if s.exact:
            yield EXACT, int(n["exact"][:16], 16), int(n["exact"][16:], 16)
        if s.url and n["url"] is not None:
            digest = hashlib.blake2b(n["url"].encode("utf-8"), digest_size=16).digest()
            yield URL, int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:], "little")
        if s.near.enabled:
            for key in band_keys(as_array(n["signature"]), self.bands, self.rows):
                yield NEAR + int.from_bytes(key[:2], "big"), int.from_bytes(key[2:], "little"), 0

    def process(self, nodes):
        # Per partition: key columns and a member index; each id is stored once.
        parts: dict[tuple[str, int], tuple[list, list, dict]] = defaultdict(lambda: ([], [], {}))
        for n in nodes:
            scope = scope_key(self.settings, n["source"], n["lang"])
            for kind, k1, k2 in self.keys(n):
                keys, index, members = parts[(scope, k1 % PARTITIONS)]
                keys.append((kind, k1, k2))
                index.append(members.setdefault(n["id"], len(members)))
        for part, (keys, index, members) in parts.items():
            yield (
                part,
                (np.array(keys, dtype=np.uint64).tobytes(), np.array(index, dtype=np.uint32).tobytes(), list(members)),
            )


def _shared_groups(kv):
    """(kind, members) for every key of a partition that two or more members share."""
    keys, members = [], []
    for packed, index, ids in kv[1]:
        keys.append(np.frombuffer(packed, dtype=np.uint64).reshape(-1, 3))
        members.extend(ids[i] for i in np.frombuffer(index, dtype=np.uint32))
    if not members:
        return []
    keys = np.concatenate(keys)
    return [(int(keys[row, 0]), group) for row, group in d.shared_keys(keys, members)]


# --- connected components ------------------------------------------------------------------


class ConnectedComponents(beam.PTransform):
    """Undirected edges (a, b) → (node, smallest node of its component) for every non-root node."""

    def __init__(self, rounds: int, fallback_max_edges: int):
        super().__init__()
        self.rounds, self.fallback_max_edges = rounds, fallback_max_edges

    def expand(self, edges):
        # The star steps read their neighbours as sets, so duplicate edges between rounds are
        # harmless: one Distinct at the end instead of two per round (16 fewer shuffles).
        for i in range(self.rounds):
            edges = (
                edges
                | f"Both{i}" >> beam.FlatMap(lambda e: [(e[0], e[1]), (e[1], e[0])])
                | f"LargeGroup{i}" >> beam.GroupByKey()
                | f"LargeStar{i}" >> beam.FlatMap(lambda kv: d.large_star(kv[0], kv[1]))
                | f"Orient{i}" >> beam.Map(lambda e: (max(e), min(e)))
                | f"SmallGroup{i}" >> beam.GroupByKey()
                | f"SmallStar{i}" >> beam.FlatMap(lambda kv: d.small_star(kv[0], kv[1]))
            )
        edges = edges | "DistinctEdges" >> beam.Distinct()
        # Converged iff every component is a star around its smallest node: no node is both a
        # child and a parent, and no child has two parents.
        as_child = edges | "ByChild" >> beam.Map(lambda e: (e[0], ("child", e[1])))
        as_parent = edges | "ByParent" >> beam.Map(lambda e: (e[1], ("parent", e[0])))
        unfinished = (
            (as_child, as_parent)
            | "Roles" >> beam.Flatten()
            | "RolesByNode" >> beam.GroupByKey()
            | "NotStar" >> beam.Map(lambda kv: int(_not_star(kv[1])))
            | "CountNotStar" >> beam.CombineGlobally(sum)
        )
        routed = edges | "SplitConverged" >> beam.ParDo(_Route(), beam.pvalue.AsSingleton(unfinished)).with_outputs(
            "residual", main="done"
        )
        finished = (
            routed.residual
            | "OneKey" >> beam.Map(lambda e: (0, e))
            | "Gather" >> beam.GroupByKey()
            | "UnionFind" >> beam.FlatMap(_finish, self.fallback_max_edges)
        )
        return (routed.done, finished) | "Components" >> beam.Flatten()


def _not_star(roles) -> bool:
    parents, child_of = set(), set()
    for role, other in roles:
        (child_of if role == "child" else parents).add(other)
    return bool(child_of and parents) or len(child_of) > 1


class _Route(beam.DoFn):
    def process(self, edge, unfinished):
        if unfinished:
            yield beam.pvalue.TaggedOutput("residual", edge)
        else:
            yield edge


def _finish(kv, limit):
    edges = list(kv[1])
    if len(edges) > limit:
        raise RuntimeError(
            f"connected components did not converge in the unrolled rounds and {len(edges)} edges remain, "
            f"over fallback_max_edges={limit}; raise stages.dedup.cc_rounds"
        )
    for node, root in d.union_find(edges).items():
        if node != root:
            yield node, root


# --- survivors -------------------------------------------------------------------------------


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
    """Decisions joined by id in a shuffle (`join: shuffle`)."""

    def process(self, kv):
        _, grouped = kv
        info = list(grouped["info"])
        for doc in grouped["doc"]:
            yield _decide(doc, info[0] if info else None)


class _ApplySide(beam.DoFn):
    """Decisions as a side input (`join: side_input`): documents are not shuffled by id."""

    def process(self, doc, decisions):
        yield _decide(doc, decisions.get(doc["id"]))


def _is_dropped(node, decisions) -> bool:
    return (decisions.get(node["id"]) or {}).get("reason") is not None


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
        self.against_files = self._against(settings.against)

    def _against(self, releases: list[str]) -> list[str]:
        """Signature files of earlier releases, refused if their MinHash settings differ."""
        files = []
        mine = {
            "num_perm": self.settings.near.num_perm,
            "seed": self.settings.near.seed,
            "ngram": self.settings.near.ngram,
            "bands": self.bands,
            "rows": self.rows,
        }
        for release in releases:
            try:
                manifest = Release.open(release).manifest
            except ReleaseError as err:
                raise ConfigError(f"stages.dedup.against: {err}") from None
            reports = [s.get("report", {}) for s in manifest.get("stages", []) if s["name"] == "dedup"]
            theirs = (reports[0].get("near") or {}) if reports else {}
            differing = {k: (theirs.get(k), mine[k]) for k in COMPATIBLE if theirs.get(k) != mine[k]}
            if differing:
                raise ConfigError(
                    f"stages.dedup.against: {release} was deduplicated with other MinHash settings "
                    f"(theirs, ours): {differing}"
                )
            found = [a["path"] for a in manifest.get("artifacts", []) if a["path"].startswith(SIGNATURES + "/")]
            files += [posixpath.join(release, f) for f in found]
        return files

    def expand(self, documents) -> StageOutput:
        s = self.settings
        rejected_parts = []
        if s.template_lines.enabled:
            stripped = documents | "TemplateLines" >> RemoveTemplateLines(s, self.context.work_dir)
            documents = stripped.kept
            rejected_parts.append(stripped[REJECTED])
        fresh = (
            documents
            | "FeatureBatches" >> beam.BatchElements(min_batch_size=256, max_batch_size=256)
            | "Features" >> beam.ParDo(_Features(s, self.priorities))
        )
        nodes = fresh
        if self.against_files:
            released = (
                documents.pipeline
                | "Released" >> beam.Create(self.against_files)
                | "ReadSignatures" >> ReadParquetRows()
                | "AsNodes" >> beam.Map(_released_node)
            )
            nodes = (fresh, released) | "AllNodes" >> beam.Flatten()
        # With the side-input join, the steps that wait for a side input (candidates, roots,
        # decisions) read the nodes back from one spill.
        spilled_nodes = Spilled(nodes, self.context.work_dir, "nodes") if s.join == "side_input" else None
        edges = nodes | "Edges" >> DuplicateEdges(s, self.bands, self.rows, spilled_nodes)
        components = edges | "Components" >> ConnectedComponents(s.cc_rounds, s.fallback_max_edges)
        roots = components | "Roots" >> beam.Map(lambda e: (e[1], e[1])) | "DistinctRoots" >> beam.Distinct()
        membership = (components, roots) | "Membership" >> beam.Flatten()  # node → root, roots included
        if s.join == "side_input":
            # Only clustered nodes have a root (a few percent): a dict instead of a join by id.
            by_root = spilled_nodes.read("members") | "ByRoot" >> beam.FlatMap(
                lambda n, roots: [(roots[n["id"]], _slim(n))] if n["id"] in roots else [],
                beam.pvalue.AsDict(membership),
            )
        else:
            by_root = (
                {"root": membership, "node": nodes | "NodeById" >> beam.Map(lambda n: (n["id"], _slim(n)))}
                | "JoinNodes" >> beam.CoGroupByKey()
                | "ByRoot"
                >> beam.FlatMap(lambda kv: [(root, node) for root in kv[1]["root"] for node in kv[1]["node"]])
            )
        members = by_root | "Clusters" >> beam.GroupByKey() | "Survivors" >> beam.FlatMap(_pick_survivors)
        if s.join == "side_input":
            # Only documents in clusters of two or more have a decision (a few percent of a
            # corpus): a dict on each worker instead of shuffling every document by id.
            decisions = beam.pvalue.AsDict(members)
            waiting = through_files(documents, self.context.work_dir, "dedup")
            applied = waiting | "Apply" >> beam.ParDo(_ApplySide(), decisions).with_outputs(REJECTED, main="kept")
            kept_nodes = spilled_nodes.read("signatures") | "KeptNodes" >> beam.FlatMap(
                lambda n, dec: [] if n.get("released") or _is_dropped(n, dec) else [_signature_row(n)], decisions
            )
        else:
            applied = (
                {"doc": documents | "DocById" >> beam.Map(lambda doc: (doc["id"], doc)), "info": members}
                | "JoinDocs" >> beam.CoGroupByKey()
                | "Apply" >> beam.ParDo(_Apply()).with_outputs(REJECTED, main="kept")
            )
            kept_nodes = (
                {
                    "node": fresh | "FreshById" >> beam.Map(lambda n: (n["id"], n)),
                    "kept": applied.kept | "KeptIds" >> beam.Map(lambda doc: (doc["id"], None)),
                }
                | "JoinKept" >> beam.CoGroupByKey()
                | "KeptNodes"
                >> beam.FlatMap(lambda kv: [_signature_row(n) for n in kv[1]["node"]] if kv[1]["kept"] else [])
            )
        rejected_parts.append(applied[REJECTED])
        # The kept documents' signatures go into the release so a later run can dedup against it.
        signatures = kept_nodes | "WriteSignatures" >> WriteShards(
            self.context.staging,
            self.context.config.shards,
            SIGNATURE_SCHEMA,
            size=_signature_bytes,
            scratch=self.context.work_dir,
            prefix=SIGNATURES,
        )
        return StageOutput(applied.kept, rejected_parts, signatures)

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


def _slim(node: dict[str, Any]) -> dict[str, Any]:
    """What survivor choice needs (signatures stay behind)."""
    return {k: node.get(k) for k in ("id", "exact", "url", "bytes", "priority", "released")}


def _signature_row(node: dict[str, Any]) -> dict[str, Any]:
    sig = node.get("signature")
    # An array, not a list: 128 Python ints take 4.6 KB, the array 0.6 KB; Arrow takes either.
    return {**{f.name: node.get(f.name) for f in SIGNATURE_SCHEMA}, "signature": None if sig is None else as_array(sig)}


def _signature_bytes(row: dict[str, Any]) -> int:
    return 4 * (0 if row["signature"] is None else len(row["signature"])) + 64


def _released_node(row: dict[str, Any]) -> dict[str, Any]:
    """A signature row of an earlier release as a node of the graph (it always survives)."""
    sig = row.get("signature")
    return {**row, "signature": None if sig is None else np.asarray(sig, dtype="<u4").tobytes(), "released": True}
