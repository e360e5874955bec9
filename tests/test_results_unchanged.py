"""Performance work must not change results: the benchmark corpus's kept and rejected sets, the
metric values and the text written are pinned by a fingerprint made before the optimisations
(tests/golden/benchmark_fingerprint.json, written by `python tests/test_results_unchanged.py`).

Each document's fingerprint covers where it ended (kept, or dropped by which stage and why),
its language and LID score, all quality metrics, its duplicate cluster, its PII counts and the
sha256 of its final text. A legitimate change of results regenerates the file in the same
commit and says why.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden" / "benchmark_fingerprint.json"
DOCS, SEED = 1200, 7
FIELDS = (
    "lang",
    "lang_score",
    "lang_check",
    "quality",
    "code_metrics",
    "dup_cluster_id",
    "dup_cluster_size",
    "dup_survivor_id",
    "pii_counts",
    "drop_stage",
    "drop_reason",
)


def build_release(root: Path, beam_args: list[str] | None = None, **dedup) -> Path:
    sys.path.insert(0, str(REPO))
    from benchmarks import corpus
    from rootstock.pipeline.config import load_config
    from rootstock.pipeline.jobs.curate import run
    from tests.conftest import entry, write_catalog

    data = root / "corpus"
    if not data.exists():
        corpus.write_corpus(data, DOCS, files=4, seed=SEED)
    catalog = write_catalog(
        root / "catalog",
        entry(
            "bench",
            {"kind": "jsonl", "paths": [str(data / "*.jsonl.gz")], "id_field": "id", "url_field": "url"},
            languages=[],
            pii={"likelihood": "somewhat_likely", "policy": "redact"},
        ),
    )
    name = "release-" + hashlib.sha256(json.dumps([beam_args, dedup], sort_keys=True).encode()).hexdigest()[:8]
    if (root / name / "manifest.json").exists():
        return root / name
    config = root / f"{name}.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "release": "fingerprint",
                "catalog": str(catalog),
                "output": str(root / name),
                "keep_rejected": "all",
                "stages": {
                    "langid": {"enabled": True},
                    "quality": {"enabled": True},
                    "dedup": {"enabled": True, **dedup},
                    "pii": {"enabled": True},
                },
            }
        )
    )
    run(load_config(config), beam_args)
    return root / name


def fingerprint(release: Path) -> dict[str, str]:
    out = {}
    for prefix in ("data", "rejected"):
        for path in sorted(release.glob(f"{prefix}/**/*.parquet")):
            for row in pq.read_table(path).to_pylist():
                record = {k: row.get(k) for k in FIELDS}
                record["text_sha256"] = hashlib.sha256(row["text"].encode()).hexdigest()
                out[row["id"]] = hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[
                    :16
                ]
    return dict(sorted(out.items()))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("unchanged")


def test_benchmark_corpus_results_match_the_pre_optimisation_fingerprint(workdir: Path):
    golden = json.loads(GOLDEN.read_text())
    now = fingerprint(build_release(workdir))
    assert len(now) == golden["documents"] == DOCS
    changed = sorted(doc for doc in golden["fingerprints"] if golden["fingerprints"][doc] != now.get(doc))
    assert not changed, f"{len(changed)} documents differ from the fingerprint, e.g. {changed[:5]}"


def test_dedup_join_modes_and_spilling_write_identical_releases(workdir: Path):
    """The local default (decisions as a side input, documents spilled at barriers) against the
    configuration for runners with a shuffle service (a join by id, nothing spilled)."""
    side = build_release(workdir)
    shuffle = build_release(workdir, ["--spill=never"], join="shuffle")
    digests = [
        {str(p.relative_to(r)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(r.rglob("*.parquet"))}
        for r in (side, shuffle)
    ]
    assert digests[0] == digests[1] and len(digests[0]) > 3


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        prints = fingerprint(build_release(Path(tmp)))
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(
        json.dumps({"documents": len(prints), "corpus": {"docs": DOCS, "seed": SEED}, "fingerprints": prints}, indent=0)
        + "\n"
    )
    print(f"wrote {GOLDEN}: {len(prints)} documents")
