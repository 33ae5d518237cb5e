"""The Tensor container against torch: attributes, conversions, repr, ``.to(...)`` and devices."""
from __future__ import annotations


import numpy as np
import pytest
import torch

import minitorch_lsm as mt
from helpers import (CUDA, DEVICES, assert_same, assert_same_error, check_both, requires_cuda, requires_no_cuda,
                     to_torch)


def both(expression: str, **names: object) -> None:
    """Evaluate ``expression`` with ``lib`` bound to each library; the results (or errors) must agree."""
    check_both(lambda lib: eval(expression, {"lib": lib, "np": np, **names}))


# ---------------------------------------------------------------------- attributes and conversions
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
@pytest.mark.parametrize("expression", [
    "lib.zeros(2, 3).shape", "lib.zeros(2, 3).size()", "lib.zeros(2, 3).size(1)", "lib.zeros(2, 3).size(-2)",
    "lib.zeros(2, 3).size(2)", "lib.zeros(2, 3).size(-3)", "lib.tensor(5.).size()", "lib.zeros(2, 3).shape[1]",
    "tuple(lib.zeros(2, 3).shape)", "lib.zeros(2, 3).dtype", "lib.zeros(2, 3).ndim", "lib.zeros(2, 3).dim()",
    "lib.tensor(1.).dim()", "lib.zeros(2, 3).ndimension()", "lib.zeros(2, 3).numel()", "lib.zeros(2, 0).numel()",
    "lib.zeros(2, 3).nelement()", "lib.numel(lib.zeros(4))", "lib.zeros(2, 3).shape.numel()", "lib.zeros(2).device",
    "lib.zeros(2).is_cuda", "lib.zeros(2).is_leaf", "lib.zeros(2).requires_grad", "lib.zeros(2).grad",
    "lib.zeros(2).grad_fn", "lib.zeros(2).is_floating_point()", "lib.is_floating_point(lib.tensor([1]))",
    "lib.is_tensor(lib.zeros(1))", "lib.is_tensor([1])", "lib.zeros(2, dtype=lib.float64).element_size()",
    "lib.tensor([1, 2]).item()", "lib.tensor([2.5]).item()", "lib.tensor([[7]]).item()", "lib.tensor(True).item()",
    "lib.tensor([0.1, 0.2]).tolist()", "lib.tensor(2.5).tolist()", "lib.tensor([[1, 2], [3, 4]]).tolist()",
    "lib.tensor([True]).tolist()", "lib.tensor([1., 2.], requires_grad=True).tolist()", "lib.zeros(2, 0).tolist()",
    "float(lib.tensor([2.5]))", "int(lib.tensor(2.7))", "int(lib.tensor(-2.7))", "float(lib.tensor([1., 2.]))",
    "int(lib.tensor([1, 2]))", "[10, 20, 30][lib.tensor(1)]", "[10, 20][lib.tensor(1.)]", "f'{lib.tensor(1.234):.2f}'",
    "'%.3f' % lib.tensor(2.5)", "f'{lib.tensor([1.234])}'", "str(lib.tensor([1, 2]))",
    "len(lib.zeros(3, 2))", "len(lib.tensor(3.))", "list(lib.tensor(3.))", "list(lib.tensor([[1, 2], [3, 4]]))",
    "[t * 2 for t in lib.tensor([1., 2.])]", "bool(lib.tensor([0.]))", "bool(lib.tensor(3))", "bool(lib.tensor([]))",
    "bool(lib.tensor([1, 2]))", "lib.tensor([[1., 2.]]).numpy()", "lib.tensor([1., 2.], requires_grad=True).numpy()",
    "lib.tensor([1., 2.], requires_grad=True).detach().numpy()", "np.asarray(lib.tensor([1., 2.]))",
    "np.asarray(lib.tensor([1, 2]), dtype=np.float64)", "np.array(lib.tensor(1.5))",
    "np.asarray(lib.tensor([1., 2.], requires_grad=True).detach())", "lib.tensor([1.]).type()",
    "lib.tensor([1]).type()", "lib.tensor([True]).type()", "lib.tensor([1], dtype=lib.uint8).type()",
    "lib.tensor([1]).type(lib.float64)", "lib.tensor([1., 2.], requires_grad=True).data",
    "lib.tensor([1., 2.], requires_grad=True).data.requires_grad", "lib.ones(2, requires_grad=True).detach().requires_grad",
], ids=lambda e: e.replace("lib.", ""))
def test_attributes_and_conversions(expression: str) -> None:
    both(expression)


