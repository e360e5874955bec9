"""The wikipedia connector (issue 15): MediaWiki XML dumps, plain and multistream, become article
records; every page not taken is counted with its reason; damage is reported after the pages
before it; the wikitext conversion keeps prose and drops markup, in bounded time."""

from __future__ import annotations

import bz2
import shutil
from pathlib import Path

import pytest
from wiki_dump import FOOTER, build_dump, header, page_xml, write_dump

from rootstock.catalog.entry import SourceEntry
from rootstock.errors import InputError
from rootstock.sources import wikipedia as wp
from rootstock.sources.files import CORRUPT, TRUNCATED, DamagedInput
from rootstock.sources.records import RecordError
from rootstock.sources.units import Skipped, UnitReader
from tests.conftest import entry

FI = wp.WikiNames.build(((6, "Tiedosto"), (14, "Luokka"), (1, "Keskustelu")))


def read(paths: list[str], **options) -> tuple[list[tuple[int, str, dict | RecordError]], list[DamagedInput]]:
    """(rows of every unit, in order; the damage each unit ended with)."""
    opts = wp.WikipediaOptions(**options)
    rows, damage = [], []
    for unit in wp.plan_units(paths, opts):
        try:
            rows.extend(wp.iter_unit(unit, paths, opts))
        except DamagedInput as err:
            damage.append(err)
    return rows, damage


def same(rows) -> list[tuple[int, object]]:
    """Rows to compare across ways of reading: where a page is said differs (XML byte, bz2 stream)."""
    return [(row, item if isinstance(item, dict) else (item.code, item.reason)) for row, _, item in rows]


def by_code(rows) -> dict[str, list]:
    out: dict[str, list] = {}
    for _, _, item in rows:
        out.setdefault("doc" if isinstance(item, dict) else item.code, []).append(item)
    return out


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
    return write_dump(tmp_path_factory.mktemp("fiwiki"), lang="fi", pages=30, pages_per_stream=4, broken=True)


# --------------------------------------------------------------------------------------------
# Records


def test_articles_become_records_with_url_ids_and_origin(dump):
    rows, damage = read([str(dump.paths["dump"])])
    assert damage == []
    assert [row for row, _, _ in rows] == list(range(len(dump.pages)))  # a row is the page's position
    records = {item["page_id"]: item for _, _, item in rows if isinstance(item, dict)}
    assert sorted(records) == sorted(p.page_id for p in dump.articles())
    for page in dump.articles():
        record = records[page.page_id]
        assert record["text"] == page.expected
        assert record["title"] == page.title and record["lang"] == "fi" and record["dump_date"] == "2024-06-01"
        assert record["url"] == wp.article_url("https://fi.wikipedia.org/wiki/", page.title)
        assert record["_origin"] == {
            "kind": "wikipedia",
            "wiki": "fiwiki",
            "page_id": page.page_id,
            "revision_id": page.revision_id,
            "revision_timestamp": page.timestamp,
            "title": page.title,
        }
    where = {row: w for row, w, _ in rows}
    first = dump.pages.index(dump.articles()[0])
    assert where[first] == f"page {dump.articles()[0].page_id} ({dump.articles()[0].title})"


def test_pages_not_taken_are_counted_with_their_reason(dump):
    rows, _ = read([str(dump.paths["dump"])])
    codes = by_code(rows)
    expected_kinds = {"redirect": "redirect", "namespace": "namespace", "disambiguation": "disambiguation"}
    for kind, code in {**expected_kinds, "empty_article": "empty_article"}.items():
        assert len(codes[code]) == len(dump.by_kind(kind)) > 0, code
        assert all(error.expected for error in codes[code])
    (broken,) = codes["malformed_page"]
    page = dump.by_kind("malformed")[0]
    assert not broken.expected
    assert broken.where.startswith(f"page {page.page_id} ({page.title}) at XML byte ")
    offset = int(broken.where.rsplit(" ", 1)[1])
    assert bz2.decompress(dump.paths["dump"].read_bytes())[offset:].startswith(b"<page>")
    assert "malformed" in broken.reason and "line" in broken.reason
    redirect = codes["redirect"][0]
    assert redirect.reason.startswith("a redirect to '")


