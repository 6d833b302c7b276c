"""spectral_norm(certified=True): the interval contains the dense SVD's largest singular value
for every padding mode, stride, dilation and group count; "exact" only when it has closed.

Oracle: ``numpy.linalg.norm(conv_matrix(...).toarray(), 2)`` (the matrix is checked against
PyTorch elsewhere).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import convmat
from convmat import conv_matrix, spectral_norm
from convmat.spectral import NormInterval

from .strategies import MODES, geometries


def dense_norm(w, shape, **kw):
    return np.linalg.norm(conv_matrix(w, shape, **kw).toarray(), 2)


@settings(max_examples=60, deadline=None)
@given(geo=geometries(max_input=7, modes=MODES), data=st.data())
def test_interval_contains_the_norm(geo, data):
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    w = np.random.default_rng(seed).standard_normal(
        (geo.c_out, geo.c_in // geo.groups, *geo.kernel))
    kw = dict(stride=geo.stride, padding=geo.padding, dilation=geo.dilation,
              groups=geo.groups, padding_mode=geo.mode)
    A = conv_matrix(w, geo.input_shape, **kw)
    assume(min(A.shape) > geo.groups)  # Lanczos needs k=1 below the smaller side
    exact = np.linalg.norm(A.toarray(), 2)
    box = spectral_norm(w, geo.input_shape, method="sparse", certified=True, **kw)
    assert isinstance(box, NormInterval)
    slack = 1e-12 * max(exact, 1e-300)
    assert box.lower - slack <= exact <= box.upper + slack, (box, exact)
    assert box.value == pytest.approx(exact, rel=1e-9, abs=1e-12)
    if box.exact:
        assert box.upper - box.lower <= 1e-10 * box.upper


def test_the_interval_closes_when_the_circulant_leaves_a_gap():
    # lambda_1 of this layer's normal operator lies above the circulant's second eigenvalue
    w = np.random.default_rng(1).standard_normal((4, 4, 3, 3)) / 6
    box = spectral_norm(w, (12, 12), padding=1, method="sparse", certified=True)
    exact = dense_norm(w, (12, 12), padding=1)
    assert box.exact and box.width <= 1e-10
    assert box.lower <= exact * (1 + 1e-13) and exact <= box.upper * (1 + 1e-13)
    assert "Lanczos" in box.method


def test_an_open_interval_is_not_called_exact():
    w = np.random.default_rng(0).standard_normal((4, 4, 3, 3)) / 6
    box = spectral_norm(w, (12, 12), padding=1, method="sparse", certified=True)
    exact = dense_norm(w, (12, 12), padding=1)
    assert not box.exact and box.width > 1e-10
    assert box.value == pytest.approx(exact, rel=1e-10)
    assert box.lower <= exact <= box.upper
    # the open side is the best of the periodic and anti-periodic circulants on the padded
    # grid: at most the periodic one (Sedghi et al.'s formula there)
    table = convmat.spectral_bounds(w, (12, 12), padding=1, exact=False)
    padded = next(r for r in table.rows if r.method == "circular layer, padded grid")
    assert box.upper <= padded.value * (1 + 1e-12)
    twisted = [np.linalg.norm(twisted_circulant(w, (14, 14), (1, 1), t), 2)
               for t in [(False, False), (False, True), (True, False), (True, True)]]
    assert box.upper == pytest.approx(min(twisted), rel=1e-12)


def twisted_circulant(w, grid, dilation, twist):
    """The dense stride-1 circulant of ``w`` on ``grid``, anti-periodic along the ``twist``
    axes (a tap that wraps around changes sign): rows ``(C_out, *grid)``, columns ``(C_in,
    *grid)``, written from the definition."""
    co, ci, *kernel = w.shape
    cells = int(np.prod(grid))
    C = np.zeros((co * cells, ci * cells), dtype=w.dtype)
    for t in np.ndindex(*grid):
        for j in np.ndindex(*kernel):
            u = [ti + ji * d for ti, ji, d in zip(t, j, dilation)]
            sign = np.prod([(-1.0) ** (ui // m) if tw else 1.0
                            for ui, m, tw in zip(u, grid, twist)])
            col = np.ravel_multi_index([ui % m for ui, m in zip(u, grid)], grid)
            row = np.ravel_multi_index(t, grid)
            for o in range(co):
                C[o * cells + row, col + cells * np.arange(ci)] += sign * w[(o, slice(None),
                                                                              *j)]
    return C


@pytest.mark.parametrize("twist", [(False, False), (False, True), (True, False), (True, True)])
@pytest.mark.parametrize("geo", [
    dict(shape=(5, 6), kernel=(2, 3), stride=(1, 2), dilation=(2, 1), padding=((1, 2), (0, 1))),
    dict(shape=(4, 3), kernel=(3, 2), stride=(2, 1), dilation=(1, 3), padding=((2, 0), (3, 2))),
])
@pytest.mark.parametrize("complex_weight", [False, True])
def test_every_twisted_circulant_contains_the_layer(twist, geo, complex_weight):
    # A = R C P: the layer's rows are rows of the (anti-)periodic circulant on the padded
    # grid applied to the zero-padded input, whatever the twist; and circulant_eigenvalues
    # gives the top of C^T C's spectrum
    from convmat._certified import circulant_eigenvalues
    from convmat._spectral_layer import Layer

    rng = np.random.default_rng(7)
    w = rng.standard_normal((3, 2, *geo["kernel"]))
    if complex_weight:
        w = w + 1j * rng.standard_normal(w.shape)
    kw = dict(stride=geo["stride"], padding=geo["padding"], dilation=geo["dilation"])
    A = conv_matrix(w, geo["shape"], **kw).toarray()
    grid = tuple(n + b + a for n, (b, a) in zip(geo["shape"], geo["padding"]))
    C = twisted_circulant(w, grid, geo["dilation"], twist)
    out = [(m - d * (k - 1) - 1) // s + 1 for m, d, k, s in zip(
        grid, geo["dilation"], geo["kernel"], geo["stride"])]
    rows = [o * int(np.prod(grid)) + np.ravel_multi_index(
        [ti * s for ti, s in zip(t, geo["stride"])], grid)
        for o in range(3) for t in np.ndindex(*out)]
    cols = [c * int(np.prod(grid)) + np.ravel_multi_index(
        [xi + b for xi, (b, _) in zip(x, geo["padding"])], grid)
        for c in range(2) for x in np.ndindex(*geo["shape"])]
    assert np.array_equal(C[np.ix_(rows, cols)], A)
    layer = Layer.from_call(w, geo["shape"], groups=1, padding_mode="zeros", **kw)
    got, _ = circulant_eigenvalues(layer, 0, 6, twist)
    want = np.linalg.eigvalsh(C.conj().T @ C)[::-1][:6]
    assert got == pytest.approx(want, rel=1e-12, abs=1e-12 * want[0])


def test_an_anti_periodic_circulant_closes_what_the_periodic_one_leaves_open():
    # the periodic circulant's top eigenvalues form a plateau above the layer's: no K <= 8
    # has lambda_K(A^T A) above its (K+1)-th eigenvalue, so it alone proves nothing beyond
    # its own norm; the anti-periodic ones leave the gap, and the interval closes
    from convmat._certified import circulant_eigenvalues
    from convmat._spectral_layer import Layer

    w = np.random.default_rng(2).standard_normal((4, 4, 3, 3)) / 6
    A = conv_matrix(w, (12, 12), padding=1).toarray()
    lam = np.linalg.eigvalsh(A.T @ A)[::-1]
    layer = Layer.from_call(w, (12, 12), stride=1, padding=1, dilation=1, groups=1,
                            padding_mode="zeros")
    periodic, _ = circulant_eigenvalues(layer, 0, 10)
    assert not any(lam[k - 1] > periodic[k] for k in range(1, 9))
    box = spectral_norm(w, (12, 12), padding=1, method="sparse", certified=True)
    assert box.exact and box.width <= 1e-10
    exact = np.sqrt(lam[0])
    assert box.lower <= exact * (1 + 1e-13) and exact <= box.upper * (1 + 1e-13)
    assert "anti-periodic" in box.method


@pytest.mark.parametrize("kw, how", [
    (dict(padding=1, padding_mode="circular"), "FFT"),
    (dict(padding=1), "dense"),
])
def test_fft_and_dense_give_closed_intervals(kw, how):
    w = np.random.default_rng(0).standard_normal((3, 3, 3, 3))
    box = spectral_norm(w, (6, 6), certified=True, **kw)
    assert box.exact and box.lower == box.upper == box.value
    assert how in box.method
    assert box.value == pytest.approx(dense_norm(w, (6, 6), **kw), rel=1e-12)


def test_the_float_is_unchanged():
    w = np.random.default_rng(0).standard_normal((4, 4, 3, 3))
    value = spectral_norm(w, (12, 12), padding=1, method="sparse")
    assert type(value) is float
    assert value == pytest.approx(dense_norm(w, (12, 12), padding=1), rel=1e-10)


def test_warm_start_saves_steps():
    w = np.random.default_rng(0).standard_normal((4, 4, 3, 3))
    A = conv_matrix(w, (12, 12), padding=1).toarray()
    _, s, vh = np.linalg.svd(A)
    cold = spectral_norm(w, (12, 12), padding=1, method="sparse", certified=True)
    warm = spectral_norm(w, (12, 12), padding=1, method="sparse", certified=True,
                         v0=vh[0] + 1e-3 * vh[1])
    assert warm.value == pytest.approx(s[0], rel=1e-10)
    assert warm.steps < cold.steps


def test_a_pytorch_layer_is_read_by_every_spectral_function():
    torch = pytest.importorskip("torch")
    conv = torch.nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, padding_mode="replicate")
    w = conv.weight.detach().numpy().astype(np.float64)
    kw = dict(stride=2, padding=1, groups=2, padding_mode="replicate")
    want = dense_norm(w, (9, 9), **kw)
    assert spectral_norm(conv, (9, 9)) == pytest.approx(want, rel=1e-6)
    assert convmat.singular_values(conv, (9, 9), k=1)[0] == pytest.approx(want, rel=1e-6)
    assert spectral_norm(conv.weight, (9, 9), **kw) == pytest.approx(want, rel=1e-6)
    with pytest.raises(convmat.ConvmatError, match="padding_mode"):
        spectral_norm(conv, (9, 9), padding_mode="circular")
