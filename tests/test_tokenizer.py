"""Tokenizer training (`rootstock tokenizer train`) and token counting (`rootstock count-tokens`)."""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sentencepiece as spm

from rootstock.errors import TokenizerError, TokenizerTrainError
from rootstock.filters.tokens import Tokenizer
from rootstock.pipeline.cli import main as cli_main
from rootstock.pipeline.cli import parser as cli_parser
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.count_tokens import count_tokens
from rootstock.pipeline.jobs.curate import run
from rootstock.pipeline.jobs.train_tokenizer import plan_sample, train_tokenizer
from rootstock.pipeline.release.release import iter_rows as read_parquet_rows
from rootstock.pipeline.release.verify import verify
from tests.conftest import DEMO_CONFIG, NO_SIZE_FLOOR, entry, run_cli, write_catalog, write_config

ONE_WORKER = ["--direct_num_workers=1"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_release: Path) -> Path:
    out = tmp_path_factory.mktemp("tok") / "demo"
    shutil.copytree(demo_release, out)  # count-tokens adds sidecars: a copy of the session's demo
    return out


@pytest.fixture(scope="module")
def trained(demo: Path, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("tok") / "spm"
    card = train_tokenizer(
        str(demo), out, vocab_size=2000, sample_bytes=120_000, threads=2, keep_sample=True, beam_args=ONE_WORKER
    )
    return out, card


def _manifest(release: Path) -> dict:
    return json.loads((release / "manifest.json").read_text())


def _shard_texts(release: Path, shard: dict) -> list[str]:
    return [row["text"] for row in read_parquet_rows(str(release / shard["path"]))]


def _copy(release: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(release, tmp_path / "release"))


# ------------------------------------------------------------------------------------ training


def test_model_loads_and_falls_back_to_bytes(trained):
    out, card = trained
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "sample.txt",
        "tokenizer.model",
        "tokenizer.vocab",
        "tokenizer_card.json",
    ]
    sp = spm.SentencePieceProcessor(model_file=str(out / "tokenizer.model"))
    assert sp.get_piece_size() == 2000 == card["model"]["vocab_size"]
    rare = "🦜 𠀀"  # an emoji and a CJK Extension B character: neither is in the sample
    ids = sp.encode(rare)
    assert sp.unk_id() not in ids
    assert {"<0xF0>", "<0x9F>", "<0xA0>"} <= set(sp.id_to_piece(ids))
    assert sp.decode(ids) == rare
    text = "Helsingin kirjastossa luetaan  sisennettyä koodia:\n    return x"
    assert sp.decode(sp.encode(text)) == text  # no normalization: whitespace and newlines survive
    assert json.loads((out / "tokenizer_card.json").read_text()) == card
    assert card["model"]["sha256"] == hashlib.sha256((out / "tokenizer.model").read_bytes()).hexdigest()
    manifest_bytes = (Path(card["release"]["path"]) / "manifest.json").read_bytes()
    assert card["release"]["manifest_sha256"] == hashlib.sha256(manifest_bytes).hexdigest()
    assert card["sentencepiece_version"] == spm.__version__
    assert card["trainer_options"]["byte_fallback"] is True
    assert "Finnish" in (out / "README.md").read_text()


