"""Duplicate edges: every pair of documents found to be duplicates, as an undirected (a, b).

Exact and URL groups become stars (every member linked to one), LSH buckets the connectivity of
their pairs whose signatures are verified similar (filters.dedup.bucket_edges: all pairs, or
representatives beyond `near.bucket_cap`). Both give `Edges`: the edges, and per capped bucket
(its first representative, (1, members left unlinked)) for the manifest. The two strategies
differ only in how keys reach their groups, and match the values of `join`:

- `PackedEdges` (side_input, auto): one packed shuffle for exact, URL and band keys together;
  a bucket's candidate signatures come from a side input, so the shuffle carries ids only.
  With `auto` (a `max_side`), that holds while the distinct candidates are at most
  `side_input_max_docs`; beyond, buckets meet their members' signatures by a CoGroupByKey on
  id, then a GroupByKey on the bucket (choice.py).
- `PerKeyEdges` (shuffle): one element per document and key, signatures shuffled with them;
  no step waits for a side input.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import NamedTuple

import apache_beam as beam
import numpy as np

from rootstock.filters import dedup as d
from rootstock.filters.minhash import band_keys
from rootstock.pipeline.beam.lookup import Lookup, LookupFn, WithLookup
from rootstock.pipeline.beam.spill import Spilled, expand_spilled, spill_dir, spill_enabled, write_batch
from rootstock.pipeline.stages.dedup.choice import Choice, Routed
from rootstock.pipeline.stages.dedup.packing import PARTITIONS, batches
from rootstock.pipeline.stages.dedup.settings import DedupSettings, scope_key
from rootstock.pipeline.stages.dedup.signatures import as_array

# Key kinds of the packed shuffle: exact text, URL, then one per LSH band (NEAR + band index).
EXACT, URL, NEAR = 0, 1, 2
CAPPED = "capped"  # the output of capped buckets


class Edges(NamedTuple):
    edges: beam.PCollection  # (a, b), each pair once
    capped: beam.PCollection  # (first representative, (capped buckets, members left unlinked))
    choice: Choice | None = None  # how the LSH buckets were verified, with `join: auto`


class PackedEdges(beam.PTransform):
    """Nodes → duplicate edges, keys grouped in one packed shuffle (`join: side_input` or `auto`).

    NODES reads the nodes back after the barrier that the candidate signatures wait for.
    MAX_SIDE (with `auto`): the most distinct candidates whose signatures go to a side input.
    Where spilling is on, the packed keys cross their shuffle as files in SCRATCH: the local
    runner would hand each worker its share of every document's keys in one message.
    """

    def __init__(
        self,
        settings: DedupSettings,
        bands: int | None,
        rows: int | None,
        nodes: Spilled,
        scratch: str,
        max_side: int | None = None,
    ):
        super().__init__()
        self.settings, self.bands, self.rows, self.nodes = settings, bands, rows, nodes
        self.scratch, self.max_side = scratch, max_side

    def expand(self, nodes):
        s = self.settings
        directory = spill_dir(self.scratch, "keys") if spill_enabled(nodes.pipeline) else None
        groups = (
            nodes
            | "KeyBatches" >> batches()
            | "PackKeys" >> beam.ParDo(_PackKeys(s, self.bands, self.rows, directory))
            | "ByPartition" >> beam.GroupByKey()
            | "Shared" >> beam.FlatMap(_shared_groups)
        )
        edges = [groups | "Stars" >> beam.FlatMap(lambda g: d.star_edges(g[1]) if g[0] < NEAR else [])]
        capped = choice = None
        if s.near.enabled:
            buckets = groups | "Buckets" >> beam.Filter(lambda g: g[0] >= NEAR)
            verify = _VerifyBuckets(self.nodes, s.near.threshold, s.near.bucket_cap, self.scratch, self.max_side)
            verified = buckets | "Verify" >> verify
            edges.append(verified.edges)
            capped, choice = verified.capped, verify.choice
        return _every_edge_once(nodes, edges, capped)._replace(choice=choice)


class PerKeyEdges(beam.PTransform):
    """Nodes → duplicate edges, one shuffle per kind of key with one element per key (`join: shuffle`)."""

    def __init__(self, settings: DedupSettings, bands: int | None, rows: int | None):
        super().__init__()
        self.settings, self.bands, self.rows = settings, bands, rows

    def expand(self, nodes):
        s, bands, rows = self.settings, self.bands, self.rows
        edges, capped = [], None
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

            verified = (
                nodes
                | "BandKeys" >> beam.FlatMap(keys)
                | "Buckets" >> beam.GroupByKey()
                | "Shared" >> beam.Map(lambda kv: list(kv[1]))
                | "TwoOrMore" >> beam.Filter(lambda members: len(members) > 1)
                | "Verify"
                >> beam.ParDo(_Verify(s.near.threshold, s.near.bucket_cap)).with_outputs(CAPPED, main="edges")
            )
            edges.append(verified.edges)
            capped = verified[CAPPED]
        return _every_edge_once(nodes, edges, capped)


def _every_edge_once(nodes, edges: list, capped) -> Edges:
    """The edges of every kind, each once (a pair can be exact, URL and near duplicates at once)."""
    if capped is None:
        capped = nodes.pipeline | "NoneCapped" >> beam.Create([])
    if not edges:
        return Edges(nodes.pipeline | "NoEdges" >> beam.Create([]), capped)
    return Edges(edges | "AllEdges" >> beam.Flatten() | "Distinct" >> beam.Distinct(), capped)


class _Verify(LookupFn):
    """A bucket → its verified edges, and a CAPPED record if it was capped.

    A bucket is a list of (id, signature), or of ids whose signatures come as a Lookup.
    """

    def __init__(self, threshold: float, cap: int):
        self.threshold, self.cap = threshold, cap

    def process(self, members, signatures=None):
        if signatures is not None:
            signatures = self.table(signatures)
            members = [(m, signatures[m]) for m in members]
        found = d.bucket_edges(members, self.threshold, self.cap)
        yield from found.edges
        if found.capped is not None:
            yield beam.pvalue.TaggedOutput(CAPPED, (found.capped, (1, found.unlinked)))


class _VerifyBuckets(beam.PTransform):
    """LSH buckets ((kind, ids)) → their verified edges (`edges`) and capped buckets (CAPPED).

    Only ids that share a bucket are candidates, so only their signatures become a side input.
    With MAX_SIDE set (`join: auto`), only while there are at most that many; else by shuffles.
    """

    def __init__(self, nodes: Spilled, threshold: float, cap: int, scratch: str, max_side: int | None = None):
        super().__init__()
        self.nodes, self.threshold, self.cap, self.max_side = nodes, threshold, cap, max_side
        self.scratch = scratch
        self.choice: Choice | None = None

    def expand(self, buckets) -> Edges:
        ids = buckets | "CandidateIds" >> beam.FlatMap(lambda g: g[1]) | "DistinctCandidates" >> beam.Distinct()
        if self.max_side is None:
            return self._side_input(buckets, ids, self.nodes)
        choice = self.choice = Choice("verify", ids, self.max_side)
        side = self._side_input(
            choice.keep(buckets, True, "SideBuckets"),
            choice.keep(ids, True, "SideIds"),
            Routed(self.nodes, choice, True),
        )
        shuffled = self._shuffle(choice.keep(buckets, False, "ShuffleBuckets"), Routed(self.nodes, choice, False))
        return Edges(
            (side.edges, shuffled.edges) | "VerifiedEdges" >> beam.Flatten(),
            (side.capped, shuffled.capped) | "VerifiedCapped" >> beam.Flatten(),
        )

    def _side_input(self, buckets, ids, nodes) -> Edges:
        """Signatures of the (distinct) candidates IDS as a Lookup on every worker; the shuffle carries ids only."""
        candidates = Lookup(ids | "CandidateKeys" >> beam.Map(lambda i: (i, None)), self.scratch, "candidate-ids")
        pairs = nodes.read("candidates") | "CandidateSignatures" >> beam.ParDo(
            WithLookup(lambda n, ids: [(n["id"], n["signature"])] if n["id"] in ids else []), candidates.side
        )
        signatures = Lookup(pairs, self.scratch, "candidates").side
        verified = (
            buckets
            | "MemberIds" >> beam.Map(lambda g: g[1])
            | "Pairs" >> beam.ParDo(_Verify(self.threshold, self.cap), signatures).with_outputs(CAPPED, main="edges")
        )
        return Edges(verified.edges, verified[CAPPED])

    def _shuffle(self, buckets, nodes) -> Edges:
        """Buckets meet their members' signatures by id, then gather by bucket: no side input."""
        membership = buckets | "MemberOf" >> beam.FlatMap(
            lambda g: [(m, key) for key in [_bucket_key(*g)] for m in g[1]]
        )
        signatures = nodes.read("signatures") | "SignatureById" >> beam.Map(lambda n: (n["id"], n["signature"]))
        verified = (
            {"bucket": membership, "signature": signatures}
            | "JoinSignatures" >> beam.CoGroupByKey()
            | "ToBuckets"
            >> beam.FlatMap(
                lambda kv: [(key, (kv[0], sig)) for sig in list(kv[1]["signature"])[:1] for key in kv[1]["bucket"]]
            )
            | "GatherBuckets" >> beam.GroupByKey()
            | "WithSignatures" >> beam.MapTuple(lambda key, members: list(members))
            | "VerifyGathered" >> beam.ParDo(_Verify(self.threshold, self.cap)).with_outputs(CAPPED, main="edges")
        )
        return Edges(verified.edges, verified[CAPPED])


