"""ROOTS / cc_net KenLM perplexity of a document, as plain Python (no Beam in here).

Reference: the semantics are those of bigscience-workshop/data-preparation
`preprocessing/training/01b_oscar_cleaning_and_filtering/filtering.py` (`compute_perplexity_score`;
its per-language models come from `download_sentencepiece_kenlm_models.py` in the same folder),
itself a copy of facebookresearch/cc_net `perplexity.DocLM`:

1. normalise (`normalize_for_perplexity`): delete non-printing characters (code points 0-31 and
   127-159), strip, map exotic spaces to " ", every Unicode decimal digit to "0", then the
   cc_net Unicode-punctuation map. Not lowercased, no accent stripping;
2. SentencePiece-encode each line and join its pieces with single spaces;
3. per line, KenLM `score` (log10, with <s> context and </s> predicted) and length = #pieces + 1;
4. PPL = 10 ** (-sum(log10 p) / sum(length)) over all lines, rounded to 0.1.

Where this module departs from ROOTS on purpose:
  - newlines. ROOTS's non-printing range contains "\\n" (code point 10), so its normalisation
    deleted every line break before the per-line loop: each document was scored as ONE line and
    the last word of a line was glued to the first word of the next ("end\\nStart" ->
    "endStart"). We keep "\\n" by default and score line by line, as the formula (and cc_net,
    which normalises line by line) intends. `keep_newlines=False` reproduces ROOTS's
    one-line scoring.
  - blank lines (no pieces after normalisation) are not scored. cc_net would score each as
    p(</s> | <s>) with length 1, which makes paragraph formatting move the perplexity; ROOTS
    never saw them (see above).
  - a document with no pieces at all (empty, only whitespace or control characters) has
    perplexity None, meaning "not measurable, check skipped"; ROOTS scored the empty line and
    returned 10 ** -log10 p(</s> | <s>).
  - length counts the tokens KenLM actually scores (ASCII-whitespace split of the joined
    pieces, as KenLM's Python binding splits) rather than Python's Unicode `str.split`; the two
    only differ for a piece that itself contains whitespace, which standard SentencePiece models
    never produce (they escape spaces as "\u2581").

KenLM is an optional dependency (`pip install 'rootstock[kenlm]'`, a ~1-2 min source build);
`normalize_for_perplexity` and `PerplexityModel.pieces` need only sentencepiece, but a
`PerplexityModel` loads both models when created.
"""

from __future__ import annotations

import math
import os
import re
import threading
from typing import Any

import sentencepiece

__all__ = [
    "PerplexityModel",
    "UNICODE_PUNCTUATION",
    "UNIFORM_WHITESPACE",
    "normalize_for_perplexity",
]

# --- normalisation ----------------------------------------------------------------------------

# Control characters C0 (0-31, includes \t \n \r) and DEL + C1 (127-159) are deleted.
_NON_PRINTING_RE = re.compile("[\x00-\x1f\x7f-\x9f]")
_NON_PRINTING_KEEP_NL_RE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")

# Exotic spaces -> " ". ROOTS's `uniform_whitespace` list has 12 entries whose exact code points
# did not survive copying (they render as blanks); this is the same set filters/quality.py uses
# (NBSP, U+2000-U+200A, NARROW NBSP, MEDIUM MATHEMATICAL SPACE, IDEOGRAPHIC SPACE, OBJECT
# REPLACEMENT CHARACTER, U+0084), defined here so this module does not import quality.py.
# For the SentencePiece models ROOTS used (default nmt_nfkc normalisation), every one of these
# except U+FFFC would have become a space inside SentencePiece anyway (NFKC).
UNIFORM_WHITESPACE = frozenset(
    "\u00a0" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000" + "\ufffc\u0084"
)

