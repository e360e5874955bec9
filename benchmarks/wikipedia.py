"""Wikipedia dumps: reading and wikitext → text, pages/s and MB/s on one core, per parser.

    .venv/bin/python benchmarks/wikipedia.py --pages 3000

On a generated fiwiki dump (catalog/sample/wiki_dump.py; its articles use every construct the
connector handles and carry their expected text), this measures:
- the connector end to end (sources/wikipedia.py: plan_units + iter_unit), plain and multistream;
- XML reading alone: the connector's page cutter + one ElementTree parse per page, against
  ElementTree.iterparse over the whole stream;
- the conversion alone, four ways, on the same articles: rootstock (linear pre-pass, then
  mwparserfromhell), the pre-pass then wikitextparser's plain_text, mwparserfromhell as the
  Hugging Face `wikipedia` builder used it (strip_code after removing file links, refs and
  tables), and wikitextparser's plain_text alone; with how many articles come out exactly as
  expected, the mean similarity to the expected text, and one differing line per way;
- hostile wikitext (unclosed constructs, deep nesting) at two sizes, to show which ways grow
  quadratically, and rootstock's way on a 2 MiB page (Wikimedia's largest).
"""

from __future__ import annotations

import argparse
import bz2
import difflib
import io
import re
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "catalog" / "sample"))

import mwparserfromhell  # noqa: E402
import wikitextparser  # noqa: E402
from wiki_dump import header, write_dump  # noqa: E402

from rootstock.sources import wikipedia as wp  # noqa: E402


def cpu(fn) -> tuple[float, object]:
    start = time.process_time()
    result = fn()
    return time.process_time() - start, result


# ---------------------------------------------------------------------------------------------
# The four ways


def rootstock_way(wikitext: str, names: wp.WikiNames) -> str:
    return wp.wikitext_to_text(wikitext, names)


_HEADING = re.compile(r"^(={1,6})\s*(.*?)\s*\1\s*$", re.MULTILINE)
_LIST_MARK = re.compile(r"^[*#:;]+ *", re.MULTILINE)
_DD = re.compile(r"^([^\n]*?) : ", re.MULTILINE)


def _wtp_lines(text: str) -> str:
    """wikitextparser's plain_text keeps heading and list markup: into rootstock's line form."""
    text = _HEADING.sub(lambda m: f"\x00{len(m.group(1))}{m.group(2)}", text)
    text = _DD.sub(lambda m: m.group(1) + "\n" if m.group(1).lstrip().startswith(";") else m.group(0), text)
    return _LIST_MARK.sub("", text)


def prepass_wtp_way(wikitext: str, names: wp.WikiNames) -> str:
    """The same pre-pass, then wikitextparser (file/category/interlanguage links removed first,
    which takes a second parse: plain_text only knows file links by their extension)."""
    text, literal = wp._preprocess(wikitext)
    text = wp._restore(text, literal)
    parsed = wikitextparser.parse(text)
    spans = sorted(link.span for link in parsed.wikilinks if wp.link_kind(link.title.strip(), names) != "link")
    if spans:
        edits = wp._outermost(spans)
        parsed = wikitextparser.parse(wp._apply(text, edits))
    return wp._finish(_wtp_lines(parsed.plain_text()))


def wtp_alone_way(wikitext: str, names: wp.WikiNames) -> str:
    return wp._finish(_wtp_lines(wikitextparser.parse(wikitext).plain_text()))


def hf_mwp_way(wikitext: str, names: wp.WikiNames) -> str:
    """mwparserfromhell as the Hugging Face `wikipedia` builder used it, with no pre-pass:
    file links, <ref> and tables removed per section, then strip_code; categories kept as text
    there, removed here to compare like with like."""
    code = mwparserfromhell.parse(wikitext)
    out = []
    for section in code.get_sections(flat=True, include_lead=True, include_headings=True):
        for link in section.ifilter_wikilinks(recursive=True):
            if wp.link_kind(str(link.title).strip(), names) != "link":
                try:
                    section.remove(link)
                except ValueError:
                    pass
        for tag in section.ifilter_tags(matches=lambda t: str(t.tag).lower() in ("ref", "table"), recursive=True):
            try:
                section.remove(tag)
            except ValueError:
                pass
        out.append(section.strip_code().strip())
    return wp._finish(re.sub(r"__[A-Z]+__", "", "\n\n".join(out)))


WAYS = {
    "rootstock (pre-pass + mwparserfromhell)": rootstock_way,
    "pre-pass + wikitextparser": prepass_wtp_way,
    "mwparserfromhell as HF wikipedia": hf_mwp_way,
    "wikitextparser plain_text alone": wtp_alone_way,
}


# ---------------------------------------------------------------------------------------------


