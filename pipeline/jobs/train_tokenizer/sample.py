"""The language-weighted, line-deduplicated sample a tokenizer is trained on.

`plan_sample` is the arithmetic (byte targets per language); `build_sample` is the Beam
pipeline that draws documents against those targets, because a release can be far larger
than the sample. The draw is deterministic: a document is in if its hash(seed, id) rank is
below its language's byte target, so every worker and every run picks the same documents.
"""

from __future__ import annotations

import hashlib
import posixpath
import shutil
from pathlib import Path
from typing import Any

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from rootstock.pipeline.beam.gather import read_json_list, write_json_list
from rootstock.pipeline.beam.options import pipeline_options
from rootstock.pipeline.jobs.count_tokens import shard_cell
from rootstock.pipeline.jobs.train_tokenizer.train import MAX_LINE_BYTES

SAMPLE_BYTES = 200_000_000
BUCKET_BYTES = 32 << 20  # the sample is written in hash-ordered buckets of about this size

# ----------------------------------------------------------------------------- planning


def language_sizes(manifest: dict[str, Any]) -> dict[str, int]:
    """UTF-8 text bytes per language over the release's data shards."""
    sizes: dict[str, int] = {}
    for shard in manifest["shards"]:
        _, lang = shard_cell(shard)
        sizes[lang] = sizes.get(lang, 0) + shard["text_bytes"]
    return sizes


def plan_sample(sizes: dict[str, int], alpha: float, sample_bytes: int) -> dict[str, dict[str, Any]]:
    """Per-language byte targets: p_l = n_l^α / Σ_k n_k^α of min(sample_bytes, Σ n).

    A language cannot give more than it has (repeating text would only be removed again as
    duplicate lines), so a capped language takes everything and the rest of its target is
    spread over the others in the same proportions (water-filling).
    """
    sizes = {lang: n for lang, n in sizes.items() if n > 0}
    total_n = sum(sizes.values())
    weights = {lang: n**alpha for lang, n in sizes.items()}
    z = sum(weights.values())
    remaining, free, targets = min(sample_bytes, total_n), set(sizes), {}
    while free:
        zf = sum(weights[lang] for lang in free)
        capped = {lang for lang in free if weights[lang] / zf * remaining >= sizes[lang]}
        if not capped:
            targets.update({lang: weights[lang] / zf * remaining for lang in free})
            break
        for lang in capped:
            targets[lang] = sizes[lang]
            remaining -= sizes[lang]
        free -= capped
    return {
        lang: {
            "release_bytes": sizes[lang],
            "natural_share": sizes[lang] / total_n,
            "target_share": weights[lang] / z,
            "target_bytes": int(round(targets[lang])),
            "capped": targets[lang] >= sizes[lang],
        }
        for lang in sorted(sizes)
    }


def candidate_rates(plan: dict[str, dict[str, Any]], shards: list[dict[str, Any]]) -> dict[str, float]:
    """Per language, the rank below which a document is a candidate.

    Twice the target's share of documents plus about 20 more, so that the lowest ranks reach
    the target; documents above it are never shuffled.
    """
    docs: dict[str, int] = {}
    for shard in shards:
        lang = shard_cell(shard)[1]
        docs[lang] = docs.get(lang, 0) + shard["rows"]
    return {
        lang: min(1.0, 2 * p["target_bytes"] / p["release_bytes"] + 20 / max(docs.get(lang, 1), 1))
        for lang, p in plan.items()
    }


def _unit(seed: int, key: str) -> float:
    """A uniform number in [0, 1) from (seed, key): the same on every worker and every run."""
    digest = hashlib.blake2b(f"{seed}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


# ----------------------------------------------------------------------------- the Beam pipeline


class _Candidates(beam.DoFn):
    """Documents of a shard whose rank is low enough that they may be needed (2x the target)."""

    def __init__(self, release: str, rates: dict[str, float], seed: int):
        self.release, self.rates, self.seed = release, rates, seed

    def process(self, shard: dict[str, Any]):
        rate = self.rates[shard["lang"]]
        with FileSystems.open(posixpath.join(self.release, shard["path"])) as handle:
            for batch in pq.ParquetFile(handle).iter_batches(columns=["id", "text"], batch_size=1024):
                for doc_id, text in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True):
                    u = _unit(self.seed, str(doc_id))
                    if u < rate and text:
                        yield shard["lang"], (u, str(doc_id), text)


def _take(item, targets: dict[str, int]):
    """Lowest-ranked documents of a language until its byte target is reached."""
    lang, docs = item
    taken = 0
    for u, doc_id, text in sorted(docs):
        if taken >= targets[lang]:
            break
        taken += len(text.encode("utf-8"))
        yield lang, u, doc_id, text


