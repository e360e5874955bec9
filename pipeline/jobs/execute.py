"""Running a release-producing graph in a staging directory, publishing only a complete result."""

from __future__ import annotations

import contextlib
import contextvars
import posixpath
import signal
import threading
from collections.abc import Callable
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import StandardOptions

from rootstock.errors import ConfigError
from rootstock.filters.tokens import Tokenizer
from rootstock.pipeline.beam.errors import collect, errors_dir
from rootstock.pipeline.beam.gather import read_json_list
from rootstock.pipeline.beam.options import cap_malloc_arenas, pipeline_options, runner_record
from rootstock.pipeline.beam.progress import ProgressDisplay, progress_dir
from rootstock.pipeline.jobs.count_tokens import count_staged_tokens
from rootstock.pipeline.jobs.resume import changes
from rootstock.pipeline.release.footprint import manifest_footprint, stage_times, tracking
from rootstock.pipeline.release.publish import beam_tempdir, staged_release
from rootstock.pipeline.release.write import finish_release, work_dir

# The tokenizer `rootstock run --tokenizer` counts with, set around the job by the CLI: the jobs
# (run, refilter) call `execute` without knowing about tokens, and the counts must be in the
# manifest before it is published (a published manifest never changes).
_TOKENIZER: contextvars.ContextVar[Tokenizer | None] = contextvars.ContextVar("rootstock_tokenizer", default=None)


@contextlib.contextmanager
def count_tokens_before_publishing(tokenizer: Tokenizer | None):
    """Within the block, every release `execute` publishes carries token counts of TOKENIZER."""
    reset = _TOKENIZER.set(tokenizer)
    try:
        yield
    finally:
        _TOKENIZER.reset(reset)


# Steps the CLI adds the same way (`run --index` builds a search index, pipeline/inspect/, a layer
# the jobs do not import): `step(staging, manifest) -> manifest` may write files into the staging
# directory and list them in the manifest, which is written after the last step.
_BEFORE_PUBLISH: contextvars.ContextVar[tuple[Callable, ...]] = contextvars.ContextVar(
    "rootstock_before_publish", default=()
)


@contextlib.contextmanager
def before_publishing(*steps: Callable[[str, dict[str, Any]], dict[str, Any]]):
    """Within the block, every release `execute` publishes goes through STEPS, after token counting."""
    reset = _BEFORE_PUBLISH.set(_BEFORE_PUBLISH.get() + steps)
    try:
        yield
    finally:
        _BEFORE_PUBLISH.reset(reset)


@contextlib.contextmanager
def noticing_interrupts():
    """Ctrl-C inside the block ends it as KeyboardInterrupt, even if a runner wrapped it (Beam
    re-raises one from inside a DoFn as RuntimeError): what is kept for --resume depends on it."""
    noticed = []

    def handler(signum, frame):
        noticed.append(signum)
        raise KeyboardInterrupt

    ours = threading.current_thread() is threading.main_thread() and (
        signal.getsignal(signal.SIGINT) is signal.default_int_handler
    )
    previous = signal.signal(signal.SIGINT, handler) if ours else None
    try:
        yield
    except BaseException:
        if noticed:
            raise KeyboardInterrupt from None
        raise
    finally:
        if ours:
            signal.signal(signal.SIGINT, previous)


def execute(
    output: str,
    beam_args: list[str] | None,
    overwrite: bool,
    build_graph,
    make_manifest,
    *,
    progress=None,
    run_record: dict[str, Any] | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Run a graph in a staging directory; publish it at OUTPUT only once it is complete.

    `build_graph(pipeline, staging)` adds the transforms; `make_manifest(shards, counts, runner)`
    returns the manifest once the pipeline has finished. Beam's own temporary directories live
    in the staging directory too, so a failed run leaves nothing behind in /tmp. A job that
    checkpoints its work gives its RUN_RECORD (pipeline/jobs/resume.py): it can then `resume`
    an interrupted run, and Ctrl-C keeps what was done.
    """
    options = pipeline_options(beam_args)
    cap_malloc_arenas()
    staged = staged_release(output, overwrite, work_dir=True, run_record=run_record, resume=resume, compare=changes)
    with staged as staging, beam_tempdir(staging), tracking(scratch=work_dir(staging)) as footprint:
        work = work_dir(staging)
        # progress: ((stage names, input bytes or None), quiet) for a job whose graph counts progress.
        steps, input_bytes = progress[0] if progress else ([], None)
        display = ProgressDisplay(progress_dir(work), steps, input_bytes, quiet=progress is None or progress[1])
        try:
            with noticing_interrupts(), display, beam.Pipeline(options=options) as p:
                build_graph(p, staging)
        except Exception as err:
            # A user error a worker recorded (a bad input record, say) replaces Beam's wrapping.
            recorded = collect(errors_dir(work))
            if recorded is not None:
                raise recorded from None
            if isinstance(err, AssertionError) and "watermark-pending bundles" in str(err):
                raise ConfigError(
                    problems=[(None, "--spill", f"the local runner could not finish this graph: {err}")],
                    hint="its side inputs wait on documents the runner holds in memory: use --spill=auto "
                    "(the default, which passes them through files) or `dedup.join: shuffle`",
                ) from None
            raise
        footprint.add_stages(stage_times(p.result))  # per-stage CPU, counted inside the DoFns
        manifest = make_manifest(
            read_json_list(posixpath.join(work, "shards.json")),
            read_json_list(posixpath.join(work, "counts.json")),
            {"runner": options.view_as(StandardOptions).runner, **runner_record(options)},
        )
        tokenizer = _TOKENIZER.get()
        if tokenizer is not None and manifest.get("kind", "release") == "release":
            manifest = count_staged_tokens(staging, manifest, tokenizer, beam_args)
        for step in _BEFORE_PUBLISH.get():
            manifest = step(staging, manifest)
        manifest["footprint"] = manifest_footprint(footprint, manifest)  # last: it covers the steps
        finish_release(staging, manifest)
    return manifest
