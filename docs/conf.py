"""Sphinx configuration: ``sphinx-build -W --keep-going -b html docs <out>`` builds the site.

The Markdown pages are read through MyST (they stay executable by ``tests/test_docs.py``);
``docs/api/`` documents every public name from its numpydoc docstring. MathJax is bundled
into the build (``sphinx-mathjax-offline``), so the site needs no network to show its math.
Inline code naming a documented object (```convmat.conv_matrix```, ```to_latex(...)```)
becomes a link to its API entry.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if (ROOT / "convmat" / "__init__.py").exists():  # a source checkout documents itself
    sys.path.insert(0, str(ROOT))

import convmat  # noqa: E402

project = "convmat"
author = "the convmat developers"
copyright = "2026, the convmat developers"
release = convmat.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",
    "numpydoc",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**/_build"]
suppress_warnings = ["myst.header"]

# MyST: $...$ and $$...$$ math, and GitHub-style relative links between the pages
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# autodoc + numpydoc: the docstrings are numpydoc; signatures keep their annotations short
autodoc_typehints = "signature"
#: the package's type aliases stay names in signatures instead of their expansions
autodoc_type_aliases = {
    "geometry.Padding": "convmat.geometry.Padding",
    "geometry.PaddingMode": "convmat.geometry.PaddingMode",
    "Padding": "convmat.geometry.Padding",
    "PaddingMode": "convmat.geometry.PaddingMode",
    "Environment": "convmat.latex.Environment",
    "ZeroStyle": "convmat.latex.ZeroStyle",
    "Blocks": "convmat.latex.Blocks",
}
autodoc_member_order = "bysource"
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "furo"
html_title = f"convmat {release}"
html_static_path: list[str] = []
html_show_sourcelink = False

# ------------------------------------------------------------------ the CLI's --help


def _cli_help(_directive) -> list:
    """``.. convmat-cli-help::``: the parser's help and every subcommand's, as literal blocks."""
    from docutils import nodes

    from convmat.cli import build_parser

    def text(help_text: str):  # plain text: not highlighted as if it were Python
        block = nodes.literal_block(text=help_text)
        block["language"] = "text"
        return block

    parser = build_parser()
    out = [text(parser.format_help())]
    actions = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    for action in actions:
        for name, sub in action.choices.items():
            section = nodes.section(ids=[f"convmat-{name}"])
            section += nodes.title(text=f"convmat {name}")
            section += text(sub.format_help())
            out.append(section)
    return out


# ----------------------------------------------------------- inline code -> API links

#: ``convmat.conv_matrix``, ``conv_matrix(w, shape)``, ``convmat.symbolic.conv_matrix``
_NAME = re.compile(r"^(?P<name>[A-Za-z_][\w.]*)(?:\([^()]*\))?$")


def _link_code(app, doctree, docname):
    """Turn inline code that names a documented object into a link to its entry."""
    from docutils import nodes

    objects = app.env.get_domain("py").objects
    for literal in list(doctree.findall(nodes.literal)):
        if isinstance(literal.parent, (nodes.reference, nodes.literal_block)):
            continue
        match = _NAME.match(literal.astext())
        if not match:
            continue
        name = match["name"]
        # the name as written, under convmat., or the one documented object it ends
        suffix = [full for full in objects if full.endswith(f".{name}")]
        for candidate in (name, f"convmat.{name}", *suffix[:1 if len(suffix) == 1 else 0]):
            entry = objects.get(candidate)
            if entry is not None and entry.docname != docname:
                break
        else:
            continue
        uri = app.builder.get_relative_uri(docname, entry.docname) + "#" + entry.node_id
        reference = nodes.reference("", "", internal=True, refuri=uri,
                                    reftitle=f"{candidate} in the API reference")
        literal.replace_self(reference)
        reference += literal


def setup(app):
    from docutils.parsers.rst import Directive

    # conf.py itself imports no docutils: tests read its version without the docs extra
    app.add_directive("convmat-cli-help", type("CliHelp", (Directive,), {"run": _cli_help}))
    app.connect("doctree-resolved", _link_code)
    return {"parallel_read_safe": True}
