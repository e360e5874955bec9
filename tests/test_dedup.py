"""Dedup: keys, template lines, distributed connected components, survivors, the stage end to end."""

from __future__ import annotations

import json
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
    # near-duplicate chain: B = W[0:208] (204 word 5-grams), A = W[0:182], C = W[26:208]:
    # J(A,B) = J(B,C) = 178/204, J(A,C) = 152/204 — A~B, B~C, A≁C at threshold 0.8 (all over
    # the 1024-byte size floor ROOTS gave French).
    words = " ".join(rng.sample(pool, 40)).split()[:208]
    assert len(words) == 208
    rows.append({"id": "chainA", "text": " ".join(words[:182]), "url": None})
    rows.append({"id": "chainB", "text": " ".join(words), "url": None})
    rows.append({"id": "chainC", "text": " ".join(words[26:]), "url": None})
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


def _joins(manifest) -> dict[str, tuple[int, str]]:
    (dedup,) = [s for s in manifest["sources"]["gazette"]["processing"] if s["step"] == "dedup"]
    return {j["step"]: (j["documents"], j["join"]) for j in dedup["parameters"]["joins"]}


def test_join_auto_chooses_from_the_measured_documents_and_records_it(dedup_release, tmp_path: Path):
    """The default (`auto`) took the side inputs on this small corpus; with side_input_max_docs: 0
    every step takes the shuffle branch, and the release is the same byte for byte."""
    root, config, manifest = dedup_release
    assert config.stages["dedup"].join == "auto"
    kept, rejected = _by_id(root / "out", "data"), _by_id(root / "out", "rejected")
    clustered = sum(1 for r in [*kept.values(), *rejected.values()] if r["dup_cluster_size"] > 1)
    joins = _joins(manifest)
    assert joins["decide"] == (clustered, "side_input") and joins["verify"][1] == "side_input"
    assert joins["verify"][0] >= 3  # at least the chain's members shared LSH buckets
    stages = {"dedup": {"enabled": True, "side_input_max_docs": 0}}
    out = tmp_path / "shuffled"
    forced = run(
        load_config(write_config(tmp_path / "run.yaml", config.catalog, out, stages=stages, keep_rejected="all"))
    )
    assert _joins(forced) == {"verify": (joins["verify"][0], "shuffle"), "decide": (clustered, "shuffle")}
    assert shard_digests(out) == shard_digests(root / "out")
    (report,) = [s["report"] for s in forced["stages"] if s["name"] == "dedup"]
    assert report["join"] == "auto" and report["side_input_max_docs"] == 0
    from pydantic import ValidationError

    from rootstock.pipeline.stages.dedup.settings import DedupSettings

    with pytest.raises(ValidationError, match="side_input_max_docs"):
        DedupSettings(side_input_max_docs=-1)


def test_stage_on_empty_and_single_document_inputs(tmp_path: Path):
    pytest.importorskip("filters.minhash")
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    only = {"id": "only", "text": " ".join(sentences("fr")[:10])}  # over ROOTS's 1024-byte floor for French
    (data / "one.jsonl").write_text(json.dumps(only) + "\n")
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
        base = make_doc(lang, rng, rng.randint(10, 16))  # over ROOTS's size floors (≤ 1024 bytes)
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


# --- LSH buckets: clusters are sets, not pairs -------------------------------------------------


def _signature_star(variants: int, seed: int, slots: int = 128, changed: int = 20):
    """A centre signature and VARIANTS each with CHANGED random slots of it replaced: every
    variant agrees with the centre on ≥ 1 - changed/slots, two variants on ~1 - 2·changed/slots."""
    import numpy as np

    rng = np.random.default_rng(seed)
    centre = rng.integers(0, 2**32, size=slots, dtype=np.uint32)
    out = [centre]
    for _ in range(variants):
        v = centre.copy()
        v[rng.choice(slots, changed, replace=False)] = rng.integers(0, 2**32, size=changed, dtype=np.uint32)
        out.append(v)
    return out


def _clusters(edges, ids) -> int:
    roots = d.union_find(edges)
    return len({roots.get(i, i) for i in ids})


