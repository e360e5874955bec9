"""One id per document in a release: records that share an id are renamed, never dropped.

A document's id is derived from its source and its record's own id, so two records with the
same id field value (two files numbered 0..N, a repeated line) get the same id. Dedup joins
documents by id, so a collision would merge unrelated documents into one cluster and drop
unique text. Every document of a colliding id is renamed from where it was read (source,
input file, row, which no two records share), the same on every runner and in every order,
and carries `ID_RENAMED` so the release counts it as the note `input:duplicate_id`.
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam

from rootstock.sources.records import UNKNOWN_LANGUAGE, stable_id

# Field left on a renamed document (not a column; only counted), and the note it counts as.
ID_RENAMED = "id_renamed"
DUPLICATE_ID_NOTE = "input:duplicate_id"
_RENAMED = "duplicate id"  # a fourth id part: no source/original-id id has it
UNKNOWN_LANGUAGE_NOTE = "input:unknown_language"  # a record's language field named no language


def renamed_id(doc: dict[str, Any]) -> str:
    """The id of a document whose id another document has too: from where it was read."""
    return stable_id(doc["source"], _RENAMED, doc.get("input_file") or "", str(doc.get("input_row")))


def _rename(doc: dict[str, Any], shared: dict[str, int]) -> dict[str, Any]:
    if doc["id"] not in shared:
        return doc
    return {**doc, "id": renamed_id(doc), ID_RENAMED: True}


def read_notes(doc: dict[str, Any]) -> list[str]:
    """Notes counted over every document read (not only the written ones)."""
    notes = [DUPLICATE_ID_NOTE] if doc.get(ID_RENAMED) else []
    if doc.get(UNKNOWN_LANGUAGE):
        notes.append(UNKNOWN_LANGUAGE_NOTE)
    return notes


class SharedIds(beam.PTransform):
    """Records (documents, or their light records) → a side input of the ids more than one has.

    Only ids are shuffled; the side input's size is the number of collisions. A GroupByKey, not
    a CombinePerKey(sum): nearly every id is unique, so combining before the shuffle saves
    nothing, and the SDK's pre-combine table would hold up to a million ids per worker.
    """

    def expand(self, records):
        shared = (
            records
            | "Ids" >> beam.Map(lambda doc: (doc["id"], None))
            | "ById" >> beam.GroupByKey()
            | "Count" >> beam.MapTuple(lambda doc_id, seen: (doc_id, sum(1 for _ in seen)))
            | "Shared" >> beam.Filter(lambda kv: kv[1] > 1)
        )
        return beam.pvalue.AsDict(shared)


def rename_shared(records, shared, label: str):
    """RECORDS with the ids in SHARED renamed from where they were read."""
    return records | label >> beam.Map(_rename, shared=shared)


class UniqueIds(beam.PTransform):
    """Documents with unique ids: those of an id that occurs more than once are renamed."""

    def expand(self, documents):
        return rename_shared(documents, documents | "SharedIds" >> SharedIds(), "Rename")
