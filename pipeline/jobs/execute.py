"""Running a release-producing graph in a staging directory, publishing only a complete result."""

from __future__ import annotations

import posixpath
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import StandardOptions

from rootstock.pipeline.beam.errors import collect, errors_dir
from rootstock.pipeline.beam.gather import read_json_list
from rootstock.pipeline.beam.options import cap_malloc_arenas, pipeline_options, runner_record
from rootstock.pipeline.release.publish import staged_release
from rootstock.pipeline.release.write import finish_release, work_dir


def execute(output: str, beam_args: list[str] | None, overwrite: bool, build_graph, make_manifest) -> dict[str, Any]:
    """Run a graph in a staging directory; publish it at OUTPUT only once it is complete.

    `build_graph(pipeline, staging)` adds the transforms; `make_manifest(shards, counts, runner)`
    returns the manifest once the pipeline has finished.
    """
    options = pipeline_options(beam_args)
    cap_malloc_arenas()
    with staged_release(output, overwrite, work_dir=True) as staging:
        work = work_dir(staging)
        try:
            with beam.Pipeline(options=options) as p:
                build_graph(p, staging)
        except Exception:
            # A user error a worker recorded (a bad input record, say) replaces Beam's wrapping.
            recorded = collect(errors_dir(work))
            if recorded is not None:
                raise recorded from None
            raise
        manifest = make_manifest(
            read_json_list(posixpath.join(work, "shards.json")),
            read_json_list(posixpath.join(work, "counts.json")),
            {"runner": options.view_as(StandardOptions).runner, **runner_record(options)},
        )
        finish_release(staging, manifest)
    return manifest
