"""rootstock mix: specs, the plan arithmetic, and the Beam job on generated releases.

The releases are generated from the sample's sentence pools (thousands of small documents, so
shares can be held to 0.5 percentage points), written by `rootstock run` with every stage off.
Tokens are counted with a small SentencePiece model trained in the test (nothing downloaded).
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import demo_tokenizer
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from sample_texts import topic_sentences

import rootstock.pipeline.mix.job as mixmod
from rootstock.catalog.registry import load_registry
from rootstock.errors import MixSpecError, UnreachableMixError
from rootstock.filters.tokens import Tokenizer
from rootstock.pipeline.cli import main as cli_main
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.count_tokens import count_tokens
from rootstock.pipeline.jobs.curate import run
from rootstock.pipeline.mix.job import mix
from rootstock.pipeline.mix.plan import (
    BINS,
    NO_CLASS,
    Available,
    copies,
    plan,
    position_bin,
    rehydrate_class,
    threshold,
)
from rootstock.pipeline.mix.spec import FINEWEB2_WEIGHTS, MixSpec, load_spec, parse_tokens
from rootstock.pipeline.release.verify import verify
from tests.conftest import MULTI_PROCESS, NO_SIZE_FLOOR, REPO, entry, shard_digests, write_catalog, write_config

PP = 0.5  # achieved shares within half a percentage point of the target

# -- helpers --------------------------------------------------------------------------------


def spec_of(**fields) -> MixSpec:
    data = {
        "name": "t",
        "tokenizer": "tok.model",
        "total_tokens": 1000,
        "weighting": "natural",
        "components": [{"name": "a", "release": "ra"}],
    }
    data.update(fields)
    return MixSpec.model_validate(data)


def write_spec(path: Path, **fields) -> Path:
    path.write_text(yaml.safe_dump(fields, sort_keys=False))
    return path


def assert_shares(manifest: dict, pp: float = PP) -> float:
    """Every component's and language's achieved share within `pp` points of its target; the worst gap."""
    worst = 0.0
    for key in ("by_component", "by_lang"):
        for row in manifest[key]:
            gap = abs(row["achieved_share"] - row["target_share"]) * 100
            worst = max(worst, gap)
            assert gap <= pp, f"{key} {row}: achieved {row['achieved_share']:.4%} vs target {row['target_share']:.4%}"
    return worst


def rows_of(release: Path) -> list[dict]:
    return [r for p in sorted(release.glob("data/*.parquet")) for r in pq.read_table(p).to_pylist()]


# -- generated releases ---------------------------------------------------------------------


def _docs(lang: str, n: int, rng: random.Random) -> list[str]:
    pool = topic_sentences(lang, fill="Kivelä")
    return [" ".join(rng.sample(pool, rng.randint(1, 5))) for _ in range(n)]


def _release(root: Path, name: str, sizes: dict[str, int], seed: int) -> Path:
    rng = random.Random(seed)
    catalog = root / f"catalog-{name}"
    (catalog / "data").mkdir(parents=True)
    entries = []
    for lang, n in sizes.items():
        lines = [
            json.dumps({"id": f"{name}-{lang}-{i}", "text": t}, ensure_ascii=False)
            for i, t in enumerate(_docs(lang, n, rng))
        ]
        (catalog / "data" / f"{lang}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        entries.append(
            entry(
                f"{name}_{lang}",
                {"kind": "jsonl", "paths": [f"../data/{lang}.jsonl"], "id_field": "id"},
                languages=[lang],
            )
        )
    write_catalog(catalog, *entries)
    config = write_config(
        root / f"{name}.yaml", catalog, root / name, release=name, shards={"max_rows": 1000}, stages=NO_SIZE_FLOOR
    )
    run(load_config(config))
    return root / name


def _add_token_sidecar(release: Path, tokenizer: Path) -> None:
    """`rootstock count-tokens`: a tokens/<sha>.json sidecar; the release's manifest stays as it was."""
    count_tokens(str(release), str(tokenizer), ["--direct_num_workers=1"])


