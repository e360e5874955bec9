"""PII detection and redaction as plain functions (no Beam).

ROOTS (bigscience-workshop/data-preparation
`preprocessing/training/02_pii/bigscience_pii_detect_redact.py`) redacted KEY, EMAIL, USER and
IP_ADDRESS with language-agnostic regexes and replaced each hit by `PI:<TAG>`; it dropped ID and
phone numbers "due to false positives". Here every numeric category is *validated* before it is
redacted, so they can come back:

  category      candidate (all regexes bounded, linear)           validator / screens
  EMAIL         ASCII local@label(.label){0,8}.tld               TLD = >= 2 ASCII letters
  IP_ADDRESS    dotted quad / hex-and-colon run (+ IPv4 tail)    `ipaddress`; version screen
                                                                  ("v2.10.3.1", "version 1.2.3.4");
                                                                  `private=False` keeps only global
  PHONE         short run of digits/space/.-() (<= 40 chars)     `phonenumbers` VALID leniency with each
                                                                  default region of the document: its
                                                                  URL's ccTLD, then the countries of its
                                                                  language (filters/pii_regions.py, CLDR)
                                                                  (+international numbers: any region)
  CREDIT_CARD   13-19 digits, optional single space/dash seps    `stdnum.luhn` + known IIN prefix/length
  IBAN          CC dd + 10-30 [A-Z0-9] (optional spaces)         `stdnum.iban.is_valid` (trailing groups
                                                                  are trimmed until it validates)
  NATIONAL_ID   each personal number python-stdnum validates     its stdnum module; a shape that counts
                for the countries of the registry's languages    anywhere (HETU, CURP), else only in
                (filters/pii_ids.py)                              documents of its country (language or
                                                                  ccTLD) and in its written form or
                                                                  after its label ("SSN", "NHS", "CPF")
  USER          @handle (>= 3 word chars, not after a local-part char, not a code annotation)
  KEY           PEM private-key blocks; AWS/GitHub/Slack/Google/Stripe/JWT token formats;
                high-entropy (>= 3.5 bits/char, >= 20 chars, letters + digits) values assigned to
                api_key / token / secret / password / ... keys

False-positive screens for every digit candidate: dates and year ranges, ISBNs (13 digits, or
10 written in their four parts, and anything right after "ISBN"), prices (currency sign/code
adjacent), version numbers, checksum failures; for phone numbers also counts grouped by
thousands as CLDR locales write them. Digits of other scripts (Arabic-Indic, Bengali,
Devanagari...) are read as their ASCII values. Overlaps: the longest match wins, ties go to the
more specific category (CATEGORIES order, a national id before a card number).

Linear time: every pattern has bounded repetitions, no nested unbounded quantifiers, and a
"not preceded by a candidate character" lookbehind so a long run is tried from its start only;
phonenumbers only sees the short candidate windows, never the whole document, and only for the
regions whose screen the window passes; the id types of a document are one regex.

`redact` never logs or returns the removed values: only the new text and per-category counts.
Unlike ROOTS (which used `str.replace`, hitting every copy of the string) redaction is by span.
"""

from __future__ import annotations

import bisect
import functools
import importlib
import ipaddress
import math
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import unquote

import orjson
import phonenumbers
import regex
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    SUPPORTED_REGIONS,
    Leniency,
    PhoneMetadata,
    PhoneNumberMatcher,
    country_code_for_region,
    region_code_for_country_code,
)
from stdnum import iban as _iban
from stdnum import isbn as _isbn

from rootstock.filters.pii_ids import ANY, ID_TYPES, KEYWORD_WINDOW
from rootstock.filters.pii_regions import MAX_REGIONS, document_regions, url_region

# Most specific first: used to break ties between overlapping matches of equal length (_PRIORITY).
CATEGORIES: tuple[str, ...] = (
    "KEY",
    "EMAIL",
    "IBAN",
    "CREDIT_CARD",
    "NATIONAL_ID",
    "IP_ADDRESS",
    "PHONE",
    "USER",
)
# What ROOTS actually redacted in the BLOOM training data.
ROOTS_CATEGORIES: frozenset[str] = frozenset({"KEY", "EMAIL", "USER", "IP_ADDRESS"})
# Ties between overlapping matches of equal length: CATEGORIES order, except that a national id
# beats a card number, whose check is the weaker (Luhn passes one random number in ten; an
# 18-digit Chinese RIC or a labelled 12-digit Aadhaar can also pass a card prefix and Luhn).
_PRIORITY = {c: i for i, c in enumerate(CATEGORIES)} | {"NATIONAL_ID": CATEGORIES.index("CREDIT_CARD") - 0.5}

_PHONE_REGIONS = frozenset(SUPPORTED_REGIONS)


def phone_regions(lang: str | None, url: str | None = None) -> tuple[str, ...]:
    """Default regions for a document's national-format phone numbers: its URL's country, then
    the first MAX_REGIONS countries of its language (filters/pii_regions.py). Numbers written
    with a leading "+" are parsed whatever the region."""
    return tuple(r for r in document_regions(lang, url_region(url), MAX_REGIONS) if r in _PHONE_REGIONS)


class Match(NamedTuple):
    """A span of TEXT and its category; a tuple, so sorting a million of them stays in C."""

    start: int
    end: int
    category: str


# --------------------------------------------------------------------------- screens

