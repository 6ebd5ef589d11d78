//! The shared rules of `normalize/mapping.py`: copy-if-absent renames with the value converters, the
//! provider and finish-reason vocabularies, the message-part builders and the index-flattened key grouping.

use super::fast;
use super::pyjson::{dump_json, parse_json};
use super::pyvalue::{
    as_bool, as_float, as_int, as_str, as_str_list, dict, dict_get, dict_set, py_lower, py_str,
    py_strip, Fallback, PV, R,
};
use super::view::View;

pub const OPERATION: &str = "gen_ai.operation.name";
pub const PROVIDER: &str = "gen_ai.provider.name";
pub const REQUEST_MODEL: &str = "gen_ai.request.model";
pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
pub const RESPONSE_ID: &str = "gen_ai.response.id";
pub const FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
pub const INPUT_MESSAGES: &str = "gen_ai.input.messages";
pub const OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
pub const TOOL_DEFINITIONS: &str = "gen_ai.tool.definitions";
pub const TOOL_NAME: &str = "gen_ai.tool.name";
pub const AGENT_NAME: &str = "gen_ai.agent.name";
pub const DATA_SOURCE_ID: &str = "gen_ai.data_source.id";
pub const INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
pub const CACHE_READ_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
pub const CACHE_CREATION_TOKENS: &str = "gen_ai.usage.cache_creation.input_tokens";
pub const SYSTEM: &str = "gen_ai.system";
pub const SYSTEM_INSTRUCTIONS: &str = "gen_ai.system_instructions";
pub const TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";

pub const CHAT: &str = "chat";
pub const TEXT_COMPLETION: &str = "text_completion";
pub const EMBEDDINGS: &str = "embeddings";
pub const GENERATE_CONTENT: &str = "generate_content";
pub const RETRIEVAL: &str = "retrieval";
pub const EXECUTE_TOOL: &str = "execute_tool";
pub const INVOKE_AGENT: &str = "invoke_agent";
pub const CREATE_AGENT: &str = "create_agent";

/// (source key, current key) pairs; for one current key the first source present wins.
pub type Table = &'static [(&'static str, &'static str)];

/// A consumed source key: a name, or the position of an index-flattened key (positions stay valid while
/// a mapper runs: attributes are only appended or replaced, see `Edit::delete`).
#[derive(Debug, Clone, Copy)]
pub enum Consumed {
    Key(&'static str),
    At(usize),
}

/// What one mapper run did: the consumed source keys (dropped when not keep_original) and the finish
/// reasons it wrote (the stage's shared pass skips re-checking those).
pub struct Edit<'v, 'a> {
    pub view: &'v mut View<'a>,
    pub consumed: Vec<Consumed>,
    /// Value fixes worth counting (`genai_lens_normalize_value_fixes_total`).
    pub notes: Vec<&'static str>,
    pub written_finish: Option<PV>,
}

/// A converter table: `CONVERTERS` or a dialect's variant of it.
pub type Converters = fn(&str, &PV) -> R<Option<PV>>;

impl<'v, 'a> Edit<'v, 'a> {
    pub fn new(view: &'v mut View<'a>) -> Self {
        Edit {
            view,
            consumed: Vec::new(),
            notes: Vec::new(),
            written_finish: None,
        }
    }

    /// `SpanEdit.set`: overwrite an attribute (a value fix).
    pub fn set(&mut self, key: &str, value: PV) -> R<()> {
        self.wrote(key, &value);
        self.view.set(key, value)
    }

    pub fn consume(&mut self, key: &'static str) {
        self.consumed.push(Consumed::Key(key));
    }

    /// `view.delete(key)`; consumed positions would shift, so an edit holding some is left to Python.
    pub fn delete(&mut self, key: &str) -> R<bool> {
        if self.consumed.iter().any(|c| matches!(c, Consumed::At(_))) {
            return Err(Fallback("delete after positional consumes"));
        }
        Ok(self.view.delete(key))
    }

