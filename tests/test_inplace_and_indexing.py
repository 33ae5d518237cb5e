"""In-place ops and indexing against torch: dtype and shape rules, autograd through in-place changes,
the version counter that refuses stale saved tensors, ``x[i] = v``, and indexing errors."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch

import minitorch_lsm as mt
from helpers import DEVICES, assert_same, assert_same_error, check_both, outcome, same

LIBS = pytest.mark.parametrize("lib", [mt, torch], ids=["minitorch", "torch"])


def leaf(lib, values, dtype="float32"):
    return lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)


# ---------------------------------------------------------------------- values, dtype and errors of in-place ops
INPLACE = [
    ("float32", "x.add_(1)"), ("float32", "x.add_(y)"), ("float32", "x.add_(y, alpha=2)"), ("float32", "x.add_(2, alpha=3)"),
    ("float32", "x.add_(y.double())"), ("float32", "x.sub_(y)"), ("float32", "x.sub_(0.5)"), ("float32", "x.mul_(y)"),
    ("float32", "x.mul_(-2)"), ("float32", "x.div_(4)"), ("float32", "x.div_(y)"), ("float32", "x.zero_()"),
    ("float32", "x.fill_(2.5)"), ("float32", "x.fill_(lib.tensor(3))"), ("float32", "x.fill_(lib.tensor([3.]))"),
    ("float32", "x.copy_(lib.tensor([3, 4, 5]))"), ("float32", "x.copy_(lib.tensor(5.))"),
    ("float32", "x.copy_(lib.tensor([5., 6.]))"), ("float32", "x.copy_([5., 6., 7.])"), ("float32", "x.clamp_(-1, 1)"),
    ("float32", "x.clamp_(min=0)"), ("float32", "x.clamp_(max=0.5)"), ("float32", "x.add_(lib.ones(2, 3))"),
    ("float32", "x.add_(lib.tensor([True, False, True]))"), ("float32", "x.mul_(lib.tensor(2, dtype=lib.int8))"),
    ("float32", "x += 1; x"), ("float32", "x *= y; x"), ("float32", "x -= 2; x"), ("float32", "x /= y; x"),
    ("float32", "x.add_(1).mul_(2).sub_(y)"), ("float32", "x.exp_()"), ("float32", "x.neg_()"), ("float32", "x.relu_()"),
    ("float32", "x.sigmoid_()"), ("float32", "x.tanh_()"), ("float16", "x.sigmoid_()"), ("int64", "x.sigmoid_()"),
    ("int64", "x.tanh_()"),
    ("float32", "x.masked_fill_(lib.tensor([True, False, True]), 9.)"), ("float32", "x.pow_(2)"),
    ("float32", "x.expand(2, 3).add_(1)"),
    ("int64", "x.add_(1)"), ("int64", "x.add_(1.5)"), ("int64", "x.mul_(1.5)"), ("int64", "x.div_(2)"),
    ("int64", "x.div_(2, rounding_mode='floor')"), ("int64", "x.add_(y)"), ("int64", "x.add_(lib.tensor([True, False, True]))"),
    ("int64", "x.fill_(2.7)"), ("int64", "x.fill_(float('inf'))"), ("int64", "x.copy_(lib.tensor([3.7, -4.2, 0.5]))"),
    ("int64", "x.clamp_(0, 1)"), ("int64", "x.clamp_(0.5)"), ("int64", "x.add_(2, alpha=1.5)"), ("int64", "x.zero_()"),
    ("int64", "x.sub_(lib.tensor([True]))"), ("int64", "x += 2; x"), ("int64", "x.masked_fill_(x > 0, float('-inf'))"),
    ("bool", "x.add_(1)"), ("bool", "x.mul_(True)"), ("bool", "x.mul_(2)"), ("bool", "x.fill_(0)"),
    ("bool", "x.copy_(lib.tensor([0., 2., 0.]))"), ("bool", "x.logical_not()"),
    ("uint8", "x.sub_(3)"), ("uint8", "x.add_(300)"), ("uint8", "x.fill_(-1)"), ("uint8", "x.fill_(256)"),
    ("int32", "x.add_(lib.tensor([1, 2, 3]))"), ("float16", "x.add_(0.1)"), ("float16", "x.mul_(1e5)"),
    ("float64", "x.add_(lib.tensor([1., 2., 3.]))"), ("float32", "x.fill_(1e39)"),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype, statement", INPLACE, ids=[f"{d}:{s}" for d, s in INPLACE])
def test_inplace_values_dtype_and_errors(dtype: str, statement: str, device: str) -> None:
    """The result, its dtype and its identity (``x.add_(1) is x``) match torch, or both raise the same error."""
    def run(lib):
        dev = device if lib is mt else "cpu"
        x = lib.tensor([1, -2, 3], dtype=getattr(lib, dtype), device=dev)
        y = lib.tensor([0.5, 2, -1], device=dev).to(x.dtype) if dtype != "bool" else x.clone()
        names = {"lib": lib, "x": x, "y": y}
        *setup, last = statement.split("; ")
        for line in setup:
            exec(line, names)
        result = eval(last, names)
        return result, names["x"], result is names["x"]
    check_both(run)


@LIBS
def test_inplace_on_view_changes_the_base(lib) -> None:
    x = lib.tensor([1.0, 2.0, 3.0])
    x[1:].add_(10)
    x.view(3, 1)[0].mul_(-1)
    x.unsqueeze(0).squeeze(0)[2] = 0.5
    assert x.tolist() == [-1.0, 12.0, 0.5]


# ---------------------------------------------------------------------- autograd rules
@LIBS
def test_leaf_requiring_grad_refuses_inplace(lib) -> None:
    for statement in ["x.add_(1)", "x.zero_()", "x.mul_(2)", "x.clamp_(0, 1)", "x.fill_(1.)", "x.copy_(lib.ones(2))",
                      "x.sub_(1)", "x.div_(2)"]:
        x = leaf(lib, [1.0, 2.0])
        with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad is being used in an in-place operation.$"):
            eval(statement, {"x": x, "lib": lib})


def test_leaf_error_message_matches_torch() -> None:
    assert_same_error(lambda: leaf(mt, [1.0]).add_(1), lambda: leaf(torch, [1.0]).add_(1))


@LIBS
def test_inplace_on_leaf_under_no_grad(lib) -> None:
    x = leaf(lib, [1.0, 2.0])
    with lib.no_grad():
        x.add_(1).mul_(2)
        x.zero_()
        x += 3
    assert x.is_leaf and x.requires_grad and x.grad_fn is None and x.tolist() == [3.0, 3.0]
    (x * x).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


@pytest.mark.parametrize("name", ["sigmoid_", "tanh_", "exp_", "sqrt_"])
def test_unary_inplace_gradients_match_torch(name: str) -> None:
    """d(loss)/dx through y = x * 2; y.<name>(); loss = sum(y * y): the node of the in-place op sees y's old value."""
    grads = []
    for lib in (mt, torch):
        x = leaf(lib, [0.25, 1.5, 3.0])
        y = x * 2
        getattr(y, name)()
        (y * y).sum().backward()
        grads.append(x.grad.numpy())
    # (tanh's 1 - y**2 at y near 1 turns the one-ulp difference of the float32 values into a few parts per million)
    np.testing.assert_allclose(grads[0], grads[1], rtol=2e-5)


