"""The autograd engine against torch: accumulation, hooks, grad modes, graph freeing, deep and diamond
graphs, garbage collection, higher-order gradients and the error messages of misuse."""
from __future__ import annotations

import functools
import gc
import threading
import warnings
import weakref
from typing import Any

import numpy as np
import pytest
import torch

import minitorch_lsm as mt
from helpers import DEVICES, assert_same, assert_same_error, check_both, outcome, to_torch

LIBS = pytest.mark.parametrize("lib", [mt, torch], ids=["minitorch", "torch"])


def leaf(lib, values, dtype="float32", device="cpu"):
    return lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True, device=device)


# ---------------------------------------------------------------------- accumulation, leaves, retain_grad
@pytest.mark.parametrize("device", DEVICES)
def test_grad_accumulates_across_backward_calls(device: str) -> None:
    results = []
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0, 3.0], device=device if lib is mt else "cpu")
        (x * x).sum().backward()
        first = x.grad.clone()
        (x * 3).sum().backward()
        results.append((first, x.grad))
        assert x.grad_fn is None and x.is_leaf
    assert_same(results[0][0], results[1][0], check_requires_grad=False)
    assert_same(results[0][1], results[1][1], check_requires_grad=False)


def test_grad_can_be_reset() -> None:
    x = leaf(mt, [1.0, 2.0])
    (x * 2).sum().backward()
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0]


@LIBS
def test_is_leaf_and_requires_grad(lib) -> None:
    x = leaf(lib, [1.0, 2.0])
    c = lib.tensor([1.0, 2.0])
    y = x * 2
    assert x.is_leaf and c.is_leaf and not y.is_leaf
    assert y.requires_grad and not (c * 2).requires_grad and (c * 2).is_leaf
    assert x.detach().is_leaf and not x.detach().requires_grad
    assert y.detach().is_leaf


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf:UserWarning")
def test_retain_grad_matches_torch() -> None:
    seen = []
    for lib in (mt, torch):
        x = leaf(lib, [1.0, -2.0, 3.0])
        y = x * 2
        z = y.exp()
        assert y.retains_grad is False
        y.retain_grad()
        assert y.retains_grad is True and x.retains_grad is False
        x.retain_grad()  # a no-op on a leaf
        (z * z).sum().backward()
        assert z.grad is None
        seen.append((x.grad, y.grad))
    assert_same(seen[0], seen[1], check_requires_grad=False)
    assert_same_error(lambda: mt.ones(1).retain_grad(), lambda: torch.ones(1).retain_grad())


def test_retain_grad_accumulates_like_a_leaf() -> None:
    grads = []
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0])
        y = x * 3
        y.retain_grad()
        (y * y).sum().backward(retain_graph=True)
        (y * y).sum().backward()
        grads.append(y.grad)
    assert_same(grads[0], grads[1], check_requires_grad=False)


def test_retain_grad_sees_the_gradient_after_every_hook_like_torch() -> None:
    grads = []
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0])
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 10)  # registered after retain_grad, yet it shapes y.grad
        (y * y).sum().backward()
        grads.append((y.grad, x.grad))
    assert_same(grads[0], grads[1], check_requires_grad=False)


def test_node_prehooks_take_tuples_and_run_after_tensor_hooks_like_torch() -> None:
    results = []
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0])
        y = x * 3
        order = []
        y.grad_fn.register_prehook(lambda grads: order.append(("node", type(grads).__name__)) or (grads[0] + 1,))
        y.retain_grad()
        y.register_hook(lambda g: order.append(("tensor", type(g).__name__)) or g * 10)
        (y * y).sum().backward()
        results.append((order, y.grad, x.grad))
    assert results[0][0] == [(kind, "Tensor" if kind == "tensor" else "tuple") for kind, _ in results[1][0]]
    assert [kind for kind, _ in results[0][0]] == [kind for kind, _ in results[1][0]]
    assert_same(results[0][1:], results[1][1:], check_requires_grad=False)


def test_reading_grad_of_a_non_leaf_warns_like_torch() -> None:
    messages = []
    for lib in (mt, torch):
        y = leaf(lib, [1.0]) * 2
        with pytest.warns(UserWarning) as caught:
            assert y.grad is None
        messages.append(str(caught[0].message).split(" (Triggered internally")[0])
        assert caught[0].filename == __file__  # attributed to the line that reads .grad
        y.retain_grad()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert y.grad is None  # a non-leaf that retains its gradient: no warning
    assert messages[0] == messages[1]


# ---------------------------------------------------------------------- .grad owns its memory, as in torch
def _sum_of_leaf(lib):
    q = leaf(lib, [1.0, 2.0, 3.0])
    q.sum().backward()  # the gradient is a broadcast (stride-0, read-only) view of one number
    q.grad.mul_(0.5)
    return (q.grad,)


def _two_leaves_one_gradient(lib):
    a, b = leaf(lib, [1.0, 2.0]), leaf(lib, [3.0, 4.0])
    (a + b).sum().backward()  # Add hands the same gradient to both
    a.grad.mul_(2)
    return a.grad, b.grad


def _leaf_as_root(lib):
    a, g = leaf(lib, [1.0, 2.0]), lib.tensor([5.0, 6.0])
    (a + 0).backward(g)
    a.backward(g)
    g.add_(100)  # the caller's gradient is not a's .grad
    return a.grad, g


def _gradient_kept_by_retain_grad(lib):
    a = leaf(lib, [1.0, 2.0])
    y = a + 0
    y.retain_grad()
    (y + 0).sum().backward()
    y.grad.mul_(3)
    return a.grad, y.grad


