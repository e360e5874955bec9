"""The Dataflow Flex Template entry: Google's launcher flags in, `rootstock run` out.

Dataflow's template launcher (`/opt/google/dataflow/python_template_launcher` in the launcher
image) calls `python $FLEX_TEMPLATE_PYTHON_PY_FILE` (docker/flex_template_main.py, which calls
`main` here) with every template parameter and pipeline option as `--name=value`:
`--config=gs://b/run.yaml --output=gs://b/releases/r1 --project=… --region=… --job_name=…`.
The template's own parameters (docker/metadata.json: config, output, overwrite) become
`rootstock run CONFIG [--output …] [--overwrite]`; everything else goes to Beam, with
`--runner=DataflowRunner` unless another runner is named, the worker image baked into the
launcher (`ROOTSTOCK_WORKER_IMAGE`) unless `sdk_container_image` is a parameter, and the
launcher's versions pinned for the workers to check (rootstock.pipeline.beam.versions).
"""

from __future__ import annotations

import argparse
import os
import sys

from apache_beam.options.pipeline_options import PipelineOptions

from rootstock.pipeline.beam.versions import OPTION, pin_worker_versions
from rootstock.pipeline.cli import main as rootstock_main

# The template's parameters (docker/metadata.json lists the same names; a test checks it).
PARAMETERS = ("config", "output", "overwrite")
WORKER_IMAGE_ENV = "ROOTSTOCK_WORKER_IMAGE"
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}


def _flag(value: str) -> bool:
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {value!r}")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="flex_template_main.py",
        description="Dataflow Flex Template entry: --config=… [--output=…] [--overwrite=true] plus Beam options, "
        "run as `rootstock run`",
    )
    ap.add_argument("--config", required=True, help="run config YAML: gs://… or a path inside the image")
    ap.add_argument("--output", help="release URL (overrides the config's output)")
    ap.add_argument("--overwrite", type=_flag, default=False, help="true to replace an existing release")
    return ap


def rootstock_argv(argv: list[str], environ: dict[str, str] | None = None) -> list[str]:
    """The `rootstock` command line for the launcher's ARGV (see the module docstring)."""
    environ = os.environ if environ is None else environ
    args, rest = parser().parse_known_args(argv)
    beam = _known_beam_flags(rest)
    if not _has(beam, "runner"):
        beam.append("--runner=DataflowRunner")
    image = environ.get(WORKER_IMAGE_ENV)
    if image and not _has(beam, "sdk_container_image"):
        beam.append(f"--sdk_container_image={image}")
    command = ["run", args.config]
    if args.output:
        command += ["--output", args.output]
    if args.overwrite:
        command.append("--overwrite")
    return command + pin_worker_versions(beam)


def _has(args: list[str], option: str) -> bool:
    return any(a == f"--{option}" or a.startswith(f"--{option}=") for a in args)


def _known_beam_flags(args: list[str]) -> list[str]:
    """ARGS without flags Beam does not know, each named on stderr.

    The launcher may pass options of its own; failing the launch on one would stop every job,
    so they are dropped (`rootstock run` on the command line still refuses unknown flags).
    """
    known = set(PipelineOptions([]).get_all_options(drop_default=False))
    kept, dropped = [], []
    value_of = None  # the list the next bare argument belongs to (`--option value`)
    for arg in args:
        if arg.startswith("--"):
            name, has_value, _ = arg[2:].partition("=")
            target = kept if name.replace("-", "_") in known else dropped
            target.append(arg)
            value_of = None if has_value else target
        else:
            (value_of if value_of is not None else dropped).append(arg)
            value_of = None
    if dropped:
        print(f"flex template: ignoring what Beam does not know: {' '.join(dropped)}", file=sys.stderr)
    return kept


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = rootstock_argv(argv)
    shown = [f"--{OPTION}=…" if a.startswith(f"--{OPTION}=") else a for a in command]
    print("flex template: rootstock " + " ".join(shown), file=sys.stderr)
    return rootstock_main(command)
