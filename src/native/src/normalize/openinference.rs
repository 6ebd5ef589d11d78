//! OpenInference (`normalize/openinference.py`): `openinference.span.kind`, `llm.*` names, the request model
//! inside `llm.invocation_parameters`, the response id inside `output.value`, and
//! `llm.input_messages.N.message.*` content rebuilt as JSON messages.

use super::fast;
use super::mapping::{
    collect_indexed, content_to_parts, convert, group_indexed, normalize_finish_reasons,
    normalize_provider, output_message, str_list, str_of, take, text_part, tool_call_part,
    tool_definition, Edit, Fields, Indexed, Table, CHAT, EMBEDDINGS, EXECUTE_TOOL, FINISH_REASONS,
    INPUT_MESSAGES, INVOKE_AGENT, OPERATION, OUTPUT_MESSAGES, PROVIDER, REQUEST_MODEL, RESPONSE_ID,
    RETRIEVAL, TOOL_DEFINITIONS,
};
use super::mapping::{
    field, input_role_parts, materialize, put_input_messages, put_output_messages, Consumed,
    RawIndexed,
};
use super::otel_genai_legacy::legacy_input_messages;
use super::pyjson::{dump_json, parse_json};
use super::pyvalue::{
    as_str, as_str_list, dict, dict_get, is_hashable, py_eq, py_isspace, py_lower, Fallback, PV, R,
};

pub const KIND: &str = "openinference.span.kind";

pub const RENAMES: Table = &[
    ("llm.model_name", "gen_ai.response.model"),
    ("llm.request.model_name", "gen_ai.request.model"),
    ("embedding.model_name", "gen_ai.request.model"),
    ("llm.token_count.prompt", "gen_ai.usage.input_tokens"),
    ("llm.token_count.completion", "gen_ai.usage.output_tokens"),
    (
        "llm.token_count.prompt_details.cache_read",
        "gen_ai.usage.cache_read.input_tokens",
    ),
    (
        "llm.token_count.prompt_details.cache_input",
        "gen_ai.usage.cache_read.input_tokens",
    ),
    (
        "llm.token_count.prompt_details.cache_write",
        "gen_ai.usage.cache_creation.input_tokens",
    ),
    (
        "llm.token_count.completion_details.reasoning",
        "gen_ai.usage.reasoning.output_tokens",
    ),
    ("llm.finish_reason", "gen_ai.response.finish_reasons"),
    ("tool.name", "gen_ai.tool.name"),
    ("tool.description", "gen_ai.tool.description"),
    ("agent.name", "gen_ai.agent.name"),
    ("session.id", "gen_ai.conversation.id"),
];

const PARAMETERS: Table = &[
    ("model", "gen_ai.request.model"),
    ("temperature", "gen_ai.request.temperature"),
    ("top_p", "gen_ai.request.top_p"),
    ("top_k", "gen_ai.request.top_k"),
    ("max_tokens", "gen_ai.request.max_tokens"),
    ("max_completion_tokens", "gen_ai.request.max_tokens"),
    ("max_output_tokens", "gen_ai.request.max_tokens"),
    ("frequency_penalty", "gen_ai.request.frequency_penalty"),
    ("presence_penalty", "gen_ai.request.presence_penalty"),
    ("seed", "gen_ai.request.seed"),
    ("stop", "gen_ai.request.stop_sequences"),
    ("stop_sequences", "gen_ai.request.stop_sequences"),
    ("n", "gen_ai.request.choice.count"),
    ("stream", "gen_ai.request.stream"),
];

const INPUT_PREFIX: &str = "llm.input_messages.";
const OUTPUT_PREFIX: &str = "llm.output_messages.";
const TOOLS_PREFIX: &str = "llm.tools.";

const SHAPES: [fast::Shape; 2] = fast::Shape::pair("message.role", "message.content", false, None);
const INPUT_SHAPE: &fast::Shape = &SHAPES[0];
const OUTPUT_SHAPE: &fast::Shape = &SHAPES[1];

