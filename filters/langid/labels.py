"""A language-ID model's labels as registry codes and scripts, one rule for every backend.

Models name languages their own way: ISO 639-1 (`sw`), 639-3 (`swh`), CLD2's legacy codes
(`iw`, `zh-Hant`), GlotLID/OpenLID's `<iso639-3>_<Script>` (`swh_Latn`, `zho_Hans`). A label
becomes a registry code through, in order: the backend's explicit `label_map`; the Chinese rule
(`zh`/`zho`/`cmn`, `zh-Hant`, `zho_Hans`...: a Chinese label, and the text's characters decide
zhs or zht); the registry's codes and aliases, which take any ISO 639 language beyond the registry file too (`deu_Latn` → de);
a label whose script is not the language's own becomes that language in that script
(`hin_Latn`, romanised Hindi, is `hi-Latn`, not the registry's Devanagari `hi`). Programming
languages never match.
"""

from __future__ import annotations

from rootstock.catalog.registry import LanguageRegistry, canonical_tag
from rootstock.filters.langid.scripts import chinese_variant

LABEL_PREFIX = "__label__"
# Script subtags that decide between the registry's two Chinese entries.
CHINESE_SCRIPTS = {"hans": "zhs", "hant": "zht"}
CHINESE_LANGS = ("zh", "zho", "cmn")
CHINESE_CODES = ("zhs", "zht")


class LabelMapper:
    """label -> (registry code or None, ISO 15924 script the label names or None); memoised."""

    def __init__(self, registry: LanguageRegistry, label_map: dict[str, str] | None = None):
        self.registry = registry
        self.label_map = dict(label_map or {})
        for label, code in self.label_map.items():
            if code not in registry:
                raise ValueError(f"label_map: {label!r} → {code!r}, which is not a registry code")
        self._cache: dict[str, tuple[str | None, str | None, bool]] = {}

    def __call__(self, label: str) -> str | None:
        return self.lookup(label)[0]

    def lookup(self, label: str) -> tuple[str | None, str | None, bool]:
        """(registry code, label script, whether the text's characters pick zhs/zht)."""
        if label not in self._cache:
            self._cache[label] = self._map(label)
        return self._cache[label]

    def resolve(self, label: str, text: str) -> str | None:
        """The registry code of `label` for this text (Chinese labels look at the characters)."""
        code, _, by_text = self.lookup(label)
        return chinese_variant(text) if by_text else code

    def _map(self, label: str) -> tuple[str | None, str | None, bool]:
        parts = label.replace("-", "_").split("_")
        script = parts[1].title() if len(parts) == 2 and len(parts[1]) == 4 else None
        if label in self.label_map:
            code = self.label_map[label]
            return code, script, code in CHINESE_CODES and script is None
        if parts[0].lower() in CHINESE_LANGS and len(parts) <= 2:
            # zhs and zht are one language in two scripts: the text's characters decide, whatever
            # script the label names (a model's Hans/Hant call is a weaker test than the characters).
            if script is None or script == "Hani":
                return "zhs", script, True
            if script.lower() in CHINESE_SCRIPTS:
                return CHINESE_SCRIPTS[script.lower()], script, True
            return None, script, False
        code = self.registry.resolve(label)
        if code is not None and script is not None and self.registry[code].script not in (None, script):
            # GlotLID's hin_Latn is romanised Hindi, not the registry's Devanagari `hi`: it is `hi-Latn`.
            code = canonical_tag(f"{parts[0]}-{script}")
            if code is None or code not in self.registry:
                return None, script, False
        if code is not None and self.registry[code].kind != "natural":
            return None, script, False
        return code, script, code in CHINESE_CODES and script is None
