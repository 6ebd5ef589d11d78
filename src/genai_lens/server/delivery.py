"""The export loop: take a batch from the queue, send it, retry with backoff, acknowledge, count.

One thread per worker process, so batches reach the backend in the order they were accepted and the disk
queue can acknowledge with a single mark. A batch is acknowledged only when it is delivered or dropped for
a counted reason (permanent error, retry time used up); at shutdown an undelivered batch stays in the disk
queue, or — without one — is counted as dropped with reason ``shutdown``.
"""

from __future__ import annotations

import logging
import threading
import time

from genai_lens.processor.stats import Stats
from genai_lens.server.config import ExporterConfig
from genai_lens.server.exporter import Sender
from genai_lens.server.queue import BoundedQueue, QueueItem
from genai_lens.server.retry import Backoff

log = logging.getLogger("genai_lens.server")


def describe_delivery_metrics(stats: Stats) -> None:
    stats.describe("genai_lens_spans_forwarded_total", "Spans delivered to the exporter's backend.")
    stats.describe("genai_lens_spans_dropped_total", "Spans given up on, by reason (never silently).")
    stats.describe("genai_lens_export_attempts_total", "Export attempts by outcome.")
    stats.describe("genai_lens_export_latency_seconds_sum", "Total time spent in export attempts.")
    stats.describe("genai_lens_export_latency_seconds_count", "Number of export attempts timed.")


class Delivery:
    """Drains a :class:`BoundedQueue` into a :class:`Sender` on its own thread."""

    def __init__(self, queue: BoundedQueue, sender: Sender, config: ExporterConfig, stats: Stats) -> None:
        self.queue = queue
        self.sender = sender
        self.config = config
        self.stats = stats
        self._draining = threading.Event()  # stop lingering; exit once the queue is empty
        self._abort = threading.Event()  # shutdown deadline reached: stop retrying now
        self._thread = threading.Thread(target=self._run, name="genai-lens-delivery", daemon=True)
        describe_delivery_metrics(stats)

    def start(self) -> None:
        self._thread.start()

    def drain(self, timeout: float) -> bool:
        """Deliver what is queued within ``timeout`` seconds; return whether everything went out."""
        self._draining.set()
        self.queue.notify()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._abort.set()
            self.queue.notify()
            self._thread.join(min(self.config.timeout, 5.0) + 1.0)
        if self.queue.disk is None and not self._thread.is_alive():
            leftover = self.queue.take(1 << 62, 1 << 62, linger=0.0, wait=0.0)
            if leftover:
                self._abandon(leftover, sum(item.spans for item in leftover))
        return len(self.queue) == 0 and self.queue.bytes_used == 0

    def _run(self) -> None:
        batch_cfg = self.config.batch
        while not self._abort.is_set():
            linger = 0.0 if self._draining.is_set() else batch_cfg.flush_interval
            batch = self.queue.take(batch_cfg.max_spans, batch_cfg.max_bytes, linger, wait=0.1)
            if not batch:
                if self._draining.is_set():
                    return
                continue
            try:
                if not self._deliver(batch):
                    return  # aborted mid-retry: the batch stays unacknowledged (on disk if persistent)
            except Exception as exc:  # e.g. the disk mark cannot be written: keep delivering, redeliver later
                log.error("delivery: unexpected %s; continuing", type(exc).__name__)
                self._abort.wait(1.0)

    def _deliver(self, batch: list[QueueItem]) -> bool:
        payload = b"".join(item.payload for item in batch)
        spans = sum(item.spans for item in batch)
        backoff = Backoff(self.config.retry)
        while True:
            started = time.perf_counter()
            try:
                result = self.sender.send(payload, spans)
            except Exception as exc:  # a sender bug must not kill delivery: treat as permanent
                log.error(
                    "exporter %s raised %s; dropping %d spans", self.config.name, type(exc).__name__, spans
                )
                self._drop(batch, spans, f"exporter_error:{type(exc).__name__}")
                return True
            self.stats.add("genai_lens_export_latency_seconds_sum", time.perf_counter() - started)
            self.stats.add("genai_lens_export_latency_seconds_count", 1)
            if result.delivered:
                self.stats.add("genai_lens_export_attempts_total", outcome="delivered")
                rejected = min(result.rejected_spans, spans)
                self.stats.add("genai_lens_spans_forwarded_total", spans - rejected)
                if rejected:
                    self.stats.add(
                        "genai_lens_spans_dropped_total", rejected, reason="backend_partial_success"
                    )
                self.queue.ack(batch)
                return True
            if not result.retryable:
                self.stats.add("genai_lens_export_attempts_total", outcome="permanent_error")
                log.warning(
                    "export to %s failed permanently (%s); dropping %d spans",
                    self.config.name,
                    result.reason,
                    spans,
                )
                self._drop(batch, spans, result.reason)
                return True
            self.stats.add("genai_lens_export_attempts_total", outcome="retryable_error")
            delay = backoff.next_delay(result.retry_after)
            if delay is None:
                log.warning(
                    "export to %s: retries used up (%s); dropping %d spans",
                    self.config.name,
                    result.reason,
                    spans,
                )
                self._drop(batch, spans, "retry_exhausted")
                return True
            log.info(
                "export to %s: %s, retrying %d spans in %.2fs", self.config.name, result.reason, spans, delay
            )
            if self._abort.wait(delay):
                self._abandon(batch, spans)
                return False

    def _drop(self, batch: list[QueueItem], spans: int, reason: str) -> None:
        self.stats.add("genai_lens_spans_dropped_total", spans, reason=reason)
        self.queue.ack(batch)

    def _abandon(self, batch: list[QueueItem], spans: int) -> None:
        """Shutdown deadline passed with this batch undelivered."""
        if self.queue.disk is not None:
            log.warning("shutdown: %d spans left undelivered in the disk queue for the next start", spans)
            return
        self._drop(batch, spans, "shutdown")
        log.warning("shutdown: dropped %d undelivered spans (no queue.directory configured)", spans)
