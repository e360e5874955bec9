"""Reading a tokenized mix's token files back, and checking them (for `rootstock verify`).

`rootstock mix --format megatron|nanoset` writes, per shard, Megatron's indexed dataset
(`.bin`/`.idx`) or datatrove's (`.ds`, `.ds.index`, `.ds.metadata`) and a `.docs.parquet`
sidecar naming every document (pipeline/mix/tokenized.py, layouts in pipeline/mix/formats.py).
The manifest's sha256s say the files are the ones written; this check says they are what a
trainer will read: each index agrees with its sidecar's documents, every document ends with the
EOS id, the dtype is the one the vocabulary gives. It lives in the release layer because
`verify` does (the mix layer is above it); the writers stay in pipeline/mix/.

Megatron's .idx (Megatron-LM `megatron/core/datasets/indexed_dataset.py` `_IndexReader`):
magic, version, dtype code, S sequences, D documents, then int32 sizes, int64 pointers, int64
doc_idx. datatrove's (0.10.1 `datatrove/pipeline/tokens/tokenizer.py` `TokenizedFile`):
.ds.index is one uint64 end offset per document, .ds.metadata "TOKENIZER|TOKEN_SIZE", count.
"""

from __future__ import annotations

import io
import posixpath
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

SIDECAR_SUFFIX = ".docs.parquet"
MEGATRON_MAGIC = b"MMIDIDX\x00\x00"
MEGATRON_VERSION = 1
MEGATRON_HEADER = struct.Struct("<9sQBQQ")  # magic, version, dtype code, sequences, documents: 34 bytes
MEGATRON_CODES = {
    1: np.uint8,
    2: np.int8,
    3: np.int16,
    4: np.int32,
    5: np.int64,
    6: np.float64,
    7: np.float32,
    8: np.uint16,
}
MEGATRON_UINT16_BELOW = 65_500  # Megatron's DType.optimal_dtype
DATATROVE_UINT16_UP_TO = 65_536  # datatrove's PipelineStepWithTokenizer.token_size


def megatron_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16 if vocab_size < MEGATRON_UINT16_BELOW else np.int32)


def datatrove_dtype(vocab_size: int) -> np.dtype:
    return np.dtype("<u2" if vocab_size <= DATATROVE_UINT16_UP_TO else "<u4")


@dataclass
class MegatronIndex:
    dtype: np.dtype
    sizes: np.ndarray
    pointers: np.ndarray
    doc_idx: np.ndarray


def read_megatron_index(data: bytes) -> MegatronIndex:
    """Parse a .idx; ValueError if it is not one, or its length disagrees with its header."""
    if len(data) < MEGATRON_HEADER.size:
        raise ValueError(f"{len(data)} bytes, shorter than the {MEGATRON_HEADER.size}-byte header")
    magic, version, code, count, docs = MEGATRON_HEADER.unpack_from(data)
    if magic != MEGATRON_MAGIC or version != MEGATRON_VERSION:
        raise ValueError(f"not a Megatron MMIDIDX index (magic {magic!r}, version {version})")
    if code not in MEGATRON_CODES:
        raise ValueError(f"unknown dtype code {code}")
    want = MEGATRON_HEADER.size + 12 * count + 8 * docs
    if len(data) != want:
        raise ValueError(f"{len(data)} bytes, the header's counts need {want}")
    offset = MEGATRON_HEADER.size
    sizes = np.frombuffer(data, dtype="<i4", count=count, offset=offset)
    pointers = np.frombuffer(data, dtype="<i8", count=count, offset=offset + 4 * count)
    doc_idx = np.frombuffer(data, dtype="<i8", count=docs, offset=offset + 12 * count)
    return MegatronIndex(np.dtype(MEGATRON_CODES[code]), sizes, pointers, doc_idx)


def read_datatrove_metadata(data: bytes) -> tuple[str, int, int]:
    """(tokenizer, token size, tokens) of a .ds.metadata; ValueError if it is not one."""
    first, count, *_ = data.decode("utf-8").splitlines()
    name, size = first.rsplit("|", 1)
    return name, int(size), int(count)


def _read(path: str) -> bytes:
    with FileSystems.open(path) as handle:
        return handle.read()


