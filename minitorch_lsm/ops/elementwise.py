"""Elementwise ops: arithmetic with broadcasting and PyTorch promotion, unary math, comparisons.

Each class is one tape node; its docstring is the derivative rule it applies. Broadcasting needs no
code in backward: the engine sums each gradient back to its input's shape (``fit_to_input``).

>>> import minitorch_lsm as torch
>>> torch.tensor([1, 2]) / 2
tensor([0.5000, 1.0000])
>>> torch.exp(torch.tensor([0., 1.]))
tensor([1.0000, 2.7183])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _device, _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import as_operand, float_dtype_for

Number = Any


def _cast(array: Any, np_dtype: Any) -> Any:
    return array if array.dtype == np_dtype else array.astype(np_dtype)


def _xp(array: Any) -> Any:
    return np if isinstance(array, (np.ndarray, np.generic)) else _device.xp_of(_device.array_device(array))


# ====================================================================== binary arithmetic
def _opmath(fn: Function, a: Any, b: Any) -> tuple[Any, Any]:
    """``a`` and ``b`` in the precision arithmetic runs in: float16 computes in float32 and is rounded once at
    the end, as in PyTorch's kernels, so a Python float (``0.1``, ``1e5``) is not rounded to float16 first."""
    compute = np.float32 if fn.dtype == np.float16 else fn.dtype
    return _cast(a, compute), _cast(b, compute)


class Add(Function):
    """d(a + b) = da + db"""

    def forward(self, a: Any, b: Any) -> Any:
        a, b = _opmath(self, a, b)
        return _cast(a + b, self.dtype)

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad, grad


class Sub(Function):
    """d(a - b) = da - db"""

    def forward(self, a: Any, b: Any) -> Any:
        a, b = _opmath(self, a, b)
        return _cast(a - b, self.dtype)

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad, -grad


class Mul(Function):
    """d(a * b) = b da + a db"""

    keeps_inputs = True

    def forward(self, a: Any, b: Any) -> Any:
        a, b = _opmath(self, a, b)
        return _cast(a * b, self.dtype)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Function):
    """d(a / b) = da / b - a db / b**2"""

    keeps_inputs = True

    def forward(self, a: Any, b: Any) -> Any:
        a, b = _opmath(self, a, b)
        return _cast(a / b, self.dtype)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (grad / b if need_a else None), (-grad * a / (b * b) if need_b else None)


class Pow(Function):
    """d(x ** e)/dx = e * x ** (e - 1), for a number e (``self.exponent``, not an input: it has no gradient)"""

    keeps_inputs = True

    def forward(self, x: Any) -> Any:
        return _cast(x, self.dtype) ** _cast(_xp(x).asarray(self.exponent), self.dtype)

    def backward(self, grad: Tensor) -> Tensor:
        x, e = self.inputs[0], self.exponent
        if e == 0:
            return grad * 0
        return grad * e * x ** (e - 1)


class PowTensor(Function):
    """d(a ** b) = b * a ** (b - 1) da + a ** b * log(a) db  (taken as 0 where a == 0 and b >= 0)"""

    keeps_inputs = True
    node_name = "PowBackward1"

    def forward(self, a: Any, b: Any) -> Any:
        a, b = _cast(a, self.dtype), _cast(b, self.dtype)
        if a.dtype.kind == "f" or not (b < 0).any():
            return a ** b
        # integers to negative powers, as in PyTorch: 1 for 1, +-1 for -1, 0 for anything else
        xp = _xp(a)
        negative = b < 0
        power = a ** xp.where(negative, 0, b)
        return xp.where(negative, xp.where(a == 1, 1, xp.where(a == -1, 1 - 2 * (b % 2), 0)), power).astype(self.dtype)

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        a, b = self.inputs
        power = a ** b
        grad_a = where(b == 0, 0.0, grad * b * a ** (b - 1))
        grad_b = where((a == 0) & (b >= 0), 0.0, grad * power * log(a))
        return grad_a, grad_b


def _binary(cls: type[Function], a: Any, b: Any) -> Tensor:
    like = a if isinstance(a, Tensor) else b
    a, b = as_operand(a, like), as_operand(b, like)
    return cls.apply(a, b, dtype=_dtype.result_type(a, b).np)


