"""``nn.Parameter``: a leaf tensor that a Module registers as one of its learnable weights.

Examples:
    >>> import minitorch_lsm as torch
    >>> torch.nn.Parameter(torch.ones(2))
    Parameter containing:
    tensor([1., 1.], requires_grad=True)
"""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that ``Module.__setattr__`` registers as a parameter; requires grad by default.

    It shares memory with the tensor it is made from.

    Examples:
        >>> import minitorch_lsm as torch
        >>> t = torch.zeros(2); p = torch.nn.Parameter(t); t[0] = 5.
        >>> p.is_leaf, p.requires_grad, p.tolist()
        (True, True, [5.0, 0.0])
    """

    __slots__ = ()

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> "Parameter":
        from .._creation import empty

        source = empty(0) if data is None else data
        if not isinstance(source, Tensor):
            raise TypeError(f"Parameter data must be a Tensor, not {type(source).__name__}")
        if requires_grad and not source.dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        param = cls._from_array(source._data, source.device)
        param._version_cell = source._version_cell  # it shares the memory, so it shares the version counter
        param.requires_grad = requires_grad
        return param

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict[int, Any]) -> "Parameter":
        return Parameter(self.detach().clone(), self.requires_grad)
