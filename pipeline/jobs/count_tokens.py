"""`rootstock count-tokens RELEASE --tokenizer PATH`: token counts per shard, source and language.

A mix is budgeted in tokens of the tokenizer that will train on it, so a release records them
next to documents and bytes. Counting is one Beam pass over the data shards (one element per
shard, texts in batches; rejected shards are not counted); the per-(source, language) and
per-language sums are added up from the per-shard counts, so they agree by construction.

A published release never changes: a child release and a mix record its manifest by sha256.
So counts added later go into a sidecar, `tokens/<tokenizer sha256[:16]>.json`, which names
the manifest sha256 it was counted against and carries a sha256 of its own content; `verify`
checks both and the arithmetic. Counting again with the same tokenizer replaces that sidecar;
another tokenizer gets its own. `rootstock run --tokenizer` counts before publishing instead,
into the manifest's `tokens` section (`count_staged_tokens`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import posixpath
from collections.abc import Iterable
from typing import Any

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from rootstock.errors import ReleaseError
from rootstock.filters.tokens import Tokenizer
from rootstock.paths import absolute, is_url
from rootstock.pipeline.beam.gather import read_json_list, write_json_list
from rootstock.pipeline.beam.options import pipeline_options
from rootstock.pipeline.release.publish import beam_tempdir, discard, make_staging, sweep_partials
from rootstock.pipeline.release.release import TOKENS_KIND, WORK_DIR, Release, sidecar_digest, sidecar_path

BATCH_SIZE = 512


def shard_cell(shard: dict[str, Any]) -> tuple[str, str]:
    """(source, lang) of a data shard; data shards are written one per (lang, source)."""
    langs, sources = shard.get("languages") or [shard.get("lang")], shard.get("sources") or [shard.get("source")]
    if len(langs) != 1 or len(sources) != 1 or None in (langs[0], sources[0]):
        raise ReleaseError(f"{shard['path']}: a data shard should hold one language and one source")
    return sources[0], langs[0]


class _CountShard(beam.DoFn):
    def __init__(self, release: str, tokenizer: Tokenizer, batch_size: int):
        self.release, self.tokenizer, self.batch_size = release, tokenizer, batch_size

    def process(self, shard: dict[str, Any]):
        docs = tokens = 0
        with FileSystems.open(posixpath.join(self.release, shard["path"])) as handle:
            for batch in pq.ParquetFile(handle).iter_batches(batch_size=self.batch_size, columns=["text"]):
                counts = self.tokenizer.count([text or "" for text in batch.column(0).to_pylist()])
                docs, tokens = docs + len(counts), tokens + sum(counts)
        yield {"path": shard["path"], "source": shard["source"], "lang": shard["lang"], "docs": docs, "tokens": tokens}


class CountShardTokens(beam.PTransform):
    """Manifest shard entries → one {path, source, lang, docs, tokens} per shard.

    The piece a larger graph (e.g. `run`, once its shards are written) can reuse.
    """

    def __init__(self, release: str, tokenizer: Tokenizer, batch_size: int = BATCH_SIZE):
        super().__init__()
        self.release, self.tokenizer, self.batch_size = release, tokenizer, batch_size

    def expand(self, shards):
        return (
            shards
            | "Spread" >> beam.Reshuffle()
            | "Count" >> beam.ParDo(_CountShard(self.release, self.tokenizer, self.batch_size))
        )


def token_section(
    shard_counts: Iterable[dict[str, Any]],
    tokenizer: dict[str, Any],
    shard_bytes: dict[str, int] | None = None,
    counted_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The manifest's `tokens` section from per-shard counts."""
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    by_lang: dict[str, int] = {}
    for row in shard_counts:
        cell = cells.setdefault(
            (row["source"], row["lang"]),
            {"source": row["source"], "lang": row["lang"], "docs": 0, "tokens": 0, "text_bytes": 0},
        )
        cell["docs"] += row["docs"]
        cell["tokens"] += row["tokens"]
        cell["text_bytes"] += (shard_bytes or {}).get(row["path"], 0)
        by_lang[row["lang"]] = by_lang.get(row["lang"], 0) + row["tokens"]
    return {
        "tokenizer": tokenizer,
        "special_tokens": False,
        "total": sum(by_lang.values()),
        "by_source_lang": [cells[key] for key in sorted(cells)],
        "by_lang": dict(sorted(by_lang.items())),
        "counted_at": (counted_at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
    }


def apply_token_counts(
    manifest: dict[str, Any],
    shard_counts: list[dict[str, Any]],
    tokenizer: dict[str, Any],
    counted_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """MANIFEST with `tokens` on every data shard and a fresh top-level `tokens` section."""
    by_path = {row["path"]: row for row in shard_counts}
    missing = [s["path"] for s in manifest["shards"] if s["path"] not in by_path]
    if missing:
        raise ReleaseError(f"no token count for {len(missing)} shard(s), e.g. {missing[0]}")
    for shard in manifest["shards"]:
        row = by_path[shard["path"]]
        if row["docs"] != shard["rows"]:
            raise ReleaseError(
                f"{shard['path']}: read {row['docs']} documents, the manifest says {shard['rows']}; run `rootstock verify`"
            )
    shards = [{**s, "tokens": by_path[s["path"]]["tokens"]} for s in manifest["shards"]]
    section = token_section(
        [by_path[s["path"]] for s in manifest["shards"]],
        tokenizer,
        {s["path"]: s.get("text_bytes", 0) for s in shards},
        counted_at,
    )
    return {**manifest, "shards": shards, "tokens": section}


def _count_shards(
    root: str,
    manifest: dict[str, Any],
    tokenizer: Tokenizer,
    beam_args: list[str] | None,
    work: str,
    batch_size: int = BATCH_SIZE,
) -> list[dict[str, Any]]:
    """One {path, source, lang, docs, tokens} per data shard of the release at ROOT (a Beam pass)."""
    entries = [dict(zip(("source", "lang"), shard_cell(s), strict=True), path=s["path"]) for s in manifest["shards"]]
    if not entries:
        return []
    out = posixpath.join(work, "counts.json")
    with beam_tempdir(work), beam.Pipeline(options=pipeline_options(beam_args)) as p:
        counted = p | "Shards" >> beam.Create(entries) | "CountTokens" >> CountShardTokens(root, tokenizer, batch_size)
        write_json_list(counted, out, "counts")
    return read_json_list(out)


def count_staged_tokens(
    staging: str, manifest: dict[str, Any], tokenizer: Tokenizer, beam_args: list[str] | None = None
) -> dict[str, Any]:
    """MANIFEST of the release being made in STAGING, with its token counts (`run --tokenizer`).

    Counted before the release is published, so its manifest is complete from the start.
    """
    work = posixpath.join(staging, WORK_DIR, "tokens")
    FileSystems.mkdirs(work)
    counts = _count_shards(staging, manifest, tokenizer, beam_args, work)
    return apply_token_counts(manifest, counts, tokenizer.describe())


def build_sidecar(
    release: Release,
    shard_counts: list[dict[str, Any]],
    tokenizer: dict[str, Any],
    counted_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The token-count sidecar of RELEASE: bound to its manifest by sha256, hashed itself."""
    counted = apply_token_counts(release.manifest, shard_counts, tokenizer, counted_at)
    sidecar = {
        "kind": TOKENS_KIND,
        "release": release.id,
        "manifest_sha256": release.manifest_sha256,
        **counted["tokens"],
        "shards": sorted(
            ({"path": s["path"], "tokens": s["tokens"]} for s in counted["shards"]), key=lambda s: s["path"]
        ),
    }
    return {**sidecar, "sha256": sidecar_digest(sidecar)}


def write_sidecar(release: str, sidecar: dict[str, Any]) -> str:
    """Write SIDECAR into RELEASE (replacing one of the same tokenizer); return its relative path."""
    rel = sidecar_path(sidecar["tokenizer"]["sha256"])
    path = posixpath.join(release, rel)
    payload = (json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if is_url(release):
        with FileSystems.create(path) as handle:  # one object: readers see the old or the new one
            handle.write(payload)
        return rel
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as handle:
        handle.write(payload)
    os.replace(tmp, path)
    return rel


def count_tokens(
    release: str, tokenizer_path: str, beam_args: list[str] | None = None, *, batch_size: int = BATCH_SIZE
) -> dict[str, Any]:
    """Count every data shard of RELEASE and write the counts as a sidecar; return the sidecar.

    The sidecar is `tokens/<tokenizer sha256[:16]>.json` inside the release; manifest.json is
    not touched, so the manifest sha256 a child release or a mix recorded still verifies.
    """
    tokenizer = Tokenizer(tokenizer_path)  # a bad path fails here, before any Beam work
    release = absolute(release).rstrip("/")
    opened = Release.open(release, kind="release")
    sweep_partials(release)  # a killed count's scratch directory
    work = make_staging(release, "-tokens")  # beside the release: nothing unlisted appears inside it
    try:
        counts = _count_shards(release, opened.manifest, tokenizer, beam_args, work, batch_size)
    finally:
        discard(work)
    sidecar = build_sidecar(opened, counts, tokenizer.describe())
    write_sidecar(release, sidecar)
    return sidecar
