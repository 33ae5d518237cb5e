"""utils.data: Dataset, TensorDataset, Subset, random_split and DataLoader, against torch.utils.data."""
from __future__ import annotations

import math
import warnings
from collections import OrderedDict, namedtuple
from typing import Any, Callable

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import minitorch_lsm as mt
from helpers import np_of, result_or_raised
from minitorch_lsm.utils import data as mdata

Point = namedtuple("Point", ["x", "label"])


pytestmark = pytest.mark.usefixtures("one_torch_thread")



def describe(value: Any) -> Any:
    """Types, shapes, dtypes and values of a batch, in a form both libraries share."""
    if isinstance(value, (mt.Tensor, torch.Tensor)):
        return ("tensor", tuple(value.shape), str(value.dtype).replace("torch.", ""), np_of(value).tolist())
    if isinstance(value, dict):
        return (type(value).__name__, [(k, describe(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [describe(v) for v in value])
    return (type(value).__name__, value)


class Samples:
    """A map-style dataset of a given kind of sample, in either library (no base class needed)."""

    def __init__(self, lib: Any, kind: str, n: int = 7) -> None:
        self.lib, self.kind, self.n = lib, kind, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> Any:
        lib = self.lib
        kinds: dict[str, Callable[[], Any]] = {
            "tensor": lambda: lib.tensor([[i, i + 1.0], [0.5, -i]]),
            "tensor-0d": lambda: lib.tensor(i * 2),
            "tuple": lambda: (lib.tensor([float(i), 1.0]), i),
            "list": lambda: [i, float(i), True],
            "dict": lambda: {"x": lib.ones(3) * i, "y": float(i), "flag": i % 2 == 0, "name": f"s{i}"},
            "float": lambda: i / 4,
            "int": lambda: i,
            "bool": lambda: i % 3 == 0,
            "numpy": lambda: np.arange(3, dtype=np.float32) + i,
            "numpy-int": lambda: np.array([[i, 2 * i]], dtype=np.int16),
            "numpy-scalar": lambda: np.float64(i) / 3,
            "string": lambda: (f"item{i}", i),
            "namedtuple": lambda: Point(lib.tensor([i, i], dtype=lib.float64), i),
            "nested": lambda: (lib.ones(2), {"a": (i, lib.zeros(1)), "b": [float(i)]}),
            "ordered": lambda: OrderedDict([("z", i), ("a", lib.tensor(float(i)))]),
        }
        return kinds[self.kind]()


class MtSamples(Samples, mdata.Dataset):
    pass


KINDS = ["tensor", "tensor-0d", "tuple", "list", "dict", "float", "int", "bool", "numpy", "numpy-int", "numpy-scalar",
         "string", "namedtuple", "nested", "ordered"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (7, False), (10, False)])
def test_default_collation_matches_torch(kind: str, batch_size: int, drop_last: bool) -> None:
    ours = [describe(b) for b in mdata.DataLoader(MtSamples(mt, kind), batch_size=batch_size, drop_last=drop_last)]
    theirs = [describe(b) for b in tdata.DataLoader(Samples(torch, kind), batch_size=batch_size, drop_last=drop_last)]
    assert ours == theirs


@pytest.mark.parametrize("kind", ["tensor", "tuple", "dict", "numpy", "string", "namedtuple", "nested", "float"])
def test_no_batching_matches_torch(kind: str) -> None:
    ours = [describe(b) for b in mdata.DataLoader(MtSamples(mt, kind), batch_size=None)]
    theirs = [describe(b) for b in tdata.DataLoader(Samples(torch, kind), batch_size=None)]
    assert ours == theirs


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (4, False), (4, True), (10, True), (32, False)])
def test_tensor_dataset_batches_match_torch(batch_size: int, drop_last: bool) -> None:
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    y = np.arange(10) % 3
    w = np.linspace(0, 1, 10)
    ours = mdata.DataLoader(mdata.TensorDataset(mt.tensor(x), mt.tensor(y), mt.tensor(w)), batch_size=batch_size,
                            drop_last=drop_last)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.tensor(x), torch.tensor(y), torch.tensor(w)),
                              batch_size=batch_size, drop_last=drop_last)
    assert [describe(b) for b in ours] == [describe(b) for b in theirs]
    assert len(ours) == len(theirs)