@LIBS
def test_inplace_keeps_the_destination_dtype_under_autograd(lib) -> None:
    x = leaf(lib, [1.0, 2.0])
    y = x * 1
    y.add_(lib.tensor([1.0, 1.0], dtype=lib.float64))
    assert y.dtype == lib.float32
    y.sum().backward()
    assert x.grad.dtype == lib.float32 and x.grad.tolist() == [1.0, 1.0]


INPLACE_GRAPHS = {
    "add_tensor": lambda lib, x, w: (x * 2).add_(w),
    "mul_self_input": lambda lib, x, w: (x * 1).mul_(w).mul_(x),
    "sub_alpha": lambda lib, x, w: (x + 0).sub_(w, alpha=3),
    "div_": lambda lib, x, w: (x * 3).div_(w * w + 1),
    "clamp_": lambda lib, x, w: (x * 2).clamp_(-1, 1),
    "chain": lambda lib, x, w: (x.exp()).mul(1).add_(1).mul_(w).div_(2).exp(),
    "setitem_scalar": lambda lib, x, w: _setitem(x * 1, 0, 5.0),
    "setitem_mask": lambda lib, x, w: _setitem(x * 1, x > 0, 0.0),
    "setitem_tensor": lambda lib, x, w: _setitem(x * 2, slice(1, 3), w[:2] * 3),
    "setitem_index_list": lambda lib, x, w: _setitem(x * 2, [0, 2], w[1:]),
    "fill_": lambda lib, x, w: (x * 2).fill_(3.0) * x,
    "fill_tensor": lambda lib, x, w: (x * 2).fill_(w.sum()) * x,
    "zero_": lambda lib, x, w: (x * 2).zero_() + x,
    "copy_": lambda lib, x, w: (x * 2).copy_(w.exp()),
    "masked_fill_": lambda lib, x, w: (x * w).masked_fill_(x < 0, 0.0),
    "relu_": lambda lib, x, w: (x * w).relu_(),
    "iadd": lambda lib, x, w: _iadd(x * 2, w),
    "add_then_view": lambda lib, x, w: (x * 2).add_(w).view(3, 1),
}


def _setitem(t, index, value):
    t[index] = value
    return t


def _iadd(t, w):
    t += w
    return t


@pytest.mark.parametrize("name", sorted(INPLACE_GRAPHS))
def test_inplace_on_non_leaf_then_backward(name: str) -> None:
    """A non-leaf changed in place takes the op's node as its grad_fn: gradients match torch's."""
    build = INPLACE_GRAPHS[name]
    results = []
    for lib in (mt, torch):
        x, w = leaf(lib, [0.5, -1.5, 2.0], "float64"), leaf(lib, [1.5, 0.25, -0.5], "float64")
        out = build(lib, x, w)
        (out * lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64).reshape(out.shape)).sum().backward()
        results.append((out, x.grad, w.grad))
    assert_same(results[0], results[1], check_requires_grad=False)


def test_inplace_on_view_of_non_leaf_then_backward() -> None:
    results = []
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0, 3.0])
        y = x * 1
        y[1:].mul_(2)
        y.sum().backward()
        results.append(x.grad)
    assert_same(results[0], results[1], check_requires_grad=False)


