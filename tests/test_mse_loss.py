"""F.mse_loss and nn.MSELoss against torch: values, dtypes, gradients of input and target, node names,
broadcasting (with its warning), weights, reductions and the errors of bad arguments."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import minitorch_lsm as mt
from helpers import assert_same_error

CASES = [  # (input shape, target shape, input dtype, target dtype, reduction, weighted)
    ((4, 3), (4, 3), "float32", "float32", "mean", False), ((4, 3), (4, 3), "float32", "float32", "sum", False),
    ((4, 3), (4, 3), "float32", "float32", "none", False), ((5,), (5,), "float64", "float64", "mean", False),
    ((4, 3), (3,), "float32", "float32", "mean", False), ((4, 1), (1, 3), "float32", "float32", "none", False),
    ((4, 3), (4, 3), "float32", "float64", "mean", False), ((4, 3), (4, 3), "float16", "float16", "mean", False),
    ((4, 3), (4, 3), "float32", "int64", "sum", False), ((0, 3), (0, 3), "float32", "float32", "mean", False),
    ((), (), "float32", "float32", "mean", False),
    ((4, 3), (4, 3), "float32", "float32", "mean", True), ((4, 3), (4, 3), "float32", "float32", "sum", True),
    ((4, 3), (4, 3), "float32", "float32", "none", True), ((4, 3), (3,), "float32", "float32", "mean", True),
]


def run(lib, case):
    shape, target_shape, dtype, target_dtype, reduction, weighted = case
    r = np.random.default_rng(3)
    x = lib.tensor(r.standard_normal(shape).astype(dtype), requires_grad=True)
    t_values = r.standard_normal(target_shape) * 2
    t = lib.tensor(t_values.astype(target_dtype), requires_grad=target_dtype.startswith("float"))
    w = lib.tensor(r.uniform(0, 2, shape).astype(dtype)) if weighted else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss = lib.nn.functional.mse_loss(x, t, reduction=reduction, weight=w)
    g = lib.tensor(r.standard_normal(tuple(loss.shape)).astype(str(loss.dtype).split(".")[1]))
    loss.backward(g)
    return (loss.detach().numpy(), str(loss.dtype), loss.grad_fn.name(), x.grad.numpy(),
            None if t.grad is None else t.grad.numpy(), [str(c.message) for c in caught])


@pytest.mark.parametrize("case", CASES, ids=[str(c) for c in CASES])
def test_mse_loss_matches_torch(case):
    ours, theirs = run(mt, case), run(torch, case)
    tol = {"rtol": 1e-6, "atol": 1e-7}  # (float16 too: the same roundings as torch's kernel)
    np.testing.assert_allclose(ours[0], theirs[0], **tol)
    assert ours[1:3] == theirs[1:3]
    np.testing.assert_allclose(ours[3], theirs[3], **tol)
    assert (ours[4] is None) == (theirs[4] is None)
    if ours[4] is not None:
        np.testing.assert_allclose(ours[4], theirs[4], **tol)
    assert ours[5] == theirs[5]


@pytest.mark.parametrize("call", [
    "F.mse_loss(lib.tensor([1, 2]), lib.tensor([1, 3]))",
    "F.mse_loss(x, lib.tensor([1., 2.]))",
    "F.mse_loss(x, lib.ones(3), reduction='bad')",
    "F.mse_loss(x, lib.ones(3), weight=lib.ones(3), reduction='bad')",
    "F.mse_loss(x, lib.ones(3), weight=lib.ones(2))",
    "F.mse_loss(x, [1., 2., 3.])",
])
def test_mse_loss_errors_match_torch(call):
    def attempt(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eval(call, {"lib": lib, "F": lib.nn.functional, "x": lib.tensor([1., 2., 3.], requires_grad=True)})
    assert_same_error(lambda: attempt(mt), lambda: attempt(torch))


def test_mse_module_and_its_legacy_flags_match_torch():
    results = []
    for lib in (mt, torch):
        x, t = lib.tensor([[1., 2.], [3., 4.]]), lib.tensor([[0., 2.], [5., 1.]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = [lib.nn.MSELoss()(x, t), lib.nn.MSELoss(reduction="sum")(x, t),
                      lib.nn.MSELoss(reduce=False)(x, t), lib.nn.functional.mse_loss(x, t, size_average=False)]
        results.append(([v.tolist() for v in values], repr(lib.nn.MSELoss())))
    assert results[0] == results[1]
