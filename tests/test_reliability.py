"""Reliability, part 1: memory, threads and hostile checkpoint files.

* Memory: 10,000 steps of the digits MLP keep memory flat, free every step's graph by reference
  counting alone (the garbage collector is off) and leave no reference cycle behind; graphs built
  with ``create_graph=True`` are freed once the gradients that hold them are dropped.
* Threads: grad mode is per thread (as in torch, which is the oracle for what each thread sees), and
  two threads training independent models end with the same weights, bit for bit, as running the two
  trainings one after the other.
* Checkpoints: ``minitorch_lsm.load`` meets truncated, corrupted, random, pickled (with a payload that
  would run a command), torch-written and crafted files (huge sizes, overlapping data, unknown
  dtypes, depth bombs, any JSON in any field), and answers each with a ``CheckpointError`` that names
  the file, quickly, without a large allocation and without running anything.

Part 2 (``test_reliability_failures.py``): failures that leave everything unchanged, bad input vs torch.
"""
from __future__ import annotations

import gc
import hashlib
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
import weakref
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minitorch_lsm as mt
from minitorch_lsm import serialization
from minitorch_lsm.autograd.function import Function
from minitorch_lsm.serialization import CheckpointError


# ---------------------------------------------------------------------- the digits MLP, without scikit-learn
def digits_like(seed: int, n: int = 320) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic stand-ins for the 8x8 digits: pixels 0..16 scaled to [0, 1] around a prototype per class."""
    rng = np.random.default_rng(seed)
    prototypes = rng.integers(0, 17, size=(10, 64))
    labels = rng.integers(0, 10, size=n)
    pixels = np.clip(prototypes[labels] + rng.integers(-3, 4, size=(n, 64)), 0, 16) / 16.0
    return pixels.astype(np.float32), labels.astype(np.int64)


def digits_mlp(lib: Any, seed: int) -> Any:
    """Linear(64, 32)-ReLU-Linear(32, 10)-LogSoftmax with weights drawn from NumPy (no global generator)."""
    nn = lib.nn
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10), nn.LogSoftmax(dim=1))
    rng = np.random.default_rng(seed)
    model.load_state_dict({k: lib.tensor(rng.uniform(-0.2, 0.2, tuple(v.shape)).astype(np.float32))
                           for k, v in model.state_dict().items()})
    return model


def batches(lib: Any, seed: int, size: int = 32) -> list[tuple[Any, Any]]:
    pixels, labels = digits_like(seed)
    return [(lib.tensor(pixels[i:i + size]), lib.tensor(labels[i:i + size])) for i in range(0, len(labels), size)]


def train_step(model: Any, criterion: Any, optimizer: Any, x: Any, y: Any) -> Any:
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


# ---------------------------------------------------------------------- memory
def _live_tensors() -> int:
    return sum(issubclass(type(o), mt.Tensor) for o in gc.get_objects())  # type(): no __class__ lookups


def test_ten_thousand_training_steps_keep_memory_flat() -> None:
    """No graph, saved tensor or gradient outlives its step; memory at step 10,000 is what it was at 1,000.

    tracemalloc makes each step ~4x slower, so it watches the last 1,000 steps (anything a step leaves
    behind would add up there); over steps 1,000..10,000 the allocator's block count and the number of
    live tensors must not grow (each leaked Python object, tensor or array costs at least one block).
    """
    steps, traced_from = 10_000, 9_000
    model, data = digits_mlp(mt, seed=0), batches(mt, seed=0)
    criterion = mt.nn.NLLLoss()
    optimizer = mt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    old: list[weakref.ref[Any]] = []
    losses = []
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()  # whatever is freed below is freed by reference counting: no cycle is needed to free it
    try:
        for step in range(1, steps + 1):
            loss = train_step(model, criterion, optimizer, *data[step % len(data)])
            if step % 500 == 0:
                assert all(ref() is None for ref in old), f"a loss or graph node of an earlier step is alive at {step}"
                old = [weakref.ref(loss), weakref.ref(loss.grad_fn)]
                losses.append(loss.item())
            if step == 1_000:
                blocks, tensors = sys.getallocatedblocks(), _live_tensors()
            if step == traced_from:
                tracemalloc.start()
        grown_bytes, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del loss
        assert all(ref() is None for ref in old)
        grown_blocks, grown_tensors = sys.getallocatedblocks() - blocks, _live_tensors() - tensors
        gc.set_debug(gc.DEBUG_SAVEALL)
        unreachable = gc.collect()
        garbage_types = sorted({type(o).__name__ for o in gc.garbage})
        cyclic_tensors = sum(isinstance(o, (mt.Tensor, Function, np.ndarray)) for o in gc.garbage)
    finally:
        tracemalloc.stop()
        gc.set_debug(0)
        gc.garbage.clear()
        if gc_was_enabled:
            gc.enable()
    assert losses[-1] < losses[0] / 2, f"the model did not learn: {losses}"
    assert grown_bytes < 100_000, f"the last {steps - traced_from} steps left {grown_bytes} bytes allocated"
    assert abs(grown_blocks) < 1_000, f"{grown_blocks} more memory blocks at step {steps} than at step 1,000"
    assert grown_tensors <= 0, f"{grown_tensors} more live tensors at step {steps} than at step 1,000"
    assert cyclic_tensors == 0 and unreachable < 20, \
        f"training created reference cycles: {unreachable} unreachable objects of types {garbage_types}"


def _graph_nodes(root: Any) -> list[Any]:
    """Every tape node reachable from ``root`` (leaves' AccumulateGrad views excluded)."""
    nodes, stack, seen = [], [root], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen or not isinstance(node, Function):
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(fn for fn, _ in node.next_functions)
    return nodes


@pytest.mark.filterwarnings(r"ignore:Using backward\(\) with create_graph=True")
def test_create_graph_graphs_are_freed_when_the_gradients_are_dropped() -> None:
    gc.collect()
    gc.disable()
    try:
        x = mt.tensor([0.5, 1.0, 2.0], requires_grad=True)
        (g,) = mt.autograd.grad((x.exp() * x.sin()).sum(), x, create_graph=True)
        refs = [weakref.ref(n) for n in _graph_nodes(g.grad_fn)]
        assert len(refs) >= 3
        (g * g).sum().backward()  # a second-order gradient through the kept graph
        assert x.grad is not None and x.grad.grad_fn is None
        del g
        assert all(r() is None for r in refs), "the create_graph=True graph outlived its gradient"

        x.grad = None
        (x.exp() * x.sin()).sum().backward(create_graph=True)  # x.grad now carries a graph
        refs = [weakref.ref(n) for n in _graph_nodes(x.grad.grad_fn)]
        assert refs
        x.grad = None
        assert all(r() is None for r in refs), "x.grad's graph outlived x.grad"

        # forgetting to reset .grad makes a cycle (leaf -> .grad -> graph -> leaf), as in torch; unlike in
        # torch (where it leaks for good), the garbage collector frees it
        leaf = mt.tensor([1.0, 2.0], requires_grad=True)
        (leaf * leaf.exp()).sum().backward(create_graph=True)
        leaf_ref = weakref.ref(leaf)
        del leaf
        gc.collect()
        assert leaf_ref() is None
    finally:
        gc.enable()


def test_backward_with_create_graph_warns_about_the_cycle_like_torch() -> None:
    # torch warns once per process (TORCH_WARN_ONCE), so its text comes from a fresh interpreter; ours is a
    # plain warnings.warn, which Python's default filter also shows once per calling line.
    code = ("import warnings, torch\nwarnings.simplefilter('always')\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n"
            "with warnings.catch_warnings(record=True) as w:\n    warnings.simplefilter('always')\n"
            "    (x * x).sum().backward(create_graph=True)\n"
            "print([str(m.message).split(' (Triggered internally')[0] for m in w][0])")
    theirs = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout.strip()
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning) as caught:
        (x * x).sum().backward(create_graph=True)
    ours = [str(w.message) for w in caught if "reference cycle" in str(w.message)]
    assert theirs and ours == [theirs]