def test_bucket_star_and_chain_are_one_cluster_whatever_the_ids():
    from rootstock.filters.minhash import estimated_jaccard

    sigs = _signature_star(300, seed=1)
    assert max(estimated_jaccard(sigs[i], sigs[j]) for i in range(1, 40) for j in range(i + 1, 40)) < 0.8
    assert min(estimated_jaccard(sigs[0], s) for s in sigs[1:]) >= 0.8
    for seed in range(4):
        ids = [f"d{n:06d}" for n in random.Random(seed).sample(range(10**6), len(sigs))]
        if seed == 0:
            ids = sorted(ids, reverse=True)  # the centre has the largest id: no bucket anchors on it
        members = list(zip(ids, [s.tobytes() for s in sigs], strict=True))
        random.Random(seed).shuffle(members)
        found = d.bucket_edges(members, 0.8)
        assert found.capped is None and len(found.edges) == len(ids) - 1
        assert _clusters(found.edges, ids) == 1, seed
    # A chain: each signature drifts 15 slots from the one before; ends are unlike.
    import numpy as np

    rng = np.random.default_rng(3)
    chain = [rng.integers(0, 2**32, size=128, dtype=np.uint32)]
    for _ in range(30):
        step = chain[-1].copy()
        step[rng.choice(128, 15, replace=False)] = rng.integers(0, 2**32, size=15, dtype=np.uint32)
        chain.append(step)
    assert estimated_jaccard(chain[0], chain[2]) < 0.8 <= estimated_jaccard(chain[0], chain[1])
    for seed in range(4):
        ids = [f"c{n:04d}" for n in random.Random(seed).sample(range(10**4), len(chain))]
        if seed == 0:
            ids = sorted(ids)[::2] + sorted(ids)[1::2]  # ends smallest, every other link crossing
        assert _clusters(d.bucket_edges(list(zip(ids, chain, strict=True)), 0.8).edges, ids) == 1, seed


def test_bucket_identical_signatures_and_unlike_members():
    import numpy as np

    same = np.arange(128, dtype=np.uint32)
    other = np.arange(1000, 1128, dtype=np.uint32)
    found = d.bucket_edges([("c", same), ("a", same), ("b", same.tobytes()), ("z", other)], 0.8)
    assert sorted(found.edges) == [("b", "a"), ("c", "a")]
    assert d.bucket_edges([("a", same)], 0.8).edges == []
    # exactly at the threshold counts, as estimated_jaccard ≥ threshold does
    near = same.copy()
    near[:26] += 7  # 102 of 128 slots equal: 0.796875
    assert d.bucket_edges([("a", same), ("b", near)], 0.796875).edges == [("b", "a")]
    assert d.bucket_edges([("a", same), ("b", near)], 0.8).edges == []


def test_capped_bucket_links_every_member_to_a_representative():
    sigs = _signature_star(300, seed=2)
    ids = [f"v{n:06d}" for n in random.Random(9).sample(range(10**6), len(sigs))]
    ids = sorted(ids, reverse=True)  # the centre last in id order
    for cap in (2, 8, 50):
        found = d.bucket_edges(list(zip(ids, sigs, strict=True)), 0.8, cap=cap)
        assert found.capped == ids[0] and found.unlinked == 0  # the centre resembles most: first representative
        assert _clusters(found.edges, ids) == 1
    # Unlike members beyond the cap: representatives run out, the rest are counted, not linked.
    import numpy as np

    rng = np.random.default_rng(4)
    unlike = [rng.integers(0, 2**32, size=128, dtype=np.uint32) for _ in range(40)]
    found = d.bucket_edges([(f"u{i:02d}", s) for i, s in enumerate(unlike)], 0.8, cap=10)
    assert found.edges == [] and found.capped is not None and found.unlinked == 30


def test_capped_bucket_cost_grows_linearly():
    """Above the cap, a bucket costs O(members · cap): 16x the members is not 256x the time."""
    import numpy as np

    from tests.timing import LINEAR_BOUND, growth

    def make(k):
        rng = np.random.default_rng(k)  # unlike signatures: the representatives fill up to the cap
        return [(f"m{i:06d}", s) for i, s in enumerate(rng.integers(0, 2**32, size=(k, 128), dtype=np.uint32))]

    ratio = growth(lambda members: d.bucket_edges(members, 0.8, cap=32), make, 256)
    assert ratio < LINEAR_BOUND, ratio


# --- the stage on stars and chains of near-duplicates --------------------------------------------

STAR_NEAR = {"threshold": 0.6, "num_perm": 512}


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghjklmnpqrstvwxz") + rng.choice("aeiou") for _ in range(rng.randint(1, 4)))


def _star_texts(rng: random.Random, candidates: int) -> list[str]:
    """A template page (400 words) and variants each replacing ~4% of its words at random: every
    variant resembles the template (estimated Jaccard ≥ 0.64, sharing an LSH band with it), no
    two variants resemble each other (< 0.6), checked on the signatures the stage computes."""
    import numpy as np

    from rootstock.filters.minhash import MinHasher, band_keys, lsh_params

    template = [_word(rng) for _ in range(400)]
    texts = [" ".join(template)]
    for _ in range(candidates):
        words = list(template)
        for i in rng.sample(range(len(words)), 15):
            words[i] = _word(rng) + "q"
        texts.append(" ".join(words))
    sigs = MinHasher(num_perm=STAR_NEAR["num_perm"]).text_signatures(texts, "fr")
    bands, rows = lsh_params(STAR_NEAR["threshold"], STAR_NEAR["num_perm"])
    centre_keys = set(band_keys(sigs[0], bands, rows))
    keep = [0]
    for i in range(1, len(texts)):
        alike = (sigs[i] == sigs[keep]).mean(axis=1)
        if alike[0] >= 0.64 and (alike[1:] < 0.6).all() and centre_keys & set(band_keys(sigs[i], bands, rows)):
            keep.append(i)
    assert np.all((sigs[keep[1:]] == sigs[0]).mean(axis=1) >= STAR_NEAR["threshold"])
    return [texts[i] for i in keep]


