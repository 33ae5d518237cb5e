"""A tensor's shape and size: ``torch.Size`` and the methods that read them (``x.shape``, ``x.size()``,
``x.dim()``, ``x.numel()``...), as a mixin that ``Tensor`` inherits.

The mixin holds no state (``__slots__ = ()``, so tensors keep having no ``__dict__``); its methods read the
tensor's array (``_data``) and dtype.

Examples:
    >>> import minitorch_lsm as torch
    >>> x = torch.zeros(2, 3)
    >>> x.shape, x.size(1), x.numel()
    (torch.Size([2, 3]), 3, 6)
"""
from __future__ import annotations

from typing import Any

__all__ = ["Size", "TensorShapeMixin"]


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints as ``torch.Size([2, 3])`` and compares equal to the plain tuple.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.zeros(2, 3).shape, torch.zeros(2, 3).shape == (2, 3)
        (torch.Size([2, 3]), True)
    """

    def __repr__(self) -> str:
        return f"torch.Size([{', '.join(map(str, self))}])"

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds: the product of the sizes (1 for ``Size([])``).

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.Size([2, 3, 4]).numel(), torch.Size([]).numel()
            (24, 1)
        """
        n = 1
        for s in self:
            n *= s
        return n


class TensorShapeMixin:
    """The shape and size methods of ``Tensor`` (see the module's docstring)."""

    __slots__ = ()
    _data: Any
    dtype: Any

    @property
    def shape(self) -> Size:
        """The size of each dimension, as ``torch.Size``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.zeros(2, 3).shape
            torch.Size([2, 3])
        """
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the length of dimension ``dim`` (negative dims count from the end).

        Examples:
            >>> import minitorch_lsm as torch
            >>> x = torch.zeros(2, 3)
            >>> x.size(), x.size(0), x.size(-1)
            (torch.Size([2, 3]), 2, 3)
        """
        if dim is None:
            return self.shape
        from .ops._util import normalize_dim  # (ops build on the tensor: imported when first needed)
        return self._data.shape[normalize_dim(dim, self.ndim)]

    @property
    def ndim(self) -> int:
        """The number of dimensions: ``len(x.shape)``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.zeros(2, 3).ndim, torch.tensor(5.).ndim
            (2, 0)
        """
        return self._data.ndim

    def dim(self) -> int:
        """The number of dimensions: ``len(x.shape)``, the same as ``x.ndim``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.zeros(2, 3, 4).dim()
            3
        """
        return self._data.ndim

    def ndimension(self) -> int:
        """The number of dimensions: an older name for ``dim()``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.tensor(5.).ndimension()
            0
        """
        return self._data.ndim

    def numel(self) -> int:
        """The number of elements: the product of the sizes.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.zeros(2, 3).numel()
            6
        """
        return int(self._data.size)

    def nelement(self) -> int:
        """The number of elements: another name for ``numel()``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.zeros(4, 0).nelement(), torch.tensor(1.).nelement()
            (0, 1)
        """
        return int(self._data.size)

    def element_size(self) -> int:
        """Bytes per element: ``dtype.itemsize``.

        Examples:
            >>> import minitorch_lsm as torch
            >>> torch.zeros(2).element_size(), torch.zeros(2, dtype=torch.float64).element_size()
            (4, 8)
        """
        return self.dtype.itemsize
