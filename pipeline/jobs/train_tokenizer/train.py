"""SentencePiece training on the sample, and its errors explained in terms of our flags.

Byte fallback is always on so no text ever maps to <unk>; SentencePiece's own errors name
its internal limits, so the common ones are restated as which flag to change.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import sentencepiece as spm

from rootstock.errors import TokenizerTrainError

MODEL_TYPES = ("bpe", "unigram")
# With byte fallback, characters outside the coverage become byte pieces, not <unk>; 0.9995
# (SentencePiece's advice for CJK-sized alphabets) keeps thousands of rare CJK characters
# from taking vocabulary slots that whole words of smaller languages need. 1.0 would not.
CHARACTER_COVERAGE = 0.9995
MAX_SENTENCES = 10_000_000  # lines SentencePiece loads (a seeded random subset if there are more)
MAX_LINE_BYTES = 4192  # SentencePiece's max_sentence_length: longer lines are skipped, and counted here


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
    """SentencePiece's error as the flag to change, where we recognise it."""
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
