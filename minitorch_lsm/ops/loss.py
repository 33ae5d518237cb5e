"""Negative log-likelihood, one node on the tape, with PyTorch's shapes, checks and reductions.

For log-probabilities ``x`` of shape (N, C, d1, ...), class targets ``t`` of shape (N, d1, ...) and class
weights ``w`` (1 when not given), position i contributes::

    loss_i = -w[t_i] * x[i, t_i]        (0 where t_i == ignore_index)

``'none'`` returns every loss_i, ``'sum'`` their sum, and ``'mean'`` divides the sum by the total
weight of the targets that are not ignored, ``sum_i w[t_i]`` (so an all-ignored batch gives nan).
The gradient is ``-w[t_i] * g / D`` at the target positions and 0 elsewhere (D: the divisor above, 1
for 'sum'). That gradient is linear in g, so its own backward is nll_loss again.

The mean squared error is one node too (``MseLoss``): ``(a - b)**2`` elementwise, reduced, with gradient
``2 (a - b) g`` (divided by the element count for 'mean').

>>> import minitorch_lsm as torch
>>> logp = torch.tensor([[-2.4076, -1.4076, -0.4076], [-1.0986, -1.0986, -1.0986]])
>>> torch.nn.functional.nll_loss(logp, torch.tensor([2, 0]))
tensor(0.7531)
"""
from __future__ import annotations

import copy
import math
from typing import Any, ClassVar

import numpy as np

from .. import _dtype
from ..autograd.function import INFERENCE_SAVED_MESSAGE, Function, _raise_modified
from ..tensor import Tensor
from . import _c
from ._elementwise_util import _cast, _xp
from .elementwise import _operands

REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def _rows(x: Any) -> Any:
    """(C) -> (1, C), (N, C) as is, (N, C, H, W) -> (N*H*W, C): one row of class scores per position."""
    if x.ndim == 2:
        return x
    if x.ndim == 4:
        x = x.transpose(0, 2, 3, 1)
    return x.reshape(math.prod(x.shape[:-1]), x.shape[-1])  # not (-1, C): C may be 0


def _unrows(rows: Any, shape: tuple[int, ...]) -> Any:
    """The inverse of ``_rows``, back to an input of ``shape`` ((N, C) stays the array itself, not a view)."""
    if rows.shape == shape:
        return rows
    if len(shape) == 4:
        n, c, h, w = shape
        return rows.reshape(n, h, w, c).transpose(0, 3, 1, 2)
    return rows.reshape(shape)


class NllArguments:
    """What the nodes of one nll_loss share: its node, its gradient's node, and the nodes of a double backward.

    The flat int64 ``target``, the flat class ``weight`` (or None), ``ignore_index``, ``reduction``, the
    output's ``out_shape``, the error PyTorch's backward raises for these inputs (``backward_error``, or
    None), whether an out-of-bounds target is printed as a character (``as_character``), the target and
    weight tensors with their versions at forward (``sources``), and ``total_weight`` (D), which the loss's
    forward works out. One object that each node refers to, rather than fields copied from node to node.

    >>> import minitorch_lsm as torch
    >>> loss = torch.nn.functional.nll_loss(torch.zeros(2, 3, requires_grad=True), torch.tensor([0, 2]))
    >>> loss.grad_fn.nll.reduction, float(loss.grad_fn.nll.total_weight)
    ('mean', 2.0)
    """

    __slots__ = ("target", "weight", "ignore_index", "reduction", "out_shape", "backward_error", "as_character",
                 "sources", "total_weight")

    def __init__(self, target: Any, weight: Any, ignore_index: int, reduction: str, out_shape: tuple[int, ...],
                 backward_error: str | None, as_character: bool, sources: tuple[tuple[Tensor, int], ...]) -> None:
        self.target, self.weight, self.ignore_index, self.reduction = target, weight, ignore_index, reduction
        self.out_shape, self.backward_error, self.as_character = out_shape, backward_error, as_character
        self.sources = sources
        self.total_weight: Any = None