    fn wrote(&mut self, key: &str, value: &PV) {
        if key == FINISH_REASONS {
            self.written_finish = Some(value.clone());
        }
    }

    /// `SpanEdit.finish_reasons`.
    pub fn finish_reasons(&self) -> R<Option<Vec<String>>> {
        let value = self.view.get(FINISH_REASONS);
        Ok(normalize_finish_reasons(as_str_list(&value)?).filter(|v| !v.is_empty()))
    }

    /// `SpanEdit.put`: set unless blank or already present.
    pub fn put(&mut self, key: &str, value: PV) -> R<bool> {
        if value.is_blank() {
            return Ok(false);
        }
        if self.view.contains(key) {
            return Ok(false);
        }
        self.wrote(key, &value);
        self.view.set(key, value)?;
        Ok(true)
    }

    /// `SpanEdit.copy` with the target's converter from `CONVERTERS`.
    pub fn copy(&mut self, source: &'static str, target: &str) -> R<bool> {
        self.copy_with(source, target, convert)
    }

    /// `SpanEdit.copy` with the target's converter from `converters`.
    pub fn copy_with(
        &mut self,
        source: &'static str,
        target: &str,
        converters: Converters,
    ) -> R<bool> {
        let Some(pos) = self.view.position(source) else {
            return Ok(false);
        };
        if self.view.contains(target) {
            if source != target {
                self.consume(source);
            }
            return Ok(false);
        }
        let raw = super::pyvalue::from_any(self.view.span.attributes[pos].value.as_ref());
        let value = converters(target, &raw)?.unwrap_or(raw);
        if value.is_blank() {
            return Ok(false);
        }
        self.wrote(target, &value);
        self.view.set(target, value)?;
        self.consume(source);
        Ok(true)
    }

    /// `SpanEdit.apply` (skipping absent sources changes nothing, so each pair runs in turn).
    pub fn apply(&mut self, table: Table) -> R<()> {
        self.apply_with(table, convert)
    }

