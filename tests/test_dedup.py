"""Dedup: keys, template lines, distributed connected components, survivors, the stage end to end."""

from __future__ import annotations

import random
from pathlib import Path

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.util import assert_that, equal_to

from rootstock.filters import dedup as d
from rootstock.pipeline.beam.options import pipeline_options
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from rootstock.pipeline.stages.dedup import ConnectedComponents
from tests.conftest import MULTI_PROCESS, PORTABLE, entry, shard_digests, write_catalog, write_config
from tests.test_quality_stage import sentences


def test_exact_key_ignores_spacing_digits_and_punctuation():
    assert d.normalized_hash("Hello,  world! 2024") == d.normalized_hash("hello world 1999.")
    assert d.normalized_hash("你好，世界。") == d.normalized_hash("你好 世界")
    assert d.normalized_hash("hello world") != d.normalized_hash("hello word")


def test_url_key_drops_query_scheme_and_www():
    assert d.url_key("https://www.Example.org/a/b/?utm_source=x#top") == "example.org/a/b"
    assert d.url_key("http://example.org/a/b") == "example.org/a/b"
    assert d.url_key("https://example.org/a/c") != d.url_key("https://example.org/a/b")
    assert d.url_key(None) is None and d.url_key("") is None


def test_template_lines_removed_only_when_frequent_enough():
    footer = "© 2026 Valrive Gazette — all rights reserved"
    text = f"Real first line of the story.\n{footer}\nshort\n"
    templates = {d.line_hash(footer)}
    assert d.remove_lines(text, templates, 15) == "Real first line of the story.\nshort"
    assert d.template_candidates(text, 15) == [d.line_hash("Real first line of the story."), d.line_hash(footer)]


def _components_beam(edges, rounds=8, limit=10_000, args=()):
    with beam.Pipeline(options=pipeline_options(list(args))) as p:
        out = p | beam.Create(edges) | ConnectedComponents(rounds, limit)
        assert_that(out, equal_to(sorted((n, r) for n, r in d.union_find(edges).items() if n != r)))


def test_components_chain_and_transitive_case():
    # A~B, B~C, A≁C: one cluster rooted at the smallest id.
    _components_beam([("b", "a"), ("c", "b")])
    chain = [(f"n{i:04d}", f"n{i + 1:04d}") for i in range(200)]
    _components_beam(chain)


def test_components_star_of_1000_and_random_graphs():
    _components_beam([(f"copy{i:04d}", "hub") for i in range(1000)])
    rng = random.Random(7)
    nodes = [f"v{i:03d}" for i in range(300)]
    edges = list({tuple(sorted(rng.sample(nodes, 2))) for _ in range(280)})
    _components_beam(edges)


def test_components_fallback_when_rounds_are_too_few():
    chain = [(f"n{i:04d}", f"n{i + 1:04d}") for i in range(300)]
    _components_beam(chain, rounds=1)  # not converged after one round: union-find finishes it
    with pytest.raises(Exception, match="fallback_max_edges"):
        _components_beam(chain, rounds=1, limit=10)


def test_components_multi_process_and_empty():
    _components_beam([("b", "a"), ("c", "b"), ("y", "x")], args=MULTI_PROCESS)
    _components_beam([], args=MULTI_PROCESS)


def test_survivor_order():
    members = [
        {"id": "a", "priority": 0, "bytes": 10},
        {"id": "b", "priority": 5, "bytes": 5},
        {"id": "c", "priority": 5, "bytes": 9},
        {"id": "d", "priority": 5, "bytes": 9},
    ]
    assert min(members, key=d.survivor_key)["id"] == "c"
    assert min(members + [{"id": "z", "released": True}], key=d.survivor_key)["id"] == "z"


# --- the stage ---------------------------------------------------------------------------------


