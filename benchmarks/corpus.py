"""A reproducible multilingual benchmark corpus: ~2 KB documents, planted duplicates and PII.

    .venv/bin/python benchmarks/corpus.py OUT_DIR --docs 20000      # write it (benchmarks/pipeline.py does this itself)

Prose comes from the bundled sample's sentence pools (catalog/sample/texts, via
catalog.sample_texts.topic_sentences) in 13 languages — en fr es pt id fi sw eu ar hi vi
zhs zht, i.e. Latin, Arabic, Devanagari and Han scripts — with Yoruba left out because
lid.176.ftz cannot identify it (see filters/langid.py). A document is a random sample of a
language's topic sentences (no sentence twice), placeholders filled per document (town, person,
numbers), grouped into paragraphs of 3–5 sentences, until it reaches 1.7–2.4 KB of UTF-8.
Two unrelated documents of one language share some sentences (the pools hold 45–70), never
enough to look like near-duplicates (5-gram Jaccard ≈ 0.1–0.3).

Planted, by position (i mod 20), among the last 4,096 originals:
  * 5% exact duplicates: verbatim copies with a new id and URL;
  * 5% near duplicates: a copy with 2–3 words (characters, for Chinese) replaced, or one
    sentence appended, or one dropped — 5-gram Jaccard ≈ 0.85–0.95 (`stats["near_jaccard"]`);
  * ~2% of originals get a PII paragraph from the language's `@pii` sentences (fake
    e-mails, phone numbers in local format, a Luhn-valid test card, checksum-valid IBAN/HETU:
    the sample's own values, catalog/sample/build_sample.py), half of them also a footer line
    with a random e-mail address and a random public IPv4.
Records are {"id", "text", "url"} (no language field: every arm routes by language ID),
written round-robin to `files` JSONL.gz files, so copies land in other files than their originals.
"""

from __future__ import annotations

import argparse
import gzip
import ipaddress
import json
import random
import re
import sys
from collections import deque
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "catalog" / "sample"  # the demo corpus's generator and sentence pools (not installed)
if str(SAMPLE) not in sys.path:
    sys.path.insert(0, str(SAMPLE))

import build_sample  # noqa: E402
from sample_texts import topic_sentences  # noqa: E402

LANGS = ["en", "fr", "es", "pt", "id", "fi", "sw", "eu", "ar", "hi", "vi", "zhs", "zht"]
NO_SPACE = {"zhs", "zht"}
_SLOT = re.compile(r"\{(\w+)\}")


class _KeepSlots(dict):
    """`topic_sentences(lang, fill=_KeepSlots())` returns the sentences with their {slots} intact."""

    def get(self, key, default=None):
        return "{" + key + "}"


class _Language:
    def __init__(self, code: str):
        self.code = code
        self.joiner = "" if code in NO_SPACE else " "
        self.sentences = topic_sentences(code, _KeepSlots())
        sections = build_sample.load_lang(code).sections
        self.towns, self.people = sections["towns"], sections["people"]
        self.pii = sections.get("pii", [])


def _public_ipv4(rng: random.Random) -> str:
    while True:
        ip = ipaddress.IPv4Address(rng.getrandbits(32))
        if ip.is_global and not ip.is_multicast:
            return str(ip)


def _render(template: str, lang: _Language, ctx: dict, rng: random.Random) -> str:
    def fill(match):
        key = match.group(1)
        if key in ctx:
            return ctx[key]
        if key == "year":
            return str(rng.randint(1560, 1990))
        if key in ("n", "few", "temp", "big"):
            lo, hi = {"n": (12, 40), "few": (3, 9), "temp": (31, 41), "big": (120, 990)}[key]
            return str(rng.randint(lo, hi))
        if key == "phone":
            return build_sample.PHONES[lang.code][0]
        if key == "ip":
            return _public_ipv4(rng)
        if key == "card":
            return build_sample.CARD
        if key == "iban":
            return build_sample.IBANS.get(lang.code, build_sample.IBANS["default"])
        if key == "hetu":
            return build_sample.HETU
        raise KeyError(f"unknown slot {key!r} in {lang.code}: {template}")

    return _SLOT.sub(fill, template)


