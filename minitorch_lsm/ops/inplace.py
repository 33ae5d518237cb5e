"""In-place ops (``add_``, ``mul_``, ``zero_``, ``x[i] = v``...) built on their out-of-place twins.

PyTorch's rules: a leaf that requires grad (or a view of one) may only be changed under ``no_grad``
(an optimizer step); the result keeps the destination's dtype and shape; a non-leaf changed in place
takes the op's node as its new ``grad_fn``; and its version counter goes up, so a backward that saved
the old values refuses to run rather than give wrong gradients.

Changing a *view* in place changes its base too, so the base's history is rebased, as PyTorch's
``CopySlices`` does: the base's new ``grad_fn`` is a :class:`CopySlices` node whose inputs are the
base's old history and the op's result, and every view of the base redoes its view op on that new
history (``autograd.views.ViewInfo``). Gradients then account for the in-place op.

>>> import minitorch_lsm as torch
>>> x = torch.zeros(3)
>>> x.add_(1).mul_(2)
tensor([2., 2., 2.])
>>> x[1] = 5; x
tensor([2., 5., 2.])
>>> x = torch.tensor([1., 2., 3.], requires_grad=True)
>>> y = x * 1
>>> y[1:].mul_(2)
tensor([4., 6.], grad_fn=<SliceBackward0>)
>>> y.sum().backward(); x.grad
tensor([1., 2., 2.])
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import _device, _dtype
from ..autograd.function import Function
from ..autograd.views import IN_GRAD_MODE, IN_NO_GRAD, ViewInfo, forbidden_view_change, replay_view
from ..autograd.grad_mode import _state
from ..tensor import Tensor
from . import elementwise as ew
from . import selection, unary
from .gather_scatter import masked_fill
from ._elementwise_util import _xp
from ._util import as_operand

NO_GRAD_VIEW_MESSAGE = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that this "
    "use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view "
    "and the inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or both "
    "outside (if you want the inplace to be tracked).")


def _can_cast(source: _dtype.dtype, target: _dtype.dtype) -> bool:
    """PyTorch's ``canCast``: no float into an integer, nothing but bool into bool."""
    if source.is_floating_point and not target.is_floating_point:
        return False
    return not (target is _dtype.bool and source is not _dtype.bool)


def modify(self: Tensor, compute: Callable[[Tensor], Tensor], others: tuple[Any, ...] = (),
           type_name: Callable[[_dtype.dtype], str] = _dtype.torch_name) -> Tensor:
    """Replace ``self``'s values with ``compute(self)`` in place, following PyTorch's rules.

    ``type_name`` spells the destination dtype in the cast error ('Long'; clamp_ says 'long int').
    """
    if self._inference and not _state.inference:
        raise RuntimeError(
            "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to get a "
            "normal tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for more details.")
    view = self._view
    recording = _state.grad_enabled and not _state.inference and (self.requires_grad or any(
        isinstance(o, Tensor) and o.requires_grad for o in others))
    if recording:
        _check_may_record(self, view)
    for other in others:
        if isinstance(other, Tensor) and _overlap_partly(self._data, other._data):
            raise RuntimeError("unsupported operation: some elements of the input tensor and the written-to tensor "
                               "refer to a single memory location. Please clone() the tensor before performing the "
                               "operation.")
    if recording:
        before = Tensor._from_array(self._data.copy(), self.device)  # the old values, as backward may need them
        before._set_history(self.grad_fn, self.requires_grad, self._output_nr)
        result = compute(before)
    else:
        view = None  # (nothing to rebase)
        result = compute(self)
    if not _can_cast(result.dtype, self.dtype):
        raise RuntimeError(f"result type {_dtype.torch_name(result.dtype)} can't be cast to the desired output type "
                           f"{type_name(self.dtype)}")
    if result.shape != self.shape:
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(result.shape)}")
    if recording:
        result = result.to(self.dtype)
    if read_only_memory(self._data):
        raise RuntimeError(_READ_ONLY)
    try:
        self._data[...] = _dtype.cast(result._data, self._data.dtype)  # float64 -> float16 through float32
    except ValueError:
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a single "
                           "memory location. Please clone() the tensor before performing the operation.") from None
    if view is not None:  # the write went into the base's memory: rebase the base's history
        base = view.base
        rebased = CopySlices.apply(base, result, steps=view.steps)
        base._set_history(rebased.grad_fn, rebased.requires_grad)
    elif recording:
        self._set_history(result.grad_fn, result.requires_grad)
    self._bump_version()  # moves the shared counter on: every view of the memory redoes its grad_fn
    node = result._grad_fn
    if recording and node is not None and node._saved_output is not None and node._saved_output[0] is result._data:
        # a node that keeps its output (relu_, exp_) keeps self now, so a later change of self is noticed
        node._saved_output = (self._data, self._version_cell, self._version_cell[0], self.device)
    return self


