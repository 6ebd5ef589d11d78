"""Processor throughput benchmark for ``genai-lens serve`` (a measurement: nothing asserts on time).

One run measures, on the same payload (realistic GenAI traces, see ``payload.py``):

1. the ceiling — protobuf decode + a full attribute scan + encode, in-process, one core;
2. the pipeline in-process (every stage, no network), with µs/span per step and optionally a cProfile;
3. ``genai-lens serve --workers 1`` end to end: load generator processes → OTLP/HTTP (then OTLP/gRPC) →
   serve → a counting sink process; forwarded spans/s counted at the sink;
4. the same with ``--workers 2``, and with no stages configured (the server's own cost);
5. p50/p99 request latency at half the measured peak, through serve vs straight to the sink;
6. resident memory of serve under 10× overload with the backend down, for two ``queue.max_bytes``.

Rates are given per wall second and per CPU second of the process doing the work: the benchmark machine
may be shared (other jobs, and the load generator and sink compete for the same 2 cores), and CPU time is
what a dedicated core would turn into throughput. Everything binds 127.0.0.1; every subprocess is stopped
(SIGTERM, then SIGKILL of its own process group) before the script exits.

    .venv/bin/python bench/serve_throughput.py            # full run, about 3.5 minutes
    .venv/bin/python bench/serve_throughput.py --profile  # plus a cProfile of the in-process pipeline
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from inprocess import PipelineBench, ceiling_rate  # noqa: E402
from payload import build_requests, describe  # noqa: E402

from genai_lens.processor.native_pipeline import SWITCH, native_module  # noqa: E402

PROCESSORS: list[tuple[str, dict[str, Any]]] = [  # the default pipeline, in its default order
    ("redact", {}),
    ("normalize", {}),
    ("cost", {}),
    ("anomaly", {}),
]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_LIVE: list[subprocess.Popen[Any]] = []  # every subprocess we started, for the final clean-up


# -- processes -------------------------------------------------------------------------------------------


def _spawn(command: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
    process = subprocess.Popen(list(command), start_new_session=True, **kwargs)
    _LIVE.append(process)
    return process


def _stop(process: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    """SIGTERM the process; SIGKILL its own process group if it does not exit in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the group we created with start_new_session (workers too)
    except (ProcessLookupError, PermissionError):
        pass
    if process.poll() is None:
        process.wait(5)
    if process in _LIVE:
        _LIVE.remove(process)


def _stop_all() -> None:
    for process in list(_LIVE):
        _stop(process, timeout=5.0)


