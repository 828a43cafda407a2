//! Bindings of the packed-weight kernels (`arielml_kernels::gemm`), one entry per op kind,
//! dispatching on the (family, MR, NR) the compiler chose for the op.
use arielml_kernels::gemm::{self, dsp::Dsp, portable::Portable, v6m::V6m, GemmConv, GemmDepthwise, GemmFc, Micro, Packed};
use arielml_kernels::{Shape4, Window2d};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::bind_params::{build, build_with};
use crate::bind_misc::{cells, i8_bytes, i8s, out_i8, tile, TileArg};

/// (family, MR, NR) -> a call of `$f::<Family, MR, NR>($args)`; the combinations the
/// compiler emits (python/arielml/lower/packing.py: BLOCKING).
macro_rules! dispatch {
    ($fam:expr, $mr:expr, $nr:expr, $fast:expr, $($f:ident)::+, ($($a:expr),*)) => {
        match ($fam, $mr, $nr, $fast) {
            ("dsp", 2, 2, true) => $($f)::+::<Dsp, 2, 2, true>($($a),*),
            ("dsp", 2, 2, false) => $($f)::+::<Dsp, 2, 2, false>($($a),*),
            ("dsp", 4, 1, true) => $($f)::+::<Dsp, 4, 1, true>($($a),*),
            ("dsp", 4, 1, false) => $($f)::+::<Dsp, 4, 1, false>($($a),*),
            ("dsp", 2, 1, true) => $($f)::+::<Dsp, 2, 1, true>($($a),*),
            ("dsp", 4, 2, true) => $($f)::+::<Dsp, 4, 2, true>($($a),*),
            ("rv32", 4, 2, true) => $($f)::+::<Portable, 4, 2, true>($($a),*),
            ("rv32", 4, 2, false) => $($f)::+::<Portable, 4, 2, false>($($a),*),
            ("rv32", 8, 1, true) => $($f)::+::<Portable, 8, 1, true>($($a),*),
            ("rv32", 8, 1, false) => $($f)::+::<Portable, 8, 1, false>($($a),*),
            ("v6m", 4, 1, true) => $($f)::+::<V6m, 4, 1, true>($($a),*),
            ("v6m", 4, 1, false) => $($f)::+::<V6m, 4, 1, false>($($a),*),
            ("v6m", 2, 2, true) => $($f)::+::<V6m, 2, 2, true>($($a),*),
            ("portable", 4, 2, true) => $($f)::+::<Portable, 4, 2, true>($($a),*),
            ("portable", 4, 2, false) => $($f)::+::<Portable, 4, 2, false>($($a),*),
            ("portable", 4, 1, true) => $($f)::+::<Portable, 4, 1, true>($($a),*),
            ("portable", 4, 1, false) => $($f)::+::<Portable, 4, 1, false>($($a),*),
            ("portable", 2, 2, true) => $($f)::+::<Portable, 2, 2, true>($($a),*),
            ("portable", 4, 4, true) => $($f)::+::<Portable, 4, 4, true>($($a),*),
            ("portable", 4, 4, false) => $($f)::+::<Portable, 4, 4, false>($($a),*),
            other => return Err(PyValueError::new_err(format!("no packed kernel for {other:?}"))),
        }
    };
}

