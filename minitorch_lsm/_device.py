"""Devices: which array module (``xp``) holds a tensor's data, and moving data between them.

``cpu`` tensors hold NumPy arrays, ``cuda:N`` tensors hold CuPy arrays on GPU ``N``. This is the only
module that imports CuPy or branches on NumPy versus CuPy; ops call :func:`xp_of` and write one body
for both.

Examples:
    >>> import minitorch_lsm as torch
    >>> torch.device("cpu") == torch.device("cpu")
    True
"""
from __future__ import annotations

import contextlib
import functools
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["device", "xp_of", "as_device", "array_device", "move", "call_quietly"]


class device:  # noqa: N801 - mirrors torch.device
    """Where a tensor lives: ``device('cpu')``, ``device('cuda')`` or ``device('cuda', 1)``/``'cuda:1'``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.device('cuda', 1), str(torch.device('cuda:1'))
        (device(type='cuda', index=1), 'cuda:1')
    """

    __slots__ = ("type", "index")

    def __init__(self, type: "str | device", index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index  # noqa: A001
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type!r})")
        name, _, suffix = type.partition(":")
        if suffix:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {type}")
            if not suffix.isdigit() or (suffix.startswith("0") and suffix != "0"):
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(suffix)
        if name not in ("cpu", "cuda"):
            raise RuntimeError(
                "Expected one of cpu, cuda device type at start of device string: " + type)
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type, self.index = name, index

    def __eq__(self, other: object) -> bool:
        if other is self:  # (the common case: tensors on cpu share the one CPU object)
            return True
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")


@functools.lru_cache(maxsize=None)
def cupy() -> ModuleType | None:
    """CuPy when it is installed and a GPU is usable, else None (imported on first use only)."""
    try:
        import cupy as cp  # type: ignore[import-not-found]
    except Exception:  # noqa: BLE001 - a broken CUDA install is as good as none
        return None
    try:
        if not cp.cuda.is_available():
            return None
    except Exception:  # noqa: BLE001
        return None
    return cp


def cuda_device_count() -> int:
    cp = cupy()
    return 0 if cp is None else int(cp.cuda.runtime.getDeviceCount())


def as_device(value: Any) -> device:
    """Turn ``'cuda'``, ``'cuda:0'``, an int (a GPU index) or a device into a concrete device.

    A bare ``cuda`` means the current GPU, index 0; asking for one that does not exist raises.

    Examples:
        >>> from minitorch_lsm import _device
        >>> _device.as_device(None), _device.as_device('cpu')
        (device(type='cpu'), device(type='cpu'))
    """
    if value is None:
        return CPU
    if isinstance(value, int) and not isinstance(value, bool):
        value = device("cuda", value)
    dev = device(value) if not isinstance(value, device) else value
    if dev.type == "cpu":
        return CPU
    if cupy() is None:
        raise RuntimeError(
            "CUDA is not available: install CuPy with `pip install minitorch_lsm[cuda]` "
            "(cupy-cuda12x) on a machine with an NVIDIA GPU and driver")
    index = 0 if dev.index is None else dev.index
    if index >= cuda_device_count():
        raise RuntimeError(f"CUDA error: invalid device ordinal (asked for cuda:{index}, "
                           f"{cuda_device_count()} device(s) present)")
    return device("cuda", index)


def xp_of(dev: device) -> ModuleType:
    """The array module for a device: ``numpy`` for cpu, ``cupy`` for cuda.

    Examples:
        >>> from minitorch_lsm import _device
        >>> _device.xp_of(_device.device('cpu')).__name__
        'numpy'
    """
    if dev.type == "cpu":
        return np
    cp = cupy()
    assert cp is not None, "a cuda tensor exists, so CuPy must be importable"
    return cp


def array_device(array: Any) -> device:
    """The device an array lives on.

    Examples:
        >>> import numpy as np
        >>> from minitorch_lsm import _device
        >>> _device.array_device(np.zeros(2))
        device(type='cpu')
    """
    if isinstance(array, (np.ndarray, np.generic)):
        return CPU
    return device("cuda", int(array.device.id))