def cpu_seconds(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return total


def memory_kib(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out[line.split(":")[0]] = int(line.split()[1])
    return out


class Sink:
    """``sink.py`` in its own process."""

    def __init__(self, mode: str = "ok") -> None:
        self.process = _spawn(
            [sys.executable, str(HERE / "sink.py"), "--mode", mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("port "):
            raise RuntimeError(f"sink did not start: {line!r}")
        self.port = int(line.split()[1])
        self.address = f"127.0.0.1:{self.port}"

    def count(self) -> dict[str, int]:
        with urllib.request.urlopen(f"http://{self.address}/count", timeout=10) as response:
            return json.loads(response.read())

    def cpu(self) -> float:
        return cpu_seconds([self.process.pid])

    def stop(self) -> None:
        _stop(self.process)


class Serve:
    """``genai-lens serve`` in its own process group, started from a written YAML config."""

    def __init__(
        self,
        workdir: Path,
        name: str,
        sink: Sink,
        workers: int,
        queue_bytes: int,
        env: dict[str, str] | None = None,
        processors: list[tuple[str, dict[str, Any]]] | None = None,
    ) -> None:
        processors = PROCESSORS if processors is None else processors
        config = {
            "receivers": {
                "otlp": {
                    "protocols": {"http": {"endpoint": "127.0.0.1:0"}, "grpc": {"endpoint": "127.0.0.1:0"}}
                }
            },
            "processors": {name_: cfg for name_, cfg in processors},
            "exporters": {
                "otlphttp/sink": {
                    "endpoint": f"http://{sink.address}/v1/traces",
                    "compression": "none",  # loopback: gzip would cost CPU for nothing (its cost is reported)
                }
            },
            "queue": {"max_bytes": queue_bytes},
            "service": {
                "pipeline": {"processors": [n for n, _ in processors], "exporter": "otlphttp/sink"},
                "admin": {"endpoint": "127.0.0.1:0"},
                "log_level": "info",  # the start line (addresses) is logged at info
            },
        }
        path = workdir / f"{name}.yaml"
        path.write_text(yaml.safe_dump(config))
        self.stderr_path = workdir / f"{name}.err"
        command = [sys.executable, "-m", "genai_lens.cli", "serve", "--config", str(path)]
        command += ["--workers", str(workers)]
        with open(self.stderr_path, "wb") as err:
            self.process = _spawn(
                command, stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, **(env or {})}
            )
        # With --workers N each worker logs its own start line too; the supervisor's names worker_pids.
        self.addresses = self._wait_started("worker_pids=" if workers > 1 else "")
        self.pids = [int(p) for p in self.addresses.get("worker_pids", "").split(",") if p]
        self.pids = self.pids or [self.process.pid]

    def _wait_started(self, marker: str, timeout: float = 60.0) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stderr_path.read_text(errors="replace")
            for match in re.finditer(r"genai-lens serve started: (.*)", text):
                if marker in match.group(1):
                    return dict(p.split("=", 1) for p in match.group(1).split() if "=" in p)
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}:\n{text}")
            time.sleep(0.05)
        raise RuntimeError(f"serve did not start in {timeout}s")

    @property
    def http(self) -> str:
        return self.addresses["http"]

    def cpu(self) -> float:
        return cpu_seconds([self.process.pid, *self.pids] if self.pids != [self.process.pid] else self.pids)

    def metrics(self) -> dict[tuple[str, str], float]:
        """``(metric, labels-text) → value`` summed over workers."""
        with urllib.request.urlopen(f"http://{self.addresses['admin']}/metrics", timeout=10) as response:
            text = response.read().decode()
        out: dict[tuple[str, str], float] = {}
        for line in text.splitlines():
            match = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$", line)
            if not match:
                continue
            labels = ",".join(
                p for p in (match.group(2) or "").split(",") if p and not p.startswith("worker=")
            )
            key = (match.group(1), labels)
            out[key] = out.get(key, 0.0) + float(match.group(3))
        return out

    def stop(self) -> None:
        _stop(self.process, timeout=20.0)


def run_load(
    target: str,
    bodies_dir: Path,
    spans_per_request: int,
    duration: float,
    processes: int,
    threads: int,
    rate: float = 0.0,
    on_start: Any = None,
    protocol: str = "http",
) -> dict[str, Any]:
    """Run ``processes`` loadgen processes in parallel; merge their JSON results."""
    start_at = time.time() + 0.5
    total = processes * threads
    procs = []
    for p in range(processes):
        command = [sys.executable, str(HERE / "loadgen.py"), "--target", target, "--bodies", str(bodies_dir)]
        command += ["--threads", str(threads), "--thread-index", str(p * threads)]
        command += ["--total-threads", str(total), "--rate", str(rate), "--start-at", str(start_at)]
        command += ["--duration", str(duration), "--spans-per-request", str(spans_per_request)]
        command += ["--protocol", protocol]
        procs.append(_spawn(command, stdout=subprocess.PIPE, text=True))
    if on_start is not None:
        on_start(start_at)
    results = []
    for process in procs:
        out, _ = process.communicate(timeout=duration + 120)
        _LIVE.remove(process)
        results.append(json.loads(out))
    statuses: dict[str, int] = {}
    for result in results:
        for status, count in result["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "statuses": statuses,
        "spans_ok": sum(r["spans_ok"] for r in results),
        "records": sorted(tuple(rec) for r in results for rec in r["records"]),
        "cpu_s": sum(r["cpu_s"] for r in results),
        "pids": [p.pid for p in procs],
    }


def median_by_rate(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median ``spans_per_s`` (its per-step numbers stay consistent with its rate)."""
    return dict(sorted(runs, key=lambda r: r["spans_per_s"])[len(runs) // 2])


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# -- phases ----------------------------------------------------------------------------------------------


@contextmanager
def phase(title: str) -> Iterator[None]:
    print(f"\n== {title}", file=sys.stderr, flush=True)
    started = time.monotonic()
    yield
    print(f"   ({time.monotonic() - started:.1f}s)", file=sys.stderr, flush=True)


def measure_peak(
    serve: Serve,
    sink: Sink,
    args: argparse.Namespace,
    bodies_dir: Path,
    spans_per_request: int,
    protocol: str = "http",
) -> dict[str, Any]:
    """Closed-loop load for warmup + duration; rates over the post-warmup window, counted at the sink."""
    marks: dict[str, Any] = {}

    def sample(start_at: float) -> None:
        time.sleep(max(0.0, start_at - time.time()) + args.warmup)
        marks["t0"], marks["sink0"], marks["cpu0"] = time.monotonic(), sink.count()["spans"], serve.cpu()
        marks["pids0"] = [cpu_seconds([pid]) for pid in serve.pids]
        marks["sinkcpu0"], marks["m0"] = sink.cpu(), serve.metrics()
        time.sleep(args.duration)
        marks["t1"], marks["sink1"], marks["cpu1"] = time.monotonic(), sink.count()["spans"], serve.cpu()
        marks["pids1"] = [cpu_seconds([pid]) for pid in serve.pids]
        marks["sinkcpu1"], marks["m1"] = sink.cpu(), serve.metrics()

    sampler: threading.Thread | None = None

    def on_start(start_at: float) -> None:
        nonlocal sampler
        sampler = threading.Thread(target=sample, args=(start_at,), daemon=True)
        sampler.start()

    load = run_load(
        serve.addresses["grpc"] if protocol == "grpc" else serve.http,
        bodies_dir,
        spans_per_request,
        args.warmup + args.duration + 1.0,
        args.loadgen_procs,
        args.loadgen_threads,
        on_start=on_start,
        protocol=protocol,
    )
    assert sampler is not None
    sampler.join()
    wall = marks["t1"] - marks["t0"]
    spans = marks["sink1"] - marks["sink0"]
    cpu = marks["cpu1"] - marks["cpu0"]
    m0, m1 = marks["m0"], marks["m1"]
    received = sum(v for (n, _), v in m1.items() if n == "genai_lens_spans_received_total") - sum(
        v for (n, _), v in m0.items() if n == "genai_lens_spans_received_total"
    )
    forwarded = sum(v for (n, _), v in m1.items() if n == "genai_lens_spans_forwarded_total") - sum(
        v for (n, _), v in m0.items() if n == "genai_lens_spans_forwarded_total"
    )
    stage_us = {}
    for (name, labels), value in m1.items():
        if name == "genai_lens_stage_seconds_total" and received:
            stage = labels.split('"')[1]
            stage_us[stage] = (value - m0.get((name, labels), 0.0)) / received * 1e6
    return {
        "spans_per_s": spans / wall,
        "spans_per_cpu_s": spans / cpu if cpu else float("nan"),
        "serve_cpu_util": cpu / wall,
        "worker_cpu_util": [(b - a) / wall for a, b in zip(marks["pids0"], marks["pids1"], strict=True)],
        "sink_cpu_util": (marks["sinkcpu1"] - marks["sinkcpu0"]) / wall,
        "loadgen_cpu_s": load["cpu_s"],
        "statuses": load["statuses"],
        "stage_us_server": stage_us,
        "sink_spans": spans,  # cross-check: serve's own forwarded counter over the same window
        "serve_forwarded_spans": forwarded,
        "window_s": wall,
        "load_s": args.warmup + args.duration + 1.0,
    }


def measure_latency(
    target: str, bodies_dir: Path, spans_per_request: int, rate: float, args: argparse.Namespace
):
    load = run_load(target, bodies_dir, spans_per_request, args.latency_duration, 1, 4, rate=rate)
    latencies = [lat for off, lat, status in load["records"] if off >= 1.0 and 200 <= status < 300]
    return {
        "requests": len(latencies),
        "p50_ms": percentile(latencies, 50) * 1e3,
        "p99_ms": percentile(latencies, 99) * 1e3,
        "max_ms": max(latencies) * 1e3 if latencies else float("nan"),
        "statuses": load["statuses"],
    }


def measure_overload(
    workdir: Path,
    down_sink: Sink,
    queue_bytes: int,
    rate: float,
    bodies_dir: Path,
    spans_per_request: int,
    args: argparse.Namespace,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    serve = Serve(workdir, f"overload-{queue_bytes >> 20}MiB", down_sink, 1, queue_bytes, env)
    try:
        idle = memory_kib(serve.process.pid)["VmRSS"]
        peak = {"rss": idle}
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(0.1):
                try:
                    peak["rss"] = max(peak["rss"], memory_kib(serve.process.pid)["VmRSS"])
                except OSError:
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        load = run_load(serve.http, bodies_dir, spans_per_request, args.overload_duration, 2, 4, rate=rate)
        stop.set()
        watcher.join()
        mem = memory_kib(serve.process.pid)
        metrics = serve.metrics()

        def total(metric: str) -> float:
            return sum(v for (n, _), v in metrics.items() if n == metric)

        return {
            "env": " ".join(f"{k}={v}" for k, v in (env or {}).items()),
            "queue_mib": queue_bytes / 2**20,
            "idle_rss_mib": idle / 1024,
            "peak_rss_mib": max(peak["rss"], mem["VmHWM"]) / 1024,
            "offered_req_per_s": sum(load["statuses"].values()) / args.overload_duration,
            "statuses": load["statuses"],
            "accepted_spans": load["spans_ok"],
            "queued_spans": total("genai_lens_queue_spans"),
            "queue_bytes_mib": total("genai_lens_queue_bytes") / 2**20,
            "forwarded_spans": total("genai_lens_spans_forwarded_total"),
            "dropped_spans": total("genai_lens_spans_dropped_total"),
            "refused_spans": total("genai_lens_spans_refused_total"),
        }
    finally:
        serve.stop()


# -- report ------------------------------------------------------------------------------------------


def _rounds(result: dict[str, Any]) -> str:
    return "/".join(f"{r / 1000:.1f}k" for r in result.get("rounds", [result["spans_per_s"]]))


def render(results: dict[str, Any]) -> str:
    p = results["payload"]
    ceiling = results["ceiling"]["spans_per_s"]
    lines = [
        f"Payload: {p['spans']} spans/request, {p['bytes'] / 1024:.0f} KiB/request; "
        f"{p['genai_spans']} GenAI spans ({p['genai_bytes_per_span']:.0f} B each, 3 dialects) + "
        f"{p['spans'] - p['genai_spans']} HTTP/DB spans ({p['other_bytes_per_span']:.0f} B each)",
        f"Machine: {os.cpu_count()} cores, load average at start {results['loadavg_start']}, "
        f"at end {results['loadavg_end']}",
        "",
        "| measurement | spans/s (wall) | spans per CPU-second | ratio to ceiling | notes |",
        "|---|---:|---:|---:|---|",
        "| ceiling: decode + full attribute scan + encode (in-process, 1 core) | – | "
        f"{ceiling:,.0f} | 1.00 | median of {_rounds(results['ceiling'])}; "
        f"decode {results['ceiling']['decode_us']:.1f} + scan {results['ceiling']['scan_us']:.1f} + "
        f"encode {results['ceiling']['encode_us']:.1f} µs/span |",
    ]
    pipe = results["pipeline"]
    for key, label in (
        ("pipeline", "pipeline only, all 4 stages, Python stages (in-process, no network)"),
        ("pipeline_native", "pipeline only, all 4 stages, native core (in-process, no network)"),
    ):
        if key in results:
            r = results[key]
            lines.append(
                f"| {label} | – | {r['spans_per_s']:,.0f} | {r['spans_per_s'] / ceiling:.2f} | "
                f"{sum(r['us_per_span'].values()):.0f} µs/span; median of {_rounds(r)} |"
            )
    for key, label in (
        ("serve_w1_python", "serve --workers 1, Python stages (GENAI_LENS_NATIVE=off), OTLP/HTTP → sink"),
        ("serve_w1", "serve --workers 1, OTLP/HTTP → sink"),
        ("serve_w1_grpc", "serve --workers 1, OTLP/gRPC → sink"),
        ("serve_w2", "serve --workers 2, OTLP/HTTP → sink"),
        ("serve_nostages", "serve --workers 1, no stages (server alone), OTLP/HTTP"),
        ("serve_nostages_grpc", "serve --workers 1, no stages (server alone), OTLP/gRPC"),
    ):
        if key not in results:
            continue
        r = results[key]
        per_worker = r["spans_per_cpu_s"]
        note = (
            f"serve CPU {r['serve_cpu_util'] * 100:.0f} % of a core, sink {r['sink_cpu_util'] * 100:.0f} %, "
            f"load generators {r['loadgen_cpu_s'] / r['load_s'] * 100:.0f} %; answers {r['statuses']}"
        )
        if key == "serve_w2" and "serve_w1" in results:
            split = " + ".join(f"{u * 100:.0f}" for u in r["worker_cpu_util"])
            note += (
                f"; workers {split} %; ×{r['spans_per_s'] / results['serve_w1']['spans_per_s']:.2f} wall, "
                f"×{r['spans_per_cpu_s'] / results['serve_w1']['spans_per_cpu_s']:.2f} per CPU-s vs 1 worker"
            )
        lines.append(
            f"| {label} | {r['spans_per_s']:,.0f} | {per_worker:,.0f} | {per_worker / ceiling:.2f} | {note} |"
        )
    lines += [
        "",
        "Where a span's time goes (µs/span, all spans averaged; in-process = CPU time, server = wall):",
        "",
    ]
    native_us = results.get("pipeline_native", {}).get("us_per_span", {})
    lines += [
        "| step | in-process, Python stages | in-process, native core | serve /metrics |",
        "|---|---:|---:|---:|",
    ]
    server_us = results.get("serve_w1", {}).get("stage_us_server", {})
    for step in dict.fromkeys([*pipe["us_per_span"], *native_us]):
        stage = step.split(":", 1)[1] if step.startswith("stage:") else None
        server = f"{server_us[stage]:.1f}" if stage in server_us else "–"
        python_cell = f"{pipe['us_per_span'][step]:.1f}" if step in pipe["us_per_span"] else "–"
        native_cell = f"{native_us[step]:.1f}" if step in native_us else "–"
        lines.append(f"| {step} | {python_cell} | {native_cell} | {server} |")
    lines.append(
        f"| (gzip level 5 of the output, exporter default; off in this run) | {pipe['gzip_us']:.1f} | – | – |"
    )
    for key, title in (
        ("by_kind", "Python stages"),
        ("by_kind_native", "native core"),
    ):
        if not results.get(key):
            continue
        kinds = list(results[key])
        steps = list(dict.fromkeys(step for k in kinds for step in results[key][k]))
        lines += [
            "",
            f"The same steps per kind of span, {title} (requests filtered to one kind; µs/span, CPU time):",
            "",
            "| step | " + " | ".join(kinds) + " |",
            "|---|" + "---:|" * len(kinds),
        ]
        for step in steps:
            cells = " | ".join(f"{results[key][k].get(step, 0.0):.1f}" for k in kinds)
            lines.append(f"| {step} | {cells} |")
        totals = " | ".join(f"{sum(results[key][k].values()):.0f}" for k in kinds)
        lines.append(f"| total | {totals} |")
    if "latency" in results:
        lat = results["latency"]
        lines += [
            "",
            f"Latency at half of peak ({lat['rate_req_s']:.2f} requests/s = "
            f"{lat['rate_spans_s']:,.0f} spans/s, "
            f"{lat['via_serve']['requests']} requests each):",
            "",
            "| path | p50 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|",
        ]
        for key, label in (
            ("direct", "loadgen → sink"),
            ("via_serve", "loadgen → serve (all stages) → queue"),
        ):
            r = lat[key]
            lines.append(f"| {label} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} |")
        lines.append(
            f"| added by serve | {lat['via_serve']['p50_ms'] - lat['direct']['p50_ms']:.1f} | "
            f"{lat['via_serve']['p99_ms'] - lat['direct']['p99_ms']:.1f} | |"
        )
    if results.get("overload"):
        lines += [
            "",
            "Overload: backend down (503), load generator at 10× the measured peak, ignoring Retry-After:",
            "",
            "| queue.max_bytes | idle RSS | peak RSS | peak − idle | queued | offered req/s | answers | "
            "accepted = queued + forwarded + dropped |",
            "|---|---:|---:|---:|---:|---:|---|---|",
        ]
        for r in results["overload"]:
            balance = r["queued_spans"] + r["forwarded_spans"] + r["dropped_spans"]
            lines.append(
                f"| {r['queue_mib']:.0f} MiB {r.get('env', '')} | {r['idle_rss_mib']:.0f} MiB | "
                f"{r['peak_rss_mib']:.0f} MiB | "
                f"{r['peak_rss_mib'] - r['idle_rss_mib']:.0f} MiB | {r['queue_bytes_mib']:.1f} MiB | "
                f"{r['offered_req_per_s']:.1f} | {r['statuses']} | {r['accepted_spans']:,} = "
                f"{r['queued_spans']:,.0f} + {r['forwarded_spans']:,.0f} + {r['dropped_spans']:,.0f} "
                f"({'ok' if balance == r['accepted_spans'] else 'MISMATCH'}) |"
            )
    if results.get("profile"):
        lines += ["", "cProfile of the in-process pipeline (top functions by own time):", "", "```"]
        lines += results["profile"]
        lines.append("```")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans-per-request", type=int, default=512)
    parser.add_argument(
        "--distinct-requests",
        type=int,
        default=24,
        help="pre-encoded requests cycled by the load generator; enough that cycling them does not turn "
        "unique content into cache hits (redact keeps digests of 8192 clean strings)",
    )
    parser.add_argument(
        "--inprocess-seconds", type=float, default=6.0, help="CPU seconds per in-process rate"
    )
    parser.add_argument("--inprocess-rounds", type=int, default=3, help="interleaved ceiling/pipeline rounds")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=10.0, help="measurement window per serve run")
    parser.add_argument("--latency-duration", type=float, default=15.0)
    parser.add_argument("--overload-duration", type=float, default=10.0)
    parser.add_argument("--queue-sizes", default="16MiB,64MiB", help="queue.max_bytes for the overload runs")
    parser.add_argument("--loadgen-procs", type=int, default=2)
    parser.add_argument("--loadgen-threads", type=int, default=3, help="connections per loadgen process")
    parser.add_argument(
        "--skip", default="", help="comma list of: python,grpc,nostages,workers2,latency,overload"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process pipeline")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(130))
    results: dict[str, Any] = {"loadavg_start": " ".join(Path("/proc/loadavg").read_text().split()[:3])}
    workdir = Path(tempfile.mkdtemp(prefix="genai-lens-bench-"))
    try:
        with phase("building payload"):
            bodies = build_requests(args.distinct_requests, args.spans_per_request)
            bodies_dir = workdir / "bodies"
            bodies_dir.mkdir()
            for i, body in enumerate(bodies):
                (bodies_dir / f"body-{i}.bin").write_bytes(body)
            results["payload"] = describe(bodies[0])
            spans_per_request = results["payload"]["spans"]
        with phase("ceiling and pipeline (in-process, interleaved rounds)"):
            # Alternating short rounds and taking medians keeps drift on a shared VM (frequency, noisy
            # neighbours) from landing on one side of the ratio.
            bench = PipelineBench(PROCESSORS)
            native = PipelineBench(PROCESSORS, native=True) if native_module() is not None else None
            ceilings, pipelines, natives = [], [], []
            for round_index in range(args.inprocess_rounds):
                share = args.inprocess_seconds / args.inprocess_rounds
                ceilings.append(ceiling_rate(bodies, share))
                pipelines.append(bench.rate(bodies, share, warm_up=round_index == 0))
                if native is not None:
                    natives.append(native.rate(bodies, share, warm_up=round_index == 0))
            for key, rounds in (("ceiling", ceilings), ("pipeline", pipelines), ("pipeline_native", natives)):
                if rounds:
                    results[key] = median_by_rate(rounds)
                    results[key]["rounds"] = [r["spans_per_s"] for r in rounds]
            bench.last_us_per_span = results["pipeline"]["us_per_span"]
            results["by_kind"] = bench.by_kind(bodies, args.inprocess_seconds / 4)
            if native is not None:
                results["by_kind_native"] = native.by_kind(bodies, args.inprocess_seconds / 4)
                native.close()
            if args.profile:
                results["profile"] = bench.profile(
                    bodies, args.inprocess_seconds / 2, workdir / "pipeline.pstats"
                )
        bench.close()
        sink = Sink()
        try:
            with phase("serve --workers 1: peak"):
                serve = Serve(workdir, "serve-w1", sink, 1, 64 << 20)
                try:
                    results["serve_w1"] = measure_peak(serve, sink, args, bodies_dir, spans_per_request)
                    if "latency" not in skip:
                        rate = 0.5 * results["serve_w1"]["spans_per_s"] / spans_per_request
                        with phase(f"latency at {rate:.2f} requests/s"):
                            results["latency"] = {
                                "rate_req_s": rate,
                                "rate_spans_s": rate * spans_per_request,
                                "via_serve": measure_latency(
                                    serve.http, bodies_dir, spans_per_request, rate, args
                                ),
                                "direct": measure_latency(
                                    sink.address, bodies_dir, spans_per_request, rate, args
                                ),
                            }
                    if "grpc" not in skip:
                        with phase("serve --workers 1: peak over OTLP/gRPC"):
                            results["serve_w1_grpc"] = measure_peak(
                                serve, sink, args, bodies_dir, spans_per_request, protocol="grpc"
                            )
                finally:
                    serve.stop()
            if "python" not in skip and native_module() is not None:
                with phase("serve --workers 1, Python stages only (GENAI_LENS_NATIVE=off): peak"):
                    serve = Serve(workdir, "serve-python", sink, 1, 64 << 20, env={SWITCH: "off"})
                    try:
                        results["serve_w1_python"] = measure_peak(
                            serve, sink, args, bodies_dir, spans_per_request
                        )
                    finally:
                        serve.stop()
            if "nostages" not in skip:
                with phase("serve --workers 1 without stages: peak"):
                    serve = Serve(workdir, "serve-nostages", sink, 1, 64 << 20, processors=[])
                    try:
                        results["serve_nostages"] = measure_peak(
                            serve, sink, args, bodies_dir, spans_per_request
                        )
                        if "grpc" not in skip:
                            results["serve_nostages_grpc"] = measure_peak(
                                serve, sink, args, bodies_dir, spans_per_request, protocol="grpc"
                            )
                    finally:
                        serve.stop()
            if "workers2" not in skip:
                with phase("serve --workers 2: peak"):
                    serve = Serve(workdir, "serve-w2", sink, 2, 64 << 20)
                    try:
                        results["serve_w2"] = measure_peak(serve, sink, args, bodies_dir, spans_per_request)
                    finally:
                        serve.stop()
        finally:
            sink.stop()
        if "overload" not in skip:
            down = Sink("down")
            try:
                rate = 10 * results["serve_w1"]["spans_per_s"] / spans_per_request
                results["overload"] = []
                runs = [(size, None) for size in args.queue_sizes.split(",")]
                # serve caps glibc malloc arenas at 2 (server/malloc_arenas.py); 16 = glibc's own default
                # on 2 cores, i.e. the same run without the cap
                runs.append((args.queue_sizes.split(",")[0], {"MALLOC_ARENA_MAX": "16"}))
                for size, env in runs:
                    queue_bytes = int(size.removesuffix("MiB")) << 20
                    with phase(f"overload at {rate:.1f} requests/s, queue {size} {env or ''}"):
                        results["overload"].append(
                            measure_overload(
                                workdir, down, queue_bytes, rate, bodies_dir, spans_per_request, args, env
                            )
                        )
            finally:
                down.stop()
    finally:
        _stop_all()
    results["loadavg_end"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
