"""The quality stage end to end (natural languages and code), and `rootstock refilter`."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from sample_texts import topic_sentences

from rootstock.errors import ConfigError
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from tests.conftest import NO_SIZE_FLOOR, entry, run_cli, write_catalog, write_config

FILL = {"town": "Valrive", "person": "Nadia", "n": "12", "big": "300", "year": "1998", "price": "4"}


def sentences(lang: str) -> list[str]:
    """The sample's own sentence pool for a language (written for the project, CC0)."""
    return topic_sentences(lang, FILL)


def document(lang: str, start: int, count: int = 8) -> str:
    pool = sentences(lang)
    return " ".join(pool[(start + i) % len(pool)] for i in range(count))


CODE_OK = "\n".join(
    [
        "import math",
        "",
        "",
        "def area(radius: float) -> float:",
        '    """Area of a circle of the given radius."""',
        "    return math.pi * radius ** 2",
        "",
        "",
        "def circumference(radius: float) -> float:",
        "    return 2 * math.pi * radius",
        "",
        "",
        "if __name__ == '__main__':",
        "    for r in (1, 2, 3):",
        "        print(r, area(r), circumference(r))",
        "",
    ]
)
CODE_MINIFIED = "var a=" + ",".join(f"b{i}:{i}" for i in range(600)) + ";\n"


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("quality")
    data = root / "catalog" / "data"
    data.mkdir(parents=True)
    french = [
        {"id": "good1", "text": document("fr", 0)},
        {"id": "good2", "text": document("fr", 9)},
        {"id": "short", "text": "Cliquez ici pour continuer."},
        {"id": "spam", "text": "achetez maintenant pas cher promo " * 40},
    ]
    pq.write_table(pa.Table.from_pylist(french), data / "fr.parquet")
    pq.write_table(
        pa.Table.from_pylist([{"id": f"zh{i}", "text": document("zhs", i * 5)} for i in range(2)]), data / "zh.parquet"
    )
    pq.write_table(pa.Table.from_pylist([{"id": "yo1", "text": document("yo", 0)}]), data / "yo.parquet")
    for repo, licence in (
        ("mitrepo", "MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining a copy"),
        ("gplrepo", "GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007\n"),
    ):
        (data / "code" / repo / ".git").mkdir(parents=True)  # each is a checkout with its own licence
        (data / "code" / repo / "LICENSE").write_text(licence)
        (data / "code" / repo / "geometry.py").write_text(CODE_OK)
    (data / "code" / "mitrepo" / "bundle.min.js").write_text(CODE_MINIFIED)
    parquet = {"kind": "parquet", "id_field": "id"}
    catalog = write_catalog(
        root / "catalog",
        entry("french", {**parquet, "paths": ["../data/fr.parquet"]}, languages=["fr"]),
        entry("chinese", {**parquet, "paths": ["../data/zh.parquet"]}, languages=["zhs"]),
        entry("yoruba", {**parquet, "paths": ["../data/yo.parquet"]}, languages=["yo"]),
        entry(
            "code",
            {
                "kind": "code_tree",
                "paths": ["../data/code"],
                "text_field": "content",
                "id_field": "id",
                "lang_field": "language",
                "license_field": "license",
            },
            languages=["python", "javascript"],
            license={"id": "other", "text": "per repository"},
        ),
    )
    stages = {
        **NO_SIZE_FLOOR,
        "langid": {"enabled": True, "ensemble": None},  # lid.176 alone: Yoruba stays unverifiable
        "quality": {"enabled": True, "code_sources": {"code": {"excluded_licenses": "copyleft"}}},
    }
    config = load_config(write_config(root / "run.yaml", catalog, root / "out", stages=stages, keep_rejected="all"))
    manifest = run(config)
    return root, manifest


def _rows(release: Path, kind: str) -> dict[tuple[str, str], dict]:
    files = list(release.glob(f"{kind}/**/*.parquet"))
    rows = pa.concat_tables([pq.read_table(f) for f in files]).to_pylist() if files else []
    return {(r["source"], r["source_doc_id"]): r for r in rows}