_Y = r"(?:1[5-9]|20)[0-9]{2}"
_M = r"(?:0?[1-9]|1[0-2])"
_D = r"(?:0?[1-9]|[12][0-9]|3[01])"
# Searched inside every digit candidate: a candidate containing a date or a year range is screened.
_DATE = re.compile(
    rf"(?<![0-9]){_Y}\s?[-–/]\s?{_Y}(?![0-9])"  # year range 1998-2004
    rf"|(?<![0-9]){_Y}([-/.]){_M}(?:\1{_D})?(?![0-9])"  # yyyy-mm(-dd)
    rf"|(?<![0-9])(?:{_D}([-/.]))?{_M}([-/.]){_Y}(?![0-9])"  # (dd-)mm-yyyy, mm/yyyy
)
_CURRENCY_BEFORE = re.compile(r"[$€£¥₹₩₦₱₫฿₺₽]\s?$|\b(?:USD|EUR|GBP|INR|CNY|RMB|Rs\.?|R\$|KES|TSh)\s?$")
_CURRENCY_AFTER = re.compile(r"^\s?(?:[$€£¥₹₩₦元]|(?:USD|EUR|GBP|INR|CNY|RMB|KES|TSh|euros?|dollars?)\b)")
_VERSION_BEFORE = re.compile(
    r"(?:\b[vV]|\b(?:version|Version|VERSION|ver\.?|release|build|versión|versão|versio))[:#]?\s?$"
)
_ISBN_BEFORE = re.compile(r"ISBN(?:-1[03])?:?\s?$", re.IGNORECASE)
_NON_DIGIT = re.compile(r"[^0-9Xx]")
# How an ISBN-10 is written when it is not labelled: hyphenated or spaced into its four parts
# (group, publisher, title, check), the check last and alone. A bare ten-digit number is not
# taken for one: one random ten-digit number in eleven passes the ISBN-10 check, phone numbers
# included.
_ISBN10_WRITTEN = re.compile(r"[0-9]{1,5}([- ])[0-9]{1,7}\1[0-9]{1,7}\1[0-9Xx]")
_CHECK_X = re.compile(r"[- ]?[Xx](?![0-9A-Za-z])")
# A number grouped by thousands ("1 234 567", "9.290.104.089"), as locales write counts and
# prices (CLDR): not a phone number when the separator is a dot or the first group is shorter
# than three digits, which no national phone format does; with the typographic thousands
# separators (no-break and thin spaces, as CLDR's French, Portuguese or Finnish write counts),
# not unless the number's country writes its phone numbers grouped that way ("912 345 678" in
# Portugal). Typed spaces are left alone: "612 345 678" is how Spaniards write mobile numbers.
_THOUSANDS = re.compile(r"[1-9][0-9]{0,2}([.\u00a0\u202f\u2009 ])[0-9]{3}(?:\1[0-9]{3})+(?![0-9])")
_TYPOGRAPHIC = "\u00a0\u202f\u2009"
_DOTTED_THOUSANDS = re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9]{3}){2,}")
_DECIMALS_AFTER = re.compile(r",[0-9]{1,2}(?![0-9])")


def _is_date(s: str) -> bool:
    return _DATE.search(s) is not None


def _screened(text: str, start: int, end: int, dates: bool = True, isbn: bool = True) -> bool:
    """True if the digit string at [start, end) is (or contains) a date, or is an ISBN, price or version.

    ISBN: also screen a bare valid ISBN; a labelled id skips that, since every UK NHS number is
    a valid ISBN-10 (both are the same mod-11 checksum).
    """
    s = text[start:end]
    if dates and _is_date(s):
        return True
    before = text[max(0, start - 12) : start]
    if _ISBN_BEFORE.search(before) or _CURRENCY_BEFORE.search(before) or _VERSION_BEFORE.search(before):
        return True
    if _CURRENCY_AFTER.match(text[end : end + 8]):
        return True
    if not isbn:
        return False
    x = _CHECK_X.match(text, end)  # the phone window stops before an ISBN's check "X"
    # the whole span, or its last word ("7. 1-5105-3623-X": a phone window took the "7." before it)
    for part in dict.fromkeys((s, s.rsplit(None, 1)[-1])):
        compact = _NON_DIGIT.sub("", part)
        if len(compact) == 13 and _isbn.is_valid(compact):
            return True
        if x and len(compact) == 9:
            part, compact = part + text[end : x.end()], compact + "X"
        if len(compact) == 10 and _ISBN10_WRITTEN.fullmatch(part) is not None and _isbn.is_valid(compact):
            return True
    return False


def _grouped_count(text: str, start: int, end: int, regions: tuple[str, ...]) -> bool:
    """True if the number at [start, end) begins with a count or amount grouped by thousands
    that ends where its groups end, ends with one grouped by dots ("7. 326.757.306") or is
    followed by decimals ("9 629 908,39 R$")."""
    if _DOTTED_THOUSANDS.fullmatch(text[start:end].rsplit(None, 1)[-1]):
        return True
    m = _THOUSANDS.match(text, start, end)
    if m is not None:
        rest = text[m.end() : m.end() + 2]
        whole = not (len(rest) == 2 and rest[0] == m.group(1) and rest[1].isdigit())
        sep, first = m.group(1), m.start(1) - start
        if whole and (sep == "." or first < 3):
            return True
        if whole and sep in _TYPOGRAPHIC and not _written_nationally(text[start:end], regions):
            return True
    return _DECIMALS_AFTER.match(text, end) is not None


def _written_nationally(number: str, regions: tuple[str, ...]) -> bool:
    """True if NUMBER is grouped as the national format of a region of REGIONS that accepts it."""
    groups = [len(g) for g in _GROUPS.findall(number)]
    for region in regions:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
            if [len(g) for g in _GROUPS.findall(national)] == groups:
                return True
    return False


# --------------------------------------------------------------------------- EMAIL / USER

# Internationalised addresses (RFC 6531 local parts, IDN domains) are letters of any script. A
# local part and a domain are each written in one "word class": spaced scripts (Latin, Cyrillic,
# Arabic, Devanagari...) or unspaced ones (Han, kana, Hangul, Thai...), so in unspaced text the
# address stops where the script changes ("请联系zhang.wei@example.cn或致电"). Hand-written because
# the `email-validator`-style libraries validate one string, they do not find addresses in text.
_UNSPACED = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_SPACED_CH = rf"[[\p{{L}}\p{{M}}\p{{Nd}}]--[{_UNSPACED}]]"
_UNSPACED_CH = rf"[{_UNSPACED}\p{{M}}0-9]"


def _local(ch: str) -> str:
    """A local part of word class CH (one character class), not preceded by more of it."""
    return rf"(?<![{ch}._%+\-])[{ch}_%+\-](?:[{ch}._%+\-]{{0,62}}[{ch}_%+\-])?"


