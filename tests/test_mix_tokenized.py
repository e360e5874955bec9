"""`rootstock mix --format megatron,nanoset`: token files a trainer reads, read back by readers
that share no code with the writer.

Megatron's own reader (megatron-core 0.16.1 on PyPI) requires torch and imports it at module
level, so the .idx/.bin reader here is written from the format's documentation
(Megatron-LM `megatron/core/datasets/readme.md` and `_IndexReader`); datatrove's files are read
with datatrove's own torch-free readers (`load_doc_ends`, `get_data_reader`) and merged by its
`DocumentTokenizerMerger`. The expected ids come from SentencePiece directly, not from
rootstock's Tokenizer wrapper.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
from pathlib import Path

import demo_tokenizer
import numpy as np
import pyarrow.parquet as pq
import pytest
import sentencepiece as spm
from datatrove.pipeline.tokens.megatron_tokenizer import MegatronTokenizedFile
from datatrove.pipeline.tokens.merger import DocumentTokenizerMerger, get_data_reader, load_doc_ends
from datatrove.pipeline.tokens.tokenizer import TokenizedFile

from rootstock.errors import MixSpecError, TokenizerError
from rootstock.filters.tokens import Tokenizer
from rootstock.pipeline.cli import main as cli_main
from rootstock.pipeline.jobs.count_tokens import count_tokens
from rootstock.pipeline.mix import formats as fmt
from rootstock.pipeline.mix import tokenized
from rootstock.pipeline.mix.job import mix
from rootstock.pipeline.mix.spec import load_spec
from rootstock.pipeline.release.verify import verify
from tests.conftest import MULTI_PROCESS
from tests.test_mix import _release, write_spec

# -- a reader from the documentation ------------------------------------------------------

DTYPES = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 6: np.float64, 7: np.float32, 8: np.uint16}


def read_megatron(prefix: Path) -> tuple[np.dtype, list[np.ndarray], np.ndarray]:
    """(dtype, sequences, doc_idx) of PREFIX.idx/.bin: header, version, dtype code, sequence count,
    document count; then sizes (int32), pointers (int64), document indices (int64)."""
    data = (prefix.parent / (prefix.name + ".idx")).read_bytes()
    assert data[:9] == b"MMIDIDX\x00\x00"
    (version,) = struct.unpack("<Q", data[9:17])
    assert version == 1
    dtype = np.dtype(DTYPES[data[17]])
    sequences, documents = struct.unpack("<QQ", data[18:34])
    sizes = np.frombuffer(data, np.int32, sequences, 34)
    pointers = np.frombuffer(data, np.int64, sequences, 34 + 4 * sequences)
    doc_idx = np.frombuffer(data, np.int64, documents, 34 + 12 * sequences)
    assert len(data) == 34 + 12 * sequences + 8 * documents
    tokens = (prefix.parent / (prefix.name + ".bin")).read_bytes()
    return dtype, [np.frombuffer(tokens, dtype, int(n), int(p)) for n, p in zip(sizes, pointers, strict=True)], doc_idx


def read_datatrove(path: Path) -> list[np.ndarray]:
    """Documents of a .ds file, with datatrove's own readers and the token size its .metadata names."""
    size = int((path.parent / (path.name + ".metadata")).read_text().splitlines()[0].rsplit("|", 1)[1])
    ends = load_doc_ends(open(path.parent / (path.name + ".index"), "rb"))  # noqa: SIM115 - the reader closes it
    dtype = "<u2" if size == 2 else "<u4"
    return [np.frombuffer(b, dtype) for b in get_data_reader(open(path, "rb"), ends, nb_bytes=size)]


# -- the corpus -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("tokmix")
    tok = demo_tokenizer.train(root / "tok.model")
    roots = _release(root, "roots", {"en": 300, "fr": 200, "sw": 120}, seed=11)
    finnish = _release(root, "finnish", {"fi": 250, "en": 60}, seed=12)
    counted = {
        name: count_tokens(str(rel), str(tok), ["--direct_num_workers=1"])
        for name, rel in [("roots", roots), ("finnish", finnish)]
    }
    # count-tokens' totals for what the mix takes: all of roots, the Finnish of finnish
    available = counted["roots"]["total"] + counted["finnish"]["by_lang"]["fi"]
    return {"root": root, "tok": tok, "roots": roots, "finnish": finnish, "available": available}