# In-place changes through a view of a non-leaf (PyTorch's CopySlices): x is (2, 3) and w is (3,), both
# leaves; each case returns a tensor whose weighted sum is backpropagated.
VIEW_INPLACE = {
    "slice_mul_": lambda lib, x, w: _then(x * 2, lambda y: y[:, 1:].mul_(3)),
    "select_mul_by_tensor": lambda lib, x, w: _then(x * 2, lambda y: y[0].mul_(w)),
    "select_add_": lambda lib, x, w: _then(x * 2, lambda y: y[1].add_(w, alpha=-2)),
    "transpose_add_": lambda lib, x, w: _then(x * 2, lambda y: y.t().add_(w.reshape(3, 1))),
    "transpose_select_sub_": lambda lib, x, w: _then(x * 2, lambda y: y.t()[1].sub_(w[:2])),
    "copy_into_row": lambda lib, x, w: _then(x * 2, lambda y: y[1].copy_(w)),
    "copy_broadcast": lambda lib, x, w: _then(x * 2, lambda y: y[:, 0].copy_(w[1])),
    "masked_fill_": lambda lib, x, w: _then(x * 2, lambda y: y[:, 0].masked_fill_(lib.tensor([True, False]), 7.0)),
    "zero_": lambda lib, x, w: _then(x * 2, lambda y: y[0].zero_()),
    "clamp_": lambda lib, x, w: _then(x * 2, lambda y: y[0].clamp_(3, 5)),
    "div_": lambda lib, x, w: _then(x * 2 + 1, lambda y: y[:, 2].div_(w[:2])),
    "reshape_view": lambda lib, x, w: _then(x * 2, lambda y: y.reshape(-1)[2:5].mul_(10)),
    "view_of_view": lambda lib, x, w: _then(x * 2, lambda y: y[0][1:].mul_(w[1:])),
    "unsqueeze_view": lambda lib, x, w: _then(x * 2, lambda y: y.unsqueeze(0)[0, 1].sub_(w)),
    "twice_on_one_view": lambda lib, x, w: _then(x * 2, lambda y: y[0].mul_(2).add_(w)),
    "setitem_slice": lambda lib, x, w: _then(x * 2, lambda y: y.__setitem__((slice(None), 1), w[:2] * 3)),
    "setitem_number": lambda lib, x, w: _then(x * 2, lambda y: y.__setitem__(0, 5.0)),
    "setitem_mask_of_row": lambda lib, x, w: _then(x * 2, lambda y: y[0].__setitem__(w > 0, 9.0)),
    "base_without_grad": lambda lib, x, w: _then(lib.zeros(2, 3, dtype=lib.float64), lambda z: z[1].add_(w)) * x,
    "the_view_itself": lambda lib, x, w: (x * 2)[1].mul_(w),
    "sibling_view_sees_the_change": lambda lib, x, w: _sibling_view(x * 2, w),
    "view_sees_a_change_of_the_base": lambda lib, x, w: _view_then_base_changes(x * 2),
    "view_used_before_the_change": lambda lib, x, w: _view_used_then_changed(x * 2, w),
}


def _then(y, change):
    change(y)
    return y


def _sibling_view(y, w):
    column = y[:, 1]
    y[0].mul_(w)  # changes column[0] too: column's grad_fn must follow
    return column


def _view_then_base_changes(y):
    rows = y[1:]
    y.mul_(3)
    return rows


def _view_used_then_changed(y, w):
    row = y[0]
    before = row + 1  # reads the old values, through the old history
    row.mul_(w)
    return before + y[0]


@pytest.mark.parametrize("name", sorted(VIEW_INPLACE))
def test_inplace_through_a_view_gives_torchs_gradients(name: str) -> None:
    results = []
    for lib in (mt, torch):
        x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([0.5, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
        out = VIEW_INPLACE[name](lib, x, w)
        weights = lib.arange(out.numel(), dtype=lib.float64).reshape(out.shape) * 0.5 + 1
        (out * weights).sum().backward()
        results.append((out, x.grad, w.grad))
    assert_same(results[0], results[1], check_requires_grad=False)


def test_the_base_of_a_changed_view_takes_a_copyslices_node() -> None:
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0, 3.0])
        y = x * 1
        view = y[1:]
        view.mul_(2)
        assert type(y.grad_fn).__name__ == "CopySlices" and repr(y).endswith("grad_fn=<CopySlices>)")
        assert y.grad_fn.next_functions[0][0] is not None  # the base's old history
        assert view._base is y and view._is_view() and not y._is_view() and view.requires_grad
        assert view.grad_fn is not None and view.grad_fn.next_functions[0][0] is y.grad_fn


def test_gradients_through_copyslices_pass_gradcheck_and_gradgradcheck() -> None:
    def f(x, w):
        y = x * x
        y[0, 1:].mul_(w)
        y.t()[2].add_(w[1:] * w[1:])
        return y.sin()
    x = mt.tensor([[0.3, -1.2, 0.7], [1.1, 0.4, -0.6]], dtype=mt.float64, requires_grad=True)
    w = mt.tensor([0.9, -0.8], dtype=mt.float64, requires_grad=True)
    assert mt.autograd.gradcheck(f, (x, w))
    assert mt.autograd.gradgradcheck(f, (x, w))


@LIBS
def test_inplace_on_a_view_of_a_leaf_requiring_grad_raises(lib) -> None:
    x = leaf(lib, [1.0, 2.0, 3.0])
    for change in (lambda: x[1:].mul_(2), lambda: x.t().add_(1), lambda: x.__setitem__(0, 1.0)):
        with pytest.raises(RuntimeError, match="^a view of a leaf Variable that requires grad is being used in an "
                                               "in-place operation.$"):
            change()
    with lib.no_grad():
        x[1:].mul_(2)  # an optimizer-style update is fine
    assert x.tolist() == [1.0, 4.0, 6.0]


