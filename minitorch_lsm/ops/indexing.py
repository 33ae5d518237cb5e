"""Indexing, gathering and joining: ``x[i]``, gather/scatter, index_select, masked_fill, cat, split.

The gradient of *reading* positions is *adding* into those positions, and the gradient of adding is
reading again, so each pair of ops below is the other's backward (which makes double backward free):
``Index`` / ``IndexAdd`` and ``Gather`` / ``ScatterAdd``.

>>> import minitorch_lsm as torch
>>> x = torch.arange(6.).reshape(2, 3)
>>> x[:, 1], x[x > 3]
(tensor([1., 4.]), tensor([4., 5.]))
>>> torch.cat([x, x], dim=0).shape
torch.Size([4, 3])
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .. import _device, _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import as_int, as_operand, normalize_dim
from .elementwise import _cast, _xp


# ====================================================================== x[index]
def _is_advanced(index: tuple[Any, ...]) -> bool:
    return any(not isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in index)


def _array_index(item: Any, dev: _device.device) -> Any:
    """One entry of an index tuple as NumPy/CuPy understands it."""
    if isinstance(item, Tensor):
        if item.dtype.is_floating_point:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return _device.move(item._data, dev)
    if isinstance(item, (list, tuple)):
        array = np.asarray([i.item() if isinstance(i, Tensor) else i for i in item], dtype=None if item else np.int64)
        if array.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return _device.move(array, dev)
    if isinstance(item, (bool, int, slice, type(None), type(Ellipsis), np.integer, np.ndarray)):
        return item
    raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
                     f"(got {type(item).__name__})")


def normalize_index(index: Any, dev: _device.device) -> tuple[Any, ...]:
    items = index if isinstance(index, tuple) else (index,)
    return tuple(_array_index(i, dev) for i in items)


def _read(x: Any, index: tuple[Any, ...]) -> Any:
    try:
        return x[index]
    except IndexError as error:
        message = str(error).replace("axis", "dimension")
        if message.startswith("too many indices"):
            message = f"too many indices for tensor of dimension {x.ndim}"
        raise IndexError(message) from None


class Index(Function):
    """d x[i] = g added back at the positions i (repeated positions add up)"""

    node_name = "IndexBackward0"

    def forward(self, x: Any) -> Any:
        out = _read(x, self.index)
        return out.copy() if self.copies else out

    def backward(self, grad: Tensor) -> Tensor:
        return IndexAdd.apply(grad, index=self.index, shape=self.input_meta[0][0])


class Slice(Index):
    """d x[slices] = g placed back in the sliced region (a view: no copy)"""

    node_name = "SliceBackward0"
    is_view = True


class IndexAdd(Function):
    """zeros(shape) with g added at positions i; d/dg = dg[i]"""

    node_name = "IndexPutBackward0"

    def forward(self, g: Any) -> Any:
        xp = _xp(g)
        out = xp.zeros(self.shape, dtype=g.dtype)
        if _is_advanced(self.index):
            xp.add.at(out, self.index, g)
        else:
            out[self.index] = g
        return out

    def backward(self, grad: Tensor) -> Tensor:
        cls = Index if _is_advanced(self.index) else Slice
        return cls.apply(grad, index=self.index, copies=False)


def getitem(input: Tensor, index: Any) -> Tensor:
    """``input[index]`` with ints, slices, None, ``...``, bool masks and integer tensors or lists."""
    idx = normalize_index(index, input.device)
    if _is_advanced(idx):
        return Index.apply(input, index=idx, copies=False)
    return Slice.apply(input, index=idx, copies=False)


# ====================================================================== gather / scatter along a dim
def _grid(index: Any, dim: int) -> tuple[Any, ...]:
    """Full coordinates for ``index`` along ``dim``: position j of index means (j0, .., index[j], .., jn)."""
    xp = _xp(index)
    coords = list(xp.indices(index.shape, sparse=True)) if index.ndim else []
    if not coords:
        return (index,)
    coords[dim] = index
    return tuple(coords)


def _check_index(input: Tensor, dim: int, index: Tensor, function: str) -> None:
    if not isinstance(index, Tensor) or index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"{function}(): Expected dtype int32/int64 for index")
    if index.ndim != input.ndim and not (index.ndim <= 1 and input.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    size = input.shape[dim] if input.ndim else 1
    if index.numel() and (bool((index._data >= size).any()) or bool((index._data < -size).any())):
        bad = int(index._data[(index._data >= size) | (index._data < -size)].reshape(-1)[0])
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


class Gather(Function):
    """d gather(x, dim, i) = g added into zeros at the gathered positions"""

    def forward(self, x: Any, index: Any) -> Any:
        return x[_grid(index, self.dim)]

    def backward(self, grad: Tensor) -> tuple[Tensor, None]:
        index = self.index
        return ScatterAdd.apply(grad, index, dim=self.dim, shape=self.input_meta[0][0]), None


class ScatterAdd(Function):
    """zeros(shape) with src added at the positions index names along dim; d/dsrc = gather(dg)"""

    def forward(self, src: Any, index: Any) -> Any:
        xp = _xp(src)
        out = xp.zeros(self.shape, dtype=src.dtype)
        grid = _grid(index, self.dim)
        xp.add.at(out, grid, src[tuple(slice(0, n) for n in index.shape)])
        self.index = Tensor._from_array(index, _device.array_device(index))
        return out

    def backward(self, grad: Tensor) -> tuple[Tensor, None]:
        return gather(grad, self.dim, self.index), None


def scatter_add_into_zeros(src: Tensor, dim: int, index: Tensor, shape: tuple[int, ...]) -> Tensor:
    return ScatterAdd.apply(src, index, dim=dim, shape=tuple(shape))


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[j] = input[j with its dim coordinate replaced by index[j]]``."""
    d = normalize_dim(dim, input.ndim, "gather")
    _check_index(input, d, index, "gather")
    return Gather.apply(input, index, dim=d, index=index)


