"""Datasets and batching: ``Dataset``, ``TensorDataset``, ``Subset``, ``random_split``, ``DataLoader``.

Examples:
    >>> import minitorch_lsm as torch
    >>> from minitorch_lsm.utils.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(torch.arange(5.), torch.tensor([0, 1, 0, 1, 0]))
    >>> [x.tolist() for x, y in DataLoader(ds, batch_size=2)]
    [[0.0, 1.0], [2.0, 3.0], [4.0]]
"""
from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any, Callable, Generic, Iterator, TypeVar

import numpy as np

from .. import _creation, _dtype, _random
from ..tensor import Tensor

T = TypeVar("T")

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "DataLoader", "default_collate", "default_convert"]


class Dataset(Generic[T]):
    """A map-style dataset: subclasses define ``__getitem__(index)`` (sample ``index``) and ``__len__``.

    Examples:
        >>> from minitorch_lsm.utils.data import Dataset
        >>> class Squares(Dataset):
        ...     def __len__(self): return 4
        ...     def __getitem__(self, i): return i * i
        >>> [Squares()[i] for i in range(len(Squares()))]
        [0, 1, 4, 9]
    """

    def __getitem__(self, index: int) -> T:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __len__(self) -> int:
        raise NotImplementedError


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Sample i is ``tuple(t[i] for t in tensors)``; every tensor has the same first dimension.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.utils.data import TensorDataset
        >>> ds = TensorDataset(torch.tensor([[1., 2.], [3., 4.]]), torch.tensor([0, 1]))
        >>> len(ds), ds[1]
        (2, (tensor([3., 4.]), tensor(1)))
    """

    def __init__(self, *tensors: Tensor) -> None:
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)  # type: ignore[index]

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset[T]):
    """The samples of ``dataset`` at ``indices``: ``Subset(d, idx)[i] = d[idx[i]]``.

    Examples:
        >>> from minitorch_lsm.utils.data import Subset
        >>> s = Subset(["a", "b", "c", "d"], [3, 0])
        >>> len(s), s[0], s[1]
        (2, 'd', 'a')
    """

    def __init__(self, dataset: Dataset[T], indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index: int) -> T:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Dataset[T], lengths: Sequence[int | float],
                 generator: _random.Generator | None = None) -> list[Subset[T]]:
    """Split into non-overlapping random subsets of the given lengths (or fractions summing to 1).

    Fractions give ``floor(n * f)`` samples each, and the remainder is handed out one by one from the
    first subset on, as in PyTorch. (Which samples go where differs from PyTorch: the generators differ.)

    Examples:
        >>> from minitorch_lsm.utils.data import random_split
        >>> parts = random_split(range(10), [0.45, 0.45, 0.1])
        >>> [len(p) for p in parts], sorted(i for p in parts for i in p) == list(range(10))
        ([5, 4, 1], True)
    """
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):  # hand out the remainder round-robin, as PyTorch does
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
        lengths = counts
    if any(length < 0 for length in lengths):
        raise ValueError("All lengths must be non-negative")
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    gen = generator or _random.default_generator()
    order = gen.numpy.permutation(n).tolist()
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, order[start:start + int(length)]))
        start += int(length)
    return out


_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_numpy(value: Any) -> bool:
    return type(value).__module__ == "numpy" and type(value).__name__ not in ("str_", "bytes_", "string_")


def _numpy_text(array: Any) -> bool:
    return isinstance(array, np.ndarray) and array.dtype.kind in "SaUO"


def default_collate(batch: Sequence[Any]) -> Any:
    """PyTorch's default collation: tensors are stacked; NumPy arrays and scalars become tensors (dtype
    kept); Python floats become float64, ints int64, bools bool; strings stay as they are; dicts are
    collated key by key, namedtuples field by field, and tuples and lists position by position (a
    tuple gives a list, as in PyTorch).

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.utils.data import default_collate
        >>> default_collate([(torch.tensor([1., 2.]), 0), (torch.tensor([3., 4.]), 1)])
        [tensor([[1., 2.],
                [3., 4.]]), tensor([0, 1])]
    """
    from ..ops.joining import stack

    first = batch[0]
    if isinstance(first, Tensor):
        return stack(batch, 0)
    if _is_numpy(first):
        if _numpy_text(first):
            raise TypeError(_COLLATE_ERROR.format(first.dtype))
        return stack([_creation.as_tensor(np.asarray(b)) for b in batch], 0)
    if isinstance(first, float):
        return _creation.tensor(batch, dtype=_dtype.float64)
    if isinstance(first, int):  # bool included: tensor([True, False]) is a bool tensor
        return _creation.tensor(batch)
    if isinstance(first, (str, bytes)):
        return batch
    if isinstance(first, Mapping):
        return _rebuild_mapping(first, {key: default_collate([sample[key] for sample in batch]) for key in first})
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # namedtuple
        return type(first)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(first, Sequence):
        if any(len(sample) != len(first) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(samples) for samples in zip(*batch)]
        return fields if isinstance(first, (tuple, list)) else _rebuild_sequence(first, fields)
    raise TypeError(_COLLATE_ERROR.format(type(first)))


def default_convert(data: Any) -> Any:
    """What a loader with ``batch_size=None`` does to each sample: NumPy data becomes tensors, containers
    are converted element by element (a tuple gives a list, as in PyTorch), anything else is kept.

    Examples:
        >>> import numpy as np
        >>> from minitorch_lsm.utils.data import default_convert
        >>> default_convert((np.array([1, 2]), 3.5, "a"))
        [tensor([1, 2]), 3.5, 'a']
    """
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data):
        return data if _numpy_text(data) else _creation.as_tensor(np.asarray(data))
    if isinstance(data, Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        items = [default_convert(d) for d in data]
        return items if isinstance(data, (tuple, list)) else _rebuild_sequence(data, items)
    return data


def _rebuild_mapping(like: Any, values: dict[Any, Any]) -> Any:
    try:
        if isinstance(like, MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _rebuild_sequence(like: Any, items: list[Any]) -> Any:
    try:
        return type(like)(items)
    except TypeError:
        return items


class DataLoader(Generic[T]):
    """Iterate over a dataset in batches, optionally shuffled (reshuffled every epoch).

    ``shuffle`` draws from ``generator`` (default: the global generator, so ``manual_seed`` makes
    epochs repeatable). A ``TensorDataset`` is sliced in one go instead of sample by sample.
    ``len(loader)`` is ``ceil(n / batch_size)``, or ``floor`` with ``drop_last=True``. Loading runs in
    this process: PyTorch's worker and pinning options are accepted and change nothing; a misspelt
    keyword is a TypeError, as in PyTorch.

    Examples:
        >>> import minitorch_lsm as torch
        >>> from minitorch_lsm.utils.data import DataLoader, TensorDataset
        >>> loader = DataLoader(TensorDataset(torch.arange(5.)), batch_size=2, drop_last=True)
        >>> len(loader), [batch[0].tolist() for batch in loader]
        (2, [[0.0, 1.0], [2.0, 3.0]])
    """

    def __init__(self, dataset: Dataset[T], batch_size: int | None = 1, shuffle: bool = False, sampler: Any = None,
                 batch_sampler: Any = None, num_workers: int = 0, collate_fn: Callable[[list[Any]], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0, worker_init_fn: Any = None,
                 multiprocessing_context: Any = None, generator: _random.Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size = None
        self.batch_sampler = batch_sampler
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        self.sampler, self.generator, self.num_workers = sampler, generator, num_workers
        self._custom_collate = collate_fn is not None
        self.collate_fn = collate_fn or default_collate

    def _order(self) -> list[int]:
        if self.sampler is not None:
            return list(self.sampler)
        n = len(self.dataset)
        if not self.shuffle:
            return list(range(n))
        gen = self.generator or _random.default_generator()
        return gen.numpy.permutation(n).tolist()

    def __iter__(self) -> Iterator[Any]:
        if self.batch_sampler is not None:
            for indices in self.batch_sampler:
                yield self._fetch(list(indices))
            return
        order = self._order()
        if self.batch_size is None:
            for i in order:
                yield self.collate_fn(self.dataset[i]) if self._custom_collate else default_convert(self.dataset[i])
            return
        for start in range(0, len(order), self.batch_size):
            indices = order[start:start + self.batch_size]
            if len(indices) < self.batch_size and self.drop_last:
                return
            yield self._fetch(indices)

    def _fetch(self, indices: list[int]) -> Any:
        if isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate:
            rows = _creation.tensor(indices, dtype=_dtype.int64)
            return [t[rows] for t in self.dataset.tensors]  # type: ignore[index]
        return self.collate_fn([self.dataset[i] for i in indices])

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
