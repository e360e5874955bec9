"""`rootstock mix SPEC`: plan and write a training mix."""

from __future__ import annotations

import sys
from typing import Any

from rootstock.errors import MixSpecError
from rootstock.paths import absolute
from rootstock.pipeline.cli.tables import text_table
from rootstock.pipeline.mix.job import mix, plan_only
from rootstock.pipeline.mix.plan import Plan
from rootstock.pipeline.mix.spec import load_spec
from rootstock.pipeline.mix.tokenized import parse_formats


def print_plan(the_plan: Plan, availability: dict[str, str], out=None) -> None:
    out = out or sys.stdout  # looked up when called: a default bound at import misses redirection
    rows = [
        [
            u.unit,
            ",".join(u.components),
            f"{u.tokens:,}",
            f"{round(u.target):,}",
            f"{100 * u.weight:.3f}%",
            f"{u.rate:.3f}",
            u.dropped or "",
        ]
        for u in the_plan.units
    ]
    print(text_table(rows, ["unit", "components", "available", "target", "share", "epochs", "note"]), file=out)
    print(f"\navailable tokens from: {', '.join(f'{c}={a}' for c, a in availability.items())}", file=out)
    for note in the_plan.notes:
        print(f"note: {note}", file=out)


def print_summary(manifest: dict[str, Any], output: str, out=None) -> None:
    out = out or sys.stdout
    rows = []
    for key in ("by_component", "by_lang"):
        for row in manifest[key]:
            rows.append(
                [
                    row.get("component") or row.get("lang"),
                    f"{row['available_tokens']:,}",
                    f"{row['target_tokens']:,}",
                    f"{row['achieved_tokens']:,}",
                    f"{100 * row['target_share']:.2f}%",
                    f"{100 * row['achieved_share']:.2f}%",
                    f"{row['epochs']:.3f}",
                    row["max_copies"],
                ]
            )
        rows.append([""] * 8)
    print(
        text_table(
            rows[:-1],
            ["component / lang", "available", "target", "achieved", "target %", "achieved %", "epochs", "max copies"],
        ),
        file=out,
    )
    totals = manifest["totals"]
    print(
        f"\nmix {manifest['release']}: {totals['achieved_tokens']:,} tokens (target {totals['target_tokens']:,}), "
        f"{totals['docs_out']:,} rows from {totals['unique_docs']:,} documents; {len(manifest['shards'])} shards",
        file=out,
    )
    for warning in manifest.get("warnings", []):
        print(f"note: {warning}", file=out)
    tokenized = manifest.get("tokenized")
    if tokenized:
        tok = tokenized["tokenizer"]
        print(
            f"tokenized ({', '.join(tokenized['formats'])}): {tokenized['documents']:,} documents, "
            f"{tokenized['training_tokens']:,} tokens with one EOS ({tok['eos_token']!r}, id {tok['eos_id']}) each",
            file=out,
        )
        if "megatron" in tokenized:
            data_path = tokenized["megatron"]["data_path"]
            if len(data_path) > 2000:  # a long blend is better copied from the manifest
                data_path = f'"$(jq -r .tokenized.megatron.data_path {output}/manifest.json)"'
            print(f"megatron ({tokenized['megatron']['dtype']}): --data-path {data_path}", file=out)
        if "nanoset" in tokenized:
            print(
                f"nanoset: dataset_folder {output}/nanoset, token_size {tokenized['nanoset']['token_size']}", file=out
            )
    print(f"output: {output}", file=out)


def cmd_mix(args, beam_args: list[str]) -> int:
    spec = load_spec(args.spec, tokenizer=args.tokenizer)
    if args.plan:
        the_plan, availability = plan_only(spec, beam_args)
        print_plan(the_plan, availability)
        return 0
    if not args.output:
        raise MixSpecError("rootstock mix: --output is required (or pass --plan to only print the plan)")
    output = absolute(args.output)
    try:
        formats = parse_formats(args.format)
    except ValueError as err:
        raise MixSpecError(f"rootstock mix: {err}") from None
    manifest = mix(spec, output, beam_args, overwrite=args.overwrite, formats=formats, eos_token=args.eos_token)
    print_summary(manifest, output)
    return 0


def add_parsers(sub) -> None:
    mix_parser = sub.add_parser(
        "mix", help="sample a training mix from releases (catalog/mixes/*.yaml); unknown --flags go to Beam"
    )
    mix_parser.add_argument("spec", help="mix spec YAML, e.g. catalog/mixes/bluumi.yaml")
    mix_parser.add_argument("--output", help="mix directory or URL")
    mix_parser.add_argument("--overwrite", action="store_true", help="replace an existing mix at the output")
    mix_parser.add_argument("--tokenizer", help="tokenizer file, overriding the spec's")
    mix_parser.add_argument(
        "--format",
        default="parquet",
        help="what to write, comma-separated: parquet (text; the default), megatron "
        "(Megatron-LM/-DeepSpeed .bin/.idx), nanoset (datatrove/nanotron .ds); token formats append the EOS "
        "to every document and write a provenance sidecar per shard",
    )
    mix_parser.add_argument(
        "--eos-token", help="end-of-document token for token formats (default: the tokenizer's own EOS)"
    )
    mix_parser.add_argument(
        "--plan", action="store_true", help="print the plan (targets, epochs) and stop; writes nothing"
    )
    mix_parser.set_defaults(func=cmd_mix, beam=True)
