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
  PHONE         short run of digits/space/.-() (<= 40 chars)     `phonenumbers` VALID leniency, with the
                                                                  region hint of REGION_BY_LANG
                                                                  (+international numbers: any region)
  CREDIT_CARD   13-19 digits, optional single space/dash seps    `stdnum.luhn` + known IIN prefix/length
  IBAN          CC dd + 10-30 [A-Z0-9] (optional spaces)         `stdnum.iban.is_valid` (trailing groups
                                                                  are trimmed until it validates)
  NATIONAL_ID   HETU, DNI/NIE, NIR, NIF, CPF, Aadhaar, RIC       `stdnum.{fi.hetu, es.dni, es.nie,
                                                                  fr.nir, pt.nif, br.cpf, in_.aadhaar,
                                                                  cn.ric}`; NIF and Aadhaar (one check
                                                                  digit, ~10% of random numbers pass)
                                                                  also need a keyword or grouped format
  USER          @handle (>= 3 word chars, not after a local-part char, not a code annotation)
  KEY           PEM private-key blocks; AWS/GitHub/Slack/Google/Stripe/JWT token formats;
                high-entropy (>= 3.5 bits/char, >= 20 chars, letters + digits) values assigned to
                api_key / token / secret / password / ... keys

False-positive screens for every digit candidate: dates and year ranges, valid ISBNs (and
anything right after "ISBN"), prices (currency sign/code adjacent), version numbers, checksum
failures. Overlaps: the longest match wins, ties go to the more specific category (CATEGORIES order).

Linear time: every pattern has bounded repetitions, no nested unbounded quantifiers, and a
"not preceded by a candidate character" lookbehind so a long run is tried from its start only;
phonenumbers only sees the short candidate windows, never the whole document.

`redact` never logs or returns the removed values: only the new text and per-category counts.
Unlike ROOTS (which used `str.replace`, hitting every copy of the string) redaction is by span.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import unquote

import orjson
import regex
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    Leniency,
    PhoneMetadata,
    PhoneNumberMatcher,
    country_code_for_region,
    region_code_for_country_code,
)
from stdnum import iban as _iban
from stdnum import isbn as _isbn
from stdnum.br import cpf as _cpf
from stdnum.cn import ric as _ric
from stdnum.es import dni as _dni
from stdnum.es import nie as _nie
from stdnum.fi import hetu as _hetu
from stdnum.fr import nir as _nir
from stdnum.in_ import aadhaar as _aadhaar
from stdnum.pt import nif as _nif

# Most specific first: used to break ties between overlapping matches of equal length.
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
_PRIORITY = {c: i for i, c in enumerate(CATEGORIES)}

# Document language (registry code) -> default region for national-format phone numbers.
# Numbers written with a leading "+" are parsed whatever the region. Choices for languages spoken in
# several countries are the most populous / most likely source of the ROOTS data and are guesses:
# sw -> KE (not TZ), ar -> EG, pt -> BR (not PT), es -> ES (not MX), bn -> BD (not IN), en -> US.
REGION_BY_LANG: dict[str, str] = {
    "en": "US",
    "fr": "FR",
    "fi": "FI",
    "es": "ES",
    "ca": "ES",
    "eu": "ES",
    "pt": "BR",
    "ar": "EG",
    "zhs": "CN",
    "zht": "TW",
    "vi": "VN",
    "id": "ID",
    "hi": "IN",
    "ta": "IN",
    "te": "IN",
    "ml": "IN",
    "kn": "IN",
    "mr": "IN",
    "gu": "IN",
    "pa": "IN",
    "or": "IN",
    "as": "IN",
    "bn": "BD",
    "ur": "PK",
    "ne": "NP",
    "sw": "KE",
    "yo": "NG",
    "ig": "NG",
    "rw": "RW",
    "rn": "BI",
    "xh": "ZA",
    "zu": "ZA",
    "nso": "ZA",
    "st": "ZA",
    "tn": "ZA",
    "ts": "ZA",
    "sn": "ZW",
    "ny": "MW",
    "tum": "MW",
    "lg": "UG",
    "wo": "SN",
    "fon": "BJ",
    "ln": "CD",
    "tw": "GH",
    "ak": "GH",
    "bm": "ML",
    "ki": "KE",
}


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


