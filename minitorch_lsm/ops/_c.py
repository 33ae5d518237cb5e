"""The optional C kernels (``minitorch_lsm/csrc/``) and the one switch that turns them on or off.

``pip install`` builds them where a C compiler is present (see ``setup.py``); without one ``kernels`` is
None and every op takes its NumPy path, which computes the same formula. The ops that have a C twin
(the softmax family's row kernels, nll_loss, ``a + alpha * b``, relu and its gradient) try it while
``enabled``; a kernel runs only on what it was written for, aligned C-contiguous float32 NumPy arrays,
and says whether it ran (False or None: the op takes its NumPy path).

>>> from minitorch_lsm.ops import _c
>>> _c.enabled == (_c.kernels is not None)
True
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

API_VERSION = 5  # the number csrc/module.c was written for (its API_VERSION)

try:
    from .. import _ckernels as kernels
except ImportError:  # pragma: no cover - an install without a C compiler
    kernels = None
if kernels is not None and getattr(kernels, "API_VERSION", None) != API_VERSION:  # pragma: no cover
    warnings.warn("minitorch_lsm._ckernels is an old build (reinstall: pip install -e .); using NumPy only")
    kernels = None

enabled = kernels is not None  # tests set this to False to check the NumPy paths on their own


def into_new(kernel: str, first: Any, *args: Any) -> Any:
    """A new array shaped like ``first``, filled by ``kernels.<kernel>(out, first, *args)``; None where the
    kernels are off or do not take these arrays (then nothing was computed).

    >>> import numpy as np
    >>> from minitorch_lsm.ops import _c
    >>> x = np.array([-1., 2.], np.float32)
    >>> _c.into_new("relu", x) if _c.enabled else np.maximum(x, 0)
    array([0., 2.], dtype=float32)
    >>> _c.into_new("relu", x.astype(np.float64)) is None  # the C kernels are float32 only
    True
    """
    if not enabled or not isinstance(first, np.ndarray):  # (a CuPy array: no host array to allocate)
        return None
    out = np.empty(first.shape, first.dtype)
    return out if getattr(kernels, kernel)(out, first, *args) else None
