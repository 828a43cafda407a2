#!/usr/bin/env bash
# The main job: set up (idempotent), check the tools, start every core of the emulated
# dual-core board, then build a model into firmware and run it on that board under QEMU,
# checked against TFLM. Uses the bundled demo model (generated, models/demo.py), and the
# MLPerf Tiny keyword-spotting model too when ../shared/models/mlperf-tiny is present.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
ARIELML="$ROOT/.venv/bin/arielml"
DEMO_DIR="${ARIELML_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/arielml}/demo"

"$ARIELML" doctor --board qemu-an521 --board qemu-riscv32
"$ARIELML" hello --board qemu-an521

"$ROOT/.venv/bin/python" "$ROOT/models/demo.py" "$DEMO_DIR/demo_int8.tflite"
"$ARIELML" inspect "$DEMO_DIR/demo_int8.tflite"
"$ARIELML" run "$DEMO_DIR/demo_int8.tflite" --board qemu-an521 --cores 2 --check

KWS="$ROOT/../shared/models/mlperf-tiny/kws_ref_model.tflite"
if [ -f "$KWS" ]; then
    "$ARIELML" run "$KWS" --board qemu-an521 --cores 2 --check
    "$ARIELML" schedule "$KWS" --board qemu-an521 --cores 2
fi
