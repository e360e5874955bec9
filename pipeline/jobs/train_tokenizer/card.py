"""The tokenizer card (`tokenizer_card.json`) and the README rendered from it.

The card records exactly what the model was trained on: the release by content hash, the
sampling plan and what the sample turned out to be per language, the line dedup, and the
trainer options as given, so a model can be traced back and trained again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from rootstock.catalog.registry import load_registry
from rootstock.paths import file_sha256
from rootstock.pipeline.release.release import Release

CARD_VERSION = 1


def _release_identity(release: Release) -> dict[str, Any]:
    shards = "".join(
        f"{s['path']} {s['sha256']}\n" for s in sorted(release.manifest["shards"], key=lambda s: s["path"])
    )
    return {
        "id": release.id,
        "path": release.path,
        "manifest_sha256": release.manifest_sha256,
        # Stays the same when only the manifest changes (e.g. count-tokens adds counts).
        "data_sha256": hashlib.sha256(shards.encode()).hexdigest(),
    }


def language_rows(plan: dict[str, dict[str, Any]], stats: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """One row per planned language: its plan, what was sampled and what was left after dedup."""
    sampled_total = sum(s.get("bytes", 0) for s in stats.values()) or 1
    kept_total = sum(s.get("kept_bytes", 0) for s in stats.values()) or 1
    rows = []
    for lang, p in plan.items():
        s = stats.get(lang, {})
        rows.append(
            {
                "lang": lang,
                **p,
                "sampled_docs": s.get("docs", 0),
                "sampled_bytes": s.get("bytes", 0),
                "sampled_share": s.get("bytes", 0) / sampled_total,
                "lines": s.get("lines", 0),
                "unique_lines": s.get("kept_lines", 0),
                "duplicate_lines": s.get("lines", 0) - s.get("kept_lines", 0),
                "trained_bytes": s.get("kept_bytes", 0),
                "trained_share": s.get("kept_bytes", 0) / kept_total,
                "long_lines": s.get("long_lines", 0),
            }
        )
    return rows


def tokenizer_card(
    release: Release,
    plan: dict[str, dict[str, Any]],
    languages: list[dict[str, Any]],
    options: dict[str, Any],
    *,
    output: Path,
    sample_path: Path,
    alpha: float,
    seed: int,
    sample_bytes: int,
    excluded_languages: list[str],
    keep_sample: bool,
) -> dict[str, Any]:
    """The card of the model in OUTPUT; reads the model and the sample (for their hashes)."""
    unique_lines = sum(row["unique_lines"] for row in languages)
    return {
        "card_version": CARD_VERSION,
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "release": _release_identity(release),
        "model": {
            "file": "tokenizer.model",
            "sha256": file_sha256(output / "tokenizer.model"),
            "type": options["model_type"],
            "vocab_size": options["vocab_size"],
            "byte_fallback": True,
        },
        "sentencepiece_version": metadata.version("sentencepiece"),
        "sampling": {
            "alpha": alpha,
            "seed": seed,
            "unit": "bytes",
            "formula": "p_l = n_l^alpha / sum_k n_k^alpha, n_l = UTF-8 text bytes of language l in the release's data shards",
            "sample_bytes_requested": sample_bytes,
            "sample_bytes_planned": sum(p["target_bytes"] for p in plan.values()),
            "excluded_languages": excluded_languages,
        },
        "dedup": {
            "unit": "line (exact, after stripping whitespace), first occurrence kept, across the whole sample",
            "lines_in": sum(row["lines"] for row in languages),
            "duplicate_lines_removed": sum(row["duplicate_lines"] for row in languages),
            "lines_out": unique_lines,
        },
        "sample": {
            "sha256": file_sha256(sample_path),
            "bytes": sample_path.stat().st_size,
            "lines": unique_lines,
            "lines_over_max_length": sum(row["long_lines"] for row in languages),
            "kept": keep_sample,
        },
        "languages": languages,
        "trainer_options": options,
    }


def write_card(output: Path, card: dict[str, Any]) -> None:
    """OUTPUT/tokenizer_card.json and OUTPUT/README.md."""
    (output / "tokenizer_card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (output / "README.md").write_text(render_readme(card), encoding="utf-8")


def render_readme(card: dict[str, Any]) -> str:
    """A model README from the card: the training in one paragraph and the per-language table."""
    registry = load_registry()
    model, sampling, release = card["model"], card["sampling"], card["release"]
    lines = [
        f"# SentencePiece {model['type']} tokenizer, {model['vocab_size']:,} pieces",
        "",
        f"Trained by rootstock on release `{release['id']}` (manifest sha256 `{release['manifest_sha256'][:16]}…`, "
        f"data sha256 `{release['data_sha256'][:16]}…`) with sentencepiece {card['sentencepiece_version']}, byte "
        f"fallback on, no normalization. Language-weighted sample, p ∝ n^α with α = {sampling['alpha']} over bytes, "
        f"seed {sampling['seed']}; {card['dedup']['duplicate_lines_removed']:,} of {card['dedup']['lines_in']:,} lines "
        f"removed as exact duplicates; {card['sample']['bytes']:,} bytes, {card['sample']['lines']:,} lines trained on.",
        "",
        "| lang | name | natural share | target share | trained share | trained bytes | duplicate lines |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in card["languages"]:
        name = registry[row["lang"]].name if row["lang"] in registry else "?"
        capped = " (all it has)" if row["capped"] else ""
        lines.append(
            f"| {row['lang']} | {name} | {row['natural_share']:.2%} | {row['target_share']:.2%}{capped} | "
            f"{row['trained_share']:.2%} | {row['trained_bytes']:,} | {row['duplicate_lines']:,} |"
        )
    if sampling["excluded_languages"]:
        lines += ["", f"Not sampled: {', '.join(sampling['excluded_languages'])}."]
    footprint = card.get("footprint")
    if footprint:  # release/footprint.py
        lines += [
            "",
            f"Environmental impact: {footprint['wall_seconds']:,.1f} s wall, {footprint['cpu_seconds']:,.1f} CPU seconds, "
            f"{footprint['energy_kwh']:.3g} kWh, {footprint['emissions_kg_co2eq']:.3g} kg CO2eq at "
            f"{footprint['carbon_intensity']['g_co2eq_per_kwh']:g} g CO2eq/kWh"
            + (" (estimated)." if footprint["estimate"] else f" (energy: {footprint['method']})."),
        ]
    lines += ["", "Every number above, and the exact trainer options, are in `tokenizer_card.json`.", ""]
    return "\n".join(lines)
