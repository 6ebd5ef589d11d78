"""Shared rules every dialect mapper uses: copy-if-absent renames, value vocabularies and content builders.

A dialect module only lists *which* source keys mean *which* current OTel GenAI attribute; the mechanics
(type coercion, "the first source that is present wins", remembering what was consumed so
``keep_original: false`` can remove it, turning index-flattened keys into the JSON message schema) live
here once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga

from genai_lens.processor.span_view import AttributeValue, SpanView

_OP = ga.GenAiOperationNameValues
_PROVIDER = ga.GenAiProviderNameValues

CHAT = _OP.CHAT.value
TEXT_COMPLETION = _OP.TEXT_COMPLETION.value
EMBEDDINGS = _OP.EMBEDDINGS.value
GENERATE_CONTENT = _OP.GENERATE_CONTENT.value
RETRIEVAL = _OP.RETRIEVAL.value
EXECUTE_TOOL = _OP.EXECUTE_TOOL.value
INVOKE_AGENT = _OP.INVOKE_AGENT.value
CREATE_AGENT = _OP.CREATE_AGENT.value

KNOWN_OPERATIONS = frozenset(member.value for member in _OP)

# Operations whose span name is "{operation} {model}" per the conventions.
MODEL_OPERATIONS = frozenset({CHAT, TEXT_COMPLETION, EMBEDDINGS, GENERATE_CONTENT})

Table = Sequence[tuple[str, str]]
"""(source key, current key) pairs; for one current key the first source present wins."""


class SpanEdit:
    """What one mapper run did to a span: the source keys it consumed (dropped if not keep_original),
    and the values it wrote (``written``), so the stage's shared pass need not read them back from the
    protobuf message. Mappers write through :meth:`put`, :meth:`copy` and :meth:`set` only."""

    __slots__ = ("view", "consumed", "notes", "written")

    def __init__(self, view: SpanView) -> None:
        self.view = view
        self.consumed: list[str] = []
        self.notes: list[str] = []  # value fixes worth counting (e.g. a dropped zero cost)
        self.written: dict[str, AttributeValue] = {}

    def consume(self, key: str) -> None:
        self.consumed.append(key)

    def read(self, key: str) -> AttributeValue:
        """``view.get(key)``, answered from ``written`` for a string or string list this edit wrote (the
        message holds exactly that value: nothing else writes the span while its edit runs)."""
        value = self.written.get(key)
        if type(value) is str or (type(value) is list and all(type(v) is str for v in value)):
            return list(value) if type(value) is list else value
        return self.view.get(key)

    def finish_reasons(self) -> list[str] | None:
        """The span's finish reasons as OTel enum strings, like :func:`span_finish_reasons`."""
        return normalize_finish_reasons(as_str_list(self.read(ga.GEN_AI_RESPONSE_FINISH_REASONS))) or None

    def set(self, key: str, value: AttributeValue) -> None:
        """Overwrite an attribute (a value fix), keeping ``written`` in step."""
        self.view.set(key, value)
        self.written[key] = value

    def put(self, key: str, value: AttributeValue) -> bool:
        """Set a current-name attribute unless the span already has it (the span's own value wins)."""
        if value is None or value == "" or value == []:
            return False
        if self.view.set_default(key, value):
            self.written[key] = value
            return True
        return False

    def copy(self, source: str, target: str, convert: Any = None) -> bool:
        """Copy ``source`` to ``target`` (converted) when the span has the source and lacks the target.

        The source counts as consumed only once its meaning is on the span under ``target`` (copied now,
        or already there), so ``keep_original: false`` never drops a value that failed to convert.
        """
        view = self.view
        if source not in view:
            return False
        if target in view:
            if source != target:
                self.consumed.append(source)
            return False
        value = view.get(source)
        if convert is not None:
            value = convert(value)
        if value is None or value == "" or value == []:
            return False  # what ``put`` refuses; the target is known to be absent, so set it directly
        view.set(target, value)
        self.written[target] = value
        self.consumed.append(source)  # source != target here: a key present as both returned above
        return True

    def apply(self, table: Table, converters: Mapping[str, Any] | None = None) -> None:
        """Run every (source, target) pair of ``table``; ``converters`` coerces values by target key.

        A span carries few of a table's sources, so the pairs whose source is absent are skipped with one
        set intersection instead of a look-up each.
        """
        conv = CONVERTERS if converters is None else converters
        sources = table_sources(table)
        if sources is None:
            for source, target in table:
                self.copy(source, target, conv.get(target))
            return
        present = sources.intersection(self.view.keys())
        if present:
            for source, target in table:
                if source in present:
                    self.copy(source, target, conv.get(target))


