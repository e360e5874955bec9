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
from rootstock.pipeline.beam.spill import SpillFile, read_batch, spill_enabled, through_files
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
