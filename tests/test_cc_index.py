"""`cc_index` (issue 15): seeds select Common Crawl index rows, and exactly those WARC records are
read by byte range from a loopback server that fails some requests on purpose."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from rootstock.catalog.entry import SourceEntry
from rootstock.errors import InputError
from rootstock.sources import cc_index, connectors
from rootstock.sources.cc_index import CcIndexOptions, SeedMatcher, parse_seed, plan_index
from rootstock.sources.records import RecordError
from rootstock.sources.units import Skipped, UnitReader
from tests.conftest import entry
from tests.http_range_server import RangeServer

CRAWL_1 = "crawl-data/CC-MAIN-2023-06/segments/1/warc/CC-MAIN-a.warc.gz"
CRAWL_2 = "crawl-data/CC-MAIN-2024-10/segments/2/warc/CC-MAIN-b.warc.gz"
SEEDS = ["https://www.bbc.com/swahili/", "www.example.org"]


@dataclass(frozen=True)
class Page:
    url: str
    fetched: str  # WARC-Date and the index's fetch_time
    status: int = 200
    mime: str = "text/html"

    @property
    def sentence(self) -> str:
        return f"This page at {self.url} was fetched on {self.fetched} and holds one known paragraph."

    def payload(self) -> bytes:
        if self.mime == "application/pdf":
            return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
        return (
            f"<html><head><title>{self.url}</title></head><body><nav>Home | News</nav><article>"
            f"<h1>A story</h1><p>{self.sentence}</p><p>Volunteers filled sandbags along the old quay "
            "all morning while the river kept rising under the bridge.</p></article></body></html>"
        ).encode()


CRAWL_1_PAGES = [
    Page("https://www.bbc.com/swahili/habari-1", "2023-02-01T10:00:00Z"),
    Page("https://www.bbc.com/news/world-1", "2023-02-01T10:01:00Z"),  # bbc.com, outside the prefix
    Page("http://news.example.org/story", "2023-02-02T08:00:00Z"),  # fetched again in crawl 2
    Page("https://example.org/gone", "2023-02-02T08:01:00Z", status=404),
    Page("https://example.org/report.pdf", "2023-02-02T08:02:00Z", mime="application/pdf"),
    Page("https://notexample.org/page", "2023-02-02T08:03:00Z"),
    Page("https://example.org.evil.com/", "2023-02-02T08:04:00Z"),
    Page("https://other.net/x", "2023-02-02T08:05:00Z"),
]
CRAWL_2_PAGES = [
    Page("http://news.example.org/story", "2024-03-01T09:00:00Z"),
    Page("https://example.org/flaky", "2024-03-01T09:01:00Z"),  # 503 twice
    Page("https://example.org/cut", "2024-03-01T09:02:00Z"),  # connection closed mid-body once
    Page("https://example.org/short", "2024-03-01T09:03:00Z"),  # a short body once
    Page("https://example.org/lost", "2024-03-01T09:04:00Z"),  # fails every time
    Page("https://example.org/whole", "2024-03-01T09:05:00Z"),  # the server ignores Range
]


def write_warc(path: Path, pages: list[Page]) -> dict[str, tuple[int, int]]:
    """A WARC.gz, one gzip member per record; url → (offset, length) of its member."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    spans = {}
    for p in pages:
        reason = {200: "200 OK", 404: "404 Not Found"}[p.status]
        http = StatusAndHeaders(reason, [("Content-Type", f"{p.mime}; charset=utf-8")], protocol="HTTP/1.1")
        record = writer.create_warc_record(
            p.url,
            "response",
            payload=io.BytesIO(p.payload()),
            http_headers=http,
            warc_headers_dict={"WARC-Date": p.fetched},
        )
        start = out.tell()
        writer.write_record(record)
        spans[p.url] = (start, out.tell() - start)
    path.write_bytes(out.getvalue())
    return spans


def index_row(page: Page, warc: str, span: tuple[int, int], url: str | None = None) -> dict:
    url = url or page.url
    host = url.split("/")[2]
    return {
        "url_surtkey": ",".join(reversed(host.split("."))) + ")/",
        "url": url,
        "url_host_name": host,
        "url_host_registered_domain": ".".join(host.split(".")[-2:]),
        "fetch_time": dt.datetime.fromisoformat(page.fetched.replace("Z", "+00:00")),
        "fetch_status": page.status,
        "content_mime_type": page.mime,
        "content_mime_detected": page.mime,
        "warc_filename": warc,
        "warc_record_offset": span[0],
        "warc_record_length": span[1],
    }


