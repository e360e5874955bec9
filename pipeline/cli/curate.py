"""`rootstock run` and `rootstock refilter`: the jobs that make a release."""

from __future__ import annotations

import shlex
import sys

from rootstock.errors import Interrupted
from rootstock.filters.tokens import Tokenizer
from rootstock.paths import absolute
from rootstock.pipeline.cli.inspect import index_before_publishing
from rootstock.pipeline.cli.tables import print_release_summary
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from rootstock.pipeline.jobs.execute import count_tokens_before_publishing
from rootstock.pipeline.jobs.refilter import refilter
from rootstock.pipeline.release.publish import check_target


def cmd_run(args, beam_args: list[str]) -> int:
    config = load_config(args.config, output=args.output)
    tokenizer = Tokenizer(args.tokenizer) if args.tokenizer else None  # a bad path fails before the run
    check_target(config.output, args.overwrite)  # before catalogue, models and Beam
    # Counted in the staging directory, so the manifest is complete when the release appears.
    try:
        with count_tokens_before_publishing(tokenizer), index_before_publishing(args.index, config.output):
            manifest = run(config, beam_args, overwrite=args.overwrite, quiet=args.quiet, resume=args.resume)
    except Interrupted as err:
        again = ["rootstock", "run", args.config, "--output", config.output, "--resume", *beam_args]
        again += ["--overwrite"] if args.overwrite else []
        again += ["--tokenizer", args.tokenizer] if args.tokenizer else []
        again += ["--index"] if args.index else []
        raise Interrupted(err.message, hint=f"continue with: {shlex.join(again)}\n      {err.hint}") from None
    print_release_summary(manifest, config.output)
    return 0


def cmd_refilter(args, beam_args: list[str]) -> int:
    output = absolute(args.output)
    check_target(output, args.overwrite)
    with index_before_publishing(args.index, output):
        manifest = refilter(
            args.release, args.thresholds, output, beam_args, release_id=args.release_id, overwrite=args.overwrite
        )
    print_release_summary(manifest, output)
    record = manifest.get("refilter") or {}
    for gap in record.get("incomplete") or []:
        print(f"warning: incomplete refilter: {gap.get('detail', gap)}", file=sys.stderr)
    return 0


INDEX_HELP = "also build a search index (see `rootstock index`) into index/listed/, listed in the manifest"


def add_parsers(sub) -> None:
    run_parser = sub.add_parser(
        "run", help="run CONFIG.yaml; unknown --flags go to Beam (e.g. --runner, --direct_num_workers)"
    )
    run_parser.add_argument("config", help="run config YAML: a local path or a URL (gs://, s3://, hf://…)")
    run_parser.add_argument("--output", help="release directory or URL (overrides the config)")
    run_parser.add_argument("--overwrite", action="store_true", help="replace an existing release at the output")
    run_parser.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run of this config and output from its completed work units",
    )
    run_parser.add_argument(
        "--quiet", action="store_true", help="no progress display (a live table on a terminal, a log line otherwise)"
    )
    run_parser.add_argument(
        "--tokenizer",
        help="also count tokens with this SentencePiece model or tokenizer.json, into the manifest (see count-tokens)",
    )
    run_parser.add_argument("--index", action="store_true", help=INDEX_HELP)
    run_parser.set_defaults(func=cmd_run, beam=True)

    again = sub.add_parser(
        "refilter",
        help="re-apply quality thresholds and LID minimums to a release from stored metrics and scores; "
        "readmitted documents go through dedup, decontaminate and pii against what it kept",
    )
    again.add_argument("release")
    again.add_argument("thresholds", help="YAML with any of: thresholds, sources, code, code_sources, lang_min_score")
    again.add_argument("--output", required=True)
    again.add_argument("--release-id", help="id of the new release (default: PARENT-refiltered)")
    again.add_argument("--overwrite", action="store_true")
    again.add_argument("--index", action="store_true", help=INDEX_HELP)
    again.set_defaults(func=cmd_refilter, beam=True)