def _corpus(tmp_path: Path):
    rng = random.Random(3)
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    pool = sentences("fr")
    base = [" ".join(rng.sample(pool, 10)) for _ in range(30)]  # unrelated documents
    rows = [{"id": f"doc{i:03d}", "text": text, "url": f"https://example.org/fr/{i}"} for i, text in enumerate(base)]
    # exact copies (different spacing/punctuation), a URL copy with a tracking parameter
    rows.append({"id": "exact-of-001", "text": base[1].replace(". ", " . "), "url": "https://example.org/copy/1"})
    rows.append(
        {"id": "url-of-002", "text": " ".join(rng.sample(pool, 10)), "url": "https://example.org/fr/2?utm_source=mail"}
    )
    # near-duplicate chain: B = W[0:104] (100 word 5-grams), A = W[0:91], C = W[13:104]:
    # J(A,B) = J(B,C) = 87/100, J(A,C) = 74/100 — A~B, B~C, A≁C at threshold 0.8.
    words = " ".join(rng.sample(pool, 20)).split()[:104]
    assert len(words) == 104
    rows.append({"id": "chainA", "text": " ".join(words[:91]), "url": None})
    rows.append({"id": "chainB", "text": " ".join(words), "url": None})
    rows.append({"id": "chainC", "text": " ".join(words[13:]), "url": None})
    footer = "Valrive Gazette — tous droits réservés, reproduction interdite"
    for row in rows[:12]:
        row["text"] += "\n" + footer
    rng.shuffle(rows)
    pq.write_table(pa.Table.from_pylist(rows), data / "fr.parquet")
    return write_catalog(
        tmp_path / "catalog",
        entry(
            "gazette",
            {"kind": "parquet", "paths": ["../data/fr.parquet"], "id_field": "id", "url_field": "url"},
            languages=["fr"],
        ),
    )


@pytest.fixture(scope="module")
def dedup_release(tmp_path_factory):
    pytest.importorskip("filters.minhash")
    root = tmp_path_factory.mktemp("dedup")
    catalog = _corpus(root)
    config = load_config(
        write_config(root / "run.yaml", catalog, root / "out", stages={"dedup": {"enabled": True}}, keep_rejected="all")
    )
    return root, config, run(config)


def _by_id(path: Path, kind: str):
    files = list(path.glob(f"{kind}/**/*.parquet"))
    rows = pa.concat_tables([pq.read_table(f) for f in files]).to_pylist() if files else []
    return {r["source_doc_id"]: r for r in rows}


def test_chain_precondition_holds_on_the_signatures(dedup_release):
    from rootstock.filters.minhash import MinHasher, estimated_jaccard, shingles

    root, _, _ = dedup_release
    texts = {r["id"]: r["text"] for r in pq.read_table(root / "catalog" / "data" / "fr.parquet").to_pylist()}
    sig = {k: MinHasher().signature(shingles(texts[k], "fr")) for k in ("chainA", "chainB", "chainC")}
    assert estimated_jaccard(sig["chainA"], sig["chainB"]) >= 0.8
    assert estimated_jaccard(sig["chainB"], sig["chainC"]) >= 0.8
    assert estimated_jaccard(sig["chainA"], sig["chainC"]) < 0.8


def test_stage_removes_each_kind_and_keeps_one_survivor(dedup_release):
    root, _, manifest = dedup_release
    kept, rejected = _by_id(root / "out", "data"), _by_id(root / "out", "rejected")
    for pair, reason in ((("doc001", "exact-of-001"), "exact"), (("doc002", "url-of-002"), "url")):
        (survivor,) = [kept[i] for i in pair if i in kept]
        (removed,) = [rejected[i] for i in pair if i in rejected]
        assert removed["drop_reason"] == reason and removed["dup_survivor_id"] == survivor["id"]
        assert survivor["dup_cluster_size"] == 2 and survivor["dup_cluster_id"] == removed["dup_cluster_id"]
        # the survivor is the longer text (both have catalogue priority 0)
        assert len(survivor["text"].encode()) >= len(removed["text"].encode())
    # the chain is one cluster even though its ends are not similar
    chain = [kept.get(i) or rejected.get(i) for i in ("chainA", "chainB", "chainC")]
    assert len({r["dup_cluster_id"] for r in chain}) == 1 and chain[0]["dup_cluster_size"] == 3
    assert sum(1 for r in chain if "drop_reason" in r and r["drop_reason"]) == 2
    # template footer gone from every document that had it
    assert all("tous droits réservés" not in r["text"] for r in kept.values())
    assert kept["doc000"]["dup_cluster_size"] == 1 and kept["doc000"]["dup_cluster_id"] == kept["doc000"]["id"]
    totals = manifest["totals"]
    assert totals["docs_in"] == totals["docs_out"] + totals["docs_dropped"]
    (report,) = [s["report"] for s in manifest["stages"] if s["name"] == "dedup"]
    assert report["near"]["bands"] * report["near"]["rows"] <= 128


