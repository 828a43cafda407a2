"""What the memory planner is given and what it returns.

A planning problem is a set of buffers plus a symmetric "may be live at the same time"
conflict relation. Two buffers that do not conflict may share bytes; two that conflict
must not, except for an in-place pair (an op writing its output over an input that dies at
that op), which may sit at exactly the same offset. The conflict relation is the whole
story about time: it comes from sequential intervals or from a parallel schedule (see
`lifetimes.py`), so the planners never need to know which one.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

BufferId = Hashable


class PlanError(ValueError):
    """A malformed planning problem: a bug in the caller (the compiler), not user input."""


@dataclass(frozen=True)
class Buffer:
    """A block of `size` bytes whose offset must be a multiple of `align` (a power of two)."""

    id: BufferId
    size: int
    align: int = 16

    def __post_init__(self) -> None:
        if self.size < 0:
            raise PlanError(f"buffer {self.id!r}: negative size {self.size}")
        if self.align < 1 or self.align & (self.align - 1):
            raise PlanError(f"buffer {self.id!r}: alignment {self.align} is not a power of two")


def _pairs(raw: Iterable[Iterable[BufferId]], known: set, what: str) -> frozenset[frozenset]:
    out = set()
    for pair in raw:
        a, b = tuple(pair)
        if a not in known or b not in known:
            raise PlanError(f"{what} ({a!r}, {b!r}) names an unknown buffer")
        if a == b:
            raise PlanError(f"{what} ({a!r}, {b!r}) pairs a buffer with itself")
        out.add(frozenset((a, b)))
    return frozenset(out)


@dataclass(frozen=True)
class Problem:
    """Buffers, which pairs conflict, and which conflicting pairs may alias exactly.

    `conflicts` and `may_alias` accept any iterable of 2-element pairs; they are stored as
    frozensets of frozenset pairs, so order never matters. An alias hint on a pair that
    does not conflict is harmless (the buffers may share memory anyway).
    """

    buffers: tuple[Buffer, ...]
    conflicts: frozenset[frozenset] = frozenset()
    may_alias: frozenset[frozenset] = frozenset()

    def __post_init__(self) -> None:
        bufs = tuple(self.buffers)
        ids = [b.id for b in bufs]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise PlanError(f"buffer id {dup!r} appears twice")
        known = set(ids)
        object.__setattr__(self, "buffers", bufs)
        object.__setattr__(self, "conflicts", _pairs(self.conflicts, known, "conflict"))
        object.__setattr__(self, "may_alias", _pairs(self.may_alias, known, "alias hint"))

    def by_id(self) -> dict[BufferId, Buffer]:
        return {b.id: b for b in self.buffers}

    def neighbours(self) -> dict[BufferId, set[BufferId]]:
        """Adjacency of the conflict relation, every buffer present (maybe with no edges)."""
        adj: dict[BufferId, set[BufferId]] = {b.id: set() for b in self.buffers}
        for pair in self.conflicts:
            a, b = tuple(pair)
            adj[a].add(b)
            adj[b].add(a)
        return adj


@dataclass(frozen=True)
class Plan:
    """Byte offsets into one arena whose base is aligned to at least the largest `align`.

    `method` records which planner produced the layout ("greedy", "oracle", or
    "greedy->oracle" when greedy lost to the no-reuse layout and fell back to it).
    """

    problem: Problem
    offsets: Mapping[BufferId, int]
    arena_size: int
    method: str = field(default="")

    def end(self, buf_id: BufferId) -> int:
        return self.offsets[buf_id] + self.problem.by_id()[buf_id].size


def align_up(value: int, align: int) -> int:
    return (value + align - 1) & ~(align - 1)
