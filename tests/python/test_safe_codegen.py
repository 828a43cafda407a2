"""Foreign strings never become code: a model file name full of newlines, comment
terminators, quotes and non-ASCII reaches the generated crate only through codegen/safe.py."""

from __future__ import annotations

import re
import shutil

import pytest

from _models import MODELS_DIR
from arielml.boards import get_board
from arielml.build import build_model
from arielml.codegen import safe, write_crate
from arielml.pipeline import compile_model
from arielml.plan.arena import plan_arena

INJECTED = 'compile_error!("injected");'
HOSTILE = f'a\n{INJECTED}\n#[cfg(any())] mod m */ /* "q" \\ \u00e9\u2028\r\t\x1b end.tflite'
# A file name cannot hold "/": comment terminators are covered by the unit tests.
HOSTILE_FILE = HOSTILE.replace("/", "")


@pytest.mark.parametrize("text", [HOSTILE, "*/", "/*", "\n", "\r\n", "\u2028\u2029\x85", "\"'\\", "é日本", ""])
def test_comment_is_one_inert_printable_line(text):
    s = safe.comment(text)
    assert all(" " <= ch <= "~" for ch in s)
    assert "*/" not in s and "/*" not in s
    assert len(s) <= safe.COMMENT_MAX


def test_comment_keeps_plain_names_and_shows_escapes():
    assert safe.comment("kws_ref_model.tflite") == "kws_ref_model.tflite"
    assert safe.comment("a\nb") == "a\\u{a}b"
    assert len(safe.comment("x" * 1000)) == safe.COMMENT_MAX


@pytest.mark.parametrize("text", [HOSTILE, '"', "\\", "é", "\n"])
def test_string_literals_cannot_be_closed_early(text):
    s = safe.rust_str(text)
    # every quote is escaped, every backslash starts an escape
    assert re.fullmatch(r'(?:[ -!#-\[\]-~]|\\["\\]|\\u\{[0-9a-f]+\})*', s), s
    t = safe.toml_str(text)
    assert re.fullmatch(r'(?:[ -!#-\[\]-~]|\\["\\]|\\U[0-9A-F]{8})*', t), t


@pytest.mark.parametrize("text,want", [("model", "model"), ("9lives", "x_9lives"), ("", "x_"),
                                       ("a-b.c", "a_b_c"), (HOSTILE, None)])
def test_identifiers(text, want):
    s = safe.ident(text)
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", s) and s != "_"
    if want is not None:
        assert s == want


