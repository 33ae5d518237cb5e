"""The one op mechanism: every differentiable op is a small :class:`Function` subclass.

* ``forward(self, *arrays)`` computes on raw arrays (``numpy`` or ``cupy``; ask ``xp_of``).
* ``backward(self, grad)`` returns the gradient for each input, written with Tensor ops, so that
  running it with grad mode on (``create_graph=True``) records a graph of the gradient itself.

An instance of the class *is* the tape node (``tensor.grad_fn``). It remembers:

* ``sequence_nr`` - its creation number; the engine runs nodes in reverse creation order;
* ``next_edges``  - for each input, where its gradient goes: the producing node, the leaf tensor
  itself (it accumulates into ``.grad``), or None when that input needs no gradient;
* ``input_meta``  - each input's shape and dtype, so the engine can sum a broadcast gradient back
  to the input's shape and cast it to the input's dtype;
* ``listed_inputs`` - which inputs ``next_functions`` shows (all but integer and bool tensors; None: all);
* what backward needs, and nothing more: the inputs when ``keeps_inputs``, the output's array when
  ``keeps_output``, plus whatever raw arrays forward stored in ``self.saved``. These are freed after
  backward unless ``retain_graph`` is asked for;
* ``forward_stack`` - only in anomaly mode (``autograd.detect_anomaly``): where forward was called.

An op with ``is_view`` whose output really shares its input's memory also gives the output a
:class:`ViewInfo`, so that an in-place change through any view can rebase the history (CopySlices).
"""
from __future__ import annotations

import inspect
import itertools
import re
from typing import Any, Callable, ClassVar, Sequence

import numpy as np

from .. import _device, _dtype
from .anomaly import _anomaly, capture_stack
from ..tensor import Tensor
from .grad_mode import _state
from .hooks import RemovableHandle
from .views import ViewInfo, replay_view

__all__ = ["Function", "AccumulateGrad", "gradient_edge", "edge_node"]

_creation_counter = itertools.count()

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward.")


INFERENCE_SAVED_MESSAGE = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in inference mode in "
    "computation tracked by autograd. To work around this, you can make a clone to get a normal tensor and use it "
    "in autograd, or use `torch.no_grad()` instead of `torch.inference_mode()`.")


