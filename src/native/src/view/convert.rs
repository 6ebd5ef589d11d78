//! OTLP `AnyValue` ⇄ plain Python values, with the same rules as `span_view.any_to_python` /
//! `python_to_any`, so a Python stage sees the same values on a native view as on a upb one.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// The Python value an attribute holds: `None` for an absent or empty value, lists for arrays, dicts
/// for key-value lists (a repeated key: the last one wins, as in a dict comprehension).
pub fn to_python<'py>(py: Python<'py>, value: Option<&AnyValue>) -> PyResult<Bound<'py, PyAny>> {
    let Some(value) = value.and_then(|v| v.value.as_ref()) else {
        return Ok(py.None().into_bound(py));
    };
    Ok(match value {
        Value::StringValue(s) => PyString::new(py, s).into_any(),
        Value::IntValue(i) => i.into_pyobject(py)?.into_any(),
        Value::DoubleValue(f) => PyFloat::new(py, *f).into_any(),
        Value::BoolValue(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::BytesValue(b) => PyBytes::new(py, b).into_any(),
        Value::ArrayValue(array) => {
            let list = PyList::empty(py);
            for item in &array.values {
                list.append(to_python(py, Some(item))?)?;
            }
            list.into_any()
        }
        Value::KvlistValue(kvlist) => {
            let dict = PyDict::new(py);
            for kv in &kvlist.values {
                dict.set_item(kv.key.as_str(), to_python(py, kv.value.as_ref())?)?;
            }
            dict.into_any()
        }
        // a string-table index needs the request's dictionary: any_to_python reads it as None too
        Value::StringValueStrindex(_) => py.None().into_bound(py),
    })
}

/// The `AnyValue` for a Python value (`None` → an empty one); `TypeError` on a type OTLP cannot hold.
///
/// Checked in `python_to_any`'s order: `bool` before `int`, since `True` is an `int`. The whole value is
/// converted before the span is touched, so a bad item in a list leaves the attribute as it was.
pub fn from_python(value: &Bound<'_, PyAny>) -> PyResult<AnyValue> {
    Ok(AnyValue {
        value: value_from_python(value)?,
    })
}

fn value_from_python(value: &Bound<'_, PyAny>) -> PyResult<Option<Value>> {
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(Some(Value::StringValue(s.to_str()?.to_owned())));
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(Some(Value::BoolValue(b.is_true())));
    }
    if let Ok(i) = value.cast::<PyInt>() {
        return match i.extract::<i64>() {
            Ok(i) => Ok(Some(Value::IntValue(i))),
            Err(_) => Err(PyValueError::new_err(format!("Value out of range: {i}"))),
        };
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        return Ok(Some(Value::DoubleValue(f.value())));
    }
    if let Ok(b) = value.cast::<PyBytes>() {
        return Ok(Some(Value::BytesValue(b.as_bytes().to_vec())));
    }
    if let Ok(list) = value.cast::<PyList>() {
        let values = list
            .iter()
            .map(|item| from_python(&item))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(Some(Value::ArrayValue(ArrayValue { values })));
    }
    if let Ok(tuple) = value.cast::<PyTuple>() {
        let values = tuple
            .iter()
            .map(|item| from_python(&item))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(Some(Value::ArrayValue(ArrayValue { values })));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut values = Vec::with_capacity(dict.len());
        for (key, item) in dict.iter() {
            let Ok(key) = key.cast::<PyString>() else {
                return Err(PyTypeError::new_err(format!(
                    "attribute map keys must be str, got {}",
                    key.get_type().name()?
                )));
            };
            values.push(KeyValue {
                key: key.to_str()?.to_owned(),
                value: Some(from_python(&item)?),
                ..Default::default()
            });
        }
        return Ok(Some(Value::KvlistValue(KeyValueList { values })));
    }
    if value.is_none() {
        return Ok(None);
    }
    Err(PyTypeError::new_err(format!(
        "unsupported attribute value type: {}",
        value.get_type().name()?
    )))
}
