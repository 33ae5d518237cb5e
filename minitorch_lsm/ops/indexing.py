"""Indexing: ``x[i]`` with PyTorch's rules, and the positions of a mask: ``nonzero``, ``where(condition)``.

The gradient of *reading* positions is *adding* into those positions, and the gradient of adding is
reading again, so ``Index`` and ``IndexAdd`` below are each other's backward (which makes double backward
free); ``ops/gather_scatter.py`` has the same pair along one dim, ``Gather`` / ``ScatterAdd``.

Examples:
    >>> import minitorch_lsm as torch
    >>> x = torch.arange(6.).reshape(2, 3)
    >>> x[:, 1], x[x > 3]
    (tensor([1., 4.]), tensor([4., 5.]))
"""
from __future__ import annotations

import math
import operator
import warnings
from typing import Any

import numpy as np

from .. import _device, _dtype
from ..autograd.function import Function
from ..tensor import Tensor
from ._elementwise_util import _require_tensor, _xp
from .selection import where as _where


# ====================================================================== x[index]
# PyTorch applies an index in two steps. First the *basic* entries, one by one, each a view op: an int
# selects (its dim goes away), a slice slices, None inserts a dim of size 1 (True/False too). Then, if
# any tensors (or lists, or True/False) are left, one *advanced* index on that view: the tensors'
# broadcast shape takes the place of the dims they index if those dims are adjacent, else it goes in
# front. NumPy does it all at once and counts ints as advanced, so ``x[0, :, i]`` would put i's dim
# first; making the two steps ourselves (``_steps``) gives PyTorch's order, for reading and writing.
UINT8_INDEX_WARNING = ("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead. "
                       "(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/IndexingUtils.h:37.)")
LIST_AS_TUPLE_WARNING = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in pytorch 2.9; use "
    "x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as tensor index, x[torch.tensor(seq)], "
    "which will result either in an error or a different result (Triggered internally at "
    "/__w/pytorch/pytorch/torch/csrc/autograd/python_variable_indexing.cpp:349.)")
_BAD_ENTRY = "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices"
_BAD_DTYPE = "tensors used as indices must be long, int, byte or bool tensors"


def _selects_positions(entry: Any) -> bool:
    """Whether an entry of a normalized index is advanced: an array or True/False (not an int, slice, None or ``...``)."""
    return isinstance(entry, bool) or not isinstance(entry, (int, slice, type(None), type(Ellipsis)))


def _is_advanced(index: tuple[Any, ...]) -> bool:
    """Whether a normalized index selects positions (a copy): it holds an array or True/False."""
    return any(_selects_positions(i) for i in index)


def _entries(index: Any) -> tuple[tuple[Any, ...], bool]:
    """The index as a tuple of entries, and whether it was written as one (``x[0, 1]``, not ``x[0]``).

    As in PyTorch, a short list holding a tensor, a list, a slice, None or ``...`` counts as a tuple (with a
    deprecation warning): ``x[[0, slice(None)]]`` is ``x[0, :]``.
    """
    if isinstance(index, tuple):
        return index, True
    if isinstance(index, list) and len(index) < 32 and any(
            isinstance(i, (Tensor, list, tuple, range, str, slice, np.ndarray)) or i is None or i is Ellipsis
            for i in index):
        warnings.warn(LIST_AS_TUPLE_WARNING, UserWarning, stacklevel=4)
        return tuple(index), True
    return (index,), False


def _entry(item: Any, dev: _device.device) -> Any:
    """One index entry as the ops use it: an int, a slice, None, ``...``, True/False, or an array on ``dev``.

    A 0-d integer tensor is an int and a 0-d bool (or uint8) tensor is True/False, as in PyTorch.
    """
    if isinstance(item, (bool, np.bool_)):
        return bool(item)
    if isinstance(item, (int, np.integer)):
        return int(item)
    if item is None or item is Ellipsis:
        return item
    if isinstance(item, slice):
        bounds = []
        for value in (item.start, item.stop, item.step):
            try:
                bounds.append(None if value is None else operator.index(value))
            except TypeError:
                if isinstance(value, Tensor):
                    raise
                raise TypeError("slice indices must be integers or None or have an __index__ method") from None
        if bounds[2] is not None and bounds[2] <= 0:
            raise ValueError("slice step cannot be zero" if bounds[2] == 0 else "step must be greater than zero")
        return slice(*bounds)
    if isinstance(item, (list, tuple, range)):
        array = np.asarray([i.item() if isinstance(i, Tensor) else i for i in item], dtype=None if len(item) else np.int64)
    elif isinstance(item, Tensor):
        array = item._data
    elif isinstance(item, np.ndarray):
        array = item
    elif isinstance(item, str):
        raise TypeError("new(): invalid data type 'str'")
    else:
        raise IndexError(f"{_BAD_ENTRY} (got {type(item).__name__})")
    if array.ndim == 0 and array.dtype.kind in "biu":
        return bool(array) if array.dtype in (np.bool_, np.uint8) else int(array)
    return _device.move(array, dev)


