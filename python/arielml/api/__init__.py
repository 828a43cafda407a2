"""The Python API: what the `arielml` commands do, as functions. The commands in
arielml.cli parse options, call one of these, and print; scripts and notebooks call them
directly.

    from arielml import api
    g = api.load("kws.tflite")                         # imported + optimized IR graph
    c = api.compile("kws.tflite", cores=2)             # tiles, costs, static schedule (host)
    b = api.build("kws.tflite", api.get_board("qemu-an521"))   # firmware + manifest
    ran = api.run("kws.tflite", "qemu-an521")          # one inference; ran.outputs
    print(api.check(ran).summary())                    # against TFLM / onnxruntime
    figures = api.bench("kws.tflite", "qemu-an521", runs=3)

Every function raises arielml.errors.ArielError (one line, with an exit code) for
anything the user can fix.
"""

from arielml.api.execution import Ran, check, run
from arielml.api.inspect import Report, inspect_model
from arielml.api.scheduling import gantt, schedule_lines
from arielml.api.scheduling import schedule_model as schedule
from arielml.api.timing import bench, bench_lines
from arielml.boards import get_board, load_boards
from arielml.build import Build, Library, build_library
from arielml.build import build_model as build
from arielml.pipeline import Compiled, compile_model as compile, load

__all__ = ["Build", "Compiled", "Library", "build_library", "Ran", "Report", "bench", "bench_lines", "build", "check", "compile",
           "gantt", "get_board", "inspect_model", "load", "load_boards", "run", "schedule",
           "schedule_lines"]
