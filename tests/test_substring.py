"""Substring dedup (ROOTS on OSCAR): repeated spans of ≥ N bytes removed from every document but
the first in the survivors' order, the rest byte for byte unchanged; in filters.substring and
through the dedup stage's `substring` step."""

from __future__ import annotations

import random
import string
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rootstock.filters import substring as sub
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from tests.conftest import entry, shard_digests, write_catalog, write_config

# Alphabets of filler words, several scripts: Latin, Cyrillic, Arabic, Devanagari, Han (3 bytes
# a character), Thai, and a two-letter one whose text repeats itself a lot.
ALPHABETS = {
    "latin": "abcdefghijklmnopqrstuvwxyzéèàç",
    "cyrillic": "абвгдежзийклмнопрстуфхцчшщыэюя",
    "arabic": "".join(chr(c) for c in range(0x0627, 0x064B)),
    "devanagari": "".join(chr(c) for c in range(0x0915, 0x0939)) + "ािीुूेैोौ",
    "han": "".join(chr(c) for c in range(0x4E00, 0x4E00 + 2000)),
    "thai": "".join(chr(c) for c in range(0x0E01, 0x0E2F)),
    "ab": "ab",
}


def filler(rng: random.Random, alphabet: str, size: int, sep: str = " ") -> str:
    """Random words of ALPHABET up to SIZE UTF-8 bytes: no two documents share a span of 20 bytes
    but by chance (except with the two-letter alphabet)."""
    words, total = [], 0
    while total < size:
        word = "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 8)))
        words.append(word)
        total += len(word.encode()) + len(sep)
    return sep.join(words)


def naive_spans(texts: list[str], ranks: list[int], n: int) -> list[np.ndarray]:
    """The definition, by brute force: every n-byte window of a document that an earlier document has."""
    data = [t.encode() for t in texts]
    earliest: dict[bytes, int] = {}
    for text, rank in zip(data, ranks, strict=True):
        for s in range(len(text) - n + 1):
            window = text[s : s + n]
            earliest[window] = min(earliest.get(window, rank), rank)
    out = []
    for text, rank in zip(data, ranks, strict=True):
        starts = [s for s in range(len(text) - n + 1) if earliest[text[s : s + n]] < rank]
        out.append(sub.window_spans(np.array(starts, dtype=np.int64), n) if starts else np.empty((0, 2), np.int64))
    return out


def planted_corpus(rng: random.Random, docs: int, plants: int, min_bytes: int = 50):
    """DOCS documents of mixed scripts; PLANTS spans (min_bytes to 250 bytes) each inserted in 2–5
    of them at random places. Returns (texts, spans)."""
    spans = []
    for _ in range(plants):
        alphabet = rng.choice([a for k, a in ALPHABETS.items() if k != "ab"])
        span = filler(rng, alphabet, rng.randint(min_bytes, 250))
        while len(span.encode()) < min_bytes:
            span += rng.choice(alphabet)
        spans.append(span)
    pieces = [[filler(rng, rng.choice(list(ALPHABETS.values())), rng.randint(200, 1500))] for _ in range(docs)]
    for span in spans:
        for i in rng.sample(range(docs), rng.randint(2, 5)):
            pieces[i].insert(rng.randint(0, len(pieces[i])), span)
    return [rng.choice([" ", "\n", ""]).join(p) for p in pieces], spans


def test_same_spans_as_the_definition_in_every_script():
    rng = random.Random(1)
    for trial in range(12):
        texts, _ = planted_corpus(rng, 30, 6, min_bytes=30)
        ranks = rng.sample(range(len(texts)), len(texts))
        n = rng.choice([30, 50, 64])
        w = rng.choice([1, 8, 13, n // 2, n])
        got = sub.repeated_spans(texts, ranks, n, w)
        want = naive_spans(texts, ranks, n)
        for g, expected in zip(got, want, strict=True):
            assert np.array_equal(g, expected), (trial, n, w)


def test_a_shared_span_of_exactly_n_bytes_is_always_found():
    """Winnowing's guarantee: any n bytes two documents share hold an anchor both select."""
    rng = random.Random(2)
    for _ in range(200):
        n = rng.randint(8, 64)
        w = rng.randint(1, n)
        shared = "".join(rng.choice(string.printable[:94]) for _ in range(n))  # n ASCII bytes
        a = filler(rng, ALPHABETS["latin"], rng.randint(0, 200)) + shared + filler(rng, ALPHABETS["han"], 50)
        b = filler(rng, ALPHABETS["arabic"], rng.randint(0, 200)) + shared + filler(rng, ALPHABETS["thai"], 50)
        found = sub.repeated_spans([a, b], [0, 1], n, w)
        assert len(found[0]) == 0 and np.array_equal(found[1], naive_spans([a, b], [0, 1], n)[1])
        assert (found[1][:, 1] - found[1][:, 0]).max() >= n


def test_repetitive_text_and_repeats_inside_one_document():
    a = "ab" * 300  # every window repeats inside the document: nothing to remove
    assert [len(s) for s in sub.repeated_spans([a, "c" * 99], [0, 1])] == [0, 0]
    b = "x" + "ab" * 40 + "y"
    spans = sub.repeated_spans([a, b], [0, 1])
    assert spans[1].tolist() == [[1, 81]] and sub.remove_spans(b, spans[1]).text == "xy"


def test_removal_keeps_utf8_whole_and_counts():
    han = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 40))  # 120 bytes
    text = "前" + han + "后"
    # a byte range cutting into the characters on both sides: only whole characters inside go
    start, end = len("前".encode()) - 1, len(("前" + han).encode()) + 1
    removed = sub.remove_spans(text, np.array([[start, end]]))
    assert removed.text == "前后" and removed.spans == 1 and removed.bytes == 120
    assert sub.remove_spans(text, np.empty((0, 2), np.int64)) == (text, 0, 0)
    assert sub.remove_spans("é", np.array([[1, 2]])).spans == 0  # nothing whole inside
    assert sub.merge(np.array([[5, 9], [0, 3], [3, 4], [8, 12]])).tolist() == [[0, 4], [5, 12]]


