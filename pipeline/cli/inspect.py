"""`rootstock index`, `search`, `show` and `serve`: look into a release; `run --index`."""

from __future__ import annotations

import contextlib
import json

from rootstock.paths import absolute
from rootstock.pipeline.inspect.index import BuildReport, SearchIndex, build_index, index_staged
from rootstock.pipeline.inspect.search import search
from rootstock.pipeline.inspect.show import render, show
from rootstock.pipeline.jobs.execute import before_publishing

_RESULT_ORIGIN = ("warc_file", "warc_record_id", "warc_offset", "wiki", "page_id", "revision_id")


def _add_index(sub) -> None:
    parser = sub.add_parser(
        "index",
        help="build a full-text search index of RELEASE (kept documents and the rejected sample) into "
        "RELEASE/index/<manifest sha256[:16]>/ (the manifest is never changed; `run --index` lists one in it)",
    )
    parser.add_argument("release", help="release directory or URL")
    parser.add_argument(
        "--workers",
        type=int,
        help="processes that split words (default: this process under 5,000 documents, else one per CPU)",
    )
    parser.set_defaults(func=cmd_index)


def _print_built(report: BuildReport) -> None:
    docs = report.sidecar["documents"]
    total = sum(docs.values())
    rate = total / report.seconds if report.seconds else 0.0
    print(
        f"indexed {total:,} documents ({docs['data']:,} kept, {docs['rejected']:,} in the rejected sample) "
        f"in {report.seconds:.1f} s ({rate:,.0f} docs/s, {report.workers or 'no'} worker processes)"
    )
    print(f"engine: tantivy {report.sidecar['engine']['version']}, {report.index_bytes / 1e6:.2f} MB")


def cmd_index(args) -> int:
    report = build_index(args.release, args.workers)
    _print_built(report)
    print(f"written: {args.release.rstrip('/')}/{report.path}/ (manifest.json unchanged)")
    return 0


@contextlib.contextmanager
def index_before_publishing(enabled: bool, output: str):
    """`run --index`, `refilter --index`: the release published within the block carries a search
    index in index/listed/, listed in its manifest; what was built is printed after the block."""
    if not enabled:
        yield
        return
    built: list[BuildReport] = []

    def step(staging: str, manifest: dict) -> dict:
        built.append(index_staged(staging, manifest))
        return manifest

    with before_publishing(step):
        yield
    for report in built:
        _print_built(report)
        print(f"written: {absolute(output).rstrip('/')}/{report.path}/ (listed in manifest.json)")


def _add_search(sub) -> None:
    parser = sub.add_parser(
        "search", help="search an indexed release, ranked (BM25) or exact; every result with its provenance"
    )
    parser.add_argument("release", help="release directory or URL (indexed: `rootstock index` or `run --index`)")
    parser.add_argument("query")
    parser.add_argument("--lang", help="only documents of this language; the query is split as this language")
    parser.add_argument("--exact", action="store_true", help="the query's words in this order, adjacent")
    parser.add_argument("--limit", type=int, default=10, help="results to print (default 10)")
    parser.add_argument("--offset", type=int, default=0, help="results to skip first (the next page)")
    parser.add_argument("--source", help="only documents of this catalogue source")
    parser.add_argument("--rejected", action="store_true", help="search the rejected sample too")
    parser.add_argument("--json", action="store_true", help="one JSON object per result")
    parser.set_defaults(func=cmd_search)


def cmd_search(args) -> int:
    index = SearchIndex.open(args.release)
    results = search(
        index,
        args.query,
        lang=args.lang,
        exact=args.exact,
        limit=args.limit,
        offset=args.offset,
        rejected=args.rejected,
        source=args.source,
    )
    if args.json:
        for hit in results.hits:
            print(json.dumps(hit.as_json(), ensure_ascii=False, default=str))
        return 0
    how = "exact phrase" if results.exact else "BM25"
    split = f"; split as {', '.join(results.languages)}" if results.languages else ""
    words = f"; words: {', '.join(results.words)}" if results.words else ""
    shown = f"{results.hits[0].rank}-{results.hits[-1].rank}" if results.hits else "0"
    print(f"{shown} of {results.total:,} documents for {args.query!r} ({how}{words}{split})")
    for hit in results.hits:
        d = hit.doc
        status = "" if d["set"] == "data" else f"  [rejected: {d.get('drop_stage')}:{d.get('drop_reason')}]"
        print(
            f"\n{hit.rank:>3}. {hit.score:7.2f}  {hit.id}  {d['lang']}  {d['source']}  {d.get('license', '?')}{status}"
        )
        if d.get("title"):
            print(f"       title: {d['title']}")
        print(f"       url: {d.get('url') or '-'}")
        record = f" (record {d['source_doc_id']})" if d.get("source_doc_id") else ""
        print(f"       read from: {d.get('input_file')} row {d.get('input_row')}{record}")
        origin = d.get("origin") or {}
        if origin:
            print("       origin: " + ", ".join(f"{k}={origin[k]}" for k in _RESULT_ORIGIN if k in origin))
        text = "".join(f"«{t}»" if match else t for t, match in hit.snippet)
        print("       " + " ".join(text.split()))
    return 0


def _add_show(sub) -> None:
    parser = sub.add_parser(
        "show", help="print one document and its trail: provenance, every stage's scores and decisions, dedup, PII"
    )
    parser.add_argument("release", help="release directory or URL (an index makes the lookup fast, none is needed)")
    parser.add_argument("id", help="document id (or its URL, or the record's own id)")
    parser.add_argument("--json", action="store_true", help="the trail as one JSON object")
    parser.add_argument("--text-chars", type=int, default=1000, help="characters of text to print (0: all)")
    parser.set_defaults(func=cmd_show)


def cmd_show(args) -> int:
    trail = show(args.release, args.id)
    if args.json:
        print(json.dumps(trail, indent=2, ensure_ascii=False, default=str))
    else:
        print(render(trail, args.text_chars))
    return 0


def _add_serve(sub) -> None:
    parser = sub.add_parser("serve", help="serve a local web page to search an indexed release and read its documents")
    parser.add_argument("release", help="release directory or URL (indexed: `rootstock index` or `run --index`)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free one)")
    parser.add_argument("--report", help="report.html to link (default: RELEASE/report.html or one beside RELEASE)")
    parser.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    from rootstock.pipeline.inspect.serve import serve  # noqa: PLC0415 - jinja2 and http.server only for this command

    serve(args.release, host=args.host, port=args.port, report=args.report)
    return 0


def add_parsers(sub) -> None:
    _add_index(sub)
    _add_search(sub)
    _add_show(sub)
    _add_serve(sub)
