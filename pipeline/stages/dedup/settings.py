"""The `dedup` stage's settings: what counts as a duplicate, within which scope, and how the
stage's shuffles are laid out (`join`), validated from the run config."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from rootstock.pipeline.stages.base import StageSettings
from rootstock.strict import Strict


class TemplateLines(Strict):
    """ROOTS `dedup_template_soft`: lines this long that occur this often in a source go."""

    enabled: bool = True
    min_chars: int = Field(15, ge=1)
    min_count: int = Field(10, ge=2)


class NearDuplicates(Strict):
    enabled: bool = True
    threshold: float = Field(0.8, gt=0, lt=1)
    num_perm: int = Field(128, ge=16, le=1024)
    ngram: int = Field(5, ge=1, le=20)
    # Override the (bands, rows) derived from threshold and num_perm; both or neither.
    bands: int | None = Field(None, ge=1)
    rows: int | None = Field(None, ge=1)
    seed: int = 1
    # An LSH bucket with more distinct signatures than this is not verified all pairs: each
    # member is compared with at most this many representatives (filters.dedup.bucket_edges);
    # capped buckets are counted in the manifest (`dedup:capped_buckets`).
    bucket_cap: int = Field(1000, ge=2)

    @model_validator(mode="after")
    def _bands_rows(self) -> NearDuplicates:
        if (self.bands is None) != (self.rows is None):
            raise ValueError("set both bands and rows, or neither")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands × rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        return self


class Substrings(Strict):
    """ROOTS's substring dedup of OSCAR (Lee et al. 2021's ExactSubstr, spans under 50 bytes kept):
    spans of at least `min_bytes` UTF-8 bytes also found in an earlier document of the scope go.
    `anchor_bytes` (w ≤ min_bytes) is the window whose hashes are shuffled (filters.substring)."""

    enabled: bool = False
    min_bytes: int = Field(50, ge=8, le=512)
    anchor_bytes: int = Field(25, ge=4, le=64)

    @model_validator(mode="after")
    def _anchor_fits(self) -> Substrings:
        if self.anchor_bytes > self.min_bytes:
            raise ValueError(f"anchor_bytes ({self.anchor_bytes}) must be at most min_bytes ({self.min_bytes})")
        return self


class DedupSettings(StageSettings):
    """Template lines, then exact, URL and MinHash near-duplicates as one graph of duplicates,
    then (optionally) repeated spans removed from the documents that are left."""

    scope: Literal["source", "language", "global"] = "source"  # ROOTS deduplicated within a source
    template_lines: TemplateLines = TemplateLines()
    exact: bool = True
    url: bool = True
    near: NearDuplicates = NearDuplicates()
    # After one survivor per cluster is kept: repeated spans removed from the survivors.
    substring: Substrings = Substrings()
    # Connected components: alternating large-star/small-star rounds unrolled in the graph,
    # then a single-worker union-find over what is left, refused beyond fallback_max_edges.
    cc_rounds: int = Field(8, ge=1, le=64)
    fallback_max_edges: int = Field(2_000_000, ge=0)
    # How documents meet their dedup decision. side_input: the decisions of clustered documents
    # (a small part of the corpus) are a dict on every worker; no document is shuffled by id.
    # shuffle: a CoGroupByKey by id, for corpora whose duplicate clusters outgrow worker memory.
    # auto: side_input while the documents a side input would copy to every worker (distinct
    # LSH candidates, clustered documents, documents with repeated spans), measured in the run,
    # are at most side_input_max_docs, else shuffle; each choice is in the processing record.
    join: Literal["auto", "side_input", "shuffle"] = "auto"
    # A side input holds a signature or a decision per document it covers, as Python objects,
    # on every worker (benchmarks/dedup.py --memory measures what that costs).
    side_input_max_docs: int = Field(200_000, ge=0, le=10_000_000)
    # Releases whose documents new ones are deduplicated against (incremental dedup): their
    # stored signatures are read, never recomputed, and their documents always survive.
    against: list[str] = []


def scope_key(settings: DedupSettings, source: str, lang: str) -> str:
    """The scope a document is deduplicated within: documents of different scopes never match."""
    return {"source": f"s:{source}", "language": f"l:{lang}", "global": "g"}[settings.scope]
