"""p4sim's modules import each other without cycles.

The graph is built from the source with ``ast``, not by importing anything, so that an import
cycle shows up even where Python would tolerate it today (a function-local import, or one only
the type checker sees).  Every ``import`` and ``from ... import`` statement counts, wherever it
is: at module level, inside a function, and inside ``if TYPE_CHECKING:`` blocks too (a cycle
the type checker sees is still a cycle between the modules' meanings, and becomes a runtime one
the day someone moves the import out of the block).  The one exception is :data:`ALLOWED`:
the IR's node classes refer to each other both ways (a declaration holds statements and
expressions, which point back at the declarations they resolved to), a recursive type split
over modules that only a type-checker-only import can express; those edges must stay
``if TYPE_CHECKING:`` imports, which a test below checks.

An import of ``a.b.c`` also runs ``a`` and ``a.b``: those package edges count, except to the
packages that enclose the importing module itself, which Python has already started
initialising before the module runs (otherwise every ``from . import x`` would be a cycle).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

P4SIM = Path(__file__).resolve().parents[2] / "sim" / "p4sim"
ROOT = "p4sim"

#: (importer, imported): imports left out of the graph; each must be ``if TYPE_CHECKING:`` only
ALLOWED = frozenset(
    {
        ("p4sim.frontend.ir.expressions", "p4sim.frontend.ir.declarations"),
        ("p4sim.frontend.ir.statements", "p4sim.frontend.ir.declarations"),
    }
)


def module_names(root: Path = P4SIM, package: str = ROOT) -> dict[str, Path]:
    """Every module of the package tree: dotted name -> source file (packages: their __init__)."""
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _ancestors(name: str) -> Iterator[str]:
    parts = name.split(".")
    for i in range(1, len(parts)):
        yield ".".join(parts[:i])


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, *, type_checking: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement of ``tree``, at any depth; with ``type_checking`` False, not
    those in the body of an ``if TYPE_CHECKING:`` (its ``else`` branch still counts)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if not type_checking and isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def imported_modules(
    name: str, path: Path, modules: Mapping[str, Path], *, type_checking: bool = True
) -> set[str]:
    """The modules of ``modules`` that running ``name`` (at ``path``) imports (with
    ``type_checking``, also those its ``if TYPE_CHECKING:`` blocks import)."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    explicit: set[str] = set()  # the modules named
    implicit: set[str] = set()  # the packages around them, which Python runs first
    for node in _imports(ast.parse(path.read_text(), str(path)), type_checking=type_checking):
        if isinstance(node, ast.Import):
            for alias in node.names:
                explicit.add(alias.name)
                implicit.update(_ancestors(alias.name))
        else:
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            implicit.update(_ancestors(base))
            implicit.add(base)
            for alias in node.names:  # ``from pkg import mod`` names a module, else pkg itself
                submodule = f"{base}.{alias.name}"
                explicit.add(submodule if submodule in modules else base)
    own = set(_ancestors(name))
    return ((explicit | (implicit - own)) & modules.keys()) - {name}


def import_graph(
    root: Path = P4SIM, package: str = ROOT, *, type_checking: bool = True
) -> dict[str, set[str]]:
    """Module -> the modules it imports, every import statement counted (see the docstring)."""
    modules = module_names(root, package)
    return {
        name: imported_modules(name, path, modules, type_checking=type_checking)
        for name, path in modules.items()
    }


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or None (iterative depth-first search)."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path: list[str] = [start]
        on_path = {start}
        stack: list[Iterator[str]] = [iter(sorted(graph[start]))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
            elif nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_the_graph_sees_the_modules_and_their_imports() -> None:
    graph = import_graph()
    assert "p4sim.switch" in graph
    assert "p4sim.engine.pipeline" in graph
    assert "p4sim.state" in graph["p4sim.switch"]
    assert "p4sim.engine" in graph["p4sim.switch"]  # a function-local import


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"b", "d"}, "d": set()}
    assert find_cycle(graph) == ["b", "c", "b"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_counts_type_checking_imports() -> None:
    every = import_graph()
    runtime = import_graph(type_checking=False)
    assert "p4sim.frontend.ir.declarations" in every["p4sim.frontend.ir.expressions"]
    assert "p4sim.frontend.ir.declarations" not in runtime["p4sim.frontend.ir.expressions"]


def test_the_allowed_imports_are_type_checking_only_and_still_there() -> None:
    every = import_graph()
    runtime = import_graph(type_checking=False)
    for importer, imported in sorted(ALLOWED):
        assert imported in every[importer], f"{importer} no longer imports {imported}"
        assert imported not in runtime[importer], (
            f"{importer} imports {imported} at run time, not only for the type checker"
        )


def test_p4sim_has_no_import_cycle() -> None:
    graph = import_graph()
    for importer, imported in ALLOWED:
        graph[importer].discard(imported)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())