def _domain(ch: str) -> str:
    """Labels of word class CH, then a TLD: >= 2 letters, or punycode (xn--...)."""
    label = rf"{ch}(?:[{ch}\-]{{0,61}}{ch})?"
    tld = rf"(?:[xX][nN]--[A-Za-z0-9\-]{{0,58}}[A-Za-z0-9]|[[{ch}]--[\p{{Nd}}\p{{M}}]][[{ch}]--[\p{{Nd}}]]{{1,23}})"
    return rf"(?:{label}\.){{1,8}}{tld}(?![{ch}\-]|\.{ch})"


# Either word class for the local part, either for the domain ("用户@example.com" exists).
_EMAIL = regex.compile(
    f"(?:{_local(_SPACED_CH)}|{_local(_UNSPACED_CH)})[@\\uff20](?:{_domain(_SPACED_CH)}|{_domain(_UNSPACED_CH)})",
    regex.VERSION1,
)
# \w is Unicode, so handles in any script work; the lookbehind keeps "a@b" (email-ish) out.
_USER = re.compile(r"(?<![\w.%+\-@])@(\w{3,30})(?![\w@]|\.[A-Za-z]{2})")
_CODE_ANNOTATIONS = frozenset(
    {
        "param",
        "return",
        "returns",
        "throws",
        "raises",
        "type",
        "property",
        "staticmethod",
        "classmethod",
        "dataclass",
        "override",
        "deprecated",
        "media",
        "import",
        "keyframes",
        "font",
        "charset",
        "supports",
        "interface",
        "end",
        "implementation",
        "author",
        "see",
        "since",
        "version",
        "todo",
        "example",
        "brief",
        "file",
        "var",
        "code",
        "link",
    }
)


# An at-sign ("@", or the full-width "＠" of CJK text) that could be inside an address: a
# non-space before it and a dot among the non-spaces after it. Cheap (stdlib re), it keeps the
# Unicode-wide address pattern off text that cannot hold one.
_AT = re.compile(r"(?<=[^\s@\uff20])[@\uff20](?=[^\s@\uff20]{1,600}\.)")
_LOCAL_MAX, _DOMAIN_MAX = 64, 600  # longest local part the pattern takes; longer than any domain it takes


def _emails(text: str) -> Iterable[Match]:
    """The address pattern runs only in windows around candidate at-signs; nearby ones share a
    window, so the work stays linear however many there are."""
    lo = hi = -1
    for at in _AT.finditer(text):
        start = at.start() - _LOCAL_MAX
        if start > hi >= 0:
            yield from _emails_in(text, lo, hi)
            lo = -1
        if lo < 0:
            lo = max(0, start)
        hi = at.end() + _DOMAIN_MAX
    if lo >= 0:
        yield from _emails_in(text, lo, min(hi, len(text)))


def _emails_in(text: str, lo: int, hi: int) -> Iterable[Match]:
    for m in _EMAIL.finditer(text, lo, hi):
        if m.end() < hi or hi == len(text):  # else the domain may go on past the window: as in the whole text, no match
            yield Match(m.start(), m.end(), "EMAIL")


def _users(text: str) -> Iterable[Match]:
    for m in _USER.finditer(text):
        handle = m.group(1)
        if handle.isdigit() or handle.lower() in _CODE_ANNOTATIONS:
            continue
        yield Match(m.start(), m.end(), "USER")


# --------------------------------------------------------------------------- IP_ADDRESS

_IPV4 = re.compile(r"(?<![0-9A-Za-z_.])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?![0-9A-Za-z_]|\.[0-9])")
_IPV6 = re.compile(
    r"(?<![0-9A-Za-z_:.])(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)"
    r"[0-9A-Fa-f:]{2,39}(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3})?"
    r"(?![0-9A-Za-z_:]|\.[0-9])"
)


def _ipv4_ok(quad: str) -> bool:
    """What ipaddress.IPv4Address accepts of a dotted quad (octets <= 255, no leading zeros),
    without building the object: text dense with addresses spent most of its time there."""
    return all(len(o) == 1 or (o[0] != "0" and int(o) <= 255) for o in quad.split("."))


def _ips(text: str, private: bool) -> Iterable[Match]:
    for m in _IPV4.finditer(text):
        if not _ipv4_ok(m.group()):
            continue
        if _VERSION_BEFORE.search(text[max(0, m.start() - 12) : m.start()]):
            continue
        if private or ipaddress.IPv4Address(m.group()).is_global:
            yield Match(m.start(), m.end(), "IP_ADDRESS")
    for m in _IPV6.finditer(text):
        s = m.group()
        groups = [g for g in re.split(r"[:.]", s) if g]
        if len(groups) < 3 or not any(c.isdigit() for c in s):
            continue  # "::1", "a::b", "std::map" are not worth redacting / not addresses
        try:
            ip = ipaddress.IPv6Address(s)
        except ValueError:
            continue
        if private or ip.is_global:
            yield Match(m.start(), m.end(), "IP_ADDRESS")


# --------------------------------------------------------------------------- PHONE

# A short window of phone-ish characters; phonenumbers decides. Starts only at the left edge of a
# run (lookbehind), ends at a digit not followed by one, at most 40 characters.
_PHONE_CAND = re.compile(r"(?<![0-9A-Za-z+(\-.])(?:\+|\(\+?)?[0-9][0-9 \u00a0\u2009\-.()]{4,38}[0-9](?![0-9])")
_DIGITS = re.compile(r"[0-9]")
_DOTTED_QUAD = re.compile(r"\(?[0-9]{1,3}(?:\.[0-9]{1,3}){3}\)?")
_SINGLE_DIGIT_GROUP = re.compile(r"(?<![0-9])[0-9](?![0-9])")


# --- a cheap necessary condition before PhoneNumberMatcher
# PhoneNumberMatcher costs 0.1-0.4 ms a window (it re-parses several sub-spans), so a text dense
# with digit groups ("12 12 12 ...") cost seconds per MB. Every number it accepts has a national
# significant number (NSN) that ends a digit group and is what is left of a run of whole groups
# after a country code, IDD or national prefix, and the NSN fully matches the general pattern of
# a region of its country code (phonenumbers' own first test in is_valid_number). The screen
# below tests exactly that with phonenumbers' metadata, compiled once into one regex per region
# over the window's digit groups joined by "|"; windows that pass go to PhoneNumberMatcher, so
# results are those of the matcher alone. Hand-written because phonenumbers has no bulk screen.
_ATOM = re.compile(r"(\{[0-9,]*\})|\\d|\[[^\]]*\]|[0-9]")
_ANY_NSN = r"[0-9|]{0,40}"  # a branch the screen cannot narrow (a prefix rewrite that is not a suffix)


