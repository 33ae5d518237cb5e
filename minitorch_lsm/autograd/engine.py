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

A backward may give None for an input (no gradient there). As in PyTorch, that still reaches the node:
its tensor hooks see None, a custom Function's backward runs on zeros, a built-in node passes None on.

At the end each leaf's gradient goes into ``.grad`` as PyTorch's AccumulateGrad does it: the first
time, the gradient itself if it owns its memory and nothing else refers to it, else a copy (so
``.grad`` can always be changed in place, e.g. clipped); after that, added in place into ``.grad``.

``autograd.grad`` and ``backward(inputs=)`` capture the gradients of chosen tensors instead; they run only
the nodes on a path to one of them (``_nodes_to_run``), as PyTorch does, and leave the others unrun and unfreed.

In anomaly mode (``autograd.detect_anomaly``) each backward runs through ``anomaly.run_checked``.
"""
from __future__ import annotations

import heapq
import sys
import weakref
from typing import Any, Iterable, Sequence

import numpy as np

from .. import _device
from .anomaly import _anomaly, run_checked
from .function import Function, edge_node, gradient_edge
from ..tensor import Tensor  # loaded by now: function.py imports it
from .grad_mode import _state

__all__ = ["run_backward", "fit_to_input", "accumulate_grad"]


def fit_to_input(grad: "Tensor", shape: tuple[int, ...], dtype: Any) -> "Tensor":
    """Sum a gradient over the dimensions broadcasting added or stretched, then cast it to ``dtype``.

    If ``x`` of shape (3, 1) was broadcast to (2, 3, 4), its gradient is summed over dim 0 (added)
    and dim 2 (stretched from 1), giving (3, 1) again.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.autograd.engine import fit_to_input
        >>> fit_to_input(torch.ones(2, 3, 4), (3, 1), torch.float64)  # each entry sums 2 * 4 ones
        tensor([[8.],
                [8.],
                [8.]], dtype=torch.float64)
    """
    if grad._data.shape != shape:
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
    if not root.requires_grad:
        raise RuntimeError(f"element {index} of tensors does not require grad and does not have a grad_fn")
    if grad is None:
        if root._data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if not root.dtype.is_floating_point:
            raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {root.dtype}")
        if root.device.type == "cpu":
            # (NumPy's ones() is empty() and fill() behind a Python function and a copyto: 2.5x the time)
            ones = np.empty(root._data.shape, root._data.dtype)
            ones.fill(1)
        else:
            with _device.on_device(root.device):  # CuPy allocates (and runs fill) on the current device
                ones = _device.xp_of(root.device).ones(root._data.shape, root._data.dtype)
        return Tensor._from_array(ones, root.device)
    if not isinstance(grad, Tensor):
        raise TypeError(f"gradient must be a Tensor or None, not {type(grad).__name__}")
    if grad._data.shape != root._data.shape:  # (the arrays' tuples: .shape would build two torch.Size)
        raise RuntimeError(
            f"Mismatch in shape: grad_output[{index}] has a shape of {grad.shape} and "
            f"output[{index}] has a shape of {root.shape}.")
    return grad if grad.dtype is root.dtype else grad.to(root.dtype)  # cast, as PyTorch's validate_outputs


def _hook_name(hook: Any) -> str:
    """How PyTorch's hook errors name a hook: its ``__name__``, or '<unknown>' (a partial, a callable object)."""
    return getattr(hook, "__name__", "<unknown>")


def _hook_result(hook: Any, grad: "Tensor | None", result: Any) -> "Tensor | None":
    """The gradient after a tensor hook: ``grad`` if it returned None, else what it returned, which must
    have ``grad``'s dtype, device and shape (PyTorch's errors otherwise). A hook given None (no gradient
    reached the tensor) may only return None."""
    if result is None:
        return grad
    if grad is None:
        raise RuntimeError("can't replace a None gradient with a non-None value")
    if not isinstance(result, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(result).__name__}'")
    if result.dtype is not grad.dtype or result.device != grad.device:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the type of value (was {grad.type()} got "
                           f"{result.type()})")
    if result.shape != grad.shape:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value")
    return result


