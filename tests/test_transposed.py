"""Transposed convolution three ways — (a) conv_matrix(...).T, (b) a unit-stride convolution of
the stretched input, (c) PyTorch's conv_transposeNd — and why it is not an inverse."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import convmat
from convmat.transposed import equivalent_convolution, stretch_matrix

from .conftest import requires_torch, torch
from .oracle import direct_conv_transpose, same_pads


@st.composite
def transposed_cases(draw):
    n = draw(st.integers(1, 2))
    groups = draw(st.integers(1, 2))
    c_in, c_out_g = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(n))
    s = tuple(draw(st.integers(1, 3)) for _ in range(n))
    d = tuple(draw(st.integers(1, 2)) for _ in range(n))
    i = tuple(draw(st.integers(1, 4)) for _ in range(n))
    q = tuple(draw(st.integers(0, max(ss, dd) - 1)) for ss, dd in zip(s, d))
    p = tuple(draw(st.integers(0, 3)) for _ in range(n))
    out = tuple((ii - 1) * ss - 2 * pp + dd * (kk - 1) + qq + 1
                for ii, ss, pp, dd, kk, qq in zip(i, s, p, d, k, q))
    if any(o < 1 for o in out):  # padding larger than the output: shrink it to fit
        p = tuple(0 for _ in p)
    seed = draw(st.integers(0, 2**32 - 1))
    return dict(n=n, groups=groups, c_in=c_in, c_out_g=c_out_g, k=k, s=s, d=d, i=i, q=q, p=p,
                seed=seed)


def _kwargs(case):
    return dict(stride=case["s"], padding=case["p"], output_padding=case["q"],
                dilation=case["d"], groups=case["groups"])


@requires_torch
@given(transposed_cases())
def test_three_faces_are_equal(case):
    rng = np.random.default_rng(case["seed"])
    w = rng.integers(-3, 4, (case["c_in"], case["c_out_g"], *case["k"])).astype(np.float64)
    x = rng.standard_normal((case["c_in"], *case["i"]))
    kw = _kwargs(case)
    a = convmat.conv_transpose_matrix(w, case["i"], **kw)                       # (a)
    eq = equivalent_convolution(w, case["i"], **kw)                             # (b)
    b = eq.matrix()
    f = {1: torch.nn.functional.conv_transpose1d, 2: torch.nn.functional.conv_transpose2d}
    c = f[case["n"]](torch.from_numpy(x)[None], torch.from_numpy(w), **kw)[0]  # (c)
    assert a.shape == b.shape and (a != b).nnz == 0
    assert c.shape[1:] == eq.output_shape
    np.testing.assert_allclose(a @ x.ravel(), c.numpy().ravel(), atol=1e-10)
    # (a) is conv_matrix(...).T: the forward convolution (PyTorch's transposed layout is the
    # forward layout) from the transposed output back to the input, first i positions per dim
    forward = convmat.conv_matrix(w, eq.output_shape, stride=case["s"], padding=case["p"],
                                  dilation=case["d"], groups=case["groups"])
    natural = tuple((o + 2 * p - d * (k - 1) - 1) // s + 1 for o, p, d, k, s in zip(
        eq.output_shape, case["p"], case["d"], case["k"], case["s"]))
    keep = np.ravel_multi_index(np.meshgrid(np.arange(case["c_in"]),
                                            *map(np.arange, case["i"]), indexing="ij"),
                                (case["c_in"], *natural)).ravel()
    assert (forward[keep].T != a).nnz == 0


@given(transposed_cases(), st.sampled_from(["pairs", "same", "full"]))
def test_a_equals_b_for_every_padding_form(case, form):
    """Asymmetric pairs and string paddings (which PyTorch's conv_transposeNd cannot take):
    (a) = (b), and both equal the scatter definition of tests/oracle.py."""
    rng = np.random.default_rng(case["seed"])
    n, i, s, d, k = case["n"], case["i"], case["s"], case["d"], case["k"]
    if form == "pairs":
        padding = pads = tuple((int(rng.integers(0, 3)), int(rng.integers(0, 3)))
                               for _ in range(n))
    elif form == "same":  # of the forward convolution, whose input is i*s
        padding, pads = "same", tuple(same_pads(ii * ss, kk, ss, dd)
                                      for ii, kk, ss, dd in zip(i, k, s, d))
    else:
        padding, pads = "full", tuple((dd * (kk - 1),) * 2 for kk, dd in zip(k, d))
    out = [(ii - 1) * ss - b - a + dd * (kk - 1) + qq + 1
           for ii, ss, (b, a), dd, kk, qq in zip(i, s, pads, d, k, case["q"])]
    assume(min(out) >= 1)
    w = rng.integers(-3, 4, (case["c_in"], case["c_out_g"], *k)).astype(np.float64)
    x = rng.standard_normal((case["c_in"], *i))
    kw = dict(_kwargs(case), padding=padding)
    a = convmat.conv_transpose_matrix(w, i, **kw)
    b = equivalent_convolution(w, i, **kw).matrix()
    assert a.shape == b.shape and (a != b).nnz == 0
    y = direct_conv_transpose(x, w, stride=s, pads=pads, dilation=d,
                              output_padding=case["q"], groups=case["groups"])
    assert y.shape[1:] == tuple(out)
    np.testing.assert_allclose(b @ x.ravel(), y.ravel(), atol=1e-10)


@given(transposed_cases())
def test_equivalent_convolution_parameters(case):
    """Stretched size (i-1)s+1, padding d(k-1)-p before and d(k-1)-p+q after, flipped kernel."""
    rng = np.random.default_rng(case["seed"])
    w = rng.standard_normal((case["c_in"], case["c_out_g"], *case["k"]))
    eq = equivalent_convolution(w, case["i"], **_kwargs(case))
    for axis in range(case["n"]):
        i, s, d, k, p, q = (case[key][axis] for key in "isdkpq")
        assert eq.stretched_shape[axis] == (i - 1) * s + 1
        assert eq.padding[axis] == (d * (k - 1) - p, d * (k - 1) - p + q)
        assert eq.output_shape[axis] == (i - 1) * s - 2 * p + d * (k - 1) + q + 1
    g, cg = case["groups"], case["c_in"] // case["groups"]
    for o in range(eq.weight.shape[0]):
        for c in range(cg):
            source = w[(o // case["c_out_g"]) * cg + c, o % case["c_out_g"]]
            np.testing.assert_array_equal(eq.weight[o, c], np.flip(source))
    assert eq.weight.shape == (g * case["c_out_g"], cg, *case["k"])


@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.data())
def test_stretch_matrix_against_definition(shape, data):
    n = len(shape)
    s = tuple(data.draw(st.integers(1, 3)) for _ in range(n))
    pads = tuple((data.draw(st.integers(-2, 2)), data.draw(st.integers(-2, 2)))
                 for _ in range(n))
    lengths = [(i - 1) * ss + 1 + b + a for i, ss, (b, a) in zip(shape, s, pads)]
    if min(lengths) < 1:
        with pytest.raises(convmat.ConvmatError, match="padding"):
            stretch_matrix(shape, s, padding=pads)
        return
    x = np.arange(1, np.prod(shape) + 1, dtype=float).reshape(shape)
    # definition: put x[t] at t*s of a zero array, then pad (negative: crop)
    z = np.zeros([(i - 1) * ss + 1 for i, ss in zip(shape, s)])
    z[tuple(slice(None, None, ss) for ss in s)] = x
    z = np.pad(z, [(max(b, 0), max(a, 0)) for b, a in pads])
    z = z[tuple(slice(max(-b, 0), z.shape[ax] - max(-a, 0)) for ax, (b, a) in enumerate(pads))]
    np.testing.assert_array_equal(stretch_matrix(shape, s, padding=pads) @ x.ravel(), z.ravel())
    two = stretch_matrix(shape, s, padding=pads, channels=2, format="csc")
    np.testing.assert_array_equal(two @ np.concatenate([x.ravel(), -x.ravel()]),
                                  np.concatenate([z.ravel(), -z.ravel()]))


def test_stretch_matrix_errors_name_the_parameter():
    with pytest.raises(convmat.ConvmatError, match=r"stride=0"):
        stretch_matrix((3,), 0)
    with pytest.raises(convmat.ConvmatError, match=r"padding.*stretch_matrix"):
        stretch_matrix((2,), 1, padding=[(-2, 0)])
    with pytest.raises(convmat.ConvmatError, match=r"channels=0"):
        stretch_matrix((2,), 1, channels=0)
    with pytest.raises(convmat.ConvmatError, match=r"weight.*equivalent_convolution"):
        equivalent_convolution([[1, 2], [3]], (3,))  # ragged: once a bare ValueError
    # an unknown format is refused before building (it was checked after the product)
    eq = equivalent_convolution(np.ones((3, 3)), (40, 40), stride=2)
    with convmat.options.override(memory_limit=1000):
        with pytest.raises(convmat.ConvmatError, match=r"format='nope'"):
            eq.matrix(format="nope")


def test_transpose_is_not_an_inverse():
    """A.T A != I for the slides' example; A.T @ (A @ x) is not x."""
    x = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
                  [2, 0, 0, 0, 1]])
    w = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]])
    a = convmat.conv_matrix(w, (5, 5))
    assert (a.T @ a != convmat.conv_matrix(np.ones((1, 1)), (5, 5))).nnz > 0
    assert not np.array_equal(a.T @ (a @ x.ravel()), x.ravel())
    # but it reproduces the connectivity: the pattern of A.T is that of A, transposed
    b = convmat.conv_transpose_matrix(w, (3, 3))
    assert ((b != 0) != (a.T != 0)).nnz == 0


