#!/usr/bin/env bash
# Set up (idempotent), then run every test: Rust unit tests on the host, then the
# Python suite, which includes the firmware runs under QEMU.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
cargo test --locked -q
"$ROOT/.venv/bin/python" -m pytest -q "$@"
