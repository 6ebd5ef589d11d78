"""A lean OTLP load generator: pre-encoded protobuf requests over kept-alive raw sockets (or OTLP/gRPC).

Run as a separate process (the benchmark starts several): each thread owns one connection and either
sends back-to-back (closed loop, ``--rate 0``: finds the peak) or on a fixed schedule (open loop: latency
at a given load, overload). Open-loop latency is measured from the *scheduled* send time, so a request
that had to wait for its connection counts that wait (no coordinated omission). 429/503 answers are
counted, not retried (an aggressive sender; the real SDK would back off per ``Retry-After``).

With ``--protocol grpc`` each thread owns a channel and sends the same bytes as OTLP/gRPC ``Export``
calls (no re-serialization: the request serializer is the identity); gRPC outcomes are reported as the
HTTP statuses OTLP maps them to (OK 200, RESOURCE_EXHAUSTED 429, UNAVAILABLE 503, anything else 0).

Prints one JSON object on stdout: status counts, spans accepted (2xx), per-request records
``[offset_s, latency_s, status]`` and the process's CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def _read_response(sock: socket.socket) -> tuple[int, bool]:
    """(status, server asked to close) of one HTTP/1.1 response; its body is read and discarded."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    close = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
    remaining = length - len(rest)
    while remaining > 0:
        chunk = sock.recv(min(remaining, 65536))
        if not chunk:
            raise ConnectionError("closed mid-body")
        remaining -= len(chunk)
    return status, close


class Worker(threading.Thread):
    def __init__(
        self,
        host: str,
        port: int,
        requests: list[bytes],
        offset: int,
        start_at: float,
        duration: float,
        interval: float,
        phase: float,
        protocol: str = "http",
    ) -> None:
        super().__init__(daemon=True)
        self.host, self.port = host, port
        self.requests = requests
        self.offset = offset
        self.start_at, self.duration = start_at, duration
        self.interval, self.phase = interval, phase  # interval 0: closed loop
        self.protocol = protocol
        self.records: list[tuple[float, float, int]] = []
        self.errors = 0

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def run(self) -> None:
        if self.protocol == "grpc":
            self._run_grpc()
        else:
            self._run_http()

    def _schedule(self, j: int) -> float:
        """When request ``j`` is due (and wait for it, open loop); now in closed loop."""
        if not self.interval:
            return time.time()
        scheduled = self.start_at + self.phase + j * self.interval
        delay = scheduled - time.time()
        if delay > 0:
            time.sleep(delay)
        return scheduled

    def _due_requests(self) -> Iterator[tuple[float, bytes]]:
        """``(scheduled time, body)`` of each request, when it is due, until the run's end."""
        end = self.start_at + self.duration
        j = 0
        while True:
            scheduled = self._schedule(j)
            if scheduled >= end:
                return
            yield scheduled, self.requests[(self.offset + j) % len(self.requests)]
            j += 1

    def _run_grpc(self) -> None:
        import grpc  # only the gRPC mode pays for the import

        statuses = {
            grpc.StatusCode.OK: 200,
            grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
            grpc.StatusCode.UNAVAILABLE: 503,
        }
        channel = grpc.insecure_channel(
            f"{self.host}:{self.port}", options=[("grpc.use_local_subchannel_pool", 1)]
        )
        export = channel.unary_unary(EXPORT_METHOD, request_serializer=None, response_deserializer=None)
        for scheduled, data in self._due_requests():
            try:
                export(data, timeout=30)
                status = 200
            except grpc.RpcError as error:
                status = statuses.get(error.code(), 0)  # type: ignore[attr-defined]
                self.errors += status == 0
            self.records.append((scheduled - self.start_at, time.time() - scheduled, status))
        channel.close()

    def _run_http(self) -> None:
        sock: socket.socket | None = None
        for scheduled, data in self._due_requests():
            try:
                if sock is None:
                    sock = self._connect()
                sock.sendall(data)
                status, close = _read_response(sock)
            except OSError:
                self.errors += 1
                if sock is not None:
                    sock.close()
                sock = None
                self.records.append((scheduled - self.start_at, time.time() - scheduled, 0))
                continue
            self.records.append((scheduled - self.start_at, time.time() - scheduled, status))
            if close:
                sock.close()
                sock = None
        if sock is not None:
            sock.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", required=True, help="HOST:PORT of an OTLP/HTTP receiver")
    parser.add_argument("--path", default="/v1/traces")
    parser.add_argument("--protocol", choices=("http", "grpc"), default="http")
    parser.add_argument("--bodies", type=Path, required=True, help="directory of body-*.bin files")
    parser.add_argument("--threads", type=int, default=2, help="connections in this process")
    parser.add_argument("--thread-index", type=int, default=0, help="this process's first global thread")
    parser.add_argument("--total-threads", type=int, default=2, help="threads across all processes")
    parser.add_argument("--rate", type=float, default=0.0, help="total requests/s across all; 0 = closed")
    parser.add_argument("--start-at", type=float, default=0.0, help="time.time() to start at")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--spans-per-request", type=int, required=True)
    args = parser.parse_args()

    host, _, port = args.target.rpartition(":")
    head = (
        f"POST {args.path} HTTP/1.1\r\nHost: {args.target}\r\nContent-Type: application/x-protobuf\r\n"
        "Content-Length: {length}\r\n\r\n"
    )
    bodies = [p.read_bytes() for p in sorted(args.bodies.glob("body-*.bin"))]
    if args.protocol == "grpc":
        requests = bodies
    else:
        requests = [head.format(length=len(body)).encode() + body for body in bodies]
    start_at = args.start_at or time.time() + 0.2
    interval = args.total_threads / args.rate if args.rate > 0 else 0.0
    workers = []
    for k in range(args.threads):
        index = args.thread_index + k
        phase = index / args.rate if args.rate > 0 else 0.0
        workers.append(
            Worker(host, int(port), requests, index, start_at, args.duration, interval, phase, args.protocol)
        )
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    records = sorted(r for w in workers for r in w.records)
    statuses: dict[str, int] = {}
    for _, _, status in records:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    usage = resource.getrusage(resource.RUSAGE_SELF)
    json.dump(
        {
            "statuses": statuses,
            "spans_ok": sum(args.spans_per_request for r in records if 200 <= r[2] < 300),
            "errors": sum(w.errors for w in workers),
            "records": records,
            "cpu_s": usage.ru_utime + usage.ru_stime,
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
