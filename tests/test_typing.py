"""Type information: the package ships ``py.typed`` and its public functions are annotated.

``mypy`` (configured in pyproject.toml, run by ``.ci/run``) checks the annotations; this test
checks that a public function (one in a public module's ``__all__``) annotates every parameter
and its return value. :data:`NOT_YET` is the release's baseline of public functions still
missing some annotation: it may only shrink (a name that became complete must leave it).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import convmat

#: public functions not yet fully annotated: none since 0.2.0 (a name added here must leave
#: once it is annotated)
NOT_YET: set[str] = set()


def _public_modules() -> list[str]:
    return [convmat.__name__] + [
        info.name for info in pkgutil.walk_packages(convmat.__path__, prefix="convmat.")
        if not any(part.startswith("_") for part in info.name.split("."))]


def _incomplete() -> set[str]:
    """Public functions defined in a public module with a parameter or return unannotated."""
    found = set()
    for name in _public_modules():
        module = importlib.import_module(name)
        tree = ast.parse(Path(inspect.getfile(module)).read_text(encoding="utf-8"))
        exported = set(getattr(module, "__all__", ()))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in exported:
                a = node.args
                params = [*a.posonlyargs, *a.args, *a.kwonlyargs,
                          *(p for p in (a.vararg, a.kwarg) if p is not None)]
                if node.returns is None or any(p.annotation is None for p in params):
                    found.add(f"{name}.{node.name}")
    return found


def test_the_package_is_typed():
    assert (Path(convmat.__file__).parent / "py.typed").exists()


def test_public_functions_are_annotated():
    incomplete = _incomplete()
    assert sorted(incomplete - NOT_YET) == [], "annotate every parameter and the return value"
    assert sorted(NOT_YET - incomplete) == [], "now complete (or gone): remove from NOT_YET"


def test_the_check_sees_a_missing_annotation(tmp_path, monkeypatch):
    """The checker itself: a function without a return annotation is reported."""
    package = tmp_path / "probe_pkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        "__all__ = ['f', 'g']\ndef f(x: int) -> int:\n    return x\n"
        "def g(x: int):\n    return x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("probe_pkg")
    monkeypatch.setattr(convmat, "__name__", "probe_pkg")
    monkeypatch.setattr(convmat, "__path__", module.__path__)
    assert _incomplete() == {"probe_pkg.g"}