    pub fn apply_with(&mut self, table: Table, converters: Converters) -> R<()> {
        for (source, target) in table {
            self.copy_with(source, target, converters)?;
        }
        Ok(())
    }
}

/// Python `==` between two values, containers compared deeply (dicts regardless of order); NaN is left
/// to Python (its identity shortcut makes `nan == nan` true inside containers).
pub fn py_deep_eq(a: &PV, b: &PV) -> R<bool> {
    Ok(match (a, b) {
        (PV::Float(f), _) | (_, PV::Float(f)) if f.is_nan() => {
            return Err(Fallback("NaN equality"))
        }
        (PV::List(x), PV::List(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            for (p, q) in x.iter().zip(y) {
                if !py_deep_eq(p, q)? {
                    return Ok(false);
                }
            }
            true
        }
        (PV::Dict(x), PV::Dict(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            for (k, v) in x {
                match dict_get(y, k) {
                    Some(w) if py_deep_eq(v, w)? => {}
                    _ => return Ok(false),
                }
            }
            true
        }
        (PV::BigInt(_), PV::Float(_)) | (PV::Float(_), PV::BigInt(_)) => {
            return Err(Fallback("big int equality"))
        }
        (PV::List(_) | PV::Dict(_), _) | (_, PV::List(_) | PV::Dict(_)) => false,
        _ => super::pyvalue::py_eq(a, b),
    })
}

/// `CONVERTERS[target](value)`; `Ok(None)` when the target has no converter.
pub fn convert(target: &str, value: &PV) -> R<Option<PV>> {
    Ok(Some(match target {
        "gen_ai.usage.input_tokens"
        | "gen_ai.usage.output_tokens"
        | "gen_ai.usage.cache_read.input_tokens"
        | "gen_ai.usage.cache_creation.input_tokens"
        | "gen_ai.usage.reasoning.output_tokens"
        | "gen_ai.request.max_tokens"
        | "gen_ai.request.seed"
        | "gen_ai.request.choice.count" => as_int(value)?,
        "gen_ai.request.top_k"
        | "gen_ai.request.temperature"
        | "gen_ai.request.top_p"
        | "gen_ai.request.frequency_penalty"
        | "gen_ai.request.presence_penalty"
        | "gen_ai.response.time_to_first_chunk" => as_float(value)?,
        "gen_ai.request.stop_sequences" => str_list(as_str_list(value)?),
        "gen_ai.request.stream" => as_bool(value),
        FINISH_REASONS => str_list(normalize_finish_reasons(as_str_list(value)?)),
        PROVIDER => match normalize_provider(as_str(value)?.as_deref()) {
            Some(p) => PV::Str(p),
            None => PV::None,
        },
        REQUEST_MODEL | RESPONSE_MODEL | RESPONSE_ID => as_str(value)?.map_or(PV::None, PV::Str),
        _ => return Ok(None),
    }))
}

pub fn str_list(values: Option<Vec<String>>) -> PV {
    match values {
        Some(v) => PV::List(v.into_iter().map(PV::Str).collect()),
        None => PV::None,
    }
}

// -- vocabularies ---------------------------------------------------------------------------------------

fn provider_alias(key: &str) -> Option<&'static str> {
    Some(match key {
        "openai" => "openai",
        "anthropic" => "anthropic",
        "cohere" => "cohere",
        "groq" => "groq",
        "deepseek" => "deepseek",
        "perplexity" => "perplexity",
        "azure.ai.openai" | "az.ai.openai" | "azure_openai" | "azure-openai" | "azure.openai"
        | "azure" => "azure.ai.openai",
        "azure.ai.inference" | "az.ai.inference" | "azure_ai_inference" => "azure.ai.inference",
        "aws.bedrock" | "aws_bedrock" | "bedrock" | "amazon-bedrock" | "aws" => "aws.bedrock",
        "gcp.vertex_ai" | "vertex_ai" | "vertexai" | "vertex" | "google.vertex"
        | "google-vertex" => "gcp.vertex_ai",
        "gcp.gemini"
        | "gemini"
        | "google"
        | "google.generative-ai"
        | "google-generative-ai"
        | "google_generativeai"
        | "google_genai"
        | "google-genai" => "gcp.gemini",
        "gcp.gen_ai" => "gcp.gen_ai",
        "mistral_ai" | "mistralai" | "mistral" => "mistral_ai",
        "x_ai" | "xai" => "x_ai",
        "ibm.watsonx.ai" | "ibm.watson.ai" | "watsonx" => "ibm.watsonx.ai",
        "together" | "togetherai" => "together_ai",
        _ => return None,
    })
}

/// `normalize_provider`: `None` for an empty value; may return an empty string (a blank value).
pub fn normalize_provider(value: Option<&str>) -> Option<String> {
    let value = value?;
    if value.is_empty() {
        return None;
    }
    let key = py_lower(py_strip(value));
    if let Some(hit) = provider_alias(&key) {
        return Some(hit.to_string());
    }
    let head = key.split('.').next().unwrap_or("");
    Some(provider_alias(head).map_or(key.clone(), str::to_string))
}

fn finish_alias(key: &str) -> Option<&'static str> {
    Some(match key {
        "stop" | "end_turn" | "stop_sequence" | "eos" | "complete" | "finish_reason_stop" => "stop",
        "length" | "max_tokens" | "model_length" | "model_context_window_exceeded" => "length",
        "tool_calls" | "tool_call" | "tool_use" | "tool-calls" | "function_call" => "tool_call",
        "content_filter"
        | "content-filter"
        | "safety"
        | "recitation"
        | "blocklist"
        | "prohibited_content"
        | "spii"
        | "refusal"
        | "guardrail_intervened" => "content_filter",
        "error" => "error",
        _ => return None,
    })
}

/// `normalize_finish_reason` of a string.
pub fn normalize_finish_reason(text: &str) -> String {
    let stripped = py_strip(text);
    let hit = if stripped
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-')
    {
        finish_alias(stripped)
    } else {
        finish_alias(&py_lower(stripped))
    };
    hit.map_or_else(|| text.to_string(), str::to_string)
}

/// `normalize_finish_reasons` over strings (the only callers pass `as_str_list` output).
pub fn normalize_finish_reasons(values: Option<Vec<String>>) -> Option<Vec<String>> {
    values.map(|v| {
        v.iter()
            .filter(|s| !s.is_empty())
            .map(|s| normalize_finish_reason(s))
            .collect()
    })
}

// -- content builders -----------------------------------------------------------------------------------

pub fn text_part(text: String) -> PV {
    PV::Dict(vec![
        ("type".into(), PV::s("text")),
        ("content".into(), PV::Str(text)),
    ])
}

fn opt_str(value: Option<String>) -> PV {
    value.map_or(PV::None, PV::Str)
}

/// `tool_call_part`; `arguments` is `None` when Python passes `None` (absent or null).
pub fn tool_call_part(call_id: &PV, name: &PV, arguments: &PV) -> R<PV> {
    let mut args = arguments.clone();
    if let PV::Str(text) = arguments {
        let parsed = parse_json(text)?;
        if !parsed.is_none() {
            args = parsed;
        }
    }
    let name = as_str(name)?.filter(|s| !s.is_empty()).unwrap_or_default();
    let mut part = vec![
        ("type".to_string(), PV::s("tool_call")),
        ("id".to_string(), opt_str(as_str(call_id)?)),
        ("name".to_string(), PV::Str(name)),
    ];
    if !args.is_none() {
        part.push(("arguments".into(), args));
    }
    Ok(PV::Dict(part))
}

pub fn tool_response_part(call_id: &PV, response: PV) -> R<PV> {
    Ok(dict(vec![
        ("type", PV::s("tool_call_response")),
        ("id", opt_str(as_str(call_id)?)),
        ("response", response),
    ]))
}

/// `block.get(a, block.get(b, ...))`: the first key present, else the default.
fn first<'b>(block: &'b [(String, PV)], keys: &[&str]) -> Option<&'b PV> {
    keys.iter().find_map(|k| dict_get(block, k))
}

