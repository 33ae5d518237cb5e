"""``torch.cuda``: whether a GPU is usable here (through CuPy) and how many there are.

Examples:
    >>> import minitorch_lsm as torch
    >>> isinstance(torch.cuda.is_available(), bool)
    True
"""
from __future__ import annotations

from . import _device

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all"]


def is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.cuda.is_available() == (torch.cuda.device_count() > 0)
        True
    """
    return _device.cupy() is not None and _device.cuda_device_count() > 0


def device_count() -> int:
    """The number of GPUs CuPy sees (0 without CuPy or a GPU).

    Examples:
        >>> import minitorch_lsm as torch
        >>> isinstance(torch.cuda.device_count(), int)
        True
    """
    return _device.cuda_device_count()


def manual_seed(seed: int) -> None:
    """Seed the generator of the current GPU (a no-op without one, as in PyTorch).

    Examples:
        >>> import minitorch_lsm as torch
        >>> print(torch.cuda.manual_seed(0))
        None
    """
    if is_available():
        from ._random import default_generator
        default_generator(_device.device("cuda", 0)).manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Seed the generators of every GPU (a no-op without one).

    Examples:
        >>> import minitorch_lsm as torch
        >>> print(torch.cuda.manual_seed_all(0))
        None
    """
    if is_available():
        from ._random import default_generator
        for i in range(device_count()):
            default_generator(_device.device("cuda", i)).manual_seed(seed)
