"""`rootstock remove RELEASE (--ids F | --urls F | --source UID) --reason TEXT --output NEW`.

A data owner's removal request becomes a new release: shards without the documents are
carried over unchanged (same bytes, same sha256), affected shards are rewritten, and the
manifest records the parent, the request (reason, date, counts — never the removed text) and
the diff. A removed document takes its duplicate cluster with it: the kept survivor of a
cluster *is* the requested content, just found at another URL.

Plain pyarrow over the manifest's files rather than a Beam job: a request touches a few
shards, finding them reads only four small columns, and copying untouched shards is a
server-side copy on object stores. Nothing here needs a shuffle.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import posixpath
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.compute as pc
from apache_beam.io.filesystems import FileSystems

import rootstock.sources.filesystems  # noqa: F401  (registers hf://, az://, http(s)://)
from rootstock.errors import ConfigError, ReleaseError
from rootstock.paths import absolute, is_url
from rootstock.pipeline.beam.shards import ShardsConfig, write_parquet
from rootstock.pipeline.release.publish import check_target, staged_release
from rootstock.pipeline.release.release import FILE_LISTS, Release, read_table
from rootstock.pipeline.release.write import finish_release

MATCH_COLUMNS = ("id", "source_doc_id", "url", "source", "dup_cluster_id", "dup_cluster_size")


def url_match_key(url: str | None) -> str | None:
    """A URL as an owner would write it: scheme, `www.`, host case, fragment and a trailing
    slash do not matter; the query does (unlike dedup's key, `?id=1` and `?id=2` differ)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    host = (parts.hostname or "").lower().removeprefix("www.")
    if not host:
        return url
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(("", netloc, parts.path.rstrip("/") or "/", parts.query, "")).lstrip("/")


def read_request_file(path: str) -> list[str]:
    """One id or URL per line; blank lines and `#` comments ignored."""
    try:
        with FileSystems.open(path) as handle:
            text = handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the request file ({err})") from None
    items = [line.strip() for line in text.splitlines()]
    items = [item for item in items if item and not item.startswith("#")]
    if not items:
        raise ConfigError(f"{path}: the request file lists nothing")
    return items


@dataclass
class Request:
    mode: str  # ids | urls | source
    items: list[str]
    reason: str
    keys: set[str] = field(default_factory=set)

    def __post_init__(self):
        self.keys = {url_match_key(i) for i in self.items} if self.mode == "urls" else set(self.items)

    def matches(self, table: pa.Table) -> tuple[list[str], set[str]]:
        """(ids of matching rows, request items they answer)."""
        names = table.column_names
        hits, answered = set(), set()
        if self.mode == "source":
            chosen = table.filter(pc.is_in(table["source"], value_set=pa.array(self.items)))
            return sorted(chosen["id"].to_pylist()), set(chosen["source"].to_pylist())
        ids = table["id"].to_pylist()
        if self.mode == "urls":
            keys = [url_match_key(u) for u in table["url"].to_pylist()] if "url" in names else []
        else:
            keys = ids
        candidates = [keys]
        if self.mode == "ids" and "source_doc_id" in names and "source" in names:
            # An owner knows their own ids, not ours: `SOURCE_UID:ORIGINAL_ID` names one.
            candidates.append(
                [
                    f"{s}:{o}" if o is not None else None
                    for s, o in zip(table["source"].to_pylist(), table["source_doc_id"].to_pylist(), strict=True)
                ]
            )
        for values in candidates:
            for doc_id, key in zip(ids, values, strict=True):
                if key is not None and key in self.keys:
                    hits.add(doc_id)
                    answered.add(key)
        return sorted(hits), answered


def _parquet_files(manifest: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(key, entry) for key in FILE_LISTS for entry in manifest.get(key, []) if entry["path"].endswith(".parquet")]


def find_removals(release: str, manifest: dict[str, Any], request: Request, workers: int = 8):
    """(direct ids, cluster ids, answered request items): scan the small columns of every file."""
    files = _parquet_files(manifest)
    with ThreadPoolExecutor(workers) as pool:
        tables = list(pool.map(lambda f: read_table(posixpath.join(release, f[1]["path"]), list(MATCH_COLUMNS)), files))
    direct, answered, clusters = set(), set(), set()
    for table in tables:
        if "id" not in table.column_names:
            continue
        hits, found = request.matches(table)
        direct.update(hits)
        answered.update(found)
    direct_ids = pa.array(sorted(direct), pa.string())
    for table in tables:
        if "dup_cluster_id" not in table.column_names:
            continue
        hit = table.filter(pc.is_in(table["id"], value_set=direct_ids))
        sizes = hit["dup_cluster_size"].to_pylist() if "dup_cluster_size" in hit.column_names else [None] * hit.num_rows
        for cluster, size in zip(hit["dup_cluster_id"].to_pylist(), sizes, strict=True):
            if cluster is not None and (size or 0) > 1:
                clusters.add(cluster)
    cluster_members = set()
    if clusters:
        cluster_ids = pa.array(sorted(clusters), pa.string())
        for table in tables:
            if "dup_cluster_id" in table.column_names:
                mask = pc.is_in(table["dup_cluster_id"], value_set=cluster_ids)
                cluster_members.update(table.filter(mask)["id"].to_pylist())
    return direct, cluster_members - direct, answered


def copy_file(src: str, dst: str) -> None:
    """Byte-for-byte (server-side on object stores), so a carried-over shard keeps its sha256."""
    if not is_url(dst):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
    FileSystems.copy([src], [dst])


def _text_bytes(table: pa.Table) -> int:
    if "text" not in table.column_names or table.num_rows == 0:
        return 0
    return int(pc.sum(pc.binary_length(pc.cast(table["text"], pa.binary()))).as_py() or 0)


class _Diff:
    def __init__(self):
        self.carried, self.rewritten, self.deleted = [], {}, []
        # (source, lang) → [docs, bytes] removed from the data shards, split by why.
        self.removed: dict[tuple[str, str, str], list[int]] = {}


def _apply(
    release: str,
    staging: str,
    key: str,
    entry: dict[str, Any],
    gone_ids: pa.Array,
    why: dict[str, str],
    shards: ShardsConfig,
    diff: _Diff,
    drop_whole: bool,
) -> dict[str, Any] | None:
    rel = entry["path"]
    if not drop_whole:
        ids = read_table(posixpath.join(release, rel), ["id"])
        if "id" not in ids.column_names or not pc.any(pc.is_in(ids["id"], value_set=gone_ids)).as_py():
            copy_file(posixpath.join(release, rel), posixpath.join(staging, rel))
            diff.carried.append(rel)
            return entry
        table = read_table(posixpath.join(release, rel))
        removed_mask = pc.is_in(table["id"], value_set=gone_ids)
        n_removed = int(pc.sum(removed_mask).as_py() or 0)
    else:
        table = read_table(posixpath.join(release, rel), ["id", "source", "lang", "text"]) if key == "shards" else None
        removed_mask = None if table is None else pa.array([True] * table.num_rows)
    if key == "shards" and table is not None:
        gone_rows = table.filter(removed_mask)
        for doc_id, source, lang, text in zip(
            *(gone_rows[c].to_pylist() for c in ("id", "source", "lang", "text")), strict=True
        ):
            cell = diff.removed.setdefault((source, lang, why.get(doc_id, "request")), [0, 0])
            cell[0] += 1
            cell[1] += len(text.encode("utf-8"))
    if drop_whole:
        diff.deleted.append(rel)
        return None
    kept = table.filter(pc.invert(removed_mask))
    written = write_parquet(kept, posixpath.join(staging, rel), shards)
    diff.rewritten[rel] = n_removed
    new = {**entry, **written, "rows": kept.num_rows}
    if "text_bytes" in entry and "text" in kept.column_names:
        new["text_bytes"] = _text_bytes(kept)
    return new


def _update_counts(manifest: dict[str, Any], diff: _Diff, parameters: dict[str, Any]) -> None:
    totals = manifest["totals"]
    cells = {(c["source"], c["lang"]): c for c in manifest["by_source_lang"]}
    per_source: dict[str, dict[str, int]] = {}
    for (source, lang, why), (docs, nbytes) in sorted(diff.removed.items()):
        cell = cells[(source, lang)]
        cell["docs_out"] -= docs
        cell["bytes_out"] -= nbytes
        cell["dropped"].append({"step": "removal", "reason": why, "docs": docs, "bytes": nbytes})
        cell["dropped"].sort(key=lambda d: (d["step"], d["reason"]))
        totals["docs_out"] -= docs
        totals["bytes_out"] -= nbytes
        totals["docs_dropped"] += docs
        reason_key = f"removal:{why}"
        totals["dropped_by_reason"][reason_key] = totals["dropped_by_reason"].get(reason_key, 0) + docs
        source_cell = per_source.setdefault(source, {"docs": 0, "bytes": 0})
        source_cell["docs"] += docs
        source_cell["bytes"] += nbytes
        source_cell[why] = source_cell.get(why, 0) + docs
    totals["dropped_by_reason"] = dict(sorted(totals["dropped_by_reason"].items()))
    for uid, source in manifest["sources"].items():
        last = source["processing"][-1] if source["processing"] else {"docs_out": 0, "bytes_out": 0}
        gone = per_source.get(uid, {"docs": 0, "bytes": 0})
        source["processing"].append(
            {
                "step": "removal",
                "parameters": parameters,
                "docs_in": last["docs_out"],
                "bytes_in": last["bytes_out"],
                "docs_out": last["docs_out"] - gone["docs"],
                "bytes_out": last["bytes_out"] - gone["bytes"],
                "dropped": {k: v for k, v in sorted(gone.items()) if k not in ("docs", "bytes")},
            }
        )


def remove(
    release: str,
    *,
    output: str,
    reason: str,
    ids: list[str] | None = None,
    urls: list[str] | None = None,
    source: str | None = None,
    release_id: str | None = None,
    overwrite: bool = False,
    date: dt.datetime | None = None,
) -> dict[str, Any]:
    if not reason.strip():
        raise ConfigError("--reason: say why (it is recorded in the manifest; the removed text never is)")
    given = [(m, v) for m, v in (("ids", ids), ("urls", urls), ("source", [source] if source else None)) if v]
    if len(given) != 1:
        raise ConfigError("give exactly one of --ids FILE, --urls FILE, --source UID")
    mode, items = given[0]
    try:
        parent_release = Release.open(release)
        parent = parent_release.manifest
    except ReleaseError as err:
        raise ConfigError(str(err)) from None
    if parent.get("kind", "release") != "release":
        raise ConfigError(f"{release}: a {parent.get('kind')} manifest; remove from the releases it was built from")
    if mode == "source" and source not in parent["sources"]:
        raise ConfigError(
            f"--source {source}: not a source of {release} (it has: {', '.join(sorted(parent['sources']))})"
        )
    check_target(absolute(output), overwrite)  # before reading every shard, not after
    request = Request(mode, items, reason)
    direct, cluster, answered = find_removals(release, parent, request)
    gone_ids = pa.array(sorted(direct | cluster), pa.string())
    why = {**dict.fromkeys(cluster, "near_duplicate"), **dict.fromkeys(direct, "request")}

    with staged_release(output, overwrite) as staging:
        manifest = copy.deepcopy(parent)
        shards_config = ShardsConfig.model_validate(parent["config"]["shards"])
        diff = _Diff()
        for key in FILE_LISTS:
            kept_entries = []
            for entry in parent.get(key, []):
                drop_whole = mode == "source" and entry.get("sources", [entry.get("source")]) == [source]
                if not entry["path"].endswith(".parquet") and not drop_whole:
                    copy_file(posixpath.join(release, entry["path"]), posixpath.join(staging, entry["path"]))
                    diff.carried.append(entry["path"])
                    kept_entries.append(entry)
                    continue
                new = _apply(release, staging, key, entry, gone_ids, why, shards_config, diff, drop_whole)
                if new is not None:
                    kept_entries.append(new)
            # The parent's token counts no longer add up after a removal: re-run count-tokens.
            manifest[key] = [{k: v for k, v in e.items() if k != "tokens"} for e in kept_entries]
        date = date or dt.datetime.now(dt.UTC)
        _update_counts(manifest, diff, {"mode": mode, "reason": reason, "date": date.isoformat(timespec="seconds")})
        removed = {w: sum(v[0] for k, v in diff.removed.items() if k[2] == w) for w in ("request", "near_duplicate")}
        requested = len(set(items)) if mode != "urls" else len(request.keys)
        manifest["removals"] = [
            *parent.get("removals", []),
            {
                "reason": reason,
                "date": date.isoformat(timespec="seconds"),
                "mode": mode,
                "requested": requested,
                "matched": len(answered),
                "not_found": requested - len(answered),
                "removed_docs": removed["request"] + removed["near_duplicate"],
                "removed_as_near_duplicates": removed["near_duplicate"],
                "diff": {
                    "carried_over": len(diff.carried),
                    "rewritten": dict(sorted(diff.rewritten.items())),
                    "deleted": sorted(diff.deleted),
                    "rejected_or_artifact_rows_removed": sum(
                        n for path, n in diff.rewritten.items() if not path.startswith("data/")
                    ),
                    "tokens_invalidated": "tokens" in parent or bool(parent_release.sidecar_files()),
                },
            },
        ]
        manifest.pop("tokens", None)
        manifest["release"] = release_id or f"{parent['release']}-removal{len(manifest['removals'])}"
        manifest["created"] = date.isoformat(timespec="seconds")
        manifest["parent"] = parent_release.parent_record()
        manifest.pop("card", None)
        finish_release(staging, manifest)
    return manifest
