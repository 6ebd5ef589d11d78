"""OpenAI fixtures: an instrumented SDK and client factories pointed at a replay server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from genai_lens.instrumentation.openai import OpenAIInstrumentor
from genai_lens.replay import ReplayServer


@pytest.fixture
def instrument(
    tracer_provider: Any, meter_provider: Any, no_content_env: None
) -> Iterator[Callable[[], Any]]:
    """``instrument()`` instruments openai with the in-memory providers; undone at teardown.

    Call it after setting env vars the instrumentor reads (content capture).
    """
    instrumentors: list[OpenAIInstrumentor] = []

    def apply() -> OpenAIInstrumentor:
        instrumentor = OpenAIInstrumentor()
        instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
        instrumentors.append(instrumentor)
        return instrumentor

    yield apply
    for instrumentor in instrumentors:
        instrumentor.uninstrument()


@pytest.fixture
def instrumented(instrument: Callable[[], Any]) -> Any:
    return instrument()


def client_for(server: ReplayServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key="test-key", max_retries=0)


def async_client_for(server: ReplayServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.base_url + "/v1", api_key="test-key", max_retries=0)


def azure_client_for(server: ReplayServer, api_version: str = "2024-02-01") -> openai.AzureOpenAI:
    return openai.AzureOpenAI(
        azure_endpoint=server.base_url, api_key="test-key", api_version=api_version, max_retries=0
    )


@pytest.fixture
def client() -> Callable[[ReplayServer], openai.OpenAI]:
    return client_for


@pytest.fixture
def async_client() -> Callable[[ReplayServer], openai.AsyncOpenAI]:
    return async_client_for


@pytest.fixture
def azure_client() -> Callable[..., openai.AzureOpenAI]:
    return azure_client_for


def recorded_request(server: ReplayServer, index: int = 0) -> dict[str, Any]:
    """The JSON body of the ``index``-th recorded request, to replay exactly what was recorded."""
    body = server.interactions[index].request_json
    assert isinstance(body, dict)
    return dict(body)


@pytest.fixture
def recorded() -> Callable[..., dict[str, Any]]:
    return recorded_request
