"""The import contract between the rooms, read from the source with `ast` and checked by importing.

    cli -> api -> report, measure, frontends -> core;  core imports only the standard library;
    nothing outside cli imports cli;  report and frontends import no torch when imported.

Every import counts, at module level or inside a function, absolute or relative: a lazy import
is still an arrow. `check_arrows` takes an import graph, so the last tests here show it failing
on a wrong-way arrow and on a cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "cnncalc"

ROOMS = ("core", "frontends", "measure", "report", "cli")
ALLOWED = {  # room -> the rooms it may import (besides itself)
    "cli": {"api", "report", "measure", "frontends", "core"},  # commands over the API
    "report": {"core"},
    "measure": {"core"},
    "frontends": {"core"},
    "core": set(),
    "api": {"report", "measure", "frontends", "core"},  # cnncalc/__init__.py, the public API
}
ENTRY = {"cnncalc": "api", "cnncalc.api": "api", "cnncalc.__main__": "cli",
         "cnncalc.spec": "frontends", "cnncalc.spec.python": "frontends"}  # the modules outside
# the five folders

# Known today (issue 13): fixes are under way in src/. Each case below is xfail(strict=True):
# when a fix lands the test passes, strict xfail turns that into a failure, and the entry goes.
KNOWN_WRONG_ARROWS: dict[str, str] = {
}
KNOWN_CYCLES: list[list[str]] = []
KNOWN_NOT_STDLIB: dict[str, str] = {}
TORCH_HOME = "cnncalc.core.optional"  # require_torch(): torch's import, inside the function
KNOWN_TORCH_AT_IMPORT: dict[str, str] = {}


# The import graph, from the source ---------------------------------------------------------------

def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}


def imports_of(name: str, path: Path) -> set[str]:
    """Every module NAME imports, absolute names, relative imports resolved; for `from P import x`
    both P and P.x (a submodule or not: the caller keeps what exists)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names if a.name != "*")
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the modules it imports (cnncalc's own and outside ones, top-level names kept)."""
    mods = modules()
    graph = {}
    for name, path in mods.items():
        out = set()
        for target in imports_of(name, path):
            if target.split(".")[0] != PACKAGE:
                out.add(target)
            elif target in mods:
                out.add(target)
            # `from cnncalc.x import y` where y is a name, not a module: x is already in
        graph[name] = out
    return graph


def room(module: str) -> str | None:
    if module in ENTRY:
        return ENTRY[module]
    parts = module.split(".")
    if parts[0] == PACKAGE and len(parts) > 1 and parts[1] in ROOMS:
        return parts[1]
    return None


# The checker ----------------------------------------------------------------------------------

def room_edges(graph: Mapping[str, Iterable[str]]) -> dict[tuple[str, str], list[str]]:
    """(from room, to room) -> 'a imports b' for each import that crosses rooms."""
    edges: dict[tuple[str, str], list[str]] = {}
    for src, targets in graph.items():
        for dst in targets:
            a, b = room(src), room(dst)
            if a and b and a != b:
                edges.setdefault((a, b), []).append(f"{src} imports {dst}")
    return edges


def room_cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Each elementary cycle of the room graph once, as [a, b, ..., a], from its smallest room."""
    succ: dict[str, set[str]] = {}
    for a, b in edges:
        succ.setdefault(a, set()).add(b)
    cycles = []

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(succ.get(node, ())):
            if nxt == start:
                cycles.append([*path, start])
            elif nxt > start and nxt not in path:
                walk(start, nxt, [*path, nxt])

    for start in sorted(succ):
        walk(start, start, [start])
    return cycles


def check_arrows(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """The contract's violations in GRAPH (module -> imported modules), one message each."""
    edges = room_edges(graph)
    problems = []
    for (a, b), why in sorted(edges.items()):
        if b not in ALLOWED.get(a, set()):
            allowed = ", ".join(sorted(ALLOWED.get(a, ()))) or "nothing outside itself"
            problems.append(f"wrong-way arrow {a} -> {b} ({'; '.join(why)}); "
                            f"{a} may import {allowed}")
    for cycle in room_cycles(edges):
        problems.append(f"cycle between rooms: {' -> '.join(cycle)}")
    return problems


def check_stdlib_only(module: str, targets: Iterable[str]) -> list[str]:
    """Imports of MODULE that are neither the standard library nor cnncalc.core."""
    bad = []
    for t in sorted(targets):
        top = t.split(".")[0]
        if module == TORCH_HOME and t == "torch":
            continue
        if top == PACKAGE:
            if room(t) != "core":
                bad.append(f"{module} imports {t}: core imports only the standard library "
                           "and cnncalc.core")
        elif top not in sys.stdlib_module_names:
            bad.append(f"{module} imports {t}, which is not in the standard library")
    return bad


# The contract on the real source -----------------------------------------------------------------

GRAPH = import_graph()


def cases(known: Mapping[str, str], names: Iterable[str]) -> list:
    return [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=f"known: {known[n]}"))
            if n in known else n for n in sorted(names)]


def test_every_module_is_in_a_room():
    assert [m for m in GRAPH if room(m) is None] == []


def test_the_graph_sees_lazy_and_relative_imports():
    # sanity of the parser on the real source: main.py imports the commands; the torch import
    # that sits inside require_torch() is seen
    assert "cnncalc.cli.app" in GRAPH["cnncalc.cli.main"]
    assert "torch" in GRAPH[TORCH_HOME]


