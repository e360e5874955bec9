"""ROOTS per-document quality filtering (BigScience OSCAR "AC/DC" filters) as plain functions.

Reference: the ROOTS paper (Laurençon et al. 2022, arXiv:2303.03915) and
bigscience-workshop/data-preparation
`preprocessing/training/01b_oscar_cleaning_and_filtering/{filtering,parameters_filtering}.py`.
The metric semantics are ROOTS's, so the per-language thresholds it tuned keep their meaning;
the implementations are ours, each linear in the text length (regexes and Counters instead of
per-character Python loops and full sorts). Where we depart from ROOTS on purpose, it says so:
  - word *stripping* skips the letters and vowel signs that ROOTS's symbol list contains by
    accident (ा ी े ् া ه ン ー 一 …): ROOTS cut the final vowel sign off every Hindi word ending in
    one and the final ه off Arabic words, so stop words like "का" or "هذه" could never match.
    The special-character *ratio* still counts them, as ROOTS did, because its hi/bn/ar
    thresholds were tuned with them counted;
  - Chinese words come from the language's word segmenter (jieba) instead of ROOTS's Wikipedia
    SentencePiece model, which would be a download;
  - emoji are all code points of the `emoji` package's current data (ROOTS used emoji==1.6.1 and,
    comparing character by character, only ever matched single-code-point emoji).

Usage: `text = modify_document(text, th)`, then `first_failure(compute_metrics(text, lang), th)`.
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import emoji

from rootstock.catalog.registry import UNDETERMINED, load_registry
from rootstock.filters import wordlists
from rootstock.filters.scripts import is_unspaced
from rootstock.filters.words import split_words

# --- character sets ---------------------------------------------------------------------------

# ROOTS's `uniform_whitespace` list has 12 entries: ASCII space, ten Unicode spaces, U+FFFC and
# U+0084. Published copies render the ten spaces identically, so we map every space separator
# it can have meant (NBSP, U+2000–U+200A, narrow NBSP, medium mathematical space, ideographic).
UNIFORM_WHITESPACE = frozenset(
    "\u00a0" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000" + "\ufffc\u0084"
)
_WHITESPACE_TABLE = {ord(c): " " for c in UNIFORM_WHITESPACE}

# ROOTS `other_special_characters` (parameters_filtering.py). Its leading blanks are spaces whose
# code points published copies don't show: taken to be the exotic spaces above. The rest is
# ROOTS's string as published, letters and Indic vowel signs included (see module docstring).
ROOTS_EXTRA_SPECIAL = (
    "".join(sorted(UNIFORM_WHITESPACE - {"\u0084"})) + "’“”–ー一▬…✦�£•€«»°·═"
    "×士＾˘⇓↓↑←→（）§″′´¿−±∈¢ø‚„½¼¾¹²³―⁃，ˌ¸‹›ʺˈʻ¦‐⠀‰‑≤≥‖"
    "◆●■►▼▲▴∆▻¡★☆✱ːº。¯˜¥ɪ≈†上ン：∼⁄・♡✓⊕․．⋅÷１‟；،、¨ाাी्े◦˚"
    "゜ʼ≖ʼ¤ッツシ℃√！【】‿∞➤～πه۩☛₨➩☻๑٪♥ıॽ《‘©﴿٬？▷Г♫∟™ª₪®「—❖"
    "」﴾》"
)


def _emoji_code_points() -> frozenset[str]:
    points = {c for sequence in emoji.EMOJI_DATA for c in sequence}
    # ZERO WIDTH JOINER glues emoji sequences but is also ordinary spelling in Indic and
    # Arabic-script text; counting it would make those languages look "special".
    points.discard("\u200d")
    return frozenset(points)


SPECIAL_CHARACTERS: frozenset[str] = (
    frozenset(string.punctuation + string.digits + string.whitespace + ROOTS_EXTRA_SPECIAL) | _emoji_code_points()
)

# What words are stripped of: the special set without the letters and combining marks that
# ROOTS's symbol list happens to contain (see the module docstring).
STRIP_CHARACTERS: frozenset[str] = SPECIAL_CHARACTERS - {
    c for c in ROOTS_EXTRA_SPECIAL if unicodedata.category(c)[0] in "LM"
}

INCORRECT_WORD_SUBSTRINGS = ("http", "www", ".com", "href", "//")


def _char_class(chars: Iterable[str], negate: bool = False) -> str:
    """A regex character class of `chars`, as code-point ranges (the stdlib has no set type)."""
    points = sorted(ord(c) for c in chars)
    parts, i = [], 0
    while i < len(points):
        j = i
        while j + 1 < len(points) and points[j + 1] == points[j] + 1:
            j += 1
        lo, hi = points[i], points[j]
        parts.append(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}")
        i = j + 1
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


_SPECIAL_RE = re.compile(_char_class(SPECIAL_CHARACTERS))
_KEEP = _char_class(STRIP_CHARACTERS, negate=True)
# A ROOTS word is a piece of the text between " ", "\n" and "\t", stripped of special characters
# at both ends. This one regex does split + strip in a single linear pass: it starts at the first
# kept character of a piece and ends at its last (the greedy run backs off only over the piece's
# trailing special characters). `\n`, `\t` and " " are themselves special, hence not in _KEEP.
_WORD_RE = re.compile(f"{_KEEP}(?:[^ \\n\\t]*{_KEEP})?")
# The same strip applied to an already separated token (segmenter output, modify_document).
_CORE_RE = re.compile(f"{_KEEP}(?:.*{_KEEP})?", re.S)
_DIGIT_RE = re.compile(r"\d")


def strip_special(word: str) -> str:
    """ROOTS's `strip(word, strip_characters)`: special characters off both ends."""
    m = _CORE_RE.search(word)
    return m.group() if m else ""


