"""`rootstock push RELEASE --repo-id ORG/NAME`: publish a verified release as a Hub dataset.

One release becomes one commit ("rootstock release <id>: ..."), so a dataset repo never shows
half a release, and the manifest and data always arrive together. Before that commit the data
files are pre-uploaded in batches through the Hub's content-addressed storage (LFS, or Xet when
`hf_xet` is installed): objects the Hub already holds are not sent again, so re-running the
same command after a failure resumes instead of starting over.

What is published: the data shards the manifest lists, `manifest.json`, the dataset card
`README.md` and the token-count sidecars (`tokens/*.json`). Rejected documents (text that was
dropped, e.g. for PII) and the dedup artifacts stay private unless asked for. A search index
(`index/`: listed in the manifest by `run --index`, or a sidecar of `rootstock index`) is an
artifact too, published with `--include-artifacts` so that `rootstock search hf://datasets/…`
works without rebuilding it; but it stores the text of the rejected sample it indexed, so an
index holding rejected documents is published only with `--include-rejected` as well (else a
warning says it was left out). The push owns `data/`, `rejected/`, `dedup/`, `tokens/` and
`index/` in the repo: files there that this release does not list are deleted in the same
commit, so a repo never mixes files of two releases.

Every request goes to one Hub: `endpoint` (else HF_ENDPOINT, else huggingface.co). HfApi takes
the endpoint for its own calls, but huggingface_hub also reads its module-wide default
directly (the agent-harness lookup every request's headers trigger goes there), so the push
points that default at the same endpoint while it talks to the Hub.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, DatasetCard, HfApi, constants
from huggingface_hub.hf_api import RepoFile
from huggingface_hub.utils.sha import git_hash

from rootstock.errors import PushError
from rootstock.paths import is_url
from rootstock.pipeline.release.card import CARD, human_bytes
from rootstock.pipeline.release.release import INDEX_DIR, MANIFEST, TOKENS_DIR, Release
from rootstock.pipeline.release.search_index import index_jsons, read_index_json
from rootstock.pipeline.release.verify import verify

OWNED_DIRS = ("data/", "rejected/", "dedup/", f"{TOKENS_DIR}/", f"{INDEX_DIR}/")
LFS_MIN_BYTES = 10 * 1024 * 1024  # the Hub stores larger files through LFS whatever their type
MAX_COMMIT_FILES = 25_000  # huggingface_hub: "create_commit is limited to 25k LFS files"
UPLOAD_BATCH_FILES = 32  # one preupload call per batch: failures are accounted per batch
UPLOAD_BATCH_BYTES = 2 << 30
_UPLOAD_FAILED = re.compile(r"Error while uploading '(?P<path>.+?)' to the Hub")


@dataclass(frozen=True)
class Upload:
    path: str  # in the release and in the repo
    local: str
    size: int
    sha256: str | None  # from the (verified) manifest; None for manifest.json and README.md
    binary: bool = False  # holds a NUL byte in its first 512 (the Hub's test): a search index's files

    @property
    def lfs(self) -> bool:
        """What the Hub will choose (Parquet is binary, big files always go through LFS)."""
        return self.binary or self.path.endswith(".parquet") or self.size >= LFS_MIN_BYTES


def _check_card(text: str) -> str | None:
    """Problem with the card's YAML block, found before uploading anything (the Hub refuses bad YAML)."""
    try:
        card = DatasetCard(text)
    except yaml.YAMLError as err:
        raise PushError(f"{CARD}: invalid YAML metadata: {err}") from err
    except ValueError as err:  # huggingface_hub: the block is not a mapping
        raise PushError(f"{CARD}: the YAML metadata block must be a mapping ({err})") from err
    if not card.data.to_dict():
        return "has no YAML metadata block; the Hub will not know the dataset's configs or licence"
    return None


