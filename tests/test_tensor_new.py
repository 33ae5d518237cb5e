"""``Tensor.new_zeros``/``new_ones``/``new_empty``/``new_full``/``new_tensor`` against torch: the source's dtype
and device as defaults (also over a dtype the data suggests), sizes as varargs or one sequence, and the errors."""
from __future__ import annotations

import warnings

import pytest
import torch

import minitorch_lsm as mt
from helpers import check_both

CALLS = [
    "ints.new_tensor([1.5, 2.7])", "ints.new_zeros(2, 3)", "ints.new_zeros((2,))", "ints.new_ones([1, 2], dtype=lib.float16)",
    "ints.new_full((2,), 3.5)", "ints.new_empty(0).shape", "ints.new_empty(2, 2).dtype", "doubles.new_tensor([1, 2])",
    "doubles.new_zeros(2, requires_grad=True)", "doubles.new_full([2, 1], 7, dtype=lib.int32)", "ints.new_tensor(3)",
    "doubles.new_ones(())", "halves.new_tensor([[1e5]])", "doubles.new_ones(2, dtype=lib.float32, requires_grad=True)",
    "ints.new_zeros(size=(2, 3))", "ints.new_ones(size=[2])", "lib.zeros(size=(2,))", "lib.ones(size=[1, 2]).shape",
    "lib.empty(size=(3,)).shape", "ints.new_empty(size=(0,)).shape", "lib.zeros(2, size=(2,))",
    # errors
    "ints.new_full(2, 3)", "ints.new_tensor([1.5], requires_grad=True)", "doubles.new_zeros(-1)", "ints.new_zeros()",
    "ints.new_ones(2, requires_grad=True)",
]


@pytest.mark.parametrize("call", CALLS)
def test_new_methods_match_torch(call):
    def run(lib):
        ints, doubles = lib.tensor([1, 2]), lib.ones(2, dtype=lib.float64)
        halves = lib.ones(1, dtype=lib.float16)
        return eval(call)
    check_both(run)


def test_new_tensor_copies_a_tensor_with_torchs_warning():
    def run(lib):
        source = lib.tensor([1., 2.], requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            copy = lib.ones(1, dtype=lib.float64).new_tensor(source)
        copy.add_(1)  # a copy, detached: the source is untouched
        return copy, source, [str(w.message) for w in caught]
    check_both(run)
