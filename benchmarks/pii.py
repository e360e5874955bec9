"""PII detection: recall and precision per category and Faker locale, the cost of phone regions, MB/s.

    .venv/bin/python benchmarks/pii.py --per-locale 60

Documents are sentences of the bundled sample (Faker's own lorem for Bengali) with PII of one
Faker locale planted at known spans, several countries per language (pt_PT and pt_BR, es_ES and
es_MX, ar_SA and ar_EG, en_GB and en_IN, fr_CA, ...). The document's language is the locale's;
its URL is none (the language alone picks the countries) or, for the second table, a page on the
country's ccTLD. Values:

  EMAIL, CREDIT_CARD        Faker
  IP_ADDRESS                Faker, public IPv4 or IPv6
  IBAN                      Faker's, where stdnum says it is valid (some locales emit wrong lengths)
  PHONE                     Faker's number where phonenumbers says it is a valid number of the
                            locale's country, else a valid number of that country (its example
                            number with random last digits), written nationally or internationally
  NATIONAL_ID               Faker's generator for the country where it has one (SSN, SIN, Aadhaar,
                            DNI, CURP, CPF, NIR, AHV, HETU, RIC, RUT, NIT, ...), else random digits
                            in the country's written form that stdnum validates; planted after
                            the label people write ("SSN", "CPF", "NHS number", "الرقم الضريبي")

Only valid values are planted: an invalid IBAN or national number is not PII. A quarter of the
documents have no PII, and every locale also gets documents of hard negatives written the
locale's way with babel (CLDR): dates, prices, counts (also in native digits), ISBNs (Faker) and
version strings; anything found in those is a false positive. Recall and precision are by span
overlap.
"""

from __future__ import annotations

import argparse
import datetime
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "catalog" / "sample"))

from sample_texts import TEXTS, topic_sentences  # noqa: E402

from rootstock.filters import pii  # noqa: E402
from rootstock.filters.pii import find_pii  # noqa: E402
from rootstock.filters.pii_regions import language_regions  # noqa: E402

CATEGORIES = ("EMAIL", "IP_ADDRESS", "CREDIT_CARD", "IBAN", "PHONE", "NATIONAL_ID")

# Faker locale → (registry language, country). The country's national numbers are planted.
LOCALES: dict[str, tuple[str, str]] = {
    "en_US": ("en", "US"),
    "en_GB": ("en", "GB"),
    "en_IN": ("en", "IN"),
    "en_CA": ("en", "CA"),
    "en_NG": ("en", "NG"),
    "en_PK": ("en", "PK"),
    "fr_FR": ("fr", "FR"),
    "fr_CA": ("fr", "CA"),
    "es_ES": ("es", "ES"),
    "es_MX": ("es", "MX"),
    "es_AR": ("es", "AR"),
    "es_CO": ("es", "CO"),
    "es_CL": ("es", "CL"),
    "pt_BR": ("pt", "BR"),
    "pt_PT": ("pt", "PT"),
    "ar_EG": ("ar", "EG"),
    "ar_SA": ("ar", "SA"),
    "ar_DZ": ("ar", "DZ"),
    "bn_BD": ("bn", "BD"),
    "hi_IN": ("hi", "IN"),
    "zh_CN": ("zhs", "CN"),
    "zh_TW": ("zht", "TW"),
    "vi_VN": ("vi", "VN"),
    "id_ID": ("id", "ID"),
    "fi_FI": ("fi", "FI"),
    "sw": ("sw", "TZ"),
    "yo_NG": ("yo", "NG"),
    # countries beyond the first MAX_REGIONS of their language: found through the URL's ccTLD
    "en_AU": ("en", "AU"),
    "en_NZ": ("en", "NZ"),
    "en_IE": ("en", "IE"),
    "en_KE": ("en", "KE"),
    "fr_BE": ("fr", "BE"),
    "fr_CH": ("fr", "CH"),
    "ar_AE": ("ar", "AE"),
    "ar_JO": ("ar", "JO"),
}
CCTLD = {"GB": "uk"}


def _sampled(validator: str, form: str):
    """Random digits in FORM ("#" a digit, "@" a capital letter), retried until stdnum accepts them."""
    import importlib

    module = importlib.import_module(f"stdnum.{validator}")

    def make(fake, rng: random.Random) -> str:
        for _ in range(5000):
            value = "".join(
                rng.choice("0123456789") if c == "#" else rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") if c == "@" else c
                for c in form
            )
            if module.is_valid(value):
                return value
        raise RuntimeError(f"no valid {validator} in the form {form}")

    return make