def _spec(corpus, name: str, total: int, **fields):
    data = {
        "name": name,
        "tokenizer": str(corpus["tok"]),
        "seed": 3,
        "total_tokens": total,
        "weighting": "natural",
        "shards": {"max_rows": 60},
        "components": [
            {"name": "roots", "release": str(corpus["roots"])},
            {"name": "finnish", "release": str(corpus["finnish"]), "languages": ["fi"]},
        ],
        **fields,
    }
    return load_spec(write_spec(corpus["root"] / f"{name}.yaml", **data))


@pytest.fixture(scope="module")
def whole(corpus, tmp_path_factory):
    """Every document once (natural weighting at exactly the available tokens), in all three formats."""
    out = tmp_path_factory.mktemp("whole") / "mix"
    manifest = mix(_spec(corpus, "whole", corpus["available"]), str(out), formats=("parquet", "megatron", "nanoset"))
    return out, manifest


def _expected(out: Path, manifest) -> list[list[list[int]]]:
    """Per Parquet shard, in order: SentencePiece's ids of every document, then the EOS."""
    sp = spm.SentencePieceProcessor(model_file=manifest["tokenizer"]["path"])
    assert sp.eos_id() == manifest["tokenized"]["tokenizer"]["eos_id"] == 2
    return [
        [ids + [sp.eos_id()] for ids in sp.encode(pq.read_table(out / s["path"]).column("text").to_pylist())]
        for s in manifest["shards"]
    ]


# -- the tests ------------------------------------------------------------------------------


def test_megatron_index_layout_and_datatrove_writes_the_same_bytes(tmp_path: Path):
    docs = [[5, 6, 7, 2], [2], [9, 10, 11, 12, 13, 2]]
    lengths = np.array([len(d) for d in docs])
    idx = fmt.megatron_index(lengths, np.dtype(np.uint16))
    # offset: 0 magic, 9 version, 17 dtype code, 18 sequences, 26 documents, 34 sizes, 46 pointers, 70 doc_idx
    assert idx[0:9] == b"MMIDIDX\x00\x00"
    assert struct.unpack_from("<QBQQ", idx, 9) == (1, 8, 3, 4)
    assert struct.unpack_from("<3i", idx, 34) == (4, 1, 6)
    assert struct.unpack_from("<3q", idx, 46) == (0, 8, 10)  # bytes: uint16 tokens
    assert struct.unpack_from("<4q", idx, 70) == (0, 1, 2, 3)
    assert len(idx) == 102
    # datatrove ships a writer of the same format (MegatronTokenizedFile): byte for byte the same
    theirs = MegatronTokenizedFile(str(tmp_path), "theirs", token_size=2)
    for d in docs:
        theirs.write(d)
    theirs.close()
    assert (tmp_path / "theirs.idx").read_bytes() == idx
    tokens, _ = fmt.concatenate([fmt.pack(d[:-1], 2, np.dtype("<u2")) for d in docs], np.dtype("<u2"), np.dtype("<u2"))
    assert (tmp_path / "theirs.bin").read_bytes() == tokens.tobytes()
    # and datatrove's own .ds writer gives the .ds and .ds.index bytes
    ds = TokenizedFile(str(tmp_path), "theirs.ds", token_size=2, save_final_metadata=True, tokenizer_name_or_path="t")
    for d in docs:
        ds.write(d, None)
    ds.close()
    assert (tmp_path / "theirs.ds").read_bytes() == tokens.tobytes()
    assert (tmp_path / "theirs.ds.index").read_bytes() == fmt.datatrove_index(lengths)
    assert (tmp_path / "theirs.ds.metadata").read_bytes().splitlines()[:2] == fmt.datatrove_metadata(
        "t", 2, 11
    ).splitlines()[:2]


def test_dtype_follows_the_vocabulary():
    assert (fmt.megatron_dtype(2000), fmt.megatron_dtype(65_499), fmt.megatron_dtype(65_500)) == (
        np.uint16,
        np.uint16,
        np.int32,
    )  # Megatron's optimal_dtype; BLOOM's 250,680 tokens are int32
    assert fmt.megatron_code(fmt.megatron_dtype(250_680)) == 4 and fmt.megatron_code(np.dtype(np.uint16)) == 8
    assert fmt.datatrove_dtype(65_536).itemsize == 2 and fmt.datatrove_dtype(65_537).itemsize == 4
    with pytest.raises((OverflowError, ValueError)):
        fmt.pack([70_000], 2, np.dtype("<u2"))  # never wraps around


