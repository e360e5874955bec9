"""MediaWiki XML dumps (`*-pages-articles*.xml.bz2`, multistream or not): one record per article.

Reading. A dump is one `<mediawiki>` document (export schema 0.10/0.11,
https://www.mediawiki.org/xml/export-0.11.xsd): a `<siteinfo>` header (dbname, base URL,
namespace names), then one `<page>` element per page. The decompressed bytes are cut at the
`<page>` and `</page>` tags and each page is parsed on its own, so a malformed page costs that
page only (`malformed_page`), a page larger than `max_page_bytes` costs that page only and is
never held whole in memory (`too_large`), and bytes that end inside a page or without
`</mediawiki>` are a truncated file. Cutting at the tags is exact: the dump writer escapes every
`<` in titles and text, so those strings occur nowhere else.

Units. A dump is one unit, except a multistream dump with its index
(`…-multistream-index.txt.bz2`: lines `offset:page_id:title`, `offset` being the byte position
of the bz2 stream that holds the page; streams hold 100 pages each; see
https://en.wikipedia.org/wiki/Wikipedia:Database_download): its streams are grouped into units
of about `pages_per_unit` pages, each read with one seek and a bounded read and decompressed
stream by stream. Only the first stream holds `<siteinfo>`, so the launcher reads it and puts
what units need into them. A multistream dump whose index is missing or unreadable is read
whole as one unit (a bz2 reader decompresses concatenated streams), with a warning. Index files
matched by the paths are not read as dumps. A row is the page's position in its dump, the same
however the dump is split.

What is kept. Pages of `namespaces` (default: the main namespace). Counted as deliberately not
taken (expected): `namespace`, `redirect`, `content_model` (not wikitext), `text_deleted`
(suppressed revision), `disambiguation` (a `__DISAMBIG__` switch or one of
`disambiguation_templates`, https://www.mediawiki.org/wiki/Extension:Disambiguator), and
`empty_article` (no text after conversion). Counted as damage: `malformed_page`, `missing_text`,
`too_large`; and for the rest of a unit, `truncated_file` or `corrupt_file` (which includes an
index whose streams do not hold the pages it lists).

Conversion (`wikitext_to_text`) keeps what a reader sees of the article's own prose, close to
the Hugging Face `wikipedia` dataset builder's use of mwparserfromhell (huggingface/datasets,
datasets/wikipedia/wikipedia.py, `_parse_and_clean_wikicode`): section headings and list items
as lines, link labels, external link labels. It drops templates (their expansions are not in
the dump), references, tables, files, galleries, categories (the builder kept their names),
interlanguage links, behaviour switches, comments, math and other non-prose extension tags. A
linear pre-pass (`_preprocess`) removes templates, tables, comments and dropped tags and
neutralises unclosed markup before mwparserfromhell parses the rest: mwparserfromhell (like
wikitextparser) backtracks over the rest of the page for every construct left open, which is
quadratic (benchmarks/wikipedia.py measures both).
"""

from __future__ import annotations

import bisect
import bz2
import html
import logging
import posixpath
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import mwparserfromhell
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from mwparserfromhell.nodes import (
    Argument,
    Comment,
    ExternalLink,
    Heading,
    HTMLEntity,
    Tag,
    Template,
    Text,
    Wikilink,
)
from pydantic import BaseModel, ConfigDict, Field

from rootstock.errors import InputError
from rootstock.sources.files import CORRUPT, TRUNCATED, DamagedInput, as_pattern, open_input
from rootstock.sources.files import unit_file_mtime as file_mtime
from rootstock.sources.files import unit_file_name as unit_name
from rootstock.sources.records import RecordError

log = logging.getLogger(__name__)

# Wikimedia's $wgMaxArticleSize is 2048 KiB (https://www.mediawiki.org/wiki/Manual:$wgMaxArticleSize):
# no revision of a Wikimedia wiki is longer, so a longer page is damage or not a Wikimedia dump.
MAX_PAGE_BYTES = 2 << 20

# Template names (without namespace, any case) that mark a disambiguation page. Most wikis'
# templates add __DISAMBIG__, which the dump does not show (it holds the unexpanded wikitext).
DISAMBIGUATION_TEMPLATES: tuple[str, ...] = (
    "disambiguation",
    "disambig",
    "dab",
    "disamb",
    "hndis",
    "geodis",
    "täsmennyssivu",  # fi
    "homonymie",  # fr
    "desambiguación",  # es
    "desambiguação",  # pt
    "begriffsklärung",  # de
    "disambigua",  # it
    "dp",  # nl
    "trang định hướng",  # vi
    "توضيح",  # ar
    "消歧义",  # zh
    "消歧義",  # zh
)


class WikipediaOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Namespace numbers whose pages become records (0: articles).
    namespaces: list[int] = Field(default_factory=lambda: [0])
    # A multistream dump is split into units of about this many pages (whole bz2 streams).
    pages_per_unit: int = Field(5000, gt=0)
    # The multistream index of the (single) dump; default: derived from the dump's file name.
    index: str | None = None
    # Article URL prefix, e.g. "https://fi.wikipedia.org/wiki/"; default: from <siteinfo><base>.
    base_url: str | None = None
    # Wikitext longer than this (UTF-8 bytes) is `too_large`, and is not held whole in memory.
    max_page_bytes: int = Field(MAX_PAGE_BYTES, gt=0)
    skip_disambiguation: bool = True
    disambiguation_templates: list[str] = Field(default_factory=lambda: list(DISAMBIGUATION_TEMPLATES))
    # Namespace aliases the dump's <siteinfo> does not list (it lists one name per namespace):
    # links into them are dropped like file and category links. File links with a media file
    # extension are recognised without this.
    file_namespaces: list[str] = Field(default_factory=list)
    category_namespaces: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Wikitext → plain text

# Canonical namespace names, valid on every wiki beside its local names
# (https://www.mediawiki.org/wiki/Help:Namespaces).
CANONICAL_NAMESPACES: dict[str, int] = {
    "media": -2,
    "special": -1,
    "talk": 1,
    "user": 2,
    "user talk": 3,
    "project": 4,
    "project talk": 5,
    "file": 6,
    "image": 6,
    "file talk": 7,
    "image talk": 7,
    "mediawiki": 8,
    "mediawiki talk": 9,
    "template": 10,
    "template talk": 11,
    "help": 12,
    "help talk": 13,
    "category": 14,
    "category talk": 15,
}