_TABLE_SOURCES: dict[int, tuple[Table, frozenset[str] | None]] = {}


def table_sources(table: Table) -> frozenset[str] | None:
    """The source keys of ``table``, or ``None`` when one pair's target is another pair's source.

    With such a chain a pair can only be skipped after the earlier pairs ran, so the caller must look
    each source up in turn. Tuples (the dialect modules' tables) are remembered by identity.
    """
    entry = _TABLE_SOURCES.get(id(table))
    if entry is not None and entry[0] is table:
        return entry[1]
    sources = frozenset(source for source, _ in table)
    chained = any(target in sources for source, target in table if target != source)
    result = None if chained else sources
    if isinstance(table, tuple) and len(_TABLE_SOURCES) < 1024:
        _TABLE_SOURCES[id(table)] = (table, result)  # holding the table keeps its id from being reused
    return result


# -- value coercion -------------------------------------------------------------------------------------


_INT64 = (-(2**63), 2**63 - 1)


def as_int(value: AttributeValue) -> int | None:
    """Token counts arrive as int, float or numeric string depending on the exporter; keep whole numbers."""
    if isinstance(value, bool):
        return None
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            return None
        number = int(parsed) if parsed.is_integer() else None
    if number is None or not _INT64[0] <= number <= _INT64[1]:
        return None  # OTLP ints are int64
    return number


def as_float(value: AttributeValue) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def as_bool(value: AttributeValue) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def as_str(value: AttributeValue) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return None


def as_str_list(value: AttributeValue) -> list[str] | None:
    if isinstance(value, str):
        parsed = parse_json(value) if value.startswith("[") else None
        if isinstance(parsed, list):
            return [str(item) for item in parsed]
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value if item is not None]
    return None


CONVERTERS: dict[str, Any] = {
    ga.GEN_AI_USAGE_INPUT_TOKENS: as_int,
    ga.GEN_AI_USAGE_OUTPUT_TOKENS: as_int,
    ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: as_int,
    ga.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: as_int,
    ga.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: as_int,
    ga.GEN_AI_REQUEST_MAX_TOKENS: as_int,
    ga.GEN_AI_REQUEST_SEED: as_int,
    ga.GEN_AI_REQUEST_TOP_K: as_float,
    ga.GEN_AI_REQUEST_CHOICE_COUNT: as_int,
    ga.GEN_AI_REQUEST_TEMPERATURE: as_float,
    ga.GEN_AI_REQUEST_TOP_P: as_float,
    ga.GEN_AI_REQUEST_FREQUENCY_PENALTY: as_float,
    ga.GEN_AI_REQUEST_PRESENCE_PENALTY: as_float,
    ga.GEN_AI_REQUEST_STOP_SEQUENCES: as_str_list,
    ga.GEN_AI_REQUEST_STREAM: as_bool,
    ga.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: as_float,
    ga.GEN_AI_RESPONSE_FINISH_REASONS: lambda v: normalize_finish_reasons(as_str_list(v)),
    ga.GEN_AI_PROVIDER_NAME: lambda v: normalize_provider(as_str(v)),
    ga.GEN_AI_REQUEST_MODEL: as_str,
    ga.GEN_AI_RESPONSE_MODEL: as_str,
    ga.GEN_AI_RESPONSE_ID: as_str,
}


