"""Pipeline options: the local default runner, the memory cap, what a manifest records of them."""

from __future__ import annotations

import ctypes
import difflib
import os
import re
import sys
from typing import Any

from apache_beam.options.pipeline_options import PipelineOptions

import rootstock.pipeline.beam.spill  # noqa: F401  (registers --spill, so it is a known option)
from rootstock.errors import ConfigError
from rootstock.pipeline.beam.versions import OPTION as LAUNCHER_VERSIONS
from rootstock.pipeline.beam.versions import pin_worker_versions

# The default DirectRunner first tries to download a Prism binary; name the local runner.
FN_API_RUNNER = "apache_beam.runners.portability.fn_api_runner.FnApiRunner"
_SECRET_WORDS = ("token", "secret", "password", "key", "credential")


def pipeline_options(beam_args: list[str] | None) -> PipelineOptions:
    """Beam's options from the command line's unknown flags; a flag Beam does not know is an error.

    Beam itself only logs a warning and drops what it cannot parse, so `--runnr=Portable…` would
    run on the default runner and be recorded in the manifest as if it meant something.
    """
    args = list(beam_args or [])
    check_flags(args)
    if not any(a == "--runner" or a.startswith("--runner=") for a in args):
        args.append(f"--runner={FN_API_RUNNER}")
    # Workers in other processes or images (Dataflow, Flink, Spark, EXTERNAL) check their versions.
    return PipelineOptions(pin_worker_versions(args))


def check_flags(args: list[str]) -> None:
    """Every argument is `--known_option[=value]` or the value of the option before it."""
    known = set(PipelineOptions([]).get_all_options(drop_default=False))
    problems = []
    takes_value = False
    for arg in args:
        if arg.startswith("--") and len(arg) > 2:
            name, has_value, _ = arg[2:].partition("=")
            if name.replace("-", "_") in known:
                takes_value = not has_value
                continue
            close = difflib.get_close_matches(name.replace("-", "_"), known, n=1)
            hint = f"; did you mean --{close[0]}?" if close else ""
            problems.append((None, arg, f"not a rootstock or Beam option{hint}"))
        elif arg.startswith("-") and arg != "-":
            problems.append(
                (None, arg, "not a Beam option (rootstock's own -v goes before the command: rootstock -v run …)")
            )
        elif not takes_value:
            problems.append((None, arg, "unexpected argument"))
        takes_value = False
    if problems:
        raise ConfigError("unknown command-line options", problems=problems)


def cap_malloc_arenas(arenas: int = 2) -> None:
    """Fewer glibc malloc arenas for this process and the SDK workers it starts.

    glibc gives threads that allocate at the same time arenas of their own (up to 8 per core)
    and an arena keeps what its objects freed, so with Beam's gRPC and bundle threads RSS grows
    with the work done rather than with live data (benchmarks/pipeline.py measures it). Workers
    inherit the variable; this process is set with mallopt. An explicit MALLOC_ARENA_MAX wins.
    """
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return
    os.environ["MALLOC_ARENA_MAX"] = str(arenas)
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc (musl, …): nothing to cap
        pass


def runner_record(options: PipelineOptions) -> dict[str, Any]:
    """The options a user chose, for the manifest, with anything that can carry a credential redacted.

    Values of secret-looking options and of free-form ones (labels, service options: people
    put tokens there) are replaced, and so are credentials inside URLs and `key=value` items.
    """
    chosen = options.get_all_options(drop_default=True, retain_unknown_options=True)
    record = {}
    for name, value in sorted(chosen.items()):
        if value is None or name == LAUNCHER_VERSIONS:  # ~5 kB of package versions: not a choice
            continue
        if any(word in name.lower() for word in _SECRET_WORDS) or name in _FREE_FORM:
            record[name] = REDACTED
        else:
            record[name] = _scrub(value)
    return record


REDACTED = "<redacted>"
# Options whose values are free text a user may fill with anything, credentials included.
_FREE_FORM = {"labels", "dataflow_service_options", "service_options", "environment_options", "beam_services"}
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
_SECRET_ITEM = re.compile(r"(?P<key>[^=,\s]*(?:token|secret|password|key|credential)[^=,\s]*)=[^,\s]+", re.IGNORECASE)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        value = _URL_CREDENTIALS.sub(lambda m: m["scheme"] + REDACTED + "@", value)
        return _SECRET_ITEM.sub(lambda m: m["key"] + "=" + REDACTED, value)
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {k: REDACTED if any(w in str(k).lower() for w in _SECRET_WORDS) else _scrub(v) for k, v in value.items()}
    return value
