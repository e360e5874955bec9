"""`rootstock refilter` (issue 17, point 3): readmitted documents go through the stages after
quality against what the parent kept; LID minimums are re-applied from stored scores; a
refilter of a sampled rejected set says it was incomplete."""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from sample_texts import topic_sentences

from rootstock.errors import ConfigError
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from rootstock.pipeline.jobs.refilter import refilter
from rootstock.pipeline.release.verify import verify
from tests.conftest import entry, write_catalog, write_config

FILL = {"town": "Valrive", "person": "Nadia", "n": "12", "big": "300", "year": "1998", "price": "4"}
IBAN = "FR14 2004 1010 0505 0001 3M02 606"
EMAIL = "nadia.valrive@example.org"


def document(start: int, count: int = 8) -> str:
    pool = topic_sentences("fr", FILL)
    return " ".join(pool[(start + i) % len(pool)] for i in range(count))


def rows(release: Path, kind: str) -> dict[tuple[str, str], dict]:
    files = list(release.glob(f"{kind}/**/*.parquet"))
    table = pa.concat_tables([pq.read_table(f) for f in files]).to_pylist() if files else []
    return {(r["source"], r["source_doc_id"]): r for r in table}


def thresholds(path: Path, data: dict) -> str:
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.fixture(scope="module")
def parent(tmp_path_factory):
    """Three French sources deduplicated per language. `web` (PII policy drop) and `forum` are
    held to a word minimum none of their documents meets, so all of them were rejected by
    quality before dedup, decontaminate and pii ever saw them. `web` has a byte-identical copy
    of a `books` document, a document with an IBAN, and two copies of a document holding an
    evaluation example. `books` (PII policy keep) publishes an e-mail address. The rejected
    set is a sample of 4 per (stage, reason, language, source): all of `web`, 4 of 5 `forum`."""
    root = tmp_path_factory.mktemp("refilter")
    data = root / "catalog" / "data"
    data.mkdir(parents=True)
    books = [{"id": "b1", "text": document(0)}, {"id": "b2", "text": f"{document(8)} Écrivez à {EMAIL}."}]
    web = [
        {"id": "copy", "text": books[0]["text"]},
        {"id": "iban", "text": f"{document(16)} Virement sur le compte IBAN {IBAN} avant la fin du mois."},
        {"id": "bench", "text": document(24)},
        {"id": "bench-again", "text": document(24)},
    ]
    pool = topic_sentences("fr", FILL)
    (root / "evals").mkdir()
    (root / "evals" / "qa.jsonl").write_text(json.dumps({"question": f"{pool[26]} {pool[27]}"}) + "\n")
    forum = [{"id": f"f{i}", "text": document(32 + 3 * i)} for i in range(5)]
    parquet = {"kind": "parquet", "id_field": "id"}
    entries = []
    for uid, docs, extra in (
        ("books", books, {"priority": 1}),
        ("web", web, {"pii": {"likelihood": "very_likely", "policy": "drop"}}),
        ("forum", forum, {}),
    ):
        pq.write_table(pa.Table.from_pylist(docs), data / f"{uid}.parquet")
        entries.append(entry(uid, {**parquet, "paths": [f"../data/{uid}.parquet"]}, languages=["fr"], **extra))
    catalog = write_catalog(root / "catalog", *entries)
    strict = {"fr": {"number_words_min_cutoff": 5000}}
    stages = {
        "langid": {"enabled": True},
        "quality": {"enabled": True, "sources": {"web": strict, "forum": strict}},
        "dedup": {"enabled": True, "scope": "language"},
        "decontaminate": {"eval_sets": [{"name": "qa", "path": "evals/qa.jsonl", "fields": ["question"]}]},
        "pii": {"enabled": True},
    }
    path = write_config(
        root / "run.yaml", catalog, root / "out", stages=stages, keep_rejected="sample", rejected_sample_size=4
    )
    manifest = run(load_config(path))
    return root, manifest


@pytest.fixture(scope="module")
def readmitted(parent):
    root, _ = parent
    loose = {"fr": {"number_words_min_cutoff": 5}}
    looser = thresholds(root / "looser.yaml", {"sources": {"web": loose, "forum": loose}})
    manifest = refilter(str(root / "out"), looser, str(root / "looser-out"))
    return root / "looser-out", manifest


