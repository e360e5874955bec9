#!/usr/bin/env python3
"""Build rootstock's bundled demo corpus under catalog/data/<source_uid>/.

Everything here is synthetic: the prose comes from the sentence pools in texts/*.txt, written
for rootstock by its authors (CC0-1.0), and is assembled into documents with fixed random
seeds.  Running the script twice produces byte-identical files (no timestamps in gzip headers,
sorted JSON keys, a fixed dataset fingerprint).

Planted on purpose, so that every later pipeline stage has something real to do:
  * near-duplicates (a sentence changed, words swapped, a sentence dropped, a footer added)
    and exact duplicates with new ids, some across sources and some whose URLs differ only
    by a ?utm_ query string;
  * junk a quality filter should reject (too short, keyword spam, number tables, navigation
    boilerplate, wrong language for the source, mojibake, spaced-out OCR text);
  * fake PII (example.com/.org e-mails, local phone formats, documentation IPs, a Luhn-valid
    test card number, valid-checksum IBANs, a Finnish HETU) next to hard negatives (dates,
    version numbers, ISBNs, prices);
  * template lines (site footers, a forum signature) repeated across >= 10 documents;
  * one source, broken_forum, with malformed rows (bad JSON, missing text, invalid UTF-8,
    empty text) for `on_error: skip`.

The ground truth of all of that is written to catalog/sample/expected.json.

Usage:  python catalog/sample/build_sample.py [--out DIR] [--manifest FILE]
Needs:  Python 3.11, pyarrow, datasets, zstandard.
"""

from __future__ import annotations

import argparse
import copy
import csv
import gzip
import io
import json
import os
import random
import re
import shutil
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
TEXTS = HERE / "texts"
DEFAULT_OUT = HERE.parent / "data"
DEFAULT_MANIFEST = HERE / "expected.json"
SEED = 20261101

SOURCES = ["web_news", "wiki_sample", "books_fi", "forum_africa", "news_hf", "code_snippets", "broken_forum"]
NATURAL = ["en", "fr", "fi", "es", "pt", "id", "sw", "yo", "eu", "ar", "hi", "vi", "zhs", "zht"]
NO_SPACE = {"zhs", "zht"}
PLAIN_TOPICS = ["nature", "cooking", "history", "science", "news"]

# ----------------------------------------------------------------------------------------------
# Fake PII values (all reserved / documentation / test values) and their validators.

PHONES = {
    "en": ["+44 20 7946 0018"],  # Ofcom drama range
    "fr": ["01 23 45 67 89"],
    "fi": ["+358 40 123 4567"],
    "hi": ["+91 98765 43210"],
    "sw": ["+254 712 345 678", "0712 345 678"],
    "yo": ["+234 803 123 4567"],
    "es": ["+34 912 345 678"],
    "pt": ["+351 212 345 678"],
    "id": ["+62 812 3456 7890"],
    "vi": ["+84 912 345 678"],
    "ar": ["+962 79 123 4567"],
    "eu": ["+34 943 123 456"],
    "zhs": ["+86 138 0013 8000"],
    "zht": ["+886 2 2345 6789"],
}
IPS = ["192.0.2.44", "198.51.100.7", "203.0.113.25"]  # RFC 5737 documentation ranges
CARD = "4111 1111 1111 1111"  # Visa test number, passes Luhn
IBANS = {
    "en": "GB82 WEST 1234 5698 7654 32",
    "fr": "FR14 2004 1010 0505 0001 3M02 606",
    "fi": "FI21 1234 5600 0007 85",
    "es": "ES91 2100 0418 4502 0005 1332",
    "default": "DE89 3704 0044 0532 0130 00",
}


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    s = iban.replace(" ", "")
    s = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


def hetu(dob: str, century: str, individual: str) -> str:
    """Finnish personal identity code with its check character."""
    return dob + century + individual + "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(dob + individual) % 31]


HETU = hetu("131052", "-", "308")  # the classic documentation example, 131052-308T
assert HETU == "131052-308T" and luhn_ok(CARD) and all(iban_ok(v) for v in IBANS.values())

PII_SLOTS = {"{phone}": "phone", "{ip}": "ipv4", "{card}": "credit_card", "{iban}": "iban", "{hetu}": "national_id"}
EMAIL_RE = re.compile(r"[\w.+-]+@example\.(?:com|org)")

# ----------------------------------------------------------------------------------------------
# Sentence pools


@dataclass
class Lang:
    code: str
    sections: dict[str, list[str]]

    @property
    def towns(self):
        return self.sections["towns"]

    @property
    def people(self):
        return self.sections["people"]

    def topic(self, name):
        return self.sections["topic " + name]

    def titles(self, name):
        return self.sections.get("titles " + name) or self.sections["titles news"]

    def get(self, name):
        return self.sections.get(name, [])

    @property
    def joiner(self):
        return "" if self.code in NO_SPACE else " "


