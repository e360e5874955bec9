"""`rootstock search RELEASE QUERY`: ranked (BM25) or exact documents, each with its provenance.

Ranked: any of the query's words (`terms.query_words`: split as each candidate language would
split it) scores a document by BM25 on its `words` terms; the query's exact phrase counts too,
so that a phrase a segmenter cut differently inside the document (Chinese, Thai) still ranks,
and the documents holding the whole phrase rank first. `--exact`: only documents holding the
query's words in this order with nothing but spaces or punctuation between them, case-insensitive
(a phrase query on the context-free `exact` terms), ranked by BM25 too. Filters (`--lang`,
`--source`, kept or rejected) are exact and do not change the scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import regex
import tantivy

from rootstock.catalog.registry import UNDETERMINED, load_registry
from rootstock.errors import ConfigError
from rootstock.filters.scripts import PER_CHAR_CLASS
from rootstock.pipeline.inspect import terms
from rootstock.pipeline.inspect.index import SearchIndex

SNIPPET_CHARS = 280
_UNSPACED_CHAR = regex.compile(rf"(?V1)[{PER_CHAR_CLASS}]")
_BEFORE, _AFTER = r"(?<![\p{L}\p{M}\p{N}])", r"(?![\p{L}\p{M}\p{N}])"
_GAP = r"[^\p{L}\p{M}\p{N}]*?"
_SPACES = regex.compile(r"\s+")


@dataclass
class Hit:
    rank: int
    score: float
    doc: dict[str, Any]  # stored fields: id, set, lang, source, url, provenance (index._stored), text
    snippet: list[tuple[str, bool]]  # (text, is a match)

    @property
    def id(self) -> str:
        return self.doc["id"]

    def provenance(self) -> dict[str, Any]:
        keys = ("source", "license", "url", "source_doc_id", "input_file", "input_row", "retrieved_at", "origin")
        return {k: self.doc[k] for k in keys if self.doc.get(k) is not None}

    def as_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.doc.items() if k != "text"}
        out.update(rank=self.rank, score=round(self.score, 4), snippet="".join(t for t, _ in self.snippet))
        out["matches"] = [t for t, hit in self.snippet if hit]
        return out


@dataclass
class Results:
    query: str
    exact: bool
    total: int
    hits: list[Hit]
    words: list[str] = field(default_factory=list)  # the ranked query's terms
    phrase: list[str] = field(default_factory=list)  # the exact terms
    languages: list[str] = field(default_factory=list)  # whose splitters made `words`


def resolve_lang(lang: str | None) -> str | None:
    """A registry code (or `und`) for what the user typed: `zh-Hans` → zhs, `hin` → hi."""
    if lang is None or lang == UNDETERMINED:
        return lang
    code = load_registry().resolve(lang)
    if code is None:
        raise ConfigError(f"--lang {lang}: not a language of the registry", hint="see `rootstock languages`")
    return code


def _phrase(schema: tantivy.Schema, words: list[str]) -> tantivy.Query:
    if len(words) == 1:
        return tantivy.Query.term_query(schema, "exact", words[0])
    return tantivy.Query.phrase_query(schema, "exact", words)


def build_query(
    index: SearchIndex,
    query: str,
    *,
    lang: str | None = None,
    exact: bool = False,
    rejected: bool = False,
    source: str | None = None,
) -> tuple[tantivy.Query, Results]:
    """The tantivy query for QUERY and an empty Results saying which terms it uses."""
    schema = index.schema
    phrase = terms.exact_words(query)
    if not phrase:
        raise ConfigError(f"nothing to search for in {query!r}: no letters or digits")
    results = Results(query, exact, 0, [], phrase=phrase)
    if exact:
        main = _phrase(schema, phrase)
    else:
        results.languages = [lang] if lang else terms.candidate_languages(query, index.languages)
        results.words = terms.query_words(query, results.languages)
        clauses = [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "words", w)) for w in results.words]
        clauses.append((tantivy.Occur.Should, _phrase(schema, phrase)))
        main = tantivy.Query.boolean_query(clauses)
    filters = [] if rejected else [("set", "data")]
    filters += [(key, value) for key, value in (("lang", lang), ("source", source)) if value]
    if filters:
        clauses = [(tantivy.Occur.Must, main)]
        for key, value in filters:
            term = tantivy.Query.term_query(schema, key, value)
            clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(term, 0.0)))
        main = tantivy.Query.boolean_query(clauses)
    return main, results


def search(
    index: SearchIndex,
    query: str,
    *,
    lang: str | None = None,
    exact: bool = False,
    limit: int = 10,
    offset: int = 0,
    rejected: bool = False,
    source: str | None = None,
) -> Results:
    """The LIMIT best documents for QUERY (from OFFSET), kept ones only unless REJECTED."""
    if limit < 1 or offset < 0:  # tantivy panics on a limit of 0
        raise ConfigError(f"--limit {limit}, --offset {offset}: the limit must be at least 1, the offset at least 0")
    lang = resolve_lang(lang)
    tantivy_query, results = build_query(index, query, lang=lang, exact=exact, rejected=rejected, source=source)
    found = index.searcher.search(tantivy_query, limit, count=True, offset=offset)
    results.total = found.count or 0
    pattern = highlighter(results.phrase, [] if exact else results.words)
    for rank, (score, address) in enumerate(found.hits, start=offset + 1):
        doc = index.stored(address)
        results.hits.append(Hit(rank, score, doc, snippet(doc["text"], pattern)))
    return results


def _bounded(term: str) -> str:
    """A term as a pattern; words of spaced scripts must not match inside longer words."""
    escaped = regex.escape(term)
    return escaped if _UNSPACED_CHAR.search(term) else f"{_BEFORE}{escaped}{_AFTER}"


def highlighter(phrase: list[str], words: list[str]) -> regex.Pattern | None:
    """A pattern finding the query's PHRASE (its exact terms in order) or any of its WORDS in a text."""
    flags = regex.IGNORECASE | regex.FULLCASE | regex.V1
    alternatives = []
    if phrase:
        before = "" if _UNSPACED_CHAR.match(phrase[0]) else _BEFORE
        after = "" if _UNSPACED_CHAR.search(phrase[-1][-1]) else _AFTER
        alternatives.append(before + _GAP.join(regex.escape(w) for w in phrase) + after)
    alternatives += [_bounded(w) for w in sorted(dict.fromkeys(w for w in words if w), key=len, reverse=True)]
    return regex.compile("|".join(alternatives), flags) if alternatives else None


def snippet(text: str, pattern: regex.Pattern | None, width: int = SNIPPET_CHARS) -> list[tuple[str, bool]]:
    """The WIDTH characters of TEXT around its densest run of matches, as (text, is a match) parts."""
    spans = [m.span() for m in pattern.finditer(text)] if pattern is not None else []
    spans = [s for s in spans if s[1] > s[0]]
    if not spans:
        cut = _SPACES.sub(" ", text[:width])
        return [(cut + ("…" if len(text) > width else ""), False)]
    best = max(range(len(spans)), key=lambda i: sum(1 for s in spans[i:] if s[1] <= spans[i][0] + width))
    start = max(0, spans[best][0] - width // 5)
    if start:
        space = text.rfind(" ", max(0, start - 20), start)
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + width)
    parts: list[tuple[str, bool]] = [("…", False)] if start else []
    at = start
    for a, b in spans:
        if a < at or a >= end:
            continue
        b = min(b, end)
        if a > at:
            parts.append((text[at:a], False))
        parts.append((text[a:b], True))
        at = b
    if at < end:
        parts.append((text[at:end], False))
    if end < len(text):
        parts.append(("…", False))
    return [(_SPACES.sub(" ", part), match) for part, match in parts]
