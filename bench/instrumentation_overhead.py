"""Per-call and per-chunk overhead of OpenAI instrumentation: genai-lens vs. the other instrumentors.

Every instrumentor runs in its own venv (built here from ``bench/peers/*.txt``) and its own process, with
content capture off and on (each peer's own switch). Processes take turns in interleaved rounds
(baseline, genai-lens, otel-genai, openinference, openllmetry, baseline, ...) and the overhead is
"instrumented minus baseline measured in the same round". The openai client answers from recorded
cassette bytes through an in-process transport (see ``overhead_worker.py``), so microseconds of
instrumentation are not buried under HTTP round-trip noise. This is a benchmark: it never asserts on time.

    .venv/bin/python bench/instrumentation_overhead.py              # openai 3.x and 1.x, ~3-4 min
    .venv/bin/python bench/instrumentation_overhead.py --profile    # + cProfile hot spots of genai-lens
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_venvs import BENCH_ROOT, REPO_ROOT, bench_dir, ensure_venv  # noqa: E402

from genai_lens.replay.cassette import load_cassette  # noqa: E402
from genai_lens.replay.server import split_events  # noqa: E402

CASSETTES = REPO_ROOT / ".." / "shared" / "cassettes" / "openai"
CHAT_CASSETTE = CASSETTES / "chat_basic_gpt35.yaml"
STREAM_CASSETTE = CASSETTES / "chat_streaming_include_usage_gpt4.yaml"
WORKER = BENCH_ROOT / "overhead_worker.py"
COMPONENTS = BENCH_ROOT / "overhead_components.py"
OPENAI_MAJORS = ("3", "1")
PEERS = ("baseline", "genai-lens", "sdk-floor", "otel-genai", "openinference", "openllmetry")
PROJECT = "genai-lens"
# reference row, not a peer: genai-lens' own OTel SDK calls replayed, nothing else (overhead_worker.py);
# it runs in the genai-lens venv and is never counted as the best peer
SDK_FLOOR = "sdk-floor"
CHUNK_GOAL_US = 2.0
CALL_GOAL_FRACTION = 0.5

# Each peer's own content switch. "off"/"on" means message content kept out of / put into telemetry.
_OI_HIDE = (
    "OPENINFERENCE_HIDE_INPUTS",
    "OPENINFERENCE_HIDE_OUTPUTS",
    "OPENINFERENCE_HIDE_INPUT_MESSAGES",
    "OPENINFERENCE_HIDE_OUTPUT_MESSAGES",
    "OPENINFERENCE_HIDE_INPUT_TEXT",
    "OPENINFERENCE_HIDE_OUTPUT_TEXT",
)
_GENAI_LENS_CAPTURE = {
    False: {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "false"},
    True: {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"},
}
CAPTURE_ENV: dict[str, dict[bool, dict[str, str]]] = {
    "genai-lens": _GENAI_LENS_CAPTURE,
    SDK_FLOOR: _GENAI_LENS_CAPTURE,  # it replays what genai-lens emits with that setting
    "otel-genai": {  # util-genai takes a mode name, "true" is not one (it means no content)
        False: {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "no_content"},
        True: {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_only"},
    },
    "openinference": {
        False: {name: "true" for name in _OI_HIDE},
        True: {name: "false" for name in _OI_HIDE},
    },
    "openllmetry": {
        False: {"TRACELOOP_TRACE_CONTENT": "false"},
        True: {"TRACELOOP_TRACE_CONTENT": "true"},
    },
}
# every switch any peer reads, cleared before a worker starts so only its own settings apply
_ALL_SWITCHES = {name for modes in CAPTURE_ENV.values() for env in modes.values() for name in env}


# ---------------------------------------------------------------------------------------------- fixtures


def _sse(payload: dict[str, Any]) -> str:
    return "data: " + json.dumps(payload, separators=(",", ":")) + "\n\n"


def build_fixtures(chunks: int) -> dict[str, Any]:
    """Recorded chat response, and a ``chunks``-long SSE stream synthesized from the recorded chunk shapes."""
    chat = load_cassette(CHAT_CASSETTE)[0]
    recorded = load_cassette(STREAM_CASSETTE)[0]
    payloads = []
    for event in split_events(recorded.body):
        data = event.decode().strip()
        if data.startswith("data: {"):
            payloads.append(json.loads(data[len("data: ") :]))
    role = next(p for p in payloads if p["choices"] and "role" in p["choices"][0]["delta"])
    texts = [p for p in payloads if p["choices"] and p["choices"][0]["delta"].get("content")]
    finish = next(p for p in payloads if p["choices"] and p["choices"][0]["finish_reason"])
    usage = next(p for p in payloads if not p["choices"] and p.get("usage"))
    body_chunks = max(chunks - 3, 1)
    usage = json.loads(json.dumps(usage))
    usage["usage"]["completion_tokens"] = body_chunks
    usage["usage"]["total_tokens"] = usage["usage"]["prompt_tokens"] + body_chunks
    events = [_sse(role)]
    events += [_sse(texts[i % len(texts)]) for i in range(body_chunks)]
    events += [_sse(finish), _sse(usage), "data: [DONE]\n\n"]
    stream_request = dict(recorded.request_json)
    return {
        "chat": {
            "request": chat.request_json,
            "headers": [[k, v] for k, v in chat.headers],
            "body": chat.body.decode(),
        },
        "stream": {
            "request": stream_request,
            "headers": [[k, v] for k, v in recorded.headers],
            "events": events,
            "chunks": body_chunks + 3,
        },
    }


# ----------------------------------------------------------------------------------------------- workers


@dataclass
class Worker:
    """One running worker process: a peer with content capture off or on, in that peer's venv."""

    peer: str
    capture: bool
    process: subprocess.Popen[str]
    info: dict[str, Any] = field(default_factory=dict)
    rounds: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.peer if self.peer == "baseline" else f"{self.peer}/{'on' if self.capture else 'off'}"

    def send(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return _read_json(self)

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _read_json(worker: Worker, prefix: str = "") -> dict[str, Any]:
    assert worker.process.stdout is not None
    while True:
        line = worker.process.stdout.readline()
        if not line:
            stderr = worker.process.stderr.read() if worker.process.stderr else ""
            raise SystemExit(f"worker {worker.label} died:\n{stderr[-3000:]}")
        if line.startswith(prefix) and line[len(prefix) :].lstrip().startswith("{"):
            return json.loads(line[len(prefix) :])


def start_worker(python: Path, peer: str, capture: bool, fixtures: Path) -> Worker:
    env = {k: v for k, v in os.environ.items() if k not in _ALL_SWITCHES and not k.startswith("OTEL_")}
    env.update(CAPTURE_ENV.get(peer, {}).get(capture, {}))
    env["PYTHONHASHSEED"] = "0"
    process = subprocess.Popen(
        [str(python), str(WORKER), peer, str(fixtures)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(bench_dir()),  # not the repo: only the venv's own genai_lens (if any) is importable
    )
    worker = Worker(peer, capture, process)
    worker.info = _read_json(worker, prefix="READY ")
    return worker


# ------------------------------------------------------------------------------------------------- stats


def _median_us(values_ns: list[float]) -> float:
    return statistics.median(values_ns) / 1000.0


def summarize(workers: list[Worker]) -> list[dict[str, Any]]:
    """Per worker: medians per round, overhead vs the same round's baseline, median over rounds."""
    baseline = next(w for w in workers if w.peer == "baseline")
    rows = []
    for worker in workers:
        over: dict[str, list[float]] = {
            k: [] for k in ("call", "chunk", "open", "end", "cpu_call", "cpu_chunk")
        }
        absolute: dict[str, list[float]] = {k: [] for k in over}
        for own, base in zip(worker.rounds, baseline.rounds, strict=True):
            for key, mine, theirs in (
                ("call", _median_us(own["call_ns"]), _median_us(base["call_ns"])),
                ("chunk", _median_us(own["chunk_ns"]), _median_us(base["chunk_ns"])),
                ("open", _median_us(own["stream_open_ns"]), _median_us(base["stream_open_ns"])),
                ("end", _median_us(own["stream_end_ns"]), _median_us(base["stream_end_ns"])),
                ("cpu_call", _cpu_us(own, "chat"), _cpu_us(base, "chat")),
                ("cpu_chunk", _cpu_us(own, "stream"), _cpu_us(base, "stream")),
            ):
                absolute[key].append(mine)
                over[key].append(mine - theirs)
        calls = sum(len(r["call_ns"]) for r in worker.rounds)
        streams = sum(len(r["stream_open_ns"]) for r in worker.rounds)
        row: dict[str, Any] = {
            "label": worker.label,
            "peer": worker.peer,
            "capture": worker.capture,
            "info": worker.info,
            "spans_per_call": sum(r["chat_spans"] for r in worker.rounds) / calls,
            "spans_per_stream": sum(r["stream_spans"] for r in worker.rounds) / streams,
            "logs_per_call": sum(r["chat_logs"] for r in worker.rounds) / calls,
            "chunks_per_stream": worker.rounds[-1]["chunks_per_stream"],
            "calls": calls,
            "streams": streams,
        }
        for key in over:
            row[f"{key}_us"] = statistics.median(absolute[key])
            row[f"{key}_overhead_us"] = statistics.median(over[key])
            row[f"{key}_overhead_range"] = [min(over[key]), max(over[key])]
        rows.append(row)
    return rows


def _cpu_us(result: dict[str, Any], kind: str) -> float:
    """Process CPU time per call (chat) or per chunk (stream, open and end included), in µs."""
    if kind == "chat":
        return result["chat_cpu_ns"] / max(len(result["call_ns"]), 1) / 1000.0
    return result["stream_cpu_ns"] / max(len(result["chunk_ns"]), 1) / 1000.0


def _fmt(value: float) -> str:
    return f"{value:.1f}" if abs(value) < 100 else f"{value:.0f}"


def _ratio(value: float, reference: float | None) -> str:
    if reference is None or reference <= 0.05:
        return "n/a"
    return f"{value / reference:.1f}×"


def render(major_results: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for result in major_results:
        rows = result["rows"]
        base = next(r for r in rows if r["peer"] == "baseline")
        lines += [
            f"#### openai {result['openai']} ({result['http_library']}): {base['calls']} calls + "
            f"{base['streams']} streams × {base['chunks_per_stream']} chunks per process, "
            f"{result['rounds']} interleaved rounds, load average {result['loadavg']}",
            "",
            f"Baseline (no instrumentation): {base['call_us']:.0f} µs/call, {base['chunk_us']:.1f} µs/chunk "
            f"(wall medians); {base['cpu_call_us']:.0f} / {base['cpu_chunk_us']:.1f} µs CPU.",
            "",
            "| instrumentor | content | Δ µs/call (rounds min…max) | Δ CPU µs/call | Δ µs/chunk "
            "| Δ µs stream open / end | spans/call | spans/stream | log rec./call | content attrs | metrics "
            "| × genai-lens call | × genai-lens chunk |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
        ]
        for row in rows:
            if row["peer"] == "baseline":
                continue
            lines.append("| " + " | ".join(_cells(row, rows)) + " |")
        lines.append("")
        conflicts = {
            (r["peer"], r["info"]["dependency_conflict"])
            for r in rows
            if r["info"].get("dependency_conflict")
        }
        for peer, conflict in sorted(conflicts):
            lines += [
                f"† {peer}: plain instrument() does nothing here (no span) — {conflict.rstrip('.')}. "
                "Measured with skip_dep_check=True to compare the code path anyway.",
                "",
            ]
        lines.extend(goal_lines(rows))
        lines.append("")
    return "\n".join(lines)


def _cells(row: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    ours = next(r for r in rows if r["peer"] == PROJECT and r["capture"] == row["capture"])
    no_span = row["spans_per_call"] == 0
    metric_names = row["info"].get("metric_names") or []
    forced = " (forced†)" if row["info"].get("dependency_conflict") else ""
    cells = [
        f"{row['peer']} {row['info'].get('peer_version') or '?'}{forced}",
        "on" if row["capture"] else "off",
    ]
    if no_span:
        error = row["info"].get("instrument_error")
        cells += ["no span" + (f" ({error.split(':')[0]})" if error else "")] + ["no span"] * 3
    else:
        low, high = row["call_overhead_range"]
        cells += [
            f"{_fmt(row['call_overhead_us'])} ({_fmt(low)}…{_fmt(high)})",
            _fmt(row["cpu_call_overhead_us"]),
            f"{row['chunk_overhead_us']:.2f}",
            f"{_fmt(row['open_overhead_us'])} / {_fmt(row['end_overhead_us'])}",
        ]
    cells += [
        f"{row['spans_per_call']:.2f}",
        f"{row['spans_per_stream']:.2f}",
        f"{row['logs_per_call']:.2f}",
        str(len(row["info"].get("content_keys") or [])),
        f"{len(metric_names)} names" if metric_names else "none",
    ]
    if row["peer"] == PROJECT:
        cells += ["—", "—"]
    elif no_span:
        cells += ["no span", "no span"]
    else:
        cells += [
            _ratio(row["call_overhead_us"], ours["call_overhead_us"]),
            _ratio(row["chunk_overhead_us"], ours["chunk_overhead_us"]),
        ]
    return cells


def goal_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for capture in (False, True):
        ours = next(r for r in rows if r["peer"] == PROJECT and r["capture"] == capture)
        peers = [
            r
            for r in rows
            if r["peer"] not in ("baseline", PROJECT, SDK_FLOOR)
            and r["capture"] == capture
            and r["spans_per_call"] > 0
        ]
        mode = "content on" if capture else "content off"
        if ours["spans_per_call"] == 0:
            lines.append(f"- {mode}: genai-lens emitted no span — goals not assessable.")
            continue
        if peers:
            best = min(peers, key=lambda r: r["call_overhead_us"])
            limit = best["call_overhead_us"] * CALL_GOAL_FRACTION
            met = ours["call_overhead_us"] < limit
            lines.append(
                f"- {mode}: per call genai-lens {ours['call_overhead_us']:.1f} µs vs best peer "
                f"{best['peer']} {best['call_overhead_us']:.1f} µs (ratio "
                f"{_ratio(best['call_overhead_us'], ours['call_overhead_us'])}) → goal < {limit:.1f} µs: "
                f"{'MET' if met else 'MISSED'}"
            )
            floor = next((r for r in rows if r["peer"] == SDK_FLOOR and r["capture"] == capture), None)
            if floor is not None and floor["spans_per_call"] > 0:
                lines.append(
                    f"- {mode}: SDK floor (genai-lens' own span + histogram calls, nothing else) "
                    f"{floor['call_overhead_us']:.1f} µs/call, {floor['chunk_overhead_us']:.2f} µs/chunk: "
                    f"genai-lens adds {ours['call_overhead_us'] - floor['call_overhead_us']:.1f} µs/call "
                    f"above it; the goal limit is {limit - floor['call_overhead_us']:+.1f} µs from it"
                )
        else:
            lines.append(f"- {mode}: no peer emitted spans, per-call goal not assessable.")
        met = ours["chunk_overhead_us"] < CHUNK_GOAL_US
        lines.append(
            f"- {mode}: per chunk genai-lens {ours['chunk_overhead_us']:.2f} µs → goal < {CHUNK_GOAL_US} µs: "
            f"{'MET' if met else 'MISSED'}"
        )
    return lines


# --------------------------------------------------------------------------------------------- profiling


def profile_project(
    python: Path, fixtures: Path, capture: bool, stream: bool, chunks: int, top: int = 15
) -> str:
    """cProfile the genai-lens worker (chat calls, or streams) and list where instrumentation time goes."""
    calls, streams = (0, 20) if stream else (2000, 0)
    worker = start_worker(python, PROJECT, capture, fixtures)
    out = (
        bench_dir() / f"profile-genai-lens-{'stream' if stream else 'chat'}-{'on' if capture else 'off'}.prof"
    )
    try:
        worker.send(f"profile {calls} {streams} {out}")
    finally:
        worker.stop()
    stats = pstats.Stats(str(out))
    ours, everything = [], []
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        short = f"{filename.split('site-packages/')[-1].split('src/')[-1]}:{line}:{name}"
        if "genai_lens" in filename:
            ours.append((cumtime, tottime, ncalls, short))
        if "genai_lens" in filename or "wrapt" in filename or "opentelemetry" in filename:
            everything.append((tottime, cumtime, ncalls, short))
    ours.sort(reverse=True)
    everything.sort(reverse=True)
    operations, unit = (streams * chunks, "chunk") if stream else (calls, "call")
    per_call = 1e6 / operations  # profiled seconds -> µs per call or per chunk
    lines = [
        f"cProfile, genai-lens content {'on' if capture else 'off'}, "
        + (f"{streams} streams × {chunks} chunks" if stream else f"{calls} chat calls")
        + f", µs per {unit} (cProfile inflates small functions several-fold: compare rows, not totals)",
        "",
        "genai-lens functions by cumulative time:",
        "",
        f"| cum µs/{unit} | own µs/{unit} | calls | function |",
        "|---:|---:|---:|---|",
    ]
    for cumtime, tottime, ncalls, where in ours[:top]:
        lines.append(f"| {cumtime * per_call:.1f} | {tottime * per_call:.1f} | {ncalls} | `{where}` |")
    lines += [
        "",
        "instrumentation-side (genai-lens, wrapt, OTel API/SDK) functions by own time:",
        "",
        f"| own µs/{unit} | cum µs/{unit} | calls | function |",
        "|---:|---:|---:|---|",
    ]
    for tottime, cumtime, ncalls, where in everything[:top]:
        lines.append(f"| {tottime * per_call:.1f} | {cumtime * per_call:.1f} | {ncalls} | `{where}` |")
    return "\n".join(lines)


def component_table(python: Path, fixtures: Path) -> str:
    """Each piece of the genai-lens path timed alone with hot caches, next to the SDK floor."""
    columns = []
    for capture in ("0", "1"):
        out = subprocess.run(
            [str(python), str(COMPONENTS), str(fixtures), capture],
            capture_output=True,
            text=True,
            cwd=str(bench_dir()),
        )
        if out.returncode != 0:
            return f"component timing failed:\n{out.stderr[-2000:]}"
        columns.append(json.loads(out.stdout.strip().splitlines()[-1]))
    lines = [
        "genai-lens pieces timed alone (min of 7 batches, hot caches; in a real call caches are cold, so the "
        "in-situ overhead above is larger):",
        "",
        "| piece | µs, content off | µs, content on |",
        "|---|---:|---:|",
    ]
    for name in columns[0]:
        lines.append(f"| {name} | {columns[0][name]} | {columns[1].get(name)} |")
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------------- main


def run_major(
    major: str, pythons: dict[str, Path], fixtures: Path, args: argparse.Namespace
) -> dict[str, Any]:
    workers: list[Worker] = []
    load_before = _loadavg()
    try:
        for peer in PEERS:
            for capture in (False,) if peer == "baseline" else (False, True):
                workers.append(start_worker(pythons[peer], peer, capture, fixtures))
                print(f"[openai{major}] ready: {workers[-1].label} {workers[-1].info}", flush=True)
        calls = max(args.calls // args.rounds, 1)
        streams = max(args.streams // args.rounds, 1)
        for round_index in range(args.rounds):
            started = time.monotonic()
            for worker in workers:
                worker.rounds.append(worker.send(f"run {calls} {streams}"))
            print(
                f"[openai{major}] round {round_index + 1}/{args.rounds}: {time.monotonic() - started:.1f} s"
            )
        for worker in workers:
            worker.info.update(worker.send("summary"))
    finally:
        for worker in workers:
            worker.stop()
    base = workers[0].info
    return {
        "openai": base.get("openai"),
        "http_library": base.get("http_library"),
        "rounds": args.rounds,
        "loadavg": f"{load_before} → {_loadavg()}",
        "rows": summarize(workers),
    }


def _loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--openai", choices=OPENAI_MAJORS, action="append", help="openai major(s) (default both)"
    )
    parser.add_argument("--rounds", type=int, default=20, help="interleaved rounds (default 20)")
    parser.add_argument("--calls", type=int, default=2000, help="timed chat calls per process (default 2000)")
    parser.add_argument("--streams", type=int, default=40, help="timed streams per process (default 40)")
    parser.add_argument("--chunks", type=int, default=500, help="chunks per synthesized stream (default 500)")
    parser.add_argument("--profile", action="store_true", help="also cProfile genai-lens (openai 3.x)")
    parser.add_argument("--setup-only", action="store_true", help="build the venvs and exit")
    args = parser.parse_args()
    majors = tuple(args.openai or OPENAI_MAJORS)

    started = time.monotonic()
    jobs = [(peer, major) for major in majors for peer in PEERS if peer != SDK_FLOOR]
    with ThreadPoolExecutor(max_workers=3) as pool:
        built = list(pool.map(lambda job: ensure_venv(*job), jobs))
    pythons = {job: python for job, python in zip(jobs, built, strict=True)}
    for major in majors:
        pythons[(SDK_FLOOR, major)] = pythons[(PROJECT, major)]
    print(f"[setup] venvs ready in {time.monotonic() - started:.0f} s under {bench_dir()}", flush=True)
    if args.setup_only:
        return

    bench_dir().mkdir(parents=True, exist_ok=True)
    fixtures = bench_dir() / f"fixtures-{args.chunks}.json"
    fixtures.write_text(json.dumps(build_fixtures(args.chunks)))

    measured = time.monotonic()
    results = []
    for major in majors:
        by_peer = {peer: pythons[(peer, major)] for peer in PEERS}
        results.append(run_major(major, by_peer, fixtures, args))
    report = render(results)
    elapsed = time.monotonic() - measured
    if args.profile:
        python = pythons[(PROJECT, majors[0])]
        report += "\n" + component_table(python, fixtures) + "\n"
        for stream in (False, True):
            for capture in (False, True):
                report += "\n" + profile_project(python, fixtures, capture, stream, args.chunks) + "\n"
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (bench_dir() / f"overhead-{stamp}.json").write_text(json.dumps(results, indent=1, default=str))
    (bench_dir() / f"overhead-{stamp}.md").write_text(report)
    print()
    print(report)
    print(
        f"measured in {elapsed:.0f} s (excluding venv setup and profiling); "
        f"results in {bench_dir()}/overhead-{stamp}.*"
    )


if __name__ == "__main__":
    main()
