"""Small MediaWiki XML dumps for tests, the demo and benchmarks: seeded, deterministic, offline.

    python catalog/sample/wiki_dump.py OUT_DIR --lang fi --pages 40

writes what a Wikimedia dump directory holds for one wiki (https://dumps.wikimedia.org): a
`pages-articles` dump (`.xml.bz2`, one bz2 stream) and a `pages-articles-multistream` dump with
its index (bz2 streams of `pages_per_stream` pages after a header stream holding only
<siteinfo>, index lines `offset:page_id:title`), in export schema 0.11
(https://www.mediawiki.org/xml/export-0.11.xsd).

Articles are made of the sample's sentences (texts/<lang>.txt) in the wikitext constructs the
wikipedia connector converts (templates, nested templates, references, tables, file links
under the local and an alias file namespace, galleries, categories, interlanguage links,
behaviour switches, comments, math, lists, definition lists, bold and italic, headings, an empty
references section, external links, entities, nowiki), and each carries the plain text it must
convert to. Beside them: redirects, a talk page (ns 1), a file page (ns 6), a disambiguation
page, an article with no text once converted, and optionally one page whose XML is malformed.
"""

from __future__ import annotations

import argparse
import bz2
import datetime as dt
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sample_texts import TEXTS, topic_sentences

NS_NAMES = {
    -2: "Media",
    -1: "Special",
    0: "",
    1: "Talk",
    2: "User",
    3: "User talk",
    4: "Wikipedia",
    5: "Wikipedia talk",
    6: "File",
    7: "File talk",
    8: "MediaWiki",
    9: "MediaWiki talk",
    10: "Template",
    11: "Template talk",
    12: "Help",
    13: "Help talk",
    14: "Category",
    15: "Category talk",
}


@dataclass(frozen=True)
class Wiki:
    """How one language edition names things (namespace names as its siteinfo lists them)."""

    code: str  # the wiki's subdomain: dbname is code + "wiki"
    namespaces: dict[int, str]  # local names that differ from NS_NAMES
    main_page: str
    redirect_word: str  # the localized #REDIRECT magic word
    disambiguation: str  # a disambiguation template of the wiki
    file_alias: str | None = None  # an alias of the File namespace (not listed in siteinfo)
    other: str = "en"  # a language edition to add interlanguage links to


WIKIS = {
    "fi": Wiki(
        "fi",
        {1: "Keskustelu", 2: "Käyttäjä", 3: "Keskustelu käyttäjästä", 6: "Tiedosto", 10: "Malline", 14: "Luokka"},
        "Wikipedia:Etusivu",
        "#OHJAUS",
        "Täsmennyssivu",
        file_alias="Kuva",
    ),
    "en": Wiki("en", {}, "Main Page", "#REDIRECT", "Disambiguation", file_alias="Image", other="fi"),
    "ar": Wiki(
        "ar",
        {1: "نقاش", 2: "مستخدم", 4: "ويكيبيديا", 6: "ملف", 10: "قالب", 14: "تصنيف"},
        "الصفحة الرئيسية",
        "#تحويل",
        "توضيح",
        file_alias="صورة",
    ),
    "zhs": Wiki("zh", {}, "Wikipedia:首页", "#重定向", "Disambig", file_alias="Image"),
    "hi": Wiki(
        "hi",
        {1: "वार्ता", 2: "सदस्य", 6: "चित्र", 10: "साँचा", 14: "श्रेणी"},
        "मुखपृष्ठ",
        "#अनुप्रेषित",
        "Disambiguation",
    ),
}


@dataclass
class Page:
    page_id: int
    title: str
    ns: int
    revision_id: int
    timestamp: str
    wikitext: str
    # article | redirect | namespace | disambiguation | empty_article | malformed
    kind: str
    expected: str | None = None  # the plain text an article converts to
    redirect: str | None = None


