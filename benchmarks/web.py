"""HTML → text: charset accuracy, extraction quality and speed per extractor, beside datatrove.

    .venv/bin/python benchmarks/web.py --pages 2000

Pages come from catalog/sample/web_pages.py: a known main text (the sample's sentence pools
in 18 languages) inside news, blog, forum and product templates with cookie banners, menus,
sidebars, comments, footers, inline scripts and styles, served in the charsets those sites
use, with HTTP and <meta> charsets that sometimes lie.

* Charset: the share of pages whose decoded text equals the page's real text, for
  rootstock's `decode_html` and for other rules (the WHATWG order, datatrove's WarcReader,
  resiliparse's and charset-normalizer's detectors), overall and by what the header says.
* Quality: bag-of-words precision, recall and F1 of the extracted text against the known
  main text, mean over pages (a page with no output scores 0). Words are runs of letters,
  marks and digits (`regex` [\\p{L}\\p{M}\\p{N}]+, lowercased); Chinese and Japanese have no
  spaces, so there every letter is a word. A line of output equal to the title is ignored
  (whether an extractor keeps the <h1> is a policy, not an error).
* Speed: pages/s and MB/s of HTML on one core, body bytes in, text out (decoding included for
  rootstock; datatrove's `Trafilatura.extract` gets the already-decoded string).
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import regex

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "catalog" / "sample"))

from web_pages import CJK, LANGS, Page, make_page, make_pages  # noqa: E402

from rootstock.filters.html import (  # noqa: E402
    ExtractorSettings,
    HtmlExtractor,
    decode_html,
    meta_charset,
    python_codec,
)

WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
LETTER = regex.compile(r"[\p{L}\p{N}]\p{M}*")

# name -> settings; the first two are the candidates for the default.
CONFIGS: dict[str, dict] = {
    "resiliparse (rootstock default)": {"name": "resiliparse"},
    "trafilatura": {"name": "trafilatura"},
    "trafilatura favor_precision": {"name": "trafilatura", "favor_precision": True},
    "trafilatura no_fallback": {"name": "trafilatura", "no_fallback": True},
    "trafilatura precision+no_fallback": {"name": "trafilatura", "favor_precision": True, "no_fallback": True},
    "resiliparse max_link_density=None": {"name": "resiliparse", "max_link_density": None},
    "resiliparse library defaults": {
        "name": "resiliparse",
        "list_bullets": True,
        "alt_texts": True,
        "post_meta": True,
        "include_comments": True,
        "max_link_density": None,
    },
    "resiliparse main_content=False": {"name": "resiliparse", "main_content": False},
}


def words(text: str, lang: str) -> Counter:
    if lang in CJK:
        return Counter(m.lower() for m in LETTER.findall(text))
    return Counter(w.lower() for w in WORD.findall(text))


def score(page: Page, text: str | None) -> tuple[float, float, float]:
    """(precision, recall, F1) of bag-of-words overlap; no output scores (0, 0, 0)."""
    if not text:
        return 0.0, 0.0, 0.0
    title = " ".join(page.title.split())
    text = "\n".join(line for line in text.split("\n") if " ".join(line.split()) != title)
    gold, got = words(page.main_text, page.lang), words(text, page.lang)
    overlap = sum((gold & got).values())
    if not overlap:
        return 0.0, 0.0, 0.0
    p, r = overlap / sum(got.values()), overlap / sum(gold.values())
    return p, r, 2 * p * r / (p + r)


# --- charset rules -------------------------------------------------------------------------------


def rule_whatwg(body: bytes, declared: str | None) -> str | None:
    """What a browser does: BOM, then the HTTP header, then <meta>, then a detector."""
    from resiliparse.parse.encoding import detect_encoding

    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if body.startswith(bom):
            return codec
    return python_codec(declared) or python_codec(meta_charset(body[:4096])) or python_codec(detect_encoding(body))


def rule_datatrove(body: bytes, declared: str | None) -> str | None:
    """datatrove's WarcReader: UTF-8 if it decodes, else cchardet; the page is dropped if that fails."""
    import cchardet

    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        guess = cchardet.detect(body)["encoding"]
        if not guess or guess.lower() in ("utf-8", "utf8"):
            return None
        try:
            body.decode(guess)
        except (UnicodeDecodeError, LookupError):
            return None
        return guess


