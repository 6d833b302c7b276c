r"""Layer kinds that normalise groups of values: ``LayerNorm``, ``GroupNorm``,
``InstanceNormNd`` and the soft-max (``Softmax``, ``LogSoftmax``). None is linear; at a
point each has an exact Jacobian, block-diagonal over its groups.

For a group of :math:`D` values :math:`x` normalised as
:math:`\hat x = (x - \mu) / \sigma`, :math:`\sigma = \sqrt{\operatorname{var}(x) +
\epsilon}` (the biased variance), and :math:`y = w \odot \hat x + b`,

.. math::

    \frac{\partial y}{\partial x} = \operatorname{diag}(w)\,\frac{1}{\sigma}
        \Big(I - \tfrac{1}{D}\mathbf 1 \mathbf 1^\top - \tfrac{1}{D}\hat x \hat x^\top\Big);

for the soft-max :math:`y = e^{x} / \sum e^{x}` along its axis,
:math:`\partial y / \partial x = \operatorname{diag}(y) - y y^\top`, and for its logarithm
:math:`I - \mathbf 1 y^\top`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._memory import check_budget
from ..errors import ConvmatError, brief
from ._activation_kind import _call
from ._kinds import FieldStep, NonLinearKind, registered, tensor_values

__all__ = ["GroupNorm", "InstanceNorm", "LayerNorm", "LogSoftmax", "Softmax", "block_matrix"]


def block_matrix(groups: np.ndarray, blocks: np.ndarray, n: int) -> sp.csr_array:
    """The ``n × n`` matrix with ``blocks[g]`` on the rows and columns ``groups[g]``."""
    m, d = groups.shape
    check_budget(16 * m * d * d + 8 * n, f"a Jacobian of {m} blocks of {d}×{d}", nnz=m * d * d)
    rows = np.broadcast_to(groups[:, :, None], (m, d, d)).ravel()
    cols = np.broadcast_to(groups[:, None, :], (m, d, d)).ravel()
    out = sp.csr_array(sp.coo_array((blocks.ravel(), (rows, cols)), shape=(n, n)))
    out.sum_duplicates()
    return out


def _value(stage: Any, x: np.ndarray, shape: tuple) -> np.ndarray:
    import torch

    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64).reshape(1, *shape))
    with torch.no_grad():
        return _call(stage, xt).numpy().reshape(-1)


class _Groups(NonLinearKind):
    """A layer that acts on groups of values (rows of :meth:`groups`), the same way on
    each."""

    words = ()
    positional = ()

    def read_description(self, stage, take, word, shape):
        raise ConvmatError(f"{self.name} has no text description")  # words == ()

    def first_geometry(self, stage):
        return None

    def groups(self, stage: Any, shape: tuple) -> np.ndarray:
        """(groups, group size) flat indices of the input."""
        raise NotImplementedError

    def stored(self, stage, shape, out_shape):
        return math.prod(shape) * self.groups(stage, shape).shape[1], False

    def field_step(self, stage, shape):
        return FieldStep.ENDS  # a group mixes its positions

    def spectral(self, stage, shape, norm):
        return None  # a Jacobian at a point only


class _Norm(_Groups):
    """Normalisations: the groups' mean and variance, a scale per value."""

    def scale(self, stage: Any, shape: tuple, groups: np.ndarray) -> np.ndarray:
        """The weight ``w`` of every value, shaped as ``groups``."""
        raise NotImplementedError

    def jacobian(self, stage, x, shape, out_shape):
        groups = self.groups(stage, shape)
        d = groups.shape[1]
        v = x[groups]
        centred = v - v.mean(axis=1, keepdims=True)
        sigma = np.sqrt((centred * centred).mean(axis=1, keepdims=True) + stage.cfg["eps"])
        xhat = centred / sigma
        w = self.scale(stage, shape, groups)
        blocks = (np.eye(d)[None] - 1.0 / d - xhat[:, :, None] * xhat[:, None, :] / d)
        blocks *= (w / sigma)[:, :, None]
        return block_matrix(groups, blocks, x.size), None, _value(stage, x, shape)


