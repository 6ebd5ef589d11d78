"""The LangChain callback handler that turns runs into spans.

Runs nest by LangChain's own ``parent_run_id`` (robust across threads and tasks); each open run's span is the
current OTel context while it runs (``run_inline`` keeps async callbacks in the caller's task), so provider,
vector-DB and user spans made inside a run become its children. Every callback is guarded: an error in here
is logged once and never reaches the chain.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from langchain_core.callbacks.base import BaseCallbackHandler
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

from genai_lens.instrumentation._framework import model_call
from genai_lens.instrumentation._framework.model_call import FRAMEWORK_NAME, ModelCall
from genai_lens.instrumentation._framework.retrieval import RETRIEVAL, retrieval_result_attributes
from genai_lens.instrumentation._framework.runs import Run, RunRegistry, end_run_span
from genai_lens.instrumentation._genai import GenAITelemetry, Invocation, report_internal_error
from genai_lens.instrumentation._genai.content import to_json
from genai_lens.instrumentation.langchain import extract

FRAMEWORK = "langchain"
_HIDDEN_TAG = "langsmith:hidden"
_FUNCTION_TOOL = "function"  # gen_ai.tool.type: LangChain tools run in the application, on the client side
_Op = genai.GenAiOperationNameValues
_F = TypeVar("_F", bound=Callable[..., Any])


def _guarded(method: _F) -> _F:
    where = f"langchain.{method.__name__}"

    @functools.wraps(method)
    def guarded(self: GenAILensCallbackHandler, *args: Any, **kwargs: Any) -> None:
        if not self.enabled:
            return
        try:
            method(self, *args, **kwargs)
        except Exception as exc:
            report_internal_error(where, exc)

    return guarded  # type: ignore[return-value]


@dataclass(slots=True, eq=False)
class AgentInvocation:
    """An open agent run; the first model call made inside it names the agent's provider and model."""

    name: str | None
    span: Span | None
    model_seen: bool = False

    def note_model(self, run: Run) -> None:
        if self.model_seen or self.span is None or not isinstance(run.state, ModelCall):
            return
        self.model_seen = True
        invocation = run.state.invocation
        self.span.set_attribute(genai.GEN_AI_PROVIDER_NAME, invocation.provider)
        if invocation.request_model:
            self.span.set_attribute(genai.GEN_AI_REQUEST_MODEL, invocation.request_model)


