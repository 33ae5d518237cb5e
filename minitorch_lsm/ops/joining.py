"""Joining and splitting: cat, stack, narrow, split, chunk, unbind, repeat.

The pieces that narrow, split, chunk and unbind return are views (``Slice`` nodes from ``ops/indexing.py``),
so a piece's gradient is placed back in its region; the gradient of cat and of stack is g cut into pieces.

Examples:
    >>> import minitorch_lsm as torch
    >>> x = torch.arange(6.).reshape(2, 3)
    >>> torch.cat([x, x], dim=0).shape
    torch.Size([4, 3])
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import _device, _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from ._elementwise_util import _cast, _require_tensor, _xp
from ._util import as_int, normalize_dim
from .indexing import Slice


# ====================================================================== joining and splitting
def _is_legacy_empty(t: Tensor) -> bool:
    """A 1-D tensor of size 0: ``cat`` skips it whatever the other tensors' shapes (old PyTorch behaviour)."""
    return t.ndim == 1 and t.shape[0] == 0


class Cat(Function):
    """d cat(xs, dim) = the matching slice of g for each x (an empty x skipped by cat gets an empty gradient)"""

    def forward(self, *arrays: Any) -> Any:
        xp = _xp(arrays[0])
        kept = [_cast(a, self.dtype) for a, skip in zip(arrays, self.skipped) if not skip]
        return xp.concatenate(kept, axis=self.dim) if kept else xp.zeros((0,), dtype=self.dtype)

    def backward(self, grad: Tensor) -> tuple[Tensor, ...]:
        sizes = [meta[0][self.dim] for meta, skip in zip(self.input_meta, self.skipped) if not skip]
        pieces = iter(split(grad, sizes, self.dim) if sizes else ())
        empty = Tensor._from_array(_device.xp_of(grad.device).zeros((0,), dtype=grad.dtype.np), grad.device)
        return tuple(empty if skip else next(pieces) for skip in self.skipped)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension (also ``concat``); dtypes promote.

    As in PyTorch, 1-D empty tensors are skipped whatever their shape (but still take part in the dtype).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.cat([torch.tensor([1, 2]), torch.tensor([3.])])
        tensor([1., 2., 3.])
        >>> torch.cat([torch.ones(1, 2), torch.zeros(0)]).shape
        torch.Size([1, 2])
    """
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"cat(): argument 'tensors' (position 1) must be tuple of Tensors, not {type(tensors).__name__}")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for k, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {k}) cannot be concatenated")
    out = tensors[0].dtype
    for t in tensors[1:]:
        out = _dtype.promote_types(out, t.dtype)
    skipped = tuple(_is_legacy_empty(t) for t in tensors)
    parts = [(k, t) for k, t in enumerate(tensors) if not skipped[k]]
    if not parts:
        return Cat.apply(*tensors, dim=0, dtype=out.np, skipped=skipped)
    first = parts[0][1]
    d = normalize_dim(dim, first.ndim, "cat")
    for k, t in parts:
        if t.ndim != first.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {first.ndim} and {t.ndim}")
        for axis in range(first.ndim):
            if axis != d and t.shape[axis] != first.shape[axis]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{first.shape[axis]} but got size {t.shape[axis]} for tensor number {k} in the list.")
    return Cat.apply(*tensors, dim=d, dtype=out.np, skipped=skipped)


class Stack(Function):
    """d stack(xs, dim) = g unbound along dim: slice k of g for x number k"""

    node_name = "StackBackward0"

    def forward(self, *arrays: Any) -> Any:
        return _xp(arrays[0]).stack([_cast(a, self.dtype) for a in arrays], axis=self.dim)

    def backward(self, grad: Tensor) -> tuple[Tensor, ...]:
        return unbind(grad, self.dim)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension ``dim`` (which may be ``ndim``); dtypes promote.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.stack([torch.tensor([1, 2]), torch.tensor([3, 4])], dim=1)
        tensor([[1, 3],
                [2, 4]])
    """
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"stack(): argument 'tensors' (position 1) must be tuple of Tensors, not {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    d = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    for k, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at entry 0 "
                               f"and {list(t.shape)} at entry {k}")
    out = tensors[0].dtype
    for t in tensors[1:]:
        out = _dtype.promote_types(out, t.dtype)
    return Stack.apply(*tensors, dim=d, dtype=out.np)


