"""The ``convmat`` command line: ``matrix``, ``kong-lucey``, ``shape``, ``demo``.

Every subcommand is a ``_add_<name>`` (arguments) and a ``_cmd_<name>`` (action) pair
registered in :data:`COMMANDS`. :func:`main` returns the exit code (0 success, 2 bad input);
weights given on the command line are parsed as numbers only, never evaluated.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import re
import sys
from collections.abc import Callable, Sequence

import numpy as np
import scipy.io
import scipy.sparse

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
        m = re.fullmatch(r"(-?\d+)(?::(-?\d+))?", dim.strip())  # negative: a crop
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
        value = float(token)
        if not math.isfinite(value):
            raise _UsageError(f"--weights: {token!r} is not a finite number")
        return value
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


def _positive_int(text: str) -> int:
    """argparse type of ``--in-channels``, ``--out-channels``, ``--groups``."""
    if not re.fullmatch(r"\s*\+?\d+\s*", text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, not {text!r}")
    return int(text)


def _add_channels(p: argparse.ArgumentParser) -> None:
    p.add_argument("--in-channels", type=_positive_int, default=1, help="C_in (default 1)")
    p.add_argument("--out-channels", type=_positive_int, default=1, help="C_out (default 1)")
    p.add_argument("--groups", type=_positive_int, default=1)


def _weight(args, kernel: tuple[int, ...], *, transposed: bool = False):
    """The weight of ``convmat matrix`` / ``kong-lucey``: ``--weights`` (exact rationals with
    ``--symbolic``), a shape with ``--symbolic`` (symbols are made), else ``1, 2, ...``."""
    if args.in_channels % args.groups or args.out_channels % args.groups:
        raise _UsageError(f"--groups {args.groups} must divide --in-channels "
                          f"{args.in_channels} and --out-channels {args.out_channels}")
    shape = kernel
    if (args.in_channels, args.out_channels, args.groups) != (1, 1, 1):
        first, second = ((args.in_channels, args.out_channels) if transposed
                         else (args.out_channels, args.in_channels))
        shape = (first, second // args.groups, *kernel)
    if args.weights is not None:
        weight = parse_weights(args.weights, shape)
        if args.symbolic and weight.dtype.kind == "f":
            import sympy  # exact entries: 0.1 is 1/10, the decimal as typed

            weight = np.frompyfunc(lambda v: sympy.Rational(repr(float(v))), 1, 1)(weight)
        return shape, weight
    if args.symbolic:
        return shape, shape  # a shape: the symbolic builders make w_{...} symbols
    return shape, np.arange(1, math.prod(shape) + 1).reshape(shape)


def _add_geometry(p: argparse.ArgumentParser, *, weights: bool) -> None:
    p.add_argument("--input", required=True, help="spatial input shape, e.g. 5x5")
    p.add_argument("--kernel", required=True, help="spatial kernel shape, e.g. 3x3")
    if weights:
        p.add_argument("--weights", help="kernel numbers in C order, rows separated by ';' "
                       "(default 1, 2, ..., so each entry shows its tap)")
        _add_channels(p)
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
    _add_matrix_output(p)


def _add_matrix_output(p: argparse.ArgumentParser) -> None:
    """Options of ``convmat matrix`` for symbolic entries, output formats and LaTeX."""
    p.add_argument("--symbolic", action="store_true",
                   help="entries are sympy symbols w_{i,j} (or the --weights numbers, exactly)")
    p.add_argument("--format", default="text", choices=_FORMATS,
                   help="text (default), latex, mtx (Matrix Market) or npz (scipy.sparse)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    latex = p.add_argument_group("LaTeX options (--format latex)")
    latex.add_argument("--standalone", action="store_true",
                       help="a complete document that compiles with pdflatex")
    latex.add_argument("--env", choices=("bmatrix", "pmatrix", "array"),
                       help="environment (default bmatrix)")
    latex.add_argument("--block", metavar="ROWSxCOLS",
                       help="rules every ROWS rows and COLS columns (default: from the geometry)")
    latex.add_argument("--no-blocks", action="store_true", help="no block rules")
    latex.add_argument("--zero", choices=("0", "cdot", "blank"),
                       help="how structural zeros print (default 0)")
    latex.add_argument("--precision", type=int, help="significant digits of floats (default 4)")
    latex.add_argument("--highlight-row", type=int, metavar="ROW",
                       help="box the entries of one row (the kernel's window)")
    for axis in ("rows", "cols"):
        p.add_argument(f"--max-{axis}", type=int, metavar="N",
                       help=f"at most N {axis}: LaTeX elides the middle, text prints a "
                       f"summary beyond (default --max-size)")


def _cmd_matrix(args) -> int:
    ishape = parse_shape(args.input, "--input")
    kshape = parse_shape(args.kernel, "--kernel")
    _check_matrix_output(args)
    wshape, weight = _weight(args, kshape, transposed=args.transpose)
    kw = _common(args)
    kw.update(groups=args.groups, padding_mode=args.mode, flip=args.flip)
    if args.symbolic:
        from . import symbolic as builders
    else:
        builders = sparse
    if args.transpose:
        kw["output_padding"] = parse_ints(args.output_padding, "--output-padding")
        matrix = builders.conv_transpose_matrix(weight, ishape, **kw)
        geom = geometry.conv_transpose_geometry(wshape, ishape, **kw)
    else:
        matrix = builders.conv_matrix(weight, ishape, **kw)
        geom = geometry.conv_geometry(wshape, ishape, **kw)
    _write(_render_matrix(args, matrix, geom), args.output)
    return 0


_FORMATS = ("text", "latex", "mtx", "npz")
_LATEX_ONLY = ("standalone", "env", "block", "no_blocks", "zero", "precision", "highlight_row")


def _check_matrix_output(args) -> None:
    """Refuse option combinations that cannot work, before building anything."""
    if args.symbolic and args.format in ("mtx", "npz"):
        raise _UsageError(f"--format {args.format} stores numbers; it cannot be combined with "
                          f"--symbolic (use --format latex or text)")
    if args.format == "npz" and args.output is None:
        raise _UsageError("--format npz is binary: give a file with -o FILE")
    given = ["--" + name.replace("_", "-") for name in _LATEX_ONLY
             if getattr(args, name) not in (None, False)]
    if given and args.format != "latex":
        verb = "applies" if len(given) == 1 else "apply"
        raise _UsageError(f"{', '.join(given)} {verb} to --format latex only")
    output_padding = parse_ints(args.output_padding, "--output-padding")
    if not args.transpose and any(np.atleast_1d(output_padding)):
        raise _UsageError("--output-padding applies to --transpose only")
    if args.block is not None and args.no_blocks:
        raise _UsageError("--block and --no-blocks contradict each other")
    for name in ("max_size", "max_rows", "max_cols"):
        value = getattr(args, name)
        if args.format == "latex" and value is not None and value < 2:
            raise _UsageError(f"--{name.replace('_', '-')} {value} must be at least 2 with "
                              f"--format latex (one row or column and the ellipsis)")


def _render_matrix(args, matrix, geom) -> str | bytes:
    """The matrix in the requested ``--format``."""
    max_rows = args.max_size if args.max_rows is None else args.max_rows
    max_cols = args.max_size if args.max_cols is None else args.max_cols
    if args.format == "text":
        return to_text(matrix, max_rows=max_rows, max_cols=max_cols)
    if args.format == "latex":
        from .latex import to_latex

        if args.no_blocks:
            blocks = None
        elif args.block is not None:
            blocks = parse_ints(args.block, "--block")
            if not isinstance(blocks, tuple) or len(blocks) != 2:
                raise _UsageError(f"--block {args.block!r} must be ROWSxCOLS, like 4x5")
        else:
            blocks = "auto"
        return to_latex(
            matrix, geometry=geom, transposed=args.transpose, blocks=blocks,
            environment=args.env or "bmatrix", zero=args.zero or "0",
            precision=4 if args.precision is None else args.precision,
            max_rows=max_rows, max_cols=max_cols, highlight_row=args.highlight_row,
            standalone=args.standalone)
    buffer = io.BytesIO()
    if args.format == "mtx":
        scipy.io.mmwrite(buffer, matrix, comment=" written by convmat")
        return buffer.getvalue().decode("ascii")
    scipy.sparse.save_npz(buffer, matrix)
    return buffer.getvalue()


def _write(output: str | bytes, path: str | None) -> None:
    """Print ``output``, or write it to ``path`` (exit code 2 when that fails)."""
    if path is None:
        print(output.rstrip("\n"))
        return
    try:
        if isinstance(output, bytes):
            with open(path, "wb") as f:
                f.write(output)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(output.rstrip("\n") + "\n")
    except OSError as exc:
        raise _UsageError(f"-o {path}: cannot write the file ({exc.strerror})") from None


def _add_shape(sub) -> None:
    p = sub.add_parser("shape", help="output shape with the formula filled in",
                       description="Print a convolution's output shape and its derivation.")
    _add_geometry(p, weights=False)


def _cmd_shape(args) -> int:
    from .arithmetic import explain_shape

    print(explain_shape(
        parse_shape(args.input, "--input"), parse_shape(args.kernel, "--kernel"),
        transposed=args.transpose,
        output_padding=parse_ints(args.output_padding, "--output-padding"), **_common(args)))
    return 0


def _add_demo(sub) -> None:
    sub.add_parser("demo", help="a short guided tour (no arguments needed)",
                   description="A short guided tour of convolution as a matrix.")


def _cmd_demo(args) -> int:
    from .demo import tour

    print(tour())
    return 0


def _add_kong_lucey(sub) -> None:
    p = sub.add_parser(
        "kong-lucey", help="a strided convolution as unit-stride blocks (Kong & Lucey)",
        description="Rearrange a strided convolution (Kong & Lucey 2017): its matrix with the "
                    "columns grouped by phase is a row of unit-stride Toeplitz blocks; as a "
                    "layer, a stride-1 convolution of the space-to-depth input.")
    p.add_argument("--input", required=True, help="spatial input shape, e.g. 7 or 6x6")
    p.add_argument("--kernel", required=True, help="spatial kernel shape, e.g. 3 or 3x3")
    p.add_argument("--stride", required=True, help="int or per-dim ints like 2x1")
    p.add_argument("--padding", default="0",
                   help="int, per-dim ints (1x2), before:after pairs (0:1x2), valid, same, full")
    p.add_argument("--dilation", default="1", help="int or per-dim ints")
    p.add_argument("--mode", default="zeros", choices=geometry.PADDING_MODES,
                   help="padding mode")
    _add_channels(p)
    p.add_argument("--weights", help="kernel numbers in C order (default 1, 2, ...)")
    p.add_argument("--symbolic", action="store_true", help="entries are sympy symbols")
    p.add_argument("--name", help="symbol name with --symbolic (default w; the slides use h)")
    p.add_argument("--format", default="text", choices=("text", "latex"))
    p.add_argument("--standalone", action="store_true",
                   help="with --format latex: a complete document that compiles with pdflatex")


def _cmd_kong_lucey(args) -> int:
    from . import striding

    if args.standalone and args.format != "latex":
        raise _UsageError("--standalone applies to --format latex only")
    if args.name is not None and not args.symbolic:
        raise _UsageError("--name applies to --symbolic only")
    _, weight = _weight(args, parse_shape(args.kernel, "--kernel"))
    kw = dict(_common(args), groups=args.groups, padding_mode=args.mode)
    if args.symbolic:
        result = striding.symbolic_kong_lucey(weight, parse_shape(args.input),
                                              name=args.name or "w", **kw)
    else:
        result = striding.kong_lucey(weight, parse_shape(args.input), **kw)
    print(result.latex(standalone=args.standalone) if args.format == "latex" else result.text())
    return 0


#: subcommand name -> (add arguments, run)
COMMANDS: dict[str, tuple[Callable, Callable]] = {
    "demo": (_add_demo, _cmd_demo),
    "kong-lucey": (_add_kong_lucey, _cmd_kong_lucey),
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
    """Console-script entry point (a closed pipe, as in ``convmat demo | head``, is quiet)."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away: silence the interpreter's final flush of stdout as well
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code)
