"""The whole curation job, three ways on the same documents and the same number of workers.

From a fresh clone (`make install` builds .venv, ~2 min):
    .venv/bin/python benchmarks/pipeline.py                      # 20,000 generated docs, 2 workers
    .venv/bin/python benchmarks/pipeline.py --docs 3000 --no-stages          # a quick look (~1.5 min)
    .venv/bin/python benchmarks/pipeline.py --input my.jsonl.gz --json out.json
    .venv/bin/python benchmarks/pipeline.py --scaling            # rootstock alone at 100k and 300k docs
    .venv/bin/python benchmarks/pipeline.py --web                # a web crawl: WARC → langid → … → Parquet
    .venv/bin/python benchmarks/pipeline.py --web --pages 600 --no-stages    # a quick look at the web crawl

Time at the default (20,000 docs ≈ 43 MB, 2 workers), extrapolated from fixed + per-document
costs measured at 100–5,000 docs: rootstock ~1.2 min, its stage ablation ~2 min, datatrove
~3 min, floor ~0.5 min: about 7 minutes on 2 otherwise idle cores (about 5 with --no-stages;
allow 10–12 on a busy machine). `--docs 3000` took 2.5 min here. Nothing is downloaded;
everything is written under a temp dir (--workdir DIR to keep it) and removed afterwards.

Arms (each runs as its own process tree, measured from outside):
  rootstock  `rootstock run` with langid, quality, dedup (MinHash, scope source = the whole
             corpus here), pii, zstd Parquet, keep_rejected: none, on FnApiRunner
             `--direct_running_mode=multi_processing --direct_num_workers=W`.
  datatrove  datatrove 0.10.1, FineWeb-style: JsonlReader → LanguageFilter (the same local
             lid.176.ftz, threshold 0.65) → GopherRepetitionFilter → GopherQualityFilter (each
             with the detected language's word tokenizer and stop words) → JsonlWriter
             (uncompressed intermediate); then its 4 MinHash stages (5-grams, 14 buckets × 9
             hashes = rootstock's bands × rows, per-language word tokenizer), the last one
             MinhashDedupFilter → PIIFormatter → ParquetWriter(zstd). LocalPipelineExecutor,
             tasks = workers = W (bucket stage: 14 tasks on W workers; cluster stage: 1 task).
             datatrove as shipped, except: its FastTextLID reads the local model instead of
             downloading lid.176.bin (it still predicts all 176 labels on the raw text, as
             datatrove does), and a small PerLanguage wrapper picks the filter instance of
             each document's detected language (FineWeb-2 runs one pipeline per language;
             one pipeline with a switch is cheaper, so this favours datatrove).
  floor      the raw kernels, no framework, W processes (files split W ways): read + parse
             (gzip + orjson), LanguageIdentifier.predict_batch (batches of 256, as the langid
             stage) + filters.langid.decide, filters.quality modify_document + compute_metrics
             + first_failure, template-line counts, exact hash + rensa MinHash of
             filters.minhash text_signatures (batches of 256, as the dedup stage), LSH buckets +
             verification + union-find in the parent, filters.pii find_pii + redact, zstd
             Parquet write. The minimum this job costs in Python with rootstock's kernels.

Measured per arm: wall seconds (process start to exit, imports included), docs/s and MB/s of
input text, CPU seconds = user + system of the arm's whole process tree (the arm process runs
as our child and this process is a child subreaper, so Beam's SDK workers and datatrove's
forkserver workers are reaped here and their time lands in getrusage(RUSAGE_CHILDREN); the
arm's own CPU is in there too), and memory sampled from /proc every 0.2 s over the tree:
peak of the SUM of RSS over all its processes (a page shared by n processes counts n times),
peak of the sum of PSS (shared pages split between their processes: the fairer total for
forked workers), and the largest single-process high-water mark (VmHWM). The load average is
printed when other work is running: wall times are then noisy (CPU seconds less so).

Per-stage time of rootstock (`--stages`, on by default): stage ablation — the same run with
stages enabled cumulatively (ingest → Parquet, +langid, +quality, +dedup; the full run is the
last step) at the same N and W; the differences are each stage's cost in wall and CPU seconds
in the real multi-process mode, framework work (shuffles, serialisation) included. Chosen over a
profiler, which sees one process only and inflates Python-heavy code (~1.5–2× on the quality
kernels), and over in-stage timers, which rootstock's DoFns do not record (yet). It costs four
more rootstock runs (~2× the rootstock arm); `--no-stages` skips it. Beside it: the floor's kernel
seconds per stage (CPU inside the kernels, summed over its workers) and datatrove's per-block
times from its stats. `--profile` adds a cProfile of one in-process rootstock run (FnApiRunner,
one worker) split into kernel time per filters/ module versus everything else (Beam).

Targets (printed PASS/FAIL): rootstock ≥ 1.5× datatrove's docs/s; floor docs/s ÷ rootstock
docs/s ≤ 1.5; with --scaling: 300k wall ≤ 3.3× 100k wall and 300k peak tree RSS ≤ 1.5× 100k
(for other --scaling-docs the time bound scales with the size ratio: 1.1 × ratio). --scaling
generates each corpus in turn (~1 min and ~0.3 GB of JSONL.gz for 300k) and deletes it after.

Corpus: benchmarks/corpus.py (13 languages incl. Han and Devanagari, ~2.1 KB documents, 5%
exact and 5% near duplicates, PII in ~2%), or --input (resharded into --files files, so all
arms read the same files). Each arm reads the files in parallel, W ways.

Web crawl (`--web`, `--pages N`, default 4,000): the job starts from WARC files instead of
extracted text. Pages come from catalog/sample/web_pages.py (`make_pages(N, --seed)`: a known
main text in 18 languages inside news, blog, forum and product templates full of boilerplate,
served in the charsets sites use, HTTP and <meta> charsets that sometimes lie), written by
benchmarks/web.py's `write_warc` as HTTP 200 response records, one gzip member per record, over
--files WARC files. The arms:
  rootstock  the same run, the catalogue entry `kind: warc` over those files (the kind fills id
             and url; `on_error: skip`, as for a crawl): fastwarc, decode_html and the default
             HTML extractor, then the same stages, runner and workers.
  datatrove  the same FineWeb-style pipeline with WarcReader → Trafilatura (its defaults:
             favour_precision, deduplicate, a 1 s timeout per page in an extraction subprocess
             per task, whose CPU is in the tree's) in place of JsonlReader.
  floor      the same kernels, the read step being rootstock's WARC reader kernel
             (sources/warc.iter_unit: framing, fastwarc, decode_html, the default extractor).
The table adds pages (WARC records in, the same for every arm) and docs in (pages the arm's
reader and extractor turned into documents): pages/s is the like-for-like rate, docs/s counts
what each arm extracted. The datatrove arm loads each language's word tokenizer (per-language
Gopher filters, MinHash signatures) once per task: a fixed cost that weighs most at small N.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# Run as a script, this folder would come first on sys.path and this file would shadow the
# `pipeline` package: put the repository first and drop the folder.
sys.path[:] = [str(REPO)] + [p for p in sys.path if p and Path(p).resolve() != HERE]

TARGET_VS_DATATROVE = 1.5
TARGET_VS_FLOOR = 1.5
TARGET_SCALING_TIME = 3.3
TARGET_SCALING_MEMORY = 1.5
STAGES = ("langid", "quality", "dedup", "pii")
LID_BATCH = 256  # pipeline.config.LangIdSettings.batch_size
ROUTE_MIN_DEFAULT = 0.7  # LangIdSettings.route_min_default
PAGE = os.sysconf("SC_PAGE_SIZE")
MiB = 1024 * 1024


# --------------------------------------------------------------------------- process-tree meter


def _become_subreaper() -> bool:
    """Orphaned descendants (Beam workers, datatrove's forkserver children) get reparented to us."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _reap_orphans(timeout: float = 15.0) -> list[int]:
    """Wait for reparented descendants, so their CPU time is added to RUSAGE_CHILDREN."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return []
        if pid == 0:
            if time.monotonic() > deadline:
                return sorted(_descendants(os.getpid()))
            time.sleep(0.05)


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        children[int(fields[1])].append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _memory(pid: int) -> tuple[int, int, int]:
    """(RSS, PSS, VmHWM) in bytes; zeros for a process that is gone."""
    rss = pss = hwm = 0
    try:
        with open(f"/proc/{pid}/statm") as handle:
            rss = int(handle.read().split()[1]) * PAGE
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
                    break
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    return rss, pss, hwm


class TreeMeter(threading.Thread):
    """Samples the memory of every descendant of this process every `interval` seconds."""

    def __init__(self, interval: float = 0.2):
        super().__init__(daemon=True)
        self.interval = interval
        self.stop_event = threading.Event()
        self.peak_rss = self.peak_pss = self.peak_hwm = 0
        self.max_procs = self.samples = 0

    def run(self):
        me = os.getpid()
        while not self.stop_event.is_set():
            pids = _descendants(me)
            rss = pss = 0
            for pid in pids:
                r, p, h = _memory(pid)
                rss += r
                pss += p
                self.peak_hwm = max(self.peak_hwm, h)
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.max_procs = max(self.max_procs, len(pids))
            self.samples += 1
            self.stop_event.wait(self.interval)

    def stop(self):
        self.stop_event.set()
        self.join()


def measure(cmd: list[str], log: Path, env: dict | None = None) -> dict:
    """Run one arm as a child process tree; wall, CPU of the tree, sampled tree memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    meter = TreeMeter()
    meter.start()
    start = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.run(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    wall = time.perf_counter() - start
    lingering = _reap_orphans()
    meter.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-40:]
        raise RuntimeError(f"{' '.join(cmd[:6])} … failed ({proc.returncode}); log {log}:\n" + "\n".join(tail))
    return {
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "peak_tree_rss_mib": meter.peak_rss / MiB,
        "peak_tree_pss_mib": meter.peak_pss / MiB,
        "max_process_hwm_mib": meter.peak_hwm / MiB,
        "max_processes": meter.max_procs,
        "memory_samples": meter.samples,
        "lingering_pids": lingering,
    }


# --------------------------------------------------------------------------- corpus + rootstock config


def prepare_corpus(root: Path, docs: int | None, files: int, seed: int, input_path: Path | None) -> tuple[Path, dict]:
    from benchmarks import corpus

    out = root / f"corpus-{docs}"
    if out.exists():
        return out, json.loads((out / "stats.json").read_text())
    start = time.perf_counter()
    if input_path is not None:
        stats = corpus.import_corpus(input_path, out, files=files, limit=docs)
    else:
        stats = corpus.write_corpus(out, docs, files=files, seed=seed)
    stats["generate_s"] = time.perf_counter() - start
    (out / "stats.json").write_text(json.dumps(stats))
    return out, stats


def is_web(corpus_dir: Path) -> bool:
    """A corpus of WARC files (--web) rather than JSONL.gz."""
    return any(corpus_dir.glob("*.warc.gz"))


def prepare_web_corpus(root: Path, pages: int, files: int, seed: int) -> tuple[Path, dict]:
    """`pages` generated web pages (catalog/sample/web_pages.py) as HTTP 200 response records in `files` WARC files."""
    # benchmarks/web.py puts catalog/sample on sys.path and imports web_pages' make_pages from there.
    from benchmarks.web import make_pages, write_warc

    out = root / f"web-{pages}"
    if out.exists():
        return out, json.loads((out / "stats.json").read_text())
    out.mkdir(parents=True)
    start = time.perf_counter()
    made = make_pages(pages, seed)
    for k in range(files):
        write_warc(made[k::files], out / f"part-{k:05d}.warc.gz")
    stats = {
        "docs": len(made),
        "bytes": sum(len(page.html) for page in made),
        "warc_bytes": sum(path.stat().st_size for path in out.glob("*.warc.gz")),
        "files": files,
        "languages": sorted({page.lang for page in made}),
        "not_utf8": sum(page.charset != "utf-8" for page in made),
        "no_header_charset": sum(page.declared_charset is None for page in made),
        "generate_s": time.perf_counter() - start,
    }
    (out / "stats.json").write_text(json.dumps(stats))
    return out, stats


def rootstock_config(root: Path, corpus_dir: Path, stages: tuple[str, ...], name: str) -> Path:
    import yaml

    from benchmarks.corpus import write_bench_catalog

    if is_web(corpus_dir):  # the kind fills id and url; damaged records are counted and skipped, as for a crawl
        connector = {"kind": "warc", "paths": [str(corpus_dir / "*.warc.gz")], "on_error": "skip"}
    else:
        connector = {
            "kind": "jsonl",
            "paths": [str(corpus_dir / "*.jsonl.gz")],
            "text_field": "text",
            "id_field": "id",
            "url_field": "url",
        }
    catalog = write_bench_catalog(
        root / "catalog",
        connector,
        name="Benchmark corpus",
        description="Generated (or resharded) by benchmarks/pipeline.py.",
        pii="redact",
    )
    config = root / f"{name}.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "release": "bench",
                "catalog": str(catalog),
                "keep_rejected": "none",  # datatrove writes no exclusions by default either
                # clean is on by default; datatrove's pipeline has no such step, so it stays off here
                "stages": {"clean": {"enabled": False}, **{stage: {"enabled": stage in stages} for stage in STAGES}},
            },
            sort_keys=False,
        )
    )
    return config


