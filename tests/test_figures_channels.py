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
    x_cells = [p.vertices for p in art["x-cells"].get_paths()]
    assert len(x_cells) == a.shape[1]
    n_in = int(np.prod(g.input_shape))
    for t in range(0, a.shape[0], max(1, a.shape[0] // 5)):
        anim.show_frame(t)
        cols = a.indices[a.indptr[t]:a.indptr[t + 1]].tolist()
        drawn = _cell_index([p.vertices for p in art["row"].get_paths()], x_cells)
        assert sorted(drawn) == sorted(cols)
        lit = _cell_index([p.vertices for p in art["x"].get_paths()], x_cells)
        assert sorted(lit) == sorted(cols)
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
    import torch

    rng = np.random.default_rng(1)
    w = rng.integers(-2, 3, (c_out, c_in // groups, *kshape)).astype(float)
    x = rng.integers(-2, 3, (c_in, *ishape)).astype(float)
    anim = figures.animate_convolution(ishape, kshape, weight=w, x=x, groups=groups,
                                       padding=0)
    conv = {1: torch.nn.functional.conv1d, 2: torch.nn.functional.conv2d,
            3: torch.nn.functional.conv3d}[len(ishape)]
    expected = conv(torch.tensor(x)[None], torch.tensor(w), groups=groups)[0]
    np.testing.assert_allclose(anim.values, expected.numpy().ravel())
    assert anim.n_frames == expected.numel()
    for t in range(anim.n_frames):  # every frame draws
        anim.show_frame(t)
    assert figures.save(anim, tmp_path / "a.gif").stat().st_size > 0
    m = figures.animate_matrix(ishape, kshape, weight=w, x=x, groups=groups)
    np.testing.assert_allclose(m.values, expected.numpy().ravel())
    assert figures.save(m, tmp_path / "m.gif").stat().st_size > 0


def test_transposed_with_channels_and_groups():
    import torch

    w = np.arange(1, 1 + 4 * 1 * 9).reshape(4, 1, 3, 3).astype(float)  # (C_in, C_out/g, k)
    x = np.arange(4 * 9).reshape(4, 3, 3).astype(float)
    anim = figures.animate_matrix((3, 3), (3, 3), weight=w, x=x, groups=2, stride=2,
                                  transposed=True)
    expected = torch.nn.functional.conv_transpose2d(torch.tensor(x)[None], torch.tensor(w),
                                                    stride=2, groups=2)[0]
    np.testing.assert_allclose(anim.values, expected.numpy().ravel())
    assert anim.n_frames == expected.numel()
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
