"""PyTorch models read into a :class:`~convmat.networks._graph.Graph` with ``torch.fx``.

The model is traced (its registered and ``torch.nn`` modules kept whole), then run once in
float64 on the point (zeros without one) with the trace's own interpreter: every node's
value gives its shape, the constants (buffers, parameters, sizes) their values, and at a
point the inputs of the non-linear nodes. Each traced node becomes a graph node by what it
calls (:data:`FUNCTIONS` and the layer kinds); anything else is refused, naming the node
and the line of ``forward`` that made it. PyTorch is imported inside.
"""

from __future__ import annotations

import copy
import math
import operator
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import ConvmatError, brief
from ._factors import Rows
from ._functional import equivalent_module
from ._graph import Graph, Node
from ._registry import converted, kind_of_module

__all__ = ["read_graph"]

#: the arithmetic of tensors, by the name of the function or method (``operator.add``,
#: ``torch.add``, ``x.add``, ``x.add_``, ``operator.iadd`` are all "add")
_ARITHMETIC = {"add": "add", "iadd": "add", "sub": "sub", "isub": "sub", "subtract": "sub",
               "mul": "mul", "imul": "mul", "multiply": "mul", "truediv": "div",
               "itruediv": "div", "div": "div", "divide": "div", "neg": "neg",
               "negative": "neg"}
_GATHER_METHODS = {"view", "reshape", "flatten", "permute", "transpose", "squeeze",
                   "unsqueeze", "contiguous", "clone", "movedim", "view_as", "reshape_as",
                   "expand", "expand_as"}
_TUPLES = {"split", "chunk", "unbind", "tensor_split"}
_REDUCE = {"mean", "sum"}


def _line(fx_node: Any) -> str:
    """``file.py:12: code`` of the innermost frame of the trace outside PyTorch."""
    import torch

    trace = getattr(fx_node, "stack_trace", None) or ""
    torch_dir = str(Path(torch.__file__).parent)
    found = ""
    for path, number, code in re.findall(
            r'File "([^"]+)", line (\d+), in \S+(?:\n[ \t]+(?![ \t]*File ")(.*))?', trace):
        if not path.startswith(torch_dir):
            found = f"{Path(path).name}:{number}" + (f": {code.strip()}" if code.strip()
                                                       else "")
    return found


def _trace_failure(exc: BaseException, kind: str) -> ConvmatError:
    """A tracing error as a ConvmatError naming the line of forward that raised it."""
    import traceback

    import torch

    torch_dir = str(Path(torch.__file__).parent)
    package_dir = str(Path(__file__).resolve().parent.parent) + os.sep  # convmat's frames
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if not (frame.filename.startswith(torch_dir) or
                str(Path(frame.filename).resolve()).startswith(package_dir)):
            where = f" at {Path(frame.filename).name}:{frame.lineno}: {(frame.line or '').strip()}"
    return ConvmatError(f"the forward of {kind} could not be traced with torch.fx{where} "
                        f"({type(exc).__name__}: {exc}); from_torch reads the models torch.fx can "
                        f"trace (no data-dependent control flow)")


def _index_rows(out: Any, sizes: list[int], value: np.ndarray) -> tuple[list[Rows], Any]:
    """One :class:`Rows` per input from ``out``, an op applied to index tensors (input
    ``i``'s entries numbered from ``sum(sizes[:i])``, constants ``-1``), and the bias
    (the constants' values, from the op's real output ``value``)."""
    index = out.detach().numpy().reshape(-1).astype(np.int64)
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    rows = []
    for i, n in enumerate(sizes):
        mine = (index >= offsets[i]) & (index < offsets[i + 1])
        rows.append(Rows(np.where(mine, index - offsets[i], 0), mine.astype(np.float64), n))
    constant = index < 0
    return rows, (np.where(constant, value, 0.0) if constant.any() else None)


