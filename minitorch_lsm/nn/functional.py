"""``nn.functional``: the softmax family and classification losses with PyTorch's exact signatures.

``import minitorch_lsm.nn.functional as F`` works as with PyTorch.

Examples:
    >>> import minitorch_lsm as torch
    >>> import minitorch_lsm.nn.functional as F
    >>> x = torch.tensor([[1., 2., 3.], [1., 1., 1.], [0., 5., 1.]])
    >>> F.cross_entropy(x, torch.tensor([2, 0, 1]))
    tensor(0.5103)
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import _dtype
from ..ops.softmax import log_softmax as _log_softmax, softmax as _softmax
from ..ops._util import as_int as _as_int, broadcast_shape as _broadcast_shape
from ..ops._elementwise_util import _require_tensor
from ..ops.linalg import addmm_linear as _addmm_linear
from ..ops.unary import relu as _relu
from ..ops.loss import (_dims, check_weight_shape as _check_weight_shape, mse_loss as _mse_loss,
                        nll_loss_nd as _nll_loss_nd)
from ..tensor import Tensor

__all__ = ["log_softmax", "softmax", "softmin", "nll_loss", "cross_entropy", "mse_loss", "relu", "linear", "dropout",
           "one_hot"]


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

    Examples:
        >>> import minitorch_lsm as torch
        >>> import minitorch_lsm.nn.functional as F
        >>> F.log_softmax(torch.tensor([[1., 2., 3., 4., 5.], [5., 4., 3., 2., 1.]]), dim=0)
        tensor([[-4.0181, -2.1269, -0.6931, -0.1269, -0.0181],
                [-0.0181, -0.1269, -0.6931, -2.1269, -4.0181]])
    """
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.dim(), _stacklevel)
    # through the method, as PyTorch does: its argument checks and messages, a non-tensor's AttributeError, a
    # subclass's own method; straight to the op where the method is ours and its checks would pass
    if dtype is None and type(dim) is int and isinstance(input, Tensor) and type(input).log_softmax is _log_softmax:
        return _log_softmax.function(input, dim)
    return input.log_softmax(dim) if dtype is None else input.log_softmax(dim, dtype=dtype)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _dtype.dtype | None = None) -> Tensor:
    """``exp(x_i) / sum_j exp(x_j)`` along ``dim``; the same ``dim``/``dtype`` rules as ``log_softmax``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> import minitorch_lsm.nn.functional as F
        >>> F.softmax(torch.tensor([1., 2., 3.]), dim=0)
        tensor([0.0900, 0.2447, 0.6652])
    """
    if dim is None:
        dim = _get_softmax_dim("softmax", input.dim(), _stacklevel)
    if dtype is None and type(dim) is int and isinstance(input, Tensor) and type(input).softmax is _softmax:
        return _softmax.function(input, dim)
    return input.softmax(dim) if dtype is None else input.softmax(dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _dtype.dtype | None = None) -> Tensor:
    """``softmax(-x)`` along ``dim``: ``exp(-x_i) / sum_j exp(-x_j)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> import minitorch_lsm.nn.functional as F
        >>> F.softmin(torch.tensor([1., 2., 3.]), dim=0)
        tensor([0.6652, 0.2447, 0.0900])
    """
    if dim is None:
        dim = _get_softmax_dim("softmin", input.dim(), _stacklevel)
    return (-input).softmax(dim) if dtype is None else (-input).softmax(dim, dtype=dtype)  # negated, then cast


# ---------------------------------------------------------------------- reductions (PyTorch's _Reduction)
def legacy_reduction(size_average: bool | None, reduce: bool | None, emit_warning: bool = True) -> str:
    """Map the deprecated ``size_average``/``reduce`` flags to a reduction string (None counts as True).

    Examples:
        >>> import minitorch_lsm.nn.functional as F
        >>> F.legacy_reduction(None, False, emit_warning=False)
        'none'
    """
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = ("mean" if size_average else "sum") if reduce else "none"
    if emit_warning:
        # attributed to the caller of this helper (nn/functional.py or nn/modules/loss.py), as in PyTorch
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{result}' instead.",
                      UserWarning, stacklevel=2)
    return result