def _piece(input: Tensor, dim: int, start: int, length: int, name: str) -> Tensor:
    """``input[..., start:start + length, ...]`` along ``dim``: a view, with grad_fn ``name``."""
    index = (slice(None),) * dim + (slice(start, start + length),)
    return Slice.apply(input, index=index, copies=False, node_name=name)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``input[..., start:start + length, ...]`` along ``dim`` (a view; ``start`` may be negative).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.narrow(torch.arange(5), 0, 1, 3)
        tensor([1, 2, 3])
    """
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, input.ndim, "narrow")
    start, length = as_int(start, "start", "narrow"), as_int(length, "length", "narrow")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    size = input.shape[d]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if start > size - length:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return _piece(input, d, start, length, "SliceBackward0")


def _split_sizes(sizes: list[int], tensor: Tensor, d: int, name: str) -> tuple[Tensor, ...]:
    starts = np.cumsum([0] + sizes[:-1])
    return tuple(_piece(tensor, d, int(s), size, name) for s, size in zip(starts, sizes))


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or pieces of the given sizes (views).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.split(torch.arange(5), 2)
        (tensor([0, 1]), tensor([2, 3]), tensor([4]))
        >>> torch.split(torch.arange(5), [1, 4])
        (tensor([0]), tensor([1, 2, 3, 4]))
    """
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = normalize_dim(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if not isinstance(split_size_or_sections, (list, tuple)):
        if isinstance(split_size_or_sections, (float, np.floating)):
            raise TypeError("split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of ints, not "
                            f"{type(split_size_or_sections).__name__}")
        step = as_int(split_size_or_sections, "split_size", "split")
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
        if step == 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        count = max(-(-n // step), 1) if step else 1  # an empty dim still gives one (empty) piece
        return _split_sizes([min(step, n - k * step) for k in range(count)], tensor, d, "SplitBackward0")
    sizes = [as_int(s, "split_sizes", "split_with_sizes") for s in split_size_or_sections]
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                           f"split_sizes={sizes}")
    if sum(sizes) != n:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                           f"dimension {dim}), but got split_sizes={sizes}")
    return _split_sizes(sizes, tensor, d, "SplitWithSizesBackward0")


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Up to ``chunks`` pieces of ``ceil(size / chunks)`` along ``dim`` (the last may be smaller); an empty
    dim gives ``chunks`` empty pieces.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.chunk(torch.arange(5), 2)
        (tensor([0, 1, 2]), tensor([3, 4]))
        >>> torch.chunk(torch.zeros(0), 2)
        (tensor([]), tensor([]))
    """
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    chunks = as_int(chunks, "chunks", "chunk")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = normalize_dim(dim, input.ndim, "chunk")
    n = input.shape[d]
    if n == 0:  # PyTorch splits with sizes here, so that the number of chunks is kept
        return _split_sizes([0] * chunks, input, d, "SplitWithSizesBackward0")
    return split(input, -(-n // chunks), d)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """``(input[0], input[1], ...)`` along ``dim``: the slices, with that dim removed (views).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.unbind(torch.tensor([[1, 2], [3, 4]]))
        (tensor([1, 2]), tensor([3, 4]))
    """
    _require_tensor(input, "unbind", "input", 1)
    d = normalize_dim(dim, input.ndim, "unbind")
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return tuple(Slice.apply(input, index=(slice(None),) * d + (i,), copies=False, node_name="UnbindBackward0")
                 for i in range(input.shape[d]))


class Repeat(Function):
    """d repeat(x, r) = g summed over the copies"""

    def forward(self, x: Any) -> Any:
        return _xp(x).tile(x, self.repeats)

    def backward(self, grad: Tensor) -> Tensor:
        shape = self.input_meta[0][0]
        padded = (1,) * (len(self.repeats) - len(shape)) + tuple(shape)
        split_shape: list[int] = []
        for r, s in zip(self.repeats, padded):
            split_shape += [r, s]
        summed = grad.reshape(split_shape).sum(dim=tuple(range(0, 2 * len(padded), 2)))
        return summed.reshape(shape)


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    """Tile ``input``: ``out.shape[i] = input.shape[i] * sizes[i]``, so ``repeat(2, 1)`` stacks two copies along dim 0.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([1, 2]).repeat(2, 2)
        tensor([[1, 2, 1, 2],
                [1, 2, 1, 2]])
    """
    from ._util import as_tuple_of_ints
    repeats = as_tuple_of_ints(sizes)
    if len(repeats) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    return Repeat.apply(input, repeats=repeats)
