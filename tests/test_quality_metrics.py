"""ROOTS quality metrics pinned to hand-computed values, edge cases, and growth checks.

Every expected value is worked out by hand in the comment beside it, so a change of semantics
shows up as a failing number rather than a silently different corpus.
"""

from __future__ import annotations

import dataclasses
import pickle
import random
from fractions import Fraction

import pytest

from rootstock.catalog.registry import load_registry
from rootstock.filters import quality, wordlists
from rootstock.filters.quality import (
    FILTERS,
    Thresholds,
    character_repetition_ratio,
    compute_metrics,
    first_failure,
    flagged_word_ratio,
    get_words,
    modify_document,
    number_of_words,
    special_characters_ratio,
    stopword_ratio,
    thresholds_for,
    word_repetition_ratio,
)
from rootstock.filters.words import split_words
from tests.timing import LINEAR_BOUND, growth


def approx(fraction: Fraction | float):
    return pytest.approx(float(fraction), abs=1e-12)


# --- character repetition ---------------------------------------------------------------------


def test_char_repetition_latin():
    # "abcabcabc", n=3: 7 n-grams abc bca cab abc bca cab abc → abc 3, bca 2, cab 2.
    # distinct 3, seen once 0 → k = min(floor(sqrt 3)=1, 3-0) = 1 → top-1 = 3 → 3/7.
    assert character_repetition_ratio("abcabcabc", 3) == approx(Fraction(3, 7))
    # French "aaaab", n=2: aa aa aa ab → aa 3, ab 1; distinct 2, once 1 → k = min(1, 1) = 1 → 3/4.
    assert character_repetition_ratio("aaaab", 2) == approx(Fraction(3, 4))
    # "abcd", n=2: ab bc cd all seen once → k = min(1, 3-3=0) = 0 → 0.
    assert character_repetition_ratio("abcd", 2) == 0.0


def test_char_repetition_arabic():
    # "سلام سلام" = س ل ا م ␣ س ل ا م (9 chars), n=3 → 7 n-grams:
    # سلا لام "ام␣" "م␣س" "␣سل" سلا لام → سلا 2, لام 2, three seen once.
    # distinct 5, once 3 → k = min(floor(sqrt 5)=2, 5-3=2) = 2 → (2+2)/7.
    assert character_repetition_ratio("سلام سلام", 3) == approx(Fraction(4, 7))


def test_char_repetition_devanagari():
    # "नमस्ते नमस्ते": नमस्ते = न म स ् त े (6 code points) → 13 chars, n=3 → 11 n-grams:
    # नमस मस् स्त ्ते "ते␣" "े␣न" "␣नम" नमस मस् स्त ्ते → four n-grams twice, three once.
    # distinct 7, once 3 → k = min(floor(sqrt 7)=2, 7-3=4) = 2 → (2+2)/11.
    assert character_repetition_ratio("नमस्ते नमस्ते", 3) == approx(Fraction(4, 11))


def test_char_repetition_han():
    # "我爱北京我爱上海", n=3 (ROOTS zh): 我爱北 爱北京 北京我 京我爱 我爱上 爱上海, all once → 0.
    assert character_repetition_ratio("我爱北京我爱上海", 3) == 0.0
    # n=2: 我爱 爱北 北京 京我 我爱 爱上 上海 → 我爱 2, five once; distinct 6
    # → k = min(floor(sqrt 6)=2, 6-5=1) = 1 → 2/7.
    assert character_repetition_ratio("我爱北京我爱上海", 2) == approx(Fraction(2, 7))


def test_char_repetition_shorter_than_n():
    assert character_repetition_ratio("abc", 10) == 0.0  # no 10-gram at all
    assert character_repetition_ratio("", 10) == 0.0


# --- word repetition --------------------------------------------------------------------------


def test_word_repetition_lists():
    # English a b c a b d, n=2: ab bc ca ab bd → ab twice (2 of 5 bigrams are repeats) → 2/5.
    assert word_repetition_ratio(["a", "b", "c", "a", "b", "d"], 2) == approx(Fraction(2, 5))
    # Fewer words than n: no n-gram → 0.
    assert word_repetition_ratio(["only", "four", "words", "here"], 5) == 0.0
    assert word_repetition_ratio([], 5) == 0.0


