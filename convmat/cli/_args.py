"""Reading the command line: numbers, shapes, paddings and weights as typed (never
evaluated), the options every subcommand shares, symbol names, output and error messages in
the terms the user typed. :mod:`convmat.cli` builds the subcommands from these."""

from __future__ import annotations

import argparse
import contextlib
import math
import re
import sys
from collections.abc import Iterator, Sequence

import numpy as np

from .. import geometry
from .._choices import (
    PADDING_MODES,
)
from .._memory import check_budget, kong_lucey_bytes
from .._validate import SYMBOL_NAME, SYMBOL_NAME_HINT
from ..errors import ConvmatError

__all__ = [
    "cli_message", "parse_ints", "parse_numbers", "parse_padding", "parse_shape", "parse_weights",
]



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
    p.add_argument("--transposed", action="store_true",
                   help="the transposed convolution (transposed=True in Python)")
    p.add_argument("--transpose", dest="transposed", action=_Renamed, new="--transposed",
                   help=argparse.SUPPRESS)
    p.add_argument("--output-padding", default="0", help="with --transposed")


class _Renamed(argparse.Action):
    """An option's old spelling (a flag): still works, with a note on standard error."""

    def __init__(self, option_strings, dest, new: str, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=False, **kwargs)
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"convmat: note: {option_string} is deprecated; it is now spelled {self.new}",
              file=sys.stderr)
        setattr(namespace, self.dest, True)


def _output_padding(args):
    """``--output-padding``, refused without ``--transposed``."""
    output_padding = parse_ints(args.output_padding, "--output-padding")
    if not args.transposed and any(np.atleast_1d(output_padding)):
        raise _UsageError("--output-padding applies to --transposed only")
    return output_padding


def _common(args) -> dict:
    return dict(
        stride=parse_ints(args.stride, "--stride"),
        padding=parse_padding(args.padding),
        dilation=parse_ints(args.dilation, "--dilation"),
    )


#: a symbol name on the command line: the package's one rule (a letter or a Greek-letter
#: macro, then letters and digits; it is written into LaTeX verbatim, so no ``\input``)
_SYMBOL_NAME, _NAME_HINT = SYMBOL_NAME, SYMBOL_NAME_HINT


def _check_names(args) -> None:
    """``--name``: applies to ``--symbolic`` only, and must be a symbol name."""
    if args.name is not None and not args.symbolic:
        raise _UsageError("--name applies to --symbolic only (numeric entries have no names)")
    if args.name is not None and not _SYMBOL_NAME.fullmatch(args.name):
        raise _UsageError(f"--name {_shown(args.name)} is not a symbol name: {_NAME_HINT}")


#: ``--x`` means one thing in every subcommand: the input x, flattened in C order
X_HELP = "the input x: its entries in C order (numbers separated by ',' ';' or spaces)"


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


def _input_numbers(text: str | None, shape: Sequence[int]) -> np.ndarray | None:
    """``--x`` of a picture: the input's numbers, reshaped to ``shape`` (a symbol name is
    refused: only LaTeX output writes symbols)."""
    if text is None:
        return None
    value = _vector_option(text, "--x")
    if isinstance(value, str):
        raise _UsageError(f"--x {_shown(text)} is a symbol name: a picture takes the "
                          f"input's numbers (names are written by 'convmat matrix --format "
                          f"latex')")
    if len(value) != math.prod(shape):
        raise _UsageError(f"--x has {len(value)} numbers but the input shape {tuple(shape)} "
                          f"needs {math.prod(shape)}")
    return np.array(value).reshape(shape)


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
    with writing(path):
        if isinstance(output, bytes):
            with open(path, "wb") as f:
                f.write(output)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(output.rstrip("\n") + "\n")


@contextlib.contextmanager
def writing(path: str) -> Iterator[None]:
    """Report a file that cannot be written (``-o path``) as a usage error, in one line."""
    try:
        yield
    except OSError as exc:
        raise _UsageError(f"-o {path}: cannot write the file ({exc.strerror})") from None


_OPTION_OF = {"input_shape": "--input", "kernel_shape": "--kernel", "stride": "--stride",
              "padding": "--padding", "dilation": "--dilation", "groups": "--groups",
              "output_padding": "--output-padding", "padding_mode": "--mode",
              "highlight_row": "--highlight-row", "highlight": "--highlight",
              "max_rows": "--max-rows", "max_cols": "--max-cols", "precision": "--precision",
              "spacing": "--spacing", "environment": "--env", "zero": "--zero",
              "base": "--base", "x": "--x", "y": "--y", "overlay": "--overlay",
              "part": "--part", "name": "--name", "title": "--title", "beamer": "--beamer"}
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


def _one_line(exc: object) -> str:
    return " ".join(str(exc).split("\n"))


def _kong_lucey_bytes(geom) -> int:
    """What :func:`convmat.kong_lucey` will need for ``geom`` (checked before the weights)."""
    from .._phases import phase_kernel_shape

    unit = geometry.convolution_geometry(geom.padded_shape, geom.weight_shape, stride=geom.stride,
                                         dilation=geom.dilation, groups=geom.groups)
    kshape = phase_kernel_shape(geom.kernel_shape, geom.stride, geom.dilation)
    return kong_lucey_bytes(unit, 8, math.prod(geom.stride), kshape)
