"""Anthropic test helpers: clients pointed at a replay server, and readers of the shared cassettes.

Requests are rebuilt from the cassettes' own request bodies and expected values are read from the
cassettes' responses, so no test hard-codes what the provider said.
"""

from __future__ import annotations

import gzip
import inspect
import json
from pathlib import Path
from typing import Any

import anthropic
import yaml

from genai_lens.replay import ReplayServer

# anthropic >= 2 has its own OpenTelemetry spans, switched per client with ``open_telemetry=``
NATIVE_SUPPORTED = "open_telemetry" in inspect.signature(anthropic.Anthropic.__init__).parameters


CASSETTES = (Path(__file__).resolve().parents[3] / ".." / "shared" / "cassettes").resolve()


def cassette(relative: str) -> Path:
    path = CASSETTES / relative
    assert path.is_file(), f"missing cassette {path}"
    return path


def interactions(relative: str) -> list[dict[str, Any]]:
    return yaml.safe_load(cassette(relative).read_text())["interactions"]


def request_body(relative: str, index: int = 0) -> dict[str, Any]:
    """The JSON body the recorded request sent: pass it as ``messages.create(**body)``."""
    return json.loads(interactions(relative)[index]["request"]["body"])


def response_text(relative: str, index: int = 0) -> str:
    body = interactions(relative)[index]["response"]["body"]["string"]
    if isinstance(body, bytes):
        body = gzip.decompress(body).decode()
    return body


def response_json(relative: str, index: int = 0) -> dict[str, Any]:
    return json.loads(response_text(relative, index))


def stream_events(relative: str, index: int = 0) -> list[dict[str, Any]]:
    """The decoded ``data:`` payloads of a recorded SSE response."""
    return [
        json.loads(line[len("data:") :])
        for line in response_text(relative, index).splitlines()
        if line.startswith("data:")
    ]


def expected_stream_usage(relative: str, index: int = 0) -> dict[str, int]:
    """What a stream's final usage is: input counts from ``message_start``, the LAST ``message_delta`` output.

    ``message_delta.usage.output_tokens`` is cumulative, so it is the answer on its own.
    """
    events = stream_events(relative, index)
    start = next(e for e in events if e["type"] == "message_start")["message"]["usage"]
    delta = [e for e in events if e["type"] == "message_delta"][-1]["usage"]
    return {
        "input": start["input_tokens"]
        + start.get("cache_read_input_tokens", 0)
        + start.get("cache_creation_input_tokens", 0),
        "provisional_output": start["output_tokens"],
        "output": delta["output_tokens"],
        "cache_read": start.get("cache_read_input_tokens"),
        "cache_creation": start.get("cache_creation_input_tokens"),
    }


def expected_usage(relative: str, index: int = 0) -> dict[str, int]:
    usage = response_json(relative, index)["usage"]
    return {
        "input": usage["input_tokens"]
        + (usage.get("cache_read_input_tokens") or 0)
        + (usage.get("cache_creation_input_tokens") or 0),
        "output": usage["output_tokens"],
        "cache_read": usage.get("cache_read_input_tokens"),
        "cache_creation": usage.get("cache_creation_input_tokens"),
    }


def client_for(server: ReplayServer, **options: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.base_url, api_key="test-key", max_retries=0, **options)


def async_client_for(server: ReplayServer, **options: Any) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=server.base_url, api_key="test-key", max_retries=0, **options)


def native_options(tracer_provider: Any) -> dict[str, Any]:
    """Client options that switch the SDK's own tracing on with our in-memory provider (anthropic >= 2)."""
    return {"open_telemetry": {"tracer_provider": tracer_provider}}


def genai_spans(spans: list[Any]) -> list[Any]:
    """The spans that describe a GenAI call, from any scope (ours or the SDK's)."""
    return [s for s in spans if (s.attributes or {}).get("gen_ai.operation.name")]
