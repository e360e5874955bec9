"""Paths and URLs: one definition of "remote", of "relative to the file that names it", of a file's hash.

Every path rootstock reads or writes may be local or a URL of a file system Beam or fsspec
knows (gs://, s3://, hf://, http(s)://); code asks these helpers instead of testing for "://".
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from pathlib import Path


def is_url(path: str) -> bool:
    """True for gs://, s3://, hf://, http(s)://… paths: no local file-system operations apply."""
    return "://" in str(path)


def absolute(path: str) -> str:
    """PATH made absolute against the working directory, unless it is a URL."""
    return str(path) if is_url(path) else os.path.abspath(os.path.expanduser(str(path)))


def resolve_path(path: str, base: str | Path) -> str:
    """PATH relative to BASE (the directory of the file that names it), unless absolute or a URL.
    BASE may be a URL itself (a run config or catalogue read from gs://): then so is the result."""
    if is_url(path):
        return path
    if is_url(str(base)):
        scheme, rest = str(base).split("://", 1)
        joined = posixpath.normpath(posixpath.join("/" + rest, path))
        return f"{scheme}://{joined.lstrip('/')}"
    path = os.path.expanduser(path)
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(base, path))


def parent(path: str | Path) -> str:
    """The directory of a local path or a URL (a URL's stays a URL)."""
    return posixpath.dirname(str(path).rstrip("/")) if is_url(str(path)) else str(Path(path).resolve().parent)


def file_sha256(path: str | Path) -> str:
    """sha256 of a local file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