def test_namespaces_option_takes_talk_pages_and_disambiguation_can_be_kept(dump):
    rows, _ = read([str(dump.paths["dump"])], namespaces=[0, 1], skip_disambiguation=False)
    codes = by_code(rows)
    titles = {record["title"] for record in codes["doc"]}
    assert any(t.startswith("Keskustelu:") for t in titles)  # ns 1 now read
    assert "disambiguation" not in codes and len(codes["namespace"]) == 1  # only the file page left
    with pytest.raises(ValueError, match="extra"):
        wp.WikipediaOptions(namespace=[0])


# --------------------------------------------------------------------------------------------
# Units


def test_multistream_units_follow_the_index_and_give_the_same_rows_as_the_whole_file(dump, tmp_path):
    paths = [str(dump.paths["multistream"])]
    units = wp.plan_units(paths, wp.WikipediaOptions(pages_per_unit=10))
    assert len(units) > 2 and all(unit[0] == "streams" for unit in units)
    assert all(unit[2][0] == "fiwiki" and (6, "Tiedosto") in unit[2][2] for unit in units)  # siteinfo in each
    for before, after in zip(units, units[1:], strict=False):
        assert before[6] == after[5]  # byte ranges meet
        assert after[3] == before[3] + sum(n for _, n in before[4])  # first rows follow the index
    assert units[-1][6] == dump.paths["multistream"].stat().st_size and units[-1][7]
    assert all(n == 4 for unit in units for _, n in unit[4][:-1])  # whole streams of 4 pages

    split, damage = read(paths, pages_per_unit=10)
    whole, _ = read([str(dump.paths["dump"])])
    assert damage == []
    assert same(split) == same(whole)

    # Without its index, a multistream dump is one unit, read through every stream.
    alone = tmp_path / dump.paths["multistream"].name
    shutil.copy(dump.paths["multistream"], alone)
    assert wp.plan_units([str(alone)], wp.WikipediaOptions()) == [("dump", str(alone))]
    single, damage = read([str(alone)])
    assert damage == [] and same(single) == same(whole)


def test_index_option_and_index_files_in_a_glob(dump, tmp_path):
    pattern = str(dump.paths["dump"].parent / "*.bz2")
    units = wp.plan_units([pattern], wp.WikipediaOptions(pages_per_unit=100))
    assert sorted({unit[1] for unit in units}) == sorted(str(dump.paths[k]) for k in ("dump", "multistream"))
    with pytest.raises(InputError, match="index of one dump"):
        wp.plan_units([pattern], wp.WikipediaOptions(index=str(dump.paths["index"])))
    moved = tmp_path / "index.txt.bz2"
    shutil.copy(dump.paths["index"], moved)
    lone = tmp_path / "dump.xml.bz2"
    shutil.copy(dump.paths["multistream"], lone)
    units = wp.plan_units([str(lone)], wp.WikipediaOptions(index=str(moved), pages_per_unit=8))
    assert len(units) > 2 and units[0][0] == "streams"
    with pytest.raises(InputError, match="no such file"):
        wp.plan_units([str(lone)], wp.WikipediaOptions(index=str(tmp_path / "missing.txt.bz2")))
    assert wp.index_path("/d/fiwiki-20240601-pages-articles-multistream.xml.bz2") == (
        "/d/fiwiki-20240601-pages-articles-multistream-index.txt.bz2"
    )
    assert wp.index_path("enwiki-20240601-pages-articles-multistream1.xml-p1p41242.bz2") == (
        "enwiki-20240601-pages-articles-multistream-index1.txt-p1p41242.bz2"
    )
    assert wp.index_path("fiwiki-20240601-pages-articles.xml.bz2") is None


