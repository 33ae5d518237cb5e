"""Gathering and scattering along a dim: gather, scatter, scatter_add, index_select; and masked_fill.

Reading positions and adding into them are each other's gradient: ``Gather`` / ``ScatterAdd`` here, as
``Index`` / ``IndexAdd`` are for ``x[i]`` in ``ops/indexing.py`` (which makes double backward free).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _device, _dtype
from ..autograd.function import Function, _check_broadcast
from ..tensor import Tensor
from ._elementwise_util import _cast, _xp
from ._util import as_operand, normalize_dim, select
from .indexing import Index, IndexAdd


# ====================================================================== gather / scatter along a dim
def _add_at(out: Any, index: Any, values: Any) -> None:
    """``out[index] += values`` with repeated positions adding up; float16 adds up in float32 and is
    rounded once at the end, as PyTorch's scatter_add kernel does (its index_put kernel does not)."""
    xp = _xp(out)
    if out.dtype != np.float16:
        xp.add.at(out, index, values)
        return
    wide = out.astype(np.float32)
    xp.add.at(wide, index, values.astype(np.float32))
    out[...] = wide


def _grid(index: Any, dim: int) -> tuple[Any, ...]:
    """Full coordinates for ``index`` along ``dim``: position j of index means (j0, .., index[j], .., jn)."""
    xp = _xp(index)
    coords = list(xp.indices(index.shape, sparse=True)) if index.ndim else []
    if not coords:
        return (index,)
    coords[dim] = index
    return tuple(coords)


def _as_vector(array: Any) -> Any:
    """A 0-d array as a 1-element vector (a view), so that gather and scatter index it like a 1-D one."""
    return array.reshape(1) if array.ndim == 0 else array


def _covered(src: Any, index: Any) -> Any:
    """The part of ``src`` the index covers, ``src[:i0, :i1, ...]`` (src may be larger; 0-d counts as 1-D)."""
    return (_as_vector(src) if src.ndim < index.ndim else src)[tuple(slice(0, n) for n in index.shape)]


def _check_index(input: Tensor, dim: int, index: Tensor, function: str, src: Tensor | None = None) -> None:
    """PyTorch's checks for gather/scatter, in its order: the index's dtype and ndim, src's dtype, the
    index's size, then the bounds (0 <= index < size along ``dim``: negative indices are errors)."""
    if not isinstance(index, Tensor) or index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"{function}(): Expected dtype int32/int64 for index")
    if index.ndim != input.ndim and not (index.ndim <= 1 and input.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as "
                           f"{'input' if function == 'gather' else 'self'} tensor")
    if src is not None and not src._wrapped and src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if index.numel():
        _check_index_size(input, dim, index, function, None if src is None or src._wrapped else src)
    size = input.shape[dim] if input.ndim else 1
    if index.numel() and (bool((index._data >= size).any()) or bool((index._data < 0).any())):
        bad = int(index._data[(index._data >= size) | (index._data < 0)].reshape(-1)[0])
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


def _check_index_size(input: Tensor, dim: int, index: Tensor, function: str, src: Tensor | None) -> None:
    """The index may be no larger than the input along every dim but ``dim`` (and than a tensor src along all)."""
    def size(t: Tensor, d: int) -> int:
        return t.shape[d] if t.ndim else 1

    dims = range(max(index.ndim, 1))
    too_big = next((d for d in dims if d != dim and size(index, d) > size(input, d)), None)
    if function == "gather":
        if too_big is not None:
            raise RuntimeError(f"Size does not match at dimension {too_big} expected index {list(index.shape)} to be "
                               f"no larger than self {list(input.shape)} apart from dimension {dim}")
        return
    beyond_src = src is not None and any(size(index, d) > size(src, d) for d in dims)
    if too_big is not None or beyond_src:
        against_src = f" and to be no larger size than src {list(src.shape)}" if src is not None else ""
        raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self {list(input.shape)} apart "
                           f"from dimension {dim}{against_src}")


