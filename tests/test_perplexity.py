"""ROOTS KenLM perplexity (filters/perplexity.py) against numbers worked out by hand.

The test builds its own tiny models: a character-level SentencePiece model trained here on a few
dozen sentences, and a bigram ARPA file written by hand over its pieces. All log10 values in the
ARPA file are dyadic fractions, exact in KenLM's float32, so sums computed here by hand must equal
KenLM's to the last bit. (The numbers are chosen for arithmetic, not to be a normalised
distribution; KenLM does not check that.)
"""

from __future__ import annotations

import io
import itertools
import pickle
import sys
from pathlib import Path

import pytest
import sentencepiece

from rootstock.filters.perplexity import (
    UNICODE_PUNCTUATION,
    UNIFORM_WHITESPACE,
    PerplexityModel,
    normalize_for_perplexity,
)
from tests.timing import LINEAR_BOUND, growth

SP = "\u2581"  # SentencePiece's escaped space, "▁"

# Bigram model over the character pieces. Unigrams: (log10 p, log10 backoff or None).
# "d" is a piece of the SentencePiece model but deliberately NOT in the LM: it scores as <unk>.
UNIGRAMS: dict[str, tuple[float, float | None]] = {
    "<s>": (-99.0, -0.5),
    "</s>": (-1.0, None),
    "<unk>": (-2.0, None),
    SP: (-0.75, -0.25),
    "a": (-0.5, -0.125),
    "b": (-1.0, None),
    "c": (-1.25, None),
    "A": (-1.5, None),
    "0": (-1.75, None),
    '"': (-2.25, None),
}
BIGRAMS: dict[tuple[str, str], float] = {
    ("<s>", SP): -0.25,
    (SP, "a"): -0.125,
    ("a", "b"): -0.375,
    (SP, "c"): -0.5,
}


def write_arpa(path: Path) -> Path:
    lines = ["", "\\data\\", f"ngram 1={len(UNIGRAMS)}", f"ngram 2={len(BIGRAMS)}", "", "\\1-grams:"]
    for word, (prob, backoff) in UNIGRAMS.items():
        lines.append(f"{prob}\t{word}" + ("" if backoff is None else f"\t{backoff}"))
    lines += ["", "\\2-grams:"]
    lines += [f"{prob}\t{w1} {w2}" for (w1, w2), prob in BIGRAMS.items()]
    lines += ["", "\\end\\", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def train_sentencepiece(path: Path) -> Path:
    words = ["ab", "ca", "bad", "cab", "Ab", "dab", "a0", "00", '"ab"', "ca,", "ab."]
    sentences = [" ".join(p) for p in itertools.permutations(words, 3)][:60]
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=model,
        model_type="char",
        vocab_size=40,
        hard_vocab_limit=False,
        character_coverage=1.0,
        normalization_rule_name="identity",  # pieces are exactly the characters we normalised
        minloglevel=2,
    )
    path.write_bytes(model.getvalue())
    return path


@pytest.fixture(scope="module")
def sp_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_sentencepiece(tmp_path_factory.mktemp("sp") / "tiny.model")


@pytest.fixture(scope="module")
def arpa_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_arpa(tmp_path_factory.mktemp("lm") / "tiny.arpa")


@pytest.fixture(scope="module")
def model(sp_path: Path, arpa_path: Path) -> PerplexityModel:
    pytest.importorskip("kenlm")
    return PerplexityModel(str(sp_path), str(arpa_path))


def pieces_only(sp_path: Path, **state: object) -> PerplexityModel:
    """A model that never loads KenLM (unpickled copies load each model on first use)."""
    m = PerplexityModel.__new__(PerplexityModel)
    m.__setstate__({"sentencepiece_path": str(sp_path), "kenlm_path": "/nonexistent.arpa", **state})
    return m


def ppl(log10_sum: float, length: int) -> float:
    return round(10 ** (-log10_sum / length), 1)


# --- normalisation (no KenLM needed) ---------------------------------------------------------


def test_digits_become_zero_including_non_ascii_digits():
    assert normalize_for_perplexity("Tel 0612 37, ٣٤ १२") == "Tel 0000 00, 00 00"
    # FULLWIDTH DIGIT ONE is a digit first: the cc_net map's odd "１" -> '"' entry never fires.
    assert normalize_for_perplexity("１２") == "00"


