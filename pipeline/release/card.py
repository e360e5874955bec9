"""The release's dataset card (README.md): Hub metadata plus what a reader must know.

Generated from the manifest only, so the card cannot claim anything the manifest does not
record, and re-generating it (after a removal request, say) is a pure function. The YAML
header makes the release loadable per language with `datasets.load_dataset(DIR, "<lang>")`
and valid on the Hugging Face Hub; the body is the ROOTS-style data card: sources and
licences, per-language sizes, what each step removed, and how to ask for removal.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections import defaultdict
from typing import Any

from apache_beam.io.filesystems import FileSystems
from huggingface_hub import DatasetCard, DatasetCardData

from rootstock.catalog.registry import UNDETERMINED, load_registry

CARD = "README.md"

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


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in rows]
    return "\n".join(lines)


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


def _step_table(manifest: dict[str, Any]) -> list[list[Any]]:
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
        bytes_note = "-" if name == "ingest" else _pct(agg["bin"] - agg["bout"], agg["bin"])
        rows.append([name, agg["in"], removed, _pct(removed, agg["in"]), bytes_note, reasons or "-"])
    return rows


def card_body(manifest: dict[str, Any]) -> str:
    registry = load_registry()
    totals = manifest["totals"]
    langs = _languages(manifest)
    name = lambda code: registry[code].name if code in registry else ("undetermined" if code == UNDETERMINED else code)  # noqa: E731
    out: list[str] = [f"# {manifest['release']}", ""]
    parent = manifest.get("parent")
    out += [
        f"A multilingual text corpus curated with [rootstock](https://github.com/rootstock/rootstock) "
        f"{manifest['rootstock']['version']} (commit `{manifest['rootstock'].get('commit') or 'unknown'}`) on "
        f"{manifest['created']}: **{totals['docs_out']:,} documents, {human_bytes(totals['bytes_out'])} of UTF-8 text** in "
        f"{len(langs)} languages from {len(manifest['sources'])} sources. "
        f"{totals['docs_dropped']:,} of {totals['docs_in']:,} input documents were removed; every removal is counted "
        f"by step and reason in `manifest.json`, which also lists every file with its sha256 "
        f"(check them with `rootstock verify`).",
        "",
    ]
    if parent:
        out += [f"Derived from release `{parent['release']}` (manifest sha256 `{parent['manifest_sha256']}`).", ""]
    out += [
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        'ds = load_dataset("PATH_OR_REPO", "fi")   # one configuration per language; "default" has all',
        "```",
        "",
        "Every row keeps its provenance: `source` (catalogue uid), `url`, `source_doc_id`, `license`, "
        "`input_file`/`input_row` and `retrieved_at`; stage columns say why it was kept "
        "(`lang_score`, `quality`, `dup_cluster_id`, `pii_counts`, ...).",
        "",
    ]

    out += ["## Sources", ""]
    per_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for cell in manifest["by_source_lang"]:
        per_source[cell["source"]][0] += cell["docs_out"]
        per_source[cell["source"]][1] += cell["bytes_out"]
    rows = []
    for uid, source in sorted(manifest["sources"].items()):
        cat = source["catalog"]
        docs, nbytes = per_source.get(uid, [0, 0])
        rows.append(
            [
                f"`{uid}`",
                cat["name"],
                cat["license"]["id"],
                cat["custodian"]["name"],
                f"{docs:,}",
                human_bytes(nbytes),
                _pct(nbytes, totals["bytes_out"]),
            ]
        )
    out += [_table(["uid", "name", "licence", "custodian", "documents", "text", "share of bytes"], rows), ""]

    out += ["## Languages", ""]
    rows = [
        [
            f"`{code}`",
            name(code),
            f"{s['docs']:,}",
            human_bytes(s["bytes"]),
            _pct(s["bytes"], totals["bytes_out"]),
            ", ".join(sorted(s["sources"])),
        ]
        for code, s in langs.items()
    ]
    out += [_table(["config", "language", "documents", "text", "share of bytes", "sources"], rows), ""]

    out += [
        "## What each step removed",
        "",
        "Documents in and removed per step, summed over sources (per-source records with every parameter are in "
        "`manifest.json` under `sources.<uid>.processing`). *Bytes changed* is text removed from documents that "
        "were kept or dropped at that step (template lines, PII redaction) plus the dropped documents' bytes.",
        "",
        _table(["step", "documents in", "removed", "removed %", "bytes changed", "reasons"], _step_table(manifest)),
        "",
    ]

    notes = _notes(manifest)
    dedup = _stage_report(manifest, "dedup")
    if dedup is not None:
        removed = {k: v for k, v in totals["dropped_by_reason"].items() if k.startswith("dedup:")}
        near = dedup.get("near")
        out += [
            "## Deduplication",
            "",
            f"Scope: `{dedup.get('scope')}`. Removed: "
            + (", ".join(f"{k.split(':', 1)[1]} {v:,}" for k, v in removed.items()) or "nothing")
            + f". {notes.get('dedup:has_duplicates', 0):,} kept documents stand for a cluster of duplicates "
            "(`dup_cluster_size` > 1)."
            + (
                f" Near duplicates: MinHash, Jaccard ≥ {near['threshold']} on {near['ngram']}-grams, "
                f"{near['bands']} bands × {near['rows']} rows."
                if near
                else ""
            ),
            "",
        ]
    pii = _stage_report(manifest, "pii")
    if pii is not None:
        counts = {k.split(":", 1)[1]: v for k, v in notes.items() if k.startswith("pii:")}
        dropped = {k: v for k, v in totals["dropped_by_reason"].items() if k.startswith("pii:")}
        out += [
            "## Personal information",
            "",
            "Redactions in kept documents, by category (replaced by `"
            + pii.get("token_format", "PI:{category}")
            + "`): "
            + (", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())) or "none")
            + ". "
            + "Documents dropped under a source's `drop` policy: "
            + (", ".join(f"{k.split(':', 1)[1]} {v:,}" for k, v in dropped.items()) or "none")
            + ". "
            "Detection is pattern based (e-mail, IP, phone, payment card, IBAN, national ids, user handles and keys); "
            "names and addresses are not detected.",
            "",
        ]

    langid = _stage_report(manifest, "langid")
    quality = _stage_report(manifest, "quality")
    out += ["## Known limitations", ""]
    limitations = []
    if langid is not None:
        present = set(langs)
        unverifiable = sorted(
            present & (set(langid.get("languages_without_label", [])) | set(langid.get("declared_unverifiable", [])))
        )
        if unverifiable:
            limitations.append(
                "Language ID could not verify: "
                + ", ".join(f"{name(c)} (`{c}`)" for c in unverifiable)
                + f" — the model has no reliable label for them, so these documents carry their source's declared "
                f"language ({notes.get('langid:unverifiable', 0):,} documents marked `lang_check = unverifiable`)."
            )
    else:
        limitations.append("Language ID was not run: every language is as the source declared it.")
    disabled_rows = []
    if quality is not None:
        for code in langs:
            disabled = quality.get("languages", {}).get(code, {}).get("disabled_checks", [])
            if disabled:
                disabled_rows.append([f"`{code}`", name(code), ", ".join(disabled)])
        if disabled_rows:
            limitations.append(
                "Some quality checks were disabled for lack of a word list or language model "
                "(never replaced by English ones); see the table below."
            )
    else:
        limitations.append("Quality filters were not run.")
    for stage in ("dedup", "pii"):
        if _stage_report(manifest, stage) is None:
            limitations.append(f"The `{stage}` stage was not run.")
    if "und" in langs:
        limitations.append(f"{langs['und']['docs']:,} documents are in config `und`: language not determined.")
    out += [f"- {item}" for item in limitations] + [""]
    if disabled_rows:
        out += [
            "Quality checks disabled per language:",
            "",
            _table(["config", "language", "disabled checks"], disabled_rows),
            "",
        ]

    out += [
        "## Removal requests",
        "",
        "If you own content in this corpus and want it removed, write to the source's removal contact below with the "
        "URLs or ids of the documents. Maintainers remove them with `rootstock remove RELEASE --urls FILE "
        "--reason TEXT --output NEW` (or `--ids`, or `--source UID` for a whole source): the new release drops the "
        "documents and their near-duplicate copies, and its manifest records the request without the removed text.",
        "",
        _table(
            ["source", "removal contact"],
            [[f"`{uid}`", s["catalog"]["removal_contact"]] for uid, s in sorted(manifest["sources"].items())],
        ),
        "",
    ]
    for removal in manifest.get("removals", []):
        out.append(
            f"- {removal['date']}: {removal['removed_docs']:,} documents removed ({removal['mode']}): {removal['reason']}"
        )
    return "\n".join(out).rstrip() + "\n"


def render_card(manifest: dict[str, Any], pretty_name: str | None = None) -> str:
    data = card_data(manifest, pretty_name)
    return str(DatasetCard(f"---\n{data.to_yaml()}\n---\n\n{card_body(manifest)}"))


def write_card(root: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write README.md into the release; return its file record for the manifest."""
    payload = render_card(manifest).encode("utf-8")
    with FileSystems.create(posixpath.join(root, CARD)) as handle:
        handle.write(payload)
    return {"path": CARD, "file_bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
