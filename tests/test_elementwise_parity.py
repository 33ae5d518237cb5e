"""Elementwise, dtype, factory and matmul corner cases against torch, one named test per fixed behaviour.

Each test runs the same code on minitorch_lsm and on torch (``check_both``: equal results, or the same
exception class and message) or compares gradients after the same backward pass. Where PyTorch's kernels
are reproducible exactly (float16 arithmetic, fused multiply-adds, linspace), values are compared bit for bit.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import minitorch_lsm as mt
from helpers import assert_same, assert_same_error, check_both

nan, inf = float("nan"), float("inf")
LIBS = [pytest.param(mt, id="mt"), pytest.param(torch, id="torch")]


def grads_both(fn, values, upstream, dtype="float32"):
    """Run ``fn(lib, *leaves)`` in both libraries, backpropagate ``upstream``; compare outputs and leaf grads."""
    results = []
    for lib in (mt, torch):
        leaves = [lib.tensor(v, dtype=getattr(lib, dtype), requires_grad=True) for v in values]
        out = fn(lib, *leaves)
        out.backward(lib.tensor(upstream, dtype=getattr(lib, dtype)))
        results.append((out, [leaf.grad for leaf in leaves]))
    (mt_out, mt_grads), (torch_out, torch_grads) = results
    assert_same(mt_out, torch_out)
    for i, (a, e) in enumerate(zip(mt_grads, torch_grads)):
        assert (a is None) == (e is None), f"grad {i}: {a!r} vs {e!r}"
        if e is not None:
            assert_same(a, e, check_requires_grad=False, what=f"grad {i}")
    return mt_out


def assert_bitwise(actual: mt.Tensor, expected: torch.Tensor) -> None:
    """Same dtype, same bits: equal values, equal NaN positions and equal signs of zero."""
    a, e = np.asarray(actual.detach().numpy()), expected.detach().numpy()
    assert a.dtype == e.dtype and a.shape == e.shape
    both_nan = np.isnan(a) & np.isnan(e) if a.dtype.kind == "f" else np.zeros(a.shape, bool)
    same = (a == e) & ((np.signbit(a) == np.signbit(e)) if a.dtype.kind == "f" else True)
    bad = ~(same | both_nan)
    assert not bad.any(), f"{int(bad.sum())} of {a.size} differ, e.g. {a[bad][:4]} vs {e[bad][:4]}"


# ====================================================================== 1. piecewise ops at NaN
X_NAN = [nan, -1.0, 0.0, 1.0, 0.5, 2.0]


def test_relu_backward_passes_grad_at_nan_input():
    grads_both(lambda lib, x: lib.relu(x), [X_NAN], [1.0] * 6)


def test_relu_backward_nan_upstream_does_not_leak_into_masked_positions():
    grads_both(lambda lib, x: lib.relu(x), [X_NAN], [nan] * 6)


def test_relu_keeps_negative_zero():
    check_both(lambda lib: lib.relu(lib.tensor([-0.0, -1.0, nan])))


@pytest.mark.parametrize("upstream", [1.0, nan])
def test_abs_backward_at_nan(upstream):
    grads_both(lambda lib, x: lib.abs(x), [X_NAN], [upstream] * 6)


def test_sign_of_nan_is_zero_and_sign_has_zero_gradient():
    check_both(lambda lib: lib.sign(lib.tensor([nan, -0.0, 0.0, -2.0, inf])))
    out = grads_both(lambda lib, x: lib.sign(x), [X_NAN], [nan] * 6)
    assert out.grad_fn.name() == "SignBackward0"


def test_sign_of_integer_and_bool_tensors():
    check_both(lambda lib: lib.sign(lib.tensor([-3, 0, 2])))
    check_both(lambda lib: lib.sign(lib.tensor([3, 0, 2], dtype=lib.uint8)))
    check_both(lambda lib: lib.sign(lib.tensor([True, False])))


@pytest.mark.parametrize("upstream", [1.0, nan])
@pytest.mark.parametrize("bounds", [(0, 1), (0, None), (None, 0), (nan, None), (2, 1)], ids=str)
def test_clamp_number_bounds_backward_at_nan(bounds, upstream):
    out = grads_both(lambda lib, x: x.clamp(*bounds), [X_NAN], [upstream] * 6)
    assert out.grad_fn.name() == "ClampBackward1"


@pytest.mark.parametrize("upstream", [1.0, nan])
@pytest.mark.parametrize("bounds", [
    ([0.0] * 6, [1.0] * 6), ([nan, 0.0, nan, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, nan, 1.0, 1.0]),
    ([2.0] * 6, [1.0] * 6)], ids=["plain", "nan-bounds", "min>max"])
def test_clamp_tensor_bounds_backward(bounds, upstream):
    out = grads_both(lambda lib, x, lo, hi: x.clamp(lo, hi), [X_NAN, *bounds], [upstream] * 6)
    assert out.grad_fn.name() == "ClampBackward0"


def test_clamp_one_tensor_bound_backward():
    grads_both(lambda lib, x, lo: x.clamp(min=lo), [X_NAN, [0.0, 0.0, 0.0, 0.0, 0.0, nan]], [1.0] * 6)
    grads_both(lambda lib, x, hi: x.clamp(max=hi), [X_NAN, [0.0, 0.0, 0.0, 0.0, 0.0, nan]], [1.0] * 6)


@pytest.mark.parametrize("upstream", [1.0, nan])
@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_backward_at_nan_and_ties(op, upstream):
    grads_both(lambda lib, a, b: getattr(lib, op)(a, b), [[nan, 1.0, 1.0, 2.0, nan], [1.0, nan, 1.0, 1.0, nan]],
               [upstream] * 5)


def test_where_backward_with_nan_upstream_and_nan_inputs():
    grads_both(lambda lib, a, b: lib.where(lib.tensor([True, False]), a, b), [[1.0, 2.0], [3.0, 4.0]], [nan, nan])
    grads_both(lambda lib, a, b: lib.where(lib.tensor([True, False]), a, b), [[nan, nan], [nan, nan]], [1.0, 1.0])


# ====================================================================== 2. alpha is applied after promotion
def test_add_alpha_applies_after_promotion():
    check_both(lambda lib: lib.add(lib.tensor([0.5]), lib.tensor([200], dtype=lib.uint8), alpha=-1))
    check_both(lambda lib: lib.sub(lib.tensor([0.5]), lib.tensor([200], dtype=lib.uint8), alpha=-1))


@pytest.mark.parametrize("alpha", [2, 0, True, False])
def test_add_alpha_on_bool_stays_bool(alpha):
    check_both(lambda lib: lib.add(lib.tensor([True, False]), lib.tensor([True, True]), alpha=alpha))


@pytest.mark.parametrize("call", [
    "lib.add(lib.tensor([1], dtype=lib.uint8), 200, alpha=300)",
    "lib.add(lib.tensor([1], dtype=lib.int32), lib.tensor([3], dtype=lib.int32), alpha=2**40)",
    "lib.add(lib.tensor([1.], dtype=lib.float16), lib.tensor([2.], dtype=lib.float16), alpha=1e5)",
    "lib.add(lib.tensor([1]), lib.tensor([2]), alpha=1.5)",
    "lib.add(lib.tensor([1.]), lib.tensor([2.]), alpha=True)",
    "lib.add(lib.tensor([1, 2, 3]), lib.tensor([1, 2]), alpha=1.5)",
    "lib.sub(lib.tensor([1], dtype=lib.uint8), 2, alpha=255)",
    "lib.sub(lib.tensor([1], dtype=lib.uint8), 2, alpha=256)",
    "lib.sub(lib.tensor([1]), 2, alpha=-2**63)",
    "lib.add(lib.tensor([1], dtype=lib.uint8), lib.tensor([200], dtype=lib.uint8), alpha=2)",
])
def test_add_sub_alpha_checks_and_wrapping(call):
    check_both(lambda lib: eval(call))


@pytest.fixture
def torch_on_one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("size", [4000, 150_016])  # 150,016: more than two blocks of the wide computation
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_add_alpha_rounds_once_like_torchs_fused_kernel(dtype, size, rng, torch_on_one_thread):
    """torch's vectorised loop fuses the multiply-add; the scalar loop at the end of each thread's share of
    the elements does not (there it rounds twice). On one thread, with a size that is a multiple of the
    vector width, every element goes through the fused loop."""
    a, b = rng.standard_normal(size) * 10, rng.standard_normal(size) * 3
    for alpha in (0.1, 3.3, -0.7):
        mt_out = mt.add(mt.tensor(a, dtype=getattr(mt, dtype)), mt.tensor(b, dtype=getattr(mt, dtype)), alpha=alpha)
        torch_out = torch.add(torch.tensor(a, dtype=getattr(torch, dtype)), torch.tensor(b, dtype=getattr(torch, dtype)),
                              alpha=alpha)
        assert_bitwise(mt_out, torch_out)
        assert_bitwise(mt.sub(mt.tensor(a, dtype=getattr(mt, dtype)), 0.37, alpha=alpha),
                       torch.sub(torch.tensor(a, dtype=getattr(torch, dtype)), 0.37, alpha=alpha))


@pytest.mark.parametrize("call", [
    "lib.rsub(lib.tensor([1., 2.]), lib.tensor([3., 4.]), alpha=2)",
    "lib.rsub(lib.tensor([1., 2.]), 10, alpha=3)",
    "lib.rsub(lib.tensor([1, 2]), 1.5)",
    "lib.rsub(lib.tensor([1, 2]), lib.tensor([1.5], dtype=lib.float64), alpha=2)",
    "lib.rsub(lib.tensor([200], dtype=lib.uint8), 3, alpha=2)",
    "lib.rsub(lib.tensor([True]), lib.tensor([1]))",
    "lib.rsub(lib.tensor([1]), 2, alpha=1.5)",
    "lib.rsub(lib.tensor([1., 2.], requires_grad=True), 2).grad_fn.name()",
    "lib.rsub(lib.tensor([1., 2.], requires_grad=True), lib.tensor([1.])).grad_fn.name()",
    "lib.rsub(lib.tensor([1., 2.]), 10, 3)",  # alpha by position: only with a number other
    "lib.rsub(3, lib.tensor([1.]))",
    "lib.rsub(lib.tensor([1., 2.], requires_grad=True), lib.tensor(5.), 2)",
    "lib.rsub(lib.tensor([1., 2.]), lib.tensor(5., requires_grad=True), 2)",
    "(3 - lib.tensor([1., 2.], requires_grad=True)).grad_fn.name()",
    "lib.sub(3, lib.tensor([1., 2.], requires_grad=True)).grad_fn.name()",
])
def test_rsub_is_sub_swapped(call):
    check_both(lambda lib: eval(call))


def test_rsub_alpha_by_position_with_a_tensor_other_is_a_type_error():
    for lib in (mt, torch):
        with pytest.raises(TypeError, match=r"^rsub\(\) received an invalid combination of arguments - got \(Tensor, "
                                            r"Tensor, int\), but expected one of:\n \* \(Tensor input, Tensor other"):
            lib.rsub(lib.tensor([1.]), lib.tensor([2.]), 2)


@pytest.mark.parametrize("make", [
    lambda lib, x, o: lib.rsub(x, o), lambda lib, x, o: lib.rsub(x, 3), lambda lib, x, o: 3 - x,
    lambda lib, x, o: lib.sub(3, x), lambda lib, x, o: x - 3, lambda lib, x, o: lib.rsub(x, x, alpha=2),
])
def test_subtractions_list_their_inputs_in_torchs_order(make):
    """next_functions: rsub's input first; a number is an input of sub (None) but an attribute of rsub."""
    def shown(lib):
        x, o = lib.tensor([1., 2.], requires_grad=True), lib.tensor([3., 4.], requires_grad=True)
        named = {id(x): "x", id(o): "o"}
        return [None if node is None else named[id(node.variable)] for node, _ in make(lib, x, o).grad_fn.next_functions]
    assert shown(mt) == shown(torch)


