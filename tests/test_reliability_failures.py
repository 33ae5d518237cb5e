"""Reliability, part 2: a mistake raises what torch raises and changes nothing.

* Atomic failures: an optimizer step that raises (a gradient of the wrong shape, dtype or type; a
  hyperparameter that is not a number), a strict ``load_state_dict`` with a missing, unexpected or
  mis-shaped key, an optimizer ``load_state_dict`` with mismatched groups, ``Module.to`` with a bad
  dtype or device, or a conversion that fails half-way: torch raises too (the same class), and every
  parameter, gradient, buffer and optimizer state of ours is, bit for bit, what it was before.
* Bad input: a table of wrong calls to public functions, each run in torch and in ours: the same
  exception class, a message naming the offending value, inputs unchanged.

Part 1 (``test_reliability.py``): memory, threads, hostile checkpoints.
"""
from __future__ import annotations

import io
from collections import OrderedDict
from typing import Any, Callable

import numpy as np
import pytest
import torch

import minitorch_lsm as mt
from helpers import outcome


# ---------------------------------------------------------------------- snapshots, bit for bit
def _bits(value: Any) -> Any:
    """A comparable picture of a value: tensors by dtype, shape, bytes and requires_grad."""
    if isinstance(value, (mt.Tensor, torch.Tensor)):
        array = value.detach().cpu().numpy()
        return ("tensor", str(value.dtype), tuple(array.shape), array.tobytes(), value.requires_grad)
    if isinstance(value, dict):
        return {k: _bits(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_bits(v) for v in value)
    return value


def snapshot(model: Any, optimizer: Any = None) -> Any:
    """Every parameter (value, identity, version, grad), buffer and the whole optimizer state."""
    def storage(p: Any) -> int:
        return p.data_ptr() if isinstance(p, torch.Tensor) else id(p._data)

    params = {name: (_bits(p), id(p), storage(p), p._version, _bits(p.grad)) for name, p in model.named_parameters()}
    buffers = {name: (_bits(b), id(b)) for name, b in model.named_buffers()}
    state = None
    if optimizer is not None:
        state = ([{k: _bits(v) for k, v in g.items() if k != "params"} for g in optimizer.param_groups],
                 [[id(p) for p in g["params"]] for g in optimizer.param_groups],
                 {id(p): _bits(s) for p, s in optimizer.state.items()})
    return params, buffers, state


class Net:
    """A model with parameters and a buffer, built the same way in both libraries."""

    @staticmethod
    def build(lib: Any) -> Any:
        class Model(lib.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc = lib.nn.Linear(4, 3)
                self.head = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Linear(3, 2))
                self.register_buffer("scale", lib.tensor([1.0, 2.0]))

            def forward(self, x: Any) -> Any:
                return self.head(self.fc(x)) * self.scale

        model = Model()
        rng = np.random.default_rng(0)
        with lib.no_grad():
            for p in model.parameters():
                p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
        return model


OPTIMIZERS: dict[str, Callable[[Any, Any], Any]] = {
    "sgd": lambda lib, p: lib.optim.SGD(p, lr=0.1),
    "sgd-nesterov": lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda lib, p: lib.optim.Adam(p, lr=0.01, weight_decay=0.01),
    "adamw-amsgrad": lambda lib, p: lib.optim.AdamW(p, lr=0.01, amsgrad=True),
}


def trained(lib: Any, name: str, steps: int = 3) -> tuple[Any, Any]:
    """A model and optimizer after a few steps (so there is optimizer state), with fresh gradients."""
    model = Net.build(lib)
    optimizer = OPTIMIZERS[name](lib, model.parameters())
    x = lib.tensor(np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4))
    for _ in range(steps):
        optimizer.zero_grad()
        model(x).sum().backward()
        optimizer.step()
    model(x).pow(2).sum().backward()
    return model, optimizer


# ---------------------------------------------------------------------- a failed optimizer step changes nothing
# the last parameter (head's bias, shape [2]) gets the bad gradient: every other one has been updated by then
BAD_GRADS: dict[str, Callable[[Any], Any]] = {
    "broadcastable-shape": lambda lib: lib.ones(1),       # torch broadcasts this one silently at step()
    "wrong-shape": lambda lib: lib.ones(3),
    "transposed-shape": lambda lib: lib.ones(2, 1),
    "float64": lambda lib: lib.ones(2, dtype=lib.float64),
    "int64": lambda lib: lib.ones(2, dtype=lib.int64),
    "numpy-array": lambda lib: np.ones(2, dtype=np.float32),
}


