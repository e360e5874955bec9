"""`rootstock tokenizer train RELEASE --vocab-size N`: a SentencePiece model, trained as BLOOM's was.

BLOOM's tokenizer was trained on a language-weighted sample of its corpus, p_l ∝ n_l^α with
α = 0.3 over language sizes (bytes here, as BLOOM used sizes), so that low-resource languages
get pieces of their own instead of being spelled out in bytes; and with duplicated lines
removed, because repeated boilerplate otherwise becomes whole-line tokens. The sample is
drawn by a Beam pipeline (a release can be far larger than the sample), deterministically: a
document is in if its hash(seed, id) rank is below its language's byte target. SentencePiece
then trains on one local text file, one unique line per line, with byte fallback on so no
text ever maps to <unk>. A card records exactly what the model was trained on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import posixpath
import re
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

import apache_beam as beam
import pyarrow.parquet as pq
import sentencepiece as spm
from apache_beam.io.filesystems import FileSystems

from rootstock.catalog.registry import load_registry
from rootstock.errors import TokenizerTrainError
from rootstock.paths import absolute, file_sha256, is_url
from rootstock.pipeline.beam.gather import read_json_list, write_json_list
from rootstock.pipeline.beam.options import pipeline_options
from rootstock.pipeline.jobs.count_tokens import shard_cell
from rootstock.pipeline.release.release import Release

CARD_VERSION = 1
SAMPLE_BYTES = 200_000_000
MODEL_TYPES = ("bpe", "unigram")
# With byte fallback, characters outside the coverage become byte pieces, not <unk>; 0.9995
# (SentencePiece's advice for CJK-sized alphabets) keeps thousands of rare CJK characters
# from taking vocabulary slots that whole words of smaller languages need. 1.0 would not.
CHARACTER_COVERAGE = 0.9995
MAX_SENTENCES = 10_000_000  # lines SentencePiece loads (a seeded random subset if there are more)
MAX_LINE_BYTES = 4192  # SentencePiece's max_sentence_length: longer lines are skipped, and counted here
BUCKET_BYTES = 32 << 20  # the sample is written in hash-ordered buckets of about this size
EXCLUDED_BY_DEFAULT = ("und",)  # undetermined language: not a language to give a share to


# ----------------------------------------------------------------------------- planning


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
    docs: dict[str, int] = {}
    for shard in shards:
        lang = shard_cell(shard)[1]
        docs[lang] = docs.get(lang, 0) + shard["rows"]
    # Candidates: twice the target's share of documents plus ~20 more, so that the lowest
    # ranks reach the target; the rest are never shuffled.
    rates = {
        lang: min(1.0, 2 * p["target_bytes"] / p["release_bytes"] + 20 / max(docs.get(lang, 1), 1))
        for lang, p in plan.items()
    }
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


# ----------------------------------------------------------------------------- training


def trainer_options(*, vocab_size: int, model_type: str, character_coverage: float, threads: int) -> dict[str, Any]:
    """SentencePiece settings; recorded on the card as given."""
    return {
        "vocab_size": vocab_size,
        "model_type": model_type,
        "byte_fallback": True,
        "character_coverage": character_coverage,
        # BLOOM's tokenizer used no normalization; NFKC and whitespace squeezing would also
        # lose code indentation and distinctions some scripts need.
        "normalization_rule_name": "identity",
        "remove_extra_whitespaces": False,
        "input_sentence_size": MAX_SENTENCES,
        "shuffle_input_sentence": True,
        "max_sentence_length": MAX_LINE_BYTES,
        # Not train_extremely_large_corpus: sentencepiece 0.2 ignores it (64-bit by default).
        "num_threads": threads,
    }


def _explain(err: RuntimeError, options: dict[str, Any], lines: int, size: int) -> str:
    text, vocab = str(err), options["vocab_size"]
    if match := re.search(r"Vocabulary size too high \((\d+)\)\. Please set it to a value <= (\d+)", text):
        return (
            f"--vocab-size {vocab} is too large for this sample: SentencePiece can only form {match.group(2)} pieces "
            f"from {lines:,} unique lines ({size:,} bytes). Lower --vocab-size to at most {match.group(2)}, or sample "
            f"more text (--sample-bytes), if the release has more."
        )
    if match := re.search(r"smaller than required_chars\. (\d+) vs (\d+)", text):
        return (
            f"--vocab-size {vocab} is too small: the characters covering {options['character_coverage']} of the "
            f"sample plus the 256 byte and 3 special pieces need {match.group(2)}. Raise --vocab-size, or lower "
            f"--character-coverage (byte fallback covers the rest)."
        )
    return f"SentencePiece failed: {text}"


def train_sentencepiece(sample_path: Path, prefix: Path, options: dict[str, Any], *, seed: int, lines: int) -> None:
    """PREFIX.model and PREFIX.vocab from the sample.

    Lines go in through an iterator and the model comes back as bytes: given a file name,
    SentencePiece stores the input and output paths inside the model, and the same sample
    would give a different file in another directory.
    """

    spm.set_random_generator_seed(seed)
    model = io.BytesIO()
    try:
        with open(sample_path, encoding="utf-8") as handle:
            spm.SentencePieceTrainer.train(
                sentence_iterator=(line.rstrip("\n") for line in handle), model_writer=model, minloglevel=1, **options
            )
    except RuntimeError as err:
        raise TokenizerTrainError(_explain(err, options, lines, sample_path.stat().st_size)) from None
    prefix.with_suffix(".model").write_bytes(model.getvalue())
    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
    vocab = "".join(f"{sp.id_to_piece(i)}\t{sp.get_score(i):g}\n" for i in range(sp.get_piece_size()))
    prefix.with_suffix(".vocab").write_text(vocab, encoding="utf-8")  # the format spm_train writes


# ----------------------------------------------------------------------------- the command


def _release_identity(release: Release) -> dict[str, Any]:
    shards = "".join(
        f"{s['path']} {s['sha256']}\n" for s in sorted(release.manifest["shards"], key=lambda s: s["path"])
    )
    return {
        "id": release.id,
        "path": release.path,
        "manifest_sha256": release.manifest_sha256,
        # Stays the same when only the manifest changes (e.g. count-tokens adds counts).
        "data_sha256": hashlib.sha256(shards.encode()).hexdigest(),
    }


def _language_sizes(manifest: dict[str, Any]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for shard in manifest["shards"]:
        _, lang = shard_cell(shard)
        sizes[lang] = sizes.get(lang, 0) + shard["text_bytes"]
    return sizes


def train_tokenizer(
    release: str,
    output: str | Path,
    *,
    vocab_size: int,
    alpha: float = 0.3,
    model_type: str = "bpe",
    sample_bytes: int = SAMPLE_BYTES,
    seed: int = 0,
    character_coverage: float = CHARACTER_COVERAGE,
    langs: list[str] | None = None,
    threads: int | None = None,
    beam_args: list[str] | None = None,
    work_dir: str | None = None,
    keep_sample: bool = False,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Sample RELEASE, train, write OUTPUT/{tokenizer.model, tokenizer.vocab, tokenizer_card.json, README.md}.

    Returns the card. WORK_DIR (default OUTPUT/_work) holds the sample's parts while the
    pipeline runs; on a remote runner it must be a URL the workers can write to.
    """
    release = absolute(release)
    if model_type not in MODEL_TYPES:
        raise TokenizerTrainError(f"--model-type must be one of {', '.join(MODEL_TYPES)}, not {model_type!r}")
    if not 0 <= alpha <= 1:
        raise TokenizerTrainError(f"--alpha must be in [0, 1] (1 = natural shares, 0 = equal shares), not {alpha}")
    output = Path(output)
    if (output / "tokenizer.model").exists() and not overwrite:
        raise TokenizerTrainError(f"{output} already holds a tokenizer; pass --overwrite to replace it")
    opened = Release.open(release, kind="release")
    manifest = opened.manifest

    sizes = _language_sizes(manifest)
    if langs:
        unknown = sorted(set(langs) - set(sizes))
        if unknown:
            raise TokenizerTrainError(f"{release}: no documents in language(s) {unknown}; it has {sorted(sizes)}")
        sizes = {lang: n for lang, n in sizes.items() if lang in langs}
    else:
        sizes = {lang: n for lang, n in sizes.items() if lang not in EXCLUDED_BY_DEFAULT}
    if not any(sizes.values()):
        raise TokenizerTrainError(f"{release}: no text to train on")
    plan = plan_sample(sizes, alpha, sample_bytes)

    output.mkdir(parents=True, exist_ok=True)
    work = work_dir or str(output / "_work")
    if not is_url(work):
        shutil.rmtree(work, ignore_errors=True)
    sample_path = output / "sample.txt"
    try:
        stats = build_sample(release, manifest["shards"], plan, sample_path, work, seed=seed, beam_args=beam_args)
    finally:
        if is_url(work):
            if FileSystems.exists(work + "/"):
                FileSystems.delete([work + "/"])
        else:
            shutil.rmtree(work, ignore_errors=True)
    languages = _language_rows(plan, stats)
    unique_lines = sum(row["unique_lines"] for row in languages)
    options = trainer_options(
        vocab_size=vocab_size,
        model_type=model_type,
        character_coverage=character_coverage,
        threads=threads or min(os.cpu_count() or 1, 16),
    )
    try:
        train_sentencepiece(sample_path, output / "tokenizer", options, seed=seed, lines=unique_lines)
        card = {
            "card_version": CARD_VERSION,
            "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "release": _release_identity(opened),
            "model": {
                "file": "tokenizer.model",
                "sha256": file_sha256(output / "tokenizer.model"),
                "type": model_type,
                "vocab_size": vocab_size,
                "byte_fallback": True,
            },
            "sentencepiece_version": metadata.version("sentencepiece"),
            "sampling": {
                "alpha": alpha,
                "seed": seed,
                "unit": "bytes",
                "formula": "p_l = n_l^alpha / sum_k n_k^alpha, n_l = UTF-8 text bytes of language l in the release's data shards",
                "sample_bytes_requested": sample_bytes,
                "sample_bytes_planned": sum(p["target_bytes"] for p in plan.values()),
                "excluded_languages": sorted(set(_language_sizes(manifest)) - set(plan)),
            },
            "dedup": {
                "unit": "line (exact, after stripping whitespace), first occurrence kept, across the whole sample",
                "lines_in": sum(row["lines"] for row in languages),
                "duplicate_lines_removed": sum(row["duplicate_lines"] for row in languages),
                "lines_out": unique_lines,
            },
            "sample": {
                "sha256": file_sha256(sample_path),
                "bytes": sample_path.stat().st_size,
                "lines": unique_lines,
                "lines_over_max_length": sum(row["long_lines"] for row in languages),
                "kept": keep_sample,
            },
            "languages": languages,
            "trainer_options": options,
        }
    finally:
        if not keep_sample:
            sample_path.unlink(missing_ok=True)
    (output / "tokenizer_card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (output / "README.md").write_text(render_readme(card), encoding="utf-8")
    return card


def _language_rows(plan: dict[str, dict[str, Any]], stats: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    sampled_total = sum(s.get("bytes", 0) for s in stats.values()) or 1
    kept_total = sum(s.get("kept_bytes", 0) for s in stats.values()) or 1
    rows = []
    for lang, p in plan.items():
        s = stats.get(lang, {})
        rows.append(
            {
                "lang": lang,
                **p,
                "sampled_docs": s.get("docs", 0),
                "sampled_bytes": s.get("bytes", 0),
                "sampled_share": s.get("bytes", 0) / sampled_total,
                "lines": s.get("lines", 0),
                "unique_lines": s.get("kept_lines", 0),
                "duplicate_lines": s.get("lines", 0) - s.get("kept_lines", 0),
                "trained_bytes": s.get("kept_bytes", 0),
                "trained_share": s.get("kept_bytes", 0) / kept_total,
                "long_lines": s.get("long_lines", 0),
            }
        )
    return rows


def render_readme(card: dict[str, Any]) -> str:
    registry = load_registry()
    model, sampling, release = card["model"], card["sampling"], card["release"]
    lines = [
        f"# SentencePiece {model['type']} tokenizer, {model['vocab_size']:,} pieces",
        "",
        f"Trained by rootstock on release `{release['id']}` (manifest sha256 `{release['manifest_sha256'][:16]}…`, "
        f"data sha256 `{release['data_sha256'][:16]}…`) with sentencepiece {card['sentencepiece_version']}, byte "
        f"fallback on, no normalization. Language-weighted sample, p ∝ n^α with α = {sampling['alpha']} over bytes, "
        f"seed {sampling['seed']}; {card['dedup']['duplicate_lines_removed']:,} of {card['dedup']['lines_in']:,} lines "
        f"removed as exact duplicates; {card['sample']['bytes']:,} bytes, {card['sample']['lines']:,} lines trained on.",
        "",
        "| lang | name | natural share | target share | trained share | trained bytes | duplicate lines |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in card["languages"]:
        name = registry[row["lang"]].name if row["lang"] in registry else "?"
        capped = " (all it has)" if row["capped"] else ""
        lines.append(
            f"| {row['lang']} | {name} | {row['natural_share']:.2%} | {row['target_share']:.2%}{capped} | "
            f"{row['trained_share']:.2%} | {row['trained_bytes']:,} | {row['duplicate_lines']:,} |"
        )
    if sampling["excluded_languages"]:
        lines += ["", f"Not sampled: {', '.join(sampling['excluded_languages'])}."]
    lines += ["", "Every number above, and the exact trainer options, are in `tokenizer_card.json`.", ""]
    return "\n".join(lines)
