"""The subcommands around the matrix: ``animate`` and ``plot`` (pictures, matplotlib),
``spectrum`` (singular values) and ``summary`` (a network layer by layer)."""

from __future__ import annotations

import argparse
import math
import os
import re
from typing import cast

import numpy as np

from .. import geometry, sparse
from ._args import (
    X_HELP,
    _add_geometry,
    _common,
    _input_numbers,
    _output_padding,
    _positive_int,
    _UsageError,
    parse_shape,
    parse_weights,
    writing,
)
from ..errors import brief
from ..layout import LANGUAGES

__all__ = ["COMMANDS"]



# -- pictures: `convmat animate` and `convmat plot` (matplotlib: pip install "convmat[plot]") --

def _add_picture_options(p: argparse.ArgumentParser, *, values: bool) -> None:
    _add_geometry(p, weights=False)
    p.add_argument("--weights", help="kernel numbers in C order, rows separated by ';'")
    if values:
        p.add_argument("--x", help=X_HELP + "; with --weights the output cells show their "
                       "values")
    p.add_argument("--in-channels", type=_positive_int, default=1,
                   help="input channels (default 1); each drawn as a plane")
    p.add_argument("--out-channels", type=_positive_int, default=1,
                   help="output channels (default 1)")
    p.add_argument("--groups", type=_positive_int, default=1,
                   help="groups (default 1; --groups equal to --in-channels: depthwise)")
    p.add_argument("--mode", default="zeros", choices=geometry.PADDING_MODES,
                   help="padding mode (default zeros); padded cells show the entry they copy")
    p.add_argument("--lang", default="en", choices=LANGUAGES,
                   help="language of the words in the picture (default en; es: Spanish)")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="file to write; the format is taken from the suffix")


def _add_animate(sub) -> None:
    p = sub.add_parser(
        "animate", help="animate a convolution (GIF; needs matplotlib)",
        description="Animate a 1-D, 2-D or 3-D convolution, one frame per output entry: "
                    "'convolution' slides the kernel over the input; 'matrix' shows the same "
                    "next to y = A x with row t of A highlighted. Writes .gif (or .mp4 with "
                    "ffmpeg).")
    p.add_argument("what", choices=("convolution", "matrix"))
    _add_picture_options(p, values=True)
    p.add_argument("--fps", type=float, default=1.5, help="frames per second (default 1.5)")


def _add_plot(sub) -> None:
    p = sub.add_parser(
        "plot", help="draw a convolution's matrix, connectivity or Kong & Lucey blocks",
        description="Draw a 1-D or 2-D convolution (channels and groups too): 'matrix' (with block rules), "
                    "'connectivity' (input-output graph, edges coloured by tap) or "
                    "'kong-lucey' (strided matrix, column permutation, unit-stride blocks; "
                    "needs --stride). Writes .png, .pdf or .svg.")
    p.add_argument("what", choices=("matrix", "connectivity", "kong-lucey"))
    _add_picture_options(p, values=False)
    p.set_defaults(stride=None)  # refused for kong-lucey when missing
    p.add_argument("--highlight-row", type=int, metavar="ROW",
                   help="with 'matrix': outline one row (the kernel's window)")


