//! The common message shape written as JSON straight from the span's strings: every message of a group
//! has only a string role and a string text content (and, for outputs, a string finish reason). The text
//! is exactly what the general builders plus `dump_json` produce for that shape (the parity tests run both
//! paths), without converting the content into Python-like values first.

use opentelemetry_proto::tonic::common::v1::any_value::Value;

use super::mapping::{normalize_finish_reason, RawGroup, RawIndexed};
use super::pyjson::dump_str;
use super::view::View;

/// The dialect's field names for one message.
pub struct Shape {
    pub role: &'static str,
    pub content: &'static str,
    /// `Some(key)` when the message carries its own finish reason (OpenLLMetry completions).
    pub finish_reason: Option<&'static str>,
    /// `content_to_parts(json_blocks=True)`: text starting with `[{` may be blocks, so it takes the general path.
    pub json_blocks: bool,
    pub default_role: &'static str,
}

impl Shape {
    /// A dialect's input (`user` by default, no own finish reason) and output (`assistant`) shapes.
    pub const fn pair(
        role: &'static str,
        content: &'static str,
        json_blocks: bool,
        output_finish_reason: Option<&'static str>,
    ) -> [Shape; 2] {
        [
            Shape {
                role,
                content,
                finish_reason: None,
                json_blocks,
                default_role: "user",
            },
            Shape {
                role,
                content,
                finish_reason: output_finish_reason,
                json_blocks,
                default_role: "assistant",
            },
        ]
    }
}

enum Field<'a> {
    Absent,
    Str(&'a str),
}

/// The string at `key`, `Absent`, or `None` when present with another type (general path).
fn field<'a>(view: &'a View, group: &RawGroup, key: &str) -> Option<Field<'a>> {
    match group.field(view, key) {
        None => Some(Field::Absent),
        Some(f) => match view.span.attributes[f.pos]
            .value
            .as_ref()
            .and_then(|v| v.value.as_ref())
        {
            Some(Value::StringValue(s)) => Some(Field::Str(s)),
            _ => None,
        },
    }
}

/// The messages as JSON, or `None` when one of them has another shape (or there are none).
/// `outputs` is `None` for input messages, else the span's finish reasons (maybe none) for output ones.
pub fn messages(
    view: &View,
    group: &RawIndexed,
    shape: &Shape,
    outputs: Option<&[String]>,
) -> Option<String> {
    if group.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(64);
    out.push('[');
    for (position, message) in group.iter().enumerate() {
        let known =
            |k: &str| k == shape.role || k == shape.content || shape.finish_reason == Some(k);
        if !message.fields.iter().all(|f| known(f.rest(view))) {
            return None;
        }
        let role = match field(view, message, shape.role)? {
            Field::Str(r) if !r.is_empty() => r,
            _ => shape.default_role,
        };
        let content = match field(view, message, shape.content)? {
            Field::Str(c) if shape.json_blocks && c.starts_with("[{") => return None,
            Field::Str(c) => Some(c),
            Field::Absent => None,
        };
        if position > 0 {
            out.push(',');
        }
        out.push_str("{\"role\":");
        dump_str(role, &mut out);
        out.push_str(",\"parts\":[");
        if let Some(text) = content {
            out.push_str("{\"type\":\"text\",\"content\":");
            dump_str(text, &mut out);
            out.push('}');
        }
        out.push(']');
        if let Some(reasons) = outputs {
            let own = match shape.finish_reason {
                Some(key) => match field(view, message, key)? {
                    Field::Str(r) => Some(r.to_string()),
                    Field::Absent => None,
                },
                None => None,
            };
            let reason = own.or_else(|| {
                (!reasons.is_empty()).then(|| reasons[position.min(reasons.len() - 1)].clone())
            });
            let finish = match reason.filter(|r| !r.is_empty()) {
                // OpenLLMetry normalizes the reason it picked; OpenInference's span reasons already are
                Some(r) if shape.finish_reason.is_some() => normalize_finish_reason(&r),
                Some(r) => r,
                None => "unknown".to_string(),
            };
            out.push_str(",\"finish_reason\":");
            dump_str(&finish, &mut out);
        }
        out.push('}');
    }
    out.push(']');
    Some(out)
}