def plan(
    release: str, manifest: dict, *, include_rejected: bool = False, include_artifacts: bool = False
) -> tuple[list[Upload], dict[str, int], list[str]]:
    """(uploads, excluded counts, warnings) for a verified release."""
    lists = {"shards": True, "rejected_shards": include_rejected, "artifacts": include_artifacts}
    uploads, excluded, warnings = [], {}, []
    index, withheld = _index_uploads(release, manifest, include_rejected)
    indexed = {u.path for u in index}
    for key, wanted in lists.items():
        entries = [e for e in manifest.get(key, []) if e["path"] not in (CARD, MANIFEST) and e["path"] not in indexed]
        if not wanted:
            excluded[key] = len(entries) + (len(index) if key == "artifacts" else 0)
            continue
        uploads += [Upload(e["path"], os.path.join(release, e["path"]), e["file_bytes"], e["sha256"]) for e in entries]
    if include_artifacts and withheld:
        warnings.append(withheld)
    elif include_artifacts:
        uploads += index
    manifest_path = os.path.join(release, MANIFEST)
    uploads.append(Upload(MANIFEST, manifest_path, os.path.getsize(manifest_path), None))
    for rel in Release.open(release).sidecar_files():  # verified: bound to this manifest
        local = os.path.join(release, rel)
        uploads.append(Upload(rel, local, os.path.getsize(local), None))
    card = os.path.join(release, CARD)
    if not os.path.isfile(card):
        warnings.append(
            f"{CARD}: missing (a release made before dataset cards); pushing without a card. "
            "Re-run the release with a current rootstock to get one."
        )
        return uploads, excluded, warnings
    if "card" not in manifest:
        warnings.append(
            f"{CARD}: not listed in the manifest (a release made before dataset cards); uploading it as it is"
        )
    uploads.append(Upload(CARD, card, os.path.getsize(card), manifest.get("card", {}).get("sha256")))
    if (problem := _check_card(Path(card).read_text(encoding="utf-8"))) is not None:
        warnings.append(f"{CARD}: {problem}")
    return uploads, excluded, warnings


def _index_uploads(release: str, manifest: dict, include_rejected: bool) -> tuple[list[Upload], str | None]:
    """(the files of every search index of a verified RELEASE, why they are withheld or None).

    sha256s come from the manifest (the listed index) or the index's own index.json (a sidecar).
    """
    listed = {e["path"]: e.get("sha256") for e in manifest.get("artifacts") or []}
    opened = Release.open(release)
    uploads, rejected = [], 0
    for path in index_jsons(opened):
        sidecar = read_index_json(opened.file(path)) or {}
        rejected = max(rejected, (sidecar.get("documents") or {}).get("rejected", 0))  # each indexes all
        base = posixpath.dirname(path)
        own = {f"{base}/{f['path']}": f.get("sha256") for f in sidecar.get("files") or []}
        for rel in [path, *own]:
            local = os.path.join(release, rel)
            with open(local, "rb") as handle:
                binary = b"\0" in handle.read(512)
            uploads.append(Upload(rel, local, os.path.getsize(local), listed.get(rel) or own.get(rel), binary))
    if rejected and not include_rejected:
        dirs = ", ".join(sorted({posixpath.dirname(p) + "/" for p in index_jsons(opened)}))
        return uploads, (
            f"{dirs}: search index not published: it stores the text of {rejected} rejected document(s); "
            "add --include-rejected to publish it with them"
        )
    return uploads, None


def commit_message(manifest: dict, uploads: list[Upload]) -> tuple[str, str]:
    """(summary, description): the summary names the release id; the description says what is in it."""
    shards = manifest.get("shards", [])
    summary = (
        f"rootstock release {manifest['release']}: {len(shards)} shards, {sum(s['rows'] for s in shards)} documents"
    )
    totals = manifest.get("totals", {})
    tool = manifest.get("rootstock", {})
    lines = [
        f"Release id: {manifest['release']}",
        f"Created: {manifest.get('created', '?')} by rootstock {tool.get('version', '?')} ({tool.get('commit', '?')})",
        f"Documents: {totals.get('docs_in', '?')} in, {totals.get('docs_out', '?')} out, {totals.get('docs_dropped', '?')} dropped",
        f"Files: {len(uploads)}, {sum(u.size for u in uploads)} bytes",
    ]
    return summary, "\n".join(lines)


