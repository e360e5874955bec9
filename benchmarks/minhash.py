"""MinHash throughput, text → signature, for the implementations filters/minhash.py chose among.

    /tmp/venv1/bin/python benchmarks/minhash.py [--docs 2000] [--repeat 3]

Documents are ~2 KB (UTF-8) of sentences from the bundled sample's pools (catalog/sample/texts,
lines under `@topic` headers, `{placeholders}` filled from the file's @towns/@people lists and
numbers), in 14 languages, fixed seed. Every row starts from the text and uses the SAME shingles
(filters.minhash.shingles: word 5-grams, character 5-grams for zhs/zht, as uint64 hashes), 128
permutations, seed 1, on one core (RAYON_NUM_THREADS=1). Rows:

  shingles only          filters.minhash.shingles per document / shingles_batch
  datasketch update      MinHash.update per shingle (hashfunc: low 32 bits of our hash, i.e. free)
  datasketch update_batch MinHash.update_batch (same hashfunc)
  numpy                  vectorised universal hashing ((a·x + b) mod 2^64) >> 32, per document
  numpy batch            the same over 16-document chunks with np.minimum.reduceat
  rensa CMinHash         CMinHash.digests64_from_token_hash_sets (batch; no per-document int API)
  rensa RMinHash         RMinHash.digest_matrix_from_flat_token_hashes, one row per call
  MinHasher              the chosen one: signature(shingles(text)) per document, and
                         text_signatures(texts) per batch (shingles_batch + one rensa call)

Then the ratio MinHasher / datasketch update_batch, and for reference what word splitting with
filters.words.split_words alone costs (on a subset: it is slow).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # one core, like the other rows

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from rootstock.filters import minhash as mh  # noqa: E402

TEXTS = REPO / "catalog" / "sample" / "texts"
LANGS = ["en", "fr", "es", "pt", "id", "fi", "sw", "yo", "eu", "ar", "hi", "vi", "zhs", "zht"]
NO_SPACE = {"zhs", "zht"}
NUMBERS = {"year": (1850, 1990), "n": (2, 90), "few": (2, 9), "temp": (28, 41), "big": (120, 4000)}


def pools(lang: str) -> tuple[list[str], dict[str, list[str]]]:
    """(topic sentences, {"town": [...], "person": [...]}) of a sample text file."""
    sentences, lists, section = [], {"town": [], "person": []}, None
    for line in (TEXTS / f"{lang}.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            section = line[1:].split()[0]
        elif section == "topic":
            sentences.append(line)
        elif section in ("towns", "people"):
            lists["town" if section == "towns" else "person"].append(line)
    return sentences, lists


def fill(sentence: str, lists: dict[str, list[str]], rng: random.Random) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if lists.get(name):
            return rng.choice(lists[name])
        low, high = NUMBERS.get(name, (2, 99))
        return str(rng.randint(low, high))

    return re.sub(r"\{(\w+)\}", value, sentence)


def documents(count: int, size: int = 2000, seed: int = 0) -> tuple[list[str], list[str]]:
    """`count` documents of >= `size` UTF-8 bytes, languages in turn."""
    rng = random.Random(seed)
    loaded = {lang: pools(lang) for lang in LANGS}
    texts, langs = [], []
    for i in range(count):
        lang = LANGS[i % len(LANGS)]
        sentences, lists = loaded[lang]
        sep = "" if lang in NO_SPACE else " "
        parts, used = [], 0
        while used < size:
            parts.append(fill(rng.choice(sentences), lists, rng))
            used += len(parts[-1].encode("utf-8")) + len(sep)
        texts.append(sep.join(parts))
        langs.append(lang)
    return texts, langs


class NumpyMinHash:
    """Classic MinHash, 128 multiply-add-shift hash functions applied with one outer product."""

    def __init__(self, num_perm: int = 128, seed: int = 1):
        rng = np.random.Generator(np.random.PCG64(seed))
        self.a = rng.integers(0, 2**64 - 1, num_perm, dtype=np.uint64, endpoint=True) | np.uint64(1)
        self.b = rng.integers(0, 2**64 - 1, num_perm, dtype=np.uint64, endpoint=True)

    def signature(self, shingles: np.ndarray) -> np.ndarray:
        if len(shingles) == 0:
            return np.full(len(self.a), mh.EMPTY, dtype=np.uint32)
        values = np.multiply.outer(shingles, self.a)
        values += self.b
        values >>= np.uint64(32)
        return values.min(axis=0).astype(np.uint32)

    def signatures(self, flat: np.ndarray, offsets: np.ndarray, chunk: int = 16) -> np.ndarray:
        out = np.full((len(offsets) - 1, len(self.a)), mh.EMPTY, dtype=np.uint32)
        for lo in range(0, len(offsets) - 1, chunk):
            hi = min(lo + chunk, len(offsets) - 1)
            start, stop = offsets[lo], offsets[hi]
            if stop == start:
                continue
            values = np.multiply.outer(flat[start:stop], self.a)
            values += self.b
            values >>= np.uint64(32)
            local = np.minimum(offsets[lo:hi] - start, stop - start - 1)
            mins = np.minimum.reduceat(values, local, axis=0).astype(np.uint32)
            nonempty = np.diff(offsets[lo : hi + 1]) > 0
            out[lo:hi][nonempty] = mins[nonempty]
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5, help="rounds over all rows; best round per row")
    ap.add_argument(
        "--split-words-docs", type=int, default=140, help="documents for the split_words reference (0: skip)"
    )
    args = ap.parse_args()

    import datasketch

    texts, langs = documents(args.docs)
    pairs = list(zip(texts, langs, strict=True))
    mean_bytes = sum(len(t.encode("utf-8")) for t in texts) / len(texts)
    hasher = mh.MinHasher(num_perm=128, seed=1)
    mh.shingles(texts[0], langs[0])  # build the class table outside the timings
    hasher.text_signatures(texts[:10], langs[:10])
    sets = [mh.shingles(t, lang) for t, lang in pairs]
    print(
        f"{len(texts)} documents, {len(set(langs))} languages, mean {mean_bytes:.0f} bytes, "
        f"mean {np.mean([len(s) for s in sets]):.0f} shingles; 128 permutations, best of {args.repeat}"
    )

    low32 = 0xFFFFFFFF

    def ds_update():
        out = []
        for text, lang in pairs:
            m = datasketch.MinHash(num_perm=128, seed=1, hashfunc=lambda x: x & low32)
            for value in mh.shingles(text, lang).tolist():
                m.update(value)
            out.append(m.hashvalues)
        return out

    def ds_update_batch():
        out = []
        for text, lang in pairs:
            m = datasketch.MinHash(num_perm=128, seed=1, hashfunc=lambda x: x & low32)
            m.update_batch(mh.shingles(text, lang).tolist())
            out.append(m.hashvalues)
        return out

    numpy_hasher = NumpyMinHash(128, 1)
    per_doc_name, batch_name = "MinHasher.signature(shingles()) per document", "MinHasher.text_signatures (batch)"
    candidates: list[tuple[str, object, int]] = [
        ("shingles only (per document)", lambda: [mh.shingles(t, lang) for t, lang in pairs], args.repeat),
        ("shingles only (shingles_batch)", lambda: mh.shingles_batch(texts, langs), args.repeat),
        ("datasketch MinHash.update loop", ds_update, 1),
        ("datasketch MinHash.update_batch", ds_update_batch, args.repeat),
        (
            "numpy universal hash (per document)",
            lambda: [numpy_hasher.signature(mh.shingles(t, lang)) for t, lang in pairs],
            args.repeat,
        ),
        (
            "numpy universal hash (batch)",
            lambda: numpy_hasher.signatures(*mh.shingles_batch(texts, langs)),
            args.repeat,
        ),
    ]
    try:
        import rensa
    except ImportError:
        print("  rensa is not installed: rensa rows skipped")
    else:

        def cminhash():
            flat, offsets = mh.shingles_batch(texts, langs)
            groups = [flat[offsets[i] : offsets[i + 1]].tolist() for i in range(len(texts))]
            return rensa.CMinHash.digests64_from_token_hash_sets(groups, 128, 1)

        def rminhash():
            out = []
            for text, lang in pairs:
                flat = mh.shingles(text, lang)
                offsets = np.array([0, len(flat)], dtype=np.uint64)
                matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, 128, 1)
                out.append(matrix.to_rows()[0])
            return out

        candidates += [
            ("rensa CMinHash (batch)", cminhash, args.repeat),
            ("rensa RMinHash (per document)", rminhash, args.repeat),
        ]
    candidates += [
        (per_doc_name, lambda: [hasher.signature(mh.shingles(t, lang)) for t, lang in pairs], args.repeat),
        (batch_name, lambda: hasher.text_signatures(texts, langs), args.repeat),
    ]
    # Rounds over all rows, best time per row: a noisy neighbour slows every row alike.
    best: dict[str, float] = {}
    results: dict[str, object] = {}
    for round_ in range(args.repeat):
        for name, fn, repeat in candidates:
            if round_ < repeat:
                start = time.perf_counter()
                results[name] = fn()
                best[name] = min(best.get(name, float("inf")), time.perf_counter() - start)
    rows = [(name, len(texts) / best[name]) for name, _, _ in candidates]
    for name, _, _ in candidates:
        print(f"  {name:46} {len(texts) / best[name]:9,.0f} docs/s  {best[name] / len(texts) * 1e6:8.1f} µs/doc")
    same = np.array_equal(np.array(results[per_doc_name]), results[batch_name])
    assert same, "batch and per-document signatures differ"

    rate = dict(rows)
    base = rate["datasketch MinHash.update_batch"]
    print(
        f"ratio MinHasher / datasketch update_batch: per document {rate[per_doc_name] / base:.1f}x, "
        f"batch {rate[batch_name] / base:.1f}x"
    )

    if args.split_words_docs:
        from rootstock.filters.words import split_words

        subset = [pairs[i] for i in range(min(args.split_words_docs, len(pairs)))]
        for text, lang in subset[: len(LANGS)]:
            split_words(text, lang)  # build each tokenizer outside the timing
        start = time.perf_counter()
        for text, lang in subset:
            split_words(text.lower(), lang)
        seconds = time.perf_counter() - start
        print(
            f"reference: filters.words.split_words alone on {len(subset)} of these documents: "
            f"{len(subset) / seconds:,.0f} docs/s ({seconds / len(subset) * 1e3:.1f} ms/doc)"
        )


if __name__ == "__main__":
    main()