def _gradient_kept_by_a_hook(lib):
    a, seen = leaf(lib, [1.0, 2.0]), []
    a.register_hook(seen.append)
    (a * 2).sum().backward()
    a.grad.add_(1)
    return a.grad, seen[0]


def _expanded_leaf(lib):
    a = leaf(lib, [[1.0], [2.0]])
    a.expand(2, 3).sum().backward()
    a.grad.clamp_(max=2.5)
    return (a.grad,)


OWNED_GRADS = {"sum_of_leaf": _sum_of_leaf, "two_leaves_one_gradient": _two_leaves_one_gradient,
               "leaf_as_root": _leaf_as_root, "gradient_kept_by_retain_grad": _gradient_kept_by_retain_grad,
               "gradient_kept_by_a_hook": _gradient_kept_by_a_hook, "expanded_leaf": _expanded_leaf}


@pytest.mark.parametrize("name", sorted(OWNED_GRADS))
def test_a_leafs_grad_owns_its_memory_and_can_be_changed_in_place(name: str) -> None:
    assert_same(OWNED_GRADS[name](mt), OWNED_GRADS[name](torch), check_requires_grad=False)


@LIBS
def test_a_second_backward_adds_into_the_same_grad_tensor(lib) -> None:
    x = leaf(lib, [1.0, 2.0])
    (x * 3).sum().backward()
    first, version = x.grad, x.grad._version
    (x * x).sum().backward()
    assert x.grad is first and first.tolist() == [5.0, 7.0] and first._version == version + 1


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")
@LIBS
def test_create_graph_stores_a_differentiable_copy(lib) -> None:
    x = leaf(lib, [1.0, 2.0, 3.0])
    x.sum().backward(create_graph=True)
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
    x.grad.detach().mul_(2)  # writable memory of its own
    first = x.grad
    (x * x).sum().backward(create_graph=True)
    assert x.grad is not first and x.grad.requires_grad  # create_graph adds out of place


# ---------------------------------------------------------------------- grad_fn names and next_functions
OPS_WITH_NAMES = {
    "add": lambda lib, x, y: x + y, "sub": lambda lib, x, y: x - y, "mul": lambda lib, x, y: x * y,
    "div": lambda lib, x, y: x / y, "neg": lambda lib, x, y: -x, "exp": lambda lib, x, y: x.exp(),
    "log": lambda lib, x, y: x.abs().log(), "tanh": lambda lib, x, y: x.tanh(), "sigmoid": lambda lib, x, y: x.sigmoid(),
    "relu": lambda lib, x, y: x.relu(), "pow": lambda lib, x, y: x ** 2, "pow_tensor": lambda lib, x, y: x.abs() ** y,
    "sum": lambda lib, x, y: x.sum(), "sum_dim": lambda lib, x, y: x.sum(0), "mean": lambda lib, x, y: x.mean(),
    "mean_dim": lambda lib, x, y: x.mean(1), "prod": lambda lib, x, y: x.prod(), "prod_dim": lambda lib, x, y: x.prod(1),
    "amax": lambda lib, x, y: x.amax(1), "max": lambda lib, x, y: x.max(), "max_dim": lambda lib, x, y: x.max(1).values,
    "var": lambda lib, x, y: x.var(), "std": lambda lib, x, y: x.std(0), "mm": lambda lib, x, y: x @ y.T,
    "view": lambda lib, x, y: x.view(6), "reshape": lambda lib, x, y: x.reshape(3, 2), "t": lambda lib, x, y: x.t(),
    "T": lambda lib, x, y: x.T, "transpose": lambda lib, x, y: x.transpose(0, 1), "permute": lambda lib, x, y: x.permute(1, 0),
    "unsqueeze": lambda lib, x, y: x.unsqueeze(0), "squeeze": lambda lib, x, y: x.unsqueeze(0).squeeze(),
    "squeeze_dim": lambda lib, x, y: x.unsqueeze(0).squeeze(0), "expand": lambda lib, x, y: x.expand(4, 2, 3),
    "clone": lambda lib, x, y: x.clone(), "clamp": lambda lib, x, y: x.clamp(0, 1), "where": lambda lib, x, y: lib.where(x > 0, x, y),
    "maximum": lambda lib, x, y: lib.maximum(x, y), "cat": lambda lib, x, y: lib.cat([x, y]),
    "getitem_slice": lambda lib, x, y: x[:, 1:], "getitem_index": lambda lib, x, y: x[[0, 0]],
    "gather": lambda lib, x, y: x.gather(1, lib.tensor([[0], [2]])), "masked_fill": lambda lib, x, y: x.masked_fill(x > 0, 0.0),
    "to": lambda lib, x, y: x.to(lib.float64), "log1p": lambda lib, x, y: x.abs().log1p(), "repeat": lambda lib, x, y: x.repeat(2, 1),
    "sqrt": lambda lib, x, y: x.abs().sqrt(), "abs": lambda lib, x, y: x.abs(), "sin": lambda lib, x, y: x.sin(),
}


def _name(node) -> str:
    return node.name().replace("torch::autograd::", "")  # torch's C++ AccumulateGrad carries its namespace


def _describe(node, depth: int = 3):
    """A node's name and, recursively, its next_functions, as nested tuples of names."""
    if node is None:
        return None
    if depth == 0:
        return _name(node)
    return (_name(node), tuple(_describe(n, depth - 1) for n, _ in node.next_functions))


