"""Scripts written without spaces between words: the one definition the filters share.

Whitespace does not delimit words in these scripts, so splitting on it sees one "word" per
phrase. `UNSPACED_SCRIPTS` holds their ISO 15924 codes, compared with a registry language's
`script`: quality segments such a language even where ROOTS had no tuned row, and minhash gives
it character shingles. `PER_CHAR_CLASS` is the matching `regex` character class (set contents,
to be placed inside brackets): where no segmenter is at hand, each letter, mark or digit of
these scripts is a token of its own (words.unicode_words, minhash word shingles), whatever the
document's language. Both are built from the one table below, so they cannot drift apart.
"""

from __future__ import annotations

# ISO 15924 code -> the `regex` script properties of its characters.
_SCRIPTS: dict[str, tuple[str, ...]] = {
    "Hani": ("Han",),
    "Hans": ("Han",),
    "Hant": ("Han",),
    "Jpan": ("Han", "Hiragana", "Katakana"),
    "Hira": ("Hiragana",),
    "Kana": ("Katakana",),
    "Thai": ("Thai",),
    "Laoo": ("Lao",),
    "Khmr": ("Khmer",),
    "Mymr": ("Myanmar",),
    # Tibetan puts no space between words, but its tsheg (U+0F0B, a punctuation mark) closes
    # every syllable, and the regex splitters break at punctuation: Tibetan text already falls
    # into syllables, so it is unspaced (segmented, character shingles) but not split per character.
    "Tibt": (),
}

UNSPACED_SCRIPTS: frozenset[str] = frozenset(_SCRIPTS)
PER_CHAR_CLASS: str = "".join(rf"\p{{{name}}}" for name in dict.fromkeys(p for ps in _SCRIPTS.values() for p in ps))
# The letters, marks and digits of PER_CHAR_CLASS: one token each (a VERSION1 `regex` class; the
# scripts' punctuation and symbols, e.g. Khmer "។" or Thai "฿", separate tokens like any other).
PER_CHAR_WORD = rf"[[{PER_CHAR_CLASS}]&&[\p{{L}}\p{{M}}\p{{N}}]]"


def is_unspaced(script: str | None) -> bool:
    """True if ISO 15924 `script` (a registry language's `script`) writes words without spaces."""
    return script in UNSPACED_SCRIPTS
