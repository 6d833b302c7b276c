"""Layer kinds with weights on every value: batch normalisation in eval mode
(``BatchNormNd``, a diagonal) and fully connected layers (``Linear``)."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from .._memory import check_budget
from .._validate import as_int
from ..errors import ConvmatError, brief
from ._factors import kron_all
from ._kinds import AS_GIVEN, Field, LinearKind, bias_vector, registered, tensor_values

__all__ = ["BatchNorm", "Linear"]


@registered
class BatchNorm(LinearKind):
    name = "batchnorm"
    words = ("bn", "batchnorm")
    modules = ("modules.batchnorm._BatchNorm",)
    positional = ()

    def read_module(self, stage, m, ndim):
        if m.training:
            raise ConvmatError("is in training mode: it normalises by the batch's own "
                               "statistics, not a fixed affine map; call model.eval() first")
        if not m.track_running_stats or m.running_mean is None:
            raise ConvmatError("has track_running_stats=False: it always normalises by the "
                               "batch's statistics (not a fixed affine map)")
        mean, var = tensor_values(m.running_mean), tensor_values(m.running_var)
        gamma = tensor_values(m.weight) if m.affine else np.ones_like(mean)
        beta = tensor_values(m.bias) if m.affine else np.zeros_like(mean)
        scale = gamma / np.sqrt(var + m.eps)
        stage.cfg = dict(ndim=None if ndim == 1 else ndim, num_features=m.num_features)
        stage.weight, stage.bias = scale, beta - mean * scale

    def read_description(self, stage, take, word, shape):
        ndim = max(len(shape) - 1, 1)
        stage.cfg = dict(ndim=ndim, num_features=None)
        stage.parameters = 2 * shape[0]
        stage.type = f"BatchNorm{ndim}d" if 1 <= ndim <= 3 else f"BatchNorm{ndim}-D"

    def first_geometry(self, stage):
        return stage.cfg["ndim"], stage.cfg["num_features"], True

    def out_shape(self, stage, shape):
        n, features = stage.cfg["ndim"], stage.cfg["num_features"]
        allowed = (1, 2) if n is None else (n + 1,)
        if len(shape) not in allowed or shape[0] != features and features is not None:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ConvmatError(f"expects a {want} input with {features} channels, got shape "
                               f"{brief(shape)}")
        return shape

    def stored(self, stage, shape, out_shape):
        return math.prod(shape), True

    def matrix(self, stage, shape, out_shape):
        per = math.prod(shape) // shape[0]
        return (sp.diags_array(np.repeat(stage.weight, per), format="csr"),
                np.repeat(stage.bias, per))

    def field_step(self, stage, shape):
        return Field.KEEPS

    def spectral(self, stage, shape, norm):
        return None if stage.weight is None else float(np.max(np.abs(stage.weight)))


@registered
class Linear(LinearKind):
    name = "linear"
    words = ("linear", "fc", "dense")
    modules = ("Linear",)
    positional = ("out_features",)

    def read_module(self, stage, m, ndim):
        stage.cfg = dict(in_features=m.in_features, out_features=m.out_features, flatten=False)
        stage.weight = tensor_values(getattr(m, "weight", None))
        stage.bias = tensor_values(getattr(m, "bias", None))
        if stage.weight is None:
            raise ConvmatError("has no weight (an uninitialised lazy module?)")

    def read_description(self, stage, take, word, shape):
        out = as_int(take("out_features", None), "out_features")
        bias = bool(take("bias", True))
        stage.cfg = dict(in_features=None, out_features=out, flatten=True, bias=bias)
        stage.type = "Linear"
        stage.parameters = (math.prod(shape) + bias) * out  # on the flattened input

    def first_geometry(self, stage):
        return None if stage.cfg["flatten"] else AS_GIVEN

    def out_shape(self, stage, shape):
        cfg = stage.cfg
        if cfg["flatten"]:
            shape = (math.prod(shape),)
        if cfg["in_features"] is not None and shape[-1] != cfg["in_features"]:
            raise ConvmatError(f"in_features={cfg['in_features']} but the input has shape "
                               f"{brief(shape)} (Linear acts on the last axis; a Flatten before "
                               f"it makes that all {math.prod(shape)} values)")
        return (*shape[:-1], cfg["out_features"])

    def stored(self, stage, shape, out_shape):
        n_in = math.prod(shape) if stage.cfg["flatten"] else shape[-1]
        return math.prod(out_shape) * n_in, True

    def matrix(self, stage, shape, out_shape):
        w = np.asarray(stage.weight, dtype=np.float64)
        lead = math.prod(out_shape) // w.shape[0]
        check_budget(lead * w.size * 16, f"the matrix of {stage.label}", nnz=lead * w.size)
        bias = bias_vector(stage, out_shape, last_axis=True)
        if lead == 1:  # the dense layer it is (the chain's products take arrays as well)
            return w, bias
        rows, cols = w.shape  # every weight stored, once per leading position
        a = sp.csr_array((w.ravel(), np.tile(np.arange(cols), rows),
                          np.arange(0, rows * cols + 1, cols)), shape=w.shape)
        return kron_all([a], lead), bias

    def field_step(self, stage, shape):
        return Field.ENDS

    def spectral(self, stage, shape, norm):
        if stage.weight is None:
            return None
        w = np.asarray(stage.weight, dtype=np.float64)
        return norm(w[:, :, None], (1,), stride=1, padding=0, dilation=1, groups=1,
                    padding_mode="zeros")
