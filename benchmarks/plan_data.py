"""Measure what `rootstock plan` extrapolates from, and write it to pipeline/plan/throughput.json.

    .venv/bin/python benchmarks/plan_data.py                          # 2,000 and 8,000 docs, 2 workers (~12 min idle)
    .venv/bin/python benchmarks/plan_data.py --docs 3000 12000 --out /tmp/throughput.json
    .venv/bin/python benchmarks/plan_data.py --workdir /tmp/plan-data   # resumable

Per-stage CPU seconds per MB of input text, by cumulative stage ablation (benchmarks/pipeline.py's
machinery: the generated multilingual corpus of benchmarks/corpus.py, `rootstock run` on
FnApiRunner multi-processing, CPU = user + system of the whole process tree): the run with no
stage (read → Parquet), then clean, langid, quality, dedup and pii switched on one after the
other. A stage's cost is what switching it on added; its rate is the slope of that cost between
the two corpus sizes, so fixed costs (Beam's start, model loading) drop out. The read → Parquet
cost is split into read and write in the proportion of the read kernel (gzip + JSON parse) and
the write kernel (zstd Parquet) measured in this process on the larger corpus. `--workdir DIR`
keeps the corpora and each measured run, so an interrupted measurement resumes where it stopped.

Memory: the largest SDK worker process's peak RSS (VmHWM) of the full run at each size, and the
bytes one clustered document costs in the dedup stage's side-input dicts (`join: side_input`,
pipeline/stages/dedup/survivors.py), measured with tracemalloc on unpickled dicts of that shape.

Expansion: stored bytes → input text bytes per file kind, measured on the bundled sample
(catalog/data): what `rootstock plan` multiplies a catalogue's file sizes by.
"""

from __future__ import annotations

import argparse
import bz2
import datetime
import gzip
import json
import os
import pickle
import platform
import shlex
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:] = [str(REPO)] + [p for p in sys.path if p and Path(p).resolve() != HERE]

from benchmarks import pipeline as bench  # noqa: E402

OUT = REPO / "pipeline" / "plan" / "throughput.json"
REPEATS = 10
SAMPLE = REPO / "catalog" / "data"
MB = 1e6


# The built-in stages that run on their defaults once enabled, as ROOTS ran them; a stage that
# needs inputs of its own (decontaminate: evaluation sets) is not measured.
MEASURED = ("clean", "langid", "quality", "dedup", "pii")


def stage_names() -> list[str]:
    from rootstock.pipeline.stages.registry import BUILTIN_NAMES

    return [name for name in BUILTIN_NAMES if name in MEASURED]


def config_for(root: Path, corpus_dir: Path, enabled: list[str], name: str) -> Path:
    """benchmarks/pipeline.py's run config, with every built-in stage named (clean is on by default)."""
    import yaml

    from benchmarks.corpus import write_bench_catalog

    connector = {
        "kind": "jsonl",
        "paths": [str(corpus_dir / "*.jsonl.gz")],
        "text_field": "text",
        "id_field": "id",
        "url_field": "url",
    }
    catalog = write_bench_catalog(
        root / "catalog", connector, name="Benchmark corpus", description="benchmarks/plan_data.py", pii="redact"
    )
    config = root / f"{name}.yaml"
    stages = {stage: {"enabled": stage in enabled} for stage in stage_names()}  # any other: its default
    config.write_text(
        yaml.safe_dump({"release": "plan", "catalog": str(catalog), "keep_rejected": "none", "stages": stages})
    )
    return config


def run(root: Path, corpus_dir: Path, enabled: list[str], workers: int, name: str) -> dict:
    """One measured `rootstock run`; kept under ROOT/results, so a rerun with the same --workdir
    measures only what is missing."""
    kept = root / "results" / f"{name}.json"
    if kept.exists():
        return {**json.loads(kept.read_text()), "reused": True}
    result = _run(root, corpus_dir, enabled, workers, name)
    kept.parent.mkdir(exist_ok=True)
    kept.write_text(json.dumps(result))
    return result


def _run(root: Path, corpus_dir: Path, enabled: list[str], workers: int, name: str) -> dict:
    config = config_for(root, corpus_dir, enabled, name)
    out = root / f"out-{name}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "rootstock.pipeline.cli", "run", str(config), "--output", str(out)]
    for attempt in range(3):
        try:
            result = bench.measure([*cmd, *bench.beam_args(workers)], root / f"{name}.log")
            break
        except RuntimeError as err:  # a checkout others are editing can be briefly broken: say so, try again
            if attempt == 2:
                raise
            print(f"    run failed, again in 30 s: {str(err).splitlines()[-1]}", flush=True)
            time.sleep(30)
    shutil.rmtree(out, ignore_errors=True)
    return result