@pytest.mark.parametrize("name", sorted(OPS_WITH_NAMES))
def test_grad_fn_names_and_next_functions(name: str) -> None:
    fn = OPS_WITH_NAMES[name]
    described = []
    for lib in (mt, torch):
        x = leaf(lib, [[0.5, -1.0, 2.0], [1.5, 0.25, -3.0]])
        y = lib.tensor([[1.0, 2.0, 0.5], [0.5, -2.0, 1.0]])  # a constant: its edge is None
        described.append(_describe(fn(lib, x, y).grad_fn))
    assert described[0] == described[1]


@LIBS
def test_next_functions_of_leaves_and_constants(lib) -> None:
    a, b = leaf(lib, [1.0]), leaf(lib, [2.0])
    z = a * b + 2 * a
    add = z.grad_fn
    assert add.name() == "AddBackward0"
    mul, mul2 = add.next_functions[0][0], add.next_functions[1][0]
    assert [_name(n) for n, _ in mul.next_functions] == ["AccumulateGrad", "AccumulateGrad"]
    assert mul.next_functions[0][0].variable is a and mul.next_functions[1][0].variable is b
    assert mul2.next_functions[1] == (None, 0) or mul2.next_functions[0] == (None, 0)
    assert a.grad_fn is None


# ---------------------------------------------------------------------- hooks
def test_hooks_on_leaf_and_non_leaf() -> None:
    results = []
    for lib in (mt, torch):
        calls = []
        x = leaf(lib, [1.0, 2.0, 3.0])
        y = x * x
        x.register_hook(lambda g: calls.append(("x", g.tolist())))            # observes, returns None
        y.register_hook(lambda g: g * 10)                                     # replaces the gradient
        y.register_hook(lambda g: calls.append(("y", g.tolist())))            # sees the replaced one
        (y * 2).sum().backward()
        results.append((x.grad, calls))
    assert_same(results[0][0], results[1][0], check_requires_grad=False)
    assert results[0][1] == results[1][1]


def test_leaf_hook_replaces_gradient_and_runs_per_backward() -> None:
    grads = []
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0])
        x.register_hook(lambda g: g + 1)
        (x * 3).sum().backward()
        (x * 3).sum().backward()
        grads.append(x.grad)
    assert_same(grads[0], grads[1], check_requires_grad=False)


def test_hook_handle_remove() -> None:
    for lib in (mt, torch):
        x = leaf(lib, [1.0])
        handle = x.register_hook(lambda g: g * 100)
        handle.remove()
        (x * 2).sum().backward()
        assert x.grad.tolist() == [2.0]
        y = x * 1
        handle = y.register_hook(lambda g: g * 100)
        handle.remove()
        x.grad = None
        (y * 2).sum().backward()
        assert x.grad.tolist() == [2.0]


def test_hook_on_tensor_without_grad_raises() -> None:
    assert_same_error(lambda: mt.ones(1).register_hook(lambda g: g), lambda: torch.ones(1).register_hook(lambda g: g))


