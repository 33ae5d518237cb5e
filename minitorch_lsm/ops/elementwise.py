"""Elementwise arithmetic with broadcasting and PyTorch's type promotion.

The elementwise ops live in four files: this one (``add sub mul div pow floor_divide remainder``),
``selection.py`` (``clamp maximum minimum where``, ``clone`` and ``.to()``), ``unary.py``
(``exp log sqrt sin tanh sigmoid relu ...``) and ``comparison.py`` (``eq lt ...``, logical and bitwise
ops); the helpers they share are in ``_elementwise_util.py``, and ``a + alpha * b`` rounded once (add and
sub, and the optimizers) in ``_scaled_add.py``. Each class is one tape node; its docstring
is the derivative rule it applies. Broadcasting needs no code in backward: the engine sums each gradient
back to its input's shape (``fit_to_input``).

How an operand enters the arithmetic follows PyTorch's CPU kernels (``_operands``): it is first
converted to the result dtype (so ``float16 + 1e5`` adds inf), then the arithmetic runs in the
"opmath" dtype (float16 in float32) and is rounded once. Multiplication and division read a
one-element second operand at its own precision instead (``float16 * 1e5`` stays finite for small
inputs), as PyTorch's kernels do.

Examples:
    >>> import minitorch_lsm as torch
    >>> torch.tensor([1, 2]) / 2
    tensor([0.5000, 1.0000])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from ._elementwise_util import (_NUMBER_TYPES, Number, _binary, _cast, _pair_dtype, _require_tensor, _scalar_of,
                                _tensor_pair, _xp, _zeros_like)
from ._scaled_add import _add_scaled
from ._util import broadcast_shape
from .selection import where


def _not_implemented(op: str) -> Any:
    """The error PyTorch's autograd raises for an op it has no derivative for."""
    return RuntimeError(f"derivative for aten::{op} is not implemented")


# ====================================================================== how operands enter the arithmetic
def _operands(fn: Function, a: Any, b: Any, exact_scalar: bool = False) -> tuple[Any, Any]:
    """``a`` and ``b`` as PyTorch's kernel sees them, in the dtype it computes in.

    Each is converted to the result dtype ``fn.dtype`` first, then to ``_dtype.opmath`` (float16 runs in
    float32). With ``exact_scalar`` a one-element ``b`` skips the first step, as the mul/div kernels read it
    with ``original_scalar_value``: ``f16 * 1e5`` multiplies by 1e5, not by inf.
    """
    compute = _dtype.opmath(fn.dtype)
    a = _cast(_cast(a, fn.dtype), compute)
    b = _cast(b, compute) if exact_scalar and b.size == 1 else _cast(_cast(b, fn.dtype), compute)
    return a, b


# ====================================================================== binary arithmetic
class Add(Function):
    """d(a + alpha b) = da + alpha db"""

    alpha: Number = 1

    def forward(self, a: Any, b: Any) -> Any:
        return _add_scaled(a, b, self.alpha, self.dtype)

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad, (grad if self.alpha == 1 else grad * self.alpha)


class Sub(Function):
    """d(a - alpha b) = da - alpha db"""

    alpha: Number = 1

    def forward(self, a: Any, b: Any) -> Any:
        return _add_scaled(a, b, self.alpha, self.dtype, sign=-1)

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad, (-grad if self.alpha == 1 else -grad * self.alpha)


class Rsub(Function):
    """d(b - alpha a) = -alpha da + db  (``torch.rsub(a, b)``: its inputs in the order the user gave them)"""

    alpha: Number = 1

    def forward(self, a: Any, b: Any) -> Any:
        return _add_scaled(b, a, self.alpha, self.dtype, sign=-1)

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        return (-grad if self.alpha == 1 else -grad * self.alpha), grad


