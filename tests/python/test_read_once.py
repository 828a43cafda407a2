"""The model file is read and hashed once per build (Graph.digest); the firmware sources
are hashed for the profile key only when their (size, mtime) changed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from _models import model_path
from arielml.boards import get_board
from arielml.build import image
from arielml.schedule import profiles

KWS = model_path("kws_ref_model.tflite")


class _Stop(Exception):
    pass


def _count_reads(monkeypatch, suffix: str) -> list[Path]:
    seen: list[Path] = []
    real = Path.read_bytes

    def counting(self):
        if self.suffix == suffix:
            seen.append(self)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    return seen


def test_a_build_reads_the_model_once_up_to_cargo(monkeypatch, tmp_path):
    model = tmp_path / "m.tflite"
    shutil.copyfile(KWS, model)
    reads = _count_reads(monkeypatch, ".tflite")

    def stop(*a, **k):
        raise _Stop

    monkeypatch.setattr(image, "build_crate", stop)  # everything before cargo runs
    with pytest.raises(_Stop):
        image.build_model(model, get_board("qemu-an521"), out=tmp_path / "out")
    assert reads == [model]
    # and the crate's model id is the file's hash, as the firmware reports it in HELLO
    main = (tmp_path / "out" / "crate" / "src" / "model.rs").read_text()
    assert f"{int.from_bytes(bytes.fromhex(profiles.file_digest(model))[:8], 'little'):#018x}" in main


def test_fingerprint_is_cached_until_a_source_changes(monkeypatch, tmp_path):
    monkeypatch.setenv("ARIELML_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "repo"
    for crate in ("firmware/kernels/src", "firmware/runtime/src", "firmware/boards/mps2/src"):
        (root / crate).mkdir(parents=True)
        (root / crate / "lib.rs").write_text(f"// {crate}\n")
    monkeypatch.setattr(profiles, "REPO_ROOT", root)
    board = get_board("qemu-an521")
    reads = _count_reads(monkeypatch, ".rs")
    first = profiles.firmware_fingerprint(board)
    assert len(reads) == 3
    assert profiles.firmware_fingerprint(board) == first and len(reads) == 3  # stat only
    kernel = root / "firmware/kernels/src/lib.rs"
    kernel.write_text("// a new kernel\n")
    st = kernel.stat()
    os.utime(kernel, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    changed = profiles.firmware_fingerprint(board)
    assert changed != first and len(reads) == 6
