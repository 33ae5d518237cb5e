"""autograd.tape: the recorded nodes behind a tensor, in the engine's order, as text, HTML and rows."""
from __future__ import annotations

import dataclasses
import sys
from typing import Any

import numpy as np
import torch

import minitorch_lsm as mt
from minitorch_lsm.autograd import Tape, tape
from minitorch_lsm.autograd.function import Function
from minitorch_lsm.autograd.tape import TapeEntry


def expression(lib: Any, x: Any, w: Any) -> Any:
    h = (x @ w).tanh()
    return (h * h + h.sigmoid()).mean() + (x * 2).exp().sum()


def torch_execution_order(root: torch.Tensor) -> list[str]:
    """Torch's nodes behind ``root`` (AccumulateGrad excluded), latest sequence number first."""
    seen, stack = {root.grad_fn}, [root.grad_fn]
    while stack:
        for node, _ in stack.pop().next_functions:
            if node is not None and node.name() != "torch::autograd::AccumulateGrad" and node not in seen:
                seen.add(node)
                stack.append(node)
    return [n.name() for n in sorted(seen, key=lambda n: n._sequence_nr(), reverse=True)]


def test_order_is_reverse_creation_order_like_torch(rng: np.random.Generator) -> None:
    xs, ws = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    y = expression(mt, mt.tensor(xs, requires_grad=True), mt.tensor(ws, requires_grad=True))
    rows = list(tape(y))
    assert [r.step for r in rows] == list(range(len(rows)))
    assert [r.seq for r in rows] == sorted((r.seq for r in rows), reverse=True)
    assert rows[0].seq == y.grad_fn.sequence_nr
    ty = expression(torch, torch.tensor(xs, requires_grad=True), torch.tensor(ws, requires_grad=True))
    assert [r.op for r in rows] == torch_execution_order(ty)


def test_rules_come_from_the_op_docstrings() -> None:
    x = mt.tensor([1.0, -2.0], requires_grad=True)
    y = (x.relu() * x).exp().sum()
    rows = list(tape(y))
    assert [r.op for r in rows] == ["SumBackward0", "ExpBackward0", "MulBackward0", "ReluBackward0"]
    assert rows[1].rule == "d exp(x) = exp(x) dx"
    assert rows[2].rule == "d(a * b) = b da + a db"
    assert rows[3].rule == "d relu(x) = [x > 0] dx"
    node = y.grad_fn
    assert rows[0].rule == " ".join(type(node).__doc__.split())  # one-line docstrings are taken whole


def test_leaves_are_numbered_constants_and_producers_named() -> None:
    a, b, c = (mt.ones(2, requires_grad=True) for _ in range(3))
    z = a * b + c
    add, mul = list(tape(z))
    assert add.inputs == (f"MulBackward0 #{z.grad_fn.next_edges[0].sequence_nr}", "leaf #0")  # c is seen first
    assert mul.inputs == ("leaf #1", "leaf #2")
    square = list(tape(a * a * 3))
    assert square[0].inputs[1] == "constant"
    assert square[1].inputs == ("leaf #0", "leaf #0")  # the same leaf twice keeps its number


def test_shapes_dtypes_and_device_of_the_inputs() -> None:
    a = mt.ones(2, 3, dtype=mt.float64, requires_grad=True)
    b = mt.ones(3, requires_grad=True)
    (row,) = tape(a * b)
    assert row.shapes == ((2, 3), (3,))
    assert row.dtypes == ("float64", "float32")
    assert row.device == "cpu"


def test_saved_tensors_are_freed_after_backward_unless_retained() -> None:
    x = mt.tensor([0.5, 1.5], requires_grad=True)
    y = (x * 2).exp().sum()
    assert [r.saved for r in tape(y)] == ["-", "held", "held"]  # Sum keeps nothing; Exp and Mul keep tensors
    y.backward(retain_graph=True)
    assert [r.saved for r in tape(y)] == ["-", "held", "held"]
    y.backward()
    assert [r.saved for r in tape(y)] == ["-", "freed", "freed"]


class Angle(Function):
    """d f(x) = <b>x</b> & "dx" (a rule with HTML in it)"""

    def forward(self, x: Any) -> Any:
        return x * 1

    def backward(self, grad: mt.Tensor) -> mt.Tensor:
        return grad


def test_text_and_html_views() -> None:
    x = mt.ones(2, requires_grad=True)
    t = tape(Angle.apply(x.relu()).sum())
    text = str(t)
    lines = text.splitlines()
    assert len(lines) == len(t) + 1
    assert lines[0].split() == ["step", "op", "rule", "shapes", "dtypes", "device", "saved", "inputs"]
    assert "AngleBackward0" in text and "[x > 0]" in text and repr(t) == text
    page = t._repr_html_()
    assert page.startswith("<table>") and page.rstrip().endswith("</table>") and page.count("<tr>") == len(t) + 1
    assert "&lt;b&gt;x&lt;/b&gt; &amp; &quot;dx&quot;" in page and "<b>" not in page
    assert "[x &gt; 0]" in page


def test_rows_are_dataclasses_and_tape_is_exported() -> None:
    x = mt.ones(2, requires_grad=True)
    t = tape((x + 1).sum())
    assert isinstance(t, Tape) and len(t) == 2
    assert all(isinstance(row, TapeEntry) for row in t)
    assert {"step", "op", "inputs", "shapes", "dtypes", "device", "rule", "saved"} <= {
        f.name for f in dataclasses.fields(TapeEntry)}
    assert mt.autograd.tape is tape and {"tape", "Tape"} <= set(mt.autograd.__all__)


def test_a_tensor_without_history_has_an_empty_tape() -> None:
    for t in (mt.ones(2, requires_grad=True), mt.ones(2) * 2):
        assert len(tape(t)) == 0 and list(tape(t)) == []
        assert len(str(tape(t)).splitlines()) == 1  # the header alone


def test_diamond_lists_each_node_once() -> None:
    a = mt.ones(2, requires_grad=True)
    b = a + a
    c = b * b
    mul, add = list(tape(c))
    assert (mul.op, add.op) == ("MulBackward0", "AddBackward0")
    assert mul.inputs == (f"AddBackward0 #{add.seq}",) * 2 and add.inputs == ("leaf #0", "leaf #0")


def test_a_10000_node_chain_does_not_recurse() -> None:
    assert sys.getrecursionlimit() < 10_000
    x = mt.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    t = tape(y)
    assert len(t) == 10_000 and len(str(t).splitlines()) == 10_001
    rows = list(t)
    assert rows[0].seq == y.grad_fn.sequence_nr and rows[-1].inputs == ("leaf #0", "constant")
    assert all(r.op == "MulBackward0" for r in rows)
    assert "<table>" in t._repr_html_()


def test_text_view_cuts_long_rules_but_rows_and_html_keep_them() -> None:
    a, b = mt.ones(2, 3, requires_grad=True), mt.ones(3, 4, requires_grad=True)
    t = tape(a @ b)
    (row,) = t
    assert row.rule == " ".join(type((a @ b).grad_fn).__doc__.split("\n\n")[0].split()) and len(row.rule) > 60
    assert row.rule not in str(t) and row.rule[:57] + "..." in str(t)
    assert row.rule.replace(">", "&gt;") in t._repr_html_()
