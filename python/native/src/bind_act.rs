//! Bindings of the elementwise activations and (de)quantization.
use arielml_kernels::activations::{self as act, LeakyReluParams, RequantizeParams, SigmoidParams};
use arielml_kernels::activations_f32;
use arielml_kernels::hard_swish::{self, HardSwishParams};
use arielml_kernels::Shape4;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::bind_misc::{cells, f32_bytes, f32s, i8_bytes, i8s, out_f32, out_i8, tile, TileArg};

fn shape(d: [usize; 4]) -> Shape4 {
    Shape4::new(d[0], d[1], d[2], d[3])
}

/// `op` logistic/tanh: params (zp, radius, multiplier, left_shift); leaky_relu: (in_zp,
/// out_zp, id_mult, id_shift, alpha_mult, alpha_shift); requantize: (in_zp, out_zp, mult, shift);
/// hard_swish: (in_zp, out_zp, reluish_mult, reluish_exp, out_mult, out_exp), multipliers int16.
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
    let need = |n: usize| {
        if params.len() == n { Ok(()) } else { Err(PyValueError::new_err(format!("{op} takes {n} params"))) }
    };
    match op {
        "logistic" | "tanh" => {
            need(4)?;
            let p = SigmoidParams {
                input_zero_point: params[0], input_range_radius: params[1],
                input_multiplier: params[2], input_left_shift: params[3],
            };
            if op == "logistic" { act::logistic_s8(&p, s, &x, cells(&mut y), &t) } else { act::tanh_s8(&p, s, &x, cells(&mut y), &t) }
        }
        "leaky_relu" => {
            need(6)?;
            let p = LeakyReluParams {
                input_zero_point: params[0], output_zero_point: params[1], identity_multiplier: params[2],
                identity_shift: params[3], alpha_multiplier: params[4], alpha_shift: params[5],
            };
            act::leaky_relu_s8(&p, s, &x, cells(&mut y), &t)
        }
        "requantize" => {
            need(4)?;
            let p = RequantizeParams {
                input_zero_point: params[0], output_zero_point: params[1], multiplier: params[2], shift: params[3],
            };
            act::requantize_s8(&p, s, &x, cells(&mut y), &t)
        }
        "hard_swish" => {
            need(6)?;
            let m16 = |v: i32| i16::try_from(v).map_err(|_| PyValueError::new_err("hard_swish multipliers are int16"));
            let p = HardSwishParams {
                input_zero_point: params[0], output_zero_point: params[1], reluish_multiplier: m16(params[2])?,
                reluish_exponent: params[3], output_multiplier: m16(params[4])?, output_exponent: params[5],
            };
            hard_swish::hard_swish_s8(&p, s, &x, cells(&mut y), &t)
        }
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
