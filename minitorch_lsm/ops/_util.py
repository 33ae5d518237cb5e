"""Small helpers the ops share: dimension checks and turning Python scalars into operands."""
from __future__ import annotations

import operator
from typing import Any, Iterable

import numpy as np

from .. import _device, _dtype
from ..tensor import Tensor

__all__ = ["normalize_dim", "normalize_dims", "as_operand", "as_int", "float_dtype_for", "broadcast_shape"]


def _require_tensor(value: Any, function: str, name: str, position: int) -> None:
    """PyTorch's binding check of a Tensor argument: a TypeError naming the argument and what it got.

    Examples:
        >>> from minitorch_lsm.ops import _util
        >>> _util._require_tensor([1.0], "sum", "input", 1)
        Traceback (most recent call last):
        TypeError: sum(): argument 'input' (position 1) must be Tensor, not list
    """
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be Tensor, "
                        f"not {type(value).__name__}")


def as_int(value: Any, name: str, function: str, position: int | None = None) -> int:
    """Accept an int, a NumPy integer or a 0-d integer tensor, as PyTorch's bindings do.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.ops import _util
        >>> _util.as_int(torch.tensor(3), 'dim', 'sum')
        3
    """
    if type(value) is int:  # the common case, before building any error message
        return value
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

    Examples:
        >>> from minitorch_lsm.ops import _util
        >>> _util.normalize_dim(-1, 3)
        2
    """
    dim = as_int(dim, "dim", function)
    top = max(ndim, 1)
    if not -top <= dim < top:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-top}, {top - 1}], but got {dim})")
    return dim % top


def normalize_dims(dims: Any, ndim: int, function: str = "dim") -> tuple[int, ...]:
    """``dims`` as a sorted tuple of non-negative axes; None or () means every axis.

    Examples:
        >>> from minitorch_lsm.ops import _util
        >>> _util.normalize_dims((-1, 0), 3), _util.normalize_dims(None, 2)
        ((0, 2), (0, 1))
    """
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, (list, tuple)):
        axes = [normalize_dim(d, ndim, function) for d in dims]
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"dim {axes[0]} appears multiple times in the list of dims")
        return tuple(sorted(axes)) if ndim else ()
    return (normalize_dim(dims, ndim, function),) if ndim else ()


def as_operand(value: Any, like: Tensor) -> Tensor:
    """A Tensor as is; a Python or NumPy scalar as a "wrapped number" on ``like``'s device.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.ops import _util
        >>> _util.as_operand(2.5, torch.ones(1))._wrapped
        True
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        if isinstance(value, (bool, np.bool_)):
            np_dtype: Any = np.bool_
        elif isinstance(value, (int, np.integer)):
            np_dtype = np.int64
            if not -2**63 <= int(value) < 2**64:  # as PyTorch's bindings, which read an unsigned 64-bit int
                raise OverflowError("int too big to convert" if value > 0 else "can't convert negative int to unsigned")
            if int(value) >= 2**63:
                raise RuntimeError("value cannot be converted to type int64_t without overflow")
        else:
            np_dtype = np.float64
        with _device.on_device(like.device):
            array = _device.xp_of(like.device).asarray(value, dtype=np_dtype)
        return Tensor._from_array(array, like.device, wrapped=True)
    raise TypeError(f"unsupported operand type: {type(value).__name__}")


