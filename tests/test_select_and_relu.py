"""The bit-mask ``select`` behind where, relu and masked_fill on NumPy, against ``np.where`` (bit for bit,
special values and broadcasting included), and relu/where/masked_fill at sizes that take it, against torch."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minitorch_lsm as mt
from minitorch_lsm.ops import _util
from minitorch_lsm.ops._util import select

SPECIAL = [0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 1e-45, -3.5]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "int32", "int64", "uint8", "bool"])
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=1, max_side=16),
       seed=st.integers(0, 2**32 - 1))
def test_select_is_where_bit_for_bit(dtype, shapes, seed) -> None:
    """Every size takes the bit path here (its threshold set to 0 for the test)."""
    rng = np.random.default_rng(seed)
    cond_shape, a_shape, b_shape = shapes.input_shapes
    condition = rng.random(cond_shape) < 0.5
    if dtype == "bool":
        a, b = rng.random(a_shape) < 0.5, rng.random(b_shape) < 0.5
    elif dtype.startswith("float"):
        a = rng.choice(SPECIAL + list(rng.normal(size=8)), size=a_shape).astype(dtype)
        b = rng.choice(SPECIAL + list(rng.normal(size=8)), size=b_shape).astype(dtype)
    else:
        a, b = (rng.integers(0, 100, size=s).astype(dtype) for s in (a_shape, b_shape))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_util, "_SELECT_BY_BITS_FROM", 0)
        ours = select(condition, a, b)
    expected = np.where(condition, a, b)
    assert ours.dtype == expected.dtype and ours.shape == expected.shape
    assert ours.tobytes() == expected.tobytes()


def test_select_takes_the_bit_path_from_1024_elements() -> None:
    """A large case, with a 0-d operand broadcast against the condition (relu's ``where(x < 0, 0, x)``)."""
    x = np.random.default_rng(0).normal(size=(64, 33)).astype(np.float32)
    x[0, :4] = [-0.0, np.nan, -np.inf, np.inf]
    zero = np.float32(0)
    assert select(x < 0, zero, x).tobytes() == np.where(x < 0, zero, x).tobytes()
    assert select(x < 0, x, zero).tobytes() == np.where(x < 0, x, zero).tobytes()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32"])
def test_relu_where_and_masked_fill_at_large_sizes_match_torch(dtype) -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(size=(128, 64)) * 3
    values[0, :5] = [0.0, -0.0, np.nan, -np.inf, np.inf] if dtype != "int32" else [0, 0, 0, 0, 0]
    grad = rng.normal(size=(128, 64))
    grad[1, :2] = [np.nan, -0.0]
    mask = rng.random((128, 64)) < 0.5
    results = []
    for lib in (mt, torch):
        x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=dtype != "int32")
        out = [lib.relu(x), lib.where(lib.tensor(mask), x, lib.tensor(-values, dtype=getattr(lib, dtype))),
               x.masked_fill(lib.tensor(mask), 7)]
        if dtype != "int32":
            out[0].backward(lib.tensor(grad, dtype=getattr(lib, dtype)))
            out.append(x.grad)
        results.append([t.detach().numpy() for t in out])
    for ours, theirs in zip(*results):
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)
        assert np.array_equal(np.signbit(ours), np.signbit(theirs))  # -0.0 stays -0.0 and 0.0 stays 0.0
