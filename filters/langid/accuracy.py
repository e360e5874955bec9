"""The measured accuracy of a language-ID policy, stored with the policy's fingerprint.

`rootstock langid evaluate --save` scores a policy on the evaluation split of the shipped sets
(catalog/sample/langid/) and writes per language and (domain, kind) the recall, precision and
declared-language verification; a run whose policy has the same fingerprint
(`policy.policy_fingerprint`: rules, backend versions and model sha256s, calibration table)
reports that measurement in its card. A run with another policy reports none: a number measured
on another policy would be a claim about something else.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

ACCURACY_PATH = Path(__file__).with_name("accuracy.json")


def accuracy_record(report, fingerprint: str, made_with: dict[str, Any]) -> dict[str, Any]:
    """A `evaluate.Report` as the JSON stored beside the policy."""
    from rootstock.filters.langid.evaluate import TARGET  # noqa: PLC0415 - evaluate imports the policy

    languages: dict[str, dict[str, Any]] = {}
    summary: dict[str, dict[str, int]] = {}
    for (domain, kind), table in sorted(report.scores.items()):
        key = f"{domain}/{kind}"
        verification = report.verification.get((domain, kind), {})
        passing = 0
        for lang, row in sorted(table.items()):
            if row.n == 0:
                continue
            cell = {"n": row.n, "recall": round(row.recall, 4), "precision": round(row.precision, 4)}
            if lang in verification:
                cell["keep"], cell["reject"] = (round(x, 4) for x in verification[lang])
            deciders = report.deciders.get((domain, kind), {}).get(lang)
            if deciders:
                cell["decided_by"] = dict(deciders.most_common())
            languages.setdefault(lang, {})[key] = cell
            passing += row.passes()
        summary[key] = {"passing": passing, "tested": sum(1 for row in table.values() if row.n)}
    return {
        "fingerprint": fingerprint,
        "target": TARGET,
        "made_with": made_with,
        "summary": summary,
        "languages": languages,
    }


def save_accuracy(record: dict[str, Any], path: str | Path = ACCURACY_PATH) -> None:
    Path(path).write_text(json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def measured_accuracy(fingerprint: str, path: str | Path = ACCURACY_PATH) -> dict[str, Any] | None:
    """The stored measurement of the policy with this fingerprint, or None."""
    record = _load(str(path))
    return record if record is not None and record.get("fingerprint") == fingerprint else None


@functools.cache
def _load(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None
