"""ROOTS per-source cleaning: the text logic of the steps a catalogue entry lists under `clean:`.

BigScience cleaned each catalogue dataset with named steps before filtering
(bigscience-workshop/data-preparation, preprocessing/training/01a_catalogue_cleaning_and_filtering/
clean.py and clean_helpers/: filter_wiki_meta.py, filter_small_docs_in_datasets.py, clean_lines.py,
deduplication.py). Each function below is one of them, defined as ROOTS defined it; where this
module departs from ROOTS its docstring says so and why. The step models (names, parameters,
order) are in catalog/entry.py; the `clean` stage runs them (pipeline/stages/clean.py).
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import ftfy
import orjson

from rootstock.catalog.entry import (
    DedupPseudocrawlNewspapers,
    FixMojibake,
    RemoveEmptyDocs,
    RemoveLines,
    SmallDocs,
    SmallDocsBytes,
    WikiNonTextType,
    WikiUserTitles,
)
from rootstock.filters.dedup import line_hash

# ftfy's TextFixerConfig with only the fixes that undo a wrong decoding (mojibake, a lost 0xA0,
# lossy sequences, C1 controls, surrogates). ftfy's other defaults rewrite correct text (curly
# quotes, full-width letters, ligatures, line breaks, NFC), which is not this step's job; an entry
# can turn them on with `options`.
FTFY_DEFAULTS: dict[str, Any] = {
    "unescape_html": False,
    "remove_terminal_escapes": False,
    "fix_encoding": True,
    "restore_byte_a0": True,
    "replace_lossy_sequences": True,
    "decode_inconsistent_utf8": True,
    "fix_c1_controls": True,
    "fix_latin_ligatures": False,
    "fix_character_width": False,
    "uncurl_quotes": False,
    "fix_line_breaks": False,
    "fix_surrogates": True,
    "remove_control_chars": False,
    "normalization": None,
    "explain": False,
}


# --- filters: True means the document goes ------------------------------------------------------


def is_empty(text: str) -> bool:
    """filter_remove_empty_docs: nothing but whitespace (`len(text.strip()) > 0` keeps)."""
    return not text.strip()


def too_few_words(text: str, min_words: int) -> bool:
    """filter_small_docs: fewer than MIN_WORDS words, split on single spaces as ROOTS did
    (`len(text.split(" ")) >= min_word` keeps), so newlines and tabs do not separate words."""
    return len(text.split(" ")) < min_words


def too_few_bytes(text: str, min_bytes: int) -> bool:
    """filter_small_docs_bytes_N: under MIN_BYTES bytes of UTF-8 (`len(text.encode()) >= min_bytes` keeps)."""
    return len(text.encode("utf-8")) < min_bytes


def meta_value(meta: dict[str, Any], name: str) -> str | None:
    """A string field of a document's meta, or None when the record did not have it."""
    value = meta.get(name)
    return value if isinstance(value, str) else None


def is_user_title(title: str, prefixes: Iterable[str]) -> bool:
    """filter_wiki_user_titles: the page title starts with "User " (case-sensitive, as ROOTS)."""
    return any(title.startswith(prefix) for prefix in prefixes)


def is_non_text_type(kind: str, types: Iterable[str]) -> bool:
    """filter_wiki_non_text_type: the wiki record's type is not "text"."""
    return kind not in types


# --- modifications ------------------------------------------------------------------------------


def remove_lines_containing(text: str, substrings: Iterable[str]) -> str:
    """build_line_with_substring_remover: lines (split on "\\n") containing any of SUBSTRINGS go;
    the other lines are joined back unchanged."""
    bad = tuple(substrings)
    return "\n".join(line for line in text.split("\n") if not any(s in line for s in bad))


def fix_mojibake(text: str, options: dict[str, Any] | None = None) -> str:
    """ftfy's repair of text decoded with the wrong codec (not a ROOTS step): FTFY_DEFAULTS,
    overridden by OPTIONS (TextFixerConfig fields)."""
    config = ftfy.TextFixerConfig(**{**FTFY_DEFAULTS, **(options or {})})
    return ftfy.fix_text(text, config)


# dedup_pseudocrawl_newspapers = build_dedup_template(min_template_line_size=0,
# min_template_line_occurence=2): every line of a source's documents (stripped) is hashed, the
# occurrences of each are counted over the source, and lines occurring at least twice are removed.


