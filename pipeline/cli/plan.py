"""`rootstock plan`: what a run will cost before it starts (pipeline/jobs/plan.py)."""

from __future__ import annotations

import json
import sys

from rootstock.pipeline.cli.tables import text_table
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.plan import DEFAULT_MACHINE, GIB, RUNNERS, human, parse_size, plan


def cmd_plan(args) -> int:
    # `output` is not needed to plan; a placeholder spares configs that leave it to --output.
    config = load_config(args.config, output=".")
    size = parse_size(args.input_bytes) if args.input_bytes is not None else None
    result = plan(
        config,
        input_bytes=size,
        runner=args.runner,
        machine_type=args.machine_type,
        clustered_share=args.clustered_share,
    )
    if args.json:
        json.dump(result, sys.stdout, indent=1)
        print()
    else:
        print_plan(result)
    return 0


def _gib(n: float) -> str:
    return f"{n / GIB:,.1f} GiB" if n >= GIB else f"{n / 1024**2:,.0f} MiB"


def _stage_row(name: str, r: dict) -> list[str]:
    return [
        name,
        f"{r['cpu_s_per_mb']:.3f}",
        f"{r['cpu_hours']:,.1f}",
        f"{r['worker_hours']:,.1f}",
        f"{r['cost_usd']:,.2f}",
    ]


def print_plan(result: dict, out=None) -> None:
    out = out or sys.stdout
    m = result["machine"]
    source = result["input"]["from"]
    print(
        f"{human(result['input']['text_bytes'])} of input text ({source}) on {result['runner']}, {m['name']} "
        f"({m['vcpus']} vCPU, {m['memory_gib']} GiB, ${m['usd_per_worker_hour']:.4f} per worker-hour)\n",
        file=out,
    )
    if result["sources"]:
        rows = [
            [s["source"], s["kind"], s["files"], human(s["stored_bytes"]), human(s["text_bytes"])]
            for s in result["sources"]
        ]
        print(text_table(rows, ["source", "kind", "files", "stored", "text (est.)"]) + "\n", file=out)
    rows = [_stage_row(r["stage"], r) for r in result["stages"]] + [_stage_row("total", result["totals"])]
    print(text_table(rows, ["stage", "CPU s/MB", "CPU-hours", "worker-hours", "cost USD"]), file=out)
    mem = result["memory"]
    verdict = "fits" if mem["fits"] else f"does NOT fit: {mem['advice']}"
    print(
        f"\npeak memory per worker: {_gib(mem['peak_per_worker_bytes'])} of {_gib(mem['machine_memory_bytes'])} "
        f"({verdict})",
        file=out,
    )
    parts = " + ".join(f"{name} {_gib(v)}" for name, v in mem["per_process_bytes"].items())
    print(f"  per process: {parts}; × {mem['processes_per_worker']} processes", file=out)
    for note in mem["terms"]:
        print(f"  - {note}", file=out)
    print("\nassumptions:", file=out)
    for line in result["assumptions"]:
        print(f"  - {line}", file=out)


def add_parsers(sub) -> None:
    p = sub.add_parser(
        "plan",
        help="estimate worker-hours, peak memory per worker and cost of a run",
        description=(
            "Estimate CPU-hours, worker-hours and cost per stage, and peak memory per worker, for CONFIG "
            "on a runner and machine type, from the per-stage throughput rootstock's benchmarks measured "
            "(pipeline/plan/throughput.json). Without --input-bytes, the catalogue's file sizes are summed "
            "(listed, not read)."
        ),
    )
    p.add_argument("config", help="run config (YAML), as for `rootstock run`")
    p.add_argument(
        "--input-bytes",
        metavar="SIZE",
        help="input text size: bytes or 1.6TB, 1600G, 500MiB (default: the catalogue's file sizes)",
    )
    p.add_argument("--runner", choices=RUNNERS, default="dataflow", help="default: dataflow")
    p.add_argument(
        "--machine-type",
        metavar="TYPE",
        help="worker machine type, e.g. n2-standard-8, m6i.2xlarge (default: "
        + ", ".join(f"{runner} {name}" for runner, name in DEFAULT_MACHINE.items())
        + ")",
    )
    p.add_argument(
        "--clustered-share",
        type=float,
        default=0.25,
        metavar="F",
        help="share of documents in a duplicate cluster, for dedup's side-input memory (default 0.25)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_plan)
