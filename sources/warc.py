"""WARC (and ARC) crawl files: HTTP response records → main text of their HTML pages.

One work unit per file, so a crawl of thousands of WARC files spreads over workers. Records
are framed by sources/warc_records.py (exact byte ranges, damaged records counted and skipped)
and parsed by fastwarc (HTTP headers, chunked and compressed payloads); the text comes from the
configured HTML extractor (filters/html.py). Every response record becomes a document or a
counted skip: an HTTP status other than 2xx (`http_404`, `http_301`…), a payload that is not
HTML (`not_html`: PDF, images, JSON), a page over `max_record_bytes` (`too_large`), and what
the extractor refuses (`no_text`, `too_deep`, `binary`; filters/html.py says why). WARC request, metadata and warcinfo records are the crawl's
bookkeeping, not pages, and are not counted. ARC files (the format before WARC) are read with
warcio, which converts their records; fastwarc does not read ARC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from rootstock.filters.html import ExtractorSettings, HtmlExtractor, Rejected
from rootstock.sources.files import match_files, open_input
from rootstock.sources.files import unit_file_mtime as file_mtime
from rootstock.sources.files import unit_file_name as unit_name
from rootstock.sources.records import RecordError
from rootstock.sources.warc_records import RawRecord, iter_records

HTML_TYPES = ("text/html", "application/xhtml+xml")


class WarcOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    extractor: ExtractorSettings = ExtractorSettings()
    # Bigger pages are counted as `too_large` and skipped without being held in memory.
    max_record_bytes: int = Field(10 << 20, gt=0)
    # Responses with these content types are pages (others: `not_html`).
    html_types: list[str] = list(HTML_TYPES)


def plan_units(paths: list[str], options: WarcOptions, entry_license: str | None = None) -> list[tuple]:
    """One unit per WARC/ARC file the paths match."""
    return [("file", path) for path in match_files(paths)]


def is_arc(path: str) -> bool:
    return path.lower().removesuffix(".gz").endswith(".arc")


def iter_unit(unit: tuple, paths: list[str], options: WarcOptions) -> Iterator[tuple[int, str, dict | RecordError]]:
    path = unit[1]
    extractor = HtmlExtractor(options.extractor)
    if is_arc(path):
        yield from _arc_pages(path, extractor, options)
        return
    with open_input(path, decompress=False) as stream:
        row = 0
        for item in iter_records(stream, max_block=options.max_record_bytes):
            if isinstance(item, RecordError):
                yield row, item.where, item
                row += 1
                continue
            if item.type != "response":
                continue
            yield row, f"offset {item.offset}", page(item, path, extractor, options)
            row += 1


def page(record: RawRecord, warc_file: str, extractor: HtmlExtractor, options: WarcOptions) -> dict | RecordError:
    """A response record → a page record, or the counted reason it is not one."""
    from fastwarc.warc import WarcRecord  # noqa: PLC0415 - fastwarc's C extension loads only where WARC is read

    where = f"offset {record.offset}"
    url = record.headers.get("warc-target-uri", "").strip("<>")
    if record.block is None:
        return record.oversized(options.max_record_bytes)
    try:
        parsed = WarcRecord.from_bytes(record.raw())
        parsed.parse_http(auto_decode="all")
        http = parsed.http_headers
        body = parsed.reader.read()
    except (OSError, ValueError) as err:
        return RecordError(where, "bad_http", f"{url}: the HTTP response cannot be parsed ({err})")
    if http is None or http.status_code is None:
        return RecordError(where, "bad_http", f"{url}: the response record has no HTTP status line")
    response = Response(
        url, http.status_code, http.get("Content-Type"), http.get("Content-Language"), parsed.http_charset, body
    )
    origin = {
        "kind": "warc",
        "warc_file": warc_file,
        "warc_record_id": record.headers.get("warc-record-id"),
        "warc_offset": record.offset,
        "warc_length": record.length,
    }
    return response.page(where, warc_date(record.headers.get("warc-date")), origin, extractor, options)


@dataclass(frozen=True)
class Response:
    """An HTTP response as the page logic needs it, whichever library parsed it."""

    url: str
    status: int
    content_type_header: str | None
    content_language: str | None
    charset: str | None
    body: bytes

    def page(
        self, where: str, fetched, origin: dict, extractor: HtmlExtractor, options: WarcOptions
    ) -> dict | RecordError:
        content_type = (self.content_type_header or "").split(";", 1)[0].strip().lower()
        origin = {
            **origin,
            "http_status": self.status,
            "content_type": content_type or None,
            "content_language": self.content_language,
        }
        if not 200 <= self.status < 300:
            return RecordError(where, f"http_{self.status}", f"{self.url}: HTTP {self.status}", expected=True)
        if content_type not in options.html_types and not (not content_type and _looks_like_html(self.body)):
            return RecordError(where, "not_html", f"{self.url}: {content_type or 'no content type'}", expected=True)
        extracted = extractor.try_extract(self.body, url=self.url, declared_charset=self.charset)
        if isinstance(extracted, Rejected):
            # A page the extractor cannot use (too large or deep, binary, no main text) is skipped on
            # purpose; an exception inside the extractor library is damage and obeys on_error.
            detail = f"{self.url}: {extracted.detail}" if extracted.detail else self.url
            return RecordError(where, extracted.reason, detail, expected=extracted.reason != "error")
        origin.update(charset=extracted.charset, html_lang=extracted.html_lang, extractor=extracted.extractor)
        return {
            "text": extracted.text,
            "url": self.url,
            "fetch_time": fetched,
            "warc_record_id": origin["warc_record_id"],
            "title": extracted.title,
            "_origin": origin,
        }


def _looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


def warc_date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _arc_pages(
    path: str, extractor: HtmlExtractor, options: WarcOptions
) -> Iterator[tuple[int, str, dict | RecordError]]:
    """ARC files through warcio, which converts their records to WARC ones."""
    from warcio.archiveiterator import ArchiveIterator  # noqa: PLC0415 - only ARC files need warcio
    from warcio.exceptions import ArchiveLoadFailed  # noqa: PLC0415 - only ARC files need warcio

    row = 0
    with open_input(path, decompress=False) as stream:
        records = ArchiveIterator(stream, arc2warc=True)
        try:
            for record in records:
                if record.rec_type != "response":
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                http = record.http_headers
                body = _read_up_to(record.content_stream(), options.max_record_bytes + 1)
                offset = records.get_record_offset()  # only after the read: asking first consumes the record
                where = f"offset {offset}"
                if len(body) > options.max_record_bytes:
                    result = RecordError(where, "too_large", f"{url}: over max_record_bytes", expected=True)
                elif http is None or not (http.get_statuscode() or "").isdigit():
                    result = RecordError(where, "bad_http", f"{url}: the record has no HTTP status")
                else:
                    content_type = http.get_header("Content-Type")
                    charset = content_type.partition("charset=")[2].strip(' "') or None if content_type else None
                    response = Response(
                        url,
                        int(http.get_statuscode()),
                        content_type,
                        http.get_header("Content-Language"),
                        charset,
                        body,
                    )
                    origin = {
                        "kind": "warc",
                        "warc_file": path,
                        "warc_record_id": record.rec_headers.get_header("WARC-Record-ID"),
                    }
                    origin["warc_offset"] = offset
                    fetched = warc_date(record.rec_headers.get_header("WARC-Date"))
                    result = response.page(where, fetched, origin, extractor, options)
                yield row, where, result
                row += 1
        except ArchiveLoadFailed as err:
            where = f"after record {row}"
            yield row, where, RecordError(where, "bad_record", f"not a readable ARC record ({err})")


def _read_up_to(stream, limit: int) -> bytes:
    """Up to LIMIT bytes: warcio's streams return one buffer per read, not what was asked."""
    parts, size = [], 0
    while size < limit:
        part = stream.read(min(1 << 16, limit - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


# The connector's functions (sources/connectors.py), the shared ones included.
__all__ = ["WarcOptions", "file_mtime", "iter_unit", "page", "plan_units", "unit_name", "warc_date"]
