"""The nodes of the duplicate graph and the signatures a release keeps of them.

A node is what dedup knows of a document: its exact key, URL key, MinHash signature and what
survivor choice compares (bytes, catalogue priority). The kept documents' nodes are written
under dedup/signatures, so a later run can deduplicate against this release (`against:`)
without its documents and without recomputing a signature; that only holds if both runs
hashed alike, which `earlier_signatures` checks.
"""

from __future__ import annotations

import posixpath
from typing import Any

import apache_beam as beam
import numpy as np
import pyarrow as pa

from rootstock.errors import ConfigError, ReleaseError
from rootstock.filters import dedup as d
from rootstock.filters.minhash import MinHasher
from rootstock.pipeline.beam.parquet import ReadParquetRows
from rootstock.pipeline.beam.shards import ShardsConfig, WriteShards
from rootstock.pipeline.release.release import Release
from rootstock.pipeline.stages.dedup.settings import DedupSettings, NearDuplicates

SIGNATURES = "dedup/signatures"
# Settings that must match for signatures of another release to be comparable.
COMPATIBLE = ("num_perm", "seed", "ngram", "bands", "rows")

SIGNATURE_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("lang", pa.string(), nullable=False),
        pa.field("exact", pa.string()),
        pa.field("url", pa.string()),
        pa.field("bytes", pa.int64()),
        pa.field("priority", pa.int64()),
        pa.field("signature", pa.list_(pa.uint32())),
    ]
)


def as_array(signature: bytes) -> np.ndarray:
    """A node's signature (raw little-endian uint32 bytes) as a numpy array, without a copy."""
    return np.frombuffer(signature, dtype="<u4")


class NodeFeatures(beam.PTransform):
    """Documents → their nodes."""

    def __init__(self, settings: DedupSettings, priorities: dict[str, int]):
        super().__init__()
        self.settings, self.priorities = settings, priorities

    def expand(self, documents):
        return (
            documents
            | "Batches" >> beam.BatchElements(min_batch_size=256, max_batch_size=256)
            | "Features" >> beam.ParDo(_Features(self.settings, self.priorities))
        )


class _Features(beam.DoFn):
    """Per batch of documents: node records (exact key, URL key, signature) for the duplicate graph.

    Signatures are computed for the whole batch in one rensa call, cheaper than one call per
    document, and travel as raw little-endian uint32 bytes: the shuffle coder passes bytes
    through as they are, where a numpy array would be pickled at every stage boundary.
    """

    def __init__(self, settings: DedupSettings, priorities: dict[str, int]):
        self.settings, self.priorities = settings, priorities

    def setup(self):
        self.hasher = None
        if self.settings.near.enabled:
            self.hasher = MinHasher(num_perm=self.settings.near.num_perm, seed=self.settings.near.seed)

    def process(self, batch):
        s = self.settings
        signatures = [None] * len(batch)
        if self.hasher is not None:
            matrix = self.hasher.text_signatures(
                [doc["text"] for doc in batch], [doc["lang"] for doc in batch], s.near.ngram
            )
            signatures = [row.astype("<u4").tobytes() for row in matrix]
        for doc, signature in zip(batch, signatures, strict=True):
            yield {
                "id": doc["id"],
                "source": doc["source"],
                "lang": doc["lang"],
                "exact": d.normalized_hash(doc["text"]) if s.exact else None,
                "url": d.url_digest(doc.get("url")) if s.url else None,
                "bytes": len(doc["text"].encode("utf-8")),
                "priority": self.priorities.get(doc["source"], 0),
                "signature": signature,
            }


# --- earlier releases (`against:`) ---------------------------------------------------------


def earlier_signatures(releases: list[str], near: NearDuplicates, bands: int | None, rows: int | None) -> list[str]:
    """Signature files of earlier releases, refused if their MinHash settings differ from ours."""
    files = []
    mine = {"num_perm": near.num_perm, "seed": near.seed, "ngram": near.ngram, "bands": bands, "rows": rows}
    for release in releases:
        try:
            manifest = Release.open(release).manifest
        except ReleaseError as err:
            raise ConfigError(f"stages.dedup.against: {err}") from None
        reports = [s.get("report", {}) for s in manifest.get("stages", []) if s["name"] == "dedup"]
        theirs = (reports[0].get("near") or {}) if reports else {}
        if near.enabled and not theirs:
            raise ConfigError(
                f"stages.dedup.against: {release} was deduplicated without near duplicates, so its "
                "signatures hold no MinHash; turn `near` off here or dedup against another release"
            )
        # Without near duplicates only the exact and URL keys are compared: MinHash settings do not matter.
        differing = {k: (theirs.get(k), mine[k]) for k in COMPATIBLE if near.enabled and theirs.get(k) != mine[k]}
        if differing:
            raise ConfigError(
                f"stages.dedup.against: {release} was deduplicated with other MinHash settings "
                f"(theirs, ours): {differing}"
            )
        found = [a["path"] for a in manifest.get("artifacts", []) if a["path"].startswith(SIGNATURES + "/")]
        files += [posixpath.join(release, f) for f in found]
    return files


class ReleasedNodes(beam.PTransform):
    """The pipeline → the nodes stored in signature FILES of earlier releases."""

    def __init__(self, files: list[str]):
        super().__init__()
        self.files = files

    def expand(self, pipeline):
        return (
            pipeline
            | "Files" >> beam.Create(self.files)
            | "ReadSignatures" >> ReadParquetRows()
            | "AsNodes" >> beam.Map(_released_node)
        )


def _released_node(row: dict[str, Any]) -> dict[str, Any]:
    """A signature row of an earlier release as a node of the graph (it always survives)."""
    sig = row.get("signature")
    return {
        **row,
        "url": d.as_url_digest(row.get("url")),
        "signature": None if sig is None else np.asarray(sig, dtype="<u4").tobytes(),
        "released": True,
    }


# --- this release's signatures -----------------------------------------------------------------


class WriteSignatures(beam.PTransform):
    """Nodes of the kept documents → their signature shards under dedup/signatures (shard records)."""

    def __init__(self, staging: str, shards: ShardsConfig, scratch: str):
        super().__init__()
        self.staging, self.shards, self.scratch = staging, shards, scratch

    def expand(self, kept_nodes):
        return (
            kept_nodes
            | "Rows" >> beam.Map(_signature_row)
            | "Write"
            >> WriteShards(
                self.staging,
                self.shards,
                SIGNATURE_SCHEMA,
                size=_signature_bytes,
                scratch=self.scratch,
                prefix=SIGNATURES,
            )
        )


def _signature_row(node: dict[str, Any]) -> dict[str, Any]:
    sig = node.get("signature")
    # An array, not a list of Python ints, which take several times the memory; Arrow takes either.
    return {**{f.name: node.get(f.name) for f in SIGNATURE_SCHEMA}, "signature": None if sig is None else as_array(sig)}


def _signature_bytes(row: dict[str, Any]) -> int:
    return 4 * (0 if row["signature"] is None else len(row["signature"])) + 64