def _check_dtypes(index: tuple[Any, ...]) -> tuple[Any, ...]:
    """Refuse float (and int8/int16) index tensors; uint8 ones are bool masks, with PyTorch's warning."""
    out = []
    for item in index:
        if not isinstance(item, (bool, int, slice, type(None), type(Ellipsis))):
            if item.dtype not in (np.bool_, np.uint8, np.int32, np.int64):
                raise IndexError(_BAD_DTYPE)
            if item.dtype == np.uint8:
                warnings.warn(UINT8_INDEX_WARNING, UserWarning, stacklevel=4)
                item = item.astype(bool)
        out.append(item)
    return tuple(out)


def _normalize(index: Any, dev: _device.device, shape: tuple[int, ...] | None) -> tuple[tuple[Any, ...], bool]:
    """``normalize_index``, and whether the index was a tuple (which decides the view's grad_fn name)."""
    items, is_tuple = _entries(index)
    if shape is not None:
        ndim = len(shape)
        if not is_tuple and ndim == 0 and isinstance(items[0], (int, np.integer, slice)) and not isinstance(items[0], bool):
            raise IndexError("slice() cannot be applied to a 0-dim tensor." if isinstance(items[0], slice) else
                             "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in "
                             "C++ to convert a 0-dim tensor to a number")
        specified = sum(_dims_named(i) for i in items)  # PyTorch counts first: a bool list counts 1
        if specified > ndim:
            raise IndexError(f"too many indices for tensor of dimension {ndim}")
    out, dim = [], 0  # dim: the input dim the next entry indexes
    for position, item in enumerate(items):  # in order, as PyTorch meets them
        entry = _entry(item, dev)
        if shape is not None and isinstance(entry, int) and not isinstance(entry, bool):
            size = shape[dim] if dim < len(shape) else 0
            if not -size <= entry < size:
                raise IndexError(f"index {entry} is out of bounds for dimension {position} with size {size}")
        dim += _width(entry, len(shape) - specified if shape is not None else 0)
        out.append(entry)
    return _check_dtypes(tuple(out)), is_tuple


def _width(entry: Any, ellipsis: int) -> int:
    """How many dims a normalized entry indexes: ``ellipsis`` for ``...``, none for None and True/False."""
    if entry is None or isinstance(entry, bool):
        return 0
    if entry is Ellipsis:
        return ellipsis
    if isinstance(entry, (int, slice)):
        return 1
    return entry.ndim if entry.dtype in (np.bool_, np.uint8) else 1


def _dims_named(item: Any) -> int:
    """How many dims PyTorch counts for one raw index entry (``...``, None and True/False name none)."""
    if item is None or item is Ellipsis or isinstance(item, (bool, np.bool_)):
        return 0
    if isinstance(item, Tensor) and item.dtype in (_dtype.bool, _dtype.uint8):
        return item.ndim
    return 1


def normalize_index(index: Any, dev: _device.device, shape: tuple[int, ...] | None = None) -> tuple[Any, ...]:
    """An index as a tuple of ints, slices, None, ``...``, True/False and integer or bool arrays on ``dev``.

    Given the indexed ``shape``, also PyTorch's checks of ints and the number of indices, in PyTorch's order.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.ops.indexing import normalize_index
        >>> normalize_index((0, torch.tensor([1, 0]), torch.tensor(2)), torch.device('cpu'))
        (0, array([1, 0]), 2)
    """
    return _normalize(index, dev, shape)[0]


def _steps(index: tuple[Any, ...], xp: Any) -> tuple[tuple[Any, ...], tuple[Any, ...] | None]:
    """Split a normalized index into PyTorch's two steps: ``basic`` (a NumPy basic index, so a view), then
    ``advanced`` (an index of that view with only arrays, full slices and ``...``), or None if there is none.

    True/False is an unsqueeze in the first step and an index of the new dim by ``[0]`` or ``[]`` in the second.
    """
    basic: list[Any] = []
    advanced: list[Any] = []
    has_advanced = False
    for item in index:
        if item is Ellipsis:
            basic.append(item)
            advanced.append(item)
        elif isinstance(item, bool):
            basic.append(None)
            advanced.append(xp.zeros(int(item), dtype=np.int64))
            has_advanced = True
        elif isinstance(item, int):
            basic.append(item)
        elif item is None or isinstance(item, slice):
            basic.append(item)
            advanced.append(slice(None))
        else:
            basic += [slice(None)] * (item.ndim if item.dtype == np.bool_ else 1)
            advanced.append(item)
            has_advanced = True
    if not any(i is Ellipsis for i in basic):
        basic.append(Ellipsis)  # so that NumPy returns a view even when every dim is selected by an int
    return tuple(basic), (tuple(advanced) if has_advanced else None)