def test_stage_identical_across_runners(dedup_release, tmp_path: Path):
    root, config, _ = dedup_release
    for name, args in (("multi", MULTI_PROCESS), ("portable", PORTABLE)):
        other = config.model_copy(update={"output": str(tmp_path / name)})
        other._as_written = config._as_written
        run(other, args)
        assert shard_digests(tmp_path / name) == shard_digests(root / "out"), name


def test_stage_on_empty_and_single_document_inputs(tmp_path: Path):
    pytest.importorskip("filters.minhash")
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    (data / "one.jsonl").write_text('{"id": "only", "text": "Un seul document ici, sans doublon."}\n')
    (data / "none.jsonl").write_text('{"id": "bad", "text": ""}\n')
    catalog = write_catalog(
        tmp_path / "catalog",
        entry("one", {"kind": "jsonl", "paths": ["../data/one.jsonl"], "id_field": "id"}, languages=["fr"]),
        entry(
            "none",
            {"kind": "jsonl", "paths": ["../data/none.jsonl"], "id_field": "id", "on_error": "skip"},
            languages=["fr"],
        ),
    )
    for args in ([], MULTI_PROCESS):
        out = tmp_path / f"out{len(args)}"
        manifest = run(
            load_config(write_config(tmp_path / "run.yaml", catalog, out, stages={"dedup": {"enabled": True}})), args
        )
        assert manifest["totals"]["docs_out"] == 1
        (row,) = _by_id(out, "data").values()
        assert row["dup_cluster_size"] == 1


