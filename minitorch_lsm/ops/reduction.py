"""Reductions over one or more dims: sum, mean, prod, var, std; and what every reduction shares.

Backward of a reduction first puts the reduced dims back (size 1) with :func:`_unreduce`, then
broadcasts; the engine needs no special case. The extrema (amax/amin, max/min, argmax/argmin) and
all/any are in ``ops/extrema.py``, built on the same ``Reduction`` node, ``_axes`` and ``_reduce``.

As in PyTorch, ``dim=()`` or ``dim=[]`` means every dim for sum, mean, var, std, amax and amin (but
nothing for all and any); float16 sums and float16/float32 variances accumulate in a wider dtype.

Examples:
    >>> import minitorch_lsm as torch
    >>> x = torch.tensor([[1., 5.], [3., 2.]])
    >>> x.sum(dim=0)
    tensor([4., 7.])
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import _dtype
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from ._elementwise_util import _cast, _require_tensor, _xp
from ._util import as_int, normalize_dim
from .selection import where


def _unreduce(grad: Tensor, node: Function) -> Tensor:
    """The gradient of a reduced tensor, reshaped so it broadcasts against the input again (as a
    dimensioned tensor, also when 0-d: a 0-d tensor would not take part in type promotion)."""
    if node.keepdim:
        return grad
    return grad.reshape(node.kept_shape)


def _expand_back(grad: Tensor, node: Function) -> Tensor:
    """The gradient of a reduced tensor expanded to the input's shape (a 0-d one needs no reshape first)."""
    return (grad if grad.ndim == 0 else _unreduce(grad, node)).expand(node.input_meta[0][0])


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    kept = list(shape)  # (a plain loop: a generator costs a frame, and every reduction runs this)
    for a in axes:
        kept[a] = 1
    return tuple(kept)


def _add_up(xp: Any, x: Any, axes: tuple[int, ...], keepdims: bool, dtype: Any) -> Any:
    """``xp.sum(x, axis=axes, keepdims=keepdims, dtype=dtype)``: on NumPy the reduce of its add ufunc, which
    ``np.sum`` calls after two Python functions that cost more than summing a small array."""
    if xp is np:
        return np.add.reduce(x, axis=axes, dtype=dtype, keepdims=keepdims)
    return xp.sum(x, axis=axes, keepdims=keepdims, dtype=dtype)


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _dim_list(dim: Any) -> list[Any]:
    """The dims as passed, as a list: ``[]`` for None, ``[d]`` for one dim."""
    if dim is None:
        return []
    return list(dim) if isinstance(dim, (list, tuple)) else [dim]


def _axes(dim: Any, ndim: int, function: str, empty_is_all: bool = True, one_pass: bool = False) -> tuple[int, ...]:
    """``dim`` as sorted non-negative axes. None means every axis, and so do ``()`` and ``[]`` unless
    ``empty_is_all`` is False (``all``/``any`` then reduce nothing). A dim out of range (a 0-d tensor
    takes 0 and -1) or given twice raises, as in PyTorch: all dims are range-checked before looking
    for repeats, except with ``one_pass`` (var and std check each dim in turn).

    Examples:
        >>> from minitorch_lsm.ops.reduction import _axes
        >>> _axes((-1, 0), 3, "sum"), _axes([], 2, "sum"), _axes((), 2, "all", empty_is_all=False)
        ((0, 2), (0, 1), ())
        >>> _axes((1, -1), 2, "sum")
        Traceback (most recent call last):
        RuntimeError: dim 1 appears multiple times in the list of dims
    """
    dims = _dim_list(dim)
    if dim is None or (not dims and empty_is_all):
        return tuple(range(ndim))
    if not one_pass:
        for d in dims:
            normalize_dim(d, ndim, function)
    axes: list[int] = []
    for d in dims:
        a = normalize_dim(d, ndim, function)
        if a in axes:
            raise RuntimeError(f"dim {a} appears multiple times in the list of dims")
        axes.append(a)
    return tuple(sorted(axes)) if ndim else ()


def _check_autograd_dtype(input: Tensor, out: _dtype.dtype) -> None:
    """An integer result of a float input that requires grad cannot join the graph: PyTorch's error."""
    if not out.is_floating_point and input.requires_grad and is_grad_enabled():
        raise RuntimeError(f"Autograd not support dtype: {_dtype.torch_name(out)}")


