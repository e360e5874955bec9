"""Spilling at barriers: documents come back exactly as they went in, from files, not memory."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to

from rootstock.errors import ConfigError
from rootstock.pipeline.beam.options import pipeline_options
from rootstock.pipeline.beam.spill import SpillFile, flatten_through_files, read_batch, spill_enabled, through_files
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from tests.conftest import entry, write_catalog, write_config


def _docs(n: int) -> list[dict]:
    return [
        {
            "id": f"d{i:05d}",
            "text": "ü" * (i % 50) + "\n" * (i % 3),
            "lang": "fi" if i % 2 else "zhs",
            "quality": {"words": i, "ratio": i / 7, "checks": {"stop": None}},
            "url": None,
            "retrieved_at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
            "lang_topk": [("fi", 0.5)],
        }
        for i in range(n)
    ]


def test_documents_cross_a_barrier_through_files_unchanged(tmp_path: Path, monkeypatch):
    monkeypatch.setattr("rootstock.pipeline.beam.spill.BATCH_DOCS", 100)
    docs = _docs(950)
    with beam.Pipeline(options=pipeline_options(["--spill=always"])) as p:
        out = through_files(p | beam.Create(docs), str(tmp_path), "test")
        # A side input makes the step after the barrier wait, as in the dedup stage.
        total = beam.pvalue.AsSingleton(p | "N" >> beam.Create([len(docs)]))
        assert_that(out | beam.Map(lambda d, n: d if n == len(docs) else None, total), equal_to(docs))
    batches = [pickle.loads(f.read_bytes()) for f in (tmp_path / "spill").glob("test-*/*.pkl")]
    assert len(batches) >= 10 and max(map(len, batches)) <= 100
    assert sorted(d["id"] for batch in batches for d in batch) == [d["id"] for d in docs]


def test_spilling_is_on_for_local_runners_only():
    assert spill_enabled(beam.Pipeline(options=pipeline_options([])))
    assert not spill_enabled(beam.Pipeline(options=pipeline_options(["--spill=never"])))
    assert not spill_enabled(
        beam.Pipeline(options=PipelineOptions(["--runner=DataflowRunner"]), runner=beam.runners.DirectRunner())
    )
    assert spill_enabled(
        beam.Pipeline(
            options=PipelineOptions(["--runner=SparkRunner", "--spill=always"]), runner=beam.runners.DirectRunner()
        )
    )
    embedded = ["--runner=PortableRunner", "--job_endpoint=embed"]
    assert spill_enabled(beam.Pipeline(options=PipelineOptions(embedded), runner=beam.runners.DirectRunner()))
    remote = ["--runner=PortableRunner", "--job_endpoint=localhost:8099"]
    assert not spill_enabled(beam.Pipeline(options=PipelineOptions(remote), runner=beam.runners.DirectRunner()))


def test_a_missing_batch_is_named(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"gone.*staging directory"):
        read_batch(SpillFile(str(tmp_path / "x.pkl"), 3))


def test_never_spilling_side_input_joins_on_the_local_runner_is_one_clear_error(tmp_path: Path):
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    lines = [f'{{"id": "d{i}", "text": "the same village news, told again number {i % 3}"}}' for i in range(12)]
    (data / "news.jsonl").write_text("\n".join(lines) + "\n")
    catalog = write_catalog(tmp_path / "catalog", entry("news", {"kind": "jsonl", "paths": ["../data/news.jsonl"]}))
    config = load_config(
        write_config(tmp_path / "run.yaml", catalog, tmp_path / "out", stages={"dedup": {"enabled": True}})
    )
    with pytest.raises(ConfigError) as raised:
        run(config, ["--spill=never"])
    assert "--spill: the local runner could not finish this graph" in str(raised.value)
    assert "--spill=auto" in raised.value.hint and not (tmp_path / "out").exists()


@pytest.mark.parametrize("spill", ["always", "never"])
def test_parts_meet_in_a_flatten_through_spill_files(tmp_path: Path, spill: str):
    """Documents meeting in a Flatten (dedup's two `join: auto` branches, every source's scored
    documents) cross it as files when spilling is on (the runner holds only their names), and
    none is lost or doubled either way."""
    side = [{"id": f"s{i}", "text": "x" * i} for i in range(2500)]  # more than one spill batch
    shuffled = [{"id": "h0", "text": "y"}]
    with beam.Pipeline(options=pipeline_options([f"--spill={spill}"])) as p:
        parts = [
            p | "Side" >> beam.Create(side),
            p | "Shuffled" >> beam.Create(shuffled),
            p | "None" >> beam.Create([]),
        ]
        out = flatten_through_files(parts, str(tmp_path), "Kept")
        assert_that(out | beam.Map(lambda doc: doc["id"]), equal_to([doc["id"] for doc in side + shuffled]))
    files = list(tmp_path.glob("spill/kept-*/*.pkl"))
    assert (len(files) >= 2) if spill == "always" else not files


@pytest.mark.parametrize("spill", ["always", "never"])
def test_a_lookup_table_is_a_dict_side_input_or_its_spill_files(tmp_path: Path, monkeypatch, spill: str):
    """A Lookup gives a step the same table either way: spilled, each worker builds it from the
    batches written to the scratch directory (several here), not from one state response."""
    from rootstock.pipeline.beam.lookup import Lookup, WithLookup

    monkeypatch.setattr("rootstock.pipeline.beam.lookup.BATCH_ENTRIES", 64)
    table = {f"d{i:05d}": (i, bytes([i % 256]) * 512) for i in range(0, 950, 3)}
    docs = _docs(950)
    with beam.Pipeline(options=pipeline_options([f"--spill={spill}"])) as p:
        side = Lookup(p | "Table" >> beam.Create(sorted(table.items())), str(tmp_path), "table").side
        found = (
            p
            | "Docs" >> beam.Create(docs)
            | beam.ParDo(WithLookup(lambda d, t: [(d["id"], t[d["id"]])] if d["id"] in t else []), side)
        )
        assert_that(found, equal_to(sorted(table.items())))
    files = list((tmp_path / "spill").glob("table-*/*.pkl"))
    assert len(files) >= 5 if spill == "always" else not files


@pytest.mark.parametrize("keep", [False, True])
def test_a_lookup_table_outlives_a_bundle_only_on_a_distributed_runner(tmp_path: Path, keep: bool):
    """Local runners: one bundle per worker and stage, the table goes with it (no later step
    carries it). Distributed runners (`--spill=always`): many small bundles, built once."""
    from rootstock.pipeline.beam.lookup import TableFile, WithLookup
    from rootstock.pipeline.beam.spill import write_batch

    refs = [TableFile(write_batch([(f"k{i}", i) for i in range(j, 100, 4)], str(tmp_path)), keep) for j in range(4)]
    fn = WithLookup(lambda key, table: [table[key]])
    fn.setup()
    assert list(fn.process("k42", refs)) == [42]
    fn.finish_bundle()
    for ref in refs:
        Path(ref.file.path).unlink()
    again = list(refs)  # the next bundle's side input: another list of the same files
    if keep:
        assert list(fn.process("k97", again)) == [97]
    else:
        with pytest.raises(FileNotFoundError, match="spilled batch of 25 documents is gone"):
            list(fn.process("k97", again))