/// `provider(llm.provider, llm.system)`.
fn provider(llm_provider: &PV, llm_system: &PV) -> R<Option<String>> {
    let host = as_str(llm_provider)?;
    let family = as_str(llm_system)?;
    // `x.lower() if x else None`: an empty string counts as missing
    let host_l = host.as_deref().filter(|h| !h.is_empty()).map(py_lower);
    let family_l = family.as_deref().filter(|f| !f.is_empty()).map(py_lower);
    match host_l.as_deref() {
        Some("azure") => {
            let openai = matches!(family_l.as_deref(), None | Some("openai"));
            return Ok(Some(
                if openai {
                    "azure.ai.openai"
                } else {
                    "azure.ai.inference"
                }
                .into(),
            ));
        }
        Some("google") => {
            return Ok(Some(
                if family_l.as_deref() == Some("vertexai") {
                    "gcp.vertex_ai"
                } else {
                    "gcp.gemini"
                }
                .into(),
            ));
        }
        _ => {}
    }
    let chosen = match host.filter(|h| !h.is_empty()) {
        Some(h) => Some(h),
        None => family,
    };
    Ok(normalize_provider(chosen.as_deref()))
}

/// `message_parts(fields)`.
fn message_parts(fields: &mut Fields) -> R<Vec<PV>> {
    let mut parts = Vec::new();
    let mut seen_calls: Vec<PV> = Vec::new();
    let content = take(fields, "message.content");
    if !content.is_none() {
        parts.extend(content_to_parts(content, false)?);
    }
    if !fields
        .iter()
        .any(|(k, _)| k.starts_with("message.contents.") || k.starts_with("message.tool_calls."))
    {
        return Ok(parts);
    }
    for (_, item) in group_indexed(fields, "message.contents.")? {
        let kind = field(&item, "message_content.type");
        if let Some(name) = dict_get(&item, "tool_call.function.name") {
            let call_id = field(&item, "tool_call.id");
            if !is_hashable(call_id) || matches!(call_id, PV::BigInt(_)) {
                return Err(Fallback("unhashable or big tool call id"));
            }
            seen_calls.push(call_id.clone());
            parts.push(tool_call_part(
                call_id,
                name,
                field(&item, "tool_call.function.arguments"),
            )?);
        } else if kind.as_str_ref() == Some("image")
            || dict_get(&item, "message_content.image.image.url").is_some()
        {
            if let Some(PV::Str(url)) = dict_get(&item, "message_content.image.image.url") {
                parts.push(dict(vec![
                    ("type", PV::s("uri")),
                    ("modality", PV::s("image")),
                    ("uri", PV::Str(url.clone())),
                ]));
            }
        } else if let Some(text) = dict_get(&item, "message_content.text") {
            parts.push(text_part(str_of(text)?));
        } else if let PV::Str(k) = kind {
            parts.push(dict(vec![("type", PV::Str(k.clone()))]));
        }
    }
    for (_, call) in group_indexed(fields, "message.tool_calls.")? {
        let call_id = field(&call, "tool_call.id");
        if !call_id.is_none() {
            if !is_hashable(call_id) || matches!(call_id, PV::BigInt(_)) {
                return Err(Fallback("unhashable or big tool call id"));
            }
            if seen_calls.iter().any(|seen| py_eq(seen, call_id)) {
                continue; // anthropic writes each tool_use both as a content block and as a tool call
            }
        }
        parts.push(tool_call_part(
            call_id,
            field(&call, "tool_call.function.name"),
            field(&call, "tool_call.function.arguments"),
        )?);
    }
    Ok(parts)
}

fn input_messages(indexed: Indexed) -> R<Vec<PV>> {
    let mut messages = Vec::with_capacity(indexed.len());
    for (_, mut fields) in indexed {
        let fields = &mut fields;
        let (role, parts) = input_role_parts(
            fields,
            "message.role",
            "message.tool_call_id",
            message_parts,
        )?;
        let mut message = vec![
            ("role".to_string(), PV::Str(role)),
            ("parts".to_string(), PV::List(parts)),
        ];
        if let Some(PV::Str(name)) = dict_get(fields, "message.name") {
            message.push(("name".into(), PV::Str(name.clone())));
        }
        messages.push(PV::Dict(message));
    }
    Ok(messages)
}

