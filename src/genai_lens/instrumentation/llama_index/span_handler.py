"""The LlamaIndex span handler: dispatcher spans -> OTel spans.

LlamaIndex calls ``new_span`` / ``prepare_to_exit_span`` / ``prepare_to_drop_span`` around every method
decorated by its dispatcher, with a span id ``Class.method-<uuid>`` and the parent's id. Spans nest by that
parent id, and each is the current OTel context while its method runs (so provider and vector-DB spans nest
under it). Every hook is guarded: an error in here is logged once and never reaches the query.

Streams return before the provider is even called: the request is made when the caller iterates.
- A streaming model call (``stream_chat``, ``astream_complete``) returns a bare generator: its span stays
  open, and current, until LlamaIndex reports the stream's end (``LLMChatEndEvent`` /
  ``LLMCompletionEndEvent`` with the last response and its usage, or ``ExceptionEvent``; ``StreamEndHandler``
  forwards those), so the provider span made while iterating nests under it.
- A ``streaming=True`` query engine / synthesizer returns a ``StreamingResponse``: its ``response_gen`` is
  replaced by one that makes the run current (OTel context and LlamaIndex's active span) for every step and
  ends the span when the stream ends, so the model call it starts lazily nests under the query.
A stream dropped unread ends its span when it is garbage collected.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Iterator
from typing import Any

from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.span import active_span_id
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from opentelemetry import context as otel_context
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.util.types import AttributeValue
from pydantic import PrivateAttr

from genai_lens.instrumentation._framework import model_call
from genai_lens.instrumentation._framework.model_call import FRAMEWORK_NAME, ModelCall
from genai_lens.instrumentation._framework.retrieval import RETRIEVAL, retrieval_result_attributes
from genai_lens.instrumentation._framework.runs import Run, RunRegistry, detach_quietly, end_run_span
from genai_lens.instrumentation._genai import (
    GenAITelemetry,
    instrumentation_suppressed,
    report_internal_error,
)
from genai_lens.instrumentation.llama_index import extract

FRAMEWORK = "llama_index"
_Op = genai.GenAiOperationNameValues
_STREAM_END_EVENTS = frozenset({"LLMChatEndEvent", "LLMCompletionEndEvent"})
_STREAM_ERROR_EVENT = "ExceptionEvent"


class GenAILensSpanHandler(BaseSpanHandler[Any]):
    """Open spans live in a ``RunRegistry``; ``open_spans`` (LlamaIndex's own book-keeping) holds the runs."""

    _telemetry: Any = PrivateAttr(default=None)
    _runs: Any = PrivateAttr(default=None)
    _enabled: bool = PrivateAttr(default=True)
    _streams: Any = PrivateAttr(default=None)  # ids of model runs whose generator is still being read

    @classmethod
    def create(cls, telemetry: GenAITelemetry) -> GenAILensSpanHandler:
        handler = cls()
        handler._telemetry = telemetry
        handler._runs = RunRegistry()
        handler._streams = set()
        return handler

    @classmethod
    def class_name(cls) -> str:
        return "GenAILensSpanHandler"

    def disable(self) -> None:
        self._enabled = False

    def new_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        parent_span_id: str | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Run | None:
        if not self._enabled or instrumentation_suppressed():
            return None
        try:
            return self._start(id_, bound_args, instance, parent_span_id)
        except Exception as exc:
            report_internal_error("llama_index.new_span", exc)
            return None

    def prepare_to_exit_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        result: Any | None = None,
        **kwargs: Any,
    ) -> Run | None:
        return self._finish(id_, result, None)

    def prepare_to_drop_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        err: BaseException | None = None,
        **kwargs: Any,
    ) -> Run | None:
        return self._finish(id_, None, err)

    def _start(
        self, id_: str, bound_args: inspect.BoundArguments, instance: Any, parent_span_id: str | None
    ) -> Run:
        telemetry: GenAITelemetry = self._telemetry
        runs: RunRegistry = self._runs
        kind, name = extract.classify(id_, instance)
        attributes: dict[str, AttributeValue] = {FRAMEWORK_NAME: FRAMEWORK}
        if kind == extract.MODEL:
            invocation = extract.model_invocation(instance, name, bound_args, telemetry.capture_content)
            return model_call.start_model_call(telemetry, runs, id_, parent_span_id, invocation, FRAMEWORK)
        if kind == extract.RETRIEVER:
            attributes[genai.GEN_AI_OPERATION_NAME] = RETRIEVAL
            query = extract.query_text(bound_args)
            if telemetry.capture_content and query:
                attributes[genai.GEN_AI_RETRIEVAL_QUERY_TEXT] = query
            span_name = f"{RETRIEVAL} {type(instance).__name__}"
        elif kind == extract.EMBEDDING:
            attributes[genai.GEN_AI_OPERATION_NAME] = _Op.EMBEDDINGS.value
            attributes[genai.GEN_AI_PROVIDER_NAME] = extract.provider_of(instance)
            model = extract.embedding_model(instance)
            if model:
                attributes[genai.GEN_AI_REQUEST_MODEL] = model
            span_name = f"{_Op.EMBEDDINGS.value} {model}" if model else _Op.EMBEDDINGS.value
        elif kind == extract.TOOL:
            tool_name = extract.tool_name(instance)
            attributes[genai.GEN_AI_OPERATION_NAME] = _Op.EXECUTE_TOOL.value
            attributes[genai.GEN_AI_TOOL_NAME] = tool_name
            span_name = f"{_Op.EXECUTE_TOOL.value} {tool_name}"
        elif kind == extract.AGENT:
            attributes[genai.GEN_AI_OPERATION_NAME] = _Op.INVOKE_AGENT.value
            attributes[genai.GEN_AI_AGENT_NAME] = type(instance).__name__
            span_name = f"{_Op.INVOKE_AGENT.value} {type(instance).__name__}"
        elif parent_span_id is None or runs.get(parent_span_id) is None:
            attributes[genai.GEN_AI_OPERATION_NAME] = _Op.INVOKE_WORKFLOW.value
            attributes[genai.GEN_AI_WORKFLOW_NAME] = name
            span_name = f"{_Op.INVOKE_WORKFLOW.value} {name}"
        else:
            span_name = name
        return runs.start(telemetry.tracer, id_, parent_span_id, span_name, attributes)

    def stream_ended(self, id_: str, response: Any, err: BaseException | None) -> None:
        """A streaming model call's generator finished (``response``: the last chunk), failed or closed."""
        if id_ not in self._streams:
            return
        self._streams.discard(id_)
        try:
            self._finish(id_, response, err, stream_ended=True)
        except Exception as exc:
            report_internal_error("llama_index.stream_ended", exc)

    def _follow(self, id_: str, run: Run, stream: Iterator[Any]) -> Iterator[Any]:
        """Read ``stream`` step by step with ``run`` current, as if still inside its method; end it after."""
        err: BaseException | None = None
        try:
            while True:
                token = otel_context.attach(run.context)
                span_token = active_span_id.set(id_)
                try:
                    item = next(stream)
                except StopIteration:
                    return
                finally:
                    active_span_id.reset(span_token)
                    detach_quietly(token)
                yield item
        except BaseException as exc:
            err = exc
            raise
        finally:
            self.stream_ended(id_, None, err)

    def _stays_open_for_stream(self, id_: str, run: Run, result: Any) -> bool:
        """Keep ``run`` open while the stream it returned is read (see the module docstring)."""
        runs: RunRegistry = self._runs
        try:
            if isinstance(run.state, ModelCall) and extract.is_stream(result):
                # the provider is called while the caller iterates: stay open (and current) until the end
                self._streams.add(id_)
                runs.keep_current(run)
                weakref.finalize(result, self.stream_ended, id_, None, None)
                return True
            if extract.is_streaming_response(result):
                followed = self._follow(id_, run, result.response_gen)
                result.response_gen = followed
                self._streams.add(id_)
                runs.release(run)
                weakref.finalize(followed, self.stream_ended, id_, None, None)
                return True
        except Exception as exc:  # the run then ends now, like a call that returned its full result
            report_internal_error("llama_index.stream_start", exc)
        return False

    def _finish(
        self, id_: str, result: Any, err: BaseException | None, stream_ended: bool = False
    ) -> Run | None:
        runs: RunRegistry | None = self._runs
        if runs is None:
            return None
        if err is None and not stream_ended:
            run = runs.get(id_)
            if run is not None and self._stays_open_for_stream(id_, run, result):
                return run
        run = runs.pop(id_)
        if run is None:
            return None
        try:
            if isinstance(run.state, ModelCall):
                usage = extract.read_model_result(run.state.invocation, result) if err is None else None
                model_call.end_model_call(self._telemetry, run.state, usage, err)
            else:
                attributes: dict[str, AttributeValue] = {}
                if err is None and run.span is not None:
                    documents = extract.retrieved_documents(result)
                    if documents is not None:
                        attributes = retrieval_result_attributes(documents, self._telemetry.capture_content)
                end_run_span(run, attributes, err)
        except Exception as exc:
            report_internal_error("llama_index.exit_span", exc)
            if run.span is not None:
                run.span.end()
        return run


class StreamEndHandler(BaseEventHandler):
    """Forwards the end of a streaming model call (its last response, or its error) to the span handler."""

    _span_handler: Any = PrivateAttr(default=None)

    @classmethod
    def create(cls, span_handler: GenAILensSpanHandler) -> StreamEndHandler:
        handler = cls()
        handler._span_handler = span_handler
        return handler

    @classmethod
    def class_name(cls) -> str:
        return "GenAILensStreamEndHandler"

    def handle(self, event: Any, **kwargs: Any) -> None:
        try:
            kind = type(event).__name__
            if kind in _STREAM_END_EVENTS:
                self._span_handler.stream_ended(event.span_id, event.response, None)
            elif kind == _STREAM_ERROR_EVENT:
                self._span_handler.stream_ended(event.span_id, None, event.exception)
        except Exception as exc:
            report_internal_error("llama_index.stream_end_event", exc)