class NllLossBackwardData(Function):
    """The gradient of nll_loss, a linear function of g: its own gradient wrt g is nll_loss of gg, and
    wrt the input x (an input here only so that the graph records it, as PyTorch's does) it is zero"""

    node_name = "NllLossBackwardBackward0"
    loss: ClassVar[type[Function]]  # the node of its gradient (set below)

    nll: NllArguments

    def forward(self, g: Any, x: Any) -> Any:
        if self.nll.backward_error:  # PyTorch 2.13's backward kernels reject some inputs its forward accepts
            raise RuntimeError(self.nll.backward_error)
        n, classes = _rows(x).shape
        scale = g.reshape(-1)  # one per row ('none'), else the one value
        if self.nll.reduction == "none":  # (the reshape of an expanded gradient is not contiguous)
            scale = _xp(g).ascontiguousarray(scale)
        out = self._gradient_in_c(scale, n, classes) if _c.enabled and isinstance(g, np.ndarray) else None
        return _unrows(self._gradient_in_numpy(scale, n, classes) if out is None else out, x.shape)

    def _gradient_in_numpy(self, scale: Any, n: int, classes: int) -> Any:
        """The (rows, classes) gradient: ``-w[t] * scale / D`` at each kept row's target, 0 elsewhere."""
        xp, dtype, nll = _xp(scale), scale.dtype, self.nll
        if nll.reduction == "mean":
            scale = scale / xp.asarray(nll.total_weight).astype(dtype)
        out = xp.zeros((n, classes), dtype=dtype)
        if classes:  # one value per row, at its target (a +0 in column 0 of an ignored row)
            safe_target, kept, target_weight = _targets(nll, classes, dtype)
            values = -target_weight.astype(dtype, copy=False) * scale
            out[xp.arange(n), safe_target] = xp.where(kept, values, 0)
        return out

    def _gradient_in_c(self, scale: Any, n: int, classes: int) -> Any:
        """The C twin of ``_gradient_in_numpy``, which writes every element of a new array in one pass; None
        where the kernel does not take these arrays."""
        out, nll = np.empty((n, classes), scale.dtype), self.nll
        divisor = float(nll.total_weight) if nll.reduction == "mean" else 1.0
        bad = _c.kernels.nll_loss_backward(out, nll.target, nll.weight, nll.ignore_index, classes, scale, divisor)
        if bad is not None and bad >= 0:
            _raise_out_of_bounds(int(nll.target[bad]), nll.as_character)
        return None if bad is None else out

    def backward(self, gg: Tensor) -> tuple[Tensor, Tensor]:
        from .._creation import zeros

        _check_unchanged(self.nll)
        shape, dtype = self.input_meta[1]
        # (a copy for the new loss node, whose forward works out its own total_weight)
        return self.loss.apply(gg, nll=copy.copy(self.nll)), zeros(shape, dtype=dtype, device=gg.device)


class NllLoss2dBackwardData(NllLossBackwardData):
    node_name = "NllLoss2DBackwardBackward0"


