"""Hostile input: the memory guard cannot be bypassed, no silent wrong value, no stray exception.

Refusals of huge builds run in a subprocess whose address space is capped (``RLIMIT_AS``) and
which has a timeout: a refusal that allocated first would die of ``MemoryError`` or run out
of time instead of printing the ConvmatError. Exact values are checked against Python
integers and the tap-by-tap oracle of ``tests/oracle.py``.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convmat
from convmat import geometry, options, symbolic, transposed
from convmat._memory import estimate_bytes, kong_lucey_bytes
from convmat.arithmetic import relationship
from convmat.cli import main

from .conftest import requires_torch, torch
from .oracle import direct_matrix

ROOT = Path(__file__).resolve().parent.parent
#: address space of a refusing subprocess: the interpreter with numpy, scipy and sympy loaded
#: takes about 320 MiB of it; a refusal must stay far below the memory it refuses
CAP = 1 << 30


def _capped(code: str, *, env: dict | None = None, timeout: float = 60.0):
    """Run ``code`` in a fresh interpreter with the address space capped at :data:`CAP`."""
    prelude = ("import resource\n"
               f"resource.setrlimit(resource.RLIMIT_AS, ({CAP}, {CAP}))\n")
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True,
        text=True, timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})}, check=False)


# ------------------------------------------------------------------- the guard, closed form


@given(st.integers(1, 40), st.integers(1, 9), st.integers(1, 7), st.integers(1, 7),
       st.integers(0, 40), st.integers(0, 60))
def test_axis_entries_is_the_tap_count(i, k, s, d, b, o):
    """The closed form equals the count of every (position, tap) pair landing in the input,
    enumerated by brute force."""
    brute = sum(1 for t in range(o) for j in range(k) if 0 <= t * s - b + j * d < i)
    assert geometry.axis_entries(i, k, s, d, b, o) == brute


@given(st.integers(0, 60), st.integers(1, 30), st.integers(-100, 100), st.integers(-500, 500))
def test_floor_sum(n, m, a, b):
    assert geometry.floor_sum(n, m, a, b) == sum((a * t + b) // m for t in range(n))


def test_axis_entries_of_huge_axes_is_exact_and_instant():
    i = 10**18
    assert geometry.axis_entries(i, 3, 1, 1, 0, i - 2) == 3 * (i - 2)
    assert geometry.axis_entries(5, 3, 1, 1, 10**18, 2 * 10**18 + 3) == 15  # every tap once
    geom = geometry.convolution_geometry((6, 6), (3, 3), padding=10**9)
    assert geom.nnz_upper_bound() == (6 * 3) ** 2


BUILDS = [  # (weight, input_shape, kwargs): zero padding, padding modes, empty rows, 1-D, N-D
    (np.ones(2), (200_000,), {}),
    (np.ones(2), (50_000,), dict(padding=50_000)),
    (np.ones(1), (1_000_000,), {}),
    (np.ones((3, 3)), (300, 300), dict(padding=1, padding_mode="reflect")),
    (np.ones((3, 3)), (200, 200), dict(padding=100)),
    (np.ones(2000), (2000,), dict(padding="full")),
    (np.ones((4, 3, 3, 3)), (60, 60), dict(stride=2, padding=1)),
    (np.ones(5), (100_000,), dict(padding=2, padding_mode="circular")),
]


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "bsr", "lil", "dok"])
@pytest.mark.parametrize("weight, shape, kw", BUILDS[:4] + BUILDS[6:])
def test_estimate_covers_the_peak(weight, shape, kw, fmt):
    """tracemalloc's peak of a build (numpy and SciPy report their buffers to it) stays
    under the guard's estimate, for every format the result is converted to."""
    if fmt in ("lil", "dok"):
        shape = tuple(max(3, v // 20) for v in shape)
    geom = geometry.convolution_geometry(shape, weight.shape, **kw)
    _, estimate = estimate_bytes(geom, 8, transposed=False, format=fmt)
    tracemalloc.start()
    try:
        matrix = convmat.conv_matrix(weight, shape, format=fmt, **kw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert matrix.format == fmt
    assert peak <= estimate, (peak, estimate)


@pytest.mark.parametrize("weight, shape, kw", BUILDS)
def test_estimate_covers_the_peak_of_csr_and_transpose(weight, shape, kw):
    for transpose in (False, True):
        if transpose and set(kw) - {"stride"}:  # paddings of a forward layer only
            continue
        build = convmat.conv_transpose_matrix if transpose else convmat.conv_matrix
        if transpose:
            geom = geometry.transposed_geometry(shape, weight.shape, **kw)
        else:
            geom = geometry.convolution_geometry(shape, weight.shape, **kw)
        _, estimate = estimate_bytes(geom, 8, transposed=transpose)
        tracemalloc.start()
        try:
            build(weight, shape, **kw)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak <= estimate, (transpose, peak, estimate)


@pytest.mark.parametrize("weight, shape, kw", [
    (np.ones(3), (3,), dict(stride=3000)),
    (np.ones((8, 8, 3, 3)), (96, 96), dict(stride=2)),
    (np.ones((3, 3)), (300, 300), dict(stride=3, padding=1)),
    (np.ones((2, 2, 5, 5)), (90, 90), dict(stride=(2, 3), dilation=2)),
])
def test_kong_lucey_estimate_covers_its_peak(weight, shape, kw):
    geom = geometry.convolution_geometry(shape, weight.shape, **kw)
    unit = geometry.convolution_geometry(geom.padded_shape, weight.shape, stride=geom.stride,
                                         dilation=geom.dilation)
    kshape = tuple(-(-(d * (k - 1) + 1) // s)
                   for k, s, d in zip(geom.kernel_shape, geom.stride, geom.dilation))
    estimate = kong_lucey_bytes(unit, 8, math.prod(geom.stride), kshape)
    tracemalloc.start()
    try:
        convmat.kong_lucey(weight, shape, **kw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= estimate, (peak, estimate)


def test_a_limit_just_over_the_estimate_is_honoured():
    """Under a limit set to the estimate, the build goes through and its peak is within it;
    one byte less and it is refused."""
    weight, shape = np.ones(3), (400_000,)
    geom = geometry.convolution_geometry(shape, weight.shape)
    _, estimate = estimate_bytes(geom, 8, transposed=False)
    with options.override(memory_limit=estimate):
        tracemalloc.start()
        try:
            convmat.conv_matrix(weight, shape)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak <= estimate
    with options.override(memory_limit=estimate - 1):
        with pytest.raises(convmat.ConvmatError, match="memory limit"):
            convmat.conv_matrix(weight, shape)


# every call the guard must refuse before allocating: run capped, each must end in the error
REFUSED = [
    "convmat.conv_matrix([1., 2.], (10**9,))",
    "convmat.conv_matrix(np.ones((3, 3)), (6, 6), padding=10**9)",
    "convmat.avg_pool_matrix((10**9,), 2)",
    "convmat.max_pool_matrix(np.ones((1, 4)), 2, padding=1, stride=1, dilation=10**9)",
    "convmat.kernel_matrix(np.ones(4), (2,), padding=10**15)",
    "convmat.conv_transpose_matrix([1., 2.], (10**9,))",
    "convmat.kong_lucey(np.ones(3), (3,), stride=10**7)",
    "convmat.polyphase(np.ones((3, 3)), (7, 7), stride=10**9)",
    "convmat.kong_lucey(np.ones((64, 64, 3, 3)), (4096, 4096), stride=2)",
    "convmat.padding_matrix((3,), 10**12)",
    "convmat.transposed.stretch_matrix((3,), 10**12)",
    "convmat.conv_operator(np.ones((3, 3)), (6, 6), padding=2**40)",
    "convmat.symbolic.conv_matrix((1000, 1000), (5, 5), stride=0)",
    "convmat.symbolic.kernel((10**5, 10**5))",
    "convmat.symbolic.conv_matrix((3,), (10**8,))",
    "convmat.symbolic.kong_lucey((3,), (7,), stride=10**8)",
    "convmat.receptive.receptive_field([{'kernel': 3}], input_shape=(10**30,))",
    "convmat.text.to_text(convmat.conv_matrix([1.], (30000,)), max_rows=10**6, "
    "max_cols=10**6)",
]


def test_huge_builds_are_refused_at_once_under_a_memory_cap():
    """Each call ends in a ConvmatError, in a process that cannot allocate 1 GiB."""
    code = """
        import time, numpy as np, convmat, convmat.symbolic, convmat.text, convmat.transposed
        import convmat.receptive
        for call in CALLS:
            start = time.perf_counter()
            try:
                eval(call)
            except convmat.ConvmatError:
                print("refused %.4f" % (time.perf_counter() - start))
            else:
                print("built")
        import resource
        print("maxrss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """.replace("CALLS", repr(REFUSED))
    with_limit = _capped(code, env={"CONVMAT_MEMORY_LIMIT": "512M"}, timeout=120)
    assert with_limit.returncode == 0, with_limit.stderr[-2000:]
    lines = with_limit.stdout.split("\n")
    for call, line in zip(REFUSED, lines):
        assert line.startswith("refused"), (call, line)
        assert float(line.split()[1]) < 1.0, (call, line)  # generous: microseconds when idle


def test_format_conversions_are_counted():
    w = np.ones((4, 3, 3, 3))
    with options.override(memory_limit="20M"):
        convmat.conv_matrix(w, (60, 60), stride=2, padding=1, format="csc")
        with pytest.raises(convmat.ConvmatError, match="format='dia'"):
            convmat.conv_matrix(w, (60, 60), stride=2, padding=1, format="dia")
        with pytest.raises(convmat.ConvmatError, match="memory limit"):
            convmat.conv_matrix(w, (60, 60), stride=2, padding=1, format="dok")
    # a banded matrix converts to dia as before
    assert convmat.conv_matrix([1, 2, 3], (10,), format="dia").offsets.tolist() == [0, 1, 2]


# ------------------------------------------------------------------- exact values


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.uint16, np.bool_])
@pytest.mark.parametrize("mode", ["replicate", "reflect", "circular"])
def test_padding_mode_sums_are_exact(dtype, mode):
    """Duplicate taps are summed in a dtype that holds the sum: compared with Python ints."""
    info = np.iinfo(dtype) if dtype != np.bool_ else None
    values = [True, True, True] if info is None else [info.max, info.max, info.max // 2 + 1]
    w = np.array(values, dtype=dtype)
    A = convmat.conv_matrix(w, (3,), padding=2, padding_mode=mode)
    exact = direct_matrix((3,), w.astype(object).reshape(1, 1, 3), stride=(1,),
                          pads=((2, 2),), dilation=(1,), mode=mode)
    assert A.dtype == np.int64
    assert A.toarray().tolist() == exact.tolist()
    B = convmat.conv_transpose_matrix(w, (5,), padding=2, padding_mode=mode)
    assert B.toarray().tolist() == exact.T.tolist()


def test_int8_replicate_example_of_the_report():
    A = convmat.conv_matrix(np.array([100, 100], np.int8), (3,), padding=1,
                            padding_mode="replicate")
    assert A[0, 0] == 200


def test_int64_sums_that_could_overflow_are_refused():
    w = np.array([2**62, 2**62], dtype=np.int64)
    with pytest.raises(convmat.ConvmatError, match="overflow int64"):
        convmat.conv_matrix(w, (3,), padding=1, padding_mode="replicate")
    assert convmat.conv_matrix(w, (3,), padding=1).dtype == np.int64  # zeros: no sums


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "bsr", "lil", "dok", "dia"])
def test_float16_is_stored_as_float32(fmt):
    w = np.array([0.5, 1.5, -2], dtype=np.float16)
    A = convmat.conv_matrix(w, (5,), format=fmt)
    assert A.dtype == np.float32 and A.format == fmt
    np.testing.assert_array_equal(A.toarray(), convmat.conv_matrix(w.astype(np.float32),
                                                                   (5,)).toarray())
    assert convmat.kernel_matrix(np.ones(5, np.float16), (3,)).dtype == np.float32
    assert convmat.padding_matrix((3,), 1, dtype=np.float16).dtype == np.float32
    assert convmat.avg_pool_matrix((4,), 2, dtype="float16").toarray().dtype == np.float32


# ------------------------------------------------------------------- refused, clearly

OUT_OF_RANGE = [
    (convmat.conv_matrix, ([1, 2], (10,)), dict(stride=2**63)),
    (convmat.conv_matrix, ([1, 2], (2**63,)), {}),
    (convmat.conv_matrix, ([1, 2], (10**30,)), {}),
    (convmat.conv_matrix, ([1, 2], (10,)), dict(padding=2**62)),
    (convmat.conv_matrix, ([1, 2], (10,)), dict(stride=10**5000)),
    (convmat.conv_matrix, ([1, 2], (10, -10**5000)), {}),
    (convmat.conv_operator, (np.ones((3, 3)), (2**63, 6)), {}),
    (convmat.conv_operator, (np.ones((3, 3)), (6, 6)), dict(padding=2**62)),
    (convmat.conv_output_shape, ((5,), (3,)), dict(stride=2**63)),
    (convmat.kong_lucey, ([1, 2], (10,)), dict(stride=2**63)),
    (convmat.avg_pool_matrix, ((10,), 2**63), {}),
    (convmat.padding_matrix, ((10,), 10**30), {}),
    (options.set, (), dict(memory_limit=10**5000)),
]


@pytest.mark.parametrize("function, args, kwargs", OUT_OF_RANGE)
def test_out_of_range_integers(function, args, kwargs):
    with pytest.raises(convmat.ConvmatError) as info:
        function(*args, **kwargs)
    assert len(str(info.value)) < 600  # a 5,000-digit number is never printed whole


FLAGS = [
    (lambda v: convmat.conv_matrix([1, 2], (4,), flip=v), "flip"),
    (lambda v: convmat.conv_transpose_matrix([1, 2], (4,), flip=v), "flip"),
    (lambda v: convmat.conv_operator([1, 2], (4,), flip=v), "flip"),
    (lambda v: convmat.kernel_matrix(np.ones(4), (2,), flip=v), "flip"),
    (lambda v: convmat.avg_pool_matrix((4,), 2, count_include_pad=v), "count_include_pad"),
    (lambda v: convmat.to_latex(np.eye(2), standalone=v), "standalone"),
    (lambda v: options.set(force_int64=v), "force_int64"),
    (lambda v: convmat.explain_shape((4,), (2,), transposed=v), "transposed"),
    (lambda v: convmat.kong_lucey([1, 2], (4,), stride=2).strided_matrix(padded=v), "padded"),
]


@pytest.mark.parametrize("call, name", FLAGS)
@pytest.mark.parametrize("value", ["False", "no", 0, 1, None, np.array([True, False])])
def test_flags_take_bools_only(call, name, value):
    with options.override():
        with pytest.raises(convmat.ConvmatError, match=f"{name}="):
            call(value)


@pytest.mark.parametrize("call, name", FLAGS)
def test_flags_accept_numpy_bools(call, name):
    with options.override():
        call(np.bool_(False))
        call(True)


@pytest.mark.parametrize("dtype", ["foo", str, object, "U3", [("a", int)], "datetime64[s]"])
def test_dtype_is_validated(dtype):
    for call in (lambda: convmat.padding_matrix((3,), 1, dtype=dtype),
                 lambda: transposed.stretch_matrix((3,), 2, dtype=dtype),
                 lambda: convmat.avg_pool_matrix((4,), 2, dtype=dtype)):
        with pytest.raises(convmat.ConvmatError, match="dtype="):
            call()


@pytest.mark.parametrize("value, needle", [
    (float("inf"), "finite"), (0.5, "positive"), (0, "positive"), (-1, "positive"),
    ("lots", "not a number of bytes"), (True, "bool"), (None, "not a number of bytes")])
def test_memory_limit_values(value, needle):
    with pytest.raises(convmat.ConvmatError, match=needle):
        options.set(memory_limit=value)


@pytest.mark.parametrize("variable, value, needle", [
    ("CONVMAT_MEMORY_LIMIT", "lots", "CONVMAT_MEMORY_LIMIT='lots'"),
    ("CONVMAT_MEMORY_LIMIT", "0.5", "at least one byte"),
    ("CONVMAT_MEMORY_LIMIT", "inf", "CONVMAT_MEMORY_LIMIT='inf'"),
    ("CONVMAT_INDEX_DTYPE", "int128", "CONVMAT_INDEX_DTYPE='int128'"),
])
def test_a_bad_environment_fails_at_use_not_at_import(variable, value, needle):
    result = _capped("""
        import convmat
        print("imported")
        try:
            convmat.conv_matrix([1, 2], (4,))
        except convmat.ConvmatError as exc:
            print("refused:", exc)
        with convmat.options.override(memory_limit="1G", force_int64=False):
            print(convmat.conv_matrix([1, 2], (4,)).nnz)
        """, env={variable: value})
    assert result.returncode == 0, result.stderr
    imported, refused, built = result.stdout.splitlines()
    assert imported == "imported" and needle in refused and built == "6"
    demo = subprocess.run([sys.executable, "-m", "convmat", "demo"], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, variable: value},
                          timeout=120, check=False)
    assert demo.returncode == 1 and "Traceback" not in demo.stderr
    assert len(demo.stderr.strip().splitlines()) == 1 and needle in demo.stderr


def test_index_dtype_environment_int64():
    result = _capped("import convmat; print(convmat.conv_matrix([1, 2], (4,)).indices.dtype)",
                     env={"CONVMAT_INDEX_DTYPE": "int64"})
    assert result.stdout.strip() == "int64"


STRAY = [
    (lambda: convmat.kernel_matrix(np.array(5.0), (1,)), "x=array(5.) is a scalar"),
    (lambda: convmat.receptive_field(None), "layers=None"),
    (lambda: relationship(6).paper(i=6, k=3, s=0, p=1), "s=0 must be >= 1"),
    (lambda: symbolic.inputs(None), "matrix=None"),
    (lambda: convmat.latex.equations_to_latex(None), "equations must be"),
    (lambda: convmat.kong_lucey([1, 2, 3], (7,), stride=2).text(max_size="5"), "max_size='5'"),
    (lambda: convmat.polyphase([1, 2, 3], (6,), stride=2).block_weight(2, 0), "rho=2"),
    (lambda: convmat.polyphase([1, 2, 3], (6,), stride=2).block_weight(0, -1), "r=-1"),
    (lambda: convmat.conv_matrix(np.ma.masked_array([1., 2.], mask=[0, 1]), (3,)),
     "1 masked entries"),
    (lambda: symbolic.product(symbolic.conv_matrix((2,), (3,)), y=""), "y=''"),
    (lambda: symbolic.product(symbolic.conv_matrix((2,), (3,)), x=""), "x=''"),
    (lambda: convmat.max_pool_matrix(np.ones((1, 0)), 2), "x.shape=(1, 0)"),
    (lambda: convmat.avg_pool_matrix((2,), 3), "kernel_shape=(3,)"),
    (lambda: convmat.text.to_text("bad"), "matrix must be"),
    (lambda: convmat.text.spy(np.eye(3), width=0), "width=0"),
    (lambda: convmat.text.kong_lucey_text(None), "kl=None"),
    (lambda: convmat.receptive_field(np.array(3)), "layers=array(3)"),
    (lambda: convmat.receptive_field([(10**5000, 1)]), "layers[0]=(<int of"),
    (lambda: symbolic.conv_matrix((10**5000, 1), (5,)), "weight.shape=<int of"),
    (lambda: convmat.to_latex(np.eye(2), blocks=10**5000), "blocks=<int of"),
    (lambda: convmat.to_latex(np.eye(2), transposed="no"), "transposed='no'"),
    (lambda: options.get(["memory_limit"]), "option ['memory_limit'] does not exist"),
]


def test_integers_past_printing_are_typeset():
    """Python refuses to print an int of more than 4300 digits; LaTeX gets its leading
    digits and exponent."""
    tex = convmat.to_latex(np.array([[123456 * 10**5000, -5]], dtype=object))
    assert r"1.2345 \times 10^{5005}" in tex and "-5" in tex


@pytest.mark.parametrize("call, needle", STRAY)
def test_no_stray_exception(call, needle):
    with pytest.raises(convmat.ConvmatError) as info:
        call()
    assert needle in str(info.value)


def test_block_weight_in_range_is_unchanged():
    pp = convmat.polyphase([1, 2, 3], (6,), stride=2)
    assert pp.block_weight(np.int64(1), 0).ravel().tolist() == [0, 2]


def test_unmasked_masked_arrays_read_as_their_data():
    m = np.ma.masked_array([1., 2.])
    np.testing.assert_array_equal(convmat.conv_matrix(m, (3,)).toarray(),
                                  convmat.conv_matrix([1., 2.], (3,)).toarray())


@requires_torch
def test_tensors_that_require_grad_are_detached():
    w = torch.arange(1., 7.).reshape(2, 3).requires_grad_()
    x = torch.arange(20.).reshape(4, 5).requires_grad_()
    expected = convmat.conv_matrix(w.detach().numpy(), (4, 5))
    assert (convmat.conv_matrix(w, (4, 5)) != expected).nnz == 0
    assert (convmat.conv_transpose_matrix(w, (4, 5))
            != convmat.conv_transpose_matrix(w.detach().numpy(), (4, 5))).nnz == 0
    assert convmat.kernel_matrix(x, (2, 3)).shape == (9, 6)
    assert convmat.max_pool_matrix(x[None], 2).shape == (4, 20)
    assert (convmat.conv_operator(w, (4, 5)) @ np.ones(20)).shape == (9,)
    kl = convmat.kong_lucey(w, (4, 5), stride=2)
    assert kl.space_to_depth(x).shape == (4, 2, 3)
    assert convmat.polyphase(w, (4, 5), stride=2).matrix().shape == (9, 20)
    assert convmat.strided_weight(torch.tensor(kl.unit_weight, requires_grad=True),
                                  (2, 3), stride=2).shape == (1, 1, 2, 3)
    assert transposed.equivalent_convolution(w, (4, 5)).weight.shape == (2, 3)
    assert symbolic.conv_matrix(torch.ones(2, requires_grad=True), (3,)).shape == (2, 3)


def test_permutation_indices_are_int32_unless_needed():
    kl = convmat.kong_lucey([1, 2, 3], (7,), stride=2)
    pp = convmat.polyphase([1, 2, 3], (6,), stride=2)
    for matrix in (kl.permutation, pp.row_permutation, pp.column_permutation, *kl.blocks):
        assert matrix.indices.dtype == np.int32 and matrix.indptr.dtype == np.int32
    with options.override(force_int64=True):
        assert convmat.kong_lucey([1, 2, 3], (7,), stride=2).permutation.indices.dtype \
            == np.int64


# ------------------------------------------------------------------- command line


def _cli(*argv, env=None, stdout=None):
    code = (f"import sys; sys.argv = ['convmat', *{list(argv)!r}]\n"
            "from convmat.cli import run\nrun()")
    prelude = ("import resource\n"
               f"resource.setrlimit(resource.RLIMIT_AS, ({CAP}, {CAP}))\n")
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=stdout is None,
                          stdout=stdout, stderr=subprocess.PIPE if stdout else None, text=True,
                          timeout=120, cwd=ROOT, env={**os.environ, **(env or {})}, check=False)


