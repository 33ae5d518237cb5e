"""Learning-rate schedules: ``StepLR`` and ``CosineAnnealingLR`` (PyTorch's recursive formulas).

Call ``scheduler.step()`` once per epoch, after ``optimizer.step()``.

Examples:
    >>> import minitorch_lsm as torch
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    >>> sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); lrs.append(sched.get_last_lr()[0])
    >>> lrs
    [1.0, 0.5, 0.5, 0.25]
"""
from __future__ import annotations

import math
from typing import Any

from .optimizer import Optimizer


class LRScheduler:
    """Base class: sets each group's ``lr`` from ``get_lr()`` at every ``step()`` (one already at construction,
    for epoch 0). Subclasses define ``get_lr``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> class Halve(torch.optim.lr_scheduler.LRScheduler):
        ...     def get_lr(self):
        ...         return [base * 0.5 ** self.last_epoch for base in self.base_lrs]
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> sched = Halve(opt)
        >>> for _ in range(2):
        ...     opt.step(); sched.step()
        >>> sched.get_last_lr()
        [0.25]
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        elif any("initial_lr" not in group for group in optimizer.param_groups):
            raise KeyError("param 'initial_lr' is not specified in param_groups when resuming an optimizer")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rate of each group for epoch ``last_epoch``; ``step()`` calls it and writes the result.

        Examples:
            >>> import minitorch_lsm as torch
            >>> class Constant(torch.optim.lr_scheduler.LRScheduler):
            ...     def get_lr(self):
            ...         return [0.5 for _ in self.optimizer.param_groups]
            >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
            >>> _ = Constant(opt); opt.param_groups[0]["lr"]
            0.5
        """
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (``last_epoch += 1``) and set every group's learning rate from ``get_lr()``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
            >>> sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)
            >>> opt.step(); sched.step(); sched.last_epoch, opt.param_groups[0]["lr"]
            (1, 0.1)
        """
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last ``step()``, one per parameter group.

        Examples:
            >>> import minitorch_lsm as torch
            >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.3)
            >>> torch.optim.lr_scheduler.StepLR(opt, step_size=5).get_last_lr()
            [0.3]
        """
        return self._last_lr

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's attributes (epoch counter, base rates, settings), all but the optimizer.

        Examples:
            >>> import minitorch_lsm as torch
            >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
            >>> state = torch.optim.lr_scheduler.StepLR(opt, step_size=2).state_dict()
            >>> state["last_epoch"], state["base_lrs"], state["step_size"]
            (0, [1.0], 2)
        """
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore attributes saved by ``state_dict()`` (the learning rates in the groups are not touched).

        Examples:
            >>> import minitorch_lsm as torch
            >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
            >>> sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2)
            >>> sched.load_state_dict({"last_epoch": 7}); sched.last_epoch
            7
        """
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs: ``lr = base * gamma ** (epoch // step_size)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        >>> [(opt.step(), sched.step(), sched.get_last_lr()[0])[2] for _ in range(6)]
        [1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """``base * gamma ** (epoch // step_size)`` in recursive form: the current rate times ``gamma`` when
        ``last_epoch`` is a positive multiple of ``step_size``, else the current rate.

        Examples:
            >>> import minitorch_lsm as torch
            >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
            >>> sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
            >>> for _ in range(2):
            ...     opt.step(); sched.step()
            >>> sched.last_epoch, sched.get_last_lr()
            (2, [0.5])
        """
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]


class CosineAnnealingLR(LRScheduler):
    """Anneal from the base rate to ``eta_min`` along half a cosine over ``T_max`` epochs:
    ``lr_t = eta_min + (base - eta_min) * (1 + cos(pi * t / T_max)) / 2`` (applied recursively, as PyTorch does).

    Examples:
        >>> import minitorch_lsm as torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2, eta_min=0.1)
        >>> [(opt.step(), sched.step(), sched.get_last_lr()[0])[2] for _ in range(2)]
        [0.55, 0.1]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:  # noqa: N803
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """``lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t / T_max)) / (1 + cos(pi (t-1) / T_max))``.

        The closed form on the first step of a resumed schedule; past ``T_max`` the cosine goes on, so the
        rate climbs back to the base rate by ``2 * T_max``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
            >>> sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)
            >>> [round((opt.step(), sched.step(), sched.get_last_lr()[0])[2], 4) for _ in range(4)]
            [0.5, 0.0, 0.5, 1.0]
        """
        groups, t, period = self.optimizer.param_groups, self.last_epoch, self.T_max
        if t == 0:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and t > 0:
            return [self.eta_min + (base - self.eta_min) * (1 + math.cos(t * math.pi / period)) / 2
                    for base in self.base_lrs]
        if (t - 1 - period) % (2 * period) == 0:
            return [group["lr"] + (base - self.eta_min) * (1 - math.cos(math.pi / period)) / 2
                    for base, group in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
                * (group["lr"] - self.eta_min) + self.eta_min for group in groups]
