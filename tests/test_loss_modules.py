"""The modules nn.LogSoftmax, nn.Softmax, nn.Softmin, nn.NLLLoss and nn.CrossEntropyLoss against
PyTorch's: reprs, extra_repr, __constants__, attributes, buffers and state_dict, the legacy
size_average/reduce mapping in the constructor, late validation, warnings, and forward/backward
parity over shapes, weights, ignore_index and label smoothing."""
from __future__ import annotations

import inspect
import itertools
import os

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given, settings

import minitorch_lsm as mt
from oracle import (DEVICES, assert_close, assert_same_error, grad_like, pair, recorded_warnings, same_outcome,
                    warning_summary)

pytestmark = pytest.mark.usefixtures("c_and_numpy_kernels")  # each test runs on the C kernels and on NumPy

EX_X = np.array([[1., 2., 3.], [1., 1., 1.], [0., 5., 1.]], dtype=np.float32)
EX_T = np.array([2, 0, 1])
EX_W = np.array([1., 2., 4.], dtype=np.float32)
ACTIVATIONS = ["LogSoftmax", "Softmax", "Softmin"]
LOSSES = ["NLLLoss", "CrossEntropyLoss"]


# ---------------------------------------------------------------------- repr, constants, attributes
@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("args,kwargs", [((), {}), ((1,), {}), ((), {"dim": 0}), ((-1,), {}), ((), {"dim": None}),
                                         ((3,), {})])
def test_activation_repr_and_attributes(name, args, kwargs):
    ours, theirs = getattr(mt.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert ours.extra_repr() == theirs.extra_repr()
    assert ours.dim == theirs.dim
    assert type(ours).__constants__ == type(theirs).__constants__ == ["dim"]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    assert list(ours.parameters()) == [] and list(ours.buffers()) == []


def test_repr_examples():
    assert repr(mt.nn.LogSoftmax(dim=1)) == "LogSoftmax(dim=1)"
    assert repr(mt.nn.LogSoftmax()) == "LogSoftmax(dim=None)"
    assert repr(mt.nn.LogSoftmax(-1)) == "LogSoftmax(dim=-1)"
    assert repr(mt.nn.Softmax(dim=0)) == "Softmax(dim=0)"
    model = mt.nn.Sequential(mt.nn.Linear(4, 3), mt.nn.LogSoftmax(dim=1))
    expected = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LogSoftmax(dim=1))
    assert repr(model) == repr(expected) == \
        "Sequential(\n  (0): Linear(in_features=4, out_features=3, bias=True)\n  (1): LogSoftmax(dim=1)\n)"


LOSS_ARGUMENTS = [{}, {"weight": "w"}, {"ignore_index": 1}, {"reduction": "sum"}, {"reduction": "none"},
                  {"reduction": "avg"}, {"weight": "w", "ignore_index": -1, "reduction": "sum"},
                  {"label_smoothing": 0.1}, {"label_smoothing": 1.5}, {"label_smoothing": 0.2, "weight": "w"}]


def _build(lib, name, kwargs):
    kwargs = dict(kwargs)
    if kwargs.get("weight") == "w":
        kwargs["weight"] = lib.tensor(EX_W)
    if name == "NLLLoss":
        kwargs.pop("label_smoothing", None)
    return getattr(lib.nn, name)(**kwargs)


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("kwargs", LOSS_ARGUMENTS, ids=str)
def test_loss_repr_constants_attributes_buffers(name, kwargs):
    ours, theirs = _build(mt, name, kwargs), _build(torch, name, kwargs)
    assert repr(ours) == repr(theirs) == f"{name}()"
    assert ours.extra_repr() == theirs.extra_repr() == ""
    assert type(ours).__constants__ == type(theirs).__constants__
    for attribute in ("reduction", "ignore_index", "label_smoothing"):
        assert getattr(ours, attribute, "absent") == getattr(theirs, attribute, "absent"), attribute
    assert list(ours._buffers) == list(theirs._buffers) == ["weight"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.parameters()) == []
    if theirs.weight is None:
        assert ours.weight is None
    else:
        assert_close(ours.weight, theirs.weight)
        assert_close(ours.state_dict()["weight"], theirs.state_dict()["weight"])


def test_constants_lists():
    assert mt.nn.NLLLoss.__constants__ == ["ignore_index", "reduction"]
    assert mt.nn.CrossEntropyLoss.__constants__ == ["ignore_index", "reduction", "label_smoothing"]
    assert mt.nn.LogSoftmax.__constants__ == mt.nn.Softmax.__constants__ == ["dim"]


