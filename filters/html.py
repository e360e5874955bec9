"""HTML → text for web crawls: the charset decision, the page's declared language, main-text extraction.

A WARC response body is bytes whose HTTP charset often lies (servers default to ISO-8859-1 or
UTF-8 whatever the page is), so `decode_html` decides from the bytes first and from the labels
second, and resolves labels the way browsers do (WHATWG Encoding Standard: "iso-8859-1" means
windows-1252, "gb2312" means GBK, "shift_jis" means Windows-31J).

`HtmlExtractor` runs resiliparse's main-content extraction (chatnoir-eu/chatnoir-resiliparse,
the extractor of DCLM's pool: Li et al., NeurIPS 2024) or trafilatura (Barbaresi, ACL 2021)
behind one settings model. The default is resiliparse plus a link-density line filter: on
generated pages with a known main text it matches trafilatura's F1 at several times the speed
(benchmarks/web.py). The work spent on one page is bounded (`max_bytes`, `max_depth`), and a
page without text says why (`Rejected.reason`), so a caller counts skips instead of losing them.
"""

from __future__ import annotations

import codecs
import html as html_lib
import importlib.metadata
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import detect_encoding, map_encoding_to_html5
from resiliparse.parse.html import HTMLTree

RejectReason = Literal["too_large", "binary", "not_html", "too_deep", "no_text", "error"]

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# WHATWG decoders are supersets of the Python codecs of the same name: Shift_JIS is Windows-31J,
# GBK is decoded as GB18030, Big5 includes HKSCS, EUC-KR is Windows-949 (encoding.spec.whatwg.org).
_SUPERSET = {"shift_jis": "cp932", "gbk": "gb18030", "big5": "big5hkscs", "euc_kr": "cp949", "iso8859-11": "cp874"}
# Multi-byte legacy encodings: bytes that decode cleanly under one are strong evidence for it,
# unlike single-byte code pages, under which nearly any bytes decode.
_MULTIBYTE = {"cp932", "euc_jp", "iso2022_jp", "gb18030", "big5hkscs", "cp949"}
_MOSTLY_UTF8 = 2  # bytes of valid multi-byte UTF-8 per invalid sequence that make a page UTF-8 with a few bad bytes
_PREFIX = 4096  # where <meta charset> and <html lang> are looked for (the HTML spec prescans 1024 bytes)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.+-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_.+-]+)""", re.I)
_HTML_LANG = re.compile(r"""<html\b[^>]*?\s(?:xml:)?lang\s*=\s*["']?\s*([^"'\s>]*)""", re.I)
_CONTENT_LANGUAGE = re.compile(
    r"""<meta\b(?=[^>]*http-equiv\s*=\s*["']?content-language)[^>]*content\s*=\s*["']?\s*([^"'>]*)""", re.I
)
_TITLE_OPEN = re.compile(r"<title\b[^>]*>", re.I)
_TITLE_CLOSE = re.compile(r"</title\s*>", re.I)
_TAG = re.compile(r"<[a-zA-Z!/?]")
# The mimesniff "binary data bytes": a text resource never has them in its first bytes
# (mimesniff.spec.whatwg.org, rules for distinguishing if a resource is text or binary).
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
_SNIFF_BYTES = 1445
_ANY_TAG = re.compile(r"<[^>]*>")
_LINK = re.compile(r"<a\b[^>]*>(.*?)</a>", re.S)


def python_codec(label: str | None) -> str | None:
    """The Python codec that decodes what a browser decodes for this charset label (or Python codec name)."""
    if not label:
        return None
    label = label.strip().strip("\"'")
    name = map_encoding_to_html5(label, fallback_utf8=False) or label
    if name == "replacement":  # WHATWG's label for encodings browsers refuse (ISO-2022-KR, HZ...)
        return None
    try:
        info = codecs.lookup(_SUPERSET.get(name, name))
    except LookupError:
        return None
    return info.name if info._is_text_encoding else None  # not "base64", "zip" and other bytes codecs


def meta_charset(head: bytes) -> str | None:
    """The charset a document declares in its first bytes (<meta charset>, http-equiv, <?xml encoding>)."""
    found = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return found.group(1).decode("ascii", "replace") if found else None


def _decodes(body: bytes, codec: str) -> bool:
    # final=False accepts a character cut off at the end (a truncated WARC payload).
    try:
        codecs.getincrementaldecoder(codec)().decode(body, final=False)
    except UnicodeDecodeError:
        return False
    return True


