"""Printing for the command line: plain text tables and the end-of-run summaries."""

from __future__ import annotations

import sys
from typing import Any

from tabulate import tabulate


def text_table(rows: list[list[Any]], header: list[str]) -> str:
    return tabulate(rows, headers=header, tablefmt="simple", disable_numparse=True)


def print_release_summary(manifest: dict, output: str, out=sys.stdout) -> None:
    rows = []
    for entry in manifest["by_source_lang"]:
        reasons = ", ".join(f"{d['step']}:{d['reason']}={d['docs']}" for d in entry["dropped"])
        rows.append(
            [entry["source"], entry["lang"], entry["docs_in"], entry["docs_out"], entry["bytes_out"], reasons or "-"]
        )
    print(
        text_table(rows, ["source", "lang", "docs in", "docs out", "bytes out", "dropped (step:reason=docs)"]), file=out
    )
    totals = manifest["totals"]
    print(
        f"\nrelease {manifest['release']}: {totals['docs_in']} documents in, {totals['docs_out']} out, "
        f"{totals['docs_dropped']} dropped; {len(manifest['shards'])} shards"
        + (f"; {manifest['tokens']['total']:,} tokens" if "tokens" in manifest else ""),
        file=out,
    )
    print(f"output: {output}", file=out)
