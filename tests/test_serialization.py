"""save / load: a data-only checkpoint format that round-trips bit for bit and refuses anything else.

Loading must never run code (there is no pickle anywhere), and a foreign, truncated or corrupted file
must give a ``CheckpointError`` (a RuntimeError), never a crash or a wrong result.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import struct
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import minitorch_lsm as mt
from helpers import check_both, np_of
from minitorch_lsm import serialization
from minitorch_lsm.serialization import CheckpointError

CUDA = mt.cuda.is_available()
requires_cuda = pytest.mark.skipif(not CUDA, reason="minitorch_lsm.cuda is not available")
DTYPES = ["float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool"]


def round_trip(obj: Any, **load_kwargs: Any) -> Any:
    buffer = io.BytesIO()
    mt.save(obj, buffer)
    buffer.seek(0)
    return mt.load(buffer, **load_kwargs)


def saved_bytes(obj: Any) -> bytes:
    buffer = io.BytesIO()
    mt.save(obj, buffer)
    return buffer.getvalue()


def assert_bitwise(a: Any, b: Any) -> None:
    assert type(a) is type(b) or (isinstance(a, mt.Tensor) and isinstance(b, mt.Tensor))
    assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
    x, y = np_of(a), np_of(b)
    assert x.tobytes() == np.ascontiguousarray(y).tobytes()


def _values(dtype: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    info = np.iinfo(dtype) if dtype[0] in "ui" else None
    if info is not None:
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    return (rng.standard_normal(shape) * 1e3).astype(dtype)


# ---------------------------------------------------------------------- round trips
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_and_shape_round_trips_bit_for_bit(dtype: str) -> None:
    rng = np.random.default_rng(0)
    dt = getattr(mt, dtype)
    base = mt.tensor(_values(dtype, (4, 5, 3), rng), dtype=dt)
    cases = [mt.tensor(_values(dtype, (), rng), dtype=dt), mt.zeros(0, dtype=dt), mt.zeros(3, 0, 2, dtype=dt),
             base, base.transpose(0, 2), base[:, ::2], base[1], base.permute(1, 0, 2), base[::2]]
    for t in cases:
        loaded = round_trip(t)
        assert_bitwise(loaded, t)
        assert loaded.device == mt.device("cpu")
        assert not loaded.requires_grad
    for a, b in zip(round_trip(cases), cases):
        assert_bitwise(a, b)
    loaded = round_trip(base)
    loaded[0, 0, 0] = loaded[1, 1, 1]  # a loaded tensor is an ordinary, writable tensor
    assert_bitwise(loaded[0, 0, 0], base[1, 1, 1])


@pytest.mark.parametrize("dtype,bits", [("float16", np.uint16), ("float32", np.uint32), ("float64", np.uint64)])
def test_special_floats_are_preserved_bitwise(dtype: str, bits: Any) -> None:
    specials = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, np.finfo(dtype).tiny / 2,
                         np.finfo(dtype).max, -np.finfo(dtype).eps], dtype=dtype)
    payload = specials.view(bits).copy()
    payload[0] |= 1  # a NaN with a payload
    specials = payload.view(dtype)
    t = mt.tensor(specials)
    loaded = round_trip({"x": t})["x"]
    assert np_of(loaded).view(bits).tolist() == specials.view(bits).tolist()


def test_nested_containers_and_python_values_round_trip() -> None:
    t1, t2 = mt.tensor([1.5, -0.0]), mt.arange(6).reshape(2, 3)
    obj = {
        "a": [t1, (t2, None, "text", True, False), {"deep": [[[t1]]]}],
        3: OrderedDict([("z", 1), ("a", 2.5)]),
        (1, "k"): -7,
        "floats": [float("nan"), float("inf"), -0.0, 1e-310, 2 ** 70, -(2 ** 63)],
        "empty": [[], (), {}],
        None: "none-key",
    }
    loaded = round_trip(obj)
    assert list(loaded) == list(obj)
    assert isinstance(loaded["a"], list) and isinstance(loaded["a"][1], tuple)
    assert_bitwise(loaded["a"][0], t1)
    assert_bitwise(loaded["a"][1][0], t2)
    assert loaded["a"][1][1:] == (None, "text", True, False)
    assert type(loaded["a"][1][3]) is bool
    assert isinstance(loaded[3], OrderedDict) and list(loaded[3].items()) == [("z", 1), ("a", 2.5)]
    assert loaded[(1, "k")] == -7 and loaded[None] == "none-key"
    floats = loaded["floats"]
    assert np.isnan(floats[0]) and floats[1] == float("inf") and str(floats[2]) == "-0.0"
    assert floats[3] == 1e-310 and floats[4] == 2 ** 70 and type(floats[4]) is int and floats[5] == -(2 ** 63)
    assert loaded["empty"] == [[], (), {}]
    assert loaded["a"][2]["deep"][0][0][0] is loaded["a"][0]  # a tensor saved twice loads as one tensor


def test_numpy_scalars_are_saved_as_python_numbers() -> None:
    loaded = round_trip({"i": np.int64(3), "f": np.float32(0.5), "b": np.bool_(True)})
    assert loaded == {"i": 3, "f": 0.5, "b": True} and type(loaded["b"]) is bool


def test_model_and_optimizer_state_dicts_round_trip(tmp_path: Path) -> None:
    mt.manual_seed(0)
    model = mt.nn.Sequential(mt.nn.Linear(4, 8), mt.nn.ReLU(), mt.nn.Linear(8, 3), mt.nn.LogSoftmax(dim=1))
    opt = mt.optim.Adam(model.parameters(), lr=0.01)
    x, y = mt.randn(16, 4), mt.randint(0, 3, (16,))
    for _ in range(3):
        opt.zero_grad()
        mt.nn.functional.nll_loss(model(x), y).backward()
        opt.step()
    path = tmp_path / "ckpt.bin"
    mt.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
    checkpoint = mt.load(path)
    assert checkpoint["epoch"] == 3
    state = checkpoint["optimizer"]
    assert set(state["state"]) == {0, 1, 2, 3} and state["param_groups"][0]["betas"] == (0.9, 0.999)
    fresh = mt.nn.Sequential(mt.nn.Linear(4, 8), mt.nn.ReLU(), mt.nn.Linear(8, 3), mt.nn.LogSoftmax(dim=1))
    fresh.load_state_dict(checkpoint["model"])
    fresh_opt = mt.optim.Adam(fresh.parameters(), lr=0.5)
    fresh_opt.load_state_dict(state)
    assert np.array_equal(np_of(fresh(x)), np_of(model(x)))
    for m, o in ((model, opt), (fresh, fresh_opt)):  # both continue the same way
        o.zero_grad()
        mt.nn.functional.nll_loss(m(x), y).backward()
        o.step()
    for a, b in zip(model.parameters(), fresh.parameters()):
        assert np.array_equal(np_of(a), np_of(b))


def test_parameters_and_requires_grad_are_kept() -> None:
    p = mt.nn.Parameter(mt.ones(2))
    t = mt.ones(2, requires_grad=True)
    loaded = round_trip([p, t, mt.ones(2)])
    assert isinstance(loaded[0], mt.nn.Parameter) and loaded[0].requires_grad
    assert not isinstance(loaded[1], mt.nn.Parameter) and loaded[1].requires_grad and loaded[1].is_leaf
    assert not loaded[2].requires_grad


def test_paths_and_file_objects(tmp_path: Path) -> None:
    t = mt.tensor([[1, 2], [3, 4]], dtype=mt.int16)
    mt.save(t, str(tmp_path / "a.ckpt"))
    assert_bitwise(mt.load(str(tmp_path / "a.ckpt")), t)
    mt.save(t, tmp_path / "b.ckpt")
    assert_bitwise(mt.load(tmp_path / "b.ckpt"), t)
    with open(tmp_path / "c.ckpt", "wb") as f:
        mt.save(t, f)
    with open(tmp_path / "c.ckpt", "rb") as f:
        assert_bitwise(mt.load(f), t)
    assert saved_bytes(t) == (tmp_path / "a.ckpt").read_bytes()  # deterministic bytes


@pytest.mark.parametrize("map_location", ["cpu", mt.device("cpu"), {"cpu": "cpu"}, torch.device("cpu")])
def test_map_location_cpu(map_location: Any) -> None:
    loaded = round_trip({"w": mt.ones(2)}, map_location=map_location)
    assert loaded["w"].device == mt.device("cpu")


def test_unsupported_objects_are_refused_before_writing(tmp_path: Path) -> None:
    for bad in [object(), {"f": lambda: 0}, [1, {2, 3}], torch.ones(2), np.ones(2), b"bytes"]:
        with pytest.raises(TypeError, match="cannot save"):
            mt.save(bad, tmp_path / "bad.ckpt")
        assert not (tmp_path / "bad.ckpt").exists()
    deep: Any = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(ValueError, match="nested"):
        mt.save(deep, tmp_path / "deep.ckpt")


# ---------------------------------------------------------------------- no pickle, ever
def test_no_pickle_is_involved(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("pickle was used")

    for name in ("load", "loads", "dump", "dumps", "Unpickler", "Pickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    obj = {"w": mt.ones(3), "n": [1, 2.0, "x"]}
    loaded = round_trip(obj)
    assert loaded["n"] == [1, 2.0, "x"]
    source = Path(serialization.__file__).read_text()
    assert "import pickle" not in source and "marshal" not in source and "eval(" not in source
    with pytest.raises(TypeError, match="not pickled"):  # tensors refuse to be pickled at all
        mt.ones(1).__reduce_ex__(2)


class _Boom:
    def __reduce__(self) -> Any:
        return (os.system, ("echo pwned > /dev/null",))


def test_a_pickle_file_is_rejected_and_never_executed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    evil = pickle.dumps({"w": _Boom()})
    calls: list[Any] = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or 0)
    path = tmp_path / "evil.ckpt"
    path.write_bytes(evil)
    with pytest.raises(CheckpointError, match="not a minitorch_lsm checkpoint"):
        mt.load(path)
    # even behind the right magic bytes, pickle content is only data the header parser refuses
    raw = serialization.MAGIC + struct.pack("<Q", len(evil)) + evil
    path.write_bytes(raw + hashlib.sha256(raw).digest())
    with pytest.raises(CheckpointError):
        mt.load(path)
    assert calls == []


def test_a_torch_save_file_is_rejected(tmp_path: Path) -> None:
    for legacy in (False, True):
        path = tmp_path / f"torch-{legacy}.pt"
        torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=not legacy)
        with pytest.raises(CheckpointError, match="torch.save"):
            mt.load(path)
    assert issubclass(CheckpointError, RuntimeError)


@pytest.mark.parametrize("content", [b"", b"M", b"MTLSMCK", b"MTLSMCK2" + bytes(64), b"\x00" * 100,
                                     b"PK\x03\x04" + bytes(50), np.random.default_rng(0).bytes(1000)],
                         ids=["empty", "one-byte", "magic-prefix", "other-version", "zeros", "zip", "random"])
def test_foreign_bytes_are_rejected(content: bytes) -> None:
    with pytest.raises(CheckpointError):
        mt.load(io.BytesIO(content))


SMALL = {"w": mt.tensor([[1.0, 2.0]]), "b": mt.tensor([7], dtype=mt.int8), "step": 1}


def test_every_truncation_is_rejected() -> None:
    raw = saved_bytes(SMALL)
    assert len(raw) < 2000
    for length in range(len(raw)):
        with pytest.raises(CheckpointError):
            mt.load(io.BytesIO(raw[:length]))
    with pytest.raises(CheckpointError):
        mt.load(io.BytesIO(raw + b"\x00"))  # a trailing byte breaks the checksum too
    assert_bitwise(mt.load(io.BytesIO(raw))["w"], SMALL["w"])


def test_single_bit_flips_are_rejected() -> None:
    raw = bytearray(saved_bytes(SMALL))
    for position in range(len(raw)):  # every byte, a different bit each time
        flipped = bytearray(raw)
        flipped[position] ^= 1 << (position % 8)
        with pytest.raises(CheckpointError):
            mt.load(io.BytesIO(bytes(flipped)))


def _craft(header: Any, data: bytes = b"", raw_header: bytes | None = None) -> io.BytesIO:
    """A file with a valid checksum around any header: only the parser's checks stand in the way."""
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    body = serialization.MAGIC + struct.pack("<Q", len(text)) + text + data
    return io.BytesIO(body + hashlib.sha256(body).digest())


