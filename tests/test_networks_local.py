"""Large chains multiplied from the output end with local rows (convmat.networks._local):
exact against PyTorch's autograd and SciPy's sparse product, and the memory guard counting
the stored entries of a product (not its multiplications)."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

import convmat
from convmat.networks import _chain, _local
from convmat.networks._factors import LazyConv, Rows

from .conftest import requires_torch, torch


def _dense_conv(weight, spatial, **kw):
    """The layer's matrix, column by column: the layer applied to unit vectors by a
    direct NumPy definition (cross-correlation, zero padding only)."""
    weight = np.asarray(weight)
    c_out, c_in_g = weight.shape[:2]
    groups = kw.get("groups", 1)
    stride, pad, dil = kw.get("stride", 1), kw.get("padding", 0), kw.get("dilation", 1)
    k = weight.shape[2:]
    n = len(spatial)
    s, p, d = ((v,) * n if isinstance(v, int) else tuple(v) for v in (stride, pad, dil))
    out = [(i + 2 * pi - di * (ki - 1) - 1) // si + 1
           for i, pi, di, ki, si in zip(spatial, p, d, k, s)]
    c_in = c_in_g * groups
    a = np.zeros((c_out * math.prod(out), c_in * math.prod(spatial)))
    for o in range(c_out):
        g = o // (c_out // groups)
        for q in np.ndindex(*out):
            row = o * math.prod(out) + np.ravel_multi_index(q, out)
            for c in range(c_in_g):
                for t in np.ndindex(*k):
                    at = [qi * si + ti * di - pi for qi, si, ti, di, pi in zip(q, s, t, d, p)]
                    if all(0 <= u < i for u, i in zip(at, spatial)):
                        col = (g * c_in_g + c) * math.prod(spatial) + np.ravel_multi_index(
                            at, spatial)
                        a[row, col] += weight[(o, c) + t]
    return a


geometries = st.fixed_dictionaries({
    "ndim": st.integers(1, 2), "groups": st.sampled_from([1, 2]),
    "c_in": st.integers(1, 2), "c_out": st.integers(1, 2), "k": st.integers(1, 3),
    "stride": st.integers(1, 2), "dilation": st.integers(1, 2), "padding": st.integers(0, 2),
    "size": st.integers(5, 8), "rows": st.integers(1, 12), "seed": st.integers(0, 2**31),
    "one_channel": st.booleans()})


@given(geometries)
def test_local_rows_times_a_convolution_equal_the_direct_product(g):
    """conv_rows (patches through the box matrix, or one channel's weight placed) equals
    L @ A with A the layer's matrix from a direct definition; its stored entries are within
    the bound from the geometry, and that bound within 4x of them for random data."""
    rng = np.random.default_rng(g["seed"])
    n, grp = g["ndim"], g["groups"]
    c_in, c_out = grp * g["c_in"], grp * g["c_out"]
    spatial = (g["size"],) * n
    weight = rng.standard_normal((c_out, c_in // grp) + (g["k"],) * n)
    kw = dict(stride=g["stride"], padding=g["padding"], dilation=g["dilation"], groups=grp)
    try:
        lazy = LazyConv(weight, spatial, **kw)
    except convmat.ConvmatError:  # the kernel does not fit
        return
    a = _dense_conv(weight, spatial, **kw)
    assert a.shape == lazy.shape
    n_pos = a.shape[0] // c_out
    out_shape = tuple(lazy.operator.geom.output_shape)
    rows = []
    for _ in range(g["rows"]):  # each row: entries in a 2-wide box of the output grid
        lo = [rng.integers(0, max(1, o - 1)) for o in out_shape]
        box = [np.arange(lo_i, min(lo_i + 2, o)) for lo_i, o in zip(lo, out_shape)]
        pos = np.ravel_multi_index(np.meshgrid(*box, indexing="ij"), out_shape).ravel()
        chans = [rng.integers(c_out)] if g["one_channel"] else range(c_out)
        rows.append(np.sort(np.concatenate([c * n_pos + pos for c in chans])))
    indptr = np.cumsum([0] + [r.size for r in rows])
    left = sp.csr_array((rng.standard_normal(indptr[-1]), np.concatenate(rows), indptr),
                        shape=(len(rows), a.shape[0]))
    saved = _local.DENSITY, _local.SPEED
    _local.DENSITY = _local.SPEED = 10**9
    try:
        out = _local.conv_rows(left, lazy.operator, "test")
    finally:
        _local.DENSITY, _local.SPEED = saved
    want = left.toarray() @ a
    assert out is not None and out.has_canonical_format
    assert np.allclose(out.toarray(), want, rtol=0, atol=1e-12 * max(1, np.abs(want).max()))
    extent = [2] * n
    channels = c_in // grp if g["one_channel"] else c_in
    bound = _local.stored_bound(len(rows), extent, lazy.operator.geom, channels)
    true = int(np.count_nonzero(want))
    assert out.nnz == true <= bound
    interior = [2 * g["stride"] + (g["k"] - 1) * g["dilation"] <= s + 2 * g["padding"]
                for s in spatial]
    if all(interior) and g["padding"] == 0 and true:
        assert bound <= 4 * true


@given(st.integers(2, 40), st.integers(2, 40), st.integers(1, 6), st.integers(0, 2**31))
def test_product_estimate_bounds_the_stored_entries(n_rows, n_mid, per_row, seed):
    """The sparse product's estimate is an upper bound of its stored entries; past the
    memory limit the symbolic pass counts them exactly."""
    rng = np.random.default_rng(seed)
    left = sp.random_array((n_rows, n_mid), density=min(1.0, per_row / n_mid), rng=rng,
                           format="csr")
    right = sp.random_array((n_mid, 30), density=min(1.0, per_row / 30), rng=rng,
                            format="csr")
    true = int((abs(left) @ abs(right)).count_nonzero())
    assert _chain._product_nnz(left, right) >= true
    with convmat.options.override(memory_limit=1):  # every bound is over it: counted
        assert _chain._product_nnz(left, right) == true


def _vgg_block(c=8, pool=True, mode="zeros", stride=1, dilation=1, groups=1):
    torch.manual_seed(0)
    layers = [torch.nn.Conv2d(3, c, 3, padding=1, padding_mode=mode),
              torch.nn.ReLU(),
              torch.nn.Conv2d(c, c, 3, padding=dilation, stride=stride, dilation=dilation,
                              groups=groups, padding_mode=mode),
              torch.nn.ReLU()]
    if pool:
        layers.append(torch.nn.MaxPool2d(2))
    return torch.nn.Sequential(*layers).double().eval()


def _autograd(model, x):
    xt = torch.from_numpy(x)

    def f(t):
        return model(t[None]).reshape(-1)
    return torch.func.jacrev(f, chunk_size=256)(xt).detach().reshape(-1, x.size).numpy()


@requires_torch
@pytest.mark.parametrize("kw", [
    dict(), dict(mode="reflect"), dict(mode="replicate"), dict(mode="circular"),
    dict(stride=2, pool=False), dict(dilation=2), dict(groups=4), dict(pool=False)])
@pytest.mark.parametrize("patches", ["when faster", "always"])
def test_large_chain_jacobian_equals_autograd(kw, patches, monkeypatch):
    """A chain over LOCAL_ENTRIES goes the local way; its Jacobian equals PyTorch's
    autograd to 1e-12 (relative), padding modes, strides, dilation, groups; with the
    patches used where they are estimated faster, and everywhere."""
    monkeypatch.setattr(_chain, "LOCAL_ENTRIES", 1)
    if patches == "always":
        monkeypatch.setattr(_local, "SPEED", 10**9)
        monkeypatch.setattr(_local, "DENSITY", 10**9)
    monkeypatch.setattr(_chain, "ROW_BLOCK", 97)  # several row blocks
    monkeypatch.setattr(_local, "PATCH_BYTES", 1 << 14)  # several patch chunks
    model = _vgg_block(**kw)
    x = np.random.default_rng(1).standard_normal((3, 12, 12))
    a, b = convmat.from_torch(model, (3, 12, 12), at=x)
    want = _autograd(model, x)
    assert np.abs(a.toarray() - want).max() <= 1e-12 * np.abs(want).max()
    assert a.has_canonical_format
    y = model(torch.from_numpy(x[None])).detach().numpy().reshape(-1)
    assert np.allclose(a @ x.reshape(-1) + b, y, rtol=0, atol=1e-12 * np.abs(y).max())


@requires_torch
def test_large_chain_ties_in_max_pool_as_pytorch(monkeypatch):
    """Ties in max pooling (an input of few distinct values, ReLU's zeros) resolve as
    PyTorch's autograd resolves them."""
    monkeypatch.setattr(_chain, "LOCAL_ENTRIES", 1)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.MaxPool2d(2), torch.nn.Conv2d(4, 4, 3, padding=1),
                                torch.nn.MaxPool2d(2, stride=1)).double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.round(p * 4))
    x = np.random.default_rng(2).integers(-1, 2, (2, 10, 10)).astype(float)
    a, _ = convmat.from_torch(model, (2, 10, 10), at=x)
    want = _autograd(model, x)
    assert np.abs(a.toarray() - want).max() <= 1e-12 * max(1, np.abs(want).max())