def test_numpy_shares_memory() -> None:
    t = mt.zeros(3)
    t.numpy()[0] = 5.0
    assert t[0].item() == 5.0
    detached = mt.ones(2, requires_grad=True).detach()
    assert isinstance(detached.numpy(), np.ndarray)


@requires_cuda
def test_numpy_of_cuda_tensor_raises() -> None:
    t = mt.zeros(2, device="cuda")
    with pytest.raises(TypeError, match=r"can't convert cuda:0 device type tensor to numpy\. Use Tensor\.cpu\(\)"):
        t.numpy()
    assert isinstance(t.cpu().numpy(), np.ndarray)
    assert np.asarray(t).tolist() == [0.0, 0.0]
    assert t.tolist() == [0.0, 0.0] and t.sum().item() == 0.0


# ---------------------------------------------------------------------- repr
REPRS = [
    "lib.tensor([1, 2, 3])", "lib.tensor([1., 2., 3.])", "lib.tensor([0.1, 2.5])", "lib.tensor(3.)", "lib.tensor(3)",
    "lib.tensor(0.5)", "lib.tensor(True)", "lib.tensor([True, False])", "lib.tensor([-1., 2.])", "lib.tensor([-1.5, 2.25])",
    "lib.tensor([3.14159265, -2.7])", "lib.tensor(-0.)", "lib.tensor([0., -0.])", "lib.zeros(3)",
    # scientific notation: a wide range, huge or tiny values
    "lib.tensor([1e-5, 1.])", "lib.tensor([1e8, 1.])", "lib.tensor([1e9])", "lib.tensor([1e-5])", "lib.tensor([123456.7])",
    "lib.tensor([1e10, 1e-10])", "lib.tensor([1e-3, 1e3])", "lib.tensor([1e-4, 1.])", "lib.tensor([0.0001])",
    "lib.tensor([100000.5])", "lib.tensor([1e7, 1.5])", "lib.tensor([99999999.])", "lib.tensor([12345678.])",
    "lib.tensor([0.001, 0.01])", "lib.tensor([-1e-5, 1e5])", "lib.tensor([1.0e-8, 0.])", "lib.arange(10.) * 1e5",
    "lib.tensor([1.23456789e-3, 5.])",
    # nan and inf
    "lib.tensor([float('nan'), 1.])", "lib.tensor([float('inf'), -float('inf'), 1.5])", "lib.tensor([float('nan')])",
    "lib.tensor([[1.5, float('nan')], [float('inf'), 2.]])", "lib.tensor([1e-5, 0., float('nan')])",
    # 2-D and 3-D
    "lib.tensor([[1., 2.], [3., 4.]])", "lib.tensor([[1, -2], [30, 4]])", "lib.arange(24.).reshape(2, 3, 4)",
    "lib.arange(24).reshape(2, 3, 4)", "lib.tensor([[[1.]]])", "lib.arange(12.).reshape(3, 4).T",
    "lib.arange(20.).reshape(4, 5) / 3", "lib.tensor([[True, False], [False, True]])",
    # empty
    "lib.zeros(0)", "lib.zeros(2, 0)", "lib.zeros(0, dtype=lib.int64)", "lib.zeros(0, dtype=lib.float64)",
    "lib.zeros(2, 0, dtype=lib.int32)", "lib.zeros(0, dtype=lib.bool)", "lib.zeros(1, 2, 0)",
    "lib.zeros(0, requires_grad=True)",
    # dtype suffixes
    "lib.tensor([1., 2.], dtype=lib.float64)", "lib.tensor([1, 2], dtype=lib.int32)", "lib.tensor([1, 2], dtype=lib.uint8)",
    "lib.tensor([1.5], dtype=lib.float16)", "lib.tensor(1.5, dtype=lib.float64)", "lib.tensor([1, 2], dtype=lib.int8)",
    "lib.tensor([0.1, 0.2], dtype=lib.float16)", "lib.tensor([65504.], dtype=lib.float16)", "lib.tensor([2**40, 1])",
    "lib.tensor([-5, 100000])", "lib.ones(2, 3, dtype=lib.int64)", "lib.tensor([1, 2, 3], dtype=lib.int16).reshape(3, 1)",
    # autograd suffixes
    "lib.tensor([1., 2.], requires_grad=True)", "lib.tensor([1., 2.], requires_grad=True) * 2",
    "lib.tensor([1., 2.], requires_grad=True).sum()", "lib.tensor([1., 2.], dtype=lib.float64, requires_grad=True)",
    "lib.tensor([1.], requires_grad=True).exp()", "lib.tensor([1.], requires_grad=True) + 1",
    "lib.tensor([[0.5, 1.], [2., 3.]], requires_grad=True) @ lib.ones(2, 2)",
    "lib.tensor([1., 2.], requires_grad=True).mean()", "lib.tensor([1., 2.], requires_grad=True).t()",
    "lib.tensor([1., 2.], requires_grad=True).to(lib.float64)", "(lib.tensor([1., 2.], requires_grad=True) * 2).detach()",
    "lib.zeros(2, 0, dtype=lib.float64, requires_grad=True)", "lib.tensor([1., -1.], requires_grad=True).relu()",
    # long rows wrap, and suffixes move to a new line when the last one is full
    "lib.arange(30.)", "lib.arange(30.) / 7", "lib.arange(100)", "lib.arange(12, dtype=lib.float64) / 7",
    "lib.arange(11, dtype=lib.float64) / 7", "lib.arange(10, dtype=lib.float64) / 7", "(lib.arange(10.) / 7).requires_grad_()",
    "lib.arange(10.).requires_grad_() / 7", "lib.arange(9.).requires_grad_() / 7", "lib.arange(20, dtype=lib.int32)",
    "lib.arange(7, dtype=lib.float64).requires_grad_() / 7", "lib.arange(8, dtype=lib.float64).requires_grad_() / 7",
    "lib.arange(16, dtype=lib.int32) * 10000", "lib.arange(17, dtype=lib.int32) * 10000",
    # more than 1000 elements are summarised
    "lib.arange(2000.)", "lib.arange(2000)", "lib.arange(1001)", "lib.arange(3000.).reshape(30, 100)",
    "lib.arange(3000.).reshape(3, 10, 100)", "lib.arange(1200.).reshape(2, 600)", "lib.arange(1200).reshape(600, 2)",
    "lib.arange(1200.).reshape(600, 2) / 7",
]


