"""The house, read from the code's own imports (every ``import``, lazy ones inside functions too):
every import points down, there is no cycle, the library never imports ``flows/``, the domain
stays pure, only the service opens transactions and only ``config`` reads the clock."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGE = ROOT / "kttt_workflow"
# Floors, from the ground up; a module may import its own folder and any lower floor.
FLOORS: dict[str, int] = {
    "domain": 0,
    "errors": 1,
    "config": 1,
    "inputs": 2,
    "store": 2,
    "notify": 2,
    "reports": 2,  # the report as office files: reads the domain's report, never the store
    "service": 3,
    "demo": 4,
    "orchestration": 5,
    "cli": 6,
}
# What the pure domain may import besides itself and the standard library's pure parts.
DOMAIN_ALLOWED = {"pydantic", "pydantic_core", "holidays"}
IMPURE_STDLIB = {"os", "sys", "subprocess", "socket", "shutil", "tempfile", "sqlite3", "logging"}
THIRD_PARTY_LAYERS = {  # which folders may import these packages at all
    "sqlalchemy": {"store", "service"},
    "sqlmodel": {"store"},
    "alembic": {"store"},
    "prefect": {"orchestration", "cli"},
    "apprise": {"notify"},
    "typer": {"cli"},
    "rich": {"cli", "demo"},
    "docx": {"reports", "inputs"},
    "openpyxl": {"reports", "inputs"},
}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {
    module_name(p): p
    for p in sorted(PACKAGE.rglob("*.py"))
    if "versions" not in p.relative_to(PACKAGE).parts  # Alembic revision scripts
}


def imports(path: Path) -> Iterator[tuple[str, int]]:
    """Every module name an import statement of ``path`` names (with its line)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            for alias in node.names:  # ``from kttt_workflow.store import load``: the module load
                yield f"{node.module}.{alias.name}", node.lineno


def graph() -> dict[str, set[str]]:
    """Module → the project modules it imports."""
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for name, path in MODULES.items():
        for target, _ in imports(path):
            if target in MODULES and target not in (name, "kttt_workflow"):
                edges[name].add(target)
    return edges


def floor_key(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else ""


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_package_is_read() -> None:
    # A guard for the checks below: they must see the real modules.
    assert {"kttt_workflow.service", "kttt_workflow.domain.status", "kttt_workflow.cli"} <= set(
        MODULES
    )
    assert "kttt_workflow.store.sweep" in graph()["kttt_workflow.service"]


def test_no_cycle_among_the_modules() -> None:
    assert cycles(graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    # The check itself, on a made-up graph: a → b → c → a, and d alone.
    made_up = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(made_up) == [["a", "b", "c"]]


def test_the_library_never_imports_flows() -> None:
    bad = [
        f"{path.relative_to(ROOT)}:{line}: {target}"
        for path in MODULES.values()
        for target, line in imports(path)
        if target == "flows" or target.startswith("flows.")
    ]
    assert bad == []


def test_every_import_points_down() -> None:
    bad = []
    for name, targets in graph().items():
        here = floor_key(name)
        for target in targets:
            there = floor_key(target)
            if there == here:
                continue
            assert here in FLOORS and there in FLOORS, (name, target)
            if FLOORS[there] >= FLOORS[here]:
                bad.append(f"{name} (floor {FLOORS[here]}) → {target} (floor {FLOORS[there]})")
    assert bad == []


@pytest.mark.parametrize("package,allowed", sorted(THIRD_PARTY_LAYERS.items()))
def test_third_party_packages_stay_in_their_layer(package: str, allowed: set[str]) -> None:
    bad = [
        f"{path.relative_to(ROOT)}:{line}: {target}"
        for name, path in MODULES.items()
        for target, line in imports(path)
        if target.split(".")[0] == package and floor_key(name) not in allowed
    ]
    assert bad == []


def test_the_domain_is_pure() -> None:
    bad = []
    for name, path in MODULES.items():
        if floor_key(name) != "domain":
            continue
        for target, line in imports(path):
            top = target.split(".")[0]
            if top == "kttt_workflow":
                if not target.startswith("kttt_workflow.domain"):
                    bad.append(f"{name}:{line}: {target}")
            elif top in IMPURE_STDLIB or (top not in DOMAIN_ALLOWED and _third_party(top)):
                bad.append(f"{name}:{line}: {target}")
    assert bad == []


def _third_party(top: str) -> bool:
    import sys

    return top not in sys.stdlib_module_names and top != "__future__"


def _calls(path: Path) -> Iterator[tuple[str, int]]:
    """``receiver.method`` of every call in ``path``, as written (``date.today``, ``engine.begin``)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            recv = node.func.value
            name = recv.id if isinstance(recv, ast.Name) else getattr(recv, "attr", "")
            yield f"{name}.{node.func.attr}", node.lineno


def test_only_config_reads_the_clock() -> None:
    clocks = {"date.today", "datetime.now", "datetime.utcnow", "datetime.today"}
    bad = [
        f"{path.relative_to(ROOT)}:{line}: {call}()"
        for name, path in MODULES.items()
        for call, line in _calls(path)
        if call in clocks and name != "kttt_workflow.config"
    ]
    assert bad == []


def test_store_functions_run_in_the_callers_transaction() -> None:
    """Only the service opens connections (besides ``store/db.py``'s migration helper and
    Alembic's own environment, which makes an engine when run as the ``alembic`` command)."""
    bad = [
        f"{path.relative_to(ROOT)}:{line}: {call}()"
        for name, path in MODULES.items()
        for call, line in _calls(path)
        if floor_key(name) in ("store", "inputs", "notify", "domain")
        and name not in ("kttt_workflow.store.db", "kttt_workflow.store.migrations.env")
        and call.split(".")[1] in ("begin", "connect")
        and call.split(".")[0] in ("engine", "self", "conn")
    ]
    assert bad == []
