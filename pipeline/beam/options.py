"""Pipeline options: the local default runner, the memory cap, what a manifest records of them."""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

from apache_beam.options.pipeline_options import PipelineOptions

# The default DirectRunner first tries to download a Prism binary; name the local runner.
FN_API_RUNNER = "apache_beam.runners.portability.fn_api_runner.FnApiRunner"
_SECRET_WORDS = ("token", "secret", "password", "key", "credential")


def pipeline_options(beam_args: list[str] | None) -> PipelineOptions:
    args = list(beam_args or [])
    if not any(a == "--runner" or a.startswith("--runner=") for a in args):
        args.append(f"--runner={FN_API_RUNNER}")
    return PipelineOptions(args)


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
    """The options a user chose, for the manifest; values of secret-looking options left out."""
    chosen = options.get_all_options(drop_default=True, retain_unknown_options=True)
    return {
        k: v
        for k, v in sorted(chosen.items())
        if v is not None and not any(word in k.lower() for word in _SECRET_WORDS)
    }
