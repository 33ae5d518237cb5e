"""Unary math: ``neg abs exp log log1p sqrt rsqrt sin cos tanh sigmoid relu sign``.

Each class is one tape node whose forward works on raw arrays through ``xp`` and whose docstring is its
derivative (``d log(x) = dx / x``). Float-valued functions give the default float dtype for integer input.

Examples:
    >>> import minitorch_lsm as torch
    >>> torch.exp(torch.tensor([0, 1]))
    tensor([1.0000, 2.7183])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from . import _c
from ._elementwise_util import _cast, _in_opmath, _require_tensor, _xp, _zeros_like
from ._util import float_dtype_for, select


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
        x = _cast(x, _dtype.opmath(self.dtype))  # float16 in float32, rounded once
        return _cast(1 / _xp(x).sqrt(x), self.dtype)

    def backward(self, grad: Tensor) -> Tensor:
        return (-0.5 * grad) * self.output ** 3  # PyTorch's formula, so float16 rounds at the same steps


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
        grad, y = _in_opmath(grad, self.output)  # PyTorch's tanh_backward kernel: float16 in float32
        return grad * (1 - y * y)


class Sigmoid(UnaryFunction):
    """d sigmoid(x) = sigmoid(x) (1 - sigmoid(x)) dx, with sigmoid(x) = 1 / (1 + exp(-x))"""

    keeps_output = True

    def forward(self, x: Any) -> Any:
        # PyTorch's kernel: 1 / (1 + exp(-x)), float16 in float32. For x below about -88 (float32)
        # exp(-x) overflows to inf and the result is exactly 0, as in torch (no subnormal tail).
        x = _cast(x, np.float32 if self.dtype == np.float16 else self.dtype)
        xp = _xp(x)
        out = xp.negative(x, out=xp.empty_like(x))  # out= keeps a 0-d result an array (NumPy returns scalars)
        xp.exp(out, out=out)
        out += 1
        return xp.reciprocal(out, out=out).astype(self.dtype, copy=False)

    def backward(self, grad: Tensor) -> Tensor:
        y = self.output
        return grad * (1 - y) * y  # PyTorch's sigmoid_backward, also its float16 rounding steps


class Relu(UnaryFunction):
    """d relu(x) = [x > 0] dx"""

    keeps_output = True

    def forward(self, x: Any) -> Any:
        x = x.astype(self.dtype, copy=False)
        out = _c.into_new("relu", x)  # the same select, in one pass
        return out if out is not None else select(x < 0, x.dtype.type(0), x)  # keeps -0. and NaN, as torch

    def backward(self, grad: Tensor) -> Tensor:
        return ThresholdBackward.apply(grad, self.output)


class ThresholdBackward(Function):
    """relu's gradient from its output y: z = g where y > 0, else 0 (PyTorch's threshold_backward).

    It selects instead of multiplying by a mask: a NaN y (relu(NaN) is NaN) passes the gradient, and a
    NaN gradient does not leak where y <= 0. z is linear in g, so dz/dg is this node again; z is piecewise
    constant in y, so y's gradient is zeros (as torch's, not None)."""

    keeps_inputs = True
    grad_reads = ((1,), ())
    node_name = "ThresholdBackwardBackward0"

    def forward(self, g: Any, y: Any) -> Any:
        out = _c.into_new("threshold_backward", g, y) if g.shape == y.shape else None
        return out if out is not None else select(y <= 0, g.dtype.type(0), g)

    def backward(self, gg: Tensor) -> tuple[Tensor | None, Tensor | None]:
        need_g, need_y = self.needs_input_grad
        grad_g = ThresholdBackward.apply(gg, self.inputs[1]) if need_g else None  # y is kept only for this
        return grad_g, _zeros_like(gg) if need_y else None


class Sign(UnaryFunction):
    """d sign(x) = 0: piecewise constant (sign(nan) is 0, as in PyTorch)"""

    def forward(self, x: Any) -> Any:
        if x.dtype == np.bool_:
            return x.copy()
        return (x > 0).astype(self.dtype) - (x < 0).astype(self.dtype)

    def backward(self, grad: Tensor) -> Tensor:
        return _zeros_like(grad)


def _unary(cls: type[Function], x: Tensor, to_float: bool) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{cls.__name__.lower()}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    out = float_dtype_for(x) if to_float else x.dtype
    return cls.apply(x, dtype=out.np)


def neg(input: Tensor) -> Tensor:
    """``out = -input`` (also ``negative``); a bool tensor raises (use ``~``).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.neg(torch.tensor([1., -2.]))
        tensor([-1.,  2.])
    """
    _require_tensor(input, "neg", "input", 1)
    if input.dtype is _dtype.bool:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return _unary(Neg, input, False)


def abs(input: Tensor) -> Tensor:  # noqa: A001
    """``out = |input|`` (also ``absolute``); bool has no kernel, as in PyTorch.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.abs(torch.tensor([-1, 2, -3]))
        tensor([1, 2, 3])
    """
    if isinstance(input, Tensor) and input.dtype is _dtype.bool:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return _unary(Abs, input, False)


def exp(input: Tensor) -> Tensor:
    """``out = e ** input``; integer input gives the default float dtype.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.exp(torch.tensor([0., 1.]))
        tensor([1.0000, 2.7183])
    """
    return _unary(Exp, input, True)


def log(input: Tensor) -> Tensor:
    """``out = ln(input)``, the natural logarithm; ``log(0) = -inf``, negative input gives nan.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.log(torch.tensor([1., 2.7183, 0.]))
        tensor([0.0000, 1.0000,   -inf])
    """
    return _unary(Log, input, True)


def log1p(input: Tensor) -> Tensor:
    """``out = log(1 + input)``, accurate for small input.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.log1p(torch.tensor([1e-8, 1.]))
        tensor([1.0000e-08, 6.9315e-01])
    """
    return _unary(Log1p, input, True)


def sqrt(input: Tensor) -> Tensor:
    """``out = input ** 0.5``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.sqrt(torch.tensor([4, 2]))
        tensor([2.0000, 1.4142])
    """
    return _unary(Sqrt, input, True)


def rsqrt(input: Tensor) -> Tensor:
    """``out = 1 / sqrt(input)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.rsqrt(torch.tensor([4., 0.25]))
        tensor([0.5000, 2.0000])
    """
    return _unary(Rsqrt, input, True)


def sin(input: Tensor) -> Tensor:
    """``out = sin(input)``, input in radians.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.sin(torch.tensor([0., 1.5708]))
        tensor([0., 1.])
    """
    return _unary(Sin, input, True)


def cos(input: Tensor) -> Tensor:
    """``out = cos(input)``, input in radians.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.cos(torch.tensor([0., 3.1416]))
        tensor([ 1., -1.])
    """
    return _unary(Cos, input, True)


def tanh(input: Tensor) -> Tensor:
    """``out = (e^x - e^-x) / (e^x + e^-x)``, the hyperbolic tangent.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tanh(torch.tensor([-1., 0., 2.]))
        tensor([-0.7616,  0.0000,  0.9640])
    """
    return _unary(Tanh, input, True)


def sigmoid(input: Tensor) -> Tensor:
    """``out = 1 / (1 + exp(-input))``, computed without overflow.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.sigmoid(torch.tensor([-2., 0., 2.]))
        tensor([0.1192, 0.5000, 0.8808])
        >>> torch.sigmoid(torch.tensor([-100.]))  # doctest: +SKIP
        tensor([0.])
    """
    return _unary(Sigmoid, input, True)


def relu(input: Tensor) -> Tensor:
    """``out = max(input, 0)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.relu(torch.tensor([-1., 0., 2.]))
        tensor([0., 0., 2.])
    """
    _require_tensor(input, "relu", "input", 1)
    if input.dtype is _dtype.bool:
        raise RuntimeError("Boolean inputs not supported for relu")
    return _unary(Relu, input, False)


def sign(input: Tensor) -> Tensor:
    """``out = -1, 0 or 1`` by the sign of each element; ``sign(nan) = 0``; the gradient is zero.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.sign(torch.tensor([-2., 0., 3., float('nan')]))
        tensor([-1.,  0.,  1.,  0.])
    """
    return _unary(Sign, input, False)

