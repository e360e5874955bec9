"""Word splitting: offline backends per registry language, fallbacks, and linear time."""

from __future__ import annotations

import unicodedata

import pytest

from rootstock.catalog.registry import Language, LanguageRegistry, load_registry
from rootstock.filters import minhash, quality, scripts, words
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


# Two sentences of scripts written without spaces that ROOTS's registry has no language for.
THAI = "ภาษาไทยเขียนติดกัน ไม่เว้นวรรคระหว่างคำ"  # "Thai is written joined up, no space between words"
KHMER = "ភាសាខ្មែរសរសេរជាប់គ្នា។"  # "Khmer is written joined up." (ends with the khan, a full stop)


def letters(text: str) -> list[str]:
    """One token per letter, mark or digit: the per-character treatment, by Unicode category."""
    return [c for c in text if unicodedata.category(c)[0] in "LMN"]


def test_one_definition_of_unspaced_scripts():
    assert {"Thai", "Laoo", "Khmr", "Mymr", "Hans", "Hant", "Jpan"} <= scripts.UNSPACED_SCRIPTS
    assert scripts.is_unspaced("Thai") and not scripts.is_unspaced("Latn") and not scripts.is_unspaced(None)
    # Tibetan is unspaced, but its tsheg already separates syllables: not split per character.
    assert scripts.is_unspaced("Tibt") and unicode_words("ཀུན་ལ་བདེ་བ།") == ["ཀུན", "ལ", "བདེ", "བ"]


@pytest.fixture
def thai_and_khmer(monkeypatch):
    """The registry plus Thai (th) and Khmer (km) entries without a word-tokenizer key."""
    extra = [
        Language(code="th", name="Thai", kind="natural", roots=False, iso639_1="th", iso639_3="tha", script="Thai"),
        Language(code="km", name="Khmer", kind="natural", roots=False, iso639_1="km", iso639_3="khm", script="Khmr"),
    ]
    registry = LanguageRegistry([*load_registry().languages, *extra])
    caches = (words._backend, words._tokenizer, quality._registry_thresholds, minhash.char_shingles)
    for module in (words, quality, minhash):
        monkeypatch.setattr(module, "load_registry", lambda: registry)
    for cache in caches:
        cache.cache_clear()
    yield
    for cache in caches:
        cache.cache_clear()


@pytest.mark.usefixtures("thai_and_khmer")
@pytest.mark.parametrize(("lang", "text"), [("th", THAI), ("km", KHMER)])
def test_thai_and_khmer_are_split_per_character_by_words_quality_and_minhash(lang, text):
    expected = letters(text)
    assert len(expected) > 20
    # words: the per-character fallback, alone and inside a document of another language
    assert "unicode-words" in tokenizer_name(lang)
    assert split_words(text, lang) == unicode_words(text) == expected
    assert split_words(f"He wrote {text} twice", "und") == ["He", "wrote", *expected, "twice"]
    # quality: an untuned unspaced language is segmented, not split at white space
    assert quality.roots_row(lang) == "default" and quality.thresholds_for(lang).tokenization
    assert quality.get_words(text, lang) == expected
    assert quality.number_of_words(text, lang) == len(expected)
    # minhash: character shingles for the language, per-character tokens inside other documents
    assert minhash.char_shingles(lang)
    assert minhash.tokens(text, lang) == minhash.tokens(text, "en") == expected
    assert minhash.shingles(text, lang).tolist() == minhash.shingles(text, "en").tolist()


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