def test_rsub_backward():
    grads_both(lambda lib, x, y: lib.rsub(x, y, alpha=2), [[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0])


def test_add_alpha_backward():
    grads_both(lambda lib, x, y: lib.add(x, y, alpha=2), [[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0])
    grads_both(lambda lib, x, y: lib.sub(x, y, alpha=0.5), [[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0])


# ====================================================================== 3. div with rounding modes
SPECIAL_X = [inf, -inf, nan, 0.0, -0.0, 1.0, -1.0, 7.0, -7.0, 1e30, 1e-30]
SPECIAL_Y = [2.0, -2.0, inf, -inf, 0.0, -0.0, nan, 0.5, -0.335]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_div_rounding_special_values(mode, dtype):
    def grid(lib):
        x = lib.tensor(SPECIAL_X, dtype=getattr(lib, dtype)).reshape(-1, 1).expand(11, 9)
        y = lib.tensor(SPECIAL_Y, dtype=getattr(lib, dtype)).reshape(1, -1).expand(11, 9)
        return x, y

    for make in (lambda lib: lib.div(*grid(lib), rounding_mode=mode),
                 lambda lib: lib.div(grid(lib)[0], -0.335, rounding_mode=mode)):
        assert_bitwise(make(mt), make(torch))


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_div_rounding_float16_matches_bitwise(mode, rng):
    a = (rng.standard_normal(20000) * 10).astype(np.float16)
    b = (rng.standard_normal(20000) * 3).astype(np.float16)
    assert_bitwise(mt.div(mt.from_numpy(a), mt.from_numpy(b), rounding_mode=mode),
                   torch.div(torch.from_numpy(a), torch.from_numpy(b), rounding_mode=mode))
    assert_bitwise(mt.div(mt.from_numpy(a), 0.7, rounding_mode=mode),
                   torch.div(torch.from_numpy(a), 0.7, rounding_mode=mode))


@pytest.mark.parametrize("call", [
    "lib.div(lib.tensor([3], dtype=lib.uint8), -0.335, rounding_mode='trunc')",
    "lib.div(lib.tensor([3], dtype=lib.uint8), -0.335, rounding_mode='floor')",
    "lib.div(lib.tensor([3], dtype=lib.uint8), -2, rounding_mode='trunc')",
    "lib.div(lib.tensor([inf]), 2., rounding_mode='trunc')",
    "lib.div(lib.tensor([-7, 7, -6]), 2, rounding_mode='trunc')",
    "lib.div(lib.tensor([-7, 7, -6], dtype=lib.int8), lib.tensor([2, -2, 4], dtype=lib.int8), rounding_mode='trunc')",
    "lib.div(lib.tensor([-7, 7, -6]), 0, rounding_mode='trunc')",
    "lib.div(lib.tensor([-7, 7, -6]), 0., rounding_mode='floor')",
    "lib.div(lib.tensor([True]), lib.tensor([3], dtype=lib.uint8), rounding_mode='trunc')",
    "lib.div(lib.tensor([True]), lib.tensor([True]), rounding_mode='floor')",
    "lib.div(lib.tensor([5], dtype=lib.int32), 2.5, rounding_mode='floor')",
    "lib.div(lib.tensor([5.]), 2, rounding_mode='bad')",
    "lib.div(lib.zeros(0, dtype=lib.int64), 0, rounding_mode='floor')",
    "lib.remainder(lib.zeros(0, dtype=lib.int64), 0)",
    "lib.tensor([2], dtype=lib.int32) // 2**40",
    "lib.tensor([1, 2, 3]) // lib.tensor([0, 1])",
    "lib.tensor([1, 2], dtype=lib.uint8) & lib.tensor([1., 2., 3.])",
])
def test_division_corner_cases(call):
    check_both(lambda lib: eval(call))


def test_remainder_keeps_the_sign_of_a_zero_dividend():
    def run(lib):
        x = lib.tensor(SPECIAL_X).reshape(-1, 1).expand(11, 9)
        return lib.remainder(x, lib.tensor(SPECIAL_Y).reshape(1, -1).expand(11, 9))
    assert_bitwise(run(mt), run(torch))


def test_div_rounding_has_zero_gradient():
    out = grads_both(lambda lib, x, y: lib.div(x, y, rounding_mode="trunc"), [[1.5, -2.0, nan], [2.0, 3.0, 1.0]],
                     [1.0, nan, 1.0])
    assert out.grad_fn.name() == "DivBackward2"


@pytest.mark.parametrize("code", ["x // y", "x // 2", "2 // x", "lib.floor_divide(x, y)", "2 % x"])
def test_ops_without_a_derivative_raise_in_backward(code):
    errors = []
    for lib in (mt, torch):
        x = lib.tensor([1.5, -2.0], requires_grad=True)
        y = lib.tensor([2.0, 3.0], requires_grad=True)
        out = eval(code)
        assert out.requires_grad
        with pytest.raises(RuntimeError) as info:
            out.sum().backward()
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_remainder_backward_names():
    for lib in (mt, torch):
        x = lib.tensor([1.5, -2.0], requires_grad=True)
        assert (x % 2).grad_fn.name() == "RemainderBackward0"
        assert (x % x).grad_fn.name() == "RemainderBackward1"


def test_div_backward_with_a_tiny_divisor_is_not_nan():
    grads_both(lambda lib, a, b: a / b, [[0.0, 1.0], [-2.3e-31, 3e-30]], [1.0, 1.0], dtype="float32")
    grads_both(lambda lib, a, b: a / b, [[-inf, 1.0], [1e30, 3e38]], [1.0, 1.0], dtype="float32")


def test_number_divided_by_tensor_is_reciprocal_times_number(rng):
    x = rng.standard_normal(5000).astype(np.float32)
    assert_bitwise(3.3 / mt.from_numpy(x), 3.3 / torch.from_numpy(x))
    assert_bitwise(3.3 / mt.from_numpy(x.astype(np.float16)), 3.3 / torch.from_numpy(x.astype(np.float16)))
    check_both(lambda lib: 2 / lib.tensor([4, 0]))
    out = grads_both(lambda lib, x: 2 / x, [[1.0, 4.0]], [1.0, 1.0])
    assert out.grad_fn.name() == "MulBackward0"


def test_number_minus_tensor_is_rsub():
    out = grads_both(lambda lib, x: 2 - x, [[1.0, 4.0]], [1.0, 1.0])
    assert out.grad_fn.name() == "RsubBackward1"


# ====================================================================== 4. clamp
@pytest.mark.parametrize("call", [
    "lib.tensor([0, 1, 255], dtype=lib.uint8).clamp(min=-1)",
    "lib.tensor([0, 1, 255], dtype=lib.uint8).clamp(max=-1)",
    "lib.tensor([0, 1, 255], dtype=lib.uint8).clamp(min=-255)",
    "lib.tensor([0, 1, 255], dtype=lib.uint8).clamp(min=-256)",
    "lib.tensor([0, 1, 255], dtype=lib.uint8).clamp(min=256)",
    "lib.tensor([0, 1, 255], dtype=lib.uint8).clamp(min=1.5)",
    "lib.tensor([0, 1, 255], dtype=lib.int32).clamp(min=2**31)",
    "lib.tensor([1, 2]).clamp(min=2**63 - 1)",
    "lib.tensor([0, 1, 5], dtype=lib.int32).clamp(min=2, max=3.)",
    "lib.tensor([0, 1, 5], dtype=lib.int32).clamp(min=float('nan'))",
    "lib.tensor([0., 1., 5.]).clamp(min=1e39)",
    "lib.tensor([0., 1., 5.], dtype=lib.float16).clamp(min=65519.)",
    "lib.tensor([0., 1., 5.], dtype=lib.float16).clamp(min=0.1)",
    "lib.tensor([0., 1., 5.]).clamp(min=1e-46)",
    "lib.tensor([0., 1., 5.]).clamp(3, 1)",
    "lib.tensor([0, 1, 5], dtype=lib.uint8).clamp(3, 1)",
    "lib.tensor([0., 1., 5.]).clamp(min=1, max=float('nan'))",
    "lib.tensor([True, False]).clamp(min=0)",
    "lib.tensor([True, False]).clamp(min=0.5)",
    "lib.tensor([True, False]).clamp(min=True)",
    "lib.tensor([True, False]).clamp(max=True)",
    "lib.tensor([True, False]).clamp(min=False, max=True)",
    "lib.tensor([0., 1., 5.]).clamp()",
])
def test_clamp_number_bounds(call):
    check_both(lambda lib: eval(call))


@pytest.mark.parametrize("call", [
    "lib.clamp(lib.tensor([0., 1., 5.]), lib.tensor(3.), 2.5)",
    "lib.clamp(lib.tensor([0., 1., 5.]), 1, lib.tensor(2.5))",
    "lib.clamp(lib.tensor([0, 1, 5]), lib.tensor(1.5), 3)",
    "lib.clamp(lib.tensor([0., 1., 5.]), lib.tensor([1., 2., 3.]), 2.)",
    "lib.clamp(lib.tensor([0., 1., 5.]), lib.tensor(1., requires_grad=True), 3.)",
    "lib.clamp(3., 1)",
    "lib.clamp(lib.tensor([0, 1, 5]), lib.tensor([1.5]))",
    "lib.clamp(lib.tensor([0, 1, 5], dtype=lib.uint8), lib.tensor(-1))",
    "lib.clamp(lib.tensor([0, 1, 5], dtype=lib.uint8), lib.tensor([-1]))",
    "lib.clamp(lib.tensor([0., 1, 5], dtype=lib.float16), lib.tensor([1.5]))",
    "lib.clamp(lib.tensor([0., 1, 5]), lib.tensor(1.5, dtype=lib.float64))",
    "lib.clamp(lib.tensor([0., 1, 5]), lib.tensor([[1.5], [2.]]))",
    "lib.clamp(lib.tensor([0., 1, 5]), lib.tensor([1.5, 2.]))",
    "lib.clamp(lib.tensor([0., 1, 5]), min=lib.tensor([1., 2, 3]), max=lib.tensor([0.5, 2., 2.]))",
    "lib.clamp(lib.tensor([True, False]), max=lib.tensor([True]))",
    "lib.clamp(lib.tensor([True, False]), lib.tensor([False]), lib.tensor([True]))",
])
def test_clamp_tensor_bounds_and_mixed_bounds(call):
    check_both(lambda lib: eval(call))


# ====================================================================== 5. Python numbers in float16 and integer arithmetic
@pytest.mark.parametrize("call", [
    "h(-inf) + 1e5", "h(-60000.) + 1e5", "h(-inf) - 1e5", "h(1e-3) * 1e5", "h(1e-3) / 1e-5", "h(1.) // 1e5",
    "h(inf) == 65520.", "h(inf) == 65519.", "h(1.) ** 1e5", "h(1.) ** 70000", "h(1.) ** 65504", "h(1.) ** -1e5",
    "lib.pow(1e5, h(1.))", "u8(2) ** 300", "u8(2) ** 255", "u8(2) ** -1", "lib.tensor([2], dtype=lib.int8) ** 200",
    "lib.tensor([2], dtype=lib.int32) ** 2**40", "lib.tensor([2.]) ** 1e39", "u8(2) + 300", "u8(2) * 300", "u8(2) - 300",
    "u8(2) == 258", "u8(2) | 300", "lib.tensor([1]) + 2**64", "lib.tensor([1]) ** 2**63",
    "lib.where(lib.tensor([True, False]), lib.ones(2, dtype=lib.int32), 2**40)",
    "lib.where(lib.tensor([True, False]), lib.ones(2), 1e39)",
    "lib.where(lib.tensor([True, False]), lib.ones(2, dtype=lib.float16), 70000)",
    "lib.where(lib.tensor([True, False]), lib.ones(2, dtype=lib.uint8), -1)",
    "lib.where(lib.tensor([True, False]), lib.ones(2, dtype=lib.uint8), -256)",
    "lib.tensor([1, 2], dtype=lib.uint8).masked_fill(lib.tensor([True, False]), -2.5)",
    "lib.tensor([2 ** 63 - 1]) ** h(0.5)",
])
def test_python_numbers_meet_float16_and_integer_tensors(call):
    def run(lib):
        h = lambda v: lib.tensor([v], dtype=lib.float16)  # noqa: E731, F841 - used by eval
        u8 = lambda v: lib.tensor([v], dtype=lib.uint8)  # noqa: E731, F841
        return eval(call)
    check_both(run)


FP16_OPS = ["x + y", "x - y", "x * y", "x / y", "x // y", "x % y", "x + 0.1", "x - 0.1", "0.1 - x", "x * 0.1",
            "0.1 * x", "x / 0.1", "3.3 / x", "x // 0.1", "x % 0.1", "0.7 % x", "x.abs() ** 0.1", "x ** 2", "x ** 3",
            "1.7 ** x", "x.abs() ** y", "torch.add(x, y, alpha=0.3)", "x.clamp(-0.3, 0.7)", "torch.maximum(x, y)",
            "torch.where(x > 0, x, 0.1)", "x.sigmoid()", "x.tanh()", "x.exp()", "x.log()", "x.sqrt()", "x.sin()"]


@pytest.mark.parametrize("code", FP16_OPS)
def test_float16_arithmetic_is_bitwise_equal(code, rng):
    x = (rng.standard_normal(4000) * 10).astype(np.float16)
    y = (rng.standard_normal(4000) * 3).astype(np.float16)
    x[:50], y[25:75] = [inf, -inf, nan, 0.0, -0.0] * 10, [inf, -inf, nan, 0.0, -0.0] * 10
    results = [eval(code, {"torch": lib, "x": lib.from_numpy(x.copy()), "y": lib.from_numpy(y.copy())}) for lib in (mt, torch)]
    assert_bitwise(*results)


@pytest.mark.parametrize("op", ["sigmoid", "tanh", "sqrt", "exp", "log", "sin", "relu", "abs"])
def test_float16_unary_backward_is_bitwise_equal(op, rng):
    x = (np.abs(rng.standard_normal(2000)) * 3 + 0.1).astype(np.float16)
    g = rng.standard_normal(2000).astype(np.float16)
    grads = []
    for lib in (mt, torch):
        t = lib.tensor(x, requires_grad=True)
        getattr(t, op)().backward(lib.tensor(g))
        grads.append(t.grad)
    assert_bitwise(*grads)


def test_sigmoid_of_a_zero_dim_tensor():
    check_both(lambda lib: lib.sigmoid(lib.tensor(0.5, dtype=lib.float64)))
    grads_both(lambda lib, x: lib.sigmoid(x), [0.5], 1.0)


# ====================================================================== 6. pow: result dtypes, fast paths, nodes
POW_DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]
POW_SCALARS = [True, False, 0, 2, -1, 2.0, 0.5, -2.0]


@pytest.mark.parametrize("scalar", POW_SCALARS, ids=repr)
@pytest.mark.parametrize("dtype", POW_DTYPES)
def test_pow_tensor_and_scalar_dtypes(dtype, scalar):
    def base(lib):
        values = [True, False, True] if dtype == "bool" else [1, 0, 3]
        return lib.tensor(values, dtype=getattr(lib, dtype))
    check_both(lambda lib: base(lib) ** scalar)
    check_both(lambda lib: scalar ** base(lib))


@pytest.mark.parametrize("a, b", list(itertools.product(POW_DTYPES, POW_DTYPES)))
def test_pow_tensor_tensor_dtypes(a, b):
    def t(lib, dtype):
        return lib.tensor([1, 0, 2], dtype=getattr(lib, dtype))
    check_both(lambda lib: t(lib, a) ** t(lib, b))
    check_both(lambda lib: t(lib, a) ** t(lib, b)[0])


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, -1, -2, 0.5, -0.5, 1.5])
def test_pow_fast_paths_and_backward_at_special_values(exponent):
    grads_both(lambda lib, x: x ** exponent, [[-inf, -1.0, -0.0, 0.0, 0.5, 3.0, inf, nan]], [1.0] * 8, dtype="float64")


