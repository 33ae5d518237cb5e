"""How a Tensor leaves the framework, and how it moves between dtypes and devices.

``Tensor`` (``tensor.py``) inherits these methods from ``TensorConversionsMixin``:

* Python's protocols ``len(x)`` and ``iter(x)``;
* the ways out of the framework: ``x.item()``, ``x.tolist()``, ``x.numpy()``, ``np.asarray(x)``, DLPack,
  ``bool(x)``, ``float(x)``, ``int(x)``, ``operator.index(x)``, ``repr(x)``, ``format(x, spec)``, and the
  refusal to be pickled;
* dtype and device: ``x.is_floating_point()``, ``x.is_cuda``, ``x.to(...)``, ``x.cpu()``, ``x.cuda()``,
  ``x.float()``, ``x.long()``... and ``x.type()``.

The mixin holds no state (``__slots__ = ()``, so tensors keep having no ``__dict__``); its methods read the
fields ``Tensor`` declares (``_data``, ``dtype``, ``device``). A move itself is an op,
``ops.selection.to_dtype_device``, so it is differentiable.

Examples:
    >>> import minitorch_lsm as torch
    >>> x = torch.tensor([1.5, -2.5])
    >>> x.to(torch.int64), x.tolist(), len(x)
    (tensor([ 1, -2]), [1.5, -2.5], 2)
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from . import _device, _dtype

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["TensorConversionsMixin"]


class TensorConversionsMixin:
    """The conversions and moves of ``Tensor``, which inherits them; see this module's docstring."""

    __slots__ = ()

    # ------------------------------------------------------------------ Python's protocols
    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ leaving the framework
    def item(self) -> Any:
        """The value of a one-element tensor (of any shape) as a Python number.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.tensor([[2.5]]).item(), torch.tensor(3).item()
            (2.5, 3)
        """
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        """The values as (nested) Python lists of Python numbers; a 0-d tensor gives a number.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.tensor([[1, 2], [3, 4]]).tolist()
            [[1, 2], [3, 4]]
        """
        return _device.move(self._data, _device.CPU).tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The NumPy array behind a cpu tensor (shared, not copied); ``force=True`` also copies from a GPU
        and allows a tensor that requires grad.

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.tensor([1., 2.])
            >>> a = x.numpy(); a[0] = 7.
            >>> x
            tensor([7., 2.])
        """
        if self.device.type != "cpu":
            if force:
                return _device.move(self._data, _device.CPU)
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. "
                            "Use Tensor.cpu() to copy the tensor to host memory first.")
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def __dlpack__(self, stream: Any = None, **kwargs: Any) -> Any:
        """A DLPack capsule over this tensor's memory (for ``torch.from_dlpack``, ``np.from_dlpack``...)."""
        if self.requires_grad:  # BufferError, as PyTorch raises: the protocol's word for a refused export
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        if stream is not None:
            kwargs["stream"] = stream
        return self._data.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        """(1, 0) for cpu, (2, index) for cuda: DLPack's device codes."""
        return (1, 0) if self.device.type == "cpu" else (2, self.device.index or 0)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = _device.move(self._data, _device.CPU)
        return array if dtype is None else array.astype(dtype)

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with {'no values' if self.numel() == 0 else 'more than one value'}"
                               " is ambiguous")
        return bool(self.item())

    def __float__(self) -> float:
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.item())

    def __int__(self) -> int:
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __repr__(self) -> str:
        from ._printing import tensor_repr
        return tensor_repr(self)

    def __format__(self, spec: str) -> str:
        if self.ndim == 0 and spec:
            return self.item().__format__(spec)
        return repr(self)

    def __reduce__(self) -> Any:
        raise TypeError("minitorch_lsm tensors are not pickled; use minitorch_lsm.save")

    def __copy__(self) -> Any:
        """``copy.copy(t)``: a new leaf of the same class over the same memory, as PyTorch's: the same
        ``requires_grad`` (also for a non-leaf, whose history it does not keep), no ``.grad``, its own version
        counter, and the attributes a subclass set.

        Examples:
            >>> import copy, minitorch_lsm as torch
            >>> t = torch.zeros(2); c = copy.copy(t); c[0] = 5.
            >>> t, c.is_leaf
            (tensor([5., 0.]), True)
        """
        out = type(self)._from_array(self._data, self.device)
        out._requires_grad = self._requires_grad
        if hasattr(self, "__dict__"):
            out.__dict__.update(self.__dict__)
        return out

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        """``copy.deepcopy(t)``: a leaf with its own memory, the same ``requires_grad`` and a deep copy of ``.grad``.

        As in PyTorch, only a leaf can be copied, and tensors that shared memory share the copy of it
        (on the CPU: ``_deep_copied_array``).

        Examples:
            >>> import copy, minitorch_lsm as torch
            >>> w = torch.ones(2, requires_grad=True); w.grad = torch.tensor([3., 4.])
            >>> c = copy.deepcopy(w)
            >>> with torch.no_grad(): _ = c.add_(1)
            >>> c, c.grad, w
            (tensor([2., 2.], requires_grad=True), tensor([3., 4.]), tensor([1., 1.], requires_grad=True))
        """
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment.  "
                "If you were attempting to deepcopy a module, this may be because of a torch.nn.utils.weight_norm usage, "
                "see https://github.com/pytorch/pytorch/pull/103001")
        out = type(self)._from_array(_deep_copied_array(self._data, memo), self.device)
        out._requires_grad = self._requires_grad
        if self._grad is not None:
            out._grad = copy.deepcopy(self._grad, memo)
        return out

    # ------------------------------------------------------------------ dtype and device: queries and moves
    def is_floating_point(self) -> bool:
        """True if the dtype is a floating point type (float16, float32, float64).

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.tensor([1.]).is_floating_point(), torch.tensor([1]).is_floating_point()
            (True, False)
        """
        return self.dtype.is_floating_point

    @property
    def is_cuda(self) -> bool:
        """True if the tensor lives on a GPU (``device.type == 'cuda'``).

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.ones(2).is_cuda
            False
        """
        return self.device.type == "cuda"

    def to(self, *args: Any, **kwargs: Any) -> "Tensor":
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``, plus ``copy=``.

        Returns self when nothing changes (unless ``copy=True``); the move is differentiable.

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.tensor([1.5, -2.5])
            >>> x.to(torch.int64), x.to('cpu') is x
            (tensor([ 1, -2]), True)
        """
        from .ops.selection import to_dtype_device

        dev, dt, copy = _parse_to_args(args, kwargs)
        return to_dtype_device(self, dt or self.dtype, dev or self.device, copy)

    def cpu(self) -> "Tensor":
        """A copy in cpu memory, or self if the tensor is already there: ``to('cpu')``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.ones(2)
            >>> x.cpu() is x
            True
        """
        return self.to("cpu")

    def cuda(self, device: Any = None) -> "Tensor":
        """A copy on a GPU (the current one, or ``device``), or self if it is already there.

        Examples:
            The example needs a GPU, so the test suite skips it:

            >>> import minitorch_lsm as torch
            >>> torch.ones(2).cuda()  # doctest: +SKIP
            tensor([1., 1.], device='cuda:0')
        """
        return self.to(_device.as_device(device if device is not None else "cuda"))

    def type_as(self, other: "Tensor") -> "Tensor":
        """This tensor cast to ``other``'s dtype: ``to(other.dtype)``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.tensor([1, 2]).type_as(torch.zeros(1, dtype=torch.float64))
            tensor([1., 2.], dtype=torch.float64)
        """
        return self.to(other.dtype)

    def float(self) -> "Tensor":
        """Cast to float32: ``to(torch.float32)``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.tensor([1, 2]).float()
            tensor([1., 2.])
        """
        return self.to(_dtype.float32)

    def double(self) -> "Tensor":
        """Cast to float64: ``to(torch.float64)``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.tensor([1, 2]).double()
            tensor([1., 2.], dtype=torch.float64)
        """
        return self.to(_dtype.float64)

    def half(self) -> "Tensor":
        """Cast to float16: ``to(torch.float16)``, rounding to the nearest half-precision value
        (beyond 65504, the largest one, that is inf).

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.tensor([1.5, 70000.]).half()
            tensor([1.5000,    inf], dtype=torch.float16)
        """
        return self.to(_dtype.float16)

    def long(self) -> "Tensor":
        """Cast to int64: ``to(torch.int64)``; floats are truncated toward zero.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.tensor([1.7, -1.7]).long()
            tensor([ 1, -1])
        """
        return self.to(_dtype.int64)

    def int(self) -> "Tensor":
        """Cast to int32: ``to(torch.int32)``; floats are truncated toward zero.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.tensor([1.7, -1.7]).int()
            tensor([ 1, -1], dtype=torch.int32)
        """
        return self.to(_dtype.int32)

    def short(self) -> "Tensor":
        """Cast to int16: ``to(torch.int16)``; integers wrap around modulo 2**16.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.tensor([7, 40000]).short()
            tensor([     7, -25536], dtype=torch.int16)
        """
        return self.to(_dtype.int16)

    def byte(self) -> "Tensor":
        """Cast to uint8: ``to(torch.uint8)``; integers wrap around modulo 2**8.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.tensor([-1, 256]).byte()
            tensor([255,   0], dtype=torch.uint8)
        """
        return self.to(_dtype.uint8)

    def bool(self) -> "Tensor":
        """Cast to bool: ``to(torch.bool)``; nonzero is True.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.tensor([0., 0.5, -2.]).bool()
            tensor([False,  True,  True])
        """
        return self.to(_dtype.bool)

    def type(self, dtype: Any = None) -> Any:
        """Without an argument, the legacy type name (``'torch.FloatTensor'``); with a dtype, ``to(dtype)``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.ones(2).type(), torch.ones(2).type(torch.int64)
            ('torch.FloatTensor', tensor([1, 1]))
        """
        if dtype is None:
            return f"torch.{'cuda.' if self.is_cuda else ''}{_dtype.torch_name(self.dtype)}Tensor"
        return self.to(dtype)


def _parse_to_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any, bool]:
    """Sort out ``Tensor.to``'s overloads into (device or None, dtype or None, copy)."""
    from .tensor import Tensor  # here, not at the top: tensor.py imports this module

    dev, dt = kwargs.pop("device", None), kwargs.pop("dtype", None)
    copy = bool(kwargs.pop("copy", False))
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for arg in args:
        if isinstance(arg, Tensor):
            dev, dt = arg.device, arg.dtype
        elif isinstance(arg, _dtype.dtype) and dt is None:
            dt = arg
        elif isinstance(arg, (str, _device.device, int)) and not isinstance(arg, bool) and dev is None:
            dev = arg
        elif isinstance(arg, bool):
            copy = copy or arg  # to(dtype, non_blocking, copy): torch's positional bools
        else:
            raise TypeError(f"to() received an invalid combination of arguments - got {type(arg).__name__}")
    return (_device.as_device(dev) if dev is not None else None), (_dtype.as_dtype(dt) if dt is not None else None), copy


