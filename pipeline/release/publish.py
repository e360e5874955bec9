"""Staging and publishing a release: nothing that looks finished until it is.

A run writes into a hidden sibling directory (`.NAME.partial-RUNID`) and the release appears
at OUTPUT only by a rename once every shard and the manifest are written. A crash leaves at
most the partial directory, never an OUTPUT with a manifest. On object stores, where there
is no directory rename, files are copied in and `manifest.json` is written last: a release
is complete if and only if its manifest exists.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import uuid

from apache_beam.io.filesystems import FileSystems

from rootstock.errors import ReleaseExistsError
from rootstock.paths import is_url
from rootstock.pipeline.release.release import MANIFEST, WORK_DIR


def staging_dir(output: str) -> str:
    parent, name = posixpath.split(output.rstrip("/"))
    return posixpath.join(parent, f".{name}.partial-{uuid.uuid4().hex[:12]}")


def check_target(output: str, overwrite: bool) -> None:
    exists = FileSystems.exists(posixpath.join(output, MANIFEST)) or (not is_url(output) and os.path.exists(output))
    if exists and not overwrite:
        raise ReleaseExistsError(f"{output} already exists; pass --overwrite to replace it")


def discard(staging: str) -> None:
    if is_url(staging):
        if FileSystems.exists(staging + "/"):
            FileSystems.delete([staging + "/"])
    else:
        shutil.rmtree(staging, ignore_errors=True)


def publish(staging: str, output: str, overwrite: bool) -> None:
    work = posixpath.join(staging, WORK_DIR)
    if is_url(staging):
        if FileSystems.exists(work + "/"):
            FileSystems.delete([work + "/"])
        if overwrite and FileSystems.exists(output + "/"):
            FileSystems.delete([output + "/"])
        files = [m.path for m in FileSystems.match([staging + "/**"])[0].metadata_list]
        body = [f for f in files if not f.endswith("/" + MANIFEST)]
        FileSystems.copy(body, [output + f[len(staging) :] for f in body])
        FileSystems.copy([posixpath.join(staging, MANIFEST)], [posixpath.join(output, MANIFEST)])
        FileSystems.delete([staging + "/"])
        return
    shutil.rmtree(work, ignore_errors=True)
    old = None
    if os.path.exists(output):
        check_target(output, overwrite)
        old = staging_dir(output) + ".old"
        os.rename(output, old)
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    os.rename(staging, output)
    if old:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def staged_release(output: str, overwrite: bool, work_dir: bool = False):
    """Yield a staging directory; publish it at OUTPUT if the block succeeds, else discard it."""
    check_target(output, overwrite)
    staging = staging_dir(output)
    FileSystems.mkdirs(posixpath.join(staging, WORK_DIR) if work_dir else staging)
    try:
        yield staging
        publish(staging, output, overwrite)
    except BaseException:
        discard(staging)
        raise