def test_pow_node_names_and_one_to_the_x():
    for lib in (mt, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        assert [(x ** 2).grad_fn.name(), (x ** x).grad_fn.name(), (2 ** x).grad_fn.name()] == \
            ["PowBackward0", "PowBackward1", "PowBackward2"]
    grads_both(lambda lib, x: -(1 ** x), [[0.5, nan]], [1.0, 1.0])


# ====================================================================== 7. finfo and iinfo
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", None])
def test_finfo_attributes_and_repr(dtype):
    a = mt.finfo(getattr(mt, dtype)) if dtype else mt.finfo()
    e = torch.finfo(getattr(torch, dtype)) if dtype else torch.finfo()
    assert repr(a) == repr(e) and str(a) == str(e)
    for name in ("bits", "dtype", "eps", "max", "min", "resolution", "smallest_normal", "tiny"):
        assert getattr(a, name) == getattr(e, name) and type(getattr(a, name)) is type(getattr(e, name)), name


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_attributes_and_repr(dtype):
    a, e = mt.iinfo(getattr(mt, dtype)), torch.iinfo(getattr(torch, dtype))
    assert (repr(a), a.bits, a.min, a.max, a.dtype) == (repr(e), e.bits, e.min, e.max, e.dtype)


@pytest.mark.parametrize("call", ["lib.iinfo(lib.bool)", "lib.iinfo(lib.float32)", "lib.finfo(lib.int32)",
                                  "lib.finfo(lib.bool)", "lib.finfo('float32')", "lib.iinfo(float)",
                                  "lib.finfo(float).eps", "lib.iinfo(int).max",
                                  "lib.finfo(lib.float32) == lib.finfo(lib.float32)",
                                  "lib.finfo(lib.float32) == lib.finfo(lib.float64)"])
def test_finfo_iinfo_errors_and_equality(call):
    check_both(lambda lib: eval(call))


@pytest.mark.parametrize("lib", LIBS)
def test_finfo_iinfo_are_unhashable(lib):
    with pytest.raises(TypeError, match="unhashable type"):
        hash(lib.finfo())
    with pytest.raises(TypeError, match="unhashable type"):
        hash(lib.iinfo(lib.int8))


# ====================================================================== 8. factories
@pytest.mark.parametrize("call", [
    "lib.full(2, 1.)", "lib.full(2., 1.)", "lib.full((2.,), 1.)", "lib.full((2,), 'a')", "lib.full((2,), None)",
    "lib.full((2,), lib.tensor([3.]))", "lib.full((2,), lib.tensor(3))", "lib.full((2,), 300, dtype=lib.uint8)",
    "lib.full((2,), -1, dtype=lib.uint8)", "lib.full((2,), -0.5, dtype=lib.uint8)", "lib.full((2,), 1e5, dtype=lib.float16)",
    "lib.full((2,), float('inf'), dtype=lib.int64)", "lib.full((2,), 1.5, dtype=lib.int64)", "lib.full((), 1.)",
    "lib.full([2], np.int32(3))", "lib.full((2,), 2**63)",
])
def test_full_arguments(call):
    check_both(lambda lib: eval(call))


@pytest.mark.parametrize("data", [
    [[1, 2], [3]], [[1, 2], [3, 4, 5]], [[[1, 2], [3, 4]], [[5, 6], [7]]], [[1, 2], 3], [1, [2, 3]], [1.0, [2.0]],
    [[1], [[]]], [[1, 2], []], [[], [1]], [[[]], [[1]]], [[[1]], [[]]], [[1, 2], (3,)]], ids=repr)
def test_tensor_from_ragged_sequences(data):
    check_both(lambda lib: lib.tensor(data))


@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy.ndarrays")  # torch's advice
def test_tensor_from_ragged_sequences_of_arrays():
    check_both(lambda lib: lib.tensor([[1, 2], np.array([3])]))
    check_both(lambda lib: lib.tensor([[1, 2], [3]], dtype=lib.float64))


@pytest.mark.parametrize("call", [
    "lib.arange(5, 0)", "lib.arange(0, 5, -1)", "lib.arange(0, 5, 0)", "lib.arange(0, 1, float('nan'))",
    "lib.arange(0, float('inf'))", "lib.arange(float('-inf'), 0.5)", "lib.arange(0, float('nan'), dtype=lib.int64)",
    "lib.arange(0, 1e30, dtype=lib.int64)", "lib.arange(0., 1e20, 1e-10)", "lib.arange(0, 1, float('inf'))",
    "lib.arange(0, 5, 0.3, dtype=lib.int64)", "lib.arange(0, 5, 0.3, dtype=lib.int32)", "lib.arange(5, 0, -0.3, dtype=lib.int32)",
    "lib.arange(0.5, 5, 1.5, dtype=lib.int64)", "lib.arange(0.5, 5, 1.5, dtype=lib.int16)", "lib.arange(-0.5, 5, 1.5, dtype=lib.int32)",
    "lib.arange(0, 5.5, dtype=lib.int64)", "lib.arange(0, 5.5, dtype=lib.int32)", "lib.arange(-3, 3, dtype=lib.uint8)",
    "lib.arange(0, 300, 100, dtype=lib.int8)", "lib.arange(0, 1e10, 1e9, dtype=lib.int32)", "lib.arange(3, dtype=lib.bool)",
    "lib.arange(10, 0, -3)", "lib.arange(10, -1, -4, dtype=lib.int32)", "lib.arange(0.5)", "lib.arange(-0.5)",
    "lib.arange(lib.tensor(3.))", "lib.arange(lib.tensor([1, 2]))", "lib.arange('a')", "lib.arange(end=3)",
    "lib.arange(start=1, end=3)", "lib.arange(0, 70000, 10000, dtype=lib.float16)", "lib.arange(-1., 1., 0.3)",
    "lib.arange(0.1, 0.5, 0.1, dtype=lib.float64)", "lib.arange(0, 1, 0.1, dtype=lib.float16)",
])
def test_arange_checks_and_values(call):
    check_both(lambda lib: eval(call))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "uint8", "int8"])
