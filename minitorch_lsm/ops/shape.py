"""Shape ops: views that rearrange the same elements. Their gradients rearrange them back.

>>> import minitorch_lsm as torch
>>> torch.arange(6).reshape(2, 3).T.shape
torch.Size([3, 2])
>>> torch.zeros(3, 1).expand(3, 4).shape
torch.Size([3, 4])
"""
from __future__ import annotations

import operator
import warnings
from typing import Any

import numpy as np

from .. import _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import as_tuple_of_ints, normalize_dim, normalize_dims


def _infer_shape(shape: tuple[int, ...], numel: int) -> tuple[int, ...]:
    """Replace one -1 in ``shape`` by what makes the element count ``numel``; check the count."""
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
    return shape


class View(Function):
    """d x.reshape(s) = dx.reshape(x.shape)"""

    is_view = True

    def forward(self, x: Any) -> Any:
        self.source_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, grad: Tensor) -> Tensor:
        return grad.reshape(self.source_shape)


def reshape(input: Tensor, *shape: Any) -> Tensor:
    """The same elements in a new shape (one size may be -1: inferred)."""
    return View.apply(input, shape=_infer_shape(as_tuple_of_ints(shape), input.numel()))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    if input.ndim == 0:
        return reshape(input, 1)
    start, end = normalize_dim(start_dim, input.ndim), normalize_dim(end_dim, input.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.shape
    merged = 1
    for s in shape[start:end + 1]:
        merged *= s
    return reshape(input, shape[:start] + (merged,) + shape[end + 1:])


class Permute(Function):
    """d x.permute(p) = dx.permute(inverse of p)"""

    is_view = True

    def forward(self, x: Any) -> Any:
        return x.transpose(self.dims)

    def backward(self, grad: Tensor) -> Tensor:
        return grad.permute(tuple(int(i) for i in np.argsort(self.dims)))


def permute(input: Tensor, *dims: Any) -> Tensor:
    """Reorder the dimensions: output dim i is input dim ``dims[i]``."""
    order = tuple(normalize_dim(d, input.ndim) for d in as_tuple_of_ints(dims))
    if len(order) != input.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {input.ndim} "
                           f"is not equal to len(dims) = {len(order)}")
    if len(set(order)) != len(order):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, dims=order)


class Transpose(Permute):
    """d x.transpose(a, b) = dx.transpose(a, b)"""


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    order = list(range(input.ndim))
    a, b = normalize_dim(dim0, input.ndim), normalize_dim(dim1, input.ndim)
    if input.ndim == 0:
        return input
    order[a], order[b] = order[b], order[a]
    return Transpose.apply(input, dims=tuple(order))


def t(input: Tensor) -> Tensor:
    """Transpose a tensor of at most 2 dims."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return Transpose.apply(input, dims=tuple(reversed(range(input.ndim))), node_name="TBackward0")


def T(input: Tensor) -> Tensor:  # noqa: N802 - mirrors Tensor.T
    """All dimensions reversed (PyTorch warns for more than 2 dims)."""
    if input.ndim > 2:
        warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
                      "deprecated and it will throw an error in a future release.", UserWarning, stacklevel=3)
    return permute(input, tuple(reversed(range(input.ndim))))


def mT(input: Tensor) -> Tensor:  # noqa: N802
    """The last two dimensions swapped (a batch of matrices transposed)."""
    if input.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return transpose(input, -2, -1)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim`` (which may be ``ndim``)."""
    d = normalize_dim(dim, input.ndim + 1)
    return View.apply(input, shape=input.shape[:d] + (1,) + input.shape[d:], node_name="UnsqueezeBackward0")


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    """Remove dimensions of size 1 (all of them, or those in ``dim`` that have size 1)."""
    dims = normalize_dims(dim, input.ndim) if dim is not None else tuple(range(input.ndim))
    shape = tuple(s for i, s in enumerate(input.shape) if not (i in dims and s == 1))
    overload = 0 if dim is None else (2 if isinstance(dim, (tuple, list)) else 1)  # PyTorch names each overload
    return View.apply(input, shape=shape, node_name=f"SqueezeBackward{overload}")


class Expand(Function):
    """d x.expand(s) = dx summed back over the broadcast dims (the engine does the summing)"""

    is_view = True

    def forward(self, x: Any) -> Any:
        from .elementwise import _xp
        return _xp(x).broadcast_to(x, self.shape)

    def backward(self, grad: Tensor) -> Tensor:
        return grad


def expand(input: Tensor, *sizes: Any) -> Tensor:
    """Broadcast size-1 dims (and new leading dims) to ``sizes`` without copying; -1 keeps a size."""
    sizes = as_tuple_of_ints(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(f"expand(torch.{_dtype.torch_name(input.dtype)}Tensor{{[{', '.join(map(str, input.shape))}]}}, "
                           f"size=[{', '.join(map(str, sizes))}]): the number of sizes provided ({len(sizes)}) must be "
                           f"greater or equal to the number of dimensions in the tensor ({input.ndim})")
    lead = len(sizes) - input.ndim
    target = []
    for i, s in enumerate(sizes):
        own = input.shape[i - lead] if i >= lead else None
        if s == -1:
            if own is None:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {i}")
            s = own
        elif own is not None and own != 1 and own != s:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({own}) at "
                               f"non-singleton dimension {i}.  Target sizes: [{', '.join(map(str, sizes))}].  "
                               f"Tensor sizes: [{', '.join(map(str, input.shape))}]")
        target.append(s)
    if tuple(target) == input.shape:
        return input
    return Expand.apply(input, shape=tuple(target))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.expand(other.shape)``."""
    return expand(input, other.shape)


def broadcast_shapes(*shapes: Any) -> tuple[int, ...]:
    """The shape that tensors of ``shapes`` broadcast to."""
    try:
        return tuple(np.broadcast_shapes(*[tuple(map(operator.index, s)) for s in shapes]))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape.") from None


def contiguous(input: Tensor) -> Tensor:
    """The tensor itself: arrays here are made contiguous where an op needs it."""
    return input
