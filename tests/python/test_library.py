"""The model as a library in the user's own firmware (`arielml build --emit lib`): the
generated crate's API, and a user application outside the generated tree
(examples/an521-app) that links it, runs the model on both cores of qemu-an521 and
prints the result, bit-exact with TFLM."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from _models import model_path
from arielml import api
from arielml.boards import REPO_ROOT, get_board
from arielml.build.cargo import build_crate
from arielml.codegen.library import generate_library
from arielml.errors import UsageError
from arielml.plan.arena import plan_arena
from arielml.target.qemu import run_to_exit

KWS = model_path("kws_ref_model.tflite")
AN521 = get_board("qemu-an521")


def test_the_crate_declares_the_model_and_a_typed_api(tmp_path):
    c = api.compile(KWS, board=AN521, cores=2)
    crate = generate_library(c, plan_arena(c), AN521, tmp_path, "kws")
    lib = crate.files["src/lib.rs"].decode()
    g = c.graph
    (x,), (y,) = (g.tensor(n) for n in g.inputs), (g.tensor(n) for n in g.outputs)
    assert f"pub fn run<P: Platform>(&mut self, input0: &[i8; {x.type.numel}], output0: &mut [i8; {y.type.numel}])" in lib
    assert f'pub const MODEL_SHA256: &str = "{g.digest}";' in lib and "pub const CORES: usize = 2;" in lib
    assert f"zero_point: {x.quant.zero_point[0]} }}" in lib
    assert 'name = "kws"' in crate.files["Cargo.toml"].decode()
    # no serial protocol, server, panic handler or entry of arielml's in the library
    assert not re.search(r"serve::run|panic_handler|entry!|#!\[no_main\]", lib + crate.files["src/model.rs"].decode())


def test_multi_image_boards_are_refused_for_now(tmp_path):
    with pytest.raises(UsageError, match="one image per core"):
        api.build_library(KWS, get_board("nrf5340"), tmp_path)


@pytest.mark.qemu
def test_a_user_application_runs_the_library_on_both_cores_bit_exact(tmp_path):
    lib = api.build_library(KWS, AN521, tmp_path / "model", name="model")
    g = lib.compiled.graph
    (name,) = g.inputs
    x = np.random.default_rng(5).integers(-128, 128, size=g.tensor(name).shape, dtype=np.int8)
    (tmp_path / "model" / "input.bin").write_bytes(x.tobytes())
    app = tmp_path / "app"
    shutil.copytree(REPO_ROOT / "examples" / "an521-app", app, ignore=shutil.ignore_patterns("target", "Cargo.lock"))
    toml = app / "Cargo.toml"
    toml.write_text(toml.read_text().replace('"../../firmware/', f'"{(REPO_ROOT / "firmware").as_posix()}/'))
    shutil.copyfile(REPO_ROOT / "Cargo.lock", app / "Cargo.lock")
    built = build_crate(AN521, "an521-app", manifest=toml, binary="an521-app", image=0)
    result = run_to_exit(AN521, built.elf, timeout=120)
    assert result.exit_code == 0, result.text
    print(result.text)
    m = re.search(r"on 2 cores: top class (\d+) scores((?: -?\d+)+)", result.text)
    assert m, result.text
    scores = np.array([int(v) for v in m.group(2).split()], np.int8)
    host = api.run(KWS, "host", cores=2, inputs={name: x})
    (out,) = host.outputs.values()
    assert np.array_equal(scores, out.reshape(-1))
    assert int(m.group(1)) == int(np.argmax(out.reshape(-1)))
    assert api.check(host).ok  # and the host run is TFLM's, byte for byte
