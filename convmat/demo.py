"""``convmat demo``: a short guided tour of convolution as a matrix, printed as text.

The tour needs no arguments and runs in well under a second: the seed 5x5 example and its
matrix, the doubly-block-Toeplitz structure, the transpose (and why it is not an inverse),
the shape arithmetic of LeNet-5 and, when :mod:`convmat.striding` is available, Kong &
Lucey's rearrangement of a strided convolution.
"""

from __future__ import annotations

import numpy as np

from .geometry import conv_output_shape
from .networks import summary
from .sparse import conv_matrix, conv_transpose_matrix
from .text import to_text
from .transposed import equivalent_convolution

__all__ = ["tour"]

#: worked example 1 of the course slides
SLIDES_INPUT = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
                         [2, 0, 0, 0, 1]])
SLIDES_KERNEL = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]])

#: LeNet-5 as in the course notebook: (name, kind, out channels/features, kernel, stride, pad)
LENET5 = (
    ("conv1", "conv", 6, 5, 1, 2),
    ("pool1", "avgpool", None, 2, 2, 0),
    ("conv2", "conv", 16, 5, 1, 0),
    ("pool2", "avgpool", None, 2, 2, 0),
    ("fc1", "dense", 120, None, None, None),
    ("fc2", "dense", 84, None, None, None),
    ("fc3", "dense", 10, None, None, None),
)


def lenet5_rows(input_shape=(28, 28), in_channels: int = 1) -> list[tuple]:
    """``(name, output shape, parameters, receptive field size)`` per LeNet-5 layer, from
    :func:`convmat.summary` of the layer list :data:`LENET5`.

    Examples
    --------
    >>> lenet5_rows()[:2]
    [('conv1', (6, 28, 28), 156, 5), ('pool1', (6, 14, 14), 0, 6)]
    """
    layers = [{"name": name, "type": "linear" if kind == "dense" else kind,
               **({"out_features": width} if kind == "dense" else
                  {"kernel_size": k, "stride": s, "padding": p,
                   **({"out_channels": width} if kind == "conv" else {})})}
              for name, kind, width, k, s, p in LENET5]
    return [(row.name, row.output_shape, row.parameters,
             None if row.receptive_field is None else row.receptive_field[0])
            for row in summary(layers, input_shape, in_channels=in_channels).rows]


def _block_grid(a, w, in_shape, out_shape) -> list[str]:
    """Name every (output row, input row) block of the 2-D matrix ``a`` by the kernel row
    whose 1-D Toeplitz matrix it equals (``T0``, ``T1``, ...) or ``0``."""
    rows, cols = out_shape[1], in_shape[1]
    toeplitz = [conv_matrix(w[j], (cols,)).toarray() for j in range(w.shape[0])]
    dense = a.toarray()
    grid = []
    for r in range(out_shape[0]):
        names = []
        for c in range(in_shape[0]):
            block = dense[r * rows:(r + 1) * rows, c * cols:(c + 1) * cols]
            match = [j for j, t in enumerate(toeplitz) if c - r == j and np.array_equal(block, t)]
            names.append(f"T{match[0]}" if match else ("0 " if not block.any() else "? "))
        grid.append(("   " + " ".join(names)).rstrip())
    return grid


def _indent(text: str, by: str = "   ") -> str:
    return "\n".join((by + line).rstrip() for line in text.splitlines())


def _kong_lucey_part() -> list[str]:
    try:
        from .striding import kong_lucey
    except ImportError:  # the module is optional for the tour
        return []
    kl = kong_lucey([1, 2, 3], (7,), stride=2)
    even, odd = (tuple(int(v) for v in kl.phase_weight(r)) for r in (0, 1))
    return [
        "5. Kong & Lucey: a strided convolution is a sum of unit-stride ones. The stride-2",
        "   matrix A above, its columns reordered [0, 2, 4, 6 | 1, 3, 5] (even inputs, then "
        "odd):",
        _indent(to_text(kl.strided_matrix() @ kl.permutation)),
        f"   = [T_even | T_odd]: unit-stride Toeplitz matrices of the phase kernels "
        f"(h0, h2) = {even[:2]} and (h1) = {odd[:1]}.",
        "   More: convmat kong-lucey, docs/kong-lucey.md.",
        "",
    ]


