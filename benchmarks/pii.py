"""PII detection: precision/recall per category on generated documents, and MB/s beside datatrove.

    .venv/bin/python benchmarks/pii.py --per-locale 200

Documents are sentences of the bundled sample in 11 languages with Faker-generated PII of the
matching locale planted at known spans: e-mails, public IPv4 and IPv6, credit cards, IBANs,
and phone numbers of the language's region (made valid with `phonenumbers`, since a random
digit string is not a phone number), plus PII-free documents. Precision and recall are
per category by span overlap. Throughput is measured on the same documents for
filters.pii (all categories) and datatrove's PIIFormatter (e-mails and public IPv4 only).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "catalog" / "sample"))

from sample_texts import topic_sentences  # noqa: E402

from rootstock.filters.pii import REGION_BY_LANG, find_pii  # noqa: E402

# Faker locale for each sample language (the PII comes from the language's country).
LOCALES = {
    "en": "en_US",
    "fr": "fr_FR",
    "fi": "fi_FI",
    "es": "es_ES",
    "pt": "pt_BR",
    "zhs": "zh_CN",
    "vi": "vi_VN",
    "id": "id_ID",
    "hi": "hi_IN",
    "ar": "ar_EG",
    "sw": "en_US",
}
CATEGORIES = ("EMAIL", "IP_ADDRESS", "PHONE", "CREDIT_CARD", "IBAN")


def valid_phone(region: str, rng: random.Random) -> str:
    """A valid number of the region, written nationally or internationally."""
    import phonenumbers

    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    for _ in range(50):
        digits = national[:-4] + "".join(rng.choice("0123456789") for _ in range(4))
        number = phonenumbers.parse(digits, region)
        if phonenumbers.is_valid_number(number):
            fmt = rng.choice([phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL])
            return phonenumbers.format_number(number, fmt)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def generate(per_locale: int, seed: int = 11) -> list[tuple[str, str, list[tuple[int, int, str]]]]:
    """[(lang, text, [(start, end, category)])]; every fourth document has no PII."""
    from faker import Faker
    from stdnum import iban as _iban

    rng = random.Random(seed)
    docs = []
    for lang, locale in LOCALES.items():
        fake = Faker(locale)
        fake.seed_instance(seed)
        pool = topic_sentences(lang)
        sep = "" if lang == "zhs" else " "

        def iban() -> str:
            # Some Faker locales emit IBANs of the wrong length: an invalid IBAN is not PII.
            for _ in range(20):
                value = fake.iban()
                if _iban.is_valid(value):
                    return value
            return Faker("en_GB").iban()

        makers = {
            "EMAIL": fake.email,
            "IP_ADDRESS": lambda: rng.choice([fake.ipv4_public(), fake.ipv6()]),
            "PHONE": lambda: valid_phone(REGION_BY_LANG[lang], rng),
            "CREDIT_CARD": fake.credit_card_number,
            "IBAN": iban,
        }
        for i in range(per_locale):
            text = sep.join(rng.sample(pool, 2))
            spans = []
            if i % 4:
                for category in rng.sample(CATEGORIES, rng.randint(1, 3)):
                    value = makers[category]()
                    label = {
                        "EMAIL": "e-mail",
                        "IP_ADDRESS": "IP",
                        "PHONE": "tel.",
                        "CREDIT_CARD": "card",
                        "IBAN": "IBAN",
                    }
                    text += f"{sep}{rng.choice(pool)} {label[category]}: "
                    start = len(text)
                    text += f"{value};{sep}"
                    spans.append((start, start + len(value), category))
            text += sep + rng.choice(pool)
            docs.append((lang, text, spans))
    return docs


def score(docs) -> dict[str, dict[str, float]]:
    tp = dict.fromkeys(CATEGORIES, 0)
    fn = dict(tp)
    fp = dict(tp)
    for lang, text, gold in docs:
        found = [m for m in find_pii(text, lang) if m.category in CATEGORIES]
        for start, end, category in gold:
            hit = any(m.category == category and m.start < end and start < m.end for m in found)
            tp[category] += hit
            fn[category] += not hit
        for m in found:
            if not any(m.category == c and s < m.end and m.start < e for s, e, c in gold):
                fp[m.category] += 1
    return {
        c: {
            "recall": tp[c] / max(tp[c] + fn[c], 1),
            "precision": tp[c] / max(tp[c] + fp[c], 1),
            "planted": tp[c] + fn[c],
            "false_positives": fp[c],
        }
        for c in CATEGORIES
    }


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
    "IDN e-mails": "info@bücher.de ",
}


def worst_cases() -> None:
    find_pii("warm up +358 40 1234567 a@b.cd", "fi")  # compiles the lazily built phone screens
    print(f"\n{'worst case (1 MB)':30} {'lang':>4} {'found':>7} {'CPU s/MB':>9}")
    for name, unit in WORST_CASES.items():
        text = (unit * (1_000_000 // len(unit) + 1))[:1_000_000]
        for lang in ("en", "fi", "hi"):
            start = time.process_time()
            found = len(find_pii(text, lang))
            print(f"{name:30} {lang:>4} {found:7d} {time.process_time() - start:9.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-locale", type=int, default=200)
    args = ap.parse_args()
    docs = generate(args.per_locale)
    print(f"{len(docs)} documents in {len(LOCALES)} languages")
    print(f"{'category':12} {'planted':>8} {'recall':>7} {'precision':>9} {'false pos':>9}")
    for category, s in score(docs).items():
        print(f"{category:12} {s['planted']:8d} {s['recall']:7.3f} {s['precision']:9.3f} {s['false_positives']:9d}")
    texts = [text for _, text, _ in docs] * 5
    mb = sum(len(t.encode()) for t in texts) / 1e6
    langs = [lang for lang, _, _ in docs] * 5
    start = time.perf_counter()
    for text, lang in zip(texts, langs, strict=True):
        find_pii(text, lang)
    ours = time.perf_counter() - start
    from datatrove.pipeline.formatters import PIIFormatter

    formatter = PIIFormatter()
    start = time.perf_counter()
    for text in texts:
        formatter.format(text)
    theirs = time.perf_counter() - start
    print(
        f"\nthroughput on {mb:.1f} MB: rootstock filters.pii (8 categories, validated) {mb / ours:.2f} MB/s; "
        f"datatrove PIIFormatter (e-mail + IPv4) {mb / theirs:.2f} MB/s"
    )
    worst_cases()


if __name__ == "__main__":
    main()
