"""Write the pictures of docs/figures.md and README.md into docs/img/ (run from anywhere).

    python docs/make_figures.py

Every picture is drawn by convmat.figures from the same geometry as the matrices; the files
are committed so the pages show them without running anything.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import convmat  # noqa: E402
from convmat import figures  # noqa: E402
from convmat.demo import SLIDES_INPUT, SLIDES_KERNEL  # noqa: E402
from convmat.geometry import convolution_geometry  # noqa: E402

IMG = ROOT / "docs" / "img"


def main() -> None:
    IMG.mkdir(exist_ok=True)
    x, w = SLIDES_INPUT, SLIDES_KERNEL
    jobs = {
        # A1: the seed example, then stride, padding, dilation, transposed
        "conv-5x5-3x3.gif": figures.animate_convolution((5, 5), (3, 3), x=x, weight=w),
        "conv-stride2-padding1.gif": figures.animate_convolution((5, 5), (3, 3), stride=2,
                                                                 padding=1),
        "conv-dilation2.gif": figures.animate_convolution((7, 7), (3, 3), dilation=2),
        "conv-transposed.gif": figures.animate_convolution(
            (3, 3), (3, 3), stride=2, padding=1, output_padding=1, transposed=True),
        # A2: matrix equivalence
        "matrix-5x5-3x3.gif": figures.animate_matrix((5, 5), (3, 3), x=x, weight=w),
        "matrix-1d-stride2.gif": figures.animate_matrix((7,), (3,), stride=2, padding=1,
                                                        x=np.arange(1, 8), weight=[1, 2, 3]),
        # A3: connectivity
        "connectivity-1d.png": figures.plot_connectivity((7,), (3,), stride=2, padding=1),
        "connectivity-1d-transposed.png": figures.plot_connectivity(
            (4,), (3,), stride=2, padding=1, transposed=True),
        "connectivity-2d.png": figures.plot_connectivity((4, 4), (2, 2)),
        # matrices
        "matrix-blocks.png": figures.plot_matrix(
            convmat.conv_matrix(w, (5, 5)), geometry=convolution_geometry((5, 5), (3, 3)),
            highlight_row=4),
        "matrix-channels.png": figures.plot_matrix(
            convmat.conv_matrix(np.arange(1, 37).reshape(2, 2, 3, 3), (4, 4), padding=1),
            geometry=convolution_geometry((4, 4), (2, 2, 3, 3), padding=1)),
        "kong-lucey.png": figures.plot_kong_lucey(
            convmat.kong_lucey(np.arange(1, 10).reshape(3, 3), (7, 7), stride=2)),
    }
    sparsity = network_sparsity()
    if sparsity is not None:  # needs PyTorch
        jobs["network-sparsity.png"] = sparsity
    for name, picture in jobs.items():
        path = figures.save(picture, IMG / name, fps=1.5)
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} KB")


def network_sparsity():
    """docs/networks.md: LeNet-5's Jacobian after layers 0, 2, 3 and 5 (as that page)."""
    try:
        import torch
        from torch import nn
    except ImportError:
        print("network-sparsity.png: skipped (PyTorch is not installed)")
        return None
    import matplotlib.pyplot as plt

    torch.manual_seed(0)
    lenet = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2)).double().eval()
    x = np.random.default_rng(3).standard_normal((1, 32, 32))
    fig, axes = plt.subplots(1, 4, figsize=(16, 5), layout="constrained")
    for ax, depth in zip(axes, (1, 3, 4, 6)):
        jd, _ = convmat.from_torch(lenet[:depth], (32, 32), at=x)
        figures.plot_matrix(jd, ax=ax)
        ax.set_title(f"after layer {depth - 1}: {jd.shape[0]} x {jd.shape[1]}\n"
                     f"{jd.nnz:,} stored", fontsize=11)
    return fig


if __name__ == "__main__":
    main()