def test_shares_follow_alpha(demo, trained):
    _, card = trained
    sizes: dict[str, int] = {}
    for shard in _manifest(demo)["shards"]:
        sizes[shard["lang"]] = sizes.get(shard["lang"], 0) + shard["text_bytes"]
    # Text language ID could not place (`und`) is not sampled; the ensemble places all of the demo's.
    assert card["sampling"]["excluded_languages"] == (["und"] if "und" in sizes else [])
    sizes.pop("und", None)
    rows = {row["lang"]: row for row in card["languages"]}
    assert set(rows) == set(sizes) and "fi" in rows
    total, z = sum(sizes.values()), sum(n**0.3 for n in sizes.values())
    for lang, n in sizes.items():
        assert rows[lang]["release_bytes"] == n
        assert rows[lang]["natural_share"] == pytest.approx(n / total)
        assert rows[lang]["target_share"] == pytest.approx(n**0.3 / z)
    assert sum(row["target_bytes"] for row in rows.values()) == pytest.approx(120_000, abs=len(rows))
    # Languages that have enough follow p ∝ n^α among themselves; the others give all they have.
    free = [row for row in rows.values() if not row["capped"]]
    scale = sum(row["target_bytes"] for row in free) / sum(row["target_share"] for row in free)
    for row in rows.values():
        if row["capped"]:
            assert row["target_bytes"] == row["release_bytes"] < row["target_share"] * scale
        else:
            assert row["target_bytes"] == pytest.approx(row["target_share"] * scale, abs=1)
    # Each language's sample is its lowest-ranked documents up to the target: over by less than one document.
    largest_doc = dict.fromkeys(rows, 0)
    for shard in _manifest(demo)["shards"]:
        if shard["lang"] in rows:
            sizes_ = [len(t.encode()) for t in _shard_texts(demo, shard)]
            largest_doc[shard["lang"]] = max(largest_doc[shard["lang"]], *sizes_)
    for lang, row in rows.items():
        assert row["target_bytes"] <= row["sampled_bytes"] < row["target_bytes"] + largest_doc[lang]
    # α < 1 upsamples the small languages and downsamples the large ones.
    smallest, largest = min(free, key=lambda r: r["release_bytes"]), max(free, key=lambda r: r["release_bytes"])
    assert (
        smallest["target_share"] > smallest["natural_share"] and smallest["sampled_share"] > smallest["natural_share"]
    )
    assert largest["target_share"] < largest["natural_share"] and largest["sampled_share"] < largest["natural_share"]


