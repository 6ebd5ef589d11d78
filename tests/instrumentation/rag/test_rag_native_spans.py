"""Single counting with a provider SDK that traces itself: anthropic >= 2 records its own call span + usage.

A LangChain chat model on the real anthropic SDK (over HTTP to a replay server): with the SDK's spans on, the
framework span defers to them even when our anthropic instrumentor is off; with them off, it carries usage.
"""

from __future__ import annotations

from typing import Any

import anthropic
from conftest import ancestors, one, usage_sum
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

CASSETTE = "anthropic/messages_create_claude3opus.yaml"
MODEL = "claude-3-opus-20240229"
CHAT = f"chat {MODEL}"
SERVED = (17, 220)  # the cassette's usage


class AnthropicSDKChat(BaseChatModel):
    """The smallest LangChain chat model on the anthropic SDK (langchain-anthropic is not installed)."""

    client: Any
    model: str = MODEL

    @property
    def _llm_type(self) -> str:
        return "anthropic-sdk"

    def _get_ls_params(self, stop: Any = None, **kwargs: Any) -> Any:
        return {"ls_provider": "anthropic", "ls_model_name": self.model, "ls_model_type": "chat"}

    def _generate(
        self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        message = self.client.messages.create(
            model=self.model, max_tokens=1024, messages=[{"role": "user", "content": messages[-1].content}]
        )
        text = "".join(block.text for block in message.content if block.type == "text")
        usage = {
            "input_tokens": message.usage.input_tokens,
            "output_tokens": message.usage.output_tokens,
            "total_tokens": message.usage.input_tokens + message.usage.output_tokens,
        }
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text, usage_metadata=usage))])


def chat_model(server: Any, **client_options: Any) -> AnthropicSDKChat:
    client = anthropic.Anthropic(
        base_url=server.base_url, api_key="test-key", max_retries=0, **client_options
    )
    return AnthropicSDKChat(client=client)


def test_framework_defers_to_sdk_native_span_without_our_anthropic_instrumentor(
    instrument, replay, spans, tracer_provider
):
    instrument("langchain")
    model = chat_model(replay(CASSETTE), open_telemetry={"tracer_provider": tracer_provider})
    assert model.invoke("Tell me a joke about OpenTelemetry").content.startswith("Sure")
    framework = one(spans(), CHAT, "INTERNAL")
    native = [s for s in spans() if s is not framework]
    assert len(native) == 1 and native[0].kind.name == "CLIENT"
    assert ancestors(spans(), native[0]) == [CHAT]
    assert framework.attributes["genai_lens.usage.recorded_by"] == "provider_span"
    assert "gen_ai.usage.input_tokens" not in framework.attributes
    assert usage_sum(spans()) == SERVED


def test_framework_defers_to_sdk_native_span_with_our_anthropic_instrumentor(
    instrument, replay, spans, tracer_provider
):
    instrument("langchain", "anthropic")
    model = chat_model(replay(CASSETTE), open_telemetry={"tracer_provider": tracer_provider})
    model.invoke("Tell me a joke about OpenTelemetry")
    assert len(spans()) == 2
    assert usage_sum(spans()) == SERVED


def test_framework_carries_usage_when_sdk_tracing_is_off(instrument, replay, spans):
    instrument("langchain")
    model = chat_model(replay(CASSETTE), open_telemetry=False)
    model.invoke("Tell me a joke about OpenTelemetry")
    framework = one(spans(), CHAT, "INTERNAL")
    assert [s.name for s in spans()] == [CHAT]
    assert framework.attributes["gen_ai.provider.name"] == "anthropic"
    assert framework.attributes["genai_lens.usage.recorded_by"] == "framework_span"
    assert usage_sum(spans()) == SERVED