def _checked_reduction(reduction: Any) -> str:
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                      UserWarning, stacklevel=2)
        return "mean"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _loss_arguments(input: Any, target: Any, weight: Any, ignore_index: Any, function: str) -> int:
    _require_tensor(input, function, "input", 1)
    _require_tensor(target, function, "target", 2)
    if weight is not None:
        _require_tensor(weight, function, "weight", 3)
    if isinstance(ignore_index, Tensor) and not ignore_index.dtype.is_floating_point \
            and ignore_index.dtype is not _dtype.bool and ignore_index.numel() == 1:
        return int(ignore_index.item())  # PyTorch's int arguments take any one-element integer tensor
    value = _as_int(ignore_index, "ignore_index", function, position=5)
    if not -2 ** 63 <= value < 2 ** 63:  # the binding reads it as a C++ int64_t
        raise ValueError("Overflow when unpacking long long")
    return value


def _float_argument(value: Any, name: str, position: int, function: str) -> float:
    """PyTorch's ``float`` argument: a Python or NumPy real number, or a 0-d tensor that needs no grad."""
    if isinstance(value, Tensor):
        if value.dim() == 0 and not value.requires_grad:
            return float(value.item())
    elif isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return float(value)
    raise TypeError(f"{function}(): argument '{name}' (position {position}) must be float, not {type(value).__name__}")


# ---------------------------------------------------------------------- losses
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class targets: ``-w[t_i] * input[i, t_i]``, reduced.

    'mean' divides by the summed weights of the targets that are not ``ignore_index``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> import minitorch_lsm.nn.functional as F
        >>> logp = torch.log_softmax(torch.tensor([[1., 2., 3.], [1., 1., 1.]]), dim=1)
        >>> F.nll_loss(logp, torch.tensor([2, 0]), reduction='none')
        tensor([0.4076, 1.0986])
    """
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    reduction = _checked_reduction(reduction)
    ignore = _loss_arguments(input, target, weight, ignore_index, "nll_loss_nd")
    return _nll_loss_nd(input, target, weight, reduction, ignore)


def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error: ``(input - target)**2`` elementwise (times ``weight``), reduced.

    'mean' divides the sum by the number of elements, or with ``weight`` by the sum of the weights. A
    target of another size broadcasts against the input, with PyTorch's warning that this is likely a bug.

    Examples:
        >>> import minitorch_lsm as torch
        >>> import minitorch_lsm.nn.functional as F
        >>> F.mse_loss(torch.tensor([1., 2., 3.]), torch.tensor([0., 2., 5.]))
        tensor(1.6667)
        >>> F.mse_loss(torch.tensor([1., 2., 3.]), torch.tensor([0., 2., 5.]), weight=torch.tensor([1., 0., 2.]))
        tensor(3.)
    """
    if target.size() != input.size():
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
                      "This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", UserWarning, stacklevel=2)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    _broadcast_shape(input._data.shape, target._data.shape)
    if weight is None:
        return _mse_loss(input, target, _checked_reduction(reduction))
    if weight.size() != input.size():
        raise ValueError("Weights and input must have the same size.")
    weighted = (input - target) ** 2 * weight  # PyTorch's weighted loss is these Tensor ops too
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction == "mean":
        return weighted.sum() / weight.sum()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
                  ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """``nll_loss(log_softmax(input, class_dim), target)`` with optional label smoothing ε.

    A target with the input's shape holds class probabilities: ``-sum_c w_c * p_c * log_softmax_c``
    ('mean' divides by the number of positions). With class indices and ε > 0 the loss is
    ``(1 - ε) * nll + ε / C * s`` with ``s_i = -sum_c w_c * log_softmax_ic``. The dispatch follows
    PyTorch's ``cross_entropy_loss`` step by step, so errors come in the same order.

    Examples:
        >>> import minitorch_lsm as torch
        >>> import minitorch_lsm.nn.functional as F
        >>> x = torch.tensor([[1., 2., 3.]])
        >>> F.cross_entropy(x, torch.tensor([2])), F.cross_entropy(x, torch.tensor([2]), label_smoothing=0.1)
        (tensor(0.4076), tensor(0.5076))
    """
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    reduction = _checked_reduction(reduction)
    ignore = _loss_arguments(input, target, weight, ignore_index, "cross_entropy_loss")
    smoothing = _float_argument(label_smoothing, "label_smoothing", 6, "cross_entropy_loss")
    class_dim = 0 if input.dim() == 1 else 1
    if input.shape == target.shape:
        if not target.dtype.is_floating_point:
            raise RuntimeError("Expected floating point type for target with class probabilities, got "
                               f"{_dtype.torch_name(target.dtype)}")
        if ignore >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _cross_entropy_probabilities(input, target, weight, reduction, smoothing, class_dim)
    if smoothing > 0.0:
        _check_smoothing(smoothing)
        return _cross_entropy_smoothed(input, target, weight, reduction, ignore, smoothing, class_dim)
    return _nll_loss_nd(_log_softmax.function(input, class_dim), target, weight, reduction, ignore)


