"""Loss modules ``NLLLoss``, ``CrossEntropyLoss`` and ``MSELoss``: the functional losses with stored options.

The class ``weight`` is a buffer (it moves with ``.to()`` and appears in ``state_dict`` when given);
like PyTorch, these modules print no arguments.

Examples:
    >>> import minitorch_lsm as torch
    >>> loss = torch.nn.NLLLoss(weight=torch.tensor([1., 2., 4.]))
    >>> loss, list(loss.state_dict())
    (NLLLoss(), ['weight'])
"""
from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from ..module import Module


class _Loss(Module):
    """Stores ``reduction``, mapping the legacy ``size_average``/``reduce`` flags once, at construction."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            self.reduction = F.legacy_reduction(size_average, reduce)
        else:
            self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.weight: Tensor | None


class NLLLoss(_WeightedLoss):
    """``-w[t_i] * input[i, t_i]``, reduced: the negative log-likelihood of class targets given log-probabilities.

    See ``F.nll_loss``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.NLLLoss()(torch.tensor([[-0.5, -1.0], [-2.0, -0.1]]), torch.tensor([0, 1]))
        tensor(0.3000)
    """

    __constants__ = ["ignore_index", "reduction"]

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """``nll_loss(log_softmax(x), target)``, with class-probability targets and label smoothing.

    See ``F.cross_entropy``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.CrossEntropyLoss()(torch.tensor([[1., 2., 3.], [1., 1., 1.]]), torch.tensor([2, 0]))
        tensor(0.7531)
    """

    __constants__ = ["ignore_index", "reduction", "label_smoothing"]

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class MSELoss(_Loss):
    """``(input - target)**2`` elementwise, reduced: the mean squared error. See ``F.mse_loss``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.MSELoss()(torch.tensor([1., 2., 3.]), torch.tensor([0., 2., 5.]))
        tensor(1.6667)
    """

    __constants__ = ["reduction"]

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)
