"""Dedup at scale: N generated documents with a known duplicate rate, through `rootstock run`.

    .venv/bin/python benchmarks/dedup.py --docs 100000 300000
    nice .venv/bin/python benchmarks/dedup.py --memory --docs 100000 300000

With --memory, it generates documents of which 40% are copies (exact or near) of earlier ones,
clusters of every size (generate_clusters), and runs ingest alone and the dedup stage alone
(default `join: auto`), each with two worker processes (`--direct_running_mode=multi_processing
--direct_num_workers=2`; `--arms` picks the runs), sampling the memory of every process of the run every 0.2 s. It prints, per N, the peak RSS
(VmHWM) of the largest SDK worker process and of the driver (the runner, holding the local
shuffles), which join each step took and on how many documents, and the ratio of the largest
N's worker peak to the smallest's (target ≤ 1.5: a worker's memory does not grow with the
corpus, whatever the duplicates). With --stages it also names, per run, the stages that raised
the peak worker's RSS most, and by how much (FnApiRunner's bundle log, timed).

For each N it generates ~2 KB documents in 7 scripts, of which 5% are exact copies (spacing
and punctuation changed) and 5% near copies (1% of words changed, true Jaccard of word 5-grams
≈ 0.9); 3% of the originals also get a planted span (60–300 bytes, a pool of spans each planted
in several documents at word boundaries). It runs the pipeline three times on FnApiRunner (one
process): ingest → Parquet only; with the dedup stage (exact + URL + template lines +
MinHash-LSH + connected components); and with its `substring` step too. It prints the wall and
CPU seconds (user + system, steadier on a shared machine) of the dedup stage (the first
difference of runs) and of the substring step (the second), docs/s of each, peak RSS, how many
planted duplicates were removed, and for the substring step: recall of planted spans (copies
removed / copies beyond the first, over kept documents), and how many of a sample of kept
documents without a planted span came out changed, and whether each lost only bytes some
other generated document holds (unexplained: 0 expected).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from benchmarks.corpus import write_bench_catalog  # noqa: E402
from benchmarks.pipeline import _descendants  # noqa: E402
from benchmarks.throughput import SYLLABLES  # noqa: E402
from rootstock.filters import substring as sub  # noqa: E402


class Planted:
    """What generate() planted: the spans, the texts of the documents holding one (by id), and
    a sample of documents without one."""

    def __init__(self):
        self.duplicates = {"exact": 0, "near": 0}
        self.spans: list[str] = []
        self.holders: dict[str, str] = {}  # id → text as generated
        self.plain: dict[str, str] = {}  # id → text, a sample of documents without a span


def generate(root: Path, docs: int, seed: int = 7) -> Planted:
    rng = random.Random(seed)
    langs = list(SYLLABLES)
    data = root / "data"
    data.mkdir(parents=True)
    files = [gzip.open(data / f"part-{i:03d}.jsonl.gz", "wt", encoding="utf-8", compresslevel=1) for i in range(8)]
    originals: list[tuple[str, str, str]] = []
    planted = Planted()
    for i in range(docs):
        kind = "exact" if i % 20 == 10 and originals else "near" if i % 20 == 15 and originals else "original"
        if kind == "original":
            lang = langs[i % len(langs)]
            # vocabulary of made-up words per doc (syllables run together) so unrelated documents
            # share few 5-grams and no 50-byte span but by planting
            vocab = ["".join(rng.choice(SYLLABLES[lang]) for _ in range(rng.randint(2, 4))) for _ in range(400)]
            words, size = [], 0
            while size < 2000:
                word = rng.choice(vocab)
                words.append(word)
                size += len(word.encode()) + 1
            has_span = rng.random() < 0.03
            if has_span:  # a span from the pool (70%) or a new one
                if not planted.spans or rng.random() < 0.3:
                    span, size = [], 0
                    target = rng.randint(60, 300)
                    while size < target:
                        word = "".join(rng.choice(SYLLABLES[lang]) for _ in range(rng.randint(2, 4)))
                        span.append(f"{word}{rng.randrange(10**6)}")  # numbered: no part occurs elsewhere
                        size += len(span[-1].encode()) + 1
                    planted.spans.append(" ".join(span))
                words.insert(rng.randint(0, len(words)), rng.choice(planted.spans))
            text = " ".join(words)
            originals.append((f"d{i}", lang, text))
            if has_span:
                planted.holders[f"d{i}"] = text
            elif len(planted.plain) < 5000 and rng.random() < 0.1:
                planted.plain[f"d{i}"] = text
        else:
            source, lang, source_text = rng.choice(originals)
            words = source_text.split(" ")
            if kind == "exact":
                text = "  ".join(words) + " ."
            else:
                for j in rng.sample(range(len(words)), max(1, len(words) // 100)):
                    words[j] = "zz" + words[j]
                text = " ".join(words)
            planted.duplicates[kind] += 1
            if source in planted.holders:  # a copy holds the span too, and may be its survivor
                planted.holders[f"d{i}"] = text
        files[i % len(files)].write(json.dumps({"id": f"d{i}", "text": text, "lang": lang}, ensure_ascii=False) + "\n")
    for f in files:
        f.close()
    write_bench_catalog(
        root,
        {"kind": "jsonl", "paths": ["../data/*.jsonl.gz"], "id_field": "id", "lang_field": "lang"},
        name="Dedup benchmark corpus",
        description="Generated by benchmarks/dedup.py.",
    )
    return planted


def generate_clusters(root: Path, docs: int, seed: int = 7) -> None:
    """DOCS ~2 KB documents for --memory, fast (numpy): 60% originals of words drawn from one
    vocabulary of 50,000 made-up words (unrelated documents share next to no 5-gram), 20% exact
    copies (spacing changed) and 20% near copies (1% of words changed) of earlier originals,
    drawn with a skew so that clusters of every size occur."""
    rng = np.random.default_rng(seed)
    syllables = [s for values in SYLLABLES.values() for s in values]
    vocab = np.array(
        ["".join(rng.choice(syllables, size=int(rng.integers(2, 5)))) for _ in range(50_000)], dtype=object
    )
    data = root / "data"
    data.mkdir(parents=True)
    files = [gzip.open(data / f"part-{i:03d}.jsonl.gz", "wt", encoding="utf-8", compresslevel=1) for i in range(8)]
    originals: list[list[str]] = []
    for i in range(docs):
        slot = i % 10
        if slot < 6 or not originals:
            words = list(vocab[rng.integers(0, len(vocab), size=300)])
            originals.append(words)
            text = " ".join(words)
        else:
            source = originals[int(len(originals) * rng.random() ** 3)]  # early originals: larger clusters
            if slot < 8:
                text = "  ".join(source) + " ."
            else:
                words = list(source)
                for j in rng.choice(len(words), size=3, replace=False):
                    words[j] = "zz" + words[j]
                text = " ".join(words)
        files[i % len(files)].write(json.dumps({"id": f"d{i}", "text": text, "lang": "en"}) + "\n")
    for f in files:
        f.close()
    write_bench_catalog(
        root,
        {"kind": "jsonl", "paths": ["../data/*.jsonl.gz"], "id_field": "id", "lang_field": "lang"},
        name="Dedup memory benchmark corpus",
        description="Generated by benchmarks/dedup.py --memory.",
    )


def span_recall(root: Path, out: Path, planted: Planted, n: int = 50) -> tuple[float, int, int, int]:
    """(recall of planted spans, sampled kept documents without a planted span that changed, how
    many of those differ from what the definition removes, documents checked).

    Per span, of the k kept documents generated with it, k - 1 should lose it; recall is the
    share of those that did, over all spans. A document without a planted span may still share
    ≥ n bytes with another by chance (made-up words of a small syllable set), so each changed
    one is checked against the definition on the documents sharing an n-byte window with it:
    every window an earlier kept document (more bytes, then smaller id) also has goes.
    """
    wanted = set(planted.holders) | set(planted.plain)
    kept = {}  # id → text out, for the documents looked at (None for the others)
    for path in out.glob("data/**/*.parquet"):
        for row in pq.read_table(path, columns=["source_doc_id", "text"]).to_pylist():
            kept[row["source_doc_id"]] = row["text"] if row["source_doc_id"] in wanted else None
    should, removed = 0, 0
    for span in planted.spans:
        holders = [i for i, text in planted.holders.items() if span in text and i in kept]
        still = sum(span in kept[i] for i in holders)
        should += max(len(holders) - 1, 0)
        removed += len(holders) - still
    checked = [i for i in planted.plain if i in kept]
    changed = {i: planted.plain[i] for i in checked if kept[i] != planted.plain[i]}
    return (
        (removed / should if should else float("nan")),
        len(changed),
        _unexplained(root, kept, changed, n),
        len(checked),
    )


def _unexplained(root: Path, kept: dict[str, str | None], changed: dict[str, str], n: int) -> int:
    """How many CHANGED documents (id → text before) came out other than the definition says."""
    if not changed:
        return 0
    windows = {i: np.unique(sub.window_hashes(np.frombuffer(t.encode(), np.uint8), n)) for i, t in changed.items()}
    wanted = np.unique(np.concatenate(list(windows.values())))
    inputs = {}  # kept documents sharing a window hash with a changed one: (text as generated, its hashes)
    for path in (root / "data").glob("*.jsonl.gz"):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                doc = json.loads(line)
                if doc["id"] in kept:
                    hashes = sub.window_hashes(np.frombuffer(doc["text"].encode(), np.uint8), n)
                    shared = hashes[np.isin(hashes, wanted)]
                    if len(shared):
                        inputs[doc["id"]] = (doc["text"], np.unique(shared))
    wrong = 0
    for i, before in changed.items():
        order = sorted(
            (j for j, (_, shared) in inputs.items() if np.isin(shared, windows[i]).any()),
            key=lambda j: (-len(inputs[j][0].encode()), j),
        )
        data = [inputs[j][0].encode() for j in order]
        mine = order.index(i)
        # Only this document's windows matter: the earliest rank holding each.
        earliest = {data[mine][s : s + n]: mine for s in range(len(data[mine]) - n + 1)}
        for rank, text in enumerate(data[:mine]):
            for start in range(len(text) - n + 1):
                window = text[start : start + n]
                if window in earliest and earliest[window] > rank:
                    earliest[window] = rank
        starts = [s for s in range(len(data[mine]) - n + 1) if earliest[data[mine][s : s + n]] < mine]
        expected = sub.remove_spans(before, sub.window_spans(np.array(starts, dtype=np.int64), n)).text
        wrong += expected != kept[i]
    return wrong


def run(root: Path, name: str, stages: dict, keep: bool = False) -> tuple[float, float, float, dict]:
    """Wall seconds, CPU seconds (user + system), peak RSS in MiB of all runs so far, and the manifest."""
    config = root / f"{name}.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "release": name,
                "catalog": str(root),
                "shards": {"max_rows": 50000},
                "keep_rejected": "none",
                "stages": stages,
            }
        )
    )
    out = root / f"out-{name}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rootstock.pipeline.cli", "run", str(config), "--output", str(out)],
        check=True,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    peak = after.ru_maxrss / 1024  # MiB (Linux: KiB)
    manifest = json.loads((out / "manifest.json").read_text())
    if not keep:
        shutil.rmtree(out)
    return wall, cpu, peak, manifest


def _worker_pids(root: int) -> tuple[set[int], set[int]]:
    """(SDK worker processes, other processes) among the descendants of ROOT."""
    workers, others = set(), set()
    for pid in _descendants(root):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        (workers if b"sdk_worker_main" in cmdline else others).add(pid)
    return workers, others


def _status(pid: int, field: str = "VmHWM") -> int:
    """A memory field of /proc/PID/status in bytes (VmHWM: peak RSS so far), 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# Runs the CLI with FnApiRunner's bundle logger on: a line per bundle naming its stage, with a time.
