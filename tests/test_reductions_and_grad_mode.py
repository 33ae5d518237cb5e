"""Reductions and grad modes against torch: the cases an audit found wrong, one named test each.

Grad modes: decorated generator functions, decorators without parentheses, what each mode sets when
nested inside another, and the errors of forms torch does not accept. Reductions: ``dim=()``/``[]``,
prod's gradient with zeros (and its gradient), float32 var/std accuracy, var/std without degrees of
freedom, dim-range errors on 0-d tensors, and a sweep of empty tensors through every reduction.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pytest
import torch

import minitorch_lsm as mt
from helpers import assert_same, assert_same_error, check_both, outcome, to_torch

LIBS = pytest.mark.parametrize("lib", [mt, torch], ids=["minitorch", "torch"])
inf, nan = float("inf"), float("nan")


def run_both(fn: Callable[[Any], Any]) -> tuple[Any, Any]:
    """``fn(lib)`` for minitorch and for torch."""
    return fn(mt), fn(torch)


def with_warnings(call: Callable[[], Any]) -> tuple[Any, BaseException | None, list[tuple[str, str]]]:
    """Run ``call``, recording every warning: (result, exception or None, [(category, message)])."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        result, error = outcome(call)
    return result, error, [(w.category.__name__, str(w.message)) for w in record]


def assert_same_outcome(fn: Callable[[Any], Any], *, type_error_message: bool = True) -> None:
    """``fn(lib)`` agrees between the libraries: the same result and warnings, or the same exception.

    TypeError messages from torch's argument parser depend on how the call was spelled (positional or
    keyword, function or method), which a Python function cannot see: ``type_error_message=False``
    compares only their class.
    """
    mt_result, mt_error, mt_warnings = with_warnings(lambda: fn(mt))
    torch_result, torch_error, torch_warnings = with_warnings(lambda: fn(torch))
    assert mt_warnings == torch_warnings
    if torch_error is not None or mt_error is not None:
        assert mt_error is not None, f"torch raised {type(torch_error).__name__}: {torch_error}; minitorch did not"
        assert torch_error is not None, f"minitorch raised {type(mt_error).__name__}: {mt_error}; torch did not"
        assert type(mt_error) is type(torch_error), f"{mt_error!r} vs torch {torch_error!r}"
        if type_error_message or not isinstance(torch_error, TypeError):
            assert str(mt_error) == str(torch_error)
        return
    if isinstance(torch_result, tuple):  # torch.return_types.max and friends
        mt_result, torch_result = tuple(mt_result), tuple(torch_result)
    assert_same(mt_result, torch_result)


# ====================================================================== grad modes
GRAD_DECORATORS = {
    "no_grad": lambda lib: lib.no_grad(),
    "enable_grad": lambda lib: lib.enable_grad(),
    "set_grad_enabled_false": lambda lib: lib.set_grad_enabled(False),
    "set_grad_enabled_true": lambda lib: lib.set_grad_enabled(True),
    "inference_mode": lambda lib: lib.inference_mode(),
    "inference_mode_false": lambda lib: lib.inference_mode(False),
}


def _generator_trace(lib: Any, make_decorator: Callable[[Any], Any]) -> list[Any]:
    """What a decorated generator sees at each resume, and what its caller sees between resumes."""
    trace: list[Any] = []
    x = lib.ones(2, requires_grad=True)

    def state() -> tuple[bool, bool]:
        return lib.is_grad_enabled(), lib.is_inference_mode_enabled()

    @make_decorator(lib)
    def gen(t: Any) -> Any:
        trace.append(("start", state()))
        received = yield t * 2
        trace.append(("resumed with", received, state()))
        try:
            yield t * 3
        except ValueError:
            trace.append(("caught", state()))
            yield t * 4
        return "done"

    with lib.no_grad():
        g = gen(x)  # made inside no_grad, resumed outside: each resume gets the decorator's mode
    trace.append(("caller before", state()))
    trace.append(("first", next(g).requires_grad, state()))
    trace.append(("sent", g.send(7).requires_grad, state()))
    trace.append(("thrown", g.throw(ValueError("stop")).requires_grad, state()))
    try:
        next(g)
    except StopIteration as stop:
        trace.append(("returned", stop.value, state()))
    with lib.no_grad():  # a generator resumed inside another mode still runs under its own
        h = gen(x)
        trace.append(("inside no_grad", next(h).requires_grad, state()))
        h.close()
    trace.append(("after close", state()))
    return trace


