"""Which stages exist, in which order they run, and how a run config names them.

The built-in stages run in BUILTIN order, however a config lists them (YAML writers sort keys).
Any other stage comes from a package: either named by a `use:` key in its run-config entry
(`my_package.stages:MyStage`), or registered under the `rootstock.stages` entry-point group
with the name the config uses. It runs right after the stage its `after:` key names, else
after the stage listed before it (first, if it is listed first); it is validated by its own
settings model and recorded in the manifest (class, distribution and version) like the
built-ins.
"""

from __future__ import annotations

import difflib
import importlib
from importlib import metadata
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from rootstock.errors import ConfigError
from rootstock.pipeline.stages.base import RunContext, Stage, StageSettings
from rootstock.pipeline.stages.clean import Clean
from rootstock.pipeline.stages.decontaminate import Decontaminate
from rootstock.pipeline.stages.dedup import Deduplicate
from rootstock.pipeline.stages.langid import LanguageId
from rootstock.pipeline.stages.pii import ProtectPii
from rootstock.pipeline.stages.quality import Quality

# clean first: ROOTS cleaned each source before any filtering (see pipeline/stages/clean.py).
# decontaminate between dedup and pii (why: pipeline/stages/decontaminate.py).
BUILTIN: tuple[type[Stage], ...] = (Clean, LanguageId, Quality, Deduplicate, Decontaminate, ProtectPii)
BUILTIN_NAMES = tuple(stage.name for stage in BUILTIN)
ENTRY_POINT_GROUP = "rootstock.stages"
USE = "use"  # the run-config key naming a stage class of another package
AFTER = "after"  # … and the stage it runs after (default: the one listed before it)


def _import(path: str) -> Any:
    """`package.module:Class` or `package.module.Class` → the object."""
    module, sep, attr = path.partition(":")
    if not sep:
        module, _, attr = path.rpartition(".")
    if not module or not attr:
        raise ValueError(f"{path!r} is not `package.module:Class`")
    try:
        obj = importlib.import_module(module)
    except ImportError as err:
        raise ValueError(f"cannot import {module!r} ({err})") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"{module!r} has no {attr!r}") from None
    return obj


def _entry_point_names() -> list[str]:
    return [point.name for point in metadata.entry_points(group=ENTRY_POINT_GROUP)]


def _entry_point(name: str) -> metadata.EntryPoint | None:
    found = metadata.entry_points(group=ENTRY_POINT_GROUP, name=name)
    return next(iter(found), None)


def stage_class(name: str, use: str | None = None) -> type[Stage]:
    """The Stage class a run-config entry NAME (with its optional `use:` value) stands for."""
    builtin = {stage.name: stage for stage in BUILTIN}
    if use is None and name in builtin:
        return builtin[name]
    if use is None:
        point = _entry_point(name)
        if point is None:
            close = difflib.get_close_matches(name, [*BUILTIN_NAMES, *_entry_point_names()], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"no stage {name!r}{hint}: built-in stages are {', '.join(BUILTIN_NAMES)}; a stage of another "
                f"package needs `use: package.module:Class`, or an entry point {name!r} in group {ENTRY_POINT_GROUP!r}"
            )
        try:
            cls = point.load()
        except Exception as err:
            raise ValueError(f"entry point {point.value!r} failed to load: {err}") from None
    else:
        cls = _import(use)
    if not (isinstance(cls, type) and issubclass(cls, Stage)):
        raise ValueError(f"{use or name!r} is not a rootstock Stage subclass")
    if name in builtin and cls is not builtin[name]:
        raise ValueError(f"{name!r} is a built-in stage; give your stage another name")
    if not (isinstance(cls.settings_class, type) and issubclass(cls.settings_class, StageSettings)):
        raise ValueError(f"{cls.__qualname__}.settings_class must subclass StageSettings")
    return cls


def stage_origin(cls: type[Stage]) -> dict[str, Any] | None:
    """Where a stage of another package comes from, for the manifest; None for a built-in."""
    if cls in BUILTIN:
        return None
    module = cls.__module__
    origin: dict[str, Any] = {"class": f"{module}:{cls.__qualname__}", "distribution": None, "version": None}
    top = module.split(".")[0]
    distributions = metadata.packages_distributions().get(top, [])
    if distributions:
        origin["distribution"] = distributions[0]
        origin["version"] = metadata.version(distributions[0])
    return origin


