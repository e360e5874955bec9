"""`rootstock index RELEASE`: a tantivy full-text index of a release, in a sidecar beside its data.

Why tantivy: it has phrase queries, exact-value fields and stored documents, which `search
--exact`, `--lang` and `show` need and bm25s lacks, and on the same tokens it indexes as fast
and answers faster (benchmarks/search_index.py; numbers in the README's Benchmarks). Word
splitting, not the engine, is the cost of building (spaCy), so large releases are split in a
pool of processes and the single tantivy writer only adds the documents.

Where it goes (pipeline/release/search_index.py): `rootstock run --index` builds it in the
staging directory before the manifest is written and lists its files in the manifest
(`index/listed/`, `index_staged`); `rootstock index RELEASE` builds one for a published release,
whose manifest never changes (a child release and a mix record it by sha256), as a sidecar like
the token counts (`index/<manifest sha256[:16]>/`, `build_index`). Either holds `tantivy/` (the
engine's files) and `index.json`: the manifest sha256 or the shards it was built from, the
engine and its version, the splitter of every language, the documents indexed, every file with
its size and sha256, and a sha256 of its own content (`sidecar_digest`); `verify` checks it all.
A sidecar is built beside the release and moved in by one rename, `index.json` written before
it: a killed build leaves no half index.

Indexed: every data shard (`set` = data) and the rejected sample (`set` = rejected), so `show`
finds a dropped document and its dedup survivor. Stored: the text (for snippets and the page)
and each document's provenance, so a search reads no Parquet; `show` reads the document's row.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import hashlib
import importlib.metadata
import json
import multiprocessing
import os
import posixpath
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq
import tantivy
from apache_beam.io.filesystems import FileSystems

from rootstock.errors import ReleaseError
from rootstock.paths import absolute, is_url
from rootstock.pipeline.inspect import terms
from rootstock.pipeline.release.publish import discard, make_staging, sweep_partials
from rootstock.pipeline.release.release import INDEX_DIR, INDEX_JSON, INDEX_KIND, Release, file_digest, sidecar_digest
from rootstock.pipeline.release.search_index import (
    LISTED_DIR,
    SETS,
    FoundIndex,
    find_index,
    listed_dir,
    shard_records,
    sidecar_dir,
)

ENGINE_DIR = "tantivy"
FORMAT = 1
# tantivy leaves its writer's lock file behind (removed after the build) and re-creates an empty
# `.tantivy-meta.lock` whenever a reader opens the index: that one is kept and listed, empty.
WRITER_LOCK = ".tantivy-writer.lock"
META_LOCK = ".tantivy-meta.lock"
TERMS_TOKENIZER = "terms"
# Below this many documents, splitting in the calling process beats starting worker processes
# (each imports spaCy, jieba and friends: seconds).
IN_PROCESS_BELOW = 5000
WRITER_HEAP = 128_000_000
_COLUMNS = [
    "id",
    "text",
    "lang",
    "source",
    "url",
    "license",
    "source_doc_id",
    "input_file",
    "input_row",
    "retrieved_at",
    "meta",
    "origin",
    "lang_check",
    "lang_score",
    "dup_cluster_id",
    "dup_cluster_size",
    "dup_survivor_id",
    "pii_counts",
    "drop_stage",
    "drop_reason",
]
# Indexed as one term each (looked up by value: `show ID`, a URL, a dedup cluster), and stored.
KEY_FIELDS = ("id", "set", "lang", "source", "url", "source_doc_id", "dup_cluster_id", "dup_survivor_id")


def schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in KEY_FIELDS:
        builder.add_text_field(name, stored=True, tokenizer_name="raw", index_option="basic", fast=name == "lang")
    builder.add_text_field("words", tokenizer_name=TERMS_TOKENIZER, index_option="position")
    builder.add_text_field("exact", tokenizer_name=TERMS_TOKENIZER, index_option="position")
    builder.add_bytes_field("text", stored=True)
    builder.add_bytes_field("doc", stored=True)  # provenance and scores, JSON
    return builder.build()


def _register(index: tantivy.Index) -> None:
    """The terms arrive split and joined by spaces (terms.py): cut them at the spaces, nothing else."""
    index.register_tokenizer(TERMS_TOKENIZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())


# -- reading and splitting (in worker processes) ----------------------------------------------


def _stored(row: dict[str, Any], shard: str, index: int) -> dict[str, Any]:
    """What a search result shows without reading the release: provenance, decisions, scores."""
    meta = row.get("meta")
    try:
        meta = json.loads(meta) if isinstance(meta, str) else (meta or {})
    except ValueError:
        meta = {}
    retrieved = row.get("retrieved_at")
    origin = {k: v for k, v in (row.get("origin") or {}).items() if v is not None}
    doc = {
        "shard": shard,
        "row": index,
        "license": row.get("license"),
        "input_file": row.get("input_file"),
        "input_row": row.get("input_row"),
        "retrieved_at": retrieved.isoformat() if hasattr(retrieved, "isoformat") else retrieved,
        "title": meta.get("title") if isinstance(meta, dict) and isinstance(meta.get("title"), str) else None,
        "origin": origin or None,
        "lang_check": row.get("lang_check"),
        "lang_score": row.get("lang_score"),
        "dup_cluster_size": row.get("dup_cluster_size"),
        "pii": {c["category"]: c["count"] for c in row.get("pii_counts") or []},
        "drop_stage": row.get("drop_stage"),
        "drop_reason": row.get("drop_reason"),
        "text_bytes": len((row.get("text") or "").encode("utf-8")),
    }
    return {k: v for k, v in doc.items() if v not in (None, {}, [])}


def prepare_batch(path: str, shard: str, set_name: str, row_group: int, first_row: int) -> list[dict[str, Any]]:
    """One row group of a shard as documents ready for the index (terms split, JSON stored)."""
    out = []
    with FileSystems.open(path) as handle:
        parquet = pq.ParquetFile(handle)
        columns = [c for c in _COLUMNS if c in parquet.schema_arrow.names]
        rows = parquet.read_row_group(row_group, columns=columns).to_pylist()
    for offset, row in enumerate(rows):
        text, lang = row.get("text") or "", row.get("lang") or "und"
        prepared = {key: row.get(key) for key in KEY_FIELDS if key != "set"}
        prepared.update(
            set=set_name,
            lang=lang,
            words=" ".join(terms.words(text, lang)),
            exact=" ".join(terms.exact_words(text)),
            text=text,
            doc=json.dumps(_stored(row, shard, first_row + offset), ensure_ascii=False, default=str),
        )
        out.append(prepared)
    return out


def _document(prepared: dict[str, Any]) -> tantivy.Document:
    doc = tantivy.Document()
    for key in KEY_FIELDS:
        value = prepared.get(key)
        if isinstance(value, str) and value:
            doc.add_text(key, value)
    doc.add_text("words", prepared["words"])
    doc.add_text("exact", prepared["exact"])
    doc.add_bytes("text", prepared["text"].encode("utf-8"))
    doc.add_bytes("doc", prepared["doc"].encode("utf-8"))
    return doc


@dataclass
class _Task:
    path: str
    shard: str
    set_name: str
    row_group: int
    first_row: int
    rows: int


def _tasks(release: Release) -> list[_Task]:
    tasks = []
    for key, set_name in SETS.items():
        for entry in release.entries(key):
            if not entry.get("rows"):
                continue
            path = release.file(entry["path"])
            with FileSystems.open(path) as handle:
                metadata = pq.ParquetFile(handle).metadata
            first = 0
            for i in range(metadata.num_row_groups):
                rows = metadata.row_group(i).num_rows
                tasks.append(_Task(path, entry["path"], set_name, i, first, rows))
                first += rows
    return tasks


def _prepared(tasks: list[_Task], workers: int) -> Iterator[list[dict[str, Any]]]:
    """Prepared batches in task order; WORKERS processes split the words (0: this process)."""
    if workers <= 0:
        for t in tasks:
            yield prepare_batch(t.path, t.shard, t.set_name, t.row_group, t.first_row)
        return
    # spawn, not fork: the parent holds Beam's and tantivy's threads.
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: list[concurrent.futures.Future] = []
        queue = iter(tasks)
        for t in queue:  # at most 2 batches per worker in flight: bounded memory
            pending.append(pool.submit(prepare_batch, t.path, t.shard, t.set_name, t.row_group, t.first_row))
            if len(pending) >= 2 * workers:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def _local_files(root: str) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(d, name), root).replace(os.sep, "/")
        for d, _, names in os.walk(root)
        for name in names
    )


def sidecar_bytes(sidecar: dict[str, Any]) -> bytes:
    """index.json as written."""
    return (json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass
class BuildReport:
    sidecar: dict[str, Any]
    path: str  # the index directory, relative to the release
    seconds: float
    index_bytes: int
    workers: int


def build_into(release: Release, out: str, workers: int | None = None, *, listed: bool = False) -> BuildReport:
    """Build the index of RELEASE into the local directory OUT (tantivy/ and index.json).

    LISTED: for the manifest to list (`index_staged`), bound to the shards, not to a manifest sha256.
    """
    start = time.perf_counter()
    tasks = _tasks(release)
    total = sum(t.rows for t in tasks)
    if workers is None:
        workers = 0 if total < IN_PROCESS_BELOW else max(1, min(os.cpu_count() or 1, len(tasks)))
    engine_dir = os.path.join(out, ENGINE_DIR)
    os.makedirs(engine_dir)
    index = tantivy.Index(schema(), path=engine_dir)
    _register(index)
    writer = index.writer(heap_size=WRITER_HEAP, num_threads=1)
    counts = dict.fromkeys(SETS.values(), 0)
    languages: set[str] = set()
    for batch in _prepared(tasks, workers):
        for prepared in batch:
            writer.add_document(_document(prepared))
            counts[prepared["set"]] += 1
            languages.add(prepared["lang"])
    writer.commit()
    writer.wait_merging_threads()
    del writer
    if os.path.exists(os.path.join(engine_dir, WRITER_LOCK)):
        os.remove(os.path.join(engine_dir, WRITER_LOCK))
    open(os.path.join(engine_dir, META_LOCK), "ab").close()  # readers make it anyway: list it
    umask = os.umask(0)
    os.umask(umask)
    files = []
    for rel in _local_files(engine_dir):
        # tantivy writes meta.json and .managed.json readable by their owner only: give every
        # file the mode the user's other files get, so whoever can read the release can search it.
        os.chmod(os.path.join(engine_dir, rel), 0o666 & ~umask)
        size, sha = file_digest(os.path.join(engine_dir, rel))
        files.append({"path": f"{ENGINE_DIR}/{rel}", "file_bytes": size, "sha256": sha})
    seconds = time.perf_counter() - start
    sidecar = {
        "kind": INDEX_KIND,
        "format": FORMAT,
        "release": release.id,
        "manifest_sha256": None if listed else release.manifest_sha256,
        "engine": {"name": "tantivy", "version": importlib.metadata.version("tantivy")},
        "fields": {
            "words": "filters.words.split_words(text, lang), casefolded: BM25 ranking",
            "exact": "filters.words.unicode_words(text), casefolded: phrase (exact) matches",
            "keys": list(KEY_FIELDS),
        },
        "splitters": {lang: terms.splitter_name(lang) for lang in sorted(languages)},
        "documents": counts,
        "shards": shard_records(release),
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "build_seconds": round(seconds, 3),
        "files": files,
    }
    sidecar["sha256"] = sidecar_digest(sidecar)
    with open(os.path.join(out, INDEX_JSON), "wb") as handle:
        handle.write(sidecar_bytes(sidecar))
    where = LISTED_DIR if listed else sidecar_dir(release.manifest_sha256)
    return BuildReport(sidecar, where, seconds, sum(f["file_bytes"] for f in files), workers)


def build_index(release: str, workers: int | None = None) -> BuildReport:
    """Index RELEASE into its sidecar `index/<manifest sha256[:16]>/`; manifest.json is not touched.

    Built beside the release and renamed in (local), or uploaded with index.json last (URLs).
    Indexing again replaces the index of the same manifest.
    """
    release = absolute(release).rstrip("/")
    opened = Release.open(release, kind="release")
    rel = sidecar_dir(opened.manifest_sha256)
    if is_url(release):
        work = tempfile.mkdtemp(prefix="rootstock-index-")
        try:
            report = build_into(opened, os.path.join(work, "out"), workers)
            _upload(os.path.join(work, "out"), opened.file(rel))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return report
    sweep_partials(release)  # a killed build's directory
    staging = make_staging(release, "-index")
    try:
        built = os.path.join(staging, "out")
        report = build_into(opened, built, workers)
        target = opened.file(rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.exists(target):
            os.rename(target, os.path.join(staging, "previous"))
        os.rename(built, target)
    finally:
        discard(staging)
    return report


def _upload(local: str, target: str) -> None:
    """Copy an index directory to a URL: old files out first, index.json last."""
    if FileSystems.exists(target + "/"):
        FileSystems.delete([target + "/"])
    names = [n for n in _local_files(local) if n != INDEX_JSON] + [INDEX_JSON]
    for name in names:
        with open(os.path.join(local, name), "rb") as src, FileSystems.create(posixpath.join(target, name)) as dst:
            shutil.copyfileobj(src, dst)


def index_staged(staging: str, manifest: dict[str, Any], workers: int | None = None) -> BuildReport:
    """`run --index`: index the release staged in STAGING into index/listed/ and list its files
    (index.json included) in MANIFEST's `artifacts`, before the manifest is written.

    The staging directory is the run's own (discarded if the run fails), so the index is built
    in place; on an object store it is built locally and uploaded.
    """
    if manifest.get("kind", "release") != "release":
        raise ReleaseError(f"--index indexes a release, not a {manifest.get('kind')}")
    release = Release(staging.rstrip("/"), manifest, "")
    if is_url(staging):
        work = tempfile.mkdtemp(prefix="rootstock-index-")
        try:
            report = build_into(release, os.path.join(work, "out"), workers, listed=True)
            _upload(os.path.join(work, "out"), release.file(LISTED_DIR))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    else:
        target = release.file(LISTED_DIR)
        shutil.rmtree(target, ignore_errors=True)  # a resumed run's: rebuilt from this run's shards
        report = build_into(release, target, workers, listed=True)
    payload = sidecar_bytes(report.sidecar)
    entries = [
        {
            "path": f"{LISTED_DIR}/{INDEX_JSON}",
            "file_bytes": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
        }
    ]
    entries += [{**f, "path": f"{LISTED_DIR}/{f['path']}"} for f in report.sidecar["files"]]
    others = [a for a in manifest.get("artifacts") or [] if not a["path"].startswith(f"{LISTED_DIR}/")]
    manifest["artifacts"] = others + sorted(entries, key=lambda e: e["path"])
    return report


# -- opening ------------------------------------------------------------------------------------


def _local_copy(release: Release, found: FoundIndex) -> str:
    """A local directory holding the engine's files: the release's own, or a checked copy."""
    base, sidecar = release.file(found.path), found.sidecar
    if not is_url(release.path):
        return os.path.join(base, ENGINE_DIR)
    cache = os.path.join(
        tempfile.gettempdir(), f"rootstock-index-{release.manifest_sha256[:16]}-{sidecar['sha256'][:8]}"
    )
    if not os.path.exists(os.path.join(cache, ".complete")):
        shutil.rmtree(cache, ignore_errors=True)
        for entry in sidecar["files"]:
            local = os.path.join(cache, *entry["path"].split("/"))
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with FileSystems.open(posixpath.join(base, entry["path"])) as src, open(local, "wb") as dst:
                shutil.copyfileobj(src, dst)
            if file_digest(local) != (entry["file_bytes"], entry["sha256"]):
                raise ReleaseError(f"{base}/{entry['path']}: not the file {INDEX_JSON} lists; index again")
        open(os.path.join(cache, ".complete"), "w").close()
    return os.path.join(cache, ENGINE_DIR)


class SearchIndex:
    """An opened index: the release, its index.json and a tantivy searcher."""

    def __init__(self, release: Release, found: FoundIndex, index: tantivy.Index, path: str):
        self.release, self.found, self.sidecar, self.index = release, found, found.sidecar, index
        self.path = path  # the engine's directory on this machine (a copy for a remote release)
        self.schema = index.schema
        self.searcher = index.searcher()

    @classmethod
    def open(cls, release: str | Release) -> SearchIndex:
        opened = release if isinstance(release, Release) else Release.open(absolute(release).rstrip("/"))
        found = find_index(opened)
        if found is None:
            stale = (
                FileSystems.exists(opened.file(INDEX_DIR) + "/")
                if is_url(opened.path)
                else os.path.isdir(opened.file(INDEX_DIR))
            )
            listed = listed_dir(opened.manifest)
            raise ReleaseError(
                f"{opened.path}: no search index for this manifest"
                + (f" (the manifest lists {listed}/{INDEX_JSON}, which cannot be read)" if listed else "")
                + (" (the index/ directory holds indexes of other manifests)" if stale and not listed else ""),
                hint=f"build it with `rootstock index {opened.path}`",
            )
        path = _local_copy(opened, found)
        try:
            index = tantivy.Index.open(path)
        except (OSError, ValueError):  # a read-only directory: tantivy wants its lock file
            path = tempfile.mkdtemp(prefix="rootstock-index-ro-")
            shutil.copytree(_local_copy(opened, found), path, dirs_exist_ok=True)
            index = tantivy.Index.open(path)
        _register(index)
        return cls(opened, found, index, path)

    @property
    def languages(self) -> list[str]:
        return list(self.sidecar.get("splitters") or {})

    def stored(self, address: tantivy.DocAddress) -> dict[str, Any]:
        """A document as stored: its key fields, text and provenance."""
        doc = self.searcher.doc(address)
        out = {key: (doc.get_first(key) if doc.get_all(key) else None) for key in KEY_FIELDS}
        out["text"] = bytes(doc.get_first("text")).decode("utf-8")
        out.update(json.loads(bytes(doc.get_first("doc")).decode("utf-8")))
        return out

    def lookup(self, key: str, value: str, limit: int = 100) -> list[dict[str, Any]]:
        """Documents whose KEY field (one of KEY_FIELDS) is exactly VALUE."""
        query = tantivy.Query.term_query(self.schema, key, value)
        return [self.stored(address) for _, address in self.searcher.search(query, limit).hits]

    def count(self, key: str, value: str) -> int:
        return self.searcher.search(tantivy.Query.term_query(self.schema, key, value), 1, count=True).count
