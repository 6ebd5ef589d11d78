"""Read Anthropic Messages requests and responses into an ``Invocation`` (attributes, usage, content).

Pure functions over the SDK's request kwargs and response objects (pydantic models or plain dicts), so the
span path, the metrics-only path (native SDK tracing active) and the stream accumulator share one reading.
Anthropic's ``usage.input_tokens`` is the UNCACHED count: OTel's ``gen_ai.usage.input_tokens`` adds cache
reads and cache writes back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.util.types import AttributeValue

from genai_lens.instrumentation._genai import Invocation, content

PROVIDER = "anthropic"
OPERATION = "chat"

# request kwarg -> attribute; values of another type are skipped
_REQUEST_NUMBERS: tuple[tuple[str, str, type | tuple[type, ...]], ...] = (
    ("max_tokens", genai.GEN_AI_REQUEST_MAX_TOKENS, int),
    ("temperature", genai.GEN_AI_REQUEST_TEMPERATURE, (int, float)),
    ("top_p", genai.GEN_AI_REQUEST_TOP_P, (int, float)),
    ("top_k", genai.GEN_AI_REQUEST_TOP_K, (int, float)),
)


def field(value: Any, name: str) -> Any:
    """``value.name`` for an SDK model, ``value[name]`` for a dict, else None."""
    if isinstance(value, Mapping):
        return value.get(name)
    return getattr(value, name, None)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def request_attributes(kwargs: Mapping[str, Any]) -> dict[str, AttributeValue]:
    """``gen_ai.request.*`` attributes from ``messages.create`` kwargs (or the JSON body, same keys).

    ``extra_body`` counts too: anthropic 2.x dropped ``temperature``/``top_p``/``top_k`` from the method
    signature, so that is where such parameters travel now.
    """
    extra = kwargs.get("extra_body")
    if isinstance(extra, Mapping):
        kwargs = {**kwargs, **extra}
    attributes: dict[str, AttributeValue] = {}
    for key, attribute, kinds in _REQUEST_NUMBERS:
        value = kwargs.get(key)
        if isinstance(value, kinds) and not isinstance(value, bool):
            attributes[attribute] = float(value) if attribute != genai.GEN_AI_REQUEST_MAX_TOKENS else value
    if _asks_for_json(kwargs):
        attributes[genai.GEN_AI_OUTPUT_TYPE] = genai.GenAiOutputTypeValues.JSON.value
    stop = kwargs.get("stop_sequences")
    if isinstance(stop, (list, tuple)) and stop and all(isinstance(s, str) for s in stop):
        attributes[genai.GEN_AI_REQUEST_STOP_SEQUENCES] = list(stop)
    return attributes


def _asks_for_json(kwargs: Mapping[str, Any]) -> bool:
    """Structured output: ``output_format`` (a JSON schema, or a type given to ``parse``) or
    ``output_config.format`` of type ``json_schema``."""
    requested = kwargs.get("output_format")
    if isinstance(requested, type):
        return True
    config = kwargs.get("output_config")
    formats = (requested, config.get("format") if isinstance(config, Mapping) else None)
    return any(isinstance(f, Mapping) and f.get("type") == "json_schema" for f in formats)


def apply_usage(invocation: Invocation, usage: Any, *, output_final: bool = True) -> None:
    """Copy an Anthropic ``usage`` into OTel token counts (input = uncached + cache read + cache write).

    Fields absent from ``usage`` leave what the invocation already has, so a stream's ``message_delta``
    (output only, sometimes also input) can update what ``message_start`` gave without erasing it.
    """
    if usage is None:
        return
    uncached = _int(field(usage, "input_tokens"))
    cache_read = _int(field(usage, "cache_read_input_tokens"))
    cache_creation = _int(field(usage, "cache_creation_input_tokens"))
    if cache_read is not None:
        invocation.cache_read_input_tokens = cache_read
    if cache_creation is not None:
        invocation.cache_creation_input_tokens = cache_creation
    if uncached is not None:
        invocation.input_tokens = (
            uncached
            + (invocation.cache_read_input_tokens or 0)
            + (invocation.cache_creation_input_tokens or 0)
        )
    output = _int(field(usage, "output_tokens"))
    if output is not None and output_final:
        invocation.output_tokens = output  # cumulative in message_delta: replace, never add
    details = field(usage, "output_tokens_details")
    thinking = _int(field(details, "thinking_tokens")) if details is not None else None
    if thinking is not None:
        invocation.reasoning_output_tokens = thinking


def apply_message(invocation: Invocation, message: Any) -> None:
    """Fill the response side of ``invocation`` from a complete ``Message``."""
    invocation.response_id = field(message, "id") or invocation.response_id
    invocation.response_model = field(message, "model") or invocation.response_model
    stop_reason = field(message, "stop_reason")
    if isinstance(stop_reason, str):
        invocation.finish_reasons = [stop_reason]
    apply_usage(invocation, field(message, "usage"))
    if invocation.capture_content:
        invocation.output_messages = [
            content.output_message(output_parts(field(message, "content") or []), stop_reason)
        ]


# ---- content (only built when capture is on) ----


def _block_text(blocks: Any) -> Any:
    """A tool_result's content: a string, or the text of its text blocks (other blocks kept as dicts)."""
    if isinstance(blocks, str) or blocks is None:
        return blocks
    texts = [field(b, "text") for b in blocks if field(b, "type") == "text"]
    if len(texts) == len(blocks):
        return "".join(t or "" for t in texts)
    return [_as_plain(b) for b in blocks]