class NllLoss(Function):
    """d nll_loss(x)/dx = -w[t] * g / D at the target positions, 0 elsewhere

    ``x`` is the (C) or (N, C) input, or for ``NllLoss2d`` (PyTorch's ``nll_loss2d``) the (N, C, H, W)
    input; forward reads it as one row of class scores per position (``_rows``). What the node needs
    besides, shared with its gradient's node, is in ``nll`` (``NllArguments``); forward sets its
    ``total_weight`` (D)."""

    gradient: ClassVar[type[Function]] = NllLossBackwardData
    keeps_inputs = True
    nll: NllArguments

    def forward(self, x: Any) -> Any:
        x, nll = _rows(x), self.nll
        per_row = nll.reduction == "none" and nll.out_shape != ()  # (torch sums a 1-D input's one loss, even then)
        if _c.enabled and isinstance(x, np.ndarray) and x.dtype == np.float32:
            loss = self._loss_in_c(x, per_row)
            if loss is None and not x.flags.c_contiguous:  # as torch's kernel, which reads a contiguous copy
                loss = self._loss_in_c(np.ascontiguousarray(x), per_row)
            if loss is not None:
                return loss
        xp = _xp(x)
        total, losses = self._sum_in_numpy(x, xp, per_row)
        if per_row:
            return losses.reshape(nll.out_shape).astype(x.dtype, copy=False)
        if nll.reduction == "mean":  # (torch's empty batch gives its own +nan, where 0 / 0 gives -nan on x86)
            total = total / nll.total_weight if x.shape[0] else np.nan
        if isinstance(total, np.generic) and total.dtype == x.dtype:
            return total  # (apply makes a 0-d array of it)
        return xp.asarray(total, dtype=np.float32 if x.dtype == np.float16 else x.dtype).astype(x.dtype)

    def _sum_in_numpy(self, x: Any, xp: Any, per_row: bool) -> tuple[Any, Any]:
        """The losses' sum, or each row's loss (``per_row``); sets ``total_weight``."""
        nll = self.nll
        safe_target, kept, target_weight = _targets(nll, x.shape[1], x.dtype)
        nll.total_weight = _total_weight(target_weight, kept, nll.weight is not None)
        acc = np.float32 if x.dtype == np.float16 else x.dtype
        if x.shape[1]:
            picked = x[xp.arange(x.shape[0]), safe_target]
        else:  # no classes: every target is ignored (or _targets raised)
            picked = xp.zeros(x.shape[0], dtype=x.dtype)
        losses = xp.where(kept, -target_weight.astype(acc, copy=False) * picked.astype(acc, copy=False), 0)
        losses = losses.astype(acc, copy=False)
        if per_row:
            return None, losses
        if x.dtype == np.float16:  # PyTorch adds and divides in float16 here, in its own order
            return _cascade_sum(losses.astype(np.float16)[kept], xp.flatnonzero(kept), x.shape[0]), None
        # NumPy's pairwise sum: within a few ulp of torch's cascade (the C kernel's). Torch's sum starts from +0
        # and subtracts, so it is never -0: adding +0 turns a -0 into +0 and changes nothing else
        return losses.sum() + np.dtype(acc).type(0), None

    def _loss_in_c(self, rows: Any, per_row: bool) -> Any:
        """The C twin of ``_sum_in_numpy`` and the reduction after it, which also sums as PyTorch's kernel
        does (``_cascade_sum``): the float32 loss as forward returns it (the rows' losses, their sum or their
        mean); None where the kernel does not take these arrays (it takes aligned, C-contiguous float32 and
        int64). Sets ``total_weight``, a Python float holding a float32 value."""
        losses, nll = np.empty(rows.shape[0], np.float32) if per_row else None, self.nll
        found = _c.kernels.nll_loss(losses, rows, nll.target, nll.weight, nll.ignore_index, rows.shape[1])
        if found is None:
            return None
        total, nll.total_weight, mean, bad = found
        if bad >= 0:
            _raise_out_of_bounds(int(nll.target[bad]), nll.as_character)
        if per_row:
            return losses.reshape(nll.out_shape)
        if nll.reduction == "mean":  # (the kernel divides in float32, as torch's; an empty batch gives +nan)
            total = mean if rows.shape[0] else np.nan
        return np.array(total, np.float32)

    def _record(self, inputs: tuple[Tensor, ...], result: Tensor) -> None:
        """Record the node, as every op; torch saves the target and weight too, which inference tensors refuse."""
        for tensor, _ in self.nll.sources:
            if tensor._inference:
                raise RuntimeError(INFERENCE_SAVED_MESSAGE)
        super()._record(inputs, result)

    def backward(self, grad: Tensor) -> Tensor:
        _check_unchanged(self.nll)
        return self.gradient.apply(grad, self.inputs[0], nll=self.nll)


class NllLoss2d(NllLoss):
    node_name = "NllLoss2DBackward0"
    gradient = NllLoss2dBackwardData


NllLossBackwardData.loss, NllLoss2dBackwardData.loss = NllLoss, NllLoss2d


def _check_unchanged(nll: NllArguments) -> None:
    """PyTorch saves the target and weight tensors for backward: one changed in place since forward (its
    version moved on) raises its error there, where our arrays would silently hold the new values."""
    for tensor, version in nll.sources:
        if tensor._version_cell[0] != version:
            _raise_modified(tensor._version_cell[0], version, tensor.shape, tensor.dtype, tensor.device, None)