def beam_args(workers: int) -> list[str]:
    return ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]


def run_rootstock(
    root: Path, corpus_dir: Path, workers: int, stages: tuple[str, ...] = STAGES, name: str = "rootstock"
) -> dict:
    config = rootstock_config(root, corpus_dir, stages, name)
    out = root / f"out-{name}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "rootstock.pipeline.cli",
        "run",
        str(config),
        "--output",
        str(out),
        *beam_args(workers),
    ]
    result = measure(cmd, root / f"{name}.log")
    totals = json.loads((out / "manifest.json").read_text())["totals"]
    dropped = _by_stage(totals["dropped_by_reason"])
    result.update(docs_in=totals["docs_in"], kept=totals["docs_out"], dropped=dropped)
    if is_web(corpus_dir):  # docs_in counts every response record; those not turned into a page are `input` drops
        dropped["extract"] = dropped.pop("input", {})
        result["extracted"] = totals["docs_in"] - sum(dropped["extract"].values())
    shutil.rmtree(out, ignore_errors=True)
    return result


def _by_stage(reasons: dict[str, int]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for key, count in reasons.items():
        stage, _, reason = key.partition(":")
        out[stage][reason] = count
    return dict(out)


def _arm_cmd(arm: str, corpus_dir: Path, out: Path, workers: int) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "--_arm",
        arm,
        "--_corpus",
        str(corpus_dir),
        "--_out",
        str(out),
        "--workers",
        str(workers),
    ]