def _weight_shape(args, kshape) -> tuple:
    """The kernel, or with channels the layout (C_out, C_in/groups, *kernel) (transposed:
    (C_in, C_out/groups, *kernel))."""
    c_in, c_out, g = args.in_channels, args.out_channels, args.groups
    if (c_in, c_out, g) == (1, 1, 1):
        return tuple(kshape)
    if c_in % g or c_out % g:
        raise _UsageError(f"--groups {g} must divide --in-channels {c_in} and --out-channels "
                          f"{c_out}")
    if args.transposed:
        return (c_in, c_out // g, *kshape)
    return (c_out, c_in // g, *kshape)


def _picture_arrays(args, kshape, ishape):
    wshape = _weight_shape(args, kshape)
    weight = None if args.weights is None else parse_weights(args.weights, wshape)
    if weight is None and len(wshape) > len(kshape):
        weight = np.arange(1, math.prod(wshape) + 1).reshape(wshape)
    xshape = (args.in_channels, *ishape) if args.in_channels > 1 else tuple(ishape)
    return weight, _input_numbers(getattr(args, "x", None), xshape)


def _picture_kw(args) -> dict:
    if args.stride is None:  # `plot` asks: kong-lucey needs it, the others default to 1
        args.stride = "1"
    kw = _common(args)
    if args.groups != 1:
        kw["groups"] = args.groups
    if args.mode != "zeros":
        kw["padding_mode"] = args.mode
    output_padding = _output_padding(args)
    if args.transposed:
        kw.update(transposed=True, output_padding=output_padding)
    return kw


def _save_picture(obj, path, **kw) -> int:
    from ..figures import save

    with writing(path):
        save(obj, path, **kw)
    print(f"wrote {path}")
    return 0


def _cmd_animate(args) -> int:
    from .. import figures

    ishape = parse_shape(args.input, "--input")
    kshape = parse_shape(args.kernel, "--kernel")
    kw = _picture_kw(args)
    weight, x = _picture_arrays(args, kshape, ishape)
    suffix = os.path.splitext(args.output)[1].lower()
    if suffix not in (".gif", ".mp4", ".pdf", ".tex"):
        raise _UsageError(f"-o {args.output}: an animation is written as .gif or .mp4, .pdf "
                          f"(one page per frame) or .tex (TikZ)")
    if not 0 < args.fps <= 100:
        raise _UsageError(f"--fps {args.fps} must be in (0, 100]")
    make = figures.animate_convolution if args.what == "convolution" else figures.animate_matrix
    return _save_picture(make(ishape, kshape, x=x, weight=weight, lang=args.lang, **kw),
                         args.output, **({"fps": args.fps} if suffix in (".gif", ".mp4")
                                         else {}))


def _cmd_plot(args) -> int:
    from .. import figures

    ishape = parse_shape(args.input, "--input")
    kshape = parse_shape(args.kernel, "--kernel")
    if args.what == "kong-lucey" and args.stride is None:
        raise _UsageError("'plot kong-lucey' needs --stride (the stride the rearrangement "
                          "removes), e.g. --stride 2")
    given = args.weights is not None
    kw = _picture_kw(args)
    weight, _ = _picture_arrays(args, kshape, ishape)
    if os.path.splitext(args.output)[1].lower() not in (".png", ".pdf", ".svg", ".tex"):
        raise _UsageError(f"-o {args.output}: a figure is written as .png, .pdf, .svg or "
                          f".tex (TikZ of 'plot matrix')")
    if args.highlight_row is not None and args.what != "matrix":
        raise _UsageError("--highlight-row applies to 'plot matrix' only")
    if args.what == "connectivity":
        if given:
            raise _UsageError("--weights does not apply to 'plot connectivity' (edges are "
                              "coloured by tap)")
        return _save_picture(figures.plot_connectivity(ishape, kshape, weight=weight,
                                                       lang=args.lang, **kw), args.output)
    if weight is None:
        weight = np.arange(1, math.prod(kshape) + 1).reshape(kshape)
    if args.what == "kong-lucey":
        if args.transposed:
            raise _UsageError("--transposed does not apply to 'plot kong-lucey'")
        from ..striding import kong_lucey

        return _save_picture(figures.plot_kong_lucey(kong_lucey(weight, ishape, **kw),
                                                     lang=args.lang), args.output)
    if args.transposed:
        kw.pop("transposed")
        matrix = sparse.conv_transpose_matrix(weight, ishape, **kw)
        geom = geometry.transposed_geometry(ishape, weight.shape, **kw)
    else:
        matrix = sparse.conv_matrix(weight, ishape, **kw)
        geom = geometry.convolution_geometry(ishape, weight.shape, **kw)
    return _save_picture(figures.plot_matrix(matrix, geometry=geom,
                                             highlight_row=args.highlight_row,
                                             lang=args.lang), args.output)


def _add_spectrum(sub) -> None:
    p = sub.add_parser(
        "spectrum", help="exact singular values and spectral norm of a layer",
        description="Exact singular values of a convolution layer's matrix (its spectral "
                    "norm is the largest): FFT for block-circulant layers (circular padding, "
                    "any stride dividing the input), Lanczos or a dense SVD otherwise.")
    p.add_argument("--input", required=True, help="spatial input shape, e.g. 32x32")
    p.add_argument("--kernel", help="spatial kernel shape, e.g. 3x3 (default: from "
                   "--weights-file)")
    p.add_argument("--channels", metavar="C_IN:C_OUT",
                   help="input and output channels, e.g. 16:16 (default 1:1, or from "
                        "--weights-file)")
    p.add_argument("--groups", type=_positive_int, default=1)
    p.add_argument("--stride", default="1", help="int or per-dim ints like 2x1")
    p.add_argument("--padding", default="0",
                   help="int, per-dim ints (1x2), before:after pairs (0:1x2), valid, same, full")
    p.add_argument("--dilation", default="1", help="int or per-dim ints")
    p.add_argument("--mode", default="zeros", choices=geometry.PADDING_MODES,
                   help="padding mode")
    p.add_argument("--k", type=_positive_int, help="only the k largest (default: all)")
    p.add_argument("--method", default="auto", choices=("auto", "fft", "sparse", "dense"))
    p.add_argument("--bounds", action="store_true",
                   help="print the table of published bounds and estimates beside the exact "
                        "spectral norm (convmat.spectral_bounds) instead of the values")
    p.add_argument("--weights-file", metavar="W.npy",
                   help="weights (C_out, C_in/groups, *kernel) saved by numpy.save; default "
                        "random normal weights with std 1/sqrt(fan_in) and a fixed seed")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights (default 0)")
    p.add_argument("--show", default="10", metavar="N|all",
                   help="how many values to print, largest first (default 10)")
    p.add_argument("-o", "--output", metavar="FILE.npy",
                   help="save every computed singular value with numpy.save")


def _spectrum_weight(args, ndim: int):
    """(weight, description) from ``--weights-file`` or random with ``--seed``."""
    kernel = parse_shape(args.kernel, "--kernel") if args.kernel else None
    channels = None
    if args.channels is not None:
        m = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", args.channels)
        if m is None or min(int(m.group(1)), int(m.group(2))) < 1:
            raise _UsageError(f"--channels {brief(args.channels)} is not C_IN:C_OUT like 16:16")
        channels = int(m.group(1)), int(m.group(2))
    if args.weights_file is not None:
        try:
            weight = np.load(args.weights_file, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise _UsageError(f"--weights-file {args.weights_file}: cannot read a .npy "
                              f"array ({exc})") from None
        if weight.ndim != ndim + 2:
            raise _UsageError(f"--weights-file holds shape {weight.shape}; for a "
                              f"{ndim}-D input it must be (C_out, C_in/groups, *kernel)")
        if kernel is not None and tuple(weight.shape[2:]) != kernel:
            raise _UsageError(f"--kernel {args.kernel} does not match the file's kernel "
                              f"{tuple(weight.shape[2:])}")
        if channels is not None and (weight.shape[0], weight.shape[1] * args.groups) != (
                channels[1], channels[0]):
            raise _UsageError(f"--channels {args.channels} does not match the file's shape "
                              f"{weight.shape} with --groups {args.groups}")
        return weight, f"from {args.weights_file}, shape {weight.shape}"
    if kernel is None:
        raise _UsageError("give --kernel (or --weights-file)")
    c_in, c_out = channels or (1, 1)
    if c_in % args.groups or c_out % args.groups:
        raise _UsageError(f"--groups {args.groups} must divide both channel counts of "
                          f"--channels {c_in}:{c_out}")
    shape = (c_out, c_in // args.groups, *kernel)
    fan_in = math.prod(shape[1:])
    weight = np.random.default_rng(args.seed).standard_normal(shape) / math.sqrt(fan_in)
    return weight, (f"random normal, std 1/sqrt(fan_in) = 1/sqrt({fan_in}), seed "
                    f"{args.seed}, shape {shape} (--weights-file W.npy for your own)")


def _cmd_spectrum(args) -> int:
    import time

    from ..spectral import choose_method, singular_values

    ishape = parse_shape(args.input, "--input")
    show = args.show.strip().lower()
    if show != "all" and not re.fullmatch(r"\d+", show):
        raise _UsageError(f"--show {brief(args.show)} must be a number or 'all'")
    weight, origin = _spectrum_weight(args, len(ishape))
    kw = dict(_common(args), groups=args.groups, padding_mode=args.mode)
    geom = geometry.convolution_geometry(ishape, weight.shape, **kw)
    if args.bounds:
        from ..bounds import spectral_bounds

        print(spectral_bounds(weight, ishape, **kw).text())
        return 0
    method = args.method
    if method == "auto":
        method = choose_method(weight, ishape, k=args.k, **kw)
    start = time.perf_counter()
    values = cast(np.ndarray, singular_values(weight, ishape, k=args.k, method=method, **kw))
    seconds = time.perf_counter() - start
    rows, cols = geom.shape
    shown = values if show == "all" else values[:int(show)]
    lines = [
        f"layer:    input {geom.input_shape}, kernel {geom.kernel_shape}, channels "
        f"{geom.in_channels} -> {geom.out_channels}, groups {geom.groups}, stride "
        f"{geom.stride}, padding {geom.padding} ({geom.padding_mode}), dilation "
        f"{geom.dilation}",
        f"weights:  {origin}",
        f"matrix:   {rows:,} x {cols:,}, output {geom.output_shape}",
        f"method:   {method}{' (auto)' if args.method == 'auto' else ''}, {seconds:.3g} s",
        f"spectral norm: {values[0]:.12g}",
        (f"singular values: the {values.size:,} largest" if args.k is not None else
         f"singular values: all {values.size:,}, smallest {values[-1]:.6g}"),
    ]
    lines += [f"  {v:.12g}" for v in shown]
    if shown.size < values.size:
        lines.append(f"  ... {values.size - shown.size:,} more (--show all, or -o FILE.npy)")
    if args.output is not None:
        with writing(args.output):
            np.save(args.output, values)
        lines.append(f"saved {values.size:,} values to {args.output}")
    print("\n".join(lines))
    return 0


def _add_summary(sub) -> None:
    from ..networks import LAYER_GRAMMAR, MODELS

    p = sub.add_parser(
        "summary", help="a network layer by layer: shapes, parameters, matrices, sparsity",
        description="Tabulate a network layer by layer: output shape, parameters, the "
                    "layer's matrix shape, stored entries, density and receptive field.",
        epilog=f"models: {', '.join(sorted(MODELS))}\n\n{LAYER_GRAMMAR}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", choices=sorted(MODELS), help="a named model")
    source.add_argument("--layers", metavar="SPEC",
                        help="layer descriptions, e.g. \"conv 6 5x5 pad 2; avgpool 2\"")
    p.add_argument("--input", required=True, help="spatial input shape, e.g. 32x32")
    p.add_argument("--in-channels", type=_positive_int, default=1,
                   help="input channels (default 1)")
    p.add_argument("--format", default="text", choices=("text", "markdown", "latex"))
    p.add_argument("--standalone", action="store_true",
                   help="with --format latex: a complete document that compiles with pdflatex")
    p.add_argument("--spectral", nargs="?", const="exact", choices=("exact", "bound"),
                   help="add every layer's spectral norm and Lipschitz constant, their "
                        "product in the total row (bound: convolutions by their best "
                        "guaranteed upper bound)")
    p.add_argument("--lipschitz", action="store_true",
                   help="print convmat.lipschitz_bound's table after the summary: the "
                        "layer-wise and segment-wise products")
    p.add_argument("--seed", type=int, default=None,
                   help="random weights for the described layers (a description has none), "
                        "drawn as PyTorch initialises them")
    p.add_argument("--progress", action="store_true",
                   help="a progress bar on standard error while the norms are computed")


def _cmd_summary(args) -> int:
    from ..networks import MODELS, summary

    if args.standalone and args.format != "latex":
        raise _UsageError("--standalone applies to --format latex only")
    spec = MODELS[args.model] if args.model else args.layers
    table = summary(spec, parse_shape(args.input, "--input"), in_channels=args.in_channels,
                    spectral=args.spectral or False, seed=args.seed, progress=args.progress)
    if args.format == "latex":
        print(table.latex(standalone=args.standalone))
    else:
        print(table.markdown() if args.format == "markdown" else table.text())
    if args.lipschitz:
        from ..networks import lipschitz_bound

        bound = table.bound or lipschitz_bound(  # with --spectral: the same record
            spec, parse_shape(args.input, "--input"), in_channels=args.in_channels,
            seed=args.seed, progress=args.progress)
        print()
        print({"latex": bound.latex, "markdown": bound.markdown}.get(args.format,
                                                                      bound.text)())
    return 0


#: subcommand name -> (add arguments, run), for :data:`convmat.cli.COMMANDS`
COMMANDS = {
    "animate": (_add_animate, _cmd_animate), "plot": (_add_plot, _cmd_plot),
    "spectrum": (_add_spectrum, _cmd_spectrum), "summary": (_add_summary, _cmd_summary),
}