def test_unicode_punctuation_map():
    assert normalize_for_perplexity("“Hi” „x“ «y» 「z」 《w》") == '"Hi" "x" "y" "z" "w"'
    assert normalize_for_perplexity("你好，世界。一、二") == "你好,世界.一,二"
    assert normalize_for_perplexity("（注）【1】５０％！？：；") == "(注)[0]00%!?:;"
    assert normalize_for_perplexity("wait… l’été´") == "wait... l'été'"
    assert normalize_for_perplexity("1990–2000 — fin．x～") == "0000-0000  -  fin. x~"
    assert normalize_for_perplexity("〈a〉 ━ ► ∶") == "<a> - - :"
    # Not in the ROOTS/cc_net map: the LEFT single quote stays.
    assert normalize_for_perplexity("‘a’") == "‘a'"
    assert len(UNICODE_PUNCTUATION) == 34
    assert all(len(k) == 1 and v.isascii() for k, v in UNICODE_PUNCTUATION.items())


def test_whitespace_uniformised_and_case_kept():
    assert normalize_for_perplexity("a\u00a0b\u3000c\u2009d\u202fe\ufffcf") == "a b c d e f"
    assert normalize_for_perplexity("ÉCOLE Été ß") == "ÉCOLE Été ß"  # no lowercasing, no accent strip
    assert {"\u00a0", "\u3000", "\u2003"} <= UNIFORM_WHITESPACE


def test_non_printing_removed_and_stripped():
    # C0 and C1 controls are deleted (not replaced by a space): ROOTS glues "a\tb" into "ab".
    assert normalize_for_perplexity("a\x00b\x7fc\x85d\x9fe\tf") == "abcdef"
    assert normalize_for_perplexity("  \r\n x\r\ny \n\t ") == "x\ny"
    assert normalize_for_perplexity("\x07 \u00a0") == ""
    # ROOTS deleted "\n" too; keep_newlines=False reproduces that.
    assert normalize_for_perplexity("end\nStart", keep_newlines=False) == "endStart"


def test_pieces_without_kenlm(sp_path: Path):
    m = pieces_only(sp_path)
    assert m.pieces("ab ca") == f"{SP} a b {SP} c a"
    assert m.pieces("“Ab” 7") == f'{SP} " A b " {SP} 0'  # normalised before encoding
    # blank lines carry no pieces and are dropped; SentencePiece eats the extra spaces.
    assert m.pieces("ab\n\n   \n  ca  ") == f"{SP} a b\n{SP} c a"
    # a character the SentencePiece model never saw stays a (unknown) piece of its own
    assert m.pieces("az") == f"{SP} a z"
    assert m.pieces("") == m.pieces(" \n\x07") == ""
    assert m._lm is None  # pieces() never needed KenLM
    glued = pieces_only(sp_path, keep_newlines=False)
    assert glued.pieces("ab\nca") == f"{SP} a b c a"


def test_missing_kenlm_gives_install_hint(sp_path: Path, arpa_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "kenlm", None)  # makes `import kenlm` raise ImportError
    with pytest.raises(ImportError, match=r"pip install 'rootstock\[kenlm\]'"):
        PerplexityModel(str(sp_path), str(arpa_path))


# --- perplexity against hand arithmetic --------------------------------------------------------


def test_single_line_equals_hand_computation(model: PerplexityModel):
    assert model.pieces("ab ca") == f"{SP} a b {SP} c a"
    # p(▁|<s>)   bigram                         -0.25
    # p(a|▁)     bigram                         -0.125
    # p(b|a)     bigram                         -0.375
    # p(▁|b)     no bigram, b has no backoff    -0.75
    # p(c|▁)     bigram                         -0.5
    # p(a|c)     no bigram, c has no backoff    -0.5
    # p(</s>|a)  no bigram: backoff(a) + p(</s>) = -0.125 + -1.0
    log10_sum = -0.25 - 0.125 - 0.375 - 0.75 - 0.5 - 0.5 + (-0.125 - 1.0)
    assert log10_sum == -3.625
    length = 6 + 1  # six pieces + </s>
    assert model.log10_score("ab ca") == (log10_sum, length)
    assert model.perplexity("ab ca") == ppl(-3.625, 7) == 3.3  # 10 ** (3.625 / 7) = 3.2947...


