"""The language registry: the 46 natural and 13 programming languages of ROOTS (and extras).

Every stage asks the registry, never a hard-coded table, what a language is called, how to
split its words and which thresholds apply, so adding a language is a YAML change.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
from pathlib import Path
from typing import Any, Literal

import langcodes
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
        return code in self._by_code or self._outside(code)

    def __getitem__(self, code: str) -> Language:
        if code in self._by_code:
            return self._by_code[code]
        if not self._outside(code):
            raise KeyError(code)
        return _outside_entry(code)

    def _outside(self, code: str) -> bool:
        """CODE is the canonical code of a language no entry names (`zh` is not: zhs has it)."""
        return _norm(code) not in self._lookup and canonical_tag(code) == code

    def __iter__(self):
        return iter(self.languages)

    def __len__(self) -> int:
        return len(self.languages)

    def resolve(self, name: str | None) -> str | None:
        """Registry code for a code, ISO code, BCP-47 tag or alias; None if no language has it.

        Beyond the entries, any ISO 639 language or BCP-47 tag (`de`, `deu`, `de-AT`, `sr-Latn`)
        resolves to its canonical tag, a language with ROOTS's default settings (`__getitem__`
        builds its entry); the file's entries and a catalogue's own registry file win.
        """
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
        if code is None:
            tag = canonical_tag(name)
            if tag is not None:
                code = self._lookup.get(_norm(tag), tag)
        return code

    def suggest(self, name: str) -> list[str]:
        """Codes a mistyped NAME may have meant: close codes and aliases, or a language of that name."""
        found = langcodes_find(name)
        if found is not None:
            return [self.resolve(found) or found]
        close = difflib.get_close_matches(_norm(name), list(self._lookup), n=3, cutoff=0.6)
        return list(dict.fromkeys(self._lookup[c] for c in close))

    def natural(self) -> list[Language]:
        return [lang for lang in self.languages if lang.kind == "natural"]

    def programming(self) -> list[Language]:
        return [lang for lang in self.languages if lang.kind == "programming"]


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "-")


@functools.lru_cache(maxsize=4096)
def canonical_tag(name: str) -> str | None:
    """NAME as the code of a language outside the registry file: the BCP-47 language subtag
    (ISO 639-1 where there is one), plus the script only where it is not the language's usual
    one (`de-AT` → `de`, `deu` → `de`, `sr-Latn` stays); None for what is not a language
    (`xx`, private-use `qaa`, `und`). Read with langcodes, which ships its data."""
    try:
        tag = langcodes.Language.get(name.strip().replace("_", "-"))
    except (LookupError, ValueError):
        return None
    if not tag.language or tag.language == UNDETERMINED or not langcodes.tag_is_valid(tag.to_tag()):
        return None
    plain = langcodes.Language.get(tag.language)
    try:
        if plain.display_name().startswith("Unknown language"):
            return None
        plain.to_alpha3()
    except LookupError:
        return None
    script = tag.script if tag.script and tag.script != plain.maximize().script else None
    return f"{tag.language}-{script}" if script else tag.language


@functools.lru_cache(maxsize=4096)
def _outside_entry(code: str) -> Language:
    """The entry of a language the registry file does not list: ROOTS's default settings (no
    tuned thresholds, word lists or tokenizer key), its name, ISO codes and usual script."""
    tag = langcodes.Language.get(code)
    return Language(
        code=code,
        name=tag.display_name(),
        kind="natural",
        roots=False,
        iso639_1=tag.language if len(tag.language) == 2 else None,
        iso639_3=tag.to_alpha3(),
        bcp47=code,
        script=tag.maximize().script,
    )


def langcodes_find(name: str) -> str | None:
    """The code of a language called NAME (in English or in itself: "German", "Suomi"), or None."""
    try:
        return langcodes.find(name.strip()).language
    except (LookupError, ValueError):
        return None


# A catalogue's own languages.yaml, on top of the file above: its entries add languages or
# replace fields of existing ones. Set where the catalogue is read (use_overlay), and in every
# worker from the run's context; the environment carries it to local worker processes.
OVERLAY_ENV = "ROOTSTOCK_LANGUAGES"
_overlay: tuple[str, ...] | None = None  # JSON of each entry, so the tuple is hashable and comparable


def use_overlay(entries: list[dict[str, Any]] | None) -> None:
    """Make ENTRIES (a catalogue's languages.yaml) part of the registry in this process."""
    global _overlay
    encoded = tuple(json.dumps(e, sort_keys=True) for e in entries or ())
    if encoded != _current_overlay():
        _overlay = encoded
        os.environ[OVERLAY_ENV] = json.dumps([json.loads(e) for e in encoded])
        load_registry.cache_clear()


def current_overlay() -> list[dict[str, Any]]:
    return [json.loads(e) for e in _current_overlay()]


def _current_overlay() -> tuple[str, ...]:
    if _overlay is not None:
        return _overlay
    raw = os.environ.get(OVERLAY_ENV)
    return tuple(json.dumps(e, sort_keys=True) for e in json.loads(raw)) if raw else ()


def merge_overlay(languages: list[Language], overlay: list[dict[str, Any]]) -> list[Language]:
    """LANGUAGES with OVERLAY applied: an entry with a known code updates that language's fields,
    another adds a language (natural and outside ROOTS unless it says otherwise)."""
    by_code = {lang.code: lang for lang in languages}
    merged = list(languages)
    for item in overlay:
        code = item.get("code")
        if code in by_code:
            updated = Language.model_validate({**by_code[code].model_dump(), **item})
            merged[merged.index(by_code[code])] = updated
            by_code[code] = updated
        else:
            added = Language.model_validate({"kind": "natural", "roots": False, **item})
            merged.append(added)
            by_code[added.code] = added
    return merged


@functools.cache
def base_languages(path: str | Path = REGISTRY_PATH) -> tuple[Language, ...]:
    """The entries of a registry file, without any catalogue's additions."""
    path = Path(path)
    with open(path, encoding="utf-8") as handle:
        data = load_yaml(handle)
    try:
        return tuple(Language.model_validate(item) for item in data["languages"])
    except ValidationError as err:
        raise ValueError(f"{path}: invalid language registry: {err}") from err


@functools.cache
def load_registry(path: str | Path = REGISTRY_PATH) -> LanguageRegistry:
    languages = list(base_languages(path))
    if Path(path) == REGISTRY_PATH:
        languages = merge_overlay(languages, current_overlay())
    return LanguageRegistry(languages)
