"""Is there a file system for this path? Asked before any work, so a missing driver is one line.

Beam finds a file system by URL scheme and fails deep inside the first operation when it has
none (or, for s3://, when boto3 is missing), with a traceback that does not say what to install.
"""

from __future__ import annotations

import importlib.util

from apache_beam.io.filesystems import FileSystems

import rootstock.sources.filesystems  # noqa: F401  (registers hf://, az://, http(s)://)
from rootstock.errors import ConfigError
from rootstock.paths import is_url

# Schemes whose Beam file system needs a package that is an extra here.
_NEEDS = {
    "s3": ("boto3", "pip install 'rootstock[s3]'"),
    "gs": ("google.cloud.storage", "pip install 'apache-beam[gcp]'"),
}


def check_storage(path: str, what: str) -> None:
    """ConfigError naming PATH if no installed file system can read or write it."""
    if not is_url(path):
        return
    scheme = path.split("://", 1)[0].lower()
    if scheme in _NEEDS:
        module, install = _NEEDS[scheme]
        if importlib.util.find_spec(module.split(".")[0]) is None:
            raise ConfigError(problems=[(path, what, f"{scheme}:// needs {module.split('.')[0]}: {install}")])
    try:
        FileSystems.get_filesystem(path)
    except ValueError:
        raise ConfigError(
            problems=[
                (
                    path,
                    what,
                    f"no file system for {scheme}:// (rootstock reads local paths, gs://, s3://, hf://, az://, http(s)://)",
                )
            ]
        ) from None