/// The `None` a missing key reads as (`fields.get(key)`).
pub const NONE: PV = PV::None;

/// `fields.get(key)`: the value, `None` when absent.
pub fn field<'f>(fields: &'f [(String, PV)], key: &str) -> &'f PV {
    dict_get(fields, key).unwrap_or(&NONE)
}

fn text_or_json(value: &PV) -> R<String> {
    match value {
        PV::Str(s) => Ok(s.clone()),
        other => dump_json(other),
    }
}

/// `block_to_part`.
pub fn block_to_part(block: &[(String, PV)]) -> R<PV> {
    let kind = dict_get(block, "type").unwrap_or(&NONE);
    let kind_str = kind.as_str_ref();
    match kind_str {
        Some("text" | "input_text" | "output_text") => {
            let text = first(block, &["text", "content"]).unwrap_or(&NONE);
            return Ok(text_part(text_or_json(text)?));
        }
        Some("tool_use" | "tool-call" | "function_call") => {
            return tool_call_part(
                first(block, &["id", "toolCallId", "call_id"]).unwrap_or(&NONE),
                first(block, &["name", "toolName"]).unwrap_or(&NONE),
                first(block, &["input", "args", "arguments"]).unwrap_or(&NONE),
            );
        }
        Some("tool_result" | "tool-result" | "function_call_output") => {
            return tool_response_part(
                first(block, &["tool_use_id", "toolCallId", "call_id"]).unwrap_or(&NONE),
                first(block, &["content", "output", "result"])
                    .unwrap_or(&NONE)
                    .clone(),
            );
        }
        Some("thinking" | "reasoning") => {
            let text = match first(block, &["thinking", "text"]) {
                Some(v) => text_or_json(v)?,
                None => String::new(),
            };
            return Ok(dict(vec![
                ("type", PV::s("reasoning")),
                ("content", PV::Str(text)),
            ]));
        }
        Some("image_url") => {
            let image = dict_get(block, "image_url").unwrap_or(&NONE);
            let url = match image {
                PV::Dict(items) => dict_get(items, "url").unwrap_or(&NONE),
                other => other,
            };
            if let PV::Str(u) = url {
                return Ok(dict(vec![
                    ("type", PV::s("uri")),
                    ("modality", PV::s("image")),
                    ("uri", PV::Str(u.clone())),
                ]));
            }
        }
        Some("image") => {
            if let Some(PV::Dict(source)) = dict_get(block, "source") {
                if dict_get(source, "type").and_then(PV::as_str_ref) == Some("base64") {
                    return Ok(dict(vec![
                        ("type", PV::s("blob")),
                        ("modality", PV::s("image")),
                        (
                            "mime_type",
                            dict_get(source, "media_type").cloned().unwrap_or(PV::None),
                        ),
                        (
                            "content",
                            dict_get(source, "data")
                                .cloned()
                                .unwrap_or_else(|| PV::s("")),
                        ),
                    ]));
                }
                if let Some(PV::Str(u)) = dict_get(source, "url") {
                    return Ok(dict(vec![
                        ("type", PV::s("uri")),
                        ("modality", PV::s("image")),
                        ("uri", PV::Str(u.clone())),
                    ]));
                }
            }
        }
        _ => {}
    }
    if kind_str.is_some() {
        return Ok(PV::Dict(block.to_vec()));
    }
    Ok(dict(vec![("type", PV::s("unknown"))]))
}

