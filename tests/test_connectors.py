"""Each connector on real files it writes itself, and every malformed-input path."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from rootstock.catalog.loader import load_catalog
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from tests.conftest import entry, run_cli, write_catalog, write_config

DOCS = [
    {
        "id": "a1",
        "text": "Hyvää huomenta, Suomi.\nToinen rivi.",
        "url": "https://example.org/a1?utm=x",
        "lang": "fi",
        "title": "A",
    },
    {
        "id": "a2",
        "text": "Habari ya asubuhi kutoka Nairobi.",
        "url": "https://example.org/a2",
        "lang": "sw",
        "title": "B",
    },
    {"id": "a3", "text": "你好，世界。这是一个测试。", "url": None, "lang": "zh-CN", "title": "C"},
    {"id": "a4", "text": "مرحبا بالعالم", "url": "https://example.org/a4", "lang": "ar", "title": "D"},
]


def _jsonl_bytes(records) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def _release(tmp_path: Path, *entries, beam_args=None):
    catalog = write_catalog(tmp_path / "catalog", *entries)
    config = load_config(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out"))
    manifest = run(config, beam_args)
    table = pa.concat_tables([pq.read_table(p) for p in sorted((tmp_path / "out").glob("data/**/*.parquet"))])
    return manifest, table.sort_by("source_doc_id").to_pylist()


CONNECTOR = {"paths": ["../data/*"], "id_field": "id", "url_field": "url", "lang_field": "lang"}


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst"])
def test_jsonl_plain_and_compressed(tmp_path: Path, suffix: str):
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    payload = _jsonl_bytes(DOCS[:2]) + b"\n" + _jsonl_bytes(DOCS[2:])  # a blank line is not a record
    if suffix.endswith(".gz"):
        payload = gzip.compress(payload)
    elif suffix.endswith(".zst"):
        payload = zstandard.ZstdCompressor().compress(payload)
    (data / f"part{suffix}").write_bytes(payload)
    manifest, rows = _release(
        tmp_path, entry("news", {"kind": "jsonl", **CONNECTOR}, languages=["fi", "sw", "zhs", "ar"])
    )
    assert [r["text"] for r in rows] == [d["text"] for d in DOCS]
    assert [r["lang"] for r in rows] == ["fi", "sw", "zhs", "ar"]  # zh-CN resolved through the registry
    first = rows[0]
    assert first["source"] == "news" and first["license"] == "CC0-1.0"
    assert first["url"] == "https://example.org/a1?utm=x" and rows[2]["url"] is None
    assert first["input_file"] == f"data/part{suffix}" and [r["input_row"] for r in rows] == [0, 1, 2, 3]
    assert first["retrieved_at"].isoformat() == "2026-01-02T03:04:05+00:00"
    assert json.loads(first["meta"]) == {"lang": "fi", "title": "A"}
    assert len({r["id"] for r in rows}) == 4
    assert manifest["totals"]["docs_in"] == manifest["totals"]["docs_out"] == 4


def test_parquet_and_csv_sources(tmp_path: Path):
    data = tmp_path / "catalog" / "data"
    (data / "pq").mkdir(parents=True)
    (data / "csv").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(DOCS), data / "pq" / "x.parquet")
    (data / "csv" / "posts.csv").write_text(
        'post_id,language,body\np1,sw,"Habari za leo.\nMstari wa pili, na koma."\np2,yo,"Ẹ kú àárọ̀, ọ̀rẹ́ mi."\n',
        encoding="utf-8",
    )
    manifest, rows = _release(
        tmp_path,
        entry("wiki", {"kind": "parquet", **CONNECTOR, "paths": ["../data/pq/*.parquet"]}, languages=[]),
        entry(
            "forum",
            {
                "kind": "csv",
                "paths": ["../data/csv/*.csv"],
                "text_field": "body",
                "id_field": "post_id",
                "lang_field": "language",
            },
            languages=["sw", "yo"],
        ),
    )
    by_id = {r["source_doc_id"]: r for r in rows}
    assert by_id["p1"]["text"] == "Habari za leo.\nMstari wa pili, na koma."  # quoted newline kept
    assert by_id["p2"]["lang"] == "yo" and by_id["p2"]["input_row"] == 1
    assert by_id["a3"]["source"] == "wiki" and by_id["a3"]["lang"] == "zhs"
    assert json.loads(by_id["p1"]["meta"]) == {"language": "sw"}
    assert manifest["totals"]["docs_out"] == 6
    assert sorted(manifest["sources"]) == ["forum", "wiki"]


def test_hf_dataset_save_to_disk_and_load_dataset(tmp_path: Path):
    data = tmp_path / "catalog" / "data"
    datasets.Dataset.from_list(DOCS).save_to_disk(str(data / "saved"), num_shards=2)
    (data / "raw").mkdir()
    (data / "raw" / "a.jsonl").write_bytes(_jsonl_bytes(DOCS[:2]))
    (data / "raw" / "b.jsonl").write_bytes(_jsonl_bytes(DOCS[2:]))
    manifest, rows = _release(
        tmp_path,
        entry("saved", {"kind": "hf_dataset", **CONNECTOR, "paths": ["../data/saved"]}, languages=[]),
        entry(
            "built",
            {
                "kind": "hf_dataset",
                **CONNECTOR,
                "paths": ["../data/raw/*.jsonl"],
                "options": {"name": "json", "split": "train"},
            },
            languages=[],
        ),
    )
    for source in ("saved", "built"):
        got = sorted((r["source_doc_id"], r["text"], r["lang"]) for r in rows if r["source"] == source)
        assert got == sorted((d["id"], d["text"], r) for d, r in zip(DOCS, ["fi", "sw", "zhs", "ar"], strict=True))
    saved_files = {r["input_file"] for r in rows if r["source"] == "saved"}
    assert len(saved_files) == 2 and all(f.endswith(".arrow") for f in saved_files)  # split by Arrow file


def test_remote_paths_go_through_fsspec(tmp_path: Path):
    """A URL path (here fsspec's in-process memory://) is matched and read by the same transforms."""
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/rootstock-test/remote/a.jsonl.gz", gzip.compress(_jsonl_bytes(DOCS)))
    manifest, rows = _release(
        tmp_path,
        entry("remote", {"kind": "jsonl", **CONNECTOR, "paths": ["memory://rootstock-test/remote/*.jsonl.gz"]}),
    )
    assert len(rows) == 4
    assert rows[0]["input_file"] in (
        "memory://rootstock-test/remote/a.jsonl.gz",
        "memory:///rootstock-test/remote/a.jsonl.gz",
    )


def test_ids_are_stable_and_derived_without_id_field(tmp_path: Path):
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    (data / "x.jsonl").write_bytes(_jsonl_bytes(DOCS))
    spec = {"kind": "jsonl", "paths": ["../data/x.jsonl"]}
    _, first = _release(tmp_path, entry("noid", spec))
    (tmp_path / "two" / "catalog" / "data").mkdir(parents=True)
    (tmp_path / "two" / "catalog" / "data" / "x.jsonl").write_bytes(_jsonl_bytes(DOCS))
    _, second = _release(tmp_path / "two", entry("noid", spec))
    assert [r["id"] for r in first] == [r["id"] for r in second]  # same input, other directory
    assert len({r["id"] for r in first}) == 4 and all(r["source_doc_id"] is None for r in first)


BAD_LINES = [
    (b'{"id": "b1", "text": "fine"}\n{"id": "b2", "text": "broken\n', "line 2", "invalid JSON"),
    (b'{"id": "b1", "text": "fine"}\n{"id": "b2", "body": "no text"}\n', "line 2", "no text field 'text'"),
    (b'{"id": "b1", "text": "fine"}\n{"id": "b2", "text": "bad \xff\xfe bytes"}\n', "line 2", "invalid UTF-8"),
    (b'{"id": "b1", "text": "fine"}\n\n{"id": "b2", "text": "   \\n "}\n', "line 3", "is empty"),
    (b'{"id": "b1", "text": "fine"}\n{"id": "b2", "text": 42}\n', "line 2", "not a string"),
]


@pytest.mark.parametrize("payload,where,reason", BAD_LINES)
def test_malformed_input_fails_naming_file_and_line(tmp_path: Path, payload: bytes, where: str, reason: str):
    catalog = tmp_path / "catalog"
    (catalog / "data").mkdir(parents=True)
    (catalog / "data" / "bad.jsonl").write_bytes(payload)
    write_catalog(catalog, entry("bad", {"kind": "jsonl", "paths": ["../data/*.jsonl"], "id_field": "id"}))
    config = write_config(tmp_path / "run.yaml", catalog, tmp_path / "out")
    result = run_cli("run", str(config), check=False)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"error: data/bad.jsonl: {where}: ") and reason in lines[0], result.stderr
    assert lines[-1].startswith("hint: source bad: set `on_error: skip`") and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.partial-*"))  # the staging area is cleaned up too