def _scaled(input: Any, other: Any, alpha: Number) -> Any:
    """``alpha * other`` for add/sub; a float alpha is refused when the result would be integral."""
    if isinstance(alpha, (float, np.floating)):
        like = input if isinstance(input, Tensor) else other
        if not _dtype.result_type(as_operand(input, like), as_operand(other, like)).is_floating_point:
            raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if alpha == 1:
        return other
    return mul(other, alpha) if isinstance(other, Tensor) else other * alpha


def add(input: Any, other: Any, *, alpha: Number = 1) -> Tensor:
    """Elementwise ``input + alpha * other``, broadcasting, with PyTorch's type promotion."""
    return _binary(Add, input, _scaled(input, other, alpha))


def sub(input: Any, other: Any, *, alpha: Number = 1) -> Tensor:
    """Elementwise ``input - alpha * other``."""
    bools = [isinstance(v, (bool, np.bool_)) or (isinstance(v, Tensor) and v.dtype is _dtype.bool) for v in (input, other)]
    if all(bools):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if any(bools):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return _binary(Sub, input, _scaled(input, other, alpha))


def mul(input: Any, other: Any) -> Tensor:
    """Elementwise product ``input * other``."""
    return _binary(Mul, input, other)


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """True division ``input / other``: integer inputs give the default float dtype.

    ``rounding_mode='floor'`` or ``'trunc'`` rounds the quotient (no gradient then).
    """
    if rounding_mode is not None:
        quotient = floor_divide(input, other)
        if rounding_mode == "floor":
            return quotient
        if rounding_mode == "trunc":
            true = div(input, other)
            return where(true < 0, -floor_divide(-input, other), quotient) if true.dtype.is_floating_point else quotient
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")
    like = input if isinstance(input, Tensor) else other
    a, b = as_operand(input, like), as_operand(other, like)
    out = _dtype.result_type(a, b)
    out = out if out.is_floating_point else _dtype.get_default_dtype()
    return Div.apply(a, b, dtype=out.np)


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001
    """Elementwise power ``input ** exponent``; integers to negative integer powers raise."""
    like = input if isinstance(input, Tensor) else exponent
    a, b = as_operand(input, like), as_operand(exponent, like)
    out = _dtype.result_type(a, b)
    if not out.is_floating_point and b._wrapped and b.item() < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if b._wrapped:
        return Pow.apply(a, dtype=out.np, exponent=b.item())
    return PowTensor.apply(a, b, dtype=out.np)


def _check_integer_division(a: Any, b: Any, dtype: Any, kernel: str) -> None:
    """Integer division by zero raises, as in PyTorch (NumPy would give 0); bool has no kernel."""
    if dtype == np.bool_:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
    if np.dtype(dtype).kind in "iu" and bool((b == 0).any()):
        raise RuntimeError("ZeroDivisionError")


class FloorDivide(Function):
    """floor(a / b); no gradient (as in PyTorch)."""

    differentiable = False

    def forward(self, a: Any, b: Any) -> Any:
        _check_integer_division(a, b, self.dtype, "div_floor_cpu")
        return _xp(a).floor_divide(_cast(a, self.dtype), _cast(b, self.dtype))


class Remainder(Function):
    """a - floor(a / b) * b, sign of b; d/da = 1, d/db = -floor(a / b)"""

    keeps_inputs = True

    def forward(self, a: Any, b: Any) -> Any:
        _check_integer_division(a, b, self.dtype, "remainder_cpu")
        return _xp(a).remainder(_cast(a, self.dtype), _cast(b, self.dtype))

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        a, b = self.inputs
        return grad, -grad * floor_divide(a, b)


def floor_divide(input: Any, other: Any) -> Tensor:
    """Elementwise ``input // other`` (rounds toward minus infinity)."""
    return _binary(FloorDivide, input, other)


def remainder(input: Any, other: Any) -> Tensor:
    """Elementwise ``input % other`` with the sign of ``other`` (Python's rule)."""
    return _binary(Remainder, input, other)