def _chain_texts(rng: random.Random, length: int) -> list[str]:
    """Windows of 300 words, each 51 words on from the one before: J(next) ≈ 0.7, J(next but one) ≈ 0.5."""
    from rootstock.filters.minhash import MinHasher

    words = [_word(rng) for _ in range(300 + 51 * (length - 1))]
    texts = [" ".join(words[51 * i : 51 * i + 300]) for i in range(length)]
    sigs = MinHasher(num_perm=STAR_NEAR["num_perm"]).text_signatures(texts, "fr")
    for i in range(length):
        for j in range(i + 1, length):
            alike = (sigs[i] == sigs[j]).mean()
            assert alike >= STAR_NEAR["threshold"] if j == i + 1 else alike < STAR_NEAR["threshold"], (i, j, alike)
    return texts


@pytest.fixture(scope="module")
def stars_and_chains(tmp_path_factory):
    """Two stars (over 200 variants each; one centre with the smallest id of its star, one with
    the largest), two chains of 8 and unrelated pages, ids shuffled, through the stage with
    `join: side_input`, and with `join: shuffle` and a bucket cap of 8 (star buckets capped)."""
    root = tmp_path_factory.mktemp("stars")
    rng = random.Random(2031)
    groups = {"star_low": _star_texts(rng, 260), "star_high": _star_texts(rng, 260)}
    groups["chain1"], groups["chain2"] = _chain_texts(rng, 8), _chain_texts(rng, 8)
    groups["alone"] = [" ".join(_word(rng) for _ in range(300)) for _ in range(20)]
    numbers = iter(random.Random(7).sample(range(10**6), sum(map(len, groups.values()))))
    ids = {name: [f"p{next(numbers):07d}" for _ in texts] for name, texts in groups.items()}
    for name, order in (("star_low", min), ("star_high", max)):
        centre = order(ids[name])
        ids[name].remove(centre)
        ids[name].insert(0, centre)
    rows = [{"id": i, "text": t} for name in groups for i, t in zip(ids[name], groups[name], strict=True)]
    random.Random(1).shuffle(rows)
    data = root / "catalog" / "data"
    data.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), data / "pages.parquet")
    catalog = write_catalog(
        root / "catalog",
        entry("pages", {"kind": "parquet", "paths": ["../data/pages.parquet"], "id_field": "id"}, languages=["fr"]),
    )
    runs = {}
    for name, extra in (("side_input", {}), ("capped", {"join": "shuffle", "near": {**STAR_NEAR, "bucket_cap": 8}})):
        stages = {
            "dedup": {"enabled": True, "template_lines": {"enabled": False}, "near": STAR_NEAR, **extra},
        }
        out = root / name
        runs[name] = run(
            load_config(write_config(root / f"{name}.yaml", catalog, out, stages=stages, keep_rejected="all"))
        )
    return root, ids, runs


def _cluster_of(release: Path) -> dict[str, tuple[str, int]]:
    """Source id → (cluster id, cluster size), the cluster id being the smallest release id in it."""
    rows = {**_by_id(release, "data"), **_by_id(release, "rejected")}
    return {k: (r["dup_cluster_id"], r["dup_cluster_size"]) for k, r in rows.items()}


def test_stars_and_chains_are_single_clusters_for_both_joins(stars_and_chains):
    root, ids, runs = stars_and_chains
    assert len(ids["star_low"]) > 200 and len(ids["star_high"]) > 200
    for name in ("side_input", "capped"):
        clusters = _cluster_of(root / name)
        for group in ("star_low", "star_high", "chain1", "chain2"):
            (found,) = {clusters[i] for i in ids[group]}
            assert found[1] == len(ids[group]), (name, group)
        assert all(clusters[i][1] == 1 for i in ids["alone"])
        assert runs[name]["totals"]["dropped_by_reason"] == {
            "dedup:near": sum(len(ids[g]) - 1 for g in ids if g != "alone")
        }
    # The other join strategy, and capped buckets verified against representatives: the same release.
    assert shard_digests(root / "side_input") == shard_digests(root / "capped")


