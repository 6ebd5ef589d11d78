//! Vercel AI SDK (`normalize/vercel_ai.py`): `ai.*` attributes; only the inner provider-call spans become
//! model calls with usage, tool spans become `execute_tool`, outer wrappers get provider and model only.

use super::mapping::{
    content_to_parts, output_message, text_part, tool_call_part, tool_definition, Edit, Table,
    CHAT, EMBEDDINGS, EXECUTE_TOOL, INPUT_MESSAGES, OPERATION, OUTPUT_MESSAGES,
    TIME_TO_FIRST_CHUNK, TOOL_DEFINITIONS,
};
use super::pyjson::{dump_json, parse_json};
use super::pyvalue::{as_float, as_str, dict, dict_get, PV, R};

const OPERATION_ID: &str = "ai.operationId";

pub const IDENTITY: Table = &[
    ("ai.model.id", "gen_ai.request.model"),
    ("ai.model.provider", "gen_ai.provider.name"),
    ("gen_ai.system", "gen_ai.provider.name"),
];

pub const CALL_RENAMES: Table = &[
    ("ai.response.model", "gen_ai.response.model"),
    ("ai.response.id", "gen_ai.response.id"),
    ("ai.response.finishReason", "gen_ai.response.finish_reasons"),
    ("ai.usage.inputTokens", "gen_ai.usage.input_tokens"),
    ("ai.usage.promptTokens", "gen_ai.usage.input_tokens"),
    ("ai.usage.tokens", "gen_ai.usage.input_tokens"),
    ("ai.usage.outputTokens", "gen_ai.usage.output_tokens"),
    ("ai.usage.completionTokens", "gen_ai.usage.output_tokens"),
    (
        "ai.usage.cachedInputTokens",
        "gen_ai.usage.cache_read.input_tokens",
    ),
    (
        "ai.usage.reasoningTokens",
        "gen_ai.usage.reasoning.output_tokens",
    ),
    ("ai.settings.temperature", "gen_ai.request.temperature"),
    ("ai.settings.maxOutputTokens", "gen_ai.request.max_tokens"),
    ("ai.settings.maxTokens", "gen_ai.request.max_tokens"),
    ("ai.settings.topP", "gen_ai.request.top_p"),
    ("ai.settings.topK", "gen_ai.request.top_k"),
    (
        "ai.settings.frequencyPenalty",
        "gen_ai.request.frequency_penalty",
    ),
    (
        "ai.settings.presencePenalty",
        "gen_ai.request.presence_penalty",
    ),
    ("ai.settings.seed", "gen_ai.request.seed"),
    ("ai.settings.stopSequences", "gen_ai.request.stop_sequences"),
];

/// Copied without converters (`apply(TOOL_RENAMES, {})`): none of the targets has one anyway.
pub const TOOL_RENAMES: Table = &[
    ("ai.toolCall.name", "gen_ai.tool.name"),
    ("ai.toolCall.id", "gen_ai.tool.call.id"),
    ("ai.toolCall.args", "gen_ai.tool.call.arguments"),
    ("ai.toolCall.input", "gen_ai.tool.call.arguments"),
    ("ai.toolCall.result", "gen_ai.tool.call.result"),
    ("ai.toolCall.output", "gen_ai.tool.call.result"),
];

fn no_converters(_target: &str, _value: &PV) -> R<Option<PV>> {
    Ok(None)
}

fn json_of(edit: &Edit, key: &str) -> R<PV> {
    match edit.view.get_str(key) {
        Some(text) => parse_json(text),
        None => Ok(PV::None),
    }
}

/// `input_messages(ai.prompt.messages)`.
fn input_messages(parsed: PV) -> R<Option<Vec<PV>>> {
    let PV::List(items) = parsed else {
        return Ok(None);
    };
    let mut messages = Vec::new();
    for item in items {
        if let PV::Dict(mut item) = item {
            let role = as_str(dict_get(&item, "role").unwrap_or(&PV::None))?
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "user".into());
            let content = super::mapping::take(&mut item, "content");
            messages.push(dict(vec![
                ("role", PV::Str(role)),
                ("parts", PV::List(content_to_parts(content, true)?)),
            ]));
        }
    }
    Ok(Some(messages))
}

