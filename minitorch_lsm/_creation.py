"""Factories: ``tensor``, ``zeros``, ``arange``, ``randn``... and the seeded random generators.

Dtypes follow PyTorch's creation rules (``_dtype.infer_dtype``): Python floats give the default
dtype, ints give int64, NumPy data keeps its dtype. Random numbers come from one NumPy generator per
device, seeded by ``manual_seed`` (the same seed gives the same numbers on every run; they are not the
numbers PyTorch's own generator draws).

>>> import minitorch_lsm as torch
>>> torch.tensor([1, 2.5]).dtype, torch.arange(3).dtype, torch.full((2,), True).dtype
(torch.float32, torch.int64, torch.bool)
>>> _ = torch.manual_seed(0); a = torch.randn(3)
>>> _ = torch.manual_seed(0); bool((a == torch.randn(3)).all())
True
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _device, _dtype
from .tensor import Tensor
from .ops._util import as_tuple_of_ints

DEFAULT_SEED = 67280421310721  # PyTorch's default CPU seed, so unseeded runs repeat too


class Generator:
    """A source of random numbers for one device: ``Generator().manual_seed(0)``."""

    def __init__(self, device: Any = "cpu") -> None:
        self.device = _device.device(device) if not isinstance(device, _device.device) else device
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from ``seed``; returns self."""
        seed = int(seed)
        if not -2**63 <= seed < 2**64:
            raise RuntimeError(f"Overflow when unpacking long long")
        self._seed = seed
        self.numpy = np.random.Generator(np.random.PCG64(seed % 2**64))
        return self

    def initial_seed(self) -> int:
        """The seed the stream started from."""
        return self._seed

    def get_state(self) -> Any:
        return self.numpy.bit_generator.state

    def set_state(self, state: Any) -> "Generator":
        self.numpy.bit_generator.state = state
        return self


_default_generators: dict[str, Generator] = {}


def default_generator(device: _device.device = _device.CPU) -> Generator:
    """The generator factories use when none is given (one per device, created on first use)."""
    key = str(device)
    if key not in _default_generators:
        _default_generators[key] = Generator(device)
    return _default_generators[key]


def manual_seed(seed: int) -> Generator:
    """Seed every device's default generator; returns the cpu one."""
    for gen in _default_generators.values():
        gen.manual_seed(seed)
    return default_generator().manual_seed(seed)


def initial_seed() -> int:
    return default_generator().initial_seed()


def seed() -> int:
    """Seed the default generators from the operating system's entropy; returns the seed."""
    value = int(np.random.SeedSequence().entropy % 2**63)
    manual_seed(value)
    return value


# ---------------------------------------------------------------------- building tensors
def _finish(array: Any, dtype: _dtype.dtype, device: Any, requires_grad: bool) -> Tensor:
    dev = _device.as_device(device)
    array = _device.move(np.asarray(array, dtype=dtype.np) if dev.type == "cpu" else array, dev)
    if dev.type != "cpu":
        array = array.astype(dtype.np, copy=False)
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
            array = data.astype(dt.np)                      # NumPy data wraps around, as in C
        else:
            values = np.array(_plain(data))                 # Python data: float64, int64 or bool first
            _check_python_values(values, dt)
            array = values.astype(dt.np)
    return _finish(array, dt, device, requires_grad)


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
    """Like ``tensor`` but shares memory with a tensor or NumPy array when dtype and device allow."""
    if isinstance(data, Tensor):
        return data.to(device=device or data.device, dtype=dtype or data.dtype)
    if isinstance(data, np.ndarray) and (dtype is None or _dtype.as_dtype(dtype).np == data.dtype) and \
            _device.as_device(device).type == "cpu":
        return Tensor._from_array(data, _device.CPU)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A cpu tensor sharing memory with a NumPy array (changes show in both)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    _dtype.from_numpy_dtype(array.dtype)
    return Tensor._from_array(array, _device.CPU)


