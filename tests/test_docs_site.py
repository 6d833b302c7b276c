"""The documentation website, opened in a real browser (headless chromium).

The site is the one ``.ci/run`` built (``CONVMAT_DOCS_HTML``) or, when Sphinx and the ``docs``
extra are installed, one built here from ``docs/``. Each checked page is copied beside itself
with a probe script that runs after the page's own scripts (MathJax included, given a virtual
time budget) and writes what it found into the DOM that chromium dumps: how many formulas the
math engine typeset, which math was left as raw TeX, which images failed to load.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import convmat

DOCS = Path(__file__).resolve().parent.parent / "docs"
PROBE = """
<script>
window.addEventListener("load", () => setTimeout(() => {
  const images = [...document.images];
  const raw = [...document.querySelectorAll(".math")].filter(
      m => !m.querySelector("mjx-container") && /\\\\[(\\[]|\\\\begin\\{/.test(m.textContent));
  const report = {
    images: images.length,
    broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
    typeset: document.querySelectorAll("mjx-container").length,
    errors: document.querySelectorAll("mjx-merror").length,
    raw: raw.map(m => m.textContent.slice(0, 80)),
  };
  const out = document.createElement("pre");
  out.id = "convmat-probe";
  out.textContent = JSON.stringify(report);
  document.body.appendChild(out);
}, 3000));
</script>
"""
REPORT = re.compile(r'<pre id="convmat-probe">(.*?)</pre>', re.DOTALL)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A built copy of the site that the probes may be written into."""
    out = tmp_path_factory.mktemp("site")
    built = os.environ.get("CONVMAT_DOCS_HTML")
    if built:
        shutil.copytree(built, out, dirs_exist_ok=True)
        return out
    for module in ("sphinx", "myst_parser", "numpydoc", "furo"):
        pytest.importorskip(module, reason="the docs extra is not installed")
    if not (DOCS / "conf.py").exists():
        pytest.skip("no docs/conf.py beside the tests")
    subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                    str(DOCS), str(out)], check=True, capture_output=True, text=True)
    return out


def _open(site: Path, page: str) -> tuple[str, dict]:
    """The DOM of ``page`` after its scripts ran, and the probe's report."""
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed")
    source = site / page
    probed = source.with_name(f"_probed_{source.name}")
    html = source.read_text(encoding="utf-8")
    probed.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
         "--virtual-time-budget=20000", "--dump-dom", probed.as_uri()],
        capture_output=True, text=True, timeout=120, check=True).stdout
    found = REPORT.search(dom)
    assert found, f"the probe did not run on {page}"
    return dom, json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def test_api_page_typesets_math_and_lists_conv_matrix(site):
    dom, report = _open(site, "api/builders.html")
    assert report["typeset"] >= 10 and report["errors"] == 0, report
    assert report["raw"] == [], report
    start = dom.index('id="convmat.conv_matrix"')
    entry = dom[start:dom.index('<dl class="py', start)]
    signature, body = entry.split("</dt>", 1)
    assert "Parameters" in body and "Returns" in body
    described = {name for group in re.findall(r"<strong>([^<]+)</strong>", body)
                 for name in group.split(", ")}
    for name in inspect.signature(convmat.conv_matrix).parameters:
        assert f'<span class="n"><span class="pre">{name}</span>' in signature, name
        assert name in described, f"{name} is not described under Parameters"


def test_a_matrix_is_typeset_not_left_as_tex(site):
    dom, report = _open(site, "api/builders.html")
    assert "bmatrix" in (site / "api" / "builders.html").read_text(encoding="utf-8")
    assert report["raw"] == [] and report["typeset"] > 0


@pytest.mark.parametrize("page", ["index.html", "figures.html", "networks.html",
                                  "api/figures.html"])
def test_pages_load_their_images_and_math(site, page):
    _, report = _open(site, page)
    assert report["broken"] == [], report
    assert report["raw"] == [] and report["errors"] == 0, report
    if page == "figures.html":
        assert report["images"] >= 5, report
    if page == "networks.html":
        assert report["typeset"] >= 2, report


def test_math_engine_is_bundled_not_fetched(site):
    for html in site.rglob("*.html"):
        for src in re.findall(r'<script[^>]*src="([^"]+)"', html.read_text(encoding="utf-8")):
            assert "://" not in src, f"{html.name} loads {src} from the network"
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists()


def test_the_site_shows_this_version_and_has_search(site):
    assert f"convmat {convmat.__version__}" in (site / "index.html").read_text(encoding="utf-8")
    assert (site / "search.html").exists() and (site / "searchindex.js").exists()
    assert "conv_matrix" in (site / "searchindex.js").read_text(encoding="utf-8")


def test_pages_link_inline_code_to_the_api(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    assert re.search(r'href="api/builders.html#convmat.conv_matrix"', html), \
        "inline `convmat.conv_matrix` on the home page is not a link to its API entry"


def _documented() -> set[str]:
    """Full names that docs/api/*.rst documents (``currentmodule`` + ``auto*`` directives)."""
    names = set()
    for page in sorted((DOCS / "api").glob("*.rst")):
        module = "convmat"
        for line in page.read_text(encoding="utf-8").splitlines():
            if m := re.match(r"\.\. (?:current)?module:: (\S+)", line):
                module = m.group(1)
            elif m := re.match(r"\.\. auto(?:function|class|data):: (\S+)", line):
                names.add(f"{module}.{m.group(1)}")
    return names


def test_api_reference_documents_every_public_name():
    import importlib
    import pkgutil
    import types

    if not (DOCS / "api").is_dir():
        pytest.skip("no docs/api beside the tests")
    documented = _documented()
    modules = [convmat.__name__] + [
        info.name for info in pkgutil.walk_packages(convmat.__path__, prefix="convmat.")
        if not any(part.startswith("_") for part in info.name.split("."))]
    missing = []
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, types.ModuleType):
                continue  # a module is documented through its names
            top = getattr(convmat, name, None) if name in convmat.__all__ else None
            if f"{module_name}.{name}" in documented or (
                    top is value and f"convmat.{name}" in documented):
                continue
            missing.append(f"{module_name}.{name}")
    assert missing == []