@contextlib.contextmanager
def _hub_endpoint(endpoint: str | None):
    """huggingface_hub's module-wide default endpoint set to ENDPOINT for the block.

    HfApi(endpoint=...) routes its own requests, but some of the library's calls read
    `constants.ENDPOINT` themselves (the agent-harness registry fetched while building every
    request's headers, card validation); without this they would go to huggingface.co (or
    HF_ENDPOINT) while the push targets another Hub.
    """
    if not endpoint:
        yield
        return
    saved = constants.ENDPOINT
    constants.ENDPOINT = endpoint.rstrip("/")
    try:
        yield
    finally:
        constants.ENDPOINT = saved


def _verified(release: str) -> dict:
    manifest, problems = verify(release)
    # Releases made before dataset cards do not list a README.md someone put next to them.
    problems = [p for p in problems if p != f"{CARD}: present but not listed in the manifest"]
    if manifest is None or problems:
        listing = "\n  ".join(problems)
        raise PushError(
            f"{release} does not match its manifest; refusing to push it ({len(problems)} problem(s)):\n  {listing}"
        )
    return manifest


def _http_status(err: BaseException) -> tuple[int | None, str | None, str | None]:
    """(HTTP status, server message, failing path) from anywhere in an exception chain."""
    status = message = path = None
    seen: BaseException | None = err
    while seen is not None:
        response = getattr(seen, "response", None)
        if status is None and getattr(response, "status_code", None) is not None:
            status, message = response.status_code, getattr(seen, "server_message", None)
        if path is None and (match := _UPLOAD_FAILED.search(str(seen))):
            path = match.group("path")
        seen = seen.__cause__ or seen.__context__
    return status, message, path


def _failure(
    err: BaseException,
    *,
    target: str,
    doing: str,
    done: list[Upload] | None = None,
    total: list[Upload] | None = None,
    path: str | None = None,
) -> PushError:
    status, server_message, failed_path = _http_status(err)
    what = f"{doing} {failed_path or path}" if (failed_path or path) else doing
    if status is not None:
        cause = f"HTTP {status}" + (f" ({server_message.splitlines()[0]})" if server_message else "")
    else:
        cause = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    text = f"push to {target} failed while {what}: {cause}"
    if status == 401:
        text += "\nnot authenticated: set HF_TOKEN or log in with `hf auth login`"
    if total is not None:
        done = done or []
        text += (
            f"\n{len(done)} of {len(total)} files ({human_bytes(sum(u.size for u in done))} of "
            f"{human_bytes(sum(u.size for u in total))}) were confirmed uploaded before the failure."
            "\nRe-run the same command to resume: content already on the Hub is not uploaded again."
        )
    return PushError(text)


def _batches(uploads: list[Upload]):
    batch: list[Upload] = []
    for upload in uploads:
        if batch and (
            len(batch) >= UPLOAD_BATCH_FILES or sum(u.size for u in batch) + upload.size > UPLOAD_BATCH_BYTES
        ):
            yield batch
            batch = []
        batch.append(upload)
    if batch:
        yield batch


def push(
    release: str,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    dry_run: bool = False,
    endpoint: str | None = None,
    token: str | None = None,
    include_rejected: bool = False,
    include_artifacts: bool = False,
    num_threads: int = 5,
) -> dict[str, Any]:
    """Upload a verified release to the dataset repo `repo_id` as one commit; a report of what happened.

    `endpoint` defaults to HF_ENDPOINT (else huggingface.co); `token` to HF_TOKEN, else the saved login.
    """
    if is_url(release):
        raise PushError(f"{release}: push reads a local release directory; copy the release here first")
    if repo_id.count("/") != 1:
        raise PushError(f"--repo-id {repo_id!r}: expected ORG/NAME")
    release = release.rstrip("/") or release
    card = os.path.join(release, CARD)
    if os.path.isfile(card):  # the more precise refusal: verify would only say the card differs
        _check_card(Path(card).read_text(encoding="utf-8"))
    manifest = _verified(release)
    uploads, excluded, warnings = plan(
        release, manifest, include_rejected=include_rejected, include_artifacts=include_artifacts
    )
    if len(uploads) > MAX_COMMIT_FILES:
        raise PushError(
            f"{len(uploads)} files is more than one Hub commit takes ({MAX_COMMIT_FILES}); "
            "write fewer, larger shards (shards.max_rows / max_bytes in the run config)"
        )
    summary, description = commit_message(manifest, uploads)
    branch = revision or "main"
    report: dict[str, Any] = {
        "release": manifest["release"],
        "repo_id": repo_id,
        "revision": branch,
        "private": private,
        "dry_run": dry_run,
        "commit_message": summary,
        "files": [{"path": u.path, "bytes": u.size, "lfs": u.lfs} for u in uploads],
        "bytes": sum(u.size for u in uploads),
        "excluded": excluded,
        "warnings": warnings,
    }
    if dry_run:
        return report

    if constants.is_offline_mode():
        raise PushError("HF_HUB_OFFLINE is set: unset it to push (or use --dry-run)")
    with _hub_endpoint(endpoint):
        return _push_online(
            api=HfApi(endpoint=endpoint, token=token),
            repo_id=repo_id,
            uploads=uploads,
            report=report,
            message=(summary, description),
            private=private,
            revision=revision,
            num_threads=num_threads,
        )


