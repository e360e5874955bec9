"""Common Crawl pseudo-crawl (ROOTS): a seed list → index rows → byte-range reads of those WARC records.

BigScience built ROOTS's pseudo-crawl by joining a list of seed sites with Common Crawl's
columnar index (by host, registered domain or URL prefix), keeping the most recent fetch of each
URL (`row_number() over (partition by url order by fetch_time desc)`), then fetching exactly
those records by byte range (bigscience-workshop/data-preparation,
`sourcing/cc_pseudo_crawl/seeds_batch_1/README.md` and `python_scripts/download_warc.py`). This
connector does the same. The entry's paths are Parquet exports of the columnar index (its
column names: `url`, `warc_filename`, `warc_record_offset`, `warc_record_length`, `fetch_time`,
`fetch_status`, `content_mime_detected` / `content_mime_type`; see
https://commoncrawl.org/blog/index-to-warc-files-and-urls-in-columnar-format).

Seeds. A seed without "/" is a domain: it matches that host and all its subdomains (`bbc.com`
matches `www.bbc.com` and `news.bbc.com`, not `notbbc.com`). A seed with "/" is a URL prefix: it
matches URLs on that very host (no subdomains) whose path (and query) starts with the seed's,
case-sensitively and without percent-decoding; a prefix with no path (`https://bbc.com`) is the
whole host. Everywhere the scheme is ignored (Common Crawl holds http and https fetches of one
site), hosts are compared lower-case with a leading `www.` dropped (as the URL blocklist does,
sources/urlfilter.py), and seed hosts are IDNA-encoded as index URLs are. A URL matched by
several seeds is credited to the most specific: the longest prefix, else the longest domain.

Selection runs on the launcher (`plan_units`): it is exact (latest fetch per URL needs every
row of every index file at once), deterministic (units are sorted by index file and row, so a
rerun makes the same units), and cheap next to the downloads it plans: one pass over the few
columns it needs, with no request to any WARC file. The limits: every selected row is held in
the launcher's memory and shipped to the runner inside its unit, so a selection of tens of
millions of rows wants a bigger launcher or several entries; and every row of every path is
read, so the paths must be an export of the sites' rows (Athena or DuckDB over the index, as
ROOTS did), not the whole index of a crawl. Work units are `rows_per_unit` rows of one index
file; `input_file` is that file and `input_row` the row's number in it.

Fetching (`iter_unit`): each row is one range request for `warc_prefix + warc_filename` at
[offset, offset + length), a few in flight at once (`parallel_fetches`). A failed request or a
short read is retried `retries` times with exponential backoff and jitter: Common Crawl answers
overload with 503 "Slow Down" and rate-limits with 4xx, and asks clients to slow down when they
see them (https://status.commoncrawl.org/). A missing file (404, 410) or a range past its end
(416) is not retried. A row still failing is `fetch_failed`; bytes that are not one WARC response
record for the row's URL are `index_mismatch`; the rest is `sources/warc.py`'s `page()`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import random
import time
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from pydantic import Field, field_validator

from rootstock.errors import InputError
from rootstock.filters.html import HtmlExtractor
from rootstock.paths import is_url
from rootstock.sources.files import DamagedInput
from rootstock.sources.files import unit_file_mtime as file_mtime
from rootstock.sources.files import unit_file_name as unit_name
from rootstock.sources.records import RecordError
from rootstock.sources.warc import HTML_TYPES, WarcOptions, match_files, page
from rootstock.sources.warc_records import RawRecord, iter_records

FETCH_FAILED = "fetch_failed"
INDEX_MISMATCH = "index_mismatch"
BAD_INDEX_ROW = "bad_index_row"

# Common Crawl's columnar-index names.
URL, WARC_FILENAME, OFFSET, LENGTH = "url", "warc_filename", "warc_record_offset", "warc_record_length"
HOST = "url_host_name"  # read when there: matching domains then needs no URL parsing
FETCH_TIME, STATUS = "fetch_time", "fetch_status"
MIME_COLUMNS = ("content_mime_detected", "content_mime_type")  # detected (sniffed) first: servers' headers lie
# HTTP statuses that no retry changes: the file is not there, or the range lies past its end.
_PERMANENT = frozenset({404, 410, 416})


class CcIndexOptions(WarcOptions):
    """`extractor`, `max_record_bytes` and `html_types` are the `warc` kind's page settings."""

    seeds: list[str] = []
    seed_files: list[str] = []  # one seed per line; `#` starts a comment
    warc_prefix: str = "https://data.commoncrawl.org/"
    # Index rows kept: None takes every status / MIME type (the page is still checked after download).
    statuses: list[int] | None = [200]
    mimes: list[str] | None = list(HTML_TYPES)
    latest_per_url: bool = True
    rows_per_unit: int = Field(1000, gt=0)
    parallel_fetches: int = Field(4, gt=0, le=64)
    retries: int = Field(4, ge=0)  # after the first attempt
    backoff_seconds: float = Field(1.0, ge=0)  # before the first retry; doubles each time, with jitter
    backoff_max_seconds: float = Field(60.0, ge=0)
    timeout_seconds: float = Field(60.0, gt=0)  # per request, http(s) only

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value: list[str]) -> list[str]:
        for seed in value:
            parse_seed(seed)  # ValueError names the seed
        return value


