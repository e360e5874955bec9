"""Staging and publishing a release: nothing that looks finished until it is, nothing lost that was not ours.

A run writes into a hidden sibling directory (`.NAME.partial-RUNID`) and the release appears
at OUTPUT only by a rename once every shard and the manifest are written. A crash leaves at
most the partial directory, never an OUTPUT with a manifest. On object stores, where there
is no directory rename, files are copied in and `manifest.json` is written last: a release
is complete if and only if its manifest exists.

`--overwrite` replaces only what rootstock made: an empty directory, or a release (or mix)
whose manifest lists every file in it. Anything else at OUTPUT (the working directory, the
catalogue, a file) is refused before any work, and so is a release someone put other files
into. Every staging directory carries a marker (pid, host, process start) from the moment it
is made, so the next run of the same OUTPUT can tell its own debris (a SIGKILLed run's raw,
pre-redaction spill files) from someone else's directory, and a dead run's from a live one's.

A job that can resume (`rootstock run --resume`) also writes a run record into the staging
directory's work dir: what the run is (config, catalogue entries, inputs, code). `--resume`
continues in a dead run's staging directory when its record equals the new run's, keeping only
its checkpoints (pipeline/jobs/units.py); anything changed is refused, naming what changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import posixpath
import shutil
import socket
import tempfile
import uuid
from typing import Any

from apache_beam.io.filesystem import BeamIOError
from apache_beam.io.filesystems import FileSystems

from rootstock.errors import Interrupted, ReleaseError, ReleaseExistsError, ResumeError
from rootstock.paths import absolute, is_url
from rootstock.pipeline.release.release import MANIFEST, WORK_DIR, Release, read_manifest_bytes, relative_path
from rootstock.sources.filesystems import check_storage

log = logging.getLogger(__name__)

# In every staging directory rootstock makes; never part of a published release.
MARKER = ".rootstock-partial.json"
MANIFEST_KINDS = ("release", "mix")
_LISTED_AT_MOST = 10
# In a staging directory's work dir: what the run is, compared by --resume.
RUN_RECORD = "run.json"
# What a resumed run keeps of the work dir; everything else there is the dead run's scratch.
RESUMABLE = "checkpoints"


def staging_dir(output: str) -> str:
    """A fresh hidden sibling of OUTPUT (name only; `make_staging` creates and marks it)."""
    parent, name = posixpath.split(output.rstrip("/"))
    return posixpath.join(parent, f".{name}.partial-{uuid.uuid4().hex[:12]}")


def _partial_prefix(output: str) -> tuple[str, str]:
    parent, name = posixpath.split(output.rstrip("/"))
    return parent, f".{name}.partial-"


# -- who made a staging directory -------------------------------------------------------------


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks (/proc), to tell a reused pid from the owner."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def _owner() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(), "started": _process_start(os.getpid())}


def write_marker(directory: str, output: str) -> None:
    """Mark DIRECTORY as a staging directory of OUTPUT made by this process."""
    record = {
        "rootstock": "staging directory",
        "output": output,
        **_owner(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    with FileSystems.create(posixpath.join(directory, MARKER)) as handle:
        handle.write(json.dumps(record, indent=2).encode())


def _read_marker(directory: str) -> dict[str, Any] | None:
    path = posixpath.join(directory, MARKER)
    try:
        if not FileSystems.exists(path):
            return None
        with FileSystems.open(path) as handle:
            record = json.loads(handle.read())
    except (OSError, ValueError, BeamIOError):
        return None
    return record if isinstance(record, dict) and record.get("rootstock") == "staging directory" else None


def _alive(owner: dict[str, Any]) -> bool | None:
    """Is the process that made a staging directory still running? None: another host, cannot tell."""
    if owner.get("host") != socket.gethostname():
        return None
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process, but running
    started = owner.get("started")
    now = _process_start(pid)
    return not (started is not None and now is not None and now != started)  # a reused pid is not the owner


def make_staging(output: str, suffix: str = "", *, work_dir: bool = False) -> str:
    """Create and mark a staging directory beside OUTPUT (`suffix` for a job's scratch: -tokens, -plan)."""
    staging = staging_dir(output) + suffix
    FileSystems.mkdirs(posixpath.join(staging, WORK_DIR) if work_dir else staging)
    write_marker(staging, output)
    return staging


# -- stale partials ---------------------------------------------------------------------------


def _partials(output: str) -> list[str]:
    parent, prefix = _partial_prefix(output)
    if is_url(output):
        # Object stores have no directories to list; a staging prefix is found by its marker.
        try:
            found = FileSystems.match([posixpath.join(parent, prefix + "*", MARKER)])[0].metadata_list
        except (BeamIOError, OSError):
            return []
        return sorted({posixpath.dirname(m.path) for m in found})
    try:
        names = os.listdir(parent or ".")
    except OSError:
        return []
    return sorted(
        os.path.join(parent, n) for n in names if n.startswith(prefix) and os.path.isdir(os.path.join(parent, n))
    )


def _rm_command(path: str) -> str:
    return f"gsutil -m rm -r '{path}'" if path.startswith("gs://") else f"rm -rf '{path}'"


def sweep_partials(output: str, keep: str | None = None) -> list[str]:
    """Remove what earlier, dead runs of OUTPUT left beside it; report what cannot be judged.

    A SIGKILLed run cannot clean up after itself: its staging directory keeps raw documents
    (spill files, before PII redaction) until someone removes it, so the next run of the same
    OUTPUT does. Only marked directories (made by rootstock) whose owner is gone from this
    host are removed; a live owner's, another host's and an unmarked one are left alone and
    reported with the command to remove them. Returns the messages (also logged as warnings).
    """
    notes = []
    for path in _partials(output):
        if path == keep:
            continue
        marker = _read_marker(path)
        if marker is None:
            notes.append(
                f"{path}: looks like a staging directory of {output} but has no rootstock marker "
                f"(an older rootstock, or not rootstock's); left alone. If it is a dead run's: {_rm_command(path)}"
            )
            continue
        who = f"pid {marker.get('pid')} on {marker.get('host')}"
        alive = _alive(marker)
        if alive:
            notes.append(f"{path}: in use by a running rootstock ({who}); left alone")
        elif alive is None:
            notes.append(
                f"{path}: left by {who}, which cannot be checked from here; if that run is over: {_rm_command(path)}"
            )
        elif path.endswith(".old") and not _exists(output):
            # A crash between the two renames of a publish: this is the previous release.
            notes.append(
                f"{path}: the previous release of {output}, which is missing; restore it: mv '{path}' '{output}'"
            )
        else:
            resumable = _read_run_record(path) is not None
            discard(path)
            notes.append(
                f"removed {path}: left by {who}, which is no longer running"
                + (" (--resume continues such a run instead)" if resumable else "")
            )
    for note in notes:
        log.warning(note)
    return notes


# -- resuming ---------------------------------------------------------------------------------


def write_run_record(staging: str, record: dict[str, Any]) -> None:
    with FileSystems.create(posixpath.join(staging, WORK_DIR, RUN_RECORD)) as handle:
        handle.write(json.dumps(record, indent=2, sort_keys=True, default=str).encode())


def _read_run_record(staging: str) -> dict[str, Any] | None:
    try:
        with FileSystems.open(posixpath.join(staging, WORK_DIR, RUN_RECORD)) as handle:
            record = json.loads(handle.read())
    except (OSError, ValueError, BeamIOError):
        return None
    return record if isinstance(record, dict) else None


def _staged_files(staging: str) -> list[str]:
    if is_url(staging):
        return _url_files(staging)
    return _local_files(staging)


def _clear_for_resume(staging: str) -> None:
    """Delete the dead run's scratch (spill files, partial shards, counters, recorded errors, its
    Beam temp files) and unfinished checkpoints; keep finished checkpoints and the run record."""
    keep_prefix = f"{WORK_DIR}/{RESUMABLE}/"
    doomed = []
    for rel in _staged_files(staging):
        if rel in (MARKER, f"{WORK_DIR}/{RUN_RECORD}"):
            continue
        if rel.startswith(keep_prefix) and rel.endswith((".pkl", ".json")):
            continue
        doomed.append(posixpath.join(staging, rel))
    if is_url(staging):
        if doomed:
            FileSystems.delete(doomed)
        return
    for path in doomed:
        os.remove(path)
    for top, _, _ in sorted(os.walk(staging), key=lambda entry: -len(entry[0])):
        if top != staging and not os.listdir(top):
            os.rmdir(top)


def resume_partial(output: str, record: dict[str, Any], compare) -> str | None:
    """The staging directory of an interrupted run of OUTPUT, taken over to continue it; None if
    there is none. COMPARE(old record, RECORD) lists what changed: any change is refused."""
    candidates = []
    for path in _partials(output):
        marker = _read_marker(path)
        old = _read_run_record(path) if marker is not None else None
        if old is not None and not path.endswith(".old"):
            candidates.append((str(marker.get("created", "")), path, marker, old))
    if not candidates:
        log.warning("--resume: no interrupted run of %s was found; starting from the beginning", output)
        return None
    _, path, marker, old = max(candidates)
    who = f"pid {marker.get('pid')} on {marker.get('host')}"
    alive = _alive(marker)
    if alive:
        raise ResumeError(f"{path}: the run to resume is still running ({who})", hint="stop it first, then resume")
    if alive is None:
        log.warning("--resume: %s was left by %s, which cannot be checked from here; make sure it is over", path, who)
    changes = compare(old, record)
    if changes:
        raise ResumeError(
            f"cannot resume the interrupted run in {path}: what it would produce has changed",
            problems=[(None, None, change) for change in changes],
            hint="undo the change, or run without --resume to start over (that removes the interrupted run's work)",
        )
    write_marker(path, output)  # ours now: a concurrent run sees a live owner
    _clear_for_resume(path)
    log.warning("--resume: continuing the interrupted run in %s", path)
    return path


# -- what is at OUTPUT ------------------------------------------------------------------------


def _exists(output: str) -> bool:
    if is_url(output):
        return bool(_url_files(output)) or FileSystems.exists(posixpath.join(output, MANIFEST))
    return os.path.lexists(output)


def _url_files(output: str) -> list[str]:
    """Relative paths of the objects under OUTPUT/."""
    try:
        found = FileSystems.match([output.rstrip("/") + "/**"])[0].metadata_list
    except (BeamIOError, OSError):
        return []
    return sorted(rel for m in found if (rel := relative_path(output, m.path)))


def _local_files(output: str) -> list[str]:
    files = []
    for top, dirs, names in os.walk(output):
        dirs.sort()
        for name in names:
            files.append(os.path.relpath(os.path.join(top, name), output).replace(os.sep, "/"))
    return sorted(files)


def _listing(paths: list[str]) -> str:
    shown = ", ".join(paths[:_LISTED_AT_MOST])
    return shown + (f" and {len(paths) - _LISTED_AT_MOST} more" if len(paths) > _LISTED_AT_MOST else "")


def _release_at(output: str, files: list[str], root: str | None = None) -> Release | None:
    """The rootstock release or mix at OUTPUT, None if it is empty; ReleaseExistsError if it is something else.

    FILES are the relative paths found there; ROOT is where it is now, if it was moved aside.
    """
    root = root or output
    if not files:
        return None
    hint = "choose another --output, or move its contents away yourself"
    if MANIFEST not in files:
        raise ReleaseExistsError(
            f"{output} is not a rootstock release (no {MANIFEST}) and not empty; "
            f"--overwrite replaces only a release or an empty directory ({len(files)} file(s) there, e.g. {_listing(files)})",
            hint=hint,
        )
    with FileSystems.open(posixpath.join(root, MANIFEST)) as handle:
        raw = handle.read()
    try:
        manifest = read_manifest_bytes(raw, posixpath.join(output, MANIFEST))
    except ReleaseError as err:
        raise ReleaseExistsError(f"{output} is not a rootstock release: {err}", hint=hint) from None
    if not isinstance(manifest.get("manifest_version"), int) or manifest.get("kind") not in MANIFEST_KINDS:
        raise ReleaseExistsError(
            f"{output} is not a rootstock release: its {MANIFEST} has no manifest_version and kind "
            f"({'/'.join(MANIFEST_KINDS)}); --overwrite replaces only a release or an empty directory",
            hint=hint,
        )
    release = Release(root, manifest, "")
    unlisted = [f for f in files if f not in release.owned_files()]
    if unlisted:
        raise ReleaseExistsError(
            f"{output} is a rootstock release, but {len(unlisted)} file(s) in it are not in its manifest and "
            f"would be lost: {_listing(unlisted)}",
            hint="move them out of the release (or delete them) yourself, then run again",
        )
    return release


def check_target(output: str, overwrite: bool) -> None:
    """Refuse, before any work, an OUTPUT this run may not create or replace.

    Absent: fine. Present without --overwrite: refused. With --overwrite: an empty directory
    or a rootstock release whose every file is rootstock's may be replaced; a file, a symbolic
    link or a directory holding anything else is refused, naming what is there.
    """
    check_storage(output, "--output")
    if not _exists(output):
        return
    if not overwrite:
        raise ReleaseExistsError(f"{output} already exists; pass --overwrite to replace it")
    if is_url(output):
        _release_at(output, _url_files(output))
        return
    if os.path.islink(output):
        raise ReleaseExistsError(
            f"{output} is a symbolic link; --overwrite replaces only a release directory",
            hint=f"give the directory it points to ({os.path.realpath(output)}) as --output",
        )
    if not os.path.isdir(output):
        raise ReleaseExistsError(
            f"{output} is a file, not a release; --overwrite replaces only a release or an empty directory",
            hint="choose another --output, or move the file away yourself",
        )
    _release_at(output, _local_files(output))


# -- publishing -------------------------------------------------------------------------------


def discard(staging: str) -> None:
    if is_url(staging):
        if FileSystems.exists(staging + "/"):
            FileSystems.delete([staging + "/"])
    else:
        shutil.rmtree(staging, ignore_errors=True)


def _publish_url(staging: str, output: str) -> None:
    """Copy the new release in, manifest last, then delete what only the old one listed.

    There is no rename on object stores: deleting the old release first would leave OUTPUT
    without a release until the copy ends. Files at the same path are overwritten in place.
    """
    work = posixpath.join(staging, WORK_DIR)
    if FileSystems.exists(work + "/"):
        FileSystems.delete([work + "/"])
    old = _release_at(output, _url_files(output))
    files = [(m.path, relative_path(staging, m.path)) for m in FileSystems.match([staging + "/**"])[0].metadata_list]
    body = [(f, rel) for f, rel in files if rel and rel not in (MANIFEST, MARKER)]
    if body:
        FileSystems.copy([f for f, _ in body], [posixpath.join(output, rel) for _, rel in body])
    FileSystems.copy([posixpath.join(staging, MANIFEST)], [posixpath.join(output, MANIFEST)])
    if old is not None:
        new = Release.open(output)
        stale = sorted(old.owned_files() - new.owned_files())
        stale = [posixpath.join(output, rel) for rel in stale]
        stale = [path for path in stale if FileSystems.exists(path)]
        if stale:
            FileSystems.delete(stale)
    FileSystems.delete([staging + "/"])


def _remove_tree(path: str) -> None:
    if os.path.islink(path) or not os.path.isdir(path):
        os.unlink(path)
    else:
        shutil.rmtree(path)


def _publish_local(staging: str, output: str) -> None:
    """Rename the old release aside, the new one in, then delete the old one.

    The old one is checked again once it is out of the way (nothing can be added to it there),
    so a file someone put into it during the run is never deleted: the old release is renamed
    back and the run refused.
    """
    shutil.rmtree(posixpath.join(staging, WORK_DIR), ignore_errors=True)
    os.remove(posixpath.join(staging, MARKER))
    old = None
    if os.path.lexists(output):
        old = staging_dir(output) + ".old"
        os.rename(output, old)
        try:
            if os.path.islink(old) or not os.path.isdir(old):
                raise ReleaseExistsError(f"{output} is no longer a directory; the new release was not published")
            _release_at(output, _local_files(old), root=old)
        except BaseException:
            os.rename(old, output)
            raise
        write_marker(old, output)  # a crash before the rmtree leaves a directory the next run can judge
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    os.rename(staging, output)
    if old:
        _remove_tree(old)


def publish(staging: str, output: str, overwrite: bool) -> None:
    if is_url(output):
        check_target(output, overwrite)
        _publish_url(staging, output)
    else:
        if os.path.lexists(output) and not overwrite:
            raise ReleaseExistsError(f"{output} appeared during the run; pass --overwrite to replace it")
        _publish_local(staging, output)


@contextlib.contextmanager
def beam_tempdir(staging: str):
    """Point Python's temporary directory (and TMPDIR for worker processes) into STAGING's work dir.

    Beam makes temporary directories of its own (`beam-pipeline-temp*` when a Pipeline is
    built, the portable runner's staging files) and removes them only when a run completes
    normally; failed and killed runs leave them in /tmp. Inside the staging directory they go
    with it: at publish, at discard, or when the next run removes a dead run's partial. A
    remote staging directory gets a local one of its own, removed at the end.
    """
    if is_url(staging):
        directory, owned = tempfile.mkdtemp(prefix="rootstock-beam-"), True
    else:
        directory, owned = posixpath.join(staging, WORK_DIR, "tmp"), False
        os.makedirs(directory, exist_ok=True)
    saved_dir, saved_env = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = directory
    os.environ["TMPDIR"] = directory
    try:
        yield directory
    finally:
        tempfile.tempdir = saved_dir
        if saved_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_env
        if owned:
            shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def staged_release(
    output: str,
    overwrite: bool,
    work_dir: bool = False,
    *,
    run_record: dict[str, Any] | None = None,
    resume: bool = False,
    compare=None,
):
    """Yield a staging directory; publish it at OUTPUT if the block succeeds, else discard it.

    Before anything is made: OUTPUT is checked (`check_target`) and dead runs' partials of it
    are removed (`sweep_partials`). With a RUN_RECORD the run can be resumed: `resume` takes
    over an interrupted run's staging directory (see `resume_partial`), and a run stopped by
    Ctrl-C keeps its staging directory (Interrupted is raised) instead of discarding it.
    """
    output = absolute(output).rstrip("/")
    check_target(output, overwrite)
    staging = resume_partial(output, run_record, compare) if resume and run_record is not None else None
    sweep_partials(output, keep=staging)
    if staging is None:
        staging = make_staging(output, work_dir=work_dir)
        if run_record is not None:
            write_run_record(staging, run_record)
    try:
        yield staging
        publish(staging, output, overwrite)
    except KeyboardInterrupt:
        if run_record is None:
            discard(staging)
            raise
        raise Interrupted(
            f"interrupted; the completed work is kept in {staging}",
            hint=f"or start over: {_rm_command(staging)} (a run without --resume removes it too)",
        ) from None
    except BaseException:
        discard(staging)
        raise