/// `content_to_parts` (the content is moved into the parts).
pub fn content_to_parts(content: PV, json_blocks: bool) -> R<Vec<PV>> {
    match content {
        PV::None => Ok(Vec::new()),
        PV::Str(text) => {
            if json_blocks && text.starts_with("[{") {
                if let PV::List(blocks) = parse_json(&text)? {
                    if blocks
                        .iter()
                        .all(|b| matches!(b, PV::Dict(d) if dict_get(d, "type").is_some()))
                    {
                        return blocks
                            .iter()
                            .map(|b| match b {
                                PV::Dict(d) => block_to_part(d),
                                _ => Err(Fallback("unreachable")),
                            })
                            .collect();
                    }
                }
            }
            Ok(vec![text_part(text)])
        }
        PV::List(blocks) => {
            let mut parts = Vec::new();
            for block in blocks {
                match block {
                    PV::Dict(d) => parts.push(block_to_part(&d)?),
                    PV::Str(s) => parts.push(text_part(s)),
                    _ => {}
                }
            }
            Ok(parts)
        }
        PV::Dict(d) if dict_get(&d, "type").is_some() => Ok(vec![block_to_part(&d)?]),
        other => Ok(vec![text_part(dump_json(&other)?)]),
    }
}

/// `fields.get(key)` for a value read once: moved out (the key stays, holding None).
pub fn take(fields: &mut [(String, PV)], key: &str) -> PV {
    fields
        .iter_mut()
        .find(|(k, _)| k == key)
        .map_or(PV::None, |(_, v)| std::mem::take(v))
}

/// `tool_definition`.
pub fn tool_definition(tool: &PV) -> R<PV> {
    let owned;
    let tool = if let PV::Str(text) = tool {
        match parse_json(text)? {
            PV::None => {
                return Ok(dict(vec![
                    ("type", PV::s("function")),
                    ("name", tool.clone()),
                ]))
            }
            parsed => {
                owned = parsed;
                &owned
            }
        }
    } else {
        tool
    };
    let PV::Dict(items) = tool else {
        return Ok(tool.clone());
    };
    let kind = dict_get(items, "type")
        .cloned()
        .unwrap_or_else(|| PV::s("function"));
    let mut out = vec![("type".to_string(), kind)];
    if let Some(PV::Dict(inner)) = dict_get(items, "function") {
        for (k, v) in inner {
            dict_set(&mut out, k, v.clone());
        }
        return Ok(PV::Dict(out));
    }
    for (key, value) in items {
        if key == "input_schema" || key == "inputSchema" {
            if dict_get(&out, "parameters").is_none() {
                out.push(("parameters".into(), value.clone()));
            }
        } else if key != "type" {
            dict_set(&mut out, key, value.clone());
        }
    }
    Ok(PV::Dict(out))
}

