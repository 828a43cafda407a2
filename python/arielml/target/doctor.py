"""What `arielml doctor` checks: for each board, the pieces a build and a run need.

Each check yields a Finding: what was looked for, what was found (or the exact command
that fixes it), and whether it is required. Pure data, so tests can assert on it and the
CLI only formats it.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import importlib.util
from dataclasses import dataclass

from arielml.boards import Board
from arielml.build.toolchain import find_qemu, find_rust, qemu_fix_hint, rust_fix_hint
from arielml.target.spike import SETUP_HINT, find_spike
from arielml.target.flash import ESP_INSTALL_HINT, INSTALL_HINT, PROBE_RS_HINT, esp_tools

PIP_REF = "pip install 'arielml[ref]'   (inside the project's .venv)"


@dataclass(frozen=True)
class Finding:
    scope: str  # board name, or "python"
    what: str
    ok: bool
    detail: str  # what was found, or the fix when missing
    required: bool = True


def check_board(board: Board, env_path: str | None = None) -> list[Finding]:
    out = []
    for target in board.targets:
        tc = find_rust(target, env_path)
        if tc:
            out.append(Finding(board.name, f"rust {target}", True, tc.describe()))
        else:
            out.append(Finding(board.name, f"rust {target}", False, "fix: " + rust_fix_hint(target, env_path)))
    if board.qemu is None and board.runtime.espressif:  # espflash or esptool
        for tool, found in esp_tools(env_path).items():
            detail = found or f"not found (optional: flashing); fix: {ESP_INSTALL_HINT}"
            out.append(Finding(board.name, tool, bool(found), detail, required=False))
    elif not board.emulated:  # a real board: what can put firmware on it (any one will do)
        for tool in ("picotool", "probe-rs") if board.firmware.uf2_family else ("probe-rs",):
            found = shutil.which(tool, path=os.environ.get("PATH", "") if env_path is None else env_path)
            hint = INSTALL_HINT if board.firmware.uf2_family else PROBE_RS_HINT
            detail = found or f"not found (optional: flashing); fix: {hint}"
            out.append(Finding(board.name, tool, bool(found), detail, required=False))
    if board.qemu is not None:
        q = find_qemu(board.qemu.binary, env_path)
        if q:
            out.append(Finding(board.name, board.qemu.binary, True, f"{q[0]} ({q[1]})"))
        else:
            out.append(Finding(board.name, board.qemu.binary, False, "fix: " + qemu_fix_hint(board.qemu.binary)))
    if board.spike is not None:
        exe, dtc = find_spike(), shutil.which("dtc", path=env_path)
        out.append(Finding(board.name, "spike", exe is not None, str(exe) if exe else "fix: " + SETUP_HINT))
        out.append(Finding(board.name, "dtc", dtc is not None, dtc or "fix: " + SETUP_HINT))
    return out


def _python_package(dist: str, module: str, role: str) -> Finding:
    if importlib.util.find_spec(module) is None:
        return Finding("python", dist, False, f"needed for {role}; fix: {PIP_REF}", required=False)
    return Finding("python", dist, True, f"{importlib.metadata.version(dist)} ({role})", required=False)


def check_python() -> list[Finding]:
    return [
        _python_package("tflite-micro", "tflite_micro", "--check of .tflite models against TFLM"),
        _python_package("onnxruntime", "onnxruntime", "--check of .onnx models"),
    ]


def check_all(boards: list[Board], env_path: str | None = None) -> list[Finding]:
    findings = []
    for b in boards:
        findings += check_board(b, env_path)
    return findings + check_python()