@pytest.mark.parametrize("start, end, steps", [(-10, 10, 7), (0, 1, 100), (-3.7, 11.3, 1000), (0.1, 0.9, 33),
                                               (1e-3, 7.0, 5001), (-100, 100, 17), (3, -50, 9), (2, 2, 5), (0, 1, 1),
                                               (0, 1, 0), (-1, 10, 4)])
def test_linspace_is_bitwise_equal(start, end, steps, dtype):
    run = [lambda lib=lib: lib.linspace(start, end, steps, dtype=getattr(lib, dtype)) for lib in (mt, torch)]
    errors = [None, None]
    results = [None, None]
    for i, fn in enumerate(run):
        try:
            results[i] = fn()
        except Exception as error:  # noqa: BLE001
            errors[i] = error
    if errors[1] is not None:
        assert_same_error(run[0], run[1])
    else:
        assert errors[0] is None, errors[0]
        assert_bitwise(*results)


def test_linspace_middle_value_and_errors():
    check_both(lambda lib: lib.linspace(-10, 10, 7)[3])
    for call in ("lib.linspace(0, 1, -1)", "lib.linspace(0, 1, 3, dtype=lib.bool)", "lib.linspace(0, 2**40, 7, dtype=lib.int32)",
                 "lib.linspace(lib.tensor(0.), lib.tensor(1.), 3)", "lib.linspace(0, float('inf'), 3)"):
        check_both(lambda lib: eval(call))