/// `output_message`.
pub fn output_message(role: &PV, parts: Vec<PV>, finish_reason: Option<String>) -> R<PV> {
    let role = as_str(role)?
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "assistant".into());
    let finish = finish_reason
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    Ok(dict(vec![
        ("role", PV::Str(role)),
        ("parts", PV::List(parts)),
        ("finish_reason", PV::Str(finish)),
    ]))
}

// -- index-flattened keys -------------------------------------------------------------------------------

/// One `prefix.N.*` group: N (decimal text without leading zeros, compared by length then text, i.e. as an
/// integer) and its `{rest: value}` fields in insertion order.
pub type Fields = Vec<(String, PV)>;
pub type Indexed = Vec<(String, Fields)>;

/// `index_text.isdigit()` then `int(index_text)`: `Ok(Some(normalized))` for ASCII digits, `Ok(None)`
/// when not a digit string, Fallback for non-ASCII digits (Python's int() accepts some, raises on others).
fn parse_index(text: &str) -> R<Option<String>> {
    if text.is_empty() {
        return Ok(None);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let trimmed = text.trim_start_matches('0');
        return Ok(Some(if trimmed.is_empty() {
            "0".into()
        } else {
            trimmed.into()
        }));
    }
    if text.chars().all(char::is_numeric) {
        return Err(Fallback("non-ASCII digits in an index"));
    }
    Ok(None)
}

fn index_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn group_slot<V>(
    groups: &mut Vec<(String, Vec<(String, V)>)>,
    index: String,
) -> &mut Vec<(String, V)> {
    let pos = match groups.iter().position(|(i, _)| *i == index) {
        Some(p) => p,
        None => {
            groups.push((index, Vec::new()));
            groups.len() - 1
        }
    };
    &mut groups[pos].1
}

fn sort_groups<V>(groups: &mut [(String, Vec<(String, V)>)]) {
    groups.sort_by(|a, b| index_order(&a.0, &b.0));
}

/// `group_indexed`.
pub fn group_indexed(flat: &[(String, PV)], prefix: &str) -> R<Indexed> {
    let mut groups: Indexed = Vec::new();
    for (key, value) in flat {
        let Some(tail) = key.strip_prefix(prefix) else {
            continue;
        };
        let (index_text, rest) = tail.split_once('.').unwrap_or((tail, ""));
        let Some(index) = parse_index(index_text)? else {
            continue;
        };
        dict_set(group_slot(&mut groups, index), rest, value.clone());
    }
    sort_groups(&mut groups);
    Ok(groups)
}

/// One field of a `prefix.N.*` group: the attribute's position and where `rest` starts in its key.
#[derive(Debug, Clone, Copy)]
pub struct RawField {
    pub pos: usize,
    pub rest: usize,
}

/// One `prefix.N.*` group, unconverted: N is `key[start..end]` of attribute `pos` (leading zeros trimmed).
/// The common message shapes are written as JSON straight from the span's strings (see `fast`), the
/// others are converted (`materialize`).
#[derive(Debug, Clone)]
pub struct RawGroup {
    pub pos: usize,
    pub start: usize,
    pub end: usize,
    pub fields: Vec<RawField>,
}

pub type RawIndexed = Vec<RawGroup>;

impl RawField {
    pub fn rest<'v>(&self, view: &'v View) -> &'v str {
        &view.span.attributes[self.pos].key[self.rest..]
    }
}