# ---------------------------------------------------------------------- grad modes
@LIBS
def test_grad_mode_context_managers(lib) -> None:
    x = leaf(lib, [1.0])
    with lib.no_grad():
        assert not lib.is_grad_enabled() and not (x * 2).requires_grad
        with lib.enable_grad():
            assert lib.is_grad_enabled() and (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert lib.is_grad_enabled() and (x * 2).requires_grad
    with lib.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert lib.is_grad_enabled()
    lib.set_grad_enabled(False)   # as a plain call it takes effect at once
    assert not lib.is_grad_enabled()
    lib.set_grad_enabled(True)
    with lib.inference_mode():
        assert not (x * 2).requires_grad and lib.is_inference_mode_enabled()
    with lib.inference_mode(False):
        assert (x * 2).requires_grad
    assert not lib.is_inference_mode_enabled()


@LIBS
def test_grad_modes_restore_after_exceptions(lib) -> None:
    with pytest.raises(ValueError):
        with lib.no_grad():
            raise ValueError
    assert lib.is_grad_enabled()


@LIBS
def test_grad_mode_decorators(lib) -> None:
    x = leaf(lib, [1.0])

    @lib.no_grad()
    def without(t):
        return t * 2

    @lib.enable_grad()
    def with_grad(t):
        return t * 2

    @lib.set_grad_enabled(False)
    def disabled(t):
        return t * 2

    @lib.inference_mode()
    def inference(t):
        return t * 2

    assert lib.is_grad_enabled(), "decorating must not change the mode"
    assert not without(x).requires_grad and not disabled(x).requires_grad and not inference(x).requires_grad
    with lib.no_grad():
        assert with_grad(x).requires_grad
    assert lib.is_grad_enabled() and without.__name__ == "without"


@LIBS
def test_grad_mode_is_thread_local(lib) -> None:
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with lib.no_grad():
            seen["worker"] = lib.is_grad_enabled()
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(5)
    seen["main"] = lib.is_grad_enabled()
    seen["main_records"] = (leaf(lib, [1.0]) * 2).requires_grad
    release.set()
    thread.join()
    assert seen == {"worker": False, "main": True, "main_records": True}


def test_new_thread_starts_with_grad_enabled() -> None:
    seen = {}
    with mt.no_grad():
        thread = threading.Thread(target=lambda: seen.setdefault("enabled", mt.is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen["enabled"] is True


# ---------------------------------------------------------------------- freeing the graph
def _twice(lib, retain_graph):
    x = leaf(lib, [1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=retain_graph)
    y.backward()
    return x.grad


def test_backward_twice_raises_torchs_message() -> None:
    error = assert_same_error(lambda: _twice(mt, None), lambda: _twice(torch, None))
    assert str(error).startswith("Trying to backward through the graph a second time")


def test_retain_graph_allows_a_second_backward() -> None:
    assert_same(_twice(mt, True), _twice(torch, True), check_requires_grad=False)


def test_graph_without_saved_tensors_can_run_twice() -> None:
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0])
        y = (x + 1).sum()
        y.backward()
        y.backward()
        assert x.grad.tolist() == [2.0, 2.0]


def test_autograd_grad_frees_the_graph_too() -> None:
    def run(lib):
        x = leaf(lib, [1.0, 2.0])
        y = (x * x).sum()
        lib.autograd.grad(y, x)
        lib.autograd.grad(y, x)
    assert_same_error(lambda: run(mt), lambda: run(torch))


def test_long_chain_has_no_recursion_limit() -> None:
    """100,000 ops in a chain: the engine is iterative, so this neither overflows the stack nor crawls."""
    x = mt.ones(1, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0001
    y.backward()
    # backward multiplies by 1.0001 as often, in float32, as forward did: the same rounding, the same number
    assert x.grad.dtype is mt.float32 and x.grad.item() == y.item()
    assert x.grad.item() == pytest.approx(1.0001 ** 100_000, rel=1e-2)


@pytest.mark.parametrize("device", DEVICES)
def test_diamond_graph(device: str) -> None:
    grads = []
    for lib in (mt, torch):
        a = leaf(lib, [1.5, -2.0], device=device if lib is mt else "cpu")
        b = a + a
        c = b * b
        d = c + b.exp() * a    # b feeds three consumers
        d.sum().backward()
        grads.append(a.grad)
    assert_same(grads[0], grads[1], check_requires_grad=False)
    assert grads[0].tolist()[0] == pytest.approx(8 * 1.5 + float(np.exp(3.0)) * (1 + 2 * 1.5), rel=1e-6)


def test_intermediate_is_garbage_collected_after_backward() -> None:
    a = mt.randn(3, requires_grad=True)
    b = a * 2
    c = b * b            # saves b for backward
    loss = c.sum()
    intermediate = weakref.ref(b)
    del b, c
    gc.collect()
    assert intermediate() is not None, "the graph keeps b alive until backward"
    loss.backward()
    gc.collect()
    assert intermediate() is None, "backward must free the tensors it saved"
    assert loss.grad_fn is not None


def test_graph_is_collected_when_unreferenced() -> None:
    a = mt.randn(3, requires_grad=True)
    loss = (a.exp() * a).sum()
    node = weakref.ref(loss.grad_fn)
    del loss
    gc.collect()
    assert node() is None
    gc.collect()
    assert a.grad is None


def test_retained_graph_keeps_saved_tensors() -> None:
    a = mt.randn(3, requires_grad=True)
    b = a * 2
    loss = (b * b).sum()
    intermediate = weakref.ref(b)
    del b
    loss.backward(retain_graph=True)
    gc.collect()
    assert intermediate() is not None
    loss.backward()
    gc.collect()
    assert intermediate() is None


# ---------------------------------------------------------------------- higher order
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_create_graph_second_derivatives(dtype: str, device: str) -> None:
    def second(lib):
        x = leaf(lib, [0.5, -1.0, 2.0], dtype, device if lib is mt else "cpu")
        w = leaf(lib, [[1.0, 0.5, -0.5], [2.0, 0.1, 0.3]], dtype, device if lib is mt else "cpu")
        y = ((w @ x).tanh() ** 2).sum() + (x.exp() * x.sigmoid()).sum() / (x * x + 1).sum()
        gx, gw = lib.autograd.grad(y, (x, w), create_graph=True)
        assert gx.requires_grad and gx.grad_fn is not None
        hx = lib.autograd.grad(gx.sum(), x, retain_graph=True)[0]
        hxw = lib.autograd.grad((gx * gx).sum(), w)[0]
        return gx, gw, hx, hxw
    ours, theirs = second(mt), second(torch)
    assert_same(ours, theirs, check_requires_grad=False)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")
def test_backward_with_create_graph_then_grad_of_grad() -> None:
    results = []
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0], "float64")
        (x ** 3).sum().backward(create_graph=True)
        first = x.grad
        assert first.requires_grad
        (second,) = lib.autograd.grad(first.sum(), x)
        results.append((first, second))
    assert_same(results[0], results[1], check_requires_grad=False)


def test_third_derivative() -> None:
    values = []
    for lib in (mt, torch):
        x = leaf(lib, 0.7, "float64")
        y = x.sin() * x.exp()
        for _ in range(3):
            (y,) = lib.autograd.grad(y, x, create_graph=True)
        values.append(y)
    assert_same(values[0], values[1], check_requires_grad=False)


def test_autograd_grad_allow_unused() -> None:
    def run(lib, **kwargs):
        x, unused = leaf(lib, [1.0, 2.0]), leaf(lib, [3.0])
        return lib.autograd.grad((x * x).sum(), [x, unused], **kwargs)
    assert_same(run(mt, allow_unused=True), run(torch, allow_unused=True))
    assert run(mt, allow_unused=True)[1] is None
    assert_same(run(mt, materialize_grads=True), run(torch, materialize_grads=True))
    assert_same_error(lambda: run(mt), lambda: run(torch), message=False)
    assert_same_error(lambda: mt.autograd.grad((leaf(mt, [1.0]) * 2).sum(), [mt.ones(1)]),
                      lambda: torch.autograd.grad((leaf(torch, [1.0]) * 2).sum(), [torch.ones(1)]))


def test_autograd_grad_does_not_touch_dot_grad() -> None:
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0])
        (g,) = lib.autograd.grad((x * x).sum(), x)
        assert x.grad is None and not g.requires_grad and g.tolist() == [2.0, 4.0]


