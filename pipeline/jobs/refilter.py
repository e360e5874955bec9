"""`rootstock refilter RELEASE THRESHOLDS.yaml --output NEW`: new thresholds, no recompute.

Every document of a release (kept or in its rejected set) carries its language-ID score and
quality metrics, so moving a threshold is a pass over Parquet (tag, then filter): no language
ID, no metrics, no re-reading of sources. A document the quality stage dropped and the new
thresholds pass never met the stages after quality, so it goes through them here, against
what the parent kept: dedup against the parent's stored signatures (its documents always
survive) and PII with each source's policy. A stage that cannot be re-run that way makes the
refilter refuse. Documents other stages rejected stay rejected. Each source's processing
record gets the refilter's own run, stage by stage, saying what ran and how.

Only documents in the parent's rejected set can come back: with `keep_rejected: sample` the
manifest says how many quality drops could not be reconsidered.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import posixpath
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from pydantic import ValidationError

from rootstock.catalog.registry import UNDETERMINED, load_registry
from rootstock.errors import ConfigError, ReleaseError
from rootstock.filters import code as code_filters
from rootstock.filters import quality as q
from rootstock.filters.langid.decide import ROUTE, VERIFY
from rootstock.pipeline.beam.parquet import ReadParquetRows
from rootstock.pipeline.beam.shards import WriteShards
from rootstock.pipeline.config import RunConfig
from rootstock.pipeline.jobs.execute import execute
from rootstock.pipeline.release.columns import REJECTED_COLUMNS, text_bytes
from rootstock.pipeline.release.counts import processing_records
from rootstock.pipeline.release.manifest import build_manifest
from rootstock.pipeline.release.release import Release
from rootstock.pipeline.release.write import work_dir, write_release
from rootstock.pipeline.stages.base import REJECTED, RunContext, Timed
from rootstock.pipeline.stages.base import rejected as mark_rejected
from rootstock.pipeline.stages.dedup import Deduplicate, DedupSettings
from rootstock.pipeline.stages.dedup.settings import TemplateLines
from rootstock.pipeline.stages.dedup.signatures import SIGNATURE_SCHEMA, SIGNATURES
from rootstock.pipeline.stages.langid import LangIdSettings, MinScores
from rootstock.pipeline.stages.pii import PiiSettings, RedactRejected, protect_fields
from rootstock.pipeline.stages.quality import QualitySettings, ThresholdResolver, lid_mode
from rootstock.strict import read_yaml, validation_problems

# `lang_min_score` (registry code → minimum top-1 LID score) goes to stages.langid.min_score.
REFILTER_KEYS = ("thresholds", "sources", "code", "code_sources", "lang_min_score")
QUALITY_KEYS = ("thresholds", "sources", "code", "code_sources")
# Stages the refilter re-runs for readmitted documents; a later stage of another package cannot be.
# dedup compares them with the parent's stored signatures, pii applies the source's policy; an
# INDEPENDENT stage decides each document from it and fixed inputs alone (decontaminate: the
# evaluation sets), so running it on the readmitted documents alone is exact.
INDEPENDENT = ("decontaminate",)
RERUN_AFTER_QUALITY = ("dedup", *INDEPENDENT, "pii")
READMITTED = "refilter_readmitted"  # transient field on a readmitted document (not a column)
PARENT_SIGNATURES = f"{SIGNATURES}/parent"  # the parent's signatures of documents still kept
# Read notes: the parent's rejected documents by the stage that dropped them (what could come back).
READ_QUALITY, READ_LANGID = "refilter:read_quality_rejects", "refilter:read_langid_rejects"


def _deep_merge(base: dict, update: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in update.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_thresholds(path: str | Path) -> dict[str, Any]:
    data = read_yaml(Path(path), "thresholds file")
    unknown = sorted(set(data) - set(REFILTER_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {unknown}; a thresholds file may set {list(REFILTER_KEYS)}")
    lang_min = data.get("lang_min_score", {})
    if not isinstance(lang_min, dict):
        raise ConfigError(problems=[(str(path), "lang_min_score", "a mapping of language code → minimum score")])
    registry = load_registry()
    bad = [code for code in lang_min if code != UNDETERMINED and code not in registry]
    if bad:
        raise ConfigError(problems=[(str(path), f"lang_min_score.{code}", "not a registry language") for code in bad])
    return data


# --- what the parent ran, and how each later stage is re-run -----------------------------------


def _enabled_stages(parent: dict[str, Any]) -> list[str]:
    """The parent's enabled stages in the order they ran (its manifest's `stages` record)."""
    return [s["name"] for s in parent["stages"] if (s.get("settings") or {}).get("enabled")]


def _check_rerunnable(release: str, parent: dict[str, Any], steps: list[str], config: RunConfig) -> list[str]:
    """The parent's signature files for dedup; refuses what cannot be re-run for readmitted documents."""
    after = steps[steps.index("quality") + 1 :]
    others = [name for name in after if name not in RERUN_AFTER_QUALITY]
    if others:
        raise ConfigError(
            f"{release}: stage(s) {others} ran after quality, and refilter can re-run only "
            f"{list(RERUN_AFTER_QUALITY)} for the documents it readmits; rerun `rootstock run` with the new thresholds"
        )
    signatures: list[str] = []
    if "dedup" in after:
        dedup = config.stages.dedup
        if dedup.substring.enabled:
            raise ConfigError(
                f"{release}: its dedup stage removed repeated substrings, which needs the kept documents' text, "
                "not their stored signatures; rerun `rootstock run` with the new thresholds"
            )
        signatures = [a["path"] for a in parent.get("artifacts", []) if a["path"].startswith(SIGNATURES + "/")]
        if parent["shards"] and not signatures:
            raise ConfigError(
                f"{release}: its dedup stage ran but the release holds no stored signatures ({SIGNATURES}/), so "
                "readmitted documents cannot be deduplicated against what it kept; rerun `rootstock run` instead"
            )
    if "pii" in after and not _pii_actions(parent):
        raise ConfigError(f"{release}: its pii stage recorded no per-source policies; cannot apply them again")
    return signatures


