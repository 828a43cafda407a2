//! Bindings of the elementwise activations and (de)quantization.
use arielml_kernels::activations::{self as act, LeakyReluParams, RequantizeParams, SigmoidParams};
use arielml_kernels::activations_f32;
use arielml_kernels::hard_swish::{self, HardSwishParams};
use arielml_kernels::Shape4;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::bind_params::build;
use crate::bind_misc::{cells, f32_bytes, f32s, i8_bytes, i8s, out_f32, out_i8, tile, TileArg};

fn shape(d: [usize; 4]) -> Shape4 {
    Shape4::new(d[0], d[1], d[2], d[3])
}

/// `params` are the words of the op's parameter struct (`Params::from_words`): logistic and
/// tanh `SigmoidParams`, leaky_relu `LeakyReluParams`, requantize `RequantizeParams`,
/// hard_swish `HardSwishParams`.
#[pyfunction]
#[pyo3(signature = (op, input, shape_, params, tile_=None, out=None))]
fn unary_s8<'py>(
    py: Python<'py>, op: &str, input: &[u8], shape_: [usize; 4], params: Vec<i32>, tile_: TileArg,
    out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let s = shape(shape_);
    let x = i8s(input, s.len())?;
    let mut y = out_i8(out, s.len())?;
    let t = tile(tile_);
    match op {
        "logistic" => act::logistic_s8(&build::<SigmoidParams>(&params)?, s, &x, cells(&mut y), &t),
        "tanh" => act::tanh_s8(&build::<SigmoidParams>(&params)?, s, &x, cells(&mut y), &t),
        "leaky_relu" => act::leaky_relu_s8(&build::<LeakyReluParams>(&params)?, s, &x, cells(&mut y), &t),
        "requantize" => act::requantize_s8(&build::<RequantizeParams>(&params)?, s, &x, cells(&mut y), &t),
        "hard_swish" => hard_swish::hard_swish_s8(&build::<HardSwishParams>(&params)?, s, &x, cells(&mut y), &t),
        _ => return Err(PyValueError::new_err(format!("unknown unary op {op}"))),
    }
    Ok(i8_bytes(py, &y))
}

/// float32 logistic / tanh / hard_swish.
#[pyfunction]
#[pyo3(signature = (op, input, shape_, tile_=None, out=None))]
fn unary_f32<'py>(
    py: Python<'py>, op: &str, input: &[u8], shape_: [usize; 4], tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let s = shape(shape_);
    let x = f32s(input, s.len())?;
    let mut y = out_f32(out, s.len())?;
    let t = tile(tile_);
    match op {
        "logistic" => activations_f32::logistic_f32(s, &x, cells(&mut y), &t),
        "tanh" => activations_f32::tanh_f32(s, &x, cells(&mut y), &t),
        "hard_swish" => hard_swish::hard_swish_f32(s, &x, cells(&mut y), &t),
        _ => return Err(PyValueError::new_err(format!("unknown float unary op {op}"))),
    }
    Ok(f32_bytes(py, &y))
}

#[pyfunction]
#[pyo3(signature = (input, shape_, scale, zero_point, tile_=None, out=None))]
fn quantize_f32_s8<'py>(
    py: Python<'py>, input: &[u8], shape_: [usize; 4], scale: f32, zero_point: i32, tile_: TileArg,
    out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let s = shape(shape_);
    let x = f32s(input, s.len())?;
    let mut y = out_i8(out, s.len())?;
    act::quantize_f32_s8(scale, zero_point, s, &x, cells(&mut y), &tile(tile_));
    Ok(i8_bytes(py, &y))
}

#[pyfunction]
#[pyo3(signature = (input, shape_, scale, zero_point, tile_=None, out=None))]
fn dequantize_s8_f32<'py>(
    py: Python<'py>, input: &[u8], shape_: [usize; 4], scale: f64, zero_point: i32, tile_: TileArg,
    out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let s = shape(shape_);
    let x = i8s(input, s.len())?;
    let mut y = out_f32(out, s.len())?;
    act::dequantize_s8_f32(scale, zero_point, s, &x, cells(&mut y), &tile(tile_));
    Ok(f32_bytes(py, &y))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(unary_s8, m)?)?;
    m.add_function(wrap_pyfunction!(unary_f32, m)?)?;
    m.add_function(wrap_pyfunction!(quantize_f32_s8, m)?)?;
    m.add_function(wrap_pyfunction!(dequantize_s8_f32, m)?)?;
    Ok(())
}