def test_no_repeats_no_change_and_short_spans_stay():
    rng = random.Random(3)
    texts = [filler(rng, rng.choice(list(ALPHABETS.values())[:6]), 800) for _ in range(40)]
    assert all(len(s) == 0 for s in sub.repeated_spans(texts, list(range(40))))
    short = "短い共有" * 3 + "abc"  # 39 bytes: under the minimum
    planted = [t + short + t[:10] for t in texts[:5]]
    assert all(len(s) == 0 for s in sub.repeated_spans(planted, list(range(5))))
    assert sub.repeated_spans([], []) == []
    assert [len(s) for s in sub.repeated_spans(["", "a" * 49, "a" * 49], [0, 1, 2])] == [0, 0, 0]  # too short
    with pytest.raises(ValueError):
        sub.check_sizes(50, 51)


def test_cost_grows_linearly_with_the_corpus():
    from tests.timing import LINEAR_BOUND, growth

    def make(n):
        rng = random.Random(n)
        texts, _ = planted_corpus(rng, n, max(1, n // 4))
        return texts, list(range(n))

    ratio = growth(lambda corpus: sub.repeated_spans(*corpus), make, 12)
    assert ratio < LINEAR_BOUND, ratio


# --- through the stage ---------------------------------------------------------------------------

LANGS = {"latin": "fr", "cyrillic": "ru", "arabic": "ar", "devanagari": "hi", "han": "zhs", "thai": "th"}


@pytest.fixture(scope="module")
def planted_release(tmp_path_factory):
    """60 documents (six scripts, each over 1.2 kB, ROOTS's largest size floor), 8 spans of
    50–250 bytes planted in 2–5 documents each, a 42-byte span in 6: the stage with the
    `substring` step, with `join: side_input`, and with `join: auto` made to take the shuffles."""
    root = tmp_path_factory.mktemp("substring")
    rng = random.Random(11)
    scripts = list(LANGS)
    pieces, langs = [], []
    for i in range(60):
        script = scripts[i % len(scripts)]
        text = filler(rng, ALPHABETS[script], 1200, "" if script in ("han", "thai") else " ")
        pieces.append(text.split(" ") if " " in text else [text[j : j + 12] for j in range(0, len(text), 12)])
        langs.append(LANGS[script])
    spans = [filler(rng, ALPHABETS[scripts[k % len(scripts)]], rng.randint(50, 250)) for k in range(8)]
    short = "Lorem ipsum dolor sit amet, consectetur."  # 40 bytes (42 with the spaces around it)
    for span, copies in [*((span, rng.randint(2, 5)) for span in spans), (short, 6)]:
        for i in rng.sample(range(len(pieces)), copies):  # between pieces: never inside another span
            pieces[i].insert(rng.randint(0, len(pieces[i])), span)
    rows = [
        {"id": f"doc{i:03d}", "lang": lang, "text": " ".join(words)}
        for i, (lang, words) in enumerate(zip(langs, pieces, strict=True))
    ]
    data = root / "catalog" / "data"
    data.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), data / "docs.parquet")
    catalog = write_catalog(
        root / "catalog",
        entry(
            "planted",
            {"kind": "parquet", "paths": ["../data/docs.parquet"], "id_field": "id", "lang_field": "lang"},
            languages=sorted(set(LANGS.values())),
        ),
    )
    manifests = {}
    for join, extra in (("side_input", {"join": "side_input"}), ("auto", {"side_input_max_docs": 0})):
        stages = {"dedup": {"enabled": True, **extra, "substring": {"enabled": True}}}
        config = write_config(root / f"{join}.yaml", catalog, root / join, stages=stages, keep_rejected="all")
        manifests[join] = run(load_config(config))
    return root, rows, spans, short, manifests