class Gather(Function):
    """d gather(x, dim, i) = g added into zeros at the gathered positions"""

    def forward(self, x: Any, index: Any) -> Any:
        return _as_vector(x)[_grid(index, self.dim)]

    def backward(self, grad: Tensor) -> tuple[Tensor, None]:
        index = self.index
        return ScatterAdd.apply(grad, index, dim=self.dim, shape=self.input_meta[0][0]), None


class ScatterAdd(Function):
    """zeros(shape) with src added at the positions index names along dim; d/dsrc = gather(dg)"""

    def forward(self, src: Any, index: Any) -> Any:
        xp = _xp(src)
        out = xp.zeros(self.shape, dtype=src.dtype)
        _add_at(_as_vector(out), _grid(index, self.dim), _covered(src, index))
        self.index = Tensor._from_array(index, _device.array_device(index))
        return out

    def backward(self, grad: Tensor) -> tuple[Tensor, None]:
        return gather(grad, self.dim, self.index), None


def scatter_add_into_zeros(src: Tensor, dim: int, index: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``zeros(shape)`` with ``out[index[j]] += src[j]`` along ``dim``: the backward of gather and of max along a dim.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.ops.gather_scatter import scatter_add_into_zeros
        >>> scatter_add_into_zeros(torch.tensor([1., 2., 3.]), 0, torch.tensor([0, 2, 0]), (3,))
        tensor([4., 0., 2.])
    """
    return ScatterAdd.apply(src, index, dim=dim, shape=tuple(shape))


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = input[i][index[i][j]]`` for ``dim=1`` (the ``dim`` coordinate replaced by ``index``).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.gather(torch.tensor([[1, 2], [3, 4]]), 1, torch.tensor([[0, 0], [1, 0]]))
        tensor([[1, 1],
                [4, 3]])
    """
    d = normalize_dim(dim, input.ndim, "gather")
    _check_index(input, d, index, "gather")
    return Gather.apply(input, index, dim=d, index=index)


class Scatter(Function):
    """d scatter(x, dim, i, src): x's gradient is g with the overwritten positions zeroed; src's is g gathered"""

    def forward(self, x: Any, index: Any, src: Any) -> Any:
        out = x.copy()
        _as_vector(out)[_grid(index, self.dim)] = \
            _cast(src, x.dtype) if src.ndim == 0 else _covered(src, index)
        return out

    def backward(self, grad: Tensor) -> tuple[Tensor, None, Tensor | None]:
        grad_x = scatter(grad, self.dim, self.index, 0.0)
        if not self.needs_input_grad[2]:  # e.g. a number was scattered
            return grad_x, None, None
        return grad_x, None, _in_src_shape(gather(grad, self.dim, self.index), self.src_shape)


def _in_src_shape(grad: Tensor, shape: tuple[int, ...]) -> Tensor:
    """src's gradient: ``grad`` (shaped like the index) in the leading corner of zeros of src's ``shape``
    (src may be larger than the index; only the part the index covers was read)."""
    if tuple(grad.shape) == shape:
        return grad
    if shape == ():  # a 0-d src with a one-element index
        return grad.reshape(())
    return IndexAdd.apply(grad, index=tuple(slice(0, n) for n in grad.shape), shape=shape)


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None) -> Tensor:
    """A copy of ``input`` with ``out[i][index[i][j]] = src[i][j]`` for ``dim=1`` (``src`` a tensor or a number).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.scatter(torch.zeros(2, 3), 1, torch.tensor([[2], [0]]), 1.)
        tensor([[0., 0., 1.],
                [1., 0., 0.]])
    """
    d = normalize_dim(dim, input.ndim, "scatter")
    source = as_operand(src if src is not None else value, input)
    _check_index(input, d, index, "scatter", source)
    if source._wrapped and index.numel():  # the number is converted when it is written, after the bounds check
        _dtype.check_fits(source.item(), input.dtype)
    if source._wrapped:
        with np.errstate(all="ignore"):  # an unchecked number (nothing is written) may not fit
            source = Tensor._from_array(_dtype.cast(source._data, input.dtype.np), input.device)
    return Scatter.apply(input, index, source, dim=d, index=index, src_shape=tuple(source.shape),
                         node_name="ScatterBackward0" if isinstance(src, Tensor) else "ScatterBackward1")


