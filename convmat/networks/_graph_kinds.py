r"""Node kinds of a graph (:mod:`convmat.networks._graph`): one class per operation, in
one registry (:data:`NODE_KINDS`), each giving a node's factors — its Jacobian with
respect to each of its inputs — from which the graph's matrix is assembled:

.. math::

    A_v = \sum_{u \in \mathrm{inputs}(v)} F_{v,u} A_u, \qquad
    b_v = \sum_{u} F_{v,u} b_u + c_v .

A layer's factor is its kind's matrix (its Jacobian at a point); a sum's, a
concatenation's, a rearrangement's and a constant scaling's are :class:`Rows` (one entry
per row: the copied, or scaled, input value); a product's at a point is the diagonal of
the other factor's value (the product rule); a reduction's a sparse matrix.
"""

from __future__ import annotations

import abc
import math
from typing import Any, ClassVar

import numpy as np

from ..errors import ConvmatError
from ._factors import Rows
from ._graph import Node

__all__ = ["NODE_KINDS", "NodeKind", "node_kind"]

#: the kind of every operation of :data:`convmat.networks._graph.OPS`
NODE_KINDS: dict[str, NodeKind] = {}


class NodeKind(abc.ABC):
    """What one operation of a graph contributes to the graph's matrix."""

    ops: ClassVar[tuple[str, ...]]
    #: whether its factors are the same at every point
    linear: ClassVar[bool] = True

    @abc.abstractmethod
    def factors(self, node: Node, in_shapes: list[tuple],
                points: list[np.ndarray] | None) -> tuple[list[Any], np.ndarray | None]:
        """(one factor per input, the bias it adds or ``None``): its matrix, or at the
        flat input values ``points`` its Jacobian."""

    @abc.abstractmethod
    def stored(self, node: Node, in_shapes: list[tuple]) -> tuple[int, bool]:
        """(stored entries of its factors together, exact?), from the geometry."""


def _registered(cls: type[NodeKind]) -> type[NodeKind]:
    for op in cls.ops:
        NODE_KINDS[op] = cls()
    return cls


def node_kind(node: Node) -> NodeKind:
    """The kind of ``node``'s operation."""
    return NODE_KINDS[node.op]


@_registered
class Layer(NodeKind):
    """A layer read by its layer kind (a module, or a function read as its module)."""

    ops = ("layer",)

    def factors(self, node, in_shapes, points):
        stage, shape = node.stage, in_shapes[0]
        assert stage is not None
        try:
            if points is None:
                if not stage.linear:
                    raise ConvmatError("is not linear: its matrix depends on the input; pass "
                                       "at=x for the network's Jacobian at x")
                factor, bias = stage.kind.matrix(stage, shape, node.shape)
            else:
                factor, bias, _ = stage.kind.jacobian(stage, points[0], shape, node.shape)
        except ConvmatError as exc:
            raise ConvmatError(f"{node.label}: {exc.message}") from None
        return [factor], bias

    def stored(self, node, in_shapes):
        assert node.stage is not None
        return node.stage.kind.stored(node.stage, in_shapes[0], node.shape)


@_registered
class Copies(NodeKind):
    """Sums, differences, concatenations, stacks, rearrangements and scalings by
    constants: every output reads at most one value of each input, times a constant
    (``cfg["rows"]``: one :class:`Rows` per input; ``cfg["bias"]``: the constants)."""

    ops = ("add", "sub", "cat", "stack", "gather", "affine")

    def factors(self, node, in_shapes, points):
        return list(node.cfg["rows"]), node.cfg.get("bias")

    def stored(self, node, in_shapes):
        return sum(int(np.count_nonzero(r.values)) for r in node.cfg["rows"]), True


@_registered
class Product(NodeKind):
    """``a * b`` of two tensors that depend on the input: at a point, the product rule
    :math:`d(ab) = \\operatorname{diag}(b)\\,da + \\operatorname{diag}(a)\\,db`
    (``cfg["columns"]``: each input's entry every output reads, broadcasting)."""

    ops = ("mul",)
    linear = False

    def factors(self, node, in_shapes, points):
        if points is None:
            raise ConvmatError(f"{node.label} multiplies two tensors that depend on the "
                               f"input: not linear; pass at=x for the Jacobian at x")
        (ca, cb), n = node.cfg["columns"], [math.prod(s) for s in in_shapes]
        a, b = points[0][ca], points[1][cb]
        return [Rows(ca, b, n[0]), Rows(cb, a, n[1])], None

    def stored(self, node, in_shapes):
        return 2 * node.size, False


@_registered
class Reduction(NodeKind):
    """``x.sum`` / ``x.mean`` over axes: ``cfg["matrix"]`` (one entry per input)."""

    ops = ("reduce",)

    def factors(self, node, in_shapes, points):
        return [node.cfg["matrix"]], None

    def stored(self, node, in_shapes):
        return int(node.cfg["matrix"].nnz), True
