"""The softmax family: ``log_softmax``, ``softmax`` and ``logsumexp``, each one node on the tape.

Forward, stable for any finite logits (the row maximum ``m`` is subtracted first, so ``exp`` never
overflows)::

    log_softmax(x)_i = (x_i - m) - log(sum_j exp(x_j - m))
    softmax(x)_i     = exp(x_i - m) / sum_j exp(x_j - m)
    logsumexp(x)     = m + log(sum_j exp(x_j - m))      (m taken as 0 where it is infinite)

Backward, with y the output and g the incoming gradient (sums along ``dim``)::

    log_softmax:  dx = g - exp(y) * sum(g)
    softmax:      dx = y * (g - sum(g * y))
    logsumexp:    dx = g * exp(x - y)

The two backward formulas are themselves nodes (``LogSoftmaxBackwardData``, ``SoftmaxBackwardData``)
with one fused forward each and a backward in Tensor ops, so gradients of gradients work. float16
input is computed in float32 and rounded back, as PyTorch does.

>>> import minitorch_lsm as torch
>>> torch.log_softmax(torch.tensor([1., 2., 3., 4., 5.]), dim=0)
tensor([-4.4519, -3.4519, -2.4519, -1.4519, -0.4519])
>>> torch.softmax(torch.tensor([[0., 0.], [1e4, 0.]]), dim=1)
tensor([[0.5000, 0.5000],
        [1.0000, 0.0000]])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import as_int, normalize_dim, normalize_dims
from .elementwise import _xp
from .reduction import _count, _kept_shape, _unreduce


def _compute_dtype(array: Any) -> Any:
    """float16 accumulates in float32; other floats compute in their own precision."""
    return np.float32 if array.dtype == np.float16 else array.dtype


def _shifted(x: Any, axis: int) -> Any:
    """``x - max(x)`` along ``axis`` in the compute dtype (a fresh array we may overwrite)."""
    x = x.astype(_compute_dtype(x), copy=False)
    return x - x.max(axis=axis, keepdims=True)


class LogSoftmax(Function):
    """d log_softmax(x) = g - exp(y) * sum(g)"""

    keeps_output = True

    def forward(self, x: Any) -> Any:
        if x.size == 0:
            return x.copy()
        xp, axis = _xp(x), self.axis
        out = _shifted(x, axis)
        total = xp.exp(out).sum(axis=axis, keepdims=True)
        out -= xp.log(total, out=total)
        return out.astype(x.dtype, copy=False)

    def backward(self, grad: Tensor) -> Tensor:
        return LogSoftmaxBackwardData.apply(grad, self.output, axis=self.axis)


class LogSoftmaxBackwardData(Function):
    """z = g - exp(y) * sum(g); dz/dg: gg - sum(gg * exp(y)), dz/dy: -gg * exp(y) * sum(g)"""

    keeps_inputs = True

    def forward(self, g: Any, y: Any) -> Any:
        xp, dtype = _xp(g), _compute_dtype(g)
        g32 = g.astype(dtype, copy=False)
        out = xp.exp(y.astype(dtype, copy=False))
        out *= g32.sum(axis=self.axis, keepdims=True)
        return (g32 - out).astype(g.dtype, copy=False)

    def backward(self, gg: Tensor) -> tuple[Tensor, Tensor]:
        g, y = self.inputs
        p = y.exp()
        grad_g = gg - (gg * p).sum(self.axis, keepdim=True)
        grad_y = -gg * p * g.sum(self.axis, keepdim=True)
        return grad_g, grad_y


class Softmax(Function):
    """d softmax(x) = y * (g - sum(g * y))"""

    keeps_output = True

    def forward(self, x: Any) -> Any:
        if x.size == 0:
            return x.copy()
        xp = _xp(x)
        out = xp.exp(_shifted(x, self.axis))
        out /= out.sum(axis=self.axis, keepdims=True)
        return out.astype(x.dtype, copy=False)

    def backward(self, grad: Tensor) -> Tensor:
        return SoftmaxBackwardData.apply(grad, self.output, axis=self.axis)


class SoftmaxBackwardData(Function):
    """z = y * (g - sum(g * y)); dz/dg: y * (gg - sum(gg * y)), dz/dy: gg * (g - sum(g * y)) - g * sum(gg * y)"""

    keeps_inputs = True

    def forward(self, g: Any, y: Any) -> Any:
        dtype = _compute_dtype(g)
        g32, y32 = g.astype(dtype, copy=False), y.astype(dtype, copy=False)
        out = g32 * y32
        out -= y32 * out.sum(axis=self.axis, keepdims=True)
        return out.astype(g.dtype, copy=False)

    def backward(self, gg: Tensor) -> tuple[Tensor, Tensor]:
        g, y = self.inputs
        gg_y = (gg * y).sum(self.axis, keepdim=True)
        grad_g = y * (gg - gg_y)
        grad_y = gg * (g - (g * y).sum(self.axis, keepdim=True)) - g * gg_y
        return grad_g, grad_y


class Logsumexp(Function):
    """d logsumexp(x) = g * exp(x - y)"""

    keeps_inputs = keeps_output = True

    def forward(self, x: Any) -> Any:
        xp = _xp(x)
        self.kept_shape = _kept_shape(x.shape, self.axes)
        if _count(x.shape, self.axes) == 0:  # an empty sum: log(0) = -inf
            return xp.full(self.kept_shape if self.keepdim else _reduced_shape(x.shape, self.axes), -np.inf, x.dtype)
        x32 = x.astype(_compute_dtype(x), copy=False)
        peak = x32.max(axis=self.axes, keepdims=True)
        peak[xp.isinf(peak)] = 0  # +-inf maxima: shift by 0 so inf stays inf and an all -inf row gives -inf
        out = xp.log(xp.exp(x32 - peak).sum(axis=self.axes, keepdims=True)) + peak
        if not self.keepdim:
            out = out.reshape(_reduced_shape(x.shape, self.axes))
        return out.astype(x.dtype, copy=False)

    def backward(self, grad: Tensor) -> Tensor:
        return _unreduce(grad, self) * (self.inputs[0] - _unreduce(self.output, self)).exp()


def _reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(s for i, s in enumerate(shape) if i not in axes)


# ---------------------------------------------------------------------- argument handling
def _kernel_error(name: str, dtype: _dtype.dtype, last_dim: bool) -> NotImplementedError:
    kernel = f"{name}_lastdim_kernel_impl" if last_dim else f"{name}_kernel_impl"
    return NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.torch_name(dtype)}\'')


def softmax_op(cls: type[Function], name: str, input: Tensor, dim: Any, dtype: Any) -> Tensor:
    """Shared by log_softmax and softmax: check arguments as PyTorch's binding does, cast, apply."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    axis = normalize_dim(as_int(dim, "dim", name, position=1), input.ndim, name)
    if dtype is not None:
        if not isinstance(dtype, _dtype.dtype) and dtype not in (float, int, bool):
            raise TypeError(f"{name}(): argument 'dtype' must be torch.dtype, not {type(dtype).__name__}")
        input = input.to(_dtype.as_dtype(dtype))
    if not input.dtype.is_floating_point:
        if input.numel() == 0:
            return input.clone()
        raise _kernel_error(name, input.dtype, last_dim=axis == max(input.ndim - 1, 0))
    if input.ndim == 0:
        return cls.apply(input.reshape(1), axis=0).reshape(())
    return cls.apply(input, axis=axis)


