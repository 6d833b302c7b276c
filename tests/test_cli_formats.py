"""``convmat matrix`` output formats through main(argv): text, latex, mtx, npz, --symbolic,
-o FILE, and the exit code 2 with a clear message on bad arguments."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

import convmat
from convmat.cli import main

from .conftest import requires_pdflatex

SLIDES = ["--input", "5x5", "--kernel", "3x3", "--weights", "0,1,2;2,2,0;0,1,2"]
SLIDES_KERNEL = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]])


def run(capsys, *argv):
    code = main(["matrix", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_symbolic_text(capsys):
    code, out, _ = run(capsys, "--input", "3x3", "--kernel", "2x2", "--symbolic")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 4 and lines[0].split() == ["w_{0,0}", "w_{0,1}", ".", "w_{1,0}",
                                                    "w_{1,1}", ".", ".", ".", "."]


def test_symbolic_text_summary_when_large(capsys):
    code, out, _ = run(capsys, "--input", "32x32", "--kernel", "3x3", "--symbolic")
    assert code == 0 and out.startswith("900 x 1024 symbolic matrix, 8,100 nonzero entries")


def test_latex_numeric_has_automatic_blocks(capsys):
    code, out, _ = run(capsys, *SLIDES, "--format", "latex", "--zero", "cdot")
    assert code == 0
    assert out.startswith("\\def\\arraystretch{1.3}\n\\left[\\begin{array}{"
                          + "|".join(["ccccc"] * 5) + "}")
    assert out.count(r"\hline") == 2 and out.count(r"\cdot") == 9 * 25 - 81


def test_latex_symbolic_transpose_blocks_and_options(capsys):
    code, out, _ = run(capsys, "--input", "2x2", "--kernel", "2x2", "--symbolic",
                       "--transposed", "--format", "latex")
    assert code == 0 and out.split("\n")[1] == r"\left[\begin{array}{cc|cc}"
    code, out, _ = run(capsys, "--input", "2x2", "--kernel", "2x2", "--symbolic",
                       "--transposed", "--format", "latex", "--no-blocks", "--env", "pmatrix",
                       "--zero", "blank", "--highlight-row", "4")
    assert code == 0 and out.split("\n")[1] == r"\begin{pmatrix}"
    assert r"\boxed{\smash[b]{w_{1,1}}}" in out
    code, out, _ = run(capsys, *SLIDES, "--format", "latex", "--block", "3x5")
    assert code == 0 and out.count(r"\hline") == 2 and out.count("|") == 4


def test_latex_elision_and_precision(capsys):
    code, out, _ = run(capsys, "--input", "32x32", "--kernel", "3x3", "--weights",
                       " ".join(["0.123456"] * 9), "--format", "latex", "--max-rows", "6",
                       "--max-cols", "8", "--precision", "2")
    assert code == 0
    rows = [line for line in out.splitlines() if "&" in line]
    assert len(rows) == 6 and all(r.count("&") == 7 for r in rows)
    assert "0.12 " in out and r"\ddots" in out


def test_mtx_round_trip(capsys, tmp_path):
    code, out, _ = run(capsys, *SLIDES, "--format", "mtx")
    assert code == 0 and out.startswith("%%MatrixMarket matrix coordinate integer general")
    path = tmp_path / "a.mtx"
    path.write_text(out)
    expected = convmat.conv_matrix(SLIDES_KERNEL, (5, 5))
    np.testing.assert_array_equal(scipy.io.mmread(path).toarray(), expected.toarray())


@pytest.mark.parametrize("extra", [[], ["--transposed", "--stride", "2"]])
def test_npz_to_file(capsys, tmp_path, extra):
    path = tmp_path / "matrix.bin"  # the name is kept as given (no .npz appended)
    code, out, _ = run(capsys, *SLIDES, *extra, "--format", "npz", "-o", str(path))
    assert code == 0 and out == ""
    builder = convmat.conv_transpose_matrix if extra else convmat.conv_matrix
    kw = dict(stride=2) if extra else {}
    expected = builder(SLIDES_KERNEL, (5, 5), **kw)
    loaded = sp.load_npz(path)
    assert (loaded != expected).nnz == 0 and loaded.shape == expected.shape


@pytest.mark.parametrize("fmt", ["text", "latex", "mtx"])
def test_output_file_for_text_formats(capsys, tmp_path, fmt):
    path = tmp_path / f"out.{fmt}"
    code, out, _ = run(capsys, *SLIDES, "--format", fmt, "--output", str(path))
    assert code == 0 and out == ""
    code, printed, _ = run(capsys, *SLIDES, "--format", fmt)
    assert path.read_text() == printed


@requires_pdflatex
@pytest.mark.latex
def test_standalone_file_compiles(capsys, tmp_path):
    code, _, _ = run(capsys, "--input", "4x4", "--kernel", "3x3", "--symbolic", "--padding",
                     "1", "--format", "latex", "--standalone", "--highlight-row", "5",
                     "-o", str(tmp_path / "m.tex"))
    assert code == 0
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "m.tex"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "m.pdf").exists()


@pytest.mark.parametrize("argv, message", [
    (["--symbolic", "--format", "mtx"], "cannot be combined with --symbolic"),
    (["--symbolic", "--format", "npz", "-o", "x.npz"], "cannot be combined with --symbolic"),
    (["--format", "npz"], "give a file with -o FILE"),
    (["--format", "html"], "invalid choice: 'html'"),
    (["--standalone"], "--standalone applies to --format latex only"),
    (["--zero", "cdot", "--precision", "3"], "--zero, --precision apply to --format latex"),
    (["--format", "latex", "--block", "3"], "must be ROWSxCOLS"),
    (["--format", "latex", "--block", "ax3"], "--block 'ax3'"),
    (["--format", "latex", "--block", "2x2", "--no-blocks"], "contradict"),
    (["--format", "latex", "--highlight-row", "99"], "--highlight-row 99 is not a row"),
    (["--format", "latex", "--max-rows", "4", "--highlight-row", "5"], "elided by --max-rows 4"),
    (["--format", "latex", "--max-cols", "1"], "--max-cols 1 must be at least 2"),
    (["--format", "latex", "--precision", "0"], "--precision 0"),
    (["--format", "latex", "--spacing", "9"], "--spacing 9.0 must be a number from 0.5 to 4"),
    (["--format", "latex", "--x", "1,2"], "--x has 2 entries but the matrix has 25 columns"),
    (["--format", "latex", "--x", "1,a"], "--x: 'a' is not a number"),
    (["--format", "latex", "--overlay", "rows", "--highlight-row", "1"], "contradict"),
    (["--x", "x"], "--x applies to --format latex only"),
    (["--name", "h"], "--name applies to --symbolic only"),
    (["--format", "latex", "--env", "tabular"], "invalid choice: 'tabular'"),
    (["--weights", "1,2,3"], "--weights has 3 numbers but the weight shape (3, 3) needs 9"),
    (["--symbolic", "--stride", "0"], "--stride 0 must be >= 1"),
    # cases that once failed: a traceback (ZeroDivisionError, sympy's TypeError on inf) or a
    # message about an empty weight instead of the option at fault, or an option ignored
    (["--in-channels", "2", "--groups", "0"], "--groups: must be an integer >= 1, not '0'"),
    (["--in-channels", "-2"], "--in-channels: must be an integer >= 1, not '-2'"),
    (["--out-channels", "0"], "--out-channels: must be an integer >= 1, not '0'"),
    (["--symbolic", "--weights", "1e400,1,1;1,1,1;1,1,1"], "'1e400' is not a finite number"),
    (["--output-padding", "1"], "--output-padding applies to --transposed only"),
])
def test_bad_arguments_exit_2_with_a_clear_message(capsys, argv, message):
    code, out, err = run(capsys, "--input", "5x5", "--kernel", "3x3", *argv)
    last = err.rstrip("\n").split("\n")[-1]
    assert out == "" and last.startswith("convmat: error:") and message in last, err
    # values that describe no matrix (a ConvmatError) exit 1, usage errors 2
    assert code == (1 if message.startswith(("--highlight-row 99", "elided", "--precision",
                                             "--spacing", "--x has", "--stride 0")) else 2)


def test_unwritable_output_file(capsys, tmp_path):
    code, _, err = run(capsys, *SLIDES, "-o", str(tmp_path / "missing" / "dir" / "a.txt"))
    assert code == 2 and "cannot write the file" in err


@pytest.mark.parametrize("symbolic", [[], ["--symbolic"]])
def test_weights_are_numbers_never_code(capsys, tmp_path, monkeypatch, symbolic):
    monkeypatch.chdir(tmp_path)
    payload = "__import__('os').system('touch pwned')"
    code, out, err = run(capsys, "--input", "3", "--kernel", "1", "--weights", payload,
                         "--format", "latex", *symbolic)
    assert code == 2 and out == "" and "is not a number" in err
    code, _, err = run(capsys, "--input", "3", "--kernel", "1", "--weights", "__import__('os')")
    assert code == 2 and "is not a number" in err
    assert not (tmp_path / "pwned").exists()


def test_symbolic_weights_given_as_numbers_stay_exact(capsys):
    code, out, _ = run(capsys, "--input", "3", "--kernel", "2", "--weights", "1,0.5",
                       "--symbolic")
    assert code == 0 and out.split() == ["1", "1/2", ".", ".", "1", "1/2"]
    # kong-lucey reads its weights the same way (it printed 0.500000000000000 here)
    assert main(["kong-lucey", "--input", "4", "--kernel", "2", "--stride", "2", "--weights",
                 "1,0.5", "--symbolic"]) == 0
    out = capsys.readouterr().out
    assert "1/2" in out and "0.5" not in out


@pytest.mark.parametrize("argv, message", [
    (["--groups", "0"], "--groups: must be an integer >= 1, not '0'"),
    (["--in-channels", "0"], "--in-channels: must be an integer >= 1, not '0'"),
    (["--weights", "inf,1,1"], "'inf' is not a number"),
    (["--weights", "1e999,1,1"], "'1e999' is not a finite number"),
])
def test_kong_lucey_bad_channels_and_weights_exit_2(capsys, argv, message):
    code = main(["kong-lucey", "--input", "7", "--kernel", "3", "--stride", "2", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and message in err


@pytest.mark.parametrize("env", ["bmatrix", "pmatrix", "Bmatrix", "vmatrix", "Vmatrix",
                                 "matrix", "array"])
def test_every_to_latex_option_is_reachable(capsys, env):
    """The command line writes exactly what ``to_latex`` writes with the same options."""
    from convmat import symbolic

    argv = ["--input", "3x3", "--kernel", "2x2", "--symbolic", "--format", "latex",
            "--env", env, "--x", "u", "--y", "v", "--base", "1", "--name", "h",
            "--highlight-row", "3", "--highlight", "color", "--spacing", "1.5", "--grid",
            "--zero", "cdot", "--precision", "3", "--max-rows", "3", "--max-cols", "5"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    matrix = symbolic.conv_matrix((2, 2), (3, 3), name="h", base=1)
    assert out.rstrip("\n") == convmat.to_latex(
        matrix, environment=env, x="u", y="v", highlight_row=3, highlight="color",
        spacing=1.5, grid=True, zero="cdot", precision=3, max_rows=3, max_cols=5)
    assert "h_{1,1}" in out and "u_{1,1}" in out and "v_{2,1}" in out


def test_overlay_and_kong_lucey_latex_options(capsys, tmp_path):
    code, out, _ = run(capsys, *SLIDES, "--format", "latex", "--overlay", "rows", "--x", "x",
                       "--y", "y", "--standalone", "-o", str(tmp_path / "slides.tex"))
    assert code == 0 and out == ""
    slides = (tmp_path / "slides.tex").read_text()
    assert slides.startswith(r"\documentclass{beamer}") and r"\alert<9>{y_{2,2}}" in slides
    assert main(["kong-lucey", "--input", "7", "--kernel", "3", "--stride", "2", "--padding",
                 "1", "--mode", "reflect", "--symbolic", "--name", "h", "--base", "1",
                 "--format", "latex", "--part", "permuted", "--x", "u", "--y", "v"]) == 0
    out = capsys.readouterr().out
    assert r"\tilde{u}_{2}" in out and "v_{1}" in out and "h_{1}" in out and "h_{0}" not in out
    assert main(["kong-lucey", "--input", "7", "--kernel", "3", "--stride", "2", "--x",
                 "1,2"]) == 2
    assert "--x applies to --format latex only" in capsys.readouterr().err
    assert main(["kong-lucey", "--input", "7", "--kernel", "3", "--stride", "2", "--format",
                 "latex", "--x", "1,2"]) == 2
    assert "must be a name" in capsys.readouterr().err


@requires_pdflatex
@pytest.mark.latex
def test_overlay_slides_from_the_command_line_compile_with_beamer(capsys, tmp_path):
    if subprocess.run(["kpsewhich", "beamer.cls"], capture_output=True).returncode:
        pytest.skip("the beamer class is not installed (texlive-latex-recommended)")
    code, _, _ = run(capsys, "--input", "5x5", "--kernel", "3x3", "--weights",
                     "-1,0,1;-2,0,2;-1,0,1", "--format", "latex", "--overlay", "rows",
                     "--x", "x", "--y", "y", "--grid", "--standalone", "-o",
                     str(tmp_path / "s.tex"))
    assert code == 0
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "s.tex"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "(9 pages" in result.stdout.replace("\n", "")
