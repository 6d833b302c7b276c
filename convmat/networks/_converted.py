"""Layer kind: a module type with a user's converter (:func:`convmat.networks.register`)."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ..errors import ConvmatError, brief
from ._kinds import Field, LinearKind

__all__ = ["Converted"]


class Converted(LinearKind):
    """A module type read by ``converter(module, input_shape, at) -> (A, b, output_shape)``:
    ``A`` the layer's matrix (at ``at``, its Jacobian there), ``b`` its bias (``None``:
    zeros; at ``at``, ``f(at) - A at``). One converter call per input shape gives the
    output shape, the stored entries and the matrix; the receptive field ends at such a
    layer and its spectral norm is not computed."""

    words = ()
    positional = ()
    modules = ()  # the registered type: matches

    def __init__(self, module_type: type, converter):
        self.module_type, self.converter = module_type, converter
        self.name = f"{module_type.__module__}.{module_type.__qualname__}"

    def matches(self, module):
        return isinstance(module, self.module_type)

    def read_module(self, stage, module, ndim):
        stage.cfg = {"converted": {}}  # input shape -> (A, b, output shape)

    def read_description(self, stage, take, word, shape):
        raise ConvmatError(f"{self.name} has no text description")

    def first_geometry(self, stage):
        return None  # its input shape is given in full

    def _convert(self, stage, shape: tuple, at=None):
        done = stage.cfg["converted"]
        if at is None and shape in done:
            return done[shape]
        what = f"the converter of {self.module_type.__name__}"
        result = self.converter(stage.module, shape, at)
        if not (isinstance(result, tuple) and len(result) == 3):
            raise ConvmatError(f"{what} returned {brief(result)}; it must return (A, b, "
                               f"output_shape)")
        a, b, out = result
        try:
            out = tuple(int(v) for v in out)
        except (TypeError, ValueError):
            raise ConvmatError(f"{what} returned output_shape={brief(out)}; it must be a "
                               f"tuple of ints") from None
        n_in, n_out = math.prod(shape), math.prod(out)
        if not out or min(out) < 1:
            raise ConvmatError(f"{what} returned output_shape={brief(out)}; it must be "
                               f"positive ints")
        if not sp.issparse(a) or a.shape != (n_out, n_in):
            raise ConvmatError(f"{what} returned A of type {type(a).__name__} and shape "
                               f"{brief(getattr(a, 'shape', None))}; it must be a SciPy sparse "
                               f"array of shape ({n_out}, {n_in}) for the input {shape} and "
                               f"the output {out}")
        b = np.zeros(n_out) if b is None else np.asarray(b, dtype=np.float64).reshape(-1)
        if b.size != n_out:
            raise ConvmatError(f"{what} returned b of {b.size} values; it must have "
                               f"{n_out} (or be None)")
        converted = sp.csr_array(a, dtype=np.float64), b, out
        if at is None:
            done[shape] = converted
        return converted

    def out_shape(self, stage, shape):
        return self._convert(stage, tuple(shape))[2]

    def stored(self, stage, shape, out_shape):
        return int(self._convert(stage, tuple(shape))[0].nnz), True

    def matrix(self, stage, shape, out_shape):
        a, b, _ = self._convert(stage, tuple(shape))
        return a, b

    def jacobian(self, stage, x, shape, out_shape):
        a, b, _ = self._convert(stage, tuple(shape), at=x.reshape(shape))
        return a, b, a @ x + b

    def field_step(self, stage, shape):
        return Field.ENDS  # its window is not known

    def spectral(self, stage, shape, norm):
        return None  # not known
