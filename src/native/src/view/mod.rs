//! A Python `SpanView` over one span of a native [`Batch`], so the Python stages (cost, anomaly) run
//! unchanged on spans the native core decoded, at a fraction of upb's cost per attribute.
//!
//! The view holds the batch and the span's position, and borrows the batch for each call: the stage logic
//! stays in Python, written once, while every attribute read or write is one Rust call. Lookups are linear
//! scans from the end (OTLP attribute lists are short), so a repeated key resolves to its last occurrence,
//! as in the upb view's index.

mod bulk;
mod convert;

use std::collections::HashSet;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyIterator, PyList, PyString, PyTuple};

use crate::batch::Batch;

/// `Status.STATUS_CODE_ERROR` of the OTLP trace proto.
const STATUS_CODE_ERROR: i32 = 2;

/// One span of a [`Batch`]: the same methods as `genai_lens.processor.span_view.SpanView`.
///
/// `span` is the view itself (it exposes the span fields stages read: `name`, `kind`, ids, times,
/// `status`), so `view.span.trace_id` works on both view classes.
#[pyclass(module = "genai_lens_native", frozen)]
pub struct NativeSpanView {
    batch: Py<Batch>,
    resource: usize,
    scope: usize,
    span: usize,
}

/// A span's status, as read by the stages (`code`, `message`), with the proto's code constants.
#[pyclass(module = "genai_lens_native", frozen, get_all)]
pub struct NativeStatus {
    code: i32,
    message: String,
}

#[pymethods]
impl NativeStatus {
    #[classattr]
    const STATUS_CODE_UNSET: i32 = 0;
    #[classattr]
    const STATUS_CODE_OK: i32 = 1;
    #[classattr]
    const STATUS_CODE_ERROR: i32 = STATUS_CODE_ERROR;
}

/// A span's instrumentation scope, as read by the stages (`view.scope.name`).
#[pyclass(module = "genai_lens_native", frozen, get_all)]
pub struct NativeScope {
    name: String,
    version: String,
}

fn stale() -> PyErr {
    PyIndexError::new_err("span view no longer refers to a span of its batch (spans were removed)")
}

/// Position of the last attribute named `key` (the one the upb view's index points at).
fn position(attributes: &[KeyValue], key: &str) -> Option<usize> {
    attributes.iter().rposition(|kv| kv.key == key)
}

impl NativeSpanView {
    fn locate<'a>(&self, request: &'a ExportTraceServiceRequest) -> PyResult<&'a Span> {
        request
            .resource_spans
            .get(self.resource)
            .and_then(|r| r.scope_spans.get(self.scope))
            .and_then(|s| s.spans.get(self.span))
            .ok_or_else(stale)
    }

    /// Run `read` on the span with the batch borrowed for the call.
    fn read<R>(&self, py: Python<'_>, read: impl FnOnce(&Span) -> PyResult<R>) -> PyResult<R> {
        let batch = self.batch.bind(py).try_borrow()?;
        read(self.locate(&batch.request)?)
    }

    /// Run `edit` on the span with the batch mutably borrowed for the call.
    fn write<R>(&self, py: Python<'_>, edit: impl FnOnce(&mut Span) -> R) -> PyResult<R> {
        let mut batch = self.batch.bind(py).try_borrow_mut()?;
        let span = batch
            .request
            .resource_spans
            .get_mut(self.resource)
            .and_then(|r| r.scope_spans.get_mut(self.scope))
            .and_then(|s| s.spans.get_mut(self.span))
            .ok_or_else(stale)?;
        Ok(edit(span))
    }

    fn status_of(span: &Span) -> (i32, &str) {
        span.status
            .as_ref()
            .map_or((0, ""), |s| (s.code, s.message.as_str()))
    }
}

/// `[(key, value), ...]` of `attributes`, in order, values converted as `get` converts them.
fn item_list<'py, 'a>(
    py: Python<'py>,
    attributes: impl Iterator<Item = &'a KeyValue>,
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for kv in attributes {
        let value = convert::to_python(py, kv.value.as_ref())?;
        list.append(PyTuple::new(
            py,
            [PyString::new(py, &kv.key).into_any(), value],
        )?)?;
    }
    Ok(list)
}

/// Replace the last `key` in place (keeping its position) or append it.
fn put(attributes: &mut Vec<KeyValue>, key: &str, value: AnyValue) {
    match position(attributes, key) {
        Some(i) => attributes[i].value = Some(value),
        None => attributes.push(KeyValue {
            key: key.to_owned(),
            value: Some(value),
            ..Default::default()
        }),
    }
}

#[pymethods]
impl NativeSpanView {
    // -- span attributes -------------------------------------------------------------------------
    fn __contains__(&self, py: Python<'_>, key: &str) -> PyResult<bool> {
        self.read(py, |span| {
            Ok(span.attributes.iter().any(|kv| kv.key == key))
        })
    }