def rule_resiliparse(body: bytes, declared: str | None) -> str | None:
    from resiliparse.parse.encoding import detect_encoding

    return python_codec(detect_encoding(body, from_html_meta=True))


def rule_charset_normalizer(body: bytes, declared: str | None) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(body).best()
    return best.encoding if best else None


def charset_table(pages: list[Page]) -> None:
    rules = {
        "rootstock decode_html": lambda body, declared: decode_html(body, declared)[1],
        "WHATWG order (header > meta > uchardet)": rule_whatwg,
        "datatrove WarcReader (UTF-8 > cchardet)": rule_datatrove,
        "resiliparse detect_encoding(from_html_meta)": rule_resiliparse,
        "charset-normalizer best()": rule_charset_normalizer,
    }

    def situation(page: Page) -> str:
        if page.declared_charset is None:
            return "no header"
        return "header right" if python_codec(page.declared_charset) == python_codec(page.charset) else "header lies"

    truths = [p.html.removeprefix(b"\xef\xbb\xbf").decode(p.charset, "replace") for p in pages]
    groups = Counter(situation(p) for p in pages)
    legacy = sum(p.charset != "utf-8" for p in pages)
    print(
        f"\nCharset: {len(pages)} pages, {legacy} not UTF-8; header right {groups['header right']}, "
        f"lies {groups['header lies']}, absent {groups['no header']}; <meta> lies or is absent on "
        f"{sum(python_codec(p.meta_charset) != python_codec(p.charset) for p in pages)}"
    )
    print(f"{'rule':45} {'all':>7} {'not UTF-8':>9} {'hdr right':>9} {'hdr lies':>9} {'no hdr':>7} {'ms/page':>8}")
    for name, rule in rules.items():
        ok: Counter = Counter()
        start = time.process_time()
        for page, truth in zip(pages, truths, strict=True):
            codec = rule(page.html, page.declared_charset)
            right = False
            if codec:
                body = (
                    page.html.removeprefix(b"\xef\xbb\xbf")
                    if codec.replace("_", "-") in ("utf-8", "utf8")
                    else page.html
                )
                right = body.decode(codec, "replace") == truth
            ok["all"] += right
            ok[situation(page)] += right
            ok["legacy"] += right and page.charset != "utf-8"
        ms = (time.process_time() - start) * 1000 / len(pages)
        print(
            f"{name:45} {ok['all'] / len(pages):7.3f} {ok['legacy'] / max(legacy, 1):9.3f} "
            f"{ok['header right'] / max(groups['header right'], 1):9.3f} {ok['header lies'] / max(groups['header lies'], 1):9.3f} "
            f"{ok['no header'] / max(groups['no header'], 1):7.3f} {ms:8.2f}"
        )
    wrong = Counter()
    for page, truth in zip(pages, truths, strict=True):
        text, codec = decode_html(page.html, page.declared_charset)
        if text != truth:
            wrong[(page.charset, page.declared_charset, page.meta_charset, codec)] += 1
    for (real, header, meta, used), n in wrong.most_common(8):
        print(f"  decode_html wrong x{n}: real {real}, header {header}, meta {meta} -> decoded as {used}")


# --- extraction quality and speed ----------------------------------------------------------------


def run_config(pages: list[Page], extract) -> tuple[list[tuple[float, float, float]], float, int]:
    """Scores, seconds of CPU on one core, pages without output."""
    texts = []
    start = time.process_time()
    for page in pages:
        texts.append(extract(page))
    seconds = time.process_time() - start
    return [score(p, t) for p, t in zip(pages, texts, strict=True)], seconds, sum(not t for t in texts)