def run_arm(arm: str, root: Path, corpus_dir: Path, workers: int, env: dict | None = None) -> dict:
    out = root / f"out-{arm}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    result = measure(_arm_cmd(arm, corpus_dir, out, workers), root / f"{arm}.log", env)
    result.update(json.loads((out / "result.json").read_text()))
    shutil.rmtree(out, ignore_errors=True)
    return result


# --------------------------------------------------------------------------- datatrove arm


def _lid_model_path() -> str:
    from rootstock.filters.langid import default_model_path

    return default_model_path()


def _registry_code(label: str | None) -> str | None:
    from rootstock.catalog.registry import load_registry

    return load_registry().resolve(label) if label else None


def _tokenizer_key(label: str | None) -> str:
    """The detected language's datatrove word-tokenizer key (the registry's); English if none works offline."""
    from rootstock.catalog.registry import load_registry
    from rootstock.filters import words

    code = _registry_code(label)
    if code is None:
        return "eng_Latn"
    key = load_registry()[code].word_tokenizer
    if key is None or "downloads models" in words.tokenizer_name(code):
        return "eng_Latn"
    return key


def _stop_words(label: str | None) -> list[str]:
    from rootstock.filters import wordlists

    code = _registry_code(label)
    return sorted(wordlists.stopwords(code) or []) if code else []


def _gopher_quality(label):
    from datatrove.pipeline.filters import GopherQualityFilter

    stop = _stop_words(label)
    return GopherQualityFilter(
        stop_words=stop or None, min_stop_words=2 if stop else None, language=_tokenizer_key(label)
    )


def _gopher_repetition(label):
    from datatrove.pipeline.filters import GopherRepetitionFilter

    return GopherRepetitionFilter(language=_tokenizer_key(label))


def _datatrove_classes():
    """datatrove subclasses, defined lazily so the other arms never import datatrove."""
    from datatrove.pipeline.dedup import MinhashDedupSignature
    from datatrove.pipeline.filters import LanguageFilter
    from datatrove.pipeline.filters.base_filter import BaseFilter
    from datatrove.utils.lid import FastTextLID
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    class LocalFastTextLID(FastTextLID):
        """datatrove's FastTextLID on a local model file: nothing downloaded, nothing copied."""

        def __init__(self, path: str, languages=None, k: int = -1):
            super().__init__(languages, k)
            self.path = path

        @property
        def model(self):
            if self._model is None:
                from fasttext.FastText import _FastText

                self._model = _FastText(self.path)
            return self._model

    class LocalLanguageFilter(LanguageFilter):
        def __init__(self, model_path: str, **kwargs):
            super().__init__(**kwargs)
            self.model = LocalFastTextLID(model_path, self.languages)

    class PerLanguage(BaseFilter):
        """One datatrove filter per detected language (FineWeb-2 runs one pipeline per language)."""

        def __init__(self, make, name: str):
            self.name = name  # before PipelineStep.__init__, which names the stats after it
            super().__init__()
            self.make, self._filters = make, {}

        def filter(self, doc):
            label = doc.metadata.get("language")
            if label not in self._filters:
                self._filters[label] = self.make(label)
            return self._filters[label].filter(doc)

    class PerLanguageMinhashSignature(MinhashDedupSignature):
        """MinhashDedupSignature with the word tokenizer of each document's detected language."""

        def run(self, data, rank: int = 0, world_size: int = 1):
            tokenizers = {}

            def switching(docs):
                for doc in docs:
                    label = doc.metadata.get("language")
                    if label not in tokenizers:
                        tokenizers[label] = load_word_tokenizer(_tokenizer_key(label))
                    self.word_tokenizer = tokenizers[label]
                    yield doc

            return super().run(switching(data), rank, world_size)

    return LocalLanguageFilter, PerLanguage, PerLanguageMinhashSignature


def datatrove_arm(corpus_dir: Path, out: Path, workers: int) -> dict:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.formatters import PIIFormatter
    from datatrove.pipeline.readers import JsonlReader, WarcReader
    from datatrove.pipeline.writers import JsonlWriter, ParquetWriter

    LocalLanguageFilter, PerLanguage, PerLanguageMinhashSignature = _datatrove_classes()
    mid, sigs, buckets, remove, final, logs = (
        out / d for d in ("filtered", "sigs", "buckets", "remove_ids", "data", "logs")
    )
    config = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=9, seed=1)
    model = _lid_model_path()

    def reader(folder: Path, pattern: str):
        return JsonlReader(str(folder), glob_pattern=pattern)

    web = is_web(corpus_dir)
    # Web: WarcReader (UTF-8, else cchardet; python-magic for records without a payload type) → Trafilatura
    # with its defaults (each task extracts in a sandbox subprocess, 1 s timeout per page), as FineWeb starts.
    start = [WarcReader(str(corpus_dir), glob_pattern="*.warc.gz"), Trafilatura()] if web else []
    steps = {
        "filter": LocalPipelineExecutor(
            pipeline=[
                *(start or [reader(corpus_dir, "*.jsonl.gz")]),
                LocalLanguageFilter(model),
                PerLanguage(_gopher_repetition, "Gopher repetition (per language)"),
                PerLanguage(_gopher_quality, "Gopher quality (per language)"),
                JsonlWriter(str(mid), compression=None),
            ],
            tasks=workers,
            workers=workers,
            logging_dir=str(logs / "filter"),
        ),
        "minhash1_signatures": LocalPipelineExecutor(
            pipeline=[reader(mid, "*.jsonl"), PerLanguageMinhashSignature(output_folder=str(sigs), config=config)],
            tasks=workers,
            workers=workers,
            logging_dir=str(logs / "minhash1"),
        ),
        "minhash2_buckets": LocalPipelineExecutor(
            pipeline=[MinhashDedupBuckets(input_folder=str(sigs), output_folder=str(buckets), config=config)],
            tasks=config.num_buckets,
            workers=workers,
            logging_dir=str(logs / "minhash2"),
        ),
        "minhash3_cluster": LocalPipelineExecutor(
            pipeline=[MinhashDedupCluster(input_folder=str(buckets), output_folder=str(remove), config=config)],
            tasks=1,
            workers=1,
            logging_dir=str(logs / "minhash3"),
        ),
        "minhash4_filter_pii_write": LocalPipelineExecutor(
            pipeline=[
                reader(mid, "*.jsonl"),
                MinhashDedupFilter(input_folder=str(remove)),
                PIIFormatter(),
                ParquetWriter(str(final), compression="zstd"),
            ],
            tasks=workers,
            workers=workers,
            logging_dir=str(logs / "minhash4"),
        ),
    }
    walls, blocks = {}, {}
    for name, executor in steps.items():
        start = time.perf_counter()
        executor.run()
        walls[name] = time.perf_counter() - start
        for block in json.loads((Path(executor.logging_dir.path) / "stats.json").read_text()):
            blocks[f"{name}: {block['name']}"] = block
    import pyarrow.parquet as pq

    kept = sum(pq.ParquetFile(p).metadata.num_rows for p in final.rglob("*.parquet"))
    dropped: dict[str, dict[str, int]] = defaultdict(dict)
    times = {}
    extract: Counter = Counter()
    for key, block in blocks.items():
        times[key] = block.get("time_stats", {}).get("total", 0.0)
        if web and "Trafilatura" in key:  # summed over the filter step's tasks
            extract.update(
                {k: (v.get("total", 0) if isinstance(v, dict) else v) for k, v in block.get("stats", {}).items()}
            )
        stage = (
            "langid"
            if "Language ID" in key
            else "quality"
            if "Gopher" in key
            else "dedup"
            if "MinHash stage 4" in key
            else None
        )
        stats = {k: (v.get("total", 0) if isinstance(v, dict) else v) for k, v in block.get("stats", {}).items()}
        if stage is None or not stats.get("dropped"):
            continue
        reasons = {k.removeprefix("dropped_"): v for k, v in stats.items() if k.startswith("dropped_")}
        if stage == "dedup":
            reasons = {"minhash": stats["dropped"]}
        dropped[stage].update(reasons or {_plain(key).split(": ")[-1]: stats["dropped"]})
    result = {"kept": kept, "dropped": dict(dropped), "stage_walls": walls, "block_times": times}
    if web:
        pages = json.loads((corpus_dir / "stats.json").read_text())["docs"]
        # The reader skips records it cannot decode (UTF-8 fails, cchardet has no answer) or not typed HTML;
        # the extractor drops empty output ("dropped"), timeouts and errors.
        reasons = {
            "not_decoded": pages - extract["total"],
            "no_text": extract["dropped"],
            **{reason: extract[reason] for reason in ("timeout", "clean_error", "broken_process")},
        }
        result["dropped"]["extract"] = {reason: n for reason, n in reasons.items() if n}
        result.update(docs_in=pages, extracted=extract["forwarded"])
    return result