def repeated_line_candidates(text: str, min_chars: int) -> list[int]:
    """Hashes of the lines the step counts, one per occurrence (a line twice in one document
    counts twice, as in ROOTS). Blank lines are not counted: ROOTS counted them too (length
    0 ≥ min_template_line_size 0), which deleted every paragraph break of the source."""
    return [line_hash(s) for s in (line.strip() for line in text.split("\n")) if s and len(s) >= min_chars]


def remove_repeated_lines(text: str, repeated: set[int] | frozenset[int], min_chars: int) -> str:
    """TEXT without the lines whose stripped form is in REPEATED; other lines are kept as they
    were (ROOTS kept them stripped) so indentation and paragraph breaks survive."""
    kept, removed = [], False
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped and len(stripped) >= min_chars and line_hash(stripped) in repeated:
            removed = True
            continue
        kept.append(line)
    return "\n".join(kept).strip() if removed else text


_NON_LETTERS = re.compile(rf"\s+|\d+|[{re.escape(string.punctuation)}]")


def document_key(text: str) -> bytes:
    """ROOTS's dedup_document key (document_batch_normalizer: whitespace, digits and ASCII
    punctuation removed, then hashed). ROOTS ran dedup_document before
    dedup_pseudocrawl_newspapers, so lines are counted once per distinct document: a page
    crawled twice would otherwise lose every line as "repeated" and vanish entirely."""
    return hashlib.blake2b(_NON_LETTERS.sub("", text).encode("utf-8"), digest_size=16).digest()


# --- a document through a list of steps ------------------------------------------------------------


@dataclass
class Outcome:
    """What the steps did to one document: its text, the step that dropped it (if any), and per
    modification step that ran (step, bytes removed); bytes removed is None for a step that
    could not be applied (the meta field it reads is missing)."""

    text: str
    dropped_by: str | None = None
    edits: list[tuple[str, int | None]] = field(default_factory=list)


def _nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


def apply_steps(text: str, meta: str | dict[str, Any] | None, steps: list[Any], lang_min_bytes: int | None) -> Outcome:
    """TEXT through STEPS (catalog.entry models, already in CLEAN_ORDER), stopping at the first
    that drops it. A modification that leaves nothing drops the document under its own name.

    LANG_MIN_BYTES is what `small_docs_bytes: registry` means for this document: the registry's
    `min_doc_bytes` of its language (None: no size filter). `dedup_pseudocrawl_newspapers` needs
    the whole source and is run by the stage between two calls of this function.
    """
    out = Outcome(text)
    parsed: dict[str, Any] | None = None
    for step in steps:
        name = step.step
        if isinstance(step, WikiUserTitles | WikiNonTextType):
            if parsed is None:
                parsed = _meta(meta)
            value = meta_value(parsed, step.field)
            if value is None:
                out.edits.append((name, None))
            elif (isinstance(step, WikiUserTitles) and is_user_title(value, step.prefixes)) or (
                isinstance(step, WikiNonTextType) and is_non_text_type(value, step.types)
            ):
                out.dropped_by = name
                return out
        elif isinstance(step, RemoveEmptyDocs):
            if is_empty(out.text):
                out.dropped_by = name
                return out
        elif isinstance(step, SmallDocs):
            if too_few_words(out.text, step.min_words):
                out.dropped_by = name
                return out
        elif isinstance(step, SmallDocsBytes):
            floor = lang_min_bytes if step.min_bytes == "registry" else step.min_bytes
            if floor and too_few_bytes(out.text, floor):
                out.dropped_by = name
                return out
        elif isinstance(step, FixMojibake | RemoveLines):
            if isinstance(step, FixMojibake):
                new = fix_mojibake(out.text, step.options)
            else:
                new = remove_lines_containing(out.text, step.substrings)
            if new != out.text:
                out.edits.append((name, _nbytes(out.text) - _nbytes(new)))
                out.text = new
                if is_empty(new):
                    out.dropped_by = name
                    return out
        elif isinstance(step, DedupPseudocrawlNewspapers):
            raise ValueError("dedup_pseudocrawl_newspapers needs the whole source: the stage runs it")
        else:  # pragma: no cover - a step model without logic
            raise TypeError(f"no cleaning logic for {name!r}")
    return out


def _meta(meta: str | dict[str, Any] | None) -> dict[str, Any]:
    if isinstance(meta, dict):
        return meta
    if not meta:
        return {}
    try:
        value = orjson.loads(meta)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
