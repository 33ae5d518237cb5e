"""Random numbers: ``randn``, ``rand``, ``randint``, ``randperm``, ``*_like``, and the seeded generators.

Random numbers come from one NumPy generator per device, seeded by ``manual_seed`` (the same seed gives
the same numbers on every run; they are not the numbers PyTorch's own generator draws). Dtypes, devices
and sizes are handled as in the other factories (``_creation.py``).

Examples:
    >>> import minitorch_lsm as torch
    >>> _ = torch.manual_seed(0); a = torch.randn(3)
    >>> _ = torch.manual_seed(0); bool((a == torch.randn(3)).all())
    True
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _device, _dtype
from ._creation import _finish, _like, _shape_of
from .ops._util import _require_tensor
from .tensor import Tensor

DEFAULT_SEED = 67280421310721  # PyTorch's default CPU seed, so unseeded runs repeat too


class Generator:
    """A source of random numbers for one device: ``Generator().manual_seed(0)``.

    Pass one as ``generator=`` to a random factory to draw from a stream of your own.

    Examples:
        >>> import minitorch_lsm as torch
        >>> g = torch.Generator().manual_seed(3)
        >>> g.initial_seed(), torch.rand(2, generator=g).shape
        (3, torch.Size([2]))
    """

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
    """The generator factories use when none is given (one per device, created on first use).

    Examples:
        >>> from minitorch_lsm._random import default_generator
        >>> default_generator().device
        device(type='cpu')
    """
    key = str(device)
    if key not in _default_generators:
        _default_generators[key] = Generator(device)
    return _default_generators[key]


def manual_seed(seed: int) -> Generator:
    """Seed every device's default generator, so what follows draws the same numbers on every run; returns the cpu one.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.manual_seed(0).initial_seed()
        0
    """
    for gen in _default_generators.values():
        gen.manual_seed(seed)
    return default_generator().manual_seed(seed)


def initial_seed() -> int:
    """The seed the default cpu generator started from.

    Examples:
        >>> import minitorch_lsm as torch
        >>> _ = torch.manual_seed(42)
        >>> torch.initial_seed()
        42
    """
    return default_generator().initial_seed()


def seed() -> int:
    """Seed the default generators from the operating system's entropy; returns the seed.

    Examples:
        >>> import minitorch_lsm as torch
        >>> s = torch.seed()
        >>> torch.initial_seed() == s
        True
    """
    value = int(np.random.SeedSequence().entropy % 2**63)
    manual_seed(value)
    return value


def _random(size: Any, draw: Any, dtype: Any, device: Any, requires_grad: bool, generator: Generator | None,
            integer: bool = False, kernel: str = "normal_kernel_cpu") -> Tensor:
    shape = _shape_of(size)
    dt = _dtype.as_dtype(dtype) if dtype is not None else (_dtype.int64 if integer else _dtype.get_default_dtype())
    if not integer and not dt.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.torch_name(dt)}\'')
    dev = _device.as_device(device)
    gen = generator or default_generator(dev)
    return _finish(draw(gen.numpy, shape).astype(dt.np), dt, dev, requires_grad)


def randn(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          generator: Generator | None = None) -> Tensor:
    """Samples ``x ~ N(0, 1)``, the standard normal distribution.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.randn(2, 3).shape
        torch.Size([2, 3])
    """
    return _random(size, lambda g, s: g.standard_normal(s), dtype, device, requires_grad, generator)


def rand(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         generator: Generator | None = None) -> Tensor:
    """Samples ``x ~ U[0, 1)``, the uniform distribution on [0, 1).

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.rand(100)
        >>> bool(((0 <= x) & (x < 1)).all())
        True
    """
    return _random(size, lambda g, s: g.random(s), dtype, device, requires_grad, generator,
                   kernel="check_uniform_bounds")


def randint(low: int, high: int | None = None, size: Any = None, *, dtype: Any = None, device: Any = None,
            generator: Generator | None = None, requires_grad: bool = False) -> Tensor:
    """Random integers ``x ~ U{low, ..., high - 1}`` (``randint(high, size)`` means low = 0); int64 by default.

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.randint(3, 10, (100,))
        >>> x.dtype, bool(((3 <= x) & (x < 10)).all())
        (torch.int64, True)
    """
    if size is None:
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    return _random(size, lambda g, s: g.integers(low, high, s), dtype, device, requires_grad, generator, integer=True)


def randperm(n: int, *, dtype: Any = None, device: Any = None, generator: Generator | None = None) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.randperm(5).sum()
        tensor(10)
    """
    return _random((n,), lambda g, s: g.permutation(n), dtype, device, False, generator, integer=True)


def randn_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples with ``input``'s shape, dtype and device.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.randn_like(torch.zeros(2, dtype=torch.float64)).dtype
        torch.float64
    """
    _require_tensor(input, "randn_like", "input", 1)
    return randn(input.shape, requires_grad=requires_grad, **_like(input, dtype, device))


def rand_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) samples with ``input``'s shape, dtype and device.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.rand_like(torch.zeros(3)).shape
        torch.Size([3])
    """
    _require_tensor(input, "rand_like", "input", 1)
    return rand(input.shape, requires_grad=requires_grad, **_like(input, dtype, device))
