"""Duplicate detection logic with no Beam in it: keys, template lines, components, survivors.

Exact, URL and near duplicates all become edges of one graph; its connected components are
the duplicate clusters, and one survivor per cluster is chosen by a total order, so the result
does not depend on which runner, worker or bundle saw what first.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any
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


def verified_bucket_edges(members: list[tuple[str, Any]], similar) -> list[tuple[str, str]]:
    """Edges of an LSH bucket whose signatures `similar(a, b)` confirms.

    Each member is compared with an anchor (smallest id first); members unlike the anchor form
    the next round with their own anchor. A bucket of k copies costs k-1 comparisons; a bucket
    holding c different clusters about k·c.
    """
    pending = sorted(members, key=lambda m: m[0])
    edges = []
    while len(pending) > 1:
        anchor, rest = pending[0], pending[1:]
        unlike = []
        for member in rest:
            if similar(anchor[1], member[1]):
                edges.append((member[0], anchor[0]))
            else:
                unlike.append(member)
        pending = unlike
    return edges


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


def drop_reason(member: dict[str, Any], survivor: dict[str, Any]) -> str:
    """Why a non-survivor goes: the strongest relation it has with the survivor."""
    if member.get("exact") and member.get("exact") == survivor.get("exact"):
        return "exact"
    if member.get("url") and member.get("url") == survivor.get("url"):
        return "url"
    return "near"