# ====================================================================== unary math
class UnaryFunction(Function):
    """A unary op whose forward is one call of ``xp.<ufunc>`` in the output dtype."""

    ufunc: str = ""

    def forward(self, x: Any) -> Any:
        return getattr(_xp(x), self.ufunc)(_cast(x, self.dtype))


class Neg(UnaryFunction):
    """d(-x) = -dx"""

    ufunc = "negative"

    def backward(self, grad: Tensor) -> Tensor:
        return -grad


class Abs(UnaryFunction):
    """d|x| = sign(x) dx"""

    ufunc, keeps_inputs = "abs", True

    def backward(self, grad: Tensor) -> Tensor:
        return grad * sign(self.inputs[0])


class Exp(UnaryFunction):
    """d exp(x) = exp(x) dx"""

    ufunc, keeps_output = "exp", True

    def backward(self, grad: Tensor) -> Tensor:
        return grad * self.output


class Log(UnaryFunction):
    """d log(x) = dx / x"""

    ufunc, keeps_inputs = "log", True

    def backward(self, grad: Tensor) -> Tensor:
        return grad / self.inputs[0]


class Log1p(UnaryFunction):
    """d log(1 + x) = dx / (1 + x)"""

    ufunc, keeps_inputs = "log1p", True
    node_name = "Log1PBackward0"

    def backward(self, grad: Tensor) -> Tensor:
        return grad / (self.inputs[0] + 1)


class Sqrt(UnaryFunction):
    """d sqrt(x) = dx / (2 sqrt(x))"""

    ufunc, keeps_output = "sqrt", True

    def backward(self, grad: Tensor) -> Tensor:
        return grad / (2 * self.output)


class Rsqrt(UnaryFunction):
    """d x**-1/2 = -1/2 x**-3/2 dx"""

    keeps_output = True

    def forward(self, x: Any) -> Any:
        return 1 / _xp(x).sqrt(_cast(x, self.dtype))

    def backward(self, grad: Tensor) -> Tensor:
        y = self.output
        return -0.5 * grad * y * y * y


class Sin(UnaryFunction):
    """d sin(x) = cos(x) dx"""

    ufunc, keeps_inputs = "sin", True

    def backward(self, grad: Tensor) -> Tensor:
        return grad * cos(self.inputs[0])


class Cos(UnaryFunction):
    """d cos(x) = -sin(x) dx"""

    ufunc, keeps_inputs = "cos", True

    def backward(self, grad: Tensor) -> Tensor:
        return -grad * sin(self.inputs[0])


class Tanh(UnaryFunction):
    """d tanh(x) = (1 - tanh(x)**2) dx"""

    ufunc, keeps_output = "tanh", True

    def backward(self, grad: Tensor) -> Tensor:
        y = self.output
        return grad * (1 - y * y)


class Sigmoid(UnaryFunction):
    """d sigmoid(x) = sigmoid(x) (1 - sigmoid(x)) dx, with sigmoid(x) = 1 / (1 + exp(-x))"""

    keeps_output = True

    def forward(self, x: Any) -> Any:
        x = _cast(x, self.dtype)
        xp = _xp(x)
        # exp of a non-positive number never overflows: use exp(-|x|) on both sides of 0.
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(self.dtype, copy=False)

    def backward(self, grad: Tensor) -> Tensor:
        y = self.output
        return grad * y * (1 - y)


class Relu(UnaryFunction):
    """d relu(x) = [x > 0] dx"""

    keeps_output = True

    def forward(self, x: Any) -> Any:
        return _xp(x).maximum(x, 0).astype(self.dtype, copy=False)

    def backward(self, grad: Tensor) -> Tensor:
        return grad * (self.output > 0)


def _unary(cls: type[Function], x: Tensor, to_float: bool) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{cls.__name__.lower()}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    out = float_dtype_for(x) if to_float else x.dtype
    return cls.apply(x, dtype=out.np)


def neg(input: Tensor) -> Tensor:
    """``-input``."""
    if input.dtype is _dtype.bool:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return _unary(Neg, input, False)


def abs(input: Tensor) -> Tensor:  # noqa: A001
    """``|input|``."""
    return _unary(Abs, input, False)