@pytest.mark.parametrize("expression", REPRS, ids=lambda e: e.replace("lib.", ""))
def test_repr(expression: str) -> None:
    assert repr(eval(expression, {"lib": mt})) == repr(eval(expression, {"lib": torch}))


def test_repr_of_size_and_dtype() -> None:
    assert repr(mt.zeros(2, 3).shape) == repr(torch.zeros(2, 3).shape) == "torch.Size([2, 3])"
    assert repr(mt.tensor(1.).shape) == "torch.Size([])"
    assert repr(mt.float64) == "torch.float64" and str(mt.int64) == "torch.int64"
    assert repr(mt.tensor([1., 2.]).max(0)) == repr(torch.tensor([1., 2.]).max(0))


# ---------------------------------------------------------------------- .to and friends
@pytest.mark.parametrize("expression", [
    "x.to(lib.float64)", "x.to(lib.float64, copy=True)", "x.to('cpu', lib.int32)", "x.to(device='cpu', dtype=lib.float16)",
    "x.to(dtype=lib.int64)", "x.to(lib.tensor([1], dtype=lib.int8))", "x.to(lib.device('cpu'))", "x.to('cpu:0')",
    "x.to(lib.float32)", "x.to('cuda:x')", "x.cpu()", "x.float()", "x.double()", "x.half()", "x.long()",
    "x.int()", "x.bool()", "x.short()", "x.byte()", "x.type_as(lib.tensor([1], dtype=lib.int16))",
    "x.to(lib.float64).to(lib.float32)", "x.type(lib.int64)", "x.to(lib.float64, non_blocking=True)",
    "lib.tensor([-1.7, 2.9, 300.]).long()", "lib.tensor([-1.7, 0., 0.2]).bool()", "lib.tensor([True, False]).float()",
])
def test_to(expression: str) -> None:
    check_both(lambda lib: eval(expression, {"lib": lib, "x": lib.tensor([1.5, -2.0, 0.0])}))