def test_word_repetition_through_roots_words():
    # French "Le chat, le CHAT!": words lowercased and stripped → le chat le chat;
    # n=2: (le chat) (chat le) (le chat) → (le chat) twice → 2/3.
    words = get_words("Le chat, le CHAT!", "fr")
    assert words == ["le", "chat", "le", "chat"]
    assert word_repetition_ratio(words, 2) == approx(Fraction(2, 3))
    # Arabic في البيت في البيت الكبير, n=2: (في البيت)×2, (البيت في), (البيت الكبير) → 2/4.
    ar = get_words("في البيت في البيت الكبير", "ar")
    assert word_repetition_ratio(ar, 2) == approx(Fraction(1, 2))
    # Hindi मैं घर जाता हूँ मैं घर, n=2: (मैं घर)×2, (घर जाता), (जाता हूँ), (हूँ मैं) → 2/5.
    hi = get_words("मैं घर जाता हूँ मैं घर", "hi")
    assert hi == ["मैं", "घर", "जाता", "हूँ", "मैं", "घर"]  # vowel signs and nasal marks kept
    assert word_repetition_ratio(hi, 2) == approx(Fraction(2, 5))
    # Chinese words from the segmenter: 我 爱 北京 我 爱 北京, n=2 → (我 爱)×2, (爱 北京)×2, (北京 我)
    # → 4 of 5 bigrams are repeats → 4/5.
    assert word_repetition_ratio(["我", "爱", "北京", "我", "爱", "北京"], 2) == approx(Fraction(4, 5))


# --- special characters -----------------------------------------------------------------------


def test_special_characters_latin():
    # "Hello, world! 123": 17 chars; special , ␣ ! ␣ 1 2 3 = 7 (digits and spaces count) → 7/17.
    assert special_characters_ratio("Hello, world! 123") == approx(Fraction(7, 17))
    # French "« Ça va ? » — oui.": 18 chars; special « ␣ ␣ ␣ ? ␣ » ␣ — ␣ . = 11 → 11/18.
    assert special_characters_ratio("« Ça va ? » — oui.") == approx(Fraction(11, 18))


def test_special_characters_other_scripts():
    # Arabic "مرحبا، عالم": 11 chars; the Arabic comma ، and the space are special → 2/11.
    assert special_characters_ratio("مرحبا، عالم") == approx(Fraction(2, 11))
    # ROOTS's symbol list contains ه, so "الله" (ا ل ل ه) is 1/4 special: kept for comparable ratios.
    assert special_characters_ratio("الله") == approx(Fraction(1, 4))
    # Hindi "नमस्ते" = न म स ् त े: ROOTS lists the virama ् and the vowel sign े → 2/6.
    assert special_characters_ratio("नमस्ते") == approx(Fraction(1, 3))
    # Chinese "你好，世界。": fullwidth comma and 。 are special → 2/6.
    assert special_characters_ratio("你好，世界。") == approx(Fraction(1, 3))
    # Emoji: "ok 😀👍🏽" = o k ␣ 😀 👍 🏽 → space, two emoji and the skin-tone modifier → 4/6.
    assert special_characters_ratio("ok 😀👍🏽") == approx(Fraction(2, 3))


def test_special_character_set_contents():
    for c in "!0 \n«—，。😀🏽\ufe0f":
        assert c in quality.SPECIAL_CHARACTERS, repr(c)
    assert "\u200d" not in quality.SPECIAL_CHARACTERS  # ZWJ is spelling in Indic/Arabic scripts
    assert "a" not in quality.SPECIAL_CHARACTERS
    # Letters and vowel signs of ROOTS's list are counted but never stripped off words.
    for c in "ाीे्ाهンー一":
        assert c in quality.SPECIAL_CHARACTERS and c not in quality.STRIP_CHARACTERS


# --- number of words --------------------------------------------------------------------------


