"""Kernel parameter structs are declared once, in the kernels (`params!`): the extension
exports their field lists and builds them from words, and `lower.base.params_lit` writes
the firmware's literal from the same words, so host and firmware read one list the same
way. No cargo: the Rust side is seen through the extension."""

from __future__ import annotations

import re

import numpy as np
import pytest

from arielml import _native
from arielml.lower import host_kernels as K
from arielml.lower.base import param_fields, param_struct, param_words, params_lit

STRUCTS = dict(_native.param_structs())
_LIT = re.compile(r"^(?P<path>(?:\w+::)+)(?P<name>\w+) \{ (?P<body>.*) \}$")


def _parse(lit: str) -> tuple[str, str, list[tuple[str, str]]]:
    m = _LIT.match(lit)
    assert m, lit
    return m["path"][:-2], m["name"], [tuple(f.split(": ")) for f in m["body"].split(", ")]


def test_the_converted_structs_are_exported():
    want = {"SigmoidParams", "LeakyReluParams", "RequantizeParams", "HardSwishParams", "ArithmeticParams",
            "SoftmaxParams", "FullyConnectedParams", "GemmFc", "Conv2dParams", "DepthwiseParams", "PoolParams",
            "MeanParams", "GemmConv", "GemmDepthwise"}
    assert want <= set(STRUCTS)
    assert STRUCTS["Conv2dParams"][1] == STRUCTS["GemmConv"][1] == ["window"]
    assert STRUCTS["MeanParams"][1] == ["shape"]


def _given(name):
    return {g: f"GIVEN_{g.upper()}" for g in STRUCTS[name][1]}


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_literal_names_exactly_the_rust_fields(name):
    path, given, fields, types = STRUCTS[name]
    assert path.startswith("arielml_kernels::") and len(fields) == len(types)
    assert len(set(given + fields)) == len(given) + len(fields)
    assert param_struct(name) == (path, tuple(given), tuple(fields), tuple(types))
    words = [int(t == "bool") or i for i, t in enumerate(types, 1)]  # fits every field type
    got_path, got_name, pairs = _parse(params_lit(name, words, **_given(name)))
    assert (got_path, got_name) == (path, name)
    rust = {"bool": lambda w: "true" if w else "false"}
    want = [(g, f"GIVEN_{g.upper()}") for g in given]
    want += [(f, rust.get(t, str)(w)) for f, w, t in zip(fields, words, types)]
    assert pairs == want
    assert param_words(name, **dict(zip(fields, words))) == words
    _native.check_params(name, words)  # the host builds the struct from the same words


@pytest.mark.parametrize("name", [n for n in sorted(STRUCTS) if STRUCTS[n][1]])
def test_given_fields_must_all_be_given(name):
    words = [0] * len(param_fields(name))
    with pytest.raises(ValueError, match="takes given fields"):
        params_lit(name, words)
    with pytest.raises(ValueError, match="takes given fields"):
        params_lit(name, words, **_given(name), extra="1")


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_wrong_count_raises(name):
    n = len(param_fields(name))
    for words in ([0] * (n - 1), [0] * (n + 1)):
        with pytest.raises(ValueError, match=f"{name} takes {n} params"):
            params_lit(name, words, **_given(name))
        with pytest.raises(ValueError, match=f"{name} takes {n} params"):
            _native.check_params(name, words)


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_wrong_names_raise(name):
    fields = param_fields(name)
    named = dict.fromkeys(fields, 0)
    with pytest.raises(ValueError, match="missing fields"):
        param_words(name, **{k: v for k, v in named.items() if k != fields[0]})
    with pytest.raises(ValueError, match="unknown fields"):
        param_words(name, **named, not_a_field=1)


def test_out_of_range_words_raise_on_both_sides():
    i16 = param_fields("HardSwishParams").index("reluish_multiplier")
    words = [0] * 6
    words[i16] = 1 << 15
    with pytest.raises(ValueError, match=r"HardSwishParams.reluish_multiplier is i16"):
        params_lit("HardSwishParams", words)
    with pytest.raises(ValueError, match=r"HardSwishParams.reluish_multiplier is i16"):
        K.unary_s8("hard_swish", np.zeros((1, 1, 1, 2), np.int8), words)
    with pytest.raises(ValueError, match=r"SoftmaxParams.rows is usize"):
        params_lit("SoftmaxParams", [-1, 1, 0, 0, 0])
    with pytest.raises(ValueError, match=r"GemmConv.direct is bool"):
        params_lit("GemmConv", [4, 0, 2, 0, 0, 0], window="w")
    with pytest.raises(ValueError, match=r"GemmConv.pad_value is i8"):
        params_lit("GemmConv", [4, 128, 0, 0, 0, 0], window="w")


def test_unknown_struct_and_non_integer_words_raise():
    with pytest.raises(KeyError):
        params_lit("NoSuchParams", [])
    with pytest.raises(TypeError):
        params_lit("RequantizeParams", [0, 0, 1.5, 0])