@pytest.mark.parametrize("decorator", list(GRAD_DECORATORS))
def test_decorated_generator_runs_each_resume_under_the_mode(decorator: str) -> None:
    ours, theirs = run_both(lambda lib: _generator_trace(lib, GRAD_DECORATORS[decorator]))
    assert ours == theirs


def test_no_grad_generator_yields_tensors_without_grad() -> None:
    for lib in (mt, torch):
        x = lib.ones(2, requires_grad=True)

        @lib.no_grad()
        def gen(a: Any) -> Any:
            yield a * 2

        assert next(gen(x)).requires_grad is False and lib.is_grad_enabled()


def _bare(lib: Any, name: str) -> tuple[Any, ...]:
    x = lib.ones(2, requires_grad=True)
    decorator = getattr(lib, name)

    @decorator
    def double(t: Any) -> Any:
        return t * 2

    with lib.no_grad():
        inside_no_grad = double(x).requires_grad
    return callable(double), double.__name__, double(x).requires_grad, inside_no_grad, lib.is_grad_enabled()


@pytest.mark.parametrize("name", ["no_grad", "enable_grad", "inference_mode"])
def test_decorators_without_parentheses(name: str) -> None:
    ours, theirs = run_both(lambda lib: _bare(lib, name))
    assert ours == theirs


def test_set_grad_enabled_without_parentheses_raises_like_torch() -> None:
    def bare(lib: Any) -> Any:
        @lib.set_grad_enabled
        def f() -> None:
            pass
        return f

    assert_same_error(lambda: bare(mt), lambda: bare(torch))
    assert mt.is_grad_enabled()


@pytest.mark.parametrize("mode", [1, 0, None, "yes", 1.0, np.bool_(True)], ids=repr)
def test_set_grad_enabled_takes_only_a_bool(mode: Any) -> None:
    assert_same_error(lambda: mt.set_grad_enabled(mode), lambda: torch.set_grad_enabled(mode))


def test_odd_arguments_to_the_mode_classes() -> None:
    # inference_mode takes anything that is not a bool as the function to decorate; no_grad(None) raises
    for value in (1, 0, None):
        assert callable(mt.inference_mode(value)) and callable(torch.inference_mode(value))
    assert_same_error(lambda: mt.no_grad(None), lambda: torch.no_grad(None))
    assert isinstance(mt.enable_grad(None), mt.enable_grad) and isinstance(torch.enable_grad(None), torch.enable_grad)
    with mt.no_grad() as ours, torch.no_grad() as theirs:
        assert ours is None and theirs is None
    assert repr(mt.set_grad_enabled(False)) == repr(torch.set_grad_enabled(False))
    mt.set_grad_enabled(True)
    torch.set_grad_enabled(True)


def test_decorating_a_class_warns_like_torch() -> None:
    def decorate(lib: Any) -> Any:
        x = lib.ones(2, requires_grad=True)

        @lib.no_grad()
        class Doubler:
            def __init__(self, t: Any) -> None:
                self.out = t * 2

        return Doubler(x).out.requires_grad

    mt_result, _, mt_warnings = with_warnings(lambda: decorate(mt))
    torch_result, _, torch_warnings = with_warnings(lambda: decorate(torch))
    assert (mt_result, mt_warnings) == (torch_result, torch_warnings) and torch_warnings[0][0] == "FutureWarning"


