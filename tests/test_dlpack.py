"""DLPack: tensors move to and from PyTorch and NumPy without copies, and a trained state dict can be
carried into PyTorch."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pytest
import torch

import minitorch_lsm as mt
from helpers import np_of

CUDA = mt.cuda.is_available()
requires_cuda = pytest.mark.skipif(not CUDA, reason="minitorch_lsm.cuda is not available")
DTYPES = ["float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def address(t: mt.Tensor) -> int:
    return t._data.__array_interface__["data"][0]


@pytest.mark.parametrize("dtype", DTYPES)
def test_minitorch_to_torch_shares_memory(dtype: str) -> None:
    ours = mt.tensor(np.arange(6).reshape(2, 3) % 2, dtype=getattr(mt, dtype))
    theirs = torch.from_dlpack(ours)
    assert str(theirs.dtype) == str(ours.dtype) and tuple(theirs.shape) == (2, 3)
    assert theirs.data_ptr() == address(ours)
    theirs[0, 0] = True if dtype == "bool" else 1  # torch writes, minitorch sees it
    assert bool(ours[0, 0].item()) and np.array_equal(np_of(ours), theirs.numpy())
    ours[1, 2] = 0  # minitorch writes, torch sees it
    assert not bool(theirs[1, 2].item())


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_to_minitorch_shares_memory(dtype: str) -> None:
    theirs = (torch.arange(6).reshape(2, 3) % 2).to(getattr(torch, dtype))
    ours = mt.from_dlpack(theirs)
    assert isinstance(ours, mt.Tensor) and str(ours.dtype) == str(theirs.dtype) and ours.shape == (2, 3)
    assert address(ours) == theirs.data_ptr()
    theirs[1, 1] = 0
    assert not bool(ours[1, 1].item())
    ours[0, 0] = 1
    assert bool(theirs[0, 0].item())
    assert not ours.requires_grad and ours.is_leaf


def test_numpy_both_ways_shares_memory() -> None:
    array = np.arange(5.0)
    t = mt.from_dlpack(array)
    array[0] = -1.0
    t[1] = 10.0
    assert t.tolist()[:2] == [-1.0, 10.0] and array[1] == 10.0
    back = np.from_dlpack(t)
    back[2] = 7.0
    assert t[2].item() == 7.0 and array[2] == 7.0
    assert np.shares_memory(back, array)


def test_views_and_strides_are_shared_not_copied() -> None:
    base = mt.arange(12.0).reshape(3, 4)
    view = base.t()
    theirs = torch.from_dlpack(view)
    assert tuple(theirs.shape) == (4, 3) and theirs.stride() == (1, 4)
    theirs[3, 0] = 100.0
    assert base[0, 3].item() == 100.0
    sliced = torch.arange(20.0)[::4]  # a strided torch view
    ours = mt.from_dlpack(sliced)
    assert ours.tolist() == [0.0, 4.0, 8.0, 12.0, 16.0]
    sliced[1] = -4.0
    assert ours[1].item() == -4.0


def test_zero_dim_and_empty() -> None:
    assert mt.from_dlpack(torch.tensor(3.5)).shape == () and mt.from_dlpack(torch.tensor(3.5)).item() == 3.5
    assert tuple(torch.from_dlpack(mt.tensor(2)).shape) == () and torch.from_dlpack(mt.tensor(2)).item() == 2
    assert tuple(torch.from_dlpack(mt.zeros(0, 3)).shape) == (0, 3)
    assert mt.from_dlpack(torch.zeros(2, 0)).shape == (2, 0)


def test_device_and_protocol_details() -> None:
    t = mt.ones(2)
    assert t.__dlpack_device__() == (1, 0) == tuple(torch.ones(1).__dlpack_device__())
    assert mt.from_dlpack(t) is t
    assert type(t.__dlpack__()).__name__ == "PyCapsule"
    with pytest.raises((RuntimeError, BufferError), match="require"):  # like torch: detach first
        torch.from_dlpack(mt.ones(2, requires_grad=True))
    p = mt.nn.Parameter(mt.ones(2))
    shared = torch.from_dlpack(p.detach())
    shared.mul_(3)
    assert p.tolist() == [3.0, 3.0]
    with pytest.raises(TypeError, match="__dlpack"):
        mt.from_dlpack([1, 2, 3])
    with pytest.raises(BufferError):  # torch refuses to export it
        mt.from_dlpack(torch.ones(2, requires_grad=True))
    # the shared memory outlives the exporting object
    theirs = torch.from_dlpack(mt.arange(4.0) * 2)
    assert theirs.tolist() == [0.0, 2.0, 4.0, 6.0]


def test_exporting_a_tensor_that_requires_grad_raises_buffer_error_like_torch() -> None:
    for lib in (torch, mt):
        with pytest.raises(BufferError, match="Can't export tensors that require gradient, use tensor.detach()"):
            lib.ones(2, requires_grad=True).__dlpack__()


def test_autograd_works_on_imported_tensors() -> None:
    x = mt.from_dlpack(torch.tensor([1.0, 2.0, 3.0])).requires_grad_()
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]


def test_trained_state_dict_carries_into_torch() -> None:
    mt.manual_seed(0)
    model = mt.nn.Sequential(mt.nn.Linear(6, 12), mt.nn.Tanh(), mt.nn.Linear(12, 4), mt.nn.LogSoftmax(dim=1))
    x = mt.randn(32, 6)
    y = mt.randint(0, 4, (32,))
    opt = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(20):
        opt.zero_grad()
        mt.nn.functional.nll_loss(model(x), y).backward()
        opt.step()
    twin = torch.nn.Sequential(torch.nn.Linear(6, 12), torch.nn.Tanh(), torch.nn.Linear(12, 4),
                               torch.nn.LogSoftmax(dim=1))
    state = OrderedDict((k, torch.from_dlpack(v)) for k, v in model.state_dict().items())
    assert state["0.weight"].data_ptr() == address(model[0].weight)  # no copy on the way
    assert twin.load_state_dict(state).missing_keys == []
    with torch.no_grad():
        theirs = twin(torch.from_dlpack(x)).numpy()
    np.testing.assert_allclose(np_of(model(x)), theirs, rtol=1e-5, atol=1e-6)

    # and back: a single Linear's state dict into torch, same outputs
    lin = mt.nn.Linear(5, 3)
    torch_lin = torch.nn.Linear(5, 3)
    torch_lin.load_state_dict({k: torch.from_dlpack(v) for k, v in lin.state_dict().items()})
    z = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_allclose(np_of(lin(mt.tensor(z))), torch_lin(torch.tensor(z)).detach().numpy(),
                               rtol=1e-6, atol=1e-6)
    back = mt.nn.Linear(5, 3)
    back.load_state_dict({k: mt.from_dlpack(v.detach()) for k, v in torch_lin.state_dict().items()})
    assert np.array_equal(np_of(back(mt.tensor(z))), np_of(lin(mt.tensor(z))))


@requires_cuda
def test_cuda_tensors_exchange_with_torch_without_copies() -> None:  # pragma: no cover - needs a GPU
    if not torch.cuda.is_available():
        pytest.skip("this torch build has no CUDA")
    ours = mt.arange(4.0, device="cuda")
    theirs = torch.from_dlpack(ours)
    assert theirs.device.type == "cuda"
    theirs[0] = 9.0
    assert ours[0].item() == 9.0
    again = mt.from_dlpack(torch.ones(3, device="cuda"))
    assert again.device.type == "cuda" and again.__dlpack_device__()[0] == 2