class Function:
    """Base class of all ops. Subclasses implement ``forward`` and ``backward``.

    Class attributes a subclass may set:

    * ``keeps_inputs`` / ``keeps_output``: backward reads ``self.inputs`` / ``self.output``;
    * ``grad_reads``: with ``keeps_inputs``, for each input the inputs its gradient reads (default: all).
      As in PyTorch, an input is then saved only when the gradient of an input that requires grad reads
      it (``a * 2`` keeps only the 2); the others are None in ``self.inputs``, and changing them in
      place before backward is no error;
    * ``is_view``: the output shares memory with input 0 (and so its in-place version counter);
    * ``differentiable = False``: the result never requires grad (comparisons, argmax, ...);
    * ``changes_device``: the output lives on another device than the inputs (``to('cuda')``).

    The node's name (``MulBackward0``) is the class name plus ``Backward0`` unless ``node_name`` says
    otherwise, so ``grad_fn`` prints the way PyTorch's does.

    A subclass may also be written PyTorch's way, with static ``forward(ctx, *args)`` on Tensors and
    ``backward(ctx, *grad_outputs)``: ``__init_subclass__`` sees the static methods and fits the class onto
    this mechanism (``custom_function.py``), with a generated node class as its ``ctx``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.autograd import Function
        >>> class Cube(Function):                  # d x**3 = 3 x**2 dx
        ...     keeps_inputs = True
        ...     def forward(self, x):
        ...         return x ** 3
        ...     def backward(self, grad):
        ...         (x,) = self.inputs
        ...         return grad * 3 * x ** 2
        >>> x = torch.tensor([2.], requires_grad=True)
        >>> y = Cube.apply(x); y.backward(); y, x.grad
        (tensor([8.], grad_fn=<CubeBackward0>), tensor([12.]))
    """

    keeps_inputs: ClassVar[bool] = False
    grad_reads: ClassVar[tuple[tuple[int, ...], ...] | None] = None
    keeps_output: ClassVar[bool] = False
    is_view: ClassVar[bool] = False
    differentiable: ClassVar[bool] = True
    changes_device: ClassVar[bool] = False
    node_name: ClassVar[str | None] = None
    # whether backward runs when no gradient reached the node (PyTorch calls every node; a built-in
    # one then returns None for every input, so the engine passes None on without calling it)
    runs_without_gradients: ClassVar[bool] = False

    sequence_nr: int
    next_edges: tuple[Any, ...]
    input_meta: tuple[tuple[tuple[int, ...], Any], ...]
    listed_inputs: tuple[bool, ...] | None = None  # None: every input is listed
    saved: Any = None
    _saved_inputs: tuple[tuple["Tensor", int] | None, ...] | None = None  # (tensor, its version) or None
    _saved_output: Any = None
    _freed: bool = False
    # Hooks run in PyTorch's order: the output tensor's hooks, then retain_grad's store, then node pre-hooks.
    _tensor_hooks: list[Callable[["Tensor"], "Tensor | None"]] | None = None
    retain_grad_hook: Callable[["Tensor"], None] | None = None
    _pre_hooks: list[Callable[[tuple["Tensor", ...]], Any]] | None = None
    # A node with several outputs (a custom Function's) keeps them per output: {k: (hooks, retain_grad's store)}
    num_outputs: int = 1
    _output_hooks: dict[int, list[Any]] | None = None
    forward_stack: Any = None  # in anomaly mode: the stack of the forward call that recorded this node

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass with a static ``forward``, ``backward`` or ``setup_context`` is written PyTorch's way:
        it gets PyTorch's ``apply`` and a node class (see ``custom_function.make_torch_style``)."""
        super().__init_subclass__(**kwargs)
        if any(isinstance(inspect.getattr_static(cls, name, None), staticmethod)
               for name in ("forward", "backward", "setup_context")):  # written PyTorch's way
            from .custom_function import make_torch_style  # (that module builds on this one)
            make_torch_style(cls)

    # -------------------------------------------------------------- what subclasses write
    def forward(self, *arrays: Any) -> Any:
        """The output array, computed from the inputs' raw arrays (NumPy or CuPy); no autograd here.

        Examples:
            >>> import numpy as np
            >>> from minitorch_lsm.autograd import Function
            >>> class Twice(Function):
            ...     def forward(self, x):
            ...         return x * 2
            >>> Twice().forward(np.array([1., 2.]))
            array([2., 4.])
        """
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    def backward(self, grad: "Tensor") -> "Tensor | None | tuple[Tensor | None, ...]":
        """Given ``grad`` = d(loss)/d(output), d(loss)/d(input) for each input (a tuple if several; None
        for an input that needs none), written with Tensor ops.

        Examples:
            >>> import minitorch_lsm as torch
            >>> node = (torch.tensor([2.], requires_grad=True) * torch.tensor([5.])).grad_fn
            >>> with torch.no_grad():  # d(a * b) = (g * b, g * a); b needs no gradient
            ...     print(node.backward(torch.ones(1)))
            (tensor([5.]), None)
        """
        raise NotImplementedError(f"{self.name()} has no backward")

    # -------------------------------------------------------------- running an op
    @classmethod
    def apply(cls, *inputs: "Tensor", **params: Any) -> "Tensor":
        """Run ``forward`` on the inputs' arrays and, when grad mode is on and an input requires grad,
        record this op as one node on the tape. ``params`` become attributes of the node.

        Examples:
            >>> import minitorch_lsm as torch
            >>> from minitorch_lsm.autograd import Function
            >>> class Scale(Function):
            ...     def forward(self, x):
            ...         return x * self.factor
            ...     def backward(self, grad):
            ...         return grad * self.factor
            >>> Scale.apply(torch.ones(2, requires_grad=True), factor=3.0)
            tensor([3., 3.], grad_fn=<ScaleBackward0>)
        """
        fn = cls.__new__(cls)
        if params:  # (the call's own new dict becomes the node's; a view's replay reuses ``params``, which must
            fn.__dict__ = dict(params) if cls.is_view else params  # not gain the node's later attributes: a copy)
        dev = inputs[0].device
        needs_grad, arrays = False, []
        for t in inputs:
            if t.device is not dev and t.device != dev:
                raise RuntimeError(
                    "Expected all tensors to be on the same device, but found at least two devices, "
                    f"{dev} and {t.device}!")
            # a view's flag: redone first if its base changed in place (see ViewInfo.requires_grad_of)
            needs_grad = needs_grad or (t._requires_grad if t._view is None else t._view.requires_grad_of(t))
            arrays.append(t._data)
        try:
            out = _device.call_quietly(fn.forward, *arrays)  # inf and nan are results, as in torch, not warnings
        except ValueError:
            _check_broadcast([t.shape for t in inputs])
            raise
        if isinstance(out, np.generic):  # NumPy returns scalars for 0-d results
            out = np.asarray(out)
        result = Tensor._from_array(out, _device.array_device(out) if cls.changes_device else dev)
        if (needs_grad and cls.differentiable and _state.grad_enabled and not _state.inference
                and result.dtype.is_floating_point):
            fn._record(inputs, result)
        if cls.is_view and _device.xp_of(dev).may_share_memory(out, inputs[0]._data):  # reshape may copy
            result._version_cell, result._inference = inputs[0]._version_cell, inputs[0]._inference
            result._view = ViewInfo.extend(inputs[0], cls, params, result._version_cell[0])
        return result

    def _record(self, inputs: Sequence["Tensor"], result: "Tensor | None") -> None:
        """Make this node ``result``'s history: its edges to the inputs' histories, their shapes and dtypes,
        its creation number, what backward keeps. (A custom Function's node links its outputs itself: None.)"""
        edges, meta, all_listed = [], [], True
        for t in inputs:  # (one loop, gradient_edge inlined: this runs for every input of every op)
            node = t._grad_fn if t._view is None else t.grad_fn  # (a view's history may be refreshed first,
            edges.append(None if not t._requires_grad else t if node is None      # which may change its flag)
                         else node if t._output_nr is None else (node, t._output_nr))
            meta.append((t._data.shape, t.dtype))
            all_listed = all_listed and (t.dtype.is_floating_point or t._wrapped)
        self.next_edges, self.input_meta = tuple(edges), tuple(meta)
        if not all_listed:  # (else the class's None: all are)
            self.listed_inputs = tuple([t.dtype.is_floating_point or t._wrapped for t in inputs])
        # numbered after the inputs' nodes, including one a stale view's refresh made just now: the engine
        # relies on every node's inputs' nodes having smaller numbers
        self.sequence_nr = next(_creation_counter)
        if self.keeps_inputs:
            self._saved_inputs = self._save_inputs(inputs)
        if self.keeps_output:
            self._saved_output = (result._data, result._version_cell, result._version_cell[0], result.device)
        if _anomaly.enabled:
            self.forward_stack = capture_stack()
        if result is not None:
            result._requires_grad = True
            result._grad_fn = self

    def _save_inputs(self, inputs: tuple["Tensor", ...]) -> tuple[tuple["Tensor", int] | None, ...]:
        """Each input that a needed gradient reads (see ``grad_reads``), with its version now; None for the others."""
        reads = self.grad_reads  # (plain loops, no comprehension: every op that keeps inputs runs this)
        read: set[int] = set()
        if reads is not None:
            for t, wanted in zip(inputs, reads):
                if t._requires_grad:
                    read.update(wanted)
        saved: list[tuple["Tensor", int] | None] = []
        for i, t in enumerate(inputs):
            if reads is not None and i not in read:
                saved.append(None)
            elif t._inference:
                raise RuntimeError(INFERENCE_SAVED_MESSAGE)
            else:
                saved.append((t, t._version_cell[0]))
        return tuple(saved)

    # -------------------------------------------------------------- what backward reads
    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """For each input, whether its gradient goes anywhere (backward may skip the others).

        Examples:
            >>> import minitorch_lsm as torch
            >>> (torch.ones(1, requires_grad=True) * torch.ones(1)).grad_fn.needs_input_grad
            (True, False)
        """
        return tuple(edge is not None for edge in self.next_edges)

    @property
    def inputs(self) -> tuple["Tensor | None", ...]:
        """The input tensors (kept when ``keeps_inputs``; None for one no needed gradient reads, see
        ``grad_reads``), checked against in-place changes since forward.

        Examples:
            >>> import minitorch_lsm as torch
            >>> (torch.tensor([2.], requires_grad=True) * torch.tensor([5.])).grad_fn.inputs
            (None, tensor([5.]))
        """
        if self._saved_inputs is None:
            raise RuntimeError(FREED_MESSAGE)
        for entry in self._saved_inputs:
            if entry is not None and entry[0]._version_cell[0] != entry[1]:
                t = entry[0]
                _raise_modified(t._version_cell[0], entry[1], t.shape, t.dtype, t.device, t.grad_fn)
        return tuple([None if entry is None else entry[0] for entry in self._saved_inputs])

    @property
    def output(self) -> "Tensor":
        """The forward output (kept when ``keeps_output``), rebuilt from its saved array and linked back
        to this node.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.tensor([0.], requires_grad=True).exp().grad_fn.output
            tensor([1.], grad_fn=<ExpBackward0>)
        """
        if self._saved_output is None:
            raise RuntimeError(FREED_MESSAGE)
        data, cell, version, device = self._saved_output
        if cell[0] != version:
            _raise_modified(cell[0], version, data.shape, _dtype.from_numpy_dtype(data.dtype), device, self)
        out = Tensor._from_array(data, device)
        out._requires_grad, out._grad_fn = True, self  # (the public setters' checks are for leaves)
        return out

    def release(self) -> None:
        """Drop what backward kept alive (after a backward without ``retain_graph``); a second backward then raises.

        Examples:
            >>> import minitorch_lsm as torch
            >>> node = (torch.ones(1, requires_grad=True) * 2).grad_fn
            >>> node.release(); node.inputs  # doctest: +ELLIPSIS
            Traceback (most recent call last):
              ...
            RuntimeError: Trying to backward through the graph a second time ...
        """
        if self._saved_inputs is not None or self._saved_output is not None or self.saved is not None:
            self._saved_inputs = self._saved_output = self.saved = None
            self._freed = True

    # -------------------------------------------------------------- introspection, as torch
    def name(self) -> str:
        """The node's name as PyTorch prints it, e.g. ``MulBackward0`` (``node_name`` may be set per node).

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.ones(1, requires_grad=True)
            >>> (x * x).grad_fn.name(), x.exp().grad_fn.name()
            ('MulBackward0', 'ExpBackward0')
        """
        return self.node_name or f"{type(self).__name__}Backward0"

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """For each floating input: ``(node, k)`` (k: which output of the node it is, 0 unless the node has
        several); a leaf shows as its ``AccumulateGrad``, a constant as None.

        Integer and bool tensors (indices, masks) can never carry a gradient and, as in PyTorch, get no entry.

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.ones(2, requires_grad=True)
            >>> ((mul, i),) = (x * 2).exp().grad_fn.next_functions
            >>> mul.name(), i, [node is None for node, _ in mul.next_functions]
            ('MulBackward0', 0, [False, True])
        """
        return tuple((AccumulateGrad(e), 0) if isinstance(e, Tensor) else e if type(e) is tuple else (e, 0)
                     for e, listed in zip(self.next_edges, self.listed_inputs or itertools.repeat(True)) if listed)

    def register_prehook(self, hook: Callable[[tuple["Tensor", ...]], Any]) -> "RemovableHandle":
        """Run ``hook(grad_outputs)`` before this node's backward, as PyTorch's ``Node.register_prehook``:
        it gets a tuple of gradients (one per output) and may return a tuple that replaces them.

        It runs after the hooks of the output tensor (``register_hook``) and after ``retain_grad``.
        Returns a handle whose ``remove()`` unregisters the hook.

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.ones(2, requires_grad=True); y = x * 2
            >>> handle = y.grad_fn.register_prehook(lambda grads: (grads[0] * 10,))
            >>> y.sum().backward(); x.grad
            tensor([20., 20.])
        """
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(hook)
        return RemovableHandle(self._pre_hooks, hook)

    def _register_tensor_hook(self, hook: Callable[["Tensor"], "Tensor | None"],
                              output_nr: int | None = None) -> "RemovableHandle":
        """``output.register_hook(hook)`` for this node's output (output ``output_nr`` of several):
        ``hook(grad)`` may return a replacement."""
        if output_nr is not None:
            hooks = self._hooks_of_output(output_nr)[0]
        else:
            if self._tensor_hooks is None:
                self._tensor_hooks = []
            hooks = self._tensor_hooks
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def _set_retain_grad_hook(self, store: Callable[["Tensor"], None], output_nr: int | None = None) -> None:
        """``output.retain_grad()`` for this node's output (output ``output_nr`` of several)."""
        if output_nr is None:
            self.retain_grad_hook = store
        else:
            self._hooks_of_output(output_nr)[1] = store

    def _hooks_of_output(self, output_nr: int) -> list[Any]:
        """``[tensor hooks, retain_grad's store]`` of output ``output_nr`` of a node with several outputs."""
        if self._output_hooks is None:
            self._output_hooks = {}
        return self._output_hooks.setdefault(output_nr, [[], None])

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