def extraction_table(pages: list[Page], configs: list[str], datatrove: bool, per_lang: bool) -> None:
    mb = sum(len(p.html) for p in pages) / 1e6
    print(f"\nExtraction: {len(pages)} pages, {mb:.1f} MB of HTML (mean {mb * 1e3 / len(pages):.0f} kB), one core")
    print(f"{'extractor':40} {'P':>6} {'R':>6} {'F1':>6} {'F1 p10':>7} {'none':>5} {'pages/s':>8} {'MB/s':>6}")
    results = {}
    runs = []
    for name in configs:
        extractor = HtmlExtractor(ExtractorSettings(**CONFIGS[name]))

        def extract(page: Page, extractor=extractor) -> str | None:
            out = extractor.extract(page.html, url=page.url, declared_charset=page.declared_charset)
            return out.text if out else None

        runs.append((f"{name} [{extractor.version}]", extract))
    if datatrove:
        from datatrove.pipeline.extractors import Trafilatura

        dt = Trafilatura()  # datatrove's defaults: favour_precision, deduplicate, no comments
        decoded = {id(p): decode_html(p.html, p.declared_charset)[0] for p in pages}
        runs.append(("datatrove Trafilatura (its defaults)", lambda page: dt.extract(decoded[id(page)])))
    for name, extract in runs:
        extract(pages[0])  # imports and warm-up outside the clock
        scores, seconds, none = run_config(pages, extract)
        results[name] = scores
        p, r, f = (statistics.fmean(s[i] for s in scores) for i in range(3))
        p10 = sorted(s[2] for s in scores)[len(scores) // 10]
        print(
            f"{name:40} {p:6.3f} {r:6.3f} {f:6.3f} {p10:7.3f} {none:5d} {len(pages) / seconds:8.1f} {mb / seconds:6.2f}"
        )
    if per_lang:
        names = list(results)
        print("\nF1 by language: " + " | ".join(f"{i}: {n}" for i, n in enumerate(names)))
        print(f"{'lang':6}" + "".join(f"{i:>7}" for i in range(len(names))))
        for lang in LANGS:
            idx = [i for i, p in enumerate(pages) if p.lang == lang]
            print(f"{lang:6}" + "".join(f"{statistics.fmean(results[n][i][2] for i in idx):7.3f}" for n in names))
        for group in ("template", "style"):
            print(f"\nF1 by {group}")
            for value in sorted({getattr(p, group) for p in pages}):
                idx = [i for i, p in enumerate(pages) if getattr(p, group) == value]
                print(f"{value:10}" + "".join(f"{statistics.fmean(results[n][i][2] for i in idx):7.3f}" for n in names))


def empty_pages_table(count: int, configs: list[str]) -> None:
    """Pages with no main text (category pages that list nothing): each extractor should give None."""
    import random

    pages = [make_page(LANGS[i % len(LANGS)], random.Random(i), "boilerplate") for i in range(count)]
    print(f"\nBoilerplate-only pages ({count}, every style): share with no output, mean words output, by style")
    styles = sorted({p.style for p in pages})
    print(f"{'extractor':40} {'none':>6} {'words':>6} " + " ".join(f"{s:>8}" for s in styles))
    for name in configs:
        extractor = HtmlExtractor(ExtractorSettings(**CONFIGS[name]))
        outs = [extractor.extract(p.html, declared_charset=p.declared_charset) for p in pages]
        mean_words = statistics.fmean(
            sum(words(o.text, p.lang).values()) if o else 0 for o, p in zip(outs, pages, strict=True)
        )
        by_style = [
            statistics.fmean(o is None for o, p in zip(outs, pages, strict=True) if p.style == style)
            for style in styles
        ]
        print(
            f"{name:40} {statistics.fmean(o is None for o in outs):6.2f} {mean_words:6.1f} "
            + " ".join(f"{v:8.2f}" for v in by_style)
        )


def write_warc(pages: list[Page], path: Path) -> None:
    """The pages as HTTP 200 response records, one gzip member each, as crawlers write them."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for page in pages:
            content_type = "text/html" + (f"; charset={page.declared_charset}" if page.declared_charset else "")
            http = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
            record = writer.create_warc_record(page.url, "response", payload=io.BytesIO(page.html), http_headers=http)
            writer.write_record(record)


def _rootstock_warc(path: Path) -> dict[str, str]:
    from rootstock.sources import warc

    texts = {}
    for _, _, record in warc.iter_unit(("file", str(path)), [str(path)], warc.WarcOptions()):
        if isinstance(record, dict):
            texts[record["url"]] = record["text"]
    return texts


def _datatrove_warc(path: Path) -> dict[str, str]:
    """datatrove's WarcReader → Trafilatura, as a FineWeb-style pipeline starts (no output step)."""
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.readers import WarcReader

    reader = WarcReader(str(path.parent), glob_pattern=path.name)
    extractor = Trafilatura()
    return {doc.metadata["url"]: doc.text for doc in extractor.run(reader.run(), rank=0, world_size=1)}


def warc_comparison(pages: list[Page], directory: Path) -> None:
    """rootstock's WARC path (framing, fastwarc, decode_html, default extractor) against
    datatrove's WarcReader + Trafilatura on the same file, one process each (one core)."""
    path = directory / "pages.warc.gz"
    write_warc(pages, path)
    mb = sum(len(p.html) for p in pages) / 1e6
    by_url = {p.url: p for p in pages}
    print(
        f"\nWARC → documents: {len(pages)} pages, {mb:.1f} MB of HTML, {path.stat().st_size / 1e6:.1f} MB gzipped WARC"
    )
    print(f"{'path':42} {'docs':>6} {'P':>6} {'R':>6} {'F1':>6} {'pages/s':>8} {'MB/s':>6}")
    rates = {}
    warm = directory / "warm.warc.gz"
    write_warc(pages[:5], warm)
    _rootstock_warc(warm)  # imports and lazy set-up outside the timing
    _datatrove_warc(warm)
    for name, run in (
        ("rootstock warc (default extractor)", _rootstock_warc),
        ("datatrove WarcReader + Trafilatura", _datatrove_warc),
    ):
        # CPU seconds of this process and its children: datatrove's extractor runs in a subprocess.
        before = _cpu()
        texts = run(path)
        seconds = _cpu() - before
        scores = [score(by_url[url], texts.get(url)) for url in by_url]
        p, r, f = (statistics.fmean(s[i] for s in scores) for i in range(3))
        rates[name] = len(pages) / seconds
        print(f"{name:42} {len(texts):6d} {p:6.3f} {r:6.3f} {f:6.3f} {rates[name]:8.1f} {mb / seconds:6.1f}")
    ratio = rates["rootstock warc (default extractor)"] / rates["datatrove WarcReader + Trafilatura"]
    print(f"rootstock ÷ datatrove pages/s (CPU seconds, subprocesses included): {ratio:.2f}  (goal ≥ 3)")


def _cpu() -> float:
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--configs", nargs="*", default=list(CONFIGS), help="names from CONFIGS (default: all)")
    ap.add_argument("--no-datatrove", action="store_true")
    ap.add_argument("--no-per-lang", action="store_true")
    ap.add_argument("--skip", nargs="*", default=[], choices=["charset", "extraction", "empty", "warc"])
    args = ap.parse_args()
    print("command: " + shlex.join([".venv/bin/python", "benchmarks/web.py", *sys.argv[1:]]))
    pages = make_pages(args.pages, args.seed)
    if "charset" not in args.skip:
        charset_table(pages)
    if "extraction" not in args.skip:
        extraction_table(pages, args.configs, not args.no_datatrove, not args.no_per_lang)
    if "empty" not in args.skip:
        empty_pages_table(max(len(LANGS), args.pages // 20), args.configs)
    if "warc" not in args.skip:
        import tempfile

        with tempfile.TemporaryDirectory() as directory:
            warc_comparison(pages, Path(directory))


if __name__ == "__main__":
    main()
