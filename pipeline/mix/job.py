"""`rootstock mix SPEC --output DIR`: sample a training mix from releases, as a Beam pipeline.

Before any work: resolve each component's release and shards (`resolve`), take the available
tokens per (component, language) from what the release recorded for the spec's tokenizer (same
sha256): the sidecar `rootstock count-tokens` wrote, or the `tokens` section `rootstock run
--tokenizer` put into the manifest; otherwise count them in a first Beam pass that writes
nothing (and always when rehydrating, which needs tokens per cluster-size class). Then plan (`plan`): an unreachable spec stops here, with the numbers. Then the job
(`graph`) samples and writes the mix, as Parquet and/or token files for a trainer (`tokenized`),
and `manifest` records target against achieved.
"""

from __future__ import annotations

import shutil
import tempfile
from typing import Any

import rootstock.sources.filesystems  # noqa: F401  (registers hf://, az://, http(s)://)
from rootstock.errors import MixSpecError, TokenizerError
from rootstock.filters.tokens import Tokenizer
from rootstock.paths import absolute
from rootstock.pipeline.jobs.execute import execute
from rootstock.pipeline.mix.graph import build_graph, count_available
from rootstock.pipeline.mix.manifest import build_mix_manifest
from rootstock.pipeline.mix.plan import Available, Plan, plan
from rootstock.pipeline.mix.resolve import Resolved, recorded_tokens, resolve, union_schema
from rootstock.pipeline.mix.spec import MixSpec
from rootstock.pipeline.mix.tokenized import PARQUET, parse_formats, split_artifacts, token_output, tokenized_section
from rootstock.pipeline.release.footprint import measured, phase
from rootstock.pipeline.release.publish import beam_tempdir, check_target, discard, make_staging, sweep_partials


def prepare(
    spec: MixSpec, beam_args: list[str] | None, workdir: str
) -> tuple[list[Resolved], Tokenizer, Plan, dict[str, str]]:
    """Resolve components, find available tokens, plan. Raises before any output is written."""
    try:
        tokenizer = Tokenizer(spec.tokenizer)
    except TokenizerError as err:
        raise MixSpecError(f"{spec.path}: tokenizer: {err}") from None
    resolved = resolve(spec)
    available: list[Available] = []
    availability: dict[str, str] = {}
    to_count = []
    for r in resolved:
        recorded = recorded_tokens(r, tokenizer)
        if recorded is None:
            to_count.append(r)
            availability[r.name] = "counted"
        else:
            availability[r.name], counts = recorded
            available += counts
    if to_count:
        available += count_available(spec, to_count, tokenizer, beam_args, workdir)
    multipliers = dict(enumerate(spec.rehydrate.weights.values()))
    return resolved, tokenizer, plan(spec, available, multipliers), availability


def _check_eos(spec: MixSpec, eos_token: str | None) -> None:
    try:
        tokenizer = Tokenizer(spec.tokenizer)
    except TokenizerError as err:
        raise MixSpecError(f"{spec.path}: tokenizer: {err}") from None
    try:
        tokenizer.eos(eos_token)
    except TokenizerError as err:
        raise MixSpecError(f"{spec.path}: tokenizer: {err} (with --eos-token)") from None


@measured("mix")  # the manifest's footprint covers planning and mixing
def mix(
    spec: MixSpec,
    output: str,
    beam_args: list[str] | None = None,
    *,
    overwrite: bool = False,
    formats: tuple[str, ...] = (PARQUET,),
    eos_token: str | None = None,
) -> dict[str, Any]:
    """Plan SPEC and, if it is reachable, write the mix to OUTPUT in FORMATS; return its manifest.

    FORMATS: "parquet" (text), "megatron", "nanoset" (token files, `tokenized.py`); EOS_TOKEN
    overrides the tokenizer's own end-of-document token.
    """
    output = absolute(output).rstrip("/")
    try:
        formats = parse_formats(formats)
    except ValueError as err:
        raise MixSpecError(str(err)) from None
    if set(formats) - {PARQUET}:
        _check_eos(spec, eos_token)  # before any work, like every other spec error
    check_target(output, overwrite)  # before the counting pass: a refused output costs nothing
    sweep_partials(output)
    workdir = make_staging(output, "-plan")
    try:
        with beam_tempdir(workdir), phase("plan"):
            resolved, tokenizer, the_plan, availability = prepare(spec, beam_args, workdir)
    finally:
        discard(workdir)
    schema = union_schema(resolved)
    warnings = list(the_plan.notes)
    tokens = token_output(formats, tokenizer, {r.name: r.manifest.get("release") for r in resolved}, eos_token)

    def make_manifest(shards, counts, runner):
        shards, artifacts = split_artifacts(shards)
        manifest = build_mix_manifest(
            spec, resolved, tokenizer, the_plan, availability, schema, shards, counts, runner, warnings
        )
        manifest["formats"] = list(formats)
        if tokens is not None:
            manifest["tokenized"] = tokenized_section(tokens, tokenizer, manifest["shards"], output)
            manifest["artifacts"] = artifacts
        return manifest

    with phase("mix"):
        return execute(
            output,
            beam_args,
            overwrite,
            lambda p, staging: build_graph(p, staging, spec, resolved, tokenizer, the_plan, schema, tokens),
            make_manifest,
        )


def plan_only(spec: MixSpec, beam_args: list[str] | None = None) -> tuple[Plan, dict[str, str]]:
    workdir = tempfile.mkdtemp(prefix="rootstock-mix-plan-")
    try:
        with beam_tempdir(workdir):
            _, _, the_plan, availability = prepare(spec, beam_args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return the_plan, availability