def broadcast_shape(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape elementwise operands broadcast to, or PyTorch's error naming the first clash.

    Examples:
        >>> from minitorch_lsm.ops import _util
        >>> _util.broadcast_shape((2, 1), (3,))
        (2, 3)
        >>> _util.broadcast_shape((3,), (2,))
        Traceback (most recent call last):
        RuntimeError: The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0
    """
    out = tuple(shapes[0])
    if len(shapes) == 2 and out == shapes[1]:  # the common case, at once
        return out
    for shape in shapes[1:]:
        ndim = max(len(out), len(shape))
        a, b = (1,) * (ndim - len(out)) + tuple(out), (1,) * (ndim - len(shape)) + tuple(shape)
        for i in reversed(range(ndim)):
            if a[i] != b[i] and a[i] != 1 and b[i] != 1:
                raise RuntimeError(f"The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) at "
                                   f"non-singleton dimension {i}")
        out = tuple(x if y == 1 else y for x, y in zip(a, b))
    return out


def fused_multiply_add(x: Any, y: Any, z: Any) -> Any:
    """``x * y + z`` on float64 arrays, rounded once: the fused multiply-add PyTorch's CPU kernels compile to.

    NumPy has no fma, so it is built from error-free transformations: the product is split into its rounded
    value and exact error (Dekker's two-product, by Veltkamp splitting), the sum likewise (Knuth's two-sum), and
    the two errors are added back last. That is the correctly rounded result except in rare halfway cases.
    Where that is not finite (inf or nan operands, overflow) the plain ``x * y + z`` is returned instead.

    Examples:
        >>> import numpy as np
        >>> from minitorch_lsm.ops import _util
        >>> float(_util.fused_multiply_add(np.float64(0.1), np.float64(3.0), np.float64(-0.3)))  # 0.1*3 is not 0.3
        2.7755575615628914e-17
    """
    def split(a: Any) -> tuple[Any, Any]:
        scaled = 134217729.0 * a  # 2**27 + 1
        high = scaled - (scaled - a)
        return high, a - high

    with np.errstate(all="ignore"):  # inf and nan go through the plain formula below
        product = x * y
        (xh, xl), (yh, yl) = split(x), split(y)
        product_error = ((xh * yh - product) + xh * yl + xl * yh) + xl * yl
        total = product + z
        back = total - product  # two-sum of product and z: total + sum_error is exact
        sum_error = (product - (total - back)) + (z - back)
        error = product_error + sum_error
        fused = select(error != 0, total + error, total)  # adding a zero error would turn -0.0 into 0.0
        return select(abs(fused) <= np.finfo(np.float64).max, fused, total)


_SELECT_BY_BITS_FROM = 1024  # elements: below, np.where's fewer calls cost less


def select(condition: Any, a: Any, b: Any) -> Any:
    """``where(condition, a, b)`` for NumPy or CuPy arrays (or NumPy scalars), broadcasting.

    On NumPy, for a bool condition of 1024 elements or more and ``a``, ``b`` of one dtype, it selects bits:
    ``out = b ^ ((a ^ b) & mask)`` with ``mask`` all ones where the condition holds. NumPy's ``where``
    branches on every element, about 5 ns each when the condition is unpredictable (relu's ``x < 0``), five
    times these five vectorised passes; the bits, and so the result, are the same."""
    if not isinstance(condition, (np.ndarray, np.generic)):
        return _device.xp_of(_device.array_device(condition)).where(condition, a, b)
    condition, a, b = np.asarray(condition), np.asarray(a), np.asarray(b)
    if (condition.dtype != np.bool_ or condition.size < _SELECT_BY_BITS_FROM or a.dtype != b.dtype
            or a.dtype.kind not in "biuf"):
        return np.where(condition, a, b)
    bits = np.dtype(f"u{a.dtype.itemsize}")
    mask = condition.astype(bits)
    np.negative(mask, out=mask)  # 1 -> all ones (unsigned wrap-around), 0 -> 0
    a_bits, b_bits = a.view(bits), b.view(bits)
    out = np.asarray(np.bitwise_and(np.bitwise_xor(a_bits, b_bits), mask))  # asarray: 0-d results are scalars
    if out.shape != np.broadcast_shapes(out.shape, b_bits.shape):
        out = np.broadcast_to(out, np.broadcast_shapes(out.shape, b_bits.shape)).copy()
    np.bitwise_xor(out, b_bits, out=out)
    return out.view(a.dtype)


def float_dtype_for(t: Tensor) -> _dtype.dtype:
    """The dtype a float-valued op gives: the input's own if floating, else the default dtype.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.ops import _util
        >>> _util.float_dtype_for(torch.tensor([1, 2]))
        torch.float32
    """
    return t.dtype if t.dtype.is_floating_point else _dtype.get_default_dtype()


def as_tuple_of_ints(args: Iterable[Any]) -> tuple[int, ...]:
    """``f(2, 3)`` and ``f((2, 3))`` both mean the shape (2, 3).

    Examples:
        >>> from minitorch_lsm.ops import _util
        >>> _util.as_tuple_of_ints((2, 3)), _util.as_tuple_of_ints([(2, 3)])
        ((2, 3), (2, 3))
    """
    args = tuple(args)
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return tuple(operator.index(a) for a in args)
