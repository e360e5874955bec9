"""filters.minhash: shingles, deterministic signatures, LSH parameters, planted near-duplicates."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import unicodedata
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
import sample_texts

from rootstock.filters import minhash as mh
from rootstock.filters.words import unicode_words

REPO = Path(__file__).resolve().parent.parent
NO_SPACE = {"zhs", "zht"}


def topic_sentences(lang: str) -> list[str]:
    return sample_texts.topic_sentences(lang, "17")


def make_doc(lang: str, rng: random.Random, sentences: int) -> str:
    pool = topic_sentences(lang)
    return ("" if lang in NO_SPACE else " ").join(rng.sample(pool, sentences))


def true_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return inter / union if union else 1.0


def reference_hashes(text: str, lang: str, n: int = 5) -> list[int]:
    """shingle_texts (regex tokens) hashed in pure Python: what the numpy path must reproduce."""
    split = list if mh.char_shingles(lang) else (lambda s: s.split(" "))
    return sorted(mh.shingle_hash(split(s)) for s in mh.shingle_texts(text, lang, n))


# --- shingles ------------------------------------------------------------------------------------


def test_english_word_shingles_are_lowercased_and_punctuation_free():
    assert mh.shingle_texts("The quick, brown FOX!", "en", n=2) == {"the quick", "quick brown", "brown fox"}
    plain = mh.shingles("the quick brown fox jumps over the lazy dog", "en")
    noisy = mh.shingles("The  QUICK brown fox -- jumps (over) the lazy dog...\n", "en")
    assert len(plain) == 5 and np.array_equal(plain, noisy)
    assert plain.dtype == np.uint64 and np.all(np.diff(plain.astype(np.float64)) > 0)  # sorted, unique
    # apostrophes and hyphens separate tokens like spaces do
    assert mh.tokens("Don't re-use l'homme", "en") == ["don", "t", "re", "use", "l", "homme"]


def test_chinese_gets_character_shingles():
    assert mh.char_shingles("zhs") and mh.char_shingles("zht") and mh.char_shingles("zh-Hant")
    assert not mh.char_shingles("en") and not mh.char_shingles("hi") and not mh.char_shingles("und")
    text = "春天回到了青石镇的湿地。"
    got = mh.shingle_texts(text, "zhs")
    assert got == {"春天回到了", "天回到了青", "回到了青石", "到了青石镇", "了青石镇的", "青石镇的湿", "石镇的湿地"}
    assert len(mh.shingles(text, "zhs")) == 7
    # white space and punctuation between characters don't matter
    assert np.array_equal(mh.shingles("春天 回到了，青石镇的 湿地", "zhs"), mh.shingles(text, "zhs"))
    # the same Han run in a word-mode document gives the same shingles (one token per character)
    assert np.array_equal(mh.shingles(text, "en"), mh.shingles(text, "zhs"))
    # English words segmented by jieba would differ; here character mode splits them too
    assert mh.tokens("用Python写", "zhs") == ["用", "p", "y", "t", "h", "o", "n", "写"]
    assert mh.tokens("用Python写", "en") == ["用", "python", "写"]


THAI = "ภาษาไทยเขียนติดกัน ไม่เว้นวรรคระหว่างคำ"
KHMER = "ភាសាខ្មែរសរសេរជាប់គ្នា។"


@pytest.mark.parametrize("text", [THAI, KHMER], ids=["Thai", "Khmer"])
def test_thai_and_khmer_are_one_token_per_character_as_in_words(text):
    # filters.scripts is the one definition: words' fallback and minhash split these scripts
    # per character (tests/test_words.py checks quality and the char-shingle side too).
    letters = [c for c in text if unicodedata.category(c)[0] in "LMN"]
    assert mh.tokens(text, "en") == mh.tokens(text, "zhs") == unicode_words(text) == letters
    mixed = f"Quoted: «{text}» and ཀུན་ལ་བདེ་བ། (Tibetan, by syllable)"
    assert mh.tokens(mixed, "en") == [t.lower() for t in unicode_words(mixed)]
    # a pure run of them gives the same shingles in word and character mode, as Han does
    assert np.array_equal(mh.shingles(text, "en"), mh.shingles(text, "zhs"))


def test_hindi_keeps_vowel_signs_and_drops_danda_and_joiners():
    text = "हिन्दी भारत की राजभाषा है।"
    assert mh.tokens(text, "hi") == ["हिन्दी", "भारत", "की", "राजभाषा", "है"]
    assert mh.shingle_texts(text, "hi") == {"हिन्दी भारत की राजभाषा है"}
    # ZWJ/ZWNJ and soft hyphens are deleted, not turned into breaks
    assert np.array_equal(mh.shingles("क्\u200dष त्र ज्ञ श्र ॐ", "hi"), mh.shingles("क्ष त्र ज्ञ श्र ॐ", "hi"))
    assert mh.tokens("hyphen\u00adation", "en") == ["hyphenation"]


def test_short_and_empty_documents():
    assert mh.shingle_texts("hello world", "en") == {"hello world"}  # fewer tokens than n: one shingle
    assert len(mh.shingles("hello world", "en")) == 1
    assert mh.shingle_texts("春天", "zhs") == {"春天"}
    for empty in ("", "   ", "!!! ... ¿?", "\u200d"):
        assert len(mh.shingles(empty, "en")) == 0 and mh.shingle_texts(empty, "en") == set()
    sig = mh.MinHasher().signature(mh.shingles("", "en"))
    assert mh.is_empty(sig) and mh.band_keys(sig, mh.BANDS, mh.ROWS) == []
    with pytest.raises(ValueError, match="not in the language registry"):
        mh.shingles("text", "xx-unknown")


def test_vectorised_hashes_equal_the_reference_and_batch_equals_single():
    rng = random.Random(5)
    texts, langs = [], []
    for lang in ["en", "fr", "es", "ar", "hi", "vi", "yo", "sw", "fi", "zhs", "zht"]:
        texts.append(make_doc(lang, rng, 6))
        langs.append(lang)
    texts += [
        "",
        "Mixed 中文 text, ① emoji 🙂 and ＦＵＬＬ－ｗｉｄｔｈ",
        "a\udcffb c d e f",
        "one two",
        "ZWJ\u200dword x y z w",
    ]
    langs += ["en", "und", "en", "python", "en"]
    for n in (1, 3, 5):
        flat, offsets = mh.shingles_batch(texts, langs, n=n)
        for i, (text, lang) in enumerate(zip(texts, langs, strict=True)):
            single = mh.shingles(text, lang, n)
            assert single.tolist() == reference_hashes(text, lang, n), (lang, n)
            assert len(single) == len(mh.shingle_texts(text, lang, n))  # no 64-bit collisions here
            assert np.array_equal(np.unique(flat[offsets[i] : offsets[i + 1]]), single)


def test_long_documents_and_batches_hash_the_same():
    """Past 2^16 code points (one document, one token, or a batch) the power tables go two-level."""
    rng = random.Random(9)
    long_en = make_doc("en", rng, 40) * 16  # ~80k characters
    long_zh = make_doc("zhs", rng, 40) * 50  # ~70k characters
    one_token = "a" * 70_000 + "b"
    for text, lang in ((long_en, "en"), (long_zh, "zhs"), (one_token, "en")):
        assert len(text) > 65_536
        assert mh.shingles(text, lang).tolist() == reference_hashes(text, lang)
    small = [make_doc(lang, rng, 3) for lang in ("en", "hi", "zhs")]
    texts = small + [long_en, one_token] + small
    langs = ["en", "hi", "zhs", "en", "en", "en", "hi", "zhs"]
    flat, offsets = mh.shingles_batch(texts, langs)
    for i, (text, lang) in enumerate(zip(texts, langs, strict=True)):
        assert np.array_equal(np.unique(flat[offsets[i] : offsets[i + 1]]), mh.shingles(text, lang))


# --- signatures ----------------------------------------------------------------------------------

GOLDEN_TEXT = "Every April the marshes east of Millbrook Hollow fill with the calls of returning lapwings."
SIGNATURE_SCRIPT = """
import hashlib, json, sys
from rootstock.filters import minhash as mh
texts = json.loads(sys.argv[1])
hasher = mh.MinHasher(num_perm=128, seed=1)
print(json.dumps([hasher.signature(mh.shingles(t, lang)).tolist() for t, lang in texts]))
"""


def test_signatures_are_identical_in_other_processes_and_kernels():
    rng = random.Random(11)
    texts = [(make_doc(lang, rng, 5), lang) for lang in ["en", "hi", "ar", "zhs", "vi"]] + [(GOLDEN_TEXT, "en")]
    hasher = mh.MinHasher()
    here = [hasher.signature(mh.shingles(t, lang)).tolist() for t, lang in texts]
    # another process with another str-hash seed; then the same with rensa's scalar kernel
    # instead of AVX2 (what a worker on an older CPU would run)
    for extra in ({"PYTHONHASHSEED": "12345"}, {"PYTHONHASHSEED": "999", "RENSA_FORCE_KERNEL": "scalar"}):
        env = {**os.environ, **extra}
        out = subprocess.run(
            [sys.executable, "-c", SIGNATURE_SCRIPT, json.dumps(texts)],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            check=True,
        )
        assert json.loads(out.stdout) == here, extra


def test_golden_values_pin_the_algorithm():
    # If these change (rensa, its algorithm version, Unicode tables, the shingle hash), signatures
    # stored by earlier runs are no longer comparable: bump SHINGLE_VERSION / say so in the manifest.
    assert mh.shingle_hash(["the", "quick"]) == 0xFB353CA44AB5AA64
    sig = mh.MinHasher(128, 1).signature(mh.shingles(GOLDEN_TEXT, "en"))
    assert sig.dtype == np.uint32 and sig.shape == (128,)
    assert hashlib.blake2b(sig.astype("<u4").tobytes(), digest_size=8).hexdigest() == "8a3aaea14e2c013c"
    assert mh.MinHasher(128, 2).signature(mh.shingles(GOLDEN_TEXT, "en")).tolist() != sig.tolist()
    assert "rensa==0.5.0" in mh.MinHasher().fingerprint


def test_batch_signatures_equal_single_ones():
    rng = random.Random(3)
    texts = [make_doc(lang, rng, 4) for lang in ["en", "zhs", "hi"]] + ["", "x"]
    langs = ["en", "zhs", "hi", "en", "en"]
    hasher = mh.MinHasher()
    batch = hasher.text_signatures(texts, langs)
    assert batch.shape == (5, 128) and batch.dtype == np.uint32
    for row, text, lang in zip(batch, texts, langs, strict=True):
        assert np.array_equal(row, hasher.signature(mh.shingles(text, lang)))
    assert hasher.text_signatures([], "en").shape == (0, 128)


def replace_words(text: str, lang: str, fraction: float, rng: random.Random) -> str:
    """Replace `fraction` of the words (characters for zhs/zht) by words found nowhere else."""
    if lang in NO_SPACE:
        chars = list(text)
        spots = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff"]
        for i in rng.sample(spots, round(fraction * len(spots))):
            chars[i] = chr(rng.randint(0x3400, 0x4DBF))  # CJK Extension A: not in the pools
        return "".join(chars)
    words = text.split(" ")
    for i in rng.sample(range(len(words)), round(fraction * len(words))):
        words[i] = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(7))
    return " ".join(words)


def fraction_for(jaccard: float, n: int = 5) -> float:
    """Replaced fraction p giving expected Jaccard J: untouched shingles u = (1-p)^n, J = u / (2-u)."""
    return 1 - (2 * jaccard / (1 + jaccard)) ** (1 / n)


def test_estimated_jaccard_tracks_true_jaccard():
    rng = random.Random(7)
    hasher = mh.MinHasher()
    errors = []
    for lang, target in [
        ("en", 0.9),
        ("en", 0.6),
        ("fr", 0.8),
        ("hi", 0.7),
        ("zhs", 0.85),
        ("ar", 0.5),
        ("vi", 0.95),
        ("zht", 0.4),
        ("sw", 0.75),
        ("es", 0.3),
    ]:
        base = make_doc(lang, rng, 10)
        other = replace_words(base, lang, fraction_for(target), rng)
        a, b = mh.shingles(base, lang), mh.shingles(other, lang)
        est = mh.estimated_jaccard(hasher.signature(a), hasher.signature(b))
        errors.append(abs(est - true_jaccard(a, b)))
    assert max(errors) <= 0.1, errors
    assert np.mean(errors) <= 0.04, errors
    sig = hasher.signature(mh.shingles(GOLDEN_TEXT, "en"))
    assert mh.estimated_jaccard(sig, sig) == 1.0 and mh.estimated_jaccard(list(sig), sig) == 1.0
    with pytest.raises(ValueError):
        mh.estimated_jaccard(sig, sig[:64])


# --- LSH ---------------------------------------------------------------------------------------------


def test_default_lsh_params():
    bands, rows = mh.lsh_params(0.8, 128)
    assert (bands, rows) == (mh.BANDS, mh.ROWS) == (14, 9)
    assert bands * rows <= 128
    assert mh.collision_probability(0.9, bands, rows) > 0.95
    assert mh.collision_probability(0.85, bands, rows) > 0.95
    assert mh.collision_probability(0.5, bands, rows) < 0.05
    assert mh.false_positive_probability(0.8, bands, rows) == pytest.approx(0.1007, abs=1e-4)
    assert mh.false_negative_probability(0.8, bands, rows) == pytest.approx(0.0039, abs=1e-4)
    # equal weights: datasketch's MinHashLSH choice, which misses 7% of pairs at J = 0.9
    assert mh.lsh_params(0.8, 128, 0.5, 0.5) == (9, 13)
    assert mh.collision_probability(0.9, 9, 13) == pytest.approx(0.9286, abs=1e-4)
    probs = mh.collision_probability(np.array([0.0, 0.5, 1.0]), bands, rows)
    assert probs.tolist() == pytest.approx([0.0, mh.collision_probability(0.5, bands, rows), 1.0])


def test_lsh_params_agree_with_datasketch():
    from datasketch.lsh import _false_negative_probability, _false_positive_probability, _optimal_param

    for threshold in (0.5, 0.7, 0.8, 0.9):
        for num_perm in (32, 128):
            for fp_weight in (0.5, 0.3, 0.1):
                got = mh.lsh_params(threshold, num_perm, fp_weight, 1 - fp_weight)
                assert got == _optimal_param(threshold, num_perm, fp_weight, 1 - fp_weight)
                assert mh.false_positive_probability(threshold, *got) == pytest.approx(
                    _false_positive_probability(threshold, *got), abs=1e-9
                )
                assert mh.false_negative_probability(threshold, *got) == pytest.approx(
                    _false_negative_probability(threshold, *got), abs=1e-9
                )


def test_band_keys():
    rng = np.random.default_rng(0)
    sig = rng.integers(0, 2**32 - 1, 128, dtype=np.uint32)
    keys = mh.band_keys(sig, 14, 9)
    assert len(keys) == 14 and all(isinstance(k, bytes) and len(k) == 10 for k in keys)
    assert len(set(keys)) == 14
    assert mh.band_keys(sig.tolist(), 14, 9) == keys  # lists (e.g. from Parquet) work too
    other = sig.copy()
    other[9 * 3] += 1  # first slot of band 3
    changed = mh.band_keys(other, 14, 9)
    assert [a == b for a, b in zip(keys, changed, strict=True)] == [i != 3 for i in range(14)]
    # same slot values in another band give another key
    same = np.tile(sig[:9], 14)
    assert len(set(mh.band_keys(same, 14, 9))) == 14
    with pytest.raises(ValueError):
        mh.band_keys(sig, 15, 9)


def test_planted_near_duplicates_are_found_and_verified():
    """300 base documents, one near-duplicate each with a planted Jaccard in [0.55, 1].

    Banding with the defaults (14 × 9) must make >= 95% of pairs with true J >= 0.85 candidates;
    verification (estimated J >= 0.8) must then keep precision >= 0.99 against pairs with
    true J <= 0.7, counting every candidate pair, planted or accidental.
    """
    rng = random.Random(2026)
    langs = ["en", "fr", "es", "pt", "sw", "fi", "ar", "hi", "vi", "zhs", "zht", "yo"]
    texts, doc_langs, planted = [], [], []
    for i in range(300):
        lang = langs[i % len(langs)]
        base = make_doc(lang, rng, rng.randint(6, 12))
        dup = replace_words(base, lang, fraction_for(rng.uniform(0.55, 1.0)), rng)
        planted.append((len(texts), len(texts) + 1))
        texts += [base, dup]
        doc_langs += [lang, lang]
    hasher = mh.MinHasher()
    sigs = hasher.text_signatures(texts, doc_langs)
    sets = [mh.shingles(t, lang) for t, lang in zip(texts, doc_langs, strict=True)]

    buckets: dict[bytes, list[int]] = {}
    for i, sig in enumerate(sigs):
        for key in mh.band_keys(sig, mh.BANDS, mh.ROWS):
            buckets.setdefault(key, []).append(i)
    candidates = {pair for members in buckets.values() for pair in combinations(members, 2)}

    jaccard = {pair: true_jaccard(sets[pair[0]], sets[pair[1]]) for pair in set(planted) | candidates}
    high = [p for p in planted if jaccard[p] >= mh.THRESHOLD + 0.05]
    low = [p for p in planted if jaccard[p] <= mh.THRESHOLD - 0.1]
    assert len(high) >= 60 and len(low) >= 40  # the planted spread covers both sides
    recall = sum(p in candidates for p in high) / len(high)
    assert recall >= 0.95, recall

    flagged = [p for p in candidates if mh.estimated_jaccard(sigs[p[0]], sigs[p[1]]) >= mh.THRESHOLD]
    wrong = [p for p in flagged if jaccard[p] <= mh.THRESHOLD - 0.1]
    assert len(flagged) >= len(high) * 0.9
    assert 1 - len(wrong) / len(flagged) >= 0.99, [(p, jaccard[p]) for p in wrong]
    assert sum(p in flagged for p in low) <= 0.01 * len(low)
    # and the end-to-end recall (candidate and verified) at J >= 0.85 stays high
    assert sum(p in flagged for p in high) / len(high) >= 0.9
