"""Average pooling as a matrix and max pooling as a selection matrix, against PyTorch and a
window-by-window definition written here."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convmat
from convmat import _maxima
from convmat.pooling import avg_pool_matrix, max_pool_matrix

from .conftest import requires_torch, torch


@st.composite
def pool_cases(draw, dilation=False):
    n = draw(st.integers(1, 3))
    k = tuple(draw(st.integers(1, 3)) for _ in range(n))
    d = tuple(draw(st.integers(1, 2)) for _ in range(n)) if dilation else (1,) * n
    stride = draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 3)] * n)))
    # PyTorch's limits: padding at most half the window, input at least the window
    p = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    i = tuple(draw(st.integers(0, 4)) + dd * (kk - 1) + 1 for kk, dd in zip(k, d))
    return dict(n=n, k=k, d=d, stride=stride, p=p, i=i, c=draw(st.integers(1, 2)),
                seed=draw(st.integers(0, 2**32 - 1)))


def _windows(case):
    """Per output position: the window's padded coordinates, from the definition."""
    s = case["k"] if case["stride"] is None else case["stride"]
    out = [(i + 2 * p - d * (k - 1) - 1) // ss + 1
           for i, p, d, k, ss in zip(case["i"], case["p"], case["d"], case["k"], s)]
    for t in itertools.product(*map(range, out)):
        taps = itertools.product(*map(range, case["k"]))
        yield t, [tuple(tt * ss + jj * dd - pp for tt, ss, jj, dd, pp in
                        zip(t, s, j, case["d"], case["p"])) for j in taps]


def _inside(pos, shape):
    return all(0 <= q < n for q, n in zip(pos, shape))


@given(pool_cases(), st.booleans())
def test_avg_pool_against_definition(case, count_include_pad):
    x = np.random.default_rng(case["seed"]).standard_normal((case["c"], *case["i"]))
    expected = []
    for c in range(case["c"]):
        for _, window in _windows(case):
            values = [x[(c, *pos)] for pos in window if _inside(pos, case["i"])]
            size = len(window) if count_include_pad else len(values)
            expected.append(sum(values) / size)
    matrix = avg_pool_matrix(case["i"], case["k"], stride=case["stride"], padding=case["p"],
                             channels=case["c"], count_include_pad=count_include_pad)
    np.testing.assert_allclose(matrix @ x.ravel(), expected, atol=1e-12)


@requires_torch
@given(pool_cases(), st.booleans(), st.sampled_from([None, 1, 3]))
def test_avg_pool_against_torch(case, count_include_pad, divisor):
    x = np.random.default_rng(case["seed"]).standard_normal((case["c"], *case["i"]))
    f = {1: torch.nn.functional.avg_pool1d, 2: torch.nn.functional.avg_pool2d,
         3: torch.nn.functional.avg_pool3d}[case["n"]]
    kw = dict(stride=case["stride"], padding=case["p"], count_include_pad=count_include_pad)
    if divisor is not None and case["n"] > 1:  # avg_pool1d has no divisor_override
        kw["divisor_override"] = divisor
    theirs = f(torch.from_numpy(x)[None], case["k"], **kw)[0].numpy()
    ours = avg_pool_matrix(case["i"], case["k"], channels=case["c"], **kw)
    np.testing.assert_allclose(ours @ x.ravel(), theirs.ravel(), atol=1e-12)


