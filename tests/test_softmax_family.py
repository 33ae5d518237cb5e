"""Parity of log_softmax, softmax, softmin and logsumexp with PyTorch: values, gradients, second
derivatives, dtypes, warnings and errors, over random shapes, dims and values (hypothesis) and over the
documented examples."""
from __future__ import annotations

import os

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings

import minitorch_lsm as mt
import minitorch_lsm.nn.functional as F
from oracle import (DEVICES, FP16_TOL, assert_close, assert_same_error, grad_like, pair, recorded_warnings,
                    same_outcome, silently, warning_summary)

pytestmark = pytest.mark.usefixtures("c_and_numpy_kernels")  # each test runs on the C kernels and on the NumPy ones

FLOATS = ["float16", "float32", "float64"]
EXTREMES = [1e4, -1e4, 1e30, -1e30, np.inf, -np.inf, np.nan, 0.0]


def tol(dtype: str) -> dict:
    return {"rtol": FP16_TOL[0], "atol": FP16_TOL[1]} if dtype == "float16" else {}


def values(shape: tuple[int, ...], dtype: str, extremes: bool = True, bound: float = 20.0):
    elements = st.floats(-bound, bound, allow_nan=False, width=64)
    if extremes:
        elements = st.one_of(elements, elements, elements, st.sampled_from(EXTREMES))

    def cast(a: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return a.astype(dtype)
    return hnp.arrays(np.float64, shape, elements=elements).map(cast)


SHAPES = st.one_of(hnp.array_shapes(min_dims=0, max_dims=5, min_side=1, max_side=4),
                   hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=3))


def call(lib, name: str, api: str, x, dim, dtype=None):
    """The op through one of its entry points: nn.functional, the torch namespace or the Tensor method."""
    kwargs = {} if dtype is None else {"dtype": getattr(lib, dtype)}
    if api == "functional":
        functional = F if lib is mt else TF
        return getattr(functional, name)(x, dim, **kwargs)
    if api == "namespace":
        return getattr(lib, name)(x, dim, **kwargs)
    return getattr(x, name)(dim, **kwargs)


# ---------------------------------------------------------------------- documentation examples
def test_doc_logsoftmax_module_on_randn():
    data = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)
    a, e = pair(data)
    assert_close(mt.nn.LogSoftmax(dim=1)(a), torch.nn.LogSoftmax(dim=1)(e))


def test_doc_log_softmax_1d():
    out = F.log_softmax(mt.tensor([1., 2., 3., 4., 5.]), dim=0)
    expected = torch.tensor([-4.4519, -3.4519, -2.4519, -1.4519, -0.4519])
    torch.testing.assert_close(torch.from_numpy(out.numpy()), expected, rtol=0, atol=1e-4)
    assert_close(out, TF.log_softmax(torch.tensor([1., 2., 3., 4., 5.]), dim=0))


def test_doc_log_softmax_2d_dim0():
    data = [[1., 2., 3., 4., 5.], [5., 4., 3., 2., 1.]]
    a, e = pair(np.array(data, dtype=np.float32))
    out = F.log_softmax(a, dim=0)
    assert_close(out, TF.log_softmax(e, dim=0))
    expected = torch.tensor([[-4.0181, -2.1269, -0.6931, -0.1269, -0.0181],
                             [-0.0181, -0.1269, -0.6931, -2.1269, -4.0181]])
    torch.testing.assert_close(torch.from_numpy(out.numpy()), expected, rtol=0, atol=1e-4)


@pytest.mark.parametrize("device", DEVICES)
def test_doc_log_probabilities_into_nll_loss(device):
    rng = np.random.default_rng(2)

    def check(data, target):
        a, e = pair(data, device=device, requires_grad=True)
        ta, te = pair(target, device=device)
        out = mt.nn.NLLLoss()(mt.nn.LogSoftmax(dim=1)(a), ta)
        expected = torch.nn.NLLLoss()(torch.nn.LogSoftmax(dim=1)(e), te)
        assert_close(out, expected)
        out.backward()
        expected.backward()
        assert_close(a.grad, e.grad)

    check(rng.standard_normal((3, 5)).astype(np.float32), np.array([1, 0, 4]))
    # the 2-D (image) form: (N, C, H, W) log-probabilities and (N, H, W) targets
    check(rng.standard_normal((5, 4, 8, 8)).astype(np.float32), rng.integers(0, 4, (5, 8, 8)))