class StagesConfig:
    """The run config's `stages`: name → validated settings, in the order the stages run."""

    def __init__(self, settings: dict[str, StageSettings], classes: dict[str, type[Stage]], placement):
        # placement: for each stage of another package, its `use` and `after` as resolved
        self._settings, self.classes, self.placement = settings, classes, placement

    def __getitem__(self, name: str) -> StageSettings:
        return self._settings[name]

    def __getattr__(self, name: str) -> StageSettings:
        try:
            return self.__dict__["_settings"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __contains__(self, name: str) -> bool:
        return name in self._settings

    def __iter__(self):
        return iter(self._settings)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StagesConfig) and self.dump() == other.dump()

    def items(self):
        return self._settings.items()

    def enabled(self) -> list[str]:
        return [name for name, settings in self._settings.items() if settings.enabled]

    def dump(self) -> dict[str, Any]:
        """As written in a run config, every default filled in (what the manifest records)."""
        out = {}
        for name, settings in self._settings.items():
            out[name] = {**self.placement.get(name, {}), **settings.model_dump(mode="json")}
        return out

    def with_paths_resolved(self, base: str) -> StagesConfig:
        """A copy whose settings name files relative to BASE (the run config's folder)."""
        settings = {name: s.resolve_paths(base) for name, s in self._settings.items()}
        return StagesConfig(settings, self.classes, self.placement)

    def records(self, reports: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """The manifest's `stages`: every stage in run order, its settings, report and origin."""
        out = []
        for name, settings in self._settings.items():
            record: dict[str, Any] = {"name": name, "settings": settings.model_dump(mode="json")}
            if name in reports:
                record["report"] = reports[name]
            if (origin := stage_origin(self.classes[name])) is not None:
                record["plugin"] = origin
            out.append(record)
        return out

    @classmethod
    def parse(cls, value: Any) -> StagesConfig:
        """Validate the `stages` mapping; errors keep their field paths (stages.<name>.<field>)."""
        if isinstance(value, StagesConfig):
            return value
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise PydanticCustomError("stages", "`stages` is a mapping of stage name → settings")
        errors: list[InitErrorDetails] = []
        settings: dict[str, StageSettings] = {}
        classes: dict[str, type[Stage]] = {}
        placement: dict[str, dict[str, str]] = {}
        previous = None
        for name, raw in value.items():
            raw = {} if raw is None else raw
            if not isinstance(raw, dict):
                errors.append(_error((name,), raw, "a stage's settings are a mapping"))
                continue
            use, after = raw.get(USE), raw.get(AFTER)
            try:
                stage = stage_class(str(name), use)
            except ValueError as err:
                errors.append(_error((name, USE) if use else (name,), raw, str(err)))
                continue
            if stage in BUILTIN and AFTER in raw:
                errors.append(
                    _error((name, AFTER), raw, f"built-in stages run in the order {', '.join(BUILTIN_NAMES)}")
                )
                continue
            try:
                own = {k: v for k, v in raw.items() if k not in (USE, AFTER)}
                settings[name] = stage.settings_class.model_validate(own)
            except ValidationError as err:
                errors += [
                    InitErrorDetails(type=e["type"], loc=(name, *e["loc"]), input=e["input"], ctx=e.get("ctx", {}))
                    for e in err.errors()
                ]
                continue
            classes[name] = stage
            if stage not in BUILTIN:
                placement[name] = {USE: use} if use else {}
                placement[name][AFTER] = after if after is not None else previous
            previous = name
        if not errors:
            for name, anchor in _unknown_anchors(placement, value):
                errors.append(_error((name, AFTER), value[name], f"{anchor!r} is not a stage of this config"))
        if errors:
            raise ValidationError.from_exception_data("stages", errors)
        return cls(*_ordered(settings, classes, placement))


def _error(loc: tuple, value: Any, message: str) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("stages", message), loc=loc, input=value)


def _unknown_anchors(placement: dict[str, dict[str, str]], value: dict) -> list[tuple[str, str]]:
    known = set(value) | set(BUILTIN_NAMES)
    return [(name, p[AFTER]) for name, p in placement.items() if p.get(AFTER) is not None and p[AFTER] not in known]


def _ordered(settings: dict[str, StageSettings], classes: dict[str, type[Stage]], placement):
    """Built-ins in BUILTIN order (unlisted ones there, disabled); each other stage right after its anchor."""
    for stage in BUILTIN:
        if stage.name not in settings:
            settings[stage.name], classes[stage.name] = stage.settings_class(), stage
    order = list(BUILTIN_NAMES)
    pending = dict(placement)
    while pending:
        placed = False
        for name, p in list(pending.items()):
            anchor = p.get(AFTER)
            if anchor is None or anchor in order:
                at = order.index(anchor) + 1 if anchor is not None else 0
                while at < len(order) and order[at] in placement and placement[order[at]].get(AFTER) == anchor:
                    at += 1  # after the stages already placed after the same anchor: listing order
                order.insert(at, name)
                del pending[name]
                placed = True
        if not placed:  # anchors that only point at each other: a cycle
            raise ValidationError.from_exception_data(
                "stages", [_error((name, AFTER), p, "`after:` anchors form a cycle") for name, p in pending.items()]
            )
    return {n: settings[n] for n in order}, {n: classes[n] for n in order}, placement


def build_stages(config, context: RunContext) -> list[Stage]:
    """The enabled stages of CONFIG, constructed (each checks its settings against the run)."""
    stages, problems = [], []
    for name in config.stages.enabled():
        cls = config.stages.classes[name]
        try:
            stage = cls(config.stages[name], context)
        except ConfigError as err:  # every stage's problems at once, each with the config file
            problems += [(p.file or config.path, p.field, p.reason) for p in err.problems] or [
                (config.path, f"stages.{name}", err.message)
            ]
            continue
        if stage.name != name:  # a package's stage is named by the config that uses it
            stage.name = name
            stage.label = name
        stages.append(stage)
    if problems:
        raise ConfigError("invalid run config", problems=problems)
    return stages