def _nested_modes(lib: Any) -> list[Any]:
    """(is_grad_enabled, is_inference_mode_enabled) and recording across nested modes."""
    x = lib.ones(2, requires_grad=True)

    def state() -> tuple[bool, bool]:
        return lib.is_grad_enabled(), lib.is_inference_mode_enabled()

    seen = []
    with lib.inference_mode():
        seen.append(state())
        with lib.inference_mode(False):
            seen += [state(), (x * 2).requires_grad]
        for mode in (lib.enable_grad(), lib.set_grad_enabled(True), lib.no_grad()):
            with mode:
                seen.append(state())  # grad mode changes; inference mode stays on
        seen.append(state())
    with lib.no_grad():
        with lib.inference_mode(False):
            seen.append(state())  # inference_mode(False) turns grad mode on
        with lib.inference_mode():
            with lib.inference_mode(False):
                seen.append(state())
        seen.append(state())
    seen.append(state())
    made_outside = lib.set_grad_enabled(False)  # takes effect at once; exit restores the mode it found
    lib.set_grad_enabled(True)
    with lib.inference_mode():
        with made_outside:
            seen.append(state())
        seen.append(state())  # inference mode is still on
    seen.append(state())
    return seen


def test_nested_grad_and_inference_modes_set_what_torch_sets() -> None:
    ours, theirs = run_both(_nested_modes)
    assert ours == theirs


def _inference_tensors(lib: Any) -> list[Any]:
    x, w = lib.ones(2), lib.ones(2, requires_grad=True)
    with lib.inference_mode():
        y, view, detached, made = x * 2, x[0:1], x.detach(), lib.zeros(2)
        with lib.enable_grad():
            recorded = (w * 2).requires_grad  # inference mode records nothing, even under enable_grad
    seen = [y.is_inference(), view.is_inference(), detached.is_inference(), made.is_inference(), x.is_inference(),
            y.detach().is_inference(), y.clone().is_inference(), y[0:1].is_inference(), recorded,
            (y + w).requires_grad]
    for misuse in (lambda: y.add_(1), lambda: y[0:1].add_(1), lambda: (y * w).sum(), lambda: y.requires_grad_()):
        seen.append(outcome(misuse)[1])
    return seen


def test_inference_tensors_like_torch() -> None:
    ours, theirs = _inference_tensors(mt), _inference_tensors(torch)
    assert ours[:10] == theirs[:10]
    for mine, their in zip(ours[10:], theirs[10:]):
        assert type(mine) is type(their) and str(mine) == str(their)


# ====================================================================== reductions: dim=() and dim=[]
EMPTY_DIM_OPS = ["sum", "mean", "amax", "amin", "var", "std"]


@pytest.mark.parametrize("op", EMPTY_DIM_OPS)
@pytest.mark.parametrize("dim", [(), []], ids=["tuple", "list"])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape", [(2, 3), (4,), ()], ids=str)
def test_empty_dim_list_reduces_every_dim(op: str, dim: Any, keepdim: bool, shape: tuple[int, ...]) -> None:
    values = np.arange(1.0, 1.0 + np.prod(shape, dtype=int)).reshape(shape) ** 1.5

    def reduce(lib: Any) -> Any:
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        out = getattr(x, op)(dim=dim, keepdim=keepdim)
        out.sum().backward()  # var/std: torch counts N = 1 for the gradient of dim=[] (inf); so must we
        return out, x.grad, out.grad_fn.name()

    assert_same_outcome(reduce)


def test_empty_dim_list_sum_and_mean_examples() -> None:
    assert_same(mt.ones(2, 3).sum(dim=()), torch.ones(2, 3).sum(dim=()))
    assert_same(mt.ones(2, 3).mean(dim=[]), torch.ones(2, 3).mean(dim=[]))


@pytest.mark.parametrize("op", ["all", "any"])
def test_all_any_with_an_empty_dim_list_reduce_nothing(op: str) -> None:
    assert_same_outcome(lambda lib: getattr(lib.tensor([[1, 0], [2, 3]]), op)(dim=()))


def test_prod_takes_one_dim_only() -> None:
    for dim in [(), [], (0,)]:
        assert_same_outcome(lambda lib: lib.ones(2, 3).prod(dim=dim), type_error_message=False)


# ====================================================================== reductions: prod's gradient
PROD_CASES = [
    ([0.0, inf], None), ([2.0, inf], None), ([0.0, 2.0, 3.0], None), ([0.0, 0.0, 3.0], None),
    ([0.0, 0.0, inf], None), ([0.0, inf, 2.0], None), ([nan, 0.0], None), ([nan, 2.0], None),
    ([0.0, 1e300, 1e300, 1e-300], None), ([[0.0, 1.0], [2.0, inf]], None), ([[0.0, 1.0], [2.0, inf]], 1),
    ([[1.0, 1.0], [2.0, inf]], 1), ([[0.0, 0.0], [2.0, inf]], 1), ([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]], 0),
    ([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]], -1), (3.0, None), (nan, None), (0.0, 0),
]


