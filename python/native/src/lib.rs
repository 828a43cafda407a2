//! The `arielml._native` Python module: the same kernels the firmware runs, for host checks.
use pyo3::prelude::*;

/// Version of the native kernels, so Python can check it loaded the extension it was built with.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(version, m)?)?;
    Ok(())
}
