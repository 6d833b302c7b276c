"""Every documented error: a ConvmatError (a ValueError) naming parameter, value, context,
raised before anything is built."""

from __future__ import annotations

import numpy as np
import pytest

import convmat
from convmat import _engine, options

W3 = np.ones((3, 3))

# (builder kwargs, substrings the message must contain)
CONV_CASES = [
    (dict(weight=W3, input_shape=(5, 0)), ["input_shape=(5, 0)", "positive"]),
    (dict(weight=W3, input_shape=(5, 2.5)), ["input_shape=2.5", "integer"]),
    (dict(weight=W3, input_shape=()), ["input_shape=()", "at least one"]),
    (dict(weight=W3, input_shape="5x5"), ["input_shape='5x5'"]),
    (dict(weight=W3, input_shape=(5, 5), stride=0), ["stride=0", ">= 1"]),
    (dict(weight=W3, input_shape=(5, 5), stride=(1, 0)), ["stride=(1, 0)", ">= 1"]),
    (dict(weight=W3, input_shape=(5, 5), stride=(1, 2, 3)), ["stride=(1, 2, 3)", "3 entries",
                                                             "2 spatial"]),
    (dict(weight=W3, input_shape=(5, 5), dilation=-1), ["dilation=-1", ">= 1"]),
    (dict(weight=W3, input_shape=(5, 5), stride=True), ["stride=True", "bool"]),
    (dict(weight=W3, input_shape=(5, 5), padding=-3), ["padding (-3, -3)", "crops the whole",
                                                       "input of size 5"]),
    (dict(weight=W3, input_shape=(5, 5), padding=((1, -4), 0)), ["kernel_shape=(3, 3)",
                                                                 "padded input size 2"]),
    (dict(weight=W3, input_shape=(3, 5), padding=((-1, 2), 0), padding_mode="reflect"),
     ["padding (-1, 2)", "reflect", "cropped input size 2"]),
    (dict(weight=W3, input_shape=(5, 5), padding=((-2, 4), 0), padding_mode="symmetric"),
     ["padding (-2, 4)", "symmetric", "cropped input size 3"]),
    (dict(weight=W3, input_shape=(5, 5), padding=(1, 2, 3)), ["padding=(1, 2, 3)", "3 entries"]),
    (dict(weight=W3, input_shape=(5, 5), padding=((1, 2, 3), 0)), ["(1, 2, 3)", "pair"]),
    (dict(weight=W3, input_shape=(5, 5), padding="half"), ["padding='half'", "valid"]),
    (dict(weight=W3, input_shape=(5, 5), padding=1.5), ["padding=1.5", "integer"]),
    (dict(weight=W3, input_shape=(5, 5), padding_mode="mirror"), ["padding_mode='mirror'",
                                                                  "reflect"]),
    (dict(weight=W3, input_shape=(3, 5), padding=3, padding_mode="reflect"),
     ["padding (3, 3)", "reflect", "input size 3"]),
    (dict(weight=W3, input_shape=(3, 5), padding=(4, 0), padding_mode="circular"),
     ["padding (4, 4)", "circular", "input size 3"]),
    (dict(weight=W3, input_shape=(2, 5)), ["kernel_shape=(3, 3)", "padded input size 2"]),
    (dict(weight=W3, input_shape=(5, 5), dilation=3), ["dilation=(3, 3)", "spans 7"]),
    (dict(weight=np.ones((2, 3, 3, 3, 3)), input_shape=(5, 5)), ["weight.shape=(2, 3, 3, 3, 3)",
                                                                 "5 dimensions"]),
    (dict(weight=np.ones((3,)), input_shape=(5, 5)), ["weight.shape=(3,)"]),
    (dict(weight=np.ones((4, 3, 3, 3)), input_shape=(3, 32, 32)),
     ["weight.shape=(4, 3, 3, 3)", "spatial shape only (no channel axis)"]),
    (dict(weight=np.ones((3, 2, 3, 3)), input_shape=(5, 5), groups=2), ["groups=2", "C_out=3"]),
    (dict(weight=W3, input_shape=(5, 5), groups=2), ["groups=2", "bare kernel"]),
    (dict(weight=np.ones((2, 1, 3, 3)), input_shape=(5, 5), groups=0), ["groups=0", ">= 1"]),
    (dict(weight=W3, input_shape=(5, 5), format="dense"), ["format='dense'", "csr"]),
    (dict(weight=np.array([["a", "b"]]), input_shape=(5, 5)), ["dtype", "convmat.symbolic"]),
    (dict(weight=np.ones((0, 3)), input_shape=(5, 5)), ["weight.shape=(0, 3)", "empty"]),
    (dict(weight=3.0, input_shape=(5,)), ["scalar"]),
]


@pytest.mark.parametrize("kwargs, needles", CONV_CASES)
def test_conv_matrix_errors(kwargs, needles, monkeypatch):
    monkeypatch.setattr(_engine, "build", _must_not_build)
    kwargs = dict(kwargs)
    weight, shape = kwargs.pop("weight"), kwargs.pop("input_shape")
    with pytest.raises(convmat.ConvmatError) as info:
        convmat.conv_matrix(weight, shape, **kwargs)
    message = str(info.value)
    for needle in needles:
        assert needle in message
    assert "[in conv_matrix(input_shape=" in message
    assert isinstance(info.value, ValueError)


