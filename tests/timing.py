"""Growth checks for "no super-linear metric": time at 16n over time at n, best of 3.

Linear code gives ~16, n log n ~20, quadratic ~256. The bound of 48 leaves a 3x margin for a
noisy neighbour (CI shares 2 cores) and still fails anything quadratic by 5x.
"""

from __future__ import annotations

import time

FACTOR = 16
LINEAR_BOUND = 48


def best_time(fn, arg, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(arg)
        best = min(best, time.perf_counter() - start)
    return max(best, 1e-5)  # below timer resolution the ratio means nothing


def growth(fn, make, n: int) -> float:
    """time(make(16n)) / time(make(n)); measured twice if the first looks super-linear."""
    small, large = make(n), make(FACTOR * n)
    ratio = best_time(fn, large) / best_time(fn, small)
    if ratio >= LINEAR_BOUND:
        ratio = min(ratio, best_time(fn, large) / best_time(fn, small))
    return ratio
