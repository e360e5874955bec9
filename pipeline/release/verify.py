"""`rootstock verify RELEASE`: do the files say what the manifest says, and does the manifest add up?

Three kinds of check, each a list of problems (none: the release is intact):

- files: every listed file's size and sha256, every Parquet file's row count, no file the
  manifest does not list (token-count sidecars under `tokens/` and search indexes under
  `index/` are checked on their own, against their own lists), and a tokenized mix's token
  files against their document sidecars (`token_files.check`);
- contents: per shard, the text bytes, languages and sources its rows really hold (only the
  `text`, `lang`, `source` and, for mixes, `tokens`/`mix_component` columns are read, in
  batches), and per (source, language) the documents and bytes the data shards hold;
- arithmetic: totals and drops are the sums of `by_source_lang`, each cell, each source and the
  release balance (docs_in = docs_out + dropped, with the cell's `routed_from`/`routed_to`
  terms where the manifest has them), each source's processing record chains, token counts
  add up, and the card is what `render_card` makes of the manifest, byte for byte.

Works on any file system Beam knows (local, gs://, s3://, hf:// through the fsspec bridge).
"""

from __future__ import annotations

import itertools
import json
import posixpath
from collections import defaultdict
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from rootstock.errors import ReleaseError
from rootstock.paths import is_url
from rootstock.pipeline.release.card import CARD, render_card
from rootstock.pipeline.release.manifest import schema_problems
from rootstock.pipeline.release.release import (
    FILE_LISTS,
    MANIFEST,
    Release,
    file_digest,
    relative_path,
    sidecar_digest,
    sidecar_path,
)
from rootstock.pipeline.release.search_index import index_jsons, index_problems, owned_by_index
from rootstock.pipeline.release.token_files import check as check_token_files

SCAN_BATCH_ROWS = 8192
# The processing step `rootstock refilter` appends: it re-reads the parent's kept documents and
# its rejected set, so its input is not the previous step's output; the chain restarts there.
RESTARTS_CHAIN = ("refilter",)


def _check_file(release: str, entry: dict[str, Any], problems: list[str], listed: set[str]) -> bool:
    """Size and sha256 of one listed file; False if it is missing."""
    rel = entry.get("path")
    if not isinstance(rel, str):
        problems.append(f"{MANIFEST}: a file entry without a path: {json.dumps(entry)[:200]}")
        return False
    listed.add(rel)
    path = posixpath.join(release, rel)
    if not FileSystems.exists(path):
        problems.append(f"{rel}: listed in the manifest but missing")
        return False
    size, sha = file_digest(path)
    if size != entry.get("file_bytes"):
        problems.append(f"{rel}: {size} bytes, manifest says {entry.get('file_bytes')}")
    if sha != entry.get("sha256"):
        problems.append(f"{rel}: sha256 {sha}, manifest says {entry.get('sha256')}")
    return True


class _Content:
    """What a Parquet shard really holds, from a few columns read in batches."""

    def __init__(self):
        self.rows = 0
        self.text_bytes: int | None = None
        self.languages: set[str] | None = None
        self.sources: set[str] | None = None
        self.components: set[str] | None = None
        self.tokens: int | None = None
        self.cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])  # (source, lang) → docs, bytes


def _scan(path: str) -> _Content:
    content = _Content()
    with FileSystems.open(path) as handle:
        parquet = pq.ParquetFile(handle)
        names = parquet.schema_arrow.names
        columns = [c for c in ("text", "lang", "source", "tokens", "mix_component") if c in names]
        content.rows = parquet.metadata.num_rows
        if "text" in columns:
            content.text_bytes = 0
        for attr, column in (("languages", "lang"), ("sources", "source"), ("components", "mix_component")):
            if column in columns:
                setattr(content, attr, set())
        if "tokens" in columns:
            content.tokens = 0
        if not columns:
            return content
        for batch in parquet.iter_batches(batch_size=SCAN_BATCH_ROWS, columns=columns):
            lengths = pc.binary_length(batch.column("text")) if "text" in columns else None
            if lengths is not None:
                content.text_bytes += int(pc.sum(lengths).as_py() or 0)
            for attr, column in (("languages", "lang"), ("sources", "source"), ("components", "mix_component")):
                if column in columns:
                    getattr(content, attr).update(
                        v for v in pc.unique(batch.column(column)).to_pylist() if v is not None
                    )
            if "tokens" in columns:
                content.tokens += int(pc.sum(batch.column("tokens")).as_py() or 0)
            if lengths is not None and "lang" in columns and "source" in columns:
                table = pa.table({"s": batch.column("source"), "l": batch.column("lang"), "b": lengths})
                grouped = table.group_by(["s", "l"]).aggregate([("b", "count"), ("b", "sum")]).to_pylist()
                for row in grouped:
                    cell = content.cells[(row["s"], row["l"])]
                    cell[0] += row["b_count"]
                    cell[1] += row["b_sum"] or 0
    return content