BIG = "9" * 5000
CLI_REFUSED = [
    (["matrix", "--input", "5", "--kernel", BIG], "5000 digits"),
    (["matrix", "--input", BIG, "--kernel", "3"], "5000 digits"),
    (["matrix", "--input", "5", "--kernel", "3", "--stride", BIG], "5000 digits"),
    (["matrix", "--input", "5", "--kernel", "3", "--padding", f"1:{BIG}"], "5000 digits"),
    (["matrix", "--input", "5", "--kernel", "3", "--weights", f"{BIG},1,1"], "5000 digits"),
    (["matrix", "--input", "5", "--kernel", "3", "--max-size", BIG], "--max-size"),
    (["matrix", "--input", "5", "--kernel", "3", "--in-channels", BIG], "--in-channels"),
    (["matrix", "--input", "1000000000", "--kernel", "1000000000"], "memory limit"),
    (["matrix", "--input", "40000x40000", "--kernel", "40000x40000"], "memory limit"),
    (["matrix", "--input", "5", "--kernel", "3", "--in-channels", "100000", "--out-channels",
      "100000"], "memory limit"),
    (["kong-lucey", "--input", "7", "--kernel", "3", "--stride", "1000000000"], "memory limit"),
    (["matrix", "--input", "5", "--kernel", "3", "--weights", "9999999999999999999,1,1"],
     "64-bit"),
]