fn output_messages(indexed: Indexed, reasons: Option<&[String]>) -> R<Vec<PV>> {
    let reasons = reasons.filter(|r| !r.is_empty());
    let mut messages = Vec::with_capacity(indexed.len());
    for (position, (_, mut fields)) in indexed.into_iter().enumerate() {
        let reason = reasons.map(|r| r[position.min(r.len() - 1)].clone());
        let parts = message_parts(&mut fields)?;
        messages.push(output_message(
            field(&fields, "message.role"),
            parts,
            reason,
        )?);
    }
    Ok(messages)
}

fn map_invocation(edit: &mut Edit) -> R<()> {
    let mut params = match edit
        .view
        .get_str("llm.invocation_parameters")
        .map(parse_json)
        .transpose()?
    {
        Some(PV::Dict(items)) => items,
        _ => Vec::new(),
    };
    if dict_get(&params, "model").is_none()
        && !edit.view.contains(REQUEST_MODEL)
        && !edit.view.contains("llm.request.model_name")
    {
        if let Some(request) = edit
            .view
            .get_str("input.value")
            .filter(|r| r.starts_with('{'))
        {
            if let PV::Dict(parsed) = parse_json(request)? {
                if let Some(PV::Str(model)) = dict_get(&parsed, "model") {
                    params.push(("model".into(), PV::Str(model.clone())));
                }
            }
        }
    }
    if params.is_empty() {
        return Ok(());
    }
    for (name, target) in PARAMETERS {
        if let Some(value) = dict_get(&params, name) {
            if !edit.view.contains(target) {
                let converted = convert(target, value)?.unwrap_or_else(|| value.clone());
                edit.put(target, converted)?;
            }
        }
    }
    Ok(())
}

/// `_LEADING_ID`: `\A\{\s*"id"\s*:\s*"([^"\\]+)"` on the raw text.
fn leading_id(output: &str) -> Option<&str> {
    fn skip_ws(s: &str) -> &str {
        s.trim_start_matches(py_isspace)
    }
    let rest = skip_ws(output.strip_prefix('{')?);
    let rest = skip_ws(rest.strip_prefix("\"id\"")?);
    let rest = skip_ws(rest.strip_prefix(':')?);
    let rest = rest.strip_prefix('"')?;
    let end = rest.find(['"', '\\'])?;
    if end == 0 || !rest[end..].starts_with('"') {
        return None;
    }
    Some(&rest[..end])
}

/// `map_output_value`: the response id (and a missing finish reason) from `output.value`.
fn map_output_value(edit: &mut Edit) -> R<Option<Fields>> {
    let Some(output) = edit
        .view
        .get_str("output.value")
        .filter(|o| o.starts_with('{'))
        .map(str::to_string)
    else {
        return Ok(None);
    };
    if let Some(id) = leading_id(&output) {
        edit.put(RESPONSE_ID, PV::s(id))?;
        if edit.view.contains(FINISH_REASONS)
            && edit.view.contains("llm.output_messages.0.message.role")
        {
            return Ok(None);
        }
    }
    let PV::Dict(parsed) = parse_json(&output)? else {
        return Ok(None);
    };
    if let Some(PV::Str(id)) = dict_get(&parsed, "id") {
        edit.put(RESPONSE_ID, PV::Str(id.clone()))?;
    }
    if !edit.view.contains(FINISH_REASONS) {
        let mut raw = dict_get(&parsed, "finish_reason")
            .or_else(|| dict_get(&parsed, "stop_reason"))
            .cloned()
            .unwrap_or(PV::None);
        if raw.is_none() {
            if let Some(PV::List(choices)) = dict_get(&parsed, "choices") {
                raw = PV::List(
                    choices
                        .iter()
                        .filter_map(|c| match c {
                            PV::Dict(c) => {
                                dict_get(c, "finish_reason").filter(|r| r.truthy()).cloned()
                            }
                            _ => None,
                        })
                        .collect(),
                );
            }
        }
        edit.put(
            FINISH_REASONS,
            str_list(normalize_finish_reasons(as_str_list(&raw)?)),
        )?;
    }
    Ok(Some(parsed))
}