SCHEMA = pa.schema(
    [
        ("url_surtkey", pa.string()),
        ("url", pa.string()),
        ("url_host_name", pa.string()),
        ("url_host_registered_domain", pa.string()),
        ("fetch_time", pa.timestamp("ms", tz="UTC")),
        ("fetch_status", pa.int16()),
        ("content_mime_type", pa.string()),
        ("content_mime_detected", pa.string()),
        ("warc_filename", pa.string()),
        ("warc_record_offset", pa.int32()),
        ("warc_record_length", pa.int32()),
    ]
)


@dataclass
class Crawl:
    root: Path  # what the server serves: crawl-data/...
    index: list[str]  # the two index files
    spans: dict[tuple[str, str], tuple[int, int]]  # (warc file, url) → (offset, length)

    def range_of(self, warc: str, url: str) -> tuple[int, int]:
        offset, length = self.spans[(warc, url)]
        return offset, offset + length - 1


@pytest.fixture
def crawl(tmp_path: Path) -> Crawl:
    root = tmp_path / "mirror"
    spans = {}
    for warc, pages in ((CRAWL_1, CRAWL_1_PAGES), (CRAWL_2, CRAWL_2_PAGES)):
        for url, span in write_warc(root / warc, pages).items():
            spans[(warc, url)] = span
    rows_1 = [index_row(p, CRAWL_1, spans[(CRAWL_1, p.url)]) for p in CRAWL_1_PAGES]
    rows_2 = [index_row(p, CRAWL_2, spans[(CRAWL_2, p.url)]) for p in CRAWL_2_PAGES]
    news = CRAWL_1_PAGES[1]  # a row whose range holds another page's record
    rows_2.append(index_row(news, CRAWL_1, spans[(CRAWL_1, news.url)], url="https://example.org/misplaced"))
    rows_2.append(index_row(CRAWL_2_PAGES[1], "crawl-data/CC-MAIN-2024-10/missing.warc.gz", (0, 100)))
    rows_2[-1]["url"] = "https://example.org/nofile"
    index = []
    for name, rows in (("index-1.parquet", rows_1), ("index-2.parquet", rows_2)):
        path = tmp_path / "index" / name
        path.parent.mkdir(exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path)
        index.append(str(path))
    return Crawl(root, index, spans)


def options(**changes) -> CcIndexOptions:
    values = {"seeds": SEEDS, "rows_per_unit": 4, "retries": 3, "backoff_seconds": 0.001, "timeout_seconds": 10}
    return CcIndexOptions(**{**values, **changes})


def read_units(units: list[tuple], opts: CcIndexOptions) -> dict[str, dict | RecordError]:
    """url → page or error, for every row of every unit; asserts rows are unique per index file."""
    out, seen = {}, set()
    for unit in units:
        for row, where, record in cc_index.iter_unit(unit, [], opts):
            assert (unit[1], row) not in seen
            seen.add((unit[1], row))
            url = where.split("(", 1)[1].rstrip(")")
            assert where == f"index row {row} ({url})"
            out[url] = record
    return out


# -- seeds -----------------------------------------------------------------------------------