def _pre_hook_results(hook: Any, grads: tuple["Tensor | None", ...], returned: Any) -> tuple["Tensor | None", ...]:
    """The gradients (one per output of the node) after a node pre-hook: unchanged if it returned None,
    else the tuple it returned (None there drops that gradient)."""
    if returned is None:
        return grads
    if not isinstance(returned, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(returned).__name__}'")
    if len(returned) != len(grads):
        raise RuntimeError(f"hook '{_hook_name(hook)}' has returned an incorrect number of values "
                           f"(got {len(returned)}, but expected {len(grads)})")
    return tuple(None if replacement is None else _hook_result(hook, grad, replacement)
                 for grad, replacement in zip(grads, returned))


def _owns_memory(array: Any) -> bool:
    """True for an array with its own writable memory (not a view, not a read-only broadcast)."""
    flags = array.flags
    return bool(flags.owndata) and bool(getattr(flags, "writeable", True))  # CuPy arrays have no read-only flag


def _held_only_here(grad: "Tensor") -> bool:
    """True when no one but the engine refers to ``grad`` or its array, as PyTorch's AccumulateGrad checks
    a gradient's use count before taking it as ``.grad``: a hook or a custom backward may return a tensor
    it keeps (a saved input, a global), and ``.grad`` then grows in place. References to ``grad``: the
    engine's ``leaf_grads`` entry, its loop variable and this call's argument, plus ``getrefcount``'s own;
    to the array: ``grad`` and ``getrefcount``'s argument."""
    return sys.getrefcount(grad) <= 4 and sys.getrefcount(grad._data) <= 2


def accumulate_grad(leaf: "Tensor", grad: "Tensor", *, create_graph: bool, exclusive: bool) -> None:
    """Add ``grad`` into ``leaf.grad`` as PyTorch's AccumulateGrad does.

    ``exclusive`` says nothing else refers to ``grad``'s array: then a first gradient is stored as it
    is, otherwise as a copy, so that ``.grad`` always owns its memory. With ``create_graph`` it is
    always a (differentiable) copy, since the graph of the gradient may hold the array. Later gradients
    are added in place (``leaf.grad`` stays the same tensor) unless ``create_graph``: ``.grad + grad``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.autograd.engine import accumulate_grad
        >>> w = torch.zeros(2, requires_grad=True)
        >>> for g in (torch.ones(2), torch.tensor([1., 2.])):
        ...     accumulate_grad(w, g, create_graph=False, exclusive=True)
        >>> w.grad
        tensor([2., 3.])
    """
    # (``_grad``, not ``.grad``: reading it on a non-leaf of backward(inputs=) would warn, and the setter's
    # checks hold already, the engine having fitted ``grad`` to the leaf's shape and dtype)
    old = leaf._grad
    if old is None:
        if create_graph:
            leaf._grad = grad.clone()  # type: ignore[attr-defined]
        elif exclusive and _owns_memory(grad._data):  # the tensor itself, unless a subclass or in a graph
            plain = type(grad) is Tensor and grad._grad_fn is None and not grad._requires_grad
            leaf._grad = grad if plain else grad.detach()
        else:
            leaf._grad = Tensor._from_array(grad._data.copy(), grad.device)
    elif (create_graph or old.requires_grad or old.shape != grad.shape or old.dtype is not grad.dtype
          or old.device != grad.device or not getattr(old._data.flags, "writeable", True)):
        total = old + grad
        leaf._grad = total if create_graph else total.detach()
    else:
        _device.call_quietly(_device.xp_of(old.device).add, old._data, grad._data, old._data)  # (out=old)
        old._bump_version()


