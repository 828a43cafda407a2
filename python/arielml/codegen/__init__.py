"""Generate the firmware crate for a compiled model (see crate.py and model_rs.py)."""

from arielml.codegen.crate import GeneratedCrate, generate_crate, write_crate

__all__ = ["GeneratedCrate", "generate_crate", "write_crate"]
