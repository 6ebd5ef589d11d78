"""``messages.stream()``: instrument the request its manager sends on ``__enter__``, not the manager.

``Messages.stream()`` returns a ``MessageStreamManager`` holding a deferred request; entering it sends the
request and wraps the raw event ``Stream`` in a ``MessageStream``. We swap that deferred request for one
that runs through the shared wrapper, so the span starts when the request is sent and the raw ``Stream``
is wrapped in our proxy. Every way of consuming the ``MessageStream`` (iteration, ``text_stream``,
``get_final_message()``, ``until_done()``, ``close()``, leaving the ``with``) reads or closes that raw
stream, so the proxy sees every event and ends the span exactly once; the SDK objects are unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any

import wrapt

from genai_lens.instrumentation._genai import (
    ERROR,
    AsyncStreamProxy,
    CallHooks,
    Invocation,
    SyncStreamProxy,
    async_finishing_method,
    finishing_method,
    report_internal_error,
)
from genai_lens.instrumentation.anthropic.messages import MessagesHooks, build_invocation

_REQUEST_SUFFIX = "__api_request"  # name-mangled private attribute of (Async)MessageStreamManager

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


class LegacyMessageStreamProxy(SyncStreamProxy):
    """anthropic < 0.27: the request returns the ``MessageStream`` itself, whose helpers read it inside."""

    get_final_message = finishing_method("get_final_message")
    get_final_text = finishing_method("get_final_text")
    until_done = finishing_method("until_done")


class AsyncLegacyMessageStreamProxy(AsyncStreamProxy):
    get_final_message = async_finishing_method("get_final_message")
    get_final_text = async_finishing_method("get_final_text")
    until_done = async_finishing_method("until_done")


class StreamHelperHooks(CallHooks):
    """Hooks for one ``stream()`` call: the request kwargs were given to ``stream()``, not to the request."""

    def __init__(self, base: MessagesHooks, resource: Any, stream_kwargs: dict[str, Any]) -> None:
        self.base = base
        self.resource = resource
        self.stream_kwargs = stream_kwargs

    def invocation(
        self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any], capture_content: bool
    ) -> Invocation | None:
        return build_invocation(self.resource, self.stream_kwargs, capture_content, stream=True)

    def stream_accumulator(self, invocation: Invocation, response: Any) -> Any:
        if hasattr(response, "get_final_message"):  # this hooks object serves one call: safe to switch
            self.sync_stream_proxy = LegacyMessageStreamProxy
            self.async_stream_proxy = AsyncLegacyMessageStreamProxy
        return self.base.stream_accumulator(invocation, response)


class _DeferredAwaitable:
    """An awaitable that builds its coroutine only when awaited (a manager never entered leaves nothing)."""

    __slots__ = ("_factory",)

    def __init__(self, factory: Callable[[], Awaitable[Any]]) -> None:
        self._factory = factory

    def __await__(self) -> Generator[Any, None, Any]:
        return self._factory().__await__()


class _ManagerProxy(wrapt.ObjectProxy):
    """The SDK manager, unchanged, except that an exception leaving its ``with`` ends the span as an error.

    (The manager's own ``__exit__`` only closes the stream, which would record a plain close.)
    """

    def __init__(self, wrapped: Any, streams: list[Any]) -> None:
        super().__init__(wrapped)
        self._self_streams = streams  # the stream proxy our request returned, once entered

    def _self_fail(self, exc: BaseException | None) -> None:
        if exc is not None:
            for stream in self._self_streams:
                end = getattr(stream, "_self_end", None)
                if end is not None:
                    end(ERROR, exc)

    def __enter__(self) -> Any:
        return self.__wrapped__.__enter__()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        self._self_fail(exc)
        return self.__wrapped__.__exit__(exc_type, exc, tb)

    async def __aenter__(self) -> Any:
        return await self.__wrapped__.__aenter__()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        self._self_fail(exc)
        return await self.__wrapped__.__aexit__(exc_type, exc, tb)


def _request_attribute(manager: Any) -> str | None:
    for name in vars(manager):
        if name.endswith(_REQUEST_SUFFIX):
            return name
    return None


def instrument_manager(
    manager: Any,
    resource: Any,
    stream_kwargs: dict[str, Any],
    choose: Callable[[Any], tuple[Callable[..., Wrapper], MessagesHooks]],
    is_async: bool,
) -> Any:
    """Route ``manager``'s deferred request through our wrapper (chosen per call by ``choose(client)``).

    Returns the manager to hand to the user (a transparent proxy of it, or itself when it has no request).
    """
    try:
        name = _request_attribute(manager)
        if name is None:
            return manager
        original = getattr(manager, name)
        kwargs = dict(stream_kwargs)
        streams: list[Any] = []

        def wrapper_for_call() -> Wrapper | None:
            try:
                make_wrapper, base = choose(getattr(resource, "_client", None))
                return make_wrapper(StreamHelperHooks(base, resource, kwargs))
            except Exception as exc:
                report_internal_error("anthropic.stream_request", exc)
                return None

        if is_async:

            async def deferred() -> Any:
                wrapper = wrapper_for_call()
                if wrapper is None:
                    return await original
                stream = await wrapper(lambda: original, resource, (), {})
                streams.append(stream)
                return stream

            setattr(manager, name, _DeferredAwaitable(deferred))
        else:

            def request() -> Any:
                wrapper = wrapper_for_call()
                if wrapper is None:
                    return original()
                stream = wrapper(original, resource, (), {})
                streams.append(stream)
                return stream

            setattr(manager, name, request)
        return _ManagerProxy(manager, streams)
    except Exception as exc:
        report_internal_error("anthropic.instrument_manager", exc)
        return manager
