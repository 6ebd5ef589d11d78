//! Native core of the `genai-lens serve` pipeline.
//!
//! One OTLP export request is decoded once into a [`batch::Batch`], the per-span stages that have a native
//! implementation run over the decoded messages, and the request is encoded once. Python keeps the
//! orchestration, configuration and state; the work per attribute value happens here.

use pyo3::prelude::*;

pub mod batch;
pub mod values;

#[pymodule]
fn genai_lens_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<batch::Batch>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