TRANSPOSE_CASES = [
    (dict(output_padding=2, stride=2), ["output_padding=2", "max(stride, dilation) = 2"]),
    (dict(output_padding=-1), ["output_padding=-1", ">= 0"]),
    (dict(output_padding=(0, 0, 0)), ["output_padding=(0, 0, 0)", "3 entries"]),
    (dict(padding=5), ["padding=5", "too large"]),
    (dict(padding=2, padding_mode="reflect", input_shape=(3, 3)),
     ["reflect", "padding (2, 2)", "input size 1"]),
    (dict(groups=2, weight=np.ones((3, 1, 3, 3))), ["groups=2", "C_in=3"]),
]


@pytest.mark.parametrize("kwargs, needles", TRANSPOSE_CASES)
def test_conv_transpose_matrix_errors(kwargs, needles, monkeypatch):
    monkeypatch.setattr(_engine, "build", _must_not_build)
    kwargs = dict(kwargs)
    weight = kwargs.pop("weight", W3)
    shape = kwargs.pop("input_shape", (1, 1))
    with pytest.raises(convmat.ConvmatError) as info:
        convmat.conv_transpose_matrix(weight, shape, **kwargs)
    for needle in needles:
        assert needle in str(info.value)
    assert "[in conv_transpose_matrix(" in str(info.value)


def test_shape_function_errors():
    with pytest.raises(convmat.ConvmatError, match=r"kernel_shape=\(3,\).*1 dimensions.*2"):
        convmat.conv_output_shape((5, 5), (3,))
    with pytest.raises(convmat.ConvmatError, match=r"in conv_output_shape"):
        convmat.conv_output_shape((5, 5), (3, 3), stride=0)
    with pytest.raises(convmat.ConvmatError, match=r"output_padding=3.*in conv_transpose"):
        convmat.conv_transpose_output_shape((5,), (3,), stride=2, output_padding=3)


def test_padding_matrix_errors():
    with pytest.raises(convmat.ConvmatError, match="padding='same' depends on a kernel"):
        convmat.padding_matrix((4, 4), "same")
    with pytest.raises(convmat.ConvmatError, match=r"mode='edge'.*in padding_matrix"):
        convmat.padding_matrix((4, 4), 1, padding_mode="edge")
    with pytest.raises(convmat.ConvmatError, match=r"channels=0"):
        convmat.padding_matrix((4, 4), 1, channels=0)
    with pytest.raises(convmat.ConvmatError, match=r"format='matrix'"):
        convmat.padding_matrix((4, 4), 1, format="matrix")
    with pytest.raises(convmat.ConvmatError, match=r"reflect.*input size 2"):
        convmat.padding_matrix((2, 4), 2, padding_mode="reflect")


def _must_not_build(*args, **kwargs):
    raise AssertionError("the engine ran before the input was validated")


@pytest.mark.parametrize("call", [
    lambda: convmat.conv_matrix(W3, (5, 5)),
    lambda: convmat.conv_transpose_matrix(W3, (2, 2)),
    lambda: convmat.avg_pool_matrix((4, 4), 2),
    lambda: convmat.kernel_matrix(np.ones((5, 5)), (3, 3)),
])
def test_the_build_patch_intercepts(call, monkeypatch):
    """The tests above patch the engine; a valid call must hit the patch, or they prove
    nothing about "validated before anything is built"."""
    monkeypatch.setattr(_engine, "build", _must_not_build)
    with pytest.raises(AssertionError, match="engine ran"):
        call()


def test_memory_guard_refuses_before_allocating(monkeypatch):
    monkeypatch.setattr(_engine, "build", _must_not_build)
    w = np.ones((64, 64, 3, 3))
    with options.override(memory_limit="1M"):
        with pytest.raises(convmat.ConvmatError) as info:
            convmat.conv_matrix(w, (256, 256), padding=1)
    message = str(info.value)
    expected_nnz = 64 * 64 * (254 * 3 + 2 * 2) ** 2
    assert f"{expected_nnz:,} stored entries" in message
    assert "memory limit of 1.0 MiB" in message
    assert "convmat.conv_operator" in message and "memory_limit" in message
    with options.override(memory_limit="1M"):
        with pytest.raises(convmat.ConvmatError, match="conv_transpose_matrix of shape"):
            convmat.conv_transpose_matrix(w, (256, 256), padding=1)


def test_memory_limit_option_errors():
    with pytest.raises(convmat.ConvmatError, match="memory_limit='lots'"):
        options.set(memory_limit="lots")
    with pytest.raises(convmat.ConvmatError, match="must be positive"):
        options.set(memory_limit=0)
    with pytest.raises(convmat.ConvmatError, match="option 'colour'"):
        options.set(colour=True)
    assert options.parse_bytes("4G") == 4 * 2**30
    assert options.parse_bytes("1.5e3") == 1500


def test_context_added_once():
    """An error crossing two public boundaries carries the outer call's context only."""
    with pytest.raises(convmat.ConvmatError) as info:
        convmat.conv_transpose_matrix(W3, (2, 2), stride=2, output_padding=(2, 0))
    assert str(info.value).count("[in ") == 1
    assert "conv_transpose_matrix(" in str(info.value)
