"""The Optimizer base class: parameter groups, per-parameter state, zero_grad and state dicts.

Updates are written on the parameters' raw arrays (``xp``), outside autograd, the way an
optimizer step runs under ``no_grad`` in PyTorch; each write bumps the parameter's version counter.

A step is all-or-nothing: before anything is written, every gradient is checked against its
parameter (a Tensor of the same shape, dtype and device) and every hyperparameter the update reads
against being a number. A mistake raises (TypeError for a wrong type, RuntimeError for a wrong
gradient) with a message that names the group, the parameter and the offending value, and leaves
every parameter and all optimizer state as they were. (PyTorch updates parameters until it meets
the bad one, and silently broadcasts a gradient of a broadcastable shape.)
"""
from __future__ import annotations

import copy
import numbers
import warnings
from collections import defaultdict
from typing import Any, Callable, ClassVar, Iterable

from .. import _device
from ..autograd.grad_mode import no_grad
from ..ops.inplace import read_only_memory
from ..tensor import Tensor

required = object()  # marks a hyperparameter that has no default (SGD's lr in old PyTorch)


def _number(value: Any) -> float | None:
    """``value`` as a float if it is a real number or a one-element Tensor, else None."""
    if isinstance(value, Tensor):
        return float(value.item()) if value.numel() == 1 else None
    if isinstance(value, numbers.Real):
        return float(value)
    return None


def check_lr(lr: Any) -> None:
    """The constructors' learning-rate check, as PyTorch words it: ``lr >= 0`` (a Tensor lr has one element).

    Examples:
        >>> from minitorch_lsm.optim.optimizer import check_lr
        >>> check_lr(-0.1)
        Traceback (most recent call last):
          ...
        ValueError: Invalid learning rate: -0.1
    """
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if lr < 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")


