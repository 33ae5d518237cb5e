"""Anomaly detection against torch: the nan error's class and text, the warning that carries the forward
traceback, the mode's switches (context manager, function, decorator) and that it restores itself."""
from __future__ import annotations

import inspect
import threading
import warnings
from typing import Any, Callable

import pytest
import torch

import minitorch_lsm as mt
from helpers import assert_same, assert_same_error

LIBS = pytest.mark.parametrize("lib", [mt, torch], ids=["minitorch", "torch"])


def is_enabled(lib) -> bool:
    return lib.autograd.is_anomaly_enabled() if lib is mt else torch.is_anomaly_enabled()


def check_nan_enabled(lib) -> bool:
    return mt.autograd.anomaly.is_anomaly_check_nan_enabled() if lib is mt else torch.is_anomaly_check_nan_enabled()


@pytest.fixture(autouse=True)
def _anomaly_off_afterwards():
    yield
    mt.autograd.set_detect_anomaly(False)
    torch.autograd.set_detect_anomaly(False)


def leaf(lib, values, dtype="float64"):
    return lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)


def in_anomaly_mode(lib, call: Callable[[], Any], **kwargs: Any) -> tuple[BaseException | None, list[str]]:
    """Run ``call`` under ``detect_anomaly``: the error it raised (or None) and the warnings' texts."""
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with lib.autograd.detect_anomaly(**kwargs):
                call()
        except Exception as raised:  # noqa: BLE001 - the test compares whatever was raised
            error = raised
    return error, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


# ---------------------------------------------------------------------- the nan error, as torch words it
NAN_CASES = {
    "log_at_zero": lambda lib: (leaf(lib, [0.0, 1.0]).log() * 0).sum().backward(),
    "sqrt_of_negative": lambda lib: leaf(lib, [-1.0, 4.0]).sqrt().sum().backward(),
    "div_both_outputs": lambda lib: (leaf(lib, [1.0]) / leaf(lib, [0.0]) * 0).sum().backward(),
    "div_second_output": lambda lib: (lib.tensor([1.0], dtype=lib.float64) / leaf(lib, [0.0]) * 0).sum().backward(),
    "nan_root_gradient": lambda lib: (leaf(lib, [1.0]) * 2).backward(lib.tensor([float("nan")], dtype=lib.float64)),
    "autograd_grad": lambda lib: (lambda x: lib.autograd.grad(x.sqrt().sum(), x))(leaf(lib, [-1.0])),
    "float32_pow": lambda lib: (leaf(lib, [-8.0], "float32") ** 0.5).sum().backward(),
}


@pytest.mark.parametrize("name", sorted(NAN_CASES))
def test_a_nan_gradient_raises_torchs_runtime_error(name: str) -> None:
    case = NAN_CASES[name]
    ours, our_warnings = in_anomaly_mode(mt, lambda: case(mt))
    theirs, their_warnings = in_anomaly_mode(torch, lambda: case(torch))
    assert theirs is not None and ours is not None, (ours, theirs)
    assert type(ours) is type(theirs) is RuntimeError
    assert str(ours) == str(theirs)
    assert str(ours).startswith("Function '") and str(ours).endswith("th output.")
    node = str(ours).split("'")[1]
    for texts in (our_warnings, their_warnings):
        assert any(t.startswith(f"Error detected in {node}. Traceback of forward call that caused the error:")
                   for t in texts), texts


def test_the_error_names_the_input_position() -> None:
    ours, _ = in_anomaly_mode(mt, lambda: NAN_CASES["div_second_output"](mt))
    assert str(ours) == "Function 'DivBackward0' returned nan values in its 1th output."


# ---------------------------------------------------------------------- the forward traceback
def _forward_then_backward(lib) -> None:
    x = leaf(lib, [-1.0, 1.0])
    y = x.sqrt()  # THE FORWARD LINE
    (y * 0).sum().backward()


