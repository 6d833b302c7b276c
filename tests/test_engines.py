"""Every case of the LaTeX test table (``tests/latex_cases.py``) rendered by the real engines:
pdfLaTeX (one document, every case a display), KaTeX and MathJax 3 (from npm, run by node in
one process, as a web page would render them), and the beamer overlays compiled with the
beamer class (the slide count checked).

The npm packages come from ``$CONVMAT_NODE_MODULES`` (a folder holding ``node_modules``, or
that folder itself) or are installed into a temporary folder with npm; the KaTeX/MathJax
tests skip only where node or npm is absent, the others where pdflatex is.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from convmat.latex import beamer_document

from .conftest import requires_pdflatex
from .latex_cases import cases, overlay_cases

RENDER = Path(__file__).resolve().parent / "engines" / "render_math.js"
#: cases rendered without error by each engine in this run (printed in the test summary)
LATEX_CASES_RENDERED: dict[str, int] = {}


@pytest.fixture(scope="session")
def node_modules(tmp_path_factory) -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    given = os.environ.get("CONVMAT_NODE_MODULES")
    if given:
        path = Path(given)
        path = path / "node_modules" if (path / "node_modules").is_dir() else path
    else:
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed")
        folder = tmp_path_factory.mktemp("npm")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
                        "--prefix", str(folder), "katex", "mathjax-full"],
                       check=True, capture_output=True, timeout=900)
        path = folder / "node_modules"
    missing = [p for p in ("katex", "mathjax-full") if not (path / p).is_dir()]
    assert not missing, f"{path} lacks {missing}: npm install katex mathjax-full there"
    return path


def render(node_modules: Path, fragments: dict[str, str]) -> dict[str, dict]:
    """{name: {"katex": error or None, "mathjax": error or None}} from one node process."""
    payload = json.dumps([{"name": k, "tex": v} for k, v in fragments.items()])
    run = subprocess.run(["node", str(RENDER), str(node_modules)], input=payload,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


def test_every_case_renders_in_katex_and_mathjax(node_modules):
    table = cases()
    results = render(node_modules, table)
    assert set(results) == set(table)
    for engine in ("katex", "mathjax"):
        failures = {name: r[engine] for name, r in results.items() if r[engine]}
        assert failures == {}, f"{engine} rejected {len(failures)} cases"
        LATEX_CASES_RENDERED[engine] = len(results)


def test_the_engines_can_fail(node_modules):
    """The check is real: KaTeX refuses the ``@{}`` specs once written, both refuse an
    undefined macro, and MathJax refuses an unbalanced environment."""
    results = render(node_modules, {
        "at": r"\left[\begin{array}{@{}c|c@{}} 1 & 2 \end{array}\right]",
        "undefined": r"\begin{bmatrix} \frobnicate{1} \end{bmatrix}",
        "unbalanced": r"\begin{bmatrix} 1 & 2",
    })
    assert "Unknown column alignment: @" in results["at"]["katex"]
    assert results["undefined"]["katex"] and results["undefined"]["mathjax"]
    assert results["unbalanced"]["katex"] and results["unbalanced"]["mathjax"]


def _pdflatex(folder: Path, name: str, tex: str) -> subprocess.CompletedProcess:
    (folder / f"{name}.tex").write_text(tex)
    return subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           f"{name}.tex"], cwd=folder, capture_output=True, text=True,
                          timeout=300)


def _pages(run: subprocess.CompletedProcess) -> int:
    """Pages of the PDF, from pdfTeX's closing "Output written on ... (N pages, ...)"."""
    found = re.search(r"Output written on .*?\((\d+) pages?", run.stdout, re.DOTALL)
    return int(found.group(1)) if found else 0


@requires_pdflatex
@pytest.mark.latex
def test_every_case_compiles_with_pdflatex(tmp_path):
    """All cases in one document (a page each, ``\\typeout`` naming the case), so one run
    checks the whole table; the failing case is named from the log."""
    table = cases()
    body = []
    for name, tex in table.items():
        body += [rf"\typeout{{CASE {name}}}", r"\[", tex, r"\]", r"\clearpage"]
    document = "\n".join([r"\documentclass{article}", r"\usepackage{amsmath}",
                          r"\usepackage{color}", r"\usepackage[paperwidth=60cm,"
                          r"paperheight=40cm,margin=1cm]{geometry}", r"\begin{document}",
                          *body, r"\end{document}", ""])
    run = _pdflatex(tmp_path, "table", document)
    last = re.findall(r"CASE (\S+)", run.stdout)
    assert run.returncode == 0, f"case {last[-1] if last else '?'}: {run.stdout[-2500:]}"
    assert _pages(run) == len(table)
    LATEX_CASES_RENDERED["pdflatex"] = len(table)


@requires_pdflatex
@pytest.mark.latex
def test_overlays_compile_with_beamer_one_slide_per_row(tmp_path):
    if subprocess.run(["kpsewhich", "beamer.cls"], capture_output=True).returncode:
        pytest.skip("the beamer class is not installed (texlive-latex-recommended)")
    table = overlay_cases()
    for name, (frame, slides) in table.items():
        run = _pdflatex(tmp_path, name, beamer_document(frame))
        assert run.returncode == 0, f"{name}: {run.stdout[-2500:]}"
        assert _pages(run) == slides, name
    LATEX_CASES_RENDERED["beamer"] = len(table)


def test_wide_display_css_matches_what_the_engines_write(node_modules, tmp_path):
    """docs/display.md's stylesheet for wide displays selects the element KaTeX and MathJax 3
    put around a display, and the labelled display of ``A.T`` renders in both."""
    import numpy as np

    import convmat

    page = (Path(__file__).resolve().parents[1] / "docs" / "display.md").read_text()
    css = re.search(r"^```css\n(.*?)^```", page, re.DOTALL | re.MULTILINE).group(1)
    selectors = dict(re.findall(r"^(\S[^{]*?)\s*\{([^}]*)\}", css, re.MULTILINE))
    assert set(selectors) == {".katex-display", 'mjx-container[display="true"]'}
    assert all("overflow-x: auto" in rules for rules in selectors.values())
    worked = convmat.conv_matrix(np.arange(1, 10).reshape(3, 3), (5, 5))
    cases = {"wide": convmat.to_latex(worked, x="x", y="y", max_cols=None),
             "transposed": worked.T._repr_latex_().strip("$\n")}
    out = tmp_path / "page.html"
    run = subprocess.run(["node", str(RENDER), str(node_modules), "--html", str(out)],
                         input=json.dumps([{"name": k, "tex": v} for k, v in cases.items()]),
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout) == {name: {"katex": None, "mathjax": None} for name in cases}
    html = out.read_text()
    assert html.count('<span class="katex-display">') == len(cases)  # .katex-display
    assert len(re.findall(r'<mjx-container[^>]* display="true"', html)) == len(cases)