# ---------------------------------------------------------------------- values and gradients, any shape
@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_values_and_grads_match_torch(name, data):
    shape = data.draw(SHAPES, label="shape")
    top = max(len(shape), 1)
    dim = data.draw(st.integers(-top, top - 1), label="dim")
    dtype = data.draw(st.sampled_from(FLOATS), label="dtype")
    api = data.draw(st.sampled_from(["functional", "namespace", "method"]), label="api")
    if api == "functional" and data.draw(st.integers(0, 4), label="implicit dim") == 0:
        dim = None
    x = data.draw(values(shape, dtype), label="x")
    a, e = pair(x, requires_grad=True)
    out, caught = recorded_warnings(lambda: call(mt, name, api, a, dim))
    expected, expected_caught = recorded_warnings(lambda: call(torch, name, api, e, dim))
    assert warning_summary(caught) == warning_summary(expected_caught)
    assert_close(out, expected, **tol(dtype))
    assert out.requires_grad and out.grad_fn.name() == expected.grad_fn.name()
    g = grad_like(shape, dtype)
    out.backward(mt.tensor(g))
    expected.backward(torch.tensor(g))
    assert_close(a.grad, e.grad, **tol(dtype), what="grad")


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_minus_inf_masks(name, data):
    """Attention-style masking: positions filled with -inf get probability 0; a fully masked row is nan."""
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=5), label="shape")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    dtype = data.draw(st.sampled_from(FLOATS), label="dtype")
    x = data.draw(values(shape, dtype, extremes=False), label="x")
    mask = data.draw(hnp.arrays(np.bool_, shape), label="mask")
    a, e = pair(x, requires_grad=True)
    ma, me = pair(mask)
    out = getattr(F, name)(a.masked_fill(ma, float("-inf")), dim)
    expected = getattr(TF, name)(e.masked_fill(me, float("-inf")), dim)
    assert_close(out, expected, **tol(dtype))
    g = grad_like(shape, dtype)
    out.backward(mt.tensor(g))
    expected.backward(torch.tensor(g))
    assert_close(a.grad, e.grad, **tol(dtype), what="grad")


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
@pytest.mark.parametrize("device", DEVICES)
def test_fixed_shapes_every_dim(name, device):
    rng = np.random.default_rng(3)
    for shape in [(), (5,), (4, 5), (2, 3, 4), (2, 3, 2, 4), (2, 1, 3, 2, 2)]:
        x = rng.standard_normal(shape).astype(np.float32) * 3
        for dim in range(-max(len(shape), 1), max(len(shape), 1)):
            a, e = pair(x, device=device, requires_grad=True)
            out, expected = getattr(F, name)(a, dim), getattr(TF, name)(e, dim)
            assert_close(out, expected, check_device=device, what=f"{shape} dim {dim}")
            g = grad_like(shape, "float32", seed=dim + 7)
            out.backward(mt.tensor(g).to(device))
            expected.backward(torch.tensor(g))
            assert_close(a.grad, e.grad, check_device=device, what=f"grad {shape} dim {dim}")


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_second_derivatives_match_torch(name, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4), label="shape")
    top = max(len(shape), 1)
    dim = data.draw(st.integers(-top, top - 1), label="dim")
    dtype = data.draw(st.sampled_from(["float32", "float64"]), label="dtype")
    x = data.draw(values(shape, dtype, extremes=False, bound=5.0), label="x")
    v, u = grad_like(shape, dtype, 1), grad_like(shape, dtype, 2)
    a, e = pair(x, requires_grad=True)
    va, ve = pair(v, requires_grad=True)
    (ga,) = mt.autograd.grad(getattr(F, name)(a, dim), a, va, create_graph=True)
    (ge,) = torch.autograd.grad(getattr(TF, name)(e, dim), e, ve, create_graph=True)
    assert_close(ga, ge, what="first grad")
    assert ga.grad_fn.name() == ge.grad_fn.name()
    gga = mt.autograd.grad(ga, (a, va), mt.tensor(u))
    gge = torch.autograd.grad(ge, (e, ve), torch.tensor(u))
    assert_close(gga[0], gge[0], what="d2/dx2")
    assert_close(gga[1], gge[1], what="d2/dx dgrad_output")


