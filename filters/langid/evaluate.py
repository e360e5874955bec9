"""Scoring language ID on labelled text: per-language recall, precision and main confusions.

What `rootstock langid evaluate` and benchmarks/langid.py print. A predictor is anything with
`predict_batch(texts) -> list[Prediction]` (an `Ensemble`; one backend is an ensemble of one,
`single_backend`). A text is *routed* to the predicted language when its score reaches the
prediction's minimum (`Prediction.min_score`), else to `und`; recall is the share of a
language's texts routed to it, precision the share of texts routed to it that are in it.
Scores are kept apart per domain (file) and per kind (paragraph, 60-character snippet).
Declared-language verification is scored too: genuine documents kept, impostors rejected.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from rootstock.catalog.registry import UNDETERMINED, load_registry
from rootstock.errors import ConfigError
from rootstock.filters.langid.decide import ROUTE, VERIFIED, VERIFY, decide
from rootstock.filters.langid.identifier import Prediction
from rootstock.filters.langid.policy import BackendSpec, Ensemble, LangIdPolicy, PolicySpec

# The shipped sets, in a repository checkout (catalog/ is not part of the installed package).
SHIPPED = Path(__file__).resolve().parents[2] / "catalog" / "sample" / "langid"
TARGET = 0.95  # ROOTS-style bar: recall and precision both at least this


@dataclass(frozen=True)
class Item:
    id: str
    lang: str
    text: str
    kind: str  # paragraph | snippet
    split: str  # calibration | evaluation; empty: the line named none (it belongs to both)
    source: str
    domain: str


# A user's labelled data: at most this many problems are listed before giving up.
MAX_PROBLEMS = 20
SNIPPET_CHARS = 60
# Scripts written without spaces: snippets are cut at any character.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def snippets(text: str, count: int = 2) -> list[str]:
    """Up to `count` 60-character pieces (start, middle), cut at a space where the script has spaces."""
    out: list[str] = []
    starts = [0, len(text) // 2][:count]
    for start in starts:
        if start and not _UNSPACED.search(text[start : start + 5]):
            space = text.find(" ", start)
            if space < 0:
                continue
            start = space + 1
        piece = text[start : start + SNIPPET_CHARS + 1]
        if len(piece) > SNIPPET_CHARS:
            cut = piece.rfind(" ", 0, SNIPPET_CHARS + 1)
            piece = piece[:cut] if cut >= SNIPPET_CHARS // 2 and not _UNSPACED.search(piece) else piece[:SNIPPET_CHARS]
        piece = piece.strip()
        if len(piece) >= 20 and piece not in out:
            out.append(piece)
    return out


def data_files(paths: Iterable[str | Path] | str | Path | None = None) -> list[Path]:
    """The JSONL(.gz) files PATHS name (a folder stands for its *.jsonl* files); default the shipped sets."""
    if paths is None:
        if not SHIPPED.is_dir():
            raise ConfigError(
                problems=[(str(SHIPPED), None, "the shipped evaluation sets are only in a repository checkout")],
                hint='give labelled JSONL files: one {"lang", "text"} object per line',
            )
        return sorted(SHIPPED.glob("*.jsonl.gz"))
    if isinstance(paths, str | Path):
        paths = [paths]
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(path.glob("*.jsonl*"))
            if not found:
                raise ConfigError(problems=[(str(path), None, "a folder without *.jsonl or *.jsonl.gz files")])
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise ConfigError(problems=[(str(path), None, "no such file")])
    return files


def load_items(
    paths: Iterable[str | Path] | str | Path | None = None, split: str | None = None, derive_snippets: bool = False
) -> list[Item]:
    """Labelled items from JSONL(.gz) files (the domain is the file's name), default the shipped sets.

    Each line is `{"lang", "text"}` plus, optionally, `id`, `kind` (paragraph | snippet), `split`
    (calibration | evaluation; a line without one belongs to both) and `source`. `lang` is any
    code the registry resolves (`swh` is `sw`). With `derive_snippets`, a file without snippet
    lines gets two 60-character snippets of each paragraph, as the shipped sets have.
    Problems (bad JSON, a missing or unknown field) are a ConfigError naming file, line and field.
    """
    registry = load_registry()
    items: list[Item] = []
    problems: list[tuple[str, str | None, str]] = []
    for path in data_files(paths):
        domain = path.name.split(".")[0]
        opener = gzip.open if path.suffix == ".gz" else open
        found: list[Item] = []
        try:
            with opener(path, "rt", encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    item, problem = _item(line, domain, registry)
                    if problem is not None:
                        problems.append(
                            (str(path), f"line {number}" + (f": {problem[0]}" if problem[0] else ""), problem[1])
                        )
                        if len(problems) >= MAX_PROBLEMS:
                            raise ConfigError(f"labelled data: the first {MAX_PROBLEMS} problems", problems=problems)
                    elif split is None or item.split in ("", split):
                        found.append(item)
        except (OSError, EOFError, UnicodeDecodeError) as err:
            problems.append((str(path), None, f"cannot be read ({err})"))
            continue
        if derive_snippets and not any(item.kind == "snippet" for item in found):
            found += [
                replace(item, id=f"{item.id}/s{i}", kind="snippet", text=piece)
                for item in found
                for i, piece in enumerate(snippets(item.text))
            ]
        items += found
    if problems:
        raise ConfigError("labelled data", problems=problems)
    if not items:
        raise ConfigError(
            "labelled data: no items" + (f" in the {split} split" if split else ""),
            problems=[(", ".join(map(str, data_files(paths))), None, "nothing to score")],
        )
    return items


def _item(line: str, domain: str, registry) -> tuple[Item | None, tuple[str, str] | None]:
    """One JSONL line as an Item, or (field, what is wrong)."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        return None, ("", f"not valid JSON ({err.msg})")
    if not isinstance(row, dict):
        return None, ("", "a line is a JSON object")
    for name in ("lang", "text"):
        if not isinstance(row.get(name), str) or not row[name]:
            return None, (name, "missing or not a non-empty string")
    lang = registry.resolve(row["lang"])
    if lang is None:
        return None, ("lang", f"{row['lang']!r} is not a language code (ISO 639 or BCP-47)")
    kind = row.get("kind", "paragraph")
    if kind not in ("paragraph", "snippet"):
        return None, ("kind", f"{kind!r}: paragraph or snippet")
    split = row.get("split", "")
    if split not in ("", "calibration", "evaluation"):
        return None, ("split", f"{split!r}: calibration or evaluation")
    item = Item(
        id=str(row.get("id", "")),
        lang=lang,
        text=row["text"],
        kind=kind,
        split=split,
        source=str(row.get("source", "")),
        domain=domain,
    )
    return item, None


def single_backend(name: str, spec: BackendSpec, **kwargs) -> Ensemble:
    """One backend alone, as an ensemble of one (its minimums: ROOTS's, the calibration's, its default)."""
    return Ensemble(LangIdPolicy(backends={name: spec}, policy=PolicySpec(primary=name)), **kwargs)


def routed(prediction: Prediction) -> str:
    """Where a prediction sends an undeclared text: its language, or `und` below the minimum."""
    if prediction.lang is None:
        return UNDETERMINED
    minimum = prediction.min_score if prediction.min_score is not None else 0.0
    return prediction.lang if prediction.score >= minimum else UNDETERMINED


@dataclass
class LangScore:
    n: int = 0
    correct: int = 0
    predicted: int = 0
    confusions: Counter = field(default_factory=Counter)

    @property
    def recall(self) -> float:
        return self.correct / self.n if self.n else 0.0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else (1.0 if self.n == 0 else 0.0)

    def passes(self, target: float = TARGET) -> bool:
        return self.n > 0 and self.recall >= target and self.precision >= target


def score(truths: list[str], routes: list[str], merged: dict[str, str] | None = None) -> dict[str, LangScore]:
    """Per language: items, correct, predicted (routed to it), and what its items were routed to.

    `merged[lang]` is where the policy's close-pair decisions send `lang` (`Ensemble.merged()`):
    a text routed there counts as right for it (Malay routed to Indonesian by the id/ms decision).
    """
    merged = merged or {}
    out: dict[str, LangScore] = {}
    for truth, got in zip(truths, routes, strict=True):
        truth = merged.get(truth, truth)
        row = out.setdefault(truth, LangScore())
        row.n += 1
        if got == truth:
            row.correct += 1
        else:
            row.confusions[got] += 1
        if got != UNDETERMINED:
            out.setdefault(got, LangScore()).predicted += 1
    return out


@dataclass
class Report:
    """Scores of one predictor: (domain, kind) → language → LangScore, plus verification."""

    name: str
    scores: dict[tuple[str, str], dict[str, LangScore]]  # by the policy's close-pair decisions
    strict: dict[tuple[str, str], dict[str, LangScore]] = field(default_factory=dict)  # every language apart
    verification: dict[tuple[str, str], dict[str, tuple[float, float]]] = field(default_factory=dict)
    # (domain, kind) → language → which backend decided its texts (and how: primary, consulted, ...)
    deciders: dict[tuple[str, str], dict[str, Counter]] = field(default_factory=dict)

    def passing(self, domain: str, kind: str = "paragraph", langs: Iterable[str] | None = None) -> list[str]:
        table = self.scores.get((domain, kind), {})
        wanted = set(langs) if langs is not None else set(table)
        return sorted(lang for lang, row in table.items() if lang in wanted and row.passes())

    def tested(self, domain: str, kind: str = "paragraph", langs: Iterable[str] | None = None) -> list[str]:
        table = self.scores.get((domain, kind), {})
        wanted = set(langs) if langs is not None else set(table)
        return sorted(lang for lang, row in table.items() if lang in wanted and row.n > 0)


def evaluate(predictor, items: list[Item], name: str = "", verify: bool = True) -> Report:
    """Score `predictor` on `items`, grouped by (domain, kind)."""
    predictions = predictor.predict_batch([item.text for item in items]) if items else []
    groups: dict[tuple[str, str], list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault((item.domain, item.kind), []).append(i)
    report = Report(name, {})
    for key, indices in sorted(groups.items()):
        truths = [items[i].lang for i in indices]
        preds = [predictions[i] for i in indices]
        routes = [routed(p) for p in preds]
        merged = predictor.merged() if isinstance(predictor, Ensemble) else {}
        report.scores[key] = score(truths, routes, merged)
        report.strict[key] = score(truths, routes)
        deciders: dict[str, Counter] = {}
        for truth, p in zip(truths, preds, strict=True):
            deciders.setdefault(truth, Counter())[p.backend or "-"] += 1
        report.deciders[key] = deciders
        if verify and isinstance(predictor, Ensemble):
            report.verification[key] = verification(predictor, truths, preds)
    return report


def verification(
    ensemble: Ensemble, truths: list[str], predictions: list[Prediction]
) -> dict[str, tuple[float, float]]:
    """Declared-language checks per language: (share of genuine texts kept, share of impostors rejected).

    Every text is declared as its own language (genuine) and as each other language of the set
    (impostor), and `decide` verifies it with the policy's verify minimums and close pairs.
    """
    covered = frozenset(ensemble.coverage())
    verify_as = ensemble.verify_as()
    langs = sorted(set(truths))

    def minimum_for(prediction):
        return lambda code, mode: ensemble.min_score(code, mode, prediction.backend or ensemble.primary)

    out = {}
    for lang in langs:
        if lang not in covered:
            continue
        kept = genuine = rejected = impostors = 0
        for truth, prediction in zip(truths, predictions, strict=True):
            decision = decide(lang, [lang], prediction, covered, minimum_for(prediction), verify_as=verify_as)
            ok = decision.check == VERIFIED and decision.reject is None
            if truth == lang:
                genuine += 1
                kept += ok
            elif truth not in verify_as.get(lang, ()):
                impostors += 1
                rejected += not ok
        out[lang] = (kept / genuine if genuine else 0.0, rejected / impostors if impostors else 1.0)
    return out


def roots_languages() -> list[str]:
    return [lang.code for lang in load_registry().natural() if lang.roots]


def format_table(report: Report, domain: str, kind: str, langs: Iterable[str] | None = None) -> str:
    """A text table: language, items, recall, precision, pass, main confusions (and verification)."""
    table = report.scores.get((domain, kind), {})
    langs = list(langs) if langs is not None else sorted(lang for lang, row in table.items() if row.n)
    verification = report.verification.get((domain, kind), {})
    lines = [f"{'lang':6} {'n':>4} {'recall':>6} {'prec':>6} {'ok':2}  {'keep':>5} {'rej':>5}  main confusions"]
    for lang in langs:
        row = table.get(lang)
        if row is None or row.n == 0:
            lines.append(f"{lang:6} {0:>4} {'-':>6} {'-':>6} {'':2}  untested in this domain")
            continue
        keep, rej = verification.get(lang, (None, None))
        confusions = ", ".join(f"{code} {count}" for code, count in row.confusions.most_common(3))
        lines.append(
            f"{lang:6} {row.n:>4} {row.recall:>6.2f} {row.precision:>6.2f} {'✓' if row.passes() else '✗':2}  "
            f"{'-' if keep is None else f'{keep:.2f}':>5} {'-' if rej is None else f'{rej:.2f}':>5}  {confusions}"
        )
    return "\n".join(lines)


def summary(report: Report, langs: Iterable[str] | None = None) -> str:
    """One line per (domain, kind): languages passing the 0.95 bar out of those tested."""
    langs = list(langs) if langs is not None else None
    lines = []
    for domain, kind in sorted(report.scores):
        passed, tested = report.passing(domain, kind, langs), report.tested(domain, kind, langs)
        lines.append(
            f"{report.name} {domain:9} {kind:9} {len(passed):>2}/{len(tested):<2} at ≥{TARGET} recall and precision"
        )
    return "\n".join(lines)


__all__ = [
    "ROUTE",
    "SHIPPED",
    "TARGET",
    "VERIFY",
    "Item",
    "LangScore",
    "Report",
    "evaluate",
    "format_table",
    "load_items",
    "roots_languages",
    "routed",
    "score",
    "single_backend",
    "summary",
    "verification",
]