def _header(tree: Any, tensors: list[Any] | None = None, data_bytes: int = 0) -> dict[str, Any]:
    return {"format": 1, "tree": tree, "tensors": tensors or [], "data_bytes": data_bytes}


ENTRY = {"dtype": "float32", "shape": [2], "offset": 0, "nbytes": 8, "device": "cpu", "requires_grad": False}


CRAFTED = {
    "not-utf8": _craft(None, raw_header=b"\xff\xfe not utf8").getvalue(),
    "not-json": _craft(None, raw_header=b"{not json").getvalue(),
    "json-too-deep": _craft(None, raw_header=b"[" * 100000 + b"]" * 100000).getvalue(),
    "header-not-object": _craft([1, 2]).getvalue(),
    "format-2": _craft({"format": 2, "tree": {"t": "int", "v": 1}, "tensors": [], "data_bytes": 0}).getvalue(),
    "data-bytes-claimed": _craft(_header({"t": "int", "v": 1}, data_bytes=4)).getvalue(),
    "data-bytes-extra": _craft(_header({"t": "int", "v": 1}, data_bytes=0), data=b"xxxx").getvalue(),
    "tensor-table-not-list": _craft(_header({"t": "int", "v": 1}, tensors=None) | {"tensors": "nope"}).getvalue(),
    "missing-tensor": _craft(_header({"t": "tensor", "i": 0})).getvalue(),
    "negative-tensor-index": _craft(_header({"t": "tensor", "i": -1})).getvalue(),
    "unknown-node": _craft(_header({"t": "__reduce__", "v": ["os.system", "echo"]})).getvalue(),
    "int-as-string": _craft(_header({"t": "int", "v": "1"})).getvalue(),
    "bool-as-int": _craft(_header({"t": "bool", "v": 1})).getvalue(),
    "bad-float": _craft(_header({"t": "float", "v": "not a float"})).getvalue(),
    "list-not-list": _craft(_header({"t": "list", "v": {"a": 1}})).getvalue(),
    "dict-pair-short": _craft(_header({"t": "dict", "v": [[{"t": "int", "v": 1}]]})).getvalue(),
    "list-key": _craft(_header({"t": "dict", "v": [[{"t": "list", "v": []}, {"t": "int", "v": 1}]]})).getvalue(),
    "tuple-key-with-list": _craft(_header({"t": "dict", "v": [[{"t": "tuple", "v": [{"t": "list", "v": []}]}, {"t": "int", "v": 1}]]})).getvalue(),
    "tree-too-deep": _craft(_header(json.loads('{"t": "list", "v": [' * 100 + ']}' * 100))).getvalue(),
    "unknown-dtype": _craft(_header({"t": "tensor", "i": 0}, [ENTRY | {"dtype": "complex64"}], 8), data=bytes(8)).getvalue(),
    "shape-size-mismatch": _craft(_header({"t": "tensor", "i": 0}, [ENTRY | {"shape": [3]}], 8), data=bytes(8)).getvalue(),
    "negative-shape": _craft(_header({"t": "tensor", "i": 0}, [ENTRY | {"shape": [-1, -2]}], 8), data=bytes(8)).getvalue(),
    "huge-shape": _craft(_header({"t": "tensor", "i": 0}, [ENTRY | {"shape": [2 ** 40, 2 ** 40, 2 ** 40]}], 8), data=bytes(8)).getvalue(),
    "shape-string": _craft(_header({"t": "tensor", "i": 0}, [ENTRY | {"shape": "2"}], 8), data=bytes(8)).getvalue(),
    "shape-bool": _craft(_header({"t": "tensor", "i": 0}, [ENTRY | {"shape": [True, 2]}], 8), data=bytes(8)).getvalue(),
    "offset-past-end": _craft(_header({"t": "tensor", "i": 0}, [ENTRY | {"offset": 4}], 8), data=bytes(8)).getvalue(),
    "negative-offset": _craft(_header({"t": "tensor", "i": 0}, [ENTRY | {"offset": -4}], 8), data=bytes(8)).getvalue(),
    "nbytes-wrong": _craft(_header({"t": "tensor", "i": 0}, [ENTRY | {"nbytes": 4}], 8), data=bytes(8)).getvalue(),
    "device-unknown": _craft(_header({"t": "tensor", "i": 0}, [ENTRY | {"device": "tpu:0"}], 8), data=bytes(8)).getvalue(),
    "device-int": _craft(_header({"t": "tensor", "i": 0}, [ENTRY | {"device": 5}], 8), data=bytes(8)).getvalue(),
    "entry-not-object": _craft(_header({"t": "tensor", "i": 0}, ["not an entry"], 8), data=bytes(8)).getvalue(),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_headers_with_a_valid_checksum_are_rejected(case: str) -> None:
    with pytest.raises(CheckpointError):
        mt.load(io.BytesIO(CRAFTED[case]))


def test_a_crafted_but_valid_file_loads() -> None:
    data = np.array([1.5, -2.0], dtype="<f4").tobytes()
    loaded = mt.load(_craft(_header({"t": "list", "v": [{"t": "tensor", "i": 0}, {"t": "float", "v": "nan"}]},
                                    [ENTRY], 8), data=data))
    assert loaded[0].tolist() == [1.5, -2.0] and np.isnan(loaded[1])


@pytest.mark.skipif(CUDA, reason="checks the message on a machine without a GPU")
def test_a_cuda_checkpoint_needs_map_location_without_a_gpu() -> None:
    data = np.array([1.5, -2.0], dtype="<f4").tobytes()
    crafted = _header({"t": "tensor", "i": 0}, [ENTRY | {"device": "cuda:0"}], 8)
    with pytest.raises(RuntimeError, match="map_location"):
        mt.load(_craft(crafted, data=data))
    for where in ["cpu", {"cuda:0": "cpu"}, mt.device("cpu")]:
        loaded = mt.load(_craft(crafted, data=data), map_location=where)
        assert loaded.device == mt.device("cpu") and loaded.tolist() == [1.5, -2.0]


@requires_cuda
def test_cuda_tensors_round_trip_and_map_to_cpu() -> None:
    t = mt.arange(6.0, device="cuda").reshape(2, 3).t()
    loaded = round_trip({"t": t})["t"]
    assert loaded.device.type == "cuda"
    assert_bitwise(loaded, t)
    on_cpu = round_trip({"t": t}, map_location="cpu")["t"]
    assert on_cpu.device == mt.device("cpu") and np.array_equal(np_of(on_cpu), np_of(t))
    to_gpu = round_trip({"t": mt.ones(2)}, map_location="cuda")["t"]
    assert to_gpu.device.type == "cuda"


def test_checkpoint_module_imports_no_pickle() -> None:
    modules = {name for name, value in vars(serialization).items() if type(value) is type(sys)}
    assert modules.isdisjoint({"pickle", "marshal", "dill", "cloudpickle", "shelve"})


def test_copy_copy_shares_memory_as_in_torch():
    """copy.copy: a leaf over the same memory, the same flag, no history, no .grad, a subclass's class."""
    import copy

    def run(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        x.grad = lib.ones(2)
        y = x * 2
        copies = [copy.copy(x), copy.copy(y), copy.copy(lib.ones(2)), copy.copy(lib.nn.Parameter(lib.ones(2)))]
        plain = lib.zeros(2)
        shared = copy.copy(plain)
        shared[0] = 5.0
        return ([(type(c).__name__, c.requires_grad, c.is_leaf, c.grad_fn, c.grad, c._is_view()) for c in copies],
                plain, shared)
    check_both(run)


def test_deepcopy_keeps_tensors_that_shared_memory_sharing_it():
    import copy

    def run(lib):
        u = lib.arange(6.0)
        whole, grid, odd = copy.deepcopy([u, u.view(2, 3), u[1::2]])
        whole[1] = 100.0
        first, second = copy.deepcopy([u[2:4], u[3:5]])
        first[1] = -1.0
        transposed = copy.deepcopy(lib.ones(3, 2).t())
        return grid, odd, u, odd.stride(), second, transposed.stride(), transposed
    check_both(run)
