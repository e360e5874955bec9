"""Filter throughput per language: LID alone, the whole quality stage, and datatrove's Gopher filters.

    .venv/bin/python benchmarks/filters.py --docs-per-lang 10000

Documents are built from the bundled sample's sentence pools (catalog/sample/texts, original
text in 14 languages), ~8 sentences each, shuffled with a fixed seed. For each language it
times, on the same documents in the same process (one core):
  lid       fastText lid.176.ftz, batched (filters.langid)
  quality   ROOTS modification + all metrics + first failure (the quality stage's logic)
  datatrove GopherQualityFilter (with this language's stop words) + GopherRepetitionFilter
and prints docs/s and MB/s. datatrove is skipped for a language whose word tokenizer would
need a model download.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "catalog" / "sample"))

from sample_texts import topic_sentences  # noqa: E402

from rootstock.filters import quality as q  # noqa: E402
from rootstock.filters import wordlists, words  # noqa: E402
from rootstock.filters.langid import LanguageIdentifier  # noqa: E402

LANGS = ["en", "fr", "es", "pt", "id", "fi", "sw", "yo", "eu", "ar", "hi", "vi", "zhs", "zht"]


def corpus(lang: str, n: int, seed: int = 0) -> list[str]:
    rng = random.Random(f"{seed}-{lang}")
    sentences = topic_sentences(lang)
    sep = "" if lang in ("zhs", "zht") else " "
    return [sep.join(rng.choice(sentences) for _ in range(8)) for _ in range(n)]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def datatrove_filters(lang: str):
    from datatrove.data import Document
    from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter

    from rootstock.catalog.registry import load_registry

    key = load_registry()[lang].word_tokenizer
    if key is None or "downloads models" in words.tokenizer_name(lang):
        return None
    stop = sorted(wordlists.stopwords(lang) or [])
    quality = GopherQualityFilter(stop_words=stop or None, min_stop_words=2 if stop else None, language=key)
    repetition = GopherRepetitionFilter(language=key)

    def run(texts):
        for i, text in enumerate(texts):
            doc = Document(text=text, id=str(i))
            quality.filter(doc) is True and repetition.filter(doc)

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs-per-lang", type=int, default=10_000)
    ap.add_argument("--langs", default=",".join(LANGS))
    args = ap.parse_args()
    lid = LanguageIdentifier()
    print(
        f"{'lang':5} {'docs':>6} {'MB':>6} | {'lid docs/s':>10} {'MB/s':>6} | {'quality docs/s':>14} {'MB/s':>6} | "
        f"{'datatrove docs/s':>16} {'MB/s':>6}"
    )
    for lang in args.langs.split(","):
        texts = corpus(lang, args.docs_per_lang)
        mb = sum(len(t.encode()) for t in texts) / 1e6
        th = q.thresholds_for(lang)

        def lid_pass():
            for i in range(0, len(texts), 256):
                lid.predict_batch(texts[i : i + 256])

        def quality_pass():
            for text in texts:
                modified = q.modify_document(text, th)
                q.first_failure(q.compute_metrics(modified, lang, th=th), th)

        q.compute_metrics(texts[0], lang, th=th)  # load tokenizers and word lists before timing
        t_lid, t_quality = timed(lid_pass), timed(quality_pass)
        dt_fn = datatrove_filters(lang)
        dt_cell = f"{'(needs download)':>16} {'':>6}"
        if dt_fn is not None:
            dt_fn(texts[:10])
            t_dt = timed(lambda: dt_fn(texts))
            dt_cell = f"{len(texts) / t_dt:16.0f} {mb / t_dt:6.2f}"
        print(
            f"{lang:5} {len(texts):6d} {mb:6.1f} | {len(texts) / t_lid:10.0f} {mb / t_lid:6.2f} | "
            f"{len(texts) / t_quality:14.0f} {mb / t_quality:6.2f} | {dt_cell}",
            flush=True,
        )


if __name__ == "__main__":
    main()
