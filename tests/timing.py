"""Growth checks for "no super-linear code": CPU time at 16n over CPU time at n.

Linear code gives ~16, n log n ~20, quadratic ~256. LINEAR_BOUND = 100 lies between them: to
reach it, linear code would have to run 6x slower per unit of work on the large input than on
the small one, and quadratic code exceeds it as soon as its quadratic part is at least ~half of
its linear part at n (the tests pick n so that it dominates).

What is measured is the CPU time of the calling thread (`time.thread_time`), not wall time.
On a loaded machine (CI shares 2 cores with other workers) wall time also counts the time the
thread waits for a core, and the 16n run, being longer, loses more time slices: linear code
once measured 48.08 against the former wall-clock bound of 48. Thread CPU time leaves the
waiting out. What load still changes (cache refills after context switches, the host's own
contention: here identical work ranged over 1.8x of CPU time on a busy machine) is handled by
timing the two sizes in alternation, as the best of REPEAT batches each, a batch being enough
calls to take MIN_SECONDS of CPU: both sizes sample the same slow and quiet spells, and the
best batch of each is the least disturbed one. Even with the small size measured in a quiet
spell and the large one only in slow ones, linear code would stay near 30. The garbage
collector is paused while timing, so that a collection is not billed to whichever batch it fell
into. A ratio at or above the bound is measured once more and the smaller ratio kept.

The function must do its work on the calling thread: other threads and processes are not counted.
"""

from __future__ import annotations

import gc
import math
import time

FACTOR = 16
LINEAR_BOUND = 100
REPEAT = 5
MIN_SECONDS = 0.02


def _calls_per_batch(fn, arg) -> int:
    start = time.thread_time()
    fn(arg)  # warm-up (lazy initialisation, caches) and an estimate of one call's cost
    return max(1, math.ceil(MIN_SECONDS / max(time.thread_time() - start, 1e-9)))


def _per_call(fn, arg, calls: int) -> float:
    start = time.thread_time()
    for _ in range(calls):
        fn(arg)
    return (time.thread_time() - start) / calls


def cpu_ratio(fn, small, large, repeat: int = REPEAT) -> float:
    """Best per-call thread CPU time of fn(large) over that of fn(small), timed in alternation."""
    calls = (_calls_per_batch(fn, small), _calls_per_batch(fn, large))
    best = [math.inf, math.inf]
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeat):
            for i, arg in enumerate((small, large)):
                best[i] = min(best[i], _per_call(fn, arg, calls[i]))
    finally:
        if enabled:
            gc.enable()
    return max(best[1], 1e-9) / max(best[0], 1e-9)


def growth(fn, make, n: int) -> float:
    """CPU time of fn(make(16n)) / CPU time of fn(make(n)); measured twice if it looks super-linear."""
    small, large = make(n), make(FACTOR * n)
    ratio = cpu_ratio(fn, small, large)
    if ratio >= LINEAR_BOUND:
        ratio = min(ratio, cpu_ratio(fn, small, large))
    return ratio
