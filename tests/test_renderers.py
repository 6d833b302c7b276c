"""The renderers' contracts beyond the LaTeX itself: typesetting a numeric matrix never
imports sympy; every user string that goes into LaTeX or Markdown follows one rule (a symbol
name, a checked math entry, escaped text), the same in the library and on the command line;
LaTeX spellings agree with the choice names and the symbols' names; the one-line
descriptions have one name (the old ``summary`` spellings warn)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convmat
from convmat import _choices, display, symbolic, text
from convmat.latex import _macros, to_latex

from .conftest import requires_pdflatex

ROOT = Path(__file__).resolve().parent.parent


# -- no sympy for numbers --------------------------------------------------------------------

def test_typesetting_a_numeric_matrix_does_not_import_sympy():
    code = """
import sys
import numpy as np
import convmat
A = convmat.conv_matrix(np.arange(9.0).reshape(3, 3), (6, 6), stride=2, padding=1)
assert A._repr_latex_().startswith("$$")
convmat.to_latex(A, x="x", y="y", highlight_row=1)
convmat.to_latex(A.toarray(), zero="cdot")
convmat.to_latex(A.tocoo(), overlay="rows", max_rows=4)
convmat.show(A, x="x", grid=True)
kl = convmat.kong_lucey(np.ones((3, 3)), (6, 6), stride=2, padding=1, padding_mode="reflect")
kl.latex()
kl._repr_latex_()
convmat.summary("conv 2 3; relu", (8,)).latex()
print("sympy" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "False", out.stderr


def test_symbolic_entries_still_print_through_sympy():
    """The lazy import changes nothing for sympy entries (integers, floats, expressions)."""
    import sympy

    w = sympy.Symbol("w")
    tex = to_latex(sympy.Matrix([[sympy.Integer(3), sympy.Float(0.5)], [w**2, 0]]))
    assert tex.splitlines()[1:3] == [r"3 & 0.5 \\", r"w^{2} & 0"]


# -- the LaTeX of each choice, one table each ------------------------------------------------

def test_every_choice_name_has_its_latex_and_nothing_else():
    assert tuple(_macros.DELIMITERS) == _choices.ENVIRONMENTS
    assert tuple(_macros.ZERO_TEXT) == _choices.ZERO_STYLES
    assert tuple(_macros.HIGHLIGHT_MACROS) == _choices.HIGHLIGHTS
    for values in (_choices.ENVIRONMENTS, _choices.ZERO_STYLES, _choices.HIGHLIGHTS):
        assert not any("\\" in v for v in values)  # names only: no LaTeX in the foundations


def test_no_latex_macro_is_spelled_in_the_foundations():
    for name in ("_choices.py", "_symbols.py", "text.py"):
        source = (Path(convmat.__file__).parent / name).read_text()  # the imported package
        code = re.sub(r'""".*?"""|#[^\n]*', "", source, flags=re.DOTALL)
        assert not re.search(r"\\\\(hline|begin|end|cdot|boxed|textbf|textcolor)", code), name


@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.integers(0, 2),
       st.sampled_from(["w", "x", r"\alpha", "W2"]), st.data())
def test_the_renderer_spells_the_symbols_names(shape, base, name, data):
    """``latex.subscript`` (no sympy) writes what sympy prints for the builders' symbols."""
    import sympy

    flat = data.draw(st.integers(0, int(np.prod(shape)) - 1))
    symbol = np.array(symbolic.kernel(tuple(shape), name, base=base).tolist(),
                      dtype=object).ravel()[flat]
    index = np.unravel_index(flat, tuple(shape))
    assert _macros.subscript(name, index, base) == str(symbol) == sympy.latex(symbol)


# -- one name per concept --------------------------------------------------------------------

