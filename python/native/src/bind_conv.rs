//! Bindings of the windowed and matrix kernels: conv, depthwise, fully connected, pools.
use arielml_kernels::conv::{self, Conv2dF32Params, Conv2dParams, PerChannel};
use arielml_kernels::depthwise::{self, DepthwiseF32Params, DepthwiseParams};
use arielml_kernels::fully_connected::{self, FullyConnectedF32Params, FullyConnectedParams};
use arielml_kernels::pooling::{self, PoolF32Params, PoolParams};
use arielml_kernels::{Shape4, Window2d};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::bind_params::{build, build_with};

use crate::bind_misc::{cells, f32_bytes, f32s, i8_bytes, i8s, out_f32, out_i8, tile, TileArg};

type Dims = [usize; 4];
type Pair = (usize, usize);

fn shape(d: Dims) -> Shape4 {
    Shape4::new(d[0], d[1], d[2], d[3])
}

fn window(i: Dims, f: Dims, o: Dims, stride: Pair, dilation: Pair, pad: Pair) -> Window2d {
    Window2d {
        input: shape(i), filter: shape(f), output: shape(o),
        stride_h: stride.0, stride_w: stride.1, dilation_h: dilation.0, dilation_w: dilation.1,
        pad_top: pad.0, pad_left: pad.1,
    }
}

fn check_q(mult: &[i32], shift: &[i32], n: usize) -> PyResult<()> {
    if mult.len() < n || shift.len() < n {
        return Err(pyo3::exceptions::PyValueError::new_err("need one multiplier and shift per output channel"));
    }
    Ok(())
}

/// `kind` is "conv" (`params` the words of `Conv2dParams`) or "depthwise" (of
/// `DepthwiseParams`); the window is built from the shapes and geometry.
#[pyfunction]
#[pyo3(signature = (kind, input, in_shape, filter, f_shape, bias, mult, shift, out_shape,
    stride, dilation, pad, params, tile_=None, out=None))]
#[allow(clippy::too_many_arguments)]
fn conv2d_s8<'py>(
    py: Python<'py>, kind: &str, input: &[u8], in_shape: Dims, filter: &[u8], f_shape: Dims,
    bias: Option<Vec<i32>>, mult: Vec<i32>, shift: Vec<i32>, out_shape: Dims,
    stride: Pair, dilation: Pair, pad: Pair, params: Vec<i32>, tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let w = window(in_shape, f_shape, out_shape, stride, dilation, pad);
    check_q(&mult, &shift, w.output.c)?;
    let (x, f) = (i8s(input, w.input.len())?, i8s(filter, w.filter.len())?);
    let mut y = out_i8(out, w.output.len())?;
    let q = PerChannel { multiplier: &mult, shift: &shift };
    let t = tile(tile_);
    match kind {
        "conv" => {
            let p: Conv2dParams = build_with((w,), &params)?;
            conv::conv2d_s8(&p, q, &x, &f, bias.as_deref(), cells(&mut y), &t)
        }
        _ => {
            let p: DepthwiseParams = build_with((w,), &params)?;
            depthwise::depthwise_conv2d_s8(&p, q, &x, &f, bias.as_deref(), cells(&mut y), &t)
        }
    }
    Ok(i8_bytes(py, &y))
}

#[pyfunction]
#[pyo3(signature = (kind, input, in_shape, filter, f_shape, bias, out_shape, stride, dilation, pad,
    act_min, act_max, depth_multiplier=1, tile_=None, out=None))]
#[allow(clippy::too_many_arguments)]
fn conv2d_f32<'py>(
    py: Python<'py>, kind: &str, input: &[u8], in_shape: Dims, filter: &[u8], f_shape: Dims,
    bias: Option<&[u8]>, out_shape: Dims, stride: Pair, dilation: Pair, pad: Pair,
    act_min: f32, act_max: f32, depth_multiplier: usize, tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let w = window(in_shape, f_shape, out_shape, stride, dilation, pad);
    let (x, f) = (f32s(input, w.input.len())?, f32s(filter, w.filter.len())?);
    let b = bias.map(|b| f32s(b, w.output.c)).transpose()?;
    let mut y = out_f32(out, w.output.len())?;
    let t = tile(tile_);
    match kind {
        "conv" => conv::conv2d_f32(&Conv2dF32Params { window: w, act_min, act_max }, &x, &f, b.as_deref(), cells(&mut y), &t),
        _ => {
            let p = DepthwiseF32Params { window: w, depth_multiplier, act_min, act_max };
            depthwise::depthwise_conv2d_f32(&p, &x, &f, b.as_deref(), cells(&mut y), &t)
        }
    }
    Ok(f32_bytes(py, &y))
}

