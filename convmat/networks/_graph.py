r"""A network as a graph: the intermediate representation of models that are not chains.

A model whose ``forward`` adds, concatenates or multiplies tensors (a ResNet's residual
connections, a U-Net's skips, a squeeze-and-excitation gate) is read with ``torch.fx`` into
a :class:`Graph`: its :class:`Node` s in topological order, the first the model's input
(``op == "input"``), the last the model's output. Every node computes one tensor from the
tensors of earlier nodes (``inputs``, by name) and constants (held in ``cfg``); nothing in
the graph refers to ``torch.fx`` any more.

The operations (:data:`OPS`) and what a node of each holds:

============  ===========================================================================
``op``        the node
============  ===========================================================================
``input``     the model's input; ``shape`` is one sample's ``(C, *spatial)``
``layer``     one layer read by a layer kind (:mod:`convmat.networks._kinds`): a module
              of the model, or a function call read as its module (``F.conv2d(x, w)``
              as a ``Conv2d``); ``stage`` is its :class:`~convmat.networks._kinds.Stage`
``add``       ``a + b`` of two tensors (residual connections; broadcasting allowed)
``sub``       ``a - b`` of two tensors
``mul``       ``a * b`` of two tensors that both depend on the input (only at a point:
              the product rule)
``cat``       ``torch.cat`` of several tensors (``cfg["dim"]``: the axis of one sample)
``stack``     ``torch.stack`` of several tensors (``cfg["dim"]``: the new axis)
``affine``    ``x * c + d`` by constants (a number or a buffer/parameter, broadcast):
              ``*``, ``/``, ``+``, ``-`` with a constant, negation
``gather``    a rearrangement that copies values: ``view``, ``reshape``, ``flatten``,
              ``permute``, ``transpose``, ``squeeze``, ``unsqueeze``, slicing and
              ``split``/``chunk`` (``x[:, :2]``), keeping the batch axis
``reduce``    ``x.mean`` / ``x.sum`` over axes of one sample
============  ===========================================================================

Each node also records ``line``: the line of ``forward`` that made it (file, number and
code, from the trace), used in error messages, and ``target``: what it calls, readable
(``"Conv2d"``, ``"add"``, ``"torch.cat"``, ``"view"``). ``shape`` is the node's output
shape for one sample (no batch axis), as PyTorch computes it.

A chain (every node reads the one before) is a graph too; :func:`convmat.from_torch`
keeps its chain path for those and uses the graph for the rest.

Examples
--------
>>> g = Graph([Node("x", "input", (), (1, 4)), Node("y", "add", ("x", "x"), (1, 4))])
>>> g.output.name, [n.name for n in g.consumers("x")]
('y', ['y'])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConvmatError
from ._kinds import Stage

__all__ = ["OPS", "Graph", "Node"]

#: the operations of a graph's nodes (see the module's table)
OPS = ("input", "layer", "add", "sub", "mul", "cat", "stack", "affine", "gather", "reduce")


@dataclass
class Node:
    """One node of a :class:`Graph`: it computes a tensor of ``shape`` (one sample) from
    the nodes named in ``inputs`` by its operation ``op`` (one of :data:`OPS`)."""

    name: str
    op: str
    inputs: tuple[str, ...]
    shape: tuple[int, ...]
    stage: Stage | None = None  # op == "layer": the layer
    target: str = ""  # what the node calls: "Conv2d", "add", "torch.cat", "view", ...
    line: str = ""  # the line of forward that made it: "model.py:12: return x + y"
    cfg: dict[str, Any] = field(default_factory=dict)  # constants and configuration

    @property
    def size(self) -> int:
        """Entries of the node's output (one sample)."""
        return math.prod(self.shape)

    @property
    def label(self) -> str:
        """The node as error messages name it: ``node add (add, at model.py:12: ...)``."""
        where = f", at {self.line}" if self.line else ""
        return f"node {self.name} ({self.target or self.op}{where})"


@dataclass
class Graph:
    """A network's nodes in topological order: ``nodes[0]`` is the input, ``nodes[-1]``
    the output; every node's ``inputs`` name earlier nodes."""

    nodes: list[Node]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for node in self.nodes:
            if node.op not in OPS:
                raise ConvmatError(f"{node.label}: op={node.op!r} is not one of {OPS}")
            missing = [i for i in node.inputs if i not in seen]
            if missing:
                raise ConvmatError(f"{node.label} reads {missing}, not an earlier node")
            seen.add(node.name)
        if not self.nodes or self.nodes[0].op != "input":
            raise ConvmatError("a graph starts with its input node")

    @property
    def input(self) -> Node:
        return self.nodes[0]

    @property
    def output(self) -> Node:
        return self.nodes[-1]

    def node(self, name: str) -> Node:
        """The node called ``name``."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise ConvmatError(f"the graph has no node {name!r}")

    def consumers(self, name: str) -> list[Node]:
        """The nodes that read node ``name``, in order."""
        return [n for n in self.nodes if name in n.inputs]

    @property
    def is_chain(self) -> bool:
        """Whether every node reads exactly the node before it."""
        return all(n.inputs == (p.name,) for p, n in zip(self.nodes, self.nodes[1:]))

    def stages(self) -> list[Stage]:
        """The layers (``op == "layer"``) in order."""
        return [n.stage for n in self.nodes if n.stage is not None]
