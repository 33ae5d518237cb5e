"""Matrix products: ``matmul`` (the ``@`` operator), ``mm``, ``bmm`` and ``dot``.

All four run one tape node, ``MatMul`` (NumPy's ``@``). What differs is what PyTorch checks first and
how it names the node: ``matmul`` dispatches on the operands' dims to dot, mv, mm or a batched
product, folding batch dims into a matrix when it can (``_folds``), and each kernel has its own error
messages. The node name follows the same dispatch, so ``(mat @ vec).grad_fn`` is ``MvBackward0``.

Examples:
    >>> import minitorch_lsm as torch
    >>> torch.ones(2, 3) @ torch.ones(3)
    tensor([3., 3.])
    >>> (torch.ones(2, 3, requires_grad=True) @ torch.ones(3)).grad_fn
    <MvBackward0 object at ...>
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

from .. import _dtype
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from ._elementwise_util import _cast, _in_opmath, _require_tensor
from ._util import broadcast_shape
from .shape import expanded_shape


class MatMul(Function):
    """d(A @ B) = dA @ B + A @ dB, so grad_A = g @ B^T and grad_B = A^T @ g (1-D operands are
    treated as a row (left) or a column (right) vector; the engine sums broadcast batch dims)"""

    keeps_inputs = True
    grad_reads = ((1,), (0,))
    node_name = "MmBackward0"

    def forward(self, a: Any, b: Any) -> Any:
        compute = _dtype.opmath(self.dtype)  # float16 accumulates in float32, as PyTorch's CPU kernels
        return _cast(_cast(a, compute) @ _cast(b, compute), self.dtype)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b, grad = _in_opmath(*self.inputs, grad)  # float16 products and batch sums run in float32
        need_a, need_b = self.needs_input_grad
        a_ndim, b_ndim = (len(shape) for shape, _ in self.input_meta)  # a is kept only for grad_b, b for grad_a
        g = grad.unsqueeze(-1) if b_ndim == 1 else grad  # put back the dims 1-D operands dropped
        g = g.unsqueeze(-2) if a_ndim == 1 else g
        grad_a = grad_b = None
        if need_a:
            b2 = b.unsqueeze(-1) if b_ndim == 1 else b
            if a_ndim <= 2 < b_ndim:  # a batch of b against one matrix a: one product over every batch row
                grad_a = _rows(g.mT).mT @ _rows(b2.mT)
            else:
                grad_a = g @ b2.mT
            grad_a = grad_a.squeeze(-2) if a_ndim == 1 else grad_a
        if need_b:
            a2 = a.unsqueeze(0) if a_ndim == 1 else a
            if b_ndim <= 2 < a_ndim:  # as PyTorch folds a's batch into rows: one sum, rounded once
                grad_b = _rows(a2).mT @ _rows(g)
            else:
                grad_b = a2.mT @ g
            grad_b = grad_b.squeeze(-1) if b_ndim == 1 else grad_b
        return grad_a, grad_b


class Addmm(Function):
    """out = bias + x @ W^T, ``F.linear`` of a matrix x with a bias, as one node: grad_x = g @ W,
    grad_W = g^T @ x, grad_bias = g summed over what the bias was broadcast along (its rows for a 1-D
    bias). Each gradient is a fresh array in its input's layout, so the engine stores W's and the bias's
    as ``.grad`` without a copy (through ``x @ W.T + bias`` W's would be a transposed view)."""

    keeps_inputs = True
    grad_reads = ((), (2,), (1,))  # grad_bias reads nothing, grad_x the weight, grad_W x
    node_name = "AddmmBackward0"

    def forward(self, bias: Any, x: Any, weight: Any) -> Any:
        compute = _dtype.opmath(self.dtype)  # float16 multiplies and adds the bias in float32, rounded once
        out = _cast(x, compute) @ _cast(weight, compute).T
        out += _cast(bias, compute)  # in place: one result array, not two
        return _cast(out, self.dtype)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        need_bias, need_x, need_weight = self.needs_input_grad
        _, x, weight = self.inputs
        x, weight, grad = _in_opmath(x, weight, grad)
        grad_bias = None
        if need_bias:  # a (C) bias: the row sum; any other shape: the engine sums the broadcast dims
            grad_bias = grad.sum(0) if self.input_meta[0][0] == grad._data.shape[1:] else grad
        return grad_bias, grad @ weight if need_x else None, grad.mT @ x if need_weight else None


def addmm_linear(bias: Tensor, input: Tensor, weight: Tensor) -> Tensor:
    """``bias + input @ weight.t()`` for a matrix ``input``, with the checks of PyTorch's ``addmm``
    (``weight.t()`` being its ``mat2``), in its order."""
    if weight.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {weight.ndim}D")
    if weight.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {weight.ndim}-D tensor")
    for name, other in (("self", bias), ("mat1", input)):
        if other.dtype is not weight.dtype:
            raise RuntimeError(f"{name} and mat2 must have the same dtype, but got {_dtype.torch_name(other.dtype)} and "
                               f"{_dtype.torch_name(weight.dtype)}")
    (n, k), (m, k2) = input._data.shape, weight._data.shape  # (tuples: .shape builds a torch.Size)
    if k != k2:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m})")
    expanded_shape(bias, (n, m))  # raises PyTorch's message for a bias that does not broadcast to the result
    if input.dtype is _dtype.bool:
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
    return Addmm.apply(bias, input, weight, dtype=input.dtype.np)


