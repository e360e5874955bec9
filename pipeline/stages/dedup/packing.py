"""The layout shared by the stage's packed shuffles (template line counts, duplicate keys).

Instead of one element per document and key, a batch of documents becomes one element per
hash partition holding packed numpy columns: the shuffle then moves a few large byte strings
rather than many small tuples.
"""

from __future__ import annotations

import apache_beam as beam

# Hash partitions of a packed shuffle: a reducer holds 1/PARTITIONS of the keys of its scope.
PARTITIONS = 16


def batches(size: int = 2000) -> beam.BatchElements:
    """Fixed-size batches for the packed shuffles (a fixed size skips the adaptive estimator)."""
    return beam.BatchElements(min_batch_size=size, max_batch_size=size, record_metrics=False)
