"""Every code block in docs/*.md and every docstring example in convmat runs here.

A ```python block containing ``>>>`` prompts is checked as a doctest (its printed output must
match); any other ```python block is executed (its asserts are the checks). Blocks of one page
share a namespace, in order. A block that needs PyTorch carries ``# requires: torch``; without
PyTorch that block alone is left out (with a warning).
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
import warnings
from pathlib import Path

import pytest

import convmat

from .conftest import torch

DOCS = Path(__file__).resolve().parent.parent / "docs"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _pages():
    return [*sorted(DOCS.glob("*.md")), DOCS.parent / "README.md"]


def _modules():
    names = [convmat.__name__]
    for info in pkgutil.walk_packages(convmat.__path__, prefix="convmat."):
        if info.name not in ("convmat.__main__",):
            names.append(info.name)
    return names


def test_docs_exist():
    assert len(_pages()) > 1, "docs/ has no pages"


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.name)
def test_doc_page_runs(page: Path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = BLOCK.findall(page.read_text())
    assert blocks, f"{page.name} has no python blocks"
    namespace: dict = {"__name__": f"docs.{page.stem}"}
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    parser = doctest.DocTestParser()
    for number, block in enumerate(blocks, 1):
        name = f"{page.name} block {number}"
        if "# requires: torch" in block and torch is None:
            # only this block: the rest of the page still runs (and must not depend on it)
            warnings.warn(f"{name} needs PyTorch and was not run", stacklevel=1)
            continue
        if ">>>" in block:
            test = parser.get_doctest(block, namespace, name, str(page), 0)
            result = runner.run(test, clear_globs=False)
            assert result.failed == 0, f"{name} failed (output above)"
            namespace.update(test.globs)  # DocTest copies its globals; carry them on
        else:
            exec(compile(block, name, "exec"), namespace)  # noqa: S102 - our own docs


@pytest.mark.parametrize("module", _modules())
def test_docstring_examples(module: str):
    mod = importlib.import_module(module)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in finder.find(mod, module, globs={**vars(mod)}):
        result = runner.run(test)
        assert result.failed == 0, f"docstring example in {test.name} failed (output above)"
