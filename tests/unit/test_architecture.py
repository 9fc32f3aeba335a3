"""The house plan holds: no import cycle anywhere in ClawNet, and no module that grew past the
size where it usually holds two ideas. (The layer and "pages use services" rules are
import-linter contracts in pyproject.toml, run by `make test` as `lint-imports`.)"""

from __future__ import annotations

from pathlib import Path

import grimp

from clawnet.settings import PROJECT_ROOT

MAX_LINES = 500


def strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's algorithm over the module import graph: the groups of modules importing each
    other in a circle (single modules that import nothing circular are left out)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    counter = 0

    def visit(module: str) -> None:
        nonlocal counter
        index[module] = low[module] = counter
        counter += 1
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(group)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return groups


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph("clawnet")
    assert strongly_connected(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above would pass on a graph it cannot read: it must see a real cycle."""
    graph = grimp.ImportGraph()
    for module in ("a", "a.b", "a.c"):
        graph.add_module(module)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.b")
    assert strongly_connected(graph) == [{"a.b", "a.c"}]


def test_no_module_is_over_500_lines() -> None:
    too_long = {
        str(path.relative_to(PROJECT_ROOT)): n
        for path in sorted((PROJECT_ROOT / "clawnet").rglob("*.py"))
        if (n := len(Path(path).read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}


def test_no_module_uses_asyncio_wait_for() -> None:
    """On Python 3.11 it can lose a cancellation (see clawnet/aio.py): use clawnet.aio.wait_for."""
    users = [
        str(path.relative_to(PROJECT_ROOT))
        for path in sorted((PROJECT_ROOT / "clawnet").rglob("*.py"))
        if path.name != "aio.py" and "asyncio.wait_for(" in path.read_text()
    ]
    assert users == []
