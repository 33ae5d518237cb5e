"""Selection, ``clamp maximum minimum where``, and copies and moves, ``clone`` and ``.to()``.

Each class is one tape node; its docstring is the derivative rule it applies. A selection op passes each
gradient back to the input its value came from (``d where(c, a, b) = where(c, da, 0) + where(c, 0, db)``).

Examples:
    >>> import minitorch_lsm as torch
    >>> torch.clamp(torch.tensor([-1., 2.]), min=0)
    tensor([0., 2.])
"""
from __future__ import annotations

from typing import Any

from .. import _device, _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from ._elementwise_util import _NUMBER_TYPES, Number, _binary, _cast, _pair_dtype, _require_tensor, _scalar_of, _xp
from ._util import as_operand, select


# ====================================================================== selection
class Clamp(Function):
    """d clamp(x, lo, hi) = [lo <= x <= hi] dx  (number bounds; a NaN x gets no gradient)"""

    keeps_inputs = True
    node_name = "ClampBackward1"

    def forward(self, x: Any) -> Any:
        xp, out = _xp(x), _cast(x, self.dtype)
        if self.low is not None:
            out = xp.maximum(out, _scalar_of(self.low, self.dtype))  # NaN propagates, as in torch
        if self.high is not None:
            out = xp.minimum(out, _scalar_of(self.high, self.dtype))
        return out if out is not x else out.copy()

    def backward(self, grad: Tensor) -> Tensor:
        x = self.inputs[0]
        if self.low is not None and self.high is not None:
            inside = (x >= self.low) & (x <= self.high)
        else:
            inside = x >= self.low if self.low is not None else x <= self.high
        return where(inside, grad, 0.0)