def _marked(pattern: str) -> str:
    """A metadata pattern over digits → the same over digits that may each be followed by "|"."""
    return _ATOM.sub(lambda m: m.group(1) or f"(?:{m.group()}\\|?)", pattern)


def _metadata(region: str, cc: int):
    if region == "001":
        return PhoneMetadata.metadata_for_nongeo_region(cc)
    return PhoneMetadata.metadata_for_region(region)


@functools.cache
def _nsn_branch(cc: int, region: str | None = None) -> str:
    """What may follow country code CC (or be written nationally in REGION): the national
    prefix phonenumbers strips (REGION's, else the main region's of CC), then an NSN of any
    region of CC."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(cc, ())
    metas = [m for m in (_metadata(r, cc) for r in regions) if m is not None]
    main = _metadata(region or region_code_for_country_code(cc), cc)
    if not metas or main is None or any(not m.general_desc.national_number_pattern for m in metas):
        return _ANY_NSN
    rule = main.national_prefix_transform_rule
    if rule and not re.fullmatch(r"\\[0-9]", rule):
        return _ANY_NSN  # e.g. AR inserts a 9, BS prepends 242: the NSN is not a suffix of what was written
    npp = main.national_prefix_for_parsing
    prefix = f"(?:{_marked(npp)})?" if npp else ""
    nsn = "|".join(dict.fromkeys(_marked(p) for m in metas for p in _typed_patterns(m)))
    return f"{prefix}(?:{nsn})"


_NUMBER_TYPES = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)


def _typed_patterns(meta) -> list[str]:
    """The NSN patterns of META's number types: is_valid_number wants the NSN to match one of
    them (phonenumbers' _number_type_helper), a narrower test than the general pattern, which
    the matcher also needs. The general pattern where a region lists no type."""
    typed = [desc.national_number_pattern for t in _NUMBER_TYPES if (desc := getattr(meta, t, None)) is not None]
    return [p for p in typed if p] or [meta.general_desc.national_number_pattern]


@functools.cache
def _international() -> str:
    return "(?:" + "|".join(f"{_marked(str(cc))}{_nsn_branch(cc)}" for cc in sorted(COUNTRY_CODE_TO_REGION_CODE)) + ")"


_END = r"\|?(?![0-9])"


@functools.cache
def _international_screen() -> re.Pattern[str]:
    """A window starting with "+": where its first group may start an international number."""
    return re.compile(rf"^{_international()}{_END}")


@functools.cache
def _national_screen(region: str) -> re.Pattern[str]:
    """Where a national number of default REGION may start (its national prefix optional)."""
    return re.compile(rf"(?<![0-9])(?:{_nsn_branch(country_code_for_region(region), region)}){_END}")


@functools.cache
def _own_code_screen(region: str) -> re.Pattern[str]:
    """Where a number written with REGION's country code but no "+" may start (phonenumbers
    strips the region's own code too)."""
    cc = country_code_for_region(region)
    return re.compile(rf"(?<![0-9])(?:{_marked(str(cc))}{_nsn_branch(cc, region)}){_END}")


class _Plan(NamedTuple):
    """What parsing a national number with default region needs, from phonenumbers' metadata."""

    prefix: re.Pattern[str] | None  # national_prefix_for_parsing
    transform: str | None  # national_prefix_transform_rule
    typed: re.Pattern[str]  # an NSN of some number type of some region of the country code
    shortest: int
    longest: int
    formats: tuple[tuple[re.Pattern[str] | None, re.Pattern[str], bool], ...]  # (leading digits, pattern, needs prefix)


_FIRST_GROUP_ONLY = re.compile(r"\(?\\1\)?")  # phonenumbers' _FIRST_GROUP_ONLY_PREFIX_PATTERN


@functools.cache
def _plan(region: str) -> _Plan | None:
    cc = country_code_for_region(region)
    meta = PhoneMetadata.metadata_for_region(region)
    main = PhoneMetadata.metadata_for_region(region_code_for_country_code(cc))
    metas = [m for m in map(PhoneMetadata.metadata_for_region, COUNTRY_CODE_TO_REGION_CODE.get(cc, ())) if m]
    if meta is None or main is None or not metas:
        return None
    lengths = [n for m in metas for n in m.general_desc.possible_length or ()]
    formats = tuple(
        (
            re.compile(f.leading_digits_pattern[-1]) if f.leading_digits_pattern else None,
            re.compile(f.pattern),
            bool(f.national_prefix_formatting_rule)
            and not f.national_prefix_optional_when_formatting
            and not _FIRST_GROUP_ONLY.fullmatch(f.national_prefix_formatting_rule),
        )
        for f in main.number_format
    )
    return _Plan(
        re.compile(meta.national_prefix_for_parsing) if meta.national_prefix_for_parsing else None,
        meta.national_prefix_transform_rule or None,
        re.compile("|".join(f"(?:{p})" for m in metas for p in _typed_patterns(m))),
        min(lengths, default=1),
        max(lengths, default=17),
        formats,
    )


def _needs_prefix(plan: _Plan, nsn: str) -> bool:
    """phonenumbers' _is_national_prefix_present_if_required: the first format of the country's
    main region that fits NSN asks for the national prefix."""
    for leading, pattern, needs in plan.formats:
        if (leading is None or leading.match(nsn)) and pattern.fullmatch(nsn):
            return needs
    return False


def _prefix_fits(written: str, plan: _Plan) -> bool:
    """True if the digits WRITTEN could be a number written nationally in the plan's region: its
    national prefix and an NSN, or an NSN of a format that does not ask for the prefix.

    The screens above leave the national prefix optional; the matcher (VALID leniency) does not
    where the number's format asks for it, so "612 345 678" is no Finnish or Moroccan number.
    """
    if len(written) > plan.longest + 6:
        return False
    prefix = plan.prefix.match(written) if plan.prefix is not None else None
    if prefix is not None and prefix.end() > 0:
        if plan.transform:
            return True  # the NSN is rewritten: no shortcut
        rest = written[prefix.end() :]
        if plan.shortest <= len(rest) <= plan.longest and plan.typed.fullmatch(rest):
            return True
    fits = plan.shortest <= len(written) <= plan.longest and plan.typed.fullmatch(written)
    return bool(fits) and (prefix is not None or not _needs_prefix(plan, written))


@functools.cache
def _idd_screen() -> re.Pattern[str]:
    """Where a number dialled from abroad may start: any region's international (IDD) prefix,
    then an international number. Shared by all regions (a superset of each region's own IDD
    branch, so still only a shortcut): one region's branch would repeat the whole international
    pattern, and compiling that once per region cost 0.2 s each."""
    idds = sorted(
        {
            meta.international_prefix
            for meta in map(PhoneMetadata.metadata_for_region, SUPPORTED_REGIONS)
            if meta is not None and meta.international_prefix
        }
    )
    return re.compile(rf"(?<![0-9])(?:{'|'.join(_marked(i) for i in idds)}){_international()}{_END}")


_GROUPS = re.compile(r"[0-9]+")


def _matcher(cand: str, region: str | None) -> list[tuple[int, int]]:
    return [(pm.start, pm.end) for pm in PhoneNumberMatcher(cand, region, leniency=Leniency.VALID, max_tries=8)]


# What PhoneNumberMatcher parses in a window: the whole window (one candidate of its pattern:
# up to 21 digit blocks of at most 20 digits, at most 4 punctuation characters between, thin
# spaces not among them), and its "inner matches" (phonenumbers' _INNER_MATCHES): the parts
# before and after a space, a dot, " - ", "(" or "/". So each number it tries is the run of digit
# groups from a group start to the window's end or to the first such separator after it.
_MATCHER_SEPARATORS = (
    re.compile(r"\s"),
    re.compile(r"\."),
    re.compile(r"\("),
    re.compile(r"\s-|-\s"),
    re.compile(r"/"),
)
_OUTSIDE_ONE_CANDIDATE = re.compile(r"[^0-9]{5,}|[0-9]{21,}|\u2009")


def _tried_numbers(cand: str) -> list[tuple[bool, tuple[str, ...]]] | None:
    """(starts with "+", digit groups) of every number the matcher may parse in CAND, or None when
    the window is not one candidate of its pattern (then every run of whole groups is screened)."""
    if _OUTSIDE_ONE_CANDIDATE.search(cand):
        return None
    found = list(_GROUPS.finditer(cand))
    if len(found) > 21:
        return None
    starts = [g.start() for g in found]
    groups = [g.group() for g in found]
    stops = [[m.start() for m in sep.finditer(cand)] for sep in _MATCHER_SEPARATORS]
    plus = cand.lstrip("(").startswith("+")
    runs: set[tuple[int, int]] = set()
    for i, x in enumerate(starts):
        runs.add((i, len(groups)))
        for positions in stops:
            k = bisect.bisect_right(positions, x)
            if k < len(positions):
                runs.add((i, bisect.bisect_left(starts, positions[k])))
    return [(plus and i == 0, tuple(groups[i:j])) for i, j in sorted(runs) if j > i]


def _national_run(region: str, groups: tuple[str, ...]) -> bool:
    """True if default REGION could make a number of GROUPS (written without "+")."""
    marked = "|".join(groups)
    if _own_code_screen(region).fullmatch(marked):
        return True
    if not _national_screen(region).fullmatch(marked):
        return False
    plan = _plan(region)
    return plan is None or _prefix_fits("".join(groups), plan)


def _national_anywhere(region: str, groups: list[str]) -> bool:
    """The same for any run of whole GROUPS (a window the matcher may split otherwise)."""
    marked = "|".join(groups)
    if _own_code_screen(region).search(marked):
        return True
    if not _national_screen(region).search(marked):
        return False
    plan = _plan(region)
    n = len(groups)
    return plan is None or any(_prefix_fits("".join(groups[i:j]), plan) for i in range(n) for j in range(i + 1, n + 1))


@functools.lru_cache(maxsize=16384)
def _window_numbers(cand: str, regions: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """Spans PhoneNumberMatcher accepts in one candidate window with any of REGIONS as the default
    region (their union; none: only "+" numbers), sorted; cached, since number lists repeat windows.

    The matcher runs only for the regions that could parse one of the numbers it would try there.
    A region that can parse none of them can only accept the "+" number the window starts with,
    which is parsed whatever the region, so one run without a region stands for all of them.
    """
    spans: set[tuple[int, int]] = set()
    tried = _tried_numbers(cand)
    if tried is None:
        groups = _GROUPS.findall(cand)
        marked = "|".join(groups)
        if regions and _idd_screen().search(marked):
            national = list(regions)
        else:
            national = [r for r in regions if _national_anywhere(r, groups)]
        international = cand.lstrip("(").startswith("+") and _international_screen().search(marked) is not None
    else:
        local = [groups for plus, groups in tried if not plus]
        if regions and any(_idd_screen().fullmatch("|".join(groups)) for groups in local):
            national = list(regions)
        else:
            national = [r for r in regions if any(_national_run(r, groups) for groups in local)]
        international = any(plus and _international_screen().fullmatch("|".join(g)) for plus, g in tried)
    for region in national:
        spans.update(_matcher(cand, region))
    if international and (len(national) < len(regions) or not regions):
        spans.update(_matcher(cand, None))
    return tuple(sorted(spans))


def _phones(text: str, regions: tuple[str, ...]) -> Iterable[Match]:
    for m in _PHONE_CAND.finditer(text):
        cand = m.group()
        n_digits = len(_DIGITS.findall(cand))
        if n_digits < 7:
            continue
        if not regions and "+" not in cand:
            continue
        if len(_SINGLE_DIGIT_GROUP.findall(cand)) > 2:
            continue  # "1 2 3 4 5 6 7": digit lists, not numbers (also keeps adversarial input cheap)
        for rel_start, rel_end in _window_numbers(cand, regions):
            start, end = m.start() + rel_start, m.start() + rel_end
            if _DOTTED_QUAD.fullmatch(text[start:end]):
                continue  # "(164.159.232.91": an IPv4 address, which some regions' plans also accept
            if not _screened(text, start, end) and not _grouped_count(text, start, end, regions):
                yield Match(start, end, "PHONE")


# --------------------------------------------------------------------------- CREDIT_CARD / IBAN

_CARD = re.compile(r"(?<![0-9A-Za-z\-.,])[0-9](?:[ \-]?[0-9]){11,18}(?![0-9A-Za-z]|[.,][0-9])")
_SEP = re.compile(r"[ \-]")


def _known_iin(d: str) -> bool:
    n = len(d)
    p2, p3, p4, p6 = int(d[:2]), int(d[:3]), int(d[:4]), int(d[:6])
    if d[0] == "4":
        return n in (13, 16, 19)  # Visa
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16  # Mastercard
    if p2 in (34, 37):
        return n == 15  # Amex
    if p4 == 6011 or 644 <= p3 <= 649 or p2 == 65:
        return 16 <= n <= 19  # Discover
    if 3500 <= p4 <= 3599:
        return 16 <= n <= 19  # JCB (3528-3589 assigned; the rest of 35 is JCB-reserved, test data uses it)
    if p4 in (2131, 1800):
        return n == 15  # JCB, legacy 15-digit ranges
    if 300 <= p3 <= 305 or p2 in (36, 38, 39):
        return 14 <= n <= 19  # Diners
    if p2 == 62:
        return 16 <= n <= 19  # UnionPay
    if p2 in (50, 56, 57, 58, 67) or p4 in (604, 6304, 6390) or p6 in (676770, 676774):
        return 12 <= n <= 19  # Maestro (incl. the former UK/international ranges 0604, 6390, 676x; 67xx as
        # Portuguese Maestro cards use, Faker's pt_PT list from bincheck.org)
    if 2200 <= p4 <= 2204:
        return n == 16  # Mir
    return False


_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def _luhn_ok(digits: str) -> bool:
    """stdnum.luhn.is_valid for a digit string (stdnum's is generic over alphabets and cost
    most of the time on text dense with card-like numbers; tests check they agree)."""
    values = [ord(c) - 48 for c in reversed(digits)]
    return (sum(values[0::2]) + sum(_LUHN_DOUBLED[v] for v in values[1::2])) % 10 == 0


def _cards(text: str) -> Iterable[Match]:
    for m in _CARD.finditer(text):
        s = m.group()
        seps = set(_SEP.findall(s))
        if len(seps) > 1:
            continue  # mixed separators: not a card as people write it
        d = _SEP.sub("", s)
        if len(set(d)) < 2 or not _known_iin(d) or not _luhn_ok(d):
            continue
        if _screened(text, m.start(), m.end(), dates=False):
            continue
        yield Match(m.start(), m.end(), "CREDIT_CARD")


_IBAN = re.compile(r"(?<![0-9A-Za-z])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){10,30}(?![0-9A-Za-z])")


def _mod97_ok(candidate: str) -> bool:
    """The ISO 7064 check every IBAN passes, as one big-int remainder: a cheap screen before
    stdnum's full validation (country lengths and formats), which costs far more per candidate."""
    compact = candidate.replace(" ", "")
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _ibans(text: str) -> Iterable[Match]:
    for m in _IBAN.finditer(text):
        s = m.group()
        # greedy matching may swallow a following upper-case word ("... 32 BIC"); trim groups
        for _ in range(8):
            if _mod97_ok(s) and _iban.is_valid(s):
                yield Match(m.start(), m.start() + len(s), "IBAN")
                break
            cut = s.rfind(" ")
            if cut < 15:
                break
            s = s[:cut]


# --------------------------------------------------------------------------- NATIONAL_ID

# Boundaries of an id: not inside a word or a longer number, nor one group of a longer grouped
# number ("4539 1488 0343 6467" holds Aadhaar- and VID-shaped runs of groups).
_NB = r"(?<![0-9A-Za-z\-./])(?<![0-9] )"
_NA = r"(?![0-9A-Za-z]|[\-./][0-9A-Za-z]| [0-9])"


class _IdKind(NamedTuple):
    """An IdType of filters/pii_ids.py, compiled."""

    country: str
    validators: tuple[object, ...]
    pattern: re.Pattern[str]
    keywords: re.Pattern[str] | None
    written: re.Pattern[str] | str | None
    anywhere: re.Pattern[str] | str | None


def _form(regex: str | None) -> re.Pattern[str] | str | None:
    return regex if regex in (None, ANY) else re.compile(regex)


@functools.cache
def _id_kinds() -> tuple[_IdKind, ...]:
    return tuple(
        _IdKind(
            t.country,
            tuple(importlib.import_module(f"stdnum.{name}") for name in t.validators),
            re.compile(f"{_NB}(?:{t.pattern}){_NA}"),
            re.compile(t.keywords, re.IGNORECASE) if t.keywords else None,
            _form(t.written),
            _form(t.anywhere),
        )
        for t in ID_TYPES
    )


_PRUNE_AFTER = 256  # candidates, before the label-only types a text has no label for are dropped


@functools.lru_cache(maxsize=1024)
def _id_union(kinds: tuple[int, ...]) -> re.Pattern[str]:
    """One regex over the patterns of KINDS (indices into ID_TYPES), group g for kinds[g - 1]:
    a search finds where any of them starts in one pass instead of one pass per type (a few dozen
    for English), and tells the first that matches there; the union of the kinds after it, from
    the same position, tells the next, so the kinds that do not match are only tried in C."""
    union = "|".join(f"({ID_TYPES[i].pattern}){_NA}" for i in kinds)
    return re.compile(f"(?=[0-9A-ZÑ&]){_NB}(?:{union})")


@functools.cache
def _kinds_for(countries: tuple[str, ...] | None) -> tuple[tuple[int, ...], frozenset[int]]:
    """(types to look for, those of which the document is in the country): the types of COUNTRIES
    (None: unknown language, every type) and those that count in any document."""
    home = frozenset(i for i, t in enumerate(ID_TYPES) if countries is None or t.country in countries)
    return tuple(i for i, t in enumerate(ID_TYPES) if i in home or t.anywhere), home


def _fits(form: re.Pattern[str] | str | None, value: str) -> bool:
    return form is not None and (form == ANY or form.fullmatch(value) is not None)


@functools.lru_cache(maxsize=65536)
def _valid_id(validator, number: str) -> bool:
    """stdnum's check, cached: the same numbers recur across pages (footers, contact boxes).

    A validator that raises instead of answering (python-stdnum 2.2's cn.ric on a prefecture
    code without counties) has already passed the number's format, checksum and date: valid.
    """
    try:
        return validator.is_valid(number)
    except (KeyError, IndexError, ValueError, TypeError):
        return True


def _national_ids(text: str, countries: tuple[str, ...] | None) -> Iterable[Match]:
    if not _DIGITS.search(text):
        return
    indices, home = _kinds_for(countries)
    if not indices:
        return
    labels = _Labels(text)
    scanner = _id_union(indices)
    pos = hits = 0
    while (hit := scanner.search(text, pos)) is not None:
        start = hit.start()
        pos = start + 1
        m, rest = hit, indices
        while m is not None:
            g = m.lastindex
            match = _id_at(text, rest[g - 1], start, m.end(g), home, labels)
            if match is not None:
                yield match
            rest = rest[g:]
            m = _id_union(rest).match(text, start) if rest else None
        hits += 1
        if hits == _PRUNE_AFTER:
            # A text dense with id-shaped numbers (a list of card numbers has the shape of an
            # Aadhaar and of a VID at every group): stop looking for the types that only count
            # with a label the text does not have.
            indices = tuple(i for i in indices if not labels.unlabelled(i))
            if not indices:
                return
            scanner = _id_union(indices)


class _Labels:
    """Where each id type's labels occur in one text, found on first need with one pass per type:
    a text dense with id-shaped numbers (a card list matches the Aadhaar and VID shapes at every
    group) then costs a lookup per candidate, not a search."""

    def __init__(self, text: str):
        self.text = text
        self.spans: dict[int, tuple[list[int], list[int]]] = {}

    def unlabelled(self, i: int) -> bool:
        """True if type I counts only with a label and this text has none (as far as looked)."""
        kind = _id_kinds()[i]
        return kind.anywhere is None and kind.written is None and self.spans.get(i) == ([], [])

    def before(self, i: int, keywords: re.Pattern[str], start: int) -> bool:
        """True if a label of type I lies within KEYWORD_WINDOW characters before START."""
        if i not in self.spans:
            found = [(m.start(), m.end()) for m in keywords.finditer(self.text)]
            self.spans[i] = ([s for s, _ in found], [e for _, e in found])
        starts, ends = self.spans[i]
        j = bisect.bisect_left(starts, start - KEYWORD_WINDOW)
        while j < len(starts) and starts[j] < start:
            if ends[j] <= start:
                return True
            j += 1
        return False


def _id_at(text: str, i: int, start: int, end: int, home: frozenset[int], labels: _Labels) -> Match | None:
    """The id of kind I (index into ID_TYPES) at [start, end) if its evidence holds (HOME: the kinds
    of the document's countries) and it validates."""
    kind = _id_kinds()[i]
    s = text[start:end]
    labelled = False
    if not _fits(kind.anywhere, s):
        if i not in home:
            return None
        if not _fits(kind.written, s):
            labelled = kind.keywords is not None and labels.before(i, kind.keywords, start)
            if not labelled:
                return None
    if not any(_valid_id(v, s) for v in kind.validators):
        return None
    if _screened(text, start, end, dates=False, isbn=not labelled):
        return None
    return Match(start, end, "NATIONAL_ID")


# --------------------------------------------------------------------------- KEY

_PEM_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]{1,16} ){0,3}PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END (?:[A-Z0-9]{1,16} ){0,3}PRIVATE KEY(?: BLOCK)?-----")
_PEM_BODY = re.compile(r"[A-Za-z0-9+/=\s:,\-]{0,20000}")
_TOKENS = re.compile(
    r"(?<![A-Za-z0-9_\-])(?:"
    r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}"  # AWS access key ids
    r"|gh[pousr]_[A-Za-z0-9]{36,251}"  # GitHub tokens
    r"|github_pat_[A-Za-z0-9_]{22,251}"
    r"|xox[baprs]-[A-Za-z0-9\-]{10,250}"  # Slack
    r"|AIza[0-9A-Za-z_\-]{35}"  # Google API key
    r"|(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,247}|pk_live_[0-9A-Za-z]{16,247}"  # Stripe
    r"|eyJ[A-Za-z0-9_\-]{5,4000}\.eyJ[A-Za-z0-9_\-]{5,8000}\.[A-Za-z0-9_\-]{10,4000}"  # JWT
    r")(?![A-Za-z0-9_\-])"
)
_ASSIGNED = re.compile(
    r"(?<![A-Za-z0-9])(?:api[_\-]?key|apikey|api[_\-]?secret|secret(?:[_\-]?key)?|client[_\-]?secret"
    r"|(?:access|auth|refresh|bearer|api)?[_\-]?token|password|passwd|pwd|private[_\-]?key"
    r"|access[_\-]?key(?:[_\-]?id)?|credentials?)"
    r"[\"']?[ \t]{0,3}(?::=|=>|[:=])[ \t]{0,3}(?:[\"']|Bearer[ \t])?"
    r"([A-Za-z0-9+/=_\-.~]{20,256})(?![A-Za-z0-9+/=_\-.~])",
    re.IGNORECASE,
)