def test_number_of_words():
    # "Hello, world! -- 123 ..." splits into Hello, | world! | -- | 123 | ... ; stripping special
    # characters (digits included) leaves Hello, world and three empties → 2.
    assert number_of_words("Hello, world! -- 123 ...", "en") == 2
    # Arabic "مرحبا، عالم !": مرحبا (، stripped), عالم, and "!" → empty → 2.
    assert number_of_words("مرحبا، عالم !", "ar") == 2
    # Hindi "यह एक वाक्य है।": four pieces; the danda is not in ROOTS's special set, so "है।" stays a word → 4.
    assert number_of_words("यह एक वाक्य है।", "hi") == 4
    # Chinese has no spaces: segmented 我 / 爱 / 北京 / 。 and the 。 stripped → 3.
    assert number_of_words("我爱北京。", "zhs") == 3
    # Pieces are split on " ", "\n" and "\t" only (as ROOTS): "a\rb" is one word.
    assert number_of_words("a\rb\tc\nd  e", "en") == 4


# --- stop words and flagged words ---------------------------------------------------------------


def test_stopword_ratio_hand_lists():
    # 4 words, list {the, on}: the, on → 2/4.
    assert stopword_ratio(["the", "cat", "on", "mat"], frozenset({"the", "on"})) == approx(Fraction(1, 2))
    # Chinese augmentation ((2,), ""): words 我 们 在 北京, bigrams 我们 们在 在北京;
    # list {我们, 在}: 在 (word) + 我们 (bigram) = 2 hits / 4 words → 1/2.
    zh = stopword_ratio(["我", "们", "在", "北京"], frozenset({"我们", "在"}), ((2,), ""))
    assert zh == approx(Fraction(1, 2))
    # Vietnamese augmentation ((2,), " "): words tôi là bao giờ; bigrams "tôi là" "là bao" "bao giờ";
    # list {là, bao giờ}: là + "bao giờ" = 2 / 4 → 1/2. Without augmentation only là → 1/4.
    vi_words, vi_list = ["tôi", "là", "bao", "giờ"], frozenset({"là", "bao giờ"})
    assert stopword_ratio(vi_words, vi_list, ((2,), " ")) == approx(Fraction(1, 2))
    assert stopword_ratio(vi_words, vi_list) == approx(Fraction(1, 4))
    # Capped at 1: words a a, bigram "a a"; all three hit → 3/2 → 1.
    assert stopword_ratio(["a", "a"], frozenset({"a", "a a"}), ((2,), " ")) == 1.0
    assert stopword_ratio([], frozenset({"a"})) == 0.0


def test_stopword_ratio_real_lists():
    # English "The cat is on the mat": the cat is on the mat; stopwords-iso en has the, is, on
    # but not cat, mat → 4/6.
    en = compute_metrics("The cat is on the mat.", "en")
    assert en["stopwords_ratio"] == approx(Fraction(2, 3))
    # French "Le chat est sur la table": le, est, sur, la are stop words, chat and table not → 4/6.
    fr = compute_metrics("Le chat est sur la table.", "fr")
    assert fr["stopwords_ratio"] == approx(Fraction(2, 3))
    # Hindi "यह एक वाक्य है": यह, एक, है are in the hi list, वाक्य is not → 3/4. (With ROOTS's own
    # stripping the final vowel sign of हूँ-like words would be cut and never match.)
    hi = compute_metrics("यह एक वाक्य है", "hi")
    assert hi["stopwords_ratio"] == approx(Fraction(3, 4))


def test_flagged_word_ratio():
    # "free porn videos xxx": porn, xxx flagged → 2/4.
    assert compute_metrics("free porn videos xxx", "en")["flagged_words_ratio"] == approx(Fraction(1, 2))
    # French list includes the English list (as ROOTS): porno (fr) + xxx (en) → 2/4.
    assert compute_metrics("vidéos porno gratuites xxx", "fr")["flagged_words_ratio"] == approx(Fraction(1, 2))
    # Hand list with augmentation: words a b c, bigrams "a b" "b c"; list {"a b"} → 1/3.
    assert flagged_word_ratio(["a", "b", "c"], frozenset({"a b"}), ((2,), " ")) == approx(Fraction(1, 3))


