//! Bindings of the rank-5 ops: the copy kernels (RESHAPE, TRANSPOSE, STRIDED_SLICE,
//! SPLIT, PAD, CONCATENATION) for int8 and float32, and MEAN.
use arielml_kernels::activations::RequantizeParams;
use arielml_kernels::memory::{self, ConcatParams, PadParams, SliceParams, TransposeParams};
use arielml_kernels::reduce::{self, MeanParams, ReduceShape};
use arielml_kernels::ShapeN;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::bind_params::{build, build_with};
use crate::bind_misc::{cells, f32_bytes, f32s, i8_bytes, i8s, out_f32, out_i8, tile, TileArg};

type D5 = [usize; 5];

/// Runs `$body` with `$x` the typed input and `$y` the output cells, for `$dtype`
/// "int8" or "float32"; `$pad` turns a Python float into the element type.
macro_rules! typed {
    ($py:expr, $dtype:expr, $input:expr, $n_in:expr, $n_out:expr, $out:expr, |$x:ident, $y:ident, $conv:ident| $body:expr) => {
        match $dtype {
            "int8" => {
                let $x = i8s($input, $n_in)?;
                let mut v = out_i8($out, $n_out)?;
                let $y = cells(&mut v);
                let $conv = |f: f64| f as i8;
                $body;
                Ok(i8_bytes($py, &v))
            }
            "float32" => {
                let $x = f32s($input, $n_in)?;
                let mut v = out_f32($out, $n_out)?;
                let $y = cells(&mut v);
                let $conv = |f: f64| f as f32;
                $body;
                Ok(f32_bytes($py, &v))
            }
            other => Err(PyValueError::new_err(format!("unsupported dtype {other}"))),
        }
    };
}

fn check_perm(perm: &D5) -> PyResult<()> {
    let mut seen = [false; 5];
    for &p in perm {
        if p >= 5 || std::mem::replace(&mut seen[p], true) {
            return Err(PyValueError::new_err("perm must be a permutation of 0..5"));
        }
    }
    Ok(())
}

#[pyfunction]
#[pyo3(signature = (dtype, input, shape, tile_=None, out=None))]
fn reshape<'py>(py: Python<'py>, dtype: &str, input: &[u8], shape: D5, tile_: TileArg, out: Option<&[u8]>) -> PyResult<Bound<'py, PyBytes>> {
    let s = ShapeN(shape);
    let t = tile(tile_);
    typed!(py, dtype, input, s.len(), s.len(), out, |x, y, _c| memory::reshape(&s, &x, y, &t))
}

#[pyfunction]
#[pyo3(signature = (dtype, input, in_shape, perm, tile_=None, out=None))]
fn transpose<'py>(
    py: Python<'py>, dtype: &str, input: &[u8], in_shape: D5, perm: D5, tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    check_perm(&perm)?;
    let p = TransposeParams { input: ShapeN(in_shape), output: ShapeN(perm.map(|d| in_shape[d])), perm };
    let t = tile(tile_);
    typed!(py, dtype, input, p.input.len(), p.output.len(), out, |x, y, _c| memory::transpose(&p, &x, y, &t))
}

/// `split_axis` given: a SPLIT output at `start[split_axis]` (strides ignored).
#[pyfunction]
#[pyo3(signature = (dtype, input, in_shape, out_shape, start, stride, split_axis=None, tile_=None, out=None))]
#[allow(clippy::too_many_arguments)]
fn strided_slice<'py>(
    py: Python<'py>, dtype: &str, input: &[u8], in_shape: D5, out_shape: D5, start: [i32; 5], stride: [i32; 5],
    split_axis: Option<usize>, tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (si, so) = (ShapeN(in_shape), ShapeN(out_shape));
    for d in 0..5 {
        // Every read must land inside the input: check both ends of each dim.
        let last = start[d] as i64 + (out_shape[d] as i64 - 1).max(0) * stride[d] as i64;
        if out_shape[d] > 0 && (start[d] < 0 || last < 0 || start[d] as usize >= in_shape[d] || last as usize >= in_shape[d]) {
            return Err(PyValueError::new_err(format!("slice leaves the input along dim {d}")));
        }
    }
    let t = tile(tile_);
    match split_axis {
        Some(axis) if axis < 5 => {
            let p = SliceParams::split(si, so, axis, start[axis] as usize);
            typed!(py, dtype, input, si.len(), so.len(), out, |x, y, _c| memory::split(&p, &x, y, &t))
        }
        Some(_) => Err(PyValueError::new_err("split axis out of range")),
        None => {
            let p = SliceParams { input: si, output: so, start, stride };
            typed!(py, dtype, input, si.len(), so.len(), out, |x, y, _c| memory::strided_slice(&p, &x, y, &t))
        }
    }
}

