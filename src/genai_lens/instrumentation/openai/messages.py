"""OpenAI messages → OTel GenAI message JSON (only called when content capture is on)."""

from __future__ import annotations

from typing import Any

from genai_lens.instrumentation._genai import content

# OpenAI finish reasons → the schema's FinishReason enum (others pass through; the schema allows strings)
_FINISH_REASONS = {"tool_calls": "tool_call", "function_call": "tool_call"}


def content_finish_reason(reason: str | None) -> str | None:
    return _FINISH_REASONS.get(reason, reason) if reason else None


def _field(obj: Any, name: str) -> Any:
    """Read a field from a dict (request params) or an SDK object (responses) alike."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _data_url_part(url: str, modality: str) -> dict[str, Any]:
    """``data:<mime>;base64,<payload>`` becomes a blob part; anything else a uri part."""
    if url.startswith("data:") and ";base64," in url:
        header, payload = url.split(",", 1)
        return content.blob_part(payload, modality, header[5:].split(";", 1)[0] or None)
    return content.uri_part(url, modality)


def _chat_content_parts(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        return [content.text_part(value)]
    parts: list[dict[str, Any]] = []
    for item in value:
        kind = _field(item, "type")
        if kind in ("text", "input_text", "output_text"):
            parts.append(content.text_part(str(_field(item, "text") or "")))
        elif kind == "image_url":
            image = _field(item, "image_url")
            url = _field(image, "url") if image is not None else None
            if url:
                parts.append(_data_url_part(str(url), "image"))
        elif kind == "input_audio":
            audio = _field(item, "input_audio")
            fmt = _field(audio, "format")
            parts.append(
                content.blob_part(str(_field(audio, "data") or ""), "audio", f"audio/{fmt}" if fmt else None)
            )
        elif kind == "refusal":
            parts.append(content.generic_part("refusal", content=_field(item, "refusal")))
        elif kind:
            parts.append(content.generic_part(str(kind)))
    return parts


def _tool_call_parts(tool_calls: Any, function_call: Any) -> list[dict[str, Any]]:
    parts = []
    for call in tool_calls or ():
        function = _field(call, "function")
        parts.append(
            content.tool_call_part(
                _field(call, "id"), _field(function, "name"), _field(function, "arguments")
            )
        )
    if function_call:
        parts.append(
            content.tool_call_part(None, _field(function_call, "name"), _field(function_call, "arguments"))
        )
    return parts


def chat_input_messages(messages: Any) -> list[dict[str, Any]]:
    """Chat request ``messages`` (dicts or SDK objects) as ``gen_ai.input.messages``."""
    result = []
    for message in messages:
        role = str(_field(message, "role") or "user")
        body = _field(message, "content")
        if role == "tool":
            parts = [content.tool_call_response_part(_field(message, "tool_call_id"), body)]
        elif role == "function":
            parts = [content.tool_call_response_part(None, body)]
        else:
            parts = _chat_content_parts(body)
            parts += _tool_call_parts(_field(message, "tool_calls"), _field(message, "function_call"))
        result.append(
            content.input_message("tool" if role == "function" else role, parts, _field(message, "name"))
        )
    return result


def chat_input_messages_json(messages: Any) -> str | None:
    """Fast path of ``chat_input_messages`` + ``to_json`` for plain ``{"role", "content": str}`` dicts.

    None when any message has another shape (tools, parts, names, SDK objects): use the general path then.
    """
    if not messages or type(messages) is not list:
        return None
    items = []
    for message in messages:
        if type(message) is not dict or len(message) != 2:
            return None
        role = message.get("role")
        text = message.get("content")
        if type(role) is not str or type(text) is not str or not role or role in ("tool", "function"):
            return None
        items.append(content.text_message_json(role, text))
    return content.json_array(items)


def chat_output_messages_json(choices: Any) -> str | None:
    """Fast path for choices whose message is plain text (no refusal, tool or function call); else None."""
    items = []
    for choice in choices:
        message = getattr(choice, "message", None)
        text = getattr(message, "content", None)
        if (
            type(text) is not str
            or getattr(message, "refusal", None)
            or getattr(message, "tool_calls", None)
            or getattr(message, "function_call", None)
        ):
            return None
        reason = content_finish_reason(getattr(choice, "finish_reason", None))
        items.append(content.text_message_json("assistant", text, reason, output=True))
    return content.json_array(items) if items else None


def chat_output_message(message: Any, finish_reason: str | None) -> dict[str, Any]:
    """One chat ``choice.message`` as an output message."""
    parts: list[dict[str, Any]] = []
    if message is not None:
        parts = _chat_content_parts(_field(message, "content"))
        refusal = _field(message, "refusal")
        if refusal:
            parts.append(content.generic_part("refusal", content=refusal))
        parts += _tool_call_parts(_field(message, "tool_calls"), _field(message, "function_call"))
    return content.output_message(parts, content_finish_reason(finish_reason))


def tool_definitions(tools: Any) -> str | None:
    """Tool definitions as JSON (opt-in like content: schemas can be large and proprietary)."""
    if not tools:
        return None
    return content.to_json([tool if isinstance(tool, dict) else _field(tool, "__dict__") for tool in tools])


def responses_input_messages(value: Any) -> list[dict[str, Any]]:
    """Responses API ``input`` (a string or a list of items) as ``gen_ai.input.messages``."""
    if isinstance(value, str):
        return [content.input_message("user", [content.text_part(value)])]
    result: list[dict[str, Any]] = []
    for item in value or ():
        kind = _field(item, "type") or "message"
        if kind == "message":
            result.append(
                content.input_message(
                    str(_field(item, "role") or "user"), _chat_content_parts(_field(item, "content"))
                )
            )
        elif kind == "function_call":
            part = content.tool_call_part(
                _field(item, "call_id"), _field(item, "name"), _field(item, "arguments")
            )
            result.append(content.input_message("assistant", [part]))
        elif kind == "function_call_output":
            part = content.tool_call_response_part(_field(item, "call_id"), _field(item, "output"))
            result.append(content.input_message("tool", [part]))
        else:
            result.append(content.input_message("user", [content.generic_part(str(kind))]))
    return result


def responses_output_parts(output: Any) -> list[dict[str, Any]]:
    """Responses API ``output`` items as parts of one assistant message."""
    parts: list[dict[str, Any]] = []
    for item in output or ():
        kind = _field(item, "type")
        if kind == "message":
            for piece in _field(item, "content") or ():
                piece_type = _field(piece, "type")
                if piece_type == "output_text":
                    parts.append(content.text_part(str(_field(piece, "text") or "")))
                elif piece_type == "refusal":
                    parts.append(content.generic_part("refusal", content=_field(piece, "refusal")))
        elif kind == "function_call":
            parts.append(
                content.tool_call_part(
                    _field(item, "call_id"), _field(item, "name"), _field(item, "arguments")
                )
            )
        elif kind == "reasoning":
            summary = " ".join(str(_field(s, "text") or "") for s in _field(item, "summary") or ())
            if summary:
                parts.append(content.reasoning_part(summary))
        elif kind:
            parts.append(content.generic_part(str(kind)))
    return parts
