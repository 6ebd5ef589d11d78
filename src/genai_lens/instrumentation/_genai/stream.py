"""Stream proxies: the span of a streamed call ends when the stream does, on every exit path, exactly once.

The proxies are ``wrapt.ObjectProxy`` objects, so ``isinstance`` checks, attribute access and SDK helper
methods keep working. Each chunk goes to a provider ``StreamAccumulator``; the span ends with
``genai_lens.stream.end_reason`` = exhausted | closed | error | garbage_collected.
Per chunk we only call the accumulator (and stamp the first chunk's time); nothing touches the span.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from timeit import default_timer
from typing import Any

import wrapt

from genai_lens.instrumentation._genai.invocation import Invocation
from genai_lens.instrumentation._genai.safety import report_internal_error
from genai_lens.instrumentation._genai.telemetry import GenAITelemetry
from genai_lens.semconv import GENAI_LENS_STREAM_END_REASON, GenaiLensStreamEndReasonValues

EXHAUSTED = GenaiLensStreamEndReasonValues.EXHAUSTED.value
CLOSED = GenaiLensStreamEndReasonValues.CLOSED.value
ERROR = GenaiLensStreamEndReasonValues.ERROR.value
GARBAGE_COLLECTED = GenaiLensStreamEndReasonValues.GARBAGE_COLLECTED.value


class StreamAccumulator:
    """Collects what a provider's chunks say; subclasses override ``on_chunk`` and ``finish``."""

    __slots__ = ()

    def on_chunk(self, chunk: Any) -> None:
        """Called for every chunk/event; keep it cheap (no span work, content only if captured)."""

    def finish(self, invocation: Invocation, stream: Any) -> None:
        """Copy the accumulated response data into ``invocation`` (``stream`` is the unwrapped SDK object)."""


class _StreamState:
    """Everything the proxies share; kept off the proxy so wrapt's attribute forwarding stays simple."""

    __slots__ = ("accumulator", "feed", "first", "invocation", "telemetry")

    def __init__(self, invocation: Invocation, telemetry: GenAITelemetry, accumulator: StreamAccumulator):
        self.invocation = invocation
        self.telemetry = telemetry
        self.accumulator = accumulator
        self.feed: Callable[[Any], None] | None = accumulator.on_chunk
        self.first = True

    def on_item(self, item: Any) -> None:
        if self.first:
            self.mark_first()
        feed = self.feed
        if feed is not None:
            try:
                feed(item)
            except Exception as exc:
                self.feed_failed(exc)

    def mark_first(self) -> None:
        if self.first:
            self.first = False
            self.invocation.time_to_first_chunk = default_timer() - self.invocation.start_time

    def feed_failed(self, exc: Exception) -> None:
        self.feed = None  # stop feeding a broken accumulator; the stream keeps flowing
        report_internal_error(f"{type(self.accumulator).__qualname__}.on_chunk", exc)

    def end(self, reason: str, stream: Any, exc: BaseException | None = None) -> None:
        invocation = self.invocation
        if invocation.ended:
            return
        try:
            self.accumulator.finish(invocation, stream)
        except Exception as internal:
            report_internal_error(f"{type(self.accumulator).__qualname__}.finish", internal)
        invocation.response_attributes[GENAI_LENS_STREAM_END_REASON] = reason
        if exc is not None:
            self.telemetry.fail(invocation, exc)
        else:
            self.telemetry.finish(invocation)


