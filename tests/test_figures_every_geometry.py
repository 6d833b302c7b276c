"""Every valid geometry conv_matrix accepts (crops, dilation, every padding mode, output
padding, channels, groups, 1-D/2-D/3-D) drawn by every picture function and saved: valid
input never crashes, and every picture's frame count is the matrix's row count."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convmat
from convmat import figures
from convmat.errors import ConvmatError
from convmat.geometry import convolution_geometry

from .strategies import MODES, geometries

FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _save(obj, tmp_path, name):
    anim = getattr(obj, "n_frames", None)
    if anim is not None and anim <= 12:
        assert figures.save(obj, tmp_path / f"{name}.gif", fps=50).stat().st_size > 0
    fig = obj.figure if anim is not None else obj
    assert figures.save(fig, tmp_path / f"{name}.png", dpi=30).stat().st_size > 0
    fig.clf()


@FAST
@given(g=geometries(ndims=(1, 2, 3), modes=MODES, channels=True, crop=True, max_input=4,
                    max_kernel=3, max_stride=2, max_dilation=2, max_pad=2),
       data=st.data())
def test_every_geometry_through_every_picture(g, data, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("pictures")
    w = np.arange(1, 1 + g.c_out * (g.c_in // g.groups) * int(np.prod(g.kernel))).reshape(
        g.c_out, g.c_in // g.groups, *g.kernel)
    kw = dict(stride=g.stride, padding=g.padding, dilation=g.dilation, groups=g.groups)
    a = convmat.conv_matrix(w, g.input_shape, padding_mode=g.mode, flip=g.flip, **kw)
    # plot_matrix draws any padding mode
    geom = convolution_geometry(g.input_shape, w.shape, padding_mode=g.mode, **kw)
    _save(figures.plot_matrix(a, geometry=geom), tmp_path, "matrix")
    x = np.arange(g.c_in * int(np.prod(g.input_shape))).reshape(g.c_in, *g.input_shape) % 5
    for make in (figures.animate_convolution, figures.animate_matrix):
        anim = make(g.input_shape, g.kernel, weight=w, x=x, padding_mode=g.mode, **kw)
        assert anim.n_frames == a.shape[0]
        anim.show_frame(anim.n_frames - 1)
        _save(anim, tmp_path, make.__name__)
    if g.ndim <= 2:
        fig = figures.plot_connectivity(g.input_shape, g.kernel, weight=w, **kw,
                                        padding_mode=g.mode, side_by_side=g.mode == "zeros"
                                        and data.draw(st.booleans()))
        _save(fig, tmp_path, "connectivity")
    if g.mode != "zeros":  # the transposed pictures draw zero padding (they refuse others)
        return
    # the transposed convolution of the same geometry, with an output padding
    s = np.broadcast_to(g.stride, (g.ndim,))
    d = np.broadcast_to(g.dilation, (g.ndim,))
    op = tuple(data.draw(st.integers(0, max(a_, b_) - 1)) for a_, b_ in zip(s, d))
    wt = np.ones((g.c_in, g.c_out // g.groups, *g.kernel))
    tkw = dict(kw, output_padding=op)
    try:
        at = convmat.conv_transpose_matrix(wt, g.input_shape, **tkw)
    except ConvmatError:
        assume(False)
    anim = figures.animate_matrix(g.input_shape, g.kernel, weight=wt, transposed=True, **tkw)
    assert anim.n_frames == at.shape[0]
    _save(anim, tmp_path, "transposed")
    tkw.pop("groups")
    counts = figures.overlap_counts(g.input_shape, g.kernel, **tkw)
    ones = convmat.conv_transpose_matrix(np.ones(g.kernel), g.input_shape, **tkw)
    np.testing.assert_array_equal(counts.ravel(), np.diff(ones.tocsr().indptr))
    if g.ndim <= 2:
        _save(figures.plot_connectivity(g.input_shape, g.kernel, transposed=True, **tkw),
              tmp_path, "connectivity-t")
        sup = figures.animate_superposition(g.input_shape, g.kernel, weight=wt,
                                            groups=g.groups, **tkw)
        assert sup.n_frames == at.shape[1]  # one frame per input entry (a column of Aᵀ)
        _save(sup, tmp_path, "sup")
        _save(figures.plot_overlap(g.input_shape, g.kernel, **tkw), tmp_path, "overlap")
    if any(v > 1 for v in s):
        try:
            kl = convmat.kong_lucey(w, g.input_shape, **kw)
        except ConvmatError:
            return
        _save(figures.plot_kong_lucey(kl), tmp_path, "kong-lucey")
