//! Native core of the `genai-lens serve` pipeline.
//!
//! One OTLP export request is decoded once into a [`batch::Batch`], the per-span stages that have a native
//! implementation run over the decoded messages, and the request is encoded once. Python keeps the
//! orchestration, configuration and state; the work per attribute value happens here.

use pyo3::prelude::*;

pub mod batch;
pub mod normalize;
pub mod pyjson;
pub mod redact;
pub mod values;
pub mod view;

#[pymodule]
fn genai_lens_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<batch::Batch>()?;
    m.add_class::<normalize::Normalizer>()?;
    m.add_class::<redact::Redactor>()?;
    m.add_class::<view::NativeSpanView>()?;
    m.add_class::<view::NativeStatus>()?;
    m.add_class::<view::NativeScope>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
