"""Ids are unique per release: records sharing an id are renamed and counted, never merged by dedup."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow.parquet as pq

from rootstock.pipeline.beam.ids import DUPLICATE_ID_NOTE
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from rootstock.pipeline.release.verify import verify
from tests.conftest import entry, write_catalog, write_config


def _texts(n: int, seed: int) -> list[str]:
    """N texts no two of which are near-duplicates: random words from a large made-up vocabulary."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "du", "an", "el", "or", "ys"]
    vocab = ["".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(5000)]
    return [" ".join(rng.choices(vocab, k=90)) + "." for _ in range(n)]


def test_two_files_numbered_alike_keep_every_unique_document(tmp_path: Path):
    catalog = tmp_path / "catalog"
    (catalog / "data").mkdir(parents=True)
    texts = _texts(200, seed=3)
    texts[150] = texts[10]  # one real copy: b.jsonl id 50 repeats a.jsonl id 10
    for name, part in (("a", texts[:100]), ("b", texts[100:])):
        lines = [json.dumps({"id": i, "text": t}) for i, t in enumerate(part)]
        if name == "b":
            lines.append(json.dumps({"id": 7, "text": _texts(1, seed=9)[0]}))  # repeated id within one file
        (catalog / "data" / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
    catalog = write_catalog(catalog, entry("docs", {"kind": "jsonl", "paths": ["../data/*.jsonl"], "id_field": "id"}))
    stages = {"dedup": {"enabled": True, "template_lines": {"enabled": False}}}
    config = write_config(tmp_path / "run.yaml", catalog, tmp_path / "out", stages=stages, keep_rejected="all")
    manifest = run(load_config(config))

    assert manifest["totals"]["docs_in"] == 201
    assert manifest["totals"]["docs_out"] == 200  # only the real copy went
    assert sum(v for k, v in manifest["totals"]["dropped_by_reason"].items() if k.startswith("dedup")) == 1
    (cell,) = manifest["by_source_lang"]
    assert cell["notes"][DUPLICATE_ID_NOTE] == 201  # every record of a shared id was renamed

    out = tmp_path / "out"
    rows = [r for s in manifest["shards"] for r in pq.read_table(out / s["path"]).to_pylist()]
    assert len({r["id"] for r in rows}) == len(rows) == 200
    assert sorted(r["text"] for r in rows) == sorted(set(texts) | {_texts(1, seed=9)[0]})
    assert {r["source_doc_id"] for r in rows} == {str(i) for i in range(100)}  # the records' own ids are kept
    assert verify(str(out))[1] == []

    again = run(load_config(config), overwrite=True)  # renamed the same way every time
    rows_again = [r for s in again["shards"] for r in pq.read_table(out / s["path"]).to_pylist()]
    assert sorted(r["id"] for r in rows_again) == sorted(r["id"] for r in rows)


def test_unique_ids_are_left_alone(tmp_path: Path):
    catalog = tmp_path / "catalog"
    (catalog / "data").mkdir(parents=True)
    lines = [json.dumps({"id": f"doc-{i}", "text": t}) for i, t in enumerate(_texts(30, seed=5))]
    (catalog / "data" / "a.jsonl").write_text("\n".join(lines) + "\n")
    catalog = write_catalog(catalog, entry("docs", {"kind": "jsonl", "paths": ["../data/a.jsonl"], "id_field": "id"}))
    manifest = run(load_config(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out")))
    (cell,) = manifest["by_source_lang"]
    assert DUPLICATE_ID_NOTE not in cell.get("notes", {})
    assert manifest["totals"]["docs_out"] == 30


def test_two_code_trees_with_the_same_folder_name_keep_every_file(tmp_path: Path):
    """Two `code_tree` paths named alike (a/proj, b/proj) gave identical `repo/path` ids."""
    texts = _texts(6, seed=11)
    for i, parent in enumerate(("a", "b")):
        for j, name in enumerate(("main.py", "util.py", "lib.py")):
            path = tmp_path / parent / "proj" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"# {texts[3 * i + j]}\nprint({3 * i + j})\n")
    connector = {
        "kind": "code_tree",
        "paths": [str(tmp_path / "a" / "proj"), str(tmp_path / "b" / "proj")],
        "text_field": "content",
        "id_field": "id",
        "lang_field": "language",
    }
    catalog = write_catalog(tmp_path / "catalog", entry("code", connector, languages=[], license={"id": "MIT"}))
    stages = {"dedup": {"enabled": True, "template_lines": {"enabled": False}}}
    manifest = run(load_config(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out", stages=stages)))
    rows = [r for s in manifest["shards"] for r in pq.read_table(tmp_path / "out" / s["path"]).to_pylist()]
    assert len(rows) == len({r["id"] for r in rows}) == 6 and manifest["totals"]["docs_out"] == 6
    assert sorted(r["source_doc_id"] for r in rows) == sorted(["proj/main.py", "proj/util.py", "proj/lib.py"] * 2)
    (cell,) = manifest["by_source_lang"]
    assert cell["notes"][DUPLICATE_ID_NOTE] == 6
