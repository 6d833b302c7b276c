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

import convmat

#: the package under test, where it was imported from (a source checkout or an installed wheel)
PACKAGE = Path(convmat.__file__).resolve().parent
ROOT = Path(__file__).resolve().parent.parent

#: the layers, lowest first; a subpackage (``latex``, ``figures``, ``networks``, ``cli``) sits
#: in one layer with every module inside it
LAYERS: dict[str, tuple[str, ...]] = {
    "foundations": ("errors", "options", "_validate", "_memory", "_choices", "_padmap",
                    "_deprecation"),
    "geometry": ("geometry", "arithmetic", "receptive"),
    "engine": ("_engine", "_runs", "_maxima", "_phases"),
    "builders": ("sparse", "arrays", "symbolic", "_symbols", "padding", "pooling", "views",
                 "operator", "transposed", "striding", "spectral", "_spectral_layer", "_certified", "_extremes",
                 "bounds"),
    "networks": ("networks",),
    "renderers": ("layout", "text", "latex", "figures", "display"),
    "front": ("cli", "demo", "__main__", "__init__"),
}
SUBPACKAGES = ("latex", "figures", "networks", "cli")
RANK = {module: rank for rank, modules in enumerate(LAYERS.values()) for module in modules}
NAMES = list(LAYERS)


def _private(module: str) -> bool:
    """``_engine`` and ``latex._cells`` are private; ``latex`` and ``__init__`` are not."""
    last = module.rsplit(".", 1)[-1]
    return last.startswith("_") and last not in ("__init__", "__main__")


