"""The C kernels (minitorch_lsm/csrc/) against torch and against the NumPy kernels they stand
in for: accuracy over row lengths that exercise every loop (rows of up to 16, the 32-lane body, the
tail, the pairwise tree above 1024 terms), exp over its whole range (subnormal results, underflow,
overflow), non-finite rows, and the checks on their arguments. The rest of the softmax suite runs on
both kernel sets (conftest's ``c_and_numpy_kernels``)."""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import torch

import minitorch_lsm as mt
from helpers import skip_without_c_kernels

c_module = sys.modules["minitorch_lsm.ops._c"]
ckernels = c_module.kernels

skip_without_c_kernels(allow_module_level=True)

ROW_LENGTHS = [1, 2, 10, 16, 17, 31, 32, 33, 100, 1000, 1024, 1025, 3001, 40000]  # up to 16: the short-row path
FORWARD = {"log_softmax": torch.log_softmax, "softmax": torch.softmax}


def reference_backward(name: str, g: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The backward formula in float64 (y rounded to float32 first, as the kernel sees it)."""
    g, y = g.astype(np.float64), y.astype(np.float64)
    if name == "log_softmax":
        return g - np.exp(y) * g.sum(-1, keepdims=True)
    return (g - (g * y).sum(-1, keepdims=True)) * y


def run(name: str, *arrays: np.ndarray) -> np.ndarray:
    out = np.empty_like(arrays[0])
    getattr(ckernels, name)(out, *arrays, arrays[0].shape[-1], 1)
    return out


def logits(n: int, scale: float = 5.0) -> np.ndarray:
    """Rows of random logits: 200 of them (20 of the longest), enough for the errors' statistics."""
    rows = 200 if n <= 5000 else 20
    return (np.random.default_rng(n).standard_normal((rows, n)) * scale).astype(np.float32)


def assert_as_accurate_as_torch(ours: np.ndarray, theirs: np.ndarray, exact: np.ndarray) -> None:
    """Errors against float64: on average at most 1.25x torch's float32 kernel's, and at worst 2x, or
    8 float32 epsilons of the largest result if that is more. (Rounding errors are random: a one-to-one
    bound would fail on some rows whichever kernel is better; and torch's worst case depends on the
    machine's vector width, which orders its sums: on an AVX2 machine its worst softmax backward
    error at rows of 100 was 2.2x smaller than ours, though ours was smaller on average.)"""
    floor = 8 * np.finfo(np.float32).eps * np.abs(exact).max()
    ours, theirs = np.abs(ours - exact), np.abs(theirs - exact)
    assert ours.mean() <= 1.25 * theirs.mean() + 1e-12, (ours.mean(), theirs.mean())
    assert ours.max() <= max(2 * theirs.max(), floor) + 1e-12, (ours.max(), theirs.max(), floor)


@pytest.mark.parametrize("n", ROW_LENGTHS)
@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
def test_forward_is_as_accurate_as_torch(name, n):
    x = logits(n)
    exact = FORWARD[name](torch.from_numpy(x).double(), -1).numpy()
    assert_as_accurate_as_torch(run(name, x), FORWARD[name](torch.from_numpy(x), -1).numpy(), exact)


@pytest.mark.parametrize("n", ROW_LENGTHS)
@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
def test_backward_is_as_accurate_as_torch(name, n):
    x, g = logits(n), logits(n + 1, scale=1.0)[:, :n].copy()
    y = FORWARD[name](torch.from_numpy(x), -1)
    backward = torch._log_softmax_backward_data if name == "log_softmax" else torch._softmax_backward_data
    theirs = backward(torch.from_numpy(g), y, -1, torch.float32).numpy()
    assert_as_accurate_as_torch(run(name + "_backward", g, y.numpy()), theirs, reference_backward(name, g, y.numpy()))


def test_exp_over_its_whole_range():
    """softmax([0, t]) = [1, e^t] / (1 + e^t): e^t from the overflow threshold down through the subnormals to 0."""
    t = np.concatenate([np.linspace(-110, 0, 200001), [-103.9, -103.3, -87.5, -87.3, -1e-30, -0.0]]).astype(np.float32)
    x = np.stack([np.zeros_like(t), t], axis=1)
    ours, theirs = run("softmax", x)[:, 1], torch.softmax(torch.from_numpy(x), 1).numpy()[:, 1]
    exact = np.exp(t.astype(np.float64)) / (1 + np.exp(t.astype(np.float64)))
    # within 3 ulp (exp, the sum and the division each round), subnormals included (whose ulp is 2**-149)
    ulp = np.spacing(exact.astype(np.float32)).astype(np.float64)
    assert (np.abs(ours - exact) <= 3 * ulp).all()
    assert np.array_equal(ours == 0, theirs == 0)  # the same underflow to zero as torch
    big = np.array([[0.0, 88.0], [0.0, 88.7], [0.0, 89.0], [0.0, 1e30]], dtype=np.float32)
    np.testing.assert_allclose(run("softmax", big), torch.softmax(torch.from_numpy(big), 1).numpy(), rtol=2e-7)
    y = np.array([[0.0, 88.0, 88.72, 88.73, 1e30]], dtype=np.float32)  # exp(y) itself, through the backward
    np.testing.assert_array_equal(run("log_softmax_backward", np.full_like(y, 0.2), y)[0, 2:4] < -1e37, [True, True])
    assert np.isneginf(run("log_softmax_backward", np.full_like(y, 0.2), y)[0, 3:]).all()


@pytest.mark.parametrize("n", [16, 1000])
def test_the_log_of_a_row_sum_is_rounded_once(n):
    """A row of k zeros among -infs sums to k exactly (exp(0) = 1, exp(-inf) = 0), so its log_softmax at
    the zeros is -log(k), which the kernels' own log gives correctly rounded (short rows and long ones)."""
    k = np.arange(1, n + 1)
    x = np.where(np.arange(n) < k[:, None], 0.0, -np.inf).astype(np.float32)
    expected = (-np.log(k.astype(np.float64))).astype(np.float32)
    out = run("log_softmax", x)
    np.testing.assert_array_equal(out[:, 0], expected)
    np.testing.assert_array_equal(out[:, -1], np.where(k == n, expected, -np.inf))


ROWS = np.array([[1.0, -np.inf, 2.0, 3.0], [np.inf, 1.0, 2.0, 3.0], [np.nan, 1.0, 2.0, 3.0],
                 [-np.inf, -np.inf, -np.inf, -np.inf], [1e30, -1e30, 0.0, 1e4], [5.0, 5.0, 5.0, 5.0]],
                dtype=np.float32)


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
def test_non_finite_rows_match_torch(name):
    expected = FORWARD[name](torch.from_numpy(ROWS), 1).numpy()
    np.testing.assert_allclose(run(name, ROWS), expected, rtol=2e-7, atol=0, equal_nan=True)


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
def test_non_finite_backward_rows_match_torch(name):
    """Short rows (the block path) and long ones, with nan, infinities and signed zeros in g or y."""
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -2.5, 1e-30], np.float32)
    rng = np.random.default_rng(3)
    for n in (4, 10, 16, 40):
        g, y = rng.choice(special, (30, n)), rng.choice(special, (30, n))
        g[:5], y[5:10] = -0.0, 0.0  # rows of -0.0 gradients: their signs
        backward = torch._log_softmax_backward_data if name == "log_softmax" else torch._softmax_backward_data
        expected = backward(torch.from_numpy(g), torch.from_numpy(y), -1, torch.float32).numpy()
        ours = run(name + "_backward", g, y)
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected), err_msg=f"n={n}")
        finite = ~np.isnan(expected)
        np.testing.assert_allclose(ours[finite], expected[finite], rtol=1e-6, atol=0)
        np.testing.assert_array_equal(np.signbit(ours[finite]), np.signbit(expected[finite]), err_msg=f"n={n}")


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
def test_c_and_numpy_kernels_agree_through_the_api(name, rng, monkeypatch):
    """The same call on both kernel sets: values and gradients within a few ulp (they round differently)."""
    x = (rng.standard_normal((64, 300)) * 4).astype(np.float32)
    g = rng.standard_normal((64, 300)).astype(np.float32)
    results = []
    for use_c in (True, False):
        monkeypatch.setattr(c_module, "enabled", use_c)
        a = mt.tensor(x, requires_grad=True)
        y = getattr(a, name)(1)
        y.backward(mt.tensor(g))
        results.append((y.detach().numpy(), a.grad.numpy()))
    (y_c, grad_c), (y_np, grad_np) = results
    np.testing.assert_allclose(y_c, y_np, rtol=4e-6, atol=4e-7)
    np.testing.assert_allclose(grad_c, grad_np, rtol=1e-5, atol=1e-6)


