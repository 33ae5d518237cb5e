"""``repr(tensor)`` the way PyTorch prints it: ``tensor([0.1000, 2.0000], requires_grad=True)``.

Floats use one format for the whole tensor: ``1.`` when every finite value is whole, ``0.1000``
(4 decimals) normally, and ``1.0000e-05`` when the finite magnitudes span more than 1000x, exceed 1e8
or go below 1e-4. Values are right-aligned to a common width; rows wrap at 80 characters and tensors
of more than 1000 elements are summarized with ``...``.

Examples:
    >>> import minitorch_lsm as torch
    >>> torch.tensor([1., 2.]), torch.tensor([0.1, 2.]), torch.tensor([1e-5, 1.])
    (tensor([1., 2.]), tensor([0.1000, 2.0000]), tensor([1.0000e-05, 1.0000e+00]))
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from . import _device, _dtype

if TYPE_CHECKING:
    from .tensor import Tensor

PRECISION, THRESHOLD, EDGE_ITEMS, LINE_WIDTH = 4, 1000, 3, 80


def _float_formatter(values: np.ndarray) -> tuple[Callable[[float], str], int]:
    """The format of every element, and the width to pad to (set by the nonzero finite values only)."""
    finite = values[np.isfinite(values) & (values != 0)].astype(np.float64)
    if finite.size == 0:
        return (lambda v: _special(v) or f"{v:.0f}."), 1
    magnitudes = np.abs(finite)
    low, high = float(magnitudes.min()), float(magnitudes.max())
    whole = bool(np.all(finite == np.ceil(finite)))
    scientific = high / low > 1000.0 or high > 1e8 or (not whole and low < 1e-4)
    if scientific:
        fmt: Callable[[float], str] = lambda v: _special(v) or f"{v:.{PRECISION}e}"  # noqa: E731
    elif whole:
        fmt = lambda v: _special(v) or f"{v:.0f}."  # noqa: E731
    else:
        fmt = lambda v: _special(v) or f"{v:.{PRECISION}f}"  # noqa: E731
    return fmt, max(len(fmt(v)) for v in finite.tolist())


def _special(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return ""


def _formatter(values: np.ndarray, dtype: _dtype.dtype) -> tuple[Callable[[Any], str], int]:
    if dtype.is_floating_point:
        return _float_formatter(values)
    fmt: Callable[[Any], str] = (lambda v: str(bool(v))) if dtype is _dtype.bool else (lambda v: str(int(v)))  # noqa: E731
    return fmt, max((len(fmt(v)) for v in values.tolist()), default=1)


def _summarized(array: np.ndarray) -> np.ndarray:
    """The elements that get printed (the edges of each dim when the tensor is large)."""
    if array.ndim == 0:
        return array.reshape(1)
    if array.shape[0] > 2 * EDGE_ITEMS:
        parts = [array[:EDGE_ITEMS], array[-EDGE_ITEMS:]]
    else:
        parts = [array]
    return np.concatenate([_summarized(p[i]).reshape(-1) for p in parts for i in range(p.shape[0])]) \
        if array.ndim > 1 else np.concatenate(parts)


def _body(array: np.ndarray, fmt: Callable[[Any], str], width: int, indent: int, summarize: bool) -> str:
    if array.ndim == 0:
        return fmt(array.item())
    if array.ndim == 1:
        items = [fmt(v).rjust(width) for v in array.tolist()]
        if summarize and len(items) > 2 * EDGE_ITEMS:
            items = items[:EDGE_ITEMS] + [" ..."] + items[-EDGE_ITEMS:]
        per_line = max(1, (LINE_WIDTH - indent) // (width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = list(range(array.shape[0]))
    if summarize and len(rows) > 2 * EDGE_ITEMS:
        rows = rows[:EDGE_ITEMS] + [-1] + rows[-EDGE_ITEMS:]
    gap = ",\n" + "\n" * (array.ndim - 2) + " " * (indent + 1)
    parts = ["..." if r == -1 else _body(array[r], fmt, width, indent + 1, summarize) for r in rows]
    return "[" + gap.join(parts) + "]"


def format_values(t: "Tensor", indent: int) -> str:
    """The bracketed values of ``t`` as PyTorch prints them, continuation lines indented by ``indent``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm._printing import format_values
        >>> print(format_values(torch.tensor([[1., 2.], [3., 4.]]), indent=0))
        [[1., 2.],
         [3., 4.]]
    """
    array = np.asarray(_device.move(t._data, _device.CPU))
    summarize = array.size > THRESHOLD
    shown = _summarized(array) if summarize else array.reshape(-1)
    fmt, width = _formatter(shown, t.dtype)
    return _body(array, fmt, width, indent, summarize)


def tensor_repr(t: "Tensor") -> str:
    """``tensor(<values>, <suffixes>)`` with device, dtype and autograd information as PyTorch shows it.

    ``repr(t)`` calls it; a dtype is shown unless it is the default float, int64 or bool.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
        tensor([0.5000], dtype=torch.float64, requires_grad=True)
        >>> torch.zeros(0, 2)
        tensor([], size=(0, 2))
    """
    prefix = "tensor("
    suffixes = []
    if t.numel() == 0:
        body = "[]"
        if t.ndim != 1:
            suffixes.append(f"size={tuple(t.shape)}")
    else:
        body = format_values(t, len(prefix))
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if t.dtype not in (_dtype.get_default_dtype(), _dtype.int64, _dtype.bool):
        suffixes.append(f"dtype={t.dtype!r}")
    elif t.numel() == 0 and t.dtype is not _dtype.get_default_dtype():
        suffixes.append(f"dtype={t.dtype!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    # A suffix that would make the last line longer than 80 characters starts a new line (the line
    # length is counted as PyTorch counts it, one more than the characters when there is no newline).
    text = prefix + body
    line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line + len(suffix) + 2 > LINE_WIDTH:
            text += ",\n" + " " * len(prefix) + suffix
            line = len(prefix) + len(suffix)
        else:
            text += ", " + suffix
            line += len(suffix) + 2
    return text + ")"
