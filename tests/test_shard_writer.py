"""The shard writer's memory does not grow with the shard (issue 18): rows are sorted in runs
of bounded size on local disk and merged while row groups are written, with the same bytes as
writing the whole sorted table at once."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from rootstock.pipeline.beam.shards import ShardsConfig, sorted_by_id, stream_parquet, to_table, write_parquet

SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string())])


def rows(n: int, seed: int = 1):
    rng = random.Random(seed)
    for _ in range(n):
        yield {"id": f"{rng.getrandbits(64):016x}", "text": "sana " * rng.randint(1, 60)}


def test_streamed_shards_are_the_bytes_of_the_whole_table(tmp_path: Path):
    config = ShardsConfig(row_group_rows=700)
    whole = sorted(rows(5000), key=lambda r: r["id"])
    streamed = stream_parquet(sorted_by_id(rows(5000), run_rows=900), SCHEMA, str(tmp_path / "a.parquet"), config)
    at_once = write_parquet(to_table(whole, SCHEMA), str(tmp_path / "b.parquet"), config)
    assert streamed == at_once
    assert pq.ParquetFile(tmp_path / "a.parquet").metadata.num_row_groups == 8
    assert pq.read_table(tmp_path / "a.parquet").column("id").to_pylist() == [r["id"] for r in whole]


def _peak(n: int, tmp_path: Path) -> int:
    tracemalloc.start()
    try:
        stream_parquet(
            sorted_by_id(rows(n), run_rows=1000),
            SCHEMA,
            str(tmp_path / f"{n}.parquet"),
            ShardsConfig(row_group_rows=500),
        )
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_writers_memory_stays_flat_as_the_shard_grows(tmp_path: Path):
    small, large = _peak(4_000, tmp_path), _peak(32_000, tmp_path)
    # Holding the shard would make the peak grow ~8x with 8x the rows; runs keep it near flat
    # (the merge holds one chunk per run, so it grows a little with the number of runs).
    assert large < 2 * small, (small, large)
