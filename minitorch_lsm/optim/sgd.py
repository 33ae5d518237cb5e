"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (PyTorch's rule).

With g the gradient, p the parameter, b the momentum buffer::

    g = g + weight_decay * p
    b = g                                  on the first step
    b = momentum * b + (1 - dampening) * g  afterwards
    g = g + momentum * b  (nesterov)   or   g = b
    p = p - lr * g

Examples:
    >>> import minitorch_lsm as torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> (w * 2).sum().backward(); opt.step(); w
    Parameter containing:
    tensor([0.8000], requires_grad=True)
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..ops._scaled_add import _add_scaled, _add_scaled_into, _scaled
from ..tensor import Tensor
from .optimizer import Optimizer, check_lr


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False)``.

    Without momentum one step is ``p = p - lr * (g + weight_decay * p)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> w = torch.nn.Parameter(torch.tensor([2.0])); w.grad = torch.tensor([1.0])
        >>> torch.optim.SGD([w], lr=0.5, weight_decay=0.5).step(); w  # 2 - 0.5 * (1 + 0.5 * 2)
        Parameter containing:
        tensor([1.], requires_grad=True)
    """

    numeric_hyperparameters = ("lr", "momentum", "dampening", "weight_decay")

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: Any = None, differentiable: bool = False, fused: Any = None) -> None:
        check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        # each ``a + alpha * b`` rounds once, as PyTorch's add(alpha=) kernel, which fuses the multiply-add
        p, dtype = param._data, param._data.dtype
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = _add_scaled(g, p, group["weight_decay"], dtype)
        momentum = group["momentum"]
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                first = np.array(g) if isinstance(g, np.generic) else g.copy()  # (a 0-d sum may come back a scalar)
                buffer = state["momentum_buffer"] = Tensor._from_array(first, param.device)
            else:
                buffer._data[...] = _add_scaled(_scaled(buffer._data, momentum), g, 1 - group["dampening"], dtype)
            g = _add_scaled(g, buffer._data, momentum, dtype) if group["nesterov"] else buffer._data
        _add_scaled_into(p, g, -group["lr"])
