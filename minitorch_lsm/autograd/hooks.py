"""What ``register_hook`` and ``retain_grad`` leave behind: a handle that removes a hook, and the store
that keeps a non-leaf's gradient in ``.grad``."""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["RemovableHandle", "weak_grad_setter"]


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook off again.

    Examples:
        >>> import minitorch_lsm as torch
        >>> handle = torch.ones(1, requires_grad=True).register_hook(lambda g: g)
        >>> type(handle).__name__
        'RemovableHandle'
    """

    def __init__(self, hooks: list[Any], hook: Any) -> None:
        self.hooks, self.hook = hooks, hook

    def remove(self) -> None:
        """Unregister the hook (doing it twice is harmless).

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.ones(1, requires_grad=True)
            >>> handle = x.register_hook(lambda g: g * 10); handle.remove()
            >>> (x * 3).sum().backward(); x.grad
            tensor([3.])
        """
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def weak_grad_setter(tensor: "Tensor") -> Callable[["Tensor"], None]:
    """A hook for ``retain_grad``: stores (a copy of) the gradient on a non-leaf, adding to what is there,
    without keeping the tensor alive.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.autograd.hooks import weak_grad_setter
        >>> w = torch.zeros(1); store = weak_grad_setter(w)
        >>> store(torch.tensor([5.])); store(torch.tensor([1.])); w.grad
        tensor([6.])
    """
    ref = weakref.ref(tensor)

    def store(grad: "Tensor") -> None:
        target = ref()
        if target is not None:  # a copy: the same gradient may flow on and become some leaf's .grad
            target.grad = grad.clone() if target.grad is None else target.grad + grad
    return store


def move_retain_grad(tensor: "Tensor", node: Any, output_nr: int | None) -> None:
    """``tensor.retain_grad()``'s store, moved from its current node to ``node`` (output ``output_nr``),
    which is about to become its history: an in-place change, as in PyTorch, retains the new value's gradient."""
    if tensor._grad_fn is not None:
        tensor._grad_fn._set_retain_grad_hook(None, tensor._output_nr)
    if node is not None:
        node._set_retain_grad_hook(weak_grad_setter(tensor), output_nr)