impl RawGroup {
    pub fn index_text<'v>(&self, view: &'v View) -> &'v str {
        &view.span.attributes[self.pos].key[self.start..self.end]
    }

    /// The field named `rest`, if the group has it.
    pub fn field(&self, view: &View, rest: &str) -> Option<RawField> {
        self.fields.iter().copied().find(|f| f.rest(view) == rest)
    }
}

/// The byte range of N's digits without leading zeros (`int(index_text)`), like `parse_index`.
fn index_range(text: &str, offset: usize) -> R<Option<(usize, usize)>> {
    if text.is_empty() {
        return Ok(None);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let zeros = text.len() - text.trim_start_matches('0').len();
        let start = if zeros == text.len() {
            text.len() - 1
        } else {
            zeros
        };
        return Ok(Some((offset + start, offset + text.len())));
    }
    if text.chars().all(char::is_numeric) {
        return Err(Fallback("non-ASCII digits in an index"));
    }
    Ok(None)
}

/// `collect_indexed`: every `{prefix}N.rest` attribute grouped by prefix and N, plus the positions used.
pub fn collect_indexed(view: &View, prefixes: &[&str]) -> R<(Vec<RawIndexed>, Vec<usize>)> {
    let mut groups: Vec<RawIndexed> = prefixes.iter().map(|_| Vec::new()).collect();
    let mut used = Vec::new();
    for (pos, kv) in view.span.attributes.iter().enumerate() {
        let key = kv.key.as_str();
        let Some(which) = prefixes.iter().position(|p| key.starts_with(p)) else {
            continue;
        };
        let offset = prefixes[which].len();
        let tail = &key[offset..];
        let (index_text, rest_at) = match tail.find('.') {
            Some(dot) => (&tail[..dot], offset + dot + 1),
            None => (tail, key.len()),
        };
        let Some((start, end)) = index_range(index_text, offset)? else {
            continue;
        };
        let index = &key[start..end];
        let slot = match groups[which]
            .iter()
            .position(|g| g.index_text(view) == index)
        {
            Some(slot) => slot,
            None => {
                groups[which].push(RawGroup {
                    pos,
                    start,
                    end,
                    fields: Vec::new(),
                });
                groups[which].len() - 1
            }
        };
        let field = RawField { pos, rest: rest_at };
        let rest = &key[rest_at..];
        let fields = &mut groups[which][slot].fields;
        match fields.iter_mut().find(|f| f.rest(view) == rest) {
            Some(existing) => *existing = field,
            None => fields.push(field),
        }
        used.push(pos);
    }
    for g in &mut groups {
        g.sort_by(|a, b| index_order(a.index_text(view), b.index_text(view)));
    }
    Ok((groups, used))
}

/// One flattened input message's role (`user` when missing or empty) and its `parts`; a `tool` message
/// with a call id under `call_id_key` becomes one tool response holding its text.
pub fn input_role_parts(
    fields: &mut Fields,
    role_key: &str,
    call_id_key: &str,
    parts: impl FnOnce(&mut Fields) -> R<Vec<PV>>,
) -> R<(String, Vec<PV>)> {
    let role = as_str(field(fields, role_key))?
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "user".into());
    let mut parts = parts(fields)?;
    if role == "tool" {
        if let Some(call_id) = dict_get(fields, call_id_key) {
            let text = join_text_parts(&parts)?;
            parts = vec![tool_response_part(call_id, PV::Str(text))?];
        }
    }
    Ok((role, parts))
}

/// `gen_ai.input.messages` from index-flattened `group` (see [`put_messages`]).
pub fn put_input_messages(
    edit: &mut Edit,
    group: &RawIndexed,
    shape: &fast::Shape,
    build: impl FnOnce(Indexed) -> R<Vec<PV>>,
) -> R<()> {
    put_messages(edit, INPUT_MESSAGES, group, shape, None, build)
}

