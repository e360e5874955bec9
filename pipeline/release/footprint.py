"""The footprint of a curation run: CPU and wall time per stage, energy and emissions.

The BLOOM carbon paper (Luccioni et al. 2022, "Estimating the Carbon Footprint of BLOOM") and
OLMo's environmental-impact reporting ask every step of model building to report its compute
and emissions; data curation is one of those steps. Each job that publishes (run, refilter,
mix, tokenizer train) records here what it used:

- CPU seconds per stage, measured inside the stages' DoFns (the thread's CPU clock around each
  step of a stage's per-document work, so fused downstream work is not counted twice), summed
  in Beam counters and read from the pipeline's result; jobs without stages measure phases.
  Whatever no stage accounts for (reading, writing, shuffles, the runner) is `other`, so the
  stages and `other` add up to the run's CPU seconds.
- Energy from codecarbon's OfflineEmissionsTracker: RAPL counters where the machine exposes
  them, codecarbon's CPU power model (TDP × the run's CPU load) otherwise, plus its RAM model;
  offline (no geolocation, no API, no file written), in "process" mode (this process and its
  children), so other work on a shared machine is not billed to the run.
- Emissions = energy × PUE × a grid carbon intensity: the run config's, or the country's from
  codecarbon's bundled energy-mix data, or codecarbon's world average.

Runners whose workers are not this process (Dataflow, Flink, Spark, a worker pool) cannot be
measured from the launcher: their energy is estimated from worker-hours and the machine type,
and the record says so.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import os
import re
import resource
import tempfile
import time
from importlib import metadata
from typing import Any

from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import StandardOptions
from pydantic import Field, field_validator

from rootstock.pipeline.beam.options import pipeline_options, runner_record
from rootstock.strict import Strict

log = logging.getLogger(__name__)

NAMESPACE = "rootstock.footprint"  # the Beam counters' namespace
_CPU, _WALL = "cpu_us", "wall_us"  # counter name prefixes: microseconds, `<prefix>:<stage>`
MEASURE_POWER_SECS = 5  # codecarbon's sampling interval; its last sample is taken at stop
# codecarbon's power per CPU thread when a CPU's TDP is unknown (codecarbon.core.cpu
# DEFAULT_POWER_PER_CORE); the estimate for remote workers takes it at full load.
WATTS_PER_VCPU = 4.0
# The runners whose workers are threads of this process, so this process's CPU clock and
# codecarbon's process tracking see all the work.
_LOCAL_RUNNERS = {
    None,
    "DirectRunner",
    "SwitchingDirectRunner",
    "BundleBasedDirectRunner",
    "FnApiRunner",
    "apache_beam.runners.portability.fn_api_runner.FnApiRunner",
    "apache_beam.runners.portability.fn_api_runner.fn_runner.FnApiRunner",
}


class FootprintSettings(Strict):
    """How the run's emissions are computed (`footprint:` in a run config)."""

    # Grid carbon intensity in g CO2eq/kWh; wins over `country`.
    carbon_intensity: float | None = Field(None, ge=0)
    # ISO 3166-1 alpha-3 code of where the run's machines are (codecarbon's energy-mix data).
    country: str | None = None
    # Power usage effectiveness of the data centre (1.0: the machines' own power only).
    pue: float = Field(1.0, ge=1.0)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.upper()
        mixes = _energy_mixes()
        if code not in mixes:
            close = [c for c in sorted(mixes) if c[:2] == code[:2]][:5]
            hint = f" (e.g. {', '.join(close)})" if close else ""
            raise ValueError(f"{value!r} is not a country codecarbon has energy-mix data for{hint}; use ISO alpha-3")
        return code


def _energy_mixes() -> dict[str, Any]:
    from codecarbon.input import DataSource  # noqa: PLC0415 - codecarbon (and pandas) load only where a job is measured, not in workers

    return DataSource().get_global_energy_mix_data()


