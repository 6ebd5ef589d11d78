//! The `normalize` stage (`genai_lens/processor/normalize/stage.py`) over a decoded request.
//!
//! Per span: detect the dialect from marker keys (a non-GenAI span is only scanned), run that dialect's
//! mapper, then the shared pass (provider and finish-reason values, `{operation} {model}` span name,
//! originals dropped when `keep_original` is off, source dialect recorded). Every dialect is ported. A span
//! this port does not reproduce exactly (a repeated key, a point where Python raises, a value rule not
//! modelled such as `str()` of a container) is restored to how it came and reported back, so the Python
//! stage handles it: the output is the Python stage's either way.

pub mod anthropic_native;
pub mod detect;
pub mod fast;
pub mod genai_otel;
pub mod mapping;
pub mod openinference;
pub mod openlit;
pub mod openllmetry;
pub mod openllmetry_legacy;
pub mod otel_genai_legacy;
pub mod pyjson;
pub mod pyvalue;
pub mod vercel_ai;
pub mod view;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::batch::Batch;
use detect::{detect, Dialect, SOURCE_DIALECT};
use mapping::{
    normalize_finish_reason, normalize_finish_reasons, normalize_provider, set_span_name, str_list,
    Edit, FINISH_REASONS, PROVIDER,
};
use pyvalue::{as_str_list, Fallback, PV, R};
use view::View;

/// The stage's config, from the same plain values `NormalizeStage` takes.
#[pyclass(module = "genai_lens_native", frozen)]
pub struct Normalizer {
    keep_original: bool,
    rename_spans: bool,
    enabled: [bool; 9],
}

#[pymethods]
impl Normalizer {
    /// `dialects=None` enables all of them; an unknown dialect name raises ValueError.
    #[new]
    #[pyo3(signature = (*, keep_original=true, rename_spans=true, dialects=None))]
    fn new(
        keep_original: bool,
        rename_spans: bool,
        dialects: Option<Vec<String>>,
    ) -> PyResult<Self> {
        let mut enabled = [dialects.is_none(); 9];
        for name in dialects.unwrap_or_default() {
            let dialect = Dialect::from_name(&name)
                .ok_or_else(|| PyValueError::new_err(format!("unknown dialect {name:?}")))?;
            enabled[dialect as usize] = true;
        }
        Ok(Normalizer {
            keep_original,
            rename_spans,
            enabled,
        })
    }

    /// The dialect names this port maps natively (all of `ALL_DIALECTS`).
    #[staticmethod]
    fn ported_dialects() -> Vec<&'static str> {
        detect::ALL.iter().copied().map(Dialect::name).collect()
    }
}

/// What one request's pass did: spans normalized per dialect, value fixes per kind, and the spans left
/// for the Python stage.
#[derive(Default)]
struct Outcome {
    counts: [u64; 9],
    fixes: Vec<(&'static str, u64)>,
    fallback: Vec<usize>,
}

impl Normalizer {
    fn run_span(&self, span: &mut Span, scope_name: &str, index: usize, out: &mut Outcome) {
        let Some(dialect) = detect(&span.attributes, scope_name) else {
            return;
        };
        if !self.enabled[dialect as usize] {
            return; // dialect switched off in the config: leave the span as it came
        }
        // OpenLIT may delete a key before the last failure point, which `rollback` cannot undo: copy it.
        let backup = (dialect == Dialect::OpenLit).then(|| span.attributes.clone());
        let failed = {
            let Some(mut view) = View::new(span) else {
                out.fallback.push(index); // a repeated key
                return;
            };
            match self.normalize_span(&mut view, dialect) {
                Ok(Some(notes)) => {
                    out.counts[dialect as usize] += 1;
                    for note in notes {
                        match out.fixes.iter_mut().find(|(n, _)| *n == note) {
                            Some(slot) => slot.1 += 1,
                            None => out.fixes.push((note, 1)),
                        }
                    }
                    false
                }
                Ok(None) => false,
                Err(Fallback(_)) => {
                    view.rollback();
                    true
                }
            }
        };
        if failed {
            if let Some(attributes) = backup {
                span.attributes = attributes;
            }
            out.fallback.push(index);
        }
    }