class GenAILensCallbackHandler(BaseCallbackHandler):
    """Spans for chains, chat models/LLMs, tools, retrievers and agents."""

    run_inline = True  # async managers call us in the caller's task, so attached context is seen by the run
    raise_error = False

    def __init__(self, telemetry: GenAITelemetry) -> None:
        super().__init__()
        self.telemetry = telemetry
        self.runs = RunRegistry()
        self.enabled = True

    # -- chains, agents ------------------------------------------------------------------------------
    @_guarded
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        enclosing = self._enclosing_agent(parent_run_id)
        if tags and _HIDDEN_TAG in tags:
            self.runs.skip(run_id, parent_run_id).agent = enclosing
            return
        name = extract.run_name(serialized, kwargs)
        attributes: dict[str, AttributeValue] = {FRAMEWORK_NAME: FRAMEWORK}
        agent = extract.agent_run(name, serialized, metadata, enclosing.name if enclosing else None)
        if agent is not None:
            span_name = f"{_Op.INVOKE_AGENT.value} {agent.name}" if agent.name else _Op.INVOKE_AGENT.value
            attributes[genai.GEN_AI_OPERATION_NAME] = _Op.INVOKE_AGENT.value
            if agent.name:
                attributes[genai.GEN_AI_AGENT_NAME] = agent.name
            conversation = extract.conversation_id(metadata)
            if conversation:
                attributes[genai.GEN_AI_CONVERSATION_ID] = conversation
        elif parent_run_id is None or self.runs.get(parent_run_id) is None:
            span_name = f"{_Op.INVOKE_WORKFLOW.value} {name}"
            attributes[genai.GEN_AI_OPERATION_NAME] = _Op.INVOKE_WORKFLOW.value
            attributes[genai.GEN_AI_WORKFLOW_NAME] = name
        else:
            span_name = name
        run = self.runs.start(self.telemetry.tracer, run_id, parent_run_id, span_name, attributes)
        run.agent = AgentInvocation(agent.name, run.span) if agent is not None else enclosing

    @_guarded
    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id)

    @_guarded
    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, exc=None if extract.is_control_flow(error) else error)

    # -- model calls ---------------------------------------------------------------------------------
    @_guarded
    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        invocation = extract.model_invocation(_Op.CHAT.value, serialized, metadata, kwargs)
        if self.telemetry.capture_content and messages:
            extract.add_input_messages(invocation, messages[0])
        self._start_model(run_id, parent_run_id, invocation)

    @_guarded
    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        invocation = extract.model_invocation(_Op.TEXT_COMPLETION.value, serialized, metadata, kwargs)
        if self.telemetry.capture_content and prompts:
            extract.add_input_prompts(invocation, prompts)
        self._start_model(run_id, parent_run_id, invocation)

    @_guarded
    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self.runs.pop(run_id)
        if run is None:
            return
        if not isinstance(run.state, ModelCall):
            end_run_span(run)
            return
        usage = None
        try:
            extract.read_llm_result(run.state.invocation, response)
            usage = extract.usage_of(response)
        finally:
            model_call.end_model_call(self.telemetry, run.state, usage)

    @_guarded
    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        run = self.runs.pop(run_id)
        if run is not None and isinstance(run.state, ModelCall):
            model_call.end_model_call(self.telemetry, run.state, None, exc=error)

    # -- tools ---------------------------------------------------------------------------------------
    @_guarded
    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = extract.run_name(serialized, kwargs)
        attributes: dict[str, AttributeValue] = {
            FRAMEWORK_NAME: FRAMEWORK,
            genai.GEN_AI_OPERATION_NAME: _Op.EXECUTE_TOOL.value,
            genai.GEN_AI_TOOL_NAME: name,
            genai.GEN_AI_TOOL_TYPE: _FUNCTION_TOOL,
        }
        description = (serialized or {}).get("description")
        if isinstance(description, str) and description:
            attributes[genai.GEN_AI_TOOL_DESCRIPTION] = description
        call_id = kwargs.get("tool_call_id")
        if isinstance(call_id, str):
            attributes[genai.GEN_AI_TOOL_CALL_ID] = call_id
        if self.telemetry.capture_content:
            attributes[genai.GEN_AI_TOOL_CALL_ARGUMENTS] = to_json(inputs) if inputs else str(input_str)
        span_name = f"{_Op.EXECUTE_TOOL.value} {name}"
        run = self.runs.start(self.telemetry.tracer, run_id, parent_run_id, span_name, attributes)
        run.agent = self._enclosing_agent(parent_run_id)

    @_guarded
    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        def result() -> dict[str, AttributeValue]:
            if not self.telemetry.capture_content:
                return {}
            return {genai.GEN_AI_TOOL_CALL_RESULT: extract.tool_output_text(output)}

        self._end(run_id, result)

    @_guarded
    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, exc=None if extract.is_control_flow(error) else error)

    # -- retrievers ----------------------------------------------------------------------------------
    @_guarded
    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        name = extract.run_name(serialized, kwargs)
        attributes: dict[str, AttributeValue] = {
            FRAMEWORK_NAME: FRAMEWORK,
            genai.GEN_AI_OPERATION_NAME: RETRIEVAL,
        }
        if self.telemetry.capture_content and isinstance(query, str):
            attributes[genai.GEN_AI_RETRIEVAL_QUERY_TEXT] = query
        run = self.runs.start(self.telemetry.tracer, run_id, parent_run_id, f"{RETRIEVAL} {name}", attributes)
        run.agent = self._enclosing_agent(parent_run_id)

    @_guarded
    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        def result() -> dict[str, AttributeValue]:
            retrieved = extract.retrieved_documents(documents)
            return retrieval_result_attributes(retrieved, self.telemetry.capture_content)

        self._end(run_id, result)

    @_guarded
    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, exc=error)

    def _enclosing_agent(self, parent_run_id: UUID | None) -> AgentInvocation | None:
        parent = self.runs.get(parent_run_id) if parent_run_id is not None else None
        return parent.agent if parent is not None else None

    def _start_model(self, run_id: UUID, parent_run_id: UUID | None, invocation: Invocation) -> None:
        telemetry, runs = self.telemetry, self.runs
        run = model_call.start_model_call(telemetry, runs, run_id, parent_run_id, invocation, FRAMEWORK)
        run.agent = self._enclosing_agent(parent_run_id)
        if run.agent is not None:
            run.agent.note_model(run)

    def _end(
        self,
        run_id: UUID,
        attributes: Callable[[], dict[str, AttributeValue]] | None = None,
        exc: BaseException | None = None,
    ) -> None:
        """End the run's span; it ends (and the context is restored) even if reading the result fails."""
        run = self.runs.pop(run_id)
        if run is None:
            return
        final: dict[str, AttributeValue] | None = None
        try:
            final = attributes() if attributes is not None else None
        finally:
            end_run_span(run, final, exc)
