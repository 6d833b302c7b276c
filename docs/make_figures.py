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


#: pictures that take minutes (every bound on VGG-16's 13 layers), made with the rest or by
#: name: ``python docs/make_figures.py bounds-vgg16.png``
SLOW = {"bounds-vgg16.png": lambda: bounds_vgg16()}  # defined below


def main(names: list[str] | None = None) -> None:
    IMG.mkdir(exist_ok=True)
    if names:
        unknown = set(names) - set(jobs()) - set(SLOW) - {"network-sparsity.png"}
        if unknown:
            raise SystemExit(f"unknown pictures: {sorted(unknown)}")

    def wanted(name: str) -> bool:
        return not names or name in names

    todo = {name: make() for name, make in {**jobs(), **SLOW}.items() if wanted(name)}
    sparsity = network_sparsity() if wanted("network-sparsity.png") else None
    if sparsity is not None:  # needs PyTorch
        todo["network-sparsity.png"] = sparsity
    for name, picture in todo.items():
        path = figures.save(picture, IMG / name, **({"fps": 1.5} if name.endswith(".gif") else {}))
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
    block = sp.csr_array(identity + body)
    for m in (body, block):  # the products' float noise (-6.9e-18) drawn as the 0 it is
        m.data = np.round(m.data, 12) + 0.0
    fig, axes = plt.subplots(1, 3, figsize=(18, 7.0))
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.22, top=0.86, wspace=0.08)
    for ax, m, title in zip(axes, (body, identity, block),
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


#: (C_in, C_out, input size) of VGG-16's convolutions on a 32x32 input (Simonyan &
#: Zisserman, configuration D: 3x3, padding 1, the map halved after each block)
VGG16_CIFAR = [(3, 64, 32), (64, 64, 32), (64, 128, 16), (128, 128, 16), (128, 256, 8),
               (256, 256, 8), (256, 256, 8), (256, 512, 4), (512, 512, 4), (512, 512, 4),
               (512, 512, 2), (512, 512, 2), (512, 512, 2)]

#: the methods drawn, their labels and colours: guaranteed bounds in warm colours,
#: estimates (not bounds for these zero-padded layers) in cool ones
BOUND_STYLE = {
    "Araujo et al.": ("Araujo et al. (2021)", "#d62728", "v"),
    "Singla & Feizi": ("Singla & Feizi (2021)", "#ff7f0e", "^"),
    "Gram iteration 2024, padded grid": ("Gram iteration, padded grid (2024)", "#8c564b", "s"),
    "circular layer, padded grid": ("circulant on the padded grid", "#e6ab02", "D"),
    "Sedghi et al. (FFT, input grid)": ("Sedghi et al. (FFT, input grid)", "#1f77b4", "o"),
    "Gram iteration 2023": ("Gram iteration (2023), input grid", "#17becf", "P"),
    "torch spectral_norm (reshaped kernel)": ("torch spectral_norm (reshaped kernel)",
                                              "#9467bd", "X"),
    "power iteration, 10 steps": ("power iteration, 10 steps", "#2ca02c", "<"),
    "power iteration, 100 steps": ("power iteration, 100 steps", "#006d2c", ">"),
}


def vgg16_ratios() -> tuple[dict, dict]:
    """value / exact and "guaranteed?" of every drawn method of convmat.spectral_bounds on
    VGG-16's 13 convolutions at 32x32 (the weights of benchmarks/bench_bounds_vgg.py:
    seed 16, He et al.'s scale)."""
    rng = np.random.default_rng(16)
    ratios: dict[str, list[float]] = {m: [] for m in BOUND_STYLE}
    guaranteed: dict[str, list[bool]] = {m: [] for m in BOUND_STYLE}
    for c_in, c_out, n in VGG16_CIFAR:
        w = rng.standard_normal((c_out, c_in, 3, 3)) * np.sqrt(2 / (c_in * 9))
        table = convmat.spectral_bounds(w, (n, n), padding=1)
        for row in table.rows:
            key = next((m for m in BOUND_STYLE if row.method.startswith(m)), None)
            if key is not None:
                ratio = table.ratio(row)
                ratios[key].append(np.nan if ratio is None else ratio)
                guaranteed[key].append(row.upper_bound)
        print(f"  bounds-vgg16: {c_in}->{c_out} at {n}x{n} done", flush=True)
    return ratios, guaranteed


def bounds_vgg16(ratios: dict | None = None, guaranteed: dict | None = None):
    """docs/spectral.md: value / exact spectral norm of every method across VGG-16's
    convolutions at CIFAR size, log scale (:func:`vgg16_ratios`)."""
    import matplotlib.pyplot as plt

    if ratios is None or guaranteed is None:
        ratios, guaranteed = vgg16_ratios()
    fig, (top, zoom) = plt.subplots(2, 1, figsize=(14, 11.5), layout="constrained",
                                    sharex=True, height_ratios=[1.2, 1])
    layers = np.arange(1, len(VGG16_CIFAR) + 1)
    for ax, (low, high), ticks in (
            (top, (0.3, 30), [0.5, 1, 2, 5, 10, 20]),
            (zoom, (0.93, 1.62), [0.95, 1, 1.05, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6])):
        ax.axhspan(low, 1.0, color="#ededed", zorder=0)
        ax.axhline(1.0, color="black", linewidth=1.6, zorder=1)
        for k, (method, (label, colour, marker)) in enumerate(BOUND_STYLE.items()):
            values = np.array(ratios[method])
            if values.size == 0 or (ax is zoom and not np.all((values > low) &
                                                              (values < high))):
                continue  # the zoom shows the methods that stay inside it
            bound = all(guaranteed[method])
            dodge = (k - (len(BOUND_STYLE) - 1) / 2) * (0.05 if ax is top else 0.08)
            ax.plot(layers + dodge, values, color=colour, marker=marker, markersize=8,
                    linewidth=2.4 if bound else 1.6, linestyle="-" if bound else "--",
                    markerfacecolor=colour if bound else "white", markeredgewidth=1.6,
                    label=label,
                    zorder=3 if bound else 2, clip_on=True)
        ax.set_yscale("log")
        ax.set_ylim(low, high)
        ax.set_yticks(ticks)
        ax.set_yticklabels([f"{t:g}" for t in ticks])
        ax.minorticks_off()
        ax.tick_params(axis="y", labelsize=12)
        ax.grid(True, axis="y", color="#d9d9d9", zorder=0)
        ax.set_xlim(0.5, len(VGG16_CIFAR) + 0.5)
        ax.set_ylabel("value / exact (log scale)", fontsize=13)
    top.text(13.45, 0.33, "grey: below the exact value, not an upper bound", fontsize=12,
             color="#444444", va="bottom", ha="right")
    top.set_title("How loose each spectral-norm bound is on VGG-16's 13 convolutions\n"
                  "(32×32 input, seeded random weights; 1 = convmat's exact value)",
                  fontsize=15)
    zoom.set_title("zoom on the methods within 7 % below and 60 % above the exact value",
                   fontsize=13)
    zoom.set_xticks(layers)
    zoom.set_xticklabels([f"conv{i}\n{c}→{o}\n{n}×{n}" for i, (c, o, n)
                          in enumerate(VGG16_CIFAR, 1)], fontsize=11)
    zoom.set_xlabel("layer: channels in→out, map size (3×3 kernels, zero padding 1)",
                    fontsize=13)
    handles, labels = top.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=11.5,
               frameon=False, title="solid line, filled marker: a guaranteed upper bound for "
               "these zero-padded layers; dashed line, hollow marker: not a bound",
               title_fontsize=12)
    return fig


if __name__ == "__main__":
    main(sys.argv[1:])
