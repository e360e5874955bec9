"""Common Crawl WET files: the text Common Crawl already extracted, one `conversion` record per page.

No HTML extraction: the record's block is the text. Framing, damage handling and byte ranges
are those of sources/warc_records.py; `WARC-Refers-To` (the response record the text came from)
and Common Crawl's `WARC-Identified-Content-Language` are kept in `meta`.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from rootstock.sources.files import open_input
from rootstock.sources.records import RecordError
from rootstock.sources.warc import file_mtime, plan_units, unit_name, warc_date
from rootstock.sources.warc_records import RawRecord, iter_records


class WetOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_record_bytes: int = Field(10 << 20, gt=0)


def iter_unit(unit: tuple, paths: list[str], options: WetOptions) -> Iterator[tuple[int, str, dict | RecordError]]:
    path = unit[1]
    with open_input(path, decompress=False) as stream:
        row = 0
        for item in iter_records(stream, max_block=options.max_record_bytes):
            if isinstance(item, RecordError):
                yield row, item.where, item
            elif item.type == "conversion":
                yield row, f"offset {item.offset}", text_record(item, path, options)
            else:
                continue  # warcinfo: the file's own description
            row += 1


def text_record(record: RawRecord, wet_file: str, options: WetOptions) -> dict | RecordError:
    where = f"offset {record.offset}"
    url = record.headers.get("warc-target-uri", "").strip("<>")
    if record.block is None:
        return record.oversized(options.max_record_bytes)
    try:
        text = record.block.decode("utf-8")
    except UnicodeDecodeError as err:
        return RecordError(where, "invalid_utf8", f"{url}: invalid UTF-8 ({err.reason} at byte {err.start})")
    record_id = record.headers.get("warc-record-id")
    return {
        "text": text,
        "url": url,
        "fetch_time": warc_date(record.headers.get("warc-date")),
        "warc_record_id": record_id,
        "refers_to": record.headers.get("warc-refers-to"),
        "identified_languages": record.headers.get("warc-identified-content-language"),
        "_origin": {
            "kind": "wet",
            "warc_file": wet_file,
            "warc_record_id": record_id,
            "warc_offset": record.offset,
            "warc_length": record.length,
            "content_type": record.headers.get("content-type"),
        },
    }


__all__ = ["WetOptions", "file_mtime", "iter_unit", "plan_units", "unit_name"]
