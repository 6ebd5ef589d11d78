"""Collector vs genai-lens: forwarded spans/s per core for the same GenAI traffic and equivalent work.

Three configurations, each a fresh process tree, run in interleaved rounds (order rotated per round):

* ``collector``  — the genai-lens OpenTelemetry Collector distribution (``collector-config/build-otelcol``)
  with ``bench/collector-redaction.yaml``: otlp → memory_limiter → transform (dialect renames + computed
  cost) → redaction (PII regexes) → batch → otlp_http; ``taskset -c 0``, ``GOMAXPROCS=1``;
* ``serve-w1``   — ``genai-lens serve --workers 1`` with all four stages, started with CPU affinity {0}
  (what ``taskset -c 0`` does);
* ``serve-w2``   — ``genai-lens serve --workers 2`` on both cores, unpinned; the load generator and the sink
  share those cores with it.

For the pinned configurations the load generator (pre-encoded OTLP/HTTP protobuf over kept-alive
connections, ``loadgen.py``) and the counting sink run with affinity {1}. Spans are counted at the sink
over a fixed window after a warm-up (``serve_throughput.measure_peak``), so only forwarded spans count.
Each run reports spans/s per wall second and per CPU-second of the server process(es) — on a machine
shared with other jobs the second is what a dedicated core would deliver — plus the server's run-queue
wait (runnable, but another process had the CPU). After each run one forwarded request is taken from the
sink and checked: e-mail addresses and card numbers left anywhere in it, GenAI spans carrying
``gen_ai.usage.cost`` — so the comparison is of equivalent work.

``--collector-variants`` adds collector runs with one change each (all blocked_values as one regex; no
redaction processor; neither processor) to show where the collector's time goes. ``--profile S`` then
cProfiles serve's pipeline in-process (``inprocess.PipelineBench``) for S CPU-seconds on core 0.

    .venv/bin/python bench/collector_vs_serve.py                      # 3 rounds × 3 configurations, ~5 min
    .venv/bin/python bench/collector_vs_serve.py --collector-variants --profile 4 --json /tmp/cvs.json

A measurement, not a test: nothing asserts on time. Everything binds 127.0.0.1; every subprocess is
stopped before the script exits.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from inprocess import PipelineBench  # noqa: E402
from payload import build_requests, describe  # noqa: E402
from serve_throughput import (  # noqa: E402
    PROCESSORS,
    Serve,
    Sink,
    _spawn,
    _stop,
    _stop_all,
    cpu_seconds,
    measure_peak,
    phase,
)

COLLECTOR_CONFIG = HERE / "collector-redaction.yaml"
CONFIGS = ("collector", "serve-w1", "serve-w2")


# --collector-variants: the same collector with processors left out, to show where its time goes.
def _one_regex(config: dict[str, Any]) -> None:
    """All blocked_values as one alternation: one RE2 pass per string instead of one per pattern."""
    redaction = config["processors"]["redaction/pii"]
    redaction["blocked_values"] = ["|".join(f"(?:{v})" for v in redaction["blocked_values"])]


def _processors(*names: str) -> Callable[[dict[str, Any]], None]:
    def edit(config: dict[str, Any]) -> None:
        config["service"]["pipelines"]["traces"]["processors"] = list(names)

    return edit


# --collector-variants: the same collector changed one way each, to show where its time goes.
COLLECTOR_VARIANTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "collector-one-regex": _one_regex,
    "collector-no-redaction": _processors("memory_limiter", "transform/genai", "batch"),
    "collector-passthrough": _processors("memory_limiter", "batch"),
}
LABELS = {
    "collector": "OTel Collector, 1 core (transform + redaction)",
    "serve-w1": "genai-lens serve --workers 1, 1 core",
    "serve-w2": "genai-lens serve --workers 2, 2 cores (shared with loadgen + sink)",
    "collector-one-regex": "collector variant: the 16 blocked_values as one alternation, 1 core",
    "collector-no-redaction": "collector variant: transform only, 1 core",
    "collector-passthrough": "collector variant: no transform, no redaction, 1 core",
}
CORES = {"serve-w2": 2}  # every other configuration gets one core
SERVER_CORE, LOAD_CORE = 0, 1
QUEUE_BYTES = 64 << 20
GOAL = 0.5
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
CARD = re.compile(r"\b4111[ -]?1111[ -]?1111[ -]?1111\b")


@contextmanager
def affinity(cores: set[int]) -> Iterator[None]:
    """Run the block (and every process it starts, which inherits it) on ``cores``."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def runqueue_wait_seconds(pids: list[int]) -> float:
    """Time the threads of ``pids`` spent runnable but waiting for a CPU (``/proc/PID/task/*/schedstat``):
    on a shared machine, this is how much throughput other processes took from the server."""
    total = 0
    for pid in pids:
        for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            try:
                total += int(stat.read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return total / 1e9


class _WaitTracking:
    """Mixin: ``measure_peak`` reads ``cpu()`` at the start and end of its window; record the run-queue
    wait at the same moments so the window's wait is ``waits[-1] - waits[-2]``."""

    waits: list[float]

    def _server_pids(self) -> list[int]:
        raise NotImplementedError

    def cpu(self) -> float:
        self.waits = [*getattr(self, "waits", []), runqueue_wait_seconds(self._server_pids())]
        return cpu_seconds(self._server_pids())


class SampleSink(Sink):
    """``sample_sink.py``: ``sink.py``'s counting plus ``GET /last`` (the last forwarded request)."""

    def __init__(self) -> None:  # same start-up handshake as Sink.__init__, another script
        self.process = _spawn(
            [sys.executable, str(HERE / "sample_sink.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("port "):
            raise RuntimeError(f"sample sink did not start: {line!r}")
        self.port = int(line.split()[1])
        self.address = f"127.0.0.1:{self.port}"

    def last(self) -> bytes:
        with urllib.request.urlopen(f"http://{self.address}/last", timeout=10) as response:
            return response.read()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def collector_binary() -> str:
    """Path of the collector distribution: ``build-otelcol`` reuses its cache or waits on a running build."""
    out = subprocess.run(
        [str(REPO / "collector-config" / "build-otelcol")], capture_output=True, text=True, timeout=1800
    )
    if out.returncode != 0:
        raise RuntimeError(f"build-otelcol failed:\n{out.stderr}")
    return out.stdout.strip().splitlines()[-1]


def validate_collector_config(binary: str, config: Path = COLLECTOR_CONFIG) -> str:
    env = dict(os.environ, BENCH_SINK_URL="http://127.0.0.1:1/v1/traces")
    out = subprocess.run(
        [binary, "validate", "--config", str(config)], capture_output=True, text=True, env=env, timeout=60
    )
    if out.returncode != 0:
        raise RuntimeError(f"otelcol validate {config} failed:\n{out.stderr}")
    return subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()


class Collector(_WaitTracking):
    """The collector pinned to one core (``taskset -c 0``, ``GOMAXPROCS=1``), forwarding to ``sink``."""

    def __init__(self, binary: str, workdir: Path, sink: Sink, config: Path = COLLECTOR_CONFIG) -> None:
        self.address = f"127.0.0.1:{_free_port()}"
        env = dict(
            os.environ,
            GOMAXPROCS="1",
            BENCH_RECEIVER_ENDPOINT=self.address,
            BENCH_SINK_URL=f"http://{sink.address}/v1/traces",
        )
        self.stderr_path = workdir / "collector.err"
        command = ["taskset", "-c", str(SERVER_CORE), binary, "--config", str(config)]
        with open(self.stderr_path, "wb") as err:
            self.process = _spawn(command, stdout=subprocess.DEVNULL, stderr=err, env=env)
        self.pids = [self.process.pid]
        self._wait_listening()

    def _wait_listening(self, timeout: float = 30.0) -> None:
        host, port = self.address.rsplit(":", 1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"collector exited: {self.stderr_path.read_text(errors='replace')}")
            try:
                socket.create_connection((host, int(port)), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"collector not listening on {self.address} after {timeout}s")

    @property
    def http(self) -> str:
        return self.address

    def _server_pids(self) -> list[int]:
        return self.pids

    def metrics(self) -> dict[tuple[str, str], float]:
        return {}  # stage timings are genai-lens's; the collector's own telemetry is off in this config

    def stop(self) -> None:
        _stop(self.process)


# -- the equivalence check -------------------------------------------------------------------------------


def _strings(value: AnyValue) -> Iterator[str]:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        yield value.string_value
    elif kind == "array_value":
        for item in value.array_value.values:
            yield from _strings(item)
    elif kind == "kvlist_value":
        for kv in value.kvlist_value.values:
            yield from _strings(kv.value)


def check_forwarded(body: bytes) -> dict[str, Any]:
    """What a forwarded request shows about the work done: PII left, costs set, one redacted question."""
    request = ExportTraceServiceRequest.FromString(body)
    spans = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    emails = cards = costed = 0
    sample = ""
    for span in spans:
        attributes = {kv.key: kv.value for kv in span.attributes}
        costed += "gen_ai.usage.cost" in attributes
        for value in attributes.values():
            for text in _strings(value):
                emails += len(EMAIL.findall(text))
                cards += len(CARD.findall(text))
                if not sample and "Hi, I'm Jane Doe" in text:
                    start = text.index("Hi, I'm Jane Doe")
                    sample = text[start : start + 150]
    return {
        "spans": len(spans),
        "emails_left": emails,
        "cards_left": cards,
        "spans_with_cost": costed,
        "redacted_sample": sample,
    }


# -- runs ------------------------------------------------------------------------------------------------


def variant_config(name: str, workdir: Path) -> Path:
    """``collector-redaction.yaml`` changed as variant ``name`` says, written to ``workdir``."""
    config = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    COLLECTOR_VARIANTS[name](config)
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


class TrackedServe(_WaitTracking, Serve):
    def _server_pids(self) -> list[int]:
        return sorted({self.process.pid, *self.pids})


def run_one(
    name: str, binary: str, workdir: Path, args: argparse.Namespace, bodies_dir: Path, spans_per_request: int
) -> dict[str, Any]:
    pinned = CORES.get(name, 1) == 1
    load_cores = {LOAD_CORE} if pinned else {SERVER_CORE, LOAD_CORE}
    with affinity(load_cores):  # the sink, the load generator and this process's sampler
        sink = SampleSink()
        target: Any = None
        try:
            if name == "collector":
                target = Collector(binary, workdir, sink)
            elif name in COLLECTOR_VARIANTS:
                target = Collector(binary, workdir, sink, workdir / f"{name}.yaml")
            else:
                with affinity({SERVER_CORE} if pinned else {SERVER_CORE, LOAD_CORE}):
                    target = TrackedServe(workdir, name, sink, 1 if pinned else 2, QUEUE_BYTES)
            result = measure_peak(target, sink, args, bodies_dir, spans_per_request)
            result["runqueue_wait_util"] = (target.waits[-1] - target.waits[-2]) / result["window_s"]
            accepted = result["statuses"].get("200", 0) * spans_per_request
            result["accepted_spans_per_s"] = accepted / result["load_s"]  # whole load, warm-up included
            result["forwarded_check"] = check_forwarded(sink.last())
        finally:
            if target is not None:
                target.stop()
            sink.stop()
    result["cores"] = CORES.get(name, 1)
    result["spans_per_s_per_core"] = result["spans_per_s"] / result["cores"]
    return result


def profile_pipeline(bodies: list[bytes], seconds: float, workdir: Path) -> dict[str, Any]:
    """µs/span per step and the top functions of serve's pipeline (``inprocess.PipelineBench``: the
    same calls as the OTLP/HTTP ingest path, timed in thread CPU time, so other load does not count)."""
    with affinity({SERVER_CORE}):
        bench = PipelineBench(PROCESSORS)
        try:
            rate = bench.rate(bodies, seconds)
            top = bench.profile(bodies, seconds, workdir / "pipeline.pstats", top=15)
        finally:
            bench.close()
    return {"spans_per_cpu_s": rate["spans_per_s"], "us_per_span": rate["us_per_span"], "top": top}


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, results in runs.items():
        out[name] = {
            "rounds": [r["spans_per_s"] for r in results],
            "spans_per_s": statistics.median(r["spans_per_s"] for r in results),
            "spans_per_s_per_core": statistics.median(r["spans_per_s_per_core"] for r in results),
            "spans_per_cpu_s": statistics.median(r["spans_per_cpu_s"] for r in results),
            "accepted_spans_per_s": statistics.median(r["accepted_spans_per_s"] for r in results),
            "server_cpu_util": statistics.median(r["serve_cpu_util"] for r in results),
            "runqueue_wait_util": statistics.median(r["runqueue_wait_util"] for r in results),
            "sink_cpu_util": statistics.median(r["sink_cpu_util"] for r in results),
            "loadgen_cpu_util": statistics.median(r["loadgen_cpu_s"] / r["load_s"] for r in results),
            "statuses": results[-1]["statuses"],
            "forwarded_check": results[-1]["forwarded_check"],
            "stage_us_server": results[-1]["stage_us_server"],
        }
    return out


def render(results: dict[str, Any]) -> str:
    s = results["summary"]
    p = results["payload"]
    base = s.get("collector", {})
    lines = [
        f"Payload: {p['spans']} spans/request, {p['bytes'] / 1024:.0f} KiB/request; {p['genai_spans']} GenAI "
        f"chat spans ({p['genai_bytes_per_span']:.0f} B each, content with PII, 3 dialects) + "
        f"{p['spans'] - p['genai_spans']} HTTP/DB spans ({p['other_bytes_per_span']:.0f} B each)",
        f"Machine: {results['machine']}; load average at start {results['loadavg_start']}, "
        f"at end {results['loadavg_end']}",
        f"Collector: {results['collector_version']}; {args_line(results['args'])}",
        "",
        "| configuration | forwarded spans/s, median (rounds) | accepted (200) spans/s | per core (wall) "
        "| per CPU-second of the server | server on CPU / runnable, waiting | sink / loadgen CPU "
        "| ratio vs collector: wall per core / per CPU-s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in [*CONFIGS, *COLLECTOR_VARIANTS]:
        if name not in s:
            continue
        r = s[name]
        rounds = ", ".join(f"{v:,.0f}" for v in r["rounds"])
        ratio = "–"
        if base and name != "collector":
            ratio = (
                f"{r['spans_per_s_per_core'] / base['spans_per_s_per_core']:.2f} / "
                f"{r['spans_per_cpu_s'] / base['spans_per_cpu_s']:.2f}"
            )
        lines.append(
            f"| {LABELS[name]} | {r['spans_per_s']:,.0f} ({rounds}) | {r['accepted_spans_per_s']:,.0f} | "
            f"{r['spans_per_s_per_core']:,.0f} | "
            f"{r['spans_per_cpu_s']:,.0f} | {r['server_cpu_util'] * 100:.0f} % / "
            f"{r['runqueue_wait_util'] * 100:.0f} % | "
            f"{r['sink_cpu_util'] * 100:.0f} % / {r['loadgen_cpu_util'] * 100:.0f} % | {ratio} |"
        )
    lines += ["", "Forwarded request checked after each run (last round shown):", ""]
    lines += [
        "| configuration | spans | e-mails left | card numbers left | spans with gen_ai.usage.cost "
        "| the PII question as forwarded |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name in [*CONFIGS, *COLLECTOR_VARIANTS]:
        if name in s:
            c = s[name]["forwarded_check"]
            sample = c["redacted_sample"].replace("|", "\\|")
            lines.append(
                f"| {name} | {c['spans']} | {c['emails_left']} | {c['cards_left']} | "
                f"{c['spans_with_cost']} | `{sample}…` |"
            )
    stages = s.get("serve-w1", {}).get("stage_us_server", {})
    if stages:
        per_stage = ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
        lines += ["", f"serve --workers 1, stage wall time from /metrics (µs per received span): {per_stage}"]
    if base and "serve-w1" in s:
        w1 = s["serve-w1"]
        lines += [
            "",
            f"genai-lens per core / collector per core (serve --workers 1, pinned): "
            f"{w1['spans_per_s_per_core'] / base['spans_per_s_per_core']:.2f} wall, "
            f"{w1['spans_per_cpu_s'] / base['spans_per_cpu_s']:.2f} per CPU-second; goal ≥ {GOAL}",
        ]
    if results.get("profile"):
        prof = results["profile"]
        steps = ", ".join(f"{k} {v:.1f}" for k, v in prof["us_per_span"].items())
        lines += [
            "",
            f"serve's pipeline in-process, no network (inprocess.PipelineBench, thread CPU time): "
            f"{prof['spans_per_cpu_s']:,.0f} spans per CPU-second; µs/span: {steps}",
            "",
            "```",
            *prof["top"],
            "```",
        ]
    return "\n".join(lines)


def args_line(a: dict[str, Any]) -> str:
    return (
        f"{a['rounds']} interleaved rounds, {a['warmup']:.0f} s warm-up + {a['duration']:.0f} s window each, "
        f"{a['loadgen_procs']} loadgen process × {a['loadgen_threads']} kept-alive connections"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=15.0, help="measurement window per run")
    parser.add_argument("--spans-per-request", type=int, default=512)
    parser.add_argument(
        "--distinct-requests",
        type=int,
        default=24,
        help="pre-encoded requests cycled (as serve_throughput.py: more long strings than redact caches)",
    )
    parser.add_argument("--loadgen-procs", type=int, default=1)
    parser.add_argument("--loadgen-threads", type=int, default=6, help="connections per loadgen process")
    parser.add_argument("--only", default=",".join(CONFIGS), help=f"comma list of: {','.join(CONFIGS)}")
    parser.add_argument(
        "--collector-variants",
        action="store_true",
        help=f"also run {', '.join(COLLECTOR_VARIANTS)} (where the collector's time goes)",
    )
    parser.add_argument(
        "--profile",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="then cProfile serve's pipeline in-process on core 0 for SECONDS of CPU (hot spots)",
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    names = [n for n in CONFIGS if n in args.only.split(",")]
    if args.collector_variants:
        names += list(COLLECTOR_VARIANTS)
    if os.cpu_count() is None or os.cpu_count() < 2:
        parser.error("needs 2 cores: one for the server under test, one for the load generator and sink")

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(130))
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    results: dict[str, Any] = {
        "machine": (
            f"{os.cpu_count()} cores ({model}), Linux {platform.release()}, "
            f"Python {platform.python_version()}"
        ),
        "loadavg_start": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    workdir = Path(tempfile.mkdtemp(prefix="genai-lens-cvs-"))
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    try:
        binary = ""
        if any(n.startswith("collector") for n in names):
            with phase("collector binary (build-otelcol) + otelcol validate"):
                binary = collector_binary()
                results["collector_version"] = validate_collector_config(binary)
                for variant in COLLECTOR_VARIANTS:
                    if variant in names:
                        validate_collector_config(binary, variant_config(variant, workdir))
        else:
            results["collector_version"] = "(not run)"
        with phase("building payload"):
            bodies = build_requests(args.distinct_requests, args.spans_per_request)
            bodies_dir = workdir / "bodies"
            bodies_dir.mkdir()
            for i, body in enumerate(bodies):
                (bodies_dir / f"body-{i}.bin").write_bytes(body)
            results["payload"] = describe(bodies[0])
            spans_per_request = results["payload"]["spans"]
        for round_index in range(args.rounds):
            order = names[round_index % len(names) :] + names[: round_index % len(names)]
            for name in order:
                with phase(f"round {round_index + 1}/{args.rounds}: {name}"):
                    result = run_one(name, binary, workdir, args, bodies_dir, spans_per_request)
                    runs[name].append(result)
                    print(
                        f"   {result['spans_per_s']:,.0f} spans/s, server CPU "
                        f"{result['serve_cpu_util'] * 100:.0f} % (waiting "
                        f"{result['runqueue_wait_util'] * 100:.0f} %), "
                        f"{result['forwarded_check']['emails_left']} "
                        "e-mails left",
                        file=sys.stderr,
                        flush=True,
                    )
        if args.profile:
            with phase(f"in-process pipeline profile ({args.profile:.0f} CPU-s, core {SERVER_CORE})"):
                results["profile"] = profile_pipeline(bodies, args.profile, workdir)
    finally:
        _stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    results["loadavg_end"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    results["runs"] = runs
    results["summary"] = summarize(runs)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
