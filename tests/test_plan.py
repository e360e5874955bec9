"""`rootstock plan`: estimates from the shipped benchmark data, on the bundled sample's catalogue."""

from __future__ import annotations

import json

import pytest

from rootstock.catalog.loader import load_catalog
from rootstock.errors import ConfigError
from rootstock.pipeline.cli import main
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs import plan as p
from rootstock.pipeline.stages.registry import BUILTIN_NAMES
from tests.conftest import CATALOG, DEMO_CONFIG, write_config

ROOTS = 1_614_479_114_961  # ROOTS's bytes of text (BLOOM paper, Table 1)


@pytest.fixture(scope="module")
def demo():
    return load_config(DEMO_CONFIG, output=".")


def test_the_shipped_data_covers_the_stages_and_machines(demo):
    data = p.throughput()
    assert {"read", "write", *demo.stages.enabled()} <= set(data["cpu_s_per_mb"]) <= {"read", "write", *BUILTIN_NAMES}
    assert all(rate >= 0 for rate in data["cpu_s_per_mb"].values()) and sum(data["cpu_s_per_mb"].values()) > 0
    assert data["cpu_s_per_mb"]["read"] > 0 and data["cpu_s_per_mb"]["write"] > 0
    assert data["command"].startswith(".venv/bin/python benchmarks/plan_data.py")
    assert min(data["memory"]["worker_process_peak_mib"].values()) > 0
    known = p.machines()
    for name, spec in known["machines"].items():
        assert spec["vcpus"] > 0 and spec["memory_gib"] > 0 and spec["usd_per_hour"] > 0, name
        assert spec["provider"] == "gcp" or spec["emr_usd_per_hour"] > 0, name
    assert known["recorded"] and set(known["sources"]) >= {"gcp", "aws", "dataflow", "emr", "dataproc"}


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1.6TB", 1_600_000_000_000),
        ("1600G", 1_600_000_000_000),
        ("1600 gb", 1_600_000_000_000),
        ("500MiB", 500 * 1024**2),
        ("2KiB", 2048),
        ("123456", 123_456),
        (".5M", 500_000),
    ],
)
def test_sizes_in_the_units_corpora_are_quoted_in(text, size):
    assert p.parse_size(text) == size


@pytest.mark.parametrize("text", ["lots", "1.6 TQ", "TB", "1,6TB", "-5", "0", "0.1"])
def test_a_size_that_is_not_one_is_refused(text):
    with pytest.raises(ConfigError, match="--input-bytes"):
        p.parse_size(text)


def test_estimates_scale_linearly_and_totals_add_up(demo):
    one = p.plan(demo, input_bytes=ROOTS, runner="spark", machine_type="m6i.2xlarge")
    two = p.plan(demo, input_bytes=2 * ROOTS, runner="spark", machine_type="m6i.2xlarge")
    stages = [row["stage"] for row in one["stages"]]
    assert stages == ["read", *demo.stages.enabled(), "write"]
    hourly = one["machine"]["usd_per_worker_hour"]
    for a, b in zip(one["stages"], two["stages"], strict=True):
        for key in ("cpu_hours", "worker_hours", "cost_usd"):
            assert b[key] == pytest.approx(2 * a[key], rel=1e-12)
        assert a["worker_hours"] * 8 == pytest.approx(a["cpu_hours"])
        assert a["cost_usd"] == pytest.approx(a["worker_hours"] * hourly)
    for key in ("cpu_hours", "worker_hours", "cost_usd", "cpu_s_per_mb"):
        assert one["totals"][key] == pytest.approx(sum(row[key] for row in one["stages"]))
    assert one["totals"]["cpu_hours"] == pytest.approx(one["totals"]["cpu_s_per_mb"] * ROOTS / 1e6 / 3600)
    # EMR: the instance and EMR's own hourly price
    spec = p.machines()["machines"]["m6i.2xlarge"]
    assert hourly == pytest.approx(spec["usd_per_hour"] + spec["emr_usd_per_hour"])


def test_the_runner_prices_the_same_work_differently(demo):
    plans = {
        runner: p.plan(demo, input_bytes=10**12, runner=runner, machine_type="n2-standard-8")
        for runner in ("dataflow", "spark", "direct")
    }
    hours = {runner: result["totals"]["worker_hours"] for runner, result in plans.items()}
    assert hours["dataflow"] == pytest.approx(hours["spark"]) == pytest.approx(hours["direct"])
    vm = p.machines()["machines"]["n2-standard-8"]["usd_per_hour"]
    assert plans["direct"]["machine"]["usd_per_worker_hour"] == vm
    assert plans["spark"]["machine"]["usd_per_worker_hour"] == pytest.approx(vm + 8 * 0.010)  # Dataproc
    assert plans["dataflow"]["machine"]["usd_per_worker_hour"] > vm  # Dataflow's own vCPU and GB rates


