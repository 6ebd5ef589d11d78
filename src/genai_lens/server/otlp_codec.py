"""OTLP trace payloads in and out: protobuf and OTLP/JSON decoding, bounded gunzip, span validation.

Shared by both receivers so gRPC and HTTP reject the same inputs with the same messages. Messages name the
error class and sizes only — never span content.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections import Counter
from typing import Any, Literal

from google.protobuf import json_format
from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

Format = Literal["protobuf", "json"]
PROTOBUF_CONTENT_TYPE = "application/x-protobuf"
JSON_CONTENT_TYPE = "application/json"
DECODE_ERROR = "DecodeError"
"""The error class named when protobuf bytes do not parse (the native decoder says the same)."""


class PayloadError(ValueError):
    """The payload cannot be decoded (answered with HTTP 400 / gRPC INVALID_ARGUMENT)."""


class PayloadTooLarge(ValueError):
    """The payload is over ``max_request_bytes`` on the wire or decompressed (413 / RESOURCE_EXHAUSTED)."""


def gunzip_bounded(data: bytes, limit: int) -> bytes:
    """Decompress gzip (several members allowed) without ever holding more than ``limit + 1`` bytes.

    Guards against gzip bombs: a few KiB that inflate to gigabytes stop at the limit.
    """
    out = bytearray()
    remaining = data
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = inflater.decompress(remaining, limit + 1 - len(out))
            out += chunk
            while inflater.unconsumed_tail and len(out) <= limit:
                out += inflater.decompress(inflater.unconsumed_tail, limit + 1 - len(out))
        except zlib.error as exc:
            raise PayloadError(f"invalid gzip body: {exc}") from None
        if len(out) > limit:
            raise PayloadTooLarge(f"decompressed body exceeds max_request_bytes ({limit})")
        if not inflater.eof:
            raise PayloadError("truncated gzip body")
        remaining = inflater.unused_data
        if not remaining:
            return bytes(out)


def decompress(data: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo ``Content-Encoding`` (gzip or identity) with the size limit applied to the result."""
    if len(data) > limit:
        raise PayloadTooLarge(f"body of {len(data)} bytes exceeds max_request_bytes ({limit})")
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return data
    if encoding in ("gzip", "x-gzip"):
        return gunzip_bounded(data, limit)
    raise PayloadError(f"unsupported Content-Encoding {encoding!r} (use gzip or none)")


# -- OTLP/JSON ------------------------------------------------------------------------------------

_ID_FIELDS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


def _hex_to_base64(value: Any) -> Any:
    """OTLP/JSON carries ids as hex; protobuf's JSON mapping wants base64. Bad hex becomes an empty id,
    which span validation then rejects (partial success) instead of failing the whole request."""
    if not isinstance(value, str):
        return value
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    return base64.b64encode(raw).decode("ascii")


def _fix_ids(obj: dict[str, Any]) -> None:
    for key in _ID_FIELDS:
        if key in obj:
            obj[key] = _hex_to_base64(obj[key])


def _fix_request_ids(document: dict[str, Any]) -> None:
    for resource_spans in _dicts(document.get("resourceSpans", document.get("resource_spans"))):
        for scope_spans in _dicts(resource_spans.get("scopeSpans", resource_spans.get("scope_spans"))):
            for span in _dicts(scope_spans.get("spans")):
                _fix_ids(span)
                for link in _dicts(span.get("links")):
                    _fix_ids(link)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def decode_request(body: bytes, fmt: Format) -> ExportTraceServiceRequest:
    """Parse an export request; raise :class:`PayloadError` naming what is wrong (not the content)."""
    request = ExportTraceServiceRequest()
    if fmt == "protobuf":
        try:
            request.ParseFromString(body)
        except (DecodeError, RecursionError, ValueError) as exc:
            raise PayloadError(
                f"malformed protobuf ExportTraceServiceRequest ({type(exc).__name__})"
            ) from None
        return request
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise PayloadError(f"malformed JSON ({type(exc).__name__})") from None
    if not isinstance(document, dict):
        raise PayloadError("OTLP/JSON body must be a JSON object")
    _fix_request_ids(document)
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError, ValueError, TypeError, AttributeError) as exc:
        # ParseError messages quote field names and offending values; keep only the field path part.
        detail = str(exc).split(":", 1)[0][:200] if isinstance(exc, json_format.ParseError) else ""
        raise PayloadError(
            f"invalid OTLP/JSON ExportTraceServiceRequest ({type(exc).__name__}"
            f"{': ' + detail if detail else ''})"
        ) from None
    return request


# -- span validation (partial success) -------------------------------------------------------------


def _id_problem(field: str, value: bytes, length: int, optional: bool = False) -> str | None:
    """Why an id is unusable, or None when it is fine."""
    if optional and not value:
        return None
    if len(value) != length:
        return f"invalid {field} length (got {len(value)} bytes, want {length})"
    if value == bytes(length):
        return f"invalid {field} (all zeros)"
    return None


def reject_invalid_spans(request: ExportTraceServiceRequest) -> tuple[int, str]:
    """Drop spans whose ids are unusable and return ``(rejected_count, error_message)``.

    The OTLP spec answers such a request with ``partial_success``; the valid spans go on.
    """
    reasons: Counter[str] = Counter()
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            bad: list[int] = []
            for i, span in enumerate(scope_spans.spans):
                problem = (
                    _id_problem("trace_id", span.trace_id, 16)
                    or _id_problem("span_id", span.span_id, 8)
                    or _id_problem("parent_span_id", span.parent_span_id, 8, optional=True)
                )
                if problem:
                    reasons[problem] += 1
                    bad.append(i)
            for i in reversed(bad):
                del scope_spans.spans[i]
    rejected = sum(reasons.values())
    if not rejected:
        return 0, ""
    message = "; ".join(f"{count} span(s): {reason}" for reason, count in sorted(reasons.items()))
    return rejected, f"rejected {rejected} span(s): {message}"


def count_spans(request: ExportTraceServiceRequest) -> int:
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


# -- responses -------------------------------------------------------------------------------------


def export_response(rejected: int = 0, message: str = "") -> ExportTraceServiceResponse:
    response = ExportTraceServiceResponse()
    if rejected or message:
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = message
    return response


def encode_message(message: Any, fmt: Format) -> bytes:
    if fmt == "json":
        return json_format.MessageToJson(message, indent=None).encode("utf-8")
    return message.SerializeToString()


def retry_info(delay_seconds: float) -> error_details_pb2.RetryInfo:
    seconds = int(delay_seconds)
    return error_details_pb2.RetryInfo(
        retry_delay=Duration(seconds=seconds, nanos=int((delay_seconds - seconds) * 1e9))
    )


def rpc_status(code: int, message: str, retry_after: float | None = None) -> status_pb2.Status:
    """A ``google.rpc.Status`` — the OTLP error body for HTTP and the status details for gRPC."""
    status = status_pb2.Status(code=code, message=message)
    if retry_after is not None:
        detail = AnyMessage()
        detail.Pack(retry_info(retry_after))
        status.details.append(detail)
    return status


GRPC_CODE = code_pb2  # re-exported google.rpc.Code numbers for HTTP error bodies


def short_hex(data: bytes) -> str:
    """Hex for logs of ids only (never attributes)."""
    return binascii.hexlify(data).decode("ascii")