def _with_clusters(source: Path, target: Path) -> Path:
    """A copy of a release whose documents carry dup_cluster_size (as after the dedup stage)."""
    shutil.copytree(source, target)
    for path in sorted((target / "data").rglob("*.parquet")):
        table = pq.read_table(path)
        sizes = [[1, 1, 1, 1, 1, 1, 1, 2, 2, 5][int(i[:8], 16) % 10] for i in table.column("id").to_pylist()]
        pq.write_table(table.append_column(pa.field("dup_cluster_size", pa.int64()), pa.array(sizes, pa.int64())), path)
    return target


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("mix")
    tok = demo_tokenizer.train(root / "tok.model")
    tokenizer = Tokenizer(tok)
    roots = _release(root, "roots", {"en": 2500, "fr": 1500, "sw": 600}, seed=1)
    finnish = _release(root, "finnish", {"fi": 1100, "en": 200}, seed=2)
    _add_token_sidecar(roots, tok)  # roots plans from its token sidecar, finnish is counted
    clustered = _with_clusters(finnish, root / "finnish-dedup")
    tokens = {}
    for name, release in (("roots", roots), ("finnish", finnish)):
        rows = rows_of_release(release)
        for row, n in zip(rows, tokenizer.count([r["text"] for r in rows]), strict=True):
            tokens[(name, row["lang"])] = tokens.get((name, row["lang"]), 0) + n
    return {"root": root, "tok": tok, "roots": roots, "finnish": finnish, "clustered": clustered, "tokens": tokens}


def rows_of_release(release: Path, lang: str = "*") -> list[dict]:
    return [r for p in sorted(release.glob(f"data/{lang}/*/*.parquet")) for r in pq.read_table(p).to_pylist()]


def _spec(corpus, name: str, **fields) -> MixSpec:
    data = {"name": name, "tokenizer": str(corpus["tok"]), "seed": 7, **fields}
    return load_spec(write_spec(corpus["root"] / f"{name}.yaml", **data))


def _bluumi_like(corpus, total: int, seed: int = 7) -> MixSpec:
    return _spec(
        corpus,
        f"natural-{seed}",
        total_tokens=total,
        seed=seed,
        weighting="natural",
        shards={"max_rows": 800},
        components=[
            {"name": "roots", "release": str(corpus["roots"])},
            {"name": "finnish", "release": str(corpus["finnish"]), "languages": ["fi"]},
        ],
    )


# -- spec -----------------------------------------------------------------------------------


def test_token_counts_parse():
    assert parse_tokens("40B") == 40_000_000_000
    assert parse_tokens("2.5M") == 2_500_000
    assert parse_tokens("341_000") == 341_000
    assert parse_tokens(1000) == 1000
    assert parse_tokens("1T") == 10**12
    for bad in ("40 bananas", "0", "-3", "1.5", True):
        with pytest.raises(ValueError):
            parse_tokens(bad)


def test_spec_errors_name_the_file_and_field(tmp_path: Path):
    base = {
        "name": "m",
        "tokenizer": "t.model",
        "total_tokens": "1M",
        "weighting": "natural",
        "components": [{"name": "a", "release": "r"}],
    }
    cases = [
        ({"weighting": "proportions"}, "needs a `weight` on every component; missing: ['a']"),
        ({"weighting": "alpha"}, "exactly one of `alpha` or `temperature`"),
        ({"weighting": "alpha", "alpha": 0.3, "temperature": 3}, "exactly one"),
        ({"alpha": 0.3}, "only apply to `weighting: alpha`"),
        ({"total_tokens": "lots"}, "total_tokens: 'lots' is not a token count"),
        (
            {"components": [{"name": "a", "release": "r", "langs": ["en"]}]},
            "components.0.langs: Extra inputs are not permitted",
        ),
        (
            {"components": [{"name": "a", "release": "r", "languages": ["fin"]}]},
            "'fin' is not a registry language code (did you mean 'fi'?)",
        ),
        (
            {"components": [{"name": "a", "release": "r"}, {"name": "a", "release": "s"}]},
            "component names must be unique",
        ),
        (
            {"weighting": "proportions", "group_by": "language", "proportions": {"en": 1}, "groups": {"en": ["fr"]}},
            "is a language code",
        ),
        (
            {"weighting": "proportions", "group_by": "language", "proportions": {"fr": 1}, "groups": {"latin": ["fr"]}},
            "weight the group instead",
        ),
        ({"max_epochs": 0}, "max_epochs: Input should be greater than 0"),
    ]
    for change, message in cases:
        path = write_spec(tmp_path / "bad.yaml", **{**base, **change})
        with pytest.raises(MixSpecError) as err:
            load_spec(path)
        assert str(path) in str(err.value) and message in str(err.value), (change, str(err.value))


