"""Write the demo's web crawl: catalog/data/web_crawl/crawl-00000.warc.gz.

    python catalog/sample/build_web_sample.py

Pages from web_pages.py (a known article inside menus, cookie banners, sidebars, comments and
footers, in the charsets those sites use, sometimes with a lying HTTP charset) in fourteen ROOTS
languages and Finnish, Arabic (right to left) and Chinese (Han, simplified and traditional)
among them; then what a real crawl also holds: a PDF, a 404, a redirect, a page with no
article, a duplicate fetch of one page, and one broken record (a header line without a colon).
Every record is its own gzip member, as crawlers write them. Byte-identical on every run: fixed
dates, record ids derived from the URL, gzip without timestamps.
"""

from __future__ import annotations

import gzip
import random
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from web_pages import make_page

OUT = Path(__file__).resolve().parent.parent / "data" / "web_crawl" / "crawl-00000.warc.gz"
LANGS = ("en", "fr", "es", "pt", "fi", "eu", "id", "sw", "vi", "yo", "ar", "hi", "zhs", "zht")
TEMPLATES = ("news", "blog", "forum")
SEED = 20261206


def record(url: str, warc_type: str, block: bytes, date: str, extra: str = "") -> bytes:
    record_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{warc_type} {url} {date}")
    content_type = "application/http; msgtype=response" if warc_type == "response" else "application/warc-fields"
    header = (
        f"WARC/1.1\r\nWARC-Type: {warc_type}\r\nWARC-Record-ID: <urn:uuid:{record_id}>\r\n"
        f"WARC-Date: {date}\r\nWARC-Target-URI: {url}\r\nContent-Type: {content_type}\r\n{extra}"
        f"Content-Length: {len(block)}\r\n\r\n"
    ).encode()
    return gzip.compress(header + block + b"\r\n\r\n", compresslevel=9, mtime=0)


def http(status: str, content_type: str, body: bytes, language: str | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    if language:
        lines.append(f"Content-Language: {language}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def build() -> bytes:
    members = []
    rng = random.Random(SEED)
    for i, lang in enumerate(LANGS):
        page = make_page(lang, random.Random(SEED + i), TEMPLATES[i % len(TEMPLATES)])
        charset = f"; charset={page.declared_charset}" if page.declared_charset else ""
        date = f"2026-11-{1 + i:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"
        block = http("200 OK", "text/html" + charset, page.html, page.html_lang if rng.random() < 0.5 else None)
        members.append(record(page.url, "response", block, date))
        if lang == "fi":  # the same page fetched again a week later: an exact duplicate for dedup
            members.append(record(page.url, "response", block, "2026-11-20T08:00:00Z"))
    site = "https://www.kirjasto-esimerkki.fi"
    members.append(
        record(
            f"{site}/opas.pdf",
            "response",
            http("200 OK", "application/pdf", b"%PDF-1.4\n%binary\n"),
            "2026-11-21T09:00:00Z",
        )
    )
    members.append(
        record(
            f"{site}/vanha-sivu",
            "response",
            http("404 Not Found", "text/html", b"<html><body>Sivua ei loydy</body></html>"),
            "2026-11-21T09:01:00Z",
        )
    )
    members.append(
        record(f"{site}/uutiset", "response", http("301 Moved Permanently", "text/html", b""), "2026-11-21T09:02:00Z")
    )
    empty = b"<!doctype html><html lang=fi><head><title>Kategoria</title></head><body><nav><a href=/>Etusivu</a></nav></body></html>"
    members.append(
        record(
            f"{site}/kategoria", "response", http("200 OK", "text/html; charset=utf-8", empty), "2026-11-21T09:03:00Z"
        )
    )
    broken = record(f"{site}/rikki", "response", http("200 OK", "text/html", b"<html>x</html>"), "2026-11-21T09:04:00Z")
    broken = gzip.compress(
        gzip.decompress(broken).replace(b"Content-Type: application/http", b"Content-Type application/http"), mtime=0
    )
    members.insert(len(members) // 2, broken)
    return b"".join(members)


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(build())
    print(f"{OUT}: {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