def log_softmax(input: Tensor, dim: Any, dtype: Any = None) -> Tensor:
    """``x - logsumexp(x, dim)``: log-probabilities along ``dim`` (``torch.log_softmax``; dim required).

    >>> import minitorch_lsm as torch
    >>> torch.tensor([[1., 2., 3.]]).log_softmax(1)
    tensor([[-2.4076, -1.4076, -0.4076]])
    """
    return softmax_op(LogSoftmax, "log_softmax", input, dim, dtype)


def softmax(input: Tensor, dim: Any, dtype: Any = None) -> Tensor:
    """``exp(x) / sum(exp(x), dim)``: probabilities along ``dim`` (``torch.softmax``; dim required).

    >>> import minitorch_lsm as torch
    >>> torch.tensor([1., 1.]).softmax(0)
    tensor([0.5000, 0.5000])
    """
    return softmax_op(Softmax, "softmax", input, dim, dtype)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x), dim))`` computed stably; integer and bool input give the default float dtype.

    >>> import minitorch_lsm as torch
    >>> torch.logsumexp(torch.tensor([[1, 2, 3], [1, 1, 1]]), 1)
    tensor([3.4076, 2.0986])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"logsumexp(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not isinstance(dim, (list, tuple)):
        dim = (as_int(dim, "dim", "logsumexp", position=1),)
    axes = normalize_dims(tuple(dim), input.ndim, "logsumexp")
    if not input.dtype.is_floating_point:
        input = input.to(_dtype.get_default_dtype())
    return Logsumexp.apply(input, axes=axes, keepdim=bool(keepdim))