def _paragraphs(sentences: list[str], joiner: str, rng: random.Random) -> str:
    out, i = [], 0
    while i < len(sentences):
        size = rng.randint(3, 5)
        if len(sentences) - (i + size) < 2:
            size = len(sentences) - i
        out.append(joiner.join(sentences[i : i + size]))
        i += size
    return "\n\n".join(out)


def compose(lang: _Language, rng: random.Random) -> tuple[str, list[str]]:
    """(text, the rendered sentences) of one ~2 KB original document."""
    ctx = {"town": rng.choice(lang.towns), "person": rng.choice(lang.people)}
    target = rng.randint(1700, 2400)
    order = rng.sample(range(len(lang.sentences)), len(lang.sentences))
    picked, size = [], 0
    for index in order:
        sentence = _render(lang.sentences[index], lang, ctx, rng)
        picked.append(sentence)
        size += len(sentence.encode("utf-8")) + 1
        if size >= target:
            break
    return _paragraphs(picked, lang.joiner, rng), picked


def near_copy(text: str, lang: _Language, rng: random.Random) -> str:
    """A few words (characters) replaced, or a sentence appended, or one dropped."""
    edit = rng.choice(("replace", "append", "drop"))
    if edit == "append":
        return (
            text
            + lang.joiner
            + _render(
                rng.choice(lang.sentences),
                lang,
                {"town": rng.choice(lang.towns), "person": rng.choice(lang.people)},
                rng,
            )
        )
    if edit == "drop":
        paragraphs = text.split("\n\n")
        longest = max(range(len(paragraphs)), key=lambda i: len(paragraphs[i]))
        splitter = "。" if lang.code in NO_SPACE else ". "
        parts = paragraphs[longest].split(splitter)
        if len(parts) > 2:
            del parts[rng.randrange(1, len(parts) - 1)]
            paragraphs[longest] = splitter.join(parts)
            return "\n\n".join(paragraphs)
    # replace 2–3 words (characters in Chinese) with others of the same document
    if lang.code in NO_SPACE:
        chars = list(text)
        positions = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff"]
        for i in rng.sample(positions, 3):
            chars[i] = chars[rng.choice(positions)]
        return "".join(chars)
    words = text.split(" ")
    for i in rng.sample(range(len(words)), rng.randint(2, 3)):
        words[i] = rng.choice(words)
    return " ".join(words)


def _pii_paragraph(lang: _Language, rng: random.Random) -> tuple[str, set[str]]:
    ctx = {"town": rng.choice(lang.towns), "person": rng.choice(lang.people)}
    templates = rng.sample(lang.pii, min(len(lang.pii), rng.randint(1, 2)))
    kinds = {
        k
        for t in templates
        for slot, k in (
            ("{phone}", "phone"),
            ("{ip}", "ip"),
            ("{card}", "card"),
            ("{iban}", "iban"),
            ("{hetu}", "national_id"),
        )
        if slot in t
    }
    text = lang.joiner.join(_render(t, lang, ctx, rng) for t in templates)
    if rng.random() < 0.5:  # a web-page footer: a personal e-mail address and the poster's IP
        name = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9)))
        text += f"\n{name}.{rng.randint(1, 99)}@mail.example.net | {_public_ipv4(rng)}"
        kinds.add("ip")
    if build_sample.EMAIL_RE.search(text) or "@mail.example.net" in text:
        kinds.add("email")
    return text, kinds


