"""A teaching view of the tape: the nodes behind a tensor, in the order backward runs them.

Every recorded op is a node (``tensor.grad_fn``) that points at the nodes of its inputs through
``next_edges``. ``tape(y)`` walks those edges (iteratively: a 100,000-op chain is fine) and lists the
nodes by descending creation number, which is the order the engine executes them. Each row shows the
op, where its inputs come from (a leaf, another node ``Name #sequence_nr``, or a constant that needs
no gradient), their shapes and dtypes, the derivative rule (the op class's docstring) and whether
the tensors saved for backward are still held or were freed by a backward without ``retain_graph``.

Examples:
    >>> import minitorch_lsm as torch
    >>> x = torch.tensor([1., 2.], requires_grad=True)
    >>> y = (x * 2).exp().sum()
    >>> print(torch.autograd.tape(y))  # doctest: +ELLIPSIS
    step  op            rule                     shapes    dtypes          device  saved  inputs
    0     SumBackward0  d sum(x) = broadcast(g)  (2,)      float32         cpu     -      ExpBackward0 #...
    1     ExpBackward0  d exp(x) = exp(x) dx     (2,)      float32         cpu     held   MulBackward0 #...
    2     MulBackward0  d(a * b) = b da + a db   (2,), ()  float32, int64  cpu     held   leaf #0, constant
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from .function import Function, edge_node

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["Tape", "TapeEntry", "tape"]


@dataclass(frozen=True)
class TapeEntry:
    """One node of the tape, as plain values.

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.tensor([1., 2.], requires_grad=True)
        >>> y = (x * 2).sum()
        >>> entry = torch.autograd.tape(y).entries[1]
        >>> entry.op, entry.rule, entry.inputs
        ('MulBackward0', 'd(a * b) = b da + a db', ('leaf #0', 'constant'))
    """

    step: int                      # position in execution order (0 runs first)
    seq: int                       # the node's sequence_nr (creation number)
    op: str                        # node.name(), e.g. "MulBackward0"
    inputs: tuple[str, ...]        # "leaf #k", "<Name> #<sequence_nr>" or "constant", per input
    shapes: tuple[tuple[int, ...], ...]
    dtypes: tuple[str, ...]
    device: str
    rule: str                      # the derivative rule: first paragraph of the op class's docstring
    saved: str                     # "held", "freed" or "-" (the node saves nothing)


_COLUMNS = ("step", "op", "rule", "shapes", "dtypes", "device", "saved", "inputs")


class Tape:
    """The rows of ``tape(tensor)``: iterate over them, print them, or show them as HTML in a notebook.

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.tensor([1., 2.], requires_grad=True)
        >>> y = (x * 2).sum()
        >>> [entry.op for entry in torch.autograd.tape(y)]
        ['SumBackward0', 'MulBackward0']
    """

    def __init__(self, entries: list[TapeEntry]) -> None:
        self.entries = entries

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[TapeEntry]:
        return iter(self.entries)

    def _cells(self, limit: int | None = None) -> list[list[str]]:
        def text(value: Any) -> str:
            value = ", ".join(map(str, value)) if isinstance(value, tuple) else str(value)
            return value if limit is None or len(value) <= limit else value[:limit - 3] + "..."
        return [[text(getattr(e, name)) for name in _COLUMNS] for e in self.entries]

    def __str__(self) -> str:  # long rules are cut short here; the rows and the HTML keep them whole
        rows = [list(_COLUMNS)] + self._cells(limit=60)
        widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{name}</th>" for name in _COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>\n" for row in self._cells())
        return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def _rule(node: Function) -> str:
    doc = type(node).__doc__ or ""  # a class's own docstring: not inherited from Function
    return " ".join(doc.strip().split("\n\n")[0].split())


def _saved(node: Function) -> str:
    if node._freed:
        return "freed"
    held = node._saved_inputs is not None or node._saved_output is not None or node.saved is not None
    return "held" if held else "-"


def tape(tensor: "Tensor") -> Tape:
    """The recorded nodes behind ``tensor``, in the order backward executes them (latest created first).

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.tensor([1., 2.], requires_grad=True)
        >>> y = (x * 2).sum()
        >>> y.backward()
        >>> [entry.saved for entry in torch.autograd.tape(y)]  # freed by backward
        ['-', 'freed']
    """
    from ..tensor import Tensor

    if tensor.grad_fn is None:
        return Tape([])
    nodes, stack = {tensor.grad_fn}, [tensor.grad_fn]
    while stack:  # an explicit stack, not recursion
        for node in map(edge_node, stack.pop().next_edges):
            if node is not None and node not in nodes:
                nodes.add(node)
                stack.append(node)

    order = sorted(nodes, key=lambda n: n.sequence_nr, reverse=True)
    leaves: dict[int, int] = {}
    devices: dict[Function, Any] = {tensor.grad_fn: tensor.device}  # a node's output device, passed down
    entries = []
    for step, node in enumerate(order):
        device = devices.get(node)
        input_device = device
        if node.changes_device:  # e.g. x.to("cuda"): the inputs live elsewhere
            leaf_devices = [e.device for e in node.next_edges if isinstance(e, Tensor)]
            input_device = leaf_devices[0] if leaf_devices else getattr(node, "source_device", None)
        inputs = []
        for edge in node.next_edges:
            if isinstance(edge, Tensor):
                inputs.append(f"leaf #{leaves.setdefault(id(edge), len(leaves))}")
            elif edge is not None:
                producer = edge_node(edge)
                inputs.append(f"{producer.name()} #{producer.sequence_nr}")
                if input_device is not None:
                    devices.setdefault(producer, input_device)
            else:
                inputs.append("constant")
        where = str(device) if device is not None else "?"
        if node.changes_device and input_device is not None and input_device != device:
            where = f"{input_device} -> {where}"
        entries.append(TapeEntry(
            step=step, seq=node.sequence_nr, op=node.name(), inputs=tuple(inputs),
            shapes=tuple(tuple(shape) for shape, _ in node.input_meta),
            dtypes=tuple(str(dtype).removeprefix("torch.") for _, dtype in node.input_meta),
            device=where, rule=_rule(node), saved=_saved(node)))
    return Tape(entries)
