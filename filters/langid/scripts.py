"""The ISO 15924 script a text is written in, recorded with every language-ID prediction.

A language code alone does not say how a document is written (Hindi in Devanagari or in Latin
letters, Punjabi in Gurmukhi or Shahmukhi, Chinese in simplified or traditional characters),
and a document routed to `und` still has a script worth counting. The script is the one most
of the text's letters belong to (Unicode Script property, ISO 15924 codes); Han characters
become Hans or Hant by the characters only one of the two uses (`chinese_variant`), Han with
kana is Japanese (Jpan) and Han with Hangul is Korean (Kore).
"""

from __future__ import annotations

import functools
from collections import Counter

import regex
from hanzidentifier import helpers

# Unicode Script property value (as the `regex` module names it) -> ISO 15924 code.
_ISO15924 = {
    "Latin": "Latn",
    "Arabic": "Arab",
    "Devanagari": "Deva",
    "Bengali": "Beng",
    "Tamil": "Taml",
    "Telugu": "Telu",
    "Kannada": "Knda",
    "Malayalam": "Mlym",
    "Gujarati": "Gujr",
    "Gurmukhi": "Guru",
    "Oriya": "Orya",
    "Sinhala": "Sinh",
    "Cyrillic": "Cyrl",
    "Greek": "Grek",
    "Armenian": "Armn",
    "Georgian": "Geor",
    "Hebrew": "Hebr",
    "Syriac": "Syrc",
    "Thaana": "Thaa",
    "Nko": "Nkoo",
    "Adlam": "Adlm",
    "Vai": "Vaii",
    "Tifinagh": "Tfng",
    "Ethiopic": "Ethi",
    "Thai": "Thai",
    "Lao": "Laoo",
    "Khmer": "Khmr",
    "Myanmar": "Mymr",
    "Tibetan": "Tibt",
    "Mongolian": "Mong",
    "Hangul": "Hang",
    "Hiragana": "Hira",
    "Katakana": "Kana",
    "Han": "Hani",
    "Canadian_Aboriginal": "Cans",
    "Cherokee": "Cher",
    "Javanese": "Java",
    "Balinese": "Bali",
    "Ol_Chiki": "Olck",
}
_PATTERNS = [(regex.compile(rf"\p{{Script={name}}}"), code) for name, code in _ISO15924.items()]
_LETTER = regex.compile(r"[\p{L}\p{M}]")
_SAMPLE_CHARS = 400  # the script of a document shows in its first characters


_CHAR_SCRIPT: dict[str, str | None] = {}  # every character seen: its script if a letter, else None


def _char_script(char: str) -> str | None:
    code = _CHAR_SCRIPT.get(char, "?")
    if code == "?":
        code = None
        if _LETTER.match(char):
            code = next((code for pattern, code in _PATTERNS if pattern.match(char)), "Zyyy")  # Zyyy: not tabled
        _CHAR_SCRIPT[char] = code
    return code


@functools.cache
def _hanzi_sets() -> tuple[frozenset[str], frozenset[str]]:
    shared = helpers.SHARED_CHARACTERS
    return frozenset(helpers.TRADITIONAL_CHARACTERS - shared), frozenset(helpers.SIMPLIFIED_CHARACTERS - shared)


@functools.lru_cache(maxsize=1024)  # every backend's `zh` label asks again about the same text
def chinese_variant(text: str) -> str:
    """zhs or zht: the script with more characters of its own (ties, and no evidence, → zhs)."""
    traditional_only, simplified_only = _hanzi_sets()
    text = text[: _SAMPLE_CHARS * 4]
    chars = set(text)
    trad_chars, simp_chars = chars & traditional_only, chars & simplified_only
    if not trad_chars or not simp_chars:  # the usual case: one script's own characters only
        return "zht" if trad_chars else "zhs"
    trad = sum(text.count(char) for char in trad_chars)
    simp = sum(text.count(char) for char in simp_chars)
    return "zht" if trad > simp else "zhs"


def script_counts(text: str) -> dict[str, int]:
    """ISO 15924 code -> number of letters, over the first characters of `text`."""
    counts: dict[str, int] = {}
    sample = text[:_SAMPLE_CHARS]
    if sample.isascii():  # no need to look at each character: its letters are Latin
        letters = sum(map(str.isalpha, sample))
        return {"Latn": letters} if letters else {}
    known = _CHAR_SCRIPT
    for char, n in Counter(sample).items():  # Counter counts at C speed
        code = known.get(char, "?")
        if code == "?":
            code = _char_script(char)
        if code is not None:
            counts[code] = counts.get(code, 0) + n
    return counts


@functools.lru_cache(maxsize=1024)  # the policy and franc's Latin check ask about the same text
def script_of(text: str) -> str | None:
    """The ISO 15924 script of most of the text's letters; None if it has no letters."""
    counts = script_counts(text)
    if not counts:
        return None
    han = counts.get("Hani", 0)
    kana = counts.get("Hira", 0) + counts.get("Kana", 0)
    if kana and kana + han >= max(counts.values()):
        return "Jpan"
    if han and counts.get("Hang", 0) and han + counts["Hang"] >= max(counts.values()):
        return "Kore"
    best = max(counts, key=lambda code: (counts[code], code))
    if best == "Hani":
        return "Hant" if chinese_variant(text) == "zht" else "Hans"
    return best
