"""conv_matrix and conv_transpose_matrix against independent oracles and identities."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import convmat
from convmat import options

from .conftest import requires_torch, torch
from .oracle import direct_conv, direct_conv_transpose, direct_matrix
from .strategies import MODES, geometries

RNG = np.random.default_rng(1234)


def _weight(geo, rng=RNG, transposed=False):
    if transposed:
        shape = (geo.c_in, geo.c_out // geo.groups, *geo.kernel)
    else:
        shape = (geo.c_out, geo.c_in // geo.groups, *geo.kernel)
    return rng.standard_normal(shape)


def _torch_conv(x, w, geo):
    """PyTorch: F.pad (with the test's own resolved pads) then convNd."""
    F = torch.nn.functional
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[geo.ndim]
    if geo.flip:
        w = np.flip(w, axis=tuple(range(2, w.ndim))).copy()
    flat = [p for pair in reversed(geo.pads) for p in pair]
    xt = torch.from_numpy(x)[None]
    xt = F.pad(xt, flat) if geo.mode == "zeros" else F.pad(xt, flat, mode=geo.mode)
    y = conv(xt, torch.from_numpy(w), stride=geo.per_dim(geo.stride),
             dilation=geo.per_dim(geo.dilation), groups=geo.groups)
    return y[0].numpy()


# -- against PyTorch ----------------------------------------------------------------------

GEOMETRIES_CHECKED = {"torch_conv": 0, "torch_transpose": 0}


@requires_torch
@settings(max_examples=300)
@given(geo=geometries())
def test_conv_matrix_equals_torch(geo):
    w = _weight(geo)
    x = RNG.standard_normal((geo.c_in, *geo.input_shape))
    a = convmat.conv_matrix(w, geo.input_shape, **geo.kwargs())
    expected = _torch_conv(x, w, geo)
    assert a.shape == (expected.size, x.size)
    np.testing.assert_allclose(a @ x.ravel(), expected.ravel(), rtol=1e-10, atol=1e-10)
    # a batch: A @ X.reshape(B, -1).T
    xs = RNG.standard_normal((3, geo.c_in, *geo.input_shape))
    batch = a @ xs.reshape(3, -1).T
    np.testing.assert_allclose(batch[:, 1], _torch_conv(xs[1], w, geo).ravel(), atol=1e-10)
    GEOMETRIES_CHECKED["torch_conv"] += 1


@st.composite
def transposed_geometries(draw):
    geo = draw(geometries(modes=("zeros",)))
    s, d = geo.per_dim(geo.stride), geo.per_dim(geo.dilation)
    output_padding = tuple(draw(st.integers(0, max(a, b) - 1)) for a, b in zip(s, d))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(geo.ndim))
    return geo, padding, output_padding


def _transposed_case(case):
    """(geo, stride, dilation, padding, output_padding, output size by the formula, matrix or
    None when the formula's size is not positive)."""
    geo, padding, output_padding = case
    s, d = geo.per_dim(geo.stride), geo.per_dim(geo.dilation)
    out = [(i - 1) * ss - 2 * p + dd * (k - 1) + q + 1
           for i, ss, p, dd, k, q in zip(geo.input_shape, s, padding, d, geo.kernel,
                                         output_padding)]
    w = _weight(geo, transposed=True)
    kw = dict(stride=s, padding=padding, output_padding=output_padding, dilation=d,
              groups=geo.groups, flip=geo.flip)
    if min(out) < 1:
        with pytest.raises(convmat.ConvmatError, match="padding"):
            convmat.conv_transpose_matrix(w, geo.input_shape, **kw)
        return geo, s, d, w, None
    return geo, s, d, w, convmat.conv_transpose_matrix(w, geo.input_shape, **kw)


