"""Senders that deliver one serialized export request to a backend and classify the answer.

A sender makes one attempt; :mod:`genai_lens.server.delivery` owns batching and retries. The answer is
sorted per the OTLP spec into delivered, retryable (HTTP 429/502/503/504 with ``Retry-After``; gRPC
UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, CANCELLED, OUT_OF_RANGE, DATA_LOSS, and RESOURCE_EXHAUSTED when it
carries RetryInfo; connection errors) or permanent (everything else: dropped with the reason counted).
"""

from __future__ import annotations

import email.utils
import gzip
import http.client
import ssl
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from urllib.parse import urlsplit

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from genai_lens.server.config import ExporterConfig

EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
RETRYABLE_HTTP = frozenset({429, 502, 503, 504})
RETRYABLE_GRPC = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.DATA_LOSS,
    }
)


@dataclass
class SendResult:
    delivered: bool
    retryable: bool = False
    retry_after: float | None = None
    reason: str = ""
    rejected_spans: int = 0  # the backend's partial_success


class Sender(ABC):
    @abstractmethod
    def send(self, payload: bytes, spans: int) -> SendResult:
        """One attempt to deliver ``payload`` (a serialized ExportTraceServiceRequest)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


def _partial_success(body: bytes) -> int:
    try:
        return ExportTraceServiceResponse.FromString(body).partial_success.rejected_spans
    except DecodeError:
        return 0


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from an HTTP ``Retry-After`` (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class HttpSender(Sender):
    """OTLP/HTTP protobuf over one kept-alive connection (reopened after any error)."""

    def __init__(self, config: ExporterConfig) -> None:
        self.config = config
        parts = urlsplit(config.endpoint)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (443 if self.https else 80)
        self.path = parts.path if parts.path not in ("", "/") else "/v1/traces"
        self._conn: http.client.HTTPConnection | None = None
        self._ssl: ssl.SSLContext | None = None
        if self.https:
            tls = config.tls
            context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
            if tls.insecure_skip_verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            if tls.cert_file and tls.key_file:
                context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
            self._ssl = context

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.https:
                self._conn = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.config.timeout, context=self._ssl
                )
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.config.timeout)
        return self._conn

    def send(self, payload: bytes, spans: int) -> SendResult:
        headers = {"Content-Type": "application/x-protobuf", **self.config.headers}
        body = payload
        if self.config.compression == "gzip":
            body = gzip.compress(payload, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        for attempt in (1, 2):
            reused = self._conn is not None
            try:
                conn = self._connection()
                conn.request("POST", self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if reused and attempt == 1:
                    continue  # the backend closed an idle kept-alive connection: retry at once on a new one
                return SendResult(False, retryable=True, reason=f"connection_error:{type(exc).__name__}")
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        status = response.status
        if 200 <= status < 300:
            return SendResult(True, rejected_spans=_partial_success(data))
        if status in RETRYABLE_HTTP:
            return SendResult(
                False,
                retryable=True,
                retry_after=parse_retry_after(response.getheader("Retry-After")),
                reason=f"http_{status}",
            )
        return SendResult(False, reason=f"http_{status}")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _grpc_retry_delay(error: grpc.RpcError) -> float | None:
    """RetryInfo from ``grpc-status-details-bin`` (standard) or ``google.rpc.retryinfo-bin``."""
    metadata = dict(error.trailing_metadata() or ())  # type: ignore[attr-defined]
    raw = metadata.get("google.rpc.retryinfo-bin")
    info = error_details_pb2.RetryInfo()
    try:
        if raw is not None:
            info.ParseFromString(raw)
            return info.retry_delay.seconds + info.retry_delay.nanos / 1e9
        details = metadata.get("grpc-status-details-bin")
        if details is not None:
            for detail in status_pb2.Status.FromString(details).details:
                if detail.Unpack(info):
                    return info.retry_delay.seconds + info.retry_delay.nanos / 1e9
    except DecodeError:
        return None
    return None


class GrpcSender(Sender):
    """OTLP/gRPC: the payload goes out as-is (no re-encode), gzip-compressed if configured."""

    def __init__(self, config: ExporterConfig) -> None:
        self.config = config
        endpoint = config.endpoint
        scheme = endpoint.split("://", 1)[0] if "://" in endpoint else ""
        target = endpoint.split("://", 1)[1].rstrip("/") if scheme else endpoint
        insecure = config.tls.insecure or scheme in ("grpc", "http")
        options = [("grpc.max_send_message_length", 64 * 1024 * 1024)]
        if insecure:
            self.channel = grpc.insecure_channel(target, options=options)
        else:
            tls = config.tls

            def read(path: object) -> bytes | None:
                return open(str(path), "rb").read() if path else None  # noqa: SIM115

            credentials = grpc.ssl_channel_credentials(
                root_certificates=read(tls.ca_file),
                private_key=read(tls.key_file),
                certificate_chain=read(tls.cert_file),
            )
            self.channel = grpc.secure_channel(target, credentials, options=options)
        self.export = self.channel.unary_unary(
            EXPORT_METHOD,
            request_serializer=None,
            response_deserializer=ExportTraceServiceResponse.FromString,
        )
        self.metadata = tuple((k.lower(), v) for k, v in config.headers.items())
        self.compression = (
            grpc.Compression.Gzip if config.compression == "gzip" else grpc.Compression.NoCompression
        )

    def send(self, payload: bytes, spans: int) -> SendResult:
        try:
            response = self.export(
                payload, timeout=self.config.timeout, metadata=self.metadata, compression=self.compression
            )
        except grpc.RpcError as error:
            code = error.code()  # type: ignore[attr-defined]
            reason = f"grpc_{code.name}"
            if code in RETRYABLE_GRPC:
                return SendResult(False, retryable=True, retry_after=_grpc_retry_delay(error), reason=reason)
            if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
                delay = _grpc_retry_delay(error)
                if delay is not None:
                    return SendResult(False, retryable=True, retry_after=delay, reason=reason)
            return SendResult(False, reason=reason)
        return SendResult(True, rejected_spans=response.partial_success.rejected_spans)

    def close(self) -> None:
        self.channel.close()


def build_sender(config: ExporterConfig) -> Sender:
    if config.type == "otlphttp":
        return HttpSender(config)
    if config.type == "otlp":
        return GrpcSender(config)
    from genai_lens.server.console import ConsoleSender

    return ConsoleSender()