def read_sidecar(mix_dir: str, shard: str) -> pa.Table:
    """The sidecar of SHARD (its prefix inside the mix, e.g. megatron/part-00000-of-00004)."""
    return pq.read_table(io.BytesIO(_read(posixpath.join(mix_dir, shard + SIDECAR_SUFFIX))))


# The files of one shard of each token format, besides its sidecar.
FORMAT_SUFFIXES = {"megatron": (".bin", ".idx"), "nanoset": (".ds", ".ds.index", ".ds.metadata")}


def _check_shard(prefix: str, mix_dir: str, vocab: int, eos: int) -> tuple[list[str], int]:
    """(problems, tokens in the token file) of one shard of one format."""
    problems: list[str] = []
    sidecar = read_sidecar(mix_dir, prefix)
    lengths = sidecar.column("tokens").to_numpy() + 1
    starts = sidecar.column("token_start").to_numpy()
    if len(lengths) and not np.array_equal(starts, np.concatenate(([0], np.cumsum(lengths)[:-1]))):
        problems.append(f"{prefix}{SIDECAR_SUFFIX}: token_start is not the running sum of tokens + EOS")
    if prefix.startswith("megatron/"):
        index = read_megatron_index(_read(posixpath.join(mix_dir, prefix + ".idx")))
        tokens = np.frombuffer(_read(posixpath.join(mix_dir, prefix + ".bin")), dtype=index.dtype)
        if index.dtype != megatron_dtype(vocab):
            problems.append(f"{prefix}.idx: dtype {index.dtype}, the vocabulary of {vocab} gives another")
        if not np.array_equal(index.sizes, lengths):
            problems.append(f"{prefix}.idx: sequence sizes differ from the sidecar's documents")
        elif not np.array_equal(index.pointers, starts * index.dtype.itemsize):
            problems.append(f"{prefix}.idx: sequence pointers are not the byte offsets of the sidecar's documents")
        if not np.array_equal(index.doc_idx, np.arange(len(lengths) + 1)):
            problems.append(f"{prefix}.idx: doc_idx is not 0…{len(lengths)} (one sequence per document)")
    else:
        _, size, count = read_datatrove_metadata(_read(posixpath.join(mix_dir, prefix + ".ds.metadata")))
        raw = _read(posixpath.join(mix_dir, prefix + ".ds"))
        dtype = datatrove_dtype(vocab)
        if len(raw) % dtype.itemsize:
            problems.append(f"{prefix}.ds: {len(raw)} bytes, not a whole number of {dtype.itemsize}-byte tokens")
            raw = raw[: len(raw) - len(raw) % dtype.itemsize]
        tokens = np.frombuffer(raw, dtype=dtype)
        raw_ends = _read(posixpath.join(mix_dir, prefix + ".ds.index"))
        if len(raw_ends) % 8:
            problems.append(f"{prefix}.ds.index: {len(raw_ends)} bytes, not a whole number of uint64 offsets")
            raw_ends = raw_ends[: len(raw_ends) - len(raw_ends) % 8]
        ends = np.frombuffer(raw_ends, dtype="<u8").astype(np.int64)
        if size != tokens.itemsize or count != tokens.size:
            problems.append(f"{prefix}.ds.metadata: says {count} tokens of {size} bytes; the file has {tokens.size}")
        if not np.array_equal(ends, np.cumsum(lengths)):
            problems.append(f"{prefix}.ds.index: document ends differ from the sidecar's documents")
    if tokens.size != int(lengths.sum()):
        problems.append(f"{prefix}: {tokens.size} tokens, the sidecar's documents need {int(lengths.sum())}")
    elif not problems and len(lengths) and not (tokens[np.cumsum(lengths) - 1] == eos).all():
        problems.append(f"{prefix}: a document does not end with the EOS id {eos}")
    return problems, int(tokens.size)


def _stem(prefix: str) -> str:
    return posixpath.basename(prefix)


