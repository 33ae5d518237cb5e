"""Autograd: the tape (``Function`` nodes), the engine, grad mode, anomaly detection, gradient checking.

Examples:
    >>> import minitorch_lsm as torch
    >>> x = torch.tensor(3., requires_grad=True)
    >>> (dx,) = torch.autograd.grad(x ** 3, x, create_graph=True)
    >>> dx, torch.autograd.grad(dx, x)[0]
    (tensor(27., grad_fn=<MulBackward0>), tensor(18.))
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .engine import accumulate_grad, run_backward
from .function import Function
from .grad_mode import _state, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck
from .tape import Tape, tape

from ..tensor import Tensor  # loaded by now: function.py imports it

__all__ = ["backward", "grad", "Function", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "gradcheck", "gradgradcheck", "Tape", "tape", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled"]


def _as_sequence(value: Any) -> list[Any]:
    if value is None:
        return [None]
    return [value] if isinstance(value, Tensor) else list(value)


CREATE_GRAPH_CYCLE_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter and its "
    "gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to avoid "
    "this. If you have to use this function, make sure to reset the .grad fields of your parameters to None "
    "after use to break the cycle and avoid the leak.")


def backward(tensors: "Tensor | Sequence[Tensor]", grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Any = None) -> None:
    """Accumulate the gradients of ``tensors`` into ``.grad`` of the leaves they depend on.

    ``grad_tensors`` is d(loss)/d(tensors) (may be omitted for one-element tensors). The graph's saved
    tensors are freed afterwards unless ``retain_graph`` (which defaults to ``create_graph``).
    ``inputs`` limits accumulation to those tensors. Each leaf gets ``leaf.grad += sum_i J_i^T grad_tensors[i]``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.tensor([1., 2.], requires_grad=True)
        >>> torch.autograd.backward([x * x, x.sum()], [torch.ones(2), torch.tensor(10.)]); x.grad
        tensor([12., 14.])
    """
    roots = _as_sequence(tensors)
    grads = _as_sequence(grad_tensors) if grad_tensors is not None else [None] * len(roots)
    if len(grads) != len(roots):
        raise RuntimeError(f"got {len(roots)} tensors and {len(grads)} gradients")
    retain = create_graph if retain_graph is None else retain_graph
    if create_graph:
        warnings.warn(CREATE_GRAPH_CYCLE_WARNING, UserWarning, stacklevel=2)
    if inputs is None:
        run_backward(roots, grads, retain_graph=retain, create_graph=create_graph)
        return
    targets = _as_sequence(inputs)
    if not targets:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    for t in targets:
        if t.grad_fn is not None:
            t.retain_grad()  # as PyTorch: a non-leaf input's gradient goes into .grad through retain_grad
    found = run_backward(roots, grads, retain_graph=retain, create_graph=create_graph, capture=targets)
    previous, _state.grad_enabled = _state.grad_enabled, create_graph
    try:
        for t in targets:
            g = found.get(id(t))
            if g is not None and t.grad_fn is None:  # a captured gradient may be in the graph: never exclusive
                accumulate_grad(t, g, create_graph=create_graph, exclusive=False)
    finally:
        _state.grad_enabled = previous


def grad(outputs: "Tensor | Sequence[Tensor]", inputs: "Tensor | Sequence[Tensor]", grad_outputs: Any = None,
         retain_graph: bool | None = None, create_graph: bool = False, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple["Tensor | None", ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, returned rather than accumulated.

    With ``create_graph=True`` the result is itself differentiable (gradients of gradients).
    ``.grad`` is left alone.

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.tensor([1., 2.], requires_grad=True)
        >>> torch.autograd.grad((x ** 3).sum(), x), x.grad is None
        ((tensor([ 3., 12.]),), True)
    """
    from .._creation import zeros_like

    roots = _as_sequence(outputs)
    targets = _as_sequence(inputs)
    grads = _as_sequence(grad_outputs) if grad_outputs is not None else [None] * len(roots)
    for i, t in enumerate(targets):
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    retain = create_graph if retain_graph is None else retain_graph
    found = run_backward(roots, grads, retain_graph=retain, create_graph=create_graph, capture=targets)
    result = []
    for index, t in enumerate(targets):
        g = found.get(id(t))
        if g is None:
            if materialize_grads:
                g = zeros_like(t)
            elif not (allow_unused or materialize_grads):
                raise RuntimeError(f"The differentiated Tensor at index {index} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
        elif not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)
