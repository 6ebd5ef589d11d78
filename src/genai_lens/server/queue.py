"""The bounded queue between the pipeline and the exporter: the place where backpressure is decided.

Items are processed export requests, serialized. Bytes count against ``queue.max_bytes`` from the moment
an item is accepted until the exporter acknowledges it (delivered or dropped with a reason), so a backend
outage fills the queue and the receivers start answering "retry later" instead of dropping anything.
With ``queue.directory`` set, every accepted item is first written to a :class:`DiskLog` and replayed on
the next start until acknowledged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from genai_lens.processor.stats import Stats
from genai_lens.server.disk_queue import DiskLog, Position

log = logging.getLogger("genai_lens.server")


@dataclass
class QueueItem:
    payload: bytes  # a serialized ExportTraceServiceRequest (concatenations of these parse as one)
    spans: int
    position: Position | None = None


class BoundedQueue:
    """FIFO of :class:`QueueItem` bounded by bytes; thread-safe."""

    def __init__(self, max_bytes: int, stats: Stats, disk: DiskLog | None = None) -> None:
        self.max_bytes = max_bytes
        self.stats = stats
        self.disk = disk
        self._items: deque[QueueItem] = deque()
        self._bytes = 0  # queued + handed to the exporter but not yet acknowledged
        self._cond = threading.Condition()
        stats.describe("genai_lens_queue_bytes", "Bytes of accepted spans not yet delivered.", "gauge")
        stats.describe("genai_lens_queue_max_bytes", "Configured queue capacity in bytes.", "gauge")
        stats.describe("genai_lens_queue_spans", "Spans accepted and not yet delivered.", "gauge")
        stats.set("genai_lens_queue_max_bytes", max_bytes)
        self._spans = 0
        self._accepting = True
        if disk is not None:
            for payload, position in disk.recover():
                spans = _count_spans(payload)
                self._items.append(QueueItem(payload, spans, position))
                self._bytes += len(payload)
                self._spans += spans
            stats.describe("genai_lens_queue_replayed_spans_total", "Spans replayed from disk at start.")
            stats.add("genai_lens_queue_replayed_spans_total", self._spans)
            if disk.torn_records:
                stats.add("genai_lens_queue_torn_records_total", disk.torn_records)
        self._publish()

    def _publish(self) -> None:
        self.stats.set("genai_lens_queue_bytes", self._bytes)
        self.stats.set("genai_lens_queue_spans", self._spans)

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def has_room(self, size: int = 1) -> bool:
        """Whether ``size`` more bytes fit (an empty queue takes any one item so it can always progress)."""
        return self._bytes == 0 or self._bytes + size <= self.max_bytes

    def offer(self, payload: bytes, spans: int) -> str | None:
        """Accept an item (durably, if persistent); else say why not — the caller pushes back.

        Returns None when accepted, or ``"queue_full"``, ``"shutting_down"`` or ``"disk_error"``.
        """
        with self._cond:
            if not self._accepting:
                return "shutting_down"
            if not self.has_room(len(payload)):
                return "queue_full"
            try:
                position = self.disk.append(payload) if self.disk is not None else None
            except OSError as exc:
                log.error(
                    "disk queue: cannot append (%s); refusing the request", exc.strerror or type(exc).__name__
                )
                return "disk_error"
            self._items.append(QueueItem(payload, spans, position))
            self._bytes += len(payload)
            self._spans += spans
            self._publish()
            self._cond.notify_all()
        return None

    def __len__(self) -> int:
        return len(self._items)

    def take(self, max_spans: int, max_bytes: int, linger: float, wait: float) -> list[QueueItem]:
        """Up to ``max_spans``/``max_bytes`` of items, oldest first (always at least one if any).

        Waits up to ``wait`` seconds for a first item, then up to ``linger`` more for the batch to fill.
        """
        deadline = time.monotonic() + wait
        with self._cond:
            while not self._items:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._cond.wait(remaining)
            fill_deadline = time.monotonic() + linger
            while sum(i.spans for i in self._items) < max_spans:
                remaining = fill_deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch: list[QueueItem] = []
            spans = size = 0
            while self._items:
                head = self._items[0]
                if batch and (spans + head.spans > max_spans or size + len(head.payload) > max_bytes):
                    break
                batch.append(self._items.popleft())
                spans += head.spans
                size += len(head.payload)
            return batch

    def ack(self, batch: list[QueueItem]) -> None:
        """The batch is done (delivered, or dropped and counted): free its bytes, advance the disk mark."""
        with self._cond:
            self._bytes -= sum(len(i.payload) for i in batch)
            self._spans -= sum(i.spans for i in batch)
            self._publish()
            self._cond.notify_all()
        positions = [i.position for i in batch if i.position is not None]
        if positions and self.disk is not None:
            self.disk.ack(max(positions))

    def stop_accepting(self) -> None:
        """Shutdown: :meth:`offer` refuses from now on, so nothing is acknowledged after the drain began."""
        with self._cond:
            self._accepting = False

    def notify(self) -> None:
        """Wake a waiting :meth:`take` (used at shutdown to flush without lingering)."""
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        if self.disk is not None:
            self.disk.close()


def _count_spans(payload: bytes) -> int:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest.FromString(payload)
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
