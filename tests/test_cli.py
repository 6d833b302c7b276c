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
                 "--stride", "2", "--transpose"]) == 0
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
                 "--padding", "1", "--transpose", "--output-padding", "1"]) == 0
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
        (["shape", "--input", "4", "--kernel", "2", "--transpose", "--output-padding", "5"],
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
