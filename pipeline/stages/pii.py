"""The `pii` stage: validated PII detection (filters.pii), then redact / drop / keep.

Policy per source comes from its catalogue entry (`pii.policy`), overridable per category in
the run config. Every field that carries a record's own values is protected, not only `text`:
`url`, `meta` (each string inside it), `source_doc_id`, `license` and `input_file`. Documents
record how many items of each category were redacted, never the values. Documents rejected by
earlier stages pass through the same redaction before they are written to the rejected set
(`RedactRejected`), so no original value is stored anywhere.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

import apache_beam as beam
import pyarrow as pa
from pydantic import field_validator

from rootstock.filters import pii
from rootstock.filters.pii import CATEGORIES
from rootstock.pipeline.stages.base import DocumentFn, DocumentStage, Note, RunContext, StageSettings


class PiiSettings(StageSettings):
    """Find PII with validators; redact, drop or keep per source (catalogue) and per category."""

    # Per category: redact | drop | keep, overriding the source's catalogue policy; `source`
    # (the default) follows the catalogue entry's pii.policy.
    categories: dict[str, Literal["redact", "drop", "keep", "source"]] = {}
    token_format: str = "PI:{category}"  # ROOTS's replacement tokens
    private_ip: bool = True  # also redact private/reserved IP ranges

    @field_validator("categories")
    @classmethod
    def _known(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown PII categories {unknown}; known: {sorted(CATEGORIES)}")
        return value

    @field_validator("token_format")
    @classmethod
    def _format(cls, value: str) -> str:
        try:
            value.format(category="EMAIL")
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"token_format may only use {{category}}: {err}") from None
        return value


COUNTS_TYPE = pa.list_(pa.struct([("category", pa.string()), ("count", pa.int64())]))


def policies(settings: PiiSettings, source_policy: str) -> dict[str, str]:
    """Category → redact | drop | keep for one source."""
    return {
        category: source_policy
        if settings.categories.get(category, "source") == "source"
        else settings.categories[category]
        for category in CATEGORIES
    }


class _Protect(DocumentFn):
    """Applies the policies; with `rejected_set=True` only redacts (documents already dropped)."""

    def __init__(self, stage: str, settings: PiiSettings, source_policies: dict[str, str], rejected_set: bool = False):
        super().__init__(stage, settings)
        self.source_policies, self.rejected_set = source_policies, rejected_set

    def setup(self):
        super().setup()
        self._policies: dict[str, dict[str, str]] = {}

    def _policy(self, source: str) -> dict[str, str]:
        if source not in self._policies:
            self._policies[source] = policies(self.settings, self.source_policies.get(source, "redact"))
        return self._policies[source]

    def process(self, doc: dict[str, Any]):
        policy = self._policy(doc["source"])
        if self.rejected_set:
            # Whatever a source's policy, a rejected document is evidence, not data: redact all.
            policy = dict.fromkeys(policy, "redact")
        wanted = {c for c, p in policy.items() if p != "keep"}
        if not wanted:
            yield {**doc, "pii_counts": []}
            return
        out, matches, counts = protect_fields(doc, wanted, self.settings)
        dropped = sorted({m.category for m in matches if policy[m.category] == "drop"})
        out["pii_counts"] = [{"category": c, "count": n} for c, n in sorted(counts.items())]
        if dropped and not self.rejected_set:
            yield self.reject(out, f"contains_{dropped[0].lower()}")
        else:
            yield out


# Fields besides `text` that carry a record's own values, and so can carry PII: redacted alike.
PLAIN_FIELDS = ("source_doc_id", "license", "input_file")


def protect_fields(doc: dict[str, Any], wanted: set[str], settings: PiiSettings):
    """DOC with every field that can carry text redacted (text, url, meta, ids, licence, file):
    (new document, all matches, counts per category)."""

    def find(value: str):
        return pii.find_pii(value, doc["lang"], wanted, url=doc.get("url"), private_ip=settings.private_ip)

    token = settings.token_format
    matches = find(doc["text"])
    text, counts = pii.redact(doc["text"], matches, token)
    out = {**doc, "text": text}
    total: Counter[str] = Counter(counts)
    found = list(matches)
    for name in PLAIN_FIELDS:
        value = doc.get(name)
        if isinstance(value, str) and (hits := find(value)):
            out[name], n = pii.redact(value, hits, token)
            found += hits
            total.update(n)
    for name, redactor in (("url", pii.redact_url), ("meta", pii.redact_json)):
        value = doc.get(name)
        if isinstance(value, str) and value:
            out[name], hits, n = redactor(value, find, token)
            found += hits
            total.update(n)
    return out, found, dict(total)


class RedactRejected(beam.PTransform):
    """Redact documents other stages rejected before they reach OUTPUT/rejected/."""

    def __init__(self, stage: str, settings: PiiSettings, source_policies: dict[str, str]):
        super().__init__()
        self.stage, self.settings, self.source_policies = stage, settings, source_policies

    def expand(self, docs):
        fn = _Protect(self.stage, self.settings, self.source_policies, rejected_set=True)
        return docs | "RedactRejected" >> beam.ParDo(fn)


class ProtectPii(DocumentStage):
    name = "pii"
    settings_class = PiiSettings
    step = "Protect"
    columns = [pa.field("pii_counts", COUNTS_TYPE)]

    def __init__(self, settings: PiiSettings, context: RunContext):
        super().__init__(settings, context)
        self.source_policies = {entry.uid: entry.pii.policy.value for entry in context.entries}

    def make_fn(self) -> _Protect:
        return _Protect(self.name, self.settings, self.source_policies)

    def guard_rejected(self) -> beam.PTransform:
        return RedactRejected(self.name, self.settings, self.source_policies)

    def parameters(self, source: str) -> dict[str, Any]:
        """The catalogue's policy for SOURCE and what it means per PII category."""
        policy = self.source_policies.get(source, "redact")
        return {
            **super().parameters(source),
            "source_policy": policy,
            "category_actions": policies(self.settings, policy),
        }

    def report(self) -> dict[str, Any]:
        return {
            "token_format": self.settings.token_format,
            "private_ip": self.settings.private_ip,
            "policies": {uid: policies(self.settings, policy) for uid, policy in sorted(self.source_policies.items())},
        }

    def notes(self, doc: dict[str, Any]) -> list[Note]:
        return [(f"pii:{item['category']}", item["count"]) for item in doc.get("pii_counts") or []]