@dataclass(frozen=True)
class WikiNames:
    """Namespace names of one wiki (casefolded, spaces for underscores), for classifying links."""

    namespaces: dict[str, int] = field(default_factory=lambda: dict(CANONICAL_NAMESPACES))
    files: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls, namespaces: tuple[tuple[int, str], ...] = (), files: list[str] = (), categories: list[str] = ()
    ) -> WikiNames:
        names = dict(CANONICAL_NAMESPACES)
        names.update({_norm(name): key for key, name in namespaces if name})
        file_names = {n for n, k in names.items() if k in (6, -2)} | {_norm(n) for n in files}
        category_names = {n for n, k in names.items() if k == 14} | {_norm(n) for n in categories}
        return cls(names, frozenset(file_names), frozenset(category_names))


def _norm(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).casefold()


# Extension tags (https://www.mediawiki.org/wiki/Parser_extension_tags) the pre-pass handles.
# Contents are not prose: dropped with the tag.
_DROP_OPAQUE = frozenset(
    {
        "math",
        "chem",
        "ce",
        "score",
        "timeline",
        "graph",
        "hiero",
        "templatedata",
        "mapframe",
        "maplink",
        "gallery",
        "imagemap",
        "inputbox",
        "categorytree",
        "charinsert",
    }
)
# Contents are wikitext that does not show in the article's body: dropped with the tag.
_DROP_WIKITEXT = frozenset({"ref", "references", "includeonly", "indicator"})
# Contents are literal text: kept as they are, hidden from the other passes.
_LITERAL = frozenset({"nowiki", "pre", "syntaxhighlight", "source"})
# Tags that only mark something: removed, contents kept.
_UNWRAP = frozenset({"noinclude", "onlyinclude", "section", "templatestyles"})
_EXT_TAG = re.compile(
    r"<!--|<(/?)(" + "|".join(sorted(_DROP_OPAQUE | _DROP_WIKITEXT | _LITERAL | _UNWRAP)) + r")(?=[\s/>])([^<>]*)>",
    re.IGNORECASE,
)
_BRACES = re.compile(r"\{\{+|\}\}+")
_LINK_BRACKETS = re.compile(r"\[\[|\]\]")
_URL_SCHEMES = "bitcoin:|ftp://|ftps://|geo:|git://|gopher://|http://|https://|irc://|ircs://|magnet:|mailto:|mms://|news:|nntp://|redis://|sftp://|sip:|sips:|sms:|ssh://|svn://|tel:|telnet://|urn:|worldwind://|xmpp:|//"
_EXT_LINK_OPEN = re.compile(r"(?<!\[)\[(?=" + _URL_SCHEMES + ")", re.IGNORECASE)
_NEXT_BRACKET = re.compile(r"[\[\]\n]")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)(?=[\s/>])([^<>]*)>")
# HTML tags MediaWiki allows in wikitext (includes/parser/Sanitizer.php); other `<name>` is text.
_HTML_TAGS = frozenset(
    [
        "abbr",
        "b",
        "bdi",
        "bdo",
        "big",
        "blockquote",
        "caption",
        "center",
        "cite",
        "code",
        "data",
        "dd",
        "del",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "font",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "i",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "poem",
        "q",
        "rb",
        "rp",
        "rt",
        "rtc",
        "ruby",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "table",
        "td",
        "th",
        "time",
        "tr",
        "tt",
        "u",
        "ul",
        "var",
        "thead",
        "tbody",
        "tfoot",
    ]
)
_VOID_TAGS = {"br": "\n", "hr": "\n", "wbr": "", "meta": "", "link": "", "img": ""}
# Tags whose end tag is optional: a line break for the block ones, a space between cells.
_OPEN_ENDED = {"li": "\n", "dt": "\n", "dd": "\n", "p": "\n", "tr": "\n", "td": " ", "th": " "}
_KNOWN_TAGS = _HTML_TAGS | set(_VOID_TAGS) | set(_OPEN_ENDED)
# Markup characters made literal by the pre-pass: control characters, which XML text cannot
# hold and the parser reads as text, put back after the walk. (An HTML entity would do, but the
# parser makes a node of each, and a hostile page has a million.)
_LITERAL_MARK = {"{": "\x02", "[": "\x03", "<": "\x04"}
_UNMARK = str.maketrans({v: k for k, v in _LITERAL_MARK.items()})
_CONTROL = dict.fromkeys(range(5))  # the marks above and "\x00N\x01" (literal blocks, headings): not input
_LIST_MARKS = re.compile(r"^[*#:]+(?!;)", re.MULTILINE)
_HEADING_LINE = re.compile(r"^\s*=.*=\s*$")

# Tags whose contents are dropped by the walker (HTML tables reach it; the rest are a safety net).
_WALK_DROP = frozenset({"table", "caption", "thead", "tbody", "tfoot"}) | _DROP_OPAQUE | _DROP_WIKITEXT
_MEDIA_EXTENSION = re.compile(
    r"\.(?:jpe?g|png|gif|svg|tiff?|webp|xcf|ogg|og[av]|opus|webm|mp3|wav|flac|midi?|pdf|djvu|stl)\s*$", re.IGNORECASE
)
# Language-edition prefixes: [[fr:Helsinki]] links the article in another language and shows
# nowhere in the text. The interwiki map is not in the dump; these are codes' shapes.
_LANGUAGE_PREFIX = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*|simple")
_QUOTES = re.compile(r"'{2,}")
_SWITCH = re.compile(r"__([^\W_]+)__")
_SPACES = re.compile(r"[ \t\u00a0]{2,}")
_EMPTY_PARENS = re.compile(r" \(\s*[,;:]?\s*\)")


def _quotes(match: re.Match) -> str:
    """'' and ''' mark italic and bold; 4 is an apostrophe then bold, >5 keeps the extra
    apostrophes (MediaWiki's Parser::doQuotes)."""
    n = len(match.group(0))
    return "'" if n == 4 else "'" * (n - 5) if n > 5 else ""