def test_catalogue_sizes_on_the_bundled_sample(demo):
    result = p.plan(demo, runner="dataflow")
    sources = {s["source"]: s for s in result["sources"]}
    assert set(sources) == {entry.uid for entry in load_catalog(CATALOG).select("all")}
    news = sorted((CATALOG / "data" / "web_news").glob("*.jsonl.gz"))
    assert sources["web_news"]["files"] == len(news)
    stored = sum(path.stat().st_size for path in news)
    assert sources["web_news"]["stored_bytes"] == stored
    gz = p.throughput()["expansion"][".gz"]["text_per_stored_byte"]
    assert sources["web_news"]["text_bytes"] == int(stored * gz)
    # a folder source (a saved dataset, a code tree): every file under it
    tree = [f for f in (CATALOG / "data" / "code_tree").rglob("*") if f.is_file()]
    assert sources["code_tree_sample"]["files"] == len(tree)
    assert sources["code_tree_sample"]["stored_bytes"] == sum(f.stat().st_size for f in tree)
    assert result["input"] == {"text_bytes": sum(s["text_bytes"] for s in sources.values()), "from": "catalogue"}
    assert any("bundled sample" in line for line in result["assumptions"])


def test_memory_follows_the_dedup_join_and_the_machine(tmp_path):
    def config(join):
        path = write_config(
            tmp_path / f"{join}.yaml", CATALOG, tmp_path / "out", stages={"dedup": {"enabled": True, "join": join}}
        )
        return load_config(path)

    side = p.plan(config("side_input"), input_bytes=ROOTS, runner="dataflow", machine_type="n2-highmem-8")
    shuffle = p.plan(config("shuffle"), input_bytes=ROOTS, runner="dataflow", machine_type="n2-highmem-8")
    held = side["memory"]["per_process_bytes"]["dedup side input (join: side_input)"]
    per_doc = p.throughput()["memory"]["side_input_bytes_per_clustered_doc"]
    docs = ROOTS / p.throughput()["corpus"]["avg_doc_bytes"]
    assert held == pytest.approx(docs * 0.25 * per_doc, rel=1e-6)
    assert shuffle["memory"]["per_process_bytes"]["dedup side input (join: shuffle)"] == 0
    assert not side["memory"]["fits"] and shuffle["memory"]["fits"]
    assert "join: shuffle" in side["memory"]["advice"] and shuffle["memory"]["advice"] is None
    assert side["memory"]["peak_per_worker_bytes"] == pytest.approx(
        8 * sum(side["memory"]["per_process_bytes"].values()), abs=8
    )
    small = p.plan(config("side_input"), input_bytes=10**9, runner="dataflow", machine_type="n2-highmem-8")
    assert small["memory"]["fits"]


def test_cli_table_and_json(capsys):
    assert main(["plan", str(DEMO_CONFIG), "--input-bytes", "1.6TB", "--runner", "spark"]) == 0
    out = capsys.readouterr().out
    assert "1.6 TB of input text (--input-bytes) on spark, m6i.2xlarge" in out
    assert "worker-hours" in out and "\ntotal " in out and "peak memory per worker" in out and "assumptions:" in out
    assert main(["plan", str(DEMO_CONFIG), "--input-bytes", "1600G", "--runner", "spark", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["input"]["text_bytes"] == 1_600_000_000_000
    assert result["machine"]["name"] == "m6i.2xlarge"
    assert [row["stage"] for row in result["stages"]][0] == "read"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--machine-type", "n2-standard-9"], "unknown machine type 'n2-standard-9' (did you mean n2-standard-8"),
        (["--runner", "dataflow", "--machine-type", "m6i.xlarge"], "m6i.xlarge is not a Google Cloud machine type"),
        (["--input-bytes", "1.6XB"], "--input-bytes: '1.6XB' is not a size"),
        (["--input-bytes", "1TB", "--clustered-share", "2"], "--clustered-share: 2.0 is not a fraction"),
    ],
)
def test_cli_mistakes_are_one_clear_line(capsys, args, message):
    assert main(["plan", str(DEMO_CONFIG), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
