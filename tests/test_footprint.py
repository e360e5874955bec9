"""The footprint a run records (pipeline/release/footprint.py): CPU per stage that adds up to the
run's, energy from codecarbon's offline tracker, emissions at the configured grid intensity, the
card's "Environmental impact" section; nothing written outside the release, nothing fetched."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import StandardOptions
from codecarbon.core.emissions import Emissions
from codecarbon.input import DataSource
from sample_texts import topic_sentences

from rootstock.errors import ConfigError
from rootstock.pipeline.beam.options import pipeline_options, runner_record
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from rootstock.pipeline.jobs.train_tokenizer import train_tokenizer
from rootstock.pipeline.release.footprint import (
    WATTS_PER_VCPU,
    Footprint,
    FootprintSettings,
    StageClock,
    is_local,
    stage_times,
)
from rootstock.pipeline.release.manifest import schema_problems
from rootstock.pipeline.release.verify import verify
from rootstock.pipeline.stages.base import Timed
from tests.conftest import MULTI_PROCESS, entry, write_catalog, write_config

ONE_WORKER = ["--direct_num_workers=1"]
SENTENCES = 8


def _corpus(root: Path) -> Path:
    """English and French documents of the bundled sample's prose, some with an e-mail address,
    two copied: every stage of the run has work to do."""
    rng = random.Random(5)
    records = []
    for lang in ("en", "fr"):
        pool = topic_sentences(lang, fill="7")
        for i in range(40):
            body = rng.sample(pool, SENTENCES)
            if i % 8 == 0:
                body.insert(2, f"Write to clerk{i}@example.org for the minutes.")
            records.append({"id": f"{lang}-{i}", "text": " ".join(body)})
    records += [{**records[1], "id": "copy-1"}, {**records[50], "id": "copy-2"}]
    data = root / "catalog" / "data"
    data.mkdir(parents=True)
    (data / "news.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    connector = {"kind": "jsonl", "paths": ["../data/news.jsonl"], "id_field": "id"}
    return write_catalog(
        root / "catalog",
        entry("news", connector, languages=["en", "fr"], pii={"likelihood": "somewhat_likely", "policy": "redact"}),
    )


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> tuple[Path, Path]:
    """A run with langid and quality (inside the read units), dedup, then pii (its own ParDo),
    launched from a working directory of its own, which must stay empty."""
    root = tmp_path_factory.mktemp("footprint")
    stages = {
        "langid": {"enabled": True},
        "quality": {"enabled": True},
        "pii": {"enabled": True},
    }
    config = write_config(
        root / "run.yaml", _corpus(root), root / "release", stages=stages, footprint={"country": "fra"}
    )
    cwd = root / "cwd"
    cwd.mkdir()
    before = os.getcwd()
    os.chdir(cwd)
    try:
        run(load_config(config), ONE_WORKER, quiet=True)
    finally:
        os.chdir(before)
    return root / "release", cwd


def test_stages_and_other_add_up_to_the_runs_cpu(release):
    out, _ = release
    manifest = json.loads((out / "manifest.json").read_text())
    assert not schema_problems(manifest)
    fp = manifest["footprint"]
    assert fp["job"] == "run" and fp["estimate"] is False
    names = [s["name"] for s in fp["stages"]]
    assert {"langid", "quality", "pii"} <= set(names)  # the read units' stages and pii's own ParDo
    for stage in fp["stages"]:
        assert stage["cpu_seconds"] >= 0 and stage["wall_seconds"] >= 0
    assert next(s for s in fp["stages"] if s["name"] == "langid")["cpu_seconds"] > 0
    assert next(s for s in fp["stages"] if s["name"] == "pii")["cpu_seconds"] > 0
    assert sum(s["cpu_seconds"] for s in fp["stages"]) + fp["other_cpu_seconds"] == pytest.approx(
        fp["cpu_seconds"], abs=1e-6
    )
    assert fp["other_cpu_seconds"] > 0  # reading, dedup's joins, writing
    # A process cannot use more CPU than its wall time on every core.
    assert fp["cpu_seconds"] <= fp["wall_seconds"] * os.cpu_count() + 0.01
    assert fp["energy_kwh"] > 0 and "codecarbon" in fp["tracker"]


def test_emissions_use_the_countrys_intensity(release):
    out, _ = release
    fp = json.loads((out / "manifest.json").read_text())["footprint"]
    france = DataSource().get_global_energy_mix_data()["FRA"]
    expected = Emissions._global_energy_mix_to_emissions_rate(france).kgs_per_kWh * 1000
    assert fp["carbon_intensity"]["country"] == "FRA"
    assert fp["carbon_intensity"]["g_co2eq_per_kwh"] == pytest.approx(expected, abs=1e-3)
    assert fp["emissions_kg_co2eq"] == pytest.approx(
        fp["energy_kwh"] * fp["carbon_intensity"]["g_co2eq_per_kwh"] / 1000
    )


def test_card_shows_the_footprint(release):
    out, _ = release
    manifest = json.loads((out / "manifest.json").read_text())
    fp = manifest["footprint"]
    card = (out / "README.md").read_text()
    section = card.split("## Environmental impact", 1)[1]
    assert f"{fp['cpu_seconds']:,.1f} CPU seconds" in section and f"{fp['energy_kwh']:.3g} kWh" in section
    for stage in fp["stages"]:
        assert f"| {stage['name']} | {stage['cpu_seconds']:,.1f} |" in section
    assert f"| other | {fp['other_cpu_seconds']:,.1f} |" in section
    assert "estimates" not in section
    assert verify(str(out))[1] == []  # the card regenerates from the manifest, footprint included


def test_nothing_is_written_outside_the_release(release):
    out, cwd = release
    assert list(cwd.iterdir()) == []  # codecarbon's emissions.csv, say
    assert not list(out.rglob("*.csv")) and not (out / "_work").exists()


def test_the_footprint_settings_are_not_part_of_the_config_hash(release, tmp_path):
    out, _ = release
    manifest = json.loads((out / "manifest.json").read_text())
    catalog = Path(manifest["config"]["catalog"])
    a = load_config(write_config(tmp_path / "a.yaml", catalog, tmp_path / "o", footprint={"carbon_intensity": 20}))
    b = load_config(write_config(tmp_path / "b.yaml", catalog, tmp_path / "o"))
    assert a.sha256() == b.sha256() and a.footprint.carbon_intensity == 20


def test_an_unknown_country_is_a_config_error(tmp_path):
    config = write_config(tmp_path / "run.yaml", tmp_path, tmp_path / "o", footprint={"country": "FRX"})
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert "footprint.country" in str(err.value) and "ISO alpha-3" in str(err.value)


def _runner(args: list[str]) -> dict:
    """The runner record a manifest keeps, as `execute` makes it."""
    options = pipeline_options(args)
    return {"runner": options.view_as(StandardOptions).runner, **runner_record(options)}


def test_which_runners_are_measured_and_which_estimated():
    local = [
        [],
        ["--direct_running_mode=multi_threading"],
        ["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"],
    ]
    remote = [
        ["--direct_running_mode=multi_processing", "--direct_num_workers=2"],
        ["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=EXTERNAL"],
        ["--runner=DataflowRunner", "--num_workers=3"],
    ]
    assert [is_local(_runner(args)) for args in local] == [True] * 3
    assert [is_local(_runner(args)) for args in remote] == [False] * 3


def test_remote_workers_are_estimated_from_worker_hours_and_machine_type(tmp_path):
    footprint = Footprint("run", str(tmp_path)).start()
    footprint.add_stages({"langid": {"cpu": 2.5, "wall": 3.0}})
    runner = {"runner": "DataflowRunner", "num_workers": 4, "machine_type": "n1-standard-8"}
    fp = footprint.finish(runner, FootprintSettings(carbon_intensity=100, pue=1.2))
    workers = fp["workers"]
    assert fp["estimate"] is True and "estimate" in fp["method"]
    assert workers["count"] == 4 and workers["vcpus"] == 8
    assert workers["worker_hours"] == pytest.approx(4 * fp["wall_seconds"] / 3600, abs=1e-6)
    assert fp["energy_kwh"] == pytest.approx(workers["worker_hours"] * 8 * WATTS_PER_VCPU / 1000 * 1.2)
    assert fp["emissions_kg_co2eq"] == pytest.approx(fp["energy_kwh"] * 100 / 1000)
    assert fp["carbon_intensity"]["source"] == "run config"
    # The stage's measured CPU is kept, and stages + other still add up.
    assert fp["stages"] == [{"name": "langid", "cpu_seconds": 2.5, "wall_seconds": 3.0}]
    assert fp["cpu_seconds"] == pytest.approx(2.5 + fp["other_cpu_seconds"], abs=1e-6)
    assert list(tmp_path.iterdir()) == []
    # Local worker processes: as many workers as the runner starts, the machine type unknown.
    local = Footprint("run", str(tmp_path)).start().finish(_runner(MULTI_PROCESS))
    assert local["estimate"] and local["workers"]["count"] == 2 and "1 vCPU per worker" in local["method"]


class _Light(beam.DoFn):
    def process(self, n):
        yield n


def _spin(n):
    return sum(range(20_000 + n))


def test_a_stage_is_not_billed_for_the_fused_work_downstream():
    """A cheap stage whose output feeds an expensive step in the same fused stage: the time the
    runner spends downstream between the cheap stage's outputs is not the cheap stage's."""
    clock = StageClock("heavy")

    def heavy(n):
        with clock.measure():
            return _spin(n)

    with beam.Pipeline(options=pipeline_options(ONE_WORKER)) as p:
        _ = p | beam.Create(range(300)) | beam.ParDo(Timed(_Light(), "light")) | beam.Map(heavy)
    times = stage_times(p.result)
    assert times["heavy"]["cpu"] > 0
    assert times["light"]["cpu"] < times["heavy"]["cpu"] / 5


def test_tokenizer_training_records_its_phases(release, tmp_path):
    out, _ = release
    card = train_tokenizer(str(out), tmp_path / "tok", vocab_size=400, threads=1, beam_args=ONE_WORKER)
    fp = card["footprint"]
    assert fp["job"] == "tokenizer" and [s["name"] for s in fp["stages"]] == ["sample", "train"]
    assert all(s["cpu_seconds"] > 0 for s in fp["stages"])
    assert sum(s["cpu_seconds"] for s in fp["stages"]) + fp["other_cpu_seconds"] == pytest.approx(
        fp["cpu_seconds"], abs=1e-6
    )
    assert json.loads((tmp_path / "tok" / "tokenizer_card.json").read_text())["footprint"] == fp
    assert f"{fp['energy_kwh']:.3g} kWh" in (tmp_path / "tok" / "README.md").read_text()
