"""Negative log-likelihood, one node on the tape, with PyTorch's shapes, checks and reductions.

For log-probabilities ``x`` of shape (N, C, d1, ...), class targets ``t`` of shape (N, d1, ...) and class
weights ``w`` (1 when not given), position i contributes::

    loss_i = -w[t_i] * x[i, t_i]        (0 where t_i == ignore_index)

``'none'`` returns every loss_i, ``'sum'`` their sum, and ``'mean'`` divides the sum by the total
weight of the targets that are not ignored, ``sum_i w[t_i]`` (so an all-ignored batch gives nan).
The gradient is ``-w[t_i] * g / D`` at the target positions and 0 elsewhere (D: the divisor above, 1
for 'sum'). That gradient is linear in g, so its own backward is nll_loss again.

>>> import minitorch_lsm as torch
>>> logp = torch.tensor([[-2.4076, -1.4076, -0.4076], [-1.0986, -1.0986, -1.0986]])
>>> torch.nn.functional.nll_loss(logp, torch.tensor([2, 0]))
tensor(0.7531)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _device, _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from .elementwise import _xp

REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


class NllLoss(Function):
    """d nll_loss(x)/dx = -w[t] * g / D at the target positions, 0 elsewhere"""

    def forward(self, x: Any) -> Any:
        xp = _xp(x)
        picked = xp.take_along_axis(x, self.safe_target[:, None], axis=1)[:, 0]
        acc = np.float32 if x.dtype == np.float16 else x.dtype
        losses = xp.where(self.kept, -self.target_weight.astype(acc) * picked.astype(acc), 0).astype(acc)
        if self.reduction == "none":
            return losses.reshape(self.out_shape).astype(x.dtype)
        total = losses.sum()
        if self.reduction == "mean":
            total = total / self.target_weight.sum(dtype=acc)
        return xp.asarray(total, dtype=acc).astype(x.dtype)

    def backward(self, grad: Tensor) -> Tensor:
        return NllLossBackwardData.apply(grad, **_fields(self))


class NllLossBackwardData(Function):
    """The gradient of nll_loss, a linear function of g; its own gradient is nll_loss of gg"""

    node_name = "NllLossBackwardBackward0"

    def forward(self, g: Any) -> Any:
        xp = _xp(g)
        out = xp.zeros(self.rows_shape, dtype=g.dtype)
        scale = g.reshape(-1) if self.reduction == "none" else g.reshape(())
        if self.reduction == "mean":
            scale = scale / self.target_weight.sum(dtype=g.dtype)
        rows = xp.nonzero(self.kept)[0]
        values = -self.target_weight.astype(g.dtype) * scale
        out[rows, self.safe_target[rows]] = values[rows] if values.ndim else values
        return out

    def backward(self, gg: Tensor) -> Tensor:
        return NllLoss.apply(gg, **_fields(self))


def _fields(node: Function) -> dict[str, Any]:
    """What the nll_loss nodes share: the prepared targets and weights and the reduction."""
    return {k: getattr(node, k) for k in ("safe_target", "kept", "target_weight", "reduction", "out_shape", "rows_shape")}


def _to_rows(x: Tensor) -> Tensor:
    """(C) -> (1, C) and (N, C, d1..dk) -> (N*d1*..*dk, C): one row per position, classes last.

    The reshapes are recorded on the tape, so the gradient finds its way back to x's layout."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 2:
        return x
    return x.permute(0, *range(2, x.ndim), 1).reshape(-1, x.shape[1])


# ---------------------------------------------------------------------- PyTorch's checks, in its order
def check_shapes(input: Tensor, target: Tensor) -> None:
    """The shape rules of ``nll_loss_nd``; raises exactly what PyTorch raises."""
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    if input.ndim == 1:
        if target.ndim == 1 and target.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}")
        if target.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        return
    target_batch = target.shape[0] if target.ndim else 0
    if input.shape[0] != target_batch:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({target_batch}).")
    if input.ndim == 2:
        if target.ndim != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    elif input.ndim == 4:
        if target.ndim != 3:
            raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got targets of dimension: {target.ndim}")
        if tuple(target.shape) != (input.shape[0],) + tuple(input.shape[2:]):
            raise RuntimeError(f"size mismatch (got input: {_dims(input.shape)} , target: {_dims(target.shape)}")
    else:
        expected = (input.shape[0],) + tuple(input.shape[2:])
        if tuple(target.shape) != expected:
            raise RuntimeError(f"Expected target size {_dims(expected)}, got {_dims(target.shape)}")


def _dims(shape: Any) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def check_weight(weight: Tensor | None, input: Tensor, classes: int) -> None:
    if weight is None:
        return
    if weight.requires_grad:
        raise RuntimeError("The function 'nll_loss_forward' is not differentiable with respect to argument 'weight'. "
                           "This input cannot have requires_grad True.")
    if weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {_dtype.torch_name(input.dtype)} but found {_dtype.torch_name(weight.dtype)}")
    check_weight_shape(weight, classes)


def check_weight_shape(weight: Tensor | None, classes: int, prefix: str = "") -> None:
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != classes):
        raise RuntimeError(f"{prefix}weight tensor should be defined either for all {classes} classes or no classes but got "
                           f"weight tensor of shape: {_dims(weight.shape)}")


def nll_loss_nd(input: Tensor, target: Tensor, weight: Tensor | None, reduction: str, ignore_index: int) -> Tensor:
    """nll_loss on any supported shape, after the argument checks (``torch._C._nn.nll_loss_nd``)."""
    check_shapes(input, target)
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    if weight is not None and weight.requires_grad:
        check_weight(weight, input, classes)
    if target.dtype not in (_dtype.int64, _dtype.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_dtype.torch_name(target.dtype)}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"nll_loss_out_frame" not implemented for \'{_dtype.torch_name(input.dtype)}\'')
    check_weight(weight, input, classes)
    for other in (target, weight):
        if other is not None and other.device != input.device:
            raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                               f"{input.device} and {other.device}!")

    flat_target = _device.move(target._data, input.device).reshape(-1).astype(np.int64)
    xp = _xp(flat_target)
    kept = flat_target != ignore_index
    bad = kept & ((flat_target < 0) | (flat_target >= classes))
    if bool(bad.any()):
        raise IndexError(f"Target {int(flat_target[bad][0])} is out of bounds.")
    safe_target = xp.where(kept, flat_target, 0)
    class_weight = weight._data if weight is not None else xp.ones(max(classes, 1), dtype=input.dtype.np)
    target_weight = xp.where(kept, class_weight[safe_target] if classes else 0, 0).astype(input.dtype.np)

    rows = _to_rows(input)
    out_shape = () if input.ndim == 1 else (input.shape[0],) + tuple(input.shape[2:])
    return NllLoss.apply(rows, safe_target=safe_target, kept=kept, target_weight=target_weight, reduction=reduction,
                         out_shape=out_shape, rows_shape=tuple(rows.shape))
