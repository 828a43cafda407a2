//! The kernels' parameter structs declared with `params!`, as Python sees them: their
//! field lists (from which `arielml.lower.base.params_lit` writes the firmware's struct
//! literals) and `from_words` (which every binding here uses to build them).
use arielml_kernels::activations::{LeakyReluParams, RequantizeParams, SigmoidParams};
use arielml_kernels::elementwise::ArithmeticParams;
use arielml_kernels::fully_connected::FullyConnectedParams;
use arielml_kernels::gemm::GemmFc;
use arielml_kernels::hard_swish::HardSwishParams;
use arielml_kernels::params::{Params, ParamsError};
use arielml_kernels::softmax::SoftmaxParams;
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;

/// `T` from one word per field, or the reason as a Python ValueError.
pub fn build<T: Params>(words: &[i32]) -> PyResult<T> {
    T::from_words(words).map_err(|e: ParamsError| PyValueError::new_err(e.to_string()))
}

/// Every struct declared with `params!` that a binding builds: (name, module, fields,
/// field types), and a check of words against one of them by name.
macro_rules! registry {
    ($($t:ty),* $(,)?) => {
        const STRUCTS: &[(&str, &str, &[&str], &[&str])] =
            &[$((<$t>::NAME, <$t>::PATH, <$t>::FIELDS, <$t>::TYPES)),*];

        fn check_by_name(name: &str, words: &[i32]) -> PyResult<()> {
            $(if name == <$t>::NAME {
                return build::<$t>(words).map(|_| ());
            })*
            Err(unknown(name))
        }
    };
}

registry!(
    SigmoidParams, LeakyReluParams, RequantizeParams, HardSwishParams, ArithmeticParams, SoftmaxParams,
    FullyConnectedParams, GemmFc,
);

fn unknown(name: &str) -> PyErr {
    PyKeyError::new_err(format!("no parameter struct {name} (declared with params! and listed in bind_params.rs)"))
}

/// (name, (module path, field names, field types)) of every parameter struct.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn param_structs() -> Vec<(&'static str, (&'static str, Vec<&'static str>, Vec<&'static str>))> {
    STRUCTS.iter().map(|&(n, p, f, t)| (n, (p, f.to_vec(), t.to_vec()))).collect()
}

/// Field names of struct `name`, in the order `from_words` reads them.
#[pyfunction]
fn param_fields(name: &str) -> PyResult<Vec<&'static str>> {
    STRUCTS.iter().find(|s| s.0 == name).map(|s| s.2.to_vec()).ok_or_else(|| unknown(name))
}

/// Raises ValueError unless `words` make struct `name` (`from_words`: count and ranges).
#[pyfunction]
fn check_params(name: &str, words: Vec<i32>) -> PyResult<()> {
    check_by_name(name, &words)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(param_structs, m)?)?;
    m.add_function(wrap_pyfunction!(param_fields, m)?)?;
    m.add_function(wrap_pyfunction!(check_params, m)?)?;
    Ok(())
}
