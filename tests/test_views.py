"""The kernel as the unknown: kernel_matrix(x, ...) @ w equals the convolution of x with w,
checked against the tap-by-tap definition in tests/oracle.py, plus worked example 4."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import convmat
from convmat.views import kernel_matrix

from .oracle import direct_conv
from .strategies import geometries

RNG = np.random.default_rng(77)


@settings(max_examples=40)
@given(geo=geometries(max_input=5))
def test_kernel_matrix_equals_the_definition(geo):
    wshape = (geo.c_out, geo.c_in // geo.groups, *geo.kernel)
    x = RNG.standard_normal((geo.c_in, *geo.input_shape))
    w = RNG.standard_normal(wshape)
    X = kernel_matrix(x, wshape, **geo.kwargs())
    y = direct_conv(x, w, stride=geo.per_dim(geo.stride), pads=geo.pads,
                    dilation=geo.per_dim(geo.dilation), groups=geo.groups, mode=geo.mode,
                    flip=geo.flip)
    assert X.shape == (y.size, w.size) and X.has_canonical_format
    np.testing.assert_allclose(X @ w.ravel(), y.ravel(), atol=1e-10)


@settings(max_examples=30)
@given(geo=geometries(channels=False, max_input=5))
def test_bare_kernel_and_the_bilinear_identity(geo):
    x = RNG.integers(-3, 4, geo.input_shape)
    w = RNG.integers(-3, 4, geo.kernel)
    kw = geo.kwargs()
    X = kernel_matrix(x, geo.kernel, **kw)
    assert X.dtype == x.dtype
    np.testing.assert_array_equal(X @ w.ravel(), convmat.conv_matrix(w, x.shape, **kw)
                                  @ x.ravel())


def test_rows_are_the_windows():
    """One output channel, no padding: the rows are the im2col windows."""
    x = np.arange(12).reshape(3, 4)
    X = kernel_matrix(x, (2, 2)).toarray()
    windows = [x[r:r + 2, c:c + 2].ravel() for r in range(2) for c in range(3)]
    np.testing.assert_array_equal(X, windows)


def test_worked_example_4_edge_detector_and_learning_the_kernel():
    x = np.ones((6, 8))
    x[:, 2:6] = 0
    k = np.array([[1, -1]])
    y = (convmat.conv_matrix(k, x.shape) @ x.ravel()).reshape(6, 7)
    expected = np.zeros((6, 7))
    expected[:, 1], expected[:, 5] = 1, -1
    np.testing.assert_array_equal(y, expected)
    assert not (convmat.conv_matrix(k, x.T.shape) @ x.T.ravel()).any()
    X = kernel_matrix(x, k.shape)
    # exact least squares: the normal equations of a 2-column problem
    learned = np.linalg.solve((X.T @ X).toarray(), X.T @ y.ravel())
    np.testing.assert_allclose(learned, [1, -1], atol=1e-12)


def test_errors_name_the_parameter():
    with pytest.raises(convmat.ConvmatError, match=r"weight_shape=\(1, 1, 2\).*kernel_matrix"):
        kernel_matrix(np.ones((3, 5)), (1, 1, 2))  # C_in 3 != 1 * groups
    with pytest.raises(convmat.ConvmatError, match=r"weight_shape=\(2, 2, 2, 2\)"):
        kernel_matrix(np.ones(5), (2, 2, 2, 2))
    with pytest.raises(convmat.ConvmatError, match=r"dtype"):
        kernel_matrix(np.array(["a", "b"]), (1,))
    with pytest.raises(convmat.ConvmatError, match=r"x could not be read.*kernel_matrix"):
        kernel_matrix([[1, 2], [3]], (2,))  # ragged: once a bare ValueError from np.shape
    # x without its channel axis, with groups too long to print (Python refuses str() past
    # 4300 digits): the message shows the number's size
    with pytest.raises(convmat.ConvmatError, match=r"groups = 2 \* <int of ~5001 digits>"):
        kernel_matrix(np.ones(5), (1, 2), groups=10**5000)
