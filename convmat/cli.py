"""The ``convmat`` command line: ``matrix``, ``kong-lucey``, ``shape``, ``demo``.

Every subcommand is a ``_add_<name>`` (arguments) and a ``_cmd_<name>`` (action) pair
registered in :data:`COMMANDS`. :func:`main` returns the exit code: 0 on success, 2 on a
usage error (an unknown option, a malformed value, options that contradict each other), 1 when
the values are well-formed but describe no valid convolution (a :class:`ConvmatError`, reported
with the options as typed: ``--kernel 3`` rather than ``weight.shape=(3,)``). Weights given on
the command line are parsed as numbers only, never evaluated; negative numbers may follow an
option directly (``--weights -1,1``).
Symbol names (``--name``, and ``--x``/``--y`` given as names) are letters, digits and
Greek-letter macros only, so nothing else reaches the LaTeX; numbers with absurdly many digits
are refused before they are converted.
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
from ._choices import (
    CLI_MATRIX_FORMATS,
    ENVIRONMENTS,
    HIGHLIGHTS,
    KONG_LUCEY_PARTS,
    OVERLAYS,
    PADDING_MODES,
    TEXT_FORMATS,
    ZERO_STYLES,
)
from ._memory import check_budget, estimate_bytes, kong_lucey_bytes
from .errors import ConvmatError
from .text import to_text

__all__ = ["main"]


class _UsageError(Exception):
    """Bad command-line input (exit code 2)."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.usage = usage


