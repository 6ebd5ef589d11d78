"""OpenTelemetry instrumentation for the Anthropic Python SDK (0.x to 2.x): one span per Messages call.

    from genai_lens.instrumentation.anthropic import AnthropicInstrumentor
    AnthropicInstrumentor().instrument(tracer_provider=..., meter_provider=...)

Covers ``messages.create`` (sync/async, ``stream=True``), ``messages.parse`` and ``messages.stream()``
(sync/async, with ``text_stream``, ``get_final_message()``, ``until_done()``), the same on
``beta.messages``, tool use, prompt-cache usage, thinking, structured output, errors.
Entry point name: ``genai_lens_anthropic``. No HTTP transport is touched.

One span per call. anthropic >= 2 traces its own calls (span ``anthropic.messages.create``, scope
``com.anthropic.sdk.python``) whenever its client has a recording tracer provider (see ``native``). The
decision is made per call, on the client used:

* SDK tracing active: we start NO span (adding ours would duplicate the SDK's, as reported against other
  instrumentors). We still give what the SDK span lacks: the metrics ``gen_ai.client.operation.duration``,
  ``gen_ai.client.token.usage`` (input incl. cache reads and writes / output) and, for streams,
  ``gen_ai.client.operation.time_to_first_chunk``, under our scope; and on the SDK's span, while it is still
  open, ``gen_ai.response.finish_reasons``, ``gen_ai.request.temperature/top_p/top_k/stop_sequences``,
  ``gen_ai.usage.cache_creation.input_tokens``, ``gen_ai.output.type``, plus content (system
  instructions, input and output messages) when our content switch is on and the SDK's own content mode
  (``ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE=content``) is off. Plain calls are enriched just before
  the SDK ends its span (we wrap its ``finish_api_call_span``), streams at ``message_delta``.
* SDK tracing off (anthropic 0.x/1.x, ``ANTHROPIC_OPEN_TELEMETRY=false``, ``open_telemetry=False``, or no
  SDK tracer provider for the client): our own CLIENT span ``chat {model}`` with the full attribute set.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.trace import NoOpTracer

from genai_lens.instrumentation._genai import (
    AsyncStreamProxy,
    GenAITelemetry,
    Patches,
    SyncStreamProxy,
    async_wrapper,
    sync_wrapper,
)

_INSTRUMENTS = ("anthropic >= 0.20.0, < 3",)
# where the Messages resources lived across SDK versions (a package from ~0.40, a module before)
_MESSAGES_MODULES = ("anthropic.resources.messages.messages", "anthropic.resources.messages")
_BETA_MESSAGES_MODULES = ("anthropic.resources.beta.messages.messages", "anthropic.resources.beta.messages")

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


def _stream_types() -> tuple[type, ...]:
    import anthropic

    return tuple(
        t for t in (getattr(anthropic, "Stream", None), getattr(anthropic, "AsyncStream", None)) if t
    )


class AnthropicInstrumentor(BaseInstrumentor):
    """Spans (or, under the SDK's own tracing, metrics and enrichment) for Anthropic Messages calls."""

    def __init__(self) -> None:
        super().__init__()
        self._patches = Patches()

    def instrumentation_dependencies(self) -> Collection[str]:
        return _INSTRUMENTS

    def _instrument(self, **kwargs: Any) -> None:
        from genai_lens.instrumentation.anthropic import native
        from genai_lens.instrumentation.anthropic.messages import MessagesHooks
        from genai_lens.instrumentation.anthropic.stream_helper import instrument_manager

        telemetry = GenAITelemetry.for_instrumentor(__name__, kwargs)
        # same metrics and content switch, but a tracer whose spans are non-recording children of the
        # current context: the SDK's span stays the only span (and keeps its parent)
        metrics_only = copy.copy(telemetry)
        metrics_only.tracer = NoOpTracer()
        stream_types = _stream_types()
        traced_hooks, native_hooks = MessagesHooks(stream_types), MessagesHooks(stream_types, native=True)

        def choose(client: Any) -> tuple[Callable[[Any], Wrapper], MessagesHooks]:
            """(wrapper factory, hooks) for a sync call on ``client``."""
            if native.native_tracing_active(client):
                return (lambda hooks: sync_wrapper(metrics_only, hooks)), native_hooks
            return (lambda hooks: sync_wrapper(telemetry, hooks)), traced_hooks

        def choose_async(client: Any) -> tuple[Callable[[Any], Wrapper], MessagesHooks]:
            if native.native_tracing_active(client):
                return (lambda hooks: async_wrapper(metrics_only, hooks)), native_hooks
            return (lambda hooks: async_wrapper(telemetry, hooks)), traced_hooks

        create_wrappers = {
            False: (sync_wrapper(telemetry, traced_hooks), sync_wrapper(metrics_only, native_hooks)),
            True: (async_wrapper(telemetry, traced_hooks), async_wrapper(metrics_only, native_hooks)),
        }

        def create(is_async: bool) -> Wrapper:
            traced, metered = create_wrappers[is_async]

            def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
                chosen = (
                    metered if native.native_tracing_active(getattr(instance, "_client", None)) else traced
                )
                return chosen(wrapped, instance, args, kwargs)

            return wrapper

        def stream(is_async: bool) -> Wrapper:
            def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
                manager = wrapped(*args, **kwargs)
                # suppression is checked by the shared wrapper when the request is actually sent
                return instrument_manager(
                    manager, instance, kwargs, choose_async if is_async else choose, is_async
                )

            return wrapper

        for module in _MESSAGES_MODULES + _BETA_MESSAGES_MODULES:
            # parse() sends its own request (it does not go through create), so it is wrapped too
            for method in ("create", "parse"):
                self._patches.wrap(module, f"Messages.{method}", create(False))
                self._patches.wrap(module, f"AsyncMessages.{method}", create(True))
            self._patches.wrap(module, "Messages.stream", stream(False))
            self._patches.wrap(module, "AsyncMessages.stream", stream(True))
        # anthropic 0.x overrides isinstance() for Stream/AsyncStream (a metaclass that only admits its own
        # instances); teach it our proxies so ``isinstance(stream, anthropic.Stream)`` keeps holding
        for meta in ("_SyncStreamMeta", "_AsyncStreamMeta"):
            self._patches.wrap("anthropic._streaming", f"{meta}.__instancecheck__", _proxy_instancecheck)
        self._patches.wrap(
            native.FINISH_MODULE,
            native.FINISH_FUNCTION,
            native.make_finish_wrapper(telemetry.capture_content),
        )

    def _uninstrument(self, **kwargs: Any) -> None:
        self._patches.unwrap_all()


def _proxy_instancecheck(wrapped: Callable[..., Any], cls: Any, args: Any, kwargs: Any) -> Any:
    """``isinstance(proxy, Stream)`` answers for the stream inside our proxy."""
    candidate = args[0] if args else None
    if isinstance(candidate, (SyncStreamProxy, AsyncStreamProxy)):
        return isinstance(candidate.__wrapped__, cls)
    return wrapped(*args, **kwargs)


__all__ = ["AnthropicInstrumentor"]