def test_from_numpy_uint16_is_refused_clearly():
    """torch 2.13 has a (barely usable) torch.uint16; minitorch_lsm has no such dtype and says so."""
    with pytest.raises(TypeError, match="minitorch_lsm has no uint16 dtype"):
        mt.from_numpy(np.array([1, 2], dtype=np.uint16))
    assert_same_error(lambda: mt.from_numpy(np.array(["a"])), lambda: torch.from_numpy(np.array(["a"])))
    assert_same_error(lambda: mt.from_numpy(np.array([1], dtype=object)), lambda: torch.from_numpy(np.array([1], dtype=object)))


# ====================================================================== 9. matmul family: messages and node names
MM_SHAPES = [("2,3", "3,4"), ("3", "3"), ("2,3", "3"), ("3", "3,4"), ("5,2,3", "5,3,4"), ("5,2,3", "3,4"),
             ("2,3", "5,3,4"), ("5,2,3", "3"), ("3", "5,3,4"), ("2,3", "4,5"), ("5,2,3", "5,4,2"), ("2,3", "4"),
             ("5,2,3", "4"), ("4", "5,3,2"), ("6,5,2,3", "4,2"), ("2,5,2,3", "3,5,3,2"), ("0,2,3", "0,3,2"),
             ("5,2,0", "5,0,4"), ("0", "5,0,4"), ("1,3", "5,3,1")]


