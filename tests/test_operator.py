"""conv_operator: the matrix-free map equals the explicit matrix and the direct definition,
and its adjoint is the transposed convolution, for every padding mode."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse.linalg as spla
from hypothesis import given, settings

import convmat

from .oracle import direct_conv
from .strategies import MODES, geometries

RNG = np.random.default_rng(7)


@settings(max_examples=150)
@given(geo=geometries(modes=MODES, crop=True))
def test_operator_equals_matrix_and_definition(geo):
    w = RNG.standard_normal((geo.c_out, geo.c_in // geo.groups, *geo.kernel))
    op = convmat.conv_operator(w, geo.input_shape, **geo.kwargs())
    a = convmat.conv_matrix(w, geo.input_shape, **geo.kwargs())
    assert op.shape == a.shape
    x = RNG.standard_normal((geo.c_in, *geo.input_shape))
    expected = direct_conv(x, w, stride=geo.per_dim(geo.stride), pads=geo.pads,
                           dilation=geo.per_dim(geo.dilation), groups=geo.groups,
                           mode=geo.mode, flip=geo.flip)
    np.testing.assert_allclose(op @ x.ravel(), expected.ravel(), atol=1e-10)
    batch = RNG.standard_normal((a.shape[1], 3))
    np.testing.assert_allclose(op @ batch, a @ batch, atol=1e-10)
    y = RNG.standard_normal((a.shape[0], 2))
    np.testing.assert_allclose(op.H @ y, a.T @ y, atol=1e-10)
    np.testing.assert_allclose(op.rmatvec(y[:, 0]), a.T @ y[:, 0], atol=1e-10)
    # adjointness, the "dot test"
    u, v = RNG.standard_normal(a.shape[1]), RNG.standard_normal(a.shape[0])
    assert np.isclose((op @ u) @ v, u @ (op.H @ v), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_adjoint_is_transposed_convolution(mode):
    w = RNG.standard_normal((3, 2, 3, 3))
    op = convmat.conv_operator(w, (8, 7), stride=2, padding=1, padding_mode=mode)
    t = convmat.conv_transpose_matrix(w, (4, 4), stride=2, padding=1, output_padding=(1, 0),
                                      padding_mode=mode)
    y = RNG.standard_normal(op.shape[0])
    np.testing.assert_allclose(op.H @ y, t @ y, atol=1e-12)
    assert op.H.H is op


def test_complex_and_integer():
    w = RNG.standard_normal((2, 2)) + 1j * RNG.standard_normal((2, 2))
    op = convmat.conv_operator(w, (4, 5), padding=1)
    a = convmat.conv_matrix(w, (4, 5), padding=1)
    x = RNG.standard_normal(20) + 1j * RNG.standard_normal(20)
    np.testing.assert_allclose(op @ x, a @ x)
    y = RNG.standard_normal(a.shape[0])
    np.testing.assert_allclose(op.H @ y, a.conj().T @ y)
    wi = np.array([[1, -2], [3, 4]])
    opi = convmat.conv_operator(wi, (3, 3))
    assert opi.dtype == np.int64
    np.testing.assert_array_equal(opi @ np.arange(9), convmat.conv_matrix(wi, (3, 3)) @ np.arange(9))


def test_iterative_solvers_work():
    """lsqr on the operator recovers an input from a full (injective) convolution."""
    w = np.array([[1.0, 0.5], [0.25, 2.0]])
    op = convmat.conv_operator(w, (6, 6), padding="full")
    x = RNG.standard_normal(36)
    sol = spla.lsqr(op, op @ x, atol=1e-14, btol=1e-14, iter_lim=2000)[0]
    np.testing.assert_allclose(sol, x, atol=1e-8)


def test_operator_needs_no_memory_budget():
    """Past the memory guard the matrix is refused but the operator still applies."""
    w = RNG.standard_normal((4, 4, 3, 3))
    with convmat.options.override(memory_limit="64K"):
        with pytest.raises(convmat.ConvmatError, match="conv_operator"):
            convmat.conv_matrix(w, (32, 32), padding=1)
        op = convmat.conv_operator(w, (32, 32), padding=1)
        assert (op @ np.ones(op.shape[1])).shape == (4 * 32 * 32,)


def test_operator_errors():
    with pytest.raises(convmat.ConvmatError, match=r"stride=0.*in conv_operator"):
        convmat.conv_operator(np.ones((3, 3)), (5, 5), stride=0)


def test_ragged_weight_is_a_convmat_error():
    with pytest.raises(convmat.ConvmatError, match=r"weight could not be read.*in conv_operator"):
        convmat.conv_operator([[1, 2], [3]], (5, 5))


OPERATOR_PATHS = {
    "one product per tap": dict(STACK_BELOW=0, TILES=False),
    "windows that tile by taps too": dict(TILES=False),
    "taps stacked, chunks of one or two taps": dict(TAP_CHUNK=1),
    "taps stacked (default)": {},
}


@pytest.mark.parametrize("path", OPERATOR_PATHS)
@settings(max_examples=40)
@given(geo=geometries(modes=MODES, crop=True))
def test_every_operator_path_equals_the_matrix(path, geo):
    """The per-tap products and the stacked products (in chunks of any size) all give
    the matrix's product and its transpose's."""
    from convmat import operator

    w = RNG.standard_normal((geo.c_out, geo.c_in // geo.groups, *geo.kernel))
    a = convmat.conv_matrix(w, geo.input_shape, **geo.kwargs())
    x = RNG.standard_normal((a.shape[1], 3))
    y = RNG.standard_normal((a.shape[0], 2))
    with pytest.MonkeyPatch.context() as patch:
        for name, value in OPERATOR_PATHS[path].items():
            patch.setattr(operator, name, value)
        op = convmat.conv_operator(w, geo.input_shape, **geo.kwargs())
        forward, backward = op @ x, op.H @ y
    np.testing.assert_allclose(forward, a @ x, atol=1e-10)
    np.testing.assert_allclose(backward, a.T @ y, atol=1e-10)


@pytest.mark.parametrize("c_in, c_out, groups", [(4, 4, 4), (3, 6, 3), (6, 3, 3), (1, 5, 1),
                                                 (5, 1, 1)])
def test_one_channel_per_group_takes_every_group_at_once(c_in, c_out, groups):
    """Depthwise layers (one input channel per group, any channel multiplier) and their
    adjoints with one output channel per group are applied to every group in one broadcast
    per tap; the result is the matrix's, padding and stride included."""
    w = RNG.standard_normal((c_out, c_in // groups, 3, 2))
    kw = dict(stride=(2, 1), padding=((1, 2), (0, 1)), groups=groups)
    a = convmat.conv_matrix(w, (7, 5), **kw)
    op = convmat.conv_operator(w, (7, 5), **kw)
    x, y = RNG.standard_normal((a.shape[1], 2)), RNG.standard_normal((a.shape[0], 3))
    np.testing.assert_allclose(op @ x, a @ x, atol=1e-12)
    np.testing.assert_allclose(op.H @ y, a.T @ y, atol=1e-12)


@pytest.mark.parametrize("c_in, c_out, groups, kernel, shape, flip", [
    (6, 6, 6, (2, 2), (32, 32), False),  # average pooling's geometry
    (4, 6, 2, (2, 3), (7, 9), True),  # a remainder no window reads; flipped
    (4, 2, 2, (2, 3), (7, 9), True),  # the same with one output channel per group
    (3, 3, 1, (3,), (10,), False),
    (2, 4, 2, (2, 2, 2), (4, 5, 6), False),
    (1, 1, 1, (1, 1), (3, 3), False),
])
def test_windows_that_tile_the_input_are_one_product_on_the_tiles(c_in, c_out, groups, kernel,
                                                                   shape, flip):
    """Stride = kernel, no padding or dilation: the layer is one matrix product per group
    on the input's tiles (space to depth), forward and adjoint; equal to the matrix."""
    w = RNG.standard_normal((c_out, c_in // groups, *kernel))
    kw = dict(stride=kernel, groups=groups, flip=flip)
    a = convmat.conv_matrix(w, shape, **kw)
    op = convmat.conv_operator(w, shape, **kw)
    assert op._tiled
    x, y = RNG.standard_normal((a.shape[1], 2)), RNG.standard_normal((a.shape[0], 3))
    np.testing.assert_allclose(op @ x, a @ x, atol=1e-12)
    np.testing.assert_allclose(op.H @ y, a.T @ y, atol=1e-12)
    np.testing.assert_allclose(op @ x[:, 0], a @ x[:, 0], atol=1e-12)
    np.testing.assert_allclose(op.H @ y[:, 0], a.T @ y[:, 0], atol=1e-12)
