"""Reductions over one or more dims: sum, mean, prod, var, std, amax/amin, max/min, argmax, logsumexp.

Backward of a reduction first puts the reduced dims back (size 1) with :func:`_unreduce`, then
broadcasts; the engine needs no special case.

>>> import minitorch_lsm as torch
>>> x = torch.tensor([[1., 5.], [3., 2.]])
>>> x.sum(dim=0)
tensor([4., 7.])
>>> x.max(dim=1)
torch.return_types.max(
values=tensor([5., 3.]),
indices=tensor([1, 0]))
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from .. import _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import as_int, normalize_dim, normalize_dims
from .elementwise import _xp, where


def _unreduce(grad: Tensor, node: Function) -> Tensor:
    """The gradient of a reduced tensor, reshaped so it broadcasts against the input again."""
    if node.keepdim:
        return grad
    return grad.reshape(node.kept_shape)


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


class Reduction(Function):
    """A reduction over ``self.axes``; records the shape that broadcasts back to the input."""

    def forward(self, x: Any) -> Any:
        self.kept_shape = _kept_shape(x.shape, self.axes)
        self.count = _count(x.shape, self.axes)
        return self.reduce(_xp(x), x)

    def reduce(self, xp: Any, x: Any) -> Any:
        raise NotImplementedError


class Sum(Reduction):
    """d sum(x) = broadcast(g)"""

    def reduce(self, xp: Any, x: Any) -> Any:
        return xp.sum(x, axis=self.axes, keepdims=self.keepdim, dtype=self.dtype)

    def backward(self, grad: Tensor) -> Tensor:
        return _unreduce(grad, self).expand(self.input_meta[0][0])


class Mean(Reduction):
    """d mean(x) = broadcast(g) / n"""

    def reduce(self, xp: Any, x: Any) -> Any:
        # float16 accumulates in float32, as in PyTorch; an empty mean is 0 / 0 = nan, without NumPy's warning
        acc = np.float32 if self.dtype == np.float16 else self.dtype
        return (xp.sum(x, axis=self.axes, keepdims=self.keepdim, dtype=acc) / self.count).astype(self.dtype, copy=False)

    def backward(self, grad: Tensor) -> Tensor:
        return _unreduce(grad, self).expand(self.input_meta[0][0]) / self.count


class Prod(Reduction):
    """d prod(x)/dx_i = product of the other elements (exact with zeros in x)"""

    keeps_inputs = keeps_output = True

    def reduce(self, xp: Any, x: Any) -> Any:
        return xp.prod(x, axis=self.axes, keepdims=self.keepdim, dtype=self.dtype)

    def backward(self, grad: Tensor) -> Tensor:
        x, y = self.inputs[0], _unreduce(self.output, self)
        is_zero = x == 0
        nonzero_product = prod_over(where(is_zero, 1.0, x), self.axes)
        zeros_in_slice = is_zero.sum(dim=self.axes, keepdim=True)
        others = where(is_zero, where(zeros_in_slice == 1, nonzero_product, 0.0), y / where(is_zero, 1.0, x))
        return _unreduce(grad, self) * others


def prod_over(x: Tensor, axes: tuple[int, ...]) -> Tensor:
    return Prod.apply(x, axes=axes, keepdim=True, dtype=x.dtype.np)


class Var(Reduction):
    """d var(x) = 2 (x - mean(x)) / (n - correction) * g"""

    keeps_inputs = True

    def reduce(self, xp: Any, x: Any) -> Any:
        return xp.var(x, axis=self.axes, keepdims=self.keepdim, ddof=self.correction)

    def backward(self, grad: Tensor) -> Tensor:
        x = self.inputs[0]
        centered = x - x.mean(dim=self.axes, keepdim=True)
        return _unreduce(grad, self) * centered * (2.0 / (self.count - self.correction))


class Std(Reduction):
    """d std(x) = (x - mean(x)) / ((n - correction) std(x)) * g"""

    keeps_inputs = keeps_output = True

    def reduce(self, xp: Any, x: Any) -> Any:
        return xp.std(x, axis=self.axes, keepdims=self.keepdim, ddof=self.correction)

    def backward(self, grad: Tensor) -> Tensor:
        x = self.inputs[0]
        centered = x - x.mean(dim=self.axes, keepdim=True)
        scale = where(self.output == 0, 0.0, grad / self.output)  # a constant slice: 0, as in PyTorch, not 0 / 0
        return _unreduce(scale, self) * centered / (self.count - self.correction)


class Amax(Reduction):
    """d amax(x) = g shared evenly among the elements equal to the maximum"""

    keeps_inputs = keeps_output = True
    pick = "max"

    def reduce(self, xp: Any, x: Any) -> Any:
        if x.size == 0 and self.count == 0:
            raise IndexError(f"{self.name_for_errors}(): Expected reduction dim {self.axes[0] if self.axes else 0} "
                             "to have non-zero size.")
        return getattr(xp, self.pick)(x, axis=self.axes, keepdims=self.keepdim)

    def backward(self, grad: Tensor) -> Tensor:
        hits = self.inputs[0] == _unreduce(self.output, self)
        return _unreduce(grad, self) * hits / hits.sum(dim=self.axes, keepdim=True)


class Amin(Amax):
    """d amin(x) = g shared evenly among the elements equal to the minimum"""

    pick = "min"


class MaxAlongDim(Function):
    """d max(x, dim).values = g scattered to the position of each maximum"""

    node_name = "MaxBackward0"

    def forward(self, x: Any, index: Any) -> Any:
        xp = _xp(x)
        out = xp.take_along_axis(x, index, axis=self.dim)
        return out if self.keepdim else xp.squeeze(out, axis=self.dim)

    def backward(self, grad: Tensor) -> tuple[Tensor, None]:
        from .indexing import scatter_add_into_zeros
        index = self.index  # always kept with the reduced dim (size 1)
        g = grad if self.keepdim else grad.unsqueeze(self.dim)
        return scatter_add_into_zeros(g, self.dim, index, self.input_meta[0][0]), None


class MinAlongDim(MaxAlongDim):
    """d min(x, dim).values = g scattered to the position of each minimum"""

    node_name = "MinBackward0"


class MaxAll(Amax):
    """d max(x) = g shared evenly among the elements equal to the maximum"""

    node_name = "MaxBackward1"


class MinAll(Amin):
    """d min(x) = g shared evenly among the elements equal to the minimum"""

    node_name = "MinBackward1"


def _named_result(name: str) -> type:
    """A (values, indices) pair that prints like ``torch.return_types.max(values=..., indices=...)``."""
    cls = namedtuple(name, ["values", "indices"])  # type: ignore[misc]
    cls.__repr__ = lambda self: f"torch.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"  # type: ignore[method-assign]
    return cls


return_types = {name: _named_result(name) for name in ("max", "min")}


def _reduce(cls: type[Function], input: Tensor, dim: Any, keepdim: bool, function: str, **params: Any) -> Tensor:
    axes = normalize_dims(dim, input.ndim, function)
    return cls.apply(input, axes=axes, keepdim=bool(keepdim), **params)


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (int or tuple; all dims if None). Integer and bool input sum to int64."""
    out = _dtype.as_dtype(dtype) if dtype is not None else (input.dtype if input.dtype.is_floating_point else _dtype.int64)
    return _reduce(Sum if dim is None else SumDim, input, dim, keepdim, "sum", dtype=out.np)


