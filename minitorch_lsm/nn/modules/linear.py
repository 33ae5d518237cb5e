"""Layers with no activation: ``Linear``, ``Identity``, ``Flatten``, ``Dropout``.

Examples:
    >>> import minitorch_lsm as torch
    >>> torch.nn.Linear(4, 2)(torch.ones(3, 4)).shape
    torch.Size([3, 2])
"""
from __future__ import annotations

import math
from typing import Any

from ... import _creation
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter


class Linear(Module):
    """``y = x @ W.T + b``, with W of shape (out_features, in_features).

    PyTorch's initialization: W and b uniform in ``[-1/sqrt(in_features), 1/sqrt(in_features)]``
    (W through ``kaiming_uniform_(a=sqrt(5))``), drawn from the seeded default generator.

    Examples:
        >>> import minitorch_lsm as torch
        >>> layer = torch.nn.Linear(3, 2)
        >>> layer, layer.weight.shape
        (Linear(in_features=3, out_features=2, bias=True), torch.Size([2, 3]))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(_creation.empty(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(_creation.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """``y = x``: returns its input unchanged (a placeholder layer).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.Identity()(torch.tensor([1., 2.]))
        tensor([1., 2.])
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Flatten(Module):
    """Flattens dims ``start_dim..end_dim`` (by default all but the batch dim).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.Flatten()(torch.ones(2, 3, 4)).shape
        torch.Size([2, 12])
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Any:
        return input.flatten(self.start_dim, self.end_dim)  # type: ignore[attr-defined]

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """In training, zeroes each element with probability ``p`` and scales the rest by ``1/(1-p)``; identity in eval.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.Dropout(p=0.2).eval()(torch.ones(3))
        tensor([1., 1., 1.])
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0.0 or p > 1.0:  # as PyTorch's check: nan passes here and fails in forward
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
