"""Duplicate detection logic with no Beam in it: keys, template lines, components, survivors.

Exact, URL and near duplicates all become edges of one graph; its connected components are
the duplicate clusters, and one survivor per cluster is chosen by a total order, so the result
does not depend on which runner, worker or bundle saw what first.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import numpy as np
import regex

# ROOTS `dedup_document` removed whitespace, digits and ASCII punctuation before hashing; the
# Unicode punctuation and symbol classes extend that to CJK, Arabic and Indic punctuation.
_NOT_CONTENT = regex.compile(r"[\s\d\p{P}\p{S}]+")


def normalized_hash(text: str) -> str:
    """Key of exact-duplicate detection (same text up to spacing, digits and punctuation)."""
    return hashlib.md5(_NOT_CONTENT.sub("", text.lower()).encode("utf-8")).hexdigest()


def url_key(url: str | None) -> str | None:
    """ROOTS's URL dedup key (the URL up to `?`), also ignoring scheme, `www.`, case of the host,
    fragments and a trailing slash, so http/https and tracking-parameter copies collide."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").removeprefix("www.")
    if not host:
        return url.strip().split("?", 1)[0].split("#", 1)[0]
    path = parts.path.rstrip("/") or "/"
    return f"{host}{':' + str(parts.port) if parts.port else ''}{path}"


def url_digest(url: str | None) -> str | None:
    """The URL key as a 128-bit BLAKE2b hex digest: what dedup compares and what a release's
    signatures store, so a URL's path or query (an e-mail, a user name) is never written out."""
    key = url_key(url)
    return None if key is None else hashlib.blake2b(key.encode("utf-8"), digest_size=16).hexdigest()


_DIGEST = re.compile(r"[0-9a-f]{32}")


def as_url_digest(stored: str | None) -> str | None:
    """A URL column of stored signatures as a digest: releases made before digests stored the key itself."""
    if stored is None or _DIGEST.fullmatch(stored):
        return stored
    return hashlib.blake2b(stored.encode("utf-8"), digest_size=16).hexdigest()