def _smuggle_grad(param: Any, grad: Any) -> None:
    """Give ``param`` a bad gradient. ``param.grad = grad`` refuses it, as torch does, but a Tensor still gets
    in through ``.grad.data =``, as in torch."""
    try:
        param.grad = grad
    except (RuntimeError, TypeError):
        param.grad = mt.zeros_like(param)
        param.grad.data = grad


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("mistake", [name for name in BAD_GRADS if name != "numpy-array"])  # refused at assignment
def test_a_step_with_a_bad_gradient_raises_like_torch_and_changes_nothing(optimizer: str, mistake: str) -> None:
    theirs, _ = trained(torch, optimizer)
    _, torch_error = outcome(lambda: setattr(list(theirs.parameters())[-1], "grad", BAD_GRADS[mistake](torch)))
    model, opt = trained(mt, optimizer)
    _smuggle_grad(list(model.parameters())[-1], BAD_GRADS[mistake](mt))
    before = snapshot(model, opt)
    with pytest.raises(Exception) as info:
        opt.step()
    assert torch_error is not None and type(info.value) is type(torch_error), (info.value, torch_error)
    assert "parameter 3 of param_groups[0]" in str(info.value) and "nothing was updated" in str(info.value)
    assert snapshot(model, opt) == before


@pytest.mark.parametrize("mistake", ["wrong-shape", "float64", "numpy-array"])
def test_assigning_a_bad_grad_raises_like_torch(mistake: str) -> None:
    _, torch_error = outcome(lambda: setattr(torch.nn.Parameter(torch.ones(2)), "grad", BAD_GRADS[mistake](torch)))
    _, mt_error = outcome(lambda: setattr(mt.nn.Parameter(mt.ones(2)), "grad", BAD_GRADS[mistake](mt)))
    assert torch_error is not None and type(mt_error) is type(torch_error)
    assert str(mt_error) == str(torch_error)


BAD_HYPERPARAMETERS = [("lr", None), ("lr", "0.1"), ("weight_decay", None), ("momentum", "x"), ("dampening", None),
                       ("eps", None), ("eps", "x"), ("betas", (0.9,)), ("betas", None), ("betas", ("a", "b"))]
READS = {"sgd": {"lr", "weight_decay"}, "sgd-nesterov": {"lr", "weight_decay", "momentum", "dampening"},
         "adam": {"lr", "weight_decay", "eps", "betas"}, "adamw-amsgrad": {"lr", "weight_decay", "eps", "betas"}}


@pytest.mark.parametrize("optimizer, key, value", [
    pytest.param(name, key, value, id=f"{name}-{key}={value!r}")
    for name in OPTIMIZERS for key, value in BAD_HYPERPARAMETERS if key in READS[name]])
def test_a_step_with_a_bad_hyperparameter_raises_like_torch_and_changes_nothing(optimizer: str, key: str,
                                                                                value: Any) -> None:
    theirs, their_opt = trained(torch, optimizer)
    their_opt.param_groups[0][key] = value
    _, torch_error = outcome(their_opt.step)
    model, opt = trained(mt, optimizer)
    opt.param_groups[0][key] = value
    before = snapshot(model, opt)
    with pytest.raises(Exception) as info:
        opt.step()
    assert torch_error is not None and type(info.value) is type(torch_error), (info.value, torch_error)
    assert f"param_groups[0]['{key}']" in str(info.value) and repr(value) in str(info.value)
    assert snapshot(model, opt) == before


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_negative_lr_is_refused_at_construction_and_followed_at_step_like_torch(optimizer: str) -> None:
    cls = {"sgd": "SGD", "adam": "Adam"}[optimizer]
    errors = [outcome(lambda lib=lib: getattr(lib.optim, cls)(Net.build(lib).parameters(), lr=-1))[1]
              for lib in (torch, mt)]
    assert type(errors[1]) is type(errors[0]) is ValueError and str(errors[1]) == str(errors[0]) == \
        "Invalid learning rate: -1"
    results = []
    for lib in (torch, mt):  # set later through param_groups, neither checks it: a step goes uphill
        model, opt = trained(lib, optimizer)
        opt.param_groups[0]["lr"] = -0.05
        opt.step()
        results.append([p.detach().numpy().copy() for p in model.parameters()])
    for theirs, ours in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_a_one_element_tensor_lr_works_like_torch_and_a_longer_one_is_refused() -> None:
    results = []
    for lib in (torch, mt):
        model, opt = trained(lib, "sgd")
        opt.param_groups[0]["lr"] = lib.tensor(0.05)
        opt.step()
        results.append([p.detach().numpy().copy() for p in model.parameters()])
    for theirs, ours in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
    errors = [outcome(lambda lib=lib: lib.optim.SGD(Net.build(lib).parameters(), lr=lib.ones(2)))[1]
              for lib in (torch, mt)]
    assert (type(errors[1]), str(errors[1])) == (type(errors[0]), str(errors[0])) == (ValueError,
                                                                                    "Tensor lr must be 1-element")