def _check_smoothing(smoothing: float) -> None:
    if smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {smoothing:g}")


def _per_class(smoothing: float, classes: int) -> float:
    """ε / C, which PyTorch computes in C++ doubles: inf when there are no classes."""
    return smoothing / classes if classes else math.inf


def _broadcast_weight(weight: Tensor, ndim: int, class_dim: int) -> Tensor:
    """The class weights shaped to broadcast along ``class_dim`` (``weight.view(1, C, 1, ...)``)."""
    if weight.dim() == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    shape = [1] * ndim
    shape[class_dim] = weight.shape[0]
    return weight.reshape(shape)


def _cross_entropy_smoothed(input: Tensor, target: Tensor, weight: Tensor | None, reduction: str,
                            ignore_index: int, smoothing: float, class_dim: int) -> Tensor:
    """Class-index targets with 0 < ε <= 1 (PyTorch's ``cross_entropy_loss_label_smoothing``)."""
    logp = _log_softmax.function(input, class_dim)  # (the binding's checks: both are right)
    nll = _nll_loss_nd(logp, target, weight, reduction, ignore_index)
    ignored = target == ignore_index
    if weight is not None:
        smooth = -(logp * _broadcast_weight(weight, logp.dim(), class_dim)).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    if ignored.shape != smooth.shape and ignored.dim() > smooth.dim():  # PyTorch fills in place: no broadcasting
        raise RuntimeError(f"output with shape {_dims(smooth.shape)} doesn't match the broadcast shape "
                           f"{_dims(ignored.shape)}")
    smooth = smooth.masked_fill(ignored, 0.0)
    if reduction == "mean":
        if weight is None:
            smooth = smooth.sum() / (~ignored).sum()
        else:
            # PyTorch gathers the weights with the kept targets as index, which must not be uint8
            if target.dtype is not _dtype.int64 and bool((~ignored).any()):
                raise RuntimeError("gather(): Expected dtype int32/int64 for index")
            if weight.dim() != 1:
                raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
            kept = target.masked_fill(ignored, 0).reshape(-1).long()  # all ignored: uint8 is fine, and no mask
            smooth = smooth.sum() / weight[kept].masked_fill(ignored.reshape(-1), 0.0).sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    classes = input.shape[class_dim]
    return nll * (1 - smoothing) + smooth * _per_class(smoothing, classes)


def _cross_entropy_probabilities(input: Tensor, target: Tensor, weight: Tensor | None, reduction: str,
                                 smoothing: float, class_dim: int) -> Tensor:
    """A target of the input's shape holds class probabilities (``cross_entropy_loss_prob_target``)."""
    if input.dim() == 0:  # a 0-d input with a 0-d float target: PyTorch's input.size(1) fails
        raise IndexError(f"Dimension specified as {class_dim} but tensor has no dimensions")
    classes = input.shape[class_dim]
    _check_weight_shape(weight, classes, prefix="cross_entropy: ")
    logp = _log_softmax.function(input, class_dim)  # (the binding's checks: both are right)
    if smoothing > 0.0:
        _check_smoothing(smoothing)
        target = target * (1 - smoothing) + _per_class(smoothing, classes)
    terms = logp * target
    if weight is not None:
        terms = terms * _broadcast_weight(weight, logp.dim(), class_dim)
    if reduction == "none":
        return -terms.sum(class_dim)
    if reduction == "sum":
        return -terms.sum()
    positions = logp.numel() // classes if logp.numel() else 0
    return -terms.sum() / positions  # no positions: 0 / 0 = nan, as PyTorch


