"""``torch.norm`` / ``Tensor.norm`` / ``torch.linalg.vector_norm`` against torch: values, dtypes and
gradients for every kind of order (2, 1, +-inf, 0, fractional, negative), dims, keepdim, zeros, ties,
float16 and ``dtype=``, second derivatives, and the errors."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import minitorch_lsm as mt
from helpers import assert_same_error, check_both

ORDERS = [2, 1, math.inf, -math.inf, 0, 3, 0.5, 1.5, -1, "fro"]
# rows with zeros, ties of |x| and signs: the points where the gradient formulas need care
VALUES = np.array([[3.0, -4.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [2.0, -2.0, 1.0, 2.0]])


def norm_and_grad(lib, values, dtype, **kwargs):
    x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
    n = x.norm(**kwargs)
    weights = lib.arange(1, n.numel() + 1, dtype=n.dtype).reshape(n.shape)
    (n * weights).sum().backward()
    return n, x.grad, n.grad_fn.name()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 1)], ids=str)
@pytest.mark.parametrize("p", ORDERS, ids=str)
def test_norm_values_and_gradients(p, dim, keepdim, dtype):
    check_both(norm_and_grad, VALUES, dtype, p=p, dim=dim, keepdim=keepdim)


@pytest.mark.parametrize("p", [2, 1, math.inf, 3], ids=str)
def test_norm_random_input(p, rng):
    check_both(norm_and_grad, rng.standard_normal((5, 7)), "float64", p=p, dim=1)


@pytest.mark.parametrize("p", [2, math.inf, 0.5], ids=str)
def test_float16_and_dtype_argument(p):
    check_both(norm_and_grad, VALUES, "float16", p=p, dim=0)
    check_both(lambda lib: lib.tensor(VALUES, dtype=lib.float32, requires_grad=True).norm(p=p, dtype=lib.float64))


def test_scalars_empty_tensors_and_extremes():
    check_both(lambda lib: (lib.tensor(3.0).norm(), lib.tensor(-3.0).norm(p=1, dim=0), lib.zeros(0, 3).norm(dim=0),
                            lib.zeros(0, 3).norm(), lib.tensor([1e30, 1e30]).norm(), lib.tensor([1e-30, 1e-30]).norm()))


def test_linalg_vector_norm_and_torch_norm():
    check_both(lambda lib: (lib.linalg.vector_norm(lib.tensor(VALUES), ord=3, dim=1),
                            lib.norm(lib.tensor(VALUES)), lib.norm(lib.tensor(VALUES), p=1, dim=0, keepdim=True)))


@pytest.mark.parametrize("p", [2, 1, 3, math.inf], ids=str)
def test_second_derivatives(p):
    for lib in (mt, torch):
        x = lib.tensor([[0.5, 1.0, -2.0], [1.5, -0.3, 0.7]], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradgradcheck(lambda t: t.norm(p=p, dim=1), (x,))


@pytest.mark.parametrize("call", [
    "lib.tensor([1, 2]).norm()",
    "lib.tensor([1., 2.]).norm(p='abc')",
    "lib.ones(2, 2, 2).norm(p='fro', dim=(0, 1, 2))",
    "lib.zeros(0, 3).norm(p=float('inf'))",
    "lib.zeros(0, 3).norm(p=-float('inf'), dim=(1, 0))",
    "lib.zeros(2, 3).norm(dim=5)",
    "lib.linalg.vector_norm(lib.ones(2), dtype=lib.float16)",
    "lib.linalg.vector_norm(lib.ones(2, dtype=lib.float64), dtype=lib.float32)",
    "lib.linalg.vector_norm(lib.tensor([3, 4]), dtype=lib.float32)",
    "lib.tensor([3, 4]).norm(dtype=lib.float32)",
    "lib.linalg.vector_norm(lib.ones(2), dtype=lib.int64)",
])
def test_errors(call):
    assert_same_error(lambda: eval(call, {"lib": mt}), lambda: eval(call, {"lib": torch}))


@pytest.mark.parametrize("call", ["lib.norm(x, p=None)", "x.norm(p=None, dim=0)",
                                  "lib.linalg.vector_norm(x.half(), dtype=lib.float32)"])
def test_p_none_is_the_two_norm_and_widening_dtypes_work(call):
    check_both(lambda lib: eval(call, {"lib": lib, "x": lib.tensor([[3., 4.], [1., 2.]])}))