# ---------------------------------------------------------------------- a failed load_state_dict changes nothing
def _bad_state_dicts(lib: Any) -> dict[str, Any]:
    good = Net.build(lib).state_dict()
    fresh = OrderedDict((k, v.clone() * 0 + 7) for k, v in good.items())  # would be visible if partly written
    missing = OrderedDict((k, v) for k, v in fresh.items() if k != "head.1.bias")
    unexpected = OrderedDict(fresh, **{"head.1.extra": lib.zeros(1), "nothing": lib.zeros(1)})
    shape = OrderedDict(fresh)
    shape["head.1.bias"] = lib.zeros(3)  # the last key: torch has copied all the others by then
    buffer_shape = OrderedDict(fresh)
    buffer_shape["scale"] = lib.zeros(3)
    not_a_tensor = OrderedDict(fresh)
    not_a_tensor["fc.bias"] = [0.0, 0.0, 0.0]
    return {"missing": missing, "unexpected": unexpected, "shape": shape, "buffer-shape": buffer_shape,
            "not-a-tensor": not_a_tensor}


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "non-strict"])
@pytest.mark.parametrize("case", ["missing", "unexpected", "shape", "buffer-shape", "not-a-tensor"])
def test_a_failed_load_state_dict_raises_torchs_error_and_changes_nothing(case: str, strict: bool) -> None:
    _, torch_error = outcome(lambda: Net.build(torch).load_state_dict(_bad_state_dicts(torch)[case], strict=strict))
    model = Net.build(mt)
    before = snapshot(model)
    result, error = outcome(lambda: model.load_state_dict(_bad_state_dicts(mt)[case], strict=strict))
    if torch_error is None:  # non-strict with missing/unexpected keys: loads what matches, in both
        assert error is None and case in ("missing", "unexpected")
        return
    assert error is not None, f"torch raised {torch_error!r}, we did not"
    assert (type(error), str(error).replace("Model", "Net")) == (type(torch_error), str(torch_error).replace("Model", "Net"))
    assert snapshot(model) == before


def test_a_failed_optimizer_load_state_dict_raises_torchs_error_and_changes_nothing() -> None:
    for change in ("fewer-groups", "group-size"):
        errors, snapshots = [], []
        for lib in (torch, mt):
            model, opt = trained(lib, "adam")
            other, other_opt = trained(lib, "adam", steps=5)
            saved = other_opt.state_dict()
            saved["param_groups"][0]["lr"] = 99.0
            if change == "fewer-groups":
                saved["param_groups"] = []
            else:
                saved["param_groups"][0]["params"] = saved["param_groups"][0]["params"][:-1]
            before = snapshot(model, opt)
            errors.append(outcome(lambda: opt.load_state_dict(saved))[1])
            snapshots.append(snapshot(model, opt) == before)
        assert type(errors[1]) is type(errors[0]) is ValueError and str(errors[1]) == str(errors[0])
        assert snapshots[1], f"{change}: the failed load changed our optimizer"


# ---------------------------------------------------------------------- Module.to
BAD_TO: dict[str, Callable[[Any, Any], Any]] = {
    "int-dtype": lambda lib, m: m.to(lib.int64),
    "bool-dtype-keyword": lambda lib, m: m.to(dtype=lib.bool),
    "string-dtype": lambda lib, m: m.to("float64"),
    "unknown-device": lambda lib, m: m.to("gpu"),
    "negative-index": lambda lib, m: m.to("cuda:-1"),
    "unknown-keyword": lambda lib, m: m.to(dtyp=lib.float64),
}


@pytest.mark.parametrize("case", list(BAD_TO))
def test_module_to_with_a_bad_argument_raises_like_torch_and_changes_nothing(case: str) -> None:
    _, torch_error = outcome(lambda: BAD_TO[case](torch, Net.build(torch)))
    model = Net.build(mt)
    before = snapshot(model)
    _, error = outcome(lambda: BAD_TO[case](mt, model))
    assert torch_error is not None and type(error) is type(torch_error), (error, torch_error)
    assert snapshot(model) == before


