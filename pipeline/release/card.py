"""The release's dataset card (README.md): Hub metadata plus what a reader must know.

Generated from the manifest only, so the card cannot claim anything the manifest does not
record, and re-generating it (after a removal request, say) is a pure function. The YAML
header makes the release loadable per language with `datasets.load_dataset(DIR, "<lang>")`
and valid on the Hugging Face Hub; the body is the ROOTS-style data card: sources and
licences, per-language sizes, what each step removed, and how to ask for removal.

The Markdown lives in templates/card.md, rendered by huggingface_hub's
`DatasetCard.from_template`; this module computes what it shows, so the wording can change
without touching the arithmetic and the numbers can be tested without parsing Markdown.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apache_beam.io.filesystems import FileSystems
from huggingface_hub import DatasetCard, DatasetCardData

from rootstock.catalog.registry import UNDETERMINED, load_registry
from rootstock.filters.dedup import CLUSTER_SIZE_CLASSES
from rootstock.pipeline.release.footprint import card_section as footprint_section

CARD = "README.md"
TEMPLATE = Path(__file__).parent / "templates" / "card.md"

# SPDX ids the Hub's `license` field accepts as they are (lowercased); anything else is
# `other` with the per-source list. From the Hub's documented licence identifiers.
HUB_LICENSES = {
    "apache-2.0",
    "mit",
    "afl-3.0",
    "artistic-2.0",
    "bsl-1.0",
    "bsd-2-clause",
    "bsd-3-clause",
    "bsd-3-clause-clear",
    "cc0-1.0",
    "cc-by-2.0",
    "cc-by-2.5",
    "cc-by-3.0",
    "cc-by-4.0",
    "cc-by-sa-3.0",
    "cc-by-sa-4.0",
    "cc-by-nc-2.0",
    "cc-by-nc-3.0",
    "cc-by-nc-4.0",
    "cc-by-nd-4.0",
    "cc-by-nc-nd-3.0",
    "cc-by-nc-nd-4.0",
    "cc-by-nc-sa-2.0",
    "cc-by-nc-sa-3.0",
    "cc-by-nc-sa-4.0",
    "cdla-sharing-1.0",
    "cdla-permissive-1.0",
    "cdla-permissive-2.0",
    "wtfpl",
    "ecl-2.0",
    "epl-1.0",
    "epl-2.0",
    "eupl-1.1",
    "agpl-3.0",
    "gfdl",
    "gpl",
    "gpl-2.0",
    "gpl-3.0",
    "lgpl",
    "lgpl-2.1",
    "lgpl-3.0",
    "isc",
    "lppl-1.3c",
    "ms-pl",
    "mpl-2.0",
    "odc-by",
    "odbl",
    "openrail",
    "osl-3.0",
    "postgresql",
    "ofl-1.1",
    "ncsa",
    "unlicense",
    "zlib",
    "pddl",
    "c-uda",
    "etalab-2.0",
}
SIZE_CATEGORIES = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
    (10_000_000_000, "1B<n<10B"),
    (100_000_000_000, "10B<n<100B"),
    (1_000_000_000_000, "100B<n<1T"),
]


def size_category(docs: int) -> str:
    return next((label for limit, label in SIZE_CATEGORIES if docs < limit), "n>1T")


def hub_license(spdx_ids: list[str]) -> str | None:
    """The one Hub licence id all sources share, or None (then: `other` plus the list)."""
    ids = {i.lower() for i in spdx_ids}
    if len(ids) == 1 and (only := ids.pop()) in HUB_LICENSES:
        return only
    return None


def _languages(manifest: dict[str, Any]) -> dict[str, dict[str, int]]:
    """lang → docs, bytes, and the sources it came from, for languages really in the release."""
    stats: dict[str, dict[str, Any]] = defaultdict(lambda: {"docs": 0, "bytes": 0, "sources": set()})
    for cell in manifest["by_source_lang"]:
        if cell["docs_out"]:
            entry = stats[cell["lang"]]
            entry["docs"] += cell["docs_out"]
            entry["bytes"] += cell["bytes_out"]
            entry["sources"].add(cell["source"])
    return dict(sorted(stats.items()))


def hub_language_codes(langs: list[str]) -> list[str]:
    """ISO 639-1 where there is one, else 639-3; programming languages and `und` have none."""
    registry = load_registry()
    codes = []
    for code in langs:
        if code == UNDETERMINED or code not in registry or registry[code].kind != "natural":
            continue
        lang = registry[code]
        iso = lang.iso639_1 or lang.iso639_3
        if iso and iso not in codes:
            codes.append(iso)
    return codes


def card_data(manifest: dict[str, Any], pretty_name: str | None = None) -> DatasetCardData:
    langs = _languages(manifest)
    licenses = sorted({s["catalog"]["license"]["id"] for s in manifest["sources"].values()})
    license_id = hub_license(licenses)
    registry = load_registry()
    has_code = any(code in registry and registry[code].kind == "programming" for code in langs)
    configs = [
        {"config_name": "default", "data_files": [{"split": "train", "path": "data/*/*/*.parquet"}], "default": True},
        *(
            {"config_name": lang, "data_files": [{"split": "train", "path": f"data/{lang}/*/*.parquet"}]}
            for lang in langs
        ),
    ]
    extra: dict[str, Any] = {"configs": configs}
    if license_id is None:
        extra["license_name"] = "per-source"
        extra["license_details"] = "Each source keeps its own licence: " + ", ".join(
            f"{uid}: {s['catalog']['license']['id']}" for uid, s in sorted(manifest["sources"].items())
        )
    return DatasetCardData(
        language=hub_language_codes(list(langs)),
        license=license_id or "other",
        pretty_name=pretty_name or manifest["release"],
        size_categories=[size_category(manifest["totals"]["docs_out"])],
        task_categories=["text-generation"],
        task_ids=["language-modeling"],
        multilinguality="multilingual" if len(langs) > 1 else "monolingual",
        source_datasets=["original"],
        tags=["rootstock", *(["code"] if has_code else [])],
        **extra,
    )


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "-"


def human_bytes(nbytes: int) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= size:
            return f"{nbytes / size:,.1f} {unit}"
    return f"{nbytes} B"


def _cell(value: Any) -> str:
    """A value as one Markdown table cell: a `|` or line break in it would split the row."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _stage_report(manifest: dict[str, Any], name: str) -> dict[str, Any] | None:
    for stage in manifest["stages"]:
        if stage["name"] == name and stage["settings"].get("enabled"):
            return stage.get("report", {})
    return None


