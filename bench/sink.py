"""A loopback OTLP/HTTP backend that only counts spans — the far end of the benchmark.

Run as a separate process: ``python bench/sink.py [--mode ok|down]``; prints ``port N`` on stdout.
``POST /v1/traces`` counts spans by walking the protobuf wire format (no full decode, so the sink stays
cheap) and answers 200 with an empty ``ExportTraceServiceResponse``; in ``down`` mode it answers 503 with
``Retry-After: 1`` (a backend outage). ``GET /count`` returns ``{"spans", "requests", "bytes"}`` as JSON.
Stops on SIGTERM or when its stdin closes (so it never outlives the benchmark).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes, start: int, end: int, wanted: int) -> list[tuple[int, int]]:
    """(start, end) of each length-delimited field number ``wanted`` in ``buf[start:end]``."""
    out: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        tag, pos = _varint(buf, pos)
        wire = tag & 7
        if wire == 2:
            length, pos = _varint(buf, pos)
            if tag >> 3 == wanted:
                out.append((pos, pos + length))
            pos += length
        elif wire == 0:
            _, pos = _varint(buf, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
    return out


def count_spans(body: bytes) -> int:
    """Spans in a serialized ExportTraceServiceRequest (resource_spans=1 → scope_spans=2 → spans=2)."""
    total = 0
    for rs_start, rs_end in _fields(body, 0, len(body), 1):
        for ss_start, ss_end in _fields(body, rs_start, rs_end, 2):
            total += len(_fields(body, ss_start, ss_end, 2))
    return total


class Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans = 0
        self.requests = 0
        self.bytes = 0


def make_handler(counts: Counts, mode: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            with counts.lock:
                data = {"spans": counts.spans, "requests": counts.requests, "bytes": counts.bytes}
            body = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if mode == "down":
                self._reply(503, b"", {"Retry-After": "1"})
                return
            spans = count_spans(body)
            with counts.lock:
                counts.spans += spans
                counts.requests += 1
                counts.bytes += len(body)
            self._reply(200, b"")  # an empty ExportTraceServiceResponse

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=("ok", "down"), default="ok")
    args = parser.parse_args()
    counts = Counts()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(counts, args.mode))
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())

    def watch_stdin() -> None:
        sys.stdin.read()  # EOF: the benchmark went away
        server.shutdown()

    threading.Thread(target=watch_stdin, daemon=True).start()
    print(f"port {server.server_address[1]}", flush=True)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