# -- seeds ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    text: str  # as written, recorded in each page's origin
    host: str  # lower-case, IDNA, without `www.`
    prefix: str | None  # None: a domain seed; else the path (and query) prefix, starting with "/"


def _host(host: str) -> str:
    host = host.strip().lower().rstrip(".").removeprefix("www.")
    if host.isascii():  # as index URLs' hosts are: no IDNA pass per row
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def parse_seed(text: str) -> Seed:
    """A seed as written → what it matches; ValueError naming it if it has no host."""
    seed = text.strip()
    if "/" not in seed:
        host = _host(seed)
        prefix = None
    else:
        parts = urlsplit(seed if "://" in seed else "http://" + seed)
        try:
            host = _host(parts.hostname or "")
        except ValueError:
            host = ""
        prefix = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not host or any(c in host for c in " /:@"):
        raise ValueError(f"seed {text!r} names no host (write a domain like bbc.com or a URL prefix)")
    return Seed(text.strip(), host, prefix)


class SeedMatcher:
    """`match(url)` → the most specific seed matching URL, or None."""

    def __init__(self, seeds: list[Seed]):
        self.domains: dict[str, Seed] = {}
        self.prefixes: dict[str, list[Seed]] = {}
        for seed in seeds:
            if seed.prefix is None:
                self.domains.setdefault(seed.host, seed)
            else:
                self.prefixes.setdefault(seed.host, []).append(seed)
        for found in self.prefixes.values():
            found.sort(key=lambda s: -len(s.prefix or ""))

    def match(self, url: str, host: str | None = None) -> Seed | None:
        """HOST, if given, is the URL's host as the index parsed it (`url_host_name`): the URL
        is then parsed only when a prefix seed names that host."""
        parts = None
        try:
            if host is None:
                parts = urlsplit(url)
                host = parts.hostname or ""
            host = _host(host)
        except ValueError:
            return None
        if not host:
            return None
        candidates = self.prefixes.get(host)
        if candidates:
            try:
                parts = parts or urlsplit(url)
            except ValueError:
                return None
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            for seed in candidates:
                if path.startswith(seed.prefix or ""):
                    return seed
        if self.domains:
            labels = host.split(".")
            for i in range(len(labels)):  # longest suffix first: the most specific domain
                seed = self.domains.get(".".join(labels[i:]))
                if seed is not None:
                    return seed
        return None


