"""HTML → text: charset decisions, declared language, and main-text extraction on generated pages."""

from __future__ import annotations

import html
import importlib.metadata
import random
from collections import Counter

import pydantic
import pytest
import regex
from web_pages import CHARSETS, CJK, LANGS, TEMPLATES, make_page, make_pages

from rootstock.filters.html import (
    Extracted,
    ExtractorSettings,
    HtmlExtractor,
    Rejected,
    decode_html,
    html_lang,
    python_codec,
)

WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
LETTER = regex.compile(r"[\p{L}\p{N}]\p{M}*")


def words(text: str, lang: str) -> Counter:
    return Counter((LETTER if lang in CJK else WORD).findall(text.lower()))


def recall(page, text: str) -> float:
    gold = words(page.main_text, page.lang)
    return sum((gold & words(text, page.lang)).values()) / sum(gold.values())


@pytest.fixture(scope="module")
def extractors() -> dict[str, HtmlExtractor]:
    return {
        "resiliparse": HtmlExtractor(),
        "trafilatura": HtmlExtractor(ExtractorSettings(name="trafilatura")),
    }


def _charset_cases():
    # Every charset a language's sites use, with the header right, missing, or lying the usual ways.
    for lang in LANGS:
        for real in ("utf-8", *CHARSETS[lang]):
            lies = ["iso-8859-1"] if real == "utf-8" else ["utf-8", "iso-8859-1"]
            for header in (real, None, *lies):
                for meta in (real, None):
                    yield lang, real, header, meta


@pytest.mark.parametrize("lang", LANGS)
def test_decode_html_every_charset_and_lying_header(lang):
    cases = [c for c in _charset_cases() if c[0] == lang]
    for i, (_, real, header, meta) in enumerate(cases):
        page = make_page(lang, random.Random(i), "news", "semantic", charsets=(real, header, meta))
        text, codec = decode_html(page.html, page.declared_charset)
        assert text == page.html.removeprefix(b"\xef\xbb\xbf").decode(real, "replace"), (real, header, meta, codec)
        assert page.title in html.unescape(text)
        assert page.main_text.split("\n")[0][:20] in html.unescape(text)


def test_decode_html_details():
    # The BOM beats a lying header; a character cut by truncation is still UTF-8.
    assert decode_html(b"\xef\xbb\xbf<p>caf\xc3\xa9</p>", "iso-8859-1") == ("<p>café</p>", "utf-8")
    assert decode_html("<p>Grüße aus Köln</p>".encode()[:-5], "windows-1252")[1] == "utf-8"
    # One stray windows-1252 byte in a UTF-8 page (an old include) does not turn the page into mojibake.
    body = ("<p>" + "Ελληνικά και русский текст. " * 5 + "</p><footer>\xa9 2020</footer>").encode()
    text, codec = decode_html(body.replace("©".encode(), b"\xa9"), "utf-8")
    assert codec == "utf-8" and "Ελληνικά" in text and "\ufffd 2020" in text
    # Legacy labels decode as browsers decode them (WHATWG): supersets, never a crash.
    assert python_codec("ISO-8859-1") == "cp1252"
    assert python_codec("shift_jis") == "cp932"
    assert python_codec("gb2312") == "gb18030"
    assert python_codec("no-such-charset") is None
    assert python_codec("base64") is None  # a Python codec, but not a text encoding
    assert python_codec(python_codec("big5")) == "big5hkscs"  # its own answers map onto themselves
    # Bad bytes are replaced, never raised.
    text, _ = decode_html(bytes(range(256)) * 10, "utf-8")
    assert isinstance(text, str)


def test_html_lang():
    for page in make_pages(60):
        text, _ = decode_html(page.html, page.declared_charset)
        assert html_lang(text) == page.html_lang
    assert html_lang('<!DOCTYPE html><HTML class="x" LANG=fr-CA><body>') == "fr-CA"
    assert html_lang('<html xml:lang="de"><body>') == "de"
    assert html_lang('<html><head><meta http-equiv="Content-Language" content="pt-BR, en">') == "pt-BR"
    assert html_lang('<html lang=""><body>') is None
    assert html_lang("<html><body><p>lang=fr</p>") is None


@pytest.mark.parametrize("name", ["resiliparse", "trafilatura"])
@pytest.mark.parametrize("lang", ["en", "ar", "zhs", "zht", "hi", "ru", "ja", "fr", "el", "yo"])
def test_extractor_keeps_main_text_and_drops_boilerplate(extractors, name, lang):
    # trafilatura loses short Chinese forum posts, or keeps the whole page around them (benchmarks/web.py).
    templates = TEMPLATES if name == "resiliparse" else [t for t in TEMPLATES if t != "forum"]
    for i, template in enumerate(templates):
        page = make_page(lang, random.Random(100 + i), template, "semantic")
        out = extractors[name].extract(page.html, url=page.url, declared_charset=page.declared_charset)
        assert out is not None
        assert recall(page, out.text) >= 0.9, (template, out.text[:500])
        cookie, newsletter, footer = page.boilerplate
        assert cookie not in out.text and footer not in out.text and newsletter not in out.text
        assert out.title.startswith(page.title)
        assert out.html_lang == page.html_lang
        assert python_codec(out.charset) == python_codec(page.charset)


