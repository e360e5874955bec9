"""`rootstock report`: one self-contained HTML file of a release's numbers, charts and examples.

Every count the report prints from the manifest links to its place in the manifest, which the
file carries (pretty-printed, with an anchor named by JSON pointer, `#m/totals/docs_in`, at each
place a number comes from); a number summed over several places lists them all in its
`data-paths`. Numbers that come from the documents instead (histograms, what a threshold change
would remove) are marked as estimates: with `keep_rejected: sample` each sampled rejected
document stands for several (see data.py). Charts are SVG rendered offline (charts.py): the file
needs no script and no network to be read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import os
from collections import defaultdict
from typing import Any

import numpy as np

from rootstock.filters.pii import find_pii, redact
from rootstock.pipeline.release.release import Release
from rootstock.pipeline.report import charts
from rootstock.pipeline.report import evaluate as ev
from rootstock.pipeline.report.data import Documents, fetch_rows, load_documents

EXAMPLES = 3  # rejected documents shown per (stage, reason)
NEAR = 2  # kept documents shown per (language, check), the nearest to the threshold
EXCERPT = 400  # characters of an example shown
LOG_METRICS = ("number_of_words", "perplexity")
GENERATOR = '<meta name="generator" content="rootstock report">'
NOTE = "estimated from the documents (kept ones, and the rejected set weighted by the manifest's counts)"


def pointer(*parts: Any) -> str:
    """A JSON pointer (RFC 6901) to PARTS."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def resolve(manifest: Any, path: str) -> Any:
    """The manifest's value at the JSON pointer PATH."""
    node = manifest
    for part in path.split("/")[1:]:
        key = part.replace("~1", "/").replace("~0", "~")
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def _fmt(value: float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.1f}"
    return f"{int(value):,}"


class Page:
    """The HTML being written and the manifest places its numbers point at."""

    def __init__(self, manifest: dict[str, Any]):
        self.manifest = manifest
        self.refs: set[str] = {""}

    def num(self, paths: list[str], value: float | None = None) -> str:
        """The sum of the manifest's numbers at PATHS, linked to them."""
        total = sum(resolve(self.manifest, p) for p in paths) if value is None else value
        if not paths:
            return f'<span class="num">{_fmt(total)}</span>'
        target = paths[0] if len(paths) == 1 else _common(paths)
        self.refs.update(paths)
        self.refs.add(target)
        data = html.escape(json.dumps(paths), quote=True)
        title = html.escape(f"manifest {target or '/'}" + (f" (sum of {len(paths)})" if len(paths) > 1 else ""))
        return f'<a class="num" href="#m{html.escape(target)}" data-paths="{data}" data-value="{total}" title="{title}">{_fmt(total)}</a>'


def est(value: float, share: float | None = None) -> str:
    text = _fmt(round(value, 1)) + (f" ({share:.1%})" if share is not None else "")
    return f'<span class="est" title="{html.escape(NOTE)}">{text}</span>'


def _common(paths: list[str]) -> str:
    split = [p.split("/") for p in paths]
    out = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        out.append(parts[0])
    return "/".join(out)