@pytest.mark.parametrize("create_graph", [False, True], ids=["first_order", "create_graph"])
@pytest.mark.parametrize("values, dim", PROD_CASES, ids=str)
def test_prod_gradient_with_zeros_matches_torch(values: Any, dim: Any, create_graph: bool) -> None:
    def grad(lib: Any) -> Any:
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        y = x.prod() if dim is None else x.prod(dim)
        g, = lib.autograd.grad(y.sum(), x, create_graph=create_graph)
        return y.detach(), g.detach()

    ours, theirs = run_both(grad)
    assert_same(ours, theirs)


def test_prod_gradient_one_zero_is_the_product_of_the_others() -> None:
    x = mt.tensor([[0.0, 2.0, 3.0], [4.0, 0.0, 0.0]], requires_grad=True)
    x.prod(1).sum().backward()
    assert x.grad.tolist() == [[6.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def test_prod_float16_gradient_multiplies_like_torch() -> None:
    values = np.array([[710.0, 65504.0, 0.0, -1.0], [0.5, 0.0, 2.0, 8.0]], dtype=np.float16)

    def grad(lib: Any) -> Any:
        x = lib.tensor(values, requires_grad=True)
        x.prod(1).sum().backward()
        return x.grad

    ours, theirs = run_both(grad)
    assert_same(ours, theirs)


@pytest.mark.parametrize("reduce", ["prod", "sum", "mean"])
def test_full_reduction_gradient_is_computed_in_the_wider_output_dtype(reduce: str) -> None:
    # prod(float32, dtype=float64) of [1e38, 10, 1, 1] is 1e39, beyond float32; g * prod / x fits float32 for
    # the first two once divided in float64. The backward's 0-d gradient must promote as a dimensioned tensor,
    # or the product is taken in float32 (inf) and every gradient is inf
    values = np.array([[1e38, 10.0], [1.0, 1.0]], dtype=np.float32)

    def grad(lib: Any) -> Any:
        x = lib.tensor(values, requires_grad=True)
        getattr(x, reduce)(dtype=lib.float64).backward()
        return x.grad

    ours, theirs = run_both(grad)
    assert_same(ours, theirs)


@pytest.mark.parametrize("dim", [None, 0])
def test_prod_gradient_with_a_narrower_dtype_is_computed_in_it(dim: Any) -> None:
    # prod(float64, dtype=float32): PyTorch's backward takes x in float32 too, so prod / x_i = 1e10 / 1e-30
    # overflows to inf there (in float64 it would be 1e40)
    def grad(lib: Any) -> Any:
        x = lib.tensor([1e30, 1e-30, 1e10], dtype=lib.float64, requires_grad=True)
        (x.prod(dtype=lib.float32) if dim is None else x.prod(dim, dtype=lib.float32)).backward()
        return x.grad

    ours, theirs = run_both(grad)
    assert_same(ours, theirs)


@pytest.mark.parametrize("values, dim", [
    ([0.0, 2.0, 3.0], None), ([0.0, 0.0, 3.0], None), ([0.0, 0.0, 0.0], None), ([[0.0, 2.0], [3.0, 4.0]], 1),
    ([[0.0, 2.0], [3.0, 4.0]], None), ([[0.0, 2.0, 0.0], [3.0, 4.0, 5.0]], 0), ([[1.0, 0.0, 2.0, 3.0]], 1),
    ([1.0, 2.0, 3.0], None)], ids=str)
def test_prod_second_derivative_with_zeros_matches_torch(values: Any, dim: Any) -> None:
    u = np.arange(1.0, np.size(values) + 1).reshape(np.shape(values)) / 2

    def hessian_times_u(lib: Any) -> Any:
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        y = x.prod() if dim is None else x.prod(dim)
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        h, = lib.autograd.grad((g * lib.tensor(u)).sum(), x)
        return h

    ours, theirs = run_both(hessian_times_u)
    assert_same(ours, theirs)


@pytest.mark.parametrize("values, dim", [
    ([[0.0, 2.0, 3.0], [1.5, -1.0, 0.5]], None), ([[0.0, 2.0, 0.0], [1.5, -1.0, 0.5]], None),
    ([[0.0, 2.0, 3.0], [1.5, -1.0, 0.5]], 1), ([[0.0, 2.0, 0.0], [1.5, 0.0, 0.5]], 1),
    ([[0.0, 2.0, 3.0], [1.5, -1.0, 0.5], [2.0, 0.0, 1.0]], 0), ([[1.2, 2.0], [1.5, -1.0]], 0)], ids=str)
def test_prod_gradcheck_and_gradgradcheck_with_zeros(values: Any, dim: Any) -> None:
    x = mt.tensor(values, dtype=mt.float64, requires_grad=True)

    def f(t: Any) -> Any:
        return t.prod() if dim is None else t.prod(dim)

    assert mt.autograd.gradcheck(f, (x,))
    assert mt.autograd.gradgradcheck(f, (x,))


# ====================================================================== reductions: var and std
@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("shape, dim", [((100000,), None), ((4, 25000), 1), ((25000, 4), 0), ((10, 100, 100), (0, 2))],
                         ids=str)
def test_float32_var_std_of_a_large_mean_with_a_tiny_spread(op: str, shape: tuple[int, ...], dim: Any) -> None:
    noise = np.random.default_rng(0).standard_normal(shape)
    values = (1e4 + (noise - noise.mean()) * 1e-2).astype(np.float32)  # the mean is 1e4 to float32 precision
    ours = getattr(mt.tensor(values), op)(*(() if dim is None else (dim,)))
    theirs = getattr(torch.from_numpy(values), op)(*(() if dim is None else (dim,)))
    assert_same(ours, theirs)  # torch's float32 tolerances; accumulating in float32 is off by up to 3%


@pytest.mark.parametrize("values, dtype, correction", [
    ([1.3e19, -1.3e19, 1.3e19, -1.3e19], "float32", 0),  # the squares overflow float32; the variance does not
    ([200.0, -200.0, 200.0, -200.0], "float16", 0),      # and float16
    ([100.0, 100.5, 101.0, 100.25], "float16", 1)])
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_accumulate_wider_than_the_input(values: list[float], dtype: str, correction: int, op: str) -> None:
    assert_same_outcome(lambda lib: getattr(lib.tensor(values, dtype=getattr(lib, dtype)), op)(correction=correction))


DOF_CASES = [
    ([1.0, 2.0], {"correction": 2}), ([1.0, 1.0], {"correction": 2}), ([1.0, 2.0], {"correction": 3}),
    ([1.0, 2.0], {"correction": 1.5}), ([1.0, 2.0, 3.0], {"correction": -1}), ([3.0], {}), (2.0, {}),
    (2.0, {"dim": 0}), (2.0, {"correction": 0}), ([[1.0, 2.0], [3.0, 3.0]], {"dim": 1, "correction": 2}),
    ([[1.0, 2.0], [3.0, 3.0]], {"dim": 1, "correction": 3}),
    ([[1.0, 2.0], [3.0, 3.0]], {"dim": (0, 1), "correction": 4}),
    ([[1.0, 2.0], [3.0, 3.0]], {"dim": (0, 1), "correction": 5}), ([[1.0, 2.0], [3.0, 3.0]], {"correction": 4}),
    ([[1.0, 2.0], [3.0, 5.0]], {"dim": [], "correction": 4}), ([1.0, inf], {}), ([1.0, nan], {}),
    ([1e300, -1e300], {}),
]


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("values, kwargs", DOF_CASES, ids=str)
def test_var_std_without_degrees_of_freedom_warn_and_differentiate_like_torch(op: str, values: Any,
                                                                               kwargs: dict[str, Any]) -> None:
    def reduce(lib: Any) -> Any:
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        out = getattr(x, op)(**kwargs)
        out.sum().backward()
        return out, x.grad

    assert_same_outcome(reduce)


DOF_MESSAGE = (r"^std\(\): degrees of freedom is <= 0\. Correction should be strictly less than the reduction factor "
               r"\(input numel divided by output numel\)\.")


def test_dof_warning_is_torchs_user_warning() -> None:
    for lib in (mt, torch):
        with pytest.warns(UserWarning, match=DOF_MESSAGE):
            assert lib.tensor([1.0]).std().isnan()


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("shape, dim", [((3, 4), 1), ((3, 4), (0, 1)), ((2, 3, 4), (0, 2)), ((5,), None)], ids=str)
def test_var_std_gradcheck(op: str, shape: tuple[int, ...], dim: Any) -> None:
    x = mt.tensor(np.random.default_rng(1).standard_normal(shape), requires_grad=True)

    def f(t: Any) -> Any:
        return getattr(t, op)(dim)

    assert mt.autograd.gradcheck(f, (x,)) and mt.autograd.gradgradcheck(f, (x,))


# ====================================================================== reductions: dims out of range, repeated
ZERO_D_CALLS = {
    "sum": lambda x, d: x.sum(d), "mean": lambda x, d: x.mean(d), "prod": lambda x, d: x.prod(d),
    "amax": lambda x, d: x.amax(d), "amin": lambda x, d: x.amin(d), "max": lambda x, d: x.max(d),
    "min": lambda x, d: x.min(d), "argmax": lambda x, d: x.argmax(d), "argmin": lambda x, d: x.argmin(d),
    "var": lambda x, d: x.var(d), "std": lambda x, d: x.std(d), "var_kw": lambda x, d: x.var(dim=d),
    "all": lambda x, d: x.all(d), "any": lambda x, d: x.any(d),
}


@pytest.mark.parametrize("op", list(ZERO_D_CALLS))
@pytest.mark.parametrize("dim", [0, -1, 1, -2, 3, (1,), (0, -1), (0,)], ids=str)
def test_zero_d_reductions_check_the_dim_range(op: str, dim: Any) -> None:
    if op in ("prod", "max", "min", "argmax", "argmin") and isinstance(dim, tuple):
        pytest.skip("takes one int dim")
    assert_same_outcome(lambda lib: ZERO_D_CALLS[op](lib.tensor(2.5), dim))


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "amin", "var", "std", "all", "any"])
@pytest.mark.parametrize("dim", [(0, 0, 5), (5, 0, 0), (1, -1, 7), (1, -1), (0, 2)], ids=str)
def test_repeated_and_out_of_range_dims_raise_what_torch_raises_first(op: str, dim: Any) -> None:
    assert_same_outcome(lambda lib: getattr(lib.ones(2, 3), op)(dim))


