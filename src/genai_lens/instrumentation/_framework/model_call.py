"""The framework's LLM span and the single-counting rule.

Design: the framework always opens its own span for a model call (``chat {model}``, INTERNAL), so no real
call can vanish (the OpenLLMetry #2271 failure mode of suppressing providers). The span carries a
``ModelCallScope`` in its context; a provider span started underneath (our openai/anthropic instrumentors,
which go through ``GenAITelemetry.start``) registers there. At the end:

- a provider span reported usage -> the framework span gets **no** ``gen_ai.usage.*`` and records no
  metrics; ``genai_lens.usage.recorded_by = "provider_span"`` says where the tokens are;
- otherwise (provider not instrumented, or it saw no usage) the framework span carries the usage reported
  by the framework (LangChain ``LLMResult``, LlamaIndex ``ChatResponse``) and records the GenAI metrics,
  with ``genai_lens.usage.recorded_by = "framework_span"``;
- framework model calls nested in one another (LlamaIndex ``complete`` -> ``chat``) share one scope: the
  first to record usage wins, the others say ``nested_framework_span``.

Either way exactly one span in the trace carries the call's tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from timeit import default_timer
from typing import Any

from opentelemetry.context.context import Context
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from genai_lens.instrumentation._framework.runs import Run, RunRegistry
from genai_lens.instrumentation._genai import GenAITelemetry, Invocation, error_type_of
from genai_lens.instrumentation._genai.model_call import ModelCallScope, current_scope, with_scope
from genai_lens.instrumentation._genai.span import end_span, span_name

USAGE_RECORDED_BY = "genai_lens.usage.recorded_by"
RECORDED_BY_PROVIDER = "provider_span"
RECORDED_BY_FRAMEWORK = "framework_span"
RECORDED_BY_NESTED = "nested_framework_span"
FRAMEWORK_NAME = "genai_lens.framework"


@dataclass(slots=True)
class Usage:
    """Token counts as a framework reports them (input includes cached tokens, as in OTel)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    reasoning_output_tokens: int | None = None


@dataclass(slots=True, eq=False)
class ModelCall:
    invocation: Invocation
    scope: ModelCallScope
    start_time: float


def start_model_call(
    telemetry: GenAITelemetry,
    runs: RunRegistry,
    run_id: Any,
    parent_run_id: Any,
    invocation: Invocation,
    framework: str,
) -> Run:
    """Open the framework LLM span for ``invocation`` with a fresh scope in its context."""
    invocation.capture_content = telemetry.capture_content
    # a model call nested in another framework model call (LlamaIndex complete -> chat) shares its scope
    scope = current_scope(runs.parent_context(parent_run_id)) or ModelCallScope()
    attributes: dict[str, AttributeValue] = {
        genai.GEN_AI_OPERATION_NAME: invocation.operation,
        genai.GEN_AI_PROVIDER_NAME: invocation.provider,
        FRAMEWORK_NAME: framework,
    }
    if invocation.request_model:
        attributes[genai.GEN_AI_REQUEST_MODEL] = invocation.request_model
    if invocation.stream:
        attributes[genai.GEN_AI_REQUEST_STREAM] = True
    attributes.update(invocation.request_attributes)
    scoped: Callable[[Context], Context] = lambda ctx: with_scope(scope, ctx)  # noqa: E731
    run = runs.start(
        telemetry.tracer, run_id, parent_run_id, span_name(invocation), attributes, SpanKind.INTERNAL, scoped
    )
    run.state = ModelCall(invocation, scope, default_timer())
    invocation.span = run.span
    return run


def end_model_call(
    telemetry: GenAITelemetry, call: ModelCall, usage: Usage | None, exc: BaseException | None = None
) -> None:
    """End the framework LLM span, carrying usage only when no provider span did."""
    invocation = call.invocation
    if invocation.ended:
        return
    invocation.ended = True
    scope = call.scope
    invocation.input_tokens = invocation.output_tokens = None
    invocation.cache_read_input_tokens = invocation.reasoning_output_tokens = None
    if scope.provider_reported_usage():
        invocation.response_attributes[USAGE_RECORDED_BY] = RECORDED_BY_PROVIDER
    elif scope.framework_usage_recorded:
        invocation.response_attributes[USAGE_RECORDED_BY] = RECORDED_BY_NESTED
    elif usage is not None and (usage.input_tokens is not None or usage.output_tokens is not None):
        invocation.input_tokens = usage.input_tokens
        invocation.output_tokens = usage.output_tokens
        invocation.cache_read_input_tokens = usage.cache_read_input_tokens
        invocation.reasoning_output_tokens = usage.reasoning_output_tokens
        invocation.response_attributes[USAGE_RECORDED_BY] = RECORDED_BY_FRAMEWORK
    if isinstance(exc, GeneratorExit):  # the consumer stopped a stream: not a failure
        exc = None
    error_type = (invocation.error_type or error_type_of(exc)) if exc is not None else None
    if invocation.span is not None:
        end_span(invocation.span, invocation, error_type)
    if not scope.provider_called() and not scope.framework_usage_recorded:
        # no provider span recorded metrics for this call: record them once, here
        telemetry.metrics.record(invocation, default_timer() - call.start_time, error_type)
        scope.framework_usage_recorded = (
            invocation.input_tokens is not None or invocation.output_tokens is not None
        )


def int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
