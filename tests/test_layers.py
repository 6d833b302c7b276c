"""The package's layers and their one dependency direction, checked on the source with ``ast``.

foundations -> geometry -> engine -> fillers -> renderers -> front: a module imports only from
its own layer or below (lazy imports inside functions included). The one exception is a lazy
import of *public* names from a public module inside a one-line convenience method (such as
``KongLucey.latex`` delegating to :func:`convmat.to_latex`). Names starting with ``_`` are
imported only from private modules, and the imports between modules form no cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "convmat"

LAYERS: dict[str, tuple[str, ...]] = {
    "foundations": ("errors", "options", "_validate", "_memory", "_choices"),
    "geometry": ("geometry", "arithmetic", "receptive"),
    "engine": ("_engine", "_padmap", "_phases", "_windows"),
    "fillers": ("sparse", "arrays", "symbolic", "_symbols", "padding", "pooling", "views",
                "operator", "transposed", "striding", "spectral", "networks", "_layers", "_chain",
                "_from_torch"),
    "renderers": ("text", "latex", "_latex_cells", "_latex_pages", "figures", "_drawing",
                  "_animation", "display"),
    "front": ("cli", "_cli_args", "_cli_tools", "demo", "__main__", "__init__"),
}
RANK = {module: rank for rank, modules in enumerate(LAYERS.values()) for module in modules}
NAMES = list(LAYERS)


def _private(module: str) -> bool:
    return module.startswith("_") and module not in ("__init__", "__main__")


def _convenience(function: ast.AST) -> bool:
    """A method whose body is (docstring,) imports and one ``return``."""
    body = [node for node in function.body
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    rest = [node for node in body if not isinstance(node, (ast.Import, ast.ImportFrom))]
    return len(rest) == 1 and isinstance(rest[0], ast.Return)


class _Imports(ast.NodeVisitor):
    """Every import of a sibling module: (target, names, lazy, in a convenience method, line)."""

    def __init__(self) -> None:
        self.found: list[tuple[str, tuple[str, ...], bool, bool, int]] = []
        self.aliases: dict[str, str] = {}  # local name -> sibling module
        self.attributes: list[tuple[str, str, int]] = []
        self.functions: list[ast.AST] = []

    def _record(self, target: str, names: tuple[str, ...], node: ast.AST) -> None:
        function = self.functions[-1] if self.functions else None
        self.found.append((target, names, function is not None,
                           function is not None and _convenience(function), node.lineno))

    def visit_FunctionDef(self, node):  # noqa: N802 - ast's name
        self.functions.append(node)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ImportFrom(self, node):  # noqa: N802
        if node.level == 1:  # from .x import a / from . import x
            if node.module:
                self._record(node.module.split(".")[0], tuple(a.name for a in node.names), node)
            else:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = alias.name
                    self._record(alias.name, (), node)
        elif node.module and node.module.split(".")[0] == "convmat" and node.level == 0:
            parts = node.module.split(".")
            if len(parts) > 1:
                self._record(parts[1], tuple(a.name for a in node.names), node)
            else:
                for alias in node.names:
                    self._record(alias.name, (), node)

    def visit_Import(self, node):  # noqa: N802
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[0] == "convmat" and len(parts) > 1:
                self._record(parts[1], (), node)

    def visit_Attribute(self, node):  # noqa: N802
        if isinstance(node.value, ast.Name) and node.value.id in self.aliases:
            self.attributes.append((self.aliases[node.value.id], node.attr, node.lineno))
        self.generic_visit(node)


def violations(package: Path, layers: dict[str, int]) -> list[str]:
    """Every breach of the rules in the package at ``package`` (empty: the package is clean)."""
    found: list[str] = []
    graph: dict[str, set[str]] = {}
    for path in sorted(package.glob("*.py")):
        module = path.stem
        if module not in layers:
            found.append(f"{module}: not placed in a layer (add it to LAYERS)")
            continue
        visitor = _Imports()
        visitor.visit(ast.parse(path.read_text(), str(path)))
        graph[module] = set()
        for target, names, lazy, convenience, line in visitor.found:
            where = f"{module}:{line}"
            if target not in layers:
                if (package / f"{target}.py").exists():
                    found.append(f"{where}: imports {target}, which is not placed in a layer")
                continue
            for name in names:
                if name.startswith("_") and not _private(target):
                    found.append(f"{where}: imports private name {name} from public module "
                                 f"{target}")
            if layers[target] > layers[module] and module != "__init__":
                allowed = (lazy and convenience and not _private(target)
                           and not any(n.startswith("_") for n in names))
                if not allowed:
                    found.append(
                        f"{where}: {NAMES[layers[module]]} module {module} imports "
                        f"{NAMES[layers[target]]} module {target} (upward"
                        f"{', lazy' if lazy else ''})")
                continue  # the allowed upward convenience is not an edge of the graph
            if target != module:
                graph[module].add(target)
        for target, attribute, line in visitor.attributes:
            if attribute.startswith("_") and not attribute.startswith("__") \
                    and not _private(target):
                found.append(f"{module}:{line}: uses private name {target}.{attribute}")
    found += [f"import cycle: {' -> '.join(cycle)}" for cycle in _cycles(graph)]
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of more than one module."""
    cycles, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_every_module_keeps_the_direction():
    assert violations(PACKAGE, RANK) == []