@pytest.mark.parametrize("device", DEVICES)
def test_hessian_examples(device):
    a, e = pair(np.array([[1., 2., 3.]], dtype=np.float32), device=device, requires_grad=True)
    for name in ["log_softmax", "softmax"]:
        (ga,) = mt.autograd.grad(getattr(F, name)(a, 1)[0, 0], a, create_graph=True)
        (ge,) = torch.autograd.grad(getattr(TF, name)(e, 1)[0, 0], e, create_graph=True)
        assert_close(ga, ge)
        (hga,) = mt.autograd.grad(ga[0, 0], a)
        (hge,) = torch.autograd.grad(ge[0, 0], e)
        assert_close(hga, hge)
    expected = torch.tensor([[0.9100, -0.2447, -0.6652]])
    (ga,) = mt.autograd.grad(F.log_softmax(a, 1)[0, 0], a)
    torch.testing.assert_close(torch.from_numpy(ga.cpu().numpy()), expected, rtol=0, atol=1e-4)


# ---------------------------------------------------------------------- logsumexp
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_logsumexp_matches_torch(data):
    shape = data.draw(SHAPES, label="shape")
    ndim = len(shape)
    top = max(ndim, 1)
    dtype = data.draw(st.sampled_from(FLOATS + ["int64", "int32", "bool"]), label="dtype")
    if ndim == 0:
        dim = data.draw(st.sampled_from([0, -1, (0,), [-1]]), label="dim")
    else:
        axes = data.draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True), label="axes")
        axes = [ax - ndim if data.draw(st.booleans()) else ax for ax in axes]
        dim = data.draw(st.sampled_from([axes[0], tuple(axes), list(axes)]), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    api = data.draw(st.sampled_from(["namespace", "method"]), label="api")
    floating = dtype.startswith("float")
    if floating:
        x = data.draw(values(shape, dtype), label="x")
    elif dtype == "bool":
        x = data.draw(hnp.arrays(np.bool_, shape), label="x")
    else:
        x = data.draw(hnp.arrays(dtype, shape, elements=st.integers(-20, 20)), label="x")
    a, e = pair(x, requires_grad=floating)
    if api == "namespace":
        out, expected = mt.logsumexp(a, dim, keepdim=keepdim), torch.logsumexp(e, dim, keepdim=keepdim)
    else:
        out, expected = a.logsumexp(dim, keepdim), e.logsumexp(dim, keepdim)
    assert_close(out, expected, **tol(dtype))
    if floating:
        g = grad_like(tuple(expected.shape), dtype)
        out.backward(mt.tensor(g))
        expected.backward(torch.tensor(g))
        assert_close(a.grad, e.grad, **tol(dtype), what="grad")


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_logsumexp_second_derivative(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), label="shape")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    x = data.draw(values(shape, "float64", extremes=False, bound=5.0), label="x")
    a, e = pair(x, requires_grad=True)
    ya, ye = mt.logsumexp(a, dim, keepdim), torch.logsumexp(e, dim, keepdim)
    v = grad_like(tuple(ye.shape), "float64", 3)
    (ga,) = mt.autograd.grad(ya, a, mt.tensor(v), create_graph=True)
    (ge,) = torch.autograd.grad(ye, e, torch.tensor(v), create_graph=True)
    assert_close(ga, ge)
    assert ga.grad_fn.name() == ge.grad_fn.name() == "MulBackward0"
    u = grad_like(shape, "float64", 4)
    assert_close(mt.autograd.grad(ga, a, mt.tensor(u))[0], torch.autograd.grad(ge, e, torch.tensor(u))[0])


def test_logsumexp_stability_samples():
    rng = np.random.default_rng(5)
    for scale in (1.0, 1e3, 1e6):
        x = (rng.random((5, 5)) + 1) * scale
        for dim, keepdim in [((1,), True), ((1,), False), ((-2,), False), ((0, 1), False)]:
            for dtype in ("float32", "float64"):
                a, e = pair(x, dtype)
                assert_close(mt.logsumexp(a, dim, keepdim), torch.logsumexp(e, dim, keepdim))
    a, e = pair(np.array([20., 30., 100.], dtype=np.float32))
    assert_close(mt.logsumexp(a, 0), torch.logsumexp(e, 0))
    a, e = pair(np.float32(np.inf))
    assert_close(mt.logsumexp(a, 0, True), torch.logsumexp(e, 0, True))


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_logsumexp_integer_input_follows_default_dtype(dtype):
    data = np.array([[1, 2, 3], [1, 1, 1]]).astype(dtype)
    a, e = pair(data)
    assert_close(mt.logsumexp(a, 1), torch.logsumexp(e, 1))
    mt.set_default_dtype(mt.float64)
    torch.set_default_dtype(torch.float64)
    assert_close(mt.logsumexp(a, 1), torch.logsumexp(e, 1))


