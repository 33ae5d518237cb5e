"""``Tensor.stride`` against torch: contiguous, transposed, sliced with a step, expanded, 0-d and empty tensors,
the results of ops on non-contiguous input, and the out-of-range error."""
from __future__ import annotations

import pytest
import torch

import minitorch_lsm as mt
from helpers import check_both

CALLS = [
    "x.stride()", "x.t().stride()", "x[:, ::2].stride(-1)", "x[:, ::2].stride()", "lib.ones(3, 1).expand(3, 4).stride()",
    "lib.tensor(1.).stride()", "lib.ones(0, 3).stride()", "lib.ones(3, 0).stride()", "lib.ones(2, 0, 4).stride()",
    "lib.ones(2, 1, 3).stride()", "x.unsqueeze(1).stride()", "x.t().contiguous().stride()", "(x.t() * 2).stride()",
    "x.reshape(6).stride()", "x[1].stride()", "x.permute(1, 0)[::2].stride()", "lib.ones(4, 5)[1:3, 1:4].stride()",
    "x.stride(0)", "x.stride(2)", "x.stride(-3)", "lib.ones(2, 3, 4).transpose(0, 2).stride()",
]


@pytest.mark.parametrize("call", CALLS)
def test_stride_matches_torch(call):
    def run(lib):
        x = lib.ones(2, 3)
        return eval(call)
    check_both(run)