@registered
class LayerNorm(_Norm):
    name = "layernorm"
    modules = ("LayerNorm",)

    def read_module(self, stage, m, ndim):
        stage.cfg = dict(shape=tuple(m.normalized_shape), eps=float(m.eps),
                         weight=tensor_values(m.weight))

    def out_shape(self, stage, shape):
        ns = stage.cfg["shape"]
        if tuple(shape[len(shape) - len(ns):]) != ns or len(ns) > len(shape):
            raise ConvmatError(f"normalized_shape={brief(ns)} is not the end of the input "
                               f"shape {brief(shape)}")
        return shape

    def groups(self, stage, shape):
        d = math.prod(stage.cfg["shape"])
        return np.arange(math.prod(shape)).reshape(-1, d)

    def scale(self, stage, shape, groups):
        w = stage.cfg["weight"]
        ones = np.ones(groups.shape[1])
        return np.broadcast_to(ones if w is None else w.reshape(-1), groups.shape)


class _ChannelGroups(_Norm):
    """Normalisations over groups of channels (a weight per channel)."""

    def per_group(self, stage: Any, shape: tuple) -> int:
        raise NotImplementedError

    def groups(self, stage, shape):
        return np.arange(math.prod(shape)).reshape(self.per_group(stage, shape), -1)

    def scale(self, stage, shape, groups):
        w = stage.cfg["weight"]
        per = math.prod(shape[1:])
        full = np.ones(math.prod(shape)) if w is None else np.repeat(w, per)
        return full.reshape(groups.shape)

    def out_shape(self, stage, shape):
        c = stage.cfg["channels"]
        if len(shape) < 2 or (c is not None and shape[0] != c):
            raise ConvmatError(f"expects an input (channels={c}, *spatial), got shape "
                               f"{brief(shape)}")
        return shape


@registered
class GroupNorm(_ChannelGroups):
    name = "groupnorm"
    modules = ("GroupNorm",)

    def read_module(self, stage, m, ndim):
        stage.cfg = dict(groups=int(m.num_groups), channels=int(m.num_channels),
                         eps=float(m.eps), weight=tensor_values(m.weight) if m.affine else None)

    def per_group(self, stage, shape):
        return stage.cfg["groups"]


@registered
class InstanceNorm(_ChannelGroups):
    name = "instancenorm"
    modules = ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")

    def read_module(self, stage, m, ndim):
        if m.training:
            raise ConvmatError("is in training mode; call model.eval() first")
        stats = None
        if m.track_running_stats and m.running_mean is not None:
            stats = (tensor_values(m.running_mean), tensor_values(m.running_var))
        stage.cfg = dict(channels=int(m.num_features), eps=float(m.eps), stats=stats,
                         weight=tensor_values(m.weight) if m.affine else None)

    def per_group(self, stage, shape):
        return shape[0]

    def jacobian(self, stage, x, shape, out_shape):
        stats = stage.cfg["stats"]
        if stats is None:
            return super().jacobian(stage, x, shape, out_shape)
        # running statistics in eval mode: a scale per channel (a diagonal)
        per = math.prod(shape[1:])
        w = stage.cfg["weight"]
        scale = (np.ones(shape[0]) if w is None else w) / np.sqrt(stats[1] + stage.cfg["eps"])
        return sp.diags_array(np.repeat(scale, per), format="csr"), None, \
            _value(stage, x, shape)


class _SoftMax(_Groups):
    """Soft-max along one axis: the groups are the lines along it."""

    def read_module(self, stage, m, ndim):
        if m.dim is None:
            raise ConvmatError("has dim=None; give the axis")
        stage.cfg = dict(dim=int(m.dim))

    def axis(self, stage: Any, shape: tuple) -> int:
        dim = stage.cfg["dim"]
        batched = len(shape) + 1
        if not -batched <= dim < batched or dim % batched == 0:
            raise ConvmatError(f"dim={dim} must be an axis of one sample of shape "
                               f"{brief(shape)} (not the batch axis)")
        return dim % batched - 1

    def out_shape(self, stage, shape):
        self.axis(stage, shape)
        return shape

    def groups(self, stage, shape):
        index = np.arange(math.prod(shape)).reshape(shape)
        axis = self.axis(stage, shape)
        return np.moveaxis(index, axis, -1).reshape(-1, shape[axis])

    def jacobian(self, stage, x, shape, out_shape):
        groups = self.groups(stage, shape)
        value = _value(stage, x, shape)
        y = value[groups] if self.name == "softmax" else np.exp(value[groups])
        d = groups.shape[1]
        if self.name == "softmax":
            blocks = y[:, :, None] * (np.eye(d)[None] - y[:, None, :])
        else:
            blocks = np.eye(d)[None] - y[:, None, :]
        return block_matrix(groups, blocks, x.size), None, value


@registered
class Softmax(_SoftMax):
    name = "softmax"
    modules = ("Softmax",)


@registered
class LogSoftmax(_SoftMax):
    name = "logsoftmax"
    modules = ("LogSoftmax",)