@pytest.mark.parametrize("shapes", MM_SHAPES, ids="@".join)
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("int64", "float32"), ("float16", "float64"),
                                    ("bool", "bool"), ("uint8", "float32"), ("int32", "int32")], ids="-".join)
@pytest.mark.parametrize("grad", [False, True])
def test_matmul_dispatch_errors_dtypes_and_node_names(shapes, dtypes, grad):
    def run(lib):
        a = lib.ones(*eval(f"({shapes[0]},)"), dtype=getattr(lib, dtypes[0]))
        b = lib.ones(*eval(f"({shapes[1]},)"), dtype=getattr(lib, dtypes[1]))
        if grad and a.dtype.is_floating_point:
            a.requires_grad_()
        out = a @ b
        return out, (out.grad_fn.name() if out.grad_fn is not None else None)
    check_both(run)


@pytest.mark.parametrize("left, right", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 2)),
                                         ((5, 2, 3), (3, 2)), ((2, 3), (5, 3, 2)), ((3,), (5, 3, 2)),
                                         ((5, 2, 3), (3,)), ((4, 5, 2, 3), (4, 5, 3, 2)), ((1, 2, 3), (5, 3, 2)),
                                         ((5, 2, 3), (1, 3, 2)), ((2, 3), (1, 3, 2)), ((1, 3), (5, 3, 1)),
                                         ((0, 3), (3,)), ((2, 3), (0, 3, 4))], ids=str)