def test_parent_rejected_web_and_forum_before_dedup_and_pii(parent):
    root, manifest = parent
    rejected = rows(root / "out", "rejected")
    assert {key for key in rejected if key[0] == "web"} == {
        ("web", "copy"),
        ("web", "iban"),
        ("web", "bench"),
        ("web", "bench-again"),
    }
    assert {row["drop_stage"] for row in rejected.values()} == {"quality"}
    assert len([key for key in rejected if key[0] == "forum"]) == 4  # the sample: 4 of 5
    # the rejected set is redacted whatever the policy: the IBAN is a count, not a value
    assert IBAN not in rejected[("web", "iban")]["text"]
    assert {"category": "IBAN", "count": 1} in rejected[("web", "iban")]["pii_counts"]
    assert EMAIL in rows(root / "out", "data")[("books", "b2")]["text"]  # its source's policy: keep


def test_readmitted_duplicate_and_drop_policy_pii_stay_out(parent, readmitted):
    root, _ = parent
    out, manifest = readmitted
    kept, rejected = rows(out, "data"), rows(out, "rejected")
    assert ("web", "copy") not in kept and ("web", "iban") not in kept
    copy = rejected[("web", "copy")]
    assert (copy["drop_stage"], copy["drop_reason"]) == ("dedup", "exact")
    assert copy["dup_survivor_id"] == rows(root / "out", "data")[("books", "b1")]["id"]
    iban = rejected[("web", "iban")]
    assert (iban["drop_stage"], iban["drop_reason"]) == ("pii", "contains_iban")
    assert IBAN not in iban["text"]
    # of the two copies of the evaluation example, dedup drops one and decontaminate the other
    bench = sorted(
        (rejected[("web", i)]["drop_stage"], rejected[("web", i)]["drop_reason"]) for i in ("bench", "bench-again")
    )
    assert bench == [("decontaminate", "qa"), ("dedup", "exact")]
    assert {k for k in kept if k[0] == "books"} == {("books", "b1"), ("books", "b2")}
    texts = [row["text"] for row in kept.values()]
    assert len(texts) == len(set(texts)) and not any(IBAN in t for t in texts)
    assert {k for k in kept if k[0] != "books"} == {k for k in rows(root / "out", "rejected") if k[0] == "forum"}
    assert manifest["refilter"]["readmitted"] == 4  # the sampled forum documents
    assert manifest["refilter"]["stages"]["dedup"] == "readmitted_against_stored_signatures"


def test_sampled_rejected_set_is_recorded_as_incomplete(readmitted):
    _, manifest = readmitted
    section = manifest["refilter"]
    assert section["complete"] is False
    (gap,) = section["incomplete"]
    assert gap["reason"] == "rejected_set_sampled" and gap["not_reconsidered"] == 1
    assert section["parent_quality_dropped"] == 9 and section["quality_rejects_read"] == 8
    (step,) = [s for s in manifest["sources"]["forum"]["processing"] if s["step"] == "refilter"]
    assert step["parameters"]["complete"] is False


def test_processing_record_says_what_ran_and_verify_passes(readmitted):
    out, manifest = readmitted
    record = manifest["sources"]["web"]["processing"]
    steps = [step["step"] for step in record]
    start = steps.index("refilter")
    assert steps[start:] == ["refilter", *steps[1:start]]  # the parent's run, stage by stage
    assert steps[start + 1 :] == ["clean", "langid", "quality", "dedup", "decontaminate", "pii"]
    by_name = {step["step"]: step for step in record[start:]}
    assert by_name["clean"]["parameters"]["ran"] == "carried"
    assert by_name["quality"]["parameters"]["ran"] == "stored_metrics"
    assert by_name["dedup"]["parameters"]["ran"] == "readmitted_against_stored_signatures"
    assert "template_lines" in by_name["dedup"]["parameters"]["not_run"]
    assert by_name["dedup"]["dropped"] == {"exact": 2}  # the copy of b1, one of the two bench ones
    assert by_name["decontaminate"]["parameters"]["ran"] == "readmitted"
    assert by_name["decontaminate"]["dropped"] == {"qa": 1}
    assert by_name["pii"]["parameters"]["ran"] == "readmitted_with_source_policy"
    assert by_name["pii"]["dropped"] == {"contains_iban": 1}
    assert by_name["pii"]["docs_out"] == 0
    # signatures of the dedup survivors, as a run keeps them: the parent's still kept documents
    # and the readmitted survivors (the IBAN and bench ones among them: later stages dropped them)
    files = [a["path"] for a in manifest["artifacts"] if a["path"].startswith("dedup/signatures/")]
    ids = {r["id"] for f in files for r in pq.read_table(out / f, columns=["id"]).to_pylist()}
    kept = {row["id"] for row in rows(out, "data").values()}
    survivors = [row for row in rows(out, "rejected").values() if row["drop_stage"] in ("decontaminate", "pii")]
    assert ids == kept | {row["id"] for row in survivors} and len(survivors) == 2
    _, problems = verify(str(out))
    assert problems == []


