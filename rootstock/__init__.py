"""rootstock: curate multilingual pretraining corpora the way BigScience built ROOTS.

One import namespace over the folders of the repository (see `package-dir` in pyproject.toml):

    rootstock.catalog   catalog/    governed source entries, the language registry
    rootstock.sources   sources/    connectors: records in, documents with provenance out
    rootstock.filters   filters/    per-document text logic, no Beam
    rootstock.pipeline  pipeline/   the Beam graph: stages, releases, jobs, mixes, the CLI

This package itself holds what every layer shares: the error hierarchy (`errors`), paths and
URLs (`paths`) and strict, YAML-read settings models (`strict`).
"""

from importlib import metadata

from rootstock.errors import RootstockError

try:
    __version__ = metadata.version("rootstock")
except metadata.PackageNotFoundError:  # a bare checkout that was never installed
    __version__ = "0+unknown"

__all__ = ["RootstockError", "__version__"]
