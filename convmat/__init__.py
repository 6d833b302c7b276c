"""convmat: every convolution a neural network uses, written as an explicit linear map.

Numeric builders return SciPy sparse arrays; :mod:`convmat.symbolic` builds the same matrices
with sympy symbols and :func:`to_latex` typesets any of them; :mod:`convmat.figures` draws
them, :func:`singular_values` analyses a layer and :func:`from_torch` reads a PyTorch model.
The sympy- and matplotlib-backed names (``symbolic``, ``latex``, ``to_latex``, ``display``,
``show``, ``figures``) are imported on first use, so ``import convmat`` stays light.

The package is layered (foundations, geometry, the index engine ``convmat._engine``, value
fillers, renderers, command line) with one dependency direction; ``docs/architecture.md``
draws the layers and follows one call through them.
"""

from __future__ import annotations

import importlib

from . import arithmetic, geometry, options, pooling, receptive, transposed, views
from .arithmetic import explain_shape, transpose_parameters
from .errors import ConvmatError
from .geometry import conv_output_shape, conv_transpose_output_shape
from .networks import from_torch, lipschitz_bound, summary, to_torch_sparse
from .operator import conv_operator
from .padding import padding_matrix
from .pooling import avg_pool_matrix, max_pool_matrix
from .receptive import receptive_field
from .sparse import conv_matrix, conv_transpose_matrix
from .bounds import spectral_bounds
from .spectral import singular_values, spectral_norm
from .striding import kong_lucey, polyphase, strided_weight
from .views import kernel_matrix

__all__ = [
    "ConvmatError",
    "arithmetic",
    "avg_pool_matrix",
    "conv_matrix",
    "conv_operator",
    "conv_output_shape",
    "conv_transpose_matrix",
    "conv_transpose_output_shape",
    "display",
    "explain_shape",
    "figures",
    "from_torch",
    "geometry",
    "kernel_matrix",
    "kong_lucey",
    "latex",
    "lipschitz_bound",
    "max_pool_matrix",
    "options",
    "padding_matrix",
    "polyphase",
    "pooling",
    "receptive",
    "receptive_field",
    "show",
    "singular_values",
    "spectral_bounds",
    "spectral_norm",
    "strided_weight",
    "summary",
    "symbolic",
    "to_latex",
    "to_torch_sparse",
    "transpose_parameters",
    "transposed",
    "views",
]

__version__ = "0.2.0"

#: names imported on first use: sympy-backed ones, and figures (matplotlib is imported only
#: when a picture is drawn)
_LAZY = {"symbolic": ("convmat.symbolic", None), "latex": ("convmat.latex", None),
         "to_latex": ("convmat.latex", "to_latex"), "display": ("convmat.display", None),
         "show": ("convmat.display", "show"), "figures": ("convmat.figures", None)}


def __getattr__(name: str):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = importlib.import_module(module)
        return value if attribute is None else getattr(value, attribute)
    raise AttributeError(f"module 'convmat' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
