"""The ``convmat`` command line: ``matrix``, ``kong-lucey``, ``shape``, ``demo``.

Every subcommand is a ``_add_<name>`` (arguments) and a ``_cmd_<name>`` (action) pair
registered in :data:`COMMANDS`. :func:`main` returns the exit code (0 success, 2 input
refused — a bad option, a ConvmatError, a build past the memory guard —, 1 the output could
not be written or memory ran out), always with a one-line message and no traceback. Weights
given on the command line are parsed as numbers only, never evaluated; symbol names are
letters, digits and Greek-letter macros only, so nothing else reaches the LaTeX.
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
from ._memory import check_budget, estimate_bytes, kong_lucey_bytes
from ._choices import CLI_MATRIX_FORMATS, ENVIRONMENTS, PADDING_MODES, TEXT_FORMATS, ZERO_STYLES
from .errors import ConvmatError
from .text import to_text

__all__ = ["main"]


class _UsageError(Exception):
    """Bad command-line input (exit code 2)."""


#: digits an integer option may have (sizes go up to 2**62, 19 digits)
_MAX_DIGITS = 19


def _int(token: str, name: str) -> int:
    """A decimal integer of an option, refused before ``int()`` when it has more digits than
    any size convmat handles (Python refuses to convert past 4300 digits)."""
    digits = token.strip().lstrip("+-").lstrip("0")
    if len(digits) > _MAX_DIGITS:
        raise _UsageError(f"{name}: a number of {len(digits)} digits is out of range (sizes "
                          f"and steps go up to 2**62)")
    return int(token)


def _shown(text: str) -> str:
    """An option's text for a message: quoted, cut when long."""
    return repr(text) if len(text) <= 60 else repr(text[:40] + "...") + f" ({len(text)} chars)"


def parse_shape(text: str, name: str = "--input") -> tuple[int, ...]:
    """``"5x5"`` → ``(5, 5)``; ``"7"`` → ``(7,)``."""
    parts = re.split(r"[x×,]", text.strip())
    if not parts or not all(re.fullmatch(r"\d+", p.strip()) for p in parts):
        raise _UsageError(f"{name} {_shown(text)} is not a shape like 5x5 or 7")
    return tuple(_int(p, name) for p in parts)