def test_the_one_line_descriptions_are_called_describe_and_summary_warns():
    A = convmat.conv_matrix([1, 2], (3,))
    S = symbolic.conv_matrix((3, 3), (32, 32))
    assert text.describe(A) == "2 x 3 sparse matrix, 4 stored entries (density 0.667), " \
                               "dtype int64"
    assert display.describe(S).startswith("ConvMatrix: 900 x 1024 sympy sparse matrix")
    for module, value in ((text, A), (display, S)):
        with pytest.warns(DeprecationWarning, match=rf"convmat\.{module.__name__[8:]}\.summary "
                                                    r"is deprecated; use .*describe"):
            old = module.summary(value)
        assert old == module.describe(value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text.to_text(convmat.conv_matrix(np.ones(3), (100,)))  # the new name inside: silent
    assert convmat.summary is convmat.networks.summary  # the network table keeps its name


# -- one rule for user strings ---------------------------------------------------------------

HOSTILE_NAMES = [r"\input{/etc/passwd}", "x}", "{x", "x_1", "x^2", "x y", "", "1x", r"\def",
                 "x$", "x%", r"\alphax", r"\\", "x\ny"]


@pytest.mark.parametrize("bad", HOSTILE_NAMES)
def test_a_name_that_is_not_a_symbol_name_is_refused_everywhere(bad):
    A = convmat.conv_matrix([1, 2], (3,))
    S = symbolic.conv_matrix((2,), (3,))
    kl = convmat.kong_lucey([1, 2, 3], (5,), stride=2)
    calls = [
        lambda: symbolic.kernel((2,), name=bad),
        lambda: symbolic.conv_matrix((2,), (3,), name=bad),
        lambda: symbolic.conv_transpose_matrix((2,), (3,), name=bad),
        lambda: symbolic.kong_lucey((3,), (5,), stride=2, name=bad),
        lambda: symbolic.inputs(S, name=bad),
        lambda: symbolic.outputs(S, name=bad),
        lambda: symbolic.product(S, y=bad),
        lambda: to_latex(A, x=bad),
        lambda: to_latex(A, y=bad),
        lambda: kl.latex(x=bad),
        lambda: kl.latex("sum", y=bad),
        lambda: convmat.show(A, x=bad),
    ]
    for call in calls:
        with pytest.raises(convmat.ConvmatError, match="is not a symbol name|must be a"):
            call()


@pytest.mark.parametrize("good", ["h", "W2", r"\alpha", r"\theta1", "Xy"])
def test_symbol_names_work_everywhere(good):
    S = symbolic.conv_matrix((2,), (3,), name=good)
    assert f"{good}_{{0}}" in to_latex(S)
    assert f"{good}_{{0}}" in to_latex(convmat.conv_matrix([1, 2], (3,)), x=good)
    assert f"{good}_{{0}}" in convmat.kong_lucey([1, 2, 3], (5,), stride=2).latex(y=good)


def test_the_command_line_and_the_library_share_the_rule(capsys):
    from convmat import _validate, cli
    from convmat.cli import _args

    assert _args._SYMBOL_NAME is _validate.SYMBOL_NAME
    for bad in (r"\input{x}", "x}"):
        assert cli.main(["matrix", "--kernel", "2", "--input", "3", "--symbolic", "--name", bad,
                        "--format", "latex"]) != 0
        assert "is not a symbol name" in capsys.readouterr().err
        with pytest.raises(convmat.ConvmatError, match="is not a symbol name"):
            symbolic.kernel((2,), name=bad)


@pytest.mark.parametrize("entry, reason", [
    (r"\input{secret}", r"uses \\input, which is not a math macro"),
    (r"\def\x{1}", r"uses \\def"),
    (r"\immediate\write18{rm}", r"uses \\immediate"),
    (r"\csname input\endcsname", r"uses \\csname"),
    ("^^5cinput{x}", "which LaTeX reads outside"),
    ("a}", "closes a brace it did not open"),
    ("{a", "leaves 1 brace"),
    ("a$b", "which LaTeX reads outside"),
    ("a % b", "which LaTeX reads outside"),
    ("a & b", "which LaTeX reads outside"),
    ("a#1", "which LaTeX reads outside"),
    (r"a \\ b", r"holds \\\\, which is not a math control symbol"),
    ("a\n\nb", "holds a line break"),
])
def test_a_latex_entry_that_could_escape_the_formula_is_refused(entry, reason):
    with pytest.raises(convmat.ConvmatError, match=reason):
        to_latex(np.eye(2), x=[entry, "1"])
    with pytest.raises(convmat.ConvmatError, match=reason):
        to_latex(np.eye(2), y=["1", entry])


@pytest.mark.parametrize("entry", [r"\alpha", r"\hat{x}_{1}", r"\frac{1}{2}", r"-\pi",
                                   r"\mathbf{v}^{2}", r"\{a\}", r"a\,b", "x'", r"\left(a\right)"])
def test_ordinary_latex_entries_pass_as_they_are(entry):
    assert entry + r" \\" in to_latex(np.eye(2), x=[entry, "1"]).splitlines()


def _balanced(tex: str) -> bool:
    depth = 0
    for k, ch in enumerate(tex):
        if ch in "{}" and (k == 0 or tex[k - 1] != "\\" or tex[k - 2:k] == "\\\\"):
            depth += 1 if ch == "{" else -1
            if depth < 0:
                return False
    return depth == 0


@given(st.text(alphabet=st.sampled_from(list("ab{}\\$%#&^_ inputdefwrite\n")), max_size=20))
def test_a_written_entry_never_unbalances_the_output(entry):
    try:
        tex = to_latex(np.eye(1), x=[entry])
    except convmat.ConvmatError as error:
        assert "x entry" in str(error)
        return
    assert _balanced(tex)
    assert not re.search(r"\\(input|def|write|csname)(?![A-Za-z])", tex)
    assert not re.search(r"(?<!\\)[$%#&]", entry)  # only as control symbols (\&)


def _summary_with(name: str):
    return convmat.summary(f"{name}: conv 2 3; relu", (8,))


NASTY = r"a{b}^~c_d\e$f&g#h%i|j<k>l"


def test_summary_markdown_escapes_the_pipe():
    rows = _summary_with("a|b*c").markdown().splitlines()
    cells = re.split(r"(?<!\\)\|", rows[2])[1:-1]  # GitHub's rule: an escaped pipe is text
    assert len(cells) == len(re.split(r"(?<!\\)\|", rows[0])[1:-1]) == 8
    assert cells[0].strip() == r"a\|b\*c"


def test_summary_latex_escapes_every_special_character():
    tex = _summary_with(NASTY).latex()
    row = tex.splitlines()[4]
    assert row.startswith(r"a\{b\}\^{}\~{}c\_d\textbackslash{}e\$f\&g\#h\%i\textbar{}j"
                          r"\textless{}k\textgreater{}l & Conv1d & ")
    assert len(re.findall(r"(?<!\\)&", row)) == 7 and _balanced(tex)


@requires_pdflatex
def test_escaped_documents_compile(tmp_path):
    """Summaries with every special character, and formulas with accepted LaTeX entries and
    symbol names, compile."""
    docs = {
        "summary": _summary_with(NASTY).latex(standalone=True),
        "entries": to_latex(np.eye(3, dtype=int), x=[r"\hat{x}_{1}", r"\frac{1}{2}", r"\{a\}"],
                            y="y", standalone=True),
        "names": convmat.kong_lucey([1, 2, 3], (5,), stride=2, padding=1,
                                    padding_mode="reflect").latex(x=r"\theta", y="Y2",
                                                                  standalone=True),
        "symbolic": to_latex(symbolic.conv_matrix((2, 2), (3, 3), name=r"\omega"),
                             standalone=True),
    }
    for name, doc in docs.items():
        (tmp_path / f"{name}.tex").write_text(doc)
        run = subprocess.run([shutil.which("pdflatex"), "-interaction=nonstopmode",
                              "-halt-on-error", f"{name}.tex"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, (name, run.stdout[-2000:])
