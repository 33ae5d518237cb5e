"""Small helpers the ops share: dimension checks and turning Python scalars into operands."""
from __future__ import annotations

import operator
from typing import Any, Iterable

import numpy as np

from .. import _dtype
from ..tensor import Tensor

__all__ = ["normalize_dim", "normalize_dims", "as_operand", "as_int", "check_tensor", "float_dtype_for"]


def as_int(value: Any, name: str, function: str, position: int | None = None) -> int:
    """Accept an int, a NumPy integer or a 0-d integer tensor, as PyTorch's bindings do."""
    where = f" (position {position})" if position is not None else ""
    problem = TypeError(f"{function}(): argument '{name}'{where} must be int, not {type(value).__name__}")
    if isinstance(value, (bool, float, np.floating)) or (
            isinstance(value, Tensor) and (value.dtype.is_floating_point or value.ndim != 0)):
        raise problem
    try:
        return operator.index(value)
    except TypeError:
        raise problem from None


def normalize_dim(dim: Any, ndim: int, function: str = "dim") -> int:
    """Wrap a negative dim and check its range; a 0-d tensor accepts 0 and -1.

    >>> normalize_dim(-1, 3)
    2
    """
    dim = as_int(dim, "dim", function)
    top = max(ndim, 1)
    if not -top <= dim < top:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-top}, {top - 1}], but got {dim})")
    return dim % top


def normalize_dims(dims: Any, ndim: int, function: str = "dim") -> tuple[int, ...]:
    """``dims`` as a sorted tuple of non-negative axes; None or () means every axis."""
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, (list, tuple)):
        axes = [normalize_dim(d, ndim, function) for d in dims]
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"dim {axes[0]} appears multiple times in the list of dims")
        return tuple(sorted(axes)) if ndim else ()
    return (normalize_dim(dims, ndim, function),) if ndim else ()


def check_tensor(value: Any, name: str, function: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument '{name}' must be Tensor, not {type(value).__name__}")
    return value


def as_operand(value: Any, like: Tensor) -> Tensor:
    """A Tensor as is; a Python or NumPy scalar as a "wrapped number" on ``like``'s device."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        from .._device import on_device, xp_of
        if isinstance(value, (bool, np.bool_)):
            np_dtype: Any = np.bool_
        elif isinstance(value, (int, np.integer)):
            np_dtype = np.int64
            if not -2**63 <= int(value) < 2**63:
                raise RuntimeError(f"value cannot be converted to type int64 without overflow")
        else:
            np_dtype = np.float64
        with on_device(like.device):
            array = xp_of(like.device).asarray(value, dtype=np_dtype)
        return Tensor._from_array(array, like.device, wrapped=True)
    raise TypeError(f"unsupported operand type: {type(value).__name__}")


def float_dtype_for(t: Tensor) -> _dtype.dtype:
    """The dtype a float-valued op gives: the input's own if floating, else the default dtype."""
    return t.dtype if t.dtype.is_floating_point else _dtype.get_default_dtype()


def as_tuple_of_ints(args: Iterable[Any]) -> tuple[int, ...]:
    """``f(2, 3)`` and ``f((2, 3))`` both mean the shape (2, 3)."""
    args = tuple(args)
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return tuple(operator.index(a) for a in args)