/// (family, KH, KW, fast) -> `depthwise_s8::<Family, KH, KW, FAST>`: the filter sizes the
/// compiler instantiates (python/arielml/lower/packing.py: DW_SPECIALISED), else 0, 0.
macro_rules! dispatch_dw {
    ($fam:expr, $k:expr, $fast:expr, ($($a:expr),*)) => {
        match ($fam, $k, $fast) {
            ("dsp", (3, 3), true) => gemm::depthwise_s8::<Dsp, 3, 3, true>($($a),*),
            ("dsp", (3, 3), false) => gemm::depthwise_s8::<Dsp, 3, 3, false>($($a),*),
            ("dsp", (5, 5), true) => gemm::depthwise_s8::<Dsp, 5, 5, true>($($a),*),
            ("dsp", _, true) => gemm::depthwise_s8::<Dsp, 0, 0, true>($($a),*),
            ("dsp", _, false) => gemm::depthwise_s8::<Dsp, 0, 0, false>($($a),*),
            ("rv32" | "portable", (3, 3), true) => gemm::depthwise_s8::<Portable, 3, 3, true>($($a),*),
            ("rv32" | "portable", (3, 3), false) => gemm::depthwise_s8::<Portable, 3, 3, false>($($a),*),
            ("rv32" | "portable", (5, 5), true) => gemm::depthwise_s8::<Portable, 5, 5, true>($($a),*),
            ("rv32" | "portable", _, true) => gemm::depthwise_s8::<Portable, 0, 0, true>($($a),*),
            ("rv32" | "portable", _, false) => gemm::depthwise_s8::<Portable, 0, 0, false>($($a),*),
            ("v6m", (3, 3), true) => gemm::depthwise_s8::<V6m, 3, 3, true>($($a),*),
            ("v6m", (3, 3), false) => gemm::depthwise_s8::<V6m, 3, 3, false>($($a),*),
            ("v6m", _, true) => gemm::depthwise_s8::<V6m, 0, 0, true>($($a),*),
            ("v6m", _, false) => gemm::depthwise_s8::<V6m, 0, 0, false>($($a),*),
            other => return Err(PyValueError::new_err(format!("no packed depthwise kernel for {other:?}"))),
        }
    };
}

/// KC and prepared bytes per K of a family (the packer's layout facts).
#[pyfunction]
fn gemm_layout(family: &str) -> PyResult<(usize, usize)> {
    Ok(match family {
        "dsp" => (<Dsp as Micro<2, 2>>::KC, <Dsp as Micro<2, 2>>::PREPARED_BYTES_PER_K),
        "portable" | "rv32" => (<Portable as Micro<4, 2>>::KC, <Portable as Micro<4, 2>>::PREPARED_BYTES_PER_K),
        "v6m" => (<V6m as Micro<4, 1>>::KC, <V6m as Micro<4, 1>>::PREPARED_BYTES_PER_K),
        other => return Err(PyValueError::new_err(format!("unknown kernel family '{other}'"))),
    })
}

fn words(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// `geom` is (in NHWC, filter OHWI, out NHWC, (stride h, w), (dilation h, w), (pad top, left));
/// `params` are the words of `GemmConv` (its window is built from `geom`).
#[pyfunction]
#[pyo3(signature = (family, mr, nr, input, weights, bias, mult, shift, geom, params, fast_requant, scratch_words, tile_=None, out=None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn gemm_conv_s8<'py>(
    py: Python<'py>, family: &str, mr: usize, nr: usize, input: &[u8], weights: &[u8],
    bias: Vec<i32>, mult: Vec<i32>, shift: Vec<i32>,
    geom: ([usize; 4], [usize; 4], [usize; 4], (usize, usize), (usize, usize), (usize, usize)),
    params: Vec<i32>, fast_requant: bool, scratch_words: usize, tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (i, f, o, stride, dil, pad) = geom;
    let s = |d: [usize; 4]| Shape4::new(d[0], d[1], d[2], d[3]);
    let window = Window2d {
        input: s(i), filter: s(f), output: s(o), stride_h: stride.0, stride_w: stride.1,
        dilation_h: dil.0, dilation_w: dil.1, pad_top: pad.0, pad_left: pad.1,
    };
    let p: GemmConv = build_with((window,), &params)?;
    check(&p.window, &bias, &mult, &shift, mr, weights.len(), p.kp)?;
    let x = i8s(input, window.input.len())?;
    let mut y = out_i8(out, window.output.len())?;
    let w = words(weights);
    let packed = Packed { weights: &w, bias: &bias, multiplier: &mult, shift: &shift };
    let mut scratch = vec![0u32; scratch_words];
    let t = tile(tile_);
    dispatch!(family, mr, nr, fast_requant, gemm::conv_s8, (&p, &packed, &x, cells(&mut y), &t, &mut scratch));
    Ok(i8_bytes(py, &y))
}

fn check(w: &Window2d, bias: &[i32], mult: &[i32], shift: &[i32], mr: usize, wbytes: usize, kp: usize) -> PyResult<()> {
    let m = w.output.c;
    let blocks = m.div_ceil(mr.max(1));
    if bias.len() < blocks * mr || mult.len() < m || shift.len() < m || wbytes < blocks * mr * kp {
        return Err(PyValueError::new_err("packed tables too short for the output channels"));
    }
    Ok(())
}