def gradient_edge(t: "Tensor") -> Any:
    """Where a gradient for ``t`` goes: None when it needs none; the leaf ``t`` itself (to accumulate into
    ``.grad``); the node that made it; or ``(node, k)`` when ``t`` is output k of a node with several.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.autograd.function import gradient_edge
        >>> x = torch.ones(1, requires_grad=True)
        >>> gradient_edge(x) is x, gradient_edge(x * 2).name(), gradient_edge(torch.ones(1))
        (True, 'MulBackward0', None)
    """
    node = t._grad_fn if t._view is None else t.grad_fn  # (a view's history may be refreshed first, which
    if not t._requires_grad:                             # may change its flag)
        return None
    if node is None:
        return t
    return node if t._output_nr is None else (node, t._output_nr)


def edge_node(edge: Any) -> "Function | None":
    """The node an edge (see ``gradient_edge``) leads to, or None for a leaf or a constant.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.autograd.function import edge_node
        >>> x = torch.ones(1, requires_grad=True)
        >>> edge_node(x), edge_node(None), edge_node(((x * 2).grad_fn, 1)).name()
        (None, None, 'MulBackward0')
    """
    if type(edge) is tuple:
        return edge[0]
    return edge if isinstance(edge, Function) else None


def _check_broadcast(shapes: list[tuple[int, ...]]) -> None:
    """Raise PyTorch's error if the shapes do not broadcast (NumPy's ValueError says it differently)."""
    out = shapes[0]
    for shape in shapes[1:]:
        ndim = max(len(out), len(shape))
        for i in range(1, min(len(out), len(shape)) + 1):
            a, b = out[-i], shape[-i]
            if a != b and a != 1 and b != 1:
                raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                                   f"non-singleton dimension {ndim - i}") from None
        out = tuple(np.broadcast_shapes(out, shape))


