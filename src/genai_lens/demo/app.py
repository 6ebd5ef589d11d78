"""The demo's example app: ordinary OpenAI and Anthropic calls, with no tracing code at all.

`genai-lens demo` runs it under ``opentelemetry-instrument`` against a loopback server that replays
recorded provider responses (``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL``). It is also a fair picture of
what a user's app looks like: the instrumentation comes from the entry points alone.
"""

from __future__ import annotations

import os

# A prompt with personal data in it: the processor's redact stage must scrub it before export.
JOKE_PROMPT = (
    "Tell me a joke about opentelemetry. My e-mail is jane.doe@example.com, card 4111 1111 1111 1111."
)

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string", "description": "The city and state"}},
            "required": ["location"],
        },
    },
}


def openai_calls() -> int:
    import openai

    client = openai.OpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key="demo", max_retries=0)
    calls = 0
    reply = client.chat.completions.create(
        model="gpt-3.5-turbo", messages=[{"role": "user", "content": JOKE_PROMPT}]
    )
    print(f"openai chat:      {reply.choices[0].message.content[:60]!r}")
    calls += 1

    stream = client.chat.completions.create(
        model="gpt-4",
        messages=[{"role": "user", "content": "Say this is a test"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    print(f"openai stream:    {text[:60]!r}")
    calls += 1

    tools = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=[{"role": "user", "content": "What's the weather like in San Francisco?"}],
        tools=[WEATHER_TOOL],
    )
    call = tools.choices[0].message.tool_calls[0]
    print(f"openai tool call: {call.function.name}({call.function.arguments})")
    calls += 1

    try:
        client.chat.completions.create(
            model="this-model-does-not-exist", messages=[{"role": "user", "content": "Say this is a test"}]
        )
    except openai.NotFoundError as exc:
        print(f"openai error:     {type(exc).__name__} (status {exc.status_code}) - as recorded")
    calls += 1
    return calls


def anthropic_calls() -> int:
    import anthropic

    client = anthropic.Anthropic(base_url=os.environ["ANTHROPIC_BASE_URL"], api_key="demo", max_retries=0)
    message = client.messages.create(
        model="claude-3-opus-20240229",
        max_tokens=1024,
        messages=[{"role": "user", "content": "Tell me a joke about OpenTelemetry"}],
    )
    print(f"anthropic:        {message.content[0].text[:60]!r}")
    with client.messages.stream(
        model="claude-3-haiku-20240307",
        max_tokens=1024,
        messages=[{"role": "user", "content": "Tell me a joke about OpenTelemetry"}],
    ) as stream:
        text = "".join(stream.text_stream)
    print(f"anthropic stream: {text[:60]!r}")
    return 2


def main() -> None:
    calls = openai_calls()
    try:
        calls += anthropic_calls()
    except ImportError:
        print("anthropic is not installed: skipping its calls")
    print(f"{calls} model calls made")


if __name__ == "__main__":
    main()