def test_lid_minimums_reapplied_to_a_refiltered_release(readmitted, tmp_path: Path):
    """LID minimums from the stored scores, on the refiltered release as parent: what it kept
    above the new bar stays, below it goes as langid:low_score, and nothing it dropped comes back.
    The same file drops `books` by a word minimum: b2, published with an e-mail under its
    source's `keep` policy, is redacted on its way to the rejected set like every rejected document."""
    out, manifest = readmitted
    kept = rows(out, "data")
    scores = {key: row["lang_score"] for key, row in kept.items() if row["lang_check"] == "verified"}
    assert len(scores) == len(kept) == 6
    bar = statistics.median(score for key, score in scores.items() if key[0] == "forum")
    assert min(scores.values()) < bar < max(scores.values())
    changes = {"lang_min_score": {"fr": bar}, "sources": {"books": {"fr": {"number_words_min_cutoff": 5000}}}}
    stricter = thresholds(tmp_path / "lid.yaml", changes)
    new = refilter(str(out), stricter, str(tmp_path / "lid"))
    now_kept, now_rejected = rows(tmp_path / "lid", "data"), rows(tmp_path / "lid", "rejected")
    for key, score in scores.items():
        if key[0] == "books":
            assert now_rejected[key]["drop_stage"] in ("langid", "quality")
        elif score < bar:
            assert (now_rejected[key]["drop_stage"], now_rejected[key]["drop_reason"]) == ("langid", "low_score")
        else:
            assert key in now_kept and now_kept[key]["lang_score"] == score  # stored, not recomputed
    assert set(now_kept) <= set(kept)
    b2 = now_rejected[("books", "b2")]
    assert EMAIL not in b2["text"] and {"category": "EMAIL", "count": 1} in b2["pii_counts"]
    assert new["config"]["stages"]["langid"]["min_score"] == {"fr": bar}
    assert verify(str(tmp_path / "lid"))[1] == []


def test_refuses_unknown_languages_in_lang_minimums(parent, tmp_path: Path):
    root, _ = parent
    bad = thresholds(tmp_path / "bad.yaml", {"lang_min_score": {"xx-not-a-language": 0.5}})
    with pytest.raises(ConfigError) as err:
        refilter(str(root / "out"), bad, str(tmp_path / "never"))
    assert [p.field for p in err.value.problems] == ["lang_min_score.xx-not-a-language"]
    assert not (tmp_path / "never").exists()


def test_refuses_a_parent_without_stored_signatures(parent, tmp_path: Path):
    """A release whose dedup ran but that holds no signatures (made before they were stored, or
    with them deleted): readmitted documents could not be deduplicated, so refilter refuses."""
    root, _ = parent
    old = tmp_path / "old"
    shutil.copytree(root / "out", old)
    shutil.rmtree(old / "dedup")
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["artifacts"] = [a for a in manifest["artifacts"] if not a["path"].startswith("dedup/")]
    (old / "manifest.json").write_text(json.dumps(manifest))
    looser = thresholds(tmp_path / "looser.yaml", {"sources": {"web": {"fr": {"number_words_min_cutoff": 5}}}})
    with pytest.raises(ConfigError, match=r"no stored signatures \(dedup/signatures/\)"):
        refilter(str(old), looser, str(tmp_path / "never"))
    assert not (tmp_path / "never").exists()