def test_an_index_that_does_not_match_the_dump_is_damage(dump, tmp_path):
    lines = bz2.decompress(dump.paths["index"].read_bytes()).splitlines(keepends=True)
    first = lines[0].split(b":")[0]
    kept = [line for i, line in enumerate(lines) if not (line.startswith(first + b":") and i > 0)]
    shutil.copy(dump.paths["multistream"], tmp_path / dump.paths["multistream"].name)
    (tmp_path / dump.paths["index"].name).write_bytes(bz2.compress(b"".join(kept)))
    rows, damage = read([str(tmp_path / dump.paths["multistream"].name)], pages_per_unit=1)
    assert [d.code for d in damage][:1] == [CORRUPT] and "index is not this dump's" in str(damage[0])
    assert len({row for row, _, _ in rows}) == len(rows)  # no row given twice


# --------------------------------------------------------------------------------------------
# Damage


def test_a_truncated_bz2_dump_yields_the_pages_before_the_cut(tmp_path):
    full = build_dump(lang="en", pages=150, seed=3)
    data = bz2.compress(full.xml, compresslevel=1)  # 100 kB blocks: a cut file still has whole ones
    path = tmp_path / "enwiki-20240601-pages-articles.xml.bz2"
    path.write_bytes(data[: len(data) * 2 // 3])
    whole = tmp_path / "whole" / path.name
    whole.parent.mkdir()
    whole.write_bytes(data)
    rows, damage = read([str(path)])
    reference, _ = read([str(whole)])
    assert 0 < len(rows) < len(reference)
    assert same(rows) == same(reference[: len(rows)])
    assert [d.code for d in damage] == [TRUNCATED] and "bzip2 stream ends early" in str(damage[0])


def test_an_xml_dump_cut_mid_page_or_between_pages_is_truncated(tmp_path):
    full = build_dump(lang="ar", pages=12, seed=4)
    cut_page = full.pages[5]
    start = full.xml.index(f"<id>{cut_page.page_id}</id>".encode())
    path = tmp_path / "arwiki-20240601-pages-articles.xml"
    path.write_bytes(full.xml[: start + 200])
    rows, damage = read([str(path)])
    assert [r for r, _, _ in rows] == [0, 1, 2, 3, 4]
    assert [d.code for d in damage] == [TRUNCATED]
    assert f"ends inside the page {cut_page.page_id} ({cut_page.title}) at XML byte" in str(damage[0])

    between = full.xml.index(b"</page>", start) + len(b"</page>\n")
    path.write_bytes(full.xml[:between])
    rows, damage = read([str(path)])
    assert len(rows) == 6 and [d.code for d in damage] == [TRUNCATED]
    assert "without </mediawiki>" in str(damage[0])


def test_a_truncated_multistream_dump_reads_every_stream_before_the_cut(dump, tmp_path):
    data = dump.paths["multistream"].read_bytes()
    cut = tmp_path / dump.paths["multistream"].name
    cut.write_bytes(data[: len(data) // 2])
    shutil.copy(dump.paths["index"], tmp_path / dump.paths["index"].name)
    rows, damage = read([str(cut)], pages_per_unit=8)
    whole, _ = read([str(dump.paths["dump"])])
    assert 0 < len(rows) < len(whole)
    assert same(rows) == same(whole[: len(rows)])
    assert [d.code for d in damage] == [TRUNCATED]


def test_a_dump_of_no_pages_is_empty_and_a_file_that_is_no_dump_is_corrupt(tmp_path):
    empty = tmp_path / "fiwiki-20240601-pages-articles.xml"
    empty.write_bytes(header(build_dump(lang="fi", pages=6)) + FOOTER)
    assert read([str(empty)]) == ([], [])
    other = tmp_path / "other.xml.bz2"
    other.write_bytes(bz2.compress(b'{"text": "not a dump"}\n' * 100))
    rows, damage = read([str(other)])
    assert rows == [] and [d.code for d in damage] == [CORRUPT]
    assert "not a MediaWiki XML dump" in str(damage[0]) and "not a dump" in str(damage[0])


def _page(page_id: int, title: str, body: str, *, model: str = "wikitext") -> bytes:
    return (
        f"  <page>\n    <title>{title}</title>\n    <ns>0</ns>\n    <id>{page_id}</id>\n    <revision>\n"
        f"      <id>{page_id * 10}</id>\n      <timestamp>2024-01-01T00:00:00Z</timestamp>\n"
        f"      <model>{model}</model>\n      {body}\n    </revision>\n  </page>\n"
    ).encode()


def _text(wikitext: str) -> str:
    return f'<text xml:space="preserve">{wikitext}</text>'


def write_xml(path: Path, *pages: bytes) -> Path:
    dump = build_dump(lang="fi", pages=6)
    path.write_bytes(header(dump) + b"".join(pages) + FOOTER)
    return path


def test_one_bad_page_costs_that_page_only(tmp_path):
    path = write_xml(
        tmp_path / "fiwiki-20240601-pages-articles.xml",
        _page(1, "Hyvä", _text("Ensimmäinen sivu.")),
        _page(2, "Rikki", _text("a < b")),  # not XML
        _page(3, "Tekstitön", ""),  # no <text>
        _page(4, "Poistettu", '<text deleted="deleted" />'),
        b"  <pgae>\n    <title>Sotku</title>\n  </page>\n",  # a page whose start tag is damaged
        _page(5, "Kesken", _text("ei loppua")).replace(b"  </page>\n", b""),  # no </page>
        _page(6, "Lua", _text("return {}"), model="Scribunto"),
        _page(7, "Viimeinen", _text("Viimeinen sivu.")),
    )
    rows, damage = read([str(path)])
    assert damage == []
    assert [(r, w.split(" at ")[0], getattr(i, "code", "doc")) for r, w, i in rows] == [
        (0, "page 1 (Hyvä)", "doc"),
        (1, "page 2 (Rikki)", "malformed_page"),
        (2, "page 3 (Tekstitön)", "missing_text"),
        (3, "page 4 (Poistettu)", "text_deleted"),
        (4, "bytes", "malformed_page"),
        (5, "page 5 (Kesken)", "malformed_page"),
        (6, "page 6 (Lua)", "content_model"),
        (7, "page 7 (Viimeinen)", "doc"),
    ]
    assert rows[-1][2]["text"] == "Viimeinen sivu."
    assert "Sotku" in rows[4][2].reason and "no </page> before the next <page>" in rows[5][2].reason
    assert [i.expected for _, _, i in rows if isinstance(i, RecordError)] == [False, False, True, False, False, True]


def test_a_50_mb_page_is_too_large_and_never_held_whole(tmp_path):
    huge = "x" * (50 << 20)
    path = write_xml(
        tmp_path / "fiwiki-20240601-pages-articles.xml",
        _page(1, "Ennen", _text("Ennen.")),
        _page(2, "Valtava", _text(huge)),
        _page(3, "Vähän liian iso", _text("y" * 3000)),
        _page(4, "Jälkeen", _text("Jälkeen.")),
    )
    rows, damage = read([str(path)], max_page_bytes=2000)
    assert damage == []
    codes = [(w, getattr(i, "code", "doc")) for _, w, i in rows]
    assert [c for _, c in codes] == ["doc", "too_large", "too_large", "doc"]
    assert codes[1][0].startswith("page 2 (Valtava) at XML byte") and "max_page_bytes is 2000" in rows[1][2].reason
    assert codes[2][0] == "page 3 (Vähän liian iso)" and "the wikitext is 3000 bytes" in rows[2][2].reason
    assert not rows[1][2].expected

    cutter = wp._PageCutter(limit=10_000, header=False)
    most = 0
    for start in range(0, 1_000_000, 4096):
        chunk = (b"<page><title>T</title>" + b"z" * 1_000_000)[start : start + 4096]
        list(cutter.feed(chunk))
        most = max(most, len(cutter.buf))
    assert most <= 10_000 + 2 * 4096  # the rest of the page was never kept


# --------------------------------------------------------------------------------------------
# Wikitext → text, construct by construct

CONSTRUCTS = {
    "template": ("Alku{{cite web|url=x|title=y}} loppu.", "Alku loppu."),
    "nested templates": ("{{Infobox|a={{lang|fi|{{x|{{y}}}}}}|b=2}}\nTeksti.", "Teksti."),
    "parser function and argument": ("A{{#if:x|kyllä|ei}}{{{1|oletus}}} B", "A B"),
    "reference": ('Lause.<ref name="a">{{cite|x}} ja [[linkki]]</ref> Toinen.<ref name="a" />', "Lause. Toinen."),
    "references section dropped": ("Teksti.\n\n== Lähteet ==\n<references />\n{{Viitteet}}", "Teksti."),
    "table": ('Ennen.\n{| class="wikitable"\n! A !! B\n|-\n| 1 || [[x]]\n|}\nJälkeen.', "Ennen.\n\nJälkeen."),
    "html table": ("Ennen.<table><tr><td>solu</td></tr></table> Jälkeen.", "Ennen. Jälkeen."),
    "file link": ("[[File:A.jpg|thumb|Kuvateksti [[linkki]]]]Teksti.", "Teksti."),
    "image link": ("[[Image:A.png|20px]] Teksti.", "Teksti."),
    "local file namespace": ("[[Tiedosto:A.svg|thumb|x]]Teksti.", "Teksti."),
    "file alias by extension": ("[[Kuva:A.JPG|thumb|x]]Teksti.", "Teksti."),
    "media link": ("[[Media:Ääni.ogg|kuuntele]] Teksti.", "Teksti."),
    "gallery": ("Ennen.\n<gallery>\nFile:A.jpg|kuvateksti\n</gallery>\nJälkeen.", "Ennen.\n\nJälkeen."),
    "category": ("Teksti.\n[[Luokka:Kaupungit|Helsinki]]\n[[Category:Cities]]", "Teksti."),
    "interlanguage": ("Teksti.\n[[en:Helsinki]]\n[[zh-yue:赫爾辛基]] [[simple:Helsinki]]", "Teksti."),
    "colon links are links": (
        "Katso [[:Luokka:Kaupungit|kaupungit]] ja [[:en:Helsinki]].",
        "Katso kaupungit ja en:Helsinki.",
    ),
    "interwiki link": ("Katso [[wikt:talo|sana]] ja [[wikt:talo]].", "Katso sana ja wikt:talo."),
    "behaviour switches": ("__NOTOC__\nTeksti __NOEDITSECTION__ jatkuu.\n__EISISÄLLYSLUETTELOA__", "Teksti jatkuu."),
    "comment": ("Näkyy.<!-- piilossa [[x]] --> Myös.", "Näkyy. Myös."),
    "unclosed comment": ("Näkyy.<!-- piilossa loppuun\n\nTekstiä", "Näkyy."),
    "math": ("Kaava <math>x^{{2}} + \\frac{a}{b}</math> tässä.", "Kaava tässä."),
    "chemistry and score": ("A <chem>H2O</chem> B <score>\\relative c' { c }</score> C", "A B C"),
    "lists": ("* yksi\n* ''kaksi''\n# kolme\n#* neljä", "yksi\nkaksi\nkolme\nneljä"),
    "definition list": ("; Termi : Määritelmä\n: sisennys", "Termi\nMääritelmä\nsisennys"),
    "bold and italic": (
        "'''Lihava''' ja ''kursiivi'' ja '''''molemmat''''' ja ''''heittomerkki''''",
        "Lihava ja kursiivi ja molemmat ja 'heittomerkki'",
    ),
    "headings": (
        "Johdanto.\n== Historia ==\nMenneisyys.\n=== Tarkemmin ===\nYksityiskohta.",
        "Johdanto.\n\nHistoria\nMenneisyys.\n\nTarkemmin\nYksityiskohta.",
    ),
    "blank lines around headings": ("A.\n\n\n== B ==\n\n\nC.\n{{x}}\n\nD.", "A.\n\nB\nC.\n\nD."),
    "empty sections": (
        "Johdanto.\n== Katso myös ==\n=== Alaosio ===\n{{Portaali}}\n== Loppu ==\nTeksti.",
        "Johdanto.\n\nLoppu\nTeksti.",
    ),
    "external links": (
        "[https://example.org otsikko] ja [https://example.org] ja https://example.org/x.",
        "otsikko ja ja https://example.org/x.",
    ),
    "protocol-relative link": ("[//example.org nimi] tässä", "nimi tässä"),
    "entities": ("A&nbsp;B &amp; C &ndash; D &#8364;", "A\u00a0B & C – D €"),
    "nowiki": ("<nowiki>[[ei linkki]] {{ei malline}} &amp;</nowiki>", "[[ei linkki]] {{ei malline}} &"),
    "pre": ("<pre>\nkoodi {{x}}\n</pre>", "koodi {{x}}"),
    "link labels and trails": (
        "[[Helsinki|pääkaupunki]] ja [[bussi]]t ja [[Turku#Historia]]",
        "pääkaupunki ja bussit ja Turku#Historia",
    ),
    "pipe trick": ("[[Helsinki|]]", "Helsinki"),
    "html formatting": (
        '<small>pieni</small> <span style="x">väli</span> a<br />b <div>lohko</div>',
        "pieni väli a\nb lohko",
    ),
    "unclosed formatting tag": ("Alku <b>lihava loppuun\n\nToinen", "Alku lihava loppuun\n\nToinen"),
    "unknown tag is text": ("1 <x> 2", "1 <x> 2"),
    "empty parentheses of a dropped template": (
        "Helsinki ({{lang-sv|Helsingfors}}) on kaupunki.",
        "Helsinki on kaupunki.",
    ),
    "indicator and templatestyles": (
        '<indicator name="x">[[File:A.svg]]</indicator><templatestyles src="a.css" />Teksti.',
        "Teksti.",
    ),
    "includeonly and noinclude": ("<includeonly>piilo</includeonly><noinclude>näkyy</noinclude>", "näkyy"),
}


@pytest.mark.parametrize("name", list(CONSTRUCTS))
def test_each_construct_converts(name: str):
    wikitext, expected = CONSTRUCTS[name]
    assert wp.wikitext_to_text(wikitext, FI) == expected


def test_file_namespace_aliases_from_options():
    names = wp.WikiNames.build(((6, "Tiedosto"),), files=["Kuva"])
    assert wp.link_kind("Kuva:Ilman päätettä", names) == "file"
    assert wp.link_kind("Kuva:Ilman päätettä", FI) == "link"  # unknown alias without a media extension
    assert wp.link_kind("fr:Helsinki", FI) == "interlanguage"
    assert wp.link_kind("Keskustelu:Helsinki", FI) == "link"  # another namespace: a link like any other


HOSTILE = {
    "unterminated {{": ("{{a|" * 25_000, "{{a|" * 25_000),
    "unterminated [[": ("[[a|" * 25_000, "[[a|" * 25_000),
    "deeply nested templates": ("{{a|" * 10_000 + "x" + "}}" * 10_000 + "Teksti", "Teksti"),
    "unclosed tables": ("{|\n" * 30_000 + "== Osio ==\nTeksti", "Osio\nTeksti"),
    "unclosed refs": ("<ref>x " * 10_000, "x " * 9_999 + "x"),
    "unclosed attributes": ('<span a="' * 10_000, '<span a="' * 10_000),
    "unclosed external links": ("[http://a " * 10_000, "[http://a " * 9_999 + "[http://a"),
    "apostrophes": ("''x'''y" * 10_000, "xy" * 10_000),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_wikitext_is_converted_not_backtracked(name: str):
    """Each input here takes mwparserfromhell minutes on its own at this size (quadratic
    backtracking, benchmarks/wikipedia.py); after the pre-pass they convert like prose."""
    wikitext, expected = HOSTILE[name]
    assert wp.wikitext_to_text(wikitext, FI) == expected


def test_links_nested_deeper_than_the_parser_goes_stay_text():
    """mwparserfromhell stops nesting at its depth limit; what it does not parse is kept as text."""
    text = wp.wikitext_to_text("[[a|" * 5_000 + "sisin" + "]]" * 5_000, FI)
    assert text.startswith("[[a|[[a|") and "sisin" in text and len(text) < 5_000 * 6


def test_disambiguation_pattern_matches_as_mediawiki_normalises_titles():
    pattern = wp.disambiguation_pattern(["täsmennyssivu", "set index"])
    for text in (
        "{{Täsmennyssivu}}",
        "{{ täsmennyssivu |x}}",
        "{{Malline:Täsmennyssivu}}",
        "{{Set_index}}",
        "__DISAMBIG__",
    ):
        assert pattern.search(text), text
    for text in ("{{Täsmennyssivut}}", "täsmennyssivu", "{{Set indexes}}"):
        assert not pattern.search(text), text


def test_wiki_names_urls_and_languages():
    assert wp.wiki_language("fiwiki") == "fi" and wp.wiki_language("zh_yuewiki") == "yue"
    assert wp.wiki_language("simplewiki") == "en" and wp.wiki_language("frwiktionary") == "fr"
    assert wp.wiki_language("commonswiki") is None and wp.wiki_language(None) is None
    assert wp.article_url("https://fi.wikipedia.org/wiki/", "Ääni (fysiikka)/a?b&c") == (
        "https://fi.wikipedia.org/wiki/%C3%84%C3%A4ni_(fysiikka)/a%3Fb%26c"
    )
    assert wp._article_base("https://ar.wikipedia.org/wiki/الصفحة_الرئيسية") == "https://ar.wikipedia.org/wiki/"
    assert wp._article_base("https://example.org/w/index.php/Main_Page") == "https://example.org/w/index.php/"


# --------------------------------------------------------------------------------------------
# Through the reader the pipeline uses (needs the `wikipedia` kind in sources/connectors.py)


def reader_read(path: Path, on_error: str = "skip", **options) -> tuple[list[dict], list[dict]]:
    from rootstock.sources.connectors import UNIT_KINDS, options_for

    spec = {"kind": "wikipedia", "paths": [str(path)], "on_error": on_error, "options": options}
    source = SourceEntry.model_validate(entry("wiki", spec, languages=["fi"], license={"id": "CC-BY-SA-4.0"}))
    reader = UnitReader(source, [str(path)], None)
    docs, skipped = [], []
    for unit in UNIT_KINDS["wikipedia"][0].plan_units([str(path)], options_for(source.connector), "CC-BY-SA-4.0"):
        for item in reader.read(unit):
            (skipped if isinstance(item, Skipped) else docs).append(item)
    return docs, skipped


def test_documents_and_skips_through_the_unit_reader(dump):
    docs, skipped = reader_read(dump.paths["multistream"], pages_per_unit=8)
    articles = {p.page_id: p for p in dump.articles()}
    assert sorted(int(d["source_doc_id"]) for d in docs) == sorted(articles)
    for doc in docs:
        page = articles[int(doc["source_doc_id"])]
        assert doc["text"] == page.expected and doc["lang"] == "fi" and doc["license"] == "CC-BY-SA-4.0"
        assert doc["url"].startswith("https://fi.wikipedia.org/wiki/")
        assert doc["input_file"] == str(dump.paths["multistream"])
        assert dump.pages[doc["input_row"]].page_id == page.page_id
    reasons = sorted((s["reason"], s["expected"]) for s in skipped)
    assert ("malformed_page", False) in reasons and ("redirect", True) in reasons
    assert {s["reason"] for s in skipped} == {
        "redirect",
        "namespace",
        "disambiguation",
        "empty_article",
        "malformed_page",
    }


def test_on_error_fail_stops_at_damage_but_not_at_redirects(dump, tmp_path):
    page = dump.by_kind("malformed")[0]
    with pytest.raises(InputError) as err:
        reader_read(dump.paths["dump"], on_error="fail")
    assert str(dump.paths["dump"]) in str(err.value) and f"page {page.page_id} ({page.title})" in str(err.value)
    clean = write_dump(tmp_path, lang="zhs", pages=8, multistream=False)
    docs, skipped = reader_read(clean.paths["dump"], on_error="fail")
    assert len(docs) == len(clean.articles()) and all(s["expected"] for s in skipped)


def test_page_xml_is_what_the_generator_writes():
    """The generator's pages parse as dump pages (a guard on the sample itself)."""
    dump = build_dump(lang="hi", pages=6)
    page = dump.articles()[0]
    wiki = wp._Wiki("hiwiki-20240601-pages-articles.xml.bz2", wp._header_site(header(dump)), wp.WikipediaOptions())
    where, record = wp.page_record(page_xml(page), wiki, "at XML byte 0")
    assert where == f"page {page.page_id} ({page.title})" and record["text"] == page.expected
