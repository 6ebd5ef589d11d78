"""Read LlamaIndex objects: what a dispatcher span is, model metadata, responses, retrieved nodes."""

from __future__ import annotations

import inspect
from typing import Any

from genai_lens.instrumentation._framework.model_call import Usage, int_or_none
from genai_lens.instrumentation._framework.retrieval import RetrievedDocument
from genai_lens.instrumentation._genai import Invocation, content

MODEL, RETRIEVER, EMBEDDING, TOOL, AGENT, OTHER = "model", "retriever", "embedding", "tool", "agent", "other"
_MODEL_METHODS = frozenset(
    {
        "chat",
        "achat",
        "complete",
        "acomplete",
        "stream_chat",
        "astream_chat",
        "stream_complete",
        "astream_complete",
    }
)
_RETRIEVER_METHODS = frozenset({"retrieve", "aretrieve"})
_TOOL_METHODS = frozenset({"call", "acall", "__call__"})
_AGENT_METHODS = frozenset({"run", "chat", "achat", "query", "aquery"})
_UUID_SUFFIX = 37  # "-" + str(uuid4())
_PROVIDER_HINTS = (("azureopenai", "azure.ai.openai"), ("openai", "openai"), ("anthropic", "anthropic"))


def span_label(id_: str) -> str:
    """``RetrieverQueryEngine.query-<uuid>`` -> ``RetrieverQueryEngine.query``."""
    return id_[:-_UUID_SUFFIX] if len(id_) > _UUID_SUFFIX and id_[-_UUID_SUFFIX] == "-" else id_


def _is(instance: Any, module: str, name: str) -> bool:
    return any(c.__name__ == name and c.__module__.startswith(module) for c in type(instance).__mro__)


def classify(id_: str, instance: Any) -> tuple[str, str]:
    """(kind, label) of a dispatcher span."""
    label = span_label(id_)
    method = label.rsplit(".", 1)[-1]
    if instance is None:
        return OTHER, label
    if method in _MODEL_METHODS and _is(instance, "llama_index.core", "BaseLLM"):
        return MODEL, label
    if method in _RETRIEVER_METHODS and _is(instance, "llama_index.core", "BaseRetriever"):
        return RETRIEVER, label
    public = not method.startswith("_")
    if public and "embedding" in method and _is(instance, "llama_index.core", "BaseEmbedding"):
        return EMBEDDING, label
    if method in _TOOL_METHODS and _is(instance, "llama_index.core", "BaseTool"):
        return TOOL, label
    if method in _AGENT_METHODS and "Agent" in type(instance).__name__:
        return AGENT, label
    return OTHER, label


def provider_of(instance: Any) -> str:
    """``gen_ai.provider.name`` from the class names (``OpenAI...`` -> openai), else ``llama_index``."""
    names = " ".join(c.__name__.lower() for c in type(instance).__mro__)
    for hint, provider in _PROVIDER_HINTS:
        if hint in names:
            return provider
    return "llama_index"


def model_invocation(
    instance: Any, label: str, bound_args: inspect.BoundArguments, capture_content: bool
) -> Invocation:
    metadata = getattr(instance, "metadata", None)
    model = getattr(metadata, "model_name", None) or getattr(instance, "model", None)
    is_chat = "chat" in label.rsplit(".", 1)[-1]
    invocation = Invocation(
        provider=provider_of(instance),
        operation="chat" if is_chat else "text_completion",
        request_model=model if isinstance(model, str) else None,
        stream="stream" in label,
    )
    if capture_content:
        arguments = bound_args.arguments
        if is_chat and arguments.get("messages"):
            invocation.input_messages = [
                content.input_message(_role(m), [content.text_part(str(getattr(m, "content", "") or ""))])
                for m in arguments["messages"]
            ]
        elif isinstance(arguments.get("prompt"), str):
            invocation.input_messages = [
                content.input_message("user", [content.text_part(arguments["prompt"])])
            ]
    return invocation


def _role(message: Any) -> str:
    role = getattr(message, "role", "user")
    return str(getattr(role, "value", role))


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def is_stream(result: Any) -> bool:
    """A model method's result that is read later (the provider is called while it is iterated)."""
    return inspect.isgenerator(result) or inspect.isasyncgen(result)


def is_streaming_response(result: Any) -> bool:
    """A query engine's / synthesizer's ``StreamingResponse``: text is produced while it is read."""
    return type(result).__name__ == "StreamingResponse" and inspect.isgenerator(
        getattr(result, "response_gen", None)
    )


def read_model_result(invocation: Invocation, result: Any) -> Usage | None:
    """Fill response fields from a (last streamed) ChatResponse/CompletionResponse; return its usage."""
    if result is None or is_stream(result):
        return None
    raw = getattr(result, "raw", None)
    model = _get(raw, "model")
    if isinstance(model, str):
        invocation.response_model = model
    response_id = _get(raw, "id")
    if isinstance(response_id, str):
        invocation.response_id = response_id
    choices = _get(raw, "choices")
    if isinstance(choices, list):
        reasons = [r for r in (_get(c, "finish_reason") for c in choices) if isinstance(r, str)]
        invocation.finish_reasons = reasons or None
    if invocation.capture_content:
        message = getattr(result, "message", None)
        text = getattr(message, "content", None) if message is not None else getattr(result, "text", None)
        reason = invocation.finish_reasons[0] if invocation.finish_reasons else "stop"
        invocation.output_messages = [content.output_message([content.text_part(str(text or ""))], reason)]
    usage = _get(raw, "usage")
    extra = getattr(result, "additional_kwargs", None) or {}
    input_tokens = int_or_none(_get(usage, "prompt_tokens")) or int_or_none(_get(usage, "input_tokens"))
    output_tokens = int_or_none(_get(usage, "completion_tokens")) or int_or_none(_get(usage, "output_tokens"))
    if input_tokens is None and output_tokens is None:
        input_tokens = int_or_none(extra.get("prompt_tokens"))
        output_tokens = int_or_none(extra.get("completion_tokens"))
    if input_tokens is None and output_tokens is None:
        return None
    return Usage(input_tokens, output_tokens)


def query_text(bound_args: inspect.BoundArguments) -> str | None:
    for value in bound_args.arguments.values():
        if isinstance(value, str):
            return value
        text = getattr(value, "query_str", None)
        if isinstance(text, str):
            return text
    return None


def embedding_model(instance: Any) -> str | None:
    model = getattr(instance, "model_name", None)
    return model if isinstance(model, str) and model != "unknown" else None


def tool_name(instance: Any) -> str:
    name = getattr(getattr(instance, "metadata", None), "name", None)
    return name if isinstance(name, str) and name else type(instance).__name__


def retrieved_documents(result: Any) -> list[RetrievedDocument] | None:
    """Documents when ``result`` is a list of ``NodeWithScore`` (a retriever's answer), else None."""
    if not isinstance(result, list) or not result or not all(hasattr(r, "node") for r in result):
        return None
    documents = []
    for item in result:
        node = item.node
        text = node.get_content() if hasattr(node, "get_content") else None
        documents.append(
            RetrievedDocument(getattr(node, "node_id", None), getattr(item, "score", None), text)
        )
    return documents