def _notes(manifest: dict[str, Any]) -> dict[str, int]:
    notes: dict[str, int] = defaultdict(int)
    for cell in manifest["by_source_lang"]:
        for key, n in (cell.get("notes") or {}).items():
            notes[key] += n
    return notes


def _step_table(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Per step, summed over sources: documents in, removed (%), bytes changed, main reasons."""
    steps: dict[str, dict[str, Any]] = {}
    for source in manifest["sources"].values():
        for step in source["processing"]:
            agg = steps.setdefault(step["step"], {"in": 0, "out": 0, "bin": 0, "bout": 0, "reasons": defaultdict(int)})
            agg["in"] += step["docs_in"]
            agg["out"] += step["docs_out"]
            agg["bin"] += step.get("bytes_in", 0)
            agg["bout"] += step["bytes_out"]
            for reason, n in step["dropped"].items():
                agg["reasons"][reason] += n
    rows = []
    for name, agg in steps.items():
        removed = agg["in"] - agg["out"]
        reasons = ", ".join(f"{r} {n}" for r, n in sorted(agg["reasons"].items(), key=lambda kv: -kv[1]))
        rows.append(
            {
                "name": _cell(name),
                "docs_in": agg["in"],
                "removed": removed,
                "removed_pct": _pct(removed, agg["in"]),
                "bytes_changed": "-" if name == "ingest" else _pct(agg["bin"] - agg["bout"], agg["bin"]),
                "reasons": _cell(reasons or "-"),
            }
        )
    return rows


def _cluster_sizes(manifest: dict[str, Any], name: Callable[[str], str]) -> list[dict[str, Any]]:
    """Per language, how many duplicate clusters of each size class (counted on their survivors)."""
    classes = [size for size, _ in CLUSTER_SIZE_CLASSES]
    per_lang: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(classes, 0))
    for cell in manifest["by_source_lang"]:
        for size in classes:
            n = (cell.get("notes") or {}).get(f"dedup:clusters_{size}", 0)
            if n:
                per_lang[cell["lang"]][size] += n
    return [
        {"code": code, "name": _cell(name(code)), "sizes": [f"{counts[size]:,}" for size in classes]}
        for code, counts in sorted(per_lang.items())
    ]


def _limitations(
    manifest: dict[str, Any], langs: dict[str, dict[str, Any]], notes: dict[str, int], name: Callable[[str], str]
) -> list[str]:
    """What a reader cannot take for granted: checks that could not run, or did not."""
    limitations = []
    langid = _stage_report(manifest, "langid")
    if langid is not None:
        without_label = set(langid.get("languages_without_label", [])) | set(langid.get("declared_unverifiable", []))
        unverifiable = sorted(set(langs) & without_label)
        if unverifiable:
            limitations.append(
                "Language ID could not verify: "
                + ", ".join(f"{name(c)} (`{c}`)" for c in unverifiable)
                + " — the model has no reliable label for them, so these documents carry their source's declared "
                f"language ({notes.get('langid:unverifiable', 0):,} documents marked `lang_check = unverifiable`)."
            )
        if langid.get("page_language") == "confirm":
            limitations.append(
                "Web pages' own language claims (`<html lang>`, else `Content-Language`) were used as hints: "
                f"{notes.get('langid:page_confirmed', 0):,} documents the model scored below its routing minimum "
                "went to the page's declared language because the model's top label agreed "
                "(`lang_check = page_confirmed`); a page's claim never overrode a confident detection."
            )
    else:
        limitations.append("Language ID was not run: every language is as the source declared it.")
    if _stage_report(manifest, "quality") is None:
        limitations.append("Quality filters were not run.")
    elif _disabled_checks(manifest, langs, name):
        limitations.append(
            "Some quality checks were disabled for lack of a word list or language model "
            "(never replaced by English ones); see the table below."
        )
    for stage in ("dedup", "pii"):
        if _stage_report(manifest, stage) is None:
            limitations.append(f"The `{stage}` stage was not run.")
    if UNDETERMINED in langs:
        limitations.append(
            f"{langs[UNDETERMINED]['docs']:,} documents are in config `{UNDETERMINED}`: language not determined."
        )
    return limitations


def _langid_section(manifest: dict[str, Any], name: Callable[[str], str]) -> dict[str, Any] | None:
    """Per language: how its documents were identified (check, deciding backend) and the
    shipped policy's measured accuracy; the close-pair decisions (issue 16)."""
    report = _stage_report(manifest, "langid")
    if report is None:
        return None
    per_lang: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    docs: dict[str, int] = defaultdict(int)
    for cell in manifest["by_source_lang"]:
        docs[cell["lang"]] += cell["docs_out"]
        for key, n in (cell.get("notes") or {}).items():
            if key.startswith("langid:"):
                per_lang[cell["lang"]][key.split(":", 1)[1]] += n
    accuracy = (report.get("accuracy") or {}).get("languages") or {}

    def measured(code: str, domain: str) -> str:
        cell = (accuracy.get(code) or {}).get(f"{domain}/paragraph")
        return f"{cell['recall']:.2f} / {cell['precision']:.2f} ({cell['n']})" if cell else "–"

    rows = []
    for code in sorted(code for code, n in docs.items() if n):
        counts = per_lang.get(code, {})
        checks = {k: v for k, v in counts.items() if not k.startswith("by:")}
        backends = {k[3:]: v for k, v in counts.items() if k.startswith("by:")}
        rows.append(
            {
                "code": code,
                "name": _cell(name(code)),
                "docs": f"{docs[code]:,}",
                "checks": _cell(", ".join(f"{k} {v:,}" for k, v in sorted(checks.items())) or "-"),
                "backends": _cell(", ".join(f"{k} {v:,}" for k, v in sorted(backends.items())) or "-"),
                "udhr": measured(code, "udhr"),
                "everyday": measured(code, "everyday"),
            }
        )
    backends = report.get("backends") or {}
    summary = (report.get("accuracy") or {}).get("summary") or {}
    return {
        "policy": report.get("policy"),
        "backends": _cell(", ".join(f"{k} ({v.get('version')})" for k, v in backends.items()))
        if backends
        else _cell(f"fastText {(report.get('model') or {}).get('path', '')}"),
        "measured": [f"{k} {v['passing']}/{v['tested']}" for k, v in sorted(summary.items())],
        "rows": rows,
        "pairs": [
            {
                "langs": " / ".join(f"`{code}`" for code in pair["langs"]),
                "declared": "any member confirms it" if pair.get("verify_as_declared") else "detected as itself",
                "route": pair["route"] if pair["route"] == "separate" else f"{pair['route']} → `{pair['route_to']}`",
                "why": _cell(" ".join(str(pair.get("why", "")).split())),
            }
            for pair in report.get("close_pairs") or []
        ],
    }


def _disabled_checks(
    manifest: dict[str, Any], langs: dict[str, dict[str, Any]], name: Callable[[str], str]
) -> list[dict[str, str]]:
    quality = _stage_report(manifest, "quality") or {}
    rows = []
    for code in langs:
        disabled = quality.get("languages", {}).get(code, {}).get("disabled_checks", [])
        if disabled:
            rows.append({"code": code, "name": _cell(name(code)), "checks": _cell(", ".join(disabled))})
    return rows


def _under(path: str, root: str) -> str:
    """PATH relative to the evaluation set's ROOT (a directory's files), else its file name."""
    prefix = root.rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else posixpath.basename(path)


def _decontamination(manifest: dict[str, Any], notes: dict[str, int]) -> dict[str, Any] | None:
    """The evaluation sets checked and, per set, documents dropped and documents cut (a document
    dropped for several sets counts under each: its reason joins their names with `+`)."""
    report = _stage_report(manifest, "decontaminate")
    if report is None:
        return None
    dropped: dict[str, int] = defaultdict(int)
    for key, n in manifest["totals"]["dropped_by_reason"].items():
        if key.startswith("decontaminate:"):
            for name in key.split(":", 1)[1].split("+"):
                dropped[name] += n
    sets = [
        {
            "name": _cell(s["name"]),
            "fields": _cell(", ".join(s["fields"])),
            "files": _cell(
                ", ".join(f"{_under(f['path'], s['path'])} (sha256 {f['sha256'][:12]})" for f in s["files"])
            ),
            "languages": _cell(", ".join(s["languages"]) if s.get("languages") else "all"),
            "dropped": f"{dropped.get(s['name'], 0):,}",
            "cut": f"{notes.get('decontaminate:' + s['name'], 0):,}",
        }
        for s in report.get("eval_sets", [])
    ]
    return {
        "ngram": report.get("ngram"),
        "action": report.get("action"),
        "margin_chars": report.get("margin_chars"),
        "max_spans": report.get("max_spans"),
        "sets": sets,
        "spans": f"{notes.get('decontaminate:spans', 0):,}",
        "chars": f"{notes.get('decontaminate:chars', 0):,}",
    }


def card_variables(manifest: dict[str, Any]) -> dict[str, Any]:
    """Everything templates/card.md shows, computed from the manifest and formatted for display.

    The template only lays values out, so what the card claims can be checked against the
    manifest here. Table cells are escaped; lists of counts are joined by the template.
    """
    registry = load_registry()
    totals = manifest["totals"]
    langs = _languages(manifest)
    notes = _notes(manifest)

    def name(code: str) -> str:
        if code in registry:
            return registry[code].name
        return "undetermined" if code == UNDETERMINED else code

    per_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for cell in manifest["by_source_lang"]:
        per_source[cell["source"]][0] += cell["docs_out"]
        per_source[cell["source"]][1] += cell["bytes_out"]
    sources = []
    for uid, source in sorted(manifest["sources"].items()):
        cat = source["catalog"]
        docs, nbytes = per_source.get(uid, [0, 0])
        sources.append(
            {
                "uid": uid,
                "name": _cell(cat["name"]),
                "license": _cell(cat["license"]["id"]),
                "custodian": _cell(cat["custodian"]["name"]),
                "docs": f"{docs:,}",
                "text": human_bytes(nbytes),
                "share": _pct(nbytes, totals["bytes_out"]),
                "removal_contact": _cell(cat["removal_contact"]),
            }
        )
    languages = [
        {
            "code": code,
            "name": _cell(name(code)),
            "docs": f"{stats['docs']:,}",
            "text": human_bytes(stats["bytes"]),
            "share": _pct(stats["bytes"], totals["bytes_out"]),
            "sources": _cell(", ".join(sorted(stats["sources"]))),
        }
        for code, stats in langs.items()
    ]

    dedup = _stage_report(manifest, "dedup")
    if dedup is not None:
        dedup = {
            "scope": dedup.get("scope"),
            "removed": [
                f"{k.split(':', 1)[1]} {v:,}" for k, v in totals["dropped_by_reason"].items() if k.startswith("dedup:")
            ],
            "clustered": f"{notes.get('dedup:has_duplicates', 0):,}",
            "near": dedup.get("near"),
            "cluster_sizes": _cluster_sizes(manifest, name),
            "capped_buckets": f"{notes.get('dedup:capped_buckets', 0):,}",
            "capped_unlinked": f"{notes.get('dedup:capped_unlinked', 0):,}",
            "substring": dedup.get("substring"),
            "substring_docs": f"{notes.get('dedup:substring_docs', 0):,}",
            "substring_spans": f"{notes.get('dedup:substring_spans', 0):,}",
            "substring_bytes": human_bytes(notes.get("dedup:substring_bytes", 0)),
        }
    pii = _stage_report(manifest, "pii")
    if pii is not None:
        redactions = {k.split(":", 1)[1]: v for k, v in notes.items() if k.startswith("pii:")}
        pii = {
            "token_format": pii.get("token_format", "PI:{category}"),
            "redactions": [f"{k} {v:,}" for k, v in sorted(redactions.items())],
            "dropped": [
                f"{k.split(':', 1)[1]} {v:,}" for k, v in totals["dropped_by_reason"].items() if k.startswith("pii:")
            ],
        }

    return {
        "release": manifest["release"],
        "version": manifest["rootstock"]["version"],
        "commit": manifest["rootstock"].get("commit") or "unknown",
        "created": manifest["created"],
        "parent": manifest.get("parent"),
        "totals": {
            "docs_out": f"{totals['docs_out']:,}",
            "text_out": human_bytes(totals["bytes_out"]),
            "docs_in": f"{totals['docs_in']:,}",
            "docs_dropped": f"{totals['docs_dropped']:,}",
            "languages": len(langs),
            "sources": len(manifest["sources"]),
        },
        "sources": sources,
        "languages": languages,
        "steps": _step_table(manifest),
        "dedup": dedup,
        "pii": pii,
        "footprint": footprint_section(manifest),
        "decontamination": _decontamination(manifest, notes),
        "langid": _langid_section(manifest, name),
        "limitations": _limitations(manifest, langs, notes, name),
        "disabled_checks": _disabled_checks(manifest, langs, name),
        "domains": [
            {
                "code": code,
                "name": _cell(name(code)),
                "top": _cell(", ".join(f"{d['domain']} ({d['docs']:,})" for d in items)),
            }
            for code, items in (manifest.get("top_domains") or {}).items()
        ],
        "removals": [  # one list item each: a line break in the reason would end the item
            {
                "date": r["date"],
                "docs": f"{r['removed_docs']:,}",
                "mode": r["mode"],
                "reason": " ".join(r["reason"].split()),
            }
            for r in manifest.get("removals", [])
        ],
    }


def render_card(manifest: dict[str, Any], pretty_name: str | None = None) -> str:
    """The card's Markdown: YAML header from card_data(), body from templates/card.md."""
    card = DatasetCard.from_template(
        card_data(manifest, pretty_name), template_path=str(TEMPLATE), **card_variables(manifest)
    )
    return str(card).rstrip() + "\n"


def write_card(root: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write README.md into the release; return its file record for the manifest."""
    payload = render_card(manifest).encode("utf-8")
    with FileSystems.create(posixpath.join(root, CARD)) as handle:
        handle.write(payload)
    return {"path": CARD, "file_bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
