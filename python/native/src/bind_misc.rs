//! Byte conversions shared by the bindings, and the elementwise and softmax bindings.
use arielml_kernels::elementwise::{self, ArithmeticParams, BinaryF32, BinaryShapes};
use arielml_kernels::softmax::{self, SoftmaxParams};
pub use arielml_kernels::cells;
use arielml_kernels::{Shape4, Tile};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::bind_params::build;

/// (row_start, row_end, channel_start, channel_end); None means the whole output.
pub type TileArg = Option<(usize, usize, usize, usize)>;

pub fn tile(t: TileArg) -> Tile {
    match t {
        Some((r0, r1, c0, c1)) => Tile::new(r0..r1, c0..c1),
        None => Tile::new(0..usize::MAX, 0..usize::MAX),
    }
}

fn too_short(what: &str, got: usize, want: usize) -> PyErr {
    PyValueError::new_err(format!("{what}: got {got} elements, need {want}"))
}

pub fn i8s(b: &[u8], n: usize) -> PyResult<Vec<i8>> {
    if b.len() < n {
        return Err(too_short("int8 buffer", b.len(), n));
    }
    Ok(b.iter().map(|&v| v as i8).collect())
}

pub fn f32s(b: &[u8], n: usize) -> PyResult<Vec<f32>> {
    if b.len() < 4 * n {
        return Err(too_short("float32 buffer", b.len() / 4, n));
    }
    Ok(b.chunks_exact(4).map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]])).collect())
}

pub fn out_i8(init: Option<&[u8]>, n: usize) -> PyResult<Vec<i8>> {
    init.map_or(Ok(vec![0; n]), |b| i8s(b, n))
}

pub fn out_f32(init: Option<&[u8]>, n: usize) -> PyResult<Vec<f32>> {
    init.map_or(Ok(vec![0.0; n]), |b| f32s(b, n))
}

pub fn i8_bytes<'py>(py: Python<'py>, v: &[i8]) -> Bound<'py, PyBytes> {
    let u: Vec<u8> = v.iter().map(|&x| x as u8).collect();
    PyBytes::new(py, &u)
}

pub fn f32_bytes<'py>(py: Python<'py>, v: &[f32]) -> Bound<'py, PyBytes> {
    let u: Vec<u8> = v.iter().flat_map(|x| x.to_ne_bytes()).collect();
    PyBytes::new(py, &u)
}

fn shape(d: [usize; 4]) -> Shape4 {
    Shape4::new(d[0], d[1], d[2], d[3])
}

/// `params` are the words of `ArithmeticParams` (`Params::from_words`).
#[pyfunction]
#[pyo3(signature = (op, a, a_shape, b, b_shape, out_shape, params, tile_=None, out=None))]
#[allow(clippy::too_many_arguments)]
fn binary_s8<'py>(
    py: Python<'py>, op: &str, a: &[u8], a_shape: [usize; 4], b: &[u8], b_shape: [usize; 4],
    out_shape: [usize; 4], params: Vec<i32>, tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let s = BinaryShapes { input1: shape(a_shape), input2: shape(b_shape), output: shape(out_shape) };
    let p: ArithmeticParams = build(&params)?;
    let (x, y) = (i8s(a, s.input1.len())?, i8s(b, s.input2.len())?);
    let mut o = out_i8(out, s.output.len())?;
    let t = tile(tile_);
    match op {
        "add" => elementwise::add_s8(&p, &s, &x, &y, cells(&mut o), &t),
        "sub" => elementwise::sub_s8(&p, &s, &x, &y, cells(&mut o), &t),
        "mul" => elementwise::mul_s8(&p, &s, &x, &y, cells(&mut o), &t),
        "squared_difference" => elementwise::squared_difference_s8(&p, &s, &x, &y, cells(&mut o), &t),
        "maximum" => elementwise::maximum(&s, &x, &y, cells(&mut o), &t),
        "minimum" => elementwise::minimum(&s, &x, &y, cells(&mut o), &t),
        _ => return Err(PyValueError::new_err(format!("unknown binary op {op}"))),
    }
    Ok(i8_bytes(py, &o))
}

#[pyfunction]
#[pyo3(signature = (op, a, a_shape, b, b_shape, out_shape, act_min, act_max, tile_=None, out=None))]
#[allow(clippy::too_many_arguments)]
fn binary_f32<'py>(
    py: Python<'py>, op: &str, a: &[u8], a_shape: [usize; 4], b: &[u8], b_shape: [usize; 4],
    out_shape: [usize; 4], act_min: f32, act_max: f32, tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let s = BinaryShapes { input1: shape(a_shape), input2: shape(b_shape), output: shape(out_shape) };
    let (x, y) = (f32s(a, s.input1.len())?, f32s(b, s.input2.len())?);
    let mut o = out_f32(out, s.output.len())?;
    let t = tile(tile_);
    let kind = match op {
        "maximum" | "minimum" => {
            let f = if op == "maximum" { elementwise::maximum::<f32> } else { elementwise::minimum::<f32> };
            f(&s, &x, &y, cells(&mut o), &t);
            return Ok(f32_bytes(py, &o));
        }
        "add" => BinaryF32::Add,
        "sub" => BinaryF32::Sub,
        "mul" => BinaryF32::Mul,
        "div" => BinaryF32::Div,
        "squared_difference" => BinaryF32::SquaredDifference,
        _ => return Err(PyValueError::new_err(format!("unknown binary op {op}"))),
    };
    elementwise::binary_f32(kind, (act_min, act_max), &s, &x, &y, cells(&mut o), &t);
    Ok(f32_bytes(py, &o))
}

/// `params` are the words of `SoftmaxParams` (`Params::from_words`).
#[pyfunction]
#[pyo3(signature = (input, params, tile_=None, out=None))]
fn softmax_s8<'py>(
    py: Python<'py>, input: &[u8], params: Vec<i32>, tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let p: SoftmaxParams = build(&params)?;
    let (rows, depth) = (p.rows, p.depth);
    let x = i8s(input, rows * depth)?;
    let mut o = out_i8(out, rows * depth)?;
    let mut t = tile(tile_);
    t.channels = 0..depth;
    softmax::softmax_s8(&p, &x, cells(&mut o), &t);
    Ok(i8_bytes(py, &o))
}

#[pyfunction]
#[pyo3(signature = (input, rows, depth, beta, tile_=None, out=None))]
fn softmax_f32<'py>(
    py: Python<'py>, input: &[u8], rows: usize, depth: usize, beta: f32, tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let x = f32s(input, rows * depth)?;
    let mut o = out_f32(out, rows * depth)?;
    let mut t = tile(tile_);
    t.channels = 0..depth;
    softmax::softmax_f32(rows, depth, beta, &x, cells(&mut o), &t);
    Ok(f32_bytes(py, &o))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(binary_s8, m)?)?;
    m.add_function(wrap_pyfunction!(binary_f32, m)?)?;
    m.add_function(wrap_pyfunction!(softmax_s8, m)?)?;
    m.add_function(wrap_pyfunction!(softmax_f32, m)?)?;
    Ok(())
}