def test_plan_sample_formula():
    sizes = {"big": 1_000_000, "mid": 10_000, "tiny": 100}
    everything = plan_sample(sizes, 0.3, 10**9)  # more asked than exists: all of it
    assert {k: v["target_bytes"] for k, v in everything.items()} == sizes
    natural = plan_sample(sizes, 1.0, 101_010)  # α = 1: natural shares
    assert {k: v["target_bytes"] for k, v in natural.items()} == {k: n // 10 for k, n in sizes.items()}
    equal = plan_sample({"a": 40_000, "b": 10_000}, 0.0, 20_000)  # α = 0: equal shares
    assert equal["a"]["target_bytes"] == equal["b"]["target_bytes"] == 10_000
    plan = plan_sample(sizes, 0.3, 40_000)
    assert plan["tiny"]["capped"] and plan["tiny"]["target_bytes"] == 100
    assert sum(p["target_bytes"] for p in plan.values()) == 40_000 and not plan["mid"]["capped"]
    assert plan["mid"]["target_bytes"] / plan["big"]["target_bytes"] == pytest.approx(
        (10_000 / 1_000_000) ** 0.3, rel=1e-3
    )


@pytest.fixture(scope="module")
def duplicated(tmp_path_factory) -> tuple[Path, list[str]]:
    """A release whose duplicate lines are known: boilerplate in every document, in two languages."""
    root = tmp_path_factory.mktemp("dups")
    (root / "catalog" / "data").mkdir(parents=True)
    en = [
        f"Story {i}: the harbour town of Kestrel counts {i} boats today.\nSubscribe to our newsletter.\n\nAll rights reserved."
        for i in range(20)
    ]
    en[0] += "\nStory 0: the harbour town of Kestrel counts 0 boats today."  # repeated inside one document
    fi = [
        f"Tarina {i}: satamassa on {i} venettä.\nAll rights reserved.\n  Subscribe to our newsletter.  "
        for i in range(20)
    ]
    for name, texts in (("en", en), ("fi", fi)):
        pq.write_table(
            pa.Table.from_pylist([{"id": f"{name}{i}", "text": t} for i, t in enumerate(texts)]),
            root / "catalog" / "data" / f"{name}.parquet",
        )
    catalog = write_catalog(
        root / "catalog",
        entry("news_en", {"kind": "parquet", "paths": ["../data/en.parquet"], "id_field": "id"}, languages=["en"]),
        entry("news_fi", {"kind": "parquet", "paths": ["../data/fi.parquet"], "id_field": "id"}, languages=["fi"]),
    )
    run(load_config(write_config(root / "run.yaml", catalog, root / "release", stages=NO_SIZE_FLOOR)), ONE_WORKER)
    return root / "release", en + fi


def test_duplicate_lines_are_removed(duplicated, tmp_path):
    release, texts = duplicated
    card = train_tokenizer(
        str(release), tmp_path / "tok", vocab_size=300, threads=1, keep_sample=True, beam_args=ONE_WORKER
    )
    lines = [line.strip() for text in texts for line in text.split("\n") if line.strip()]
    assert len(lines) == 121 and len(set(lines)) == 42  # 79 duplicates, 2 of them inside one document
    assert card["dedup"] == {**card["dedup"], "lines_in": 121, "duplicate_lines_removed": 79, "lines_out": 42}
    sample = (tmp_path / "tok" / "sample.txt").read_text(encoding="utf-8").splitlines()
    assert sorted(line.strip() for line in sample) == sorted(set(lines))
    assert "  Subscribe to our newsletter." in sample or "Subscribe to our newsletter." in sample  # indentation kept
    rows = {row["lang"]: row for row in card["languages"]}
    assert rows["en"]["lines"] == 61 and rows["fi"]["lines"] == 60
    assert rows["en"]["unique_lines"] + rows["fi"]["unique_lines"] == 42
    assert card["sample"]["sha256"] == hashlib.sha256((tmp_path / "tok" / "sample.txt").read_bytes()).hexdigest()


def test_vocab_too_large_is_explained(duplicated, tmp_path, capsys):
    release, _ = duplicated
    with pytest.raises(TokenizerTrainError, match=r"--vocab-size 5000 is too large for this sample.*at most \d+"):
        train_tokenizer(str(release), tmp_path / "a", vocab_size=5000, threads=1, beam_args=ONE_WORKER)
    with pytest.raises(TokenizerTrainError, match=r"--vocab-size 100 is too small"):
        train_tokenizer(str(release), tmp_path / "b", vocab_size=100, threads=1, beam_args=ONE_WORKER)
    assert not (tmp_path / "a" / "sample.txt").exists()  # not kept unless asked
    # the same through the CLI surface: exit 2, one line on stderr
    parser = _parser()
    argv = [
        "tokenizer",
        "train",
        str(release),
        "--vocab-size",
        "5000",
        "--output",
        str(tmp_path / "c"),
        "--threads",
        "1",
        *ONE_WORKER,
    ]
    args, extra = parser.parse_known_args(argv)
    assert extra == ONE_WORKER and args.beam is True
    assert cli_main(argv) == 2
    assert "too large for this sample" in capsys.readouterr().err


def test_sample_is_deterministic(demo, trained, tmp_path):
    _, card = trained
    again = train_tokenizer(
        str(demo), tmp_path / "again", vocab_size=2000, sample_bytes=120_000, threads=2, beam_args=ONE_WORKER
    )
    assert again["sample"]["sha256"] == card["sample"]["sha256"]
    assert again["model"]["sha256"] == card["model"]["sha256"]  # the model too, written elsewhere
    assert again["languages"] == card["languages"]
    other = train_tokenizer(
        str(demo), tmp_path / "other", vocab_size=2000, sample_bytes=120_000, threads=2, seed=7, beam_args=ONE_WORKER
    )
    assert other["sample"]["sha256"] != card["sample"]["sha256"]


# ------------------------------------------------------------------------------------ counting


def _sidecar(release: Path, tokenizer_sha256: str) -> dict:
    return json.loads((release / "tokens" / f"{tokenizer_sha256[:16]}.json").read_text())


def _check_counts(release: Path, section: dict, count_one) -> None:
    """SECTION is a sidecar (count-tokens: per-shard counts in its `shards`) or the manifest's
    `tokens` (run --tokenizer: per-shard counts on the manifest's shards)."""
    manifest = _manifest(release)
    if "shards" in section:
        assert section["kind"] == "token-counts" and "tokens" not in manifest
        assert _sidecar(release, section["tokenizer"]["sha256"]) == section
        assert section["manifest_sha256"] == hashlib.sha256((release / "manifest.json").read_bytes()).hexdigest()
        tokens = {s["path"]: s["tokens"] for s in section["shards"]}
    else:
        assert manifest["tokens"] == section
        tokens = {s["path"]: s["tokens"] for s in manifest["shards"]}
    by_lang: dict[str, int] = {}
    by_cell: dict[tuple[str, str], int] = {}
    for shard in manifest["shards"]:
        n = tokens[shard["path"]]
        assert n == sum(count_one(text) for text in _shard_texts(release, shard)), shard["path"]
        by_lang[shard["lang"]] = by_lang.get(shard["lang"], 0) + n
        by_cell[shard["source"], shard["lang"]] = by_cell.get((shard["source"], shard["lang"]), 0) + n
    assert section["by_lang"] == by_lang
    assert {(c["source"], c["lang"]): c["tokens"] for c in section["by_source_lang"]} == by_cell
    assert section["total"] == sum(by_lang.values()) == sum(tokens.values()) > 0
    docs = {(c["source"], c["lang"]): c["docs"] for c in section["by_source_lang"]}
    assert sum(docs.values()) == manifest["totals"]["docs_out"]
    _, problems = verify(str(release))
    assert problems == []


@pytest.fixture(scope="module")
def counted_spm(demo, trained, tmp_path_factory) -> Path:
    release = Path(shutil.copytree(demo, tmp_path_factory.mktemp("count") / "release"))
    manifest_bytes = (release / "manifest.json").read_bytes()
    count_tokens(str(release), str(trained[0] / "tokenizer.model"), ONE_WORKER)
    assert (release / "manifest.json").read_bytes() == manifest_bytes  # a published manifest never changes
    return release


def test_count_with_sentencepiece(counted_spm, trained):
    sp = spm.SentencePieceProcessor(model_file=str(trained[0] / "tokenizer.model"))
    section = _sidecar(counted_spm, trained[1]["model"]["sha256"])
    assert section["tokenizer"]["kind"] == "sentencepiece" and section["tokenizer"]["vocab_size"] == 2000
    assert section["tokenizer"]["sha256"] == trained[1]["model"]["sha256"]
    _check_counts(counted_spm, section, lambda text: len(sp.encode(text)))


def _hf_tokenizer(path: Path, texts: list[str]) -> Path:
    """A small byte-level BPE like BLOOM's, trained here: nothing is downloaded."""
    from tokenizers import Tokenizer as HfTokenizer
    from tokenizers import decoders, models, pre_tokenizers, trainers

    tok = HfTokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=["</s>"]
    )
    tok.train_from_iterator(texts, trainer)
    tok.save(str(path))
    return path


