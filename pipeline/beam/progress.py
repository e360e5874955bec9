"""Progress you can watch: counts written by the workers as they go, shown by the launcher.

Beam's metrics reach the launcher only when a local runner has finished, so the workers also
write their running counts to small files under the run's scratch directory (one file per step
and worker process, rewritten at most once per second), and a thread on the launcher reads them
and renders a live table (rich) on a terminal, or a log line now and then otherwise. On
Dataflow, Spark and Flink the same numbers are Beam counters in the runner's UI (namespace
`rootstock`); the files then only work where the scratch directory is shared storage, so the
launcher's display is for local runs.
"""

from __future__ import annotations

import json
import os
import posixpath
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

PROGRESS_DIR = "progress"
READ = "read"
FLUSH_SECONDS = 1.0


def progress_dir(scratch: str) -> str:
    return posixpath.join(scratch, PROGRESS_DIR)


class Tally:
    """Running counts of one step in one worker process, flushed to a file now and then.

    Picklable (it is built on the launcher and shipped inside DoFns); the file and the clock
    start on the worker.
    """

    def __init__(self, directory: str, step: str):
        self.directory, self.step = directory, step
        self._reset()

    def _reset(self):
        self.counts: dict[str, int] = defaultdict(int)
        self._path = None
        self._last = 0.0
        self._counters: dict[str, Any] = {}

    def __getstate__(self):
        return {"directory": self.directory, "step": self.step}

    def __setstate__(self, state):
        self.directory, self.step = state["directory"], state["step"]
        self._reset()

    def add(self, **amounts: int) -> None:
        for name, amount in amounts.items():
            self.counts[name] += amount
            counter = self._counters.get(name)
            if counter is None:
                counter = self._counters[name] = Metrics.counter("rootstock", f"{self.step}.{name}")
            counter.inc(amount)
        now = time.monotonic()
        if now - self._last >= FLUSH_SECONDS:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        self._last = now or time.monotonic()
        if self._path is None:
            self._path = posixpath.join(self.directory, f"{self.step}-{os.getpid()}-{uuid.uuid4().hex[:8]}.json")
        try:
            with FileSystems.create(self._path) as handle:
                handle.write(json.dumps({"step": self.step, **self.counts}).encode())
        except OSError:  # progress is a courtesy: a store that refuses does not fail the run
            pass


class CountProgress(beam.PTransform):
    """Documents (and their text bytes) passing this point, as step STEP's `name` count."""

    def __init__(self, tally: Tally, name: str):
        super().__init__()
        self.tally, self.name = tally, name

    def expand(self, docs):
        return docs | beam.ParDo(_Count(self.tally, self.name))


class _Count(beam.DoFn):
    def __init__(self, tally: Tally, name: str):
        self.tally, self.name = tally, name

    def process(self, doc):
        self.tally.add(**{self.name: 1, f"{self.name}_bytes": len(doc["text"].encode("utf-8"))})
        yield doc

    def finish_bundle(self):
        self.tally.flush()


@dataclass
class Snapshot:
    steps: dict[str, dict[str, int]] = field(default_factory=dict)

    def get(self, step: str, name: str) -> int:
        return self.steps.get(step, {}).get(name, 0)


def read_progress(directory: str) -> Snapshot:
    """Every worker's last counts, summed per step."""
    snapshot = Snapshot()
    try:
        found = FileSystems.match([posixpath.join(directory, "*.json")])[0].metadata_list
    except Exception:  # nothing written yet, or a store that cannot list: nothing to show
        return snapshot
    for meta in found:
        try:
            with FileSystems.open(meta.path) as handle:
                counts = json.loads(handle.read())
        except (OSError, ValueError):  # a file being rewritten: its next version counts
            continue
        step = counts.pop("step", "?")
        into = snapshot.steps.setdefault(step, defaultdict(int))
        for name, value in counts.items():
            into[name] += value
    return snapshot


def _human(n: float) -> str:
    for unit in ("", "k", "M", "G"):
        if abs(n) < 1000:
            return f"{n:.0f}{unit}" if unit == "" else f"{n:.1f}{unit}"
        n /= 1000
    return f"{n:.1f}T"


class ProgressDisplay:
    """The launcher's view: a live rich table on a terminal, a log line every `interval` seconds
    otherwise; `steps` are the stage names in order, `input_bytes` the inputs' size if known."""

    def __init__(self, directory: str, steps: list[str], input_bytes: int | None, *, quiet: bool = False, stream=None):
        self.directory, self.steps, self.input_bytes = directory, steps, input_bytes
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = not quiet and self.stream.isatty()
        self.interval = float(os.environ.get("ROOTSTOCK_PROGRESS_INTERVAL", "1" if self.live else "30"))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()

    def line(self, snapshot: Snapshot) -> str:
        """One line: read documents and input bytes, rate, ETA, then kept/dropped per stage."""
        elapsed = max(time.monotonic() - self._started, 1e-9)
        read = snapshot.get(READ, "docs")
        consumed = snapshot.get(READ, "input_bytes")
        parts = [f"read {_human(read)} docs ({read / elapsed:,.0f}/s)"]
        if self.input_bytes:
            share = min(consumed / self.input_bytes, 1.0)
            parts[0] += f", {100 * share:.0f}% of {_human(self.input_bytes)}B"
            if 0 < share < 1:
                parts.append(f"ETA {_duration(elapsed * (1 - share) / share)}")
        for step in self.steps:
            kept, dropped = snapshot.get(step, "kept"), snapshot.get(step, "dropped")
            if kept or dropped:
                parts.append(f"{step} {_human(kept)} kept/{_human(dropped)} dropped")
        return f"progress [{_duration(elapsed)}]: " + "; ".join(parts)

    def table(self, snapshot: Snapshot):
        from rich.table import Table  # noqa: PLC0415 - rich loads only where a terminal shows progress

        elapsed = max(time.monotonic() - self._started, 1e-9)
        table = Table(title=self.line(snapshot).split(": ", 1)[1].split(";")[0], title_justify="left", expand=False)
        for column in ("step", "documents", "text", "kept", "dropped", "docs/s"):
            table.add_column(column, justify="left" if column == "step" else "right")
        read = snapshot.get(READ, "docs")
        table.add_row(
            "read", _human(read), _human(snapshot.get(READ, "docs_bytes")) + "B", "", "", f"{read / elapsed:,.0f}"
        )
        for step in self.steps:
            kept, dropped = snapshot.get(step, "kept"), snapshot.get(step, "dropped")
            done = kept + dropped
            table.add_row(
                step,
                _human(done),
                _human(snapshot.get(step, "kept_bytes") + snapshot.get(step, "dropped_bytes")) + "B",
                _human(kept),
                _human(dropped),
                f"{done / elapsed:,.0f}",
            )
        return table

    def __enter__(self) -> ProgressDisplay:
        if not self.quiet:
            self._thread = threading.Thread(target=self._run, name="rootstock-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        if self.live:
            from rich.console import Console  # noqa: PLC0415 - rich loads only where a terminal shows progress
            from rich.live import Live  # noqa: PLC0415 - as above

            with Live(
                self.table(Snapshot()), console=Console(file=self.stream), refresh_per_second=2, transient=True
            ) as live:
                while not self._stop.wait(self.interval):
                    live.update(self.table(read_progress(self.directory)))
            return
        while not self._stop.wait(self.interval):
            print(self.line(read_progress(self.directory)), file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
