"""F.relu, F.dropout and F.one_hot against torch: results, node names, what is returned as the input
itself, in-place forms, and errors (class and message)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import torch

import minitorch_lsm as mt
from helpers import check_both

CASES: dict[str, Callable[[Any], Any]] = {
    "relu of a list": lambda lib: lib.nn.functional.relu([1.0, -1.0]),
    "relu of ints": lambda lib: lib.nn.functional.relu(lib.tensor([-1, 2])),
    "relu of uint8": lambda lib: lib.nn.functional.relu(lib.tensor([1, 2], dtype=lib.uint8)),
    "relu in place": lambda lib: lib.nn.functional.relu(lib.tensor([-1.0, 2.0]), inplace=True),
    "relu in place on a leaf that requires grad": lambda lib: lib.nn.functional.relu(lib.ones(2, requires_grad=True),
                                                                                     inplace=True),
    "dropout p > 1": lambda lib: lib.nn.functional.dropout(lib.ones(3), p=1.5),
    "dropout p < 0": lambda lib: lib.nn.functional.dropout(lib.ones(3), p=-0.1),
    "dropout p = 1": lambda lib: lib.nn.functional.dropout(lib.ones(3), p=1.0),
    "dropout p = 1 of ints": lambda lib: lib.nn.functional.dropout(lib.tensor([1, 2]), p=1.0),
    "dropout of ints in training": lambda lib: lib.nn.functional.dropout(lib.tensor([1, 2]), p=0.5),
    "dropout of ints in eval": lambda lib: lib.nn.functional.dropout(lib.tensor([1, 2]), p=0.5, training=False),
    "dropout of a list": lambda lib: lib.nn.functional.dropout([1.0, 2.0], p=0.5),
    "dropout in place on a leaf that requires grad": lambda lib: lib.nn.functional.dropout(
        lib.ones(3, requires_grad=True), 0.5, inplace=True),
    "dropout of nothing": lambda lib: lib.nn.functional.dropout(lib.ones(0), 0.5),
    "one_hot": lambda lib: lib.nn.functional.one_hot(lib.tensor([0, 2]), 3),
    "one_hot, classes inferred": lambda lib: lib.nn.functional.one_hot(lib.tensor([[0, 2], [1, 1]])),
    "one_hot of floats": lambda lib: lib.nn.functional.one_hot(lib.tensor([0.0, 2.0]), 3),
    "one_hot of a negative class": lambda lib: lib.nn.functional.one_hot(lib.tensor([-1, 2]), 3),
    "one_hot of a class too large": lambda lib: lib.nn.functional.one_hot(lib.tensor([0, 3]), 3),
    "one_hot, negative and too large": lambda lib: lib.nn.functional.one_hot(lib.tensor([-1, 5]), 3),
    "one_hot of nothing, classes inferred": lambda lib: lib.nn.functional.one_hot(lib.tensor([], dtype=lib.int64)),
    "one_hot of nothing": lambda lib: lib.nn.functional.one_hot(lib.tensor([], dtype=lib.int64), 4),
    "one_hot of a 0-d tensor": lambda lib: lib.nn.functional.one_hot(lib.tensor(1), 3),
    "one_hot, 0 classes": lambda lib: lib.nn.functional.one_hot(lib.tensor([0]), 0),
    "one_hot, -2 classes": lambda lib: lib.nn.functional.one_hot(lib.tensor([0]), -2),
    "one_hot of nothing, 0 classes": lambda lib: lib.nn.functional.one_hot(lib.tensor([], dtype=lib.int64), 0),
    "one_hot of nothing, -2 classes": lambda lib: lib.nn.functional.one_hot(lib.tensor([], dtype=lib.int64), -2),
    "one_hot, num_classes True": lambda lib: lib.nn.functional.one_hot(lib.tensor([0, 2]), True),
    "one_hot, num_classes 3.0": lambda lib: lib.nn.functional.one_hot(lib.tensor([0, 2]), 3.0),
    "one_hot, num_classes np.int64": lambda lib: lib.nn.functional.one_hot(lib.tensor([0, 2]), np.int64(3)),
    "dropout p = nan": lambda lib: lib.nn.functional.dropout(lib.ones(2), float("nan")),
    "Dropout(nan)": lambda lib: lib.nn.Dropout(float("nan"))(lib.ones(2)),
    "Dropout(2)": lambda lib: lib.nn.Dropout(2.0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_results_and_errors_match_torch(case: str) -> None:
    check_both(CASES[case])


@pytest.mark.parametrize("p, training", [(0.0, True), (0.5, False), (0.5, True), (1.0, True)])
def test_dropout_returns_the_input_or_a_mul_node_as_torch(p: float, training: bool) -> None:
    outcomes = []
    for lib in (mt, torch):
        x = lib.ones(1000, requires_grad=True)
        y = lib.nn.functional.dropout(x, p, training)
        outcomes.append((y is x, y.grad_fn.name() if y.grad_fn is not None else None))
        if y is not x and 0 < p < 1:  # survivors are scaled by 1 / (1 - p), the rest are 0
            values = set(np.unique(y.detach().numpy()).tolist())
            assert values == {0.0, 2.0}
    assert outcomes[0] == outcomes[1]


def test_dropout_in_place_changes_the_input_and_returns_it() -> None:
    for lib in (mt, torch):
        x = lib.ones(1000)
        y = lib.nn.functional.dropout(x, 0.5, inplace=True)
        assert y is x and set(np.unique(x.numpy()).tolist()) == {0.0, 2.0}
        z = lib.ones(4, requires_grad=True) * 1
        assert lib.nn.functional.dropout(z, 0.5, inplace=True).grad_fn.name() == "MulBackward0"