# --------------------------------------------------------------------------- kernel floor


def _floor_min_score(lang: str) -> float:
    """rootstock.pipeline.stages.langid.MinScores for a routed document: ROOTS's tuned minimum, else route_min_default."""
    from rootstock.catalog.registry import UNDETERMINED, load_registry
    from rootstock.filters import quality as q

    if lang != UNDETERMINED and lang in load_registry() and q.roots_row(lang) != "default":
        return q.thresholds_for(lang).lang_id_min_cutoff
    return ROUTE_MIN_DEFAULT


def _floor_worker(rank: int, files: list[str], out: Path, conn) -> None:
    import gzip

    import orjson
    import pyarrow as pa
    import pyarrow.parquet as pq

    from rootstock.catalog.registry import UNDETERMINED
    from rootstock.filters import dedup as d
    from rootstock.filters import langid, pii
    from rootstock.filters import quality as q
    from rootstock.filters.minhash import MinHasher

    times: Counter = Counter()
    clock = time.process_time  # CPU seconds of this worker: robust to other load on the machine

    t = clock()
    lid = langid.LanguageIdentifier()
    covered = frozenset(lid.coverage())
    hasher = MinHasher(num_perm=128, seed=1)
    min_scores: dict[str, float] = {}
    thresholds: dict[tuple[str, bool], q.Thresholds] = {}
    times["setup"] += clock() - t

    def min_score(lang, mode):
        if lang not in min_scores:
            min_scores[lang] = _floor_min_score(lang)
        return min_scores[lang]

    # 1. read + parse (--web: WARC framing + fastwarc + decode_html + the default extractor, sources/warc.py)
    t = clock()
    docs = []
    dropped: Counter = Counter()
    for path in files:
        if path.endswith(".warc.gz"):
            from rootstock.sources import warc

            for _, _, record in warc.iter_unit(("file", path), [path], warc.WarcOptions()):
                if isinstance(record, dict):
                    docs.append({"id": record["warc_record_id"], "text": record["text"], "url": record["url"]})
                else:
                    dropped[f"extract:{record.code}"] += 1
            continue
        with gzip.open(path, "rb") as handle:
            for line in handle:
                record = orjson.loads(line)
                docs.append({"id": str(record["id"]), "text": record["text"], "url": record.get("url")})
    times["read + parse"] += clock() - t
    n_in = len(docs) + sum(dropped.values())

    # 2. language ID, routed (no declared languages)
    t = clock()
    routed = []
    for i in range(0, len(docs), LID_BATCH):
        batch = docs[i : i + LID_BATCH]
        for doc, prediction in zip(batch, lid.predict_batch([doc["text"] for doc in batch]), strict=True):
            decision = langid.decide(UNDETERMINED, [], prediction, covered, min_score)
            if decision.reject:
                dropped[f"langid:{decision.reject}"] += 1
                continue
            doc["lang"], doc["lang_score"], doc["routed"] = (
                decision.lang,
                prediction.score,
                decision.check == langid.ROUTED,
            )
            routed.append(doc)
    times["langid"] += clock() - t

    # 3. quality: ROOTS modification + metrics + first failure
    t = clock()
    kept = []
    for doc in routed:
        key = (doc["lang"], doc["routed"])
        if key not in thresholds:
            overrides = {"lang_id_min_cutoff": min_score(doc["lang"], None)} if doc["routed"] else None
            thresholds[key] = q.thresholds_for(doc["lang"], overrides)
        th = thresholds[key]
        text = q.modify_document(doc["text"], th)
        metrics = q.compute_metrics(text, doc["lang"], lang_score=doc["lang_score"] if doc["routed"] else None, th=th)
        failure = q.first_failure(metrics, th)
        if failure:
            dropped[f"quality:{failure}"] += 1
            continue
        doc["text"], doc["quality"] = text, metrics
        kept.append(doc)
    times["quality"] += clock() - t

    # 4a. template-line candidates, counted here and summed by the parent (a combiner)
    t = clock()
    lines: Counter = Counter()
    for doc in kept:
        lines.update(d.template_candidates(doc["text"], 15))
    times["dedup: features"] += clock() - t
    conn.send({"lines": lines})
    templates = conn.recv()

    # 4b. node features: template lines removed, exact key, URL key, MinHash signature
    t = clock()
    nodes, survivors = [], []
    for doc in kept:
        if templates:
            text = d.remove_lines(doc["text"], templates, 15)
            if not text:
                dropped["dedup:template_only"] += 1
                continue
            doc["text"] = text
        survivors.append(doc)
    # Batched signatures, as the dedup stage computes them (one rensa call per 256 documents).
    for start in range(0, len(survivors), 256):
        batch = survivors[start : start + 256]
        matrix = hasher.text_signatures([doc["text"] for doc in batch], [doc["lang"] for doc in batch], 5)
        for doc, signature in zip(batch, matrix, strict=True):
            nodes.append(
                (
                    doc["id"],
                    d.normalized_hash(doc["text"]),
                    d.url_key(doc["url"]),
                    len(doc["text"].encode("utf-8")),
                    doc["lang"],
                    signature.astype("<u4").tobytes(),
                )
            )
    times["dedup: features"] += clock() - t
    conn.send({"nodes": nodes})
    remove = conn.recv()

    # 5. PII (redact every category, as a `policy: redact` source) on the survivors
    t = clock()
    rows = []
    for doc in survivors:
        reason = remove.get(doc["id"])
        if reason:
            dropped[f"dedup:{reason}"] += 1
            continue
        text, counts = pii.redact(doc["text"], pii.find_pii(doc["text"], doc["lang"], private=True))
        doc["text"] = text
        doc["pii_counts"] = [{"category": c, "count": n} for c, n in sorted(counts.items())]
        rows.append(doc)
    times["pii"] += clock() - t

    # 6. Parquet (zstd), one file per worker
    t = clock()
    quality_type = pa.struct([pa.field(m, pa.int64() if m == "number_of_words" else pa.float64()) for m in q.METRICS])
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("text", pa.string()),
            ("lang", pa.string()),
            ("url", pa.string()),
            ("lang_score", pa.float64()),
            ("quality", quality_type),
            ("pii_counts", pa.list_(pa.struct([("category", pa.string()), ("count", pa.int64())]))),
        ]
    )
    table = pa.Table.from_pylist([{name: doc.get(name) for name in schema.names} for doc in rows], schema=schema)
    pq.write_table(table, str(out / f"part-{rank:05d}.parquet"), compression="zstd", row_group_size=10_000)
    times["parquet write"] += clock() - t
    conn.send(
        {"times": dict(times), "docs_in": n_in, "extracted": len(docs), "kept": len(rows), "dropped": dict(dropped)}
    )
    conn.close()