def test_tokenized_mix_reads_back_exactly(whole, corpus):
    out, manifest = whole
    assert verify(str(out))[1] == []
    assert tokenized.check(manifest, str(out)) == []
    expected = _expected(out, manifest)
    shards = [Path(s["path"]).stem for s in manifest["shards"]]
    assert len(shards) >= 2  # max_rows 60
    for stem, docs in zip(shards, expected, strict=True):
        dtype, sequences, doc_idx = read_megatron(out / "megatron" / stem)
        assert dtype == np.uint16
        assert [s.tolist() for s in sequences] == docs
        assert doc_idx.tolist() == list(range(len(docs) + 1))
        assert [d.tolist() for d in read_datatrove(out / "nanoset" / f"{stem}.ds")] == docs
    # token totals: what count-tokens counted, plus one EOS per document
    section = manifest["tokenized"]
    documents = sum(len(d) for d in expected)
    assert section["tokens"] == corpus["available"] == manifest["totals"]["achieved_tokens"]
    assert section["documents"] == documents == manifest["totals"]["unique_docs"]
    assert section["training_tokens"] == corpus["available"] + documents == sum(len(t) for d in expected for t in d)
    assert sum(s["training_tokens"] for s in manifest["shards"]) == section["training_tokens"]
    # --data-path: weight, prefix pairs; the weights are the shards' tokens, the prefixes exist
    words = section["megatron"]["data_path"].split()
    pairs = list(zip(words[::2], words[1::2], strict=True))
    assert [Path(p).name for _, p in pairs] == shards
    assert [int(w) for w, _ in pairs] == [sum(len(t) for t in d) for d in expected]
    assert all(Path(p + ".bin").is_file() and Path(p + ".idx").is_file() for _, p in pairs)
    assert section["tokenizer"]["sha256"] == Tokenizer(corpus["tok"]).sha256


def test_datatrove_merger_reads_the_nanoset_folder(whole, tmp_path: Path):
    out, manifest = whole
    merger = DocumentTokenizerMerger(str(out / "nanoset"), str(tmp_path), "merged", shuffle=False, progress=False)
    merger.run(None)
    merged = tmp_path / "000_merged.ds"
    assert [d.tolist() for d in read_datatrove(merged)] == [d for shard in _expected(out, manifest) for d in shard]
    assert (tmp_path / "merged.ds.metadata").read_text().splitlines()[0] == f"{manifest['tokenizer']['path']}|2"


def test_a_sample_traces_back_to_its_source_document(whole):
    out, manifest = whole
    sp = spm.SentencePieceProcessor(model_file=manifest["tokenizer"]["path"])
    stem = Path(manifest["shards"][1]["path"]).stem
    seq_len = 511
    # nanotron: sample 5 of the file is tokens [2560, 3072) of the .ds
    start, stop = fmt.datatrove_window(5, seq_len)
    window = np.concatenate(read_datatrove(out / "nanoset" / f"{stem}.ds"))[start:stop]
    docs = tokenized.trace(manifest, str(out), f"nanoset/{stem}", start, stop)
    assert len(docs) >= 2  # short documents: a window spans several
    rebuilt = []
    for doc in docs:
        release = Path(doc["release_path"])
        assert doc["release"] == json.loads((release / "manifest.json").read_text())["release"]
        rows = [
            r
            for p in sorted(release.glob(f"data/{doc['lang']}/{doc['source']}/*.parquet"))
            for r in pq.read_table(p).to_pylist()
            if r["id"] == doc["id"]
        ]
        assert len(rows) == 1 and rows[0]["license"] == doc["license"]
        rebuilt += sp.encode(rows[0]["text"]) + [sp.eos_id()]
    first = docs[0]["token_start"]
    assert rebuilt[start - first : stop - first] == window.tolist()
    # Megatron names a document by its sequence index: the 7th sequence of the shard
    _, sequences, _ = read_megatron(out / "megatron" / stem)
    sidecar = tokenized.read_sidecar(str(out), f"megatron/{stem}").to_pylist()
    (doc,) = tokenized.trace(manifest, str(out), f"megatron/{stem}", sidecar[7]["token_start"])
    assert doc["index"] == 7
    text = next(
        r["text"] for r in pq.read_table(out / manifest["shards"][1]["path"]).to_pylist() if r["id"] == doc["id"]
    )
    assert sequences[7].tolist() == sp.encode(text) + [sp.eos_id()]


