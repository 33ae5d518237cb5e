"""``optim``: SGD, Adam, AdamW and learning-rate schedulers, with PyTorch's update rules.

Examples:
    >>> import minitorch_lsm as torch
    >>> w = torch.nn.Parameter(torch.tensor([3.0]))
    >>> opt = torch.optim.SGD([w], lr=0.25)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
    >>> w  # each step: w - 0.25 * 2w = w / 2
    Parameter containing:
    tensor([0.7500], requires_grad=True)
"""
from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler"]