try:  # NumPy 2 keeps its ufunc settings (error modes, buffer size, error callback) in one context variable
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj
except ImportError:  # NumPy 1.x
    _extobj_contextvar = None

# (the settings last seen, the same settings with every warning off), replaced as one tuple
_quiet_settings: tuple[Any, Any] = (None, None)


def _quiet_settings_now() -> Any:
    """NumPy's current ufunc settings with the four floating-point error modes set to ignore, made once for
    each settings object the caller has (buffer size and error callback carry over) and then reused."""
    global _quiet_settings
    current = _extobj_contextvar.get()
    seen, quiet = _quiet_settings
    if current is not seen and current is not quiet:  # (already quiet: a call inside a forward)
        quiet = _make_extobj(all="ignore")
        _quiet_settings = (current, quiet)
    return quiet


def call_quietly(function: Any, *args: Any) -> Any:
    """``function(*args)`` with NumPy's floating-point warnings off, as ``with np.errstate(all="ignore")``:
    inf and nan are results in PyTorch, not warnings (CuPy never warns).

    Every op runs its forward this way, so the cost matters: on NumPy 2 this sets the context variable
    behind ``errstate`` to a settings object made once (``_quiet_settings_now``), where ``errstate`` builds
    a new one each time; and where the settings are quiet already (an op inside a backward, which runs
    quietly as a whole) it sets nothing.

    Examples:
        >>> import numpy as np
        >>> from minitorch_lsm import _device
        >>> _device.call_quietly(np.divide, np.ones(1), 0.0)
        array([inf])
    """
    if _extobj_contextvar is None:
        with np.errstate(all="ignore"):
            return function(*args)
    current = _extobj_contextvar.get()
    seen, quiet = _quiet_settings
    if current is quiet:
        return function(*args)
    token = _extobj_contextvar.set(quiet if current is seen else _quiet_settings_now())
    try:
        return function(*args)
    finally:
        _extobj_contextvar.reset(token)


class quietly:
    """``with quietly():`` is ``with np.errstate(all="ignore"):`` at the cost of ``call_quietly``.

    Examples:
        >>> import numpy as np
        >>> from minitorch_lsm import _device
        >>> with _device.quietly():
        ...     print(np.ones(1) / 0)
        [inf]
    """

    __slots__ = ("token",)

    def __init__(self) -> None:
        self.token: Any = None

    def __enter__(self) -> None:
        if self.token is not None:  # (np.errstate refuses a second entry too: one object, one token)
            raise RuntimeError("quietly() cannot be entered twice: use a new quietly() for each with")
        if _extobj_contextvar is None:
            self.token = np.errstate(all="ignore")
            self.token.__enter__()
        else:
            self.token = _extobj_contextvar.set(_quiet_settings_now())

    def __exit__(self, *exc: Any) -> None:
        if _extobj_contextvar is None:
            self.token.__exit__(*exc)
        else:
            _extobj_contextvar.reset(self.token)
        self.token = None


_NOTHING_TO_DO = contextlib.nullcontext()  # (it holds no state: one serves every with)


def on_device(dev: device) -> contextlib.AbstractContextManager[Any]:
    """A context in which new CuPy arrays land on ``dev`` (a no-op for cpu)."""
    if dev.type == "cpu":
        return _NOTHING_TO_DO
    return xp_of(dev).cuda.Device(dev.index)


def move(array: Any, dev: device) -> Any:
    """Copy ``array`` to ``dev`` unless it is there already (then ``array`` itself comes back).

    Examples:
        >>> import numpy as np
        >>> from minitorch_lsm import _device
        >>> a = np.zeros(2)
        >>> _device.move(a, _device.CPU) is a
        True
    """
    found = array_device(array)
    if found is dev or found == dev:  # (``is`` first: the common case without a call of __eq__)
        return array
    if dev.type == "cpu":
        return array.get()
    with on_device(dev):
        return xp_of(dev).asarray(array)
