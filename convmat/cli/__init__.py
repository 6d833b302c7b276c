"""The ``convmat`` command line: ``matrix``, ``kong-lucey``, ``shape``, ``demo`` here;
``animate``, ``plot``, ``spectrum`` and ``summary`` in :mod:`convmat._cli_tools`.

Every subcommand is a ``_add_<name>`` (arguments) and a ``_cmd_<name>`` (action) pair
registered in :data:`COMMANDS`; reading the options (numbers, shapes, paddings, weights,
names) is :mod:`convmat._cli_args`. :func:`main` returns the exit code: 0 on success, 2 on a
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
import os
import re
import sys
from collections.abc import Callable, Sequence

import scipy.io
import scipy.sparse

from .. import geometry, sparse
from ..layout import LANGUAGES
from .._choices import (
    CLI_MATRIX_FORMATS,
    ENVIRONMENTS,
    HIGHLIGHTS,
    KONG_LUCEY_PARTS,
    OVERLAYS,
    TEXT_FORMATS,
    ZERO_STYLES,
)
from ._args import (  # noqa: F401 (parse_*: the documented parsers)
    X_HELP,
    _add_geometry,
    _add_shape_options,
    _add_weight_options,
    _any_int,
    _check_dims,
    _check_names,
    _common,
    _Exit,
    _kong_lucey_bytes,
    _one_line,
    _output_padding,
    _UsageError,
    _vector_option,
    _weight,
    _weight_shape,
    _write,
    cli_message,
    parse_ints,
    parse_padding,
    parse_shape,
    parse_weights,
)
from ._tools import COMMANDS as TOOL_COMMANDS
from .._memory import estimate_bytes
from ..errors import ConvmatError
from ..text import to_text

__all__ = ["main"]


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
                       help="the input x: a symbol NAME (entries NAME_{i,j} from the geometry)"
                       if kong_lucey else X_HELP + " or a symbol NAME (entries NAME_{i,j}); "
                       "written after the matrix")
    latex.add_argument("--y", metavar="NAME|NUMBERS",
                       help="write the output vector before the matrix: y = A x")
    latex.add_argument("--base", type=_any_int,
                       help="first index of every symbol (default 0; 1 as in most papers)")
    latex.add_argument("--spacing", type=float, metavar="FACTOR",
                       help="row height as a multiple of LaTeX's (default 1.3 with rules)")
    latex.add_argument("--grid", action="store_true",
                       help="draw the vectors as the images they flatten")
    latex.add_argument("--overlay", choices=OVERLAYS,
                       help="a beamer frame: slide t highlights row t, its inputs and y_t "
                            "(rows), or column t, x_t and the outputs it feeds (cols)")
    latex.add_argument("--beamer", action="store_true",
                       help="beamer frame(s) filled to the slide, elided to stay legible at "
                            "8 pt (implied by --overlay; Kong & Lucey: one per display)")
    latex.add_argument("--title", metavar="TEXT", help="title of the beamer frame(s)")
    latex.add_argument("--lang", choices=LANGUAGES,
                       help="language of the words written (default en; es: Spanish): the "
                            "subtitles of the Kong & Lucey frames")


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


def _cmd_matrix(args) -> int:
    ishape = parse_shape(args.input, "--input")
    kshape = parse_shape(args.kernel, "--kernel")
    _check_matrix_output(args)
    _check_names(args)
    kw = _common(args)
    _check_dims(args, ishape, kshape, kw)
    kw.update(groups=args.groups, padding_mode=args.mode, flip=args.flip)
    if args.symbolic:
        from .. import symbolic as builders

        names = dict(name=args.name or "w", base=args.base or 0)
    else:
        builders, names = sparse, {}
    wshape = _weight_shape(args, kshape, transposed=args.transposed)
    if args.transposed:  # the geometry is checked before any weight is made
        kw["output_padding"] = parse_ints(args.output_padding, "--output-padding")
        geom = geometry.transposed_geometry(ishape, wshape, **kw)
    else:
        geom = geometry.convolution_geometry(ishape, wshape, **kw)
    _, weight = _weight(args, kshape, transposed=args.transposed,
                        build_bytes=estimate_bytes(geom, 8, transposed=args.transposed)[1])
    if args.transposed:
        matrix = builders.conv_transpose_matrix(weight, ishape, **kw, **names)
    else:
        matrix = builders.conv_matrix(weight, ishape, **kw, **names)
    _write(_render_matrix(args, matrix, geom), args.output)
    return 0


_LATEX_ONLY = ("standalone", "env", "block", "no_blocks", "zero", "precision", "highlight_row",
               "highlight", "x", "y", "base", "spacing", "grid", "overlay", "beamer", "title",
               "part", "lang")


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
    _output_padding(args)
    if args.block is not None and args.no_blocks:
        raise _UsageError("--block and --no-blocks contradict each other")
    _check_latex_values(args)
    for name in ("max_size", "max_rows", "max_cols"):
        value = getattr(args, name)
        if args.format == "latex" and value is not None and value < 2:
            raise _UsageError(f"--{name.replace('_', '-')} {value} must be at least 2 with "
                              f"--format latex (one row or column and the ellipsis)")


def _check_latex_values(args) -> None:
    if args.title is not None and args.overlay is None and not args.beamer:
        raise _UsageError("--title names a beamer frame: add --beamer or --overlay")
    if args.overlay is not None and args.highlight_row is not None:
        raise _UsageError("--overlay and --highlight-row contradict each other (the overlay "
                          "highlights every row in turn)")


def _latex_options(args, max_rows, max_cols) -> dict:
    """The ``to_latex`` keywords of the LaTeX options given."""
    options = dict(
        environment=args.env or "bmatrix", zero=args.zero or "0",
        precision=4 if args.precision is None else args.precision,
        max_rows=max_rows, max_cols=max_cols, highlight_row=args.highlight_row,
        highlight=args.highlight, x=_vector_option(args.x, "--x"),
        y=_vector_option(args.y, "--y"), base=args.base, spacing=args.spacing,
        grid=args.grid, overlay=args.overlay, beamer=args.beamer, title=args.title,
        standalone=args.standalone, lang=args.lang or "en")
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
        from ..latex import to_latex

        options = _latex_options(args, max_rows, max_cols)
        if args.block is not None:
            blocks = parse_ints(args.block, "--block")
            if not isinstance(blocks, tuple) or len(blocks) != 2:
                raise _UsageError(f"--block {args.block!r} must be ROWSxCOLS, like 4x5")
            options["blocks"] = blocks
        return to_latex(matrix, geometry=geom, transposed=args.transposed, **options)
    buffer = io.BytesIO()
    if args.format == "mtx":
        scipy.io.mmwrite(buffer, matrix, comment=" written by convmat")
        return buffer.getvalue().decode("ascii")
    scipy.sparse.save_npz(buffer, matrix)
    return buffer.getvalue()


def _add_shape(sub) -> None:
    p = sub.add_parser("shape", help="output shape with the formula filled in",
                       description="Print a convolution's output shape and its derivation.")
    _add_geometry(p, weights=False)
    _add_output(p)


def _cmd_shape(args) -> int:
    from ..arithmetic import explain_shape

    ishape = parse_shape(args.input, "--input")
    kshape = parse_shape(args.kernel, "--kernel")
    kw = _common(args)
    _check_dims(args, ishape, kshape, kw)
    output_padding = _output_padding(args)
    _write(explain_shape(ishape, kshape, transposed=args.transposed,
                         output_padding=output_padding, **kw), args.output)
    return 0


def _add_demo(sub) -> None:
    p = sub.add_parser("demo", help="a short guided tour (no arguments needed)",
                       description="A short guided tour of convolution as a matrix.")
    _add_output(p)


def _cmd_demo(args) -> int:
    from ..demo import tour

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
    from .. import striding

    given = [g for g in _latex_only(args) if not (g == "--base" and args.symbolic)]
    if given and args.format != "latex":
        verb = "applies" if len(given) == 1 else "apply"
        raise _UsageError(f"{', '.join(given)} {verb} to --format latex only")
    _check_names(args)
    _check_latex_values(args)
    if args.overlay == "cols":
        raise _UsageError("--overlay cols steps through the columns of one matrix; a Kong & "
                          "Lucey display has several (use --overlay rows, or convmat matrix "
                          "--stride ... --overlay cols for the strided matrix)")
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
    geom = geometry.convolution_geometry(ishape, _weight_shape(args, kshape), **kw)
    _, weight = _weight(args, kshape, build_bytes=_kong_lucey_bytes(geom))
    if args.symbolic:
        from .. import symbolic

        result = symbolic.kong_lucey(weight, ishape, name=args.name or "w",
                                     base=args.base or 0, **kw)
    else:
        result = striding.kong_lucey(weight, ishape, **kw)
    max_rows = 40 if args.max_rows is None else args.max_rows
    max_cols = 40 if args.max_cols is None else args.max_cols
    if args.format == "latex":
        from ..latex import to_latex

        _write(to_latex(result, part=args.part, **_latex_options(args, max_rows, max_cols)),
               args.output)
    else:
        from ..text import kong_lucey_text

        _write(kong_lucey_text(result, max_size=max(max_rows, max_cols)), args.output)
    return 0


#: subcommand name -> (add arguments, run)
COMMANDS: dict[str, tuple[Callable, Callable]] = dict(sorted({
    "demo": (_add_demo, _cmd_demo),
    "kong-lucey": (_add_kong_lucey, _cmd_kong_lucey),
    "matrix": (_add_matrix, _cmd_matrix),
    "shape": (_add_shape, _cmd_shape),
    **TOOL_COMMANDS,
}.items()))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would exit; we return 2 from main instead
        raise _UsageError(f"{self.prog}: {message} (see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None):  # --help, --version
        if message:
            print(message, file=sys.stderr, end="")
        raise _Exit(status)


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

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