fn output_messages(edit: &mut Edit) -> R<Option<Vec<PV>>> {
    let mut parts = Vec::new();
    for key in ["ai.response.text", "ai.response.object"] {
        if let Some(text) = edit.view.get_str(key).filter(|t| !t.is_empty()) {
            parts.push(text_part(text.to_string()));
            edit.consume(key);
        }
    }
    if let PV::List(calls) = json_of(edit, "ai.response.toolCalls")? {
        edit.consume("ai.response.toolCalls");
        for call in &calls {
            if let PV::Dict(call) = call {
                let get = |k: &str| dict_get(call, k);
                let args = get("input").or_else(|| get("args")).unwrap_or(&PV::None);
                parts.push(tool_call_part(
                    get("toolCallId").unwrap_or(&PV::None),
                    get("toolName").unwrap_or(&PV::None),
                    args,
                )?);
            }
        }
    }
    if parts.is_empty() {
        return Ok(None);
    }
    let reason = edit.finish_reasons()?.and_then(|r| r.into_iter().next());
    Ok(Some(vec![output_message(
        &PV::s("assistant"),
        parts,
        reason,
    )?]))
}

fn map_content(edit: &mut Edit) -> R<()> {
    if !edit.view.contains(INPUT_MESSAGES) && edit.view.contains("ai.prompt.messages") {
        if let Some(messages) = input_messages(json_of(edit, "ai.prompt.messages")?)? {
            if !messages.is_empty() {
                edit.consume("ai.prompt.messages");
                edit.put(INPUT_MESSAGES, PV::Str(dump_json(&PV::List(messages))?))?;
            }
        }
    }
    if !edit.view.contains(OUTPUT_MESSAGES) {
        if let Some(messages) = output_messages(edit)? {
            if !messages.is_empty() {
                edit.put(OUTPUT_MESSAGES, PV::Str(dump_json(&PV::List(messages))?))?;
            }
        }
    }
    if let PV::List(tools) = edit.view.get("ai.prompt.tools") {
        if !edit.view.contains(TOOL_DEFINITIONS) {
            edit.consume("ai.prompt.tools");
            let defs = tools.iter().map(tool_definition).collect::<R<Vec<_>>>()?;
            edit.put(TOOL_DEFINITIONS, PV::Str(dump_json(&PV::List(defs))?))?;
        }
    }
    Ok(())
}

pub fn normalize(edit: &mut Edit) -> R<()> {
    let operation_id = edit.view.get_str(OPERATION_ID).map(str::to_string);
    edit.apply(IDENTITY)?;
    if operation_id.as_deref() == Some("ai.toolCall") {
        edit.put(OPERATION, PV::s(EXECUTE_TOOL))?;
        return edit.apply_with(TOOL_RENAMES, no_converters);
    }
    let operation = match operation_id.as_deref() {
        Some(
            "ai.generateText.doGenerate"
            | "ai.streamText.doStream"
            | "ai.generateObject.doGenerate"
            | "ai.streamObject.doStream",
        ) => CHAT,
        Some("ai.embed.doEmbed" | "ai.embedMany.doEmbed") => EMBEDDINGS,
        _ => return Ok(()), // outer wrapper span: no usage (see the Python module)
    };
    edit.put(OPERATION, PV::s(operation))?;
    edit.apply(CALL_RENAMES)?;
    if let PV::Float(ms) = as_float(&edit.view.get("ai.response.msToFirstChunk"))? {
        edit.consume("ai.response.msToFirstChunk");
        edit.put(TIME_TO_FIRST_CHUNK, PV::Float(ms / 1000.0))?;
    }
    map_content(edit)
}
