"""Rich display and geometry that travels: ``_repr_latex_`` of every matrix convmat returns,
``convmat.show``, a real Jupyter kernel executing a notebook (its mime bundles read back), and
the geometry kept by ``ConvArray`` (numeric) and ``ConvMatrix`` (symbolic) through the
operations that keep the structure."""

from __future__ import annotations

import pickle
import re
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import sympy

import convmat
from convmat import symbolic
from convmat.arrays import ConvArray
from convmat.display import latex_repr, show
from convmat.errors import ConvmatError
from convmat.geometry import convolution_geometry, transposed_geometry

ROOT = Path(__file__).resolve().parent.parent
W = np.arange(1, 10).reshape(3, 3)


def spec(tex: str) -> str:
    """Column spec of the first array in ``tex``."""
    return re.search(r"\\begin\{array\}\{([^}]*)\}", tex).group(1)


# -- numeric matrices carry their geometry ----------------------------------------------------

def test_numeric_builders_carry_their_geometry():
    A = convmat.conv_matrix(W, (5, 5), stride=2, padding=1)
    assert isinstance(A, sp.csr_array) and isinstance(A, ConvArray) and A.format == "csr"
    assert A.geometry == convolution_geometry((5, 5), W.shape, stride=2, padding=1)
    assert A.transposed is False
    B = convmat.conv_transpose_matrix(W, (3, 3), stride=2)
    assert B.transposed is True
    assert B.geometry == transposed_geometry((3, 3), W.shape, stride=2)
    # other formats are plain SciPy arrays
    assert type(convmat.conv_matrix(W, (5, 5), format="coo")) is sp.coo_array


def test_to_latex_draws_the_blocks_unaided():
    """Once: ``to_latex(conv_matrix(...))`` drew no rules unless ``geometry=`` was repeated."""
    A = convmat.conv_matrix(W, (5, 5))
    geom = convolution_geometry((5, 5), W.shape)
    assert to_rules(A) == to_rules(A, geometry=geom) and spec(convmat.to_latex(A)) == \
        "|".join(["ccccc"] * 5)[:len("|".join(["ccccc"] * 5))]
    B = convmat.conv_transpose_matrix(W, (3, 3))
    assert convmat.to_latex(B) == convmat.to_latex(B, geometry=transposed_geometry(
        (3, 3), W.shape), transposed=True)
    assert r"\hline" in convmat.to_latex(B)
    tex = convmat.to_latex(A, x="x", max_cols=None)
    assert "x_{4,4}" in tex  # vector entries named by the geometry, not x_{24}


def to_rules(matrix, **options):
    tex = convmat.to_latex(matrix, max_cols=None, **options)
    return spec(tex), tex.count(r"\hline")


def test_derived_numeric_matrices_drop_the_geometry_and_scipy_keeps_working():
    A = convmat.conv_matrix(W, (6, 6), padding=1)
    dense = A.toarray()
    x = np.arange(36.0)
    derived = {"2A": 2 * A, "A+A": A + A, "slice": A[:5], "A@A.T": A @ A.T, "-A": -A,
               "abs": abs(A), "astype": A.astype(float), "multiply": A.multiply(A)}
    for name, matrix in derived.items():
        assert getattr(matrix, "geometry", None) is None, name
    assert np.array_equal((2 * A).toarray(), 2 * dense)
    assert np.array_equal(A[:5].toarray(), dense[:5])
    assert np.array_equal((A @ A.T).toarray(), dense @ dense.T)
    assert np.allclose(A @ x, dense @ x) and np.allclose(A.T @ (A @ x), dense.T @ (dense @ x))
    assert isinstance(A.T, sp.csc_array) and np.array_equal(A.T.toarray(), dense.T)
    assert A.T.geometry is A.geometry and A.T.transposed  # the transposed convolution's
    assert np.array_equal(A.sum(axis=0), dense.sum(axis=0))
    assert sp.issparse(A) and np.array_equal(sp.csr_array(A).toarray(), dense)
    assert np.array_equal(sp.kron(A, sp.eye_array(2)).toarray(), np.kron(dense, np.eye(2)))
    assert np.array_equal(sp.vstack([A, A]).toarray(), np.vstack([dense, dense]))
    # a solver: least squares on the (tall after stacking) matrix against numpy's
    stacked = sp.vstack([A, sp.eye_array(36, format="csr")]).tocsr()
    b = stacked @ x
    assert np.allclose(spla.lsqr(stacked, b, atol=1e-12, btol=1e-12)[0], x, atol=1e-6)
    assert np.isclose(spla.svds(A.astype(float), k=1)[1][0], np.linalg.norm(dense, 2))
    copy = A.copy()
    assert copy.geometry == A.geometry and copy is not A
    copy.data[:] = 0
    assert A.data.any()  # a real copy