def test_languages_without_lists_never_get_english():
    english = wordlists.stopwords("en")
    for language in load_registry().natural():
        sw = wordlists.stopwords(language.code)
        metrics = compute_metrics("the and of to a in is it that", language.code)
        if sw is None:
            assert metrics["stopwords_ratio"] is None, language.code
        else:
            assert language.code == "en" or sw != english, language.code
            assert language.code == "en" or "the" not in sw, language.code
        if wordlists.flagged_words(language.code) is None:
            assert metrics["flagged_words_ratio"] is None, language.code
    # Languages with no stopwords-iso list: check disabled, not replaced.
    for code in ("ta", "ml", "te", "ne", "kn", "pa", "or", "as", "wo", "ig", "ak"):
        assert wordlists.stopwords(code) is None
        assert wordlists.wordlist_sources()[code]["stopwords"] == wordlists.MISSING


def test_wordlists_have_their_origin():
    sources = wordlists.wordlist_sources()
    assert set(sources) == {lang.code for lang in load_registry()} | {"und"}
    assert sources["und"] == {"stopwords": wordlists.MISSING, "flagged_words": wordlists.MISSING}
    assert "opencc" in sources["zht"]["stopwords"]
    assert "stopwordsiso" in sources["sw"]["stopwords"]
    for code in ("en", "fr", "es", "pt"):
        assert wordlists.flagged_words(code) is not None
        assert "compiled for rootstock" in sources[code]["flagged_words"]
    assert wordlists.flagged_words("sw") is None
    # Traditional Chinese list is really Traditional (and keeps the Taiwan/HK spellings).
    zht = wordlists.stopwords("zht")
    assert "為什麼" in zht and "为什么" not in zht and "为什么" in wordlists.stopwords("zhs")
    for path in wordlists.FLAGGED_DIR.glob("*.txt"):
        head = path.read_text(encoding="utf-8")
        assert "CC0-1.0" in head and "Not exhaustive" in head, path


# --- compute_metrics / first_failure ------------------------------------------------------------


def test_compute_metrics_keys_and_optional_inputs():
    m = compute_metrics("Some text here", "en", lang_score=0.93, perplexity=812.5)
    assert tuple(m) == quality.METRICS
    assert m["lang_id_score"] == 0.93 and m["perplexity"] == 812.5
    m = compute_metrics("Some text here", "en")
    assert m["lang_id_score"] is None and m["perplexity"] is None


def _passing_metrics(**changes):
    metrics = {
        "number_of_words": 100,
        "character_repetition_ratio": 0.0,
        "word_repetition_ratio": 0.0,
        "special_characters_ratio": 0.1,
        "stopwords_ratio": 0.5,
        "flagged_words_ratio": 0.0,
        "lang_id_score": 0.99,
        "perplexity": 100.0,
    }
    metrics.update(changes)
    return metrics


def test_first_failure_follows_roots_order():
    th = thresholds_for("en")
    assert first_failure(_passing_metrics(), th) is None
    everything_bad = _passing_metrics(
        number_of_words=1,
        character_repetition_ratio=0.9,
        word_repetition_ratio=0.9,
        special_characters_ratio=0.9,
        stopwords_ratio=0.0,
        flagged_words_ratio=0.9,
        lang_id_score=0.1,
        perplexity=1e9,
    )
    keys = list(quality.METRICS)
    # Fix the failures one at a time from the front: the reported filter walks the ROOTS order.
    for i, name in enumerate(FILTERS):
        assert first_failure(everything_bad, th) == name
        everything_bad[keys[i]] = _passing_metrics()[keys[i]]
    assert first_failure(everything_bad, th) is None
    # Upper bound on words too (en max 100,000).
    assert first_failure(_passing_metrics(number_of_words=100_001), th) == "number_of_words"