def parse_json(text: AttributeValue) -> Any:
    """Parse a JSON attribute value; ``None`` when it is not JSON (content is often plain text)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dump_json(value: Any) -> str:
    """Compact JSON, non-ASCII kept; one shared encoder (``json.dumps`` with options builds one per call)."""
    return _ENCODER.encode(value)


# -- vocabularies ---------------------------------------------------------------------------------------

PROVIDER_ALIASES: dict[str, str] = {
    "openai": _PROVIDER.OPENAI.value,
    "anthropic": _PROVIDER.ANTHROPIC.value,
    "cohere": _PROVIDER.COHERE.value,
    "groq": _PROVIDER.GROQ.value,
    "deepseek": _PROVIDER.DEEPSEEK.value,
    "perplexity": _PROVIDER.PERPLEXITY.value,
    "azure.ai.openai": _PROVIDER.AZURE_AI_OPENAI.value,
    "az.ai.openai": _PROVIDER.AZURE_AI_OPENAI.value,
    "azure_openai": _PROVIDER.AZURE_AI_OPENAI.value,
    "azure-openai": _PROVIDER.AZURE_AI_OPENAI.value,
    "azure.openai": _PROVIDER.AZURE_AI_OPENAI.value,
    "azure": _PROVIDER.AZURE_AI_OPENAI.value,
    "azure.ai.inference": _PROVIDER.AZURE_AI_INFERENCE.value,
    "az.ai.inference": _PROVIDER.AZURE_AI_INFERENCE.value,
    "azure_ai_inference": _PROVIDER.AZURE_AI_INFERENCE.value,
    "aws.bedrock": _PROVIDER.AWS_BEDROCK.value,
    "aws_bedrock": _PROVIDER.AWS_BEDROCK.value,
    "bedrock": _PROVIDER.AWS_BEDROCK.value,
    "amazon-bedrock": _PROVIDER.AWS_BEDROCK.value,
    "aws": _PROVIDER.AWS_BEDROCK.value,
    "gcp.vertex_ai": _PROVIDER.GCP_VERTEX_AI.value,
    "vertex_ai": _PROVIDER.GCP_VERTEX_AI.value,
    "vertexai": _PROVIDER.GCP_VERTEX_AI.value,
    "vertex": _PROVIDER.GCP_VERTEX_AI.value,
    "google.vertex": _PROVIDER.GCP_VERTEX_AI.value,
    "google-vertex": _PROVIDER.GCP_VERTEX_AI.value,
    "gcp.gemini": _PROVIDER.GCP_GEMINI.value,
    "gemini": _PROVIDER.GCP_GEMINI.value,
    "google": _PROVIDER.GCP_GEMINI.value,
    "google.generative-ai": _PROVIDER.GCP_GEMINI.value,
    "google-generative-ai": _PROVIDER.GCP_GEMINI.value,
    "google_generativeai": _PROVIDER.GCP_GEMINI.value,
    "google_genai": _PROVIDER.GCP_GEMINI.value,
    "google-genai": _PROVIDER.GCP_GEMINI.value,
    "gcp.gen_ai": _PROVIDER.GCP_GEN_AI.value,
    "mistral_ai": _PROVIDER.MISTRAL_AI.value,
    "mistralai": _PROVIDER.MISTRAL_AI.value,
    "mistral": _PROVIDER.MISTRAL_AI.value,
    "x_ai": _PROVIDER.X_AI.value,
    "xai": _PROVIDER.X_AI.value,
    "ibm.watsonx.ai": _PROVIDER.IBM_WATSONX_AI.value,
    "ibm.watson.ai": _PROVIDER.IBM_WATSONX_AI.value,
    "watsonx": _PROVIDER.IBM_WATSONX_AI.value,
    "together": "together_ai",
    "togetherai": "together_ai",
}


def normalize_provider(value: str | None) -> str | None:
    """Map a vendor's provider spelling (``az.ai.openai``, ``MistralAI``, ``openai.responses``) to OTel's."""
    if not value:
        return None
    key = value.strip().lower()
    hit = PROVIDER_ALIASES.get(key)
    if hit is not None:
        return hit
    # Vercel-style "<provider>.<api>" (``openai.responses``, ``anthropic.messages``).
    head = key.split(".", 1)[0]
    return PROVIDER_ALIASES.get(head, key)


FINISH_REASONS: dict[str, str] = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "eos": "stop",
    "complete": "stop",
    "finish_reason_stop": "stop",
    "length": "length",
    "max_tokens": "length",
    "model_length": "length",
    "model_context_window_exceeded": "length",
    "tool_calls": "tool_call",
    "tool_call": "tool_call",
    "tool_use": "tool_call",
    "tool-calls": "tool_call",
    "function_call": "tool_call",
    "content_filter": "content_filter",
    "content-filter": "content_filter",
    "safety": "content_filter",
    "recitation": "content_filter",
    "blocklist": "content_filter",
    "prohibited_content": "content_filter",
    "spii": "content_filter",
    "refusal": "content_filter",
    "guardrail_intervened": "content_filter",
    "error": "error",
}


def normalize_finish_reason(value: Any) -> str:
    """Provider finish values → the OTel enum (``stop``, ``length``, ``tool_call``…); others pass."""
    text = value if isinstance(value, str) else str(value)
    return FINISH_REASONS.get(text.strip().lower(), text)


def normalize_finish_reasons(values: Iterable[Any] | None) -> list[str] | None:
    if values is None:
        return None
    return [normalize_finish_reason(v) for v in values if v is not None and v != ""]


def span_finish_reasons(view: SpanView) -> list[str] | None:
    """The span's ``gen_ai.response.finish_reasons`` as OTel enum strings, whatever was stored."""
    return normalize_finish_reasons(as_str_list(view.get(ga.GEN_AI_RESPONSE_FINISH_REASONS))) or None


