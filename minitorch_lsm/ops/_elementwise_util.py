"""What the elementwise ops share (``elementwise.py``, ``selection.py``, ``unary.py``, ``comparison.py``, and
other ops too): the array module of an array, casts, checks of tensor arguments, and how a Python number
pairs with a tensor operand (``_tensor_pair``, ``_binary``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _device, _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import _require_tensor, as_operand

Number = Any
_NUMBER_TYPES = (bool, int, float, np.bool_, np.integer, np.floating)


def _cast(array: Any, np_dtype: Any) -> Any:
    return array if array.dtype == np_dtype else _dtype.cast(array, np_dtype)


def _xp(array: Any) -> Any:
    return np if isinstance(array, (np.ndarray, np.generic)) else _device.xp_of(_device.array_device(array))


def _zeros_like(t: Tensor) -> Tensor:
    """A constant tensor of zeros shaped like ``t`` (the gradient of a piecewise-constant op)."""
    return Tensor._from_array(_xp(t._data).zeros_like(t._data), t.device)


def _in_opmath(*tensors: Tensor | None) -> tuple[Tensor | None, ...]:
    """float16 tensors as float32, for a backward that PyTorch computes in float32 and rounds once (the
    engine casts each gradient back to its input's dtype); None (an input not kept) stays None."""
    return tuple(t.to(_dtype.float32) if t is not None and t.dtype is _dtype.float16 else t for t in tensors)


def _tensor_pair(function: str, a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands as tensors; a Python number becomes a wrapped scalar on the other's device."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return a, b
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        _require_tensor(a, function, "input", 1)
    like = a if isinstance(a, Tensor) else b
    return as_operand(a, like), as_operand(b, like)


def _scalar_of(value: Number, np_dtype: Any) -> Any:
    """A Python number as a NumPy scalar of ``np_dtype``, wrapping into unsigned dtypes as C does (-1 -> 255)."""
    return _dtype.cast(np.asarray(value), np_dtype)[()]


def _pair_dtype(a: Tensor, b: Tensor) -> _dtype.dtype:
    """``result_type(a, b)`` of two tensors, with its commonest case first: one dtype, and neither a wrapped number."""
    if a.dtype is b.dtype and not a._wrapped and not b._wrapped:
        return a.dtype
    return _dtype.result_type(a, b)


def _binary(cls: type[Function], function: str, a: Any, b: Any, **params: Any) -> Tensor:
    a, b = _tensor_pair(function, a, b)
    return cls.apply(a, b, dtype=_pair_dtype(a, b).np, **params)
