"""The mix as a Beam graph: read and count, cut the fractional epoch, emit copies, write shuffled shards.

Read the shards, count each document's tokens (the `tokens` column is exact), build a
token-weighted histogram of sampling positions per bucket, cut it where the fractional epoch's
target is met, emit every document floor(rate) times plus once more if below the cut, and write
the copies shuffled across components and languages: shard = hash(seed, component, id, epoch)
mod M, rows sorted by that hash inside a shard. M follows from the output's rows and text bytes
(`shards` in the spec), so the same spec gives byte-identical shards on any runner.

Output: `data/part-NNNNN-of-MMMMM.parquet` with every column of the components (union; a
column one release lacks is null) plus `mix_component`, `epoch` (0-based copy number) and
`tokens`; and/or the same shards as token files (`tokenized.py`): then the read step keeps
each document's ids (the ones it counted) and, without Parquet, drops the text.
"""

from __future__ import annotations

import posixpath
from typing import Any

import apache_beam as beam
import numpy as np
import pyarrow as pa

import rootstock.sources.filesystems  # noqa: F401  (registers hf://, az://, http(s)://)
from rootstock.filters.tokens import Tokenizer
from rootstock.pipeline.beam.gather import read_json_list, sum_pairs, write_json_list
from rootstock.pipeline.beam.options import pipeline_options
from rootstock.pipeline.beam.shards import ShardsConfig, num_shards, to_table, write_parquet
from rootstock.pipeline.mix.plan import (
    BINS,
    NO_CLASS,
    Available,
    Plan,
    copies,
    position_bin,
    rehydrate_class,
    shuffle_key,
    threshold,
)
from rootstock.pipeline.mix.resolve import TOKEN_BATCH, Resolved
from rootstock.pipeline.mix.spec import MixSpec
from rootstock.pipeline.mix.tokenized import IDS, TEXT_BYTES, TokenOutput, shard_files
from rootstock.pipeline.release.columns import text_bytes
from rootstock.pipeline.release.release import WORK_DIR, iter_rows


class _ReadShard(beam.DoFn):
    """(component, shard path, rehydrate) → (bucket key, position bin, row with `tokens`) per document.

    With token output, a row also carries its ids packed with the EOS (IDS) and, when no
    Parquet is written, its text's size (TEXT_BYTES) instead of the text.
    """

    def __init__(self, tokenizer: Tokenizer, seed: int, limits: list[int], tokens: TokenOutput | None = None):
        self.tokenizer, self.seed, self.limits, self.tokens = tokenizer, seed, limits, tokens

    def process(self, element):
        component, path, rehydrate = element
        batch: list[dict[str, Any]] = []
        for row in iter_rows(path, batch_size=TOKEN_BATCH):
            batch.append(row)
            if len(batch) >= TOKEN_BATCH:
                yield from self._emit(component, rehydrate, batch)
                batch = []
        if batch:
            yield from self._emit(component, rehydrate, batch)

    def _emit(self, component, rehydrate, rows):
        texts = [r["text"] for r in rows]
        ids = self.tokenizer.encode(texts) if self.tokens else None
        counts = [len(i) for i in ids] if ids is not None else self.tokenizer.count(texts)
        for i, (row, n) in enumerate(zip(rows, counts, strict=True)):
            cls = rehydrate_class(row.get("dup_cluster_size"), self.limits) if rehydrate else NO_CLASS
            row["mix_component"] = component
            row["tokens"] = n
            if ids is not None:
                row[IDS] = self.tokens.pack(ids[i])
                if not self.tokens.keep_text:
                    row[TEXT_BYTES] = text_bytes(row)
                    del row["text"]
            yield (component, row["lang"], cls), position_bin(self.seed, component, row["id"]), row


def _text_bytes(doc: dict[str, Any]) -> int:
    """The text's UTF-8 size, also of a row whose text was dropped (token output only)."""
    return doc[TEXT_BYTES] if TEXT_BYTES in doc else text_bytes(doc)


