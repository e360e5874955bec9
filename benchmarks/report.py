"""`rootstock report`: build time and file size for a release of N documents.

    .venv/bin/python benchmarks/report.py --docs 100000           # corpus + release, then the report
    .venv/bin/python benchmarks/report.py --docs 100000 --repeat 3  # the release is reused if already made

The corpus is benchmarks/corpus.py's (~2 KB documents in 13 languages, planted exact and near
duplicates and PII) plus a share of junk documents written to fail ROOTS's quality filters the
ways web text does: a sentence repeated (character/word repetition), prose cut into a table of
numbers and symbols (special characters), a list of names (no stop words), a stub (too few
words). `rootstock run` makes the release with language ID, quality, dedup and PII on and the
default `keep_rejected: sample`; it is kept under --work and reused by later runs with the same
--docs/--junk/--seed. Then the report is built --repeat times in this process and this prints
wall and CPU seconds, the file's size, and where the bytes go.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# Run as a script, this folder would come first on sys.path and shadow nothing useful: repository first.
sys.path[:] = [str(REPO)] + [p for p in sys.path if p and Path(p).resolve() != HERE]

from benchmarks.corpus import LANGS, _Language, compose, write_bench_catalog, write_corpus  # noqa: E402


def _junk(lang: _Language, rng: random.Random) -> str:
    """One document built to fail a quality filter (which one is random)."""
    text, sentences = compose(lang, rng)
    kind = rng.choice(("repeat", "table", "names", "stub"))
    if kind == "repeat":
        return lang.joiner.join([sentences[0]] * rng.randint(12, 30))
    if kind == "table":
        rows = [f"| {rng.randint(1, 999)} | {rng.random():.3f} | -- | {rng.randint(10, 99)}% |" for _ in range(40)]
        return sentences[0] + "\n" + "\n".join(rows)
    if kind == "names":
        return " ".join(rng.choice(lang.people + lang.towns) for _ in range(rng.randint(150, 300)))
    return " ".join(text.split()[: rng.randint(40, 60)]) if lang.joiner else text[:150]


def write_junk(out: Path, docs: int, seed: int) -> None:
    rng = random.Random(seed + 1)
    languages = [_Language(code) for code in LANGS]
    with gzip.open(out / "junk.jsonl.gz", "wt", encoding="utf-8", compresslevel=1) as handle:
        for i in range(docs):
            lang = languages[rng.randrange(len(languages))]
            record = {"id": f"junk-{i:07d}", "text": _junk(lang, rng), "url": f"https://junk.example.net/{i}"}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def make_release(work: Path, docs: int, junk: float, seed: int, workers: int) -> Path:
    """The benchmark release under WORK (made once per docs/junk/seed)."""
    import yaml

    work = work.resolve()
    release = work / "release"
    stamp = work / "made.json"
    wanted = {"docs": docs, "junk": junk, "seed": seed}
    if (release / "manifest.json").exists() and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return release
    corpus = work / "corpus"
    n_junk = int(docs * junk)
    started = time.perf_counter()
    write_corpus(corpus, docs - n_junk, files=8, seed=seed)
    write_junk(corpus, n_junk, seed)
    print(f"corpus: {docs:,} documents ({n_junk:,} junk) in {time.perf_counter() - started:.0f} s", flush=True)
    connector = {
        "kind": "jsonl",
        "paths": [str(corpus / "*.jsonl.gz")],
        "text_field": "text",
        "id_field": "id",
        "url_field": "url",
    }
    catalog = write_bench_catalog(
        work / "catalog", connector, name="Report benchmark corpus", description="benchmarks/report.py", pii="redact"
    )
    config = work / "run.yaml"
    stages = {"langid": {"enabled": True}, "quality": {"enabled": True}, "dedup": {"enabled": True}}
    stages["pii"] = {"enabled": True}
    config.write_text(yaml.safe_dump({"release": "bench-report", "catalog": str(catalog), "stages": stages}))
    cmd = [sys.executable, "-m", "rootstock.pipeline.cli", "run", str(config), "--output", str(release)]
    cmd += ["--overwrite", "--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    print(f"release: `rootstock run` in {time.perf_counter() - started:.0f} s", flush=True)
    stamp.write_text(json.dumps(wanted))
    return release


def _parts(html: str) -> dict[str, int]:
    """Bytes of the report by part: the inline SVG charts, the manifest view, the examples, the rest."""
    parts = {"charts (SVG)": 0, "manifest view": 0, "examples": 0}
    for body in re.findall(r'<figure class="chart"[^>]*>(.*?)</figure>', html, re.S):
        parts["charts (SVG)"] += len(body.encode("utf-8"))
    for name, pattern in (
        ("manifest view", r'<pre id="manifest-json">(.*?)</pre>'),
        ("examples", r'<section id="examples">(.*?)</section>'),
    ):
        found = re.search(pattern, html, re.S)
        parts[name] += len(found.group(1).encode("utf-8")) if found else 0
    parts["everything else"] = len(html.encode("utf-8")) - sum(parts.values())
    return parts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--junk", type=float, default=0.05, help="share of documents written to fail a quality filter")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--workers", type=int, default=2, help="Beam workers for `rootstock run`")
    ap.add_argument("--work", type=Path, default=REPO / "build" / "bench-report")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()

    from rootstock.pipeline.release.release import Release
    from rootstock.pipeline.report.html import build_report

    args.work.mkdir(parents=True, exist_ok=True)
    release = make_release(args.work, args.docs, args.junk, args.seed, args.workers)
    manifest = Release.open(str(release)).manifest
    out = args.work / "report.html"
    rows = []
    for i in range(args.repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        build_report(str(release), str(out))
        rows.append((i + 1, time.perf_counter() - wall, time.process_time() - cpu))
    size = out.stat().st_size
    totals = manifest["totals"]
    print(f"\n$ {shlex.join([Path(sys.executable).name, 'benchmarks/report.py', *sys.argv[1:]])}")
    print(
        f"release: {totals['docs_in']:,} documents in, {totals['docs_out']:,} kept, "
        f"{len(manifest['shards'])} shards, {len(manifest.get('rejected_shards', []))} rejected shards "
        f"(keep_rejected: {manifest['keep_rejected']['mode']}), manifest {len(json.dumps(manifest)):,} bytes"
    )
    print(f"\n{'build':>5}  {'wall s':>7}  {'CPU s':>7}")
    for i, wall, cpu in rows:
        print(f"{i:>5}  {wall:>7.2f}  {cpu:>7.2f}")
    print(f"\nreport: {out} — {size:,} bytes ({size / 1e6:.2f} MB)")
    for part, n in _parts(out.read_text(encoding="utf-8")).items():
        print(f"  {part:<16} {n:>10,} bytes")


if __name__ == "__main__":
    main()