# The cc_net / ROOTS Unicode punctuation map (cc_net `text_normalizer.UNICODE_PUNCT`, identical to
# ROOTS `normalization.py`), same 34 entries in the same order. Notes:
#   - "\uff11" (FULLWIDTH DIGIT ONE) -> '"' is an oddity of the original; it is unreachable
#     because digits are zeroed first ("１" is a Unicode decimal digit, so it becomes "0");
#   - only the RIGHT single quote (U+2019) is mapped, not the left one (U+2018);
#   - em dash becomes " - " and FULLWIDTH FULL STOP ". " (they add spaces).
UNICODE_PUNCTUATION: dict[str, str] = {
    "\uff0c": ",",  # ， FULLWIDTH COMMA
    "\u3002": ".",  # 。 IDEOGRAPHIC FULL STOP
    "\u3001": ",",  # 、 IDEOGRAPHIC COMMA
    "\u201e": '"',  # „ DOUBLE LOW-9 QUOTATION MARK
    "\u201d": '"',  # ” RIGHT DOUBLE QUOTATION MARK
    "\u201c": '"',  # “ LEFT DOUBLE QUOTATION MARK
    "\u00ab": '"',  # « LEFT-POINTING DOUBLE ANGLE QUOTATION MARK
    "\u00bb": '"',  # » RIGHT-POINTING DOUBLE ANGLE QUOTATION MARK
    "\uff11": '"',  # １ FULLWIDTH DIGIT ONE (sic; unreachable, see above)
    "\u300d": '"',  # 」 RIGHT CORNER BRACKET
    "\u300c": '"',  # 「 LEFT CORNER BRACKET
    "\u300a": '"',  # 《 LEFT DOUBLE ANGLE BRACKET
    "\u300b": '"',  # 》 RIGHT DOUBLE ANGLE BRACKET
    "\u00b4": "'",  # ´ ACUTE ACCENT
    "\u2236": ":",  # ∶ RATIO
    "\uff1a": ":",  # ： FULLWIDTH COLON
    "\uff1f": "?",  # ？ FULLWIDTH QUESTION MARK
    "\uff01": "!",  # ！ FULLWIDTH EXCLAMATION MARK
    "\uff08": "(",  # （ FULLWIDTH LEFT PARENTHESIS
    "\uff09": ")",  # ） FULLWIDTH RIGHT PARENTHESIS
    "\uff1b": ";",  # ； FULLWIDTH SEMICOLON
    "\u2013": "-",  # – EN DASH
    "\u2014": " - ",  # — EM DASH
    "\uff0e": ". ",  # ． FULLWIDTH FULL STOP
    "\uff5e": "~",  # ～ FULLWIDTH TILDE
    "\u2019": "'",  # ’ RIGHT SINGLE QUOTATION MARK
    "\u2026": "...",  # … HORIZONTAL ELLIPSIS
    "\u2501": "-",  # ━ BOX DRAWINGS HEAVY HORIZONTAL
    "\u3008": "<",  # 〈 LEFT ANGLE BRACKET
    "\u3009": ">",  # 〉 RIGHT ANGLE BRACKET
    "\u3010": "[",  # 【 LEFT BLACK LENTICULAR BRACKET
    "\u3011": "]",  # 】 RIGHT BLACK LENTICULAR BRACKET
    "\uff05": "%",  # ％ FULLWIDTH PERCENT SIGN
    "\u25ba": "-",  # ► BLACK RIGHT-POINTING POINTER
}

# Python's `\d` on str = any Unicode decimal digit (category Nd), as in ROOTS/cc_net.
_DIGITS_RE = re.compile(r"\d")
_ASCII_DIGITS_TO_ZERO = str.maketrans("123456789", "000000000")

# Whitespace and punctuation together. Equivalent to ROOTS's order (whitespace, then digits, then
# punctuation): no exotic space is a digit, digits are zeroed before this runs, and every
# replacement is ASCII, so no replacement is itself replaced.
_WHITESPACE_AND_PUNCTUATION: dict[str, str] = dict.fromkeys(UNIFORM_WHITESPACE, " ")
_WHITESPACE_AND_PUNCTUATION.update(UNICODE_PUNCTUATION)


def normalize_for_perplexity(text: str, *, keep_newlines: bool = True) -> str:
    """ROOTS/cc_net normalisation before SentencePiece + KenLM scoring.

    Order as in ROOTS: delete non-printing characters, strip, uniform whitespace, digits -> "0",
    Unicode punctuation -> ASCII. Case and accents are kept. With `keep_newlines=False`, "\\n"
    is deleted like every other control character (exactly what ROOTS did); by default it is
    kept so documents can be scored line by line. Linear in len(text).
    """
    text = (_NON_PRINTING_KEEP_NL_RE if keep_newlines else _NON_PRINTING_RE).sub("", text)
    text = text.strip()
    if text.isascii():  # O(1) check; nothing below but ASCII digits can apply
        return text.translate(_ASCII_DIGITS_TO_ZERO)
    text = _DIGITS_RE.sub("0", text)
    # str.replace per character present: several times faster than str.translate on non-ASCII text
    for char in _WHITESPACE_AND_PUNCTUATION.keys() & set(text):
        text = text.replace(char, _WHITESPACE_AND_PUNCTUATION[char])
    return text