class SumDim(Sum):
    """d sum(x, dim) = broadcast(g)"""

    node_name = "SumBackward1"


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Arithmetic mean over ``dim``; integer input raises as in PyTorch (pass ``dtype=``)."""
    out = _dtype.as_dtype(dtype) if dtype is not None else input.dtype
    if not out.is_floating_point:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {_dtype.torch_name(out)}")
    return _reduce(Mean, input.to(out), dim, keepdim, "mean", dtype=out.np,
                   node_name="MeanBackward0" if dim is None else "MeanBackward1")


def prod(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Product over ``dim`` (one int, or all dims when None); integer input gives int64."""
    out = _dtype.as_dtype(dtype) if dtype is not None else (input.dtype if input.dtype.is_floating_point else _dtype.int64)
    if dim is not None:
        dim = as_int(dim, "dim", "prod")
    return _reduce(Prod, input, dim, keepdim, "prod", dtype=out.np,
                   node_name="ProdBackward0" if dim is None else "ProdBackward1")


def _correction(unbiased: Any, correction: Any) -> int | float:
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Variance ``sum((x - mean)^2) / (n - correction)``; Bessel's correction (1) by default."""
    if isinstance(unbiased, bool) is False and unbiased is not None and dim is None:
        dim, unbiased = unbiased, None
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"std and var only support floating point and complex dtypes")
    return _reduce(Var, input, dim, keepdim, "var", correction=_correction(unbiased, correction))