@pytest.mark.parametrize("argv, needle", CLI_REFUSED, ids=lambda v: str(v)[:40])
def test_cli_refuses_in_one_line(argv, needle):
    result = _cli(*argv, env={"CONVMAT_MEMORY_LIMIT": "512M"})
    # a malformed option is a usage error (2); a value convmat refuses is a ConvmatError (1)
    usage = needle in ("--max-size", "--in-channels", "5000 digits", "64-bit")
    assert result.returncode == (2 if usage else 1) and result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("convmat: error:") and needle in lines[0]
    assert len(lines[0]) < 800


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_cli_full_device():
    with open("/dev/full", "w") as full:
        result = _cli("matrix", "--input", "30x30", "--kernel", "3x3", "--max-size", "4000",
                      stdout=full)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "convmat: error: cannot write the output (No space left on device)"]
    result = _cli("matrix", "--input", "5", "--kernel", "3", "-o", "/dev/full")
    assert result.returncode == 2 and "cannot write the file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_output_dash_is_stdout(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["matrix", "--input", "3", "--kernel", "2", "-o", "-"]) == 0
    assert capsys.readouterr().out.split() == ["1", "2", ".", ".", "1", "2"]
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("name", [r"\input{/etc/passwd}", "w}\\input{x", "a b", "", "w_1",
                                  "$w$", r"\alpha\input", "1w"])