class ClampTensor(Function):
    """d clamp(x, lo, hi) = [lo <= x <= hi] dx + [x < lo < hi] dlo + [x > hi or hi < lo] dhi  (tensor bounds)"""

    keeps_inputs = True
    node_name = "ClampBackward0"

    def forward(self, x: Any, *bounds: Any) -> Any:
        xp, out = _xp(x), _cast(x, self.dtype)
        low = bounds[0] if self.has_low else None
        high = bounds[-1] if self.has_high else None
        if low is not None:
            out = xp.maximum(out, _cast(low, self.dtype))
        if high is not None:
            out = xp.minimum(out, _cast(high, self.dtype))
        return out if out is not x else out.copy()

    def backward(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, *bounds = self.inputs
        low = bounds[0] if self.has_low else None
        high = bounds[-1] if self.has_high else None
        if low is not None and high is not None:
            grads = (where((x >= low) & (x <= high), grad, 0.0), where((x < low) & (low < high), grad, 0.0),
                     where((x > high) | (high < low), grad, 0.0))
        elif low is not None:
            grads = (where(x >= low, grad, 0.0), where(x < low, grad, 0.0))
        else:
            grads = (where(x <= high, grad, 0.0), where(x > high, grad, 0.0))
        return tuple(g if need else None for g, need in zip(grads, self.needs_input_grad))


def _clamp_signature_error(input: Any, min: Any, max: Any) -> TypeError:  # noqa: A002
    given = [input, min, max] if max is not None else ([input, min] if min is not None else [input])
    names = ", ".join("Tensor" if isinstance(v, Tensor) else type(v).__name__ for v in given)
    return TypeError(f"clamp() received an invalid combination of arguments - got ({names}), but expected one of:\n"
                     " * (Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = None)\n"
                     " * (Tensor input, Number min = None, Number max = None, *, Tensor out = None)\n")


def clamp(input: Tensor, min: Number | Tensor | None = None, max: Number | Tensor | None = None) -> Tensor:  # noqa: A002
    """``out = min(max(input, min), max)`` (also ``clip``); tensor bounds work elementwise and broadcast.

    Number bounds are stored in the result dtype first, as in PyTorch: ``clamp(uint8, min=-1)`` clamps to 255.
    Both bounds are numbers or both are tensors (a 0-d tensor that needs no gradient also counts as a number).
    With ``min > max`` every element becomes ``max``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.clamp(torch.tensor([-2., 0.5, 3.]), min=0, max=1)
        tensor([0.0000, 0.5000, 1.0000])
        >>> torch.tensor([0, 1, 255], dtype=torch.uint8).clamp(min=-1)
        tensor([255, 255, 255], dtype=torch.uint8)
    """
    if not isinstance(input, Tensor) or any(b is not None and not isinstance(b, (Tensor, *_NUMBER_TYPES))
                                            for b in (min, max)):
        raise _clamp_signature_error(input, min, max)
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    tensors = [b for b in (min, max) if isinstance(b, Tensor)]
    if tensors and len(tensors) < len([b for b in (min, max) if b is not None]):  # a tensor and a number
        if not all(t.ndim == 0 and not t.requires_grad for t in tensors):
            raise _clamp_signature_error(input, min, max)
        min, max = (b.item() if isinstance(b, Tensor) else b for b in (min, max))
        tensors = []
    if tensors:
        bounds = [as_operand(b, input) for b in (min, max) if b is not None]
        out = _dtype.result_type(input, *bounds)
        if out is _dtype.bool and len(bounds) == 2:
            raise NotImplementedError("\"clamp_cpu\" not implemented for 'Bool'")
        return ClampTensor.apply(input, *bounds, dtype=out.np, has_low=min is not None, has_high=max is not None)
    out = _dtype.result_type(input, *[as_operand(b, input) for b in (min, max) if b is not None])
    if out is _dtype.bool:
        kernel = "clamp_scalar_cpu" if min is not None and max is not None else \
            ("clamp_min_scalar_cpu" if min is not None else "clamp_max_scalar_cpu")
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    for bound in (min, max):
        if bound is not None:
            _dtype.check_fits(bound, out)
    return Clamp.apply(input, dtype=out.np, low=min, high=max)


class Maximum(Function):
    """d max(a, b): the gradient goes to the larger input, split in half on ties (NaN: to both)"""

    keeps_inputs = True

    def forward(self, a: Any, b: Any) -> Any:
        return _xp(a).maximum(_cast(a, self.dtype), _cast(b, self.dtype))

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        a, b = self.inputs
        share = where(a == b, grad / 2, grad)
        return where(a < b, 0.0, share), where(b < a, 0.0, share)


class Minimum(Maximum):
    """d min(a, b): the gradient goes to the smaller input, split in half on ties (NaN: to both)"""

    def forward(self, a: Any, b: Any) -> Any:
        return _xp(a).minimum(_cast(a, self.dtype), _cast(b, self.dtype))

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        a, b = self.inputs
        share = where(a == b, grad / 2, grad)
        return where(a > b, 0.0, share), where(b > a, 0.0, share)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """``out = max(input, other)`` elementwise (nan wins); both must be tensors.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.maximum(torch.tensor([1., 5.]), torch.tensor([3., float('nan')]))
        tensor([3., nan])
    """
    _require_tensor(input, "maximum", "input", 1)
    _require_tensor(other, "maximum", "other", 2)
    return _binary(Maximum, "maximum", input, other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """``out = min(input, other)`` elementwise (nan wins); both must be tensors.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.minimum(torch.tensor([1., 5.]), torch.tensor([3., 2.]))
        tensor([1., 2.])
    """
    _require_tensor(input, "minimum", "input", 1)
    _require_tensor(other, "minimum", "other", 2)
    return _binary(Minimum, "minimum", input, other)


class Where(Function):
    """d where(c, a, b) = where(c, da, 0) + where(c, 0, db)"""

    keeps_inputs = True
    grad_reads = ((), (0,), (0,))  # only the condition

    def forward(self, condition: Any, a: Any, b: Any) -> Any:
        return select(condition, _cast(a, self.dtype), _cast(b, self.dtype))

    def backward(self, grad: Tensor) -> tuple[None, Tensor, Tensor]:
        condition = self.inputs[0]
        return None, where(condition, grad, 0.0), where(condition, 0.0, grad)


def where(condition: Tensor, input: Any, other: Any) -> Tensor:
    """``out = input if condition else other``, elementwise; all three broadcast together.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.where(torch.tensor([True, False, True]), torch.tensor([1, 2, 3]), -1)
        tensor([ 1, -1,  3])
    """
    _require_tensor(condition, "where", "condition", 1)
    if condition.dtype is not _dtype.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{_dtype.torch_name(condition.dtype)}")
    a, b = as_operand(input, condition), as_operand(other, condition)
    out = _pair_dtype(a, b)
    if out is not _dtype.float16:  # a number operand is stored in the result dtype, checked (not for half)
        for operand in (a, b):
            if operand._wrapped:
                _dtype.check_fits(operand.item(), out)
    return Where.apply(condition, a, b, dtype=out.np)


# ====================================================================== dtype and device moves
class ToCopy(Function):
    """d x.to(dtype, device) = dx, moved back to x's device (the engine casts it to x's dtype)"""

    changes_device = True

    def forward(self, x: Any) -> Any:
        self.source_device = _device.array_device(x)
        return _device.move(_cast(x, self.dtype.np), self.device)

    def backward(self, grad: Tensor) -> Tensor:
        return grad.to(self.source_device)


def to_dtype_device(x: Tensor, dtype: _dtype.dtype, device: _device.device, copy: bool = False) -> Tensor:
    """``x`` in ``dtype`` on ``device`` (``x.to(...)``): x itself if nothing changes and no copy is asked for.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([1., 2.]).to(torch.float64)
        tensor([1., 2.], dtype=torch.float64)
    """
    if dtype is x.dtype and device == x.device:
        return clone(x) if copy else x
    return ToCopy.apply(x, dtype=dtype, device=device)


class Clone(Function):
    """d clone(x) = dx"""

    def forward(self, x: Any) -> Any:
        return x.copy()

    def backward(self, grad: Tensor) -> Tensor:
        return grad


def clone(input: Tensor) -> Tensor:
    """``out = input``, a copy with its own memory; gradients flow through (``d out = d input``).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.clone(torch.tensor([1., 2.], requires_grad=True))
        tensor([1., 2.], grad_fn=<CloneBackward0>)
    """
    _require_tensor(input, "clone", "input", 1)
    return Clone.apply(input)
