"""`rootstock langid evaluate` and `rootstock langid calibrate`: language ID on labelled text."""

from __future__ import annotations

from rootstock.filters.langid.accuracy import ACCURACY_PATH, accuracy_record, save_accuracy
from rootstock.filters.langid.calibrate import calibrate_policy
from rootstock.filters.langid.evaluate import (
    Report,
    evaluate,
    format_table,
    load_items,
    roots_languages,
    single_backend,
)
from rootstock.filters.langid.policy import (
    CALIBRATION_PATH,
    Ensemble,
    LangIdPolicy,
    default_policy,
    load_calibration,
    load_policy,
    policy_fingerprint,
)

KINDS = ("paragraph", "snippet")


def add_parsers(sub) -> None:
    group = sub.add_parser("langid", help="language-ID commands: evaluate a policy, calibrate its minimum scores")
    group = group.add_subparsers(dest="langid_command", required=True)

    evaluate_parser = group.add_parser(
        "evaluate",
        help="per-language recall, precision and main confusions of each backend and the ensemble, "
        "on paragraphs and 60-character snippets",
    )
    _common(evaluate_parser, split="evaluation")
    evaluate_parser.add_argument("--summary", action="store_true", help="only the languages-passing lines")
    evaluate_parser.add_argument("--no-backends", action="store_true", help="the ensemble only, not each backend alone")
    evaluate_parser.add_argument(
        "--save",
        nargs="?",
        const=str(ACCURACY_PATH),
        metavar="FILE",
        help="write the ensemble's measurement with the policy's fingerprint (what a run's card reports; "
        f"default {ACCURACY_PATH.name} beside the shipped policy)",
    )
    evaluate_parser.set_defaults(func=cmd_evaluate)

    calibrate_parser = group.add_parser(
        "calibrate",
        help="per-backend, per-language minimum scores for a target precision, keyed by model sha256",
    )
    _common(calibrate_parser, split="calibration")
    calibrate_parser.add_argument("--target-precision", type=float, default=0.95)
    calibrate_parser.add_argument(
        "--keep", type=float, default=0.99, help="share of genuine texts a declared-language check keeps"
    )
    calibrate_parser.add_argument(
        "--output",
        help="where to write the table (default: the policy's `calibration` file, else the shipped "
        f"{CALIBRATION_PATH.name})",
    )
    calibrate_parser.set_defaults(func=cmd_calibrate)


def _common(parser, split: str) -> None:
    parser.add_argument(
        "data",
        nargs="*",
        help='labelled JSONL(.gz) files or folders, one {"lang", "text"} per line (default: the shipped '
        "catalog/sample/langid/ sets; a file is one domain)",
    )
    parser.add_argument(
        "--policy",
        help="a policy YAML, or a run config whose stages.langid.ensemble is one (default: the shipped policy)",
    )
    parser.add_argument(
        "--split",
        choices=("calibration", "evaluation", "all"),
        default=split,
        help=f"which lines of the data to use (default {split}; lines without a split belong to both)",
    )


def _policy(args) -> LangIdPolicy:
    return load_policy(args.policy) if args.policy else default_policy()


def _items(args):
    return load_items(args.data or None, split=None if args.split == "all" else args.split, derive_snippets=True)


def cmd_evaluate(args) -> int:
    policy = _policy(args)
    items = _items(args)
    ensemble = Ensemble(policy)
    roots = roots_languages()
    print(f"# {len(items)} labelled texts ({args.split} split); bar: recall and precision ≥ 0.95")
    print(f"# backends: {ensemble.versions()}")
    reports: dict[str, Report] = {}
    if not args.no_backends:
        calibration = load_calibration(policy.calibration)
        for name, spec in policy.backends.items():
            reports[name] = evaluate(single_backend(name, spec, calibration=calibration), items, name, verify=False)
    reports["ensemble"] = evaluate(ensemble, items, "ensemble")
    print(
        "\n## Languages at ≥ 0.95 recall and precision: ROOTS languages passing/tested, every language passing/tested"
    )
    for name, report in reports.items():
        for domain, kind in sorted(report.scores, key=lambda key: (key[0], KINDS.index(key[1]))):
            roots_cell = f"{len(report.passing(domain, kind, roots))}/{len(report.tested(domain, kind, roots))}"
            every = f"{len(report.passing(domain, kind))}/{len(report.tested(domain, kind))}"
            print(f"{name:10} {domain:11} {kind:9}  ROOTS {roots_cell:>6}  all {every:>6}")
    if not args.summary:
        for name, report in reports.items():
            for domain, kind in sorted(report.scores, key=lambda key: (key[0], KINDS.index(key[1]))):
                verified = (
                    " (keep: genuine declared texts verified; rej: impostors rejected)" if report.verification else ""
                )
                print(f"\n## {name}: {domain}, {kind}s{verified}")
                print(format_table(report, domain, kind))
    if args.save:
        made_with = {
            "backends": ensemble.versions(),
            "data": [str(path) for path in (args.data or ["catalog/sample/langid"])],
            "split": args.split,
            "command": "rootstock langid evaluate" + (f" --policy {args.policy}" if args.policy else "") + " --save",
        }
        save_accuracy(accuracy_record(reports["ensemble"], policy_fingerprint(ensemble), made_with), args.save)
        print(f"\nwrote {args.save}")
    return 0


def cmd_calibrate(args) -> int:
    policy = _policy(args)
    items = _items(args)
    result = calibrate_policy(
        policy, [i.text for i in items], [i.lang for i in items], args.target_precision, args.keep
    )
    result.made_with["how"] = (
        f"rootstock langid calibrate{' --policy ' + args.policy if args.policy else ''} on "
        f"{', '.join(map(str, args.data)) or 'catalog/sample/langid'} ({args.split} split): per (backend, "
        f"language) the lowest minimum at precision >= {args.target_precision} (route) and the score keeping "
        f"{args.keep:.0%} of right readings (verify); ROOTS's lid.176 values are not recalibrated"
    )
    output = args.output or policy.calibration or str(CALIBRATION_PATH)
    result.save(output)
    for version, table in sorted(result.tables.items()):
        reached = sum(t.reached for t in table.values())
        print(f"{version}: {len(table)} languages calibrated, {reached} reach precision {args.target_precision}")
        missed = sorted(lang for lang, t in table.items() if not t.reached)
        if missed:
            print(f"  no minimum reaches it (never routed on this backend's word): {', '.join(missed)}")
    print(f"wrote {output}")
    if args.output and not policy.calibration:
        print(f"hint: set stages.langid.ensemble.calibration: {output} in the run config to use it")
    return 0