def ablation(root: Path, docs: int, workers: int, seed: int) -> dict:
    corpus_dir, stats = bench.prepare_corpus(root, docs, 8, seed, None)
    stages = stage_names()
    steps = []
    for k in range(len(stages) + 1):
        enabled = stages[:k]
        label = "+".join(enabled) or "read+write"
        print(f"  {docs} docs: {label} …", flush=True)
        steps.append({"enabled": enabled, **run(root, corpus_dir, enabled, workers, f"d{docs}-{k}")})
        print(f"    {steps[-1]['cpu_s']:.1f} CPU s, {steps[-1]['wall_s']:.1f} s wall", flush=True)
    stored = sum(p.stat().st_size for p in corpus_dir.glob("*.jsonl.gz"))
    return {"docs": stats["docs"], "text_bytes": stats["bytes"], "stored_bytes": stored, "steps": steps}


def stage_costs(result: dict) -> dict[str, float]:
    """CPU seconds each stage added (read+write: the run with no stage)."""
    steps = result["steps"]
    costs = {"read+write": steps[0]["cpu_s"]}
    for prev, step in zip(steps, steps[1:], strict=False):
        costs[step["enabled"][-1]] = step["cpu_s"] - prev["cpu_s"]
    return costs


def rates(small: dict, large: dict, read_share: float) -> tuple[dict, dict]:
    """CPU s per MB of text per stage: the slope between the sizes (the large run's mean where noise
    makes the slope non-positive, an upper bound since it keeps the fixed cost; 0 where even that is)."""
    a, b = stage_costs(small), stage_costs(large)
    span = (large["text_bytes"] - small["text_bytes"]) / MB
    out, how = {}, {}
    for stage in b:
        slope = (b[stage] - a[stage]) / span
        if slope > 0:
            out[stage], how[stage] = slope, "slope"
        elif b[stage] > 0:
            out[stage], how[stage] = b[stage] / (large["text_bytes"] / MB), "mean of the larger run (slope below noise)"
        else:  # what the stage adds is below what separates two runs of the same job
            out[stage], how[stage] = 0.0, "below the noise of the ablation"
    both = out.pop("read+write")
    out = {"read": both * read_share, **out, "write": both * (1 - read_share)}
    method = how.pop("read+write")
    how = {"read": method, **how, "write": method}
    return out, how


def read_share(root: Path, docs: int, seed: int) -> tuple[float, dict]:
    """The read kernel (gzip + JSON parse of the corpus files) and the write kernel (the same rows
    as zstd Parquet in row groups of 10,000, as the shard writer's defaults), CPU seconds in this
    process: the proportion the read → Parquet run's cost is split in."""
    import gzip

    import orjson
    import pyarrow as pa
    import pyarrow.parquet as pq

    corpus_dir, _ = bench.prepare_corpus(root, docs, 8, seed, None)
    read = write = 0.0
    for _ in range(REPEATS):  # each takes a fraction of a second: summed over repeats, less noisy
        start = time.process_time()
        rows = []
        for path in sorted(corpus_dir.glob("*.jsonl.gz")):
            with gzip.open(path, "rb") as handle:
                rows += [orjson.loads(line) for line in handle]
        read += time.process_time() - start
        start = time.process_time()
        table = pa.Table.from_pylist([{"id": r["id"], "text": r["text"], "url": r.get("url")} for r in rows])
        pq.write_table(table, root / "split.parquet", compression="zstd", row_group_size=10_000)
        write += time.process_time() - start
    return read / (read + write), {"read + parse": round(read, 3), "parquet write": round(write, 3), "repeats": REPEATS}


def side_input_bytes(n: int = 20_000) -> float:
    """Bytes one clustered document takes in the two side-input dicts of `join: side_input`
    (id → cluster root, id → decision), as unpickled on a worker (no string shared)."""
    ids = [f"bench/{i:012d}-{'x' * 24}" for i in range(n)]
    roots = {doc: ids[i - i % 4] for i, doc in enumerate(ids)}
    decisions = {
        doc: {"dup_cluster_id": root, "dup_cluster_size": 4, "dup_survivor_id": root, "reason": "exact"}
        for doc, root in roots.items()
    }
    blob = pickle.dumps((list(roots.items()), list(decisions.items())))
    tracemalloc.start()
    pairs = pickle.loads(blob)
    loaded = (dict(pairs[0]), dict(pairs[1]))
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del loaded
    return size / n


