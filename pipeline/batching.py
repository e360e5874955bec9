"""Per-bundle buffering for DoFns whose work is cheaper, or whose output is smaller, per batch.

Beam's BatchElements emits lists to the next step; these DoFns instead keep what they saw in a
buffer and turn a full buffer into a few packed outputs (a spill file, one array of line
hashes per partition), so the runner moves a handful of elements per batch instead of one per
document or per line.
"""

from __future__ import annotations

from typing import Any, Iterable

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows


class BufferedDoFn(beam.DoFn):
    """Subclasses implement `flush(items)`; a buffer is flushed at `max_items` and at bundle end."""

    max_items = 2000

    def weight(self, item: Any) -> int:
        """What counts towards `max_weight` (e.g. text length); 0 = count items only."""
        return 0

    max_weight = 0

    def flush(self, items: list[Any]) -> Iterable[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def start_bundle(self):
        self._items, self._weight = [], 0

    def process(self, item):
        self._items.append(item)
        if self.max_weight:
            self._weight += self.weight(item)
        if len(self._items) >= self.max_items or (self.max_weight and self._weight >= self.max_weight):
            yield from self._drain()

    def finish_bundle(self):
        for out in self._drain():
            yield GlobalWindows.windowed_value(out)

    def _drain(self):
        items, self._items, self._weight = self._items, [], 0
        if items:
            yield from self.flush(items)
