"""PyTorch's way of writing an op: a ``Function`` subclass with static ``forward(ctx, *args)`` and
``backward(ctx, *grad_outputs)``, called as ``MyFn.apply(*args)`` (what PyTorch's tutorials teach).

This library's own ops are written on raw arrays (``function.py``). A subclass written PyTorch's way is
fitted onto the same mechanism when its class is made (``Function.__init_subclass__`` calls
:func:`make_torch_style`), so the engine runs it like any other node:

* ``MyFn.apply`` calls ``forward`` on the arguments themselves (Tensors and anything else), with grad mode off;
* the ``ctx`` it passes *is* the tape node: an instance of the generated class ``MyFnBackward`` (a
  :class:`CustomFunctionNode`), whose edges lead to the histories of the tensor arguments;
* in backward the engine calls the node's ``backward``, which hands one gradient per output (zeros for an
  output that got none, unless ``ctx.set_materialize_grads(False)``) to ``MyFn.backward(ctx, *grads)``
  and checks what comes back: one gradient per forward argument (None for a non-tensor one), of a shape
  the argument's shape broadcasts to (the engine sums it back and casts it to the argument's dtype).

``MyFn.backward`` is written with Tensor ops, so gradients of gradients (``create_graph=True``) come
free, as for every op; ``@once_differentiable`` says they should not.

Examples:
    >>> import minitorch_lsm as torch
    >>> class Exp(torch.autograd.Function):      # d exp(x) = exp(x) dx
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         result = x.exp()
    ...         ctx.save_for_backward(result)
    ...         return result
    ...     @staticmethod
    ...     def backward(ctx, grad_output):
    ...         (result,) = ctx.saved_tensors
    ...         return grad_output * result
    >>> x = torch.tensor([0., 1.], requires_grad=True)
    >>> y = Exp.apply(x); y.sum().backward(); y, x.grad
    (tensor([1.0000, 2.7183], grad_fn=<ExpBackward>), tensor([1.0000, 2.7183]))
"""
from __future__ import annotations

import functools
import inspect
import warnings
from typing import Any, Callable, ClassVar

from .. import _device
from ..tensor import Tensor
from .function import FREED_MESSAGE, INFERENCE_SAVED_MESSAGE, Function, _raise_modified
from .grad_mode import _state, no_grad
from .views import IN_CUSTOM_FUNCTION, IN_MULTI_OUTPUT_FUNCTION

__all__ = ["CustomFunctionNode", "make_torch_style", "once_differentiable"]

DIRTY_NOT_RETURNED = ("Some elements marked as dirty during the forward method were not returned as output. The "
                      "inputs that are modified inplace must all be outputs of the Function.")
NO_BACKWARD = ("You must implement either the backward or vjp method for your custom autograd.Function to use it "
               "with backward mode AD.")
ONCE_DIFFERENTIABLE = "trying to differentiate twice a function that was marked with @once_differentiable"


def make_torch_style(cls: type) -> None:
    """Fit a subclass written PyTorch's way onto the op mechanism: give it the node class its ``apply``
    records (``<Name>Backward``) and PyTorch's ``apply``; instances warn, and calling one raises."""
    name = f"{cls.__name__}Backward"
    cls._backward_cls = type(name, (CustomFunctionNode,),
                             {"_forward_cls": cls, "node_name": name, "__module__": Function.__module__})
    cls.apply = classmethod(_apply)
    cls.__init__ = _warn_instantiated
    cls.__call__ = _refuse_call


def _warn_instantiated(self: Any, *args: Any, **kwargs: Any) -> None:
    warnings.warn(f"{type(self)} should not be instantiated. Methods on autograd functions are all static, so you "
                  "should invoke them on the class itself. Instantiating an autograd function will raise an error in "
                  "a future version of PyTorch.", DeprecationWarning, stacklevel=2)


def _refuse_call(self: Any, *args: Any, **kwargs: Any) -> None:
    raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. Please use new-style "
                       "autograd function with static forward method. (Example: "
                       "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")


