"""A tiny app run under ``opentelemetry-instrument`` by test_openai_otlp_e2e.py (not a test module).

It knows nothing about genai-lens instrumentation: zero-code instrumentation must find it via entry points.
"""

from __future__ import annotations

import sys

import openai
from opentelemetry import trace

from genai_lens.replay import ReplayServer


def main(cassette: str) -> None:
    with ReplayServer(cassette) as server:
        client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="test-key", max_retries=0)
        with trace.get_tracer("e2e-app").start_as_current_span("handle-request"):
            body = server.interactions[0].request_json
            reply = "".join(
                c.choices[0].delta.content or "" for c in client.chat.completions.create(**body) if c.choices
            )
    print(f"reply={reply!r}")


if __name__ == "__main__":
    main(sys.argv[1])