def test_first_failure_skips_disabled_checks():
    th = thresholds_for("en")
    # None-valued metrics are skipped, never failed: no stop-word list, no LID, no perplexity.
    metrics = _passing_metrics(stopwords_ratio=None, flagged_words_ratio=None, lang_id_score=None, perplexity=None)
    assert first_failure(metrics, th) is None
    # A None cutoff disables the check whatever the metric says.
    lax = thresholds_for("en", {"special_characters_max_cutoff": None})
    assert first_failure(_passing_metrics(special_characters_ratio=1.0), lax) is None
    # Boundaries are inclusive, as in ROOTS: en min words 20, stop-word min 0.30.
    assert first_failure(_passing_metrics(number_of_words=20, stopwords_ratio=0.30), th) is None
    assert first_failure(_passing_metrics(number_of_words=19), th) == "number_of_words"


def test_real_document_end_to_end():
    text = (
        "The river town of Alder Creek held its spring market on Saturday. Farmers brought early "
        "greens, honey and bread, and the school band played near the old bridge while children "
        "raced paper boats under it. Visit http://aldercreek.example.com for the full schedule."
    )
    th = thresholds_for("en")
    modified = modify_document(text, th)
    assert "http" not in modified
    metrics = compute_metrics(modified, "en", lang_score=0.95, perplexity=900.0)
    assert first_failure(metrics, th) is None
    assert first_failure(compute_metrics(modified, "en", lang_score=0.5), th) == "lang_id"


# --- thresholds -------------------------------------------------------------------------------


def test_thresholds_en_is_roots_row():
    # bigscience-workshop/data-preparation parameters_filtering.py, en row: min words 20 (max
    # 100,000), long word 25, char rep 0.106 (n=10), word rep 0.19 (n=5), special 0.40, stop words
    # ≥ 0.30, flagged ≤ 0.01, lang-id 0.80, PPL 1,500; both modification switches on, no
    # tokenization, no augmentation.
    assert thresholds_for("en") == Thresholds(
        number_words_min_cutoff=20,
        number_words_max_cutoff=100_000,
        character_repetition_length=10,
        character_repetition_max_cutoff=0.106,
        word_repetition_length=5,
        word_repetition_max_cutoff=0.19,
        special_characters_max_cutoff=0.40,
        stopwords_min_cutoff=0.30,
        flagged_words_max_cutoff=0.01,
        lang_id_min_cutoff=0.80,
        perplexity_max_cutoff=1500,
        length_word_max_cutoff=25,
        cond_remove_words_with_incorrect_substrings=True,
        cond_remove_long_words=True,
        tokenization=False,
        words_augmentation_group_sizes=(),
        words_augmentation_join_char="",
        incorrect_word_substrings=("http", "www", ".com", "href", "//"),
    )


def test_thresholds_other_rows():
    zhs, zht = thresholds_for("zhs"), thresholds_for("zht")
    assert zhs == zht  # ROOTS zh row for both scripts
    assert (zhs.character_repetition_length, zhs.tokenization, zhs.stopwords_min_cutoff) == (3, True, 0.1691)
    assert zhs.augmentation == ((2,), "") and zhs.number_words_max_cutoff == 1_000_000
    assert not zhs.cond_remove_long_words and not zhs.cond_remove_words_with_incorrect_substrings
    assert thresholds_for("vi").augmentation == ((2,), " ")
    assert thresholds_for("ur").word_repetition_length == 7
    assert thresholds_for("hi").special_characters_max_cutoff == 0.45
    # Untuned languages take ROOTS's default row, modification switched off.
    sw = thresholds_for("sw")
    assert quality.roots_row("sw") == "default" and quality.roots_row("fi") == "default"
    assert (sw.number_words_min_cutoff, sw.perplexity_max_cutoff, sw.cond_remove_long_words) == (10, 10_000, False)
    # Undetermined language ("und"): ROOTS's default row, no word lists, regex word splitting.
    assert (
        thresholds_for("und") == dataclasses.replace(sw, tokenization=False) and quality.roots_row("und") == "default"
    )
    und = compute_metrics("the cat and the hat", "und")
    assert und["number_of_words"] == 5 and und["stopwords_ratio"] is None and und["flagged_words_ratio"] is None
    # Aliases resolve through the registry.
    assert thresholds_for("eng") == thresholds_for("en")
    with pytest.raises(ValueError, match="klingon"):
        thresholds_for("klingon")


