//! The `redact` stage on a decoded request: the native twin of `BatchRedactor` (built-in detectors,
//! placeholder or hash mode), with the same findings, markers, annotations and counts.
//!
//! Two walks over the request, in the Python collection order (span attributes with arrays and kvlists
//! inside, event attributes, link attributes, status message): the first applies the key policy's deny
//! rule and gathers the whole-request facts the Python scanner checks on its joined text; the second
//! scans each string and rewrites the ones with findings.

pub mod content;
pub mod detectors;
pub mod keys;
pub mod pyjson;
pub mod scanner;
pub mod text;
pub mod validators;
mod walk;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use std::sync::Mutex;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::batch::Batch;
use content::Replacer;
use keys::{KeyAction, KeyPolicy};
use scanner::Scanner;

const COUNT_KEY: &str = "genai_lens.redaction.count";
const TYPES_KEY: &str = "genai_lens.redaction.types";

/// The redact stage's configuration, compiled once (regexes, key lists, HMAC key).
#[pyclass(module = "genai_lens_native", frozen)]
pub struct Redactor {
    scanner: Scanner,
    replacer: Replacer,
    policy: KeyPolicy,
    /// Key decisions so far (attribute keys repeat across spans); bounded like Python's.
    decisions: Mutex<Decisions>,
    /// `(text, probe, hits) -> (new text or None, types)`: the Python `ContentRedactor.redact_json`, for a
    /// JSON document whose findings cannot be rewritten in place (a finding in a key, a number or next to
    /// an escape: parsed and re-serialized by Python's `json`, exactly as the Python stage does).
    json_fallback: Option<Py<PyAny>>,
}

#[pymethods]
impl Redactor {
    /// `detectors`: built-in types (`email`, `secret`, ...); `mode`: `placeholder` or `hash` (with
    /// `hash_key`); `gate_index`: whether the Python scanner has its Hyperscan gate index;
    /// `word_ranges`/`digit_ranges`: the non-ASCII code point ranges of Python's `\w` and `\d`.
    #[new]
    #[pyo3(signature = (detectors, mode, hash_key, allow_keys, deny_keys, default_allow_keys, default_deny_keys, gate_index, word_ranges, digit_ranges, json_fallback=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        detectors: Vec<String>,
        mode: &str,
        hash_key: Option<Vec<u8>>,
        allow_keys: Vec<String>,
        deny_keys: Vec<String>,
        default_allow_keys: Vec<String>,
        default_deny_keys: Vec<String>,
        gate_index: bool,
        word_ranges: Vec<(u32, u32)>,
        digit_ranges: Vec<(u32, u32)>,
        json_fallback: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let classes = text::PyClasses::install(word_ranges, digit_ranges);
        let replacer = match (mode, hash_key) {
            ("placeholder", _) => Replacer::Placeholder,
            ("hash", Some(key)) => Replacer::hash(&key)
                .ok_or_else(|| PyValueError::new_err("hash mode needs a non-empty key"))?,
            ("hash", None) => return Err(PyValueError::new_err("hash mode needs a key")),
            (other, _) => {
                return Err(PyValueError::new_err(format!(
                    "mode {other:?} is not supported natively"
                )))
            }
        };
        Ok(Redactor {
            scanner: Scanner::new(&detectors, gate_index, classes),
            replacer,
            policy: KeyPolicy::new(
                &allow_keys,
                &deny_keys,
                &default_allow_keys,
                &default_deny_keys,
            ),
            decisions: Mutex::new(Decisions::default()),
            json_fallback,
        })
    }
}

const DECISION_CACHE_LIMIT: usize = 20_000;

/// FxHash (word at a time): attribute keys are short, and this cache is no attack surface worth SipHash.
#[derive(Default, Clone, Copy)]
pub struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut hash = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            hash = (hash.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(SEED);
        }
        for &byte in chunks.remainder() {
            hash = (hash.rotate_left(5) ^ byte as u64).wrapping_mul(SEED);
        }
        self.0 = hash;
    }
}

