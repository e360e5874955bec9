"""Everything a run config, a catalogue entry or the command line can get wrong is refused before
any work, all at once, each problem naming its file and field (issue: defects found by trying
to break rootstock)."""

from __future__ import annotations

from pathlib import Path

import yaml

from rootstock.pipeline.beam.options import pipeline_options, runner_record
from tests.conftest import entry, run_cli, write_catalog


def _config(tmp_path: Path, **extra) -> Path:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "a.jsonl").write_text('{"id": "1", "text": "Hyvää huomenta, tämä on lyhyt suomenkielinen teksti."}\n')
    catalog = write_catalog(tmp_path / "catalog", entry("fin", {"kind": "jsonl", "paths": [str(data / "a.jsonl")]}))
    path = tmp_path / "conf" / "run.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump({"release": "checks", "catalog": str(catalog), **extra}, sort_keys=False))
    return path


def _refused(result, tmp_path: Path) -> list[str]:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.partial-*"))
    return result.stderr.splitlines()


def test_every_stage_problem_at_once_with_its_file_and_field(tmp_path: Path):
    config = _config(
        tmp_path,
        stages={
            "langid": {"enabled": True, "model": "models/lid.ftz"},
            "quality": {
                "enabled": True,
                "thresholds": {"fi": {"stopwords_min_cutoff": 2.5}, "default": {"number_words_min_cutoff": -1}},
                "sources": {"ghost": {}},
                "code": {"min_alphanumeric_fraction": 3},
                "perplexity": {"fi": {"sentencepiece": "m/fi.model", "kenlm": "m/fi.arpa"}},
            },
        },
    )
    lines = _refused(run_cli("run", str(config), "--output", str(tmp_path / "out"), check=False), tmp_path)
    where = str(config)
    conf_dir = config.parent
    expected = [
        f"{where}: stages.langid.model: {conf_dir / 'models/lid.ftz'}: no such model file",  # relative to the config
        f"{where}: stages.quality.sources.ghost: overrides for a source that is not in this run",
        f"{where}: stages.quality.perplexity.fi.sentencepiece: {conf_dir / 'm/fi.model'}: no such file",
        f"{where}: stages.quality.thresholds.fi: threshold stopwords_min_cutoff is a ratio in [0, 1], got 2.5",
        f"{where}: stages.quality.thresholds.default: threshold number_words_min_cutoff must be ≥ 0, got -1",
        f"{where}: stages.quality.code: min_alphanumeric_fraction is a fraction in [0, 1], got 3",
    ]
    for line in expected:
        assert f"  {line}" in lines, (line, lines)


def test_refilter_refuses_thresholds_out_of_range(tmp_path: Path, demo_release: Path):
    release = demo_release
    thresholds = tmp_path / "t.yaml"
    thresholds.write_text("thresholds: {fi: {stopwords_min_cutoff: -1}}\n")
    result = run_cli("refilter", str(release), str(thresholds), "--output", str(tmp_path / "out"), check=False)
    lines = _refused(result, tmp_path)
    assert f"  {thresholds}: thresholds.fi: threshold stopwords_min_cutoff is a ratio in [0, 1], got -1" in lines


def test_a_key_given_twice_is_an_error_not_last_one_wins(tmp_path: Path):
    config = _config(tmp_path)
    source = tmp_path / "catalog" / "sources" / "fin.yaml"
    text = source.read_text()
    source.write_text(text.replace("pii:", "pii: {likelihood: none, policy: redact}\npii:", 1))
    lines = run_cli("catalog", "validate", str(tmp_path / "catalog"), check=False).stderr.splitlines()
    assert any(f"{source}: (file): not valid YAML: key 'pii' appears twice" in line for line in lines), lines
    config.write_text(config.read_text() + "release: again\n")
    lines = _refused(run_cli("run", str(config), "--output", str(tmp_path / "out"), check=False), tmp_path)
    assert f"error: {config}: not valid YAML: key 'release' appears twice in one mapping (first at line 1)" in lines


def test_a_codec_parquet_cannot_write_fails_before_the_run(tmp_path: Path):
    config = _config(tmp_path, shards={"compression": "fancy"})
    lines = _refused(run_cli("run", str(config), "--output", str(tmp_path / "out"), check=False), tmp_path)
    assert any("shards: compression 'fancy' is not one of none, snappy, gzip, brotli, lz4, zstd" in x for x in lines)
    config = _config(tmp_path, shards={"compression": "zstd", "compression_level": 99})
    lines = _refused(run_cli("run", str(config), "--output", str(tmp_path / "out"), check=False), tmp_path)
    assert any("compression_level for zstd is" in x and "got 99" in x for x in lines)


def test_unknown_command_line_options_are_refused_with_a_suggestion(tmp_path: Path):
    config = _config(tmp_path)
    result = run_cli("run", str(config), "--output", str(tmp_path / "out"), "--runnr=PortableRunner", "-v", check=False)
    lines = _refused(result, tmp_path)
    assert "  --runnr=PortableRunner: not a rootstock or Beam option; did you mean --runner?" in lines
    assert any(line.startswith("  -v: not a Beam option") for line in lines)
    # rootstock's own -v before the command, Beam options with separate values: accepted
    ok = run_cli(
        "-v", "run", str(config), "--output", str(tmp_path / "ok"), "--direct_num_workers", "1", "--spill", "never"
    )
    assert "release checks" in ok.stdout


def test_the_manifest_records_options_without_credentials():
    options = pipeline_options(
        [
            "--labels=owner=ana",
            "--experiments=use_runner_v2",
            "--experiments=api_key=S3CR3T",
            "--environment_config=https://user:pw@pool.example:50000",
            "--temp_location=gs://bucket/tmp",
        ]
    )
    record = runner_record(options)
    assert record["labels"] == "<redacted>"
    assert record["experiments"] == ["use_runner_v2", "api_key=<redacted>"]
    assert record["environment_config"] == "https://<redacted>@pool.example:50000"
    assert record["temp_location"] == "gs://bucket/tmp"
    assert "S3CR3T" not in str(record) and "pw@" not in str(record)
