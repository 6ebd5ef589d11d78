//! Attribute values as the Python stage sees them (`any_to_python`), with Python's coercion rules.
//!
//! The normalizer's output depends on Python value semantics (`str()` of a number, `float("1e3")`,
//! truthiness, dict insertion order with last-write-wins), so the values are modelled as Python values and
//! every rule that is not reproduced exactly raises [`Fallback`]: the span then goes to the Python stage.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList};

/// A case the native port does not reproduce bit for bit (or where Python raises): hand the span to Python.
#[derive(Debug, Clone, Copy)]
pub struct Fallback(pub &'static str);

pub type R<T> = Result<T, Fallback>;

/// A plain Python value (`str | bool | int | float | bytes | list | dict | None`).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum PV {
    #[default]
    None,
    Bool(bool),
    Int(i64),
    /// An integer outside int64 (only JSON text produces one): its decimal text, as `str(int)` writes it.
    BigInt(String),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<PV>),
    /// Insertion-ordered; a repeated key replaces the value in place, like a Python dict.
    Dict(Vec<(String, PV)>),
}

impl PV {
    pub fn s(text: &str) -> PV {
        PV::Str(text.to_string())
    }

    pub fn as_str_ref(&self) -> Option<&str> {
        match self {
            PV::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, PV::None)
    }

    /// Python truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            PV::None => false,
            PV::Bool(b) => *b,
            PV::Int(i) => *i != 0,
            PV::BigInt(_) => true,
            PV::Float(f) => *f != 0.0,
            PV::Str(s) => !s.is_empty(),
            PV::Bytes(b) => !b.is_empty(),
            PV::List(l) => !l.is_empty(),
            PV::Dict(d) => !d.is_empty(),
        }
    }

    /// What `put`/`copy` refuse: `value is None or value == "" or value == []`.
    pub fn is_blank(&self) -> bool {
        match self {
            PV::None => true,
            PV::Str(s) => s.is_empty(),
            PV::List(l) => l.is_empty(),
            _ => false,
        }
    }

    /// `dict.get(key)` (None when absent or not a dict).
    pub fn get(&self, key: &str) -> Option<&PV> {
        match self {
            PV::Dict(items) => dict_get(items, key),
            _ => None,
        }
    }
}

pub fn dict_get<'a>(items: &'a [(String, PV)], key: &str) -> Option<&'a PV> {
    items.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// `d[key] = value`: replaced in place when present, appended otherwise.
pub fn dict_set(items: &mut Vec<(String, PV)>, key: &str, value: PV) {
    if let Some(slot) = items.iter_mut().find(|(k, _)| k == key) {
        slot.1 = value;
    } else {
        items.push((key.to_string(), value));
    }
}

/// A dict builder for the message schema objects.
pub fn dict(items: Vec<(&str, PV)>) -> PV {
    PV::Dict(items.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

// -- OTLP <-> Python ------------------------------------------------------------------------------------

/// `any_to_python`.
pub fn from_any(value: Option<&AnyValue>) -> PV {
    match value.and_then(|v| v.value.as_ref()) {
        None => PV::None,
        Some(v) => from_value(v),
    }
}

pub fn from_value(value: &Value) -> PV {
    match value {
        Value::StringValue(s) => PV::Str(s.clone()),
        Value::BoolValue(b) => PV::Bool(*b),
        Value::IntValue(i) => PV::Int(*i),
        Value::DoubleValue(f) => PV::Float(*f),
        Value::BytesValue(b) => PV::Bytes(b.clone()),
        Value::ArrayValue(a) => PV::List(a.values.iter().map(|v| from_any(Some(v))).collect()),
        Value::KvlistValue(kv) => {
            let mut items = Vec::with_capacity(kv.values.len());
            for item in &kv.values {
                dict_set(&mut items, &item.key, from_any(item.value.as_ref()));
            }
            PV::Dict(items)
        }
        #[allow(unreachable_patterns)]
        _ => PV::None,
    }
}

/// `python_to_any` into a fresh `AnyValue` (`None` clears it: an empty `AnyValue`); the value is moved.
pub fn into_any(value: PV) -> R<AnyValue> {
    let inner = match value {
        PV::None => None,
        PV::Str(s) => Some(Value::StringValue(s)),
        PV::Bool(b) => Some(Value::BoolValue(b)),
        PV::Int(i) => Some(Value::IntValue(i)),
        PV::BigInt(_) => return Err(Fallback("int out of int64 range")),
        PV::Float(f) => Some(Value::DoubleValue(f)),
        PV::Bytes(b) => Some(Value::BytesValue(b)),
        PV::List(items) => Some(Value::ArrayValue(ArrayValue {
            values: items.into_iter().map(into_any).collect::<R<_>>()?,
        })),
        PV::Dict(items) => {
            let mut values = Vec::with_capacity(items.len());
            for (k, v) in items {
                values.push(KeyValue {
                    key: k,
                    value: Some(into_any(v)?),
                    ..Default::default()
                });
            }
            Some(Value::KvlistValue(KeyValueList { values }))
        }
    };
    Ok(AnyValue { value: inner })
}

// -- str() ----------------------------------------------------------------------------------------------

/// Python's `repr(float)`: `nan` and `inf` spelled as `repr` does, finite values as `json.dumps` writes them.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    crate::pyjson::finite_float_repr(f)
}

/// `str(value)` for the scalar types; containers and bytes (Python `repr`) are left to Python.
pub fn py_str(value: &PV) -> R<String> {
    Ok(match value {
        PV::None => "None".into(),
        PV::Bool(true) => "True".into(),
        PV::Bool(false) => "False".into(),
        PV::Int(i) => i.to_string(),
        PV::BigInt(text) => text.clone(),
        PV::Float(f) => float_repr(*f),
        PV::Str(s) => s.clone(),
        PV::Bytes(_) | PV::List(_) | PV::Dict(_) => return Err(Fallback("repr of a container")),
    })
}

// -- text helpers with Python's Unicode rules ----------------------------------------------------------

/// `str.isspace()`: Rust's White_Space plus the information separators U+001C..U+001F.
pub fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `str.strip()`.
pub fn py_strip(text: &str) -> &str {
    text.trim_matches(py_isspace)
}

/// `str.lower()` (ASCII fast path).
pub fn py_lower(text: &str) -> String {
    if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.to_lowercase()
    }
}

