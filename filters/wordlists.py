"""Stop-word and flagged-word lists per registry language, shipped as files with their origin.

A language without a list gets None and its check is disabled rather than run with English
lists: ROOTS ran these checks only for the 13 languages it had built lists for
(bigscience-workshop/data-preparation `preprocessing/training/01b_oscar_cleaning_and_filtering/`
`languages_id.py`, `stopwords.py`, `flagged_words.py`). The lists are read from
`filters/assets/` so runs do not depend on which version of a word-list package a worker has.

Stop words come from stopwords-iso (`stopwordsiso` package); Traditional Chinese is the Chinese
list converted with OpenCC when the files are built (`python -m filters.wordlists build`, which
needs `stopwordsiso` and `opencc`; loading needs neither). Flagged words are short lists written
for rootstock (see each file's header). As in ROOTS, a language's flagged list is its own terms
plus the English list, because porn spam is largely English-language vocabulary whatever the
language of the page.
"""

from __future__ import annotations

import functools
import importlib.metadata as md
import unicodedata
from pathlib import Path

from rootstock.catalog.registry import UNDETERMINED, load_registry

ASSETS = Path(__file__).with_name("assets")
STOPWORDS_DIR = ASSETS / "stopwords"
FLAGGED_DIR = ASSETS / "flagged_words"
MISSING = "missing (check disabled)"


def _code(lang: str) -> str:
    if lang == UNDETERMINED:  # no language, no list
        return lang
    code = load_registry().resolve(lang)
    if code is None:
        raise ValueError(f"unknown language {lang!r}: not in the language registry")
    return code


def _read(path: Path) -> tuple[dict[str, str], list[str]]:
    """Header fields (`# key: value`) and words of a list file."""
    header: dict[str, str] = {}
    words: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep and key.strip() and " " not in key.strip():
                header.setdefault(key.strip(), value.strip())
            continue
        word = line.strip()
        if word:
            words.append(word)
    return header, words


def _as_set(words: list[str]) -> frozenset[str]:
    # Matching is on lowercased document words that are never Unicode-normalised (as in ROOTS):
    # keep both NFC and NFD spellings so "bẹ̀rẹ̀" matches however the page encoded its tone marks.
    out = set()
    for word in words:
        word = word.lower()
        out.update({word, unicodedata.normalize("NFC", word), unicodedata.normalize("NFD", word)})
    return frozenset(out)


@functools.cache
def stopwords(lang: str) -> frozenset[str] | None:
    """Stop words of a registry language (lowercased), or None when no list exists."""
    path = STOPWORDS_DIR / f"{_code(lang)}.txt"
    if not path.exists():
        return None
    return _as_set(_read(path)[1])


@functools.cache
def flagged_words(lang: str) -> frozenset[str] | None:
    """Porn/sexual-spam terms of a registry language plus the English list, or None."""
    code = _code(lang)
    path = FLAGGED_DIR / f"{code}.txt"
    if not path.exists():
        return None
    words = _read(path)[1]
    if code != "en":
        words += _read(FLAGGED_DIR / "en.txt")[1]
    return _as_set(words)


@functools.cache
def wordlist_sources() -> dict[str, dict[str, str]]:
    """Per registry language, where its stop-word and flagged-word lists come from (for the manifest)."""
    out: dict[str, dict[str, str]] = {}
    for code in [*(language.code for language in load_registry()), UNDETERMINED]:
        entry = {}
        for kind, directory in (("stopwords", STOPWORDS_DIR), ("flagged_words", FLAGGED_DIR)):
            path = directory / f"{code}.txt"
            if not path.exists():
                entry[kind] = MISSING
                continue
            source = _read(path)[0].get("source", "unrecorded")
            if kind == "flagged_words" and code != "en":
                source += " + the English list (as ROOTS prepended its English list)"
            entry[kind] = f"{path.relative_to(ASSETS.parent.parent)}: {source}"
        out[code] = entry
    return out


def __getattr__(name: str):
    # WORDLIST_SOURCES reads the asset headers on first use, not at import.
    if name == "WORDLIST_SOURCES":
        return wordlist_sources()
    raise AttributeError(name)


# --- building the stop-word files (maintainers only) ---------------------------------------------

_OPENCC_CONFIGS = ("s2t", "s2tw", "s2hk")


def build_stopword_files(directory: Path = STOPWORDS_DIR) -> list[Path]:
    """Write one stop-word file per registry language that stopwords-iso covers."""

    import opencc  # noqa: PLC0415 - the `wordlists` extra, only to regenerate the files
    import stopwordsiso  # noqa: PLC0415 - the `wordlists` extra

    sw_version = md.version("stopwordsiso")
    cc_version = md.version("opencc")
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for language in load_registry().natural():
        iso = language.iso639_1
        if not iso or not stopwordsiso.has_lang(iso):
            continue
        words = {w.strip().lower() for w in stopwordsiso.stopwords(iso) if w.strip()}
        source = f"stopwordsiso {sw_version}, list {iso!r}"
        if language.script == "Hant":
            # Chinese has one stopwords-iso list, in Simplified characters. Taiwan and Hong Kong
            # spell some characters differently from OpenCC's standard form (為/爲, 裡/裏), so the
            # Traditional list is the union of the three conversions.
            converted = set()
            for config in _OPENCC_CONFIGS:
                converter = opencc.OpenCC(config)
                converted.update(converter.convert(w) for w in words)
            words = converted
            source += f", converted to Traditional with opencc {cc_version} ({' ∪ '.join(_OPENCC_CONFIGS)})"
        path = directory / f"{language.code}.txt"
        header = [
            f"# rootstock stop words for {language.code} ({language.name})",
            f"# source: {source}",
            "# licence: MIT (stopwords-iso, https://github.com/stopwords-iso)",
            f"# lowercased, one word per line, {len(words)} words; regenerate with: python -m filters.wordlists build",
        ]
        path.write_text("\n".join(header + sorted(words)) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["build"]:
        sys.exit("usage: python -m filters.wordlists build")
    for p in build_stopword_files():
        print(p)