def _faker(method: str, validator: str, locale: str | None = None):
    """Faker's generator (of LOCALE, else the document's), keeping the values stdnum accepts."""
    import importlib

    from faker import Faker

    module = importlib.import_module(f"stdnum.{validator}")
    own = Faker(locale) if locale else None

    def make(fake, rng: random.Random) -> str:
        source = own or fake
        if own is not None:
            own.seed_instance(rng.randrange(1 << 30))
        for _ in range(200):
            value = getattr(source, method)()
            if module.is_valid(value):
                return value
        raise RuntimeError(f"Faker {method} gave no valid {validator}")

    return make


# country → [(label per language (default under ""), maker)]
NATIONAL_IDS = {
    "US": [({"": "SSN"}, _faker("ssn", "us.ssn", "en_US"))],
    "GB": [({"": "NHS number"}, _sampled("gb.nhs", "### ### ####"))],
    "IN": [
        ({"": "Aadhaar", "hi": "आधार"}, _faker("aadhaar_id", "in_.aadhaar", "en_IN")),
        ({"": "PAN"}, _faker("pan", "in_.pan", "en_IN")),
    ],
    "CA": [({"": "SIN", "fr": "NAS"}, _faker("ssn", "ca.sin", "en_CA"))],
    "PK": [({"": "CNIC"}, _sampled("pk.cnic", "#####-#######-#"))],
    "FR": [({"": "NIR"}, _faker("ssn", "fr.nir", "fr_FR"))],
    "ES": [({"": "DNI"}, _faker("nif", "es.dni", "es_ES")), ({"": "NIE"}, _faker("nie", "es.nie", "es_ES"))],
    "MX": [({"": "CURP"}, _faker("curp", "mx.curp", "es_MX")), ({"": "RFC"}, _faker("rfc", "mx.rfc", "es_MX"))],
    "AR": [({"": "CUIT"}, _sampled("ar.cuit", "20-########-#"))],
    "CO": [({"": "NIT"}, _faker("natural_person_nit_with_check_digit", "co.nit", "es_CO"))],
    "CL": [({"": "RUT"}, _faker("rut", "cl.rut", "es_CL"))],
    "BR": [({"": "CPF"}, _faker("cpf", "br.cpf", "pt_BR"))],
    "PT": [({"": "NIF"}, _faker("vat_id", "pt.nif", "pt_PT"))],
    "EG": [({"": "الرقم الضريبي"}, _sampled("eg.tn", "###-###-###"))],
    "CN": [({"": "身份证号"}, _faker("ssn", "cn.ric", "zh_CN"))],
    "VN": [({"": "MST"}, _sampled("vn.mst", "##########"))],
    "ID": [({"": "NIK"}, _sampled("id.nik", "317101##0###0001"))],
    "FI": [({"": "henkilötunnus"}, _faker("ssn", "fi.hetu", "fi_FI"))],
    "AU": [({"": "TFN"}, _sampled("au.tfn", "### ### ###"))],
    "NZ": [({"": "IRD number"}, _sampled("nz.ird", "###-###-###"))],
    "IE": [({"": "PPS number"}, _sampled("ie.pps", "#######@"))],
    "KE": [({"": "KRA PIN"}, _sampled("ke.pin", "A#########@"))],
    "BE": [({"": "numéro national"}, _faker("ssn", "be.nn", "nl_BE"))],
    "CH": [({"": "AVS"}, _faker("ssn", "ch.ssn", "fr_CH"))],
}

LABELS = {"EMAIL": "e-mail", "IP_ADDRESS": "IP", "CREDIT_CARD": "card", "IBAN": "IBAN", "PHONE": "tel."}


def valid_phone(fake, country: str, rng: random.Random) -> tuple[str, bool]:
    """(a valid number of COUNTRY, whether it is Faker's own)."""
    import phonenumbers

    for _ in range(5):
        try:
            value = fake.phone_number()
        except AttributeError:
            break
        # valid as written: a number of COUNTRY, with the national prefix where its plan wants one
        # (phonenumbers' VALID leniency; Faker writes "7038902660" for Nigeria's 0703 890 2660)
        for m in phonenumbers.PhoneNumberMatcher(value, country, leniency=phonenumbers.Leniency.VALID):
            if m.start == 0 and m.end == len(value) and phonenumbers.region_code_for_number(m.number) == country:
                return value, True
    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    for _ in range(50):
        digits = national[:-4] + "".join(rng.choice("0123456789") for _ in range(4))
        number = phonenumbers.parse(digits, country)
        if phonenumbers.is_valid_number(number):
            fmt = rng.choice([phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL])
            return phonenumbers.format_number(number, fmt), False
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL), False


