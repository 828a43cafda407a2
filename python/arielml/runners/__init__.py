"""Where firmware runs: QEMU (emulated boards) and, later, a real board's serial port."""