class Optimizer:
    """Base class: holds ``param_groups`` (dicts with ``'params'`` and hyperparameters) and ``state``.

    Subclasses implement ``_update`` and list in ``numeric_hyperparameters`` the group entries it reads
    as numbers (``step`` checks them and hands ``_update`` a group where they are floats).

    Examples:
        >>> import minitorch_lsm as torch
        >>> w = torch.nn.Parameter(torch.ones(1))
        >>> opt = torch.optim.SGD([w], lr=0.1)
        >>> len(opt.param_groups), opt.param_groups[0]["params"][0] is w, opt.param_groups[0]["lr"]
        (1, True, 0.1)
    """

    numeric_hyperparameters: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {params.type()}")
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones take the defaults).

        Examples:
            >>> import minitorch_lsm as torch
            >>> a, b = torch.nn.Parameter(torch.ones(1)), torch.nn.Parameter(torch.ones(1))
            >>> opt = torch.optim.SGD([a], lr=0.1); opt.add_param_group({"params": [b], "lr": 0.01})
            >>> [group["lr"] for group in opt.param_groups]
            [0.1, 0.01]
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will cause "
                          "an error; see github.com/pytorch/pytorch/issues/40967 for more information", stacklevel=3)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group = {**self.defaults, **param_group, "params": params}
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters: to None (default) or to zeros.

        Examples:
            >>> import minitorch_lsm as torch
            >>> w = torch.nn.Parameter(torch.ones(2)); w.grad = torch.ones(2)
            >>> opt = torch.optim.SGD([w], lr=0.1); opt.zero_grad(); print(w.grad)
            None
        """
        from ..nn.module import _zero_grad

        for group in self.param_groups:
            for p in group["params"]:
                _zero_grad(p, set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; ``closure`` re-evaluates the loss (returned).

        Examples:
            >>> import minitorch_lsm as torch
            >>> w = torch.nn.Parameter(torch.tensor([1., 2.])); w.grad = torch.tensor([1., -1.])
            >>> torch.optim.SGD([w], lr=0.5).step(); w  # w - lr * grad
            Parameter containing:
            tensor([0.5000, 2.5000], requires_grad=True)
        """
        loss = None
        if closure is not None:
            from ..autograd.grad_mode import enable_grad
            with enable_grad():
                loss = closure()
        groups = self._checked_groups()  # raises before anything is written
        with no_grad(), _device.quietly():  # inf and nan are values here, as in torch, not warnings
            for group in groups:
                for p in group["params"]:
                    if p.grad is not None:
                        # like torch, a parameter gets a state entry only once its optimizer stores something
                        state = self.state[p] if p in self.state else {}
                        self._update(p, p.grad._data, state, group)
                        if state:
                            self.state[p] = state
                        p._bump_version()
        return loss

    def _checked_groups(self) -> list[dict[str, Any]]:
        """Each group with its numeric hyperparameters as floats, after checking every gradient and value."""
        name = f"{type(self).__name__}.step()"
        groups = []
        for g, group in enumerate(self.param_groups):
            with_grad = [(i, p) for i, p in enumerate(group["params"]) if p.grad is not None]
            for i, p in with_grad:
                where = f"{name}: parameter {i} of param_groups[{g}]"
                grad = p.grad
                if not isinstance(grad, Tensor):
                    raise TypeError(f"{where} has a .grad of type {type(grad).__name__}, expected a Tensor; "
                                    "nothing was updated")
                if grad._data.shape != p._data.shape:  # (the arrays' tuples: .shape would build two torch.Size)
                    raise RuntimeError(f"{where} has shape {list(p.shape)} but its .grad has shape {list(grad.shape)}; "
                                       "nothing was updated")
                if grad.dtype != p.dtype:
                    raise RuntimeError(f"{where} has dtype {p.dtype} but its .grad has dtype {grad.dtype}; "
                                       "nothing was updated")
                if grad.device != p.device:
                    raise RuntimeError(f"{where} is on {p.device} but its .grad is on {grad.device}; nothing was updated")
                if read_only_memory(p._data):
                    raise RuntimeError(f"{where} has read-only memory (a non-writable NumPy array given to "
                                       "from_numpy); nothing was updated")
                for key, value in self.state.get(p, {}).items():
                    if isinstance(value, Tensor) and key != "step" and value.shape != p.shape:
                        raise RuntimeError(f"{where} has shape {list(p.shape)} but its optimizer state '{key}' has "
                                           f"shape {list(value.shape)} (was the parameter replaced?); nothing was updated")
            checked = dict(group)
            if with_grad:
                for key in self.numeric_hyperparameters:
                    checked[key] = self._hyperparameter(group, g, key)
            groups.append(checked)
        return groups

    def _hyperparameter(self, group: dict[str, Any], g: int, key: str) -> Any:
        """``group[key]`` as a float (``betas``: a pair of floats); TypeError naming the value if it is not."""
        value = group.get(key)
        if key == "betas":
            pair = [_number(b) for b in value] if isinstance(value, (tuple, list)) else [None]
            if None not in pair and len(pair) == 2:
                return tuple(pair)
            error = ValueError if None not in pair else TypeError  # as unpacking (beta1, beta2) would raise
            raise error(f"{type(self).__name__}.step(): param_groups[{g}]['betas'] must be a pair of numbers, "
                        f"got {value!r}; nothing was updated")
        number = _number(value)
        if number is None:
            raise TypeError(f"{type(self).__name__}.step(): param_groups[{g}]['{key}'] must be a number, got {value!r}; "
                            "nothing was updated")
        return number

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ state dicts, as PyTorch lays them out
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``, parameters by position.

        Examples:
            >>> import minitorch_lsm as torch
            >>> w = torch.nn.Parameter(torch.ones(1)); w.grad = torch.ones(1)
            >>> opt = torch.optim.SGD([w], lr=0.1, momentum=0.9); opt.step()
            >>> opt.state_dict()["state"], opt.state_dict()["param_groups"][0]["params"]
            ({0: {'momentum_buffer': tensor([1.])}}, [0])
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: {k: (v.clone() if isinstance(v, Tensor) else v) for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state; checks everything first, so a failed load changes nothing.

        Examples:
            >>> import minitorch_lsm as torch
            >>> w = torch.nn.Parameter(torch.ones(1))
            >>> saved = torch.optim.SGD([w], lr=0.1).state_dict()
            >>> opt = torch.optim.SGD([w], lr=1.0); opt.load_state_dict(saved); opt.param_groups[0]["lr"]
            0.1
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"optimizer state dict must be a dict, got {type(state_dict).__name__}")
        groups = state_dict.get("param_groups")
        if not isinstance(groups, list) or not isinstance(state_dict.get("state"), dict):
            raise ValueError("optimizer state dict must have 'state' (a dict) and 'param_groups' (a list)")
        if not all(isinstance(s, dict) and isinstance(s.get("params"), (list, tuple)) for s in groups):
            raise ValueError("each loaded parameter group must be a dict with a 'params' list")
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(self.param_groups, groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group")
        by_index = {i: p for g, s in zip(self.param_groups, groups) for i, p in zip(s["params"], g["params"])}
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for i, saved in state_dict["state"].items():
            p = by_index.get(int(i) if isinstance(i, str) and i.isdigit() else i)
            if p is None or not isinstance(saved, dict):
                raise ValueError(f"loaded state dict refers to parameter {i!r}, which is not in any group")
            new_state[p] = {k: self._match(v, p, k) for k, v in saved.items()}
        new_groups = [{k: copy.deepcopy(v) for k, v in saved.items() if k != "params"} for saved in groups]
        self.state = new_state
        for group, saved in zip(self.param_groups, new_groups):
            group.update(saved)

    @staticmethod
    def _match(value: Any, param: Tensor, key: str) -> Any:
        """A saved state value on the parameter's device (floating buffers in its dtype; 'step' as saved)."""
        if not isinstance(value, Tensor):
            return value
        if key == "step":
            return value.clone()
        if value.shape != param.shape:
            raise ValueError(f"loaded state '{key}' has shape {value.shape}, but its parameter has {param.shape}")
        return value.to(device=param.device, dtype=param.dtype if value.dtype.is_floating_point else value.dtype).clone()

    def __repr__(self) -> str:
        text = f"{type(self).__name__} ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            text += "".join(f"    {k}: {group[k]}\n" for k in sorted(group) if k != "params")
        return text + ")"
