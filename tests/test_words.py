"""Word splitting: offline backends per registry language, fallbacks, and linear time."""

from __future__ import annotations

import pytest

from rootstock.catalog.registry import load_registry
from rootstock.filters.words import LONG_RUN, split_words, tokenizer_name, unicode_words
from tests.timing import LINEAR_BOUND, growth


def test_every_language_has_a_named_offline_backend():
    for language in load_registry():
        name = tokenizer_name(language.code)
        # Only English may use spaCy's English rules: no language silently gets English behaviour.
        assert language.code == "en" or "SpaCyTokenizer(en)" not in name, (language.code, name)
        assert "Stanza" not in name or "unicode-words" in name, (language.code, name)
        if language.word_tokenizer:
            assert name.startswith(language.word_tokenizer) or "unicode-words" in name


def test_backends_of_the_main_languages():
    assert tokenizer_name("zhs").startswith("cmn_Hani: jieba") and tokenizer_name("zht") == tokenizer_name("zhs")
    assert "IndicNLPTokenizer(hi)" in tokenizer_name("hi")  # hin_Deva is not Stanza in datatrove 0.10
    assert "SpaCyTokenizer(ar)" in tokenizer_name("ar")
    assert "pyvi" in tokenizer_name("vi")
    assert "unicode-words" in tokenizer_name("wo") and "Stanza" in tokenizer_name("wo")
    assert "unicode-words" in tokenizer_name("python")
    with pytest.raises(ValueError, match="klingon"):
        split_words("x", "klingon")


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("en", "Hello, world!", ["Hello", "world"]),
        ("fr", "Le chat dort.", ["Le", "chat", "dort"]),
        ("ar", "هذه جملة.", ["هذه", "جملة"]),
        ("hi", "यह हिन्दी वाक्य है।", ["यह", "हिन्दी", "वाक्य", "है"]),
        ("vi", "Tôi là sinh viên.", ["Tôi", "là", "sinh viên"]),
        ("wo", "Naka nga def?", ["Naka", "nga", "def"]),
        ("zhs", "我爱北京。", ["我", "爱", "北京"]),
    ],
)
def test_split_words(lang, text, expected):
    assert split_words(text, lang) == expected


def test_unicode_fallback_keeps_marks_and_joins():
    assert unicode_words("हिन्दी में") == ["हिन्दी", "में"]  # stdlib \w would cut at each vowel sign
    assert unicode_words("l'homme vis-à-vis 3.14 snake_case") == ["l'homme", "vis-à-vis", "3.14", "snake_case"]
    assert unicode_words("日本語 !!! 😀") == ["日", "本", "語"]
    assert split_words("", "en") == [] and split_words("   ", "zhs") == []


def test_long_runs_bypass_the_backend():
    # spaCy re-scans a token per affix character: a 20k "!" token took minutes. Long runs go to
    # the regex splitter, and what they contain is still split sensibly.
    run = "word" + "!" * (LONG_RUN + 5) + "tail"
    assert split_words(f"Hello {run} there", "en") == ["Hello", "word", "tail", "there"]


@pytest.mark.parametrize("lang", ["en", "vi", "zhs", "hi"])
def test_split_words_grows_linearly(lang):
    cases = {
        "punctuation run": lambda n: "!" * n,
        "a.a.a.": lambda n: "a." * (n // 2),
        "words": lambda n: "ab, " * (n // 4),
    }
    split_words("warm up", lang)
    for name, make in cases.items():
        ratio = growth(lambda t: split_words(t, lang), make, 2_000)
        assert ratio < LINEAR_BOUND, f"{lang} {name}: {ratio:.1f}"
