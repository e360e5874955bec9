"""Resolving a mix spec's components (driver side, no Beam): releases, shards, columns, tokens."""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

import rootstock.sources.filesystems  # noqa: F401  (registers hf://, az://, http(s)://)
from rootstock.errors import MixSpecError, ReleaseError
from rootstock.filters.tokens import Tokenizer
from rootstock.paths import is_url
from rootstock.pipeline.mix.plan import (
    NO_CLASS,
    Available,
)
from rootstock.pipeline.mix.spec import Component, MixSpec
from rootstock.pipeline.release.columns import SCHEMA
from rootstock.pipeline.release.release import Release

MIX_COLUMNS = [
    pa.field("mix_component", pa.string(), nullable=False),
    pa.field("epoch", pa.int32(), nullable=False),
    pa.field("tokens", pa.int64(), nullable=False),
]
TOKEN_BATCH = 256


@dataclass
class Resolved:
    component: Component
    manifest: dict[str, Any]
    manifest_sha256: str
    shards: list[dict[str, Any]]  # selected shard entries of the release manifest
    schema: pa.Schema
    rehydrate: bool

    @property
    def name(self) -> str:
        return self.component.name

    def shard_paths(self) -> list[str]:
        return [posixpath.join(self.component.release, s["path"]) for s in self.shards]


def resolve(spec: MixSpec) -> list[Resolved]:
    """Every component's manifest and selected shards; clear errors for anything that selects nothing."""
    out: list[Resolved] = []
    claimed: dict[tuple[str, str, str], str] = {}
    for index, component in enumerate(spec.components):
        where = f"{spec.path}: components.{index} ({component.name})"
        try:
            release = Release.open(component.release)
        except ReleaseError as err:
            raise MixSpecError(f"{where}: release: {err}") from None
        manifest, sha = release.manifest, release.manifest_sha256
        if manifest.get("kind") == "mix":
            raise MixSpecError(f"{where}: release: {component.release} is a mix, not a release")
        shards = [s for s in manifest.get("shards", []) if s.get("rows")]
        langs = sorted({s["lang"] for s in shards})
        srcs = sorted({s["source"] for s in shards})
        for field, wanted, have in (("languages", component.languages, langs), ("sources", component.sources, srcs)):
            absent = sorted(set(wanted or []) - set(have))
            if absent:
                raise MixSpecError(
                    f"{where}: {field}: release {manifest.get('release')!r} ({component.release}) has no documents "
                    f"for {absent}; it has {have}"
                )
        chosen = [
            s
            for s in shards
            if (component.languages is None or s["lang"] in component.languages)
            and s["lang"] not in component.exclude_languages
            and (component.sources is None or s["source"] in component.sources)
            and s["source"] not in component.exclude_sources
        ]
        if not chosen:
            raise MixSpecError(
                f"{where}: selects no documents of release {manifest.get('release')!r} ({component.release})"
            )
        for s in chosen:
            key = (
                component.release if is_url(component.release) else os.path.normpath(component.release),
                s["lang"],
                s["source"],
            )
            if key in claimed and claimed[key] != component.name:
                raise MixSpecError(
                    f"{where}: takes {s['source']}/{s['lang']} of {component.release}, which component "
                    f"{claimed[key]!r} takes too; narrow one of them (languages, sources, exclude_*)"
                )
            claimed[key] = component.name
        with FileSystems.open(posixpath.join(component.release, chosen[0]["path"])) as handle:
            schema = pq.read_schema(handle)
        rehydrate = spec.rehydrates(component)
        if rehydrate and "dup_cluster_size" not in schema.names:
            raise MixSpecError(
                f"{where}: rehydrate: release {manifest.get('release')!r} has no dup_cluster_size column "
                "(its run had no dedup stage); set `rehydrate: false` on this component"
            )
        out.append(Resolved(component, manifest, sha, chosen, schema, rehydrate))
    return out


def union_schema(resolved: list[Resolved]) -> pa.Schema:
    """The release columns first, then every other column in first-seen order; mix columns last."""
    fields: dict[str, pa.Field] = {f.name: f for f in SCHEMA}
    order = list(SCHEMA.names)
    for r in resolved:
        for f in r.schema:
            if f.name in {m.name for m in MIX_COLUMNS}:
                raise MixSpecError(f"component {r.name}: its release already has a column {f.name!r}, which a mix adds")
            known = fields.get(f.name)
            if known is None:
                fields[f.name] = f
                order.append(f.name)
            elif known.type != f.type:
                raise MixSpecError(
                    f"component {r.name}: column {f.name!r} is {f.type}, another component has {known.type}; "
                    "mix releases with the same schema version"
                )
    for name in order:  # a column some component lacks is null there
        if not all(name in r.schema.names for r in resolved):
            fields[name] = fields[name].with_nullable(True)
    return pa.schema([*(fields[n] for n in order), *MIX_COLUMNS])


def recorded_tokens(r: Resolved, tokenizer: Tokenizer) -> tuple[str, list[Available]] | None:
    """(where, available tokens) the release recorded for this tokenizer; None if it recorded none.

    `rootstock count-tokens` writes a sidecar (`tokens/<sha256[:16]>.json`), valid only for the
    manifest sha256 it names; `rootstock run --tokenizer` puts them into the manifest itself.
    Rehydration needs tokens per cluster-size class, which neither records.
    """
    if r.rehydrate:
        return None
    sidecar = Release(r.component.release, r.manifest, r.manifest_sha256).token_sidecar(tokenizer.sha256)
    if sidecar is not None:
        where, per_shard = "sidecar", {s.get("path"): s.get("tokens") for s in sidecar.get("shards") or []}
    else:
        section = r.manifest.get("tokens")
        if not isinstance(section, dict) or (section.get("tokenizer") or {}).get("sha256") != tokenizer.sha256:
            return None
        where, per_shard = "manifest", {s["path"]: s.get("tokens") for s in r.manifest.get("shards", [])}
    if not all(isinstance(per_shard.get(s["path"]), int) for s in r.shards):
        return None
    per_lang: dict[str, tuple[int, int]] = {}
    for s in r.shards:
        docs, tokens = per_lang.get(s["lang"], (0, 0))
        per_lang[s["lang"]] = (docs + s["rows"], tokens + per_shard[s["path"]])
    return where, [Available(r.name, lang, NO_CLASS, docs, tokens) for lang, (docs, tokens) in sorted(per_lang.items())]


def manifest_tokens(r: Resolved, tokenizer: Tokenizer) -> list[Available] | None:
    """Available tokens the release recorded with this tokenizer (sidecar or manifest); None if none."""
    found = recorded_tokens(r, tokenizer)
    return None if found is None else found[1]
