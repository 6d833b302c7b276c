r"""The summary of a network that is a graph (:class:`~convmat.networks._graph.Graph`): one
row per node in topological order.

A node is a layer (``op == "layer"``: a :class:`~convmat.networks._kinds.Stage`, read by
its kind as in a chain) or an operation on tensors (:data:`OPERATIONS`). Each row
describes the node's own matrix, from its inputs stacked one after the other to its
output (:math:`k` inputs, an output of :math:`n` entries):

=========  =================================================  ================  ============
op         the node's matrix                                   stored            norm
=========  =================================================  ================  ============
add, sub   :math:`[\,I\; \pm I\; \cdots\,]`, :math:`n \times kn`  :math:`kn`        :math:`\sqrt{k}`
mul        at a point: :math:`[\operatorname{diag} b\;\; \operatorname{diag} a]`   :math:`\le 2n`
cat,       a permutation of the stacked inputs                 :math:`n`         1
stack
affine     :math:`\operatorname{diag}(c)`                       :math:`n`
gather     a selection: one 1 per output                       :math:`n`         1
reduce     sums (means) over axes: one entry per input         its inputs
=========  =================================================  ================  ============

(a concatenation along channels of ``(C_i, *spatial)`` inputs is the identity in C order;
a broadcast input of a sum repeats its columns, which keeps :math:`n` entries per input).

The receptive field of a node is that of the network up to it: every path from the input
to the node is a stack of windows (:func:`convmat.receptive_field`), and the node's output
depends on the union of their windows. When every path has the same jump, the field is the
span of that union per dim (what the rows of the node's Jacobian show); otherwise the
largest span over the paths. A path through a layer that mixes every position (Linear,
Flatten) or has no integer window (upsampling, transposed convolution), or an operation
that changes the spatial shape other than by a window (a reshape, a reduction, a
concatenation along a spatial axis) ends the field of every node after it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ConvmatError
from ..receptive import receptive_field
from ._graph import Graph, Node
from ._kinds import FieldStep

__all__ = ["OPERATIONS", "Operation", "graph_rows"]


@dataclass(frozen=True)
class Operation:
    """What the summary says of a node that is not a layer: its type name, the entries its
    matrix stores (and whether that is exact), its spectral norm (``None``: not given) and
    whether it keeps the receptive field (else ends it), from the node and its inputs."""

    type: str
    stored: Callable[[Node, list[Node]], int]
    exact: bool = True
    linear: bool = True
    norm: Callable[[Node, list[Node]], float | None] = lambda node, ins: None
    keeps_field: Callable[[Node, list[Node]], bool] = \
        lambda node, ins: all(i.shape[1:] == node.shape[1:] for i in ins)
    #: the row's type is what the node calls (``torch.cat``, ``view``, ``mean``), else
    #: :attr:`type` (an affine map by constants: its ``*`` or ``-`` is not a tensor's)
    by_target: bool = True


def _per_input(node: Node, ins: list[Node]) -> int:
    return len(ins) * node.size


def _sum_norm(node: Node, ins: list[Node]) -> float | None:
    # [I ±I ...] of equal shapes; a broadcast input's norm is not that
    return math.sqrt(len(ins)) if all(i.shape == node.shape for i in ins) else None


def _along_channels(node: Node, ins: list[Node]) -> bool:
    dim = node.cfg.get("dim", 0)
    return isinstance(dim, int) and dim % len(node.shape) == 0 and \
        all(i.shape[1:] == node.shape[1:] for i in ins)


#: the summary of each operation of a graph (:data:`convmat.networks._graph.OPS`) but
#: ``input`` and ``layer``
OPERATIONS: dict[str, Operation] = {
    "add": Operation("add", _per_input, norm=_sum_norm),
    "sub": Operation("sub", _per_input, norm=_sum_norm),
    "mul": Operation("mul", _per_input, exact=False, linear=False),
    "cat": Operation("cat", lambda node, ins: node.size, norm=lambda node, ins: 1.0,
                     keeps_field=_along_channels),
    "stack": Operation("stack", lambda node, ins: node.size, norm=lambda node, ins: 1.0,
                       keeps_field=lambda node, ins: False),
    "affine": Operation("affine", lambda node, ins: node.size, exact=False, by_target=False),
    "gather": Operation("gather", lambda node, ins: node.size, norm=lambda node, ins: 1.0),
    "reduce": Operation("reduce", lambda node, ins: sum(i.size for i in ins)),
}


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


def _parameters(stage: Any) -> int:
    """The stage's parameters: counted when read, else those of its PyTorch module."""
    if stage.parameters is not None:
        return int(stage.parameters)
    module = stage.module
    return 0 if module is None else int(sum(p.numel() for p in module.parameters()))


def graph_rows(graph: Graph, spectral_norm: Callable[..., float] | None) -> list[dict]:
    """The fields of one :class:`~convmat.networks.LayerSummary` per node but the input (a
    dict each), in the graph's (topological) order."""
    ndim = len(graph.input.shape) - 1
    one = (1,) * ndim
    nodes = {graph.input.name: graph.input}
    paths: dict[str, Any] = {graph.input.name: {(one, one, (0,) * ndim): ()}}
    rows = []
    for node in graph.nodes[1:]:
        ins = [nodes[i] for i in node.inputs]
        incoming = [paths[i] for i in node.inputs]
        joined: Any = None if any(p is None for p in incoming) else \
            {k: v for p in incoming for k, v in p.items()}
        norm: float | None = None
        try:
            if node.stage is not None:
                stage, shape = node.stage, ins[0].shape
                kind_type = stage.type
                stored, exact = stage.kind.stored(stage, shape, node.shape)
                paths[node.name] = _extend(joined, stage.kind.field_step(stage, shape)
                                           if joined is not None else FieldStep.ENDS)
                if stage.linear and spectral_norm is not None:
                    try:  # the kinds ask for the plain (uncertified) norm: a float
                        norm = stage.kind.spectral(stage, shape, spectral_norm)
                    except ConvmatError:
                        norm = None
                linear, parameters = stage.linear, _parameters(stage)
            else:
                op = OPERATIONS[node.op]
                kind_type = node.target if op.by_target and node.target else op.type
                stored, exact, linear, parameters = op.stored(node, ins), op.exact, \
                    op.linear, 0
                norm = op.norm(node, ins) if spectral_norm is not None else None
                paths[node.name] = joined if op.keeps_field(node, ins) else None
        except ConvmatError as exc:
            raise ConvmatError(f"{node.label}: {exc.message}") from None
        nodes[node.name] = node
        rows.append({
            "name": node.name, "type": kind_type, "output_shape": tuple(node.shape),
            "parameters": parameters, "matrix_shape": (node.size, sum(i.size for i in ins)),
            "stored": int(stored), "exact": exact, "linear": linear,
            "receptive_field": _union(paths[node.name], ndim),
            "spectral_norm": None if norm is None else float(norm),
            "inputs": tuple(node.inputs)})
    return rows
