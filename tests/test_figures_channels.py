"""Channels, groups and 3-D in the sliding pictures (A1, A2): one frame per row of the full
matrix, the highlighted row and entries of x are that row's stored entries, the footprint
covers the input channels of the output channel's group, the values are PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings

import convmat
from convmat import figures
from convmat.errors import ConvmatError

from .conftest import torch
from .strategies import geometries


def _cell_index(verts, origin_verts):
    xs = np.round(np.asarray(origin_verts)[:, 0, 0], 6)
    return [int(np.flatnonzero(xs == round(v[0, 0], 6))[0]) for v in verts]


def _close(anim):
    anim.figure.clf()


@settings(max_examples=20, deadline=None)
@given(geometries(ndims=(1, 2, 3), modes=("zeros",), channels=True, max_input=4,
                  max_kernel=2, max_stride=2, max_dilation=2, max_pad=1))
def test_matrix_animation_rows_of_the_full_matrix(g):
    assume(not g.flip)
    rng = np.random.default_rng(0)
    w = rng.integers(1, 5, (g.c_out, g.c_in // g.groups, *g.kernel))
    kw = dict(stride=g.stride, padding=g.padding, dilation=g.dilation, groups=g.groups)
    a = convmat.conv_matrix(w, g.input_shape, **kw).tocsr()
    anim = figures.animate_matrix(g.input_shape, g.kernel, weight=w, **kw)
    assert anim.n_frames == a.shape[0] == g.c_out * int(np.prod(
        convmat.conv_output_shape(g.input_shape, g.kernel, stride=g.stride,
                                  padding=g.padding, dilation=g.dilation)))
    art = anim.artists
    n_in = int(np.prod(g.input_shape))
    for t in range(0, a.shape[0], max(1, a.shape[0] // 5)):
        anim.show_frame(t)
        # the columns drawn in this frame (None: a ⋯ column between elided blocks)
        shown = anim.matrix_window.cols[t]
        kept = [c for c in shown if c is not None]
        x_cells = [p.vertices for p in art["x-cells"].get_paths()]
        assert len(x_cells) == len(kept) and kept == sorted(kept)
        x0 = x_cells[0][0, 0] - shown.index(kept[0])
        cols = a.indices[a.indptr[t]:a.indptr[t + 1]].tolist()
        visible = [c for c in cols if c in set(kept)]
        drawn = [shown[int(round(v[0, 0] - x0))] for v in
                 (p.vertices for p in art["row"].get_paths())]
        assert sorted(c for c in drawn if c is not None) == sorted(visible)
        assert (None in drawn) == (len(visible) < len(cols))  # a ⋯ marks what is hidden
        lit = [kept[k] for k in _cell_index([p.vertices for p in art["x"].get_paths()],
                                            x_cells)]
        assert sorted(lit) == sorted(visible)
        # the footprint's channels and positions read exactly these columns
        o, chans, pos = anim.window(t)
        assert o == t // (a.shape[0] // g.c_out)
        inside = np.all((pos >= 0) & (pos < np.array(g.input_shape)), axis=1)
        flat = np.ravel_multi_index(tuple(pos[inside].T), g.input_shape)
        read = sorted(c * n_in + p for c in chans for p in flat.tolist())
        assert set(cols) <= set(read)  # a stored column is under the kernel
        assert {c for c in chans} >= {col // n_in for col in cols}
        assert len(art["kernel"].get_paths()) == len(chans) * int(np.prod(g.kernel))
    _close(anim)


@pytest.mark.parametrize("ishape, kshape, c_in, c_out, groups", [
    ((5, 5), (3, 3), 2, 3, 1),
    ((4, 4), (3, 3), 4, 4, 4),  # depthwise
    ((6,), (3,), 4, 2, 2),
    ((4, 4, 3), (2, 2, 2), 2, 2, 2),
])
def test_convolution_values_with_channels_are_torchs(ishape, kshape, c_in, c_out, groups,
                                                     tmp_path):
    """The frames' values against the engine's matrix and, when installed, PyTorch."""
    rng = np.random.default_rng(1)
    w = rng.integers(-2, 3, (c_out, c_in // groups, *kshape)).astype(float)
    x = rng.integers(-2, 3, (c_in, *ishape)).astype(float)
    anim = figures.animate_convolution(ishape, kshape, weight=w, x=x, groups=groups,
                                       padding=0)
    expected = convmat.conv_matrix(w, ishape, groups=groups) @ x.ravel()
    if torch is not None:
        conv = {1: torch.nn.functional.conv1d, 2: torch.nn.functional.conv2d,
                3: torch.nn.functional.conv3d}[len(ishape)]
        theirs = conv(torch.tensor(x)[None], torch.tensor(w), groups=groups)[0]
        np.testing.assert_allclose(theirs.numpy().ravel(), expected)
    np.testing.assert_allclose(anim.values, expected)
    assert anim.n_frames == expected.size
    for t in range(anim.n_frames):  # every frame draws
        anim.show_frame(t)
    assert figures.save(anim, tmp_path / "a.gif").stat().st_size > 0
    m = figures.animate_matrix(ishape, kshape, weight=w, x=x, groups=groups)
    np.testing.assert_allclose(m.values, expected)
    assert figures.save(m, tmp_path / "m.gif").stat().st_size > 0


def test_transposed_with_channels_and_groups():
    w = np.arange(1, 1 + 4 * 1 * 9).reshape(4, 1, 3, 3).astype(float)  # (C_in, C_out/g, k)
    x = np.arange(4 * 9).reshape(4, 3, 3).astype(float)
    anim = figures.animate_matrix((3, 3), (3, 3), weight=w, x=x, groups=2, stride=2,
                                  transposed=True)
    expected = convmat.conv_transpose_matrix(w, (3, 3), stride=2, groups=2) @ x.ravel()
    if torch is not None:
        theirs = torch.nn.functional.conv_transpose2d(torch.tensor(x)[None], torch.tensor(w),
                                                      stride=2, groups=2)[0]
        np.testing.assert_allclose(theirs.numpy().ravel(), expected)
    np.testing.assert_allclose(anim.values, expected)
    assert anim.n_frames == expected.size
    title = anim.figure.texts[0].get_text()
    assert "channels 4→2" in title and "groups 2" in title
    assert "implicit padding d(k−1)−p = 2" in title


def test_three_d_one_frame_per_output_entry(tmp_path):
    anim = figures.animate_convolution((4, 4, 4), (3, 3, 3))
    assert anim.n_frames == 8
    a = convmat.conv_matrix(np.ones((3, 3, 3)), (4, 4, 4)).tocsr()
    for t in range(8):
        _, _, pos = anim.window(t)
        flat = np.ravel_multi_index(tuple(pos.T), (4, 4, 4))
        assert sorted(flat.tolist()) == a.indices[a.indptr[t]:a.indptr[t + 1]].tolist()
    figures.save(anim, tmp_path / "a.gif")


def test_channel_errors():
    with pytest.raises(ConvmatError, match="does not match kernel_shape"):
        figures.animate_matrix((4, 4), (3, 3), weight=np.ones((2, 2, 2, 2)))
    with pytest.raises(ConvmatError, match="cells"):
        figures.animate_convolution((150, 150), (3, 3), weight=np.ones((1, 4, 3, 3)))


# ------------------------------------------------------------ connectivity (A3)


def _by_gid(ax, gid):
    return next(c for c in ax.collections if c.get_gid() == gid)


def _fan_edges(ax):
    """(output node index, input node index) of the highlighted fan's edges."""
    ins = np.round(_by_gid(ax, "input-nodes").get_offsets(), 6)
    outs = np.round(_by_gid(ax, "output-nodes").get_offsets(), 6)
    found = set()
    for seg in _by_gid(ax, "fan").get_segments():
        ends = np.round(seg, 6)
        i = [k for k, p in enumerate(ins) for e in ends if np.allclose(p, e)]
        o = [k for k, p in enumerate(outs) for e in ends if np.allclose(p, e)]
        assert len(i) == 1 and len(o) == 1
        found.add((o[0], i[0]))
    return found


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("ishape, kshape, kw", [
    ((7,), (3,), dict(stride=2, padding=1)),
    ((5, 5), (3, 3), dict()),
    ((4, 5), (2, 3), dict(stride=(2, 1), dilation=(1, 2), padding=[(1, 0), (-1, 2)])),
])
def test_highlight_draws_one_outputs_fan(ishape, kshape, kw, transposed):
    """The fan of output t is row t of the drawn convolution's matrix."""
    build = convmat.conv_transpose_matrix if transposed else convmat.conv_matrix
    a = build(np.ones(kshape), ishape, **kw).tocsr()
    for t in {0, a.shape[0] // 2, a.shape[0] - 1}:
        fig = figures.plot_connectivity(ishape, kshape, transposed=transposed, highlight=t,
                                        **kw)
        expected = {(t, int(c)) for c in a.indices[a.indptr[t]:a.indptr[t + 1]]}
        assert _fan_edges(fig.axes[0]) == expected
        fig.clf()


def test_two_d_default_is_one_fan_and_all_colours_every_edge():
    fig = figures.plot_connectivity((5, 5), (3, 3))
    assert len(_by_gid(fig.axes[0], "fan").get_segments()) == 9
    every = figures.plot_connectivity((5, 5), (3, 3), highlight="all")
    assert not [c for c in every.axes[0].collections if c.get_gid() == "fan"]
    assert len(_by_gid(every.axes[0], "edges").get_segments()) == 81


def test_side_by_side_shares_the_node_positions():
    fig = figures.plot_connectivity((7,), (3,), stride=2, padding=1, side_by_side=True,
                                    highlight=1)
    conv, trans = fig.axes[:2]
    x_in = _by_gid(conv, "input-nodes").get_offsets()[:, 0]
    x_out_t = _by_gid(trans, "output-nodes").get_offsets()[:, 0]  # the transpose's output
    np.testing.assert_allclose(x_in, x_out_t)
    # the same edges in both panels: gathered into output 1, scattered from it
    assert {s.tobytes() for s in map(np.sort, map(lambda v: v[:, 0], _by_gid(
        conv, "fan").get_segments()))} == {s.tobytes() for s in map(np.sort, map(
            lambda v: v[:, 0], _by_gid(trans, "fan").get_segments()))}


@pytest.mark.parametrize("c_in, c_out, groups, transposed", [
    (2, 3, 1, False), (4, 4, 4, False), (4, 2, 2, False), (6, 4, 2, True)])
def test_channel_edges_are_the_non_empty_blocks(c_in, c_out, groups, transposed):
    rng = np.random.default_rng(0)
    if transposed:
        w = rng.standard_normal((c_in, c_out // groups, 3, 3))
        a = convmat.conv_transpose_matrix(w, (4, 4), groups=groups)
    else:
        w = rng.standard_normal((c_out, c_in // groups, 3, 3))
        a = convmat.conv_matrix(w, (4, 4), groups=groups)
    dense = a.toarray().reshape(c_out, a.shape[0] // c_out, c_in, a.shape[1] // c_in)
    blocks = {(c, o) for o in range(c_out) for c in range(c_in) if dense[o, :, c].any()}
    fig = figures.plot_connectivity((4, 4), (3, 3), weight=w, groups=groups,
                                    transposed=transposed)
    segs = _by_gid(fig.axes[-1], "channel-edges").get_segments()
    xs_in = np.linspace(0, 1, c_in) if c_in > 1 else np.array([0.5])
    xs_out = np.linspace(0, 1, c_out) if c_out > 1 else np.array([0.5])
    drawn = {(int(np.argmin(abs(xs_in - s[0, 0]))), int(np.argmin(abs(xs_out - s[1, 0]))))
             for s in segs}
    assert drawn == blocks
    title = fig.texts[0].get_text()
    assert f"groups {groups}" in title or groups == 1


@pytest.mark.parametrize("kwargs, message", [
    (dict(highlight=9), "highlight=9"),
    (dict(highlight="some"), "highlight='some'"),
    (dict(groups=2), "groups=2 needs weight"),
    (dict(weight=np.ones((2, 2, 2, 2))), "does not match"),
    (dict(weight=np.ones((3, 1, 3, 3)), groups=2), "groups=2"),
])
def test_connectivity_errors(kwargs, message):
    with pytest.raises(ConvmatError, match=message):
        figures.plot_connectivity((5, 5), (3, 3), **kwargs)


@pytest.mark.parametrize("transposed", [False, True])
def test_planes_have_their_nodes_colour(transposed):
    """One colour rule: each plane of the 2-D graph has the colour of the nodes on it (the
    transposed graph once drew green nodes on the blue plane)."""
    from matplotlib.colors import to_rgba

    fig = figures.plot_connectivity((4, 4), (3, 3), stride=2, transposed=transposed)
    ax = fig.axes[0]
    for plane_gid, node_gid in (("plane-0", "output-nodes" if transposed else "input-nodes"),
                                ("plane-1", "input-nodes" if transposed else "output-nodes")):
        plane = _by_gid(ax, plane_gid).get_facecolors()[0][:3]
        nodes = _by_gid(ax, node_gid).get_facecolors()[0][:3]
        np.testing.assert_allclose(plane, nodes)
    blue = np.array(to_rgba(figures.COLORS["input"]))[:3]
    drawn_input = _by_gid(ax, "input-nodes").get_facecolors()[0][:3]
    np.testing.assert_allclose(drawn_input, blue)  # the drawn convolution's input is blue
