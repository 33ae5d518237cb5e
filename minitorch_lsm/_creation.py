"""Factories from data and filled shapes: ``tensor``, ``as_tensor``, ``zeros``, ``full``, ``arange``, ``*_like``...

Dtypes follow PyTorch's creation rules (``_dtype.infer_dtype``): Python floats give the default
dtype, ints give int64, NumPy data keeps its dtype. The random factories (``randn``, ``rand``...) and
the seeded generators are in ``_random.py``.

Examples:
    >>> import minitorch_lsm as torch
    >>> torch.tensor([1, 2.5]).dtype, torch.arange(3).dtype, torch.full((2,), True).dtype
    (torch.float32, torch.int64, torch.bool)
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from . import _device, _dtype
from .tensor import Tensor
from .ops._util import _require_tensor, as_tuple_of_ints, fused_multiply_add


# ---------------------------------------------------------------------- building tensors
def _finish(array: Any, dtype: _dtype.dtype, device: Any, requires_grad: bool) -> Tensor:
    dev = _device.as_device(device)
    array = _device.move(np.asarray(array) if dev.type == "cpu" else array, dev)
    if array.dtype != dtype.np:
        array = _dtype.cast(array, dtype.np)
    out = Tensor._from_array(array, dev)
    if requires_grad:
        if not dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        out._requires_grad = True
    return out


def _plain(data: Any) -> Any:
    """Nested data with tensors replaced by their arrays (``tensor([t1, t2])`` works)."""
    if isinstance(data, Tensor):
        return np.asarray(data)
    if isinstance(data, (list, tuple)):
        return [_plain(d) for d in data]
    return data


def _check_ints(data: Any) -> None:
    if isinstance(data, (list, tuple)):
        for d in data:
            _check_ints(d)
    elif isinstance(data, int) and not isinstance(data, bool) and not -2**63 <= data < 2**63:
        raise ValueError("Overflow when unpacking long long" if data > 0 else "Overflow when unpacking long long")


def tensor(data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, NumPy arrays or tensors).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([[1, 2], [3, 4]], dtype=torch.float64)
        tensor([[1., 2.],
                [3., 4.]], dtype=torch.float64)
    """
    if isinstance(data, Tensor):
        data = data.detach()
        return _finish(data._data.copy() if data.device.type == "cpu" else data._data.copy(),
                       _dtype.as_dtype(dtype) if dtype is not None else data.dtype,
                       device if device is not None else data.device, requires_grad)
    _check_ints(data)
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.infer_dtype(data)
    with np.errstate(over="ignore", invalid="ignore"):
        if isinstance(data, np.ndarray):
            array = _dtype.cast(data, dt.np)                # NumPy data wraps around, as in C
        else:
            shape = _nested_shape(data, dt)
            if math.prod(shape) == 0:                       # nothing to read: PyTorch checks nothing further
                array = np.zeros(shape, dtype=dt.np)
            else:
                values = np.array(_plain(data))             # Python data: float64, int64 or bool first
                _check_python_values(values, dt)
                array = _dtype.cast(values, dt.np)
    return _finish(array, dt, device, requires_grad)


def _nested_shape(data: Any, dt: _dtype.dtype) -> tuple[int, ...]:
    """The shape of nested sequences, checked as PyTorch checks it: the first element at each depth gives the
    length every sequence at that depth must have, and numbers sit at the innermost depth only.

    Examples:
        >>> from minitorch_lsm import _creation, float32
        >>> _creation._nested_shape([[1, 2], [3]], float32)
        Traceback (most recent call last):
        ValueError: expected sequence of length 2 at dim 1 (got 1)
    """
    shape: list[int] = []
    probe = data
    while isinstance(probe, (list, tuple, np.ndarray, Tensor)):
        if not isinstance(probe, (list, tuple)):
            shape.extend(probe.shape)
            break
        shape.append(len(probe))
        if not probe:
            break
        probe = probe[0]
    if math.prod(shape) == 0:
        return tuple(shape)

    def check(item: Any, dim: int) -> None:
        if dim == len(shape):
            if isinstance(item, (list, tuple)):
                kind = type(item).__name__
                raise TypeError(f"must be real number, not {kind}" if dt.is_floating_point else
                                f"'{kind}' object cannot be interpreted as an integer")
            return
        if isinstance(item, (np.ndarray, Tensor)):
            for i, (want, got) in enumerate(zip(shape[dim:], item.shape)):
                if want != got:
                    raise ValueError(f"expected sequence of length {want} at dim {dim + i} (got {got})")
            return
        if not isinstance(item, (list, tuple)):
            raise TypeError("not a sequence")
        if len(item) != shape[dim]:
            raise ValueError(f"expected sequence of length {shape[dim]} at dim {dim} (got {len(item)})")
        for element in item:
            check(element, dim + 1)

    check(data, 0)
    return tuple(shape)