/// `params` are the words of `GemmFc` (`Params::from_words`).
#[pyfunction]
#[pyo3(signature = (family, mr, nr, input, weights, bias, mult, shift, params, fast_requant, scratch_words, tile_=None, out=None))]
#[allow(clippy::too_many_arguments)]
fn gemm_fully_connected_s8<'py>(
    py: Python<'py>, family: &str, mr: usize, nr: usize, input: &[u8], weights: &[u8],
    bias: Vec<i32>, mult: Vec<i32>, shift: Vec<i32>, params: Vec<i32>, fast_requant: bool,
    scratch_words: usize, tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let p: GemmFc = build(&params)?;
    let (batches, depth, units, kp) = (p.batches, p.depth, p.units, p.kp);
    let blocks = units.div_ceil(mr.max(1));
    if bias.len() < blocks * mr || mult.len() < units || shift.len() < units || weights.len() < blocks * mr * kp {
        return Err(PyValueError::new_err("packed tables too short for the units"));
    }
    let x = i8s(input, batches * depth)?;
    let mut y = out_i8(out, batches * units)?;
    let w = words(weights);
    let packed = Packed { weights: &w, bias: &bias, multiplier: &mult, shift: &shift };
    let mut scratch = vec![0u32; scratch_words];
    let t = tile(tile_);
    dispatch!(family, mr, nr, fast_requant, gemm::fully_connected_s8, (&p, &packed, &x, cells(&mut y), &t, &mut scratch));
    Ok(i8_bytes(py, &y))
}

/// `geom` as for `gemm_conv_s8` (filter (1, kh, kw, C)); `params` are the words of
/// `GemmDepthwise`.
#[pyfunction]
#[pyo3(signature = (family, input, weights, bias, mult, shift, geom, params, fast_requant, tile_=None, out=None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn gemm_depthwise_s8<'py>(
    py: Python<'py>, family: &str, input: &[u8], weights: &[u8], bias: Vec<i32>, mult: Vec<i32>, shift: Vec<i32>,
    geom: ([usize; 4], [usize; 4], [usize; 4], (usize, usize), (usize, usize), (usize, usize)),
    params: Vec<i32>, fast_requant: bool, tile_: TileArg, out: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (i, f, o, stride, dil, pad) = geom;
    let s = |d: [usize; 4]| Shape4::new(d[0], d[1], d[2], d[3]);
    let window = Window2d {
        input: s(i), filter: s(f), output: s(o), stride_h: stride.0, stride_w: stride.1,
        dilation_h: dil.0, dilation_w: dil.1, pad_top: pad.0, pad_left: pad.1,
    };
    let p: GemmDepthwise = build_with((window,), &params)?;
    let (c, taps) = (window.output.c, window.filter.h * window.filter.w);
    if window.input.c != c || window.filter.c != c || bias.len() < c.div_ceil(4) * 4 || mult.len() < c
        || shift.len() < c || weights.len() < c.div_ceil(4) * taps * 4
    {
        return Err(PyValueError::new_err("depthwise tables too short for the channels"));
    }
    let x = i8s(input, window.input.len())?;
    let mut y = out_i8(out, window.output.len())?;
    let w = words(weights);
    let packed = Packed { weights: &w, bias: &bias, multiplier: &mult, shift: &shift };
    let t = tile(tile_);
    let k = (window.filter.h, window.filter.w);
    let mut scratch = vec![0u32; gemm::depthwise_scratch_words(c)];
    dispatch_dw!(family, k, fast_requant, (&p, &packed, &x, cells(&mut y), &t, &mut scratch));
    Ok(i8_bytes(py, &y))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gemm_layout, m)?)?;
    m.add_function(wrap_pyfunction!(gemm_conv_s8, m)?)?;
    m.add_function(wrap_pyfunction!(gemm_fully_connected_s8, m)?)?;
    m.add_function(wrap_pyfunction!(gemm_depthwise_s8, m)?)?;
    Ok(())
}