def test_inplace_with_grad_on_a_view_made_under_no_grad_raises_torchs_error() -> None:
    def run(lib, base_requires_grad):
        x = leaf(lib, [1.0, 2.0, 3.0])
        y = x * 1 if base_requires_grad else lib.zeros(3)
        with lib.no_grad():
            view = y[1:]
        view.add_(x[:2])
    for base_requires_grad in (True, False):
        assert_same_error(lambda: run(mt, base_requires_grad), lambda: run(torch, base_requires_grad))


@pytest.mark.parametrize("base", ["leaf", "non-leaf", "detached"])
def test_a_view_made_under_no_grad_of_a_base_that_requires_grad_refuses_in_place_changes(base: str) -> None:
    """Even by a number, and even of a leaf's view: PyTorch counts such a view as requiring grad (its flag
    says True), so the change would need recording, which it refuses."""
    def run(lib):
        x = leaf(lib, [1.0, 2.0, 3.0])
        b = {"leaf": x, "non-leaf": x * 1, "detached": x.detach()}[base]
        with lib.no_grad():
            view = b[:2]
        seen = (view.requires_grad, view.grad_fn, view.is_leaf)
        view.mul_(2)
        return seen, b
    check_both(run)


def test_ops_on_a_no_grad_view_of_a_base_that_requires_grad_record_nodes_that_lead_nowhere() -> None:
    def run(lib):
        w = leaf(lib, [1.0, 1.0, 1.0])
        with lib.no_grad():
            v = w[:2]
        y = (v * 2).sum()
        seen = [(y.requires_grad, y.grad_fn.name())]
        y.backward()  # runs, and no gradient reaches v or w
        seen += [(r.requires_grad, r.grad_fn.name()) for r in (lib.cat([v, v]), v.clone(), v.double(), v.exp())]
        return seen, w.grad
    check_both(run)


def test_the_autograd_check_comes_before_the_overlap_check() -> None:
    def run(lib):
        v = leaf(lib, [1.0, 1.0, 1.0, 1.0])
        v[1:3] = v[:2]
    check_both(run)


def test_inplace_under_no_grad_on_a_view_made_under_no_grad_is_fine() -> None:
    results = []
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0, 3.0])
        y = x * 2
        with lib.no_grad():
            y[1:].mul_(5)
        (y * y).sum().backward()  # the change is not tracked: d(y*y)/dx = 2 y * 2
        results.append((y, x.grad))
    assert_same(results[0], results[1], check_requires_grad=False)


@LIBS
def test_detach_in_place_of_a_view_raises(lib) -> None:
    with pytest.raises(RuntimeError, match="^Can't detach views in-place. Use detach\\(\\) instead."):
        lib.zeros(3)[1:].detach_()


def test_a_reshape_that_copies_is_not_a_view() -> None:
    for lib in (mt, torch):
        m = lib.ones(2, 3)
        copied, viewed = m.t().reshape(-1), m.reshape(-1)
        assert not copied._is_view() and viewed._is_view() and viewed._base is m
        copied.add_(1)
        assert m._version == 0 and m.tolist() == [[1.0] * 3] * 2
        viewed.add_(1)
        assert m._version == 1 and m.tolist() == [[2.0] * 3] * 2


@LIBS
def test_version_counter(lib) -> None:
    x = lib.zeros(3)
    v = x._version
    x.add_(1)
    x[0] = 2
    x.mul_(3)
    assert x._version == v + 3
    view = x[1:]
    view.add_(1)
    assert x._version == v + 4 == view._version


MODIFY_SAVED = {
    "mul_input": lambda lib, x: _modify(lambda y: (y * y, y), lambda y: y.add_(1), x),
    "exp_output": lambda lib, x: _modify(lambda y: (y.exp(), None), lambda e: None, x, modify_output=True),
    "sigmoid_output": lambda lib, x: _modify(lambda y: (y.sigmoid(), None), lambda e: None, x, modify_output=True),
    "div_denominator": lambda lib, x: _modify(lambda y: (x / y, y), lambda y: y.mul_(2), x),
    "setitem_on_saved": lambda lib, x: _modify(lambda y: (y.log(), y), lambda y: y.__setitem__(0, 1.0), x),
    "view_of_saved": lambda lib, x: _modify(lambda y: (y.sin(), y), lambda y: y[1:].zero_(), x),
}


def _modify(forward, change, x, modify_output=False):
    y = x * 1
    out, saved = forward(y)
    if modify_output:
        out.mul_(2)
    else:
        change(saved)
    out.sum().backward()


@pytest.mark.parametrize("name", sorted(MODIFY_SAVED))
@pytest.mark.parametrize("anomaly", [False, True])
def test_modifying_a_saved_tensor_then_backward_raises(name: str, anomaly: bool) -> None:
    """Same class and message (dtype, shape, the op that made the values, versions, the hint) as torch."""
    case = MODIFY_SAVED[name]
    with mt.autograd.set_detect_anomaly(anomaly), torch.autograd.set_detect_anomaly(anomaly), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anomaly mode's "Error detected in ..." warning
        error = assert_same_error(lambda: case(mt, leaf(mt, [1.0, 2.0, 3.0])),
                                  lambda: case(torch, leaf(torch, [1.0, 2.0, 3.0])), message=False)
        _, theirs = outcome(lambda: case(torch, leaf(torch, [1.0, 2.0, 3.0])))
    # torch's C++ node calls itself torch::autograd::CopySlices; ours prints as torch's repr does: CopySlices
    assert str(error) == str(theirs).replace("torch::autograd::CopySlices", "CopySlices")
    assert str(error).startswith("one of the variables needed for gradient computation has been modified by an "
                                 "inplace operation")


