"""Grad mode: whether ops record themselves on the tape. Per thread, as in PyTorch.

Each of these works as a context manager and as a decorator. ``no_grad`` and ``enable_grad`` may
decorate with or without parentheses. A decorated generator function runs under the mode each
time it is resumed, and its caller gets its own mode back at every ``yield``.

Examples:
    >>> import minitorch_lsm as torch
    >>> x = torch.ones(2, requires_grad=True)
    >>> @torch.no_grad
    ... def double(t):
    ...     return t * 2
    >>> double(x).requires_grad
    False
    >>> @torch.no_grad()
    ... def doubles(t):
    ...     yield t * 2
    >>> next(doubles(x)).requires_grad, torch.is_grad_enabled()
    (False, True)
"""
from __future__ import annotations

import functools
import inspect
import threading
import warnings
from typing import Any, Callable, Iterator, TypeVar

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]

F = TypeVar("F", bound=Callable[..., Any])


class _ThreadState(threading.local):
    grad_enabled: bool = True
    inference: bool = False


_state = _ThreadState()


def is_grad_enabled() -> bool:
    """True when new ops are recorded for autograd in this thread.

    Examples:
        >>> import minitorch_lsm as torch
        >>> with torch.no_grad():
        ...     torch.is_grad_enabled()
        False
    """
    return _state.grad_enabled


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` in this thread.

    Examples:
        >>> import minitorch_lsm as torch
        >>> with torch.inference_mode():
        ...     torch.is_inference_mode_enabled()
        True
    """
    return _state.inference


def _decorate(make_context: Callable[[], Any], func: Any) -> Any:
    """``func`` wrapped so that each call runs inside a fresh ``make_context()``.

    A generator function gets a generator that enters the context around every resume of the
    original (``next``, ``send``, ``throw``, ``close``) and leaves it again before handing a value
    back, so the caller's mode holds between yields. A class is wrapped as its constructor, with the
    FutureWarning PyTorch gives.
    """
    if inspect.isclass(func):
        warnings.warn("Decorating classes is deprecated and will be disabled in future versions. You should only "
                      "decorate functions or methods. To preserve the current behavior of class decoration, you "
                      "can directly decorate the `__init__` method and nothing else.", FutureWarning, stacklevel=3)
        cls = func
        func = lambda *args, **kwargs: cls(*args, **kwargs)  # noqa: E731
    if inspect.isgeneratorfunction(func):
        @functools.wraps(func)
        def generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            inner = func(*args, **kwargs)
            resume, value = inner.send, None  # the first resume is send(None), i.e. next()
            while True:
                try:
                    with make_context():
                        out = resume(value)
                except StopIteration as done:
                    return done.value
                try:
                    value, resume = (yield out), inner.send
                except GeneratorExit:  # our caller closes us: close the original inside the mode too
                    with make_context():
                        inner.close()
                    raise
                except BaseException as error:  # thrown in by our caller: throw it on into the original
                    value, resume = error, inner.throw
        return generator

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with make_context():
            return func(*args, **kwargs)
    return wrapper


class _GradModeContext:
    """Sets grad mode on entry and restores the previous mode on exit; also a decorator.

    Subclasses say what to set in ``_set``; ``clone`` makes the fresh context each decorated call uses.
    """

    def __enter__(self) -> None:
        self._previous = (_state.grad_enabled, _state.inference)
        self._set()

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled, _state.inference = self._previous

    def _set(self) -> None:
        raise NotImplementedError

    def clone(self) -> "_GradModeContext":
        """A new context of the same kind and mode."""
        return type(self)()

    def __call__(self, func: F) -> F:
        return _decorate(self.clone, func)  # type: ignore[no-any-return]


class _BareDecoratorContext(_GradModeContext):
    """A context that also decorates without parentheses: ``@no_grad`` means ``@no_grad()``."""

    def __new__(cls, orig_func: Any = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_BareDecoratorContext):  # noqa: N801
    """Disable recording: results of ops do not require grad. Inference mode, if on, stays on.

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.ones(2, requires_grad=True)
        >>> with torch.no_grad():
        ...     (x * 2).requires_grad
        False
    """

    def __init__(self) -> None:  # so that no_grad(None) raises TypeError, as in torch
        super().__init__()

    def _set(self) -> None:
        _state.grad_enabled = False


class enable_grad(_BareDecoratorContext):  # noqa: N801
    """Re-enable recording inside a ``no_grad`` block.

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.ones(2, requires_grad=True)
        >>> with torch.no_grad(), torch.enable_grad():
        ...     (x * 2).requires_grad
        True
    """

    def _set(self) -> None:
        _state.grad_enabled = True


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Turn recording on or off. Like torch, it takes effect at once, so it works as a plain call,
    as a context manager (restoring the mode it found on exit) and as a decorator. ``mode`` must be
    a bool.

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.ones(2, requires_grad=True)
        >>> with torch.set_grad_enabled(False):
        ...     (x * 2).requires_grad
        False
        >>> torch.set_grad_enabled(False)
        torch.autograd.grad_mode.set_grad_enabled(mode=False)
        >>> torch.is_grad_enabled(), torch.set_grad_enabled(True).mode
        (False, True)
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, not {_type_name(mode)}")
        self.mode, self.prev = mode, _state.grad_enabled
        _state.grad_enabled = mode

    def _set(self) -> None:
        _state.grad_enabled = self.mode

    def __enter__(self) -> None:
        self._set()

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled = self.prev  # the mode found when the object was made

    def clone(self) -> "set_grad_enabled":
        return set_grad_enabled(self.mode)

    def __call__(self, func: F) -> F:
        _state.grad_enabled = self.prev  # a decorator changes nothing until called
        return super().__call__(func)

    def __repr__(self) -> str:
        return f"torch.autograd.grad_mode.set_grad_enabled(mode={self.mode})"


def _type_name(value: Any) -> str:
    """The type's name as PyTorch's argument errors print it (CPython's ``tp_name``): a C type outside
    builtins keeps its module (``numpy.bool``); builtins and classes written in Python do not (``Tensor``)."""
    cls = type(value)
    is_python_class = cls.__flags__ & (1 << 9)  # Py_TPFLAGS_HEAPTYPE
    return cls.__name__ if is_python_class or cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"


class inference_mode(_GradModeContext):  # noqa: N801
    """Like ``no_grad``, for code that never needs gradients: sets grad mode to ``not mode`` and
    inference mode to ``mode``. Anything but a bool is taken as the function to decorate, as in torch.

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.ones(2, requires_grad=True)
        >>> with torch.inference_mode():
        ...     (x * 2).requires_grad
        False
        >>> with torch.no_grad(), torch.inference_mode(False):
        ...     torch.is_grad_enabled(), torch.is_inference_mode_enabled()
        (True, False)
    """

    def __new__(cls, mode: Any = True) -> Any:
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode

    def _set(self) -> None:
        _state.grad_enabled, _state.inference = not self.mode, self.mode

    def clone(self) -> "inference_mode":
        return inference_mode(self.mode)
