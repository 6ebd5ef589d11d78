"""A loopback HTTP server that replays recorded provider traffic to real client libraries.

Why not vcrpy: the clients we instrument switch HTTP stacks across major versions (httpx, httpx2), and the
``genai-lens demo`` must run without test dependencies. A real socket works with every client unchanged.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from genai_lens.replay.cassette import Interaction, expand_paths, load_cassette
from genai_lens.replay.matching import choose

UNMATCHED_STATUS = 599
_SSE_EVENT_END = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """What the server saw, so tests can assert on what the client really sent."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    matched: Interaction | None

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


def split_events(body: bytes) -> list[bytes]:
    """Split an SSE body into events, each keeping its blank-line terminator."""
    events: list[bytes] = []
    start = 0
    for match in _SSE_EVENT_END.finditer(body):
        events.append(body[start : match.end()])
        start = match.end()
    if body[start:].strip():
        events.append(body[start:])
    return events


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ReplayHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; tests read ``ReplayServer.requests`` instead."""

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            return self.rfile.read(length)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    def _handle(self) -> None:
        body = self._read_body()
        url = urlsplit(self.path)
        owner = self.server.owner
        interaction = owner._match(self.command, url.path, body)
        owner._record(
            ReceivedRequest(
                method=self.command,
                path=url.path,
                query=url.query,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                matched=interaction,
            )
        )
        if interaction is None:
            self._send_unmatched(url.path)
        elif interaction.is_event_stream:
            self._send_stream(interaction)
        else:
            self._send_whole(interaction)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def _send_head(self, interaction: Interaction) -> None:
        self.send_response(interaction.status, interaction.reason or None)
        for name, value in interaction.headers:
            self.send_header(name, value)

    def _send_whole(self, interaction: Interaction) -> None:
        self._send_head(interaction)
        self.send_header("Content-Length", str(len(interaction.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(interaction.body)

    def _send_stream(self, interaction: Interaction) -> None:
        self._send_head(interaction)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        delay = self.server.owner.chunk_delay
        try:
            for event in split_events(interaction.body):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
                if delay:
                    threading.Event().wait(delay)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped reading early: a normal stream exit

    def _send_unmatched(self, path: str) -> None:
        payload = json.dumps(
            {
                "error": {
                    "type": "genai_lens_replay_unmatched",
                    "message": f"no recorded interaction for {self.command} {path}",
                    "cassettes": [str(p) for p in self.server.owner.cassette_paths],
                }
            }
        ).encode()
        self.send_response(UNMATCHED_STATUS, "Unmatched Replay Request")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _ReplayHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: ReplayServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-stream is normal (early stream exits); report anything else."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class ReplayServer:
    """Serve recorded interactions from VCR cassettes on ``127.0.0.1:<ephemeral port>``.

    Use as a context manager; ``base_url`` is ``http://127.0.0.1:PORT`` (append ``/v1`` for OpenAI clients).
    ``requests`` lists what was received, in order. ``chunk_delay`` (seconds) spaces out SSE events.
    """

    def __init__(
        self,
        cassette_paths: str | Path | list[str | Path] | tuple[str | Path, ...],
        *,
        chunk_delay: float = 0.0,
    ) -> None:
        self.cassette_paths = expand_paths(cassette_paths)
        self.interactions: list[Interaction] = [
            it for path in self.cassette_paths for it in load_cassette(path)
        ]
        self.chunk_delay = chunk_delay
        self.requests: list[ReceivedRequest] = []
        self._used: set[int] = set()
        self._lock = threading.Lock()
        self._httpd: _ReplayHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _match(self, method: str, path: str, body: bytes) -> Interaction | None:
        try:
            request_json = json.loads(body) if body else None
        except ValueError:
            request_json = None
        with self._lock:
            index = choose(self.interactions, self._used, method, path, request_json)
            if index is None:
                return None
            self._used.add(index)
            return self.interactions[index]

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("ReplayServer is not started")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ReplayServer:
        if self._httpd is not None:
            return self
        httpd = _ReplayHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="genai-lens-replay", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