def _crate_files(crate_dir):
    return {p.relative_to(crate_dir).as_posix(): p.read_bytes() for p in sorted(crate_dir.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("board_name", ["qemu-an521", "nrf5340"])
def test_hostile_model_name_generates_the_same_code_as_a_plain_one(tmp_path, board_name):
    board = get_board(board_name)
    hostile = tmp_path / "h" / HOSTILE_FILE
    plain = tmp_path / "p" / "m.tflite"
    for p in (hostile, plain):
        p.parent.mkdir()
        shutil.copyfile(MODELS_DIR / "ad01_int8.tflite", p)
    crates = {}
    for tag, path in (("h", hostile), ("p", plain)):
        c = compile_model(path, board=board, cores=len(board.cores))
        crates[tag] = _crate_files(write_crate(c, plan_arena(c), board, tmp_path / f"out-{tag}").dir)
    assert crates["h"].keys() == crates["p"].keys()
    for name, data in crates["h"].items():
        if name.endswith(".bin") or name == "Cargo.lock":
            assert data == crates["p"][name]
            continue
        text = data.decode("ascii")  # nothing but ASCII reaches the sources
        assert HOSTILE_FILE not in text
        # the name is shown only inside comments, with its newlines escaped
        starts = ("//",) if name.endswith(".rs") else ("#", "/*")
        assert all(line.lstrip().startswith(starts) for line in text.splitlines() if "injected" in line)
        for line in text.splitlines():
            assert not line.lstrip().startswith(("compile_error", "#[cfg(any())] mod m")), (name, line)
        # The same code: only the comment naming the model (and the package hash) differ.
        norm = lambda t: re.sub(r"(Model|Firmware for) .*? (on|[0-9]+ core)", r"\1 NAME \2", t)  # noqa: E731
        norm_pkg = lambda t: re.sub(r"arielml-model-[0-9a-f]{10}", "PKG", t)  # noqa: E731
        assert norm_pkg(norm(text)) == norm_pkg(norm(crates["p"][name].decode())), name


@pytest.mark.slow
def test_hostile_model_name_builds(tmp_path):
    hostile = tmp_path / HOSTILE_FILE
    shutil.copyfile(MODELS_DIR / "ad01_int8.tflite", hostile)
    b = build_model(hostile, get_board("qemu-an521"), cores=2, out=tmp_path / "out")
    assert b.elf.is_file() and b.elf.stat().st_size > 0


def test_keywords_surrogates_and_path_parts():
    assert safe.ident("fn") == "fn_" and safe.ident("Self") == "Self_" and safe.ident("fn_") == "fn_"
    # a lone surrogate (undecodable file name) has no Rust or TOML escape: U+FFFD instead
    assert safe.rust_str("\udcff") == "\\u{fffd}" and safe.toml_str("\udcff") == "\\U0000FFFD"
    assert safe.comment("\udcff") == "\\u{fffd}"
    for text in (HOSTILE, "", ".", "..", "-x", "a/b"):
        s = safe.path_part(text)
        assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*", s) and len(s) <= safe.PATH_PART_MAX, s
    assert safe.path_part("ad01_int8") == "ad01_int8"


def test_default_build_directory_of_a_hostile_name_is_one_plain_component(tmp_path):
    from pathlib import Path

    from arielml.build import default_out
    board = get_board("qemu-an521")
    assert default_out(Path("ad01_int8.tflite"), board, 2, "static").name == "ad01_int8-qemu-an521-2c"
    a = default_out(Path(HOSTILE_FILE), board, 2, "static")
    b = default_out(Path(HOSTILE_FILE.replace("a\n", "b\n")), board, 2, "static")
    assert a != b and a.parent == b.parent
    assert re.fullmatch(r"[A-Za-z0-9._-]+", a.name), a.name


def test_hostile_tensor_and_op_names_do_not_reach_the_crate(tmp_path):
    """Model contents name tensors, ops and the graph: none of it reaches generated text."""
    import dataclasses

    from arielml.pipeline import compile_graph, load
    board = get_board("qemu-an521")
    model = tmp_path / "m.tflite"
    shutil.copyfile(MODELS_DIR / "ad01_int8.tflite", model)
    g = load(model)
    ren = {name: f"{HOSTILE} t{i}" for i, name in enumerate(g.tensors)}
    hostile = dataclasses.replace(
        g, name=HOSTILE,
        tensors={ren[k]: dataclasses.replace(t, name=ren[k]) for k, t in g.tensors.items()},
        ops=[dataclasses.replace(op, name=f"{HOSTILE} op{i}", inputs=tuple(ren[x] for x in op.inputs),
                                 outputs=tuple(ren[x] for x in op.outputs)) for i, op in enumerate(g.ops)],
        inputs=[ren[x] for x in g.inputs], outputs=[ren[x] for x in g.outputs])
    crates = {}
    for tag, graph in (("h", hostile), ("p", g)):
        c = compile_graph(graph, source=model, board=board, cores=2)
        crates[tag] = _crate_files(write_crate(c, plan_arena(c), board, tmp_path / f"out-{tag}").dir)
    assert crates["h"].keys() == crates["p"].keys()
    norm_pkg = lambda t: re.sub(rb"arielml-model-[0-9a-f]{10}", b"PKG", t)  # noqa: E731
    for name, data in crates["h"].items():
        assert b"injected" not in data, name
        assert norm_pkg(data) == norm_pkg(crates["p"][name]), name