/// `float(text)` for a string; `Ok(None)` where Python raises ValueError, Fallback where the grammars differ.
pub fn py_float_of_str(text: &str) -> R<Option<f64>> {
    let t = py_strip(text);
    if !t.is_ascii() || t.contains('_') {
        return Err(Fallback("float() of non-ASCII or underscored text"));
    }
    Ok(t.parse::<f64>().ok())
}

// -- coercions (mapping.as_*) ---------------------------------------------------------------------------

const I64_LOW: f64 = -9_223_372_036_854_775_808.0;
const I64_HIGH: f64 = 9_223_372_036_854_775_808.0;

fn whole_float_to_int(f: f64) -> Option<i64> {
    if f.is_finite() && f.fract() == 0.0 && (I64_LOW..I64_HIGH).contains(&f) {
        Some(f as i64)
    } else {
        None
    }
}

pub fn as_int(value: &PV) -> R<PV> {
    Ok(match value {
        PV::Int(i) => PV::Int(*i),
        PV::Float(f) => whole_float_to_int(*f).map_or(PV::None, PV::Int),
        PV::Str(s) => py_float_of_str(s)?
            .and_then(whole_float_to_int)
            .map_or(PV::None, PV::Int),
        _ => PV::None,
    })
}

pub fn as_float(value: &PV) -> R<PV> {
    Ok(match value {
        PV::Int(i) => PV::Float(*i as f64),
        PV::BigInt(text) => {
            let f: f64 = text.parse().map_err(|_| Fallback("float of big int"))?;
            if f.is_infinite() {
                return Err(Fallback("int too large to convert to float"));
            }
            PV::Float(f)
        }
        PV::Float(f) => PV::Float(*f),
        PV::Str(s) => py_float_of_str(s)?.map_or(PV::None, PV::Float),
        _ => PV::None,
    })
}

pub fn as_bool(value: &PV) -> PV {
    match value {
        PV::Bool(b) => PV::Bool(*b),
        PV::Str(s) => match py_lower(s).as_str() {
            "true" => PV::Bool(true),
            "false" => PV::Bool(false),
            _ => PV::None,
        },
        _ => PV::None,
    }
}

/// `as_str`: strings as they are, scalars through `str()`, anything else `None`.
pub fn as_str(value: &PV) -> R<Option<String>> {
    Ok(match value {
        PV::Str(s) => Some(s.clone()),
        PV::Bool(_) | PV::Int(_) | PV::BigInt(_) | PV::Float(_) => Some(py_str(value)?),
        _ => None,
    })
}

/// `as_str_list`.
pub fn as_str_list(value: &PV) -> R<Option<Vec<String>>> {
    match value {
        PV::Str(s) => {
            if s.starts_with('[') {
                if let PV::List(items) = super::pyjson::parse_json(s)? {
                    return Ok(Some(items.iter().map(py_str).collect::<R<_>>()?));
                }
            }
            Ok(Some(vec![s.clone()]))
        }
        PV::List(items) => Ok(Some(
            items
                .iter()
                .filter(|v| !v.is_none())
                .map(py_str)
                .collect::<R<_>>()?,
        )),
        _ => Ok(None),
    }
}

/// Python `==` between two hashable values (numbers compare across int/float/bool); containers raise
/// TypeError when hashed, which the callers turn into a fallback before comparing.
pub fn py_eq(a: &PV, b: &PV) -> bool {
    fn num(v: &PV) -> Option<f64> {
        match v {
            PV::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            PV::Float(f) => Some(*f),
            _ => None,
        }
    }
    match (a, b) {
        (PV::None, PV::None) => true,
        (PV::Str(x), PV::Str(y)) => x == y,
        (PV::Bytes(x), PV::Bytes(y)) => x == y,
        (PV::BigInt(x), PV::BigInt(y)) => x == y,
        (PV::Int(x), PV::Int(y)) => x == y,
        (PV::Bool(x), PV::Bool(y)) => x == y,
        (PV::Int(i), other) | (other, PV::Int(i)) => match other {
            PV::Bool(b) => *i == i64::from(*b),
            PV::Float(f) => int_eq_float(*i, *f),
            _ => false,
        },
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

/// Exact `int == float` (Python compares mathematically, not after rounding the int).
fn int_eq_float(i: i64, f: f64) -> bool {
    whole_float_to_int(f) == Some(i)
}

pub fn is_hashable(v: &PV) -> bool {
    !matches!(v, PV::List(_) | PV::Dict(_))
}