pub type Decisions = HashMap<String, KeyAction, std::hash::BuildHasherDefault<Fx>>;

impl Redactor {
    fn action(&self, cache: &mut Decisions, key: &str) -> KeyAction {
        if let Some(action) = cache.get(key) {
            return *action;
        }
        let action = self.policy.action(key);
        if cache.len() >= DECISION_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key.to_string(), action);
        action
    }
}

#[pymethods]
impl Batch {
    /// Redact every span in place; returns `([(type, count)], errors)`: redactions by type (sorted) and
    /// the number of strings whose scan failed (a regex gave up, or the Python JSON fallback raised):
    /// those are withheld whole as `<REDACTED>` and counted as `withheld`.
    fn redact(
        &mut self,
        py: Python<'_>,
        redactor: &Redactor,
    ) -> PyResult<(Vec<(String, usize)>, usize)> {
        let mut cache = match redactor.decisions.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut spans: Vec<&mut Span> = self
            .spans_mut()
            .into_iter()
            .map(|(_, _, span)| span)
            .collect();
        let outcome = walk::redact_spans(py, redactor, &mut cache, &mut spans)?;
        let mut totals: BTreeMap<&'static str, usize> = BTreeMap::new();
        for (span, found) in spans.iter_mut().zip(outcome.found.iter()) {
            if found.is_empty() {
                continue;
            }
            annotate(span, found);
            for kind in found {
                *totals.entry(kind).or_default() += 1;
            }
        }
        Ok((
            totals
                .into_iter()
                .map(|(k, n)| (k.to_string(), n))
                .collect(),
            outcome.errors,
        ))
    }
}

/// `RedactStage._annotate`: count added to any previous int value, types the sorted union, each set like
/// `SpanView.set` (the last entry of a repeated key replaced in place, else appended).
fn annotate(span: &mut Span, found: &[&'static str]) {
    let last = |attributes: &[KeyValue], key: &str| attributes.iter().rposition(|kv| kv.key == key);
    let previous_count = match last(&span.attributes, COUNT_KEY)
        .and_then(|i| span.attributes[i].value.as_ref())
        .and_then(|v| v.value.as_ref())
    {
        Some(Value::IntValue(n)) => *n,
        Some(Value::BoolValue(b)) => *b as i64,
        _ => 0,
    };
    // A withheld value is annotated as `custom` (Python: `[RedactionType.CUSTOM.value] * withheld`).
    let mut types: Vec<String> = found
        .iter()
        .map(|&t| {
            if t == walk::WITHHELD_TYPE {
                "custom"
            } else {
                t
            }
            .to_string()
        })
        .collect();
    match last(&span.attributes, TYPES_KEY)
        .and_then(|i| span.attributes[i].value.as_ref())
        .and_then(|v| v.value.as_ref())
    {
        Some(Value::ArrayValue(array)) => {
            for item in &array.values {
                if let Some(Value::StringValue(s)) = item.value.as_ref() {
                    types.push(s.clone());
                }
            }
        }
        // Python iterates what it finds: a string's characters, a mapping's keys.
        Some(Value::StringValue(s)) => types.extend(s.chars().map(String::from)),
        Some(Value::KvlistValue(kvlist)) => {
            types.extend(kvlist.values.iter().map(|kv| kv.key.clone()))
        }
        _ => {}
    }
    types.sort();
    types.dedup();
    let count = previous_count.saturating_add(found.len() as i64);
    set_last(&mut span.attributes, COUNT_KEY, Value::IntValue(count));
    let array = ArrayValue {
        values: types
            .into_iter()
            .map(|t| AnyValue {
                value: Some(Value::StringValue(t)),
            })
            .collect(),
    };
    set_last(&mut span.attributes, TYPES_KEY, Value::ArrayValue(array));
}

fn set_last(attributes: &mut Vec<KeyValue>, key: &str, value: Value) {
    match attributes.iter().rposition(|kv| kv.key == key) {
        Some(i) => attributes[i].value = Some(AnyValue { value: Some(value) }),
        None => attributes.push(KeyValue {
            key: key.to_string(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }),
    }
}
