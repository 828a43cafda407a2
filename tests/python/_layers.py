"""The import rule of python/arielml, as code: packages by pipeline stage, imports only
downward (ARCHITECTURE.md, "Rules"). Read from the source with `ast`, so imports inside
functions count as much as those at the top of a file."""

from __future__ import annotations

import ast
from pathlib import Path

# Lowest first. A module may import modules of its own layer or of a lower one.
LAYERS: list[tuple[str, ...]] = [
    ("arielml", "arielml._native", "arielml.errors", "arielml.paths", "arielml.boards"),
    ("arielml.ir",),
    ("arielml.frontends",),
    ("arielml.passes",),
    ("arielml.lower",),
    ("arielml.schedule",),
    ("arielml.pipeline",),
    ("arielml.oracle",),
    ("arielml.plan",),
    ("arielml.codegen",),
    ("arielml.build",),
    ("arielml.target",),
    ("arielml.api",),
    ("arielml.cli", "arielml.__main__"),
]


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    """Every module of the package at `root` (a directory holding __init__.py)."""
    return {module_name(root, p): p for p in sorted(root.rglob("*.py"))}


def _resolve(importer: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_pkg else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(root: Path) -> dict[str, set[str]]:
    """module -> the package's modules it imports (a `from P import m` of a submodule m
    counts as importing P.m)."""
    mods = modules(root)
    native = {f"{root.name}._native"}  # the compiled extension: a leaf without source
    known = set(mods) | native
    edges: dict[str, set[str]] = {}
    for name, path in mods.items():
        out = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, path.name == "__init__.py", node)
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
                targets = subs if len(subs) == len(node.names) else subs + [base]
            else:
                continue
            out |= {t for t in targets if t in known and t != name}
        edges[name] = out
    return edges


def layer_of(module: str) -> int:
    best, depth = -1, -1
    for i, layer in enumerate(LAYERS):
        for prefix in layer:
            inside = "." in prefix and module.startswith(prefix + ".")  # the root: itself only
            if (module == prefix or inside) and len(prefix) > depth:
                best, depth = i, len(prefix)
    return best


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter[0]; counter[0] += 1
        stack.append(start); on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]; counter[0] += 1
                    stack.append(w); on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop(); on.discard(w); comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def violations(root: Path) -> list[str]:
    """One line per broken rule: an unplaced module, an upward import, a cycle."""
    edges = imports(root)
    problems = []
    for mod in sorted(edges):
        if layer_of(mod) < 0:
            problems.append(f"{mod}: in no layer")
            continue
        for dep in sorted(edges[mod]):
            if layer_of(dep) > layer_of(mod):
                problems.append(f"{mod} imports {dep}: upward ({LAYERS[layer_of(mod)][0]} is below "
                                f"{LAYERS[layer_of(dep)][0]})")
    problems += [f"cycle: {' -> '.join(c)}" for c in cycles(edges)]
    return problems