def test_autograd_grad_with_grad_outputs_and_non_leaf_inputs() -> None:
    results = []
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0, 3.0])
        h = x * 2
        y = h.exp()
        results.append(lib.autograd.grad(y, [h, x], grad_outputs=lib.tensor([1.0, 0.5, -1.0])))
    assert_same(results[0], results[1], check_requires_grad=False)


def test_backward_inputs_argument() -> None:
    results = []
    for lib in (mt, torch):
        x, w = leaf(lib, [1.0, 2.0]), leaf(lib, [3.0, 4.0])
        (x * w).sum().backward(inputs=[w])
        results.append((x.grad, w.grad))
    assert results[0][0] is None and results[1][0] is None
    assert_same(results[0][1], results[1][1], check_requires_grad=False)


def _non_leaf_inputs(lib) -> list:
    """backward(inputs=[y]) for a non-leaf y makes y retain its gradient (as PyTorch does) and fills y.grad
    once, after y's hooks, whether or not y retained it before; reading y.grad then does not warn."""
    seen = []
    for retains in (False, True):
        x = leaf(lib, [1.0, 2.0])
        y = x * 3
        if retains:
            y.retain_grad()
        z = (y * y).sum()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            z.backward(inputs=[y], retain_graph=True)
            seen.append((retains, y.grad.tolist(), x.grad, len(caught), y.retains_grad))
        z.backward(inputs=[y, x], retain_graph=True)
        y.register_hook(lambda g: g * 10)
        z.backward(inputs=[y], retain_graph=True)
        seen.append((y.grad.tolist(), x.grad.tolist()))
    return seen


def _retained_after_in_place_changes(lib) -> list:
    """retain_grad() follows the tensor to the history an in-place change gives it (of the tensor, of its base
    for a view, of a view for its base): .grad is the new value's gradient. Hooks stay where they were."""
    seen = []
    x = leaf(lib, [1.0, -2.0])
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: seen.append(("hook before", g.tolist())))
    y.mul_(3)
    y.register_hook(lambda g: seen.append(("hook after", g.tolist())))
    (y * y).sum().backward()
    seen.append(("y", y.grad.tolist(), x.grad.tolist()))
    x = leaf(lib, [1.0, 2.0, 3.0])
    b = x * 1
    v = b[:2]
    v.retain_grad()
    b.mul_(2)
    (v * v).sum().backward()
    seen.append(("view of a changed base", v.grad.tolist()))
    x = leaf(lib, [1.0, 2.0, 3.0])
    b = x * 1
    b.retain_grad()
    b[:2].mul_(2)
    (b * b).sum().backward()
    seen.append(("base of a changed view", b.grad.tolist()))
    x = leaf(lib, [1.0, -2.0])
    h = x * 1
    h.retain_grad()
    lib.nn.functional.relu(h, inplace=True)
    (h * 3).sum().backward()
    seen.append(("relu inplace", h.grad.tolist(), x.grad.tolist()))
    return seen


def test_retain_grad_follows_in_place_changes() -> None:
    assert _retained_after_in_place_changes(mt) == _retained_after_in_place_changes(torch)


def test_backward_inputs_may_be_non_leaves() -> None:
    assert _non_leaf_inputs(mt) == _non_leaf_inputs(torch)


@pytest.mark.parametrize("lib", [mt, torch], ids=["minitorch_lsm", "torch"])
def test_reading_a_non_leafs_empty_grad_warns(lib) -> None:
    y = leaf(lib, [1.0]) * 2
    with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
        assert y.grad is None


# ---------------------------------------------------------------------- broadcasting and dtype of gradients
@pytest.mark.parametrize("device", DEVICES)
def test_gradient_is_reduced_to_the_broadcast_input_shape(device: str) -> None:
    grads = []
    for lib in (mt, torch):
        dev = device if lib is mt else "cpu"
        a = leaf(lib, np.arange(3.0).reshape(3, 1), device=dev)
        b = leaf(lib, np.arange(4.0), device=dev)
        s = leaf(lib, 2.0, device=dev)
        ((a * b + s) ** 2).sum().backward()
        grads.append((a.grad, b.grad, s.grad))
    assert_same(grads[0], grads[1], check_requires_grad=False)
    assert tuple(grads[0][0].shape) == (3, 1) and tuple(grads[0][2].shape) == ()


def test_gradient_is_cast_to_the_input_dtype() -> None:
    grads = []
    for lib in (mt, torch):
        x32 = leaf(lib, [1.0, 2.0], "float32")
        x64 = leaf(lib, [3.0, 4.0], "float64")
        x16 = leaf(lib, [1.0, 0.5], "float16")
        y = x32 * x64 + x16
        assert y.dtype == lib.float64
        y.sum().backward()
        grads.append((x32.grad, x64.grad, x16.grad))
    assert_same(grads[0], grads[1], check_requires_grad=False)
    assert grads[0][0].dtype is mt.float32 and grads[0][2].dtype is mt.float16


def test_integer_and_bool_operands_get_no_gradient() -> None:
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0])
        i = lib.tensor([3, 4])
        m = lib.tensor([True, False])
        (x * i + m).sum().backward()
        assert x.grad.tolist() == [3.0, 4.0] and i.grad is None