def test_the_api_reaches_the_c_kernels(monkeypatch):
    """float32 rows along the last axis of contiguous arrays go to C; other layouts take the NumPy kernels
    (a kernel given them refuses, or is not asked)."""
    called = []

    class Spy:
        def __getattr__(self, name):
            def run(*args):
                ran = getattr(ckernels, name)(*args)
                if ran:
                    called.append(name)
                return ran
            return run

    monkeypatch.setattr(c_module, "kernels", Spy())
    monkeypatch.setattr(c_module, "enabled", True)
    x = mt.randn(4, 5, requires_grad=True)
    x.log_softmax(1).backward(mt.randn(4, 5))
    x.softmax(-1).backward(mt.randn(4, 5))
    assert called == ["log_softmax", "log_softmax_backward", "softmax", "softmax_backward"]
    called.clear()
    x.log_softmax(0)
    x.t().log_softmax(1)
    x.double().softmax(1)
    assert called == []


@pytest.mark.parametrize("arrays,message", [
    ((np.zeros(4, np.float32), np.zeros(3, np.float32)), "expected 16 bytes of float32, got 12"),
    ((np.zeros(6, np.float32), np.zeros(6, np.float32)), "whole rows"),
])
def test_bad_arguments_raise_and_write_nothing(arrays, message):
    out = arrays[0].copy()
    with pytest.raises(ValueError, match=message):
        ckernels.log_softmax(*arrays, 4, 1)
    np.testing.assert_array_equal(out, arrays[0])
    with pytest.raises(TypeError, match="expected 5 arguments"):
        ckernels.softmax_backward(np.zeros(4, np.float32), np.zeros(4, np.float32), 4, 1)
    with pytest.raises(ValueError, match="threads must be positive, got 0"):
        ckernels.softmax(np.zeros(4, np.float32), np.zeros(4, np.float32), 4, 0)