# --- thresholds ------------------------------------------------------------------------------


# Thresholds that are shares of a document, so outside [0, 1] they would keep or drop everything.
_RATIOS = (
    "character_repetition_max_cutoff",
    "word_repetition_max_cutoff",
    "special_characters_max_cutoff",
    "stopwords_min_cutoff",
    "flagged_words_max_cutoff",
    "lang_id_min_cutoff",
)


@dataclass(frozen=True)
class Thresholds:
    """ROOTS `parameters_filtering` for one language; a cutoff of None disables that check."""

    number_words_min_cutoff: int | None
    number_words_max_cutoff: int | None
    character_repetition_length: int
    character_repetition_max_cutoff: float | None
    word_repetition_length: int
    word_repetition_max_cutoff: float | None
    special_characters_max_cutoff: float | None
    stopwords_min_cutoff: float | None
    flagged_words_max_cutoff: float | None
    lang_id_min_cutoff: float | None
    perplexity_max_cutoff: float | None
    length_word_max_cutoff: int
    cond_remove_words_with_incorrect_substrings: bool
    cond_remove_long_words: bool
    tokenization: bool
    words_augmentation_group_sizes: tuple[int, ...] = ()
    words_augmentation_join_char: str = ""
    incorrect_word_substrings: tuple[str, ...] = INCORRECT_WORD_SUBSTRINGS

    def __post_init__(self):
        for name in _RATIOS:
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"threshold {name} is a ratio in [0, 1], got {value!r}")
        for name in ("number_words_min_cutoff", "number_words_max_cutoff", "perplexity_max_cutoff"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"threshold {name} must be ≥ 0, got {value!r}")
        low, high = self.number_words_min_cutoff, self.number_words_max_cutoff
        if low is not None and high is not None and low > high:
            raise ValueError(f"number_words_min_cutoff {low} is above number_words_max_cutoff {high}")
        for name in ("character_repetition_length", "word_repetition_length", "length_word_max_cutoff"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"threshold {name} must be a positive integer, got {value!r}")
        if any(isinstance(g, bool) or not isinstance(g, int) or g < 1 for g in self.words_augmentation_group_sizes):
            raise ValueError(
                f"words_augmentation_group_sizes must be positive integers, got {self.words_augmentation_group_sizes!r}"
            )

    @property
    def augmentation(self) -> tuple[tuple[int, ...], str] | None:
        if not self.words_augmentation_group_sizes:
            return None
        return self.words_augmentation_group_sizes, self.words_augmentation_join_char


