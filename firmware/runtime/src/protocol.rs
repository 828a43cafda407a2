//! Framed host <-> device serial protocol (see python/arielml/protocol.py for the host side).