# ---------------------------------------------------------------------- misuse
@pytest.mark.parametrize("case", [
    "nonscalar", "no_grad_tensor", "shape_mismatch", "grad_count", "int_root", "empty_inputs", "detached",
])
def test_backward_errors(case: str) -> None:
    def run(lib):
        x = leaf(lib, [1.0, 2.0])
        if case == "nonscalar":
            (x * 2).backward()
        elif case == "no_grad_tensor":
            lib.tensor([1.0]).backward()
        elif case == "shape_mismatch":
            (x * 2).backward(lib.ones(3))
        elif case == "grad_count":
            lib.autograd.backward([(x * 2).sum(), (x * 3).sum()], [lib.tensor(1.0)])
        elif case == "int_root":
            lib.tensor(2).backward()
        elif case == "empty_inputs":
            (x * 2).sum().backward(inputs=[])
        elif case == "detached":
            (x.detach() * 2).sum().backward()
    assert_same_error(lambda: run(mt), lambda: run(torch))


def test_backward_of_non_scalar_with_gradient() -> None:
    results = []
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0])
        (x * x).backward(lib.tensor([1.0, -1.0]))
        (x * 2).backward(gradient=lib.tensor([0.5, 0.5], dtype=lib.float64))
        results.append(x.grad)
    assert_same(results[0], results[1], check_requires_grad=False)


def test_multiple_roots() -> None:
    results = []
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0])
        lib.autograd.backward([(x * 2).sum(), (x * x).sum()])
        results.append(x.grad)
    assert_same(results[0], results[1], check_requires_grad=False)


@pytest.mark.parametrize("flag", [False, True])
def test_requires_grad_flag_on_non_leaf(flag: bool) -> None:
    def run(lib):
        y = leaf(lib, [1.0]) * 2
        y.requires_grad = flag
    assert_same_error(lambda: run(mt), lambda: run(torch))
    for lib in (mt, torch):
        y = leaf(lib, [1.0]) * 2
        z = y.detach().requires_grad_()
        assert z.is_leaf and z.requires_grad
        (z * 3).sum().backward()
        assert z.grad.tolist() == [3.0]


def test_grad_of_grad_is_not_tracked_without_create_graph() -> None:
    for lib in (mt, torch):
        x = leaf(lib, [1.0, 2.0])
        (x * x).sum().backward()
        assert not x.grad.requires_grad and x.grad.grad_fn is None
    assert to_torch(x.grad).tolist() == [2.0, 4.0]


def test_a_sum_passed_on_by_backward_is_not_added_into_in_place() -> None:
    """The engine adds gradients in place into sums it made itself. ``s``'s summed gradient is passed on,
    as it is, by the Add's backward to both ``a`` and ``b``; ``a`` later gets ``c``'s gradient too, which
    must not be added into the array ``b`` also holds."""
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, b = x * 2, x * 3
        c = a * 5
        s = a + b
        (s * 1 + s * 1 + c).sum().backward()
        return x.grad.tolist()

    assert run(mt) == run(torch) == [20.0, 20.0]


def test_a_gradient_someone_else_holds_is_copied_into_grad() -> None:
    """A hook that returns a tensor it keeps, or a backward that returns a saved input: ``.grad`` must be a
    copy, or the next backward's in-place accumulation changes the held tensor (torch checks the use count)."""
    for lib in (mt, torch):
        held = lib.tensor([10.0, 20.0])
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        for _ in range(2):
            y = x.clone()
            y.register_hook(lambda g: held)
            y.sum().backward()
        assert held.tolist() == [10.0, 20.0] and x.grad.tolist() == [20.0, 40.0]

    class PassSaved(mt.autograd.Function):
        keeps_inputs = True

        def forward(self, x, w):
            return x * w

        def backward(self, grad):
            return self.inputs[1], None

    w, x = mt.tensor([5.0, 6.0]), mt.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(2):
        PassSaved.apply(x, w).sum().backward()
    assert w.tolist() == [5.0, 6.0] and x.grad.tolist() == [10.0, 12.0]


def test_a_fresh_gradient_becomes_grad_without_a_copy() -> None:
    made = []

    class Twice(mt.autograd.Function):
        def forward(self, x):
            return x * 2

        def backward(self, grad):
            out = grad * 2
            made.append(id(out._data))  # an id, not a reference: the engine must see no other holder
            return out

    x = mt.ones(3, requires_grad=True)
    Twice.apply(x).sum().backward()
    assert id(x.grad._data) == made[0]


@pytest.mark.parametrize("where", ["tensor", "leaf", "prehook"])
@pytest.mark.parametrize("returned", ["0-d", "float64", "a row", "a number", "float16 of a float16"])
def test_a_hook_may_not_change_the_gradient_s_type_or_size(where: str, returned: str) -> None:
    def run(lib: Any) -> Any:
        dtype = lib.float16 if returned == "float16 of a float16" else lib.float32
        x = lib.ones(2, 3, dtype=dtype, requires_grad=True)
        y = x * 2

        def swap(g: Any) -> Any:
            return {"0-d": lambda: lib.tensor(1.0), "float64": lambda: g.double(), "a row": lambda: g[0], "a number": lambda: 1.0,
                    "float16 of a float16": lambda: g * 3}[returned]()
        if where == "tensor":
            y.register_hook(swap)
        elif where == "leaf":
            x.register_hook(swap)
        else:
            y.grad_fn.register_prehook(lambda grads: (swap(grads[0]),))
        y.sum().backward()
        return x.grad

    if returned == "float16 of a float16":  # the same type and size: allowed
        assert_same(run(mt), run(torch))
    else:
        assert_same_error(lambda: run(mt), lambda: run(torch))