def _row(min_words, long_word, char_rep, word_rep, special, stop, flagged, lang_id, ppl, **extra) -> dict:
    row = {
        "number_words_min_cutoff": min_words,
        "number_words_max_cutoff": 100_000,
        "character_repetition_length": 10,
        "character_repetition_max_cutoff": char_rep,
        "word_repetition_length": 5,
        "word_repetition_max_cutoff": word_rep,
        "special_characters_max_cutoff": special,
        "stopwords_min_cutoff": stop,
        "flagged_words_max_cutoff": flagged,
        "lang_id_min_cutoff": lang_id,
        "perplexity_max_cutoff": ppl,
        "length_word_max_cutoff": long_word,
        "cond_remove_words_with_incorrect_substrings": True,
        "cond_remove_long_words": True,
        "tokenization": False,
    }
    row.update(extra)
    return row


# data-preparation `01b_oscar_cleaning_and_filtering/parameters_filtering.py` (final). Columns: min
# words, long-word cutoff, char-rep max, word-rep max, special max, stop-word min, flagged max,
# lang-id min, PPL max.
ROOTS_THRESHOLDS: dict[str, dict[str, Any]] = {
    # ROOTS's own fallback for languages it did not tune. We use it for every other language
    # (sw, yo, fi, the Indic and Niger-Congo languages, ...) because it is the value ROOTS's code
    # would have applied, it is looser than any tuned row, and its two modification switches are
    # off, so nothing is rewritten on thresholds nobody checked. The Feb 2022 drafts for af, gu,
    # sw, yo, ... were placeholders with the checks effectively off; they are not used.
    "default": _row(
        10,
        50,
        0.20,
        0.30,
        0.40,
        0.10,
        0.10,
        0.70,
        10_000,
        cond_remove_words_with_incorrect_substrings=False,
        cond_remove_long_words=False,
    ),
    "ar": _row(20, 25, 0.20, 0.34, 0.30, 0.07, 0.03, 0.81, 2_300),
    "bn": _row(33, 20, 0.13, 0.21, 0.45, 0.002, 0.001, 0.95, 2_000),
    "ca": _row(15, 20, 0.20, 0.40, 0.25, 0.25, 0.10, 0.80, 2_500),
    "en": _row(20, 25, 0.106, 0.19, 0.40, 0.30, 0.01, 0.80, 1_500),
    "es": _row(16, 25, 0.14, 0.25, 0.34, 0.40, 0.01, 0.80, 1_300),
    "eu": _row(8, 28, 0.20, 0.40, 0.31, 0.05, 0.10, 0.70, 3_000),
    "fr": _row(13, 45, 0.14, 0.13, 0.34, 0.27, 0.008, 0.80, 1_770),
    "hi": _row(38, 25, 0.18, 0.47, 0.45, 0.01, 0.005, 0.90, 1_517),
    "id": _row(15, 30, 0.15, 0.20, 0.34, 0.15, 0.01, 0.70, 5_000),
    "pt": _row(19, 19, 0.25, 0.98, 0.35, 0.20, 0.007, 0.60, 3_038),
    "ur": _row(25, 20, 0.19, 0.50, 0.25, 0.01, 0.025, 0.90, 1_495, word_repetition_length=7),
    "vi": _row(
        30,
        25,
        0.15,
        0.20,
        0.34,
        0.08,
        0.005,
        0.90,
        1_600,
        words_augmentation_group_sizes=(2,),
        words_augmentation_join_char=" ",
    ),
    "zh": _row(
        1,
        1000,
        0.20,
        0.96,
        0.30,
        0.1691,
        0.001,
        0.85,
        2_095,
        number_words_max_cutoff=1_000_000,
        character_repetition_length=3,
        tokenization=True,
        cond_remove_words_with_incorrect_substrings=False,
        cond_remove_long_words=False,
        words_augmentation_group_sizes=(2,),
        words_augmentation_join_char="",
    ),
}
# Registry codes whose ROOTS row has another name.
_ROOTS_ROW_OF = {"zhs": "zh", "zht": "zh"}