def test_numeric_matrices_pickle_with_their_geometry(tmp_path):
    A = convmat.conv_matrix(W, (5, 5), stride=2, padding=1)
    back = pickle.loads(pickle.dumps(A))
    assert type(back) is ConvArray and back.geometry == A.geometry
    assert (back != A).nnz == 0 and back.transposed is False
    sp.save_npz(tmp_path / "a.npz", A)  # SciPy's own file format still works
    assert (sp.load_npz(tmp_path / "a.npz") != A).nnz == 0


# -- symbolic matrices keep it through entry-wise operations ----------------------------------

def test_symbolic_geometry_travels_through_entrywise_operations():
    A = symbolic.conv_matrix((2, 2), (3, 3))
    w = sympy.Symbol("w_{0,0}")
    kept = {"subs": A.subs(w, 1), "subs-dict": A.subs({w: 2}), "xreplace": A.xreplace({w: 3}),
            "2*A": 2 * A, "A*2": A * 2, "A/2": A / 2, "-A": -A,
            "applyfunc": A.applyfunc(lambda v: v ** 2), "evalf": A.evalf(), "n": A.n(),
            "doit": A.doit(), "expand": (A * (w + 1)).expand(), "copy": A.copy(),
            "symbol*A": sympy.Symbol("c") * A}
    for name, matrix in kept.items():
        assert matrix.geometry is A.geometry and matrix.transposed is False, name
        assert spec(convmat.to_latex(matrix)) == "ccc|ccc|ccc", name
    assert kept["subs"][0, 0] == 1 and kept["2*A"][0, 0] == 2 * w
    T = A.T
    assert T.geometry is A.geometry and T.transposed is True and T.T.transposed is False
    assert spec(convmat.to_latex(T)) == "cc|cc"
    assert spec(convmat.to_latex(T.subs(w, 0))) == "cc|cc"
    dropped = {"slice": A[:2, :], "A*B": A * sympy.eye(9), "A+A": A + A}
    for name, matrix in dropped.items():
        assert getattr(matrix, "geometry", None) is None, name


def test_one_base_for_every_vector():
    """Once: ``base=1`` had to be repeated for the vectors, which started at 0."""
    A = symbolic.conv_matrix((2, 2), (3, 3), base=1)
    assert A.base == 1 and A.subs(sympy.Symbol("w_{1,1}"), 5).base == 1
    tex = convmat.to_latex(A, x="x", y="y")
    assert "x_{1,1}" in tex and "y_{2,2}" in tex and "x_{0," not in tex
    assert "x_{0,0}" in convmat.to_latex(A, x="x", base=0)  # an explicit base wins
    assert list(symbolic.product(A).x)[0] == sympy.Symbol("x_{1,1}")
    kl = symbolic.kong_lucey((3,), (7,), stride=2, base=1, name="h")
    assert kl.base == 1 and "x_{1}" in kl.latex("sum") and "x_{0}" not in kl.latex()
    assert "h_{1}" in kl.latex() and "h_{0}" not in kl.latex()


# -- reprs --------------------------------------------------------------------------------

def test_every_matrix_result_has_a_latex_display():
    shown = {
        "ConvMatrix": symbolic.conv_matrix((2, 2), (3, 3)),
        "ConvArray": convmat.conv_matrix(W, (5, 5)),
        "transposed": convmat.conv_transpose_matrix(W, (2, 2)),
        "KongLucey": convmat.kong_lucey(W, (6, 6), stride=2),
        "SymbolicKongLucey": symbolic.kong_lucey((3,), (7,), stride=2),
        "MatrixProduct": symbolic.product(symbolic.conv_matrix((2,), (3,))),
        "avg_pool_matrix": convmat.avg_pool_matrix((4, 4), 2),
        "max_pool_matrix": convmat.max_pool_matrix(np.arange(16.0).reshape(4, 4), 2),
        "kernel_matrix": convmat.kernel_matrix(np.arange(9.0).reshape(3, 3), (2, 2)),
        "stretch_matrix": convmat.transposed.stretch_matrix((3,), 2),
    }
    for name, obj in shown.items():
        text = obj._repr_latex_()
        assert text.startswith("$$\n") and text.endswith("\n$$"), name
        label = text.splitlines()[1] + "\n" if name == "transposed" else ""  # test_reprs.py
        assert text.replace(label, "", 1) == latex_repr(obj), name
    assert r"\hline" in shown["ConvMatrix"]._repr_latex_()
    for pooling in ("avg_pool_matrix", "max_pool_matrix"):  # rules from the pooling geometry
        assert spec(shown[pooling]._repr_latex_()) == "cccc|cccc|cccc|cccc", pooling
        assert isinstance(shown[pooling], sp.csr_array)
    assert "&=" in shown["KongLucey"]._repr_latex_()  # all three displays, aligned
    assert shown["MatrixProduct"]._repr_latex_().count(r"\begin{bmatrix}") == 3  # y = A x