/// Input (batches, depth), filter (units, depth); `params` are the words of
/// `FullyConnectedParams` (`Params::from_words`).
#[pyfunction]
#[pyo3(signature = (input, filter, bias, mult, shift, params, tile_=None, out=None))]
#[allow(clippy::too_many_arguments)]
fn fully_connected_s8<'py>(
    py: Python<'py>, input: &[u8], filter: &[u8], bias: Option<Vec<i32>>, mult: Vec<i32>, shift: Vec<i32>,
    params: Vec<i32>, tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let p: FullyConnectedParams = build(&params)?;
    let (batches, depth, units) = (p.batches, p.depth, p.units);
    check_q(&mult, &shift, units)?;
    let (x, f) = (i8s(input, batches * depth)?, i8s(filter, units * depth)?);
    let mut y = out_i8(out, batches * units)?;
    let q = PerChannel { multiplier: &mult, shift: &shift };
    fully_connected::fully_connected_s8(&p, q, &x, &f, bias.as_deref(), cells(&mut y), &tile(tile_));
    Ok(i8_bytes(py, &y))
}

#[pyfunction]
#[pyo3(signature = (input, filter, bias, batches, depth, units, act_min, act_max, tile_=None, out=None))]
#[allow(clippy::too_many_arguments)]
fn fully_connected_f32<'py>(
    py: Python<'py>, input: &[u8], filter: &[u8], bias: Option<&[u8]>, batches: usize, depth: usize,
    units: usize, act_min: f32, act_max: f32, tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (x, f) = (f32s(input, batches * depth)?, f32s(filter, units * depth)?);
    let b = bias.map(|b| f32s(b, units)).transpose()?;
    let mut y = out_f32(out, batches * units)?;
    let p = FullyConnectedF32Params { batches, depth, units, act_min, act_max };
    fully_connected::fully_connected_f32(&p, &x, &f, b.as_deref(), cells(&mut y), &tile(tile_));
    Ok(f32_bytes(py, &y))
}

/// int8 pools: `kind` is "avg" or "max", `params` the words of `PoolParams`.
#[pyfunction]
#[pyo3(signature = (kind, input, in_shape, filter_hw, out_shape, stride, pad, params, tile_=None, out=None))]
#[allow(clippy::too_many_arguments)]
fn pool_s8<'py>(
    py: Python<'py>, kind: &str, input: &[u8], in_shape: Dims, filter_hw: Pair, out_shape: Dims,
    stride: Pair, pad: Pair, params: Vec<i32>, tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let w = window(in_shape, [1, filter_hw.0, filter_hw.1, 1], out_shape, stride, (1, 1), pad);
    let p: PoolParams = build_with((w,), &params)?;
    let x = i8s(input, w.input.len())?;
    let mut y = out_i8(out, w.output.len())?;
    let t = tile(tile_);
    match kind {
        "avg" => pooling::average_pool_s8(&p, &x, cells(&mut y), &t),
        _ => pooling::max_pool_s8(&p, &x, cells(&mut y), &t),
    }
    Ok(i8_bytes(py, &y))
}

/// float32 pools: `kind` is "avg" or "max".
#[pyfunction]
#[pyo3(signature = (kind, input, in_shape, filter_hw, out_shape, stride, pad, act_min, act_max, tile_=None, out=None))]
#[allow(clippy::too_many_arguments)]
fn pool_f32<'py>(
    py: Python<'py>, kind: &str, input: &[u8], in_shape: Dims, filter_hw: Pair, out_shape: Dims,
    stride: Pair, pad: Pair, act_min: f32, act_max: f32, tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let w = window(in_shape, [1, filter_hw.0, filter_hw.1, 1], out_shape, stride, (1, 1), pad);
    let t = tile(tile_);
    let x = f32s(input, w.input.len())?;
    let mut y = out_f32(out, w.output.len())?;
    let p = PoolF32Params { window: w, act_min, act_max };
    match kind {
        "avg" => pooling::average_pool_f32(&p, &x, cells(&mut y), &t),
        _ => pooling::max_pool_f32(&p, &x, cells(&mut y), &t),
    }
    Ok(f32_bytes(py, &y))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(conv2d_s8, m)?)?;
    m.add_function(wrap_pyfunction!(conv2d_f32, m)?)?;
    m.add_function(wrap_pyfunction!(fully_connected_s8, m)?)?;
    m.add_function(wrap_pyfunction!(fully_connected_f32, m)?)?;
    m.add_function(wrap_pyfunction!(pool_s8, m)?)?;
    m.add_function(wrap_pyfunction!(pool_f32, m)?)?;
    Ok(())
}
