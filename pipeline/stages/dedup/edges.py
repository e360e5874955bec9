"""Duplicate edges: every pair of documents found to be duplicates, as an undirected (a, b).

Exact and URL groups become stars (every member linked to one), LSH buckets become the pairs
whose signatures are verified similar. The two strategies differ only in how keys reach
their groups, and match the two values of `join`:

- `PackedEdges` (side_input): one packed shuffle for exact, URL and band keys together;
  a bucket's candidate signatures come from a side input, so the shuffle carries ids only.
- `PerKeyEdges` (shuffle): one element per document and key, signatures shuffled with them;
  no step waits for a side input.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import apache_beam as beam
import numpy as np

from rootstock.filters import dedup as d
from rootstock.filters.minhash import band_keys, estimated_jaccard
from rootstock.pipeline.beam.spill import Spilled
from rootstock.pipeline.stages.dedup.packing import PARTITIONS, batches
from rootstock.pipeline.stages.dedup.settings import DedupSettings, scope_key
from rootstock.pipeline.stages.dedup.signatures import as_array

# Key kinds of the packed shuffle: exact text, URL, then one per LSH band (NEAR + band index).
EXACT, URL, NEAR = 0, 1, 2


class PackedEdges(beam.PTransform):
    """Nodes → duplicate edges, keys grouped in one packed shuffle (`join: side_input`).

    NODES reads the nodes back after the barrier that the candidate signatures wait for.
    """

    def __init__(self, settings: DedupSettings, bands: int | None, rows: int | None, nodes: Spilled):
        super().__init__()
        self.settings, self.bands, self.rows, self.nodes = settings, bands, rows, nodes

    def expand(self, nodes):
        s = self.settings
        groups = (
            nodes
            | "KeyBatches" >> batches()
            | "PackKeys" >> beam.ParDo(_PackKeys(s, self.bands, self.rows))
            | "ByPartition" >> beam.GroupByKey()
            | "Shared" >> beam.FlatMap(_shared_groups)
        )
        edges = [groups | "Stars" >> beam.FlatMap(lambda g: d.star_edges(g[1]) if g[0] < NEAR else [])]
        if s.near.enabled:
            buckets = groups | "Buckets" >> beam.FlatMap(lambda g: [g[1]] if g[0] >= NEAR else [])
            edges.append(buckets | "Verify" >> _VerifyBuckets(self.nodes, s.near.threshold))
        return _every_edge_once(nodes, edges)


class PerKeyEdges(beam.PTransform):
    """Nodes → duplicate edges, one shuffle per kind of key with one element per key (`join: shuffle`)."""

    def __init__(self, settings: DedupSettings, bands: int | None, rows: int | None):
        super().__init__()
        self.settings, self.bands, self.rows = settings, bands, rows

    def expand(self, nodes):
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
                | "Verify" >> beam.FlatMap(d.verified_bucket_edges, _similar(s.near.threshold))
            )
        return _every_edge_once(nodes, edges)


def _every_edge_once(nodes, edges: list):
    """The edges of every kind, each once (a pair can be exact, URL and near duplicates at once)."""
    if not edges:
        return nodes.pipeline | "NoEdges" >> beam.Create([])
    return edges | "AllEdges" >> beam.Flatten() | "Distinct" >> beam.Distinct()


def _similar(threshold: float):
    return lambda a, b: estimated_jaccard(as_array(a), as_array(b)) >= threshold


class _VerifyBuckets(beam.PTransform):
    """LSH buckets (lists of ids) → the pairs in them whose signatures are similar enough.

    Only ids that share a bucket are candidates, so only their signatures become a side input.
    """

    def __init__(self, nodes: Spilled, threshold: float):
        super().__init__()
        self.nodes, self.threshold = nodes, threshold

    def expand(self, buckets):
        similar = _similar(self.threshold)
        candidates = (
            buckets | "CandidateIds" >> beam.FlatMap(lambda members: members) | "CandidateSet" >> beam.combiners.ToSet()
        )
        signatures = beam.pvalue.AsDict(
            self.nodes.read("candidates")
            | "CandidateSignatures"
            >> beam.FlatMap(
                lambda n, ids: [(n["id"], n["signature"])] if n["id"] in ids else [],
                beam.pvalue.AsSingleton(candidates),
            )
        )
        return buckets | "Pairs" >> beam.FlatMap(
            lambda members, sigs: d.verified_bucket_edges([(m, sigs[m]) for m in members], similar), signatures
        )


class _PackKeys(beam.DoFn):
    """Per batch of nodes, packed (kind, key, key, member) columns per (scope, partition).

    One element per partition and batch instead of one per document and key: a document has
    an exact key, a URL key and a key per LSH band, nearly all of them its own, and shuffling
    each as an element dominated the dedup graph's time and the runner's memory. Exact and URL
    keys are 128-bit (md5 of the normalised text, BLAKE2b of the URL key); band keys 64-bit,
    as candidates are verified anyway.
    """

    def __init__(self, settings: DedupSettings, bands: int | None, rows: int | None):
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