def expansion() -> dict[str, dict]:
    """Input text bytes per stored byte, per file kind of the bundled sample."""
    import pyarrow.parquet as pq
    import zstandard

    from rootstock.sources import warc

    found: dict[str, list[int]] = {}

    def add(kind: str, path: Path, text: int) -> None:
        stored, total = found.setdefault(kind, [0, 0])
        found[kind] = [stored + path.stat().st_size, total + text]

    for path in SAMPLE.rglob("*"):
        name = path.name
        if name.endswith(".warc.gz"):
            units = warc.iter_unit(("file", str(path)), [str(path)], warc.WarcOptions())
            add(".warc.gz", path, sum(len(r["text"].encode()) for _, _, r in units if isinstance(r, dict)))
        elif name.endswith(".gz"):
            add(".gz", path, len(gzip.decompress(path.read_bytes())))
        elif name.endswith(".zst"):
            add(".zst", path, len(zstandard.ZstdDecompressor().decompressobj().decompress(path.read_bytes())))
        elif name.endswith(".xml.bz2"):
            add(".bz2", path, len(bz2.decompress(path.read_bytes())))
        elif name.endswith(".parquet"):
            text = pq.read_table(path, columns=["text"]).column("text")
            add(".parquet", path, sum(len(t.as_py().encode()) for t in text))
    return {
        kind: {"text_per_stored_byte": round(text / stored, 3), "sample_stored_bytes": stored}
        for kind, (stored, text) in sorted(found.items())
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, nargs=2, default=[2000, 8000], metavar=("SMALL", "LARGE"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", type=Path, default=OUT, help=f"default {OUT.relative_to(REPO)}")
    ap.add_argument("--workdir", type=Path, help="keep corpora and measured runs here; a rerun reuses them")
    args = ap.parse_args()
    small_n, large_n = sorted(args.docs)
    if small_n == large_n:
        ap.error("--docs needs two different sizes")
    command = shlex.join([".venv/bin/python", "benchmarks/plan_data.py", *sys.argv[1:]])
    print(f"command: {command}", flush=True)
    bench._become_subreaper()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="rootstock-plan-data-"))
    root.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()
    try:
        small = ablation(root, small_n, args.workers, args.seed)
        large = ablation(root, large_n, args.workers, args.seed)
        share, kernels = read_share(root, large_n, args.seed)
    finally:
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    per_mb, method = rates(small, large, share)
    full = {n: r["steps"][-1] for n, r in ((small_n, small), (large_n, large))}
    data = {
        "about": (
            "Measured by benchmarks/plan_data.py; read by `rootstock plan` (pipeline/jobs/plan.py). "
            "Rates are CPU seconds per MB (1e6 bytes) of input text."
        ),
        "command": command,
        "measured_at": datetime.date.today().isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "processor": _cpu_model(),
            "python": platform.python_version(),
            "loadavg_start": [round(x, 2) for x in load_start],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        },
        "runner": f"FnApiRunner multi_processing, {args.workers} workers",
        "corpus": {
            "made_by": "benchmarks/corpus.py (13 languages, ~2 KB documents, 5% exact + 5% near duplicates)",
            "sizes": [
                {"docs": r["docs"], "text_bytes": r["text_bytes"], "stored_bytes": r["stored_bytes"]}
                for r in (small, large)
            ],
            "avg_doc_bytes": round(large["text_bytes"] / large["docs"]),
        },
        "reused_runs": {  # runs read back from --workdir rather than measured by this invocation
            f"{r['docs']} docs, {'+'.join(step['enabled']) or 'read+write'}": step.get("from", "an earlier invocation")
            for r in (small, large)
            for step in r["steps"]
            if step.get("reused")
        },
        "cpu_s_per_mb": {stage: round(v, 4) for stage, v in per_mb.items()},
        "method": method,
        "read_write_split": {"read_share": round(share, 3), "kernel_cpu_s": kernels},
        "ablation_cpu_s": {
            str(n): {k: round(v, 2) for k, v in stage_costs(r).items()} for n, r in ((small_n, small), (large_n, large))
        },
        "memory": {
            "worker_process_peak_mib": {str(n): round(s["max_process_hwm_mib"]) for n, s in full.items()},
            "tree_rss_peak_mib": {str(n): round(s["peak_tree_rss_mib"]) for n, s in full.items()},
            "side_input_bytes_per_clustered_doc": round(side_input_bytes()),
        },
        "expansion": expansion(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    print(f"\n{'stage':10} {'CPU s/MB':>9}  how")
    for stage, value in per_mb.items():
        print(f"{stage:10} {value:9.3f}  {method[stage]}")
    print(f"total      {sum(per_mb.values()):9.3f}")
    mem = data["memory"]
    print(f"largest worker process peak RSS: {mem['worker_process_peak_mib']} MiB")
    print(f"side input per clustered document: {mem['side_input_bytes_per_clustered_doc']} bytes")
    print(f"written to {args.out}")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    main()