class Scatter(Function):
    """d scatter(x, dim, i, src): x's gradient is g with the overwritten positions zeroed; src's is g gathered"""

    def forward(self, x: Any, index: Any, src: Any) -> Any:
        out = x.copy()
        out[_grid(index, self.dim)] = _cast(src, x.dtype) if src.ndim == 0 else src[tuple(slice(0, n) for n in index.shape)]
        return out

    def backward(self, grad: Tensor) -> tuple[Tensor, None, Tensor | None]:
        grad_x = scatter(grad, self.dim, self.index, 0.0)
        if self.src_shape == ():  # a number was scattered: it has no gradient
            return grad_x, None, None
        grad_src = gather(grad, self.dim, self.index)
        if self.src_shape != tuple(self.index.shape):
            grad_src = IndexAdd.apply(grad_src, index=tuple(slice(0, n) for n in self.index.shape), shape=self.src_shape)
        return grad_x, None, grad_src


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor or a number) written at the positions ``index`` names."""
    d = normalize_dim(dim, input.ndim, "scatter")
    _check_index(input, d, index, "scatter")
    source = as_operand(src if src is not None else value, input)
    if source._wrapped:
        source = Tensor._from_array(source._data.astype(input.dtype.np), input.device)
    elif source.dtype is not input.dtype:
        raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype")
    return Scatter.apply(input, index, source, dim=d, index=index, src_shape=tuple(source.shape))


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """``input`` plus ``src`` added at the positions ``index`` names along ``dim``."""
    d = normalize_dim(dim, input.ndim, "scatter_add")
    _check_index(input, d, index, "scatter_add")
    if src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    return input + scatter_add_into_zeros(src, d, index, input.shape)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries of ``input`` at positions ``index`` (1-D, integer) along ``dim``."""
    d = normalize_dim(dim, input.ndim, "index_select")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    size = input.shape[d] if input.ndim else 1
    if index.numel() and bool((index._data < 0).any()):
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={int(index._data.min())} axis_dim={size}")
    if index.numel() and bool((index._data >= size).any()):
        raise IndexError("index out of range in self")
    return getitem(input, (slice(None),) * d + (index.reshape(-1),))