def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Standard deviation, the square root of :func:`var`."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"std and var only support floating point and complex dtypes")
    return _reduce(Std, input, dim, keepdim, "std", correction=_correction(unbiased, correction))


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (all dims for ``()``); ties share the gradient evenly."""
    return _reduce(Amax, input, dim if dim != () else None, keepdim, "amax", name_for_errors="amax")


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (all dims for ``()``)."""
    return _reduce(Amin, input, dim if dim != () else None, keepdim, "amin", name_for_errors="amin")


def _extreme(input: Tensor, dim: Any, keepdim: bool, pick: str) -> Any:
    from .elementwise import maximum, minimum
    if isinstance(dim, Tensor):
        return (maximum if pick == "max" else minimum)(input, dim)
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(f"{pick}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        return _reduce(MaxAll if pick == "max" else MinAll, input, None, False, pick, name_for_errors=pick)
    d = normalize_dim(dim, input.ndim, pick)
    if input.ndim and input.shape[d] == 0:
        raise IndexError(f"{pick}(): Expected reduction dim {d} to have non-zero size.")
    source = input if input.ndim else input.reshape(1)
    indices = _arg(source, d, True, "argmax" if pick == "max" else "argmin")
    node = MaxAlongDim if pick == "max" else MinAlongDim
    values = node.apply(source, indices, dim=d, keepdim=bool(keepdim) or input.ndim == 0, index=indices)
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    elif not keepdim:
        indices = indices.squeeze(d)
    return return_types[pick](values, indices)


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """``max(x)``: the largest value; ``max(x, dim)``: (values, indices); ``max(x, y)``: elementwise."""
    return _extreme(input, dim, keepdim, "max")


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """``min(x)``: the smallest value; ``min(x, dim)``: (values, indices); ``min(x, y)``: elementwise."""
    return _extreme(input, dim, keepdim, "min")


class ArgExtreme(Function):
    """Index of the max/min along a dim (first one on ties; nan counts as the maximum). No gradient."""

    differentiable = False

    def forward(self, x: Any) -> Any:
        xp = _xp(x)
        if self.dim is None:
            flat = x.reshape(-1)
            out = getattr(xp, self.pick)(flat)
            return xp.asarray(out, dtype=np.int64).reshape((1,) * x.ndim if self.keepdim else ())
        out = getattr(xp, self.pick)(x, axis=self.dim, keepdims=self.keepdim)
        return out.astype(np.int64, copy=False)


def _arg(input: Tensor, dim: Any, keepdim: bool, pick: str) -> Tensor:
    if dim is not None:
        dim = normalize_dim(dim, input.ndim, pick)
        if input.ndim == 0:
            dim = None
    if input.numel() == 0:
        raise IndexError(f"{pick}(): Expected reduction dim to be specified for input.numel() == 0.")
    return ArgExtreme.apply(input, dim=dim, keepdim=bool(keepdim), pick=pick)


def argmax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (of the flattened tensor when ``dim`` is None), as int64."""
    if input.dtype is _dtype.bool:
        raise RuntimeError("argmax(): does not support bool input")
    return _arg(input, dim, keepdim, "argmax")


def argmin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value, as int64."""
    if input.dtype is _dtype.bool:
        raise RuntimeError("argmin(): does not support bool input")
    return _arg(input, dim, keepdim, "argmin")


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element (along ``dim``) is nonzero."""
    out = _xp(input._data).all(input._data, axis=normalize_dims(dim, input.ndim) if dim is not None else None, keepdims=keepdim)
    return Tensor._from_array(np.asarray(out) if isinstance(out, np.generic) else out, input.device)


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element (along ``dim``) is nonzero."""
    out = _xp(input._data).any(input._data, axis=normalize_dims(dim, input.ndim) if dim is not None else None, keepdims=keepdim)
    return Tensor._from_array(np.asarray(out) if isinstance(out, np.generic) else out, input.device)
