//! genai-otel-instrument (`normalize/genai_otel.py`): current and superseded names side by side
//! (de-duplicated, the current one wins), system instructions, `llm.tools`, and OpenLLMetry-style content.

use super::mapping::{
    convert, text_part, tool_definition, Edit, Table, OPERATION, SYSTEM_INSTRUCTIONS,
    TOOL_DEFINITIONS,
};
use super::openllmetry_legacy;
use super::pyjson::{dump_json, parse_json};
use super::pyvalue::{as_str, PV, R};

pub const RENAMES: Table = &[
    ("gen_ai.system", "gen_ai.provider.name"),
    ("gen_ai.usage.prompt_tokens", "gen_ai.usage.input_tokens"),
    (
        "gen_ai.usage.completion_tokens",
        "gen_ai.usage.output_tokens",
    ),
    (
        "gen_ai.usage.cache_write.input_tokens",
        "gen_ai.usage.cache_creation.input_tokens",
    ),
    (
        "gen_ai.usage.reasoning_tokens",
        "gen_ai.usage.reasoning.output_tokens",
    ),
    (
        "gen_ai.response.finish_reason",
        "gen_ai.response.finish_reasons",
    ),
    ("gen_ai.request.type", "gen_ai.operation.name"),
    (
        "gen_ai.server.time_to_first_token",
        "gen_ai.response.time_to_first_chunk",
    ),
    ("gen_ai.server.ttft", "gen_ai.response.time_to_first_chunk"),
];

const SYSTEM_KEYS: [&str; 2] = ["gen_ai.prompt.system", "gen_ai.request.instructions"];

/// `operation(value)`: a known operation name as is, else the request-type vocabulary.
fn operation(value: &PV) -> PV {
    match value.as_str_ref() {
        Some(
            op @ ("chat" | "create_agent" | "embeddings" | "execute_tool" | "generate_content"
            | "invoke_agent" | "invoke_workflow" | "retrieval" | "text_completion"),
        ) => PV::s(op),
        Some("completion") => PV::s("text_completion"),
        Some("embedding") => PV::s("embeddings"),
        _ => PV::None,
    }
}

/// `{**CONVERTERS, gen_ai.operation.name: operation}`.
fn converters(target: &str, value: &PV) -> R<Option<PV>> {
    if target == OPERATION {
        return Ok(Some(operation(value)));
    }
    convert(target, value)
}

pub fn normalize(edit: &mut Edit) -> R<()> {
    edit.apply_with(RENAMES, converters)?;
    for key in SYSTEM_KEYS {
        if edit.view.contains(key) {
            edit.consume(key);
            if let Some(text) = as_str(&edit.view.get(key))?.filter(|t| !t.is_empty()) {
                edit.put(
                    SYSTEM_INSTRUCTIONS,
                    PV::Str(dump_json(&PV::List(vec![text_part(text)]))?),
                )?;
            }
        }
    }
    if edit.view.contains("llm.tools") && !edit.view.contains(TOOL_DEFINITIONS) {
        let tools = match edit.view.get_str("llm.tools") {
            Some(text) => parse_json(text)?,
            None => PV::None,
        };
        if let PV::List(tools) = tools {
            edit.consume("llm.tools");
            let defs = tools.iter().map(tool_definition).collect::<R<Vec<_>>>()?;
            edit.put(TOOL_DEFINITIONS, PV::Str(dump_json(&PV::List(defs))?))?;
        }
    }
    openllmetry_legacy::map_content(edit)
}
