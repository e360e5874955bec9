"""Hugging Face `datasets`: a local `save_to_disk` directory, or `load_dataset` (builder or Hub id).

Both are split into independent work units so workers read in parallel: one unit per Arrow
file of a saved dataset, or one per shard of the streaming dataset `load_dataset` returns.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rootstock.errors import InputError
from rootstock.sources.records import RecordError


class HfDatasetOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # None: every path is a `save_to_disk` directory. Otherwise a builder ("json", "parquet",
    # "csv"…) or Hub dataset id for `datasets.load_dataset`; paths, if any, are its data_files.
    name: str | None = None
    config: str | None = None
    split: str | None = Field(None, description="required for DatasetDicts and load_dataset; default train")
    revision: str | None = None
    batch_size: int = Field(1000, gt=0)


def plan_units(paths: list[str], options: HfDatasetOptions, entry_license: str | None = None) -> list[tuple]:
    """Work units, computed once on the launcher (cheap: no data is read)."""
    import datasets  # noqa: PLC0415 - datasets takes seconds to import; only this connector needs it

    if options.name is None:
        units = []
        for path in paths:
            loaded = datasets.load_from_disk(path)
            if isinstance(loaded, datasets.DatasetDict):
                split = options.split or "train"
                if split not in loaded:
                    raise InputError(f"{path}: saved DatasetDict has no split {split!r} (has {sorted(loaded)})")
                loaded = loaded[split]
            files = [f["filename"] for f in loaded.cache_files]
            if not files:
                raise InputError(f"{path}: the saved dataset has no Arrow files")
            units.extend(("arrow", f) for f in files)
        return units
    stream = _load_stream(paths, options)
    return [("stream", i, stream.num_shards) for i in range(stream.num_shards)]


def _load_stream(paths: list[str], options: HfDatasetOptions):
    import datasets  # noqa: PLC0415 - datasets takes seconds to import; only this connector needs it

    return datasets.load_dataset(
        options.name,
        options.config,
        split=options.split or "train",
        data_files=paths or None,
        revision=options.revision,
        streaming=True,
    )


def unit_name(unit: tuple, options: HfDatasetOptions) -> str:
    if unit[0] == "arrow":
        return unit[1]
    return f"{options.name}[{options.split or 'train'}]#shard-{unit[1]:05d}-of-{unit[2]:05d}"


def iter_unit(unit: tuple, paths: list[str], options: HfDatasetOptions) -> Iterator[tuple[int, str, Any]]:
    import datasets  # noqa: PLC0415 - datasets takes seconds to import; only this connector needs it

    if unit[0] == "arrow":
        dataset = datasets.Dataset.from_file(unit[1])
        row = 0
        for batch in dataset.iter(batch_size=options.batch_size):
            columns = list(batch)
            for values in zip(*(batch[c] for c in columns), strict=True):
                yield row, f"row {row}", dict(zip(columns, values, strict=True))
                row += 1
        return
    _, index, num_shards = unit
    stream = _load_stream(paths, options).shard(num_shards=num_shards, index=index)
    for row, record in enumerate(stream):
        yield row, f"row {row}", record


def file_mtime(unit: tuple) -> float | None:
    if unit[0] == "arrow" and os.path.exists(unit[1]):
        return os.path.getmtime(unit[1])
    return None


__all__ = ["HfDatasetOptions", "RecordError", "iter_unit", "plan_units", "unit_name"]