_LOGGED_RUN = """
import logging, sys
handler = logging.FileHandler(sys.argv[1])
handler.setFormatter(logging.Formatter("%(created)f %(message)s"))
logger = logging.getLogger("apache_beam.runners.portability.fn_api_runner.fn_runner.run_bundle")
logger.addHandler(handler)
logger.setLevel(logging.DEBUG)
logger.propagate = False
from rootstock.pipeline.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _stage_rises(bundle_log: Path, samples: list[tuple[float, dict[int, int]]], top: int = 8) -> list:
    """For the worker whose RSS went highest: the stages that raised its high-water mark, and
    by how much ((stage, MiB added), largest first); what is not listed was there before."""
    starts = []
    for line in bundle_log.read_text(errors="replace").splitlines():
        stamp, _, rest = line.partition(" ")
        if rest.startswith("Running bundle for stage "):
            starts.append((float(stamp), rest.removeprefix("Running bundle for stage ").strip()))
    if not samples or not starts:
        return []
    worker = max({pid for _, rss in samples for pid in rss}, key=lambda pid: max(r.get(pid, 0) for _, r in samples))
    rises: dict[str, int] = {}
    high, i = 0, 0
    for t, rss in samples:
        while i + 1 < len(starts) and starts[i + 1][0] <= t:
            i += 1
        now = rss.get(worker, 0)
        if now > high:
            stage = starts[i][1] if starts[i][0] <= t else "(start)"
            if high:
                rises[stage] = rises.get(stage, 0) + now - high
            high = now
    ranked = sorted(rises.items(), key=lambda kv: -kv[1])[:top]
    return [(_short(stage), rise // 2**20) for stage, rise in ranked]


def _short(stage: str) -> str:
    """A fused stage's name as its first and last steps (FnApiRunner joins them all)."""
    steps = [re.sub(r"^ref_AppliedPTransform_|_\d+$", "", part) for part in re.split(r"[()+]+", stage) if part]
    return steps[0] if len(steps) == 1 else f"{steps[0]} … {steps[-1]} ({len(steps)} steps)"


