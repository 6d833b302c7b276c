"""The sliding pictures with every padding mode, against oracles written here: the windows'
sources against ``numpy.pad`` of an index array, A2's matrix against ``conv_matrix``, the
last frame's y against ``conv_matrix @ x`` and torch's ``F.pad`` + ``conv``, A3's edges
against the stored entries of ``conv_matrix(ones)`` counted with multiplicity."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import convmat
from convmat import figures
from convmat.errors import ConvmatError

from .strategies import MODES, geometries

#: convmat's mode -> numpy.pad's mode
NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap",
              "symmetric": "symmetric"}
CASES = [((5,), (3,), 1, 2, 2), ((6,), (2,), 2, 3, 1), ((4, 5), (3, 2), 1, 1, 2),
         ((5, 4), (3, 3), 2, 2, 1), ((3, 3, 3), (2, 2, 2), 1, 1, 1)]


def _numpy_sources(ishape, kshape, stride, pad, dilation, mode):
    """Per window, per tap, the flat input index read: numpy.pad of the index array."""
    idx = np.arange(int(np.prod(ishape))).reshape(ishape)
    padded = np.pad(idx, pad, mode=NUMPY_MODE[mode]) if mode != "zeros" else \
        np.pad(idx, pad, constant_values=-1)
    out = [(p - dilation * (k - 1) - 1) // stride + 1 for p, k in zip(padded.shape, kshape)]
    rows = []
    for t in np.ndindex(*out):
        rows.append([padded[tuple(ti * stride + j * dilation for ti, j in zip(t, tap))]
                     for tap in np.ndindex(*kshape)])
    return np.array(rows)


@pytest.mark.parametrize("mode", ["zeros", *NUMPY_MODE])
@pytest.mark.parametrize("ishape,kshape,pad,stride,dilation", CASES)
def test_sources_match_numpy_pad(ishape, kshape, pad, stride, dilation, mode):
    win = figures.sliding_windows(ishape, kshape, stride=stride, padding=pad,
                                  dilation=dilation, padding_mode=mode)
    np.testing.assert_array_equal(win.sources, _numpy_sources(ishape, kshape, stride, pad,
                                                              dilation, mode))


@pytest.mark.parametrize("mode", NUMPY_MODE)
def test_sources_with_a_crop(mode):
    # crop one entry before, pad two after: numpy.pad of the cropped index array
    win = figures.sliding_windows((6,), (3,), padding=((-1, 2),), padding_mode=mode)
    idx = np.pad(np.arange(1, 6), (0, 2), mode=NUMPY_MODE[mode])
    expect = [[idx[t + j] for j in range(3)] for t in range(len(idx) - 2)]
    np.testing.assert_array_equal(win.sources, expect)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.filter_too_much])
@given(g=geometries(ndims=(1, 2, 3), modes=MODES, channels=False, crop=True, max_input=6,
                    max_pad=3))
def test_sources_of_random_geometries_match_numpy_pad(g):
    """Crops first (a slice), then numpy.pad of the index array; window t's taps read
    padded[t s + j d]."""
    idx = np.arange(int(np.prod(g.input_shape))).reshape(g.input_shape)
    idx = idx[tuple(slice(max(-b, 0), i - max(-a, 0)) for i, (b, a) in
                    zip(g.input_shape, g.pads))]
    grow = [(max(b, 0), max(a, 0)) for b, a in g.pads]
    padded = np.pad(idx, grow, constant_values=-1) if g.mode == "zeros" else \
        np.pad(idx, grow, mode=NUMPY_MODE[g.mode])
    win = figures.sliding_windows(g.input_shape, g.kernel, stride=g.stride, padding=g.padding,
                                  dilation=g.dilation, padding_mode=g.mode)
    s = np.broadcast_to(g.stride, (g.ndim,))
    d = np.broadcast_to(g.dilation, (g.ndim,))
    assert win.output_shape == tuple((p - dd * (k - 1) - 1) // ss + 1 for p, k, ss, dd in
                                     zip(padded.shape, g.kernel, s, d))
    expect = [[padded[tuple(ti * ss + j * dd for ti, j, ss, dd in zip(t, tap, s, d))]
               for tap in np.ndindex(*g.kernel)] for t in np.ndindex(*win.output_shape)]
    np.testing.assert_array_equal(win.sources, np.array(expect).reshape(win.sources.shape))


@pytest.mark.parametrize("mode", NUMPY_MODE)
@pytest.mark.parametrize("ishape,kshape,pad,stride,dilation", CASES)
def test_matrix_and_last_frame(ishape, kshape, pad, stride, dilation, mode):
    rng = np.random.default_rng(0)
    w = rng.integers(-3, 4, kshape).astype(float)
    x = rng.integers(-5, 6, ishape).astype(float)
    kw = dict(stride=stride, padding=pad, dilation=dilation)
    a = convmat.conv_matrix(w, ishape, padding_mode=mode, **kw)
    anim = figures.animate_matrix(ishape, kshape, weight=w, x=x, padding_mode=mode, **kw)
    assert (anim.matrix != a).nnz == 0
    assert anim.n_frames == a.shape[0]
    anim.show_frame(anim.n_frames - 1)
    y = anim.matrix @ x.ravel()
    # an independent definition: numpy.pad then a direct correlation
    padded = np.pad(x, pad, mode=NUMPY_MODE[mode])
    out = [(p - dilation * (k - 1) - 1) // stride + 1 for p, k in zip(padded.shape, kshape)]
    direct = [sum(w[tap] * padded[tuple(ti * stride + j * dilation for ti, j in
                                        zip(t, tap))] for tap in np.ndindex(*kshape))
              for t in np.ndindex(*out)]
    np.testing.assert_allclose(y, direct)
    if mode == "symmetric":
        return
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    n = len(ishape)
    conv = (F.conv1d, F.conv2d, F.conv3d)[n - 1]
    xt = torch.tensor(x)[None, None]
    pads = [pad] * (2 * n)
    xt = F.pad(xt, pads, mode=mode)
    ref = conv(xt, torch.tensor(w)[None, None], stride=stride, dilation=dilation)
    np.testing.assert_allclose(y, ref.numpy().ravel())


@pytest.mark.parametrize("mode", NUMPY_MODE)
@pytest.mark.parametrize("ishape,kshape,pad,stride,dilation",
                         [c for c in CASES if len(c[0]) <= 2])
def test_connectivity_edges_are_the_entries_with_multiplicity(ishape, kshape, pad, stride,
                                                              dilation, mode):
    kw = dict(stride=stride, padding=pad, dilation=dilation)
    fig = figures.plot_connectivity(ishape, kshape, padding_mode=mode, highlight="all", **kw)
    ax = fig.axes[0]
    edges = next(c for c in ax.collections if c.get_gid() == "edges")
    nodes = {c.get_gid(): c.get_offsets() for c in ax.collections
             if c.get_gid() in ("input-nodes", "output-nodes")}

    def which(points, at):
        return [int(np.argmin(np.abs(points - p).sum(1))) for p in at]

    segs = np.array(edges.get_segments())
    drawn = collections.Counter(zip(which(nodes["output-nodes"], segs[:, 1]),
                                    which(nodes["input-nodes"], segs[:, 0])))
    # the oracle: stored entries of conv_matrix(ones) count the taps of each pair
    ones = convmat.conv_matrix(np.ones(kshape), ishape, padding_mode=mode, **kw).tocoo()
    expect = collections.Counter({(int(r), int(c)): int(round(v))
                                  for r, c, v in zip(ones.row, ones.col, ones.data) if v})
    assert drawn == expect
    labels = [t.get_text() for t in ax.texts if t.get_gid() == "multiplicity"]
    repeated = sorted(v for v in expect.values() if v > 1)
    if len(repeated) <= 40:
        assert sorted(int(s[1:]) for s in labels) == repeated


@pytest.mark.parametrize("make", [figures.animate_convolution, figures.animate_matrix])
def test_padded_cells_show_their_copies(make):
    x = np.arange(16).reshape(4, 4)
    anim = make((4, 4), (3, 3), padding=1, padding_mode="reflect", x=x)
    padded = np.pad(x, 1, mode="reflect")
    texts = {(round(t.get_position()[0] - 0.5), round(t.get_position()[1] - 0.5)):
             t.get_text() for t in anim.figure.axes[0].texts}
    # the panel's cell (column, row) holds padded[row, column]
    for (c, r), label in texts.items():
        if 0 <= r < 6 and 0 <= c < 6:
            assert label == str(padded[r, c])


def test_refusals():
    with pytest.raises(ConvmatError, match="padding_mode"):
        figures.animate_convolution((4,), (3,), padding=1, padding_mode="reflect",
                                    transposed=True)
    with pytest.raises(ConvmatError, match="padding_mode"):
        figures.plot_connectivity((4,), (3,), padding=1, padding_mode="circular",
                                  side_by_side=True)
    with pytest.raises(ConvmatError, match="padding_mode"):
        figures.sliding_windows((4,), (3,), padding=1, padding_mode="mirror")
    with pytest.raises(ConvmatError, match="reflect"):  # reflect padding 4 on 4 entries
        figures.animate_matrix((4,), (3,), padding=4, padding_mode="reflect")