class MaskedFill(Function):
    """d masked_fill(x, m, v) = g with the filled positions zeroed"""

    def forward(self, x: Any, mask: Any) -> Any:
        return _xp(x).where(mask, _cast(_xp(x).asarray(self.value), x.dtype), x)

    def backward(self, grad: Tensor) -> tuple[Tensor, None]:
        return masked_fill(grad, self.mask, 0.0), None


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """A copy of ``input`` with ``value`` wherever the bool ``mask`` (broadcast) is True."""
    if mask.dtype is not _dtype.bool:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {_dtype.c_name(mask.dtype)}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value.ndim} dimension(s).")
        value = value.item()
    _dtype.check_fits(value, input.dtype)
    return MaskedFill.apply(input, mask, value=value, mask=mask)


# ====================================================================== joining and splitting
class Cat(Function):
    """d cat(xs, dim) = the matching slice of g for each x"""

    def forward(self, *arrays: Any) -> Any:
        return _xp(arrays[0]).concatenate([_cast(a, self.dtype) for a in arrays], axis=self.dim)

    def backward(self, grad: Tensor) -> tuple[Tensor, ...]:
        return tuple(split(grad, [meta[0][self.dim] for meta in self.input_meta], self.dim))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension; dtypes promote."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"cat(): argument 'tensors' (position 1) must be tuple of Tensors, not {type(tensors).__name__}")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    parts = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or list(tensors[:1])
    first = parts[0]
    if first.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = normalize_dim(dim, first.ndim, "cat")
    for k, t in enumerate(parts):
        if t.ndim != first.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {first.ndim} and {t.ndim}")
        for axis in range(first.ndim):
            if axis != d and t.shape[axis] != first.shape[axis]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{first.shape[axis]} but got size {t.shape[axis]} for tensor number {k} in the list.")
    out = first.dtype
    for t in parts[1:]:
        out = _dtype.promote_types(out, t.dtype)
    return Cat.apply(*parts, dim=d, dtype=out.np)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension."""
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for k, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at entry 0 "
                               f"and {list(t.shape)} at entry {k}")
    d = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([t.unsqueeze(d) for t in tensors], d)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The ``length`` entries from ``start`` along ``dim`` (a view)."""
    d = normalize_dim(dim, input.ndim, "narrow")
    start = as_int(start, "start", "narrow")
    if start < 0:
        start += input.shape[d]
    if not 0 <= start <= input.shape[d] - length:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({input.shape[d]}).")
    return getitem(input, (slice(None),) * d + (slice(start, start + length),))


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or pieces of the given sizes."""
    d = normalize_dim(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [min(step, n - s) for s in range(0, n, step)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {d}), but got split_sizes={sizes}")
    starts = np.cumsum([0] + sizes[:-1])
    return tuple(narrow(tensor, d, int(s), size) for s, size in zip(starts, sizes))


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Up to ``chunks`` nearly equal pieces along ``dim``."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    n = input.shape[normalize_dim(dim, input.ndim, "chunk")]
    return split(input, max(1, math.ceil(n / chunks)), dim)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim``, with that dim removed."""
    d = normalize_dim(dim, input.ndim, "unbind")
    return tuple(getitem(input, (slice(None),) * d + (i,)) for i in range(input.shape[d]))


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
    """Tile ``input``: ``repeat(2, 1)`` stacks two copies along dim 0."""
    from ._util import as_tuple_of_ints
    repeats = as_tuple_of_ints(sizes)
    if len(repeats) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    return Repeat.apply(input, repeats=repeats)