def test_every_module_is_in_a_layer_and_no_layer_lists_a_missing_module():
    modules = {path.stem for path in PACKAGE.glob("*.py")}
    placed = set(RANK)
    assert modules <= placed
    planned = {"spectral", "networks", "figures", "display"}  # placed before they land
    assert placed - modules <= planned


def test_the_architecture_page_names_every_module():
    """docs/architecture.md draws the layers; a module missing there is a drifted picture."""
    page = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    modules = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
    missing = sorted(m for m in modules if f"`{m}`" not in page and f" {m} " not in page)
    assert missing == []


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    root.mkdir()
    for name, text in files.items():
        (root / f"{name}.py").write_text(textwrap.dedent(text))
    return root


LAYOUT = {"errors": 0, "geometry": 1, "_engine": 2, "sparse": 3, "striding": 3, "symbolic": 3,
          "latex": 4, "_cells": 4, "cli": 5}


@pytest.mark.parametrize("files, needle", [
    ({"geometry": "from .sparse import conv_matrix\n", "sparse": ""}, "upward"),
    ({"sparse": "def f():\n    from .latex import to_latex\n    x = 1\n    return to_latex(x)\n",
      "latex": ""}, "upward, lazy"),
    ({"striding": "def latex(self):\n    from .latex import _cells\n    return _cells(self)\n",
      "latex": ""}, "private name _cells from public module latex"),
    ({"latex": "from . import symbolic\nx = symbolic._name\n", "symbolic": ""},
     "private name symbolic._name"),
    ({"symbolic": "from .striding import kong_lucey\n",
      "striding": "from .symbolic import kernel\n"}, "import cycle"),
    ({"figures": "import numpy\n"}, "not placed in a layer"),
])
def test_the_checker_catches_each_breach(tmp_path, files, needle):
    """The rules can fail: each breach in a small made-up package is reported."""
    found = violations(_package(tmp_path, files), LAYOUT)
    assert any(needle in line for line in found), found


def test_the_checker_allows_the_one_line_convenience(tmp_path):
    files = {"striding": '''
        class KongLucey:
            def latex(self, part="all", **options):
                """LaTeX of the rearrangement."""
                from .latex import to_latex

                return to_latex(self, part=part, **options)
        ''', "latex": "from .striding import KongLucey\n"}
    assert violations(_package(tmp_path, files), LAYOUT) == []


def test_import_convmat_stays_light():
    code = ("import sys, convmat; heavy = [m for m in ('sympy', 'matplotlib', 'torch') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=PACKAGE.parent, check=True)
    assert out.stdout.strip() == "[]"