# ---------------------------------------------------------------------- threads
def _train(seed: int, optimizer: str, steps: int = 120) -> list[bytes]:
    model, data = digits_mlp(mt, seed), batches(mt, seed)
    make = {"sgd": lambda p: mt.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
            "adam": lambda p: mt.optim.Adam(p, lr=0.01, weight_decay=1e-4)}[optimizer]
    opt, criterion = make(model.parameters()), mt.nn.NLLLoss()
    for step in range(steps):
        train_step(model, criterion, opt, *data[step % len(data)])
    return [v.numpy().tobytes() for v in model.state_dict().values()]


def _in_threads(*jobs: Callable[[], Any]) -> list[Any]:
    """Run the jobs in parallel threads, started together; re-raise the first failure."""
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(jobs))

    def run(i: int) -> None:
        try:
            barrier.wait(10)
            results[i] = jobs[i]()
        except BaseException as error:  # noqa: BLE001 - reported to the main thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


def test_two_threads_training_independent_models_match_sequential_runs_bit_for_bit() -> None:
    sequential = [_train(1, "sgd"), _train(2, "adam")]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so the two trainings really interleave
    try:
        threaded = _in_threads(lambda: _train(1, "sgd"), lambda: _train(2, "adam"))
    finally:
        sys.setswitchinterval(interval)
    assert threaded == sequential


