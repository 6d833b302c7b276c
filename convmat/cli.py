"""The ``convmat`` command line: ``convmat matrix``, ``convmat shape``, ``convmat demo``.

Every subcommand is a ``_add_<name>`` (arguments) and a ``_cmd_<name>`` (action) pair
registered in :data:`COMMANDS`. :func:`main` returns the exit code (0 success, 2 bad input);
weights given on the command line are parsed as numbers only, never evaluated.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable, Sequence

import numpy as np

from . import geometry, sparse
from .errors import ConvmatError
from .text import to_text

__all__ = ["main", "run", "parse_shape", "parse_padding", "parse_weights", "COMMANDS"]


class _UsageError(Exception):
    """Bad command-line input (exit code 2)."""


def parse_shape(text: str, name: str = "--input") -> tuple[int, ...]:
    """``"5x5"`` → ``(5, 5)``; ``"7"`` → ``(7,)``."""
    parts = re.split(r"[x×,]", text.strip())
    if not parts or not all(re.fullmatch(r"\d+", p.strip()) for p in parts):
        raise _UsageError(f"{name} {text!r} is not a shape like 5x5 or 7")
    return tuple(int(p) for p in parts)


def parse_ints(text: str, name: str) -> int | tuple[int, ...]:
    """``"2"`` → ``2``; ``"1x2"`` → ``(1, 2)``."""
    shape = re.split(r"[x×,]", text.strip())
    if not all(re.fullmatch(r"\d+", p.strip()) for p in shape):
        raise _UsageError(f"{name} {text!r} is not an int or per-dim ints like 1x2")
    values = tuple(int(p) for p in shape)
    return values[0] if len(values) == 1 else values


def parse_padding(text: str):
    """``"1"``, ``"1x2"`` (per dim), ``"0:1x2"`` (before:after per dim), or a padding word."""
    word = text.strip().lower()
    if word in ("valid", "same", "full"):
        return word
    dims = re.split(r"[x×,]", word)
    out = []
    for dim in dims:
        m = re.fullmatch(r"(\d+)(?::(\d+))?", dim.strip())
        if m is None:
            raise _UsageError(
                f"--padding {text!r} is not an int, per-dim ints (1x2), before:after pairs "
                f"(0:1x2) or one of valid, same, full"
            )
        out.append(int(m.group(1)) if m.group(2) is None else (int(m.group(1)), int(m.group(2))))
    return out[0] if len(out) == 1 and not isinstance(out[0], tuple) else out


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _number(token: str):
    if re.fullmatch(r"[+-]?\d+", token):
        return int(token)
    if _NUMBER.fullmatch(token):
        return float(token)
    if re.fullmatch(r"[0-9eE.+\-j()]+", token):
        try:
            return complex(token)
        except ValueError:
            pass
    raise _UsageError(f"--weights: {token!r} is not a number (weights are numbers only)")


def parse_weights(text: str, shape: Sequence[int]) -> np.ndarray:
    """Numbers separated by commas, semicolons, ``|`` or spaces, reshaped to ``shape``.

    Only numeric literals are accepted (ints, floats, complex like ``1+2j``); nothing is
    evaluated.

    Examples
    --------
    >>> parse_weights("0,1,2;2,2,0;0,1,2", (3, 3))
    array([[0, 1, 2],
           [2, 2, 0],
           [0, 1, 2]])
    """
    tokens = [t for t in re.split(r"[,;|\s]+", text.strip()) if t]
    values = [_number(t) for t in tokens]
    if len(values) != math.prod(shape):
        raise _UsageError(
            f"--weights has {len(values)} numbers but the weight shape {tuple(shape)} needs "
            f"{math.prod(shape)}"
        )
    return np.array(values).reshape(shape)


def _add_geometry(p: argparse.ArgumentParser, *, weights: bool) -> None:
    p.add_argument("--input", required=True, help="spatial input shape, e.g. 5x5")
    p.add_argument("--kernel", required=True, help="spatial kernel shape, e.g. 3x3")
    if weights:
        p.add_argument("--weights", help="kernel numbers in C order, rows separated by ';' "
                       "(default 1, 2, ..., so each entry shows its tap)")
        p.add_argument("--in-channels", type=int, default=1, help="C_in (default 1)")
        p.add_argument("--out-channels", type=int, default=1, help="C_out (default 1)")
        p.add_argument("--groups", type=int, default=1)
        p.add_argument("--mode", default="zeros", choices=geometry.PADDING_MODES,
                       help="padding mode")
        p.add_argument("--flip", action="store_true", help="true convolution (flipped kernel)")
    p.add_argument("--stride", default="1", help="int or per-dim ints like 2x1")
    p.add_argument("--padding", default="0",
                   help="int, per-dim ints (1x2), before:after pairs (0:1x2), valid, same, full")
    p.add_argument("--dilation", default="1", help="int or per-dim ints")
    p.add_argument("--transpose", action="store_true", help="transposed convolution")
    p.add_argument("--output-padding", default="0", help="with --transpose")


def _common(args) -> dict:
    return dict(
        stride=parse_ints(args.stride, "--stride"),
        padding=parse_padding(args.padding),
        dilation=parse_ints(args.dilation, "--dilation"),
    )


def _add_matrix(sub) -> None:
    p = sub.add_parser("matrix", help="print a convolution's matrix",
                       description="Print the matrix of a convolution (or its transpose).")
    _add_geometry(p, weights=True)
    p.add_argument("--max-size", type=int, default=40,
                   help="largest rows/cols printed densely (default 40); larger gets a summary")


def _cmd_matrix(args) -> int:
    ishape = parse_shape(args.input, "--input")
    kshape = parse_shape(args.kernel, "--kernel")
    if args.transpose:
        lead = (args.in_channels, args.out_channels // max(args.groups, 1))
    else:
        lead = (args.out_channels, args.in_channels // max(args.groups, 1))
    channels = args.in_channels != 1 or args.out_channels != 1 or args.groups != 1
    wshape = (*lead, *kshape) if channels else kshape
    if channels and (args.in_channels % args.groups or args.out_channels % args.groups):
        raise _UsageError(f"--groups {args.groups} must divide --in-channels "
                          f"{args.in_channels} and --out-channels {args.out_channels}")
    if args.weights is None:
        weight = np.arange(1, math.prod(wshape) + 1).reshape(wshape)
    else:
        weight = parse_weights(args.weights, wshape)
    kw = _common(args)
    kw.update(groups=args.groups, padding_mode=args.mode, flip=args.flip)
    if args.transpose:
        matrix = sparse.conv_transpose_matrix(
            weight, ishape, output_padding=parse_ints(args.output_padding, "--output-padding"),
            **kw)
    else:
        matrix = sparse.conv_matrix(weight, ishape, **kw)
    print(to_text(matrix, max_rows=args.max_size, max_cols=args.max_size))
    return 0


def _add_shape(sub) -> None:
    p = sub.add_parser("shape", help="output shape with the formula filled in",
                       description="Print a convolution's output shape and its derivation.")
    _add_geometry(p, weights=False)


def _cmd_shape(args) -> int:
    ishape = parse_shape(args.input, "--input")
    kshape = parse_shape(args.kernel, "--kernel")
    kw = _common(args)
    n = len(ishape)
    strides = geometry.as_per_dim(kw["stride"], n, "stride", minimum=1)
    dilations = geometry.as_per_dim(kw["dilation"], n, "dilation", minimum=1)
    if args.transpose:
        out_pad = geometry.as_per_dim(parse_ints(args.output_padding, "--output-padding"), n,
                                      "output_padding", minimum=0)
        shape = geometry.conv_transpose_output_shape(ishape, kshape, output_padding=out_pad,
                                                     **kw)
        pads = geometry.resolve_padding(
            kw["padding"], tuple(i * s for i, s in zip(ishape, strides))
            if isinstance(kw["padding"], str) else ishape, kshape, strides, dilations)
        for axis in range(n):
            i, k, s, d, (b, a), q = (ishape[axis], kshape[axis], strides[axis],
                                     dilations[axis], pads[axis], out_pad[axis])
            print(f"dim {axis}: o = (i-1)s - (b+a) + d(k-1) + q + 1 = ({i}-1)*{s} - ({b}+{a}) "
                  f"+ {d}*({k}-1) + {q} + 1 = {shape[axis]}")
    else:
        shape = geometry.conv_output_shape(ishape, kshape, **kw)
        pads = geometry.resolve_padding(kw["padding"], ishape, kshape, strides, dilations)
        for axis in range(n):
            i, k, s, d, (b, a) = (ishape[axis], kshape[axis], strides[axis], dilations[axis],
                                  pads[axis])
            print(f"dim {axis}: o = floor((i + b + a - d(k-1) - 1) / s) + 1 = "
                  f"floor(({i} + {b} + {a} - {d}*({k}-1) - 1) / {s}) + 1 = {shape[axis]}")
    print("output shape:", "x".join(map(str, shape)))
    return 0


def _add_demo(sub) -> None:
    sub.add_parser("demo", help="a short guided tour (no arguments needed)",
                   description="A short guided tour of convolution as a matrix.")


def _cmd_demo(args) -> int:
    from .demo import tour

    print(tour())
    return 0


#: subcommand name -> (add arguments, run)
COMMANDS: dict[str, tuple[Callable, Callable]] = {
    "demo": (_add_demo, _cmd_demo),
    "matrix": (_add_matrix, _cmd_matrix),
    "shape": (_add_shape, _cmd_shape),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would exit; we return 2 from main instead
        raise _UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="convmat", description="Convolutions as explicit matrices.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add, _ in COMMANDS.values():
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return COMMANDS[args.command][1](args)
    except (_UsageError, ConvmatError) as exc:
        print(f"convmat: error: {exc}", file=sys.stderr)
        return 2


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