def test_cluster_sizes_and_capped_buckets_in_manifest_and_card(stars_and_chains):
    root, ids, runs = stars_and_chains
    for name, manifest in runs.items():
        (cell,) = manifest["by_source_lang"]
        notes = cell["notes"]
        assert notes["dedup:clusters_100+"] == 2 and notes["dedup:clusters_3-9"] == 2, name
        assert "dedup:clusters_2" not in notes and "dedup:clusters_10-99" not in notes
        if name == "capped":
            # Unlinked: variants in buckets of variants only (they reach the centre through other bands).
            assert notes["dedup:capped_buckets"] > 0 and "dedup:capped_unlinked" in notes
            (report,) = [s["report"] for s in manifest["stages"] if s["name"] == "dedup"]
            assert report["near"]["bucket_cap"] == 8
        else:
            assert "dedup:capped_buckets" not in notes
    card = (root / "capped" / "README.md").read_text()
    assert "| `fr` | French | 0 | 2 | 0 | 2 |" in card
    assert f"({runs['capped']['by_source_lang'][0]['notes']['dedup:capped_buckets']:,} such buckets" in card


def test_capped_counts_land_on_the_survivor_or_a_lone_representative():
    from rootstock.pipeline.stages.dedup.survivors import CAPPED_FIELD, _decide, _pick_survivors

    members = [{"id": "a", "bytes": 5}, {"id": "b", "bytes": 9}, {CAPPED_FIELD: (1, 3)}, {CAPPED_FIELD: (2, 0)}]
    decisions = dict(_pick_survivors(("a", members)))
    assert decisions["b"][CAPPED_FIELD] == (3, 3) and CAPPED_FIELD not in decisions["a"]
    doc = _decide({"id": "b", "text": "x"}, decisions["b"])
    assert doc[CAPPED_FIELD] == (3, 3) and doc["dup_cluster_size"] == 2
    ((lone, decision),) = _pick_survivors(("z", [{CAPPED_FIELD: (1, 7)}]))  # resembled nobody in its bucket
    assert lone == "z" and decision["reason"] is None and decision["dup_cluster_size"] == 1
    assert _decide({"id": "z"}, decision) == {
        "id": "z",
        "dup_cluster_id": "z",
        "dup_cluster_size": 1,
        CAPPED_FIELD: (1, 7),
    }


def test_substring_settings_keep_the_guarantee():
    from pydantic import ValidationError

    from rootstock.pipeline.stages.dedup.settings import DedupSettings

    assert DedupSettings().substring.enabled is False and DedupSettings().substring.min_bytes == 50
    with pytest.raises(ValidationError, match="anchor_bytes"):
        DedupSettings(substring={"enabled": True, "min_bytes": 20, "anchor_bytes": 30})


def test_packed_keys_find_the_same_groups_shuffled_as_files_or_as_elements(tmp_path: Path):
    """The packed key shuffle (join: side_input/auto) crosses as spill files on the local
    runners: the groups of shared keys found from the files are those found from the elements."""
    from rootstock.filters.minhash import MinHasher, lsh_params
    from rootstock.pipeline.stages.dedup.edges import _PackKeys, _shared_groups
    from rootstock.pipeline.stages.dedup.settings import DedupSettings

    rng = random.Random(5)
    pool = sentences("fr")
    texts = [" ".join(rng.sample(pool, 12)) for _ in range(40)]
    texts += [texts[3] + " !", texts[7], " ".join(texts[9].split()[:-1])]  # exact, exact, near copies
    settings = DedupSettings(enabled=True, scope="global")
    bands, rows = lsh_params(settings.near.threshold, settings.near.num_perm)
    matrix = MinHasher(num_perm=settings.near.num_perm, seed=settings.near.seed).text_signatures(
        texts, ["fr"] * len(texts), settings.near.ngram
    )
    nodes = [
        {
            "id": f"d{i}",
            "source": "s",
            "lang": "fr",
            "exact": d.normalized_hash(text),
            "url": None,
            "signature": row.astype("<u4").tobytes(),
        }
        for i, (text, row) in enumerate(zip(texts, matrix, strict=True))
    ]

    def groups(directory):
        parts: dict = {}
        for half in (nodes[:25], nodes[25:]):  # two batches, as KeyBatches gives them
            for part, value in _PackKeys(settings, bands, rows, directory).process(half):
                parts.setdefault(part, []).append(value)
        return sorted((kind, sorted(members)) for kv in parts.items() for kind, members in _shared_groups(kv))

    as_elements, as_files = groups(None), groups(str(tmp_path / "keys"))
    assert len(list((tmp_path / "keys").iterdir())) > 2  # one file per partition and batch
    assert as_files == as_elements
    assert {tuple(members) for _, members in as_elements} == {("d3", "d40"), ("d41", "d7"), ("d42", "d9")}