@dataclass
class WikiDump:
    lang: str
    dbname: str
    date: str  # YYYYMMDD, as in the file names
    base_url: str  # article URL prefix
    pages: list[Page]
    xml: bytes = b""  # the whole dump, uncompressed
    paths: dict[str, Path] = field(default_factory=dict)  # dump, multistream, index

    def articles(self) -> list[Page]:
        return [p for p in self.pages if p.kind == "article"]

    def by_kind(self, kind: str) -> list[Page]:
        return [p for p in self.pages if p.kind == kind]


def _sections(lang: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = None
    for raw in (TEXTS / f"{lang}.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            current = sections.setdefault(line[1:].strip(), [])
        elif current is not None:
            current.append(line)
    return sections


class _Article:
    """Wikitext and its expected text, built side by side, block by block."""

    def __init__(self, wiki: Wiki, rng: random.Random, sentences: list[str], titles: list[str], joiner: str):
        self.wiki, self.rng, self.sentences, self.titles, self.j = wiki, rng, sentences, titles, joiner
        self.file = NS_NAMES[6] if 6 not in wiki.namespaces else wiki.namespaces[6]
        self.category = wiki.namespaces.get(14, NS_NAMES[14])

    def s(self) -> str:
        return self.rng.choice(self.sentences)

    def link(self) -> tuple[str, str]:
        """A piped or plain link, sometimes with a link trail."""
        target = self.rng.choice(self.titles)
        roll = self.rng.random()
        if roll < 0.4:
            label = self.s().split()[0] if self.j else self.s()[:2]
            return f"[[{target}|{label}]]", label
        if roll < 0.6 and self.j:
            return f"[[{target}]]s", f"{target}s"
        return f"[[{target}]]", target

    def lead(self, title: str) -> tuple[str, str]:
        link, label = self.link()
        first, second = self.s(), self.s()
        wikitext = (
            f"{{{{Infobox settlement\n| name = {title}\n| native_name = {{{{lang|{self.wiki.code}|{title}}}}}\n"
            f"| population = {{{{formatnum:{self.rng.randint(100, 99999)}}}}}\n}}}}\n"
            f"'''{title}''' {link}{self.j}{first}"
            f'<ref name="a{self.rng.randint(1, 9)}">{{{{cite web |url=https://example.org/{self.rng.randint(1, 999)} |title={first[:20]}}}}}</ref>'
            f"{self.j}{second}"
        )
        return wikitext, f"{title} {label}{self.j}{first}{self.j}{second}"

    def paragraph(self) -> tuple[str, str]:
        """Sentences with one or two inline constructs that leave no text, or leave a label."""
        parts_w, parts_e = [], []
        for _ in range(self.rng.randint(2, 4)):
            sentence = self.s()
            kind = self.rng.randrange(11)
            if kind == 0:
                parts_w.append(sentence + "{{citation needed|date=May 2024}}")
                parts_e.append(sentence)
            elif kind == 1:
                parts_w.append(sentence + '<ref name="n" />')
                parts_e.append(sentence)
            elif kind == 2:
                link, label = self.link()
                parts_w.append(f"{link}{self.j}{sentence}")
                parts_e.append(f"{label}{self.j}{sentence}")
            elif kind == 3:
                label = self.s()
                parts_w.append(f"{sentence}{self.j}[https://example.org/{self.rng.randint(1, 99)} {label}]")
                parts_e.append(f"{sentence}{self.j}{label}")
            elif kind == 4:
                parts_w.append(f"{sentence}{self.j}[https://example.org/{self.rng.randint(1, 99)}]")
                parts_e.append(sentence)
            elif kind == 5:
                # italics: adjacent ''…'' runs without a space between them would merge
                parts_w.append(f"''{sentence}''" if self.j else f"<i>{sentence}</i>")
                parts_e.append(sentence)
            elif kind == 6:
                parts_w.append(f"{sentence}<!-- {self.s()} -->")
                parts_e.append(sentence)
            elif kind == 7:
                parts_w.append(f"{sentence}{self.j}<math>x^{{2}} + \\frac{{a}}{{b}}</math>")
                parts_e.append(sentence)
            elif kind == 8:
                alias = self.wiki.file_alias or self.file
                parts_w.append(f"[[{alias}:Kuva {self.rng.randint(1, 99)}.png|left|{self.s()}]]{sentence}")
                parts_e.append(sentence)
            elif kind == 9:
                parts_w.append(f"{sentence} &amp; &ndash;")
                parts_e.append(f"{sentence} & –")
            else:
                parts_w.append(f"{sentence}{{{{efn|{{{{lang|en|{self.s()}}}}}}}}}")
                parts_e.append(sentence)
        return self.j.join(parts_w), self.j.join(parts_e)

    def bullet_list(self) -> tuple[str, str]:
        mark = self.rng.choice("*#")
        items_w, items_e = [], []
        for _ in range(self.rng.randint(2, 4)):
            if self.rng.random() < 0.5:
                link, label = self.link()
                items_w.append(f"{mark} {link}")
                items_e.append(label)
            else:
                sentence = self.s()
                items_w.append(f"{mark} '''{sentence}'''")
                items_e.append(sentence)
        return "\n".join(items_w), "\n".join(items_e)

    def definition(self) -> tuple[str, str]:
        term, definition = self.rng.choice(self.titles), self.s()
        return f"; {term} : {definition}", f"{term}\n{definition}"

    def table(self) -> tuple[str, None]:
        rows = "\n".join(f"|-\n| {self.s()} || {self.rng.randint(1, 999)}" for _ in range(self.rng.randint(1, 3)))
        return f'{{| class="wikitable"\n! {self.s()[:12]} !! #\n{rows}\n|}}', None

    def figure(self) -> tuple[str, None]:
        caption_link, _ = self.link()
        return f"[[{self.file}:Kuva {self.rng.randint(1, 99)}.jpg|thumb|{self.s()} {caption_link}]]", None

    def gallery(self) -> tuple[str, None]:
        lines = "\n".join(f"{self.file}:G{i}.jpg|{self.s()}" for i in range(self.rng.randint(1, 3)))
        return f"<gallery>\n{lines}\n</gallery>", None

    def nowiki(self) -> tuple[str, str]:
        sentence = self.s()
        return f"{sentence} <nowiki>[[{sentence[:8]}]]</nowiki>", f"{sentence} [[{sentence[:8]}]]"

    def page(self, title: str, blocks: int) -> tuple[str, str]:
        body = [self.lead(title)]
        makers = [self.paragraph] * 4 + [self.bullet_list, self.definition, self.table, self.figure, self.gallery]
        makers.append(self.nowiki)
        sections = [self.rng.choice(self.titles) + f" {i}" for i in range(1, self.rng.randint(2, 4))]
        for i in range(blocks):
            if sections and i % 2 == 1:
                heading = sections.pop(0)
                wikitext, expected = self.paragraph()
                body.append((f"== {heading} ==\n{wikitext}", f"{heading}\n{expected}"))
            else:
                body.append(self.rng.choice(makers)())
        body.append(
            ("== Lähteet ==\n<references />" if self.wiki.code == "fi" else "== References ==\n{{reflist}}", None)
        )
        if self.rng.random() < 0.5:
            body.append(("__NOTOC__", None))
        body.append(
            (
                f"[[{self.category}:{self.rng.choice(self.titles)}]]\n[[{self.wiki.other}:{self.rng.choice(self.titles)}]]",
                None,
            )
        )
        return "\n\n".join(w for w, _ in body), "\n\n".join(e for _, e in body if e)


def build_dump(
    *, lang: str = "fi", pages: int = 40, seed: int = 0, broken: bool = False, date: str = "20240601"
) -> WikiDump:
    """A dump of `pages` articles plus the special pages, in memory."""
    wiki = WIKIS[lang]
    rng = random.Random(f"wiki_dump:{lang}:{seed}")
    sections = _sections(lang)
    towns, people = sections["towns"], sections["people"]
    fill = {"town": towns[0], "person": people[0], "year": "1907"}
    sentences = topic_sentences(lang, fill)
    joiner = "" if lang in ("zhs", "zht") else " "
    titles: list[str] = []
    for name, values in sections.items():
        if name.startswith("titles"):
            for value in values:
                for town in towns:
                    title = value.replace("{town}", town)
                    if ":" not in title and "{" not in title and title not in titles:
                        titles.append(title)
    titles += [t for t in towns + people if t not in titles]
    names = {**NS_NAMES, **wiki.namespaces}
    dbname = f"{wiki.code}wiki"
    base_url = f"https://{wiki.code}.wikipedia.org/wiki/"
    out: list[Page] = []
    page_id, revision_id = 1, 100_000
    clock = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    used: set[str] = set()

    def add(title: str, ns: int, wikitext: str, kind: str, expected: str | None = None, redirect: str | None = None):
        nonlocal page_id, revision_id, clock
        page_id += rng.randint(1, 4)
        revision_id += rng.randint(1, 5000)
        clock += dt.timedelta(seconds=rng.randint(1, 86400))
        out.append(
            Page(
                page_id,
                title,
                ns,
                revision_id,
                clock.strftime("%Y-%m-%dT%H:%M:%SZ"),
                wikitext,
                kind,
                expected,
                redirect,
            )
        )

    def fresh(base: str) -> str:
        title, n = base, 1
        while title in used:
            n += 1
            title = f"{base} {n}"
        used.add(title)
        return title

    article = _Article(wiki, rng, sentences, titles, joiner)
    kinds = ["talk", "file", "disambiguation", "empty"] + (["broken"] if broken else [])
    if pages <= len(kinds):
        raise ValueError(f"pages must be more than {len(kinds)}: the special pages sit between articles")
    specials = {(k + 1) * pages // (len(kinds) + 1): kind for k, kind in enumerate(kinds)}
    for i in range(pages):
        title = fresh(rng.choice(titles))
        wikitext, expected = article.page(title, rng.randint(3, 9))
        add(title, 0, wikitext, "article", expected)
        if i % 5 == 2:
            alias = fresh(title + " (alias)")
            add(
                alias,
                0,
                f"{wiki.redirect_word} [[{title}]]\n\n{{{{R from alternative name}}}}",
                "redirect",
                redirect=title,
            )
        special = specials.get(i)
        if special == "disambiguation":
            name = fresh(rng.choice(titles) + " (disambiguation)")
            items = "\n".join(f"* [[{t}]]" for t in rng.sample(titles, 3))
            add(name, 0, f"'''{name}''' may mean:\n{items}\n\n{{{{{wiki.disambiguation}}}}}", "disambiguation")
        elif special == "talk":
            add(f"{names[1]}:{title}", 1, f"== {rng.choice(titles)} ==\n{article.s()} ~~~~", "namespace")
        elif special == "file":
            add(f"{names[6]}:Kuva {i}.jpg", 6, "== Summary ==\n{{Information|description=x}}", "namespace")
        elif special == "empty":
            add(fresh(rng.choice(titles)), 0, "{{Infobox settlement|name=x}}\n[[" + names[14] + ":X]]", "empty_article")
        elif special == "broken":
            add(fresh(rng.choice(titles)), 0, "", "malformed")
    dump = WikiDump(lang, dbname, date, base_url, out)
    dump.xml = b"".join([header(dump), *(page_xml(p) for p in out), FOOTER])
    return dump


def header(dump: WikiDump) -> bytes:
    wiki = WIKIS[dump.lang]
    names = {**NS_NAMES, **wiki.namespaces}
    namespaces = "\n".join(
        f'      <namespace key="{key}" case="first-letter">{escape(name)}</namespace>'
        if name
        else f'      <namespace key="{key}" case="first-letter" />'
        for key, name in sorted(names.items())
    )
    return (
        '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.mediawiki.org/xml/export-0.11/ http://www.mediawiki.org/xml/export-0.11.xsd" '
        f'version="0.11" xml:lang="{wiki.code}">\n'
        "  <siteinfo>\n"
        "    <sitename>Wikipedia</sitename>\n"
        f"    <dbname>{dump.dbname}</dbname>\n"
        f"    <base>{escape(dump.base_url + wiki.main_page.replace(' ', '_'))}</base>\n"
        "    <generator>MediaWiki 1.43.0-wmf.8</generator>\n"
        "    <case>first-letter</case>\n"
        f"    <namespaces>\n{namespaces}\n    </namespaces>\n"
        "  </siteinfo>\n"
    ).encode()


FOOTER = b"</mediawiki>\n"


def page_xml(page: Page) -> bytes:
    text = escape(page.wikitext)
    if page.kind == "malformed":  # an unescaped "<" in the text: not XML
        text = "a < b & c"
    redirect = f"    <redirect title={quoteattr(page.redirect)} />\n" if page.redirect else ""
    return (
        "  <page>\n"
        f"    <title>{escape(page.title)}</title>\n"
        f"    <ns>{page.ns}</ns>\n"
        f"    <id>{page.page_id}</id>\n"
        f"{redirect}"
        "    <revision>\n"
        f"      <id>{page.revision_id}</id>\n"
        f"      <parentid>{page.revision_id - 1}</parentid>\n"
        f"      <timestamp>{page.timestamp}</timestamp>\n"
        "      <contributor>\n        <username>Sample</username>\n        <id>1</id>\n      </contributor>\n"
        "      <comment>generated</comment>\n"
        f"      <origin>{page.revision_id}</origin>\n"
        "      <model>wikitext</model>\n"
        "      <format>text/x-wiki</format>\n"
        f'      <text bytes="{len(page.wikitext.encode())}" xml:space="preserve">{text}</text>\n'
        "    </revision>\n"
        "  </page>\n"
    ).encode()


def write_dump(
    directory: str | Path,
    *,
    lang: str = "fi",
    pages: int = 40,
    seed: int = 0,
    broken: bool = False,
    plain: bool = True,
    multistream: bool = True,
    pages_per_stream: int = 100,
    date: str = "20240601",
) -> WikiDump:
    """Writes the dump files into DIRECTORY; `dump.paths` names them (dump, multistream, index)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    dump = build_dump(lang=lang, pages=pages, seed=seed, broken=broken, date=date)
    stem = f"{dump.dbname}-{date}-pages-articles"
    if plain:
        dump.paths["dump"] = directory / f"{stem}.xml.bz2"
        dump.paths["dump"].write_bytes(bz2.compress(dump.xml))
    if multistream:
        streams = [header(dump)]
        index: list[tuple[int, Page]] = []
        groups = [dump.pages[i : i + pages_per_stream] for i in range(0, len(dump.pages), pages_per_stream)]
        compressed = [bz2.compress(streams[0])]
        offset = len(compressed[0])
        for group in groups:
            data = bz2.compress(b"".join(page_xml(p) for p in group))
            index += [(offset, p) for p in group]
            compressed.append(data)
            offset += len(data)
        compressed.append(bz2.compress(FOOTER))
        dump.paths["multistream"] = directory / f"{stem}-multistream.xml.bz2"
        dump.paths["multistream"].write_bytes(b"".join(compressed))
        lines = "".join(f"{o}:{p.page_id}:{p.title}\n" for o, p in index)
        dump.paths["index"] = directory / f"{stem}-multistream-index.txt.bz2"
        dump.paths["index"].write_bytes(bz2.compress(lines.encode()))
    return dump


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("directory")
    ap.add_argument("--lang", default="fi", choices=sorted(WIKIS))
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pages-per-stream", type=int, default=100)
    ap.add_argument("--broken", action="store_true", help="add one page whose XML is malformed")
    args = ap.parse_args(argv)
    dump = write_dump(
        args.directory,
        lang=args.lang,
        pages=args.pages,
        seed=args.seed,
        broken=args.broken,
        pages_per_stream=args.pages_per_stream,
    )
    for name, path in dump.paths.items():
        print(f"{name:12} {path} ({path.stat().st_size} bytes)")
    print(f"{len(dump.pages)} pages, {len(dump.articles())} articles")


if __name__ == "__main__":
    main()