@LIBS
def test_the_warning_carries_the_forward_stack_and_names_the_forward_line(lib) -> None:
    error, texts = in_anomaly_mode(lib, lambda: _forward_then_backward(lib))
    assert isinstance(error, RuntimeError)
    (trace,) = [t for t in texts if t.startswith("Error detected in SqrtBackward0.")]
    assert "Traceback of forward call that caused the error:" in trace
    assert f'File "{__file__}", line ' in trace and "in _forward_then_backward" in trace
    assert "y = x.sqrt()  # THE FORWARD LINE" in trace


def test_the_stack_ends_at_the_users_line_not_inside_the_library() -> None:
    error, texts = in_anomaly_mode(mt, lambda: _forward_then_backward(mt))
    (trace,) = [t for t in texts if t.startswith("Error detected in")]
    assert trace.rstrip().splitlines()[-1].strip() == "y = x.sqrt()  # THE FORWARD LINE"
    line = inspect.getsource(_forward_then_backward).splitlines().index("    y = x.sqrt()  # THE FORWARD LINE")
    assert f"line {_forward_then_backward.__code__.co_firstlineno + line}, in _forward_then_backward" in trace


@LIBS
def test_a_graph_recorded_outside_anomaly_mode_has_no_forward_information(lib) -> None:
    x = leaf(lib, [-1.0])
    y = x.sqrt().sum()
    error, texts = in_anomaly_mode(lib, y.backward)
    assert str(error) == "Function 'SqrtBackward0' returned nan values in its 0th output."
    assert any(t.startswith("Error detected in SqrtBackward0. No forward pass information available. Enable detect "
                            "anomaly during forward pass for more information.") for t in texts), texts


def test_nodes_keep_a_stack_only_in_anomaly_mode() -> None:
    x = leaf(mt, [1.0])
    assert (x * 2).grad_fn.forward_stack is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mt.autograd.detect_anomaly():
            node = (x * 2).grad_fn
    assert node.forward_stack is not None and node.forward_stack[-1].name == inspect.currentframe().f_code.co_name


class Exploding(mt.autograd.Function):
    """A node whose backward fails: anomaly mode warns with its forward line, then lets the error through."""

    def forward(self, x):
        return x * 1

    def backward(self, grad):
        raise ValueError("boom in backward")


def test_an_error_in_a_backward_warns_with_the_forward_trace_and_propagates() -> None:
    def run() -> None:
        x = leaf(mt, [1.0])
        y = Exploding.apply(x)  # EXPLODING FORWARD
        y.sum().backward()
    error, texts = in_anomaly_mode(mt, run)
    assert isinstance(error, ValueError) and str(error) == "boom in backward"
    (trace,) = [t for t in texts if t.startswith("Error detected in ExplodingBackward0.")]
    assert "y = Exploding.apply(x)  # EXPLODING FORWARD" in trace


# ---------------------------------------------------------------------- no nan, no error
def test_no_nan_means_no_error_and_the_same_gradients() -> None:
    def run(lib):
        x = leaf(lib, [0.5, 2.0, 3.0])
        (x.log() * x.exp()).sum().backward()
        return x.grad
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Error detected" warning either
        with mt.autograd.set_detect_anomaly(True), torch.autograd.set_detect_anomaly(True):
            ours, theirs = run(mt), run(torch)
    assert_same(ours, theirs, check_requires_grad=False)


@LIBS
def test_check_nan_false_lets_nan_through(lib) -> None:
    x = leaf(lib, [0.0])
    error, _ = in_anomaly_mode(lib, lambda: (x.log() * 0).sum().backward(), check_nan=False)
    assert error is None
    assert x.grad.isnan().all()


@LIBS
def test_inf_is_not_an_anomaly(lib) -> None:
    x = leaf(lib, [0.0])
    error, _ = in_anomaly_mode(lib, lambda: x.log().sum().backward())
    assert error is None and x.grad.isinf().all()


