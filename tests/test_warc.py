"""WARC, ARC and WET connectors: pages with provenance that fetches them again, every response
record a document or a counted reason, damaged records named by offset (issue #15)."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastwarc.warc import WarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from rootstock.errors import InputError
from rootstock.sources.warc_records import RawRecord, iter_records
from tests.conftest import entry, run_cli, write_catalog, write_config
from tests.readers import read_source

ARTICLE = (
    "Kylän kirjasto on avoinna tiistaisin ja torstaisin, ja lukupiiri kokoontuu joka kuun ensimmäisenä "
    "maanantaina keskustelemaan uusista kirjoista. Syksyllä kirjasto järjestää myös satutunteja lapsille."
)


def html_page(title: str, article: str, lang: str = "fi") -> bytes:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head><body>'
        '<nav><a href="/">Etusivu</a> | <a href="/uutiset">Uutiset</a> | <a href="/yhteys">Yhteystiedot</a></nav>'
        '<div class="cookie">Käytämme evästeitä. Hyväksy evästeet jatkaaksesi.</div>'
        f"<article><h1>{title}</h1><p>{article}</p><p>{article}</p></article>"
        "<footer>© 2026 Esimerkkilehti. Kaikki oikeudet pidätetään.</footer></body></html>"
    ).encode()


def response(
    writer: WARCWriter, url: str, body: bytes, status: str = "200 OK", content_type: str = "text/html; charset=utf-8"
):
    http = StatusAndHeaders(status, [("Content-Type", content_type), ("Content-Language", "fi")], protocol="HTTP/1.1")
    record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http)
    writer.write_record(record)


def crawl(gz: bool = True) -> tuple[bytes, list[str]]:
    """A small crawl: 3 articles, a 404, a redirect, a PDF, JSON, a page without main text, and
    the request/metadata records crawlers write beside responses."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gz)
    urls = []
    for i in range(3):
        url = f"https://uutiset.example.fi/artikkeli/{i}"
        request = writer.create_warc_record(url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"))
        writer.write_record(request)
        response(writer, url, html_page(f"Otsikko {i}", f"{ARTICLE} Numero {i}."))
        urls.append(url)
    response(
        writer, "https://uutiset.example.fi/puuttuu", b"<html><body>Not found</body></html>", status="404 Not Found"
    )
    response(writer, "https://uutiset.example.fi/vanha", b"", status="301 Moved Permanently")
    response(writer, "https://uutiset.example.fi/liite.pdf", b"%PDF-1.4 binary", content_type="application/pdf")
    response(writer, "https://uutiset.example.fi/api", b'{"a": 1}', content_type="application/json")
    response(writer, "https://uutiset.example.fi/tyhja", b"<html><head><title>x</title></head><body></body></html>")
    return out.getvalue(), urls


def read(path: Path, kind: str = "warc", on_error: str = "skip", **options) -> tuple[list[dict], list[dict]]:
    return read_source(path, kind, on_error, options=options, languages=[])


@pytest.mark.parametrize("gz", [True, False])
def test_every_response_is_a_page_or_a_counted_reason(tmp_path: Path, gz: bool):
    data, urls = crawl(gz)
    path = tmp_path / ("crawl.warc.gz" if gz else "crawl.warc")
    path.write_bytes(data)
    docs, skipped = read(path)
    assert [d["url"] for d in docs] == urls
    assert sorted(s["reason"] for s in skipped) == ["http_301", "http_404", "no_text", "not_html", "not_html"]
    assert all(s["expected"] for s in skipped)  # skipped on purpose: under on_error: fail too
    assert read(path, on_error="fail")[0] == docs
    doc = docs[1]
    assert "Numero 1" in doc["text"] and "evästeitä" not in doc["text"] and "oikeudet" not in doc["text"]
    origin = doc["origin"]
    assert origin["kind"] == "warc" and origin["http_status"] == 200 and origin["content_type"] == "text/html"
    assert (origin["html_lang"], origin["content_language"], origin["charset"]) == ("fi", "fi", "utf-8")
    assert origin["extractor"] and origin["warc_record_id"] == doc["source_doc_id"]
    assert json.loads(doc["meta"]) == {"title": "Otsikko 1"} and doc["retrieved_at"] is not None
    # The byte range in origin is the record as stored: fetch it again and compare.
    stored = path.read_bytes()[origin["warc_offset"] : origin["warc_offset"] + origin["warc_length"]]
    again = WarcRecord.from_bytes(gzip.decompress(stored) if gz else stored)
    assert again.headers["WARC-Target-URI"] == doc["url"] and again.headers["WARC-Record-ID"] == doc["source_doc_id"]


def test_a_whole_file_gzip_warc_reads_with_stream_offsets(tmp_path: Path):
    data, urls = crawl(gz=False)
    path = tmp_path / "whole.warc.gz"
    path.write_bytes(gzip.compress(data))
    docs, _ = read(path)
    assert [d["url"] for d in docs] == urls
    assert all(d["origin"]["warc_length"] is None for d in docs)  # not one member per record: no byte range


def _plain_records(data: bytes) -> list[RawRecord]:
    return [r for r in iter_records(io.BufferedReader(io.BytesIO(data)), max_block=1 << 20) if isinstance(r, RawRecord)]


def test_damaged_records_are_named_by_offset_and_the_rest_is_read(tmp_path: Path):
    data, urls = crawl(gz=False)
    records = _plain_records(data)
    second = next(r for r in records if r.headers.get("warc-target-uri") == urls[1] and r.type == "response")
    # The record of urls[1] claims a longer block than it has: it is one bad record, and the
    # records its claimed length swallowed are still read.
    header = second.header.replace(
        f"Content-Length: {second.declared}".encode(), f"Content-Length: {second.declared + 5000}".encode()
    )
    lying = data[: second.position] + header + data[second.position + len(second.header) :]
    path = tmp_path / "lying.warc"
    path.write_bytes(lying)
    docs, skipped = read(path)
    assert [d["url"] for d in docs] == [urls[0], urls[2]]
    (bad,) = [s for s in skipped if not s["expected"]]
    assert (bad["reason"], bad["where"]) == ("length_mismatch", f"offset {second.position}")
    with pytest.raises(InputError, match=rf"lying\.warc: offset {second.position}: Content-Length"):
        read(path, on_error="fail")

    garbage = data[: second.position] + b"this is not a warc record\r\n" + data[second.position :]
    (tmp_path / "garbage.warc").write_bytes(garbage)
    docs, skipped = read(tmp_path / "garbage.warc")
    assert [d["url"] for d in docs] == urls and [s["reason"] for s in skipped if not s["expected"]] == ["bad_record"]


@pytest.mark.parametrize("gz", [True, False])
def test_a_warc_cut_in_a_record_keeps_what_came_before(tmp_path: Path, gz: bool):
    data, urls = crawl(gz)
    path = tmp_path / ("cut.warc.gz" if gz else "cut.warc")
    records = _plain_records(gzip.decompress(data) if gz else data)
    third = next(r for r in records if r.headers.get("warc-target-uri") == urls[2] and r.type == "response")
    if gz:
        docs_all, _ = read(_write(tmp_path / "all.warc.gz", data))
        cut_at = docs_all[2]["origin"]["warc_offset"] + 50
    else:
        cut_at = third.position + len(third.header) + 20
    path.write_bytes(data[:cut_at])
    docs, skipped = read(path)
    assert [d["url"] for d in docs] == urls[:2]
    assert [s["reason"] for s in skipped] == ["truncated_file"] and skipped[0]["records"] is None


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_50_mb_page_is_counted_not_held(tmp_path: Path):
    """Over `max_record_bytes` (10 MiB by default) a record's block is skipped while framing,
    never read into memory; the page is counted `too_large` and the next record is read."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    response(writer, "https://big.example.fi/", html_page("Iso", ARTICLE * 125_000))  # 2 × 25 MB of article
    response(writer, "https://small.example.fi/", html_page("Pieni", ARTICLE))
    path = _write(tmp_path / "big.warc.gz", out.getvalue())
    docs, skipped = read(path)
    assert [d["url"] for d in docs] == ["https://small.example.fi/"]
    assert [(s["reason"], s["expected"]) for s in skipped] == [("too_large", True)]
    assert "max_record_bytes is 10485760" in skipped[0]["message"]


def test_invalid_bytes_in_a_page_are_replaced_not_fatal(tmp_path: Path):
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    body = html_page("Rikki", ARTICLE).replace("ä".encode(), b"\xe4", 3)  # Latin-1 bytes inside a UTF-8 page
    response(writer, "https://rikki.example.fi/", body)
    docs, skipped = read(_write(tmp_path / "bad.warc.gz", out.getvalue()))
    assert len(docs) == 1 and skipped == [] and "kirjasto" in docs[0]["text"]


def test_arc_files_are_read_through_warcio(tmp_path: Path):
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + html_page("ARC", ARTICLE)
    desc = b"1 0 rootstock\nURL IP-address Archive-date Content-type Archive-length\n"
    header = b"filedesc://test.arc 0.0.0.0 20260101000000 text/plain %d\n" % len(desc)
    record = b"http://vanha.example.fi/sivu 192.0.2.1 20260102030405 text/html %d\n" % len(http)
    path = _write(tmp_path / "old.arc", header + desc + b"\n" + record + http + b"\n")
    docs, skipped = read(path)
    assert [d["url"] for d in docs] == ["http://vanha.example.fi/sivu"] and skipped == []
    assert "kirjasto" in docs[0]["text"] and docs[0]["origin"]["kind"] == "warc"


def test_wet_conversion_records_are_documents(tmp_path: Path):
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    for i, text in enumerate([ARTICLE, "Habari za asubuhi kutoka Nairobi."]):
        record = writer.create_warc_record(
            f"https://example.org/{i}",
            "conversion",
            payload=io.BytesIO(text.encode()),
            warc_content_type="text/plain",
            warc_headers_dict={
                "WARC-Identified-Content-Language": ["fin", "swa"][i],
                "WARC-Refers-To": f"<urn:uuid:{i}>",
            },
        )
        writer.write_record(record)
    writer.write_record(
        writer.create_warc_record("https://example.org/bad", "conversion", payload=io.BytesIO(b"\xff\xfe bad"))
    )
    docs, skipped = read(_write(tmp_path / "crawl.warc.wet.gz", out.getvalue()), kind="wet")
    assert [d["text"] for d in docs] == [ARTICLE, "Habari za asubuhi kutoka Nairobi."]
    assert json.loads(docs[1]["meta"]) == {"identified_languages": "swa", "refers_to": "<urn:uuid:1>"}
    assert docs[0]["origin"]["kind"] == "wet" and docs[0]["origin"]["warc_length"] > 0
    assert [s["reason"] for s in skipped] == ["invalid_utf8"]


def test_a_crawl_runs_end_to_end_with_a_url_blocklist(tmp_path: Path):
    data, urls = crawl(gz=True)
    (tmp_path / "data").mkdir()
    _write(tmp_path / "data" / "crawl.warc.gz", data)
    (tmp_path / "blocked.txt").write_text("# a user's copy of a domain list\nexample.com\n")
    connector = {
        "kind": "warc",
        "paths": [str(tmp_path / "data" / "*.warc.gz")],
        "url_filter": {"block_domain_files": [str(tmp_path / "blocked.txt")], "block_url_patterns": ["/artikkeli/2$"]},
    }
    catalog = write_catalog(tmp_path / "catalog", entry("crawl", connector, languages=["fi"]))
    out = tmp_path / "out"
    run_cli("run", str(write_config(tmp_path / "run.yaml", catalog, out)))
    manifest = json.loads((out / "manifest.json").read_text())
    (cell,) = manifest["by_source_lang"]
    assert cell["docs_out"] == 2 and cell["docs_in"] == 8
    reasons = {d["reason"]: d["docs"] for d in cell["dropped"]}
    assert reasons == {"url_blocked": 1, "http_404": 1, "http_301": 1, "not_html": 2, "no_text": 1}
    assert manifest["top_domains"] == {"fi": [{"domain": "example.fi", "docs": 2, "bytes": cell["bytes_out"]}]}
    assert manifest.get("input_errors") == []  # skipped on purpose: counted, not listed as errors
    assert "example.fi (2)" in (out / "README.md").read_text()


def test_a_pages_own_language_confirms_a_low_scoring_detection_only_when_asked(tmp_path: Path):
    """lid.176 is often right on Swahili but rarely confident: below the routing minimum such a
    page goes to `und`, unless `page_language: confirm` lets the page's `<html lang>` decide
    when the model's top label agrees. A claim the model does not share changes nothing."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "catalog" / "sample"))
    from sample_texts import topic_sentences

    swahili = topic_sentences("sw")
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    pages = [("sw", swahili[0]), ("sw", swahili[8]), ("en", swahili[0] + " " + swahili[8])]
    for i, (claim, text) in enumerate(pages):
        response(writer, f"https://habari.example.co.tz/{i}", html_page(f"Habari {i}", text, lang=claim))
    (tmp_path / "data").mkdir()
    _write(tmp_path / "data" / "sw.warc.gz", out.getvalue())
    catalog = write_catalog(
        tmp_path / "catalog",
        entry("habari", {"kind": "warc", "paths": [str(tmp_path / "data" / "*.warc.gz")]}, languages=[]),
    )
    results = {}
    for mode in ("ignore", "confirm"):
        stages = {"langid": {"enabled": True, "ensemble": None, "page_language": mode}}
        run_cli("run", str(write_config(tmp_path / f"{mode}.yaml", catalog, tmp_path / mode, stages=stages)))
        rows = [r for p in sorted((tmp_path / mode).glob("data/**/*.parquet")) for r in pq.read_table(p).to_pylist()]
        results[mode] = {r["url"].rsplit("/", 1)[1]: (r["lang"], r["lang_check"], r["lang_score"]) for r in rows}
    assert all(lang == "und" and check == "below_min" for lang, check, _ in results["ignore"].values())
    assert results["confirm"]["0"][:2] == ("sw", "page_confirmed") and results["confirm"]["1"][:2] == (
        "sw",
        "page_confirmed",
    )
    assert results["confirm"]["2"][:2] == ("und", "below_min")  # the page says English; the model says Swahili
    card = (tmp_path / "confirm" / "README.md").read_text()
    assert "2 documents the model scored below its routing minimum went to the page's declared language" in card


def test_a_remote_warc_wet_pair_runs_end_to_end_and_removal_by_url_applies(tmp_path: Path):
    """A WARC read over HTTP (the loopback server) and a WET file, through `rootstock run`; then
    `rootstock remove --urls` takes a crawled page out, as it does for any source."""
    from rootstock.pipeline.config import load_config
    from rootstock.pipeline.jobs.curate import run
    from tests.http_range_server import RangeServer

    served = tmp_path / "served"
    served.mkdir()
    data, urls = crawl(gz=True)
    _write(served / "crawl.warc.gz", data)
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    writer.write_record(
        writer.create_warc_record(
            "https://example.org/wet",
            "conversion",
            payload=io.BytesIO(ARTICLE.encode()),
            warc_content_type="text/plain",
        )
    )
    (tmp_path / "wet").mkdir()
    _write(tmp_path / "wet" / "crawl.warc.wet.gz", out.getvalue())
    with RangeServer(served) as server:
        catalog = write_catalog(
            tmp_path / "catalog",
            entry("remote", {"kind": "warc", "paths": [server.url + "crawl.warc.gz"]}, languages=["fi"]),
            entry("text", {"kind": "wet", "paths": [str(tmp_path / "wet" / "*.wet.gz")]}, languages=["fi"]),
        )
        manifest = run(load_config(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out")))
        assert server.requests and all(r.status in (200, 206) for r in server.requests)
    cells = {c["source"]: c for c in manifest["by_source_lang"]}
    assert cells["remote"]["docs_out"] == len(urls) and cells["text"]["docs_out"] == 1
    (tmp_path / "urls.txt").write_text(urls[1] + "\n")
    run_cli(
        "remove",
        str(tmp_path / "out"),
        "--urls",
        str(tmp_path / "urls.txt"),
        "--reason",
        "publisher request",
        "--output",
        str(tmp_path / "removed"),
    )
    removed = json.loads((tmp_path / "removed" / "manifest.json").read_text())
    kept = [r["url"] for s in removed["shards"] for r in pq.read_table(tmp_path / "removed" / s["path"]).to_pylist()]
    assert urls[1] not in kept and urls[0] in kept and len(kept) == len(urls)