    /// The keys, each once, in the order they first appear.
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        let list = self.read(py, |span| {
            let mut seen = HashSet::with_capacity(span.attributes.len());
            let list = PyList::empty(py);
            for kv in &span.attributes {
                if seen.insert(kv.key.as_str()) {
                    list.append(PyString::new(py, &kv.key))?;
                }
            }
            Ok(list)
        })?;
        PyIterator::from_object(&list)
    }

    #[pyo3(signature = (key, default=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &str,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.read(py, |span| match position(&span.attributes, key) {
            Some(i) => convert::to_python(py, span.attributes[i].value.as_ref()),
            None => Ok(default.unwrap_or_else(|| py.None().into_bound(py))),
        })
    }

    /// `(key, value)` of the attributes whose key starts with one of `prefixes`, in order (repeats kept):
    /// the indexed content keys, without converting the other values.
    fn prefixed_items<'py>(
        &self,
        py: Python<'py>,
        prefixes: Vec<String>,
    ) -> PyResult<Bound<'py, PyList>> {
        self.read(py, |span| {
            item_list(
                py,
                span.attributes
                    .iter()
                    .filter(|kv| prefixes.iter().any(|p| kv.key.starts_with(p.as_str()))),
            )
        })
    }

    /// Replace each string item of the array `key` by `fix(item)` where that differs (other items kept);
    /// `False` when `key` is absent or not an array. `fix` runs with the batch released.
    fn map_array_strings(
        &self,
        py: Python<'_>,
        key: &str,
        fix: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let items: Option<Vec<Option<String>>> = self.read(py, |span| {
            Ok(position(&span.attributes, key).and_then(|i| {
                match span.attributes[i].value.as_ref()?.value.as_ref()? {
                    Value::ArrayValue(array) => Some(
                        array
                            .values
                            .iter()
                            .map(|item| match &item.value {
                                Some(Value::StringValue(s)) => Some(s.clone()),
                                _ => None,
                            })
                            .collect(),
                    ),
                    _ => None,
                }
            }))
        })?;
        let Some(items) = items else {
            return Ok(false);
        };
        let mut fixed: Vec<(usize, String)> = Vec::new();
        for (n, item) in items.into_iter().enumerate() {
            if let Some(text) = item {
                let new: String = fix.call1((text.as_str(),))?.extract()?;
                if new != text {
                    fixed.push((n, new));
                }
            }
        }
        if fixed.is_empty() {
            return Ok(true);
        }
        self.write(py, |span| {
            let array = position(&span.attributes, key).and_then(|i| {
                match span.attributes[i].value.as_mut()?.value.as_mut()? {
                    Value::ArrayValue(array) => Some(array),
                    _ => None,
                }
            });
            if let Some(array) = array {
                for (n, text) in fixed {
                    if let Some(item) = array.values.get_mut(n) {
                        item.value = Some(Value::StringValue(text));
                    }
                }
            }
        })?;
        Ok(true)
    }

    /// The string value (`""` for another kind) of `key` on the first event named `event_name` that has it.
    fn event_string(
        &self,
        py: Python<'_>,
        event_name: &str,
        key: &str,
    ) -> PyResult<Option<String>> {
        self.read(py, |span| {
            Ok(span
                .events
                .iter()
                .filter(|e| e.name == event_name)
                .find_map(|event| {
                    event.attributes.iter().find(|kv| kv.key == key).map(|kv| {
                        match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                            Some(Value::StringValue(s)) => s.clone(),
                            _ => String::new(),
                        }
                    })
                }))
        })
    }

    /// Nothing to forget: values are read from the message on every call.
    fn forget_values(&self) {}

    /// `(key, value)` of every attribute in order, repeated keys included.
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        let list = self.read(py, |span| item_list(py, span.attributes.iter()))?;
        PyIterator::from_object(&list)
    }

    fn set(&self, py: Python<'_>, key: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = convert::from_python(value)?;
        self.write(py, |span| put(&mut span.attributes, key, value))
    }

    /// Set `key` only when absent; return whether it was set.
    fn set_default(&self, py: Python<'_>, key: &str, value: &Bound<'_, PyAny>) -> PyResult<bool> {
        if self.__contains__(py, key)? {
            return Ok(false);
        }
        self.set(py, key, value)?;
        Ok(true)
    }

    fn delete(&self, py: Python<'_>, key: &str) -> PyResult<bool> {
        self.write(py, |span| match position(&span.attributes, key) {
            Some(i) => {
                span.attributes.remove(i);
                true
            }
            None => false,
        })
    }

    /// Remove several keys (the last occurrence of each, like the upb view); returns how many went.
    ///
    /// The kept attributes get an explicit (possibly empty) value, as the upb view's copies do.
    fn delete_many(&self, py: Python<'_>, keys: &Bound<'_, PyAny>) -> PyResult<usize> {
        let mut wanted: Vec<String> = Vec::new();
        for key in keys.try_iter()? {
            let key = key?;
            if let Ok(key) = key.cast::<PyString>() {
                wanted.push(key.to_str()?.to_owned());
            }
        }
        self.write(py, |span| {
            let mut doomed: Vec<usize> = wanted
                .iter()
                .filter_map(|k| position(&span.attributes, k))
                .collect();
            doomed.sort_unstable();
            doomed.dedup();
            if doomed.is_empty() {
                return 0;
            }
            let mut index = 0;
            span.attributes.retain(|_| {
                let keep = doomed.binary_search(&index).is_err();
                index += 1;
                keep
            });
            for kv in &mut span.attributes {
                kv.value.get_or_insert_with(AnyValue::default);
            }
            doomed.len()
        })
    }

    // -- resource attributes ---------------------------------------------------------------------
    #[pyo3(signature = (key, default=None))]
    fn resource_get<'py>(
        &self,
        py: Python<'py>,
        key: &str,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let batch = self.batch.bind(py).try_borrow()?;
        let attributes = batch
            .request
            .resource_spans
            .get(self.resource)
            .ok_or_else(stale)?
            .resource
            .as_ref()
            .map_or(&[][..], |r| r.attributes.as_slice());
        match position(attributes, key) {
            Some(i) => convert::to_python(py, attributes[i].value.as_ref()),
            None => Ok(default.unwrap_or_else(|| py.None().into_bound(py))),
        }
    }

    /// Identifies the span's resource among the views of one batch (its position in the request).
    #[getter]
    fn resource_key(&self) -> usize {
        self.resource
    }

    // -- convenience -----------------------------------------------------------------------------
    #[getter]
    fn duration_s(&self, py: Python<'_>) -> PyResult<f64> {
        self.read(py, |span| {
            if span.end_time_unix_nano <= span.start_time_unix_nano {
                return Ok(0.0);
            }
            Ok((span.end_time_unix_nano - span.start_time_unix_nano) as f64 / 1e9)
        })
    }

    #[getter]
    fn is_error(&self, py: Python<'_>) -> PyResult<bool> {
        self.read(py, |span| Ok(Self::status_of(span).0 == STATUS_CODE_ERROR))
    }

    // -- the span's own fields (``view.span`` is the view) ----------------------------------------
    #[getter]
    fn span(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[getter]
    fn name(&self, py: Python<'_>) -> PyResult<String> {
        self.read(py, |span| Ok(span.name.clone()))
    }

    #[setter]
    fn set_name(&self, py: Python<'_>, name: String) -> PyResult<()> {
        self.write(py, |span| span.name = name)
    }

    #[getter]
    fn kind(&self, py: Python<'_>) -> PyResult<i32> {
        self.read(py, |span| Ok(span.kind))
    }

    #[getter]
    fn trace_id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        self.read(py, |span| Ok(PyBytes::new(py, &span.trace_id)))
    }

    #[getter]
    fn span_id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        self.read(py, |span| Ok(PyBytes::new(py, &span.span_id)))
    }

    #[getter]
    fn parent_span_id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        self.read(py, |span| Ok(PyBytes::new(py, &span.parent_span_id)))
    }

    #[getter]
    fn start_time_unix_nano(&self, py: Python<'_>) -> PyResult<u64> {
        self.read(py, |span| Ok(span.start_time_unix_nano))
    }

    #[getter]
    fn end_time_unix_nano(&self, py: Python<'_>) -> PyResult<u64> {
        self.read(py, |span| Ok(span.end_time_unix_nano))
    }

    #[getter]
    fn scope(&self, py: Python<'_>) -> PyResult<NativeScope> {
        let batch = self.batch.bind(py).try_borrow()?;
        let scope = batch
            .request
            .resource_spans
            .get(self.resource)
            .and_then(|r| r.scope_spans.get(self.scope))
            .ok_or_else(stale)?
            .scope
            .as_ref();
        Ok(NativeScope {
            name: scope.map_or_else(String::new, |s| s.name.clone()),
            version: scope.map_or_else(String::new, |s| s.version.clone()),
        })
    }

    #[getter]
    fn status(&self, py: Python<'_>) -> PyResult<NativeStatus> {
        self.read(py, |span| {
            let (code, message) = Self::status_of(span);
            Ok(NativeStatus {
                code,
                message: message.to_owned(),
            })
        })
    }
}

#[pymethods]
impl Batch {
    /// One view per span, in request order (the order of `genai_lens.processor.pipeline.span_views`).
    fn views<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyList>> {
        let py = slf.py();
        let mut views = Vec::new();
        {
            let batch = slf.try_borrow()?;
            for (r, resource_spans) in batch.request.resource_spans.iter().enumerate() {
                for (s, scope_spans) in resource_spans.scope_spans.iter().enumerate() {
                    for i in 0..scope_spans.spans.len() {
                        views.push((r, s, i));
                    }
                }
            }
        }
        let list = PyList::empty(py);
        for (resource, scope, span) in views {
            list.append(Bound::new(
                py,
                NativeSpanView {
                    batch: slf.clone().unbind(),
                    resource,
                    scope,
                    span,
                },
            )?)?;
        }
        Ok(list)
    }
}
