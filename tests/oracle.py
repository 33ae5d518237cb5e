"""Helpers for the softmax-family and classification-loss parity tests: build the same input in both
libraries, compare results (shape, dtype, values, NaN positions) with torch's default tolerances,
compare raised errors (class and message) and recorded warnings.

torch (the real PyTorch, CPU) is the oracle; minitorch inputs may live on cuda, results are compared on cpu.
What every parity test shares (devices, ``outcome``, ``assert_same_error``, ``to_torch``) is in helpers.py.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import torch

import minitorch_lsm as mt
from helpers import CUDA, DEVICES, assert_same_error, np_of, outcome, to_torch  # noqa: F401 - shared

# torch.testing's default (rtol, atol) per dtype
TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}
# about one float16 ulp for values of order 1..10 (torch accumulates in float32 and rounds; so do we, but not bit-equal)
FP16_TOL = (1e-3, 1e-2)


def dtype_name(dtype: Any) -> str:
    return str(dtype).replace("torch.", "")


def mt_tensor(array: Any, dtype: str | None = None, device: str = "cpu", requires_grad: bool = False) -> mt.Tensor:
    """A minitorch tensor with ``array``'s values: built on cpu, then moved with ``.to(device)``."""
    array = np.asarray(array)
    t = mt.tensor(array, dtype=getattr(mt, dtype) if dtype else None)
    if device != "cpu":
        t = t.to(device)
    if requires_grad:
        t.requires_grad_()
    return t


def th_tensor(array: Any, dtype: str | None = None, requires_grad: bool = False) -> torch.Tensor:
    array = np.asarray(array)
    t = torch.tensor(array, dtype=getattr(torch, dtype) if dtype else None)
    if requires_grad:
        t.requires_grad_()
    return t


def pair(array: Any, dtype: str | None = None, device: str = "cpu", requires_grad: bool = False) -> tuple[mt.Tensor, torch.Tensor]:
    """The same values as a minitorch tensor (on ``device``) and a torch tensor (cpu)."""
    return mt_tensor(array, dtype, device, requires_grad), th_tensor(array, dtype, requires_grad)


def assert_close(actual: Any, expected: Any, rtol: float | None = None, atol: float | None = None,
                 what: str = "result", check_device: str | None = None) -> None:
    """``actual`` (minitorch) equals ``expected`` (torch) in shape, dtype and values (NaN where NaN)."""
    if expected is None:
        assert actual is None, f"{what}: expected None, got {actual!r}"
        return
    assert isinstance(actual, mt.Tensor), f"{what}: expected a Tensor, got {type(actual).__name__}"
    assert tuple(actual.shape) == tuple(expected.shape), f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    assert dtype_name(actual.dtype) == dtype_name(expected.dtype), f"{what}: dtype {actual.dtype} != {expected.dtype}"
    if check_device is not None:
        assert str(actual.device).split(":")[0] == check_device, f"{what}: on {actual.device}, expected {check_device}"
    if rtol is None or atol is None:
        default = TOLERANCES.get(dtype_name(expected.dtype), (0.0, 0.0))
        rtol = default[0] if rtol is None else rtol
        atol = default[1] if atol is None else atol
    torch.testing.assert_close(to_torch(actual), expected.detach().cpu(), rtol=rtol, atol=atol, equal_nan=True,
                               check_dtype=True, msg=lambda m: f"{what}: {m}")


def same_outcome(mt_call: Callable[[], Any], th_call: Callable[[], Any]) -> tuple[Any, Any]:
    """Either both raise the same error (returns (None, None)) or both return (returns both results)."""
    expected, expected_error = outcome(th_call)
    actual, actual_error = outcome(mt_call)
    if expected_error is not None or actual_error is not None:
        assert expected_error is not None, f"minitorch raised {type(actual_error).__name__}: {actual_error}; torch did not"
        assert actual_error is not None, f"torch raised {type(expected_error).__name__}: {expected_error}; minitorch did not"
        assert type(actual_error) is type(expected_error), \
            f"{type(actual_error).__name__}({actual_error}) != {type(expected_error).__name__}({expected_error})"
        assert str(actual_error) == str(expected_error), f"message {str(actual_error)!r} != {str(expected_error)!r}"
        return None, None
    return actual, expected


def recorded_warnings(call: Callable[[], Any]) -> tuple[Any, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, list(caught)


def warning_summary(caught: list[warnings.WarningMessage]) -> list[tuple[type, str]]:
    return [(w.category, str(w.message)) for w in caught]


def silently(call: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


def grad_like(shape: tuple[int, ...], dtype: str, seed: int = 0) -> np.ndarray:
    """A random upstream gradient, the same for both libraries."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)