# ---------------------------------------------------------------------- 0-d and empty input
@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
@pytest.mark.parametrize("value", [2.5, np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("dim", [0, -1])
def test_scalar_input(name, value, dim):
    a, e = pair(np.float32(value), requires_grad=True)
    out, expected = getattr(F, name)(a, dim), getattr(TF, name)(e, dim)
    assert_close(out, expected)
    out.backward()
    expected.backward()
    assert_close(a.grad, e.grad)


def test_scalar_logsumexp():
    a, e = pair(np.float32(2.5), requires_grad=True)
    out, expected = mt.logsumexp(a, 0), torch.logsumexp(e, 0)
    assert_close(out, expected)
    out.backward()
    expected.backward()
    assert_close(a.grad, e.grad)


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0,), (2, 0, 4), (5, 0, 0)])
@pytest.mark.parametrize("device", DEVICES)
def test_empty_input(name, shape, device):
    for dim in range(-len(shape), len(shape)):
        a, e = pair(np.zeros(shape, np.float32), device=device, requires_grad=True)
        out, expected = getattr(F, name)(a, dim), getattr(TF, name)(e, dim)
        assert_close(out, expected, check_device=device)
        out.sum().backward()
        expected.sum().backward()
        assert_close(a.grad, e.grad)


@pytest.mark.parametrize("shape,dim,keepdim", [((3, 0), 1, False), ((3, 0), 1, True), ((0,), 0, False), ((0,), 0, True),
                                               ((0, 3), 1, False), ((0, 3), (0, 1), False), ((2, 0, 4), (0, 2), True)])
def test_empty_logsumexp(shape, dim, keepdim):
    a, e = pair(np.zeros(shape, np.float32), requires_grad=True)
    out, expected = mt.logsumexp(a, dim, keepdim), torch.logsumexp(e, dim, keepdim)
    assert_close(out, expected)
    out.sum().backward()
    expected.sum().backward()
    assert_close(a.grad, e.grad)


# ---------------------------------------------------------------------- dtype argument
@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
@pytest.mark.parametrize("source,target", [("float64", "float32"), ("float32", "float64"), ("float16", "float32"),
                                           ("float32", "float16"), ("float32", "float32")])
@pytest.mark.parametrize("device", DEVICES)
def test_dtype_casts_input_first_and_grad_returns_in_input_dtype(name, source, target, device):
    x = np.random.default_rng(6).standard_normal((4, 5)) * 4
    a, e = pair(x, source, device=device, requires_grad=True)
    out = getattr(F, name)(a, 1, dtype=getattr(mt, target))
    expected = getattr(TF, name)(e, 1, dtype=getattr(torch, target))
    assert_close(out, expected, **tol(target))
    # bit-identical to casting first
    same = getattr(F, name)(mt.tensor(x, dtype=getattr(mt, source)).to(getattr(mt, target)).to(device), 1)
    np.testing.assert_array_equal(out.detach().cpu().numpy(), same.cpu().numpy())
    g = grad_like((4, 5), target)
    out.backward(mt.tensor(g).to(device))
    expected.backward(torch.tensor(g))
    # the gradient went through the target dtype's computation: compare with the looser tolerance
    loose = "float16" if "float16" in (source, target) else "float32"
    assert_close(a.grad, e.grad, **tol(loose), **({} if loose == "float16" else {"rtol": 1.3e-6, "atol": 1e-5}))


