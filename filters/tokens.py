"""Counting tokens with a SentencePiece model or a Hugging Face `tokenizer.json`.

Mixes are budgeted in tokens, not documents or bytes, because that is what a training run
consumes; the same corpus is 30% more or fewer tokens under another tokenizer. One small
interface over both libraries so the rest of rootstock does not care which it was given.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import sentencepiece as spm

from rootstock.errors import TokenizerError

# What a directory is searched for, in order (`rootstock tokenizer train` writes tokenizer.model).
DIR_FILES = ("tokenizer.json", "tokenizer.model")


def _resolve(path: Path) -> Path:
    if path.is_dir():
        found = [path / name for name in DIR_FILES if (path / name).is_file()]
        if not found:
            raise TokenizerError(f"{path}: directory holds none of {', '.join(DIR_FILES)}")
        path = found[0]
    if not path.is_file():
        raise TokenizerError(f"{path}: no such tokenizer file (want a SentencePiece .model or a tokenizer.json)")
    return path


class Tokenizer:
    """`count(texts)` → token counts, no special tokens (BOS/EOS are the trainer's business)."""

    def __init__(self, path: str | Path):
        path = _resolve(Path(path)).resolve()
        self._load(path, path.read_bytes())

    def _load(self, path: Path, data: bytes) -> None:
        self.path, self._data = path, data
        if not data:
            raise TokenizerError(f"{path}: empty file, not a tokenizer")
        if path.suffix == ".json":
            from tokenizers import Tokenizer as HfTokenizer  # noqa: PLC0415 - only for tokenizer.json files; not a declared dependency

            try:
                self._hf = HfTokenizer.from_str(data.decode("utf-8"))
            except Exception as err:
                raise TokenizerError(f"{path}: not a Hugging Face tokenizer.json ({err})") from err
            self.kind, self.vocab_size, self._sp = "tokenizers", self._hf.get_vocab_size(), None
        else:
            try:
                self._sp = spm.SentencePieceProcessor(model_proto=data)
            except Exception as err:
                raise TokenizerError(f"{path}: not a SentencePiece model ({err})") from err
            if self._sp.get_piece_size() == 0:
                raise TokenizerError(f"{path}: not a SentencePiece model (no pieces)")
            self.kind, self.vocab_size, self._hf = "sentencepiece", self._sp.get_piece_size(), None
        self.sha256 = hashlib.sha256(data).hexdigest()

    def count(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        if self._sp is not None:
            return [len(ids) for ids in self._sp.encode(list(texts))]
        return [len(enc.ids) for enc in self._hf.encode_batch(list(texts), add_special_tokens=False)]

    def describe(self) -> dict[str, Any]:
        """What a manifest records so a count can be traced to the exact tokenizer file."""
        return {"path": str(self.path), "sha256": self.sha256, "kind": self.kind, "vocab_size": self.vocab_size}

    # Beam pickles DoFns holding a Tokenizer. The native objects do not pickle; the file's bytes
    # do, and travelling with them lets remote workers (Dataflow, Spark) count without access to
    # the path on the machine that launched the job.
    def __getstate__(self):
        return {"path": str(self.path), "data": self._data}

    def __setstate__(self, state):
        if "data" in state:
            self._load(Path(state["path"]), state["data"])
        else:  # pickled by the earlier, path-only version
            self.__init__(state["path"])
