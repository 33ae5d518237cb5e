"""``nn.Module``: a container of parameters, buffers and submodules, registered by attribute assignment.

``Module`` inherits two groups of methods from mixins next to this file: the dtype and device moves
(``to``, ``cpu``, ``cuda``, ``float``, ``double``, ``half``) from ``_module_conversions.py``, and
``state_dict`` / ``load_state_dict`` from ``_state_dict.py``.

Examples:
    >>> import minitorch_lsm as torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LogSoftmax(dim=1))
    >>> net
    Sequential(
      (0): Linear(in_features=4, out_features=3, bias=True)
      (1): LogSoftmax(dim=1)
    )
    >>> list(net.state_dict())
    ['0.weight', '0.bias']
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterator

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from ._module_conversions import ModuleConversionsMixin
from ._state_dict import IncompatibleKeys, StateDictMixin  # noqa: F401 (nn.module.IncompatibleKeys is public)
from .parameter import Parameter


def _indent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    return lines[0] if len(lines) == 1 else lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module(ModuleConversionsMixin, StateDictMixin):
    """Base class of all layers and models. Subclasses set attributes in ``__init__`` and define ``forward``.

    Assigning a Parameter registers it as a parameter, a Module as a submodule; ``module(x)`` runs ``forward(x)``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> class Scale(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.w = torch.nn.Parameter(torch.tensor([2.]))
        ...     def forward(self, x):
        ...         return self.w * x
        >>> Scale()(torch.tensor([3.])), [name for name, _ in Scale().named_parameters()]
        (tensor([6.], grad_fn=<MulBackward0>), ['w'])
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """What calling the module computes: ``module(x)`` runs ``module.forward(x)``. Subclasses must define it.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.nn.Module()(torch.ones(1))
            Traceback (most recent call last):
              ...
            NotImplementedError: Module [Module] is missing the required "forward" function
        """
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call_impl(*args, **kwargs)

    def _call_impl(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{value.type() if isinstance(value, Tensor) else type(value).__name__}' "
                                f"as parameter '{name}' (torch.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if self.__dict__.get("_modules") is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep="_modules")
            self._modules[name] = value
        elif self.__dict__.get("_modules") is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(torch.nn.Module or None expected)")
            self._modules[name] = None
        elif self.__dict__.get("_buffers") is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' (torch.Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: str) -> None:
        """Drop ``name`` from every place but the store ``keep`` (so a re-assignment keeps its position)."""
        self.__dict__.pop(name, None)
        for store in ("_parameters", "_buffers", "_modules"):
            if store != keep:
                self.__dict__[store].pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name: str) -> Any:
        for store in ("_parameters", "_buffers", "_modules"):
            values = self.__dict__.get(store)
            if values is not None and name in values:
                return values[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(store, {}):
                del self.__dict__[store][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def _check_name(self, name: Any, kind: str, store: str) -> None:
        """PyTorch's checks: a string, no ".", not empty, and no other attribute of that name."""
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if name not in self.__dict__[store] and hasattr(self, name):
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder) under ``name``: what ``self.name = Parameter(...)`` does.

        Examples:
            >>> import minitorch_lsm as torch
            >>> m = torch.nn.Module()
            >>> m.register_parameter("scale", torch.nn.Parameter(torch.ones(1)))
            >>> [name for name, _ in m.named_parameters()]
            ['scale']
        """
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name(name, "parameter", "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{param.type() if isinstance(param, Tensor) else type(param).__name__}' "
                            f"object to parameter '{name}' (torch.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (saved in ``state_dict`` when persistent).

        Examples:
            >>> import minitorch_lsm as torch
            >>> m = torch.nn.Module()
            >>> m.register_buffer("mean", torch.zeros(2)); m.register_buffer("tmp", torch.ones(1), persistent=False)
            >>> list(m.state_dict()), [name for name, _ in m.named_buffers()]
            (['mean'], ['mean', 'tmp'])
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name(name, "buffer", "_buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (torch Tensor or None required)")
        self._buffers[name] = tensor
        (self._non_persistent_buffers.discard if persistent else self._non_persistent_buffers.add)(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Add a submodule under ``name``: what ``self.name = module`` does. ``register_module`` is the same method.

        Examples:
            >>> import minitorch_lsm as torch
            >>> m = torch.nn.Module()
            >>> m.add_module("act", torch.nn.ReLU()); m
            Module(
              (act): ReLU()
            )
        """
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if "_modules" not in self.__dict__:
            raise AttributeError("cannot assign module before Module.__init__() call")
        self._check_name(name, "module", "_modules")
        self._modules[name] = module

    register_module = add_module
    """Another name for :meth:`add_module` (the same method)."""

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """``(name, module)`` for this module (named ``prefix``, '' by default) and every descendant,
        depth first; a module reachable twice is listed once.

        Examples:
            >>> import minitorch_lsm as torch
            >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.ReLU()))
            >>> [name for name, _ in net.named_modules()]
            ['', '0', '1', '1.0']
        """
        memo = set() if memo is None else memo
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in memo:
                    continue
                memo.add(id(module))
            yield name, module
            children = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator["Module"]:
        """This module and every descendant, depth first: ``named_modules()`` without the names.

        Examples:
            >>> import minitorch_lsm as torch
            >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
            >>> [type(m).__name__ for m in net.modules()]
            ['Sequential', 'Linear', 'ReLU']
        """
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """``(name, module)`` for the direct submodules only, each once.

        Examples:
            >>> import minitorch_lsm as torch
            >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.ReLU()))
            >>> [name for name, _ in net.named_children()]
            ['0', '1']
        """
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator["Module"]:
        """The direct submodules: ``named_children()`` without the names.

        Examples:
            >>> import minitorch_lsm as torch
            >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.ReLU()))
            >>> [type(m).__name__ for m in net.children()]
            ['Linear', 'Sequential']
        """
        for _, module in self.named_children():
            yield module

    def _named_members(self, store: str, prefix: str, recurse: bool, remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse
                   else iter([(prefix, self)]))
        for module_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(name, parameter)`` pairs, named by their path (``'0.weight'``); a shared parameter is listed once.

        Examples:
            >>> import minitorch_lsm as torch
            >>> [(name, tuple(p.shape)) for name, p in torch.nn.Linear(3, 2).named_parameters()]
            [('weight', (2, 3)), ('bias', (2,))]
        """
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)  # type: ignore[return-value]

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter, each once (what an optimizer is given).

        Examples:
            >>> import minitorch_lsm as torch
            >>> sum(p.numel() for p in torch.nn.Linear(3, 2).parameters())  # 3 * 2 weights + 2 biases
            8
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """``(name, buffer)`` pairs, named by their path, persistent or not.

        Examples:
            >>> import minitorch_lsm as torch
            >>> inner = torch.nn.Module(); inner.register_buffer("count", torch.tensor(0))
            >>> [name for name, _ in torch.nn.Sequential(inner).named_buffers()]
            ['0.count']
        """
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer, each once: ``named_buffers()`` without the names.

        Examples:
            >>> import minitorch_lsm as torch
            >>> m = torch.nn.Module(); m.register_buffer("count", torch.tensor(3))
            >>> list(m.buffers())
            [tensor(3)]
        """
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (Dropout drops, ...) on this module and its descendants; returns self.

        Examples:
            >>> import minitorch_lsm as torch
            >>> net = torch.nn.Sequential(torch.nn.Dropout())
            >>> net.train(False)[0].training, net.train()[0].training
            (False, True)
        """
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        object.__setattr__(self, "training", mode)
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: ``train(False)``; returns self.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.nn.Dropout().eval().training
            False
        """
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Set ``requires_grad`` of every parameter (freeze with False); returns self.

        Examples:
            >>> import minitorch_lsm as torch
            >>> [p.requires_grad for p in torch.nn.Linear(2, 1).requires_grad_(False).parameters()]
            [False, False]
        """
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None (default) or to zeros, in place.

        Examples:
            >>> import minitorch_lsm as torch
            >>> lin = torch.nn.Linear(2, 1); lin(torch.ones(1, 2)).sum().backward()
            >>> lin.zero_grad(set_to_none=False); lin.bias.grad
            tensor([0.])
        """
        for param in self.parameters():
            _zero_grad(param, set_to_none)

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """Call ``fn`` on every submodule (children first) and then on self; returns self.

        Examples:
            >>> import minitorch_lsm as torch
            >>> names = []
            >>> _ = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU()).apply(lambda m: names.append(type(m).__name__))
            >>> names
            ['Linear', 'ReLU', 'Sequential']
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ printing
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr``; '' by default. Layers override it.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.nn.Linear(3, 2).extra_repr(), torch.nn.Module().extra_repr()
            ('in_features=3, out_features=2, bias=True', '')
        """
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_indent(repr(module), 2)}" for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))


def _zero_grad(param: Tensor, set_to_none: bool) -> None:
    """PyTorch's rule: drop the gradient, or detach it and zero it in place."""
    if param.grad is None:
        return
    if set_to_none:
        param.grad = None
        return
    grad = param.grad
    if grad.grad_fn is not None:
        grad.detach_()
    else:
        grad.requires_grad_(False)
    with no_grad():
        try:
            grad.zero_()  # type: ignore[attr-defined]
        except RuntimeError:
            # a gradient that is a broadcast view (one element seen many times) cannot be written
            # element by element: give the same tensor fresh zeroed memory instead
            grad._data = _zeros_like_array(grad._data)
            grad._bump_version()


def _zeros_like_array(array: Any) -> Any:
    from ..ops._elementwise_util import _xp
    return _xp(array).zeros(array.shape, dtype=array.dtype)
