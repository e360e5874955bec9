"""Search and inspection (issue 19): `rootstock index`, `search`, `show`, `serve`, on a release the
real pipeline makes from a small catalogue with one planted document per language (en, zhs, hi,
ar, fi), an exact copy in a second source (dedup), a too-short document (quality) and an e-mail
address (PII). The `serve` page is driven end to end in headless Chromium when it is installed."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import shutil
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sample_texts import topic_sentences

from rootstock.pipeline.cli import main as cli_main
from rootstock.pipeline.inspect.index import SearchIndex, build_index
from rootstock.pipeline.inspect.search import search
from rootstock.pipeline.inspect.serve import make_server
from rootstock.pipeline.inspect.show import show
from rootstock.pipeline.release.release import INDEX_JSON, Release
from rootstock.pipeline.release.search_index import LISTED_DIR, index_problems, sidecar_dir
from rootstock.pipeline.release.verify import verify
from tests.browser import chromium
from tests.conftest import built_once, entry, run_cli, write_catalog, write_config

# The planted sentence of each language, a ranked query (words that are nowhere else) and an
# exact phrase (in the sentence's order).
PLANTED = {
    "en": (
        "The zorbly lighthouse keeper painted seventeen violet herons on the harbour wall.",
        "zorbly herons",
        "zorbly lighthouse keeper",
    ),
    "zhs": ("一只紫色的长颈鹿每天晚上在图书馆里唱歌。", "紫色长颈鹿", "长颈鹿每天晚上在图书馆"),
    "hi": ("एक बैंगनी जिराफ़ हर शाम पुस्तकालय में गाना गाता है।", "बैंगनी जिराफ़", "जिराफ़ हर शाम पुस्तकालय"),
    "ar": ("زرافة بنفسجية تغني كل مساء في المكتبة القديمة.", "زرافة بنفسجية", "تغني كل مساء في المكتبة"),
    "fi": ("Violetti kirahvi laulaa joka ilta vanhassa kirjastossa.", "violetti kirahvi", "kirahvi laulaa joka ilta"),
}
EMAIL = "zorbly.keeper@example.org"
SHORT = "The zorbly committee will meet again next week in the town hall."  # in the quality-dropped document
SENTENCES = 14  # ~2 KB per document: well above every language's minimum size (the `clean` stage)


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    """A release made by `rootstock run` with every stage on, and its index: made once, shared by
    the test processes of `pytest -n` (a lock; each only reads it, tests that change it copy it)."""
    return built_once(tmp_path_factory, "inspect-release", _make_release) / "release"


def _make_release(root: Path) -> None:
    rng = random.Random(19)
    records = []
    for lang, (sentence, _, _) in PLANTED.items():
        pool = topic_sentences(lang, fill="7")
        for i in range(5):
            records.append({"id": f"{lang}-{i}", "lang": lang, "text": " ".join(rng.sample(pool, SENTENCES))})
        body = rng.sample(pool, SENTENCES - 1)
        body.insert(3, sentence)
        if lang == "en":
            body.insert(5, f"Tickets are sold by mail: write to {EMAIL} before Friday.")
        records.append({"id": f"{lang}-planted", "lang": lang, "text": " ".join(body)})
    for record in records:
        record["url"] = f"https://planted.example.org/{record['id']}"
    copy = {"id": "copy-1", "text": records[0]["text"], "url": "https://mirror.example.net/en-0"}
    note = rng.sample(topic_sentences("en", fill="7"), SENTENCES - 1)
    note.insert(2, SHORT)
    notes = {"id": "note-1", "text": " ".join(note), "url": "https://notes.example.net/1"}

    catalog = root / "catalog"
    (catalog / "data").mkdir(parents=True)
    (catalog / "data" / "planted.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    (catalog / "data" / "mirror.jsonl").write_text(json.dumps(copy) + "\n")
    (catalog / "data" / "notes.jsonl").write_text(json.dumps(notes) + "\n")
    connector = {"kind": "jsonl", "text_field": "text", "id_field": "id", "url_field": "url"}
    write_catalog(
        catalog,
        entry(
            "planted",
            {**connector, "paths": ["../data/planted.jsonl"], "lang_field": "lang"},
            languages=list(PLANTED),
            license={"id": "CC-BY-4.0"},
            pii={"likelihood": "somewhat_likely", "policy": "redact"},
            priority=80,
        ),
        entry("mirror", {**connector, "paths": ["../data/mirror.jsonl"]}, priority=10),
        entry("notes", {**connector, "paths": ["../data/notes.jsonl"]}),
    )
    stages = {
        "langid": {"enabled": True},
        # A per-source threshold no document of `notes` meets: its one document is dropped by quality.
        "quality": {"enabled": True, "sources": {"notes": {"all": {"number_words_min_cutoff": 5000}}}},
        "dedup": {"enabled": True, "scope": "language"},
        "pii": {"enabled": True},
    }
    config = write_config(root / "run.yaml", catalog, stages=stages, keep_rejected="all")
    out = root / "release"
    # `run --index`: an index listed in the manifest; then `rootstock index`: a sidecar beside it
    printed = run_cli("run", str(config), "--output", str(out), "--index").stdout
    assert f"written: {out}/{LISTED_DIR}/ (listed in manifest.json)" in printed
    before = hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()
    build_index(str(out))
    assert hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest() == before


@pytest.fixture(scope="module")
def index(release) -> SearchIndex:
    return SearchIndex.open(str(release))


def _by_record(index: SearchIndex, record_id: str) -> dict:
    (doc,) = index.lookup("source_doc_id", record_id)
    return doc


# -- the index sidecar ------------------------------------------------------------------------


def test_index_is_a_sidecar_bound_to_the_manifest(release, index):
    opened = Release.open(str(release))
    base = release / sidecar_dir(opened.manifest_sha256)
    sidecar = json.loads((base / INDEX_JSON).read_text())
    assert base.parent.name == "index" and base.name == opened.manifest_sha256[:16]
    assert sidecar["kind"] == "search-index" and sidecar["manifest_sha256"] == opened.manifest_sha256
    assert sidecar["engine"]["name"] == "tantivy" and sidecar["engine"]["version"]
    # Every kept document and the whole rejected set (keep_rejected: all) are indexed.
    expected = {
        "data": sum(s["rows"] for s in opened.manifest["shards"]),
        "rejected": sum(s["rows"] for s in opened.manifest["rejected_shards"]),
    }
    assert sidecar["documents"] == expected and expected["rejected"] >= 2
    # Each language was split by its own splitter.
    assert "jieba" in sidecar["splitters"]["zhs"]
    assert "IndicNLP" in sidecar["splitters"]["hi"]
    assert "SpaCy" in sidecar["splitters"]["fi"]
    for f in sidecar["files"]:
        data = (base / f["path"]).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (f["file_bytes"], f["sha256"])
    assert index_problems(opened) == []


def test_verify_names_a_tampered_or_stale_index_sidecar(release, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(release, copy)
    opened = Release.open(str(copy))
    base = copy / sidecar_dir(opened.manifest_sha256)
    store = next(p for p in (base / "tantivy").iterdir() if p.suffix == ".store")
    store.write_bytes(store.read_bytes() + b"x")
    (base / "tantivy" / "extra.bin").write_bytes(b"?")
    problems = verify(str(copy))[1]
    assert any(store.name in p and "sha256 differs" in p for p in problems), problems
    assert any("extra.bin: present but not listed" in p for p in problems), problems
    # An index built for another manifest is not used (the listed one is), and verify says so.
    sidecar = json.loads((base / INDEX_JSON).read_text())
    (base / INDEX_JSON).write_text(json.dumps({**sidecar, "manifest_sha256": "0" * 64}))
    assert any("built for manifest sha256 000" in p for p in index_problems(opened))
    assert SearchIndex.open(str(copy)).found.path == LISTED_DIR


def test_run_index_lists_the_index_in_the_manifest_and_verify_accepts_it(release, index):
    manifest = json.loads((release / "manifest.json").read_text())
    sidecar = json.loads((release / LISTED_DIR / INDEX_JSON).read_text())
    listed = {a["path"] for a in manifest["artifacts"] if a["path"].startswith("index/")}
    assert listed == {f"{LISTED_DIR}/{INDEX_JSON}", *(f"{LISTED_DIR}/{f['path']}" for f in sidecar["files"])}
    # Written before the manifest, it names none: it is bound to the shards by their sha256s.
    assert sidecar["manifest_sha256"] is None and sidecar["documents"] == index.sidecar["documents"]
    shards = manifest["shards"] + manifest["rejected_shards"]
    assert {s["path"]: s["sha256"] for s in sidecar["shards"]} == {s["path"]: s["sha256"] for s in shards}
    # Both indexes (listed and sidecar) verify, after the searches of the other tests read them.
    search(index, "zorbly herons")
    assert verify(str(release))[1] == []


def test_the_listed_index_is_searched_and_its_tampering_named(release, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(release, copy)
    shutil.rmtree(copy / sidecar_dir(Release.open(str(copy)).manifest_sha256))  # only the listed index left
    listed = SearchIndex.open(str(copy))
    assert listed.found.listed and listed.found.path == LISTED_DIR
    for lang, (_, query, phrase) in PLANTED.items():
        assert search(listed, query).hits[0].doc["source_doc_id"] == f"{lang}-planted"
        assert [h.doc["source_doc_id"] for h in search(listed, phrase, exact=True).hits] == [f"{lang}-planted"]
    assert verify(str(copy))[1] == []
    store = next(p for p in (copy / LISTED_DIR / "tantivy").iterdir() if p.suffix == ".store")
    data = bytearray(store.read_bytes())
    data[len(data) // 2] ^= 0x01
    store.write_bytes(bytes(data))
    (copy / LISTED_DIR / "tantivy" / "extra.bin").write_bytes(b"?")
    assert cli_main(["verify", str(copy)]) == 1
    err = capsys.readouterr().err
    assert f"{LISTED_DIR}/tantivy/{store.name}: sha256" in err
    assert f"{LISTED_DIR}/tantivy/extra.bin: present but not listed" in err
    # index.json edited to match the tampered file: the manifest's sha256 of index.json tells
    sidecar = json.loads((copy / LISTED_DIR / INDEX_JSON).read_text())
    entry = next(f for f in sidecar["files"] if f["path"] == f"tantivy/{store.name}")
    entry["sha256"] = hashlib.sha256(bytes(data)).hexdigest()
    (copy / LISTED_DIR / INDEX_JSON).write_text(json.dumps(sidecar))
    problems = verify(str(copy))[1]
    assert any(p.startswith(f"{LISTED_DIR}/{INDEX_JSON}: sha256") for p in problems), problems
    assert any(p.startswith(f"{LISTED_DIR}/{INDEX_JSON}: content sha256") for p in problems), problems


def test_refilter_index_indexes_the_new_release_before_publishing_it(release, tmp_path, capsys):
    """`refilter --index` (in process): the document the new thresholds readmit is searchable and kept."""
    thresholds = tmp_path / "looser.yaml"
    thresholds.write_text(json.dumps({"sources": {"notes": {"all": {"number_words_min_cutoff": 5}}}}))
    out = tmp_path / "refiltered"
    assert cli_main(["refilter", str(release), str(thresholds), "--output", str(out), "--index"]) == 0
    assert f"written: {out}/{LISTED_DIR}/ (listed in manifest.json)" in capsys.readouterr().out
    assert verify(str(out))[1] == []
    refiltered = SearchIndex.open(str(out))
    assert refiltered.found.listed and refiltered.sidecar["documents"]["rejected"] == 1  # the duplicate
    (hit,) = search(refiltered, SHORT, exact=True).hits
    assert (hit.doc["source_doc_id"], hit.doc["set"]) == ("note-1", "data")
    kept = show(str(out), "note-1")
    assert kept["verdict"] == "kept" and _stage(kept, "quality")["details"]["first_failure"] is None
    # A child release's trail: ingest, the refilter that re-read it, then the steps it re-applied.
    names = [s["name"] for s in show(str(out), "copy-1")["stages"]]
    assert names[:2] == ["ingest", "refilter"] and names.count("dedup") == 1 and names.count("quality") == 1
    assert _stage(show(str(out), "copy-1"), "dedup")["status"] == "dropped"


def test_overwrite_replaces_a_release_with_its_indexes_and_nothing_else(release, tmp_path):
    from rootstock.errors import ReleaseExistsError
    from rootstock.pipeline.release.publish import check_target

    copy = tmp_path / "copy"
    shutil.copytree(release, copy)
    check_target(str(copy), overwrite=True)  # every file is rootstock's, both indexes included
    (copy / "index" / "notes.txt").write_text("mine")
    with pytest.raises(ReleaseExistsError, match="notes.txt"):
        check_target(str(copy), overwrite=True)


def test_push_publishes_the_index_only_with_artifacts_and_the_rejected_sample(release, monkeypatch):
    from huggingface_hub import constants

    from rootstock.pipeline.release.push import push
    from tests.hub_server import HubServer

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # the only server is on loopback
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    token, repo = "hf_loopback_test_token", "rootstock-org/inspect"
    files = sorted(Release.open(str(release)).index_files())  # the listed index and the sidecar
    assert f"{LISTED_DIR}/{INDEX_JSON}" in files and len({f.split("/")[1] for f in files}) == 2
    artifacts = json.loads((release / "manifest.json").read_text())["artifacts"]
    with HubServer(token=token) as hub:
        report = push(str(release), repo, endpoint=hub.url, token=token)
        listed = [a for a in artifacts if a["path"].startswith("index/")]
        assert report["excluded"]["artifacts"] == len(artifacts) - len(listed) + len(files)
        assert not any(p.startswith("index/") for p in hub.files(repo))
        # It stores the rejected sample's text: --include-artifacts alone leaves it out, and says so.
        report = push(str(release), repo, endpoint=hub.url, token=token, include_artifacts=True)
        rejected = json.loads((release / LISTED_DIR / INDEX_JSON).read_text())["documents"]["rejected"]
        (warning,) = [w for w in report["warnings"] if "search index not published" in w]
        assert f"the text of {rejected} rejected document(s)" in warning and "--include-rejected" in warning
        assert not any(p.startswith("index/") for p in hub.files(repo))
        push(str(release), repo, endpoint=hub.url, token=token, include_artifacts=True, include_rejected=True)
        there = hub.files(repo)
        assert {p: there.get(p) for p in files} == {p: (release / p).read_bytes() for p in files}
        assert there["manifest.json"] == (release / "manifest.json").read_bytes()


# -- search -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", list(PLANTED))
def test_ranked_search_finds_the_planted_document(index, lang):
    _, query, _ = PLANTED[lang]
    for options in ({}, {"lang": lang}):
        results = search(index, query, **options)
        assert results.hits, (lang, options, results.words)
        top = results.hits[0].doc
        assert top["source_doc_id"] == f"{lang}-planted", (
            lang,
            options,
            [h.doc["source_doc_id"] for h in results.hits],
        )
        assert top["lang"] == lang and top["set"] == "data"
        assert any(match for _, match in results.hits[0].snippet)
    # Without --lang the query was split by the languages written in its script.
    assert lang in search(index, query).languages


@pytest.mark.parametrize("lang", list(PLANTED))
def test_exact_search_finds_only_the_planted_document(index, lang):
    _, _, phrase = PLANTED[lang]
    results = search(index, phrase, exact=True)
    assert [h.doc["source_doc_id"] for h in results.hits] == [f"{lang}-planted"]
    assert results.total == 1
    marked = "".join(t for t, match in results.hits[0].snippet if match)
    assert marked.replace(" ", "") == phrase.replace(" ", "")
    # The same words in another order are no exact match.
    words = phrase.split() if " " in phrase else list(phrase)
    assert search(index, " ".join(reversed(words)), exact=True).total == 0


def test_exact_search_finds_part_of_a_segmented_chinese_word(index):
    """jieba keeps 长颈鹿 (giraffe) as one word; its first two characters are still found."""
    assert index.count("words", "长颈") == 0  # no document's words hold it…
    for exact in (True, False):  # …but its characters, in this order, are found
        assert [h.doc["source_doc_id"] for h in search(index, "长颈", exact=exact).hits] == ["zhs-planted"]


def test_search_filters_and_provenance(index):
    _, query, _ = PLANTED["zhs"]
    assert search(index, query, lang="fi").total == 0
    assert search(index, query, lang="zh-Hans").hits[0].doc["lang"] == "zhs"  # registry aliases
    assert search(index, "zorbly", source="mirror").total == 0
    hit = search(index, "zorbly herons").hits[0]
    prov = hit.provenance()
    assert prov["source"] == "planted" and prov["license"] == "CC-BY-4.0"
    assert prov["url"] == "https://planted.example.org/en-planted" and prov["source_doc_id"] == "en-planted"
    assert prov["input_file"].endswith("planted.jsonl") and isinstance(prov["input_row"], int)
    # Rejected documents are found only when asked for.
    assert search(index, "zorbly committee", exact=True).total == 0
    rejected = search(index, "zorbly committee", exact=True, rejected=True).hits
    assert [(h.doc["source_doc_id"], h.doc["set"], h.doc["drop_stage"]) for h in rejected] == [
        ("note-1", "rejected", "quality")
    ]


def test_search_command_prints_ranked_results_with_provenance(release, capsys):
    assert cli_main(["search", str(release), "zorbly herons", "--limit", "3"]) == 0
    out = capsys.readouterr().out
    first = out.split("\n  1.")[1].split("\n  2.")[0]
    assert "planted" in first and "CC-BY-4.0" in first and "https://planted.example.org/en-planted" in first
    assert "read from:" in first and "record en-planted" in first and "«zorbly»" in first
    assert cli_main(["search", str(release), "长颈鹿每天晚上", "--exact", "--json"]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert json.loads(line)["source_doc_id"] == "zhs-planted"


def test_search_without_an_index_says_how_to_make_one(release, tmp_path, capsys):
    copy = tmp_path / "bare"
    shutil.copytree(release, copy, ignore=shutil.ignore_patterns("index"))
    assert cli_main(["search", str(copy), "zorbly"]) == 2
    err = capsys.readouterr().err
    assert "no search index for this manifest" in err and f"rootstock index {copy}" in err


# -- show -------------------------------------------------------------------------------------


BUILT_IN = ["ingest", "langid", "quality", "dedup", "pii"]


def _stage(trail: dict, name: str) -> dict:
    return next(s for s in trail["stages"] if s["name"] == name)


def test_show_explains_a_kept_document(release, index):
    doc = _by_record(index, "en-planted")
    trail = show(str(release), doc["id"])
    assert trail["verdict"] == "kept" and trail["set"] == "data"
    assert trail["provenance"]["license"] == "CC-BY-4.0" and trail["source"]["license"]["id"] == "CC-BY-4.0"
    assert trail["source"]["custodian"]["contact"] == "tests@example.org"
    assert trail["provenance"]["url"] == "https://planted.example.org/en-planted"
    names = [s["name"] for s in trail["stages"]]
    assert [n for n in names if n in BUILT_IN] == BUILT_IN and names[0] == "ingest"
    assert all(s["status"] in ("read", "passed") for s in trail["stages"])
    langid = _stage(trail, "langid")["details"]
    assert langid["lang_check"] == "verified" and langid["lang_score"] >= langid["min_score"]
    quality = _stage(trail, "quality")["details"]
    assert quality["first_failure"] is None and quality["from"] == "the run's config"
    words = next(c for c in quality["checks"] if c["metric"] == "number_of_words")
    assert words["ok"] and words["value"] >= words["min"]
    pii = _stage(trail, "pii")["details"]
    assert pii["counts"] == {"EMAIL": 1} and pii["actions"] == {"EMAIL": "redact"}
    assert EMAIL not in trail["text"] and "PI:EMAIL" in trail["text"]
    # The same trail by the document's URL or its record id.
    assert show(str(release), "https://planted.example.org/en-planted")["id"] == doc["id"]
    assert show(str(release), "en-planted")["id"] == doc["id"]


def test_show_explains_a_document_quality_dropped(release, index):
    doc = _by_record(index, "note-1")
    trail = show(str(release), doc["id"])
    assert trail["verdict"] == "dropped by quality: number_of_words" and trail["set"] == "rejected"
    statuses = {s["name"]: s["status"] for s in trail["stages"]}
    assert statuses["langid"] == "passed" and statuses["quality"] == "dropped" and statuses["dedup"] == "not reached"
    assert _stage(trail, "quality")["reason"] == "number_of_words"
    quality = _stage(trail, "quality")["details"]
    assert quality["first_failure"] == "number_of_words"
    # The source's own threshold, as the stage resolved it from the run's config.
    words = next(c for c in quality["checks"] if c["metric"] == "number_of_words")
    assert words["ok"] is False and words["min"] == 5000 and 100 < words["value"] < 5000
    assert all(c["ok"] is not False for c in quality["checks"] if c["metric"] != "number_of_words")


def test_show_explains_a_duplicate_and_its_survivor(release, index):
    copy, original = _by_record(index, "copy-1"), _by_record(index, "en-0")
    trail = show(str(release), copy["id"])
    assert trail["verdict"] == "dropped by dedup: exact" and trail["provenance"]["source"] == "mirror"
    dedup = _stage(trail, "dedup")
    assert dedup["status"] == "dropped" and dedup["reason"] == "exact"
    assert dedup["details"]["survivor"]["id"] == original["id"] and dedup["details"]["survivor"]["set"] == "data"
    kept = show(str(release), original["id"])
    cluster = _stage(kept, "dedup")["details"]
    assert cluster["cluster_size"] == 2
    assert [(m["id"], m["drop_reason"]) for m in cluster["members"]] == [(copy["id"], "exact")]


def test_show_command_and_show_without_an_index(release, tmp_path, capsys):
    assert cli_main(["show", str(release), "note-1", "--text-chars", "0"]) == 0
    out = capsys.readouterr().out
    assert "(dropped by quality: number_of_words)" in out
    assert "number_of_words" in out and "FAILS" in out and SHORT in out
    copy = tmp_path / "bare"
    shutil.copytree(release, copy, ignore=shutil.ignore_patterns("index"))
    trail = show(str(copy), "copy-1")  # found by scanning the shards
    assert _stage(trail, "dedup")["details"]["survivor"]["set"] == "data"
    assert cli_main(["show", str(copy), "no-such-document"]) == 2
    assert "no document 'no-such-document'" in capsys.readouterr().err


# -- serve ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(release, tmp_path_factory):
    report = tmp_path_factory.mktemp("report") / "report.html"
    report.write_text("<!doctype html><title>report</title><h1 id='funnel'>funnel</h1>")
    srv = make_server(str(release), "127.0.0.1", 0, report=str(report))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _get(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode("utf-8")


def test_serve_pages_and_api(server, index):
    status, headers, body = _get(server + "/?q=" + urllib.request.quote("紫色长颈鹿"))
    assert status == 200 and "default-src 'none'" in headers["Content-Security-Policy"]
    assert "zhs-planted" in body and "<mark>" in body and 'id="report-link"' in body
    status, _, body = _get(server + "/api/search?exact=1&q=" + urllib.request.quote(PLANTED["ar"][2]))
    data = json.loads(body)
    assert status == 200 and [h["source_doc_id"] for h in data["hits"]] == ["ar-planted"]
    doc = _by_record(index, "note-1")
    status, _, body = _get(server + f"/doc/{doc['id']}")
    assert status == 200 and "dropped by quality: number_of_words" in body
    status, _, body = _get(server + f"/api/doc/{doc['id']}")
    assert json.loads(body)["set"] == "rejected"
    assert _get(server + "/report")[2].count("funnel") == 2
    assert _get(server + "/doc/nothing-like-this")[0] == 404
    assert _get(server + "/../../etc/passwd")[0] == 404
    status, _, body = _get(server + "/?q=%21%21%21")
    assert status == 400 and "nothing to search for" in body
    # Another name for 127.0.0.1 (DNS rebinding from a page elsewhere) is refused.
    request = urllib.request.Request(server + "/?q=zorbly", headers={"Host": "attacker.example:80"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 421


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path) as tools:
        yield tools


def test_serve_in_chromium_type_a_query_see_results_open_a_document(server, browser, tmp_path):
    browser.send("Page.navigate", {"url": server + "/"})
    browser.wait_for("document.readyState === 'complete' && !!document.getElementById('q')")
    browser.click("#q")
    browser.send("Input.insertText", {"text": PLANTED["hi"][1]})
    for kind in ("keyDown", "keyUp"):
        browser.send(
            "Input.dispatchKeyEvent",
            {
                "type": kind,
                "key": "Enter",
                "code": "Enter",
                "windowsVirtualKeyCode": 13,
                "text": "\r" if kind == "keyDown" else "",
            },
        )
    browser.wait_for("document.querySelectorAll('li.hit').length > 0")
    first = browser.evaluate("document.querySelector('li.hit').innerText")
    assert "hi" in first and "planted" in first and "CC-BY-4.0" in first and "planted.example.org/hi-planted" in first
    assert browser.evaluate("document.querySelector('li.hit mark').innerText") == PLANTED["hi"][1]  # the phrase
    assert "q=" in browser.evaluate("location.search")
    browser.click("li.hit a.doc-link")
    browser.wait_for("!!document.getElementById('verdict')")
    assert browser.evaluate("document.getElementById('verdict').innerText") == "kept"
    assert PLANTED["hi"][0] in browser.evaluate("document.getElementById('text').innerText")
    stages = browser.evaluate("[...document.querySelectorAll('#stages > li')].map(li => li.dataset.stage)")
    assert [s for s in stages if s in BUILT_IN] == BUILT_IN
    assert browser.evaluate("document.querySelector('#provenance .license').innerText").startswith("CC-BY-4.0")
    shot = browser.send("Page.captureScreenshot", {"format": "png"})["data"]
    (tmp_path / "document.png").write_bytes(base64.b64decode(shot))
    assert browser.console_errors() == []


def test_index_and_search_a_release_on_an_object_store(release, tmp_path):
    """Through Beam's file systems (fsspec's memory:// here, as gs:// or s3://): built locally,
    uploaded with index.json last, and copied back (checked against index.json) to search."""
    import fsspec

    bare = tmp_path / "bare"
    shutil.copytree(release, bare, ignore=shutil.ignore_patterns("index"))
    url = f"memory://rootstock-inspect/{tmp_path.name}/release"
    fsspec.filesystem("memory").put(str(bare), url.removeprefix("memory://"), recursive=True)
    report = build_index(url)
    assert report.sidecar["documents"]["data"] > 0
    opened = Release.open(url)
    assert index_problems(opened) == []
    remote = SearchIndex.open(url)
    try:
        hits = search(remote, PLANTED["fi"][2], exact=True).hits
        assert [h.doc["source_doc_id"] for h in hits] == ["fi-planted"]
        assert show(url, "fi-planted")["verdict"] == "kept"
    finally:
        shutil.rmtree(Path(remote.path).parent)  # the local copy


def test_index_built_by_worker_processes_is_the_same(release, index, tmp_path):
    """Large releases split words in worker processes (one here: the same code path, half the CPU)."""
    copy = tmp_path / "copy"
    shutil.copytree(release, copy, ignore=shutil.ignore_patterns("index"))
    report = build_index(str(copy), workers=1)
    assert report.workers == 1 and report.sidecar["documents"] == index.sidecar["documents"]
    assert report.sidecar["splitters"] == index.sidecar["splitters"]
    parallel = SearchIndex.open(str(copy))
    for lang, (_, query, phrase) in PLANTED.items():
        for exact, q in ((False, query), (True, phrase)):
            one, two = search(index, q, exact=exact), search(parallel, q, exact=exact)
            assert [h.id for h in one.hits] == [h.id for h in two.hits], (lang, q)
            assert [round(h.score, 4) for h in one.hits] == [round(h.score, 4) for h in two.hits], (lang, q)
