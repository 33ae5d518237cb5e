"""F.linear (and so nn.Linear) against torch: PyTorch's route (one addmm for a matrix input, or for any
contiguous input with a 1-D bias; otherwise a matmul and then the bias), its node names, values and
gradients for every bias shape, and its errors in its order."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import minitorch_lsm as mt
from helpers import assert_same, assert_same_grads, check_both

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# (input shape, weight shape, bias shape or None, input is a transposed view)
SHAPES = [((3, 4), (5, 4), (5,), False), ((3, 4), (5, 4), (1,), False), ((3, 4), (5, 4), (), False),
          ((3, 4), (5, 4), (3, 5), False), ((3, 4), (5, 4), (3, 1), False), ((3, 4), (5, 4), None, False),
          ((4,), (5, 4), (5,), False), ((4,), (5, 4), None, False), ((2, 3, 4), (5, 4), (5,), False),
          ((2, 3, 4), (5, 4), (5,), True), ((2, 3, 4), (5, 4), (3, 5), False), ((2, 2, 3, 4), (5, 4), (5,), False),
          ((2, 3, 4), (5, 4), None, False), ((0, 4), (5, 4), (5,), False), ((2, 0, 4), (5, 4), (5,), False),
          ((2, 3, 4), (5, 4), (1, 5), False),  # 1-D once squeezed: the addmm route
          ((2, 3, 0), (5, 0), (5,), False), ((0,), (5, 0), (5,), False)]  # no features: rows of zeros


def _inputs(lib: Any, shapes: tuple, dtype: str) -> list[Any]:
    x_shape, w_shape, b_shape, transposed = shapes
    rng = np.random.default_rng(3)
    x = rng.standard_normal(x_shape[:-2] + (x_shape[-1], x_shape[-2]) if transposed else x_shape)
    values = [x, rng.standard_normal(w_shape)] + ([] if b_shape is None else [rng.standard_normal(b_shape)])
    tensors = [lib.tensor(v, dtype=getattr(lib, dtype), requires_grad=True) for v in values]
    if transposed:
        tensors[0] = tensors[0].transpose(-1, -2)
    return tensors


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_values_node_names_and_gradients(shapes: tuple, dtype: str) -> None:
    ours, theirs = _inputs(mt, shapes, dtype), _inputs(torch, shapes, dtype)
    out, expected = mt.nn.functional.linear(*ours), torch.nn.functional.linear(*theirs)
    assert out.grad_fn.name() == expected.grad_fn.name()
    assert_same(out, expected)
    g = np.random.default_rng(4).standard_normal(tuple(expected.shape))
    out.backward(mt.tensor(g, dtype=out.dtype))
    expected.backward(torch.tensor(g, dtype=expected.dtype))
    leaves = lambda ts: [t for t in ts if t.is_leaf]  # noqa: E731 - the transposed input is not a leaf
    assert_same_grads(leaves(ours), leaves(theirs))


def test_weight_and_bias_gradients_own_their_memory() -> None:
    """The Addmm node's weight and bias gradients are stored as they are, not copied (they own their memory)."""
    layer = mt.nn.Linear(4, 3)
    layer(mt.ones(2, 4)).sum().backward()
    assert layer.weight.grad._data.flags.owndata and layer.bias.grad._data.flags.owndata
    assert layer.weight.grad._data.flags.c_contiguous


ERRORS = {
    "input float64, weight float32": lambda lib: lib.nn.functional.linear(lib.ones(3, 4, dtype=lib.float64), lib.ones(5, 3), lib.ones(5)),
    "bias float64": lambda lib: lib.nn.functional.linear(lib.ones(3, 4), lib.ones(5, 3), lib.ones(5, dtype=lib.float64)),
    "weight float64": lambda lib: lib.nn.functional.linear(lib.ones(3, 4), lib.ones(5, 4, dtype=lib.float64), lib.ones(5)),
    "shapes": lambda lib: lib.nn.functional.linear(lib.ones(3, 4), lib.ones(5, 3), lib.ones(2)),
    "bias size": lambda lib: lib.nn.functional.linear(lib.ones(3, 4), lib.ones(5, 4), lib.ones(2)),
    "bias of 3 dims": lambda lib: lib.nn.functional.linear(lib.ones(3, 4), lib.ones(5, 4), lib.ones(2, 3, 5)),
    "3-D input, bias size": lambda lib: lib.nn.functional.linear(lib.ones(2, 3, 4), lib.ones(5, 4), lib.ones(2)),
    "1-D input, 2-D bias": lambda lib: lib.nn.functional.linear(lib.ones(4), lib.ones(5, 4), lib.ones(3, 5)),
    "bool": lambda lib: lib.nn.functional.linear(lib.ones(3, 4, dtype=lib.bool), lib.ones(5, 4, dtype=lib.bool),
                                                 lib.ones(5, dtype=lib.bool)),
    "0-d input": lambda lib: lib.nn.functional.linear(lib.tensor(1.0), lib.ones(5, 4), lib.ones(5)),
    "0-d input, no bias": lambda lib: lib.nn.functional.linear(lib.tensor(1.0), lib.ones(5, 4)),
    "3-D weight": lambda lib: lib.nn.functional.linear(lib.ones(3, 4), lib.ones(2, 5, 4), lib.ones(5)),
    "1-D weight": lambda lib: lib.nn.functional.linear(lib.ones(3, 4), lib.ones(4), lib.ones(1)),
    "input a list": lambda lib: lib.nn.functional.linear([1.0, 2.0], lib.ones(3, 2)),
    "weight a list": lambda lib: lib.nn.functional.linear(lib.ones(2), [[1.0, 2.0]]),
    "bias a list": lambda lib: lib.nn.functional.linear(lib.ones(2), lib.ones(3, 2), [1.0, 2.0, 3.0]),
    "3-D input, bias (1, 1, 5)": lambda lib: lib.nn.functional.linear(lib.ones(2, 3, 4), lib.ones(5, 4), lib.ones(1, 1, 5)),
    "3-D input, bias (5, 1)": lambda lib: lib.nn.functional.linear(lib.ones(2, 3, 4), lib.ones(5, 4), lib.ones(5, 1)),
    "non-contiguous bias": lambda lib: lib.nn.functional.linear(lib.ones(2, 3, 4, requires_grad=True), lib.ones(5, 4),
                                                                lib.arange(10.0)[::2]).grad_fn.name(),
    "float64 bias added in place": lambda lib: lib.nn.functional.linear(lib.ones(2, 3, 4), lib.ones(5, 4),
                                                                        lib.ones(3, 5, dtype=lib.float64)),
    "float64 bias, non-contiguous input": lambda lib: lib.nn.functional.linear(
        lib.ones(2, 4, 3).transpose(1, 2), lib.ones(5, 4), lib.ones(5, dtype=lib.float64)),
    "int64 input, float bias": lambda lib: lib.nn.functional.linear(
        lib.ones(2, 3, 4, dtype=lib.int64), lib.ones(5, 4, dtype=lib.int64), lib.ones(3, 5)),
    "float16 rounds once": lambda lib: lib.nn.functional.linear(
        lib.tensor([[1.0, 1.0]], dtype=lib.float16), lib.tensor([[2048.0, 1.0]], dtype=lib.float16),
        lib.tensor([1.0], dtype=lib.float16)),
    "int64": lambda lib: lib.nn.functional.linear(lib.ones(3, 4, dtype=lib.int64), lib.ones(5, 4, dtype=lib.int64),
                                                  lib.ones(5, dtype=lib.int64)),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_and_dtypes_as_torch(case: str) -> None:
    check_both(ERRORS[case])