def _filled(size: Any, value: Any, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    shape = as_tuple_of_ints(size)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: [{', '.join(map(str, shape))}]")
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    dev = _device.as_device(device)
    with _device.on_device(dev):
        array = _device.xp_of(dev).full(shape, value, dtype=dt.np)
    return _finish(array, dt, dev, requires_grad)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros; ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _filled(size, 0, dtype, device, requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _filled(size, 1, dtype, device, requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor whose values are unspecified (here: zeros, so results never depend on garbage)."""
    return _filled(size, 0, dtype, device, requires_grad)


def full(size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype follows the value (bool, int64 or the default float)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dt = dtype if dtype is not None else _dtype.scalar_dtype(fill_value)
    return _filled((size,) if isinstance(size, int) else size, fill_value, dt, device, requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The ``n x m`` identity matrix."""
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    return _finish(np.eye(n, n if m is None else m, dtype=dt.np), dt, device, requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """``start, start + step, ...`` up to (not including) ``end``; int64 unless a bound is a float."""
    if end is None:
        start, end = 0, start
    bounds = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if bounds[2] == 0:
        raise RuntimeError("step must be nonzero")
    if (bounds[1] - bounds[0]) * bounds[2] < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    is_float = any(isinstance(v, (float, np.floating)) for v in bounds)
    dt = _dtype.as_dtype(dtype) if dtype is not None else (_dtype.get_default_dtype() if is_float else _dtype.int64)
    count = max(0, math.ceil((bounds[1] - bounds[0]) / bounds[2]))
    values = bounds[0] + bounds[2] * np.arange(count, dtype=np.float64 if is_float else np.int64)
    return _finish(values.astype(dt.np), dt, device, requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    return _finish(np.linspace(float(start), float(end), int(steps)).astype(dt.np), dt, device, requires_grad)


def _random(size: Any, draw: Any, dtype: Any, device: Any, requires_grad: bool, generator: Generator | None,
            integer: bool = False, kernel: str = "normal_kernel_cpu") -> Tensor:
    shape = as_tuple_of_ints(size)
    dt = _dtype.as_dtype(dtype) if dtype is not None else (_dtype.int64 if integer else _dtype.get_default_dtype())
    if not integer and not dt.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.torch_name(dt)}\'')
    dev = _device.as_device(device)
    gen = generator or default_generator(dev)
    return _finish(draw(gen.numpy, shape).astype(dt.np), dt, dev, requires_grad)


def randn(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          generator: Generator | None = None) -> Tensor:
    """Samples from the standard normal distribution N(0, 1)."""
    return _random(size, lambda g, s: g.standard_normal(s), dtype, device, requires_grad, generator)


def rand(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         generator: Generator | None = None) -> Tensor:
    """Samples from the uniform distribution on [0, 1)."""
    return _random(size, lambda g, s: g.random(s), dtype, device, requires_grad, generator,
                   kernel="check_uniform_bounds")


def randint(low: int, high: int | None = None, size: Any = None, *, dtype: Any = None, device: Any = None,
            generator: Generator | None = None, requires_grad: bool = False) -> Tensor:
    """Random integers in ``[low, high)`` (``randint(high, size)`` means low = 0); int64 by default."""
    if size is None:
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    return _random(size, lambda g, s: g.integers(low, high, s), dtype, device, requires_grad, generator, integer=True)


def randperm(n: int, *, dtype: Any = None, device: Any = None, generator: Generator | None = None) -> Tensor:
    """A random permutation of ``0 .. n-1``."""
    return _random((n,), lambda g, s: g.permutation(n), dtype, device, False, generator, integer=True)


def _like(source: Tensor, dtype: Any, device: Any) -> dict[str, Any]:
    return {"dtype": dtype if dtype is not None else source.dtype,
            "device": device if device is not None else source.device}


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``input``'s shape, dtype and device."""
    return zeros(input.shape, requires_grad=requires_grad, **_like(input, dtype, device))


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with ``input``'s shape, dtype and device."""
    return ones(input.shape, requires_grad=requires_grad, **_like(input, dtype, device))


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return empty(input.shape, requires_grad=requires_grad, **_like(input, dtype, device))


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, with ``input``'s shape, dtype and device."""
    return full(input.shape, fill_value, requires_grad=requires_grad, **_like(input, dtype, device))


def randn_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples with ``input``'s shape, dtype and device."""
    return randn(input.shape, requires_grad=requires_grad, **_like(input, dtype, device))


def rand_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) samples with ``input``'s shape, dtype and device."""
    return rand(input.shape, requires_grad=requires_grad, **_like(input, dtype, device))