class _Exit(Exception):
    """argparse finished on its own (``--help``, ``--version``): exit with ``status``."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


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
        m = re.fullmatch(r"(-?\d+)(?::(-?\d+))?", dim.strip())  # negative: a crop
        if m is None:
            raise _UsageError(
                f"--padding {_shown(text)} is not an int, per-dim ints (1x2), before:after "
                f"pairs (0:1x2) or one of valid, same, full"
            )
        before = _int(m.group(1), "--padding")
        out.append(before if m.group(2) is None else (before, _int(m.group(2), "--padding")))
    return out[0] if len(out) == 1 and not isinstance(out[0], tuple) else out


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _number(token: str, name: str = "--weights"):
    if re.fullmatch(r"[+-]?\d+", token):
        value = _int(token, "--weights")
        if not -2**63 <= value < 2**63:
            raise _UsageError(f"--weights: {token!r} does not fit in a 64-bit integer (write "
                              f"it as a float, e.g. {float(value):.3e})")
        return value
    if _NUMBER.fullmatch(token):
        value = float(token)
        if not math.isfinite(value):
            raise _UsageError(f"{name}: {_shown(token)} is not a finite number")
        return value
    if re.fullmatch(r"[0-9eE.+\-j()]+", token):
        try:
            return complex(token)
        except ValueError:
            pass
    raise _UsageError(f"{name}: {_shown(token)} is not a number ({name} takes numbers only)")


def parse_numbers(text: str, name: str) -> list:
    """Numbers separated by commas, semicolons, ``|`` or spaces (nothing is evaluated)."""
    return [_number(t, name) for t in re.split(r"[,;|\s]+", text.strip()) if t]


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
    values = parse_numbers(text, "--weights")
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


def _add_output(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write to FILE instead of stdout ('-' is stdout)")


def _add_latex_options(p: argparse.ArgumentParser, *, kong_lucey: bool = False) -> None:
    """Every option of ``to_latex``, for ``--format latex`` (one group, both subcommands)."""
    latex = p.add_argument_group("LaTeX options (--format latex)")
    if kong_lucey:
        latex.add_argument("--part", choices=KONG_LUCEY_PARTS,
                           help="which display (default all: the three aligned on =)")
    latex.add_argument("--standalone", action="store_true",
                       help="a complete document that compiles with pdflatex (a beamer "
                            "document with --overlay)")
    latex.add_argument("--env", choices=tuple(ENVIRONMENTS),
                       help="environment (default bmatrix)")
    if not kong_lucey:
        latex.add_argument("--block", metavar="ROWSxCOLS",
                           help="rules every ROWS rows and COLS columns (default: from the "
                                "geometry)")
    latex.add_argument("--no-blocks", action="store_true", help="no block rules")
    latex.add_argument("--zero", choices=tuple(ZERO_STYLES),
                       help="how structural zeros print (default 0)")
    latex.add_argument("--precision", type=_any_int, help="significant digits of floats (default 4)")
    latex.add_argument("--highlight-row", type=_any_int, metavar="ROW",
                       help="highlight the entries of one row (the kernel's window)")
    latex.add_argument("--highlight", choices=tuple(HIGHLIGHTS),
                       help="boxed (default; keeps the row height), bold, or color")
    latex.add_argument("--x", metavar="NAME|NUMBERS",
                       help="write the input vector: symbols NAME_{i,j} or the given numbers"
                            + (" (a name)" if kong_lucey else ""))
    latex.add_argument("--y", metavar="NAME|NUMBERS",
                       help="write the output vector before the matrix: y = A x")
    latex.add_argument("--base", type=_any_int,
                       help="first index of every symbol (default 0; 1 as in most papers)")
    latex.add_argument("--spacing", type=float, metavar="FACTOR",
                       help="row height as a multiple of LaTeX's (default 1.3 with rules)")
    latex.add_argument("--grid", action="store_true",
                       help="draw the vectors as the images they flatten")
    latex.add_argument("--overlay", choices=OVERLAYS,
                       help="a beamer frame: slide t highlights row t, its inputs and y_t")


def _add_matrix_output(p: argparse.ArgumentParser) -> None:
    """Options of ``convmat matrix`` for symbolic entries, output formats and LaTeX."""
    p.add_argument("--symbolic", action="store_true",
                   help="entries are sympy symbols w_{i,j} (or the --weights numbers, exactly)")
    p.add_argument("--name", help="symbol name with --symbolic (default w)")
    p.add_argument("--format", default="text", choices=CLI_MATRIX_FORMATS,
                   help="text (default), latex, mtx (Matrix Market) or npz (scipy.sparse)")
    _add_output(p)
    _add_latex_options(p)
    for axis in ("rows", "cols"):
        p.add_argument(f"--max-{axis}", type=_any_int, metavar="N",
                       help=f"at most N {axis}: LaTeX elides the middle, text prints a "
                       f"summary beyond (default --max-size)")


#: a symbol name on the command line: a letter or a Greek-letter macro, then letters and
#: digits (it is written into LaTeX verbatim, so nothing else is accepted: no ``\input``)
_GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
          "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau",
          "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta",
          "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega")
_SYMBOL_NAME = re.compile(r"(?:[A-Za-z]|\\(?:" + "|".join(_GREEK) + r")(?![A-Za-z]))[A-Za-z0-9]*")
_NAME_HINT = ("use a letter or a Greek-letter macro such as \\theta, then letters and digits "
              "(e.g. h, W2, \\alpha)")


def _check_names(args) -> None:
    """``--name``: applies to ``--symbolic`` only, and must be a symbol name."""
    if args.name is not None and not args.symbolic:
        raise _UsageError("--name applies to --symbolic only (numeric entries have no names)")
    if args.name is not None and not _SYMBOL_NAME.fullmatch(args.name):
        raise _UsageError(f"--name {_shown(args.name)} is not a symbol name: {_NAME_HINT}")


def _cmd_matrix(args) -> int:
    ishape = parse_shape(args.input, "--input")
    kshape = parse_shape(args.kernel, "--kernel")
    _check_matrix_output(args)
    _check_names(args)
    kw = _common(args)
    _check_dims(args, ishape, kshape, kw)
    kw.update(groups=args.groups, padding_mode=args.mode, flip=args.flip)
    if args.symbolic:
        from . import symbolic as builders

        names = dict(name=args.name or "w", base=args.base or 0)
    else:
        builders, names = sparse, {}
    wshape = _weight_shape(args, kshape, transposed=args.transpose)
    if args.transpose:  # the geometry is checked before any weight is made
        kw["output_padding"] = parse_ints(args.output_padding, "--output-padding")
        geom = geometry.conv_transpose_geometry(wshape, ishape, **kw)
    else:
        geom = geometry.conv_geometry(wshape, ishape, **kw)
    _, weight = _weight(args, kshape, transposed=args.transpose,
                        build_bytes=estimate_bytes(geom, 8, transposed=args.transpose)[1])
    if args.transpose:
        matrix = builders.conv_transpose_matrix(weight, ishape, **kw, **names)
    else:
        matrix = builders.conv_matrix(weight, ishape, **kw, **names)
    _write(_render_matrix(args, matrix, geom), args.output)
    return 0


_LATEX_ONLY = ("standalone", "env", "block", "no_blocks", "zero", "precision", "highlight_row",
               "highlight", "x", "y", "base", "spacing", "grid", "overlay", "part")


def _latex_only(args) -> list[str]:
    """The LaTeX options given (for refusing them with another --format)."""
    return ["--" + name.replace("_", "-") for name in _LATEX_ONLY
            if getattr(args, name, None) not in (None, False)]


def _check_matrix_output(args) -> None:
    """Refuse option combinations that cannot work, before building anything."""
    if args.symbolic and args.format in ("mtx", "npz"):
        raise _UsageError(f"--format {args.format} stores numbers; it cannot be combined with "
                          f"--symbolic (use --format latex or text)")
    if args.format == "npz" and args.output in (None, "-"):
        raise _UsageError("--format npz is binary: give a file with -o FILE")
    given = [g for g in _latex_only(args) if not (g == "--base" and args.symbolic)]
    if given and args.format != "latex":
        verb = "applies" if len(given) == 1 else "apply"
        raise _UsageError(f"{', '.join(given)} {verb} to --format latex only")
    output_padding = parse_ints(args.output_padding, "--output-padding")
    if not args.transpose and any(np.atleast_1d(output_padding)):
        raise _UsageError("--output-padding applies to --transpose only")
    if args.block is not None and args.no_blocks:
        raise _UsageError("--block and --no-blocks contradict each other")
    _check_latex_values(args)
    for name in ("max_size", "max_rows", "max_cols"):
        value = getattr(args, name)
        if args.format == "latex" and value is not None and value < 2:
            raise _UsageError(f"--{name.replace('_', '-')} {value} must be at least 2 with "
                              f"--format latex (one row or column and the ellipsis)")


def _check_latex_values(args) -> None:
    if args.overlay is not None and args.highlight_row is not None:
        raise _UsageError("--overlay and --highlight-row contradict each other (the overlay "
                          "highlights every row in turn)")


def _vector_option(text: str | None, name: str):
    """``--x``/``--y``: a symbol name, or the entries as numbers."""
    if text is None:
        return None
    if _SYMBOL_NAME.fullmatch(text.strip()):
        return text.strip()
    if text.strip().startswith("\\") or re.search(r"[A-Za-z]{2,}", text):
        raise _UsageError(f"{name} {_shown(text)} is not a symbol name: {_NAME_HINT}; or give "
                          f"the entries as numbers")
    return parse_numbers(text, name)


def _latex_options(args, max_rows, max_cols) -> dict:
    """The ``to_latex`` keywords of the LaTeX options given."""
    options = dict(
        environment=args.env or "bmatrix", zero=args.zero or "0",
        precision=4 if args.precision is None else args.precision,
        max_rows=max_rows, max_cols=max_cols, highlight_row=args.highlight_row,
        highlight=args.highlight, x=_vector_option(args.x, "--x"),
        y=_vector_option(args.y, "--y"), base=args.base, spacing=args.spacing,
        grid=args.grid, overlay=args.overlay, standalone=args.standalone)
    if args.no_blocks:
        options["blocks"] = None
    return options


def _render_matrix(args, matrix, geom) -> str | bytes:
    """The matrix in the requested ``--format``."""
    max_rows = args.max_size if args.max_rows is None else args.max_rows
    max_cols = args.max_size if args.max_cols is None else args.max_cols
    if args.format == "text":
        return to_text(matrix, max_rows=max_rows, max_cols=max_cols)
    if args.format == "latex":
        from .latex import to_latex

        options = _latex_options(args, max_rows, max_cols)
        if args.block is not None:
            blocks = parse_ints(args.block, "--block")
            if not isinstance(blocks, tuple) or len(blocks) != 2:
                raise _UsageError(f"--block {args.block!r} must be ROWSxCOLS, like 4x5")
            options["blocks"] = blocks
        return to_latex(matrix, geometry=geom, transposed=args.transpose, **options)
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


_OPTION_OF = {"input_shape": "--input", "kernel_shape": "--kernel", "stride": "--stride",
              "padding": "--padding", "dilation": "--dilation", "groups": "--groups",
              "output_padding": "--output-padding", "padding_mode": "--mode",
              "highlight_row": "--highlight-row", "highlight": "--highlight",
              "max_rows": "--max-rows", "max_cols": "--max-cols", "precision": "--precision",
              "spacing": "--spacing", "environment": "--env", "zero": "--zero",
              "base": "--base", "x": "--x", "y": "--y", "overlay": "--overlay",
              "part": "--part", "name": "--name"}
_PYTHON_NAME = re.compile(r"(?<![\w.-])(" + "|".join(sorted(_OPTION_OF, key=len, reverse=True))
                          + r")=(\([^()]*(?:\([^()]*\)[^()]*)*\)|'[^']*'|[^\s,;:)\]]+)")


def _typed(value: str) -> str:
    """A Python value from an error message as it is typed on the command line."""
    value = value.strip("'")
    if value.startswith("("):
        inner = re.findall(r"\(([^()]*)\)", value[1:-1]) or [value[1:-1]]
        if "(" in value[1:-1]:  # pairs: before:after per dim
            return "x".join(":".join(v.strip() for v in pair.split(",")) for pair in inner)
        return "x".join(v.strip() for v in value[1:-1].split(",") if v.strip())
    return value


def cli_message(exc: ConvmatError) -> str:
    """A convmat error in the terms of the command line: ``stride=(1, 2)`` becomes
    ``--stride 1x2``; the Python call's context is left out.

    Examples
    --------
    >>> cli_message(ConvmatError("stride=0 must be >= 1"))
    '--stride 0 must be >= 1'
    >>> cli_message(ConvmatError("padding_mode='reflect' needs padding=((1, 1), (2, 2))"))
    '--mode reflect needs --padding 1:1x2:2'
    """
    message = re.sub(r"^(x|y) has ", r"--\1 has ", exc.message)
    message = _PYTHON_NAME.sub(lambda m: f"{_OPTION_OF[m.group(1)]} {_typed(m.group(2))}",
                               message)
    return re.sub(r"\b(max_rows|max_cols|highlight_row)\b", lambda m: _OPTION_OF[m.group(1)],
                  message)


def _check_dims(args, ishape, kshape, kw) -> None:
    """The per-dim options agree with ``--input`` (checked here to name the options)."""
    n = len(ishape)
    if len(kshape) != n:
        raise _UsageError(
            f"--kernel {args.kernel} has {len(kshape)} dim{'s' * (len(kshape) != 1)} but "
            f"--input {args.input} has {n}; give one kernel size per input dim, like "
            f"--kernel {'x'.join([str(kshape[0])] * n)}")
    for name in ("stride", "dilation", "padding"):
        value = kw.get(name)
        if isinstance(value, (tuple, list)) and len(value) not in (1, n):
            raise _UsageError(f"--{name} {getattr(args, name)} gives {len(value)} values but "
                              f"--input {args.input} has {n} dim{'s' * (n != 1)}; give one "
                              f"value for all or one per dim")


def _add_shape(sub) -> None:
    p = sub.add_parser("shape", help="output shape with the formula filled in",
                       description="Print a convolution's output shape and its derivation.")
    _add_geometry(p, weights=False)
    _add_output(p)


def _cmd_shape(args) -> int:
    from .arithmetic import explain_shape

    ishape = parse_shape(args.input, "--input")
    kshape = parse_shape(args.kernel, "--kernel")
    kw = _common(args)
    _check_dims(args, ishape, kshape, kw)
    output_padding = parse_ints(args.output_padding, "--output-padding")
    if not args.transpose and any(np.atleast_1d(output_padding)):
        raise _UsageError("--output-padding applies to --transpose only")
    _write(explain_shape(ishape, kshape, transposed=args.transpose,
                         output_padding=output_padding, **kw), args.output)
    return 0


def _add_demo(sub) -> None:
    p = sub.add_parser("demo", help="a short guided tour (no arguments needed)",
                       description="A short guided tour of convolution as a matrix.")
    _add_output(p)


def _cmd_demo(args) -> int:
    from .demo import tour

    _write(tour(), args.output)
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
    _add_output(p)
    _add_latex_options(p, kong_lucey=True)
    for axis in ("rows", "cols"):
        p.add_argument(f"--max-{axis}", type=int, metavar="N",
                       help=f"at most N {axis} (default 40; LaTeX elides the middle, text "
                            f"prints a summary beyond)")


def _cmd_kong_lucey(args) -> int:
    from . import striding

    given = [g for g in _latex_only(args) if not (g == "--base" and args.symbolic)]
    if given and args.format != "latex":
        verb = "applies" if len(given) == 1 else "apply"
        raise _UsageError(f"{', '.join(given)} {verb} to --format latex only")
    _check_names(args)
    _check_latex_values(args)
    for name in ("max_rows", "max_cols"):
        value = getattr(args, name)
        if value is not None and value < 2:
            raise _UsageError(f"--{name.replace('_', '-')} {value} must be at least 2")
    for name in ("x", "y"):
        value = getattr(args, name)
        if value is not None and not isinstance(_vector_option(value, f"--{name}"), str):
            raise _UsageError(f"--{name} {value!r} must be a name with kong-lucey (the "
                              f"entries are named from the geometry)")
    ishape = parse_shape(args.input, "--input")
    kshape = parse_shape(args.kernel, "--kernel")
    kw = dict(_common(args), groups=args.groups, padding_mode=args.mode)
    _check_dims(args, ishape, kshape, kw)
    # the geometry and the memory guard are checked before any weight is made
    geom = geometry.conv_geometry(_weight_shape(args, kshape), ishape, **kw)
    _, weight = _weight(args, kshape, build_bytes=_kong_lucey_bytes(geom))
    if args.symbolic:
        from . import symbolic

        result = symbolic.kong_lucey(weight, ishape, name=args.name or "w",
                                     base=args.base or 0, **kw)
    else:
        result = striding.kong_lucey(weight, ishape, **kw)
    max_rows = 40 if args.max_rows is None else args.max_rows
    max_cols = 40 if args.max_cols is None else args.max_cols
    if args.format == "latex":
        from .latex import to_latex

        _write(to_latex(result, part=args.part, **_latex_options(args, max_rows, max_cols)),
               args.output)
    else:
        from .text import kong_lucey_text

        _write(kong_lucey_text(result, max_size=max(max_rows, max_cols)), args.output)
    return 0


# -- pictures: `convmat animate` and `convmat plot` (matplotlib: pip install "convmat[plot]") --

def _add_picture_options(p: argparse.ArgumentParser, *, values: bool) -> None:
    _add_geometry(p, weights=False)
    p.add_argument("--weights", help="kernel numbers in C order, rows separated by ';'")
    if values:
        p.add_argument("--x", help="input numbers in C order, rows separated by ';' (with "
                       "--weights the output cells show their values)")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="file to write; the format is taken from the suffix")


def _add_animate(sub) -> None:
    p = sub.add_parser(
        "animate", help="animate a convolution (GIF; needs matplotlib)",
        description="Animate a 1-D or 2-D convolution, one frame per output position: "
                    "'convolution' slides the kernel over the input; 'matrix' shows the same "
                    "next to y = A x with row t of A highlighted. Writes .gif (or .mp4 with "
                    "ffmpeg).")
    p.add_argument("what", choices=("convolution", "matrix"))
    _add_picture_options(p, values=True)
    p.add_argument("--fps", type=float, default=1.5, help="frames per second (default 1.5)")


def _add_plot(sub) -> None:
    p = sub.add_parser(
        "plot", help="draw a convolution's matrix, connectivity or Kong & Lucey blocks",
        description="Draw a 1-D or 2-D convolution: 'matrix' (with block rules), "
                    "'connectivity' (input-output graph, edges coloured by tap) or "
                    "'kong-lucey' (strided matrix, column permutation, unit-stride blocks; "
                    "needs --stride). Writes .png, .pdf or .svg.")
    p.add_argument("what", choices=("matrix", "connectivity", "kong-lucey"))
    _add_picture_options(p, values=False)
    p.add_argument("--highlight-row", type=int, metavar="ROW",
                   help="with 'matrix': outline one row (the kernel's window)")


def _picture_arrays(args, kshape, ishape):
    weight = None if args.weights is None else parse_weights(args.weights, kshape)
    x = None
    if getattr(args, "x", None) is not None:
        try:
            x = parse_weights(args.x, ishape)
        except _UsageError as exc:
            raise _UsageError(str(exc).replace("--weights", "--x").replace(
                "the weight shape", "the input shape")) from None
    return weight, x


def _picture_kw(args) -> dict:
    kw = _common(args)
    output_padding = parse_ints(args.output_padding, "--output-padding")
    if not args.transpose and any(np.atleast_1d(output_padding)):
        raise _UsageError("--output-padding applies to --transpose only")
    if args.transpose:
        kw.update(transposed=True, output_padding=output_padding)
    return kw


def _save_picture(obj, path, **kw) -> int:
    from .figures import save

    try:
        save(obj, path, **kw)
    except OSError as exc:
        raise _UsageError(f"-o {path}: cannot write the file ({exc.strerror})") from None
    print(f"wrote {path}")
    return 0


def _cmd_animate(args) -> int:
    from . import figures

    ishape = parse_shape(args.input, "--input")
    kshape = parse_shape(args.kernel, "--kernel")
    kw = _picture_kw(args)
    weight, x = _picture_arrays(args, kshape, ishape)
    if os.path.splitext(args.output)[1].lower() not in (".gif", ".mp4"):
        raise _UsageError(f"-o {args.output}: an animation is written as .gif or .mp4")
    if not 0 < args.fps <= 100:
        raise _UsageError(f"--fps {args.fps} must be in (0, 100]")
    make = figures.animate_convolution if args.what == "convolution" else figures.animate_matrix
    return _save_picture(make(ishape, kshape, x=x, weight=weight, **kw), args.output,
                         fps=args.fps)


def _cmd_plot(args) -> int:
    from . import figures

    ishape = parse_shape(args.input, "--input")
    kshape = parse_shape(args.kernel, "--kernel")
    kw = _picture_kw(args)
    weight, _ = _picture_arrays(args, kshape, ishape)
    if os.path.splitext(args.output)[1].lower() not in (".png", ".pdf", ".svg"):
        raise _UsageError(f"-o {args.output}: a figure is written as .png, .pdf or .svg")
    if args.highlight_row is not None and args.what != "matrix":
        raise _UsageError("--highlight-row applies to 'plot matrix' only")
    if args.what == "connectivity":
        if weight is not None:
            raise _UsageError("--weights does not apply to 'plot connectivity' (edges are "
                              "coloured by tap)")
        return _save_picture(figures.plot_connectivity(ishape, kshape, **kw), args.output)
    if weight is None:
        weight = np.arange(1, math.prod(kshape) + 1).reshape(kshape)
    if args.what == "kong-lucey":
        if args.transpose:
            raise _UsageError("--transpose does not apply to 'plot kong-lucey'")
        from .striding import kong_lucey

        return _save_picture(figures.plot_kong_lucey(kong_lucey(weight, ishape, **kw)),
                             args.output)
    if args.transpose:
        kw.pop("transposed")
        matrix = sparse.conv_transpose_matrix(weight, ishape, **kw)
        geom = geometry.conv_transpose_geometry(kshape, ishape, **kw)
    else:
        matrix = sparse.conv_matrix(weight, ishape, **kw)
        geom = geometry.conv_geometry(kshape, ishape, **kw)
    return _save_picture(figures.plot_matrix(matrix, geometry=geom,
                                             highlight_row=args.highlight_row), args.output)


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
            raise _UsageError(f"--channels {args.channels!r} is not C_IN:C_OUT like 16:16")
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

    from .spectral import choose_method, singular_values

    ishape = parse_shape(args.input, "--input")
    show = args.show.strip().lower()
    if show != "all" and not re.fullmatch(r"\d+", show):
        raise _UsageError(f"--show {args.show!r} must be a number or 'all'")
    weight, origin = _spectrum_weight(args, len(ishape))
    kw = dict(_common(args), groups=args.groups, padding_mode=args.mode)
    geom = geometry.conv_geometry(weight.shape, ishape, **kw)
    method = args.method
    if method == "auto":
        method = choose_method(weight, ishape, k=args.k, **kw)
    start = time.perf_counter()
    values = singular_values(weight, ishape, k=args.k, method=method, **kw)
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
        try:
            np.save(args.output, values)
        except OSError as exc:
            raise _UsageError(f"-o {args.output}: cannot write the file ({exc.strerror})") \
                from None
        lines.append(f"saved {values.size:,} values to {args.output}")
    print("\n".join(lines))
    return 0


def _add_summary(sub) -> None:
    from .networks import LAYER_GRAMMAR, MODELS

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


def _cmd_summary(args) -> int:
    from .networks import MODELS, summary

    if args.standalone and args.format != "latex":
        raise _UsageError("--standalone applies to --format latex only")
    spec = MODELS[args.model] if args.model else args.layers
    table = summary(spec, parse_shape(args.input, "--input"), in_channels=args.in_channels)
    if args.format == "latex":
        print(table.latex(standalone=args.standalone))
    else:
        print(table.markdown() if args.format == "markdown" else table.text())
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
    "animate": (_add_animate, _cmd_animate), "plot": (_add_plot, _cmd_plot),
    "demo": (_add_demo, _cmd_demo),
    "kong-lucey": (_add_kong_lucey, _cmd_kong_lucey),
    "matrix": (_add_matrix, _cmd_matrix),
    "shape": (_add_shape, _cmd_shape),
    "spectrum": (_add_spectrum, _cmd_spectrum),
    "summary": (_add_summary, _cmd_summary),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would exit; we return 2 from main instead
        raise _UsageError(f"{self.prog}: {message} (see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None):  # --help, --version
        if message:
            print(message, file=sys.stderr, end="")
        raise _Exit(status)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog="convmat", description="Convolutions as explicit matrices.",
                     epilog="Run 'convmat COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version", version=f"convmat {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add, _ in COMMANDS.values():
        add(sub)
    return parser


_NEGATIVE = re.compile(r"-(\d|\.\d)")


def _value_options(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string (of every subcommand) that takes a value."""
    found: set[str] = set()
    parsers = [parser]
    while parsers:
        current = parsers.pop()
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
            elif action.option_strings and action.nargs != 0:
                found.update(action.option_strings)
    return found