@pytest.mark.parametrize("dim", [-1, -2, (0, 5), (0, 0), (-2, 0), (1, -2), 1])
def test_amax_of_an_empty_tensor_names_the_dim_as_passed(dim: Any) -> None:
    assert_same_outcome(lambda lib: lib.zeros(0, 3).amax(dim))
    assert_same_outcome(lambda lib: lib.zeros(2, 0, 3).amin(dim))


# ====================================================================== reductions: empty tensors
EMPTY_OPS = ["sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "var", "std", "all", "any"]
EMPTY_DIMS = [None, 0, 1, -1, 2, (0,), (1,), (0, 1), ()]


@pytest.mark.parametrize("op", EMPTY_OPS)
@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 3)], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_reductions_of_empty_tensors_match_torch(op: str, shape: tuple[int, ...], dtype: str) -> None:
    for dim in EMPTY_DIMS:
        for keepdim in (False, True):
            if dim is None and keepdim:
                continue  # torch's parser rejects keepdim without dim for sum/mean/prod (see the report)

            def reduce(lib: Any) -> Any:
                x = lib.zeros(shape, dtype=getattr(lib, dtype))
                fn = getattr(lib, op)
                return fn(x) if dim is None else fn(x, dim, keepdim=keepdim)

            assert_same_outcome(reduce, type_error_message=False)