def shannon_entropy(s: str) -> float:
    """Bits per character of the string's own character distribution."""
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def _keys(text: str, min_entropy: float) -> Iterable[Match]:
    end_from = 0
    end_missing = "-----END" not in text
    for m in _PEM_BEGIN.finditer(text) if "-----BEGIN" in text else ():
        if m.start() < end_from:
            continue
        e = None if end_missing else _PEM_END.search(text, m.end())
        if e is None:
            end_missing = True  # no END after here means none after any later BEGIN either
            body = _PEM_BODY.match(text, m.end())
            stop = body.end() if body else m.end()
        else:
            stop = e.end()
        end_from = stop
        yield Match(m.start(), stop, "KEY")
    for m in _TOKENS.finditer(text):
        yield Match(m.start(), m.end(), "KEY")
    if "=" not in text and ":" not in text:
        return
    for m in _ASSIGNED.finditer(text):
        v = m.group(1)
        if shannon_entropy(v) >= min_entropy and any(c.isdigit() for c in v) and any(c.isalpha() for c in v):
            yield Match(m.start(1), m.end(1), "KEY")


# --------------------------------------------------------------------------- API


def _resolve(matches: list[Match]) -> list[Match]:
    """Non-overlapping subset: within each cluster of overlapping matches keep longest, then most specific."""
    if not matches:
        return []
    matches = sorted(set(matches))
    out: list[Match] = []
    i, n = 0, len(matches)
    while i < n:
        j, end = i + 1, matches[i].end
        while j < n and matches[j].start < end:
            end = max(end, matches[j].end)
            j += 1
        if j == i + 1:
            out.append(matches[i])
        else:
            kept: list[Match] = []
            ranked = sorted(matches[i:j], key=lambda x: (x.start - x.end, _PRIORITY.get(x.category, 99), x.start))
            for c in ranked:
                if all(c.end <= k.start or c.start >= k.end for k in kept):
                    kept.append(c)
            out.extend(sorted(kept))
        i = j
    return out


