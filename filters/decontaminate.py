"""Benchmark decontamination: documents that share an n-gram of words with an evaluation example.

GPT-3's rule (Brown et al. 2020, arXiv:2005.14165, appendix C): training text sharing a 13-gram
with any example of a benchmark counts as contaminated; words are compared lowercased with
punctuation stripped. GPT-3 removed the overlapping text plus 200 characters either side and
dropped documents cut into more than 10 pieces (`contaminated_spans`, `margin`, `max_spans`);
Dolma and most later corpora drop the whole document.

Words come from the project's own splitting (filters.words.split_words, per language: jieba for
Chinese, pythainlp for Thai...), each then normalised: NFKC, lowercased, punctuation and symbols
removed, a token left empty gone. An evaluation text is split the way the document's language
is split, so both sides see the same words (the stage splits each example once per language of
the corpus).

Each n-gram is a 128-bit fingerprint of its words and the language: a 64-bit `key` (what the
stage shuffles by) and an independent 64-bit `check`; a match needs both. Two different n-grams
agree on both with probability 2^-128 per pair, so a corpus of 10^12 n-grams against 10^8
evaluation n-grams expects ~10^-19 false matches: no byte comparison is needed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np
import regex
import xxhash

from rootstock.filters.minhash import fmix64
from rootstock.filters.words import split_words

NGRAM = 13  # GPT-3's n (Brown et al. 2020, appendix C)
MAX_NGRAM = 64
MAX_SETS = 64  # a set is a bit of a uint64 mask
_PUNCT = regex.compile(r"[\p{P}\p{S}]+")
_WORD_CACHE_LIMIT = 1 << 20


def _odd_keys(seed: int, count: int) -> np.ndarray:
    """COUNT fixed odd 64-bit multipliers (splitmix64 from SEED): the weights of a word's place."""
    out, state = [], seed
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        out.append((z ^ (z >> 31)) | 1)
    return np.array(out, dtype=np.uint64)


# Never change these: fingerprints of one run must equal those of the next.
_KEY_WEIGHTS = _odd_keys(0x5EED0001, MAX_NGRAM)
_CHECK_WEIGHTS = _odd_keys(0x5EED0002, MAX_NGRAM)
_MASK64 = (1 << 64) - 1


class Words(NamedTuple):
    """A text's normalised words and where each came from (character offsets in the text)."""

    words: list[str]
    starts: np.ndarray  # int64
    ends: np.ndarray  # int64


class Fingerprints(NamedTuple):
    """One row per n-gram (word i .. i + n - 1): two independent 64-bit hashes."""

    key: np.ndarray  # uint64, what the stage partitions and joins by
    check: np.ndarray  # uint64