# ---------------------------------------------------------------------- layers' functional forms
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``; ``inplace=True`` overwrites ``input``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> import minitorch_lsm.nn.functional as F
        >>> F.relu(torch.tensor([-1., 2.]))
        tensor([0., 2.])
    """
    _require_tensor(input, "relu", "input", 1)
    return input.relu_() if inplace else _relu(input)  # type: ignore[attr-defined]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``, by PyTorch's route: a matrix input, or any contiguous input with a 1-D
    bias (flattened to rows and back), is one ``addmm`` (``AddmmBackward0``); otherwise a matmul then
    the bias added.

    Examples:
        >>> import minitorch_lsm as torch
        >>> import minitorch_lsm.nn.functional as F
        >>> F.linear(torch.tensor([[1., 2.]]), torch.tensor([[1., 1.], [0., 1.]]), torch.tensor([0.5, 0.]))
        tensor([[3.5000, 2.0000]])
    """
    for position, (name, value) in enumerate((("input", input), ("weight", weight), ("bias", bias)), start=1):
        if value is not None or name != "bias":
            _require_tensor(value, "linear", name, position)
    if input.ndim == 0 or weight.ndim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are {input.ndim}D and "
                           f"{weight.ndim}D")
    if bias is not None and (input.ndim == 2 or (_vector_like(bias) and input.is_contiguous())):
        # PyTorch's route: one addmm, on the input flattened to rows (a view) and back
        rows = input if input.ndim == 2 else input.reshape(math.prod(input.shape[:-1]), input.shape[-1])
        out = _addmm_linear(bias, rows, weight)
        return out if input.ndim == 2 else out.view(*input.shape[:-1], out.shape[-1])
    out = input @ weight.t()
    return out if bias is None else out.add_(bias)  # in place, as PyTorch: the product's shape and dtype stay


def _vector_like(bias: Tensor) -> bool:
    """PyTorch's test for the flattened addmm route: a contiguous bias that is 1-D, or 1-D once squeezed."""
    return (bias.ndim == 1 or bias.squeeze().ndim == 1) and bias.is_contiguous()


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (training only):
    ``input * noise`` with ``noise = bernoulli(1 - p) / (1 - p)``, in place with ``inplace=True``. Out of
    training, with ``p = 0`` or with no elements it returns ``input`` itself, as PyTorch does.

    Examples:
        >>> import minitorch_lsm as torch
        >>> import minitorch_lsm.nn.functional as F
        >>> F.dropout(torch.ones(4), p=0.5, training=False)
        tensor([1., 1., 1., 1.])
    """
    from .._creation import zeros
    from .._random import rand_like

    _require_tensor(input, "dropout", "input", 1)
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p != p:  # nan passes PyTorch's Python check and fails in its kernel
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        noise = zeros((), dtype=input.dtype, device=input.device)
    elif not input.dtype.is_floating_point:  # PyTorch's noise is divided by 1 - p in the input's dtype
        raise RuntimeError(f"result type Float can't be cast to the desired output type {_dtype.torch_name(input.dtype)}")
    else:
        noise = (rand_like(input, dtype=input.dtype) >= p).to(input.dtype) / (1.0 - p)
    return input.mul_(noise) if inplace else input * noise


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices as one-hot int64 vectors along a new last dim: ``out[..., c] = (tensor == c)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> import minitorch_lsm.nn.functional as F
        >>> F.one_hot(torch.tensor([0, 2]))
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    from .._creation import arange

    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"one_hot(): argument 'num_classes' (position 2) must be int, not {type(num_classes).__name__}")
    if tensor.dtype is not _dtype.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() == 0 and num_classes <= 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if tensor.numel():
        if int(tensor.min().item()) < 0:  # type: ignore[attr-defined]
            raise RuntimeError("Class values must be non-negative.")
        largest = int(tensor.max().item())  # type: ignore[attr-defined]
        if num_classes == -1:
            num_classes = largest + 1
        elif largest >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    num_classes = int(num_classes)
    return (tensor.unsqueeze(-1) == arange(num_classes, device=tensor.device)).long()  # type: ignore[attr-defined]
