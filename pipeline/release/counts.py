"""Counting documents and bytes at every step, as data (not Beam metrics).

Metrics are best-effort on some runners (attempted vs committed on Dataflow); counts computed
as a PCollection are exact on every runner, so the manifest's "why was it dropped" adds up.
A count key is (step, source, lang, reason): step is `read`, `written` or the stage that
dropped the document; reason is empty for read/written. `stage_out` rows (reason = stage name)
count what each stage passed on, so the per-source processing record has documents and bytes
in and out of every step, the way ROOTS logged each source by hand.
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam

from rootstock.filters.urls import registered_domain
from rootstock.pipeline.beam.gather import sum_pairs
from rootstock.pipeline.release.columns import text_bytes

# The field a stage that changes a document's language (langid) leaves on it: the language it
# had before. Not a column; only counted.
ROUTED_FROM = "lang_in"
# How many of the largest domains per language the manifest lists (governance: who is in it).
TOP_DOMAINS = 20


def _count(step: str, reason: str = ""):
    def key(doc: dict[str, Any]):
        if step == "dropped":
            return (doc["drop_stage"], doc["source"], doc["lang"], doc["drop_reason"]), (1, text_bytes(doc))
        return (step, doc["source"], doc["lang"], reason), (1, text_bytes(doc))

    return key


def _count_routed(step: str):
    """Like _count, plus a `route` row for a document language ID moved from another language
    (`lang_in`), so each (source, language) cell balances: in + routed in = out + dropped + routed out."""
    key = _count(step)

    def keys(doc: dict[str, Any]):
        yield key(doc)
        if ROUTED_FROM in doc:
            yield ("route", doc["source"], doc["lang"], doc[ROUTED_FROM]), (1, 0)

    return keys


def _skipped(record: dict[str, Any]):
    """An unreadable record counts once; a damaged file as many records as it is known to have
    lost (a Parquet row group), or once when that is unknown (a truncated stream)."""
    return ("input", record["source"], record["lang"], record["reason"]), (record.get("records") or 1, 0)


def _notes(notes):
    """A note is a name (counts the document) or (name, n) (counts n items, e.g. redactions)."""

    def emit(doc: dict[str, Any]):
        for note in notes(doc):
            name, n = (note, 1) if isinstance(note, str) else note
            yield ("note", doc["source"], doc["lang"], name), (n, text_bytes(doc))

    return emit


class CountSteps(beam.PTransform):
    """read / written / dropped / skipped PCollections → one list of count rows.

    `dropped` is a list (one PCollection per stage). `notes(doc)` names facts about written
    documents worth counting (e.g. langid:unverifiable), `read_notes(doc)` facts about every
    document read (e.g. input:duplicate_id). Each input is summed where it is
    produced, before the Flatten: a Flatten of PCollections from different fused stages is
    materialised by the runner, and it would otherwise hold a count element per document and
    step (and every rejected document) until the end.
    """

    def __init__(self, *, read, written, dropped, skipped, notes=None, read_notes=None, stage_outputs=()):
        super().__init__()
        self.written = written
        self.keyed = [
            ("read", read, beam.Map(_count("read"))),
            ("written", written, beam.FlatMap(_count_routed("written"))),
            ("skipped", skipped, beam.Map(_skipped)),
        ]
        self.keyed += [(f"dropped{i}", part, beam.FlatMap(_count_routed("dropped"))) for i, part in enumerate(dropped)]
        if notes is not None:
            self.keyed.append(("notes", written, beam.FlatMap(_notes(notes))))
        if read_notes is not None:
            self.keyed.append(("read_notes", read, beam.FlatMap(_notes(read_notes))))
        # [(stage name, its kept PCollection)] in order
        self.keyed += [(f"out:{name}", pcoll, beam.Map(_count("stage_out", name))) for name, pcoll in stage_outputs]

    def expand(self, pbegin):
        sums = [
            pcoll | f"Key[{label}]" >> key | f"Sum[{label}]" >> beam.CombinePerKey(sum_pairs)
            for label, pcoll, key in self.keyed
        ]
        sums.append(self.written | "TopDomains" >> TopDomains(TOP_DOMAINS))
        return (
            sums
            | "AllCounts" >> beam.Flatten()
            | "Sum" >> beam.CombinePerKey(sum_pairs)
            | "AsRows"
            >> beam.Map(
                lambda kv: {
                    "step": kv[0][0],
                    "source": kv[0][1],
                    "lang": kv[0][2],
                    "reason": kv[0][3],
                    "docs": kv[1][0],
                    "bytes": kv[1][1],
                }
            )
        )


def _domain_key(doc: dict[str, Any]):
    domain = registered_domain(doc.get("url"))
    return [] if domain is None else [((doc["lang"], domain), (1, text_bytes(doc)))]


class TopDomains(beam.PTransform):
    """Written documents → `domain` count rows ((step, source, lang, reason) = ("domain", "",
    lang, domain)) for the N domains with most documents per language: only those leave the
    combine, so a crawl of a million sites adds N rows per language, not a million."""

    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def expand(self, written):
        return (
            written
            | "Domain" >> beam.FlatMap(_domain_key)
            | "PerDomain" >> beam.CombinePerKey(sum_pairs)
            | "ByLang" >> beam.Map(lambda kv: (kv[0][0], (kv[1][0], kv[1][1], kv[0][1])))
            | "Top" >> beam.combiners.Top.PerKey(self.n, key=lambda v: (v[0], v[2]))
            | "Rows" >> beam.FlatMap(lambda kv: [(("domain", "", kv[0], d), (n, b)) for n, b, d in kv[1]])
        )


def top_domains(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The `domain` count rows as {lang: [{domain, docs, bytes}]}, most documents first."""
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["step"] == "domain":
            found.setdefault(row["lang"], []).append(
                {"domain": row["reason"], "docs": row["docs"], "bytes": row["bytes"]}
            )
    return {lang: sorted(items, key=lambda d: (-d["docs"], d["domain"])) for lang, items in sorted(found.items())}


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Count rows → per (source, lang): in/out documents and bytes, drops by step and reason.

    A cell's language is the document's language where it ended (written or dropped); `docs_in`
    counts what was read under each language. Documents language ID moved are in `routed_from`
    of the cell they went to and `routed_to` of the one they came from, so every cell balances:
    docs_in + Σ routed_from = docs_out + Σ dropped + Σ routed_to.
    """
    table: dict[tuple[str, str], dict[str, Any]] = {}

    def cell(source, lang):
        return table.setdefault(
            (source, lang),
            {
                "source": source,
                "lang": lang,
                "docs_in": 0,
                "bytes_in": 0,
                "docs_out": 0,
                "bytes_out": 0,
                "dropped": [],
                "routed_from": {},
                "routed_to": {},
            },
        )

    for row in rows:
        if row["step"] in ("stage_out", "domain"):
            continue  # see processing_records and top_domains
        entry = cell(row["source"], row["lang"])
        if row["step"] == "route":
            origin = row["reason"]
            entry["routed_from"][origin] = entry["routed_from"].get(origin, 0) + row["docs"]
            away = cell(row["source"], origin)["routed_to"]
            away[row["lang"]] = away.get(row["lang"], 0) + row["docs"]
        elif row["step"] == "note":
            entry.setdefault("notes", {})[row["reason"]] = row["docs"]
        elif row["step"] == "read":
            entry["docs_in"] += row["docs"]
            entry["bytes_in"] += row["bytes"]
        elif row["step"] == "written":
            entry["docs_out"] += row["docs"]
            entry["bytes_out"] += row["bytes"]
        else:
            if row["step"] == "input":  # unreadable records were read too: in = out + dropped
                entry["docs_in"] += row["docs"]
            entry["dropped"].append({k: row[k] for k in ("step", "reason", "docs", "bytes")})
    for entry in table.values():
        entry["dropped"].sort(key=lambda d: (d["step"], d["reason"]))
        entry["routed_from"] = dict(sorted(entry["routed_from"].items()))
        entry["routed_to"] = dict(sorted(entry["routed_to"].items()))
    ordered = [table[key] for key in sorted(table)]
    totals = {key: sum(e[key] for e in ordered) for key in ("docs_in", "bytes_in", "docs_out", "bytes_out")}
    totals["docs_dropped"] = sum(d["docs"] for e in ordered for d in e["dropped"])
    totals["dropped_by_reason"] = {}
    for entry in ordered:
        for d in entry["dropped"]:
            key = f"{d['step']}:{d['reason']}"
            totals["dropped_by_reason"][key] = totals["dropped_by_reason"].get(key, 0) + d["docs"]
    totals["dropped_by_reason"] = dict(sorted(totals["dropped_by_reason"].items()))
    return {"totals": totals, "by_source_lang": ordered}


def processing_records(rows: list[dict[str, Any]], steps: list[tuple[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per source, the ordered steps with documents/bytes in and out and drops by reason.

    `steps` is [(stage name, parameters(source) -> dict)] in the order the stages ran. Derived
    from the same count rows as the totals, so the record and the totals cannot disagree.
    """
    read: dict[str, list[int]] = {}
    out: dict[tuple[str, str], list[int]] = {}
    drops: dict[tuple[str, str], dict[str, int]] = {}
    for row in rows:
        source = row["source"]
        if row["step"] == "read":
            pair = read.setdefault(source, [0, 0])
        elif row["step"] == "stage_out":
            pair = out.setdefault((source, row["reason"]), [0, 0])
        elif row["step"] in ("written", "note", "route", "domain"):
            continue
        else:
            bucket = drops.setdefault((source, row["step"]), {})
            bucket[row["reason"]] = bucket.get(row["reason"], 0) + row["docs"]
            continue
        pair[0] += row["docs"]
        pair[1] += row["bytes"]
    records = {}
    for source in sorted({row["source"] for row in rows}):
        docs, nbytes = read.get(source, [0, 0])
        unreadable = drops.get((source, "input"), {})
        record = [
            {
                "step": "ingest",
                "docs_in": docs + sum(unreadable.values()),
                "docs_out": docs,
                "bytes_out": nbytes,
                "dropped": dict(sorted(unreadable.items())),
            }
        ]
        for name, parameters in steps:
            after = out.get((source, name), [0, 0])
            record.append(
                {
                    "step": name,
                    "parameters": parameters(source),
                    "docs_in": docs,
                    "bytes_in": nbytes,
                    "docs_out": after[0],
                    "bytes_out": after[1],
                    "dropped": dict(sorted(drops.get((source, name), {}).items())),
                }
            )
            docs, nbytes = after
        records[source] = record
    return records