def prose(locale: str, lang: str, fake) -> list[str]:
    if (TEXTS / f"{lang}.txt").exists():
        return topic_sentences(lang)
    return [fake.sentence(nb_words=12) for _ in range(40)]  # Faker's lorem of the locale (bn_BD)


def hard_negatives(locale: str, fake, rng: random.Random) -> list[str]:
    """Numbers that are not PII, written the LOCALE's way (babel/CLDR): dates, prices, counts
    (also in the locale's native digits), ISBNs and versions."""
    from babel import Locale
    from babel.dates import format_date
    from babel.numbers import format_currency, format_decimal

    day = datetime.date(rng.randint(1950, 2030), rng.randint(1, 12), rng.randint(1, 28))
    count = rng.randint(10**6, 10**10)
    out = [
        format_date(day, rng.choice(["short", "medium", "long"]), locale=locale),
        day.isoformat(),
        format_currency(
            rng.randint(10**5, 10**9) / 100, rng.choice(["EUR", "USD", "INR", "BRL", "MXN"]), locale=locale
        ),
        format_decimal(count, locale=locale),
        f"ISBN {fake.isbn13()}",
        fake.isbn10(),
        f"v{rng.randint(1, 20)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
        f"version {rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 99)}.{rng.randint(0, 999)}",
    ]
    native = Locale.parse(locale).other_numbering_systems.get("native")
    if native and native != "latn" and native in Locale.parse(locale).number_symbols:
        out.append(format_decimal(count, locale=locale, numbering_system=native))
    return out


def generate(per_locale: int, seed: int = 11, locales: dict[str, tuple[str, str]] | None = None, url: bool = False):
    """[(locale, lang, url, text, [(start, end, category)])]: a quarter of the documents without
    PII, one in eight of hard negatives, the rest with two to four planted values."""
    from faker import Faker
    from stdnum import iban as _iban

    rng = random.Random(seed)
    docs = []
    stats = {"faker_phones": 0, "phones": 0}
    for locale, (lang, country) in (locales or LOCALES).items():
        fake = Faker(locale)
        fake.seed_instance(seed)
        pool = prose(locale, lang, fake)
        sep = "" if lang in ("zhs", "zht") else " "
        page = f"https://www.example.{CCTLD.get(country, country.lower())}/page" if url else None

        def iban() -> str:
            for _ in range(20):
                value = fake.iban()
                if _iban.is_valid(value):
                    return value
            return Faker("en_GB").iban()

        def phone() -> str:
            value, own = valid_phone(fake, country, rng)
            stats["phones"] += 1
            stats["faker_phones"] += own
            return value

        makers = {
            "EMAIL": fake.email,
            "IP_ADDRESS": lambda: rng.choice([fake.ipv4_public(), fake.ipv6()]),
            "CREDIT_CARD": fake.credit_card_number,
            "IBAN": iban,
            "PHONE": phone,
        }
        categories = list(makers) + (["NATIONAL_ID"] if country in NATIONAL_IDS else [])
        for i in range(per_locale):
            text = sep.join(rng.sample(pool, 2))
            spans = []
            if i % 8 == 7:
                for value in hard_negatives(locale, fake, rng):
                    text += f"{sep}{rng.choice(pool)} {value}{'，' if sep == '' else ''}{sep}"
            elif i % 4:
                for category in rng.sample(categories, rng.randint(2, 4)):
                    if category == "NATIONAL_ID":
                        labels, make = rng.choice(NATIONAL_IDS[country])
                        label, value = labels.get(lang, labels[""]), make(fake, rng)
                    else:
                        label, value = LABELS[category], makers[category]()
                    text += f"{sep}{rng.choice(pool)} {label}: "
                    start = len(text)
                    text += f"{value};{sep}"
                    spans.append((start, start + len(value), category))
            text += sep + rng.choice(pool)
            docs.append((locale, lang, page, text, spans))
    generate.stats = stats
    return docs


def score(docs) -> dict[str, dict[str, dict[str, float]]]:
    """{locale or "all": {category: {recall, precision, planted, false_positives}}}."""
    counts: dict[str, dict[str, list[int]]] = {}
    for locale, lang, url, text, gold in docs:
        found = [m for m in find_pii(text, lang, url=url) if m.category in CATEGORIES]
        for key in (locale, "all"):
            table = counts.setdefault(key, {c: [0, 0, 0] for c in CATEGORIES})  # tp, fn, fp
            for start, end, category in gold:
                hit = any(m.category == category and m.start < end and start < m.end for m in found)
                table[category][0 if hit else 1] += 1
            for m in found:
                if not any(m.category == c and s < m.end and m.start < e for s, e, c in gold):
                    table[m.category][2] += 1
    return {
        key: {
            c: {
                "recall": tp / max(tp + fn, 1),
                "precision": tp / max(tp + fp, 1),
                "planted": tp + fn,
                "false_positives": fp,
            }
            for c, (tp, fn, fp) in table.items()
        }
        for key, table in counts.items()
    }


