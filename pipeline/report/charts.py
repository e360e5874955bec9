"""The report's charts: Vega-Lite specs rendered to SVG offline by vl-convert (Vega-Lite's own
converter, the Vega JavaScript runtime embedded in a Python wheel).

A pre-rendered SVG needs no script and no network when the report is opened, shows the same in
every browser, and keeps the data of each mark in its `aria-label` (so a screen reader, and the
tests, can read the numbers off the chart). The specs are plain Vega-Lite dicts: altair builds
the same JSON but validates every call against the schema, several times slower than rendering
(benchmarks/report.py). Each chart's element ids are made unique, because several SVGs share the
one HTML document.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np
import vl_convert as vlc

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier: nothing is fetched
KEPT_COLOUR, DROPPED_COLOUR, RULE_COLOUR = "#4c78a8", "#e45756", "#222222"
_counter = itertools.count()


def versions() -> dict[str, str]:
    return {"vl-convert-python": vlc.__version__, "vega-lite": vlc.get_vegalite_versions()[-1]}


def svg(spec: dict[str, Any]) -> str:
    """SPEC rendered as an inline SVG whose ids cannot clash with another chart's."""
    text = vlc.vegalite_to_svg({"$schema": SCHEMA, **spec})
    prefix = f"c{next(_counter)}-"
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", text)
    return re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', text)


def _bars(rows: list[dict[str, Any]], category: str, title: str, stack: bool, log: bool = False) -> dict[str, Any]:
    # Series in a fixed order: stacked as given (kept first), grouped sorted (in before out).
    series = list(dict.fromkeys(r["series"] for r in rows) if stack else sorted({r["series"] for r in rows}))
    encoding: dict[str, Any] = {
        "y": {"field": category, "type": "nominal", "title": None, "sort": None},
        "x": {"field": "value", "type": "quantitative", "title": None},
        "color": {"field": "series", "type": "nominal", "title": None, "sort": series},
        "tooltip": [
            {"field": category, "type": "nominal"},
            {"field": "series", "type": "nominal"},
            {"field": "value", "type": "quantitative", "format": ","},
        ],
    }
    if log:
        encoding["x"]["scale"] = {"type": "symlog"}
    if not stack:
        encoding["yOffset"] = {"field": "series", "type": "nominal", "sort": series}
    return {
        "title": title,
        "width": 380,
        # The same height per category, stacked or grouped (the step is per sub-band there), so rows line up.
        "height": {"step": 22 if stack else max(22 / max(len(series), 1), 6)},
        "data": {"values": rows},
        "mark": "bar",
        "encoding": encoding,
    }


def grouped_bars(rows: list[dict[str, Any]], category: str, title: str, log: bool = False) -> dict[str, Any]:
    """ROWS {category, series, value} as horizontal bars grouped by category, one colour per series."""
    return _bars(rows, category, title, stack=False, log=log)


def stacked_bars(rows: list[dict[str, Any]], category: str, title: str) -> dict[str, Any]:
    """ROWS {category, series, value} as one stacked horizontal bar per category."""
    return _bars(rows, category, title, stack=True)


def histogram_rows(values: np.ndarray, weights: np.ndarray, kept: np.ndarray, edges: np.ndarray) -> list[dict]:
    """Weighted counts of kept and rejected VALUES in the bins EDGES (empty bins left out)."""
    rows = []
    for label, mask in (("kept", kept), ("rejected", ~kept)):
        counts, _ = np.histogram(values[mask], bins=edges, weights=weights[mask])
        for lo, hi, n in zip(edges[:-1], edges[1:], counts, strict=True):
            if n > 0:
                rows.append({"lo": float(lo), "hi": float(hi), "docs": round(float(n), 2), "set": label})
    return rows


def bin_edges(values: np.ndarray, thresholds: list[float], bins: int = 30, log: bool = False) -> np.ndarray:
    """Bins over the values and every threshold, so each threshold lies on the chart."""
    points = np.concatenate([values, np.asarray(thresholds, dtype=np.float64)])
    lo, hi = float(points.min()), float(points.max())
    if log and lo > 0:
        return np.geomspace(lo, hi if hi > lo else lo * 10, bins + 1)
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    return np.linspace(lo, hi, bins + 1)


def histogram(rows: list[dict], thresholds: list[float], title: str, log: bool = False) -> dict[str, Any]:
    """Kept and rejected documents per bin, stacked, with a dashed rule at each threshold in force."""
    bars = {
        "data": {"values": rows},
        "mark": {"type": "bar", "orient": "vertical"},  # x/x2 are the bin's edges, y the height
        "encoding": {
            "x": {
                "field": "lo",
                "type": "quantitative",
                "title": None,
                "scale": {"type": "log"} if log else {"zero": False},
            },
            "x2": {"field": "hi"},
            "y": {"field": "docs", "type": "quantitative", "title": "documents", "stack": True},
            "color": {
                "field": "set",
                "type": "nominal",
                "title": None,
                "scale": {"domain": ["kept", "rejected"], "range": [KEPT_COLOUR, DROPPED_COLOUR]},
            },
            "tooltip": [
                {"field": "set", "type": "nominal"},
                {"field": "lo", "type": "quantitative", "format": ".4~g"},
                {"field": "hi", "type": "quantitative", "format": ".4~g"},
                {"field": "docs", "type": "quantitative"},
            ],
        },
    }
    layers = [bars]
    if thresholds:
        layers.append(
            {
                "data": {"values": [{"threshold": t} for t in thresholds]},
                "mark": {"type": "rule", "color": RULE_COLOUR, "strokeDash": [4, 3], "strokeWidth": 2},
                "encoding": {
                    "x": {"field": "threshold", "type": "quantitative"},
                    "tooltip": [{"field": "threshold", "type": "quantitative", "format": ".4~g"}],
                },
            }
        )
    return {"title": title, "width": 200, "height": 110, "layer": layers}


def side_by_side(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Two charts in one row, each with its own colours."""
    return {"hconcat": [left, right], "resolve": {"scale": {"color": "independent"}}}


def panel(charts: list[dict[str, Any]], columns: int = 4) -> dict[str, Any]:
    return {"concat": charts, "columns": columns, "config": {"legend": {"orient": "top"}}}