def test_a_conversion_that_fails_half_way_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    model, _ = trained(mt, "adam")  # with gradients, which are converted too
    before = snapshot(model)
    real_to, calls = mt.Tensor.to, []

    def to_until_the_fourth(self: mt.Tensor, *args: Any, **kwargs: Any) -> mt.Tensor:
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("CUDA out of memory (simulated)")
        return real_to(self, *args, **kwargs)

    monkeypatch.setattr(mt.Tensor, "to", to_until_the_fourth)
    with pytest.raises(RuntimeError, match="simulated"):
        model.double()
    assert snapshot(model) == before
    monkeypatch.undo()
    model.double()
    assert all(p.dtype == mt.float64 and p.grad.dtype == mt.float64 for p in model.parameters())


# ---------------------------------------------------------------------- bad input vs torch
X = np.arange(6, dtype=np.float32).reshape(2, 3)


def F(lib: Any) -> Any:  # noqa: N802
    return lib.nn.functional


def data(lib: Any) -> Any:
    return lib.utils.data


def param(lib: Any) -> Any:
    return [lib.nn.Parameter(lib.ones(2))]


# name: (call(lib, x) with x a fresh tensor holding X, text our message must contain: the offending value)
BAD_CALLS: dict[str, tuple[Callable[[Any, Any], Any], str]] = {
    "zeros-negative-size": (lambda lib, x: lib.zeros(2, -1), "-1"),
    "zeros-float-size": (lambda lib, x: lib.zeros(2.5), "float"),
    "ones-dtype-string": (lambda lib, x: lib.ones(2, dtype="float32"), "str"),
    "full-negative-size": (lambda lib, x: lib.full((2, -3), 1.0), "-3"),
    "arange-zero-step": (lambda lib, x: lib.arange(0, 5, 0), "step"),
    "linspace-negative-steps": (lambda lib, x: lib.linspace(0, 1, -1), "steps"),
    "randint-empty-range": (lambda lib, x: lib.randint(5, 5, (2,)), "from=5 >= to=5"),
    "tensor-of-str": (lambda lib, x: lib.tensor("abc"), "str"),
    "int-tensor-requires-grad": (lambda lib, x: lib.tensor([1, 2], requires_grad=True), "floating point"),
    "add-shapes": (lambda lib, x: x + lib.ones(4), "(4)"),
    "add_-to-int": (lambda lib, x: lib.tensor([1, 2]).add_(1.5), "Long"),
    "add_-shapes": (lambda lib, x: x.add_(lib.ones(4)), "(4)"),
    "matmul-shapes": (lambda lib, x: x @ lib.ones(2, 2), "2x3 and 2x2"),
    "sum-dim-out-of-range": (lambda lib, x: x.sum(dim=2), "got 2"),
    "mean-of-int": (lambda lib, x: lib.tensor([1, 2]).mean(), "Long"),
    "reshape-size": (lambda lib, x: x.reshape(4, 2), "[4, 2]"),
    "transpose-dim": (lambda lib, x: x.transpose(0, 3), "got 3"),
    "cat-shapes": (lambda lib, x: lib.cat([x, lib.ones(2, 2)]), "size 2"),
    "index-out-of-range": (lambda lib, x: x[5], "index 5"),
    "masked_fill-float-mask": (lambda lib, x: x.masked_fill(lib.ones(2, 3), 0.0), "dtype float"),
    "item-of-many": (lambda lib, x: x.item(), "6 elements"),
    "backward-non-scalar": (lambda lib, x: (x.requires_grad_() * 2).backward(), "scalar"),
    "backward-grad-shape": (lambda lib, x: (x.requires_grad_() * 2).backward(lib.ones(3)), "torch.Size([3])"),
    "log_softmax-dim": (lambda lib, x: F(lib).log_softmax(x, dim=2), "got 2"),
    "log_softmax-of-int": (lambda lib, x: F(lib).log_softmax(lib.tensor([[1, 2]]), dim=1), "Long"),
    "softmax-float-dim": (lambda lib, x: F(lib).softmax(x, dim=1.0), "float"),
    "nll-target-out-of-range": (lambda lib, x: F(lib).nll_loss(F(lib).log_softmax(x, 1), lib.tensor([0, 3])), "3"),
    "nll-float-target": (lambda lib, x: F(lib).nll_loss(x, lib.tensor([0.0, 1.0])), "Float"),
    "nll-batch-mismatch": (lambda lib, x: F(lib).nll_loss(x, lib.tensor([0, 1, 2])), "(3)"),
    "nll-bad-reduction": (lambda lib, x: F(lib).nll_loss(x, lib.tensor([0, 1]), reduction="avg"), "avg"),
    "cross_entropy-negative-target": (lambda lib, x: F(lib).cross_entropy(x, lib.tensor([0, -5])), "-5"),
    "cross_entropy-weight-size": (lambda lib, x: F(lib).cross_entropy(x, lib.tensor([0, 1]), weight=lib.ones(2)),
                                  "[2]"),
    "cross_entropy-label-smoothing": (lambda lib, x: F(lib).cross_entropy(x, lib.tensor([0, 1]), label_smoothing=1.5),
                                      "1.5"),
    "Linear-in-features": (lambda lib, x: lib.nn.Linear(4, 2)(x), "2x3"),
    "Linear-negative-size": (lambda lib, x: lib.nn.Linear(-1, 2), "-1"),
    "LogSoftmax-dim": (lambda lib, x: lib.nn.LogSoftmax(dim=3)(x), "got 3"),
    "NLLLoss-reduction": (lambda lib, x: lib.nn.NLLLoss(reduction="bad")(x, lib.tensor([0, 1])), "bad"),
    "Dropout-p": (lambda lib, x: lib.nn.Dropout(p=1.5), "1.5"),
    "Sequential-non-module": (lambda lib, x: lib.nn.Sequential(lib.nn.ReLU(), 3), "int"),
    "register_buffer-float": (lambda lib, x: lib.nn.Module().register_buffer("b", 3.0), "float"),
    "DataLoader-batch_size-0": (lambda lib, x: data(lib).DataLoader(data(lib).TensorDataset(x), batch_size=0),
                                "batch_size=0"),
    "DataLoader-num_workers": (lambda lib, x: data(lib).DataLoader(data(lib).TensorDataset(x), num_workers=-1),
                               "num_workers"),
    "DataLoader-timeout": (lambda lib, x: data(lib).DataLoader(data(lib).TensorDataset(x), timeout=-1), "timeout"),
    "TensorDataset-sizes": (lambda lib, x: data(lib).TensorDataset(x, lib.ones(3)), "Size mismatch"),
    "random_split-lengths": (lambda lib, x: data(lib).random_split(data(lib).TensorDataset(x), [1, 2]), "Sum"),
    "SGD-negative-lr": (lambda lib, x: lib.optim.SGD(param(lib), lr=-1), "-1"),
    "SGD-negative-momentum": (lambda lib, x: lib.optim.SGD(param(lib), lr=0.1, momentum=-0.5), "-0.5"),
    "Adam-beta": (lambda lib, x: lib.optim.Adam(param(lib), betas=(0.9, 1.5)), "1.5"),
    "Adam-negative-eps": (lambda lib, x: lib.optim.Adam(param(lib), eps=-1e-8), "-1e-08"),
    "SGD-a-tensor-as-params": (lambda lib, x: lib.optim.SGD(lib.nn.Parameter(x), lr=0.1), "FloatTensor"),
    "Optimizer.load_state_dict-list": (lambda lib, x: lib.optim.SGD(param(lib)).load_state_dict([{}]), "list"),
    "StepLR-not-an-optimizer": (lambda lib, x: lib.optim.lr_scheduler.StepLR("opt", step_size=2), "str"),
    "to-unknown-device": (lambda lib, x: x.to("gpu"), "gpu"),
    "load-missing-file": (lambda lib, x: lib.load("/nonexistent/model.ckpt"), "/nonexistent/model.ckpt"),
    "eye-negative": (lambda lib, x: lib.eye(-1), "-1"),
    "eye-negative-columns": (lambda lib, x: lib.eye(2, -1), "-1"),
    "randn-negative": (lambda lib, x: lib.randn(-1), "-1"),
    "randperm-negative": (lambda lib, x: lib.randperm(-1), "-1"),
    "init.normal_-int": (lambda lib, x: lib.nn.init.normal_(lib.tensor([1, 2])), "Long"),
    "init.uniform_-int": (lambda lib, x: lib.nn.init.uniform_(lib.tensor([1, 2])), "Long"),
    "set_default_dtype-int": (lambda lib, x: lib.set_default_dtype(lib.int64), "floating-point"),
}



