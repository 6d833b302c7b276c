"""Layer kinds: one class per kind of layer, in one registry.

A :class:`Kind` says everything convmat knows about one kind of layer: how it is read from
a PyTorch module (:meth:`Kind.matches`, :meth:`Kind.read_module`) and from a text
description (:attr:`Kind.words`, :attr:`Kind.positional`, :meth:`Kind.read_description`),
its output shape, its matrix (:meth:`LinearKind.matrix`) or its Jacobian at a point
(:meth:`NonLinearKind.jacobian`), the entries its matrix stores (counted from the geometry,
in closed form), its receptive-field step and its spectral norm. Every method is abstract
(``matches`` reads the required class attribute ``modules``): a kind that lacks a method or
an attribute cannot be registered (``TypeError``); there is no silent default.

A :class:`Stage` is one layer of a given network: its kind, its configuration, its values
and its name. :func:`registered` adds a kind to :data:`KINDS`; the kinds themselves live in
the ``_*_kinds`` modules of this package (:mod:`convmat.networks._registry` loads them).
"""

from __future__ import annotations

import abc
import enum
import functools
import math
import re
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from .._memory import check_budget
from ..errors import ConvmatError, brief
from ._factors import apply

__all__ = ["AS_GIVEN", "KINDS", "FieldStep", "Kind", "LinearKind", "NonLinearKind", "Stage",
           "bias_vector", "channels_first", "guard", "nd_name", "registered", "spatial_split",
           "tensor_values"]


class FieldStep(enum.Enum):
    """What a layer without a window does to the receptive field of the stack."""

    KEEPS = "keeps"  # element-wise: the field stays as it is
    ENDS = "ends"    # mixes all positions or has no integer window: no field after it


#: :meth:`Kind.first_geometry` of a layer that takes its input shape as given (features)
AS_GIVEN = ("as given",)


@dataclass
class Stage:
    """One layer of a network: its kind, configuration (``cfg``), values and name."""

    name: str
    type: str
    kind: Kind
    cfg: dict = field(default_factory=dict)
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    module: Any = None  # the PyTorch module (for the non-linear layers' values at x)
    parameters: int | None = None

    @property
    def label(self) -> str:
        return f"layer {self.name} ({self.type})"

    @property
    def linear(self) -> bool:
        return self.kind.linear


class Kind(abc.ABC):
    """One kind of layer. Subclass :class:`LinearKind` or :class:`NonLinearKind`, set the
    class attributes, define every abstract method, and decorate the class with
    :func:`registered`."""

    #: the kind's name (the key in :data:`KINDS`)
    name: str
    #: words of the text grammar that name the kind (lower case; ``()``: none)
    words: ClassVar[tuple[str, ...]]
    #: the description's positional arguments, in order
    positional: ClassVar[tuple[str, ...]]
    #: the PyTorch classes of the kind, by their path in ``torch.nn`` (``()``: none, or
    #: :meth:`matches` decides otherwise)
    modules: ClassVar[tuple[str, ...]]
    linear: ClassVar[bool]

    # ---------------------------------------------------------------- reading a layer
    def matches(self, module: Any) -> bool:
        """Whether the PyTorch ``module`` is a layer of this kind: an instance of one of
        :attr:`modules`."""
        return isinstance(module, self._torch_classes)

    @functools.cached_property
    def _torch_classes(self) -> tuple[Any, ...]:
        """:attr:`modules` resolved in ``torch.nn``, once (every module of every network is
        matched against every kind)."""
        import torch.nn as nn

        classes: list[Any] = []
        for path in self.modules:
            found: Any = nn
            for part in path.split("."):
                found = getattr(found, part)
            classes.append(found)
        return tuple(classes)

    @abc.abstractmethod
    def read_module(self, stage: Stage, module: Any, ndim: int | None) -> None:
        """Fill ``stage`` (``cfg``, ``weight``, ``bias``) from the PyTorch ``module``
        (``ndim``: the ``Nd`` of its class name, if any); raise :class:`ConvmatError` for
        a configuration that has no matrix."""

    @abc.abstractmethod
    def read_description(self, stage: Stage, take: Callable[[str, Any], Any], word: str,
                         shape: tuple) -> None:
        """Fill ``stage`` (``cfg``, ``type``, ``parameters``) from a description:
        ``take(key, default)`` pops a key, ``word`` is the kind's word as written (lower
        case), ``shape`` the layer's input ``(C, *spatial)``."""

    @abc.abstractmethod
    def first_geometry(self, stage: Stage) -> Any:
        """What the layer fixes of the network's input when it comes first: ``(ndim,
        channels, final)`` (``None`` for what it leaves open; ``final``: later layers
        fix nothing more), :data:`AS_GIVEN`, or ``None`` (it fixes nothing and ends the
        search)."""

    # ------------------------------------------------------------------- its geometry
    @abc.abstractmethod
    def out_shape(self, stage: Stage, shape: tuple) -> tuple:
        """The output shape on an input of ``shape`` (:class:`ConvmatError` if invalid)."""

    @abc.abstractmethod
    def stored(self, stage: Stage, shape: tuple, out_shape: tuple) -> tuple[int, bool]:
        """(stored entries of the layer's matrix, exact?) from the geometry alone: nothing
        of the matrix's size is allocated."""

    @abc.abstractmethod
    def field_step(self, stage: Stage, shape: tuple) -> Any:
        """The layer's :class:`convmat.receptive.Layer` or a :class:`FieldStep`."""

    @abc.abstractmethod
    def spectral(self, stage: Stage, shape: tuple, norm: Callable[..., float]) -> float | None:
        """The spectral norm of the layer's matrix (``norm``:
        :func:`convmat.spectral_norm`), ``None`` where it is not defined or known."""

    # --------------------------------------------------------------- as a matrix
    @abc.abstractmethod
    def jacobian(self, stage: Stage, x: np.ndarray, shape: tuple,
                 out_shape: tuple) -> tuple[Any, Any, np.ndarray]:
        """(factor, bias, value) at the flat input ``x``: the layer's Jacobian there as a
        factor of the chain, the bias it adds (``None``: zeros) and the layer's output."""


