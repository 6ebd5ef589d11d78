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

from genai_lens.instrumentation._genai import CallHooks, Invocation, report_internal_error
from genai_lens.instrumentation.anthropic.messages import MessagesHooks, build_invocation

_REQUEST_SUFFIX = "__api_request"  # name-mangled private attribute of (Async)MessageStreamManager

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


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
        return self.base.stream_accumulator(invocation, response)


class _DeferredAwaitable:
    """An awaitable that builds its coroutine only when awaited (a manager never entered leaves nothing)."""

    __slots__ = ("_factory",)

    def __init__(self, factory: Callable[[], Awaitable[Any]]) -> None:
        self._factory = factory

    def __await__(self) -> Generator[Any, None, Any]:
        return self._factory().__await__()


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
) -> None:
    """Route ``manager``'s deferred request through our wrapper (chosen per call by ``choose(client)``)."""
    try:
        name = _request_attribute(manager)
        if name is None:
            return
        original = getattr(manager, name)
        kwargs = dict(stream_kwargs)

        def wrapper_for_call() -> Wrapper | None:
            try:
                make_wrapper, base = choose(getattr(resource, "_client", None))
                return make_wrapper(StreamHelperHooks(base, resource, kwargs))
            except Exception as exc:
                report_internal_error("anthropic.stream_request", exc)
                return None

        if is_async:

            def deferred() -> Awaitable[Any]:
                wrapper = wrapper_for_call()
                if wrapper is None:
                    return original
                return wrapper(lambda: original, resource, (), {})

            setattr(manager, name, _DeferredAwaitable(deferred))
        else:

            def request() -> Any:
                wrapper = wrapper_for_call()
                if wrapper is None:
                    return original()
                return wrapper(original, resource, (), {})

            setattr(manager, name, request)
    except Exception as exc:
        report_internal_error("anthropic.instrument_manager", exc)