def test_threshold_overrides():
    th = thresholds_for(
        "fr", {"stopwords_min_cutoff": 0.2, "perplexity_max_cutoff": None, "words_augmentation_group_sizes": [2, 3]}
    )
    assert th.stopwords_min_cutoff == 0.2 and th.perplexity_max_cutoff is None
    assert th.words_augmentation_group_sizes == (2, 3)
    assert thresholds_for("fr").stopwords_min_cutoff == 0.27  # the cached row is untouched
    with pytest.raises(ValueError, match="stopword_min"):
        thresholds_for("fr", {"stopword_min": 0.2})
    with pytest.raises(ValueError, match="character_repetition_length"):
        thresholds_for("fr", {"character_repetition_length": 0})
    with pytest.raises(ValueError, match="cond_remove_long_words"):
        thresholds_for("fr", {"cond_remove_long_words": "yes"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        th.stopwords_min_cutoff = 0.5  # type: ignore[misc]


# --- document modification --------------------------------------------------------------------


def test_modify_document_urls_whitespace_structure():
    th = thresholds_for("en")
    text = "  Visit http://example.com now\tor www.site.org\n\nNBSP\u00a0here\u3000too  "
    # strip → NBSP/ideographic space → " " → per line/tab cell drop URL-ish words → re-join;
    # the empty line disappears, as in ROOTS.
    assert modify_document(text, th) == "Visit now\tor\nNBSP here too"
    # Substrings are looked for in the word stripped of special characters (ROOTS): "(href)" →
    # "href" goes, but "a//" → "a" and ".com." → "com" stay.
    assert modify_document("keep (href) this a// and .com. www.x.org", th) == "keep this a// and .com."


def test_modify_document_long_words():
    th = thresholds_for("en")  # cutoff 25
    long_word, wrapped = "x" * 26, "(" + "x" * 25 + ")"
    # 26 letters > 25: removed; "(…)" is 27 chars but 25 once stripped: kept; 30 "!" strip to nothing: removed.
    assert modify_document(f"a {long_word} b {wrapped} c {'!' * 30} d", th) == f"a b {wrapped} c d"
    assert modify_document("y" * 100_000, th) == ""  # one 100k-character line is one long word
    # French cutoff 45: a 40-letter word survives.
    assert modify_document("a " + "z" * 40, thresholds_for("fr")) == "a " + "z" * 40


def test_modify_document_switches_off():
    # Default row (sw) and zh: only strip + uniform whitespace; URLs, long words, blank lines stay.
    text = " habari http://x.com\u00a0" + "w" * 60 + "\n\nmwisho "
    assert modify_document(text, thresholds_for("sw")) == "habari http://x.com " + "w" * 60 + "\n\nmwisho"
    assert modify_document("   ", thresholds_for("en")) == ""
    assert modify_document("", thresholds_for("zhs")) == ""


# --- edge cases -------------------------------------------------------------------------------


def test_empty_text():
    m = compute_metrics("", "en")
    assert m["number_of_words"] == 0
    assert m["character_repetition_ratio"] == m["word_repetition_ratio"] == m["special_characters_ratio"] == 0.0
    assert m["stopwords_ratio"] == 0.0 and m["flagged_words_ratio"] == 0.0
    assert first_failure(m, thresholds_for("en")) == "number_of_words"
    assert compute_metrics("", "zhs")["number_of_words"] == 0


def test_only_punctuation():
    m = compute_metrics("!!! ... ??? —", "en")
    # 13 chars, all special; no word survives stripping.
    assert m["number_of_words"] == 0 and m["special_characters_ratio"] == 1.0
    assert m["word_repetition_ratio"] == 0.0 and m["stopwords_ratio"] == 0.0


def test_emoji_run():
    m = compute_metrics("😀" * 1000, "en")
    # 1000 identical code points: every 10-gram is the same → distinct 1, k = min(1, 1) = 1 → 991/991.
    assert m["character_repetition_ratio"] == 1.0
    assert m["special_characters_ratio"] == 1.0 and m["number_of_words"] == 0


def test_single_long_line():
    text = "a" * 100_000
    m = compute_metrics(text, "en")
    assert m["number_of_words"] == 1 and m["character_repetition_ratio"] == 1.0
    assert m["word_repetition_ratio"] == 0.0 and m["special_characters_ratio"] == 0.0


def test_chinese_is_segmented():
    words = split_words("我们在北京大学学习自然语言处理", "zhs")
    assert len(words) > 1 and "".join(words) == "我们在北京大学学习自然语言处理"
    assert len(split_words("我們在北京大學學習自然語言處理", "zht")) > 1
    assert compute_metrics("我们在北京大学学习自然语言处理。", "zhs")["number_of_words"] > 1


def test_functions_pickle_by_reference():
    for fn in (compute_metrics, first_failure, modify_document, split_words):
        assert pickle.loads(pickle.dumps(fn)) is fn
    assert pickle.loads(pickle.dumps(thresholds_for("vi"))) == thresholds_for("vi")


# --- growth: no metric may be super-linear ------------------------------------------------------

_rng = random.Random(1234)
_RANDOM_ASCII = "".join(_rng.choice("abcdefghijklmnopqrstuvwxyz ,.!?0123456789\n") for _ in range(100_000))
_RANDOM_HAN = "".join(chr(_rng.randint(0x4E00, 0x9FFF)) for _ in range(100_000))

ADVERSARIAL = {
    "one repeated char": lambda n: "a" * n,
    "random chars": lambda n: _RANDOM_ASCII[:n],
    "random Han": lambda n: _RANDOM_HAN[:n],
    "one long word between specials": lambda n: "a" + "!" * (n - 2) + "a",
    "punctuation only": lambda n: "!" * n,
    "emoji run": lambda n: "😀" * n,
    "one repeated word": lambda n: ("word " * (n // 5 + 1))[:n],
}
_EN = thresholds_for("en")
_EN_STOP = wordlists.stopwords("en")
METRIC_FUNCTIONS = {
    "character_repetition_ratio": lambda t: character_repetition_ratio(t, 10),
    "word_repetition_ratio": lambda t: word_repetition_ratio(get_words(t, "en", _EN), 5),
    "special_characters_ratio": special_characters_ratio,
    "stopword_ratio": lambda t: stopword_ratio(get_words(t, "en", _EN), _EN_STOP, ((2,), " ")),
    "number_of_words": lambda t: number_of_words(t, "en", _EN),
    "modify_document": lambda t: modify_document(t, _EN),
    "compute_metrics": lambda t: compute_metrics(t, "en", th=_EN),
}


def test_the_growth_check_tells_linear_from_quadratic():
    def quadratic(text: str) -> int:  # pairs of equal characters, by comparing every pair
        return sum(1 for i in range(len(text)) for j in range(i) if text[i] == text[j])

    def make(n: int) -> str:
        return _RANDOM_ASCII[:n]

    assert growth(quadratic, make, 100) > LINEAR_BOUND
    assert growth(lambda t: sum(map(ord, t)), make, 6_000) < LINEAR_BOUND
    assert growth(sorted, make, 6_000) < LINEAR_BOUND


@pytest.mark.parametrize("metric", sorted(METRIC_FUNCTIONS))
def test_metrics_grow_linearly(metric):
    fn = METRIC_FUNCTIONS[metric]
    for name, make in ADVERSARIAL.items():
        assert growth(fn, make, 6_000) < LINEAR_BOUND, f"{metric} on {name}"


def test_chinese_metrics_grow_linearly():
    zh = thresholds_for("zhs")
    for name, make in {
        "Chinese prose": lambda n: ("我们在北京大学学习自然语言处理，" * (n // 16 + 1))[:n],
        "random Han": lambda n: _RANDOM_HAN[:n],
    }.items():
        assert growth(lambda t: compute_metrics(t, "zhs", th=zh), make, 2_000) < LINEAR_BOUND, name
