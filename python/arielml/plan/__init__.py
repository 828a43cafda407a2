"""Static memory planning: place every tensor buffer at an offset in one arena.

Pure functions, no I/O. Build a `Problem` (buffers + conflicts + in-place hints) with
`from_intervals` (sequential schedule) or `from_schedule` (parallel task DAG), run
`plan_greedy` (or `plan_oracle`, the no-reuse reference), and check with `validate`.
"""

from .check import format_report, lower_bound, report, validate
from .lifetimes import Uses, from_intervals, from_schedule
from .planners import plan_greedy, plan_oracle
from .problem import Buffer, Plan, PlanError, Problem, align_up

__all__ = [
    "Buffer",
    "Plan",
    "PlanError",
    "Problem",
    "Uses",
    "align_up",
    "format_report",
    "from_intervals",
    "from_schedule",
    "lower_bound",
    "plan_greedy",
    "plan_oracle",
    "report",
    "validate",
]
