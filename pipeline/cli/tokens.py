"""`rootstock count-tokens` and `rootstock tokenizer train`."""

from __future__ import annotations

from rootstock.pipeline.jobs.count_tokens import BATCH_SIZE, count_tokens
from rootstock.pipeline.jobs.train_tokenizer import (
    CHARACTER_COVERAGE,
    MODEL_TYPES,
    SAMPLE_BYTES,
    render_readme,
    train_tokenizer,
)
from rootstock.pipeline.release.release import sidecar_path


def _add_count(sub) -> None:
    parser = sub.add_parser(
        "count-tokens",
        help="count tokens per shard, source and language into RELEASE/tokens/ (the manifest is never changed); "
        "unknown --flags go to Beam",
    )
    parser.add_argument("release", help="release directory or URL")
    parser.add_argument(
        "--tokenizer", required=True, help="SentencePiece .model, a tokenizer.json, or a directory holding one"
    )
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="texts per tokenizer call")
    parser.set_defaults(func=cmd_count_tokens, beam=True)


def cmd_count_tokens(args, beam_args: list[str]) -> int:
    section = count_tokens(args.release, args.tokenizer, beam_args, batch_size=args.batch_size)
    tok = section["tokenizer"]
    width = max([len(lang) for lang in section["by_lang"]] + [4])
    for lang, n in section["by_lang"].items():
        print(f"{lang:<{width}}  {n:>14,}")
    print(f"{'total':<{width}}  {section['total']:>14,}")
    print(f"tokenizer: {tok['kind']} {tok['path']} (vocab {tok['vocab_size']}, sha256 {tok['sha256'][:12]}…)")
    print(f"written: {args.release.rstrip('/')}/{sidecar_path(tok['sha256'])} (manifest.json unchanged)")
    return 0


def _add_train(sub) -> None:
    group = sub.add_parser("tokenizer", help="tokenizer commands")
    group = group.add_subparsers(dest="tokenizer_command", required=True)
    train = group.add_parser(
        "train", help="SentencePiece on a language-weighted, line-deduplicated sample; unknown --flags go to Beam"
    )
    train.add_argument("release", help="release directory or URL")
    train.add_argument("--vocab-size", type=int, required=True)
    train.add_argument(
        "--alpha", type=float, default=0.3, help="p_l ∝ n_l^alpha over language sizes in bytes (BLOOM: 0.3)"
    )
    train.add_argument("--model-type", choices=MODEL_TYPES, default="bpe")
    train.add_argument(
        "--output", required=True, help="local directory for tokenizer.model, .vocab, tokenizer_card.json"
    )
    train.add_argument(
        "--sample-bytes", type=int, default=SAMPLE_BYTES, help="total sample size, capped by what exists"
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--character-coverage", type=float, default=CHARACTER_COVERAGE)
    train.add_argument("--langs", help="comma-separated language codes (default: all but und)")
    train.add_argument("--threads", type=int, help="SentencePiece training threads (default: CPUs, at most 16)")
    train.add_argument("--work-dir", help="where the sample's parts go while Beam runs (a URL for remote runners)")
    train.add_argument("--keep-sample", action="store_true", help="keep OUTPUT/sample.txt")
    train.add_argument("--overwrite", action="store_true")
    train.set_defaults(func=cmd_tokenizer_train, beam=True)


def cmd_tokenizer_train(args, beam_args: list[str]) -> int:
    card = train_tokenizer(
        args.release,
        args.output,
        vocab_size=args.vocab_size,
        alpha=args.alpha,
        model_type=args.model_type,
        sample_bytes=args.sample_bytes,
        seed=args.seed,
        character_coverage=args.character_coverage,
        langs=args.langs.split(",") if args.langs else None,
        threads=args.threads,
        beam_args=beam_args,
        work_dir=args.work_dir,
        keep_sample=args.keep_sample,
        overwrite=args.overwrite,
    )
    print(render_readme(card))
    print(f"output: {args.output}")
    return 0


def add_parsers(sub) -> None:
    _add_count(sub)
    _add_train(sub)