class Mul(Function):
    """d(a * b) = b da + a db"""

    keeps_inputs = True
    grad_reads = ((1,), (0,))

    def forward(self, a: Any, b: Any) -> Any:
        a, b = _operands(self, a, b, exact_scalar=True)
        return _cast(a * b, self.dtype)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Function):
    """d(a / b) = da / b - (a / b) / b db  (in that order, so a tiny b does not overflow b**2)"""

    keeps_inputs = True
    grad_reads = ((1,), (0, 1))

    def forward(self, a: Any, b: Any) -> Any:
        a, b = _operands(self, a, b, exact_scalar=True)
        return _cast(a / b, self.dtype)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (grad / b if need_a else None), (-grad * (a / b / b) if need_b else None)


class Reciprocal(Function):
    """d(1 / x) = -dx / x**2"""

    keeps_output = True

    def forward(self, x: Any) -> Any:
        x = _cast(x, _dtype.opmath(self.dtype))
        return _cast(1 / x, self.dtype)

    def backward(self, grad: Tensor) -> Tensor:
        y = self.output
        return -grad * (y * y)


def reciprocal(input: Tensor) -> Tensor:
    """``out = 1 / input``; integer input gives the default float dtype.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.ops.elementwise import reciprocal
        >>> reciprocal(torch.tensor([2, 4]))
        tensor([0.5000, 0.2500])
    """
    _require_tensor(input, "reciprocal", "input", 1)
    out = input.dtype if input.dtype.is_floating_point else _dtype.get_default_dtype()
    return Reciprocal.apply(input, dtype=out.np)


class DivRounding(Function):
    """div(a, b, rounding_mode='floor' | 'trunc'): piecewise constant, so d = 0 (``floor_divide``: no derivative)"""

    node_name = "DivBackward2"
    mode: str = "floor"
    op: str = "div"

    def forward(self, a: Any, b: Any) -> Any:
        kind = np.dtype(self.dtype).kind
        _check_division(a, b, self.dtype, f"div_{self.mode}_cpu")
        xp = _xp(a)
        if kind in "iu":
            a, b = _cast(a, self.dtype), _cast(b, self.dtype)
            quotient = xp.floor_divide(a, b)
            if self.mode == "trunc" and kind == "i":  # C division rounds toward zero
                quotient = quotient + ((xp.remainder(a, b) != 0) & ((a < 0) != (b < 0)))
            return _cast(quotient, self.dtype)
        by_tensor = b.size != 1
        a, b = _operands(self, a, b, exact_scalar=True)
        if by_tensor and self.dtype == np.float16:  # the tensor-by-tensor kernel rounds every step to float16
            if self.mode == "floor":
                return _cast(_floor_divide_rounding(a, b, self.dtype), self.dtype)
            return _cast(xp.trunc(_cast(a / b, self.dtype)), self.dtype)
        if self.mode == "floor":
            return _cast(xp.floor_divide(a, b), self.dtype)
        return _cast(xp.trunc(a / b), self.dtype)

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        if self.op != "div":
            raise _not_implemented(self.op)
        return _zeros_like(grad), _zeros_like(grad)


def _floor_divide_rounding(a: Any, b: Any, np_dtype: Any) -> Any:
    """Python's floor division, as NumPy's ``floor_divide`` and PyTorch's kernel compute it (from ``fmod``),
    but with every intermediate result rounded to ``np_dtype``."""
    xp = _xp(a)

    def rounded(v: Any) -> Any:
        return _cast(_cast(v, np_dtype), a.dtype)

    mod = rounded(xp.fmod(a, b))
    quotient = rounded(rounded(a - mod) / b)
    quotient = xp.where((mod != 0) & ((b < 0) != (mod < 0)), rounded(quotient - 1), quotient)
    floor = xp.floor(quotient)
    floor = xp.where(quotient - floor > 0.5, floor + 1, floor)
    signed_zero = xp.copysign(xp.zeros_like(quotient), a / b)
    return xp.where(b == 0, a / b, xp.where(quotient != 0, floor, signed_zero))


