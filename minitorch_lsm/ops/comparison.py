"""Comparisons, logical and bitwise ops: bool (or integer) results, no gradient.

``eq ne lt le gt ge`` promote their operands as arithmetic does, then compare; ``logical_*`` treat
nonzero as True; ``isnan isinf isfinite`` test each value; ``& | ^ ~`` are the bitwise operators.

Examples:
    >>> import minitorch_lsm as torch
    >>> torch.tensor([1, 2, 3]) < 2.5
    tensor([ True,  True, False])
"""
from __future__ import annotations

from typing import Any

from .. import _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from ._elementwise_util import _cast, _pair_dtype, _require_tensor, _xp
from ._util import as_operand, broadcast_shape


class Compare(Function):
    """A comparison or logical op: bool output, no gradient."""

    differentiable = False

    def forward(self, *arrays: Any) -> Any:
        xp = _xp(arrays[0])
        if self.dtype is not None:
            arrays = tuple(_cast(a, self.dtype) for a in arrays)
        return getattr(xp, self.ufunc)(*arrays)


_NAMES = {"equal": "eq", "not_equal": "ne", "less": "lt", "less_equal": "le", "greater": "gt", "greater_equal": "ge"}


def _compare(ufunc: str, a: Any, b: Any) -> Tensor:
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{_NAMES[ufunc]}() received an invalid combination of arguments - got ({type(a).__name__}, "
                        f"{type(b).__name__}), but expected one of:\n * (Tensor input, Tensor other, *, Tensor out = None)"
                        "\n * (Tensor input, Number other, *, Tensor out = None)\n")
    like = a if isinstance(a, Tensor) else b
    a, b = as_operand(a, like), as_operand(b, like)
    return Compare.apply(a, b, ufunc=ufunc, dtype=_pair_dtype(a, b).np)


def eq(input: Any, other: Any) -> Tensor:
    """``out = (input == other)`` elementwise, as a bool tensor (the ``==`` operator).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.eq(torch.tensor([1, 2, 3]), 2)
        tensor([False,  True, False])
    """
    return _compare("equal", input, other)


def ne(input: Any, other: Any) -> Tensor:
    """``out = (input != other)``; nan is unequal to everything, itself included.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.ne(torch.tensor([1., float('nan')]), torch.tensor([1., float('nan')]))
        tensor([False,  True])
    """
    return _compare("not_equal", input, other)


def lt(input: Any, other: Any) -> Tensor:
    """``out = (input < other)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.lt(torch.tensor([1, 2, 3]), 2)
        tensor([ True, False, False])
    """
    return _compare("less", input, other)


def le(input: Any, other: Any) -> Tensor:
    """``out = (input <= other)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.le(torch.tensor([1, 2, 3]), 2)
        tensor([ True,  True, False])
    """
    return _compare("less_equal", input, other)


def gt(input: Any, other: Any) -> Tensor:
    """``out = (input > other)``; the operands promote first (an int tensor against 2.5 compares as floats).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.gt(torch.tensor([1, 2, 3]), 2.5)
        tensor([False, False,  True])
    """
    return _compare("greater", input, other)


def ge(input: Any, other: Any) -> Tensor:
    """``out = (input >= other)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.ge(torch.tensor([1., 2., 3.]), torch.tensor([3., 2., 1.]))
        tensor([False,  True,  True])
    """
    return _compare("greater_equal", input, other)


def _logical(ufunc: str, a: Tensor, b: Tensor) -> Tensor:
    """A logical op on two tensors: both are converted to their promoted dtype first, as in PyTorch, so a
    float32 2e-9 against float16 counts as 0 (False)."""
    _require_tensor(a, ufunc, "input", 1)
    _require_tensor(b, ufunc, "other", 2)
    return Compare.apply(a, b, ufunc=ufunc, dtype=_pair_dtype(a, b).np)


def logical_and(input: Tensor, other: Tensor) -> Tensor:
    """``out = bool(input) and bool(other)`` elementwise (nonzero is True).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.logical_and(torch.tensor([1, 0, 2]), torch.tensor([1., 1., 0.]))
        tensor([ True, False, False])
    """
    return _logical("logical_and", input, other)


def logical_or(input: Tensor, other: Tensor) -> Tensor:
    """``out = bool(input) or bool(other)`` elementwise.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.logical_or(torch.tensor([True, False]), torch.tensor([False, False]))
        tensor([ True, False])
    """
    return _logical("logical_or", input, other)


def logical_xor(input: Tensor, other: Tensor) -> Tensor:
    """``out = bool(input) != bool(other)`` elementwise.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.logical_xor(torch.tensor([True, True]), torch.tensor([True, False]))
        tensor([False,  True])
    """
    return _logical("logical_xor", input, other)


def logical_not(input: Tensor) -> Tensor:
    """``out = not bool(input)`` elementwise.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.logical_not(torch.tensor([0, 1, 2]))
        tensor([ True, False, False])
    """
    _require_tensor(input, "logical_not", "input", 1)
    return Compare.apply(input, ufunc="logical_not", dtype=None)


def isnan(input: Tensor) -> Tensor:
    """``out = (input != input)``: True where the value is nan.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.isnan(torch.tensor([1., float('nan'), float('inf')]))
        tensor([False,  True, False])
    """
    _require_tensor(input, "isnan", "input", 1)
    return Compare.apply(input, ufunc="isnan", dtype=None)


def isinf(input: Tensor) -> Tensor:
    """``out = (|input| == inf)``: True where the value is +inf or -inf.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.isinf(torch.tensor([1., float('-inf'), float('inf')]))
        tensor([False,  True,  True])
    """
    _require_tensor(input, "isinf", "input", 1)
    return Compare.apply(input, ufunc="isinf", dtype=None)


def isfinite(input: Tensor) -> Tensor:
    """``out = not (isnan(input) or isinf(input))``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.isfinite(torch.tensor([1., float('nan'), float('inf')]))
        tensor([ True, False, False])
    """
    _require_tensor(input, "isfinite", "input", 1)
    return Compare.apply(input, ufunc="isfinite", dtype=None)


class Bitwise(Compare):
    """``&``, ``|``, ``^``, ``~`` on bool and integer tensors (no gradient)."""

    def forward(self, *arrays: Any) -> Any:
        broadcast_shape(*(a.shape for a in arrays))  # a shape clash is reported before the dtype, as in torch
        floating = [a for a in arrays if a.dtype.kind == "f"]
        if floating and self.ufunc == "invert":
            raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
        if floating:
            name = _dtype.torch_name(_dtype.from_numpy_dtype(self.dtype or floating[0].dtype))
            raise NotImplementedError(f'"{self.ufunc}_cpu" not implemented for \'{name}\'')
        return super().forward(*arrays)


def bitwise(ufunc: str, a: Any, b: Any = None) -> Tensor:
    """``a & b``, ``a | b``, ``a ^ b`` or ``~a`` (``ufunc`` names the NumPy function) on bool and integer tensors.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([6, 3]) & torch.tensor([3, 1]), ~torch.tensor([0, 5])
        (tensor([2, 1]), tensor([-1, -6]))
    """
    if b is None:
        return Bitwise.apply(a, ufunc=ufunc, dtype=None)
    like = a if isinstance(a, Tensor) else b
    a, b = as_operand(a, like), as_operand(b, like)
    return Bitwise.apply(a, b, ufunc=ufunc, dtype=_pair_dtype(a, b).np)