# --- model ------------------------------------------------------------------------------------

_KENLM_MISSING = (
    "KenLM perplexity needs the optional 'kenlm' package: pip install 'rootstock[kenlm]' "
    "(it builds from source, about 1-2 minutes)"
)


def _import_kenlm() -> Any:
    try:
        import kenlm  # noqa: PLC0415 - optional extra (rootstock[kenlm]), built from source
    except ImportError as exc:
        raise ImportError(_KENLM_MISSING) from exc
    return kenlm


class PerplexityModel:
    """A SentencePiece model + a KenLM model (ARPA or binary) scoring documents like ROOTS.

    Both models are loaded when the instance is created, so a wrong path or a missing kenlm
    fails at once. Pickling keeps only the paths (and `keep_newlines`); an unpickled copy
    reloads each model lazily on first use (`pieces` needs only SentencePiece), so a Beam DoFn
    can hold one and each worker loads the models once. Scoring is read-only and safe to share
    between threads.
    """

    def __init__(self, sentencepiece_path: str, kenlm_path: str, *, keep_newlines: bool = True):
        self.sentencepiece_path = os.fspath(sentencepiece_path)
        self.kenlm_path = os.fspath(kenlm_path)
        self.keep_newlines = keep_newlines
        self._init_runtime()
        self._load()

    # pickling: paths only -------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {
            "sentencepiece_path": self.sentencepiece_path,
            "kenlm_path": self.kenlm_path,
            "keep_newlines": self.keep_newlines,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.sentencepiece_path = state["sentencepiece_path"]
        self.kenlm_path = state["kenlm_path"]
        self.keep_newlines = state.get("keep_newlines", True)
        self._init_runtime()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.sentencepiece_path!r}, {self.kenlm_path!r}, "
            f"keep_newlines={self.keep_newlines!r})"
        )

    def _init_runtime(self) -> None:
        self._sp: Any = None
        self._lm: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        self._sentencepiece()
        self._kenlm()

    def _sentencepiece(self) -> Any:
        if self._sp is None:
            with self._lock:
                if self._sp is None:
                    self._sp = sentencepiece.SentencePieceProcessor(model_file=self.sentencepiece_path)
        return self._sp

    def _kenlm(self) -> Any:
        if self._lm is None:
            with self._lock:
                if self._lm is None:
                    kenlm = _import_kenlm()
                    config = kenlm.Config()
                    config.show_progress = False
                    self._lm = kenlm.Model(self.kenlm_path, config)
        return self._lm

    # scoring ----------------------------------------------------------------------------------
    def _piece_lines(self, text: str) -> list[str]:
        """Normalised text -> one space-joined piece string per non-blank line."""
        sp = self._sentencepiece()
        normalized = normalize_for_perplexity(text, keep_newlines=self.keep_newlines)
        if not normalized:
            return []
        lines = normalized.split("\n") if self.keep_newlines else [normalized]
        encoded = sp.encode(lines, out_type=str)
        return [" ".join(pieces) for pieces in encoded if pieces]

    def pieces(self, text: str) -> str:
        """The text KenLM scores: normalised, SentencePiece pieces joined by " ", one line per
        non-blank input line ("\\n"-separated). Empty string if there is nothing to score."""
        return "\n".join(self._piece_lines(text))

    def log10_score(self, text: str) -> tuple[float, int]:
        """(sum of per-line log10 probabilities, sum of per-line #pieces + 1); (0.0, 0) when the
        document has no pieces."""
        lm = self._kenlm()
        lines = self._piece_lines(text)
        total, length = 0.0, 0
        for line in lines:
            data = line.encode("utf-8")
            # KenLM's binding splits on ASCII whitespace: count exactly the tokens it scores.
            total += lm.score(data, bos=True, eos=True)
            length += len(data.split()) + 1
        return total, length

    def perplexity(self, text: str) -> float | None:
        """ROOTS document perplexity, 10 ** (-sum log10 p / sum length) rounded to 0.1; None when
        the document has no pieces (nothing to measure: treat as "check skipped")."""
        total, length = self.log10_score(text)
        if length == 0:
            return None
        try:
            return round(10.0 ** (-total / length), 1)
        except OverflowError:
            return math.inf