def test_modifying_an_unsaved_tensor_is_fine() -> None:
    results = []
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0])
        y = x * 2
        z = y + 1          # add saves nothing
        y.mul_(3)
        (z * 1).sum().backward()
        results.append(x.grad)
    assert_same(results[0], results[1], check_requires_grad=False)


# An op saves an input only when a gradient that is needed reads it (``grad_reads``): y * 2 keeps the 2, so
# changing y afterwards is fine; y * w keeps both. Each case ends with w.grad, or torch's error.
SAVED_ONLY_WHEN_READ = {
    "mul_by_scalar": "z = y * 2; y.add_(1)",
    "mul_by_constant_tensor": "z = y * lib.tensor([2., 3., 4.]); y.add_(1)",
    "mul_changed_constant": "c = lib.tensor([2., 3., 4.]); z = y * c; c.add_(1)",
    "mul_of_two_needing_grad": "z = y * w; y.add_(1)",
    "div_numerator": "z = y / 2; y.add_(1)",
    "div_denominator": "z = 2 / y; y.add_(1)",
    "mul_of_a_select": "z = y[0] * 3; y.add_(1)",
    "mul_of_a_view": "z = y.view(3, 1) * 3; y.add_(1)",
    "matmul_changed_operand_not_read": "m = lib.ones(2, 3); z = m @ (y * lib.ones(3, 3)); y.add_(1)",
    "matmul_changed_operand_read": "m = lib.ones(2, 3); z = m @ (y * lib.ones(3, 3)); m.add_(1)",
    "linear_bias_only": "x = lib.ones(2, 4); W = lib.ones(3, 4); z = lib.nn.functional.linear(x, W, y); x.add_(1); W.add_(1)",
    "linear_weight": "x = lib.ones(2, 3); z = lib.nn.functional.linear(x, y.expand(4, 3)); x.add_(1)",
    "where_branches": "c = lib.tensor([True, False, True]); a = y * 1; z = lib.where(c, a, y * 3); a.add_(1)",
    "log_softmax_twice": "g = y * 1; z = lib.autograd.grad(lib.log_softmax(g, 0), g, lib.ones(3), create_graph=True)[0]; g.add_(1)",
    "data_is_not_tracked": "z = w * w; w.data.add_(1)",
    "leaf_changed_under_no_grad": "z = w * w\nwith lib.no_grad(): w.add_(1)",
}


@pytest.mark.parametrize("name", sorted(SAVED_ONLY_WHEN_READ))
def test_an_input_no_needed_gradient_reads_may_change_like_torch(name: str) -> None:
    def run(lib: Any) -> Any:
        w = lib.ones(3, requires_grad=True)
        y = w * 2
        scope = {"lib": lib, "w": w, "y": y}
        exec(SAVED_ONLY_WHEN_READ[name], scope)
        scope["z"].sum().backward()
        return [round(value, 5) for value in w.grad.tolist()]
    same(run)


# ---------------------------------------------------------------------- x[index] = value
SETITEM = [
    "x[0] = 5", "x[-1] = 2.5", "x[1:3] = 0", "x[:, 1] = lib.tensor([7., 8., 9.])", "x[x > 3] = -1",
    "x[[0, 2]] = lib.tensor([[1., 1., 1., 1.]])", "x[lib.tensor([1, 1])] = 4", "x[..., -1] = x[..., 0]",
    "x[None, 0] = 1", "x[0] = lib.tensor([1, 2, 3, 4])", "x[0] = lib.tensor([1., 2.])", "x[1:] = lib.ones(3, 4)",
    "x[0, 0] = float('inf')", "x[:] = lib.tensor(1., dtype=lib.float64)", "x[lib.tensor([True, False, True])] = 0",
    "x[x > 3] = lib.tensor(1.)", "x[1] = 2.7", "x[0] = -1e20",
    # leading size-1 dims of the value are dropped before it is expanded
    "x[0] = lib.ones(1, 4)", "x[0] = lib.ones(1, 1, 4)", "x[[0, 1]] = lib.ones(1, 1, 4)", "x[0] = lib.ones(2, 4)",
    "x[1:] = lib.ones(1, 1, 2, 4)", "x[0] = lib.ones(1, 2, 4)",
    # one mask (with ints, slices, None or ... beside it) and a one-element value: masked_fill_, which casts
    "x[x > 3] = lib.tensor([9.5], dtype=lib.float64)", "x[x > 3] = lib.tensor([[9.]])", "x[0, x[0] > 1] = lib.tensor(9.5)",
    "x[..., x[0] > 1, None] = lib.tensor([9], dtype=lib.int64)", "x[x > 3] = lib.tensor([9., 8.], dtype=lib.float64)",
    "x[[0]] = lib.tensor([9.], dtype=lib.float64)", "x[x[:, 0] > 3, lib.tensor(1)] = lib.tensor([9.5])",
    # a value that does not broadcast to the selected positions: that error comes before the dtype's
    "x[x > 3] = lib.tensor([9., 8.])", "x[[0, 1]] = lib.ones(3, 4)", "x[[0, 1]] = lib.ones(3, 4, dtype=lib.float64)",
    "x[x[:, 0] > 3, lib.tensor(1)] = lib.tensor([9.5, 1., 1.])", "x[[0, 1]] = lib.ones(2, 1, 4)",
]