def test_paths_are_relative_to_the_spec_and_the_spec_is_recorded_as_written(tmp_path: Path):
    (tmp_path / "mixes").mkdir()
    path = write_spec(
        tmp_path / "mixes" / "m.yaml",
        name="m",
        tokenizer="../tok/t.model",
        total_tokens="2M",
        weighting="natural",
        components=[{"name": "a", "release": "../rel"}],
    )
    spec = load_spec(path)
    assert spec.tokenizer == str(tmp_path / "tok" / "t.model")
    assert spec.components[0].release == str(tmp_path / "rel")
    assert spec.canonical()["tokenizer"] == "../tok/t.model" and spec.canonical()["total_tokens"] == 2_000_000
    assert spec.sha256() == load_spec(path).sha256()


def test_presets_load_and_bloom_matches_the_reference():
    registry = load_registry()
    bloom = load_spec(REPO / "catalog" / "mixes" / "bloom.yaml")
    assert (bloom.weighting, bloom.group_by, bloom.total_tokens) == ("proportions", "language", 341_000_000_000)
    assert sum(bloom.proportions.values()) == pytest.approx(100.0)
    assert set(bloom.groups["code"]) == {lang.code for lang in registry.programming()}
    niger_congo = {lang.code for lang in registry if lang.group == "Niger-Congo"}
    assert set(bloom.groups["nigercongo-all"]) == niger_congo and len(niger_congo) == 22
    for code, weight in bloom.proportions.items():
        if code not in bloom.groups:  # the per-language weights the registry carries (tr11-176B-ml)
            assert weight == registry[code].bloom_weight, code
    assert {lang.code for lang in registry if lang.roots} == {
        code for key in bloom.proportions for code in bloom.groups.get(key, [key])
    }
    bluumi = load_spec(REPO / "catalog" / "mixes" / "bluumi.yaml")
    assert (bluumi.weighting, bluumi.total_tokens) == ("natural", 40_000_000_000)
    assert [c.languages for c in bluumi.components] == [None, ["fi"]]
    demo = load_spec(REPO / "catalog" / "mixes" / "demo-bluumi.yaml")
    assert [Path(c.release).name for c in demo.components] == ["demo-roots", "demo-fi"]
    for run_config in ("demo-roots.yaml", "demo-fi.yaml"):
        assert load_config(REPO / "catalog" / "runs" / run_config).output.endswith(Path(run_config).stem)


# -- plan arithmetic -------------------------------------------------------------------------


def _avail(*rows) -> list[Available]:
    return [Available(c, lang, NO_CLASS, docs, tokens) for c, lang, docs, tokens in rows]


def _units(p) -> dict[str, tuple[float, float]]:
    return {u.unit: (u.weight, u.rate) for u in p.units}


def test_plan_natural_samples_everything_at_one_rate():
    spec = spec_of(total_tokens=500, components=[{"name": "a", "release": "x"}, {"name": "b", "release": "y"}])
    p = plan(spec, _avail(("a", "en", 10, 600), ("a", "fr", 10, 200), ("b", "fi", 10, 200)))
    assert {b.rate for b in p.buckets} == {0.5}
    assert _units(p) == {"a": (0.8, 0.5), "b": (0.2, 0.5)}


