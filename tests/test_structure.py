"""The package's structure, read with ``ast`` (nothing is imported): no import circle, no reaching into privates.

* No import circle inside ``hparams_tools``. Every import counts as an edge:
  module level, inside a function, and under ``if TYPE_CHECKING`` (a circle
  there still means two modules that cannot be understood one without the
  other). ``from pkg import name`` is an edge to ``pkg.name`` when that is a
  module, else to ``pkg``; importing ``a.b.c`` is also an edge to the package
  ``a.b`` (Python runs its ``__init__`` first) unless the importer is inside it.
* No module imports another package's private names: a name starting with
  ``_`` (a private module such as ``visualization/_common.py``, or a private
  function such as ``parallel._get_parallel_info``) belongs to the package
  that holds it and may be imported only from inside that package (its own
  modules and sub-packages). ``hparams_tools._files`` is thus shared by the
  whole library, while ``report`` may not import ``visualization._common``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "hparams_tools"


@dataclass(frozen=True)
class Import:
    """One imported name: ``module`` imports ``target`` (a dotted path) at ``line``."""

    module: str
    target: str
    line: int


def modules(root: Path = ROOT, package: str = PACKAGE) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's ``__init__``)."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


def _base(module: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    if not is_pkg:
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def imports(mods: dict[str, tuple[Path, bool]]) -> list[Import]:
    """Every imported name of every module, anywhere in the module (functions and TYPE_CHECKING included).

    A private attribute of an imported module (``contour._get_contour_info``
    after ``from ..visualization import contour``) counts as importing that name.
    """
    out = []
    for module, (path, is_pkg) in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        bound: dict[str, str] = {}  # local name -> module of the package it is bound to
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                out += [Import(module, a.name, node.lineno) for a in node.names]
                bound.update({a.asname: a.name for a in node.names if a.asname and a.name in mods})
            elif isinstance(node, ast.ImportFrom):
                base = _base(module, is_pkg, node)
                for a in node.names:
                    target = f"{base}.{a.name}" if a.name != "*" else base
                    out.append(Import(module, target, node.lineno))
                    if target in mods:
                        bound[a.asname or a.name] = target
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                out.append(Import(module, f"{bound[node.value.id]}.{node.attr}", node.lineno))
    return out


def edges(mods: dict[str, tuple[Path, bool]], found: list[Import]) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (the most specific module each import names)."""
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for imp in found:
        target = imp.target
        while target and target not in mods:
            target = target.rpartition(".")[0]
        if target and target != imp.module:
            graph[imp.module].add(target)
        parent = target.rpartition(".")[0]
        while parent in mods:  # the packages Python initialises on the way
            if not (imp.module == parent or imp.module.startswith(parent + ".")):
                graph[imp.module].add(parent)
            parent = parent.rpartition(".")[0]
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as ``[a, b, ..., a]``, or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def private_owner(target: str, mods: dict[str, tuple[Path, bool]]) -> str | None:
    """The package that owns the first private part of ``target`` (``None`` when nothing in it is private)."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            holder = ".".join(parts[:i])  # the module or package the private name is defined in
            if holder in mods and not mods[holder][1]:  # a plain module: its package owns the name
                holder = holder.rpartition(".")[0]
            return holder
    return None


def foreign_privates(mods: dict[str, tuple[Path, bool]], found: list[Import], package: str = PACKAGE) -> list[str]:
    """``module:line imports target`` for every private name imported from outside its package."""
    bad = []
    for imp in found:
        if not imp.target.startswith(package + "."):
            continue
        owner = private_owner(imp.target, mods)
        if owner is not None and not (imp.module == owner or imp.module.startswith(owner + ".")):
            bad.append(f"{imp.module}:{imp.line} imports {imp.target} (private to {owner})")
    return bad


@pytest.fixture(scope="module")
def package() -> tuple[dict[str, tuple[Path, bool]], list[Import]]:
    mods = modules()
    return mods, imports(mods)


def test_no_import_circle(package):
    mods, found = package
    cycle = find_cycle(edges(mods, found))
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_no_module_imports_another_packages_private_names(package):
    mods, found = package
    assert foreign_privates(mods, found) == []


# the checks themselves, on small packages written here: each must catch what it is for


def _write(root: Path, files: dict[str, str]) -> dict[str, tuple[Path, bool]]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return modules(root, "pkg")


def test_the_checks_find_a_circle_through_a_function_level_import(tmp_path):
    mods = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a/__init__.py": "",
        "pkg/a/build.py": "from . import sections\n",
        "pkg/a/sections.py": "def f():\n    from .build import g\n",
        "pkg/b.py": "from .a import build\n",
    })
    assert find_cycle(edges(mods, imports(mods))) == ["pkg.a.build", "pkg.a.sections", "pkg.a.build"]


def test_the_checks_find_a_circle_under_type_checking(tmp_path):
    mods = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/x.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .y import Y\n",
        "pkg/y.py": "import pkg.x\n",
    })
    assert find_cycle(edges(mods, imports(mods))) == ["pkg.x", "pkg.y", "pkg.x"]


def test_the_checks_allow_a_one_way_graph(tmp_path):
    mods = _write(tmp_path, {"pkg/__init__.py": "from .a import f\n", "pkg/a.py": "from ._c import g\n",
                             "pkg/_c.py": "import os\n"})
    assert find_cycle(edges(mods, imports(mods))) is None


def test_the_checks_find_private_names_across_packages_only(tmp_path):
    mods = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/_files.py": "",
        "pkg/viz/__init__.py": "",
        "pkg/viz/_common.py": "",
        "pkg/viz/parallel.py": "from . import _common\ndef _get_info(): pass\n",
        "pkg/viz/scatter.py": "from .parallel import _get_info\n",  # same package: allowed
        "pkg/report/__init__.py": "",
        "pkg/report/sections.py": ("from ..viz.parallel import _get_info\nfrom ..viz import _common as c\n"
                                   "from .._files import x\nfrom ..viz import parallel\nparallel._get_info()\n"),
    })
    assert foreign_privates(mods, imports(mods), "pkg") == ["pkg.report.sections:1 imports pkg.viz.parallel._get_info (private to pkg.viz)",
                   "pkg.report.sections:2 imports pkg.viz._common (private to pkg.viz)",
                   "pkg.report.sections:5 imports pkg.viz.parallel._get_info (private to pkg.viz)"]

