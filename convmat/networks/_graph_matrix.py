r"""A graph's matrix (:mod:`convmat.networks._graph`), and its Jacobian at a point.

Node by node in topological order, every node's map from the graph's input,
:math:`A_v = \sum_u F_{v,u} A_u` and :math:`b_v = \sum_u F_{v,u} b_u + c_v` with the
factors of :mod:`convmat.networks._graph_kinds`. A run of one-input nodes (a chain between
two branch points) is multiplied at once by the chain's products
(:func:`convmat.networks._chain.compose`); a node read by several others, or by a sum, a
concatenation or a product, is formed once. At a point every factor is taken at the value
PyTorch computes for that node's inputs, so the result is the graph's exact Jacobian.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._memory import check_budget
from ..errors import ConvmatError
from ._chain import _product, compose
from ._factors import Rows, apply
from ._graph import Graph
from ._graph_kinds import node_kind
from ._kinds import guard

__all__ = ["graph_matrix"]


class _Pending:
    """A node's map as a base node's (``None``: the input) and the factors since it."""

    def __init__(self, base: Any, pairs: list, n_in: int) -> None:
        self.done: Any
        self.base, self.pairs, self.n_in = base, pairs, n_in
        self.done = None

    def formed(self, n_out: int) -> tuple[Any, np.ndarray]:
        if self.done is None:
            pairs = self.pairs if self.base is None else [self.base, *self.pairs]
            self.done = compose(pairs, self.n_in, n_out)
        return self.done


def _combine(factors: list, formed: list, bias: np.ndarray | None, n_out: int,
             label: str) -> tuple[sp.csr_array, np.ndarray]:
    """``sum_i F_i A_i`` and ``sum_i F_i b_i + bias`` (a sum, a concatenation, a
    product's rule)."""
    total = sum(int(a.nnz) for a, _ in formed)
    check_budget(24 * total + 16 * n_out, f"{label}: its matrix", nnz=total)
    mats, b = [], np.zeros(n_out) if bias is None else np.asarray(bias, dtype=np.float64)
    for f, (a, b_in) in zip(factors, formed):
        if isinstance(f, Rows) and f.diagonal and np.all(f.values == 1):
            mats.append(a)
        else:
            mats.append(sp.csr_array(_product(f, a, f"{label}: its matrix")))
        b = b + apply(f, b_in)
    out = mats[0]
    for m in mats[1:]:
        out = out + m
    return sp.csr_array(out), b


def graph_matrix(graph: Graph, values: dict,
                 at: np.ndarray | None) -> tuple[sp.csr_array, np.ndarray]:
    """``(A, b)`` of the graph (``at=None``: every node linear), or at the point ``at``
    (``values``: every node's value there, flat) its Jacobian and ``f(at) - A at``."""
    for node in graph.nodes:  # the layers' matrices estimated before anything is built
        if node.stage is not None:
            guard([node.stage], [graph.node(node.inputs[0]).shape, node.shape])
    n_in = graph.input.size
    reads: dict[str, int] = {}
    for node in graph.nodes:
        for name in node.inputs:
            reads[name] = reads.get(name, 0) + 1
    maps = {graph.input.name: _Pending(None, [], n_in)}
    sizes = {n.name: n.size for n in graph.nodes}
    for node in graph.nodes[1:]:
        kind = node_kind(node)
        in_shapes = [graph.node(i).shape for i in node.inputs]
        points = None if at is None else [values[i] for i in node.inputs]
        factors, bias = kind.factors(node, in_shapes, points)
        if bias is None:
            bias = np.zeros(node.size)
        if len(node.inputs) == 1:
            before = maps[node.inputs[0]]
            if reads[node.inputs[0]] == 1 and before.done is None:
                maps[node.name] = _Pending(before.base, [*before.pairs, (factors[0], bias)],
                                           n_in)
            else:
                base = before.formed(sizes[node.inputs[0]])
                maps[node.name] = _Pending(base, [(factors[0], bias)], n_in)
            continue
        formed = [maps[i].formed(sizes[i]) for i in node.inputs]
        pending = _Pending(None, [], n_in)
        pending.done = _combine(factors, formed, bias, node.size, node.label)
        maps[node.name] = pending
    a, b = maps[graph.output.name].formed(graph.output.size)
    a = sp.csr_array(a)
    if at is not None:
        with np.errstate(invalid="ignore"):
            b = values[graph.output.name] - a @ np.asarray(at, dtype=np.float64).reshape(-1)
    if a.shape != (graph.output.size, n_in):  # pragma: no cover - a kind's defect
        raise ConvmatError(f"the graph's matrix has shape {a.shape}, not "
                           f"({graph.output.size}, {n_in})")
    return a, np.asarray(b, dtype=np.float64).reshape(math.prod(graph.output.shape))
