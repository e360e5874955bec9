"""User errors raised on workers, delivered to the launcher intact.

Beam reports an exception raised in a DoFn as text wrapped in the runner's own traceback (the
portable and multi-process runners cannot send the exception object), so the launcher could
only scrape messages. A DoFn that raises a RootstockError records it first, as JSON in the
run's scratch directory (shared storage on a cluster); when the pipeline fails, the launcher
reads the records back and raises the first error as itself, with every problem it holds.
"""

from __future__ import annotations

import hashlib
import json
import posixpath

from apache_beam.io.filesystems import FileSystems

from rootstock.errors import RootstockError, rebuild

ERRORS_DIR = "errors"


def errors_dir(scratch: str) -> str:
    return posixpath.join(scratch, ERRORS_DIR)


def record(directory: str | None, error: RootstockError) -> None:
    """Write ERROR under DIRECTORY (one file per distinct error; retries overwrite their own)."""
    if directory is None:
        return
    payload = json.dumps(
        {"class": type(error).__name__, "message": error.message, "problems": error.problems, "hint": error.hint}
    )
    name = hashlib.blake2b(payload.encode(), digest_size=12).hexdigest()
    try:
        with FileSystems.create(posixpath.join(directory, f"{name}.json")) as handle:
            handle.write(payload.encode())
    except OSError:  # the error itself still propagates; only the nicer report is lost
        pass


def collect(directory: str) -> RootstockError | None:
    """The first recorded error (in name order, so the same on every run), or None."""
    try:
        found = FileSystems.match([posixpath.join(directory, "*.json")])[0].metadata_list
    except Exception:
        return None
    records = []
    for meta in sorted(found, key=lambda m: m.path):
        with FileSystems.open(meta.path) as handle:
            records.append(json.loads(handle.read()))
    if not records:
        return None
    first = records[0]
    hint = first.get("hint")
    if len(records) > 1:
        hint = (
            f"{hint + '; ' if hint else ''}{len(records) - 1} more error(s) of this kind were recorded by other workers"
        )
    return rebuild(first["class"], first["message"], first["problems"], hint)
