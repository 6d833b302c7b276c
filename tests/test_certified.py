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
    # the open side is the circulant on the padded grid (Sedghi et al.'s formula there)
    table = convmat.spectral_bounds(w, (12, 12), padding=1, exact=False)
    padded = next(r for r in table.rows if r.method == "circular layer, padded grid")
    assert box.upper == pytest.approx(padded.value, rel=1e-12)


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