def test_equal_logits_upcast_grad_is_not_exactly_zero():
    a, e = pair(np.full((1, 3), 0.1, np.float32), requires_grad=True)
    F.log_softmax(a, 1, dtype=mt.float64).sum().backward()
    TF.log_softmax(e, 1, dtype=torch.float64).sum().backward()
    # torch gets 5.55e-17 (not 0) from float64 rounding; we only ask for float64-level agreement, in float32
    assert_close(a.grad, e.grad, rtol=0, atol=1e-15)
    assert a.grad.dtype is mt.float32


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
@pytest.mark.parametrize("source", ["int64", "int32", "int16", "int8", "uint8", "bool"])
@pytest.mark.parametrize("target", ["float32", "float64", "float16"])
def test_integer_input_with_float_dtype(name, source, target):
    x = np.array([[1, 2, 3], [1, 1, 1]]).astype(source)
    a, e = pair(x)
    for api in ("functional", "namespace", "method"):
        assert_close(call(mt, name, api, a, 1, target), call(torch, name, api, e, 1, target), **tol(target))


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
@pytest.mark.parametrize("source", ["int64", "int32", "int16", "int8", "uint8", "bool"])
@pytest.mark.parametrize("shape,dim", [((2, 3), 1), ((2, 3), -1), ((2, 3), 0), ((3,), 0), ((), 0), ((2, 3, 4), 1),
                                       ((2, 3, 4), 2)])
def test_integer_input_without_dtype_raises(name, source, shape, dim):
    x = np.ones(shape, dtype=source)
    a, e = pair(x)
    for api in ("functional", "namespace", "method"):
        assert_same_error(lambda: call(mt, name, api, a, dim), lambda: call(torch, name, api, e, dim))


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
@pytest.mark.parametrize("target", ["int64", "int32", "bool", "uint8"])
def test_integer_output_dtype_raises(name, target):
    a, e = pair(np.ones((2, 3), np.float32))
    for dim in (0, 1):
        assert_same_error(lambda: getattr(F, name)(a, dim, dtype=getattr(mt, target)),
                          lambda: getattr(TF, name)(e, dim, dtype=getattr(torch, target)))


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
@pytest.mark.parametrize("shape", [(0, 3), (0,), (2, 0)])
def test_empty_integer_input_passes_through(name, shape):
    a, e = pair(np.zeros(shape, np.int64))
    for dim in range(len(shape)):
        assert_close(getattr(F, name)(a, dim), getattr(TF, name)(e, dim))


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
def test_python_types_as_dtype(name):
    a, e = pair(np.array([[1., 2., 3.]], np.float32))
    assert_close(getattr(F, name)(a, 1, dtype=float), getattr(TF, name)(e, 1, dtype=float))
    assert_same_error(lambda: getattr(F, name)(a, 1, dtype=int), lambda: getattr(TF, name)(e, 1, dtype=int))
    assert_same_error(lambda: getattr(F, name)(a, 1, dtype="float32"), lambda: getattr(TF, name)(e, 1, dtype="float32"))


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
def test_positional_dtype(name):
    a, e = pair(np.array([[1., 2., 3.]], np.float32))
    # nn.functional: the third positional argument is _stacklevel, the dtype is ignored
    assert_close(getattr(F, name)(a, 1, mt.float64), getattr(TF, name)(e, 1, torch.float64))
    assert getattr(F, name)(a, 1, mt.float64).dtype is mt.float32
    assert_close(getattr(F, name)(a, 1, 3, mt.float64), getattr(TF, name)(e, 1, 3, torch.float64))
    # the torch namespace and Tensor methods take it positionally
    assert_close(getattr(mt, name)(a, 1, mt.float64), getattr(torch, name)(e, 1, torch.float64))
    assert_close(getattr(a, name)(1, mt.float64), getattr(e, name)(1, torch.float64))


# ---------------------------------------------------------------------- dim handling and errors
@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
def test_dim_accepts_integer_like(name):
    a, e = pair(np.array([[1., 2., 3.], [0., 0., 1.]], np.float32))
    assert_close(getattr(F, name)(a, np.int64(1)), getattr(TF, name)(e, np.int64(1)))
    assert_close(getattr(F, name)(a, mt.tensor(0)), getattr(TF, name)(e, torch.tensor(0)))
    assert_close(getattr(a, name)(dim=-1), getattr(e, name)(dim=-1))


ERROR_CASES = {
    "dim 2 of 2-D": lambda lib, f, x: f(x, 2),
    "dim -3 of 2-D": lambda lib, f, x: f(x, -3),
    "dim 1 of 0-d": lambda lib, f, x: f(x[0, 0], 1),
    "dim -2 of 0-d": lambda lib, f, x: f(x[0, 0], -2),
    "float dim": lambda lib, f, x: f(x, 1.0),
    "bool dim": lambda lib, f, x: f(x, True),
    "tuple dim": lambda lib, f, x: f(x, (0, 1)),
    "float tensor dim": lambda lib, f, x: f(x, lib.tensor(1.0)),
    "str dtype": lambda lib, f, x: f(x, 1, dtype="float32"),
}


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
@pytest.mark.parametrize("api", ["functional", "namespace", "method"])
@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_argument_errors(name, api, case):
    def run(lib):
        x = lib.ones(2, 3)
        if api == "functional":
            f = getattr(F if lib is mt else TF, name)
        elif api == "namespace":
            f = getattr(lib, name)
        else:
            def f(t, *args, **kwargs):
                return getattr(t, name)(*args, **kwargs)
        return ERROR_CASES[case](lib, f, x)
    assert_same_error(lambda: run(mt), lambda: run(torch))