# -- content builders -----------------------------------------------------------------------------------


def text_part(text: str) -> dict[str, Any]:
    return {"type": "text", "content": text}


def tool_call_part(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, str):
        parsed = parse_json(arguments)
        arguments = parsed if parsed is not None else arguments
    part: dict[str, Any] = {"type": "tool_call", "id": as_str(call_id), "name": as_str(name) or ""}
    if arguments is not None:
        part["arguments"] = arguments
    return part


def tool_response_part(call_id: Any, response: Any) -> dict[str, Any]:
    return {"type": "tool_call_response", "id": as_str(call_id), "response": response}


def block_to_part(block: Mapping[str, Any]) -> dict[str, Any]:
    """One provider content block (OpenAI, Anthropic or Vercel shape) as a schema message part."""
    kind = block.get("type")
    if kind in ("text", "input_text", "output_text"):
        text = block.get("text", block.get("content"))
        return text_part(text if isinstance(text, str) else dump_json(text))
    if kind in ("tool_use", "tool-call", "function_call"):
        return tool_call_part(
            block.get("id", block.get("toolCallId", block.get("call_id"))),
            block.get("name", block.get("toolName")),
            block.get("input", block.get("args", block.get("arguments"))),
        )
    if kind in ("tool_result", "tool-result", "function_call_output"):
        return tool_response_part(
            block.get("tool_use_id", block.get("toolCallId", block.get("call_id"))),
            block.get("content", block.get("output", block.get("result"))),
        )
    if kind in ("thinking", "reasoning"):
        text = block.get("thinking", block.get("text", ""))
        return {"type": "reasoning", "content": text if isinstance(text, str) else dump_json(text)}
    if kind == "image_url":
        image = block.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        if isinstance(url, str):
            return {"type": "uri", "modality": "image", "uri": url}
    if kind == "image":
        source = block.get("source")
        if isinstance(source, Mapping) and source.get("type") == "base64":
            return {
                "type": "blob",
                "modality": "image",
                "mime_type": source.get("media_type"),
                "content": source.get("data", ""),
            }
        if isinstance(source, Mapping) and isinstance(source.get("url"), str):
            return {"type": "uri", "modality": "image", "uri": source["url"]}
    if isinstance(kind, str):
        return dict(block)
    return {"type": "unknown"}


def content_to_parts(content: Any, *, json_blocks: bool = True) -> list[dict[str, Any]]:
    """Message content (plain text, a list of blocks, or such a list as a JSON string) as schema parts."""
    if content is None:
        return []
    if isinstance(content, str):
        if json_blocks and content.startswith("[{"):
            parsed = parse_json(content)
            if isinstance(parsed, list) and all(isinstance(b, Mapping) and "type" in b for b in parsed):
                return [block_to_part(b) for b in parsed]
        return [text_part(content)]
    if isinstance(content, list):
        parts: list[dict[str, Any]] = []
        for block in content:
            if isinstance(block, Mapping):
                parts.append(block_to_part(block))
            elif isinstance(block, str):
                parts.append(text_part(block))
        return parts
    if isinstance(content, Mapping) and "type" in content:
        return [block_to_part(content)]
    return [text_part(dump_json(content))]


def tool_definition(tool: Any) -> Any:
    """A tool definition in any vendor shape as ``{type, name, description, parameters}``."""
    if isinstance(tool, str):
        parsed = parse_json(tool)
        if parsed is None:
            return {"type": "function", "name": tool}
        tool = parsed
    if not isinstance(tool, Mapping):
        return tool
    inner = tool.get("function")
    if isinstance(inner, Mapping):  # OpenAI chat-completions shape
        out: dict[str, Any] = {"type": tool.get("type", "function")}
        out.update(inner)
        return out
    out = {"type": tool.get("type", "function")}
    for key, value in tool.items():
        if key in ("input_schema", "inputSchema"):
            out.setdefault("parameters", value)
        elif key != "type":
            out[key] = value
    return out


def output_message(role: Any, parts: list[dict[str, Any]], finish_reason: str | None) -> dict[str, Any]:
    """An output message; the schema requires ``finish_reason`` so an unknown one is said to be unknown."""
    return {"role": as_str(role) or "assistant", "parts": parts, "finish_reason": finish_reason or "unknown"}


