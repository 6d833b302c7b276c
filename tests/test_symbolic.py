"""convmat.symbolic: sympy matrices from the one index engine.

Checked three ways: against the numeric builders after substituting numbers (hypothesis,
every padding form and mode, stride, dilation, groups, flip, transpose), against a symbolic
tap-by-tap definition written below, and the transposed builder against ``conv_matrix().T``.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
import pytest
import sympy
from hypothesis import given, reject, settings
from hypothesis import strategies as st

import convmat
from convmat import symbolic
from convmat.errors import ConvmatError

from .strategies import geometries

SMALL = dict(ndims=(1, 2), max_input=5, max_kernel=3, max_stride=2, max_dilation=2, max_pad=2)


def _weight_shape(geo, transposed=False):
    first, second = (geo.c_in, geo.c_out) if transposed else (geo.c_out, geo.c_in)
    return (first, second // geo.groups, *geo.kernel)


def _substituted(matrix, values: dict) -> np.ndarray:
    """Dense integer array of a symbolic matrix after substituting ``values``."""
    dense = np.zeros(matrix.shape, dtype=np.int64)
    for (r, c), expr in matrix.todok().items():
        dense[r, c] = int(expr.xreplace(values))
    return dense


def _numbers(kernel, seed):
    rng = np.random.default_rng(seed)
    numbers = rng.integers(1, 10, size=kernel.shape)  # nonzero: no accidental zeros
    values = {s: sympy.Integer(int(v)) for s, v in zip(kernel.ravel(), numbers.ravel())}
    return numbers, values


# -- symbols --------------------------------------------------------------------------------

def test_kernel_symbols_print_as_latex_subscripts():
    w = symbolic.kernel((2, 3))
    assert w.shape == (2, 3)
    assert str(w[0, 1]) == "w_{0,1}" and sympy.latex(w[1, 2]) == "w_{1,2}"
    assert len(set(sympy.flatten(w.tolist()))) == 6
    assert str(symbolic.kernel((2, 1, 2, 2))[1, 0, 1, 0]) == "w_{1,0,1,0}"
    assert str(symbolic.kernel((2,), "h", base=1)[1]) == "h_{2}"


@pytest.mark.parametrize("bad", [(0, 2), (), "3x3", (2.5,)])
def test_kernel_rejects_bad_shapes(bad):
    with pytest.raises(ConvmatError, match="shape"):
        symbolic.kernel(bad)


def test_kernel_rejects_bad_name():
    with pytest.raises(ConvmatError, match="name"):
        symbolic.kernel((2,), name="")


# -- symbolic == numeric after substitution -------------------------------------------------

@settings(max_examples=30)
@given(geo=geometries(**SMALL), seed=st.integers(0, 2**16), transposed=st.booleans(),
       data=st.data())
def test_symbolic_equals_numeric(geo, seed, transposed, data):
    shape = _weight_shape(geo, transposed)
    kw = geo.kwargs()
    if transposed:
        s, d = geo.per_dim(geo.stride), geo.per_dim(geo.dilation)
        kw["output_padding"] = tuple(data.draw(st.integers(0, max(a, b) - 1))
                                     for a, b in zip(s, d))
    numeric_builder = convmat.conv_transpose_matrix if transposed else convmat.conv_matrix
    symbolic_builder = symbolic.conv_transpose_matrix if transposed else symbolic.conv_matrix
    kernel = symbolic.kernel(shape)
    numbers, values = _numbers(np.array(kernel.tolist(), dtype=object), seed)
    try:
        expected = numeric_builder(numbers, geo.input_shape, **kw).toarray()
    except ConvmatError:
        reject()  # e.g. a transposed geometry whose output would be empty
    matrix = symbolic_builder(kernel, geo.input_shape, **kw)
    assert isinstance(matrix, symbolic.ConvMatrix) and matrix.transposed == transposed
    np.testing.assert_array_equal(_substituted(matrix, values), expected)
    # a shape instead of the kernel makes the very same symbols
    assert symbolic_builder(shape, geo.input_shape, **kw) == matrix


@settings(max_examples=25)
@given(geo=geometries(**SMALL), data=st.data())
def test_transpose_builder_is_transpose_of_conv_matrix(geo, data):
    s, d = geo.per_dim(geo.stride), geo.per_dim(geo.dilation)
    output_padding = tuple(data.draw(st.integers(0, a - 1)) for a in s)  # no restriction
    shape = _weight_shape(geo, transposed=True)
    kw = dict(geo.kwargs(), padding=geo.pads)
    try:
        o_t = convmat.conv_transpose_output_shape(
            geo.input_shape, geo.kernel, stride=s, padding=geo.pads,
            output_padding=output_padding, dilation=d)
        forward = symbolic.conv_matrix(shape, o_t, **kw)
        transposed = symbolic.conv_transpose_matrix(shape, geo.input_shape,
                                                    output_padding=output_padding, **kw)
    except ConvmatError:
        reject()
    assert transposed == forward.T
    assert transposed.T == forward


# -- an independent, tap-by-tap symbolic definition -----------------------------------------

def _source(p, n, mode):
    """Input position that padded-relative position ``p`` reads (None: a zero)."""
    if 0 <= p < n:
        return p
    if mode == "zeros":
        return None
    if mode == "replicate":
        return min(max(p, 0), n - 1)
    if mode == "circular":
        return p % n
    return -p if p < 0 else 2 * (n - 1) - p  # reflect, edge not repeated


def _reference(w, input_shape, *, stride, pads, dilation, groups=1, mode="zeros", flip=False):
    """{(row, col): entry} from the definition: a loop over outputs, channels and taps."""
    n = len(input_shape)
    if w.ndim == n:
        w = w.reshape((1, 1) + w.shape)
    c_out, c_in_g, kernel = w.shape[0], w.shape[1], w.shape[2:]
    out_shape = tuple((input_shape[a] + sum(pads[a]) - dilation[a] * (kernel[a] - 1) - 1)
                      // stride[a] + 1 for a in range(n))
    entries = defaultdict(lambda: sympy.Integer(0))
    for o in range(c_out):
        group = o // (c_out // groups)
        for t in itertools.product(*map(range, out_shape)):
            row = np.ravel_multi_index((o, *t), (c_out, *out_shape))
            for c in range(c_in_g):
                for j in itertools.product(*map(range, kernel)):
                    src = [_source(t[a] * stride[a] + j[a] * dilation[a] - pads[a][0],
                                   input_shape[a], mode) for a in range(n)]
                    if None in src:
                        continue
                    col = np.ravel_multi_index((group * c_in_g + c, *src),
                                               (c_in_g * groups, *input_shape))
                    tap = tuple(k - 1 - jj for k, jj in zip(kernel, j)) if flip else j
                    entries[int(row), int(col)] += w[(o, c) + tap]
    return {key: value for key, value in entries.items() if value != 0}


CASES = [
    # (weight shape, input shape, stride, pads, dilation, groups, mode, flip)
    ((3,), (7,), (2,), ((1, 1),), (1,), 1, "zeros", False),
    ((3,), (5,), (1,), ((2, 2),), (1,), 1, "reflect", True),
    ((2, 2), (3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 1, "zeros", False),
    ((3, 2), (4, 5), (2, 1), ((1, 2), (0, 1)), (1, 2), 1, "replicate", False),
    ((2, 3), (3, 4), (1, 2), ((2, 2), (1, 0)), (1, 1), 1, "circular", True),
    ((2, 1, 2, 2), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1, "reflect", False),
    ((4, 1, 2), (5,), (1,), ((1, 0),), (2,), 2, "zeros", True),
    ((2, 2, 2, 1), (3, 2), (2, 1), ((1, 1), (0, 0)), (1, 1), 2, "replicate", False),
]


@pytest.mark.parametrize("shape, ishape, stride, pads, dilation, groups, mode, flip", CASES)
def test_against_tap_by_tap_definition(shape, ishape, stride, pads, dilation, groups, mode,
                                       flip):
    w = np.array(symbolic.kernel(shape).tolist(), dtype=object).reshape(shape)
    matrix = symbolic.conv_matrix(shape, ishape, stride=stride, padding=pads,
                                  dilation=dilation, groups=groups, padding_mode=mode, flip=flip)
    expected = _reference(w, ishape, stride=stride, pads=pads, dilation=dilation, groups=groups,
                          mode=mode, flip=flip)
    assert dict(matrix.todok()) == expected


# -- cases that once failed / worked examples -----------------------------------------------

def test_doubly_block_toeplitz_2x2_on_3x3():
    a = symbolic.conv_matrix((2, 2), (3, 3))
    w = symbolic.kernel((2, 2))
    assert a.shape == (4, 9)
    assert list(a.row(0)) == [w[0, 0], w[0, 1], 0, w[1, 0], w[1, 1], 0, 0, 0, 0]
    assert list(a.row(3)) == [0, 0, 0, 0, w[0, 0], w[0, 1], 0, w[1, 0], w[1, 1]]
    assert a.geometry.shape == (4, 9) and not a.transposed


def test_padding_modes_sum_taps_that_read_one_input():
    a, b, c = sympy.symbols("a b c")
    m = symbolic.conv_matrix([a, b, c], (3,), padding=1, padding_mode="replicate")
    assert m[0, 0] == a + b and m[2, 2] == b + c
    m = symbolic.conv_matrix([a, b, c], (3,), padding=1, padding_mode="circular")
    assert list(m.row(0)) == [b, c, a]


def test_weight_forms_agree():
    a, b = sympy.symbols("a b")
    base = symbolic.conv_matrix([[a, 2], [b, 0.5]], (3, 3))
    assert symbolic.conv_matrix(sympy.Matrix([[a, 2], [b, 0.5]]), (3, 3)) == base
    assert symbolic.conv_matrix(sympy.Array([[a, 2], [b, 0.5]]), (3, 3)) == base
    assert symbolic.conv_matrix(np.array([[a, 2], [b, 0.5]], dtype=object), (3, 3)) == base
    # a *list* [3, 3] is a 1-D kernel of values, the tuple (3, 3) a shape
    assert symbolic.conv_matrix([3, 3], (4,))[0, 0] == 3
    assert symbolic.conv_matrix((3, 3), (4, 4)).shape == (4, 16)
    # numbers stay exact integers; zero taps are not stored
    m = symbolic.conv_matrix(np.array([2, 0, -1]), (4,))
    assert m[0, 0] == 2 and isinstance(m[0, 0], sympy.Integer)
    assert len(m.todok()) == 4


def test_names_and_base_of_generated_symbols():
    m = symbolic.conv_matrix((1, 1, 2), (3,), name="h", base=1)
    assert str(m[0, 0]) == "h_{1,1,1}"


def test_convmatrix_keeps_its_geometry_through_transpose_and_copy():
    m = symbolic.conv_matrix((2, 2), (3, 3))
    t = m.T
    assert t.geometry is m.geometry and t.transposed and not t.T.transposed
    assert m.copy().geometry is m.geometry
    assert m[:2, :].geometry is None  # a slice is no longer that convolution's matrix
    assert m == sympy.SparseMatrix(m)  # equality is sympy's


# -- y = A x ---------------------------------------------------------------------------------

def test_product_equation_and_sums():
    p = symbolic.product(symbolic.conv_matrix((2, 2), (3, 3)))
    assert [str(s) for s in p.y] == ["y_{0,0}", "y_{0,1}", "y_{1,0}", "y_{1,1}"]
    assert len(p.x) == 9 and str(p.x[4]) == "x_{1,1}"
    w, x = symbolic.kernel((2, 2)), p.x
    first = p.sums()[0]
    assert first.lhs == p.y[0]
    assert first.rhs == w[0, 0] * x[0] + w[0, 1] * x[1] + w[1, 0] * x[3] + w[1, 1] * x[4]
    eq = p.equation
    assert isinstance(eq, sympy.Eq) and eq.rhs.doit() == sympy.Matrix(p.values())
    assert "y_{0,0}" in sympy.latex(eq)


def test_product_with_numbers_matches_numeric():
    rng = np.random.default_rng(0)
    w = rng.integers(-3, 4, size=(2, 1, 2, 2))
    x = rng.integers(-5, 6, size=(1, 4, 4))
    p = symbolic.product(symbolic.conv_matrix(w, (4, 4)), x=x.ravel())
    expected = convmat.conv_matrix(w, (4, 4)) @ x.ravel()
    assert [int(v) for v in p.values()] == expected.tolist()
    assert str(p.y[0]) == "y_{0,0,0}"  # two output channels: the channel index shows


def test_product_vectors_of_a_transposed_matrix():
    p = symbolic.product(symbolic.conv_transpose_matrix((3, 2, 2, 2), (2, 2), groups=1),
                         base=1)
    assert len(p.x) == 3 * 4 and str(p.x[0]) == "x_{1,1,1}"
    assert len(p.y) == 2 * 9 and str(p.y[-1]) == "y_{2,3,3}"


def test_product_errors():
    with pytest.raises(ConvmatError, match="not a sympy matrix"):
        symbolic.product(convmat.conv_matrix([1, 2], (3,)))
    with pytest.raises(ConvmatError, match="x has 2 entries but the matrix has 3 columns"):
        symbolic.product(symbolic.conv_matrix((2,), (3,)), x=[1, 2])


# -- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("weight, message", [
    ([["__import__('os').system('false')", 1]], "not a number or a sympy expression"),
    ([[1, 2], [3]], "ragged"),
    ([], "empty"),
    (sympy.Integer(3), "scalar"),
    ([True, False], "not a number"),
])
def test_bad_weights(weight, message):
    with pytest.raises(ConvmatError, match=message) as info:
        symbolic.conv_matrix(weight, (4, 4))
    assert "symbolic.conv_matrix(" in str(info.value)


def test_bad_geometry_names_parameter_and_context():
    with pytest.raises(ConvmatError, match=r"stride=0 must be >= 1") as info:
        symbolic.conv_matrix((2, 2), (4, 4), stride=0)
    assert "input_shape=(4, 4)" in str(info.value)
    with pytest.raises(ConvmatError, match="output_padding"):
        symbolic.conv_transpose_matrix((2,), (3,), stride=2, output_padding=2)
    with pytest.raises(ConvmatError, match="groups=2 does not divide"):
        symbolic.conv_matrix((3, 1, 2, 2), (4, 4), groups=2)


def test_format_keyword_of_the_numeric_signature_is_accepted():
    """The symbolic builders take the numeric builders' arguments; format= is
    validated and the result is a sympy matrix either way."""
    a = symbolic.conv_matrix((2,), (3,), format="csc")
    assert a == symbolic.conv_matrix((2,), (3,))
    assert symbolic.conv_transpose_matrix((2,), (2,), format="coo").shape == (3, 2)
    with pytest.raises(ConvmatError, match=r"format='dense'.*in symbolic.conv_matrix"):
        symbolic.conv_matrix((2,), (3,), format="dense")


def test_memory_guard_refuses_before_building():
    with convmat.options.override(memory_limit="1M"), \
            pytest.raises(ConvmatError, match="memory limit") as info:
        symbolic.conv_matrix((3, 3), (200, 200))
    assert "stored entries" in str(info.value)


def test_benchmark_sized_build_is_sparse_and_quick():
    m = symbolic.conv_matrix((3, 3), (32, 32))
    assert m.shape == (900, 1024) and len(m.todok()) == 8100 == 900 * 9
    assert math.prod(m.shape) > 100 * len(m.todok())  # never densified
