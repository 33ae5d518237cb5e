"""Data types: the dtype objects, their aliases, the default dtype, and PyTorch's promotion rules.

Every other module asks this one which dtype a result has; nothing else re-derives the rules.

Promotion follows PyTorch (not NumPy). Operands fall into three groups:

* dimensioned tensors (``ndim > 0``),
* zero-dimensional tensors,
* "wrapped numbers": Python (and NumPy) scalars.

Each group is promoted on its own; a later group only changes the result when it belongs to a
higher *category* (bool < integer < floating) than what came before. Python floats count as the
default dtype, Python ints as int64.

Examples:
    >>> import minitorch_lsm as torch
    >>> (torch.tensor([1, 2]) + 2.5).dtype
    torch.float32
    >>> (torch.tensor([1., 2.]) + torch.tensor(1., dtype=torch.float64)).dtype
    torch.float32
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

__all__ = [
    "dtype", "float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool",
    "half", "float", "double", "short", "int", "long",
    "get_default_dtype", "set_default_dtype", "promote_types", "result_type", "finfo", "iinfo",
]

_builtin_bool, _builtin_int, _builtin_float = bool, int, float


class dtype:  # noqa: N801 - the name mirrors torch.dtype
    """A tensor element type such as ``torch.float32``; wraps the NumPy dtype that stores it.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.float16.is_floating_point, torch.int64.itemsize, torch.long
        (True, 8, torch.int64)
    """

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_torch_name")

    def __init__(self, name: str, np_dtype: Any, torch_name: str) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"
        self.itemsize = self.np.itemsize
        self._torch_name = torch_name

    @property
    def category(self) -> _builtin_int:
        """0 for bool, 1 for integers, 2 for floating point (PyTorch's promotion categories)."""
        return 2 if self.is_floating_point else (0 if self.np.kind == "b" else 1)

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> str:
        return self.name


float16 = dtype("float16", np.float16, "Half")
float32 = dtype("float32", np.float32, "Float")
float64 = dtype("float64", np.float64, "Double")
uint8 = dtype("uint8", np.uint8, "Byte")
int8 = dtype("int8", np.int8, "Char")
int16 = dtype("int16", np.int16, "Short")
int32 = dtype("int32", np.int32, "Int")
int64 = dtype("int64", np.int64, "Long")
bool = dtype("bool", np.bool_, "Bool")  # noqa: A001 - torch.bool

half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001

ALL_DTYPES = (float16, float32, float64, uint8, int8, int16, int32, int64, bool)
_FROM_NUMPY = {d.np: d for d in ALL_DTYPES}


def torch_name(d: dtype) -> str:
    """The C++ scalar-type name PyTorch prints in error messages ('Float', 'Long', ...)."""
    return d._torch_name


_CPP_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double", "uint8": "unsigned char",
              "int8": "signed char", "int16": "short int", "int32": "int", "int64": "long int", "bool": "bool"}


def cpp_name(d: dtype) -> str:
    """The C++ type name some PyTorch messages print instead ('float', 'long int', 'c10::Half', ...)."""
    return _CPP_NAMES[d.name]