def write_corpus(
    out: Path, docs: int, files: int = 8, seed: int = 2026, langs: list[str] | None = None, pii_rate: float = 0.02
) -> dict:
    """Write `docs` documents to out/part-NNN.jsonl.gz; return what was planted."""
    rng = random.Random(seed)
    languages = [_Language(code) for code in (langs or LANGS)]
    out.mkdir(parents=True, exist_ok=True)
    handles = [gzip.open(out / f"part-{i:03d}.jsonl.gz", "wt", encoding="utf-8", compresslevel=1) for i in range(files)]
    recent: deque[tuple[_Language, str]] = deque(maxlen=4096)
    stats = {
        "docs": docs,
        "bytes": 0,
        "files": files,
        "languages": [lang.code for lang in languages],
        "exact": 0,
        "near": 0,
        "pii_docs": 0,
        "pii": {},
    }
    near_pairs: list[tuple[str, str, str]] = []
    for i in range(docs):
        kind = "original"
        if recent and i % 20 == 10:
            kind = "exact"
        elif recent and i % 20 == 15:
            kind = "near"
        if kind == "original":
            lang = languages[rng.randrange(len(languages))]
            text, _ = compose(lang, rng)
            if lang.pii and rng.random() < pii_rate:
                paragraph, kinds = _pii_paragraph(lang, rng)
                text += "\n\n" + paragraph
                stats["pii_docs"] += 1
                for k in kinds:
                    stats["pii"][k] = stats["pii"].get(k, 0) + 1
            recent.append((lang, text))
        else:
            lang, original = recent[rng.randrange(len(recent))]
            text = original if kind == "exact" else near_copy(original, lang, rng)
            stats[kind] += 1
            if kind == "near" and len(near_pairs) < 500:
                near_pairs.append((lang.code, original, text))
        stats["bytes"] += len(text.encode("utf-8"))
        record = {"id": f"doc-{i:07d}", "text": text, "url": f"https://{lang.code}.example.net/p/{i}"}
        handles[i % files].write(json.dumps(record, ensure_ascii=False) + "\n")
    for handle in handles:
        handle.close()
    stats["near_jaccard"] = _jaccards(near_pairs)
    return stats


def _jaccards(pairs: list[tuple[str, str, str]]) -> dict:
    """5-gram (word; character for Chinese) Jaccard of planted near pairs, with rootstock's shingles."""
    if not pairs:
        return {}
    from rootstock.filters.minhash import shingles

    values = []
    for lang, a, b in pairs:
        sa, sb = set(shingles(a, lang).tolist()), set(shingles(b, lang).tolist())
        values.append(len(sa & sb) / max(1, len(sa | sb)))
    values.sort()
    return {
        "pairs": len(values),
        "min": round(values[0], 3),
        "median": round(values[len(values) // 2], 3),
        "below_0.8": sum(v < 0.8 for v in values),
    }


def read_records(path: Path):
    """Records of a JSONL file, plain or .gz."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def import_corpus(path: Path, out: Path, files: int = 8, limit: int | None = None, text_field: str = "text") -> dict:
    """Reshard a given JSONL(.gz) corpus into out/part-NNN.jsonl.gz (every arm reads the same files)."""
    out.mkdir(parents=True, exist_ok=True)
    handles = [gzip.open(out / f"part-{i:03d}.jsonl.gz", "wt", encoding="utf-8", compresslevel=1) for i in range(files)]
    stats = {"docs": 0, "bytes": 0, "files": files, "input": str(path)}
    for i, record in enumerate(read_records(path)):
        if limit is not None and i >= limit:
            break
        text = record.get(text_field)
        if not isinstance(text, str) or not text.strip():
            continue
        row = {"id": str(record.get("id", f"doc-{i:07d}")), "text": text}
        if record.get("url"):
            row["url"] = str(record["url"])
        handles[stats["docs"] % files].write(json.dumps(row, ensure_ascii=False) + "\n")
        stats["docs"] += 1
        stats["bytes"] += len(text.encode("utf-8"))
    for handle in handles:
        handle.close()
    return stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--docs", type=int, default=20_000)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    print(json.dumps(write_corpus(args.out, args.docs, args.files, args.seed), indent=1))


if __name__ == "__main__":
    main()


def write_bench_catalog(root: Path, connector: dict, *, name: str, description: str, pii: str = "keep") -> Path:
    """A one-entry catalogue (uid `bench`) under ROOT/sources for a benchmark's generated corpus."""
    import yaml

    entry = {
        "uid": "bench",
        "name": name,
        "description": description,
        "languages": [],  # routed by language ID
        "license": {"id": "CC0-1.0"},
        "custodian": {"name": "rootstock", "type": "other", "contact": "bench@example.org"},
        "pii": {"likelihood": "none" if pii == "keep" else "somewhat_likely", "policy": pii},
        "removal_contact": "bench@example.org",
        "retrieved_at": "2026-01-01T00:00:00Z",
        "connector": connector,
    }
    (root / "sources").mkdir(parents=True, exist_ok=True)
    (root / "sources" / "bench.yaml").write_text(yaml.safe_dump(entry, sort_keys=False))
    return root