def test_max_and_argmax_along_a_nonempty_dim_of_an_empty_tensor() -> None:
    assert_same_outcome(lambda lib: lib.zeros(0, 3).max(1))
    assert_same_outcome(lambda lib: lib.zeros(0, 3).argmax(1))
    assert_same_outcome(lambda lib: lib.zeros(0, 3).min(-1, keepdim=True))

    def backward(lib: Any) -> Any:
        x = lib.zeros(0, 3, requires_grad=True)
        x.max(1).values.sum().backward()
        return x.grad

    assert_same_outcome(backward)


def test_amax_of_an_empty_tensor_without_dim_raises_runtime_error() -> None:
    assert_same_error(lambda: mt.tensor([]).amax(), lambda: torch.tensor([]).amax())
    assert_same_error(lambda: mt.tensor([]).amin(dim=()), lambda: torch.tensor([]).amin(dim=()))


# ====================================================================== reductions: smaller fixes
def test_full_max_min_backward_route_the_gradient_to_nan() -> None:
    for op in ("max", "min", "amax", "amin"):
        for values in ([1.0, nan, 3.0, nan], [[1.0, nan], [3.0, 2.0]], [[1.0, 3.0], [3.0, 2.0]]):
            def grad(lib: Any) -> Any:
                x = lib.tensor(values, requires_grad=True)
                getattr(x, op)().backward(lib.tensor(inf) if op == "max" else None)
                return x.grad

            assert_same_outcome(grad)