def check(manifest: dict[str, Any], mix_dir: str) -> list[str]:
    """Do a tokenized mix's token files agree with their sidecars and the manifest? (none: a
    trainer reads what was mixed). The bytes of every listed file are `verify`'s (sha256); here:

    - every format the manifest's `tokenized` names has, for every shard, a sidecar and its token
      files, all listed;
    - each shard's token files against its sidecar (sizes, offsets, dtype, EOS; `_check_shard`),
      and its token count against the manifest: the entry's tokens plus one EOS per row;
    - `tokenized` totals (documents, tokens, training tokens) are the sums of each format's
      shards, and Megatron's blend weighs every non-empty shard by the tokens its .bin holds.

    A file that cannot be parsed at all is one problem naming it, not an exception.
    """
    section = manifest.get("tokenized")
    if not isinstance(section, dict):
        return []
    vocab = section["tokenizer"]["vocab_size"]
    eos = section["tokenizer"]["eos_id"]
    entries = {
        e["path"]: e
        for key in ("shards", "artifacts")
        for e in manifest.get(key) or []
        if isinstance(e, dict) and isinstance(e.get("path"), str)
    }
    sidecars = sorted(p[: -len(SIDECAR_SUFFIX)] for p in entries if p.endswith(SIDECAR_SUFFIX))
    problems: list[str] = []
    formats = set(section.get("formats") or [])
    for name in sorted({p.split("/", 1)[0] for p in sidecars} - formats):
        problems.append(f"{name}/: sidecars of a format the manifest's tokenized.formats does not name")
    for prefix in sidecars:
        name = prefix.split("/", 1)[0]
        entry = entries[prefix + SIDECAR_SUFFIX]
        if name not in FORMAT_SUFFIXES:
            problems.append(f"{prefix}{SIDECAR_SUFFIX}: {name!r} is not a token format ({', '.join(FORMAT_SUFFIXES)})")
            continue
        unlisted = [prefix + s for s in FORMAT_SUFFIXES.get(name, ()) if prefix + s not in entries]
        if unlisted:
            problems += [f"{p}: a token file of {prefix}{SIDECAR_SUFFIX}, not listed in the manifest" for p in unlisted]
            continue
        try:
            found, tokens = _check_shard(prefix, mix_dir, vocab, eos)
        except FileNotFoundError:
            continue  # `verify` names a listed file that is missing
        except (ValueError, OSError, UnicodeDecodeError, pa.ArrowException, KeyError) as err:
            problems.append(f"{prefix}: its token files cannot be read ({type(err).__name__}: {err})")
            continue
        problems += found
        want = entry.get("tokens", 0) + entry.get("rows", 0)
        if tokens != want:
            problems.append(
                f"{prefix}: {tokens} tokens in its token file, the manifest says {entry.get('tokens')} tokens "
                f"in {entry.get('rows')} documents, {want} with their EOS"
            )
    problems += _section_problems(section, manifest, entries)
    return problems


def _section_problems(section: dict[str, Any], manifest: dict[str, Any], entries: dict[str, Any]) -> list[str]:
    """The `tokenized` section adds up over each format's shards, and Megatron's blend weighs
    each non-empty shard by its tokens with their EOS (what `_check_shard` found in its files)."""
    problems = []
    shards = [s for s in manifest.get("shards") or [] if isinstance(s, dict) and isinstance(s.get("path"), str)]
    stems = {_stem(s["path"]).split(".", 1)[0] for s in shards}
    for name in section.get("formats") or []:
        side = {
            _stem(p)[: -len(SIDECAR_SUFFIX)]: e
            for p, e in entries.items()
            if p.startswith(f"{name}/") and p.endswith(SIDECAR_SUFFIX)
        }
        if set(side) != stems:
            missing, extra = sorted(stems - set(side)), sorted(set(side) - stems)
            problems.append(f"{name}/: the mix's shards without a sidecar {missing}, sidecars of no shard {extra}")
        training = {stem: e.get("tokens", 0) + e.get("rows", 0) for stem, e in side.items()}
        for key, summed in (
            ("documents", sum(e.get("rows", 0) for e in side.values())),
            ("tokens", sum(e.get("tokens", 0) for e in side.values())),
            ("training_tokens", sum(training.values())),
        ):
            if section.get(key) != summed:
                problems.append(f"tokenized.{key} is {section.get(key)}, the {name}/ shards add up to {summed}")
        megatron = section.get("megatron")
        if name == "megatron" and isinstance(megatron, dict):
            blend = {posixpath.basename(str(p)): w for w, p in megatron.get("blend") or []}
            wanted = {stem: n for stem, n in training.items() if n}
            if blend != wanted:
                problems.append(
                    f"tokenized.megatron.blend weighs {blend}; the shards hold {wanted} tokens with their EOS"
                )
    return problems
