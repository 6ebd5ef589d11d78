"""OTLP/HTTP receiver: ``POST /v1/traces``, protobuf or JSON bodies, optionally gzip, TLS and a bearer token.

Answers per the OTLP/HTTP spec: 200 with an ``ExportTraceServiceResponse`` (``partial_success`` when some
spans were invalid) in the request's content type; errors carry a ``google.rpc.Status`` body — 400 for a
body that cannot be decoded, 401 without the right token, 413 over ``max_request_bytes`` (on the wire or
after gunzip), 415 for other content types, 429 + ``Retry-After`` when the queue is full.
"""

from __future__ import annotations

import hmac
import logging
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler

from google.rpc import code_pb2

from genai_lens.server.config import ReceiverConfig
from genai_lens.server.httpserver import ThreadedHTTPServer
from genai_lens.server.ingest import REFUSALS, Ingest
from genai_lens.server.otlp_codec import (
    JSON_CONTENT_TYPE,
    PROTOBUF_CONTENT_TYPE,
    Format,
    PayloadError,
    PayloadTooLarge,
    decompress,
    encode_message,
    export_response,
    rpc_status,
)

log = logging.getLogger("genai_lens.server")
TRACES_PATH = "/v1/traces"


class _HttpReceiverState:
    def __init__(self, config: ReceiverConfig, ingest: Ingest) -> None:
        self.config = config
        self.ingest = ingest


class OtlpHttpHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "genai-lens"
    sys_version = ""
    timeout = 30  # an idle or stalled connection is closed after this many seconds

    server: ThreadedHTTPServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """No per-request access log (it would be noise; counts go to /metrics)."""

    @property
    def state(self) -> _HttpReceiverState:
        return self.server.app

    # -- answers ------------------------------------------------------------------------------------
    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        close: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _error(
        self,
        status: int,
        grpc_code: int,
        message: str,
        fmt: Format = "protobuf",
        headers: dict[str, str] | None = None,
        close: bool = False,
        retry_after: float | None = None,
    ) -> None:
        outcome = {400: "invalid", 401: "unauthenticated", 413: "too_large", 429: "backpressure"}.get(
            status, "error"
        )
        self.state.ingest.request_outcome("http", outcome)
        body = encode_message(rpc_status(grpc_code, message, retry_after), fmt)
        content_type = JSON_CONTENT_TYPE if fmt == "json" else PROTOBUF_CONTENT_TYPE
        self._send(status, body, content_type, headers, close)

    def _plain(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, message.encode() + b"\n", "text/plain; charset=utf-8", headers, close=True)

    # -- methods ------------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._not_post()

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET  # noqa: N815

    def _not_post(self) -> None:
        if self.path.split("?", 1)[0] == TRACES_PATH:
            self._plain(HTTPStatus.METHOD_NOT_ALLOWED, "use POST", {"Allow": "POST"})
        else:
            self._plain(HTTPStatus.NOT_FOUND, "not found (OTLP traces go to POST /v1/traces)")

    def do_POST(self) -> None:  # noqa: N802
        try:
            self._post()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:  # keep serving whatever happens; never echo content
            log.error("http receiver: unexpected %s", type(exc).__name__)
            self.close_connection = True
            try:
                self._error(500, code_pb2.INTERNAL, f"internal error ({type(exc).__name__})", close=True)
            except OSError:
                pass

    def _discard(self, length: int, limit: int) -> None:
        """Read and drop a refused body (up to ``limit``) so the client sees our answer, not a reset."""
        if length > limit:
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 16))
            if not chunk:
                return
            length -= len(chunk)

    def _post(self) -> None:
        config = self.state.config
        if self.path.split("?", 1)[0] != TRACES_PATH:
            self._plain(HTTPStatus.NOT_FOUND, "not found (OTLP traces go to POST /v1/traces)")
            return
        media = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        fmt: Format = "json" if media == JSON_CONTENT_TYPE else "protobuf"
        if config.bearer_token is not None:
            given = self.headers.get("Authorization") or ""
            scheme, _, token = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                token.strip().encode(), config.bearer_token.encode()
            ):
                self._error(
                    401,
                    code_pb2.UNAUTHENTICATED,
                    "missing or wrong bearer token",
                    fmt,
                    {"WWW-Authenticate": 'Bearer realm="genai-lens"'},
                    close=True,
                )
                return
        if media not in (JSON_CONTENT_TYPE, PROTOBUF_CONTENT_TYPE):
            self._error(
                415,
                code_pb2.INVALID_ARGUMENT,
                f"unsupported Content-Type {media or '(none)'!r}; use {PROTOBUF_CONTENT_TYPE} or "
                f"{JSON_CONTENT_TYPE}",
                close=True,
            )
            return
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._error(
                411,
                code_pb2.INVALID_ARGUMENT,
                "chunked bodies are not supported; send Content-Length",
                fmt,
                close=True,
            )
            return
        raw_length = self.headers.get("Content-Length")
        if raw_length is None or not raw_length.strip().isdigit():
            self._error(411, code_pb2.INVALID_ARGUMENT, "Content-Length is required", fmt, close=True)
            return
        length = int(raw_length)
        if length > config.max_request_bytes:
            self._discard(length, limit=8 * config.max_request_bytes)
            self._error(
                413,
                code_pb2.RESOURCE_EXHAUSTED,
                f"body of {length} bytes exceeds max_request_bytes ({config.max_request_bytes})",
                fmt,
                close=True,
            )
            return
        body = self.rfile.read(length)
        if len(body) < length:
            self._error(
                400,
                code_pb2.INVALID_ARGUMENT,
                f"truncated body: got {len(body)} of {length} bytes",
                fmt,
                close=True,
            )
            return
        try:
            data = decompress(body, self.headers.get("Content-Encoding"), config.max_request_bytes)
            request = self.state.ingest.decode(data, fmt)
        except PayloadTooLarge as exc:
            self._error(413, code_pb2.RESOURCE_EXHAUSTED, str(exc), fmt)
            return
        except PayloadError as exc:
            self._error(400, code_pb2.INVALID_ARGUMENT, str(exc), fmt)
            return
        ingest = self.state.ingest
        result = ingest.accept(request, "http", len(data))
        if not result.accepted:
            delay = ingest.retry_after
            full = result.refusal == "queue_full"
            self._error(
                429 if full else 503,
                code_pb2.RESOURCE_EXHAUSTED if full else code_pb2.UNAVAILABLE,
                REFUSALS.get(result.refusal, "cannot accept now; retry later"),
                fmt,
                {"Retry-After": str(max(1, round(delay)))},
                retry_after=delay,
            )
            return
        ingest.request_outcome("http", "partial" if result.rejected_spans else "ok")
        body_out = encode_message(export_response(result.rejected_spans, result.error_message), fmt)
        self._send(200, body_out, JSON_CONTENT_TYPE if fmt == "json" else PROTOBUF_CONTENT_TYPE)


def start_http_receiver(config: ReceiverConfig, ingest: Ingest, reuse_port: bool) -> ThreadedHTTPServer:
    assert config.http_endpoint is not None
    server = ThreadedHTTPServer(
        config.http_endpoint,
        OtlpHttpHandler,
        reuse_port=reuse_port,
        tls=config.http_tls,
        context=_HttpReceiverState(config, ingest),
    )
    server.start("genai-lens-otlp-http")
    return server
