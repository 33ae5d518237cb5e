"""Activation modules: ``LogSoftmax``, ``Softmax``, ``Softmin``, ``ReLU``, ``Tanh``, ``Sigmoid``.

Examples:
    >>> import minitorch_lsm as torch
    >>> torch.nn.LogSoftmax(dim=1)
    LogSoftmax(dim=1)
"""
from __future__ import annotations

from typing import Any

from ...tensor import Tensor
from .. import functional as F
from ..module import Module


class _SoftmaxLike(Module):
    """Holds ``dim`` exactly as given (``dim=None`` keeps PyTorch's deprecated implicit choice)."""

    __constants__ = ["dim"]

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(_SoftmaxLike):
    """``log(softmax(x))`` along ``dim``: ``x_i - log(sum_j exp(x_j))``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.LogSoftmax(dim=1)(torch.tensor([[1., 2., 3.]]))
        tensor([[-2.4076, -1.4076, -0.4076]])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim, _stacklevel=5)


class Softmax(_SoftmaxLike):
    """``exp(x_i) / sum_j exp(x_j)`` along ``dim``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.Softmax(dim=1)(torch.tensor([[1., 2., 3.]]))
        tensor([[0.0900, 0.2447, 0.6652]])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim, _stacklevel=5)


class Softmin(_SoftmaxLike):
    """``softmax(-x)`` along ``dim``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.Softmin(dim=0)(torch.tensor([1., 2.]))
        tensor([0.7311, 0.2689])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softmin(input, self.dim, _stacklevel=5)


class ReLU(Module):
    """``max(x, 0)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.ReLU()(torch.tensor([-1., 2.]))
        tensor([0., 2.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """``tanh(x)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.Tanh()(torch.tensor([0., 1.]))
        tensor([0.0000, 0.7616])
    """

    def forward(self, input: Tensor) -> Any:
        return input.tanh()  # type: ignore[attr-defined]


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.Sigmoid()(torch.tensor([0., 2.]))
        tensor([0.5000, 0.8808])
    """

    def forward(self, input: Tensor) -> Any:
        return input.sigmoid()  # type: ignore[attr-defined]