class Remainder(Function):
    """a - floor(a / b) * b, the sign of b; d/da = 1, d/db = -floor(a / b)"""

    keeps_inputs = True
    node_name = "RemainderBackward1"

    def forward(self, a: Any, b: Any) -> Any:
        _check_division(a, b, self.dtype, "remainder_cpu")
        a, b = _operands(self, a, b)
        xp = _xp(a)
        if a.dtype.kind != "f":
            return _cast(xp.remainder(a, b), self.dtype)
        mod = xp.fmod(a, b)  # PyTorch's formula: a zero result keeps the sign of a (NumPy's takes b's)
        return _cast(xp.where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod), self.dtype)

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        a, b = self.inputs
        if a._wrapped:  # remainder(Scalar, Tensor) has no derivative in PyTorch
            raise _not_implemented("remainder")
        return grad, -grad * div(a, b, rounding_mode="floor")


def _check_division(a: Any, b: Any, dtype: Any, kernel: str) -> None:
    """Broadcasting first, then: bool has no kernel; integer division by zero raises (NumPy would give 0),
    unless the result is empty."""
    shape = broadcast_shape(a.shape, b.shape)
    if dtype == np.bool_:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
    if np.dtype(dtype).kind in "iu" and int(np.prod(shape)) and bool((_cast(b, dtype) == 0).any()):
        raise RuntimeError("ZeroDivisionError")


def _check_alpha(input: Tensor, other: Tensor, alpha: Number) -> _dtype.dtype:
    """The result dtype of add/sub, after PyTorch's checks: broadcasting, then ``alpha`` (stored in that dtype)."""
    if input._data.shape != other._data.shape:
        broadcast_shape(input._data.shape, other._data.shape)
    out = _pair_dtype(input, other)
    if type(alpha) is int and alpha == 1:  # the default fits every dtype
        return out
    if isinstance(alpha, (bool, np.bool_)) and out is not _dtype.bool:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if isinstance(alpha, (float, np.floating)) and not out.is_floating_point:
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    _dtype.check_fits(alpha, out)
    return out


def add(input: Any, other: Any, *, alpha: Number = 1) -> Tensor:
    """``out = input + alpha * other``, broadcasting, with PyTorch's type promotion.

    ``alpha`` multiplies ``other`` after promotion, in the result dtype (so a uint8 ``other`` does not wrap).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.add(torch.tensor([1, 2]), torch.tensor([10, 20]), alpha=2)
        tensor([21, 42])
        >>> torch.add(torch.tensor([0.5]), torch.tensor([200], dtype=torch.uint8), alpha=-1)
        tensor([-199.5000])
    """
    a, b = _tensor_pair("add", input, other)
    return Add.apply(a, b, dtype=_check_alpha(a, b, alpha).np, alpha=alpha)


def sub(input: Any, other: Any, *, alpha: Number = 1) -> Tensor:
    """``out = input - alpha * other`` (also ``subtract``); bool operands raise, as in PyTorch.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.sub(torch.tensor([5., 7.]), 2)
        tensor([3., 5.])
        >>> (2 - torch.tensor([1.], requires_grad=True)).grad_fn
        <RsubBackward1 object at ...>
    """
    a, b = _subtraction_operands("sub", input, other)
    return Sub.apply(a, b, dtype=_check_alpha(a, b, alpha).np, alpha=alpha)


