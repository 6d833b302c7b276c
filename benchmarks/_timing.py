"""Shared helpers of the benchmark scripts: timing and the memory-write floor."""

from __future__ import annotations

import gc
import time

import numpy as np


def best_time(fn, repeat: int = 5, number: int = 1, collect: bool = True) -> float:
    """Best of ``repeat`` runs of ``number`` calls, in seconds per call; a garbage
    collection before each run unless not ``collect`` (runs back to back, caches warm)."""
    best = float("inf")
    for _ in range(repeat):
        if collect:
            gc.collect()
        t = time.perf_counter()
        for _ in range(number):
            result = fn()
        best = min(best, (time.perf_counter() - t) / number)
        del result
    return best


def best_cpu_time(fn, repeat: int, number: int) -> float:
    """Like :func:`best_time`, in CPU time of this process (robust when the machine is
    shared)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        for _ in range(number):
            fn()
        best = min(best, (time.process_time() - t) / number)
    return best


def floor(nnz, rows, idx=np.int32, dtype=np.float64):
    """The memory-write floor: allocate and fill data, indices and indptr of a CSR with
    ``nnz`` entries."""
    data = np.empty(nnz, dtype=dtype)
    data.fill(1)
    indices = np.empty(nnz, dtype=idx)
    indices.fill(1)
    indptr = np.empty(rows + 1, dtype=idx)
    indptr.fill(1)
    return data, indices, indptr


def csr_bytes(a) -> int:
    """Bytes of a CSR array's three arrays."""
    return a.data.nbytes + a.indices.nbytes + a.indptr.nbytes


def torch_jacobian(w, n):
    """PyTorch's autograd Jacobian of the one-channel 'same' convolution (padding 1) of
    the kernel ``w`` on an ``n x n`` input, as a CSR matrix (what a user without convmat
    would do)."""
    import scipy.sparse as sp
    import torch

    wt = torch.from_numpy(w)[None, None]

    def layer(x):
        return torch.nn.functional.conv2d(x.view(1, 1, n, n), wt, padding=1).reshape(-1)

    jac = torch.autograd.functional.jacobian(layer, torch.zeros(n * n, dtype=torch.float64))
    return sp.csr_array(jac.numpy())
