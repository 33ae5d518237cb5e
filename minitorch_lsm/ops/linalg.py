"""Matrix products.

>>> import minitorch_lsm as torch
>>> torch.ones(2, 3) @ torch.ones(3)
tensor([3., 3.])
"""
from __future__ import annotations

from typing import Any

from .. import _dtype
from ..autograd.function import Function
from ..tensor import Tensor


class MatMul(Function):
    """d(A @ B) = dA @ B + A @ dB, so grad_A = g @ B^T and grad_B = A^T @ g (1-D operands are
    treated as a row (left) or a column (right) vector; the engine sums broadcast batch dims)"""

    keeps_inputs = True
    node_name = "MmBackward0"

    def forward(self, a: Any, b: Any) -> Any:
        return a @ b

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        a, b = self.inputs
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g = grad.unsqueeze(-1) if b.ndim == 1 else grad  # put back the dims 1-D operands dropped
        g = g.unsqueeze(-2) if a.ndim == 1 else g
        grad_a = g @ b2.mT
        grad_b = a2.mT @ g
        if a.ndim == 1:
            grad_a = grad_a.squeeze(-2)
        if b.ndim == 1:
            grad_b = grad_b.squeeze(-1)
        return grad_a, grad_b


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch rules: 1-D is a vector, more dims are batches (broadcast)."""
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"matmul(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if input.ndim == 0 or other.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {input.ndim}D and {other.ndim}D")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_dtype.torch_name(input.dtype).lower()} != {_dtype.torch_name(other.dtype).lower()}")
    k1 = input.shape[-1]
    k2 = other.shape[-2] if other.ndim > 1 else other.shape[0]
    if k1 != k2:
        if input.ndim == 1 and other.ndim == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src [{other.shape[0]}] "
                               "to have the same number of elements, but got "
                               f"{input.shape[0]} and {other.shape[0]} elements respectively")
        rows = input.shape[-2] if input.ndim > 1 else 1
        cols = other.shape[-1] if other.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k1} and {k2}x{cols})")
    return MatMul.apply(input, other)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two matrices (2-D only)."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"self must be a matrix" if input.ndim != 2 else "mat2 must be a matrix")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched product of two 3-D tensors."""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if input.ndim != 3 else "batch2 must be a 3D tensor")
    return matmul(input, mat2)


def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    return matmul(input, other)
