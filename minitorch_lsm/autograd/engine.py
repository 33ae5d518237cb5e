"""The backward engine: replays the tape in reverse creation order, with no recursion.

Why reverse creation order works: an op can only consume tensors that existed before it, so every
consumer of a node's output has a larger creation number than the node. Popping the pending node with
the largest number from a heap therefore guarantees that all gradient contributions to it have arrived.

For each node the engine:

1. takes the gradient summed so far for the node's output (and forgets the buffer: released once consumed),
2. runs the tensor hooks registered on it,
3. calls ``backward`` (under ``no_grad`` unless ``create_graph``),
4. fits each input gradient to its input - sums broadcast dimensions away and casts to the input's
   dtype - and adds it to that input's buffer (or, for a leaf, to the leaf's pending gradient),
5. frees the node's saved tensors unless ``retain_graph``.
"""
from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .function import Function
from .grad_mode import _state

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["run_backward", "fit_to_input"]


def fit_to_input(grad: "Tensor", shape: tuple[int, ...], dtype: Any) -> "Tensor":
    """Sum a gradient over the dimensions broadcasting added or stretched, then cast it to ``dtype``.

    If ``x`` of shape (3, 1) was broadcast to (2, 3, 4), its gradient is summed over dim 0 (added)
    and dim 2 (stretched from 1), giving (3, 1) again.
    """
    if grad.shape != shape:
        extra = grad.ndim - len(shape)
        stretched = tuple(extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1)
        dims = tuple(range(extra)) + stretched
        if dims:
            grad = grad.sum(dim=dims, keepdim=True)
        if extra or grad.shape != shape:
            grad = grad.reshape(shape)
    if grad.dtype is not dtype:
        grad = grad.to(dtype)
    return grad


def _validate_root(root: "Tensor", grad: "Tensor | None", index: int) -> "Tensor":
    from ..tensor import Tensor
    from .. import _creation

    if not root.requires_grad:
        raise RuntimeError(f"element {index} of tensors does not require grad and does not have a grad_fn")
    if grad is None:
        if root.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if not root.dtype.is_floating_point:
            raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {root.dtype}")
        return _creation.ones_like(root)
    if not isinstance(grad, Tensor):
        raise TypeError(f"gradient must be a Tensor or None, not {type(grad).__name__}")
    if grad.shape != root.shape:
        raise RuntimeError(
            f"Mismatch in shape: grad_output[{index}] has a shape of {grad.shape} and "
            f"output[{index}] has a shape of {root.shape}.")
    return grad


def run_backward(roots: Sequence["Tensor"], root_grads: Sequence["Tensor | None"], *,
                 retain_graph: bool, create_graph: bool,
                 capture: Iterable["Tensor"] | None = None) -> dict[int, "Tensor"]:
    """Propagate gradients from ``roots`` back through the tape.

    Without ``capture`` (``Tensor.backward``) leaf gradients are accumulated into ``.grad``. With
    ``capture`` (``autograd.grad``) nothing is accumulated; the gradients reaching the captured
    tensors are returned, keyed by ``id(tensor)``.
    """
    from ..tensor import Tensor

    capturing = capture is not None
    wanted_leaves = {id(t) for t in capture if t.grad_fn is None} if capture is not None else set()
    wanted_nodes = {t.grad_fn: id(t) for t in capture if t.grad_fn is not None} if capture is not None else {}
    captured: dict[int, Tensor] = {}
    node_grads: dict[Function, Tensor] = {}
    leaf_grads: dict[int, tuple[Tensor, Tensor]] = {}
    heap: list[tuple[int, int, Function]] = []

    def send(edge: Any, grad: Tensor) -> None:
        if isinstance(edge, Tensor):                       # a leaf: its gradient waits until the end
            prior = leaf_grads.get(id(edge))
            leaf_grads[id(edge)] = (edge, grad if prior is None else prior[1] + grad)
        elif edge in node_grads:
            node_grads[edge] = node_grads[edge] + grad
        else:
            node_grads[edge] = grad
            heapq.heappush(heap, (-edge.sequence_nr, id(edge), edge))

    previous = _state.grad_enabled
    _state.grad_enabled = create_graph
    try:
        for i, (root, grad) in enumerate(zip(roots, root_grads)):
            grad = _validate_root(root, grad, i)
            send(root.grad_fn if root.grad_fn is not None else root, grad.detach() if not create_graph else grad)
        while heap:
            node = heapq.heappop(heap)[2]
            grad = node_grads.pop(node)
            for hook in node._pre_hooks or ():
                changed = hook(grad)
                grad = grad if changed is None else changed
            if node in wanted_nodes:
                captured[wanted_nodes[node]] = grad
            input_grads = node.backward(grad)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for edge, (shape, dtype), input_grad in zip(node.next_edges, node.input_meta, input_grads):
                if edge is not None and input_grad is not None:
                    send(edge, fit_to_input(input_grad, shape, dtype))
            if not retain_graph:
                node.release()
        for leaf, grad in leaf_grads.values():             # a leaf's hooks see its whole gradient, once
            for hook in leaf._hooks or ():
                changed = hook(grad)
                grad = grad if changed is None else changed
            leaf_grads[id(leaf)] = (leaf, grad)
    finally:
        _state.grad_enabled = previous

    for leaf_id, (leaf, grad) in leaf_grads.items():
        if capturing:
            if leaf_id in wanted_leaves:
                captured[leaf_id] = grad
        else:
            grad = grad if create_graph else grad.detach()
            leaf.grad = grad if leaf.grad is None else (leaf.grad + grad if create_graph else (leaf.grad + grad).detach())
    return captured