@requires_torch
@settings(max_examples=300)
@given(case=transposed_geometries())
def test_conv_transpose_matrix_equals_torch(case):
    geo, s, d, w, b = _transposed_case(case)
    if b is None:
        return
    _, padding, output_padding = case
    F = torch.nn.functional
    convt = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[geo.ndim]
    x = RNG.standard_normal((geo.c_in, *geo.input_shape))
    wt = np.flip(w, axis=tuple(range(2, w.ndim))).copy() if geo.flip else w
    expected = convt(torch.from_numpy(x)[None], torch.from_numpy(wt), stride=s, padding=padding,
                     output_padding=output_padding, dilation=d, groups=geo.groups)[0].numpy()
    assert b.shape == (expected.size, x.size)
    assert expected.shape[1:] == convmat.conv_transpose_output_shape(
        geo.input_shape, geo.kernel, stride=s, padding=padding, output_padding=output_padding,
        dilation=d)
    np.testing.assert_allclose(b @ x.ravel(), expected.ravel(), rtol=1e-10, atol=1e-10)
    GEOMETRIES_CHECKED["torch_transpose"] += 1


@requires_torch
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("kernel", [1, 2, 3, 4])
@pytest.mark.parametrize("dilation", [1, 2])
def test_same_padding_equals_torch_same(n, kernel, dilation):
    """At stride 1, "same" is PyTorch's padding="same" (extra unit at the end)."""
    F = torch.nn.functional
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[n]
    shape = (6, 5, 4)[:n]
    w = RNG.standard_normal((2, 1, *(kernel,) * n))
    x = RNG.standard_normal((1, *shape))
    a = convmat.conv_matrix(w, shape, padding="same", dilation=dilation)
    y = conv(torch.from_numpy(x)[None], torch.from_numpy(w), padding="same", dilation=dilation)
    np.testing.assert_allclose(a @ x.ravel(), y[0].numpy().ravel(), atol=1e-12)


# -- against the direct tap-by-tap definition --------------------------------------------


@settings(max_examples=120)
@given(geo=geometries(ndims=(1, 2, 3, 4), max_input=4, max_kernel=2, max_stride=2,
                      max_dilation=2, max_pad=2))
def test_conv_matrix_equals_direct_definition(geo):
    assume_small = geo.c_in * math.prod(geo.input_shape) <= 120
    w = _weight(geo)
    a = convmat.conv_matrix(w, geo.input_shape, **geo.kwargs())
    x = RNG.standard_normal((geo.c_in, *geo.input_shape))
    kw = dict(stride=geo.per_dim(geo.stride), pads=geo.pads, dilation=geo.per_dim(geo.dilation),
              groups=geo.groups, mode=geo.mode, flip=geo.flip)
    np.testing.assert_allclose(a @ x.ravel(), direct_conv(x, w, **kw).ravel(), atol=1e-10)
    if assume_small:
        np.testing.assert_allclose(a.toarray(), direct_matrix(geo.input_shape, w, **kw),
                                   atol=1e-12)


@settings(max_examples=80)
@given(case=transposed_geometries())
def test_conv_transpose_matrix_equals_direct_scatter(case):
    geo, s, d, w, b = _transposed_case(case)
    if b is None:
        return
    _, padding, output_padding = case
    pads = tuple((p, p) for p in padding)
    x = RNG.standard_normal((geo.c_in, *geo.input_shape))
    expected = direct_conv_transpose(x, w, stride=s, pads=pads, dilation=d,
                                     output_padding=output_padding, groups=geo.groups,
                                     flip=geo.flip)
    np.testing.assert_allclose(b @ x.ravel(), expected.ravel(), atol=1e-10)


