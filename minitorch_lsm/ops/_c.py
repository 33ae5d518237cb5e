"""The optional C kernels (``minitorch_lsm/csrc/``) and the one switch that turns them on or off.

``pip install`` builds them where a C compiler is present (see ``setup.py``); without one ``kernels`` is
None and every op takes its NumPy path, which computes the same formula. The ops that have a C twin
(the softmax family's row kernels, nll_loss, ``a + alpha * b``, relu and its gradient) call it only for
what it was written for: aligned, C-contiguous float32 NumPy arrays (``takes``).

>>> from minitorch_lsm.ops import _c
>>> _c.enabled == (_c.kernels is not None)
True
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

API_VERSION = 3  # the number csrc/module.c was written for (its API_VERSION)

try:
    from .. import _ckernels as kernels
except ImportError:  # pragma: no cover - an install without a C compiler
    kernels = None
if kernels is not None and getattr(kernels, "API_VERSION", None) != API_VERSION:  # pragma: no cover
    warnings.warn("minitorch_lsm._ckernels is an old build (reinstall: pip install -e .); using NumPy only")
    kernels = None

enabled = kernels is not None  # tests set this to False to check the NumPy paths on their own

_FLOAT32 = np.dtype(np.float32)


def into_new(kernel: str, first: Any, *args: Any) -> Any:
    """A new array shaped like ``first``, filled by ``kernels.<kernel>(out, first, *args)``."""
    out = np.empty(first.shape, first.dtype)
    getattr(kernels, kernel)(out, first, *args)
    return out


def takes(*arrays: Any) -> bool:
    """True where the C kernels are on and every array is an aligned, C-contiguous float32 NumPy array."""
    if not enabled:
        return False
    for a in arrays:
        if not (isinstance(a, np.ndarray) and a.dtype == _FLOAT32 and a.flags.c_contiguous and a.flags.aligned):
            return False
    return True