def load_lang(code: str) -> Lang:
    sections: dict[str, list[str]] = {}
    current = None
    for raw in (TEXTS / f"{code}.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            current = line[1:].strip()
            sections.setdefault(current, [])
            continue
        sections[current].append(line)
    return Lang(code, sections)


def load_code(language: str) -> list[dict]:
    files, current = [], None
    for line in (TEXTS / f"code_{language}.txt").read_text(encoding="utf-8").split("\n"):
        if line.startswith("%%% FILE "):
            repo, path, license_id = line[len("%%% FILE ") :].split()
            current = {"repo": repo, "path": path, "language": language, "license": license_id, "lines": []}
            files.append(current)
        elif current is not None:
            current["lines"].append(line)
    for f in files:
        f["content"] = "\n".join(f.pop("lines")).rstrip("\n") + "\n"
    return files


@dataclass
class Doc:
    lang: str
    title: str
    topic: str
    ctx: dict
    paragraphs: list[list[str]]
    extra: list[str] = field(default_factory=list)  # trailing lines (updates, footers, signatures)
    headline: bool = False  # put the title as the first line of the text

    def text(self) -> str:
        joiner = "" if self.lang in NO_SPACE else " "
        parts = ([self.title] if self.headline else []) + [joiner.join(p) for p in self.paragraphs] + self.extra
        return "\n\n".join(parts)


class Composer:
    """Assembles documents from one language's sentence pools, spreading sentence use evenly."""

    def __init__(self, lang: Lang):
        self.lang = lang
        self.rng = random.Random(f"{SEED}-compose-{lang.code}")
        self.usage: Counter = Counter()

    def ctx(self) -> dict:
        code = self.lang.code
        return {
            "town": self.rng.choice(self.lang.towns),
            "person": self.rng.choice(self.lang.people),
            "phone": PHONES[code][0],
            "ip": IPS[0],
            "card": CARD,
            "iban": IBANS.get(code, IBANS["default"]),
            "hetu": HETU,
        }

    def render(self, template: str, ctx: dict) -> str:
        def fill(match):
            key = match.group(1)
            if key in ctx:
                return ctx[key]
            if key == "year":  # increasing within a document, so its history reads in order
                ctx["_year"] = min(1925, ctx.get("_year", self.rng.randint(1560, 1680)) + self.rng.randint(12, 60))
                return str(ctx["_year"])
            if key == "n":
                return str(self.rng.randint(12, 40))
            if key == "few":
                return str(self.rng.randint(3, 9))
            if key == "temp":
                return str(self.rng.randint(31, 41))
            if key == "big":
                return str(self.rng.randrange(120, 990, 10))
            raise KeyError(f"unknown slot {key!r} in {self.lang.code}: {template}")

        return re.sub(r"\{(\w+)\}", fill, template)

    def pick(self, topic: str, k: int, exclude=()) -> list[str]:
        pool = self.lang.topic(topic)
        candidates = [i for i in range(len(pool)) if pool[i] not in exclude]
        candidates.sort(key=lambda i: (self.usage[(topic, i)], self.rng.random()))
        chosen = sorted(candidates[:k])  # keep the pool's narrative order
        for i in chosen:
            self.usage[(topic, i)] += 1
        return [pool[i] for i in chosen]

    def chunk(self, sentences: list[str], sizes=(3, 5)) -> list[list[str]]:
        out, i = [], 0
        while i < len(sentences):
            size = self.rng.randint(*sizes)
            if len(sentences) - (i + size) < 2:  # no one- or zero-sentence tails
                size = len(sentences) - i
            out.append(sentences[i : i + size])
            i += size
        return out

    def compose(
        self, topics: list[str], n_range: tuple[int, int], min_bytes: int = 0, sizes=(3, 5), headline=False
    ) -> Doc:
        """A document led by topics[0]; each topic contributes at most half of its pool, so two
        documents on the same topic share only some sentences (and never by accident look like
        near-duplicates); further topics are drawn in until n_range and min_bytes are met."""
        rng = self.rng
        ctx = self.ctx()
        remaining = rng.randint(*n_range)
        spare = [t for t in rng.sample(PLAIN_TOPICS, len(PLAIN_TOPICS)) if t not in topics]
        title = self.render(rng.choice(self.lang.titles(topics[0])), ctx)
        doc = Doc(self.lang.code, title, topics[0], ctx, [], headline=headline)
        templates: list[str] = []
        for topic in list(topics) + spare:
            if remaining <= 0 and len(doc.text().encode("utf-8")) >= min_bytes:
                break
            cap = max(3, (len(self.lang.topic(topic)) * 3) // 5)
            k = rng.randint(3, cap)
            if remaining > 0:
                k = max(2, min(k, remaining))
            picked = self.pick(topic, k)
            templates += picked
            doc.paragraphs += self.chunk([self.render(s, ctx) for s in picked], sizes)
            remaining -= k
        ctx["_templates"] = templates
        return doc

    def add_pii(self, doc: Doc, templates: list[str]) -> list[str]:
        """Append PII sentences as a final paragraph; return the PII categories planted."""
        rendered = [self.render(t, doc.ctx) for t in templates]
        doc.paragraphs.append(rendered)
        kinds = []
        for t, r in zip(templates, rendered, strict=True):
            kinds += [kind for slot, kind in PII_SLOTS.items() if slot in t]
            if EMAIL_RE.search(r):
                kinds.append("email")
        return sorted(set(kinds))

    def near_dup(self, doc: Doc, edit: str) -> Doc:
        d = copy.deepcopy(doc)
        rng = self.rng
        longest = max(range(len(d.paragraphs)), key=lambda i: len(d.paragraphs[i]))
        para = d.paragraphs[longest]
        if edit == "footer_added":
            d.extra.insert(0, self.lang.get("update")[0])
        elif edit == "sentence_changed":
            new = self.pick(d.topic, 1, exclude=set(doc.ctx.get("_templates", [])))
            para[rng.randrange(1, len(para))] = self.render(new[0], d.ctx)
        elif edit == "sentence_dropped":
            del para[rng.randrange(1, len(para))]
        elif edit == "words_swapped":
            for sentence_index in rng.sample(range(len(para)), min(2, len(para))):
                words = para[sentence_index].split(" ")
                if len(words) > 6:
                    j = rng.randrange(1, len(words) - 3)
                    words[j], words[j + 1] = words[j + 1], words[j]
                    para[sentence_index] = " ".join(words)
        else:
            raise ValueError(edit)
        return d


def near_dup_edits(code: str, count: int, offset: int = 0) -> list[str]:
    edits = ["sentence_changed", "footer_added", "words_swapped", "sentence_dropped"]
    if code in NO_SPACE:
        edits.remove("words_swapped")
    return [edits[(offset + i) % len(edits)] for i in range(count)]


# ----------------------------------------------------------------------------------------------
# Junk


def mojibake(text: str) -> str:
    """UTF-8 bytes read back as Windows-1252: 'été' -> 'Ã©tÃ©'."""
    return text.encode("utf-8").decode("cp1252", errors="replace")


def keyword_spam(rng: random.Random) -> str:
    phrases = [
        "cheap flights",
        "cheap hotels",
        "best price guaranteed",
        "last minute deals",
        "cheap flights to paris",
        "book now",
        "free cancellation",
        "lowest fares online",
    ]
    lines = ["CHEAP FLIGHTS CHEAP HOTELS BEST PRICE GUARANTEED"] * 6
    for _ in range(24):
        lines.append(" ".join(rng.choice(phrases) for _ in range(rng.randint(4, 7))) + " !!!")
    lines += ["BOOK NOW >>> https://deals.example.com/?ref=cheap-flights"] * 5
    rng.shuffle(lines)
    return "\n".join(lines)


def number_table(rng: random.Random, title: str) -> str:
    rows = [title, "", "| year | visitors | change | index |", "|------|----------|--------|-------|"]
    for year in range(1990, 2026):
        rows.append(
            f"| {year} | {rng.randint(1000, 99999):,} | {rng.uniform(-9, 9):+.1f} % | {rng.randint(0, 999):03d} |"
        )
    return "\n".join(rows)


NAV_MENU = """Home | News | Local | Sport | Weather | Culture | Contact
Log in | Register | Subscribe | Newsletter
Accueil | Actualités | Sport | Météo | Contact
Follow us: Facebook | X | Instagram | YouTube
Home | News | Local | Sport | Weather | Culture | Contact
Privacy policy | Cookie settings | Terms of use | Accessibility
Most read | Latest | Opinion | Podcasts | Photos
© 2026 Example News Network · All rights reserved · news.example.com"""

COOKIE_BANNER = (
    "We use cookies to give you the best experience on our website. By continuing to browse "
    "you agree to our use of cookies.\nAccept all | Reject all | Manage preferences"
)

# ----------------------------------------------------------------------------------------------
# Writers (deterministic bytes)


def jsonl_bytes(records: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records).encode("utf-8")


def write_bytes(path: Path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_gzip(path: Path, data: bytes):
    write_bytes(path, gzip.compress(data, compresslevel=9, mtime=0))  # no timestamp, no file name


def write_zstd(path: Path, data: bytes):
    import zstandard

    write_bytes(path, zstandard.ZstdCompressor(level=19, write_checksum=True).compress(data))


def write_parquet(path: Path, records: list[dict]):
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("page_id", pa.int64()),
            ("title", pa.string()),
            ("lang", pa.string()),
            ("url", pa.string()),
            ("text", pa.string()),
        ]
    )
    table = pa.Table.from_pylist(records, schema=schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", row_group_size=32)


def write_csv(path: Path, header: list[str], rows: list[dict]):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    writer.writerows(rows)
    write_bytes(path, buffer.getvalue().encode("utf-8"))


def write_hf_dataset(path: Path, records: list[dict]):
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    import datasets

    datasets.disable_progress_bars()
    features = datasets.Features({k: datasets.Value("string") for k in ["id", "url", "language", "text"]})
    columns = {k: [r[k] for r in records] for k in features}
    dataset = datasets.Dataset.from_dict(columns, features=features)
    dataset._fingerprint = "rootstock-sample-news-hf-v1"  # otherwise random, and written to state.json
    dataset.save_to_disk(str(path), num_shards=2)


def slug(text: str, fallback: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return s[:60].rstrip("-") if len(s) >= 8 else fallback


# ----------------------------------------------------------------------------------------------
# The corpus


class Builder:
    def __init__(self):
        self.langs = {code: load_lang(code) for code in NATURAL}
        self.comp = {code: Composer(lang) for code, lang in self.langs.items()}
        self.planted: list[dict] = []
        self.shared: dict[str, list] = defaultdict(list)  # texts reused across sources
        self.counts: dict[str, Counter] = {}

    def plant(self, source, doc_id, kind, **detail):
        if "of" in detail:
            detail["of"] = str(detail["of"])
        self.planted.append({"source": source, "id": str(doc_id), "kind": kind, **detail})

    def count(self, source, lang, category):
        self.counts.setdefault(source, Counter())[(lang, category)] += 1

    # -- books_fi: jsonl.zst, Finnish only ------------------------------------------------------
    def books_fi(self, out: Path):
        rng = random.Random(f"{SEED}-books_fi")
        fi = self.comp["fi"]
        books = [
            ("Järven tuolla puolen", "Helmi Saarinen", 1931),
            ("Myllärin tytär", "Eero Mäkelä", 1924),
            ("Koivulan kesät", "Aino Koskinen", 1948),
            ("Pitkospuiden tie", "Juhani Rautio", 1937),
            ("Talvikylä", "Liisa Heikkilä", 1952),
            ("Kirjeitä kotiin", "Ville Nurmi", 1929),
        ]
        records, originals = [], []
        second = ["nature", "history", "cooking"]
        for b, (title, author, year) in enumerate(books, start=1):
            for chapter in range(1, 5):
                doc = fi.compose(["story", second[(b + chapter) % 3]], (15, 20), min_bytes=1800, sizes=(3, 5))
                rec = {
                    "doc_id": f"fi-kirja-{b:02d}-luku-{chapter:02d}",
                    "title": title,
                    "chapter": chapter,
                    "author": author,
                    "year": year,
                    "text": doc.text(),
                }
                records.append(rec)
                originals.append((rec, doc))
                self.count("books_fi", "fi", "original")
        # a colophon page: hard negatives (ISBN, dates, price, version) but no PII
        colophon = (
            "Kirjeitä kotiin\n\nToinen, korjattu painos. Kansi ja taitto: kustantamon omat tekijät.\n\n"
            + fi.lang.get("hardneg")[0]
            + "\n\nPainettu 14.3.2026. Painosmäärä 1 500 kappaletta."
        )
        records.append(
            {
                "doc_id": "fi-kirja-06-kolofoni",
                "title": "Kirjeitä kotiin",
                "chapter": 0,
                "author": "Ville Nurmi",
                "year": 1929,
                "text": colophon,
            }
        )
        self.plant("books_fi", "fi-kirja-06-kolofoni", "hard_negative", detail="ISBN, date, price, version")
        self.count("books_fi", "fi", "hard_negative")
        # near-duplicates: a second edition of three chapters
        for (rec, doc), edit in zip(rng.sample(originals, 3), near_dup_edits("fi", 3), strict=True):
            dup = fi.near_dup(doc, edit)
            new = dict(rec, doc_id=rec["doc_id"] + "-p2", text=dup.text())
            records.append(new)
            self.plant("books_fi", new["doc_id"], "near_duplicate", of=rec["doc_id"], edit=edit)
            self.count("books_fi", "fi", "near_duplicate")
        # junk
        en_doc = self.comp["en"].compose(["history", "nature"], (10, 12), min_bytes=1200)
        junk = [
            ("fi-kirja-99-englanti", en_doc.text(), "wrong_language", {"actual": "en"}),
            (
                "fi-kirja-99-hakemisto",
                "Hakemisto\n\n"
                + "\n".join(
                    f"{name} {', '.join(str(rng.randint(3, 320)) for _ in range(rng.randint(3, 8)))}"
                    for name in [
                        "Aho",
                        "Haapala",
                        "Järvi",
                        "Koivula",
                        "Laakso",
                        "Mylly",
                        "Niemi",
                        "Rantala",
                        "Saari",
                        "Tervahauta",
                        "Torppa",
                        "Vesimylly",
                    ]
                    * 2
                ),
                "number_table",
                {},
            ),
            ("fi-kirja-99-mojibake", mojibake(originals[4][0]["text"]), "mojibake", {"of": originals[4][0]["doc_id"]}),
            (
                "fi-kirja-99-ocr",
                " ".join(" ".join(w) for w in originals[7][0]["text"].split(" ")[:60]),
                "ocr_noise",
                {},
            ),
        ]
        for doc_id, text, kind, extra in junk:
            records.append(
                {"doc_id": doc_id, "title": "Liite", "chapter": 99, "author": "tuntematon", "year": 1900, "text": text}
            )
            self.plant("books_fi", doc_id, "junk", type=kind, **extra)
            self.count("books_fi", extra.get("actual", "fi"), "junk")
        for rec, _ in originals[:3]:
            self.shared["fi_books"].append(rec)
        write_zstd(out / "books_fi" / "books_fi.jsonl.zst", jsonl_bytes(records))
        return len(records)

    # -- news_hf: datasets save_to_disk, ar/hi/vi/eu/zhs ---------------------------------------
    def news_hf(self, out: Path):
        rng = random.Random(f"{SEED}-news_hf")
        label = {"ar": "ar", "hi": "hi", "vi": "vi", "eu": "eu", "zhs": "zh"}
        records, originals = [], defaultdict(list)
        n = 0

        def add(lang_code, text, label_value=None):
            nonlocal n
            n += 1
            rec = {
                "id": f"nh-{n:05d}",
                "url": f"https://wire.example.org/{label[lang_code]}/2026/{n:05d}",
                "language": label_value or label[lang_code],
                "text": text,
            }
            records.append(rec)
            return rec

        wire_footer = "Example Wire Service · wire.example.org"
        footers = 0
        for code in ["ar", "hi", "vi", "eu", "zhs"]:
            comp = self.comp[code]
            for i in range(19):
                topics = [
                    ["news", "history"],
                    ["news", "nature"],
                    ["news", "science"],
                    ["cooking", "news"],
                    ["history", "news"],
                ][i % 5]
                doc = comp.compose(topics, (7, 11), min_bytes=1100 if code == "zhs" else 700, headline=True)
                kinds = None
                if i == 3:
                    kinds = comp.add_pii(doc, comp.lang.get("pii")[:2])
                if i % 3 == 0:
                    doc.extra.append(wire_footer)
                    footers += 1
                rec = add(code, doc.text())
                originals[code].append((rec, doc))
                self.count("news_hf", code, "original")
                if kinds:
                    self.plant("news_hf", rec["id"], "pii", types=kinds, lang=code)
        self.plant("news_hf", "*", "template_line", line=wire_footer, documents=footers)
        # near-duplicates: ~8% of the documents
        for k, code in enumerate(["ar", "hi", "vi", "eu", "zhs", "ar", "hi", "zhs"]):
            rec, doc = originals[code][rng.randrange(5, 19)]
            edit = near_dup_edits(code, 1, offset=k)[0]
            new = add(code, self.comp[code].near_dup(doc, edit).text())
            self.plant("news_hf", new["id"], "near_duplicate", of=rec["id"], edit=edit, lang=code)
            self.count("news_hf", code, "near_duplicate")
        # exact duplicate within the source (syndicated twice)
        rec = originals["vi"][7][0]
        new = add("vi", rec["text"])
        self.plant("news_hf", new["id"], "exact_duplicate", of=rec["id"])
        self.count("news_hf", "vi", "exact_duplicate")
        # junk
        nav = "\n".join(
            [
                "الرئيسية | أخبار | رياضة | اقتصاد | ثقافة | اتصل بنا",
                "تسجيل الدخول | اشترك | النشرة البريدية",
                "الرئيسية | أخبار | رياضة | اقتصاد | ثقافة | اتصل بنا",
                "سياسة الخصوصية | شروط الاستخدام",
                "جميع الحقوق محفوظة © 2026",
            ]
        )
        stock = "上证指数行情\n\n" + "\n".join(
            f"{name} {rng.uniform(5, 3500):,.2f} {rng.uniform(-5, 5):+.2f}% 成交量 {rng.randint(10000, 9999999)}"
            for name in ["上证指数", "深证成指", "创业板指", "沪深300", "中证500", "科创50"] * 4
        )
        en_doc = self.comp["en"].compose(["news", "science"], (9, 11), min_bytes=1100)
        junk = [
            ("ar", nav, None, "navigation_boilerplate", {}),
            ("hi", "और पढ़ें »", None, "too_short", {}),
            ("zhs", stock, None, "number_table", {}),
            ("vi", en_doc.text(), "vi", "wrong_language", {"actual": "en"}),
            ("vi", mojibake(originals["vi"][2][0]["text"]), None, "mojibake", {"of": originals["vi"][2][0]["id"]}),
        ]
        for code, text, label_value, kind, extra in junk:
            rec = add(code, text, label_value)
            self.plant("news_hf", rec["id"], "junk", type=kind, **extra)
            self.count("news_hf", extra.get("actual", code), "junk")
        self.shared["zhs_news"].append(originals["zhs"][4][0])
        write_hf_dataset(out / "news_hf", records)
        return len(records)

    # -- wiki_sample: parquet, many languages, per-record `lang` --------------------------------
    def wiki_sample(self, out: Path):
        rng = random.Random(f"{SEED}-wiki_sample")
        wiki_code = {"zhs": "zh-cn", "zht": "zh-tw"}
        per_lang = {
            "en": 8,
            "fr": 8,
            "fi": 8,
            "es": 8,
            "pt": 8,
            "id": 8,
            "zht": 8,
            "zhs": 6,
            "ar": 6,
            "hi": 6,
            "vi": 6,
            "eu": 6,
            "sw": 6,
            "yo": 6,
        }
        files = {0: ["en", "fr", "es", "pt", "id"], 1: ["fi", "eu", "sw", "yo"], 2: ["ar", "hi", "vi", "zhs", "zht"]}
        by_file: dict[int, list] = defaultdict(list)
        originals = defaultdict(list)
        page_id = 10000
        titles_used: dict[str, set] = defaultdict(set)

        def add(file_no, code, title, text, lang_value=None):
            nonlocal page_id
            page_id += 7
            lang_value = lang_value or wiki_code.get(code, code)
            rec = {
                "page_id": page_id,
                "title": title,
                "lang": lang_value,
                "url": f"https://{lang_value}.wiki.example.org/wiki/{quote(title.replace(' ', '_'))}",
                "text": text,
            }
            by_file[file_no].append(rec)
            return rec

        topic_cycle = [
            ["history", "nature"],
            ["science", "nature"],
            ["history", "cooking"],
            ["nature", "science"],
            ["cooking", "history"],
            ["history", "science"],
            ["science", "cooking"],
            ["nature", "history"],
        ]
        for file_no, codes in files.items():
            for code in codes:
                comp = self.comp[code]
                for i in range(per_lang[code]):
                    min_bytes = 1100 if code in ("en", "fr", "es", "zhs", "zht") else 700
                    doc = comp.compose(topic_cycle[i % len(topic_cycle)], (8, 12), min_bytes=min_bytes)
                    title = doc.ctx["town"] if doc.topic == "history" else doc.title
                    if title in titles_used[code]:
                        title = doc.title if doc.title not in titles_used[code] else f"{doc.title} ({i + 1})"
                    titles_used[code].add(title)
                    rec = add(file_no, code, title, doc.text())
                    originals[code].append((file_no, rec, doc))
                    self.count("wiki_sample", code, "original")
        # the fr hard-negative sentence in one French article
        file_no, rec, doc = originals["fr"][3]
        doc.paragraphs.append([self.comp["fr"].lang.get("hardneg")[0]])
        rec["text"] = doc.text()
        self.plant("wiki_sample", rec["page_id"], "hard_negative", detail="version, date, ISBN, price")
        # near-duplicates (~6%): a vandalised or re-imported revision of the same article
        for k, code in enumerate(["en", "fr", "fi", "es", "zht", "sw"]):
            file_no, rec, doc = originals[code][rng.randrange(len(originals[code]))]
            edit = near_dup_edits(code, 1, offset=k)[0]
            new = add(file_no, code, rec["title"] + " (2)", self.comp[code].near_dup(doc, edit).text())
            self.plant("wiki_sample", new["page_id"], "near_duplicate", of=rec["page_id"], edit=edit, lang=code)
            self.count("wiki_sample", code, "near_duplicate")
        # exact duplicate across sources: a Simplified Chinese news_hf article mirrored into the wiki
        zhs_news = self.shared["zhs_news"][0]
        new = add(2, "zhs", "新闻存档", zhs_news["text"])
        self.plant("wiki_sample", new["page_id"], "exact_duplicate", of=f"news_hf:{zhs_news['id']}")
        self.count("wiki_sample", "zhs", "exact_duplicate")
        # junk
        en_doc = self.comp["en"].compose(["science", "nature"], (8, 10), min_bytes=1100)
        rec = add(0, "fr", "Rivière", en_doc.text(), lang_value="fr")
        self.plant("wiki_sample", rec["page_id"], "junk", type="wrong_language", declared="fr", actual="en")
        self.count("wiki_sample", "en", "junk")
        rec = add(0, "fr", "Marlieu", "Marlieu est une commune.")
        self.plant("wiki_sample", rec["page_id"], "junk", type="too_short")
        self.count("wiki_sample", "fr", "junk")
        rec = add(1, "fi", "Luettelo vuosista", " – ".join(str(y) for y in range(1800, 1960)))
        self.plant("wiki_sample", rec["page_id"], "junk", type="number_table")
        self.count("wiki_sample", "fi", "junk")
        # one English article also appears verbatim on the web
        self.shared["en_wiki"].append(originals["en"][5][1])
        for file_no, records in sorted(by_file.items()):
            write_parquet(out / "wiki_sample" / f"wiki-{file_no:05d}-of-00003.parquet", records)
        return sum(len(r) for r in by_file.values())

    # -- web_news: jsonl.gz, multilingual, no language field -----------------------------------
    def web_news(self, out: Path):
        rng = random.Random(f"{SEED}-web_news")
        hosts = {
            "en": "news.example.com",
            "fr": "actu.example.org",
            "es": "noticias.example.com",
            "pt": "noticias.example.org",
            "id": "berita.example.com",
            "zht": "news.example.org",
            "fi": "uutiset.example.com",
        }
        records, originals = [], defaultdict(list)
        n = 0

        def add(code, title, text, url=None, path_hint=None):
            nonlocal n
            n += 1
            rid = f"wn-{n:05d}"
            if url is None:
                host = hosts.get(code, "www.example.com")
                url = f"https://{host}/2026/{rng.randint(1, 9):02d}/{slug(path_hint or title, rid)}"
            month, day = rng.randint(8, 10), rng.randint(1, 28)
            rec = {"id": rid, "url": url, "title": title, "text": text, "crawl_date": f"2026-{month:02d}-{day:02d}"}
            records.append(rec)
            return rec

        footer = "© 2026 Example News Network · All rights reserved · news.example.com"
        share = "Share this story: Facebook · X · E-mail · Print"
        footer_count = share_count = 0
        per_lang = {"en": 16, "fr": 17, "es": 17, "pt": 17, "id": 17, "zht": 17, "fi": 3}
        pii_plan = {  # (lang, doc index) -> indices into the language's @pii list
            ("en", 2): [0],
            ("en", 5): [2],
            ("en", 8): [3],
            ("en", 11): [4],
            ("en", 13): [1],
            ("fr", 2): [0],
            ("fr", 6): [1],
            ("fr", 9): [2],
            ("fi", 0): [0],
            ("fi", 1): [2],
            ("fi", 2): [1],
            ("es", 3): [0],
            ("es", 7): [1],
            ("id", 4): [0],
        }
        hardneg_plan = {("en", 4), ("fr", 12), ("fi", 2)}
        for code, count in per_lang.items():
            comp = self.comp[code]
            for i in range(count):
                topics = [
                    ["news", "history"],
                    ["nature", "science"],
                    ["cooking", "news"],
                    ["history", "nature"],
                    ["science", "cooking"],
                    ["news", "nature"],
                ][i % 6]
                if code == "fi":
                    topics = ["news", "cooking"]
                min_bytes = 1100 if code in ("en", "fr", "es", "zht") else 700
                doc = comp.compose(topics, (9, 13), min_bytes=min_bytes)
                kinds = None
                if (code, i) in pii_plan:
                    kinds = comp.add_pii(doc, [comp.lang.get("pii")[j] for j in pii_plan[(code, i)]])
                if (code, i) in hardneg_plan:
                    doc.paragraphs.append([comp.lang.get("hardneg")[0]])
                if rng.random() < 0.45:
                    doc.extra.append(share)
                    share_count += 1
                if rng.random() < 0.55:
                    doc.extra.append(footer)
                    footer_count += 1
                rec = add(code, doc.title, doc.text(), path_hint=None if code != "zht" else f"article-{n + 1}")
                originals[code].append((rec, doc))
                self.count("web_news", code, "original")
                if kinds:
                    self.plant("web_news", rec["id"], "pii", types=kinds, lang=code)
                if (code, i) in hardneg_plan:
                    self.plant("web_news", rec["id"], "hard_negative", lang=code)
        self.plant("web_news", "*", "template_line", line=footer, documents=footer_count)
        self.plant("web_news", "*", "template_line", line=share, documents=share_count)
        # near-duplicates (~9%): the same story republished with small edits
        for k, code in enumerate(["en", "en", "fr", "fr", "es", "pt", "id", "zht", "zht", "en"]):
            rec, doc = originals[code][rng.randrange(len(originals[code]))]
            edit = near_dup_edits(code, 1, offset=k)[0]
            new = add(
                code,
                rec["title"],
                self.comp[code].near_dup(doc, edit).text(),
                url=rec["url"].replace("/2026/", "/archive/2026/"),
            )
            self.plant("web_news", new["id"], "near_duplicate", of=rec["id"], edit=edit, lang=code)
            self.count("web_news", code, "near_duplicate")
        # exact duplicates whose URL differs only by the query string
        for code, idx, query in [
            ("en", 3, "?utm_source=newsletter&utm_medium=email"),
            ("fr", 10, "?utm_source=twitter"),
            ("es", 1, "?utm_source=rss&utm_campaign=weekly"),
        ]:
            rec = originals[code][idx][0]
            new = add(code, rec["title"], rec["text"], url=rec["url"] + query)
            self.plant("web_news", new["id"], "exact_duplicate", of=rec["id"], url_differs="query string")
            self.count("web_news", code, "exact_duplicate")
        # exact duplicates across sources
        wiki = self.shared["en_wiki"][0]
        new = add(
            "en", wiki["title"], wiki["text"], url="https://www.example.com/mirror/" + slug(wiki["title"], "page")
        )
        self.plant("web_news", new["id"], "exact_duplicate", of=f"wiki_sample:{wiki['page_id']}")
        self.count("web_news", "en", "exact_duplicate")
        for book in self.shared["fi_books"]:
            new = add("fi", book["title"], book["text"], url=f"https://kirjasto.example.org/lue/{book['doc_id']}")
            self.plant("web_news", new["id"], "exact_duplicate", of=f"books_fi:{book['doc_id']}")
            self.count("web_news", "fi", "exact_duplicate")
        # junk
        fr_doc = self.comp["fr"].compose(["history", "cooking"], (9, 12), min_bytes=1100)
        fi_doc = self.comp["fi"].compose(["nature", "news"], (8, 10), min_bytes=800)
        junk = [
            ("en", "Read more", "Click here", "too_short", {}),
            ("fr", "Suite", "Lire la suite »", "too_short", {}),
            ("en", "Cookies", COOKIE_BANNER, "boilerplate", {}),
            ("en", "Cheap flights", keyword_spam(rng), "keyword_spam", {}),
            ("en", "Menu", NAV_MENU, "navigation_boilerplate", {}),
            ("en", "Visitor statistics", number_table(rng, "Visitor statistics 1990-2025"), "number_table", {}),
            ("fr", fr_doc.title, mojibake(fr_doc.text()), "mojibake", {"lang": "fr"}),
            ("fi", fi_doc.title, mojibake(fi_doc.text()), "mojibake", {"lang": "fi"}),
            (
                "en",
                "404",
                "404 Not Found\n\nThe page you requested could not be found.\n\nHome | Search | Contact",
                "error_page",
                {},
            ),
        ]
        for code, title, text, kind, extra in junk:
            rec = add(code, title, text)
            self.plant("web_news", rec["id"], "junk", type=kind, **extra)
            self.count("web_news", code, "junk")
        rng.shuffle(records)
        for part in range(3):
            write_gzip(out / "web_news" / f"part-{part:05d}.jsonl.gz", jsonl_bytes(records[part::3]))
        return len(records)

    # -- forum_africa: csv, Swahili and Yoruba posts -------------------------------------------
    def forum_africa(self, out: Path):
        rng = random.Random(f"{SEED}-forum_africa")
        handles = {
            "sw": [
                "@mama_amina",
                "@baraka254",
                "@neema.otieno",
                "@kijana_wa_pwani",
                "@mwalimu_juma",
                "@zawadi_k",
                "@rehema_s",
            ],
            "yo": ["@ade_bayo", "@funmi_cooks", "@temi_ogun", "@kunle_ibadan", "@bola_odeyemi", "@segun_akin"],
        }
        rows, originals = [], defaultdict(list)
        n = 4100
        clock = [0]

        def add(code, handle, body, language=None):
            nonlocal n
            n += rng.randint(1, 9)
            clock[0] += rng.randint(600, 90000)
            day, sec = divmod(clock[0], 86400)
            stamp = (
                f"2026-{5 + day // 28:02d}-{1 + day % 28:02d}T{sec // 3600:02d}:{sec % 3600 // 60:02d}:{sec % 60:02d}Z"
            )
            row = {
                "post_id": str(n),
                "language": language or code,
                "author_handle": handle,
                "body": body,
                "posted_at": stamp,
            }
            rows.append(row)
            return row

        signature = self.langs["sw"].get("signature")[0]
        sig_count = 0
        counts = {"sw": 22, "yo": 20}
        for code in ["sw", "yo"]:
            comp = self.comp[code]
            for i in range(counts[code]):
                topics = [["cooking"], ["news"], ["nature"], ["cooking", "news"], ["history"], ["science"]][i % 6]
                doc = comp.compose(topics, (4, 8), min_bytes=350, sizes=(2, 4))
                kinds = None
                if (code, i) in {("sw", 2), ("sw", 9), ("yo", 5)}:
                    kinds = comp.add_pii(doc, [comp.lang.get("pii")[i % len(comp.lang.get("pii"))]])
                if code == "sw" and i % 2 == 0:
                    doc.extra.append(signature)
                    sig_count += 1
                row = add(code, handles[code][i % len(handles[code])], doc.text())
                originals[code].append((row, doc))
                self.count("forum_africa", code, "original")
                if kinds:
                    self.plant("forum_africa", row["post_id"], "pii", types=kinds, lang=code)
        self.plant("forum_africa", "*", "template_line", line=signature, documents=sig_count)
        # near-duplicates: edited re-posts
        for k, code in enumerate(["sw", "sw", "yo", "yo"]):
            row, doc = originals[code][rng.randrange(len(originals[code]))]
            edit = near_dup_edits(code, 1, offset=k)[0]
            new = add(code, row["author_handle"], self.comp[code].near_dup(doc, edit).text())
            self.plant("forum_africa", new["post_id"], "near_duplicate", of=row["post_id"], edit=edit, lang=code)
            self.count("forum_africa", code, "near_duplicate")
        # exact duplicates: the same post submitted twice
        for code, idx in [("sw", 6), ("yo", 3)]:
            row = originals[code][idx][0]
            new = add(code, row["author_handle"], row["body"])
            self.plant("forum_africa", new["post_id"], "exact_duplicate", of=row["post_id"])
            self.count("forum_africa", code, "exact_duplicate")
        # junk
        spam_line = "PATA MKOPO HARAKA BILA DHAMANA!!! Piga simu sasa hivi " + PHONES["sw"][1]
        spam = "\n".join([spam_line] * 8 + ["Bonyeza hapa: https://mikopo.example.com/?ref=forum"] * 4)
        english = (
            "Hello everyone, I am new here and I do not speak Swahili very well yet. Can someone recommend "
            "a good place to buy fresh fish near the market? I heard the stalls by the bus stand are the "
            "cheapest but the quality is not always good. Thank you in advance for your help!"
        )
        junk = [
            ("sw", "@mgeni_01", "Asante sana!", None, "too_short", {}),
            ("yo", "@ade_bayo", "Ẹ ṣé o!", None, "too_short", {}),
            ("sw", "@mikopo_haraka", spam, None, "keyword_spam", {"pii": ["phone"]}),
            ("sw", "@newbie_kate", english, "sw", "wrong_language", {"actual": "en"}),
            ("yo", "@lol_lol", " ".join(["hahaha"] * 60), None, "repetition", {}),
        ]
        for code, handle, body, language, kind, extra in junk:
            row = add(code, handle, body, language)
            self.plant("forum_africa", row["post_id"], "junk", type=kind, **extra)
            self.count("forum_africa", extra.get("actual", code), "junk")
        write_csv(
            out / "forum_africa" / "posts.csv", ["post_id", "language", "author_handle", "body", "posted_at"], rows
        )
        return len(rows)

    # -- broken_forum: jsonl with malformed lines, on_error: skip ------------------------------
    def broken_forum(self, out: Path):
        en = self.comp["en"]
        threads = [
            "General chat",
            "Around town",
            "Weekend",
            "Questions",
            "Garden and allotments",
            "Tech help",
            "Food and baking",
            "Walks",
            "Lost and found",
            "Repairs",
        ]
        authors = [
            "@hollow_walker",
            "@breadhead",
            "@spokes",
            "@tomato_tom",
            "@quietreader",
            "@netnerd",
            "@cinnamon",
            "@ridgeline",
            "@catfinder",
            "@fixit",
        ]
        lines: list[bytes] = []
        for i in range(10):
            doc = en.compose(["forum"], (3, 6), sizes=(2, 3))
            rid = f"bf-{len(lines) + 1:04d}"
            if i == 5:
                doc.paragraphs.append(
                    [
                        en.render(
                            "The router's address is {ip} and I can ping it from my laptop, but the login page never loads.",
                            doc.ctx,
                        )
                    ]
                )
                self.plant("broken_forum", rid, "pii", types=["ipv4"], lang="en")
            if i == 8:
                doc.paragraphs.append(["If anyone has seen it, please send me a message at finder@example.org."])
                self.plant("broken_forum", rid, "pii", types=["email"], lang="en")
            rec = {
                "id": rid,
                "thread": threads[i],
                "author": authors[i],
                "posted_at": f"2026-10-{i + 1:02d}T12:00:00Z",
                "text": doc.text(),
            }
            lines.append(json.dumps(rec, ensure_ascii=False, sort_keys=True).encode("utf-8"))
            self.count("broken_forum", "en", "original")
            bad = {
                1: (
                    b'{"author": "@spokes", "id": "bf-%04d", "text": "I fixed the brakes but the chain still slips'
                    % (len(lines) + 1),
                    "bad_json",
                ),
                3: (
                    json.dumps(
                        {
                            "author": "@netnerd",
                            "body": "Has anyone tried turning it off and on again?",
                            "id": f"bf-{len(lines) + 1:04d}",
                            "thread": "Tech help",
                        },
                        sort_keys=True,
                    ).encode(),
                    "missing_text",
                ),
                5: (
                    b'{"author": "@latin1", "id": "bf-%04d", "text": "Meet at the caf\xe9 at 10, bring \xff\xfe cake"}'
                    % (len(lines) + 1),
                    "invalid_utf8",
                ),
                7: (
                    json.dumps(
                        {"author": "@quiet", "id": f"bf-{len(lines) + 1:04d}", "text": "", "thread": "Walks"},
                        sort_keys=True,
                    ).encode(),
                    "empty_text",
                ),
            }.get(i)
            if bad:
                lines.append(bad[0])
                self.plant("broken_forum", f"line {len(lines)}", "malformed", error=bad[1])
        write_bytes(out / "broken_forum" / "threads.jsonl", b"\n".join(lines) + b"\n")
        return len(lines)

    # -- code_snippets: plain jsonl, python + javascript ---------------------------------------
    def code_snippets(self, out: Path):
        rng = random.Random(f"{SEED}-code")
        py, js = load_code("python"), load_code("javascript")
        generated = []
        # Python: an auto-generated table, a protoc-style module, a fork and an edited copy
        names = {
            "ar": "Arabic",
            "en": "English",
            "es": "Spanish",
            "eu": "Basque",
            "fi": "Finnish",
            "fr": "French",
            "hi": "Hindi",
            "id": "Indonesian",
            "pt": "Portuguese",
            "sw": "Swahili",
            "vi": "Vietnamese",
            "yo": "Yoruba",
            "zh-Hans": "Chinese (Simplified)",
            "zh-Hant": "Chinese (Traditional)",
            "ca": "Catalan",
            "bn": "Bengali",
            "ur": "Urdu",
            "ta": "Tamil",
            "te": "Telugu",
            "mr": "Marathi",
            "ig": "Igbo",
            "rw": "Kinyarwanda",
            "wo": "Wolof",
            "tw": "Twi",
            "xh": "Xhosa",
            "zu": "Zulu",
            "ln": "Lingala",
            "ny": "Chichewa",
        }
        body = "".join(f"    {k!r}: {v!r},\n" for k, v in sorted(names.items()))
        scripts = "".join(
            f"    {k!r}: {('Latn' if k not in ('ar', 'ur', 'hi', 'mr', 'bn', 'ta', 'te', 'zh-Hans', 'zh-Hant') else {'ar': 'Arab', 'ur': 'Arab', 'hi': 'Deva', 'mr': 'Deva', 'bn': 'Beng', 'ta': 'Taml', 'te': 'Telu', 'zh-Hans': 'Hans', 'zh-Hant': 'Hant'}[k])!r},\n"
            for k in sorted(names)
        )
        generated.append(
            {
                "repo": "i18n-pack/locales",
                "path": "locales/_generated_names.py",
                "language": "python",
                "license": "Apache-2.0",
                "content": "# -*- coding: utf-8 -*-\n# AUTO-GENERATED FILE - DO NOT EDIT.\n"
                "# Generated by tools/gen_language_names.py from data/languages.csv\n\n"
                f"LANGUAGE_NAMES = {{\n{body}}}\n\nSCRIPTS = {{\n{scripts}}}\n\n"
                "__all__ = ['LANGUAGE_NAMES', 'SCRIPTS']\n",
            }
        )
        blob = bytes(rng.randrange(256) for _ in range(420))
        descriptor = "".join(f"\\x{b:02x}" for b in blob)
        generated.append(
            {
                "repo": "proto-demo/api",
                "path": "api/messages_pb2.py",
                "language": "python",
                "license": "Apache-2.0",
                "content": "# -*- coding: utf-8 -*-\n# Generated by the protocol buffer compiler.  DO NOT EDIT!\n"
                '# source: api/messages.proto\n"""Generated protocol buffer code."""\n'
                "from google.protobuf import descriptor as _descriptor\n"
                "from google.protobuf import descriptor_pool as _descriptor_pool\n"
                "from google.protobuf import symbol_database as _symbol_database\n"
                "from google.protobuf.internal import builder as _builder\n\n"
                "_sym_db = _symbol_database.Default()\n\n\n"
                f"DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile(b'{descriptor}')\n\n"
                "_globals = globals()\n_builder.BuildMessageAndEnumDescriptors(DESCRIPTOR, _globals)\n"
                "_builder.BuildTopDescriptorsAndMessages(DESCRIPTOR, 'api.messages_pb2', _globals)\n",
            }
        )
        slugify = py[0]
        generated.append(dict(slugify, repo="jdoe-forks/textutils"))
        flow = py[1]
        edited = (
            flow["content"]
            .replace("roughness: float = 0.035", "roughness: float = 0.030")
            .replace('"""Mean velocity in m/s."""', '"""Mean velocity in m/s (Manning, SI units)."""')
            .replace("def discharge(", "def flow_rate(")
            .replace("discharge(stream)", "flow_rate(stream)")
        )
        generated.append(
            dict(flow, repo="student-2023/hydro-homework", path="hw3/flow.py", license="MIT", content=edited)
        )
        # JavaScript: an auto-generated icon map, a minified bundle, a fork and an edited copy
        icons = "".join(
            f"  {name}: 'M{rng.randint(0, 24)} {rng.randint(0, 24)}L{rng.randint(0, 24)} {rng.randint(0, 24)}"
            f"l{rng.randint(-9, 9)} {rng.randint(-9, 9)}h{rng.randint(1, 9)}v{rng.randint(1, 9)}z',\n"
            for name in [
                "home",
                "search",
                "user",
                "bell",
                "calendar",
                "map",
                "leaf",
                "sun",
                "cloud",
                "rain",
                "fish",
                "bread",
                "book",
                "bike",
                "bridge",
                "tree",
                "bird",
                "mail",
                "phone",
                "share",
            ]
        )
        generated.append(
            {
                "repo": "icons-pack/icons",
                "path": "dist/icons.js",
                "language": "javascript",
                "license": "MIT",
                "content": "// This file is auto-generated by scripts/build-icons.js. Do not edit by hand.\n"
                f"// Source: icons/*.svg ({20} icons)\n\nexport const icons = {{\n{icons}}};\n\n"
                "export default icons;\n",
            }
        )
        by_path = {f["path"]: f for f in js}
        generated.append(
            {
                "repo": "acme-web/debounce",
                "path": "dist/kit.min.js",
                "language": "javascript",
                "license": "MIT",
                "content": minify_bundle(
                    [
                        by_path["src/lru.js"]["content"],
                        by_path["src/debounce.js"]["content"],
                        by_path["src/validators.js"]["content"],
                    ]
                ),
            }
        )
        generated.append(dict(by_path["src/validators.js"], repo="someone-else/validate-fork"))
        cal = by_path["src/calendar.js"]
        generated.append(
            dict(
                cal,
                repo="parish-events/site",
                content=cal["content"]
                .replace("(weeks starting on Monday)", "(weeks starting on Sunday)")
                .replace("const offset = (first.getUTCDay() + 6) % 7;", "const offset = first.getUTCDay();")
                .replace(
                    "['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']",
                    "['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']",
                ),
            )
        )
        records = py + js + generated
        order = list(range(len(records)))
        rng.shuffle(order)
        records = [records[i] for i in order]
        for rec in records:
            self.count("code_snippets", rec["language"], "file")
        for rec in generated:
            kind = {
                "locales/_generated_names.py": ("auto_generated", {}),
                "api/messages_pb2.py": ("auto_generated", {}),
                "dist/icons.js": ("auto_generated", {}),
                "dist/kit.min.js": ("minified", {}),
            }.get(rec["path"])
            key = f"{rec['repo']}/{rec['path']}"
            if kind:
                self.plant("code_snippets", key, kind[0])
            elif rec["repo"] in ("jdoe-forks/textutils", "someone-else/validate-fork"):
                orig = slugify if rec["language"] == "python" else by_path["src/validators.js"]
                self.plant("code_snippets", key, "exact_duplicate", of=f"{orig['repo']}/{orig['path']}")
            else:
                orig = flow if rec["language"] == "python" else cal
                self.plant("code_snippets", key, "near_duplicate", of=f"{orig['repo']}/{orig['path']}")
        write_bytes(
            out / "code_snippets" / "snippets.jsonl",
            jsonl_bytes([{k: r[k] for k in ("repo", "path", "language", "license", "content")} for r in records]),
        )
        return len(records)


def minify_bundle(sources: list[str]) -> str:
    """Crude, safe-enough minification of our own semicolon-terminated sources into one line."""
    out = []
    for src in sources:
        for line in src.split("\n"):
            s = line.strip()
            if not s or s.startswith(("//", "/*", "*")) or s.startswith("module.exports"):
                continue
            if not any(q in s for q in "'\"`/"):
                s = re.sub(r"\s*([{}();,:=<>+\-*?|&!])\s*", r"\1", s)
            out.append(s)
    body = "".join(out)
    line = (
        '/*! acme-kit v1.4.2 | MIT */!function(root){"use strict";'
        + body
        + "root.AcmeKit={LRU:LRU,debounce:debounce,throttle:throttle,validate:validate,luhn:luhn};}(this);\n"
    )
    assert "\n" not in line[:-1] and len(line) > 1000
    return line


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="catalogue data directory")
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST, help="where to write expected.json")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    for uid in SOURCES:
        shutil.rmtree(out / uid, ignore_errors=True)
    builder = Builder()
    written = {}
    # order matters: later sources copy texts from earlier ones
    for uid in ["books_fi", "news_hf", "wiki_sample", "web_news", "forum_africa", "broken_forum", "code_snippets"]:
        written[uid] = getattr(builder, uid)(out)
    counts = {}
    for uid in SOURCES:
        table = defaultdict(dict)
        for (lang, category), value in sorted(builder.counts[uid].items()):
            table[lang][category] = value
        counts[uid] = {"records": written[uid], "by_language": dict(sorted(table.items()))}
    manifest = {
        "description": "Ground truth for catalog/data, written by catalog/sample/build_sample.py. "
        "Ids are each source's own id field (code: repo/path; broken_forum malformed rows: line numbers). "
        "by_language counts use the text's actual language.",
        "seed": SEED,
        "counts": counts,
        "planted": builder.planted,
    }
    args.manifest.parent.mkdir(parents=True, exist_ok=True)
    args.manifest.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    for uid in SOURCES:
        print(
            f"{uid:<14} {written[uid]:>4} records  "
            + ", ".join(f"{lang}={sum(v.values())}" for lang, v in counts[uid]["by_language"].items())
        )


if __name__ == "__main__":
    main()