@pytest.mark.parametrize("style", ["divsoup", "table"])
def test_default_extractor_on_older_layouts(extractors, style):
    # Sites without HTML5 landmarks: WordPress-like class names, and tables with <br> paragraphs.
    for i, lang in enumerate(["en", "ar", "zhs", "hi", "ru", "pl"]):
        page = make_page(lang, random.Random(200 + i), "news", style)
        out = extractors["resiliparse"].extract(page.html, declared_charset=page.declared_charset)
        assert recall(page, out.text) >= 0.9
        cookie, _, footer = page.boilerplate
        assert cookie not in out.text and footer not in out.text


def test_link_density_drops_menus_but_keeps_linked_prose():
    page = (
        "<html><body><div class='x1'><a href='/a'>Home</a> <a href='/b'>Sport</a> <a href='/c'>Culture</a></div>"
        "<div class='x2'><p>The council met on Tuesday and <a href='/r'>approved the bridge</a> after a long debate "
        "about the cost, the river banks and the footpath that floods every winter.</p>"
        "<p>Work starts in March and should take about five months, weather permitting.</p></div></body></html>"
    )
    out = HtmlExtractor().extract(page.encode())
    assert "approved the bridge" in out.text and "Work starts in March" in out.text
    assert "Culture" not in out.text
    assert "Culture" in HtmlExtractor(ExtractorSettings(max_link_density=None)).extract(page.encode()).text


@pytest.mark.parametrize("name", ["resiliparse", "trafilatura"])
def test_no_main_text_gives_none(extractors, name):
    no_body = b"<html><head><title>Only a head</title></head></html>"
    assert extractors[name].extract(no_body) is None
    assert extractors[name].try_extract(no_body).reason == "no_text"


def test_boilerplate_only_page_gives_none(extractors):
    # An empty category page: menus, cookie banner, sidebar and footer, no article.
    for i, style in enumerate(["semantic", "table"]):
        for lang in ("en", "ar", "zhs", "ja"):
            page = make_page(lang, random.Random(i), "boilerplate", style)
            result = extractors["resiliparse"].try_extract(page.html, declared_charset=page.declared_charset)
            assert result.reason == "no_text", result


@pytest.mark.parametrize("name", ["resiliparse", "trafilatura"])
def test_garbage_never_crashes(extractors, name):
    rng = random.Random(5)
    extractor = extractors[name]
    assert extractor.try_extract(rng.randbytes(100_000)).reason == "binary"
    assert extractor.try_extract(b"").reason == "not_html"
    assert extractor.try_extract(b'{"json": "served as text/html", "n": [1, 2, 3]}').reason == "not_html"
    # Bytes with no control characters and stray tags get through the sniffing: no exception either way.
    noise = bytes(rng.choice(range(0x20, 0x100)) for _ in range(50_000))
    for body in (b"<html><body><div>" + noise + b"</div><p>" + noise[:999], noise.replace(b"Z", b"<p ")):
        result = extractor.try_extract(body, declared_charset="utf-8")
        assert isinstance(result, Extracted | Rejected)


def test_huge_and_deep_pages_are_bounded(extractors):
    huge = b"<html><body>" + b"<p>word word word word word</p>\n" * 1_600_000  # 50 MB
    assert len(huge) > 50_000_000
    for extractor in extractors.values():
        result = extractor.try_extract(huge)
        assert result.reason == "too_large" and str(len(huge)) in result.detail
    small = HtmlExtractor(ExtractorSettings(max_bytes=1000))
    page = (
        b"<html><body><article><p>"
        + b"Enough words to be a paragraph of main text. " * 3
        + b"</p></article></body></html>"
    )
    assert small.extract(page) is not None
    assert small.try_extract(page + b" " * 1000).reason == "too_large"
    # resiliparse's main-content pass is quadratic in nesting depth; deeper than a browser nests is refused.
    deep = b"<html><body>" + b"<div>" * 50_000 + b"the text at the bottom of the well" + b"</div>" * 50_000
    assert extractors["resiliparse"].try_extract(deep) == Rejected(
        "too_deep", "elements nested deeper than max_depth 512"
    )
    assert isinstance(extractors["trafilatura"].try_extract(deep), Extracted | Rejected)
    nested = b"<html><body>" + b"<div>" * 300 + b"A paragraph of text deep in the page, but no deeper than browsers go."
    assert extractors["resiliparse"].extract(nested) is not None


def test_extractor_names_library_and_version(extractors):
    page = make_page("en", random.Random(1), "news", "semantic")
    for name, extractor in extractors.items():
        expected = f"{name} {importlib.metadata.version(name)}"
        assert extractor.version == expected
        assert extractor.extract(page.html).extractor == expected


def test_settings_are_checked():
    with pytest.raises(pydantic.ValidationError):
        ExtractorSettings(name="readability")
    with pytest.raises(pydantic.ValidationError):
        ExtractorSettings(unknown_knob=True)
    with pytest.raises(pydantic.ValidationError, match="favor_precision"):
        ExtractorSettings(name="resiliparse", favor_precision=True)
    with pytest.raises(pydantic.ValidationError, match="max_link_density"):
        ExtractorSettings(name="trafilatura", max_link_density=0.5)
    assert ExtractorSettings(name="trafilatura", include_comments=True).include_comments


def test_pages_are_deterministic():
    a, b = make_pages(40, seed=3), make_pages(40, seed=3)
    assert [p.html for p in a] == [p.html for p in b]
    assert make_pages(5, seed=4)[0].html != a[0].html
    assert {p.lang for p in make_pages(len(LANGS))} == set(LANGS)