def run_measured(root: Path, name: str, stages: dict, args: list[str], per_stage: bool = False) -> dict:
    """One `rootstock run` with ARGS, the peak RSS of each of its processes sampled every 0.2 s;
    with PER_STAGE, the largest worker's RSS is also attributed to the stage then running."""
    config = root / f"{name}.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "release": name,
                "catalog": str(root),
                "shards": {"max_rows": 50000},
                "keep_rejected": "none",
                "stages": stages,
            }
        )
    )
    out = root / f"out-{name}"
    cmd = [sys.executable, "-m", "rootstock.pipeline.cli", "run", str(config), "--output", str(out), *args]
    bundle_log = root / f"{name}.bundles"
    launch = [sys.executable, "-c", _LOGGED_RUN, str(bundle_log), *cmd[3:]] if per_stage else cmd
    samples: list[tuple[float, dict[int, int]]] = []
    start = time.perf_counter()
    log = (root / f"{name}.log").open("wb")
    proc = subprocess.Popen(launch, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    peaks: dict[int, int] = {}
    workers: set[int] = set()
    while proc.poll() is None:
        found, _ = _worker_pids(proc.pid)
        workers |= found
        for pid in (proc.pid, *_descendants(proc.pid)):
            peaks[pid] = max(peaks.get(pid, 0), _status(pid))
        if per_stage:
            samples.append((time.time(), {pid: _status(pid, "VmRSS") for pid in found}))
        time.sleep(0.2)
    wall = time.perf_counter() - start
    log.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{(root / f'{name}.log').read_text(errors='replace')[-4000:]}")
    manifest = json.loads((out / "manifest.json").read_text())
    shutil.rmtree(out)
    # The same record in every source's dedup step; none without the stage.
    records = {
        json.dumps(step["parameters"].get("joins"), sort_keys=True)
        for source in manifest["sources"].values()
        for step in source["processing"]
        if step["step"] == "dedup"
    }
    record = records.pop() if records else "null"
    return {
        "wall": wall,
        "worker_mib": max((peaks[p] for p in workers), default=0) / 2**20,
        "workers": len(workers),
        "driver_mib": peaks[proc.pid] / 2**20,
        "joins": json.loads(record) or [],
        "removed": sum(v for k, v in manifest["totals"]["dropped_by_reason"].items() if k.startswith("dedup:")),
        "command": " ".join(cmd),
        "stages": _stage_rises(bundle_log, samples) if per_stage else [],
    }


# ingest: no stage; dedup: the defaults (`join: auto`); shuffled: every auto choice made the shuffle.
ARMS = {
    "ingest": {},
    "dedup": {"dedup": {"enabled": True, "scope": "global"}},
    "shuffled": {"dedup": {"enabled": True, "scope": "global", "side_input_max_docs": 0}},
}


def memory(sizes: list[int], arms: list[str], per_stage: bool = False) -> None:
    """Peak worker RSS per arm and size, and the ratio of the largest size to the smallest.

    The `ingest` arm (read → Parquet, no stage) is the runner's own share: FnApiRunner hands a
    worker its part of a stage's whole input, so a local worker grows with the corpus whatever
    the stages; the `dedup` arm minus it is the dedup stage's share.
    """
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(
        f"{'docs':>8} {'arm':>7} {'wall s':>7} {'removed':>8} {'workers':>8} {'worker peak MiB':>16} "
        f"{'driver peak MiB':>16}  joins (step: documents measured → join)"
    )
    results: dict[str, list[tuple[int, dict]]] = {arm: [] for arm in arms}
    command = ""
    for n in sizes:
        root = Path(tempfile.mkdtemp(prefix="rootstock-dedup-memory-"))
        try:
            generate_clusters(root, n)
            args = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
            for arm in arms:
                r = run_measured(root, arm, ARMS[arm], args, per_stage)
                command = r["command"]
                joins = ", ".join(f"{j['step']}: {j['documents']:,} → {j['join']}" for j in r["joins"])
                print(
                    f"{n:8d} {arm:>7} {r['wall']:7.0f} {r['removed']:8d} {r['workers']:8d} {r['worker_mib']:16.0f} "
                    f"{r['driver_mib']:16.0f}  {joins}",
                    flush=True,
                )
                for stage, mib in r["stages"]:
                    print(f"{'':>17} peak worker +{mib:5d} MiB while running {stage}", flush=True)
                results[arm].append((n, r))
        finally:
            shutil.rmtree(root, ignore_errors=True)
    print(f"each run: {command.replace(str(tempfile.gettempdir()), '$TMP')}")
    for arm, runs in results.items():
        if len(runs) > 1:
            (small, a), (large, b) = runs[0], runs[-1]
            ratio = b["worker_mib"] / a["worker_mib"]
            print(
                f"{arm}: worker peak RSS {large:,} docs / {small:,} docs: {ratio:.2f} (target <= 1.5: "
                f"{'met' if ratio <= 1.5 else 'NOT met'}); driver {b['driver_mib'] / a['driver_mib']:.2f}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, nargs="+", default=[100_000, 300_000])
    ap.add_argument("--memory", action="store_true", help="peak worker memory of the dedup stage per size (see above)")
    ap.add_argument(
        "--arms", nargs="+", choices=list(ARMS), default=["ingest", "dedup"], help="with --memory: the runs per size"
    )
    ap.add_argument(
        "--stages", action="store_true", help="with --memory: the stages that raised the peak worker's RSS, per run"
    )
    args = ap.parse_args()
    if args.memory:
        memory(args.docs, args.arms, args.stages)
        return
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(
        f"{'docs':>8} {'ingest+write s':>15} {'dedup s':>8} {'dedup docs/s':>13} {'dedup CPU s':>12} "
        f"{'substring s':>12} {'substr docs/s':>14} {'substr CPU s':>13} {'peak RSS MiB':>13} {'planted':>8} "
        f"{'removed':>8} {'span recall':>12} {'plain changed':>14}"
    )
    for n in args.docs:
        root = Path(tempfile.mkdtemp(prefix="rootstock-dedup-"))
        try:
            planted = generate(root, n)
            base, base_cpu, _, _ = run(root, "base", {})
            dedup = {"enabled": True, "scope": "global"}
            wall, cpu, _, manifest = run(root, "dedup", {"dedup": dedup})
            removed = sum(v for k, v in manifest["totals"]["dropped_by_reason"].items() if k.startswith("dedup:"))
            spans = {"dedup": {**dedup, "substring": {"enabled": True}}}
            spans_wall, spans_cpu, peak, _ = run(root, "substring", spans, keep=True)
            recall, changed, unexplained, checked = span_recall(root, root / "out-substring", planted)
            # The stage's and the step's share: differences of whole runs (wall and CPU).
            stage, step = max(wall - base, 1e-9), max(spans_wall - wall, 1e-9)
            print(
                f"{n:8d} {base:15.1f} {stage:8.1f} {n / stage:13.0f} {cpu - base_cpu:12.1f} {step:12.1f} "
                f"{n / step:14.0f} {spans_cpu - cpu:13.1f} {peak:13.0f} {sum(planted.duplicates.values()):8d} "
                f"{removed:8d} {recall:12.4f} {changed:>5d} of {checked:<5d} ({unexplained} unexplained)",
                flush=True,
            )
        finally:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
