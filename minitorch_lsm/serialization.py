"""``save`` / ``load``: checkpoints in a format that holds data only, so loading never runs code.

A file is::

    b"MTLSMCK1"                   8 bytes: magic, format version 1
    header length                 8 bytes, little-endian unsigned
    header                        UTF-8 JSON: the object tree and, per tensor, dtype/shape/offset/size
    tensor bytes                  each tensor's elements, little-endian, C order, back to back
                                  (tensor i starts where tensor i-1 ends, so a file can never ask for more
                                  memory than it holds)
    SHA-256 of everything above   32 bytes

``load`` checks the magic, the length and the checksum before it parses anything, then validates every
field of the header, so a foreign, truncated, corrupted or hostile file gets a ``CheckpointError`` (a
RuntimeError) whose message names the file and what is wrong, and never a crash, a hang, a huge
allocation or code execution (nothing is unpickled; a tensor's bytes must be in the file). Tensors,
numbers, strings, None, and lists, tuples and dicts of them (state dicts, optimizer state) round-trip
bit for bit.

Examples:
    >>> import io, minitorch_lsm as torch
    >>> buffer = io.BytesIO()
    >>> torch.save({"w": torch.tensor([1.5, 2.5]), "step": 3}, buffer)
    >>> _ = buffer.seek(0); torch.load(buffer)
    {'w': tensor([1.5000, 2.5000]), 'step': 3}
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import os
import struct
from collections import OrderedDict
from typing import Any, BinaryIO

import numpy as np

from . import _device, _dtype
from .tensor import Tensor

MAGIC = b"MTLSMCK1"
DIGEST_SIZE = 32
MAX_DEPTH = 64
MAX_NDIM = 64  # NumPy's limit on dimensions
MAX_BYTES = 2 ** 63 - 1  # a shape whose non-zero sizes multiply past this cannot be an array, even empty
_DTYPES = {d.name: d for d in _dtype.ALL_DTYPES}

__all__ = ["save", "load", "CheckpointError"]


class CheckpointError(RuntimeError):
    """The file is not a minitorch_lsm checkpoint, or it is truncated or corrupted (a RuntimeError).

    Examples:
        >>> import io, minitorch_lsm as torch
        >>> try:
        ...     torch.load(io.BytesIO(b"MTLSMCK1 and then garbage"))
        ... except torch.serialization.CheckpointError as error:
        ...     print(isinstance(error, RuntimeError), error)
        True cannot load <BytesIO object>: checkpoint is truncated: only 25 bytes
    """


# ---------------------------------------------------------------------- saving
def _encode(obj: Any, tensors: list[Tensor], depth: int = 0, memo: dict[int, int] | None = None) -> Any:
    """The JSON tree for ``obj``; tensors go to ``tensors`` (once each: a tensor met twice, like a tied
    weight in a state dict, is stored once and loads as one tensor again)."""
    memo = {} if memo is None else memo
    if depth > MAX_DEPTH:
        raise ValueError(f"cannot save an object nested more than {MAX_DEPTH} levels deep")
    if isinstance(obj, Tensor):
        if id(obj) not in memo:
            memo[id(obj)] = len(tensors)
            tensors.append(obj)
        return {"t": "tensor", "i": memo[id(obj)]}
    if obj is None or isinstance(obj, (bool, str)):
        return {"t": type(obj).__name__, "v": obj}
    if isinstance(obj, np.bool_):
        return {"t": "bool", "v": bool(obj)}
    if isinstance(obj, (int, np.integer)):
        return {"t": "int", "v": int(obj)}
    if isinstance(obj, (float, np.floating)):
        return {"t": "float", "v": repr(float(obj))}
    if isinstance(obj, (list, tuple)):
        return {"t": "tuple" if isinstance(obj, tuple) else "list",
                "v": [_encode(item, tensors, depth + 1, memo) for item in obj]}
    if isinstance(obj, dict):
        return {"t": "odict" if isinstance(obj, OrderedDict) else "dict",
                "v": [[_encode(k, tensors, depth + 1, memo), _encode(v, tensors, depth + 1, memo)]
                      for k, v in obj.items()]}
    raise TypeError(f"cannot save an object of type {type(obj).__name__}: only tensors, numbers, strings, None "
                    "and lists, tuples and dicts of them can be saved")


def save(obj: Any, f: str | os.PathLike[str] | BinaryIO, **kwargs: Any) -> None:
    """Write ``obj`` (tensors, numbers, strings, None and nested lists/tuples/dicts) to a path or binary file.

    A tensor that appears twice (tied weights) is stored once and loads as one tensor again.

    Examples:
        >>> import io, minitorch_lsm as torch
        >>> w = torch.tensor([1., 2.]); buffer = io.BytesIO()
        >>> torch.save([w, w], buffer); _ = buffer.seek(0)
        >>> a, b = torch.load(buffer); a is b
        True
    """
    tensors: list[Tensor] = []
    tree = _encode(obj, tensors)
    chunks, entries, offset = [], [], 0
    from .nn.parameter import Parameter

    for t in tensors:
        array = np.ascontiguousarray(_device.move(t.detach()._data, _device.CPU)).astype(t.dtype.np.newbyteorder("<"), copy=False)
        data = array.tobytes()
        entries.append({"dtype": t.dtype.name, "shape": list(t.shape), "offset": offset, "nbytes": len(data),
                        "device": str(t.device), "requires_grad": t.requires_grad,
                        "parameter": isinstance(t, Parameter)})
        chunks.append(data)
        offset += len(data)
    header = json.dumps({"format": 1, "tree": tree, "tensors": entries, "data_bytes": offset}).encode("utf-8")
    body = MAGIC + struct.pack("<Q", len(header)) + header + b"".join(chunks)
    payload = body + hashlib.sha256(body).digest()
    if hasattr(f, "write"):
        f.write(payload)  # type: ignore[union-attr]
    else:
        with open(f, "wb") as handle:  # type: ignore[arg-type]
            handle.write(payload)


# ---------------------------------------------------------------------- loading
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: Any) -> str:
    """``repr(value)``, cut to a readable length (a hostile header can hold anything)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _read(f: Any) -> Any:
    if hasattr(f, "read"):
        return f.read()
    with open(f, "rb") as handle:
        return handle.read()