def test_large_displays_are_elided_fast_and_small():
    A = symbolic.conv_matrix((3, 3), (32, 32))  # 900 x 1024
    start = time.perf_counter()
    text = A._repr_latex_()
    elapsed = time.perf_counter() - start
    assert elapsed < 0.2 and len(text.encode()) < 50_000
    assert text.count(r"\\") <= 32 and r"\ddots" in text  # 32 rows written, the middle elided


def test_show_takes_every_to_latex_option_and_checks_them_at_once():
    A = convmat.padding_matrix((3,), 1)  # a plain csr_array: no display of its own
    s = show(A, zero="cdot", x="x")
    assert s._repr_latex_() == f"$$\n{s.latex}\n$$" and str(s) == s.latex
    assert s.latex == convmat.to_latex(A, zero="cdot", x="x", max_rows=20, max_cols=20)
    assert show(np.eye(30), max_rows=None, max_cols=None).latex.count(r"\\") == 29
    with pytest.raises(ConvmatError, match=r"unknown option.*\[in show\("):
        show(A, colour="red")
    with pytest.raises(ConvmatError, match="zero='dots'"):
        show(A, zero="dots")
    assert latex_repr(np.zeros((0, 3))) is None  # IPython falls back to the text display


# -- a real Jupyter kernel -------------------------------------------------------------------

NOTEBOOK = [
    "import time\nimport numpy as np\nimport sympy\nimport convmat\nfrom convmat import symbolic",
    "symbolic.conv_matrix((2, 2), (3, 3))",
    "convmat.conv_matrix(np.arange(1, 5).reshape(2, 2), (3, 3))",
    "symbolic.kong_lucey((3,), (7,), stride=2, padding=1, name='h')",
    "convmat.kong_lucey([1, 2, 3], (7,), stride=2)",
    "convmat.show(convmat.padding_matrix((3,), 1), zero='cdot')",
    "symbolic.product(symbolic.conv_matrix((2,), (3,)))",
    "big = symbolic.conv_matrix((3, 3), (32, 32))\n"
    "start = time.perf_counter()\n"
    "bundle, _ = get_ipython().display_formatter.format(big)\n"
    "print(time.perf_counter() - start, len(bundle['text/latex'].encode()))",
    "big",
    "(2 * symbolic.conv_matrix((2, 2), (3, 3))).subs(sympy.Symbol('w_{0,0}'), 7).T",
]


@pytest.fixture(scope="module")
def executed_notebook():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in NOTEBOOK]
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    return nb


def _bundle(nb, cell: int) -> dict:
    outputs = [o for o in nb.cells[cell].outputs if o.output_type == "execute_result"]
    assert len(outputs) == 1, nb.cells[cell].outputs
    return outputs[0]["data"]


def test_a_notebook_shows_every_result_typeset(executed_notebook):
    nb = executed_notebook
    symbolic_tex = _bundle(nb, 1)["text/latex"]
    assert symbolic_tex.startswith("$$") and spec(symbolic_tex) == "ccc|ccc|ccc"
    assert "w_{0,0}" in symbolic_tex and r"\hline" in symbolic_tex
    numeric = _bundle(nb, 2)
    assert spec(numeric["text/latex"]) == "ccc|ccc|ccc"  # numeric: blocks from its geometry
    assert numeric["text/plain"].startswith("<Compressed Sparse Row")  # text stays SciPy's
    kl = _bundle(nb, 3)["text/latex"]
    assert kl.count("&=") == 3 and "h_{0}" in kl and r"\begin{aligned}" in kl
    assert "x_{6}" in kl and "x_{7}" not in kl  # input indices; the padding is 0
    assert _bundle(nb, 4)["text/latex"].count("&=") == 3
    shown = _bundle(nb, 5)
    assert r"\cdot" in shown["text/latex"] and shown["text/plain"].startswith("<convmat.show")
    assert _bundle(nb, 6)["text/latex"].count(r"\begin{bmatrix}") == 3
    seconds, size = nb.cells[7].outputs[0]["text"].split()
    assert float(seconds) < 0.2 and int(size) < 50_000
    big = _bundle(nb, 8)["text/latex"]
    assert len(big.encode()) == int(size) and r"\ddots" in big
    derived = _bundle(nb, 9)["text/latex"]  # the geometry survived 2 * A, .subs and .T
    assert spec(derived) == "cc|cc" and "14" in derived and "2 w_{0,1}" in derived
    DISPLAY_TIMES["3x3 kernel on a 32x32 input, symbolic"] = (float(seconds), int(size))


DISPLAY_TIMES: dict = {}
