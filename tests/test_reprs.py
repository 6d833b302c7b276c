"""Displays that do not mislead: ``A.T``, products and slices of a numeric convolution
matrix keep a typeset display (the transpose as the transposed convolution's matrix), and
the plain ``repr`` of any matrix convmat returns is short and immediate at any size."""

from __future__ import annotations

import pickle
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import convmat
from convmat import symbolic
from convmat.arrays import ConvArray, ConvArrayCSC
from convmat.display import latex_repr

from .conftest import requires_pdflatex


@st.composite
def forward_layers(draw):
    """A zero-padded convolution (1-D or 2-D, channels, groups) and its weight."""
    ndim = draw(st.integers(1, 2))
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(ndim))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(ndim))
    extent = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    size = tuple(draw(st.integers(max(1, e - 2 * p), 7)) for e, p in zip(extent, padding))
    seed = draw(st.integers(0, 2**16))
    weight = np.random.default_rng(seed).integers(-4, 5, (c_out, c_in // groups, *kernel))
    return weight, size, {"stride": stride, "padding": padding, "dilation": dilation,
                          "groups": groups}


@settings(max_examples=60, deadline=None)
@given(case=forward_layers())
def test_transpose_is_the_transposed_convolutions_matrix(case):
    """``A.T`` equals ``conv_transpose_matrix`` of the same geometry (the output padding
    that gives the input's size back), carries that geometry and shows the same display."""
    weight, size, kw = case
    A = convmat.conv_matrix(weight, size, **kw)
    out = A.geometry.output_shape
    # the transposed layer on the output: size (o - 1) s - 2p + d (k - 1) + 1 + output_padding
    natural = [(o - 1) * s - 2 * p + d * (k - 1) + 1 for o, s, p, d, k in zip(
        out, kw["stride"], kw["padding"], kw["dilation"], weight.shape[2:])]
    B = convmat.conv_transpose_matrix(weight, out, output_padding=tuple(
        i - n for i, n in zip(size, natural)), **kw)
    T = A.T
    assert isinstance(T, sp.csc_array) and type(T) is ConvArrayCSC
    assert T.shape == B.shape and (T != B).nnz == 0
    assert np.array_equal(T.toarray(), A.toarray().T)  # SciPy's transpose, unchanged
    assert T.geometry is A.geometry and T.transposed and not T.T.transposed
    assert T.geometry.input_shape == B.geometry.input_shape == size and B.transposed
    assert latex_repr(T) == latex_repr(B)
    assert T._repr_latex_() == B._repr_latex_()
    assert r"\text{transposed convolution }" in T._repr_latex_()
    assert r"\text{transposed" not in A._repr_latex_()
    assert type(T.tocsr()) is ConvArray and T.tocsr().transposed and (T.tocsr() != B).nnz == 0


def test_transpose_label_names_the_shapes():
    A = convmat.conv_matrix(np.ones((2, 1, 3, 3)), (5, 5), stride=2)  # 1x5x5 -> 2x2x2
    label = A.T._repr_latex_().splitlines()[1]
    assert label == r"\text{transposed convolution } 2{\times}2{\times}2 \to 5{\times}5\colon\quad"
    assert "transposed convolution 2x2x2 -> 5x5, kernel 3x3, stride 2x2" in repr(A.T)
    assert "the matrix of a convolution 5x5 -> 2x2x2" in repr(A)


def test_transpose_keeps_working_as_scipy():
    A = convmat.conv_matrix(np.arange(1, 10).reshape(3, 3), (6, 6), padding=1)
    dense = A.toarray()
    y = np.arange(36.0)
    assert np.allclose(A.T @ y, dense.T @ y) and np.allclose((A.T @ A).toarray(), dense.T @ dense)
    back = pickle.loads(pickle.dumps(A.T))
    assert type(back) is ConvArrayCSC and back.geometry == A.geometry and back.transposed
    assert type(A.tocsc()) is ConvArrayCSC and not A.tocsc().transposed
    assert type(convmat.conv_matrix(np.ones(3), (5,), format="csc")) is ConvArrayCSC
    assert type(sp.csr_array(A.T)) is sp.csr_array  # SciPy's constructors give SciPy's types


def _plain_display(tex: str) -> bool:
    """A typeset matrix without block rules."""
    return tex.startswith("$$\n") and r"\hline" not in tex and "|" not in tex


def test_products_and_slices_keep_a_plain_typeset_display():
    """Their block structure is unknown, so they show as plain sparse matrices (typeset,
    elided), never as a stale geometry and never without a display."""
    A = convmat.conv_matrix(np.arange(1, 10).reshape(3, 3), (6, 6), stride=2, padding=1)
    derived = {"A @ A.T": A @ A.T, "A.T @ A": A.T @ A, "A[:5]": A[:5],
               "A[1:3, 2:9]": A[1:3, 2:9], "A[[0, 2]]": A[[0, 2]], "A.T[:4]": A.T[:4],
               "2 * A.T": 2 * A.T}
    for name, matrix in derived.items():
        assert matrix.geometry is None and not matrix.transposed, name
        tex = matrix._repr_latex_()
        assert tex is not None and _plain_display(tex), name
        assert tex == latex_repr(sp.csr_array(matrix)), name  # as SciPy's own array would show
        assert "matrix of" not in repr(matrix), name


def test_large_products_display_fast():
    A = convmat.conv_matrix(np.ones((5, 5)), (64, 64), padding=2)  # 4096 x 4096
    for matrix in (A @ A, A.T @ A, A[:3000]):
        start = time.perf_counter()
        tex = matrix._repr_latex_()
        assert time.perf_counter() - start < 1.0 and len(tex.encode()) < 50_000


# -- the plain repr: short and immediate --------------------------------------------------

def _timed_repr(obj) -> tuple[float, str]:
    start = time.perf_counter()
    text = repr(obj)
    return time.perf_counter() - start, text


def test_plain_repr_of_a_large_symbolic_matrix_is_short_and_fast():
    """Once: 3.2 s and 8.3 MB (sympy printed all 8,100 entries of a 900 x 1024 matrix)."""
    A = symbolic.conv_matrix((3, 3), (32, 32))
    repr(symbolic.conv_matrix((2,), (3,)))  # the display modules imported once
    nnz = convmat.conv_matrix(np.ones((3, 3)), (32, 32)).nnz  # the numeric builder's count
    for obj in (A, A.T, symbolic.product(A), A[:30, :]):
        for text_of in (repr, str):
            start = time.perf_counter()
            text = text_of(obj)
            seconds = time.perf_counter() - start
            assert seconds < 0.1 and len(text.encode()) < 10_000, (text_of, text[:80])
    text = repr(A)
    assert "900 x 1024" in text and f"{nnz:,} nonzero entries" in text
    assert "transposed convolution 30x30 -> 32x32" in repr(A.T)


def test_plain_repr_of_every_matrix_result_is_short_and_fast():
    big = (64, 64)
    weight = np.ones((4, 2, 5, 5))
    results = {
        "conv_matrix": convmat.conv_matrix(weight, big, padding=2),
        "conv_transpose_matrix": convmat.conv_transpose_matrix(weight, big, stride=2),
        "A.T": convmat.conv_matrix(weight, big).T,
        "avg_pool_matrix": convmat.avg_pool_matrix(big, 2),
        "kernel_matrix": convmat.kernel_matrix(np.ones((8, 8)), (5, 5)),
        "kong_lucey": convmat.kong_lucey(np.ones((3, 3)), big, stride=2),
        "symbolic": symbolic.conv_matrix((5, 5), big),
        "symbolic transposed": symbolic.conv_transpose_matrix((3, 3), (30, 30)),
        "symbolic kong_lucey": symbolic.kong_lucey((3,), (64,), stride=2),
        "product": symbolic.product(symbolic.conv_matrix((3,), (64,))),
    }
    repr(results["symbolic"])  # the display modules imported once
    for name, obj in results.items():
        seconds, text = _timed_repr(obj)
        assert seconds < 0.1 and len(text.encode()) < 10_000, name
        shape = getattr(obj, "shape", None)
        if isinstance(shape, tuple) and len(shape) == 2:
            rows, cols = shape
            assert re.search(rf"{rows}\D+{cols}", text), name  # the shape is named
    assert f"with {results['conv_matrix'].nnz} stored elements" in repr(results["conv_matrix"])


def test_small_symbolic_matrices_still_print_their_entries():
    A = symbolic.conv_matrix((2,), (3,))
    assert str(A) == "Matrix([[w_{0}, w_{1}, 0], [0, w_{0}, w_{1}]])"
    assert repr(A) == "Matrix([\n[w_{0}, w_{1},     0],\n[    0, w_{0}, w_{1}]])"
    assert repr(symbolic.product(A)).startswith("MatrixProduct(matrix=Matrix([")


@requires_pdflatex
def test_the_transposed_display_compiles(tmp_path):
    A = convmat.conv_matrix(np.arange(1, 10).reshape(3, 3), (5, 5), stride=2, padding=1)
    body = A.T._repr_latex_().strip("$\n")
    (tmp_path / "t.tex").write_text("\\documentclass{article}\\usepackage{amsmath}\n"
                                    f"\\begin{{document}}\n\\[\n{body}\n\\]\n\\end{{document}}\n")
    result = subprocess.run([shutil.which("pdflatex"), "-interaction=nonstopmode",
                             "-halt-on-error", "t.tex"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-2000:]


def test_a_notebook_shows_derived_matrices_typeset_and_large_ones_short():
    """In a real Jupyter kernel: ``A.T`` labelled with its blocks, a product and a slice
    typeset plainly, a large symbolic matrix's text/plain in one line."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    cells = [("import numpy as np\nimport convmat\nfrom convmat import symbolic\n"
              "A = convmat.conv_matrix(np.arange(1, 10).reshape(3, 3), (5, 5), stride=2)"),
             "A.T", "A.T @ A", "A[:3]", "symbolic.conv_matrix((3, 3), (32, 32))"]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    root = str(Path(__file__).resolve().parent.parent)  # the kernel imports this convmat
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": root}}).execute()
    data = [next(o["data"] for o in cell.outputs if o.output_type == "execute_result")
            for cell in nb.cells[1:]]
    transposed = data[0]["text/latex"]
    assert transposed.splitlines()[1].startswith(r"\text{transposed convolution } 2{\times}2")
    assert r"\hline" in transposed and "transposed convolution 2x2 -> 5x5" in data[0]["text/plain"]
    for bundle in data[1:3]:
        assert _plain_display(bundle["text/latex"]), bundle
    plain = data[3]["text/plain"]
    assert plain.startswith("ConvMatrix: 900 x 1024") and "\n" not in plain