def _checked(advanced: tuple[Any, ...], shape: tuple[int, ...], xp: Any) -> tuple[Any, ...]:
    """The advanced step for NumPy, after PyTorch's checks against the ``shape`` of the view it indexes.

    The checks, in PyTorch's order: each bool mask's shape; that the tensors broadcast; that no non-empty
    index goes into a dim of size 0; then, only if the result is not empty, the bounds of each index,
    with the index's place among the index tensors in the message (a mask counts once per dim). An empty
    result reads nothing, so its indices are replaced by zeros, which NumPy accepts. ``...`` is spelled
    out as full slices: for NumPy even an empty ``...`` keeps two tensors apart, for PyTorch it does not.
    """
    spare = len(shape) - sum(_width(i, 0) for i in advanced)
    index = [s for i in advanced for s in ([slice(None)] * spare if i is Ellipsis else [i])]
    index += [slice(None)] * (len(shape) - sum(_width(i, 0) for i in index))
    dim, shapes, integer, kept = 0, [], [], 1  # kept: the size of the dims no tensor indexes
    for item in index:
        if isinstance(item, slice):
            kept *= shape[dim]
            dim += 1
        elif item.dtype == np.bool_:
            for k, size in enumerate(item.shape):
                if size != shape[dim + k]:
                    raise IndexError(f"The shape of the mask {list(item.shape)} at index {k} does not match the shape "
                                     f"of the indexed tensor {list(shape)} at index {dim + k}")
            shapes += [(int(item.sum()),)] * item.ndim
            dim += item.ndim
        else:
            integer.append((item, len(shapes), shape[dim]))
            shapes.append(tuple(item.shape))
            dim += 1
    try:
        result = np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                         + ", ".join(str(list(s)) for s in shapes)) from None
    if math.prod(result) and any(size == 0 for _, _, size in integer):
        raise IndexError("index is out of bounds for dimension with size 0")
    if math.prod(result) * kept == 0:
        ints = {id(item) for item, _, _ in integer}
        return tuple(xp.zeros(i.shape, dtype=i.dtype) if id(i) in ints else i for i in index)
    bad = [xp.broadcast_to((item < -size) | (item >= size), result) for item, _, size in integer]
    if any(bool(b.any()) for b in bad):
        first = int(xp.stack(bad).any(axis=0).reshape(-1).argmax())  # PyTorch stops at the first bad element
        for (item, j, size), b in zip(integer, bad):
            if bool(b.reshape(-1)[first]):
                value = int(xp.broadcast_to(item, result).reshape(-1)[first])
                raise IndexError(f"index {value} is out of bounds for dimension {j} with size {size}")
    return tuple(index)


def _read(x: Any, index: tuple[Any, ...]) -> Any:
    """``x[index]`` in PyTorch's order: the basic step (a view), then the advanced one (a copy)."""
    xp = _xp(x)
    basic, advanced = _steps(index, xp)
    try:
        view = x[basic]
    except IndexError as error:
        message = str(error).replace("axis", "dimension")
        if message.startswith("too many indices"):
            message = f"too many indices for tensor of dimension {x.ndim}"
        raise IndexError(message) from None
    return view if advanced is None else view[_checked(advanced, view.shape, xp)]


class Index(Function):
    """d x[i] = g added back at the positions i (repeated positions add up)"""

    node_name = "IndexBackward0"

    def forward(self, x: Any) -> Any:
        out = _read(x, self.index)
        return out.copy() if self.copies else out

    def backward(self, grad: Tensor) -> Tensor:
        return IndexAdd.apply(grad, index=self.index, shape=self.input_meta[0][0])


class Slice(Index):
    """d x[ints, slices, None] = g placed back in the selected region (a view: no copy)"""

    node_name = "SliceBackward0"
    is_view = True


