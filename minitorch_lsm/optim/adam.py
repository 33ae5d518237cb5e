"""Adam and AdamW (PyTorch's update rule, including bias correction).

With g the gradient at step t, m and v the moving averages::

    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g^2
    p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

Adam adds ``weight_decay * p`` to g; AdamW instead shrinks p by ``lr * weight_decay * p`` first.

Examples:
    >>> import minitorch_lsm as torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = torch.optim.Adam([w], lr=0.1)
    >>> (w * 2).sum().backward(); opt.step(); w
    Parameter containing:
    tensor([0.9000], requires_grad=True)
"""
from __future__ import annotations

from typing import Any, Iterable

from .. import _creation, _dtype
from ..ops._elementwise_util import _xp
from ..ops._scaled_add import _add_scaled, _scaled
from ..tensor import Tensor
from .optimizer import Optimizer, check_lr


def _lerp(start: Any, end: Any, weight: float) -> Any:
    """``start + weight * (end - start)`` as PyTorch's lerp kernel: the multiply-add rounded once, and for a
    weight of 0.5 or more the form ``end - (end - start) * (1 - weight)``, exact at weight 1. float16
    computes in float32 and rounds once."""
    compute = _dtype.opmath(start.dtype)
    w, start, end = compute.type(weight), start.astype(compute, copy=False), end.astype(compute, copy=False)
    if abs(w) < 0.5:
        return _add_scaled(start, end - start, w, compute)
    return _add_scaled(end, end - start, -(compute.type(1) - w), compute)


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, maximize=False)``.

    The first step is ``p = p - lr * g / (|g| + eps)``: about ``lr`` per coordinate, whatever the gradient's scale.

    Examples:
        >>> import minitorch_lsm as torch
        >>> w = torch.nn.Parameter(torch.tensor([1.0, 1.0])); w.grad = torch.tensor([100.0, -0.01])
        >>> torch.optim.Adam([w], lr=0.1).step(); w
        Parameter containing:
        tensor([0.9000, 1.1000], requires_grad=True)
    """

    numeric_hyperparameters = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, foreach: Any = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: Any = None, decoupled_weight_decay: bool = False) -> None:
        check_lr(lr)
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        p = param._data
        g = -grad if group["maximize"] else grad
        if not state:
            state["step"] = _creation.tensor(0.0, dtype=_dtype.float32)
            state["exp_avg"] = _creation.zeros_like(param)
            state["exp_avg_sq"] = _creation.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = _creation.zeros_like(param)
        state["step"]._data += 1
        step = float(state["step"].item())
        lr, (beta1, beta2), eps, decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        # Each line is one of PyTorch's kernels (mul_, add(alpha=), lerp_, mul_ then addcmul_, sqrt, div,
        # add_, addcdiv_) and rounds where it rounds. A kernel computes in ``c`` (float32 for float16, with
        # its scalars in float32) and rounds its result to the parameter's dtype (``rounded``).
        c, xp = _dtype.opmath(p.dtype), _xp(p)

        def wide(array: Any) -> Any:
            return array.astype(c, copy=False)

        def rounded(array: Any) -> Any:
            return array.astype(p.dtype, copy=False)

        if decay != 0:
            if group.get("decoupled_weight_decay", False):
                p[...] = _scaled(p, 1 - lr * decay)
            else:
                g = _add_scaled(g, p, decay, p.dtype)
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        m[...] = _lerp(m, g, 1 - beta1)
        v[...] = _scaled(v, beta2)
        g_c = wide(g)
        v[...] = rounded(wide(v) + c.type(1 - beta2) * g_c * g_c)
        if group["amsgrad"]:
            v = xp.maximum(state["max_exp_avg_sq"]._data, v, out=state["max_exp_avg_sq"]._data)
        step_size = lr / (1 - beta1 ** step)
        root = rounded(xp.sqrt(wide(v)))
        denominator = rounded(wide(rounded(wide(root) / c.type((1 - beta2 ** step) ** 0.5))) + c.type(eps))
        p[...] = rounded(wide(p) + c.type(-step_size) * wide(m) / wide(denominator))


class AdamW(Adam):
    """Adam with decoupled weight decay (default 1e-2): ``p = p * (1 - lr * weight_decay)`` before the step.

    Examples:
        >>> import minitorch_lsm as torch
        >>> w = torch.nn.Parameter(torch.tensor([2.0])); w.grad = torch.tensor([0.0])
        >>> torch.optim.AdamW([w], lr=0.1, weight_decay=0.5).step(); w  # 2 * (1 - 0.1 * 0.5), then a zero step
        Parameter containing:
        tensor([1.9000], requires_grad=True)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, **kwargs: Any) -> None:
        if "decoupled_weight_decay" in kwargs:
            raise TypeError("AdamW.__init__() got an unexpected keyword argument 'decoupled_weight_decay'")
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True, **kwargs)
