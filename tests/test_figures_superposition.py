"""Transposed convolution by superposition: overlap counts against the stored entries per
row of conv_transpose_matrix, running sums against the matrix and PyTorch, stamps against
the matrix's columns."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import convmat
from convmat import figures
from convmat.errors import ConvmatError

from .conftest import torch


@st.composite
def transposed_cases(draw, ndims=(1, 2, 3), max_input=4):
    n = draw(st.sampled_from(ndims))
    ishape = tuple(draw(st.integers(1, max_input)) for _ in range(n))
    kshape = tuple(draw(st.integers(1, 4)) for _ in range(n))
    s = tuple(draw(st.integers(1, 3)) for _ in range(n))
    d = tuple(draw(st.integers(1, 3)) for _ in range(n))
    pads = tuple((draw(st.integers(-1, 3)), draw(st.integers(-1, 3))) for _ in range(n))
    op = tuple(draw(st.integers(0, max(a, b) - 1)) for a, b in zip(s, d))
    kw = dict(stride=s, padding=pads, dilation=d, output_padding=op)
    try:
        convmat.conv_transpose_output_shape(ishape, kshape, **kw)
        a = convmat.conv_transpose_matrix(np.ones(kshape), ishape, **kw)
    except ConvmatError:
        assume(False)
    return ishape, kshape, kw, a


@settings(max_examples=60, deadline=None)
@given(transposed_cases())
def test_overlap_counts_are_stored_entries_per_row(case):
    ishape, kshape, kw, a = case
    counts = figures.overlap_counts(ishape, kshape, **kw)
    assert counts.dtype.kind == "i"
    assert counts.shape == convmat.conv_transpose_output_shape(ishape, kshape, **kw)
    np.testing.assert_array_equal(counts.ravel(), np.diff(a.tocsr().indptr))


@settings(max_examples=25, deadline=None)
@given(transposed_cases(ndims=(1, 2), max_input=3), st.integers(0, 2**31))
def test_running_sum_ends_at_the_transposed_convolution(case, seed):
    ishape, kshape, kw, _ = case
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, ishape).astype(float)
    w = rng.integers(-3, 4, kshape).astype(float)
    anim = figures.animate_superposition(ishape, kshape, x=x, weight=w, **kw)
    a = convmat.conv_transpose_matrix(w, ishape, **kw)
    assert anim.n_frames == x.size
    np.testing.assert_allclose(anim.sums[-1].ravel(), a @ x.ravel())
    # PyTorch (when installed) takes symmetric, non-negative padding only
    if torch is not None and all(b == a >= 0 for b, a in kw["padding"]):
        conv_t = (torch.nn.functional.conv_transpose1d if len(ishape) == 1
                  else torch.nn.functional.conv_transpose2d)
        expected = conv_t(torch.tensor(x)[None, None], torch.tensor(w)[None, None],
                          stride=kw["stride"], padding=tuple(b for b, _ in kw["padding"]),
                          output_padding=kw["output_padding"], dilation=kw["dilation"])
        np.testing.assert_allclose(anim.sums[-1], expected[0, 0].numpy())
    # frame t adds column t of the matrix, scaled by x[t]; its stamp covers that column
    csc = a.tocsc()
    for t in range(anim.n_frames):
        before = anim.sums[t - 1].ravel() if t else 0
        col = slice(csc.indptr[t], csc.indptr[t + 1])
        step = np.zeros(a.shape[0])
        step[csc.indices[col]] = csc.data[col] * x.ravel()[t]
        np.testing.assert_allclose(anim.sums[t].ravel() - before, step)
        pos = anim.stamps[t]
        inside = np.all((pos >= 0) & (pos < np.array(anim.sums.shape[1:])), axis=1)
        rows = np.ravel_multi_index(tuple(pos[inside].T), anim.sums.shape[1:])
        assert sorted(rows.tolist()) == sorted(csc.indices[col].tolist())
    plt_close(anim)


def plt_close(obj):
    fig = getattr(obj, "_fig", obj)
    fig.clf()


def test_default_ones_count_the_overlaps_checkerboard(tmp_path):
    """Stride 2: kernel 3 alternates (the checkerboard), kernel 4 covers evenly."""
    k3 = figures.overlap_counts((4, 4), (3, 3), stride=2)
    k4 = figures.overlap_counts((4, 4), (4, 4), stride=2, padding=1)
    assert set(np.unique(k3[1:-1, 1:-1])) == {1, 2, 4}
    assert np.all(k4[1:-1, 1:-1] == 4) and set(np.unique(k4)) == {1, 2, 4}  # edges: fewer
    anim = figures.animate_superposition((4, 4), (3, 3), stride=2)
    np.testing.assert_array_equal(anim.sums[-1], k3)
    assert figures.save(anim, tmp_path / "s.gif").stat().st_size > 0
    fig = figures.plot_overlap((4, 4), (3, 3), stride=2)
    cells = next(c for c in fig.axes[0].collections if c.get_gid() == "counts")
    assert len(cells.get_paths()) == k3.size
    texts = [int(t.get_text()) for t in fig.axes[0].texts]
    assert texts == k3.ravel().tolist()
    figures.save(fig, tmp_path / "o.png")


@pytest.mark.parametrize("kwargs", [
    dict(input_shape=(3,), kernel_shape=(3,), stride=2, padding=1, output_padding=1),
    dict(input_shape=(3,), kernel_shape=(2,), stride=1, padding=[(-1, 2)]),
    dict(input_shape=(2, 3), kernel_shape=(3, 2), stride=(2, 3), dilation=(2, 1),
         padding=[(1, 0), (0, 2)], output_padding=(1, 2)),
])
def test_superposition_draws_crops_and_output_padding(kwargs, tmp_path):
    anim = figures.animate_superposition(**kwargs)
    for t in range(anim.n_frames):
        anim.show_frame(t)
    figures.save(anim, tmp_path / "s.gif")
    figures.save(figures.plot_overlap(**kwargs), tmp_path / "o.png")


@pytest.mark.parametrize("call, message", [
    (lambda: figures.overlap_counts((3,), (3,), stride=0), "stride"),
    (lambda: figures.overlap_counts((3,), (3, 3)), "dimensions"),
    (lambda: figures.overlap_counts((3,), (3,), stride=2, output_padding=2), "output_padding"),
    (lambda: figures.overlap_counts((10**5,) * 3, (3,) * 3), "memory limit"),
    (lambda: figures.overlap_counts((10**7,) * 3, (3,) * 3), r"2\*\*62"),
    (lambda: figures.animate_superposition((3, 3, 3), (2, 2, 2)), "1-D and 2-D"),
    (lambda: figures.animate_superposition((300, 300), (3, 3)), "smaller geometry"),
    (lambda: figures.animate_superposition((3,), (2,), weight=[1, 2, 3]), "weight.shape"),
    (lambda: figures.animate_superposition((3,), (2,), x=[1, 2]), "x.shape"),
    (lambda: figures.plot_overlap((3,), (2,), ax=1), "ax=1"),
])
def test_superposition_errors(call, message):
    with pytest.raises(ConvmatError, match=message):
        call()


@pytest.mark.parametrize("ishape, c_in, c_out, groups", [
    ((3,), 2, 3, 1), ((2, 3), 2, 4, 2), ((3, 2), 3, 3, 3)])
def test_superposition_with_channels_is_torchs(ishape, c_in, c_out, groups, tmp_path):
    """Input entry x[c, m] stamps x[c, m] w[c, o] into the output channels of its group
    (against the transposed matrix and, when installed, PyTorch)."""
    rng = np.random.default_rng(2)
    kshape = (3,) * len(ishape)
    w = rng.integers(-2, 3, (c_in, c_out // groups, *kshape)).astype(float)
    x = rng.integers(-2, 3, (c_in, *ishape)).astype(float)
    anim = figures.animate_superposition(ishape, kshape, stride=2, padding=1, x=x, weight=w,
                                         groups=groups)
    a = convmat.conv_transpose_matrix(w, ishape, stride=2, padding=1, groups=groups).tocsc()
    expected = (a @ x.ravel()).reshape(anim.sums[-1].shape)
    if torch is not None:
        conv_t = (torch.nn.functional.conv_transpose1d if len(ishape) == 1
                  else torch.nn.functional.conv_transpose2d)
        theirs = conv_t(torch.tensor(x)[None], torch.tensor(w), stride=2, padding=1,
                        groups=groups)[0].numpy()
        np.testing.assert_allclose(theirs, expected)
    assert anim.n_frames == x.size
    np.testing.assert_allclose(anim.sums[-1], expected)
    for t in range(anim.n_frames):  # frame t adds column t, scaled by x[t]
        before = anim.sums[t - 1].ravel() if t else 0
        step = np.zeros(a.shape[0])
        col = slice(a.indptr[t], a.indptr[t + 1])
        step[a.indices[col]] = a.data[col] * x.ravel()[t]
        np.testing.assert_allclose(anim.sums[t].ravel() - before, step)
        anim.show_frame(t)
    figures.save(anim, tmp_path / "s.gif")
    with pytest.raises(ConvmatError, match="groups=2 does not divide"):
        figures.animate_superposition(ishape, kshape, weight=np.ones((3, 1, *kshape)),
                                      groups=2)


def test_a_huge_superposition_is_refused_before_any_array():
    """An input of 10^10 entries is refused by the legibility guard, not a MemoryError
    (the running sums are one output per input entry)."""
    import tracemalloc

    tracemalloc.start()
    with pytest.raises(convmat.ConvmatError, match="animate_superposition.*legible"):
        figures.animate_superposition((10**5, 10**5), (3, 3), stride=2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 10 << 20