def test_filters_store_metrics_on_kept_and_rejected(release):
    root, manifest = release
    kept, rejected = _rows(root / "out", "data"), _rows(root / "out", "rejected")
    for doc_id in ("good1", "good2"):
        metrics = kept[("french", doc_id)]["quality"]
        assert metrics["number_of_words"] > 50 and metrics["stopwords_ratio"] > 0.2
        assert metrics["lang_id_score"] == kept[("french", doc_id)]["lang_score"]
    assert rejected[("french", "short")]["drop_reason"] == "number_of_words"
    assert rejected[("french", "short")]["quality"]["number_of_words"] == 4
    spam = rejected[("french", "spam")]
    assert spam["drop_stage"] == "quality" and spam["drop_reason"] in ("character_repetition", "word_repetition")
    assert spam["quality"]["word_repetition_ratio"] > 0.9
    # Chinese is segmented, not one giant "word"
    for doc_id in ("zh0", "zh1"):
        assert kept[("chinese", doc_id)]["quality"]["number_of_words"] > 30
    # Yoruba: LID cannot verify it, so the lang-id check is skipped rather than failed
    yoruba = kept[("yoruba", "yo1")]
    assert yoruba["lang_check"] == "unverifiable" and yoruba["quality"]["lang_id_score"] is None
    counts = manifest["totals"]["dropped_by_reason"]
    assert counts["quality:number_of_words"] == 1


def test_code_is_filtered_by_code_rules_and_licence(release):
    root, manifest = release
    kept, rejected = _rows(root / "out", "data"), _rows(root / "out", "rejected")
    good = kept[("code", "mitrepo/geometry.py")]
    assert good["lang"] == "python" and good["license"] == "MIT" and good["lang_check"] == "not_applied"
    assert good["quality"] is None and good["code_metrics"]["max_line_length"] < 80
    assert rejected[("code", "mitrepo/bundle.min.js")]["drop_reason"] == "max_line_length"
    gpl = rejected[("code", "gplrepo/geometry.py")]
    assert gpl["license"].startswith("GPL-3.0") and gpl["drop_reason"] == "excluded_licenses"


def test_manifest_reports_disabled_checks_per_language(release):
    _, manifest = release
    (quality,) = [s for s in manifest["stages"] if s["name"] == "quality"]
    languages = quality["report"]["languages"]
    assert languages["fr"]["roots_row"] == "fr" and "stopwords" not in languages["fr"]["disabled_checks"]
    assert languages["fi"]["roots_row"] == "default"
    assert "perplexity" in languages["fr"]["disabled_checks"]  # no KenLM model configured
    for info in languages.values():
        if "stopwords" in info["disabled_checks"]:
            assert "stopwords" not in info["wordlists"] or not info["wordlists"]["stopwords"].startswith(
                "stopwordsiso:en"
            )


def test_refilter_readmits_without_recomputing(release, tmp_path: Path):
    root, manifest = release
    thresholds = tmp_path / "looser.yaml"
    thresholds.write_text(yaml.safe_dump({"thresholds": {"fr": {"number_words_min_cutoff": 3}}}))
    result = run_cli("refilter", str(root / "out"), str(thresholds), "--output", str(tmp_path / "new"))
    new = json.loads((tmp_path / "new" / "manifest.json").read_text())
    kept, rejected = _rows(tmp_path / "new", "data"), _rows(tmp_path / "new", "rejected")
    assert ("french", "short") in kept and ("french", "spam") not in kept
    old_kept = _rows(root / "out", "data")
    for key, row in old_kept.items():
        assert kept[key]["quality"] == row["quality"] and kept[key]["text"] == row["text"]
    assert rejected[("code", "gplrepo/geometry.py")]["drop_reason"] == "excluded_licenses"
    assert new["parent"]["release"] == manifest["release"] and new["refilter"]["complete"] is True
    assert new["totals"]["docs_out"] == manifest["totals"]["docs_out"] + 1
    assert new["config"]["stages"]["quality"]["thresholds"]["fr"]["number_words_min_cutoff"] == 3
    assert "refiltered" in result.stdout


