"""Hooks for ``Messages.create`` (plain and ``stream=True``) and the event accumulator for its streams.

Streamed usage: ``message_start`` carries the input counts and a provisional output count;
``message_delta`` carries the CUMULATIVE output count, which replaces (never adds to) the provisional one.
A stream that stops early keeps whatever arrived (partial usage, finish reason ``error`` in content).
"""

from __future__ import annotations

from typing import Any

from genai_lens.instrumentation._genai import (
    CallHooks,
    Invocation,
    StreamAccumulator,
    content,
    server_from_url,
)
from genai_lens.instrumentation._genai.deferred import is_unread_raw_response, parsed_raw_response
from genai_lens.instrumentation.anthropic import extract, native


class MessageEventAccumulator(StreamAccumulator):
    """Collects ids, usage, the stop reason and (when captured) content blocks from raw stream events."""

    __slots__ = ("blocks", "capture", "inv", "native_span", "stop_reason")

    def __init__(self, invocation: Invocation, native_span: native.NativeStreamSpan | None = None) -> None:
        self.inv = invocation
        self.capture = invocation.capture_content
        self.stop_reason: str | None = None
        self.blocks: dict[int, dict[str, Any]] = {}
        # the SDK's own span for this call when native tracing is on (we only add what it lacks)
        self.native_span = native_span

    def on_chunk(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        if kind == "content_block_delta":
            if self.capture:
                self._delta(event)
        elif kind == "message_start":
            message = event.message
            self.inv.response_id = message.id
            self.inv.response_model = message.model
            # the provisional output count stands only until message_delta replaces it
            extract.apply_usage(self.inv, getattr(message, "usage", None))
        elif kind == "content_block_start":
            if self.capture:
                self._start(event)
        elif kind == "message_delta":
            stop_reason = getattr(event.delta, "stop_reason", None)
            if stop_reason is not None:
                self.stop_reason = stop_reason
                self.inv.finish_reasons = [stop_reason]
            extract.apply_usage(self.inv, getattr(event, "usage", None))
            if self.native_span is not None:
                native.enrich_from_stream(self.native_span, self.inv, self._parts)

    def _start(self, event: Any) -> None:
        block = event.content_block
        kind = getattr(block, "type", None)
        entry: dict[str, Any] = {"type": kind, "text": []}
        if kind in ("tool_use", "server_tool_use"):
            entry["id"] = getattr(block, "id", None)
            entry["name"] = getattr(block, "name", None)
            initial = getattr(block, "input", None)
            entry["input"] = initial if initial else None
        elif kind == "text":
            entry["text"].append(getattr(block, "text", "") or "")
        elif kind == "thinking":
            entry["text"].append(getattr(block, "thinking", "") or "")
        self.blocks[event.index] = entry

    def _delta(self, event: Any) -> None:
        entry = self.blocks.get(event.index)
        if entry is None:
            return
        delta = event.delta
        kind = getattr(delta, "type", None)
        if kind == "text_delta":
            entry["text"].append(delta.text)
        elif kind == "thinking_delta":
            entry["text"].append(delta.thinking)
        elif kind == "input_json_delta":
            entry["text"].append(delta.partial_json)

    def finish(self, invocation: Invocation, stream: Any) -> None:
        if invocation.response_id is None and _from_snapshot(invocation, stream):
            return  # old SDK helper that consumed its events itself; its snapshot has them all
        if self.capture:
            invocation.output_messages = [content.output_message(self._parts(), self.stop_reason)]

    def _parts(self) -> list[dict[str, Any]]:
        parts = []
        for _, entry in sorted(self.blocks.items()):
            kind, text = entry["type"], "".join(entry["text"])
            if kind == "text":
                parts.append(content.text_part(text))
            elif kind == "thinking":
                parts.append(content.reasoning_part(text))
            elif kind in ("tool_use", "server_tool_use"):
                arguments = text if text else entry.get("input") or {}
                parts.append(content.tool_call_part(entry["id"], entry["name"], arguments))
            else:
                parts.append(content.generic_part(str(kind)))
        return parts


def _from_snapshot(invocation: Invocation, stream: Any) -> bool:
    """Fill ``invocation`` from an old SDK ``MessageStream``'s own accumulated message (anthropic < 0.27,
    whose ``text_stream``/``get_final_message()`` read the stream without passing through our proxy)."""
    try:
        snapshot = stream.current_message_snapshot
    except Exception:  # noqa: BLE001 - absent (raw Stream) or not started (the SDK asserts)
        return False
    if snapshot is None:
        return False
    extract.apply_message(invocation, snapshot)
    return True


def build_invocation(
    instance: Any, kwargs: dict[str, Any], capture_content: bool, stream: bool
) -> Invocation:
    """The request side of one Messages call; ``instance`` is the SDK's Messages resource."""
    client = getattr(instance, "_client", None)
    host, port = server_from_url(getattr(client, "base_url", None))
    model = kwargs.get("model")
    invocation = Invocation(
        provider=extract.PROVIDER,
        operation=extract.OPERATION,
        request_model=model if isinstance(model, str) else None,
        server_address=host,
        server_port=port,
        stream=stream,
    )
    invocation.request_attributes.update(extract.request_attributes(kwargs))
    if capture_content:
        invocation.capture_content = True
        extract.request_content(invocation, kwargs)
    return invocation


class MessagesHooks(CallHooks):
    """``Messages.create`` / ``AsyncMessages.create``.

    ``native=True`` is the metrics-only variant used when the SDK traces the call itself: the invocation is
    still filled (metrics need it) but its span is a no-op, and stream events enrich the SDK's span.
    """

    def __init__(self, stream_types: tuple[type, ...], native: bool = False) -> None:
        self.stream_types = stream_types
        self.native = native

    def invocation(
        self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any], capture_content: bool
    ) -> Invocation | None:
        return build_invocation(instance, kwargs, capture_content, stream=kwargs.get("stream") is True)

    def on_response(self, invocation: Invocation, response: Any) -> None:
        response = parsed_raw_response(response)  # with_raw_response: the SDK's own (cached) parse
        if getattr(response, "type", None) == "message" or hasattr(response, "stop_reason"):
            extract.apply_message(invocation, response)

    def deferred_response(self, invocation: Invocation, response: Any) -> bool:
        return is_unread_raw_response(response)  # with_streaming_response: wait for the caller's read

    def stream_accumulator(self, invocation: Invocation, response: Any) -> StreamAccumulator | None:
        if not isinstance(response, self.stream_types):
            return None
        span = native.span_of_stream(response) if self.native else None
        return MessageEventAccumulator(invocation, span)


__all__ = ["MessageEventAccumulator", "MessagesHooks", "build_invocation"]
