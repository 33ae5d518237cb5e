"""gradcheck and gradgradcheck: they pass on correct ops, catch wrong backwards, and behave like torch's.

Each op is written once as ``fn(lib, *inputs)`` and checked with both libraries' gradcheck, so the
oracle confirms every function here is one torch itself passes.
"""
from __future__ import annotations

import inspect
import sys
import warnings
from typing import Any, Callable

import numpy as np
import pytest
import torch

import minitorch_lsm as mt
from helpers import DEVICES
from minitorch_lsm.autograd.function import Function
from minitorch_lsm.autograd.gradcheck import GradcheckError
from torch.autograd.gradcheck import GradcheckError as TorchGradcheckError

# name: (function of (lib, *inputs), input shapes, whether inputs must be positive)
OPS: dict[str, tuple[Callable[..., Any], list[tuple[int, ...]], bool]] = {
    "exp": (lambda lib, x: x.exp(), [(2, 3)], False),
    "log": (lambda lib, x: x.log(), [(2, 3)], True),
    "mul_broadcast": (lambda lib, a, b: a * b, [(2, 3), (3,)], False),
    "matmul": (lambda lib, a, b: a @ b, [(2, 3), (3, 4)], False),
    "sum_dim": (lambda lib, x: x.sum(dim=1), [(2, 3)], False),
    "sum_keepdim": (lambda lib, x: x.sum(dim=0, keepdim=True), [(2, 3)], False),
    "mean": (lambda lib, x: x.mean(), [(2, 3)], False),
    "mean_dim": (lambda lib, x: x.mean(dim=-1), [(2, 3)], False),
    "tanh": (lambda lib, x: x.tanh(), [(4,)], False),
    "sigmoid": (lambda lib, x: x.sigmoid(), [(4,)], False),
    "pow_scalar": (lambda lib, x: x ** 3, [(4,)], False),
    "pow_tensor": (lambda lib, a, b: a ** b, [(4,), (4,)], True),
    "div": (lambda lib, a, b: a / b, [(2, 3), (3,)], True),
    "getitem": (lambda lib, x: x[1:, ::2], [(3, 4)], False),
    "getitem_int": (lambda lib, x: x[0], [(3, 4)], False),
    "cat": (lambda lib, a, b: lib.cat([a, b], dim=0), [(2, 3), (1, 3)], False),
    "scalar_0d": (lambda lib, x: (x * x).exp(), [()], False),
    "two_outputs": (lambda lib, a, b: (a * b, (a - b).sum()), [(3,), (3,)], False),
}


