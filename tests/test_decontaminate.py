"""Decontamination: documents sharing a 13-gram with an evaluation example are dropped or cut,
planted examples (exact and lightly edited) all found, nothing else touched."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sample_texts import topic_sentences

from rootstock.errors import ConfigError, InputError
from rootstock.filters import decontaminate as dc
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from rootstock.pipeline.stages.decontaminate import EvalSet, _ReadExamples, eval_files, iter_records
from rootstock.pipeline.stages.registry import StagesConfig
from tests.conftest import entry, write_catalog, write_config

EN = topic_sentences("en")  # the sample's own sentences (CC0): background from the first 44,
ZH = topic_sentences("zhs")  # evaluation examples from the rest, so they share no 13-gram by chance
OFF = {name: {"enabled": False} for name in ("clean", "langid", "quality", "dedup", "pii")}


# --- the text logic ----------------------------------------------------------------------------


def test_words_are_normalised_and_located():
    text = "Don't  STOP—the “quick” Brown fox!"
    found = dc.words(text, "en")
    assert found.words == ["do", "nt", "stop", "the", "quick", "brown", "fox"]
    assert [text[s:e] for s, e in zip(found.starts, found.ends, strict=True)][-3:] == ["quick", "Brown", "fox"]
    zh = dc.words("每年四月，湿地都会响起鸣叫声。", "zhs")  # jieba words, punctuation gone
    assert "，" not in zh.words and "".join(zh.words) == "每年四月湿地都会响起鸣叫声"


def test_match_needs_n_words_in_a_row_and_merges_spans():
    example = EN[50]
    table = dc.example_table([(2, example)], ["en"], 13)
    words = example.split()
    assert len(words) >= 20
    edited = " ".join(["Zebra"] + words[1:]).upper().replace(",", "")  # case, punctuation, first word
    text = "Before it. " + edited + " After it."
    found = dc.match(text, "en", table, 13)
    assert found.mask == 1 << 2 and len(found.spans) == 1
    assert dc.remove_spans(text, found.spans).startswith("Before it. ZEBRA ")
    assert dc.remove_spans(text, found.spans).endswith(" After it.")
    # 12 words in a row, or an edit every 10 words: no 13-gram in common
    assert dc.match(" ".join(words[:12]), "en", table, 13).mask == 0
    broken = " ".join(w if i % 10 else "xyzzy" for i, w in enumerate(words))
    assert dc.match(broken, "en", table, 13).mask == 0
    # the language is part of the fingerprint
    assert dc.match(example, "und", table, 13).mask == 0
    # margins widen and merge, clamped to the text
    wide = dc.match(text, "en", table, 13, margin=1000)
    assert wide.spans.tolist() == [[0, len(text)]]


def test_field_texts_walk_lists_and_mappings():
    record = {"q": "A question", "choices": ["one", None, ["two"]], "answers": {"text": ["x", "y"]}, "n": 3}
    assert dc.field_texts(record, "choices") == ["one", "two"]
    assert dc.field_texts(record, "answers.text") == ["x", "y"]
    with pytest.raises(dc.FieldError, match="no field 'qq'"):
        dc.field_texts(record, "qq")
    with pytest.raises(dc.FieldError, match="'n' holds a int, not text"):
        dc.field_texts(record, "n")


def test_off_by_default_and_on_with_sets():
    stages = StagesConfig.parse({})
    assert "decontaminate" in stages and "decontaminate" not in stages.enabled()
    assert list(stages).index("decontaminate") == list(stages).index("dedup") + 1
    sets = {"eval_sets": [{"name": "x", "path": "x.jsonl", "fields": ["text"]}]}
    assert "decontaminate" in StagesConfig.parse({"decontaminate": sets}).enabled()
    with pytest.raises(Exception, match="enabled but `eval_sets` is empty"):
        StagesConfig.parse({"decontaminate": {"enabled": True}})
    with pytest.raises(Exception, match="names must be unique"):
        StagesConfig.parse({"decontaminate": {"eval_sets": sets["eval_sets"] * 2}})


# --- the stage ---------------------------------------------------------------------------------


def _doc(rng: random.Random, pool: list[str], count: int, sep: str = " ") -> str:
    return sep.join(rng.sample(pool, count))


def _corpus(root: Path):
    """Evaluation sets in three formats and a two-language corpus with planted examples.

    Returns (catalog, eval_sets settings, planted: id → (set, text before, text after)).
    """
    rng = random.Random(20)
    evals = root / "evals"
    evals.mkdir(parents=True)
    qa = [{"question": EN[44 + i], "choices": ["yes", "no", EN[50 + i]], "id": i} for i in range(6)]
    (evals / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in qa), encoding="utf-8")
    passages = datasets.Dataset.from_list([{"passage": EN[56 + i] + " " + EN[57 + i]} for i in range(0, 4, 2)])
    datasets.DatasetDict({"test": passages.select([0]), "validation": passages.select([1])}).save_to_disk(
        str(evals / "passages")
    )
    pq.write_table(pa.Table.from_pylist([{"text": t} for t in ZH[30:]]), evals / "zh.parquet")
    eval_sets = [
        {"name": "qa", "path": "evals/qa.jsonl", "fields": ["question", "choices"]},
        {"name": "passages", "path": "evals/passages", "fields": ["passage"]},
        {"name": "zh-set", "path": "evals/zh.parquet", "fields": ["text"], "languages": ["zh"]},
    ]
    en_pool, zh_pool = EN[:44], ZH[:30]
    en = [{"id": f"en{i:02d}", "text": _doc(rng, en_pool, 4)} for i in range(30)]
    zh = [{"id": f"zh{i:02d}", "text": _doc(rng, zh_pool, 3, "")} for i in range(12)]
    words = qa[3]["question"].split()
    plants = {  # id → (set, planted text, language)
        "plant-exact": ("qa", qa[0]["question"], "en"),
        "plant-case": ("qa", qa[1]["question"].upper(), "en"),
        "plant-punct": ("qa", qa[2]["question"].replace(",", "").replace(".", " !!").replace(" ", "\n   "), "en"),
        "plant-word": ("qa", " ".join(["Yesterday"] + words[1:]), "en"),
        "plant-choice": ("qa", qa[4]["choices"][2].replace(" ", "  "), "en"),
        "plant-hf": ("passages", passages[1]["passage"].lower(), "en"),
        "plant-zh": ("zh-set", ZH[33].replace("，", ", ").replace("。", "."), "zh"),
    }
    planted = {}
    for doc_id, (name, text, lang) in plants.items():
        pool, sep = (en_pool, " ") if lang == "en" else (zh_pool, "")
        before, after = _doc(rng, pool, 2, sep) + sep, sep + _doc(rng, pool, 2, sep)
        (en if lang == "en" else zh).append({"id": doc_id, "text": before + text + after})
        planted[doc_id] = (name, before, after)
    near = qa[5]["question"].split()  # must stay: 12 words in a row, or an edit every 10 words
    en.append({"id": "miss-12", "text": _doc(rng, en_pool, 2) + " " + " ".join(near[:12]) + "."})
    en.append({"id": "miss-edits", "text": " ".join(w if i % 10 else "ZZ" for i, w in enumerate(near))})
    # zh-set checks Chinese documents only (`languages: [zh]`): its text in an English one stays
    en.append({"id": "zh-in-en", "text": _doc(rng, en_pool, 2) + " " + ZH[34]})
    data = root / "data"
    data.mkdir()
    (data / "en.jsonl").write_text("".join(json.dumps(r) + "\n" for r in en), encoding="utf-8")
    pq.write_table(pa.Table.from_pylist(zh), data / "zh.parquet")
    catalog = write_catalog(
        root / "catalog",
        entry("web-en", {"kind": "jsonl", "paths": ["../../data/en.jsonl"], "id_field": "id"}, languages=["en"]),
        entry("web-zh", {"kind": "parquet", "paths": ["../../data/zh.parquet"], "id_field": "id"}, languages=["zhs"]),
    )
    return catalog, eval_sets, planted, {r["id"]: r["text"] for r in en + zh}


def _rows(out: Path, kind: str) -> dict[str, dict]:
    files = sorted(out.glob(f"{kind}/**/*.parquet"))
    rows = pa.concat_tables([pq.read_table(f) for f in files]).to_pylist() if files else []
    return {r["source_doc_id"]: r for r in rows}


def _run(root: Path, name: str, **settings):
    catalog, eval_sets, planted, texts = _corpus(root)
    stages = {**OFF, "decontaminate": {"eval_sets": eval_sets, **settings}}
    config = write_config(root / "run.yaml", catalog, root / name, stages=stages, keep_rejected="all")
    return root / name, run(load_config(config)), planted, texts


@pytest.fixture(scope="module")
def dropped(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("drop"), "out")


@pytest.fixture(scope="module")
def cut(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("cut"), "out", action="remove_spans", margin_chars=0, join="shuffle")


def test_every_planted_example_dropped_and_nothing_else(dropped):
    out, manifest, planted, texts = dropped
    kept, rejected = _rows(out, "data"), _rows(out, "rejected")
    assert {i: r["drop_reason"] for i, r in rejected.items()} == {i: p[0] for i, p in planted.items()}
    assert all(r["drop_stage"] == "decontaminate" for r in rejected.values())
    assert set(kept) == set(texts) - set(planted)
    assert all(r["text"] == texts[i] for i, r in kept.items())  # byte for byte
    assert manifest["totals"]["dropped_by_reason"] == {
        "decontaminate:qa": 5,
        "decontaminate:passages": 1,
        "decontaminate:zh-set": 1,
    }
    cells = {(c["source"], c["lang"]): c for c in manifest["by_source_lang"]}
    assert cells[("web-zh", "zhs")]["dropped"] == [
        {"step": "decontaminate", "reason": "zh-set", "docs": 1, "bytes": len(texts["plant-zh"].encode())}
    ]
    (report,) = [s["report"] for s in manifest["stages"] if s["name"] == "decontaminate"]
    assert [s["name"] for s in report["eval_sets"]] == ["qa", "passages", "zh-set"]
    assert [len(s["files"]) for s in report["eval_sets"]] == [1, 2, 1]  # both splits of the DatasetDict
    card = (out / "README.md").read_text(encoding="utf-8")
    section = card[card.index("## Decontamination") : card.index("## Known limitations")]
    assert "13-gram" in section and "dropped" in section
    assert "| `qa` | question, choices | qa.jsonl" in section and "| all | 5 | 0 |" in section
    assert "| `zh-set` | text | zh.parquet" in section and "| zhs | 1 | 0 |" in section


def test_remove_spans_cuts_only_the_overlap(cut):
    out, manifest, planted, texts = cut
    kept, rejected = _rows(out, "data"), _rows(out, "rejected")
    assert not rejected and set(kept) == set(texts)
    for doc_id, row in kept.items():
        if doc_id not in planted:
            assert row["text"] == texts[doc_id]
            continue
        _, before, after = planted[doc_id]
        assert row["text"] != texts[doc_id] and row["text"].startswith(before) and row["text"].endswith(after)
    # what is left shares no 13-gram with any example
    examples = [(0, EN[44 + i]) for i in range(6)] + [(0, EN[50 + i]) for i in range(6)]
    examples += [(0, EN[56 + i] + " " + EN[57 + i]) for i in range(0, 4, 2)]
    table = dc.example_table(examples, ["en", "zhs"], 13)
    zh_table = dc.example_table([(0, t) for t in ZH[30:]], ["zhs"], 13)  # zh-set: `languages: [zh]`
    assert all(dc.match(r["text"], r["lang"], table, 13).mask == 0 for r in kept.values())
    assert all(dc.match(r["text"], r["lang"], zh_table, 13).mask == 0 for r in kept.values())
    notes = {}
    for cell in manifest["by_source_lang"]:
        for key, n in (cell.get("notes") or {}).items():
            notes[key] = notes.get(key, 0) + n
    assert notes["decontaminate:qa"] == 5 and notes["decontaminate:passages"] == 1
    assert notes["decontaminate:zh-set"] == 1 and notes["decontaminate:spans"] == 7
    assert manifest["totals"]["docs_dropped"] == 0
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "7 spans" in card and "| `passages` | passage | " in card


def test_bad_path_or_field_is_named(tmp_path):
    catalog, eval_sets, _, _ = _corpus(tmp_path)
    bad_path = [{**eval_sets[0], "path": "evals/nope.jsonl"}]
    config = write_config(
        tmp_path / "run.yaml", catalog, tmp_path / "out", stages={"decontaminate": {"eval_sets": bad_path}}
    )
    with pytest.raises(ConfigError) as err:
        run(load_config(config))
    assert f"stages.decontaminate.eval_sets.qa.path: no such file or directory: {tmp_path}/evals/nope.jsonl" in str(
        err.value
    )
    bad_field = [eval_sets[0], {**eval_sets[2], "fields": ["txt"]}]
    config = write_config(config, catalog, tmp_path / "out", stages={"decontaminate": {"eval_sets": bad_field}})
    with pytest.raises(ConfigError) as err:  # what `rootstock run` prints, exit status 2
        run(load_config(config))
    assert f"{tmp_path}/evals/zh.parquet: stages.decontaminate.eval_sets.zh-set.fields: no field 'txt'" in str(
        err.value
    )
    assert "(fields: text)" in str(err.value) and not (tmp_path / "out").exists()


def test_eval_files_in_every_layout(tmp_path):
    (tmp_path / "dir").mkdir()
    with gzip.open(tmp_path / "dir" / "a.jsonl.gz", "wt") as handle:
        handle.write('{"q": "one"}\n')
    pq.write_table(pa.Table.from_pylist([{"q": "two"}]), tmp_path / "dir" / "b.parquet")
    (tmp_path / "dir" / "notes.txt").write_text("not data")
    folder = eval_files(EvalSet(name="d", path=str(tmp_path / "dir"), fields=["q"]))
    assert [(Path(p).name, kind) for p, kind in folder] == [("a.jsonl.gz", "jsonl"), ("b.parquet", "parquet")]
    texts = [r["q"] for p, kind in folder for r in iter_records(p, kind, ["q"])]
    assert texts == ["one", "two"]
    glob = eval_files(EvalSet(name="g", path=str(tmp_path / "dir" / "*.parquet"), fields=["q"]))
    assert [Path(p).name for p, _ in glob] == ["b.parquet"]
    with pytest.raises(ValueError, match="no JSONL or Parquet file in"):
        eval_files(EvalSet(name="e", path=str(tmp_path), fields=["q"]))


def test_a_later_record_without_the_field_is_named(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text('{"q": "one"}\n\n{"q": "two"}\n{"question": "three"}\n', encoding="utf-8")
    fn = _ReadExamples([EvalSet(name="s", path=str(path), fields=["q"])], None)
    with pytest.raises(InputError, match=r"set.jsonl: record 3: no field 'q' \(fields: question\)"):
        list(fn.process((0, str(path), "jsonl")))


def test_table_lookup_and_set_masks():
    key = np.array([5, 5, 9, 5], dtype=np.uint64)
    check = np.array([1, 2, 3, 1], dtype=np.uint64)
    table = dc.NgramTable(key, check, np.array([1, 2, 4, 8], dtype=np.uint64))
    assert len(table) == 3  # (5, 1) twice: one row, masks joined
    found = table.lookup(np.array([5, 5, 5, 9, 7], np.uint64), np.array([1, 2, 3, 3, 1], np.uint64))
    assert found.tolist() == [9, 2, 0, 4, 0]
    assert dc.set_indices(9) == [0, 3]