# ---------------------------------------------------------------------- the switches
@LIBS
def test_detect_anomaly_warns_that_it_is_slow(lib) -> None:
    with pytest.warns(UserWarning, match="^Anomaly Detection has been enabled. This mode will increase the runtime "
                                         "and should only be enabled for debugging.$"):
        lib.autograd.detect_anomaly()


@LIBS
def test_the_mode_restores_after_the_with_block(lib) -> None:
    assert not is_enabled(lib) and check_nan_enabled(lib)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lib.autograd.detect_anomaly(check_nan=False):
            assert is_enabled(lib) and not check_nan_enabled(lib)
            with lib.autograd.set_detect_anomaly(False):
                assert not is_enabled(lib)
            assert is_enabled(lib) and not check_nan_enabled(lib)
        assert not is_enabled(lib) and check_nan_enabled(lib)
        with pytest.raises(KeyError):
            with lib.autograd.detect_anomaly():
                raise KeyError("inside")
    assert not is_enabled(lib)


@LIBS
def test_set_detect_anomaly_acts_at_once_as_a_plain_call(lib) -> None:
    lib.autograd.set_detect_anomaly(True)
    assert is_enabled(lib)
    lib.autograd.set_detect_anomaly(False)
    assert not is_enabled(lib)


@LIBS
def test_anomaly_mode_is_one_switch_for_the_process_as_in_torch(lib) -> None:
    seen = []
    with lib.autograd.set_detect_anomaly(True):
        worker = threading.Thread(target=lambda: seen.append(is_enabled(lib)))
        worker.start()
        worker.join()
    assert seen == [True]


def test_decorator_form() -> None:
    @mt.autograd.set_detect_anomaly(True)
    def inside_set() -> bool:
        return mt.autograd.is_anomaly_enabled()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        @mt.autograd.detect_anomaly()
        def inside_detect() -> tuple[bool, Any]:
            x = leaf(mt, [-1.0])
            try:
                x.sqrt().sum().backward()
            except RuntimeError as error:
                return mt.autograd.is_anomaly_enabled(), str(error)
            return mt.autograd.is_anomaly_enabled(), None

        assert not mt.autograd.is_anomaly_enabled()  # decorating changes nothing
        assert inside_set()
        assert inside_detect() == (True, "Function 'SqrtBackward0' returned nan values in its 0th output.")
        assert not mt.autograd.is_anomaly_enabled()
    # PyTorch 2.13's classes are context managers only; the decorator form is ours alone
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TypeError, match="object is not callable"):
            torch.autograd.detect_anomaly()(inside_set)


def test_the_same_names_as_torch_autograd() -> None:
    for name in ("detect_anomaly", "set_detect_anomaly"):
        assert hasattr(torch.autograd, name) and hasattr(mt.autograd, name)


def test_the_same_top_level_names_as_torch() -> None:
    for name in ("is_anomaly_enabled", "is_anomaly_check_nan_enabled", "set_anomaly_enabled"):
        assert hasattr(torch, name)
        assert getattr(mt, name) is getattr(mt.autograd.anomaly, name)
    try:
        mt.set_anomaly_enabled(True, check_nan=False)
        assert mt.is_anomaly_enabled() and not mt.is_anomaly_check_nan_enabled()
    finally:
        mt.set_anomaly_enabled(False)
    assert not mt.is_anomaly_enabled() and mt.is_anomaly_check_nan_enabled()


def test_the_version_error_hint_follows_the_mode() -> None:
    def run(lib):
        y = leaf(lib, [1.0, 2.0]) * 1
        z = y * y
        y.add_(1)
        z.sum().backward()
    for anomaly in (False, True):
        with mt.autograd.set_detect_anomaly(anomaly), torch.autograd.set_detect_anomaly(anomaly), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert_same_error(lambda: run(mt), lambda: run(torch))
