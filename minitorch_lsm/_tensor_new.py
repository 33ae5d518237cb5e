"""``Tensor.new_zeros``, ``new_ones``, ``new_empty``, ``new_full`` and ``new_tensor``: the creation functions
with the source tensor's dtype and device as their defaults (PyTorch's ``Tensor.new_*``)."""
from __future__ import annotations

import warnings
from typing import Any

from ._creation import _like, _size_given, empty, full, ones, tensor, zeros
from .tensor import Tensor


def _new_size(name: str, size: tuple[Any, ...], keyword: dict[str, Any]) -> Any:
    """The size by position (``t.new_zeros(2, 3)``, ``t.new_zeros((2, 3))``) or as ``size=``."""
    size = _size_given(name, size, keyword)
    if size == ():
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    return size[0] if type(size) is tuple and len(size) == 1 else size


def new_zeros(self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
              **size_keyword: Any) -> Tensor:
    """Zeros of ``size`` with this tensor's dtype and device unless given (``t.new_zeros(2, 3)``).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([1, 2]).new_zeros(2, 3)
        tensor([[0, 0, 0],
                [0, 0, 0]])
    """
    return zeros(_new_size("new_zeros", size, size_keyword), requires_grad=requires_grad, **_like(self, dtype, device))


def new_ones(self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
             **size_keyword: Any) -> Tensor:
    """Ones of ``size`` with this tensor's dtype and device unless given.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([1., 2.], dtype=torch.float64).new_ones((2,))
        tensor([1., 1.], dtype=torch.float64)
    """
    return ones(_new_size("new_ones", size, size_keyword), requires_grad=requires_grad, **_like(self, dtype, device))


def new_empty(self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
              **size_keyword: Any) -> Tensor:
    """Unspecified values (here: zeros) of ``size`` with this tensor's dtype and device unless given.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.ones(3).new_empty(0).shape
        torch.Size([0])
    """
    return empty(_new_size("new_empty", size, size_keyword), requires_grad=requires_grad, **_like(self, dtype, device))


def new_full(self: Tensor, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere in a tensor of ``size`` (a sequence), this tensor's dtype and device unless given.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([1, 2]).new_full((2,), 3.5)  # stored in int64, as the source's dtype
        tensor([3, 3])
    """
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"new_full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    return full(size, fill_value, requires_grad=requires_grad, **_like(self, dtype, device))


def new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A copy of ``data`` in this tensor's dtype and device unless given (not the dtype ``data`` suggests).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([1, 2]).new_tensor([1.5, 2.7])
        tensor([1, 2])
    """
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        data = data.detach()
    return tensor(data, requires_grad=requires_grad, **_like(self, dtype, device))


for _method in (new_zeros, new_ones, new_empty, new_full, new_tensor):
    setattr(Tensor, _method.__name__, _method)
del _method