@pytest.mark.parametrize("name", ["log_softmax", "softmax", "logsumexp"])
def test_dim_is_required_outside_functional(name):
    a, e = pair(np.ones((2, 3), np.float32))
    assert_same_error(lambda: getattr(a, name)(), lambda: getattr(e, name)())
    assert_same_error(lambda: getattr(mt, name)(a), lambda: getattr(torch, name)(e))


@pytest.mark.parametrize("case", ["dim 2", "dim -3", "0-d dim 1", "float dim", "repeated dim", "list input"])
def test_logsumexp_errors(case):
    def run(lib):
        x = lib.ones(2, 3)
        return {"dim 2": lambda: lib.logsumexp(x, 2), "dim -3": lambda: lib.logsumexp(x, (0, -3)),
                "0-d dim 1": lambda: lib.logsumexp(x[0, 0], 1), "float dim": lambda: lib.logsumexp(x, 1.5),
                "repeated dim": lambda: lib.logsumexp(x, (0, 0)),
                "list input": lambda: lib.logsumexp([1.0], 0)}[case]()
    assert_same_error(lambda: run(mt), lambda: run(torch))


@pytest.mark.parametrize("name", ["log_softmax", "softmax", "softmin"])
def test_functional_non_tensor_input(name):
    assert_same_error(lambda: getattr(F, name)([1., 2.], 0), lambda: getattr(TF, name)([1., 2.], 0))
    assert_same_error(lambda: silently(lambda: getattr(F, name)([1., 2.])),
                      lambda: silently(lambda: getattr(TF, name)([1., 2.])))


# ---------------------------------------------------------------------- implicit dim and its warning
@pytest.mark.parametrize("name", ["log_softmax", "softmax", "softmin"])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 3), (2, 3, 3, 3), (2, 2, 3, 2, 2)])
def test_implicit_dim_values_and_warning(name, shape):
    x = np.random.default_rng(7).standard_normal(shape).astype(np.float32)
    a, e = pair(x)
    out, caught = recorded_warnings(lambda: getattr(F, name)(a))
    expected, expected_caught = recorded_warnings(lambda: getattr(TF, name)(e))
    assert_close(out, expected)
    assert warning_summary(caught) == warning_summary(expected_caught)
    assert [w.category for w in caught] == [UserWarning]
    assert str(caught[0].message) == (f"Implicit dimension choice for {name} has been deprecated. "
                                      "Change the call to include dim=X as an argument.")
    assert caught[0].filename == __file__ == expected_caught[0].filename
    assert caught[0].lineno == expected_caught[0].lineno - 1


@pytest.mark.parametrize("name", ["log_softmax", "softmax", "softmin"])
def test_implicit_dim_warning_with_explicit_stacklevel(name):
    a, e = pair(np.ones((2, 3), np.float32))
    _, caught = recorded_warnings(lambda: getattr(F, name)(a, None, 2))
    _, expected = recorded_warnings(lambda: getattr(TF, name)(e, None, 2))
    assert warning_summary(caught) == warning_summary(expected)
    assert expected[0].filename.endswith(os.path.join("torch", "nn", "functional.py"))
    assert caught[0].filename.endswith(os.path.join("minitorch_lsm", "nn", "functional.py"))


@pytest.mark.parametrize("name", ["LogSoftmax", "Softmax", "Softmin"])
def test_module_implicit_dim_warning_points_into_module_py(name):
    x = np.random.default_rng(8).standard_normal((2, 3, 3)).astype(np.float32)
    a, e = pair(x)
    out, caught = recorded_warnings(lambda: getattr(mt.nn, name)()(a))
    expected, expected_caught = recorded_warnings(lambda: getattr(torch.nn, name)()(e))
    assert_close(out, expected)
    assert warning_summary(caught) == warning_summary(expected_caught)
    assert expected_caught[0].filename.endswith(os.path.join("torch", "nn", "modules", "module.py"))
    assert caught[0].filename.endswith(os.path.join("minitorch_lsm", "nn", "module.py"))