def test_malformed_csv_row_names_its_lines(tmp_path: Path):
    catalog = tmp_path / "catalog"
    (catalog / "data").mkdir(parents=True)
    (catalog / "data" / "t.csv").write_bytes(b'id,text\n1,"ok\nstill ok"\n2,a,extra\n')
    write_catalog(catalog, entry("tab", {"kind": "csv", "paths": ["../data/t.csv"], "id_field": "id"}))
    result = run_cli("run", str(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out")), check=False)
    assert result.returncode == 2
    assert "data/t.csv: line 4: 3 fields where the header has 2" in result.stderr


def test_on_error_skip_counts_every_reason(tmp_path: Path):
    catalog = tmp_path / "catalog"
    (catalog / "data").mkdir(parents=True)
    (catalog / "data" / "mixed.jsonl").write_bytes(b"".join(p for p, _, _ in BAD_LINES))
    write_catalog(catalog, entry("mixed", {"kind": "jsonl", "paths": ["../data/*.jsonl"], "on_error": "skip"}))
    manifest = run(load_config(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out")))
    (cell,) = manifest["by_source_lang"]
    dropped = {d["reason"]: d["docs"] for d in cell["dropped"]}
    assert dropped == {
        "bad_json": 1,
        "missing_text": 1,
        "invalid_utf8": 1,
        "empty_text": 1,
        "text_not_string": 1,
    }
    # "broken\n" swallowed the next line into one bad line: 5 good "fine" records + 5 bad ones.
    assert cell["docs_out"] == 5 and cell["docs_in"] == 10
    assert manifest["totals"]["docs_in"] == manifest["totals"]["docs_out"] + manifest["totals"]["docs_dropped"]
    rows = pq.read_table(next((tmp_path / "out").glob("data/en/mixed/*.parquet"))).to_pylist()
    assert {r["text"] for r in rows} == {"fine"}


def test_catalog_relative_paths_resolve_from_entry_file(tmp_path: Path):
    catalog = tmp_path / "catalog"
    (catalog / "data").mkdir(parents=True)
    (catalog / "data" / "x.jsonl").write_bytes(_jsonl_bytes(DOCS))
    write_catalog(catalog, entry("rel", {"kind": "jsonl", "paths": ["../data/x.jsonl"]}))
    loaded = load_catalog(catalog)
    assert loaded.resolve_paths("rel") == [str(catalog / "data" / "x.jsonl")]
