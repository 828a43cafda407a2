"""Targets: what runs firmware and talks to it. The host protocol (protocol), emulators
(qemu, rp2040js), a real board over a serial port (serial_port), flashing (flash), the
device handle they all return (device), and the commands built on them (hello, profile,
doctor)."""