def _negative_values(argv: Sequence[str], options: set[str]) -> list[str]:
    """``--weights -1,1`` as ``--weights=-1,1``: argparse would read ``-1,1`` as an option."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in options and i + 1 < len(argv) and _NEGATIVE.match(argv[i + 1]):
            out.append(f"{token}={argv[i + 1]}")
            i += 2
        else:
            out.append(token)
            i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code:
    0 success, 2 usage error, 1 invalid values (a :class:`ConvmatError`)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(_negative_values(argv, _value_options(parser)))
        if args.command is None:  # bare `convmat`: what it does and how to ask for more
            print(parser.format_help().rstrip("\n"))
            return 0
        return COMMANDS[args.command][1](args)
    except _Exit as done:
        return done.status
    except _UsageError as exc:  # one line, in the terms the user typed
        print(f"convmat: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except ConvmatError as exc:
        print(f"convmat: error: {_one_line(cli_message(exc))}", file=sys.stderr)
        return 1
    except MemoryError:
        print("convmat: error: out of memory (lower CONVMAT_MEMORY_LIMIT so that the memory "
              "guard refuses such a build before it starts, or try a smaller --input)",
              file=sys.stderr)
        return 1
    except BrokenPipeError:
        raise  # run() keeps a closed pipe quiet
    except OSError as exc:  # standard output on a full device, a read-only pipe, ...
        print(f"convmat: error: cannot write the output ({exc.strerror or exc})",
              file=sys.stderr)
        return 1
    except Exception as exc:  # never a traceback: report what happened and where to look
        print(f"convmat: internal error: {type(exc).__name__}: {_one_line(exc)} (please "
              f"report this with the command line that caused it)", file=sys.stderr)
        return 1


def _one_line(exc: object) -> str:
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