def _read(p, resolved: list[Resolved], tokenizer: Tokenizer, spec: MixSpec, tokens: TokenOutput | None = None):
    units = [(r.name, path, r.rehydrate) for r in resolved for path in r.shard_paths()]
    return (
        p
        | "Shards" >> beam.Create(units)
        | "Spread" >> beam.Reshuffle()
        | "ReadCount" >> beam.ParDo(_ReadShard(tokenizer, spec.seed, list(spec.rehydrate.weights), tokens))
    )


def _bucket_row(step: str, bucket: tuple[str, str, int], **values) -> dict[str, Any]:
    """A count row of the mix: step, bucket (component, language, rehydration class), values."""
    component, lang, cls = bucket
    return {"step": step, "component": component, "lang": lang, "cls": cls, **values}


def _count_row(kv) -> dict[str, Any]:
    bucket, (docs, tokens) = kv
    return _bucket_row("available", bucket, docs=docs, tokens=tokens)


def count_available(
    spec: MixSpec, resolved: list[Resolved], tokenizer: Tokenizer, beam_args, workdir: str
) -> list[Available]:
    """The first pass: tokens per (component, language, class); writes only a small JSON file."""
    path = posixpath.join(workdir, "available.json")
    with beam.Pipeline(options=pipeline_options(beam_args)) as p:
        counts = (
            _read(p, resolved, tokenizer, spec)
            | "Key" >> beam.Map(lambda d: (d[0], (1, d[2]["tokens"])))
            | "Sum" >> beam.CombinePerKey(sum_pairs)
            | "Rows" >> beam.Map(_count_row)
        )
        write_json_list(counts, path, "available")
    return [Available(r["component"], r["lang"], r["cls"], r["docs"], r["tokens"]) for r in read_json_list(path)]


class _Histogram(beam.CombineFn):
    """Per bucket: documents, tokens, and tokens per position bin (the sampling histogram)."""

    def create_accumulator(self):
        return [0, 0, None]

    def add_input(self, acc, value):
        position, tokens = value
        if acc[2] is None:
            acc[2] = np.zeros(BINS, dtype=np.int64)
        acc[0] += 1
        acc[1] += tokens
        acc[2][position] += tokens
        return acc

    def merge_accumulators(self, accumulators):
        out = self.create_accumulator()
        for docs, tokens, hist in accumulators:
            out[0] += docs
            out[1] += tokens
            if hist is not None:
                out[2] = hist.copy() if out[2] is None else out[2] + hist
        return out

    def extract_output(self, acc):
        return acc


def _cut(kv, rates):
    """(bucket, histogram) → (bucket, (cut, docs, tokens)): the fractional epoch's cut."""
    key, (docs, tokens, hist) = kv
    full, frac = rates.get(key, (0, 0.0))
    cut = threshold(hist, frac * tokens) if frac > 0 and hist is not None else 0
    return key, (cut, docs, tokens)


def _emit_copies(element, cuts, rates):
    key, position, row = element
    full, _ = rates.get(key, (0, 0.0))
    for epoch in range(copies(full, position, cuts[key][0])):
        yield key, {**row, "epoch": epoch}


def _achieved(values):
    rows = tokens = unique = 0
    top = -1
    for r, t, u, e in values:
        rows, tokens, unique, top = rows + r, tokens + t, unique + u, max(top, e)
    return rows, tokens, unique, top


class _WriteMixShard(beam.DoFn):
    """One shard: Parquet and/or token files. The record is the Parquet file's, else the first
    token format's sidecar; every other file goes under `artifacts`."""

    def __init__(self, root: str, shards: ShardsConfig, schema: pa.Schema, tokens: TokenOutput | None = None):
        self.root, self.shards, self.schema, self.tokens = root, shards, schema, tokens

    def process(self, element):
        (index, total), keyed = element
        keyed = sorted(
            (kd for kd in keyed if kd is not None),
            key=lambda kd: (kd[0], kd[1]["mix_component"], kd[1]["id"], kd[1]["epoch"]),
        )
        docs = [d for _, d in keyed]
        stem = f"part-{index:05d}-of-{total:05d}"
        summary = {
            "rows": len(docs),
            "text_bytes": sum(_text_bytes(d) for d in docs),
            "tokens": sum(d["tokens"] for d in docs),
            "languages": sorted({d["lang"] for d in docs}),
            "sources": sorted({d["source"] for d in docs}),
            "components": sorted({d["mix_component"] for d in docs}),
        }
        files = []
        if self.tokens is None or self.tokens.keep_text:
            rel = f"data/{stem}.parquet"
            written = write_parquet(to_table(docs, self.schema), posixpath.join(self.root, rel), self.shards)
            files.append({"path": rel, **summary, **written})
        if self.tokens is None:
            yield files[0]
            return
        files += shard_files(self.root, stem, docs, self.tokens, summary)
        yield {**files[0], "training_tokens": summary["tokens"] + len(docs), "artifacts": files[1:]}