def _check_python_values(values: np.ndarray, dt: _dtype.dtype) -> None:
    """PyTorch refuses Python numbers an integer dtype cannot hold (``tensor([300], dtype=torch.uint8)``).

    Python ints may wrap into an unsigned dtype from ``-max`` (``-2`` becomes 254); floats must be in range.
    """
    if dt.is_floating_point or dt is _dtype.bool or values.dtype.kind not in "fiu" or values.size == 0:
        return
    info = np.iinfo(dt.np)
    if values.dtype.kind == "f":
        bad = ~np.isfinite(values) | (values < info.min) | (values > info.max)
    else:
        bad = (values < (-int(info.max) if info.min == 0 else int(info.min))) | (values > info.max)
    if bad.any():
        raise RuntimeError(f"value cannot be converted to type {dt.name} without overflow")


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like ``tensor`` but shares memory with a tensor or NumPy array when dtype and device allow.

    Examples:
        >>> import minitorch_lsm as torch
        >>> import numpy as np
        >>> a = np.array([1., 2.])
        >>> t = torch.as_tensor(a); a[0] = 5.
        >>> t
        tensor([5., 2.], dtype=torch.float64)
    """
    if isinstance(data, Tensor):
        return data.to(device=device or data.device, dtype=dtype or data.dtype)
    if isinstance(data, np.ndarray) and (dtype is None or _dtype.as_dtype(dtype).np == data.dtype) and \
            _device.as_device(device).type == "cpu":
        return _sharing(data, stacklevel=3)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A cpu tensor sharing memory with a NumPy array (changes show in both); the dtype is kept.

    Examples:
        >>> import minitorch_lsm as torch
        >>> import numpy as np
        >>> torch.from_numpy(np.array([1, 2], dtype=np.int32))
        tensor([1, 2], dtype=torch.int32)
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    _dtype.from_numpy_dtype(array.dtype)
    return _sharing(array, stacklevel=3)


_read_only_warned = [False]  # PyTorch warns once per program


def _sharing(array: np.ndarray, stacklevel: int) -> Tensor:
    """A cpu tensor over ``array``'s memory; a non-writable array warns, once, as PyTorch does (here writes
    to it then raise, where PyTorch's are undefined)."""
    if not array.flags.writeable and not _read_only_warned[0]:
        _read_only_warned[0] = True
        warnings.warn("The given NumPy array is not writable, and PyTorch does not support non-writable tensors. "
                      "This means writing to this tensor will result in undefined behavior. You may want to copy the "
                      "array to protect its data or make it writable before converting it to a tensor. This type of "
                      "warning will be suppressed for the rest of this program.", UserWarning, stacklevel=stacklevel)
    return Tensor._from_array(array, _device.CPU)


def _shape_of(size: Any) -> tuple[int, ...]:
    """``size`` as a tuple of ints, refusing negative sizes with PyTorch's error."""
    shape = as_tuple_of_ints(size)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: [{', '.join(map(str, shape))}]")
    return shape


def _size_given(function: str, size: tuple[Any, ...], keyword: dict[str, Any]) -> Any:
    """The size given by position (``zeros(2, 3)``, ``zeros((2, 3))``) or as ``size=`` (``zeros(size=(2, 3))``)."""
    for name in keyword:
        if name != "size" or size:
            raise TypeError(f"{function}() got an unexpected keyword argument '{name}'" if name != "size" else
                            f"{function}() got multiple values for argument 'size'")
    return keyword["size"] if keyword else size


def _filled(size: Any, value: Any, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    shape = _shape_of(size)
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    dev = _device.as_device(device)
    with _device.on_device(dev):
        array = _device.xp_of(dev).full(shape, value, dtype=dt.np)
    return _finish(array, dt, dev, requires_grad)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          **size_keyword: Any) -> Tensor:
    """A tensor of zeros; ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``, the default float
    dtype unless ``dtype``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.zeros(2, 3)
        tensor([[0., 0., 0.],
                [0., 0., 0.]])
    """
    return _filled(_size_given("zeros", size, size_keyword), 0, dtype, device, requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         **size_keyword: Any) -> Tensor:
    """A tensor of ones.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.ones(2, dtype=torch.int32)
        tensor([1, 1], dtype=torch.int32)
    """
    return _filled(_size_given("ones", size, size_keyword), 1, dtype, device, requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          **size_keyword: Any) -> Tensor:
    """A tensor whose values are unspecified (here: zeros, so results never depend on garbage).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.empty(2, 3).shape
        torch.Size([2, 3])
    """
    return _filled(_size_given("empty", size, size_keyword), 0, dtype, device, requires_grad)