def tour() -> str:
    """The text of the tour."""
    x, w = SLIDES_INPUT, SLIDES_KERNEL
    a = conv_matrix(w, x.shape)
    out = conv_output_shape(x.shape, w.shape)
    y = (a @ x.ravel()).reshape(out)
    back = (a.T @ y.ravel()).reshape(x.shape)
    # the 1-D stride-2 transpose as a convolution of the stretched input
    h = np.array([1, 2, 3])
    a1 = conv_matrix(h, (7,), stride=2)
    eq = equivalent_convolution(h, (3,), stride=2)
    direct = conv_matrix(eq.weight, eq.stretched_shape, padding=eq.padding) @ eq.zero_insertion()
    same = (direct != conv_transpose_matrix(h, (3,), stride=2)).nnz == 0
    table = [f"{'layer':<6} {'output':>12} {'params':>7} {'receptive field':>16}"]
    for name, shape, params, rf in lenet5_rows():
        field = "" if rf is None else f"{rf}x{rf}"
        table.append(f"{name:<6} {'x'.join(map(str, shape)):>12} {params:>7,} {field:>16}")
    parts = [
        "convmat demo: a convolution is a matrix",
        "",
        "1. Input x (5x5) and kernel w (3x3); cross-correlation, stride 1, no padding:",
        _indent(str(x)), "", _indent(str(w)), "",
        f"   Its matrix A is {a.shape[0]}x{a.shape[1]} with {a.nnz} stored entries ('.' is a "
        "structural zero).",
        "   Each row is the kernel laid along the flattened input: local connections, "
        "shared weights.",
        _indent(to_text(a)), "",
        "   y = A @ x.ravel(), reshaped to 3x3:", _indent(str(y)), "",
        "2. Structure: A is doubly block Toeplitz, a 3x5 grid of 3x5 blocks; block (r, c) is "
        "the",
        "   Toeplitz matrix T_j of kernel row j = c - r (one kernel row sliding along one "
        "image row):",
        *_block_grid(a, w, x.shape, out),
        "",
        *(_indent(f"T{j} =  " + to_text(conv_matrix(w[j], (x.shape[1],))).replace(
            "\n", "\n      ")) + "\n" for j in range(w.shape[0])),
        "3. The transpose A.T maps 3x3 back to 5x5: the transposed convolution. It reproduces",
        "   the connectivity, not the values; it is not an inverse. A.T @ y:",
        _indent(str(back)), "",
        "   With stride 2 (kernel (1, 2, 3), input 7 -> 3), A and A.T are",
        _indent(to_text(a1)), "",
        _indent(to_text(a1.T)), "",
        "   and A.T is a stride-1 convolution of the stretched input (one zero between "
        "entries),",
        f"   padded by {eq.padding[0]}, with the flipped kernel "
        f"{tuple(int(v) for v in eq.weight)}: equal to A.T? {same}",
        "   (convmat.transposed.equivalent_convolution; PyTorch's conv_transpose1d agrees.)",
        "",
        "4. Shape arithmetic, o = floor((i + 2p - d(k-1) - 1)/s) + 1, for LeNet-5 on 28x28",
        "   (convmat.conv_output_shape; receptive fields by convmat.receptive):",
        *(_indent(line) for line in table), "",
        *_kong_lucey_part(),
        "Pictures (pip install \"convmat[plot]\"): the kernel sliding, the same as y = A x, the",
        "   connectivity graph, from the same geometry as the matrices (docs/figures.md):",
        "      convmat animate convolution --input 5x5 --kernel 3x3 -o conv.gif",
        "      convmat animate matrix --input 5x5 --kernel 3x3 --stride 2 --padding 1 -o A.gif",
        "      convmat plot connectivity --input 7 --kernel 3 --stride 2 -o graph.png",
        "   or in Python: convmat.figures.animate_convolution((5, 5), (3, 3)).",
        "",
        "Try:  convmat shape --input 28x28 --kernel 5x5 --padding same",
        "      convmat matrix --input 4x4 --kernel 3x3 --stride 2 --padding 1",
        "      convmat shape --input 3x3 --kernel 3x3 --stride 2 --padding 1 --transposed "
        "--output-padding 1",
    ]
    return "\n".join(parts)