@pytest.mark.parametrize("which", ["left", "right", "both"])
def test_matmul_node_names(left, right, which):
    def run(lib):
        a = lib.ones(left, requires_grad=which in ("left", "both"))
        b = lib.ones(right, requires_grad=which in ("right", "both"))
        return (a @ b).grad_fn.name()
    check_both(run)


def test_matmul_of_a_transposed_batch_is_not_folded():
    check_both(lambda lib: lib.ones(5, 3, 2).transpose(1, 2) @ lib.ones(4, 4))
    check_both(lambda lib: lib.ones(5, 3, 2).transpose(1, 2) @ lib.ones(3, dtype=lib.float64))


@pytest.mark.parametrize("call", [
    "lib.mm(f(2,3), f(3,4,1))", "lib.mm(f(3), f(3,4))", "lib.mm(f(2,3), d(4,4))", "lib.mm(f(0,3), d(3,4))",
    "lib.mm(l(2,3), f(3,4))", "lib.mm(b(2,3), b(3,4))", "lib.mm(b(2,3), b(3,0))", "lib.mm(f(2,3), 3)",
    "lib.bmm(f(5,2,3), f(4,3,4))", "lib.bmm(f(5,2,3), f(1,3,4))", "lib.bmm(f(5,2,3), d(5,3,4))", "lib.bmm(b(5,2,3), f(5,3,4))",
    "lib.bmm(f(0,2,3), d(0,3,4))", "lib.bmm(f(5,2,0), d(5,0,4))", "lib.bmm(f(2,3), f(5,3,4))", "lib.bmm(b(5,2,3), b(5,3,4))",
    "lib.bmm(b(5,2,0), b(5,0,4))", "lib.bmm(f(2,3,3), 3)", "lib.bmm(l(5,2,3), l(5,3,4))",
    "lib.dot(f(3), f(4))", "lib.dot(f(3), d(3))", "lib.dot(f(2,3), f(3))", "lib.dot(b(3), b(3))", "lib.dot(b(0), b(0))",
    "lib.dot(f(3), 3)", "lib.matmul(f(2,3), 3)", "lib.matmul(3, f(2,3))", "f(()) @ f(3)",
    "lib.bmm(f(2, 3, 0, requires_grad=True), l(2, 0, 1))",
])
def test_mm_bmm_dot_checks(call):
    def run(lib):
        f = lambda *s, **k: lib.ones(*s, **k)  # noqa: E731, F841 - used by eval
        d = lambda *s: lib.ones(*s, dtype=lib.float64)  # noqa: E731, F841
        l = lambda *s: lib.ones(*s, dtype=lib.int64)  # noqa: E731, E741, F841
        b = lambda *s: lib.ones(*s, dtype=lib.bool)  # noqa: E731, F841
        return eval(call)
    check_both(run)