def test_float16_sum_accumulates_in_float32() -> None:
    values = np.random.default_rng(2).random((4096, 3)).astype(np.float16)
    assert_same(mt.tensor(values).sum(0), torch.from_numpy(values).sum(0))

    def broadcast_grad(lib: Any) -> Any:  # the engine sums a broadcast gradient with sum()
        x = lib.tensor(values[:1], requires_grad=True)
        (x * lib.tensor(values)).sum().backward()
        return x.grad

    assert_same_outcome(broadcast_grad)


@pytest.mark.parametrize("op", ["all", "any"])
def test_all_any_of_uint8_give_uint8(op: str) -> None:
    assert_same_outcome(lambda lib: getattr(lib.tensor([[1, 2], [0, 3]], dtype=lib.uint8), op)())
    assert_same_outcome(lambda lib: getattr(lib.tensor([[1, 2], [0, 3]], dtype=lib.uint8), op)(1, keepdim=True))


@pytest.mark.parametrize("call", [
    lambda lib: lib.ones(2, requires_grad=True).sum(dtype=lib.int64),
    lambda lib: lib.ones(2, requires_grad=True).prod(0, dtype=lib.int32),
    lambda lib: lib.ones(2, requires_grad=True).sum(0, dtype=lib.bool),
    lambda lib: lib.ones(2).mean(dtype=lib.int64),
    lambda lib: lib.ones(2, dtype=lib.int64).mean(),
    lambda lib: lib.zeros(3, dtype=lib.bool).argmax((0,)),
    lambda lib: lib.zeros(3, dtype=lib.bool).argmax(5),
], ids=["sum-int", "prod-int", "sum-bool", "mean-dtype", "mean-int", "argmax-bool-tuple", "argmax-bool-range"])
def test_reduction_dtype_errors(call: Callable[[Any], Any]) -> None:
    assert_same_outcome(call, type_error_message=False)


def test_integer_sum_of_a_float_tensor_is_fine_without_grad() -> None:
    with mt.no_grad(), torch.no_grad():
        assert_same(mt.tensor([1.5, 2.5], requires_grad=True).sum(dtype=mt.int64),
                    torch.tensor([1.5, 2.5], requires_grad=True).sum(dtype=torch.int64))
    assert to_torch(mt.ones(2).sum()).item() == 2.0


@pytest.mark.parametrize("source", ["float32", "float64", "int64"])
def test_a_float16_mean_of_wider_input_sums_in_float32(source: str) -> None:
    """mean(dtype=float16) does not round the input to float16 first: 70000 would be inf there."""
    check_both(lambda lib: lib.tensor([70000, 0, 3], dtype=getattr(lib, source)).mean(dtype=lib.float16))
    check_both(lambda lib: lib.tensor([[1, 2], [3, 70000]], dtype=getattr(lib, source)).mean(1, dtype=lib.float16))
