"""``--workers N``: N worker processes sharing the listening ports, under a supervisor.

Each worker is a full ``genai-lens serve`` process (its own stages, queue and exporter; its disk queue in
``queue.directory/worker-K``) bound with SO_REUSEPORT, so the kernel spreads connections across them.
The supervisor picks concrete ports first (for ``:0`` it holds a bound, non-listening SO_REUSEPORT socket
so the port stays reserved), starts the workers, restarts one that dies, and forwards SIGTERM/SIGINT.

Admin: the supervisor serves the configured admin endpoint. ``/healthz`` is 200 only when every worker is
running and healthy; ``/metrics`` merges every worker's metrics with a ``worker="K"`` label. Workers serve
their own admin on an ephemeral loopback port (written to their ready file).
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from genai_lens.processor.stats import Stats
from genai_lens.server.admin import render_prometheus, start_admin
from genai_lens.server.config import ServeConfig, parse_host_port

log = logging.getLogger("genai_lens.server")
RESTART_DELAY = 1.0


def reserve_port(endpoint: str) -> tuple[str, socket.socket | None]:
    """A concrete ``host:port`` for ``endpoint``; for port 0, also the socket that keeps it reserved."""
    host, port = parse_host_port(endpoint) or ("127.0.0.1", 0)
    if port != 0:
        return endpoint, None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, 0))
    bound = sock.getsockname()[1]
    return (f"[{host}]:{bound}" if family == socket.AF_INET6 else f"{host}:{bound}"), sock


def merge_metrics(texts: dict[int, str]) -> str:
    """Merge per-worker Prometheus texts into one exposition, adding ``worker="K"`` to every sample."""
    families: dict[str, list[str]] = {}
    headers: dict[str, list[str]] = {}
    for worker, text in sorted(texts.items()):
        for line in text.splitlines():
            if not line.strip():
                continue
            if line.startswith("#"):
                parts = line.split(" ", 3)
                if len(parts) >= 3 and parts[2] not in headers:
                    headers.setdefault(parts[2], [])
                if len(parts) >= 3 and line not in headers[parts[2]]:
                    headers[parts[2]].append(line)
                continue
            name, _, rest = line.partition(" ")
            label = f'worker="{worker}"'
            if "{" in name:
                metric, labels = name.split("{", 1)
                labels = labels.rstrip("}")
                sample = f"{metric}{{{labels + ',' if labels else ''}{label}}} {rest}"
            else:
                metric = name
                sample = f"{metric}{{{label}}} {rest}"
            families.setdefault(metric, []).append(sample)
    out: list[str] = []
    for metric in sorted(set(families) | set(headers)):
        out.extend(headers.get(metric, []))
        out.extend(families.get(metric, []))
    return "\n".join(out) + "\n"


class _Worker:
    def __init__(self, index: int, command: list[str], ready_file: Path) -> None:
        self.index = index
        self.command = command
        self.ready_file = ready_file
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> None:
        self.ready_file.unlink(missing_ok=True)
        self.process = subprocess.Popen(self.command)
        self.started_at = time.monotonic()

    def info(self) -> dict[str, object] | None:
        try:
            return json.loads(self.ready_file.read_text())
        except (OSError, ValueError):
            return None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except OSError as exc:
        return 0, type(exc).__name__


class Supervisor:
    def __init__(self, config: ServeConfig, argv: list[str]) -> None:
        self.config = config
        self.argv = argv
        self.stats = Stats()
        self.stats.describe("genai_lens_worker_restarts_total", "Workers restarted after they exited.")
        self._stop = threading.Event()
        self._reserved: list[socket.socket] = []
        self.workers: list[_Worker] = []

    def _endpoint(self, endpoint: str | None) -> str | None:
        if endpoint is None:
            return None
        concrete, sock = reserve_port(endpoint)
        if sock is not None:
            self._reserved.append(sock)
        return concrete

    def health(self) -> tuple[bool, str]:
        for worker in self.workers:
            info = worker.info()
            if not worker.alive() or info is None:
                return False, f"worker {worker.index} is not running"
            status, body = _fetch(f"http://{info['admin']}/healthz")
            if status != 200:
                return False, f"worker {worker.index}: {body.strip() or status}"
        return True, ""

    def metrics(self) -> str:
        texts: dict[int, str] = {}
        for worker in self.workers:
            info = worker.info()
            if info is not None and worker.alive():
                status, body = _fetch(f"http://{info['admin']}/metrics")
                if status == 200:
                    texts[worker.index] = body
        return merge_metrics(texts) + render_prometheus(self.stats)

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self._stop.set())
        receivers = self.config.receivers
        grpc = self._endpoint(receivers.grpc_endpoint)
        http = self._endpoint(receivers.http_endpoint)
        state = Path(tempfile.mkdtemp(prefix="genai-lens-workers-"))
        base = [sys.executable, "-m", "genai_lens.cli", *self.argv]
        for index in range(self.config.workers):
            command = [*base, "--admin-endpoint", "127.0.0.1:0", "--worker-index", str(index)]
            command += ["--ready-file", str(state / f"worker-{index}.json")]
            if grpc:
                command += ["--grpc-endpoint", grpc]
            if http:
                command += ["--http-endpoint", http]
            self.workers.append(_Worker(index, command, state / f"worker-{index}.json"))
        for worker in self.workers:
            worker.start()
        admin = None
        deadline = time.monotonic() + 60
        while not all(w.info() for w in self.workers):
            if self._stop.is_set() or time.monotonic() > deadline or not all(w.alive() for w in self.workers):
                log.error("workers failed to start")
                self._shutdown()
                return 1
            time.sleep(0.05)
        if self.config.admin_endpoint is not None:
            admin = start_admin(self.config.admin_endpoint, self.health, self.metrics)
        pids = ",".join(str(w.process.pid) for w in self.workers if w.process)
        parts = [f"grpc={grpc}" if grpc else "", f"http={http}" if http else ""]
        parts.append(f"admin={admin.bound}" if admin else "")
        log.info(
            "genai-lens serve started: %s workers=%d worker_pids=%s",
            " ".join(p for p in parts if p),
            len(self.workers),
            pids,
        )
        while not self._stop.wait(0.2):
            for worker in self.workers:
                if worker.alive() or self._stop.is_set():
                    continue
                if time.monotonic() - worker.started_at < RESTART_DELAY:
                    continue
                code = worker.process.returncode if worker.process else None
                log.warning("worker %d exited (code %s); restarting it", worker.index, code)
                self.stats.add("genai_lens_worker_restarts_total", worker=str(worker.index))
                worker.start()
        self._shutdown()
        if admin is not None:
            admin.stop()
        return 0

    def _shutdown(self) -> None:
        log.info("genai-lens serve: stopping %d workers", len(self.workers))
        for worker in self.workers:
            if worker.alive() and worker.process is not None:
                worker.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.config.shutdown_timeout + 10
        for worker in self.workers:
            if worker.process is None:
                continue
            try:
                worker.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker %d did not stop in time; killing it", worker.index)
                worker.process.kill()
                worker.process.wait(5)
        for sock in self._reserved:
            sock.close()