def unaligned_floats(count: int) -> np.ndarray:
    """float32 whose data starts one byte past an aligned address."""
    return np.zeros(count * 4 + 1, np.uint8)[1:].view(np.float32)


@pytest.mark.parametrize("make", [
    lambda: np.zeros((4, 4), np.float64),                 # another dtype
    lambda: np.zeros((4, 4), ">f4"),                      # float32 in the other byte order
    lambda: np.zeros((4, 8), np.float32)[:, ::2],         # not contiguous
    lambda: unaligned_floats(16).reshape(4, 4),           # not aligned
    lambda: [[0.0] * 4] * 4,                              # no buffer at all
])
@pytest.mark.parametrize("position", [0, 1])
def test_the_kernels_refuse_what_they_were_not_written_for(make, position):
    """A kernel given an array it does not take returns False (nll_loss's: None) and writes nothing; the op
    then takes its NumPy path. Each kernel checks this itself, so the callers need not."""
    def arrays():
        out = [np.full((4, 4), 7.0, np.float32), np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32)]
        out[position] = make()
        return out
    for name, inputs in (("log_softmax", 1), ("softmax_backward", 2)):
        out, *rest = arrays()[:inputs + 1]
        before = np.array(out, copy=True)
        assert getattr(ckernels, name)(out, *rest, 4, 1) is False
        np.testing.assert_array_equal(np.asarray(out), before)
    out, a, b = arrays()
    assert ckernels.add_scaled(out, a, b, 1.0) is False
    assert ckernels.relu(out, a) is False
    assert ckernels.threshold_backward(out, a, b) is False
    if position == 1:  # x of nll_loss, out of its backward
        t = np.zeros(4, np.int64)
        assert ckernels.nll_loss(None, a, t, None, -100, 4) is None
        assert ckernels.nll_loss_backward(a, t, None, -100, 4, np.ones(1, np.float32), 1.0) is None


