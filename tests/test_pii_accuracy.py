"""PII precision and recall per category on Faker-generated PII in 10 locales (benchmarks/pii.py).

Targets from the issue: recall ≥ 0.95 for EMAIL, IP_ADDRESS, CREDIT_CARD and IBAN, ≥ 0.90 for
PHONE, precision ≥ 0.95 for each. The full run (more documents, plus MB/s beside datatrove's
PIIFormatter) is `benchmarks/pii.py`.
"""

from __future__ import annotations

import pytest

pytest.importorskip("faker")

from benchmarks.pii import generate, score

RECALL = {"EMAIL": 0.95, "IP_ADDRESS": 0.95, "CREDIT_CARD": 0.95, "IBAN": 0.95, "PHONE": 0.90}


def test_precision_and_recall_per_category():
    docs = generate(per_locale=40, seed=23)
    assert len({lang for lang, _, _ in docs}) >= 10
    scores = score(docs)
    for category, minimum in RECALL.items():
        assert scores[category]["planted"] >= 60, category
        assert scores[category]["recall"] >= minimum, (category, scores[category])
        assert scores[category]["precision"] >= 0.95, (category, scores[category])


def test_pii_free_generated_documents_are_untouched():
    from rootstock.filters.pii import find_pii

    for lang, text, gold in generate(per_locale=12, seed=5):
        if not gold:
            assert find_pii(text, lang) == [], (lang, text)
