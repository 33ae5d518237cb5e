"""Views and autograd: how a view remembers its base, so an in-place change can rebase the history.

A view (``x[1:]``, ``x.t()``, a reshape that shares memory) keeps a :class:`ViewInfo`: its base and
the view ops that lead from the base to it. When the base's values change in place, through this
view, a sibling view or the base itself, the shared version counter moves on and the view's next
``grad_fn`` is the replay of those ops on the base's new history (PyTorch's view replay).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .grad_mode import _state

if TYPE_CHECKING:
    from ..tensor import Tensor
    from .function import Function

__all__ = ["ViewInfo", "replay_view"]


class ViewInfo:
    """What a view remembers so autograd can redo it on its base (PyTorch's view replay).

    * ``base``  - the tensor that owns the memory (never itself a view);
    * ``steps`` - the view ops from ``base`` to the view, as ``(Function subclass, params)``;
    * ``version`` - the shared version counter's value when the view's ``grad_fn`` was last derived;
    * ``in_no_grad`` - the view was made with grad mode off, so it has no history to redo.

    When the base's values change in place (through this view, a sibling view or the base itself) the
    version moves on, and the view's next ``grad_fn`` is the replay of ``steps`` on the base's new history.

    Examples:
        >>> import minitorch_lsm as torch
        >>> base = torch.zeros(3, requires_grad=True).clone()
        >>> info = base[1:]._view
        >>> info.base is base, [cls.__name__ for cls, _ in info.steps]
        (True, ['Slice'])
    """

    __slots__ = ("base", "steps", "version", "in_no_grad")

    def __init__(self, base: "Tensor", steps: tuple[tuple[type[Function], dict[str, Any]], ...], version: int,
                 in_no_grad: bool) -> None:
        self.base, self.steps, self.version, self.in_no_grad = base, steps, version, in_no_grad

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
        if parent is None:
            return ViewInfo(source, ((cls, params),), version, not _state.grad_enabled)
        return ViewInfo(parent.base, parent.steps + ((cls, params),), version,
                        parent.in_no_grad or not _state.grad_enabled)

    def refresh(self, view: "Tensor") -> None:
        """Give ``view`` the history of its steps redone on the base, after the base changed in place.

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.ones(3, requires_grad=True)
            >>> base = x.clone(); view = base[1:]
            >>> _ = base.mul_(2); view.sum().backward(); x.grad  # the view now depends on x through mul_
            tensor([0., 2., 2.])
        """
        self.version = view._version_cell[0]
        if self.in_no_grad or (view._grad_fn is None and not self.base._requires_grad):
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