def _dense_range(a: Any) -> tuple[int, int] | None:
    """The bytes ``[start, end)`` that ``a``'s elements fill exactly (in any order of strides), or None
    when they leave gaps or repeat (a slice with a step, an expanded dim) or there are none."""
    if a.size == 0:
        return None
    start = a.ctypes.data if isinstance(a, np.ndarray) else a.data.ptr
    low = sum(s * (n - 1) for s, n in zip(a.strides, a.shape) if s < 0)
    high = sum(s * (n - 1) for s, n in zip(a.strides, a.shape) if s > 0) + a.itemsize
    return (start + low, start + high) if high - low == a.nbytes else None


def _overlap_partly(a: Any, b: Any) -> bool:
    """PyTorch's partial-overlap check of an in-place op's destination and operand: both dense, their
    memory ranges meet but are not the same range with the same strides (``x[1:].copy_(x[:-1])``,
    ``x.t().add_(x)``). Where either is not dense PyTorch does not decide, and neither do we."""
    if a is b or not _device.xp_of(_device.array_device(a)).may_share_memory(a, b):
        return False
    ranges = _dense_range(a), _dense_range(b)
    return None not in ranges and (ranges[0] != ranges[1] or a.strides != b.strides)


def _check_may_record(self: Tensor, view: ViewInfo | None) -> None:
    """Refuse, as PyTorch does, an in-place change autograd cannot account for."""
    if view is None:
        if self.requires_grad and self.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        return
    if view.made_in is IN_NO_GRAD:
        raise RuntimeError(NO_GRAD_VIEW_MESSAGE)
    if view.made_in is not IN_GRAD_MODE:  # made in a custom Function
        raise RuntimeError(forbidden_view_change(self, "is being modified inplace"))
    if self.requires_grad and view.base.grad_fn is None:  # the base is a leaf, needing grad or not
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")


class CopySlices(Function):
    """The base after an in-place op wrote its result ``src`` into a view of it (PyTorch's CopySlices).

    d new_base/d base = g with the view's positions zeroed; d new_base/d src = view(g).

    ``forward`` returns the base's own array: the write has already happened, through the view's
    memory. ``steps`` (the view ops from base to view, see ``ViewInfo``) are redone on the gradient.
    """

    node_name = "CopySlices"

    def forward(self, base: Any, src: Any) -> Any:
        return base

    def backward(self, grad: Tensor) -> tuple[Tensor, Tensor]:
        xp, shape = _device.xp_of(grad.device), tuple(grad.shape)
        numbering = Tensor._from_array(xp.arange(grad.numel()).reshape(shape), grad.device)
        positions = replay_view(self.steps, numbering)._data  # which base element each view element is
        covered = xp.zeros(grad.numel(), dtype=bool)
        covered[positions.reshape(-1)] = True
        outside = masked_fill(grad, Tensor._from_array(covered.reshape(shape), grad.device), 0.0)
        return outside, replay_view(self.steps, grad)