class Reduction(Function):
    """A reduction over ``self.axes``; records the shape that broadcasts back to the input."""

    def forward(self, x: Any) -> Any:
        self.kept_shape = _kept_shape(x.shape, self.axes)
        self.count = _count(x.shape, self.axes)
        return self.reduce(_xp(x), x)

    def reduce(self, xp: Any, x: Any) -> Any:
        raise NotImplementedError


def _reduce(cls: type[Function], input: Tensor, dim: Any, keepdim: bool, function: str, **params: Any) -> Tensor:
    axes = _axes(dim, input.ndim, function)
    return cls.apply(input, axes=axes, keepdim=bool(keepdim), **params)


class Sum(Reduction):
    """d sum(x) = broadcast(g)"""

    def reduce(self, xp: Any, x: Any) -> Any:
        acc = np.float32 if self.dtype == np.float16 else self.dtype  # float16 adds up in float32, as in PyTorch
        total = _add_up(xp, _cast(x, self.dtype), self.axes, self.keepdim, acc)
        return total.astype(self.dtype, copy=False)

    def backward(self, grad: Tensor) -> Tensor:
        return _expand_back(grad, self)


class Mean(Reduction):
    """d mean(x) = broadcast(g) / n"""

    def reduce(self, xp: Any, x: Any) -> Any:
        # float16 accumulates in float32, as in PyTorch; an empty mean is 0 / 0 = nan, without NumPy's warning
        acc = np.float32 if self.dtype == np.float16 else self.dtype
        return (_add_up(xp, x, self.axes, self.keepdim, acc) / self.count).astype(self.dtype, copy=False)

    def backward(self, grad: Tensor) -> Tensor:
        return _expand_back(grad, self) / self.count


class Prod(Reduction):
    """d prod(x)/dx_i = prod_{k != i} x_k: g * prod(x) / x_i, or the exact product of the others once x has a zero"""

    keeps_inputs = keeps_output = True

    def reduce(self, xp: Any, x: Any) -> Any:
        return xp.prod(_cast(x, self.dtype), axis=self.axes, keepdims=self.keepdim, dtype=self.dtype)

    def backward(self, grad: Tensor) -> Tensor:
        # PyTorch's choice, which decides the values at inf and nan: divide unless x (all of it) has a zero.
        # With prod(dtype=) x is taken in the output's dtype first, as PyTorch's prod_backward does
        x = self.inputs[0]
        x = x if x.dtype is grad.dtype else x.to(grad.dtype)
        if x.ndim == 0:
            return grad
        g = _unreduce(grad, self)
        zeros = int((x == 0).sum().item())
        if zeros == 0:
            return g * (_unreduce(self.output, self) / x)
        if self.whole:
            if zeros > 1 and not is_grad_enabled():  # two zeros: every product of the others is 0
                return g * _zeros_like(x)
            return g * ProdOfOthers.apply(x.reshape(-1), dim=0).reshape(x.shape)
        return g * ProdOfOthers.apply(x, dim=self.axes[0])


class ProdOfOthers(Function):
    """out_i = prod_{k != i} x_k along ``dim``; d out_i/dx_j = prod_{k != i, j} x_k (j != i), 0 for j == i"""

    keeps_inputs = True

    def forward(self, x: Any) -> Any:
        xp = _xp(x)
        y = xp.moveaxis(x, self.dim, -1)
        if y.shape[-1] == 0:
            return x.copy()
        ones, acc = xp.ones_like(y[..., :1]), np.float32 if x.dtype == np.float16 else x.dtype  # as PyTorch's cumprod
        before = xp.cumprod(xp.concatenate([ones, y[..., :-1]], axis=-1), axis=-1, dtype=acc)  # x_0 ... x_(i-1)
        after = xp.cumprod(xp.concatenate([ones, y[..., :0:-1]], axis=-1), axis=-1, dtype=acc)  # x_(n-1) ... x_(i+1)
        others = before.astype(x.dtype, copy=False) * after[..., ::-1].astype(x.dtype, copy=False)
        return xp.moveaxis(others, -1, self.dim)

    def backward(self, grad: Tensor) -> Tensor:
        # one row per i (a new dim before dim): x with x_i replaced by 1, whose products of the others are
        # prod_{k != i, j} x_k; O(n^2) memory, paid only by gradients of gradients
        x, d = self.inputs[0], self.dim
        n = x.shape[d]
        if n == 0:
            return grad
        eye = _eye_mask(n, x.ndim - d - 1, x)
        pairs = ProdOfOthers.apply(where(eye, 1.0, x.unsqueeze(d)), dim=d + 1)
        return (grad.unsqueeze(d + 1) * where(eye, 0.0, pairs)).sum(dim=d)