def _floor_graph(nodes: list[tuple], threshold: float = 0.8) -> dict[str, str]:
    """id → drop reason, for every non-survivor: exact/URL stars + verified LSH buckets, union-find."""
    import numpy as np

    from rootstock.filters import dedup as d
    from rootstock.filters.minhash import band_keys, lsh_params

    bands, rows = lsh_params(threshold, 128)
    exact, urls, buckets = defaultdict(list), defaultdict(list), defaultdict(list)
    info = {}
    for doc_id, exact_key, url, nbytes, _lang, sig in nodes:
        signature = np.frombuffer(sig, dtype=np.uint32)
        info[doc_id] = {"id": doc_id, "exact": exact_key, "url": url, "bytes": nbytes, "priority": 0}
        exact[exact_key].append(doc_id)
        if url:
            urls[url].append(doc_id)
        for key in band_keys(signature, bands, rows):
            buckets[key].append((doc_id, signature))
    edges = []
    for group in (*exact.values(), *urls.values()):
        if len(group) > 1:
            edges += d.star_edges(group)
    for members in buckets.values():
        if len(members) > 1:
            edges += d.verified_bucket_edges(members, threshold)
    clusters = defaultdict(list)
    for node, root in d.union_find(edges).items():
        clusters[root].append(info[node])
    remove = {}
    for members in clusters.values():
        members.sort(key=d.survivor_key)
        for member in members[1:]:
            remove[member["id"]] = d.drop_reason(member, members[0])
    return remove


def floor_arm(corpus_dir: Path, out: Path, workers: int) -> dict:
    import multiprocessing as mp

    web = is_web(corpus_dir)
    files = sorted(str(p) for p in corpus_dir.glob("*.warc.gz" if web else "*.jsonl.gz"))
    # Import the kernels' modules once; each worker loads its own model (as Beam's DoFn.setup).

    ctx = mp.get_context("fork")
    pipes, procs = [], []
    for rank in range(workers):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_floor_worker, args=(rank, files[rank::workers], out, child))
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    lines = Counter()
    for pipe in pipes:
        lines.update(pipe.recv()["lines"])
    templates = frozenset(h for h, n in lines.items() if n >= 10)
    for pipe in pipes:
        pipe.send(templates)
    nodes = [node for pipe in pipes for node in pipe.recv()["nodes"]]
    start = time.perf_counter()
    remove = _floor_graph(nodes)
    graph_s = time.perf_counter() - start
    for pipe in pipes:
        pipe.send(remove)
    results = [pipe.recv() for pipe in pipes]
    for proc in procs:
        proc.join()
    times: Counter = Counter()
    for result in results:
        times.update(result["times"])
    times["dedup: graph (parent)"] += graph_s
    dropped: Counter = Counter()
    for result in results:
        dropped.update(result["dropped"])
    result = {
        "docs_in": sum(r["docs_in"] for r in results),
        "kept": sum(r["kept"] for r in results),
        "dropped": _by_stage(dict(dropped)),
        "kernel_times": dict(times),
        "templates": len(templates),
    }
    if web:
        result["extracted"] = sum(r["extracted"] for r in results)
    return result


# --------------------------------------------------------------------------- profile (optional)

KERNEL_STAGE = {
    "langid": "langid",
    "quality": "quality",
    "words": "quality",
    "wordlists": "quality",
    "minhash": "dedup",
    "dedup": "dedup",
    "pii": "pii",
}


def _profile_group(func: tuple) -> str | None:
    """Kernel group of a profiled function: filters/<module>, read + parse, Parquet write, else None."""
    path = Path(func[0])
    try:
        rel = path.resolve().relative_to(REPO)
    except (ValueError, OSError):
        return None
    parts = rel.parts
    if parts[0] == "filters":
        return f"filters/{path.stem}"
    if parts[0] == "sources" and path.stem != "read":
        return "sources (read + parse)"
    if rel.as_posix() == "pipeline/beam/shards.py" and func[2] in ("write_parquet", "to_table"):
        return "parquet write"
    return None


def profile_arm(corpus_dir: Path, out: Path, workers: int) -> dict:
    """One in-process rootstock run (FnApiRunner, one worker) under cProfile."""
    import cProfile
    import pstats

    from rootstock.pipeline.config import load_config
    from rootstock.pipeline.jobs.curate import run

    config = load_config(rootstock_config(out, corpus_dir, STAGES, "profile"), output=str(out / "release"))
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    run(config, ["--direct_num_workers=1"])
    profiler.disable()
    wall = time.perf_counter() - start
    stats = pstats.Stats(profiler).stats
    kernels: Counter = Counter()
    for func, (_cc, _nc, _tt, _ct, callers) in stats.items():
        group = _profile_group(func)
        if group is None:
            continue
        outer = group.split("/")[0]
        for caller, caller_stats in callers.items():
            if (_profile_group(caller) or "").split("/")[0] != outer:
                kernels[group] += caller_stats[3]  # inclusive time of calls entering the group

    def glue(func) -> bool:  # Beam itself, or rootstock's Beam wiring (pipeline/*, sources/read.py)
        path = func[0].replace(os.sep, "/")
        return "/apache_beam/" in path or (_profile_group(func) is None and str(REPO) in path and "/.venv/" not in path)

    top = sorted(
        ((tt, f"{Path(f[0]).name}:{f[2]}") for f, (_c, _n, tt, _ct, _cl) in stats.items() if glue(f)), reverse=True
    )[:12]
    return {
        "profiled_wall_s": wall,
        "kernels": dict(kernels),
        "top_other_tottime": [{"function": name, "s": round(tt, 3)} for tt, name in top],
    }