_FIELDS = {f.name: f for f in dataclasses.fields(Thresholds)}


def roots_row(lang: str) -> str:
    """Name of the ROOTS thresholds row a registry language uses ("default" if untuned)."""
    code = _code(lang)
    row = _ROOTS_ROW_OF.get(code, code)
    return row if row in ROOTS_THRESHOLDS else "default"


def thresholds_for(lang: str, overrides: dict[str, Any] | None = None) -> Thresholds:
    """ROOTS thresholds for a registry language, then the registry's and the caller's overrides."""
    code = _code(lang)
    base = _registry_thresholds(code)
    if not overrides:
        return base
    return dataclasses.replace(base, **_checked(overrides, code, "overrides"))


@functools.cache
def _registry_thresholds(code: str) -> Thresholds:
    values = dict(ROOTS_THRESHOLDS[roots_row(code)])
    if code == UNDETERMINED:  # no script, no registry entry: ROOTS's default row as it stands
        return Thresholds(**values)
    language = load_registry()[code]
    # An untuned language of a script written without spaces must be segmented, or whitespace
    # splitting would see one "word" per sentence.
    if roots_row(code) == "default" and is_unspaced(language.script):
        values["tokenization"] = True
    values.update(_checked(language.thresholds or {}, code, f"registry entry {code!r}"))
    return Thresholds(**values)


def _checked(extra: dict[str, Any], code: str, source: str) -> dict[str, Any]:
    out = {}
    for key, value in extra.items():
        if key not in _FIELDS:
            raise ValueError(f"{source}: unknown threshold {key!r} for {code}; known: {', '.join(sorted(_FIELDS))}")
        out[key] = _coerce(key, value)
    return out


def _coerce(key: str, value: Any) -> Any:
    kind = _FIELDS[key].type
    if "tuple" in kind:
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise ValueError(f"threshold {key!r} must be a list, got {value!r}")
        return tuple(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"threshold {key!r} must be true or false, got {value!r}")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"threshold {key!r} must be a string, got {value!r}")
        return value
    if value is None and "None" in kind:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"threshold {key!r} must be a number{' or null' if 'None' in kind else ''}, got {value!r}")
    return value


def _code(lang: str) -> str:
    if lang == UNDETERMINED:
        return lang
    code = load_registry().resolve(lang)
    if code is None:
        raise ValueError(f"unknown language {lang!r}: not in the language registry")
    return code


# --- document modification (ROOTS `ModifyingDocuments`, filtering.py) ---------------------------


def modify_document(text: str, th: Thresholds) -> str:
    """ROOTS `modifying_documents`: strip, uniform whitespace, drop URL-ish and over-long words.

    Word removal splits on "\\n", then "\\t", then " " and re-joins; as in ROOTS, the re-join drops
    empty pieces, so blank lines and runs of spaces disappear whenever a removal is switched on.
    """
    text = text.strip()
    if not text:
        return text
    text = text.translate(_WHITESPACE_TABLE)
    substrings = th.incorrect_word_substrings if th.cond_remove_words_with_incorrect_substrings else ()
    cutoff = th.length_word_max_cutoff if th.cond_remove_long_words else None
    if not substrings and cutoff is None:
        return text

    def keep(word: str) -> bool:
        # Strip only when needed: a substring absent from the word is absent from its core too.
        if substrings and any(s in word for s in substrings):
            core = strip_special(word)
            if any(s in core for s in substrings):
                return False
        if cutoff is not None and len(word) > cutoff:
            core = strip_special(word)
            return bool(core) and len(core) <= cutoff
        return True

    lines = []
    for line in text.split("\n"):
        cells = []
        for cell in line.split("\t"):
            words = [w for w in cell.split(" ") if w and keep(w)]
            if words:
                cells.append(" ".join(words))
        if cells:
            lines.append("\t".join(cells))
    return "\n".join(lines)


