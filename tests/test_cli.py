"""The command line through main(argv): matrix and shape."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import convmat
from convmat.cli import main, parse_padding, parse_weights


def test_matrix_slides_example(capsys):
    assert main(["matrix", "--input", "5x5", "--kernel", "3x3",
                 "--weights", "0,1,2;2,2,0;0,1,2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 9
    assert out[0].split() == "0 1 2 . . 2 2 0 . . 0 1 2 . . . . . . . . . . . .".split()


def test_matrix_transpose_and_options(capsys):
    assert main(["matrix", "--input", "2", "--kernel", "2", "--weights", "1 2",
                 "--stride", "2", "--transposed"]) == 0
    assert capsys.readouterr().out.split() == "1 . 2 . . 1 . 2".split()
    assert main(["matrix", "--input", "3", "--kernel", "2", "--weights", "1.5,-2",
                 "--padding", "1", "--mode", "replicate", "--flip"]) == 0
    rows = [r.split() for r in capsys.readouterr().out.splitlines()]
    # flipped kernel (-2, 1.5), replicate padding: first row reads x0 twice: -2 + 1.5
    assert rows[0] == ["-0.5", ".", "."]
    assert main(["matrix", "--input", "4", "--kernel", "2", "--in-channels", "2",
                 "--out-channels", "2", "--groups", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6 and lines[0].split()[:2] == ["1", "2"]


def test_matrix_large_prints_summary(capsys):
    assert main(["matrix", "--input", "32x32", "--kernel", "3x3", "--padding", "same"]) == 0
    out = capsys.readouterr().out
    assert "1024 x 1024 sparse matrix, 8,836 stored entries" in out
    assert "#" in out


def test_shape(capsys):
    assert main(["shape", "--input", "4x4", "--kernel", "2x2", "--stride", "3",
                 "--padding", "1"]) == 0
    out = capsys.readouterr().out
    assert "floor((4 + 1 + 1 - 1*(2-1) - 1) / 3) + 1 = 2" in out
    assert out.strip().endswith("output shape: 2x2")
    assert main(["shape", "--input", "2x2", "--kernel", "3x3", "--stride", "2",
                 "--padding", "1", "--transposed", "--output-padding", "1"]) == 0
    assert capsys.readouterr().out.strip().endswith("output shape: 4x4")


@pytest.mark.parametrize(
    "argv, needle, code",
    [
        (["matrix", "--input", "5x5", "--kernel", "3x3", "--weights", "__import__('os')"],
         "not a number", 2),
        (["matrix", "--input", "5x5", "--kernel", "3x3", "--weights", "1,2"], "needs 9", 2),
        (["matrix", "--input", "5xa", "--kernel", "3x3"], "not a shape", 2),
        (["matrix", "--input", "5x5", "--kernel", "3x3", "--stride", "0"],
         "--stride 0 must be >= 1", 1),
        (["matrix", "--input", "5x5", "--kernel", "3x3", "--padding", "lots"], "--padding", 2),
        (["matrix", "--input", "5x5", "--kernel", "3x3", "--mode", "mirror"], "invalid choice",
         2),
        (["matrix", "--input", "2x2", "--kernel", "3x3"], "--kernel 3x3 with --dilation 1x1", 1),
        (["matrix", "--input", "4", "--kernel", "2", "--in-channels", "3", "--groups", "2"],
         "--groups 2", 2),
        (["shape", "--input", "4", "--kernel", "2", "--transposed", "--output-padding", "5"],
         "--output-padding 5", 1),
        (["frobnicate"], "invalid choice", 2),
        # in the terms of the command line, not of the Python call it makes
        (["matrix", "--input", "5x5", "--kernel", "3"],
         "--kernel 3 has 1 dim but --input 5x5 has 2; give one kernel size per input dim, "
         "like --kernel 3x3", 2),
        (["shape", "--input", "5", "--kernel", "3", "--stride", "1x2"],
         "--stride 1x2 gives 2 values but --input 5 has 1 dim", 2),
        (["matrix", "--input", "5", "--kernel", "3", "--padding", "2", "--mode", "reflect",
          "--dilation", "0"], "--dilation 0 must be >= 1", 1),
    ],
)
def test_bad_arguments_exit_2_or_1(argv, needle, code, capsys):
    """Exit 2 for usage errors, 1 for values that describe no
    convolution; the message names the options as typed and there is no traceback."""
    assert main(argv) == code
    err = capsys.readouterr().err
    last = err.rstrip("\n").split("\n")[-1]
    assert last.startswith("convmat: error:") and needle in last, err
    assert "Traceback" not in err and "weight.shape" not in err and "[in " not in err


def test_bare_convmat_prints_usage_and_version(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: convmat") and "kong-lucey" in out and "matrix" in out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"convmat {convmat.__version__}"
    assert main(["matrix", "--help"]) == 0
    assert "--overlay" in capsys.readouterr().out


def test_negative_numbers_follow_their_option(capsys):
    """Once: ``--weights "-1,1"`` failed with 'expected one argument'."""
    assert main(["matrix", "--input", "3", "--kernel", "2", "--weights", "-1,1"]) == 0
    assert capsys.readouterr().out.split() == "-1 1 . . -1 1".split()
    assert main(["matrix", "--input", "3", "--kernel", "2", "--weights", "-1.5 .5",
                 "--format", "latex", "--x", "-1,-2,3", "--y", "-.5,1"]) == 0
    out = capsys.readouterr().out
    assert "-1.5 & 0.5 & 0" in out and "-2 \\\\" in out and "-0.5 \\\\" in out
    assert main(["matrix", "--input", "3", "--kernel", "2", "--weights=-1,1"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("command", [
    ["matrix", "--input", "3", "--kernel", "2"],
    ["matrix", "--input", "3", "--kernel", "2", "--format", "latex", "--standalone"],
    ["kong-lucey", "--input", "7", "--kernel", "3", "--stride", "2"],
    ["kong-lucey", "--input", "7", "--kernel", "3", "--stride", "2", "--format", "latex"],
    ["shape", "--input", "7", "--kernel", "3"],
    ["demo"],
])
def test_every_subcommand_writes_to_a_file_or_to_stdout(command, tmp_path, capsys):
    assert main(command) == 0
    printed = capsys.readouterr().out
    assert main([*command, "-o", str(tmp_path / "out.txt")]) == 0
    assert capsys.readouterr().out == ""
    assert (tmp_path / "out.txt").read_text() == printed
    assert main([*command, "-o", "-"]) == 0
    assert capsys.readouterr().out == printed


def test_internal_errors_are_reported_without_a_traceback(capsys, monkeypatch):
    import convmat.cli as cli

    def boom(args):
        raise RuntimeError("kaput")

    monkeypatch.setitem(cli.COMMANDS, "demo", (cli.COMMANDS["demo"][0], boom))
    assert main(["demo"]) == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: kaput" in err and "Traceback" not in err


def test_weights_are_numbers_only(tmp_path, monkeypatch):
    """No eval: an expression that would create a file is an error and creates nothing."""
    monkeypatch.chdir(tmp_path)
    payload = "__import__('pathlib').Path('pwned').touch()"
    assert main(["matrix", "--input", "3", "--kernel", "1", "--weights", payload]) == 2
    assert not (tmp_path / "pwned").exists()
    np.testing.assert_array_equal(parse_weights("1e2, -3, 1+2j", (3,)),
                                  np.array([100, -3, 1 + 2j]))
    assert parse_padding("0:1x2") == [(0, 1), 2]
    assert parse_padding("same") == "same"


def test_console_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "convmat", "shape", "--input", "7",
                             "--kernel", "3"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "output shape: 5" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "convmat", "matrix"], capture_output=True,
                         text=True, check=False)
    assert bad.returncode == 2


def test_closed_pipe_is_quiet():
    """`convmat demo | head -1`: no traceback when the reader goes away."""
    proc = subprocess.Popen([sys.executable, "-m", "convmat", "matrix", "--input", "30x30",
                             "--kernel", "3x3", "--max-size", "4000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in err


# -- one vocabulary with Python: --transposed, --x ------------------------------------------

GEOMETRY_COMMANDS = {  # every subcommand with a transposed variant, and its extra arguments
    "matrix": [], "shape": [], "animate": ["convolution", "-o", "a.gif", "--fps", "20"],
    "plot": ["matrix", "-o", "a.png"]}


@pytest.mark.parametrize("command", sorted(GEOMETRY_COMMANDS))
def test_transposed_is_spelled_as_in_python(command, tmp_path, monkeypatch, capsys):
    """``--transposed`` as ``transposed=True``; the old ``--transpose`` gives the same result
    with a note; help shows only the new spelling."""
    monkeypatch.chdir(tmp_path)
    extra = GEOMETRY_COMMANDS[command]
    argv = [command, *extra[:1], "--input", "3", "--kernel", "3", "--stride", "2",
            "--output-padding", "1", *extra[1:]]
    outputs = []
    for spelling in ("--transposed", "--transpose"):
        assert main([*argv, spelling]) == 0, spelling
        out, err = capsys.readouterr()
        written = tmp_path / extra[2] if extra else None
        outputs.append(written.read_bytes() if written else out.encode())
        deprecated = spelling == "--transpose"
        assert ("--transpose is deprecated; it is now spelled --transposed" in err) == deprecated
    assert outputs[0] == outputs[1]
    assert main([command, "--help"]) == 0
    usage = capsys.readouterr().out
    assert "--transposed" in usage and "--transpose " not in usage and "--transpose\n" not in usage


def test_transposed_matrix_is_pythons(capsys):
    """``convmat matrix --transposed`` prints ``conv_transpose_matrix``, whose matrix is the
    transpose of the forward convolution's on the transposed output."""
    assert main(["matrix", "--input", "3", "--kernel", "3", "--weights", "1,2,3", "--stride",
                 "2", "--padding", "1", "--transposed", "--output-padding", "1"]) == 0
    from convmat.text import to_text

    printed = capsys.readouterr().out
    forward = convmat.conv_matrix([1, 2, 3], (6,), stride=2, padding=1)  # 3 outputs from 6
    assert printed.rstrip("\n") == to_text(forward.T.tocsr()).rstrip("\n")