class _Reader:
    """One traced model being read: its nodes, their values, the graph nodes made."""

    def __init__(self, module: Any, x: np.ndarray) -> None:
        import torch
        import torch.fx

        self.torch = torch
        kind = type(module).__name__

        class Tracer(torch.fx.Tracer):
            def is_leaf_module(self, m, qualname):
                return converted(m) is not None or super().is_leaf_module(m, qualname)

        tracer = Tracer()
        tracer.record_stack_traces = True
        try:
            graph = tracer.trace(module)
        except Exception as exc:  # noqa: BLE001 - any tracing failure is reported
            raise _trace_failure(exc, kind) from None
        self.gm = torch.fx.GraphModule(tracer.root, graph)
        run = self.gm
        if any(t.is_floating_point() and t.dtype != torch.float64
               for t in [*run.parameters(), *run.buffers()]):
            run = copy.deepcopy(self.gm).double()  # read from the float64 copy
        self.gm = run
        interpreter = torch.fx.Interpreter(run, garbage_collect_values=False)
        try:
            with torch.no_grad():
                interpreter.run(torch.as_tensor(x, dtype=torch.float64)[None])
        except ConvmatError:
            raise
        except Exception as exc:  # noqa: BLE001 - the model fails on this input
            raise ConvmatError(f"the model fails on an input of shape {brief(x.shape)} "
                               f"({type(exc).__name__}: {exc})") from None
        self.env = interpreter.env
        self.nodes: list[Node] = []
        self.dependent: set[Any] = set()
        self.tuples: set[Any] = set()
        self.names: dict[Any, str] = {}  # fx node -> graph node name
        self.used: set[str] = set()

    # ---------------------------------------------------------------------- helpers
    def fail(self, fx_node: Any, why: str) -> ConvmatError:
        target = getattr(fx_node.target, "__name__", fx_node.target)
        name = str(fx_node.target) if fx_node.op == "call_module" else fx_node.name
        node = Node(name, "input", (), (), target=f"{fx_node.op} {target}",
                    line=_line(fx_node))
        return ConvmatError(f"{node.label} {why}")

    def tensor_inputs(self, fx_node: Any) -> list:
        """The input-dependent nodes among the node's arguments, in order (repeats kept)."""
        found: list = []
        self.torch.fx.node.map_arg((fx_node.args, fx_node.kwargs),
                                   lambda n: found.append(n) if n in self.dependent else None)
        return found

    def call(self, fx_node: Any, subst: dict) -> Any:
        """The node's call evaluated with some of its arguments replaced (``subst``)."""
        def value(n):
            if n in subst:
                return subst[n]
            if n in self.tuples and n.args and any(a in subst for a in self.tensor_inputs(n)):
                return self.call(n, subst)
            return self.env[n]

        args = self.torch.fx.node.map_arg(fx_node.args, value)
        kwargs = self.torch.fx.node.map_arg(fx_node.kwargs, value)
        if fx_node.op == "call_method":
            return getattr(args[0], fx_node.target)(*args[1:], **kwargs)
        return fx_node.target(*args, **kwargs)

    def shape(self, fx_node: Any) -> tuple:
        return tuple(self.env[fx_node].shape[1:])

    def sources(self, fx_node: Any) -> list:
        """The graph nodes an fx node's tensor inputs stand for (a getitem of a split reads
        the split's input)."""
        out = []
        for n in self.tensor_inputs(fx_node):
            out.extend(self.sources(n) if n in self.tuples else [n])
        return out

    def add(self, fx_node: Any, op: str, inputs: list, **kw: Any) -> None:
        name = fx_node.name
        if fx_node.op == "call_module" and str(fx_node.target) not in self.used:
            name = str(fx_node.target)  # a module by its path in the model
        self.names[fx_node] = name
        self.used.add(name)
        self.nodes.append(Node(name, op, tuple(self.names[n] for n in inputs),
                               self.shape(fx_node), line=_line(fx_node), **kw))

    # ---------------------------------------------------------------------- reading
    def read(self) -> Graph:
        torch = self.torch
        for fx_node in self.gm.graph.nodes:
            if fx_node.op == "placeholder":
                if self.nodes:
                    raise self.fail(fx_node, "is a second input; from_torch reads models "
                                             "of one input")
                self.dependent.add(fx_node)
                self.names[fx_node] = fx_node.name
                self.used.add(fx_node.name)
                self.nodes.append(Node(fx_node.name, "input", (), self.shape(fx_node),
                                       target="input"))
                continue
            if fx_node.op == "output":
                result = fx_node.args[0]
                if not isinstance(result, torch.fx.Node) or result not in self.dependent \
                        or result in self.tuples:
                    raise self.fail(fx_node, "returns several outputs (or none); from_torch "
                                             "reads models of one output tensor")
                if self.names[result] != self.nodes[-1].name:  # the output last
                    last = next(n for n in self.nodes if n.name == self.names[result])
                    self.nodes.append(Node(f"{last.name}_out", "gather", (last.name,),
                                           last.shape, target="output",
                                           cfg=dict(rows=[Rows.diag(np.ones(last.size))])))
                return Graph(self.nodes)
            if not self.tensor_inputs(fx_node):
                continue  # a constant (a parameter, a buffer, a size): its value is known
            value = self.env[fx_node]
            if fx_node.op == "call_module" and not isinstance(value, torch.Tensor):
                self.layer(fx_node, self.gm.get_submodule(fx_node.target), "")
            if isinstance(value, (tuple, list)) and value and all(isinstance(v, torch.Tensor)
                                                        for v in value):
                if fx_node.target not in _TUPLES and getattr(fx_node.target, "__name__",
                                                             None) not in _TUPLES:
                    raise self.fail(fx_node, "returns several tensors")
                self.dependent.add(fx_node)
                self.tuples.add(fx_node)
                continue
            if isinstance(value, (int, float, bool, torch.Size)) or (
                    isinstance(value, tuple) and all(isinstance(v, int) for v in value)):
                continue  # a size or a shape read from the input: a constant here
            if not isinstance(value, torch.Tensor):
                raise self.fail(fx_node, f"makes a {type(value).__name__}, not a tensor")
            self.dependent.add(fx_node)
            if value.dim() == 0 or value.shape[0] != 1:
                raise self.fail(fx_node, f"makes a tensor of shape {tuple(value.shape)} from "
                                         f"a batch of one: it does not keep the batch axis")
            self.read_node(fx_node)
        raise ConvmatError("the traced model has no output")  # fx always makes one

    def in_place(self, fx_node: Any, module: Any = None) -> bool:
        """Whether the node overwrites its input (``x.relu_()``, ``inplace=True``)."""
        name = getattr(fx_node.target, "__name__", fx_node.target)
        return (isinstance(name, str) and name.endswith("_") and not name.startswith("__")) \
            or fx_node.kwargs.get("inplace") is True or getattr(module, "inplace", False) is True

    def read_node(self, fx_node: Any) -> None:
        target, name = fx_node.target, getattr(fx_node.target, "__name__", fx_node.target)
        module = self.gm.get_submodule(target) if fx_node.op == "call_module" else None
        deps = self.tensor_inputs(fx_node)
        if deps and self.in_place(fx_node, module) and len(deps[0].users) > 1:
            raise self.fail(fx_node, f"overwrites its input {deps[0].name} in place, which "
                                     f"other nodes read too (PyTorch's trace does not follow "
                                     f"that); compute it out of place")
        if fx_node.op == "call_module":
            self.layer(fx_node, module, str(target))
            return
        arithmetic = _ARITHMETIC.get(str(name).strip("_")) if isinstance(name, str) else None
        if arithmetic in ("add", "sub") and len(deps) == 2:
            return self.sum(fx_node, -1.0 if arithmetic == "sub" else 1.0)
        if arithmetic == "mul" and len(deps) == 2:
            return self.product(fx_node)
        if arithmetic is not None and len(deps) == 1 and \
                (arithmetic != "div" or fx_node.args[0] is deps[0]):
            return self.affine(fx_node, deps[0])
        if name in ("cat", "concat", "concatenate", "stack") or target in _GATHER_METHODS \
                or target is operator.getitem or name in ("flatten", "squeeze", "unsqueeze",
                                                          "permute", "transpose", "movedim"):
            return self.gather(fx_node)
        if target in _REDUCE or name in _REDUCE:
            return self.reduce(fx_node)
        source = self.tensor_inputs(fx_node)
        if len(source) == 1 and (fx_node.args and fx_node.args[0] is source[0]):
            args = self.torch.fx.node.map_arg(fx_node.args[1:], lambda n: self.env[n])
            kwargs = self.torch.fx.node.map_arg(fx_node.kwargs, lambda n: self.env[n])
            try:
                module = equivalent_module(target, args, kwargs, self.shape(source[0]))
            except ConvmatError as exc:
                raise self.fail(fx_node, exc.message) from None
            if module is not None:
                return self.layer(fx_node, module, fx_node.name)
        raise self.fail(fx_node, "is not a function from_torch reads (see the list of "
                                 "supported layers and functions of from_torch)")

    def layer(self, fx_node: Any, module: Any, name: str) -> None:
        from ._from_torch import _torch_stage

        deps = self.tensor_inputs(fx_node)
        if len(deps) != 1 or fx_node.args[:1] != (deps[0],) or (
                fx_node.op == "call_module" and (len(fx_node.args) > 1 or fx_node.kwargs)):
            raise self.fail(fx_node, "calls a module with more than its one input tensor")
        if kind_of_module(module) is None:
            raise self.fail(fx_node, f"calls a {type(module).__name__}, a module type "
                                     f"from_torch does not read (give it a converter with "
                                     f"convmat.networks.register)")
        try:
            stage = _torch_stage(name, module)
            stage.kind.out_shape(stage, self.shape(deps[0]))
        except ConvmatError as exc:
            raise self.fail(fx_node, f"({type(module).__name__}) {exc.message}") from None
        self.add(fx_node, "layer", deps, stage=stage, target=type(module).__name__)

    def sum(self, fx_node: Any, sign: float) -> None:
        torch = self.torch
        deps = self.tensor_inputs(fx_node)
        out_shape = self.env[fx_node].shape
        alpha = float(fx_node.kwargs.get("alpha", 1.0))
        rows = []
        for i, n in enumerate(deps):
            value = self.env[n]
            index = torch.arange(value.numel(), dtype=torch.float64).reshape(value.shape)
            columns = torch.broadcast_to(index, out_shape).reshape(-1).numpy().astype(np.int64)
            scale = 1.0 if i == 0 else sign * alpha
            rows.append(Rows(columns, np.full(columns.size, scale), value.numel(),
                             diagonal=columns.size == value.numel() and scale == 1.0))
        if fx_node.args[0] is not deps[0]:  # a reflected call
            raise self.fail(fx_node, "is not a function from_torch reads")
        self.add(fx_node, "sub" if sign < 0 else "add", deps, target=_name(fx_node),
                 cfg=dict(rows=rows))

    def product(self, fx_node: Any) -> None:
        torch = self.torch
        deps = self.tensor_inputs(fx_node)
        out_shape = self.env[fx_node].shape
        columns = []
        for n in deps:
            value = self.env[n]
            index = torch.arange(value.numel(), dtype=torch.float64).reshape(value.shape)
            columns.append(torch.broadcast_to(index, out_shape).reshape(-1).numpy()
                           .astype(np.int64))
        self.add(fx_node, "mul", deps, target=_name(fx_node), cfg=dict(columns=columns))

    def affine(self, fx_node: Any, dep: Any) -> None:
        """``x * c + d`` elementwise: ``d`` the call at zeros, ``c`` at ones minus ``d``."""
        torch = self.torch
        x = self.env[dep]
        shift = self.call(fx_node, {dep: torch.zeros_like(x)})
        scale = self.call(fx_node, {dep: torch.ones_like(x)}) - shift
        index = torch.arange(x.numel(), dtype=torch.float64).reshape(x.shape)
        columns = torch.broadcast_to(index, shift.shape).reshape(-1).numpy().astype(np.int64)
        bias = shift.reshape(-1).numpy().astype(np.float64)
        self.add(fx_node, "affine", [dep], target=_name(fx_node),
                 cfg=dict(rows=[Rows(columns, scale.reshape(-1).numpy(), x.numel())],
                          bias=bias if bias.any() else None))

    def gather(self, fx_node: Any) -> None:
        torch = self.torch
        target = fx_node.target
        if target in ("permute", "transpose", "movedim") or \
                getattr(target, "__name__", "") in ("permute", "transpose", "movedim"):
            dims = [a for a in [*fx_node.args[1:], *fx_node.kwargs.values()]
                    if not isinstance(a, torch.fx.Node)]
            flat = [d for a in dims for d in (a if isinstance(a, (tuple, list)) else [a])]
            nd = self.env[fx_node].dim()
            moved = (flat[0] % nd != 0) if target == "permute" or \
                getattr(target, "__name__", "") == "permute" else any(d % nd == 0 for d in flat)
            if moved:
                raise self.fail(fx_node, "moves the batch axis")
        if target is operator.getitem and fx_node.args[0] not in self.tuples:
            index = fx_node.args[1]
            first = index[0] if isinstance(index, tuple) and index else index
            if first is not Ellipsis and first != slice(None):
                raise self.fail(fx_node, "indexes the batch axis; slice it whole (x[:, ...])")
        sources = list(dict.fromkeys(self.sources(fx_node)))
        subst, sizes, offset = {}, [], 0
        for n in sources:
            value = self.env[n]
            subst[n] = torch.arange(value.numel(), dtype=torch.float64).reshape(
                value.shape) + offset
            sizes.append(value.numel())
            offset += value.numel()
        for n in self.constant_tensors(fx_node):
            subst[n] = torch.full_like(self.env[n], -1.0, dtype=torch.float64)
        out = self.call(fx_node, subst)
        rows, bias = _index_rows(out, sizes, self.env[fx_node].reshape(-1).numpy())
        name = getattr(target, "__name__", target)
        op = name if name in ("cat", "stack") else "gather"
        self.add(fx_node, op, sources, target=_name(fx_node),
                 cfg=dict(rows=rows, bias=bias, dim=_dim(fx_node)))

    def constant_tensors(self, fx_node: Any) -> list:
        found: list = []
        self.torch.fx.node.map_arg(
            (fx_node.args, fx_node.kwargs),
            lambda n: found.append(n) if n not in self.dependent and isinstance(
                self.env.get(n), self.torch.Tensor) else None)
        return found

    def reduce(self, fx_node: Any) -> None:
        torch = self.torch
        (dep,) = self.tensor_inputs(fx_node) or (None,)
        if fx_node.args[0] is not dep:
            raise self.fail(fx_node, "is not a function from_torch reads")
        x = self.env[dep]
        dims = fx_node.kwargs.get("dim", fx_node.args[1] if len(fx_node.args) > 1 else None)
        dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        if dims == (None,) or any(d % x.dim() == 0 for d in dims):
            raise self.fail(fx_node, "reduces over the batch axis; give the axes of one sample "
                                     "(dim=...)")
        keep = self.call(fx_node, {dep: torch.zeros_like(x)}).numel()
        index = torch.arange(keep, dtype=torch.float64).reshape(
            torch.sum(torch.zeros_like(x), dim=dims, keepdim=True).shape)
        column = torch.broadcast_to(index, x.shape).reshape(-1).numpy().astype(np.int64)
        name = fx_node.target if isinstance(fx_node.target, str) else fx_node.target.__name__
        weight = 1.0 / (x.numel() // keep) if name == "mean" else 1.0
        matrix = sp.csr_array((np.full(column.size, weight), (column, np.arange(column.size))),
                              shape=(keep, x.numel()))
        self.add(fx_node, "reduce", [dep], target=_name(fx_node),
                 cfg=dict(matrix=matrix, dims=dims))


def _name(fx_node: Any) -> str:
    target = fx_node.target
    if isinstance(target, str):
        return target
    module = getattr(target, "__module__", "") or ""
    short = getattr(target, "__name__", str(target))
    return f"torch.{short}" if module.startswith("torch") and short in ("cat", "stack") \
        else short


def _dim(fx_node: Any) -> int | None:
    dim = fx_node.kwargs.get("dim", fx_node.args[1] if len(fx_node.args) > 1 else None)
    return dim - 1 if isinstance(dim, int) and dim > 0 else dim if isinstance(dim, int) \
        else None


def read_graph(module: Any, shape: tuple, at: np.ndarray | None) -> tuple[Graph, dict]:
    """(graph, every node's value at the point as a flat float64 array) of ``module`` on
    an input of full ``shape`` (one sample); the point is ``at`` or zeros."""
    x = np.zeros(shape) if at is None else np.asarray(at, dtype=np.float64).reshape(shape)
    reader = _Reader(module, x)
    graph = reader.read()
    values = {name: reader.env[n].detach().reshape(-1).numpy()
              for n, name in reader.names.items()}
    last = graph.output
    if last.name not in values:
        values[last.name] = values[last.inputs[0]]
    if math.prod(last.shape) != values[last.name].size:
        raise ConvmatError("the output's shape is not known")  # pragma: no cover
    return graph, values
