"""Hugging Face `datasets`: a `save_to_disk` directory, or `load_dataset` (builder or Hub id).

Both are split into independent work units so workers read in parallel:
- a saved dataset: one unit per Arrow file its `state.json` lists, read batch by batch with
  pyarrow (the Arrow IPC stream `datasets` writes), so a truncated file still yields the
  batches before the damage and a dataset of zero rows is simply empty (`load_from_disk`
  fails on one);
- a builder (`json`, `csv`, `parquet`…) over paths: one unit per data file, so an error names
  its file; a Hub id: one unit per shard of the streaming dataset.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from apache_beam.io.filesystems import FileSystems
from pydantic import BaseModel, ConfigDict, Field

from rootstock.errors import InputError
from rootstock.sources.files import CORRUPT, TRUNCATED, DamagedInput, match_files, unit_file_mtime
from rootstock.sources.parquet import batch_records
from rootstock.sources.records import RecordError

# Builders whose input is the entry's paths (datasets' packaged modules): one unit per file.
FILE_BUILDERS = frozenset({"json", "csv", "parquet", "text", "arrow", "xml", "webdataset"})


class HfDatasetOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # None: every path is a `save_to_disk` directory. Otherwise a builder ("json", "parquet",
    # "csv"…) or Hub dataset id for `datasets.load_dataset`; paths, if any, are its data_files.
    name: str | None = None
    config: str | None = None
    split: str | None = Field(None, description="required for DatasetDicts and load_dataset; default train")
    revision: str | None = None
    batch_size: int = Field(1000, gt=0)


def _read_json(path: str) -> Any:
    with FileSystems.open(path) as handle:
        return json.loads(handle.read())


def saved_arrow_files(path: str, split: str | None) -> list[str]:
    """The Arrow files of a `save_to_disk` directory (of SPLIT, for a DatasetDict), in order."""
    path = path.rstrip("/")
    if FileSystems.exists(posixpath.join(path, "dataset_dict.json")):
        splits = _read_json(posixpath.join(path, "dataset_dict.json")).get("splits", [])
        split = split or "train"
        if split not in splits:
            raise InputError(f"{path}: saved DatasetDict has no split {split!r} (has {sorted(splits)})")
        path = posixpath.join(path, split)
    state = posixpath.join(path, "state.json")
    if not FileSystems.exists(state):
        raise InputError(f"{path}: not a dataset saved with save_to_disk (no state.json or dataset_dict.json)")
    try:
        files = [item["filename"] for item in _read_json(state)["_data_files"]]
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(f"{state}: unreadable state.json ({err})") from None
    return [posixpath.join(path, name) for name in files]


def plan_units(paths: list[str], options: HfDatasetOptions, entry_license: str | None = None) -> list[tuple]:
    """Work units, computed once on the launcher (cheap: no data is read)."""
    if options.name is None:
        return [("arrow", f) for path in paths for f in saved_arrow_files(path, options.split)]
    if options.name in FILE_BUILDERS and paths:
        return [("file", f) for f in match_files(paths)]
    stream = _load_stream(paths, options)
    return [("stream", i, stream.num_shards) for i in range(stream.num_shards)]


def _load_stream(data_files: list[str], options: HfDatasetOptions):
    import datasets  # noqa: PLC0415 - datasets takes seconds to import; only this connector needs it

    return datasets.load_dataset(
        options.name,
        options.config,
        split=options.split or "train",
        data_files=data_files or None,
        revision=options.revision,
        streaming=True,
    )


def unit_name(unit: tuple, options: HfDatasetOptions) -> str:
    if unit[0] in ("arrow", "file"):
        return unit[1]
    return f"{options.name}[{options.split or 'train'}]#shard-{unit[1]:05d}-of-{unit[2]:05d}"


def iter_unit(unit: tuple, paths: list[str], options: HfDatasetOptions) -> Iterator[tuple[int, str, Any]]:
    if unit[0] == "arrow":
        yield from _arrow_rows(unit[1], options.batch_size)
        return
    if unit[0] == "file":
        stream = _load_stream([unit[1]], options)
    else:
        _, index, num_shards = unit
        stream = _load_stream(paths, options).shard(num_shards=num_shards, index=index)
    row = 0
    try:
        for record in stream:
            yield row, f"row {row}", record
            row += 1
    except Exception as err:  # datasets' builders raise whatever their parser raises (pyarrow, pandas, json…)
        hint = (
            f" (`kind: {_RECORD_KINDS[options.name]}` reads record by record and skips only bad ones)"
            if options.name in _RECORD_KINDS
            else ""
        )
        raise DamagedInput(CORRUPT, f"the {options.name} builder failed ({type(err).__name__}: {err}){hint}") from None


_RECORD_KINDS = {"json": "jsonl", "csv": "csv", "parquet": "parquet"}


_END_OF_STREAM = b"\xff\xff\xff\xff\x00\x00\x00\x00"  # what every Arrow IPC stream writer closes with


def _arrow_rows(path: str, batch_size: int) -> Iterator[tuple[int, str, Any]]:
    row = 0
    with FileSystems.open(path) as handle:
        try:
            for batch in pa.ipc.open_stream(handle):
                for start in range(0, batch.num_rows, batch_size):
                    part = batch.slice(start, batch_size)
                    yield from batch_records(part, row)
                    row += part.num_rows
        except Exception as err:  # a damaged stream fails in many ways inside pyarrow
            short = "Expected to" in str(err)
            raise DamagedInput(
                TRUNCATED if short else CORRUPT,
                f"the Arrow stream ends early: the file is truncated ({err})"
                if short
                else f"not a readable Arrow stream ({err})",
            ) from None
        # A stream cut between two messages reads as a shorter valid one; its end marker is gone.
        handle.seek(-len(_END_OF_STREAM), 2)
        if handle.read(len(_END_OF_STREAM)) != _END_OF_STREAM:
            raise DamagedInput(TRUNCATED, "the Arrow stream has no end-of-stream marker: the file is truncated")


def file_mtime(unit: tuple) -> float | None:
    return unit_file_mtime(unit) if unit[0] in ("arrow", "file") else None


__all__ = ["HfDatasetOptions", "RecordError", "iter_unit", "plan_units", "unit_name"]