def decode_html(body: bytes, declared_charset: str | None) -> tuple[str, str]:
    """(text, codec used). Never raises: undecodable bytes become U+FFFD.

    Evidence in order of strength, each used only if the bytes decode cleanly under it: a BOM;
    UTF-8 (legacy text is almost never valid UTF-8); a multi-byte label, then a multi-byte
    detection (Shift_JIS, GBK or Big5 bytes rarely decode under another multi-byte charset);
    a specific single-byte label, the page's <meta> before the HTTP header (the server's
    charset is site-wide); then uchardet, which also overrules a bare "iso-8859-1"/"windows-1252",
    the usual server default. Measured on generated pages: benchmarks/web.py.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, "replace"), codec
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data":  # a truncated record cut a character in two
            return body.decode("utf-8", "replace"), "utf-8"
    text = body.decode("utf-8", "replace")
    # A UTF-8 page with a few stray legacy bytes (an old include, a pasted comment) is still UTF-8:
    # bytes beyond one per character come from valid multi-byte sequences, which legacy text
    # forms only by chance (fewer than one per invalid sequence even in GBK or Shift_JIS).
    if len(body) - len(text) >= _MOSTLY_UTF8 * text.count("\ufffd"):
        return text, "utf-8"
    labels = []
    for label in (meta_charset(body[:_PREFIX]), declared_charset):
        codec = python_codec(label)
        # UTF-8 failed above; UTF-16 without a BOM is taken from no label (WHATWG's prescan does the same).
        if codec and not codec.startswith("utf") and codec not in labels and _decodes(body, codec):
            labels.append(codec)
    detected = python_codec(detect_encoding(body, html5_compatible=True))
    detected = detected if detected and not detected.startswith("utf") and _decodes(body, detected) else None
    ranked = [
        *(c for c in labels if c in _MULTIBYTE),
        *([detected] if detected in _MULTIBYTE else []),
        *(c for c in labels if c != "cp1252"),
        *([detected] if detected else []),
        *labels,
    ]
    codec = ranked[0] if ranked else "cp1252"
    return body.decode(codec, "replace"), codec


def html_lang(html: str) -> str | None:
    """The language the page declares: <html lang> (or xml:lang), else <meta http-equiv=content-language>."""
    head = html[:_PREFIX]
    for pattern in (_HTML_LANG, _CONTENT_LANGUAGE):
        found = pattern.search(head)
        if found:
            value = found.group(1).split(",")[0].strip()
            if value:
                return value
    return None


def html_title(html: str) -> str | None:
    """The <title>, unescaped and on one line, or None."""
    opening = _TITLE_OPEN.search(html, 0, 200_000)
    closing = opening and _TITLE_CLOSE.search(html, opening.end(), opening.end() + 4096)
    if not closing:
        return None
    title = " ".join(html_lib.unescape(html[opening.end() : closing.start()]).split())
    return title or None


def _tidy(text: str) -> str:
    """One paragraph per line: trailing white space and empty lines go, indentation (code) stays."""
    return "\n".join(line for line in (raw.rstrip() for raw in text.split("\n")) if line.strip())


class ExtractorSettings(BaseModel):
    """Which extractor and how; the defaults are the measured best (benchmarks/web.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Literal["trafilatura", "resiliparse"] = "resiliparse"
    # Bodies over this are rejected ("too_large"), not trimmed: a cut page loses whatever came
    # after the cut and keeps the markup before it. Common Crawl cuts payloads at 1 MiB (5 MiB
    # planned), so its records always fit; extraction time grows with the size, so this bounds it.
    max_bytes: int = Field(default=5 * 2**20, gt=0)
    # Less main text than this (characters, white space not counted) is "no_text": what is left
    # of a page without an article is a menu label, a section name or "page not found".
    min_chars: int = Field(default=25, ge=1)
    include_comments: bool = False  # user comments below an article (both extractors)
    # trafilatura only
    favor_precision: bool = False
    favor_recall: bool = False
    include_tables: bool = True
    no_fallback: bool = False  # trafilatura's fast mode: skip the readability/jusText fallbacks
    deduplicate: bool = False
    # resiliparse only
    main_content: bool = True
    list_bullets: bool = False
    alt_texts: bool = False
    post_meta: bool = False  # article bylines and dates
    # Drop output lines whose text is mostly link text (menus, headline lists, tag clouds, "Reply"):
    # link density is the strongest shallow boilerplate feature (Kohlschütter et al., WSDM 2010,
    # whose decision tree splits at 0.33); resiliparse's heuristics do not use it. None: off.
    max_link_density: float | None = Field(default=0.33, gt=0, le=1)
    # Deeper documents are rejected ("too_deep"): resiliparse's main-content pass takes time
    # quadratic in the depth, and browsers stop nesting at 512 (Blink's
    # kMaximumHTMLParserDOMTreeDepth), so no page that renders needs more.
    max_depth: int = Field(default=512, ge=16)

    @model_validator(mode="after")
    def _own_knobs_only(self) -> ExtractorSettings:
        other = _RESILIPARSE_KNOBS if self.name == "trafilatura" else _TRAFILATURA_KNOBS
        wrong = sorted(other & self.model_fields_set)
        if wrong:
            raise ValueError(f"{', '.join(wrong)} do not apply to the {self.name} extractor")
        return self


_TRAFILATURA_KNOBS = {"favor_precision", "favor_recall", "include_tables", "no_fallback", "deduplicate"}
_RESILIPARSE_KNOBS = {"main_content", "list_bullets", "alt_texts", "post_meta", "max_link_density", "max_depth"}


@dataclass(frozen=True)
class Extracted:
    text: str  # main text, one paragraph per line
    title: str | None
    html_lang: str | None
    charset: str  # the codec the body was decoded with
    extractor: str  # library and version, e.g. "resiliparse 2.0.1"


@dataclass(frozen=True)
class Rejected:
    reason: RejectReason
    detail: str = ""


class HtmlExtractor:
    """Main text of one HTML body at a time; build one per worker and reuse it."""

    def __init__(self, settings: ExtractorSettings | None = None):
        self.settings = settings or ExtractorSettings()
        self.version = f"{self.settings.name} {importlib.metadata.version(self.settings.name)}"
        # An element deeper than max_depth matches this (lexbor checks at most max_depth parents per element).
        self._too_deep = "*" + " > *" * self.settings.max_depth

    def extract(self, body: bytes, *, url: str | None = None, declared_charset: str | None = None) -> Extracted | None:
        """The main text, or None when the page has none (`try_extract` says why)."""
        result = self.try_extract(body, url=url, declared_charset=declared_charset)
        return result if isinstance(result, Extracted) else None

    def try_extract(
        self, body: bytes, *, url: str | None = None, declared_charset: str | None = None
    ) -> Extracted | Rejected:
        """The main text, or why there is none: a reason a caller can count."""
        if len(body) > self.settings.max_bytes:
            return Rejected("too_large", f"{len(body)} bytes > max_bytes {self.settings.max_bytes}")
        sniff = body[:_SNIFF_BYTES]
        if not sniff.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and _BINARY_BYTES.search(sniff):
            return Rejected("binary", f"control bytes in the first {_SNIFF_BYTES} bytes")
        html, charset = decode_html(body, declared_charset)
        if not _TAG.search(html, 0, 65_536):
            return Rejected("not_html", "no tag in the first 64 KiB")
        try:
            if self.settings.name == "trafilatura":
                text = self._trafilatura(html, url)
            else:
                text = self._resiliparse(html)
        except Exception as error:  # one page must not stop a worker: count it instead
            return Rejected("error", f"{type(error).__name__}: {error}"[:200])
        if isinstance(text, Rejected):
            return text
        text = _tidy(text or "")
        chars = len("".join(text.split()))
        if chars < self.settings.min_chars:
            return Rejected("no_text", f"{chars} characters of text < min_chars {self.settings.min_chars}")
        return Extracted(text, html_title(html), html_lang(html), charset, self.version)

    def _trafilatura(self, html: str, url: str | None) -> str | None:
        import trafilatura  # noqa: PLC0415 - only the configured library is imported (trafilatura's import is slow)

        s = self.settings
        return trafilatura.extract(
            html,
            url=url,
            favor_precision=s.favor_precision,
            favor_recall=s.favor_recall,
            include_comments=s.include_comments,
            include_tables=s.include_tables,
            no_fallback=s.no_fallback,
            deduplicate=s.deduplicate,
        )

    def _resiliparse(self, html: str) -> str | Rejected:
        s = self.settings
        tree = HTMLTree.parse(html)
        if s.main_content and tree.document.query_selector(self._too_deep) is not None:
            return Rejected("too_deep", f"elements nested deeper than max_depth {s.max_depth}")
        options = {
            "main_content": s.main_content,
            "list_bullets": s.list_bullets,
            "alt_texts": s.alt_texts,
            "comments": s.include_comments,
            "post_meta": s.post_meta,
        }
        if s.max_link_density is None:
            return extract_plain_text(tree, preserve_formatting=True, **options)
        marked = extract_plain_text(tree, preserve_formatting="minimal_html", links=True, **options)
        return "\n".join(_drop_link_lines(marked, s.max_link_density))


def _drop_link_lines(marked: str, max_density: float) -> list[str]:
    """Plain-text lines of resiliparse's minimal-HTML output, without those mostly made of link text."""
    # resiliparse escapes text in minimal HTML, so every "<" left is markup and tags can be cut by pattern.
    lines = []
    for line in marked.split("\n"):
        text = _ANY_TAG.sub("", line)
        if "&" in text:
            text = html_lib.unescape(text)
        if not text.strip():
            continue
        if "<a" in line:
            linked = sum(len(html_lib.unescape(_ANY_TAG.sub("", m))) for m in _LINK.findall(line))
            if linked > max_density * len(text.strip()):
                continue
        lines.append(text)
    return lines