def test_cli_symbol_names_are_checked(name, capsys):
    code = main(["kong-lucey", "--input", "7", "--kernel", "3", "--stride", "2", "--symbolic",
                 "--format", "latex", "--standalone", "--name", name])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "is not a symbol name" in err


@pytest.mark.parametrize("name", ["h", "W2", r"\theta", r"\alpha1"])
def test_cli_symbol_names_accepted(name, capsys):
    code = main(["kong-lucey", "--input", "7", "--kernel", "3", "--stride", "2", "--symbolic",
                 "--format", "latex", "--name", name])
    assert code == 0 and f"{name}_{{0}}" in capsys.readouterr().out


GUARDED = [  # every builder, at sizes where its temporaries dominate Python's noise
    lambda: convmat.conv_matrix(np.ones((4, 2, 3, 3)), (80, 80), padding=1),
    lambda: convmat.conv_matrix(np.ones(3), (300_000,), padding=1, padding_mode="reflect"),
    lambda: convmat.conv_matrix(np.ones((3, 3)), (120, 120), format="coo"),
    lambda: convmat.conv_matrix(np.ones((3, 3)), (60, 60), padding=1, format="lil"),
    lambda: convmat.conv_matrix(np.ones((3, 3)), (60, 60), format="dok"),
    lambda: convmat.conv_matrix(np.ones((2, 2, 3, 3)), (40, 40), format="dia"),
    lambda: convmat.conv_transpose_matrix(np.ones((2, 2, 3, 3)), (60, 60), stride=2),
    lambda: convmat.conv_transpose_matrix(np.ones(3), (200_000,), format="coo"),
    lambda: convmat.avg_pool_matrix((300, 300), 3, stride=1, padding=1,
                                    count_include_pad=False),
    lambda: convmat.max_pool_matrix(np.arange(2 * 200 * 200.0).reshape(2, 200, 200), 3, stride=1),
    lambda: convmat.kernel_matrix(np.ones((2, 150, 150)), (2, 2, 3, 3), padding=1),
    lambda: convmat.padding_matrix((300, 300), 2, padding_mode="reflect"),
    lambda: transposed.stretch_matrix((300, 300), 3, channels=2),
    lambda: convmat.kong_lucey(np.ones((4, 2, 3, 3)), (100, 100), stride=2, padding=1),
    lambda: convmat.polyphase(np.ones((2, 2, 3, 3)), (80, 80), stride=2),
    lambda: convmat.conv_operator(np.ones(3), (100,), padding=200_000),
    lambda: symbolic.conv_matrix((3, 3), (30, 30)),
    lambda: symbolic.conv_transpose_matrix((2, 2), (20, 20), stride=2),
    lambda: symbolic.kernel((150, 150)),
    lambda: symbolic.kong_lucey((3, 3), (20, 20), stride=2),
    lambda: convmat.text.to_text(convmat.conv_matrix([1.], (300,)), max_rows=300,
                                 max_cols=300),
]


@pytest.mark.filterwarnings("ignore::scipy.sparse.SparseEfficiencyWarning")  # dia, on purpose
@pytest.mark.parametrize("build", GUARDED, ids=range(len(GUARDED)))
def test_the_guard_refuses_what_would_exceed_the_limit(build):
    """Measure a build's peak (tracemalloc sees numpy's, SciPy's and Python's allocations);
    with the limit one byte under it the guard must refuse the build, since its estimate
    may not fall short of what the build really takes."""
    build()  # warm caches (sympy's, SciPy's) so that only the build itself is measured
    tracemalloc.start()
    try:
        build()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    with options.override(memory_limit=peak - 1):
        with pytest.raises(convmat.ConvmatError, match="memory limit"):
            build()