/// `gen_ai.output.messages` from index-flattened `group`, a message without its own finish reason
/// taking the span's `reasons` by position (see [`put_messages`]).
pub fn put_output_messages(
    edit: &mut Edit,
    group: &RawIndexed,
    shape: &fast::Shape,
    reasons: Option<&[String]>,
    build: impl FnOnce(Indexed, Option<&[String]>) -> R<Vec<PV>>,
) -> R<()> {
    let fast_reasons = Some(reasons.unwrap_or(&[]));
    put_messages(
        edit,
        OUTPUT_MESSAGES,
        group,
        shape,
        fast_reasons,
        |indexed| build(indexed, reasons),
    )
}

/// Sets `key` to the JSON messages rebuilt from index-flattened `group` unless the span already has it:
/// straight to JSON where the values allow (`fast`), else `build` over the materialized groups; nothing
/// when there are no messages.
fn put_messages(
    edit: &mut Edit,
    key: &str,
    group: &RawIndexed,
    shape: &fast::Shape,
    fast_reasons: Option<&[String]>,
    build: impl FnOnce(Indexed) -> R<Vec<PV>>,
) -> R<()> {
    if edit.view.contains(key) {
        return Ok(());
    }
    let json = match fast::messages(edit.view, group, shape, fast_reasons) {
        Some(json) => json,
        None => {
            let messages = build(materialize(edit.view, group))?;
            if messages.is_empty() {
                return Ok(());
            }
            dump_json(&PV::List(messages))?
        }
    };
    edit.put(key, PV::Str(json))?;
    Ok(())
}

/// The groups with their values converted (`any_to_python`), as the Python builders see them.
pub fn materialize(view: &View, raw: &RawIndexed) -> Indexed {
    raw.iter()
        .map(|group| {
            let values = group
                .fields
                .iter()
                .map(|f| {
                    (
                        f.rest(view).to_string(),
                        super::pyvalue::from_any(view.span.attributes[f.pos].value.as_ref()),
                    )
                })
                .collect();
            (group.index_text(view).to_string(), values)
        })
        .collect()
}

/// `not any("." in key for key in fields)`.
pub fn is_flat(fields: &Fields) -> bool {
    !fields.iter().any(|(k, _)| k.contains('.'))
}

/// `" ".join(p["content"] for p in parts if p.get("type") == "text")`.
pub fn join_text_parts(parts: &[PV]) -> R<String> {
    let mut texts = Vec::new();
    for part in parts {
        if part.get("type").and_then(PV::as_str_ref) == Some("text") {
            match part.get("content") {
                Some(PV::Str(s)) => texts.push(s.as_str()),
                _ => return Err(Fallback("non-text content in a text part")),
            }
        }
    }
    Ok(texts.join(" "))
}

/// `str(value)` where Python calls it on a message field.
pub fn str_of(value: &PV) -> R<String> {
    py_str(value)
}

// -- span name ------------------------------------------------------------------------------------------

/// `set_span_name`: `{operation} {target}` when the source used its own naming scheme.
pub fn set_span_name(view: &mut View) -> bool {
    let Some(operation) = view.get_str(OPERATION).filter(|s| !s.is_empty()) else {
        return false;
    };
    let name = view.span.name.as_str();
    if name == operation
        || (name.starts_with(operation) && name[operation.len()..].starts_with(' '))
    {
        return false;
    }
    let text = |key: &str| view.get_str(key).filter(|s| !s.is_empty());
    let target = match operation {
        CHAT | TEXT_COMPLETION | EMBEDDINGS | GENERATE_CONTENT => {
            text(REQUEST_MODEL).or_else(|| text(RESPONSE_MODEL))
        }
        EXECUTE_TOOL => text(TOOL_NAME),
        INVOKE_AGENT | CREATE_AGENT => text(AGENT_NAME),
        RETRIEVAL => text(DATA_SOURCE_ID),
        _ => None,
    };
    let Some(target) = target else { return false };
    let new_name = format!("{operation} {target}");
    if new_name == view.span.name {
        return false;
    }
    view.span.name = new_name;
    true
}
