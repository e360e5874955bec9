"""Substring dedup: exact repeated spans of at least N bytes removed from every document but the first.

ROOTS removed repeated substrings from OSCAR with suffix arrays after document dedup (Laurençon
et al. 2022, arXiv:2303.03915, §3.3; bigscience-workshop/data-preparation
`preprocessing/training/01b_oscar_cleaning_and_filtering/deduplicate/`), the ExactSubstr method
of Lee et al. 2021 (arXiv:2107.06499), which ignores spans under 50 bytes. A suffix array needs
the whole scope on one machine; this finds the same spans with two hash-partitioned shuffles.

What is removed: a byte of document d goes iff it lies in some N-byte window of d whose bytes
also occur in a document before d in the scope's total order (the survivors' order:
filters.dedup.survivor_key). Windows overlapping or touching merge into maximal spans, so a
repeated span of any length ≥ N goes as one piece, and the first document holding it keeps it.
Repeats inside one document stay. Span ends are moved inward to UTF-8 character boundaries.

How (the guarantee): every position p of a document gets the hash of its w-byte window
(w ≤ N), and p is an *anchor* iff its hash is the minimum of some run of W = N - w + 1
consecutive window hashes inside the document (winnowing, Schleimer et al. 2003, all tied
minima selected). An N-byte span holds exactly W windows; the minimum among them depends on
the span's bytes only, so every copy of the span selects the same anchor at the same relative
offset. Grouping anchors by hash therefore brings every two copies of every repeated N-byte
window together, and each anchor's context, the 2N - w bytes around it, contains the whole
window. Within a group the windows are compared byte for byte (no hash decides a removal):
a window is marked in a document if an earlier document has the same bytes.

Map (`anchors`, `distinct_hashes`): per document, its distinct anchor hashes, ~2/(W+1) of its bytes.
Shuffle 1 (`shared_hashes`): the hashes seen in two or more documents. Map 2 (`contexts`): the
contexts of the shared anchors only. Shuffle 2 (`marked_windows`): the windows to remove per
document. Apply (`remove_spans`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

from rootstock.filters.dedup import frequent_hashes
from rootstock.filters.minhash import fmix64

MIN_BYTES = 50  # Lee et al. 2021's (and ROOTS's) smallest span
ANCHOR_BYTES = 25  # w ≤ N: smaller gives fewer anchors (~2/(N-w+2) of bytes) but more chance matches
# One odd 64-bit multiplier per 8-byte word of a window (any fixed values would do; never change).
_WORD_KEYS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
     0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x87C37B91114253D5, 0x4CF5AD432745937F],
    dtype=np.uint64,
)  # fmt: skip
# Windows compared at once in one verification chunk (bytes of the (contexts × W × N) copy).
CHUNK_BYTES = 64 << 20


class Anchors(NamedTuple):
    """Anchors of a batch of documents: document index, byte offset and hash of each."""

    doc: np.ndarray  # int64
    offset: np.ndarray  # int64, in the document's UTF-8 bytes
    hash: np.ndarray  # uint64


def check_sizes(min_bytes: int, anchor_bytes: int) -> None:
    if not 1 <= anchor_bytes <= min_bytes:
        raise ValueError(f"need 1 <= anchor_bytes <= min_bytes, got {anchor_bytes} and {min_bytes}")


def _sliding(values: np.ndarray, width: int, fn) -> np.ndarray:
    """fn (np.minimum or np.maximum) of every run values[i:i+width], i = 0 .. len - width.

    By doubling: after k steps element i covers 2^k values, and two overlapping such runs
    cover `width`; log2(width) + 1 contiguous vector passes, where a minimum over a sliding
    window view reads each value `width` times.
    """
    n = len(values)
    if n < width:
        return values[:0]
    span, cover = 1, values
    while 2 * span <= width:
        cover = fn(cover[:-span], cover[span:])
        span *= 2
    return fn(cover[: n - width + 1], cover[width - span : n - span + 1])


def window_hashes(data: np.ndarray, width: int) -> np.ndarray:
    """A 64-bit hash of each `width`-byte window of DATA (uint8), windows starting at 0 .. len - width.

    Each window is read as ⌈width/8⌉ overlapping little-endian 64-bit words (the last one
    masked), combined with fixed odd multipliers and mixed by murmur3's finaliser: a few
    vector passes, where a polynomial rolling hash needs a table lookup per position. Equal
    bytes give equal hashes; unequal bytes that collide only cost a comparison later.
    """
    count = len(data) - width + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    words = -(-width // 8)
    if words > len(_WORD_KEYS):
        raise ValueError(f"windows of at most {8 * len(_WORD_KEYS)} bytes, got {width}")
    raw = np.zeros(len(data) + 8, dtype=np.uint8)
    raw[: len(data)] = data
    # Unaligned 8-byte loads at every byte offset (numpy allows a stride of 1 byte).
    loads = np.ndarray(shape=(len(data) + 1,), dtype="<u8", buffer=raw, strides=(1,))
    h = np.zeros(count, dtype=np.uint64)
    for k in range(words):
        word = loads[8 * k : 8 * k + count]
        tail = width - 8 * k
        if tail < 8:
            word = word & np.uint64((1 << (8 * tail)) - 1)
        h += word * _WORD_KEYS[k]
    return fmix64(h)


def _concat(texts: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """The texts as one uint8 array, and the int64 start of each (plus the total at the end)."""
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in texts], out=starts[1:])
    return np.frombuffer(b"".join(texts), dtype=np.uint8), starts


def anchors(texts: Sequence[bytes], min_bytes: int = MIN_BYTES, anchor_bytes: int = ANCHOR_BYTES) -> Anchors:
    """The anchors of every document of a batch (UTF-8 bytes), ordered by document and offset.

    Documents shorter than `min_bytes` have none: they cannot hold a span to remove.
    """
    check_sizes(min_bytes, anchor_bytes)
    n, w = min_bytes, anchor_bytes
    run = n - w + 1
    data, starts = _concat(texts)
    total = len(data)
    empty = Anchors(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.uint64))
    if total < n:
        return empty
    positions = np.arange(total - w + 1, dtype=np.int64)
    hashes = window_hashes(data, w)
    lengths = np.diff(starts)
    owner = np.repeat(np.arange(len(texts)), lengths)
    end_of = starts[1:][owner]  # the end of the document each byte belongs to
    # A run of W windows starting at i lies inside its document iff i + N <= the document's end;
    # runs across documents count as the smallest value, so they never raise the maximum below.
    minima = _sliding(hashes, run, np.minimum)
    minima[np.arange(total - n + 1) + n > end_of[: total - n + 1]] = 0
    # p is an anchor iff h[p] is the minimum of some run containing it: h[p] <= the largest
    # minimum among the runs i in [p - W + 1, p].
    padded = np.concatenate([np.zeros(run - 1, np.uint64), minima, np.zeros(run - 1, np.uint64)])
    largest = _sliding(padded, run, np.maximum)
    inside = positions + w <= end_of[: total - w + 1]
    inside &= lengths[owner[: total - w + 1]] >= n
    selected = np.flatnonzero(inside & (hashes <= largest))
    if not len(selected):
        return empty
    doc = owner[selected].astype(np.int64)
    return Anchors(doc, selected - starts[doc], hashes[selected])


def distinct_hashes(found: Anchors) -> tuple[np.ndarray, np.ndarray]:
    """(document index, hash) of each distinct anchor hash of each document: what the first
    shuffle counts, so that a hash repeated inside one document is not taken for a shared one."""
    order = np.lexsort((found.hash, found.doc))
    doc, h = found.doc[order], found.hash[order]
    first = np.r_[True, (doc[1:] != doc[:-1]) | (h[1:] != h[:-1])] if len(doc) else np.zeros(0, bool)
    return doc[first], h[first]


def shared_hashes(arrays: Iterable[np.ndarray]) -> np.ndarray:
    """Sorted uint64 anchor hashes found in two or more documents (ARRAYS: the distinct hashes
    of any number of documents, each document's counted once, as from distinct_hashes)."""
    found = frequent_hashes((a.view(np.int64) for a in arrays), 2)
    return np.sort(found.view(np.uint64))


def is_shared(hashes: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """Which of HASHES are in SHARED (sorted)."""
    if not len(shared):
        return np.zeros(len(hashes), dtype=bool)
    at = np.minimum(np.searchsorted(shared, hashes), len(shared) - 1)
    return shared[at] == hashes


class Contexts(NamedTuple):
    """The bytes around anchors: row i is document bytes [offset - (N - w), offset + N), zero
    where that falls outside the document; `pad_left`/`pad_right` say how much did."""

    bytes: np.ndarray  # uint8 (k, 2N - w)
    pad_left: np.ndarray  # uint16
    pad_right: np.ndarray  # uint16


def contexts(
    texts: Sequence[bytes], doc: np.ndarray, offset: np.ndarray, min_bytes: int, anchor_bytes: int
) -> Contexts:
    n, w = min_bytes, anchor_bytes
    data, starts = _concat(texts)
    begin = starts[doc] + offset - (n - w)
    index = begin[:, None] + np.arange(2 * n - w)
    outside = (index < starts[doc][:, None]) | (index >= starts[doc + 1][:, None])
    rows = data[np.clip(index, 0, max(len(data) - 1, 0))] if len(data) else np.zeros(index.shape, np.uint8)
    rows[outside] = 0
    left = np.maximum(starts[doc] - begin, 0)
    right = np.maximum(begin + 2 * n - w - starts[doc + 1], 0)
    return Contexts(rows.astype(np.uint8), left.astype(np.uint16), right.astype(np.uint16))


def _rows_as_keys(rows: np.ndarray) -> np.ndarray:
    """Each row of a 2-D uint8 array as one opaque value, so np.unique compares whole rows."""
    rows = np.ascontiguousarray(rows)
    return rows.view(np.dtype((np.void, rows.shape[1]))).ravel()


def marked_windows(
    hashes: np.ndarray, ranks: np.ndarray, ctx: Contexts, min_bytes: int, anchor_bytes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Which N-byte windows around the anchors an earlier document also has.

    HASHES, RANKS (the document's place in the total order, equal for anchors of one document)
    and CTX describe the anchors of one partition. Returns (anchor index, window start relative
    to the anchor's offset) for every window to remove. Anchors are grouped by hash and the
    groups verified in chunks; only groups spanning two or more documents are looked at.
    """
    n, w = min_bytes, anchor_bytes
    run, width = n - w + 1, 2 * n - w
    if not len(hashes):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    order = np.lexsort((ranks, hashes))
    h, r = hashes[order], ranks[order]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    ends = np.r_[starts[1:], len(h)]
    several = r[ends - 1] != r[starts]  # sorted by rank inside a group: first != last
    per_chunk = max(1, CHUNK_BYTES // (run * n))
    anchor_out, start_out = [], []
    group, groups = 0, np.flatnonzero(several)
    while group < len(groups):
        first = starts[groups[group]]
        stop = group + 1
        while stop < len(groups) and ends[groups[stop]] - first <= per_chunk:
            stop += 1
        rows = np.concatenate([order[starts[g] : ends[g]] for g in groups[group:stop]])
        group = stop
        anchor, window = _verify(rows, ranks, ctx, n, w, run, width)
        anchor_out.append(anchor)
        start_out.append(window)
    if not anchor_out:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(anchor_out), np.concatenate(start_out) - (n - w)


def _verify(rows, ranks, ctx: Contexts, n: int, w: int, run: int, width: int):
    """The windows of anchors ROWS that an earlier document has, compared byte for byte."""
    # Identical contexts (a boilerplate sentence in many documents) are compared once.
    pads = np.stack([ctx.pad_left[rows], ctx.pad_right[rows]], axis=1).astype("<u2").view(np.uint8)
    keys = _rows_as_keys(np.concatenate([ctx.bytes[rows], pads], axis=1))
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    unique_rows = rows[first]
    earliest = np.full(len(first), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(earliest, inverse, ranks[rows])
    # Every window of every distinct context, and whether it lies inside its document.
    offsets = np.arange(run)
    valid = (offsets >= ctx.pad_left[unique_rows][:, None]) & (
        offsets + n <= width - ctx.pad_right[unique_rows][:, None]
    )
    windows = np.lib.stride_tricks.sliding_window_view(ctx.bytes[unique_rows], n, axis=1)[:, :run]
    _, window_id = np.unique(_rows_as_keys(windows[valid]), return_inverse=True)
    window_earliest = np.full(int(window_id.max()) + 1 if len(window_id) else 0, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(window_earliest, window_id, np.repeat(earliest, valid.sum(axis=1)))
    table = np.full(valid.shape, np.iinfo(np.int64).max, dtype=np.int64)
    table[valid] = window_earliest[window_id]
    anchor, window = np.nonzero(table[inverse] < ranks[rows][:, None])
    return rows[anchor], window


def merge(intervals: np.ndarray) -> np.ndarray:
    """(k, 2) [start, end) intervals → the sorted union, touching intervals joined."""
    if not len(intervals):
        return intervals.reshape(0, 2)
    intervals = intervals[np.argsort(intervals[:, 0], kind="stable")]
    reach = np.maximum.accumulate(intervals[:, 1])
    new = np.r_[True, intervals[1:, 0] > reach[:-1]]
    starts = intervals[new, 0]
    ends = reach[np.r_[np.flatnonzero(new)[1:] - 1, len(intervals) - 1]]
    return np.stack([starts, ends], axis=1)


def window_spans(starts: np.ndarray, min_bytes: int) -> np.ndarray:
    """Window starts → merged (k, 2) int64 byte intervals."""
    starts = np.asarray(starts, dtype=np.int64)
    return merge(np.stack([starts, starts + min_bytes], axis=1))


class Removed(NamedTuple):
    text: str
    spans: int
    bytes: int


def remove_spans(text: str, intervals: np.ndarray) -> Removed:
    """TEXT without the byte INTERVALS (any order, overlapping or not); each merged span's ends
    move inward to character boundaries, so what is left is valid UTF-8 and nothing but
    repeated bytes goes."""
    if not len(intervals):
        return Removed(text, 0, 0)
    data = text.encode("utf-8")
    pieces, at, spans, removed = [], 0, 0, 0
    for start, end in merge(np.asarray(intervals, dtype=np.int64).reshape(-1, 2)).tolist():
        end = min(end, len(data))
        while start < end and data[start] & 0xC0 == 0x80:
            start += 1
        while end > start and end < len(data) and data[end] & 0xC0 == 0x80:
            end -= 1
        if end <= start:
            continue
        pieces.append(data[at:start])
        at = end
        spans += 1
        removed += end - start
    if not spans:
        return Removed(text, 0, 0)
    pieces.append(data[at:])
    return Removed(b"".join(pieces).decode("utf-8"), spans, removed)


def repeated_spans(
    texts: Sequence[str], ranks: Sequence[int], min_bytes: int = MIN_BYTES, anchor_bytes: int = ANCHOR_BYTES
) -> list[np.ndarray]:
    """The spans to remove from each of TEXTS (one scope, RANKS their total order), in one process.

    The same steps as the dedup stage's `substring` step, without the shuffles: for tests,
    benchmarks and small corpora.
    """
    check_sizes(min_bytes, anchor_bytes)
    data = [t.encode("utf-8") for t in texts]
    found = anchors(data, min_bytes, anchor_bytes)
    shared = shared_hashes([distinct_hashes(found)[1]])
    keep = is_shared(found.hash, shared)
    doc, offset = found.doc[keep], found.offset[keep]
    ctx = contexts(data, doc, offset, min_bytes, anchor_bytes)
    rank = np.asarray(ranks, dtype=np.int64)[doc]
    anchor, window = marked_windows(found.hash[keep], rank, ctx, min_bytes, anchor_bytes)
    out = [np.empty((0, 2), np.int64) for _ in texts]
    owner = doc[anchor]
    starts = offset[anchor] + window
    for i in np.unique(owner):
        out[i] = window_spans(starts[owner == i], min_bytes)
    return out