def _compare_content(entry: dict[str, Any], content: _Content, problems: list[str]) -> None:
    rel = entry["path"]
    if content.rows != entry.get("rows"):
        problems.append(f"{rel}: {content.rows} rows, manifest says {entry.get('rows')}")
    if "text_bytes" in entry and content.text_bytes is not None and content.text_bytes != entry["text_bytes"]:
        problems.append(f"{rel}: {content.text_bytes} text bytes, manifest says {entry['text_bytes']}")
    for key, found in (
        ("languages", content.languages),
        ("sources", content.sources),
        ("components", content.components),
    ):
        if key not in entry or found is None:
            continue
        claimed = entry[key]
        # An empty shard (every part-i-of-M exists) holds nothing; its list names its group.
        if (content.rows and sorted(found) != sorted(claimed)) or not found <= set(claimed):
            problems.append(f"{rel}: holds {key} {sorted(found)}, manifest says {claimed}")
    if "tokens" in entry and content.tokens is not None and content.tokens != entry["tokens"]:
        problems.append(f"{rel}: {content.tokens} tokens in its `tokens` column, manifest says {entry['tokens']}")
    if rel.startswith(("data/", "rejected/")) and rel.count("/") >= 3 and "languages" in entry and "sources" in entry:
        lang, source = rel.split("/")[1:3]
        if entry["languages"] != [lang] or entry["sources"] != [source]:
            problems.append(
                f"{rel}: its path says {lang}/{source}, manifest says languages {entry['languages']}, "
                f"sources {entry['sources']}"
            )


def _count_problems(manifest: dict[str, Any], data: dict[str, _Content]) -> list[str]:
    """Does the manifest add up, and agree with what the data shards hold? (kind: release)"""
    problems: list[str] = []
    totals, cells = manifest["totals"], manifest["by_source_lang"]

    # Totals are the sums of the cells.
    for key in ("docs_in", "bytes_in", "docs_out", "bytes_out"):
        summed = sum(c[key] for c in cells)
        if totals[key] != summed:
            problems.append(f"totals.{key} is {totals[key]}, by_source_lang adds up to {summed}")
    by_reason: dict[str, int] = defaultdict(int)
    for c in cells:
        for d in c["dropped"]:
            by_reason[f"{d['step']}:{d['reason']}"] += d["docs"]
    if totals["docs_dropped"] != sum(by_reason.values()):
        problems.append(
            f"totals.docs_dropped is {totals['docs_dropped']}, by_source_lang drops add up to {sum(by_reason.values())}"
        )
    for key in sorted(set(by_reason) | set(totals["dropped_by_reason"])):
        recorded, summed = totals["dropped_by_reason"].get(key, 0), by_reason.get(key, 0)
        if recorded != summed:
            problems.append(f"totals.dropped_by_reason[{key}] is {recorded}, by_source_lang drops add up to {summed}")
    if totals["docs_in"] != totals["docs_out"] + totals["docs_dropped"]:
        problems.append(
            f"totals: docs_in {totals['docs_in']} != docs_out {totals['docs_out']} + docs_dropped {totals['docs_dropped']}"
        )

    # Balance per source (language ID moves documents between languages, never between sources),
    # and per cell where the manifest records the routed documents.
    per_source: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    index = {(c["source"], c["lang"]): c for c in cells}
    for c in cells:
        dropped = sum(d["docs"] for d in c["dropped"])
        acc = per_source[c["source"]]
        acc[0] += c["docs_in"]
        acc[1] += c["docs_out"]
        acc[2] += dropped
        if "routed_from" in c or "routed_to" in c:
            routed_in, routed_out = c.get("routed_from") or {}, c.get("routed_to") or {}
            if c["docs_in"] + sum(routed_in.values()) != c["docs_out"] + dropped + sum(routed_out.values()):
                problems.append(
                    f"by_source_lang {c['source']}/{c['lang']}: docs_in {c['docs_in']} + routed in "
                    f"{sum(routed_in.values())} != docs_out {c['docs_out']} + dropped {dropped} + routed out "
                    f"{sum(routed_out.values())}"
                )
            for lang, n in routed_out.items():
                there = (index.get((c["source"], lang)) or {}).get("routed_from") or {}
                if there.get(c["lang"], 0) != n:
                    problems.append(
                        f"by_source_lang {c['source']}/{c['lang']}: routed_to[{lang}] is {n}, "
                        f"{c['source']}/{lang} has routed_from[{c['lang']}] {there.get(c['lang'], 0)}"
                    )
    for source, (docs_in, docs_out, dropped) in sorted(per_source.items()):
        if docs_in != docs_out + dropped:
            problems.append(
                f"by_source_lang, source {source}: docs_in {docs_in} != docs_out {docs_out} + dropped {dropped}"
            )
        if source not in manifest["sources"]:
            problems.append(f"by_source_lang: source {source} is not in the manifest's sources")

    # The data shards hold what the cells say was written.
    held: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for content in data.values():
        for key, (docs, nbytes) in content.cells.items():
            held[key][0] += docs
            held[key][1] += nbytes
    for key in sorted(set(held) | set(index)):
        cell = index.get(key, {"docs_out": 0, "bytes_out": 0})
        docs, nbytes = held.get(key, [0, 0])
        if (cell["docs_out"], cell["bytes_out"]) != (docs, nbytes):
            problems.append(
                f"by_source_lang {key[0]}/{key[1]}: docs_out {cell['docs_out']}, bytes_out {cell['bytes_out']}; "
                f"the data shards hold {docs} documents, {nbytes} text bytes"
            )
    shard_bytes = sum(c.text_bytes or 0 for c in data.values())
    if data and all(c.text_bytes is not None for c in data.values()) and totals["bytes_out"] != shard_bytes:
        problems.append(f"totals.bytes_out is {totals['bytes_out']}, the data shards hold {shard_bytes} text bytes")

    for uid, source in manifest["sources"].items():
        problems += _record_problems(uid, source.get("processing") or [], [c for c in cells if c["source"] == uid])
    return problems