def _is_date(s: str) -> bool:
    return _DATE.search(s) is not None


def _screened(text: str, start: int, end: int, dates: bool = True) -> bool:
    """True if the digit string at [start, end) is (or contains) a date, or is an ISBN, price or version."""
    s = text[start:end]
    if dates and _is_date(s):
        return True
    before = text[max(0, start - 12) : start]
    if _ISBN_BEFORE.search(before) or _CURRENCY_BEFORE.search(before) or _VERSION_BEFORE.search(before):
        return True
    if _CURRENCY_AFTER.match(text[end : end + 8]):
        return True
    compact = _NON_DIGIT.sub("", s)
    return len(compact) in (10, 13) and _isbn.is_valid(compact)


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
    nsn = "|".join(dict.fromkeys(_marked(m.general_desc.national_number_pattern) for m in metas))
    return f"{prefix}(?:{nsn})"


@functools.cache
def _international() -> str:
    return "(?:" + "|".join(f"{_marked(str(cc))}{_nsn_branch(cc)}" for cc in sorted(COUNTRY_CODE_TO_REGION_CODE)) + ")"


_END = r"\|?(?![0-9])"


@functools.cache
def _screen(region: str | None, plus: bool) -> re.Pattern[str]:
    """Over "|"-joined digit groups: where a number PhoneNumberMatcher could accept may start.

    PLUS: the window starts with "+", so its first group starts an international number; REGION
    None: only that (phonenumbers parses nothing else without a region).
    """
    branches = [rf"^{_international()}"] if plus else []
    if region is not None:
        cc = country_code_for_region(region)
        meta = PhoneMetadata.metadata_for_region(region)
        nsn = _nsn_branch(cc, region)
        national = [nsn, f"{_marked(str(cc))}{nsn}"]  # phonenumbers also strips the region's own code
        if meta is not None and meta.international_prefix:
            national.append(f"(?:{_marked(meta.international_prefix)}){_international()}")
        branches.append(rf"(?<![0-9])(?:{'|'.join(national)})")
    return re.compile(rf"(?:{'|'.join(branches) or '(?!)'}){_END}")


_GROUPS = re.compile(r"[0-9]+")


@functools.lru_cache(maxsize=16384)
def _window_numbers(cand: str, region: str | None) -> tuple[tuple[int, int], ...]:
    """Spans PhoneNumberMatcher accepts in one candidate window (cached: number lists repeat windows)."""
    marked = "|".join(_GROUPS.findall(cand))
    if not _screen(region, cand.lstrip("(").startswith("+")).search(marked):
        return ()
    return tuple((pm.start, pm.end) for pm in PhoneNumberMatcher(cand, region, leniency=Leniency.VALID, max_tries=8))


def _phones(text: str, region: str | None) -> Iterable[Match]:
    for m in _PHONE_CAND.finditer(text):
        cand = m.group()
        n_digits = len(_DIGITS.findall(cand))
        if n_digits < 7:
            continue
        if region is None and "+" not in cand:
            continue
        if len(_SINGLE_DIGIT_GROUP.findall(cand)) > 2:
            continue  # "1 2 3 4 5 6 7": digit lists, not numbers (also keeps adversarial input cheap)
        for rel_start, rel_end in _window_numbers(cand, region):
            start, end = m.start() + rel_start, m.start() + rel_end
            if _DOTTED_QUAD.fullmatch(text[start:end]):
                continue  # "(164.159.232.91": an IPv4 address, which some regions' plans also accept
            if not _screened(text, start, end):
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
    if p2 in (50, 56, 57, 58) or p4 in (604, 6304, 6390, 6759, 6761, 6762, 6763) or p6 in (676770, 676774):
        return 12 <= n <= 19  # Maestro (incl. the former UK/international ranges 0604, 6390, 676x)
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

_NB = r"(?<![0-9A-Za-z\-./])"  # left boundary for numeric ids
_NA = r"(?![0-9A-Za-z]|[\-./][0-9A-Za-z])"  # right boundary