def test_planted_spans_removed_from_all_but_the_first(planted_release):
    root, rows, spans, short, manifests = planted_release
    out = {
        r["source_doc_id"]: r["text"]
        for f in (root / "side_input").glob("data/**/*.parquet")
        for r in pq.read_table(f).to_pylist()
    }
    assert len(out) == len(rows)  # nothing was emptied, nothing else dropped
    # The survivors' order: catalogue priority (all equal), then more bytes, then smaller id.
    order = sorted(rows, key=lambda r: (-len(r["text"].encode()), r["id"]))
    ranks = {r["id"]: i for i, r in enumerate(order)}
    texts = [r["text"] for r in rows]
    expected = naive_spans(texts, [ranks[r["id"]] for r in rows], 50)
    removed_bytes = removed_spans = 0
    for row, spans_of_row in zip(rows, expected, strict=True):
        want = sub.remove_spans(row["text"], spans_of_row)
        assert out[row["id"]] == want.text, row["id"]
        removed_bytes += want.bytes
        removed_spans += want.spans
        if not len(spans_of_row):
            assert out[row["id"]] == row["text"]  # byte for byte
    for span in spans:
        holders = [r for r in order if span in r["text"]]
        assert len(holders) >= 2
        assert span in out[holders[0]["id"]]
        assert not any(span in out[r["id"]] for r in holders[1:])
    assert sum(short in t for t in out.values()) == 6  # under 50 bytes: kept everywhere
    notes = {}
    for cell in manifests["side_input"]["by_source_lang"]:
        for key, n in (cell.get("notes") or {}).items():
            notes[key] = notes.get(key, 0) + n
    assert notes["dedup:substring_bytes"] == removed_bytes > 0
    assert notes["dedup:substring_spans"] == removed_spans > 0
    assert notes["dedup:substring_docs"] == sum(1 for e in expected if len(e))
    (dedup,) = [s for s in manifests["side_input"]["sources"]["planted"]["processing"] if s["step"] == "dedup"]
    assert dedup["parameters"]["steps"][-1] == "substring" and dedup["parameters"]["substring"]["min_bytes"] == 50
    assert dedup["bytes_in"] - dedup["bytes_out"] == removed_bytes
    assert "Repeated spans of ≥ 50 bytes" in (root / "side_input" / "README.md").read_text()


def test_substring_step_identical_for_both_joins(planted_release):
    root, manifests = planted_release[0], planted_release[4]
    assert shard_digests(root / "side_input") == shard_digests(root / "auto")
    (dedup,) = [s for s in manifests["auto"]["sources"]["planted"]["processing"] if s["step"] == "dedup"]
    joins = {j["step"]: (j["documents"], j["join"]) for j in dedup["parameters"]["joins"]}
    spans = manifests["auto"]["by_source_lang"]
    with_spans = sum((cell.get("notes") or {}).get("dedup:substring_docs", 0) for cell in spans)
    assert joins["substring"] == (with_spans, "shuffle") and with_spans > 0


def test_a_document_made_of_repeated_spans_is_rejected(tmp_path: Path):
    rng = random.Random(5)
    # `ab` is shorter than `a` and `b` (later in the survivors' order) and over the 1024-byte floor
    a, b = filler(rng, ALPHABETS["latin"], 1400), filler(rng, ALPHABETS["latin"], 1400)
    rows = [{"id": "a", "text": a}, {"id": "b", "text": b}, {"id": "ab", "text": a[:600] + " " + b[:600]}]
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), data / "docs.parquet")
    catalog = write_catalog(
        tmp_path / "catalog",
        entry("docs", {"kind": "parquet", "paths": ["../data/docs.parquet"], "id_field": "id"}, languages=["fr"]),
    )
    stages = {"dedup": {"enabled": True, "near": {"enabled": False}, "substring": {"enabled": True}}}
    config = write_config(tmp_path / "run.yaml", catalog, tmp_path / "out", stages=stages, keep_rejected="all")
    manifest = run(load_config(config))
    assert manifest["totals"]["dropped_by_reason"] == {"dedup:substring_only": 1}
    (rejected,) = [r for f in (tmp_path / "out").glob("rejected/**/*.parquet") for r in pq.read_table(f).to_pylist()]
    assert rejected["source_doc_id"] == "ab" and rejected["text"] == rows[2]["text"]  # rejected as it came
    signatures = [
        r for f in (tmp_path / "out").glob("dedup/signatures/**/*.parquet") for r in pq.read_table(f).to_pylist()
    ]
    assert len(signatures) == 2  # its signature left with it
