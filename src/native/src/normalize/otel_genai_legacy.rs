//! OTel GenAI conventions before the content/provider revision (`normalize/otel_genai_legacy.py`):
//! `gen_ai.system`, prompt/completion token names, and whole-conversation JSON in `gen_ai.prompt` /
//! `gen_ai.completion` (attributes or `gen_ai.content.*` events).

use super::mapping::{
    content_to_parts, field, normalize_finish_reason, output_message, text_part, tool_call_part,
    Edit, Table, INPUT_MESSAGES, OUTPUT_MESSAGES,
};
use super::pyjson::{dump_json, parse_json};
use super::pyvalue::{as_str, dict, Fallback, PV, R};
use opentelemetry_proto::tonic::common::v1::any_value::Value;

pub const RENAMES: Table = &[
    ("gen_ai.system", "gen_ai.provider.name"),
    ("gen_ai.usage.prompt_tokens", "gen_ai.usage.input_tokens"),
    (
        "gen_ai.usage.completion_tokens",
        "gen_ai.usage.output_tokens",
    ),
    ("gen_ai.openai.request.seed", "gen_ai.request.seed"),
    (
        "gen_ai.openai.request.service_tier",
        "openai.request.service_tier",
    ),
    (
        "gen_ai.openai.response.service_tier",
        "openai.response.service_tier",
    ),
    (
        "gen_ai.openai.response.system_fingerprint",
        "openai.response.system_fingerprint",
    ),
];

const PROMPT: &str = "gen_ai.prompt";
const COMPLETION: &str = "gen_ai.completion";
const RESPONSE_FORMAT: &str = "gen_ai.openai.request.response_format";
const OUTPUT_TYPE: &str = "gen_ai.output.type";
const PROMPT_EVENT: &str = "gen_ai.content.prompt";
const COMPLETION_EVENT: &str = "gen_ai.content.completion";

/// `parse_json(value) if isinstance(value, str) else value`, a dict wrapped in a list.
fn parsed_list(value: &PV) -> R<PV> {
    let parsed = match value {
        PV::Str(text) => parse_json(text)?,
        other => other.clone(),
    };
    Ok(match parsed {
        PV::Dict(_) => PV::List(vec![parsed]),
        other => other,
    })
}

/// `for call in item.get("tool_calls") or []`: the dict items Python would visit (TypeError for a truthy
/// non-iterable, which the port hands to Python).
fn iter_dicts(value: Option<&PV>) -> R<Vec<&[(String, PV)]>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    if !value.truthy() {
        return Ok(Vec::new());
    }
    match value {
        PV::List(items) => Ok(items
            .iter()
            .filter_map(|item| match item {
                PV::Dict(d) => Some(d.as_slice()),
                _ => None,
            })
            .collect()),
        PV::Str(_) | PV::Dict(_) | PV::Bytes(_) => Ok(Vec::new()),
        _ => Err(Fallback("iterating a non-iterable")),
    }
}

/// `legacy_input_messages`; `None` where Python returns None.
pub fn legacy_input_messages(value: &PV) -> R<Option<Vec<PV>>> {
    let parsed = parsed_list(value)?;
    let PV::List(items) = parsed else {
        return Ok(match value {
            PV::Str(text) if !text.is_empty() => Some(vec![dict(vec![
                ("role", PV::s("user")),
                ("parts", PV::List(vec![text_part(text.clone())])),
            ])]),
            _ => None,
        });
    };
    let mut messages = Vec::new();
    for item in &items {
        let PV::Dict(item) = item else { continue };
        let get = |k: &str| super::pyvalue::dict_get(item, k);
        let parts = match get("parts") {
            Some(PV::List(parts)) => parts.clone(),
            _ => {
                let mut parts =
                    content_to_parts(get("content").cloned().unwrap_or_default(), true)?;
                for call in iter_dicts(get("tool_calls"))? {
                    let function = field(call, "function");
                    let function: &[(String, PV)] = if !function.truthy() {
                        &[]
                    } else if let PV::Dict(f) = function {
                        f
                    } else {
                        return Err(Fallback("'function' is not a dict"));
                    };
                    let fget = |k: &str| field(function, k);
                    parts.push(tool_call_part(
                        field(call, "id"),
                        fget("name"),
                        fget("arguments"),
                    )?);
                }
                parts
            }
        };
        let role = as_str(field(item, "role"))?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "user".into());
        messages.push(dict(vec![
            ("role", PV::Str(role)),
            ("parts", PV::List(parts)),
        ]));
    }
    Ok(Some(messages))
}