def test_domain_seeds_match_the_host_and_its_subdomains_and_prefix_seeds_one_host_and_path():
    matcher = SeedMatcher([parse_seed(s) for s in ["bbc.com", "https://www.bbc.com/swahili/", "WWW.Example.ORG"]])
    seed = {
        url: (m.text if (m := matcher.match(url)) else None)
        for url in [
            "https://www.bbc.com/news/1",
            "http://bbc.com/",
            "https://news.bbc.com/x",
            "https://notbbc.com/",
            "https://bbc.com.evil.net/",
            "http://bbc.com/swahili/habari",  # scheme and www. do not matter: the prefix, the more specific
            "https://www.bbc.com/Swahili/habari",  # paths are case-sensitive: only the domain seed
            "https://EXAMPLE.org./a",
            "https://sub.example.org/a",
        ]
    }
    assert seed == {
        "https://www.bbc.com/news/1": "bbc.com",
        "http://bbc.com/": "bbc.com",
        "https://news.bbc.com/x": "bbc.com",
        "https://notbbc.com/": None,
        "https://bbc.com.evil.net/": None,
        "http://bbc.com/swahili/habari": "https://www.bbc.com/swahili/",
        "https://www.bbc.com/Swahili/habari": "bbc.com",
        "https://EXAMPLE.org./a": "WWW.Example.ORG",
        "https://sub.example.org/a": "WWW.Example.ORG",
    }
    only_prefix = SeedMatcher([parse_seed("bbc.com/swahili"), parse_seed("https://sw.example.org")])
    assert only_prefix.match("https://news.bbc.com/swahili/1") is None  # a prefix seed names one host
    assert only_prefix.match("https://bbc.com/swahili-news").text == "bbc.com/swahili"
    assert only_prefix.match("https://sw.example.org/any/page?q=1").text == "https://sw.example.org"
    assert only_prefix.match("https://example.org/") is None
    # With the index's url_host_name the URL is parsed only for a host that has prefix seeds.
    assert matcher.match("http://bbc.com/swahili/habari", "WWW.BBC.com").text == "https://www.bbc.com/swahili/"
    assert matcher.match("not a url at all", "news.bbc.com").text == "bbc.com"
    assert SeedMatcher([parse_seed("bücher.de")]).match("https://www.xn--bcher-kva.de/") is not None


def test_seed_files_and_bad_seeds_are_named(tmp_path: Path):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("# news sites\nbbc.com\n\nhttps://www.rfi.fr/sw/  # Swahili service\n")
    loaded = cc_index.load_seeds(CcIndexOptions(seeds=["example.org"], seed_files=[str(seeds)]))
    assert [(s.host, s.prefix) for s in loaded] == [("example.org", None), ("bbc.com", None), ("rfi.fr", "/sw/")]
    seeds.write_text("bbc.com\nhttps:///nohost\n")
    with pytest.raises(InputError, match=r"seeds\.txt: line 2: seed 'https:///nohost' names no host"):
        cc_index.load_seeds(CcIndexOptions(seed_files=[str(seeds)]))
    with pytest.raises(ValueError, match="names no host"):
        CcIndexOptions(seeds=["http://"])
    with pytest.raises(InputError, match="no seeds"):
        plan_index([str(seeds)], CcIndexOptions())


# -- planning --------------------------------------------------------------------------------


def test_seeds_select_rows_and_the_latest_fetch_of_each_url(crawl: Crawl):
    plan = plan_index(crawl.index, options())
    selected = [(unit[1], row[0], row[2], row[1]) for unit in plan.units for row in unit[2]]
    index_1, index_2 = crawl.index
    assert selected == [
        (index_1, 0, "https://www.bbc.com/swahili/habari-1", "https://www.bbc.com/swahili/"),
        (index_2, 0, "http://news.example.org/story", "www.example.org"),  # crawl 2's fetch: the latest
        (index_2, 1, "https://example.org/flaky", "www.example.org"),
        (index_2, 2, "https://example.org/cut", "www.example.org"),
        (index_2, 3, "https://example.org/short", "www.example.org"),
        (index_2, 4, "https://example.org/lost", "www.example.org"),
        (index_2, 5, "https://example.org/whole", "www.example.org"),
        (index_2, 6, "https://example.org/misplaced", "www.example.org"),
        (index_2, 7, "https://example.org/nofile", "www.example.org"),
    ]
    assert [len(unit[2]) for unit in plan.units] == [1, 4, 4]  # rows_per_unit, never across index files
    assert plan.summary["dropped"] == {"status": 1, "mime": 1, "older_fetch": 1}
    assert plan.summary["rows_per_seed"] == {"https://www.bbc.com/swahili/": 1, "www.example.org": 8}
    assert plan.summary["index_rows"] == 16
    assert plan_index(crawl.index, options()).units == plan.units  # deterministic

    every = plan_index(crawl.index, options(latest_per_url=False, statuses=None, mimes=None))
    urls = [row[2] for unit in every.units for row in unit[2]]
    assert urls.count("http://news.example.org/story") == 2
    assert {"https://example.org/gone", "https://example.org/report.pdf"} <= set(urls)
    assert every.summary["seeds_without_rows"] == []
    assert plan_index(crawl.index, options(seeds=["nowhere.org"])).summary["seeds_without_rows"] == ["nowhere.org"]


