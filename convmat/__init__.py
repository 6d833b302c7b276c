"""convmat: every convolution a neural network uses, written as an explicit linear map.

See https://github.com/ (docs/ in the repository) for the guide; the public names are below.
"""

from . import geometry, options
from .errors import ConvmatError
from .geometry import conv_output_shape, conv_transpose_output_shape
from .operator import conv_operator
from .padding import padding_matrix
from .sparse import conv_matrix, conv_transpose_matrix

__all__ = [
    "ConvmatError",
    "conv_matrix",
    "conv_operator",
    "conv_output_shape",
    "conv_transpose_matrix",
    "conv_transpose_output_shape",
    "geometry",
    "options",
    "padding_matrix",
]

__version__ = "0.1.0"
