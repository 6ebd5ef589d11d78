//! Attribute helpers over OTLP `KeyValue` lists, shared by the stages.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};

/// The value of `key` in `attributes`, if present (linear: OTLP attribute lists are short and unsorted).
pub fn find<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

/// The string value of `key`, if present and a string.
pub fn find_str<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match find(attributes, key) {
        Some(Value::StringValue(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// Set `key` to `value`: replaced in place when present (keeping its position), appended otherwise.
pub fn set(attributes: &mut Vec<KeyValue>, key: &str, value: Value) {
    if let Some(kv) = attributes.iter_mut().find(|kv| kv.key == key) {
        kv.value = Some(AnyValue { value: Some(value) });
    } else {
        attributes.push(KeyValue {
            key: key.to_string(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        });
    }
}