# --------------------------------------------------------------------------- report

STAGE_ROWS = ("read + write", "langid", "quality", "dedup", "pii")


def _plain(label: str) -> str:
    """A datatrove block name without its emoji: "🔻 - FILTER: 🌍 Language ID" → "FILTER: Language ID"."""
    text = "".join(ch for ch in label if ord(ch) < 0x2000 or ch in "→…").replace(" - ", " ").strip()
    return " ".join(text.split())


def _datatrove_stage(block: str) -> str | None:
    for key, stage in (
        ("Language ID", "langid"),
        ("Gopher", "quality"),
        ("MinHash", "dedup"),
        ("PII", "pii"),
        ("READER", "read + write"),
        ("EXTRAC", "read + write"),  # --web: the HTML extractor
        ("WRITER", "read + write"),
    ):
        if key in block:
            return stage
    return None


def _floor_stage(key: str) -> str | None:
    if key in ("read + parse", "parquet write"):
        return "read + write"
    if key.startswith("dedup"):
        return "dedup"
    return key if key in STAGES else None


def _row(name: str, r: dict, docs: int, nbytes: int) -> str:
    return (
        f"{name:10} {r['wall_s']:8.1f} {docs / r['wall_s']:8.0f} {nbytes / 1e6 / r['wall_s']:7.2f} "
        f"{r['cpu_s']:8.1f} {r['cpu_s'] / r['wall_s']:6.2f} {r['peak_tree_rss_mib']:10.0f} "
        f"{r['peak_tree_pss_mib']:10.0f} {r['max_process_hwm_mib']:9.0f} {r['max_processes']:6d} {r.get('kept', 0):8d}"
    )


HEADER = (
    f"{'arm':10} {'wall s':>8} {'docs/s':>8} {'MB/s':>7} {'CPU s':>8} {'CPU/w':>6} {'tree RSS':>10} "
    f"{'tree PSS':>10} {'max proc':>9} {'procs':>6} {'kept':>8}"
)


WEB_HEADER = (
    f"{'arm':10} {'pages':>6} {'docs in':>7} {'kept':>6} {'wall s':>7} {'pages/s':>7} {'docs/s':>7} {'MB/s':>6} "
    f"{'CPU s':>7} {'CPU/w':>6} {'tree RSS':>9} {'tree PSS':>9} {'max proc':>8} {'procs':>5}"
)


def _web_row(name: str, r: dict, pages: int, nbytes: int) -> str:
    return (
        f"{name:10} {pages:6d} {r['extracted']:7d} {r['kept']:6d} {r['wall_s']:7.1f} {pages / r['wall_s']:7.1f} "
        f"{r['extracted'] / r['wall_s']:7.1f} {nbytes / 1e6 / r['wall_s']:6.2f} {r['cpu_s']:7.1f} "
        f"{r['cpu_s'] / r['wall_s']:6.2f} {r['peak_tree_rss_mib']:9.0f} {r['peak_tree_pss_mib']:9.0f} "
        f"{r['max_process_hwm_mib']:8.0f} {r['max_processes']:5d}"
    )


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _report_web_rates(results: dict) -> None:
    """--web: the per-arm table and the ratios, per page in (the same WARC records for every arm) and per document."""
    c, arms = results["corpus"], results["arms"]
    pages, nbytes = c["docs"], c["bytes"]
    print(
        f"\n{pages} web pages in {c['files']} WARC files ({nbytes / 1e6:.1f} MB of HTML, {c['warc_bytes'] / 1e6:.1f} MB "
        f"gzipped), {results['workers']} workers; docs in = pages the arm's reader + HTML extractor turned into "
        f"documents, kept = documents written; pages/s = pages / wall, docs/s = docs in / wall, MB/s of HTML; "
        f"CPU s = user + system of the arm's whole process tree (datatrove's extractor subprocesses included); "
        f"memory in MiB: tree RSS / tree PSS = peak of the sum over the arm's processes (sampled every 0.2 s), "
        f"max proc = largest single-process peak (VmHWM)"
    )
    print(WEB_HEADER)
    for name in ("rootstock", "datatrove", "floor"):
        if name in arms:
            print(_web_row(name, arms[name], pages, nbytes))
    if "floor" not in arms:
        print("floor: not run (--arms)")
    page_rates = {name: pages / r["wall_s"] for name, r in arms.items()}
    doc_rates = {name: r["extracted"] / r["wall_s"] for name, r in arms.items()}
    checks = results["checks"] = {}
    if "rootstock" in arms and "datatrove" in arms:
        ratio = page_rates["rootstock"] / page_rates["datatrove"]
        docs_ratio = doc_rates["rootstock"] / doc_rates["datatrove"]
        checks["rootstock_vs_datatrove"] = {
            "ratio": ratio,
            "docs_ratio": docs_ratio,
            "target": f">= {TARGET_VS_DATATROVE}",
            "pass": ratio >= TARGET_VS_DATATROVE,
        }
        print(
            f"\nrootstock / datatrove docs/s  = {docs_ratio:.2f}   (documents each arm extracted, per wall second)"
            f"\nrootstock / datatrove pages/s = {ratio:.2f}   (the same pages in; target >= {TARGET_VS_DATATROVE}: "
            f"{_verdict(ratio >= TARGET_VS_DATATROVE)});  CPU s ratio datatrove / rootstock = "
            f"{arms['datatrove']['cpu_s'] / arms['rootstock']['cpu_s']:.2f}"
        )
    if "rootstock" in arms and "floor" in arms:
        ratio = page_rates["floor"] / page_rates["rootstock"]
        checks["floor_vs_rootstock"] = {
            "ratio": ratio,
            "target": f"<= {TARGET_VS_FLOOR}",
            "pass": ratio <= TARGET_VS_FLOOR,
        }
        print(
            f"floor / rootstock pages/s     = {ratio:.2f}   (target <= {TARGET_VS_FLOOR}: "
            f"{_verdict(ratio <= TARGET_VS_FLOOR)};  rootstock/floor = {1 / ratio:.2f})"
        )


def report(results: dict) -> None:
    web = results.get("web", False)
    if web:
        _report_web_rates(results)
    else:
        _report_rates(results)
    _report_stages(results, web)


def _report_rates(results: dict) -> None:
    c = results["corpus"]
    docs, nbytes = c["docs"], c["bytes"]
    arms = results["arms"]
    print(
        f"\n{docs} docs, {nbytes / 1e6:.1f} MB of text, {results['workers']} workers; CPU s = user + system of the "
        f"arm's whole process tree; memory in MiB: tree RSS / tree PSS = peak of the sum over the arm's processes "
        f"(sampled every 0.2 s), max proc = largest single-process peak (VmHWM)"
    )
    print(HEADER)
    for name in ("rootstock", "datatrove", "floor"):
        if name in arms:
            print(_row(name, arms[name], docs, nbytes))
    rates = {name: docs / r["wall_s"] for name, r in arms.items()}
    checks = results["checks"] = {}
    if "rootstock" in rates and "datatrove" in rates:
        ratio = rates["rootstock"] / rates["datatrove"]
        checks["rootstock_vs_datatrove"] = {
            "ratio": ratio,
            "target": f">= {TARGET_VS_DATATROVE}",
            "pass": ratio >= TARGET_VS_DATATROVE,
        }
        print(
            f"\nrootstock / datatrove docs/s = {ratio:.2f}   (target >= {TARGET_VS_DATATROVE}: "
            f"{_verdict(ratio >= TARGET_VS_DATATROVE)})"
        )
    if "rootstock" in rates and "floor" in rates:
        ratio = rates["floor"] / rates["rootstock"]
        checks["floor_vs_rootstock"] = {
            "ratio": ratio,
            "target": f"<= {TARGET_VS_FLOOR}",
            "pass": ratio <= TARGET_VS_FLOOR,
        }
        print(
            f"floor / rootstock docs/s     = {ratio:.2f}   (target <= {TARGET_VS_FLOOR}: "
            f"{_verdict(ratio <= TARGET_VS_FLOOR)};  rootstock/floor = {1 / ratio:.2f})"
        )


