"""Running statistics without storing the values (Welford's algorithm)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class RunningStats:
    count: int = 0
    mean: float = 0.0
    _m2: float = 0.0

    def add(self, value: float) -> None:
        self.count += 1
        delta = value - self.mean
        self.mean += delta / self.count
        self._m2 += delta * (value - self.mean)

    @property
    def variance(self) -> float:
        return self._m2 / (self.count - 1) if self.count > 1 else 0.0

    @property
    def stddev(self) -> float:
        return math.sqrt(self.variance)


if __name__ == "__main__":
    stats = RunningStats()
    for x in (2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0):
        stats.add(x)
    print(f"n={stats.count} mean={stats.mean:.2f} sd={stats.stddev:.3f}")