def test_the_nll_kernels_refuse_other_targets_and_a_read_only_output():
    x, w, scale = np.zeros((4, 3), np.float32), np.ones(3, np.float32), np.ones(1, np.float32)
    for target in (np.zeros(4, np.int32), np.zeros(8, np.int64)[::2]):
        assert ckernels.nll_loss(None, x, target, w, -100, 3) is None
        assert ckernels.nll_loss_backward(np.zeros((4, 3), np.float32), target, w, -100, 3, scale, 1.0) is None
    assert ckernels.nll_loss(None, x, np.zeros(4, np.int64), w.astype(np.float64), -100, 3) is None
    read_only = np.zeros((4, 3), np.float32)
    read_only.flags.writeable = False
    assert ckernels.nll_loss_backward(read_only, np.zeros(4, np.int64), w, -100, 3, scale, 1.0) is None
    assert ckernels.log_softmax(read_only, x, 3, 1) is False


@pytest.mark.parametrize("threads", [2, 3, 7, 64, 1000])
@pytest.mark.parametrize("shape", [(1, 5), (3, 40), (257, 1000), (5000, 5)])  # (5000, 5): short rows on threads
def test_the_thread_count_does_not_change_a_bit(threads, shape):
    x = logits(shape[1])[: shape[0]] if shape[0] <= 200 else np.tile(logits(shape[1]), (2, 1))[: shape[0]]
    g = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    for name, arrays in [("log_softmax", (x,)), ("softmax", (x,)), ("log_softmax_backward", (g, x - 10)),
                         ("softmax_backward", (g, x))]:
        one, many = np.empty_like(x), np.full_like(x, np.nan)
        getattr(ckernels, name)(one, *arrays, x.shape[1], 1)
        getattr(ckernels, name)(many, *arrays, x.shape[1], threads)
        np.testing.assert_array_equal(many, one)


@pytest.mark.parametrize("n", [4, 10, 16, 17, 100])
def test_a_kernel_may_write_over_its_inputs(n):
    """``out`` may be any input array (the short rows' blocks keep what they still read apart from ``out``)."""
    x = logits(n)[:40]
    g = np.random.default_rng(2).standard_normal(x.shape).astype(np.float32)
    for name, arrays in [("log_softmax", (x,)), ("softmax", (x,)), ("log_softmax_backward", (g, x - 10)),
                         ("softmax_backward", (g, x))]:
        expected = run(name, *arrays)
        for k in range(len(arrays)):
            inputs = [a.copy() for a in arrays]
            getattr(ckernels, name)(inputs[k], *inputs, n, 1)
            np.testing.assert_array_equal(inputs[k], expected, err_msg=f"{name}, out = input {k}")


def test_calls_from_several_python_threads_at_once():
    """Only one call at a time uses the workers; the others run on their own thread, with the same results."""
    import threading
    x = np.tile(logits(1000), (3, 1))
    expected = run("log_softmax", x)
    results, errors = [None] * 4, []

    def call(i):
        try:
            for _ in range(20):
                out = np.empty_like(x)
                ckernels.log_softmax(out, x, 1000, 2)
                results[i] = out
        except BaseException as error:
            errors.append(error)
    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and all(np.array_equal(r, expected) for r in results)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_starts_its_own_workers():
    """A child forked after the workers ran has none of them: its threaded call must not wait for them."""
    x = np.tile(logits(1000), (3, 1))
    expected = run("log_softmax", x)
    ckernels.log_softmax(np.empty_like(x), x, 1000, 2)  # the parent's workers exist now
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if a threaded call finishes with the right values
        out = np.empty_like(x)
        ckernels.log_softmax(out, x, 1000, 2)
        os._exit(0 if np.array_equal(out, expected) else 1)
    for _ in range(200):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        import time
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail("the forked child hung in a threaded call")


