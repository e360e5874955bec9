"""Typed schema of a catalogue entry.

The fields are the governance metadata BigScience collected per source for ROOTS
(licence, custodian, PII assessment, removal contact), plus how to read it (`connector`).
A release snapshots these entries, so they must be strict: unknown keys are errors.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from enum import StrEnum
from typing import Any, Literal

from license_expression import get_spdx_licensing
from pydantic import Field, field_validator, model_validator

from rootstock.strict import FrozenStrict as Strict


class CustodianType(StrEnum):
    """ROOTS sourcing-form custodian types."""

    private_individual = "private_individual"
    commercial_entity = "commercial_entity"
    library_museum_archive = "library_museum_archive"
    university_research = "university_research"
    nonprofit = "nonprofit"
    government = "government"
    other = "other"


class PiiLikelihood(StrEnum):
    very_likely = "very_likely"
    somewhat_likely = "somewhat_likely"
    unlikely = "unlikely"
    none = "none"


class PiiPolicy(StrEnum):
    redact = "redact"
    drop = "drop"
    keep = "keep"


@functools.cache
def _spdx():
    return get_spdx_licensing()


class License(Strict):
    """An SPDX expression, or `unknown` / `other` (which must say what is known in `text`)."""

    id: str
    text: str | None = None
    url: str | None = None

    @field_validator("id")
    @classmethod
    def _spdx_id(cls, value: str) -> str:
        if value in ("unknown", "other"):
            return value
        info = _spdx().validate(value, strict=True)
        if info.errors or info.normalized_expression is None:
            raise ValueError(
                f"{value!r} is not an SPDX licence expression ({'; '.join(info.errors)}); "
                "use `unknown` or `other` with `text` if no SPDX id fits"
            )
        return str(info.normalized_expression)

    @model_validator(mode="after")
    def _other_needs_text(self) -> License:
        if self.id == "other" and not (self.text and self.text.strip()):
            raise ValueError("licence `other` needs `text` describing the terms")
        return self


class Custodian(Strict):
    name: str = Field(min_length=1)
    type: CustodianType
    contact: str = Field(min_length=3, description="e-mail or URL of the data custodian")
    location: str | None = None


class Pii(Strict):
    likelihood: PiiLikelihood
    policy: PiiPolicy
    categories: list[str] = []
    justification: str | None = None


ConnectorKind = Literal["jsonl", "parquet", "csv", "hf_dataset", "code_tree", "warc", "wet", "cc_index", "wikipedia"]

# The record keys a kind's connector writes, used where an entry does not name its own fields.
_WEB = {"id_field": "warc_record_id", "url_field": "url", "retrieved_at_field": "fetch_time"}
KIND_FIELDS: dict[str, dict[str, str]] = {
    "code_tree": {"text_field": "content", "id_field": "id", "lang_field": "language", "license_field": "license"},
    "warc": _WEB,
    "wet": _WEB,
    "cc_index": _WEB,
    "wikipedia": {"id_field": "page_id", "url_field": "url", "lang_field": "lang", "retrieved_at_field": "dump_date"},
}


class UrlFilter(Strict):
    """URLs refused at ingestion (counted as `input:url_blocked`): a domain blocks its subdomains
    too; domain files hold one domain per line (the format of blocklists such as UT1's, which
    datatrove's URL filter reads); patterns are regular expressions searched in the URL."""

    block_domains: list[str] = []
    block_domain_files: list[str] = []  # relative to the entry file, or URLs
    block_url_patterns: list[str] = []

    @field_validator("block_url_patterns")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"{pattern!r} is not a regular expression ({err})") from None
        return value


class ConnectorSpec(Strict):
    """How to turn a source's files into documents. Paths are relative to the entry file."""

    kind: ConnectorKind
    paths: list[str] = []
    text_field: str = "text"
    id_field: str | None = None
    url_field: str | None = None
    lang_field: str | None = None
    retrieved_at_field: str | None = None
    # Per-record licence (e.g. a code file's repository licence); else the entry's licence.
    license_field: str | None = None
    # Which other record fields go to the JSON `meta` column; None keeps all of them.
    meta_fields: list[str] | None = None
    on_error: Literal["fail", "skip"] = "fail"
    url_filter: UrlFilter | None = None
    # Kind-specific settings, checked by the connector itself (see sources/).
    options: dict[str, Any] = {}

    @model_validator(mode="before")
    @classmethod
    def _kind_fields(cls, value: Any) -> Any:
        """Field names the entry leaves out default to what its kind's connector writes."""
        if isinstance(value, dict) and value.get("kind") in KIND_FIELDS:
            value = {**KIND_FIELDS[value["kind"]], **value}
        return value


class SourceEntry(Strict):
    uid: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=100)
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    homepage: str | None = None
    languages: list[str] = []
    license: License
    custodian: Custodian
    pii: Pii
    removal_contact: str = Field(min_length=3)
    connector: ConnectorSpec
    retrieved_at: dt.datetime | None = None
    origin: str | None = None
    # Higher wins when near-duplicates across sources are resolved (dedup stage).
    priority: int = 0

    @field_validator("license", mode="before")
    @classmethod
    def _license_shorthand(cls, value: Any) -> Any:
        return {"id": value} if isinstance(value, str) else value

    @field_validator("languages", mode="before")
    @classmethod
    def _languages_none(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("retrieved_at")
    @classmethod
    def _utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value

    def governance(self) -> dict[str, Any]:
        """The part of the entry a release snapshots (JSON-ready)."""
        return self.model_dump(mode="json", exclude={"connector"})