@pytest.mark.parametrize("dtype", ["float32", "int64"])
@pytest.mark.parametrize("statement", SETITEM)
def test_setitem(statement: str, dtype: str) -> None:
    def run(lib):
        x = lib.arange(12, dtype=getattr(lib, dtype)).reshape(3, 4)
        exec(statement, {"lib": lib, "x": x})
        return x
    check_both(run)


@pytest.mark.parametrize("statement", ["y[0] += 1", "y[1:] *= 3", "v = y[0:2]; v.copy_(v)", "y[0] = y[0]",
                                       "y[0] = y[1] * 5", "y[y > 1] = w[0]", "y[1] = w[None, None, 2]"])
def test_setitem_from_the_same_tensor_in_the_graph_like_torch(statement: str) -> None:
    """``y[0] += 1`` is ``y[0] = y[0].__iadd__(1)``: the value is a view of y changed in place, which once
    failed backward (a node had saved it)."""
    def run(lib):
        w = lib.tensor([1., 2., 3.], requires_grad=True)
        y = w * 2
        exec(statement, {"lib": lib, "y": y, "w": w})
        (y * y).sum().backward()
        return y, w.grad
    check_both(run)


@pytest.mark.parametrize("statement", ["w.add_(1)", "w[0] = 0.", "w.t().add_(1)", "w[0].add_(1)",
                                       "(w * w).sum().backward(); w -= 0.1 * w.grad"])
def test_a_leaf_made_by_a_view_op_refuses_in_place_changes_like_torch(statement: str) -> None:
    """``randn(6).view(2, 3).requires_grad_()`` is a leaf that is a view of a leaf: an in-place change of it
    (outside no_grad) raises, as for a plain leaf, and once turned it into a non-leaf, losing its gradient."""
    def run(lib):
        w = lib.arange(6.).view(2, 3).requires_grad_()
        exec(statement, {"lib": lib, "w": w})
        return w, w.is_leaf
    check_both(run)