@pytest.mark.parametrize("use_c", [True, False])
@pytest.mark.parametrize("size", [1, 7, 70000])
@pytest.mark.parametrize("alpha", [0.1, -0.01, 3.7, -1e-30, 1e30])
def test_add_with_alpha_rounds_as_torch(monkeypatch, use_c, size, alpha):
    """a + alpha * b rounded once, in C and through NumPy (70000 elements: its block loop), bit for bit."""
    monkeypatch.setattr(c_module, "enabled", use_c)
    r = np.random.default_rng(size)
    a, b = r.standard_normal(size).astype(np.float32), r.standard_normal(size).astype(np.float32)
    ours = mt.tensor(a).add(mt.tensor(b), alpha=alpha).numpy()
    theirs = torch.from_numpy(a).add(torch.from_numpy(b), alpha=alpha).numpy()
    np.testing.assert_array_equal(ours.view(np.uint32), theirs.view(np.uint32))


@pytest.mark.parametrize("use_c", [True, False])
@pytest.mark.parametrize("size", [1, 70000])
@pytest.mark.parametrize("b,alpha", [("0x1.ffe076p-1", "0x1.000fc6p-24"), ("0x1.ffe06ep-1", "0x1.000fcap-24"),
                                     ("0x1.ffe066p-1", "0x1.000fcep-24")])
def test_add_with_alpha_rounds_once_where_rounding_twice_would_not(monkeypatch, use_c, size, b, alpha):
    """1 + alpha * b, whose float64 sum lies on a float32 midpoint its exact value is not on (found by review):
    rounded once, as torch's fused multiply-add, it is 1 + 2**-23; rounded twice it would be 1."""
    monkeypatch.setattr(c_module, "enabled", use_c)
    a, b = np.ones(size, np.float32), np.full(size, float.fromhex(b), np.float32)
    ours = mt.tensor(a).add(mt.tensor(b), alpha=float.fromhex(alpha)).numpy()
    theirs = torch.from_numpy(a).add(torch.from_numpy(b), alpha=float.fromhex(alpha)).numpy()
    np.testing.assert_array_equal(ours, theirs)
    assert (ours == np.float32(1 + 2 ** -23)).all()


@pytest.mark.parametrize("alpha", [0, 0.0, -0.0, 3])
def test_sub_negates_alpha_as_a_number(alpha):
    """torch negates sub's alpha before converting it: an int 0 stays 0 (scale +0.0), a float 0.0 becomes -0.0."""
    a, b = np.array([-0.0, 1.0], np.float32), np.array([-1.0, 2.0], np.float32)
    ours = mt.tensor(a).sub(mt.tensor(b), alpha=alpha).numpy()
    theirs = torch.from_numpy(a).sub(torch.from_numpy(b), alpha=alpha).numpy()
    np.testing.assert_array_equal(ours.view(np.uint32), theirs.view(np.uint32))


def test_add_scaled_in_place_and_its_argument_checks():
    a, b = np.arange(5, dtype=np.float32), np.ones(5, np.float32)
    ckernels.add_scaled(a, a, b, 0.5)  # out may be a itself
    np.testing.assert_array_equal(a, np.arange(5) + 0.5)
    with pytest.raises(ValueError, match="scale must be a float32 value, got 0.1"):
        ckernels.add_scaled(a, a, b, 0.1)
    with pytest.raises(ValueError, match="float32"):
        ckernels.add_scaled(a, a, np.ones(4, np.float32), 0.5)
    with pytest.raises(TypeError, match="expected 4 arguments"):
        ckernels.add_scaled(a, a, b)
    np.testing.assert_array_equal(a, np.arange(5) + 0.5)  # the refused calls wrote nothing


RELU_VALUES = np.array([-1.0, -0.0, 0.0, 2.0, np.nan, np.inf, -np.inf, 1e-45, -1e-45], np.float32)


@pytest.mark.parametrize("use_c", [True, False])
@pytest.mark.parametrize("size", [9, 5000])  # 5000: NumPy's path selects by bits from 1024 elements
def test_relu_and_its_gradients_match_torch_bits(monkeypatch, use_c, size):
    monkeypatch.setattr(c_module, "enabled", use_c)
    r = np.random.default_rng(size)
    x = np.resize(RELU_VALUES, size) * r.uniform(0.5, 2, size).astype(np.float32)
    g = r.standard_normal(size).astype(np.float32)
    g[::7] = np.nan
    gg = r.standard_normal(size).astype(np.float32)
    results = []
    for lib in (mt, torch):
        a = lib.tensor(x, requires_grad=True)
        y = a.relu()
        upstream = lib.tensor(g, requires_grad=True)
        (grad,) = lib.autograd.grad(y, a, upstream, create_graph=True)
        (grad_of_grad,) = lib.autograd.grad(grad, upstream, lib.tensor(gg))
        results.append([t.detach().numpy().view(np.uint32) for t in (y, grad, grad_of_grad)] + [grad.grad_fn.name()])
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


