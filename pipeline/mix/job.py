"""`rootstock mix SPEC --output DIR`: sample a training mix from releases, as a Beam pipeline.

Before any work: resolve each component's release and shards (`resolve`), take the available
tokens per (component, language) from what the release recorded for the spec's tokenizer (same
sha256): the sidecar `rootstock count-tokens` wrote, or the `tokens` section `rootstock run
--tokenizer` put into the manifest; otherwise count them in a first Beam pass that writes
nothing (and always when rehydrating, which needs tokens per cluster-size class). Then plan (`plan`): an unreachable spec stops here, with the numbers. Then the job
(`graph`) samples and writes the mix, and `manifest` records target against achieved.
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


def mix(spec: MixSpec, output: str, beam_args: list[str] | None = None, *, overwrite: bool = False) -> dict[str, Any]:
    """Plan SPEC and, if it is reachable, write the mix to OUTPUT; return its manifest."""
    output = absolute(output).rstrip("/")
    check_target(output, overwrite)  # before the counting pass: a refused output costs nothing
    sweep_partials(output)
    workdir = make_staging(output, "-plan")
    try:
        with beam_tempdir(workdir):
            resolved, tokenizer, the_plan, availability = prepare(spec, beam_args, workdir)
    finally:
        discard(workdir)
    schema = union_schema(resolved)
    warnings = list(the_plan.notes)

    def make_manifest(shards, counts, runner):
        return build_mix_manifest(
            spec, resolved, tokenizer, the_plan, availability, schema, shards, counts, runner, warnings
        )

    return execute(
        output,
        beam_args,
        overwrite,
        lambda p, staging: build_graph(p, staging, spec, resolved, tokenizer, the_plan, schema),
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
