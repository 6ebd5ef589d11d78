"""Framework runs (chains, tools, retrievers, query engines) as OTel spans.

Frameworks report a run's start and end through callbacks, with their own run id and parent run id. A span
is parented on the parent run's span when that run is known (so nesting survives threads and tasks that do
not carry the OTel context), else on the current context (the user's own span). While the run is open its
span is attached as the current context, so provider and database spans started inside it become children.
Detaching from another context (a generator finished by the garbage collector) is tolerated silently.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from timeit import default_timer
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.context.context import Context
from opentelemetry.semconv.attributes import error_attributes as error
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from genai_lens.instrumentation._genai import error_type_of
from genai_lens.instrumentation._genai.safety import logger

_MAX_PENDING = 1024


@dataclass(slots=True, eq=False)
class Run:
    """One open framework run: its span (None when the run is not traced) and its context token."""

    span: Span | None
    context: Context
    parent: Context | None = None  # the context the span started in
    token: Any = None
    start_time: float = field(default_factory=default_timer)
    state: Any = None  # per-framework extra data (e.g. a model call)
    agent: Any = None  # the innermost agent invocation this run belongs to (framework-defined), if any
    # runs that ended while this one, kept current past its call (a stream), sat on top of them
    held: list[Run] = field(default_factory=list)


def detach_quietly(token: Any) -> None:
    """Detach a context token; a token from another context (GC, other task) is dropped, not logged."""
    if token is None:
        return
    try:
        otel_context._RUNTIME_CONTEXT.detach(token)
    except Exception:  # ValueError/RuntimeError: created in a different Context, or already used
        logger.debug("genai-lens: framework run ended outside the context it started in")


class RunRegistry:
    """Open runs by framework run id (thread-safe: callbacks can arrive from worker threads)."""

    __slots__ = ("_by_span", "_kept", "_lock", "_pending", "_runs")

    def __init__(self) -> None:
        self._runs: dict[Any, Run] = {}
        self._by_span: dict[int, Run] = {}
        # runs that ended while a run started after them was still current (``batch`` ends input 1 while
        # input 2's context is attached): detached when the context they sit under becomes current again
        self._pending: dict[int, Run] = {}
        # runs that stay current after their method returned (a stream read later), by id of their context
        self._kept: dict[int, Run] = {}
        self._lock = threading.Lock()

    def parent_context(self, parent_run_id: Any) -> Context:
        """The context a new run's span starts in: its parent run's, else the current one.

        A root run (no known parent) that finds one of our own open runs current is that run's sibling, not
        its child: e.g. ``batch`` starts every input's run before any ends. It starts where that run did.
        A run kept current past its call (a stream being read) is the exception: what starts while it is
        read is its child.
        """
        if parent_run_id is not None:
            parent = self._runs.get(parent_run_id)
            if parent is not None:
                return parent.context
        context = otel_context.get_current()
        for _ in range(64):  # bounded walk out of our own leaked attachments
            current = otel_trace.get_current_span(context).get_span_context()
            run = self._by_span.get(current.span_id) if current.is_valid else None
            if run is None or run.parent is None or self._kept.get(id(context)) is run:
                break
            context = run.parent
        return context

    def start(
        self,
        tracer: Tracer,
        run_id: Any,
        parent_run_id: Any,
        name: str,
        attributes: dict[str, AttributeValue],
        kind: SpanKind = SpanKind.INTERNAL,
        extra_context: Any = None,
    ) -> Run:
        """Open a span for ``run_id`` and make it current; ``extra_context(ctx)`` may add context values."""
        parent = self.parent_context(parent_run_id)
        span = tracer.start_span(name, context=parent, kind=kind, attributes=attributes)
        context = otel_trace.set_span_in_context(span, parent)
        if extra_context is not None:
            context = extra_context(context)
        run = Run(span=span, context=context, parent=parent)
        run.token = otel_context.attach(context)
        with self._lock:
            self._runs[run_id] = run
            if parent_run_id is None:
                self._by_span[span.get_span_context().span_id] = run
        return run

    def skip(self, run_id: Any, parent_run_id: Any) -> Run:
        """Register a run we do not trace, so its children nest under its nearest traced ancestor."""
        run = Run(span=None, context=self.parent_context(parent_run_id))
        with self._lock:
            self._runs[run_id] = run
        return run

    def get(self, run_id: Any) -> Run | None:
        return self._runs.get(run_id)

    def release(self, run: Run) -> None:
        """Restore the context from before ``run`` started but keep it open (its span ends later)."""
        self._release(run)

    def keep_current(self, run: Run) -> None:
        """``run``'s method returned but the run goes on (a stream read later): it stays the current context.

        Runs that end meanwhile below it wait in its ``held`` list; when it ends, it and they are detached.
        If it is no longer current by then, whoever made it current (a stream step that restored its own
        context) has undone it and them already: they are forgotten.
        """
        with self._lock:
            self._kept[id(run.context)] = run

    def pop(self, run_id: Any) -> Run | None:
        """Remove the run and restore the context that was current before it started."""
        with self._lock:
            run = self._runs.pop(run_id, None)
            if run is not None and run.span is not None:
                self._by_span.pop(run.span.get_span_context().span_id, None)
            kept = run is not None and self._kept.pop(id(run.context), None) is run
        if run is None:
            return None
        if kept and otel_context.get_current() is not run.context:
            for forgotten in (run, *run.held):
                forgotten.token = None
        self._release(run)
        for held in reversed(run.held):
            self._release(held)
        run.held.clear()
        return run

    def _release(self, run: Run) -> None:
        """Detach in LIFO order: a run ending out of order waits until it is on top again."""
        if run.token is None:
            return
        current = otel_context.get_current()
        if current is not run.context:
            with self._lock:
                holder = self._kept.get(id(current))
                if holder is not None and holder.context is current:
                    holder.held.append(run)
                    return
                if len(self._pending) >= _MAX_PENDING:
                    self._pending.pop(next(iter(self._pending)))
                self._pending[id(run.context)] = run
            return
        detach_quietly(run.token)
        run.token = None
        while True:  # unwind siblings that ended while this run was on top of them
            current = otel_context.get_current()
            with self._lock:
                pending = self._pending.pop(id(current), None)
            if pending is None or pending.context is not current:
                return
            detach_quietly(pending.token)
            pending.token = None

    def __len__(self) -> int:
        return len(self._runs)


def end_run_span(
    run: Run, attributes: dict[str, AttributeValue] | None = None, exc: BaseException | None = None
) -> None:
    """Set the final attributes (and the error status for a failed run) and end the span."""
    span = run.span
    if span is None:
        return
    if span.is_recording():
        if attributes:
            span.set_attributes(attributes)
        if exc is not None and not isinstance(exc, GeneratorExit):  # a consumer stopping a stream is fine
            error_type = error_type_of(exc)
            span.set_attribute(error.ERROR_TYPE, error_type)
            span.set_status(Status(StatusCode.ERROR, error_type))
    span.end()
