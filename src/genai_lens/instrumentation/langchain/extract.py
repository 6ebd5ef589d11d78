"""Read LangChain's callback payloads (serialized ids, invocation params, LLMResult, documents)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai

from genai_lens.instrumentation._framework.model_call import Usage, int_or_none
from genai_lens.instrumentation._framework.retrieval import RetrievedDocument
from genai_lens.instrumentation._genai import Invocation, content

# LangChain's ``ls_provider`` metadata -> gen_ai.provider.name
_PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "azure": "azure.ai.openai",
    "azure_openai": "azure.ai.openai",
    "cohere": "cohere",
    "mistral": "mistral_ai",
    "mistralai": "mistral_ai",
    "groq": "groq",
    "bedrock": "aws.bedrock",
    "amazon_bedrock": "aws.bedrock",
    "google_genai": "gcp.gemini",
    "google_vertexai": "gcp.vertex_ai",
    "deepseek": "deepseek",
    "xai": "x_ai",
}
_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "tool"}
# A LangGraph graph left with its default name, and the classic agent runner: agents with no name of their own
_DEFAULT_GRAPH_NAME = "LangGraph"
_AGENT_EXECUTOR = "AgentExecutor"
_LANGGRAPH = "langgraph"
_CONTROL_FLOW = frozenset({"GraphBubbleUp"})
_REQUEST_PARAMS = (
    ("temperature", genai.GEN_AI_REQUEST_TEMPERATURE, float),
    ("max_tokens", genai.GEN_AI_REQUEST_MAX_TOKENS, int),
    ("top_p", genai.GEN_AI_REQUEST_TOP_P, float),
)


def run_name(serialized: dict[str, Any] | None, kwargs: dict[str, Any]) -> str:
    name = kwargs.get("name")
    if isinstance(name, str) and name:
        return name
    if serialized:
        if isinstance(serialized.get("name"), str):
            return serialized["name"]
        ids = serialized.get("id")
        if isinstance(ids, list) and ids:
            return str(ids[-1])
    return "unknown"


@dataclass(slots=True, frozen=True)
class AgentRun:
    """A chain run that is an agent invocation; ``name`` is None when the application gave it none."""

    name: str | None


def agent_run(
    name: str,
    serialized: dict[str, Any] | None,
    metadata: dict[str, Any] | None,
    parent_agent_name: str | None,
) -> AgentRun | None:
    """Whether a chain run is an agent invocation, and its name.

    Agents are: LangChain's ``create_agent`` graphs (``lc_agent_name`` metadata; inherited by every run
    below, so only the run where the name first appears, or changes, is the agent), a top-level LangGraph
    graph (``ls_integration=langgraph`` without ``langgraph_node``: the graph itself, not one of its nodes
    -- LangGraph is LangChain's agent runtime, ``create_react_agent`` and tool-calling state graphs)
    and the classic ``AgentExecutor``.
    """
    metadata = metadata or {}
    lc_agent_name = metadata.get("lc_agent_name")
    if isinstance(lc_agent_name, str) and lc_agent_name and lc_agent_name != parent_agent_name:
        return AgentRun(lc_agent_name)
    is_graph = metadata.get("ls_integration") == _LANGGRAPH or name == _DEFAULT_GRAPH_NAME
    if is_graph and "langgraph_node" not in metadata:
        return AgentRun(None if name == _DEFAULT_GRAPH_NAME else name)
    ids = (serialized or {}).get("id")
    if name == _AGENT_EXECUTOR or (isinstance(ids, list) and ids and ids[-1] == _AGENT_EXECUTOR):
        return AgentRun(None if name == _AGENT_EXECUTOR else name)
    return None


def is_control_flow(exc: BaseException) -> bool:
    """LangGraph's interrupts and hand-offs travel as exceptions (``GraphBubbleUp``); they are no failure."""
    return any(cls.__name__ in _CONTROL_FLOW for cls in type(exc).__mro__)


def conversation_id(metadata: dict[str, Any] | None) -> str | None:
    """LangGraph copies ``configurable`` into run metadata: its ``thread_id`` names the conversation."""
    thread_id = (metadata or {}).get("thread_id")
    return str(thread_id) if isinstance(thread_id, (str, int)) and not isinstance(thread_id, bool) else None


def model_invocation(
    operation: str, serialized: dict[str, Any] | None, metadata: dict[str, Any] | None, kwargs: dict[str, Any]
) -> Invocation:
    metadata = metadata or {}
    params = kwargs.get("invocation_params") or {}
    ls_provider = metadata.get("ls_provider")
    provider = _PROVIDERS.get(str(ls_provider), str(ls_provider)) if ls_provider else "langchain"
    model = params.get("model") or params.get("model_name") or metadata.get("ls_model_name")
    invocation = Invocation(provider=provider, operation=operation, request_model=model or None)
    invocation.stream = bool(params.get("stream"))
    for key, attribute, kind in _REQUEST_PARAMS:
        value = params.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            invocation.request_attributes[attribute] = kind(value)
    return invocation


def _text_of(message_content: Any) -> str:
    if isinstance(message_content, str):
        return message_content
    if isinstance(message_content, list):
        parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in message_content]
        return "".join(parts)
    return str(message_content)


