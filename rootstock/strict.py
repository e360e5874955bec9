"""Strict settings models and the one reader every YAML file goes through.

Strict on purpose (unknown keys are errors): a typo in a threshold must not silently run with
the default, because a config is what a manifest records as "how this was made".
"""

from __future__ import annotations

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


def read_yaml(path: Path, what: str, error: type[ConfigError] = ConfigError) -> dict[str, Any]:
    """A YAML file that must hold a mapping; ERROR names the file and what is wrong with it."""

    def fail(reason: str) -> ConfigError:
        return error(problems=[Problem(str(path), None, reason)])

    try:
        data = yaml.safe_load(Path(path).read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise fail(f"no such {what}") from None
    except IsADirectoryError:
        raise fail(f"is a directory, not a {what}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise fail(f"not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise fail(f"a {what} is a YAML mapping")
    return data


def read_yaml_model(path: Path, model: type[M], what: str, error: type[ConfigError] = ConfigError) -> M:
    """A YAML mapping validated by a pydantic MODEL; every problem as `FILE: field: reason`."""
    data = read_yaml(path, what, error)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise error(f"invalid {what}", problems=validation_problems(err, str(path))) from None