def print_table(scores, title: str) -> None:
    print(f"\n{title}")
    short = {"EMAIL": "EMAIL", "IP_ADDRESS": "IP", "CREDIT_CARD": "CARD", "IBAN": "IBAN", "PHONE": "PHONE"}
    short["NATIONAL_ID"] = "NAT_ID"
    print(f"{'locale':8} {'lang':4} {'cc':3} " + " ".join(f"{short[c]:>16}" for c in CATEGORIES))
    print(f"{'':17}" + " ".join(f"{'n  recall  prec':>16}" for _ in CATEGORIES))
    for key, table in sorted(scores.items(), key=lambda item: item[0] == "all"):
        lang, country = LOCALES.get(key, ("", ""))
        cells = []
        for c in CATEGORIES:
            s = table[c]
            cells.append(
                f"{s['planted']:4d} {s['recall']:6.2f} {s['precision']:5.2f}"
                if s["planted"] or s["false_positives"]
                else f"{'-':>16}"
            )
        print(f"{key:8} {lang:4} {country:3} " + " ".join(f"{cell:>16}" for cell in cells))


def figures(size: int, seed: int = 3) -> str:
    """A table of figures: groups of 1-4 digits, a few to a row, none repeated on purpose."""
    rng = random.Random(seed)
    parts, length = [], 0
    while length < size:
        part = " ".join(str(rng.randint(0, 10 ** rng.randint(1, 4))) for _ in range(rng.randint(2, 5))) + "; "
        parts.append(part)
        length += len(part)
    return "".join(parts)[:size]


def region_caps(per_locale: int) -> None:
    """What MAX_REGIONS buys: PHONE recall over the locales whose country is among the first 12
    regions of their language, false positives on those documents and phone numbers "found" in a
    table of figures (per MB; mostly digit groups that happen to form a valid number somewhere),
    and the cost (MB/s on the documents, phone windows not cached)."""
    near = {loc: v for loc, v in LOCALES.items() if v[1] in language_regions(v[0])[:12]}
    docs = generate(per_locale, seed=5, locales=near)
    texts = [(text, lang) for _, lang, _, text, _ in docs]
    mb = sum(len(t.encode()) for t, _ in texts) / 1e6
    table = figures(100_000)
    langs = ("en", "fr", "es", "pt", "ar")
    default = pii.MAX_REGIONS
    print(f"\nphone regions per language (MAX_REGIONS; {len(near)} locales, {len(docs)} documents, {mb:.1f} MB)")
    print(f"{'cap':>4} {'PHONE recall':>12} {'PHONE FP':>9} {'MB/s':>6}   found per MB of figures: " + " ".join(langs))
    try:
        for cap in (1, 2, 4, 8, 12):
            pii.MAX_REGIONS = cap
            for text, lang in texts[:50]:
                find_pii(text, lang)  # compile the screens of the regions outside the timing
            pii._window_numbers.cache_clear()
            start = time.process_time()
            s = score(docs)["all"]
            seconds = time.process_time() - start
            found = [len(find_pii(table, lang, {"PHONE"})) * 10 for lang in langs]
            print(
                f"{cap:4d} {s['PHONE']['recall']:12.3f} {s['PHONE']['false_positives']:9d} {mb / seconds:6.2f}   "
                + " ".join(f"{n:5d}" for n in found)
            )
    finally:
        pii.MAX_REGIONS = default
        pii._window_numbers.cache_clear()


# 1 MB texts built to be expensive: candidates that never validate, and text that is nothing but
# valid PII (every match goes through its validator). Target: <= 1 CPU second per MB on one core.
WORST_CASES = {
    '"12 " repeated (issue #14)': "12 ",
    "digits": "7",
    '"1 2 " lists': "1 2 ",
    '"a@" repeated': "a@",
    '"a@b." repeated': "a@b.",
    "only e-mails": "a.b@c.de ",
    "only IPv4": "1.2.3.4 ",
    "only card numbers": "4539 1488 0343 6467 ",
    "only IBANs": "FR14 2004 1010 0505 0001 3M02 606 ",
    "only Aadhaar numbers": "Aadhaar 2341 2341 2346 ",
    "only phone numbers": "+358 40 1234567, ",
    "national phone numbers": "0612 345 678 ",
    "IDD phone numbers": "0044 20 7946 0958 ",
    "labelled SSNs": "SSN 536-90-4399 ",
    "native digits": "٠١٢٣٤٥٦٧٨٩ ",
    "IDN e-mails": "info@bücher.de ",
}