@requires_torch
@given(pool_cases(dilation=True))
def test_max_pool_against_torch(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.permutation(np.prod((case["c"], *case["i"]))).reshape(case["c"], *case["i"])
    x = x.astype(np.float64)  # distinct values: the selected positions are unique
    f = {1: torch.nn.functional.max_pool1d, 2: torch.nn.functional.max_pool2d,
         3: torch.nn.functional.max_pool3d}[case["n"]]
    t = torch.from_numpy(x)[None].requires_grad_(True)
    values, indices = f(t, case["k"], stride=case["stride"], padding=case["p"],
                        dilation=case["d"], return_indices=True)
    s = max_pool_matrix(x, case["k"], stride=case["stride"], padding=case["p"],
                        dilation=case["d"])
    np.testing.assert_array_equal(s @ x.ravel(), values.detach().numpy().ravel())
    size = int(np.prod(case["i"]))
    chosen = s.indices.reshape(case["c"], -1) - np.arange(case["c"])[:, None] * size
    np.testing.assert_array_equal(chosen.ravel(), indices.numpy().ravel())
    # the selection matrix is the Jacobian: it routes the gradient like autograd
    g = rng.standard_normal(values.shape)
    values.backward(torch.from_numpy(g))
    np.testing.assert_allclose(s.T @ g.ravel(), t.grad.numpy().ravel())


def test_max_pool_ties_and_nan():
    x = np.array([[1.0, 1.0, 2.0, 2.0, np.nan, 5.0]])
    s = max_pool_matrix(x, 2)
    assert s.indices.tolist() == [0, 2, 4]  # first maximum; NaN wins
    assert np.isnan((s @ x.ravel())[2])
    # two NaNs in a window: PyTorch keeps the last one (it was the first, once)
    x = np.array([[np.nan, 1.0, np.nan, 3.0, 0.0, np.nan]])
    assert max_pool_matrix(x, 3).indices.tolist() == [2, 5]
    assert max_pool_matrix(x, 4, stride=2).indices.tolist() == [2, 5]


@requires_torch
@given(pool_cases(dilation=True), st.sampled_from([0.0, 0.1, 0.5]))
def test_max_pool_ties_and_nans_against_torch(case, nan_rate):
    """Few distinct values (many ties) and some NaNs: the same positions as PyTorch."""
    rng = np.random.default_rng(case["seed"])
    x = rng.integers(0, 3, (case["c"], *case["i"])).astype(np.float64)
    x[rng.random(x.shape) < nan_rate] = np.nan
    f = {1: torch.nn.functional.max_pool1d, 2: torch.nn.functional.max_pool2d,
         3: torch.nn.functional.max_pool3d}[case["n"]]
    _, indices = f(torch.from_numpy(x)[None], case["k"], stride=case["stride"],
                   padding=case["p"], dilation=case["d"], return_indices=True)
    s = max_pool_matrix(x, case["k"], stride=case["stride"], padding=case["p"],
                        dilation=case["d"])
    size = int(np.prod(case["i"]))
    chosen = s.indices.reshape(case["c"], -1) - np.arange(case["c"])[:, None] * size
    np.testing.assert_array_equal(chosen.ravel(), indices.numpy().ravel())


@requires_torch
def test_max_pool_int64_beyond_float_precision():
    """2**53 + 1 and 2**53 are one float64: they must still be told apart (once were not)."""
    x = np.array([[2**53, 2**53 + 1, 2**53 + 1, 2**53]], dtype=np.int64)
    s = max_pool_matrix(x, 2)
    _, indices = torch.nn.functional.max_pool1d(torch.from_numpy(x)[None], 2,
                                                return_indices=True)
    assert s.indices.tolist() == indices.numpy().ravel().tolist() == [1, 2]


def test_pooling_examples_by_hand():
    x = np.arange(16.0).reshape(4, 4)
    p = avg_pool_matrix((4, 4), 2)
    np.testing.assert_array_equal(p @ x.ravel(), [2.5, 4.5, 10.5, 12.5])
    m = max_pool_matrix(x[None], 2)
    np.testing.assert_array_equal(m @ x.ravel(), [5, 7, 13, 15])
    assert p.shape == m.shape == (4, 16) and p.nnz == m.nnz * 4


def test_avg_pool_is_a_depthwise_convolution():
    a = avg_pool_matrix((5, 5), 3, stride=1, channels=2)
    w = np.full((2, 1, 3, 3), 1 / 9)
    assert abs(a - convmat.conv_matrix(w, (5, 5), groups=2)).max() < 1e-15


def test_pooling_errors():
    with pytest.raises(convmat.ConvmatError, match=r"wholly in the padding"):
        max_pool_matrix(np.ones((1, 1)), 2, dilation=2, padding=1)
    with pytest.raises(convmat.ConvmatError, match=r"x.shape=\(4,\)"):
        max_pool_matrix(np.ones(4), 2)
    with pytest.raises(convmat.ConvmatError, match=r"dtype=int64"):
        avg_pool_matrix((4,), 2, dtype=np.int64)
    with pytest.raises(convmat.ConvmatError, match=r"kernel_shape=0.*avg_pool_matrix"):
        avg_pool_matrix((4,), 0)
    with pytest.raises(convmat.ConvmatError, match=r"divisor_override=0"):
        avg_pool_matrix((4,), 2, divisor_override=0)
    with pytest.raises(convmat.ConvmatError, match=r"x could not be read.*max_pool_matrix"):
        max_pool_matrix([[1.0, 2.0], [3.0]], 2)


def test_divisor_override_checked_before_building():
    """A bad divisor_override is reported before the structure is built (once it was
    checked after, so a too-large build hid it behind the memory error)."""
    with convmat.options.override(memory_limit=1000):
        with pytest.raises(convmat.ConvmatError, match=r"divisor_override=0"):
            avg_pool_matrix((100, 100), 2, divisor_override=0)


def test_pooling_refuses_negative_padding():
    """Convolutions read a negative side as a crop; pooling pads only, as PyTorch."""
    with pytest.raises(convmat.ConvmatError, match=r"padding=-1 must not be negative"):
        convmat.avg_pool_matrix((3,), 1, padding=-1)
    with pytest.raises(convmat.ConvmatError, match=r"must not be negative"):
        convmat.max_pool_matrix(np.arange(6.0)[None], 2, padding=[(-1, 0)])


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
@pytest.mark.parametrize("shape, kernel", [((3, 6, 9), (2, 3)), ((2, 8), (4,)),
                                           ((1, 4, 4, 6), (2, 2, 3))])
def test_tiling_windows_pick_what_the_window_path_picks(dtype, shape, kernel):
    """Windows that tile the input take a reshape and one argmax; with ties everywhere
    (few distinct values, int64 beyond 2**53 too) they pick what the general window path
    picks, the first maximum in C order."""
    rng = np.random.default_rng(8)
    x = rng.integers(-2, 3, shape).astype(dtype)
    if dtype == np.int64:
        x = x + 2**60  # distinct int64 values that float64 would tie
    tiled = convmat.max_pool_matrix(x, kernel)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_maxima, "_tiled_argmax", lambda x, geom: None)
        general = convmat.max_pool_matrix(x, kernel)
    np.testing.assert_array_equal(tiled.indices, general.indices)
    assert tiled.shape == general.shape


