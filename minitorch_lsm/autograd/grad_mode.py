"""Grad mode: whether ops record themselves on the tape. Per thread, as in PyTorch.

Each of these works as a context manager and as a decorator:

>>> import minitorch_lsm as torch
>>> x = torch.ones(2, requires_grad=True)
>>> with torch.no_grad():
...     (x * 2).requires_grad
False
>>> @torch.no_grad()
... def double(t):
...     return t * 2
>>> double(x).requires_grad
False
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable, TypeVar

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]

F = TypeVar("F", bound=Callable[..., Any])


class _ThreadState(threading.local):
    grad_enabled: bool = True
    inference: bool = False


_state = _ThreadState()


def is_grad_enabled() -> bool:
    """True when new ops are recorded for autograd in this thread."""
    return _state.grad_enabled


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` in this thread."""
    return _state.inference


class _GradModeContext:
    """Sets grad mode on entry and restores the previous mode on exit; also a decorator."""

    enabled: bool = True
    inference: bool = False

    def __enter__(self) -> None:
        self._previous = (_state.grad_enabled, _state.inference)
        _state.grad_enabled, _state.inference = self.enabled, self.inference

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled, _state.inference = self._previous

    def __call__(self, func: F) -> F:
        enabled, inference = self.enabled, self.inference

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            context = _GradModeContext()
            context.enabled, context.inference = enabled, inference
            with context:
                return func(*args, **kwargs)
        return wrapper  # type: ignore[return-value]


class no_grad(_GradModeContext):  # noqa: N801
    """Disable recording: results of ops do not require grad."""

    enabled = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Re-enable recording inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Turn recording on or off. Like torch, it takes effect at once, so it works as a plain call,
    as a context manager (restoring the old mode on exit) and as a decorator."""

    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)
        self.inference = _state.inference
        self._previous = (_state.grad_enabled, _state.inference)
        _state.grad_enabled = self.enabled

    def __enter__(self) -> None:
        pass

    def __call__(self, func: F) -> F:
        _state.grad_enabled, _state.inference = self._previous  # a decorator changes nothing until called
        return super().__call__(func)


class inference_mode(_GradModeContext):  # noqa: N801
    """Like ``no_grad``, for code that never needs gradients; ``inference_mode(False)`` changes nothing."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        self.enabled = _state.grad_enabled and not self.mode
        self.inference = self.mode or _state.inference
        super().__enter__()

    def __call__(self, func: F) -> F:
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(mode):
                return func(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
