"""The language registry: the 46 natural and 13 programming languages of ROOTS (and extras).

Every stage asks the registry, never a hard-coded table, what a language is called, how to
split its words and which thresholds apply, so adding a language is a YAML change.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from rootstock.strict import load_yaml

UNDETERMINED = "und"
REGISTRY_PATH = Path(__file__).with_name("languages.yaml")


class Language(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    name: str
    kind: Literal["natural", "programming"]
    roots: bool
    iso639_1: str | None = None
    iso639_3: str | None = None
    bcp47: str | None = None
    script: str | None = None
    family: str | None = None
    genus: str | None = None
    group: str | None = None
    roots_bytes: int | None = None
    roots_share: float | None = None
    bloom_weight: float | None = None
    aliases: list[str] = []
    extensions: list[str] | None = None
    word_tokenizer: str | None = None
    min_doc_bytes: int | None = None
    # Slots the langid and quality stages fill.
    lid_labels: list[str] = []
    thresholds: dict[str, Any] | None = None


class LanguageRegistry:
    def __init__(self, languages: list[Language]):
        self.languages = languages
        self._by_code: dict[str, Language] = {}
        self._lookup: dict[str, str] = {}
        for lang in languages:
            if lang.code in self._by_code:
                raise ValueError(f"language registry: duplicate code {lang.code!r}")
            self._by_code[lang.code] = lang
        for lang in languages:
            names = [lang.code, lang.iso639_1, lang.iso639_3, lang.bcp47, *lang.aliases]
            for name in filter(None, names):
                key = _norm(name)
                owner = self._lookup.get(key)
                if owner is not None and owner != lang.code:
                    # ISO 639-1/-3 of zhs and zht are the same (zh/cmn): the first entry keeps it.
                    if name in (lang.iso639_1, lang.iso639_3):
                        continue
                    raise ValueError(f"language registry: {name!r} names both {owner!r} and {lang.code!r}")
                self._lookup.setdefault(key, lang.code)

    def __contains__(self, code: str) -> bool:
        return code in self._by_code

    def __getitem__(self, code: str) -> Language:
        return self._by_code[code]

    def __iter__(self):
        return iter(self.languages)

    def __len__(self) -> int:
        return len(self.languages)

    def resolve(self, name: str | None) -> str | None:
        """Registry code for a code, ISO code, BCP-47 tag or alias; None if unknown."""
        if not name:
            return None
        key = _norm(name)
        code = self._lookup.get(key)
        if code is None and "-" in key:
            # zh-Hans-CN → zh-hans, en-GB-oxendict → en-gb → en
            parts = key.split("-")
            for n in range(len(parts) - 1, 0, -1):
                code = self._lookup.get("-".join(parts[:n]))
                if code:
                    break
        return code

    def natural(self) -> list[Language]:
        return [lang for lang in self.languages if lang.kind == "natural"]

    def programming(self) -> list[Language]:
        return [lang for lang in self.languages if lang.kind == "programming"]


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "-")


@functools.cache
def load_registry(path: str | Path = REGISTRY_PATH) -> LanguageRegistry:
    path = Path(path)
    with open(path, encoding="utf-8") as handle:
        data = load_yaml(handle)
    try:
        languages = [Language.model_validate(item) for item in data["languages"]]
    except ValidationError as err:
        raise ValueError(f"{path}: invalid language registry: {err}") from err
    return LanguageRegistry(languages)
