"""`rootstock verify`, `remove` and `push`: what can be done to a published release."""

from __future__ import annotations

import sys
from typing import Any

from rootstock.paths import absolute
from rootstock.pipeline.release.card import human_bytes
from rootstock.pipeline.release.push import OWNED_DIRS, push
from rootstock.pipeline.release.remove import read_request_file, remove
from rootstock.pipeline.release.verify import verify


def cmd_verify(args) -> int:
    manifest, problems = verify(args.release)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in {args.release}", file=sys.stderr)
        return 1
    files = sum(len(manifest.get(key, [])) for key in ("shards", "rejected_shards", "artifacts"))
    print(
        f"OK: release {manifest['release']}, {files} files match the manifest (size, sha256, rows, text bytes, "
        "languages, sources); its counts add up" + ("; the card is the manifest's" if "card" in manifest else "")
    )
    return 0


def cmd_remove(args) -> int:
    output = absolute(args.output)
    manifest = remove(
        args.release,
        output=output,
        reason=args.reason,
        ids=read_request_file(args.ids) if args.ids else None,
        urls=read_request_file(args.urls) if args.urls else None,
        source=args.source,
        release_id=args.release_id,
        overwrite=args.overwrite,
    )
    request = manifest["removals"][-1]
    diff = request["diff"]
    print(
        f"release {manifest['release']}: removed {request['removed_docs']} documents "
        f"({request['removed_as_near_duplicates']} of them as near/exact duplicates of requested ones); "
        f"{request['matched']} of {request['requested']} requested {request['mode']} found"
    )
    print(
        f"shards: {diff['carried_over']} carried over unchanged, {len(diff['rewritten'])} rewritten, "
        f"{len(diff['deleted'])} deleted"
    )
    if request["not_found"]:
        print(
            f"warning: {request['not_found']} requested {request['mode']} matched nothing in {args.release}",
            file=sys.stderr,
        )
    print(f"output: {output}")
    return 0


def _print_report(report: dict[str, Any]) -> None:
    for warning in report["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    where = f"datasets/{report['repo_id']} (revision {report['revision']}{', private' if report['private'] else ''})"
    if report["dry_run"]:
        print(f"dry run: would push release {report['release']} to {where}")
        for f in report["files"]:
            print(f"  {'lfs' if f['lfs'] else 'regular':<8}{human_bytes(f['bytes']):>10}  {f['path']}")
    lfs = sum(1 for f in report["files"] if f["lfs"])
    print(f"{len(report['files'])} files, {human_bytes(report['bytes'])} ({report['bytes']} bytes, {lfs} through LFS)")
    flags = {"rejected_shards": "--include-rejected", "artifacts": "--include-artifacts"}
    left_out = [f"{n} {key.replace('_', ' ')} (add {flags[key]})" for key, n in report["excluded"].items() if n]
    if left_out:
        print(f"not published: {', '.join(left_out)}")
    print(f"commit message: {report['commit_message']}")
    if report["dry_run"]:
        print(f"on the Hub, files under {', '.join(OWNED_DIRS)} that this release does not list would be deleted")
        print("nothing uploaded (dry run)")
        return
    if report["unchanged"]:
        print(f"{len(report['unchanged'])} file(s) already on the Hub, unchanged")
    if report["deleted"]:
        print(f"deleted {len(report['deleted'])} file(s) of an earlier release")
    if report["committed"]:
        print(f"pushed: {report['commit_url']}")
    else:
        print(f"already up to date, no new commit: {report['commit_url']}")


def cmd_push(args) -> int:
    report = push(
        args.release,
        args.repo_id,
        private=args.private,
        revision=args.revision,
        dry_run=args.dry_run,
        endpoint=args.endpoint,
        include_rejected=args.include_rejected,
        include_artifacts=args.include_artifacts,
    )
    _print_report(report)
    return 0


def add_parsers(sub) -> None:
    check = sub.add_parser("verify", help="recompute checksums and row counts of a release against its manifest")
    check.add_argument("release")
    check.set_defaults(func=cmd_verify)

    rm = sub.add_parser("remove", help="apply a removal request: a new release without those documents")
    rm.add_argument("release")
    what = rm.add_mutually_exclusive_group(required=True)
    what.add_argument("--ids", metavar="FILE", help="one per line: a release `id`, or SOURCE_UID:ORIGINAL_ID")
    what.add_argument("--urls", metavar="FILE", help="one URL per line (scheme, www. and fragment ignored)")
    what.add_argument("--source", metavar="UID", help="a source's opt-out: every document of that source")
    rm.add_argument("--reason", required=True, help="recorded in the manifest (the removed text never is)")
    rm.add_argument("--output", required=True)
    rm.add_argument("--release-id", help="id of the new release (default: PARENT-removalN)")
    rm.add_argument("--overwrite", action="store_true")
    rm.set_defaults(func=cmd_remove)

    _add_push(sub)


def _add_push(sub) -> None:
    p = sub.add_parser("push", help="upload a verified release to a Hugging Face dataset repo (one commit)")
    p.add_argument("release", help="local release directory (with manifest.json)")
    p.add_argument("--repo-id", required=True, help="ORG/NAME of the dataset repo (created if missing)")
    p.add_argument(
        "--private", action="store_true", help="create the repo private; refuse to push to an existing public one"
    )
    p.add_argument("--revision", help="branch to commit to (created from main if missing; default main)")
    p.add_argument("--dry-run", action="store_true", help="list what would be uploaded; contact no server")
    p.add_argument(
        "--endpoint",
        help="Hub URL (default: HF_ENDPOINT, else huggingface.co); HF_HUB_DISABLE_XET=1 for a hub without Xet",
    )
    p.add_argument(
        "--include-rejected", action="store_true", help="also publish rejected/ (dropped text, possibly PII)"
    )
    p.add_argument(
        "--include-artifacts",
        action="store_true",
        help="also publish dedup/ artifacts (MinHash signatures) and search indexes (index/; an index "
        "holding rejected text also needs --include-rejected)",
    )
    p.set_defaults(func=cmd_push)
