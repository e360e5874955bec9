"""MinHash near-duplicate detection: shingles, signatures, LSH banding parameters and band keys.

ROOTS itself deduplicated OSCAR with SimHash plus suffix-array substring removal (ROOTS paper,
Laurençon et al. 2022, arXiv:2303.03915; bigscience-workshop/data-preparation
`preprocessing/training/01b_oscar_cleaning_and_filtering/deduplicate/`); rootstock uses
MinHash-LSH with ROOTS's feature recipe: lowercased text, Unicode punctuation removed, sliding
windows of tokens. Everything here is plain Python/numpy (no Beam); pipeline/stages/dedup/
wires it in.

Shingles
--------
`shingles(text, lang, n=5)` returns the document's shingle set as sorted unique 64-bit hashes
(numpy uint64). Tokens, after `str.lower()`:
  * format characters (Unicode Cf: ZWJ/ZWNJ, soft hyphen, bidi marks, BOM, zero-width space)
    are deleted, so "क्‍ष" with and without a ZWJ, or a soft-hyphenated word, match;
  * letters, marks and digits (L, M, N) are word characters; everything else (white space,
    punctuation P, symbols S, controls, unassigned code points) separates tokens;
  * languages whose registry `script` is written without spaces (filters/scripts.py:
    Hans, Hant, Jpan, Thai, Khmr, ...) use CHARACTER shingles: every word character is a
    token and the window is `char_n` = CHAR_NGRAM = 5 characters (white space and punctuation
    removed); ROOTS's SimHash used 6-character windows (its `deduplicate/conf/` files), 5 keeps
    a one-character edit from touching more than 5 shingles, as a one-word edit does for word
    5-grams;
  * other languages (and "und", and programming languages) use WORD shingles of `n` tokens,
    a token being a run of word characters; characters of the scripts written without spaces
    inside such a document (a Chinese or Thai quote in English text) are one token each, as in
    filters.words.unicode_words, so a pure Han or Thai run gives the same shingles in both modes;
  * a document with fewer tokens than the window gives one shingle of all its tokens; a
    document with no token gives none (its signature is EMPTY and it gets no band keys).
`shingle_texts()` returns the same shingles as readable strings (tokens joined by " " in word
mode, by "" in character mode), computed by an independent regex implementation; the tests check
that hashing them with `shingle_hash()` gives exactly `shingles()`.

Tokens do not come from filters.words.split_words: its spaCy/pyvi/jieba backends cost
milliseconds per document, which would make dedup the slowest stage, and segmentation buys
nothing for shingling (ROOTS's SimHash split English at white space and every other language
into characters). Ignoring the language label also keeps two copies of one text with different
LID labels (fr/es, hi/mr) from getting different shingles: the language only chooses between
word and character shingles.

Hashing is vectorised over a batch of documents (in groups of <= 2^16 code points): UTF-32 code
points, a class table per code point, token hashes as polynomial prefix sums mod 2^64 (base
SHINGLE_BASE), n-gram hashes as the same polynomial over the token hashes, each finished with
the murmur3 64-bit mixer; `shingle_hash` is the same function in plain Python.
Everything is fixed-width integer arithmetic with constants below: the same text gives the
same hashes on every machine, process and run (no Python `hash()`). The Unicode tables are
those of the `regex` module (classes) and of Python (`str.lower`), so workers of one run must
share those versions, as they share all pinned dependencies.

Signatures
----------
`MinHasher` (num_perm=128, seed=1) computes signatures with rensa's `RMinHash` (algorithm
version 2: a Fast-Similarity-Sketching MinHash in Rust, 32-bit slots; the fraction of equal
slots estimates the Jaccard similarity, and per-band collision rates match j^rows). It is the
fastest of the implementations benchmarks/minhash.py compares on the same shingles, several
times datasketch's. rensa is fed our 64-bit shingle hashes, so its own string hashing plays no
part; its permutations derive from `seed` alone, and its AVX2 and scalar kernels give the same
digests (tested, with RENSA_FORCE_KERNEL). Signatures of a different rensa version, algorithm
version, seed or shingling are not comparable: `MinHasher.fingerprint` names all of them for
the run manifest.

LSH
---
`lsh_params` minimises fp_weight·FP + fn_weight·FN over bands·rows ≤ num_perm, where FP and FN
are datasketch's integrals of the S-curve `collision_probability` below / above the threshold.
The integrand 1-(1-s^r)^b is a polynomial of degree r·b ≤ num_perm, so Gauss-Legendre
quadrature with num_perm//2+1 nodes integrates it exactly (to rounding); that is vectorised
over all (b, r) at once and needs neither scipy nor datasketch's private `_optimal_param`
(tests check we pick the same (b, r) as datasketch for equal weights).

Default weights are FP 0.1 / FN 0.9, not datasketch's 0.5 / 0.5: candidates are verified by
estimated Jaccard afterwards, so a banding false positive costs one signature comparison while a
banding false negative is a duplicate lost for good (for 0.8 and 128 permutations: 14 bands × 9
rows instead of 9 × 13, which never compares one pair in 14 at J = 0.9).
`band_keys` gives one 10-byte key per band (band index + 8-byte BLAKE2b of the band's slots).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
from collections.abc import Iterable, Sequence

import numpy as np
import regex
import rensa
from rensa import RMinHash

from rootstock.catalog.registry import UNDETERMINED, load_registry
from rootstock.filters.scripts import PER_CHAR_CLASS, PER_CHAR_WORD, is_unspaced

NUM_PERM = 128
SEED = 1
WORD_NGRAM = 5
CHAR_NGRAM = 5
THRESHOLD = 0.8
FP_WEIGHT = 0.1
FN_WEIGHT = 0.9
# A signature slot no shingle reached: the whole signature of a document without shingles.
EMPTY = np.uint32(0xFFFFFFFF)
SHINGLE_VERSION = 1  # bump when anything below changes the shingle hashes

# Character classes, as `regex` set contents. The word characters of the scripts written
# without spaces (filters/scripts.py: PER_CHAR_WORD) are one token each.
WORD_CHARS = r"\p{L}\p{M}\p{N}"
DROPPED_CHARS = r"\p{Cf}"
_SEP, _WORD, _PER_CHAR, _DROP = 0, 1, 2, 3

# Hash constants (odd 64-bit multipliers/offsets; any fixed values would do, these never change).
SHINGLE_BASE = 0x9E3779B97F4A7C15
_BASE_INV = pow(SHINGLE_BASE, -1, 1 << 64)
_TOKEN_SALT = 0x243F6A8885A308D3
_NGRAM_SALT = 0x13198A2E03707344
_MASK64 = (1 << 64) - 1


# --- character classes and language modes ---------------------------------------------------


@functools.cache
def _class_table() -> np.ndarray:
    """uint8 class of every code point (0x110000 entries), from the `regex` Unicode tables."""
    table = np.zeros(0x110000, dtype=np.uint8)
    every = np.arange(0x110000, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    for cls, pattern in (
        (_WORD, f"[{WORD_CHARS}]+"),
        (_PER_CHAR, f"(?V1){PER_CHAR_WORD}+"),
        (_DROP, f"[{DROPPED_CHARS}]+"),
    ):
        for match in regex.finditer(pattern, every):
            table[match.start() : match.end()] = cls
    return table


@functools.cache
def char_shingles(lang: str) -> bool:
    """True if registry language `lang` gets character shingles (its script has no spaces)."""
    if lang == UNDETERMINED:
        return False
    registry = load_registry()
    code = registry.resolve(lang)
    if code is None:
        raise ValueError(f"unknown language {lang!r}: not in the language registry")
    return is_unspaced(registry[code].script)


# --- vectorised shingle hashing -------------------------------------------------------------

_U64 = np.uint64
_LOW_BITS = 16
_LOW = 1 << _LOW_BITS


def _power_table(base: int) -> tuple[np.ndarray, np.ndarray]:
    """(base^k, base^(k·2^16)) mod 2^64 for k < 2^16: base^e = lo[e & 0xFFFF] · hi[e >> 16], e < 2^32."""
    lo = np.ones(_LOW, dtype=np.uint64)
    lo[1:] = np.cumprod(np.full(_LOW - 1, base, dtype=np.uint64))  # wraps mod 2^64
    hi = np.ones(_LOW, dtype=np.uint64)
    hi[1:] = np.cumprod(np.full(_LOW - 1, pow(base, _LOW, 1 << 64), dtype=np.uint64))
    return lo, hi


_POS = _power_table(SHINGLE_BASE)
_NEG = _power_table(_BASE_INV)


def _pow(table: tuple[np.ndarray, np.ndarray], exponents: np.ndarray, top: int) -> np.ndarray:
    """base^exponents for int64 exponents whose maximum is `top` (< 2^32)."""
    lo, hi = table
    if top < _LOW:
        return lo[exponents]
    if top >= 1 << (2 * _LOW_BITS):
        raise ValueError("more than 2^32 code points in one shingle batch")
    return lo[exponents & (_LOW - 1)] * hi[exponents >> _LOW_BITS]


def _pow_range(table: tuple[np.ndarray, np.ndarray], count: int) -> np.ndarray:
    """base^0 .. base^(count-1)."""
    if count <= _LOW:
        return table[0][:count]
    return _pow(table, np.arange(count, dtype=np.int64), count - 1)


def fmix64(h: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finaliser, in place (also mixes filters.substring's window hashes)."""
    h ^= h >> _U64(33)
    h *= _U64(0xFF51AFD7ED558CCD)
    h ^= h >> _U64(33)
    h *= _U64(0xC4CEB9FE1A85EC53)
    h ^= h >> _U64(33)
    return h