@pytest.mark.parametrize("shape", [(9,), (6, 7)])
@pytest.mark.parametrize("kernel", [1, 2, 3])
def test_against_scipy_signal(shape, kernel):
    """valid/full correlation and convolution (flip) equal scipy.signal's."""
    x = RNG.standard_normal(shape)
    w = RNG.standard_normal((kernel,) * len(shape))
    for mode in ("valid", "full"):
        a = convmat.conv_matrix(w, shape, padding=mode)
        np.testing.assert_allclose((a @ x.ravel()).reshape(
            convmat.conv_output_shape(shape, w.shape, padding=mode)),
            scipy.signal.correlate(x, w, mode=mode), atol=1e-12)
        c = convmat.conv_matrix(w, shape, padding=mode, flip=True)
        np.testing.assert_allclose(c @ x.ravel(),
                                   scipy.signal.convolve(x, w, mode=mode).ravel(), atol=1e-12)
    if kernel % 2:  # for odd kernels scipy's centred "same" is ours
        a = convmat.conv_matrix(w, shape, padding="same")
        np.testing.assert_allclose(a @ x.ravel(),
                                   scipy.signal.correlate(x, w, mode="same").ravel(), atol=1e-12)


# -- identities ------------------------------------------------------------------------


@settings(max_examples=150)
@given(geo=geometries(), data=st.data())
def test_transpose_builder_is_the_transpose(geo, data):
    """conv_transpose_matrix == conv_matrix(w, o_T, ...).T, for every padding mode."""
    s, d = geo.per_dim(geo.stride), geo.per_dim(geo.dilation)
    q = tuple(data.draw(st.integers(0, max(a, b) - 1)) for a, b in zip(s, d))
    pairs = geo.pads
    w = _weight(geo, transposed=True)
    try:
        out = convmat.conv_transpose_output_shape(geo.input_shape, geo.kernel, stride=s,
                                                  padding=pairs, output_padding=q, dilation=d)
    except convmat.ConvmatError:
        return
    for (b, a), o in zip(pairs, out):
        if geo.mode == "reflect" and max(b, a) >= o or geo.mode == "circular" and max(b, a) > o:
            return
    t = convmat.conv_transpose_matrix(w, geo.input_shape, stride=s, padding=pairs,
                                      output_padding=q, dilation=d, groups=geo.groups,
                                      padding_mode=geo.mode, flip=geo.flip)
    forward = convmat.conv_matrix(w, out, stride=s, padding=pairs, dilation=d,
                                  groups=geo.groups, padding_mode=geo.mode, flip=geo.flip)
    # restrict the forward output to the first input_shape positions per dim
    full_out = convmat.conv_output_shape(out, geo.kernel, stride=s, padding=pairs, dilation=d)
    keep = np.zeros((geo.c_in, *full_out), dtype=bool)
    keep[(slice(None),) + tuple(slice(0, i) for i in geo.input_shape)] = True
    restricted = forward[np.flatnonzero(keep.ravel())]
    assert t.shape == restricted.T.shape
    assert abs(t - restricted.T).max() < 1e-12 if t.nnz else restricted.nnz == 0


@settings(max_examples=150)
@given(geo=geometries(modes=MODES, crop=True))
def test_adjointness(geo):
    """<A x, y> = <x, A^T y> with A^T from conv_transpose_matrix on the output shape."""
    w = _weight(geo)
    a = convmat.conv_matrix(w, geo.input_shape, **geo.kwargs())
    out = convmat.conv_output_shape(geo.input_shape, geo.kernel, stride=geo.stride,
                                    padding=geo.pads, dilation=geo.dilation)
    s, d = geo.per_dim(geo.stride), geo.per_dim(geo.dilation)
    # the output_padding that gives back input_shape, when it exists in range
    q = [i - ((o - 1) * ss - b - e + dd * (k - 1) + 1)
         for i, o, ss, (b, e), dd, k in zip(geo.input_shape, out, s, geo.pads, d, geo.kernel)]
    if any(not 0 <= v < max(ss, dd) for v, ss, dd in zip(q, s, d)):
        return
    t = convmat.conv_transpose_matrix(w, out, stride=s, padding=geo.pads, output_padding=q,
                                      dilation=d, groups=geo.groups, padding_mode=geo.mode,
                                      flip=geo.flip)
    x = RNG.standard_normal(a.shape[1])
    y = RNG.standard_normal(a.shape[0])
    assert np.isclose((a @ x) @ y, x @ (t @ y), rtol=1e-10, atol=1e-10)