def test_ops_run_quietly_under_the_caller_s_other_numpy_settings() -> None:
    # each op's forward ignores floating-point errors but keeps the caller's buffer size and error callback
    # (NumPy's errstate does), and the caller's settings are back afterwards, also after an error
    seen: list[Any] = []

    class Probe(mt.autograd.Function):
        def forward(self, x: Any) -> Any:
            seen.append((np.getbufsize(), np.geterrcall(), np.geterr()["divide"]))
            if self.fail:
                raise ValueError("from forward")
            return x / 0

    def callback(kind: str, flag: int) -> None:
        pass

    with np.errstate(divide="raise"):
        old_size = np.setbufsize(1 << 16)
        old_call = np.seterrcall(callback)
        try:
            assert Probe.apply(mt.ones(1), fail=False).tolist() == [float("inf")]
            with pytest.raises(ValueError):
                Probe.apply(mt.ones(1), fail=True)
            assert (np.getbufsize(), np.geterrcall(), np.geterr()["divide"]) == (1 << 16, callback, "raise")
        finally:
            np.setbufsize(old_size)
            np.seterrcall(old_call)
        assert Probe.apply(mt.ones(1), fail=False).tolist() == [float("inf")]
    assert seen == [(1 << 16, callback, "ignore")] * 2 + [(old_size, old_call, "ignore")]


@pytest.mark.parametrize("grad_dtype", ["float64", "float16", "int64", "bool"])
@pytest.mark.parametrize("root", ["leaf", "node"])
def test_a_root_gradient_of_another_dtype_is_cast_to_the_root_s(grad_dtype: str, root: str) -> None:
    def run(lib: Any) -> Any:
        x = lib.ones(2, requires_grad=True)
        y = x if root == "leaf" else x * 2
        y.backward(lib.ones(2, dtype=getattr(lib, grad_dtype)))
        return x.grad

    assert_same(run(mt), run(torch))


@pytest.mark.parametrize("shape, sizes", [((4, 5), (3, 0)), ((2, 3), (-1, 2, 4)), ((2, 3), (5, -1, 4)),
                                          ((2, 3), (-1, 2, 3)), ((2, 3), (-1, 3, 4)), ((4, 5), (3, 5))], ids=str)
def test_expand_names_the_last_clashing_dim_first(shape: tuple[int, ...], sizes: tuple[int, ...]) -> None:
    assert_same_error(lambda: mt.ones(*shape).expand(*sizes), lambda: torch.ones(*shape).expand(*sizes))


@pytest.mark.parametrize("returned", ["(None,)", "None", "a pair", "a list", "()", "a tensor", "float64 by a partial",
                                      "(None,) then a second hook"])
def test_a_node_pre_hook_returns_none_or_one_gradient_in_a_tuple(returned: str) -> None:
    def run(lib: Any) -> Any:
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        seen = []
        hooks = {"(None,)": lambda gs: (None,), "None": lambda gs: None, "a pair": lambda gs: (gs[0] * 5, gs[0]),
                 "a list": lambda gs: [gs[0] * 5], "()": lambda gs: (), "a tensor": lambda gs: gs[0],
                 "float64 by a partial": functools.partial(lambda k, gs: (gs[0].double(),), 1),
                 "(None,) then a second hook": lambda gs: (None,)}
        y.grad_fn.register_prehook(hooks[returned])
        if returned == "(None,) then a second hook":
            y.grad_fn.register_prehook(lambda gs: seen.append(gs[0] is None))
        y.sum().backward()
        return x.grad, seen

    _, torch_error = outcome(lambda: run(torch))
    if torch_error is None:
        assert_same(run(mt), run(torch))
    else:
        assert_same_error(lambda: run(mt), lambda: run(torch))


def test_a_gradient_that_is_a_parameter_is_stored_as_a_plain_tensor() -> None:
    def run(lib: Any) -> str:
        x = lib.ones(3, requires_grad=True)
        y = x + 0
        y.register_hook(lambda g: lib.nn.Parameter(g * 5, requires_grad=False))
        (y * 1).sum().backward()
        return type(x.grad).__name__

    assert run(mt) == run(torch) == "Tensor"


# ---------------------------------------------------------------------- autograd.grad runs only what it needs
def _partial_graph_runs(lib) -> list:
    """What autograd.grad / backward(inputs=) run, and leave behind, observed through values and hooks."""
    seen: list = []
    x = leaf(lib, [1.0, 2.0])
    w = leaf(lib, [3.0, -1.0])
    w.register_hook(lambda g: seen.append(("w hook", g.tolist())))
    z = (x * w).exp()
    (gz,) = lib.autograd.grad((z * z).sum(), [z])          # nothing beyond z runs: ExpBackward is kept
    seen.append(("gz", [round(v, 3) for v in gz.tolist()]))
    z.sum().backward()                                      # so a backward through it later still works
    seen.append(("x.grad", [round(v, 3) for v in x.grad.tolist()]))
    x.grad = w.grad = None
    a = x * 1
    b = a * a
    a.add_(1)                                               # changes what MulBackward(a * a) saved ...
    seen.append(("grad b", lib.autograd.grad((b * 3).sum(), b)[0].tolist()))  # ... which is not needed here
    (x * w).sum().backward(inputs=[x])                      # w's hook does not fire, w.grad stays None
    seen.append(("inputs=[x]", x.grad.tolist(), w.grad))
    return seen