def _eye_mask(n: int, trailing: int, like: Tensor) -> Tensor:
    """A bool (n, n, 1, ..., 1) tensor on ``like``'s device, True on the diagonal; ``trailing`` ones."""
    from .._device import on_device
    xp = _xp(like._data)
    with on_device(like.device):
        mask = xp.eye(n, dtype=bool).reshape((n, n) + (1,) * trailing)
    return Tensor._from_array(mask, like.device)


def _zeros_like(x: Tensor) -> Tensor:
    from .._device import on_device
    with on_device(x.device):
        return Tensor._from_array(_xp(x._data).zeros_like(x._data), x.device)


def _variance(xp: Any, x: Any, axes: tuple[int, ...], correction: float, keepdim: bool) -> Any:
    """``sum((x - mean)^2) / max(0, N - correction)``, the squares summed in float64, as PyTorch does on
    the CPU, so a large mean with a tiny spread keeps its digits. PyTorch's mean: in x's own dtype when
    float32/float64 x reduces to a single value on the CPU, else in float64 (its Welford pass)."""
    n = _count(x.shape, axes)
    wide = x.astype(np.float64, copy=False)
    if xp is np and x.dtype != np.float16 and x.size == n:  # one value: add up the flat array, pairwise
        mean = (xp.sum(x.reshape(-1)) / n).astype(np.float64)
    else:
        mean = xp.sum(wide, axis=axes, keepdims=True) / n  # an empty slice: 0 / 0 = nan
    squares = xp.sum(xp.square(wide - mean), axis=axes, keepdims=keepdim)
    return squares / (n - correction if n > correction else 0)  # no degrees of freedom: inf, or 0 / 0 = nan


class Var(Reduction):
    """d var(x) = 2 (x - mean(x)) / (n - correction) * g"""

    keeps_inputs = True

    def reduce(self, xp: Any, x: Any) -> Any:
        return _variance(xp, x, self.axes, self.correction, self.keepdim).astype(x.dtype, copy=False)

    def backward(self, grad: Tensor) -> Tensor:
        return _var_backward(_unreduce(grad, self), self)


class Std(Reduction):
    """d std(x) = d var(x) * g / (2 std(x)), and 0 where std(x) = 0"""

    keeps_inputs = keeps_output = True

    def reduce(self, xp: Any, x: Any) -> Any:
        return xp.sqrt(_variance(xp, x, self.axes, self.correction, self.keepdim)).astype(x.dtype, copy=False)

    def backward(self, grad: Tensor) -> Tensor:
        std = _unreduce(self.output, self)
        return _var_backward(where(std == 0, 0.0, _unreduce(grad, self) / (std * 2)), self)


def _var_backward(grad: Tensor, node: Function) -> Tensor:
    """``2 (x - mean) / (n - correction) * grad``, with PyTorch's cases when there are no degrees of freedom.

    Over all of x (no dim, or a 0-d x) and ``n <= correction``: inf where x differs from its mean, nan
    where it equals it. With a dim, ``n`` is the size of the listed dims (1 for ``dim=()``, as PyTorch
    counts it) and the factor is used as it is: inf for n == correction, negative for n < correction.
    """
    x = node.inputs[0]
    if node.whole:
        dof = x.numel() - node.correction
        if dof <= 0:
            return grad * where(x == x.mean(), math.nan, math.inf)
        return grad * (2.0 / dof) * (x - x.mean())
    dof = node.listed_count - node.correction
    return grad * (2.0 / dof if dof != 0 else math.inf) * (x - x.mean(dim=node.axes, keepdim=True))


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    """``out = sum_i x_i`` over ``dim`` (int or tuple; all dims if None or ``()``). Integer and bool input sum to int64.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.sum(torch.tensor([[1, 2], [3, 4]]), dim=1)
        tensor([3, 7])
        >>> torch.ones(2, 3).sum(dim=())
        tensor(6.)
    """
    _require_tensor(input, "sum", "input", 1)
    out = _dtype.as_dtype(dtype) if dtype is not None else (input.dtype if input.dtype.is_floating_point else _dtype.int64)
    result = _reduce(Sum if dim is None else SumDim, input, dim, keepdim, "sum", dtype=out.np)
    _check_autograd_dtype(input, out)
    return result


