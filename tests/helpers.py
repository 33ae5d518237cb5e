"""The one comparison helper the suite shares: run the same code on minitorch_lsm and on torch, compare.

Both libraries have the same API, so most checks are written once as ``fn(lib, ...)`` and called with
``lib=minitorch_lsm`` and ``lib=torch``. Results are compared for shape, dtype, values (with torch's
default tolerances: float32 rtol 1.3e-6 / atol 1e-5, float64 1e-7 / 1e-7), ``requires_grad`` and,
after a backward pass, the gradients of every input.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pytest
import torch

import minitorch_lsm as mt

def skip_without_c_kernels(**skip_kwargs: Any) -> None:
    """Skip where minitorch_lsm._ckernels was not built (no C compiler at install); in CI, fail instead:
    the C kernels must be tested there."""
    import os
    import sys
    if sys.modules["minitorch_lsm.ops._c"].kernels is None:
        if os.environ.get("CI") == "true":
            pytest.fail("minitorch_lsm._ckernels was not built: CI must test the C kernels", pytrace=False)
        pytest.skip("minitorch_lsm._ckernels was not built (no C compiler at install)", **skip_kwargs)


CUDA = mt.cuda.is_available()
requires_cuda = pytest.mark.skipif(not CUDA, reason="no GPU here: minitorch_lsm.cuda.is_available() is False")
requires_no_cuda = pytest.mark.skipif(CUDA, reason="a GPU is present")

# Every device-aware test runs on cpu, and on cuda when a GPU is present.
DEVICES = [pytest.param("cpu", id="cpu"), pytest.param("cuda", id="cuda", marks=requires_cuda)]
FLOAT_DTYPES = ["float32", "float64"]
ALL_DTYPES = ["float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool"]


# ---------------------------------------------------------------------- moving between the libraries
def to_torch(value: Any) -> Any:
    """A minitorch result as the equivalent torch object (tensors copied to cpu; tuples recursed)."""
    if isinstance(value, mt.Tensor):
        return torch.from_numpy(np.array(value.detach().cpu().numpy(), copy=True))
    if isinstance(value, (tuple, list)):
        return type(value)(to_torch(v) for v in value) if not hasattr(value, "_fields") else tuple(map(to_torch, value))
    return value


def make(lib: Any, value: Any, dtype: str | None = None, device: str = "cpu", requires_grad: bool = False) -> Any:
    """``lib.tensor(value)`` with a dtype given by name; NumPy arrays keep their dtype if none is given."""
    if isinstance(value, mt.Tensor):
        value = value.detach().cpu().numpy()
    kwargs = {"dtype": getattr(lib, dtype)} if dtype is not None else {}
    return lib.tensor(value, device=device, requires_grad=requires_grad, **kwargs)


# ---------------------------------------------------------------------- comparing
def flat_tensors(value: Any) -> list[Any]:
    """The tensors inside a (possibly nested) result, in order."""
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in flat_tensors(v)]
    return [value] if isinstance(value, (mt.Tensor, torch.Tensor)) else []


def assert_same(actual: Any, expected: Any, *, check_requires_grad: bool = True, what: str = "result") -> None:
    """``actual`` (minitorch) matches ``expected`` (torch): structure, shape, dtype, values, requires_grad."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, mt.Tensor), f"{what}: expected a Tensor, got {type(actual).__name__}"
        assert tuple(actual.shape) == tuple(expected.shape), f"{what}: shape {actual.shape} != {expected.shape}"
        assert str(actual.dtype) == str(expected.dtype), f"{what}: dtype {actual.dtype} != {expected.dtype}"
        if check_requires_grad:
            assert actual.requires_grad == expected.requires_grad, \
                f"{what}: requires_grad {actual.requires_grad} != {expected.requires_grad}"
        torch.testing.assert_close(to_torch(actual), expected.detach().cpu(), equal_nan=True, msg=lambda m: f"{what}: {m}")
    elif isinstance(expected, (tuple, list)) and not isinstance(expected, torch.Size):
        assert isinstance(actual, (tuple, list)), f"{what}: expected a sequence, got {type(actual).__name__}"
        assert len(actual) == len(expected), f"{what}: {len(actual)} items != {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, check_requires_grad=check_requires_grad, what=f"{what}[{i}]")
    elif isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray) and actual.dtype == expected.dtype, f"{what}: {actual!r} != {expected!r}"
        np.testing.assert_array_equal(actual, expected, err_msg=what)
    elif isinstance(expected, (torch.dtype, torch.device, torch.Size)):
        assert repr(actual) == repr(expected), f"{what}: {actual!r} != {expected!r}"
    else:
        assert type(actual) is type(expected), f"{what}: {type(actual).__name__} != {type(expected).__name__}"
        assert actual == expected or (actual != actual and expected != expected), f"{what}: {actual!r} != {expected!r}"