def test_an_index_file_without_a_needed_column_is_an_error_naming_file_and_column(tmp_path: Path, crawl: Crawl):
    table = pq.read_table(crawl.index[0]).drop_columns(["warc_record_offset", "content_mime_detected"])
    bad = tmp_path / "no-offset.parquet"
    pq.write_table(table, bad)
    with pytest.raises(InputError, match=r"no-offset\.parquet: warc_record_offset: the index file has no such column"):
        plan_index([str(bad)], options())
    pq.write_table(
        table.drop_columns(["content_mime_type"]).append_column("warc_record_offset", pa.array([0] * 8)), bad
    )
    with pytest.raises(InputError, match=r"no-offset\.parquet: content_mime_detected or content_mime_type"):
        plan_index([str(bad)], options())
    assert plan_index([str(bad)], options(mimes=None)).units  # no MIME filter: no MIME column needed
    not_parquet = tmp_path / "index.parquet"
    not_parquet.write_bytes(b"url,warc_filename\n")
    with pytest.raises(InputError, match=r"index\.parquet: connector\.paths: not a readable Parquet file"):
        plan_index([str(not_parquet)], options())


# -- fetching --------------------------------------------------------------------------------


def test_rows_become_pages_or_counted_errors_through_retried_range_requests(crawl: Crawl):
    with RangeServer(crawl.root) as server:
        opts = options(warc_prefix=server.url)
        flaky = crawl.range_of(CRAWL_2, "https://example.org/flaky")
        server.fail(CRAWL_2, flaky, mode="503", times=2)
        server.fail(CRAWL_2, crawl.range_of(CRAWL_2, "https://example.org/cut"), mode="cut", times=1)
        server.fail(CRAWL_2, crawl.range_of(CRAWL_2, "https://example.org/short"), mode="short", times=1)
        lost = crawl.range_of(CRAWL_2, "https://example.org/lost")
        server.fail(CRAWL_2, lost, mode="503")
        server.fail(CRAWL_2, crawl.range_of(CRAWL_2, "https://example.org/whole"), mode="ignore_range")
        results = read_units(plan_index(crawl.index, opts).units, opts)

    pages = {url: r for url, r in results.items() if isinstance(r, dict)}
    errors = {url: (r.code, r.expected) for url, r in results.items() if isinstance(r, RecordError)}
    assert sorted(pages) == [
        "http://news.example.org/story",
        "https://example.org/cut",
        "https://example.org/flaky",
        "https://example.org/short",
        "https://www.bbc.com/swahili/habari-1",
    ]
    assert errors == {
        "https://example.org/lost": ("fetch_failed", False),
        "https://example.org/whole": ("fetch_failed", False),
        "https://example.org/misplaced": ("index_mismatch", False),
        "https://example.org/nofile": ("fetch_failed", False),
    }
    story = pages["http://news.example.org/story"]
    assert CRAWL_2_PAGES[0].sentence in story["text"]  # crawl 2's copy, not crawl 1's
    offset, length = crawl.spans[(CRAWL_2, "http://news.example.org/story")]
    assert {k: story["_origin"][k] for k in ("kind", "warc_file", "warc_offset", "warc_length", "seed")} == {
        "kind": "cc_index",
        "warc_file": CRAWL_2,  # the index's name, which resolves against any mirror
        "warc_offset": offset,
        "warc_length": length,
        "seed": "www.example.org",
    }
    assert story["fetch_time"] == dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
    assert pages["https://www.bbc.com/swahili/habari-1"]["_origin"]["seed"] == "https://www.bbc.com/swahili/"

    # Only ranges were asked for, never a whole file, and each failure was retried as planned.
    assert all(r.method == "GET" and r.range_header is not None for r in server.requests)
    assert [r.status for r in server.requests_for(CRAWL_2, flaky)] == [503, 503, 206]
    assert len(server.requests_for(CRAWL_2, crawl.range_of(CRAWL_2, "https://example.org/cut"))) == 2
    assert len(server.requests_for(CRAWL_2, crawl.range_of(CRAWL_2, "https://example.org/short"))) == 2
    assert [r.status for r in server.requests_for(CRAWL_2, lost)] == [503] * (opts.retries + 1)
    assert len(server.requests_for(CRAWL_2, crawl.range_of(CRAWL_2, "https://example.org/whole"))) == 1
    assert len(server.requests_for("crawl-data/CC-MAIN-2024-10/missing.warc.gz")) == 1  # 404: not retried
    assert len(server.requests) == 1 + 1 + 3 + 2 + 2 + 4 + 1 + 1 + 1

    reason = results["https://example.org/lost"].reason
    assert reason.startswith(f"{server.url}{CRAWL_2} bytes {lost[0]}-{lost[1]}: HTTP 503 Service Unavailable")
    assert reason.endswith("(4 attempts)")
    assert "Range ignored" in results["https://example.org/whole"].reason
    assert "not the response for https://example.org/misplaced" in results["https://example.org/misplaced"].reason
    assert "404" in results["https://example.org/nofile"].reason


