"""The run config: what to read, which stages to apply with which settings, where to write.

Strict on purpose (unknown keys are errors): a typo in a threshold must not silently run
with the default, because the config is what the manifest records as "how this was made".
Each stage's settings are its own model (`settings_class`), found through the stage registry.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, PlainSerializer, PrivateAttr, field_validator

from rootstock.errors import ConfigError
from rootstock.paths import absolute, is_url, parent, resolve_path
from rootstock.pipeline.beam.shards import ShardsConfig
from rootstock.pipeline.release.footprint import FootprintSettings
from rootstock.pipeline.stages.registry import StagesConfig
from rootstock.strict import Strict, read_yaml_model

Stages = Annotated[StagesConfig, BeforeValidator(StagesConfig.parse), PlainSerializer(StagesConfig.dump)]


class RunConfig(Strict):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    release: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
    catalog: str = "."
    sources: list[str] | str = "all"
    output: str | None = None
    shards: ShardsConfig = ShardsConfig()
    stages: Stages = Field(default_factory=lambda: StagesConfig.parse({}))
    # Rejected documents under OUTPUT/rejected/: all of them, a sample per (stage, reason,
    # language, source), or none. Counts are always complete in the manifest.
    keep_rejected: Literal["all", "sample", "none"] = "sample"
    rejected_sample_size: int = Field(100, ge=1)
    # Grid carbon intensity or country for the footprint the manifest records (release/footprint.py).
    footprint: FootprintSettings = FootprintSettings()
    # The config as written (paths unresolved): what the manifest records and hashes.
    _as_written: dict[str, Any] | None = PrivateAttr(default=None)
    _path: str | None = PrivateAttr(default=None)

    @property
    def path(self) -> str | None:
        """The file the config was read from (None if built in code)."""
        return self._path

    @field_validator("sources")
    @classmethod
    def _sources(cls, value: list[str] | str) -> list[str] | str:
        if isinstance(value, str) and value != "all":
            raise ValueError("`sources` is `all` or a list of catalogue uids")
        if isinstance(value, list) and not value:
            raise ValueError("`sources` is empty")
        return value

    def canonical(self) -> dict[str, Any]:
        """The config as written, with every default filled in."""
        return self._as_written if self._as_written is not None else self.model_dump(mode="json")

    def sha256(self) -> str:
        """Hash of how the release is made; where it is written (`output`) and the grid it ran
        on (`footprint`) do not count."""
        blob = {k: v for k, v in self.canonical().items() if k not in ("output", "footprint")}
        return hashlib.sha256(json.dumps(blob, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def load_config(path: str | Path, *, output: str | None = None) -> RunConfig:
    """Read CONFIG.yaml; `catalog` and `output` become absolute, relative to the config file."""
    path = str(path) if is_url(str(path)) else Path(path)
    config = read_yaml_model(path, RunConfig, "run config", ConfigError)
    base = parent(path)  # a config read from gs:// names its catalogue relative to that URL
    updates: dict[str, Any] = {"catalog": resolve_path(config.catalog, base)}
    if output is not None:
        updates["output"] = absolute(output)
    elif config.output is not None:
        updates["output"] = resolve_path(config.output, base)
    else:
        raise ConfigError(f"{path}: no `output` in the config and no --output given")
    as_written = config.model_dump(mode="json")
    updates["stages"] = config.stages.with_paths_resolved(str(base))  # model files next to the config
    resolved = config.model_copy(update=updates)
    resolved._as_written = as_written
    resolved._path = str(path)
    return resolved
