"""Independent reference definitions used as oracles (no convmat code inside).

``direct_conv`` is convolution written tap by tap from its definition, on an input padded
by ``numpy.pad``; ``direct_matrix`` is its matrix, read column by column from basis vectors.
"""

from __future__ import annotations

import itertools

import numpy as np

NUMPY_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap",
              "symmetric": "symmetric"}


def crop_then_pad(x, pads, mode):
    """``numpy.pad`` of the spatial axes of ``x`` (channels first), where a negative side
    first crops the input by that many positions (XLA's negative padding)."""
    crop = tuple(slice(max(-b, 0), n - max(-a, 0)) for n, (b, a) in zip(x.shape[1:], pads))
    x = x[(slice(None),) + crop]
    return np.pad(x, [(0, 0)] + [(max(b, 0), max(a, 0)) for b, a in pads],
                  mode=NUMPY_MODE[mode])


def direct_conv(x, w, *, stride, pads, dilation, groups=1, mode="zeros", flip=False):
    """y[o, t] = sum_{c in group, j} w[o, c, j] * xpad[g*Cg + c, t*s + j*d] (loops)."""
    n = x.ndim - 1
    stride = (stride,) * n if np.isscalar(stride) else tuple(stride)
    dilation = (dilation,) * n if np.isscalar(dilation) else tuple(dilation)
    if flip:
        w = w[(slice(None), slice(None)) + (slice(None, None, -1),) * n]
    xp = crop_then_pad(x, pads, mode)
    c_out, c_in_g = w.shape[:2]
    kernel = w.shape[2:]
    out_shape = tuple((xp.shape[1 + a] - dilation[a] * (kernel[a] - 1) - 1) // stride[a] + 1
                      for a in range(n))
    y = np.zeros((c_out, *out_shape), dtype=np.result_type(x, w))
    per_group = c_out // groups
    for o in range(c_out):
        g = o // per_group
        for t in itertools.product(*map(range, out_shape)):
            acc = 0
            for c in range(c_in_g):
                for j in itertools.product(*map(range, kernel)):
                    pos = tuple(t[a] * stride[a] + j[a] * dilation[a] for a in range(n))
                    acc = acc + w[(o, c) + j] * xp[(g * c_in_g + c,) + pos]
            y[(o,) + t] = acc
    return y


def direct_matrix(input_shape, w, **kw):
    """Dense matrix of ``direct_conv`` on inputs ``(C_in, *input_shape)``, column by column."""
    c_in = w.shape[1] * kw.get("groups", 1)
    n_in = c_in * int(np.prod(input_shape))
    columns = []
    for col in range(n_in):
        e = np.zeros(n_in, dtype=w.dtype)
        e[col] = 1
        columns.append(direct_conv(e.reshape(c_in, *input_shape), w, **kw).ravel())
    return np.stack(columns, axis=1)


def direct_conv_transpose(x, w, *, stride, pads, dilation, output_padding, groups=1, flip=False):
    """Transposed convolution by scattering every tap (zero padding), from its definition.

    y[g*Cg + c, t*s + j*d - before] += w[i, c, j] * x[i, t], over an output of size
    (i-1)s - (before+after) + d(k-1) + output_padding + 1 per dim.
    """
    n = x.ndim - 1
    if flip:
        w = w[(slice(None), slice(None)) + (slice(None, None, -1),) * n]
    c_in, c_out_g = w.shape[:2]
    kernel = w.shape[2:]
    in_shape = x.shape[1:]
    out_shape = tuple((in_shape[a] - 1) * stride[a] - sum(pads[a]) + dilation[a] * (kernel[a] - 1)
                      + output_padding[a] + 1 for a in range(n))
    y = np.zeros((c_out_g * groups, *out_shape), dtype=np.result_type(x, w))
    per_group = c_in // groups
    for i in range(c_in):
        g = i // per_group
        for t in itertools.product(*map(range, in_shape)):
            for c in range(c_out_g):
                for j in itertools.product(*map(range, kernel)):
                    pos = tuple(t[a] * stride[a] + j[a] * dilation[a] - pads[a][0]
                                for a in range(n))
                    if all(0 <= pos[a] < out_shape[a] for a in range(n)):
                        y[(g * c_out_g + c,) + pos] += w[(i, c) + j] * x[(i,) + t]
    return y


def same_pads(i, k, s, d):
    """Padding "same": output ceil(i/s); total max((ceil(i/s)-1)s + d(k-1) + 1 - i, 0),
    the extra unit after."""
    total = max((-(-i // s) - 1) * s + d * (k - 1) + 1 - i, 0)
    return total // 2, total - total // 2
