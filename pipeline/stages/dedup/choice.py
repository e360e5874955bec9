"""`join: auto`: the side-input or the shuffle layout, chosen while the pipeline runs.

A side input copies its whole content to every worker: cheap while the documents it covers
are a small part of a corpus, out of memory on a crawl with many duplicates. The graph holds
both layouts; a count measured in the run (LSH candidates before verification, clustered
documents before the decisions are applied) becomes a one-value side input, and every
element is sent down one of the two branches by comparing it with `side_input_max_docs`.
The branch not taken receives nothing, so its side inputs are never built on a worker.

Each choice is written to the run's work directory (JOIN_RECORD) and read back into the
dedup step of the manifest's processing record once the run is over.

The two branches' documents meet again in a Flatten, through spill files where spilling is on
(`beam.spill.flatten_through_files`): the local runner holds a Flatten's output whole.
"""

from __future__ import annotations

import posixpath
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from rootstock.pipeline.beam.gather import read_json_list, write_json_list

JOIN_RECORD = "dedup-join.json"


class Choice:
    """The measured choice of one step: `side` is a singleton side input, True for side_input."""

    def __init__(self, step: str, ids: beam.PCollection, max_docs: int):
        count = ids | f"Count[{step}]" >> beam.combiners.Count.Globally()
        self.side = beam.pvalue.AsSingleton(count | f"Choose[{step}]" >> beam.Map(lambda n: n <= max_docs))
        self.record = count | f"Record[{step}]" >> beam.Map(
            lambda n: {
                "step": step,
                "documents": n,
                "side_input_max_docs": max_docs,
                "join": "side_input" if n <= max_docs else "shuffle",
            }
        )

    def keep(self, pcoll: beam.PCollection, side: bool, label: str) -> beam.PCollection:
        """The elements of PCOLL if the choice is the side input (SIDE) or the shuffle (not SIDE), else none."""
        return pcoll | label >> beam.ParDo(_Keep(side), self.side)


class _Keep(beam.DoFn):
    def __init__(self, side: bool):
        self.want = side

    def process(self, element, side: bool):
        if side == self.want:
            yield element


class Routed:
    """A spilled (or plain) collection read back for one branch of a Choice only."""

    def __init__(self, source, choice: Choice, side: bool):
        self.source, self.choice, self.branch = source, choice, side

    def read(self, label: str) -> beam.PCollection:
        return self.choice.keep(self.source.read(label), self.branch, f"Keep[{label}]")


def write_records(records: list[beam.PCollection], work_dir: str) -> None:
    """The choices of the run, as one JSON list in the work directory."""
    if records:
        write_json_list(records | "JoinChoices" >> beam.Flatten(), record_path(work_dir), "dedup-join")


def record_path(work_dir: str) -> str:
    return posixpath.join(work_dir, JOIN_RECORD)


def read_records(work_dir: str) -> list[dict[str, Any]]:
    """The choices a finished run made ([] if the join was not `auto` or the record is gone)."""
    path = record_path(work_dir)
    return read_json_list(path) if FileSystems.exists(path) else []
