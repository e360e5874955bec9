"""Counting tokens with a SentencePiece model or a Hugging Face `tokenizer.json`.

Mixes are budgeted in tokens, not documents or bytes, because that is what a training run
consumes; the same corpus is 30% more or fewer tokens under another tokenizer. One small
interface over both libraries so the rest of rootstock does not care which it was given.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import sentencepiece as spm

from rootstock.errors import TokenizerError

# What a directory is searched for, in order (`rootstock tokenizer train` writes tokenizer.model).
DIR_FILES = ("tokenizer.json", "tokenizer.model")
# A tokenizer.json has no EOS field: the sibling tokenizer_config.json names it (transformers'
# layout), else the first of these that is a special token (BLOOM, Llama 2, T5: </s>; GPT-2 and
# GPT-NeoX: <|endoftext|>; Llama 3: <|end_of_text|>; Gemma: <eos>).
EOS_CANDIDATES = ("</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>")


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
    """`count(texts)` → token counts, `encode(texts)` → ids; no special tokens (BOS/EOS are the
    trainer's business, or a tokenized mix's, which appends `eos()` to every document)."""

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

    def encode(self, texts: list[str]) -> list[list[int]]:
        """Token ids per text, no special tokens: `count` is `len` of these."""
        if not texts:
            return []
        if self._sp is not None:
            return self._sp.encode(list(texts))
        return [enc.ids for enc in self._hf.encode_batch(list(texts), add_special_tokens=False)]

    def eos(self, token: str | None = None) -> tuple[int, str]:
        """(id, piece) of the end-of-document token that tokenized mix output appends to every document.

        TOKEN names it; otherwise the SentencePiece model's `eos_id`, or for a tokenizer.json the
        `eos_token` of a tokenizer_config.json beside it, else a special token of EOS_CANDIDATES.
        """
        if self._sp is not None:
            if token is None:
                found = self._sp.eos_id()
                if found < 0:
                    raise TokenizerError(f"{self.path}: the model has no EOS piece (eos_id -1); name one")
                return found, self._sp.id_to_piece(found)
            found = self._sp.piece_to_id(token)
            if self._sp.id_to_piece(found) != token:  # piece_to_id gives <unk>'s id for an unknown piece
                raise TokenizerError(f"{self.path}: no piece {token!r} in the vocabulary")
            return found, token
        if token is None:
            token = self._configured_eos()
        found = self._hf.token_to_id(token) if token is not None else None
        if found is None:
            raise TokenizerError(
                f"{self.path}: "
                + (
                    f"no token {token!r} in the vocabulary"
                    if token
                    else f"no EOS token found (none of {EOS_CANDIDATES})"
                )
                + "; name one"
            )
        return found, token

    def _configured_eos(self) -> str | None:
        config = self.path.parent / "tokenizer_config.json"
        if config.is_file():
            try:
                value = json.loads(config.read_text(encoding="utf-8")).get("eos_token")
            except (ValueError, AttributeError):
                value = None
            if isinstance(value, dict):
                value = value.get("content")
            if isinstance(value, str) and value:
                return value
        special = {t.content for t in self._hf.get_added_tokens_decoder().values() if t.special}
        return next((c for c in EOS_CANDIDATES if c in special), None)

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
