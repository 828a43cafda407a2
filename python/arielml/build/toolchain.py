"""Find a Rust toolchain, a linker and QEMU for a board, looking only at PATH.

Two kinds of Rust toolchain can build firmware:
- rustup, with the board's target installed (`rustup target add T`): prebuilt core.
- a rustc whose sysroot ships the standard-library sources (Debian's rustc-web +
  rust-web-src, or rustup with the rust-src component): core is built from source with
  cargo's build-std, which needs RUSTC_BOOTSTRAP=1 on a stable compiler.
rustup with the target wins (no core build); build-std is the fallback. Only PATH is
searched, so what `doctor` reports is exactly what a build will use.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from arielml.errors import ToolMissing

DEBIAN_RUST = "apt-get install -y rustc-web cargo-web rust-web-src lld-19"


@dataclass(frozen=True)
class RustToolchain:
    rustc: Path
    cargo: Path
    version: str
    kind: str  # "rustup" (prebuilt target) or "build-std"
    linker: Path | None  # explicit linker to pass; None: rustc's default (rustup's rust-lld)

    @property
    def build_std(self) -> bool:
        return self.kind == "build-std"

    def describe(self) -> str:
        how = "rustup target, prebuilt core" if not self.build_std else "core built from source (build-std)"
        link = f"; linker {self.linker}" if self.linker else ""
        return f"{self.rustc} [{self.version}]; {how}{link}"


def _path_entries(env_path: str | None = None) -> list[Path]:
    raw = os.environ.get("PATH", "") if env_path is None else env_path
    return [Path(p) for p in raw.split(os.pathsep) if p]


def _all_on_path(name: str, env_path: str | None = None) -> list[Path]:
    """Every executable called `name` on PATH, in PATH order, without duplicates."""
    found: list[Path] = []
    for d in _path_entries(env_path):
        p = d / name
        if p.is_file() and os.access(p, os.X_OK) and p.resolve() not in [f.resolve() for f in found]:
            found.append(p)
    return found


@functools.lru_cache(maxsize=None)
def _run(*cmd: str) -> str | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def _is_rustup_proxy(rustc: Path) -> bool:
    return rustc.resolve().name.startswith("rustup")


def find_lld(env_path: str | None = None) -> Path | None:
    """An ld.lld for bare-metal links (Debian names it ld.lld-NN)."""
    for d in _path_entries(env_path):
        if (d / "ld.lld").is_file():
            return d / "ld.lld"
        versioned = sorted(d.glob("ld.lld-[0-9]*"), key=lambda p: int(p.name.rsplit("-", 1)[1]))
        if versioned:
            return versioned[-1]
    return None


def _candidates(target: str, env_path: str | None) -> list[RustToolchain]:
    out: list[RustToolchain] = []
    for rustc in _all_on_path("rustc", env_path):
        cargo = rustc.parent / "cargo"
        version = _run(str(rustc), "--version")
        if not cargo.is_file() or version is None:
            continue
        sysroot = Path(_run(str(rustc), "--print", "sysroot") or "/nonexistent")
        if _is_rustup_proxy(rustc):
            installed = (_run(str(rustc.parent / "rustup"), "target", "list", "--installed") or "").split()
            if target in installed:
                out.append(RustToolchain(rustc, cargo, version, "rustup", None))
                continue
        if (sysroot / "lib/rustlib/src/rust/library/core").is_dir():
            lld = find_lld(env_path)
            rust_lld = next(sysroot.glob("lib/rustlib/*/bin/rust-lld"), None)
            linker = None if rust_lld and rust_lld.exists() else lld
            if linker is not None or rust_lld is not None:
                out.append(RustToolchain(rustc, cargo, version, "build-std", linker))
    return out


def find_rust(target: str, env_path: str | None = None) -> RustToolchain | None:
    """The toolchain a build for `target` uses: rustup with the target, else build-std."""
    cands = _candidates(target, env_path)
    cands.sort(key=lambda t: t.kind != "rustup")
    return cands[0] if cands else None


def rust_fix_hint(target: str, env_path: str | None = None) -> str:
    if any(_is_rustup_proxy(r) for r in _all_on_path("rustc", env_path)):
        return f"rustup target add {target}   (or: sudo {DEBIAN_RUST})"
    return f"sudo {DEBIAN_RUST}"


def require_rust(target: str) -> RustToolchain:
    tc = find_rust(target)
    if tc is None:
        raise ToolMissing(f"no Rust toolchain can build {target}; fix: {rust_fix_hint(target)}")
    return tc


QEMU_PACKAGES = {"qemu-system-arm": "qemu-system-arm", "qemu-system-riscv32": "qemu-system-misc"}


def find_qemu(binary: str, env_path: str | None = None) -> tuple[Path, str] | None:
    found = shutil.which(binary, path=os.environ.get("PATH", "") if env_path is None else env_path)
    if not found:
        return None
    version = (_run(found, "--version") or "unknown version").splitlines()[0]
    return Path(found), version


def qemu_fix_hint(binary: str) -> str:
    return f"sudo apt-get install -y {QEMU_PACKAGES.get(binary, 'qemu-system')}"


def require_qemu(binary: str) -> Path:
    found = find_qemu(binary)
    if found is None:
        raise ToolMissing(f"{binary} not found on PATH; fix: {qemu_fix_hint(binary)}")
    return found[0]