class SumDim(Sum):
    """d sum(x, dim) = broadcast(g)"""

    node_name = "SumBackward1"


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """``out = sum_i x_i / N`` over ``dim``; integer input raises as in PyTorch (pass ``dtype=``).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.mean(torch.tensor([[1., 5.], [3., 2.]]), dim=0)
        tensor([2.0000, 3.5000])
    """
    _require_tensor(input, "mean", "input", 1)
    out = _dtype.as_dtype(dtype) if dtype is not None else input.dtype
    if not out.is_floating_point:
        raise RuntimeError(f"mean(): could not infer output dtype. {'Input' if dtype is None else 'Optional'} dtype "
                           f"must be either a floating point or complex dtype. Got: {_dtype.torch_name(out)}")
    # a float16 mean of wider input sums that input in float32 (PyTorch's accumulate type), not in float16
    source = input.to(_dtype.float32) if out is _dtype.float16 and input.dtype is not out else input.to(out)
    return _reduce(Mean, source, dim, keepdim, "mean", dtype=out.np,
                   node_name="MeanBackward0" if dim is None else "MeanBackward1")


def prod(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """``out = prod_i x_i`` over ``dim`` (one int, or all dims when None); integer input gives int64.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.prod(torch.tensor([[1, 2], [3, 4]]), dim=0)
        tensor([3, 8])
        >>> x = torch.tensor([0., 2., 3.], requires_grad=True)
        >>> x.prod().backward(); x.grad
        tensor([6., 0., 0.])
    """
    _require_tensor(input, "prod", "input", 1)
    out = _dtype.as_dtype(dtype) if dtype is not None else (input.dtype if input.dtype.is_floating_point else _dtype.int64)
    if dim is not None:
        dim = as_int(dim, "dim", "prod")
    result = _reduce(Prod, input, dim, keepdim, "prod", dtype=out.np, whole=dim is None,
                     node_name="ProdBackward0" if dim is None else "ProdBackward1")
    _check_autograd_dtype(input, out)
    return result


def _correction(unbiased: Any, correction: Any) -> int | float:
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


_DOF_WARNING = ("{}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction factor (input "
                "numel divided by output numel). (Triggered internally at "
                "/__w/pytorch/pytorch/aten/src/ATen/native/ReduceOps.cpp:1861.)")  # PyTorch 2.13 names its C++ source


def _var_like(cls: type[Function], input: Tensor, dim: Any, keepdim: bool, correction: Any, function: str) -> Tensor:
    """var or std: checks the dtype and the dims, warns as PyTorch when there are no degrees of freedom."""
    if not input.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    axes = _axes(dim, input.ndim, function, one_pass=True)
    outputs = 1
    for i, size in enumerate(input.shape):
        outputs *= 1 if i in axes else size
    factor = input.numel() // outputs if outputs else 0  # PyTorch's "reduction factor"
    if factor - correction <= 0:
        warnings.warn(_DOF_WARNING.format(function), UserWarning, stacklevel=3)
    # the backward's N: the size of the listed dims, which PyTorch takes to be 1 for dim=() (see _var_backward)
    listed = tuple(normalize_dim(d, input.ndim) for d in _dim_list(dim)) if input.ndim else ()
    return cls.apply(input, axes=axes, keepdim=bool(keepdim), correction=correction,
                     whole=dim is None or input.ndim == 0, listed_count=_count(input.shape, listed))


def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """``out = sum((x - mean)^2) / (N - correction)``; Bessel's correction (1) by default.

    The squared deviations add up in float64, as in PyTorch on the CPU (see :func:`_variance`).
    ``N - correction <= 0`` warns and gives inf (or nan where every value equals the mean).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.var(torch.tensor([1., 2., 3., 4.]))
        tensor(1.6667)
        >>> torch.var(torch.tensor([1., 2., 3., 4.]), correction=0)
        tensor(1.2500)
        >>> torch.var(torch.tensor([10000., 10000.5, 10001.]))
        tensor(0.2500)
    """
    _require_tensor(input, "var", "input", 1)
    if isinstance(unbiased, bool) is False and unbiased is not None and dim is None:
        dim, unbiased = unbiased, None
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return _var_like(Var, input, dim, keepdim, _correction(unbiased, correction), "var")


def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """``out = sqrt(var(x))``, the standard deviation (see :func:`var`).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.std(torch.tensor([1., 2., 3., 4.]))
        tensor(1.2910)
    """
    _require_tensor(input, "std", "input", 1)
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return _var_like(Std, input, dim, keepdim, _correction(unbiased, correction), "std")
