"""convmat.latex: structure of the LaTeX (rows, ampersands, rules, elision) and real pdflatex
compilation of several outputs."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest
import scipy.sparse as sp
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import convmat
from convmat import symbolic
from convmat.errors import ConvmatError
from convmat.geometry import convolution_geometry, transposed_geometry
from convmat.latex import block_sizes, document, equations_to_latex, to_latex

from .conftest import requires_pdflatex

ENV = re.compile(r"\\begin\{(\w+)\}(?:\{([^\n]*)\})?\n(.*?)\n\\end\{\1\}", re.DOTALL)


def parse(tex: str, which: int = 0):
    """(environment, column spec, rows as lists of cells, indices of rows followed by a rule)."""
    env, spec, body = ENV.findall(tex)[which]
    rows, rules = [], []
    for line in body.split("\n"):
        if line.startswith(r"\hline"):
            rules.append(len(rows) - 1)
            continue
        rows.append(line.removesuffix(r" \\").split(" & "))
    return env, spec, rows, rules


def check_rows(tex: str, n_cols: int, which: int = 0):
    """Every row has ``n_cols - 1`` ampersands; returns the parsed rows."""
    env, spec, rows, rules = parse(tex, which)
    body_lines = [r for r in ENV.findall(tex)[which][2].split("\n") if not r.startswith(r"\h")]
    assert all(line.count("&") == n_cols - 1 for line in body_lines)
    return rows


def two_by_two():
    return symbolic.conv_matrix((2, 2), (3, 3))


# -- ampersands, environments, values -------------------------------------------------------

@pytest.mark.parametrize("matrix", [
    convmat.conv_matrix([[1, 2], [3, 4]], (3, 3)),
    convmat.conv_matrix([[1, 2], [3, 4]], (3, 3)).toarray(),
    two_by_two(),
    sympy.ImmutableMatrix([[1, 2, 3]]),
    sp.csr_matrix(np.eye(3)),
], ids=["scipy", "numpy", "sympy", "sympy-dense", "spmatrix"])
@pytest.mark.parametrize("environment", ["bmatrix", "pmatrix", "array"])
def test_each_row_has_columns_minus_one_ampersands(matrix, environment):
    tex = to_latex(matrix, environment=environment, blocks=None)
    rows = check_rows(tex, matrix.shape[1])
    assert len(rows) == matrix.shape[0]
    assert tex.startswith(rf"\begin{{{environment}}}" if matrix.shape[1] <= 10
                          or environment == "array" else r"\left")


def test_wide_matrices_become_arrays_with_the_same_delimiters():
    tex = to_latex(np.arange(12)[None, :], environment="pmatrix")
    assert tex.startswith(r"\left(\begin{array}{cccccccccccc}") and tex.endswith(r"\right)")
    check_rows(tex, 12)


def test_number_formatting():
    tex = to_latex(np.array([[1.0, 0.5, 1 / 3, 2.5e-7, -1e12, np.nan, -np.inf, 0.0]]),
                   precision=3)
    assert parse(tex)[2][0] == ["1", "0.5", "0.333", r"2.5 \times 10^{-7}", r"-10^{12}",
                                r"\mathrm{NaN}", r"-\infty", "0"]
    tex = to_latex(np.array([[1 + 2j, -1j, 3 + 0j, 1.5 - 0.5j]]))
    assert parse(tex)[2][0] == ["1 + 2i", "-i", "3", "1.5 - 0.5i"]
    assert parse(to_latex(np.array([[7, -3]], dtype=np.int8)))[2][0] == ["7", "-3"]
    assert parse(to_latex(sympy.Matrix([[sympy.Rational(1, 2), sympy.Float(0.25)]])))[2][0] == [
        r"\frac{1}{2}", "0.25"]


@pytest.mark.parametrize("zero, text", [("0", "0"), ("cdot", r"\cdot"), ("blank", "")])
def test_zero_styles_and_stored_zeros(zero, text):
    matrix = convmat.conv_matrix([1, 0, 2], (4,))  # the 0 tap is stored
    rows = parse(to_latex(matrix, zero=zero))[2]
    assert rows[0] == ["1", "0", "2", text]  # stored zero prints 0, structural zero as asked
    numpy_rows = parse(to_latex(matrix.toarray(), zero=zero))[2]
    assert numpy_rows[0] == ["1", text, "2", text]  # numpy has no structure: every 0 is zero


# -- block rules ------------------------------------------------------------------------------

def test_automatic_blocks_of_a_symbolic_matrix():
    tex = to_latex(two_by_two())
    env, spec, rows, rules = parse(tex)
    assert env == "array" and spec == "ccc|ccc|ccc"
    assert rules == [1]
    assert tex.startswith("\\def\\arraystretch{1.3}\n\\left[") and tex.endswith(r"\right]")


def test_blocks_from_a_geometry_for_numeric_matrices():
    geom = convolution_geometry((3, 3), (2, 2))
    numeric = convmat.conv_matrix(np.ones((2, 2), dtype=int), (3, 3))
    assert parse(to_latex(numeric, geometry=geom))[1:4:2] == ("ccc|ccc|ccc", [1])
    assert parse(to_latex(numeric))[1:4:2] == ("ccc|ccc|ccc", [1])  # it carries its own
    assert parse(to_latex(sp.csr_array(numeric)))[0] == "bmatrix"  # no geometry, no rules
    with pytest.raises(ConvmatError, match="geometry describes a 4 x 9 matrix"):
        to_latex(np.ones((3, 3)), geometry=geom)


def test_transposed_blocks():
    t = symbolic.conv_transpose_matrix((2, 2), (2, 2))  # 9 x 4
    env, spec, rows, rules = parse(to_latex(t))
    assert spec == "cc|cc" and rules == [2, 5]
    numeric = convmat.conv_transpose_matrix(np.ones((2, 2)), (2, 2))
    geom = transposed_geometry((2, 2), (2, 2))
    assert parse(to_latex(numeric, geometry=geom))[1] == spec
    assert parse(to_latex(t.T))[1] == "ccc|ccc|ccc"  # .T of a ConvMatrix knows itself


def test_channels_draw_double_rules():
    m = symbolic.conv_matrix((2, 2, 2, 2), (3, 3))  # rows (2, 2, 2), cols (2, 3, 3)
    assert block_sizes(m.geometry) == ((4, 2), (9, 3))
    env, spec, rows, rules = parse(to_latex(m, max_cols=None, zero="blank"))
    assert spec == "ccc|ccc|ccc||ccc|ccc|ccc"
    lines = to_latex(m, max_cols=None).split("\n")
    assert lines.count(r"\hline") == 2 and lines.count(r"\hline\hline") == 1
    assert rules == [1, 3, 5]


def test_explicit_blocks_and_no_blocks():
    m = np.arange(36).reshape(6, 6)
    env, spec, rows, rules = parse(to_latex(m, blocks=(3, 2)))
    assert spec == "cc|cc|cc" and rules == [2]
    env, spec, rows, rules = parse(to_latex(m, blocks=((4, 2), 0)))
    assert spec == "cccccc" and rules == [1, 3]
    assert to_latex(m, blocks=((4, 2), 0)).count(r"\hline\hline") == 1
    assert parse(to_latex(two_by_two(), blocks=None))[0] == "bmatrix"


def test_block_sizes_as_numpy_arrays():
    """Once a ValueError ('truth value of an array is ambiguous') without context."""
    m = np.arange(36).reshape(6, 6)
    assert to_latex(m, blocks=(np.array([4, 2]), np.int64(3))) == to_latex(m, blocks=((4, 2), 3))


def test_one_dimensional_matrices_have_no_blocks():
    assert block_sizes(convolution_geometry((5,), (3,))) == ((), ())
    assert block_sizes(convolution_geometry((5,), (2, 1, 3))) == ((3,), ())


# -- elision ----------------------------------------------------------------------------------

@settings(max_examples=40)
@given(rows=st.integers(1, 30), cols=st.integers(1, 30), max_rows=st.integers(2, 12),
       max_cols=st.integers(2, 12))
def test_elided_output_has_the_requested_size(rows, cols, max_rows, max_cols):
    matrix = sp.random_array((rows, cols), density=0.3, rng=0, format="csr")
    tex = to_latex(matrix, max_rows=max_rows, max_cols=max_cols, environment="array")
    n_rows, n_cols = min(rows, max_rows), min(cols, max_cols)
    parsed = check_rows(tex, n_cols)
    assert len(parsed) == n_rows
    dots_row = [i for i, row in enumerate(parsed) if row[0] in (r"\vdots", r"\ddots")]
    dots_col = [j for j, cell in enumerate(parsed[0]) if cell == r"\cdots"]
    assert len(dots_row) == (rows > max_rows) and len(dots_col) == (cols > max_cols)
    if dots_row and dots_col:
        assert parsed[dots_row[0]][dots_col[0]] == r"\ddots"


def test_large_matrix_is_elided_to_a_page():
    a = convmat.conv_matrix(np.arange(1, 10).reshape(3, 3), (32, 32), padding="same")
    tex = to_latex(a, max_rows=9, max_cols=12)
    rows = check_rows(tex, 12)
    assert len(rows) == 9 and rows[4] == [r"\vdots"] * 6 + [r"\ddots"] + [r"\vdots"] * 5
    assert rows[0][:3] == ["5", "6", "0"] and rows[-1][-2:] == ["4", "5"]
    assert len(tex) < 2000


def test_unbounded_output_is_refused():
    with pytest.raises(ConvmatError, match="max_rows and max_cols"):
        to_latex(sp.eye_array(2000, format="csr"), max_rows=None, max_cols=None)


# -- highlight and vectors --------------------------------------------------------------------

def test_highlight_row_boxes_its_window_and_the_inputs_it_touches():
    tex = to_latex(two_by_two(), highlight_row=1, x="x", y="y")
    matrix_rows = parse(tex, 1)[2]
    boxed = [cell for cell in matrix_rows[1] if r"\boxed" in cell]
    frame = r"\smash{\boxed{\smash[b]{%s}}}"
    assert boxed == [frame % "w_{0,0}", frame % "w_{0,1}", frame % "w_{1,0}", frame % "w_{1,1}"]
    assert not any(r"\boxed" in c for row in matrix_rows[:1] + matrix_rows[2:] for c in row)
    x_rows = parse(tex, 2)[2]
    assert [r[0] for r in x_rows if "boxed" in r[0]] == [
        frame % "x_{0,1}", frame % "x_{0,2}", frame % "x_{1,1}", frame % "x_{1,2}"]
    y_rows = parse(tex, 0)[2]
    assert [r[0] for r in y_rows] == ["y_{0,0}", frame % "y_{0,1}", "y_{1,0}", "y_{1,1}"]
    assert "\n=\n" in tex
    bold = to_latex(two_by_two(), highlight_row=0, highlight="bold")
    assert r"\boldsymbol{w_{0,0}}" in bold


def test_vectors_follow_elision_and_accept_entries():
    a = convmat.conv_matrix([1, 2], (30,))
    tex = to_latex(a, x="x", max_rows=5, max_cols=6)
    x_rows = [r[0] for r in parse(tex, 1)[2]]
    assert x_rows == ["x_{0}", "x_{1}", "x_{2}", r"\vdots", "x_{28}", "x_{29}"]
    tex = to_latex(np.eye(2, dtype=int), x=[r"\alpha", 1.5], y=sympy.symbols("u v"))
    assert [r[0] for r in parse(tex, 2)[2]] == [r"\alpha", "1.5"]
    assert [r[0] for r in parse(tex, 0)[2]] == ["u", "v"]
    with pytest.raises(ConvmatError, match="x has 1 entries but the matrix has 2 columns"):
        to_latex(np.eye(2), x=[1])


def test_hidden_highlight_row_is_an_error():
    with pytest.raises(ConvmatError, match="elided by max_rows=4"):
        to_latex(sp.eye_array(50), highlight_row=25, max_rows=4)


# -- equations --------------------------------------------------------------------------------

def test_equations_aligned_and_elided():
    p = symbolic.product(symbolic.conv_matrix((2, 2), (3, 3)))
    tex = equations_to_latex(p)
    lines = tex.split("\n")
    assert lines[0] == r"\begin{aligned}" and lines[-1] == r"\end{aligned}"
    assert lines[1] == (r"y_{0,0} &= w_{0,0} x_{0,0} + w_{0,1} x_{0,1} + w_{1,0} x_{1,0} "
                        r"+ w_{1,1} x_{1,1} \\")
    assert len(equations_to_latex(p.sums(), max_rows=3).split("\n")) == 5
    with pytest.raises(ConvmatError, match="sympy.Eq"):
        equations_to_latex(["y = 1"])


# -- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    (dict(environment="tabular"), "environment='tabular' is not one of"),
    (dict(zero="dot"), "zero='dot'"),
    (dict(precision=0), "precision=0"),
    (dict(max_rows=1), "max_rows=1 must be at least 2"),
    (dict(blocks="yes"), "blocks='yes'"),
    (dict(blocks=(1, 2, 3)), "blocks="),
    (dict(blocks=(-1, 2)), "positive block sizes"),
    (dict(highlight_row=9), "highlight_row=9 is not a row"),
    (dict(highlight="red"), "highlight='red'"),
    (dict(geometry="3x3"), "not a ConvGeometry"),
    (dict(x=""), "x='' must be a name or the entries"),  # once printed the symbols _{0}, ...
    (dict(y="", x="x"), "y='' must be a name or the entries"),
    (dict(blocks=(np.array([2, -1]), 1)), "positive block sizes"),
])
def test_bad_options(kwargs, message):
    with pytest.raises(ConvmatError, match=re.escape(message)) as info:
        to_latex(np.eye(3), **kwargs)
    assert "to_latex(" in str(info.value)


@pytest.mark.parametrize("matrix", [np.ones((2, 2, 2)), np.zeros((0, 3)), np.array([["a"]])])
def test_bad_matrices(matrix):
    with pytest.raises(ConvmatError, match="matrix"):
        to_latex(matrix)


# -- real compilation -------------------------------------------------------------------------

def _outputs():
    big = convmat.conv_matrix(np.linspace(-1, 1, 9).reshape(3, 3), (32, 32), padding=1)
    channels = symbolic.conv_matrix((2, 2, 2, 2), (3, 3))
    return {
        "symbolic-y=Ax-highlight": to_latex(two_by_two(), x="x", y="y", highlight_row=2,
                                            standalone=True),
        "channels-double-rules": to_latex(channels, zero="cdot", max_cols=14, standalone=True),
        "elided-1024-columns": to_latex(big, max_rows=12, max_cols=16, precision=2,
                                        environment="pmatrix", standalone=True,
                                        geometry=convolution_geometry((32, 32), (3, 3), padding=1)),
        "array-bold-complex": to_latex(np.array([[1 + 2j, 0], [0.5, -1j]]), environment="array",
                                       highlight_row=0, highlight="bold", standalone=True),
        "transposed-vmatrix": to_latex(symbolic.conv_transpose_matrix((2, 2), (2, 2), stride=2),
                                       environment="vmatrix", zero="blank", standalone=True),
        "equations": equations_to_latex(symbolic.product(channels), max_rows=5,
                                        standalone=True),
        "fragment-in-own-document": document(to_latex(np.eye(3, dtype=int), environment="matrix")
                                             + r" \quad " + to_latex(np.eye(11, dtype=int))),
    }


@requires_pdflatex
@pytest.mark.latex
@pytest.mark.parametrize("name", list(_outputs()))
def test_output_compiles_with_pdflatex(name, tmp_path):
    (tmp_path / "doc.tex").write_text(_outputs()[name])
    result = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 0


@pytest.mark.skipif(shutil.which("lualatex") is None, reason="lualatex is not installed")
@pytest.mark.latex
def test_standalone_compiles_with_lualatex_too(tmp_path):
    """Once: '! Undefined control sequence. \\pdfpagewidth' (a pdfTeX-only primitive)."""
    (tmp_path / "doc.tex").write_text(to_latex(two_by_two(), x="x", y="y", standalone=True))
    result = subprocess.run(["lualatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