def _as_resolved(settings, report: dict[str, Any]):
    """SETTINGS with the file paths the parent resolved (its config records them as written,
    relative to a run config the refilter does not have; decontaminate's report has them)."""
    if isinstance(report.get("eval_sets"), list) and hasattr(settings, "eval_sets"):
        paths = {spec.get("name"): spec.get("path") for spec in report["eval_sets"]}
        sets = [spec.model_copy(update={"path": paths.get(spec.name, spec.path)}) for spec in settings.eval_sets]
        return settings.model_copy(update={"eval_sets": sets})
    return settings


def _later_stages(release: str, parent: dict[str, Any], config: RunConfig, after: list[str]):
    """The stages after quality, built for the readmitted documents (pii aside: _ReadmittedPii)."""
    # The stages read only uid and priority of the entries: the parent's catalogue snapshots have them.
    entries = [
        SimpleNamespace(uid=uid, priority=s["catalog"].get("priority", 0)) for uid, s in parent["sources"].items()
    ]
    context = RunContext(config, None, entries=entries)
    built = {}
    for name in after:
        if name == "dedup":  # against the parent (and what it was against); template lines: _parameters
            settings: DedupSettings = config.stages.dedup
            settings = settings.model_copy(
                update={"template_lines": TemplateLines(enabled=False), "against": [release, *settings.against]}
            )
            built[name] = Deduplicate(settings, context)
        elif name in INDEPENDENT:
            theirs = next((s.get("report") for s in parent["stages"] if s["name"] == name), None) or {}
            stage = config.stages.classes[name](_as_resolved(config.stages[name], theirs), context)
            if json.dumps(stage.report(), sort_keys=True, default=str) != json.dumps(
                theirs, sort_keys=True, default=str
            ):
                raise ConfigError(
                    f"{release}: the inputs of its {name} stage changed since it ran (its report differs: "
                    f"e.g. an evaluation file's sha256), so readmitted documents would not be checked alike; "
                    "restore them or rerun `rootstock run`"
                )
            built[name] = stage
    return context, built


