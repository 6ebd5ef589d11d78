"""The LlamaIndex span handler: dispatcher spans -> OTel spans.

LlamaIndex calls ``new_span`` / ``prepare_to_exit_span`` / ``prepare_to_drop_span`` around every method
decorated by its dispatcher, with a span id ``Class.method-<uuid>`` and the parent's id. Spans nest by that
parent id, and each is the current OTel context while its method runs (so provider and vector-DB spans nest
under it). Every hook is guarded: an error in here is logged once and never reaches the query.
"""

from __future__ import annotations

import inspect
from typing import Any

from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.util.types import AttributeValue
from pydantic import PrivateAttr

from genai_lens.instrumentation._framework import model_call
from genai_lens.instrumentation._framework.model_call import FRAMEWORK_NAME, ModelCall
from genai_lens.instrumentation._framework.retrieval import RETRIEVAL, retrieval_result_attributes
from genai_lens.instrumentation._framework.runs import Run, RunRegistry, end_run_span
from genai_lens.instrumentation._genai import (
    GenAITelemetry,
    instrumentation_suppressed,
    report_internal_error,
)
from genai_lens.instrumentation.llama_index import extract

FRAMEWORK = "llama_index"
_Op = genai.GenAiOperationNameValues


class GenAILensSpanHandler(BaseSpanHandler[Any]):
    """Open spans live in a ``RunRegistry``; ``open_spans`` (LlamaIndex's own book-keeping) holds the runs."""

    _telemetry: Any = PrivateAttr(default=None)
    _runs: Any = PrivateAttr(default=None)
    _enabled: bool = PrivateAttr(default=True)

    @classmethod
    def create(cls, telemetry: GenAITelemetry) -> GenAILensSpanHandler:
        handler = cls()
        handler._telemetry = telemetry
        handler._runs = RunRegistry()
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

    def _finish(self, id_: str, result: Any, err: BaseException | None) -> Run | None:
        runs: RunRegistry | None = self._runs
        if runs is None:
            return None
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