class LinearKind(Kind):
    """A layer that is an affine map ``A x + b``."""

    linear = True

    @abc.abstractmethod
    def matrix(self, stage: Stage, shape: tuple, out_shape: tuple) -> tuple[Any, np.ndarray]:
        """``(A, b)`` on an input of ``shape``; ``A`` is a factor of the chain, ``None``
        for a reshape (the identity on the flat values)."""

    def jacobian(self, stage, x, shape, out_shape):
        factor, bias = self.matrix(stage, shape, out_shape)
        return factor, bias, x if factor is None else apply(factor, x) + bias


class NonLinearKind(Kind):
    """A layer with a Jacobian at each point and no matrix."""

    linear = False

    def matrix(self, stage: Stage, shape: tuple, out_shape: tuple) -> tuple[Any, np.ndarray]:
        raise ConvmatError(f"{stage.label} is not linear: its matrix depends on the input; "
                           f"pass at=x for the network's Jacobian at x")


#: every registered kind by name (user converters of :func:`convmat.networks.register`
#: are added under their module type's name)
KINDS: dict[str, Kind] = {}


def registered(cls: type[Kind]) -> type[Kind]:
    """Class decorator: add a kind to :data:`KINDS` (a missing method or class attribute
    raises ``TypeError`` here, when the module defining the kind is imported)."""
    missing = [a for a in ("name", "words", "positional", "modules", "linear")
               if not hasattr(cls, a)]
    if missing:
        raise TypeError(f"layer kind {cls.__name__} lacks the class attributes {missing}")
    if cls.name in KINDS and type(KINDS[cls.name]) is not cls:
        raise TypeError(f"layer kind {cls.name!r} is registered twice")
    KINDS[cls.name] = cls()  # an abstract method left undefined raises TypeError here
    return cls


# ------------------------------------------------------------- helpers the kinds share


@functools.lru_cache(maxsize=256)
def nd_name(type_name: str) -> tuple[str, int] | None:
    """A class name ending in ``Nd`` split into its stem and ``N`` (``ZeroPad2d``:
    ``("ZeroPad", 2)``), ``None`` for any other name."""
    match = re.fullmatch(r"(\D+?)(\d)d", type_name)
    return (match.group(1), int(match.group(2))) if match else None


def spatial_split(shape: tuple, n: int) -> tuple[int, tuple]:
    """(leading size, spatial shape) of ``shape`` for a layer of ``n`` spatial dims."""
    if len(shape) < n + 1:
        raise ConvmatError(f"the input of shape {brief(shape)} has no room for a channel axis "
                           f"and {n} spatial dims")
    return math.prod(shape[:-n]), tuple(shape[-n:])


def channels_first(shape: tuple, n: int) -> tuple[int, tuple]:
    """(channels, spatial shape) of an input ``(C, *spatial)`` with ``n`` spatial dims."""
    if len(shape) != n + 1:
        raise ConvmatError(f"expects an input (channels, {n} spatial dims), got shape "
                           f"{brief(shape)}")
    return shape[0], tuple(shape[1:])


def bias_vector(stage: Stage, out_shape: tuple, *, last_axis: bool = False) -> np.ndarray:
    """The bias of every output: per channel (first axis) or per feature (last axis)."""
    size = math.prod(out_shape)
    if stage.bias is None:
        return np.zeros(size)
    if last_axis:
        return np.tile(stage.bias, size // stage.bias.size)
    return np.repeat(stage.bias, size // stage.bias.size)


def tensor_values(tensor: Any) -> np.ndarray | None:
    """A tensor's values as float64 NumPy (a view when it is float64 on the CPU already)."""
    if tensor is None:
        return None
    import torch

    tensor = tensor.detach()
    if tensor.device.type != "cpu" or tensor.dtype != torch.float64:
        tensor = tensor.cpu().double()
    return tensor.numpy()


def guard(stages: list[Stage], shapes: list[tuple]) -> None:
    """The memory guard of a chain, before any factor is built: every linear layer's
    matrix (its stored entries counted from the geometry, as CSR of float64 with int64
    indices, and its bias) and all of them together must fit the memory limit. (A
    non-linear layer's Jacobian at a point holds one entry per output; max pooling guards
    the windows it searches itself.)"""
    total = 0
    for stage, shape, out in zip(stages, shapes, shapes[1:]):
        if not stage.linear:
            continue
        try:
            stored, _ = stage.kind.stored(stage, shape, out)
        except ConvmatError as exc:
            raise ConvmatError(f"{stage.label}: {exc.message}") from None
        rows = math.prod(out)
        nbytes = 16 * stored + 16 * rows + 8
        check_budget(nbytes, f"{stage.label}: the matrix of shape ({rows}, "
                             f"{math.prod(shape)})", nnz=stored)
        total += nbytes
    check_budget(total, "the matrices of the network's layers")