def _bucket_key(kind: int, members: list[str]) -> bytes:
    """One LSH bucket's key: its band and a digest of its members (sorted, hence one key per bucket)."""
    digest = hashlib.blake2b("\x00".join(members).encode("utf-8"), digest_size=16).digest()
    return kind.to_bytes(2, "big") + digest


class _PackKeys(beam.DoFn):
    """Per batch of nodes, packed (kind, key, key, member) columns per (scope, partition).

    One element per partition and batch instead of one per document and key: a document has
    an exact key, a URL key and a key per LSH band, nearly all of them its own, and shuffling
    each as an element dominated the dedup graph's time and the runner's memory. Exact and URL
    keys are 128-bit (md5 of the normalised text, BLAKE2b of the URL key); band keys 64-bit,
    as candidates are verified anyway. With DIRECTORY, each packed element is written there
    and its SpillFile shuffled instead.
    """

    def __init__(self, settings: DedupSettings, bands: int | None, rows: int | None, directory: str | None = None):
        self.settings, self.bands, self.rows, self.directory = settings, bands, rows, directory

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
            packed = (
                np.array(keys, dtype=np.uint64).tobytes(),
                np.array(index, dtype=np.uint32).tobytes(),
                list(members),
            )
            yield part, packed if self.directory is None else write_batch([packed], self.directory)


def _shared_groups(kv):
    """(kind, members) for every key of a partition that two or more members share."""
    keys, members = [], []
    for packed, index, ids in expand_spilled(kv[1]):
        keys.append(np.frombuffer(packed, dtype=np.uint64).reshape(-1, 3))
        members.extend(ids[i] for i in np.frombuffer(index, dtype=np.uint32))
    if not members:
        return []
    keys = np.concatenate(keys)
    return [(int(keys[row, 0]), group) for row, group in d.shared_keys(keys, members)]