def parse_ints(text: str, name: str) -> int | tuple[int, ...]:
    """``"2"`` → ``2``; ``"1x2"`` → ``(1, 2)``."""
    shape = re.split(r"[x×,]", text.strip())
    if not all(re.fullmatch(r"\d+", p.strip()) for p in shape):
        raise _UsageError(f"{name} {_shown(text)} is not an int or per-dim ints like 1x2")
    values = tuple(_int(p, name) for p in shape)
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
                f"--padding {_shown(text)} is not an int, per-dim ints (1x2), before:after "
                f"pairs (0:1x2) or one of valid, same, full"
            )
        before = _int(m.group(1), "--padding")
        out.append(before if m.group(2) is None else (before, _int(m.group(2), "--padding")))
    return out[0] if len(out) == 1 and not isinstance(out[0], tuple) else out


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _number(token: str):
    if re.fullmatch(r"[+-]?\d+", token):
        value = _int(token, "--weights")
        if not -2**63 <= value < 2**63:
            raise _UsageError(f"--weights: {token!r} does not fit in a 64-bit integer (write "
                              f"it as a float, e.g. {float(value):.3e})")
        return value
    if _NUMBER.fullmatch(token):
        value = float(token)
        if not math.isfinite(value):
            raise _UsageError(f"--weights: {_shown(token)} is not a finite number")
        return value
    if re.fullmatch(r"[0-9eE.+\-j()]+", token):
        try:
            return complex(token)
        except ValueError:
            pass
    raise _UsageError(f"--weights: {_shown(token)} is not a number (weights are numbers only)")


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
    if re.fullmatch(r"\s*\+?\d+\s*", text) and len(text.strip().lstrip("+0")) > _MAX_DIGITS:
        raise argparse.ArgumentTypeError(f"must be at most 2**62, not {_shown(text)}")
    if not re.fullmatch(r"\s*\+?\d+\s*", text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, not {_shown(text)}")
    return int(text)


def _any_int(text: str) -> int:
    """argparse type of the integer display options (``--max-size``, ``--precision``, ...)."""
    if not re.fullmatch(r"\s*[+-]?\d+\s*", text) or len(text.strip().lstrip("+-0")) > _MAX_DIGITS:
        raise argparse.ArgumentTypeError(f"must be an integer, not {_shown(text)}")
    return int(text)


def _add_channels(p: argparse.ArgumentParser) -> None:
    p.add_argument("--in-channels", type=_positive_int, default=1, help="C_in (default 1)")
    p.add_argument("--out-channels", type=_positive_int, default=1, help="C_out (default 1)")
    p.add_argument("--groups", type=_positive_int, default=1)


def _weight_shape(args, kernel: tuple[int, ...], *, transposed: bool = False):
    """The weight's shape: the bare kernel, or the channel layout when channels are given."""
    if args.in_channels % args.groups or args.out_channels % args.groups:
        raise _UsageError(f"--groups {args.groups} must divide --in-channels "
                          f"{args.in_channels} and --out-channels {args.out_channels}")
    shape = kernel
    if (args.in_channels, args.out_channels, args.groups) != (1, 1, 1):
        first, second = ((args.in_channels, args.out_channels) if transposed
                         else (args.out_channels, args.in_channels))
        shape = (first, second // args.groups, *kernel)
    return shape


def _weight(args, kernel: tuple[int, ...], *, transposed: bool = False, build_bytes: int = 0):
    """The weight of ``convmat matrix`` / ``kong-lucey``: ``--weights`` (exact rationals with
    ``--symbolic``), a shape with ``--symbolic`` (symbols are made), else ``1, 2, ...``.

    ``build_bytes`` is what the build itself will need (estimated from the geometry, which
    the caller has checked): the default weights are counted with it by the memory guard
    before they are made, so a huge kernel or channel count is refused at once."""
    shape = _weight_shape(args, kernel, transposed=transposed)
    if args.weights is None and not args.symbolic:
        check_budget(16 * math.prod(shape) + build_bytes,
                     f"the default weights 1, 2, ... of shape {shape} and the build")
    if args.weights is not None:
        weight = parse_weights(args.weights, shape)
        if args.symbolic and weight.dtype.kind == "f":
            import sympy  # exact entries: 0.1 is 1/10, the decimal as typed

            weight = np.frompyfunc(lambda v: sympy.Rational(repr(float(v))), 1, 1)(weight)
        return shape, weight
    if args.symbolic:
        return shape, shape  # a shape: the symbolic builders make w_{...} symbols
    return shape, np.arange(1, math.prod(shape) + 1).reshape(shape)


def _add_shape_options(p: argparse.ArgumentParser, *, stride_required: bool = False) -> None:
    """``--input --kernel --stride --padding --dilation``: the geometry every subcommand takes."""
    p.add_argument("--input", required=True, help="spatial input shape, e.g. 5x5 or 7")
    p.add_argument("--kernel", required=True, help="spatial kernel shape, e.g. 3x3 or 3")
    p.add_argument("--stride", required=stride_required, default=None if stride_required
                   else "1", help="int or per-dim ints like 2x1")
    p.add_argument("--padding", default="0",
                   help="int, per-dim ints (1x2), before:after pairs (0:1x2), valid, same, full")
    p.add_argument("--dilation", default="1", help="int or per-dim ints")


def _add_weight_options(p: argparse.ArgumentParser) -> None:
    """``--weights``, the channels and ``--mode``: what fills the matrix."""
    p.add_argument("--weights", help="kernel numbers in C order, rows separated by ';' "
                   "(default 1, 2, ..., so each entry shows its tap)")
    _add_channels(p)
    p.add_argument("--mode", default="zeros", choices=PADDING_MODES, help="padding mode")


def _add_geometry(p: argparse.ArgumentParser, *, weights: bool) -> None:
    _add_shape_options(p)
    if weights:
        _add_weight_options(p)
        p.add_argument("--flip", action="store_true", help="true convolution (flipped kernel)")
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
    p.add_argument("--max-size", type=_any_int, default=40,
                   help="largest rows/cols printed densely (default 40); larger gets a summary")
    _add_matrix_output(p)


def _add_matrix_output(p: argparse.ArgumentParser) -> None:
    """Options of ``convmat matrix`` for symbolic entries, output formats and LaTeX."""
    p.add_argument("--symbolic", action="store_true",
                   help="entries are sympy symbols w_{i,j} (or the --weights numbers, exactly)")
    p.add_argument("--format", default="text", choices=CLI_MATRIX_FORMATS,
                   help="text (default), latex, mtx (Matrix Market) or npz (scipy.sparse)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write to FILE instead of stdout (- is stdout)")
    latex = p.add_argument_group("LaTeX options (--format latex)")
    latex.add_argument("--standalone", action="store_true",
                       help="a complete document that compiles with pdflatex")
    latex.add_argument("--env", choices=tuple(ENVIRONMENTS),
                       help="environment (default bmatrix)")
    latex.add_argument("--block", metavar="ROWSxCOLS",
                       help="rules every ROWS rows and COLS columns (default: from the geometry)")
    latex.add_argument("--no-blocks", action="store_true", help="no block rules")
    latex.add_argument("--zero", choices=tuple(ZERO_STYLES),
                       help="how structural zeros print (default 0)")
    latex.add_argument("--precision", type=_any_int,
                       help="significant digits of floats (default 4)")
    latex.add_argument("--highlight-row", type=_any_int, metavar="ROW",
                       help="box the entries of one row (the kernel's window)")
    for axis in ("rows", "cols"):
        p.add_argument(f"--max-{axis}", type=_any_int, metavar="N",
                       help=f"at most N {axis}: LaTeX elides the middle, text prints a "
                       f"summary beyond (default --max-size)")


def _cmd_matrix(args) -> int:
    ishape = parse_shape(args.input, "--input")
    kshape = parse_shape(args.kernel, "--kernel")
    _check_matrix_output(args)
    _check_names(args)
    kw = _common(args)
    kw.update(groups=args.groups, padding_mode=args.mode, flip=args.flip)
    if args.symbolic:
        from . import symbolic as builders
    else:
        builders = sparse
    wshape = _weight_shape(args, kshape, transposed=args.transpose)
    if args.transpose:  # the geometry is checked before any weight is made
        kw["output_padding"] = parse_ints(args.output_padding, "--output-padding")
        geom = geometry.conv_transpose_geometry(wshape, ishape, **kw)
    else:
        geom = geometry.conv_geometry(wshape, ishape, **kw)
    _, weight = _weight(args, kshape, transposed=args.transpose,
                        build_bytes=estimate_bytes(geom, 8, transposed=args.transpose)[1])
    if args.transpose:
        matrix = builders.conv_transpose_matrix(weight, ishape, **kw)
    else:
        matrix = builders.conv_matrix(weight, ishape, **kw)
    _write(_render_matrix(args, matrix, geom), args.output)
    return 0


#: a symbol name on the command line: a letter or a Greek-letter macro, then letters and
#: digits (it is written into LaTeX verbatim, so nothing else is accepted)
_GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
          "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau",
          "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta",
          "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega")
_SYMBOL_NAME = re.compile(r"(?:[A-Za-z]|\\(?:" + "|".join(_GREEK) + r")(?![A-Za-z]))[A-Za-z0-9]*")


def _check_names(args) -> None:
    """``--name``, ``--x``, ``--y``: symbol names only (no LaTeX is passed through)."""
    for option in ("name", "x", "y"):
        value = getattr(args, option, None)
        if isinstance(value, str) and not _SYMBOL_NAME.fullmatch(value):
            raise _UsageError(
                f"--{option} {_shown(value)} is not a symbol name: use a letter or a Greek "
                f"letter macro such as \\theta, then letters and digits (e.g. h, W2, "
                f"\\alpha)")


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
    """Print ``output``, or write it to ``path`` (``-``: standard output; exit code 2 when
    the file cannot be written)."""
    if path == "-":
        if isinstance(output, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(output)
            sys.stdout.buffer.flush()
            return
        path = None
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
    _add_shape_options(p, stride_required=True)
    _add_weight_options(p)
    p.add_argument("--symbolic", action="store_true", help="entries are sympy symbols")
    p.add_argument("--name", help="symbol name with --symbolic (default w; the slides use h)")
    p.add_argument("--format", default="text", choices=TEXT_FORMATS)
    p.add_argument("--standalone", action="store_true",
                   help="with --format latex: a complete document that compiles with pdflatex")


def _cmd_kong_lucey(args) -> int:
    from . import striding

    if args.standalone and args.format != "latex":
        raise _UsageError("--standalone applies to --format latex only")
    if args.name is not None and not args.symbolic:
        raise _UsageError("--name applies to --symbolic only")
    _check_names(args)
    kshape = parse_shape(args.kernel, "--kernel")
    kw = dict(_common(args), groups=args.groups, padding_mode=args.mode)
    geom = geometry.conv_geometry(_weight_shape(args, kshape), parse_shape(args.input), **kw)
    _, weight = _weight(args, kshape, build_bytes=_kong_lucey_bytes(geom))
    if args.symbolic:
        from . import symbolic

        result = symbolic.kong_lucey(weight, parse_shape(args.input), name=args.name or "w",
                                     **kw)
    else:
        result = striding.kong_lucey(weight, parse_shape(args.input), **kw)
    if args.format == "latex":
        from .latex import to_latex

        print(to_latex(result, standalone=args.standalone))
    else:
        from .text import kong_lucey_text

        print(kong_lucey_text(result))
    return 0


def _kong_lucey_bytes(geom) -> int:
    """What :func:`convmat.kong_lucey` will need for ``geom`` (checked before the weights)."""
    from ._phases import phase_kernel_shape

    unit = geometry.conv_geometry(geom.weight_shape, geom.padded_shape, stride=geom.stride,
                                  dilation=geom.dilation, groups=geom.groups)
    kshape = phase_kernel_shape(geom.kernel_shape, geom.stride, geom.dilation)
    return kong_lucey_bytes(unit, 8, math.prod(geom.stride), kshape)


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
        print(f"convmat: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise  # run() keeps a closed pipe quiet
    except OSError as exc:  # standard output on a full device, a read-only pipe, ...
        print(f"convmat: error: cannot write the output ({exc.strerror or exc})",
              file=sys.stderr)
        return 1
    except MemoryError:
        print("convmat: error: out of memory (lower CONVMAT_MEMORY_LIMIT so that the memory "
              "guard refuses such a build before it starts)", file=sys.stderr)
        return 1


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split("\n"))


def run() -> None:
    """Console-script entry point (a closed pipe, as in ``convmat demo | head``, is quiet)."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away: silence the interpreter's final flush of stdout as well
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    except OSError as exc:  # the final flush failed (a full device): one line, exit 1
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"convmat: error: cannot write the output ({exc.strerror or exc})",
              file=sys.stderr)
        code = 1
    sys.exit(code)
