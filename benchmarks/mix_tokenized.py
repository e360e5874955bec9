"""Tokenized mix output on one core: what `--format megatron,nanoset` adds to a mix.

    .venv/bin/python benchmarks/mix_tokenized.py --docs 20000

Generates documents from the sample's sentence pools (8 languages, 1–12 sentences each),
trains the demo SentencePiece tokenizer (BPE, 2,000 pieces, byte fallback) or takes --tokenizer,
pins the process to one core, and times, per phase, tokens per second:

- count: `Tokenizer.count`, what every mix already pays while reading;
- encode + pack: `Tokenizer.encode` and the EOS-terminated ids the read step keeps instead;
- write: one shard in both token formats (`tokenized.shard_files`: .bin/.idx, .ds/.index/.metadata
  and the two sidecars) into a temporary directory.

The Beam job's own overhead (shuffle, Parquet) is what `benchmarks/throughput.py` measures.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for path in (REPO, REPO / "catalog" / "sample"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import demo_tokenizer  # noqa: E402
from sample_texts import topic_sentences  # noqa: E402

from rootstock.filters.tokens import Tokenizer  # noqa: E402
from rootstock.pipeline.mix import tokenized  # noqa: E402

LANGS = ("en", "fr", "fi", "sw", "es", "ar", "hi", "zhs")
BATCH = 256  # the mix's TOKEN_BATCH


def documents(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    pools = {lang: topic_sentences(lang, fill="Kivelä") for lang in LANGS}
    return [" ".join(rng.choices(pools[LANGS[i % len(LANGS)]], k=rng.randint(1, 12))) for i in range(n)]


def timed(label: str, tokens: int, nbytes: int, fn) -> float:
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    print(f"{label:<14} {seconds:7.2f} s  {tokens / seconds / 1e6:6.2f} M tokens/s  {nbytes / seconds / 1e6:6.1f} MB/s")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=20_000)
    ap.add_argument("--tokenizer", help="SentencePiece .model or tokenizer.json (default: the demo tokenizer)")
    args = ap.parse_args()
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, SentencePiece's threads too
    with tempfile.TemporaryDirectory() as tmp:
        tok = Tokenizer(args.tokenizer or demo_tokenizer.train(Path(tmp) / "tok.model"))
        texts = documents(args.docs)
        nbytes = sum(len(t.encode()) for t in texts)
        batches = [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]
        total = sum(sum(tok.count(b)) for b in batches)
        print(f"{len(texts):,} documents, {nbytes / 1e6:.1f} MB, {total:,} tokens ({tok.kind}, vocab {tok.vocab_size})")
        out = tokenized.token_output(("megatron", "nanoset"), tok, {"bench": "bench"})
        timed("count", total, nbytes, lambda: [tok.count(b) for b in batches])
        docs: list[dict] = []

        def encode():
            for batch in batches:
                for ids in tok.encode(batch):
                    docs.append({tokenized.IDS: out.pack(ids), "tokens": len(ids)})

        timed("encode + pack", total, nbytes, encode)
        for i, d in enumerate(docs):
            d.update(mix_component="bench", source="bench", lang=LANGS[i % len(LANGS)], id=f"d{i}", epoch=0)
        root = Path(tmp) / "out"
        timed(
            "write",
            total,
            nbytes,
            lambda: tokenized.shard_files(str(root), "part-00000-of-00001", docs, out, {"rows": len(docs)}),
        )


if __name__ == "__main__":
    main()