def rsub(input: Tensor, other: Any, *args: Any, alpha: Number = 1) -> Tensor:
    """``out = other - alpha * input``: ``sub`` with its operands swapped (``number - tensor`` runs it).

    As in PyTorch, ``alpha`` may be given by position only when ``other`` is a number, and a number
    ``other`` is an attribute of the node rather than an input (``next_functions`` has one entry).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.rsub(torch.tensor([1., 2.]), 10, alpha=2)
        tensor([8., 6.])
        >>> (2 - torch.tensor([1.], requires_grad=True)).grad_fn
        <RsubBackward1 object at ...>
    """
    # (with alpha by position, a 0-d tensor that needs no grad passes for PyTorch's Number)
    number_other = not isinstance(other, Tensor) or (bool(args) and other.ndim == 0 and not other.requires_grad)
    if not isinstance(input, Tensor) or len(args) > (1 if number_other else 0):
        raise _rsub_signature_error(input, other, *args)
    if args:
        (alpha,) = args
    a, b = _subtraction_operands("rsub", input, other)
    result = Rsub.apply(a, b, dtype=_check_alpha(a, b, alpha).np, alpha=alpha,
                        node_name="RsubBackward1" if number_other else "RsubBackward0")
    if number_other and result.grad_fn is not None:
        result.grad_fn.listed_inputs = (True, False)
    return result


def _rsub_signature_error(*given: Any) -> TypeError:
    names = ["Tensor" if isinstance(v, Tensor) else type(v).__name__ for v in given]
    message = (f"rsub() received an invalid combination of arguments - got ({', '.join(names)}), but expected one "
               "of:\n * (Tensor input, Tensor other, *, Number alpha = 1)\n * (Tensor input, Number other, Number alpha = 1)\n")
    if names[:2] == ["Tensor", "Tensor"] and len(names) == 3:  # PyTorch marks what the Number form refused
        message += f"      didn't match because some of the arguments have invalid types: (Tensor, !Tensor!, !{names[2]}!)\n"
    return TypeError(message)


def _subtraction_operands(function: str, first: Any, second: Any) -> tuple[Tensor, Tensor]:
    """``first`` and ``second`` of ``first - second`` as tensors; bool operands raise, as in PyTorch."""
    bools = [isinstance(v, (bool, np.bool_)) or (isinstance(v, Tensor) and v.dtype is _dtype.bool) for v in (first, second)]
    if all(bools):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if any(bools):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return _tensor_pair(function, first, second)


def mul(input: Any, other: Any) -> Tensor:
    """``out = input * other`` (also ``multiply``).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.mul(torch.tensor([1, 2, 3]), 1.5)
        tensor([1.5000, 3.0000, 4.5000])
    """
    return _binary(Mul, "mul", input, other)


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """``out = input / other`` (also ``divide``): true division, so integer inputs give the default float dtype.

    ``rounding_mode='floor'`` or ``'trunc'`` rounds the quotient, in the promoted dtype (integers stay
    integers); its gradient is zero. ``number / x`` is computed as PyTorch's operator does it,
    ``reciprocal(x) * number``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.div(torch.tensor([7, -7]), 2)
        tensor([ 3.5000, -3.5000])
        >>> torch.div(torch.tensor([7, -7]), 2, rounding_mode='floor')
        tensor([ 3, -4])
        >>> torch.div(torch.tensor([3], dtype=torch.uint8), -0.335, rounding_mode='trunc')
        tensor([-8.])
    """
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                               f"but found '{rounding_mode}'")
        return _binary(DivRounding, "div", input, other, mode=rounding_mode)
    if isinstance(input, _NUMBER_TYPES) and isinstance(other, Tensor):  # PyTorch's Tensor.__rtruediv__
        return mul(reciprocal(other), input)
    a, b = _tensor_pair("div", input, other)
    out = _pair_dtype(a, b)
    out = out if out.is_floating_point else _dtype.get_default_dtype()
    return Div.apply(a, b, dtype=out.np)


def floor_divide(input: Any, other: Any) -> Tensor:
    """``out = floor(input / other)``, the ``//`` operator (rounds toward minus infinity); no derivative.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.floor_divide(torch.tensor([7, -7]), 2)
        tensor([ 3, -4])
    """
    return _binary(DivRounding, "floor_divide", input, other, mode="floor", op="floor_divide",
                   node_name="torch::autograd::NotImplemented")