def _convenience(function: ast.AST) -> bool:
    """A method whose body is (docstring,) imports and one ``return``."""
    body = [node for node in function.body
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    rest = [node for node in body if not isinstance(node, (ast.Import, ast.ImportFrom))]
    return len(rest) == 1 and isinstance(rest[0], ast.Return)


def modules_of(package: Path) -> dict[str, Path]:
    """Every module of the package by dotted name relative to it: ``sparse``, ``latex``
    (a subpackage's ``__init__``), ``latex._cells``."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        if len(parts) > 1 and parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


class _Imports(ast.NodeVisitor):
    """Every import of a module of the package: (target, names, lazy, in a convenience method,
    line), targets as dotted names relative to the package."""

    def __init__(self, module: str, is_package: bool, known: set[str]) -> None:
        self.found: list[tuple[str, tuple[str, ...], bool, bool, int]] = []
        self.aliases: dict[str, str] = {}  # local name -> module
        self.attributes: list[tuple[str, str, int]] = []
        self.functions: list[ast.AST] = []
        parts = module.split(".") if module != "__init__" else []
        self.here = parts if is_package else parts[:-1]  # the package a relative import starts in
        self.known = known

    def _record(self, target: str, names: tuple[str, ...], node: ast.AST) -> None:
        function = self.functions[-1] if self.functions else None
        self.found.append((target, names, function is not None,
                           function is not None and _convenience(function), node.lineno))

    def visit_FunctionDef(self, node):  # noqa: N802 - ast's name
        self.functions.append(node)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def _base(self, node) -> list[str] | None:
        if node.level == 0:
            parts = (node.module or "").split(".")
            return parts[1:] if parts[0] == "convmat" else None
        if node.level - 1 > len(self.here):
            return None
        base = self.here[:len(self.here) - (node.level - 1)]
        return base + (node.module.split(".") if node.module else [])

    def visit_ImportFrom(self, node):  # noqa: N802
        base = self._base(node)
        if base is None:
            return
        for alias in node.names:  # from .x import y: y may be a module itself
            sub = ".".join(base + [alias.name])
            if sub in self.known:
                self.aliases[alias.asname or alias.name] = sub
                self._record(sub, (), node)
            elif base:
                self._record(".".join(base), (alias.name,), node)

    def visit_Import(self, node):  # noqa: N802
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[0] == "convmat" and len(parts) > 1:
                self._record(".".join(parts[1:]), (), node)

    def visit_Attribute(self, node):  # noqa: N802
        if isinstance(node.value, ast.Name) and node.value.id in self.aliases:
            self.attributes.append((self.aliases[node.value.id], node.attr, node.lineno))
        self.generic_visit(node)


def _layer(module: str, layers: dict[str, int]) -> int | None:
    return layers.get(module.split(".")[0]) if module != "__init__" else layers.get("__init__")


def violations(package: Path, layers: dict[str, int]) -> list[str]:
    """Every breach of the rules in the package at ``package`` (empty: the package is clean)."""
    found: list[str] = []
    graph: dict[str, set[str]] = {}
    modules = modules_of(package)
    for module, path in modules.items():
        rank = _layer(module, layers)
        if rank is None:
            found.append(f"{module}: not placed in a layer (add it to LAYERS)")
            continue
        visitor = _Imports(module, path.name == "__init__.py" and "." not in module
                           and module != "__init__" and path.parent != package, set(modules))
        visitor.visit(ast.parse(path.read_text(), str(path)))
        graph[module] = set()
        for target, names, lazy, convenience, line in visitor.found:
            where = f"{module}:{line}"
            if target not in modules:
                continue
            target_rank = _layer(target, layers)
            if target_rank is None:
                found.append(f"{where}: imports {target}, which is not placed in a layer")
                continue
            for name in names:
                if name.startswith("_") and not name.startswith("__") and not _private(target):
                    found.append(f"{where}: imports private name {name} from public module "
                                 f"{target}")
            family = target.split(".")[0]
            if "." in target and _private(target) and module.split(".")[0] != family:
                found.append(f"{where}: imports {target}, private to the subpackage {family}")
            if target_rank > rank and module != "__init__":
                allowed = (lazy and convenience and not _private(target)
                           and not any(n.startswith("_") for n in names))
                if not allowed:
                    found.append(
                        f"{where}: {NAMES[rank] if rank < len(NAMES) else rank} module {module} "
                        f"imports {NAMES[target_rank] if target_rank < len(NAMES) else target_rank}"
                        f" module {target} (upward{', lazy' if lazy else ''})")
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
    modules = modules_of(PACKAGE)
    tops = {m.split(".")[0] for m in modules}
    assert tops <= set(RANK)
    assert set(RANK) - tops <= {"layout"}  # placed before it lands


def test_the_four_families_are_subpackages_holding_their_helpers():
    """latex/, figures/, networks/ and cli/ are packages; no family helper is left flat."""
    for family in SUBPACKAGES:
        assert (PACKAGE / family / "__init__.py").exists(), family
    flat = {path.stem for path in PACKAGE.glob("*.py")}
    helpers = {"_latex_cells", "_latex_pages", "_windows", "_drawing", "_animation", "_layers",
               "_chain", "_from_torch", "_cli_args", "_cli_tools"}
    assert flat & helpers == set()
    private = {m for m in modules_of(PACKAGE) if "." in m}
    assert private and all(_private(m) for m in private), private


def test_no_module_is_longer_than_750_lines():
    long = {m: len(p.read_text().splitlines()) for m, p in modules_of(PACKAGE).items()}
    assert {m: n for m, n in long.items() if n > 750} == {}


def test_the_architecture_page_names_every_module():
    """docs/architecture.md draws the layers; a module missing there is a drifted picture."""
    page = (ROOT / "docs" / "architecture.md").read_text()
    modules = set(modules_of(PACKAGE)) - {"__init__"}
    missing = sorted(m for m in modules if f"`{m}`" not in page and f" {m} " not in page
                     and f"`{m.split('.')[-1]}`" not in page)
    assert missing == []


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    root.mkdir()
    for name, text in files.items():
        path = root / (name.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


LAYOUT = {"errors": 0, "geometry": 1, "_engine": 2, "sparse": 3, "striding": 3, "symbolic": 3,
          "latex": 4, "figures": 4, "cli": 5}


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
    ({"display": "import numpy\n"}, "not placed in a layer"),
    ({"latex/__init__": "from ._cells import cell\n", "latex/_cells": "",
      "figures/__init__": "from ..latex._cells import cell\n"},
     "private to the subpackage latex"),
    ({"latex/__init__": "", "latex/_cells": "from ...sparse import x\nfrom ..cli import run\n",
      "cli/__init__": "", "sparse": ""}, "renderers"),
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
