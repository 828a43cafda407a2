#!/usr/bin/env bash
# The main job: set up (idempotent), check the tools, then start every core of the
# emulated dual-core board (QEMU mps2-an521) and of the 4-hart RISC-V board.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
ARIELML="$ROOT/.venv/bin/arielml"
"$ARIELML" doctor
"$ARIELML" hello --board qemu-an521
"$ARIELML" hello --board qemu-riscv32