def test_bad_threshold_keys_fail_before_work(tmp_path: Path):
    catalog = write_catalog(tmp_path / "catalog", entry("x", {"kind": "jsonl", "paths": ["../data/*.jsonl"]}))
    (tmp_path / "catalog" / "data").mkdir()
    (tmp_path / "catalog" / "data" / "a.jsonl").write_text('{"text": "hello"}\n')
    bad = {"quality": {"enabled": True, "thresholds": {"fr": {"min_wrods": 3}}}}
    config = load_config(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out", stages=bad))
    with pytest.raises(ConfigError, match="min_wrods"):
        run(config)
    assert not (tmp_path / "out").exists()


def test_perplexity_filter_through_the_stage(tmp_path: Path):
    """KenLM + SentencePiece models from the config are loaded by the workers and applied."""
    pytest.importorskip("kenlm")
    from rootstock.filters.perplexity import PerplexityModel
    from tests.test_perplexity import train_sentencepiece, write_arpa

    sp = train_sentencepiece(tmp_path / "tiny.model")
    arpa = write_arpa(tmp_path / "tiny.arpa")
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    docs = [{"id": "likely", "text": "ab ab ab ab\nab ab"}, {"id": "unlikely", "text": "cd dc cd\nbad cab"}]
    pq.write_table(pa.Table.from_pylist(docs), data / "x.parquet")
    catalog = write_catalog(
        tmp_path / "catalog", entry("tiny", {"kind": "parquet", "paths": ["../data/x.parquet"], "id_field": "id"})
    )
    model = PerplexityModel(str(sp), str(arpa))
    likely, unlikely = model.perplexity(docs[0]["text"]), model.perplexity(docs[1]["text"])
    assert likely < unlikely
    off = dict.fromkeys(
        (
            "number_words_min_cutoff",
            "character_repetition_max_cutoff",
            "word_repetition_max_cutoff",
            "special_characters_max_cutoff",
            "stopwords_min_cutoff",
            "flagged_words_max_cutoff",
        )
    )
    stages = {
        **NO_SIZE_FLOOR,
        "quality": {
            "enabled": True,
            "modify_documents": False,
            "thresholds": {"en": {**off, "perplexity_max_cutoff": (likely + unlikely) / 2}},
            "perplexity": {"en": {"sentencepiece": str(sp), "kenlm": str(arpa)}},
        },
    }
    run(load_config(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out", stages=stages, keep_rejected="all")))
    kept, rejected = _rows(tmp_path / "out", "data"), _rows(tmp_path / "out", "rejected")
    assert kept[("tiny", "likely")]["quality"]["perplexity"] == likely
    assert rejected[("tiny", "unlikely")]["drop_reason"] == "perplexity"
    assert rejected[("tiny", "unlikely")]["quality"]["perplexity"] == unlikely


def test_per_source_overrides_apply_to_their_source(tmp_path: Path):
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    (data / "a.jsonl").write_text('{"id": "s", "text": "Cliquez ici pour continuer."}\n')
    jsonl = {"kind": "jsonl", "id_field": "id"}
    catalog = write_catalog(
        tmp_path / "catalog",
        entry("lenient", {**jsonl, "paths": ["../data/a.jsonl"]}, languages=["fr"]),
        entry("strict", {**jsonl, "paths": ["../data/a.jsonl"]}, languages=["fr"]),
    )
    stages = {
        **NO_SIZE_FLOOR,
        "quality": {"enabled": True, "sources": {"lenient": {"fr": {"number_words_min_cutoff": 1}}}},
    }
    manifest = run(load_config(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out", stages=stages)))
    cells = {c["source"]: c for c in manifest["by_source_lang"]}
    assert cells["lenient"]["docs_out"] == 1 and cells["strict"]["docs_out"] == 0
    bad = {"quality": {"enabled": True, "sources": {"absent": {"all": {"number_words_min_cutoff": 1}}}}}
    with pytest.raises(ConfigError, match="absent"):
        run(load_config(write_config(tmp_path / "bad.yaml", catalog, tmp_path / "bad", stages=bad)))
