"""Property tests (hypothesis): random and mutated bytes for every connector's parser, random
interruptions for runs (issue #14).

What must hold whatever the bytes: under `on_error: skip` the reader never raises and every
record ends as a document or a counted skip; under `fail` the only error is an InputError that
names the file; where the number of records is known, documents + counted losses = records.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rootstock.errors import InputError
from tests.conftest import CLI, REPO, entry, run_cli, write_catalog, write_config
from tests.readers import read_source

FUZZ = settings(
    max_examples=int(os.environ.get("ROOTSTOCK_FUZZ_EXAMPLES", "150")),
    derandomize="ROOTSTOCK_FUZZ_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
TEXTS = ["plain words here", "Hyvää huomenta", "你好，世界", "مرحبا بالعالم", "line\twith tab", "emoji 🙂 ok"]


def rows(n: int) -> list[dict]:
    return [{"id": i, "text": f"{TEXTS[i % len(TEXTS)]} {i}"} for i in range(n)]


def jsonl(records: list[dict]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def csv_bytes(records: list[dict]) -> bytes:
    return ("id,text\n" + "".join(f"{r['id']},{r['text']}\n" for r in records)).encode()


def parquet_bytes(path: Path, records: list[dict]) -> bytes:
    pq.write_table(pa.Table.from_pylist(records), path, row_group_size=7)
    return path.read_bytes()


CODECS = {
    "": lambda b: b,
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
    ".zst": zstandard.ZstdCompressor(write_checksum=True).compress,  # as the zstd CLI writes frames
}


def read_all(path: Path, kind: str, on_error: str) -> tuple[list[dict], list[dict]]:
    return read_source(path, kind, on_error, id_field="id")


def check_fail_mode(path: Path, kind: str, expect_clean: bool) -> None:
    """Under `fail`: either the whole file reads, or one InputError that names the file."""
    try:
        read_all(path, kind, "fail")
    except InputError as err:
        assert not expect_clean
        assert str(path) in str(err), str(err)


def lost(skipped: list[dict]) -> int:
    return sum(s["records"] or 1 for s in skipped)


@FUZZ
@given(
    payload=st.binary(max_size=2048),
    kind=st.sampled_from(["jsonl", "csv", "parquet"]),
    codec=st.sampled_from(list(CODECS)),
)
def test_random_bytes_never_crash_a_parser(tmp_path: Path, payload: bytes, kind: str, codec: str):
    path = tmp_path / f"random.{kind}{codec if kind != 'parquet' else ''}"
    path.write_bytes(payload)
    read_all(path, kind, "skip")  # no exception at all
    check_fail_mode(path, kind, expect_clean=False)


@FUZZ
@given(data=st.data(), kind=st.sampled_from(["jsonl", "csv"]), n=st.integers(1, 40))
def test_flipped_bytes_in_text_files_lose_no_record_uncounted(tmp_path: Path, data, kind: str, n: int):
    """Byte flips that do not touch line ends: every line is a document or a counted skip."""
    original = bytearray((jsonl if kind == "jsonl" else csv_bytes)(rows(n)))
    header = 0 if kind == "jsonl" else original.index(b"\n") + 1
    for _ in range(data.draw(st.integers(1, 5))):
        at = data.draw(st.integers(header, len(original) - 1))
        if original[at] in b"\r\n":
            continue
        original[at] = data.draw(st.integers(0, 255).filter(lambda b: b not in b"\r\n"))
    path = tmp_path / f"flipped.{kind}"
    path.write_bytes(bytes(original))
    docs, skipped = read_all(path, kind, "skip")
    blank = sum(1 for line in bytes(original[header:]).split(b"\n")[:-1] if not line.strip())
    assert len(docs) + lost(skipped) == n - blank * (kind == "jsonl") - blank * (kind == "csv")
    check_fail_mode(path, kind, expect_clean=not skipped)


@FUZZ
@given(at=st.floats(0, 1), n=st.integers(1, 60))
def test_a_stray_quote_in_csv_costs_at_most_its_row(tmp_path: Path, at: float, n: int):
    original = csv_bytes(rows(n))
    header = original.index(b"\n") + 1
    cut = header + int(at * (len(original) - header - 1))
    if original[cut : cut + 1] in (b"\n", b""):
        cut -= 1
    path = tmp_path / "quote.csv"
    path.write_bytes(original[:cut] + b'"' + original[cut:])
    docs, skipped = read_all(path, "csv", "skip")
    assert len(docs) + lost(skipped) == n and len(skipped) <= 1
    assert {int(d["source_doc_id"]) for d in docs if d["source_doc_id"].isdigit()} <= set(range(n))


@FUZZ
@given(data=st.data(), codec=st.sampled_from([c for c in CODECS if c]), n=st.integers(1, 400))
def test_a_cut_or_damaged_compressed_file_is_a_counted_prefix(tmp_path: Path, data, codec: str, n: int):
    """Cut at any byte, or bytes overwritten: what is read is never presented as the whole file.

    Every codec here carries a checksum of its data; a zstd frame written without one (python
    zstandard's default) can only reveal a cut, not a flipped byte (the README says so).
    """
    whole = CODECS[codec](jsonl(rows(n)))
    damaged = bytearray(whole)
    if data.draw(st.booleans(), label="cut"):
        damaged = damaged[: data.draw(st.integers(0, len(whole) - 1))]
    else:
        at = data.draw(st.integers(0, len(whole) - 1))
        damaged[at] ^= data.draw(st.integers(1, 255))
    path = tmp_path / f"damaged.jsonl{codec}"
    path.write_bytes(bytes(damaged))
    docs, skipped = read_all(path, "jsonl", "skip")
    got = [d["text"] for d in docs]
    if got == [r["text"] for r in rows(n)] and not skipped:
        return  # a flip the codec cannot see (xz/zstd/bz2 padding, gzip header flags): the data is whole
    assert skipped, "damage went unreported"
    check_fail_mode(path, "jsonl", expect_clean=False)


@FUZZ
@given(data=st.data(), n=st.integers(1, 60))
def test_damaged_parquet_counts_every_row(tmp_path: Path, data, n: int):
    whole = parquet_bytes(tmp_path / "whole.parquet", rows(n))
    damaged = bytearray(whole)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(whole) - 1))
        damaged[at] ^= data.draw(st.integers(1, 255))
    path = tmp_path / "damaged.parquet"
    path.write_bytes(bytes(damaged))
    docs, skipped = read_all(path, "parquet", "skip")
    if any(s["records"] is None for s in skipped):
        assert len(skipped) == 1 and docs == []  # footer gone: the file's row count is unknown
    else:
        assert len(docs) + lost(skipped) == n  # the footer says how many rows each group had
    check_fail_mode(path, "parquet", expect_clean=not skipped)


@FUZZ
@given(data=st.data(), n=st.integers(1, 200))
def test_damaged_saved_datasets_are_a_counted_prefix(tmp_path: Path, data, n: int):
    target = tmp_path / f"saved-{data.draw(st.integers(0, 10**9))}"
    datasets.Dataset.from_list(rows(n)).save_to_disk(str(target))
    (arrow,) = target.glob("*.arrow")
    whole = arrow.read_bytes()
    arrow.write_bytes(whole[: data.draw(st.integers(0, len(whole)))])
    docs, skipped = read_all(target, "hf_dataset", "skip")
    assert [int(d["source_doc_id"]) for d in docs] == list(range(len(docs)))
    assert len(docs) == n or skipped


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_run_never_looks_finished_and_leaves_no_raw_text(tmp_path: Path, sig):
    """Interrupt a run at a random moment: no manifest.json at the output, and once the next
    run has started nothing of the killed one (spill files are raw, pre-redaction text) is left."""
    catalog = tmp_path / "catalog"
    (catalog / "data").mkdir(parents=True)
    (catalog / "data" / "docs.jsonl").write_bytes(
        jsonl([{**r, "text": r["text"] + " lorem" * 40} for r in rows(20_000)])
    )
    write_catalog(catalog, entry("docs", {"kind": "jsonl", "paths": ["../data/*.jsonl"], "id_field": "id"}))
    out = tmp_path / "out"
    config = write_config(tmp_path / "run.yaml", catalog, out, stages={"dedup": {"enabled": True}})
    proc = subprocess.Popen(
        [*CLI, "run", str(config), "--spill=always"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # A shell starts background jobs with SIGINT ignored, and children inherit that: restore it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(random.Random(int(sig)).uniform(2.0, 6.0))
    if proc.poll() is not None:
        pytest.fail("the run finished before it could be interrupted; make the input larger")
    proc.send_signal(sig)
    proc.wait(timeout=120)
    assert proc.returncode != 0
    assert not (out / "manifest.json").exists()
    small = catalog / "small"
    small.mkdir()
    write_catalog(small, entry("small", {"kind": "jsonl", "paths": ["../data/*.jsonl"], "id_field": "id"}))
    run_cli("run", str(write_config(tmp_path / "again.yaml", catalog, out)))
    assert (out / "manifest.json").exists()
    assert not list(tmp_path.glob(".out.partial-*")), "a partial of the interrupted run is still there"
    assert not list(tmp_path.rglob("*.pkl")), "spilled raw documents are still on disk"
