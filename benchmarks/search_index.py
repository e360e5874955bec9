"""Search engines for `rootstock index`: tantivy against bm25s on a release's documents.

    .venv/bin/python benchmarks/search_index.py RELEASE [--copies 1] [--queries 200]

Both engines get the SAME tokens: every kept and rejected-sample document of RELEASE, split by
filters.words.split_words with its own language (jieba for Chinese, IndicNLP for Indic scripts,
spaCy elsewhere), casefolded. `--copies N` indexes N copies of the corpus (ids suffixed) to see
how the engines scale past the demo's few hundred documents. Rows:

  tokenize           split_words + unicode_words per document (shared by both; not in the rows below)
  tantivy build      IndexWriter.add_document of the words joined by spaces (two fields, words and
                     exact, cut again at the spaces by tantivy's whitespace tokenizer) plus stored
                     text and provenance, commit, wait for merges; then the directory's size
  bm25s build        BM25().index(token lists) + save(); its size (no text, no positions, no
                     fields: exact match and the language filter would need extra structures)
  query latencies    median and p95 over QUERIES queries of 1-3 words drawn from the documents:
                     ranked top-10 (tantivy: OR of terms; bm25s: retrieve k=10), phrase (tantivy
                     PhraseQuery on the exact field; bm25s: top-1000 by BM25, then a substring scan
                     over the texts it must keep in memory), tantivy ranked + a language filter
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import bm25s  # noqa: E402
import tantivy  # noqa: E402

from rootstock.filters.words import split_words, unicode_words  # noqa: E402
from rootstock.pipeline.release.release import Release, iter_rows  # noqa: E402


def load_docs(release: str, copies: int) -> list[dict]:
    opened = Release.open(release)
    docs = []
    for entry in opened.entries("shards", "rejected_shards"):
        for row in iter_rows(opened.file(entry["path"]), columns=["id", "text", "lang", "source"]):
            docs.append(row)
    return [{**d, "id": f"{d['id']}-{i}" if i else d["id"]} for i in range(copies) for d in docs]


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("release")
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args(argv)

    docs = load_docs(args.release, args.copies)
    text_bytes = sum(len(d["text"].encode()) for d in docs)
    print(f"documents: {len(docs)} ({text_bytes / 1e6:.2f} MB of text), {args.copies} copies of {args.release}")
    for d in docs[: len(docs) // args.copies]:  # load every language's splitter before timing
        split_words("warm up", d["lang"])

    start = time.perf_counter()
    unique = {}
    for d in docs:
        key = (d["text"], d["lang"])
        if key not in unique:  # copies tokenize like their original: time one of each
            words = [w.casefold() for w in split_words(d["text"], d["lang"])]
            unique[key] = (words, [w.casefold() for w in unicode_words(d["text"])])
        d["words"], d["exact"] = unique[key]
    tok_s = (time.perf_counter() - start) * args.copies
    print(f"tokenize           {len(docs) / tok_s:10.0f} docs/s  ({tok_s:.2f} s, extrapolated over copies)")

    rng = random.Random(1)
    queries = []
    for _ in range(args.queries):
        d = rng.choice(docs)
        if len(d["exact"]) < 3:
            continue
        n, i = rng.randint(1, 3), rng.randrange(len(d["exact"]) - 2)
        queries.append((d["lang"], d["exact"][i : i + n], split_words(" ".join(d["exact"][i : i + n]), d["lang"])))

    work = Path(tempfile.mkdtemp(prefix="search-bench-"))
    try:
        # --- tantivy -------------------------------------------------------------------------
        sb = tantivy.SchemaBuilder()
        for name in ("id", "lang", "source"):
            sb.add_text_field(name, stored=True, tokenizer_name="raw", fast=name == "lang")
        sb.add_text_field("words", tokenizer_name="tokens", index_option="position")
        sb.add_text_field("exact", tokenizer_name="tokens", index_option="position")
        sb.add_bytes_field("text", stored=True)
        sb.add_bytes_field("prov", stored=True)
        schema = sb.build()
        start = time.perf_counter()
        (work / "tantivy").mkdir()
        index = tantivy.Index(schema, path=str(work / "tantivy"))
        # the words arrive split: join them with spaces and let tantivy cut at the spaces
        index.register_tokenizer("tokens", tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
        writer = index.writer(heap_size=64_000_000, num_threads=1)
        for d in docs:
            doc = tantivy.Document()
            doc.add_text("id", d["id"])
            doc.add_text("lang", d["lang"])
            doc.add_text("source", d["source"])
            for field in ("words", "exact"):
                doc.add_text(field, " ".join(d[field]))
            doc.add_bytes("text", d["text"].encode())
            doc.add_bytes("prov", json.dumps({"source": d["source"], "lang": d["lang"]}).encode())
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        tv_s = time.perf_counter() - start
        tv_bytes = dir_bytes(work / "tantivy")
        index.reload()
        searcher = index.searcher()

        def tv_ranked(q, lang=None):
            terms = [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "words", w.casefold())) for w in q[2]]
            query = tantivy.Query.boolean_query(terms)
            if lang:
                query = tantivy.Query.boolean_query(
                    [(tantivy.Occur.Must, query), (tantivy.Occur.Must, tantivy.Query.term_query(schema, "lang", lang))]
                )
            return [searcher.doc(addr)["id"][0] for _, addr in searcher.search(query, 10).hits]

        def tv_phrase(q):
            words = q[1]
            query = (
                tantivy.Query.phrase_query(schema, "exact", words)
                if len(words) > 1
                else tantivy.Query.term_query(schema, "exact", words[0])
            )
            return [searcher.doc(addr)["id"][0] for _, addr in searcher.search(query, 10).hits]

        # --- bm25s ---------------------------------------------------------------------------
        start = time.perf_counter()
        model = bm25s.BM25()
        model.index([d["words"] for d in docs], show_progress=False)
        model.save(str(work / "bm25s"), show_progress=False)
        bm_s = time.perf_counter() - start
        bm_bytes = dir_bytes(work / "bm25s")
        vocab = model.vocab_dict
        texts = [d["text"].casefold() for d in docs]

        def bm_ranked(q):
            tokens = [w.casefold() for w in q[2] if w.casefold() in vocab]
            if not tokens:  # bm25s 0.3.16 fails on its own empty token ("" is in vocab_dict, not in the matrix)
                return []
            ids, scores = model.retrieve([tokens], k=min(10, len(docs)), show_progress=False, n_threads=1)
            return [i for i, s in zip(ids[0].tolist(), scores[0].tolist(), strict=True) if s > 0]

        def bm_phrase(q):
            tokens = [w for w in q[1] if w in vocab]
            if not tokens:
                return []
            ids, scores = model.retrieve([tokens], k=min(1000, len(docs)), show_progress=False, n_threads=1)
            needle = " ".join(q[1])
            return [
                i for i, s in zip(ids[0].tolist(), scores[0].tolist(), strict=True) if s > 0 and needle in texts[i]
            ][:10]

        def timed(fn, *extra):
            out, found = [], 0
            for q in queries:
                t = time.perf_counter()
                found += bool(fn(q, *extra))
                out.append((time.perf_counter() - t) * 1000)
            return (
                f"median {statistics.median(out):6.2f} ms, p95 {pct(out, 0.95):6.2f} ms, "
                f"{found}/{len(queries)} queries found something"
            )

        print(f"tantivy build      {len(docs) / tv_s:10.0f} docs/s  ({tv_s:.2f} s), {tv_bytes / 1e6:.2f} MB with text")
        print(f"bm25s build        {len(docs) / bm_s:10.0f} docs/s  ({bm_s:.2f} s), {bm_bytes / 1e6:.2f} MB (no text)")
        print(f"tantivy ranked     {timed(tv_ranked)}")
        print(f"tantivy ranked+lang {timed(lambda q: tv_ranked(q, q[0]))}")
        print(f"tantivy phrase     {timed(tv_phrase)}")
        print(f"bm25s ranked       {timed(bm_ranked)}")
        print(f"bm25s phrase scan  {timed(bm_phrase)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"command: {' '.join([os.path.relpath(sys.executable), *sys.argv])}")


if __name__ == "__main__":
    main()