def test_relu_second_derivative_of_a_frozen_network_and_unused_inputs():
    """The Hessian of relu through a gradient that does not itself require grad (a frozen net's input
    gradient), and y's gradient of zeros rather than None (found by review: a TypeError, then None)."""
    results = []
    for lib in (mt, torch):
        x = lib.tensor([-1.0, 2.0, 3.0], requires_grad=True)
        (g,) = lib.autograd.grad(lib.relu(x).sum(), x, create_graph=True)
        second = lib.autograd.grad(g.sum(), x)
        v = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        (g2,) = lib.autograd.grad(lib.relu(x), x, v, create_graph=True)
        unused = lib.autograd.grad(g2.sum(), x, allow_unused=True)
        results.append([second[0].numpy(), unused[0].numpy(), g2.grad_fn.name()])
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("use_c", [True, False])
@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
def test_a_gradient_of_negative_zeros_gives_torchs_signs(monkeypatch, use_c, name, dim):
    """The row sum of an all -0.0 gradient is -0.0 in torch's last-dim kernels (the input's gradient is then
    +0.0) and +0.0 in its others (found by two reviews; our sums once started from +0.0 everywhere, then
    from -0.0 everywhere)."""
    monkeypatch.setattr(c_module, "enabled", use_c)
    x, g = np.array([[1.0, 2.0, 3.0, 4.0], [3.0, 5.0, 0.0, 1.0]], np.float32), np.full((2, 4), -0.0, np.float32)
    grads = []
    for lib in (mt, torch):
        a = lib.tensor(x, requires_grad=True)
        getattr(a, name)(dim).backward(lib.tensor(g))
        grads.append(np.signbit(a.grad.numpy()))
    np.testing.assert_array_equal(*grads)


@pytest.mark.parametrize("use_c", [True, False])
def test_softmax_double_backward_wrt_the_upstream_gradient_is_its_backward_node(monkeypatch, use_c):
    """d(softmax backward)/d(upstream) applied to gg is softmax's backward formula of gg, one node as in torch
    (its zeros' signs and float16 rounding follow)."""
    monkeypatch.setattr(c_module, "enabled", use_c)
    for dtype in ("float32", "float16"):
        results = []
        for lib in (mt, torch):
            x = lib.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]], dtype=getattr(lib, dtype), requires_grad=True)
            upstream = lib.full((2, 3), -0.0, dtype=getattr(lib, dtype), requires_grad=True)
            (gx,) = lib.autograd.grad(lib.softmax(x, 1), x, upstream, create_graph=True)
            gg = lib.tensor([[-0.0, -0.0, -0.0], [0.3, -0.2, 0.7]], dtype=getattr(lib, dtype))
            (grad_upstream,) = lib.autograd.grad(gx, upstream, gg)
            results.append(grad_upstream.detach().numpy())
        np.testing.assert_array_equal(np.signbit(results[0]), np.signbit(results[1]))
        np.testing.assert_allclose(results[0], results[1], rtol=1e-3 if dtype == "float16" else 1e-6, atol=1e-6)


