"""Run configs and catalogues read from storage URLs (issue 18): `rootstock run gs://bucket/run.yaml`
used to fail with "gs:/bucket/run.yaml: no such run config" (a Path collapsed the //). Tested
through fsspec's in-memory file system, which rootstock reads through the same Beam file-system
layer as gs:// and s3://."""

from __future__ import annotations

import json
from pathlib import Path

import fsspec
import pytest
import yaml

from rootstock.catalog.loader import load_catalog, validate_catalog
from rootstock.errors import ConfigError
from rootstock.pipeline.cli import main
from rootstock.pipeline.config import load_config
from rootstock.pipeline.jobs.curate import run
from tests.conftest import entry

TEXTS = [
    "Kylän kirjasto on avoinna tiistaisin ja torstaisin, ja lukupiiri kokoontuu joka kuun ensimmäisenä maanantaina.",
    "Syksyllä vapaaehtoiset istuttivat pohjoisrinteelle mäntyjä yhdistääkseen kaksi vanhaa metsää toisiinsa.",
]


@pytest.fixture
def bucket():
    fs = fsspec.filesystem("memory")
    root = "memory://bucket-remote-config"
    fs.pipe(
        f"{root}/data/a.jsonl",
        "".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(TEXTS)).encode(),
    )
    fs.pipe(
        f"{root}/catalog/sources/kirjat.yaml",
        yaml.safe_dump(
            entry("kirjat", {"kind": "jsonl", "paths": ["../../data/*.jsonl"], "id_field": "id"}, languages=["fi"])
        ).encode(),
    )
    fs.pipe(
        f"{root}/catalog/languages.yaml", yaml.safe_dump({"languages": [{"code": "fi", "aliases": ["suomi"]}]}).encode()
    )
    fs.pipe(f"{root}/runs/run.yaml", yaml.safe_dump({"release": "remote", "catalog": "../catalog"}).encode())
    yield root
    fs.rm(root, recursive=True)


def test_a_run_config_and_its_catalogue_are_read_from_a_url(bucket: str, tmp_path: Path):
    config = load_config(f"{bucket}/runs/run.yaml", output=str(tmp_path / "out"))
    assert config.catalog == f"{bucket}/catalog"
    catalog = load_catalog(config.catalog)
    assert (
        catalog.resolve_paths("kirjat") == [f"{bucket}/data/*.jsonl"]
        and catalog.relative("kirjat") == "sources/kirjat.yaml"
    )
    manifest = run(config)
    assert manifest["totals"]["docs_out"] == len(TEXTS)
    assert manifest["sources"]["kirjat"]["catalog"]["catalog_file"] == "sources/kirjat.yaml"


def test_remote_mistakes_are_one_line_naming_the_url(bucket: str, tmp_path: Path, capsys):
    assert main(["run", f"{bucket}/runs/missing.yaml", "--output", str(tmp_path / "o")]) == 2
    assert f"{bucket}/runs/missing.yaml: no such run config" in capsys.readouterr().err
    _, problems = validate_catalog(f"{bucket}/nowhere")
    assert problems == [(f"{bucket}/nowhere", "(catalogue)", "no such directory")]
    fsspec.filesystem("memory").pipe(f"{bucket}/runs/bad.yaml", b"release: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(f"{bucket}/runs/bad.yaml", output=str(tmp_path / "o"))