def exp(input: Tensor) -> Tensor:
    """``e ** input``; integer input gives the default float dtype."""
    return _unary(Exp, input, True)


def log(input: Tensor) -> Tensor:
    """Natural logarithm; ``log(0) = -inf``, negative input gives nan."""
    return _unary(Log, input, True)


def log1p(input: Tensor) -> Tensor:
    """``log(1 + input)``, accurate for small input."""
    return _unary(Log1p, input, True)


def sqrt(input: Tensor) -> Tensor:
    """Square root."""
    return _unary(Sqrt, input, True)


def rsqrt(input: Tensor) -> Tensor:
    """``1 / sqrt(input)``."""
    return _unary(Rsqrt, input, True)


def sin(input: Tensor) -> Tensor:
    """Sine."""
    return _unary(Sin, input, True)


def cos(input: Tensor) -> Tensor:
    """Cosine."""
    return _unary(Cos, input, True)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return _unary(Tanh, input, True)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-input))``, computed without overflow."""
    return _unary(Sigmoid, input, True)


def relu(input: Tensor) -> Tensor:
    """``max(input, 0)``."""
    if input.dtype is _dtype.bool:
        raise RuntimeError("Boolean inputs not supported for relu")
    return _unary(Relu, input, False)


# ====================================================================== selection
class Clamp(Function):
    """d clamp(x, lo, hi) = [lo <= x <= hi] dx"""

    keeps_inputs = True
    node_name = "ClampBackward1"

    def forward(self, x: Any) -> Any:
        return _xp(x).clip(x, self.low, self.high).astype(x.dtype, copy=False)

    def backward(self, grad: Tensor) -> Tensor:
        x = self.inputs[0]
        inside = x == x  # all True except nan
        if self.low is not None:
            inside = inside & (x >= self.low)
        if self.high is not None:
            inside = inside & (x <= self.high)
        return grad * inside


def clamp(input: Tensor, min: Number | None = None, max: Number | None = None) -> Tensor:  # noqa: A002
    """Limit values to ``[min, max]``; a tensor bound works elementwise."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input if min is None else maximum(input, as_operand(min, input).to(input.dtype))
        return out if max is None else minimum(out, as_operand(max, input).to(input.dtype))
    if not input.dtype.is_floating_point and any(isinstance(v, float) for v in (min, max)):
        return clamp(input.to(_dtype.get_default_dtype()), min, max)
    return Clamp.apply(input, low=min, high=max)


class Maximum(Function):
    """d max(a, b): the gradient goes to the larger input, split in half on ties"""

    keeps_inputs = True

    def forward(self, a: Any, b: Any) -> Any:
        return _xp(a).maximum(_cast(a, self.dtype), _cast(b, self.dtype))

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        a, b = self.inputs
        share = where(a == b, grad / 2, grad)
        return where(a < b, 0.0, share), where(b < a, 0.0, share)


class Minimum(Maximum):
    """d min(a, b): the gradient goes to the smaller input, split in half on ties"""

    def forward(self, a: Any, b: Any) -> Any:
        return _xp(a).minimum(_cast(a, self.dtype), _cast(b, self.dtype))

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        a, b = self.inputs
        share = where(a == b, grad / 2, grad)
        return where(a > b, 0.0, share), where(b > a, 0.0, share)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise maximum (nan wins)."""
    return _binary(Maximum, input, other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise minimum (nan wins)."""
    return _binary(Minimum, input, other)


class Where(Function):
    """d where(c, a, b) = where(c, da, 0) + where(c, 0, db)"""

    keeps_inputs = True

    def forward(self, condition: Any, a: Any, b: Any) -> Any:
        return _xp(a).where(condition, _cast(a, self.dtype), _cast(b, self.dtype))

    def backward(self, grad: Tensor) -> tuple[None, Tensor, Tensor]:
        condition = self.inputs[0]
        return None, where(condition, grad, 0.0), where(condition, 0.0, grad)