@pytest.mark.parametrize("name", ["log_softmax", "softmax", "softmin"])
def test_explicit_dim_does_not_warn(name):
    a, _ = pair(np.ones((2, 3), np.float32))
    _, caught = recorded_warnings(lambda: getattr(F, name)(a, 1))
    assert caught == []


# ---------------------------------------------------------------------- softmin
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [None, "float64"])
def test_softmin_matches_torch(device, dtype):
    x = np.random.default_rng(9).standard_normal((3, 4)).astype(np.float32)
    a, e = pair(x, device=device, requires_grad=True)
    kwargs_a = {} if dtype is None else {"dtype": getattr(mt, dtype)}
    kwargs_e = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    out, expected = F.softmin(a, 1, **kwargs_a), TF.softmin(e, 1, **kwargs_e)
    assert_close(out, expected)
    g = grad_like((3, 4), dtype or "float32")
    out.backward(mt.tensor(g).to(device))
    expected.backward(torch.tensor(g))
    assert_close(a.grad, e.grad)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_softmin_integer_input(dtype):
    """softmin negates before it casts: uint8 wraps around, bool cannot be negated."""
    a, e = pair(np.array([[1, 2, 3], [0, 1, 0]]).astype(dtype))
    out, expected = same_outcome(lambda: F.softmin(a, 1, dtype=mt.float32), lambda: TF.softmin(e, 1, dtype=torch.float32))
    assert_close(out, expected)
    same_outcome(lambda: F.softmin(a, 1), lambda: TF.softmin(e, 1))


# ---------------------------------------------------------------------- signatures
@pytest.mark.parametrize("name", ["log_softmax", "softmax", "softmin", "nll_loss", "cross_entropy"])
def test_functional_signatures(name):
    import inspect

    ours = inspect.signature(getattr(F, name))
    theirs = inspect.signature(getattr(TF, name))
    assert list(ours.parameters) == list(theirs.parameters)
    assert [p.default for p in ours.parameters.values()] == [p.default for p in theirs.parameters.values()]


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_blocked_kernels_on_an_array_of_several_blocks(name, dtype):
    """(4000, 300) is three blocks of the CPU kernels, so rows are processed block by block, on two
    threads where there are two CPUs.

    Values and gradients are compared with a float64 reference (computed by torch from the same rounded
    inputs) at torch's default tolerances for the dtype; ours and torch's own rounding differ by an ulp
    here and there, in both directions."""
    rng = np.random.default_rng(7)
    x, g = rng.normal(size=(4000, 300)) * 4, rng.normal(size=(4000, 300))
    buffer_size = np.getbufsize()
    results = []
    for lib, functional, dt in ((mt, F, dtype), (torch, TF, dtype), (torch, TF, "float64")):
        # the reference starts from the same rounded inputs
        leaf = lib.tensor(x, dtype=getattr(lib, dtype)).to(getattr(lib, dt)).requires_grad_()
        out = getattr(functional, name)(leaf, dim=1)
        out.backward(lib.tensor(g, dtype=getattr(lib, dtype)).to(getattr(lib, dt)))
        results.append((out.detach().double().numpy(), leaf.grad.double().numpy()))
    ours, theirs, reference = results
    rtol, atol = (1e-3, 1e-2) if dtype == "float16" else (1.3e-6, 1e-5)
    for mine, their, exact in zip(ours, theirs, reference):
        np.testing.assert_allclose(their, exact, rtol=rtol, atol=atol)  # the bar torch itself clears
        np.testing.assert_allclose(mine, exact, rtol=rtol, atol=atol)
    assert np.getbufsize() == buffer_size  # the kernels restore NumPy's ufunc buffer size


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_the_thread_count_does_not_change_a_bit(name, dtype):
    """Blocks of rows are shared out over ``get_num_threads()`` threads; each row is computed as in one
    thread, so values and gradients are bit for bit the same with 1, 2 and 3 threads."""
    rng = np.random.default_rng(8)
    x = mt.tensor(rng.normal(size=(3000, 500)) * 4, dtype=getattr(mt, dtype), requires_grad=True)
    g = mt.tensor(rng.normal(size=(3000, 500)), dtype=getattr(mt, dtype))
    before, results = mt.get_num_threads(), []
    try:
        for threads in (1, 2, 3):
            mt.set_num_threads(threads)
            out = getattr(F, name)(x, dim=1)
            out.backward(g)
            results.append((out.detach().numpy().tobytes(), x.grad.numpy().tobytes()))
            x.grad = None
    finally:
        mt.set_num_threads(before)
    assert results[0] == results[1] == results[2]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