def test_kernel_size_is_a_deprecated_kernel_shape():
    """One vocabulary: the window is ``kernel_shape``; PyTorch's ``kernel_size`` still works,
    warns (at the caller's line) and gives the same matrix."""
    x = np.arange(24.0).reshape(2, 3, 4)
    new_avg = avg_pool_matrix((3, 4), kernel_shape=(2, 2), stride=1, channels=2)
    new_max = max_pool_matrix(x, kernel_shape=2, stride=1)
    with pytest.warns(DeprecationWarning, match=r"avg_pool_matrix\(kernel_size=\.\.\.\) is "
                                                r"deprecated; use avg_pool_matrix\(kernel_sh"
                      ) as record:
        old_avg = avg_pool_matrix((3, 4), kernel_size=(2, 2), stride=1, channels=2)
    assert record[0].filename == __file__
    with pytest.warns(DeprecationWarning, match=r"max_pool_matrix\(kernel_size=") as record:
        old_max = max_pool_matrix(x, kernel_size=2, stride=1)
    assert record[0].filename == __file__
    assert (old_avg != new_avg).nnz == 0 and (old_max != new_max).nnz == 0
    # the values themselves, against numpy: the mean and the max of every 2x2 window
    windows = np.lib.stride_tricks.sliding_window_view(x, (2, 2), axis=(1, 2))
    np.testing.assert_allclose(new_avg @ x.ravel(), windows.mean(axis=(3, 4)).ravel())
    np.testing.assert_array_equal(new_max @ x.ravel(), windows.max(axis=(3, 4)).ravel())
    with pytest.raises(TypeError, match="missing 1 required argument: 'kernel_shape'"):
        avg_pool_matrix((4,))
    with pytest.raises(convmat.ConvmatError, match="give only kernel_shape="):
        max_pool_matrix(x, 2, kernel_size=2)