def test_normalisation_is_applied_before_scoring(model: PerplexityModel):
    # “Ab” 7  ->  "Ab" 0  ->  ▁ " A b " ▁ 0
    # p(▁|<s>) -0.25; p("|▁) = backoff(▁) + p(") = -0.25 - 2.25; p(A|") -1.5; p(b|A) -1.0;
    # p("|b) -2.25; p(▁|") -0.75; p(0|▁) = -0.25 - 1.75; p(</s>|0) -1.0
    log10_sum = -0.25 + (-0.25 - 2.25) - 1.5 - 1.0 - 2.25 - 0.75 + (-0.25 - 1.75) - 1.0
    assert model.log10_score("“Ab” 7") == (log10_sum, 8) == (-11.25, 8)
    assert model.perplexity("“Ab” 7") == ppl(-11.25, 8) == 25.5  # 10 ** 1.40625 = 25.48...
    assert model.perplexity('"Ab" 0') == model.perplexity("“Ab”\u00a07") == 25.5
    # not lowercased: with "a" instead of "A", p(a|") = -0.5 and p(b|a) = -0.375 (a bigram)
    # replace -1.5 and -1.0: -11.25 + 2.5 - 0.875 = -9.625
    assert model.log10_score('"ab" 0') == (-9.625, 8)
    assert model.perplexity('"ab" 0') == ppl(-9.625, 8) != model.perplexity('"Ab" 0')


def test_unknown_pieces_score_as_unk(model: PerplexityModel):
    # "d": a SentencePiece piece the LM lacks; "z": not even in the SentencePiece vocabulary.
    # ▁ a d: p(▁|<s>) -0.25; p(a|▁) -0.125; p(<unk>|a) = backoff(a) + p(<unk>) = -0.125 - 2.0;
    # p(</s>|<unk>) -1.0 (<unk> has no backoff and opens no bigram)
    log10_sum = -0.25 - 0.125 + (-0.125 - 2.0) - 1.0
    assert model.log10_score("ad") == (log10_sum, 4) == (-3.5, 4)
    assert model.log10_score("az") == (-3.5, 4)
    assert model.perplexity("ad") == model.perplexity("az") == ppl(-3.5, 4) == 7.5  # 10 ** 0.875


def test_multi_line_document_pools_logprobs_and_lengths(model: PerplexityModel):
    doc = "ab ca\n\n   \n  ad  \n"
    # line 1 "ab ca": -3.625 over 7; line 2 "ad": -3.5 over 4; blank lines are not scored
    assert model.pieces(doc) == f"{SP} a b {SP} c a\n{SP} a d"
    assert model.log10_score(doc) == (-3.625 - 3.5, 7 + 4)
    expected = ppl(-7.125, 11)  # 10 ** (7.125 / 11) = 4.445...
    assert model.perplexity(doc) == expected == 4.4
    # pooled, not the mean of the per-line perplexities (3.3 and 7.5)
    assert expected != round((3.3 + 7.5) / 2, 1)


def test_roots_exact_mode_glues_lines(sp_path: Path, arpa_path: Path):
    pytest.importorskip("kenlm")
    glued = PerplexityModel(str(sp_path), str(arpa_path), keep_newlines=False)
    # ROOTS deletes "\n": "ab ca\nad" -> "ab caad" -> ▁ a b ▁ c a a d, one line
    # ... as in "ab ca" up to p(a|c) (-2.5 in total), then p(a|a) = backoff(a) + p(a) = -0.125 - 0.5,
    # p(<unk>|a) = -0.125 - 2.0, p(</s>|<unk>) = -1.0
    log10_sum = (-0.25 - 0.125 - 0.375 - 0.75 - 0.5 - 0.5) + (-0.125 - 0.5) + (-0.125 - 2.0) - 1.0
    assert glued.log10_score("ab ca\nad") == (log10_sum, 9) == (-6.25, 9)
    assert glued.perplexity("ab ca\nad") == ppl(-6.25, 9) == 4.9


def test_document_without_pieces_has_no_perplexity(model: PerplexityModel):
    for text in ["", "   ", "\n\n", "\x00\x07\t", "\u00a0\u3000"]:
        assert model.log10_score(text) == (0.0, 0)
        assert model.perplexity(text) is None


def test_pickles_paths_only_and_reloads_lazily(model: PerplexityModel):
    blob = pickle.dumps(model)
    assert len(blob) < 1000  # no model bytes inside
    copy = pickle.loads(blob)
    assert copy.sentencepiece_path == model.sentencepiece_path
    assert copy._sp is None and copy._lm is None
    assert copy.perplexity("ab ca") == 3.3
    assert copy._lm is not None


def test_long_line_cost_is_linear(model: PerplexityModel):
    unit = "ab ca dab Ab “0” ， "

    def make(n: int) -> str:
        return (unit * (n // len(unit) + 1))[:n]

    value = model.perplexity(make(10_000))
    assert value is not None and 1 < value < 1e6
    assert growth(model.perplexity, make, 10_000) < LINEAR_BOUND
