"""PII precision and recall per category on Faker-generated PII in 20+ locales (benchmarks/pii.py).

Targets from issue 17: recall ≥ 0.95 for EMAIL, IP_ADDRESS, CREDIT_CARD and IBAN, ≥ 0.90 for
PHONE and NATIONAL_ID, precision ≥ 0.95 for each, several countries per language (pt_PT and
pt_BR, es_ES and es_MX, ar_SA and ar_EG, en_GB and en_IN, fr_CA, ...), and nothing found in
PII-free prose or in dates, prices, counts, ISBNs and versions written the locales' ways. The
full run (more documents, the cost of each phone region, MB/s, worst cases) is `benchmarks/pii.py`.
"""

from __future__ import annotations

import pytest

pytest.importorskip("faker")

from benchmarks.pii import LOCALES, generate, hard_negatives, score
from rootstock.filters.pii import find_pii, phone_regions

RECALL = {"EMAIL": 0.95, "IP_ADDRESS": 0.95, "CREDIT_CARD": 0.95, "IBAN": 0.95, "PHONE": 0.90, "NATIONAL_ID": 0.90}

# Locales whose country is among the first regions of their language: the language alone picks it.
NEAR = {locale: value for locale, value in LOCALES.items() if value[1] in phone_regions(value[0])}
# The others (en_AU, fr_CH, ar_JO, ...): their country comes from the URL's ccTLD.
FAR = {locale: value for locale, value in LOCALES.items() if locale not in NEAR}


def _check(scores, minimum_planted: int) -> None:
    for category, minimum in RECALL.items():
        s = scores["all"][category]
        assert s["planted"] >= minimum_planted, (category, s)
        assert s["recall"] >= minimum, (category, s)
        assert s["precision"] >= 0.95, (category, s)


def test_precision_and_recall_per_category_over_twenty_locales():
    assert len(NEAR) >= 20
    assert {"pt_PT", "pt_BR", "es_ES", "es_MX", "ar_SA", "ar_EG", "bn_BD", "en_GB", "en_IN", "fr_CA"} <= set(NEAR)
    docs = generate(per_locale=12, seed=23, locales=NEAR)
    scores = score(docs)
    _check(scores, minimum_planted=60)
    # no locale falls far behind: its phones and ids are found with its language alone
    for locale in NEAR:
        for category in ("PHONE", "NATIONAL_ID"):
            s = scores[locale][category]
            assert s["recall"] >= 0.75 or s["planted"] == 0, (locale, category, s)


def test_other_countries_of_a_language_through_the_url():
    docs = generate(per_locale=10, seed=29, locales=FAR, url=True)
    _check(score(docs), minimum_planted=15)


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_dates_prices_counts_isbns_and_versions_are_not_pii(locale):
    import random

    from faker import Faker

    lang, country = LOCALES[locale]
    fake, rng = Faker(locale), random.Random(locale)
    fake.seed_instance(7)
    for _ in range(5):
        for value in hard_negatives(locale, fake, rng):
            text = f"Figure: {value} ."
            assert find_pii(text, lang) == [], (locale, value)
            url = f"https://example.{'uk' if country == 'GB' else country.lower()}/"
            assert find_pii(text, lang, url=url) == [], (locale, value, url)


def test_pii_free_generated_documents_are_untouched():
    for _, lang, url, text, gold in generate(per_locale=8, seed=5, locales=NEAR):
        if not gold:
            assert find_pii(text, lang, url=url) == [], (lang, text)