def test_count_with_another_tokenizer_adds_its_own_sidecar(counted_spm, trained, tmp_path):
    from tokenizers import Tokenizer as HfTokenizer

    release = _copy(counted_spm, tmp_path)
    before = _sidecar(release, trained[1]["model"]["sha256"])
    texts = [t for shard in _manifest(release)["shards"][:10] for t in _shard_texts(release, shard)]
    path = _hf_tokenizer(tmp_path / "tokenizer.json", texts)
    hf = HfTokenizer.from_file(str(path))
    section = count_tokens(str(release), str(tmp_path), ONE_WORKER)  # a directory holding tokenizer.json
    assert section["tokenizer"] == {
        "path": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "kind": "tokenizers",
        "vocab_size": hf.get_vocab_size(),
    }
    assert section["total"] != before["total"] and section["tokenizer"]["sha256"] != before["tokenizer"]["sha256"]
    _check_counts(release, section, lambda text: len(hf.encode(text, add_special_tokens=False).ids))
    assert _sidecar(release, before["tokenizer"]["sha256"]) == before  # the first count stays
    assert len(list((release / "tokens").glob("*.json"))) == 2


def test_bad_tokenizer_is_a_clear_error(demo, tmp_path, capsys):
    release = _copy(demo, tmp_path)
    manifest_bytes = (release / "manifest.json").read_bytes()
    (tmp_path / "junk.model").write_bytes(b"not a model")
    (tmp_path / "junk.json").write_text('{"version": "1.0", "model": 3}')
    (tmp_path / "empty.model").write_bytes(b"")
    cases = {
        str(tmp_path / "missing.model"): "no such tokenizer file",
        str(tmp_path / "junk.model"): "not a SentencePiece model",
        str(tmp_path / "junk.json"): "not a Hugging Face tokenizer.json",
        str(tmp_path / "empty.model"): "empty file",
        str(tmp_path / "nowhere"): "no such tokenizer file",
    }
    for path, message in cases.items():
        with pytest.raises(TokenizerError, match=message):
            count_tokens(str(release), path)
    argv = ["count-tokens", str(release), "--tokenizer", str(tmp_path / "junk.model")]
    assert cli_main(argv) == 2
    assert "not a SentencePiece model" in capsys.readouterr().err
    assert (release / "manifest.json").read_bytes() == manifest_bytes  # nothing was touched


