"""Token files a trainer reads: Megatron's indexed dataset and datatrove's (nanotron's) `.ds` files.

Plain functions from token arrays to bytes and back (the Beam job calls them once per shard),
so the layouts can be tested, traced and checked without Beam. One document is one sequence,
its tokens followed by the EOS id; documents stay in the mix's shuffled order.

Megatron (Megatron-LM `megatron/core/datasets/indexed_dataset.py` `_IndexWriter`/`_IndexReader`;
Megatron-DeepSpeed, which trained BLOOM, `megatron/data/indexed_dataset.py`
`MMapIndexedDataset.Index`): PREFIX.bin holds the tokens back to back in the index's dtype, and
PREFIX.idx is, little-endian, for S sequences and D = S + 1 document boundaries:

    offset     bytes  type   field
    0          9             magic b"MMIDIDX\\x00\\x00"
    9          8      <Q     version, 1
    17         1      <B     dtype code: 8 = uint16, 4 = int32 (1 uint8, 2 int8, 3 int16, 5 int64, ...)
    18         8      <Q     S, sequences
    26         8      <Q     D, document-index entries
    34         4 S    int32  sizes: tokens per sequence
    34 + 4 S   8 S    int64  pointers: byte offset of each sequence in .bin
    34 + 12 S  8 D    int64  doc_idx: first sequence of each document, then S

which is what Megatron's `tools/preprocess_data.py --append-eod` writes without
`--split-sentences` (doc_idx = 0, 1, …, S). The dtype is Megatron's own choice,
`DType.optimal_dtype(vocab_size)` (Megatron-DeepSpeed: `best_fitting_dtype`): uint16 below a
vocabulary of 65,500, else int32.

datatrove (0.10.1, `datatrove/pipeline/tokens/tokenizer.py` `TokenizedFile`, what
`DocumentTokenizer` writes and nanotron's `Nanoset` reads through `DatatroveFolderDataset`):
NAME.ds holds the tokens back to back, little-endian uint16 if the vocabulary has at most 65,536
entries, else uint32; NAME.ds.index is one uint64 per document, its end offset in tokens;
NAME.ds.metadata is text, "TOKENIZER|TOKEN_SIZE", the token count, a human-readable count.
A reader takes windows of seq_len + 1 tokens per file, so a sample is a token range.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

# The layouts' constants, dtype rules and readers live in the release layer, which `rootstock
# verify` (below this one) checks token files with: one definition for writing and checking.
from rootstock.pipeline.release.token_files import (
    DATATROVE_UINT16_UP_TO,
    MEGATRON_CODES,
    MEGATRON_HEADER,
    MEGATRON_MAGIC,
    MEGATRON_VERSION,
    datatrove_dtype,  # noqa: F401 - used as formats.datatrove_dtype
    megatron_dtype,  # noqa: F401 - used as formats.megatron_dtype
)

# One row per document of a shard, in order: where its tokens are and where it came from.
SIDECAR_SCHEMA = pa.schema(
    [
        pa.field("index", pa.int64(), nullable=False),  # the document's sequence number in the shard
        pa.field("token_start", pa.int64(), nullable=False),  # its first token's offset in the shard
        pa.field("tokens", pa.int64(), nullable=False),  # its tokens without the EOS (count-tokens counts)
        pa.field("mix_component", pa.string(), nullable=False),
        pa.field("release", pa.string()),  # the component release's id (manifest `release`)
        pa.field("source", pa.string(), nullable=False),
        pa.field("lang", pa.string(), nullable=False),
        pa.field("id", pa.string(), nullable=False),
        pa.field("epoch", pa.int32(), nullable=False),  # 0-based copy number
        pa.field("license", pa.string()),
    ]
)


def megatron_code(dtype: np.dtype) -> int:
    return next(code for code, t in MEGATRON_CODES.items() if np.dtype(t) == dtype)


def carrier_dtype(vocab_size: int) -> np.dtype:
    """How ids travel between the Beam steps: the smallest type both formats convert from exactly."""
    return np.dtype("<u2" if vocab_size <= DATATROVE_UINT16_UP_TO else "<i4")


def pack(ids: list[int], eos: int, dtype: np.dtype) -> bytes:
    """A document's ids and the EOS as DTYPE bytes; ids that do not fit raise (never wrap)."""
    out = np.empty(len(ids) + 1, dtype=dtype)
    if ids:
        out[:-1] = ids
    out[-1] = eos
    return out.tobytes()