def _grad_mode_interleaving(lib: Any) -> list[tuple[str, bool, bool]]:
    """Two threads change grad mode in a fixed order (Events); each records what it sees."""
    log: list[tuple[str, bool, bool]] = []
    x = lib.ones(2, requires_grad=True)
    a_off, b_looked, b_off, a_looked = (threading.Event() for _ in range(4))

    def seen(what: str) -> None:
        log.append((what, lib.is_grad_enabled(), (x * 2).requires_grad))

    def thread_a() -> None:
        with lib.no_grad():
            a_off.set()
            assert b_looked.wait(10)
            seen("A inside no_grad")
        assert b_off.wait(10)
        seen("A after no_grad, while B has set_grad_enabled(False)")
        a_looked.set()

    def thread_b() -> None:
        assert a_off.wait(10)
        seen("B while A is inside no_grad")
        b_looked.set()
        lib.set_grad_enabled(False)
        b_off.set()
        assert a_looked.wait(10)
        seen("B after set_grad_enabled(False)")

    _in_threads(thread_a, thread_b)
    with lib.no_grad():  # a thread started from inside no_grad still starts with grad mode on
        _in_threads(lambda: seen("new thread started inside the main thread's no_grad"))
    seen("main thread afterwards")
    return log


def test_grad_mode_is_per_thread_like_torch() -> None:
    ours, theirs = _grad_mode_interleaving(mt), _grad_mode_interleaving(torch)
    assert ours == theirs
    assert ours == [("B while A is inside no_grad", True, True), ("A inside no_grad", False, False),
                    ("A after no_grad, while B has set_grad_enabled(False)", True, True),
                    ("B after set_grad_enabled(False)", False, False),
                    ("new thread started inside the main thread's no_grad", True, True),
                    ("main thread afterwards", True, True)]


# ---------------------------------------------------------------------- checkpoints: the files
def _checkpoint_bytes() -> bytes:
    model = digits_mlp(mt, seed=3)
    opt = mt.optim.Adam(model.parameters(), lr=0.01)
    train_step(model, mt.nn.NLLLoss(), opt, *batches(mt, seed=3)[0])
    buffer = io.BytesIO()
    mt.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 1, "note": "digits"}, buffer)
    return buffer.getvalue()


GOOD = _checkpoint_bytes()
GOOD_HEADER_LEN = struct.unpack("<Q", GOOD[8:16])[0]
GOOD_HEADER = json.loads(GOOD[16:16 + GOOD_HEADER_LEN])
GOOD_DATA = GOOD[16 + GOOD_HEADER_LEN:-32]


def named(raw: bytes, name: str = "fuzzed.ckpt") -> io.BytesIO:
    buffer = io.BytesIO(raw)
    buffer.name = name  # type: ignore[attr-defined]  # as an open file has one
    return buffer


def craft(header: Any, data: bytes = GOOD_DATA, raw_header: bytes | None = None) -> bytes:
    """A file around any header, with a valid checksum: only the header checks stand in the way."""
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    body = serialization.MAGIC + struct.pack("<Q", len(text)) + text + data
    return body + hashlib.sha256(body).digest()


