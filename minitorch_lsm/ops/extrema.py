"""Extremes and logical reductions: amax/amin, max/min, argmax/argmin, all/any.

They use the ``Reduction`` node, ``_axes`` and ``_reduce`` of ``ops/reduction.py``. The gradient of an
extreme goes to the elements that attain it: shared evenly among ties for amax/amin and for max/min of
the whole tensor, to the position of each maximum for max/min along a dim; argmax/argmin and all/any
have no gradient.

Examples:
    >>> import minitorch_lsm as torch
    >>> x = torch.tensor([[1., 5.], [3., 2.]])
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
from ._elementwise_util import _require_tensor, _xp
from ._util import as_int, normalize_dim
from .reduction import Reduction, _axes, _dim_list, _reduce, _unreduce
from .selection import where


class Amax(Reduction):
    """d amax(x) = g shared evenly among the elements equal to the maximum"""

    keeps_inputs = keeps_output = True
    pick = "max"

    def reduce(self, xp: Any, x: Any) -> Any:
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
        from .gather_scatter import scatter_add_into_zeros
        index = self.index  # always kept with the reduced dim (size 1)
        g = grad if self.keepdim else grad.unsqueeze(self.dim)
        return scatter_add_into_zeros(g, self.dim, index, self.input_meta[0][0]), None


class MinAlongDim(MaxAlongDim):
    """d min(x, dim).values = g scattered to the position of each minimum"""

    node_name = "MinBackward0"


class MaxAll(Amax):
    """d max(x) = g shared evenly among the elements equal to the maximum (the NaNs, if it is NaN)"""

    node_name = "MaxBackward1"

    def backward(self, grad: Tensor) -> Tensor:
        x, top = self.inputs[0], self.output
        hits = x.isnan() if top.isnan().item() else x == top
        return where(hits, grad / hits.sum(), 0.0)


class MinAll(MaxAll):
    """d min(x) = g shared evenly among the elements equal to the minimum (the NaNs, if it is NaN)"""

    node_name = "MinBackward1"
    pick = "min"


def _named_result(name: str) -> type:
    """A (values, indices) pair that prints like ``torch.return_types.max(values=..., indices=...)``."""
    cls = namedtuple(name, ["values", "indices"])  # type: ignore[misc]
    cls.__repr__ = lambda self: f"torch.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"  # type: ignore[method-assign]
    return cls


return_types = {name: _named_result(name) for name in ("max", "min")}


def _amax_like(cls: type[Function], input: Tensor, dim: Any, keepdim: bool, function: str) -> Tensor:
    """amax or amin: an empty input needs dims, each of non-zero size (checked in order, named as passed)."""
    if input.numel() == 0:
        dims = _dim_list(dim)
        if not dims:
            raise RuntimeError(f"{function}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        for d in dims:
            if input.shape[normalize_dim(d, input.ndim, function)] == 0:
                raise IndexError(f"{function}(): Expected reduction dim {as_int(d, 'dim', function)} to have "
                                 "non-zero size.")
    return _reduce(cls, input, dim, keepdim, function)


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """``out = max_i x_i`` over ``dim`` (all dims for ``()``); ties share the gradient evenly.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.amax(torch.tensor([[1., 5.], [3., 2.]]), dim=0)
        tensor([3., 5.])
    """
    _require_tensor(input, "amax", "input", 1)
    return _amax_like(Amax, input, dim, keepdim, "amax")


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """``out = min_i x_i`` over ``dim`` (all dims for ``()``); ties share the gradient evenly.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.amin(torch.tensor([[1., 5.], [3., 2.]]), dim=1)
        tensor([1., 2.])
    """
    _require_tensor(input, "amin", "input", 1)
    return _amax_like(Amin, input, dim, keepdim, "amin")


def _extreme(input: Tensor, dim: Any, keepdim: bool, pick: str) -> Any:
    from .selection import maximum, minimum
    if isinstance(dim, Tensor):
        return (maximum if pick == "max" else minimum)(input, dim)
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(f"{pick}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        return _reduce(MaxAll if pick == "max" else MinAll, input, None, False, pick)
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
    """``max(x)``: the largest value; ``max(x, dim)``: (values, indices); ``max(x, y)``: elementwise.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.max(torch.tensor([[1., 5.], [3., 2.]]), dim=1)
        torch.return_types.max(
        values=tensor([5., 3.]),
        indices=tensor([1, 0]))
    """
    _require_tensor(input, "max", "input", 1)
    return _extreme(input, dim, keepdim, "max")


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """``min(x)``: the smallest value; ``min(x, dim)``: (values, indices); ``min(x, y)``: elementwise.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.min(torch.tensor([[1., 5.], [3., 2.]]))
        tensor(1.)
    """
    _require_tensor(input, "min", "input", 1)
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
    """The indices; the reduced dim must be non-empty (other dims may be empty: an empty result)."""
    if dim is not None:
        dim = normalize_dim(dim, input.ndim, pick)
        if input.ndim == 0:
            dim = None
        elif input.shape[dim] == 0:
            raise IndexError(f"{pick}(): Expected reduction dim {dim} to have non-zero size.")
    elif input.numel() == 0:
        raise IndexError(f"{pick}(): Expected reduction dim to be specified for input.numel() == 0.")
    return ArgExtreme.apply(input, dim=dim, keepdim=bool(keepdim), pick=pick)


def argmax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """``out = argmax_i x_i``: the index of the largest value (of the flattened tensor when ``dim`` is None), as int64.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.argmax(torch.tensor([[1., 5.], [3., 2.]])), torch.argmax(torch.tensor([[1., 5.], [3., 2.]]), dim=1)
        (tensor(1), tensor([1, 0]))
    """
    _require_tensor(input, "argmax", "input", 1)
    if dim is not None:
        as_int(dim, "dim", "argmax")
    if input.dtype is _dtype.bool:
        raise RuntimeError("argmax(): does not support bool input")
    return _arg(input, dim, keepdim, "argmax")


def argmin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """``out = argmin_i x_i``: the index of the smallest value, as int64.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.argmin(torch.tensor([[1., 5.], [3., 2.]]), dim=0)
        tensor([0, 1])
    """
    _require_tensor(input, "argmin", "input", 1)
    if dim is not None:
        as_int(dim, "dim", "argmin")
    if input.dtype is _dtype.bool:
        raise RuntimeError("argmin(): does not support bool input")
    return _arg(input, dim, keepdim, "argmin")


def _logical(input: Tensor, dim: Any, keepdim: bool, name: str) -> Tensor:
    """all or any: bool, except that uint8 input gives uint8 as in PyTorch; ``dim=()`` reduces nothing."""
    axes = None if dim is None else _axes(dim, input.ndim, name, empty_is_all=False)
    out = getattr(_xp(input._data), name)(input._data, axis=axes, keepdims=bool(keepdim))
    if input.dtype is _dtype.uint8:
        out = out.astype(np.uint8)
    return Tensor._from_array(np.asarray(out) if isinstance(out, np.generic) else out, input.device)


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """``out = x_1 and x_2 and ...`` along ``dim``: True where every element is nonzero.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.all(torch.tensor([[True, False], [True, True]]), dim=1)
        tensor([False,  True])
    """
    _require_tensor(input, "all", "input", 1)
    return _logical(input, dim, keepdim, "all")


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """``out = x_1 or x_2 or ...`` along ``dim``: True where some element is nonzero.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.any(torch.tensor([[0, 0], [0, 3]]), dim=1)
        tensor([False,  True])
    """
    _require_tensor(input, "any", "input", 1)
    return _logical(input, dim, keepdim, "any")