def reading(dump, options: wp.WikipediaOptions) -> None:
    xml_mb = len(dump.xml) / 1e6
    print(f"\nconnector end to end ({len(dump.pages)} pages, {xml_mb:.1f} MB of XML, one core)")
    print(f"{'input':44} {'units':>5} {'CPU s':>7} {'pages/s':>8} {'MB/s':>6}")
    for key in ("dump", "multistream"):  # the same pages: one unit, or units of whole bz2 streams
        path = str(dump.paths[key])
        seconds, count = cpu(
            lambda: sum(1 for unit in wp.plan_units([path], options) for _ in wp.iter_unit(unit, [path], options))
        )
        units = len(wp.plan_units([path], options))
        print(f"{Path(path).name[-44:]:44} {units:5d} {seconds:7.2f} {count / seconds:8.0f} {xml_mb / seconds:6.2f}")

    data = dump.xml
    opts = wp.WikipediaOptions()

    def cut_and_parse() -> int:
        cutter, n = wp._PageCutter(wp._xml_limit(opts), header=True), 0
        for start in range(0, len(data), 1 << 20):
            for chunk in cutter.feed(data[start : start + (1 << 20)]):
                if chunk.kind == "page":
                    ET.fromstring(chunk.data)
                    n += 1
        return n

    def iterparse() -> int:
        n = 0
        for _, elem in ET.iterparse(io.BytesIO(data)):
            if elem.tag.endswith("}page"):
                n += 1
                elem.clear()
        return n

    def decompress() -> int:
        return len(bz2.decompress(dump.paths["dump"].read_bytes()))

    print(f"\nXML reading alone ({xml_mb:.1f} MB)")
    print(f"{'way':44} {'CPU s':>7} {'pages/s':>8} {'MB/s':>6}")
    for name, fn in (
        ("bz2 decompression only", decompress),
        ("page cutter + ElementTree per page", cut_and_parse),
        ("ElementTree.iterparse, whole stream", iterparse),
    ):
        seconds, n = cpu(fn)
        rate = f"{len(dump.pages) / seconds:8.0f}" if name != "bz2 decompression only" else f"{'':8}"
        print(f"{name:44} {seconds:7.2f} {rate} {xml_mb / seconds:6.2f}")


def conversion(dump) -> None:
    names = wp.WikiNames.build(wp._header_site(header(dump)).namespaces)
    articles = dump.articles()
    mb = sum(len(p.wikitext.encode()) for p in articles) / 1e6
    print(f"\nwikitext → text ({len(articles)} articles, {mb:.1f} MB of wikitext, one core)")
    print(f"{'way':44} {'CPU s':>7} {'pages/s':>8} {'MB/s':>6} {'exact':>6} {'similar':>8}")
    differences = {}
    for name, way in WAYS.items():
        seconds, outputs = cpu(lambda: [way(p.wikitext, names) for p in articles])
        exact = sum(out == p.expected for out, p in zip(outputs, articles, strict=True))
        sample = articles[: min(len(articles), 300)]
        similar = sum(
            difflib.SequenceMatcher(None, out, p.expected, autojunk=False).ratio()
            for out, p in zip(outputs, sample, strict=False)
        ) / len(sample)
        print(
            f"{name:44} {seconds:7.2f} {len(articles) / seconds:8.0f} {mb / seconds:6.2f} "
            f"{exact / len(articles):6.1%} {similar:8.3f}"
        )
        for out, page in zip(outputs, articles, strict=True):
            if out != page.expected:
                at = next(
                    (i for i, (a, b) in enumerate(zip(out, page.expected, strict=False)) if a != b),
                    min(len(out), len(page.expected)),
                )
                start = max(at - 30, 0)
                differences[name] = (page.expected[start : at + 50], out[start : at + 50])
                break
    print("\nfirst difference from the expected text, per way:")
    for name, (want, got) in differences.items():
        print(f"  {name}:\n    expected {want!r}\n    produced {got!r}")


HOSTILE = {
    "unterminated {{": "{{a|",
    "unterminated [[": "[[a|",
    "unclosed {| tables": "{|\n",
    "unclosed <ref>": "<ref>x ",
    "unclosed attribute quotes": '<span a="',
    "unclosed [http links": "[http://a ",
    "nested templates": None,
    "nested links": "[[a|",
    "prose": "Hello [[world|planet]] and {{t|x}} '''bold'''.\n",
}


def hostile_text(name: str, size: int) -> str:
    unit = HOSTILE[name]
    if unit is None or name.startswith("nested"):
        depth = size // 6
        return ("{{a|" if unit is None else unit) * depth + ("}}" if unit is None else "]]") * depth
    return unit * (size // len(unit))


def hostile(sizes: list[int], big: int) -> None:
    names = wp.WikiNames.build()
    print(f"\nhostile wikitext: CPU seconds per page, sizes {', '.join(f'{s // 1000} kB' for s in sizes)}")
    header_line = f"{'input':28}" + "".join(f" {name.split(' (')[0][:20]:>22}" for name in WAYS)
    print(header_line)
    for name in HOSTILE:
        cells = []
        for way in WAYS.values():
            times = [cpu(lambda: way(hostile_text(name, size), names))[0] for size in sizes]
            cells.append(" / ".join(f"{t:.2f}" for t in times))
        print(f"{name:28}" + "".join(f" {c:>22}" for c in cells))
    print(f"\nrootstock on {big / (1 << 20):.0f} MiB of each:")
    for name in HOSTILE:
        seconds, _ = cpu(lambda: rootstock_way(hostile_text(name, big), names))
        print(f"  {name:28} {seconds:6.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=3000)
    ap.add_argument("--lang", default="fi")
    ap.add_argument("--hostile-kb", type=int, nargs="+", default=[10, 20], help="sizes of the hostile pages")
    ap.add_argument("--skip-hostile", action="store_true")
    args = ap.parse_args()
    print("command: .venv/bin/python benchmarks/wikipedia.py " + " ".join(sys.argv[1:]))
    print(f"mwparserfromhell {mwparserfromhell.__version__}, wikitextparser {wikitextparser.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        dump = write_dump(tmp, lang=args.lang, pages=args.pages, seed=7)
        reading(dump, wp.WikipediaOptions(pages_per_unit=max(args.pages // 4, 100)))
        conversion(dump)
    if not args.skip_hostile:
        hostile([kb * 1000 for kb in args.hostile_kb], wp.MAX_PAGE_BYTES)


if __name__ == "__main__":
    main()
