"""nn.Module, nn.Parameter, the containers, the simple layers and nn.init, checked against PyTorch.

Most checks build the same thing in both libraries with a function ``build(lib)`` and compare what the
two report: names, reprs, results of ``load_state_dict``, and error messages (``str(e)``).
"""
from __future__ import annotations

import copy
import math
import warnings
from collections import OrderedDict
from typing import Any, Callable

import numpy as np
import pytest
import torch

import minitorch_lsm as mt
from helpers import CUDA, DEVICES, check_both, np_of, result_or_raised, same


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ---------------------------------------------------------------------- helpers


def to_torch_state(state: dict[str, Any]) -> "OrderedDict[str, torch.Tensor]":
    return OrderedDict((k, torch.from_numpy(np_of(v))) for k, v in state.items())


def to_mt_state(state: dict[str, Any]) -> "OrderedDict[str, mt.Tensor]":
    return OrderedDict((k, mt.tensor(np_of(v))) for k, v in state.items())


def net_with_everything(lib: Any) -> Any:
    """A custom module with parameters, persistent and non-persistent buffers, a None parameter and
    nested containers."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(3, 4)
            self.register_buffer("running_mean", lib.zeros(4))
            self.register_buffer("scratch", lib.ones(2), persistent=False)
            self.register_buffer("missing", None)

        def forward(self, x: Any) -> Any:
            return self.fc(x) - self.running_mean

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(lib.tensor(2.0))
            self.register_parameter("unused", None)
            self.block = Block()
            self.layers = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Dropout(0.25))
            self.heads = nn.ModuleDict({"a": nn.Linear(5, 2), "b": nn.Sequential(nn.Tanh(), nn.Linear(5, 3))})
            self.extras = nn.ModuleList([nn.Identity(), nn.Flatten()])
            self.register_buffer("steps", lib.tensor(0))

        def forward(self, x: Any) -> Any:
            h = self.layers(self.block(x)) * self.scale
            return self.heads["a"](h), self.heads["b"](h)

    return Net()


def names(pairs: Any) -> list[str]:
    return [name for name, _ in pairs]


# ---------------------------------------------------------------------- registration and traversal
def test_attribute_assignment_registers_parameters_buffers_and_modules() -> None:
    same(lambda lib: names(net_with_everything(lib).named_parameters()))
    same(lambda lib: names(net_with_everything(lib).named_buffers()))
    same(lambda lib: names(net_with_everything(lib).named_children()))
    same(lambda lib: names(net_with_everything(lib).named_modules()))
    same(lambda lib: [type(m).__name__ for m in net_with_everything(lib).modules()])
    same(lambda lib: [type(m).__name__ for m in net_with_everything(lib).children()])
    same(lambda lib: [tuple(p.shape) for p in net_with_everything(lib).parameters()])
    same(lambda lib: [tuple(b.shape) for b in net_with_everything(lib).buffers()])
    same(lambda lib: names(net_with_everything(lib).named_parameters(recurse=False)))
    same(lambda lib: names(net_with_everything(lib).named_buffers(prefix="model")))
    same(lambda lib: names(net_with_everything(lib).named_modules(prefix="root")))
    same(lambda lib: sorted(net_with_everything(lib)._parameters))
    net = net_with_everything(mt)
    assert isinstance(net.scale, mt.nn.Parameter) and net.unused is None
    assert net.block.scratch.tolist() == [1.0, 1.0] and net.block.missing is None


def shared_and_tied(lib: Any) -> Any:
    nn = lib.nn
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, nn.ReLU(), shared, nn.Linear(2, 2), nn.Linear(2, 2))
    net[4].weight = net[3].weight  # a tied weight (re-assigned, so position matters)
    return net


def test_shared_modules_and_tied_parameters_are_listed_as_torch_lists_them() -> None:
    same(lambda lib: names(shared_and_tied(lib).named_parameters()))
    same(lambda lib: names(shared_and_tied(lib).named_parameters(remove_duplicate=False)))
    same(lambda lib: names(shared_and_tied(lib).named_modules()))
    same(lambda lib: names(shared_and_tied(lib).named_children()))
    same(lambda lib: list(shared_and_tied(lib).state_dict()))  # state_dict keeps duplicates
    same(lambda lib: len(list(shared_and_tied(lib).parameters())))


def test_reassignment_keeps_position_and_moves_between_kinds() -> None:
    def build(lib: Any) -> Any:
        m = lib.nn.Linear(2, 3)
        m.weight = lib.nn.Parameter(lib.zeros(3, 2))  # keeps its place before bias
        m.extra = lib.nn.Parameter(lib.ones(1))
        m.act = lib.nn.ReLU()
        m.act = lib.nn.Tanh()  # a module re-assigned keeps its place
        m.plain = 3
        m.plain = lib.nn.Parameter(lib.ones(1))  # a plain attribute becomes a parameter
        return names(m.named_parameters()), repr(m), list(m.state_dict()), "plain" in m.__dict__

    same(build)
    for lib in (mt, torch):  # a module cannot take a parameter's name (torch spells the type in full)
        with pytest.raises(TypeError, match="as parameter 'weight'"):
            lib.nn.Linear(2, 2).weight = lib.nn.ReLU()

    def set_none(lib: Any) -> Any:
        m = lib.nn.Linear(2, 3)
        m.bias = None
        return list(m.state_dict()), m.bias

    same(set_none)


@pytest.mark.parametrize("case", [
    lambda lib: setattr(lib.nn.Linear(2, 2), "weight", lib.zeros(2, 2)),
    lambda lib: setattr(lib.nn.Sequential(lib.nn.ReLU()), "0", 3),
    lambda lib: lib.nn.Linear(2, 2).register_buffer("weight", lib.zeros(1)),
    lambda lib: lib.nn.Sequential(lib.nn.ReLU()).register_buffer("0", lib.zeros(1)),
    lambda lib: lib.nn.Linear(2, 2).register_buffer("a.b", lib.zeros(1)),
    lambda lib: lib.nn.Linear(2, 2).register_buffer("", lib.zeros(1)),
    lambda lib: lib.nn.Linear(2, 2).register_buffer(3, lib.zeros(1)),
    lambda lib: lib.nn.Linear(2, 2).register_buffer("b", [1.0]),
    lambda lib: lib.nn.Linear(2, 2).register_parameter("p", lib.zeros(1)),
    lambda lib: lib.nn.Linear(2, 2).register_parameter("in_features", lib.nn.Parameter(lib.zeros(1))),
    lambda lib: lib.nn.Linear(2, 2).register_parameter("x.y", None),
    lambda lib: lib.nn.Linear(2, 2).add_module("weight", lib.nn.ReLU()),
    lambda lib: lib.nn.Linear(2, 2).add_module("forward", lib.nn.ReLU()),
    lambda lib: lib.nn.Linear(2, 2).add_module("m", 3),
    lambda lib: lib.nn.Linear(2, 2).nothing,
    lambda lib: lib.nn.Module()(1),
    lambda lib: lib.nn.Linear(2, 2).train("yes"),
], ids=["tensor-as-param", "int-as-module", "buffer-over-param", "buffer-over-module", "buffer-dot", "buffer-empty",
        "buffer-int-name", "buffer-list", "param-plain-tensor", "param-over-attribute", "param-dot",
        "module-over-param", "module-over-method", "module-not-module", "missing-attribute", "no-forward",
        "train-not-bool"])
def test_registration_errors_match_torch(case: Callable[[Any], Any]) -> None:
    result = same(case)
    assert isinstance(result, tuple) and result[0] == "raised"


def test_registering_before_init_is_an_error() -> None:
    class Early(mt.nn.Module):
        def __init__(self) -> None:
            self.w = mt.nn.Parameter(mt.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_delattr_unregisters() -> None:
    def build(lib: Any) -> Any:
        m = net_with_everything(lib)
        del m.scale, m.block.running_mean, m.heads
        return names(m.named_parameters()), names(m.named_buffers()), list(m.state_dict())

    same(build)


def test_forward_and_call() -> None:
    class Double(mt.nn.Module):
        def forward(self, x: Any, *, times: int = 2) -> Any:
            return x * times

    m = Double()
    assert m(mt.tensor([1.0, 2.0])).tolist() == [2.0, 4.0]
    assert m(mt.tensor([1.0]), times=3).tolist() == [3.0]
    net = net_with_everything(mt)
    a, b = net(mt.ones(6, 3))
    assert a.shape == (6, 2) and b.shape == (6, 3) and a.requires_grad


def test_train_eval_and_training_flags() -> None:
    def flags(lib: Any) -> Any:
        net = net_with_everything(lib)
        out = [[m.training for m in net.modules()]]
        assert net.eval() is net
        out.append([m.training for m in net.modules()])
        net.layers.train()
        out.append([m.training for m in net.modules()])
        net.train(False)
        out.append([m.training for m in net.modules()])
        return out

    same(flags)

    class Frozen(mt.nn.Module):  # a child that overrides train() is asked, as torch asks it
        def train(self, mode: bool = True) -> "Frozen":
            return super().train(False)

    outer = mt.nn.Sequential(mt.nn.ReLU(), Frozen())
    outer.train()
    assert outer.training and not outer[1].training


def test_zero_grad_and_requires_grad_() -> None:
    net = mt.nn.Sequential(mt.nn.Linear(3, 2), mt.nn.Linear(2, 1))
    (net(mt.ones(4, 3)).sum() * float("inf")).backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None for g in grads)
    net.zero_grad(set_to_none=False)
    for p, g in zip(net.parameters(), grads):
        assert p.grad is g  # zeroed in place, as torch does (inf * 0 would have given nan)
        assert np.array_equal(np_of(p.grad), np.zeros(tuple(p.shape), dtype=np.float32))
        assert not p.grad.requires_grad
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    assert not net(mt.ones(1, 3)).requires_grad
    net.requires_grad_()
    assert all(p.requires_grad for p in net.parameters())


def test_to_dtype_casts_floating_state_in_place() -> None:
    net = net_with_everything(mt)
    params = list(net.parameters())
    net(mt.ones(2, 3))[0].sum().backward()
    assert net.double() is net
    assert [p is q for p, q in zip(net.parameters(), params)] == [True] * len(params)
    assert all(p.dtype == mt.float64 for p in net.parameters())
    assert all(p.grad is None or p.grad.dtype == mt.float64 for p in net.parameters())
    assert net.block.running_mean.dtype == mt.float64 and net.block.scratch.dtype == mt.float64
    assert net.steps.dtype == mt.int64  # integer buffers are left alone
    assert net(mt.ones(2, 3, dtype=mt.float64))[0].dtype == mt.float64
    assert net.float() is net and all(p.dtype == mt.float32 for p in net.parameters())
    assert net.to(mt.float64).scale.dtype == mt.float64
    assert net.to(dtype=mt.float32).scale.dtype == mt.float32
    assert net.to("cpu") is net and net.cpu() is net and net.scale.device == mt.device("cpu")
    assert net.to(mt.zeros(1, dtype=mt.float64)).scale.dtype == mt.float64
    same(lambda lib: lib.nn.Linear(2, 2).to(lib.int64))


@pytest.mark.skipif(CUDA, reason="checks the error without a GPU")
def test_cuda_without_a_gpu_raises_and_changes_nothing() -> None:
    net = mt.nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="CUDA"):
        net.cuda()
    assert net.weight.device == mt.device("cpu")


@pytest.mark.parametrize("device", DEVICES)
def test_module_to_device_round_trip(device: str) -> None:
    net = net_with_everything(mt)
    before = {k: np_of(v) for k, v in net.state_dict().items()}
    weight = net.block.fc.weight
    (net.cuda() if device == "cuda" else net.to(device))
    assert net.block.fc.weight is weight and weight.device.type == device
    assert all(b.device.type == device for b in net.buffers())
    out = net(mt.ones(2, 3, device=device))[0]
    assert out.device.type == device
    net.cpu()
    assert all(np.array_equal(before[k], np_of(v)) for k, v in net.state_dict().items())


# ---------------------------------------------------------------------- state dicts
def test_state_dict_keys_values_and_detach() -> None:
    same(lambda lib: list(net_with_everything(lib).state_dict()))
    same(lambda lib: list(net_with_everything(lib).state_dict(prefix="model.")))
    net = net_with_everything(mt)
    state = net.state_dict()
    assert all(not v.requires_grad for v in state.values())
    state["block.fc.bias"][0] = 42.0  # the values share memory with the parameters, as in torch
    assert net.block.fc.bias[0].item() == 42.0
    kept = net.state_dict(keep_vars=True)
    assert kept["scale"] is net.scale and kept["block.running_mean"] is net.block.running_mean
    assert isinstance(state, OrderedDict)


def test_load_state_dict_copies_and_casts() -> None:
    src, dst = net_with_everything(mt), net_with_everything(mt)
    src.steps.fill_(7)
    state = {k: (v.double() if v.dtype == mt.float32 else v) for k, v in src.state_dict().items()}
    weight = dst.block.fc.weight
    result = dst.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == repr(torch.nn.Linear(1, 1).load_state_dict(torch.nn.Linear(1, 1).state_dict()))
    assert dst.block.fc.weight is weight and weight.dtype == mt.float32 and weight.requires_grad
    for key, value in src.state_dict().items():
        assert np.array_equal(np_of(dst.state_dict()[key]), np_of(value)), key
    state["block.fc.weight"].fill_(0.0)  # copied, not aliased
    assert not np.array_equal(np_of(dst.block.fc.weight), np.zeros((4, 3), np.float32))


def test_load_state_dict_round_trip_with_torch() -> None:
    ours = net_with_everything(mt)
    theirs = net_with_everything(torch)
    assert theirs.load_state_dict(to_torch_state(ours.state_dict())) .missing_keys == []
    fresh = net_with_everything(mt)
    fresh.load_state_dict(to_mt_state(theirs.state_dict()))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    ours.eval(), theirs.eval(), fresh.eval()
    for a, b, c in zip(ours(mt.tensor(x)), theirs(torch.tensor(x)), fresh(mt.tensor(x))):
        np.testing.assert_allclose(np_of(a), b.detach().numpy(), rtol=1e-5, atol=1e-6)
        assert np.array_equal(np_of(a), np_of(c))


def _partial_states(lib: Any) -> dict[str, Any]:
    full = net_with_everything(lib).state_dict()
    drop = {k: v for k, v in full.items() if k not in ("block.fc.bias", "steps")}
    extra = OrderedDict(full)
    extra["block.fc.extra"] = lib.zeros(1)
    extra["nothing.here"] = lib.zeros(1)
    extra["heads.a.weight.deeper"] = lib.zeros(1)
    extra["zzz"] = lib.zeros(1)
    extra.move_to_end("block.fc.extra", last=False)
    bad_shape = OrderedDict(full)
    bad_shape["layers.0.weight"] = lib.zeros(2, 2)
    bad_shape["block.running_mean"] = lib.zeros(5)
    not_tensor = OrderedDict(full)
    not_tensor["scale"] = 3.0
    everything = OrderedDict((k, v) for k, v in bad_shape.items() if k != "heads.b.1.bias")
    everything["unknown"] = lib.zeros(1)
    everything["scale"] = [1.0]
    return {"missing": drop, "unexpected": extra, "size": bad_shape, "not-tensor": not_tensor, "all": everything,
            "empty": {}}


@pytest.mark.parametrize("case", ["missing", "unexpected", "size", "not-tensor", "all", "empty"])
def test_load_state_dict_errors_match_torch_and_change_nothing(case: str) -> None:
    def strict_load(lib: Any) -> Any:
        return net_with_everything(lib).load_state_dict(_partial_states(lib)[case])

    ours = same(strict_load)
    assert ours[0] == "raised" and ours[1] == "RuntimeError"
    assert ours[2].startswith("Error(s) in loading state_dict for Net:\n\t")
    # atomic: a failed load leaves every parameter and buffer as it was (torch copies what it can)
    net = net_with_everything(mt)
    before = {k: np_of(v) for k, v in net.state_dict().items()}
    states = _partial_states(mt)
    for value in states[case].values():
        if isinstance(value, mt.Tensor):
            value.fill_(123)
    with pytest.raises(RuntimeError):
        net.load_state_dict(states[case])
    after = net.state_dict()
    assert list(after) == list(before)
    assert all(np.array_equal(before[k], np_of(after[k])) for k in before)


@pytest.mark.parametrize("case", ["missing", "unexpected", "empty"])
def test_load_state_dict_non_strict_result_matches_torch(case: str) -> None:
    def loose_load(lib: Any) -> Any:
        result = net_with_everything(lib).load_state_dict(_partial_states(lib)[case], strict=False)
        return result.missing_keys, result.unexpected_keys, repr(result).replace("_IncompatibleKeys", "")

    same(loose_load)
    result = net_with_everything(mt).load_state_dict(_partial_states(mt)[case], strict=False)
    assert result._fields == ("missing_keys", "unexpected_keys")


def test_load_state_dict_non_strict_still_refuses_bad_shapes() -> None:
    same(lambda lib: net_with_everything(lib).load_state_dict(_partial_states(lib)["size"], strict=False))


def test_load_state_dict_one_element_into_zero_dim_and_assign() -> None:
    def load_scalar(lib: Any) -> Any:
        net = net_with_everything(lib)
        net.load_state_dict({"scale": lib.tensor([5.0])}, strict=False)
        return net.scale.item(), tuple(net.scale.shape)

    same(load_scalar)
    net = mt.nn.Linear(2, 2)
    new = mt.ones(2, 2, dtype=mt.float64)
    net.load_state_dict({"weight": new, "bias": mt.zeros(2)}, assign=True)
    assert isinstance(net.weight, mt.nn.Parameter) and net.weight.dtype == mt.float64 and net.weight.requires_grad
    new[0, 0] = 9.0
    assert net.weight[0, 0].item() == 9.0  # assign=True keeps the given storage


def test_load_state_dict_rejects_non_mappings() -> None:
    with pytest.raises(TypeError, match="dict-like"):
        mt.nn.Linear(2, 2).load_state_dict([("weight", mt.zeros(2, 2))])  # type: ignore[arg-type]


def test_apply_order_and_register_helpers() -> None:
    def visit(lib: Any) -> Any:
        seen: list[str] = []
        net = net_with_everything(lib)
        assert net.apply(lambda m: seen.append(type(m).__name__)) is net
        return seen

    same(visit)

    def zero_linears(lib: Any) -> Any:
        net = net_with_everything(lib)
        net.apply(lambda m: lib.nn.init.zeros_(m.weight) if isinstance(m, lib.nn.Linear) else None)
        return [float(abs(p.detach()).sum()) for n, p in net.named_parameters() if n.endswith("weight")]

    same(zero_linears)


# ---------------------------------------------------------------------- repr
class _Custom:
    """Builds a custom module with an extra_repr and nested containers in either library."""

    @staticmethod
    def build(lib: Any) -> Any:
        nn = lib.nn

        class Attention(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.heads = 4
                self.proj = nn.Linear(8, 8, bias=False)

            def extra_repr(self) -> str:
                return f"heads={self.heads}"

        class Multi(nn.Module):
            def extra_repr(self) -> str:
                return "line one\nline two"

        return nn.Sequential(OrderedDict([
            ("embed", nn.Linear(4, 8)),
            ("blocks", nn.ModuleList([Attention() for _ in range(3)] + [nn.ReLU(), nn.ReLU(inplace=True)])),
            ("heads", nn.ModuleDict({"cls": nn.Sequential(nn.Dropout(0.1), nn.Linear(8, 2)), "id": nn.Identity()})),
            ("multi", Multi()),
            ("empty", nn.Sequential()),
            ("emptylist", nn.ModuleList()),
            ("out", nn.Sequential(nn.Flatten(0, -1), nn.Tanh(), nn.Sigmoid(), nn.LogSoftmax(dim=0))),
        ]))


@pytest.mark.parametrize("build", [
    _Custom.build,
    lambda lib: net_with_everything(lib),
    lambda lib: lib.nn.Sequential(lib.nn.Sequential(lib.nn.Sequential(lib.nn.Linear(1, 1)))),
    lambda lib: lib.nn.ModuleList([lib.nn.Linear(2, 2), lib.nn.Linear(2, 2), lib.nn.Linear(2, 3),
                                   lib.nn.Sequential(lib.nn.ReLU()), lib.nn.Sequential(lib.nn.ReLU())]),
    lambda lib: lib.nn.Linear(3, 1, bias=False),
    lambda lib: lib.nn.Dropout(p=0.3),
], ids=["custom", "net", "deep", "modulelist-runs", "linear", "dropout"])
def test_repr_matches_torch(build: Callable[[Any], Any]) -> None:
    same(lambda lib: repr(build(lib)))


# ---------------------------------------------------------------------- Parameter
def test_parameter() -> None:
    same(lambda lib: repr(lib.nn.Parameter(lib.tensor([1.0, 2.0]))))
    same(lambda lib: repr(lib.nn.Parameter(lib.tensor([1.0]), requires_grad=False)))
    same(lambda lib: repr(lib.nn.Parameter()))
    same(lambda lib: lib.nn.Parameter(lib.arange(3)))
    same(lambda lib: type(lib.nn.Parameter(lib.ones(2)) * 2).__name__)
    same(lambda lib: (lib.nn.Parameter(lib.ones(2)) * 2).requires_grad)
    data = mt.zeros(3)
    p = mt.nn.Parameter(data)
    assert isinstance(p, mt.Tensor) and p.is_leaf and p.requires_grad and p.grad is None
    data[1] = 5.0  # shares memory with the tensor it wraps
    assert p[1].item() == 5.0
    clone = copy.deepcopy(p)
    assert isinstance(clone, mt.nn.Parameter) and clone.requires_grad
    clone.data = mt.ones(3)
    assert p[0].item() == 0.0
    m = mt.nn.Linear(2, 2)
    assert isinstance(copy.deepcopy(m).weight, mt.nn.Parameter)


def test_deepcopy_of_tensors_state_dicts_and_models_with_buffers_like_torch() -> None:
    """``best = copy.deepcopy(model.state_dict())`` is how a training loop keeps its best weights."""
    def run(lib: Any) -> Any:
        w = lib.ones(2, requires_grad=True)
        w.grad = lib.tensor([3., 4.])
        c = copy.deepcopy(w)
        c.grad[0] = 9.  # neither change reaches w
        with lib.no_grad():
            c[0] = 7.
        model = lib.nn.Linear(2, 2)
        model.register_buffer("count", lib.zeros(1, dtype=lib.int64))
        copied_model, state = copy.deepcopy(model), copy.deepcopy(model.state_dict())
        with lib.no_grad():
            copied_model.count.add_(1)
            model.weight.zero_()
        twins = copy.deepcopy([w, w])
        return (c, c.grad, c.is_leaf, w, w.grad, model.count, type(copied_model.weight).__name__,
                sorted(state), float(state["weight"].abs().sum()) > 0, twins[0] is twins[1],
                copy.deepcopy(lib.ones(2, dtype=lib.float16)), copy.deepcopy(lib.tensor([1, 2])),
                result_or_raised(lambda: copy.deepcopy(w * 2))[:2])
    check_both(run)


# ---------------------------------------------------------------------- containers
def test_sequential_indexing_len_append_and_forward() -> None:
    def layers(lib: Any) -> Any:
        return lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.Tanh(), lib.nn.Sigmoid())

    same(lambda lib: len(layers(lib)))
    for idx in [0, 3, -1, -4, 4, -5, slice(1, 3), slice(None, None, 2), slice(-2, None), slice(5, 9)]:
        same(lambda lib: repr(layers(lib)[idx]))
    same(lambda lib: type(layers(lib)[1:]).__name__)
    same(lambda lib: repr(layers(lib).append(lib.nn.Identity())))
    same(lambda lib: [type(m).__name__ for m in layers(lib)])

    def edit(lib: Any) -> Any:
        s = layers(lib)
        s[1] = lib.nn.Identity()
        del s[-1]
        del s[0]
        s.extend([lib.nn.ReLU()])
        return repr(s), list(s.state_dict())

    same(edit)
    same(lambda lib: repr(lib.nn.Sequential(OrderedDict([("first", lib.nn.ReLU()), ("second", lib.nn.Tanh())]))))
    same(lambda lib: layers(lib)["0"])

    net = mt.nn.Sequential(mt.nn.Linear(2, 3), mt.nn.ReLU())
    x = mt.tensor([[1.0, -1.0]])
    assert np.array_equal(np_of(net(x)), np_of(net[1](net[0](x))))


def test_modulelist_and_moduledict() -> None:
    def mlist(lib: Any) -> Any:
        ml = lib.nn.ModuleList([lib.nn.ReLU(), lib.nn.Tanh()])
        ml.append(lib.nn.Linear(1, 1))
        ml.extend([lib.nn.Identity(), lib.nn.Identity()])
        ml.insert(1, lib.nn.Sigmoid())
        ml[-1] = lib.nn.Flatten()
        del ml[0]
        return repr(ml), len(ml), repr(ml[-1]), repr(ml[1:3]), list(ml.state_dict()), result_or_raised(lambda: ml[9])

    same(mlist)

    def mdict(lib: Any) -> Any:
        md = lib.nn.ModuleDict({"b": lib.nn.ReLU(), "a": lib.nn.Linear(1, 2)})
        md["c"] = lib.nn.Tanh()
        md.update([("d", lib.nn.Identity())])
        popped = md.pop("b")
        return (repr(md), list(md.keys()), len(md), "a" in md, "b" in md, repr(popped), list(md),
                [type(v).__name__ for v in md.values()], list(md.state_dict()), result_or_raised(lambda: md["zz"]))

    same(mdict)


# ---------------------------------------------------------------------- layers
def test_linear_matches_torch_given_the_same_weights() -> None:
    rng = np.random.default_rng(1)
    for bias in (True, False):
        ours = mt.nn.Linear(5, 3, bias=bias)
        theirs = torch.nn.Linear(5, 3, bias=bias)
        theirs.load_state_dict(to_torch_state(ours.state_dict()))
        for shape in [(4, 5), (2, 3, 5), (5,)]:
            x = rng.standard_normal(shape).astype(np.float32)
            np.testing.assert_allclose(np_of(ours(mt.tensor(x))), theirs(torch.tensor(x)).detach().numpy(),
                                       rtol=1e-5, atol=1e-6)
    same(lambda lib: [tuple(p.shape) for p in lib.nn.Linear(7, 4).parameters()])
    same(lambda lib: str(lib.nn.Linear(2, 3, dtype=lib.float64).weight.dtype))


def test_linear_default_init_distribution_and_seed() -> None:
    mt.manual_seed(0)
    big = mt.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = np_of(big.weight), np_of(big.bias)
    for values in (w, b):
        assert values.min() >= -bound and values.max() <= bound
    # uniform on [-bound, bound]: fills the range, mean 0, variance bound^2 / 3
    assert w.min() < -0.99 * bound and w.max() > 0.99 * bound
    assert abs(w.mean()) < 0.01 * bound
    assert abs(w.var() / (bound ** 2 / 3) - 1) < 0.02
    # the same seed gives the same weights (not torch's numbers: a different generator, documented)
    mt.manual_seed(123)
    first = [np_of(p) for p in mt.nn.Linear(8, 4).parameters()]
    mt.manual_seed(123)
    second = [np_of(p) for p in mt.nn.Linear(8, 4).parameters()]
    third = [np_of(p) for p in mt.nn.Linear(8, 4).parameters()]
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not np.array_equal(first[0], third[0])
    small = mt.nn.Linear(3, 50)
    assert np.abs(np_of(small.bias)).max() <= 1 / math.sqrt(3)


def test_identity_flatten_and_activations_match_torch() -> None:
    x = np.random.default_rng(2).standard_normal((2, 3, 4)).astype(np.float32)

    def run(lib: Any, module: Any) -> np.ndarray:
        t = lib.tensor(x, requires_grad=True)
        out = module(t)
        out.sum().backward()
        return np.concatenate([np_of(out).ravel(), np_of(t.grad).ravel(), np.array(out.shape, dtype=np.float32)])

    for make in [lambda lib: lib.nn.Identity(), lambda lib: lib.nn.Identity(54, unused=1),
                 lambda lib: lib.nn.Flatten(), lambda lib: lib.nn.Flatten(0, 1), lambda lib: lib.nn.Flatten(-2),
                 lambda lib: lib.nn.ReLU(), lambda lib: lib.nn.Tanh(), lambda lib: lib.nn.Sigmoid()]:
        np.testing.assert_allclose(run(mt, make(mt)), run(torch, make(torch)), rtol=1e-6, atol=1e-6)
    t = mt.ones(2)
    assert mt.nn.Identity()(t) is t


def test_dropout_train_and_eval() -> None:
    p = 0.3
    drop = mt.nn.Dropout(p)
    x = mt.ones(200, 500)
    mt.manual_seed(0)
    y = np_of(drop(x))
    zeros = (y == 0).mean()
    assert abs(zeros - p) < 0.01  # 100k draws: the standard error is 0.0015
    np.testing.assert_allclose(y[y != 0], 1 / (1 - p), rtol=1e-6)
    drop.eval()
    assert np.array_equal(np_of(drop(x)), np_of(x))
    drop.train()
    xg = mt.ones(1000, requires_grad=True)
    out = drop(xg)
    out.sum().backward()
    assert np.array_equal(np_of(xg.grad), np_of(out))  # the gradient is the same mask, scaled
    assert np.array_equal(np_of(mt.nn.Dropout(0.0)(x)), np_of(x))
    assert (np_of(mt.nn.Dropout(1.0)(x)) == 0).all()
    mt.manual_seed(5)
    first = np_of(mt.nn.Dropout(0.5)(x))
    mt.manual_seed(5)
    assert np.array_equal(first, np_of(mt.nn.Dropout(0.5)(x)))
    same(lambda lib: lib.nn.Dropout(1.5))
    same(lambda lib: lib.nn.Dropout(-0.1))
    same(lambda lib: repr(lib.nn.Dropout()))


# ---------------------------------------------------------------------- nn.init
def test_calculate_gain_equals_torch() -> None:
    for name in ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                 "sigmoid", "tanh", "relu", "leaky_relu", "selu"]:
        same(lambda lib: lib.nn.init.calculate_gain(name))
    for param in [0.2, 0, 1, 3]:
        same(lambda lib: lib.nn.init.calculate_gain("leaky_relu", param))
    same(lambda lib: lib.nn.init.calculate_gain("leaky_relu", True))
    same(lambda lib: lib.nn.init.calculate_gain("leaky_relu", "x"))
    same(lambda lib: lib.nn.init.calculate_gain("gelu"))


def _stats(t: Any) -> tuple[float, float, float, float]:
    a = np_of(t).astype(np.float64)
    return a.mean(), a.std(), a.min(), a.max()


def test_init_fills_have_the_right_statistics() -> None:
    init = mt.nn.init
    mt.manual_seed(0)
    t = mt.empty(300, 400)
    mean, std, lo, hi = _stats(init.uniform_(t, -2.0, 3.0))
    assert lo >= -2.0 and hi <= 3.0 and abs(mean - 0.5) < 0.02 and abs(std - 5 / math.sqrt(12)) < 0.01
    mean, std, lo, hi = _stats(init.uniform_(t))
    assert lo >= 0.0 and hi <= 1.0 and abs(mean - 0.5) < 0.01
    mean, std, _, _ = _stats(init.normal_(t, 1.5, 0.5))
    assert abs(mean - 1.5) < 0.005 and abs(std - 0.5) < 0.005
    mean, std, _, _ = _stats(init.normal_(t))
    assert abs(mean) < 0.01 and abs(std - 1) < 0.01
    assert (np_of(init.zeros_(t)) == 0).all() and (np_of(init.ones_(t)) == 1).all()
    assert (np_of(init.constant_(t, -0.25)) == -0.25).all()

    fan_in, fan_out = 400, 300
    bound = math.sqrt(3.0) * math.sqrt(2.0) / math.sqrt(fan_in)  # relu gain, fan_in
    mean, std, lo, hi = _stats(init.kaiming_uniform_(t, nonlinearity="relu"))
    assert -bound <= lo and hi <= bound and lo < -0.99 * bound and abs(std - bound / math.sqrt(3)) < 0.01 * bound
    bound_out = math.sqrt(3.0) * init.calculate_gain("leaky_relu", 0.2) / math.sqrt(fan_out)
    _, _, lo, hi = _stats(init.kaiming_uniform_(t, a=0.2, mode="fan_out"))
    assert -bound_out <= lo and hi <= bound_out and hi > 0.99 * bound_out
    _, std, _, _ = _stats(init.kaiming_normal_(t, nonlinearity="relu"))
    assert abs(std / (math.sqrt(2.0) / math.sqrt(fan_in)) - 1) < 0.01
    _, std, _, _ = _stats(init.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh"))
    assert abs(std / ((5 / 3) / math.sqrt(fan_out)) - 1) < 0.01
    xb = 1.5 * math.sqrt(6.0 / (fan_in + fan_out))
    _, std, lo, hi = _stats(init.xavier_uniform_(t, gain=1.5))
    assert -xb <= lo and hi <= xb and hi > 0.99 * xb and abs(std / (xb / math.sqrt(3)) - 1) < 0.01
    _, std, _, _ = _stats(init.xavier_normal_(t))
    assert abs(std / math.sqrt(2.0 / (fan_in + fan_out)) - 1) < 0.01
    # fans of a 4-d (conv-shaped) weight include the receptive field
    conv = mt.empty(16, 8, 3, 3)
    _, _, lo, hi = _stats(init.kaiming_uniform_(conv, a=math.sqrt(5)))
    assert max(-lo, hi) <= 1 / math.sqrt(8 * 9)


def test_init_keeps_parameters_leaves_and_uses_the_generator() -> None:
    init = mt.nn.init
    p = mt.nn.Parameter(mt.empty(5, 4))
    for fill in [lambda t: init.uniform_(t), lambda t: init.normal_(t), lambda t: init.zeros_(t),
                 lambda t: init.ones_(t), lambda t: init.constant_(t, 2.0), lambda t: init.kaiming_uniform_(t),
                 lambda t: init.kaiming_normal_(t), lambda t: init.xavier_uniform_(t), lambda t: init.xavier_normal_(t)]:
        assert fill(p) is p
        assert p.is_leaf and p.requires_grad and p.grad_fn is None and isinstance(p, mt.nn.Parameter)
    a = init.normal_(mt.empty(3, 3), generator=mt.Generator().manual_seed(4))
    b = init.normal_(mt.empty(3, 3), generator=mt.Generator().manual_seed(4))
    assert np.array_equal(np_of(a), np_of(b))
    d = init.uniform_(mt.empty(3, dtype=mt.float64), -1, 1)
    assert d.dtype == mt.float64


def test_init_errors_and_warnings_match_torch() -> None:
    same(lambda lib: lib.nn.init.xavier_uniform_(lib.empty(3)))
    same(lambda lib: lib.nn.init.kaiming_normal_(lib.empty(3)))
    same(lambda lib: lib.nn.init.kaiming_normal_(lib.empty(3, 3), mode="fan_avg"))
    same(lambda lib: lib.nn.init.kaiming_uniform_(lib.empty(3, 3), nonlinearity="swish"))
    for lib in (mt, torch):
        with pytest.warns(UserWarning, match="zero-element"):
            lib.nn.init.kaiming_uniform_(lib.empty(0, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mt.nn.init.kaiming_uniform_(mt.empty(2, 3), mode="FAN_IN").shape == (2, 3)