def test_orthonormal_rows_when_windows_do_not_overlap():
    """Stride >= span and a unit-norm kernel: A A.T = I, and A.T A is a projection."""
    w = np.array([0.6, 0.8])
    a = convmat.conv_matrix(w, (7,), stride=3)  # windows {0,1}, {3,4}: disjoint
    np.testing.assert_allclose((a @ a.T).toarray(), np.eye(2))
    p = (a.T @ a).toarray()
    np.testing.assert_allclose(p @ p, p)
    assert not np.allclose(p, np.eye(7))


def test_square_orthogonal_case_is_an_inverse():
    """2x2 Haar filters, stride 2, four output channels: A is orthogonal, A.T = A^-1."""
    h = np.array([[[1, 1], [1, 1]], [[1, -1], [1, -1]], [[1, 1], [-1, -1]],
                  [[1, -1], [-1, 1]]]) / 2.0
    a = convmat.conv_matrix(h[:, None], (4, 4), stride=2)
    assert a.shape == (16, 16)
    np.testing.assert_allclose((a.T @ a).toarray(), np.eye(16), atol=1e-15)
    x = np.arange(16.0)
    inverse = convmat.conv_transpose_matrix(h[:, None], (2, 2), stride=2)
    np.testing.assert_allclose(inverse @ (a @ x), x)


def test_stretch_matrix_refuses_kernel_dependent_padding():
    with pytest.raises(convmat.ConvmatError, match=r"padding='same'.*in stretch_matrix"):
        convmat.transposed.stretch_matrix((3,), 2, padding="same")
    assert convmat.transposed.stretch_matrix((3,), 2, padding="valid").shape == (5, 3)
