"""``nn.functional``: the softmax family and classification losses with PyTorch's exact signatures.

``import minitorch_lsm.nn.functional as F`` works as with PyTorch.

>>> import minitorch_lsm as torch
>>> import minitorch_lsm.nn.functional as F
>>> x = torch.tensor([[1., 2., 3.], [1., 1., 1.], [0., 5., 1.]])
>>> F.cross_entropy(x, torch.tensor([2, 0, 1]))
tensor(0.5103)
"""
from __future__ import annotations

import warnings
from typing import Any

from .. import _dtype
from ..ops.softmax import log_softmax as _log_softmax
from ..ops.softmax import softmax as _softmax
from ..ops._util import as_int
from ..ops.elementwise import relu as _relu
from ..ops.loss import check_weight_shape, nll_loss_nd
from ..tensor import Tensor

__all__ = ["log_softmax", "softmax", "softmin", "nll_loss", "cross_entropy", "relu", "linear", "dropout", "one_hot"]


# ---------------------------------------------------------------------- softmax family
def _get_softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's implicit-dim rule: 0-, 1- and 3-D input use dim 0, any other ndim uses dim 1."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _dtype.dtype | None = None) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed stably as ``x - logsumexp(x, dim)``.

    ``dim=None`` picks a dim by PyTorch's deprecated rule and warns. ``dtype`` casts the input first
    (the third positional argument is ``_stacklevel``, as in PyTorch: pass ``dtype`` by keyword).

    >>> import minitorch_lsm as torch
    >>> torch.nn.functional.log_softmax(torch.tensor([[1., 2., 3., 4., 5.], [5., 4., 3., 2., 1.]]), dim=0)
    tensor([[-4.0181, -2.1269, -0.6931, -0.1269, -0.0181],
            [-0.0181, -0.1269, -0.6931, -2.1269, -4.0181]])
    """
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.dim(), _stacklevel)
    return _log_softmax(input, dim, dtype=dtype)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _dtype.dtype | None = None) -> Tensor:
    """``exp(x_i) / sum_j exp(x_j)`` along ``dim``; the same ``dim``/``dtype`` rules as ``log_softmax``."""
    if dim is None:
        dim = _get_softmax_dim("softmax", input.dim(), _stacklevel)
    return _softmax(input, dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _dtype.dtype | None = None) -> Tensor:
    """``softmax(-x)`` along ``dim``."""
    if dim is None:
        dim = _get_softmax_dim("softmin", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return _softmax(-input, dim)


# ---------------------------------------------------------------------- reductions (PyTorch's _Reduction)
def legacy_reduction(size_average: bool | None, reduce: bool | None, emit_warning: bool = True) -> str:
    """Map the deprecated ``size_average``/``reduce`` flags to a reduction string (None counts as True)."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = ("mean" if size_average else "sum") if reduce else "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{result}' instead.",
                      UserWarning, stacklevel=3)
    return result


