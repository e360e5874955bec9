"""Reading and the per-document stages, one work unit at a time, checkpointed for `--resume`.

A work unit (a file, a dataset shard, a dump's streams) is read and passed through the leading
stages that decide each document alone (clean, langid, quality; see DocumentStage.per_document)
inside one DoFn, in chunks. Its outputs go downstream as they are made and into a checkpoint
under the run's work directory; once the unit is done a small JSON (the checkpoint's sha256 and
the fingerprint of what made it: rootstock's version and commit, the source's catalogue entry,
those stages' settings, the input's identity) marks it complete. A resumed run emits a complete
unit's checkpoint instead of recomputing it, after checking its sha256, so what reaches the
later stages is the same either way: the release is byte-identical to an uninterrupted run's.

Besides the documents kept, a unit emits light records (id, source, language, where it was
read, text bytes) of what was read and of what each stage passed on, which is all the counts
need, so the documents themselves cross the graph once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import pickle
import posixpath
import uuid
from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystem import FileMetadata
from apache_beam.io.filesystems import FileSystems

from rootstock.catalog.entry import SourceEntry
from rootstock.catalog.registry import use_overlay
from rootstock.pipeline.release.columns import text_bytes
from rootstock.pipeline.release.release import file_digest
from rootstock.pipeline.stages.base import DocumentStage, apply_document_fn
from rootstock.sources.read import unit_size
from rootstock.sources.records import UNKNOWN_LANGUAGE
from rootstock.sources.units import Skipped, UnitReader

READ = "read"
SKIPPED = "skipped"
CHUNK_DOCS = 2000  # documents a unit holds at once (read, then through the stages)
CHECKPOINTS = "checkpoints"


def out_tag(stage: str) -> str:
    return f"out:{stage}"


def rejected_tag(stage: str) -> str:
    return f"rejected:{stage}"


def unit_identity(unit: Any) -> Any:
    """What a unit is, in a form that changes when its input does (path, size, modification time)."""
    if isinstance(unit, FileMetadata):
        return {"path": unit.path, "size": unit.size_in_bytes, "mtime": unit.last_updated_in_seconds}
    identity: dict[str, Any] = {"unit": json.loads(json.dumps(unit, default=str))}
    if isinstance(unit, tuple) and len(unit) > 1 and isinstance(unit[1], str):
        try:
            meta = FileSystems.metadata(unit[1])
            identity.update(size=meta.size_in_bytes, mtime=meta.last_updated_in_seconds)
        except Exception:  # a directory or a store that does not say: the unit's own description stands
            pass
    return identity


def unit_key(source: str, identity: Any) -> str:
    blob = json.dumps([source, identity], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def light(doc: dict[str, Any]) -> dict[str, Any]:
    """What counting needs of a document: who, which language, where it was read, how big."""
    record = {
        "id": doc["id"],
        "source": doc["source"],
        "lang": doc["lang"],
        "input_file": doc["input_file"],
        "input_row": doc["input_row"],
        "text_bytes": text_bytes(doc),
    }
    for flag in (UNKNOWN_LANGUAGE, "lang_in"):
        if flag in doc:
            record[flag] = doc[flag]
    return record


def prefix_stages(stages: list) -> list[DocumentStage]:
    """The leading stages that decide each document alone."""
    prefix = []
    for stage in stages:
        if not (isinstance(stage, DocumentStage) and stage.per_document()):
            break
        prefix.append(stage)
    return prefix


class ScoreUnits(beam.PTransform):
    """Work units of one source → documents after the per-document stages, with tagged outputs:
    `read` and `out:<stage>` light records, `rejected:<stage>` documents, `skipped` records."""

    def __init__(
        self,
        entry: SourceEntry,
        paths: list[str],
        catalog_root: str | None,
        stages: list[DocumentStage],
        checkpoints: str,
        fingerprint: str,
        *,
        report=None,
        blocklist=None,
        languages: list[dict] | None = None,
        tallies: dict[str, Any] | None = None,
    ):
        super().__init__(label=f"Score[{entry.uid}]")
        self.fn = _ScoreUnit(
            entry, paths, catalog_root, stages, checkpoints, fingerprint, report, blocklist, languages, tallies
        )
        self.tags = [READ, SKIPPED, *(out_tag(s.name) for s in stages), *(rejected_tag(s.name) for s in stages)]

    def expand(self, units):
        return units | beam.ParDo(self.fn).with_outputs(*self.tags, main="kept")


class _ScoreUnit(beam.DoFn):
    def __init__(
        self, entry, paths, catalog_root, stages, checkpoints, fingerprint, report, blocklist, languages, tallies
    ):
        self.entry, self.paths, self.catalog_root = entry, paths, catalog_root
        self.stages = [(stage.name, stage.document_fn(), stage.batch_size) for stage in stages]
        self.checkpoints, self.fingerprint = checkpoints, fingerprint
        self.report, self.blocklist, self.languages = report, blocklist, languages
        self.tallies = tallies or {}

    def setup(self):
        if self.languages is not None:
            use_overlay(self.languages)
        self.reader = UnitReader(self.entry, self.paths, self.catalog_root, self.report, self.blocklist)
        for _, fn, _ in self.stages:
            fn.setup()

    def process(self, unit):
        path = checkpoint_path(self.checkpoints, self.entry.uid, unit)
        saved = _valid_checkpoint(path, self.fingerprint)
        chunks = _load_chunks(path + ".pkl") if saved else self._compute_and_save(unit, path)
        for chunk in chunks:
            self._tally(chunk)
            yield from self._emit(chunk)
        if self.tallies.get(READ) is not None:
            self.tallies[READ].add(input_bytes=unit_size(unit), units=1)

    def _compute_and_save(self, unit, path: str) -> Iterator[dict[str, list]]:
        temporary = f"{path}.{uuid.uuid4().hex[:8]}.tmp"
        digest, count = hashlib.sha256(), 0
        with FileSystems.create(temporary) as handle:
            for chunk in self._compute(unit):
                blob = pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
                handle.write(blob)
                digest.update(blob)
                count += 1
                yield chunk
        FileSystems.rename([temporary], [path + ".pkl"])
        marker = {
            "fingerprint": self.fingerprint,
            "sha256": digest.hexdigest(),
            "chunks": count,
            "completed": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        with FileSystems.create(path + ".json") as handle:  # written last: the unit is complete
            handle.write(json.dumps(marker).encode())

    def _compute(self, unit) -> Iterator[dict[str, list]]:
        docs, skipped = [], []
        for item in self.reader.read(unit):
            if isinstance(item, Skipped):
                skipped.append(dict(item))
            else:
                docs.append(item)
            if len(docs) >= CHUNK_DOCS:
                yield self._through_stages(docs, skipped)
                docs, skipped = [], []
        if docs or skipped:
            yield self._through_stages(docs, skipped)

    def _through_stages(self, docs: list[dict], skipped: list[dict]) -> dict[str, list]:
        chunk: dict[str, list] = {READ: [light(d) for d in docs], SKIPPED: skipped}
        for name, fn, batch_size in self.stages:
            docs, dropped = apply_document_fn(fn, docs, batch_size)
            chunk[out_tag(name)] = [light(d) for d in docs]
            chunk[rejected_tag(name)] = dropped
        chunk["kept"] = docs
        return chunk

    def _emit(self, chunk: dict[str, list]):
        for tag, rows in chunk.items():
            if tag == "kept":
                continue
            for row in rows:
                yield beam.pvalue.TaggedOutput(tag, row)
        yield from chunk["kept"]

    def _tally(self, chunk: dict[str, list]) -> None:
        read = self.tallies.get(READ)
        if read is not None:
            read.add(docs=len(chunk[READ]), docs_bytes=sum(r["text_bytes"] for r in chunk[READ]))
        for name, _, _ in self.stages:
            tally = self.tallies.get(name)
            if tally is not None:
                kept = chunk[out_tag(name)]
                dropped = chunk[rejected_tag(name)]
                tally.add(
                    kept=len(kept),
                    kept_bytes=sum(r["text_bytes"] for r in kept),
                    dropped=len(dropped),
                    dropped_bytes=sum(text_bytes(d) for d in dropped),
                )

    def finish_bundle(self):
        for tally in self.tallies.values():
            tally.flush()


def checkpoint_path(checkpoints: str, uid: str, unit: Any) -> str:
    return posixpath.join(checkpoints, f"{uid}-{unit_key(uid, unit_identity(unit))}")


def completed_units(checkpoints: str, uid: str, units: list, fingerprint: str) -> int:
    """How many of a source's UNITS have a finished checkpoint (by its marker; the workers also
    check its bytes), for the launcher to say how much a resumed run reuses."""
    done = 0
    for unit in units:
        try:
            with FileSystems.open(checkpoint_path(checkpoints, uid, unit) + ".json") as handle:
                done += json.loads(handle.read()).get("fingerprint") == fingerprint
        except Exception:  # no marker (or an unreadable one): not done
            continue
    return done


def _valid_checkpoint(path: str, fingerprint: str) -> bool:
    """A complete checkpoint made the way this run would make it, whose bytes are intact."""
    try:
        with FileSystems.open(path + ".json") as handle:
            marker = json.loads(handle.read())
    except Exception:  # no marker: the unit never finished
        return False
    if marker.get("fingerprint") != fingerprint:
        return False
    try:
        _, sha256 = file_digest(path + ".pkl")
    except Exception:  # the data went missing: compute the unit again
        return False
    return sha256 == marker.get("sha256")


def _load_chunks(path: str) -> Iterator[dict[str, list]]:
    with FileSystems.open(path) as handle:
        while True:
            try:
                yield pickle.load(handle)
            except EOFError:
                return