class WriteMixShards(beam.PTransform):
    """Copies → data/part-i-of-M.parquet, shuffled across components and languages.

    M = num_shards(rows, text bytes) of the whole output; a copy's shard is its shuffle key
    mod M and rows are sorted by the key inside a shard. Every shard file exists even if empty.
    """

    def __init__(
        self, root: str, shards: ShardsConfig, schema: pa.Schema, seed: int, tokens: TokenOutput | None = None
    ):
        super().__init__()
        self.root, self.shards, self.schema, self.seed, self.tokens = root, shards, schema, seed, tokens

    def expand(self, docs):
        shards, seed = self.shards, self.seed
        total = (
            docs
            | "Size" >> beam.Map(lambda d: (1, _text_bytes(d)))
            | "SumSize" >> beam.CombineGlobally(sum_pairs)
            | "NumShards" >> beam.Map(lambda size: num_shards(size[0], size[1], shards))
        )
        placeholders = total | "PlanShards" >> beam.FlatMap(lambda m: [((i, m), None) for i in range(m)])

        def assign(d, m):
            key = shuffle_key(seed, d["mix_component"], d["id"], d["epoch"])
            return (key % m, m), (key, d)

        assigned = docs | "AssignShard" >> beam.Map(assign, m=beam.pvalue.AsSingleton(total))
        return (
            (assigned, placeholders)
            | "WithPlaceholders" >> beam.Flatten()
            | "GroupShards" >> beam.GroupByKey()
            | "WriteParquet" >> beam.ParDo(_WriteMixShard(self.root, shards, self.schema, self.tokens))
        )


def build_graph(
    p,
    staging: str,
    spec: MixSpec,
    resolved: list[Resolved],
    tokenizer: Tokenizer,
    the_plan: Plan,
    schema: pa.Schema,
    tokens: TokenOutput | None = None,
):
    rates = the_plan.rates()
    docs = _read(p, resolved, tokenizer, spec, tokens)
    cuts = (
        docs
        | "KeyPosition" >> beam.Map(lambda d: (d[0], (d[1], d[2]["tokens"])))
        | "Histogram" >> beam.CombinePerKey(_Histogram())
        | "Cut" >> beam.Map(_cut, rates=rates)
    )
    keyed = docs | "Copies" >> beam.FlatMap(_emit_copies, cuts=beam.pvalue.AsDict(cuts), rates=rates)
    written = keyed | "Docs" >> beam.Map(lambda kd: kd[1])
    shards = written | "Write" >> WriteMixShards(staging, spec.shards, schema, spec.seed, tokens)
    available = cuts | "AvailableRows" >> beam.Map(
        lambda kv: _bucket_row("available", kv[0], docs=kv[1][1], tokens=kv[1][2], cut=kv[1][0])
    )
    achieved = (
        keyed
        | "KeyAchieved"
        >> beam.Map(lambda kd: (kd[0], (1, kd[1]["tokens"], 1 if kd[1]["epoch"] == 0 else 0, kd[1]["epoch"])))
        | "SumAchieved" >> beam.CombinePerKey(_achieved)
        | "AchievedRows"
        >> beam.MapTuple(
            lambda bucket, a: _bucket_row("achieved", bucket, rows=a[0], tokens=a[1], unique_docs=a[2], max_epoch=a[3])
        )
    )
    work = posixpath.join(staging, WORK_DIR)
    write_json_list(shards, posixpath.join(work, "shards.json"), "shards")
    write_json_list(
        (available, achieved) | "AllCounts" >> beam.Flatten(), posixpath.join(work, "counts.json"), "counts"
    )