def _switch(match: re.Match) -> str:
    return "" if match.group(1).isupper() else match.group(0)


def _preprocess(text: str) -> tuple[str, list[str]]:
    """Wikitext with templates, tables, comments and dropped tags removed and every construct
    mwparserfromhell would have to backtrack over made literal; literal blocks (<nowiki>,
    <pre>…) are returned apart, their places marked "\\x00N\\x01" (XML text holds no such bytes).

    Hand-written: neither parser bounds its work on unclosed constructs (quadratic), and each
    pass here is one left-to-right scan with a stack, as MediaWiki's preprocessor is.
    """
    text = text.translate(_CONTROL)
    literal: list[str] = []
    text = _ext_tags(text, literal)
    text = _templates(text)
    text = _tables(text)
    text = _LIST_MARKS.sub("", text)  # list and indent markers show no text (`;` lines go to the parser)
    text = _link_brackets(text)
    text = _external_brackets(text)
    text = _html_tags(text)
    return text, literal


def _ext_tags(text: str, literal: list[str]) -> str:
    out: list[str] = []
    i = 0
    no_close_after: dict[str, int] = {}  # no end tag of NAME at or after this position
    while True:
        m = _EXT_TAG.search(text, i)
        if m is None:
            out.append(text[i:])
            break
        out.append(text[i : m.start()])
        if m.group(0) == "<!--":
            end = text.find("-->", m.end())
            if end < 0:  # an unclosed comment hides the rest of the page, as in MediaWiki
                break
            i = end + 3
            continue
        closing, name, attrs = m.group(1), m.group(2).lower(), m.group(3)
        i = m.end()
        if closing or attrs.rstrip().endswith("/") or name in _UNWRAP:
            continue  # a stray end tag, an empty element (<ref name="a" />), or a marker
        close = None
        if i < no_close_after.get(name, len(text) + 1):
            close = _end_tag(name).search(text, i)
            if close is None:
                no_close_after[name] = i
        if close is None:  # unclosed: MediaWiki shows a literal tag as text; the others go
            if name in _LITERAL:
                out.append(_LITERAL_MARK["<"] + m.group(0)[1:])
            continue
        if name in _LITERAL:
            literal.append(text[m.start() : close.end()])
            out.append(f"\x00{len(literal) - 1}\x01")
        i = close.end()
    return "".join(out)


_END_TAGS: dict[str, re.Pattern] = {}


def _end_tag(name: str) -> re.Pattern:
    if name not in _END_TAGS:
        _END_TAGS[name] = re.compile(r"</" + name + r"\s*>", re.IGNORECASE)
    return _END_TAGS[name]


def _templates(text: str) -> str:
    """Removes {{templates}}, {{#parser functions:}} and {{{arguments}}}, matching brace runs
    as MediaWiki's preprocessor does (three braces each side: an argument, else two: a
    template); braces left open become literal text."""
    if "{{" not in text:
        return text
    stack: list[list[int]] = []  # [position of the run, braces left in it]
    spans: list[tuple[int, int]] = []
    for m in _BRACES.finditer(text):
        if m.group(0)[0] == "{":
            stack.append([m.start(), len(m.group(0))])
            continue
        pos, left = m.start(), len(m.group(0))
        while left >= 2 and stack:
            top = stack[-1]
            k = 3 if top[1] >= 3 and left >= 3 else 2
            top[1] -= k
            spans.append((top[0] + top[1], pos + k))
            pos, left = pos + k, left - k
            if top[1] < 2:
                stack.pop()
    edits = _outermost(spans)
    edits += [(start, start + count, _LITERAL_MARK["{"] * count) for start, count in stack]
    return _apply(text, edits)