@settings(max_examples=150)
@given(geo=geometries(modes=MODES, crop=True))
def test_padding_matrix_composition(geo):
    """conv(w, S, padding=p, mode=m) == conv(w, padded S) @ padding_matrix(S, p, padding_mode=m)."""
    w = _weight(geo)
    a = convmat.conv_matrix(w, geo.input_shape, **geo.kwargs())
    padded = tuple(i + b + e for i, (b, e) in zip(geo.input_shape, geo.pads))
    valid = convmat.conv_matrix(w, padded, stride=geo.stride, dilation=geo.dilation,
                                groups=geo.groups, flip=geo.flip)
    p = convmat.padding_matrix(geo.input_shape, geo.pads, padding_mode=geo.mode, channels=geo.c_in)
    assert p.shape == (geo.c_in * math.prod(padded), geo.c_in * math.prod(geo.input_shape))
    assert abs(a - valid @ p).max() < 1e-12 if a.nnz else True


@settings(max_examples=100)
@given(geo=geometries(channels=True, modes=MODES, crop=True))
def test_padding_matrix_equals_numpy_pad(geo):
    from .oracle import crop_then_pad

    x = RNG.standard_normal((geo.c_in, *geo.input_shape))
    p = convmat.padding_matrix(geo.input_shape, geo.pads, padding_mode=geo.mode, channels=geo.c_in)
    expected = crop_then_pad(x, geo.pads, geo.mode)
    np.testing.assert_array_equal(p @ x.ravel(), expected.ravel())


@requires_torch
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_padding_matrix_equals_torch_pad(mode):
    x = RNG.standard_normal((2, 4, 5))
    pads = ((1, 2), (3, 0))
    p = convmat.padding_matrix((4, 5), pads, padding_mode=mode, channels=2)
    flat = [3, 0, 1, 2]
    F = torch.nn.functional
    xt = torch.from_numpy(x)[None]
    y = F.pad(xt, flat) if mode == "zeros" else F.pad(xt, flat, mode=mode)
    np.testing.assert_array_equal(p @ x.ravel(), y[0].numpy().ravel())


@pytest.mark.parametrize("kernel", [(1, 1), (2, 3), (3, 3)])
@pytest.mark.parametrize("shape", [(4, 4), (5, 6)])
def test_doubly_block_toeplitz(kernel, shape):
    """At stride 1, block (r, c) of size o1 x i1 depends on c - r only, and is the Toeplitz
    matrix of kernel row c - r: B[u, v] = w[c - r, v - u]."""
    w = RNG.integers(1, 9, kernel)
    a = convmat.conv_matrix(w, shape).toarray()
    o0, o1 = shape[0] - kernel[0] + 1, shape[1] - kernel[1] + 1
    blocks = a.reshape(o0, o1, shape[0], shape[1]).transpose(0, 2, 1, 3)
    for r in range(o0):
        for c in range(shape[0]):
            block = blocks[r, c]
            lag = c - r
            expected = np.zeros((o1, shape[1]), dtype=w.dtype)
            if 0 <= lag < kernel[0]:
                for u in range(o1):
                    expected[u, u:u + kernel[1]] = w[lag]
            np.testing.assert_array_equal(block, expected)


@pytest.mark.parametrize(
    "shape, kernel, kw, nnz",
    [
        ((5, 5), (3, 3), {}, 81),
        ((5, 5), (3, 3), {"padding": 1}, 13 * 13),  # per dim taps 2+3+3+3+2
        ((7,), (3,), {"padding": "full"}, 21),  # every input meets every tap
        ((4, 4), (2, 2), {"stride": 2}, 16),
        ((8,), (3,), {"dilation": 2}, 12),
        ((3, 3), (2, 2), {"padding": 1, "padding_mode": "reflect"}, 64),  # 16 rows x 4, no dups
        ((4,), (3,), {"padding": 2, "padding_mode": "replicate"}, 12),  # 18 taps, dups summed
    ],
)
def test_exact_nnz(shape, kernel, kw, nnz):
    assert convmat.conv_matrix(np.ones(kernel), shape, **kw).nnz == nnz


