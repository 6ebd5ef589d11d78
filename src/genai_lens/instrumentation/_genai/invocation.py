"""One GenAI call as data: what was asked, what came back, how long it took.

Provider instrumentors fill an ``Invocation`` from the SDK's arguments and response objects; the shared span
and metric code turns it into telemetry. Keeping this a plain record means providers never touch spans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.util.types import AttributeValue

_DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(slots=True, eq=False)
class Invocation:
    """A GenAI client call. Token counts follow OTel: ``input_tokens`` includes cache reads and writes."""

    provider: str
    operation: str
    request_model: str | None = None
    server_address: str | None = None
    server_port: int | None = None
    stream: bool = False
    # extra request attributes (gen_ai.request.*, openai.request.*) set when the span starts
    request_attributes: dict[str, AttributeValue] = field(default_factory=dict)

    response_id: str | None = None
    response_model: str | None = None
    finish_reasons: list[str] | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    reasoning_output_tokens: int | None = None
    time_to_first_chunk: float | None = None
    # extra response attributes set when the span ends
    response_attributes: dict[str, AttributeValue] = field(default_factory=dict)

    # message content, filled only when ``capture_content`` is true (JSON-ready lists, see content.py, or
    # the same already serialized to a JSON string by a provider's fast path)
    capture_content: bool = False
    system_instructions: list[dict[str, Any]] | str | None = None
    input_messages: list[dict[str, Any]] | str | None = None
    output_messages: list[dict[str, Any]] | str | None = None

    # overrides the default error.type (exception class name) when a provider knows better
    error_type: str | None = None

    # runtime state owned by the telemetry layer
    start_time: float = 0.0
    span: Any = None
    context_token: Any = None
    ended: bool = False


def server_from_url(url: object) -> tuple[str | None, int | None]:
    """Return (host, port) of a base URL (str or URL object), the port defaulted from the scheme."""
    if url is None:
        return None, None
    try:
        parts = urlsplit(str(url))
        host = parts.hostname
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None, None
    return host, port
