"""`convmat animate` and `convmat plot`: every path writes a readable file; bad input exits 2."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from convmat.cli import main


def _frames(path):
    with Image.open(path) as im:
        return im.n_frames


@pytest.mark.parametrize("what", ["convolution", "matrix"])
def test_animate_writes_one_frame_per_output(what, tmp_path, capsys):
    out = tmp_path / "a.gif"
    assert main(["animate", what, "--input", "5x5", "--kernel", "3x3", "--stride", "2",
                 "--padding", "1", "--fps", "20", "-o", str(out)]) == 0
    assert _frames(out) == 9
    assert f"wrote {out}" in capsys.readouterr().out


def test_animate_values_transpose_dilation(tmp_path):
    out = tmp_path / "t.gif"
    assert main(["animate", "convolution", "--input", "3", "--kernel", "3", "--stride", "2",
                 "--padding", "1", "--transposed", "--output-padding", "1", "--weights", "1,2,3",
                 "--x", "1 2 3", "--fps", "20", "-o", str(out)]) == 0
    assert _frames(out) == 6
    assert main(["animate", "matrix", "--input", "7", "--kernel", "3", "--dilation", "2",
                 "--fps", "20", "-o", str(out)]) == 0
    assert _frames(out) == 3


@pytest.mark.parametrize("args", [
    ["matrix", "--input", "4x4", "--kernel", "3x3", "--highlight-row", "2"],
    ["matrix", "--input", "4x4", "--kernel", "3x3", "--stride", "2", "--transposed"],
    ["matrix", "--input", "4x4x4", "--kernel", "2x2x2"],  # any dimension as a matrix
    ["connectivity", "--input", "6", "--kernel", "3", "--dilation", "2"],
    ["connectivity", "--input", "3x3", "--kernel", "2x2", "--stride", "2", "--transposed"],
    ["kong-lucey", "--input", "7x7", "--kernel", "3x3", "--stride", "2"],
    ["kong-lucey", "--input", "7", "--kernel", "3", "--stride", "2", "--weights", "1,2,3"],
])
@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_plot_paths(args, suffix, magic, tmp_path):
    out = tmp_path / f"f{suffix}"
    assert main(["plot", *args, "-o", str(out)]) == 0
    assert out.read_bytes().startswith(magic)


def test_plot_pdf(tmp_path):
    out = tmp_path / "f.pdf"
    assert main(["plot", "matrix", "--input", "5", "--kernel", "3", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("what", ["convolution", "matrix"])
def test_animate_frames_as_pdf_pages_and_tikz(what, tmp_path):
    """-o x.pdf: one page per frame; -o x.tex: one tikzpicture per frame."""
    pdf, tex = tmp_path / "a.pdf", tmp_path / "a.tex"
    for out in (pdf, tex):
        assert main(["animate", what, "--input", "4x4", "--kernel", "3x3", "-o",
                     str(out)]) == 0
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())) == 4
    assert tex.read_text().count(r"\begin{tikzpicture}") == 4
    out = tmp_path / "m.tex"
    assert main(["plot", "matrix", "--input", "5", "--kernel", "3", "-o", str(out)]) == 0
    assert r"\node[cm-entry" in out.read_text()


@pytest.mark.parametrize("argv, message", [
    (["animate", "convolution", "--input", "5x5", "--kernel", "3x3", "-o", "a.png"],
     ".gif or .mp4"),
    (["plot", "matrix", "--input", "5x5", "--kernel", "3x3", "-o", "a.gif"], ".png, .pdf"),
    (["animate", "convolution", "--input", "5x5", "--kernel", "3x3"], "-o/--output"),
    (["animate", "spin", "--input", "5", "--kernel", "3", "-o", "a.gif"], "invalid choice"),
    (["animate", "convolution", "--input", "5x5x5x5", "--kernel", "3x3x3x3", "-o", "a.gif"],
     "1-D, 2-D and 3-D"),
    (["animate", "convolution", "--input", "5", "--kernel", "3", "--x", "1,2", "-o",
      "a.gif"], "--x has 2 numbers but the input shape"),
    (["animate", "convolution", "--input", "5", "--kernel", "3", "--x", "1,a,2,3,4", "-o",
      "a.gif"], "--x: 'a' is not a number"),
    (["animate", "matrix", "--input", "5", "--kernel", "3", "--weights", "1,2", "-o",
      "a.gif"], "--weights has 2 numbers"),
    (["animate", "matrix", "--input", "5", "--kernel", "3", "--output-padding", "1", "-o",
      "a.gif"], "--output-padding applies to --transposed only"),
    (["animate", "matrix", "--input", "5", "--kernel", "3", "--fps", "0", "-o", "a.gif"],
     "--fps"),
    (["animate", "matrix", "--input", "5", "--kernel", "9", "-o", "a.gif"],
     "larger than the padded input"),
    (["plot", "connectivity", "--input", "5", "--kernel", "3", "--weights", "1,2,3", "-o",
      "a.png"], "--weights does not apply"),
    (["plot", "connectivity", "--input", "5", "--kernel", "3", "--highlight-row", "1", "-o",
      "a.png"], "--highlight-row applies"),
    (["plot", "kong-lucey", "--input", "5", "--kernel", "3", "--stride", "2", "--transposed",
      "-o", "a.png"], "--transposed does not apply"),
    (["plot", "matrix", "--input", "5", "--kernel", "3", "--highlight-row", "7", "-o",
      "a.png"], "--highlight-row 7"),
    (["plot", "matrix", "--input", "5", "--kernel", "3", "-o", "no/such/dir/a.png"],
     "does not exist"),
    (["plot", "matrix", "--input", "5x", "--kernel", "3", "-o", "a.png"], "--input"),
])
def test_bad_input_exits_2(argv, message, tmp_path, monkeypatch, capsys):
    """Usage mistakes exit 2; input convmat refuses (a ConvmatError) exits 1."""
    monkeypatch.chdir(tmp_path)
    refused = message in ("1-D, 2-D and 3-D", "larger than the padded input", "--highlight-row 7",
                          "does not exist")
    assert main(argv) == (1 if refused else 2)
    err = capsys.readouterr().err
    assert message in err
    assert not any(tmp_path.iterdir())  # nothing half-written


@pytest.mark.parametrize("argv, frames", [
    (["animate", "convolution", "--input", "4x4", "--kernel", "3x3", "--in-channels", "2",
      "--out-channels", "2", "--groups", "2"], 8),
    (["animate", "matrix", "--input", "5", "--kernel", "3", "--in-channels", "2",
      "--out-channels", "3"], 9),
    (["animate", "matrix", "--input", "3", "--kernel", "3", "--in-channels", "2",
      "--out-channels", "4", "--groups", "2", "--transpose", "--stride", "2"], 4 * 7),
    (["animate", "convolution", "--input", "3x3x3", "--kernel", "2x2x2"], 8),
])
def test_animate_channels_groups_and_3d(argv, frames, tmp_path):
    out = tmp_path / "a.gif"
    assert main([*argv, "--fps", "20", "-o", str(out)]) == 0
    assert _frames(out) == frames


def test_plot_channels_and_kong_lucey_needs_stride(tmp_path, capsys):
    for what in ("connectivity", "matrix"):
        out = tmp_path / f"{what}.png"
        assert main(["plot", what, "--input", "4x4", "--kernel", "3x3", "--in-channels", "4",
                     "--out-channels", "4", "--groups", "4", "-o", str(out)]) == 0
        assert out.stat().st_size > 0
    assert main(["plot", "kong-lucey", "--input", "5", "--kernel", "3", "-o",
                 str(tmp_path / "k.png")]) == 2
    assert "needs --stride" in capsys.readouterr().err
    assert main(["plot", "kong-lucey", "--input", "5", "--kernel", "3", "--stride", "2",
                 "-o", str(tmp_path / "k.png")]) == 0
    assert main(["animate", "convolution", "--input", "4", "--kernel", "2", "--in-channels",
                 "3", "--groups", "2", "-o", str(tmp_path / "e.gif")]) == 2
    assert "--groups 2 must divide" in capsys.readouterr().err


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "symmetric"])
def test_mode_on_animate_and_plot(mode, tmp_path, monkeypatch):
    """--mode (the name `convmat matrix` uses) reaches the pictures: the animated matrix is
    conv_matrix(..., padding_mode=mode) and the plotted graph has its edges."""
    import numpy as np

    import convmat
    from convmat import figures

    seen = {}
    real = figures.animate_matrix

    def spy(*args, **kwargs):
        seen["anim"] = real(*args, **kwargs)
        return seen["anim"]

    monkeypatch.setattr(figures, "animate_matrix", spy)
    out = tmp_path / "m.gif"
    assert main(["animate", "matrix", "--input", "5", "--kernel", "3", "--padding", "2",
                 "--mode", mode, "--weights", "1,2,4", "--fps", "20", "-o", str(out)]) == 0
    expect = convmat.conv_matrix(np.array([1, 2, 4]), (5,), padding=2, padding_mode=mode)
    np.testing.assert_array_equal(seen["anim"].matrix.toarray(), expect.toarray())
    assert _frames(out) == 7
    for what in ("connectivity", "matrix"):
        png = tmp_path / f"{what}.png"
        assert main(["plot", what, "--input", "4x4", "--kernel", "3x3", "--padding", "1",
                     "--mode", mode, "-o", str(png)]) == 0
        assert png.stat().st_size > 1000


def test_mode_refused_with_transposed(tmp_path, capsys):
    assert main(["animate", "convolution", "--input", "4", "--kernel", "3", "--padding", "1",
                 "--mode", "reflect", "--transposed", "-o", str(tmp_path / "t.gif")]) != 0
    assert "--mode reflect" in capsys.readouterr().err
