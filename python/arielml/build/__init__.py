"""Build: a compiled model + a board -> firmware crate -> ELF (+ .bin, .uf2) + manifest.

image.py drives it, one path for every board (the crate generated in memory, the fit of
every image checked, then the files written and cargo run once per image); cargo.py runs cargo
with the toolchain of toolchain.py; elf.py and uf2.py read and convert what it made."""

from arielml.build.fit import check_fit, runtime_bytes, scratch_bytes
from arielml.build.image import Build, build_compiled, build_model, default_out, stored_costs
from arielml.build.library import Library, build_library
from arielml.pipeline import CODE_ESTIMATE

__all__ = ["Build", "CODE_ESTIMATE", "Library", "build_compiled", "build_library", "build_model", "check_fit",
           "default_out", "runtime_bytes", "scratch_bytes", "stored_costs"]
