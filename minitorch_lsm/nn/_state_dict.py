"""Saving and loading a Module's state: ``state_dict``, ``load_state_dict`` and ``IncompatibleKeys``.

``Module`` (``module.py``) inherits ``state_dict`` and ``load_state_dict`` from ``StateDictMixin``. A
state dict maps each parameter and persistent buffer to its dotted path (``'0.weight'``), module by
module in pre-order, as PyTorch orders it; ``torch.save`` (``serialization.py``) writes one to a file.

Examples:
    >>> import minitorch_lsm as torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    >>> list(net.state_dict())
    ['0.weight', '0.bias', '2.weight', '2.bias']
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .parameter import Parameter

if TYPE_CHECKING:
    from .module import Module

__all__ = ["IncompatibleKeys", "StateDictMixin"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find, and those it did not expect.

    Public as ``IncompatibleKeys``; it prints ``<All keys matched successfully>`` when both lists are empty.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.nn.Linear(2, 1).load_state_dict({"weight": torch.zeros(1, 2), "scale": torch.ones(1)}, strict=False)
        _IncompatibleKeys(missing_keys=['bias'], unexpected_keys=['scale'])
    """

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, unexpected_keys={self.unexpected_keys!r})"

    __str__ = __repr__


IncompatibleKeys = _IncompatibleKeys
"""The ``(missing_keys, unexpected_keys)`` named tuple ``Module.load_state_dict`` returns (``_IncompatibleKeys``)."""


class StateDictMixin:
    """``state_dict`` and ``load_state_dict`` of ``Module``, which inherits them; see this module's docstring."""

    # ------------------------------------------------------------------ state dict
    def state_dict(self, *args: Any, destination: Any = None, prefix: str = "", keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Parameters and persistent buffers by name (an OrderedDict), detached unless ``keep_vars``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> {name: tuple(t.shape) for name, t in torch.nn.Linear(3, 2).state_dict().items()}
            {'weight': (2, 3), 'bias': (2,)}
        """
        out: OrderedDict[str, Tensor] = OrderedDict() if destination is None else destination
        for base, module in self._state_modules(prefix):
            for name, value in module._local_state().items():
                out[base + name] = value if keep_vars else value.detach()
        return out

    def _state_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """``(key prefix, module)`` in state-dict order: pre-order over ``_modules``, duplicates kept."""
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child._state_modules(f"{prefix}{name}.")

    def _local_state(self) -> "OrderedDict[str, Tensor]":
        """This module's own parameters, then its persistent buffers (None entries skipped)."""
        out: OrderedDict[str, Tensor] = OrderedDict(
            (name, param) for name, param in self._parameters.items() if param is not None)
        out.update((name, buf) for name, buf in self._buffers.items()
                   if buf is not None and name not in self._non_persistent_buffers)
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into the parameters and buffers; all-or-nothing.

        Keys, errors and their order follow PyTorch (module by module, pre-order). Unlike PyTorch, every
        key, type and shape is checked and every value converted before anything is written, so a failed
        load changes nothing. ``assign=True`` replaces the tensors instead of copying into them.

        Examples:
            >>> import minitorch_lsm as torch
            >>> a, b = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)
            >>> b.load_state_dict(a.state_dict()), bool((a.weight == b.weight).all())
            (<All keys matched successfully>, True)
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        state_dict = OrderedDict(state_dict)
        missing: list[str] = []
        unexpected: list[str] = []
        errors: list[str] = []
        writes: list[tuple[Module, str, Tensor, Tensor]] = []
        for prefix, module in self._state_modules():
            local = module._local_state()
            for name, target in local.items():
                key = prefix + name
                if key not in state_dict:
                    missing.append(key)
                    continue
                value = state_dict[key]
                if not isinstance(value, Tensor):
                    errors.append(f'While copying the parameter named "{key}", expected torch.Tensor or Tensor-like '
                                  f"object from checkpoint but received {type(value)}")
                    continue
                if target.ndim == 0 and tuple(value.shape) == (1,):  # torch's 0.3-era compatibility rule
                    value = value.reshape(())  # type: ignore[attr-defined]
                if value.shape != target.shape:
                    errors.append(f"size mismatch for {key}: copying a param with shape {value.shape} from checkpoint, "
                                  f"the shape in current model is {target.shape}.")
                    continue
                writes.append((module, name, target, value))
            for key in state_dict:
                if key.startswith(prefix):
                    head, *rest = key[len(prefix):].split(".", 1)
                    if (head not in module._modules) if rest else (head not in local):
                        unexpected.append(key)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(type(self).__name__,
                                                                                   "\n\t".join(errors)))
        with no_grad():
            # convert everything first (a failure here still changes nothing), then write
            if assign:
                values = [Parameter(value.detach(), requires_grad=target.requires_grad)
                          if name in module._parameters else value.detach() for module, name, target, value in writes]
            else:
                values = [value.detach().to(device=target.device, dtype=target.dtype, copy=True)
                          for _, _, target, value in writes]
            for (module, name, target, _), value in zip(writes, values):
                if not assign:
                    target.copy_(value)  # type: ignore[attr-defined]
                elif name in module._parameters:
                    module._parameters[name] = value
                else:
                    module._buffers[name] = value
        return IncompatibleKeys(missing, unexpected)
