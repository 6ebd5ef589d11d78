"""Raw responses whose body the caller reads later: the span ends when the caller parses or closes them.

``client.….with_streaming_response.create()`` (and a streamed ``with_raw_response``) returns the SDK's raw
``APIResponse`` before the body is read. Reading it ourselves would consume the caller's stream (or block
until an SSE stream ends), so the proxy waits: ``parse()`` hands us the SDK's own parsed object (a model, or
a stream that we then wrap like any other), and ``close()`` — which the SDK's context manager calls on exit —
ends the span with whatever was read. The proxy is a ``wrapt.ObjectProxy``: everything else passes through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import wrapt

from genai_lens.instrumentation._genai.invocation import Invocation
from genai_lens.instrumentation._genai.safety import report_internal_error
from genai_lens.instrumentation._genai.stream import CLOSED
from genai_lens.instrumentation._genai.telemetry import GenAITelemetry

if TYPE_CHECKING:
    from genai_lens.instrumentation._genai.wrappers import CallHooks


# Stainless-generated SDKs (openai, anthropic): raw responses from ``with_streaming_response`` are
# ``(Async)APIResponse``; ``with_raw_response`` gives ``LegacyAPIResponse`` (read already, unless streamed)
_UNREAD_RAW_RESPONSES = frozenset({"APIResponse", "AsyncAPIResponse"})
_LEGACY_RAW_RESPONSE = "LegacyAPIResponse"


def is_unread_raw_response(response: Any) -> bool:
    """Raw responses the caller reads later: ``with_streaming_response``, a streamed ``with_raw_response``."""
    name = type(response).__name__
    if name == _LEGACY_RAW_RESPONSE:
        return getattr(response, "_stream", False) is True
    return name in _UNREAD_RAW_RESPONSES


def parsed_raw_response(response: Any) -> Any:
    """The model behind a non-streamed ``with_raw_response`` result (else ``response`` itself).

    Its ``parse()`` caches, so the caller's own later ``parse()`` costs nothing extra.
    """
    if type(response).__name__ == _LEGACY_RAW_RESPONSE and getattr(response, "_stream", True) is False:
        return response.parse()
    return response


class _Deferred:
    """State and span logic shared by the sync and async proxies (kept off the proxy, like streams)."""

    __slots__ = ("body_read", "hooks", "invocation", "is_async", "parsed", "telemetry")

    def __init__(self, invocation: Invocation, telemetry: GenAITelemetry, hooks: CallHooks, is_async: bool):
        self.invocation = invocation
        self.telemetry = telemetry
        self.hooks = hooks
        self.is_async = is_async
        self.body_read = False
        self.parsed: tuple[Any, Any] | None = None  # (the SDK's parsed object, what we returned for it)

    def settle(self, result: Any) -> Any:
        """Take the SDK's parsed object: fill the span from it, or wrap it when it is a stream."""
        if self.parsed is not None and self.parsed[0] is result:
            return self.parsed[1]  # the SDK caches parse(): give back the same object each time
        returned = result
        if not self.invocation.ended:
            hooks = self.hooks
            try:
                accumulator = hooks.stream_accumulator(self.invocation, result)
                if accumulator is not None:  # the stream proxy ends the span from now on
                    proxy = hooks.async_stream_proxy if self.is_async else hooks.sync_stream_proxy
                    returned = proxy(result, self.invocation, self.telemetry, accumulator)
                else:
                    hooks.on_response(self.invocation, result)
                    self.telemetry.finish(self.invocation)
            except Exception as exc:
                report_internal_error(f"{type(hooks).__qualname__}.deferred_response", exc)
                self.telemetry.finish(self.invocation)
        self.parsed = (result, returned)
        return returned

    def fail(self, exc: BaseException) -> None:
        if not self.invocation.ended:
            self.telemetry.fail(self.invocation, exc)

    def finish(self) -> None:
        """End the span at close/GC; a stream we handed out ends as closed, with what it accumulated."""
        if self.invocation.ended:
            return
        if self.parsed is not None and self.parsed[1] is not self.parsed[0]:
            self.parsed[1]._self_end(CLOSED)
        else:
            self.telemetry.finish(self.invocation)


class _DeferredResponseProxy(wrapt.ObjectProxy):
    """What both proxies hold: the call's :class:`_Deferred` (``is_async``: from an async client)."""

    def __init__(
        self,
        wrapped: Any,
        invocation: Invocation,
        telemetry: GenAITelemetry,
        hooks: CallHooks,
        is_async: bool,
    ) -> None:
        super().__init__(wrapped)
        self._self_deferred = _Deferred(invocation, telemetry, hooks, is_async)


class SyncDeferredResponseProxy(_DeferredResponseProxy):
    """Proxy for a raw response with sync readers (``APIResponse``; ``LegacyAPIResponse``, async clients too).

    ``is_async``: the call came from an async client, so a parsed stream is an async one.
    """

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        deferred = self._self_deferred
        try:
            result = self.__wrapped__.parse(*args, **kwargs)
        except BaseException as exc:
            deferred.fail(exc)
            raise
        if args or kwargs:  # parse(to=SomeType): the caller's own type, not the SDK's response object
            return result
        return deferred.settle(result)

    def read(self, *args: Any, **kwargs: Any) -> Any:
        result = self.__wrapped__.read(*args, **kwargs)
        self._self_deferred.body_read = True
        return result

    def text(self, *args: Any, **kwargs: Any) -> Any:
        result = self.__wrapped__.text(*args, **kwargs)
        self._self_deferred.body_read = True
        return result

    def json(self, *args: Any, **kwargs: Any) -> Any:
        result = self.__wrapped__.json(*args, **kwargs)
        self._self_deferred.body_read = True
        return result

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_close()

    def _self_close(self) -> None:
        deferred = self._self_deferred
        if deferred.invocation.ended:
            return
        if deferred.body_read and deferred.parsed is None:
            # the caller read the whole body (read/json/text): the SDK parses it from memory, no I/O
            try:
                deferred.settle(self.__wrapped__.parse())
            except Exception as exc:
                report_internal_error("SyncDeferredResponseProxy.close", exc)
        deferred.finish()

    def __del__(self) -> None:
        try:
            self._self_deferred.finish()
        except Exception:  # never raise from a finalizer
            pass


class AsyncDeferredResponseProxy(_DeferredResponseProxy):
    """Proxy for an async raw response (``AsyncAPIResponse``; its readers are coroutines)."""

    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        deferred = self._self_deferred
        try:
            result = await self.__wrapped__.parse(*args, **kwargs)
        except BaseException as exc:
            deferred.fail(exc)
            raise
        if args or kwargs:
            return result
        return deferred.settle(result)

    async def read(self, *args: Any, **kwargs: Any) -> Any:
        result = await self.__wrapped__.read(*args, **kwargs)
        self._self_deferred.body_read = True
        return result

    async def text(self, *args: Any, **kwargs: Any) -> Any:
        result = await self.__wrapped__.text(*args, **kwargs)
        self._self_deferred.body_read = True
        return result

    async def json(self, *args: Any, **kwargs: Any) -> Any:
        result = await self.__wrapped__.json(*args, **kwargs)
        self._self_deferred.body_read = True
        return result

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            deferred = self._self_deferred
            if not deferred.invocation.ended and deferred.body_read and deferred.parsed is None:
                try:
                    deferred.settle(await self.__wrapped__.parse())
                except Exception as exc:
                    report_internal_error("AsyncDeferredResponseProxy.close", exc)
            deferred.finish()

    def __del__(self) -> None:
        try:
            self._self_deferred.finish()
        except Exception:
            pass