_ID_PATTERNS: list[tuple[str, re.Pattern[str], object, frozenset[str] | None, re.Pattern[str] | None]] = [
    # (name, candidate, validator module, languages (None = any), required-context-or-format)
    ("fi.hetu", re.compile(_NB + r"[0-3][0-9][01][0-9]{3}[\-+A-FU-Y][0-9]{3}[0-9A-Y]" + _NA), _hetu, None, None),
    ("es.dni", re.compile(_NB + r"[0-9]{8}-?[A-Z]" + _NA), _dni, None, None),
    ("es.nie", re.compile(_NB + r"[XYZ]-?[0-9]{7}-?[A-Z]" + _NA), _nie, None, None),
    (
        "fr.nir",
        re.compile(_NB + r"[12] ?[0-9]{2} ?[0-9]{2} ?(?:[0-9]{2}|2[AB]) ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}" + _NA),
        _nir,
        None,
        None,
    ),
    (
        "br.cpf",
        re.compile(_NB + r"[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}|" + _NB + r"[0-9]{11}" + _NA),
        _cpf,
        None,
        None,
    ),
    ("cn.ric", re.compile(_NB + r"[1-9][0-9]{16}[0-9Xx]" + _NA), _ric, None, None),
    (
        "pt.nif",
        re.compile(_NB + r"(?:PT ?)?[1-9][0-9]{2} ?[0-9]{3} ?[0-9]{3}" + _NA),
        _nif,
        frozenset({"pt"}),
        re.compile(r"^PT|\b(?:NIF|NIPC|contribuinte|fiscal)\b", re.IGNORECASE),
    ),
    (
        "in.aadhaar",
        re.compile(_NB + r"[2-9][0-9]{3}[ \-]?[0-9]{4}[ \-]?[0-9]{4}" + _NA),
        _aadhaar,
        frozenset({"hi", "en", "bn", "ta", "te", "ml", "kn", "mr", "gu", "pa", "or", "as", "ur", "ne"}),
        re.compile(r"^[0-9]{4}([ \-])[0-9]{4}\1[0-9]{4}$|Aadhaa?r|आधार|UIDAI|\bUID\b", re.IGNORECASE),
    ),
]


@functools.lru_cache(maxsize=65536)
def _valid_id(validator, compact: str) -> bool:
    """stdnum's check, cached: the same numbers recur across pages (footers, contact boxes)."""
    return validator.is_valid(compact)


def _national_ids(text: str, lang: str | None) -> Iterable[Match]:
    if not _DIGITS.search(text):
        return
    for _name, pattern, validator, langs, needs in _ID_PATTERNS:
        if langs is not None and lang is not None and lang not in langs:
            continue
        for m in pattern.finditer(text):
            s = m.group()
            if needs is not None:
                context = text[max(0, m.start() - 40) : m.start()]
                if not (needs.search(s) or needs.search(context)):
                    continue
            compact = s[2:].strip() if s.startswith("PT") else s
            if not _valid_id(validator, compact):
                continue
            if _screened(text, m.start(), m.end(), dates=False):
                continue
            yield Match(m.start(), m.end(), "NATIONAL_ID")


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


def find_pii(
    text: str,
    lang: str | None = None,
    categories: set[str] | frozenset[str] | None = None,
    *,
    private: bool = True,
    min_entropy: float = 3.5,
    private_ip: bool | None = None,
) -> list[Match]:
    """Validated PII spans in `text`, sorted and non-overlapping.

    lang: registry code of the document language; selects the phone region (REGION_BY_LANG) and
      the language-bound national IDs (pt.nif, in.aadhaar). None: only +international phones,
      all ID types.
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
    found: list[Match] = []
    if "EMAIL" in cats or "USER" in cats:
        # emails are collected even when only USER is asked for, so handles inside them lose
        found.extend(_emails(text))
    if "USER" in cats and "@" in text:
        found.extend(_users(text))
    if "IP_ADDRESS" in cats:
        found.extend(_ips(text, private))
    if "PHONE" in cats:
        found.extend(_phones(text, REGION_BY_LANG.get(lang) if lang else None))
    if "CREDIT_CARD" in cats:
        found.extend(_cards(text))
    if "IBAN" in cats:
        found.extend(_ibans(text))
    if "NATIONAL_ID" in cats:
        found.extend(_national_ids(text, lang))
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