# Decimal digits of other scripts (Arabic-Indic ٠١٢, Bengali ০১২, Devanagari ०१२, ...): phone and
# id numbers are written with them, and phonenumbers/stdnum read them, but the candidate patterns
# here are ASCII. Each is one code point, so translating keeps every offset.
_NATIVE_DIGIT = re.compile(r"[^\D0-9]")


@functools.cache
def _digit_table() -> dict[int, int]:
    return {
        c: 48 + unicodedata.decimal(chr(c))
        for c in range(0x80, sys.maxunicode + 1)
        if unicodedata.category(chr(c)) == "Nd"
    }


def find_pii(
    text: str,
    lang: str | None = None,
    categories: set[str] | frozenset[str] | None = None,
    *,
    url: str | None = None,
    private: bool = True,
    min_entropy: float = 3.5,
    private_ip: bool | None = None,
) -> list[Match]:
    """Validated PII spans in `text`, sorted and non-overlapping.

    lang: registry code of the document language; its countries (filters/pii_regions.py) are the
      default regions of national-format phone numbers and the countries whose national ids are
      looked for beyond those that count anywhere. None: only +international phones, every id
      type (with its keyword or format).
    url: the document's URL; its country-code TLD adds that country to both.
    categories: subset of CATEGORIES (default all; ROOTS_CATEGORIES reproduces ROOTS's tag set).
    private: also redact private/reserved/loopback IP addresses (default True); `private_ip` is
      an alias (pipeline/pii.py passes that name) and wins when given.
    """
    if private_ip is not None:
        private = private_ip
    cats = set(CATEGORIES) if categories is None else set(categories)
    unknown = cats - set(CATEGORIES)
    if unknown:
        raise ValueError(f"unknown PII categories: {sorted(unknown)}")
    if _NATIVE_DIGIT.search(text):
        text = text.translate(_digit_table())
    found: list[Match] = []
    if "EMAIL" in cats or "USER" in cats:
        # emails are collected even when only USER is asked for, so handles inside them lose
        found.extend(_emails(text))
    if "USER" in cats and "@" in text:
        found.extend(_users(text))
    if "IP_ADDRESS" in cats:
        found.extend(_ips(text, private))
    if "PHONE" in cats:
        found.extend(_phones(text, phone_regions(lang, url)))
    if "CREDIT_CARD" in cats:
        found.extend(_cards(text))
    if "IBAN" in cats:
        found.extend(_ibans(text))
    if "NATIONAL_ID" in cats:
        tld = url_region(url)
        countries = None if lang is None and tld is None else document_regions(lang, tld)
        found.extend(_national_ids(text, countries))
    if "KEY" in cats:
        found.extend(_keys(text, min_entropy))
    return [m for m in _resolve(found) if m.category in cats]