def test_tensor_dataset_and_subset() -> None:
    x, y = mt.arange(12.0).reshape(6, 2), mt.tensor([0, 1, 0, 1, 1, 0])
    ds = mdata.TensorDataset(x, y)
    assert len(ds) == 6 and isinstance(ds, mdata.Dataset)
    xi, yi = ds[4]
    assert xi.tolist() == [8.0, 9.0] and yi.item() == 1
    assert ds[-1][0].tolist() == [10.0, 11.0]
    with pytest.raises(AssertionError, match="Size mismatch"):
        mdata.TensorDataset(x, mt.zeros(5))
    sub = mdata.Subset(ds, [5, 0, 3])
    assert len(sub) == 3 and sub[0][0].tolist() == [10.0, 11.0] and sub[2][1].item() == 1
    with pytest.raises(NotImplementedError):
        mdata.Dataset()[0]


@pytest.mark.parametrize("n", [0, 1, 5, 10, 11, 64, 65])
@pytest.mark.parametrize("batch_size", [1, 3, 10, 64])
@pytest.mark.parametrize("drop_last", [False, True])
def test_len_matches_torch(n: int, batch_size: int, drop_last: bool) -> None:
    ours = mdata.DataLoader(mdata.TensorDataset(mt.zeros(n, 2)), batch_size=batch_size, drop_last=drop_last)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.zeros(n, 2)), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs) == len(list(ours))


def test_loader_arguments_checked_like_torch() -> None:
    ds_m, ds_t = mdata.TensorDataset(mt.zeros(4)), tdata.TensorDataset(torch.zeros(4))
    for kwargs in [dict(batch_size=0), dict(batch_size=-2), dict(batch_size=None, drop_last=True),
                   dict(sampler=[0, 1], shuffle=True), dict(batch_sampler=[[0, 1]], batch_size=2)]:
        ours = result_or_raised(lambda: mdata.DataLoader(ds_m, **kwargs))
        theirs = result_or_raised(lambda: tdata.DataLoader(ds_t, **kwargs))
        assert isinstance(ours, tuple) and ours[:2] == theirs[:2] == ("raised", "ValueError"), kwargs


@pytest.mark.parametrize("kwargs", [dict(batchsize=2), dict(suffle=True), dict(prefetch_factor=None, in_order=True),
                                    dict(persistent_workers=False, pin_memory_device="")])
def test_loader_keywords_are_torchs(kwargs: dict[str, Any]) -> None:
    """A misspelt keyword is a TypeError naming it (it once passed silently: no shuffling, batches of 1)."""
    ours = result_or_raised(lambda: len(mdata.DataLoader(mdata.TensorDataset(mt.zeros(4)), **kwargs)))
    theirs = result_or_raised(lambda: len(tdata.DataLoader(tdata.TensorDataset(torch.zeros(4)), **kwargs)))
    assert ours == theirs


def test_sampler_batch_sampler_and_collate_fn() -> None:
    ds = mdata.TensorDataset(mt.arange(6) * 10)
    assert [b[0].tolist() for b in mdata.DataLoader(ds, batch_size=2, sampler=[5, 4, 0])] == [[50, 40], [0]]
    batches = mdata.DataLoader(ds, batch_sampler=[[1, 2, 3], [0]])
    assert len(batches) == 2 and [b[0].tolist() for b in batches] == [[10, 20, 30], [0]]
    seen: list[Any] = []
    loader = mdata.DataLoader(ds, batch_size=4, collate_fn=lambda batch: seen.append(batch) or len(batch))
    assert list(loader) == [4, 2] and isinstance(seen[0], list) and len(seen[0][0]) == 1