def _apply(cls: Any, *args: Any, **kwargs: Any) -> Any:
    """``MyFn.apply(*args)``: run ``forward`` with grad mode off and, when grad mode is on and a tensor
    argument requires grad, make its tensor outputs the outputs of one ``MyFnBackward`` node."""
    uses_setup_context = isinstance(inspect.getattr_static(cls, "setup_context", None), staticmethod)
    if uses_setup_context:  # as PyTorch: the defaults of forward's signature are passed on as arguments
        bound = inspect.signature(cls.forward).bind(*args, **kwargs)
        bound.apply_defaults()
        args, kwargs = bound.args, bound.kwargs
    if not isinstance(inspect.getattr_static(cls, "forward"), staticmethod):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")
    tensors = [a for a in args if isinstance(a, Tensor)]
    recording = _state.grad_enabled and not _state.inference and any(t._requires_grad for t in tensors)
    ctx = cls._backward_cls.__new__(cls._backward_cls)
    ctx._begin(args, recording)
    if recording:  # the edges first: forward may change an argument in place (ctx.mark_dirty)
        ctx._record(tensors, None)
    with no_grad():
        if uses_setup_context:
            output = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, output)
        else:
            output = cls.forward(ctx, *args, **kwargs)
    several = isinstance(output, tuple)
    outputs = ctx._finish(tensors, output if several else (output,), recording)
    return outputs if several else outputs[0]


