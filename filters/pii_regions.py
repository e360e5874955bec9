"""The countries a document's PII may come from: where its language is spoken, and its URL's country.

National-format phone numbers and national ID numbers only mean something in one country, and a
language is written in many (Portuguese in Brazil and Portugal, Arabic from Morocco to Iraq).
The countries of a language come from CLDR's territory data (Unicode CLDR, supplemental
`territoryInfo`): babel's copy gives each territory's languages with the share of its population
that speaks them and their official status, language_data's copy of the same file gives each
territory's population, so a language's speakers in a territory are population x share. A
language's regions are the territories where it is official (de jure, de facto or regional) or
which hold at least MIN_SHARE of its speakers, most speakers first: all of them for national
ids (each type also needs its label or written form), for phone numbers at most MAX_REGIONS
holding at least MIN_PHONE_SHARE of the speakers each (measured in benchmarks/pii.py: recall over
Faker locales, numbers found in tables of figures, cost). A language with no CLDR row (Twi is
filed under Akan) falls back to the territory of its CLDR likely subtags.

A URL's country-code TLD adds its country whatever the language, except the ccTLDs Google Search
treats as generic because they are used as brands (`.io`, `.tv`, `.co`, ...; Google Search
Central, "Managing multi-regional and multilingual sites", list of generic ccTLDs).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from urllib.parse import urlsplit

import language_data
from babel.core import get_global

from rootstock.catalog.registry import UNDETERMINED, load_registry

# A territory where the language has no official status still counts if it holds this share of
# the language's speakers (Igbo in Nigeria, Bambara in Mali, Chichewa in Zambia).
MIN_SHARE = 0.10
# Phone regions per language, most speakers first: at most MAX_REGIONS, each with at least
# MIN_PHONE_SHARE of the language's speakers. Every extra region costs screens (and matcher runs)
# per candidate window and lets more bare digit groups validate somewhere: in a table of random
# figures, French found 1,110 numbers per MB with 4 regions and 6,350 with 8, while PHONE recall
# over 30 Faker locales went from 0.95 to 0.99 (benchmarks/pii.py). 8 is the smallest cap that
# keeps the second countries issue 17 names (Morocco is Arabic's 7th country, Canada French's
# 7th); small countries with short numbers and no national prefix (Cape Verde's seven digits)
# found more numbers in tables of figures than in the Faker documents, hence the minimum share.
MAX_REGIONS = 8
MIN_PHONE_SHARE = 0.01

# ccTLDs used as generic brands (Google Search Central's list of generic ccTLDs), and the ISO
# code of the one ccTLD that is not its country's ISO 3166 code.
GENERIC_CCTLDS = frozenset(
    {
        "ad",
        "ai",
        "as",
        "bz",
        "cc",
        "cd",
        "co",
        "dj",
        "fm",
        "gg",
        "io",
        "la",
        "me",
        "ms",
        "nu",
        "sc",
        "sr",
        "su",
        "tk",
        "tv",
        "ws",
    }
)
_TLD_REGION = {"uk": "GB"}


@functools.cache
def _populations() -> dict[str, float]:
    """Territory → population, from CLDR territoryInfo (language_data ships the XML)."""
    xml = (Path(language_data.__file__).parent / "data" / "supplementalData.xml").read_text(encoding="utf-8")
    return {
        m.group(1): float(m.group(2))
        for m in re.finditer(r'<territory type="([A-Z]{2})"[^>]*?\spopulation="([0-9.]+)"', xml)
    }


def _cldr_keys(lang: str) -> list[str]:
    """Keys babel may file LANG under: the BCP-47 tag of its registry entry, its bare language,
    and the language CLDR files that one under (Twi → Akan)."""
    registry = load_registry()
    code = registry.resolve(lang)
    if code is None or code == UNDETERMINED:
        return []
    entry = registry[code]
    tag = (entry.bcp47 or entry.iso639_1 or entry.iso639_3 or code).replace("-", "_")
    base = tag.split("_")[0]
    return list(dict.fromkeys(filter(None, [tag, base, get_global("language_aliases").get(base)])))


@functools.cache
def speakers(lang: str) -> tuple[tuple[str, float, bool], ...]:
    """(territory, share of the language's speakers, official) for every CLDR territory of LANG,
    most speakers first."""
    rows = get_global("territory_languages")
    population = _populations()
    for key in _cldr_keys(lang):
        found = [
            (
                territory,
                population.get(territory, 0.0) * info[key]["population_percent"] / 100,
                info[key]["official_status"],
            )
            for territory, info in rows.items()
            if key in info
        ]
        total = sum(n for _, n, _ in found)
        if found and total > 0:
            found.sort(key=lambda row: (-row[1], row[0]))
            return tuple((territory, n / total, bool(status)) for territory, n, status in found)
    return ()


@functools.cache
def language_regions(lang: str | None) -> tuple[str, ...]:
    """Every country of LANG (ISO 3166 codes), most speakers first; () for no language."""
    if not lang:
        return ()
    regions = tuple(t for t, share, official in speakers(lang) if official or share >= MIN_SHARE)
    if regions:
        return regions
    likely = get_global("likely_subtags")
    for key in _cldr_keys(lang):
        region = likely.get(key, "").rsplit("_", 1)[-1]
        if re.fullmatch(r"[A-Z]{2}", region):
            return (region,)
    return ()


def url_region(url: str | None) -> str | None:
    """The country of URL's country-code TLD (`https://x.com.br/` → BR), or None."""
    if not url:
        return None
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    except ValueError:
        return None
    tld = host.rstrip(".").rsplit(".", 1)[-1].lower()
    if len(tld) != 2 or not tld.isascii() or not tld.isalpha() or tld in GENERIC_CCTLDS:
        return None
    region = _TLD_REGION.get(tld, tld.upper())
    return region if region in _territories() else None


@functools.cache
def _territories() -> frozenset[str]:
    return frozenset(get_global("territory_languages"))


@functools.cache
def phone_language_regions(lang: str | None, limit: int = MAX_REGIONS) -> tuple[str, ...]:
    """The first LIMIT countries of LANG that hold at least MIN_PHONE_SHARE of its speakers (the
    first country always)."""
    regions = language_regions(lang)
    share = {t: s for t, s, _ in speakers(lang)} if lang else {}
    return tuple(r for i, r in enumerate(regions) if i == 0 or share.get(r, 0.0) >= MIN_PHONE_SHARE)[:limit]


@functools.cache
def document_regions(lang: str | None, tld: str | None = None, limit: int | None = None) -> tuple[str, ...]:
    """The countries a document's national numbers may belong to: TLD (its URL's, see url_region),
    then those of its language: all of them, or with LIMIT its phone regions (phone_language_regions)."""
    regions = language_regions(lang) if limit is None else phone_language_regions(lang, limit)
    return (tld, *(r for r in regions if r != tld)) if tld else regions