def test_autograd_grad_runs_only_the_nodes_leading_to_its_inputs() -> None:
    assert _partial_graph_runs(mt) == _partial_graph_runs(torch)


@LIBS
def test_autograd_grad_still_runs_the_nodes_that_lead_on_to_other_inputs(lib) -> None:
    x = leaf(lib, [1.0, 2.0])
    z = x.exp()
    y = (z * 3).sum()
    gz, gx = lib.autograd.grad(y, [z, x])
    assert gz.tolist() == [3.0, 3.0]
    np.testing.assert_allclose(gx.numpy(), 3 * np.exp([1.0, 2.0]), rtol=1e-6)


def _through_a_stale_view(lib) -> list:
    """A view whose base changed in place gets a new node when the next op reads it (a review found
    autograd.grad losing the gradient through it, and the view's hooks moving onto the new node)."""
    seen: list = []
    x = leaf(lib, [1.0, 2.0, 3.0])
    b = x.clone()
    v = b[1:]
    v.register_hook(lambda g: seen.append(("view hook", g.tolist())))
    v.grad_fn.register_prehook(lambda grads: seen.append("view node pre-hook"))
    b.mul_(2)                                              # v is stale now
    y = (v * 3).sum()
    seen.append(("grad", lib.autograd.grad(y, x, retain_graph=True)[0].tolist()))
    y.backward(inputs=[x])
    seen.append(("inputs=[x]", x.grad.tolist()))
    return seen


def test_gradients_through_a_stale_view_match_torch() -> None:
    assert _through_a_stale_view(mt) == _through_a_stale_view(torch)


def _random_views_program(lib, seed: int, mode: str) -> list:
    """Random in-place changes through views of one base, then autograd.grad or backward(inputs=)."""
    import random
    rnd = random.Random(seed)
    x = lib.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)
    w = lib.tensor([0.5, -1., 2.], requires_grad=True)
    b = (x * 1.5).clone()
    views = [b, b[0], b[1], b[:, 1:], b.t(), b[0][1:]]
    others = []
    for _ in range(rnd.randint(1, 6)):
        kind, v = rnd.randrange(4), rnd.choice(views)
        if kind == 0:
            v.mul_(1.3)
        elif kind == 1:
            v.add_(w[: v.shape[-1]] if v.shape[-1] <= 3 else 1.0)
        elif kind == 2:
            others.append((rnd.choice(views) * 2).sum())
        else:
            others.append((rnd.choice(views).tanh() * w.sum()).sum())
    y = sum(others, (b * b).sum())
    wanted = [x, w][: rnd.randint(1, 2)]
    if mode == "grad":
        grads = lib.autograd.grad(y, wanted, allow_unused=True)
    else:
        y.backward(inputs=wanted)
        grads = [t.grad for t in wanted]
    return [None if g is None else np.round(np.asarray(g.tolist()), 4).tolist() for g in grads]


@pytest.mark.parametrize("mode", ["grad", "inputs"])
def test_capturing_through_views_changed_in_place_matches_torch(mode: str) -> None:
    for seed in range(60):
        assert _random_views_program(mt, seed, mode) == _random_views_program(torch, seed, mode), seed


GRAD_CALLS = [
    "lib.autograd.grad(y(), [])", "lib.autograd.grad(y(), w)", "lib.autograd.grad(y(), [x, w])",
    "lib.autograd.grad(y(), w, materialize_grads=True)", "lib.autograd.grad(y(), w, allow_unused=False, materialize_grads=True)",
    "lib.autograd.grad(y(), x.detach())", "lib.autograd.grad([y(), y()], x, grad_outputs=[None])",
    "lib.autograd.grad(y(), x, grad_outputs=lib.ones(3))",
    # is_grads_batched: one vector-Jacobian product per entry of grad_outputs' first dim
    "lib.autograd.grad(x * x, x, lib.eye(2), is_grads_batched=True)",
    "lib.autograd.grad([x * x, w * 2], [x, w], [lib.eye(2), lib.ones(2, 1)], is_grads_batched=True)",
    "lib.autograd.grad((x.exp() * x).sum(), x, lib.tensor([1., 2., 3.]), is_grads_batched=True)",
    "lib.autograd.grad(y(), x, is_grads_batched=True)", "lib.autograd.grad(x * x, x, lib.ones(2), is_grads_batched=True)",
    "lib.autograd.grad(x * x, [x, w], lib.eye(2), is_grads_batched=True, allow_unused=True)",
    "lib.autograd.grad(x * x, [x, w], lib.eye(2), is_grads_batched=True, materialize_grads=True)",
    "lib.autograd.grad(x * x, [x, w], lib.eye(2), is_grads_batched=True)",
    "lib.autograd.grad(x * x, x, lib.eye(2)[:1], is_grads_batched=True, create_graph=True)[0].requires_grad",
    "(lambda z: (lib.autograd.grad(z, x, lib.eye(2), is_grads_batched=True), lib.autograd.grad(z.sum(), x)))(x * x)",
]


@pytest.mark.parametrize("call", GRAD_CALLS)
def test_autograd_grad_arguments_as_torch(call: str) -> None:
    def run(lib):
        x, w = leaf(lib, [1.0, 2.0]), leaf(lib, [3.0])
        y = lambda: (x * x).sum()  # noqa: E731
        return eval(call)
    check_both(run)
