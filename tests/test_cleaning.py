"""ROOTS per-source cleaning: each step as bigscience-workshop/data-preparation defined it
(preprocessing/training/01a_catalogue_cleaning_and_filtering/clean.py and clean_helpers/), the
catalogue's `clean:` list, the registry's size floor by default, and the stage end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from rootstock.catalog.entry import CLEAN_ORDER, SourceEntry
from rootstock.filters import cleaning
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from rootstock.pipeline.stages.base import RunContext
from rootstock.pipeline.stages.clean import Clean, CleanSettings
from rootstock.pipeline.stages.registry import BUILTIN_NAMES
from tests.conftest import entry, write_catalog, write_config


def _entry(clean: list, uid: str = "s", connector: dict | None = None, **overrides) -> SourceEntry:
    connector = connector or {"kind": "jsonl", "paths": ["x.jsonl"]}
    return SourceEntry.model_validate(entry(uid, connector, clean=clean, **overrides))


def _apply(text: str, clean: list, meta: dict | None = None, lang_min_bytes: int | None = None):
    return cleaning.apply_steps(text, json.dumps(meta or {}), list(_entry(clean).clean), lang_min_bytes)


# --- each ROOTS step, as ROOTS defined it ---------------------------------------------------------


def test_small_docs_bytes_counts_utf8_bytes_not_characters():
    # filter_small_docs_bytes_1024: len(text.encode()) >= 1024 keeps.
    assert _apply("é" * 512, ["filter_small_docs_bytes_1024"]).dropped_by is None  # 512 characters, 1024 bytes
    assert _apply("é" * 511 + "e", ["filter_small_docs_bytes_1024"]).dropped_by == "small_docs_bytes"
    assert _apply("a" * 299, [{"small_docs_bytes": {"min_bytes": 300}}]).dropped_by == "small_docs_bytes"
    assert _apply("a" * 299, [{"small_docs_bytes": {"min_bytes": 0}}]).dropped_by is None  # 0: no floor
    # `registry` (the default) takes the floor the stage looked up for the document's language.
    assert _apply("a" * 299, ["small_docs_bytes"], lang_min_bytes=300).dropped_by == "small_docs_bytes"
    assert _apply("a" * 299, ["small_docs_bytes"], lang_min_bytes=None).dropped_by is None


def test_small_docs_splits_on_single_spaces_only():
    # filter_small_docs: len(text.split(" ")) >= 15 keeps; newlines do not separate words.
    assert _apply(" ".join(["word"] * 15), ["small_docs"]).dropped_by is None
    assert _apply(" ".join(["word"] * 14), ["small_docs"]).dropped_by == "small_docs"
    assert _apply("\n".join(["word"] * 40), ["small_docs"]).dropped_by == "small_docs"  # one "word" to ROOTS
    assert _apply(" ".join(["w"] * 9), [{"small_docs": {"min_words": 10}}]).dropped_by == "small_docs"


def test_remove_empty_docs_drops_whitespace_only():
    # filter_remove_empty_docs: len(text.strip()) > 0 keeps.
    assert _apply(" \n\t \n", ["filter_remove_empty_docs"]).dropped_by == "remove_empty_docs"
    assert _apply("\n.\n", ["remove_empty_docs"]).dropped_by is None


def test_remove_lines_with_code_drops_lines_holding_a_bracket_or_script():
    text = "Intro line.\n  var x = {a: 1};\nif (a) [if IE]\n<script src=a.js>\n  Indented prose stays.\nEnd."
    out = _apply(text, ["remove_lines_with_code"])
    assert out.text == "Intro line.\n  Indented prose stays.\nEnd."  # other lines exactly as they were
    assert out.edits == [("remove_lines_with_code", len(text.encode()) - len(out.text.encode()))]
    assert _apply("A line [with] brackets (and parens).", ["remove_lines_with_code"]).edits == []


def test_remove_html_spans_matches_substrings_as_roots_did():
    text = "Keep me.\n<span>x</span>\n<div class=a>\nline with <abbr> goes too\nhello<br>\nthe a tag alone stays"
    # "<a" is a substring of "<abbr": ROOTS removed such lines as well.
    assert _apply(text, ["remove_html_spans"]).text == "Keep me.\nthe a tag alone stays"


def test_remove_wiki_mojibake_drops_lines_with_a_repeated_capital_a_grave():
    text = "Le café est ouvert.\nÀ À À À\nÀ la maison."
    assert _apply(text, ["remove_wiki_mojibake"]).text == "Le café est ouvert.\nÀ la maison."


def test_a_modification_that_leaves_nothing_drops_the_document_under_its_name():
    out = _apply("{\n}\n", ["remove_lines_with_code"])
    assert out.dropped_by == "remove_lines_with_code" and out.edits[0][0] == "remove_lines_with_code"


def test_wiki_user_titles_drops_titles_starting_with_user_space():
    # filter_wiki_user_titles: not meta["title"].startswith("User ") keeps.
    def dropped(title):
        return _apply("text", ["wiki_user_titles"], {"title": title}).dropped_by

    assert dropped("User Jimbo") == dropped("User talk:Jimbo") == "wiki_user_titles"
    assert dropped("Username policy") is None and dropped("user Jimbo") is None and dropped("Paris") is None
    out = _apply("text", [{"wiki_user_titles": {"prefixes": ["Utilisateur:"]}}], {"title": "Utilisateur:X"})
    assert out.dropped_by == "wiki_user_titles"


def test_wiki_non_text_type_keeps_only_type_text_and_says_when_it_cannot_tell():
    # filter_wiki_non_text_type: meta["type"] == "text" keeps.
    assert _apply("t", ["wiki_non_text_type"], {"type": "text"}).dropped_by is None
    assert _apply("t", ["wiki_non_text_type"], {"type": "table"}).dropped_by == "wiki_non_text_type"
    missing = _apply("t", ["wiki_non_text_type"], {"title": "No type"})
    assert missing.dropped_by is None and missing.edits == [("wiki_non_text_type", None)]


def test_fix_mojibake_repairs_wrong_decoding_and_leaves_correct_text_alone():
    broken = "The cafÃ© serves crÃ¨me brÃ»lÃ©e."
    out = _apply(broken, ["fix_mojibake"])
    assert out.text == "The café serves crème brûlée."
    assert out.edits == [("fix_mojibake", len(broken.encode()) - len(out.text.encode()))]
    fine = "“Quoted” text, ﬁne ligature, ＦＵＬＬ width, 東京."
    assert _apply(fine, ["fix_mojibake"]).edits == []  # ftfy's rewrites of correct text are off
    assert _apply(fine, [{"fix_mojibake": {"options": {"uncurl_quotes": True}}}]).text.startswith('"Quoted"')


def test_repeated_lines_count_per_occurrence_and_keep_paragraph_breaks():
    # build_dedup_template(0, 2): each occurrence of a stripped line counts, lines seen twice go.
    doc = "Share this\nFirst paragraph.\n\nSecond paragraph.\n  Share this  "
    counts: dict[int, int] = {}
    for h in cleaning.repeated_line_candidates(doc, 0):
        counts[h] = counts.get(h, 0) + 1
    repeated = {h for h, n in counts.items() if n >= 2}
    assert cleaning.remove_repeated_lines(doc, repeated, 0) == "First paragraph.\n\nSecond paragraph."
    assert cleaning.document_key("Page 1, updated 2024!") == cleaning.document_key("Page  2 updated 2025")


# --- the catalogue's `clean:` list -------------------------------------------------------------------


def test_clean_list_runs_in_roots_order_with_roots_names_accepted():
    steps = _entry(
        ["filter_small_docs_bytes_300", "remove_html_spans", "filter_wiki_user_titles", "dedup_pseudocrawl_newspapers"]
    ).clean
    assert [s.step for s in steps] == [
        "wiki_user_titles",
        "dedup_pseudocrawl_newspapers",
        "remove_html_spans",
        "small_docs_bytes",
    ]
    assert [s.step for s in steps] == sorted((s.step for s in steps), key=CLEAN_ORDER.index)
    assert steps[-1].min_bytes == 300 and (steps[1].min_chars, steps[1].min_count) == (0, 2)
    assert "clean" not in _entry(["small_docs"]).governance()


@pytest.mark.parametrize(
    ("clean", "connector", "message"),
    [
        (["remove_lines_with_kode"], {}, "did you mean 'remove_lines_with_code'"),
        (["dedup_template_soft"], {}, "the dedup stage's `template_lines` step"),
        (["small_docs", "filter_small_docs"], {}, "small_docs listed more than once"),
        ([{"small_docs": {"min_word": 3}}], {}, "Extra inputs"),
        ([{"fix_mojibake": {"options": {"fix_everything": True}}}], {}, "not ftfy TextFixerConfig fields"),
        (["wiki_user_titles"], {"meta_fields": ["url"]}, "meta_fields leaves out"),
    ],
)
def test_bad_clean_lists_are_refused_with_the_reason(clean, connector, message):
    with pytest.raises(ValidationError, match=message):
        _entry(clean, connector={"kind": "jsonl", "paths": ["x.jsonl"], **connector})


def test_registry_floor_is_the_default_unless_the_entry_or_the_run_opts_out():
    entries = [
        _entry([], uid="english"),
        _entry([{"small_docs_bytes": {"min_bytes": 0}}], uid="opted_out"),
        _entry(["remove_empty_docs"], uid="crawl", languages=[]),
    ]
    stage = Clean(CleanSettings(), RunContext(config=None, catalog=None, entries=entries))
    assert [s.model_dump() for s in stage.steps["english"]] == [{"step": "small_docs_bytes", "min_bytes": "registry"}]
    assert stage.steps["opted_out"][0].min_bytes == 0
    assert stage.parameters("english")["steps"] == [
        {
            "step": "small_docs_bytes",
            "min_bytes": "registry",
            "from": "registry default",
            "by_language": {"en": 1024},
            "undetermined": "not applied: the language is unknown until language ID",
        }
    ]
    off = Clean(CleanSettings(min_doc_bytes="off"), RunContext(config=None, catalog=None, entries=entries))
    assert off.steps["english"] == [] and [s.step for s in off.steps["crawl"]] == ["remove_empty_docs"]
    assert BUILTIN_NAMES[0] == "clean" and CleanSettings().enabled
    assert CleanSettings.model_validate({"min_doc_bytes": False}).min_doc_bytes == "off"  # YAML's bare `off`


# --- the stage end to end ------------------------------------------------------------------------------

PROSE = (
    "The harbour town keeps a small library by the market square, and on Thursdays the reading circle "
    "meets there to talk about the books its members brought back from the coast."
)


def _write(path: Path, docs: list[dict]) -> None:
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs))


def _rows(release: Path, kind: str) -> dict[tuple[str, str], dict]:
    files = list(release.glob(f"{kind}/**/*.parquet"))
    rows = pa.concat_tables([pq.read_table(f) for f in files]).to_pylist() if files else []
    return {(r["source"], r["source_doc_id"]): r for r in rows}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("clean")
    data = root / "catalog" / "data"
    data.mkdir(parents=True)
    long = " ".join([PROSE] * 8)  # > 1024 bytes
    _write(data / "english.jsonl", [{"id": "long", "text": long}, {"id": "short", "text": PROSE}])
    _write(data / "swahili.jsonl", [{"id": "short", "text": "Habari za asubuhi, rafiki yangu mpendwa."}])
    _write(data / "opted.jsonl", [{"id": "short", "text": PROSE}])
    _write(
        data / "wiki.jsonl",
        [
            {"id": "article", "text": f"{PROSE}\nÀ À À\n<span>nav</span>", "title": "Harbour", "type": "text"},
            {"id": "user", "text": PROSE, "title": "User Jimbo", "type": "text"},
            {"id": "table", "text": PROSE, "title": "Tides", "type": "table"},
            {"id": "mojibake", "text": "The cafÃ© by the harbour. " + PROSE, "title": "Café", "type": "text"},
        ],
    )
    footer = "Subscribe to our newsletter"
    _write(
        data / "news.jsonl",
        [
            {"id": "a", "text": f"Harbour opens.\n{PROSE}\n{footer}", "url": "https://news.example/a"},
            {"id": "b", "text": f"Market day.\n\nFish prices fell.\n{footer}", "url": "https://news.example/b"},
            {"id": "b-copy", "text": f"Market day.\n\nFish prices fell.\n{footer}", "url": "https://news.example/b2"},
            {"id": "only-footer", "text": f"{footer}\n{footer}", "url": "https://news.example/c"},
            {"id": "tiny", "text": "Ok {x}", "url": "https://news.example/d"},
        ],
    )
    jsonl = {"kind": "jsonl", "id_field": "id"}
    catalog = write_catalog(
        root / "catalog",
        entry("english", {**jsonl, "paths": ["../data/english.jsonl"]}),
        entry("swahili", {**jsonl, "paths": ["../data/swahili.jsonl"]}, languages=["sw"]),
        entry("opted", {**jsonl, "paths": ["../data/opted.jsonl"]}, clean=[{"small_docs_bytes": {"min_bytes": 0}}]),
        entry(
            "wiki",
            {**jsonl, "paths": ["../data/wiki.jsonl"], "meta_fields": ["title", "type"]},
            clean=[
                "remove_html_spans",
                "remove_wiki_mojibake",
                "wiki_user_titles",
                "wiki_non_text_type",
                "fix_mojibake",
                {"small_docs_bytes": {"min_bytes": 100}},
            ],
        ),
        entry(
            "news",
            {**jsonl, "paths": ["../data/news.jsonl"], "url_field": "url"},
            languages=[],
            clean=["dedup_pseudocrawl_newspapers", "remove_empty_docs", "remove_lines_with_code", "small_docs_bytes"],
        ),
    )
    stages = {"clean": {}}  # the default: the registry's size floor applies
    config = write_config(root / "run.yaml", catalog, root / "out", keep_rejected="all", stages=stages)
    return root / "out", run(load_config(config))


def test_stage_drops_with_reasons_and_modifies_with_notes(release):
    out, manifest = release
    kept, dropped = _rows(out, "data"), _rows(out, "rejected")
    reasons = {key: (r["drop_stage"], r["drop_reason"]) for key, r in dropped.items()}
    assert reasons == {
        ("english", "short"): ("clean", "small_docs_bytes"),  # registry: en 1024
        ("wiki", "user"): ("clean", "wiki_user_titles"),
        ("wiki", "table"): ("clean", "wiki_non_text_type"),
        ("news", "only-footer"): ("clean", "dedup_pseudocrawl_newspapers"),
        ("news", "tiny"): ("clean", "remove_lines_with_code"),
    }
    # sw has no floor in the registry, `opted` turned it off, the crawl's language is unknown.
    assert {("english", "long"), ("swahili", "short"), ("opted", "short")} <= set(kept)
    assert kept[("wiki", "article")]["text"] == PROSE
    assert kept[("wiki", "mojibake")]["text"].startswith("The café by the harbour.")
    # Repeated lines went from every page; the copied page kept its text (counted once).
    assert kept[("news", "a")]["text"] == f"Harbour opens.\n{PROSE}"
    assert kept[("news", "b")]["text"] == kept[("news", "b-copy")]["text"] == "Market day.\n\nFish prices fell."
    edits = kept[("wiki", "article")]["clean_edits"]
    assert [e["step"] for e in edits] == ["remove_html_spans", "remove_wiki_mojibake"]
    assert [e["bytes_removed"] for e in edits] == [len(b"\n<span>nav</span>"), len("\nÀ À À".encode())]
    assert kept[("english", "long")]["clean_edits"] == []

    totals = manifest["totals"]["dropped_by_reason"]
    assert totals["clean:small_docs_bytes"] == 1 and totals["clean:dedup_pseudocrawl_newspapers"] == 1
    (wiki,) = [c for c in manifest["by_source_lang"] if c["source"] == "wiki"]
    assert wiki["notes"]["clean:remove_wiki_mojibake"] == 1
    assert wiki["notes"]["clean:remove_wiki_mojibake:bytes_removed"] == len("\nÀ À À".encode())
    assert wiki["notes"]["clean:fix_mojibake"] == 1


def test_processing_record_shows_each_sources_steps_and_drops(release):
    _, manifest = release
    assert manifest["stages"][0]["name"] == "clean" and manifest["stages"][0]["settings"]["enabled"]
    news = manifest["sources"]["news"]["processing"]
    assert [s["step"] for s in news] == ["ingest", "clean"]
    clean = news[1]
    assert [s["step"] for s in clean["parameters"]["steps"]] == [
        "dedup_pseudocrawl_newspapers",
        "remove_empty_docs",
        "remove_lines_with_code",
        "small_docs_bytes",
    ]
    assert clean["parameters"]["steps"][0] == {"step": "dedup_pseudocrawl_newspapers", "min_chars": 0, "min_count": 2}
    assert clean["dropped"] == {"dedup_pseudocrawl_newspapers": 1, "remove_lines_with_code": 1}
    assert clean["docs_in"] - clean["docs_out"] == 2 and clean["bytes_out"] < clean["bytes_in"]
    (fix,) = [
        s for s in manifest["sources"]["wiki"]["processing"][1]["parameters"]["steps"] if s["step"] == "fix_mojibake"
    ]
    assert (
        fix["ftfy"]["version"] and fix["ftfy"]["config"]["fix_encoding"] and not fix["ftfy"]["config"]["uncurl_quotes"]
    )
    english = manifest["sources"]["english"]["processing"][1]
    assert english["parameters"]["steps"][0]["by_language"] == {"en": 1024}
    assert english["dropped"] == {"small_docs_bytes": 1}