def test_without_filters_non_html_and_error_pages_are_counted_from_a_local_mirror(crawl: Crawl):
    opts = options(warc_prefix=str(crawl.root), statuses=None, mimes=None, latest_per_url=False)
    units = [u for u in plan_index(crawl.index, opts).units if u[1] == crawl.index[0]]
    results = read_units(units, opts)
    codes = {url: (r.code, r.expected) if isinstance(r, RecordError) else "page" for url, r in results.items()}
    assert codes == {
        "https://www.bbc.com/swahili/habari-1": "page",
        "http://news.example.org/story": "page",
        "https://example.org/gone": ("http_404", True),
        "https://example.org/report.pdf": ("not_html", True),
    }
    assert CRAWL_1_PAGES[2].sentence in results["http://news.example.org/story"]["text"]

    with RangeServer(crawl.root) as server:
        small = options(warc_prefix=server.url, max_record_bytes=100)
        too_large = read_units(plan_index(crawl.index[:1], small).units, small).values()
    assert [(e.code, e.expected) for e in too_large] == [("too_large", True)] * 2
    assert server.requests == []  # the index's length said so: nothing was downloaded


def test_retries_back_off_exponentially_with_jitter_up_to_a_cap():
    fetcher = cc_index.RangeFetcher(options(backoff_seconds=1.0, backoff_max_seconds=5.0))
    for retry, full in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (10, 5.0)):
        delays = [fetcher.delay(retry) for _ in range(200)]
        assert all(full / 2 <= d < full for d in delays)
        assert max(delays) - min(delays) > full / 10  # jittered, not one fixed delay


def test_index_values_that_locate_no_record_are_counted(tmp_path: Path, crawl: Crawl):
    table = pq.read_table(crawl.index[1]).slice(0, 3)
    offsets = table["warc_record_offset"].to_pylist()
    lengths = table["warc_record_length"].to_pylist()
    table = table.set_column(9, "warc_record_offset", pa.array([None, offsets[1] + 1, offsets[2]], pa.int32()))
    table = table.set_column(10, "warc_record_length", pa.array(lengths[:2] + [lengths[2] * 2], pa.int32()))
    path = tmp_path / "damaged-index.parquet"
    pq.write_table(table, path)
    opts = options(warc_prefix=str(crawl.root))
    results = read_units(plan_index([str(path)], opts).units, opts)
    assert {url: r.code for url, r in results.items()} == {
        "http://news.example.org/story": "bad_index_row",
        "https://example.org/flaky": "index_mismatch",  # starts one byte into the gzip member
        "https://example.org/cut": "index_mismatch",  # spans two records
    }
    assert "warc_record_offset None" in results["http://news.example.org/story"].reason


# -- through the reader the pipeline uses ----------------------------------------------------


def read_entry(crawl: Crawl, prefix: str, on_error: str) -> tuple[list[dict], list[Skipped]]:
    opts = {"seeds": SEEDS, "warc_prefix": prefix, "retries": 1, "backoff_seconds": 0.001, "parallel_fetches": 2}
    spec = {"kind": "cc_index", "paths": crawl.index, "on_error": on_error, "options": opts}
    source = SourceEntry.model_validate(entry("pc", spec))
    reader = UnitReader(source, crawl.index, None)
    docs, skipped = [], []
    for unit in cc_index.plan_units(crawl.index, connectors.options_for(source.connector), "CC0-1.0"):
        for item in reader.read(unit):
            (skipped if isinstance(item, Skipped) else docs).append(item)
    return docs, skipped