def _segment_hashes(values: np.ndarray, starts: np.ndarray, ends: np.ndarray, salt: int) -> np.ndarray:
    """fmix64(Σ values[m]·B^(e-1-m) + salt) for every segment [s, e): Horner's rule by prefix sums."""
    prefix = np.empty(len(values) + 1, dtype=np.uint64)
    prefix[0] = 0
    np.cumsum(values * _pow_range(_NEG, len(values)), out=prefix[1:])
    last = ends - 1
    h = _pow(_POS, last, int(last.max()) if len(last) else 0) * (prefix[ends] - prefix[starts])
    h += _U64(salt)
    return fmix64(h)


def _token_hashes(text: str, char_mode: np.ndarray | bool, doc_starts: np.ndarray | None):
    """Token hashes of a text (several documents joined by "\n", ending with one).

    Returns (token hashes, token start positions, doc_starts in the same coordinates).
    `char_mode` is one bool, or one per document (then `doc_starts` has len(docs)+1 entries).
    """
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    classes = _class_table()[cps]
    dropped = classes == _DROP
    if dropped.any():
        kept = ~dropped
        if doc_starts is not None:
            before = np.zeros(len(cps) + 1, dtype=np.int64)
            np.cumsum(kept, out=before[1:])
            doc_starts = before[doc_starts]
        cps, classes = cps[kept], classes[kept]
    word = classes != _SEP
    if isinstance(char_mode, np.ndarray):
        single = classes == _PER_CHAR
        if char_mode.any():
            single |= word & np.repeat(char_mode, np.diff(doc_starts))
    else:
        single = word.copy() if char_mode else classes == _PER_CHAR
    # A token starts at a word character that is single or follows a break (separator or
    # single), and ends at one that is single or precedes a break. The text ends with "\n".
    brk = single | ~word
    first = single.copy()
    first[1:] |= brk[:-1]
    first[0] = True
    first &= word
    last = single
    last[:-1] |= brk[1:]
    last &= word
    starts = np.flatnonzero(first)
    ends = np.flatnonzero(last)
    ends += 1
    return _segment_hashes(cps.astype(np.uint64), starts, ends, _TOKEN_SALT), starts, doc_starts