# --- metrics (ROOTS `Filtering`, filtering.py), each linear in the text length -----------------


def get_words(text: str, lang: str, th: Thresholds | None = None, *, lower: bool = True) -> list[str]:
    """ROOTS `get_words_from_document`: split, optionally lowercase, strip special characters."""
    th = th or thresholds_for(lang)
    if th.tokenization:
        # ROOTS normalised (lowercase, digits → 0) and SentencePiece-tokenised; we segment
        # with the language's word splitter instead (see module docstring).
        normalized = _DIGIT_RE.sub("0", text.lower())
        return [core for piece in split_words(normalized, lang) if (core := strip_special(piece))]
    return _WORD_RE.findall(text.lower() if lower else text)


def number_of_words(text: str, lang: str, th: Thresholds | None = None) -> int:
    """Words as ROOTS counts them (not lowercased, stripped, empties dropped)."""
    return len(get_words(text, lang, th, lower=False))


def character_repetition_ratio(text: str, n: int) -> float:
    """Share of all character n-grams taken by the k most frequent ones, ROOTS style.

    k = min(floor(sqrt(#distinct n-grams)), #distinct n-grams seen more than once): so a text
    with no repeated n-gram scores 0, and one repeated n-gram can't dominate a long text alone.
    """
    if len(text) < n:
        return 0.0
    counts = Counter(text[i : i + n] for i in range(len(text) - n + 1))
    freqs = counts.values()
    repeated = sum(1 for f in freqs if f > 1)
    k = min(math.isqrt(len(counts)), repeated)
    if k == 0:
        return 0.0
    return sum(heapq.nlargest(k, freqs)) / (len(text) - n + 1)


def word_repetition_ratio(words: Sequence[str], n: int) -> float:
    """Share of word n-grams (counted with multiplicity) that occur more than once."""
    total = len(words) - n + 1
    if total <= 0:
        return 0.0
    # Tuples, not " ".join: words never contain spaces, so the counts are the same, cheaper.
    counts = Counter(zip(*(words[i:] for i in range(n)), strict=False))
    return sum(f for f in counts.values() if f > 1) / total


def special_characters_ratio(text: str) -> float:
    """Share of characters in the ROOTS special set (punctuation, digits, whitespace, symbols, emoji)."""
    if not text:
        return 0.0
    return _SPECIAL_RE.subn("", text)[1] / len(text)


def _augmented(words: Sequence[str], augmentation: tuple[Sequence[int], str] | None) -> Iterable[str]:
    if not augmentation:
        return ()
    sizes, join = augmentation
    return (join.join(words[i : i + g]) for g in sizes for i in range(len(words) - g + 1))


def _list_ratio(words: Sequence[str], wordlist: frozenset[str], augmentation) -> float:
    if not words:
        return 0.0
    hits = sum(1 for w in words if w in wordlist) + sum(1 for w in _augmented(words, augmentation) if w in wordlist)
    return min(hits / len(words), 1.0)


def stopword_ratio(
    words: Sequence[str], stopwords: frozenset[str], augmentation: tuple[Sequence[int], str] | None = None
) -> float:
    """(#words + #augmented word groups in the list) / #words, capped at 1.

    `augmentation` = (group sizes, join string): ROOTS joins consecutive words so that list
    entries spanning several tokens still match — ((2,), "") for Chinese, ((2,), " ") for
    Vietnamese, whose stop words are often two syllables.
    """
    return _list_ratio(words, stopwords, augmentation)