def _record_problems(uid: str, record: list[dict[str, Any]], cells: list[dict[str, Any]]) -> list[str]:
    """A source's processing record chains, each step balances, and its last run agrees with the cells."""
    where = f"sources.{uid}.processing"
    if not record:
        return [f"{where}: empty, but the source has documents"] if any(c["docs_in"] for c in cells) else []
    problems = []
    if record[0].get("step") != "ingest":
        problems.append(f"{where}: starts with {record[0].get('step')!r}, not 'ingest'")
    start = 0
    for i, (before, step) in enumerate(itertools.pairwise(record), start=1):
        if step["step"] in RESTARTS_CHAIN:
            start = i
            continue
        if step["docs_in"] != before["docs_out"]:
            problems.append(
                f"{where}.{i} ({step['step']}): docs_in {step['docs_in']}, the step before put out {before['docs_out']}"
            )
        if "bytes_in" in step and step["bytes_in"] != before["bytes_out"]:
            problems.append(
                f"{where}.{i} ({step['step']}): bytes_in {step['bytes_in']}, the step before put out {before['bytes_out']}"
            )
    for i, step in enumerate(record):
        if step["step"] not in RESTARTS_CHAIN and step["docs_in"] - step["docs_out"] != sum(step["dropped"].values()):
            problems.append(
                f"{where}.{i} ({step['step']}): docs_in {step['docs_in']} - docs_out {step['docs_out']} "
                f"!= dropped {sum(step['dropped'].values())}"
            )
    # The cells count the last run (a refilter counts only itself): its first step and its last.
    run, last = record[start], record[-1]
    if run["docs_in"] != sum(c["docs_in"] for c in cells):
        problems.append(
            f"{where}.{start} ({run['step']}): docs_in {run['docs_in']}, by_source_lang has {sum(c['docs_in'] for c in cells)}"
        )
    for key in ("docs_out", "bytes_out"):
        if last[key] != sum(c[key] for c in cells):
            problems.append(
                f"{where}.{len(record) - 1} ({last['step']}): {key} {last[key]}, by_source_lang has {sum(c[key] for c in cells)}"
            )
    cell_drops: dict[tuple[str, str], int] = defaultdict(int)
    for c in cells:
        for d in c["dropped"]:
            cell_drops[(d["step"], d["reason"])] += d["docs"]
    for i, step in enumerate(record[start:], start=start):
        if step["step"] in RESTARTS_CHAIN:
            continue
        name = "input" if step["step"] == "ingest" else step["step"]
        in_cells = {reason: n for (s, reason), n in cell_drops.items() if s == name}
        if {k: v for k, v in step["dropped"].items() if v} != {k: v for k, v in in_cells.items() if v}:
            problems.append(f"{where}.{i} ({step['step']}): dropped {step['dropped']}, by_source_lang has {in_cells}")
    return problems


