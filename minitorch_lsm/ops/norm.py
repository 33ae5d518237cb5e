"""Vector norms: ``torch.norm``, ``Tensor.norm`` and ``torch.linalg.vector_norm``, one node
(``LinalgVectorNormBackward0``, as PyTorch names it).

``||x||_p = (sum |x|^p)^(1/p)`` over the given dims; ``p = inf`` is ``max |x|``, ``-inf`` is ``min |x|``,
``0`` counts the non-zero elements. The gradient, with ``n`` the norm:

* ``p = 2``: ``x / n`` (0 where ``n`` is 0); ``p = 1``: ``sign(x)``;
* ``p = +-inf``: ``sign(x)`` shared evenly among the elements where ``|x| = n``;
* other ``p``: ``sign(x) |x|^(p-1) / n^(p-1)`` (0 where ``x`` or ``n`` is 0); ``p = 0``: none.

Examples:
    >>> import minitorch_lsm as torch
    >>> x = torch.tensor([[3., -4.], [0., 0.]], requires_grad=True)
    >>> n = x.norm(dim=1); n
    tensor([5., 0.], grad_fn=<LinalgVectorNormBackward0>)
    >>> n.sum().backward(); x.grad
    tensor([[ 0.6000, -0.8000],
            [ 0.0000,  0.0000]])
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _dtype
from ..tensor import Tensor
from ._elementwise_util import _require_tensor
from .reduction import Reduction, _axes, _unreduce
from .selection import where

__all__ = ["norm", "vector_norm"]


class LinalgVectorNorm(Reduction):
    """d ||x||_p: see the module's docstring."""

    keeps_inputs = keeps_output = True

    def reduce(self, xp: Any, x: Any) -> Any:
        a = xp.abs(x.astype(np.float32) if x.dtype == np.float16 else x)  # float16 adds up in float32
        p, axes, keep = self.ord, self.axes, self.keepdim
        if p == math.inf:
            out = a.max(axis=axes, keepdims=keep)
        elif p == -math.inf:
            out = a.min(axis=axes, keepdims=keep)
        elif p == 0:
            out = (a != 0).sum(axis=axes, keepdims=keep, dtype=a.dtype)
        elif p == 1:
            out = a.sum(axis=axes, keepdims=keep)
        elif p == 2:
            out = xp.sqrt((a * a).sum(axis=axes, keepdims=keep))
        else:
            out = (a ** p).sum(axis=axes, keepdims=keep) ** (1.0 / p)
        return out.astype(x.dtype, copy=False)

    def backward(self, grad: Tensor) -> Tensor | None:
        p = self.ord
        if p == 0:
            return None
        (x,), g, n = self.inputs, _unreduce(grad, self), _unreduce(self.output, self)
        if p == 1:
            return g * x.sign()
        if p in (math.inf, -math.inf):
            hits = x.abs() == n
            return g * x.sign() * hits / hits.sum(dim=self.axes, keepdim=True)
        if p == 2:
            return x * where(n == 0, 0.0, g / n)
        scaled = where(x == 0, 0.0, x.sign() * x.abs() ** (p - 1))
        return scaled * where(n == 0, 0.0, g / n ** (p - 1))


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """``||x||_ord`` over ``dim`` (every dim when None), computed in ``dtype`` when it is given.

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.tensor([3., -4.])
        >>> torch.linalg.vector_norm(x), torch.linalg.vector_norm(x, ord=1), x.norm(p=float("inf"))
        (tensor(5.), tensor(7.), tensor(4.))
    """
    _require_tensor(x, "linalg_vector_norm", "self", 1)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_dtype.torch_name(x.dtype)}")
    if dtype is not None:
        dtype = _dtype.as_dtype(dtype)
        if not dtype.is_floating_point:
            raise RuntimeError(f"linalg.vector_norm: dtype should be floating point or complex, but got "
                               f"{_dtype.torch_name(dtype)}")
        if _dtype.promote_types(x.dtype, dtype) is not dtype:
            raise RuntimeError(f"linalg.vector_norm: the dtype of the input ({_dtype.torch_name(x.dtype)}) should be "
                               f"convertible without narrowing to the specified dtype ({_dtype.torch_name(dtype)})")
        x = x.to(dtype)
    axes = _axes(dim, x.ndim, "linalg.vector_norm")
    if ord in (math.inf, -math.inf) and x.numel() == 0:  # max and min of nothing: no identity
        ord_name = "inf" if ord > 0 else "-inf"
        if dim is None:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord_name} norm on an empty tensor because "
                               "the operation does not have an identity")
        for a in axes:
            if x.shape[a] == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {ord_name} norm on the dimension {a}"
                                   "because this dimension is empty and the operation does not have an identity")
    return LinalgVectorNorm.apply(x, axes=axes, keepdim=bool(keepdim), ord=float(ord))


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """The vector ``p``-norm of ``input`` over ``dim`` (every dim when None); ``'fro'`` is the 2-norm.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.norm(torch.tensor([[1., 2.], [3., 4.]]))  # sqrt(1 + 4 + 9 + 16)
        tensor(5.4772)
    """
    if p is None:
        p = 2
    if isinstance(p, str):
        if p != "fro":
            raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported." if p != "nuc" else
                               "norm: the nuclear norm (p='nuc') is not implemented in minitorch_lsm")
        if isinstance(dim, (list, tuple)) and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
        p = 2
    return vector_norm(input, p, dim, keepdim, dtype=dtype)