def _push_online(
    *,
    api: HfApi,
    repo_id: str,
    uploads: list[Upload],
    report: dict[str, Any],
    message: tuple[str, str],
    private: bool,
    revision: str | None,
    num_threads: int,
) -> dict[str, Any]:
    """The part of `push` that talks to the Hub: repo, branch, what is there, uploads, the commit."""
    summary, description = message
    branch = report["revision"]
    target = f"datasets/{repo_id}@{branch}"
    try:
        url = api.create_repo(repo_id, repo_type="dataset", private=True if private else None, exist_ok=True)
        if revision:
            api.create_branch(repo_id, branch=revision, repo_type="dataset", exist_ok=True)
        info = api.repo_info(repo_id, repo_type="dataset", revision=branch)
        remote = {
            f.path: f
            for f in api.list_repo_tree(repo_id, recursive=True, revision=branch, repo_type="dataset")
            if isinstance(f, RepoFile)
        }
    except Exception as err:
        raise _failure(err, target=target, doing="preparing the repo") from err
    if private and info.private is False:
        raise PushError(
            f"datasets/{repo_id} exists and is public; --private does not change an existing repo. "
            "Make it private on the Hub first, or push to a new repo."
        )
    head, report["repo_url"], report["private"] = info.sha, str(url), bool(info.private)

    def unchanged(u: Upload) -> bool:
        there = remote.get(u.path)
        if there is None or there.size != u.size:
            return False
        if there.lfs is not None:
            return u.sha256 is not None and there.lfs.sha256 == u.sha256
        with open(u.local, "rb") as handle:
            return there.blob_id == git_hash(handle.read())

    todo = [u for u in uploads if not unchanged(u)]
    listed, changed = {u.path for u in uploads}, {u.path for u in todo}
    stale = sorted(p for p in remote if p.startswith(OWNED_DIRS) and p not in listed)
    report["unchanged"] = [u.path for u in uploads if u.path not in changed]
    report["deleted"] = stale
    if not todo and not stale:
        report.update(commit_oid=head, commit_url=f"{api.endpoint}/datasets/{repo_id}/commit/{head}", committed=False)
        return report

    additions: dict[str, Any] = {}
    for u in todo:
        op = CommitOperationAdd(path_in_repo=u.path, path_or_fileobj=u.local)
        if u.sha256 is not None:  # verified above: no second hashing pass over the data
            op.upload_info.sha256 = bytes.fromhex(u.sha256)
        additions[u.path] = op
    done: list[Upload] = []
    for batch in _batches(todo):
        try:
            api.preupload_lfs_files(
                repo_id,
                [additions[u.path] for u in batch],
                repo_type="dataset",
                revision=branch,
                num_threads=num_threads,
            )
        except Exception as err:
            raise _failure(
                err,
                target=target,
                doing="uploading",
                done=done,
                total=todo,
                path=batch[0].path if len(batch) == 1 else None,
            ) from err
        done.extend(batch)
    operations = [CommitOperationDelete(path_in_repo=p) for p in stale] + list(additions.values())
    try:
        info = api.create_commit(
            repo_id,
            operations,
            commit_message=summary,
            commit_description=description,
            repo_type="dataset",
            revision=branch,
            parent_commit=head,
        )
    except Exception as err:
        raise _failure(err, target=target, doing="committing", done=done, total=todo) from err
    report.update(commit_oid=info.oid, commit_url=info.commit_url, committed=True)
    return report
