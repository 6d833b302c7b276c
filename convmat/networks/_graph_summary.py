r"""The summary of a network that is a graph: one row per node in topological order.

A node is a layer (a :class:`~convmat.networks._kinds.Stage`, read by its kind as in a
chain) or a merge of several tensors (:data:`MERGES`: a sum ``x + f(x)``, a difference,
a concatenation along channels). Each row describes the node's own matrix, from its
inputs stacked one after the other to its output:

======  ====================================================  ==============  ===========
merge   matrix of :math:`k` inputs of sizes :math:`n_i`        stored          norm
======  ====================================================  ==============  ===========
add     :math:`[\,I\; I\; \cdots\; I\,]`, :math:`n \times kn`  :math:`kn`      :math:`\sqrt{k}`
sub     :math:`[\,I\; -I\,]`, :math:`n \times 2n`              :math:`2n`      :math:`\sqrt{2}`
cat     a permutation, :math:`\sum n_i \times \sum n_i`        :math:`\sum n_i` 1
======  ====================================================  ==============  ===========

(a concatenation along channels of ``(C_i, *spatial)`` inputs is the identity in C order).

The receptive field of a node is that of the network up to it: every path from the input
to the node is a stack of windows (:func:`convmat.receptive_field`), and the node's output
depends on the union of their windows. When every path has the same jump, the field is the
span of that union per dim (what the rows of the node's Jacobian show); otherwise the
largest span over the paths. A path through a layer that mixes every position (Linear,
Flatten) or has no integer window (upsampling, transposed convolution) ends the field of
every node after it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from ..errors import ConvmatError
from ..receptive import Layer, receptive_field
from ._kinds import FieldStep, Stage

__all__ = ["MERGES", "GraphNode", "Merge", "graph_rows"]

#: the name of the network's input among a node's inputs
INPUT = "input"


@dataclass(frozen=True)
class Merge:
    """A node that combines several tensors: its type name, the entries its matrix stores
    and its spectral norm, from the input shapes and the output shape."""

    type: str
    stored: Callable[[Sequence[tuple], tuple], int]
    norm: Callable[[Sequence[tuple]], float]


MERGES: dict[str, Merge] = {
    "add": Merge("Add", lambda ins, out: sum(math.prod(s) for s in ins),
                 lambda ins: math.sqrt(len(ins))),
    "sub": Merge("Sub", lambda ins, out: sum(math.prod(s) for s in ins),
                 lambda ins: math.sqrt(len(ins))),
    "cat": Merge("Cat", lambda ins, out: math.prod(out), lambda ins: 1.0),
}


@dataclass
class GraphNode:
    """One node of a graph for its summary: a layer (``stage``) or a merge (``merge``, a
    key of :data:`MERGES`), its inputs by name (:data:`INPUT`: the network's input), their
    shapes and its output shape."""

    name: str
    inputs: tuple[str, ...]
    in_shapes: tuple[tuple, ...]
    out_shape: tuple
    stage: Stage | None = None
    merge: str | None = None
    parameters: int = 0
    type: str = field(default="")

    def __post_init__(self) -> None:
        if not self.type:
            self.type = self.stage.type if self.stage is not None else \
                MERGES[cast(str, self.merge)].type


def _extend(paths: Any, step: Any) -> Any:
    """The paths into a node (``None`` once the field has ended, else ``{(size, jump,
    start): stack of windows}``) through one more layer's receptive-field step."""
    if paths is None or step is FieldStep.ENDS:
        return None
    if step is FieldStep.KEEPS:
        return paths
    out = {}
    for stack in paths.values():
        longer = (*stack, step)
        rf = receptive_field(longer)
        out[(rf.size, rf.jump, rf.start)] = longer
    return out


def _union(paths: Any, ndim: int) -> tuple[int, ...] | None:
    """The field of a node from its paths: the span of their windows' union when they
    share the jump, else the largest span."""
    if paths is None or not ndim:
        return None
    keys = list(paths)
    if len({jump for _, jump, _ in keys}) == 1:
        return tuple(max(start[a] + size[a] for size, _, start in keys)
                     - min(start[a] for _, _, start in keys) for a in range(ndim))
    return tuple(max(size[a] for size, _, _ in keys) for a in range(ndim))


def graph_rows(nodes: Sequence[GraphNode], spatial_ndim: int,
               spectral_norm: Callable[..., float]) -> list[dict]:
    """The fields of one :class:`~convmat.networks.LayerSummary` per node (a dict each),
    in the given (topological) order."""
    start = (1,) * spatial_ndim
    paths: dict[str, Any] = {INPUT: {(start, start, (0,) * spatial_ndim): ()}}
    rows = []
    for node in nodes:
        label = f"layer {node.name} ({node.type})"
        try:
            missing = [i for i in node.inputs if i not in paths]
            if missing:
                raise ConvmatError(f"reads {missing}, which come later or do not exist")
            incoming = [paths[i] for i in node.inputs]
            joined: Any = None if any(p is None for p in incoming) else \
                {k: v for p in incoming for k, v in p.items()}
            shape, out = node.in_shapes[0], node.out_shape
            norm: float | None = None
            if node.stage is not None:
                stage = node.stage
                stored, exact = stage.kind.stored(stage, shape, out)
                paths[node.name] = _extend(joined, stage.kind.field_step(stage, shape)
                                           if joined is not None else FieldStep.ENDS)
                if stage.linear:
                    try:  # the kinds ask for the plain (uncertified) norm: a float
                        norm = stage.kind.spectral(stage, shape, spectral_norm)
                    except ConvmatError:
                        norm = None
                linear = stage.linear
            else:
                merge = MERGES[cast(str, node.merge)]
                stored, exact, linear = merge.stored(node.in_shapes, out), True, True
                norm = merge.norm(node.in_shapes)
                paths[node.name] = joined
        except ConvmatError as exc:
            raise ConvmatError(f"{label}: {exc.message}") from None
        columns = sum(math.prod(s) for s in node.in_shapes)
        rows.append({
            "name": node.name, "type": node.type, "output_shape": tuple(out),
            "parameters": node.parameters, "matrix_shape": (math.prod(out), columns),
            "stored": int(stored), "exact": exact, "linear": linear,
            "receptive_field": _union(paths[node.name], spatial_ndim),
            "spectral_norm": None if norm is None else float(norm),
            "inputs": tuple(node.inputs)})
    return rows