def test_the_unit_reader_turns_every_selected_row_into_a_document_or_a_counted_skip(crawl: Crawl):
    with RangeServer(crawl.root) as server:
        lost = crawl.range_of(CRAWL_2, "https://example.org/lost")
        server.fail(CRAWL_2, lost, mode="503")
        docs, skipped = read_entry(crawl, server.url, "skip")
        assert len(server.requests_for(CRAWL_2, lost)) == 2  # retries: 1
    assert (len(docs), len(skipped)) == (6, 3)  # every one of the 9 selected rows
    story = next(d for d in docs if d["url"] == "http://news.example.org/story")
    assert story["input_file"] == crawl.index[1] and story["input_row"] == 0
    assert story["origin"]["kind"] == "cc_index" and story["origin"]["seed"] == "www.example.org"
    assert story["source_doc_id"] and story["source_doc_id"].startswith("<urn:uuid:")
    assert sorted((s["reason"], s["where"]) for s in skipped) == [
        ("fetch_failed", "index row 4 (https://example.org/lost)"),
        ("fetch_failed", "index row 7 (https://example.org/nofile)"),
        ("index_mismatch", "index row 6 (https://example.org/misplaced)"),
    ]


def test_under_on_error_fail_a_lost_row_stops_the_run_naming_url_and_range(crawl: Crawl):
    with RangeServer(crawl.root) as server:
        lost = crawl.range_of(CRAWL_2, "https://example.org/lost")
        server.fail(CRAWL_2, lost, mode="503")
        with pytest.raises(InputError) as err:
            read_entry(crawl, server.url, "fail")
    message = str(err.value)
    assert (
        f"{crawl.index[1]}: index row 4 (https://example.org/lost): {server.url}{CRAWL_2} bytes {lost[0]}-{lost[1]}"
        in message
    )
    assert "(2 attempts)" in message


def test_a_pseudo_crawl_runs_end_to_end_through_the_loopback_server(crawl: Crawl, tmp_path: Path):
    """The catalogue entry as a user writes it (seeds in a file next to it), through `rootstock
    run` in this process so the run reaches the test's server: documents with the index's byte
    range in `origin`, a flaky range retried, a lost one counted, the release verified."""
    from rootstock.pipeline.config import load_config
    from rootstock.pipeline.jobs.curate import run
    from rootstock.pipeline.release.verify import verify
    from tests.conftest import write_catalog, write_config

    with RangeServer(crawl.root) as server:
        server.fail(CRAWL_2, mode="503", times=2, byte_range=crawl.range_of(CRAWL_2, "https://example.org/flaky"))
        server.fail(CRAWL_2, mode="503", times=None, byte_range=crawl.range_of(CRAWL_2, "https://example.org/lost"))
        catalog = tmp_path / "catalog"
        (catalog / "sources").mkdir(parents=True)
        (catalog / "sources" / "seeds.txt").write_text("\n".join(SEEDS) + "\n")
        opts = {"seed_files": ["seeds.txt"], "warc_prefix": server.url, "retries": 2, "backoff_seconds": 0.001}
        write_catalog(
            catalog,
            entry(
                "pseudo", {"kind": "cc_index", "paths": crawl.index, "on_error": "skip", "options": opts}, languages=[]
            ),
        )
        manifest = run(load_config(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out")))
        assert len(server.requests_for(CRAWL_2, crawl.range_of(CRAWL_2, "https://example.org/lost"))) == 3
    rows = [r for s in manifest["shards"] for r in pq.read_table(tmp_path / "out" / s["path"]).to_pylist()]
    urls = {r["url"] for r in rows}
    assert "https://example.org/flaky" in urls and "https://example.org/lost" not in urls
    for row in rows:
        origin = row["origin"]
        assert origin["kind"] == "cc_index" and origin["seed"] in SEEDS
        assert (origin["warc_offset"], origin["warc_length"]) == crawl.spans[(origin["warc_file"], row["url"])]
    failed = {e["where"]: e["message"] for e in manifest["input_errors"] if e["reason"] == "fetch_failed"}
    (lost,) = [m for where, m in failed.items() if "https://example.org/lost" in where]
    assert "3 attempts" in lost and manifest["totals"]["dropped_by_reason"]["input:fetch_failed"] == len(failed)
    assert verify(str(tmp_path / "out"))[1] == []
