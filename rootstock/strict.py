"""Strict settings models and the one reader every YAML file goes through.

Strict on purpose (unknown keys are errors): a typo in a threshold must not silently run with
the default, because a config is what a manifest records as "how this was made".
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from rootstock.errors import ConfigError, Problem

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """A settings model that refuses unknown keys."""

    model_config = ConfigDict(extra="forbid")


class FrozenStrict(BaseModel):
    """A strict model that cannot change once read (catalogue entries)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def validation_problems(err: ValidationError, file: str, prefix: str = "") -> list[Problem]:
    """pydantic's errors as problems: dotted field path, message without pydantic's prefix."""
    problems = []
    for e in err.errors():
        where = ".".join(str(part) for part in e["loc"])
        field = ".".join(p for p in (prefix, where) if p) or "(top level)"
        problems.append(Problem(file, field, e["msg"].removeprefix("Value error, ")))
    return problems


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; a repeated `pii:` once turned `redact` into `keep`."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                continue  # left for the base constructor to refuse
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} appears twice in one mapping (first at line {seen[key] + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load_yaml(stream) -> Any:
    """YAML like yaml.safe_load, but a key repeated in a mapping is an error."""
    return yaml.load(stream, Loader=_UniqueKeyLoader)


def _open_text(path: str | Path):
    """A local file, or a URL through Beam's file systems (gs://, s3://, and the fsspec ones
    rootstock registers: hf://, http(s)://, memory://…), as text."""
    if "://" not in str(path):
        return open(path, encoding="utf-8")
    from apache_beam.io.filesystems import FileSystems  # noqa: PLC0415 - Beam loads only for a config read from a URL

    try:
        raw = FileSystems.open(str(path))
    except Exception as err:  # every store says "missing" its own way (BeamIOError, OSError…)
        if not FileSystems.exists(str(path)):
            raise FileNotFoundError(str(path)) from None
        raise OSError(f"{path}: cannot be read ({err})") from None
    return io.TextIOWrapper(raw, encoding="utf-8")


def read_yaml(path: Path | str, what: str, error: type[ConfigError] = ConfigError) -> dict[str, Any]:
    """A YAML file that must hold a mapping; ERROR names the file and what is wrong with it."""

    def fail(reason: str) -> ConfigError:
        return error(problems=[Problem(str(path), None, reason)])

    try:
        with _open_text(path) as handle:  # a file object: YAML's errors name the file
            data = load_yaml(handle)
    except FileNotFoundError:
        raise fail(f"no such {what}") from None
    except IsADirectoryError:
        raise fail(f"is a directory, not a {what}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise fail(f"not valid YAML: {err}") from None
    except OSError as err:
        raise fail(f"cannot be read ({err})") from None
    if not isinstance(data, dict):
        raise fail(f"a {what} is a YAML mapping")
    return data


def read_yaml_model(path: Path | str, model: type[M], what: str, error: type[ConfigError] = ConfigError) -> M:
    """A YAML mapping validated by a pydantic MODEL; every problem as `FILE: field: reason`."""
    data = read_yaml(path, what, error)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise error(f"invalid {what}", problems=validation_problems(err, str(path))) from None
