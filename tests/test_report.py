"""`rootstock report` and `rootstock calibrate` (issue 19) on a release the real pipeline makes
from a small catalogue: three languages of sample prose, documents written to fail a quality
filter (one of them carrying an e-mail address), an exact duplicate, and every document kept
(`keep_rejected: all`) so `refilter` can reconsider them. The report is opened in headless
Chromium when Debian's `chromium` is installed."""

from __future__ import annotations

import base64
import html
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from sample_texts import topic_sentences

from rootstock.pipeline.cli import main
from rootstock.pipeline.release.release import Release
from rootstock.pipeline.report import evaluate as ev
from rootstock.pipeline.report.calibrate import calibrate, write_thresholds
from rootstock.pipeline.report.data import load_documents
from rootstock.pipeline.report.html import resolve
from tests.browser import chromium
from tests.conftest import REPO, built_once, entry, write_catalog, write_config

LANGS = ("en", "fi", "zhs")
EMAIL = "report.tester@example.org"
SENTENCES = 14  # ~2 KB per document: above every language's minimum size (the clean stage)


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    """Made once by `rootstock run`, shared by the processes of `pytest -n` (a lock; read only)."""
    return built_once(tmp_path_factory, "report-release", _make_release) / "release"


def _make_release(root: Path) -> None:
    rng = random.Random(19)
    records = []
    for lang in LANGS:
        pool = topic_sentences(lang, fill="7")
        for i in range(12):
            records.append({"id": f"{lang}-{i}", "lang": lang, "text": " ".join(rng.sample(pool, SENTENCES))})
        # Fails character/word repetition: one sentence over and over.
        records.append({"id": f"{lang}-echo", "lang": lang, "text": " ".join([pool[0]] * 25)})
    # Fails too (a table of numbers), and carries an e-mail address: dropped before the PII stage.
    rows = "\n".join(f"| {i} | {i * 7 % 13}.{i % 10} | -- | {i * 3}% |" for i in range(60))
    records.append({"id": "en-table", "lang": "en", "text": f"Write to {EMAIL} for the figures.\n{rows}"})
    records.append({"id": "en-copy", "lang": "en", "text": records[0]["text"]})
    for record in records:
        record["url"] = f"https://report.example.org/{record['id']}"
    catalog = root / "catalog"
    (catalog / "data").mkdir(parents=True)
    (catalog / "data" / "docs.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    connector = {"kind": "jsonl", "text_field": "text", "id_field": "id", "url_field": "url", "lang_field": "lang"}
    write_catalog(
        catalog,
        entry(
            "docs",
            {**connector, "paths": ["../data/docs.jsonl"]},
            languages=list(LANGS),
            pii={"likelihood": "somewhat_likely", "policy": "redact"},
        ),
    )
    stages = {"langid": {"enabled": True}, "quality": {"enabled": True}, "dedup": {"enabled": True}}
    stages["pii"] = {"enabled": True}
    config = write_config(root / "run.yaml", catalog, stages=stages, keep_rejected="all")
    assert main(["run", str(config), "--output", str(root / "release"), "--quiet"]) == 0


@pytest.fixture(scope="module")
def thresholds(release, tmp_path_factory) -> Path:
    """Calibrated against the release itself (a stand-in for a trusted reference)."""
    path = tmp_path_factory.mktemp("calibrate") / "thresholds.yaml"
    args = ["calibrate", str(release), "--reference", str(release), "--target-removal", "0.3", "--min-docs", "5"]
    assert main([*args, "--output", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def report(release, thresholds, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", str(release), "--output", str(out), "--thresholds", str(thresholds)]) == 0
    return out


NUM = re.compile(r'<a class="num" href="#m([^"]*)" data-paths="([^"]*)" data-value="([^"]*)"[^>]*>([^<]*)</a>')


def _section(text: str, name: str) -> str:
    start = text.index(f'<section id="{name}">')
    return text[start : text.index("</section>", start)]


def test_every_linked_number_is_the_manifest_and_its_anchor_exists(release, report):
    manifest = Release.open(str(release)).manifest
    text = report.read_text(encoding="utf-8")
    links = NUM.findall(text)
    assert len(links) > 50
    for target, paths, value, shown in links:
        paths = json.loads(html.unescape(paths))
        assert sum(resolve(manifest, p) for p in paths) == float(value), paths
        assert float(shown.replace(",", "")) == pytest.approx(float(value), rel=1e-3)
        assert f'id="m{target}"' in text  # the link lands on the manifest place it names
        assert all(p.startswith(target) for p in paths)
    # The manifest the anchors live in is the manifest itself.
    view = re.search(r'<pre id="manifest-json">(.*?)</pre>', text, re.S).group(1)
    assert json.loads(html.unescape(re.sub(r"<[^>]+>", "", view))) == manifest
    # Per-language funnel rows: docs in and out are the sums of the manifest's cells.
    funnel = _section(text, "funnel")
    table = funnel[funnel.index('class="funnel-lang"') :]
    for lang in LANGS:
        row = re.search(rf"<tr><td>{lang}</td>(.*?)</tr>", table).group(1)
        values = [int(v.replace(",", "")) for _, _, _, v in NUM.findall(row)]
        cells = [c for c in manifest["by_source_lang"] if c["lang"] == lang]
        assert values[:2] == [sum(c["docs_in"] for c in cells), sum(c["docs_out"] for c in cells)]
    assert manifest["totals"]["dropped_by_reason"]["dedup:exact"] == 1


def test_report_is_self_contained_with_charts_examples_and_every_section(release, report):
    text = report.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # nothing fetched when viewed
    assert "<script" not in text and "@import" not in text
    charts = re.findall(r'<figure class="chart" data-chart="([^"]+)"><svg', text)
    assert {"funnel-stages", "funnel-lang", "funnel-source", "drops-by-reason", "langid-scores"} <= set(charts)
    assert {f"quality-{lang}" for lang in LANGS} <= set(charts)
    for name in ("funnel", "quality", "calibration", "examples", "langid", "dedup", "pii", "tokens", "manifest"):
        assert f'<section id="{name}">' in text
    # The threshold in force is drawn on its histogram: en's stop-word minimum.
    manifest = Release.open(str(release)).manifest
    k = [s["name"] for s in manifest["stages"]].index("quality")
    stop = manifest["stages"][k]["report"]["languages"]["en"]["thresholds"]["stopwords_min_cutoff"]
    quality_en = text[text.index('data-chart="quality-en"') :]
    assert f'aria-label="threshold: {stop:g}"' in quality_en[: quality_en.index("</figure>")]
    # Rejected examples are redacted here even though they never reached the PII stage.
    assert EMAIL not in text and "PI:EMAIL" in _section(text, "examples")
    shown = set(re.findall(r'<div class="examples" data-reason="([^"]+)">', text))
    assert shown == set(manifest["totals"]["dropped_by_reason"])  # keep_rejected: all, so one set per reason
    assert "en-table" in _section(text, "examples") and "en-echo" in _section(text, "examples")
    # A rootstock report is replaced without --overwrite; a file it did not write is not.
    foreign = report.parent / "notes.html"
    foreign.write_text("<p>mine</p>")
    assert main(["report", str(release), "--output", str(foreign)]) == 2
    assert foreign.read_text() == "<p>mine</p>"


def test_calibrate_then_refilter_does_what_the_report_predicts(release, thresholds, report, tmp_path):
    opened = Release.open(str(release))
    docs = load_documents(opened)
    proposal = ev.read_proposal(opened, thresholds)
    assert set(proposal.changes["thresholds"]) == set(LANGS)
    current = ev.predict_refilter(docs, ev.resolver_for(ev.release_config(opened.manifest)))
    assert sum(current.docs_out.values()) == opened.manifest["totals"]["docs_out"]  # the model of the stage holds
    predicted = ev.predict_refilter(docs, proposal.resolver)
    assert sum(predicted.removed.values()) > 0  # the proposal is stricter than ROOTS's thresholds here
    out = tmp_path / "refiltered"
    assert main(["refilter", str(release), str(thresholds), "--output", str(out)]) == 0
    after = Release.open(str(out)).manifest
    for cell in after["by_source_lang"]:
        key = (cell["source"], cell["lang"])
        assert cell["docs_out"] == predicted.docs_out.get(key, 0), key
        quality = {d["reason"]: d["docs"] for d in cell["dropped"] if d["step"] == "quality"}
        assert quality == {r: n for (s, lang, r), n in predicted.dropped.items() if (s, lang) == key}, key
    # The report's comparison shows the same removal, per language, under the proposed thresholds.
    section = _section(report.read_text(encoding="utf-8"), "calibration")
    assessed = ev.natural_mask(docs) & ev.reached_quality(docs, [s["name"] for s in opened.manifest["stages"]])
    for lang in LANGS:
        idx = np.flatnonzero(assessed & (docs.lang == lang))
        removal, _ = ev.quality_removal(docs, idx, proposal.resolver)
        row = re.search(rf"<tr><td>{lang}</td><td><b>all checks</b></td>(.*?)</tr>", section).group(1)
        assert re.findall(r'class="est"[^>]*>([\d.,]+)', row)[1] == f"{removal:,.0f}"


def test_calibrate_refuses_a_bad_target_and_a_release_without_metrics(release, tmp_path, capsys):
    args = ["calibrate", str(release), "--reference", str(release), "--output", str(tmp_path / "t.yaml")]
    assert main([*args, "--target-removal", "1.5"]) == 2
    assert "--target-removal: 1.5 is not a share between 0 and 1" in capsys.readouterr().err
    result = calibrate(Release.open(str(release)), Release.open(str(release)), 0.1, min_docs=1000)
    assert result.languages == [] and set(result.skipped) >= set(LANGS)
    write_thresholds(result, tmp_path / "empty.yaml")
    assert "fewer than 1000" in (tmp_path / "empty.yaml").read_text()


# -- the report in a browser ---------------------------------------------------------------


def test_report_in_chromium_charts_tables_links_and_no_console_error(release, report, tmp_path):
    manifest = Release.open(str(release)).manifest
    with chromium(tmp_path, window="1280,1000") as browser:
        browser.send("Page.navigate", {"url": report.as_uri()})
        browser.wait_for("document.readyState === 'complete'")
        drawn = browser.evaluate(
            "[...document.querySelectorAll('figure.chart svg')].filter(s => s.getBBox().width > 100).length"
        )
        assert drawn == report.read_text(encoding="utf-8").count('<figure class="chart"') >= 8
        numbers = browser.evaluate(
            "[...document.querySelectorAll('table a.num')].map(a => [a.dataset.paths, a.innerText])"
        )
        assert len(numbers) > 50
        for paths, shown in numbers:
            total = sum(resolve(manifest, p) for p in json.loads(paths))
            assert float(shown.replace(",", "")) == pytest.approx(total, rel=1e-3)
        # Following the total of documents kept lands on its place in the manifest.
        browser.evaluate("document.querySelector('h1 + p a.num:nth-of-type(2)').click()")
        assert browser.evaluate("decodeURIComponent(location.hash)") == "#m/totals/docs_out"
        assert browser.evaluate("document.querySelector(':target').innerText").startswith('"docs_out": ')
        browser.evaluate("window.scrollTo(0, 0)")
        shot = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})["data"]
        (REPO / "build").mkdir(exist_ok=True)
        (REPO / "build" / "report.png").write_bytes(base64.b64decode(shot))
        assert browser.console_errors() == []
