"""Hostile values for every picture function and option (issue: every entry point guarded):
each call with some arguments replaced by huge integers, wrong types or junk is a
ConvmatError or a picture, never another exception and never past the memory guard."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convmat
from convmat import options

from .test_hostile import HUGE, JUNK

figures = pytest.importorskip("convmat.figures")
plt = pytest.importorskip("matplotlib.pyplot")

ANY = st.one_of(st.sampled_from(HUGE + JUNK), st.integers(-3, 6), st.text(max_size=3),
                st.tuples(st.integers(-2, 5), st.integers(-2, 5)))
W = np.arange(1.0, 5.0).reshape(2, 2)
X = np.arange(9.0).reshape(3, 3)
GEOMETRY = dict(input_shape=(3, 3), kernel_shape=(2, 2), stride=1, padding=0, dilation=1)

#: the words of a Spanish picture with one override (hostile values replace them too)
WORDS = dict(lang="es", labels={"kernel": "filtro"})

CALLS = {
    figures.sliding_windows: dict(GEOMETRY, transposed=False, output_padding=0),
    figures.animate_convolution: dict(GEOMETRY, transposed=False, output_padding=0, x=X,
                                      weight=W, groups=1, figsize=None, fontsize=None,
                                      **WORDS),
    figures.animate_matrix: dict(GEOMETRY, transposed=False, output_padding=0, x=X, weight=W,
                                 groups=1, figsize=None, fontsize=None, **WORDS),
    figures.plot_connectivity: dict(GEOMETRY, transposed=False, output_padding=0, ax=None,
                                    weight=W, x=X, groups=1, highlight=None,
                                    side_by_side=False, figsize=None, fontsize=None, **WORDS),
    figures.plot_matrix: dict(A=convmat.conv_matrix(W, (3, 3)), geometry=None, ax=None,
                              highlight_row=None, figsize=None, fontsize=None, **WORDS),
    figures.plot_kong_lucey: dict(kl=convmat.kong_lucey(np.ones(3), (7,), stride=2),
                                  figsize=None, fontsize=None, **WORDS),
    figures.animate_superposition: dict(GEOMETRY, output_padding=0, x=X, weight=W, groups=1,
                                        figsize=None, fontsize=None, **WORDS),
    figures.overlap_counts: dict(GEOMETRY, output_padding=0),
    figures.plot_overlap: dict(GEOMETRY, output_padding=0, ax=None, figsize=None,
                               fontsize=None, **WORDS),
}


@pytest.mark.parametrize("function", list(CALLS), ids=lambda f: f.__name__)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_stray_exception_in_the_pictures(function, data):
    kwargs = dict(CALLS[function])
    for name in data.draw(st.lists(st.sampled_from(sorted(kwargs)), min_size=1, max_size=2,
                                   unique=True)):
        kwargs[name] = data.draw(ANY)
    with options.override(memory_limit="256M"):
        try:
            function(**kwargs)
        except convmat.ConvmatError as exc:
            assert len(str(exc)) < 2000
        finally:
            plt.close("all")


@settings(max_examples=15, deadline=None)
@given(path=ANY, fps=ANY, dpi=ANY)
def test_save_takes_only_a_path_a_rate_and_a_resolution(tmp_path_factory, path, fps, dpi):
    fig = figures.plot_matrix(convmat.conv_matrix(W, (3, 3)))
    folder = tmp_path_factory.mktemp("save")
    try:
        target = folder / f"{path}.png" if isinstance(path, str) and path.isalnum() else path
        figures.save(fig, target, fps=fps, dpi=dpi)
    except convmat.ConvmatError as exc:
        assert len(str(exc)) < 2000
    finally:
        plt.close("all")


def test_every_picture_function_is_driven():
    public = {getattr(figures, name) for name in figures.__all__
              if callable(getattr(figures, name)) and not isinstance(getattr(figures, name),
                                                                     type)}
    assert public - set(CALLS) <= {figures.save}


@pytest.mark.parametrize("dpi", [10**5000, -(10**5000), float("nan"), float("inf"), 2**62 + 1],
                         ids=["huge", "huge-negative", "nan", "inf", "2^62"])
def test_save_refuses_a_dpi_out_of_range(dpi, tmp_path):
    """A 5,000-digit dpi was a bare OverflowError (float() before the range check)."""
    fig = figures.plot_matrix(convmat.conv_matrix(W, (3, 3)))
    try:
        with pytest.raises(convmat.ConvmatError, match="dpi="):
            figures.save(fig, tmp_path / "a.png", dpi=dpi)
    finally:
        plt.close("all")


@pytest.mark.parametrize("path", [10**5000, None, 3.5, b"", ""],
                         ids=["huge-int", "none", "float", "bytes", "empty"])
def test_save_refuses_a_path_that_is_not_a_file_name(path):
    """A 5,000-digit integer as the path was a bare ValueError (its str() in the message)."""
    fig = figures.plot_matrix(convmat.conv_matrix(W, (3, 3)))
    try:
        with pytest.raises(convmat.ConvmatError, match="path="):
            figures.save(fig, path)
    finally:
        plt.close("all")


#: what every picture function's valid call saves as TikZ (the rest name what is supported)
TIKZ = {figures.animate_convolution, figures.animate_matrix, figures.animate_superposition,
        figures.plot_matrix}


@pytest.mark.parametrize("function", [f for f in CALLS if f not in (
    figures.sliding_windows, figures.overlap_counts)], ids=lambda f: f.__name__)
def test_every_picture_saves_as_pdf_and_as_tikz_or_says_what_is_supported(function,
                                                                          tmp_path):
    """Every picture function's result is saved in every format: a PDF (one page per frame
    of an animation), and TikZ for the supported pictures; the others are a ConvmatError
    naming the supported ones."""
    try:
        obj = function(**CALLS[function])
        pdf = figures.save(obj, tmp_path / "a.pdf")
        pages = len(__import__("re").findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
        assert pages == getattr(obj, "n_frames", 1)
        if function in TIKZ:
            tex = figures.save(obj, tmp_path / "a.tex").read_text()
            assert tex.count(r"\begin{tikzpicture}") == getattr(obj, "n_frames", 1)
        else:
            with pytest.raises(convmat.ConvmatError, match="supported: animate_convolution"):
                figures.save(obj, tmp_path / "a.tex")
    finally:
        plt.close("all")


@settings(max_examples=15, deadline=None)
@given(standalone=ANY, beamer=ANY, suffix=st.sampled_from([".tex", ".pdf", ".gif"]))
def test_save_takes_only_flags_for_tikz(tmp_path_factory, standalone, beamer, suffix):
    anim = figures.animate_matrix((3,), (2,), x=[1, 2, 3], weight=[1, 2])
    folder = tmp_path_factory.mktemp("tikz")
    try:
        figures.save(anim, folder / f"a{suffix}", standalone=standalone, beamer=beamer)
    except convmat.ConvmatError as exc:
        assert len(str(exc)) < 2000
        assert "standalone=" in str(exc) or "beamer=" in str(exc)
    finally:
        plt.close("all")


@pytest.mark.parametrize("function", [figures.animate_convolution, figures.animate_matrix,
                                      figures.sliding_windows, figures.plot_connectivity])
def test_a_flag_given_an_array_is_refused_by_name(function):
    """``transposed=np.array([1, 2])`` (found by the random hostile calls, in a run the
    twelve examples per function had missed) is a ConvmatError naming it."""
    kw = dict(CALLS[function], transposed=np.array([1, 2]))
    with pytest.raises(convmat.ConvmatError, match="transposed="):
        function(**kw)
    plt.close("all")


@pytest.mark.parametrize("figsize", [(1, 2), np.array([1, 2]), (0.3, 0.3), (40, 0.5)])
def test_animate_matrix_on_a_tiny_or_odd_page_draws(figsize):
    """A page too small for the legends still gives a picture (A tiny), never a negative
    axes size from matplotlib."""
    anim = figures.animate_matrix((3, 3), (2, 2), x=X, weight=W, figsize=figsize)
    assert tuple(anim.figure.get_size_inches()) == tuple(float(v) for v in figsize)
    assert all(ax.get_position().width > 0 and ax.get_position().height > 0
               for ax in anim.figure.axes)
    plt.close("all")


@pytest.mark.parametrize("function", [f for f, kw in CALLS.items() if "figsize" in kw],
                         ids=lambda f: f.__name__)
def test_every_picture_on_a_one_inch_page_draws(function):
    """``figsize=(1, 1)`` is smaller than any picture's margins: the axes shrink to almost
    nothing instead of matplotlib raising about a negative size (found by a sweep of
    every picture function over the hostile values)."""
    out = function(**dict(CALLS[function], figsize=(1, 1)))
    fig = getattr(out, "figure", out)
    assert all(ax.get_position().width > 0 and ax.get_position().height > 0
               for ax in fig.axes)
    plt.close("all")
