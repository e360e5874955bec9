"""`rootstock plan`: worker-hours, peak memory per worker and cost of a run, before it runs.

The job's cost is linear in its input: each stage's CPU seconds per MB of input text, measured
by benchmarks/plan_data.py on a generated multilingual corpus and shipped in
pipeline/plan/throughput.json, times the input size, spread over the machine's vCPUs and
priced by pipeline/plan/machines.json. The input size is given (`--input-bytes`) or summed from
the catalogue's file sizes (listed, never read), scaled from stored to text bytes by the ratio
the same benchmark measured per file kind on the bundled sample. Memory is the one thing that
is not linear: a worker holds the benchmark's largest SDK process once per vCPU, plus what the
config makes grow with the corpus (dedup's side-input join, the shard writer's sort buffer).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from functools import cache
from pathlib import Path
from typing import Any

from apache_beam.io.filesystems import FileSystems

from rootstock.catalog.loader import load_catalog
from rootstock.errors import ConfigError
from rootstock.pipeline.beam.shards import RUN_ROWS
from rootstock.pipeline.config import RunConfig
from rootstock.sources.files import as_pattern
from rootstock.sources.read import check_matches

DATA = Path(__file__).resolve().parents[1] / "plan"
RUNNERS = ("dataflow", "spark", "flink", "direct")
DEFAULT_MACHINE = {
    "dataflow": "n2-standard-8",
    "direct": "n2-standard-8",
    "spark": "m6i.2xlarge",
    "flink": "m6i.2xlarge",
}
DIRECTORY_KINDS = ("hf_dataset", "code_tree")  # a folder, not a file pattern: every file under it counts
MB, MIB, GIB = 1e6, 1024**2, 1024**3
# A row waiting in the shard writer: its text (up to 4 bytes a character in a Python str) and
# the dict of its ~20 columns. A deliberately round figure; the writer term is small either way.
ROW_OVERHEAD_BYTES = 1000
ROW_TEXT_FACTOR = 2
DATAFLOW_DISK_GB = 25  # a batch worker's boot disk with Dataflow Shuffle (the default in most regions)

_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:([kmgtpe])(i)?)?b?\s*", re.IGNORECASE)
_POWERS = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}


def parse_size(text: str) -> int:
    """`1.6TB`, `1600G`, `500 MiB`, `123456` → bytes. K, M, G, T, P, E are powers of 1000 (as
    corpus sizes are quoted), KiB… powers of 1024; the B is optional."""
    match = _SIZE.fullmatch(str(text))
    if match is None:
        raise ConfigError(
            f"--input-bytes: {text!r} is not a size", hint="bytes, or a number with a unit: 1.6TB, 1600G, 500MiB"
        )
    number, unit, binary = match.groups()
    base = 1024 if binary else 1000
    size = float(number) * base ** _POWERS[unit.lower()] if unit else float(number)
    if size < 1:
        raise ConfigError(f"--input-bytes: {text!r} is no input; the size must be at least 1 byte")
    return round(size)


def human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


@cache
def _load(name: str) -> dict[str, Any]:
    path = DATA / name
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: missing", hint="benchmarks/plan_data.py writes throughput.json; reinstall rootstock"
        ) from None


def throughput() -> dict[str, Any]:
    return _load("throughput.json")


def machines() -> dict[str, Any]:
    return _load("machines.json")


def machine(name: str) -> dict[str, Any]:
    known = machines()["machines"]
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        raise ConfigError(
            f"--machine-type: unknown machine type {name!r}"
            + (f" (did you mean {' or '.join(close)}?)" if close else ""),
            hint=f"known: {', '.join(known)} (pipeline/plan/machines.json)",
        )
    return {"name": name, **known[name]}


def _expansion(name: str, table: dict[str, dict]) -> tuple[float, str]:
    """Text bytes per stored byte for file NAME, by its longest matching suffix; 1 if none does."""
    for suffix in sorted(table, key=len, reverse=True):
        if name.endswith(suffix):
            return table[suffix]["text_per_stored_byte"], suffix
    return 1.0, "as stored"


def catalogue_input(config: RunConfig) -> list[dict[str, Any]]:
    """Per selected source: files, stored bytes and estimated text bytes, from a listing of its paths."""
    catalog = load_catalog(config.catalog)
    table = throughput()["expansion"]
    out = []
    for entry in catalog.select(config.sources):
        paths = catalog.resolve_paths(entry.uid)
        if entry.connector.kind in DIRECTORY_KINDS:
            patterns = [path.rstrip("/") + "/**" for path in paths]
        else:
            patterns = [as_pattern(path) for path in paths]
            check_matches(entry.uid, paths, patterns)  # a typo or a missing bucket: one line naming it
        files = {m.path: m.size_in_bytes for result in FileSystems.match(patterns) for m in result.metadata_list}
        stored = text = 0.0
        kinds: dict[str, float] = {}
        for path, size in files.items():
            factor, suffix = _expansion(path, table)
            stored, text = stored + size, text + size * factor
            kinds[suffix] = factor
        out.append(
            {
                "source": entry.uid,
                "kind": entry.connector.kind,
                "files": len(files),
                "stored_bytes": int(stored),
                "text_bytes": int(text),
                "text_per_stored_byte": kinds,
            }
        )
    return out


def _hourly(runner: str, spec: dict[str, Any]) -> tuple[float, str]:
    """USD per worker-hour of SPEC under RUNNER, and how it is priced."""
    prices = machines()
    if runner == "dataflow":
        if spec["provider"] != "gcp":
            gcp = [name for name, m in prices["machines"].items() if m["provider"] == "gcp"]
            raise ConfigError(
                f"--machine-type: {spec['name']} is not a Google Cloud machine type; Dataflow runs on Compute Engine",
                hint=f"one of {', '.join(gcp)}",
            )
        rate = prices["dataflow_batch"]
        usd = spec["vcpus"] * rate["vcpu_hour"] + spec["memory_gib"] * rate["gb_hour"]
        usd += DATAFLOW_DISK_GB * rate["pd_gb_hour"]
        return usd, (
            f"Dataflow batch: {spec['vcpus']} vCPU × ${rate['vcpu_hour']} + {spec['memory_gib']} GB × "
            f"${rate['gb_hour']} + {DATAFLOW_DISK_GB} GB disk, per hour"
        )
    if runner == "direct":
        return spec["usd_per_hour"], "one on-demand VM running the direct runner"
    if spec["provider"] == "gcp":
        extra = spec["vcpus"] * prices["dataproc_vcpu_hour"]
        return spec["usd_per_hour"] + extra, f"Dataproc: the VM + ${prices['dataproc_vcpu_hour']} per vCPU-hour"
    return spec["usd_per_hour"] + spec["emr_usd_per_hour"], "EMR on EC2: the instance + EMR's hourly price"


def _memory(config: RunConfig, spec: dict[str, Any], docs: float, clustered_share: float) -> dict[str, Any]:
    data = throughput()
    measured = data["memory"]["worker_process_peak_mib"]
    baseline = max(measured.values()) * MIB
    doc_bytes = data["corpus"]["avg_doc_bytes"]
    terms: dict[str, float] = {"measured SDK process (benchmark's largest)": baseline}
    notes = [
        f"an SDK worker process per vCPU ({spec['vcpus']}), each at the benchmark's largest peak RSS "
        f"({max(measured.values())} MiB at {max(measured, key=measured.get)} docs)"
    ]
    stages = config.stages
    if "dedup" in stages and stages.dedup.enabled:
        dedup = stages.dedup
        per_doc = data["memory"]["side_input_bytes_per_clustered_doc"]
        clustered = docs * clustered_share
        limit = getattr(dedup, "side_input_max_docs", None)
        held = clustered if dedup.join == "side_input" else 0.0
        if dedup.join == "auto" and limit is not None:
            held = clustered if clustered <= limit else 0.0  # beyond the limit the run takes the shuffle
        terms[f"dedup side input (join: {dedup.join})"] = held * per_doc
        notes.append(
            f"dedup `join: {dedup.join}`: {clustered_share:.0%} of {docs:,.0f} documents in duplicate clusters "
            f"(--clustered-share); "
            + (
                f"every process holds their decisions, {per_doc} bytes each"
                if held
                else "decisions meet documents in a shuffle, no per-process term"
                + (f" (more than side_input_max_docs {limit:,})" if dedup.join == "auto" else "")
            )
        )
    shards = config.shards
    per_shard = min(
        shards.max_rows or math.inf, (shards.max_bytes or math.inf) / doc_bytes, max(docs, 1)
    )  # rows in one shard
    buffered = min(RUN_ROWS, per_shard) + min(shards.row_group_rows, per_shard)
    terms["shard writer (sort run + row group)"] = buffered * (doc_bytes * ROW_TEXT_FACTOR + ROW_OVERHEAD_BYTES)
    notes.append(
        f"shard writer: up to {RUN_ROWS:,} rows sorted in memory plus one row group "
        f"(shards.row_group_rows {shards.row_group_rows:,}, shards.max_rows {shards.max_rows}, "
        f"shards.max_bytes {shards.max_bytes}), {doc_bytes:,} bytes of text a row"
    )
    notes.append("the terms are added as if they peaked together in every process (an upper bound)")
    per_process = sum(terms.values())
    peak = per_process * spec["vcpus"]
    fits = peak <= spec["memory_gib"] * GIB
    dedup_held = sum(v for name, v in terms.items() if name.startswith("dedup"))
    advice = None
    if not fits:
        advice = (
            "set `dedup: {join: shuffle}`, or use a machine with more memory per vCPU"
            if dedup_held > per_process / 2
            else "use a machine with more memory per vCPU (n2-highmem-8, r6i.2xlarge)"
        )
    return {
        "per_process_bytes": {name: round(v) for name, v in terms.items()},
        "processes_per_worker": spec["vcpus"],
        "peak_per_worker_bytes": round(peak),
        "machine_memory_bytes": spec["memory_gib"] * GIB,
        "fits": fits,
        "advice": advice,
        "terms": notes,
    }


def plan(
    config: RunConfig,
    *,
    input_bytes: int | None = None,
    runner: str = "dataflow",
    machine_type: str | None = None,
    clustered_share: float = 0.25,
) -> dict[str, Any]:
    """The estimate for CONFIG over INPUT_BYTES of text (default: the catalogue's files)."""
    if runner not in RUNNERS:
        raise ConfigError(f"--runner: {runner!r} is not one of {', '.join(RUNNERS)}")
    if not 0 <= clustered_share <= 1:
        raise ConfigError(f"--clustered-share: {clustered_share} is not a fraction between 0 and 1")
    spec = machine(machine_type or DEFAULT_MACHINE[runner])
    hourly, pricing = _hourly(runner, spec)
    data = throughput()
    rates = data["cpu_s_per_mb"]
    sources = None
    if input_bytes is None:
        sources = catalogue_input(config)
        input_bytes = sum(s["text_bytes"] for s in sources)
        if input_bytes < 1:
            raise ConfigError(
                f"{config.path}: the selected sources hold no input files", hint="give the size with --input-bytes"
            )
    enabled = set(config.stages.enabled())
    order = ["read", *[name for name in rates if name not in ("read", "write")], "write"]
    unmeasured = sorted(enabled - set(rates))
    rows = []
    for stage in order:
        if stage not in ("read", "write") and stage not in enabled:
            continue
        cpu_hours = rates[stage] * input_bytes / MB / 3600
        worker_hours = cpu_hours / spec["vcpus"]
        rows.append(
            {
                "stage": stage,
                "cpu_s_per_mb": rates[stage],
                "cpu_hours": cpu_hours,
                "worker_hours": worker_hours,
                "cost_usd": worker_hours * hourly,
            }
        )
    totals = {key: sum(row[key] for row in rows) for key in ("cpu_s_per_mb", "cpu_hours", "worker_hours", "cost_usd")}
    docs = input_bytes / data["corpus"]["avg_doc_bytes"]
    memory = _memory(config, spec, docs, clustered_share)
    assumptions = [
        f"CPU seconds per MB of input text measured by `{data['command']}` on {data['measured_at']} "
        f"({data['runner']}, {data['machine']['processor']}); one vCPU does the work of one core of that machine",
        "cost is linear in input bytes; every vCPU is busy for the whole run (no idle or start-up time, "
        "no autoscaling lag), so wall time ≈ worker-hours ÷ workers",
        f"documents average {data['corpus']['avg_doc_bytes']:,} bytes of text (the benchmark corpus), "
        f"so {human(input_bytes)} ≈ {docs:,.0f} documents",
        f"{pricing}: ${hourly:.4f} per worker-hour, on-demand list price ({machines()['recorded']}); "
        "storage, network, Shuffle and per-job fees are not included",
        "stage settings as benchmarked (defaults, no per-source cleaning steps in the catalogue): ftfy and other "
        "cleaning steps, perplexity models, substring dedup and WARC extraction cost more and are not in these rates",
    ]
    if sources is not None:
        assumptions.append(
            "input size: the catalogue's files as listed, scaled from stored to text bytes by the ratio measured "
            "on the bundled sample per file kind ("
            + ", ".join(f"{k} ×{v['text_per_stored_byte']}" for k, v in data["expansion"].items())
            + ")"
        )
    if runner == "direct":
        assumptions.append(
            f"the direct runner uses one machine: about {totals['worker_hours']:,.1f} hours of wall time"
        )
    else:
        assumptions.append(
            "one SDK process per vCPU (Dataflow's default for Python; on Spark and Flink set "
            "--sdk_worker_parallelism to the executor's cores)"
        )
    noise = [stage for stage, how in data.get("method", {}).items() if how.startswith("below") and stage in enabled]
    if noise:
        assumptions.append(f"{', '.join(noise)}: what it added was below the benchmark's noise, counted as 0")
    if unmeasured:
        assumptions.append(f"not estimated (no measurement): {', '.join(unmeasured)}")
    config_stages = config.stages
    if "quality" in enabled and config_stages.quality.perplexity:
        assumptions.append("quality.perplexity is set: KenLM scoring is not in the measured quality rate")
    if "dedup" in enabled and config_stages.dedup.substring.enabled:
        assumptions.append("dedup.substring is enabled: its span shuffle is not in the measured dedup rate")
    return {
        "config": config.path,
        "input": {"text_bytes": input_bytes, "from": "catalogue" if sources is not None else "--input-bytes"},
        "sources": sources,
        "runner": runner,
        "machine": {**spec, "usd_per_worker_hour": hourly, "pricing": pricing},
        "stages": rows,
        "totals": totals,
        "memory": memory,
        "assumptions": assumptions,
        "throughput_data": {k: data[k] for k in ("command", "measured_at", "runner", "machine")},
    }