def test_torch_is_imported_in_one_place():
    # core/optional.require_torch() imports torch (one clear line when it is missing); the torch
    # side (measure/, the fx tracer) may then import torch's own submodules, nothing else may
    def torch_side(m: str) -> bool:
        return room(m) == "measure" or m.startswith("cnncalc.frontends.torch_model.")

    assert sorted(m for m, ts in GRAPH.items() if "torch" in ts) == [TORCH_HOME]
    assert [m for m, ts in GRAPH.items() if any(t.startswith("torch.") for t in ts)
            and not torch_side(m)] == []


@pytest.mark.parametrize("module", cases(KNOWN_WRONG_ARROWS, GRAPH))
def test_arrows_point_one_way(module):
    assert check_arrows({module: GRAPH[module]}) == []


def test_no_cycles_but_the_known_ones():
    cycles = room_cycles(room_edges(GRAPH))
    assert [c for c in cycles if c not in KNOWN_CYCLES] == [], "; ".join(check_arrows(GRAPH))


@pytest.mark.xfail(bool(KNOWN_CYCLES), strict=True, reason=f"known: {KNOWN_CYCLES}")
def test_no_cycles_between_rooms():
    assert room_cycles(room_edges(GRAPH)) == []


@pytest.mark.parametrize("module", cases(KNOWN_NOT_STDLIB, (m for m in GRAPH if room(m) == "core")))
def test_core_imports_only_the_standard_library(module):
    assert check_stdlib_only(module, GRAPH[module]) == []


def test_nothing_outside_cli_imports_cli():
    assert [f"{m} imports {t}" for m, ts in GRAPH.items() if room(m) != "cli"
            for t in ts if room(t) == "cli"] == []


# Importing, in a fresh interpreter ---------------------------------------------------------------

def torch_free() -> list[str]:
    """Modules whose import must leave torch out: the package, the spec alias, every module of
    core, report and frontends except the fx tracer's submodules (frontends/torch_model/*.py,
    which import torch by design; the torch_model package itself must not)."""
    out = []
    for m in GRAPH:
        if m in ("cnncalc", "cnncalc.api", "cnncalc.spec", "cnncalc.spec.python"):
            out.append(m)
        elif room(m) in ("core", "report", "frontends") and m not in ENTRY:
            if not m.startswith("cnncalc.frontends.torch_model."):
                out.append(m)
    return sorted(out)


def imports_torch(module: str) -> bool:
    """Whether `import MODULE` in a fresh interpreter (torch installed or not) loads torch."""
    code = f"import sys, {module}; print('torch' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={"PYTHONPATH": str(SRC)})
    assert r.returncode == 0, r.stderr
    return r.stdout.strip() == "True"


@pytest.mark.parametrize("module", cases(KNOWN_TORCH_AT_IMPORT, torch_free()))
def test_importing_leaves_torch_out(module):
    assert not imports_torch(module), f"import {module} loaded torch"


def test_analytic_path_never_imports_torch():
    code = (
        "import sys\n"
        "sys.argv = ['cnncalc', 'shapes', 'resnet50', '-f', 'json']\n"
        "import cnncalc.core.engine, cnncalc.frontends.load, cnncalc.core.layers.kinds\n"
        "assert 'torch' not in sys.modules, 'engine imported torch'\n"
        "from cnncalc.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "assert 'torch' not in sys.modules, 'cnncalc shapes imported torch'\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert '"params": 25557032' in r.stdout


# The checker fails where it should ---------------------------------------------------------------

def test_a_wrong_way_arrow_is_reported():
    graph = {"cnncalc.core.engine": {"cnncalc.report.render", "dataclasses"},
             "cnncalc.report.render": {"cnncalc.core.engine"}}
    assert check_arrows(graph) == [
        "wrong-way arrow core -> report (cnncalc.core.engine imports cnncalc.report.render); "
        "core may import nothing outside itself",
        "cycle between rooms: core -> report -> core",
    ]


def test_a_cycle_between_report_and_measure_is_reported():
    graph = {"cnncalc.report.verify": {"cnncalc.measure.support"},
             "cnncalc.measure.support": {"cnncalc.report.rows"}}
    problems = check_arrows(graph)
    assert "cycle between rooms: measure -> report -> measure" in problems
    assert any(p.startswith("wrong-way arrow report -> measure (cnncalc.report.verify imports "
                            "cnncalc.measure.support)") for p in problems)


def test_importing_cli_from_elsewhere_is_reported():
    (problem,) = check_arrows({"cnncalc.measure.latency": {"cnncalc.cli.app"}})
    assert problem.startswith("wrong-way arrow measure -> cli")


def test_a_third_party_import_in_core_is_reported():
    assert check_stdlib_only("cnncalc.core.rf", {"fractions", "numpy", "cnncalc.core.errors"}) == [
        "cnncalc.core.rf imports numpy, which is not in the standard library"]
    assert check_stdlib_only("cnncalc.core.rf", {"cnncalc.frontends.load"}) == [
        "cnncalc.core.rf imports cnncalc.frontends.load: core imports only the standard "
        "library and cnncalc.core"]


def test_relative_and_lazy_imports_are_parsed(tmp_path):
    pkg = tmp_path / "cnncalc" / "report"
    pkg.mkdir(parents=True)
    (pkg / "x.py").write_text("from . import rows\nfrom ..measure import support\n"
                              "def f():\n    import torch\n    from .rows import human\n")
    found = imports_of("cnncalc.report.x", pkg / "x.py")
    assert {"cnncalc.report.rows", "cnncalc.measure", "cnncalc.measure.support", "torch",
            "cnncalc.report.rows.human"} <= found
