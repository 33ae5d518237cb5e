"""How a Module moves to a device or a dtype: every parameter, gradient and buffer, in place.

``Module`` (``module.py``) inherits these methods from ``ModuleConversionsMixin``. Each one converts
the tensors with ``Tensor.to`` and assigns the results back, so parameters stay the same ``Parameter``
objects (an optimizer made before the move still holds them).

Examples:
    >>> import minitorch_lsm as torch
    >>> lin = torch.nn.Linear(2, 1)
    >>> p = lin.weight
    >>> lin.double().weight is p, p.dtype
    (True, torch.float64)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from .. import _dtype
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

if TYPE_CHECKING:
    from .module import Module

__all__ = ["ModuleConversionsMixin"]


class ModuleConversionsMixin:
    """The dtype and device moves of ``Module``, which inherits them; see this module's docstring."""

    # ------------------------------------------------------------------ dtype and device moves
    def _apply(self, convert: Callable[[Tensor], Tensor]) -> "Module":
        """Convert every parameter, gradient and buffer in place (parameters keep their identity).

        All-or-nothing: everything is converted first and only then assigned, so a conversion that
        fails half-way (a GPU that runs out of memory, a device that is not there) changes nothing.
        """
        params: list[tuple[Tensor, Tensor, Tensor | None]] = []
        buffers: list[tuple[Module, str, Tensor]] = []
        seen: set[int] = set()  # a tied parameter is converted once
        with no_grad():
            for module in self.modules():
                for param in module._parameters.values():
                    if param is not None and id(param) not in seen:
                        seen.add(id(param))
                        params.append((param, convert(param), None if param.grad is None else convert(param.grad)))
                for name, buf in module._buffers.items():
                    if buf is not None:
                        buffers.append((module, name, convert(buf)))
        for param, data, grad in params:
            param.data = data
            if grad is not None:
                param.grad = grad
        for module, name, buf in buffers:
            module._buffers[name] = buf
        return self

    def to(self, *args: Any, **kwargs: Any) -> "Module":
        """Move to a device and/or cast floating parameters and buffers to a dtype, in place; returns self.

        Integer buffers keep their dtype; parameters stay the same Parameter objects.

        Examples:
            >>> import minitorch_lsm as torch
            >>> lin = torch.nn.Linear(2, 1)
            >>> lin.to(torch.float64) is lin, lin.weight.dtype
            (True, torch.float64)
        """
        from .._tensor_conversions import _parse_to_args

        dev, dt, _ = _parse_to_args(args, dict(kwargs))
        if dt is not None and not dt.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dt}")
        return self._apply(lambda t: t.to(device=dev or t.device, dtype=dt if (dt and t.dtype.is_floating_point) else t.dtype))

    def cpu(self) -> "Module":
        """Move every parameter and buffer to cpu memory, in place: ``to('cpu')``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.nn.Linear(2, 1).cpu().weight.device
            device(type='cpu')
        """
        return self.to("cpu")

    def cuda(self, device: Any = None) -> "Module":
        """Move every parameter and buffer to a GPU (the current one, or ``device``), in place.

        Examples:
            The example needs a GPU, so the test suite skips it:

            >>> import minitorch_lsm as torch
            >>> torch.nn.Linear(2, 1).cuda().weight.device  # doctest: +SKIP
            device(type='cuda', index=0)
        """
        return self.to("cuda" if device is None else device)

    def float(self) -> "Module":
        """Cast floating parameters and buffers to float32, in place: ``to(torch.float32)``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.nn.Linear(2, 1).double().float().weight.dtype
            torch.float32
        """
        return self.to(_dtype.float32)

    def double(self) -> "Module":
        """Cast floating parameters and buffers to float64, in place: ``to(torch.float64)``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.nn.Linear(2, 1).double().bias.dtype
            torch.float64
        """
        return self.to(_dtype.float64)

    def half(self) -> "Module":
        """Cast floating parameters and buffers to float16, in place: ``to(torch.float16)``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.nn.Linear(2, 1).half().weight.dtype
            torch.float16
        """
        return self.to(_dtype.float16)