/// `messages_from_values`: spans with only `input.value` / `output.value`.
fn messages_from_values(edit: &mut Edit, output: Option<&Fields>) -> R<()> {
    if !edit.view.contains(INPUT_MESSAGES) {
        let mut parsed = match edit.view.get_str("input.value") {
            Some(text) => parse_json(text)?,
            None => PV::None,
        };
        if let PV::Dict(items) = &parsed {
            parsed = dict_get(items, "messages").cloned().unwrap_or(PV::None);
        }
        if let PV::List(items) = &parsed {
            if !items.is_empty()
                && items
                    .iter()
                    .all(|x| matches!(x, PV::Dict(d) if dict_get(d, "role").is_some()))
            {
                if let Some(messages) = legacy_input_messages(&parsed)? {
                    if !messages.is_empty() {
                        edit.put(INPUT_MESSAGES, PV::Str(dump_json(&PV::List(messages))?))?;
                    }
                }
            }
        }
    }
    if !edit.view.contains(OUTPUT_MESSAGES) {
        if let Some(PV::Str(text)) = output.and_then(|o| dict_get(o, "text")) {
            let reasons = edit.finish_reasons()?;
            let reason = reasons.and_then(|r| r.into_iter().next());
            let message =
                output_message(&PV::s("assistant"), vec![text_part(text.clone())], reason)?;
            edit.put(
                OUTPUT_MESSAGES,
                PV::Str(dump_json(&PV::List(vec![message]))?),
            )?;
        }
    }
    Ok(())
}

fn map_content(edit: &mut Edit) -> R<()> {
    let (groups, used) = collect_indexed(edit.view, &[INPUT_PREFIX, OUTPUT_PREFIX, TOOLS_PREFIX])?;
    if used.is_empty() {
        return Ok(());
    }
    let [inputs, outputs, tool_groups]: [RawIndexed; 3] =
        groups.try_into().map_err(|_| Fallback("unreachable"))?;
    edit.consumed.extend(used.into_iter().map(Consumed::At));
    put_input_messages(edit, &inputs, INPUT_SHAPE, input_messages)?;
    if !edit.view.contains(OUTPUT_MESSAGES) {
        let reasons = edit.finish_reasons()?;
        let reasons = reasons.as_deref();
        put_output_messages(edit, &outputs, OUTPUT_SHAPE, reasons, output_messages)?;
    }
    if !edit.view.contains(TOOL_DEFINITIONS) {
        let mut tools = Vec::new();
        for (_, fields) in &materialize(edit.view, &tool_groups) {
            if let Some(schema) = dict_get(fields, "tool.json_schema") {
                tools.push(tool_definition(schema)?);
            }
        }
        if !tools.is_empty() {
            edit.put(TOOL_DEFINITIONS, PV::Str(dump_json(&PV::List(tools))?))?;
        }
    }
    Ok(())
}

pub fn normalize(edit: &mut Edit) -> R<()> {
    let operation = match edit.view.get_str(KIND) {
        Some("LLM") => CHAT,
        Some("EMBEDDING") => EMBEDDINGS,
        Some("RETRIEVER") => RETRIEVAL,
        Some("TOOL") => EXECUTE_TOOL,
        Some("AGENT") => INVOKE_AGENT,
        _ => return Ok(()), // CHAIN, RERANKER, GUARDRAIL...: not a GenAI operation in OTel terms
    };
    edit.put(OPERATION, PV::s(operation))?;
    if edit.view.contains("llm.provider") || edit.view.contains("llm.system") {
        let value = provider(&edit.view.get("llm.provider"), &edit.view.get("llm.system"))?;
        edit.put(PROVIDER, value.map_or(PV::None, PV::Str))?;
        if edit.view.contains(PROVIDER) {
            for key in ["llm.provider", "llm.system"] {
                if edit.view.contains(key) {
                    edit.consume(key);
                }
            }
        }
    }
    edit.apply(RENAMES)?;
    if operation == CHAT || operation == EMBEDDINGS {
        map_invocation(edit)?;
        let output = map_output_value(edit)?;
        map_content(edit)?;
        messages_from_values(edit, output.as_ref())?;
    }
    Ok(())
}
