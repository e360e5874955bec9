"""A stage from a package outside rootstock: found by `use:` or by entry point, validated,
run where the config puts it, recorded and counted like the built-in stages."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from rootstock.pipeline.cli import main
from tests.conftest import CLI, MULTI_PROCESS, REPO, entry, write_catalog

PROSE = [
    "Plain words make a readable sentence for this little test.",
    "Rivers carry silt from the mountains down to the wide delta.",
    "The library opens early on Saturdays and closes at noon.",
    "Our neighbour grows tomatoes, beans and a row of sunflowers.",
    "A quiet train crossed the valley long before the sun was up.",
    "Bakers start kneading dough while most of the town still sleeps.",
]
DOCS = [{"id": f"w{i}", "text": text} for i, text in enumerate(PROSE)] + [
    {"id": f"d{i}", "text": f"{i} 1234 5678 9012 3456 7890 -- ## {i * 7} 0000 1111 2222"} for i in range(4)
]


def readme_stage() -> str:
    """The example stage exactly as the README shows it."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Your own stage") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def plugin_path(tmp_path):
    """A directory outside the repository holding the module and an installed distribution's metadata."""
    root = tmp_path / "plugins"
    root.mkdir()
    (root / "my_stages.py").write_text(readme_stage(), encoding="utf-8")
    dist = root / "my_stages-0.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-stages\nVersion: 0.3\n")
    (dist / "entry_points.txt").write_text("[rootstock.stages]\nletters = my_stages:LetterRatio\n")
    (dist / "top_level.txt").write_text("my_stages\n")
    return root


def _config(tmp_path, stages: dict) -> Path:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in DOCS), encoding="utf-8")
    catalog = write_catalog(
        tmp_path / "catalog", entry("mixed", {"kind": "jsonl", "paths": [str(data / "docs.jsonl")], "id_field": "id"})
    )
    config = tmp_path / "run.yaml"
    stages = {"clean": {"min_doc_bytes": "off"}, **stages}  # short test documents: no ROOTS size floor
    config.write_text(
        yaml.safe_dump(
            {"release": "plugin", "catalog": str(catalog), "keep_rejected": "all", "stages": stages}, sort_keys=False
        )
    )
    return config


def _run(tmp_path, plugin_path, stages: dict, *beam) -> subprocess.CompletedProcess:
    config = _config(tmp_path, stages)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "out"
    return subprocess.run(
        [*CLI, "run", str(config), "--output", str(out), "--overwrite", *beam],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )


def _release(tmp_path):
    out = tmp_path / "out"
    manifest = json.loads((out / "manifest.json").read_text())
    kept = [r for p in sorted(out.glob("data/**/*.parquet")) for r in pq.read_table(p).to_pylist()]
    rejected = [r for p in sorted(out.glob("rejected/**/*.parquet")) for r in pq.read_table(p).to_pylist()]
    return manifest, kept, rejected


@pytest.mark.parametrize(
    ("name", "settings", "beam"),
    [
        ("letter_ratio", {"use": "my_stages:LetterRatio"}, []),
        ("letters", {}, MULTI_PROCESS),  # by entry point; the two worker processes import it too
    ],
)
def test_a_stage_of_another_package_runs_is_recorded_and_counted(tmp_path, plugin_path, name, settings, beam):
    stages = {
        "quality": {"enabled": False},
        name: {**settings, "enabled": True, "min_ratio": 0.6},
        "dedup": {"enabled": True},
    }
    result = _run(tmp_path, plugin_path, stages, *beam)
    assert result.returncode == 0, result.stderr
    manifest, kept, rejected = _release(tmp_path)

    assert sorted(r["id"] for r in kept) == sorted(  # the stage decided, dedup then saw only its kept set
        r["id"] for r in kept if r["letter_ratio"] >= 0.6
    )
    assert len(kept) == 6 and {r["source_doc_id"] for r in kept} == {f"w{i}" for i in range(6)}
    assert {(r["drop_stage"], r["drop_reason"]) for r in rejected} == {(name, "too_few_letters")}
    assert len(rejected) == 4 and all(r["letter_ratio"] < 0.6 for r in rejected)

    record = {s["name"]: s for s in manifest["stages"]}
    assert [s["name"] for s in manifest["stages"]] == [
        "clean",
        "langid",
        "quality",
        name,
        "dedup",
        "decontaminate",
        "pii",
    ]
    assert record[name]["settings"] == {"enabled": True, "min_ratio": 0.6}
    assert record[name]["plugin"] == {"class": "my_stages:LetterRatio", "distribution": "my-stages", "version": "0.3"}
    assert manifest["config"]["stages"][name] == {**settings, "after": "quality", "enabled": True, "min_ratio": 0.6}
    assert manifest["totals"]["dropped_by_reason"] == {f"{name}:too_few_letters": 4}

    steps = manifest["sources"]["mixed"]["processing"]
    assert [s["step"] for s in steps] == ["ingest", "clean", name, "dedup"]
    assert steps[1]["parameters"] == {"min_doc_bytes": "off", "steps": []} and steps[1]["docs_out"] == 10
    mine = steps[2]
    assert (mine["docs_in"], mine["docs_out"], mine["dropped"]) == (10, 6, {"too_few_letters": 4})
    assert mine["parameters"] == {"min_ratio": 0.6}
    assert steps[3]["docs_in"] == 6
    assert any(f["name"] == "letter_ratio" for f in manifest["schema"])


