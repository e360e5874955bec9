"""Counting documents and bytes at every step, as data (not Beam metrics).

Metrics are best-effort on some runners (attempted vs committed on Dataflow); counts computed
as a PCollection are exact on every runner, so the manifest's "why was it dropped" adds up.
A count key is (step, source, lang, reason): step is `read`, `written` or the stage that
dropped the document; reason is empty for read/written.
"""

from __future__ import annotations

import json
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipeline.write import sum_pairs, text_bytes

# Beam's multi-process runner fails a GroupByKey over an empty PCollection (apache/beam#25315):
# every collection that is combined gets one sentinel element, which readers skip.
SENTINEL = "__sentinel__"


def _count(step: str):
    def key(doc: dict[str, Any]):
        if step == "dropped":
            return (doc["drop_stage"], doc["source"], doc["lang"], doc["drop_reason"]), (1, text_bytes(doc))
        return (step, doc["source"], doc["lang"], ""), (1, text_bytes(doc))

    return key


def _skipped(record: dict[str, Any]):
    return ("input", record["source"], record["lang"], record["reason"]), (1, 0)


class CountSteps(beam.PTransform):
    """read / written / dropped / skipped PCollections → one list of count rows."""

    def __init__(self, *, read, written, dropped, skipped):
        super().__init__()
        self.parts = {"read": read, "written": written, "dropped": dropped, "skipped": skipped}

    def expand(self, pbegin):
        p = pbegin.pipeline
        keyed = []
        for name, pcoll in self.parts.items():
            fn = _skipped if name == "skipped" else _count(name)
            keyed.append(pcoll | f"Key[{name}]" >> beam.Map(fn))
        seed = p | "Seed" >> beam.Create([((SENTINEL, "", "", ""), (0, 0))])
        return (
            (*keyed, seed)
            | "AllCounts" >> beam.Flatten()
            | "Sum" >> beam.CombinePerKey(sum_pairs)
            | "AsRows" >> beam.Map(
                lambda kv: {"step": kv[0][0], "source": kv[0][1], "lang": kv[0][2], "reason": kv[0][3], "docs": kv[1][0], "bytes": kv[1][1]}
            )
        )


def write_json_list(pcoll, path: str, label: str):
    """Gather a small PCollection into one JSON file (sentinel-seeded; see SENTINEL)."""

    def dump(rows):
        rows = sorted((r for r in rows if r != SENTINEL and r.get("step") != SENTINEL), key=json.dumps)
        with FileSystems.create(path) as handle:
            handle.write(json.dumps(rows, sort_keys=True).encode())
        return path

    seed = pcoll.pipeline | f"Seed[{label}]" >> beam.Create([SENTINEL])
    return (
        (pcoll, seed)
        | f"Merge[{label}]" >> beam.Flatten()
        | f"Gather[{label}]" >> beam.combiners.ToList()
        | f"Dump[{label}]" >> beam.Map(dump)
    )


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Count rows → per (source, lang): in/out documents and bytes, drops by step and reason."""
    table: dict[tuple[str, str], dict[str, Any]] = {}

    def cell(source, lang):
        return table.setdefault(
            (source, lang),
            {"source": source, "lang": lang, "docs_in": 0, "bytes_in": 0, "docs_out": 0, "bytes_out": 0, "dropped": []},
        )

    for row in rows:
        entry = cell(row["source"], row["lang"])
        if row["step"] == "read":
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
    ordered = [table[key] for key in sorted(table)]
    totals = {
        key: sum(e[key] for e in ordered) for key in ("docs_in", "bytes_in", "docs_out", "bytes_out")
    }
    totals["docs_dropped"] = sum(d["docs"] for e in ordered for d in e["dropped"])
    return {"totals": totals, "by_source_lang": ordered}