def test_verify_names_a_flipped_byte_and_token_counts_that_do_not_add_up(whole, tmp_path: Path, capsys):
    out, manifest = whole
    copy = tmp_path / "mix"
    shutil.copytree(out, copy)
    stem = Path(manifest["shards"][0]["path"]).stem
    first = tokenized.read_sidecar(str(out), f"nanoset/{stem}").column("tokens")[0].as_py()  # before its EOS
    assert first > 1
    # One bit of the first token id: sizes, offsets and EOS are intact, only the sha256 can tell.
    path = copy / "megatron" / f"{stem}.bin"
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01
    path.write_bytes(bytes(data))
    # The first document's EOS overwritten in the nanoset file: the token check names it too.
    path = copy / "nanoset" / f"{stem}.ds"
    tokens = np.frombuffer(path.read_bytes(), "<u2").copy()
    assert tokens[first] == 2
    tokens[first] = 7
    path.write_bytes(tokens.tobytes())
    assert cli_main(["verify", str(copy)]) == 1
    err = capsys.readouterr().err
    assert f"megatron/{stem}.bin: sha256" in err and f"nanoset/{stem}.ds: sha256" in err
    assert f"nanoset/{stem}: a document does not end with the EOS id 2" in err
    assert f"megatron/{stem}.idx" not in err and f"megatron/{stem}:" not in err  # the rest is intact

    # A manifest whose token numbers were edited: per shard, totals and the --data-path blend.
    shutil.rmtree(copy)
    shutil.copytree(out, copy)
    edited = json.loads((copy / "manifest.json").read_text())
    sidecar = next(a for a in edited["artifacts"] if a["path"] == f"nanoset/{stem}.docs.parquet")
    sidecar["tokens"] += 1
    edited["tokenized"]["training_tokens"] += 1
    edited["tokenized"]["megatron"]["blend"][0][0] += 1
    (copy / "manifest.json").write_text(json.dumps(edited))
    problems = verify(str(copy))[1]
    assert any(p.startswith(f"nanoset/{stem}: ") and "tokens in its token file" in p for p in problems), problems
    assert any(p.startswith("tokenized.training_tokens is") for p in problems), problems
    assert any(p.startswith("tokenized.megatron.blend weighs") for p in problems), problems
    # A token file the manifest does not list is named, not silently skipped.
    edited["artifacts"] = [a for a in edited["artifacts"] if a["path"] != f"megatron/{stem}.idx"]
    (copy / "manifest.json").write_text(json.dumps(edited))
    problems = verify(str(copy))[1]
    assert f"megatron/{stem}.idx: a token file of megatron/{stem}.docs.parquet, not listed in the manifest" in problems
    assert f"megatron/{stem}.idx: present but not listed in the manifest" in problems


def test_megatron_only_keeps_the_shards_and_drops_the_text(whole, corpus, tmp_path: Path, capsys):
    out, manifest = whole
    spec_file = corpus["root"] / "whole.yaml"
    code = cli_main(["mix", str(spec_file), "--output", str(tmp_path / "m"), "--format", "megatron", *MULTI_PROCESS])
    assert code == 0
    printed = capsys.readouterr().out
    only = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert f"--data-path {only['tokenized']['megatron']['data_path']}" in printed
    assert not (tmp_path / "m" / "data").exists() and not (tmp_path / "m" / "nanoset").exists()
    assert verify(str(tmp_path / "m"))[1] == [] and tokenized.check(only, str(tmp_path / "m")) == []
    # the same shards, byte for byte, as when the text was written too (and on another runner)
    for s in only["shards"]:
        assert s["path"].startswith("megatron/") and s["path"].endswith(".docs.parquet")
        for suffix in (".bin", ".idx", ".docs.parquet"):
            rel = s["path"].replace(".docs.parquet", suffix)
            assert (tmp_path / "m" / rel).read_bytes() == (out / rel).read_bytes()
    assert only["tokenized"]["megatron"]["blend"] == manifest["tokenized"]["megatron"]["blend"]


def test_upsampled_copies_are_traced_by_epoch(corpus, tmp_path: Path):
    spec = _spec(corpus, "twice", int(1.5 * corpus["available"]), max_epochs=2)
    manifest = mix(spec, str(tmp_path / "mix"), formats=("nanoset",))
    assert verify(str(tmp_path / "mix"))[1] == [] and tokenized.check(manifest, str(tmp_path / "mix")) == []
    rows = [r for s in manifest["shards"] for r in pq.read_table(tmp_path / "mix" / s["path"]).to_pylist()]
    assert {r["epoch"] for r in rows} == {0, 1}
    copies = {}
    for r in rows:
        copies.setdefault((r["mix_component"], r["id"]), []).append(r["epoch"])
    assert all(sorted(e) in ([0], [0, 1]) for e in copies.values())
    assert manifest["tokenized"]["tokens"] == manifest["totals"]["achieved_tokens"] == sum(r["tokens"] for r in rows)