def test_channels_and_groups_layout():
    """Depthwise (groups == C_in) gives a block-diagonal matrix; 1x1 conv a Kronecker."""
    w = RNG.standard_normal((3, 1, 2, 2))
    a = convmat.conv_matrix(w, (4, 4), groups=3).toarray()
    for o in range(3):
        for c in range(3):
            block = a[o * 9:(o + 1) * 9, c * 16:(c + 1) * 16]
            assert (np.count_nonzero(block) > 0) == (o == c)
    w1 = RNG.standard_normal((2, 3, 1, 1))
    one = convmat.conv_matrix(w1, (2, 3)).toarray()
    np.testing.assert_allclose(one, np.kron(w1[:, :, 0, 0], np.eye(6)))


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.float32, np.float64, np.complex128])
def test_dtype_follows_weight(dtype):
    w = (np.arange(1, 10) * (1 + 1j if np.dtype(dtype).kind == "c" else 1)).astype(dtype)
    a = convmat.conv_matrix(w.reshape(3, 3), (4, 4))
    assert a.dtype == dtype
    t = convmat.conv_transpose_matrix(w.reshape(3, 3), (2, 2))
    assert t.dtype == dtype


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "bsr", "lil", "dok", "dia"])
def test_formats(fmt):
    w = np.arange(1, 5).reshape(2, 2)
    ref = convmat.conv_matrix(w, (3, 4)).toarray()
    a = convmat.conv_matrix(w, (3, 4), format=fmt)
    assert a.format == fmt and isinstance(a, sp.sparray)
    np.testing.assert_array_equal(a.toarray(), ref)
    t = convmat.conv_transpose_matrix(w, (2, 3), format=fmt)
    assert t.format == fmt
    np.testing.assert_array_equal(t.toarray(), ref.T)


def test_csr_is_canonical_with_int32_indices():
    a = convmat.conv_matrix(RNG.standard_normal((4, 3, 3, 3)), (10, 10), padding=1)
    assert a.indices.dtype == np.int32 and a.indptr.dtype == np.int32
    assert a.has_sorted_indices
    b = a.copy()
    b.sum_duplicates()
    assert b.nnz == a.nnz
    assert all(np.all(np.diff(a.indices[a.indptr[r]:a.indptr[r + 1]]) > 0)
               for r in range(a.shape[0]))


def test_index_width_threshold():
    from convmat._memory import INT32_MAX, index_dtype_for

    assert index_dtype_for(INT32_MAX) is np.int32
    assert index_dtype_for(INT32_MAX + 1) is np.int64
    with options.override(force_int64=True):
        assert index_dtype_for(10) is np.int64


@settings(max_examples=40)
@given(geo=geometries())
def test_int64_path_equals_int32(geo):
    w = _weight(geo)
    a = convmat.conv_matrix(w, geo.input_shape, **geo.kwargs())
    with options.override(force_int64=True):
        b = convmat.conv_matrix(w, geo.input_shape, **geo.kwargs())
    assert b.indices.dtype == np.int64
    assert (a != b).nnz == 0


ENGINE_PATHS = {
    "blocks only": dict(MIN_BLOCK=1, ONE_SHOT=0),
    "chunks only": dict(MIN_BLOCK=10**12, ONE_SHOT=0),
    "largest block, tiny chunks": dict(MAX_CLASS_PRODUCTS=1, CHUNK=7, ONE_SHOT=0),
    "general path": dict(ONE_SHOT=0),
    "default (one-shot builds)": {},
}


