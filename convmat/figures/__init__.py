r"""Pictures of a convolution, drawn from the same geometry as its matrix (matplotlib).

Three pictures, for any 1-D or 2-D geometry:

- **sliding** (:func:`animate_convolution`): the input grid (padding cells drawn distinctly;
  with ``padding_mode`` other than zeros each shows the input entry it copies),
  the kernel's footprint sliding over it (dilation gaps and stride visible) and the output
  grid filling cell by cell; with ``x`` and ``weight`` the cells show the numbers. With
  ``transposed=True`` the transposed convolution is drawn as a unit-stride convolution of the
  *stretched* input (``s - 1`` zeros inserted between entries, implicit padding
  ``d(k-1) - b`` before and ``d(k-1) - a + q`` after);
- **matrix equivalence** (:func:`animate_matrix`): the same sliding picture next to
  ``y = A x``; in frame ``t`` row ``t`` of ``A``, the entries of ``x`` under the kernel and
  ``y[t]`` are highlighted together;
- **connectivity** (:func:`plot_connectivity`): the bipartite graph from input to output
  positions, edges coloured by kernel tap (reversed for the transposed convolution).

:func:`plot_matrix` draws any matrix (SciPy sparse, numpy or sympy) with the block rules of
its geometry, :func:`plot_kong_lucey` Kong & Lucey's rearrangement and :func:`save` writes
GIF, MP4, PNG, PDF or SVG. Every picture reads its positions from :func:`sliding_windows`,
which is derived from :mod:`convmat.geometry`; the values come from
:func:`convmat.conv_matrix`, so a picture cannot disagree with the matrix.

An animation has exactly one frame per output position (pace it with ``fps`` in
:func:`save`). Colours (Okabe & Ito's colour-blind-safe palette) mean the same in every
picture: input blue, padding grey, kernel orange, output green; kernel taps are told apart by
the cividis colour map. matplotlib is imported only when a picture is drawn
(``pip install "convmat[plot]"``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any


from ._animation import (
    _convolution_animation,
    _entry_taps,
    _matrix_animation,
    _parent,
    _save_gif,
    _save_pages,
)
from ._drawing import (
    _check_fontsize,
    _DPI,
    COLORS,  # noqa: F401  (the palette, figures.COLORS)
    _check_ax,
    _check_dpi,
    _check_figsize,
    _describe,
    _words,
    _entries,
    _layout,
    _mpl,
)
from ._connectivity import plot_connectivity
from ._kong_lucey import plot_kong_lucey
from ._matrix import channel_ticks, draw_matrix, geometry_taps, tap_names
from ._planes import scene
from ._scenes import matrix_picture, matrix_plot_picture, sliding_picture
from ._superposition import animate_superposition, overlap_counts, plot_overlap
from ._windows import SlidingWindows, Window, _windows, sliding_windows  # noqa: F401
from ..errors import ConvmatError, brief, error_context
from ..geometry import ConvGeometry, Padding

if TYPE_CHECKING:
    from matplotlib.animation import FuncAnimation
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

__all__ = [
    "sliding_windows",
    "animate_convolution",
    "animate_matrix",
    "plot_connectivity",
    "plot_matrix",
    "plot_kong_lucey",
    "animate_superposition",
    "overlap_counts",
    "plot_overlap",
    "save",
]


def animate_convolution(
    input_shape: Sequence[int],
    kernel_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: Padding = 0,
    dilation: int | Sequence[int] = 1,
    transposed: bool = False,
    output_padding: int | Sequence[int] = 0,
    x: Any = None,
    weight: Any = None,
    groups: int = 1,
    padding_mode: str = "zeros",
    figsize: tuple[float, float] | None = None,
    fontsize: float | None = None,
    lang: str = "en",
    labels: Mapping[str, str] | None = None,
) -> FuncAnimation:
    r"""Animate a convolution: the kernel sliding over the input, the output filling up.

    Parameters
    ----------
    input_shape, kernel_shape : sequence of int
        1-D, 2-D or 3-D spatial shapes (a 3-D grid is drawn as depth slices side by side).
    stride, padding, dilation, groups
        As in :func:`convmat.conv_matrix`.
    transposed : bool
        Draw the transposed convolution as a unit-stride convolution sliding over the
        stretched input (inserted zeros and implicit padding drawn distinctly).
    output_padding : int or sequence of int
        With ``transposed=True``.
    padding_mode : str
        As in :func:`convmat.conv_matrix` (``"zeros"``, ``"reflect"``, ``"replicate"``,
        ``"circular"``, ``"symmetric"``). With a mode other than zeros each padded cell is
        drawn in the padding style with the value it copies (with ``x``) or the name of the
        input entry it copies, in grey, so reflect and circular padding look different.
        Forward convolution only: with ``transposed=True`` another mode raises
        :class:`~convmat.ConvmatError`.
    x : array_like, optional
        Input values, printed in the cells: shape ``input_shape``, or ``(C_in,
        *input_shape)`` with channels.
    weight : array_like, optional
        The bare kernel (shape ``kernel_shape``) or the layout ``(C_out, C_in/groups,
        *kernel_shape)`` (``(C_in, C_out/groups, *kernel_shape)`` when transposed), printed
        at the kernel's taps; with ``x`` as well, each output cell shows its value as it is
        computed. With channels every input channel is drawn as a plane, the kernel on the
        planes of the current output channel's group.
    figsize : (float, float), optional
        Figure size in inches (default: fitted to the grid).
    fontsize : float, optional
        Size of the title.
    lang : str
        The language of the words the picture writes: ``"en"`` or ``"es"``
        (:data:`convmat.layout.LANGUAGES`).
    labels : dict, optional
        Single words overridden, by key of :data:`convmat.layout.LABEL_KEYS` (e.g.
        ``{"kernel": "filter"}``).

    Returns
    -------
    matplotlib.animation.FuncAnimation
        One frame per row of the matrix (output channel outermost, then the output
        positions in C order). Extra attributes: ``show_frame(t)`` draws frame ``t``;
        ``artists`` names the updated artists; ``n_frames``; ``figure``.

    Notes
    -----
    Frame :math:`t = o\,|O| + t'` shows window ``sliding_windows(...)[t']`` on the input
    channels of output channel :math:`o`'s group; the output values are
    ``conv_matrix(weight, input_shape, ...) @ x.ravel()`` (or the transposed matrix).

    Examples
    --------
    >>> anim = animate_convolution((5, 5), (3, 3), stride=2, padding=1)
    >>> anim.n_frames
    9
    >>> import numpy as np
    >>> animate_convolution((4, 4), (3, 3), weight=np.ones((2, 1, 3, 3))).n_frames
    8
    """
    with error_context("animate_convolution", input_shape=input_shape,
                       kernel_shape=kernel_shape):
        fontsize = _check_fontsize(fontsize)
        words = _words(lang, labels, "animate_convolution")
        sc = scene("animate_convolution", input_shape, kernel_shape, stride, padding,
                   dilation, transposed, output_padding, x, weight, groups, padding_mode)
        sc.words = words
        title = _describe(sc, stride, padding, dilation, output_padding, words)
        anim = _convolution_animation(sc, title, figsize, fontsize)
        anim.picture_layout = partial(sliding_picture, sc, anim.values, title, words)
        return anim


def animate_matrix(
    input_shape: Sequence[int],
    kernel_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: Padding = 0,
    dilation: int | Sequence[int] = 1,
    transposed: bool = False,
    output_padding: int | Sequence[int] = 0,
    x: Any = None,
    weight: Any = None,
    groups: int = 1,
    padding_mode: str = "zeros",
    figsize: tuple[float, float] | None = None,
    fontsize: float | None = None,
    lang: str = "en",
    labels: Mapping[str, str] | None = None,
) -> FuncAnimation:
    r"""Animate the matrix equivalence: the sliding kernel next to ``y = A x``.

    In frame ``t`` the kernel sits on window ``t``; row ``t`` of ``A`` (its cells coloured by
    kernel tap), the entries of ``x`` under the kernel and ``y[t]`` are highlighted together,
    in the flattening order of :func:`convmat.conv_matrix` (C order, channels outermost;
    thick rules between channel blocks). The transposed convolution's matrix is drawn and
    named :math:`A^\top`.

    Parameters
    ----------
    input_shape, kernel_shape, stride, padding, dilation, transposed, output_padding
        As in :func:`animate_convolution`.
    x, weight, groups, padding_mode, figsize, fontsize, lang, labels
        As in :func:`animate_convolution`. The cells of ``A`` and its digits (at least
        8 pt) follow the matrix up to a 16:9 slide, or ``figsize``; a matrix too tall for
        that shows a window of consecutive rows that follows row ``t`` (``⋮`` where rows
        are cut; ``rows_shown`` says how many); one too wide elides columns with
        :func:`plot_matrix`'s rule: a ``⋯`` column between whole blocks of the finest level
        (one image row of the input), never inside one, the blocks row ``t`` reads kept
        (the ellipsis moves, or a window of blocks between two ellipses); when not all of
        them fit, the ``⋯`` of row ``t`` is outlined with its entries: it hides some
        (``cols_shown`` says how many columns are drawn). A matrix more than four times
        too wide is drawn whole, without digits. The TikZ (``save(anim, "x.tex")``) reads
        the same plan, fitted to its page or beamer frame at 8-pt digits: on a beamer
        frame the sliding picture sits above ``A`` (drawn smaller, without its numbers,
        when ``A`` needs the height). A legend names the tap colours. With a padding mode other than zeros the matrix
        is ``conv_matrix(..., padding_mode=...)``: where a window reads one input entry
        twice (once directly, once through a padded copy) the two taps add up in one
        entry; the highlighted entries of ``x`` are the sources the window reads.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        One frame per row of the matrix, with ``show_frame(t)``, ``artists`` (``"row"``: the
        highlighted cells of ``A``; ``"x"``: the highlighted entries of ``x``; ``"y"``: the
        computed entries of ``y``, the current one last; ``"x-cells"``, ``"y-cells"``: all
        the vectors' cells; ``"cells"``: the drawn cells of ``A``), ``n_frames``, ``matrix``
        (the matrix drawn), ``rows_shown``, ``cols_shown`` (columns drawn at once, the
        ``⋯`` included), ``matrix_window`` (per frame the first row and the columns drawn,
        ``None`` for a ``⋯``) and ``figure``.

    Notes
    -----
    ``A = conv_matrix(weight, input_shape, ..., padding_mode=...)`` (``conv_transpose_matrix`` when
    ``transposed``); without ``weight`` the taps are numbered ``1, 2, ...`` so each entry
    shows which tap it is: :math:`A[t, p] = w[j]` where tap :math:`j` of window :math:`t`
    reads input entry :math:`p`.

    Examples
    --------
    >>> anim = animate_matrix((4, 4), (3, 3))
    >>> anim.n_frames, anim.artists["row"].get_gid()
    (4, 'matrix-row')

    A 64 x 64 matrix (8 x 8 input, padding 1) on a slide: 10 rows and 48 of the 64 columns
    (six whole blocks of 8 around one ``⋯``), those of row 27 among them:

    >>> anim = animate_matrix((8, 8), (3, 3), padding=1)
    >>> anim.rows_shown, anim.cols_shown
    (10, 49)
    >>> cols = anim.matrix_window.cols[27]
    >>> cols.index(None), set(anim.matrix.indices[anim.matrix.indptr[27]:
    ...                                           anim.matrix.indptr[28]]) <= set(cols)
    (40, True)
    """
    with error_context("animate_matrix", input_shape=input_shape, kernel_shape=kernel_shape):
        fontsize = _check_fontsize(fontsize)
        words = _words(lang, labels, "animate_matrix")
        sc = scene("animate_matrix", input_shape, kernel_shape, stride, padding, dilation,
                   transposed, output_padding, x, weight, groups, padding_mode)
        sc.words = words
        a = sc.matrix()
        y = a @ sc.x.ravel() if sc.x is not None else None
        title = _describe(sc, stride, padding, dilation, output_padding, words)
        anim = _matrix_animation(sc, a, y, title, figsize, fontsize)
        anim.matrix = a
        anim.picture_layout = partial(matrix_picture, sc, a, y, title, _entry_taps, words)
        anim.picture_fits = True  # laid out for the TikZ page or beamer frame
        return anim


# ---------------------------------------------------------------------------- matrices


def plot_matrix(A: Any, *, geometry: Any = None, ax: Axes | None = None,
                highlight_row: int | None = None, figsize: tuple[float, float] | None = None,
                fontsize: float | None = None, lang: str = "en",
                labels: Mapping[str, str] | None = None) -> Figure | SubFigure:
    r"""Draw a matrix: stored entries as coloured cells, block rules from its geometry.

    Parameters
    ----------
    A : scipy sparse array, numpy array, sympy matrix or Kong & Lucey result
        Entries are coloured by kernel tap when the geometry is known (as in
        :func:`animate_matrix`), symbolic ones by symbol, others by value (one hue per value
        up to nine, else a pink-to-purple scale); a legend names the colours; structural
        zeros stay white. The values or symbols are printed at 8 pt or more: past what fits
        a 16:9 slide (or ``figsize``) at that size the rows and columns are elided between
        whole blocks (``⋯``, ``⋮``; the axes' ``convmat_axes`` holds the written rows and
        columns), and a matrix more than four times larger is drawn whole without digits.
        A :func:`convmat.kong_lucey` result draws ``A Π = [T_0 | T_1 | ...]`` with its phase
        bands.
    geometry : ConvGeometry or Kong & Lucey result, optional
        Where the block rules go: rows follow ``(C_out, *output_shape)`` and columns
        ``(C_in, *input_shape)`` for the convolution's matrix (swapped for its transpose;
        ``(C, *padded_shape)`` by ``(C, *input_shape)`` for a padding matrix); a rule after
        every image row and a thick one after every channel. A symbolic matrix built by
        :mod:`convmat.symbolic` carries its own. A Kong & Lucey result as ``geometry`` gives
        the rules of its strided matrix (``kl.strided_matrix()``); pass the result itself
        as ``A`` for the permuted matrix with one band per phase.
    ax : matplotlib.axes.Axes, optional
    highlight_row : int, optional
        Outline this row and its stored entries (the kernel's window) in the kernel colour.
    figsize : (float, float), optional
        Figure size in inches (default: fitted to the matrix); without ``ax`` only.
    fontsize : float, optional
        Size of the title.
    lang, labels
        As in :func:`animate_convolution`.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Only stored entries are read and drawn, O(nnz); a sparse matrix is never densified.
    Beyond 250,000 drawn entries a pixel-per-entry view (like ``spy``) is drawn. The tap of
    entry ``(t, p)`` is the kernel index ``j`` with ``A[t, p] = w[j]`` (from the engine's
    index of the geometry).

    Examples
    --------
    >>> import convmat
    >>> from convmat.geometry import convolution_geometry
    >>> fig = plot_matrix(convmat.conv_matrix([[1, 2], [3, 4]], (3, 3)),
    ...                   geometry=convolution_geometry((3, 3), (2, 2)), highlight_row=1)
    >>> fig.axes[0].get_title()
    'A: 4 × 9, 16 stored entries'
    """
    with error_context("plot_matrix", shape=getattr(A, "shape", None)):
        ax = _check_ax(ax, "plot_matrix")
        fontsize = _check_fontsize(fontsize)
        words = _words(lang, labels, "plot_matrix")
        from ..striding import KongLucey

        permuted = isinstance(A, KongLucey)
        if permuted:
            geometry = A if geometry is None else geometry
            A = A.permuted
        if geometry is None and isinstance(getattr(A, "geometry", None), ConvGeometry):
            geometry = A.geometry  # a symbolic ConvMatrix knows its geometry
        rows, cols, values, shape, symbolic = _entries(A)
        row_levels, col_levels, bands = _layout(tuple(shape), geometry, permuted)
        if figsize is not None:
            figsize = _check_figsize(figsize)
        if highlight_row is not None:
            from ..geometry import as_int

            highlight_row = as_int(highlight_row, "highlight_row")
            if not 0 <= highlight_row < shape[0]:
                raise ConvmatError(f"highlight_row={highlight_row} is not a row of the "
                                   f"{shape[0]}-row matrix")
        _mpl()
        taps = _taps(geometry, rows, cols, tuple(shape), permuted) if not symbolic else None
        fig = draw_matrix(rows, cols, values, shape, symbolic, (row_levels, col_levels),
                          bands, ax, highlight_row, words=words, taps=taps,
                          figsize=figsize if ax is None else None)
        if ax is None:
            fig.picture_layout = partial(
                matrix_plot_picture, rows, cols, values, tuple(shape), symbolic, row_levels,
                col_levels, bands, highlight_row, fig.axes[0].get_title(), taps, words)
        drawn = fig.axes[0] if ax is None else ax
        if isinstance(geometry, ConvGeometry):
            channel_ticks(drawn, geometry, tuple(shape), words)
        if fontsize is not None:
            drawn.title.set_fontsize(fontsize)
        return fig


def _taps(geometry: Any, rows: Any, cols: Any, shape: tuple[int, ...],
          permuted: bool) -> tuple[list[str], Any] | None:
    """``(tap names, tap of each entry)`` of a matrix whose geometry is known, else None."""
    from ..striding import KongLucey

    if isinstance(geometry, KongLucey):
        order = geometry.column_order if permuted else None
        g = geometry.geometry
    elif isinstance(geometry, ConvGeometry):
        order, g = None, geometry
    else:
        return None
    taps = geometry_taps(g, rows, cols, shape, order)
    return None if taps is None else (tap_names(g.kernel_shape), taps)


# ----------------------------------------------------------------------------------- save


_FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def save(obj: Any, path: str | os.PathLike[str], *, fps: float | None = None,
         dpi: float | None = None, standalone: bool | None = None,
         beamer: bool | None = None) -> Path:
    r"""Write a figure (PNG, PDF, SVG), an animation (GIF; MP4 when ffmpeg is installed; a
    PDF with one page per frame) or either as TikZ (``.tex``).

    Parameters
    ----------
    obj : matplotlib Figure or Animation
        A result of this module (an ``Axes`` saves its figure).
    path : str or path-like
        The format is taken from the suffix. An animation saved as ``.pdf`` has one page
        per frame (``\includegraphics[page=t]{x.pdf}``, or
        ``\animategraphics[controls]{1.5}{x}{}{}`` of the LaTeX ``animate`` package), its
        numbers embedded as text. ``.tex`` writes readable TikZ
        (:func:`convmat.latex.tikz`) of the sliding-kernel, matrix-equivalence and
        superposition animations (one channel, 1-D or 2-D) and of :func:`plot_matrix`.
    fps : float, optional
        Frames per second of an animation saved as GIF or MP4 (default 1.5: each output
        position shows for two thirds of a second).
    dpi : float, optional
        Resolution (default 100: the figures are sized to be legible at that); not for
        ``.tex``.
    standalone : bool, optional
        ``.tex`` only: a complete document that compiles with ``pdflatex`` (default), or
        the ``tikzpicture``\ s alone for ``\input`` (``False``).
    beamer : bool, optional
        ``.tex`` only: one beamer frame with one ``\only<t>`` overlay per frame (default
        ``False``).

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = save(plot_connectivity((4,), (2,)), pathlib.Path(tmp) / "c.png")
    ...     out.stat().st_size > 1000
    True
    """
    with error_context("save", path=path if isinstance(path, str) else os.fspath(path)
                       if isinstance(path, os.PathLike) else path):  # brief() when shown
        mpl = _mpl()
        if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
            raise ConvmatError(f"path={brief(path)} must be a file name (str or path-like) "
                               f"ending in .png, .pdf, .svg, .tex, .gif or .mp4")
        path = Path(path)
        suffix = path.suffix.lower()
        animation = isinstance(obj, mpl.animation.Animation)
        if suffix == ".tex":
            return _save_tex(obj, path, fps, dpi, standalone, beamer)
        for name, value in (("standalone", standalone), ("beamer", beamer)):
            if value is not None:
                raise ConvmatError(f"{name}={brief(value)} applies to TikZ only (a path "
                                   f"ending in .tex), not to {suffix or 'this path'}")
        if fps is not None and not (animation and suffix in (".gif", ".mp4")):
            raise ConvmatError(f"fps={brief(fps)} applies to an animation saved as .gif or "
                               f".mp4, not to {'an animation' if animation else 'a figure'}"
                               f" saved as {suffix or '(no suffix)'}")
        canvas = getattr(obj, "_fig", None) if animation \
            else obj if isinstance(obj, mpl.figure.Figure) else getattr(obj, "figure", None)
        if isinstance(canvas, mpl.figure.Figure):
            dpi = _check_dpi(_DPI if dpi is None else dpi, canvas)
        if animation:
            fps = 1.5 if fps is None else fps
            if not (isinstance(fps, (int, float)) and 0 < fps <= 100):
                raise ConvmatError(f"fps={brief(fps)} must be a number in (0, 100]")
            paged = callable(getattr(obj, "show_frame", None))
            if suffix == ".pdf" and paged:
                _parent(path)
                _save_pages(obj, path, dpi)
                return path
            if suffix == ".gif" and paged:
                _parent(path)
                _save_gif(obj, path, fps, dpi)
                return path
            if suffix == ".gif":
                writer = mpl.animation.PillowWriter(fps=fps)
            elif suffix == ".mp4":
                if not mpl.animation.FFMpegWriter.isAvailable():
                    raise ConvmatError("path ends in .mp4 but ffmpeg is not installed; "
                                       "save as .gif or install ffmpeg")
                writer = mpl.animation.FFMpegWriter(fps=fps)
            else:
                raise ConvmatError(f"path suffix {suffix or '(none)'!r}: an animation is "
                                   f"saved as .gif or .mp4, as .pdf (one page per frame) "
                                   f"or as .tex (TikZ)")
            _parent(path)
            obj.save(str(path), writer=writer, dpi=dpi)
            return path
        fig = getattr(obj, "figure", None) if not isinstance(obj, mpl.figure.Figure) else obj
        if not isinstance(fig, mpl.figure.Figure):
            raise ConvmatError(f"obj={type(obj).__name__} is not a matplotlib Figure or "
                               f"Animation")
        if suffix not in _FIGURE_SUFFIXES:
            raise ConvmatError(f"path suffix {suffix or '(none)'!r}: a figure is saved as "
                               f"{', '.join(_FIGURE_SUFFIXES)} or .tex")
        _parent(path)
        fig.savefig(str(path), dpi=dpi, facecolor="white")
        return path


#: what .tex supports (the message of a refusal)
_TIKZ_PICTURES = ("animate_convolution, animate_matrix and animate_superposition (one "
                  "channel, 1-D or 2-D) and plot_matrix (drawn in its own figure)")


def _save_tex(obj: Any, path: Path, fps: Any, dpi: Any, standalone: Any, beamer: Any
              ) -> Path:
    """TikZ of a picture that carries its format-neutral record (``picture_layout``)."""
    from ..latex import tikz

    for name, value in (("fps", fps), ("dpi", dpi)):
        if value is not None:
            raise ConvmatError(f"{name}={brief(value)} does not apply to TikZ (.tex): it is "
                               f"vector graphics with no frame rate")
    make = getattr(obj, "picture_layout", None)
    if not callable(make):
        raise ConvmatError(f"obj={type(obj).__name__} cannot be saved as TikZ (.tex); "
                           f"supported: {_TIKZ_PICTURES}; save it as .pdf or .png")
    beamer = False if beamer is None else beamer
    fits = getattr(obj, "picture_fits", False) and isinstance(beamer, bool)
    tex = tikz(make(beamer=beamer) if fits else make(),
               standalone=True if standalone is None else standalone, beamer=beamer)
    _parent(path)
    path.write_text(tex, encoding="utf-8")
    return path