def _pii_actions(parent: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Source → PII category → redact | drop | keep, as the parent's pii stage applied them."""
    reports = [s.get("report") or {} for s in parent["stages"] if s["name"] == "pii"]
    actions = dict((reports[0] if reports else {}).get("policies") or {})
    for uid, source in parent["sources"].items():  # else the processing record's pii step
        for step in source.get("processing") or []:
            if uid not in actions and step["step"] == "pii" and "category_actions" in step.get("parameters", {}):
                actions[uid] = step["parameters"]["category_actions"]
    return actions


def _parameters(step: str, changes: dict[str, Any], parent: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """What the refilter did in place of STEP, for the processing record."""
    if step == "langid":
        return {
            "ran": "stored_scores",
            "min_score": changes.get("lang_min_score", {}),
            "note": "the stored top-1 score against each language's minimum; no language ID. A routed document "
            "under its minimum is dropped (not moved to und: its metrics were computed for its language). "
            "Documents language ID rejected carry no metrics and stay rejected.",
        }
    if step == "quality":
        return {"ran": "stored_metrics", "thresholds": {k: v for k, v in changes.items() if k in QUALITY_KEYS}}
    if step in INDEPENDENT:
        return {
            "ran": "readmitted",
            "note": "on the readmitted documents alone (its decision for a document depends on nothing else); "
            "the parent's kept documents pass as it checked them",
        }
    if step == "dedup":
        dedup_settings = later["dedup"].settings
        return {
            "ran": "readmitted_against_stored_signatures",
            "against": dedup_settings.against,  # the parent first, then the releases it was against
            "steps": [n for n, on in (("exact", dedup_settings.exact), ("url", dedup_settings.url)) if on]
            + (["near"] if dedup_settings.near.enabled else []),
            "not_run": {"template_lines": "line frequencies are per source over all its documents, not stored"},
            "note": "readmitted documents against each other and the stored signatures of the parent's kept "
            "documents, which always survive; the parent's kept documents pass as they were deduplicated. A "
            "readmitted document is compared as the rejected set stored it: with its PII redacted",
        }
    if step == "pii":
        return {
            "ran": "readmitted_with_source_policy",
            "note": "readmitted documents: PII found now plus what the parent's rejected set redacted "
            "(pii_counts), under the source's policy (a `drop` category drops the document; a `keep` "
            "category stays redacted: the value was never stored); the parent's kept documents pass as "
            "they were protected",
        }
    return {"ran": "carried", "note": "what this stage dropped in the parent stays dropped; the rest passed it"}


# --- the graph ---------------------------------------------------------------------------------


class _Reassess(beam.DoFn):
    """Each document read → `kept` (the parent kept it and still would), `readmitted` (the
    quality stage dropped it, the new thresholds pass it) or REJECTED (dropped by a stage that
    is not re-run, or now by the stored LID score or quality metrics)."""

    def __init__(self, quality: QualitySettings, langid: LangIdSettings | None):
        self.quality, self.langid = quality, langid

    def setup(self):
        self.resolver = ThresholdResolver(self.quality, self.langid)
        self.min_score = MinScores(self.langid) if self.langid is not None and self.langid.enabled else None
        self.programming = {lang.code for lang in load_registry().programming()}

    def process(self, row: dict[str, Any]):
        doc = dict(row)  # the read row is counted too: never change it in place
        stage = doc.pop("drop_stage", None)
        reason = doc.pop("drop_reason", None)
        if stage not in (None, "quality"):
            yield beam.pvalue.TaggedOutput(REJECTED, mark_rejected(doc, stage, reason))
            return
        failure = self._lid_failure(doc)
        if failure:
            yield beam.pvalue.TaggedOutput(REJECTED, mark_rejected(doc, "langid", failure))
            return
        if doc["lang"] in self.programming:
            failure = code_filters.code_first_failure(
                doc["code_metrics"], doc["license"], self.resolver.code(doc["source"])
            )
        else:
            th = self.resolver.natural(doc["source"], doc["lang"], lid_mode(doc))
            failure = q.first_failure(doc["quality"], th)
        if failure:
            yield beam.pvalue.TaggedOutput(REJECTED, mark_rejected(doc, "quality", failure))
        elif stage == "quality":
            yield beam.pvalue.TaggedOutput(READMITTED, {**doc, READMITTED: True})
        else:
            yield doc

    def _lid_failure(self, doc: dict[str, Any]) -> str | None:
        """`low_score` when the stored top-1 score is under the (new) minimum where LID checked it."""
        mode, score = lid_mode(doc), doc.get("lang_score")
        if self.min_score is None or mode is None or score is None:
            return None
        # langid compares the detected language's minimum (a close pair can confirm a declaration)
        top = (doc.get("lang_topk") or [{}])[0].get("lang") if mode == VERIFY else None
        return "low_score" if score < self.min_score(top or doc["lang"], ROUTE if mode == ROUTE else VERIFY) else None


class _ReadmittedPii(beam.DoFn):
    """A readmitted document under its source's PII policy: what the parent's rejected set
    already redacted (its `pii_counts`) counts as found, with what is found now."""

    def __init__(self, settings: PiiSettings, actions: dict[str, dict[str, str]]):
        self.settings, self.actions = settings, actions

    def process(self, doc: dict[str, Any]):
        policy = self.actions.get(doc["source"]) or {}
        wanted = {c for c, action in policy.items() if action != "keep"}
        out, _, found = protect_fields(doc, wanted, self.settings) if wanted else (dict(doc), [], {})
        counts = Counter({item["category"]: item["count"] for item in doc.get("pii_counts") or []})
        counts.update(found)
        out["pii_counts"] = [{"category": c, "count": n} for c, n in sorted(counts.items()) if n]
        dropped = sorted(c for c, n in counts.items() if n and policy.get(c) == "drop")
        if dropped:
            yield beam.pvalue.TaggedOutput(REJECTED, mark_rejected(out, "pii", f"contains_{dropped[0].lower()}"))
        else:
            yield out


def _stash_counts(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "_pii_before": doc.get("pii_counts") or []}


def _merge_counts(doc: dict[str, Any]) -> dict[str, Any]:
    doc = dict(doc)
    counts = Counter({item["category"]: item["count"] for item in doc.pop("_pii_before")})
    counts.update({item["category"]: item["count"] for item in doc.get("pii_counts") or []})
    return {**doc, "pii_counts": [{"category": c, "count": n} for c, n in sorted(counts.items()) if n]}


class _GuardRejected(beam.PTransform):
    """The pii stage's redaction of the rejected set (a document the parent kept under a `keep`
    policy may be dropped now), keeping the counts of what an earlier pass already redacted."""

    def __init__(self, settings: PiiSettings):
        super().__init__()
        self.settings = settings

    def expand(self, docs):
        return (
            docs
            | "Stash" >> beam.Map(_stash_counts)
            | "Redact" >> RedactRejected("pii", self.settings, {})
            | "Merge" >> beam.Map(_merge_counts)
        )


def _light(exit_stage: str | None):
    """A document as what the step counts need: source, language, bytes, where it left."""
    return lambda doc: {"source": doc["source"], "lang": doc["lang"], "text_bytes": text_bytes(doc), "exit": exit_stage}


def _passed(steps: list[str], i: int):
    """Did a document that left at `exit` (None: written) pass steps[i]?"""
    later = set(steps[i + 1 :])
    return lambda doc: doc["exit"] is None or doc["exit"] in later


def _kept_signatures(p, release: str, files: list[str], kept, staging: str, config: RunConfig):
    """The parent's stored signatures of the documents this release still holds, written under
    PARENT_SIGNATURES, so a later run or refilter can deduplicate against this release."""
    rows = (
        p
        | "ParentSignatureFiles" >> beam.Create([posixpath.join(release, f) for f in files])
        | "ReadParentSignatures" >> ReadParquetRows()
        | "SignatureById" >> beam.Map(lambda row: (row["id"], row))
    )
    still = kept | "StillKeptIds" >> beam.Map(lambda doc: (doc["id"], None))
    return (
        {"row": rows, "kept": still}
        | "JoinStillKept" >> beam.CoGroupByKey()
        | "StillKeptSignatures" >> beam.FlatMap(lambda kv: list(kv[1]["row"]) if kv[1]["kept"] else [])
        | "WriteParentSignatures"
        >> WriteShards(
            staging,
            config.shards,
            SIGNATURE_SCHEMA,
            size=lambda row: 4 * len(row.get("signature") or ()) + 64,
            scratch=work_dir(staging),
            prefix=PARENT_SIGNATURES,
        )
    )


# --- the job -----------------------------------------------------------------------------------


def merge_changes(config_data: dict[str, Any], changes: dict[str, Any], where: str) -> dict[str, Any]:
    """A release's run config (as its manifest records it) with a thresholds file's CHANGES:
    quality keys under stages.quality, `lang_min_score` under stages.langid.min_score."""
    update: dict[str, Any] = {"quality": {k: v for k, v in changes.items() if k in QUALITY_KEYS}}
    if changes.get("lang_min_score"):
        if not config_data["stages"].get("langid", {}).get("enabled"):
            raise ConfigError(problems=[(where, "lang_min_score", "the parent release ran no language ID")])
        update["langid"] = {"min_score": changes["lang_min_score"]}
    return _deep_merge(config_data, {"stages": update})


def _config(parent: dict[str, Any], changes: dict[str, Any], thresholds_file: str, output: str, release_id):
    config_data = merge_changes(parent["config"], changes, str(thresholds_file))
    config_data["release"] = release_id or f"{parent['release']}-refiltered"
    config_data["output"] = output
    try:
        return RunConfig.model_validate(config_data)
    except ValidationError as err:
        raise ConfigError("invalid thresholds", problems=validation_problems(err, str(thresholds_file))) from None


def _reports(parent: dict[str, Any], config: RunConfig, changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The parent's stage reports; langid's table of minimums as the new ones resolve."""
    reports = {s["name"]: s["report"] for s in parent["stages"] if "report" in s}
    table = (reports.get("langid") or {}).get("min_score")
    if changes.get("lang_min_score") and isinstance(table, dict):
        reports["langid"] = {**reports["langid"], "min_score": MinScores(config.stages.langid).table(table)}
    return reports


def _note_total(counts: list[dict[str, Any]], name: str) -> int:
    return sum(row["docs"] for row in counts if row["step"] == "note" and row["reason"] == name)


def _completeness(parent: dict[str, Any], counts: list[dict[str, Any]], changes: dict[str, Any]) -> dict[str, Any]:
    """Could every document the new thresholds would pass come back? If not, why and how many."""
    mode = parent.get("keep_rejected", {}).get("mode")
    dropped = parent["totals"]["dropped_by_reason"]
    quality_dropped = sum(n for key, n in dropped.items() if key.startswith("quality:"))
    read = _note_total(counts, READ_QUALITY)
    incomplete = []
    if read < quality_dropped:
        incomplete.append(
            {
                "reason": "rejected_set_sampled" if mode == "sample" else "rejected_set_not_kept",
                "detail": f"the parent kept {'a sample of' if mode == 'sample' else 'none of'} its rejected "
                f"documents (keep_rejected: {mode}): {quality_dropped - read} of {quality_dropped} quality drops "
                "were not reconsidered",
                "parent_keep_rejected": parent.get("keep_rejected"),
                "not_reconsidered": quality_dropped - read,
            }
        )
    langid_read = _note_total(counts, READ_LANGID)
    if changes.get("lang_min_score") and langid_read:
        incomplete.append(
            {
                "reason": "langid_rejects_without_metrics",
                "detail": f"{langid_read} document(s) language ID rejected have no quality metrics, "
                "so a lower minimum cannot readmit them",
                "not_reconsidered": langid_read,
            }
        )
    return {
        "complete": not incomplete,
        "incomplete": incomplete,
        "parent_quality_dropped": quality_dropped,
        "quality_rejects_read": read,
    }


def refilter(
    release: str,
    thresholds_file: str,
    output: str,
    beam_args: list[str] | None = None,
    *,
    release_id: str | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    try:
        parent_release = Release.open(release, kind="release")
    except ReleaseError as err:
        raise ConfigError(str(err)) from None
    parent = parent_release.manifest
    if not parent["config"]["stages"]["quality"]["enabled"]:
        raise ConfigError(f"{release}: its quality stage was off, so there are no metrics to re-apply")
    changes = load_thresholds(thresholds_file)
    config = _config(parent, changes, thresholds_file, output, release_id)
    resolver = ThresholdResolver(config.stages.quality, config.stages.langid)
    registry = load_registry()
    try:
        resolver.check([lang.code for lang in registry.natural()], sorted(parent["sources"]))
    except ConfigError as err:  # the fields are the thresholds file's, under stages.quality
        problems = [(str(thresholds_file), p.field.removeprefix("stages.quality."), p.reason) for p in err.problems]
        raise ConfigError("invalid thresholds", problems=problems) from None
    steps = _enabled_stages(parent)
    signatures = _check_rerunnable(release, parent, steps, config)
    after = steps[steps.index("quality") + 1 :]

    files = [posixpath.join(release, s["path"]) for s in parent["shards"] + parent.get("rejected_shards", [])]
    schema_source = parent["shards"] or parent.get("rejected_shards", [])
    if not schema_source:
        raise ConfigError(f"{release}: the release has no shards to refilter")
    with FileSystems.open(posixpath.join(release, schema_source[0]["path"])) as handle:
        schema = pq.read_schema(handle)
    schema = pa.schema([f for f in schema if f.name not in {c.name for c in REJECTED_COLUMNS}])

    context, later = _later_stages(release, parent, config, after)
    pii_settings: PiiSettings | None = config.stages.pii if "pii" in after else None
    langid = config.stages.langid if "langid" in steps else None

    def read_notes(doc):
        stage = doc.get("drop_stage")
        return [READ_QUALITY] if stage == "quality" else [READ_LANGID] if stage == "langid" else []

    def notes(doc):
        out = [("refilter:readmitted", 1)] if doc.get(READMITTED) else []
        if "langid" in steps and doc.get("lang_check"):
            out.append((f"langid:{doc['lang_check']}", 1))
        for stage in later.values():  # dedup notes clusters on survivors: a parent's kept doc has its size
            out += stage.notes({**doc, "dup_cluster_size": doc.get("dup_cluster_size") or 1})
        return out + [(f"pii:{item['category']}", item["count"]) for item in doc.get("pii_counts") or []]

    def build_graph(p, staging):
        docs = p | "Shards" >> beam.Create(files) | "ReadRows" >> ReadParquetRows()
        results = docs | "Reassess" >> beam.ParDo(
            Timed(_Reassess(config.stages.quality, langid), "refilter")
        ).with_outputs(REJECTED, READMITTED, main="kept")
        readmitted, dropped, artifacts = results[READMITTED], [results[REJECTED]], []
        context.staging = staging
        for name in after:  # in the parent's order
            if name == "pii":
                fn = _ReadmittedPii(pii_settings, _pii_actions(parent))
                out = readmitted | "Pii" >> beam.ParDo(fn).with_outputs(REJECTED, main="kept")
                readmitted = out.kept
                dropped.append(out[REJECTED])
                continue
            out = readmitted | f"Readmitted[{name}]" >> later[name]
            readmitted = out.kept
            dropped += out.rejected if isinstance(out.rejected, list) else [out.rejected]
            if out.artifacts is not None:
                artifacts.append(out.artifacts)
            if name == "dedup":
                artifacts.append(_kept_signatures(p, release, signatures, results.kept, staging, config))
        kept = (results.kept, readmitted) | "AllKept" >> beam.Flatten()
        fates = [kept | "FateKept" >> beam.Map(_light(None))]
        fates += [
            part | f"Fate[{i}]" >> beam.Map(lambda d: _light(d["drop_stage"])(d)) for i, part in enumerate(dropped)
        ]
        fates = fates | "AllFates" >> beam.Flatten()
        run_steps = ["refilter", *steps]
        stage_outputs = [
            (name, fates | f"Passed[{name}]" >> beam.Filter(_passed(run_steps, i))) for i, name in enumerate(run_steps)
        ]
        write_release(
            p,
            staging,
            config,
            schema,
            read=docs,
            kept=kept,
            dropped=dropped,
            skipped=p | "NoSkips" >> beam.Create([]),
            notes=notes,
            read_notes=read_notes,
            artifacts=artifacts,
            stage_outputs=stage_outputs,
            rejected_guards=[("pii", _GuardRejected(pii_settings))] if pii_settings is not None else [],
        )

    def make_manifest(shards, counts, runner):
        complete = _completeness(parent, counts, changes)
        run = {"thresholds": changes, "parent": parent["release"], "complete": complete["complete"]}
        ours = processing_records(
            counts,
            [("refilter", lambda source: run)]
            + [(name, lambda source, n=name: _parameters(n, changes, parent, later)) for name in steps],
        )
        processing = {
            uid: [*source["processing"], *ours.get(uid, [])[1:]]  # ours[0] is ingest: the parent's run read them
            for uid, source in parent["sources"].items()
        }
        return build_manifest(
            config=config,
            sources={uid: source["catalog"] for uid, source in parent["sources"].items()},
            processing=processing,
            parent=parent_release.parent_record(),
            shards=shards,
            counts=counts,
            runner=runner,
            schema=[{"name": f.name, "type": str(f.type)} for f in schema],
            stage_reports=_reports(parent, config, changes),
            extra={
                "refilter": {
                    "thresholds": changes,
                    "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    **complete,
                    "readmitted": _note_total(counts, "refilter:readmitted"),
                    "stages": {name: _parameters(name, changes, parent, later)["ran"] for name in steps},
                },
            },
        )

    return execute(output, beam_args, overwrite, build_graph, make_manifest)
