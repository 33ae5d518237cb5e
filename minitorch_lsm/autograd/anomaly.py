"""Anomaly detection: find the forward line behind a backward that fails or produces nan.

While anomaly mode is on, every recorded node also keeps the Python stack of the forward call that
created it, and the engine checks each gradient a node's backward returns. A nan raises
``RuntimeError: Function 'LogBackward0' returned nan values in its 0th output.``, and any error in a
backward first warns ``Error detected in LogBackward0. Traceback of forward call that caused the
error: ...`` with that stored stack. Off, it costs one attribute check per recorded node.

As in PyTorch the mode is one switch for the whole process, not per thread (unlike grad mode).

Examples:
    >>> import warnings
    >>> import minitorch_lsm as torch
    >>> x = torch.tensor([-1.0, 1.0], requires_grad=True)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     with torch.autograd.detect_anomaly():
    ...         y = x.sqrt()       # sqrt(-1) is nan, and so is its gradient
    ...         try:
    ...             y.sum().backward()
    ...         except RuntimeError as error:
    ...             print(error)
    Function 'SqrtBackward0' returned nan values in its 0th output.
    >>> [line.strip() for line in str(caught[-1].message).splitlines() if "x.sqrt()" in line]
    ['y = x.sqrt()       # sqrt(-1) is nan, and so is its gradient']
    >>> torch.is_anomaly_enabled()
    False
"""
from __future__ import annotations

import functools
import os
import sys
import traceback
import warnings
from typing import Any, Callable, Sequence, TypeVar

from .. import _device

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
           "set_anomaly_enabled"]

F = TypeVar("F", bound=Callable[..., Any])


class _AnomalyState:
    """The process-wide switch (PyTorch keeps it global too: a thread started later sees it)."""

    enabled: bool = False
    check_nan: bool = True


_anomaly = _AnomalyState()


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is on (``torch.is_anomaly_enabled``).

    Examples:
        >>> import minitorch_lsm as torch
        >>> with torch.autograd.set_detect_anomaly(True):
        ...     print(torch.is_anomaly_enabled())
        True
        >>> torch.is_anomaly_enabled()
        False
    """
    return _anomaly.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """True when anomaly mode also raises on nan gradients (``torch.is_anomaly_check_nan_enabled``).

    Examples:
        >>> import minitorch_lsm as torch
        >>> with torch.autograd.set_detect_anomaly(True, check_nan=False):
        ...     print(torch.is_anomaly_check_nan_enabled())
        False
        >>> torch.is_anomaly_check_nan_enabled()
        True
    """
    return _anomaly.check_nan


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turn anomaly detection on or off now (``torch.set_anomaly_enabled``); no warning, no restoring.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.set_anomaly_enabled(True); torch.is_anomaly_enabled()
        True
        >>> torch.set_anomaly_enabled(False); torch.is_anomaly_enabled()
        False
    """
    _anomaly.enabled, _anomaly.check_nan = bool(enabled), bool(check_nan)


class _AnomalyContext:
    """Sets the mode on entry, restores the previous one on exit; calling it on a function decorates it."""

    mode: bool = True
    check_nan: bool = True

    def __enter__(self) -> None:
        self._previous = (_anomaly.enabled, _anomaly.check_nan)
        set_anomaly_enabled(self.mode, self.check_nan)

    def __exit__(self, *exc: object) -> None:
        set_anomaly_enabled(*self._previous)

    def __call__(self, func: F) -> F:
        mode, check_nan = self.mode, self.check_nan

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            context = _AnomalyContext()
            context.mode, context.check_nan = mode, check_nan
            with context:
                return func(*args, **kwargs)
        return wrapper  # type: ignore[return-value]


