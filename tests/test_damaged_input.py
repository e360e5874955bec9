"""Damaged and odd input files (issue #14, items 2, 7-10 and the setup errors): every record
ends as a document or as a counted skip with its file and place, and damage never passes as a
shorter valid file."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from rootstock.catalog.loader import validate_catalog
from rootstock.errors import InputError
from tests.conftest import entry, run_cli, write_catalog, write_config
from tests.readers import read_source

N = 3000


def records(n: int = N) -> list[dict]:
    return [{"id": i, "text": f"document {i}: a few words of text in it"} for i in range(n)]


def jsonl(rows: list[dict]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def read(path: Path, kind: str = "jsonl", on_error: str = "skip", **connector) -> tuple[list[dict], list[dict]]:
    return read_source(path, kind, on_error, id_field="id", **connector)


def ids(docs: list[dict]) -> list[int]:
    return [int(d["source_doc_id"]) for d in docs]


def zstd_blocks(data: bytes) -> bytes:
    out = io.BytesIO()
    with zstandard.ZstdCompressor().stream_writer(out, closefd=False) as writer:
        for i in range(0, len(data), 65536):
            writer.write(data[i : i + 65536])
    return out.getvalue()


CODECS = {
    ".gz": gzip.compress,
    ".bz2": lambda b: bz2.compress(b, compresslevel=1),  # 100 kB blocks: a cut file still has whole ones
    ".xz": lzma.compress,
    ".zst": zstandard.ZstdCompressor().compress,  # one frame
    ".zst-blocks": zstd_blocks,  # one frame written block by block
    ".zst-frames": lambda b: b"".join(
        zstandard.ZstdCompressor().compress(b[i : i + 20000]) for i in range(0, len(b), 20000)
    ),
}


@pytest.mark.parametrize("codec", list(CODECS))
def test_a_truncated_compressed_file_is_never_read_as_a_shorter_valid_one(tmp_path: Path, codec: str):
    """#14.2: half of a single-frame .zst exited 0 with "0 documents in"; a multi-block one lost
    12,505 of 20,000 records with one bad_json counted. Every codec now reports the cut."""
    whole = CODECS[codec](jsonl(records()))
    path = tmp_path / f"a.jsonl{codec.split('-')[0]}"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    docs, skipped = read(path)
    assert ids(docs) == list(range(len(docs)))  # the records before the cut, in order, intact
    (damage,) = skipped
    assert damage["reason"] == "truncated_file" and damage["records"] is None
    assert damage["where"] == (f"after line {len(docs)}" if docs else "at the start")
    with pytest.raises(InputError) as err:
        read(path, on_error="fail")
    assert str(path) in str(err.value) and "truncated" in str(err.value)


def test_whole_files_of_every_codec_read_completely(tmp_path: Path):
    for codec, compress in CODECS.items():
        path = tmp_path / f"{codec.strip('.')}.jsonl{codec.split('-')[0]}"
        path.write_bytes(compress(jsonl(records())))
        docs, skipped = read(path)
        assert ids(docs) == list(range(N)) and skipped == [], codec


@pytest.mark.parametrize(
    "name, payload, message",
    [
        ("notgzip.jsonl.gz", jsonl(records(10)), "not a valid gzip stream"),
        ("notbz2.jsonl.bz2", b"BZh9 but not really", "not a valid bzip2 stream"),
        ("notxz.jsonl.xz", b"\xfd7zXZ\x00garbage", "not a valid xz stream"),
        ("notzstd.jsonl.zst", b"plain text", "not a valid zstd stream"),
    ],
)
def test_a_file_that_is_not_what_its_name_says_is_one_clear_error(tmp_path: Path, name, payload, message):
    """#14.7: a `.gz` that is not gzip ended in a 130-220 line traceback naming no file."""
    path = tmp_path / name
    path.write_bytes(payload)
    docs, skipped = read(path)
    assert docs == [] and [s["reason"] for s in skipped] == ["corrupt_file"]
    with pytest.raises(InputError) as err:
        read(path, on_error="fail")
    assert str(err.value).startswith(f"{path}: at the start: {message}")