def redact(text: str, matches: Iterable[Match], token_format: str = "PI:{category}") -> tuple[str, dict[str, int]]:
    """Replace each span by `token_format.format(category=...)`; return (new text, counts per category).

    Overlapping spans are resolved as in find_pii. The original values are neither returned nor logged.
    """
    kept = _resolve(list(matches))
    parts: list[str] = []
    counts: Counter[str] = Counter()
    pos = 0
    for m in kept:
        parts.append(text[pos : m.start])
        parts.append(token_format.format(category=m.category))
        counts[m.category] += 1
        pos = m.end
    parts.append(text[pos:])
    return "".join(parts), dict(counts)


def redact_json(blob: str, find, token_format: str = "PI:{category}") -> tuple[str, list[Match], dict[str, int]]:
    """Redact every string value inside the JSON text BLOB (a record's `meta`), at any depth.

    `find(text)` returns the matches of one value. Returns the new JSON (BLOB itself, byte for
    byte, when nothing was found), every match found (for drop decisions) and counts per
    category. Keys are field names, written by whoever made the data set, and stay as they are.
    """
    found: list[Match] = []
    counts: Counter[str] = Counter()

    def walk(value):
        if isinstance(value, str):
            matches = find(value)
            if not matches:
                return value
            found.extend(matches)
            new, n = redact(value, matches, token_format)
            counts.update(n)
            return new
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    try:
        parsed = orjson.loads(blob)
    except orjson.JSONDecodeError:
        new = walk(blob)  # not JSON after all: redact it as one string
        return (new, found, dict(counts)) if found else (blob, [], {})
    new = walk(parsed)
    if not found:
        return blob, [], {}
    return orjson.dumps(new, option=orjson.OPT_SORT_KEYS).decode(), found, dict(counts)


def redact_url(url: str, find, token_format: str = "PI:{category}") -> tuple[str, list[Match], dict[str, int]]:
    """Redact a URL; percent-encoded values ("email=a%40b.org") are decoded first, and a URL
    that held PII is stored decoded with the values replaced (it can no longer be fetched as
    it was, which is the point)."""
    decoded = unquote(url) if "%" in url else url
    matches = find(decoded)
    if not matches:
        return url, [], {}
    new, counts = redact(decoded, matches, token_format)
    return new, matches, counts
