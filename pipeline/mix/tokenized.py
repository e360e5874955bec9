"""Tokenized mix output (`rootstock mix --format megatron|nanoset`): shards a trainer reads as they are.

A mix that stops at text leaves the training team to tokenize and pack it themselves, which is
where token counts, shuffling and provenance get lost. Here the job that samples the mix
tokenizes it too (once: the ids counted while reading are the ids written), appends the EOS to
every document and writes each shard, in the mix's shuffled order, as

    megatron/part-i-of-M.bin, .idx         Megatron-LM / Megatron-DeepSpeed indexed dataset
    nanoset/part-i-of-M.ds, .ds.index, .ds.metadata   datatrove's DocumentTokenizer output (nanotron)
    <format>/part-i-of-M.docs.parquet       sidecar: document index → release, source, id, epoch,
                                            mix component, licence, token offset

Shard i of every format holds the same documents as `data/part-i-of-M.parquet` would (the
shard count follows from the text, whatever the format). The layouts are in `formats.py`;
this module holds the shard writer the Beam job calls, the manifest's `tokenized` section
(with Megatron's `--data-path` blend) and tracing a sample back to its document; `rootstock
verify` checks the files against their sidecars and the manifest (`token_files.check`, in the
release layer, re-exported here as `check`).
"""

from __future__ import annotations

import hashlib
import io
import posixpath
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

import rootstock.sources.filesystems  # noqa: F401  (registers hf://, az://, http(s)://)
from rootstock.filters.tokens import Tokenizer
from rootstock.pipeline.mix import formats as fmt
from rootstock.pipeline.release.token_files import SIDECAR_SUFFIX, read_sidecar
from rootstock.pipeline.release.token_files import check as check  # `rootstock verify` checks with it

PARQUET = "parquet"
TOKEN_FORMATS = ("megatron", "nanoset")
FORMATS = (PARQUET, *TOKEN_FORMATS)
# Private row fields between the read and the write step (never written to Parquet).
IDS = "_token_ids"
TEXT_BYTES = "_text_bytes"