def _targets(nll: NllArguments, classes: int, dtype: Any) -> tuple[Any, Any, Any]:
    """For the NumPy path: the targets with ignored ones replaced by 0 (``safe_target``), which are kept
    (``kept``), and each one's class weight in ``dtype`` (0 where ignored). Raises PyTorch's IndexError for
    a kept target outside [0, classes). Worked out from the loss's target and weight each time, as the C
    kernels read them (after a write through ``.data``, which moves no version, both see the new values)."""
    target, xp = nll.target, _xp(nll.target)
    kept = target != nll.ignore_index
    safe_target = xp.where(kept, target, 0)
    # one reduction finds both kinds of bad target (viewed as unsigned, a negative one is huge); with no
    # classes the ignored ones' 0 is out of bounds too, so look closer
    if safe_target.size and int(safe_target.view(np.uint64).max()) >= classes:
        bad = kept & ((target < 0) | (target >= classes))
        if bool(bad.any()):
            _raise_out_of_bounds(int(target[bad][0]), nll.as_character)
    if nll.weight is None:  # every class weighs 1
        return safe_target, kept, kept.astype(dtype)
    return safe_target, kept, xp.where(kept, nll.weight[safe_target] if classes else 0, 0).astype(dtype)


def _cascade_sum(terms: Any, rows: Any, count: int) -> Any:
    """``sum(terms)`` in float16 as PyTorch's nll_loss kernels add them: in eight partial sums, every step
    rounded to float16.

    The term of row ``rows[k]`` (of ``count`` rows, ignored ones included) goes into partial sum 0. After
    a row whose index is a multiple of ``step**(j + 1)`` (``step = 2**max(4, ceil(log2(count)) // 8)``),
    partial sum j is added into j + 1 and restarts from 0 (so row 0 goes straight to the last one); the
    result adds the eight in order. Only float16 needs this: its rounding makes the order visible, where
    float32 and float64 sums (NumPy's pairwise one) differ from it by a few ulp."""
    power = max(4, math.ceil(math.log2(count)) // 8) if count > 1 else 4
    mask, half = (1 << power) - 1, np.float16
    partial = [half(0)] * 8
    for term, row in zip(terms.tolist(), rows.tolist()):
        partial[0] = half(partial[0] + half(term))
        for j in range(7):
            if row & (mask << (j * power)):
                break
            partial[j + 1], partial[j] = half(partial[j + 1] + partial[j]), half(0)
    total = half(0)
    for value in partial:
        total = half(total + value)
    return total


# ---------------------------------------------------------------------- PyTorch's checks, in its order
def _dims(shape: Any) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def check_weight_shape(weight: Tensor | None, classes: int, prefix: str = "") -> None:
    """The weight check of ``nll_loss_forward`` (and, with a prefix, of probability-target cross_entropy)."""
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != classes):
        raise RuntimeError(f"{prefix}weight tensor should be defined either for all {classes} classes or no classes but got "
                           f"weight tensor of shape: {_dims(weight.shape)}")


def _check_weight_differentiable(weight: Tensor | None, kernel: str) -> None:
    if weight is not None and weight.requires_grad:
        raise RuntimeError(f"The function '{kernel}' is not differentiable with respect to argument 'weight'. "
                           "This input cannot have requires_grad True.")


def _check_target_dtype(target: Tensor) -> None:
    if target.dtype not in (_dtype.int64, _dtype.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_dtype.torch_name(target.dtype)}")


def _check_input_and_weight_dtypes(input: Tensor, weight: Tensor | None, kernel: str) -> None:
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.torch_name(input.dtype)}\'')
    if weight is not None and weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {_dtype.torch_name(input.dtype)} but found {_dtype.torch_name(weight.dtype)}")


