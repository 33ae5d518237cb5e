"""Datasets and batching: ``Dataset``, ``TensorDataset``, ``Subset``, ``random_split``, ``DataLoader``.

>>> import minitorch_lsm as torch
>>> from minitorch_lsm.utils.data import DataLoader, TensorDataset
>>> ds = TensorDataset(torch.arange(5.), torch.tensor([0, 1, 0, 1, 0]))
>>> [x.tolist() for x, y in DataLoader(ds, batch_size=2)]
[[0.0, 1.0], [2.0, 3.0], [4.0]]
"""
from __future__ import annotations

import math
from typing import Any, Callable, Generic, Iterator, Sequence, TypeVar

import numpy as np

from .. import _creation
from ..tensor import Tensor

T = TypeVar("T")

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "DataLoader", "default_collate"]


class Dataset(Generic[T]):
    """A map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__``."""

    def __getitem__(self, index: int) -> T:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __len__(self) -> int:
        raise NotImplementedError


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Sample i is ``(t[i] for t in tensors)``; every tensor has the same first dimension."""

    def __init__(self, *tensors: Tensor) -> None:
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)  # type: ignore[index]

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset[T]):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset: Dataset[T], indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index: int) -> T:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Dataset[T], lengths: Sequence[int | float],
                 generator: _creation.Generator | None = None) -> list[Subset[T]]:
    """Split into non-overlapping random subsets of the given lengths (or fractions summing to 1)."""
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):  # hand out the remainder round-robin, as PyTorch does
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    gen = generator or _creation.default_generator()
    order = gen.numpy.permutation(n).tolist()
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, order[start:start + int(length)]))
        start += int(length)
    return out


def default_collate(batch: list[Any]) -> Any:
    """Stack a list of samples into a batch: tensors are stacked, numbers become tensors, and
    tuples, lists and dicts are collated field by field."""
    from ..ops.indexing import stack

    first = batch[0]
    if isinstance(first, Tensor):
        return stack(batch, 0)
    if isinstance(first, (bool, int, float, np.number, np.bool_)):
        return _creation.tensor(batch)
    if isinstance(first, np.ndarray):
        return _creation.tensor(np.stack(batch))
    if isinstance(first, dict):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(sample) != len(first) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(column)) for column in zip(*batch)]
        return tuple(fields) if isinstance(first, tuple) else fields
    return batch


class DataLoader(Generic[T]):
    """Iterate over a dataset in batches, optionally shuffled (reshuffled every epoch).

    ``shuffle`` draws from ``generator`` (default: the global generator, so ``manual_seed`` makes
    epochs repeatable). A ``TensorDataset`` is sliced in one go instead of sample by sample.
    """

    def __init__(self, dataset: Dataset[T], batch_size: int | None = 1, shuffle: bool = False, sampler: Any = None,
                 batch_sampler: Any = None, num_workers: int = 0, collate_fn: Callable[[list[Any]], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0, worker_init_fn: Any = None,
                 generator: _creation.Generator | None = None, **kwargs: Any) -> None:
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        self.sampler, self.generator, self.num_workers = sampler, generator, num_workers
        self.collate_fn = collate_fn or default_collate

    def _order(self) -> list[int]:
        if self.sampler is not None:
            return list(self.sampler)
        n = len(self.dataset)
        if not self.shuffle:
            return list(range(n))
        gen = self.generator or _creation.default_generator()
        return gen.numpy.permutation(n).tolist()

    def __iter__(self) -> Iterator[Any]:
        order = self._order()
        if self.batch_size is None:
            for i in order:
                yield self.dataset[i]
            return
        for start in range(0, len(order), self.batch_size):
            indices = order[start:start + self.batch_size]
            if len(indices) < self.batch_size and self.drop_last:
                return
            yield self._fetch(indices)

    def _fetch(self, indices: list[int]) -> Any:
        if isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate:
            rows = _creation.tensor(indices, dtype=None)
            return tuple(t[rows] for t in self.dataset.tensors)  # type: ignore[index]
        return self.collate_fn([self.dataset[i] for i in indices])

    def __len__(self) -> int:
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
