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

from ..tensor import Size, Tensor  # loaded by now: function.py imports it

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
    ``.grad`` is left alone. With ``is_grads_batched=True`` the first dim of each of ``grad_outputs``
    is a batch: one vector-Jacobian product per entry, stacked (``_batched_grad``).

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.tensor([1., 2.], requires_grad=True)
        >>> torch.autograd.grad((x ** 3).sum(), x), x.grad is None
        ((tensor([ 3., 12.]),), True)
    """
    from .._creation import zeros_like

    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    roots = _as_sequence(outputs)
    targets = _as_sequence(inputs)
    grads = _as_sequence(grad_outputs) if grad_outputs is not None else [None] * len(roots)
    if len(grads) != len(roots):
        raise RuntimeError(f"got {len(roots)} tensors and {len(grads)} gradients")
    if not targets:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if is_grads_batched:
        return _batched_grad(roots, targets, grads, retain_graph, create_graph, allow_unused, materialize_grads)
    for t in targets:
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
            elif not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {index} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
        elif not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)


def _batched_grad(roots: list[Tensor], targets: list[Tensor], grads: list[Any], retain_graph: bool | None,
                  create_graph: bool, allow_unused: bool | None, materialize_grads: bool) -> tuple[Tensor | None, ...]:
    """``grad(..., is_grads_batched=True)``: ``grad_outputs[i][b]`` is the b-th upstream gradient of ``outputs[i]``;
    the result for each input stacks the B gradients along a new first dim. (PyTorch vmaps one backward; a
    loop of B backwards gives the same values.) An input no gradient reaches gets None, or with
    ``materialize_grads`` zeros of its own shape, unbatched, as in PyTorch."""
    from ..ops.joining import stack
    from .._creation import zeros_like

    for i, (root, g) in enumerate(zip(roots, grads)):
        if not isinstance(g, Tensor) or g.ndim == 0:
            raise ValueError("vmap(vjp, in_dims=0, ...)(<inputs>): Got in_dim=0 for some input, but that input is a "
                             "Tensor of dimensionality 0 so expected in_dim to satisfy 0 <= in_dim < 0.")
        if tuple(g.shape[1:]) != tuple(root.shape):
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each grad_output as the batch "
                "dimension. The sizes of the remaining dimensions are expected to match the shape of corresponding "
                f"output, but a mismatch was detected: grad_output[{i}] has a shape of {Size(g.shape[1:])} and "
                f"output[{i}] has a shape of {root.shape}. If you only want some tensors in `grad_output` to be "
                "considered batched, consider using vmap.")
    size = grads[0].shape[0]
    per_entry = [grad(roots, targets, [g[b] for g in grads], retain_graph=True if b < size - 1 else retain_graph,
                      create_graph=create_graph, allow_unused=allow_unused or materialize_grads)
                 for b in range(size)]
    return tuple(zeros_like(t) if materialize_grads and column[0] is None else None if column[0] is None
                 else stack(list(column)) for t, column in zip(targets, zip(*per_entry)))