def nll_loss_nd(input: Tensor, target: Tensor, weight: Tensor | None, reduction: str, ignore_index: int) -> Tensor:
    """nll_loss on any supported shape, after the argument checks (``torch._C._nn.nll_loss_nd``).

    As in PyTorch, 1-D and 2-D input go to ``nll_loss``, 4-D input to ``nll_loss2d``, and 3-D or >= 5-D
    input is viewed as 4-D ``(N, C, 1, -1)`` for ``nll_loss2d``; each raises its own kernel's errors."""
    shape, target_shape = input._data.shape, target._data.shape  # (the arrays' shapes: no torch.Size made)
    if len(shape) < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {len(shape)})")
    target_batch = target_shape[0] if target_shape else 0
    if len(shape) != 1 and shape[0] != target_batch:
        raise ValueError(f"Expected input batch_size ({shape[0]}) to match target batch_size ({target_batch}).")
    if len(shape) <= 2:
        return _nll_loss(input, target, weight, reduction, ignore_index)
    if len(shape) == 4:
        return _nll_loss2d(input, target, weight, reduction, ignore_index)
    out_shape = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape[1:]) != tuple(input.shape[2:]):
        raise RuntimeError(f"Expected target size {_dims(out_shape)}, got {_dims(target.shape)}")
    n, c = input.shape[0], input.shape[1]
    input = input.reshape(n, c, 1, -1) if input.numel() else input.reshape(n, c, 0, 0)
    target = target.reshape(n, 1, -1) if target.numel() else target.reshape(n, 0, 0)
    out = _nll_loss2d(input, target, weight, reduction, ignore_index)
    return out.reshape(out_shape) if reduction == "none" else out


def _nll_loss(input: Tensor, target: Tensor, weight: Tensor | None, reduction: str, ignore_index: int) -> Tensor:
    """(C) or (N, C) input: the checks of ``nll_loss_forward``, in its order."""
    _check_weight_differentiable(weight, "nll_loss_forward")
    shape, target_shape = input._data.shape, target._data.shape
    if len(target_shape) > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    _check_target_dtype(target)
    if len(shape) == 2 and not target_shape:  # (torch's size check reads the batch size of a 0-d target)
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if len(shape) == 1 and len(target_shape) == 1 and target_shape[0] != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target_shape[0]}")
    classes = shape[-1]
    check_weight_shape(weight, classes)
    _check_input_and_weight_dtypes(input, weight, "nll_loss_out_frame")
    # (C) input with a (1) target: 2.13's forward accepts it, its backward's size check does not
    error = f"size mismatch (got input: [{classes}], target: [1])" if len(shape) == 1 and len(target_shape) == 1 \
        and classes != 1 else None
    return _apply(NllLoss, input, target, weight, reduction, ignore_index,
                  out_shape=() if len(shape) == 1 else (shape[0],), backward_error=error)


def _nll_loss2d(input: Tensor, target: Tensor, weight: Tensor | None, reduction: str, ignore_index: int) -> Tensor:
    """(N, C, H, W) input: the checks of ``nll_loss2d_forward``, in its order.

    PyTorch 2.13's CPU kernel reads the target as int64, so a uint8 target, accepted by the dtype check,
    fails there ("expected scalar type Long but found Byte"): in forward unless nothing is read (an
    empty target with 'mean' or 'sum'), and always in backward. We do the same."""
    _check_weight_differentiable(weight, "nll_loss2d_forward")
    if target.ndim != 3:
        raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got targets of dimension: {target.ndim}")
    _check_target_dtype(target)
    classes = input.shape[1]
    if weight is not None and weight.numel() != classes:
        raise RuntimeError("weight tensor should be defined either for all or no classes")
    if tuple(target.shape) != (input.shape[0],) + tuple(input.shape[2:]):
        raise RuntimeError(f"size mismatch (got input: {_dims(input.shape)} , target: {_dims(target.shape)}")
    _check_input_and_weight_dtypes(input, weight, "nll_loss2d_forward_out_frame")
    error = "expected scalar type Long but found Byte" if target.dtype is _dtype.uint8 else None
    if error and (reduction == "none" or target.numel() > 0):
        raise RuntimeError(error)
    return _apply(NllLoss2d, input, target, weight, reduction, ignore_index, out_shape=tuple(target.shape),
                  backward_error=error)


