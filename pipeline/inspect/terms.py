"""Index terms: a document's words by its own language's splitter, a query's by every candidate's.

Every document is indexed twice:

- `words`: `filters.words.split_words(text, lang)`, the project's per-language splitting (jieba
  for Chinese, IndicNLP for Indic scripts, spaCy or pyvi elsewhere, the script-aware regex where
  a backend would download a model). BM25 ranks on these terms.
- `exact`: `filters.words.unicode_words(text)`, which is context-free: one token per letter of
  the scripts written without spaces (Han, Thai, Khmer…), a run of letters and marks elsewhere.
  A phrase of these tokens is an exact match whatever a segmenter made of the surrounding text
  (jieba keeps 北京大学 as one word, so the query 北京 finds it through this field only).

Both are casefolded and cut at whitespace (a backend token never holds any, but then tantivy's
whitespace tokenizer can cut the joined string back into exactly these terms).

A query's language is usually unknown, so its words are the union of what each candidate
language's splitter makes of it: the release's languages whose script the query is written in
(`--lang` names one). A document in language L was split by L's splitter, so L's split of the
query is what can match it; the other splits only add terms.
"""

from __future__ import annotations

import functools
import logging

import regex

from rootstock.catalog.registry import UNDETERMINED, load_registry
from rootstock.filters.scripts import PER_CHAR_WORD
from rootstock.filters.words import split_words, tokenizer_name, unicode_words

log = logging.getLogger(__name__)

# Longer terms are dropped on both sides (tantivy refuses terms over 65,530 bytes; nobody
# searches for a 200-byte word, and base64 blobs would only bloat the term dictionary).
MAX_TERM_BYTES = 200
_SINGLE_UNSPACED = regex.compile(rf"(?V1){PER_CHAR_WORD}")
# ISO 15924 codes of the registry → `regex` script properties (Hans/Hant are Han characters).
_SCRIPT_PROPERTIES = {
    "Hans": "Han",
    "Hant": "Han",
    "Hani": "Han",
    "Jpan": "Han|Hiragana|Katakana",
    "Kore": "Hangul|Han",
}


def _clean(tokens: list[str]) -> list[str]:
    out = []
    for token in tokens:
        for piece in token.casefold().split():
            if len(piece.encode("utf-8")) <= MAX_TERM_BYTES:
                out.append(piece)
    return out


@functools.cache
def _splitter_ok(lang: str) -> bool:
    """False for a language the registry does not know (then the regex splitter is used)."""
    try:
        tokenizer_name(lang)
    except ValueError:
        log.warning("language %r is not in the registry: its documents are split with unicode_words", lang)
        return False
    return True


def words(text: str, lang: str) -> list[str]:
    """The `words` terms of TEXT in language LANG (its own splitter)."""
    return _clean(split_words(text, lang) if _splitter_ok(lang) else unicode_words(text))


def exact_words(text: str) -> list[str]:
    """The `exact` terms of TEXT (context-free, the same for every language)."""
    return _clean(unicode_words(text))


def splitter_name(lang: str) -> str:
    """Which splitter made a language's `words` terms, for index.json."""
    return tokenizer_name(lang) if _splitter_ok(lang) else "rootstock unicode-words (not in the registry)"


@functools.cache
def _script_pattern(lang: str) -> regex.Pattern | None:
    registry = load_registry()
    code = registry.resolve(lang) if lang != UNDETERMINED else None
    script = registry[code].script if code else None
    if not script:
        return None  # programming languages and `und`: no script of their own
    names = _SCRIPT_PROPERTIES.get(script, script)
    try:
        return regex.compile("|".join(rf"\p{{sc={name}}}" for name in names.split("|")))
    except regex.error:
        return None


def candidate_languages(query: str, languages: list[str]) -> list[str]:
    """The LANGUAGES (a release's) whose script QUERY is written in, in their given order."""
    return [lang for lang in languages if (pattern := _script_pattern(lang)) is not None and pattern.search(query)]


def query_words(query: str, languages: list[str]) -> list[str]:
    """The `words` terms of QUERY: the union of each language's split, first-seen order.

    The regex splitter's words are added too (programming languages and `und` documents were
    split with it), except single characters of unspaced scripts, which would match every
    document in that script; the exact phrase covers those.
    """
    seen: dict[str, None] = {}
    for lang in languages:
        seen.update(dict.fromkeys(words(query, lang)))
    seen.update(dict.fromkeys(t for t in exact_words(query) if not _SINGLE_UNSPACED.fullmatch(t)))
    return list(seen)