def test_corrupt_gzip_data_in_the_middle_is_counted_after_the_good_records(tmp_path: Path):
    data = bytearray(gzip.compress(jsonl(records())))
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(bytes(data))
    docs, skipped = read(path)
    # gzip verifies its CRC only at the end of a member: what the damaged region decoded to
    # before that is read (the README says so), and the file is counted as corrupt.
    assert ids(docs)[:1000] == list(range(1000)) and len(docs) < N
    assert skipped[-1]["reason"] == "corrupt_file" and "CRC check failed" in skipped[-1]["message"]


def _parquet(path: Path, rows: int = 5000, group: int = 1000) -> bytes:
    pq.write_table(pa.Table.from_pylist(records(rows)), path, row_group_size=group)
    return path.read_bytes()


def test_a_corrupt_parquet_page_costs_exactly_its_row_group(tmp_path: Path):
    """#14.10: an unreadable Parquet file counted as one document whatever its row count."""
    data = bytearray(_parquet(tmp_path / "good.parquet"))
    meta = pq.ParquetFile(tmp_path / "good.parquet").metadata.row_group(2).column(1)
    start = meta.data_page_offset + 40
    data[start : start + 200] = bytes(200)
    path = tmp_path / "corrupt.parquet"
    path.write_bytes(bytes(data))
    docs, skipped = read(path, kind="parquet")
    assert ids(docs) == [*range(2000), *range(3000, 5000)]
    (damage,) = skipped
    assert (damage["reason"], damage["records"], damage["where"]) == (
        "corrupt_file",
        1000,
        "rows 2000-2999 (row group 2)",
    )
    with pytest.raises(
        InputError, match=r"corrupt\.parquet: rows 2000-2999 \(row group 2\): row group 2 is unreadable"
    ):
        read(path, kind="parquet", on_error="fail")