def test_shuffle_is_a_permutation_reproducible_with_a_seeded_generator() -> None:
    ds = mdata.TensorDataset(mt.arange(50))

    def epoch(loader: Any) -> list[int]:
        return [i for (batch,) in loader for i in batch.tolist()]

    a = mdata.DataLoader(ds, batch_size=8, shuffle=True, generator=mt.Generator().manual_seed(3))
    b = mdata.DataLoader(ds, batch_size=8, shuffle=True, generator=mt.Generator().manual_seed(3))
    first_a, first_b = epoch(a), epoch(b)
    assert first_a == first_b and sorted(first_a) == list(range(50)) and first_a != list(range(50))
    second_a, second_b = epoch(a), epoch(b)
    assert second_a == second_b and second_a != first_a  # each epoch reshuffles
    other = epoch(mdata.DataLoader(ds, batch_size=8, shuffle=True, generator=mt.Generator().manual_seed(4)))
    assert other != first_a
    # the global generator: manual_seed makes an unseeded loader repeat
    loader = mdata.DataLoader(ds, batch_size=50, shuffle=True)
    mt.manual_seed(9)
    g1 = epoch(loader)
    mt.manual_seed(9)
    assert epoch(loader) == g1
    dropped = list(mdata.DataLoader(ds, batch_size=8, shuffle=True, drop_last=True))
    assert len(dropped) == 6 and all(len(b[0]) == 8 for b in dropped)


def test_shuffle_keeps_samples_and_labels_together() -> None:
    x = mt.arange(20.0).reshape(10, 2)
    y = mt.arange(10)
    for xb, yb in mdata.DataLoader(mdata.TensorDataset(x, y), batch_size=3, shuffle=True,
                                   generator=mt.Generator().manual_seed(0)):
        assert np.array_equal(np_of(xb)[:, 0], 2 * np_of(yb))


FRACTIONS = [[0.5, 0.5], [0.3, 0.7], [0.8, 0.2], [0.1, 0.2, 0.7], [1 / 3] * 3, [0.25] * 4, [0.6, 0.3, 0.1],
             [0.05, 0.95], [1.0], [0.2] * 5, [0.5, 0.25, 0.125, 0.125]]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 11, 13, 100, 101])
def test_random_split_sizes_match_torch(n: int) -> None:
    for fractions in FRACTIONS:
        with warnings.catch_warnings(record=True) as ours_w:
            warnings.simplefilter("always")
            ours = mdata.random_split(mdata.TensorDataset(mt.arange(n)), fractions)
        with warnings.catch_warnings(record=True) as theirs_w:
            warnings.simplefilter("always")
            theirs = tdata.random_split(tdata.TensorDataset(torch.arange(n)), fractions)
        assert [len(s) for s in ours] == [len(s) for s in theirs], fractions
        assert [str(w.message) for w in ours_w] == [str(w.message) for w in theirs_w]
        indices = sorted(i for s in ours for i in s.indices)
        assert indices == list(range(n))


def test_random_split_lengths_reproducibility_and_errors() -> None:
    ds = mdata.TensorDataset(mt.arange(10) * 3)
    parts = mdata.random_split(ds, [3, 7], generator=mt.Generator().manual_seed(1))
    again = mdata.random_split(ds, [3, 7], generator=mt.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [3, 7]
    assert [p.indices for p in parts] == [p.indices for p in again]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    assert all(isinstance(p, mdata.Subset) for p in parts)
    assert parts[0][0][0].item() == 3 * parts[0].indices[0]
    for lengths in [[3, 3], [5, 6], [0.5, 0.6], [-0.5, 1.5], [1.5, -0.5]]:
        ours = result_or_raised(lambda: mdata.random_split(ds, lengths))
        theirs = result_or_raised(lambda: tdata.random_split(tdata.TensorDataset(torch.arange(10)), lengths))
        assert ours == theirs and ours[0] == "raised", lengths


def test_training_loop_over_a_loader() -> None:
    mt.manual_seed(0)
    x = mt.randn(64, 4)
    y = (x[:, 0] > 0).long()
    model = mt.nn.Sequential(mt.nn.Linear(4, 8), mt.nn.ReLU(), mt.nn.Linear(8, 2))
    opt = mt.optim.Adam(model.parameters(), lr=0.05)
    loader = mdata.DataLoader(mdata.TensorDataset(x, y), batch_size=16, shuffle=True)
    for _ in range(15):
        for xb, yb in loader:
            opt.zero_grad()
            mt.nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
    accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
    assert accuracy > 0.9
    assert math.isfinite(accuracy)
