"""``convmat demo``: a short guided tour of convolution as a matrix, printed as text."""

from __future__ import annotations

import numpy as np

from .geometry import conv_output_shape
from .sparse import conv_matrix, conv_transpose_matrix
from .text import to_text

__all__ = ["tour"]

#: worked example 1 of the course slides
SLIDES_INPUT = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
                         [2, 0, 0, 0, 1]])
SLIDES_KERNEL = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]])


def tour() -> str:
    """The text of the tour."""
    x, w = SLIDES_INPUT, SLIDES_KERNEL
    a = conv_matrix(w, x.shape)
    y = (a @ x.ravel()).reshape(conv_output_shape(x.shape, w.shape))
    parts = [
        "convmat: a convolution is a matrix",
        "",
        "Input x (5x5):", str(x), "",
        "Kernel w (3x3), cross-correlation, stride 1, no padding:", str(w), "",
        f"Its matrix A ({a.shape[0]}x{a.shape[1]}, {a.nnz} stored entries); '.' is a "
        "structural zero. Each row is the kernel laid along the flattened input: a "
        "doubly-block-Toeplitz matrix (3x5 blocks, each a Toeplitz band).",
        to_text(a), "",
        "y = A @ x.ravel(), reshaped to 3x3:", str(y), "",
        "The transpose A.T maps 3x3 back to 5x5: the transposed convolution.",
        to_text(conv_transpose_matrix(w, y.shape), max_cols=9), "",
        "Try: convmat matrix --input 4x4 --kernel 3x3 --stride 2 --padding 1",
    ]
    return "\n".join(parts)