def from_numpy_dtype(np_dtype: Any) -> dtype:
    """The dtype object for a NumPy dtype; TypeError for one PyTorch has no equivalent of."""
    found = _FROM_NUMPY.get(np_dtype)  # the common case, an array's own dtype, without np.dtype()
    if found is not None:
        return found
    try:
        return _FROM_NUMPY[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        pass
    name = np.dtype(np_dtype).name
    if name in ("uint16", "uint32", "uint64", "complex64", "complex128"):  # PyTorch has these; minitorch does not
        raise TypeError(f"can't convert np.ndarray of type numpy.{name}: minitorch_lsm has no {name} dtype. The "
                        "supported types are: float64, float32, float16, int64, int32, int16, int8, uint8, and bool.")
    raise TypeError(f"can't convert np.ndarray of type numpy.{np.dtype(np_dtype).type.__name__}. The only supported "
                    "types are: float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint64, "
                    "uint32, uint16, uint8, and bool.")


def as_dtype(value: Any, argument: str = "dtype") -> dtype:
    """Accept a dtype object or the Python types ``float``/``int``/``bool`` as PyTorch does."""
    if isinstance(value, dtype):
        return value
    if value is _builtin_float:
        return float64
    if value is _builtin_int:
        return int64
    if value is _builtin_bool:
        return bool
    raise TypeError(f"argument '{argument}' must be torch.dtype, not {type(value).__name__}")


# ---------------------------------------------------------------- default dtype (process-wide, as in torch)
_global_default = [float32]


def get_default_dtype() -> dtype:
    """The dtype Python floats and floating factories use (float32 unless changed).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.get_default_dtype()
        torch.float32
    """
    return _global_default[0]


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype; only float16/32/64 are allowed, as in PyTorch.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.set_default_dtype(torch.float64); torch.tensor([1.5]).dtype
        torch.float64
        >>> torch.set_default_dtype(torch.float32)
    """
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _global_default[0] = d


def opmath(np_dtype: Any) -> np.dtype:
    """The NumPy dtype elementwise arithmetic on ``np_dtype`` runs in: float16 computes in float32 and is
    rounded once at the end, as PyTorch's kernels do (``opmath_type``); every other dtype computes in itself.

    Examples:
        >>> import numpy as np
        >>> from minitorch_lsm import _dtype
        >>> _dtype.opmath(np.float16), _dtype.opmath(np.int32)
        (dtype('float32'), dtype('int32'))
    """
    np_dtype = np.dtype(np_dtype)
    return np.dtype(np.float32) if np_dtype == np.float16 else np_dtype


def cast(array: Any, np_dtype: Any) -> Any:
    """``array.astype(np_dtype)`` (a NumPy or CuPy array or scalar), rounding float64 to float16 the way
    PyTorch does: through float32, so twice. About one random value in 20,000 then lands one float16 ulp
    away from the nearest float16, on the same side as PyTorch's.

    Examples:
        >>> import numpy as np
        >>> from minitorch_lsm import _dtype
        >>> x = np.float64(0.100006103515625 + 2.0**-40)  # just above a midpoint of float16s; float32 rounds it onto it
        >>> _dtype.cast(x, np.float16).item(), x.astype(np.float16).item()
        (0.0999755859375, 0.10003662109375)
    """
    if np_dtype == np.float16 and array.dtype == np.float64:
        array = array.astype(np.float32)
    return array.astype(np_dtype)


# ---------------------------------------------------------------- promotion
def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` convert to without losing their category.

    Floating beats integer whatever the sizes (``int64 + float16 -> float16``), unlike NumPy.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.promote_types(torch.int64, torch.float16)
        torch.float16
        >>> torch.promote_types(torch.uint8, torch.int8)
        torch.int16
    """
    if a is b:
        return a
    if a.is_floating_point or b.is_floating_point:
        if a.is_floating_point and b.is_floating_point:
            return a if a.itemsize >= b.itemsize else b
        return a if a.is_floating_point else b
    return _FROM_NUMPY[np.promote_types(a.np, b.np)]


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    """Merge a lower-priority group into a higher one (PyTorch's ``combine_categories``)."""
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is bool or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value: Any) -> dtype:
    """The dtype a Python scalar takes part in promotion as: bool, int64 or the default float."""
    if isinstance(value, (_builtin_bool, np.bool_)):
        return bool
    if isinstance(value, (_builtin_int, np.integer)):
        return int64
    if isinstance(value, (_builtin_float, np.floating)):
        return get_default_dtype()
    raise TypeError(f"unsupported scalar type {type(value).__name__}")


def result_type(*operands: Any) -> dtype:
    """The dtype of an elementwise op over tensors and Python scalars, by PyTorch's rules.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.result_type(torch.tensor([1], dtype=torch.uint8), 300)
        torch.uint8
    """
    first = getattr(operands[0], "dtype", None)
    for op in operands:
        if getattr(op, "_wrapped", True) is not False or op.dtype is not first:
            break
    else:
        return first  # tensors of one dtype: nothing to promote
    groups: list[dtype | None] = [None, None, None]  # dimensioned, zero-dim, wrapped numbers
    for op in operands:
        if hasattr(op, "_wrapped"):
            group = 2 if op._wrapped else (1 if op.ndim == 0 else 0)
            d = scalar_dtype(op.item()) if op._wrapped else op.dtype
        else:
            group, d = 2, scalar_dtype(op)
        groups[group] = d if groups[group] is None else promote_types(groups[group], d)
    out = _combine(groups[0], _combine(groups[1], groups[2]))
    assert out is not None, "result_type needs at least one operand"
    return out