@pytest.mark.parametrize("expression", ["x.to(foo=1)", "x.to([1])", "x.to(lib.float64, lib.int32)"])
def test_to_errors(expression: str) -> None:
    assert_same_error(lambda: eval(expression, {"lib": mt, "x": mt.zeros(1)}),
                      lambda: eval(expression, {"lib": torch, "x": torch.zeros(1)}), message=False)


def test_to_returns_self_when_nothing_changes() -> None:
    x = mt.tensor([1.0, 2.0])
    assert x.to(mt.float32) is x and x.to("cpu") is x and x.cpu() is x and x.float() is x
    assert x.to(mt.float32, copy=True) is not x
    assert x.to(x) is x and x.type_as(x) is x


def test_to_is_differentiable() -> None:
    for lib in (mt, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.to(lib.float64)
        assert y.grad_fn.name() == "ToCopyBackward0" and y.requires_grad
        (y * y).sum().backward()
        assert x.grad.dtype == lib.float32 and x.grad.tolist() == [2.0, 4.0]
    assert mt.tensor([1.0], requires_grad=True).long().requires_grad is False


# ---------------------------------------------------------------------- devices
@pytest.mark.parametrize("args", [("cpu",), ("cuda",), ("cuda:1",), ("cuda", 1), ("cuda:0",), ("cpu:0",), ("cpu", 0)],
                         ids=repr)
def test_device_parsing(args: tuple) -> None:
    ours, theirs = mt.device(*args), torch.device(*args)
    assert repr(ours) == repr(theirs)
    assert str(ours) == str(theirs)
    assert (ours.type, ours.index) == (theirs.type, theirs.index)
    assert mt.device(ours) == ours and hash(mt.device(*args)) == hash(ours)


@pytest.mark.parametrize("args", [("gpu",), ("cuda:x",), ("cuda:1", 2), ("cuda", -1), ("cuda:01",), ("cuda:-1",)],
                         ids=repr)
def test_device_errors(args: tuple) -> None:
    message = args[0] not in ("gpu",) and args != ("cuda", -1)  # torch lists its many backends / adds no value
    assert_same_error(lambda: mt.device(*args), lambda: torch.device(*args), message=message)


def test_device_equality() -> None:
    assert mt.device("cuda:1") == mt.device("cuda", 1) and mt.device("cuda") != mt.device("cuda:0")
    assert mt.device("cpu") != mt.device("cuda")
    assert mt.zeros(1).device == mt.device("cpu")


@requires_no_cuda
@pytest.mark.parametrize("call", [
    lambda: mt.zeros(2, device="cuda"), lambda: mt.tensor([1.0], device="cuda:0"), lambda: mt.zeros(2).cuda(),
    lambda: mt.zeros(2).to("cuda"), lambda: mt.randn(2, device=mt.device("cuda")), lambda: mt.ones(1).to(0),
])
def test_cuda_without_gpu_raises_clearly(call) -> None:
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        call()
    assert mt.cuda.is_available() is False and mt.cuda.device_count() == 0


@requires_cuda
def test_cuda_round_trip_and_device_mixing() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x.cuda()
    assert y.device == mt.device("cuda", 0) and y.is_cuda and repr(y).endswith("device='cuda:0', grad_fn=<ToCopyBackward0>)")
    (y * y).sum().backward()
    assert x.grad.device.type == "cpu" and x.grad.tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        y + mt.ones(2)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        mt.ones(2) @ y
    assert (y + 1).device == y.device and (2.0 * y).device == y.device
    assert mt.zeros(2, device="cuda").to("cpu").device.type == "cpu"
    assert mt.tensor([1, 2], device="cuda").sum().item() == 3


@pytest.mark.parametrize("device", DEVICES)
def test_device_of_results(device: str) -> None:
    x = mt.randn(2, 3, device=device)
    for result in [x + 1, x.sum(), x @ x.T, x[0], x.argmax(), x > 0, mt.zeros_like(x), mt.cat([x, x]), x.to(mt.float64)]:
        assert result.device.type == device
    assert_same(x.cpu(), to_torch(x))


def test_cuda_module() -> None:
    assert isinstance(mt.cuda.is_available(), bool)
    assert mt.cuda.device_count() == (mt.cuda.device_count() if CUDA else 0)
    mt.cuda.manual_seed(0)
    mt.cuda.manual_seed_all(0)