def _report_stages(results: dict, web: bool) -> None:
    arms = results["arms"]
    names = [n for n in ("rootstock", "datatrove", "floor") if n in arms]
    print(
        "\ndocuments dropped per stage (own thresholds and detectors, not expected to match; rootstock and the "
        "floor route\nlow-confidence LID to `und` instead of dropping; datatrove drops LID score < 0.65)"
    )
    if web:
        print(
            "extract = WARC pages that became no document: rootstock and the floor decode (decode_html) and extract "
            "with rootstock's default extractor;\ndatatrove's WarcReader decodes UTF-8 else cchardet, then its "
            "Trafilatura (favour_precision, 1 s timeout)"
        )
    print(f"{'stage':10} " + "".join(f" {n:>36}" for n in names))
    for stage in (("extract",) if web else ()) + STAGES:
        cells = []
        for n in names:
            reasons = arms[n].get("dropped", {}).get(stage, {})
            detail = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])[:2])
            detail = detail if len(detail) <= 26 else detail[:25] + "…"
            cells.append(f"{sum(reasons.values()):>7} {('(' + detail + ')') if detail else '':<28}")
        print(f"{stage:10} " + "".join(f" {cell:>36}" for cell in cells))
    print(f"{'kept':10} " + "".join(f" {arms[n].get('kept', 0):>7} {'':<28}" for n in names))

    print("\nper-stage time")
    table = {row: {} for row in STAGE_ROWS}
    ablation = results.get("ablation")
    if ablation:
        base = ablation[0]
        table["read + write"]["rootstock"] = f"{base['wall_s']:6.1f} {base['cpu_s']:6.1f}"
        for prev, step, stage in zip(ablation, ablation[1:], STAGES, strict=False):
            table[stage]["rootstock"] = f"{step['wall_s'] - prev['wall_s']:6.1f} {step['cpu_s'] - prev['cpu_s']:6.1f}"
    floor_times = arms.get("floor", {}).get("kernel_times", {})
    sums: Counter = Counter()
    for key, value in floor_times.items():
        if _floor_stage(key):
            sums[("floor", _floor_stage(key))] += value
    for key, value in arms.get("datatrove", {}).get("block_times", {}).items():
        if _datatrove_stage(key):
            sums[("datatrove", _datatrove_stage(key))] += value
    for (arm, stage), value in sums.items():
        table[stage][arm] = f"{value:6.1f}"
    print(f"  {'stage':14} {'rootstock Δwall ΔCPU':>20} {'floor kernel CPU':>17} {'datatrove block s':>18}")
    for row in STAGE_ROWS:
        cells = table[row]
        print(
            f"  {row:14} {cells.get('rootstock', '-'):>20} {cells.get('floor', '-'):>17} {cells.get('datatrove', '-'):>18}"
        )
    print(
        "  rootstock: "
        + (
            "stage ablation, wall and CPU seconds of the run with stages enabled cumulatively; "
            "'read + write' = ingest → Parquet alone, fixed costs included; each stage = what adding it cost"
            if ablation
            else "no stage ablation (--no-stages)"
        )
    )
    if floor_times:
        print(
            "  floor: CPU seconds inside the kernels, summed over its workers (+ the dedup graph in the parent); "
            f"model loading {floor_times.get('setup', 0):.1f} s not shown"
        )
    if "datatrove" in arms:
        print("  datatrove: its own per-block time (stats.json), summed over tasks")
    if web:
        print(
            "  --web: 'read + write' includes WARC parsing, charset decoding and HTML extraction in every arm "
            "(datatrove: the WarcReader and Trafilatura blocks, the latter waiting on its extraction subprocess)"
        )
    if ablation:
        print(
            "  ablation runs: "
            + ";  ".join(f"{a['name']} {a['wall_s']:.1f} s / {a['cpu_s']:.1f} CPU s" for a in ablation)
        )
    walls = arms.get("datatrove", {}).get("stage_walls")
    if walls:
        print("  datatrove executors, wall s: " + ",  ".join(f"{k} {v:.1f}" for k, v in walls.items()))
    prof = results.get("profile")
    if prof:
        total = prof["profiled_wall_s"]
        kern = sum(prof["kernels"].values())
        print(
            f"\ncProfile of one in-process rootstock run (FnApiRunner, 1 worker): {total:.1f} s under the profiler "
            "(which inflates Python-heavy code), split into time inside rootstock's kernels and the rest"
        )
        for group, secs in sorted(prof["kernels"].items(), key=lambda kv: -kv[1]):
            if secs >= 0.05:
                stage = KERNEL_STAGE.get(
                    group.removeprefix("filters/"), "read + write" if "filters" not in group else ""
                )
                print(f"    {group:28} {stage:14} {secs:7.1f}  {100 * secs / total:5.1f}%")
        print(f"    {'everything else (Beam, DoFn glue)':43} {total - kern:7.1f}  {100 * (total - kern) / total:5.1f}%")
        print(
            "    largest self times in Beam and rootstock's Beam wiring: "
            + ", ".join(f"{t['function']} {t['s']:.1f}" for t in prof["top_other_tottime"][:6])
        )


def report_scaling(results: dict) -> None:
    steps = results["scaling"]
    print(
        f"\n{'docs':>8} {'MB':>7} {'wall s':>8} {'docs/s':>8} {'CPU s':>8} {'tree RSS':>9} {'tree PSS':>9} {'max proc':>9}"
    )
    for s in steps:
        print(
            f"{s['docs']:8d} {s['bytes'] / 1e6:7.0f} {s['wall_s']:8.1f} {s['docs'] / s['wall_s']:8.0f} {s['cpu_s']:8.1f} "
            f"{s['peak_tree_rss_mib']:9.0f} {s['peak_tree_pss_mib']:9.0f} {s['max_process_hwm_mib']:9.0f}"
        )
    if len(steps) >= 2:
        a, b = steps[0], steps[-1]
        scale = b["docs"] / a["docs"]
        t = b["wall_s"] / a["wall_s"]
        m = b["peak_tree_rss_mib"] / a["peak_tree_rss_mib"]
        # The targets are stated for 100k → 300k (3×); for other sizes they scale with the ratio.
        t_target = TARGET_SCALING_TIME * scale / 3
        m_target = TARGET_SCALING_MEMORY
        results["checks"] = {
            "scaling_time": {"ratio": t, "target": f"<= {t_target:.2f}", "pass": t <= t_target},
            "scaling_memory": {"ratio": m, "target": f"<= {m_target}", "pass": m <= m_target},
        }
        print(
            f"\n{b['docs']} vs {a['docs']} docs ({scale:.1f}×): time ratio {t:.2f} (target <= {t_target:.2f}: "
            f"{_verdict(t <= t_target)}), peak tree RSS ratio {m:.2f} (target <= {m_target}: {_verdict(m <= m_target)})"
        )


