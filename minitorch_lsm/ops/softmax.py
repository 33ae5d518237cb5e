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

Each formula is one small kernel on raw arrays (``_log_softmax_kernel`` ...), written with in-place
ufuncs into one output buffer; ``_rowwise`` runs it on cache-sized blocks of rows. For float32 rows
along the last axis of contiguous NumPy arrays each kernel hands its work to its C twin in
``minitorch_lsm/csrc/rows.c`` (same formula, one pass over memory per row), when the install built it.

>>> import minitorch_lsm as torch
>>> torch.log_softmax(torch.tensor([1., 2., 3., 4., 5.]), dim=0)
tensor([-4.4519, -3.4519, -2.4519, -1.4519, -0.4519])
>>> torch.softmax(torch.tensor([[0., 0.], [1e4, 0.]]), dim=1)
tensor([[0.5000, 0.5000],
        [1.0000, 0.0000]])
"""
from __future__ import annotations

import functools
import inspect
import math
from typing import Any

import numpy as np

from .. import _dtype, _threads
from ..autograd.function import Function
from ..tensor import Tensor
from . import _c
from ._elementwise_util import _xp
from ._util import as_int, normalize_dim, normalize_dims
from .reduction import _count, _kept_shape, _unreduce


def _compute_dtype(array: Any) -> Any:
    """float16 accumulates in float32; other floats compute in their own precision."""
    return _FLOAT32 if array.dtype == _FLOAT16 else array.dtype


_FLOAT16, _FLOAT32 = np.dtype(np.float16), np.dtype(np.float32)


# ---------------------------------------------------------------------- the kernels, on raw arrays
# Each kernel writes one formula into ``out`` (a buffer in the compute dtype) with in-place ufuncs and
# makes no temporary larger than one block (see ``_rowwise``): on the CPU the time goes to these
# passes over memory, so the fewer the better. docs/performance.md has the measurements.

def _max(x: Any, axis: int) -> Any:
    """The maximum along ``axis`` (kept as a size-1 dim), nan where the slice holds a nan.

    NumPy's row-wise ``max`` pays about 70 ns per row. Along the last axis of a contiguous NumPy array
    two routes give the same result faster: for many short rows (up to 64 elements) reducing a
    transposed copy, where each step compares two whole rows (2-10x); otherwise ``maximum.reduceat``
    at the start of each row (1.5-2.5x)."""
    if isinstance(x, np.ndarray) and axis == x.ndim - 1 and x.flags.c_contiguous:
        rows = x if x.ndim == 2 else x.reshape(math.prod(x.shape[:-1]), x.shape[-1])
        if rows.shape[1] <= 64 and rows.shape[0] >= 16:
            peak = np.maximum.reduce(np.ascontiguousarray(rows.T), axis=0)
        else:
            peak = np.maximum.reduceat(rows.reshape(-1), np.arange(0, rows.size, rows.shape[1]))
        return peak[:, None] if x.ndim == 2 else peak.reshape(x.shape[:-1] + (1,))
    return x.max(axis=axis, keepdims=True)


def _sum(a: Any, axis: int) -> Any:
    """``a.sum(axis, keepdims=True)`` of *non-negative* terms (exp). Along the last axis of a contiguous
    NumPy array this goes through ``einsum``, whose vectorised loop (adding in SIMD lanes) is 2-5x faster
    than NumPy's pairwise sum along a row. Its error grows faster than the pairwise sum's, which is
    harmless without cancellation; sums of signed gradients use ``_signed_sum``."""
    if axis == a.ndim - 1 and isinstance(a, np.ndarray) and a.flags.c_contiguous:
        if a.ndim == 2:
            return np.einsum("ij->i", a)[:, None]
        rows = a.reshape(math.prod(a.shape[:-1]), a.shape[-1])
        return np.einsum("ij->i", rows).reshape(a.shape[:-1] + (1,))
    return a.sum(axis=axis, keepdims=True)


def _signed_sum(a: Any, axis: int) -> Any:
    """``a.sum(axis, keepdims=True)`` by NumPy's pairwise summation: terms of both signs cancel, and a
    plain running sum (einsum) there doubled the error of log_softmax's gradient against float64. Along
    the last axis it starts from -0.0, so that a sum of only -0.0 terms is -0.0, as in PyTorch's last-dim
    kernels (its other kernels, and NumPy, start from +0.0); -0.0 + x is x for every other x. (CuPy's
    sum has no ``initial``.)"""
    if isinstance(a, np.ndarray) and axis == a.ndim - 1:
        return a.sum(axis=axis, keepdims=True, initial=-0.0)
    return a.sum(axis=axis, keepdims=True)


def _log_softmax_kernel(out: Any, x: Any, axis: int) -> None:
    """out = (x - m) - log(sum(exp(x - m))), in this order: m + log(sum) would round the log away for
    large logits (PyTorch's kernel keeps the same order)"""
    xp = _xp(x)
    xp.subtract(x, _max(x, axis), out=out)
    total = _sum(xp.exp(out), axis)  # the only temporary: one block of exp (see _rowwise)
    out -= xp.log(total, out=total)


def _log_softmax_half_rows_kernel(out: Any, x: Any, axis: int) -> None:
    """The log_softmax of float16 rows (``axis`` the last), in float32 as PyTorch's last-dim kernel computes
    it: the row's sum of exp, and then its log, are stored in float16 before the subtraction"""
    xp = _xp(x)
    xp.subtract(x, _max(x, axis), out=out)
    total = _sum(xp.exp(out), axis).astype(_FLOAT16).astype(_FLOAT32)
    out -= xp.log(total).astype(_FLOAT16).astype(_FLOAT32)


def _softmax_kernel(out: Any, x: Any, axis: int) -> None:
    """out = exp(x - m) / sum(exp(x - m))"""
    xp = _xp(x)
    xp.subtract(x, _max(x, axis), out=out)
    xp.exp(out, out=out)
    out /= _sum(out, axis)


def _log_softmax_backward_kernel(out: Any, g: Any, y: Any, axis: int) -> None:
    """out = g - exp(y) * sum(g)"""
    xp = _xp(g)
    total = _signed_sum(g, axis)
    xp.exp(y, out=out)
    out *= total
    xp.subtract(g, out, out=out)


def _softmax_backward_kernel(out: Any, g: Any, y: Any, axis: int) -> None:
    """out = y * (g - sum(g * y)), in this order: where y = 0 the sign of zero follows PyTorch's"""
    xp = _xp(g)
    xp.multiply(g, y, out=out)
    xp.subtract(g, _signed_sum(out, axis), out=out)
    out *= y


# The name of each kernel's C twin in ``_ckernels`` (where it is built), for float32 rows along the last axis
# of C-contiguous NumPy arrays (the twin itself says whether it takes the arrays). A twin computes the same
# formula in one pass over memory per row (NumPy's ufuncs make one pass each), with its own ``exp`` and sums
# of about the same error, and shares the rows out over its own threads. (float16 rows have a kernel of
# their own, with no twin.)
_C_TWINS = {_log_softmax_kernel: "log_softmax", _softmax_kernel: "softmax",
            _log_softmax_backward_kernel: "log_softmax_backward", _softmax_backward_kernel: "softmax_backward"}
_C_PARALLEL = 1 << 17  # elements from which the C kernels use every thread (measured: see docs/performance.md)


_BLOCK = 1 << 19  # elements per block (2 MiB of float32): measured best against 1 << 17, 1 << 21 and no blocks


def _rowwise(kernel: Any, axis: int, *arrays: Any) -> Any:
    """``kernel(out, *arrays, axis)`` for same-shaped arrays; returns ``out``, in the first array's dtype.

    The kernel's C twin (``_C_TWINS``) computes it where the twin takes the arrays. A 0-d array is treated
    as a 1-element vector. The kernels reduce along ``axis`` only, so on NumPy an array of more than
    ``_BLOCK`` elements is cut along axis 0 (when that is not ``axis``) into blocks of
    whole rows, and each block makes its few passes while it is still in the cache. Two or more blocks
    are shared out, in contiguous runs, over ``get_num_threads()`` threads (a smaller array is not worth
    waking a thread for); every row is computed as it would be in one thread, so the result does not
    depend on the thread count. float16 is computed in float32, a block at a time, and rounded once into
    the result."""
    first = arrays[0]
    if first.ndim == 0:
        return _rowwise(kernel, axis, *(a.reshape(1) for a in arrays)).reshape(())
    xp = _xp(first)
    out = xp.empty(first.shape, first.dtype)
    if out.size == 0:
        return out
    twin = _C_TWINS.get(kernel) if _c.enabled and axis == first.ndim - 1 else None
    if twin is not None:
        threads = _threads.get_num_threads() if out.size >= _C_PARALLEL else 1
        if getattr(_c.kernels, twin)(out, *arrays, first.shape[-1], threads):
            return out
    n, dtype = first.shape[0], _compute_dtype(first)
    step = n if axis == 0 or out.size <= _BLOCK or xp is not np else max(1, _BLOCK * n // out.size)
    if step == n and out.dtype == dtype:  # one block, no rounding: the kernel writes the result directly
        _with_row_buffer(first, axis, kernel, out, *arrays, axis)
        return out

    def run_blocks(starts: range) -> None:
        for start in starts:
            rows = slice(start, start + step)
            blocks = [a[rows].astype(dtype, copy=False) for a in arrays]
            work = out[rows] if out.dtype == dtype else xp.empty(blocks[0].shape, dtype)
            kernel(work, *blocks, axis=axis)
            if out.dtype != dtype:
                out[rows] = work

    starts = range(0, n, step)
    pieces = 1 if len(starts) == 1 else min(_threads.get_num_threads(), len(starts))
    if pieces == 1:
        _with_row_buffer(first, axis, run_blocks, starts)
        return out
    bounds = [len(starts) * i // pieces for i in range(pieces + 1)]
    _threads.run_in_parallel([functools.partial(_with_row_buffer, first, axis, run_blocks, starts[lo:hi])
                              for lo, hi in zip(bounds, bounds[1:])])
    return out


def _with_row_buffer(first: Any, axis: int, work: Any, *args: Any) -> None:
    """``work(*args)`` in this thread, with NumPy's ufunc buffer no longer than a row when rows along the
    last axis have 256 to 8191 elements: with the default 8192-element buffer, a ufunc whose operand (the
    row's max or sum) is broadcast along rows shorter than that copies every row through the buffer, and
    ``x - m`` costs three times a plain ``x - 1``. The setting is per thread and restored on exit."""
    if isinstance(first, np.ndarray) and axis == first.ndim - 1 and 256 <= first.shape[-1] < 8192:
        with np.errstate():
            np.setbufsize(first.shape[-1] // 16 * 16)
            work(*args)
    else:
        work(*args)


# ---------------------------------------------------------------------- the nodes
class LogSoftmax(Function):
    """d log_softmax(x) = g - exp(y) * sum(g)"""

    keeps_output = True

    def forward(self, x: Any) -> Any:
        half_rows = x.dtype == _FLOAT16 and self.axis == x.ndim - 1
        return _rowwise(_log_softmax_half_rows_kernel if half_rows else _log_softmax_kernel, self.axis, x)

    def backward(self, grad: Tensor) -> Tensor:
        return LogSoftmaxBackwardData.apply(grad, self.output, axis=self.axis)


class LogSoftmaxBackwardData(Function):
    """z = g - exp(y) * sum(g); dz/dg: gg - sum(gg * exp(y)), dz/dy: -gg * exp(y) * sum(g)"""

    keeps_inputs = True
    grad_reads = ((1,), (0, 1))

    def forward(self, g: Any, y: Any) -> Any:
        return _rowwise(_log_softmax_backward_kernel, self.axis, g, y)

    def backward(self, gg: Tensor) -> tuple[Tensor | None, Tensor | None]:
        g, y = self.inputs
        need_g, need_y = self.needs_input_grad
        p = y.exp()
        grad_g = gg - (gg * p).sum(self.axis, keepdim=True) if need_g else None
        grad_y = -gg * p * g.sum(self.axis, keepdim=True) if need_y else None
        return grad_g, grad_y


class Softmax(Function):
    """d softmax(x) = y * (g - sum(g * y))"""

    keeps_output = True

    def forward(self, x: Any) -> Any:
        return _rowwise(_softmax_kernel, self.axis, x)

    def backward(self, grad: Tensor) -> Tensor:
        return SoftmaxBackwardData.apply(grad, self.output, axis=self.axis)


class SoftmaxBackwardData(Function):
    """z = y * (g - sum(g * y)); dz/dg: y * (gg - sum(gg * y)) (this node on gg), dz/dy: gg * (g - sum(g * y))
    - g * sum(gg * y)"""

    keeps_inputs = True
    grad_reads = ((1,), (0, 1))

    def forward(self, g: Any, y: Any) -> Any:
        return _rowwise(_softmax_backward_kernel, self.axis, g, y)

    def backward(self, gg: Tensor) -> tuple[Tensor | None, Tensor | None]:
        g, y = self.inputs
        need_g, need_y = self.needs_input_grad
        grad_g = SoftmaxBackwardData.apply(gg, y, axis=self.axis) if need_g else None  # linear in g: this node
        if not need_y:
            return grad_g, None
        gg_y = (gg * y).sum(self.axis, keepdim=True)
        return grad_g, gg * (g - (g * y).sum(self.axis, keepdim=True)) - g * gg_y


class Logsumexp(Function):
    """d logsumexp(x) = g * exp(x - y)"""

    keeps_inputs = keeps_output = True

    def forward(self, x: Any) -> Any:
        xp = _xp(x)
        self.kept_shape = _kept_shape(x.shape, self.axes)
        shape = self.kept_shape if self.keepdim else _reduced_shape(x.shape, self.axes)
        if _count(x.shape, self.axes) == 0:  # an empty sum: log(0) = -inf
            return xp.full(shape, -np.inf, x.dtype)
        x = x.reshape(1) if x.ndim == 0 else x  # a 0-d input reduces over no axis; as a 1-vector each step stays an array
        peak = x.max(axis=self.axes, keepdims=True).astype(_compute_dtype(x), copy=False)
        peak = xp.where(xp.isinf(peak), 0, peak)  # +-inf maxima: shift by 0 so inf stays inf and all -inf gives -inf
        shifted = xp.subtract(x, peak, dtype=peak.dtype)
        xp.exp(shifted, out=shifted)
        total = _sum(shifted, self.axes[0]) if len(self.axes) == 1 else shifted.sum(axis=self.axes, keepdims=True)
        out = xp.log(total, out=total)
        out += peak
        return out.reshape(shape).astype(x.dtype, copy=False)

    def backward(self, grad: Tensor) -> Tensor:
        return _unreduce(grad, self) * (self.inputs[0] - _unreduce(self.output, self)).exp()


def _reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(s for i, s in enumerate(shape) if i not in axes)


# ---------------------------------------------------------------------- shared by log_softmax and softmax
def _kernel_error(name: str, dtype: _dtype.dtype, last_dim: bool) -> NotImplementedError:
    kernel = f"{name}_lastdim_kernel_impl" if last_dim else f"{name}_kernel_impl"
    return NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.torch_name(dtype)}\'')


def _softmax_op(cls: type[Function], name: str, input: Tensor, dim: int, dtype: Any) -> Tensor:
    """Shared by log_softmax and softmax (arguments already checked): cast, check the dtype, apply."""
    axis = normalize_dim(dim, input.ndim, name)
    if dtype is not None:
        input = input.to(_dtype.as_dtype(dtype))
    if not input.dtype.is_floating_point:
        if input.numel() == 0:
            return input.clone()
        raise _kernel_error(name, input.dtype, last_dim=axis == max(input.ndim - 1, 0))
    return cls.apply(input, axis=axis)


# ---------------------------------------------------------------------- PyTorch's argument binding
def _where(position: int | None) -> str:
    return f" (position {position})" if position is not None else ""


def _tensor_arg(value: Any, name: str, function: str, position: int | None) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument '{name}'{_where(position)} must be Tensor, not {type(value).__name__}")
    return value


def _int_arg(value: Any, name: str, function: str, position: int | None) -> int:
    return value if type(value) is int else as_int(value, name, function, position=position)


def _int_list_arg(value: Any, name: str, function: str, position: int | None) -> tuple[int, ...]:
    """PyTorch's ``int[1]``: one int or a tuple/list of ints."""
    if not isinstance(value, (list, tuple)):
        try:
            return (as_int(value, name, function, position=position),)
        except TypeError:
            raise TypeError(f"{function}(): argument '{name}'{_where(position)} must be tuple of ints, "
                            f"not {type(value).__name__}") from None
    for i, item in enumerate(value):
        try:
            as_int(item, name, function)
        except TypeError:
            raise TypeError(f"{function}(): argument '{name}'{_where(position)} must be tuple of ints, but found "
                            f"element of type {type(item).__name__} at pos {i}") from None
    return tuple(as_int(item, name, function) for item in value)


def _bool_arg(value: Any, name: str, function: str, position: int | None) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{function}(): argument '{name}'{_where(position)} must be bool, not {type(value).__name__}")
    return bool(value)


def _dtype_arg(value: Any, name: str, function: str, position: int | None) -> Any:
    if value is not None and not isinstance(value, _dtype.dtype) and value not in (float, int, bool):
        raise TypeError(f"{function}(): argument '{name}'{_where(position)} must be torch.dtype, "
                        f"not {type(value).__name__}")
    return value


class _Bound:
    """A function of the family as PyTorch's binding presents it, both as ``torch.f(x, ...)`` and as
    the method ``x.f(...)``.

    The binding checks each argument's type and names it in its TypeError, numbering positional
    arguments from the tensor in the first form and after it in the second (``dim`` is position 2 of
    ``torch.log_softmax`` and position 1 of ``x.log_softmax``); keyword arguments get no number. As a
    descriptor on ``Tensor`` this object knows which form was used.
    """

    def __init__(self, function: Any, checks: dict[str, Any]) -> None:
        self.function, self.name, self.checks = function, function.__name__, checks
        signature = inspect.signature(function)
        self.names = tuple(signature.parameters)
        self.required = tuple(n for n, p in signature.parameters.items() if p.default is inspect.Parameter.empty)
        self.required_set = frozenset(self.required)
        functools.update_wrapper(self, function)  # name, docstring, __wrapped__ (so doctest finds the examples)

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        return self.call(args, kwargs, method=False)

    def __get__(self, tensor: Tensor | None, owner: type | None = None) -> Any:
        if tensor is None:
            return self
        return lambda *args, **kwargs: self.call((tensor,) + args, kwargs, method=True)

    def __repr__(self) -> str:
        return f"<function {self.name}>"

    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any], method: bool) -> Tensor:
        if len(args) > len(self.names):
            raise TypeError(f"{self.name}() takes from {len(self.required)} to {len(self.names)} positional arguments "
                            f"but {len(args)} were given")
        first = 0 if method else 1  # PyTorch counts the tensor as argument 1 only in the torch.f(x, ...) form
        values = {}
        for i, value in enumerate(args):
            name = self.names[i]
            values[name] = self.checks[name](value, name, self.name, i + first)
        for name, value in kwargs.items():
            if name not in self.checks:
                raise TypeError(f"{self.name}() got an unexpected keyword argument '{name}'")
            if name in values:
                raise TypeError(f"{self.name}() got multiple values for argument '{name}'")
            values[name] = self.checks[name](value, name, self.name, None)
        if not self.required_set <= values.keys():
            missing = [n for n in self.required if n not in values]
            quoted = ", ".join(f'"{n}"' for n in missing)
            raise TypeError(f"{self.name}() missing {len(missing)} required positional arguments: {quoted}")
        return self.function(**values)


