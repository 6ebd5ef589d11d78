//! OpenLLMetry <= 0.54 (`normalize/openllmetry_legacy.py`): `gen_ai.system`, `llm.*` and index-flattened
//! content (`gen_ai.prompt.N.role`, `gen_ai.completion.N.tool_calls.M.name`) rebuilt as JSON messages.

use super::fast;
use super::mapping::{
    block_to_part, collect_indexed, content_to_parts, group_indexed, is_flat,
    normalize_finish_reason, normalize_finish_reasons, output_message, str_list, str_of, text_part,
    tool_call_part, Edit, Fields, Indexed, Table, CHAT, EMBEDDINGS, FINISH_REASONS, OPERATION,
    TEXT_COMPLETION, TOOL_DEFINITIONS,
};
use super::mapping::{
    field, input_role_parts, materialize, put_input_messages, put_output_messages, take, Consumed,
    RawIndexed, NONE,
};
use super::pyjson::{dump_json, parse_json};
use super::pyvalue::from_any;
use super::pyvalue::{as_str, dict, dict_get, PV, R};

pub const RENAMES: Table = &[
    ("gen_ai.system", "gen_ai.provider.name"),
    ("gen_ai.usage.prompt_tokens", "gen_ai.usage.input_tokens"),
    ("llm.usage.prompt_tokens", "gen_ai.usage.input_tokens"),
    (
        "gen_ai.usage.completion_tokens",
        "gen_ai.usage.output_tokens",
    ),
    ("llm.usage.completion_tokens", "gen_ai.usage.output_tokens"),
    (
        "gen_ai.usage.cache_read_input_tokens",
        "gen_ai.usage.cache_read.input_tokens",
    ),
    (
        "gen_ai.usage.cache_creation_input_tokens",
        "gen_ai.usage.cache_creation.input_tokens",
    ),
    (
        "llm.usage.reasoning_tokens",
        "gen_ai.usage.reasoning.output_tokens",
    ),
    (
        "gen_ai.usage.reasoning_tokens",
        "gen_ai.usage.reasoning.output_tokens",
    ),
    ("llm.is_streaming", "gen_ai.request.stream"),
    ("gen_ai.is_streaming", "gen_ai.request.stream"),
    ("llm.top_k", "gen_ai.request.top_k"),
    ("llm.frequency_penalty", "gen_ai.request.frequency_penalty"),
    ("llm.presence_penalty", "gen_ai.request.presence_penalty"),
    ("llm.chat.stop_sequences", "gen_ai.request.stop_sequences"),
    (
        "llm.response.finish_reason",
        "gen_ai.response.finish_reasons",
    ),
    ("llm.response.stop_reason", "gen_ai.response.finish_reasons"),
    (
        "gen_ai.openai.system_fingerprint",
        "openai.response.system_fingerprint",
    ),
    (
        "gen_ai.openai.response.system_fingerprint",
        "openai.response.system_fingerprint",
    ),
];

const REQUEST_TYPE: &str = "llm.request.type";
const PROMPT_PREFIX: &str = "gen_ai.prompt.";
const COMPLETION_PREFIX: &str = "gen_ai.completion.";
const FUNCTIONS_PREFIX: &str = "llm.request.functions.";

const SHAPES: [fast::Shape; 2] = fast::Shape::pair("role", "content", true, Some("finish_reason"));
const INPUT_SHAPE: &fast::Shape = &SHAPES[0];
const OUTPUT_SHAPE: &fast::Shape = &SHAPES[1];

/// `operation(request_type, span_name)`.
fn operation(request_type: Option<&str>, span_name: &str) -> Option<&'static str> {
    let op = match request_type? {
        "chat" => CHAT,
        "completion" => TEXT_COMPLETION,
        "embedding" | "embeddings" => EMBEDDINGS,
        _ => return None,
    };
    if op == TEXT_COMPLETION && span_name.ends_with(".chat") {
        return Some(CHAT);
    }
    Some(op)
}

/// `tool_calls(fields)`.
fn tool_calls(fields: &Fields) -> R<Vec<PV>> {
    if is_flat(fields) {
        return Ok(Vec::new());
    }
    let mut parts = Vec::new();
    for (_, call) in group_indexed(fields, "tool_calls.")? {
        parts.push(tool_call_part(
            field(&call, "id"),
            field(&call, "name"),
            field(&call, "arguments"),
        )?);
    }
    if let Some(name) = dict_get(fields, "function_call.name") {
        parts.push(tool_call_part(
            &NONE,
            name,
            field(fields, "function_call.arguments"),
        )?);
    }
    Ok(parts)
}

