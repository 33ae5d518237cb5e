"""DLPack exchange: share memory with PyTorch, NumPy and CuPy without copying.

Examples:
    >>> import numpy as np
    >>> import minitorch_lsm as torch
    >>> a = np.arange(3.0)
    >>> t = torch.from_dlpack(a); t[0] = 7.0; a
    array([7., 1., 2.])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _device
from ..tensor import Tensor

K_DL_CPU, K_DL_CUDA = 1, 2


def from_dlpack(ext_tensor: Any) -> Tensor:
    """A tensor sharing memory with any object that implements ``__dlpack__`` (torch, NumPy, CuPy...).

    Dtype and shape are the exporter's; a tensor of this library is returned as it is.

    Examples:
        >>> import numpy as np
        >>> import minitorch_lsm as torch
        >>> torch.from_dlpack(np.arange(3, dtype=np.int32))
        tensor([0, 1, 2], dtype=torch.int32)
    """
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    if not hasattr(ext_tensor, "__dlpack_device__"):
        raise TypeError(f"from_dlpack expects an object with __dlpack__ and __dlpack_device__, got {type(ext_tensor).__name__}")
    kind, index = ext_tensor.__dlpack_device__()
    if kind == K_DL_CPU:
        return Tensor._from_array(np.from_dlpack(ext_tensor), _device.CPU)
    if kind == K_DL_CUDA:
        dev = _device.as_device(_device.device("cuda", int(index)))
        with _device.on_device(dev):
            return Tensor._from_array(_device.xp_of(dev).from_dlpack(ext_tensor), dev)
    raise RuntimeError(f"Unsupported DLPack device type {kind}: only CPU (1) and CUDA (2) are supported")