def _char_modes(langs: str | Sequence[str], count: int) -> np.ndarray:
    if isinstance(langs, str):
        return np.full(count, char_shingles(langs))
    if len(langs) != count:
        raise ValueError(f"{len(langs)} languages for {count} texts")
    return np.fromiter(map(char_shingles, langs), dtype=bool, count=count)


def _check_sizes(n: int, char_n: int) -> None:
    if n < 1 or char_n < 1:
        raise ValueError(f"shingle sizes must be >= 1 (n={n}, char_n={char_n})")


def shingles_batch(
    texts: Sequence[str], langs: str | Sequence[str], n: int = WORD_NGRAM, char_n: int = CHAR_NGRAM
) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of many documents at once: (flat uint64 hashes, int64 offsets of len(texts)+1).

    Document i's shingles are flat[offsets[i]:offsets[i+1]], possibly with repeats (a shingle
    that occurs twice); signatures don't care, `shingles()` returns the unique sorted set.
    `langs` is one registry code for all texts or one per text.
    """
    _check_sizes(n, char_n)
    count = len(texts)
    char_mode = _char_modes(langs, count)
    if count == 0:
        return np.empty(0, dtype=np.uint64), np.zeros(1, dtype=np.int64)
    lowered = [text.lower() for text in texts]
    lengths = np.fromiter(map(len, lowered), dtype=np.int64, count=count) + 1  # + "\n"
    # Groups of documents under 2^16 code points keep the power tables on their one-level path.
    flats, counts, lo = [], [], 0
    ends = np.cumsum(lengths)
    while lo < count:
        hi = max(int(np.searchsorted(ends, ends[lo] - lengths[lo] + _LOW, side="right")), lo + 1)
        flat, offsets = _shingles_group(lowered[lo:hi], lengths[lo:hi], char_mode[lo:hi], n, char_n)
        flats.append(flat)
        counts.append(np.diff(offsets))
        lo = hi
    offsets = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.concatenate(counts), out=offsets[1:])
    return (flats[0] if len(flats) == 1 else np.concatenate(flats)), offsets


def _shingles_group(
    lowered: list[str], lengths: np.ndarray, char_mode: np.ndarray, n: int, char_n: int
) -> tuple[np.ndarray, np.ndarray]:
    count = len(lowered)
    doc_starts = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(lengths, out=doc_starts[1:])
    hashed, starts, doc_starts = _token_hashes("\n".join(lowered) + "\n", char_mode, doc_starts)

    # Tokens per document, then windows: k-n+1 windows of n tokens, or one of all k if 0 < k < n.
    token_offsets = np.searchsorted(starts, doc_starts)
    per_doc = np.diff(token_offsets)
    window = np.where(char_mode, char_n, n)
    n_windows = np.where(per_doc >= window, per_doc - window + 1, (per_doc > 0).astype(np.int64))
    offsets = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(n_windows, out=offsets[1:])
    owner = np.repeat(np.arange(count), n_windows)
    first = token_offsets[:-1][owner] + (np.arange(offsets[-1]) - offsets[:-1][owner])
    last = np.minimum(first + window[owner], token_offsets[1:][owner])
    return _segment_hashes(hashed, first, last, _NGRAM_SALT), offsets


def shingles(text: str, lang: str, n: int = WORD_NGRAM, char_n: int = CHAR_NGRAM) -> np.ndarray:
    """The shingle set of one document: sorted unique uint64 hashes (see the module docstring).

    `n` is the word n-gram size, `char_n` the character n-gram size for languages whose script
    has no spaces. Same hashes as `shingles_batch`, with a single-document fast path.
    """
    _check_sizes(n, char_n)
    char_mode = char_shingles(lang)
    hashed, _, _ = _token_hashes(text.lower() + "\n", char_mode, None)
    k, size = len(hashed), (char_n if char_mode else n)
    if k == 0:
        return np.empty(0, dtype=np.uint64)
    if k < size:
        return _segment_hashes(hashed, np.zeros(1, dtype=np.int64), np.array([k]), _NGRAM_SALT)
    prefix = np.empty(k + 1, dtype=np.uint64)
    prefix[0] = 0
    np.cumsum(hashed * _pow_range(_NEG, k), out=prefix[1:])
    h = _pow_range(_POS, k)[size - 1 :] * (prefix[size:] - prefix[: k - size + 1])  # windows [i, i+size)
    h += _U64(_NGRAM_SALT)
    h = np.sort(fmix64(h))
    if len(h) > 1:
        distinct = np.empty(len(h), dtype=bool)
        distinct[0] = True
        np.not_equal(h[1:], h[:-1], out=distinct[1:])
        h = h[distinct]
    return h


# --- readable twin (tests, debugging) ---------------------------------------------------------

_DROP_RE = regex.compile(f"[{DROPPED_CHARS}]+")
_WORD_TOKEN_RE = regex.compile(f"(?V1){PER_CHAR_WORD}|[[{WORD_CHARS}]--[{PER_CHAR_CLASS}]]+")
_CHAR_TOKEN_RE = regex.compile(f"[{WORD_CHARS}]")


def tokens(text: str, lang: str) -> list[str]:
    """The tokens shingles are built from (regex implementation, independent of the numpy one)."""
    cleaned = _DROP_RE.sub("", text.lower())
    return (_CHAR_TOKEN_RE if char_shingles(lang) else _WORD_TOKEN_RE).findall(cleaned)


def shingle_texts(text: str, lang: str, n: int = WORD_NGRAM, char_n: int = CHAR_NGRAM) -> set[str]:
    """The shingles of `shingles()` as strings: tokens joined by " " (word mode) or "" (characters)."""
    toks = tokens(text, lang)
    size, sep = (char_n, "") if char_shingles(lang) else (n, " ")
    if not toks:
        return set()
    if len(toks) < size:
        return {sep.join(toks)}
    return {sep.join(toks[i : i + size]) for i in range(len(toks) - size + 1)}


def _fmix64_int(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK64
    return h ^ (h >> 33)


def shingle_hash(shingle_tokens: Iterable[str]) -> int:
    """Pure-Python hash of one shingle given its tokens (what `shingles()` computes vectorised)."""
    g = 0
    for token in shingle_tokens:
        h = 0
        for ch in token:
            h = (h * SHINGLE_BASE + ord(ch)) & _MASK64
        g = (g * SHINGLE_BASE + _fmix64_int((h + _TOKEN_SALT) & _MASK64)) & _MASK64
    return _fmix64_int((g + _NGRAM_SALT) & _MASK64)


# --- signatures ---------------------------------------------------------------------------------


class MinHasher:
    """Deterministic MinHash signatures (rensa RMinHash) of shingle-hash sets.

    `signature(shingles(text, lang))` → uint32[num_perm]; `signatures(flat, offsets)` and
    `text_signatures(texts, langs)` do whole batches (several times faster per document).
    A document without shingles gets the all-EMPTY signature.
    """

    def __init__(self, num_perm: int = NUM_PERM, seed: int = SEED):
        if num_perm < 1:
            raise ValueError(f"num_perm must be >= 1, got {num_perm}")
        if not 0 <= seed < 1 << 64:
            raise ValueError(f"seed must fit in 64 unsigned bits, got {seed}")

        self.num_perm, self.seed = int(num_perm), int(seed)

    def __repr__(self) -> str:
        return f"MinHasher(num_perm={self.num_perm}, seed={self.seed})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MinHasher) and (self.num_perm, self.seed) == (other.num_perm, other.seed)

    def __hash__(self) -> int:
        return hash((self.num_perm, self.seed))

    @property
    def fingerprint(self) -> str:
        """Everything that makes two signatures comparable, for the run manifest."""

        return (
            f"rensa=={importlib.metadata.version('rensa')} RMinHash algorithm {rensa.RMinHash.ALGORITHM_VERSION} "
            f"num_perm={self.num_perm} seed={self.seed}; rootstock shingles v{SHINGLE_VERSION}"
        )

    def signatures(self, flat: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """uint32[len(offsets)-1, num_perm]: row i is the signature of flat[offsets[i]:offsets[i+1]]."""

        flat = np.ascontiguousarray(flat, dtype=np.uint64)
        offsets = np.ascontiguousarray(offsets, dtype=np.uint64)
        rows = len(offsets) - 1
        if rows <= 0:
            return np.empty((0, self.num_perm), dtype=np.uint32)
        matrix = RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, self.num_perm, self.seed)
        return np.array(matrix.to_rows(), dtype=np.uint32).reshape(rows, self.num_perm)

    def signature(self, shingle_hashes: np.ndarray | Sequence[int]) -> np.ndarray:
        """uint32[num_perm] signature of one shingle set (uint64 hashes from `shingles()`)."""
        flat = np.ascontiguousarray(shingle_hashes, dtype=np.uint64).ravel()
        return self.signatures(flat, np.array([0, len(flat)], dtype=np.uint64))[0]

    def text_signatures(
        self, texts: Sequence[str], langs: str | Sequence[str], n: int = WORD_NGRAM, char_n: int = CHAR_NGRAM
    ) -> np.ndarray:
        """Signatures of many texts: `shingles_batch` + `signatures`, the fast path for a bundle."""
        return self.signatures(*shingles_batch(texts, langs, n, char_n))


def estimated_jaccard(sig_a: np.ndarray | Sequence[int], sig_b: np.ndarray | Sequence[int]) -> float:
    """Fraction of equal slots of two signatures of the same MinHasher."""
    a, b = np.asarray(sig_a), np.asarray(sig_b)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise ValueError(f"signatures must be 1-D and of equal length, got shapes {a.shape} and {b.shape}")
    return float(np.count_nonzero(a == b)) / len(a)


def is_empty(signature: np.ndarray | Sequence[int]) -> bool:
    """True for the signature of a document without shingles."""
    return bool(np.all(np.asarray(signature) == EMPTY))


# --- LSH --------------------------------------------------------------------------------------


def collision_probability(jaccard, bands: int, rows: int):
    """P(two sets of Jaccard similarity `jaccard` share at least one band) = 1 - (1 - j^r)^b."""
    p = 1.0 - (1.0 - np.asarray(jaccard, dtype=float) ** rows) ** bands
    return float(p) if p.ndim == 0 else p


@functools.cache
def _legendre(points: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(points)


def _integrals(threshold: float, bands: np.ndarray, rows: np.ndarray, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """(∫_0^t P(s) ds, ∫_t^1 1 - P(s) ds) for each (bands[i], rows[i]); exact for b·r ≤ degree."""
    x, w = _legendre(degree // 2 + 1)
    b, r = bands[:, None].astype(float), rows[:, None].astype(float)
    below = threshold / 2 * (x + 1)  # nodes mapped to [0, t]
    above = threshold + (1 - threshold) / 2 * (x + 1)  # and to [t, 1]
    fp = threshold / 2 * ((1 - (1 - below**r) ** b) @ w)
    fn = (1 - threshold) / 2 * (((1 - above**r) ** b) @ w)
    return fp, fn


def _check(threshold: float, bands: int, rows: int) -> None:
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    if bands < 1 or rows < 1:
        raise ValueError(f"bands and rows must be >= 1, got {bands} x {rows}")


def false_positive_probability(threshold: float, bands: int, rows: int) -> float:
    """∫_0^t collision_probability(s) ds: datasketch's FP "probability" (an area; / t = mean rate)."""
    _check(threshold, bands, rows)
    return float(_integrals(threshold, np.array([bands]), np.array([rows]), bands * rows)[0][0])


