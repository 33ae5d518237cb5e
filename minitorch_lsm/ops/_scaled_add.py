"""``a + alpha * b`` rounded once, as PyTorch's add/sub kernels compute it (they fuse the multiply-add): behind
``add(alpha=)`` and ``sub(alpha=)`` (``elementwise.py``) and the optimizers' updates (``optim/``), with the C
kernel ``add_scaled`` for float32 and a NumPy path for the rest.

Examples:
    >>> import numpy as np
    >>> from minitorch_lsm.ops._scaled_add import _add_scaled
    >>> _add_scaled(np.ones(2, np.float32), np.ones(2, np.float32), 0.5, np.dtype(np.float32))
    array([1.5, 1.5], dtype=float32)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype
from . import _c
from ._elementwise_util import Number, _cast, _scalar_of
from ._util import fused_multiply_add

_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)  # (compared with `is`: fast, and a
# non-native-order dtype, which is not these objects, takes the general path, with the same result)


def _add_scaled(a: Any, b: Any, alpha: Number, np_dtype: Any, sign: int = 1) -> Any:
    """``a + sign * alpha * b`` as PyTorch's add/sub kernels compute it: operands and alpha in the result dtype.

    Integers wrap; bool is ``a or (alpha and b)``. Floats round the multiply-add once, as the kernel fuses it
    (float16 and float32 compute it exactly in the next wider type, float64 with ``fused_multiply_add``).
    ``np_dtype`` is a ``numpy.dtype`` (not a scalar type such as ``np.float32``).
    """
    if alpha == 1 and (np_dtype is _FLOAT32 or np_dtype is _FLOAT64) and a.dtype is b.dtype is np_dtype:
        return a + b if sign > 0 else a - b  # float32/float64 in their own precision: nothing to convert
    if np_dtype == np.bool_:
        return a.astype(np.bool_) | (b.astype(np.bool_) & bool(alpha))
    a, b = _cast(a, np_dtype), _cast(b, np_dtype)
    if alpha == 1 or np_dtype.kind in "iu":
        compute = _dtype.opmath(np_dtype)
        a, b = _cast(a, compute), _cast(b, compute)
        if alpha != 1:
            b = b * _scalar_of(alpha, np_dtype)
        return _cast(a + b if sign > 0 else a - b, np_dtype)
    scale = _scalar_of(alpha if sign > 0 else -alpha, np_dtype)  # negated as a number: sub(alpha=0) scales by +0.0
    if np_dtype == np.float64:
        return fused_multiply_add(scale, b, a)
    out = _c.into_new("add_scaled", a, b, float(scale)) if np_dtype == _FLOAT32 and a.shape == b.shape else None
    if out is not None:
        return out  # the same rounding as below, in one pass
    wide = np.dtype(np.float32 if np_dtype == np.float16 else np.float64)
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and a.size > _WIDE_BLOCK:
        return _add_scaled_in_blocks(a, b, scale.astype(wide), np_dtype)
    return _cast(_wide_sum(_cast(a, wide), scale.astype(wide) * _cast(b, wide), np_dtype), np_dtype)


def _add_scaled_into(out: Any, b: Any, alpha: Number) -> None:
    """``out += alpha * b`` for arrays of one dtype and shape, rounded as ``_add_scaled``: in place, in one
    pass, where the C kernel applies (an optimizer's update of a parameter), else through a new array (also
    when ``b`` overlaps ``out``: writing while reading would read elements already updated)."""
    in_c = (_c.enabled and isinstance(out, np.ndarray) and out.dtype == _FLOAT32 and out.shape == b.shape
            and not np.may_share_memory(out, b))  # (a CuPy array is not for C, nor for NumPy's overlap test)
    if not (in_c and _c.kernels.add_scaled(out, out, b, float(_scalar_of(alpha, _FLOAT32)))):
        out[...] = _add_scaled(out, b, alpha, out.dtype)


def _wide_sum(a: Any, product: Any, np_dtype: Any) -> Any:
    """``a + product`` in the wide dtype, such that rounding it to ``np_dtype`` rounds the exact sum once.

    float16 is computed in float32 and rounded twice, as PyTorch's kernel does. For float32 in float64 the
    sum is rounded to odd: an inexact sum is replaced by whichever of its two float64 neighbours has a 1
    in the last bit. Rounding to nearest twice can land on a float32 midpoint the exact sum was not on
    (about once in 2**28); rounding to odd first, with 29 bits to spare, cannot (Boldo and Melquiond)."""
    total = a + product
    if np_dtype != np.float32:
        return total
    total, back = np.asarray(total), total - a
    error = (a - (total - back)) + (product - back)  # two-sum: total + error is exactly a + product
    bits = total.view(np.uint64)
    step = np.where((error > 0) == (total > 0), 1, -1).astype(np.uint64)  # +1 in the bits: away from zero
    fix = ((bits & 1) == 0) & (error != 0) & np.isfinite(error)  # inexact, and the nearest was even
    return np.where(fix, bits + step, bits).view(np.float64)


def _scaled(a: Any, factor: Number) -> Any:
    """``a * factor`` as PyTorch's multiply by a Python number: in ``opmath`` (float16 in float32, the
    factor in that type too) and rounded once to ``a``'s dtype."""
    compute = _dtype.opmath(a.dtype)
    return (a.astype(compute, copy=False) * compute.type(factor)).astype(a.dtype, copy=False)


_WIDE_BLOCK = 1 << 16  # elements: one wide buffer of 512 KiB, reused while it stays in the cache


def _add_scaled_in_blocks(a: Any, b: Any, scale: Any, np_dtype: Any) -> Any:
    """``a + scale * b`` computed in ``scale``'s wider dtype and rounded to ``np_dtype`` (see ``_wide_sum``), a
    block at a time: converting whole operands would make arrays twice their size, and allocating those
    (page faults) cost several times the arithmetic."""
    out = np.empty(a.shape, np_dtype)
    flat_a, flat_b, flat_out = a.reshape(-1), b.reshape(-1), out.reshape(-1)
    buffer = np.empty(_WIDE_BLOCK, scale.dtype)
    for start in range(0, a.size, _WIDE_BLOCK):
        block = slice(start, start + _WIDE_BLOCK)
        wide = buffer[:len(flat_out[block])]
        np.multiply(flat_b[block], scale, out=wide)  # exact: the product of two narrow numbers fits the wide type
        flat_out[block] = _wide_sum(flat_a[block].astype(scale.dtype), wide, np_dtype)  # rounded once
    return out