def _token_problems(
    where: str, section: dict[str, Any], tokens: dict[str, Any], shards: list[dict[str, Any]]
) -> list[str]:
    """Token counts add up: total, per language and per (source, language), from per-shard counts."""
    problems = []
    missing = [s["path"] for s in shards if not isinstance(tokens.get(s["path"]), int)]
    if missing:
        return [f"{where}: no token count for {len(missing)} data shard(s), e.g. {missing[0]}"]
    extra = sorted(set(tokens) - {s["path"] for s in shards})
    if extra:
        problems.append(f"{where}: token counts for {len(extra)} file(s) that are not data shards, e.g. {extra[0]}")
    by_lang: dict[str, int] = defaultdict(int)
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for s in shards:  # a release's data shard holds one language of one source
        n, (lang,), (source,) = tokens[s["path"]], s["languages"], s["sources"]
        by_lang[lang] += n
        cell = cells[(source, lang)]
        cell[0] += s["rows"]
        cell[1] += n
        cell[2] += s.get("text_bytes", 0)
    total = sum(tokens[s["path"]] for s in shards)
    if section.get("total") != total:
        problems.append(f"{where}: total is {section.get('total')}, the per-shard counts add up to {total}")
    recorded_langs = {k: v for k, v in (section.get("by_lang") or {}).items() if v}
    if recorded_langs != {k: v for k, v in by_lang.items() if v}:
        problems.append(f"{where}: by_lang is {section.get('by_lang')}, the per-shard counts give {dict(by_lang)}")
    recorded_cells = {(c.get("source"), c.get("lang")): c for c in section.get("by_source_lang") or []}
    for key in sorted(set(recorded_cells) | set(cells), key=str):
        docs, n, nbytes = cells.get(key, [0, 0, 0])
        got = recorded_cells.get(key, {})
        if (got.get("docs", 0), got.get("tokens", 0), got.get("text_bytes", 0)) != (docs, n, nbytes):
            problems.append(
                f"{where}: by_source_lang {key[0]}/{key[1]} says {got.get('docs', 0)} documents, {got.get('tokens', 0)} "
                f"tokens, {got.get('text_bytes', 0)} text bytes; the shards give {docs}, {n}, {nbytes}"
            )
    return problems


def _sidecar_problems(release: Release, rel: str) -> list[str]:
    """A token-count sidecar: its own sha256, the manifest it was counted against, its arithmetic."""
    with FileSystems.open(release.file(rel)) as handle:
        sidecar = json.loads(handle.read())
    problems = []
    if sidecar.get("sha256") != sidecar_digest(sidecar):
        problems.append(f"{rel}: content sha256 {sidecar_digest(sidecar)}, the file says {sidecar.get('sha256')}")
    if sidecar.get("manifest_sha256") != release.manifest_sha256:
        problems.append(
            f"{rel}: counted for manifest sha256 {sidecar.get('manifest_sha256')}, this manifest is "
            f"{release.manifest_sha256}; count again with `rootstock count-tokens`"
        )
    tokenizer_sha = (sidecar.get("tokenizer") or {}).get("sha256")
    if not isinstance(tokenizer_sha, str) or sidecar_path(tokenizer_sha) != rel:
        problems.append(f"{rel}: holds counts of tokenizer sha256 {tokenizer_sha}, which belong in another file")
    tokens = {s.get("path"): s.get("tokens") for s in sidecar.get("shards") or []}
    return problems + _token_problems(rel, sidecar, tokens, release.entries("shards"))