def assert_rejected(raw: bytes, *, seconds: float = 2.0, max_bytes: int = 64 * 2 ** 20) -> CheckpointError:
    """Loading ``raw`` raises CheckpointError naming the file, fast and without a big allocation."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(CheckpointError) as info:
            mt.load(named(raw))
        elapsed, (_, peak) = time.perf_counter() - started, tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(info.value).startswith("cannot load 'fuzzed.ckpt': "), str(info.value)
    assert elapsed < seconds, f"took {elapsed:.1f} s: {info.value}"
    assert peak < max_bytes + 3 * len(raw), f"allocated {peak} bytes: {info.value}"
    return info.value


def test_the_intact_checkpoint_loads() -> None:
    loaded = mt.load(named(GOOD))
    assert loaded["epoch"] == 1 and set(loaded["model"]) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert craft(GOOD_HEADER) == GOOD


# ---------------------------------------------------------------------- checkpoints: damaged files
def test_truncations_at_many_lengths_are_rejected(tmp_path: Path) -> None:
    lengths = sorted(set(range(0, 80)) | set(range(0, len(GOOD), 97)) | set(range(len(GOOD) - 80, len(GOOD))))
    path = tmp_path / "truncated.ckpt"
    for length in lengths:
        path.write_bytes(GOOD[:length])
        with pytest.raises(CheckpointError, match=f"cannot load '{path}': "):
            mt.load(path)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(flips=st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(1, 255)), min_size=1, max_size=8))
def test_random_byte_flips_are_rejected(flips: list[tuple[int, int]]) -> None:
    raw = bytearray(GOOD)
    for position, mask in flips:
        raw[position] ^= mask
    if bytes(raw) != GOOD:  # two flips of one byte can cancel out
        assert_rejected(bytes(raw))


@pytest.mark.parametrize("content", [b"", b"\x00", np.random.default_rng(0).bytes(4096), b"PK\x03\x04" + bytes(100),
                                     serialization.MAGIC, serialization.MAGIC + b"\xff" * 8 + bytes(64),
                                     GOOD[:-1] + bytes([GOOD[-1] ^ 1])],
                         ids=["empty", "one-byte", "random", "zip", "magic-only", "huge-header-length", "bad-checksum"])
def test_foreign_and_empty_files_are_rejected(content: bytes) -> None:
    assert_rejected(content)


def test_a_text_mode_file_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "model.ckpt"
    path.write_bytes(b"MTLSMCK1 but text")
    with open(path, encoding="latin-1") as handle, pytest.raises(CheckpointError, match=r"binary mode \('rb'\)"):
        mt.load(handle)


class _RunsACommand:
    """Unpickling this would run ``touch SENTINEL``."""

    def __init__(self, sentinel: Path) -> None:
        self.sentinel = sentinel

    def __reduce__(self) -> Any:
        return (os.system, (f"touch {self.sentinel}",))


def test_pickles_never_run(tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    payload = {"weight": _RunsACommand(sentinel)}
    evil = pickle.dumps(payload)
    torch_file = tmp_path / "evil.pt"
    torch.save(payload, torch_file)  # torch.save pickles it; torch.load(weights_only=False) would run it
    for raw in (evil, torch_file.read_bytes(), craft(None, b"", raw_header=evil), craft(None, evil, raw_header=b"{}")):
        assert_rejected(raw)
    with pytest.raises(CheckpointError, match="torch.save"):
        mt.load(torch_file)
    assert not sentinel.exists(), "loading ran the pickled command"
    pickle.loads(evil)  # the payload is real: unpickling it does run the command
    assert sentinel.exists()


# ---------------------------------------------------------------------- checkpoints: crafted headers
def _entry(**changes: Any) -> dict[str, Any]:
    return {**GOOD_HEADER["tensors"][0], **changes}


def _with_first_entry(**changes: Any) -> bytes:
    return craft({**GOOD_HEADER, "tensors": [_entry(**changes)] + GOOD_HEADER["tensors"][1:]})


HOSTILE: dict[str, Callable[[], bytes]] = {
    "data-bytes-2**62": lambda: craft({**GOOD_HEADER, "data_bytes": 2 ** 62}),
    "shape-2**40-cubed": lambda: _with_first_entry(shape=[2 ** 40] * 3, nbytes=2 ** 120 * 4),
    "shape-zero-times-huge": lambda: _with_first_entry(shape=[0, 2 ** 62, 2 ** 62], nbytes=0),
    "shape-65-dims": lambda: _with_first_entry(shape=[1] * 65, nbytes=4),
    "shape-float": lambda: _with_first_entry(shape=[2.0, 16.0]),
    "nbytes-huge": lambda: _with_first_entry(nbytes=2 ** 70),
    "offset-bool": lambda: _with_first_entry(offset=False),
    # 20,000 entries all pointing at the same 8 KiB: 160 MiB of copies of them if it were allowed
    "overlapping-tensors": lambda: craft({**GOOD_HEADER, "tensors": [_entry(offset=0)] * 20_000}),
    "dtype-complex64": lambda: _with_first_entry(dtype="complex64"),
    "dtype-python-float": lambda: _with_first_entry(dtype="float"),
    "dtype-torch-name": lambda: _with_first_entry(dtype="torch.float32"),
    "dtype-number": lambda: _with_first_entry(dtype=5),
    "dtype-null": lambda: _with_first_entry(dtype=None),
    "dtype-list": lambda: _with_first_entry(dtype=["float32"]),
    "dtype-object": lambda: _with_first_entry(dtype={"name": "float32"}),
    "node-type-list": lambda: craft({**GOOD_HEADER, "tree": {"t": ["dict"], "v": []}}),
    "node-type-object": lambda: craft({**GOOD_HEADER, "tree": {"t": {}, "v": []}}),
    "format-true": lambda: craft({**GOOD_HEADER, "format": True}),
    "json-depth-bomb": lambda: craft(None, raw_header=b"[" * 200_000 + b"]" * 200_000),
    "tree-depth-bomb": lambda: craft({**GOOD_HEADER, "tree": json.loads('{"t": "list", "v": [' * 200 + "]}" * 200)}),
    "dict-depth-bomb": lambda: craft({**GOOD_HEADER, "tree": json.loads(
        '{"t": "dict", "v": [[{"t": "int", "v": 0}, ' * 100 + '{"t": "int", "v": 0}' + "]]}" * 100)}),
    "int-with-5000-digits": lambda: craft(None, raw_header=json.dumps(GOOD_HEADER).replace(
        '"epoch"}, {"t": "int", "v": 1}', '"epoch"}, {"t": "int", "v": 1' + "0" * 5000 + "}").encode()),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_headers_are_rejected_fast_and_small(case: str) -> None:
    raw = HOSTILE[case]()
    if case == "int-with-5000-digits":
        assert len(raw) >= len(GOOD) + 5000
    error = assert_rejected(raw)
    if case.startswith("dtype-"):
        assert "unknown dtype" in str(error)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2 ** 70), 2 ** 70) | st.floats(allow_nan=False)
    | st.text(max_size=4) | st.sampled_from(["tensor", "list", "dict", "odict", "tuple", "float", "int", "float32",
                                             "int64", "bool", "cpu", "nan", "inf"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["t", "v", "i", "dtype", "shape", "offset", "nbytes", "device"]), inner, max_size=3),
    max_leaves=8)


@settings(derandomize=True, max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_json_anywhere_in_the_header_loads_or_raises_checkpoint_error(data: st.DataObject) -> None:
    """Replace one value somewhere in a valid header by arbitrary JSON, keep the checksum valid: the
    result loads, or raises CheckpointError (or, for a cuda device on a machine without one, the
    documented RuntimeError asking for map_location) - never another exception."""
    header = json.loads(json.dumps(GOOD_HEADER))
    parent: Any = {"root": header}
    key: Any = "root"
    while isinstance(parent[key], (dict, list)) and parent[key] and data.draw(st.integers(0, 4), label="descend"):
        parent = parent[key]
        key = data.draw(st.sampled_from(sorted(parent) if isinstance(parent, dict) else range(len(parent))), label="key")
    parent[key] = data.draw(_JSON, label="value")
    try:
        mt.load(named(craft(parent["root"] if key == "root" else header)))
    except CheckpointError as error:
        assert str(error).startswith("cannot load 'fuzzed.ckpt': ")
    except RuntimeError as error:
        assert "map_location" in str(error) and not mt.cuda.is_available()