@requires_torch
def test_vgg_block_no_longer_refused_for_its_multiplications():
    """VGG-16 block 1 (8 channels here) at 3x64x64: a memory limit that holds the
    Jacobian (about 1.05 M entries) but not the multiplications of its sparse product
    (about 70 M) builds it."""
    model = _vgg_block(c=8)
    x = np.random.default_rng(3).standard_normal((3, 64, 64))
    with convmat.options.override(memory_limit="200M"):
        a, _ = convmat.from_torch(model, (3, 64, 64), at=x)
    assert a.shape == (8 * 32 * 32, 3 * 64 * 64)
    assert a.nnz <= 8 * 32 * 32 * 3 * 36
    rows = np.random.default_rng(4).choice(a.shape[0], 20, replace=False)
    xt = torch.from_numpy(x).requires_grad_()
    out = model(xt[None]).reshape(-1)
    for r in rows:  # rows of the Jacobian by backward passes
        (g,) = torch.autograd.grad(out[r], xt, retain_graph=True)
        want = g.numpy().reshape(-1)
        assert np.abs(a[[r]].toarray()[0] - want).max() <= 1e-12 * max(1, np.abs(want).max())


@requires_torch
def test_huge_chain_refused_before_its_matrix_is_allocated():
    """A Jacobian of about 57 M entries (680 MB) under a 64 MiB limit: refused after one
    block of rows, the process never holding more than the limit."""
    model = _vgg_block(c=8)
    x = np.random.default_rng(5).standard_normal((3, 512, 512))
    tracemalloc.start()
    try:
        with convmat.options.override(memory_limit="64M"), \
                pytest.raises(convmat.ConvmatError, match="stored entries"):
            convmat.from_torch(model, (3, 512, 512), at=x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20


def test_rows_through_a_large_layer_without_its_matrix():
    """A selection of a layer's rows too large for the cached structure comes from the
    weight (one channel's weight placed per row), never from the whole matrix."""
    rng = np.random.default_rng(6)
    weight = rng.standard_normal((64, 64, 3, 3))
    lazy = LazyConv(weight, (40, 40), padding=1)
    picked = rng.choice(lazy.shape[0], 50, replace=False)
    rows = Rows(picked, rng.standard_normal(50), lazy.shape[0])
    out = _chain._product(rows, lazy, "test")
    assert not lazy.built
    dense = _dense_conv(weight[:2], (6, 6), padding=1)  # spot check of the layout below
    assert dense.shape == (2 * 36, 64 * 36)
    x = rng.standard_normal(lazy.shape[1])
    want = rows.values * lazy.operator.matvec(x)[picked]
    assert np.allclose(out @ x, want, rtol=0, atol=1e-11 * np.abs(want).max())


def test_renaming_columns_leaves_the_left_factor_intact():
    # left @ rows must not prune left's own index arrays (a factor may be used again)
    from convmat.networks._chain import _rename_columns
    from convmat.networks._factors import Rows

    rng = np.random.default_rng(0)
    dense = rng.standard_normal((6, 5)) * (rng.random((6, 5)) < 0.6)
    left = sp.csr_array(dense)
    before = (left.indptr.copy(), left.indices.copy(), left.data.copy())
    for rows in (Rows.diag(np.array([1.0, 0.0, 2.0, 0.0, 3.0])),
                 Rows(np.array([0, 0, 1, 2, 2]), np.array([1.0, 2.0, 0.0, 1.0, -1.0]), 3)):
        out = _rename_columns(left, rows)
        np.testing.assert_array_equal(out.toarray(), dense @ rows.tocsr().toarray())
        for a, b in zip(before, (left.indptr, left.indices, left.data)):
            np.testing.assert_array_equal(a, b)
