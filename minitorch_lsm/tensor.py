"""The Tensor: an array (NumPy on cpu, CuPy on cuda) plus what autograd needs.

A tensor holds

* ``_data``: the raw array; ``dtype`` and ``device`` describe it;
* ``requires_grad``, ``grad`` and ``grad_fn`` (the tape node that produced it, None for a leaf);
* ``_version_cell``: a counter bumped by every in-place change, so backward can refuse stale values;
  a view shares its base's counter;
* ``_view``: for a view (``x[1:]``, ``x.t()``...), how to redo it from its base (``autograd.views.ViewInfo``),
  so that an in-place change of the base or of any of its views updates the view's ``grad_fn``.

The math methods (``x.exp()``, ``x.sum(1)``, ``x @ y``...) are the functions of ``ops/``, attached in
``ops/__init__.py``. The ways out of the framework and the dtype and device moves (``x.item()``,
``x.numpy()``, ``x.to(...)``, ``x.float()``...) are in ``_tensor_conversions.py``, and its shape and size
(``x.shape``, ``x.size()``, ``x.numel()``...) in ``_tensor_shape.py``: mixins that Tensor inherits. This
file holds what is specific to the container: its construction and its autograd state.

Examples:
    >>> import minitorch_lsm as torch
    >>> x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y
    tensor(30., grad_fn=<SumBackward0>)
    >>> y.backward()
    >>> x.grad
    tensor([[2., 4.],
            [6., 8.]])
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

from . import _device, _dtype
from . import autograd as _autograd  # (half loaded here: it imports this module; whole before any backward)
from .autograd import grad_mode as _grad_mode
from ._dtype import dtype as DType
from ._tensor_conversions import TensorConversionsMixin
from ._tensor_shape import Size, TensorShapeMixin

__all__ = ["Tensor", "Size"]


NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be "
    "populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf "
    "Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
    "you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more information.")


def _check_assigned_grad(tensor: "Tensor", grad: Any) -> None:
    """PyTorch's checks on ``tensor.grad = grad``: a Tensor of the same size, dtype and device."""
    if not isinstance(grad, Tensor):
        kind = type(grad)
        name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__.split('.')[0]}.{kind.__name__}"
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {name}")
    if grad._data.shape != tensor._data.shape:  # (the arrays' tuples: .shape would build two torch.Size)
        raise RuntimeError(f"attempting to assign a gradient of size '{list(grad.shape)}' to a tensor of size "
                           f"'{list(tensor.shape)}'. Please ensure that the gradient and the tensor are the same size")
    if grad.dtype is not tensor.dtype:
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{_dtype.cpp_name(grad.dtype)}' to a tensor with grad_dtype "
            f"'{_dtype.torch_name(tensor.dtype)}'. The gradient must match the tensor's grad_dtype (defaults to the "
            "tensor's dtype). You can set the tensor's grad_dtype attribute with a specific dtype, or None to allow "
            "any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its gradient may break "
            "downstream systems that assume they match.")
    if grad.device != tensor.device:
        raise RuntimeError("assigned grad has data located on a different device")