def inputs_for_both(name: str, rng: np.random.Generator, device: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The same float64 values as minitorch (on ``device``) and torch tensors that require grad."""
    _, shapes, positive = OPS[name]
    arrays = [rng.standard_normal(shape) for shape in shapes]
    arrays = [np.abs(a) + 0.5 if positive else a for a in arrays]
    return (tuple(mt.tensor(a, dtype=mt.float64, device=device, requires_grad=True) for a in arrays),
            tuple(torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(OPS))
def test_gradcheck_passes(name: str, device: str, rng: np.random.Generator) -> None:
    fn = OPS[name][0]
    ours, theirs = inputs_for_both(name, rng, device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # float64 inputs: no precision warning
        assert mt.autograd.gradcheck(lambda *xs: fn(mt, *xs), ours)
    assert torch.autograd.gradcheck(lambda *xs: fn(torch, *xs), theirs)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(OPS))
def test_gradgradcheck_passes(name: str, device: str, rng: np.random.Generator) -> None:
    fn = OPS[name][0]
    ours, theirs = inputs_for_both(name, rng, device)
    assert mt.autograd.gradgradcheck(lambda *xs: fn(mt, *xs), ours)
    assert torch.autograd.gradgradcheck(lambda *xs: fn(torch, *xs), theirs)


# ---------------------------------------------------------------------- wrong backwards are caught
class WrongExp(Function):
    """d exp(x) = 2 exp(x) dx  (deliberately wrong: the true rule has no factor 2)"""

    keeps_inputs = True

    def forward(self, x: Any) -> Any:
        return np.exp(x)

    def backward(self, grad: mt.Tensor) -> mt.Tensor:
        return grad * self.inputs[0].exp() * 2


class TorchWrongExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.exp()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad * x.exp() * 2


class DetachedSquare(Function):
    """d x**2 = 2 x dx, written with a detached x: right first derivative, no second derivative"""

    keeps_inputs = True

    def forward(self, x: Any) -> Any:
        return x * x

    def backward(self, grad: mt.Tensor) -> mt.Tensor:
        return grad * 2 * self.inputs[0].detach()


class NoisyIdentity(Function):
    """d x = dx, plus noise far below atol: matches numerically, but backward is not deterministic"""

    def forward(self, x: Any) -> Any:
        return x.copy()

    def backward(self, grad: mt.Tensor) -> mt.Tensor:
        return grad + mt.randn(*grad.shape, dtype=grad.dtype) * 1e-9


def x64(*shape: int) -> mt.Tensor:
    return mt.tensor(np.random.default_rng(1).standard_normal(shape), dtype=mt.float64, requires_grad=True)


def test_wrong_backward_raises_with_torch_message() -> None:
    a, b = x64(3), x64(2)
    with pytest.raises(GradcheckError) as caught:
        mt.autograd.gradcheck(lambda a, b: (a.sin(), WrongExp.apply(b)), (a, b))
    message = str(caught.value)
    assert isinstance(caught.value, RuntimeError)
    assert message.startswith("Jacobian mismatch for output 1 with respect to input 1,\nnumerical:tensor(")
    assert "\nanalytical:tensor(" in message
    ta, tb = (torch.tensor(t.detach().numpy(), requires_grad=True) for t in (a, b))
    with pytest.raises(TorchGradcheckError) as expected:
        torch.autograd.gradcheck(lambda a, b: (a.sin(), TorchWrongExp.apply(b)), (ta, tb))
    assert message.splitlines()[0] == str(expected.value).splitlines()[0]


def test_wrong_backward_returns_false_without_raising() -> None:
    assert mt.autograd.gradcheck(WrongExp.apply, x64(3), raise_exception=False) is False
    assert mt.autograd.gradgradcheck(DetachedSquare.apply, x64(3), raise_exception=False) is False
    # gradgradcheck differentiates backward's own formula, so a wrong but smooth first derivative passes it
    assert mt.autograd.gradgradcheck(WrongExp.apply, x64(3), raise_exception=False) is True
    assert mt.autograd.gradcheck(lambda x: x.exp(), x64(3), raise_exception=False) is True


def test_gradgradcheck_catches_a_wrong_second_derivative() -> None:
    assert mt.autograd.gradcheck(DetachedSquare.apply, x64(3))
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        mt.autograd.gradgradcheck(DetachedSquare.apply, x64(3))


def test_nondeterministic_backward_needs_nondet_tol() -> None:
    with pytest.raises(GradcheckError, match="Backward is not reentrant"):
        mt.autograd.gradcheck(NoisyIdentity.apply, x64(3))
    assert mt.autograd.gradcheck(NoisyIdentity.apply, x64(3), nondet_tol=1e-6)


def test_gradcheck_error_is_exported() -> None:
    module = sys.modules["minitorch_lsm.autograd.gradcheck"]
    assert "GradcheckError" in module.__all__ and issubclass(GradcheckError, RuntimeError)
    assert mt.autograd.gradcheck.GradcheckError is GradcheckError  # torch.autograd.gradcheck.GradcheckError


# ---------------------------------------------------------------------- torch's rules for inputs and outputs
def test_float32_input_warns_like_torch() -> None:
    x = mt.tensor([0.5, 1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match=r"Input #0 requires gradient and is not a double precision floating point"):
        assert mt.autograd.gradcheck(lambda x: x * 3, x, eps=1e-3, atol=1e-2, rtol=1e-2)


def test_only_differentiable_inputs_and_floating_outputs_are_checked() -> None:
    x, index, scale = x64(4), mt.tensor([0, 2, 2]), mt.tensor(3.0, dtype=mt.float64)
    assert mt.autograd.gradcheck(lambda x, i, c: (x[i] * c, x.argmax(), x.detach()), (x, index, scale))


@pytest.mark.parametrize("lib", [mt, torch], ids=["minitorch", "torch"])
def test_no_input_requiring_grad_is_a_value_error(lib: Any) -> None:
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        lib.autograd.gradcheck(lambda x: x.exp(), lib.ones(3, dtype=lib.float64))


def test_output_cut_from_the_graph_must_have_zero_numerical_gradient() -> None:
    with pytest.raises(GradcheckError, match="Numerical gradient for function expected to be zero"):
        mt.autograd.gradcheck(lambda x: x.detach() * 2, x64(3))
    assert mt.autograd.gradcheck(lambda x: mt.ones(2, dtype=mt.float64), x64(3))


def test_inputs_are_left_as_they_were() -> None:
    x = x64(2, 3)
    before, version = x.detach().numpy().copy(), x._version
    mt.autograd.gradgradcheck(lambda x: (x * x).sum(dim=0), x)
    assert np.array_equal(x.detach().numpy(), before) and x._version == version
    assert x.grad is None


def test_gradgradcheck_explicit_grad_outputs_and_its_own_generator() -> None:
    x, g = x64(3), mt.tensor([1.0, -2.0, 0.5], dtype=mt.float64, requires_grad=True)
    assert mt.autograd.gradgradcheck(lambda x: x.tanh(), x, g)
    assert mt.autograd.gradgradcheck(lambda x: x.tanh(), (x,), (g.detach(),))  # grad_outputs without grad
    mt.manual_seed(0)
    expected = mt.randn(3)
    mt.manual_seed(0)
    mt.autograd.gradgradcheck(lambda x: x.tanh(), x)
    assert mt.randn(3).tolist() == expected.tolist()  # the global generator was not used


def test_asking_for_no_check_is_an_error_like_torch() -> None:
    with pytest.raises(AssertionError):
        mt.autograd.gradcheck(lambda x: x, x64(2), check_backward_ad=False)
    with pytest.raises(AssertionError):
        mt.autograd.gradgradcheck(lambda x: x, x64(2), check_rev_over_rev=False)


@pytest.mark.parametrize("name", ["gradcheck", "gradgradcheck"])
def test_signature_matches_torch(name: str) -> None:
    ours = inspect.signature(getattr(mt.autograd, name)).parameters
    theirs = inspect.signature(getattr(torch.autograd, name)).parameters
    assert list(ours) == list(theirs)
    assert [(p.kind, p.default) for p in ours.values()] == [(p.kind, p.default) for p in theirs.values()]