def test_tokenizer_pickles_with_its_bytes(trained, tmp_path):
    """Remote workers get the model inside the pickled DoFn, not a path they cannot open."""
    copy = tmp_path / "tokenizer.model"
    shutil.copy(trained[0] / "tokenizer.model", copy)
    tok = Tokenizer(copy)
    blob = pickle.dumps(tok)
    copy.unlink()
    clone = pickle.loads(blob)
    assert clone.describe() == tok.describe()
    assert clone.count(["Hyvää huomenta", "🦜"]) == tok.count(["Hyvää huomenta", "🦜"])
    assert Tokenizer(trained[0]).kind == "sentencepiece"  # a directory with tokenizer.model


def _parser() -> argparse.ArgumentParser:
    return cli_parser()


def test_cli_surface_counts(demo, trained, tmp_path, capsys):
    release = _copy(demo, tmp_path)
    args, extra = _parser().parse_known_args(
        ["count-tokens", str(release), "--tokenizer", str(trained[0]), *ONE_WORKER]
    )
    assert (args.beam, extra) == (True, ONE_WORKER)
    assert args.func(args, extra) == 0
    out = capsys.readouterr().out
    sha = trained[1]["model"]["sha256"]
    assert "fi " in out and "total" in out and f"tokens/{sha[:16]}.json (manifest.json unchanged)" in out
    assert "tokens" not in _manifest(release) and _sidecar(release, sha)["tokenizer"]["kind"] == "sentencepiece"


def test_run_counts_tokens_when_given_a_tokenizer(trained, tmp_path):
    sp = spm.SentencePieceProcessor(model_file=str(trained[0] / "tokenizer.model"))
    out = tmp_path / "counted-run"
    result = run_cli("run", str(DEMO_CONFIG), "--output", str(out), "--tokenizer", str(trained[0] / "tokenizer.model"))
    section = _manifest(out)["tokens"]
    assert f"{section['total']:,} tokens" in result.stdout
    _check_counts(out, section, lambda text: len(sp.encode(text)))
    bad = run_cli(
        "run",
        str(DEMO_CONFIG),
        "--output",
        str(tmp_path / "never"),
        "--tokenizer",
        str(tmp_path / "nope.model"),
        check=False,
    )
    assert bad.returncode == 2 and "no such tokenizer file" in bad.stderr and not (tmp_path / "never").exists()