def full(size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype follows the value (bool, int64 or the default float).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.full((2, 2), 7)
        tensor([[7, 7],
                [7, 7]])
    """
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    for i, s in enumerate(size):
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, but found element of type "
                            f"{type(s).__name__} at pos {i}")
    if isinstance(fill_value, Tensor) and fill_value.ndim == 0:
        fill_value = fill_value.item()
    if not isinstance(fill_value, (bool, int, float, np.bool_, np.integer, np.floating)):
        raise TypeError(f"full(): argument 'fill_value' (position 2) must be Number, not {type(fill_value).__name__}")
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.scalar_dtype(fill_value)
    _dtype.check_fits(fill_value, dt)  # the value is stored in the dtype, checked (-1 wraps into uint8)
    return _filled(size, _dtype.cast(np.asarray(fill_value), dt.np)[()], dt, device, requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The ``n x m`` identity matrix: ``out[i, j] = 1 if i == j else 0``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.eye(2, 3)
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
    """
    m = n if m is None else m
    for name, value in (("n", n), ("m", m)):
        if value < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {value}")
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    return _finish(np.eye(n, m, dtype=dt.np), dt, device, requires_grad)


def _number(value: Any, function: str, name: str, position: int) -> Any:
    """A bound given to ``arange``/``linspace``: a Python or NumPy number, or a 0-d tensor's value."""
    if isinstance(value, Tensor) and value.ndim == 0:
        return value.item()
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return value.item() if isinstance(value, np.generic) else value
    raise TypeError(f"{function}(): argument '{name}' (position {position}) must be Number, not {type(value).__name__}")


def _affine(base: float, step: float, counts: np.ndarray, dt: _dtype.dtype) -> np.ndarray:
    """``base + step * k`` for each count ``k``, as PyTorch's range kernels compute it: a fused multiply-add
    (rounded once; for float16 in float32, the kernel's accumulate type), then rounded to ``dt``."""
    if dt is _dtype.float16:
        base, step = np.float32(base), np.float32(step)  # float32 values: their product with k is exact in float64
        return (np.float64(base) + np.float64(step) * counts).astype(np.float32).astype(dt.np)
    return fused_multiply_add(np.float64(step), counts.astype(np.float64), np.float64(base)).astype(dt.np)


def arange(start: Any = None, end: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """``out_i = start + i * step`` up to (not including) ``end``; int64 unless a bound is a float.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.arange(5), torch.arange(1, 2, 0.25)
        (tensor([0, 1, 2, 3, 4]), tensor([1.0000, 1.2500, 1.5000, 1.7500]))
    """
    if start is None and end is None:
        raise TypeError("arange(): argument 'end' (position 1) must be Number, not NoneType")
    if end is None or start is None:  # arange(end) or arange(end=...)
        start, end = 0, _number(start if end is None else end, "arange", "end", 1)
    else:
        start, end = _number(start, "arange", "start", 1), _number(end, "arange", "end", 2)
    step = _number(step, "arange", "step", 3)
    is_float = any(isinstance(v, float) for v in (start, end, step))
    dt = _dtype.as_dtype(dtype) if dtype is not None else (_dtype.get_default_dtype() if is_float else _dtype.int64)
    if dt is _dtype.bool:
        raise NotImplementedError("\"arange_cpu\" not implemented for 'Bool'")
    if not step > 0 and not step < 0:  # also nan
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start:g} -> {end:g}")
    if not ((step > 0 and end >= start) or (step < 0 and end <= start)):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dt is _dtype.int64:  # int64 truncates the bounds first and counts in integers
        for bound in (start, end):
            _dtype.check_fits(bound, dt)
        start, end, step = int(start), int(end), int(step)
        if step == 0:
            raise ValueError("step must be nonzero")
        count = (end - start + step - (1 if step > 0 else -1)) // step
    else:
        count = math.ceil((float(end) - float(start)) / float(step))
    if not 0 <= count <= 2**63 - 1:
        raise RuntimeError("invalid size, possible overflow?")
    k = np.arange(count)
    if dt.is_floating_point:
        values = _affine(start, step, k, dt)
    else:  # integers: int64 arithmetic on the truncated bounds, wrapped into the dtype
        values = (np.int64(int(start)) + np.int64(int(step)) * k).astype(dt.np)
    return _finish(values, dt, device, requires_grad)


def linspace(start: Any, end: Any, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` values from ``start`` to ``end`` inclusive, ``step = (end - start) / (steps - 1)`` apart.

    As PyTorch computes them: the first half as ``start + i * step``, the second as
    ``end - (steps - 1 - i) * step`` (each one fused multiply-add), so both ends are exact; float16 rounds
    every step to float16 and integer dtypes truncate.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.linspace(0, 1, 5)
        tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
        >>> torch.linspace(-10, 10, 7)[3].item()
        2.384185791015625e-07
    """
    start, end = _number(start, "linspace", "start", 1), _number(end, "linspace", "end", 2)
    if isinstance(steps, Tensor):
        steps = steps.item()
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        raise TypeError(f"linspace(): argument 'steps' (position 3) must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    if dt is _dtype.bool:
        raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
    _dtype.check_fits(start, dt)
    _dtype.check_fits(end, dt)
    return _finish(_linspace_values(start, end, int(steps), dt), dt, device, requires_grad)


def _linspace_values(start: Any, end: Any, steps: int, dt: _dtype.dtype) -> np.ndarray:
    """PyTorch's ``linspace_kernel``: the bounds in the dtype, ``step`` in the dtype (float64 for integers)."""
    if steps <= 1:
        return _dtype.cast(np.full(steps, start), dt.np) if dt.is_floating_point else \
            np.full(steps, np.asarray(start).astype(dt.np), dtype=dt.np)
    k = np.arange(steps)
    first = k < steps // 2
    back = steps - 1 - k
    if dt is _dtype.float16:  # Half arithmetic: every operation is rounded to float16
        f16, f32 = np.float16, np.float32
        lo, hi = (_dtype.cast(np.float64(bound), np.float16) for bound in (start, end))
        step = f16(f32(f16(f32(hi) - f32(lo))) / f32(f16(steps - 1)))
        offset = (f32(step) * k.astype(f16).astype(f32)).astype(f16).astype(f32)
        back_offset = (f32(step) * back.astype(f16).astype(f32)).astype(f16).astype(f32)
        return np.where(first, (f32(lo) + offset).astype(f16), (f32(hi) - back_offset).astype(f16))
    if dt is _dtype.float32:
        lo, hi = np.float32(start), np.float32(end)
        step = (hi - lo) / np.float32(steps - 1)
        return np.where(first, _affine(lo, step, k, dt), _affine(hi, -step, back, dt))
    # float64, and integers (computed in float64, then truncated)
    lo, hi = np.asarray(start).astype(dt.np), np.asarray(end).astype(dt.np)
    step = (np.float64(hi) - np.float64(lo)) / (steps - 1)
    values = np.where(first, _affine(float(lo), step, k, _dtype.float64), _affine(float(hi), -step, back, _dtype.float64))
    return values if dt is _dtype.float64 else np.trunc(values).astype(dt.np)


def _like(source: Tensor, dtype: Any, device: Any) -> dict[str, Any]:
    return {"dtype": dtype if dtype is not None else source.dtype,
            "device": device if device is not None else source.device}


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``input``'s shape, dtype and device.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.zeros_like(torch.tensor([[1, 2]]))
        tensor([[0, 0]])
    """
    _require_tensor(input, "zeros_like", "input", 1)
    return zeros(input.shape, requires_grad=requires_grad, **_like(input, dtype, device))


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with ``input``'s shape, dtype and device (``dtype=`` overrides).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.ones_like(torch.tensor([1., 2.]), dtype=torch.int64)
        tensor([1, 1])
    """
    _require_tensor(input, "ones_like", "input", 1)
    return ones(input.shape, requires_grad=requires_grad, **_like(input, dtype, device))


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Unspecified values (here: zeros) with ``input``'s shape, dtype and device.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.empty_like(torch.tensor([1, 2])).shape
        torch.Size([2])
    """
    _require_tensor(input, "empty_like", "input", 1)
    return empty(input.shape, requires_grad=requires_grad, **_like(input, dtype, device))


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, with ``input``'s shape, dtype and device.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.full_like(torch.tensor([1, 2]), 7)
        tensor([7, 7])
    """
    return full(input.shape, fill_value, requires_grad=requires_grad, **_like(input, dtype, device))
