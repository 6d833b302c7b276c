r"""Whole networks as matrices: PyTorch layers and models as affine maps, Jacobians, summaries.

A network of linear layers (convolution, transposed convolution, average pooling, batch
normalisation in eval mode, fully connected, padding, upsampling, pixel shuffles, reshapes)
is one affine map :math:`x \mapsto A x + b`. :func:`from_torch` builds ``A`` as a SciPy
sparse array from convmat's own builders, layer by layer, and multiplies the layers'
matrices (sparse products, the bias carried through). Non-linear layers (ReLU, max
pooling, ...) have no such matrix; at a point :math:`x` they have a Jacobian (a diagonal
mask, a selection of the windows' maxima), and the product of the layers' Jacobians is the
network's Jacobian at :math:`x`.

:func:`summary` tabulates a network layer by layer (output shape, parameters, the layer's
matrix shape, stored entries, density, receptive field) from a PyTorch model or from a
plain description of its layers (no PyTorch needed), e.g.
``"conv 6 5x5 pad 2; avgpool 2; conv 16 5x5; avgpool 2; linear 120; linear 84; linear 10"``.

Conventions as everywhere in convmat: one sample, no batch axis, flattened in C order, so
``A @ x.ravel() + b == model(x[None])[0].ravel()`` for ``x`` of shape ``(C, *spatial)``.
PyTorch is imported only inside the functions that need it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from .._validate import as_flag, as_shape
from ..errors import ConvmatError, error_context
from ..receptive import receptive_field
from ..spectral import spectral_norm
from . import _registry
from ._chain import compose, linearise
from ._descriptions import LAYER_GRAMMAR as _CHAIN_GRAMMAR
from ._descriptions import parse_layers
from ._from_torch import NotAChain, _input_shape, _shapes, _torch_stages
from ._graph import Graph
from ._graph_descriptions import BLOCK_GRAMMAR, description_graph, is_graph_description
from ._graph_matrix import graph_matrix
from ._graph_read import read_graph
from ._graph_summary import graph_rows
from ._kinds import FieldStep, LinearKind, guard
from ._lipschitz import (LayerLipschitz, LipschitzBound, SegmentNorm, as_point, check_mode,
                         checked_in_channels, lipschitz_bound, lipschitz_record,
                         network_chain)
from ._torch_reverse import narrow_jacobian

__all__ = ["LAYER_GRAMMAR", "LayerLipschitz", "LipschitzBound", "MODELS", "SegmentNorm",
           "from_torch", "lipschitz_bound", "parse_layers", "register", "summary",
           "to_torch_sparse"]

#: the text grammar of :func:`summary`'s descriptions: layers, then the blocks of a graph
LAYER_GRAMMAR = f"{_CHAIN_GRAMMAR}\n{BLOCK_GRAMMAR}"

MODELS = {
    # LeCun et al., "Gradient-based learning applied to document recognition": 32x32, no
    # padding (28, 14, 10, 5, 400 -> 120 -> 84 -> 10; 61,706 parameters)
    "lenet5": ("conv1: conv 6 5x5; tanh; pool1: avgpool 2; conv2: conv 16 5x5; tanh; "
               "pool2: avgpool 2; flatten; fc1: linear 120; tanh; fc2: linear 84; tanh; "
               "fc3: linear 10"),
    # the same network on 28x28 (MNIST) with conv1 padded by 2: the same shapes inside
    "lenet5-padded": ("conv1: conv 6 5x5 pad 2; tanh; pool1: avgpool 2; conv2: conv 16 5x5; "
                      "tanh; pool2: avgpool 2; flatten; fc1: linear 120; tanh; "
                      "fc2: linear 84; tanh; fc3: linear 10"),
    "vgg-block": ("conv 64 3x3 pad 1; bn; relu; conv 64 3x3 pad 1; bn; relu; maxpool 2"),
}

def from_torch(module: Any, input_shape: int | Sequence[int], *,  # module: a torch.nn.Module
               at: ArrayLike | None = None) -> tuple[sp.csr_array, np.ndarray]:
    r"""A PyTorch layer or model as an affine map ``(A, b)``; at ``x``, its Jacobian.

    Parameters
    ----------
    module : torch.nn.Module
        A supported layer, an ``nn.Sequential`` (nested ones too) of them, or a custom
        module whose ``forward`` is a chain of them (traced with ``torch.fx``; activations,
        pooling, ``torch.flatten`` and ``x.view(x.size(0), -1)`` may be functions): ``ConvNd``
        (every padding mode, ``padding="same"``, groups, dilation, bias),
        ``ConvTransposeNd``, ``AvgPoolNd`` (``ceil_mode``, ``count_include_pad``,
        ``divisor_override``), ``AdaptiveAvgPoolNd``, ``BatchNormNd`` in eval mode,
        ``Linear``, ``Flatten``, ``Unflatten``, ``Identity``, dropout in eval mode,
        ``PixelShuffle``, ``PixelUnshuffle``, the padding modules (``ZeroPadNd``,
        ``ConstantPadNd``, ``ReflectionPadNd``, ``ReplicationPadNd``, ``CircularPadNd``),
        ``Upsample`` (nearest, nearest-exact, linear, bilinear, trilinear); with ``at``
        also ``MaxPoolNd``, ``AdaptiveMaxPoolNd`` and the element-wise activations
        (``ReLU``, ``LeakyReLU``, ``Hardtanh``, ``Tanh``, ``GELU``, ...), ``LayerNorm``,
        ``GroupNorm``, ``InstanceNormNd`` (eval), ``Softmax``, ``LogSoftmax``.

        A model that is not a chain is read as a graph (traced with ``torch.fx``): sums and
        differences of two tensors (residual connections), ``torch.cat`` /
        ``torch.stack``, with ``at`` products of two tensors (the product rule); the
        functions ``F.conv*d``, ``F.conv_transpose*d`` and ``F.linear`` with constant
        weights (buffers, parameters, ``self.conv.weight``), every activation, ``F.avg_pool*``,
        ``F.max_pool*``, ``F.adaptive_*``, ``F.pad``, ``F.interpolate``, ``F.layer_norm``,
        ``F.group_norm``, ``F.instance_norm``, ``F.batch_norm`` (eval), ``F.softmax``,
        ``F.log_softmax``, ``F.prelu``; ``torch.flatten``, ``view``, ``reshape``,
        ``flatten``, ``permute``, ``transpose``, ``squeeze``, ``unsqueeze``, slicing,
        ``torch.split`` / ``chunk`` that keep the batch axis; ``x.mean`` / ``x.sum`` over
        axes of one sample; ``*``, ``/``, ``+``, ``-`` by a number or a constant tensor.
        Several outputs, data-dependent control flow and other functions are refused
        (:class:`~convmat.ConvmatError` naming the node and the line of ``forward``).
    input_shape : sequence of int
        The spatial shape of one sample; its channels come from the first layer that fixes
        them. The full shape ``(C, *spatial)`` (or ``(features,)`` before a ``Linear``) is
        accepted too.
    at : array_like, optional
        A point ``x`` of shape ``(C, *input_shape)``: linearise the network there.
        Required when the network has a non-linear layer.

    Returns
    -------
    A : scipy.sparse.csr_array of float64, shape ``(prod(output shape), prod(input shape))``
    b : numpy.ndarray of float64
        Zeros when no layer has a bias.

    Notes
    -----
    For layers :math:`f_l(x) = A_l x + b_l` the network is

    .. math::

        A = A_L \cdots A_1, \qquad b = \sum_l A_L \cdots A_{l+1} b_l,

    multiplied as sparse products: from the output (input) end when that is much narrower
    than the rest of the chain, as reverse-mode (forward-mode) differentiation does, else
    cheapest adjacent pair first (multiplications counted exactly from the factors); a
    small chain of zero-padded convolutions, activations and max pooling from its output
    end as dense boxes, every row a box of the grid it reads taken through the transposed
    convolutions. With ``at=x`` a non-linear layer contributes its Jacobian at its own input :math:`x_l`: an
    activation :math:`\operatorname{diag}(\sigma'(x_l))`, max pooling the 0/1 selection of
    every window's maximum (the first in C order, as PyTorch picks it); then ``A`` is the
    network's Jacobian at ``x`` and :math:`b = f(x) - A x`. Those factors hold one entry per
    row: they are applied by gathering and scaling rows (a convolution's rows that a
    selection keeps are the only ones built) or by renaming columns, not by products.
    A chain whose output is at most a quarter of every other layer's values (a classifier)
    goes back from its output at ``x`` as one dense block of output rows through every
    layer's adjoint, applied with PyTorch's kernels (the transposed convolution, the
    slopes, the maxima PyTorch's pooling picks), in float64.
    Every layer's matrix stores O(its outputs × its window) entries and the product is
    refused, before it is formed, when its bound exceeds the memory limit.

    A graph's node :math:`v` with inputs :math:`u` has
    :math:`A_v = \sum_u F_{v,u} A_u` and :math:`b_v = \sum_u F_{v,u} b_u + c_v`, its
    factors :math:`F_{v,u}` the node's Jacobian with respect to each input (the identity
    for a sum, a selection of rows for a concatenation, :math:`\operatorname{diag}(b)` and
    :math:`\operatorname{diag}(a)` for a product :math:`a b` at a point); runs of
    one-input nodes are multiplied as chains. A graph whose output is at most a quarter of
    its input (a classifier) is multiplied from the output back instead, every node's
    adjoint :math:`G_u = \sum_v G_v F_{v,u}` with as many rows as outputs (reverse-mode
    differentiation). At ``x`` every node's input is the value PyTorch computes there.

    Examples
    --------
    >>> import torch  # doctest: +SKIP
    >>> layer = torch.nn.Conv2d(1, 2, 3, padding=1).double()  # doctest: +SKIP
    >>> A, b = from_torch(layer, (5, 5))  # doctest: +SKIP
    >>> A.shape, b.shape  # doctest: +SKIP
    ((50, 25), (50,))
    """
    with error_context("from_torch", module=type(module).__name__, input_shape=input_shape):
        try:
            stages = _torch_stages(module)
        except NotAChain:
            return _graph_from_torch(module, input_shape, at)
        if at is None:
            for stage in stages:
                if not stage.linear:
                    raise ConvmatError(
                        f"{stage.label} is not linear: its matrix depends on the input; pass "
                        f"at=x for the network's Jacobian at x")
        shapes = _shapes(stages, _input_shape(stages, input_shape, at))
        if at is not None:  # a classifier: its layers' adjoints, dense blocks of few rows
            narrow = narrow_jacobian(stages, shapes, np.asarray(at, dtype=np.float64))
            if narrow is not None:
                return narrow
        guard(stages, shapes)  # every layer's matrix estimated before anything is built
        n_in, n_out = math.prod(shapes[0]), math.prod(shapes[-1])
        if at is None:
            pairs = []
            for stage, shape, out_shape in zip(stages, shapes, shapes[1:]):
                try:
                    kind = cast(LinearKind, stage.kind)  # stage.linear, checked above
                    pairs.append(kind.matrix(stage, shape, out_shape))
                except ConvmatError as exc:
                    raise ConvmatError(f"{stage.label}: {exc.message}") from None
            return compose(pairs, n_in, n_out)
        return linearise(stages, shapes, np.asarray(at, dtype=np.float64))


def _graph_from_torch(module: Any, input_shape: Any, at: Any) -> tuple[sp.csr_array, np.ndarray]:
    """:func:`from_torch` of a model that is not a chain: read as a graph."""
    point = None if at is None else np.asarray(at, dtype=np.float64)
    graph, values = _read_torch_graph(module, input_shape, at)
    return graph_matrix(graph, values, point)


def _read_torch_graph(module: Any, input_shape: Any, at: Any,
                      in_channels: int | None = None) -> tuple[Graph, dict]:
    """(graph, values) of a model that is not a chain, on the input shape its first
    layers fix (:func:`convmat.networks._graph_read.read_graph`)."""
    from ._from_torch import _torch_stage
    from ._registry import kind_of_module

    first = []  # the leaf modules in order: what they fix of the input's shape
    for name, m in module.named_modules():
        if not any(True for _ in m.children()) and kind_of_module(m) is not None:
            try:
                first.append(_torch_stage(name, m))
            except ConvmatError:
                break
    shape = _input_shape(first, input_shape, at, in_channels=in_channels)
    point = None if at is None else np.asarray(at, dtype=np.float64)
    return read_graph(module, shape, point)


def register(module_type: type, converter: Callable[..., Any]) -> None:
    r"""Read every module of ``module_type`` with ``converter`` in :func:`from_torch` and
    :func:`summary`.

    Parameters
    ----------
    module_type : type
        A subclass of ``torch.nn.Module``. Its instances (and those of its subclasses) are
        leaves of the model: a registered container is not looked into. A registration
        takes precedence over convmat's own layer kinds and over earlier registrations.
    converter : callable
        ``converter(module, input_shape, at) -> (A, b, output_shape)``: ``input_shape`` is
        the full shape ``(C, *spatial)`` of the module's input (one sample), ``at`` is
        ``None`` or the module's input as a NumPy array of that shape; ``A`` is a SciPy
        sparse array of shape ``(prod(output_shape), prod(input_shape))``, ``b`` a vector
        of ``prod(output_shape)`` values or ``None`` (zeros), so that the module maps the
        flattened ``x`` to :math:`A x + b` (at ``at``: its Jacobian there and
        :math:`b = f(at) - A\,at`).

    Notes
    -----
    The converter is called once with ``at=None`` per input shape (the result gives the
    output shape, the stored entries of :func:`summary` and the matrix), and with the
    layer's input when :func:`from_torch` linearises at a point. The receptive field of
    :func:`summary` ends at a converted layer; its spectral norm is not computed.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> class Negate:  # stands for an nn.Module subclass
    ...     pass
    >>> register(Negate, lambda m, shape, at: (-sp.eye_array(math.prod(shape)), None, shape))
    """
    _registry.register(module_type, converter)


def to_torch_sparse(A: Any) -> Any:  # a torch.Tensor: torch is optional, imported inside
    r"""A SciPy sparse matrix as a ``torch.sparse_csr_tensor`` (int64 indices, the values'
    dtype kept).

    Parameters
    ----------
    A : scipy.sparse array or matrix (any format)

    Returns
    -------
    torch.Tensor
        In the sparse CSR layout, of shape ``A.shape``: ``crow_indices`` is ``A.indptr``,
        ``col_indices`` is ``A.indices`` (both int64), ``values`` is ``A.data``, of the
        canonical CSR form (duplicates summed, columns sorted). PyTorch is imported here.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> T = to_torch_sparse(sp.csr_array([[1.0, 0.0], [0.0, 2.0]]))  # doctest: +SKIP
    >>> T.to_dense()  # doctest: +SKIP
    tensor([[1., 0.],
            [0., 2.]], dtype=torch.float64)
    """
    import scipy.sparse as sp

    from ._from_torch import _import_torch

    if not sp.issparse(A):
        raise ConvmatError(f"A={type(A).__name__} must be a SciPy sparse array or matrix")
    torch = _import_torch()
    a = sp.csr_array(A)
    if not a.has_canonical_format:
        a = a.copy()
        a.sum_duplicates()
    with warnings.catch_warnings():  # the layout asked for: PyTorch's note on it is noise
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(torch.from_numpy(a.indptr.astype(np.int64)),
                                       torch.from_numpy(a.indices.astype(np.int64)),
                                       torch.from_numpy(np.ascontiguousarray(a.data)),
                                       size=a.shape, check_invariants=False)  # canonical


# ---------------------------------------------------------------------------- summaries


@dataclass(frozen=True)
class LayerSummary:
    """One row of a :class:`Summary`."""

    name: str
    type: str
    output_shape: tuple
    parameters: int
    matrix_shape: tuple[int, int]
    stored: int
    exact: bool  # False: an upper bound (a non-linear layer's Jacobian at a point)
    linear: bool
    receptive_field: tuple[int, ...] | None
    spectral_norm: float | None = None
    lipschitz: float | None = None  # the layer's Lipschitz constant (spectral=...)
    inputs: tuple[str, ...] = ()  # a graph's node: the nodes it reads ("input": the input)

    @property
    def density(self) -> float:
        rows, cols = self.matrix_shape
        return self.stored / (rows * cols)


@dataclass
class Summary:
    """A network layer by layer; ``str()`` is the text table, see also :meth:`markdown` and
    :meth:`latex`. ``rows`` holds one :class:`LayerSummary` per layer."""

    input_shape: tuple
    rows: list[LayerSummary] = field(default_factory=list)
    spectral: bool = False
    #: with ``spectral``: the products (:func:`lipschitz_bound`'s record) and ``local``
    bound: LipschitzBound | None = None
    graph: bool = False  # a graph: the rows name their inputs

    @property
    def total_parameters(self) -> int:
        return sum(r.parameters for r in self.rows)

    def text(self) -> str:
        """A plain-text table (numbers right-aligned): :func:`convmat.text.summary_text`."""
        from ..text import summary_text

        return summary_text(self)

    def markdown(self) -> str:
        """A Markdown (GitHub) table: :func:`convmat.text.summary_markdown`."""
        from ..text import summary_markdown

        return summary_markdown(self)

    def latex(self, *, standalone: bool = False) -> str:
        r"""A LaTeX ``tabular``: :func:`convmat.text.summary_latex`."""
        from ..text import summary_latex

        return summary_latex(self, standalone=standalone)

    def __str__(self) -> str:
        return self.text()

    def _repr_markdown_(self) -> str:
        return self.markdown()


def summary(model: Any, input_shape: Any, *, in_channels: int | None = None,
            spectral: bool | str = False, at: ArrayLike | None = None,
            progress: bool = False, seed: int | None = None) -> Summary:
    r"""A network layer by layer: output shape, parameters, matrix, stored entries, density,
    receptive field (and spectral norm).

    Parameters
    ----------
    model : torch.nn.Module, str or sequence of dict/str
        A PyTorch model (as accepted by :func:`from_torch`), or a plain description of its
        layers: a string in the grammar of :data:`LAYER_GRAMMAR` (``"conv 6 5x5 pad 2;
        avgpool 2; ..."``) or a list of such strings or of dicts (``{"type": "conv",
        "out_channels": 6, "kernel_size": 5, "padding": 2, "name": "conv1"}``, keys as the
        PyTorch constructors'). Descriptions need no PyTorch; their ``linear`` layers act
        on the flattened input. A string with blocks, ``residual(BODY)``,
        ``residual(BODY | SHORTCUT)`` and ``cat(B1 | B2 | ...)``, describes a graph.
    input_shape : sequence of int
        Spatial shape of one sample (or the full shape ``(C, *spatial)`` of a model).
    in_channels : int, optional
        Channels of the input (descriptions: default 1; models: from the first layer).
    spectral : {False, True, "exact", "bound"}
        ``False`` (default): no norms, the table in milliseconds. ``True`` or ``"exact"``:
        two more columns, every linear layer's spectral norm (convolutions by
        :func:`convmat.spectral_norm`, certified; pooling, upsampling, padding, batch
        normalisation, ``Linear`` and reshapes too) and every layer's Lipschitz constant
        (non-linear layers: :func:`lipschitz_bound` lists them), their product in the
        total row. ``"bound"``: a convolution's column holds the smallest guaranteed
        upper bound of :func:`convmat.spectral_bounds` instead (often faster).
    at : array_like, optional
        A point ``x`` (with ``spectral``, a PyTorch model): the total row's spectral-norm
        cell is :math:`\|J(x)\|_2`, the norm of the network's Jacobian at ``x``.
    progress : bool
        With ``spectral``: a progress bar on standard error.
    seed : int, optional
        A description's convolutions, linear and batch-normalisation layers get seeded
        random weights, as :func:`lipschitz_bound` gives them (a description has none).

    Returns
    -------
    Summary
        ``str(s)`` / ``s.text()``, ``s.markdown()``, ``s.latex()``; ``s.rows``; with
        ``spectral``, ``s.bound`` (the record of :func:`lipschitz_bound`: the layer-wise
        product, ``local``; its segments are not merged, :func:`lipschitz_bound` does).

    Notes
    -----
    Row ``l`` describes layer ``l`` alone, as the matrix :math:`A_l` from its input to its
    output (not the product up to it): stored entries are the structural entries of
    :math:`A_l` (counted from the geometry, never built), density is
    :math:`\text{stored} / (\text{rows} \cdot \text{cols})`. A non-linear layer has a
    Jacobian at each point; its entries are an upper bound (``≤``). The receptive field
    is that of the stack up to the layer (:func:`convmat.receptive_field`), blank once a
    layer mixes all positions (Linear, Flatten) or has no integer window (upsampling,
    transposed convolution). With ``spectral``, the Lipschitz column's product (total
    row) bounds the network's Lipschitz constant, :math:`\operatorname{Lip}(f) \le
    \prod_l \operatorname{Lip}(f_l)`; :func:`lipschitz_bound` also gives the tighter
    product over the linear segments.

    A graph (a model with residual sums or concatenations, or a description with blocks)
    has one row per node in topological order and a column ``inputs`` naming the nodes it
    reads (``input``: the network's input). A sum of :math:`k` inputs of :math:`n` entries
    is the node's matrix :math:`[I \; I \cdots I]` (:math:`n \times kn`, :math:`kn`
    stored); a concatenation is the identity on its stacked inputs. A node's receptive field
    is the span of the union of the windows of every path from the input to it. With
    ``spectral``, a graph's rows hold the linear nodes' spectral norms (the Lipschitz
    column, ``at`` and the products are computed for chains; see :func:`lipschitz_bound`).

    Examples
    --------
    >>> s = summary("conv 6 5x5 pad 2; avgpool 2; conv 16 5x5; avgpool 2; linear 120",
    ...             (28, 28))
    >>> print(s.text())
    layer  type         output  params     matrix   stored  density  receptive field
    --------------------------------------------------------------------------------
    0      Conv2d      6x28x28     156   4704x784  107,736     2.9%              5x5
    1      AvgPool2d   6x14x14       0  1176x4704    4,704   0.085%              6x6
    2      Conv2d     16x10x10   2,416  1600x1176  240,000      13%            14x14
    3      AvgPool2d    16x5x5       0   400x1600    1,600    0.25%            16x16
    4      Linear          120  48,120    120x400   48,000     100%
    --------------------------------------------------------------------------------
    total                       50,692
    """
    with error_context("summary", input_shape=input_shape):
        mode = check_mode(spectral, "spectral", off=True)
        x = as_point(at)
        if x is not None and mode is False:
            raise ConvmatError("at=x gives the Jacobian's norm: pass spectral=True too")
        in_channels = checked_in_channels(in_channels)
        graph = None  # a model with residual sums or concatenations: one row per node
        if is_graph_description(model):
            graph = description_graph(cast(str, model),
                                      (in_channels or 1, *as_shape(input_shape, "input_shape")))
        else:
            try:  # a chain, read once; a PyTorch graph is read by torch.fx instead
                stages, shapes = network_chain(model, input_shape, in_channels, x, count=True,
                                               seed=seed)
            except NotAChain:
                graph = _read_torch_graph(model, input_shape, None, in_channels)[0]
        if graph is not None:
            if x is not None:
                raise ConvmatError("at=x (the Jacobian's norm) is computed for chains of "
                                   "layers; for a graph take from_torch(model, input_shape, "
                                   "at=x) and convmat.spectral_norm of that matrix")
            return _graph_summary(graph, mode is not False)
        bound = None
        if mode is not False:
            bound = lipschitz_record(stages, shapes, mode, x, as_flag(progress, "progress"),
                                     merge=False)  # the layers only: no segments
        rows, stack, field_open = [], [], True
        spatial = shapes[0][1:]
        for index, (stage, shape, out) in enumerate(zip(stages, shapes, shapes[1:])):
            kind = stage.kind
            try:
                stored, exact = kind.stored(stage, shape, out)
                step = kind.field_step(stage, shape) if field_open else FieldStep.ENDS
            except ConvmatError as exc:
                raise ConvmatError(f"{stage.label}: {exc.message}") from None
            if step is FieldStep.ENDS:
                field_open = False
            elif step is not FieldStep.KEEPS:
                stack.append(step)
            rf = None
            if field_open and spatial:
                rf = receptive_field(stack).size if stack else (1,) * len(spatial)
            params = stage.parameters if stage.parameters is not None else 0
            lip = None if bound is None else bound.rows[index].value
            rows.append(LayerSummary(stage.name, stage.type, tuple(out), params,
                                     (math.prod(out), math.prod(shape)), stored, exact,
                                     stage.linear, rf, lip if stage.linear else None, lip))
        return Summary(tuple(shapes[0]), rows, spectral=bound is not None, bound=bound)


def _graph_summary(graph: Graph, spectral: bool) -> Summary:
    """The summary of a graph: one row per node (:mod:`convmat.networks._graph_summary`);
    the linear nodes' spectral norms with ``spectral``."""
    norm = cast(Callable[..., float], spectral_norm) if spectral else None
    rows = [LayerSummary(**row) for row in graph_rows(graph, norm)]
    return Summary(tuple(graph.input.shape), rows, graph=True, spectral=spectral)