def _rows(t: Tensor) -> Tensor:
    """``t`` as one matrix: every dim but the last folded into rows."""
    return t.reshape(math.prod(t.shape[:-1]), t.shape[-1])


# ---------------------------------------------------------------------- each kernel's checks, in PyTorch's order
def _check_dot(a: Any, b: Any) -> None:
    if a.dtype is not b.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {_dtype.torch_name(a.dtype)} "
                           f"and {_dtype.torch_name(b.dtype)}")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have "
                           f"the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively")
    if a.dtype is _dtype.bool:
        raise NotImplementedError("\"dot\" not implemented for 'Bool'")


def _check_mv(mat: tuple[int, int], vec: int, mat_dtype: _dtype.dtype, vec_dtype: _dtype.dtype) -> None:
    if mat[1] != vec:
        raise RuntimeError(f"size mismatch, got input ({mat[0]}), mat ({mat[0]}x{mat[1]}), vec ({vec})")
    if mat_dtype is not vec_dtype:
        v, m = _dtype.torch_name(vec_dtype), _dtype.torch_name(mat_dtype)
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {v}, {m}, and {v}")
    if mat_dtype is _dtype.bool and mat[0] * mat[1]:
        raise NotImplementedError("\"addmv_impl_cpu\" not implemented for 'Bool'")


def _check_mm(m1: tuple[int, int], m2: tuple[int, int], d1: _dtype.dtype, d2: _dtype.dtype) -> None:
    if m1[1] != m2[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({m1[0]}x{m1[1]} and {m2[0]}x{m2[1]})")
    if d1 is not d2:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_dtype.cpp_name(d1)} != "
                           f"{_dtype.cpp_name(d2)}")
    if d1 is _dtype.bool and m1[0] * m1[1] * m2[1]:
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")


def _check_bmm(b1: tuple[int, ...], b2: tuple[int, ...], d1: _dtype.dtype, d2: _dtype.dtype) -> _dtype.dtype:
    """Returns the result dtype: batch2's (the kernel, and so the dtype check, only runs on a non-empty product)."""
    if (b2[0], b2[1]) != (b1[0], b1[2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{b1[0]}, {b1[2]}] "
                           f"but got: [{b2[0]}, {b2[1]}].")
    if b1[0] * b1[1] * b1[2] * b2[2]:
        if d1 is _dtype.bool:
            raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
        if d1 is not d2:
            raise RuntimeError(f"expected scalar type {_dtype.torch_name(d1)} but found {_dtype.torch_name(d2)}")
    return d2


def _check_differentiable(out: _dtype.dtype, *inputs: Tensor) -> None:
    """An empty batched product takes batch2's dtype, which may be an integer one; autograd refuses that."""
    if not out.is_floating_point and is_grad_enabled() and any(t.requires_grad for t in inputs):
        raise RuntimeError(f"Autograd not support dtype: {_dtype.torch_name(out)}")


# ---------------------------------------------------------------------- matmul's dispatch
class _Operand(NamedTuple):
    """What matmul's dispatch looks at: an operand's shape, strides (to tell views from copies), dtype and
    whether it requires grad."""

    shape: tuple[int, ...]
    strides: tuple[int, ...]
    dtype: _dtype.dtype
    requires_grad: bool

    @staticmethod
    def of(t: Tensor) -> "_Operand":
        return _Operand(t._data.shape, tuple(t._data.strides), t.dtype, t.requires_grad)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def squeeze0(self) -> "_Operand":
        return self._replace(shape=self.shape[1:], strides=self.strides[1:])


def _folds(a: _Operand, b: _Operand) -> bool:
    """PyTorch's ``should_fold``: a >= 3-D operand times a 1-D/2-D one runs as one mm/mv on the batch folded
    into rows, when the small operand requires grad or the fold needs no copy."""
    big, small = (a, b) if a.ndim >= b.ndim else (b, a)
    if not (big.ndim >= 3 and small.ndim <= 2):
        return False
    if small.requires_grad:
        return True
    if a.ndim == 2:
        return False
    if math.prod(big.shape) == 0:
        return True
    sizes, strides = list(big.shape), list(big.strides)
    if big is b:  # the fold runs on b.mT
        sizes[-2:], strides[-2:] = sizes[:-3:-1], strides[:-3:-1]
    return all(strides[i] == strides[i + 1] * sizes[i + 1] for i in range(len(sizes) - 2))


