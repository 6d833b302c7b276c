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


def jobs() -> dict:
    """``{file name: function drawing the picture}`` of every picture on the pages."""
    x, w = SLIDES_INPUT, SLIDES_KERNEL
    f = figures
    return {
        # 1. A1: the seed example, then stride and padding, dilation
        "conv-5x5-3x3.gif": lambda: f.animate_convolution((5, 5), (3, 3), x=x, weight=w),
        "conv-stride2-padding1.gif": lambda: f.animate_convolution(
            (5, 5), (3, 3), stride=2, padding=1),
        "conv-dilation2.gif": lambda: f.animate_convolution((7, 7), (3, 3), dilation=2),
        # 2. A2: matrix equivalence
        "matrix-5x5-3x3.gif": lambda: f.animate_matrix((5, 5), (3, 3), x=x, weight=w),
        "matrix-1d-stride2.gif": lambda: f.animate_matrix(
            (7,), (3,), stride=2, padding=1, x=np.arange(1, 8), weight=[1, 2, 3]),
        "matrix-blocks.png": lambda: f.plot_matrix(
            convmat.conv_matrix(w, (5, 5)), geometry=convolution_geometry((5, 5), (3, 3)),
            highlight_row=4),
        # 3. A3: connectivity, one output's fan
        "connectivity-1d.png": lambda: f.plot_connectivity(
            (7,), (3,), stride=2, padding=1, highlight=1),
        "connectivity-2d.png": lambda: f.plot_connectivity((5, 5), (3, 3)),
        # 4. transposed convolution three ways
        "connectivity-side-by-side.png": lambda: f.plot_connectivity(
            (7,), (3,), stride=2, padding=1, side_by_side=True, highlight=1),
        "conv-transposed.gif": lambda: f.animate_convolution(
            (3, 3), (3, 3), stride=2, padding=1, output_padding=1, transposed=True),
        "matrix-transposed.gif": lambda: f.animate_matrix(
            (3,), (3,), stride=2, transposed=True, x=[1, 2, 3], weight=[1, 2, 3]),
        "superposition-2d.gif": lambda: f.animate_superposition((3, 3), (3, 3), stride=2),
        "overlap-k3-k4.png": overlap_pair,
        # 5. channels and groups
        "conv-channels.gif": lambda: f.animate_convolution(
            (3, 3), (2, 2), weight=np.arange(1, 17).reshape(2, 2, 2, 2),
            x=np.arange(18).reshape(2, 3, 3) % 4),
        "matrix-depthwise.gif": lambda: f.animate_matrix(
            (3, 3), (2, 2), weight=np.arange(1, 9).reshape(2, 1, 2, 2), groups=2),
        "connectivity-groups.png": lambda: f.plot_connectivity(
            (4, 4), (3, 3), weight=np.ones((4, 2, 3, 3)), groups=2),
        "matrix-channels.png": lambda: f.plot_matrix(
            convmat.conv_matrix(np.arange(1, 37).reshape(2, 2, 3, 3), (4, 4), padding=1),
            geometry=convolution_geometry((4, 4), (2, 2, 3, 3), padding=1)),
        # 6. 3-D
        "conv-3d.gif": lambda: f.animate_convolution((4, 4, 4), (3, 3, 3)),
        # networks: a residual block's matrix, the identity plus a band
        "residual-block.png": residual_block,
        # 7. Kong & Lucey's Figure 1
        "kong-lucey.png": lambda: f.plot_kong_lucey(
            convmat.kong_lucey(np.arange(1, 10).reshape(3, 3), (7, 7), stride=2)),
    }


def main() -> None:
    IMG.mkdir(exist_ok=True)
    todo = {name: make() for name, make in jobs().items()}
    sparsity = network_sparsity()
    if sparsity is not None:  # needs PyTorch
        todo["network-sparsity.png"] = sparsity
    for name, picture in todo.items():
        path = figures.save(picture, IMG / name, fps=1.5)
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} KB")


def overlap_pair():
    """The checkerboard: overlap counts of stride 2 with kernel 3 against kernel 4."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9.4, 4.6))
    figures.plot_overlap((4, 4), (3, 3), stride=2, ax=left)
    figures.plot_overlap((4, 4), (4, 4), stride=2, padding=1, ax=right)
    left.set_title("stride 2, kernel 3: uneven (checkerboard)", fontsize=12)
    right.set_title("stride 2, kernel 4, padding 1: even inside", fontsize=12)
    fig.tight_layout()
    return fig


def residual_block():
    """docs/networks.md: ``x + conv(conv(x))`` on a 5x5 image, its body, shortcut and sum
    (the weights of that page)."""
    import matplotlib.pyplot as plt
    import scipy.sparse as sp

    w1 = np.array([[0.05, 0.1, 0.05], [0.1, 0.2, 0.1], [0.05, 0.1, 0.05]])
    w2 = np.array([[0.0, -0.1, 0.0], [-0.1, 0.3, -0.1], [0.0, -0.1, 0.0]])
    body = sp.csr_array(convmat.conv_matrix(w2, (5, 5), padding=1)
                        @ convmat.conv_matrix(w1, (5, 5), padding=1))
    identity = sp.eye_array(25, format="csr")
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.4))
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.03, top=0.84, wspace=0.08)
    for ax, m, title in zip(axes, (body, identity, sp.csr_array(identity + body)),
                            ("body: conv, conv  ($A_2 A_1$)", "shortcut: $I$",
                             "block: $I + A_2 A_1$")):
        figures.plot_matrix(m, ax=ax)
        ax.set_title(f"{title}\n{m.shape[0]} x {m.shape[1]}, {m.nnz} stored", fontsize=12)
    return fig


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