class CustomFunctionNode(Function):
    """The ``ctx`` of a PyTorch-style Function and the node it records: ``ctx.save_for_backward``,
    ``ctx.saved_tensors``, ``ctx.needs_input_grad``, ``ctx.mark_dirty``, ``ctx.mark_non_differentiable``,
    ``ctx.set_materialize_grads``, plus any attribute forward sets (``ctx.k = 3``).

    Examples:
        >>> import minitorch_lsm as torch
        >>> class Scale(torch.autograd.Function):   # d (k x) = k dx; k is no tensor: its gradient is None
        ...     @staticmethod
        ...     def forward(ctx, x, k):
        ...         ctx.k = k
        ...         return x * k
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         return grad * ctx.k, None
        >>> y = Scale.apply(torch.ones(2, requires_grad=True), 3.0)
        >>> y.grad_fn.needs_input_grad, y.grad_fn.k
        ((True, False), 3.0)
    """

    _forward_cls: ClassVar[Any]
    _arg_is_tensor: tuple[bool, ...]
    _needs_input_grad: tuple[bool, ...]
    _to_save: tuple[Any, ...] | None
    _dirty: tuple[Tensor, ...]
    _non_differentiable: tuple[Tensor, ...]
    _materialize: bool
    _output_meta: tuple[Any, ...]  # per output: (shape, dtype, device) of a tensor, None for anything else
    runs_without_gradients = True  # MyFn.backward gets zeros (or None) when no gradient came, as in PyTorch

    def _begin(self, args: tuple[Any, ...], recording: bool) -> None:
        self._arg_is_tensor = tuple(isinstance(a, Tensor) for a in args)
        self._needs_input_grad = tuple(recording and isinstance(a, Tensor) and a._requires_grad for a in args)
        self._to_save, self._dirty, self._non_differentiable, self._materialize = None, (), (), True

    # -------------------------------------------------------------- what forward calls
    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep these tensors (or None) for backward, which reads them back from ``ctx.saved_tensors``,
        checked against in-place changes since forward."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self._to_save = tensors

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Say that forward changed these arguments in place; forward must return them."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Say that these outputs carry no gradient (indices, masks): they do not require grad."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward gets None (not zeros) for an output that received no gradient."""
        self._materialize = value

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """For each argument of forward, whether its gradient goes anywhere (False for a non-tensor)."""
        return self._needs_input_grad

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        """What forward passed to ``save_for_backward``, checked against in-place changes since then."""
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)
        tensors = []
        for entry in self.saved or ():
            if entry is None or isinstance(entry[0], Tensor):
                tensor, version = entry or (None, None)
                if tensor is not None and tensor._version_cell[0] != version:
                    _raise_modified(tensor._version_cell[0], version, tensor.shape, tensor.dtype, tensor.device,
                                    tensor.grad_fn)
            else:  # one of this node's outputs, kept as its array: the tensor would hold this node alive
                data, cell, version, output_nr = entry
                device = _device.array_device(data)
                tensor = Tensor._from_array(data, device)
                if cell[0] != version:
                    _raise_modified(cell[0], version, tuple(data.shape), tensor.dtype, device, self)
                tensor._version_cell = cell
                tensor._set_history(self, True, output_nr)
            tensors.append(tensor)
        return tuple(tensors)

    # -------------------------------------------------------------- after forward
    def _finish(self, tensors: list[Tensor], outputs: tuple[Any, ...], recording: bool) -> tuple[Any, ...]:
        """The outputs ``apply`` returns: an argument returned as it is becomes a new tensor over the same
        memory, and, when recording, each differentiable tensor output becomes an output of this node."""
        dirty = {id(t) for t in self._dirty}
        if not dirty <= {id(o) for o in outputs}:
            raise RuntimeError(DIRTY_NOT_RETURNED)
        arguments = {id(t) for t in tensors}
        non_differentiable = {id(t) for t in self._non_differentiable}
        returned = []
        for o in outputs:  # an argument returned as it is: a view of it, or (under no_grad, or marked
            if id(o) in arguments and id(o) not in dirty:  # non-differentiable) a detached alias, as in PyTorch
                detached = not _state.grad_enabled or id(o) in non_differentiable
                o = _alias(o) if detached else _view_of_all(o)
                if detached:
                    non_differentiable.add(id(o))
            returned.append(o)
        outputs = tuple(returned)
        if not recording:
            for t in self._dirty:
                t._bump_version()  # (as PyTorch: once more for being marked dirty)
            return outputs
        self.num_outputs = len(outputs)
        made_in = IN_MULTI_OUTPUT_FUNCTION if sum(isinstance(o, Tensor) for o in outputs) > 1 else IN_CUSTOM_FUNCTION
        for k, out in enumerate(outputs):
            if not isinstance(out, Tensor):
                continue
            differentiable = out.dtype.is_floating_point and id(out) not in non_differentiable
            output_nr = None if len(outputs) == 1 else k
            if id(out) in dirty:
                _rebase_dirty(self, out, output_nr, differentiable)
            elif differentiable:
                out._set_history(self, True, output_nr)
                if out._view is not None:  # its history is this node, which no view replay may replace
                    out._view.made_in = made_in
        self._output_meta = tuple((o._data.shape, o.dtype, o.device) if isinstance(o, Tensor) else None
                                  for o in outputs)
        if self._to_save is not None:
            self.saved = tuple(self._saved_entry(t, outputs) for t in self._to_save)
        self._to_save, self._dirty, self._non_differentiable = None, (), ()  # (a dirty output would hold its node)
        return outputs

    def _saved_entry(self, t: Tensor | None, outputs: tuple[Any, ...]) -> Any:
        if t is None:
            return None
        if t._inference:
            raise RuntimeError(INFERENCE_SAVED_MESSAGE)
        for k, out in enumerate(outputs):
            if out is t and t._grad_fn is self:
                return (t._data, t._version_cell, t._version_cell[0], t._output_nr)
        return (t, t._version_cell[0])

    # -------------------------------------------------------------- what the engine calls
    def backward(self, grad: Any) -> tuple[Tensor | None, ...]:
        """The gradients of the tensor arguments: ``MyFn.backward(ctx, *grads)``, checked."""
        grads = (grad,) if self.num_outputs == 1 else grad or (None,) * self.num_outputs
        if self._materialize:
            from .._creation import zeros  # (a module above autograd's)
            grads = tuple(zeros(meta[0], dtype=meta[1], device=meta[2]) if g is None and meta else g
                          for g, meta in zip(grads, self._output_meta))
        if not isinstance(inspect.getattr_static(self._forward_cls, "backward"), staticmethod):
            raise NotImplementedError(NO_BACKWARD)
        returned = self._forward_cls.backward(self, *grads)
        return self._argument_grads(returned if isinstance(returned, tuple) else (returned,))

    def _argument_grads(self, returned: tuple[Any, ...]) -> tuple[Tensor | None, ...]:
        """PyTorch's checks of what a custom backward returned; the gradients of the tensor arguments."""
        expected = len(self._arg_is_tensor)
        if len(returned) < expected or any(g is not None for g in returned[expected:]):
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients (expected "
                               f"{expected}, got {len(returned)})")
        grads = []
        for position, (grad, is_tensor) in enumerate(zip(returned, self._arg_is_tensor)):
            if grad is not None and not isinstance(grad, Tensor):
                raise RuntimeError(f"expected Variable or None (got {type(grad).__name__})")
            if not is_tensor:
                if grad is not None:
                    raise RuntimeError(f"function {self.name()} returned a gradient different than None at position "
                                       f"{position + 1}, but the corresponding forward input was not a Variable")
                continue
            if grad is not None:
                shape = self.input_meta[len(grads)][0]
                if not _broadcasts_to(shape, tuple(grad._data.shape)):
                    raise RuntimeError(f"Function {self.name()} returned an invalid gradient at index {len(grads)} - "
                                       f"got {list(grad.shape)} but expected shape compatible with {list(shape)}")
            grads.append(grad)
        return tuple(grads)

    def __repr__(self) -> str:
        return f"<{Function.__module__}.{self.name()} object at {id(self):#x}>"