def test_non_finite_rows_in_every_block_and_thread_warn_nothing(name):
    """NumPy's errstate lives in a context variable: the worker threads must run under the caller's, or
    an inf or nan row in a block a worker computes warns (it did). Values and gradients match torch."""
    rng = np.random.default_rng(9)
    x = rng.normal(size=(3000, 500)).astype(np.float32)
    for row in (0, 1499, 2999):  # one in each block
        x[row] = -np.inf
        x[row + (1 if row < 2999 else -1), 7] = np.nan
        x[row + (2 if row < 2999 else -2), 3] = np.inf
    g = rng.normal(size=x.shape).astype(np.float32)
    results = []
    for lib, functional in ((mt, F), (torch, TF)):
        leaf = lib.tensor(x, requires_grad=True)
        out = getattr(functional, name)(leaf, dim=1)
        out.backward(lib.tensor(g))
        results.append((out.detach().numpy(), leaf.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1.3e-6, atol=1e-5, equal_nan=True)


def test_a_gradient_from_the_threaded_kernels_becomes_grad_without_a_copy(monkeypatch):
    """The worker threads must not keep references to a result: the engine takes a gradient as ``.grad``
    only when nothing else holds it, and a worker's leftover task did (a 500 MB copy at (4096, 32000))."""
    from minitorch_lsm.autograd import engine

    taken, accumulate = [], engine.accumulate_grad
    monkeypatch.setattr(engine, "accumulate_grad",
                        lambda leaf, grad, **kw: (taken.append(kw["exclusive"]), accumulate(leaf, grad, **kw)))
    before = mt.get_num_threads()
    try:
        mt.set_num_threads(2)
        x = mt.tensor(np.random.default_rng(3).normal(size=(3000, 500)), dtype=mt.float32, requires_grad=True)
        F.log_softmax(x, dim=1).backward(mt.ones(3000, 500))
        F.nll_loss(F.log_softmax(x, dim=1), mt.zeros(3000, dtype=mt.int64)).backward()
    finally:
        mt.set_num_threads(before)
    assert taken == [True, True]


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
def test_functional_form_calls_a_subclass_s_own_method(name):
    """F.log_softmax(x, dim) is x.log_softmax(dim) in torch, so a subclass's override runs (found by a review:
    a shortcut once skipped it for an int dim)."""
    calls = []
    for lib in (mt, torch):
        class Logged(lib.nn.Parameter):
            def log_softmax(self, *args, **kwargs):
                calls.append(lib.__name__)
                return super().log_softmax(*args, **kwargs)

            def softmax(self, *args, **kwargs):
                calls.append(lib.__name__)
                return super().softmax(*args, **kwargs)
        getattr(lib.nn.functional, name)(Logged(lib.ones(2, 3)), dim=1)
    assert calls == ["minitorch_lsm", "torch"]


@pytest.mark.parametrize("shape,dim", [((64, 10), -1), ((16, 1000), 1), ((3,), 0), ((4, 3, 7), -1), ((4, 3, 7), 1),
                                       ((40, 3), 0)])
def test_float16_log_softmax_and_its_gradient_equal_torch_bit_for_bit(shape, dim):
    """PyTorch's float16 last-dim kernel stores each row's sum of exp, and its log, in float16 (other dims
    round once): the values are the same bits as torch's, not only close. So is the gradient on short rows;
    on long ones its signed float32 sum of g, added in another order, can move a cancelling element by a step."""
    r = np.random.default_rng(7)
    x, g = (r.standard_normal(shape) * 3).astype(np.float16), r.standard_normal(shape).astype(np.float16)
    results = []
    for lib in (mt, torch):
        leaf = lib.tensor(x, requires_grad=True)
        out = lib.log_softmax(leaf, dim=dim)
        out.backward(lib.tensor(g))
        results.append((out.detach().numpy(), leaf.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    if shape[dim] <= 10:
        np.testing.assert_array_equal(results[0][1], results[1][1])
    else:
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-3, atol=1e-5)