def load_seeds(options: CcIndexOptions) -> list[Seed]:
    """The inline seeds, then those of each seed file; InputError naming a bad file or line."""
    seeds = [parse_seed(s) for s in options.seeds]
    for path in options.seed_files:
        try:
            with FileSystems.open(path) as handle:
                lines = handle.read().decode("utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(problems=[(path, "connector.options.seed_files", f"unreadable ({err})")]) from None
        for number, line in enumerate(lines, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                seeds.append(parse_seed(text))
            except ValueError as err:
                raise InputError(problems=[(path, f"line {number}", str(err))]) from None
    if not seeds:
        raise InputError("cc_index: no seeds (set connector.options.seeds or seed_files)")
    return seeds


# -- planning ------------------------------------------------------------------------------

# A unit: ("cc_index", index_file, rows); each row a tuple in this order. Plain tuples (not
# NamedTuples) so Beam pickles them and infers no schema from them.
_ROW, _SEED, _URL, _WARC, _OFFSET, _LENGTH, _FETCHED, _STATUS, _MIME = range(9)


@dataclass
class CcIndexPlan:
    units: list[tuple]
    summary: dict[str, Any] = field(default_factory=dict)


def _required_columns(path: str, names: list[str], options: CcIndexOptions) -> list[str]:
    """The columns to read from an index file; InputError naming the file and a missing column."""
    required = [URL, WARC_FILENAME, OFFSET, LENGTH]
    if options.latest_per_url:
        required.append(FETCH_TIME)
    if options.statuses is not None:
        required.append(STATUS)
    problems = [(path, column, "the index file has no such column") for column in required if column not in names]
    mimes = [c for c in MIME_COLUMNS if c in names]
    if options.mimes is not None and not mimes:
        problems.append(
            (path, " or ".join(MIME_COLUMNS), "the index file has no MIME type column (or set mimes: null)")
        )
    if problems:
        raise InputError(problems=problems, hint=f"columns found: {', '.join(names)}")
    optional = [c for c in (HOST, FETCH_TIME, STATUS) if c in names and c not in required]
    return required + optional + mimes


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _fetch_time(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    try:
        text = str(value).replace("Z", "+00:00")
        parsed = dt.datetime.strptime(text, "%Y%m%d%H%M%S") if text.isdigit() else dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _index_batches(path: str, options: CcIndexOptions) -> Iterator[dict[str, list]]:
    """The needed columns of an index file, batch by batch; InputError naming a file that is
    not Parquet or lacks a column."""
    try:
        handle = FileSystems.open(path)
    except Exception as err:  # each file system raises its own errors
        raise InputError(problems=[(path, "connector.paths", f"cannot be opened ({err})")]) from None
    with handle:
        try:
            parquet = pq.ParquetFile(handle)
        except Exception as err:  # pyarrow fails in many ways on a file that is not Parquet
            raise InputError(problems=[(path, "connector.paths", f"not a readable Parquet file ({err})")]) from None
        columns = _required_columns(path, parquet.schema_arrow.names, options)
        try:
            for batch in parquet.iter_batches(batch_size=65536, columns=columns):
                for i, column in enumerate(batch.columns):
                    if pa.types.is_timestamp(column.type):  # datetimes; Hive's INT96 reads as ns: drop them
                        stamp = column.cast(pa.timestamp("us", "UTC"), safe=False)
                        batch = batch.set_column(i, batch.schema.names[i], stamp)
                yield batch.to_pydict()
        except Exception as err:  # a damaged page fails in many ways inside pyarrow
            raise InputError(problems=[(path, "connector.paths", f"unreadable Parquet data ({err})")]) from None


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def plan_index(paths: list[str], options: CcIndexOptions) -> CcIndexPlan:
    """Units plus a summary: rows read, rows per seed, rows dropped by status, MIME type and
    older fetches, seeds with no row. Runs once, on the launcher."""
    seeds = load_seeds(options)
    matcher = SeedMatcher(seeds)
    statuses = None if options.statuses is None else set(options.statuses)
    mimes = None if options.mimes is None else {m.lower() for m in options.mimes}
    files = match_files(paths)
    counts: Counter = Counter()
    chosen: dict[str, tuple] = {}  # url → (sort key, file index, row) of its latest fetch
    kept: list[tuple[int, tuple]] = []  # (file index, row)
    for file_index, path in enumerate(files):
        number = 0
        for batch in _index_batches(path, options):
            n = len(batch[URL])
            mime_values = [batch[c] for c in MIME_COLUMNS if c in batch]
            hosts = batch.get(HOST) or [None] * n
            for i in range(n):
                row_number, number = number, number + 1
                url = batch[URL][i]
                seed = matcher.match(url, hosts[i] or None) if isinstance(url, str) else None
                if seed is None:
                    continue
                status = _int(batch[STATUS][i]) if STATUS in batch else None
                if statuses is not None and status not in statuses:
                    counts["status"] += 1
                    continue
                mime = next((v[i] for v in mime_values if v[i]), None)
                mime = mime.split(";", 1)[0].strip().lower() if isinstance(mime, str) else None
                if mimes is not None and mime not in mimes:
                    counts["mime"] += 1
                    continue
                fetched = _fetch_time(batch[FETCH_TIME][i]) if FETCH_TIME in batch else None
                offset, length = _int(batch[OFFSET][i]), _int(batch[LENGTH][i])
                row = (row_number, seed.text, url, batch[WARC_FILENAME][i], offset, length, fetched, status, mime)
                if not options.latest_per_url:
                    kept.append((file_index, row))
                    continue
                # Latest fetch wins; a tie goes by (WARC file, offset), never by reading order.
                key = (fetched is not None, fetched or _EPOCH, str(row[_WARC]), offset or 0)
                previous = chosen.get(url)
                if previous is not None:
                    counts["older_fetch"] += 1
                    if previous[0] >= key:
                        continue
                chosen[url] = (key, file_index, row)
            counts["index_rows"] += n
    if options.latest_per_url:
        kept = [(file_index, row) for _, file_index, row in chosen.values()]
    kept.sort(key=lambda item: (item[0], item[1][_ROW]))
    by_file: dict[int, list[tuple]] = {}
    for file_index, row in kept:
        by_file.setdefault(file_index, []).append(row)
    units: list[tuple] = []
    step = options.rows_per_unit
    for file_index, rows in sorted(by_file.items()):
        for start in range(0, len(rows), step):
            units.append(("cc_index", files[file_index], tuple(rows[start : start + step])))
    per_seed = Counter(row[_SEED] for _, row in kept)
    summary = {
        "index_files": len(files),
        "index_rows": counts["index_rows"],
        "selected_rows": len(kept),
        "units": len(units),
        "rows_per_seed": dict(sorted(per_seed.items())),
        "dropped": {"status": counts["status"], "mime": counts["mime"], "older_fetch": counts["older_fetch"]},
        "seeds_without_rows": sorted({s.text for s in seeds} - set(per_seed)),
    }
    return CcIndexPlan(units, summary)


def plan_units(paths: list[str], options: CcIndexOptions, entry_license: str | None = None) -> list[tuple]:
    """Work units, computed once on the launcher (`plan_index` also gives the summary)."""
    return plan_index(paths, options).units


# -- fetching ------------------------------------------------------------------------------


def warc_url(prefix: str, warc_filename: str) -> str:
    """Where a record's WARC file is read: the index's relative name under the prefix (a URL
    or a local mirror); a name that is already a URL is used as it is."""
    if is_url(warc_filename):
        return warc_filename
    return prefix.rstrip("/") + "/" + warc_filename.lstrip("/")


@dataclass(frozen=True)
class Fetched:
    data: bytes | None
    attempts: int
    error: str | None = None  # the last failure, when data is None


class RangeFetcher:
    """Byte ranges through fsspec (`cat_file` with start/end: an HTTP Range request, a seek on
    a local file), with bounded retries and exponential backoff with jitter."""

    def __init__(self, options: CcIndexOptions):
        self.options = options
        self._random = random.Random()

    def _fs(self, url: str):
        storage: dict[str, Any] = {}
        if url.startswith(("http://", "https://")):
            import aiohttp  # noqa: PLC0415 - fsspec's http file system already depends on it; only http needs a timeout

            storage["client_kwargs"] = {"timeout": aiohttp.ClientTimeout(total=self.options.timeout_seconds)}
        return fsspec.core.url_to_fs(url, **storage)

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number RETRY (1-based): base × 2^(retry-1), capped, times
        a random factor in [0.5, 1) so workers that failed together do not retry together."""
        base = min(self.options.backoff_max_seconds, self.options.backoff_seconds * 2 ** (retry - 1))
        return base * (0.5 + self._random.random() / 2)

    def fetch(self, url: str, start: int, length: int) -> Fetched:
        try:
            fs, path = self._fs(url)
        except Exception as err:  # an unknown protocol, a missing optional package
            return Fetched(None, 0, f"cannot open {url} ({type(err).__name__}: {err})")
        error = "never tried"
        attempts = 0
        for attempt in range(self.options.retries + 1):
            if attempt:
                time.sleep(self.delay(attempt))
            attempts += 1
            try:
                data = fs.cat_file(path, start=start, end=start + length)
            except FileNotFoundError:
                return Fetched(None, attempts, "the file does not exist (404)")
            except Exception as err:  # each fsspec backend raises its own errors (aiohttp, botocore, OSError…)
                status = getattr(err, "status", None) or getattr(err, "code", None)
                if isinstance(status, int):  # aiohttp's message repeats the URL, already in the reason
                    error = f"HTTP {status} {getattr(err, 'message', '') or ''}".strip()
                else:
                    error = f"{type(err).__name__}: {err}"
                if status in _PERMANENT:
                    return Fetched(None, attempts, error)
                continue
            if len(data) == length:
                return Fetched(data, attempts)
            if len(data) > length:  # a whole file sent back: no retry will get a range out of it
                return Fetched(None, attempts, f"{len(data)} bytes came back for a range of {length}: Range ignored")
            error = f"short read: {len(data)} of {length} bytes"
        return Fetched(None, attempts, error)


# -- reading -------------------------------------------------------------------------------


def where_of(row: tuple) -> str:
    return f"index row {row[_ROW]} ({row[_URL]})"


def _ordered(pool: ThreadPoolExecutor, fetcher: RangeFetcher, rows: tuple, window: int) -> Iterator[tuple]:
    """(row, Fetched, or the RecordError of a row not fetched) in the rows' order, with up to
    WINDOW fetches in flight."""
    pending: deque[tuple[tuple, Future | RecordError]] = deque()
    todo = iter(rows)
    while True:
        while len(pending) < window:
            row = next(todo, None)
            if row is None:
                break
            problem = _row_problem(row, fetcher.options)
            source = warc_url(fetcher.options.warc_prefix, row[_WARC]) if problem is None else ""
            pending.append((row, problem or pool.submit(fetcher.fetch, source, row[_OFFSET], row[_LENGTH])))
        if not pending:
            return
        row, job = pending.popleft()
        yield row, job if isinstance(job, RecordError) else job.result()


def _row_problem(row: tuple, options: CcIndexOptions) -> RecordError | None:
    """Why a row is not fetched: its index values locate no record, or it is too large."""
    where, url, offset, length = where_of(row), row[_URL], row[_OFFSET], row[_LENGTH]
    if not isinstance(row[_WARC], str) or not row[_WARC]:
        return RecordError(where, BAD_INDEX_ROW, f"{url}: the index row has no warc_filename")
    if offset is None or offset < 0 or length is None or length <= 0:
        return RecordError(
            where,
            BAD_INDEX_ROW,
            f"{url}: warc_record_offset {offset!r} and warc_record_length {length!r} locate no record",
        )
    if length > options.max_record_bytes:  # already over when compressed: not downloaded
        return RecordError(
            where,
            "too_large",
            f"{url}: {length} compressed bytes (max_record_bytes is {options.max_record_bytes})",
            expected=True,
        )
    return None


def iter_unit(unit: tuple, paths: list[str], options: CcIndexOptions) -> Iterator[tuple[int, str, dict | RecordError]]:
    """(index row number, "index row N (url)", page or error) for each row of the unit, in order."""
    extractor = HtmlExtractor(options.extractor)
    fetcher = RangeFetcher(options)
    pool = ThreadPoolExecutor(max_workers=options.parallel_fetches, thread_name_prefix="cc_index")
    try:
        for row, fetched in _ordered(pool, fetcher, unit[2], options.parallel_fetches):
            yield row[_ROW], where_of(row), row_record(row, fetched, extractor, options)
    finally:  # also when the reader stops early (on_error: fail): do not wait for fetches in flight
        pool.shutdown(wait=False, cancel_futures=True)


def row_record(
    row: tuple, fetched: Fetched | RecordError, extractor: HtmlExtractor, options: CcIndexOptions
) -> dict | RecordError:
    """An index row and its fetched bytes → a page, or the counted reason it is not one."""
    if isinstance(fetched, RecordError):
        return fetched
    where, url = where_of(row), row[_URL]
    span = f"{warc_url(options.warc_prefix, row[_WARC])} bytes {row[_OFFSET]}-{row[_OFFSET] + row[_LENGTH] - 1}"
    if fetched.data is None:
        tries = f"{fetched.attempts} attempt{'s' if fetched.attempts != 1 else ''}"
        return RecordError(where, FETCH_FAILED, f"{span}: {fetched.error} ({tries})")
    record = _one_record(fetched.data, options)
    if isinstance(record, str):
        return RecordError(where, INDEX_MISMATCH, f"{span} {record}")
    target = record.headers.get("warc-target-uri", "").strip("<>")
    if record.type != "response" or target != url:
        found = f"a {record.type or 'untyped'} record for {target or 'no URL'}"
        return RecordError(where, INDEX_MISMATCH, f"{span} hold {found}, not the response for {url}")
    result = page(record, row[_WARC], extractor, options)
    if isinstance(result, RecordError):
        return dataclasses.replace(result, where=where)
    result["_origin"].update(
        kind="cc_index", warc_file=row[_WARC], warc_offset=row[_OFFSET], warc_length=row[_LENGTH], seed=row[_SEED]
    )
    return result


def _one_record(data: bytes, options: CcIndexOptions) -> RawRecord | str:
    """The single WARC record the fetched bytes must hold, or what they hold instead."""
    stream = io.BufferedReader(io.BytesIO(data))
    found: list[RawRecord | RecordError] = []
    try:
        for item in iter_records(stream, max_block=options.max_record_bytes):
            found.append(item)
            if len(found) > 1:
                return "hold more than one WARC record: the index's length is wrong"
    except DamagedInput as err:
        return f"are not one whole WARC record ({err})"
    if not found:
        return "hold no WARC record"
    if isinstance(found[0], RecordError):
        return f"are not a WARC record ({found[0].reason})"
    return found[0]


__all__ = [
    "CcIndexOptions",
    "CcIndexPlan",
    "RangeFetcher",
    "SeedMatcher",
    "file_mtime",
    "iter_unit",
    "parse_seed",
    "plan_index",
    "plan_units",
    "unit_name",
]
