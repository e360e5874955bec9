"""Printing for the command line: plain text tables and the end-of-run summaries."""

from __future__ import annotations

import sys
from typing import Any

from tabulate import tabulate


def text_table(rows: list[list[Any]], header: list[str]) -> str:
    return tabulate(rows, headers=header, tablefmt="simple", disable_numparse=True)


def _routed(entry: dict) -> str:
    """`+15 from und 15` / `-20 to en 15, fr 5`: what language ID moved into or out of a cell."""
    parts = []
    for key, sign, word in (("routed_from", "+", "from"), ("routed_to", "-", "to")):
        moved = entry.get(key) or {}
        if moved:
            parts.append(f"{sign}{sum(moved.values())} {word} " + ", ".join(f"{lang} {n}" for lang, n in moved.items()))
    return "; ".join(parts) or "-"


def print_release_summary(manifest: dict, output: str, out=sys.stdout) -> None:
    rows = [
        [
            entry["source"],
            entry["lang"],
            entry["docs_in"],
            _routed(entry),
            entry["docs_out"],
            entry["bytes_out"],
            ", ".join(f"{d['step']}:{d['reason']}={d['docs']}" for d in entry["dropped"]) or "-",
        ]
        for entry in manifest["by_source_lang"]
    ]
    header = ["source", "lang", "docs in", "routed by langid", "docs out", "bytes out", "dropped (step:reason=docs)"]
    print(text_table(rows, header), file=out)
    totals = manifest["totals"]
    print(
        f"\nrelease {manifest['release']}: {totals['docs_in']} documents in, {totals['docs_out']} out, "
        f"{totals['docs_dropped']} dropped; {len(manifest['shards'])} shards"
        + (f"; {manifest['tokens']['total']:,} tokens" if "tokens" in manifest else ""),
        file=out,
    )
    print(f"output: {output}", file=out)