# -- index-flattened keys -------------------------------------------------------------------------------


Indexed = list[tuple[int, dict[str, Any]]]
"""``(N, {rest: value})`` pairs of ``prefix.N.rest`` keys, sorted by N."""


KeyParts = tuple[str, int, str] | None
"""A key split as (prefix, N, rest), or ``None`` when it is not an indexed key under the prefixes."""

_KEY_PARTS: dict[tuple[str, ...], dict[str, KeyParts]] = {}
_KEY_PARTS_LIMIT = 8192  # keys seen per prefix tuple; attribute names repeat, so this is rarely reached


def _split_indexed(key: str, prefixes: tuple[str, ...]) -> KeyParts:
    if not key.startswith(prefixes):
        return None
    for prefix in prefixes:
        if key.startswith(prefix):
            index_text, _, rest = key[len(prefix) :].partition(".")
            return (prefix, int(index_text), rest) if index_text.isdigit() else None
    return None


def collect_indexed(view: SpanView, prefixes: tuple[str, ...]) -> tuple[dict[str, Indexed], list[str]]:
    """All ``{prefix}N.rest`` attributes grouped by prefix and N, in one pass; also the keys used.

    Keys under a prefix without a numeric index (``gen_ai.prompt.name``) are not content and are skipped.
    One read-only walk over the attributes under the prefixes: content keys are many and read once, so
    looking each up through the view (and caching it there) would cost more than it saves. How a key splits
    is remembered per key name, since the spans of one instrumentation repeat the same names.
    """
    groups: dict[str, dict[int, dict[str, Any]]] = {prefix: {} for prefix in prefixes}
    used: list[str] = []
    known = _KEY_PARTS.get(prefixes)
    if known is None or len(known) > _KEY_PARTS_LIMIT:
        known = _KEY_PARTS[prefixes] = {}
    for key, value in view.prefixed_items(prefixes):
        try:
            parts = known[key]
        except KeyError:
            parts = known[key] = _split_indexed(key, prefixes)
        if parts is None:
            continue
        prefix, index, rest = parts
        by_index = groups[prefix]
        fields = by_index.get(index)
        if fields is None:
            fields = by_index[index] = {}
        elif rest in fields and key in used:
            fields[rest] = value  # a repeated key: the last value wins, as in the index
            continue
        fields[rest] = value
        used.append(key)
    return {prefix: sorted(items.items()) for prefix, items in groups.items()}, used


def group_indexed(flat: Mapping[str, Any], prefix: str) -> list[tuple[int, dict[str, Any]]]:
    """``{prefix}N.rest`` keys → ``[(N, {rest: value})]`` sorted by N; keys without an index are ignored."""
    groups: dict[int, dict[str, Any]] = {}
    size = len(prefix)
    for key, value in flat.items():
        if not key.startswith(prefix):
            continue
        index_text, _, rest = key[size:].partition(".")
        if not index_text.isdigit():
            continue
        groups.setdefault(int(index_text), {})[rest] = value
    return sorted(groups.items())


def set_span_name(view: SpanView, read: Callable[[str], AttributeValue] | None = None) -> bool:
    """Name the span ``{operation} {target}`` when its source used its own naming scheme.

    The target is the model (model calls), tool, agent or data source; without one the name is kept.
    ``read`` looks values up (``view.get`` by default; the stage passes its edit's :meth:`SpanEdit.read`).
    """
    get = view.get if read is None else read

    def text(key: str) -> str | None:
        value = get(key)
        return value if isinstance(value, str) else None

    operation = text(ga.GEN_AI_OPERATION_NAME)
    if not operation:
        return False
    name = view.span.name
    if name == operation or name.startswith(operation + " "):
        return False  # already follows the convention
    if operation in MODEL_OPERATIONS:
        target = text(ga.GEN_AI_REQUEST_MODEL) or text(ga.GEN_AI_RESPONSE_MODEL)
    elif operation == EXECUTE_TOOL:
        target = text(ga.GEN_AI_TOOL_NAME)
    elif operation in (INVOKE_AGENT, CREATE_AGENT):
        target = text(ga.GEN_AI_AGENT_NAME)
    elif operation == RETRIEVAL:
        target = text(ga.GEN_AI_DATA_SOURCE_ID)
    else:
        target = None
    if not target:
        return False  # "retrieval" alone would say less than the source's own name
    new_name = f"{operation} {target}"
    if new_name == name:
        return False
    view.span.name = new_name
    return True