def test_a_truncated_parquet_file_says_so(tmp_path: Path):
    data = _parquet(tmp_path / "good.parquet")
    path = tmp_path / "cut.parquet"
    path.write_bytes(data[: len(data) // 2])
    docs, skipped = read(path, kind="parquet")
    assert docs == [] and [(s["reason"], s["records"]) for s in skipped] == [("truncated_file", None)]


def test_csv_unclosed_quote_costs_one_row_not_the_rest_of_the_file(tmp_path: Path):
    """#14.8: an unterminated quote swallowed the following rows into one document, uncounted."""
    path = tmp_path / "q.csv"
    path.write_text('id,text\n1,"no closing quote here\n2,second row\n3,third row\n4,"quoted, fine"\n5,fifth\n')
    docs, skipped = read(path, kind="csv")
    assert ids(docs) == [2, 3, 4, 5] and docs[2]["text"] == "quoted, fine"
    assert [(s["reason"], s["where"]) for s in skipped] == [("bad_row", "line 2")]
    with pytest.raises(InputError, match=r"q\.csv: line 2: unparseable CSV .*unclosed quote"):
        read(path, kind="csv", on_error="fail")


def test_csv_quoted_newlines_still_make_one_record(tmp_path: Path):
    path = tmp_path / "ok.csv"
    path.write_text('id,text\n1,"first line\nsecond line"\n2,plain\n')
    docs, skipped = read(path, kind="csv")
    assert [d["text"] for d in docs] == ["first line\nsecond line", "plain"] and skipped == []


@pytest.mark.parametrize(
    "kind, payload",
    [
        ("jsonl", b"\xef\xbb\xbf" + jsonl(records(5))),  # UTF-8 BOM
        ("jsonl", jsonl(records(5)).replace(b"\n", b"\r")),  # CR-only line ends
        ("jsonl", jsonl(records(5)).replace(b"\n", b"\r\n")),
        ("jsonl", jsonl(records(5)).decode().encode("utf-16")),  # UTF-16 with its BOM
        ("csv", b"\xef\xbb\xbfid,text\n" + b"".join(b"%d,row %d text\n" % (i, i) for i in range(5))),
        ("csv", ("id,text\r" + "".join(f"{i},row {i} text\r" for i in range(5))).encode()),
        ("csv", ("id,text\n" + "".join(f"{i},row {i} text\n" for i in range(5))).encode("utf-16")),
    ],
)
def test_byte_order_marks_and_line_endings(tmp_path: Path, kind: str, payload: bytes):
    """#14.9: a UTF-8 BOM lost the first JSONL record and made every CSV row "no value for id
    field"; CR-only line endings made a whole file one record."""
    path = tmp_path / f"f.{kind}"
    path.write_bytes(payload)
    docs, skipped = read(path, kind=kind)
    assert ids(docs) == list(range(5)) and skipped == []


def test_saved_datasets_truncated_empty_and_without_the_split(tmp_path: Path):
    """A truncated Arrow file, a zero-row dataset and a DatasetDict without the split were
    tracebacks; now: the rows before the damage and a counted loss, nothing, and a clear error."""
    rows = datasets.Dataset.from_list(records())
    rows.save_to_disk(str(tmp_path / "cut"))
    (arrow,) = (tmp_path / "cut").glob("*.arrow")
    arrow.write_bytes(arrow.read_bytes()[: arrow.stat().st_size // 2])
    docs, skipped = read(tmp_path / "cut", kind="hf_dataset")
    assert ids(docs) == list(range(len(docs))) and 0 < len(docs) < N
    assert [s["reason"] for s in skipped] == ["truncated_file"] and skipped[0]["input_file"] == str(arrow)

    datasets.Dataset.from_dict({"id": [], "text": []}).save_to_disk(str(tmp_path / "empty"))
    assert read(tmp_path / "empty", kind="hf_dataset") == ([], [])

    datasets.DatasetDict({"train": rows}).save_to_disk(str(tmp_path / "dict"))
    with pytest.raises(InputError, match="saved DatasetDict has no split 'test'"):
        read(tmp_path / "dict", kind="hf_dataset", options={"split": "test"})


def test_bad_json_under_a_datasets_builder_names_its_file(tmp_path: Path):
    good, bad = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    good.write_bytes(jsonl(records(10)))
    bad.write_bytes(jsonl(records(10)) + b"{not json\n")
    docs, skipped = read(tmp_path / "*.jsonl", kind="hf_dataset", options={"name": "json"})
    assert len(docs) == 10 and [(s["input_file"], s["reason"]) for s in skipped] == [(str(bad), "corrupt_file")]
    assert "kind: jsonl" in skipped[0]["message"]  # points at the connector that skips one record


def test_a_literal_path_with_glob_characters_reads_that_file(tmp_path: Path):
    """A catalogue path `data[1].jsonl` matched `data1.jsonl` (a glob class), not itself."""
    (tmp_path / "data[1].jsonl").write_bytes(jsonl(records(3)))
    (tmp_path / "data1.jsonl").write_bytes(jsonl(records(7)))
    catalog = write_catalog(
        tmp_path / "catalog",
        entry("lit", {"kind": "jsonl", "paths": [str(tmp_path / "data[1].jsonl")], "id_field": "id"}),
    )
    run_cli("run", str(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out")))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["totals"]["docs_in"] == 3


def test_a_code_tree_path_that_is_a_file_is_a_catalogue_problem(tmp_path: Path):
    (tmp_path / "main.py").write_text("print('hi')\n")
    connector = {"kind": "code_tree", "paths": [str(tmp_path / "main.py")], "text_field": "content", "id_field": "id"}
    catalog = write_catalog(tmp_path / "catalog", entry("code", connector, languages=[]))
    _, problems = validate_catalog(catalog)
    assert [(f, reason.split(" (")[0]) for _, f, reason in problems] == [
        ("connector.paths.0", f"{tmp_path / 'main.py'} is not a directory")
    ]


def test_skip_counts_the_loss_and_lists_the_file_in_the_manifest(tmp_path: Path):
    """End to end through the CLI: fail names the file and the place and publishes nothing;
    skip publishes, counts `input:truncated_file` and lists the file under input_errors."""
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    whole = zstandard.ZstdCompressor().compress(jsonl(records(20_000)))
    (data / "cut.jsonl.zst").write_bytes(whole[: len(whole) // 2])
    (data / "ok.jsonl").write_bytes(jsonl(records(5)))
    for on_error in ("fail", "skip"):
        connector = {"kind": "jsonl", "paths": ["../data/*"], "id_field": "id", "on_error": on_error}
        catalog = write_catalog(tmp_path / f"catalog-{on_error}", entry("web", connector))
        (catalog / "data").symlink_to(data)
        out = tmp_path / f"out-{on_error}"
        result = run_cli("run", str(write_config(tmp_path / f"{on_error}.yaml", catalog, out)), check=False)
        if on_error == "fail":
            assert result.returncode == 2 and not (out / "manifest.json").exists()
            assert "cut.jsonl.zst: after line" in result.stderr and "truncated" in result.stderr
            assert "Traceback" not in result.stderr
            continue
        assert result.returncode == 0, result.stderr
        manifest = json.loads((out / "manifest.json").read_text())
        (cell,) = manifest["by_source_lang"]
        kept = cell["docs_out"]
        assert cell["dropped"] == [{"step": "input", "reason": "truncated_file", "docs": 1, "bytes": 0}]
        assert cell["docs_in"] == kept + 1 and 5 < kept < 20_005
        (listed,) = manifest["input_errors"]
        assert listed["input_file"].endswith("cut.jsonl.zst") and listed["records"] is None
        assert listed["where"] == f"after line {kept - 5}"
        run_cli("verify", str(out))


@pytest.mark.parametrize(
    "path, reason",
    [
        ("memory://bucket/no]such[dir/*.jsonl", "no file matches this path or pattern"),
        ("https://127.0.0.1:9/dumps/[x]/*.jsonl", "cannot be listed (ClientConnectorError"),
    ],
)
def test_a_remote_path_that_matches_nothing_is_one_line_naming_it(tmp_path: Path, path: str, reason: str):
    """Remote paths are not checked by `catalog validate`; at run time they used to end in a
    worker traceback, and the one-line form was cut at the first `]` of the path."""
    catalog = write_catalog(tmp_path / "catalog", entry("remote", {"kind": "jsonl", "paths": [path]}))
    result = run_cli("run", str(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out")), check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {path}: connector.paths.0: {reason}")


def test_s3_without_boto3_is_one_line_with_the_install_command(tmp_path: Path):
    pytest.importorskip("apache_beam")
    import importlib.util

    if importlib.util.find_spec("boto3") is not None:
        pytest.skip("boto3 is installed here")
    catalog = write_catalog(tmp_path / "catalog", entry("s3src", {"kind": "jsonl", "paths": ["s3://bucket/a/*.jsonl"]}))
    config = write_config(tmp_path / "run.yaml", catalog)
    for args, field in (([], "connector.paths.0"), (["--output", "s3://bucket/release"], "--output")):
        out = [] if args else ["--output", str(tmp_path / "out")]
        result = run_cli("run", str(config), *out, *args, check=False)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert f": {field}: s3:// needs boto3: pip install 'rootstock[s3]'" in result.stderr


def test_catalog_validate_without_a_directory_reads_the_working_directorys_catalog(tmp_path: Path):
    write_catalog(tmp_path / "catalog", entry("mine", {"kind": "jsonl", "paths": ["nowhere/*.jsonl"]}))
    result = run_cli("catalog", "validate", check=False, cwd=tmp_path)
    assert result.returncode == 1 and str(tmp_path / "catalog" / "sources" / "mine.yaml") in result.stderr