def _card_problems(release: Release) -> list[str]:
    """The card is generated from the manifest alone: regenerate it and compare bytes."""
    try:
        expected = render_card(release.manifest).encode("utf-8")
    except Exception as err:  # a manifest edited past what the card needs (the schema check names it)
        return [f"{CARD}: cannot be generated from {MANIFEST} ({type(err).__name__}: {err})"]
    path = release.file(release.manifest["card"].get("path", CARD))
    if not FileSystems.exists(path):
        return []  # reported as missing already
    with FileSystems.open(path) as handle:
        actual = handle.read()
    if actual == expected:
        return []
    ours, theirs = expected.decode("utf-8").splitlines(), actual.decode("utf-8", "replace").splitlines()
    line = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), min(len(ours), len(theirs)))
    shown = lambda lines: repr(lines[line][:160]) if line < len(lines) else "(end of file)"  # noqa: E731
    return [
        f"{CARD}: not the card {MANIFEST} gives (first difference, line {line + 1}: the file has {shown(theirs)}, "
        f"the manifest gives {shown(ours)}); one of them was edited"
    ]


def _mix_problems(manifest: dict[str, Any]) -> list[str]:
    """A mix's totals are the sums of its shards (which were checked against their contents)."""
    totals, shards = manifest.get("totals") or {}, manifest.get("shards", [])
    problems = []
    for key, summed in (
        ("achieved_tokens", sum(s.get("tokens", 0) for s in shards)),
        ("text_bytes", sum(s.get("text_bytes", 0) for s in shards)),
    ):
        if key in totals and totals[key] != summed:
            problems.append(f"totals.{key} is {totals[key]}, the shards add up to {summed}")
    return problems


def verify(release: str) -> tuple[dict[str, Any] | None, list[str]]:
    """(manifest, problems); no problems means the release is intact and its manifest adds up."""
    try:
        opened = Release.open(release)
    except ReleaseError as err:
        return None, [str(err)]
    release, manifest = opened.path, opened.manifest
    problems, listed = [], set()
    schema_ok = True
    if opened.kind == "release":
        found = schema_problems(manifest)
        problems += [f"{MANIFEST}: {p}" for p in found]
        schema_ok = not found
    data: dict[str, _Content] = {}
    for key in FILE_LISTS:
        for entry in manifest.get(key) or []:
            if not isinstance(entry, dict) or not _check_file(release, entry, problems, listed) or "rows" not in entry:
                continue  # malformed, missing, or not Parquet (a JSON sidecar): size and sha256 only
            try:
                content = _scan(posixpath.join(release, entry["path"]))
            except Exception as err:
                problems.append(f"{entry['path']}: not readable as Parquet ({err})")
                continue
            _compare_content(entry, content, problems)
            if key == "shards":
                data[entry["path"]] = content
    if isinstance(manifest.get("card"), dict):
        _check_file(release, manifest["card"], problems, listed)
    sidecars = opened.sidecar_files()
    indexes = [posixpath.dirname(p) for p in index_jsons(opened)]  # their files: index_problems
    found = FileSystems.match([posixpath.join(release, "**")])[0].metadata_list
    for meta in found:
        rel = posixpath.relpath(meta.path, release) if not is_url(release) else relative_path(release, meta.path)
        if rel != MANIFEST and rel not in listed and rel not in sidecars and not owned_by_index(rel, indexes):
            problems.append(f"{rel}: present but not listed in the manifest")
    shards = [s for s in manifest.get("shards") or [] if isinstance(s, dict)]
    docs_out = sum(s.get("rows", 0) for s in shards)
    if (manifest.get("totals") or {}).get("docs_out") != docs_out:
        problems.append(
            f"totals.docs_out is {(manifest.get('totals') or {}).get('docs_out')}, the data shards hold {docs_out}"
        )
    try:
        if opened.kind == "release" and schema_ok:
            problems += _count_problems(manifest, data)
            if isinstance(manifest.get("tokens"), dict):
                tokens = {s["path"]: s.get("tokens") for s in shards}
                problems += _token_problems(f"{MANIFEST}: tokens", manifest["tokens"], tokens, shards)
            if "card" in manifest:
                problems += _card_problems(opened)
        elif opened.kind == "mix":
            problems += _mix_problems(manifest)
            problems += check_token_files(manifest, release)
        for rel in sidecars:
            problems += _sidecar_problems(opened, rel)
        problems += index_problems(opened)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        problems.append(f"{MANIFEST}: cannot check its counts, it is malformed ({type(err).__name__}: {err})")
    return manifest, problems