/// `content_parts(fields)`: shared with genai-otel-instrument in Python.
pub fn content_parts(fields: &mut Fields) -> R<Vec<PV>> {
    let mut parts = content_to_parts(take(fields, "content"), true)?;
    if is_flat(fields) {
        return Ok(parts);
    }
    for (_, block) in group_indexed(fields, "content.")? {
        if dict_get(&block, "type").is_some() {
            parts.push(block_to_part(&block)?);
        } else {
            let text = dict_get(&block, "text")
                .cloned()
                .unwrap_or_else(|| PV::s(""));
            parts.push(text_part(str_of(&text)?));
        }
    }
    Ok(parts)
}

fn input_messages(indexed: Indexed) -> R<Vec<PV>> {
    let mut messages = Vec::with_capacity(indexed.len());
    for (_, mut fields) in indexed {
        let fields = &mut fields;
        let (role, mut parts) = input_role_parts(fields, "role", "tool_call_id", content_parts)?;
        parts.extend(tool_calls(fields)?);
        messages.push(dict(vec![
            ("role", PV::Str(role)),
            ("parts", PV::List(parts)),
        ]));
    }
    Ok(messages)
}

fn output_messages(indexed: Indexed, span_reasons: Option<&[String]>) -> R<Vec<PV>> {
    let mut messages = Vec::with_capacity(indexed.len());
    for (position, (_, mut fields)) in indexed.into_iter().enumerate() {
        let fields = &mut fields;
        let mut reason = as_str(field(fields, "finish_reason"))?;
        if reason.is_none() {
            if let Some(r) = span_reasons.filter(|r| !r.is_empty()) {
                reason = Some(r[position.min(r.len() - 1)].clone());
            }
        }
        let mut parts = content_parts(fields)?;
        parts.extend(tool_calls(fields)?);
        let finish = reason
            .filter(|r| !r.is_empty())
            .map(|r| normalize_finish_reason(&r));
        messages.push(output_message(field(fields, "role"), parts, finish)?);
    }
    Ok(messages)
}

fn tool_definitions(indexed: &Indexed) -> R<Vec<PV>> {
    let mut tools = Vec::with_capacity(indexed.len());
    for (_, fields) in indexed {
        let name = dict_get(fields, "name")
            .cloned()
            .unwrap_or_else(|| PV::s(""));
        let mut tool = vec![
            ("type".to_string(), PV::s("function")),
            ("name".to_string(), name),
        ];
        if let Some(description) = dict_get(fields, "description") {
            tool.push(("description".into(), description.clone()));
        }
        if let Some(params) = dict_get(fields, "parameters") {
            let value = match params {
                PV::Str(text) => parse_json(text)?,
                other => other.clone(),
            };
            tool.push(("parameters".into(), value));
        }
        tools.push(PV::Dict(tool));
    }
    Ok(tools)
}

/// `map_content`: the JSON content attributes from the flattened keys.
pub fn map_content(edit: &mut Edit) -> R<()> {
    let (groups, used) = collect_indexed(
        edit.view,
        &[PROMPT_PREFIX, COMPLETION_PREFIX, FUNCTIONS_PREFIX],
    )?;
    if used.is_empty() {
        return Ok(());
    }
    let [prompts, completions, functions]: [RawIndexed; 3] = groups
        .try_into()
        .map_err(|_| super::pyvalue::Fallback("unreachable"))?;
    if !edit.view.contains(FINISH_REASONS) {
        let mut reasons = Vec::new();
        for completion in &completions {
            if let Some(f) = completion.field(edit.view, "finish_reason") {
                let reason = from_any(edit.view.span.attributes[f.pos].value.as_ref());
                if reason.truthy() {
                    reasons.push(as_str(&reason)?.unwrap_or_default());
                }
            }
        }
        edit.put(
            FINISH_REASONS,
            str_list(normalize_finish_reasons(Some(reasons))),
        )?;
    }
    let span_reasons = edit.finish_reasons()?;
    put_input_messages(edit, &prompts, INPUT_SHAPE, input_messages)?;
    let reasons = span_reasons.as_deref();
    put_output_messages(edit, &completions, OUTPUT_SHAPE, reasons, output_messages)?;
    if !edit.view.contains(TOOL_DEFINITIONS) {
        let tools = tool_definitions(&materialize(edit.view, &functions))?;
        if !tools.is_empty() {
            edit.put(TOOL_DEFINITIONS, PV::Str(dump_json(&PV::List(tools))?))?;
        }
    }
    edit.consumed.extend(used.into_iter().map(Consumed::At));
    Ok(())
}

pub fn normalize(edit: &mut Edit) -> R<()> {
    edit.apply(RENAMES)?;
    if edit.view.contains(REQUEST_TYPE) {
        let op = operation(edit.view.get_str(REQUEST_TYPE), &edit.view.span.name);
        if let Some(op) = op {
            if edit.put(OPERATION, PV::s(op))? || edit.view.contains(OPERATION) {
                edit.consume(REQUEST_TYPE);
            }
        }
    }
    map_content(edit)
}