class detect_anomaly(_AnomalyContext):  # noqa: N801 - mirrors torch.autograd.detect_anomaly
    """Enable anomaly detection inside a ``with`` block (warning, as PyTorch does, that it is slow).

    ``check_nan=False`` keeps the forward tracebacks but does not raise on nan gradients. It also
    works as a decorator, ``@detect_anomaly()`` (PyTorch 2.13's class is a context manager only).

    Examples:
        >>> import warnings
        >>> import minitorch_lsm as torch
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     with torch.autograd.detect_anomaly(check_nan=False):
        ...         print(torch.is_anomaly_check_nan_enabled())
        False
        >>> torch.is_anomaly_check_nan_enabled()
        True
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = bool(check_nan)
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", UserWarning, stacklevel=2)


class set_detect_anomaly(_AnomalyContext):  # noqa: N801 - mirrors torch.autograd.set_detect_anomaly
    """Turn anomaly detection on or off. Like PyTorch's it acts at once, so it works as a plain call,
    as a context manager (restoring the previous mode on exit) and as a decorator.

    Examples:
        >>> import minitorch_lsm as torch
        >>> with torch.autograd.set_detect_anomaly(True):
        ...     torch.is_anomaly_enabled()
        True
        >>> torch.is_anomaly_enabled()
        False
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.mode, self.check_nan = bool(mode), bool(check_nan)
        self._previous = (_anomaly.enabled, _anomaly.check_nan)
        set_anomaly_enabled(self.mode, self.check_nan)

    def __enter__(self) -> None:
        pass

    def __call__(self, func: F) -> F:
        set_anomaly_enabled(*self._previous)  # a decorator changes nothing until the function runs
        return super().__call__(func)


# ---------------------------------------------------------------------- what the tape and engine call
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_INTERNAL = tuple(os.path.join(_PACKAGE, part) for part in (f"autograd{os.sep}", f"ops{os.sep}", "tensor.py",
                                                             "_tensor_conversions.py", "_creation.py", "_random.py"))


def _is_internal(filename: str) -> bool:
    """Frames of the tape machinery and of the ops (C++ in PyTorch, so absent from its tracebacks)."""
    return os.path.abspath(filename).startswith(_INTERNAL)


def capture_stack() -> traceback.StackSummary:
    """The caller's stack, minus the innermost frames that belong to the op machinery.

    Source lines are looked up only if the stack is ever printed.

    Examples:
        >>> from minitorch_lsm.autograd.anomaly import capture_stack
        >>> def forward_step():
        ...     return capture_stack()
        >>> forward_step()[-1].name
        'forward_step'
    """
    frames = traceback.StackSummary.extract(traceback.walk_stack(sys._getframe(1)), lookup_lines=False)
    frames.reverse()
    while len(frames) > 1 and _is_internal(frames[-1].filename):
        frames.pop()
    return frames


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside the package (the backward call)."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE + os.sep):
        level, frame = level + 1, frame.f_back
    return level


def _warn_forward_trace(node: Any) -> None:
    stack = getattr(node, "forward_stack", None)
    if stack is None:
        detail = ("No forward pass information available. Enable detect anomaly during forward pass for more "
                  "information.")
    else:
        detail = "Traceback of forward call that caused the error:\n" + "".join(stack.format())
    warnings.warn(f"Error detected in {node.name()}. {detail}", UserWarning, stacklevel=_user_stacklevel())


def _check_nan(node: Any, grads: Sequence[Any]) -> None:
    for i, (edge, grad) in enumerate(zip(node.next_edges, grads)):
        if edge is None or grad is None or not grad.dtype.is_floating_point:
            continue  # an input that needs no gradient is not checked (PyTorch does not compute it)
        if bool(_device.xp_of(grad.device).isnan(grad._data).any()):
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")


def run_checked(node: Any, grad: Any) -> tuple[Any, ...]:
    """``node.backward(grad)`` as the engine runs it in anomaly mode: nan in a returned gradient
    raises, and any error warns first with the forward traceback stored on the node.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.autograd.anomaly import run_checked
        >>> node = torch.tensor([4.], requires_grad=True).sqrt().grad_fn
        >>> with torch.no_grad():  # as the engine runs it, unless create_graph
        ...     print(run_checked(node, torch.ones(1)))  # d sqrt(x) = 1 / (2 sqrt(x))
        (tensor([0.2500]),)
    """
    try:
        grads = node.backward(grad)
        grads = grads if isinstance(grads, tuple) else (grads,)
        if _anomaly.check_nan:
            _check_nan(node, grads)
    except Exception:
        _warn_forward_trace(node)
        raise
    return grads