def parse_formats(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """ "megatron,nanoset" → ("megatron", "nanoset") in FORMATS order; unknown names raise ValueError."""
    names = value.split(",") if isinstance(value, str) else list(value)
    names = [n.strip().lower() for n in names if n.strip()]
    unknown = sorted(set(names) - set(FORMATS))
    if unknown or not names:
        raise ValueError(f"--format: {', '.join(unknown) or 'nothing'} is not one of {', '.join(FORMATS)}")
    return tuple(f for f in FORMATS if f in names)


@dataclass(frozen=True)
class TokenOutput:
    """What the read and write steps need to produce token files (pickled into the DoFns)."""

    formats: tuple[str, ...]  # token formats only
    keep_text: bool  # Parquet is written too
    eos_id: int
    eos_token: str
    vocab_size: int
    tokenizer_name: str  # the first line of datatrove's .metadata
    releases: dict[str, str]  # mix component → release id, for the sidecars

    @property
    def carrier(self) -> np.dtype:
        return fmt.carrier_dtype(self.vocab_size)

    def pack(self, ids: list[int]) -> bytes:
        return fmt.pack(ids, self.eos_id, self.carrier)


def token_output(
    formats: tuple[str, ...], tokenizer: Tokenizer, releases: dict[str, str], eos_token: str | None = None
) -> TokenOutput | None:
    """None when only Parquet is asked for (the mix is then exactly what it was before)."""
    wanted = tuple(f for f in formats if f in TOKEN_FORMATS)
    if not wanted:
        return None
    eos_id, eos_piece = tokenizer.eos(eos_token)
    return TokenOutput(
        wanted, PARQUET in formats, eos_id, eos_piece, tokenizer.vocab_size, str(tokenizer.path), releases
    )


def _write(path: str, payload: bytes) -> dict[str, Any]:
    with FileSystems.create(path) as handle:
        handle.write(payload)
    return {"file_bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}


def shard_files(root: str, stem: str, docs: list[dict[str, Any]], out: TokenOutput, summary: dict[str, Any]):
    """Write shard STEM of every token format; return its file entries, each format's sidecar first.

    DOCS are in the shard's order and carry their packed ids. A sidecar entry repeats the shard's
    SUMMARY (rows, tokens, languages, …) so `rootstock verify` checks it against its rows.
    """
    packed = [d[IDS] for d in docs]
    buffer = io.BytesIO()
    entries: list[dict[str, Any]] = []
    for name in out.formats:
        dtype = fmt.megatron_dtype(out.vocab_size) if name == "megatron" else fmt.datatrove_dtype(out.vocab_size)
        tokens, lengths = fmt.concatenate(packed, out.carrier, dtype)
        prefix = f"{name}/{stem}"
        buffer.seek(0)
        buffer.truncate()
        pq.write_table(fmt.sidecar_table(docs, lengths, out.releases), buffer, compression="zstd")
        rel = prefix + SIDECAR_SUFFIX
        entries.append({"path": rel, **summary, **_write(posixpath.join(root, rel), buffer.getvalue())})
        if name == "megatron":
            files = {".bin": tokens.tobytes(), ".idx": fmt.megatron_index(lengths, dtype)}
        else:
            files = {
                ".ds": tokens.tobytes(),
                ".ds.index": fmt.datatrove_index(lengths),
                ".ds.metadata": fmt.datatrove_metadata(out.tokenizer_name, dtype.itemsize, int(tokens.size)),
            }
        for suffix, payload in files.items():
            rel = prefix + suffix
            entries.append({"path": rel, "format": name, **_write(posixpath.join(root, rel), payload)})
    return entries


# -- the manifest ---------------------------------------------------------------------------


def _stem(path: str) -> str:
    return posixpath.basename(path).split(".", 1)[0]


def tokenized_section(out: TokenOutput, tokenizer: Tokenizer, shards: list[dict[str, Any]], output: str):
    """The manifest's `tokenized`: formats, tokenizer and EOS, totals, and Megatron's blend.

    `--data-path` weights are each shard's tokens (EOS included): Megatron normalises the weights
    and draws samples in proportion, so every shard is read once per pass, as the mix planned.
    An empty shard is left out (Megatron cannot map an empty .bin).
    """
    stems = sorted(_stem(s["path"]) for s in shards)
    training = {_stem(s["path"]): s["training_tokens"] for s in shards}
    section: dict[str, Any] = {
        "formats": list(out.formats),
        "tokenizer": {**tokenizer.describe(), "eos_id": out.eos_id, "eos_token": out.eos_token},
        "eos": "appended to every document",
        "documents": sum(s["rows"] for s in shards),
        "tokens": sum(s["tokens"] for s in shards),
        "training_tokens": sum(training.values()),
        "sidecar": {"suffix": SIDECAR_SUFFIX, "columns": fmt.SIDECAR_SCHEMA.names},
    }
    if "megatron" in out.formats:
        dtype = fmt.megatron_dtype(out.vocab_size)
        blend = [[training[s], f"megatron/{s}"] for s in stems if training[s]]
        section["megatron"] = {
            "dtype": dtype.name,
            "dtype_code": fmt.megatron_code(dtype),
            "blend": blend,
            "data_path": " ".join(f"{w} {posixpath.join(output, p)}" for w, p in blend),
        }
    if "nanoset" in out.formats:
        dtype = fmt.datatrove_dtype(out.vocab_size)
        section["nanoset"] = {"folder": "nanoset", "dtype": dtype.name, "token_size": dtype.itemsize}
    return section


def split_artifacts(shards: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(shard entries, every other file the shard writers wrote) from the writers' records."""
    entries, artifacts = [], []
    for s in shards:
        s = dict(s)
        artifacts += s.pop("artifacts", [])
        entries.append(s)
    return entries, sorted(artifacts, key=lambda a: a["path"])


# -- reading back: tracing (checking: pipeline/release/token_files.py) -----------------------


def trace(manifest: dict[str, Any], mix_dir: str, shard: str, start: int, stop: int | None = None):
    """The documents behind tokens [START, STOP) of SHARD (one token if STOP is None), each with its
    component's release path and manifest sha256: where to fetch the text and its licence.

    A Megatron sample names documents by index (its sequence index, 0-based, in the shard): their
    tokens start at the sidecar's `token_start`. A datatrove/nanotron sample is a token window
    of its file, `formats.datatrove_window(sample, seq_len)`.
    """
    components = {c["name"]: c["release"] for c in manifest["components"]}
    rows = fmt.documents_in(read_sidecar(mix_dir, shard), start, start + 1 if stop is None else stop)
    for row in rows:
        release = components[row["mix_component"]]
        row["release_path"], row["release_manifest_sha256"] = release["path"], release["manifest_sha256"]
    return rows