def _view_of_all(t: Tensor) -> Tensor:
    """What ``apply`` returns for an argument forward returned as it is: a view of all of it, made in no_grad
    mode (PyTorch's view_as of itself)."""
    from ..ops.shape import View  # (a module above autograd's)
    with no_grad():
        return View.apply(t, shape=tuple(t.shape))


def _alias(t: Tensor) -> Tensor:
    """A new tensor over ``t``'s memory and version counter, with no history and not a view (what ``apply``
    returns for an argument under no_grad or marked non-differentiable; a dirty view's stand-in)."""
    out = Tensor._from_array(t._data, t.device)
    out._version_cell, out._inference = t._version_cell, t._inference
    return out


def _rebase_dirty(node: CustomFunctionNode, t: Tensor, output_nr: int | None, differentiable: bool) -> None:
    """An argument forward changed in place (``mark_dirty``) takes ``node`` as its history, as an in-place op's
    destination does; for a view, the base's history is rebased (CopySlices) and the view redone on it. As
    in PyTorch, its version moves on once more."""
    if t._requires_grad and t.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
    view = t._view
    if view is None:
        t._set_history(node if differentiable else None, differentiable, output_nr)
        t._bump_version()
        return
    from ..ops.inplace import CopySlices  # (the one autograd import of an op: in-place through a view)
    changed = _alias(t)
    changed._set_history(node, differentiable, output_nr)
    rebased = CopySlices.apply(view.base, changed, steps=view.steps)
    view.base._set_history(rebased.grad_fn, rebased.requires_grad)
    t._bump_version()  # (also the view's next grad_fn: its view op redone on the base's new history)


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """True when ``shape`` broadcasts to ``target`` (a gradient of ``target``'s shape can be summed back)."""
    if len(shape) > len(target):
        return False
    return all(n == m or n == 1 for n, m in zip(reversed(shape), reversed(target)))


class DelayedError(Function):
    """The node ``@once_differentiable`` puts after a backward's results: differentiating it raises."""

    node_name = "Error"  # (PyTorch's name for it)

    def forward(self, x: Any) -> Any:
        return x

    def backward(self, grad: Tensor) -> Tensor:
        raise RuntimeError(ONCE_DIFFERENTIABLE)


def once_differentiable(backward: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a custom ``backward`` that is not itself differentiable: it runs with grad mode off, and a
    gradient of its results (``create_graph=True``, then a second backward) raises.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.autograd.function import once_differentiable
        >>> class Square(torch.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     @once_differentiable
        ...     def backward(ctx, grad):
        ...         (x,) = ctx.saved_tensors
        ...         return grad * 2 * x
        >>> x = torch.tensor([3.], requires_grad=True)
        >>> torch.autograd.grad(Square.apply(x), x)
        (tensor([6.]),)
    """
    @functools.wraps(backward)
    def wrapper(ctx: Any, *grads: Any) -> Any:
        with no_grad():
            results = backward(ctx, *grads)
        if not _state.grad_enabled or not any(isinstance(g, Tensor) and g.requires_grad for g in grads):
            return results
        several = isinstance(results, tuple)
        wrapped = tuple(DelayedError.apply(r.detach().requires_grad_()) if isinstance(r, Tensor) else r
                        for r in (results if several else (results,)))
        return wrapped if several else wrapped[0]
    return wrapper