def _raise_modified(now: int, then: int, shape: tuple[int, ...], dtype: Any, device: Any, producer: Any) -> None:
    """PyTorch's error for a saved tensor changed in place since forward; ``producer`` made its values."""
    kind = f"torch.{'cuda.' if device.type == 'cuda' else ''}{_dtype.torch_name(dtype)}Tensor"
    made_by = "" if producer is None else f", which is output 0 of {re.sub(r'Backward[0-9]*$', '', producer.name())},"
    hint = ("the backtrace further above shows the operation that failed to compute its gradient. The variable in "
            "question was changed in there or anywhere later. Good luck!" if _anomaly.enabled else
            "enable anomaly detection to find the operation that failed to compute its gradient, with "
            "torch.autograd.set_detect_anomaly(True, check_nan=False).")
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{kind} [{', '.join(map(str, shape))}]]{made_by} is at version {now}; expected version {then} instead. "
        f"Hint: {hint}")


class AccumulateGrad:
    """The node PyTorch shows for a leaf in ``next_functions``: it adds gradients into ``variable.grad``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.ones(2, requires_grad=True)
        >>> (x * 2).grad_fn.next_functions[0][0].variable is x
        True
    """

    def __init__(self, variable: "Tensor") -> None:
        self.variable = variable
        self.next_functions: tuple[()] = ()

    @staticmethod
    def name() -> str:
        """``'AccumulateGrad'``; PyTorch's C++ node says ``'torch::autograd::AccumulateGrad'`` (a known difference).

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.ones(2, requires_grad=True)
            >>> (x * 2).grad_fn.next_functions[0][0].name()  # doctest: +SKIP
            'torch::autograd::AccumulateGrad'
        """
        return "AccumulateGrad"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


from .custom_function import once_differentiable  # noqa: E402 - PyTorch's path for it; that module imports this one
