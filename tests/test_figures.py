"""convmat.figures: sliding windows against the matrices, frame counts, what A2 highlights,
A3's edges against the sparsity pattern, plot_matrix block rules, save, and errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import scipy.sparse as sp
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_rgba
from PIL import Image

import convmat
from convmat import figures
from convmat.errors import ConvmatError
from convmat.geometry import convolution_geometry, transposed_geometry

from .strategies import geometries


def _kernel(shape):
    return np.arange(1, int(np.prod(shape)) + 1).reshape(shape)


def _row_entries(a, t):
    a = a.tocsr()
    cols = a.indices[a.indptr[t]:a.indptr[t + 1]]
    return dict(zip(cols.tolist(), a.data[a.indptr[t]:a.indptr[t + 1]].tolist()))


# ------------------------------------------------------------------ sliding windows


@settings(max_examples=40)
@given(geometries(ndims=(1, 2, 3), modes=("zeros",), channels=False))
def test_windows_are_the_rows_of_conv_matrix(g):
    w = _kernel(g.kernel)
    a = convmat.conv_matrix(w, g.input_shape, stride=g.stride, padding=g.padding,
                            dilation=g.dilation)
    win = figures.sliding_windows(g.input_shape, g.kernel, stride=g.stride, padding=g.padding,
                                  dilation=g.dilation)
    assert len(win) == a.shape[0]
    s, d = np.array(g.per_dim(g.stride)), np.array(g.per_dim(g.dilation))
    taps = np.indices(g.kernel).reshape(g.ndim, -1).T
    for t in range(len(win)):
        window = win[t]
        # tap j of output o sits at o*s + j*d - b (pads resolved by the test's own rule)
        o = np.array(window.output)
        expected = o * s + taps * d - np.array([b for b, _ in g.pads])
        np.testing.assert_array_equal(window.positions, expected)
        # the taps inside the input are exactly row t's stored entries, with their weights
        got = {p: int(w.ravel()[j]) for p, j in win.row(t).items()}
        assert got == _row_entries(a, t)


@st.composite
def transposed_geometries(draw):
    g = draw(geometries(ndims=(1, 2), modes=("zeros",), channels=False, max_input=5))
    s, d = g.per_dim(g.stride), g.per_dim(g.dilation)
    op = tuple(draw(st.integers(0, max(a, b) - 1)) for a, b in zip(s, d))
    return g, op


@settings(max_examples=40)
@given(transposed_geometries())
def test_transposed_windows_are_the_rows_of_conv_transpose_matrix(case):
    g, op = case
    w = _kernel(g.kernel)
    try:
        b = convmat.conv_transpose_matrix(w, g.input_shape, stride=g.stride, padding=g.padding,
                                          dilation=g.dilation, output_padding=op)
    except ConvmatError:
        assume(False)
    win = figures.sliding_windows(g.input_shape, g.kernel, stride=g.stride, padding=g.padding,
                                  dilation=g.dilation, transposed=True, output_padding=op)
    assert len(win) == b.shape[0]
    for t in range(len(win)):
        got = {p: int(w.ravel()[j]) for p, j in win.row(t).items()}
        assert got == _row_entries(b, t)
    # the slide has stride 1 and the stretched grid holds input entry m at m*s
    assert win.stride == (1,) * g.ndim
    assert win.grid_shape == tuple((i - 1) * si + 1 for i, si in
                                   zip(g.input_shape, g.per_dim(g.stride)))


def test_windows_sequence_behaviour():
    win = figures.sliding_windows((5, 5), (3, 3), stride=2, padding=1)
    assert len(win) == 9 and win[-1].output == (2, 2)
    assert [w.output for w in win[:2]] == [(0, 0), (0, 1)]
    assert win[0].positions[0].tolist() == [-1, -1]  # a padding position is kept
    assert win[0].sources[0] == -1
    with pytest.raises(IndexError):
        win[9]
    assert "9 windows" in repr(win)


@pytest.mark.parametrize("kwargs, message", [
    (dict(stride=0), "stride=0"),
    (dict(padding=-2), r"padding -2\+-2"),  # a crop that leaves less than the kernel
    (dict(output_padding=1), "output_padding"),
    (dict(padding="bogus"), "padding='bogus'"),
])
def test_windows_errors(kwargs, message):
    with pytest.raises(ConvmatError, match=message):
        figures.sliding_windows((5, 5), (3, 3), **kwargs)


def test_windows_kernel_larger_than_input():
    with pytest.raises(ConvmatError, match="larger than the padded input"):
        figures.sliding_windows((2,), (5,))
    with pytest.raises(ConvmatError, match="dimensions"):
        figures.sliding_windows((4, 4), (3,))


# ---------------------------------------------------------------------- animations


def _gif_frames(path):
    with Image.open(path) as im:
        return im.n_frames


@pytest.mark.parametrize("make", [figures.animate_convolution, figures.animate_matrix])
def test_one_frame_per_output_position(make, tmp_path):
    anim = make((5, 5), (3, 3), stride=2, padding=1)
    out = figures.save(anim, tmp_path / "a.gif", fps=10)
    assert _gif_frames(out) == 9


@pytest.mark.parametrize("kwargs, frames", [
    (dict(input_shape=(7,), kernel_shape=(3,), dilation=2), 3),
    (dict(input_shape=(3, 3), kernel_shape=(3, 3), stride=2, padding=1, transposed=True,
          output_padding=1), 36),
    (dict(input_shape=(4,), kernel_shape=(2,), stride=2, transposed=True), 8),
])
def test_frame_counts_other_geometries(kwargs, frames, tmp_path):
    anim = figures.animate_convolution(**kwargs)
    assert anim.n_frames == frames
    out = figures.save(anim, tmp_path / "a.gif", fps=20)
    assert _gif_frames(out) == frames


def _cell_index(verts, origin_verts):
    """Index of each polygon in ``verts`` among ``origin_verts`` by lower-left x."""
    xs = np.round(np.asarray(origin_verts)[:, 0, 0], 6)
    return [int(np.flatnonzero(xs == round(v[0, 0], 6))[0]) for v in verts]


@pytest.mark.parametrize("kwargs", [
    dict(input_shape=(5, 5), kernel_shape=(3, 3), stride=2, padding=1),
    dict(input_shape=(6,), kernel_shape=(3,), dilation=2, padding=[(0, 1)]),
    dict(input_shape=(3, 2), kernel_shape=(2, 2), stride=(2, 1), transposed=True,
         output_padding=(1, 0)),
])
def test_matrix_animation_highlights_row_t(kwargs):
    weight = np.array([[2, 0], [5, -1]]) if len(kwargs["kernel_shape"]) == 2 else None
    if weight is not None and kwargs["kernel_shape"] != (2, 2):
        weight = None
    # a figure tall enough for every row of A (on a slide, a tall A shows a window of rows)
    anim = figures.animate_matrix(**kwargs, weight=weight, figsize=(10, 12))
    geo = dict(kwargs)
    transposed = geo.pop("transposed", False)
    w = weight if weight is not None else _kernel(geo["kernel_shape"])
    ishape = geo.pop("input_shape")
    geo.pop("kernel_shape")
    if transposed:
        a = convmat.conv_transpose_matrix(w, ishape, **geo)
    else:
        a = convmat.conv_matrix(w, ishape, **geo)
    a = a.tocsr()
    art = anim.artists
    x_cells = [p.vertices for p in art["x-cells"].get_paths()]  # every entry of x, in order
    y_cells = [p.vertices[:, ::-1] for p in art["y-cells"].get_paths()]  # y runs downwards
    output = np.array(to_rgba(figures.COLORS["output"]))
    assert anim.n_frames == a.shape[0] == len(y_cells) and len(x_cells) == a.shape[1]
    for t in range(a.shape[0]):
        anim.show_frame(t)
        expected = sorted(_row_entries(a, t))
        drawn = _cell_index([p.vertices for p in art["row"].get_paths()], x_cells)
        assert sorted(drawn) == expected  # the outlined cells of A are row t's entries
        lit = _cell_index([p.vertices for p in art["x"].get_paths()], x_cells)
        assert sorted(lit) == expected  # and so are the highlighted entries of x
        done = _cell_index([p.vertices[:, ::-1] for p in art["y"].get_paths()], y_cells)
        assert done == list(range(t + 1))  # y[0..t] computed, y[t] current
        assert np.allclose(art["y"].get_facecolors()[-1], output)


def test_animation_values_come_from_the_matrix():
    x = np.arange(25).reshape(5, 5) % 4
    w = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]])
    anim = figures.animate_convolution((5, 5), (3, 3), x=x, weight=w)
    texts = [t.get_text() for t in anim._fig.axes[0].texts]
    y = (convmat.conv_matrix(w, (5, 5)) @ x.ravel()).tolist()
    assert all(str(v) in texts for v in y)
    assert texts.count("×2") == 4  # the kernel's four 2s


# -------------------------------------------------------------------- connectivity


def _edges(fig):
    ax = fig.axes[0]
    by_gid = {c.get_gid(): c for c in ax.collections if c.get_gid()}
    ins = np.round(by_gid["input-nodes"].get_offsets(), 6)
    outs = np.round(by_gid["output-nodes"].get_offsets(), 6)
    edges = set()
    for seg in by_gid["edges"].get_segments():
        a, b = np.round(seg, 6)
        ia = [k for k, p in enumerate(ins) if np.allclose(p, a)]
        ib = [k for k, p in enumerate(outs) if np.allclose(p, b)]
        if not ia:  # drawn from the other end
            ia = [k for k, p in enumerate(ins) if np.allclose(p, b)]
            ib = [k for k, p in enumerate(outs) if np.allclose(p, a)]
        assert len(ia) == 1 and len(ib) == 1
        edges.add((ib[0], ia[0]))
    return edges


def _pattern(a):
    coo = a.tocoo()
    return set(zip(coo.row.tolist(), coo.col.tolist()))


@pytest.mark.parametrize("kwargs", [
    dict(input_shape=(5,), kernel_shape=(3,), stride=2, padding=1),
    dict(input_shape=(5, 5), kernel_shape=(3, 3)),
    dict(input_shape=(6, 5), kernel_shape=(2, 3), stride=(2, 1), dilation=(1, 2), padding=1),
])
def test_connectivity_edges_are_the_sparsity_pattern(kwargs):
    geo = dict(kwargs)
    ishape, kshape = geo.pop("input_shape"), geo.pop("kernel_shape")
    a = convmat.conv_matrix(np.ones(kshape), ishape, **geo)
    assert _edges(figures.plot_connectivity(**kwargs)) == _pattern(a)


@pytest.mark.parametrize("kwargs", [
    dict(input_shape=(3,), kernel_shape=(3,), stride=2, padding=1, output_padding=1),
    dict(input_shape=(3, 3), kernel_shape=(2, 2), stride=2),
    dict(input_shape=(2,), kernel_shape=(2,), stride=1, dilation=3, output_padding=2),
])
def test_transposed_connectivity_is_the_transposed_pattern(kwargs):
    geo = dict(kwargs)
    ishape, kshape = geo.pop("input_shape"), geo.pop("kernel_shape")
    b = convmat.conv_transpose_matrix(np.ones(kshape), ishape, **geo)
    edges = _edges(figures.plot_connectivity(**kwargs, transposed=True))
    assert edges == _pattern(b)
    # the same edges as the forward convolution on the transposed output, reversed
    fwd = transposed_geometry(ishape, kshape, **geo)
    a = convmat.conv_matrix(np.ones(kshape), fwd.input_shape, stride=fwd.stride,
                            padding=fwd.padding, dilation=fwd.dilation)
    full = convolution_geometry(fwd.input_shape, kshape, stride=fwd.stride, padding=fwd.padding,
                                dilation=fwd.dilation).output_shape
    reversed_edges = set()
    for r, c in _pattern(a):  # keep the forward outputs inside the transposed input
        idx = np.unravel_index(r, full)
        if all(i < n for i, n in zip(idx, ishape)):
            reversed_edges.add((c, int(np.ravel_multi_index(idx, ishape))))
    assert edges == reversed_edges


def test_connectivity_into_given_axes():
    import matplotlib.figure

    fig = matplotlib.figure.Figure()
    ax = fig.add_subplot()
    assert figures.plot_connectivity((4,), (2,), ax=ax) is fig


# ------------------------------------------------------------------------ matrices


def _rules(fig):
    from matplotlib.collections import LineCollection

    segs = [s for c in fig.axes[0].collections if isinstance(c, LineCollection)
            for s in c.get_segments()]
    horizontal = sorted(round(s[0][1]) for s in segs if s[0][1] == s[1][1])
    vertical = sorted(round(s[0][0]) for s in segs if s[0][0] == s[1][0])
    return horizontal, vertical


def test_plot_matrix_block_rules_conv_and_transposed():
    g = convolution_geometry((5, 5), (3, 3))
    a = convmat.conv_matrix(_kernel((3, 3)), (5, 5))
    assert _rules(figures.plot_matrix(a, geometry=g)) == ([3, 6], [5, 10, 15, 20])
    assert _rules(figures.plot_matrix(a.T, geometry=g)) == ([5, 10, 15, 20], [3, 6])
    # conv_matrix's result carries its geometry; a plain csr_array of it has none
    assert _rules(figures.plot_matrix(a)) == ([3, 6], [5, 10, 15, 20])
    assert _rules(figures.plot_matrix(sp.csr_array(a))) == ([], [])


def test_plot_matrix_channels_padding_pooling():
    w = np.ones((2, 3, 2, 2))
    g = convolution_geometry((3, 3), w.shape)
    rows, cols = _rules(figures.plot_matrix(convmat.conv_matrix(w, (3, 3)), geometry=g))
    assert rows == [2, 4, 6] and cols == [3, 6, 9, 12, 15, 18, 21, 24]
    p = convmat.padding_matrix((3, 3), 1)
    rows, cols = _rules(figures.plot_matrix(p, geometry=convolution_geometry((3, 3), (2, 2),
                                                                             padding=1)))
    assert rows == [5, 10, 15, 20] and cols == [3, 6]
    from convmat.pooling import pool_geometry

    pg = pool_geometry((4, 4), 2, channels=2)
    pool = convmat.avg_pool_matrix((4, 4), 2, channels=2)
    rows, cols = _rules(figures.plot_matrix(pool, geometry=pg))
    assert rows == [2, 4, 6] and cols == [4, 8, 12, 16, 20, 24, 28]


def test_plot_matrix_symbolic_and_dense():
    s = convmat.symbolic.conv_matrix((2, 2), (3, 3))
    fig = figures.plot_matrix(s)  # the ConvMatrix carries its geometry
    assert _rules(fig) == ([2], [3, 6])
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert "$w_{0,0}$" in texts
    fig = figures.plot_matrix(np.eye(3), highlight_row=2)
    hl = [c for c in fig.axes[0].collections if c.get_gid() == "highlight"][0]
    assert len(hl.get_paths()) == 1


def test_plot_matrix_kong_lucey_bands():
    kl = convmat.kong_lucey(_kernel((3,)), (7,), stride=2)
    fig = figures.plot_matrix(kl)
    labels = [t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("$T")]
    assert labels == ["$T_{0}$", "$T_{1}$"]
    fig = figures.plot_matrix(kl.strided_matrix(), geometry=kl)
    with pytest.raises(ConvmatError, match="Kong & Lucey"):
        figures.plot_matrix(np.eye(3), geometry=kl)


def test_plot_matrix_large_is_spy_like():
    a = convmat.conv_matrix(np.ones((3, 3)), (200, 200), padding=1)
    fig = figures.plot_matrix(a)
    assert fig.axes[0].get_title().startswith("A: 40000 × 40000")


@pytest.mark.parametrize("call, message", [
    (lambda: figures.plot_matrix(np.eye(3), geometry=convolution_geometry((4,), (2,))),
     "geometry describes"),
    (lambda: figures.plot_matrix(np.eye(3), geometry="x"), "not a ConvGeometry"),
    (lambda: figures.plot_matrix(np.eye(3), highlight_row=3), "highlight_row=3"),
    (lambda: figures.plot_matrix(np.ones(3)), "2-D matrix"),
    (lambda: figures.plot_matrix(np.array([["a"]])), "dtype"),
    (lambda: figures.plot_kong_lucey(np.eye(2)), "not a Kong & Lucey"),
])
def test_plot_matrix_errors(call, message):
    with pytest.raises(ConvmatError, match=message):
        call()


def test_plot_kong_lucey_panels():
    kl = convmat.kong_lucey(_kernel((3, 3)), (7, 7), stride=2, padding=1)
    fig = figures.plot_kong_lucey(kl)
    assert len(fig.axes) == 3
    sym = convmat.symbolic.kong_lucey((3,), (6,), stride=2)
    assert len(figures.plot_kong_lucey(sym).axes) == 3


# ---------------------------------------------------------------------- save, errors


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF"),
                                           (".svg", b"<?xml")])
def test_save_figure_formats(suffix, magic, tmp_path):
    out = figures.save(figures.plot_connectivity((4,), (2,)), tmp_path / f"f{suffix}")
    assert out.read_bytes().startswith(magic)


def test_save_errors(tmp_path):
    fig = figures.plot_connectivity((4,), (2,))
    anim = figures.animate_convolution((4,), (2,))
    with pytest.raises(ConvmatError, match=".gif or .mp4"):
        figures.save(anim, tmp_path / "a.png")
    with pytest.raises(ConvmatError, match=".png, .pdf, .svg"):
        figures.save(fig, tmp_path / "a.gif")
    with pytest.raises(ConvmatError, match="does not exist"):
        figures.save(fig, tmp_path / "missing" / "a.png")
    with pytest.raises(ConvmatError, match="fps"):
        figures.save(anim, tmp_path / "a.gif", fps=0)
    with pytest.raises(ConvmatError, match="not a matplotlib"):
        figures.save("figure", tmp_path / "a.png")
    import matplotlib.animation

    if matplotlib.animation.FFMpegWriter.isAvailable():
        assert figures.save(anim, tmp_path / "a.mp4").stat().st_size > 0
    else:
        with pytest.raises(ConvmatError, match="ffmpeg"):
            figures.save(anim, tmp_path / "a.mp4")


@pytest.mark.parametrize("call, message", [
    (lambda: figures.animate_convolution((4,) * 4, (2,) * 4), "1-D, 2-D and 3-D"),
    (lambda: figures.animate_matrix((4,) * 4, (2,) * 4), "1-D, 2-D and 3-D"),
    (lambda: figures.animate_convolution((4, 4), (2, 2), weight=np.ones((2, 1, 2, 2)),
                                         x=np.ones((3, 4, 4))), r"x.shape=\(3, 4, 4\)"),
    (lambda: figures.animate_convolution((4, 4), (2, 2), weight=np.ones((3, 1, 2, 2)),
                                         groups=2), "groups=2 does not divide"),
    (lambda: figures.animate_convolution((4, 4), (2, 2), weight=np.ones((4, 1, 2, 2)),
                                         x=np.ones((3, 4, 4)), groups=2), r"must be \(2, 4, 4\)"),
    (lambda: figures.animate_matrix((4, 4), (2, 2), groups=2), "groups=2 needs weight"),
    (lambda: figures.animate_matrix((4, 4), (2, 2), groups=0), "groups=0"),
    (lambda: figures.animate_convolution((4, 4), (2, 2), weight=np.ones((3, 3))),
     "does not match"),
    (lambda: figures.animate_convolution((4, 4), (2, 2), x=np.ones((3, 3))), "x.shape"),
    (lambda: figures.animate_matrix((4,), (2,), x=["a"] * 4), "dtype"),
    (lambda: figures.animate_convolution((4,), (5,)), "larger than the padded input"),
])
def test_picture_errors(call, message):
    with pytest.raises(ConvmatError, match=message):
        call()


def test_channel_layout_weight_with_one_channel_is_accepted():
    anim = figures.animate_convolution((4, 4), (2, 2), weight=np.ones((1, 1, 2, 2)),
                                       x=np.ones(16))
    assert anim.n_frames == 9


def test_without_matplotlib_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ConvmatError, match=r'pip install "convmat\[plot\]"'):
        figures.animate_convolution((4,), (2,))
    # the data of the pictures needs no matplotlib
    assert len(figures.sliding_windows((4,), (2,))) == 3


def test_import_convmat_does_not_import_matplotlib():
    code = ("import sys, convmat; convmat.figures.sliding_windows((4,), (2,)); "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=str(__import__("pathlib").Path(__file__).parents[1]))
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("make, kwargs", [
    (figures.animate_convolution, dict(input_shape=(5, 5), kernel_shape=(3, 3),
                                       x=np.arange(25).reshape(5, 5) % 4,
                                       weight=np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]]))),
    (figures.animate_matrix, dict(input_shape=(3,), kernel_shape=(3,), stride=2, padding=1,
                                  transposed=True, output_padding=1, x=[1, 2, 3],
                                  weight=[1, 2, 3])),
])
def test_gif_frames_equal_full_redraws(make, kwargs, tmp_path):
    """The GIF writer draws only what changes over a cached background; every frame must
    look like drawing the whole figure at that frame."""
    anim = make(**kwargs)
    path = figures.save(anim, tmp_path / "a.gif")
    fig = anim._fig
    with Image.open(path) as im:
        for t in range(anim.n_frames):
            im.seek(t)
            gif = np.asarray(im.convert("RGB")).astype(int)
            anim.show_frame(t)
            fig.canvas.draw()
            full = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
            assert gif.shape == full.shape
            # palette rounding aside, the pixels agree
            assert (np.abs(gif - full).max(axis=-1) > 40).mean() < 1e-3


def test_single_output_position_is_a_single_frame(tmp_path):
    out = figures.save(figures.animate_matrix((3, 3), (3, 3)), tmp_path / "one.gif")
    assert _gif_frames(out) == 1


def test_plot_matrix_into_given_axes_and_numbers_fit():
    import matplotlib.figure

    fig = matplotlib.figure.Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    a = convmat.conv_matrix([0.125, -2.5, 1000.0], (5,))
    assert figures.plot_matrix(a, ax=ax) is fig
    sizes = {t.get_fontsize() for t in ax.texts}
    assert len(sizes) == 1  # one size for all the numbers of a matrix


# ------------------------------------------------- guards and crops (hardening, round 3)


@pytest.mark.parametrize("kwargs", [
    dict(input_shape=(5, 5), kernel_shape=(3, 3), padding=-1),
    dict(input_shape=(4,), kernel_shape=(2,), padding=[(-1, 0)]),
    dict(input_shape=(6,), kernel_shape=(2,), padding=[(1, -2)], stride=2),
    dict(input_shape=(5, 6), kernel_shape=(2, 3), padding=[(-1, 1), (0, -2)]),
    dict(input_shape=(5, 5), kernel_shape=(3, 3), padding=-1, transposed=True),
    dict(input_shape=(4,), kernel_shape=(3,), padding=[(-1, 2)], stride=2, transposed=True),
])
def test_connectivity_with_crops_is_the_sparsity_pattern(kwargs, tmp_path):
    """A crop (negative padding) leaves input entries no output reads: drawn, unconnected."""
    kw = dict(kwargs)
    ishape, kshape = kw.pop("input_shape"), kw.pop("kernel_shape")
    fig = figures.plot_connectivity(ishape, kshape, **kw)
    transposed = kw.pop("transposed", False)
    build = convmat.conv_transpose_matrix if transposed else convmat.conv_matrix
    a = build(np.ones(kshape), ishape, **kw)
    edges = _gid(fig, "edges")
    assert len(edges.get_segments()) == a.nnz
    figures.save(fig, tmp_path / "c.png")


def _gid(fig, gid):
    return next(c for ax in fig.axes for c in [*ax.collections, *ax.patches]
                if c.get_gid() == gid)


@pytest.mark.parametrize("call, message", [
    (lambda: figures.sliding_windows((10**9,), (3,)), "estimated before allocating"),
    (lambda: figures.sliding_windows((2**62,), (3,), dilation=2**61 - 1), "dilation"),
    (lambda: figures.sliding_windows((10,), (3,), dilation=10**12), "dilation"),
    (lambda: figures.animate_convolution((10**9,), (3,)), "estimated before allocating"),
    (lambda: figures.plot_connectivity((10**5, 10**5), (3, 3)), "estimated before allocat"),
    (lambda: figures.animate_matrix((10**6,), (3,), dilation=10**5), "cells"),
    (lambda: figures.animate_convolution((10**9,) * 4, (2,) * 4), "dimensions"),
    (lambda: figures.plot_connectivity((10**9,) * 4, (2,) * 4), "dimensions"),
])
def test_pictures_refuse_before_allocating(call, message):
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ConvmatError, match=message):
        call()
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 200_000


def test_windows_honour_the_memory_limit():
    with convmat.options.override(memory_limit=10_000):
        with pytest.raises(ConvmatError, match="memory limit"):
            figures.sliding_windows((100,), (3,))
    assert len(figures.sliding_windows((100,), (3,))) == 98


def test_save_and_ax_arguments_are_checked(tmp_path):
    fig = figures.plot_connectivity((4,), (2,))
    anim = figures.animate_convolution((4,), (2,))
    for obj in (fig, anim):
        with pytest.raises(ConvmatError, match="path=None"):
            figures.save(obj, None)
        with pytest.raises(ConvmatError, match=r"dpi=100000"):
            figures.save(obj, tmp_path / "a.png", dpi=1e5)
        with pytest.raises(ConvmatError, match="dpi='high'"):
            figures.save(obj, tmp_path / "a.png", dpi="high")
    with pytest.raises(ConvmatError, match="path=3"):
        figures.save(fig, 3)
    with pytest.raises(ConvmatError, match="ax='x'"):
        figures.plot_connectivity((4,), (2,), ax="x")
    with pytest.raises(ConvmatError, match="ax='x'"):
        figures.plot_matrix(convmat.conv_matrix([1, 2], (4,)), ax="x")
    assert figures.save(fig, str(tmp_path / "b.png"), dpi=50).stat().st_size > 0


def test_transposed_pictures_say_what_they_draw():
    """Implicit padding d(k-1)-p and output padding drawn and named apart; A^T named."""
    anim = figures.animate_convolution((3, 3), (3, 3), stride=2, output_padding=1,
                                       transposed=True)
    ax = anim.figure.axes[0]
    kinds = {c.get_gid(): len(c.get_paths()) for c in ax.collections
             if (c.get_gid() or "").startswith("grid-")}
    # stretched input 5x5, implicit padding 2 before, 2 + 1 after: 10x10 drawn cells
    assert kinds["grid-output-padding"] == 10 + 10 - 1  # the last row and column
    assert kinds["grid-implicit"] == 10 * 10 - 25 - 19
    assert "grid-padding" not in kinds
    title = anim.figure.texts[0].get_text()
    assert "padding 0" in title and "implicit padding d(k−1)−p = 2" in title
    legend = [t.get_text() for t in anim.figure.legends[0].get_texts()]
    assert legend[:2] == ["implicit padding", "output padding"]
    matrix = figures.animate_matrix((3,), (3,), stride=2, transposed=True)
    assert any("A^{\\top}" in t.get_text() for t in matrix.figure.axes[1].texts)


@pytest.mark.parametrize("kshape, ishape, stride, padding", [
    ((3,), (7,), 2, 0), ((3, 3), (7, 7), 2, 1), ((2, 3), (5, 6), (2, 3), 0)])
def test_kong_lucey_figure_draws_the_phases(kshape, ishape, stride, padding):
    """The numbered input and its phase inputs: x_r holds the padded entries whose position
    is r modulo the stride (the test's own residue rule), in C order."""
    kl = convmat.kong_lucey(_kernel(kshape), ishape, stride=stride, padding=padding)
    fig = figures.plot_kong_lucey(kl)
    numbers = [int(t.get_text()) for t in fig.axes[0].texts if t.get_text().isdigit()]
    padded = kl.padded_shape
    n = int(np.prod(padded))
    assert numbers[:n] == list(range(n))  # the input, numbered in C order
    s = np.broadcast_to(stride, (len(padded),))
    coords = np.indices(padded).reshape(len(padded), -1).T
    expected = []
    for residue in np.ndindex(*s):
        expected += [k for k in range(n) if tuple(coords[k] % s) == residue]
    assert numbers[n:] == expected
    caption = fig.axes[2].get_xlabel()
    phases = int(np.prod(s))
    if phases == 2:
        assert "T_{0} \\mid T_{1}\\," in caption and "cdots" not in caption
    assert f"T_{{{phases - 1}}}" in caption


@pytest.mark.parametrize("call", [
    lambda **kw: figures.animate_convolution((4,), (2,), **kw),
    lambda **kw: figures.animate_matrix((4, 4), (2, 2), **kw),
    lambda **kw: figures.plot_connectivity((4,), (2,), **kw),
    lambda **kw: figures.animate_superposition((3,), (2,), stride=2, **kw),
    lambda **kw: figures.plot_overlap((3, 3), (2, 2), stride=2, **kw),
    lambda **kw: figures.plot_kong_lucey(convmat.kong_lucey([1, 2, 3], (7,), stride=2), **kw),
    lambda **kw: figures.plot_matrix(convmat.conv_matrix([1, 2], (4,)), **kw),
])
def test_every_picture_takes_figsize_and_fontsize_and_has_a_figure(call):
    obj = call(figsize=(6.5, 4.0), fontsize=9)
    assert tuple(obj.figure.get_size_inches()) == (6.5, 4.0)
    with pytest.raises(ConvmatError, match="figsize="):
        call(figsize="big")
    with pytest.raises(ConvmatError, match="fontsize="):
        call(fontsize=-1)


@pytest.mark.parametrize("kw", [dict(input_shape=(7, 7), stride=2, padding=1),
                                dict(input_shape=(6, 6), padding=1, transposed=True,
                                     highlight=8),
                                dict(input_shape=(5, 5), stride=2, padding=1,
                                     side_by_side=True, highlight=4),
                                dict(input_shape=(9,), kernel_shape=(3,), stride=2,
                                     padding=1)])
def test_plot_connectivity_tap_labels_apart_and_on_their_edges(kw):
    """Every tap label of the highlighted fan sits on one of the fan's edges, and no two
    labels' boxes overlap (a converging fan's labels used to pile up)."""
    kw = {"kernel_shape": (3, 3), **kw}
    fig = figures.plot_connectivity(kw.pop("input_shape"), kw.pop("kernel_shape"), **kw)
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        labels = [t for t in ax.texts if t.get_text().startswith("$w_{")]
        fan = [c for c in ax.collections if c.get_gid() in ("fan", "edges")]
        assert labels and fan
        segs = np.concatenate([np.asarray(c.get_segments()) for c in fan])
        for t in labels:
            p = np.asarray(t.get_position(), dtype=float)
            a, b = segs[:, 0], segs[:, 1]
            u = np.clip(np.einsum("ij,ij->i", p - a, b - a)
                        / np.einsum("ij,ij->i", b - a, b - a), 0, 1)
            dist = np.linalg.norm(a + u[:, None] * (b - a) - p, axis=1)
            assert dist.min() < 1e-9
        boxes = [t.get_window_extent(renderer) for t in labels]
        for i in range(len(boxes)):
            for j in range(i):
                p, q = boxes[i], boxes[j]
                w = min(p.x1, q.x1) - max(p.x0, q.x0)
                h = min(p.y1, q.y1) - max(p.y0, q.y0)
                assert w <= 0 or h <= 0, (labels[i].get_text(), labels[j].get_text())