class ScatterAddInto(Function):
    """d scatter_add(x, dim, i, src): x's gradient is g; src's is g gathered at i"""

    node_name = "ScatterAddBackward0"

    def forward(self, x: Any, index: Any, src: Any) -> Any:
        out = x.copy()
        _add_at(_as_vector(out), _grid(index, self.dim), _covered(src, index))
        return out

    def backward(self, grad: Tensor) -> tuple[Tensor, None, Tensor]:
        return grad, None, _in_src_shape(gather(grad, self.dim, self.index), self.src_shape)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """``out = input`` with ``out[index[j]] += src[j]`` along ``dim`` (repeated positions add up).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.scatter_add(torch.zeros(3), 0, torch.tensor([0, 2, 0]), torch.tensor([1., 2., 3.]))
        tensor([4., 0., 2.])
    """
    d = normalize_dim(dim, input.ndim, "scatter_add")
    _check_index(input, d, index, "scatter_add", src)
    return ScatterAddInto.apply(input, index, src, dim=d, index=index, src_shape=tuple(src.shape))


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out = input[..., index, ...]``: the entries at positions ``index`` (1-D, integer) along ``dim``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.index_select(torch.tensor([[1, 2], [3, 4], [5, 6]]), 0, torch.tensor([2, 0]))
        tensor([[5, 6],
                [1, 2]])
    """
    d = normalize_dim(dim, input.ndim, "index_select")
    if not isinstance(index, Tensor):
        raise TypeError(f"index_select(): argument 'index' (position 3) must be Tensor, not {type(index).__name__}")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    size = input.shape[d] if input.ndim else 1
    if input.ndim == 0 and index.numel() != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {index.numel()} value(s)")
    bad = (index._data < 0) | (index._data >= size)
    if index.numel() and input.ndim > 1 and (input.numel() == 0 or d == 1):  # PyTorch's CPU kernel for these cases
        if size == 0:
            raise RuntimeError("index_select(): self indexing axis dim should be positive")
        if bool(bad.any()):
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={int(index._data[bad].reshape(-1)[0])} "
                               f"axis_dim={size}")
    elif index.numel() and bool(bad.any()):
        raise IndexError("index out of range in self")
    if input.ndim == 0:  # the one entry, as a copy
        return Index.apply(input, index=(Ellipsis,), copies=True, node_name="IndexSelectBackward0")
    positions = _device.move(index._data.reshape(-1), input.device)
    return Index.apply(input, index=(slice(None),) * d + (positions,), copies=False, node_name="IndexSelectBackward0")


class MaskedFill(Function):
    """d masked_fill(x, m, v) = g with the filled positions zeroed"""

    def forward(self, x: Any, mask: Any) -> Any:
        return select(mask, _cast(_xp(x).asarray(self.value), x.dtype), x)

    def backward(self, grad: Tensor) -> tuple[Tensor, None]:
        return masked_fill(grad, self.mask, 0.0), None


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """``out = where(mask, value, input)``: ``value`` wherever the bool ``mask`` (broadcast) is True.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.masked_fill(torch.tensor([1., 2., 3.]), torch.tensor([True, False, True]), 0.)
        tensor([0., 2., 0.])
    """
    _check_broadcast([tuple(mask.shape), tuple(input.shape)])  # PyTorch expands mask and input first
    if mask.dtype is not _dtype.bool:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {_dtype.cpp_name(mask.dtype)}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value.ndim} dimension(s).")
        value = value.item()
    _dtype.check_fits(value, input.dtype)
    return MaskedFill.apply(input, mask, value=value, mask=mask)