def flagged_word_ratio(
    words: Sequence[str], flagged: frozenset[str], augmentation: tuple[Sequence[int], str] | None = None
) -> float:
    """Same computation as `stopword_ratio`, against the flagged-word list."""
    return _list_ratio(words, flagged, augmentation)


METRICS = (
    "number_of_words",
    "character_repetition_ratio",
    "word_repetition_ratio",
    "special_characters_ratio",
    "stopwords_ratio",
    "flagged_words_ratio",
    "lang_id_score",
    "perplexity",
)


def compute_metrics(
    text: str,
    lang: str,
    *,
    lang_score: float | None = None,
    perplexity: float | None = None,
    th: Thresholds | None = None,
) -> dict[str, float | int | None]:
    """All ROOTS metrics of an (already modified) document, words split once.

    `lang_score` is the language-ID probability of `lang` when it is the top-1 prediction and
    0.0 when another language wins (ROOTS keeps a document only if both hold); `perplexity` comes
    from the KenLM stage. Either left None, and checks without a word list, are None: skipped.
    """
    th = th or thresholds_for(lang)
    words = get_words(text, lang, th)
    if th.tokenization:
        count = len(words)  # ROOTS counted the pieces of the lowercased, normalised text too
    else:
        count = len(_WORD_RE.findall(text))
    stop = wordlists.stopwords(lang)
    flagged = wordlists.flagged_words(lang)
    return {
        "number_of_words": count,
        "character_repetition_ratio": character_repetition_ratio(text, th.character_repetition_length),
        "word_repetition_ratio": word_repetition_ratio(words, th.word_repetition_length),
        "special_characters_ratio": special_characters_ratio(text),
        "stopwords_ratio": None if stop is None else stopword_ratio(words, stop, th.augmentation),
        "flagged_words_ratio": None if flagged is None else flagged_word_ratio(words, flagged, th.augmentation),
        "lang_id_score": lang_score,
        "perplexity": perplexity,
    }


# --- the filters, in ROOTS order --------------------------------------------------------------

FILTERS = (
    "number_of_words",
    "character_repetition",
    "word_repetition",
    "special_characters",
    "stopwords",
    "flagged_words",
    "lang_id",
    "perplexity",
)


def _at_least(low):
    return lambda v: low is None or v >= low


def _at_most(high):
    return lambda v: high is None or v <= high


def _checks(th: Thresholds):
    return (
        (
            "number_of_words",
            "number_of_words",
            lambda v: _at_least(th.number_words_min_cutoff)(v) and _at_most(th.number_words_max_cutoff)(v),
        ),
        ("character_repetition", "character_repetition_ratio", _at_most(th.character_repetition_max_cutoff)),
        ("word_repetition", "word_repetition_ratio", _at_most(th.word_repetition_max_cutoff)),
        ("special_characters", "special_characters_ratio", _at_most(th.special_characters_max_cutoff)),
        ("stopwords", "stopwords_ratio", _at_least(th.stopwords_min_cutoff)),
        ("flagged_words", "flagged_words_ratio", _at_most(th.flagged_words_max_cutoff)),
        ("lang_id", "lang_id_score", _at_least(th.lang_id_min_cutoff)),
        ("perplexity", "perplexity", _at_most(th.perplexity_max_cutoff)),
    )


def first_failure(metrics: dict[str, Any], th: Thresholds) -> str | None:
    """Name of the first ROOTS filter the document fails, or None if it passes them all.

    A metric that is None (or absent) means that check is disabled for the document, never failed.
    """
    for name, key, ok in _checks(th):
        value = metrics.get(key)
        if value is not None and not ok(value):
            return name
    return None
