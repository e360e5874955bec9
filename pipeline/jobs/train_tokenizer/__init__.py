"""`rootstock tokenizer train RELEASE --vocab-size N`: a SentencePiece model, trained as BLOOM's was.

BLOOM's tokenizer was trained on a language-weighted sample of its corpus, p_l ∝ n_l^α with
α = 0.3 over language sizes (bytes here, as BLOOM used sizes), so that low-resource languages
get pieces of their own instead of being spelled out in bytes; and with duplicated lines
removed, because repeated boilerplate otherwise becomes whole-line tokens. `sample` plans and
draws that sample (a Beam pipeline, deterministic), `train` runs SentencePiece on it with byte
fallback on, and `card` records exactly what the model was trained on.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from apache_beam.io.filesystems import FileSystems

from rootstock.errors import TokenizerTrainError
from rootstock.paths import absolute, is_url
from rootstock.pipeline.jobs.train_tokenizer.card import (
    CARD_VERSION,
    language_rows,
    render_readme,
    tokenizer_card,
    write_card,
)
from rootstock.pipeline.jobs.train_tokenizer.sample import (
    BUCKET_BYTES,
    SAMPLE_BYTES,
    build_sample,
    language_sizes,
    plan_sample,
)
from rootstock.pipeline.jobs.train_tokenizer.train import (
    CHARACTER_COVERAGE,
    MAX_LINE_BYTES,
    MAX_SENTENCES,
    MODEL_TYPES,
    train_sentencepiece,
    trainer_options,
)
from rootstock.pipeline.release.footprint import finish_job, measured, phase
from rootstock.pipeline.release.release import Release

EXCLUDED_BY_DEFAULT = ("und",)  # undetermined language: not a language to give a share to


@measured("tokenizer")  # the card's footprint: sampling and training
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

    all_sizes = language_sizes(manifest)
    if langs:
        unknown = sorted(set(langs) - set(all_sizes))
        if unknown:
            raise TokenizerTrainError(f"{release}: no documents in language(s) {unknown}; it has {sorted(all_sizes)}")
        sizes = {lang: n for lang, n in all_sizes.items() if lang in langs}
    else:
        sizes = {lang: n for lang, n in all_sizes.items() if lang not in EXCLUDED_BY_DEFAULT}
    if not any(sizes.values()):
        raise TokenizerTrainError(f"{release}: no text to train on")
    plan = plan_sample(sizes, alpha, sample_bytes)

    output.mkdir(parents=True, exist_ok=True)
    work = work_dir or str(output / "_work")
    if not is_url(work):
        shutil.rmtree(work, ignore_errors=True)
    sample_path = output / "sample.txt"
    try:
        with phase("sample"):
            stats = build_sample(release, manifest["shards"], plan, sample_path, work, seed=seed, beam_args=beam_args)
    finally:
        if is_url(work):
            if FileSystems.exists(work + "/"):
                FileSystems.delete([work + "/"])
        else:
            shutil.rmtree(work, ignore_errors=True)
    languages = language_rows(plan, stats)
    options = trainer_options(
        vocab_size=vocab_size,
        model_type=model_type,
        character_coverage=character_coverage,
        threads=threads or min(os.cpu_count() or 1, 16),
    )
    try:
        unique_lines = sum(row["unique_lines"] for row in languages)
        with phase("train"):
            train_sentencepiece(sample_path, output / "tokenizer", options, seed=seed, lines=unique_lines)
        card = tokenizer_card(
            opened,
            plan,
            languages,
            options,
            output=output,
            sample_path=sample_path,
            alpha=alpha,
            seed=seed,
            sample_bytes=sample_bytes,
            excluded_languages=sorted(set(all_sizes) - set(plan)),
            keep_sample=keep_sample,
        )
    finally:
        if not keep_sample:
            sample_path.unlink(missing_ok=True)
    card["footprint"] = finish_job(beam_args)
    write_card(output, card)
    return card


__all__ = [
    "BUCKET_BYTES",
    "CARD_VERSION",
    "CHARACTER_COVERAGE",
    "EXCLUDED_BY_DEFAULT",
    "MAX_LINE_BYTES",
    "MAX_SENTENCES",
    "MODEL_TYPES",
    "SAMPLE_BYTES",
    "build_sample",
    "plan_sample",
    "render_readme",
    "train_sentencepiece",
    "train_tokenizer",
    "trainer_options",
]
