"""What every OpenAI method shares: which provider and server a client talks to, errors, and request knobs.

Everything reads SDK objects with ``getattr`` and defaults, so openai 1.x, 2.x and 3.x all work.
"""

from __future__ import annotations

import weakref
from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv._incubating.attributes import openai_attributes
from opentelemetry.semconv.attributes import http_attributes
from opentelemetry.util.types import AttributeValue

from genai_lens.instrumentation._genai import CallHooks, Invocation, server_from_url
from genai_lens.instrumentation._genai.deferred import is_unread_raw_response, parsed_raw_response

PROVIDER_OPENAI = genai.GenAiProviderNameValues.OPENAI.value
PROVIDER_AZURE = genai.GenAiProviderNameValues.AZURE_AI_OPENAI.value
CONTENT_FILTER = "content_filter"
_AZURE_HOST_SUFFIX = ".openai.azure.com"

# kwargs that map one-to-one onto numeric/str gen_ai.request.* attributes
_PLAIN_TYPES = frozenset({int, float, str, bool, list, tuple, dict})
_NUMBER_TYPES = frozenset({int, float})
_NUMERIC_REQUEST_PARAMS = (
    ("temperature", genai.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", genai.GEN_AI_REQUEST_TOP_P),
    ("frequency_penalty", genai.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", genai.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("seed", genai.GEN_AI_REQUEST_SEED),
)


def given(kwargs: dict[str, Any], name: str) -> Any:
    """``kwargs[name]`` unless absent, None, or an SDK ``NOT_GIVEN`` / ``omit`` sentinel (falsy objects)."""
    value = kwargs.get(name)
    if value is None or type(value) in _PLAIN_TYPES:
        return value
    return value if value else None


class _Endpoint:
    """Provider and server of one client, cached until its ``base_url`` object changes."""

    __slots__ = ("base_url", "host", "port", "provider")

    def __init__(self, client: Any, base_url: Any) -> None:
        self.base_url = base_url
        self.host, self.port = server_from_url(base_url)
        self.provider = PROVIDER_AZURE if _is_azure(client, self.host) else PROVIDER_OPENAI


_endpoints: weakref.WeakKeyDictionary[Any, _Endpoint] = weakref.WeakKeyDictionary()
# the last client seen, checked first: most programs call through one client (a weak reference)
_last_client: weakref.ReferenceType[Any] | None = None
_last_endpoint: _Endpoint | None = None


def _is_azure(client: Any, host: str | None) -> bool:
    if host and host.endswith(_AZURE_HOST_SUFFIX):
        return True
    return any(cls.__name__ in ("AzureOpenAI", "AsyncAzureOpenAI") for cls in type(client).__mro__)


def _endpoint(client: Any) -> _Endpoint:
    global _last_client, _last_endpoint
    # the private field first: openai 3.x's ``base_url`` property runs an import statement on every read
    base_url = getattr(client, "_base_url", None) or getattr(client, "base_url", None)
    last = _last_endpoint
    if (
        last is not None
        and last.base_url is base_url
        and _last_client is not None
        and _last_client() is client
    ):
        return last
    try:
        cached = _endpoints.get(client)
    except TypeError:  # not weak-referenceable: compute every time
        return _Endpoint(client, base_url)
    if cached is None or cached.base_url is not base_url:
        cached = _endpoints[client] = _Endpoint(client, base_url)
    _last_client, _last_endpoint = weakref.ref(client), cached
    return cached


def new_invocation(resource: Any, operation: str, kwargs: dict[str, Any]) -> Invocation:
    """An invocation with provider, server and model filled from the resource's client and the kwargs."""
    endpoint = _endpoint(getattr(resource, "_client", None))
    model = kwargs.get("model")
    return Invocation(
        provider=endpoint.provider,
        operation=operation,
        request_model=model if type(model) is str else (str(model) if given(kwargs, "model") else None),
        server_address=endpoint.host,
        server_port=endpoint.port,
        stream=kwargs.get("stream") is True,
    )


def add_sampling_params(invocation: Invocation, kwargs: dict[str, Any]) -> None:
    """Copy the sampling knobs both chat and Responses accept into ``gen_ai.request.*``."""
    attributes = invocation.request_attributes
    for name, key in _NUMERIC_REQUEST_PARAMS:
        value = kwargs.get(name)
        if type(value) in _NUMBER_TYPES:
            attributes[key] = value
    service_tier = kwargs.get("service_tier")
    if type(service_tier) is str:
        attributes[openai_attributes.OPENAI_REQUEST_SERVICE_TIER] = service_tier


def add_response_common(invocation: Invocation, response: Any) -> None:
    """id, model, service tier and fingerprint, present on chat, Responses and chunk objects."""
    response_id = getattr(response, "id", None)
    if response_id:
        invocation.response_id = str(response_id)
    model = getattr(response, "model", None)
    if model:
        invocation.response_model = str(model)
    tier = getattr(response, "service_tier", None)
    if tier:
        invocation.response_attributes[openai_attributes.OPENAI_RESPONSE_SERVICE_TIER] = str(tier)
    fingerprint = getattr(response, "system_fingerprint", None)
    if fingerprint:
        invocation.response_attributes[openai_attributes.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] = str(
            fingerprint
        )


def detail(obj: Any, details: str, field: str) -> int | None:
    """``obj.<details>.<field>`` as int, tolerating missing objects and dict-shaped details."""
    container = getattr(obj, details, None)
    if container is None:
        return None
    value = container.get(field) if isinstance(container, dict) else getattr(container, field, None)
    return value if isinstance(value, int) else None


def record_error(invocation: Invocation, exc: BaseException) -> None:
    """HTTP status and Azure content-filter refusals on failed calls; error.type stays the class name."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        attributes: dict[str, AttributeValue] = invocation.response_attributes
        attributes[http_attributes.HTTP_RESPONSE_STATUS_CODE] = status
    if getattr(exc, "code", None) == CONTENT_FILTER:
        invocation.finish_reasons = [CONTENT_FILTER]


def error_body_code(response: Any) -> str | None:
    """Azure can answer 200 with an ``error`` body (prompt filtered); the SDK keeps it as an extra field."""
    extra = getattr(response, "model_extra", None)  # pydantic v2: unknown fields, no slow __getattr__
    error = extra.get("error") if isinstance(extra, dict) else getattr(response, "__dict__", {}).get("error")
    if isinstance(error, dict):
        code = error.get("code")
        return str(code) if code else "error"
    return None


class OpenAIHooks(CallHooks):
    """What every OpenAI method's hooks share: raw responses are read by the caller, so the span waits."""

    def deferred_response(self, invocation: Invocation, response: Any) -> bool:
        return is_unread_raw_response(response)


# the model object behind a ``with_raw_response`` result (the SDK's cached parse, no second parse)
parsed = parsed_raw_response
