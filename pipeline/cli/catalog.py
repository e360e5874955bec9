"""`rootstock catalog validate|list` and `rootstock languages`."""

from __future__ import annotations

import sys

from rootstock.catalog.loader import DEFAULT_CATALOG, validate_catalog
from rootstock.catalog.registry import load_registry
from rootstock.pipeline.cli.tables import text_table


def cmd_validate(args) -> int:
    catalog, problems = validate_catalog(args.dir)
    for file, field, reason in problems:
        print(f"{file}: {field}: {reason}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in {args.dir}", file=sys.stderr)
        return 1
    print(f"{len(catalog.entries)} catalogue entries OK in {catalog.root}")
    return 0


def cmd_list(args) -> int:
    catalog, problems = validate_catalog(args.dir)
    rows = [
        [
            e.uid,
            e.connector.kind,
            ",".join(e.languages) or "(route by LID)",
            e.license.id,
            e.custodian.name,
            f"{e.pii.likelihood.value}/{e.pii.policy.value}",
            e.removal_contact,
        ]
        for e in (catalog.entries[uid] for uid in sorted(catalog.entries))
    ]
    print(text_table(rows, ["uid", "kind", "languages", "license", "custodian", "pii", "removal contact"]))
    if problems:
        print(f"\n{len(problems)} problem(s): run `rootstock catalog validate`", file=sys.stderr)
        return 1
    return 0


def cmd_languages(args) -> int:
    registry = load_registry()
    rows = []
    for lang in registry:
        if args.kind and lang.kind != args.kind:
            continue
        rows.append(
            [
                lang.code,
                lang.name,
                lang.kind,
                "yes" if lang.roots else "no",
                lang.iso639_1 or "-",
                lang.iso639_3 or "-",
                lang.bcp47 or "-",
                lang.script or "-",
                lang.family or "-",
                "-" if lang.roots_share is None else f"{lang.roots_share:g}%",
                " ".join(lang.extensions or []) if lang.kind == "programming" else (lang.word_tokenizer or "-"),
            ]
        )
    header = ["code", "name", "kind", "roots", "639-1", "639-3", "bcp47", "script", "family", "roots bytes"]
    print(text_table(rows, [*header, "tokenizer/extensions"]))
    natural, programming = len(registry.natural()), len(registry.programming())
    roots = sum(1 for lang in registry if lang.roots)
    print(f"\n{len(registry)} languages: {natural} natural, {programming} programming ({roots} in ROOTS)")
    return 0


def add_parsers(sub) -> None:
    cat = sub.add_parser("catalog", help="catalogue commands").add_subparsers(dest="catalog_command", required=True)
    validate = cat.add_parser("validate", help="check every entry; non-zero exit on any problem")
    validate.add_argument(
        "dir", nargs="?", default=str(DEFAULT_CATALOG), help="catalogue directory (default: ./catalog)"
    )
    validate.set_defaults(func=cmd_validate)
    lst = cat.add_parser("list", help="table of catalogue entries")
    lst.add_argument("dir", nargs="?", default=str(DEFAULT_CATALOG), help="catalogue directory (default: ./catalog)")
    lst.set_defaults(func=cmd_list)

    langs = sub.add_parser("languages", help="table of the language registry")
    langs.add_argument("--kind", choices=["natural", "programming"])
    langs.set_defaults(func=cmd_languages)
