//! The `arielml._native` Python module: the same kernels the firmware runs, for host checks.
//!
//! Arrays cross the boundary as `bytes` (numpy's `tobytes()`, native endianness) and small
//! per-channel tables as lists; `arielml.kernels` hides this behind numpy in, numpy out.
//! Every kernel takes an optional tile and an optional initial output so Python can
//! assemble one output from several tiles exactly as cores would.
use pyo3::prelude::*;

mod bind_act;
mod bind_conv;
mod bind_gemm;
mod bind_misc;
mod bind_params;
mod bind_shape;

/// Version of the native kernels, so Python can check it loaded the extension it was built with.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(version, m)?)?;
    bind_conv::register(m)?;
    bind_gemm::register(m)?;
    bind_misc::register(m)?;
    bind_act::register(m)?;
    bind_shape::register(m)?;
    bind_params::register(m)?;
    Ok(())
}