@LIBS
def test_setitem_on_leaf_requiring_grad_raises(lib) -> None:
    x = leaf(lib, [1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad is being used in an in-place operation"):
        x[0] = 5.0
    with lib.no_grad():
        x[0] = 5.0
    assert x.tolist() == [5.0, 2.0] and x.is_leaf


# ---------------------------------------------------------------------- reading: gradients and errors
@pytest.mark.parametrize("device", DEVICES)
def test_repeated_indices_accumulate_gradient(device: str) -> None:
    results = []
    for lib in (mt, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True, device=device if lib is mt else "cpu")
        picked = x[[0, 0, 2, 0]] * lib.tensor([[1.0], [2.0], [3.0], [4.0]], device=x.device)
        rows = x[lib.tensor([1, 1], device=x.device), lib.tensor([0, 0], device=x.device)]
        (picked.sum() + rows.sum() + x.gather(0, lib.tensor([[2, 2], [2, 0]], device=x.device)).sum()).backward()
        results.append(x.grad)
    assert_same(results[0], results[1], check_requires_grad=False)


def test_indexing_returns_views_that_share_memory() -> None:
    for lib in (mt, torch):
        x = lib.zeros(3, 4)
        row, column = x[1], x[:, 2]
        x.add_(1)
        assert row.tolist() == [1.0] * 4 and column.tolist() == [1.0] * 3
        fancy = x[[0, 1]]
        x.add_(1)
        assert fancy.tolist() == [[1.0] * 4] * 2, "advanced indexing copies"


@pytest.mark.parametrize("expression", [
    "x[5]", "x[-5]", "x[0, 0, 0]", "x[lib.tensor([1.5])]", "x[lib.tensor([4])]", "x[lib.tensor([True, False])]",
    "x[:, 3]", "x[lib.tensor([[True, False, True]])]",
])
def test_indexing_errors(expression: str) -> None:
    message = expression in ("x[5]", "x[-5]", "x[0, 0, 0]", "x[lib.tensor([1.5])]", "x[:, 3]")
    assert_same_error(lambda: eval(expression, {"lib": mt, "x": mt.zeros(4, 3)}),
                      lambda: eval(expression, {"lib": torch, "x": torch.zeros(4, 3)}), message=message)


@pytest.mark.parametrize("expression", [
    "x.gather(1, lib.tensor([[0], [3]]))",
    "x.gather(1, lib.tensor([[0], [1]], dtype=lib.int16))", "x.gather(2, lib.tensor([[0], [1]]))",
    "x.masked_fill(lib.tensor([1, 0, 1]), 0.)", "x.masked_fill(lib.tensor([1, 0, 1], dtype=lib.uint8), 0.)",
    "x.masked_fill(lib.tensor([True, False, True]), lib.tensor([1., 2.]))",
    "x.masked_fill(lib.tensor([True, False]), 0.)", "x.index_select(0, lib.tensor([[0]]))",
    "x.index_select(0, lib.tensor([0.]))", "x.index_select(0, lib.tensor([2]))", "x.index_select(1, lib.tensor([-1]))",
    "x.scatter(1, lib.tensor([[0], [1]]), lib.tensor([[1.], [2.]], dtype=lib.float64))",
    "x.scatter(1, lib.tensor([[0], [5]]), 1.)",
    "x.scatter_add(1, lib.tensor([[0], [1]]), lib.ones(2, 1, dtype=lib.float64))",
    "x + lib.zeros(3, 2)", "x < lib.zeros(2)", "lib.maximum(x, lib.zeros(2))", "lib.zeros(2) * lib.zeros(3, 4)",
    "lib.zeros(5, 2) + lib.zeros(3, 1, 4)", "lib.where(lib.tensor([True, False]), lib.zeros(3), lib.zeros(3))",
    "lib.where(lib.tensor([True, False, True]), lib.zeros(2, 1), lib.zeros(4))",
    "lib.cat([x, lib.zeros(3, 2)])", "lib.cat([x, lib.zeros(3)])", "lib.cat([])", "lib.cat([lib.tensor(1.)])",
    "lib.cat(x)", "lib.stack([lib.zeros(2), lib.zeros(3)])", "lib.stack([])",
    "x.reshape(4, 2)", "x.view(-1, -1)", "x.reshape(-1, 4)", "x.permute(0, 0)", "x.permute(0)", "x.transpose(0, 2)",
    "lib.zeros(2, 3, 4).t()", "lib.zeros(2).mT", "x.expand(3, 3)", "x.expand(3)", "x.repeat(2)", "lib.zeros(5).split([2, 2])",
    "lib.zeros(5).chunk(0)", "x @ x", "lib.zeros(3) @ lib.zeros(4)", "x @ lib.zeros(3, dtype=lib.float64)",
    "lib.matmul(x, lib.tensor(1.))", "lib.mm(lib.zeros(3), lib.zeros(3, 2))", "lib.bmm(x, x)", "lib.dot(x, lib.zeros(2))",
    "x.sum(2)", "x.sum((0, 0))", "x.mean(-3)", "lib.zeros(0).max()", "lib.zeros(0).argmax()", "lib.zeros(2, 0).max(1)",
    "lib.zeros(2, 0).amax(1)", "lib.zeros(3).squeeze(1)", "lib.zeros(3).unsqueeze(2)", "lib.zeros(3).flatten(1)",
    "lib.zeros(2, 3, 4).flatten(2, 1)", "lib.where(lib.tensor([1, 0]), lib.zeros(2), lib.ones(2))", "lib.zeros(2).clamp()",
    "x.narrow(1, 2, 2)", "x.item()", "lib.tensor([1, 2]) // 0", "lib.tensor([5, 3]) % lib.tensor([0, 1])",
    "lib.tensor([True]) // lib.tensor([True])", "lib.tensor([True]) % lib.tensor([True])", "lib.tensor([1, 2]) ** -1",
    "-lib.tensor([True])", "lib.tensor([True]) - lib.tensor([True])", "lib.sqrt([1.])",
])
def test_op_errors(expression: str) -> None:
    """Misuse raises what torch raises; the message too, except where torch's names its C++ kernels."""
    differs = ("x @ lib.zeros(3, dtype", "lib.tensor([True, False]), 0.)", "x.masked_fill(lib.tensor([True, False])",
               "lib.zeros(3) @", "lib.matmul(x, lib.tensor", "lib.mm(", "lib.bmm(", "lib.dot(", "x @ x", "x.permute(0)",
               "x.repeat(2)", "lib.zeros(5).chunk(0)", "lib.cat([x, lib.zeros(3)])", "lib.zeros(2).clamp()",
               "lib.stack([])", "lib.zeros(2, 0).max(1)", "lib.zeros(0).max()", "lib.zeros(0).argmax()",
               "x.transpose(0, 2)", "x.narrow(1, 2, 2)", "lib.sqrt([1.])", "lib.zeros(2, 3, 4).t()", "lib.zeros(2).mT",
               "x.index_select(0, lib.tensor([0.]))", "x.index_select(0, lib.tensor([[0]]))", "x.view(-1, -1)",
               "lib.zeros(3).flatten(1)", "lib.zeros(2, 3, 4).flatten(2, 1)", "lib.zeros(2, 0).amax(1)")
    message = not any(expression.startswith(d) or d in expression for d in differs)
    assert_same_error(lambda: eval(expression, {"lib": mt, "x": mt.zeros(2, 3)}),
                      lambda: eval(expression, {"lib": torch, "x": torch.zeros(2, 3)}), message=message)


@pytest.mark.parametrize("expression", [
    "x.index_select(0, lib.tensor([1, 0], dtype=lib.int32))", "x.gather(1, lib.tensor([[0], [1]], dtype=lib.int32))",
    "x.scatter(1, lib.tensor([[0], [1]], dtype=lib.int32), 1.)", "x[lib.tensor([1, 0], dtype=lib.int32)]",
    "x[lib.tensor([True, False], dtype=lib.bool)]", "x[lib.tensor([1, 0], dtype=lib.uint8).bool()]",
    "x[np.array([1, 0])]", "x[np.int64(1)]", "x[lib.tensor(1)]", "x[1, lib.tensor([2, 0])]",
    "x[[]]", "x[1:1]", "x[..., None]", "x[:, :, None, ...]", "x[()]",
    "lib.tensor(3.)[()]", "lib.tensor(3.)[None]", "lib.tensor(3.)[...]",
])
def test_more_index_forms(expression: str) -> None:
    check_both(lambda lib: eval(expression, {"lib": lib, "np": np, "x": lib.arange(6.).reshape(2, 3)}))


NAMESPACE_IN_PLACE = {  # torch.<name>(x, *args): the method's result, in x itself
    "relu_": (), "neg_": (), "negative_": (), "exp_": (), "sqrt_": (), "zero_": (), "detach_": (), "sigmoid_": (),
    "tanh_": (),
    "clamp_": (-0.5, 1.0), "clip_": (0.0,), "fill_": (2.5,),
}


@pytest.mark.parametrize("name", sorted(NAMESPACE_IN_PLACE))
def test_namespace_in_place_functions_match_torch(name):
    """torch.relu_(x) and the like change x in place and return it, as the methods do."""
    values = np.array([-1.5, 0.25, 4.0], np.float32)
    results = []
    for lib in (mt, torch):
        x = lib.tensor(values)
        before = x._version
        out = getattr(lib, name)(x, *NAMESPACE_IN_PLACE[name])
        assert out is x
        results.append((x.numpy().copy(), x._version - before))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)  # (exp: torch's is not NumPy's, to the bit)
    assert results[0][1] == results[1][1]


@pytest.mark.parametrize("name", sorted(NAMESPACE_IN_PLACE))
def test_namespace_in_place_functions_reject_a_non_tensor_as_torch(name):
    messages = []
    for lib in (mt, torch):
        with pytest.raises(TypeError) as caught:
            getattr(lib, name)([1.0])
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("name,args", [("negative_", ()), ("clip_", (0.0, 1.0))])
def test_negative_and_clip_in_place_methods(name, args):
    results = []
    for lib in (mt, torch):
        x = lib.tensor([-1.5, 0.25, 4.0])
        assert getattr(x, name)(*args) is x
        results.append(x.numpy().copy())
    np.testing.assert_array_equal(*results)


@pytest.mark.parametrize("statement", [
    "x[1:].add_(x[:-1])", "x[:3].copy_(x[2:])", "x[1:].clamp_(x[:-1])", "x.view(5, 1)[1:].copy_(x.view(5, 1)[:-1])",
    "x[1:] = x[:-1]", "x[0:2] = x[3:]", "x.view(1, 5).copy_(x)", "x[:4].view(2, 2).t().add_(x[:4].view(2, 2))",
    "x[:2].copy_(x[1:2].expand(2))", "x.add_(x)", "x.add_(x.view(5))", "x[1:3].sub_(x[1:3])",
    "x[:4].view(2, 2).div_(x[:2])", "x[::2].mul_(x[:3])",
])
def test_an_operand_partly_overlapping_the_destination_raises_as_in_torch(statement: str) -> None:
    """Both dense and their memory meets, but not as the same elements: PyTorch refuses (the result would
    depend on the order of the writes); not dense (a step, an expanded dim): PyTorch does not check."""
    def run(lib):
        x = lib.arange(5.0)
        exec(statement)
        return x
    check_both(run)


@pytest.mark.parametrize("statements", [
    "y.relu_(); y.mul_(2)", "y.exp_(); y.add_(1)", "y.sqrt_(); y[0:1].mul_(2)", "y.sigmoid_(); z = y * 1; y.mul_(2)",
    "y.tanh_(); y.tanh_()", "y[1:].exp_(); y.mul_(2)", "y.relu_()", "y[1:].exp_()", "y.exp_(); y = y * 2",
])
def test_a_second_change_of_what_an_in_place_node_keeps_is_noticed(statements: str) -> None:
    """relu_, exp_, sqrt_, sigmoid_ and tanh_ keep their result for backward: changing the tensor again
    before backward makes backward raise PyTorch's error (message and versions); else the gradients match."""
    def run(lib):
        x = leaf(lib, [1.0, 2.0, 0.5])
        y = x * 1
        exec(statements)
        (y * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        return x.grad
    check_both(run)


@pytest.mark.parametrize("statement", [
    "x[lib.tensor([5])] = 1", "x[lib.tensor([-6])] = 1", "x[lib.tensor([0, 7])] = lib.tensor([1., 2.])",
    "x[:, lib.tensor([3])] = 0", "x[lib.tensor([1]), lib.tensor([9])] = 2", "x[lib.tensor([True, False])] = 1",
    "x[lib.tensor([[True]])] = 1", "x[[0, 5]] = 1", "x[10] = 1", "x[0, 5] = 1", "x[0, 0, 0] = 1",
    "x[lib.tensor([0, 1]), lib.tensor([0, 1, 2])] = 1", "x[lib.tensor([4, -5])] = lib.tensor([1., 2., 3.])",
])
def test_bad_indices_of_an_assignment_raise_torchs_errors(statement: str) -> None:
    """In PyTorch's order: masks and the index tensors' shapes, then the value's shape, then the bounds."""
    def run(lib):
        x = lib.zeros(5, 3)
        exec(statement)
        return x
    check_both(run)


def test_a_view_records_ops_once_its_base_gained_a_history_in_place() -> None:
    """The view needed no grad when it was made; its base then changed in place by one that does: an op on
    the view (without reading its flag first) records, and the gradient reaches the other operand."""
    def run(lib):
        b = lib.ones(4)
        v = b.view(2, 2)
        w = leaf(lib, [1.0, 2.0, 3.0, 4.0])
        b.add_(w)
        (v * v).sum().backward()
        return w.grad
    check_both(run)