def false_negative_probability(threshold: float, bands: int, rows: int) -> float:
    """∫_t^1 1 - collision_probability(s) ds: datasketch's FN "probability" (an area; / (1-t) = mean)."""
    _check(threshold, bands, rows)
    return float(_integrals(threshold, np.array([bands]), np.array([rows]), bands * rows)[1][0])


@functools.cache
def lsh_params(
    threshold: float, num_perm: int, fp_weight: float = FP_WEIGHT, fn_weight: float = FN_WEIGHT
) -> tuple[int, int]:
    """(bands, rows), bands·rows ≤ num_perm, minimising fp_weight·FP + fn_weight·FN.

    Same search as datasketch's MinHashLSH (b ascending, then r; the first minimum wins).
    Defaults favour recall, see the module docstring; pass 0.5, 0.5 for datasketch's choice.
    """
    _check(threshold, 1, 1)
    if num_perm < 1:
        raise ValueError(f"num_perm must be >= 1, got {num_perm}")
    if fp_weight < 0 or fn_weight < 0 or fp_weight + fn_weight <= 0:
        raise ValueError(f"weights must be >= 0 and not both 0, got {fp_weight}, {fn_weight}")
    pairs = np.array([(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)])
    fp, fn = _integrals(threshold, pairs[:, 0], pairs[:, 1], num_perm)
    b, r = pairs[int(np.argmin(fp_weight * fp + fn_weight * fn))]
    return int(b), int(r)


def band_keys(signature: np.ndarray | Sequence[int], bands: int, rows: int) -> list[bytes]:
    """One 10-byte key per band: 2-byte band index + 8-byte BLAKE2b of its `rows` slots (uint32 LE).

    Documents sharing a key are LSH candidates. An EMPTY signature (no shingles) has no keys.
    """
    sig = np.asarray(signature, dtype="<u4")
    if sig.ndim != 1 or bands < 1 or rows < 1 or bands * rows > len(sig):
        raise ValueError(
            f"{bands} bands x {rows} rows need a 1-D signature of >= {bands * rows} slots, got shape {sig.shape}"
        )
    if bands >= 1 << 16:
        raise ValueError(f"at most 65535 bands, got {bands}")
    if is_empty(sig):
        return []
    data = sig[: bands * rows].tobytes()
    step = 4 * rows
    return [
        band.to_bytes(2, "big") + hashlib.blake2b(data[band * step : (band + 1) * step], digest_size=8).digest()
        for band in range(bands)
    ]


BANDS, ROWS = lsh_params(THRESHOLD, NUM_PERM)