def carbon_intensity(settings: FootprintSettings) -> dict[str, Any]:
    """The grid intensity to apply (g CO2eq/kWh) and where it comes from."""
    from codecarbon.core.emissions import Emissions  # noqa: PLC0415 - codecarbon (and pandas) load only where a job is measured, not in workers
    from codecarbon.input import DataSource  # noqa: PLC0415 - as above

    if settings.carbon_intensity is not None:
        return {"g_co2eq_per_kwh": settings.carbon_intensity, "source": "run config", "country": settings.country}
    if settings.country is not None:
        mix = _energy_mixes()[settings.country]
        rate = Emissions._global_energy_mix_to_emissions_rate(mix)
        return {
            "g_co2eq_per_kwh": round(rate.kgs_per_kWh * 1000, 3),
            "source": f"codecarbon {_codecarbon_version()} energy mix of {mix.get('country_name', settings.country)}",
            "country": settings.country,
        }
    world = DataSource().get_carbon_intensity_per_source_data()["world_average"]
    return {
        "g_co2eq_per_kwh": float(world),
        "source": f"codecarbon {_codecarbon_version()} world average (no `footprint` country or intensity set)",
        "country": None,
    }


def _codecarbon_version() -> str:
    return metadata.version("codecarbon")


# --- per-stage CPU, measured inside the DoFns -------------------------------------------------


class StageClock:
    """A stage's thread CPU time and busy wall time, added to Beam counters (µs).

    The thread CPU clock, not the process one: a worker runs several bundles at once. Picklable,
    so a DoFn can carry one (a DoFn instance serves one thread at a time); outside a pipeline
    the counters are no-ops. `steps` keeps its time until `flush` (at the end of a bundle):
    two counter updates per document cost more than the timing itself.
    """

    def __init__(self, stage: str):
        self.stage = stage
        self.pending = [0.0, 0.0]  # cpu, wall not yet in the counters

    def add(self, cpu_seconds: float, wall_seconds: float) -> None:
        Metrics.counter(NAMESPACE, f"{_CPU}:{self.stage}").inc(round(cpu_seconds * 1e6))
        Metrics.counter(NAMESPACE, f"{_WALL}:{self.stage}").inc(round(wall_seconds * 1e6))

    def flush(self) -> None:
        if self.pending[0] or self.pending[1]:
            self.add(*self.pending)
            self.pending = [0.0, 0.0]

    @contextlib.contextmanager
    def measure(self):
        """Time the block (code that does only this stage's work)."""
        cpu, wall = time.thread_time(), time.perf_counter()
        try:
            yield
        finally:
            self.add(time.thread_time() - cpu, time.perf_counter() - wall)

    def steps(self, outputs):
        """OUTPUTS (what a DoFn's process returned), timing only the steps that make each item:
        between items the runner runs the fused downstream stages, which are not this one's.
        The time is counted at the next `flush`."""
        if outputs is None:
            return
        iterator = iter(outputs)
        cpu = wall = 0.0
        try:
            while True:
                c, w = time.thread_time(), time.perf_counter()
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                finally:
                    cpu += time.thread_time() - c
                    wall += time.perf_counter() - w
                yield item
        finally:
            self.pending[0] += cpu
            self.pending[1] += wall


def stage_times(result) -> dict[str, dict[str, float]]:
    """{stage: {"cpu": s, "wall": s}} from a finished pipeline's counters (empty if the runner
    does not report metrics)."""
    try:
        counters = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]
    except Exception as err:  # a runner without metrics support: all CPU goes to `other`
        log.warning("the runner reported no metrics (%s); per-stage CPU is not recorded", err)
        return {}
    out: dict[str, dict[str, float]] = {}
    for counter in counters:
        kind, _, stage = counter.key.metric.name.partition(":")
        value = counter.committed if counter.committed is not None else counter.attempted
        field = {_CPU: "cpu", _WALL: "wall"}.get(kind)
        if field and value:
            out.setdefault(stage, {"cpu": 0.0, "wall": 0.0})[field] += value / 1e6
    return out


# --- the run's totals --------------------------------------------------------------------------