def _check_bad_call(call: Callable[[Any, Any], Any], needle: str) -> None:
    x_torch, x_ours = torch.tensor(X), mt.tensor(X)
    _, torch_error = outcome(lambda: call(torch, x_torch))
    _, error = outcome(lambda: call(mt, x_ours))
    assert torch_error is not None, "torch accepts this call: the table is wrong"
    assert error is not None, f"we accept it; torch raises {type(torch_error).__name__}: {torch_error}"
    assert type(error) is type(torch_error), f"{type(error).__name__}: {error}\ntorch: {type(torch_error).__name__}: " \
                                             f"{torch_error}"
    assert needle in str(error), f"our message does not name the offending value ({needle!r}): {error}"
    assert np.array_equal(x_ours.detach().numpy(), X) and x_ours.grad is None and x_ours._version == 0


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_a_bad_call_raises_torchs_exception_naming_the_value(case: str) -> None:
    _check_bad_call(*BAD_CALLS[case])


def test_duplicate_parameters_warn_like_torch() -> None:
    caught = []
    for lib in (torch, mt):
        p = lib.nn.Parameter(lib.ones(2))
        with pytest.warns(UserWarning) as record:
            lib.optim.SGD([p, p], lr=0.1)
        caught.append([str(w.message) for w in record if "duplicate" in str(w.message)])
    assert caught[1] == caught[0] and len(caught[0]) == 1