#[pyfunction]
#[pyo3(signature = (dtype, input, in_shape, before, after, pad_value, tile_=None, out=None))]
#[allow(clippy::too_many_arguments)]
fn pad<'py>(
    py: Python<'py>, dtype: &str, input: &[u8], in_shape: D5, before: D5, after: D5, pad_value: f64,
    tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let output = ShapeN(std::array::from_fn(|d| in_shape[d] + before[d] + after[d]));
    let p = PadParams { input: ShapeN(in_shape), output, before };
    let t = tile(tile_);
    typed!(py, dtype, input, p.input.len(), output.len(), out, |x, y, c| memory::pad(&p, c(pad_value), &x, y, &t))
}

/// One input of a CONCATENATION; `requant` (the words of `RequantizeParams`) for an
/// int8 input quantized differently from the output.
#[pyfunction]
#[pyo3(signature = (dtype, input, in_shape, out_shape, axis, offset, requant=None, tile_=None, out=None))]
#[allow(clippy::too_many_arguments)]
fn concatenation<'py>(
    py: Python<'py>, dtype: &str, input: &[u8], in_shape: D5, out_shape: D5, axis: usize, offset: usize,
    requant: Option<Vec<i32>>, tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let fits = (0..5).all(|d| if d == axis { offset + in_shape[d] <= out_shape[d] } else { in_shape[d] == out_shape[d] });
    if axis >= 5 || !fits {
        return Err(PyValueError::new_err("input does not fit the output at that offset"));
    }
    let p = ConcatParams { input: ShapeN(in_shape), output: ShapeN(out_shape), axis, offset };
    let t = tile(tile_);
    match (dtype, requant) {
        ("int8", Some(words)) => {
            let q: RequantizeParams = build(&words)?;
            let x = i8s(input, p.input.len())?;
            let mut v = out_i8(out, p.output.len())?;
            memory::concatenation_requant_s8(&p, &q, &x, cells(&mut v), &t);
            Ok(i8_bytes(py, &v))
        }
        _ => typed!(py, dtype, input, p.input.len(), p.output.len(), out, |x, y, _c| memory::concatenation(&p, &x, y, &t)),
    }
}

/// `params` the words of `MeanParams` for int8, ignored for float32.
#[pyfunction]
#[pyo3(signature = (dtype, input, in_shape, axes, params=None, tile_=None, out=None, op="mean"))]
#[allow(clippy::too_many_arguments)]
fn mean<'py>(
    py: Python<'py>, dtype: &str, input: &[u8], in_shape: D5, axes: [bool; 5], params: Option<Vec<i32>>,
    tile_: TileArg, out: Option<&[u8]>, op: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let shape = ReduceShape { input: ShapeN(in_shape), axes };
    let (n_in, n_out) = (shape.input.len(), shape.output().len());
    let t = tile(tile_);
    match (op, dtype) {
        ("max" | "min", "int8") => {
            let x = i8s(input, n_in)?;
            let mut v = out_i8(out, n_out)?;
            let f = if op == "max" { reduce::reduce_max::<i8> } else { reduce::reduce_min::<i8> };
            f(&shape, &x, cells(&mut v), &t);
            return Ok(i8_bytes(py, &v));
        }
        ("max" | "min" | "sum", "float32") => {
            let x = f32s(input, n_in)?;
            let mut v = out_f32(out, n_out)?;
            match op {
                "max" => reduce::reduce_max::<f32>(&shape, &x, cells(&mut v), &t),
                "min" => reduce::reduce_min::<f32>(&shape, &x, cells(&mut v), &t),
                _ => reduce::sum_f32(&shape, &x, cells(&mut v), &t),
            }
            return Ok(f32_bytes(py, &v));
        }
        ("mean", _) | ("sum", "int8") => {}
        _ => return Err(PyValueError::new_err(format!("unknown reduction {op}"))),
    }
    // MEAN, and int8 SUM (MEAN's kernel with unfolded parameters).
    if dtype == "int8" {
        let words = params.ok_or_else(|| PyValueError::new_err("int8 MEAN needs params"))?;
        let p: MeanParams = build_with((shape,), &words)?;
        let x = i8s(input, n_in)?;
        let mut v = out_i8(out, n_out)?;
        reduce::mean_s8(&p, &x, cells(&mut v), &t);
        return Ok(i8_bytes(py, &v));
    }
    let x = f32s(input, n_in)?;
    let mut v = out_f32(out, n_out)?;
    reduce::mean_f32(&shape, &x, cells(&mut v), &t);
    Ok(f32_bytes(py, &v))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(reshape, m)?)?;
    m.add_function(wrap_pyfunction!(transpose, m)?)?;
    m.add_function(wrap_pyfunction!(strided_slice, m)?)?;
    m.add_function(wrap_pyfunction!(pad, m)?)?;
    m.add_function(wrap_pyfunction!(concatenation, m)?)?;
    m.add_function(wrap_pyfunction!(mean, m)?)?;
    Ok(())
}