def _matmul_node(a: _Operand, b: _Operand) -> tuple[str, _dtype.dtype]:
    """Check ``a @ b`` as PyTorch's dispatch would; return the node's name and the result dtype."""
    if a.ndim == 1 and b.ndim == 1:
        _check_dot(a, b)
        return "DotBackward0", a.dtype
    if a.ndim == 2 and b.ndim == 1:
        _check_mv(a.shape, b.shape[0], a.dtype, b.dtype)
        return "MvBackward0", a.dtype
    if a.ndim <= 2 and b.ndim == 2:
        _check_mm((a.shape[0] if a.ndim == 2 else 1, a.shape[-1]), b.shape, a.dtype, b.dtype)
        return ("MmBackward0" if a.ndim == 2 else "SqueezeBackward4"), a.dtype
    if _folds(a, b):
        if a.ndim > b.ndim:  # rows = every dim of a but the last
            rows = math.prod(a.shape[:-1])
            if b.ndim == 2:
                _check_mm((rows, a.shape[-1]), b.shape, a.dtype, b.dtype)
            else:
                _check_mv((rows, a.shape[-1]), b.shape[0], a.dtype, b.dtype)
            return "UnsafeViewBackward0", a.dtype
        rows = math.prod(b.shape[:-2]) * b.shape[-1]  # computed as (b.mT folded) @ a.T, then transposed back
        if a.ndim == 1:
            _check_mv((rows, b.shape[-2]), a.shape[0], b.dtype, a.dtype)
            return "UnsafeViewBackward0", a.dtype
        _check_mm((rows, b.shape[-2]), (a.shape[1], a.shape[0]), b.dtype, a.dtype)
        n, p = a.shape[0], b.shape[-1]  # the result's .contiguous() copies unless it already is contiguous
        return ("TransposeBackward0" if n == 1 or p == 1 or rows * n == 0 else "CloneBackward0"), a.dtype
    if a.ndim == 3 and b.ndim == 3 and a.shape[0] != b.shape[0]:  # a batch of 1 that requires grad is dropped
        if a.shape[0] == 1 and a.requires_grad:
            return _matmul_node(a.squeeze0(), b)
        if b.shape[0] == 1 and b.requires_grad:
            return _matmul_node(a, b.squeeze0())
    batch = broadcast_shape(a.shape[:-2], b.shape[:-2])
    n, k1 = (a.shape[-2] if a.ndim > 1 else 1), a.shape[-1]
    k2, p = (b.shape[-2], b.shape[-1]) if b.ndim > 1 else (b.shape[0], 1)
    size = math.prod(batch)
    return "UnsafeViewBackward0", _check_bmm((size, n, k1), (size, k2, p), a.dtype, b.dtype)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """``out[..., i, j] = sum_k input[..., i, k] * other[..., k, j]``, the ``@`` operator.

    As in NumPy and PyTorch, 1-D operands are vectors and more dims are batches (broadcast).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.matmul(torch.ones(4, 2, 3), torch.ones(3, 5)).shape
        torch.Size([4, 2, 5])
    """
    _require_tensor(input, "matmul", "input", 1)
    _require_tensor(other, "matmul", "other", 2)
    if input.ndim == 0 or other.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {input.ndim}D and {other.ndim}D")
    name, out = _matmul_node(_Operand.of(input), _Operand.of(other))
    _check_differentiable(out, input, other)
    return MatMul.apply(input, other, dtype=out.np, node_name=name)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """``out[i, j] = sum_k input[i, k] * mat2[k, j]`` for two matrices (2-D only).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.mm(torch.tensor([[1., 2.], [3., 4.]]), torch.tensor([[1.], [1.]]))
        tensor([[3.],
                [7.]])
    """
    _require_tensor(input, "mm", "input", 1)
    _require_tensor(mat2, "mm", "mat2", 2)
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError("self must be a matrix" if input.ndim != 2 else "mat2 must be a matrix")
    _check_mm(input.shape, mat2.shape, input.dtype, mat2.dtype)
    return MatMul.apply(input, mat2, dtype=input.dtype.np)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """``out[b] = input[b] @ mat2[b]`` for two 3-D tensors with the same batch size (no broadcasting).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.bmm(torch.ones(4, 2, 3), torch.ones(4, 3, 5)).shape
        torch.Size([4, 2, 5])
    """
    _require_tensor(input, "bmm", "input", 1)
    _require_tensor(mat2, "bmm", "mat2", 2)
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if input.ndim != 3 else "batch2 must be a 3D tensor")
    out = _check_bmm(input.shape, mat2.shape, input.dtype, mat2.dtype)
    _check_differentiable(out, input, mat2)
    return MatMul.apply(input, mat2, dtype=out.np, node_name="BmmBackward0")


def dot(input: Tensor, other: Tensor) -> Tensor:
    """``out = sum_i input_i * other_i`` for two 1-D tensors.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.dot(torch.tensor([1., 2., 3.]), torch.tensor([4., 5., 6.]))
        tensor(32.)
    """
    _require_tensor(input, "dot", "input", 1)
    _require_tensor(other, "dot", "tensor", 2)
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    _check_dot(input, other)
    return MatMul.apply(input, other, dtype=input.dtype.np, node_name="DotBackward0")