def test_a_failed_save_writes_nothing(tmp_path: Any) -> None:
    path = tmp_path / "model.ckpt"
    mt.save({"w": mt.ones(2)}, path)
    good = path.read_bytes()
    with pytest.raises(TypeError, match="cannot save an object of type object"):
        mt.save({"w": mt.zeros(2), "bad": object()}, path)  # torch would pickle it; we refuse before writing
    assert path.read_bytes() == good
    buffer = io.BytesIO()
    with pytest.raises(TypeError):
        mt.save([mt.ones(1), {1, 2}], buffer)
    assert buffer.getvalue() == b""


def test_read_only_memory_warns_like_torch_and_refuses_writes_clearly(monkeypatch, recwarn) -> None:
    """torch warns (once per program) on a non-writable array and then writes into it (undefined
    behaviour); we warn the same, once, and refuse the write with a message naming the cause. An
    optimizer step then changes nothing; an expanded view keeps torch's overlap message."""
    from minitorch_lsm import _creation

    monkeypatch.setattr(_creation, "_read_only_warned", [False])
    array = np.ones(3, np.float32)
    array.flags.writeable = False
    t = mt.from_numpy(array)
    mt.as_tensor(array)
    warned = [str(w.message) for w in recwarn if issubclass(w.category, UserWarning)]
    assert len(warned) == 1 and warned[0].startswith("The given NumPy array is not writable, and PyTorch does not")
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        mt.zeros(3).expand(2, 3).add_(1)
    with pytest.raises(RuntimeError, match="read-only"):
        t.add_(1)
    assert array.tolist() == [1.0, 1.0, 1.0]
    writable, read_only = mt.nn.Parameter(mt.ones(3)), mt.nn.Parameter(mt.from_numpy(array))
    writable.grad, read_only.grad = mt.ones(3), mt.ones(3)
    for optimizer in (mt.optim.SGD([writable, read_only], lr=0.1), mt.optim.Adam([writable, read_only])):
        with pytest.raises(RuntimeError, match="parameter 1 of param_groups\\[0\\] has read-only memory"):
            optimizer.step()
        assert writable.tolist() == [1.0, 1.0, 1.0] and not optimizer.state


NAMESPACE_FUNCTIONS = ("all amax amin any argmax argmin clone empty_like flatten is_floating_point isfinite isinf isnan "
                       "max mean min neg nonzero numel ones_like prod rand_like randn_like relu reshape squeeze std sum "
                       "t unbind var where zeros_like").split()


@pytest.mark.parametrize("name", NAMESPACE_FUNCTIONS)
def test_a_list_for_the_tensor_argument_raises_torchs_type_error(name: str) -> None:
    """``torch.<name>([1.0])``: a TypeError naming the argument and the type, as torch's binding raises (these
    raised AttributeError from inside the op before). Where torch lists its overloads instead, the class."""
    with pytest.raises(TypeError) as theirs:
        getattr(torch, name)([1.0])
    with pytest.raises(TypeError) as ours:
        getattr(mt, name)([1.0])
    expected = str(theirs.value).splitlines()[0]
    if "must be Tensor" in expected:
        assert str(ours.value) == expected
    else:
        assert "must be Tensor, not list" in str(ours.value)
