"""Loss modules ``NLLLoss`` and ``CrossEntropyLoss``: the functional losses with stored options.

The class ``weight`` is a buffer (it moves with ``.to()`` and appears in ``state_dict`` when given);
like PyTorch, these modules print no arguments.

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
    """Negative log-likelihood of class targets given log-probabilities (see ``F.nll_loss``)."""

    __constants__ = ["ignore_index", "reduction"]

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """``log_softmax`` then ``nll_loss``, with class-probability targets and label smoothing (see ``F.cross_entropy``)."""

    __constants__ = ["ignore_index", "reduction", "label_smoothing"]

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)
