"""From a raw record to a document with provenance, and what is wrong when it can't be one.

A document is a plain dict (cheap to pickle between Beam workers) with these keys:
  id            stable: blake2b of (source, original id) or (source, input file, row)
  text, lang    lang is a registry code or `und`
  source        catalogue uid
  source_doc_id the record's own id, if the connector names an id field
  url, license  license: the record's `license_field` if set, else the catalogue entry's
  input_file, input_row   where the record was read (row = 0-based record index in the file)
  retrieved_at  µs since the epoch, UTC (record field, else the entry's date, else the file's mtime)
  meta          JSON string of the record's other fields
  origin        where a web/wiki document can be fetched again (see ORIGIN_FIELDS), else None
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from rootstock.catalog.entry import ConnectorSpec, SourceEntry
from rootstock.catalog.registry import UNDETERMINED, load_registry
from rootstock.errors import InputError

# The `origin` column's fields (a record's "_origin" dict): name → "int" or "str".
ORIGIN_FIELDS: dict[str, str] = {
    "kind": "str",  # the connector: warc | wet | cc_index | wikipedia
    "warc_file": "str",
    "warc_record_id": "str",
    "warc_offset": "int",  # byte range of the record as stored (its gzip member), for a range request
    "warc_length": "int",
    "http_status": "int",
    "content_type": "str",
    "charset": "str",  # what the HTML was decoded with
    "html_lang": "str",  # <html lang>
    "content_language": "str",  # the HTTP Content-Language header
    "extractor": "str",  # library and version that made the text
    "seed": "str",  # cc_index: the seed (domain or URL prefix) that selected the page
    "wiki": "str",  # wikipedia: the wiki's database name (fiwiki)
    "page_id": "int",
    "revision_id": "int",
    "revision_timestamp": "str",
    "title": "str",
}
ORIGIN_KEY = "_origin"
# Field left on a document whose record named a language that is none (`lang_field: "xx"`):
# not a column, only counted.
UNKNOWN_LANGUAGE = "lang_unknown"


@dataclass(frozen=True)
class RecordError:
    """A record that cannot become a document: `code` is the counted reason.

    A damaged file loses several records at once: `records` is how many (a Parquet row group
    whose page is corrupt), or None when the file does not say (a truncated stream: at
    least the record it was cut in, counted as one).
    """

    where: str  # "line 12" / "row 5" / "after line 40"
    code: str  # bad_json | not_an_object | missing_text | ... | truncated_file | corrupt_file
    reason: str
    records: int | None = 1
    # A record deliberately not taken (a redirect page, a non-HTML payload): counted like the
    # others, but not damage, so `on_error: fail` does not stop the run for it.
    expected: bool = False


def input_error(source: str, path: str, error: RecordError) -> InputError:
    """A malformed record under `on_error: fail`: the file, where in it, and what is wrong."""
    return InputError(
        problems=[(path, error.where, error.reason)],
        hint=f"source {source}: set `on_error: skip` in its catalogue entry to count and skip such records",
    )


def stable_id(*parts: str) -> str:
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=16)
    return digest.hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    return str(value)


def to_json(value: Any) -> str:
    return orjson.dumps(value, default=_json_default, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode(
        "utf-8"
    )


def _micros(value: dt.datetime | None) -> int | None:
    """In flight a timestamp is integer microseconds since the epoch (the Parquet column is
    timestamp[us, UTC]): Beam's coder would pickle a datetime at every stage boundary, which
    costs more than all the other fields of a document together."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return (value - _EPOCH) // dt.timedelta(microseconds=1)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)):
        parsed = dt.datetime.fromtimestamp(value, tz=dt.UTC)
    else:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


class DocumentBuilder:
    """Turns records of one source into documents; holds what is constant for the source."""

    def __init__(self, entry: SourceEntry):
        self.source = entry.uid
        self.license = entry.license.id
        self.spec: ConnectorSpec = entry.connector
        self.default_lang = entry.languages[0] if len(entry.languages) == 1 else UNDETERMINED
        self.retrieved_at = entry.retrieved_at
        spec = self.spec
        self._reserved = {
            spec.text_field,
            spec.id_field,
            spec.url_field,
            spec.retrieved_at_field,
            spec.license_field,
        } - {None}
        self._registry = None

    def _lang(self, value: Any) -> str:
        if value is None or value == "":
            return self.default_lang
        if self._registry is None:
            self._registry = load_registry()
        return self._registry.resolve(str(value)) or UNDETERMINED

    def build(
        self, record: Any, *, where: str, input_file: str, row: int, file_mtime: dt.datetime | None
    ) -> dict | RecordError:
        spec = self.spec
        if not isinstance(record, dict):
            return RecordError(where, "not_an_object", f"expected an object, got {type(record).__name__}")
        if spec.text_field not in record:
            return RecordError(where, "missing_text", f"no text field {spec.text_field!r}")
        text = record[spec.text_field]
        if isinstance(text, (bytes, bytearray)):
            try:
                text = bytes(text).decode("utf-8")
            except UnicodeDecodeError as err:
                return RecordError(where, "invalid_utf8", f"text is not valid UTF-8 ({err.reason} at byte {err.start})")
        if not isinstance(text, str):
            return RecordError(
                where, "text_not_string", f"text field {spec.text_field!r} is {type(text).__name__}, not a string"
            )
        if not text.strip():
            return RecordError(where, "empty_text", f"text field {spec.text_field!r} is empty")
        original_id = record.get(spec.id_field) if spec.id_field else None
        if spec.id_field and (original_id is None or original_id == ""):
            return RecordError(where, "missing_id", f"no value for id field {spec.id_field!r}")
        original_id = None if original_id is None else str(original_id)
        doc_id = (
            stable_id(self.source, original_id)
            if original_id is not None
            else stable_id(self.source, input_file, str(row))
        )
        url = record.get(spec.url_field) if spec.url_field else None
        license_id = record.get(spec.license_field) if spec.license_field else None
        try:
            retrieved = _as_datetime(record.get(spec.retrieved_at_field)) if spec.retrieved_at_field else None
        except (TypeError, ValueError) as err:
            return RecordError(where, "bad_field", f"retrieved_at field {spec.retrieved_at_field!r}: {err}")
        if spec.meta_fields is None:
            meta = {k: v for k, v in record.items() if k not in self._reserved and k != ORIGIN_KEY}
        else:
            meta = {k: record.get(k) for k in spec.meta_fields}
        origin = record.get(ORIGIN_KEY)
        if origin is not None:
            unknown = set(origin) - set(ORIGIN_FIELDS)
            if unknown:  # a connector's bug, not the data's
                raise ValueError(f"origin fields {sorted(unknown)} are not in ORIGIN_FIELDS")
            origin = {name: origin.get(name) for name in ORIGIN_FIELDS}
        lang = self._lang(record.get(spec.lang_field)) if spec.lang_field else self.default_lang
        doc = {
            "id": doc_id,
            "text": text,
            "lang": lang,
            "source": self.source,
            "source_doc_id": original_id,
            "url": None if url in (None, "") else str(url),
            "license": str(license_id) if license_id not in (None, "") else self.license,
            "input_file": input_file,
            "input_row": row,
            "retrieved_at": _micros(retrieved or self.retrieved_at or file_mtime),
            "meta": to_json(meta),
            "origin": origin,
        }
        if lang == UNDETERMINED and spec.lang_field and record.get(spec.lang_field) not in (None, ""):
            doc[UNKNOWN_LANGUAGE] = True  # counted (input:unknown_language), then left to language ID
        return doc