def _nodes_to_run(roots: Sequence["Tensor"], wanted_nodes: dict[Any, int], wanted_leaves: set[int]) -> set[Function]:
    """For ``autograd.grad`` and ``backward(inputs=)``: the nodes whose backward must run, those with a path
    of edges to a captured tensor. PyTorch runs no other node: it neither calls their hooks nor frees them.

    The nodes reachable from the roots are found with a stack (no recursion), then visited in creation
    order, so each node's inputs' nodes are decided before it.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.autograd.engine import _nodes_to_run
        >>> x = torch.ones(1, requires_grad=True)
        >>> z = x.exp(); y = z * 2
        >>> [n.name() for n in _nodes_to_run([y], {z.grad_fn: id(z)}, set())]
        ['MulBackward0']
    """
    reachable: set[Function] = set()
    stack = [root.grad_fn for root in roots if root.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node not in reachable:
            reachable.add(node)
            stack.extend(n for n in map(edge_node, node.next_edges) if n is not None)
    to_run: set[Function] = set()
    for node in sorted(reachable, key=lambda n: n.sequence_nr):
        if any(id(edge) in wanted_leaves if isinstance(edge, Tensor)
               else (edge in wanted_nodes or edge_node(edge) in to_run)
               for edge in node.next_edges if edge is not None):
            to_run.add(node)
    return to_run


class _GraphTask:
    """The state of one backward run (PyTorch calls it a GraphTask): the gradients received so far for each
    node and each leaf, the heap of nodes waiting to run (largest creation number first), and what
    ``autograd.grad`` captures. Its methods are the steps of the run; ``run_backward`` drives them.

    One object with named fields rather than closures over a function's locals: a closure makes a cell for
    each variable it shares, and setting up five closures cost more than the rest of a one-node backward."""

    __slots__ = ("create_graph", "to_run", "wanted_leaves", "wanted_nodes", "captured", "node_grads",
                 "leaf_grads", "heap", "seen_outside", "sums")

    def __init__(self, roots: Sequence["Tensor"], create_graph: bool, capture: Iterable["Tensor"] | None) -> None:
        self.create_graph = create_graph
        self.captured: dict[int, Tensor] = {}
        self.node_grads: dict[Function, Any] = {}
        self.leaf_grads: dict[int, tuple[Tensor, Tensor | None]] = {}
        self.heap: list[tuple[int, int, Function]] = []
        self.seen_outside: set[int] = set()  # arrays someone else may hold: given by the caller or shown to a hook
        self.sums: dict[int, weakref.ref] = {}  # the sums made here, which nobody else has seen: they may grow in place
        if capture is None:
            self.to_run, self.wanted_leaves, self.wanted_nodes = None, set(), {}
        else:
            capture = list(capture)
            self.wanted_leaves = {id(t) for t in capture if t.grad_fn is None}
            # (a node's output, or (node, k) for output k of a node with several) -> the captured tensor's id
            self.wanted_nodes = {gradient_edge(t): id(t) for t in capture if t.grad_fn is not None}
            self.to_run = _nodes_to_run(roots, self.wanted_nodes, self.wanted_leaves)

    def total(self, a: Tensor, b: Tensor) -> Tensor:
        """Two gradients for the same place (same shape and dtype): a recorded add only when the
        backward itself is being differentiated, else a plain array add without tape overhead, into
        ``a`` itself when ``a`` is a sum made here."""
        if self.create_graph:
            return a + b
        made_here = self.sums.get(id(a))
        if made_here is not None and made_here() is a:  # (an id alone may be a freed sum's, reused)
            a._data += b._data  # in place (NumPy or CuPy), with run_backward's warnings off
            return a
        array = a._data + b._data
        out = Tensor._from_array(np.asarray(array) if isinstance(array, np.generic) else array, a.device)  # 0-d
        self.sums[id(out)] = weakref.ref(out)
        return out

    def send(self, edge: Any, grad: Tensor | None) -> None:
        """Add ``grad`` to what ``edge`` has received. None (a backward gave no gradient there) still wakes
        the node, as in PyTorch: a custom Function's backward then runs on zeros."""
        to_run = self.to_run
        if to_run is not None and not (id(edge) in self.wanted_leaves if isinstance(edge, Tensor)
                                       else edge_node(edge) in to_run or edge in self.wanted_nodes):
            return                                         # capturing, and nothing asked for lies that way
        node_grads = self.node_grads
        if isinstance(edge, Tensor):                       # a leaf: its gradient waits until the end
            prior = self.leaf_grads.get(id(edge))
            if prior is None or prior[1] is None:
                self.leaf_grads[id(edge)] = (edge, grad)
            elif grad is not None:
                self.leaf_grads[id(edge)] = (edge, self.total(prior[1], grad))
        elif type(edge) is tuple:                          # output k of a node with several: one slot each
            node, k = edge
            slots = node_grads.get(node)
            if slots is None:
                slots = node_grads[node] = [None] * node.num_outputs
                heapq.heappush(self.heap, (-node.sequence_nr, id(node), node))
            slots[k] = grad if slots[k] is None else slots[k] if grad is None else self.total(slots[k], grad)
        elif edge in node_grads:
            prior = node_grads[edge]
            node_grads[edge] = grad if prior is None else prior if grad is None else self.total(prior, grad)
        else:
            node_grads[edge] = grad
            heapq.heappush(self.heap, (-edge.sequence_nr, id(edge), edge))

    def after_tensor_hooks(self, hooks: list[Any] | None, retain_grad_store: Any, grad: Tensor | None) -> Tensor | None:
        """A gradient after the tensor's hooks (which see None where no gradient came), then retain_grad's
        store (PyTorch's order)."""
        for hook in hooks or ():
            if grad is not None:
                self.seen_outside.add(id(grad._data))
            grad = _hook_result(hook, grad, hook(grad))
        if retain_grad_store is not None and grad is not None:
            retain_grad_store(grad)
        return grad

    def after_pre_hooks(self, node: Function, grads: tuple[Tensor | None, ...]) -> tuple[Tensor | None, ...]:
        for node_hook in node._pre_hooks or ():
            self.seen_outside.update(id(g._data) for g in grads if g is not None)
            grads = _pre_hook_results(node_hook, grads, node_hook(grads))
        return grads

    def gradient_of(self, node: Function) -> Any:
        """What ``node`` has received, after its output's hooks and its pre-hooks: one gradient, or a tuple
        of them for a node with several outputs (None where an output got none, and None instead of a tuple
        where none is left). A captured one is stored."""
        grad = self.node_grads.pop(node)
        if type(grad) is list:
            return self.several_outputs(node, grad)
        self.sums.pop(id(grad), None)  # handed out from here on (backward may pass it on as it is)
        if node._tensor_hooks or node.retain_grad_hook is not None:
            grad = self.after_tensor_hooks(node._tensor_hooks, node.retain_grad_hook, grad)
        if node._pre_hooks:
            grad = self.after_pre_hooks(node, (grad,))[0]
        if grad is not None and node in self.wanted_nodes:
            self.captured[self.wanted_nodes[node]] = grad
        return grad

    def several_outputs(self, node: Function, slots: list[Tensor | None]) -> tuple[Tensor | None, ...] | None:
        """The gradients of a node with several outputs (None where an output got none) after each
        output's hooks and the node's pre-hooks; None when none is left. Captured ones are stored."""
        per_output = node._output_hooks or {}
        for g in slots:
            self.sums.pop(id(g), None)  # (handed out from here on)
        grads = tuple(self.after_tensor_hooks(*per_output.get(k, (None, None)), g) for k, g in enumerate(slots))
        grads = self.after_pre_hooks(node, grads)
        for k, g in enumerate(grads):
            if g is not None and (node, k) in self.wanted_nodes:
                self.captured[self.wanted_nodes[node, k]] = g
        return grads if any(g is not None for g in grads) else None

    def run(self, roots: Sequence["Tensor"], root_grads: Sequence["Tensor | None"], retain_graph: bool) -> None:
        """The whole run: the roots' gradients sent on, every node run, the leaves' gradients stored. (Each step
        is a method of its own, so that no local of one step holds a gradient the last one counts holders of.)"""
        self.send_roots(roots, root_grads)
        self.run_nodes(retain_graph)
        self.finish_leaves()

    def send_roots(self, roots: Sequence["Tensor"], root_grads: Sequence["Tensor | None"]) -> None:
        """Check each root's gradient (ones where none is given) and send it to the root's history."""
        for i, (root, grad) in enumerate(zip(roots, root_grads)):
            given = grad is not None
            if given:
                self.seen_outside.add(id(grad._data))
            grad = _validate_root(root, grad, i)  # (implicit ones are made here: no one else holds them)
            self.send(gradient_edge(root), grad.detach() if given and not self.create_graph else grad)

    def run_nodes(self, retain_graph: bool) -> None:
        """Pop the nodes in reverse creation order, run each backward and send its input gradients on."""
        heap, send, to_run, anomaly = self.heap, self.send, self.to_run, _anomaly.enabled
        while heap:
            node = heapq.heappop(heap)[2]
            grad = self.gradient_of(node)
            if to_run is not None and node not in to_run:
                continue  # captured, and nothing else asked for lies beyond: not run, not freed
            if grad is None and not node.runs_without_gradients:  # none came, or a pre-hook dropped it:
                for edge in node.next_edges:                       # a built-in backward would give
                    if edge is not None:                           # None for every input
                        send(edge, None)
            else:
                input_grads = run_checked(node, grad) if anomaly else node.backward(grad)
                if not isinstance(input_grads, tuple):
                    input_grads = (input_grads,)
                for edge, (shape, dtype), input_grad in zip(node.next_edges, node.input_meta, input_grads):
                    if edge is None:
                        continue
                    if input_grad is not None and (input_grad._data.shape != shape or input_grad.dtype is not dtype):
                        input_grad = fit_to_input(input_grad, shape, dtype)  # (most fit already)
                    send(edge, input_grad)
            if not retain_graph:
                node.release()

    def finish_leaves(self) -> None:
        """Run each leaf's hooks on its whole gradient (once), then store it: captured, or into ``.grad``."""
        leaf_grads, seen_outside = self.leaf_grads, self.seen_outside
        for leaf, grad in leaf_grads.values():
            if leaf._hooks:
                for hook in leaf._hooks:
                    if grad is not None:
                        seen_outside.add(id(grad._data))
                    grad = _hook_result(hook, grad, hook(grad))
                leaf_grads[id(leaf)] = (leaf, grad)
        for leaf_id, (leaf, grad) in leaf_grads.items():
            if grad is None:
                continue
            if self.to_run is not None:
                if leaf_id in self.wanted_leaves:
                    self.captured[leaf_id] = grad
                continue
            exclusive = id(grad._data) not in seen_outside and not leaf._hooks and _held_only_here(grad)
            seen_outside.add(id(grad._data))           # one array is never the .grad of two leaves
            accumulate_grad(leaf, grad, create_graph=self.create_graph, exclusive=exclusive)


def run_backward(roots: Sequence["Tensor"], root_grads: Sequence["Tensor | None"], *,
                 retain_graph: bool, create_graph: bool,
                 capture: Iterable["Tensor"] | None = None) -> dict[int, "Tensor"]:
    """Propagate gradients from ``roots`` back through the tape.

    Without ``capture`` (``Tensor.backward``) leaf gradients are accumulated into ``.grad``. With
    ``capture`` (``autograd.grad``) nothing is accumulated; the gradients reaching the captured
    tensors are returned, keyed by ``id(tensor)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.autograd.engine import run_backward
        >>> x = torch.tensor([3.], requires_grad=True)
        >>> found = run_backward([x * x], [None], retain_graph=False, create_graph=False, capture=[x])
        >>> found[id(x)], x.grad is None
        (tensor([6.]), True)
    """
    task = _GraphTask(roots, create_graph, capture)
    previous = _state.grad_enabled
    _state.grad_enabled = create_graph
    try:  # inf and nan are gradients here, as in torch, not warnings
        _device.call_quietly(task.run, roots, root_grads, retain_graph)
    finally:
        _state.grad_enabled = previous
    return task.captured