def where(condition: Tensor, input: Any, other: Any) -> Tensor:
    """``input`` where ``condition`` holds, else ``other``; all three broadcast together."""
    if condition.dtype is not _dtype.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{_dtype.torch_name(condition.dtype)}")
    a, b = as_operand(input, condition), as_operand(other, condition)
    return Where.apply(condition, a, b, dtype=_dtype.result_type(a, b).np)


def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (no gradient flows through it)."""
    return Tensor._from_array(_xp(input._data).sign(input._data), input.device)


# ====================================================================== comparisons and logic (no grad)
class Compare(Function):
    """A comparison or logical op: bool output, no gradient."""

    differentiable = False

    def forward(self, *arrays: Any) -> Any:
        xp = _xp(arrays[0])
        if self.dtype is not None:
            arrays = tuple(_cast(a, self.dtype) for a in arrays)
        return getattr(xp, self.ufunc)(*arrays)


def _compare(ufunc: str, a: Any, b: Any) -> Tensor:
    like = a if isinstance(a, Tensor) else b
    a, b = as_operand(a, like), as_operand(b, like)
    return Compare.apply(a, b, ufunc=ufunc, dtype=_dtype.result_type(a, b).np)


def eq(input: Any, other: Any) -> Tensor:
    """Elementwise ``input == other`` as a bool tensor."""
    return _compare("equal", input, other)


def ne(input: Any, other: Any) -> Tensor:
    """Elementwise ``input != other``."""
    return _compare("not_equal", input, other)


def lt(input: Any, other: Any) -> Tensor:
    """Elementwise ``input < other``."""
    return _compare("less", input, other)


def le(input: Any, other: Any) -> Tensor:
    """Elementwise ``input <= other``."""
    return _compare("less_equal", input, other)


def gt(input: Any, other: Any) -> Tensor:
    """Elementwise ``input > other``."""
    return _compare("greater", input, other)


def ge(input: Any, other: Any) -> Tensor:
    """Elementwise ``input >= other``."""
    return _compare("greater_equal", input, other)


def logical_and(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise logical and (nonzero is true)."""
    return Compare.apply(input, as_operand(other, input), ufunc="logical_and", dtype=None)


def logical_or(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise logical or."""
    return Compare.apply(input, as_operand(other, input), ufunc="logical_or", dtype=None)


def logical_xor(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise logical exclusive or."""
    return Compare.apply(input, as_operand(other, input), ufunc="logical_xor", dtype=None)


def logical_not(input: Tensor) -> Tensor:
    """Elementwise logical not."""
    return Compare.apply(input, ufunc="logical_not", dtype=None)


def isnan(input: Tensor) -> Tensor:
    """True where the value is nan."""
    return Compare.apply(input, ufunc="isnan", dtype=None)


def isinf(input: Tensor) -> Tensor:
    """True where the value is +inf or -inf."""
    return Compare.apply(input, ufunc="isinf", dtype=None)


def isfinite(input: Tensor) -> Tensor:
    """True where the value is neither inf nor nan."""
    return Compare.apply(input, ufunc="isfinite", dtype=None)


class Bitwise(Compare):
    """``&``, ``|``, ``^``, ``~`` on bool and integer tensors (no gradient)."""

    def forward(self, *arrays: Any) -> Any:
        floating = [a for a in arrays if a.dtype.kind == "f"]
        if floating and self.ufunc == "invert":
            raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
        if floating:
            name = _dtype.torch_name(_dtype.from_numpy_dtype(self.dtype or floating[0].dtype))
            raise NotImplementedError(f'"{self.ufunc}_cpu" not implemented for \'{name}\'')
        return super().forward(*arrays)


def bitwise(ufunc: str, a: Any, b: Any = None) -> Tensor:
    if b is None:
        return Bitwise.apply(a, ufunc=ufunc, dtype=None)
    like = a if isinstance(a, Tensor) else b
    a, b = as_operand(a, like), as_operand(b, like)
    return Bitwise.apply(a, b, ufunc=ufunc, dtype=_dtype.result_type(a, b).np)


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
    """``x`` in ``dtype`` on ``device``: x itself if nothing changes and no copy is asked for."""
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
    """A copy of ``input`` with its own memory; gradients flow through."""
    return Clone.apply(input)
