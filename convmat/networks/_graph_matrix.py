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
from ._chain import _dense_csr, _product, compose
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


def _factors(graph: Graph, node: Any, values: dict, at: np.ndarray | None) -> tuple:
    """(the node's factors, its bias) (at the point, from the values PyTorch computed)."""
    in_shapes = [graph.node(i).shape for i in node.inputs]
    points = None if at is None else [values[i] for i in node.inputs]
    factors, bias = node_kind(node).factors(node, in_shapes, points)
    return factors, (np.zeros(node.size) if bias is None else bias)


def _add(a: Any, b: Any) -> Any:
    """``a + b`` of two partial products (sparse or dense)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (a if isinstance(a, np.ndarray) else a.toarray()) + \
            (b if isinstance(b, np.ndarray) else b.toarray())
    return sp.csr_array(a + b)


def _reverse(graph: Graph, values: dict, at: np.ndarray | None) -> tuple[Any, np.ndarray]:
    """``(A, b)`` from the output back (reverse mode): every node's adjoint
    :math:`G_u = \\sum_v G_v F_{v,u}` (``n_out`` rows), :math:`A = G_{input}`,
    :math:`b = \\sum_v G_v c_v`."""
    n_out = graph.output.size
    adjoints: dict[str, Any] = {graph.output.name: sp.eye_array(n_out, format="csr")}
    b = np.zeros(n_out)
    for node in reversed(graph.nodes[1:]):
        g = adjoints.pop(node.name, None)
        if g is None:
            continue  # the output does not read it
        factors, bias = _factors(graph, node, values, at)
        b = b + g @ bias
        for k, (name, f) in enumerate(zip(node.inputs, factors)):
            # a product may reuse (and prune in place) its left factor's index arrays: each
            # use but the last gets its own copy
            left = g.copy() if sp.issparse(g) and k < len(factors) - 1 else g
            part = left if f is None else _product(left, f, f"{node.label}: the adjoint")
            adjoints[name] = part if name not in adjoints else _add(adjoints[name], part)
    a = adjoints.get(graph.input.name, sp.csr_array((n_out, graph.input.size)))
    a = _dense_csr(a) if isinstance(a, np.ndarray) else sp.csr_array(a)
    if not a.has_sorted_indices:
        a = sp.csr_array(a.tocsc().tocsr())
    return a, b


def graph_matrix(graph: Graph, values: dict, at: np.ndarray | None,
                 reverse: bool | None = None) -> tuple[sp.csr_array, np.ndarray]:
    """``(A, b)`` of the graph (``at=None``: every node linear), or at the point ``at``
    (``values``: every node's value there, flat) its Jacobian and ``f(at) - A at``.

    From the output back (``reverse``) when the output is at most a quarter of the input
    (a classifier: every partial product has ``n_out`` rows, as reverse-mode
    differentiation), else from the input forward.
    """
    for node in graph.nodes:  # the layers' matrices estimated before anything is built
        if node.stage is not None:
            guard([node.stage], [graph.node(node.inputs[0]).shape, node.shape])
    n_in = graph.input.size
    if reverse is None:
        reverse = 4 * graph.output.size <= n_in
    if reverse:
        a, b = _reverse(graph, values, at)
        if at is not None:
            with np.errstate(invalid="ignore"):
                b = values[graph.output.name] - a @ np.asarray(at, dtype=np.float64).ravel()
        return a, np.asarray(b, dtype=np.float64)
    reads: dict[str, int] = {}
    for node in graph.nodes:
        for name in node.inputs:
            reads[name] = reads.get(name, 0) + 1
    maps = {graph.input.name: _Pending(None, [], n_in)}
    sizes = {n.name: n.size for n in graph.nodes}
    for node in graph.nodes[1:]:
        factors, bias = _factors(graph, node, values, at)
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
