"""``nn.init``: fill parameters in place (under ``no_grad``) from the seeded default generator.

Formulas (fan_in/fan_out: a weight's input/output sizes times its kernel size)::

    xavier_uniform_:  U(-b, b),   b   = gain * sqrt(6 / (fan_in + fan_out))
    xavier_normal_:   N(0, std),  std = gain * sqrt(2 / (fan_in + fan_out))
    kaiming_uniform_: U(-b, b),   b   = gain * sqrt(3 / fan),   gain = sqrt(2 / (1 + a^2)) for leaky_relu
    kaiming_normal_:  N(0, std),  std = gain / sqrt(fan)

Examples:
    >>> import minitorch_lsm as torch
    >>> w = torch.empty(2, 3)
    >>> torch.nn.init.constant_(w, 0.5) is w
    True
"""
from __future__ import annotations

import math
import warnings
from typing import Any

from .. import _creation, _dtype, _random
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor


def _fill(tensor: Tensor, values: Tensor) -> Tensor:
    with no_grad():
        return tensor.copy_(values)  # type: ignore[attr-defined]


def _draw(tensor: Tensor, kind: str, a: float, b: float, generator: Any = None) -> Tensor:
    if not tensor.dtype.is_floating_point:  # torch's random kernels exist for floating dtypes only
        kernel = "check_uniform_bounds" if kind == "uniform" else "normal_kernel_cpu"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.torch_name(tensor.dtype)}\'')
    gen = generator or _random.default_generator(tensor.device)
    draw = gen.numpy.uniform if kind == "uniform" else gen.numpy.normal
    values = draw(a, b, tuple(tensor.shape))
    return _fill(tensor, _creation.tensor(values, dtype=tensor.dtype, device=tensor.device))


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with samples of ``U(a, b)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.nn.init.uniform_(torch.empty(100), -2., 3.)
        >>> bool(((-2 <= x) & (x <= 3)).all())
        True
    """
    return _draw(tensor, "uniform", a, b, generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with samples of ``N(mean, std^2)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.init.normal_(torch.empty(3), mean=2., std=0.)
        tensor([2., 2., 2.])
    """
    return _draw(tensor, "normal", mean, std, generator)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.init.constant_(torch.empty(2), 0.3)
        tensor([0.3000, 0.3000])
    """
    return _fill(tensor, _creation.full_like(tensor, val))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.init.zeros_(torch.empty(3))
        tensor([0., 0., 0.])
    """
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.init.ones_(torch.empty(3))
        tensor([1., 1., 1.])
    """
    return constant_(tensor, 1.0)


_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale for a nonlinearity: 1 (linear, sigmoid), 5/3 (tanh), sqrt(2) (relu),
    ``sqrt(2 / (1 + slope^2))`` (leaky_relu), 3/4 (selu).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.init.calculate_gain('relu'), torch.nn.init.calculate_gain('tanh')
        (1.4142135623730951, 1.6666666666666667)
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot uniform: ``U(-b, b)`` with ``b = gain * sqrt(6 / (fan_in + fan_out))``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> w = torch.nn.init.xavier_uniform_(torch.empty(3, 5))  # b = sqrt(6 / 8)
        >>> bool((w.abs() <= (6 / 8) ** 0.5).all())
        True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot normal: ``N(0, std^2)`` with ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> w = torch.nn.init.xavier_normal_(torch.empty(300, 500))  # std = sqrt(2 / 800)
        >>> round(w.std().item(), 2)
        0.05
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: Any = None) -> Tensor:
    """He uniform: ``U(-b, b)`` with ``b = gain * sqrt(3 / fan)``.

    Computed as torch does, ``sqrt(3) * gain / sqrt(fan)``, so the bound rounds the same way.

    Examples:
        >>> import minitorch_lsm as torch
        >>> w = torch.nn.init.kaiming_uniform_(torch.empty(4, 6), nonlinearity='relu')  # b = 1
        >>> bool((w.abs() <= 1).all())
        True
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _fan(tensor, mode)
    bound = math.sqrt(3.0) * (calculate_gain(nonlinearity, a) / math.sqrt(fan))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: Any = None) -> Tensor:
    """He normal: ``N(0, std^2)`` with ``std = gain / sqrt(fan)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> w = torch.nn.init.kaiming_normal_(torch.empty(500, 200), nonlinearity='relu')
        >>> round(w.std().item(), 1)  # sqrt(2 / 200)
        0.1
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)