def _checked_reduction(reduction: Any) -> str:
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                      UserWarning, stacklevel=3)
        return "mean"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _check_tensor(value: Any, name: str, position: int, function: str, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be Tensor, not {type(value).__name__}")


def _loss_arguments(input: Any, target: Any, weight: Any, ignore_index: Any, function: str) -> int:
    _check_tensor(input, "input", 1, function)
    _check_tensor(target, "target", 2, function)
    _check_tensor(weight, "weight", 3, function, optional=True)
    return as_int(ignore_index, "ignore_index", function, position=5)


# ---------------------------------------------------------------------- losses
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class targets: ``-w[t_i] * input[i, t_i]``, reduced.

    'mean' divides by the summed weights of the targets that are not ``ignore_index``.

    >>> import minitorch_lsm as torch
    >>> logp = torch.log_softmax(torch.tensor([[1., 2., 3.], [1., 1., 1.]]), dim=1)
    >>> torch.nn.functional.nll_loss(logp, torch.tensor([2, 0]), reduction='none')
    tensor([0.4076, 1.0986])
    """
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    reduction = _checked_reduction(reduction)
    ignore = _loss_arguments(input, target, weight, ignore_index, "nll_loss_nd")
    return nll_loss_nd(input, target, weight, reduction, ignore)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
                  ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """``nll_loss(log_softmax(input, class_dim), target)`` with optional label smoothing ε.

    A target with the input's shape holds class probabilities: ``-sum_c w_c * p_c * log_softmax_c``
    ('mean' divides by the number of positions). With class indices and ε > 0 the loss is
    ``(1 - ε) * nll + ε / C * s`` with ``s_i = -sum_c w_c * log_softmax_ic``.
    """
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    reduction = _checked_reduction(reduction)
    ignore = _loss_arguments(input, target, weight, ignore_index, "cross_entropy_loss")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)):
        raise TypeError("cross_entropy_loss(): argument 'label_smoothing' (position 6) must be float, not "
                        f"{type(label_smoothing).__name__}")
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {float(label_smoothing):g}")
    class_dim = 0 if input.dim() == 1 else 1
    if input.shape == target.shape:
        return _cross_entropy_probabilities(input, target, weight, reduction, ignore, float(label_smoothing), class_dim)
    logp = _log_softmax(input, class_dim)
    nll = nll_loss_nd(logp, target, weight, reduction, ignore)
    if label_smoothing <= 0:
        return nll
    classes = input.shape[class_dim]
    smooth = -_weighted(logp, weight, class_dim).sum(class_dim)
    ignored = target == ignore
    smooth = smooth.masked_fill(ignored, 0.0)
    if reduction == "sum":
        smooth = smooth.sum()
    elif reduction == "mean":
        if weight is None:
            denominator = (~ignored).sum()
        else:
            denominator = weight[target.masked_fill(ignored, 0)].masked_fill(ignored, 0.0).sum()
        smooth = smooth.sum() / denominator
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / classes)


def _weighted(logp: Tensor, weight: Tensor | None, class_dim: int) -> Tensor:
    """``logp`` times the class weights broadcast along ``class_dim`` (unchanged without weights)."""
    if weight is None:
        return logp
    shape = [1] * logp.dim()
    shape[class_dim] = -1
    return logp * weight.reshape(shape)


def _cross_entropy_probabilities(input: Tensor, target: Tensor, weight: Tensor | None, reduction: str,
                                 ignore_index: int, smoothing: float, class_dim: int) -> Tensor:
    if not target.dtype.is_floating_point:
        raise RuntimeError("Expected floating point type for target with class probabilities, got "
                           f"{_dtype.torch_name(target.dtype)}")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    classes = input.shape[class_dim] if input.dim() else 1
    check_weight_shape(weight, classes, prefix="cross_entropy: ")
    logp = _log_softmax(input, class_dim)
    if smoothing > 0:
        target = target * (1 - smoothing) + smoothing / classes
    losses = -(_weighted(logp, weight, class_dim) * target).sum(class_dim)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / (input.numel() // max(classes, 1) if input.numel() else 0)


# ---------------------------------------------------------------------- layers' functional forms
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``."""
    return input.relu_() if inplace else _relu(input)  # type: ignore[attr-defined]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``."""
    out = input @ weight.T  # type: ignore[attr-defined]
    return out if bias is None else out + bias


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (training only)."""
    from .._creation import rand_like

    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = rand_like(input, dtype=input.dtype) >= p
    return input * keep / (1.0 - p)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices as one-hot int64 vectors along a new last dim."""
    from .._creation import arange

    if tensor.dtype is not _dtype.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    classes = int(tensor.max().item()) + 1 if num_classes == -1 else num_classes  # type: ignore[attr-defined]
    return (tensor.unsqueeze(-1) == arange(classes, device=tensor.device)).long()  # type: ignore[attr-defined]