@pytest.mark.parametrize("path", ENGINE_PATHS)
@settings(max_examples=60)
@given(geo=geometries(modes=MODES, crop=True))
def test_every_engine_path_matches_the_definition(path, geo):
    """Blocks, mixed-radix chunks and their mixes all give the direct definition, with
    every row's columns strictly increasing after duplicates are summed."""
    from convmat import _engine, _runs

    w = _weight(geo)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ENGINE_PATHS[path].items():
            patch.setattr(_runs if name == "CHUNK" else _engine, name, value)
        a = convmat.conv_matrix(w, geo.input_shape, **geo.kwargs())
        s = _engine.build(convmat.geometry.convolution_geometry(geo.input_shape, w.shape,
                                                            **geo.kwargs()))
    x = RNG.standard_normal((geo.c_in, *geo.input_shape))
    expected = direct_conv(x, w, stride=geo.per_dim(geo.stride), pads=geo.pads,
                           dilation=geo.per_dim(geo.dilation), groups=geo.groups,
                           mode=geo.mode, flip=geo.flip)
    np.testing.assert_allclose(a @ x.ravel(), expected.ravel(), atol=1e-10)
    row = np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))
    same_row = row[1:] == row[:-1]
    assert np.all(np.diff(a.indices.astype(np.int64))[same_row] > 0)
    # the engine merges duplicate taps itself: its rows are canonical for every mode, and
    # the matrix is exactly the engine's arrays (nothing summed or sorted afterwards)
    assert s.canonical
    srow = np.repeat(np.arange(s.shape[0]), np.diff(s.indptr))
    assert np.all(np.diff(s.indices.astype(np.int64))[srow[1:] == srow[:-1]] > 0)
    np.testing.assert_array_equal(a.indices, s.indices)
    np.testing.assert_array_equal(a.indptr, s.indptr)
    extended = _engine.expand_weight(w, s.axes, s.geometry.weight_shape) if s.merged else w
    np.testing.assert_array_equal(s.gather(w), extended.ravel()[s.tap])
    if not s.merged:
        np.testing.assert_array_equal(s.gather(np.arange(w.size)), s.tap)
    # unmerged: one entry per tap, the raw (row, col, tap) triplets
    raw = _engine.build(convmat.geometry.convolution_geometry(geo.input_shape, w.shape,
                                                          **geo.kwargs()), merge=False)
    np.testing.assert_array_equal(raw.gather(w), w.ravel()[raw.tap])
    assert raw.nnz == convmat.geometry.convolution_geometry(geo.input_shape, w.shape,
                                                            **geo.kwargs()).nnz_upper_bound()


# -- worked examples 1-3 of the tutorial -------------------------------------------------

SLIDES_X = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
                     [2, 0, 0, 0, 1]])
SLIDES_W = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]])


def test_worked_example_slides():
    y = (convmat.conv_matrix(SLIDES_W, (5, 5)) @ SLIDES_X.ravel()).reshape(3, 3)
    np.testing.assert_array_equal(y, [[12, 12, 17], [10, 17, 19], [9, 6, 14]])
    flipped = np.array([[2, 1, 0], [0, 2, 2], [2, 1, 0]])
    z = convmat.conv_matrix(flipped, (5, 5), flip=True) @ SLIDES_X.ravel()
    np.testing.assert_array_equal(z.reshape(3, 3), y)
    full = (convmat.conv_matrix(SLIDES_W, (5, 5), padding="full") @ SLIDES_X.ravel())
    np.testing.assert_array_equal(full.reshape(7, 7)[2:5, 2:5], y)


def test_worked_example_edge_and_stride():
    x = np.zeros((5, 5), dtype=int)
    x[:, 2] = 1
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    y = (convmat.conv_matrix(sobel, (5, 5)) @ x.ravel()).reshape(3, 3)
    np.testing.assert_array_equal(y, [[-4, 0, 4]] * 3)
    ones = np.ones((4, 4), dtype=int)
    k = np.ones((2, 2), dtype=int)
    for kw, expected in [({}, np.full((3, 3), 4)), ({"stride": 2}, np.full((2, 2), 4)),
                         ({"stride": 3}, [[4]]), ({"stride": 3, "padding": 1},
                                                  [[1, 2], [2, 4]])]:
        shape = convmat.conv_output_shape((4, 4), (2, 2), **kw)
        out = (convmat.conv_matrix(k, (4, 4), **kw) @ ones.ravel()).reshape(shape)
        np.testing.assert_array_equal(out, expected)