def test_plan_proportions_per_component_and_per_language_group():
    spec = spec_of(
        total_tokens=1000,
        weighting="proportions",
        max_epochs=4,
        components=[{"name": "a", "release": "x", "weight": 3}, {"name": "b", "release": "y", "weight": 1}],
    )
    p = plan(spec, _avail(("a", "en", 1, 600), ("a", "fr", 1, 400), ("b", "fi", 1, 100)))
    assert _units(p) == {"a": (0.75, 0.75), "b": (0.25, 2.5)}
    assert {(b.lang, b.full, round(b.frac, 9)) for b in p.buckets} == {("en", 0, 0.75), ("fr", 0, 0.75), ("fi", 2, 0.5)}

    spec = spec_of(
        total_tokens=1000,
        weighting="proportions",
        group_by="language",
        max_epochs=4,
        groups={"latin": ["en", "fr"]},
        proportions={"latin": 60, "fi": 40},
        components=[{"name": "a", "release": "x"}, {"name": "b", "release": "y"}],
    )
    p = plan(spec, _avail(("a", "en", 1, 450), ("a", "fr", 1, 150), ("b", "fi", 1, 100), ("b", "en", 1, 150)))
    weights = _units(p)
    assert weights["latin"] == (pytest.approx(0.6), pytest.approx(600 / 750)) and weights["fi"] == (
        pytest.approx(0.4),
        pytest.approx(4.0),
    )
    # inside a unit the split is natural: every bucket of `latin` (both components) at one rate
    assert {round(b.rate, 9) for b in p.buckets if b.unit == "latin"} == {0.8}
    assert sum(b.target for b in p.buckets) == pytest.approx(1000)


def test_plan_alpha_and_temperature():
    avail = _avail(("a", "en", 1, 900), ("a", "sw", 1, 100))
    kwargs = {"total_tokens": 500, "group_by": "language", "max_epochs": 10, "weighting": "alpha"}
    by_alpha = plan(spec_of(alpha=0.5, **kwargs), avail)
    by_temperature = plan(spec_of(temperature=2, **kwargs), avail)
    expected = {"en": 0.9**0.5 / (0.9**0.5 + 0.1**0.5), "sw": 0.1**0.5 / (0.9**0.5 + 0.1**0.5)}
    for p in (by_alpha, by_temperature):
        assert {u.unit: u.weight for u in p.units} == pytest.approx(expected)
    assert plan(spec_of(alpha=1.0, **kwargs), avail).units[0].weight == pytest.approx(0.9)  # alpha 1 = natural


def test_plan_unreachable_names_the_numbers():
    spec = spec_of(
        total_tokens=1000,
        weighting="proportions",
        max_epochs=2,
        components=[
            {"name": "a", "release": "x", "weight": 1},
            {"name": "b", "release": "y", "weight": 1, "max_epochs": 1.5},
        ],
    )
    with pytest.raises(UnreachableMixError) as err:
        plan(spec, _avail(("a", "en", 1, 1000), ("b", "fi", 1, 200)))
    message = str(err.value)
    # b needs 500 of 200 tokens: 2.5 epochs > 1.5; 1.5 × 200 × 2 = 600 tokens would fit
    assert "b" in message and "200" in message and "500 (50.00%)" in message and "2.500" in message and "1.5" in message
    assert "at most 600" in message
    assert "a    " not in message  # a (0.5 epochs) is fine and not listed


def test_plan_missing_and_unlisted_languages():
    base = {"total_tokens": 100, "weighting": "proportions", "group_by": "language", "max_epochs": 5}
    avail = _avail(("a", "en", 1, 100), ("a", "und", 1, 50))
    with pytest.raises(MixSpecError, match=r"no weight for und \(50 tokens\)"):
        plan(spec_of(proportions={"en": 1}, **base), avail)
    p = plan(spec_of(proportions={"en": 1}, on_unlisted="drop", **base), avail)
    assert _units(p)["und"] == (0.0, 0.0) and p.notes
    with pytest.raises(MixSpecError, match=r"no component has any tokens for \['bn'\]"):
        plan(spec_of(proportions={"en": 1, "bn": 1}, on_unlisted="drop", **base), avail)
    p = plan(spec_of(proportions={"en": 1, "bn": 1}, on_missing="drop", on_unlisted="drop", **base), avail)
    assert _units(p)["en"] == (1.0, 1.0)


def test_plan_rehydration_keeps_the_bucket_target():
    spec = spec_of(total_tokens=100, max_epochs=3)
    multipliers = dict(enumerate(FINEWEB2_WEIGHTS.values()))  # class 0: ×1, class 3: ×5
    avail = [Available("a", "en", 0, 10, 150), Available("a", "en", 3, 2, 50)]
    p = plan(spec, avail, multipliers)
    # mean weight (150×1 + 50×5)/200 = 2; rate 0.5 → ×1: 0.25, ×5: 1.25
    assert [round(b.rate, 9) for b in p.buckets] == [0.25, 1.25]
    assert sum(b.target for b in p.buckets) == pytest.approx(100)
    assert [rehydrate_class(s, list(FINEWEB2_WEIGHTS)) for s in (None, 1, 2, 3, 4, 5, 99, 100, 999, 5000)] == [
        0,
        0,
        1,
        2,
        2,
        3,
        3,
        4,
        4,
        5,
    ]