def _binding(**checks: Any) -> Any:
    """Decorator: the function behind PyTorch's binding, with these argument checks (the tensor's is implied)."""
    return lambda function: _Bound(function, {"input": _tensor_arg, **checks})


# ---------------------------------------------------------------------- the functions
@_binding(dim=_int_arg, dtype=_dtype_arg)
def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """``x - logsumexp(x, dim)``: log-probabilities along ``dim`` (``torch.log_softmax``; dim required).

    >>> import minitorch_lsm as torch
    >>> torch.tensor([[1., 2., 3.]]).log_softmax(1)
    tensor([[-2.4076, -1.4076, -0.4076]])
    """
    return _softmax_op(LogSoftmax, "log_softmax", input, dim, dtype)


@_binding(dim=_int_arg, dtype=_dtype_arg)
def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """``exp(x) / sum(exp(x), dim)``: probabilities along ``dim`` (``torch.softmax``; dim required).

    >>> import minitorch_lsm as torch
    >>> torch.tensor([1., 1.]).softmax(0)
    tensor([0.5000, 0.5000])
    """
    return _softmax_op(Softmax, "softmax", input, dim, dtype)


@_binding(dim=_int_list_arg, keepdim=_bool_arg)
def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x), dim))`` computed stably; integer and bool input give the default float dtype.

    >>> import minitorch_lsm as torch
    >>> torch.logsumexp(torch.tensor([[1, 2, 3], [1, 1, 1]]), 1)
    tensor([3.4076, 2.0986])
    """
    axes = normalize_dims(tuple(dim), input.ndim, "logsumexp")
    if not input.dtype.is_floating_point:
        input = input.to(_dtype.get_default_dtype())
    return Logsumexp.apply(input, axes=axes, keepdim=keepdim)
