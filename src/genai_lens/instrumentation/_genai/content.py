"""Opt-in capture of message content in the OTel GenAI JSON shape.

Content is off unless ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` asks for it: prompts and answers
are user data. The builders below produce the parts defined by the ``gen_ai.input.messages`` /
``gen_ai.output.messages`` JSON schemas (text, tool_call, tool_call_response, reasoning, uri, blob, ...).
"""

from __future__ import annotations

import json
import os
from json.encoder import encode_basestring as _quote  # what ensure_ascii=False uses
from typing import Any

CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
# Values that put content on spans. "event_only" and "no_content" (or anything else) keep it off spans.
_SPAN_CAPTURE_VALUES = frozenset({"true", "1", "yes", "on", "span_only", "span_and_event"})


def capture_content_enabled(environ: dict[str, str] | None = None) -> bool:
    """Whether message content should be recorded on spans (read once per instrumentor)."""
    value = (environ if environ is not None else os.environ).get(CAPTURE_CONTENT_ENV, "")
    return value.strip().lower() in _SPAN_CAPTURE_VALUES


def text_part(content: str) -> dict[str, Any]:
    return {"type": "text", "content": content}


def reasoning_part(content: str) -> dict[str, Any]:
    return {"type": "reasoning", "content": content}


def tool_call_part(call_id: str | None, name: str, arguments: Any) -> dict[str, Any]:
    """A tool call the model requested; ``arguments`` is parsed from JSON when it is a JSON string."""
    return {"type": "tool_call", "id": call_id, "name": name or "", "arguments": parse_json_maybe(arguments)}


def tool_call_response_part(call_id: str | None, response: Any) -> dict[str, Any]:
    return {"type": "tool_call_response", "id": call_id, "response": response}


def uri_part(uri: str, modality: str = "image", mime_type: str | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "uri", "modality": modality, "uri": uri}
    if mime_type:
        part["mime_type"] = mime_type
    return part


def blob_part(content_b64: str, modality: str = "image", mime_type: str | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "blob", "modality": modality, "content": content_b64}
    if mime_type:
        part["mime_type"] = mime_type
    return part


def generic_part(part_type: str, **fields: Any) -> dict[str, Any]:
    """A part type the schema does not name (e.g. ``refusal``); the schema allows extra types."""
    return {"type": part_type, **fields}


def input_message(role: str, parts: list[dict[str, Any]], name: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": role, "parts": parts}
    if name:
        message["name"] = name
    return message


def output_message(
    parts: list[dict[str, Any]], finish_reason: str | None, role: str = "assistant"
) -> dict[str, Any]:
    """An output message; a missing finish reason (cut-off stream) is recorded as ``error``."""
    return {"role": role, "parts": parts, "finish_reason": finish_reason or "error"}


def parse_json_maybe(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# built once: json.dumps with non-default options constructs a new encoder on every call
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def to_json(value: Any) -> str:
    """Serialize content compactly; objects JSON cannot encode become their ``str``."""
    return _ENCODER.encode(value)


def text_message_json(role: str, text: str, finish_reason: str | None = None, output: bool = False) -> str:
    """``to_json`` of a message holding one text part, written directly (the common case, per call).

    Byte for byte what ``to_json(input_message(role, [text_part(text)]))`` (or, with ``output``,
    ``output_message(...)``) gives, without building the dicts first.
    """
    head = f'{{"role":{_quote(role)},"parts":[{{"type":"text","content":{_quote(text)}}}]'
    if output:
        return f'{head},"finish_reason":{_quote(finish_reason or "error")}}}'
    return head + "}"


def json_array(items: list[str]) -> str:
    """A JSON array of already-serialized items."""
    return "[" + ",".join(items) + "]"