def _replace_where(mask: Any, value: Any, s: Tensor) -> Tensor:
    """``value`` (cast to s's dtype) where the raw bool array ``mask`` holds, else ``s``."""
    v = as_operand(value, s)
    v = Tensor._from_array(_dtype.cast(v._data, s.dtype.np), s.device) if v._wrapped else v.to(s.dtype)
    return selection.where(Tensor._from_array(mask, s.device), v, s)


_READ_ONLY = ("the tensor's memory is read-only (a non-writable NumPy array given to from_numpy or as_tensor); "
              "clone() it, or copy the array, before writing to it")


def read_only_memory(array: Any) -> bool:
    """True when ``array``'s memory itself is read-only (a non-writable NumPy array given to ``from_numpy``),
    not just the view: ``expand``'s broadcast views are read-only over writable memory."""
    if getattr(array.flags, "writeable", True):  # CuPy arrays have no such flag
        return False
    while isinstance(array.base, np.ndarray):
        array = array.base
    return not array.flags.writeable


def add_(self: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """``self += alpha * other`` in place.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([1., 2., 3.]).add_(torch.ones(3), alpha=2)
        tensor([3., 4., 5.])
    """
    return modify(self, lambda s: ew.add(s, other, alpha=alpha), (other,))


def sub_(self: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """``self -= alpha * other`` in place.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([1., 2.]).sub_(1)
        tensor([0., 1.])
    """
    return modify(self, lambda s: ew.sub(s, other, alpha=alpha), (other,))


def mul_(self: Tensor, other: Any) -> Tensor:
    """``self *= other`` in place.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([1., 2.]).mul_(3)
        tensor([3., 6.])
    """
    return modify(self, lambda s: ew.mul(s, other), (other,))


def div_(self: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """``self /= other`` in place (an integer tensor cannot hold the float result).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([1., 2.]).div_(2)
        tensor([0.5000, 1.0000])
    """
    return modify(self, lambda s: ew.div(s, other, rounding_mode=rounding_mode), (other,))


def clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """``self = min(max(self, min), max)`` in place.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([-2., 0.5, 3.]).clamp_(-1, 1)
        tensor([-1.0000,  0.5000,  1.0000])
    """
    numbers = not any(isinstance(v, Tensor) for v in (min, max))
    return modify(self, lambda s: selection.clamp(s, min, max), (min, max), _dtype.cpp_name if numbers else _dtype.torch_name)


def fill_(self: Tensor, value: Any) -> Tensor:
    """Set every element to ``value`` (a number or a 0-d tensor); no gradient flows to the old values.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.zeros(2).fill_(7)
        tensor([7., 7.])
    """
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions.")
    if not isinstance(value, Tensor):
        _dtype.check_fits(value, self.dtype)
    xp = _xp(self._data)
    return modify(self, lambda s: _replace_where(xp.ones(s.shape, dtype=bool), value, s), (value,))


def zero_(self: Tensor) -> Tensor:
    """Set every element to zero.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.ones(2).zero_()
        tensor([0., 0.])
    """
    return fill_(self, 0)


def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy ``src``'s values (broadcast, cast to self's dtype, moved to self's device) into self.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.zeros(2, 2).copy_(torch.tensor([1., 2.]))
        tensor([[1., 2.],
                [1., 2.]])
    """
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
    xp = _xp(self._data)
    return modify(self, lambda s: _replace_where(xp.ones(s.shape, dtype=bool), src.to(s.device), s), (src,))


def setitem(self: Tensor, index: Any, value: Any) -> None:
    """``self[index] = value``: ``value`` (a number or a tensor) broadcast into the indexed positions.

    Ints and slices select a view, which is then filled or copied into in place; integer and bool
    tensors select positions, and the result is ``where(selected, value placed there, self)``.
    """
    from .indexing import IndexAdd, _is_advanced, getitem, normalize_index

    idx = normalize_index(index, self.device)
    if isinstance(value, Tensor):  # as PyTorch, a value of shape (1, 1, 4) fits x[0] of shape (4)
        value = _without_leading_ones(value)
    if not _is_advanced(idx):  # as in PyTorch, x[1:] = v is x[1:].copy_(v): a view changed in place (CopySlices)
        if not any(i is Ellipsis for i in idx):
            idx += (Ellipsis,)  # so that NumPy gives a view, not a copy, of a single element
        target = getitem(self, idx)
        if isinstance(value, Tensor):
            copy_(target, value.expand(target.shape))
        else:
            fill_(target, value)
        return
    if not isinstance(value, Tensor):
        _dtype.check_fits(value, self.dtype)
    # PyTorch's checks, in its order: masks and the indices' shapes, the value's shape, then the bounds
    xp = _xp(self._data)
    anywhere = tuple(xp.zeros_like(i) if _is_integer_array(i) else i for i in idx)  # (no bounds to break)
    region_shape = getitem(self.detach(), anywhere).shape
    if isinstance(value, Tensor):
        _check_index_put_value(value, region_shape, self.dtype, _is_one_mask(idx))
    getitem(self.detach(), idx)
    mask = xp.zeros(self.shape, dtype=bool)
    mask[idx] = True

    def compute(s: Tensor) -> Tensor:
        if not isinstance(value, Tensor):
            return _replace_where(mask, value, s)
        placed = IndexAdd.apply(value.to(s.dtype).expand(region_shape), index=idx, shape=s.shape, accumulate=False)
        return selection.where(Tensor._from_array(mask, s.device), placed, s)
    modify(self, compute, (value,))


def _is_integer_array(item: Any) -> bool:
    """Whether a normalized index entry is an array of indices (not an int, slice, mask, None or ``...``)."""
    return hasattr(item, "dtype") and item.dtype.kind in "iu"


def _check_index_put_value(value: Tensor, region_shape: tuple[int, ...], dtype: _dtype.dtype, one_mask: bool) -> None:
    """PyTorch's checks of a tensor value for ``x[positions] = value``, in its order: its shape broadcasts to
    the selected region's, then its dtype is x's. PyTorch runs ``x[..., mask, ...] = v`` with a one-element
    v as ``masked_fill_``, which casts v, so there any dtype goes."""
    shape = value.shape
    if len(shape) > len(region_shape) or any(n not in (1, m) for n, m in zip(reversed(shape), reversed(region_shape))):
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(shape)} cannot be broadcast to indexing "
                           f"result of shape {list(region_shape)}")
    if value.dtype is not dtype and not (one_mask and value.numel() == 1):
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_dtype.torch_name(dtype)} for the destination and {_dtype.torch_name(value.dtype)} "
                           "for the source.")


def _without_leading_ones(value: Tensor) -> Tensor:
    """``value`` without its leading size-1 dims (PyTorch's ``slicePrefix1sSize`` before it expands a value)."""
    ones = next((d for d, size in enumerate(value.shape) if size != 1), value.ndim)
    return value.reshape(value.shape[ones:]) if ones else value


def _is_one_mask(index: tuple[Any, ...]) -> bool:
    """Whether a normalized index selects positions by exactly one bool array (ints, slices, None and ``...`` aside)."""
    from .indexing import _selects_positions

    arrays = [i for i in index if _selects_positions(i)]
    return len(arrays) == 1 and not isinstance(arrays[0], bool) and arrays[0].dtype == bool


def masked_fill_(self: Tensor, mask: Tensor, value: Any) -> Tensor:
    """``self = where(mask, value, self)`` in place.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([1., 2., 3.]).masked_fill_(torch.tensor([True, False, True]), 0.)
        tensor([0., 2., 0.])
    """
    return modify(self, lambda s: masked_fill(s, mask, value), (value,))


def exp_(self: Tensor) -> Tensor:
    """``self = exp(self)`` in place.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([0., 1.]).exp_()
        tensor([1.0000, 2.7183])
    """
    return modify(self, unary.exp)


def relu_(self: Tensor) -> Tensor:
    """``self = max(self, 0)`` in place.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([-1., 2.]).relu_()
        tensor([0., 2.])
    """
    return modify(self, unary.relu)


def neg_(self: Tensor) -> Tensor:
    """``self = -self`` in place.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([1., -2.]).neg_()
        tensor([-1.,  2.])
    """
    return modify(self, unary.neg)


def sqrt_(self: Tensor) -> Tensor:
    """``self = sqrt(self)`` in place.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([4., 9.]).sqrt_()
        tensor([2., 3.])
    """
    return modify(self, unary.sqrt)


def sigmoid_(self: Tensor) -> Tensor:
    """``self = 1 / (1 + exp(-self))`` in place.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([0., 2.]).sigmoid_()
        tensor([0.5000, 0.8808])
    """
    return modify(self, unary.sigmoid)


def tanh_(self: Tensor) -> Tensor:
    """``self = tanh(self)`` in place.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([0., 1.]).tanh_()
        tensor([0.0000, 0.7616])
    """
    return modify(self, unary.tanh)


def pow_(self: Tensor, exponent: Any) -> Tensor:
    """``self = self ** exponent`` in place.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([2., 3.]).pow_(2)
        tensor([4., 9.])
    """
    return modify(self, lambda s: ew.pow(s, exponent), (exponent,))


# ---------------------------------------------------------------------- torch.relu_(x) and the like
_CLAMP_OVERLOADS = ("(Tensor input, Tensor min = None, Tensor max = None)",
                    "(Tensor input, Number min = None, Number max = None)")
_OVERLOADS = {  # the signatures PyTorch's error lists for a call that matches none of them
    "clamp_": _CLAMP_OVERLOADS, "clip_": _CLAMP_OVERLOADS,
    "fill_": ("(Tensor input, Tensor value)", "(Tensor input, Number value)"),
}
_EXAMPLE_ARGUMENTS = {"clamp_": ", min=0", "clip_": ", min=0", "fill_": ", 2.0"}


def _namespace_form(name: str, method: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``torch.<name>(input, ...)``: the Tensor method ``input.<name>(...)``, after PyTorch's binding has
    checked that ``input`` is a Tensor (its TypeError otherwise)."""
    def function(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if not isinstance(input, Tensor):
            if name not in _OVERLOADS:
                raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
            given = [type(v).__name__ for v in (input, *args)] + [f"{k}={type(v).__name__}" for k, v in kwargs.items()]
            raise TypeError(f"{name}() received an invalid combination of arguments - got ({', '.join(given)}), but "
                            "expected one of:\n" + "".join(f" * {signature}\n" for signature in _OVERLOADS[name]))
        return method(input, *args, **kwargs)

    summary = (method.__doc__ or "").strip().split("\n")[0]
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"""``torch.{name}(input, ...)`` is ``input.{name}(...)``: {summary}

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.tensor([-1., 4.])
        >>> torch.{name}(x{_EXAMPLE_ARGUMENTS.get(name, "")}) is x
        True
    """
    return function


clamp_namespace, clip_namespace, fill_namespace, zero_namespace = (
    _namespace_form(n, f) for n, f in (("clamp_", clamp_), ("clip_", clamp_), ("fill_", fill_), ("zero_", zero_)))
exp_namespace, relu_namespace, neg_namespace, negative_namespace, sqrt_namespace, sigmoid_namespace, tanh_namespace = (
    _namespace_form(n, f) for n, f in (("exp_", exp_), ("relu_", relu_), ("neg_", neg_), ("negative_", neg_),
                                       ("sqrt_", sqrt_), ("sigmoid_", sigmoid_), ("tanh_", tanh_)))
detach_namespace = _namespace_form("detach_", Tensor.detach_)
