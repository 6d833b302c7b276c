"""`convmat animate` and `convmat plot`: every path writes a readable file; bad input exits 2."""

from __future__ import annotations

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


@pytest.mark.parametrize("argv, message", [
    (["animate", "convolution", "--input", "5x5", "--kernel", "3x3", "-o", "a.png"],
     ".gif or .mp4"),
    (["plot", "matrix", "--input", "5x5", "--kernel", "3x3", "-o", "a.gif"], ".png, .pdf"),
    (["animate", "convolution", "--input", "5x5", "--kernel", "3x3"], "-o/--output"),
    (["animate", "spin", "--input", "5", "--kernel", "3", "-o", "a.gif"], "invalid choice"),
    (["animate", "convolution", "--input", "5x5x5", "--kernel", "3x3x3", "-o", "a.gif"],
     "1-D and 2-D"),
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
    refused = message in ("1-D and 2-D", "larger than the padded input", "--highlight-row 7",
                          "does not exist")
    assert main(argv) == (1 if refused else 2)
    err = capsys.readouterr().err
    assert message in err
    assert not any(tmp_path.iterdir())  # nothing half-written