def worst_cases() -> None:
    for lang in ("en", "pt", "ar"):
        find_pii("warm up +358 40 1234567 a@b.cd 0612 345 678 SSN 536-90-4399", lang)  # compile the screens
    print(f"\n{'worst case (1 MB)':30} {'lang':>4} {'found':>7} {'CPU s/MB':>9}")
    for name, unit in WORST_CASES.items():
        text = (unit * (1_000_000 // len(unit) + 1))[:1_000_000]
        for lang in ("en", "pt", "ar"):
            start = time.process_time()
            found = len(find_pii(text, lang))
            print(f"{name:30} {lang:>4} {found:7d} {time.process_time() - start:9.2f}")


def typed_counts(per_length: int = 400) -> None:
    """Counts not written as CLDR writes them, typed with plain spaces ("627 780 344") or bare
    ("627780344"): the share taken for phone numbers. Nine digits in threes is also how Spain,
    Portugal or Cameroon write phone numbers and a bare number is how many people do, so those
    stay ambiguous; other groupings by thousands are screened."""
    rng = random.Random(1)
    langs = ("en", "fr", "es", "pt", "ar", "fi")
    print(f"\n{'counts not as CLDR writes':26} " + " ".join(f"{lang:>6}" for lang in langs))
    for style, sep in (("spaces", " "), ("bare", "")):
        for digits in (7, 8, 9, 10):
            rates = []
            for lang in langs:
                hits = 0
                for _ in range(per_length):
                    n = rng.randint(10 ** (digits - 1), 10**digits - 1)
                    hits += bool(find_pii(f"about {n:,} people".replace(",", sep), lang))
                rates.append(hits / per_length)
            print(f"{style:6} {digits:2d} digits {'':10} " + " ".join(f"{r:6.3f}" for r in rates))


def figures_cost() -> None:
    """A table of figures (1 MB, nothing repeats, so the phone windows' cache does not help)."""
    text = figures(1_000_000)
    print(f"\n{'table of figures (1 MB)':30} {'lang':>4} {'found':>7} {'CPU s/MB':>9}")
    for lang in ("en", "pt", "ar", "fi"):
        pii._window_numbers.cache_clear()
        start = time.process_time()
        found = len(find_pii(text, lang))
        print(f"{'groups of 1-4 digits':30} {lang:>4} {found:7d} {time.process_time() - start:9.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-locale", type=int, default=60)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--skip-speed", action="store_true")
    args = ap.parse_args()
    docs = generate(args.per_locale, args.seed)
    stats = dict(generate.stats)
    print(
        f"{len(docs)} documents, {len(LOCALES)} Faker locales; phones from Faker itself: "
        f"{stats['faker_phones']}/{stats['phones']} (the rest generated with phonenumbers)"
    )
    print_table(score(docs), "language only (no URL): recall and precision per category")
    far = {loc: v for loc, v in LOCALES.items() if v[1] not in pii.phone_regions(v[0])}
    url_docs = generate(args.per_locale, args.seed, far, url=True)
    print_table(score(url_docs), "countries beyond the language's first regions, URL on the country's ccTLD")
    if args.skip_speed:
        return
    region_caps(max(args.per_locale // 3, 10))
    texts = [(text, lang, url) for _, lang, url, text, _ in docs]
    mb = sum(len(t.encode()) for t, _, _ in texts) / 1e6
    pii._window_numbers.cache_clear()
    start = time.process_time()
    for text, lang, url in texts:
        find_pii(text, lang, url=url)
    ours = time.process_time() - start
    from datatrove.pipeline.formatters import PIIFormatter

    formatter = PIIFormatter()
    start = time.process_time()
    for text, _, _ in texts:
        formatter.format(text)
    theirs = time.process_time() - start
    print(
        f"\nthroughput on {mb:.1f} MB (CPU time, one core): rootstock filters.pii (8 categories, validated) "
        f"{mb / ours:.2f} MB/s; datatrove PIIFormatter (e-mail + IPv4) {mb / theirs:.2f} MB/s"
    )
    typed_counts()
    worst_cases()
    figures_cost()


if __name__ == "__main__":
    main()
