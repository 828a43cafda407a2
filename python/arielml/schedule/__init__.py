"""Scheduling: split ops into tiles (partition), price them (costs, stored profiles) and
place them on cores (list_sched, exact), then replay and draw the result (replay, gantt).
Imports ir only from below; never lower, plan, codegen, build or target."""

from arielml.schedule.list_sched import (Deadlock, Placement, Schedule, SolveReport, barrier_schedule,
                                         list_schedule, makespan_lower_bound, retime, simulate,
                                         upward_ranks)

__all__ = ["Deadlock", "Placement", "Schedule", "SolveReport", "barrier_schedule", "list_schedule",
           "makespan_lower_bound", "retime", "simulate", "upward_ranks"]