def infer_dtype(data: Any) -> dtype:
    """The dtype ``torch.tensor(data)`` gives: NumPy data keeps its dtype, Python data goes by category."""
    if isinstance(data, (np.ndarray, np.generic)):
        return from_numpy_dtype(data.dtype)
    if hasattr(data, "_wrapped"):
        return data.dtype
    if isinstance(data, (list, tuple)):
        found = [infer_dtype(item) for item in data]
        if not found:
            return get_default_dtype()
        out = found[0]
        for d in found[1:]:
            out = out if out is d else promote_types(out, d)
        return out
    return scalar_dtype(data)


_C_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double", "uint8": "uint8_t", "int8": "int8_t",
            "int16": "int16_t", "int32": "int", "int64": "int64_t"}


@functools.lru_cache(maxsize=None)
def _limits(d: dtype) -> tuple[Any, Any]:
    """The lowest and highest finite value of ``d``, as Python numbers."""
    if d.is_floating_point:
        return -_builtin_float(np.finfo(d.np).max), _builtin_float(np.finfo(d.np).max)
    return _builtin_int(np.iinfo(d.np).min), _builtin_int(np.iinfo(d.np).max)


def check_fits(value: Any, d: dtype) -> None:
    """Raise as PyTorch does when a Python number is stored into a tensor of dtype ``d`` it overflows.

    nan and inf fit any floating dtype but no integer one; an unsigned dtype also takes the ints ``-max..-1``
    (they wrap around, as in C) but no negative float.
    """
    if d is bool or isinstance(value, (_builtin_bool, np.bool_)):
        return
    low, high = _limits(d)
    if d.is_floating_point:
        fits = not np.isfinite(value) or low <= value <= high
    else:
        if low == 0 and isinstance(value, (_builtin_int, np.integer)):
            low = -high  # wraps around
        fits = _builtin_bool(np.isfinite(value)) and low <= value <= high
    if not fits:
        raise RuntimeError(f"value cannot be converted to type {_C_NAMES[d.name]} without overflow")


# ---------------------------------------------------------------- finfo / iinfo
def _info_dtype(value: Any, function: str) -> dtype:
    if isinstance(value, dtype) or value in (_builtin_float, _builtin_int, _builtin_bool):
        return as_dtype(value)
    raise TypeError(f"{function}(): argument 'type' (position 1) must be torch.dtype, not {type(value).__name__}")


class finfo:  # noqa: N801
    """Machine limits of a floating dtype: ``bits eps max min tiny smallest_normal resolution`` (as torch.finfo).

    ``resolution`` is ``10 ** -precision``, the decimal resolution (1e-06 for float32), as a Python float.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.finfo(torch.float32).eps
        1.1920928955078125e-07
        >>> torch.finfo(torch.float16)
        finfo(resolution=0.001, min=-65504, max=65504, eps=0.000976562, smallest_normal=6.10352e-05, \
tiny=6.10352e-05, dtype=float16)
    """

    __hash__ = None  # type: ignore[assignment] - compared by value, and unhashable, as torch.finfo

    def __init__(self, type: dtype | None = None) -> None:  # noqa: A002
        d = get_default_dtype() if type is None else _info_dtype(type, "finfo")
        if not d.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle 'torch.finfo'")
        info = np.finfo(d.np)
        self.bits, self.dtype = _builtin_int(info.bits), d.name
        self.eps, self.max, self.min = _builtin_float(info.eps), _builtin_float(info.max), _builtin_float(info.min)
        self.tiny = self.smallest_normal = _builtin_float(info.tiny)
        self.resolution = 10.0 ** -_builtin_int(info.precision)

    def __eq__(self, other: object) -> _builtin_bool:
        return isinstance(other, finfo) and vars(self) == vars(other)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:  # noqa: N801
    """Limits of an integer dtype: ``bits min max`` (as torch.iinfo); bool has none.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.iinfo(torch.uint8).max
        255
        >>> torch.iinfo(torch.int32)
        iinfo(min=-2.14748e+09, max=2.14748e+09, dtype=int32)
    """

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, type: dtype) -> None:  # noqa: A002
        d = _info_dtype(type, "iinfo")
        if d is bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d.is_floating_point:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        info = np.iinfo(d.np)
        self.bits, self.dtype = _builtin_int(info.bits), d.name
        self.min, self.max = _builtin_int(info.min), _builtin_int(info.max)

    def __eq__(self, other: object) -> _builtin_bool:
        return isinstance(other, iinfo) and vars(self) == vars(other)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
