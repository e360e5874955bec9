"""A mix's manifest (`"kind": "mix"`): the spec, the releases by manifest sha256, the tokenizer, the
plan, target and achieved tokens and shares per component, language and bucket, and the shards
(`rootstock verify` checks a mix like a release). `job.mix` adds the `formats` written and, for
token formats, `tokenized` (EOS, totals, Megatron's `--data-path`) and the token files as
`artifacts` (`tokenized.tokenized_section`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import rootstock.sources.filesystems  # noqa: F401  (registers hf://, az://, http(s)://)
from rootstock.pipeline.mix.plan import (
    NO_CLASS,
    Plan,
)
from rootstock.pipeline.release.manifest import MANIFEST_VERSION, git_commit, tool_versions, version


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _rollup(the_plan: Plan, counted: dict, achieved: dict, key) -> list[dict[str, Any]]:
    """Target vs achieved per component / language / bucket (`key` picks the grouping)."""
    target_total = sum(b.target for b in the_plan.buckets)
    achieved_total = sum(a["tokens"] for a in achieved.values())
    table: dict[Any, dict[str, Any]] = {}
    for b in the_plan.buckets:
        k = tuple(key(b.component, b.lang, b.cls).items())
        row = table.setdefault(
            k,
            {
                "available_tokens": 0,
                "available_docs": 0,
                "target_tokens": 0.0,
                "achieved_tokens": 0,
                "rows": 0,
                "unique_docs": 0,
                "max_copies": 0,
            },
        )
        c = counted.get((b.component, b.lang, b.cls), {})
        a = achieved.get((b.component, b.lang, b.cls), {})
        row["available_tokens"] += c.get("tokens", b.tokens)
        row["available_docs"] += c.get("docs", b.docs)
        row["target_tokens"] += b.target
        row["achieved_tokens"] += a.get("tokens", 0)
        row["rows"] += a.get("rows", 0)
        row["unique_docs"] += a.get("unique_docs", 0)
        row["max_copies"] = max(row["max_copies"], a.get("max_epoch", -1) + 1)
    out = []
    for k, row in sorted(table.items()):
        row["target_share"] = _share(row["target_tokens"], target_total)
        row["achieved_share"] = _share(row["achieved_tokens"], achieved_total)
        row["epochs"] = _share(row["achieved_tokens"], row["available_tokens"])
        row["target_tokens"] = round(row["target_tokens"])
        out.append({**dict(k), **row})
    return out


def build_mix_manifest(spec, resolved, tokenizer, the_plan, availability, schema, shards, counts, runner, warnings):
    shards = sorted(shards, key=lambda s: s["path"])
    counted = {(r["component"], r["lang"], r["cls"]): r for r in counts if r["step"] == "available"}
    achieved = {(r["component"], r["lang"], r["cls"]): r for r in counts if r["step"] == "achieved"}
    for b in the_plan.buckets:
        c = counted.get((b.component, b.lang, b.cls))
        if c is not None and c["tokens"] != b.tokens:
            warnings.append(
                f"{b.component}/{b.lang}: planned with {b.tokens:,} available tokens ({availability[b.component]}), "
                f"counted {c['tokens']:,} while mixing; the release manifest's token counts are stale"
            )
    multipliers = dict(enumerate(spec.rehydrate.weights.values()))
    buckets = _rollup(
        the_plan, counted, achieved, lambda comp, lang, cls: {"component": comp, "lang": lang, "cls": cls}
    )
    planned = {(b.component, b.lang, b.cls): b for b in the_plan.buckets}
    for row in buckets:
        b = planned[(row["component"], row["lang"], row["cls"])]
        row["unit"] = b.unit
        row["rate"] = b.rate
        row["max_epochs"] = b.cap
        if b.cls != NO_CLASS:
            row["rehydrate"] = {"min_cluster_size": list(spec.rehydrate.weights)[b.cls], "weight": multipliers[b.cls]}
    achieved_tokens = sum(s["tokens"] for s in shards)
    return {
        "manifest_version": MANIFEST_VERSION,
        "kind": "mix",
        "release": spec.name,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rootstock": {"version": version(), **git_commit()},
        "tools": tool_versions(),
        "runner": runner,
        "spec": spec.canonical(),
        "spec_sha256": spec.sha256(),
        "spec_file": {"path": spec.path, "sha256": spec.file_sha256},
        "tokenizer": tokenizer.describe(),
        "seed": spec.seed,
        "components": [
            {
                "name": r.name,
                "release": {
                    "id": r.manifest.get("release"),
                    "path": r.component.release,
                    "manifest_sha256": r.manifest_sha256,
                    "created": r.manifest.get("created"),
                    "config_sha256": r.manifest.get("config_sha256"),
                },
                "languages": sorted({s["lang"] for s in r.shards}),
                "sources": sorted({s["source"] for s in r.shards}),
                "release_shards": len(r.shards),
                "max_epochs": spec.cap(r.component),
                "rehydrate": r.rehydrate,
                "available_from": availability[r.name],
            }
            for r in resolved
        ],
        "plan": the_plan.to_dict(),
        "by_component": _rollup(the_plan, counted, achieved, lambda comp, lang, cls: {"component": comp}),
        "by_lang": _rollup(the_plan, counted, achieved, lambda comp, lang, cls: {"lang": lang}),
        "buckets": buckets,
        "totals": {
            "target_tokens": round(sum(b.target for b in the_plan.buckets)),
            "achieved_tokens": achieved_tokens,
            "docs_out": sum(s["rows"] for s in shards),
            "unique_docs": sum(a["unique_docs"] for a in achieved.values()),
            "text_bytes": sum(s["text_bytes"] for s in shards),
        },
        "schema": [{"name": f.name, "type": str(f.type)} for f in schema],
        "shards": shards,
        "warnings": warnings,
    }