@pytest.mark.parametrize("left, right", [((3, 1, 3), (3, 4)), ((3, 4, 2), (1, 2, 2)), ((2, 3), (4, 3, 5)),
                                         ((3,), (4, 3, 5)), ((4, 2, 3), (3,))], ids=str)
def test_float16_matmul_backward_accumulates_in_float32(left, right, rng):
    a = rng.standard_normal(left).astype(np.float16)
    b = rng.standard_normal(right).astype(np.float16)
    results = []
    for lib in (mt, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = x @ y
        out.backward(lib.ones_like(out))
        results.append((out, x.grad, y.grad))
    for got, want in zip(*results):
        assert_bitwise(got, want)


# ====================================================================== logical ops and Tensor-only arguments
@pytest.mark.parametrize("call", [
    "lib.maximum(lib.ones(2), 2)", "lib.maximum(2, lib.ones(2))", "lib.minimum(lib.ones(2), 2.5)",
    "lib.logical_and(lib.ones(2), True)", "lib.logical_or(lib.ones(2), 1)", "lib.logical_xor(lib.ones(2), 1.)",
    "lib.logical_not(2)", "lib.maximum(lib.ones(2), lib.tensor(2))", "lib.eq(2, 3)",
    "lib.logical_xor(lib.tensor([1., 0.], dtype=lib.float16), lib.tensor(2e-9))",
    "lib.logical_and(lib.tensor([1., 0.], dtype=lib.float16), lib.tensor([2e-9, 1.]))",
])
def test_tensor_only_arguments_and_logical_promotion(call):
    check_both(lambda lib: eval(call))


def test_abs_of_bool_has_no_kernel():
    check_both(lambda lib: lib.abs(lib.tensor([True])))
