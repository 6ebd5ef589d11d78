"""One ``genai-lens serve`` process: receivers → stages → bounded queue → exporter, plus admin and signals.

Lifecycle: build stages (config errors surface here) → open the queue (replaying the disk queue) → start
delivery → start receivers → log one start line with the bound addresses. On SIGTERM/SIGINT: stop the
receivers (in-flight requests finish, new ones are refused), deliver what is queued within
``shutdown_timeout``, then exit; with ``queue.directory`` whatever is still undelivered stays on disk.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from pathlib import Path

import grpc

from genai_lens.processor.registry import build_pipeline
from genai_lens.processor.stage import StageContext
from genai_lens.processor.stats import Stats
from genai_lens.server.admin import render_prometheus, start_admin
from genai_lens.server.config import ServeConfig
from genai_lens.server.delivery import Delivery
from genai_lens.server.disk_queue import DiskLog
from genai_lens.server.exporter import build_sender
from genai_lens.server.grpc_receiver import start_grpc_receiver
from genai_lens.server.http_receiver import start_http_receiver
from genai_lens.server.httpserver import ThreadedHTTPServer
from genai_lens.server.ingest import Ingest
from genai_lens.server.malloc_arenas import limit_malloc_arenas
from genai_lens.server.queue import BoundedQueue

log = logging.getLogger("genai_lens.server")


def worker_directory(base: Path, worker_index: int) -> Path:
    """Each worker process owns ``base/worker-K`` (its disk queue and stage state)."""
    return base / f"worker-{worker_index}"


class Service:
    def __init__(self, config: ServeConfig, worker_index: int = 0, reuse_port: bool = False) -> None:
        limit_malloc_arenas()  # before any receiver thread exists: bounds RSS under overload
        self.config = config
        self.worker_index = worker_index
        self.reuse_port = reuse_port
        self.stats = Stats()
        self.addresses: dict[str, str] = {}
        self._grpc: grpc.Server | None = None
        self._http: ThreadedHTTPServer | None = None
        self._admin: ThreadedHTTPServer | None = None
        self._receiving = False
        self._stopped = threading.Event()
        self._stop_requested = threading.Event()

        directory = worker_directory(config.queue.directory, worker_index) if config.queue.directory else None
        state_dir = directory / "state" if directory else None
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
        specs = [(p.name, p.config) for p in config.processors]
        self.pipeline = build_pipeline(specs, StageContext(stats=self.stats, state_dir=state_dir))
        disk = (
            DiskLog(directory / "queue", config.queue.fsync, config.queue.segment_bytes)
            if directory
            else None
        )
        self.queue = BoundedQueue(config.queue.max_bytes, self.stats, disk)
        self.sender = build_sender(config.exporter)
        self.delivery = Delivery(self.queue, self.sender, config.exporter, self.stats)
        self.ingest = Ingest(
            self.pipeline, [name for name, _ in specs], self.queue, self.stats, config.queue.retry_after
        )

    # -- health and metrics -----------------------------------------------------------------------
    def health(self) -> tuple[bool, str]:
        if not self._receiving:
            return False, "receivers are not accepting requests"
        if not self.queue.has_room(1):
            return False, f"queue full ({self.queue.bytes_used} of {self.queue.max_bytes} bytes)"
        return True, ""

    def metrics(self) -> str:
        return render_prometheus(self.stats)

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> dict[str, str]:
        self.delivery.start()
        receivers = self.config.receivers
        listener = f"OTLP/gRPC receiver on {receivers.grpc_endpoint}"
        try:
            if receivers.grpc_endpoint is not None:
                self._grpc, self.addresses["grpc"] = start_grpc_receiver(
                    receivers, self.ingest, self.reuse_port
                )
            if receivers.http_endpoint is not None:
                listener = f"OTLP/HTTP receiver on {receivers.http_endpoint}"
                self._http = start_http_receiver(receivers, self.ingest, self.reuse_port)
                self.addresses["http"] = self._http.bound
            if self.config.admin_endpoint is not None:
                listener = f"admin endpoint on {self.config.admin_endpoint}"
                self._admin = start_admin(self.config.admin_endpoint, self.health, self.metrics)
                self.addresses["admin"] = self._admin.bound
        except OSError as exc:
            self.stop()
            raise OSError(f"{listener}: {exc.strerror or exc}") from exc
        self._receiving = True
        return self.addresses

    def start_line(self) -> str:
        parts = [f"{k}={v}" for k, v in self.addresses.items()]
        processors = ",".join(p.name for p in self.config.processors) or "none"
        queue = f"disk:{self.config.queue.directory}" if self.config.queue.directory else "memory"
        plan = self.ingest.native
        native = ",".join(name for name, _ in plan.native) if plan is not None else "none"
        return (
            f"genai-lens serve started: {' '.join(parts)} exporter={self.config.exporter.name} "
            f"processors={processors} native={native} queue={queue} worker={self.worker_index} "
            f"pid={os.getpid()}"
        )

    def request_stop(self) -> None:
        self._stop_requested.set()

    def stop(self) -> bool:
        """Stop receiving, drain the queue within ``shutdown_timeout``; return whether all was delivered."""
        if self._stopped.is_set():
            return True
        self._stopped.set()
        self._receiving = False
        if self._grpc is not None:
            self._grpc.stop(grace=2.0).wait(3.0)
        if self._http is not None:
            self._http.stop()
        self.queue.stop_accepting()
        delivered = self.delivery.drain(self.config.shutdown_timeout)
        self.sender.close()
        self.queue.close()
        self.pipeline.close()
        if self._admin is not None:
            self._admin.stop()
        left = int(self.stats.get("genai_lens_queue_spans"))
        if delivered:
            log.info("genai-lens serve stopped: every accepted span was delivered")
        elif self.queue.disk is not None:
            log.warning("genai-lens serve stopped: %d spans kept in the disk queue for the next start", left)
        else:
            log.warning("genai-lens serve stopped: undelivered spans counted as dropped (reason=shutdown)")
        return delivered

    def run(self, ready_file: Path | None = None) -> int:
        """Start, log the start line, serve until SIGTERM/SIGINT, then stop gracefully."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.request_stop())
        self.start()
        log.info(self.start_line())
        if ready_file is not None:
            tmp = ready_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"pid": os.getpid(), **self.addresses}))
            os.replace(tmp, ready_file)
        while not self._stop_requested.wait(0.5):
            pass
        log.info("genai-lens serve: shutting down (draining for up to %.1fs)", self.config.shutdown_timeout)
        self.stop()
        return 0
