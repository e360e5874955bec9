"""Train a small SentencePiece tokenizer from the sample's sentence pools, in 0.2 s, for tests.

(`make mix-demo` trains its tokenizer the BLOOM way with `rootstock tokenizer train`; this one
needs no release first, which keeps the mix tests fast.) A mix is budgeted in tokens, so its
tests need a tokenizer, and nothing may be downloaded:
this trains a BPE model with byte fallback (every UTF-8 string encodes, like BLOOM's byte-level
BPE) on the sample's own sentence pools (`catalog/sample/texts/`, every language plus the code
files). It is a stand-in for BLOOM's 250k tokenizer (`bigscience/tokenizer`), which a real
BLOOM or BLUUMI mix names in its spec. Single-threaded training on sorted input, so the model
file is the same on every run.

    python catalog/sample/demo_tokenizer.py build/tokenizers/demo.model
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sentence pools beside this file

from sample_texts import TEXTS, topic_sentences


def sentences() -> list[str]:
    out: list[str] = []
    for path in sorted(TEXTS.glob("*.txt")):
        if path.stem.startswith("code_"):
            out += [
                line
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("%%%")
            ]
        else:
            out += topic_sentences(path.stem)
    return out


def train(path: str | Path, vocab_size: int = 2000) -> Path:
    """Write a SentencePiece model to `path` (a `.model` file) and return it."""
    import io

    import sentencepiece as spm

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences()),
        model_writer=model,
        model_type="bpe",
        vocab_size=vocab_size,
        byte_fallback=True,
        character_coverage=1.0,
        num_threads=1,
        minloglevel=2,
    )
    path.write_bytes(model.getvalue())
    return path


if __name__ == "__main__":
    target = train(sys.argv[1] if len(sys.argv) > 1 else "build/tokenizers/demo.model")
    print(f"wrote {target}")