def _doc_stats(doc):
    lang, _, _, text = doc
    lines = [line for line in text.split("\n") if line.strip()]
    return lang, {"docs": 1, "bytes": len(text.encode("utf-8")), "lines": len(lines)}


def _lines(doc):
    lang, u, doc_id, text = doc
    for index, line in enumerate(text.split("\n")):
        if line.strip():
            yield line.strip(), ((u, doc_id, index), lang, line.rstrip())


class _First(beam.CombineFn):
    """Of all occurrences of a line: the first in rank order (which one is kept), and how many."""

    def create_accumulator(self):
        return None, 0

    def add_input(self, acc, value):
        return self.merge_accumulators([acc, (value, 1)])

    def merge_accumulators(self, accs):
        firsts = [first for first, _ in accs if first is not None]
        return (min(firsts) if firsts else None), sum(n for _, n in accs)

    def extract_output(self, acc):
        return acc


class _SumDicts(beam.CombineFn):
    def create_accumulator(self):
        return {}

    def add_input(self, acc, value):
        for key, n in value.items():
            acc[key] = acc.get(key, 0) + n
        return acc

    def merge_accumulators(self, accs):
        out: dict[str, int] = {}
        for acc in accs:
            self.add_input(out, acc)
        return out

    def extract_output(self, acc):
        return acc


def _kept_stats(item):
    _, ((_, lang, raw), _) = item
    size = len(raw.encode("utf-8")) + 1
    return lang, {"kept_lines": 1, "kept_bytes": size, "long_lines": int(size - 1 > MAX_LINE_BYTES)}


def _bucket(item, seed: int, buckets: int):
    key, ((_, _, raw), _) = item
    u = _unit(seed, key)
    return int(u * buckets), (u, raw)


def _write_bucket(item, work: str) -> str:
    bucket, rows = item
    path = posixpath.join(work, f"bucket-{bucket:05d}.txt")
    with FileSystems.create(path) as handle:
        handle.write("".join(raw + "\n" for _, raw in sorted(rows)).encode("utf-8"))
    return path


def build_sample(
    release: str,
    shards: list[dict[str, Any]],
    plan: dict[str, dict[str, Any]],
    sample_path: Path,
    work: str,
    *,
    seed: int,
    beam_args: list[str] | None,
) -> dict[str, dict[str, int]]:
    """Draw the sample, dedup its lines, write SAMPLE_PATH; per-language counts.

    Unique lines are written in the order of hash(seed, line), so the file is the same bytes
    on every run and languages are interleaved (SentencePiece may subsample from it).
    """
    targets = {lang: p["target_bytes"] for lang, p in plan.items()}
    rates = candidate_rates(plan, shards)
    total = sum(targets.values())
    buckets = max(1, -(-total // BUCKET_BYTES))
    entries = [{"path": s["path"], "lang": shard_cell(s)[1]} for s in shards]
    entries = [e for e in entries if targets.get(e["lang"], 0) > 0]
    FileSystems.mkdirs(work)
    stats_path = posixpath.join(work, "stats.json")
    with beam.Pipeline(options=pipeline_options(beam_args)) as p:
        picked = (
            p
            | "Shards" >> beam.Create(entries)
            | "Spread" >> beam.Reshuffle()
            | "Candidates" >> beam.ParDo(_Candidates(release, rates, seed))
            | "ByLang" >> beam.GroupByKey()
            | "Take" >> beam.FlatMap(_take, targets)
        )
        unique = picked | "Lines" >> beam.FlatMap(_lines) | "Dedup" >> beam.CombinePerKey(_First())
        write_json_list(
            (picked | "DocStats" >> beam.Map(_doc_stats), unique | "KeptStats" >> beam.Map(_kept_stats))
            | "AllStats" >> beam.Flatten()
            | "SumStats" >> beam.CombinePerKey(_SumDicts()),
            stats_path,
            "stats",
        )
        (
            unique
            | "Bucket" >> beam.Map(_bucket, seed, buckets)
            | "GroupBuckets" >> beam.GroupByKey()
            | "WriteBuckets" >> beam.Map(_write_bucket, work)
        )
    stats = dict(read_json_list(stats_path))
    parts = sorted(m.path for m in FileSystems.match([posixpath.join(work, "bucket-*.txt")])[0].metadata_list)
    with open(sample_path, "wb") as out:
        for part in parts:
            with FileSystems.open(part) as handle:
                shutil.copyfileobj(handle, out)
    return stats