def normalise(token: str) -> str:
    """A word as compared: NFKC, lowercase, no punctuation or symbols ("Don't," → "dont")."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", token).lower())


def words(text: str, lang: str) -> Words:
    """The normalised words of TEXT in registry language LANG, with their character spans.

    Tokens are located in TEXT in order; one a backend rewrote (not found verbatim) gets an
    empty span where the search stood, so it still counts as a word of its n-grams.
    """
    out, starts, ends = [], [], []
    at = 0
    for token in split_words(text, lang):
        found = text.find(token, at)
        start, end = (found, found + len(token)) if found >= 0 else (at, at)
        at = end
        word = normalise(token)
        if word:
            out.append(word)
            starts.append(start)
            ends.append(end)
    return Words(out, np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64))


class _WordHashes:
    """128-bit xxh3 of each distinct word, cached per process (word frequencies are Zipfian)."""

    def __init__(self):
        self.cache: dict[str, int] = {}

    def __call__(self, items: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        cache = self.cache
        if len(cache) > _WORD_CACHE_LIMIT:
            cache.clear()
        values = []
        for word in items:
            h = cache.get(word)
            if h is None:
                h = cache[word] = xxhash.xxh3_128_intdigest(word)
            values.append(h)
        lo = np.fromiter((v & _MASK64 for v in values), dtype=np.uint64, count=len(values))
        hi = np.fromiter((v >> 64 for v in values), dtype=np.uint64, count=len(values))
        return lo, hi


word_hashes = _WordHashes()


def _language_salt(lang: str) -> tuple[np.uint64, np.uint64]:
    h = xxhash.xxh3_128_intdigest("lang:" + lang)
    return np.uint64(h & _MASK64), np.uint64(h >> 64)


def fingerprints(items: Sequence[str], n: int, lang: str) -> Fingerprints:
    """The fingerprints of every n-gram of ITEMS (normalised words) in language LANG.

    Σ_k hash(word[i + k]) · weight[k] + salt(lang), mixed by murmur3's finaliser: n vector
    passes over the text's word hashes, once with the low and once with the high 64 bits.
    """
    if not 1 <= n <= MAX_NGRAM:
        raise ValueError(f"n-grams of 1 to {MAX_NGRAM} words, got {n}")
    count = len(items) - n + 1
    if count <= 0:
        empty = np.empty(0, dtype=np.uint64)
        return Fingerprints(empty, empty.copy())
    lo, hi = word_hashes(items)
    salt_lo, salt_hi = _language_salt(lang)
    key = np.full(count, salt_lo, dtype=np.uint64)
    check = np.full(count, salt_hi, dtype=np.uint64)
    for k in range(n):
        key += lo[k : k + count] * _KEY_WEIGHTS[k]
        check += hi[k : k + count] * _CHECK_WEIGHTS[k]
    return Fingerprints(fmix64(key), fmix64(check))


def distinct(found: Fingerprints) -> Fingerprints:
    """Each (key, check) pair once, sorted by key then check."""
    if not len(found.key):
        return found
    order = np.lexsort((found.check, found.key))
    key, check = found.key[order], found.check[order]
    first = np.r_[True, (key[1:] != key[:-1]) | (check[1:] != check[:-1])]
    return Fingerprints(key[first], check[first])


class NgramTable:
    """Evaluation n-grams: sorted (key, check) pairs, each with the bitmask of the sets holding it."""

    def __init__(self, key: np.ndarray, check: np.ndarray, mask: np.ndarray):
        order = np.lexsort((check, key))
        key, check, mask = key[order], check[order], mask[order]
        if len(key):
            first = np.r_[True, (key[1:] != key[:-1]) | (check[1:] != check[:-1])]
            groups = np.cumsum(first) - 1
            merged = np.zeros(int(groups[-1]) + 1, dtype=np.uint64)
            np.bitwise_or.at(merged, groups, mask)
            key, check, mask = key[first], check[first], merged
        self.key, self.check, self.mask = key, check, mask

    @classmethod
    def concat(cls, parts: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> NgramTable:
        parts = list(parts)
        if not parts:
            empty = np.empty(0, dtype=np.uint64)
            return cls(empty, empty.copy(), empty.copy())
        return cls(*(np.concatenate([p[i] for p in parts]) for i in range(3)))

    def __len__(self) -> int:
        return len(self.key)

    def lookup(self, key: np.ndarray, check: np.ndarray) -> np.ndarray:
        """The set mask of each (key, check) pair: 0 where no evaluation n-gram has it."""
        out = np.zeros(len(key), dtype=np.uint64)
        if not len(self.key) or not len(key):
            return out
        pos = np.searchsorted(self.key, key, "left")
        end = np.searchsorted(self.key, key, "right")
        active = pos < end
        while active.any():  # pairs sharing a key are rare: a step or two
            idx = np.flatnonzero(active)
            at = pos[idx]
            same = self.check[at] == check[idx]
            out[idx[same]] = self.mask[at[same]]
            pos[idx] += 1
            active = (pos < end) & (out == 0)
        return out


def example_table(examples: Iterable[tuple[int, str]], languages: Sequence[str], n: int) -> NgramTable:
    """The table of (set index, text) examples split in each of LANGUAGES, in one process."""
    keys, checks, masks = [], [], []
    for index, text in examples:
        for lang in languages:
            found = fingerprints(words(text, lang).words, n, lang)
            keys.append(found.key)
            checks.append(found.check)
            masks.append(np.full(len(found.key), np.uint64(1) << np.uint64(index), dtype=np.uint64))
    return NgramTable.concat([(k, c, m) for k, c, m in zip(keys, checks, masks, strict=True)])


def set_indices(mask: int) -> list[int]:
    """The set indices of a bitmask, in order."""
    return [i for i in range(MAX_SETS) if mask >> i & 1]


class Match(NamedTuple):
    """What a document shares with the evaluation sets."""

    mask: int  # the sets it overlaps
    spans: np.ndarray  # (k, 2) merged character spans to remove (margin included)
    ngrams: int  # how many of its n-grams matched


def match(text: str, lang: str, table: NgramTable, n: int, margin: int = 0) -> Match:
    """The evaluation n-grams TEXT holds: which sets, and the character spans they cover.

    A matched n-gram covers its first word's start to its last word's end (what lies between,
    punctuation included), widened by MARGIN characters each side; overlapping or touching
    spans merge.
    """
    found = words(text, lang)
    prints = fingerprints(found.words, n, lang)
    masks = table.lookup(prints.key, prints.check)
    hit = np.flatnonzero(masks)
    if not len(hit):
        return Match(0, np.empty((0, 2), np.int64), 0)
    mask = int(np.bitwise_or.reduce(masks[hit]))
    starts = np.maximum(found.starts[hit] - margin, 0)
    ends = np.minimum(found.ends[hit + n - 1] + margin, len(text))
    return Match(mask, merge(np.stack([starts, ends], axis=1)), len(hit))


def merge(spans: np.ndarray) -> np.ndarray:
    """(k, 2) [start, end) spans → their sorted union, touching spans joined."""
    if not len(spans):
        return spans.reshape(0, 2)
    spans = spans[np.argsort(spans[:, 0], kind="stable")]
    reach = np.maximum.accumulate(spans[:, 1])
    new = np.r_[True, spans[1:, 0] > reach[:-1]]
    ends = reach[np.r_[np.flatnonzero(new)[1:] - 1, len(spans) - 1]]
    return np.stack([spans[new, 0], ends], axis=1)


def remove_spans(text: str, spans: np.ndarray) -> str:
    """TEXT without the character SPANS (merged, sorted: as `match` gives them)."""
    pieces, at = [], 0
    for start, end in spans.tolist():
        pieces.append(text[at:start])
        at = end
    pieces.append(text[at:])
    return "".join(pieces)


class FieldError(ValueError):
    """An evaluation record lacks a declared text field, or holds something that is not text."""


def field_texts(record: dict[str, Any], field: str) -> list[str]:
    """The texts of FIELD in RECORD: a string, or every string in a (nested) list of them.

    A dotted FIELD walks into mappings and maps over lists (`answers.text` of SQuAD); None and
    empty strings give nothing.
    """
    values: list[Any] = [record]
    for part in field.split("."):
        step = []
        for value in values:
            for item in _flatten(value):
                if item is None:
                    continue
                if not isinstance(item, dict):
                    raise FieldError(f"{part!r} of {field!r}: a {type(item).__name__} has no fields")
                if part not in item:
                    raise FieldError(f"no field {field!r} (fields: {', '.join(sorted(map(str, item)))})")
                step.append(item[part])
        values = step
    out = []
    for value in values:
        for item in _flatten(value):
            if item is None:
                continue
            if not isinstance(item, str):
                raise FieldError(f"{field!r} holds a {type(item).__name__}, not text")
            if item:
                out.append(item)
    return out


def _flatten(value: Any):
    if isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item)
    else:
        yield value