def line_hash(line: str) -> int:
    # Signed, so Beam's integer coder carries it.
    return int.from_bytes(hashlib.blake2b(line.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def template_candidates(text: str, min_chars: int) -> list[int]:
    """Hashes of the document's stripped lines long enough to be template lines (ROOTS: ≥ 15)."""
    return [line_hash(s) for s in (line.strip() for line in text.split("\n")) if len(s) >= min_chars]


def frequent_hashes(arrays: Iterable[np.ndarray], min_count: int) -> np.ndarray:
    """The values occurring at least MIN_COUNT times over all ARRAYS (int64 line hashes).

    Counting packed arrays with one sort instead of one shuffled element per line: a corpus
    has ~20 candidate lines per document, nearly all unique, and a runner holding them as
    keyed elements needs ~250 bytes each where an array needs 8.
    """
    parts = [a for a in arrays if len(a)]
    if not parts:
        return np.empty(0, dtype=np.int64)
    values, counts = np.unique(np.concatenate(parts), return_counts=True)
    return values[counts >= min_count]


def shared_keys(keys: np.ndarray, members: list[str]) -> list[tuple[int, list[str]]]:
    """Groups of two or more members with the same key, from packed columns.

    `keys` is an (n, w) integer array, row i the key of `members[i]`. Returns, per group in
    key order, the row of its first member and its members sorted.
    """
    if len(keys) < 2:
        return []
    order = np.lexsort(keys.T[::-1])
    ordered = keys[order]
    change = np.any(ordered[1:] != ordered[:-1], axis=1)
    starts = np.flatnonzero(np.r_[True, change, True])
    return [
        (int(order[lo]), sorted(members[i] for i in order[lo:hi]))
        for lo, hi in zip(starts[:-1], starts[1:], strict=True)
        if hi - lo > 1
    ]


def remove_lines(text: str, templates: set[int] | frozenset[int], min_chars: int) -> str:
    """The document without its template lines (other lines kept as they were)."""
    kept, removed = [], False
    for line in text.split("\n"):
        stripped = line.strip()
        if len(stripped) >= min_chars and line_hash(stripped) in templates:
            removed = True
            continue
        kept.append(line)
    return "\n".join(kept).strip() if removed else text


def star_edges(members: Iterable[str]) -> list[tuple[str, str]]:
    """Edges joining every member to the smallest: a group of k gives k-1 edges, not k²."""
    ordered = sorted(set(members))
    return [(m, ordered[0]) for m in ordered[1:]]


# LSH buckets with more distinct signatures than this are not compared all pairs (see bucket_edges).
BUCKET_CAP = 1000
_BLOCK = 1 << 22  # signature pairs compared at once (4M × 2 bytes of counts)
DEGREE_SAMPLE = 128  # members of a capped bucket each member is compared with to order them


class BucketEdges(NamedTuple):
    """What verifying one LSH bucket gives: edges, and if it was capped, by whom it is counted."""

    edges: list[tuple[str, str]]
    # The bucket's first representative if it held more than `cap` distinct signatures, else None.
    capped: str | None = None
    # Members of a capped bucket that matched no representative (not linked through this bucket).
    unlinked: int = 0


def min_agreement(threshold: float, num_perm: int) -> int:
    """The fewest equal slots for estimated_jaccard ≥ THRESHOLD (the same float comparison)."""
    return next(k for k in range(num_perm + 1) if k / num_perm >= threshold)


def _agreement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal slots of every signature of A with every one of B: (len(a), len(b)) uint16.

    Slot by slot over the transposed signatures, in row blocks: one vector comparison per slot
    and block, without the (a, b, slots) temporary a broadcast comparison would build.
    """
    out = np.zeros((len(a), len(b)), dtype=np.uint16)
    step = max(1, _BLOCK // max(len(b), 1))
    columns_b = np.ascontiguousarray(b.T)
    for lo in range(0, len(a), step):
        columns_a = np.ascontiguousarray(a[lo : lo + step].T)
        block = out[lo : lo + step]
        for slot_a, slot_b in zip(columns_a, columns_b, strict=True):
            block += slot_a[:, None] == slot_b[None, :]
    return out


def _components(adjacent: np.ndarray) -> np.ndarray:
    """Connected components of a dense symmetric boolean matrix: each node's smallest node.

    Breadth-first, one vector step per layer: O(n²) for the whole matrix.
    """
    label = np.full(len(adjacent), -1, dtype=np.int64)
    for node in range(len(adjacent)):
        if label[node] >= 0:
            continue
        label[node] = node
        frontier = np.array([node])
        while len(frontier):
            frontier = np.flatnonzero(adjacent[frontier].any(axis=0) & (label < 0))
            label[frontier] = node
    return label


def bucket_edges(members: Iterable[tuple[str, Any]], threshold: float, cap: int = BUCKET_CAP) -> BucketEdges:
    """Edges of an LSH bucket: its members (id, signature) whose signatures confirm THRESHOLD.

    Every confirmed pair counts, not only pairs with one anchor: a template page and hundreds of
    variants that each resemble it but not each other (a star), or a chain A~B~C with A≁C, end
    in one cluster whatever the ids. Only the connectivity is emitted (a star from the smallest
    id of each connected set), so a bucket of k near-copies gives k-1 edges, not k²/2.

    Members with identical signatures are one node. Up to CAP distinct signatures, all pairs
    are compared (vectorised, one block of comparisons per slot). Beyond, cost is
    bounded by comparing each member with at most CAP representatives (O(k·CAP)): members are
    ordered by how many of DEGREE_SAMPLE sampled members they resemble (a star's centre first), the
    representatives are picked greedily in that order (a member resembling no representative
    so far becomes one), and every member is linked to every representative it resembles.
    Pairs of two non-representatives are not compared then; members left without a
    representative once CAP are taken are counted as `unlinked`.
    """
    by_id = dict(members)
    ids = sorted(by_id)
    if len(ids) < 2:
        return BucketEdges([])
    sigs = np.stack([_as_slots(by_id[i]) for i in ids])
    need = min_agreement(threshold, sigs.shape[1])
    _, first, inverse = np.unique(sigs, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    # Identical signatures (estimated Jaccard 1): each member linked to the first with its signature.
    edges = [(ids[i], ids[first[inverse[i]]]) for i in range(len(ids)) if first[inverse[i]] != i]
    nodes = np.sort(first)  # members standing for each distinct signature, in id order
    distinct = sigs[nodes]
    if len(nodes) <= cap:
        label = _components(_agreement(distinct, distinct) >= need)
        edges += [(ids[nodes[j]], ids[nodes[root]]) for j, root in enumerate(label) if root != j]
        return BucketEdges(edges)
    reps = _representatives(distinct, need, cap)
    matches = _agreement(distinct, distinct[reps]) >= need
    matched = matches.any(axis=1)
    first_rep = matches.argmax(axis=1)
    # Representatives resembling a common member belong together.
    rows, cols = np.nonzero(matches)
    together = np.zeros((len(reps), len(reps)), dtype=bool)
    together[first_rep[rows], cols] = True
    together |= together.T
    label = _components(together)
    for j in np.flatnonzero(matched):
        root = nodes[reps[label[first_rep[j]]]]
        if nodes[j] != root:
            edges.append((ids[nodes[j]], ids[root]))
    return BucketEdges(edges, capped=ids[nodes[reps[0]]], unlinked=int(np.count_nonzero(~matched)))


def _representatives(sigs: np.ndarray, need: int, cap: int) -> np.ndarray:
    """Indices of at most CAP pairwise-unlike members of SIGS, most connected first (see bucket_edges)."""
    sample = np.unique(np.linspace(0, len(sigs) - 1, min(len(sigs), DEGREE_SAMPLE)).astype(np.int64))
    degree = np.count_nonzero(_agreement(sigs, sigs[sample]) >= need, axis=1)
    order = np.lexsort((np.arange(len(sigs)), -degree))
    reps: list[int] = []
    block = 256
    for lo in range(0, len(order), block):
        batch = order[lo : lo + block]
        if reps:
            batch = batch[~(_agreement(sigs[batch], sigs[reps]) >= need).any(axis=1)]
        inner = _agreement(sigs[batch], sigs[batch]) >= need
        chosen: list[int] = []
        for i in range(len(batch)):
            if not inner[i, chosen].any():
                chosen.append(i)
        reps.extend(int(batch[i]) for i in chosen)
        if len(reps) >= cap:
            break
    return np.array(reps[:cap], dtype=np.int64)


def _as_slots(signature: Any) -> np.ndarray:
    """A signature (raw little-endian uint32 bytes, or an array) as a uint32 array."""
    if isinstance(signature, bytes | bytearray | memoryview):
        return np.frombuffer(signature, dtype="<u4")
    return np.asarray(signature, dtype=np.uint32)


def verified_bucket_edges(members: list[tuple[str, Any]], threshold: float, cap: int = BUCKET_CAP):
    """The edges of bucket_edges alone."""
    return bucket_edges(members, threshold, cap).edges


# --- connected components: alternating large-star / small-star (Kiveris et al., SoCC 2014) ---
# Node labels are document ids (strings, compared lexicographically). Each round is a pure
# function of one node and its neighbour list, so Beam runs it after a GroupByKey and no worker
# ever holds more than one node's neighbourhood.


def large_star(node: str, neighbours: Iterable[str]) -> list[tuple[str, str]]:
    """Connect every larger neighbour to the smallest node of the closed neighbourhood."""
    neighbours = set(neighbours)
    smallest = min(neighbours | {node})
    return [(v, smallest) for v in neighbours if v > node]


def small_star(node: str, smaller: Iterable[str]) -> list[tuple[str, str]]:
    """Connect the node and its smaller neighbours to the smallest of them."""
    smaller = set(smaller)
    smallest = min(smaller | {node})
    return [(v, smallest) for v in smaller | {node} if v != smallest]


def union_find(edges: Iterable[tuple[str, str]]) -> dict[str, str]:
    """node → smallest node of its component, on one machine (the bounded fallback)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            if ra < rb:
                parent[rb] = ra
            else:
                parent[ra] = rb
    return {node: find(node) for node in list(parent)}


def survivor_key(member: dict[str, Any]) -> tuple:
    """Total order of who survives in a cluster (smallest key wins): documents of an earlier
    release first, then higher catalogue priority, then more text (bytes), then smaller id."""
    return (not member.get("released", False), -member.get("priority", 0), -member.get("bytes", 0), member["id"])


# Size classes of the cluster-size distribution (manifest notes, card), smallest size of each.
CLUSTER_SIZE_CLASSES = (("2", 2), ("3-9", 3), ("10-99", 10), ("100+", 100))


def cluster_size_class(size: int) -> str:
    """The class of a cluster of SIZE ≥ 2 documents: "2", "3-9", "10-99" or "100+"."""
    return next(name for name, low in reversed(CLUSTER_SIZE_CLASSES) if size >= low)


def drop_reason(member: dict[str, Any], survivor: dict[str, Any]) -> str:
    """Why a non-survivor goes: the strongest relation it has with the survivor."""
    if member.get("exact") and member.get("exact") == survivor.get("exact"):
        return "exact"
    if member.get("url") and member.get("url") == survivor.get("url"):
        return "url"
    return "near"
