"""What a picture shows, independent of the format: cells on a grid, their roles, the text
in them, rules, labels and, for an animation, what each frame adds.

:mod:`convmat.figures` computes a :class:`Picture` from the same sliding windows, cell
kinds, matrix and values its matplotlib drawing reads; a writer (the TikZ of
:func:`convmat.latex.tikz`) spells it. Coordinates are in cells: ``x`` to the right, ``y``
down, a cell ``(x, y)`` covering ``[x, x + 1] × [y, y + 1]``. Colours are named once in
:attr:`Picture.colors` (hex ``RRGGBB``); a role (``"input"``, ``"padding"``, ``"kernel"``,
...) is one :class:`CellStyle`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["CellStyle", "Cells", "Frame", "Label", "Picture", "Rect", "Segment",
           "SlidingPlacement", "sliding_placement"]


@dataclass(frozen=True)
class SlidingPlacement:
    """Where a sliding picture's grids go, in cells (``(row, column)`` pairs, rows down).

    ``lo``: the first drawn grid position (the padding before is negative); ``extent``: the
    drawn grid's size with its padding; ``out0``: where output cell ``(0, 0)`` sits (right
    of the grid in 2-D, below it in 1-D); ``span``: the panel's (height, width). A 1-D
    geometry is one row.
    """

    lo: tuple[int, int]
    extent: tuple[int, int]
    out0: tuple[float, float]
    span: tuple[float, float]
    output_shape: tuple[int, int]


def sliding_placement(grid_shape: Sequence[int], padding: Sequence[tuple[int, int]],
                      output_shape: Sequence[int]) -> SlidingPlacement:
    """The placement of a 1-D or 2-D sliding picture (the matplotlib drawing and the TikZ
    read the same one): the grid with its padding at the left, the output grid 1.6 cells
    to its right (2-D) or 1.4 cells below it (1-D), centred across.

    Examples
    --------
    >>> p = sliding_placement((5, 5), ((1, 1), (1, 1)), (3, 3))
    >>> p.lo, p.extent, p.out0, p.span
    ((-1, -1), (7, 7), (2.0, 8.6), (7, 11.6))
    """
    two = len(grid_shape) == 2
    grid = tuple(grid_shape) if two else (1, grid_shape[0])
    pads = tuple(padding) if two else ((0, 0), padding[0])
    out = tuple(output_shape) if two else (1, output_shape[0])
    lo = (-pads[0][0], -pads[1][0])
    extent = (grid[0] + sum(pads[0]), grid[1] + sum(pads[1]))
    out0: tuple[float, float]
    span: tuple[float, float]
    if two:
        out0 = ((extent[0] - out[0]) / 2.0, extent[1] + 1.6)
        span = (max(extent[0], out[0]), extent[1] + 1.6 + out[1])
    else:
        out0 = (extent[0] + 1.4, (extent[1] - out[1]) / 2.0)
        span = (extent[0] + 1.4 + out[0], max(extent[1], out[1]))
    return SlidingPlacement(lo, extent, out0, span, (out[0], out[1]))


@dataclass(frozen=True)
class CellStyle:
    """How the cells of one role look: fill and edge colour names (of
    :attr:`Picture.colors`, ``None``: none), edge ``line`` (``"solid"``, ``"dashed"``,
    ``"dotted"``), edge ``width`` in points, fill ``opacity`` and ``hatch`` (diagonal
    lines)."""

    fill: str | None
    edge: str | None
    line: str = "solid"
    width: float = 0.6
    opacity: float = 1.0
    hatch: bool = False
    label: str | None = None  # the legend's name of the role (None: not in the legend)


@dataclass(frozen=True)
class Cells:
    """Unit cells of one role at corners ``xy`` (``(x, y)`` each), with optional text
    (``texts[k]``, ``""`` for none), per-cell fill ``(colour name, tint)`` overriding the
    role's (``tint`` 1: the colour, 0: white) and text colour names ``inks``."""

    role: str
    xy: tuple[tuple[float, float], ...]
    texts: tuple[str, ...] | None = None
    fills: tuple[tuple[str, float], ...] | None = None
    inks: tuple[str, ...] | None = None
    math: bool = False  # texts are math (symbols), not plain text
    size: float = 1.0  # width of each cell, in cells (a tap bar is narrower)
    height: float | None = None  # its height (None: square)


@dataclass(frozen=True)
class Label:
    """A text at ``(x, y)``: ``anchor`` is the side of the text that sits there
    (``"center"``, ``"north"``, ``"south"``, ``"east"``, ``"west"``, ``"north east"``,
    ...); ``size`` relative to a cell's numbers (1) ; ``role``: ``"title"``, ``"name"``,
    ``"value"``, ``"weight"``."""

    x: float
    y: float
    text: str
    anchor: str = "center"
    size: float = 1.0
    role: str = "name"
    ink: str = "text"
    math: bool = False


@dataclass(frozen=True)
class Segment:
    """A straight line from ``(x0, y0)`` to ``(x1, y1)`` in colour ``color``, ``width``
    points wide (block rules, the link from the kernel to its output)."""

    x0: float
    y0: float
    x1: float
    y1: float
    color: str = "grid"
    width: float = 0.6


@dataclass(frozen=True)
class Rect:
    """A rectangle ``width × height`` at corner ``(x, y)``: filled with ``fill`` (a colour
    name, ``None``: not filled) and outlined in ``edge`` ``width`` points wide (``None``: no
    outline). Background bands, outlines of a row."""

    x: float
    y: float
    w: float
    h: float
    fill: str | None = None
    edge: str | None = None
    width: float = 0.6


@dataclass(frozen=True)
class Frame:
    """What one frame draws over the still picture."""

    cells: tuple[Cells, ...] = ()
    labels: tuple[Label, ...] = ()
    segments: tuple[Segment, ...] = ()
    rects: tuple[Rect, ...] = ()


@dataclass(frozen=True)
class Picture:
    """A picture in cells: what every format draws (see the module's notes).

    Attributes
    ----------
    kind : str
        ``"sliding"``, ``"matrix"``, ``"superposition"`` or ``"plot_matrix"``.
    width, height : float
        The extent in cells (from 0, 0).
    colors : dict
        Colour name -> hex ``RRGGBB``.
    styles : dict
        Role -> :class:`CellStyle`, in legend order.
    cells, labels, segments
        The still picture.
    rects : tuple of Rect
        Bands and outlines (bands under the cells, outlines over them).
    frames : tuple of Frame
        One per animation frame (empty for a still picture).
    title : str
    legend : tuple of str
        The roles named in the legend, in order.
    keys : tuple of (str, str)
        The key of per-cell colours (kernel taps, symbols, values): colour name and text
        (``$...$`` parts are math).
    """

    kind: str
    width: float
    height: float
    colors: dict[str, str]
    styles: dict[str, CellStyle]
    cells: tuple[Cells, ...] = ()
    labels: tuple[Label, ...] = ()
    segments: tuple[Segment, ...] = ()
    rects: tuple[Rect, ...] = ()
    frames: tuple[Frame, ...] = ()
    title: str = ""
    legend: tuple[str, ...] = field(default=())
    #: the key of the cell colours: (colour name, text) per tap, symbol or value
    keys: tuple[tuple[str, str], ...] = field(default=())
    #: the name of that key (``"kernel taps"``)
    keys_title: str = ""

    @property
    def n_frames(self) -> int:
        """Pages of the picture: the frames, or 1 for a still picture."""
        return max(len(self.frames), 1)
