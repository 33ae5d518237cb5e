"""Shape ops: views that rearrange the same elements. Their gradients rearrange them back.

Examples:
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
from ..tensor import Size, Tensor
from ._util import _require_tensor, as_tuple_of_ints, normalize_dim, normalize_dims


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
        if known == 0 and numel == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape [{', '.join(map(str, shape))}] because "
                               "the unspecified dimension size -1 can be any value and is ambiguous")
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
    return shape


VIEW_MESSAGE = ("view size is not compatible with input tensor's size and stride (at least one dimension spans across "
                "two contiguous subspaces). Use .reshape(...) instead.")


class View(Function):
    """d x.reshape(s) = dx.reshape(x.shape)"""

    is_view = True

    def forward(self, x: Any) -> Any:
        self.source_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, grad: Tensor) -> Tensor:
        return grad.reshape(self.source_shape)


def _viewable(array: Any, shape: tuple[int, ...]) -> bool:
    """Whether ``array`` can take ``shape`` without a copy: its strides must allow it (always, if it is empty).

    NumPy and CuPy refuse to set ``shape`` on an array when that would need a copy.
    """
    if array.size == 0:
        return True
    probe = array.view()
    try:
        probe.shape = shape
    except AttributeError:
        return False
    return True


def reshape(input: Tensor, *shape: Any) -> Tensor:
    """The same elements, in row-major order, in a new shape (one size may be -1: inferred).

    A view when the strides allow it (as ``view``), else a copy (``UnsafeViewBackward0``, as in PyTorch).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.reshape(torch.arange(6), (2, -1))
        tensor([[0, 1, 2],
                [3, 4, 5]])
        >>> torch.ones(2, 3, requires_grad=True).t().reshape(6).grad_fn.name()
        'UnsafeViewBackward0'
    """
    _require_tensor(input, "reshape", "input", 1)
    target = _infer_shape(as_tuple_of_ints(shape), input.numel())
    if _viewable(input._data, target):
        return View.apply(input, shape=target)
    return View.apply(input, shape=target, node_name="UnsafeViewBackward0")


def view(input: Tensor, *shape: Any) -> Tensor:
    """The same memory seen with a new shape (one size may be -1); refused when the strides do not allow it.

    ``x.t().view(6)`` raises, as in PyTorch: use ``reshape`` (which copies) or ``contiguous()`` first.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.arange(6).view(3, 2)
        tensor([[0, 1],
                [2, 3],
                [4, 5]])
        >>> torch.ones(2, 3).t().view(6)
        Traceback (most recent call last):
        RuntimeError: view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead.
    """
    target = _infer_shape(as_tuple_of_ints(shape), input.numel())
    if not _viewable(input._data, target):
        raise RuntimeError(VIEW_MESSAGE)
    return View.apply(input, shape=target)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.view(other.shape)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.arange(4).view_as(torch.ones(2, 2)).shape
        torch.Size([2, 2])
    """
    return view(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.reshape(other.shape)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.ones(2, 3).t().reshape_as(torch.ones(6)).shape
        torch.Size([6])
    """
    return reshape(input, other.shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one of size ``prod(shape[start_dim:end_dim + 1])``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.flatten(torch.ones(2, 3, 4), start_dim=1).shape
        torch.Size([2, 12])
    """
    _require_tensor(input, "flatten", "input", 1)
    start, end = normalize_dim(start_dim, input.ndim), normalize_dim(end_dim, input.ndim)
    if input.ndim == 0:
        return reshape(input, 1)
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
    """Reorder the dimensions: ``out.shape[i] = input.shape[dims[i]]``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.permute(torch.ones(2, 3, 4), (2, 0, 1)).shape
        torch.Size([4, 2, 3])
    """
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
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
    """Swap two dimensions: ``out[..., j, ..., i, ...] = input[..., i, ..., j, ...]``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.transpose(torch.tensor([[1, 2, 3]]), 0, 1)
        tensor([[1],
                [2],
                [3]])
    """
    order = list(range(input.ndim))
    a, b = normalize_dim(dim0, input.ndim), normalize_dim(dim1, input.ndim)
    if input.ndim == 0:
        return input
    order[a], order[b] = order[b], order[a]
    return Transpose.apply(input, dims=tuple(order))


def t(input: Tensor) -> Tensor:
    """``out[j, i] = input[i, j]`` for a tensor of at most 2 dims.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.t(torch.tensor([[1, 2], [3, 4]]))
        tensor([[1, 3],
                [2, 4]])
    """
    _require_tensor(input, "t", "input", 1)
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return Transpose.apply(input, dims=tuple(reversed(range(input.ndim))), node_name="TBackward0")


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    """A UserWarning shown once per process, as PyTorch's ``TORCH_WARN_ONCE``."""
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, UserWarning, stacklevel=3)  # the caller of x.T / x.mT


