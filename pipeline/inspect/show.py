"""`rootstock show RELEASE ID`: one document and its whole trail, from the release alone.

Where it came from (the catalogue snapshot in the manifest: source, licence, custodian; the
record's own id, URL, file and row, and for web documents the WARC record), every stage of its
source's processing record with what the document's columns say about it (language ID score and
bar, each quality metric against its threshold, dedup cluster and survivor, PII counts and the
policy applied), and for a document of the rejected sample, the stage that dropped it and why.

The document is found through the search index when there is one (by id, URL or the record's
own id); without one the shards' key columns are scanned. Its row is then read from its shard,
so every column is shown as written, not as indexed.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from rootstock.catalog.registry import load_registry
from rootstock.errors import ReleaseError
from rootstock.filters import code as code_filters
from rootstock.filters import quality as q
from rootstock.pipeline.inspect.index import SearchIndex
from rootstock.pipeline.release.release import Release, read_table
from rootstock.pipeline.release.search_index import SETS
from rootstock.pipeline.release.verify import RESTARTS_CHAIN

# A quality metric → (its minimum, its maximum) threshold names (filters/quality.py, ROOTS's names).
QUALITY_BOUNDS = {
    "number_of_words": ("number_words_min_cutoff", "number_words_max_cutoff"),
    "character_repetition_ratio": (None, "character_repetition_max_cutoff"),
    "word_repetition_ratio": (None, "word_repetition_max_cutoff"),
    "special_characters_ratio": (None, "special_characters_max_cutoff"),
    "stopwords_ratio": ("stopwords_min_cutoff", None),
    "flagged_words_ratio": (None, "flagged_words_max_cutoff"),
    "lang_id_score": ("lang_id_min_cutoff", None),
    "perplexity": (None, "perplexity_max_cutoff"),
}
# The columns the built-in stages write; any other column (a plugin stage's) is shown as it is.
BASE_COLUMNS = {
    "id", "text", "lang", "source", "url", "license", "source_doc_id", "input_file", "input_row",
    "retrieved_at", "meta", "origin", "lang_score", "lang_topk", "lang_check", "lang_script", "lang_backend",
    "quality", "code_metrics",
    "dup_cluster_id", "dup_cluster_size", "dup_survivor_id", "pii_counts", "drop_stage", "drop_reason",
}  # fmt: skip
_KEYS = ("id", "url", "source_doc_id")
CLUSTER_LIMIT = 50


# -- finding a document -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Location:
    set: str  # data | rejected
    shard: str
    row: int


class Finder:
    """Looks documents up by key: through the index if there is one, else by scanning shards."""

    def __init__(self, release: Release, index: SearchIndex | None = None):
        self.release, self.index = release, index
        self._scanned: list[tuple[str, str, Any]] | None = None

    def _scan(self) -> list[tuple[str, str, Any]]:
        if self._scanned is None:
            self._scanned = []
            for key, set_name in SETS.items():
                for entry in self.release.entries(key):
                    if entry.get("rows"):
                        cols = [*_KEYS, "dup_cluster_id", "dup_survivor_id", "drop_reason", "source", "lang"]
                        table = read_table(self.release.file(entry["path"]), cols)
                        self._scanned.append((set_name, entry["path"], table))
        return self._scanned

    def find(self, key: str, value: str, limit: int = CLUSTER_LIMIT) -> list[tuple[Location, dict[str, Any]]]:
        """(where, a few fields) of the documents whose KEY column is VALUE, kept ones first."""
        if self.index is not None:
            found = [(Location(d["set"], d["shard"], d["row"]), d) for d in self.index.lookup(key, value, limit)]
        else:
            found = []
            for set_name, shard, table in self._scan():
                if key not in table.column_names:
                    continue
                rows = pc.indices_nonzero(pc.equal(table.column(key), value)).to_pylist()
                for row in rows:
                    fields = {c: table.column(c)[row].as_py() for c in table.column_names}
                    found.append((Location(set_name, shard, row), {**fields, "set": set_name}))
        found.sort(key=lambda item: (item[0].set != "data", item[0].shard, item[0].row))
        return found[:limit]

    def locate(self, ref: str) -> tuple[Location, str]:
        """Where the document REF (its id, URL or the record's own id) is, and which key matched."""
        for key in _KEYS:
            found = self.find(key, ref)
            if len(found) == 1:
                return found[0][0], key
            if len(found) > 1:
                ids = ", ".join(d["id"] for _, d in found[:10])
                raise ReleaseError(f"{len(found)} documents have {key} {ref!r}: {ids}", hint="show one by its id")
        where = "the release and its rejected sample" + ("" if self.index else " (scanned: no search index)")
        raise ReleaseError(f"no document {ref!r} in {where}")


def read_row(release: Release, location: Location) -> dict[str, Any]:
    """Every column of one row of a shard (one row group read)."""
    with FileSystems.open(release.file(location.shard)) as handle:
        parquet = pq.ParquetFile(handle)
        first = 0
        for i in range(parquet.metadata.num_row_groups):
            rows = parquet.metadata.row_group(i).num_rows
            if location.row < first + rows:
                return parquet.read_row_group(i).slice(location.row - first, 1).to_pylist()[0]
            first += rows
    raise ReleaseError(f"{location.shard}: no row {location.row}; the index is stale, run `rootstock index` again")


# -- explaining it ----------------------------------------------------------------------------


def _quality_thresholds(manifest: dict[str, Any], doc: dict[str, Any]) -> tuple[Any, str]:
    """(thresholds for this document, where they came from): the run's config, resolved as the
    stage resolved it; else the per-language table the quality report recorded."""
    lang, source = doc.get("lang"), doc.get("source")
    programming = lang in {language.code for language in load_registry().programming()}
    try:
        from rootstock.pipeline.config import RunConfig  # noqa: PLC0415 - the stage registry behind it is slow to import
        from rootstock.pipeline.stages.quality import ThresholdResolver, lid_mode  # noqa: PLC0415 - same

        config = RunConfig.model_validate(manifest["config"])
        resolver = ThresholdResolver(config.stages.quality, config.stages.langid)
        if programming:
            return resolver.code(source), "the run's config (code rules)"
        return resolver.natural(source, lang, lid_mode(doc)), "the run's config"
    except Exception:  # an older manifest or a config that no longer validates: the report's table
        report = _stage(manifest, "quality").get("report") or {}
        if programming:
            return report.get("code_thresholds") or {}, "the quality report (code rules)"
        table = ((report.get("languages") or {}).get(lang) or {}).get("thresholds") or {}
        return table, "the quality report's table for the language (per-source overrides not applied)"


def _stage(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return next((s for s in manifest.get("stages") or [] if s.get("name") == name), {})


def _value(th: Any, name: str | None) -> Any:
    if name is None:
        return None
    return getattr(th, name, None) if not isinstance(th, dict) else th.get(name)


def _quality(manifest: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    th, origin = _quality_thresholds(manifest, doc)
    if doc.get("code_metrics"):
        metrics = doc["code_metrics"]
        failed = (
            code_filters.code_first_failure(metrics, doc.get("license"), th)
            if isinstance(th, code_filters.CodeThresholds)
            else None
        )
        values = dataclasses.asdict(th) if dataclasses.is_dataclass(th) else dict(th)
        values = {k: sorted(v) if isinstance(v, (set, frozenset)) else v for k, v in values.items()}
        return {"kind": "code", "metrics": metrics, "thresholds": values, "first_failure": failed, "from": origin}
    metrics = doc.get("quality") or {}
    checks = []
    for metric, (low_name, high_name) in QUALITY_BOUNDS.items():
        value, low, high = metrics.get(metric), _value(th, low_name), _value(th, high_name)
        ok = None if value is None else (low is None or value >= low) and (high is None or value <= high)
        checks.append({"metric": metric, "value": value, "min": low, "max": high, "ok": ok})
    failed = q.first_failure(metrics, th) if isinstance(th, q.Thresholds) else None
    if failed is None and not isinstance(th, q.Thresholds):
        failed = next((c["metric"] for c in checks if c["ok"] is False), None)
    return {"kind": "natural", "checks": checks, "first_failure": failed, "from": origin}


def _langid(manifest: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    report = _stage(manifest, "langid").get("report") or {}
    check, lang = doc.get("lang_check"), doc.get("lang")
    mode = {"verified": "verify", "routed": "route"}.get(check)
    # The minimum of the backend that decided (an ensemble's), else the single model's.
    by_backend = (report.get("min_score_by_backend") or {}).get(doc.get("lang_backend")) or {}
    bars = by_backend.get(lang) or (report.get("min_score") or {}).get(lang) or {}
    bar = bars.get(mode) if mode and isinstance(bars, dict) else None
    return {
        "lang": lang,
        "lang_check": check,
        "lang_score": doc.get("lang_score"),
        "lang_script": doc.get("lang_script"),
        "lang_backend": doc.get("lang_backend"),
        "min_score": bar,
        "top_k": [
            {"lang": t.get("lang"), "label": t.get("label"), "score": t.get("score")}
            for t in doc.get("lang_topk") or []
        ],
    }


def _pii(manifest: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    report = _stage(manifest, "pii").get("report") or {}
    counts = {c["category"]: c["count"] for c in doc.get("pii_counts") or []}
    policies = (report.get("policies") or {}).get(doc.get("source")) or {}
    return {
        "counts": counts,
        "actions": {c: policies.get(c) for c in counts},
        "token_format": report.get("token_format"),
    }


def _brief(fields: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "set", "source", "lang", "url", "drop_stage", "drop_reason")
    return {k: fields.get(k) for k in keys if fields.get(k) is not None}


def _dedup(finder: Finder, doc: dict[str, Any]) -> dict[str, Any]:
    cluster, survivor = doc.get("dup_cluster_id"), doc.get("dup_survivor_id")
    out: dict[str, Any] = {"cluster_id": cluster, "cluster_size": doc.get("dup_cluster_size"), "survivor_id": survivor}
    members: dict[str, dict[str, Any]] = {}
    for key, value in (("dup_cluster_id", cluster), ("dup_survivor_id", doc["id"]), ("id", survivor)):
        if value:
            for _, fields in finder.find(key, value):
                if fields.get("id") != doc["id"]:
                    members.setdefault(fields["id"], _brief(fields))
    if survivor:
        out["survivor"] = members.get(survivor) or {"id": survivor, "set": "not in this release"}
    out["members"] = [m for m in members.values() if m["id"] != survivor]
    return out


def _last_run(record: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps that decided a document of this release: its source's ingest, then, for a child
    release (`refilter`), the steps from its last restart on (the parent's run is its parent's)."""
    restarts = [i for i, step in enumerate(record) if step.get("step") in RESTARTS_CHAIN]
    if not restarts:
        return record
    return [step for step in record[:1] if step.get("step") == "ingest"] + record[restarts[-1] :]


def explain(release: Release, location: Location, finder: Finder) -> dict[str, Any]:
    """The trail of the document at LOCATION (a JSON-ready dict)."""
    manifest = release.manifest
    doc = read_row(release, location)
    source = (manifest.get("sources") or {}).get(doc.get("source")) or {}
    catalog = source.get("catalog") or {}
    meta = doc.get("meta")
    try:
        meta = json.loads(meta) if isinstance(meta, str) else meta
    except ValueError:
        pass
    dropped = (doc.get("drop_stage"), doc.get("drop_reason")) if location.set == "rejected" else None
    stages = []
    reached = True
    for step in _last_run(source.get("processing") or [{"step": s.get("name")} for s in manifest.get("stages") or []]):
        name = step.get("step")
        entry: dict[str, Any] = {"name": name}
        if name == "ingest":
            entry.update(status="read", summary=f"{doc.get('input_file')} row {doc.get('input_row')}")
        elif name in RESTARTS_CHAIN:
            parent = (manifest.get("parent") or {}).get("release")
            entry.update(status="read", summary=f"from the parent release {parent}, its scores kept")
        elif not reached and name != "pii":
            entry.update(status="not reached")
        elif dropped and name == dropped[0]:
            entry.update(status="dropped", reason=dropped[1])
            reached = False
        else:
            entry["status"] = "passed" if reached else "applied (rejected documents are redacted too)"
        if name == "langid":
            entry["details"] = _langid(manifest, doc)
        elif name == "quality" and (doc.get("quality") or doc.get("code_metrics")):
            entry["details"] = _quality(manifest, doc)
        elif name == "dedup" and (doc.get("dup_cluster_id") or doc.get("dup_survivor_id")):
            entry["details"] = _dedup(finder, doc)
        elif name == "pii" and "pii_counts" in doc:
            entry["details"] = _pii(manifest, doc)
        if step.get("parameters") is not None:
            entry["parameters"] = step["parameters"]
        stages.append(entry)
    if dropped and all(s["name"] != dropped[0] for s in stages):
        stages.append({"name": dropped[0], "status": "dropped", "reason": dropped[1]})
    origin = {k: v for k, v in (doc.get("origin") or {}).items() if v is not None}
    retrieved = doc.get("retrieved_at")
    return {
        "release": release.id,
        "id": doc["id"],
        "set": location.set,
        "shard": location.shard,
        "row": location.row,
        "verdict": f"dropped by {dropped[0]}: {dropped[1]}" if dropped else "kept",
        "lang": doc.get("lang"),
        "text": doc.get("text"),
        "text_bytes": len((doc.get("text") or "").encode("utf-8")),
        "meta": meta,
        "provenance": {
            "source": doc.get("source"),
            "license": doc.get("license"),
            "url": doc.get("url"),
            "source_doc_id": doc.get("source_doc_id"),
            "input_file": doc.get("input_file"),
            "input_row": doc.get("input_row"),
            "retrieved_at": retrieved.isoformat() if hasattr(retrieved, "isoformat") else retrieved,
            "origin": origin or None,
        },
        "source": {
            "uid": doc.get("source"),
            "name": catalog.get("name"),
            "license": catalog.get("license"),
            "custodian": catalog.get("custodian"),
            "homepage": catalog.get("homepage"),
            "pii": catalog.get("pii"),
            "removal_contact": catalog.get("removal_contact"),
            "retrieved_at": catalog.get("retrieved_at"),
            "origin": catalog.get("origin"),
            "catalog_file": catalog.get("catalog_file"),
        },
        "stages": stages,
        "other_columns": {k: v for k, v in doc.items() if k not in BASE_COLUMNS},
    }


def show(release: str | Release, ref: str) -> dict[str, Any]:
    """The trail of document REF (id, URL or the record's own id) of RELEASE."""
    opened = release if isinstance(release, Release) else Release.open(release, kind="release")
    try:
        index = SearchIndex.open(opened)
    except ReleaseError:
        index = None
    finder = Finder(opened, index)
    location, _ = finder.locate(ref)
    return explain(opened, location, finder)


# -- as text ----------------------------------------------------------------------------------


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def _check_line(check: dict[str, Any]) -> str:
    value, low, high = check["value"], check["min"], check["max"]
    if value is None:
        return f"    {check['metric']:<28} -        (check disabled)"
    bounds = " and ".join(
        b
        for b in ((f">= {_num(low)}" if low is not None else ""), (f"<= {_num(high)}" if high is not None else ""))
        if b
    )
    mark = "ok" if check["ok"] else "FAILS"
    return f"    {check['metric']:<28} {_num(value):<10} {mark:<6} {bounds or '(no threshold)'}"


def _stage_lines(stage: dict[str, Any]) -> list[str]:
    head = f"  {stage['name']}: {stage['status']}" + (f" ({stage['reason']})" if stage.get("reason") else "")
    if stage.get("summary"):
        head += f" - {stage['summary']}"
    lines = [head]
    d = stage.get("details") or {}
    name = stage["name"]
    if name == "langid" and d:
        bar = f", bar {_num(d['min_score'])}" if d.get("min_score") is not None else ""
        lines.append(f"    {d.get('lang_check')}: {d.get('lang')} score {_num(d.get('lang_score'))}{bar}")
        if d.get("top_k"):
            lines.append("    top: " + ", ".join(f"{t['lang'] or t['label']} {_num(t['score'])}" for t in d["top_k"]))
    elif name == "quality" and d:
        if d["kind"] == "code":
            lines.append("    code metrics: " + ", ".join(f"{k} {_num(v)}" for k, v in d["metrics"].items()))
        else:
            lines += [_check_line(c) for c in d["checks"]]
        lines.append(f"    first failing check: {d['first_failure'] or 'none'} (thresholds from {d['from']})")
    elif name == "dedup" and d:
        lines.append(f"    cluster {d['cluster_id']} of {_num(d['cluster_size'])} document(s)")
        if d.get("survivor_id"):
            s = d["survivor"]
            lines.append(f"    survivor: {s['id']} ({s.get('set')}{', ' + s['source'] if s.get('source') else ''})")
        for m in d.get("members") or []:
            why = f", dropped {m.get('drop_stage')}:{m.get('drop_reason')}" if m.get("drop_reason") else ""
            lines.append(f"    member: {m['id']} ({m.get('set')}, {m.get('source')}{why})")
        size = d.get("cluster_size") or 1
        listed = len(d.get("members") or []) + (1 if d.get("survivor_id") else 0)
        if size > 1 and listed < size - 1:
            lines.append(f"    ({size - 1 - listed} other member(s) not in the rejected sample)")
    elif name == "pii" and d:
        counts = ", ".join(f"{c} {n} ({d['actions'].get(c) or '?'})" for c, n in d["counts"].items())
        lines.append(f"    found: {counts or 'nothing'}")
    return lines


def render(trail: dict[str, Any], text_chars: int = 1000) -> str:
    """TRAIL as the command line prints it."""
    p, s = trail["provenance"], trail["source"]
    licence = s.get("license") or {}
    custodian = s.get("custodian") or {}
    lines = [
        f"document {trail['id']}  ({trail['verdict']})",
        f"  release {trail['release']}, {trail['set']} shard {trail['shard']} row {trail['row']}",
        f"  language {trail['lang']}, {trail['text_bytes']} bytes",
        "",
        "provenance",
        f"  source      {s['uid']}: {s.get('name') or '?'}",
        f"  licence     {p.get('license')} (catalogue: {licence.get('id')}{', ' + licence['url'] if licence.get('url') else ''})",
        f"  custodian   {custodian.get('name')} <{custodian.get('contact')}>; removal: {s.get('removal_contact')}",
        f"  url         {p.get('url') or '-'}",
        f"  record id   {p.get('source_doc_id') or '-'}",
        f"  read from   {p.get('input_file')} row {p.get('input_row')}",
        f"  retrieved   {p.get('retrieved_at') or s.get('retrieved_at') or '-'}",
    ]
    if p.get("origin"):
        lines.append("  origin      " + ", ".join(f"{k}={v}" for k, v in p["origin"].items()))
    if trail.get("meta"):
        lines.append(f"  meta        {json.dumps(trail['meta'], ensure_ascii=False)[:300]}")
    lines += ["", "stages"]
    for stage in trail["stages"]:
        lines += _stage_lines(stage)
    if trail.get("other_columns"):
        lines += ["", "other columns"]
        lines += [
            f"  {k}: {json.dumps(v, ensure_ascii=False, default=str)[:200]}" for k, v in trail["other_columns"].items()
        ]
    text = trail.get("text") or ""
    shown = text if text_chars <= 0 else text[:text_chars]
    lines += ["", f"text ({len(text)} characters{'' if shown == text else f', first {len(shown)} shown'})"]
    lines += [textwrap.indent(shown, "  ")]
    return "\n".join(lines)
