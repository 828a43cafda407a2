//! The kernels' parameter structs declared with `params!`, as Python sees them: their
//! given and word field lists (from which `arielml.lower.base.params_lit` writes the
//! firmware's struct literals), and `build` / `build_with` (`from_words` / `from_parts`),
//! which every binding uses to build them. A struct a binding builds is listed in
//! `registry!` below, so Python can write its literal.
use arielml_kernels::activations::{LeakyReluParams, RequantizeParams, SigmoidParams};
use arielml_kernels::conv::Conv2dParams;
use arielml_kernels::depthwise::DepthwiseParams;
use arielml_kernels::elementwise::ArithmeticParams;
use arielml_kernels::fully_connected::FullyConnectedParams;
use arielml_kernels::gemm::{GemmConv, GemmDepthwise, GemmFc};
use arielml_kernels::hard_swish::HardSwishParams;
use arielml_kernels::params::{Params, ParamsError};
use arielml_kernels::pooling::PoolParams;
use arielml_kernels::reduce::MeanParams;
use arielml_kernels::softmax::SoftmaxParams;
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;

fn py_err(e: ParamsError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// `T` from one word per field, or the reason as a Python ValueError.
pub fn build<T: Params<Given = ()>>(words: &[i32]) -> PyResult<T> {
    T::from_words(words).map_err(py_err)
}

/// `T` from its given fields and one word per word field, or the reason as a ValueError.
pub fn build_with<T: Params>(given: T::Given, words: &[i32]) -> PyResult<T> {
    T::from_parts(given, words).map_err(py_err)
}

type Entry = (&'static str, &'static str, &'static [&'static str], &'static [&'static str], &'static [&'static str]);

/// Every struct declared with `params!` that a binding builds: (name, module, given
/// fields, word fields, word field types), and a check of words against one by name.
macro_rules! registry {
    ($($t:ty),* $(,)?) => {
        const STRUCTS: &[Entry] = &[$((<$t>::NAME, <$t>::PATH, <$t>::GIVEN, <$t>::FIELDS, <$t>::TYPES)),*];

        fn check_by_name(name: &str, words: &[i32]) -> PyResult<()> {
            $(if name == <$t>::NAME {
                return <$t>::check_words(words).map_err(py_err);
            })*
            Err(unknown(name))
        }
    };
}

registry!(
    SigmoidParams, LeakyReluParams, RequantizeParams, HardSwishParams, ArithmeticParams, SoftmaxParams,
    FullyConnectedParams, GemmFc, Conv2dParams, DepthwiseParams, PoolParams, MeanParams, GemmConv, GemmDepthwise,
);

fn unknown(name: &str) -> PyErr {
    PyKeyError::new_err(format!("no parameter struct {name} (declared with params! and listed in bind_params.rs)"))
}

/// (name, (module path, given fields, word fields, word field types)) of every parameter struct.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn param_structs() -> Vec<(&'static str, (&'static str, Vec<&'static str>, Vec<&'static str>, Vec<&'static str>))> {
    STRUCTS.iter().map(|&(n, p, g, f, t)| (n, (p, g.to_vec(), f.to_vec(), t.to_vec()))).collect()
}

/// Word field names of struct `name`, in the order `from_words` reads them.
#[pyfunction]
fn param_fields(name: &str) -> PyResult<Vec<&'static str>> {
    STRUCTS.iter().find(|s| s.0 == name).map(|s| s.3.to_vec()).ok_or_else(|| unknown(name))
}

/// Raises ValueError unless `words` make struct `name`'s word fields (count and ranges).
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