def _deep_copied_array(array: Any, memo: dict[Any, Any]) -> Any:
    """``array`` over a copy of the memory it lies in, made once per ``copy.deepcopy`` call for all the
    arrays in that memory (as PyTorch copies a storage once), so that tensors that shared memory still do.

    Examples:
        >>> import copy, minitorch_lsm as torch
        >>> u = torch.arange(4.)
        >>> a, b = copy.deepcopy([u, u[2:]]); a[3] = 9.
        >>> b, u
        (tensor([2., 9.]), tensor([0., 1., 2., 3.]))
    """
    root = array
    while isinstance(root.base, np.ndarray):
        root = root.base
    if not isinstance(array, np.ndarray) or array.size == 0 or not (root.flags.c_contiguous or root.flags.f_contiguous):
        return array.copy()  # (CuPy, or memory whose layout we do not know: a copy of its own)
    key = ("minitorch_lsm memory", id(root))  # (a key copy.deepcopy itself never uses)
    if key not in memo:
        memo[key] = root.reshape(-1, order="A").view(np.uint8).copy()  # the bytes (root is contiguous: a view)
        memo.setdefault(id(memo), []).append(root)  # keep root (and so its id) alive, as copy.deepcopy does
    return np.ndarray(array.shape, array.dtype, buffer=memo[key], offset=array.ctypes.data - root.ctypes.data,
                      strides=array.strides)