def test_sampling_primitives():
    hist = [0] * 8
    for position, tokens in [(0, 10), (2, 30), (5, 20), (7, 40)]:
        hist[position] = tokens
    assert threshold(hist, 0) == 0
    assert threshold(hist, 38) == 3  # bins 0..2 hold 40 tokens
    assert threshold(hist, 100) == 8
    assert copies(2, position=5, cut=3) == 2 and copies(2, position=2, cut=3) == 3
    positions = [position_bin(0, "c", f"doc-{i}") for i in range(20000)]
    assert position_bin(0, "c", "doc-1") == positions[1] and position_bin(1, "c", "doc-1") != positions[1]
    assert min(positions) >= 0 and max(positions) < BINS
    assert abs(sum(p < BINS // 4 for p in positions) / len(positions) - 0.25) < 0.02  # uniform


# -- the Beam job ---------------------------------------------------------------------------


def test_natural_mix_of_two_releases(corpus, tmp_path: Path):
    """BLUUMI-style: ROOTS + Finnish, natural weighting, under one epoch."""
    available = sum(n for (rel, lang), n in corpus["tokens"].items() if rel == "roots" or lang == "fi")
    spec = _bluumi_like(corpus, total=int(0.4 * available))
    manifest = mix(spec, str(tmp_path / "mix"))
    out = tmp_path / "mix"
    assert verify(str(out))[1] == []
    assert manifest["kind"] == "mix"
    assert {c["name"]: c["available_from"] for c in manifest["components"]} == {
        "roots": "sidecar",
        "finnish": "counted",
    }
    assert {(b["component"], b["lang"]): b["available_tokens"] for b in manifest["buckets"]} == {
        k: v for k, v in corpus["tokens"].items() if k != ("finnish", "en")
    }
    worst = assert_shares(manifest)
    print(f"natural: worst share gap {worst:.3f} pp")
    assert all(0.35 < row["epochs"] < 0.45 for row in manifest["by_lang"])
    rows = rows_of(out)
    assert {r["epoch"] for r in rows} == {0}
    assert len({(r["mix_component"], r["id"]) for r in rows}) == len(rows)
    assert {r["lang"] for r in rows if r["mix_component"] == "finnish"} == {"fi"}
    # the tokens column is exact, and the manifest adds it up
    tokenizer = Tokenizer(corpus["tok"])
    sample = rows[:200]
    assert [r["tokens"] for r in sample] == tokenizer.count([r["text"] for r in sample])
    assert manifest["totals"]["achieved_tokens"] == sum(r["tokens"] for r in rows)
    assert abs(manifest["totals"]["achieved_tokens"] - spec.total_tokens) < 0.001 * spec.total_tokens
    # shuffled: languages and components mixed within every shard, provenance kept
    assert len(manifest["shards"]) >= 2
    assert all(len(s["languages"]) == 4 and s["components"] == ["finnish", "roots"] for s in manifest["shards"])
    first = pq.read_table(out / manifest["shards"][0]["path"]).to_pylist()
    assert [r["lang"] for r in first[:50]] != sorted(r["lang"] for r in first[:50])
    assert all(r["input_file"] and r["source"] and r["license"] for r in first)
    assert manifest["spec"]["total_tokens"] == spec.total_tokens and manifest["tokenizer"]["sha256"] == tokenizer.sha256
    assert all(len(c["release"]["manifest_sha256"]) == 64 for c in manifest["components"])


def test_same_spec_same_bytes_across_runs_and_runners(corpus, tmp_path: Path):
    spec = _bluumi_like(corpus, total=20_000)
    mix(spec, str(tmp_path / "one"))
    mix(spec, str(tmp_path / "two"))
    mix(spec, str(tmp_path / "multi"), MULTI_PROCESS)
    one = shard_digests(tmp_path / "one")
    assert one and one == shard_digests(tmp_path / "two") == shard_digests(tmp_path / "multi")


def test_proportions_upsample_within_the_epoch_cap(corpus, tmp_path: Path):
    fi = corpus["tokens"][("finnish", "fi")]
    total = int(2 * 2.6 * fi)  # half each: Finnish at 2.6 epochs, roots at 2.6 × fi / roots < 1
    components = [
        {"name": "roots", "release": str(corpus["roots"]), "weight": 1, "max_epochs": 1},
        {"name": "finnish", "release": str(corpus["finnish"]), "languages": ["fi"], "weight": 1, "max_epochs": 3},
    ]
    spec = _spec(corpus, "props", total_tokens=total, weighting="proportions", components=components)
    manifest = mix(spec, str(tmp_path / "mix"))
    worst = assert_shares(manifest)
    print(f"proportions: worst share gap {worst:.3f} pp")
    by = {r["component"]: r for r in manifest["by_component"]}
    assert by["roots"]["target_share"] == pytest.approx(0.5) and by["finnish"]["target_share"] == pytest.approx(0.5)
    assert 2 < by["finnish"]["epochs"] <= 3 and by["roots"]["epochs"] <= 1
    rows = rows_of(tmp_path / "mix")
    epochs = {c: max(r["epoch"] for r in rows if r["mix_component"] == c) for c in ("roots", "finnish")}
    assert epochs == {"roots": 0, "finnish": 2}  # copies 0, 1, 2: never more than max_epochs = 3
    assert by["finnish"]["max_copies"] == 3 and by["finnish"]["unique_docs"] == 1100
    # every Finnish document at least twice (two full epochs), the third copy for a sample
    per_doc = {}
    for r in rows:
        if r["mix_component"] == "finnish":
            per_doc[r["id"]] = per_doc.get(r["id"], 0) + 1
    assert set(per_doc.values()) == {2, 3} and len(per_doc) == 1100

    # one cap lower and the spec is refused before any work, with the numbers
    components[1]["max_epochs"] = 2
    spec = _spec(corpus, "props2", total_tokens=total, weighting="proportions", components=components)
    with pytest.raises(UnreachableMixError, match=r"finnish .* 2\.6\d\d +2\b"):
        mix(spec, str(tmp_path / "refused"))
    assert not (tmp_path / "refused").exists() and not list(tmp_path.glob(".refused*"))


def test_alpha_by_language(corpus, tmp_path: Path):
    components = [
        {"name": "roots", "release": str(corpus["roots"])},
        {"name": "finnish", "release": str(corpus["finnish"]), "languages": ["fi"]},
    ]
    tokens = {lang: n for (rel, lang), n in corpus["tokens"].items() if rel == "roots" or lang == "fi"}
    total_available = sum(tokens.values())
    spec = _spec(
        corpus,
        "alpha",
        total_tokens=total_available // 2,
        weighting="alpha",
        alpha=0.3,
        group_by="language",
        max_epochs=3,
        components=components,
    )
    manifest = mix(spec, str(tmp_path / "mix"))
    norm = sum((n / total_available) ** 0.3 for n in tokens.values())
    targets = {row["lang"]: row["target_share"] for row in manifest["by_lang"]}
    assert targets == pytest.approx({lang: (n / total_available) ** 0.3 / norm for lang, n in tokens.items()})
    assert targets["sw"] > tokens["sw"] / total_available  # small languages up-weighted
    worst = assert_shares(manifest)
    print(f"alpha: worst share gap {worst:.3f} pp")


def test_unreachable_spec_fails_before_any_work(corpus, tmp_path: Path, monkeypatch, capsys):
    """The roots release has token counts in its manifest: refusing needs no pipeline at all."""

    def no_work(*_, **__):
        raise AssertionError("a pipeline ran for a spec that could be refused from the manifests")

    monkeypatch.setattr(mixmod, "count_available", no_work)
    monkeypatch.setattr(mixmod, "execute", no_work)
    roots = sum(n for (rel, _), n in corpus["tokens"].items() if rel == "roots")
    path = write_spec(
        tmp_path / "greedy.yaml",
        name="greedy",
        tokenizer=str(corpus["tok"]),
        total_tokens=roots * 3,
        weighting="natural",
        max_epochs=2,
        components=[{"name": "roots", "release": str(corpus["roots"])}],
    )
    assert cli_main(["mix", str(path), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "unreachable" in err and f"{roots:,}" in err and f"{roots * 3:,} (100.00%)" in err and "3.000" in err
    assert f"at most {roots * 2:,}" in err
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))


def test_selections_that_take_nothing_or_the_same_thing_twice(corpus, tmp_path: Path):
    def spec(components):
        return _spec(corpus, "bad", total_tokens=1000, weighting="natural", components=components)

    with pytest.raises(
        MixSpecError, match=r"components.0 \(a\): languages: .* no documents for \['bn'\]; it has \['en', 'fr', 'sw'\]"
    ):
        mixmod.resolve(spec([{"name": "a", "release": str(corpus["roots"]), "languages": ["bn"]}]))
    with pytest.raises(MixSpecError, match="selects no documents"):
        mixmod.resolve(spec([{"name": "a", "release": str(corpus["finnish"]), "exclude_languages": ["fi", "en"]}]))
    with pytest.raises(MixSpecError, match="which component 'a' takes too"):
        mixmod.resolve(
            spec(
                [
                    {"name": "a", "release": str(corpus["roots"])},
                    {"name": "b", "release": str(corpus["roots"]), "languages": ["sw"]},
                ]
            )
        )
    with pytest.raises(MixSpecError, match="no manifest.json"):
        mixmod.resolve(spec([{"name": "a", "release": str(tmp_path / "nothing")}]))
    with pytest.raises(MixSpecError, match="no dup_cluster_size column"):
        mixmod.resolve(
            _spec(
                corpus,
                "bad2",
                total_tokens=1000,
                weighting="natural",
                rehydrate={"enabled": True},
                components=[{"name": "a", "release": str(corpus["roots"])}],
            )
        )


def test_rehydration_upsamples_by_cluster_size(corpus, tmp_path: Path):
    fi, sw = corpus["tokens"][("finnish", "fi")], corpus["tokens"][("roots", "sw")]
    spec = _spec(
        corpus,
        "rehydrated",
        total_tokens=(fi + sw) // 2,
        weighting="natural",
        max_epochs=2,
        rehydrate={"enabled": True},  # FineWeb-2's weights: size 1 ×1, 2 ×2, 5 ×5
        components=[
            {"name": "finnish", "release": str(corpus["clustered"]), "languages": ["fi"]},
            {"name": "roots", "release": str(corpus["roots"]), "languages": ["sw"], "rehydrate": False},
        ],
    )
    manifest = mix(spec, str(tmp_path / "mix"))
    assert_shares(manifest)
    rows = rows_of(tmp_path / "mix")
    assert "dup_cluster_size" in pq.read_schema(tmp_path / "mix" / manifest["shards"][0]["path"]).names
    assert {r["dup_cluster_size"] for r in rows if r["mix_component"] == "roots"} == {None}  # union schema
    fin = [r for r in rows if r["mix_component"] == "finnish"]
    # rate 0.5, mean weight ≈ 0.7×1 + 0.2×2 + 0.1×5 = 1.6: singletons ≈ 0.31 epochs, size 2 ≈ 0.62, size 5 ≈ 1.56
    per_copy = {size: sum(r["tokens"] for r in fin if r["dup_cluster_size"] == size) for size in (1, 2, 5)}
    available = {1: 0, 2: 0, 5: 0}
    source = rows_of_release(corpus["clustered"], "fi")
    for row, n in zip(source, Tokenizer(corpus["tok"]).count([r["text"] for r in source]), strict=True):
        available[row["dup_cluster_size"]] += n
    epochs = {size: per_copy[size] / available[size] for size in available}
    assert epochs[2] / epochs[1] == pytest.approx(2, rel=0.02) and epochs[5] / epochs[1] == pytest.approx(5, rel=0.02)
    assert max(r["epoch"] for r in fin) == 1  # within max_epochs = 2
    rehydrated = [b for b in manifest["buckets"] if b["component"] == "finnish"]
    assert [b["rehydrate"]["min_cluster_size"] for b in rehydrated] == [1, 2, 5]