def test_small_builds_are_cached_but_never_shared():
    """A repeated small geometry reuses its structure; each matrix owns its arrays."""
    w = RNG.standard_normal((3, 3))
    a = convmat.conv_matrix(w, (6, 6), padding=1)
    b = convmat.conv_matrix(2 * w, (6, 6), padding=1)
    assert not np.shares_memory(a.indices, b.indices)
    assert not np.shares_memory(a.indptr, b.indptr)
    a.indices[:] = 0  # a caller mutating its matrix cannot reach the next build
    c = convmat.conv_matrix(w, (6, 6), padding=1)
    np.testing.assert_array_equal(c.toarray(), 0.5 * b.toarray())
    with options.override(force_int64=True):
        assert convmat.conv_matrix(w, (6, 6), padding=1).indices.dtype == np.int64
    assert convmat.conv_matrix(w, (6, 6), padding=1).indices.dtype == np.int32
    k = convmat.kernel_matrix(RNG.standard_normal((6, 6)), (3, 3), padding=1)
    k2 = convmat.kernel_matrix(RNG.standard_normal((6, 6)), (3, 3), padding=1)
    assert not np.shares_memory(k.indices, k2.indices)


def test_cached_structures_are_bounded_and_never_shared():
    """A geometry's one-shot structure is cached: a second build equals the first, what a
    caller changes in its matrix does not reach the cache, and the cache holds at most
    CACHE_BYTES (the newest entry always)."""
    from convmat import _engine

    w = RNG.standard_normal((3, 2, 3, 3))
    first = convmat.conv_matrix(w, (9, 9), padding=1)
    expected = first.toarray()
    first.indices[:] = 0  # the caller's arrays are its own
    first.indptr[:] = 0
    again = convmat.conv_matrix(w, (9, 9), padding=1)
    np.testing.assert_array_equal(again.toarray(), expected)
    cache, saved = _engine._small_cached, _engine.CACHE_BYTES
    try:
        _engine.CACHE_BYTES = 0
        cache.cache_clear()  # an earlier test may have built these geometries already
        for n in (5, 6, 7):
            convmat.conv_matrix(w, (n, n), padding=1)
            assert len(cache.entries) == 1
            only = next(iter(cache.entries.values()))
            assert cache.nbytes == only.indptr.nbytes + only.indices.nbytes + \
                only.small_tap.nbytes
    finally:
        _engine.CACHE_BYTES = saved
    np.testing.assert_array_equal(convmat.conv_matrix(w, (9, 9), padding=1).toarray(),
                                  expected)


@settings(max_examples=150)
@given(geo=geometries(ndims=(1, 2), max_input=3, max_kernel=5, max_stride=2, max_dilation=2,
                      max_pad=3, modes=MODES))
def test_merged_taps_are_summed_exactly_in_kernel_order(geo):
    """Where a padding mode maps several taps of a window to one input, the entry is their
    sum taken in the kernel's C order, left to right, exactly as the tap-by-tap definition
    adds them: the matrix equals the definition's bit for bit (not merely to rounding)."""
    if geo.c_in * math.prod(geo.input_shape) > 40:
        return
    w = _weight(geo)
    a = convmat.conv_matrix(w, geo.input_shape, **geo.kwargs())
    kw = dict(stride=geo.per_dim(geo.stride), pads=geo.pads, dilation=geo.per_dim(geo.dilation),
              groups=geo.groups, mode=geo.mode, flip=geo.flip)
    np.testing.assert_array_equal(a.toarray(), direct_matrix(geo.input_shape, w, **kw))