# --------------------------------------------------------------------------- main


def _load_note(load: float, when: str = "now") -> None:
    if load > 0.5 * (os.cpu_count() or 1):
        print(
            f"note: load average {when} {load:.1f} on {os.cpu_count()} CPUs: other work is running, "
            "wall times and ratios are noisy",
            flush=True,
        )


def run_arms(args: argparse.Namespace, results: dict, root: Path, corpus_dir: Path, env: dict) -> None:
    arms = results["arms"] = {}
    for arm in args.arms.split(","):
        print(f"running {arm} …", flush=True)
        if arm == "rootstock":
            arms[arm] = run_rootstock(root, corpus_dir, args.workers)
        else:
            arms[arm] = run_arm(arm, root, corpus_dir, args.workers, env)
        print(f"  {arm}: {arms[arm]['wall_s']:.1f} s", flush=True)
        if arm == "rootstock" and args.stages:  # right after the full run, so they see the same machine
            results["ablation"] = []
            for k in range(len(STAGES)):
                enabled = STAGES[:k]
                name = "ingest → parquet" + "".join(f" +{s}" for s in enabled)
                print(f"running rootstock ablation: {name} …", flush=True)
                r = run_rootstock(root, corpus_dir, args.workers, enabled, name=f"ablation{k}")
                results["ablation"].append({"name": name, **r})
            results["ablation"].append({"name": "… +pii (the full run)", **arms["rootstock"]})
    if args.profile:
        print("running rootstock under cProfile (in-process, 1 worker) …", flush=True)
        results["profile"] = run_arm("profile", root, corpus_dir, 1, env)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=None, help="documents (default 20000; with --input: all of them)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--input",
        type=Path,
        help="a JSONL(.gz) file with `text` (and optional `id`, `url`) instead of the generated corpus",
    )
    ap.add_argument("--files", type=int, default=8, help="input files the corpus is split into")
    ap.add_argument(
        "--web",
        action="store_true",
        help="a web crawl: generated HTML pages in WARC files, read and extracted by each arm",
    )
    ap.add_argument("--pages", type=int, default=4000, help="with --web: web pages (default 4000)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--arms", default="rootstock,datatrove,floor")
    ap.add_argument(
        "--stages",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="rootstock per-stage times by stage ablation (4 more rootstock runs)",
    )
    ap.add_argument("--profile", action="store_true", help="also cProfile one in-process rootstock run")
    ap.add_argument("--scaling", action="store_true", help="rootstock alone at --scaling-docs (default 100k, 300k)")
    ap.add_argument("--scaling-docs", type=int, nargs="+", default=[100_000, 300_000])
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--workdir", type=Path, help="where corpora and outputs go (default: a temp dir, removed)")
    ap.add_argument("--_arm", help=argparse.SUPPRESS)
    ap.add_argument("--_corpus", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--_out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args._arm:  # a child: one arm, result in _out/result.json
        fn = {"datatrove": datatrove_arm, "floor": floor_arm, "profile": profile_arm}[args._arm]
        result = fn(args._corpus, args._out, args.workers)
        (args._out / "result.json").write_text(json.dumps(result))
        return

    unknown = set(args.arms.split(",")) - {"rootstock", "datatrove", "floor"}
    if unknown:
        ap.error(f"--arms: unknown {sorted(unknown)}; choose from rootstock,datatrove,floor")
    if args.web and (args.input or args.docs is not None or args.scaling):
        ap.error("--web generates its own pages (--pages); it does not take --input, --docs or --scaling")
    if args.web:
        print("command: " + shlex.join([".venv/bin/python", "benchmarks/pipeline.py", *sys.argv[1:]]), flush=True)
    _become_subreaper()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="rootstock-pipeline-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    # datatrove copies assets under the HF cache; nothing may be downloaded.
    env = {"HF_HOME": str(root / "hf_home"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    os.environ.update(env)
    results: dict = {
        "workers": args.workers,
        "argv": sys.argv[1:],
        "machine": {"cpus": os.cpu_count(), "loadavg_start": os.getloadavg()},
    }
    _load_note(results["machine"]["loadavg_start"][0])
    try:
        if args.scaling:
            results["scaling"] = []
            for n in args.scaling_docs:
                corpus_dir, stats = prepare_corpus(root, n, args.files, args.seed, args.input)
                print(
                    f"rootstock at {stats['docs']} docs ({stats['bytes'] / 1e6:.0f} MB), {args.workers} workers …",
                    flush=True,
                )
                r = run_rootstock(root, corpus_dir, args.workers)
                results["scaling"].append({"docs": stats["docs"], "bytes": stats["bytes"], **r})
                shutil.rmtree(corpus_dir, ignore_errors=True)
            report_scaling(results)
        elif args.web:
            results["web"] = True
            corpus_dir, stats = prepare_web_corpus(root, args.pages, args.files, args.seed)
            results["corpus"] = stats
            print(
                f"corpus: {stats['docs']} web pages (catalog/sample/web_pages.py, seed {args.seed}), "
                f"{stats['bytes'] / 1e6:.1f} MB of HTML, {stats['files']} WARC files ({stats['warc_bytes'] / 1e6:.1f} MB "
                f"gzipped, one gzip member per record), {len(stats['languages'])} languages, {stats['not_utf8']} pages "
                f"not in UTF-8, {stats['no_header_charset']} without an HTTP charset; generated in "
                f"{stats['generate_s']:.0f} s; {args.workers} workers",
                flush=True,
            )
            run_arms(args, results, root, corpus_dir, env)
            report(results)
        else:
            docs = args.docs if args.docs is not None else (None if args.input else 20_000)
            corpus_dir, stats = prepare_corpus(root, docs, args.files, args.seed, args.input)
            results["corpus"] = stats
            planted = (
                f"; planted {stats['exact']} exact + {stats['near']} near duplicates (5-gram Jaccard median "
                f"{stats['near_jaccard'].get('median')}, min {stats['near_jaccard'].get('min')}), "
                f"PII in {stats['pii_docs']} docs"
                if "exact" in stats
                else ""
            )
            print(
                f"corpus: {stats['docs']} docs, {stats['bytes'] / 1e6:.1f} MB of text, {stats['files']} JSONL.gz files"
                f"{', ' + str(len(stats['languages'])) + ' languages' if 'languages' in stats else ''}{planted}; "
                f"{args.workers} workers",
                flush=True,
            )
            run_arms(args, results, root, corpus_dir, env)
            report(results)
        results["machine"]["loadavg_end"] = os.getloadavg()
        _load_note(results["machine"]["loadavg_end"][1], "over the last 5 minutes")
    finally:
        if args.json:
            args.json.write_text(json.dumps(results, indent=1, default=str))
            print(f"\nresults written to {args.json}")
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