def np_of(t: Any) -> np.ndarray:
    """A tensor of either library as a NumPy array of its own (a copy, detached, on the CPU)."""
    return np.array(t.detach().cpu().numpy(), copy=True)


def outcome(call: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """Run ``call``; return (result, None) or (None, the exception it raised)."""
    try:
        return call(), None
    except Exception as error:  # noqa: BLE001 - comparing errors is the point
        return None, error


def result_or_raised(call: Callable[[], Any]) -> Any:
    """The result of ``call``, or ``("raised", class name, message)``: one value to compare across libraries."""
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - comparing errors is the point
        return ("raised", type(error).__name__, str(error))


def same(fn: Callable[[Any], Any]) -> Any:
    """``fn(lib)`` gives equal results (or equal errors, see ``result_or_raised``) for both libraries."""
    ours, theirs = result_or_raised(lambda: fn(mt)), result_or_raised(lambda: fn(torch))
    assert ours == theirs
    return ours


def assert_same_error(mt_call: Callable[[], Any], torch_call: Callable[[], Any], *, message: bool = True,
                      contains: str | None = None) -> BaseException:
    """Both calls raise the same exception class and (when ``message``) the same message."""
    _, mt_error = outcome(mt_call)
    _, torch_error = outcome(torch_call)
    assert torch_error is not None, "torch did not raise: the test itself is wrong"
    assert mt_error is not None, f"minitorch_lsm did not raise; torch raised {type(torch_error).__name__}: {torch_error}"
    assert type(mt_error) is type(torch_error), \
        f"minitorch_lsm raised {type(mt_error).__name__}: {mt_error}\ntorch raised {type(torch_error).__name__}: {torch_error}"
    if message:
        assert str(mt_error) == str(torch_error)
    if contains is not None:
        assert contains in str(mt_error) and contains in str(torch_error)
    return mt_error


def check_both(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(lib, *args)`` for both libraries: equal results, or the same exception class and message."""
    mt_result, mt_error = outcome(lambda: fn(mt, *args, **kwargs))
    torch_result, torch_error = outcome(lambda: fn(torch, *args, **kwargs))
    if torch_error is not None or mt_error is not None:
        assert torch_error is not None, f"minitorch_lsm raised {type(mt_error).__name__}: {mt_error}; torch did not"
        assert mt_error is not None, f"torch raised {type(torch_error).__name__}: {torch_error}; minitorch_lsm did not"
        assert (type(mt_error), str(mt_error)) == (type(torch_error), str(torch_error))
        return None
    assert_same(mt_result, torch_result)
    return mt_result


def backward_both(mt_outputs: Any, torch_outputs: Any, rng: np.random.Generator) -> None:
    """Backpropagate the same random upstream gradient through every float output of both libraries."""
    mt_roots, torch_roots, mt_grads, torch_grads = [], [], [], []
    for a, e in zip(flat_tensors(mt_outputs), flat_tensors(torch_outputs)):
        if e.requires_grad:
            g = rng.standard_normal(tuple(e.shape))
            mt_roots.append(a)
            torch_roots.append(e)
            mt_grads.append(mt.tensor(g, dtype=a.dtype, device=a.device))
            torch_grads.append(torch.tensor(g, dtype=e.dtype))
    if torch_roots:
        torch.autograd.backward(torch_roots, torch_grads)
        mt.autograd.backward(mt_roots, mt_grads)


def assert_same_grads(mt_inputs: Sequence[Any], torch_inputs: Sequence[Any]) -> None:
    """Each input's ``.grad`` matches torch's (both None, or equal tensors)."""
    for i, (a, e) in enumerate(zip(mt_inputs, torch_inputs)):
        if not isinstance(e, torch.Tensor) or not e.requires_grad:
            continue
        if e.grad is None:
            assert a.grad is None, f"grad of input {i}: torch has none, minitorch_lsm has {a.grad!r}"
        else:
            assert a.grad is not None, f"grad of input {i}: minitorch_lsm has none"
            assert_same(a.grad, e.grad, check_requires_grad=False, what=f"grad of input {i}")