# ---------------------------------------------------------------------- nll_loss (csrc/nll.c)
def nll_case(rows: int, classes: int, weighted: bool, seed: int = 0):
    """Random log-probabilities, targets with every seventh one ignored (-1), and maybe class weights."""
    r = np.random.default_rng(seed + rows)
    x = (r.standard_normal((rows, classes)) * 3 - 2).astype(np.float32)
    target = r.integers(0, classes, rows)
    target[::7] = -1
    weight = r.uniform(0.1, 3.0, classes).astype(np.float32) if weighted else None
    return x, target, weight


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("rows", [1, 16, 17, 300, 4097, 70000])  # 4097, 70000: three and four cascade levels
def test_nll_loss_kernel_sums_as_torch_bit_for_bit(monkeypatch, rows, reduction, weighted):
    """torch adds the losses (and weights) in a cascade of eight float32 partial sums; the C kernel does the
    same, so the loss and its gradient agree to the bit (NumPy's pairwise sum is a few ulp away)."""
    calls = []
    monkeypatch.setattr(ckernels, "nll_loss", lambda *args: calls.append(1) or c_nll_loss(*args))
    x, target, weight = nll_case(rows, 10, weighted)
    results = []
    for lib in (mt, torch):
        a = lib.tensor(x, requires_grad=True)
        extra = {"weight": lib.tensor(weight)} if weighted else {}
        loss = lib.nn.functional.nll_loss(a, lib.tensor(target), ignore_index=-1, reduction=reduction, **extra)
        loss.backward(lib.ones_like(loss) * 0.75)
        results.append((loss.detach().numpy().view(np.uint32), a.grad.numpy().view(np.uint32)))
    assert calls == [1]
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


c_nll_loss = ckernels.nll_loss


@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_kernel_and_numpy_path_agree(monkeypatch, weighted):
    """The two paths compute the same formula: losses and gradients equal, the sums (and so the gradients
    of 'mean', divided by the summed weights) within a few ulp."""
    x, target, weight = nll_case(3000, 7, weighted, seed=5)
    results = {}
    for use_c in (True, False):
        monkeypatch.setattr(c_module, "enabled", use_c)
        for reduction in ("none", "sum", "mean"):
            a = mt.tensor(x, requires_grad=True)
            extra = {"weight": mt.tensor(weight)} if weighted else {}
            loss = mt.nn.functional.nll_loss(a, mt.tensor(target), ignore_index=-1, reduction=reduction, **extra)
            loss.backward(mt.ones_like(loss))
            results[use_c, reduction] = (loss.detach().numpy(), a.grad.numpy())
    for reduction in ("none", "sum", "mean"):
        (loss_c, grad_c), (loss_np, grad_np) = results[True, reduction], results[False, reduction]
        np.testing.assert_allclose(loss_c, loss_np, rtol=0 if reduction == "none" else 1e-5)
        np.testing.assert_allclose(grad_c, grad_np, rtol=1e-6 if reduction == "mean" else 0)


@pytest.mark.parametrize("use_c", [True, False])
@pytest.mark.parametrize("bad", [10, -2, 2 ** 40])
def test_nll_loss_out_of_bounds_target_raises_on_both_paths(monkeypatch, use_c, bad):
    monkeypatch.setattr(c_module, "enabled", use_c)
    x, target, _ = nll_case(50, 10, False)
    target[30], target[40] = bad, 11  # the first bad row is the one reported (rows 0, 7, ... are ignored)
    for reduction in ("mean", "none"):
        for lib in (mt, torch):
            with pytest.raises(IndexError, match=f"^Target {bad} is out of bounds.$"):
                lib.nn.functional.nll_loss(lib.tensor(x), lib.tensor(target), reduction=reduction, ignore_index=-1)


@pytest.mark.parametrize("call,message", [
    (lambda x, t, w: ckernels.nll_loss(None, x, t, w, -100), "expected 6 arguments"),
    (lambda x, t, w: ckernels.nll_loss(None, x, t, w[:2], -100, 3), "bytes of float32"),
    (lambda x, t, w: ckernels.nll_loss(None, x[:3], t, w, -100, 3), "bytes of float32"),
    (lambda x, t, w: ckernels.nll_loss(np.empty(3, np.float32), x, t, w, -100, 3), "bytes of float32"),
    (lambda x, t, w: ckernels.nll_loss(None, x, t, w, -100, -3), "must not be negative"),
    (lambda x, t, w: ckernels.nll_loss_backward(np.zeros((4, 3), np.float32), t, w, -100, 3,
                                                np.ones(2, np.float32), 1.0), "expected 1 or 4 scales"),
    (lambda x, t, w: ckernels.nll_loss_backward(np.zeros((4, 3), np.float32), t, w, -100, 3,
                                                np.ones(1, np.float32)), "expected 7 arguments"),
    (lambda x, t, w: ckernels.nll_loss_backward(np.zeros((4, 3), np.float32), t, w, -100, 3,
                                                np.ones(1, np.float32), "2"), "must be real number"),
])
def test_nll_loss_kernel_argument_checks(call, message):
    x, t, w = np.zeros((4, 3), np.float32), np.array([0, 1, 2, -100]), np.ones(3, np.float32)
    with pytest.raises((TypeError, ValueError), match=message):
        call(x, t, w)


