"""`rootstock report` and `rootstock calibrate`: a release's numbers as one HTML file, thresholds proposed."""

from __future__ import annotations

import os
import posixpath
import time

from rootstock.errors import ConfigError, ReleaseExistsError
from rootstock.paths import is_url
from rootstock.pipeline.release.release import Release
from rootstock.pipeline.report.calibrate import HEADER, calibrate, write_thresholds
from rootstock.pipeline.report.html import GENERATOR, build_report


def default_output(release: str) -> str:
    """RELEASE.report.html beside a local release (where `rootstock serve` finds it), else here."""
    name = posixpath.basename(release.rstrip("/")) or "release"
    return f"{release.rstrip('/')}.report.html" if not is_url(release) else f"{name}.report.html"


def _check_output(path: str, marker: str, overwrite: bool) -> None:
    """Replace only what rootstock wrote (its marker in the first KB), unless --overwrite."""
    if not os.path.exists(path) or overwrite:
        return
    if os.path.isdir(path):
        raise ConfigError(f"{path}: is a directory; --output names a file")
    with open(path, "rb") as handle:
        if marker.encode("utf-8") in handle.read(1024):
            return
    raise ReleaseExistsError(f"{path}: exists and was not written by rootstock", hint="pass --overwrite to replace it")


def cmd_report(args) -> int:
    output = args.output or default_output(args.release)
    _check_output(output, GENERATOR, args.overwrite)
    started = time.perf_counter()
    size = build_report(args.release, output, args.thresholds)
    print(f"written: {output} ({size / 1e6:.2f} MB in {time.perf_counter() - started:.1f} s)")
    return 0


def cmd_calibrate(args) -> int:
    if not 0 < args.target_removal < 1:
        raise ConfigError(f"--target-removal: {args.target_removal} is not a share between 0 and 1 (e.g. 0.1)")
    _check_output(args.output, HEADER, args.overwrite)
    release, reference = Release.open(args.release, kind="release"), Release.open(args.reference, kind="release")
    result = calibrate(release, reference, args.target_removal, args.min_docs)
    write_thresholds(result, args.output)
    for c in result.languages:
        values = ", ".join(f"{k}={v}" for k, v in c.thresholds.items())
        print(f"{c.lang}: removes {c.reference_removal:.1%} of {c.reference_docs:.0f} reference documents: {values}")
    for lang, why in sorted(result.skipped.items()):
        print(f"{lang}: not calibrated: {why}")
    print(f"written: {args.output}")
    print(f"see it: rootstock report {args.release} --thresholds {args.output}")
    print(f"apply it: rootstock refilter {args.release} {args.output} --output NEW")
    return 0


def add_parsers(sub) -> None:
    report = sub.add_parser(
        "report",
        help="write one self-contained HTML file of RELEASE: funnel, metric histograms, examples, langid, dedup, PII",
    )
    report.add_argument("release", help="release directory or URL")
    report.add_argument("--output", help="HTML file to write (default: RELEASE.report.html beside the release)")
    report.add_argument("--thresholds", help="a thresholds YAML (`refilter`'s format) to compare with the current ones")
    report.add_argument("--overwrite", action="store_true", help="replace an existing file rootstock did not write")
    report.set_defaults(func=cmd_report)

    cal = sub.add_parser(
        "calibrate",
        help="propose per-language quality thresholds from the metric quantiles of a trusted reference release",
    )
    cal.add_argument("release", help="the release whose thresholds to calibrate")
    cal.add_argument(
        "--reference", required=True, help="a trusted release curated with the same config (e.g. Wikipedia)"
    )
    cal.add_argument(
        "--target-removal", type=float, default=0.1, help="share of the reference the thresholds together remove (0.1)"
    )
    cal.add_argument("--min-docs", type=int, default=20, help="reference documents a language needs (20)")
    cal.add_argument("--output", default="thresholds.yaml", help="thresholds YAML to write (default: thresholds.yaml)")
    cal.add_argument("--overwrite", action="store_true", help="replace an existing file rootstock did not write")
    cal.set_defaults(func=cmd_calibrate)