def _apply(node: type[Function], input: Tensor, target: Tensor, weight: Tensor | None, reduction: str,
           ignore_index: int, out_shape: tuple[int, ...], backward_error: str | None = None) -> Tensor:
    """Check the devices, flatten the targets (as int64) and the weights, and apply the node."""
    for other in (target, weight):
        if other is not None and other.device is not input.device and other.device != input.device:
            raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                               f"{input.device} and {other.device}!")
    flat_target = target._data  # (on the input's device, checked above)
    if target.dtype is not _dtype.int64 or flat_target.ndim != 1:
        flat_target = flat_target.reshape(-1).astype(np.int64, copy=False)
    flat_target = _xp(flat_target).ascontiguousarray(flat_target)  # (a strided target's reshape is a view)
    # PyTorch's (N, C) 'none' kernel prints a uint8 target as a character in its IndexError
    as_character = target.dtype is _dtype.uint8 and reduction == "none" and len(out_shape) == 1
    sources = ((target, target._version_cell[0]),) + (() if weight is None else ((weight, weight._version_cell[0]),))
    flat_weight = None if weight is None else _xp(weight._data).ascontiguousarray(weight._data.reshape(-1))
    return node.apply(input, nll=NllArguments(flat_target, flat_weight, ignore_index, reduction, out_shape,
                                              backward_error, as_character, sources))


def _total_weight(target_weight: Any, kept: Any, weighted: bool) -> Any:
    """The divisor of 'mean', PyTorch's ``total_weight``: the targets' weights summed (float16 as its kernel
    sums them, without weights the count of kept targets converted to float16), in the compute dtype."""
    if target_weight.dtype != np.float16:
        return target_weight.sum()
    if not weighted:
        return np.float32(np.float16(int(kept.sum())))
    return np.float32(_cascade_sum(target_weight[kept], _xp(kept).flatnonzero(kept), kept.shape[0]))


def _raise_out_of_bounds(value: int, as_character: bool) -> None:
    """Raise PyTorch's IndexError for the target ``value`` outside [0, classes)."""
    if as_character:
        # a byte >= 128 then fails to decode, which raises UnicodeDecodeError instead, as in PyTorch
        raise IndexError((b"Target " + bytes([value]) + b" is out of bounds.").decode())
    raise IndexError(f"Target {value} is out of bounds.")


# ---------------------------------------------------------------------- mse_loss
class MseLoss(Function):
    """loss = reduce((a - b)**2); d loss = norm * (a - b) * g (da), its negation (db), norm = 2 / N for
    'mean' (N elements) and 2 otherwise, as PyTorch's ``mse_loss_backward`` computes it (norm in the dtype)"""

    keeps_inputs = True

    def forward(self, a: Any, b: Any) -> Any:
        xp, compute, dtype = _xp(a), _dtype.opmath(self.dtype), self.dtype
        a, b = _operands(self, a, b)  # (in the result dtype, then in its compute dtype, as every elementwise op)
        # float16 as PyTorch: the difference rounded to float16, squared in float32 and rounded, summed in float32
        diff = _cast(_cast(a - b, dtype), compute)
        squares = _cast(diff * diff, dtype)
        self.count = squares.size
        if self.reduction == "none":
            return squares
        total = squares.sum(dtype=compute)
        if self.reduction == "mean":
            total = total / squares.size if squares.size else xp.asarray(np.nan, dtype=compute)
        return xp.asarray(total).astype(self.dtype)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        norm = float(np.dtype(self.dtype).type(2 / self.count if self.reduction == "mean" and self.count else 2))
        grad_a = (a - b) * norm * grad
        need_a, need_b = self.needs_input_grad
        return (grad_a if need_a else None), (-grad_a if need_b else None)


def mse_loss(input: Tensor, target: Tensor, reduction: str) -> Tensor:
    """The unweighted mean squared error node, for operands that broadcast; PyTorch's kernel has no integer form."""
    out = _dtype.result_type(input, target)
    if not out.is_floating_point:
        raise NotImplementedError(f'"mse_cpu" not implemented for \'{_dtype.torch_name(out)}\'')
    return MseLoss.apply(input, target, dtype=out.np, reduction=reduction)
