"""wrapt wrappers for SDK methods: build an invocation, call through, end the span or hand over a stream.

A provider describes one method with a ``CallHooks`` subclass (how to read the arguments, the response,
the stream); ``sync_wrapper`` / ``async_wrapper`` turn it into a wrapt wrapper. The user's call always runs
exactly once with its own arguments, and its exceptions propagate unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from opentelemetry.context import get_value

from genai_lens.instrumentation._genai.deferred import AsyncDeferredResponseProxy, SyncDeferredResponseProxy
from genai_lens.instrumentation._genai.invocation import Invocation
from genai_lens.instrumentation._genai.safety import report_internal_error
from genai_lens.instrumentation._genai.stream import AsyncStreamProxy, StreamAccumulator, SyncStreamProxy
from genai_lens.instrumentation._genai.telemetry import (
    _SUPPRESS_KEY,
    GenAITelemetry,
    instrumentation_suppressed,
)

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


class CallHooks:
    """Provider knowledge about one SDK method. Override ``invocation`` and whatever else applies."""

    sync_stream_proxy: type[SyncStreamProxy] = SyncStreamProxy
    async_stream_proxy: type[AsyncStreamProxy] = AsyncStreamProxy

    def invocation(
        self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any], capture_content: bool
    ) -> Invocation | None:
        """Describe the request; return None to let this call through without telemetry."""
        raise NotImplementedError

    def on_response(self, invocation: Invocation, response: Any) -> None:
        """Copy a non-streamed response into ``invocation``."""

    def stream_accumulator(self, invocation: Invocation, response: Any) -> StreamAccumulator | None:
        """Return an accumulator when ``response`` is a stream (its span then ends with the stream)."""
        return None

    def deferred_response(self, invocation: Invocation, response: Any) -> bool:
        """True when ``response`` is a raw response the caller reads later (``with_streaming_response``).

        The span then ends when the caller parses or closes it, with the SDK's own parsed object passed to
        ``on_response`` / ``stream_accumulator`` (see ``deferred.py``).
        """
        return False

    def on_error(self, invocation: Invocation, exc: BaseException) -> None:
        """Add error details (e.g. set ``invocation.error_type``, an HTTP status attribute)."""


def _begin(
    telemetry: GenAITelemetry, hooks: CallHooks, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Invocation | None:
    try:
        invocation = hooks.invocation(instance, args, kwargs, telemetry.capture_content)
        if invocation is None:
            return None
        invocation.capture_content = telemetry.capture_content
        return telemetry.start(invocation)
    except Exception as exc:
        report_internal_error(f"{type(hooks).__qualname__}.invocation", exc)
        return None  # a span started before the failure is never ended, so never exported


def _fail(telemetry: GenAITelemetry, hooks: CallHooks, invocation: Invocation, exc: BaseException) -> None:
    try:
        hooks.on_error(invocation, exc)
    except Exception as internal:
        report_internal_error(f"{type(hooks).__qualname__}.on_error", internal)
    telemetry.fail(invocation, exc)


def _complete(
    telemetry: GenAITelemetry, hooks: CallHooks, invocation: Invocation, result: Any, is_async: bool
) -> Any:
    """Finish the span for a plain response, or wrap a stream so the span ends with it."""
    try:
        accumulator = hooks.stream_accumulator(invocation, result)
        if accumulator is not None:
            proxy = hooks.async_stream_proxy if is_async else hooks.sync_stream_proxy
            return proxy(result, invocation, telemetry, accumulator)
        if hooks.deferred_response(invocation, result):
            readers_are_async = inspect.iscoroutinefunction(getattr(type(result), "parse", None))
            deferred = AsyncDeferredResponseProxy if readers_are_async else SyncDeferredResponseProxy
            return deferred(result, invocation, telemetry, hooks, is_async)
        hooks.on_response(invocation, result)
    except Exception as exc:
        report_internal_error(f"{type(hooks).__qualname__}.response", exc)
    telemetry.finish(invocation)
    return result


def sync_wrapper(telemetry: GenAITelemetry, hooks: CallHooks) -> Wrapper:
    """A wrapt wrapper for a synchronous SDK method."""

    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if get_value(_SUPPRESS_KEY):  # inside suppress_instrumentation(): no span, no metrics
            return wrapped(*args, **kwargs)
        invocation = _begin(telemetry, hooks, instance, args, kwargs)
        if invocation is None:
            return wrapped(*args, **kwargs)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            telemetry.detach(invocation)
            _fail(telemetry, hooks, invocation, exc)
            raise
        telemetry.detach(invocation)
        return _complete(telemetry, hooks, invocation, result, is_async=False)

    return wrapper


def async_wrapper(telemetry: GenAITelemetry, hooks: CallHooks) -> Wrapper:
    """A wrapt wrapper for an ``async def`` SDK method (returns a coroutine, like the original)."""

    def wrapper(
        wrapped: Callable[..., Awaitable[Any]], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        async def call() -> Any:
            if instrumentation_suppressed():
                return await wrapped(*args, **kwargs)
            invocation = _begin(telemetry, hooks, instance, args, kwargs)
            if invocation is None:
                return await wrapped(*args, **kwargs)
            try:
                result = await wrapped(*args, **kwargs)
            except BaseException as exc:
                telemetry.detach(invocation)
                _fail(telemetry, hooks, invocation, exc)
                raise
            telemetry.detach(invocation)
            return _complete(telemetry, hooks, invocation, result, is_async=True)

        return call()

    return wrapper
