"""Template lines (ROOTS `dedup_template_soft`): boilerplate lines repeated across a source's
documents (footers, navigation) are removed before documents are compared, and a document
made of nothing else is rejected."""

from __future__ import annotations

from collections import defaultdict

import apache_beam as beam
import numpy as np

from rootstock.filters import dedup as d
from rootstock.pipeline.beam.spill import through_files
from rootstock.pipeline.stages.base import REJECTED, rejected
from rootstock.pipeline.stages.dedup.packing import PARTITIONS, batches
from rootstock.pipeline.stages.dedup.settings import TemplateLines


class RemoveTemplateLines(beam.PTransform):
    """Lines of ≥ min_chars occurring ≥ min_count times in a source are removed from its documents.

    Returns the `kept` documents and the REJECTED ones (nothing left but template lines).
    """

    def __init__(self, settings: TemplateLines, scratch: str):
        super().__init__()
        self.settings, self.scratch = settings, scratch

    def expand(self, docs):
        t = self.settings
        templates = (
            docs
            | "LineBatches" >> batches()
            | "LineHashes" >> beam.ParDo(_LineHashes(t.min_chars))
            | "ByPartition" >> beam.GroupByKey()
            | "Frequent"
            >> beam.FlatMap(
                lambda kv: [(kv[0][0], int(h)) for h in d.frequent_hashes(map(_int64s, kv[1]), t.min_count)]
            )
        )
        waiting = through_files(docs, self.scratch, "templates")
        return waiting | "StripTemplates" >> beam.ParDo(
            _StripTemplates(t.min_chars), beam.pvalue.AsMultiMap(templates)
        ).with_outputs(REJECTED, main="kept")


def _int64s(packed: bytes) -> np.ndarray:
    return np.frombuffer(packed, dtype=np.int64)


class _LineHashes(beam.DoFn):
    """Per batch of documents, one packed int64 array of candidate line hashes per (source, partition)."""

    def __init__(self, min_chars: int):
        self.min_chars = min_chars

    def process(self, docs):
        parts: dict[tuple[str, int], list[int]] = defaultdict(list)
        for doc in docs:
            for h in d.template_candidates(doc["text"], self.min_chars):
                parts[(doc["source"], h % PARTITIONS)].append(h)
        for key, hashes in parts.items():
            yield key, np.array(hashes, dtype=np.int64).tobytes()


class _StripTemplates(beam.DoFn):
    """A document without its source's template lines; REJECTED if nothing else is left."""

    def __init__(self, min_chars: int):
        self.min_chars = min_chars
        self._sets: dict[str, frozenset] = {}

    def process(self, doc, templates):
        source = doc["source"]
        if source not in self._sets:
            # The multimap view's values are lazy iterables, truthy even when empty: materialise.
            self._sets[source] = frozenset(templates[source])
        if not self._sets[source]:
            yield doc
            return
        text = d.remove_lines(doc["text"], self._sets[source], self.min_chars)
        if not text:
            yield beam.pvalue.TaggedOutput(REJECTED, rejected(doc, "dedup", "template_only"))
        else:
            yield {**doc, "text": text}