def test_tokenizer_json_with_a_large_vocabulary(tmp_path: Path):
    """A tokenizer.json of 70,000 entries: int32 for Megatron, 4-byte tokens for datatrove."""
    from tokenizers import Tokenizer as HfTokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    vocab = {"[UNK]": 0, **{f"w{i}": i + 1 for i in range(69_998)}}
    hf = HfTokenizer(WordLevel(vocab, unk_token="[UNK]"))
    hf.pre_tokenizer = Whitespace()
    hf.add_special_tokens(["<|endoftext|>"])
    hf.save(str(tmp_path / "tokenizer.json"))
    tokenizer = Tokenizer(tmp_path)
    assert tokenizer.vocab_size == 70_000 and tokenizer.eos() == (69_999, "<|endoftext|>")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"eos_token": {"content": "w5"}}))
    assert tokenizer.eos() == (6, "w5")  # transformers' config names it
    assert tokenizer.eos("w7") == (8, "w7")
    with pytest.raises(TokenizerError):
        tokenizer.eos("</s>")
    texts = ["w1 w69997 w3", "", "w65600 w65535 w2"]
    out = tokenized.TokenOutput(("megatron", "nanoset"), False, 69_999, "<|endoftext|>", 70_000, "t.json", {"c": "r"})
    docs = [
        {
            "_token_ids": out.pack(ids),
            "tokens": len(ids),
            "mix_component": "c",
            "source": "s",
            "lang": "en",
            "id": f"d{i}",
            "epoch": 0,
        }
        for i, ids in enumerate(tokenizer.encode(texts))
    ]
    tokenized.shard_files(str(tmp_path), "part-00000-of-00001", docs, out, {"rows": 3})
    want = [[2, 69_998, 4, 69_999], [69_999], [65_601, 65_536, 3, 69_999]]
    dtype, sequences, _ = read_megatron(tmp_path / "megatron" / "part-00000-of-00001")
    assert dtype == np.int32 and [s.tolist() for s in sequences] == want
    assert [d.tolist() for d in read_datatrove(tmp_path / "nanoset" / "part-00000-of-00001.ds")] == want
    sidecar = pq.read_table(io.BytesIO((tmp_path / "nanoset" / "part-00000-of-00001.docs.parquet").read_bytes()))
    assert sidecar.column("token_start").to_pylist() == [0, 4, 5] and sidecar.column("release").to_pylist() == ["r"] * 3


def test_format_and_eos_mistakes_fail_before_any_work(whole, corpus, tmp_path: Path, capsys):  # whole writes the spec
    spec_file = corpus["root"] / "whole.yaml"
    assert cli_main(["mix", str(spec_file), "--output", str(tmp_path / "a"), "--format", "megatron,gguf"]) != 0
    assert "gguf" in capsys.readouterr().err
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(demo_tokenizer.sentences()),
        model_writer=model,
        vocab_size=2000,
        byte_fallback=True,
        eos_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    (tmp_path / "noeos.model").write_bytes(model.getvalue())
    spec = load_spec(spec_file, tokenizer=str(tmp_path / "noeos.model"))
    with pytest.raises(MixSpecError, match="no EOS"):
        mix(spec, str(tmp_path / "b"), formats=("megatron",))
    assert not (tmp_path / "b").exists()


def test_an_empty_shard_is_valid_and_left_out_of_the_blend(tmp_path: Path):
    out = tokenized.TokenOutput(("megatron", "nanoset"), False, 2, "</s>", 2000, "t.model", {})
    tokenized.shard_files(str(tmp_path), "part-00001-of-00002", [], out, {"rows": 0})
    dtype, sequences, doc_idx = read_megatron(tmp_path / "megatron" / "part-00001-of-00002")
    assert (dtype, sequences, doc_idx.tolist()) == (np.uint16, [], [0])
    assert (tmp_path / "megatron" / "part-00001-of-00002.idx").stat().st_size == 34 + 8
    assert read_datatrove(tmp_path / "nanoset" / "part-00001-of-00002.ds") == []
    shards = [
        {"path": "megatron/part-00000-of-00002.docs.parquet", "rows": 3, "tokens": 30, "training_tokens": 33},
        {"path": "megatron/part-00001-of-00002.docs.parquet", "rows": 0, "tokens": 0, "training_tokens": 0},
    ]
    section = tokenized.tokenized_section(out, Tokenizer(demo_tokenizer.train(tmp_path / "t.model")), shards, "/m")
    assert section["megatron"]["data_path"] == "33 /m/megatron/part-00000-of-00002"
    assert (section["documents"], section["tokens"], section["training_tokens"]) == (3, 30, 33)