@pytest.mark.parametrize("name", ACTIVATIONS + LOSSES)
def test_constructor_signatures(name):
    ours = inspect.signature(getattr(mt.nn, name).__init__)
    theirs = inspect.signature(getattr(torch.nn, name).__init__)
    assert list(ours.parameters) == list(theirs.parameters)
    assert [p.default for p in ours.parameters.values()] == [p.default for p in theirs.parameters.values()]


# ---------------------------------------------------------------------- legacy flags in the constructor
@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("size_average,reduce", [p for p in itertools.product([None, True, False], repeat=2)])
@pytest.mark.parametrize("reduction", ["mean", "none", "bad"])
def test_constructor_legacy_mapping(name, size_average, reduce, reduction):
    ours, caught = recorded_warnings(lambda: getattr(mt.nn, name)(size_average=size_average, reduce=reduce,
                                                                  reduction=reduction))
    theirs, expected_caught = recorded_warnings(lambda: getattr(torch.nn, name)(size_average=size_average, reduce=reduce,
                                                                                reduction=reduction))
    assert ours.reduction == theirs.reduction
    assert warning_summary(caught) == warning_summary(expected_caught)
    for warning in caught:
        assert warning.filename.endswith(os.path.join("minitorch_lsm", "nn", "modules", "loss.py"))
    a, e = pair(EX_X)
    ta, te = pair(EX_T)
    out, expected = same_outcome(lambda: ours(a, ta), lambda: theirs(e, te))
    if expected is not None:
        assert_close(out, expected)


def test_size_average_false_means_sum():
    module, caught = recorded_warnings(lambda: mt.nn.NLLLoss(size_average=False))
    assert module.reduction == "sum" and len(caught) == 1
    module, caught = recorded_warnings(lambda: mt.nn.CrossEntropyLoss(reduce=False))
    assert module.reduction == "none" and len(caught) == 1


@pytest.mark.parametrize("name", LOSSES)
def test_invalid_reduction_is_reported_at_forward(name):
    ours, theirs = getattr(mt.nn, name)(reduction="avg"), getattr(torch.nn, name)(reduction="avg")
    a, e = pair(EX_X)
    ta, te = pair(EX_T)
    assert_same_error(lambda: ours(a, ta), lambda: theirs(e, te))


def test_elementwise_mean_module_warning_points_into_functional():
    a, e = pair(EX_X)
    ta, te = pair(EX_T)
    out, caught = recorded_warnings(lambda: mt.nn.NLLLoss(reduction="elementwise_mean")(a, ta))
    expected, expected_caught = recorded_warnings(lambda: torch.nn.NLLLoss(reduction="elementwise_mean")(e, te))
    assert_close(out, expected)
    assert warning_summary(caught) == warning_summary(expected_caught)
    assert caught[0].filename.endswith(os.path.join("minitorch_lsm", "nn", "functional.py"))


def test_label_smoothing_checked_at_forward():
    ours, theirs = mt.nn.CrossEntropyLoss(label_smoothing=1.5), torch.nn.CrossEntropyLoss(label_smoothing=1.5)
    assert ours.label_smoothing == theirs.label_smoothing == 1.5
    a, e = pair(EX_X)
    ta, te = pair(EX_T)
    assert_same_error(lambda: ours(a, ta), lambda: theirs(e, te))


# ---------------------------------------------------------------------- buffers move with the module
def test_weight_buffer_follows_dtype_conversions_and_state_dict():
    ours, theirs = mt.nn.CrossEntropyLoss(weight=mt.tensor(EX_W)), torch.nn.CrossEntropyLoss(weight=torch.tensor(EX_W))
    ours.double()
    theirs.double()
    assert_close(ours.weight, theirs.weight)
    a, e = pair(EX_X.astype(np.float64), requires_grad=True)
    ta, te = pair(EX_T)
    out, expected = ours(a, ta), theirs(e, te)
    assert_close(out, expected)
    out.backward()
    expected.backward()
    assert_close(a.grad, e.grad)
    target = mt.nn.CrossEntropyLoss(weight=mt.zeros(3, dtype=mt.float64))
    target.load_state_dict(ours.state_dict())
    assert_close(target.weight, theirs.weight)
    ours.float()
    assert ours.weight.dtype is mt.float32


