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


def _parse(lit: str) -> tuple[str, str, list[tuple[str, int]]]:
    m = _LIT.match(lit)
    assert m, lit
    pairs = [f.split(": ") for f in m["body"].split(", ")]
    return m["path"][:-2], m["name"], [(k, int(v)) for k, v in pairs]


def test_the_converted_structs_are_exported():
    want = {"SigmoidParams", "LeakyReluParams", "RequantizeParams", "HardSwishParams", "ArithmeticParams",
            "SoftmaxParams", "FullyConnectedParams", "GemmFc"}
    assert want <= set(STRUCTS)


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_literal_names_exactly_the_rust_fields(name):
    path, fields, types = STRUCTS[name]
    assert path.startswith("arielml_kernels::") and len(fields) == len(types) == len(set(fields))
    assert param_struct(name) == (path, tuple(fields))
    words = list(range(1, len(fields) + 1))  # small and positive: fits every integer type
    got_path, got_name, pairs = _parse(params_lit(name, words))
    assert (got_path, got_name) == (path, name)
    assert pairs == list(zip(fields, words))
    assert param_words(name, **dict(zip(fields, words))) == words
    _native.check_params(name, words)  # the host builds the struct from the same words


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_wrong_count_raises(name):
    n = len(param_fields(name))
    for words in ([0] * (n - 1), [0] * (n + 1)):
        with pytest.raises(ValueError, match=f"{name} takes {n} params"):
            params_lit(name, words)
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


def test_unknown_struct_and_non_integer_words_raise():
    with pytest.raises(KeyError):
        params_lit("NoSuchParams", [])
    with pytest.raises(TypeError):
        params_lit("RequantizeParams", [0, 0, 1.5, 0])