def _cpu_now() -> float:
    """CPU seconds of this process (all threads) and of its children that have finished."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def is_local(runner: dict[str, Any]) -> bool:
    """Whether the runner (a manifest's runner record) runs its workers as threads of this process."""
    name = runner.get("runner")
    if name in _LOCAL_RUNNERS:
        return runner.get("direct_running_mode", "in_memory") in ("in_memory", "multi_threading")
    if name == "PortableRunner":
        return runner.get("job_endpoint") == "embed" and runner.get("environment_type") == "LOOPBACK"
    return False


class Footprint:
    """What one job used, from `start` to `finish`; see the module docstring."""

    def __init__(self, kind: str | None = None, scratch: str | None = None, settings: FootprintSettings | None = None):
        self.kind, self.scratch, self.settings = kind, scratch, settings
        self.phases: dict[str, list[float]] = {}  # name -> [cpu, wall]
        self._open: dict[str, tuple[float, float]] = {}
        self.stages: dict[str, dict[str, float]] = {}
        self.tracker = None
        self.record: dict[str, Any] | None = None

    def start(self) -> Footprint:
        self._cpu, self._wall = _cpu_now(), time.perf_counter()
        self.tracker = _start_tracker(self.scratch)
        return self

    @contextlib.contextmanager
    def phase(self, name: str):
        """Time a part of a job that has no stages of its own (mix's planning, tokenizer training)."""
        self._open[name] = (_cpu_now(), time.perf_counter())
        try:
            yield
        finally:
            self._close(name)

    def _close(self, name: str) -> None:
        if name in self._open:
            cpu, wall = self._open.pop(name)
            spent = self.phases.setdefault(name, [0.0, 0.0])
            spent[0] += _cpu_now() - cpu
            spent[1] += time.perf_counter() - wall

    def add_stages(self, times: dict[str, dict[str, float]]) -> None:
        for stage, spent in times.items():
            mine = self.stages.setdefault(stage, {"cpu": 0.0, "wall": 0.0})
            mine["cpu"] += spent["cpu"]
            mine["wall"] += spent["wall"]

    def finish(self, runner: dict[str, Any], settings: FootprintSettings | None = None) -> dict[str, Any]:
        """The `footprint` block (SETTINGS: the job's, else those given to `tracking`). Idempotent:
        a second call returns the first record."""
        if self.record is not None:
            return self.record
        settings = settings or self.settings or FootprintSettings()
        for name in list(self._open):
            self._close(name)
        cpu_total, wall = _cpu_now() - self._cpu, time.perf_counter() - self._wall
        measured = _stop_tracker(self.tracker)
        self.tracker = None
        local = is_local(runner)
        # Stages measured in DoFns, or else the job's phases (never both: phases contain stages).
        parts = (
            {k: (v["cpu"], v["wall"]) for k, v in self.stages.items()}
            if self.stages
            else {k: (v[0], v[1]) for k, v in self.phases.items()}
        )
        granularity = (
            "inside each stage's DoFns (thread CPU time, summed over workers)"
            if self.stages
            else "per phase of the job (process CPU time)"
        )
        ms = {name: round(cpu * 1000) for name, (cpu, _) in sorted(parts.items())}
        intensity = carbon_intensity(settings)
        if local:
            total_ms = max(round(cpu_total * 1000), sum(ms.values()))
            energy = _measured_energy(measured, settings.pue)
        else:
            estimate = _estimate(runner, wall)
            total_ms = max(round(estimate["cpu_seconds"] * 1000), sum(ms.values()))
            energy = {
                "energy_kwh": estimate["energy_kwh"] * settings.pue,
                "method": estimate["method"],
                "estimate": True,
                "workers": estimate["workers"],
            }
        stages = [
            {"name": name, "cpu_seconds": ms[name] / 1000, "wall_seconds": round(parts[name][1], 3)} for name in ms
        ]
        kwh = energy.pop("energy_kwh")
        self.record = {
            "job": self.kind or "run",
            "wall_seconds": round(wall, 3),
            "cpu_seconds": total_ms / 1000,
            "stages": stages,
            "other_cpu_seconds": (total_ms - sum(ms.values())) / 1000,
            "stage_timing": granularity,
            "energy_kwh": kwh,
            "emissions_kg_co2eq": kwh * intensity["g_co2eq_per_kwh"] / 1000,
            "carbon_intensity": intensity,
            "pue": settings.pue,
            "estimate": energy.pop("estimate", False),
            **energy,
        }
        return self.record


def _start_tracker(scratch: str | None):
    """codecarbon's offline tracker, started: nothing leaves the machine and nothing is written
    (no outputs, no lock file); explicit arguments override any codecarbon config or env var."""
    from codecarbon import OfflineEmissionsTracker  # noqa: PLC0415 - codecarbon (and pandas) load only where a job is measured, not in workers

    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    folder = scratch if scratch and os.path.isdir(scratch) else tempfile.gettempdir()
    tracker = OfflineEmissionsTracker(
        output_methods=[],
        output_dir=folder,
        emissions_endpoint=None,
        electricitymaps_api_token=None,
        cloud_provider=None,
        cloud_region=None,
        country_iso_code=None,
        region=None,
        tracking_mode="process",
        measure_power_secs=MEASURE_POWER_SECS,
        allow_multiple_runs=True,
        log_level="error",
        # Any value: emissions are computed by `finish` with the intensity the run names; this
        # keeps codecarbon from looking a country up.
        force_carbon_intensity_g_co2e_kwh=0.0,
    )
    tracker.start()
    return tracker


def _stop_tracker(tracker) -> dict[str, Any] | None:
    """codecarbon's totals, or None if it failed (it logs and swallows its own errors)."""
    if tracker is None:
        return None
    tracker.stop()
    data = getattr(tracker, "final_emissions_data", None)
    if data is None:
        return None
    cpu = next((h for h in getattr(tracker, "_hardware", []) if type(h).__name__ == "CPU"), None)
    mode = getattr(cpu, "_mode", None)
    methods = {
        "intel_rapl": "RAPL energy counters",
        "cpu_load": f"codecarbon CPU power model: TDP {getattr(cpu, '_tdp', '?')} W × the run's CPU load",
        "constant": f"codecarbon constant CPU power ({getattr(cpu, '_tdp', '?')} W TDP × 50%)",
    }
    return {
        "energy_kwh": data.energy_consumed,
        "cpu_energy_kwh": data.cpu_energy,
        "ram_energy_kwh": data.ram_energy,
        "gpu_energy_kwh": data.gpu_energy,
        "cpu_method": f"{methods.get(mode, str(mode))}; RAM: codecarbon's RAM power model",
        "hardware": {
            "cpu_model": data.cpu_model,
            "cpu_count": data.cpu_count,
            "ram_total_gb": round(data.ram_total_size, 2),
            "gpu_count": data.gpu_count,
        },
        "tracker": f"codecarbon {data.codecarbon_version} OfflineEmissionsTracker, tracking_mode=process",
    }


def _measured_energy(measured: dict[str, Any] | None, pue: float) -> dict[str, Any]:
    if measured is None:
        return {"energy_kwh": 0.0, "method": "not measured: codecarbon failed (see the log)"}
    kwh = measured.pop("energy_kwh") * pue
    return {"energy_kwh": kwh, "method": measured.pop("cpu_method"), **measured}


_VCPUS = re.compile(r"-(\d+)$")


def _estimate(runner: dict[str, Any], wall: float) -> dict[str, Any]:
    """Energy of remote workers from worker-hours and the machine type: every vCPU at
    WATTS_PER_VCPU for the job's wall time; memory, network and idle machines not counted."""
    workers = runner.get("num_workers") or runner.get("max_num_workers")
    machine = runner.get("machine_type") or runner.get("worker_machine_type")
    match = _VCPUS.search(machine or "")
    vcpus = int(match[1]) if match else 1
    assumed = []
    if not workers:  # local worker processes, or Portable's SDK workers per job
        workers = runner.get("direct_num_workers") or runner.get("sdk_worker_parallelism")
    if not workers:
        workers = 1
        assumed.append("1 worker")
    workers = int(workers)
    if not match:
        assumed.append("1 vCPU per worker")
    worker_hours = workers * wall / 3600
    method = (
        f"estimate: {worker_hours:.4f} worker-hours × {vcpus} vCPU ({machine or 'machine type not given'}) × "
        f"{WATTS_PER_VCPU} W per vCPU (codecarbon's default per CPU thread)"
        + (f"; assumed {', '.join(assumed)}" if assumed else "")
    )
    return {
        "cpu_seconds": worker_hours * 3600 * vcpus,  # what the workers held, an upper bound
        "energy_kwh": worker_hours * vcpus * WATTS_PER_VCPU / 1000,
        "method": method,
        "workers": {"count": workers, "machine_type": machine, "vcpus": vcpus, "worker_hours": worker_hours},
    }


# --- one tracker per job -----------------------------------------------------------------------

_CURRENT: contextvars.ContextVar[Footprint | None] = contextvars.ContextVar("rootstock_footprint", default=None)


def current() -> Footprint | None:
    return _CURRENT.get()


@contextlib.contextmanager
def tracking(kind: str | None = None, scratch: str | None = None, settings: FootprintSettings | None = None):
    """Measure the block as one job (KIND: run, refilter, mix, tokenizer; SCRATCH: a local
    directory of the job's, for codecarbon, which writes nothing there). A job already measured
    by an enclosing block (mix around its `execute`) is not measured twice."""
    existing = _CURRENT.get()
    if existing is not None:
        yield existing
        return
    footprint = Footprint(kind, scratch, settings).start()
    reset = _CURRENT.set(footprint)
    try:
        yield footprint
    finally:
        _CURRENT.reset(reset)
        if footprint.tracker is not None:  # never finished (the job failed): stop codecarbon's threads
            footprint.tracker.stop()


def manifest_footprint(footprint: Footprint, manifest: dict[str, Any]) -> dict[str, Any]:
    """The `footprint` block of a manifest `execute` is about to publish: the run config's
    settings (run, refilter) or the enclosing job's (mix)."""
    if footprint.kind is None:
        footprint.kind = "mix" if manifest.get("kind") == "mix" else "refilter" if "refilter" in manifest else "run"
    config = (manifest.get("config") or {}).get("footprint")
    settings = FootprintSettings.model_validate(config) if config is not None else None
    return footprint.finish(manifest["runner"], settings)


def card_section(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """What the card's "Environmental impact" section shows, formatted (None: not recorded)."""
    record = manifest.get("footprint")
    if not record:
        return None
    stages = [
        {"name": s["name"], "cpu": f"{s['cpu_seconds']:,.1f}", "wall": f"{s['wall_seconds']:,.1f}"}
        for s in record["stages"]
    ]
    intensity = record["carbon_intensity"]
    return {
        "job": record["job"],
        "wall": f"{record['wall_seconds']:,.1f}",
        "cpu": f"{record['cpu_seconds']:,.1f}",
        "other": f"{record['other_cpu_seconds']:,.1f}",
        "stages": stages,
        "timing": record.get("stage_timing", ""),
        "energy": f"{record['energy_kwh']:.3g}",
        "emissions": f"{record['emissions_kg_co2eq']:.3g}",
        "intensity": f"{intensity['g_co2eq_per_kwh']:g}",
        "intensity_source": intensity["source"],
        "pue": f"{record['pue']:g}",
        "method": record["method"],
        "estimate": record["estimate"],
    }


def measured(kind: str):
    """Decorator: the job function runs inside `tracking(KIND)` (mix, tokenizer train)."""

    def wrap(job):
        @functools.wraps(job)
        def run(*args, **kwargs):
            with tracking(kind):
                return job(*args, **kwargs)

        return run

    return wrap


def phase(name: str):
    """A phase of the job being measured (nothing if none is)."""
    footprint = _CURRENT.get()
    return footprint.phase(name) if footprint is not None else contextlib.nullcontext()


def finish_job(beam_args: list[str] | None, settings: FootprintSettings | None = None) -> dict[str, Any] | None:
    """The footprint of the job being measured, for a job that publishes no manifest (tokenizer
    train writes a card); BEAM_ARGS say which runner its pipelines ran on."""
    footprint = _CURRENT.get()
    if footprint is None:
        return None
    options = pipeline_options(beam_args)
    return footprint.finish({"runner": options.view_as(StandardOptions).runner, **runner_record(options)}, settings)