class SyncStreamProxy(wrapt.ObjectProxy):
    """Proxy for a synchronous SDK stream (iterator, context manager, ``close()``)."""

    def __init__(
        self, wrapped: Any, invocation: Invocation, telemetry: GenAITelemetry, accumulator: StreamAccumulator
    ) -> None:
        super().__init__(wrapped)
        self._self_state = _StreamState(invocation, telemetry, accumulator)
        self._self_next = wrapped.__next__ if hasattr(type(wrapped), "__next__") else None

    def __iter__(self) -> Iterator[Any]:
        """A ``for`` loop runs this generator: resuming it per chunk is cheaper than a Python ``__next__``.

        (The SDKs' own streams also iterate through a generator; ``next(proxy)`` still works, below.)
        """
        return self._self_iterate()

    def _self_iterate(self) -> Iterator[Any]:
        state = self._self_state
        advance = self._self_next
        if advance is None:
            advance = self._self_next = iter(self.__wrapped__).__next__
        first = state.first
        while True:
            try:
                item = advance()
            except StopIteration:
                self._self_end(EXHAUSTED)
                return
            except BaseException as exc:
                self._self_end(ERROR, exc)
                raise
            if first:
                state.mark_first()
                first = False
            feed = state.feed
            if feed is not None:
                try:
                    feed(item)
                except Exception as exc:
                    state.feed_failed(exc)
            yield item  # a loop left early closes this generator here; the span ends on close/with/GC

    def __next__(self) -> Any:
        advance = self._self_next
        if advance is None:
            advance = self._self_next = iter(self.__wrapped__).__next__
        try:
            item = advance()
        except StopIteration:
            self._self_end(EXHAUSTED)
            raise
        except BaseException as exc:
            self._self_end(ERROR, exc)
            raise
        self._self_state.on_item(item)
        return item

    def __enter__(self) -> Any:
        entered = self.__wrapped__.__enter__()
        return self if entered is self.__wrapped__ else entered

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            if exc is not None:
                self._self_end(ERROR, exc)
            else:
                self._self_end(CLOSED)

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_end(CLOSED)

    def _self_end(self, reason: str, exc: BaseException | None = None) -> None:
        """End the span (idempotent); subclasses call this from helper methods that consume the stream."""
        state = self._self_state
        if not state.invocation.ended:
            state.end(reason, self.__wrapped__, exc)

    def __del__(self) -> None:
        try:
            self._self_end(GARBAGE_COLLECTED)
        except Exception:  # never raise from a finalizer
            pass


class AsyncStreamProxy(wrapt.ObjectProxy):
    """Proxy for an async SDK stream (async iterator, async context manager, ``close()``/``aclose()``)."""

    def __init__(
        self, wrapped: Any, invocation: Invocation, telemetry: GenAITelemetry, accumulator: StreamAccumulator
    ) -> None:
        super().__init__(wrapped)
        self._self_state = _StreamState(invocation, telemetry, accumulator)
        self._self_anext = wrapped.__anext__ if hasattr(type(wrapped), "__anext__") else None

    def __aiter__(self) -> AsyncStreamProxy:
        return self

    async def __anext__(self) -> Any:
        advance = self._self_anext
        if advance is None:
            advance = self._self_anext = self.__wrapped__.__aiter__().__anext__
        try:
            item = await advance()
        except StopAsyncIteration:
            self._self_end(EXHAUSTED)
            raise
        except BaseException as exc:
            self._self_end(ERROR, exc)
            raise
        self._self_state.on_item(item)
        return item

    async def __aenter__(self) -> Any:
        entered = await self.__wrapped__.__aenter__()
        return self if entered is self.__wrapped__ else entered

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            if exc is not None:
                self._self_end(ERROR, exc)
            else:
                self._self_end(CLOSED)

    async def close(self) -> Any:
        try:
            result = self.__wrapped__.close()
            return await result if inspect.isawaitable(result) else result
        finally:
            self._self_end(CLOSED)

    async def aclose(self) -> Any:
        wrapped = self.__wrapped__
        closer = getattr(wrapped, "aclose", None) or wrapped.close
        try:
            result = closer()
            return await result if inspect.isawaitable(result) else result
        finally:
            self._self_end(CLOSED)

    def _self_end(self, reason: str, exc: BaseException | None = None) -> None:
        """End the span (idempotent); subclasses call this from helper methods that consume the stream."""
        state = self._self_state
        if not state.invocation.ended:
            state.end(reason, self.__wrapped__, exc)

    def __del__(self) -> None:
        try:
            self._self_end(GARBAGE_COLLECTED)
        except Exception:  # never raise from a finalizer
            pass


def finishing_method(name: str) -> Callable[..., Any]:
    """A proxy method that calls the SDK helper ``name`` (which consumes the stream) and then ends the span.

    Use for helpers such as ``get_final_message`` / ``until_done`` that iterate the unwrapped stream
    internally, so the proxy never sees their chunks: the accumulator's ``finish`` reads the SDK's final
    snapshot instead.
    """

    def method(self: SyncStreamProxy, *args: Any, **kwargs: Any) -> Any:
        try:
            result = getattr(self.__wrapped__, name)(*args, **kwargs)
        except BaseException as exc:
            self._self_end(ERROR, exc)
            raise
        self._self_end(EXHAUSTED)
        return result

    method.__name__ = name
    return method


def async_finishing_method(name: str) -> Callable[..., Any]:
    """The ``async`` counterpart of ``finishing_method``."""

    async def method(self: AsyncStreamProxy, *args: Any, **kwargs: Any) -> Any:
        try:
            result = await getattr(self.__wrapped__, name)(*args, **kwargs)
        except BaseException as exc:
            self._self_end(ERROR, exc)
            raise
        self._self_end(EXHAUSTED)
        return result

    method.__name__ = name
    return method
