"""Multilingual word splitting that works offline and never quietly treats a language as English.

Each registry language names a datatrove word-tokenizer key (`<iso639-3>_<Script>`, e.g. `cmn_Hani`).
We use the backend datatrove assigns to that key when it runs offline from installed packages:
spaCy blank pipelines for most languages, indic-nlp-library for the Indic scripts, jieba for
Chinese and pyvi for Vietnamese. Backends that fetch models at run time (Stanza: Wolof here)
and languages without a key (programming languages) get `unicode_words`, a script-aware regex
splitter. A backend whose package is missing raises instead of degrading, so every worker splits
the same way; `tokenizer_name` says which backend (and package versions) a language got.

Two things the libraries do badly on web text, handled here by hand:
  - spaCy aligns jieba's and pyvi's output with `util.get_words_and_spaces`, which re-slices the
    rest of the text for every word: quadratic (0.5 s for 100k Chinese characters, ~50 s for
    a megabyte). We call jieba directly and use spaCy-vi's own `pyvi_tokenize`, which is linear.
  - spaCy's affix splitting re-scans a token once per prefix/suffix character (a 20,000-"!"
    token took 70 s), and pyvi's e-mail pattern backtracks on "a.a.a.…". Whitespace-free runs
    longer than LONG_RUN characters therefore go to `unicode_words` instead of the backend.

Tokenizers are built lazily, once per process and language (functools.cache), so the functions
here pickle as plain module references and each worker builds its own.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
from collections.abc import Callable

import regex

from rootstock.catalog.registry import UNDETERMINED, load_registry
from rootstock.filters.scripts import PER_CHAR_CLASS, PER_CHAR_WORD

# datatrove tokenizer classes that download models on first use: never used here.
_DOWNLOADING_BACKENDS = frozenset({"StanzaTokenizer"})
# Longest whitespace-free run handed to a spaCy/pyvi/IndicNLP backend (see module docstring).
LONG_RUN = 40

# Scripts written without spaces (filters/scripts.py): the fallback emits one token per letter,
# mark or digit of them (crude but honest; the registry's Chinese entries use jieba instead).
# Any other word is a run of letters, marks (Devanagari vowel signs, Arabic harakat), digits,
# connector punctuation (snake_case identifiers) and the zero-width (non-)joiners that Indic and
# Arabic-script spelling uses, optionally joined by an apostrophe, hyphen or dot ("l'homme",
# "vis-à-vis", "3.14"). The stdlib `re` can't do this: its `\w` has no marks and splits "हिन्दी"
# at every vowel sign.
_WORD_CHARS = rf"[[\p{{L}}\p{{M}}\p{{N}}\p{{Pc}}\u200c\u200d]--[{PER_CHAR_CLASS}]]"
_UNICODE_WORD = regex.compile(rf"(?V1){PER_CHAR_WORD}|{_WORD_CHARS}+(?:['’\-.]{_WORD_CHARS}+)*")
_HAS_WORD_CHAR = regex.compile(r"[\p{L}\p{M}\p{N}]")
_LONG_RUN_RE = regex.compile(rf"(\S{{{LONG_RUN + 1},}})")


def unicode_words(text: str) -> list[str]:
    """Script-aware regex split: the offline fallback for backends that would download models."""
    return _UNICODE_WORD.findall(text)


def _language(lang: str):
    registry = load_registry()
    code = registry.resolve(lang)
    if code is None:
        raise ValueError(f"unknown language {lang!r}: not in the language registry")
    return registry[code]


def _versions(*packages: str) -> str:
    found = []
    for package in packages:
        try:
            found.append(f"{package}=={importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{package} (not installed)")
    return ", ".join(found)


def _jieba() -> Callable[[str], list[str]]:
    import jieba  # noqa: PLC0415 - loaded only for the languages that use it

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()  # load the bundled dictionary now, not inside the first bundle
    return jieba.lcut


def _spacy_vi() -> Callable[[str], list[str]]:
    import spacy  # noqa: PLC0415 - spaCy takes seconds to import; only some languages use it

    # The blank Vietnamese pipeline segments with pyvi (bundled CRF model); call its segmenter
    # without the quadratic alignment step that building a spaCy Doc adds.
    return spacy.blank("vi").tokenizer.pyvi_tokenize


def _datatrove(factory) -> Callable[[str], list[str]]:
    return factory().word_tokenize


@functools.cache
def _backend(code: str) -> tuple[str, Callable[[], Callable[[str], list[str]]] | None, bool]:
    """(name for the manifest, builder or None for the fallback, guard long runs?), no instantiation."""
    from datatrove.utils.word_tokenizers import load_tokenizer_assignments  # noqa: PLC0415 - datatrove takes seconds to import; read once

    if code == UNDETERMINED:
        return "rootstock unicode-words (undetermined language)", None, False
    key = load_registry()[code].word_tokenizer
    if not key:
        return "rootstock unicode-words (no word-tokenizer key)", None, False
    factory = load_tokenizer_assignments().get(key)
    if factory is None:
        raise ValueError(f"{code}: datatrove has no word tokenizer for key {key!r}")
    # datatrove stores functools.partial(wrapper, class_name, tok_code): read it, don't call it.
    class_name, tok_code = factory.args
    if class_name in _DOWNLOADING_BACKENDS:
        return f"rootstock unicode-words ({key} is {class_name}, which downloads models)", None, False
    if (class_name, tok_code) == ("SpaCyTokenizer", "zh"):
        return f"{key}: jieba, called directly [{_versions('jieba')}]", _jieba, False
    if (class_name, tok_code) == ("SpaCyTokenizer", "vi"):
        return f"{key}: spaCy vi pyvi_tokenize [{_versions('spacy', 'pyvi')}]", _spacy_vi, True
    package = {
        "SpaCyTokenizer": "spacy",
        "WhitespaceTokenizer": "spacy",
        "IndicNLPTokenizer": "indic-nlp-library",
        "ThaiTokenizer": "pythainlp",
        "KiwiTokenizer": "kiwipiepy",
    }.get(class_name, "datatrove")
    name = f"{key}: datatrove {class_name}({tok_code}) [{_versions(package)}]"
    return name, functools.partial(_datatrove, factory), True


@functools.cache
def _tokenizer(code: str) -> tuple[Callable[[str], list[str]], bool]:
    name, build, guard = _backend(code)
    if build is None:
        return unicode_words, False
    try:
        tokenize = build()
        tokenize("a")  # spaCy and friends build lazily: surface a missing package here
    except ImportError as err:
        raise ImportError(f"{code}: word tokenizer {name} needs a package that is not installed: {err}") from err
    return tokenize, guard


def _code(lang: str) -> str:
    return lang if lang == UNDETERMINED else _language(lang).code


def tokenizer_name(lang: str) -> str:
    """Which backend splits `lang` (with package versions), for the run manifest."""
    return _backend(_code(lang))[0]


def split_words(text: str, lang: str) -> list[str]:
    """Words of `text` in registry language `lang` (or "und"); tokens with no letter or digit are dropped."""
    tokenize, guard = _tokenizer(_code(lang))
    if tokenize is unicode_words:
        return unicode_words(text)
    if not text.strip():
        return []
    if not guard:
        tokens = tokenize(text)
    else:
        tokens = []
        # split() with a group alternates [ordinary text, long run, ordinary text, ...]
        for i, part in enumerate(_LONG_RUN_RE.split(text)):
            if i % 2:
                tokens.extend(unicode_words(part))
            elif part.strip():
                tokens.extend(tokenize(part))
    return [t for t in tokens if not t.isspace() and _HAS_WORD_CHAR.search(t)]