def concatenate(docs: list[bytes], carrier: np.dtype, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """(all tokens as DTYPE, tokens per document) of packed documents."""
    lengths = np.fromiter((len(d) // carrier.itemsize for d in docs), dtype=np.int64, count=len(docs))
    tokens = np.frombuffer(b"".join(docs), dtype=carrier)
    if tokens.dtype != dtype:
        if tokens.size and (int(tokens.max()) > np.iinfo(dtype).max or int(tokens.min()) < np.iinfo(dtype).min):
            raise ValueError(f"token ids up to {int(tokens.max())} do not fit {dtype}")
        tokens = tokens.astype(dtype)
    return tokens, lengths


def megatron_index(lengths: np.ndarray, dtype: np.dtype) -> bytes:
    """The .idx of sequences of LENGTHS tokens, one document each."""
    count = len(lengths)
    if count and int(np.max(lengths)) > np.iinfo(np.int32).max:
        raise ValueError("a sequence longer than 2**31 - 1 tokens does not fit Megatron's int32 sizes")
    pointers = np.zeros(count, dtype="<i8")
    np.cumsum(np.asarray(lengths[:-1], dtype="<i8") * dtype.itemsize, out=pointers[1:])
    return b"".join(
        (
            MEGATRON_HEADER.pack(MEGATRON_MAGIC, MEGATRON_VERSION, megatron_code(dtype), count, count + 1),
            np.asarray(lengths, dtype="<i4").tobytes(),
            pointers.tobytes(),
            np.arange(count + 1, dtype="<i8").tobytes(),
        )
    )


def datatrove_index(lengths: np.ndarray) -> bytes:
    return np.cumsum(np.asarray(lengths, dtype="<u8"), dtype="<u8").tobytes()


def datatrove_metadata(tokenizer_name: str, token_size: int, tokens: int) -> bytes:
    # datatrove splits the first line at "|" to find the token size.
    return f"{tokenizer_name.replace('|', '_')}|{token_size}\n{tokens}\n{_metric(tokens)}T".encode()


def _metric(n: int) -> str:
    for factor, prefix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if n >= factor:
            return f"{n / factor:.3g} {prefix}"
    return f"{n} "


def sidecar_table(docs: list[dict[str, Any]], lengths: np.ndarray, releases: dict[str, str]) -> pa.Table:
    """The provenance of each document of a shard, by its index (LENGTHS count the EOS)."""
    starts = np.zeros(len(docs), dtype=np.int64)
    if len(docs):
        np.cumsum(lengths[:-1], out=starts[1:])
    return pa.table(
        {
            "index": pa.array(np.arange(len(docs), dtype=np.int64)),
            "token_start": pa.array(starts),
            "tokens": pa.array([d["tokens"] for d in docs], pa.int64()),
            "mix_component": [d["mix_component"] for d in docs],
            "release": [releases.get(d["mix_component"]) for d in docs],
            "source": [d["source"] for d in docs],
            "lang": [d["lang"] for d in docs],
            "id": [d["id"] for d in docs],
            "epoch": pa.array([d["epoch"] for d in docs], pa.int32()),
            "license": [d.get("license") for d in docs],
        },
        schema=SIDECAR_SCHEMA,
    )


def documents_in(sidecar: pa.Table, start: int, stop: int) -> list[dict[str, Any]]:
    """Sidecar rows of the documents whose tokens (EOS included) overlap tokens [START, STOP) of a shard."""
    starts = sidecar.column("token_start").to_numpy()
    ends = starts + sidecar.column("tokens").to_numpy() + 1
    first = int(np.searchsorted(ends, start, side="right"))
    last = int(np.searchsorted(starts, stop, side="left"))
    return sidecar.slice(first, max(0, last - first)).to_pylist()


def datatrove_window(sample: int, seq_len: int) -> tuple[int, int]:
    """Tokens [start, stop) of a file's SAMPLE-th window as datatrove's reader cuts them (seq_len + 1 each)."""
    return sample * (seq_len + 1), (sample + 1) * (seq_len + 1)