def _describe(f: Any) -> str:
    """How an error message names the checkpoint: its path, or the file object's name or type."""
    if isinstance(f, (str, os.PathLike)):
        return repr(os.fspath(f))
    name = getattr(f, "name", None)
    if isinstance(name, (str, os.PathLike)):
        return repr(os.fspath(name))
    return f"<{type(f).__name__} object>"


def _split(raw: bytes) -> tuple[dict[str, Any], memoryview]:
    """Check magic, lengths and checksum; return the parsed header and the tensor bytes."""
    if len(raw) < len(MAGIC) or raw[:len(MAGIC)] != MAGIC:
        raise CheckpointError("not a minitorch_lsm checkpoint: the file does not start with the magic bytes "
                              f"{MAGIC!r} (files written by torch.save cannot be read here)")
    if len(raw) < len(MAGIC) + 8 + DIGEST_SIZE:
        raise CheckpointError(f"checkpoint is truncated: only {len(raw)} bytes")
    (header_len,) = struct.unpack("<Q", raw[8:16])
    body_end = len(raw) - DIGEST_SIZE
    if 16 + header_len > body_end:
        raise CheckpointError(f"checkpoint is truncated: the header claims {header_len} bytes but the file has {len(raw)}")
    if hashlib.sha256(memoryview(raw)[:body_end]).digest() != raw[body_end:]:
        raise CheckpointError("checkpoint is corrupted: its SHA-256 checksum does not match its contents")
    try:
        header = json.loads(raw[16:16 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CheckpointError(f"checkpoint header is not valid JSON: {error}") from None
    if not isinstance(header, dict) or not _is_int(header.get("format")) or header["format"] != 1:
        raise CheckpointError("checkpoint header has an unknown format version "
                              f"{_short(header.get('format') if isinstance(header, dict) else None)}")
    data = memoryview(raw)[16 + header_len:body_end]
    if not _is_int(header.get("data_bytes")) or header["data_bytes"] != len(data):
        raise CheckpointError(f"checkpoint is truncated: expected {_short(header.get('data_bytes'))} bytes of tensor data, "
                              f"found {len(data)}")
    return header, data


def _target_device(saved: Any, map_location: Any) -> _device.device:
    try:
        saved_device = _device.device(saved)
    except (TypeError, RuntimeError):
        raise CheckpointError(f"checkpoint names an invalid device {_short(saved)}") from None
    if isinstance(map_location, dict):
        map_location = map_location.get(str(saved_device), str(saved_device))
    if map_location is not None and not isinstance(map_location, (str, _device.device)):
        map_location = str(map_location)  # e.g. a torch.device
    target = _device.device(map_location) if map_location is not None else saved_device
    if target.type == "cuda" and _device.cupy() is None:
        raise RuntimeError("Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
                           "If you are running on a CPU-only machine, please use torch.load with "
                           "map_location=torch.device('cpu') to map your storages to the CPU.")
    return _device.as_device(target)


def _tensor(entry: Any, data: memoryview, start: int, map_location: Any) -> Tensor:
    """The tensor an entry of the tensor table describes; its bytes must begin at ``start``."""
    if not isinstance(entry, dict):
        raise CheckpointError("checkpoint tensor entry is not an object")
    name = entry.get("dtype")
    dtype = _DTYPES.get(name) if isinstance(name, str) else None
    shape, offset, nbytes = entry.get("shape"), entry.get("offset"), entry.get("nbytes")
    if dtype is None:
        raise CheckpointError(f"checkpoint names an unknown dtype {_short(name)}")
    if not (isinstance(shape, list) and len(shape) <= MAX_NDIM and all(_is_int(s) and s >= 0 for s in shape)
            and math.prod(max(s, 1) for s in shape) * dtype.itemsize <= MAX_BYTES):
        raise CheckpointError(f"checkpoint has an invalid tensor shape {_short(shape)}")
    count = math.prod(shape)
    if not (offset == start and _is_int(offset) and _is_int(nbytes) and nbytes == count * dtype.itemsize
            and offset + nbytes <= len(data)):
        raise CheckpointError(f"checkpoint tensor of shape {shape} and dtype {dtype.name} has an invalid byte range: "
                              f"offset {_short(offset)} and size {_short(nbytes)}, expected offset {start} and size "
                              f"{count * dtype.itemsize} within {len(data)} bytes of tensor data")
    array = np.frombuffer(data[offset:offset + nbytes], dtype=dtype.np.newbyteorder("<"), count=count)
    array = array.astype(dtype.np).reshape(shape)
    out = Tensor._from_array(array, _device.CPU).to(_target_device(entry.get("device", "cpu"), map_location))
    requires_grad = entry.get("requires_grad") is True and dtype.is_floating_point
    if entry.get("parameter") is True and dtype.is_floating_point:
        from .nn.parameter import Parameter
        return Parameter(out, requires_grad=requires_grad)
    if requires_grad:
        out.requires_grad_()
    return out


def _decode(node: Any, tensors: list[Tensor], depth: int = 0) -> Any:
    if depth > MAX_DEPTH or not isinstance(node, dict):
        raise CheckpointError("checkpoint object tree is malformed or nested too deeply")
    kind, value = node.get("t"), node.get("v")
    if not isinstance(kind, str):
        raise CheckpointError(f"checkpoint holds a node whose type is not a string: {_short(kind)}")
    simple = {"NoneType": type(None), "bool": bool, "str": str, "int": int}
    if kind == "tensor":
        index = node.get("i")
        if not _is_int(index) or not 0 <= index < len(tensors):
            raise CheckpointError(f"checkpoint refers to a missing tensor {_short(index)}")
        return tensors[index]
    if kind in simple and type(value) is simple[kind]:
        return value
    if kind == "float" and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise CheckpointError(f"checkpoint holds an invalid float {_short(value)}") from None
    if kind in ("list", "tuple") and isinstance(value, list):
        items = [_decode(item, tensors, depth + 1) for item in value]
        return items if kind == "list" else tuple(items)
    if kind in ("dict", "odict") and isinstance(value, list):
        out: dict[Any, Any] = OrderedDict() if kind == "odict" else {}
        for pair in value:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise CheckpointError("checkpoint dict entry is malformed")
            key = _decode(pair[0], tensors, depth + 1)
            try:
                hash(key)
            except TypeError:
                raise CheckpointError("checkpoint dict key is not hashable") from None
            out[key] = _decode(pair[1], tensors, depth + 1)
        return out
    raise CheckpointError(f"checkpoint holds an unknown node type {_short(kind)} (or a value of the wrong type)")


def load(f: str | os.PathLike[str] | BinaryIO, map_location: Any = None, weights_only: bool | None = None,
         **kwargs: Any) -> Any:
    """Read an object written by :func:`save`; ``map_location`` ('cpu', a device, or a dict from saved to
    wanted device) moves its tensors.

    Raises :class:`CheckpointError`, naming the file, for anything but an intact checkpoint (OSErrors such
    as a missing file pass through; asking for a GPU that is not there is a plain RuntimeError, as in torch).

    Examples:
        >>> import io, minitorch_lsm as torch
        >>> buffer = io.BytesIO(); torch.save(torch.nn.Parameter(torch.ones(2)), buffer); _ = buffer.seek(0)
        >>> torch.load(buffer, map_location="cpu")
        Parameter containing:
        tensor([1., 1.], requires_grad=True)
    """
    where = _describe(f)
    raw = _read(f)  # OSErrors (no such file, a folder...) pass through, as in torch
    try:
        if not isinstance(raw, (bytes, bytearray)):
            raise CheckpointError(f"reading it gave {type(raw).__name__}, not bytes: open the file in binary mode ('rb')")
        header, data = _split(bytes(raw))
        entries = header.get("tensors")
        if not isinstance(entries, list):
            raise CheckpointError("checkpoint header has no tensor table")
        tensors, start = [], 0
        for entry in entries:  # back to back: overlapping entries could make a small file fill the memory
            tensors.append(_tensor(entry, data, start, map_location))
            start += tensors[-1].numel() * tensors[-1].element_size()
        if start != len(data):
            raise CheckpointError(f"checkpoint has {len(data) - start} bytes of tensor data that no tensor uses")
        return _decode(header.get("tree"), tensors)
    except CheckpointError as error:
        raise CheckpointError(f"cannot load {where}: {error}") from None
    except (TypeError, ValueError, KeyError, IndexError, OverflowError, RecursionError) as error:
        # a last line of defence: a header that passed every check above but still broke the decoder
        raise CheckpointError(f"cannot load {where}: checkpoint is malformed ({type(error).__name__}: {error})") from None