def _outermost(spans: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    end = -1
    for start, stop in sorted(spans):
        if start >= end:
            out.append((start, stop, ""))
            end = stop
    return out


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    out, i = [], 0
    for start, stop, replacement in sorted(edits):
        out.append(text[i:start])
        out.append(replacement)
        i = stop
    out.append(text[i:])
    return "".join(out)


def _tables(text: str) -> str:
    """Removes {| tables |} (lines from `{|` to `|}`). MediaWiki closes an unclosed table at
    the end of the page; here it ends at the next heading, so a stray `{|` costs a section."""
    if "{|" not in text:
        return text
    out, depth = [], 0
    for line in text.split("\n"):
        if line.lstrip(" \t:").startswith("{|"):
            depth += 1
        elif depth and line.lstrip().startswith("|}"):
            depth -= 1
            if not depth:
                out.append(line.lstrip()[2:])  # what follows the table on its last line
        elif depth and _HEADING_LINE.match(line):
            depth = 0
            out.append(line)
        elif not depth:
            out.append(line)
    return "\n".join(out)


def _link_brackets(text: str) -> str:
    """`[[` never closed by `]]` becomes literal text."""
    if "[[" not in text:
        return text
    stack: list[int] = []
    for m in _LINK_BRACKETS.finditer(text):
        if m.group(0) == "[[":
            stack.append(m.start())
        elif stack:
            stack.pop()
    return _apply(text, [(p, p + 1, _LITERAL_MARK["["]) for p in stack])


def _external_brackets(text: str) -> str:
    """`[http://…` without a `]` before the next bracket or line end is text (external links
    cannot span lines)."""
    edits = []
    for m in _EXT_LINK_OPEN.finditer(text):
        nxt = _NEXT_BRACKET.search(text, m.end())
        if nxt is None or nxt.group(0) != "]":
            edits.append((m.start(), m.start() + 1, _LITERAL_MARK["["]))
    return _apply(text, edits) if edits else text


def _html_tags(text: str) -> str:
    """Keeps the HTML tags MediaWiki allows, paired; an unpaired start or end tag is removed
    (MediaWiki closes formatting at the end), line breaks and optional-end tags become line
    breaks, and any other `<` is text."""
    if "<" not in text:
        return text
    edits: list[tuple[int, int, str]] = []
    open_tags: dict[str, list[tuple[int, int]]] = {}
    i = text.find("<")
    while i >= 0:
        m = _TAG.match(text, i)
        if m is None or m.group(2).lower() not in _KNOWN_TAGS:
            edits.append((i, i + 1, _LITERAL_MARK["<"]))
            i = text.find("<", i + 1)
            continue
        closing, name, attrs = m.group(1), m.group(2).lower(), m.group(3)
        if name in _VOID_TAGS or name in _OPEN_ENDED:
            edits.append((m.start(), m.end(), "" if closing else _VOID_TAGS.get(name, _OPEN_ENDED.get(name))))
        elif closing:
            if open_tags.get(name):
                open_tags[name].pop()
            else:
                edits.append((m.start(), m.end(), ""))
        elif not attrs.rstrip().endswith("/"):
            open_tags.setdefault(name, []).append((m.start(), m.end()))
        i = text.find("<", m.end())
    edits += [(start, end, "") for tags in open_tags.values() for start, end in tags]
    return _apply(text, edits) if edits else text


def _restore(text: str, literal: list[str]) -> str:
    if not literal:
        return text
    return re.sub(r"\x00(\d+)\x01", lambda m: literal[int(m.group(1))], text)


class _Walker:
    """Emits the visible text of mwparserfromhell nodes; headings become "\\x00<level>title"
    lines for the section pass of `_finish`."""

    def __init__(self, names: WikiNames):
        self.names, self.out = names, []

    def at_line_start(self) -> bool:
        for piece in reversed(self.out):
            if piece:
                return piece.endswith("\n")
        return True

    def walk(self, nodes) -> None:
        out = self.out
        for node in nodes:
            if isinstance(node, Text):
                value = node.value
                if "''" in value:
                    value = _QUOTES.sub(_quotes, value)
                out.append(value)
            elif isinstance(node, Wikilink):
                self.link(node)
            elif isinstance(node, Tag):
                self.tag(node)
            elif isinstance(node, HTMLEntity):
                out.append(node.normalize())
            elif isinstance(node, ExternalLink):
                if not node.brackets:
                    out.append(str(node.url))
                elif node.title:
                    self.walk(node.title.nodes)
            elif isinstance(node, Heading):
                sub = _Walker(self.names)
                sub.walk(node.title.nodes)
                title = " ".join("".join(sub.out).split())
                out.append(f"\n\x00{node.level}{title}")
            elif isinstance(node, (Template, Argument, Comment)):
                continue  # the pre-pass removed them; a safety net
            else:
                out.append(str(node))

    def link(self, node: Wikilink) -> None:
        title = str(node.title).strip()
        kind = link_kind(title, self.names)
        if kind != "link":
            return
        if node.text is not None and str(node.text).strip():
            self.walk(node.text.nodes)
        else:
            self.out.append(html.unescape(title.lstrip(":")))

    def tag(self, node: Tag) -> None:
        name = str(node.tag).strip().lower()
        if name in _WALK_DROP:
            return
        if node.wiki_markup in ("*", "#", ";", ":"):  # a list item or indent marker
            if not self.at_line_start():
                self.out.append("\n")
            return
        if name in _LITERAL:
            body = str(node.contents) if node.contents is not None else ""
            self.out.append(html.unescape(body) if name in ("nowiki", "pre") else body)
            return
        if node.contents is not None:
            self.walk(node.contents.nodes)


def link_kind(title: str, names: WikiNames) -> str:
    """ "file", "category", "interlanguage" (not shown in the text) or "link" (its label is)."""
    colon = title.startswith(":")
    prefix, sep, rest = title.lstrip(":").partition(":")
    if not sep or colon:  # [[:File:x]] and [[:Category:x]] are ordinary links to those pages
        return "link"
    key = _norm(prefix)
    namespace = names.namespaces.get(key)
    if namespace in (6, -2) or key in names.files:
        return "file"
    if namespace == 14 or key in names.categories:
        return "category"
    if namespace is None:
        if _MEDIA_EXTENSION.search(rest):  # an alias of File: the dump lists one name per namespace
            return "file"
        if _LANGUAGE_PREFIX.fullmatch(prefix.strip()):
            return "interlanguage"
    return "link"


def _finish(raw: str) -> str:
    """Lines trimmed, runs of spaces collapsed, sections with no text dropped with their
    heading, one blank line between blocks and none between a heading and its text."""
    items: list[tuple[int, str]] = []  # (heading level or 0, text)
    for line in raw.split("\n"):
        if line.startswith("\x00"):
            items.append((int(line[1]), line[2:].strip()))
            continue
        if "__" in line:
            line = _SWITCH.sub(_switch, line)
        line = _SPACES.sub(" ", line).strip()
        if " (" in line:
            line = _EMPTY_PARENS.sub("", line)
        items.append((0, line))
    keep = [True] * len(items)
    for i, (level, _) in enumerate(items):
        if level:
            j, has_text = i + 1, False
            while j < len(items) and not (items[j][0] and items[j][0] <= level):
                if not items[j][0] and items[j][1]:
                    has_text = True
                    break
                j += 1
            keep[i] = has_text and bool(items[i][1])
    lines: list[str] = []
    after_heading = False
    for (level, line), kept in zip(items, keep, strict=True):
        if not kept:
            continue
        if level and lines and lines[-1]:
            lines.append("")  # a heading starts a block, and its text follows on the next line
        if line or (lines and lines[-1] and not after_heading):
            lines.append(line)
            after_heading = bool(level)
    return "\n".join(lines).strip()


def wikitext_to_text(wikitext: str, names: WikiNames | None = None) -> str:
    """The plain text a reader sees of an article's own prose (see the module docstring)."""
    text, literal = _preprocess(wikitext)
    code = mwparserfromhell.parse(_restore(text, literal), skip_style_tags=True)
    walker = _Walker(names or WikiNames.build())
    walker.walk(code.nodes)
    return _finish("".join(walker.out).translate(_UNMARK))


def disambiguation_pattern(templates: list[str]) -> re.Pattern:
    """Matches a disambiguation template call (first letter and spaces/underscores as MediaWiki
    normalises titles; the whole name case-insensitively) or the __DISAMBIG__ switch."""
    names = "|".join(r"[ _]+".join(re.escape(part) for part in name.split()) for name in templates if name.strip())
    alternatives = [r"__DISAMBIG__"]
    if names:
        alternatives.append(r"\{\{\s*(?:[^|{}:]*:)?\s*(?:" + names + r")\s*(?:\||\}\})")
    return re.compile("|".join(alternatives), re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# Dump files

_INDEX_MARK = "-multistream-index"
_DUMP_NAME = re.compile(r"^([a-z0-9_]+)-(\d{8})-")
_FAMILIES = ("wiktionary", "wikibooks", "wikinews", "wikiquote", "wikisource", "wikiversity", "wikivoyage", "wiki")
_NOT_A_LANGUAGE = frozenset(
    {"commons", "meta", "species", "wikidata", "wikifunctions", "mediawiki", "incubator", "sources", "foundation"}
    | {"outreach", "test", "test2", "beta", "donate", "login", "strategy", "usability", "ten", "nostalgia"}
)
# Wikis whose subdomain is not their language's code (https://meta.wikimedia.org/wiki/Special_language_codes).
_LANGUAGE_OF_WIKI = {
    "simple": "en",
    "als": "gsw",
    "bat-smg": "sgs",
    "be-x-old": "be-tarask",
    "fiu-vro": "vro",
    "roa-rup": "rup",
    "zh-classical": "lzh",
    "zh-min-nan": "nan",
    "zh-yue": "yue",
    "no": "nb",
}


def wiki_language(dbname: str | None) -> str | None:
    """The language code of a wiki's dbname ("fiwiki" → "fi"); None for multilingual wikis."""
    if not dbname:
        return None
    for family in _FAMILIES:
        if dbname.endswith(family) and len(dbname) > len(family):
            code = dbname[: -len(family)].replace("_", "-")
            return None if code in _NOT_A_LANGUAGE else _LANGUAGE_OF_WIKI.get(code, code)
    return None


def index_path(dump: str) -> str | None:
    """The multistream index next to a multistream dump, by the dumps' naming
    (`…-multistream.xml.bz2` → `…-multistream-index.txt.bz2`, and part files alike)."""
    directory, name = posixpath.split(dump)
    if "-multistream" not in name or _INDEX_MARK in name or ".xml" not in name:
        return None
    name = name.replace("-multistream", _INDEX_MARK, 1).replace(".xml", ".txt", 1)
    return posixpath.join(directory, name) if directory else name


def article_url(base: str | None, title: str) -> str | None:
    """The article's URL: MediaWiki's title form (spaces as underscores) percent-encoded as
    wfUrlencode does (includes/GlobalFunctions.php keeps ;@$!*(),/~: as they are)."""
    if not base:
        return None
    return base + quote(title.replace(" ", "_"), safe=";@$!*(),/~:")


def _article_base(base: str | None) -> str | None:
    """<siteinfo><base> is the main page's URL; articles share its path up to the title."""
    if not base:
        return None
    at = base.find("/wiki/")
    return base[: at + 6] if at >= 0 else base.rsplit("/", 1)[0] + "/"


@dataclass(frozen=True)
class Site:
    """What a unit needs from the dump's <siteinfo>: a plain picklable value."""

    dbname: str | None = None
    base: str | None = None  # article URL prefix
    namespaces: tuple[tuple[int, str], ...] = ()

    def as_tuple(self) -> tuple:
        return (self.dbname, self.base, self.namespaces)


def parse_siteinfo(data: bytes) -> Site:
    """The <siteinfo> element (bytes from `<siteinfo>` to `</siteinfo>`)."""
    elem = ET.fromstring(data)
    namespaces = []
    for ns in elem.iter():
        if _local(ns.tag) == "namespace" and ns.get("key", "").lstrip("-").isdigit():
            namespaces.append((int(ns.get("key")), (ns.text or "").strip()))
    texts = {_local(child.tag): (child.text or "").strip() for child in elem}
    return Site(texts.get("dbname") or None, _article_base(texts.get("base")), tuple(namespaces))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


_PAGE_OPEN, _PAGE_CLOSE, _END = b"<page>", b"</page>", b"</mediawiki>"
_HEAD_BYTES = 1 << 16  # kept of a page too large to hold: its title and ids are near the start
_HEADER_LIMIT = 16 << 20  # a dump header (<mediawiki> and <siteinfo>) is a few kB
_TITLE = re.compile(rb"<title>([^<]*)</title>")
_ID = re.compile(rb"<id>(\d+)</id>")


@dataclass
class _Chunk:
    kind: str  # header | page | unterminated | too_large | stray | cut
    offset: int  # in the decompressed bytes
    data: bytes  # the page, or its first bytes (unterminated, too_large, cut), or the stray bytes
    size: int = 0


class _PageCutter:
    """Cuts a dump's decompressed bytes at its `<page>` and `</page>` tags, holding at most
    `limit` bytes of a page: the rest of a larger page is skipped, and reported with its first
    bytes (where its title and id are).

    Hand-written rather than an XML pull parser: a parser stops at the first malformed byte,
    and builds a whole <text> element before its size can be seen.
    """

    def __init__(self, limit: int, header: bool):
        self.buf = bytearray()
        self.base = 0  # offset of buf[0] in the bytes fed
        self.limit = limit
        self.state = "outside"  # outside | page | skip
        self.scan = self.page_start = self.skipped = 0
        self.head = b""
        self.header_done = not header
        self.seen_end = False

    def feed(self, data: bytes) -> Iterator[_Chunk]:
        self.buf += data
        buf = self.buf
        while True:
            if self.state == "outside":
                at = buf.find(_PAGE_OPEN)
                if at < 0:
                    if len(buf) > _HEADER_LIMIT:
                        yield from self._outside(len(buf) - len(_PAGE_OPEN))
                    return
                yield from self._outside(at)
                self.state, self.page_start, self.scan = "page", self.base, len(_PAGE_OPEN)
            elif self.state == "page":
                end = buf.find(_PAGE_CLOSE, self.scan)
                nested = buf.find(_PAGE_OPEN, len(_PAGE_OPEN), end if end >= 0 else len(buf))
                if nested >= 0:  # no </page> before the next page starts
                    yield _Chunk("unterminated", self.page_start, bytes(buf[: min(nested, _HEAD_BYTES)]))
                    self._drop(nested)
                    self.page_start, self.scan = self.base, len(_PAGE_OPEN)
                elif end >= 0:
                    end += len(_PAGE_CLOSE)
                    yield _Chunk("page", self.page_start, bytes(buf[:end]))
                    self._drop(end)
                    self.state = "outside"
                elif len(buf) > self.limit:
                    self.state, self.head, self.skipped = "skip", bytes(buf[:_HEAD_BYTES]), 0
                else:
                    self.scan = max(len(_PAGE_OPEN), len(buf) - len(_PAGE_CLOSE))
                    return
            else:  # skip: drop a too-large page's bytes up to its end
                end, nested = buf.find(_PAGE_CLOSE), buf.find(_PAGE_OPEN, 1)
                if end < 0 and nested < 0:
                    n = max(len(buf) - len(_PAGE_CLOSE), 0)
                    self.skipped += n
                    self._drop(n)
                    return
                stop = nested if nested >= 0 and (end < 0 or nested < end) else end + len(_PAGE_CLOSE)
                self.skipped += stop
                self._drop(stop)
                yield _Chunk("too_large", self.page_start, self.head, self.skipped)
                self.state = "outside"

    def _drop(self, n: int) -> None:
        del self.buf[:n]
        self.base += n

    def _outside(self, n: int) -> Iterator[_Chunk]:
        """Bytes between pages: the header before the first, whitespace and the end tag after."""
        data = bytes(self.buf[:n])
        if not self.header_done:
            self.header_done = True
            self.seen_end = _END in data  # a dump of no pages
            yield _Chunk("header", self.base, data)
        elif data.strip():
            if _END in data:
                self.seen_end = True
                data = data.replace(_END, b"", 1)
            if data.strip():
                yield _Chunk("stray", self.base, data[:_HEAD_BYTES])
        self._drop(n)

    def close(self) -> Iterator[_Chunk]:
        """What is left when the bytes end: the trailer, or the page they end in."""
        if self.state == "outside":
            yield from self._outside(len(self.buf))
        else:
            yield _Chunk("cut", self.page_start, self.head if self.state == "skip" else bytes(self.buf[:_HEAD_BYTES]))


@dataclass
class _Wiki:
    """Everything constant while reading one dump."""

    path: str
    site: Site
    options: WikipediaOptions
    names: WikiNames = field(init=False)
    lang: str | None = field(init=False)
    dump_date: str | None = field(init=False)
    base: str | None = field(init=False)
    disambiguation: re.Pattern | None = field(init=False)

    def __post_init__(self):
        options, site = self.options, self.site
        self.names = WikiNames.build(site.namespaces, options.file_namespaces, options.category_namespaces)
        name_match = _DUMP_NAME.match(posixpath.basename(self.path))
        dbname = site.dbname or (name_match.group(1) if name_match else None)
        self.site = Site(dbname, site.base, site.namespaces)
        self.lang = wiki_language(dbname)
        self.dump_date = None
        if name_match:
            d = name_match.group(2)
            self.dump_date = f"{d[:4]}-{d[4:6]}-{d[6:]}"
        self.base = options.base_url or site.base
        self.disambiguation = (
            disambiguation_pattern(options.disambiguation_templates) if options.skip_disambiguation else None
        )

    def namespace_of(self, title: str) -> int:
        prefix, sep, _ = title.partition(":")
        return self.names.namespaces.get(_norm(prefix), 0) if sep else 0


def _identity(head: bytes) -> tuple[str | None, str | None]:
    """(page id, title) read from a page's first bytes, for naming a page that cannot be parsed."""
    title = _TITLE.search(head)
    page_id = _ID.search(head)
    return (
        page_id.group(1).decode() if page_id else None,
        html.unescape(title.group(1).decode("utf-8", "replace")) if title else None,
    )


def _named(head: bytes, place: str) -> str:
    page_id, title = _identity(head)
    if page_id and title is not None:
        return f"page {page_id} ({title}) {place}"
    if title is not None:
        return f"page ({title}) {place}"
    return f"page {place}"


def page_record(data: bytes, wiki: _Wiki, place: str) -> tuple[str, dict | RecordError]:
    """(where, record or the counted reason there is none) for one <page> element's bytes."""
    options = wiki.options
    try:
        elem = ET.fromstring(data)
    except ET.ParseError as err:
        where = _named(data[:_HEAD_BYTES], place)
        return where, RecordError(where, "malformed_page", f"the page's XML is malformed ({err})")
    title = elem.findtext("title")
    page_id = (elem.findtext("id") or "").strip()
    revisions = elem.findall("revision")
    if title is None or not page_id.isdigit() or not revisions:
        where = _named(data[:_HEAD_BYTES], place)
        missing = [
            n
            for n, ok in (("<title>", title is not None), ("<id>", page_id.isdigit()), ("<revision>", revisions))
            if not ok
        ]
        return where, RecordError(where, "malformed_page", f"the page has no valid {', '.join(missing)}")
    where = f"page {page_id} ({title})"
    ns_text = (elem.findtext("ns") or "").strip()
    ns = int(ns_text) if ns_text.lstrip("-").isdigit() else wiki.namespace_of(title)
    if ns not in options.namespaces:
        return where, RecordError(
            where, "namespace", f"namespace {ns} is not read (namespaces: {options.namespaces})", expected=True
        )
    revision = revisions[-1]  # a history dump lists them oldest first
    text_elem = revision.find("text")
    redirect = elem.find("redirect")
    if redirect is not None:
        target = redirect.get("title") or ""
        return where, RecordError(where, "redirect", f"a redirect to {target!r}", expected=True)
    model = (revision.findtext("model") or "wikitext").strip()
    if model != "wikitext":
        return where, RecordError(where, "content_model", f"content model {model!r}, not wikitext", expected=True)
    if text_elem is None:
        return where, RecordError(where, "missing_text", "the revision has no <text> element")
    if text_elem.get("deleted") is not None:
        return where, RecordError(where, "text_deleted", "the revision's text is suppressed in the dump", expected=True)
    wikitext = text_elem.text or ""
    size = len(wikitext.encode("utf-8"))
    if size > options.max_page_bytes:
        return where, _too_large(where, size, options)
    if wikitext[:20].lstrip().upper().startswith("#REDIRECT"):
        return where, RecordError(
            where, "redirect", "a redirect (#REDIRECT) without a <redirect> element", expected=True
        )
    if wiki.disambiguation is not None and wiki.disambiguation.search(wikitext):
        return where, RecordError(where, "disambiguation", "a disambiguation page", expected=True)
    text = wikitext_to_text(wikitext, wiki.names)
    if not text:
        return where, RecordError(where, "empty_article", "no text left after removing markup", expected=True)
    revision_id = (revision.findtext("id") or "").strip()
    origin = {
        "kind": "wikipedia",
        "wiki": wiki.site.dbname,
        "page_id": int(page_id),
        "revision_id": int(revision_id) if revision_id.isdigit() else None,
        "revision_timestamp": (revision.findtext("timestamp") or "").strip() or None,
        "title": title,
    }
    return where, {
        "text": text,
        "page_id": int(page_id),
        "url": article_url(wiki.base, title),
        "lang": wiki.lang,
        "dump_date": wiki.dump_date,
        "title": title,
        "_origin": origin,
    }


def _too_large(where: str, size: int, options: WikipediaOptions, xml: bool = False) -> RecordError:
    what = f"the page's XML is {size} bytes" if xml else f"the wikitext is {size} bytes"
    return RecordError(where, "too_large", f"{what}; max_page_bytes is {options.max_page_bytes}")


def _xml_limit(options: WikipediaOptions) -> int:
    """Bytes of a <page> element held at most: escaping makes XML up to 5x its text (`<` is
    `&lt;`), plus the page's other elements."""
    return 5 * options.max_page_bytes + _HEAD_BYTES


def _pages(
    chunks: Iterator[bytes],
    wiki_of,
    options: WikipediaOptions,
    *,
    first_row: int,
    header: bool,
    place,
    expect_end: bool,
) -> Iterator[tuple[int, str, dict | RecordError]]:
    """Rows of the pages in a dump's decompressed bytes. `wiki_of(header bytes or None)` gives
    the _Wiki; `place(offset)` says where an offset is, for pages that cannot be named."""
    cutter = _PageCutter(_xml_limit(options), header)
    wiki = None if header else wiki_of(None)
    row = first_row

    def rows(chunks_: Iterator[_Chunk]) -> Iterator[tuple[int, str, dict | RecordError]]:
        nonlocal wiki, row
        for chunk in chunks_:
            if chunk.kind == "header":
                wiki = wiki_of(chunk.data)
                continue
            if wiki is None:
                wiki = wiki_of(None)
            if chunk.kind == "page":
                where, item = page_record(chunk.data, wiki, place(chunk.offset))
                yield row, where, item
                row += 1
                continue
            where = _named(chunk.data, place(chunk.offset))
            if chunk.kind == "cut":
                raise DamagedInput(TRUNCATED, f"the XML ends inside the {where}: the file is truncated")
            if chunk.kind == "unterminated":
                item = RecordError(where, "malformed_page", "the page has no </page> before the next <page>")
            elif chunk.kind == "stray":
                where = f"bytes {place(chunk.offset)}"
                item = RecordError(
                    where, "malformed_page", f"bytes between pages that are not a page: {chunk.data[:80]!r}"
                )
            else:  # too_large
                item = _too_large(where, chunk.size, options, xml=True)
            yield row, where, item
            row += 1

    for data in chunks:
        yield from rows(cutter.feed(data))
    yield from rows(cutter.close())
    if not cutter.header_done:
        raise DamagedInput(CORRUPT, "not a MediaWiki XML dump (it is empty)")
    if expect_end and not cutter.seen_end:
        raise DamagedInput(TRUNCATED, "the XML ends without </mediawiki>: the file is truncated")


def _header_site(data: bytes | None) -> Site:
    """The Site of a dump header (the bytes before the first page)."""
    if data is None:
        return Site()
    if not re.search(rb"<mediawiki[\s>]", data[:4096]):
        raise DamagedInput(CORRUPT, f"not a MediaWiki XML dump: it starts with {data[:60]!r}, not <mediawiki>")
    start, end = data.find(b"<siteinfo>"), data.find(b"</siteinfo>")
    if start < 0 or end < 0:
        return Site()
    try:
        return parse_siteinfo(data[start : end + len(b"</siteinfo>")])
    except ET.ParseError as err:
        raise DamagedInput(CORRUPT, f"the <siteinfo> header is malformed ({err})") from None


# ---------------------------------------------------------------------------------------------
# Units

# ("dump", path) | ("streams", path, site tuple, first_row, ((offset, pages), ...), start, end, last)
_READ = 1 << 20


def _match(paths: list[str]) -> list[tuple[str, int]]:
    found = FileSystems.match([as_pattern(p) for p in paths])
    files = sorted({(m.path, m.size_in_bytes) for result in found for m in result.metadata_list})
    if not files:
        raise InputError(f"{', '.join(paths)}: no file matches these paths")
    return files


def plan_units(paths: list[str], options: WikipediaOptions, entry_license: str | None = None) -> list[tuple]:
    """One unit per dump; a multistream dump with its index: units of `pages_per_unit` pages."""
    files = _match(paths)
    dumps = [(path, size) for path, size in files if _INDEX_MARK not in posixpath.basename(path)]
    if not dumps:
        raise InputError(f"{', '.join(paths)}: only multistream index files match these paths, no dump")
    if options.index and len(dumps) > 1:
        raise InputError(
            f"{', '.join(paths)}: `index` names the index of one dump, and these paths match {len(dumps)} dumps"
        )
    units: list[tuple] = []
    for path, size in dumps:
        index = options.index or index_path(path)
        planned = _multistream_units(path, size, index, options) if index and path.lower().endswith(".bz2") else None
        units.extend(planned or [("dump", path)])
    return units


def _multistream_units(path: str, size: int, index: str, options: WikipediaOptions) -> list[tuple] | None:
    """Units of whole bz2 streams, or None (the dump is then read whole) when the index is
    missing or unusable."""
    try:
        if not FileSystems.exists(index):
            if options.index:
                raise InputError(problems=[(index, "connector.options.index", "no such file")])
            log.warning("%s: no multistream index %s; the dump is read as one unit", path, index)
            return None
        streams = read_index(index)
        site = _read_site(path, streams[0][0] if streams else size)
    except (DamagedInput, OSError, ValueError) as err:
        log.warning("%s: the multistream index %s cannot be used (%s); the dump is read as one unit", path, index, err)
        return None
    units, first_row, group = [], 0, []
    for offset, pages in streams:
        group.append((offset, pages))
        if sum(p for _, p in group) >= options.pages_per_unit and offset < size:
            units.append(group)
            group = []
    if group:
        if units and group[0][0] >= size:  # streams the file does not reach: the last unit reports them
            units[-1].extend(group)
        else:
            units.append(group)
    planned = []
    for i, group in enumerate(units):
        start = group[0][0]
        end = units[i + 1][0][0] if i + 1 < len(units) else size
        planned.append(("streams", path, site.as_tuple(), first_row, tuple(group), start, end, i + 1 == len(units)))
        first_row += sum(p for _, p in group)
    return planned


def read_index(index: str) -> list[tuple[int, int]]:
    """(stream offset, pages in it) in file order, from `offset:page_id:title` lines."""
    streams: list[list[int]] = []
    with open_input(index) as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            offset, sep, _ = line.partition(b":")
            if not sep or not offset.isdigit():
                raise ValueError(f"line {number} is not offset:page_id:title")
            offset = int(offset)
            if streams and offset == streams[-1][0]:
                streams[-1][1] += 1
            elif streams and offset < streams[-1][0]:
                raise ValueError(f"line {number}: offsets go backwards")
            else:
                streams.append([offset, 1])
    return [(o, n) for o, n in streams]


def _read_site(path: str, header_end: int) -> Site:
    """The <siteinfo> of a multistream dump: its first bz2 stream, before the first page stream."""
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        data = handle.read(min(header_end, _HEADER_LIMIT))
    try:
        text = bz2.BZ2Decompressor().decompress(data, _HEADER_LIMIT)
    except OSError as err:
        raise DamagedInput(CORRUPT, f"the first bz2 stream is not valid ({err})") from None
    if b"<page>" in text:
        raise ValueError("the first bz2 stream holds pages: not a multistream dump")
    return _header_site(text)


def iter_unit(
    unit: tuple, paths: list[str], options: WikipediaOptions
) -> Iterator[tuple[int, str, dict | RecordError]]:
    """(row, where, record or error) for each page of the unit, in dump order."""
    if unit[0] == "dump":
        yield from _read_dump(unit[1], options)
    else:
        yield from _read_streams(unit, options)


def _read_dump(path: str, options: WikipediaOptions) -> Iterator[tuple[int, str, dict | RecordError]]:
    def chunks(stream):
        while data := stream.read1(_READ):
            yield data

    def wiki_of(header: bytes | None) -> _Wiki:
        return _Wiki(path, _header_site(header), options)

    with open_input(path) as stream:
        yield from _pages(
            chunks(stream),
            wiki_of,
            options,
            first_row=0,
            header=True,
            place=lambda offset: f"at XML byte {offset}",
            expect_end=True,
        )


def _read_streams(unit: tuple, options: WikipediaOptions) -> Iterator[tuple[int, str, dict | RecordError]]:
    _, path, site, first_row, streams, start, end, last = unit
    wiki = _Wiki(path, Site(*site), options)
    starts: list[int] = []  # decompressed offset where each bz2 stream starts
    offsets: list[int] = []  # its byte offset in the file

    def place(offset: int) -> str:
        i = max(bisect.bisect_right(starts, offset) - 1, 0)
        return f"in the bz2 stream at byte {offsets[i] if offsets else start}"

    def chunks(handle) -> Iterator[bytes]:
        pos, out_pos, pending, decompressor = start, 0, b"", None
        while True:
            if not pending:
                if pos >= end:
                    break
                pending = handle.read(min(_READ, end - pos))
                if not pending:
                    raise DamagedInput(TRUNCATED, f"the file ends at byte {pos}, before the index's streams do")
                pos += len(pending)
            if decompressor is None:
                stream_at = pos - len(pending)
                if not pending.startswith(b"BZh") and len(pending) >= 3:
                    raise DamagedInput(
                        CORRUPT, f"no bz2 stream starts at byte {stream_at}: the index does not match this dump"
                    )
                decompressor = bz2.BZ2Decompressor()
                starts.append(out_pos)
                offsets.append(stream_at)
            try:
                data = decompressor.decompress(pending, _READ)
                pending = b""
                while data:
                    out_pos += len(data)
                    yield data
                    data = b"" if decompressor.eof or decompressor.needs_input else decompressor.decompress(b"", _READ)
            except OSError as err:
                raise DamagedInput(CORRUPT, f"the bz2 stream at byte {offsets[-1]} is not valid ({err})") from None
            if decompressor.eof:
                pending, decompressor = decompressor.unused_data, None
        if decompressor is not None:
            raise DamagedInput(TRUNCATED, f"the bz2 stream at byte {offsets[-1]} ends early: the file is truncated")
        if last and streams and streams[-1][0] >= end:
            raise DamagedInput(TRUNCATED, f"the file ends at byte {end}, before the index's last stream")

    expected = sum(p for _, p in streams)
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        handle.seek(start)
        for row, where, item in _pages(
            chunks(handle),
            lambda _: wiki,
            options,
            first_row=first_row,
            header=False,
            place=place,
            expect_end=last,
        ):
            if row >= first_row + expected:
                raise DamagedInput(
                    CORRUPT,
                    f"bytes {start}-{end} hold more pages than the index lists ({expected}): "
                    "the index is not this dump's (row numbers would collide)",
                )
            yield row, where, item


__all__ = [
    "DISAMBIGUATION_TEMPLATES",
    "MAX_PAGE_BYTES",
    "RecordError",
    "Site",
    "WikiNames",
    "WikipediaOptions",
    "article_url",
    "file_mtime",
    "index_path",
    "iter_unit",
    "link_kind",
    "page_record",
    "plan_units",
    "read_index",
    "unit_name",
    "wiki_language",
    "wikitext_to_text",
]