@pytest.mark.parametrize("device", DEVICES)
def test_module_to_device(device):
    ours = mt.nn.NLLLoss(weight=mt.tensor(EX_W)).to(device)
    assert str(ours.weight.device).split(":")[0] == device
    a, e = pair(EX_X, device=device, requires_grad=True)
    ta, te = pair(EX_T, device=device)
    out = ours(mt.nn.LogSoftmax(dim=1)(a), ta)
    expected = torch.nn.NLLLoss(weight=torch.tensor(EX_W))(torch.nn.LogSoftmax(dim=1)(e), te)
    assert_close(out, expected, check_device=device)
    out.backward()
    expected.backward()
    assert_close(a.grad, e.grad)


# ---------------------------------------------------------------------- forward and backward
@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("device", DEVICES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_activation_modules_match_torch(name, device, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4), label="shape")
    top = max(len(shape), 1)
    dim = data.draw(st.integers(-top, top - 1), label="dim")
    x = data.draw(hnp.arrays(np.float32, shape, elements=st.floats(-30, 30, width=32)), label="x")
    a, e = pair(x, device=device, requires_grad=True)
    out, expected = getattr(mt.nn, name)(dim)(a), getattr(torch.nn, name)(dim)(e)
    assert_close(out, expected, check_device=device)
    g = grad_like(shape, "float32")
    out.backward(mt.tensor(g).to(device))
    expected.backward(torch.tensor(g))
    assert_close(a.grad, e.grad)


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("kwargs", [k for k in LOSS_ARGUMENTS if k.get("reduction") != "avg"
                                    and k.get("label_smoothing") != 1.5], ids=str)
@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 3, 4), (2, 3, 2, 2), (2, 3, 1, 2, 2), (0, 3)])
@pytest.mark.parametrize("device", DEVICES)
def test_loss_modules_match_torch(name, kwargs, shape, device):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape).astype(np.float32)
    target = rng.integers(0, 3, () if len(shape) == 1 else (shape[0],) + shape[2:])
    ours, theirs = _build(mt, name, kwargs).to(device), _build(torch, name, kwargs)
    a, e = pair(x, device=device, requires_grad=True)
    if name == "NLLLoss":
        a_in, e_in = mt.nn.LogSoftmax(dim=0 if len(shape) == 1 else 1)(a), torch.nn.LogSoftmax(dim=0 if len(shape) == 1 else 1)(e)
    else:
        a_in, e_in = a, e
    ta, te = pair(target, device=device)
    out, expected = ours(a_in, ta), theirs(e_in, te)
    assert_close(out, expected, check_device=device)
    g = grad_like(tuple(expected.shape), "float32")
    out.backward(mt.tensor(g).to(device))
    expected.backward(torch.tensor(g))
    assert_close(a.grad, e.grad)


@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_module_probability_targets(device):
    rng = np.random.default_rng(21)
    x = rng.standard_normal((5, 3, 4)).astype(np.float32)
    p = rng.random((5, 3, 4)).astype(np.float32)
    p /= p.sum(1, keepdims=True)
    for kwargs in [{}, {"weight": "w"}, {"label_smoothing": 0.2}, {"reduction": "none", "weight": "w"}]:
        ours, theirs = _build(mt, "CrossEntropyLoss", kwargs).to(device), _build(torch, "CrossEntropyLoss", kwargs)
        a, e = pair(x, device=device, requires_grad=True)
        pa, pe = pair(p, device=device)
        out, expected = ours(a, pa), theirs(e, pe)
        assert_close(out, expected, check_device=device)
        out.sum().backward()
        expected.sum().backward()
        assert_close(a.grad, e.grad)


def test_training_step_decreases_loss_like_torch():
    """A tiny linear classifier trained a few steps with CrossEntropyLoss follows torch's trajectory."""
    rng = np.random.default_rng(22)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    w0 = rng.standard_normal((3, 4)).astype(np.float32) * 0.1
    wa, we = pair(w0, requires_grad=True)
    xa, xe = pair(x)
    ya, ye = pair(y)
    loss_a, loss_e = mt.nn.CrossEntropyLoss(label_smoothing=0.05), torch.nn.CrossEntropyLoss(label_smoothing=0.05)
    history = []
    for _ in range(5):
        la, le = loss_a(xa @ wa.T, ya), loss_e(xe @ we.T, ye)
        assert_close(la, le, rtol=1e-5, atol=1e-5)
        la.backward()
        le.backward()
        with mt.no_grad():
            wa -= 0.5 * wa.grad
        with torch.no_grad():
            we -= 0.5 * we.grad
        wa.grad = None
        we.grad = None
        history.append(la.item())
    assert history[-1] < history[0]