def test_nll_loss_kernel_reports_the_first_bad_row():
    """(The sums are then incomplete: the caller raises.)"""
    x, w = np.arange(12, dtype=np.float32).reshape(4, 3), np.ones(3, np.float32)
    assert ckernels.nll_loss(None, x, np.array([0, 2, 3, 1]), w, -100, 3)[3] == 2
    assert ckernels.nll_loss(None, x, np.array([0, -5, 2, 1]), None, -5, 3) == (-(0 + 8 + 10), 3.0, -6.0, -1)
    out = np.zeros((4, 3), np.float32)
    assert ckernels.nll_loss_backward(out, np.array([0, 9, 1, 1]), None, -100, 3, np.ones(1, np.float32), 1.0) == 1
    empty = ckernels.nll_loss(None, np.zeros((0, 3), np.float32), np.zeros(0, np.int64), None, -100, 3)
    assert empty[:2] == (0.0, 0.0) and np.isnan(empty[2]) and empty[3] == -1  # (0 / 0: forward gives +nan itself)


@pytest.mark.parametrize("divisor", [3.0, 0.1, 0.0, -0.0])
def test_nll_loss_backward_kernel_writes_every_element_and_divides_once(divisor):
    """The gradient array is written whole (so it may come from np.empty): -w[t] * (g / divisor) at each kept
    target, +0 elsewhere, with g / divisor rounded to float32 once, as NumPy's float32 division."""
    target, w = np.array([2, -100, 0, 1, 2]), np.array([0.5, 2.0, -1.5], np.float32)
    g = np.array([0.7], np.float32)
    out = np.full((5, 3), np.nan, np.float32)
    assert ckernels.nll_loss_backward(out, target, w, -100, 3, g, divisor) == -1
    with np.errstate(all="ignore"):
        s = g[0] / np.float32(divisor)
    expected, untouched = np.zeros((5, 3), np.float32), np.ones((5, 3), bool)
    for row, t in enumerate(target):
        if t != -100:
            expected[row, t], untouched[row, t] = -(w[t] * s), False
    np.testing.assert_array_equal(out, expected)
    assert not np.signbit(out[untouched]).any()  # +0, not whatever the array held


def test_sgd_in_place_update_reads_an_overlapping_gradient_before_writing():
    """(Found by a review.) A gradient that overlaps its parameter in memory is read whole first: the in-place
    C update would have read elements it had already written (torch refuses such a partial overlap)."""
    base = mt.zeros(41)
    base[0] = 1.0
    p = mt.nn.Parameter(base[1:])
    p.grad = base[:40]
    mt.optim.SGD([p], lr=1.0).step()
    np.testing.assert_array_equal(p.detach().numpy()[:4], [-1.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("layout", ["strided input", "strided weight", "strided target", "4-d input"])
def test_nll_loss_sums_as_torch_whatever_the_layout(layout):
    """(Found by a review.) torch's kernel reads contiguous copies, so its sums do not depend on the layout:
    ours take the C kernel for float32 whatever the layout too."""
    r = np.random.default_rng(9)
    shape = (4000, 20) if layout != "4-d input" else (30, 7, 13, 11)
    x = (r.standard_normal(shape) * 3 - 2).astype(np.float32)
    classes = 10 if layout == "strided input" else shape[1]
    target = r.integers(0, classes, (2 * shape[0],) + shape[2:])
    weight = r.uniform(0.1, 3, 2 * classes).astype(np.float32)
    results = []
    for lib in (mt, torch):
        a = lib.tensor(x)[:, :classes] if layout == "strided input" else lib.tensor(x)
        w = lib.tensor(weight)[::2] if layout == "strided weight" else lib.tensor(weight[:classes])
        t = lib.tensor(target)[::2] if layout == "strided target" else lib.tensor(target[:shape[0]])
        results.append(lib.nn.functional.nll_loss(a, t, weight=w).numpy().view(np.uint32))
    assert results[0] == results[1]