class IndexAdd(Function):
    """zeros(shape) with g added at positions i (or, with ``accumulate=False``, written: the last write to a
    repeated position wins, as in ``x[i] = v``); d/dg = dg[i]"""

    node_name = "IndexPutBackward0"
    accumulate = True

    def forward(self, g: Any) -> Any:
        xp = _xp(g)
        out = xp.zeros(self.shape, dtype=g.dtype)
        basic, advanced = _steps(self.index, xp)
        view = out[basic]  # a view: writing into it writes into out
        if advanced is None:
            view[...] = g
        elif self.accumulate:
            xp.add.at(view, _checked(advanced, view.shape, xp), g)  # float16 rounds at each add, as in PyTorch
        else:
            view[_checked(advanced, view.shape, xp)] = g
        return out

    def backward(self, grad: Tensor) -> Tensor:
        cls = Index if _is_advanced(self.index) else Slice
        return cls.apply(grad, index=self.index, copies=False)


def _view_name(index: tuple[Any, ...], is_tuple: bool, shape: tuple[int, ...]) -> str:
    """The grad_fn name PyTorch gives a basic index: that of the last view op it applies.

    A lone entry is one op (``x[0]`` select, ``x[:]`` slice, ``x[None]`` unsqueeze, ``x[...]`` alias). In
    a tuple, each int selects, each None unsqueezes and each slice slices unless it is ``0:n`` with
    ``n`` at least the size (then it is skipped); a tuple that changes nothing is an alias.
    """
    if not is_tuple:
        item = index[0]
        return ("UnsqueezeBackward0" if item is None else "AliasBackward0" if item is Ellipsis else
                "SliceBackward0" if isinstance(item, slice) else "SelectBackward0")
    name, dim = "AliasBackward0", 0
    for item in index:
        if item is Ellipsis:
            dim += len(shape) - sum(1 for i in index if i is not None and i is not Ellipsis)
        elif item is None:
            name = "UnsqueezeBackward0"
        elif isinstance(item, slice):  # "whole" as PyTorch tests it: before negative bounds are wrapped
            start, stop, step = item.start or 0, math.inf if item.stop is None else item.stop, item.step or 1
            if not (start == 0 and stop >= shape[dim] and step == 1):
                name = "SliceBackward0"
            dim += 1
        else:
            name = "SelectBackward0"
            dim += 1
    return name


def getitem(input: Tensor, index: Any) -> Tensor:
    """``input[index]`` with ints, slices, None, ``...``, bool masks and integer tensors or lists, as in PyTorch.

    Ints are applied first, as selects, so ``x[0, :, i]`` is ``x[0][:, i]``; the dims of tensor indices go
    where their first one is when they are adjacent (``x[:, i, j]``), else in front (``x[i, :, j]``).

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.arange(24).reshape(2, 3, 4)
        >>> x[0, :, torch.tensor([0, 1])]
        tensor([[0, 1],
                [4, 5],
                [8, 9]])
        >>> x[:, 1, 2], x[torch.tensor([1, 0]), 2, 3], x[x > 21]
        (tensor([ 6, 18]), tensor([23, 11]), tensor([22, 23]))
    """
    idx, is_tuple = _normalize(index, input.device, input.shape)
    if _is_advanced(idx):
        return Index.apply(input, index=idx, copies=False)
    return Slice.apply(input, index=idx, copies=False, node_name=_view_name(idx, is_tuple, input.shape))


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """The indices of the non-zero entries: a ``(count, ndim)`` int64 tensor, or with ``as_tuple=True`` one
    1-D tensor per dim (``x[x.nonzero(as_tuple=True)]`` are the non-zero values). NaN counts as non-zero.

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.tensor([[1, 0], [0, 2]])
        >>> torch.nonzero(x)
        tensor([[0, 0],
                [1, 1]])
        >>> torch.nonzero(x, as_tuple=True)
        (tensor([0, 1]), tensor([0, 1]))
    """
    _require_tensor(input, "nonzero", "input", 1)
    xp = _xp(input._data)
    data = input._data
    found = xp.nonzero(data.reshape(1) if data.ndim == 0 else data)
    columns = [c.astype(np.int64) for c in found]
    if as_tuple:
        return tuple(Tensor._from_array(c, input.device) for c in columns)
    if data.ndim == 0:
        return Tensor._from_array(xp.zeros((columns[0].shape[0], 0), dtype=np.int64), input.device)
    return Tensor._from_array(xp.stack(columns).T, input.device)  # one row per dim, transposed: PyTorch's layout


def where(condition: Tensor, input: Any = None, other: Any = None) -> Any:
    """``where(condition, input, other)``: ``input`` where ``condition`` holds, else ``other`` (broadcast);
    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> c = torch.tensor([True, False, True])
        >>> torch.where(c, torch.tensor([1., 2., 3.]), 0.)
        tensor([1., 0., 3.])
        >>> torch.where(c)
        (tensor([0, 2]),)
    """
    _require_tensor(condition, "where", "condition", 1)
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where() received an invalid combination of arguments: give both input and other, or neither")
    return _where(condition, input, other)