def test_x_is_the_input_in_every_subcommand(monkeypatch, capsys):
    """``--x`` is the input x, its entries in C order, parsed alike by ``matrix`` (LaTeX)
    and ``animate`` (a picture); a name is refused by the picture, which has no symbols."""
    from convmat import figures
    from convmat.cli import _tools, build_parser
    from convmat.cli._args import X_HELP

    helps = {}
    for command in ("matrix", "animate"):
        sub = build_parser()._subparsers._group_actions[0].choices[command]
        helps[command] = next(a.help for a in sub._actions if "--x" in a.option_strings)
    assert helps["matrix"].startswith(X_HELP) and helps["animate"].startswith(X_HELP)
    text = "1,2;3 4"
    assert main(["matrix", "--input", "2x2", "--kernel", "1x1", "--format", "latex",
                 "--x", text]) == 0
    A = convmat.conv_matrix([[1]], (2, 2))
    assert capsys.readouterr().out.rstrip("\n") == convmat.to_latex(A, x=[1, 2, 3, 4])
    seen = {}
    monkeypatch.setattr(figures, "animate_matrix", lambda *a, **kw: seen.update(kw))
    monkeypatch.setattr(_tools, "_save_picture", lambda *a, **kw: 0)
    assert main(["animate", "matrix", "--input", "2x2", "--kernel", "1x1", "--x", text,
                 "-o", "a.gif"]) == 0
    assert np.array_equal(seen["x"], [[1, 2], [3, 4]])
    assert main(["animate", "matrix", "--input", "2x2", "--kernel", "1x1", "--x", "x",
                 "-o", "a.gif"]) == 2
    assert "--x 'x' is a symbol name: a picture takes the input's numbers" in \
        capsys.readouterr().err


def test_every_command_in_the_docs_parses_in_the_current_vocabulary(capsys):
    """Each ``convmat ...`` line of the docs' shell blocks is a valid command line (parsed,
    not run) and uses no deprecated spelling."""
    import re
    import shlex
    from pathlib import Path

    from convmat.cli import _negative_values, _value_options, build_parser

    root = Path(__file__).resolve().parent.parent
    parser = build_parser()
    checked = 0
    for page in [*sorted((root / "docs").glob("*.md")), root / "README.md"]:
        for block in re.findall(r"^```shell\n(.*?)^```", page.read_text(), re.DOTALL | re.MULTILINE):
            for line in block.replace("\\\n", " ").splitlines():
                words = shlex.split(line, comments=True)
                if not words or words[0] != "convmat":
                    continue
                for stop in (">", "|"):
                    words = words[:words.index(stop)] if stop in words else words
                if "--help" in words or "--version" in words:
                    continue
                parser.parse_args(_negative_values(words[1:], _value_options(parser)))
                assert "deprecated" not in capsys.readouterr().err, (page.name, line)
                checked += 1
    assert checked > 20