    /// `NormalizeStage._normalize` after detection: whether the span was normalized (and counted). Every
    /// failure point comes before the span name changes or keys are deleted, so `rollback` restores it.
    fn normalize_span(&self, view: &mut View, dialect: Dialect) -> R<Option<Vec<&'static str>>> {
        let mut edit = Edit::new(view);
        match dialect {
            Dialect::OtelGenai => {}
            Dialect::OpenLLMetry => openllmetry::normalize(&mut edit)?,
            Dialect::OpenLLMetryLegacy => openllmetry_legacy::normalize(&mut edit)?,
            Dialect::OpenInference => openinference::normalize(&mut edit)?,
            Dialect::OtelGenaiLegacy => otel_genai_legacy::normalize(&mut edit)?,
            Dialect::OpenLit => openlit::normalize(&mut edit)?,
            Dialect::GenaiOtel => genai_otel::normalize(&mut edit)?,
            Dialect::VercelAi => vercel_ai::normalize(&mut edit)?,
            Dialect::AnthropicNative => anthropic_native::normalize(&mut edit)?,
        }
        if !edit.view.contains(mapping::OPERATION)
            && !edit.view.contains(PROVIDER)
            && edit.consumed.is_empty()
            && edit.notes.is_empty()
        {
            return Ok(None); // e.g. an OpenInference CHAIN span: nothing GenAI about it
        }
        fix_values(&mut edit)?;
        let Edit {
            view,
            consumed,
            notes,
            ..
        } = edit;
        if self.rename_spans {
            set_span_name(view);
        }
        if !self.keep_original && !consumed.is_empty() {
            view.delete_many(&consumed);
        }
        view.set_str(SOURCE_DIALECT, dialect.name());
        Ok(Some(notes))
    }
}

/// `fix_values`: OTel's provider vocabulary and finish reasons (fixed in place in a string array).
fn fix_values(edit: &mut Edit) -> R<()> {
    if let Some(provider) = edit.view.get_str(PROVIDER) {
        if let Some(normalized) = normalize_provider(Some(provider)) {
            if !normalized.is_empty() && normalized != provider {
                edit.view.set_str(PROVIDER, &normalized);
            }
        }
    }
    if let Some(PV::List(written)) = &edit.written_finish {
        if written
            .iter()
            .all(|r| matches!(r, PV::Str(s) if normalize_finish_reason(s) == *s))
        {
            return Ok(()); // the mapper wrote them normalized
        }
    }
    let Some(pos) = edit.view.position(FINISH_REASONS) else {
        return Ok(());
    };
    if let Some(Value::ArrayValue(array)) = edit.view.span.attributes[pos]
        .value
        .as_mut()
        .and_then(|v| v.value.as_mut())
    {
        for item in &mut array.values {
            if let Some(Value::StringValue(s)) = item.value.as_mut() {
                let fixed = normalize_finish_reason(s);
                if fixed != *s {
                    *s = fixed;
                }
            }
        }
        return Ok(());
    }
    let values = normalize_finish_reasons(as_str_list(&edit.view.get(FINISH_REASONS))?);
    let value = match str_list(values) {
        PV::None => PV::List(Vec::new()),
        list => list,
    };
    edit.view.set(FINISH_REASONS, value)
}

#[pymethods]
impl Batch {
    /// Normalize every span in place. Returns `(counts, fixes, fallback)`: spans normalized per dialect
    /// name, value fixes per kind, and the request-order indexes of spans left untouched for the Python
    /// stage to process.
    #[allow(clippy::type_complexity)]
    fn normalize(
        &mut self,
        py: Python<'_>,
        normalizer: &Normalizer,
    ) -> PyResult<(
        Vec<(&'static str, u64)>,
        Vec<(&'static str, u64)>,
        Vec<usize>,
    )> {
        let outcome = py.detach(|| {
            let mut out = Outcome::default();
            self.for_each_span_mut(|index, _resource, scope, span| {
                normalizer.run_span(span, &scope.name, index, &mut out)
            });
            out
        });
        let counts = detect::ALL
            .iter()
            .filter(|d| outcome.counts[**d as usize] > 0)
            .map(|d| (d.name(), outcome.counts[*d as usize]))
            .collect();
        Ok((counts, outcome.fixes, outcome.fallback))
    }

    /// The span at request-order `index` as OTLP `Span` bytes, with its scope name (for the Python stage).
    fn normalize_span_bytes<'py>(
        &mut self,
        py: Python<'py>,
        index: usize,
    ) -> PyResult<(Bound<'py, PyBytes>, String)> {
        let mut found: Option<(Vec<u8>, String)> = None;
        self.for_each_span_mut(|i, _resource, scope, span| {
            if i == index {
                found = Some((span.encode_to_vec(), scope.name.clone()));
            }
        });
        let (data, scope) =
            found.ok_or_else(|| PyIndexError::new_err("span index out of range"))?;
        Ok((PyBytes::new(py, &data), scope))
    }

    /// Replace the span at `index` with decoded OTLP `Span` bytes (the Python stage's result).
    fn normalize_replace_span(&mut self, index: usize, data: &[u8]) -> PyResult<()> {
        let replacement = Span::decode(data)
            .map_err(|err| PyValueError::new_err(format!("malformed OTLP span: {err}")))?;
        let mut slot = Some(replacement);
        self.for_each_span_mut(|i, _resource, _scope, span| {
            if i == index {
                if let Some(new) = slot.take() {
                    *span = new;
                }
            }
        });
        if slot.is_some() {
            return Err(PyIndexError::new_err("span index out of range"));
        }
        Ok(())
    }
}
