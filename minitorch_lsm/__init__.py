"""minitorch_lsm: a small, readable autograd framework with PyTorch's API and semantics.

``import minitorch_lsm as torch`` and PyTorch's documented examples run unchanged:

>>> import minitorch_lsm as torch
>>> x = torch.tensor([1., 2., 3., 4., 5.], requires_grad=True)
>>> y = torch.log_softmax(x, dim=0)
>>> y
tensor([-4.4519, -3.4519, -2.4519, -1.4519, -0.4519],
       grad_fn=<LogSoftmaxBackward0>)
"""
from __future__ import annotations

from . import autograd, cuda, linalg, nn, optim, utils
from ._creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones,
                        ones_like, tensor, zeros, zeros_like)
from . import _tensor_new  # noqa: F401  (Tensor.new_zeros and its kin)
from ._device import device
from ._dtype import (bool, double, dtype, finfo, float, float16, float32, float64, get_default_dtype, half, iinfo, int,
                     int8, int16, int32, int64, long, promote_types, result_type, set_default_dtype, short, uint8)
from ._threads import get_num_threads, set_num_threads
from ._random import Generator, initial_seed, manual_seed, rand, rand_like, randint, randn, randn_like, randperm, seed
from .autograd.anomaly import is_anomaly_check_nan_enabled, is_anomaly_enabled, set_anomaly_enabled
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                                 set_grad_enabled)
from .ops import (abs, add, all, amax, amin, any, argmax, argmin, bmm, broadcast_shapes, cat, chunk, clamp, clone, cos,
                  div, dot, eq, exp, expand, flatten, floor_divide, gather, ge, gt, norm,
                  index_select, isfinite, isinf, isnan, le, log, log1p, logical_and, logical_not, logical_or,
                  logical_xor, lt, masked_fill, matmul, max, maximum, mean, min, minimum, mm, mul, narrow, ne, neg,
                  nonzero, permute, pow, prod, relu, remainder, repeat, reshape, rsqrt, scatter, scatter_add, sigmoid,
                  sign, sin, split, sqrt, squeeze, stack, std, sub, sum, t, tanh, transpose, unbind, unsqueeze, var,
                  where)
from .ops._util import _require_tensor
from .ops.inplace import (clamp_namespace as clamp_, clip_namespace as clip_, detach_namespace as detach_,
                          exp_namespace as exp_, fill_namespace as fill_, neg_namespace as neg_,
                          negative_namespace as negative_, relu_namespace as relu_, sigmoid_namespace as sigmoid_,
                          sqrt_namespace as sqrt_, tanh_namespace as tanh_, zero_namespace as zero_)
from .ops.elementwise import rsub
from .ops.softmax import log_softmax, logsumexp, softmax
from .tensor import Size, Tensor
from .utils.dlpack import from_dlpack
from .serialization import load, save

clip = clamp
subtract, multiply, divide, negative, absolute = sub, mul, div, neg, abs
concat = concatenate = cat


def is_tensor(obj: object) -> bool:
    """True if ``obj`` is a Tensor (a Parameter included): ``isinstance(obj, Tensor)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.is_tensor(torch.ones(1)), torch.is_tensor([1.0])
        (True, False)
    """
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    """True if ``input``'s dtype is a floating point type: ``input.is_floating_point()``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.is_floating_point(torch.ones(1)), torch.is_floating_point(torch.arange(3))
        (True, False)
    """
    _require_tensor(input, "is_floating_point", "input", 1)
    return input.dtype.is_floating_point


def numel(input: Tensor) -> int:
    """The number of elements of ``input``: the product of its sizes, ``input.numel()``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.numel(torch.zeros(2, 3, 4))
        24
    """
    _require_tensor(input, "numel", "input", 1)
    return input.numel()


__version__ = "0.1.0"