def remainder(input: Any, other: Any) -> Tensor:
    """``out = input - floor(input / other) * other``, the ``%`` operator: the sign of ``other``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.remainder(torch.tensor([7, -7]), 3)
        tensor([1, 2])
    """
    a, b = _tensor_pair("remainder", input, other)
    named = {"node_name": "torch::autograd::NotImplemented"} if a._wrapped else \
        ({"node_name": "RemainderBackward0"} if b._wrapped else {})
    return Remainder.apply(a, b, dtype=_pair_dtype(a, b).np, **named)


# ====================================================================== powers
class Pow(Function):
    """d(x ** e)/dx = e * x ** (e - 1), for a number e (``self.exponent``, not an input: it has no gradient)"""

    keeps_inputs = True
    node_name = "PowBackward0"

    def forward(self, x: Any) -> Any:
        e, dtype, xp = self.exponent, np.dtype(self.dtype), _xp(x)
        if e == 0:  # also False; nan ** 0 is 1
            return xp.ones(x.shape, dtype=dtype)
        x = _cast(x, dtype)
        if e == 1:  # also True
            return x.copy()
        if dtype in (np.float32, np.float64):  # PyTorch's fast paths, which round differently from pow()
            fast = {0.5: xp.sqrt, -0.5: lambda v: 1 / xp.sqrt(v), -1: lambda v: 1 / v, 2: lambda v: v * v,
                    3: lambda v: v * v * v, -2: lambda v: 1 / (v * v)}
            if e in fast:
                return _cast(fast[e](x), dtype)
        return xp.power(x, _scalar_of(e, dtype))

    def backward(self, grad: Tensor) -> Tensor:
        x, e = self.inputs[0], self.exponent
        if e == 0:
            return _zeros_like(x)
        return grad * (e * x ** (e - 1))


class PowTensor(Function):
    """d(a ** b) = b * a ** (b - 1) da + a ** b * log(a) db  (taken as 0 where b == 0, resp. a == 0 and b >= 0)"""

    keeps_inputs = True
    node_name = "PowBackward1"

    def forward(self, a: Any, b: Any) -> Any:
        if self.dtype == np.bool_:
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        a, b = _cast(a, self.dtype), _cast(b, self.dtype)
        if a.dtype.kind == "f" or not (b < 0).any():
            return a ** b
        # integers to negative powers, as in PyTorch: 1 for 1, +-1 for -1, 0 for anything else
        xp = _xp(a)
        negative = b < 0
        power = a ** xp.where(negative, 0, b)
        return xp.where(negative, xp.where(a == 1, 1, xp.where(a == -1, 1 - 2 * (b % 2), 0)), power).astype(self.dtype)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        grad_a = where(b == 0, 0.0, grad * (b * a ** (b - 1))) if need_a else None
        grad_b = grad * where((a == 0) & (b >= 0), 0.0, a ** b * a.log()) if need_b else None
        return grad_a, grad_b


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001
    """``out = input ** exponent``; integers to negative integer powers raise.

    A number exponent is stored in the result dtype first, so it must fit a float16 or integer tensor
    (``u8 ** 300`` raises, as in PyTorch); ``bool ** True`` stays bool.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.pow(torch.tensor([1., 2., 3.]), 2)
        tensor([1., 4., 9.])
        >>> torch.tensor([True, False]) ** True
        tensor([ True, False])
    """
    a, b = _tensor_pair("pow", input, exponent)
    out = _pair_dtype(a, b)
    if a._wrapped:  # pow(Scalar, Tensor) runs the tensor-tensor kernel
        return PowTensor.apply(a, b, dtype=out.np, node_name="PowBackward2")
    if not b._wrapped:
        return PowTensor.apply(a, b, dtype=out.np)
    e = b.item()
    if not out.is_floating_point and e < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if out not in (_dtype.float32, _dtype.float64):  # the kernel converts the exponent to the dtype, checked
        _dtype.check_fits(e, out)
    return Pow.apply(a, dtype=out.np, exponent=e)
