"""OTLP/gRPC receiver: ``opentelemetry.proto.collector.trace.v1.TraceService/Export``.

The method is registered with raw-bytes deserialization so a malformed message is answered with
INVALID_ARGUMENT and a message of ours (not a transport error). gRPC itself enforces ``max_request_bytes``
(after gzip decompression) with RESOURCE_EXHAUSTED. A full queue answers RESOURCE_EXHAUSTED with a
``RetryInfo`` detail (in ``grpc-status-details-bin`` and, for the OTel Python SDK,
``google.rpc.retryinfo-bin``).
"""

from __future__ import annotations

import hmac
import logging
from concurrent.futures import ThreadPoolExecutor

import grpc
from google.rpc import code_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from genai_lens.server.config import ReceiverConfig
from genai_lens.server.ingest import REFUSALS, Ingest
from genai_lens.server.otlp_codec import PayloadError, export_response, retry_info, rpc_status

log = logging.getLogger("genai_lens.server")
SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"


class TraceServiceHandler:
    def __init__(self, config: ReceiverConfig, ingest: Ingest) -> None:
        self.config = config
        self.ingest = ingest

    def _authorized(self, context: grpc.ServicerContext) -> bool:
        if self.config.bearer_token is None:
            return True
        metadata = dict(context.invocation_metadata() or ())
        scheme, _, token = str(metadata.get("authorization", "")).partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self.config.bearer_token.encode()
        )

    def export(self, payload: bytes, context: grpc.ServicerContext) -> ExportTraceServiceResponse:
        if not self._authorized(context):
            self.ingest.request_outcome("grpc", "unauthenticated")
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")
        try:
            request = self.ingest.decode(payload, "protobuf")
        except PayloadError as exc:
            message = str(exc)
        else:
            message = ""
        if message:
            self.ingest.request_outcome("grpc", "invalid")
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, message)
        try:
            result = self.ingest.accept(request, "grpc", len(payload))
        except Exception as exc:  # keep serving; never echo content
            log.error("grpc receiver: unexpected %s", type(exc).__name__)
            self.ingest.request_outcome("grpc", "error")
            context.abort(grpc.StatusCode.INTERNAL, f"internal error ({type(exc).__name__})")
        if not result.accepted:
            full = result.refusal == "queue_full"
            self.ingest.request_outcome("grpc", "backpressure" if full else "unavailable")
            delay = self.ingest.retry_after
            code = grpc.StatusCode.RESOURCE_EXHAUSTED if full else grpc.StatusCode.UNAVAILABLE
            text = REFUSALS.get(result.refusal, "cannot accept now; retry later")
            rpc_code = code_pb2.RESOURCE_EXHAUSTED if full else code_pb2.UNAVAILABLE
            context.set_trailing_metadata(
                (
                    ("google.rpc.retryinfo-bin", retry_info(delay).SerializeToString()),
                    ("grpc-status-details-bin", rpc_status(rpc_code, text, delay).SerializeToString()),
                )
            )
            context.abort(code, text)
        self.ingest.request_outcome("grpc", "partial" if result.rejected_spans else "ok")
        return export_response(result.rejected_spans, result.error_message)


def start_grpc_receiver(config: ReceiverConfig, ingest: Ingest, reuse_port: bool) -> tuple[grpc.Server, str]:
    """Start the server; return it and its bound ``host:port``."""
    assert config.grpc_endpoint is not None
    handler = TraceServiceHandler(config, ingest)
    server = grpc.server(
        ThreadPoolExecutor(max_workers=8, thread_name_prefix="genai-lens-grpc"),
        options=[
            ("grpc.so_reuseport", 1 if reuse_port else 0),
            ("grpc.max_receive_message_length", config.max_request_bytes),
        ],
        maximum_concurrent_rpcs=64,
    )
    method = grpc.unary_unary_rpc_method_handler(
        handler.export,
        request_deserializer=None,
        response_serializer=ExportTraceServiceResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {"Export": method}),))
    endpoint = config.grpc_endpoint
    try:
        if config.grpc_tls is not None:
            credentials = grpc.ssl_server_credentials(
                [(config.grpc_tls.key_file.read_bytes(), config.grpc_tls.cert_file.read_bytes())]
            )
            port = server.add_secure_port(endpoint, credentials)
        else:
            port = server.add_insecure_port(endpoint)
    except RuntimeError:  # grpcio raises RuntimeError when the address cannot be bound
        port = 0
    if not port:
        raise OSError(f"cannot bind gRPC receiver to {endpoint}")
    server.start()
    host = endpoint.rsplit(":", 1)[0]
    return server, f"{host}:{port}"
