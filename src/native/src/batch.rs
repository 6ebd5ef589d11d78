//! One decoded OTLP trace export request, shared by every native stage.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use std::collections::BTreeMap;

use prost::Message;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

static EMPTY_RESOURCE: Resource = Resource {
    attributes: Vec::new(),
    dropped_attributes_count: 0,
    entity_refs: Vec::new(),
};
static EMPTY_SCOPE: InstrumentationScope = InstrumentationScope {
    name: String::new(),
    version: String::new(),
    attributes: Vec::new(),
    dropped_attributes_count: 0,
};

/// A decoded `ExportTraceServiceRequest`; stages edit it in place, `encode` serializes it once at the end.
#[pyclass(module = "genai_lens_native")]
pub struct Batch {
    pub request: ExportTraceServiceRequest,
}

impl Batch {
    /// Visit every span in request order with its resource and scope (empty ones when absent).
    pub fn for_each_span_mut(
        &mut self,
        mut visit: impl FnMut(usize, &Resource, &InstrumentationScope, &mut Span),
    ) {
        let mut index = 0;
        for resource_spans in &mut self.request.resource_spans {
            let resource = resource_spans.resource.as_ref().unwrap_or(&EMPTY_RESOURCE);
            for scope_spans in &mut resource_spans.scope_spans {
                let scope = scope_spans.scope.as_ref().unwrap_or(&EMPTY_SCOPE);
                for span in &mut scope_spans.spans {
                    visit(index, resource, scope, span);
                    index += 1;
                }
            }
        }
    }

    /// Every span in request order, mutable, with its resource and scope.
    pub fn spans_mut(&mut self) -> Vec<(&Resource, &InstrumentationScope, &mut Span)> {
        let mut out = Vec::new();
        for resource_spans in &mut self.request.resource_spans {
            let resource = resource_spans.resource.as_ref().unwrap_or(&EMPTY_RESOURCE);
            for scope_spans in &mut resource_spans.scope_spans {
                let scope = scope_spans.scope.as_ref().unwrap_or(&EMPTY_SCOPE);
                for span in &mut scope_spans.spans {
                    out.push((resource, scope, span));
                }
            }
        }
        out
    }
}

#[pymethods]
impl Batch {
    /// Decode OTLP/protobuf bytes; malformed input raises `ValueError` with the decoder's message.
    #[new]
    fn new(data: &[u8]) -> PyResult<Self> {
        // With the GIL held: releasing it around decode and encode raised serve's wall rate a little but
        // cost more CPU per span in GIL hand-offs between the receiver threads (bench/README.md).
        ExportTraceServiceRequest::decode(data)
            .map(|request| Batch { request })
            .map_err(|err| PyValueError::new_err(format!("malformed OTLP protobuf: {err}")))
    }

    /// The request serialized back to OTLP/protobuf.
    fn encode<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let data = self.request.encode_to_vec();
        PyBytes::new(py, &data)
    }

    /// Drop spans whose ids are unusable; return `(rejected_count, error_message)` for OTLP partial success.
    ///
    /// Same rules and message text as `otlp_codec.reject_invalid_spans` (the Python path), so both paths
    /// answer a sender alike.
    fn reject_invalid_spans(&mut self) -> (usize, String) {
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        for resource_spans in &mut self.request.resource_spans {
            for scope_spans in &mut resource_spans.scope_spans {
                scope_spans.spans.retain(|span| match id_problem(span) {
                    Some(problem) => {
                        *reasons.entry(problem).or_default() += 1;
                        false
                    }
                    None => true,
                });
            }
        }
        let rejected: usize = reasons.values().sum();
        if rejected == 0 {
            return (0, String::new());
        }
        let parts: Vec<String> = reasons
            .iter()
            .map(|(reason, count)| format!("{count} span(s): {reason}"))
            .collect();
        (
            rejected,
            format!("rejected {rejected} span(s): {}", parts.join("; ")),
        )
    }

    /// Number of spans in the request.
    fn span_count(&self) -> usize {
        self.request
            .resource_spans
            .iter()
            .flat_map(|r| r.scope_spans.iter())
            .map(|s| s.spans.len())
            .sum()
    }
}

/// Why a span's ids are unusable, or `None` (the first problem in trace id, span id, parent id order).
fn id_problem(span: &Span) -> Option<String> {
    check_id("trace_id", &span.trace_id, 16, false)
        .or_else(|| check_id("span_id", &span.span_id, 8, false))
        .or_else(|| check_id("parent_span_id", &span.parent_span_id, 8, true))
}

fn check_id(field: &str, value: &[u8], length: usize, optional: bool) -> Option<String> {
    if optional && value.is_empty() {
        return None;
    }
    if value.len() != length {
        return Some(format!(
            "invalid {field} length (got {} bytes, want {length})",
            value.len()
        ));
    }
    if value.iter().all(|&b| b == 0) {
        return Some(format!("invalid {field} (all zeros)"));
    }
    None
}
