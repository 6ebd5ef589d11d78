//! Bulk reads and writes on a [`NativeSpanView`]: the Python stages (cost, anomaly) read a dozen keys
//! and write up to seven per GenAI span, and one Rust call per key costs more than the lookup itself.
//! `get_many` / `set_many` do the same as repeated `get` / `set` (same values, same positions), in one
//! call with the batch borrowed once.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use super::{convert, position, put, NativeSpanView};

#[pymethods]
impl NativeSpanView {
    /// `tuple(view.get(key, default) for key in keys)`: `default` for an absent key, `None` for a key
    /// present without a value.
    #[pyo3(signature = (keys, default=None))]
    fn get_many<'py>(
        &self,
        py: Python<'py>,
        keys: &Bound<'py, PyTuple>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let default = default.unwrap_or_else(|| py.None().into_bound(py));
        self.read(py, |span| {
            let mut values = Vec::with_capacity(keys.len());
            for key in keys.iter() {
                let key = key.cast::<PyString>()?.to_str()?;
                values.push(match position(&span.attributes, key) {
                    Some(i) => convert::to_python(py, span.attributes[i].value.as_ref())?,
                    None => default.clone(),
                });
            }
            PyTuple::new(py, values)
        })
    }

    /// `[(view, view.get_many(keys, default)) for view in views if any(k in view for k in keys[:present])]`
    /// in one call: a stage's read of the spans it works on (GenAI spans: an operation or a provider),
    /// skipping the others without a Python round trip each. An item that is not a native view is read
    /// through its own `get_many`, so any sequence of views gives the same answer.
    #[staticmethod]
    #[pyo3(signature = (views, keys, default, present))]
    fn read_present<'py>(
        py: Python<'py>,
        views: &Bound<'py, PyAny>,
        keys: &Bound<'py, PyTuple>,
        default: Bound<'py, PyAny>,
        present: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let names: Vec<String> = keys
            .iter()
            .map(|key| Ok(key.cast::<PyString>()?.to_str()?.to_owned()))
            .collect::<PyResult<_>>()?;
        let present = present.min(names.len());
        let out = PyList::empty(py);
        for item in views.try_iter()? {
            let item = item?;
            let Ok(view) = item.cast::<NativeSpanView>() else {
                let values = item.call_method1("get_many", (keys, &default))?;
                let values = values.cast_into::<PyTuple>()?;
                let found = (0..present).any(|i| values.get_item(i).is_ok_and(|v| !v.is(&default)));
                if found {
                    out.append((item, values))?;
                }
                continue;
            };
            let values = view.get().read(py, |span| {
                let attributes = &span.attributes;
                if !names[..present]
                    .iter()
                    .any(|k| attributes.iter().any(|kv| kv.key == *k))
                {
                    return Ok(None);
                }
                let mut values = Vec::with_capacity(names.len());
                for key in &names {
                    values.push(match position(attributes, key) {
                        Some(i) => convert::to_python(py, attributes[i].value.as_ref())?,
                        None => default.clone(),
                    });
                }
                Ok(Some(PyTuple::new(py, values)?))
            })?;
            if let Some(values) = values {
                out.append((view, values))?;
            }
        }
        Ok(out)
    }

    /// `for key, value in zip(keys, values): view.set(key, value)`, with every value converted before
    /// the span is touched (a bad value raises and leaves the span as it was).
    fn set_many(
        &self,
        py: Python<'_>,
        keys: &Bound<'_, PyTuple>,
        values: &Bound<'_, PyTuple>,
    ) -> PyResult<()> {
        if keys.len() != values.len() {
            return Err(PyValueError::new_err(
                "set_many: keys and values differ in length",
            ));
        }
        let mut names = Vec::with_capacity(keys.len());
        let mut converted = Vec::with_capacity(keys.len());
        for (key, value) in keys.iter().zip(values.iter()) {
            names.push(key.cast_into::<PyString>()?);
            converted.push(convert::from_python(&value)?);
        }
        let names = names
            .iter()
            .map(|key| key.to_str())
            .collect::<PyResult<Vec<&str>>>()?;
        self.write(py, |span| {
            span.attributes.reserve(names.len());
            for (key, value) in names.into_iter().zip(converted) {
                put(&mut span.attributes, key, value);
            }
        })
    }
}