class Tensor(TensorShapeMixin, TensorConversionsMixin):
    """A multi-dimensional array with a dtype, a device and (optionally) a gradient.

    Create tensors with the factories (``torch.tensor``, ``torch.zeros``, ...), not this class.

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.tensor([[1., 2.], [3., 4.]])
        >>> x.dtype, x.device, x.shape
        (torch.float32, device(type='cpu'), torch.Size([2, 2]))
    """

    __slots__ = ("_data", "dtype", "device", "_requires_grad", "_grad", "_grad_fn", "_version_cell",
                 "_wrapped", "_hooks", "_retains_grad", "_view", "_inference", "_output_nr", "__weakref__")
    __array_priority__ = 1000  # make ``ndarray + tensor`` call Tensor.__radd__

    _data: Any
    dtype: DType
    """The type of every element: Python floats give the default dtype (float32), ints int64, bools bool.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([1, 2]).dtype, torch.tensor([1., 2.]).dtype
        (torch.int64, torch.float32)
    """
    device: _device.device
    """Where the data lives: ``device(type='cpu')``, or ``device(type='cuda', index=i)`` on a GPU.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.zeros(2).device
        device(type='cpu')
    """
    _grad: "Tensor | None"
    _grad_fn: Any
    _output_nr: int | None  # which output of ``_grad_fn`` this is, for a node with several (else None)
    _view: Any

    @classmethod
    def _from_array(cls, array: Any, device: _device.device, wrapped: bool = False) -> "Tensor":
        """Wrap an array (no copy). ``wrapped`` marks a Python scalar taking part in an op."""
        t = object.__new__(cls)
        t._data = array
        # (the table first: every op makes a tensor, and the call of from_numpy_dtype costs more than the lookup)
        t.dtype = _dtype._FROM_NUMPY.get(array.dtype) or _dtype.from_numpy_dtype(array.dtype)
        t.device = device
        t._requires_grad = t._retains_grad = False
        t._grad = t._grad_fn = t._hooks = t._view = t._output_nr = None
        t._version_cell = [0]
        t._wrapped = wrapped
        t._inference = _grad_mode._state.inference
        return t

    def __hash__(self) -> int:
        return id(self)

    # ------------------------------------------------------------------ autograd state
    @property
    def requires_grad(self) -> bool:
        """Whether autograd records ops on this tensor: set on a leaf, and true for the result of any
        recorded op (grad mode on) with an input that requires grad.

        Only floating point tensors can require grad; only a leaf's flag can be assigned. (A view made
        under ``no_grad`` of a base that requires grad says True too, as in PyTorch; see ``ViewInfo``.)

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.ones(2, requires_grad=True)
            >>> x.requires_grad, (x * 2).requires_grad, x.detach().requires_grad
            (True, True, False)
        """
        return self._requires_grad if self._view is None else self._view.requires_grad_of(self)

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self._inference and not _grad_mode._state.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")
        if value and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        if self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables." + (
                "" if value else " If you want to use a computed variable in a subgraph that doesn't require "
                "differentiation use var_no_grad = var.detach()."))
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place (on a leaf) and return self.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.zeros(2).requires_grad_()
            tensor([0., 0.], requires_grad=True)
        """
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")  # sic: not the setter's words
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self) -> "Tensor | None":
        """The gradient that backward accumulated into this leaf (or a ``retain_grad()`` non-leaf), else None.

        Each backward adds to it: ``x.grad += d(output)/dx``. Reading it (still None) on another non-leaf
        warns, as in PyTorch: only ``backward(inputs=[it])`` fills it there. Assigning checks the value has the tensor's shape, dtype and device.

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.tensor([1., 2.], requires_grad=True)
            >>> (x * x).sum().backward()
            >>> x.grad
            tensor([2., 4.])
        """
        if self._grad is None and self._grad_fn is not None and not self._retains_grad:
            warnings.warn(NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None:
            _check_assigned_grad(self, value)
        self._grad = value

    @property
    def grad_fn(self) -> Any:
        """The tape node that produced this tensor (None for a leaf).

        A view whose base changed in place since its node was made gets a new one first: the view
        redone on the base's new history, as PyTorch regenerates a view's ``grad_fn``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.ones(2, requires_grad=True)
            >>> (x * 2).grad_fn.name(), x.grad_fn
            ('MulBackward0', None)
        """
        view = self._view
        if view is not None and view.version != self._version_cell[0]:
            view.refresh(self)
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, node: Any) -> None:
        # Internal: a history set from outside replaces the one derived from a base (the tensor stops
        # being tracked as a view). PyTorch does not allow assigning grad_fn at all.
        self._grad_fn, self._view, self._output_nr = node, None, None

    def _set_history(self, node: Any, requires_grad: bool, output_nr: int | None = None) -> None:
        """Internal: make ``node`` (output ``output_nr`` of it, for a node with several) this tensor's history.
        As in PyTorch, ``retain_grad()`` moves along to it (an in-place change: ``.grad`` is the new value's
        gradient); hooks stay with the node they were registered on."""
        if self._retains_grad and node is not self._grad_fn:
            from .autograd.hooks import move_retain_grad
            move_retain_grad(self, node, output_nr)
        self._grad_fn, self._requires_grad, self._output_nr = node, requires_grad, output_nr

    @property
    def _base(self) -> "Tensor | None":
        """The tensor whose memory this view shares, or None if it is not a view."""
        return None if self._view is None else self._view.base

    def _is_view(self) -> bool:
        """True if this tensor is a view of another (``x[1:]``, ``x.t()``, ``x.reshape(...)`` of contiguous x)."""
        return self._view is not None

    def is_inference(self) -> bool:
        """True for a tensor made inside ``inference_mode()`` (views and ``detach()`` keep their source's flag).

        Such a tensor never takes part in autograd: outside the mode it cannot be changed in place, be
        saved for backward, or be given ``requires_grad=True``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.ones(2)
            >>> with torch.inference_mode():
            ...     y = x * 2
            >>> y.is_inference(), x.is_inference(), y.clone().is_inference()
            (True, False, False)
        """
        return self._inference

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (``grad_fn is None``); backward fills the ``.grad``
        of the leaves that require grad.

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.ones(2, requires_grad=True)
            >>> x.is_leaf, (x * 2).is_leaf, torch.ones(2).is_leaf
            (True, False, True)
        """
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        return self._version_cell[0]

    def _bump_version(self) -> None:
        self._version_cell[0] += 1

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data, cut off from the graph (``requires_grad=False``).

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.ones(2, requires_grad=True)
            >>> d = x.detach(); d[0] = 5.
            >>> x
            tensor([5., 1.], requires_grad=True)
        """
        out = Tensor._from_array(self._data, self.device)
        out._version_cell, out._inference = self._version_cell, self._inference
        return out

    def detach_(self) -> "Tensor":
        """Cut this tensor off from the graph in place, making it a leaf (a view cannot: use ``detach()``).

        Examples:
            >>> import minitorch_lsm as torch
            >>> y = torch.ones(2, requires_grad=True) * 2
            >>> y.detach_(), y.is_leaf
            (tensor([2., 2.]), True)
        """
        if self._view is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) "
                "for training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and "
                "hence detach_() cannot be called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        self._set_history(None, False)
        self._retains_grad = False
        return self

    @property
    def data(self) -> "Tensor":
        """The same memory as a detached tensor (``x.data``) but, unlike ``detach()``, with a version
        counter of its own: autograd does not see changes made through it (the old way to update weights).
        Assigning replaces the values (and dtype, device), keeping the tensor's autograd flags.

        Examples:
            >>> import minitorch_lsm as torch
            >>> w = torch.ones(2, requires_grad=True)
            >>> w.data.add_(1); w._version
            tensor([2., 2.])
            0
            >>> w.data = torch.tensor([3., 4.])
            >>> w, w.data
            (tensor([3., 4.], requires_grad=True), tensor([3., 4.]))
        """
        out = Tensor._from_array(self._data, self.device)
        out._inference = self._inference
        return out

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._data, self.dtype, self.device = value._data, value.dtype, value.device

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (on a leaf it changes nothing).

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.tensor([1., 2.], requires_grad=True)
            >>> y = x * 3; y.retain_grad()
            >>> (y * y).sum().backward(); y.grad
            tensor([ 6., 12.])
        """
        from .autograd.hooks import weak_grad_setter

        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self._retains_grad:
            self.grad_fn._set_retain_grad_hook(weak_grad_setter(self), self._output_nr)
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor after ``retain_grad()``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> y = torch.ones(1, requires_grad=True) * 2
            >>> y.retain_grad(); y.retains_grad
            True
        """
        return self._retains_grad

    def register_hook(self, hook: Callable[["Tensor"], "Tensor | None"]) -> Any:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it.

        Returns a handle whose ``remove()`` unregisters the hook.

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.tensor([1., 2.], requires_grad=True)
            >>> handle = x.register_hook(lambda g: g * 10)
            >>> (x * x).sum().backward(); x.grad
            tensor([20., 40.])
        """
        from .autograd.hooks import RemovableHandle

        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._register_tensor_hook(hook, self._output_nr)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    def backward(self, gradient: "Tensor | None" = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Accumulate ``gradient`` times d(self)/d(leaf) into each leaf's ``.grad``; see ``autograd.backward``.

        ``gradient`` (d(loss)/d(self)) may be left out for a one-element tensor: it is then 1.

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.tensor([1., 2., 3.], requires_grad=True)
            >>> (x * 2).backward(torch.tensor([1., 0.1, 0.01])); x.grad
            tensor([2.0000, 0.2000, 0.0200])
        """
        _autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)