/// `legacy_output_messages`.
pub fn legacy_output_messages(value: &PV, reasons: Option<&[String]>) -> R<Option<Vec<PV>>> {
    let reasons = reasons.filter(|r| !r.is_empty());
    let parsed = parsed_list(value)?;
    let PV::List(items) = parsed else {
        return Ok(match value {
            PV::Str(text) if !text.is_empty() => Some(vec![output_message(
                &PV::s("assistant"),
                vec![text_part(text.clone())],
                reasons.map(|r| r[0].clone()),
            )?]),
            _ => None,
        });
    };
    let mut messages = Vec::new();
    for (position, item) in items.iter().enumerate() {
        let PV::Dict(item) = item else { continue };
        let get = |k: &str| super::pyvalue::dict_get(item, k);
        let raw_reason = as_str(field(item, "finish_reason"))?;
        let mut reason = raw_reason
            .filter(|r| !r.is_empty())
            .map(|r| normalize_finish_reason(&r));
        if reason.is_none() {
            if let Some(r) = reasons {
                reason = Some(r[position.min(r.len() - 1)].clone());
            }
        }
        let parts = match get("parts") {
            Some(PV::List(parts)) => parts.clone(),
            _ => {
                let body: &[(String, PV)] = match get("message") {
                    Some(PV::Dict(message)) => message,
                    _ => item,
                };
                let content = super::pyvalue::dict_get(body, "content")
                    .or_else(|| super::pyvalue::dict_get(body, "text"))
                    .cloned()
                    .unwrap_or_default();
                content_to_parts(content, true)?
            }
        };
        let role = get("role").cloned().unwrap_or_else(|| PV::s("assistant"));
        messages.push(output_message(&role, parts, reason)?);
    }
    Ok(Some(messages))
}

/// `event_value`: the string value of `key` on the first event named `event_name` that has it.
fn event_value(edit: &Edit, event_name: &str, key: &str) -> PV {
    for event in &edit.view.span.events {
        if event.name == event_name {
            for kv in &event.attributes {
                if kv.key == key {
                    return match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                        Some(Value::StringValue(s)) => PV::Str(s.clone()),
                        _ => PV::s(""),
                    };
                }
            }
        }
    }
    PV::None
}

fn map_content(edit: &mut Edit) -> R<()> {
    let mut prompt = edit.view.get(PROMPT);
    let mut completion = edit.view.get(COMPLETION);
    if (prompt.is_none() || completion.is_none()) && !edit.view.span.events.is_empty() {
        if prompt.is_none() {
            prompt = event_value(edit, PROMPT_EVENT, PROMPT);
        }
        if completion.is_none() {
            completion = event_value(edit, COMPLETION_EVENT, COMPLETION);
        }
    }
    if !prompt.is_none() && !edit.view.contains(INPUT_MESSAGES) {
        if let Some(inputs) = legacy_input_messages(&prompt)? {
            if !inputs.is_empty() {
                edit.put(INPUT_MESSAGES, PV::Str(dump_json(&PV::List(inputs))?))?;
            }
        }
    }
    if !completion.is_none() && !edit.view.contains(OUTPUT_MESSAGES) {
        let reasons = edit.finish_reasons()?;
        if let Some(outputs) = legacy_output_messages(&completion, reasons.as_deref())? {
            if !outputs.is_empty() {
                edit.put(OUTPUT_MESSAGES, PV::Str(dump_json(&PV::List(outputs))?))?;
            }
        }
    }
    if edit.view.contains(PROMPT) && edit.view.contains(INPUT_MESSAGES) {
        edit.consume(PROMPT);
    }
    if edit.view.contains(COMPLETION) && edit.view.contains(OUTPUT_MESSAGES) {
        edit.consume(COMPLETION);
    }
    Ok(())
}

pub fn normalize(edit: &mut Edit) -> R<()> {
    edit.apply(RENAMES)?;
    let output_type = match edit.view.get_str(RESPONSE_FORMAT) {
        Some("text") => Some("text"),
        Some("json_object" | "json_schema") => Some("json"),
        _ => None,
    };
    if let Some(output_type) = output_type {
        edit.put(OUTPUT_TYPE, PV::s(output_type))?;
        edit.consume(RESPONSE_FORMAT);
    }
    map_content(edit)
}