def T(input: Tensor) -> Tensor:  # noqa: N802 - mirrors Tensor.T
    """``x.T``: all dimensions reversed (PyTorch warns, once, for other than 2 dims).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([[1, 2], [3, 4]]).T
        tensor([[1, 3],
                [2, 4]])
    """
    if input.ndim == 0:
        _warn_once("Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases. (Triggered "
                   "internally at /__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4321.)")
    elif input.ndim != 2:
        _warn_once("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it "
                   "will throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
                   "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor. (Triggered "
                   "internally at /__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4314.)")
    return Permute.apply(input, dims=tuple(reversed(range(input.ndim))))


def mT(input: Tensor) -> Tensor:  # noqa: N802
    """``x.mT``: the last two dimensions swapped (a batch of matrices transposed); a 0-d tensor is returned as is.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.ones(5, 2, 3).mT.shape
        torch.Size([5, 3, 2])
    """
    if input.ndim == 0:
        _warn_once("Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases. (Triggered "
                   "internally at /__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4373.)")
        return input
    if input.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return transpose(input, -2, -1)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim`` (which may be ``ndim``).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.unsqueeze(torch.tensor([1, 2]), 1)
        tensor([[1],
                [2]])
    """
    d = normalize_dim(dim, input.ndim + 1)
    shape = input._data.shape
    return View.apply(input, shape=shape[:d] + (1,) + shape[d:], node_name="UnsqueezeBackward0")


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    """Remove dimensions of size 1 (all of them, or those in ``dim`` that have size 1).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.squeeze(torch.ones(2, 1, 3, 1)).shape, torch.squeeze(torch.ones(2, 1, 3, 1), 1).shape
        (torch.Size([2, 3]), torch.Size([2, 3, 1]))
    """
    _require_tensor(input, "squeeze", "input", 1)
    if input.ndim == 0 and dim is not None:  # a 0-d tensor still checks its dims: only 0 and -1 exist
        listed = [normalize_dim(d, 0) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
        if len(listed) > 1:
            raise RuntimeError("dim 0 appears multiple times in the list of dims")
    dims = normalize_dims(dim, input.ndim) if dim is not None else tuple(range(input.ndim))
    shape = tuple(s for i, s in enumerate(input.shape) if not (i in dims and s == 1))
    overload = 0 if dim is None else (2 if isinstance(dim, (tuple, list)) else 1)  # PyTorch names each overload
    return View.apply(input, shape=shape, node_name=f"SqueezeBackward{overload}")


class Expand(Function):
    """d x.expand(s) = dx summed back over the broadcast dims (the engine does the summing)"""

    is_view = True

    def forward(self, x: Any) -> Any:
        from ._elementwise_util import _xp
        return _xp(x).broadcast_to(x, self.shape)

    def backward(self, grad: Tensor) -> Tensor:
        return grad


def expand(input: Tensor, *sizes: Any) -> Tensor:
    """Broadcast size-1 dims (and new leading dims) to ``sizes`` without copying; -1 keeps a size.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([[1], [2]]).expand(2, 3)
        tensor([[1, 1, 1],
                [2, 2, 2]])
    """
    target = expanded_shape(input, as_tuple_of_ints(sizes))
    if target == input._data.shape:
        return input
    return Expand.apply(input, shape=target)


def expanded_shape(input: Tensor, sizes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape ``input.expand(*sizes)`` has (-1 keeps a size), or PyTorch's error for sizes it cannot take."""
    if len(sizes) < input.ndim:
        raise RuntimeError(f"expand(torch.{_dtype.torch_name(input.dtype)}Tensor{{[{', '.join(map(str, input.shape))}]}}, "
                           f"size=[{', '.join(map(str, sizes))}]): the number of sizes provided ({len(sizes)}) must be "
                           f"greater or equal to the number of dimensions in the tensor ({input.ndim})")
    lead, shape = len(sizes) - input.ndim, input._data.shape  # (a tuple: .shape builds a torch.Size)
    target = list(sizes)
    for i in reversed(range(len(sizes))):  # from the last dim, as PyTorch checks (the first clash it names)
        s = sizes[i]
        own = shape[i - lead] if i >= lead else None
        if s == -1:
            if own is None:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {i}")
            s = own
        elif own is not None and own != 1 and own != s:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({own}) at "
                               f"non-singleton dimension {i}.  Target sizes: [{', '.join(map(str, sizes))}].  "
                               f"Tensor sizes: [{', '.join(map(str, input.shape))}]")
        target[i] = s
    return tuple(target)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.expand(other.shape)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([1, 2]).expand_as(torch.ones(2, 2))
        tensor([[1, 2],
                [1, 2]])
    """
    return expand(input, other.shape)


def broadcast_shapes(*shapes: Any) -> Size:
    """The shape that tensors of ``shapes`` broadcast to: sizes align from the right and 1 stretches.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.broadcast_shapes((2, 1), (1, 3))
        torch.Size([2, 3])
    """
    try:
        return Size(np.broadcast_shapes(*[tuple(map(operator.index, s)) for s in shapes]))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape.") from None


def is_contiguous(input: Tensor, memory_format: Any = None) -> bool:
    """Whether the elements lie in memory in row-major order with no gaps (read from the array's strides).

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.ones(2, 3)
        >>> x.is_contiguous(), x.t().is_contiguous(), x[:, :2].is_contiguous()
        (True, False, False)
    """
    return bool(input._data.flags.c_contiguous)


def stride(input: Tensor, dim: int | None = None) -> Any:
    """How many elements apart neighbours along each dim lie in memory (along ``dim`` only, if given);
    0 along a dim that ``expand`` stretched. Read from the array's strides, which count bytes.

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.ones(2, 3)
        >>> x.stride(), x.t().stride(), x[:, ::2].stride(-1), torch.ones(3, 1).expand(3, 4).stride()
        ((3, 1), (1, 3), 2, (1, 0))
    """
    data = input._data
    if data.size == 0:  # no element lies anywhere: PyTorch reports the row-major steps (sizes 0 counted as 1)
        steps = tuple(int(np.prod([max(n, 1) for n in data.shape[i + 1:]])) for i in range(data.ndim))
    else:
        steps = tuple(step // data.itemsize for step in data.strides)
    return steps if dim is None else steps[normalize_dim(dim, input.ndim)]


class Contiguous(Function):
    """d contiguous(x) = dx (a row-major copy of x)"""

    node_name = "CloneBackward0"

    def forward(self, x: Any) -> Any:
        return x.copy(order="C")

    def backward(self, grad: Tensor) -> Tensor:
        return grad


def contiguous(input: Tensor, memory_format: Any = None) -> Tensor:
    """The tensor itself if it is contiguous, else a row-major copy (so that ``view`` works on it).

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.ones(2, 3)
        >>> x.contiguous() is x, x.t().contiguous().is_contiguous()
        (True, True)
    """
    return input if is_contiguous(input) else Contiguous.apply(input)