def test_incremental_dedup_against_an_earlier_release(dedup_release, tmp_path: Path):
    root, _, first = dedup_release
    assert any(a["path"].startswith("dedup/signatures/") for a in first["artifacts"])
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    old = _by_id(root / "out", "data")["doc005"]
    rows = [
        {"id": "again-005", "text": old["text"] + " ", "url": None},  # already released
        {"id": "new-1", "text": " ".join(random.Random(9).sample(sentences("fr"), 10)), "url": None},
    ]
    pq.write_table(pa.Table.from_pylist(rows), data / "new.parquet")
    catalog = write_catalog(
        tmp_path / "catalog",
        entry("gazette2", {"kind": "parquet", "paths": ["../data/new.parquet"], "id_field": "id"}, languages=["fr"]),
    )
    stages = {"dedup": {"enabled": True, "scope": "language", "against": [str(root / "out")]}}
    with pytest.raises(Exception, match="other MinHash settings"):
        bad = {"dedup": {**stages["dedup"], "near": {"num_perm": 64}}}
        run(load_config(write_config(tmp_path / "bad.yaml", catalog, tmp_path / "bad", stages=bad)))
    manifest = run(
        load_config(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out", stages=stages, keep_rejected="all"))
    )
    kept, rejected = _by_id(tmp_path / "out", "data"), _by_id(tmp_path / "out", "rejected")
    assert set(kept) == {"new-1"}
    assert rejected["again-005"]["dup_survivor_id"] == old["id"] and rejected["again-005"]["drop_reason"] == "exact"
    assert manifest["totals"]["dropped_by_reason"] == {"dedup:exact": 1}


def test_stage_recall_and_precision_on_planted_near_duplicates(tmp_path: Path):
    """300 pairs with planted true Jaccard in [0.55, 1] (12 languages), through the whole stage:
    ≥ 95% of pairs ≥ threshold + 0.05 share a cluster, ≥ 99% of pairs ≤ threshold − 0.1 do not."""
    pytest.importorskip("filters.minhash")
    from rootstock.filters import minhash as mh
    from tests.test_minhash import fraction_for, make_doc, replace_words, true_jaccard

    rng = random.Random(2027)
    langs = ["en", "fr", "es", "pt", "sw", "fi", "ar", "hi", "vi", "zhs", "zht", "yo"]
    rows, pairs = [], []
    for i in range(300):
        lang = langs[i % len(langs)]
        base = make_doc(lang, rng, rng.randint(6, 12))
        dup = replace_words(base, lang, fraction_for(rng.uniform(0.55, 1.0)), rng)
        rows += [{"id": f"p{i}a", "text": base, "lang": lang}, {"id": f"p{i}b", "text": dup, "lang": lang}]
        pairs.append((f"p{i}a", f"p{i}b", true_jaccard(mh.shingles(base, lang), mh.shingles(dup, lang))))
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), data / "planted.parquet")
    catalog = write_catalog(
        tmp_path / "catalog",
        entry(
            "planted",
            {"kind": "parquet", "paths": ["../data/planted.parquet"], "id_field": "id", "lang_field": "lang"},
            languages=langs,
        ),
    )
    stages = {"dedup": {"enabled": True, "scope": "global", "template_lines": {"enabled": False}}}
    run(load_config(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out", stages=stages, keep_rejected="all")))
    cluster = {
        k: r["dup_cluster_id"]
        for k, r in {**_by_id(tmp_path / "out", "data"), **_by_id(tmp_path / "out", "rejected")}.items()
    }
    high = [(a, b) for a, b, j in pairs if j >= 0.85]
    low = [(a, b) for a, b, j in pairs if j <= 0.70]
    assert len(high) >= 60 and len(low) >= 40
    recall = sum(cluster[a] == cluster[b] for a, b in high) / len(high)
    precision = sum(cluster[a] != cluster[b] for a, b in low) / len(low)
    assert recall >= 0.95, recall
    assert precision >= 0.99, precision


def test_stage_star_of_1000_copies_is_one_cluster(tmp_path: Path):
    pytest.importorskip("filters.minhash")
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    text = " ".join(random.Random(5).sample(sentences("fr"), 8))
    rows = [{"id": f"copy{i:04d}", "text": text if i % 2 else text + f" Numéro {i}."} for i in range(1000)]
    pq.write_table(pa.Table.from_pylist(rows), data / "copies.parquet")
    catalog = write_catalog(
        tmp_path / "catalog",
        entry("copies", {"kind": "parquet", "paths": ["../data/copies.parquet"], "id_field": "id"}, languages=["fr"]),
    )
    manifest = run(
        load_config(
            write_config(
                tmp_path / "run.yaml",
                catalog,
                tmp_path / "out",
                stages={"dedup": {"enabled": True, "template_lines": {"enabled": False}}},
                keep_rejected="none",
            )
        )
    )
    (survivor,) = _by_id(tmp_path / "out", "data").values()
    assert survivor["dup_cluster_size"] == 1000
    assert manifest["totals"]["docs_dropped"] == 999


def test_packed_grouping_finds_exactly_the_shared_keys():
    import numpy as np

    keys = np.array([[0, 7, 1], [2, 9, 0], [0, 7, 1], [3, 9, 0], [2, 9, 0], [0, 7, 2], [2, 9, 0]], dtype=np.uint64)
    members = ["e", "b", "a", "x", "c", "y", "d"]
    assert d.shared_keys(keys, members) == [(0, ["a", "e"]), (1, ["b", "c", "d"])]
    assert d.shared_keys(keys[:1], members[:1]) == []
    lines = [np.array([5, -3, 5], dtype=np.int64), np.array([5, 8], dtype=np.int64), np.array([], dtype=np.int64)]
    assert d.frequent_hashes(lines, 3).tolist() == [5]
    assert d.frequent_hashes(lines, 1).tolist() == [-3, 5, 8]
