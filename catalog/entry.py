"""Typed schema of a catalogue entry.

The fields are the governance metadata BigScience collected per source for ROOTS
(licence, custodian, PII assessment, removal contact), plus how to read it (`connector`).
A release snapshots these entries, so they must be strict: unknown keys are errors.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from ftfy import TextFixerConfig
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


# --- per-source cleaning (ROOTS) ----------------------------------------------------------------
# The named steps BigScience applied to each catalogue source before filtering, with ROOTS's
# parameters as defaults: bigscience-workshop/data-preparation,
# preprocessing/training/01a_catalogue_cleaning_and_filtering/clean.py (MAPS, FILTERS, DEDUPS)
# and its clean_helpers/. A filter step's name is ROOTS's without `filter_`, so it is the reason
# a dropped document is counted under (`clean:small_docs_bytes`); the text logic is in
# filters/cleaning.py.

# The order steps run in, whatever order an entry lists them: ROOTS's per-dataset order
# (data/training_v2.csv: --filters, --dedups ending in filter_remove_empty_docs, --maps-and-filters,
# --filter-short-documents). `fix_mojibake` (ftfy, not ROOTS) repairs the text before any step reads it.
CLEAN_ORDER = (
    "wiki_user_titles",
    "wiki_non_text_type",
    "fix_mojibake",
    "dedup_pseudocrawl_newspapers",
    "remove_empty_docs",
    "remove_lines_with_code",
    "remove_html_spans",
    "remove_wiki_mojibake",
    "small_docs",
    "small_docs_bytes",
)
# clean.py's build_line_with_substring_remover lists: a line containing any of these goes.
ROOTS_LINE_SUBSTRINGS = {
    "remove_lines_with_code": ["{", "}", "[if", "<script"],
    "remove_html_spans": ["<span", "</span>", "<div", "</div>", "<a", "</a>", "br>"],
    "remove_wiki_mojibake": ["À À"],
}

# ROOTS steps of clean.py that rootstock runs in another stage, set in the run config.
ELSEWHERE = {
    "dedup_document": "the dedup stage's `exact` step",
    "dedup_document_on_url": "the dedup stage's `url` step",
    "dedup_template_soft": "the dedup stage's `template_lines` step",
}


class WikiUserTitles(Strict):
    """filter_wiki_user_titles: drop documents whose meta title starts with "User "."""

    step: Literal["wiki_user_titles"]
    field: str = "title"
    prefixes: list[str] = Field(["User "], min_length=1)


class WikiNonTextType(Strict):
    """filter_wiki_non_text_type: keep only documents whose meta type is "text"."""

    step: Literal["wiki_non_text_type"]
    field: str = "type"
    types: list[str] = Field(["text"], min_length=1)


class FixMojibake(Strict):
    """ftfy's repair of text decoded with the wrong codec; `options` override ftfy's
    TextFixerConfig (by default only its encoding fixes run, see filters/cleaning.py)."""

    step: Literal["fix_mojibake"]
    options: dict[str, Any] = {}

    @field_validator("options")
    @classmethod
    def _ftfy_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(TextFixerConfig._fields))
        if unknown:
            raise ValueError(f"not ftfy TextFixerConfig fields: {', '.join(unknown)}")
        return value


class DedupPseudocrawlNewspapers(Strict):
    """dedup_pseudocrawl_newspapers (build_dedup_template(0, 2)): lines occurring twice or more in
    the source are removed."""

    step: Literal["dedup_pseudocrawl_newspapers"]
    min_chars: int = Field(0, ge=0)
    min_count: int = Field(2, ge=2)


class RemoveEmptyDocs(Strict):
    """filter_remove_empty_docs: drop documents that are only whitespace."""

    step: Literal["remove_empty_docs"]


class RemoveLines(Strict):
    """remove_lines_with_code / remove_html_spans / remove_wiki_mojibake: lines containing any
    of `substrings` are removed (ROOTS's lists by default)."""

    step: Literal["remove_lines_with_code", "remove_html_spans", "remove_wiki_mojibake"]
    substrings: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _roots_substrings(cls, value: Any) -> Any:
        if isinstance(value, dict) and "substrings" not in value and value.get("step") in ROOTS_LINE_SUBSTRINGS:
            value = {**value, "substrings": ROOTS_LINE_SUBSTRINGS[value["step"]]}
        return value


class SmallDocs(Strict):
    """filter_small_docs: drop documents of fewer than `min_words` space-separated words."""

    step: Literal["small_docs"]
    min_words: int = Field(15, ge=1)


class SmallDocsBytes(Strict):
    """filter_small_docs_bytes_{300,1024}: drop documents under `min_bytes` UTF-8 bytes; `registry`
    takes the document language's `min_doc_bytes`, 0 turns the filter off for this source."""

    step: Literal["small_docs_bytes"]
    min_bytes: int | Literal["registry"] = Field("registry")

    @field_validator("min_bytes")
    @classmethod
    def _not_negative(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 0:
            raise ValueError("min_bytes is a byte count (0 = no size filter) or `registry`")
        return value


CleanStep = Annotated[
    WikiUserTitles
    | WikiNonTextType
    | FixMojibake
    | DedupPseudocrawlNewspapers
    | RemoveEmptyDocs
    | RemoveLines
    | SmallDocs
    | SmallDocsBytes,
    Field(discriminator="step"),
]


def _clean_item(item: Any) -> Any:
    """`name`, `{name: {params}}` or `{step: name, …}` → `{step: name, …}`; ROOTS's own names
    (`filter_small_docs_bytes_300`, `filter_remove_empty_docs`) are accepted as written in its CSV."""
    if isinstance(item, str):
        name, params = item, {}
    elif isinstance(item, dict) and len(item) == 1 and "step" not in item:
        ((name, params),) = item.items()
        params = {} if params is None else params
        if not isinstance(params, dict):
            return item  # left for the model to refuse
    else:
        return item
    if isinstance(name, str):
        match = re.fullmatch(r"filter_small_docs_bytes_(\d+)", name)
        if match:
            name, params = "small_docs_bytes", {"min_bytes": int(match.group(1)), **params}
        name = name.removeprefix("filter_")
    return {"step": name, **params}


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
    # ROOTS per-source cleaning steps, run in CLEAN_ORDER by the `clean` stage.
    clean: list[CleanStep] = []

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

    @field_validator("clean", mode="before")
    @classmethod
    def _clean_steps(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        items = [_clean_item(item) for item in value]
        for item in items:
            name = item.get("step") if isinstance(item, dict) else None
            if isinstance(name, str) and name in ELSEWHERE:
                raise ValueError(f"ROOTS's {name} is {ELSEWHERE[name]}, not a cleaning step")
            if isinstance(name, str) and name not in CLEAN_ORDER:
                close = difflib.get_close_matches(name, CLEAN_ORDER, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f"; steps: {', '.join(CLEAN_ORDER)}"
                raise ValueError(f"no cleaning step {name!r}{hint}")
        return items

    @field_validator("clean")
    @classmethod
    def _clean_order(cls, value: list[Any]) -> list[Any]:
        names = [step.step for step in value]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"each step once: {', '.join(twice)} listed more than once")
        return sorted(value, key=lambda step: CLEAN_ORDER.index(step.step))

    @model_validator(mode="after")
    def _clean_reads_meta(self) -> SourceEntry:
        """A wiki step reads a meta field: an entry whose `meta_fields` leaves it out cannot work."""
        kept = self.connector.meta_fields
        for step in self.clean:
            if isinstance(step, WikiUserTitles | WikiNonTextType) and kept is not None and step.field not in kept:
                raise ValueError(
                    f"clean step {step.step} reads meta field {step.field!r}, which connector.meta_fields leaves out"
                )
        return self

    def governance(self) -> dict[str, Any]:
        """The part of the entry a release snapshots (JSON-ready); how it was cleaned is in the
        processing record."""
        return self.model_dump(mode="json", exclude={"connector", "clean"})
