"""The cells of a network summary (:func:`convmat.summary`) as text, whatever the format
(plain text, Markdown and LaTeX tables all read them)."""

from __future__ import annotations

from typing import Any

from ..errors import ConvmatError, brief

__all__ = ["summary_cells"]


def _columns(s: Any) -> list[str]:
    cols = ["layer", "type", "output", "params", "matrix", "stored", "density",
            "receptive field"]
    return cols + ["spectral norm", "Lipschitz"] if s.spectral else cols


def summary_cells(s: Any, times: str = "x", le: str = "≤") -> tuple[list[str], list[list[str]],
                                                               list[str]]:
    """The cells of a network summary (:func:`convmat.summary`) as text, whatever the
    format: the header, one row per layer (shapes joined by ``times``, an upper bound marked
    ``le``) and the totals."""
    if not all(hasattr(s, a) for a in ("rows", "spectral", "total_parameters")):
        raise ConvmatError(f"s={brief(s)} is not a network summary; make one with "
                           f"convmat.summary")
    if not isinstance(times, str) or not isinstance(le, str):
        raise ConvmatError(f"times={brief(times)} and le={brief(le)} must be strings")
    header, rows, footer = _columns(s), _cells(s, times, le), _footer(s)
    if getattr(s, "graph", False):  # a graph's rows name their inputs, third
        header.insert(2, "inputs")
        for row, r in zip(rows, s.rows):
            row.insert(2, ", ".join(r.inputs))
        footer.insert(2, "")
    return header, rows, footer


def _cells(s: Any, times: str = "x", le: str = "≤") -> list[list[str]]:
    def join(shape: tuple[int, ...]) -> str:
        return times.join(str(v) for v in shape)

    out = []
    for r in s.rows:
        bound = "" if r.exact else le
        cells = [r.name, r.type, join(r.output_shape), f"{r.parameters:,}",
                 join(r.matrix_shape), f"{bound}{r.stored:,}",
                 f"{bound}{_percent(r.density)}",
                 "" if r.receptive_field is None else join(r.receptive_field)]
        if s.spectral:
            cells += [_norm(r.spectral_norm), _norm(getattr(r, "lipschitz", None))]
        out.append(cells)
    return out


def _footer(s: Any) -> list[str]:
    cells = ["total", "", "", f"{s.total_parameters:,}", "", "", "", ""]
    if not s.spectral:
        return cells
    bound = getattr(s, "bound", None)  # the Jacobian's norm at x; the column's product
    local = None if bound is None else bound.local
    return cells + ["" if local is None else f"at x: {local:.4g}",
                    _norm(None if bound is None else bound.layerwise)]


def _norm(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def _percent(value: float) -> str:
    percent = 100 * value
    if percent >= 10:
        return f"{percent:.0f}%"
    if percent >= 0.01:
        return f"{percent:.2g}%"
    return f"{percent:.1e}%"
