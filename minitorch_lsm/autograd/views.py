"""Views and autograd: how a view remembers its base, so an in-place change can rebase the history.

A view (``x[1:]``, ``x.t()``, a reshape that shares memory) keeps a :class:`ViewInfo`: its base and
the view ops that lead from the base to it. When the base's values change in place, through this
view, a sibling view or the base itself, the shared version counter moves on and the view's next
``grad_fn`` is the replay of those ops on the base's new history (PyTorch's view replay).
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .grad_mode import _state

if TYPE_CHECKING:
    from ..tensor import Tensor
    from .function import Function

__all__ = ["ViewInfo", "replay_view"]

# Where a view was made, which decides what an in-place change may do with it (PyTorch's CreationMeta).
# A view made in a custom Function's forward has that Function's backward as its history, which a rebase
# onto the base's history would silently replace: PyTorch forbids changing it, or its base, in place.
IN_GRAD_MODE, IN_NO_GRAD, IN_CUSTOM_FUNCTION, IN_MULTI_OUTPUT_FUNCTION = (
    "grad mode", "no_grad", "a custom Function", "a custom Function with several outputs")
_FORBIDDEN_BECAUSE = {
    IN_CUSTOM_FUNCTION: "This view was created inside a custom Function (or because an input was returned as-is) "
                        "and the autograd logic to handle view+inplace would override the custom backward "
                        "associated with the custom Function, leading to incorrect gradients. This behavior is "
                        "forbidden. You can fix this by cloning the output of the custom Function.",
    IN_MULTI_OUTPUT_FUNCTION: "This view is the output of a function that returns multiple views. Such functions do "
                              "not allow the output views to be modified inplace. You should replace the inplace "
                              "operation by an out-of-place one.",
}


class ViewInfo:
    """What a view remembers so autograd can redo it on its base (PyTorch's view replay).

    * ``base``  - the tensor that owns the memory (never itself a view);
    * ``steps`` - the view ops from ``base`` to the view, as ``(Function subclass, params)``;
    * ``version`` - the shared version counter's value when the view's ``grad_fn`` was last derived;
    * ``made_in`` - where the view was made: ``IN_GRAD_MODE``; ``IN_NO_GRAD`` (it has no history to redo);
      ``IN_CUSTOM_FUNCTION`` or ``IN_MULTI_OUTPUT_FUNCTION`` (it may not be changed in place). A view
      made in grad mode of another view inherits the other's; one made under no_grad is ``IN_NO_GRAD``.

    When the base's values change in place (through this view, a sibling view or the base itself) the
    version moves on, and the view's next ``grad_fn`` is the replay of ``steps`` on the base's new history.

    Examples:
        >>> import minitorch_lsm as torch
        >>> base = torch.zeros(3, requires_grad=True).clone()
        >>> info = base[1:]._view
        >>> info.base is base, [cls.__name__ for cls, _ in info.steps]
        (True, ['Slice'])
    """

    __slots__ = ("base", "steps", "version", "made_in")

    def __init__(self, base: "Tensor", steps: tuple[tuple[type[Function], dict[str, Any]], ...], version: int,
                 made_in: str) -> None:
        self.base, self.steps, self.version, self.made_in = base, steps, version, made_in

    @staticmethod
    def extend(source: "Tensor", cls: type[Function], params: dict[str, Any], version: int) -> "ViewInfo":
        """The view info of ``cls.apply(source, **params)``: one more step from ``source``'s base.

        Examples:
            >>> import minitorch_lsm as torch
            >>> base = torch.zeros(2, 3)
            >>> info = base[1:].t()._view  # extended twice: a slice, then a transpose
            >>> info.base is base, len(info.steps)
            (True, 2)
        """
        parent = source._view
        made_in = IN_GRAD_MODE if _state.grad_enabled else IN_NO_GRAD
        if parent is None:
            return ViewInfo(source, ((cls, params),), version, made_in)
        return ViewInfo(parent.base, parent.steps + ((cls, params),), version,
                        parent.made_in if made_in is IN_GRAD_MODE else made_in)

    def requires_grad_of(self, view: "Tensor") -> bool:
        """``view.requires_grad``, after a refresh if the base changed in place (not for a view a custom
        Function made: reading its flag is allowed, as in PyTorch; using it raises). A view made under
        no_grad says True when its base requires grad, as in PyTorch: ops on it record, though no gradient
        reaches the view or its base that way, and changing it in place with grad mode on is refused.

        Examples:
            >>> import minitorch_lsm as torch
            >>> base = torch.zeros(3); view = base[1:]
            >>> _ = base.add_(torch.ones(3, requires_grad=True)); view.requires_grad
            True
            >>> w = torch.ones(3, requires_grad=True)
            >>> with torch.no_grad():
            ...     head = w[:2]
            >>> head.requires_grad, head.grad_fn, (head * 2).grad_fn
            (True, None, <MulBackward0 object at ...>)
        """
        if self.version != view._version_cell[0] and self.made_in not in _FORBIDDEN_BECAUSE:
            self.refresh(view)
        return view._requires_grad or (self.made_in is IN_NO_GRAD and self.base._requires_grad)

    def refresh(self, view: "Tensor") -> None:
        """Give ``view`` the history of its steps redone on the base, after the base changed in place.

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.ones(3, requires_grad=True)
            >>> base = x.clone(); view = base[1:]
            >>> _ = base.mul_(2); view.sum().backward(); x.grad  # the view now depends on x through mul_
            tensor([0., 2., 2.])
        """
        if self.made_in in _FORBIDDEN_BECAUSE:
            raise RuntimeError(forbidden_view_change(view, "its base or another view of its base has been modified "
                                                           "inplace"))
        self.version = view._version_cell[0]
        if self.made_in is IN_NO_GRAD or (view._grad_fn is None and not self.base._requires_grad):
            return
        previous, _state.grad_enabled = _state.grad_enabled, True
        try:
            fresh = replay_view(self.steps, self.base)
        finally:
            _state.grad_enabled = previous
        view._set_history(fresh._grad_fn, fresh._requires_grad)


def replay_view(steps: tuple[tuple[type[Function], dict[str, Any]], ...], tensor: "Tensor") -> "Tensor":
    """Apply a view's ops (``ViewInfo.steps``) to ``tensor``, shaped like its base: differentiable, as any op.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.autograd.views import replay_view
        >>> steps = torch.zeros(3)[1:]._view.steps
        >>> replay_view(steps, torch.tensor([1., 2., 3.]))
        tensor([2., 3.])
    """
    for cls, params in steps:
        tensor = cls.apply(tensor, **params)
    return tensor


def forbidden_view_change(view: "Tensor", change: str) -> str:
    """PyTorch's error for changing in place a view made in a custom Function, or its base.

    Examples:
        >>> import minitorch_lsm as torch
        >>> class Head(torch.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         return x[:1]
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         return torch.cat([grad, torch.zeros(1)])
        >>> Head.apply(torch.ones(2, requires_grad=True).clone()).mul_(2)
        Traceback (most recent call last):
        RuntimeError: Output 0 of Head is a view and is being modified inplace. This view was created inside ...
    """
    node = view._grad_fn
    name = re.sub(r"Backward\d*$", "", node.name()) if node is not None else "None"
    return f"Output {view._output_nr or 0} of {name} is a view and {change}. {_FORBIDDEN_BECAUSE[view._view.made_in]}"