def _as_plain(block: Any) -> Any:
    if isinstance(block, Mapping):
        return dict(block)
    dump = getattr(block, "model_dump", None)
    return dump() if callable(dump) else str(block)


def _source_part(block: Any, modality: str) -> dict[str, Any]:
    source = field(block, "source")
    kind = field(source, "type")
    if kind == "base64":
        return content.blob_part(field(source, "data") or "", modality, field(source, "media_type"))
    if kind == "url":
        return content.uri_part(field(source, "url") or "", modality)
    return content.generic_part(field(block, "type") or modality, source=_as_plain(source))


def input_parts(value: Any) -> list[dict[str, Any]]:
    """Parts of one request message's ``content`` (a string or a list of content blocks)."""
    if isinstance(value, str):
        return [content.text_part(value)]
    parts: list[dict[str, Any]] = []
    for block in value or []:
        kind = field(block, "type")
        if kind == "text":
            parts.append(content.text_part(field(block, "text") or ""))
        elif kind == "image":
            parts.append(_source_part(block, "image"))
        elif kind == "document":
            parts.append(_source_part(block, "document"))
        elif kind in ("tool_use", "server_tool_use"):
            parts.append(
                content.tool_call_part(field(block, "id"), field(block, "name"), field(block, "input"))
            )
        elif kind == "tool_result":
            parts.append(
                content.tool_call_response_part(
                    field(block, "tool_use_id"), _block_text(field(block, "content"))
                )
            )
        elif kind in ("thinking", "redacted_thinking"):
            parts.append(content.reasoning_part(field(block, "thinking") or ""))
        else:
            parts.append(content.generic_part(str(kind)))
    return parts


def output_parts(blocks: Any) -> list[dict[str, Any]]:
    """Parts of a response's content blocks."""
    parts: list[dict[str, Any]] = []
    for block in blocks:
        kind = field(block, "type")
        if kind == "text":
            parts.append(content.text_part(field(block, "text") or ""))
        elif kind == "thinking":
            parts.append(content.reasoning_part(field(block, "thinking") or ""))
        elif kind in ("tool_use", "server_tool_use"):
            parts.append(
                content.tool_call_part(field(block, "id"), field(block, "name"), field(block, "input"))
            )
        else:
            parts.append(content.generic_part(str(kind)))
    return parts


def request_content(invocation: Invocation, kwargs: Mapping[str, Any]) -> None:
    """System prompt -> ``system_instructions``; messages -> ``input_messages`` (capture must be on)."""
    system = kwargs.get("system")
    if system:
        invocation.system_instructions = input_parts(system)
    messages = kwargs.get("messages")
    if not isinstance(messages, (list, tuple)):
        return
    built = []
    for message in messages:
        parts = input_parts(field(message, "content"))
        role = field(message, "role") or "user"
        if parts and all(p["type"] == "tool_call_response" for p in parts):
            role = "tool"  # Anthropic carries tool results in a user turn; OTel has a tool role for them
        built.append(content.input_message(role, parts))
    invocation.input_messages = built
