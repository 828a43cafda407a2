//! Bindings of the elementwise activations and (de)quantization.
use arielml_kernels::activations::{self as act, Quant8, LeakyReluParams, RequantizeParams, SigmoidParams};
use arielml_kernels::activations_f32;
use arielml_kernels::hard_swish::{self, HardSwishParams};
use arielml_kernels::math_f32::{math_f32, MathF32};
use arielml_kernels::tile::Tile;
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
        "abs" => math_f32(MathF32::Abs, s, &x, cells(&mut y), &t),
        "neg" => math_f32(MathF32::Neg, s, &x, cells(&mut y), &t),
        "square" => math_f32(MathF32::Square, s, &x, cells(&mut y), &t),
        "sqrt" => math_f32(MathF32::Sqrt, s, &x, cells(&mut y), &t),
        "rsqrt" => math_f32(MathF32::Rsqrt, s, &x, cells(&mut y), &t),
        "exp" => math_f32(MathF32::Exp, s, &x, cells(&mut y), &t),
        "log" => math_f32(MathF32::Log, s, &x, cells(&mut y), &t),
        "sin" => math_f32(MathF32::Sin, s, &x, cells(&mut y), &t),
        "cos" => math_f32(MathF32::Cos, s, &x, cells(&mut y), &t),
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

/// An 8-bit buffer of `dtype` ("int8" or "uint8") as a Vec of its elements.
trait Bytes8: Quant8 {
    fn from_byte(b: u8) -> Self;
    fn to_byte(self) -> u8;
}

impl Bytes8 for i8 {
    fn from_byte(b: u8) -> Self {
        b as i8
    }
    fn to_byte(self) -> u8 {
        self as u8
    }
}

impl Bytes8 for u8 {
    fn from_byte(b: u8) -> Self {
        b
    }
    fn to_byte(self) -> u8 {
        self
    }
}

fn elems8<T: Bytes8>(b: &[u8], n: usize) -> PyResult<Vec<T>> {
    if b.len() < n {
        return Err(PyValueError::new_err(format!("8-bit buffer of {} bytes, need {n}", b.len())));
    }
    Ok(b[..n].iter().map(|&v| T::from_byte(v)).collect())
}

fn out8<T: Bytes8>(init: Option<&[u8]>, n: usize) -> PyResult<Vec<T>> {
    init.map_or(Ok(vec![T::from_byte(0); n]), |b| elems8(b, n))
}

fn bytes8<'py, T: Bytes8>(py: Python<'py>, v: &[T]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &v.iter().map(|x| x.to_byte()).collect::<Vec<u8>>())
}

fn requantize_as<'py, I: Bytes8, O: Bytes8>(
    py: Python<'py>, input: &[u8], s: Shape4, params: &[i32], t: &Tile, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let x = elems8::<I>(input, s.len())?;
    let mut y = out8::<O>(out, s.len())?;
    act::requantize(&build::<RequantizeParams>(params)?, s, &x, cells(&mut y), t);
    Ok(bytes8(py, &y))
}

/// QUANTIZE between 8-bit types: `src`, `dst` each "int8" or "uint8"; params as `requantize`.
#[pyfunction]
#[pyo3(signature = (src, dst, input, shape_, params, tile_=None, out=None))]
#[allow(clippy::too_many_arguments)]
fn requantize8<'py>(
    py: Python<'py>, src: &str, dst: &str, input: &[u8], shape_: [usize; 4], params: Vec<i32>, tile_: TileArg,
    out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (s, t) = (shape(shape_), tile(tile_));
    match (src, dst) {
        ("int8", "int8") => requantize_as::<i8, i8>(py, input, s, &params, &t, out),
        ("int8", "uint8") => requantize_as::<i8, u8>(py, input, s, &params, &t, out),
        ("uint8", "int8") => requantize_as::<u8, i8>(py, input, s, &params, &t, out),
        ("uint8", "uint8") => requantize_as::<u8, u8>(py, input, s, &params, &t, out),
        _ => Err(PyValueError::new_err(format!("requantize {src} -> {dst}: not 8-bit types"))),
    }
}

/// uint8 -> float32 DEQUANTIZE (int8: `dequantize_s8_f32`).
#[pyfunction]
#[pyo3(signature = (input, shape_, scale, zero_point, tile_=None, out=None))]
fn dequantize_u8_f32<'py>(
    py: Python<'py>, input: &[u8], shape_: [usize; 4], scale: f64, zero_point: i32, tile_: TileArg,
    out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let s = shape(shape_);
    let x = elems8::<u8>(input, s.len())?;
    let mut y = out_f32(out, s.len())?;
    act::dequantize_f32::<u8>(scale, zero_point, s, &x, cells(&mut y), &tile(tile_));
    Ok(f32_bytes(py, &y))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(requantize8, m)?)?;
    m.add_function(wrap_pyfunction!(dequantize_u8_f32, m)?)?;
    m.add_function(wrap_pyfunction!(unary_s8, m)?)?;
    m.add_function(wrap_pyfunction!(unary_f32, m)?)?;
    m.add_function(wrap_pyfunction!(quantize_f32_s8, m)?)?;
    m.add_function(wrap_pyfunction!(dequantize_s8_f32, m)?)?;
    Ok(())
}