def test_stage_errors_name_the_file_and_the_field(tmp_path, plugin_path, monkeypatch, capsys):
    cases = [
        ({"typo_stage": {"enabled": True}}, "stages.typo_stage: no stage 'typo_stage'"),
        ({"qualty": {"enabled": True}}, "stages.qualty: no stage 'qualty' (did you mean 'quality'?)"),
        ({"x": {"use": "my_stages:Nope", "enabled": True}}, "stages.x.use: 'my_stages' has no 'Nope'"),
        ({"x": {"use": "json:dumps"}}, "stages.x.use: 'json:dumps' is not a rootstock Stage subclass"),
        (
            {"letters": {"enabled": True, "min_ratio": 3}},
            "stages.letters.min_ratio: Input should be less than or equal to 1",
        ),
        ({"letters": {"enabled": True, "bogus": 1}}, "stages.letters.bogus: Extra inputs are not permitted"),
        ({"letters": {"enabled": True, "after": "nope"}}, "stages.letters.after: 'nope' is not a stage of this config"),
        (
            {"pii": {"after": "langid"}},
            "stages.pii.after: built-in stages run in the order clean, langid, quality, dedup, decontaminate, pii",
        ),
        ({"langid": {"use": "my_stages:LetterRatio"}}, "'langid' is a built-in stage"),
    ]
    monkeypatch.syspath_prepend(str(plugin_path))  # in-process: config errors come before any work
    for stages, message in cases:
        code = main(["run", str(_config(tmp_path, stages)), "--output", str(tmp_path / "out")])
        stderr = capsys.readouterr().err
        assert code == 2, (stages, stderr)
        assert message in stderr and "run.yaml" in stderr, (stages, stderr)
        assert "Traceback" not in stderr
        assert not (tmp_path / "out").exists()
    sys.modules.pop("my_stages", None)


def test_built_ins_keep_their_order_and_others_go_where_after_says(plugin_path, monkeypatch):
    monkeypatch.syspath_prepend(str(plugin_path))
    from rootstock.pipeline.stages.registry import StagesConfig

    # keys sorted, as yaml.safe_dump writes them: built-ins still run in their order
    stages = StagesConfig.parse(
        {
            "dedup": {"enabled": True},
            "langid": {},
            "letters": {"after": "langid", "min_ratio": 0.2},
            "pii": {},
            "zeta": {"use": "my_stages:LetterRatio", "after": "letters"},
        }
    )
    assert list(stages) == ["clean", "langid", "letters", "zeta", "quality", "dedup", "decontaminate", "pii"]
    assert stages.enabled() == ["clean", "dedup"] and stages["letters"].min_ratio == 0.2
    listed = StagesConfig.parse({"letters": {}, "langid": {}, "second": {"use": "my_stages:LetterRatio"}})
    assert list(listed) == ["letters", "clean", "langid", "second", "quality", "dedup", "decontaminate", "pii"]
    sys.modules.pop("my_stages", None)


def test_a_stage_class_must_be_a_stage(tmp_path, plugin_path, monkeypatch):
    monkeypatch.syspath_prepend(str(plugin_path))
    from rootstock.pipeline.stages.registry import stage_class

    assert stage_class("letters").__name__ == "LetterRatio"  # entry point, found in the dist-info on sys.path
    with pytest.raises(ValueError, match="not `package.module:Class`"):
        stage_class("x", "nocolon")
    sys.modules.pop("my_stages", None)