def add_input_messages(invocation: Invocation, messages: Sequence[Any]) -> None:
    inputs = []
    for message in messages:
        role = _ROLES.get(getattr(message, "type", ""), getattr(message, "type", "user"))
        parts = [content.text_part(_text_of(getattr(message, "content", "")))]
        for call in getattr(message, "tool_calls", None) or ():
            parts.append(content.tool_call_part(call.get("id"), call.get("name"), call.get("args")))
        inputs.append(content.input_message(role, parts))
    invocation.input_messages = inputs


def add_input_prompts(invocation: Invocation, prompts: Sequence[str]) -> None:
    invocation.input_messages = [content.input_message("user", [content.text_part(p)]) for p in prompts]


def _first_generation(response: Any) -> Any:
    for generations in getattr(response, "generations", None) or ():
        for generation in generations:
            return generation
    return None


def read_llm_result(invocation: Invocation, response: Any) -> None:
    """Response model, id, finish reasons and (content on) output messages from an ``LLMResult``."""
    llm_output = getattr(response, "llm_output", None) or {}
    generation = _first_generation(response)
    message = getattr(generation, "message", None)
    metadata = getattr(message, "response_metadata", None) or {}
    info = getattr(generation, "generation_info", None) or {}
    model = llm_output.get("model_name") or metadata.get("model_name") or metadata.get("model")
    if isinstance(model, str):
        invocation.response_model = model
    response_id = metadata.get("id") or getattr(message, "id", None)
    if isinstance(response_id, str) and not response_id.startswith("run-"):
        invocation.response_id = response_id
    reasons = []
    for generations in getattr(response, "generations", None) or ():
        for gen in generations:
            gen_info = getattr(gen, "generation_info", None) or {}
            gen_meta = getattr(getattr(gen, "message", None), "response_metadata", None) or {}
            reason = (
                gen_info.get("finish_reason") or gen_meta.get("finish_reason") or gen_meta.get("stop_reason")
            )
            if isinstance(reason, str):
                reasons.append(reason)
    if reasons:
        invocation.finish_reasons = reasons
    if invocation.capture_content and generation is not None:
        text = _text_of(getattr(message, "content", None)) if message is not None else generation.text
        parts = [content.text_part(text)] if text else []
        for call in getattr(message, "tool_calls", None) or ():
            parts.append(content.tool_call_part(call.get("id"), call.get("name"), call.get("args")))
        reason = reasons[0] if reasons else info.get("finish_reason")
        invocation.output_messages = [content.output_message(parts, reason)]


def usage_of(response: Any) -> Usage | None:
    """The call's usage as LangChain reports it (message ``usage_metadata``, else ``llm_output``)."""
    for generations in getattr(response, "generations", None) or ():
        for generation in generations:
            usage = getattr(getattr(generation, "message", None), "usage_metadata", None)
            if usage:
                input_details = usage.get("input_token_details") or {}
                output_details = usage.get("output_token_details") or {}
                return Usage(
                    int_or_none(usage.get("input_tokens")),
                    int_or_none(usage.get("output_tokens")),
                    int_or_none(input_details.get("cache_read")),
                    int_or_none(output_details.get("reasoning")),
                )
    llm_output = getattr(response, "llm_output", None) or {}
    token_usage = llm_output.get("token_usage") or llm_output.get("usage") or {}
    if not isinstance(token_usage, dict) or not token_usage:
        return None
    return Usage(
        int_or_none(token_usage.get("prompt_tokens", token_usage.get("input_tokens"))),
        int_or_none(token_usage.get("completion_tokens", token_usage.get("output_tokens"))),
    )


def tool_output_text(output: Any) -> str:
    value = getattr(output, "content", output)
    return value if isinstance(value, str) else content.to_json(value)


def retrieved_documents(documents: Any) -> list[RetrievedDocument]:
    retrieved = []
    for doc in documents or ():
        metadata = getattr(doc, "metadata", None) or {}
        doc_id = getattr(doc, "id", None) or metadata.get("id")
        score = metadata.get("score", metadata.get("distance"))
        retrieved.append(
            RetrievedDocument(
                doc_id,
                float(score) if isinstance(score, (int, float)) else None,
                getattr(doc, "page_content", None),
            )
        )
    return retrieved