def table(headers: list[str], rows: list[list[str]], cls: str = "", caption: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{caption}</caption>" if caption else ""
    return f'<table class="{cls}">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def figure(name: str, chart) -> str:
    return f'<figure class="chart" data-chart="{html.escape(name)}">{charts.svg(chart)}</figure>'


def esc(text: Any) -> str:
    return html.escape(str(text))


# -- sections ----------------------------------------------------------------------------------


def funnel(page: Page) -> str:
    m = page.manifest
    steps: dict[str, dict[str, list[str]]] = {}
    drops: dict[str, list[str]] = {}
    for uid, source in m["sources"].items():
        for i, step in enumerate(source.get("processing", [])):
            cell = steps.setdefault(step["step"], {k: [] for k in ("docs_in", "docs_out", "bytes_in", "bytes_out")})
            for key in cell:
                if key in step:
                    cell[key].append(pointer("sources", uid, "processing", i, key))
            for reason in step.get("dropped", {}):
                drops.setdefault(step["step"], []).append(pointer("sources", uid, "processing", i, "dropped", reason))
    rows, chart_rows, byte_rows = [], [], []
    for name, cell in steps.items():
        rows.append(
            [esc(name)]
            + [page.num(cell[k]) if cell[k] else "" for k in ("docs_in", "docs_out", "bytes_in", "bytes_out")]
            + [page.num(drops.get(name, []))]
        )
        for key in ("docs_in", "docs_out"):
            if cell[key]:
                total = sum(resolve(m, p) for p in cell[key])
                chart_rows.append({"stage": name, "series": key.replace("_", " "), "value": total})
        for key in ("bytes_in", "bytes_out"):
            if cell[key]:
                total = sum(resolve(m, p) for p in cell[key]) / 1e6
                byte_rows.append({"stage": name, "series": key.replace("_", " "), "value": round(total, 3)})
    out = ['<section id="funnel"><h2>Funnel</h2>']
    docs_chart = charts.grouped_bars(chart_rows, "stage", "documents in and out per stage")
    bytes_chart = charts.grouped_bars(byte_rows, "stage", "MB of text in and out per stage")
    out.append(figure("funnel-stages", charts.side_by_side(docs_chart, bytes_chart)))
    out.append(
        table(
            ["stage", "docs in", "docs out", "bytes in", "bytes out", "docs dropped"],
            rows,
            "funnel-stages",
            "per stage",
        )
    )
    out.append(_by(page, "lang", "language"))
    out.append(_by(page, "source", "source"))
    reasons = m["totals"].get("dropped_by_reason", {})
    rows = [[esc(k), page.num([pointer("totals", "dropped_by_reason", k)])] for k in reasons]
    bars = [{"reason": k, "series": "documents", "value": v} for k, v in reasons.items()]
    if bars:
        out.append(figure("drops-by-reason", charts.grouped_bars(bars, "reason", "documents dropped, by stage:reason")))
    out.append(table(["stage:reason", "docs"], rows, "drops-by-reason", "dropped, by reason"))
    totals = [[esc(k), page.num([pointer("totals", k)])] for k, v in m["totals"].items() if isinstance(v, int)]
    out.append(table(["total", "value"], totals, "totals", "release totals"))
    out.append("</section>")
    return "".join(out)


def _by(page: Page, key: str, label: str) -> str:
    m = page.manifest
    groups: dict[str, dict[str, list[str]]] = {}
    stages: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for i, cell in enumerate(m.get("by_source_lang", [])):
        g = groups.setdefault(cell[key], {k: [] for k in ("docs_in", "docs_out", "bytes_in", "bytes_out")})
        for k in g:
            g[k].append(pointer("by_source_lang", i, k))
        for j, drop in enumerate(cell.get("dropped", [])):
            stages[cell[key]].setdefault(drop["step"], []).append(pointer("by_source_lang", i, "dropped", j, "docs"))
    steps = sorted({s for v in stages.values() for s in v})
    rows, bars, byte_rows = [], [], []
    for name, g in sorted(groups.items()):
        rows.append(
            [esc(name)]
            + [page.num(g[k]) for k in ("docs_in", "docs_out", "bytes_in", "bytes_out")]
            + [page.num(stages[name][s]) if s in stages[name] else "" for s in steps]
        )
        kept = sum(resolve(m, p) for p in g["docs_out"])
        bars.append({label: name, "series": "kept", "value": kept})
        for k in ("bytes_in", "bytes_out"):
            value = round(sum(resolve(m, p) for p in g[k]) / 1e6, 3)
            byte_rows.append({label: name, "series": k.replace("_", " "), "value": value})
        for s in steps:
            if s in stages[name]:
                bars.append(
                    {label: name, "series": f"dropped: {s}", "value": sum(resolve(m, p) for p in stages[name][s])}
                )
    headers = [label, "docs in", "docs out", "bytes in", "bytes out"] + [f"dropped: {esc(s)}" for s in steps]
    docs_chart = charts.stacked_bars(bars, label, f"documents per {label}: kept and dropped")
    bytes_chart = charts.grouped_bars(byte_rows, label, f"MB of text in and out per {label}")
    chart = figure(f"funnel-{key}", charts.side_by_side(docs_chart, bytes_chart))
    return chart + table(headers, rows, f"funnel-{key}", f"per {label}")


def _stage_index(m: dict[str, Any], name: str) -> int | None:
    return next((i for i, s in enumerate(m.get("stages", [])) if s["name"] == name), None)


@dataclasses.dataclass
class Context:
    release: Release
    docs: Documents
    resolver: Any
    proposal: ev.Proposal | None
    stages: list[str]


def quality(page: Page, ctx: Context) -> str:
    m, docs = page.manifest, ctx.docs
    k = _stage_index(m, "quality")
    if k is None:
        return '<section id="quality"><h2>Quality</h2><p>This release was made without the quality stage.</p></section>'
    assessed = ev.natural_mask(docs) & ev.reached_quality(docs, ctx.stages)
    out = ['<section id="quality"><h2>Quality metrics per language</h2>']
    out.append(
        "<p>Histograms over kept and rejected documents (rejected ones weighted), the threshold in force "
        "drawn as a dashed rule. <em>±10%</em>: documents a threshold moved by 10% of its value would "
        "remove (tighter) or give back (looser), every other threshold unchanged.</p>"
    )
    dropped = _quality_drops(m)
    for lang in sorted({str(x) for x in docs.lang[assessed]}):
        idx = np.flatnonzero(assessed & (docs.lang == lang))
        sens = {s.check: s for s in ev.sensitivities(docs, idx, ctx.resolver)}
        kept_w = float(docs.weight[idx][docs.kept[idx]].sum())
        total_w = float(docs.weight[idx].sum())
        panels, rows = [], []
        for name, metric, _, _ in ev.CHECKS:
            values = docs.quality[metric][idx]
            present = ~np.isnan(values)
            if not present.any():
                continue
            s = sens.get(name)
            thresholds = s.thresholds if s else []
            log = metric in LOG_METRICS and values[present].min() > 0
            edges = charts.bin_edges(values[present], thresholds, log=log)
            hist = charts.histogram_rows(values[present], docs.weight[idx][present], docs.kept[idx][present], edges)
            panels.append(charts.histogram(hist, thresholds, metric, log=log))
            if s is None:
                continue
            field = s.field
            path = pointer("stages", k, "report", "languages", lang, "thresholds", field)
            try:
                shown = page.num([path]) if resolve(m, path) in s.thresholds else ""
            except (KeyError, IndexError, TypeError):
                shown = ""
            shown = shown or ", ".join(_fmt(t) for t in s.thresholds)
            rows.append(
                [
                    esc(name),
                    esc(field),
                    shown,
                    page.num(dropped.get((lang, name), [])),
                    est(s.failing),
                    est(s.stricter, s.stricter / kept_w if kept_w else None),
                    est(s.looser, s.looser / total_w if total_w else None),
                ]
            )
        out.append(f'<section class="lang" id="quality-{esc(lang)}" data-lang="{esc(lang)}"><h3>{esc(lang)}</h3>')
        out.append(f"<p>{est(total_w)} documents assessed, {est(kept_w)} kept.</p>")
        if panels:
            out.append(figure(f"quality-{lang}", charts.panel(panels)))
        headers = ["check", "threshold", "value in force", "dropped by it (manifest)", "failing it"]
        headers += ["+10% stricter removes", "10% looser gives back"]
        out.append(table(headers, rows, "sensitivity"))
        out.append("</section>")
    out.append("</section>")
    return "".join(out)


def _quality_drops(m: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for i, cell in enumerate(m.get("by_source_lang", [])):
        for j, drop in enumerate(cell.get("dropped", [])):
            if drop["step"] == "quality":
                out[(cell["lang"], drop["reason"])].append(pointer("by_source_lang", i, "dropped", j, "docs"))
    return out


def _excerpt(row: dict[str, Any], lang: str) -> str:
    text = (row.get("text") or "")[: EXCERPT * 4]
    redacted, _ = redact(text, find_pii(text, lang if lang and lang != "und" else None, url=row.get("url")))
    short = redacted[:EXCERPT] + ("…" if len(redacted) > EXCERPT or len(row.get("text") or "") > len(text) else "")
    return f'<blockquote class="excerpt">{esc(short)}</blockquote>'


def examples(page: Page, ctx: Context) -> str:
    m, docs = page.manifest, ctx.docs
    out = ['<section id="examples"><h2>Examples</h2>']
    out.append(
        f"<p>Excerpts (first {EXCERPT} characters, PII redacted here whatever the source's policy) of "
        "rejected documents from the rejected set, and of kept documents nearest each threshold.</p>"
    )
    dropped = np.flatnonzero(~docs.kept)
    keys = sorted({(str(docs.stage[i]), str(docs.reason[i])) for i in dropped})
    chosen: dict[tuple[str, str], list[int]] = {}
    for key in keys:
        members = [i for i in dropped if (docs.stage[i], docs.reason[i]) == key]
        chosen[key] = sorted(members, key=lambda i: docs.strings["id"][i])[:EXAMPLES]
    near = _near(ctx)
    wanted = [i for v in chosen.values() for i in v] + [i for v in near.values() for i, _, _ in v]
    rows = fetch_rows(ctx.release, docs, wanted, ["text", "url", "source_doc_id"])
    out.append("<h3>Rejected, per stage and reason</h3>")
    for (stage, reason), members in chosen.items():
        label = f"{stage}:{reason}"
        count = m["totals"].get("dropped_by_reason", {}).get(label)
        total = page.num([pointer("totals", "dropped_by_reason", label)]) if count is not None else "?"
        out.append(f'<div class="examples" data-reason="{esc(label)}"><h4>{esc(label)} — {total} documents</h4>')
        for i in members:
            out.append(_doc_head(docs, i, rows.get(i, {})) + _excerpt(rows.get(i, {}), str(docs.lang[i])))
        out.append("</div>")
    out.append("<h3>Kept, nearest each threshold</h3>")
    for (lang, check), items in sorted(near.items()):
        out.append(f'<div class="examples near" data-lang="{esc(lang)}" data-check="{esc(check)}">')
        out.append(f"<h4>{esc(lang)} · {esc(check)}</h4>")
        for i, value, threshold in items:
            out.append(
                _doc_head(docs, i, rows.get(i, {}), f"{_fmt(value)} (threshold {_fmt(threshold)})")
                + _excerpt(rows.get(i, {}), lang)
            )
        out.append("</div>")
    out.append("</section>")
    return "".join(out)


def _doc_head(docs: Documents, i: int, row: dict[str, Any], extra: str = "") -> str:
    parts = [docs.strings["id"][i], row.get("source_doc_id") or "", docs.lang[i], docs.source[i]]
    return f'<p class="doc">{" · ".join(esc(p) for p in parts)}{(" · " + esc(extra)) if extra else ""}</p>'


def _near(ctx: Context) -> dict[tuple[str, str], list[tuple[int, float, float]]]:
    """Per (language, check), the NEAR kept documents closest (relatively) to their threshold."""
    docs = ctx.docs
    kept = np.flatnonzero(ev.natural_mask(docs) & docs.kept)
    out: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
    if not len(kept):
        return out
    b = ev.bounds(docs, kept, ctx.resolver)
    for name, metric, lo, _ in ev.CHECKS:
        moved = b.low[name] if ev.MOVED[name] == lo else b.high[name]
        values = docs.quality[metric][kept]
        ok = ~np.isnan(moved) & ~np.isnan(values)
        if ev.MOVED[name] == lo:
            ok &= moved > 0  # a minimum of 0 removes nothing: no document is near it
        for lang in sorted({str(x) for x in docs.lang[kept[ok]]}):
            sel = np.flatnonzero(ok & (docs.lang[kept] == lang))
            distance = np.abs(values[sel] - moved[sel]) / np.maximum(np.abs(moved[sel]), 1e-9)
            best = sel[np.argsort(distance, kind="stable")[:NEAR]]
            out[(lang, name)] = [(int(kept[j]), float(values[j]), float(moved[j])) for j in best]
    return out


def langid(page: Page, ctx: Context) -> str:
    m, docs = page.manifest, ctx.docs
    k = _stage_index(m, "langid")
    out = ['<section id="langid"><h2>Language identification</h2>']
    if k is None:
        return out[0] + "<p>This release was made without the langid stage.</p></section>"
    rows = []
    for i, cell in enumerate(m.get("by_source_lang", [])):
        for lang in cell.get("routed_to", {}):
            rows.append(
                [
                    esc(cell["source"]),
                    esc(cell["lang"]),
                    esc(lang),
                    page.num([pointer("by_source_lang", i, "routed_to", lang)]),
                ]
            )
    out.append(table(["source", "declared", "detected (routed to)", "docs"], rows, "routed", "declared vs detected"))
    mismatch = np.flatnonzero((docs.stage == "langid") & np.array([d is not None for d in docs.detected], dtype=bool))
    pairs: dict[tuple[str, str], float] = defaultdict(float)
    for i in mismatch:
        pairs[(str(docs.lang[i]), str(docs.detected[i]))] += float(docs.weight[i])
    rows = [[esc(a), esc(b), est(w)] for (a, b), w in sorted(pairs.items())]
    out.append(
        table(["declared", "detected (top 1)", "docs"], rows, "mismatch", "dropped by langid: declared vs detected")
    )
    notes: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for i, cell in enumerate(m.get("by_source_lang", [])):
        for note in cell.get("notes", {}):
            if note.startswith("langid:"):
                notes[cell["lang"]][note.removeprefix("langid:")].append(pointer("by_source_lang", i, "notes", note))
    kinds = sorted({n for v in notes.values() for n in v})
    rows = [[esc(lang)] + [page.num(v[n]) if n in v else "" for n in kinds] for lang, v in sorted(notes.items())]
    out.append(table(["language", *map(esc, kinds)], rows, "langid-notes", "language-ID outcomes per language"))
    report = m["stages"][k].get("report", {})
    items = []
    for key in ("declared_unverifiable", "languages_without_label", "unreliable_labels"):
        if key in report:
            path = pointer("stages", k, "report", key)
            page.refs.add(path)
            items.append(
                f'<li><a href="#m{esc(path)}">{esc(key.replace("_", " "))}</a>: {esc(", ".join(report[key]) or "none")}</li>'
            )
    out.append(f'<ul class="unverifiable">{"".join(items)}</ul>')
    scored = np.flatnonzero(~np.isnan(docs.lang_score))
    panels = []
    for lang in sorted({str(x) for x in docs.lang[scored]}):
        sel = scored[docs.lang[scored] == lang]
        values = docs.lang_score[sel]
        edges = np.linspace(0.0, 1.0, 21)
        rows = charts.histogram_rows(values, docs.weight[sel], docs.kept[sel], edges)
        panels.append(charts.histogram(rows, [], lang))
    if panels:
        out.append("<h3>Score of the language kept, per language</h3>")
        out.append(figure("langid-scores", charts.panel(panels, columns=5)))
    out.append("</section>")
    return "".join(out)


def _notes(page: Page, prefix: str) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for i, cell in enumerate(page.manifest.get("by_source_lang", [])):
        for note in cell.get("notes", {}):
            if note.startswith(prefix):
                out[cell["lang"]][note.removeprefix(prefix)].append(pointer("by_source_lang", i, "notes", note))
    return out


def _sort_buckets(names: set[str]) -> list[str]:
    def key(n: str):
        digits = "".join(ch if ch.isdigit() else " " for ch in n).split()
        return (int(digits[0]) if digits else 1 << 30, n)

    return sorted(names, key=key)


def dedup(page: Page, ctx: Context) -> str:
    notes = _notes(page, "dedup:clusters_")
    out = ['<section id="dedup"><h2>Deduplication</h2>']
    if not notes:
        out.append("<p>No cluster sizes in the manifest (dedup off, or no duplicates found).</p>")
    buckets = _sort_buckets({b for v in notes.values() for b in v})
    rows, bars = [], []
    for lang, v in sorted(notes.items()):
        rows.append([esc(lang)] + [page.num(v[b]) if b in v else "" for b in buckets])
        for b in buckets:
            if b in v:
                bars.append(
                    {"language": lang, "series": f"size {b}", "value": sum(resolve(page.manifest, p) for p in v[b])}
                )
    if bars:
        out.append(figure("dedup-clusters", charts.stacked_bars(bars, "language", "duplicate clusters, by size")))
    out.append(table(["language", *(f"clusters of {esc(b)}" for b in buckets)], rows, "dedup-clusters"))
    out.append("</section>")
    return "".join(out)


def pii(page: Page, ctx: Context) -> str:
    notes = _notes(page, "pii:")
    out = ['<section id="pii"><h2>PII</h2>']
    if not notes:
        out.append("<p>No PII counted (the pii stage was off, or found nothing).</p>")
    cats = sorted({c for v in notes.values() for c in v})
    rows, bars = [], []
    for lang, v in sorted(notes.items()):
        rows.append([esc(lang)] + [page.num(v[c]) if c in v else "" for c in cats])
        bars += [{"language": lang, "series": c, "value": sum(resolve(page.manifest, p) for p in v[c])} for c in v]
    if bars:
        out.append(figure("pii", charts.stacked_bars(bars, "language", "PII found, by category")))
    out.append(table(["language", *map(esc, cats)], rows, "pii", "PII found per category and language"))
    out.append("</section>")
    return "".join(out)


def tokens(page: Page, ctx: Context) -> str:
    m = page.manifest
    out = ['<section id="tokens"><h2>Tokens</h2>']
    if "tokens" not in m:
        sidecars = ctx.release.sidecar_files()
        note = f" Token-count files beside the manifest: {esc(', '.join(sidecars))}." if sidecars else ""
        return out[0] + f"<p>No token counts in the manifest (`rootstock count-tokens` adds them).{note}</p></section>"
    by_lang: dict[str, list[str]] = defaultdict(list)
    for i, shard in enumerate(m["shards"]):
        if "tokens" in shard:
            by_lang[shard.get("lang") or ",".join(shard["languages"])].append(pointer("shards", i, "tokens"))
    rows = [[esc(lang), page.num(paths)] for lang, paths in sorted(by_lang.items())]
    rows.append(["all", page.num([pointer("tokens", "total")])])
    out.append(table(["language", "tokens"], rows, "tokens", "tokens per language"))
    out.append("</section>")
    return "".join(out)


def calibration(page: Page, ctx: Context) -> str:
    if ctx.proposal is None:
        return ""
    docs, proposal = ctx.docs, ctx.proposal
    assessed = ev.natural_mask(docs) & ev.reached_quality(docs, ctx.stages)
    out = ['<section id="calibration"><h2>Current vs proposed thresholds</h2>']
    out.append(f"<p>Proposed: <code>{esc(os.path.basename(proposal.path))}</code>. Removal {esc(NOTE)}.</p>")
    rows = []
    for lang, fields in proposal.changes.get("thresholds", {}).items():
        idx = np.flatnonzero(assessed & (docs.lang == lang))
        if not len(idx):
            continue
        now = ev.bounds(docs, idx, ctx.resolver)
        then = ev.bounds(docs, idx, proposal.resolver)
        before, by_before = ev.quality_removal(docs, idx, ctx.resolver)
        after, by_after = ev.quality_removal(docs, idx, proposal.resolver)
        total = float(docs.weight[idx].sum())
        for name, _, lo, hi in ev.CHECKS:
            for field in (lo, hi):
                if field not in fields:
                    continue
                current = sorted({_fmt(v) for v in (now.low if field == lo else now.high)[name] if not np.isnan(v)})
                proposed = sorted({_fmt(v) for v in (then.low if field == lo else then.high)[name] if not np.isnan(v)})
                rows.append(
                    [
                        esc(lang),
                        esc(field),
                        esc(", ".join(current) or "off"),
                        esc(", ".join(proposed) or "off"),
                        est(by_before.get(name, 0.0)),
                        est(by_after.get(name, 0.0)),
                    ]
                )
        rows.append([esc(lang), "<b>all checks</b>", "", "", est(before, before / total), est(after, after / total)])
    headers = ["language", "threshold", "current", "proposed", "removes now", "would remove"]
    out.append(table(headers, rows, "calibration"))
    out.append("</section>")
    return "".join(out)


def manifest_view(page: Page) -> str:
    lines: list[str] = []

    def emit(value: Any, path: str, indent: int, label: str, trailing: str) -> None:
        pad = "  " * indent
        opened = f'<span id="m{esc(path)}" class="at">' if path in page.refs else ""
        closed = "</span>" if opened else ""
        if isinstance(value, (dict, list)) and value:
            brackets = "{}" if isinstance(value, dict) else "[]"
            lines.append(f"{pad}{opened}{label}{brackets[0]}{closed}")
            items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
            for n, (key, item) in enumerate(items):
                sub = esc(json.dumps(key, ensure_ascii=False)) + ": " if isinstance(value, dict) else ""
                emit(item, path + pointer(key), indent + 1, sub, "," if n < len(items) - 1 else "")
            lines.append(f"{pad}{brackets[1]}{trailing}")
        else:
            lines.append(f"{pad}{opened}{label}{esc(json.dumps(value, ensure_ascii=False))}{closed}{trailing}")

    emit(page.manifest, "", 0, "", "")
    return (
        '<section id="manifest"><h2>manifest.json</h2><p>Every linked number above points at its place here.</p>'
        f'<pre id="manifest-json">{chr(10).join(lines)}</pre></section>'
    )


STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:0 1.5em 4em;color:#222}
h1{margin-bottom:.2em} h2{border-bottom:2px solid #ddd;padding-top:1em} nav a{margin-right:1em}
table{border-collapse:collapse;margin:.6em 0 1.4em;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ddd;padding:.2em .6em;text-align:right} th:first-child,td:first-child{text-align:left}
caption{text-align:left;font-weight:600;padding:.3em 0} a.num{color:#1a5fb4;text-decoration:none}
a.num:hover{text-decoration:underline} .est{color:#555;font-style:italic}
figure.chart{margin:.6em 0;overflow-x:auto} blockquote.excerpt{margin:.2em 0 1em;padding:.4em .8em;
background:#f6f6f6;border-left:3px solid #ccc;white-space:pre-wrap;font-size:13px} p.doc{margin:.4em 0 0;color:#555}
pre#manifest-json{font-size:12px;background:#fafafa;padding:1em;overflow:auto;max-height:80vh}
.at:target{background:#ffe066;outline:2px solid #f0b400} footer{margin-top:3em;color:#777}
"""


def render(release: Release, proposal: ev.Proposal | None = None, docs: Documents | None = None) -> str:
    """The report of RELEASE as one HTML string (PROPOSAL: thresholds to compare with the current ones)."""
    m = release.manifest
    docs = docs if docs is not None else load_documents(release)
    config = ev.release_config(m)
    ctx = Context(release, docs, ev.resolver_for(config), proposal, [s["name"] for s in m.get("stages", [])])
    page = Page(m)
    sections = [
        ("funnel", "Funnel", funnel(page)),
        ("quality", "Quality", quality(page, ctx)),
        ("calibration", "Calibration", calibration(page, ctx)),
        ("examples", "Examples", examples(page, ctx)),
        ("langid", "Language ID", langid(page, ctx)),
        ("dedup", "Dedup", dedup(page, ctx)),
        ("pii", "PII", pii(page, ctx)),
        ("tokens", "Tokens", tokens(page, ctx)),
    ]
    nav = "".join(f'<a href="#{key}">{label}</a>' for key, label, body in sections if body)
    nav += '<a href="#manifest">manifest.json</a>'
    versions = ", ".join(f"{k} {v}" for k, v in charts.versions().items())
    head = (
        f"<h1>{esc(m['release'])}</h1><p>Release made {esc(m.get('created', ''))}, manifest "
        f"{esc(release.manifest_sha256[:12])}…: {page.num([pointer('totals', 'docs_in')])} documents in, "
        f"{page.num([pointer('totals', 'docs_out')])} kept.</p><nav>{nav}</nav>"
    )
    body = head + "".join(b for _, _, b in sections) + manifest_view(page)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    footer = f"<footer>Made by <code>rootstock report</code> at {stamp}; charts: {esc(versions)}.</footer>"
    return (
        f'<!doctype html><html lang="en"><head>{GENERATOR}<meta charset="utf-8">'
        f"<title>{esc(m['release'])}: rootstock report</title><style>{STYLE}</style></head>"
        f"<body>{body}{footer}</body></html>"
    )


def build_report(release: str, output: str, thresholds: str | None = None) -> int:
    """Write the report of the release at RELEASE to OUTPUT; return its size in bytes."""
    opened = Release.open(release, kind="release")  # a mix has no run config nor metrics to show
    proposal = ev.read_proposal(opened, thresholds) if thresholds else None
    text = render(opened, proposal)
    data = text.encode("utf-8")
    tmp = f"{output}.tmp-{os.getpid()}"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, output)
    return len(data)
