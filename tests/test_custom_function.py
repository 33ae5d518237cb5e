"""Custom autograd Functions written PyTorch's way (static ``forward(ctx, ...)``/``backward(ctx, ...)``),
against torch: values, gradients, ``grad_fn`` names, the ``ctx`` API, several outputs, hooks, double
backward, and the errors torch raises for a backward that returns the wrong thing.

Each scenario is written once as a function of the library (``lib`` = minitorch_lsm or torch).
"""
from __future__ import annotations

import gc
import warnings
import weakref

import numpy as np
import pytest
import torch

import minitorch_lsm as mt
from helpers import assert_same, assert_same_error, check_both, same


def exp_function(lib):
    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad):
            (result,) = ctx.saved_tensors
            return grad * result
    return Exp


def cube_function(lib):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2
    return Cube


def two_outputs_function(lib, materialize=True):
    class Two(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.set_materialize_grads(materialize)
            return a * 2, a * b

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.seen = (g1 is None, g2 is None)
            grad_a = (0 if g1 is None else g1 * 2) + (0 if g2 is None else g2 * 3)
            return grad_a, None if g2 is None else g2 * 5
    return Two


def leaf(lib, values, dtype="float32"):
    return lib.tensor(np.asarray(values), dtype=getattr(lib, dtype), requires_grad=True)


# ---------------------------------------------------------------------- the basics
def test_exp_example_values_gradient_and_node_name():
    def run(lib):
        x = leaf(lib, [0.0, 1.0, -2.0])
        y = exp_function(lib).apply(x)
        y.sum().backward()
        return y, x.grad, type(y.grad_fn).__name__, y.grad_fn.name(), str(y.grad_fn).split(" ")[0][1:].split(".")[-1]
    check_both(run)


def test_learning_pytorch_with_examples_legendre_polynomial_training():
    """The tutorial's LegendrePolynomial3 fit, a few steps of gradient descent on four scalar leaves."""
    def run(lib):
        class P3(lib.autograd.Function):
            @staticmethod
            def forward(ctx, input):
                ctx.save_for_backward(input)
                return 0.5 * (5 * input ** 3 - 3 * input)

            @staticmethod
            def backward(ctx, grad_output):
                (input,) = ctx.saved_tensors
                return grad_output * 1.5 * (5 * input ** 2 - 1)

        x = lib.linspace(-np.pi, np.pi, 200)
        y = lib.sin(x)
        a, b, c, d = (lib.full((), v, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3))
        for _ in range(5):
            y_pred = a + b * P3.apply(c + d * x)
            loss = (y_pred - y).pow(2).sum()
            loss.backward()
            with lib.no_grad():
                for p in (a, b, c, d):
                    p -= 5e-6 * p.grad
                    p.grad = None
        return loss.detach(), a.detach(), b.detach(), c.detach(), d.detach()
    check_both(run)


def test_non_tensor_arguments_and_needs_input_grad():
    def run(lib):
        class Affine(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, scale, w, nothing):
                ctx.scale, ctx.flags = scale, ctx.needs_input_grad
                return x * scale + w

            @staticmethod
            def backward(ctx, grad):
                return grad * ctx.scale, None, grad if ctx.needs_input_grad[2] else None, None

        x, w = leaf(lib, [1.0, 2.0]), lib.tensor([3.0, 4.0])
        y = Affine.apply(x, 3.0, w, None)
        y.sum().backward()
        return y, x.grad, y.grad_fn.flags, y.grad_fn.needs_input_grad, len(y.grad_fn.next_functions)
    check_both(run)


def test_setup_context_style():
    def run(lib):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(x, k=2.0):
                return x * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.k = inputs[1]

            @staticmethod
            def backward(ctx, grad):
                return grad * ctx.k, None

        x = leaf(lib, [1.0, 2.0])
        (Scale.apply(x) + Scale.apply(x, 5.0)).sum().backward()
        return x.grad
    check_both(run)


def test_forward_runs_without_grad_and_outputs_need_an_input_that_requires_grad():
    def run(lib):
        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.grad_mode = lib.is_grad_enabled()
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        x = leaf(lib, [1.0])
        y = Probe.apply(x)
        with lib.no_grad():
            z = Probe.apply(x)
        w = Probe.apply(lib.tensor([1.0]))
        return y.grad_fn.grad_mode, z.requires_grad, z.grad_fn is None, w.requires_grad, w.grad_fn is None
    check_both(run)


# ---------------------------------------------------------------------- several outputs
@pytest.mark.parametrize("materialize", [True, False])
@pytest.mark.parametrize("used", ["first", "second", "both"])
def test_two_outputs(used, materialize):
    def run(lib):
        a, b = leaf(lib, [1.0, 2.0]), leaf(lib, [3.0, 4.0])
        u, v = two_outputs_function(lib, materialize).apply(a, b)
        loss = {"first": u.sum(), "second": (v * v).sum(), "both": (u * v).sum()}[used]
        node = u.grad_fn
        loss.backward()
        return (u, v, a.grad, b.grad, u.grad_fn is v.grad_fn, node.seen,
                [(type(n).__name__, i) for n, i in (u * 1).grad_fn.next_functions],
                [i for _, i in (v * 1).grad_fn.next_functions])
    check_both(run)


def test_hooks_retain_grad_and_prehook_on_outputs():
    def run(lib):
        a, b = leaf(lib, [1.0, 2.0]), leaf(lib, [3.0, 4.0])
        u, v = two_outputs_function(lib).apply(a, b)
        seen = []
        u.retain_grad()
        v.register_hook(lambda g: g * 10)
        u.grad_fn.register_prehook(lambda grads: seen.append(tuple(None if g is None else g.tolist() for g in grads)))
        (u * v).sum().backward()
        return u.grad, a.grad, b.grad, seen
    check_both(run)


def test_autograd_grad_with_respect_to_outputs():
    def run(lib):
        a, b = leaf(lib, [1.0, 2.0]), leaf(lib, [3.0, 4.0])
        u, v = two_outputs_function(lib).apply(a, b)
        first = lib.autograd.grad(v.exp().sum(), [v], retain_graph=True)
        second = lib.autograd.grad((u * v).sum(), [u, a])
        return first, second, a.grad is None
    check_both(run)


def test_views_and_in_place_changes_of_outputs():
    def run(lib):
        a, b = leaf(lib, [1.0, 2.0]), leaf(lib, [3.0, 4.0])
        u, v = two_outputs_function(lib).apply(a, b)
        v[1:].mul_(2)
        (u[0] * v).sum().backward()
        return u, v, a.grad, b.grad
    check_both(run)


def test_non_tensor_outputs_pass_through_and_get_no_gradient():
    def run(lib):
        class WithCount(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, 3

            @staticmethod
            def backward(ctx, grad, nothing):
                ctx.nothing = nothing
                return grad * 2

        x = leaf(lib, [1.0])
        y, n = WithCount.apply(x)
        node = y.grad_fn
        y.sum().backward()
        return y, n, x.grad, node.nothing
    check_both(run)


def test_tuple_of_one_and_non_tuple_results_keep_their_shape():
    def run(lib):
        class One(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return (x * 2,)

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        x = leaf(lib, [1.0])
        (y,) = One.apply(x)
        y.sum().backward()
        return type(One.apply(x)).__name__, x.grad
    check_both(run)


# ---------------------------------------------------------------------- the ctx API
def test_mark_non_differentiable_and_integer_outputs():
    def run(lib):
        class MaxWithIndex(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                values, index = x.max(dim=0)
                doubled = x * 2
                ctx.mark_non_differentiable(index, doubled)
                ctx.save_for_backward(index)
                return values, index, doubled

            @staticmethod
            def backward(ctx, grad_values, grad_index, grad_doubled):
                (index,) = ctx.saved_tensors
                ctx.received = (grad_index.dtype, grad_index.tolist(), grad_doubled.tolist())
                return lib.zeros(3).scatter(0, index.reshape(1), grad_values.reshape(1))

        x = leaf(lib, [3.0, 1.0, 2.0])
        values, index, doubled = MaxWithIndex.apply(x)
        node = values.grad_fn
        (values * 5).backward()
        return (values, index, doubled, index.requires_grad, doubled.requires_grad, x.grad,
                str(node.received[0]), node.received[1:])
    check_both(run)


def test_mark_dirty_in_place_forward():
    def run(lib):
        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        a = leaf(lib, [1.0, 2.0])
        b = a.clone()
        c = Double.apply(b)
        returned_itself, version, name = c is b, b._version, type(b.grad_fn).__name__
        (c * c).sum().backward()
        d = lib.ones(2)
        with lib.no_grad():
            Double.apply(d)
        base = a.clone()
        Double.apply(base[1:])
        a_grad = a.grad.clone()
        a.grad = None
        (base * lib.tensor([1.0, 3.0])).sum().backward()
        return returned_itself, version, name, a_grad, d._version, d, base, a.grad
    check_both(run)


def test_mark_dirty_errors():
    def dirty_but_not_returned(lib):
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x * 1

            @staticmethod
            def backward(ctx, grad):
                return grad
        return Bad.apply(leaf(lib, [1.0]).clone())

    def dirty_leaf(lib):
        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad * 2
        return Double.apply(leaf(lib, [1.0]))

    for scenario in (dirty_but_not_returned, dirty_leaf):
        assert_same_error(lambda: scenario(mt), lambda: scenario(torch))


def test_saved_tensor_changed_in_place_and_freed_after_backward():
    def modified_output(lib):
        y = exp_function(lib).apply(leaf(lib, [1.0, 2.0]))
        with lib.no_grad():
            y.mul_(2)
        y.sum().backward()

    def modified_input(lib):
        x = leaf(lib, [1.0, 2.0]).clone()
        y = cube_function(lib).apply(x)
        x.add_(1)
        y.sum().backward()

    def twice(lib):
        y = exp_function(lib).apply(leaf(lib, [1.0]))
        y.sum().backward()
        y.sum().backward()

    def read_after_backward(lib):
        y = exp_function(lib).apply(leaf(lib, [1.0]))
        y.sum().backward()
        return y.grad_fn.saved_tensors

    for scenario in (modified_output, modified_input, twice, read_after_backward):
        assert_same_error(lambda: scenario(mt), lambda: scenario(torch))


def test_saved_tensors_read_from_the_node_and_retain_graph():
    def run(lib):
        x = leaf(lib, [1.0, 2.0])
        y = exp_function(lib).apply(x)
        saved = y.grad_fn.saved_tensors
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        return saved, saved[0].grad_fn is y.grad_fn, x.grad
    check_both(run)


def test_save_for_backward_takes_only_tensors_and_none():
    def run(lib):
        class Saver(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, None)
                ctx.during_forward = ctx.saved_tensors
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                ctx.during_backward = len(ctx.saved_tensors), ctx.saved_tensors[1]
                return grad

        y = Saver.apply(leaf(lib, [1.0]))
        node = y.grad_fn
        y.sum().backward()
        return node.during_forward, node.during_backward

    check_both(run)

    def bad(lib):
        class Saver(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 3)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad
        return Saver.apply(leaf(lib, [1.0]))
    assert_same_error(lambda: bad(mt), lambda: bad(torch))


# ---------------------------------------------------------------------- what backward returns
@pytest.mark.parametrize("returned", [
    "g", "(None, g)", "(None, g, None)", "(None, g, g)", "(g, g)", "(None, lib.ones(3))", "(None, 3)",
    "(None, lib.ones(2, 2, dtype=lib.float64))", "(None, lib.ones(1, 2))", "(None, lib.ones(1))",
    "(None, lib.ones(2, dtype=lib.int64))", "(None, None)",
])
def test_backward_results_are_checked_and_fitted(returned):
    def run(lib):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, n, a):
                return a * n

            @staticmethod
            def backward(ctx, g):
                return eval(returned, {"lib": lib, "g": g})

        a = leaf(lib, [1.0, 2.0])
        Scale.apply(2, a).sum().backward()
        return a.grad
    check_both(run)


def test_missing_forward_or_backward_and_instances():
    def no_backward(lib):
        class Plain(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2
        y = Plain.apply(leaf(lib, [1.0]))
        assert y.requires_grad
        y.sum().backward()

    def called_instance(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return exp_function(lib)()(leaf(lib, [1.0]))

    for scenario in (no_backward, called_instance):
        assert_same_error(lambda: scenario(mt), lambda: scenario(torch))
    for lib in (mt, torch):
        with pytest.warns(DeprecationWarning, match="should not be instantiated"):
            exp_function(lib)()


def test_an_argument_returned_unchanged_is_a_new_tensor_over_the_same_memory():
    def run(lib):
        class Identity(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad * 5

        a = leaf(lib, [1.0, 2.0])
        z = a.clone()
        s = Identity.apply(z)
        facts = (s is z, type(s.grad_fn).__name__)
        s.sum().backward()
        with lib.no_grad():
            z[0] = 7.0  # the same memory, and so the same version counter
        facts += (s.tolist(), s._version)
        with lib.no_grad():
            quiet = Identity.apply(a)
        return facts, a.grad, quiet is a, quiet.requires_grad
    check_both(run)


# ---------------------------------------------------------------------- gradients of gradients
def test_double_backward_and_gradchecks():
    def run(lib):
        x = leaf(lib, [2.0, 3.0], "float64")
        (g,) = lib.autograd.grad(cube_function(lib).apply(x).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        saved_output = exp_function(lib).apply(x)
        (e,) = lib.autograd.grad(saved_output.sum(), x, create_graph=True)
        (ee,) = lib.autograd.grad(e.sum(), x)
        return g, gg, ee, lib.autograd.gradcheck(cube_function(lib).apply, (x,)), \
            lib.autograd.gradgradcheck(exp_function(lib).apply, (x,))
    check_both(run)


def test_once_differentiable():
    def make(lib):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                ctx.grad_mode = lib.is_grad_enabled()
                return grad * 2 * x
        return Square

    def run(lib):
        x = leaf(lib, [3.0])
        y = make(lib).apply(x)
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad(make(lib).apply(x), x, grad_outputs=lib.ones(1, requires_grad=True),
                                 create_graph=True)
        return g, g.requires_grad, h, h.requires_grad, repr(h).split("grad_fn=")[1], y.grad_fn.grad_mode
    check_both(run)

    def twice(lib):
        x = leaf(lib, [3.0])
        (h,) = lib.autograd.grad(make(lib).apply(x), x, grad_outputs=lib.ones(1, requires_grad=True),
                                 create_graph=True)
        h.backward()
    assert_same_error(lambda: twice(mt), lambda: twice(torch))


def test_nested_custom_functions_and_builtin_ops_mix():
    def run(lib):
        x = leaf(lib, [0.5, -1.0], "float64")
        y = cube_function(lib).apply(exp_function(lib).apply(x * 2) + 1).log_softmax(0)
        u, v = two_outputs_function(lib).apply(y, x)
        (u.sum() + (v * 3).sum()).backward()
        return y, u, v, x.grad
    check_both(run)


# ---------------------------------------------------------------------- memory
def test_the_graph_is_freed_after_backward_without_a_reference_cycle():
    """A saved output is kept as its array, and dirty outputs are let go: refcounting alone frees the node."""
    gc.disable()
    try:
        x = mt.ones(3, requires_grad=True)
        y = exp_function(mt).apply(x)
        node = weakref.ref(y.grad_fn)
        y.sum().backward()
        del y
        assert node() is None
        b = x.clone()

        class Double(mt.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                t.mul_(2)
                ctx.mark_dirty(t)
                return t

            @staticmethod
            def backward(ctx, grad):
                return grad * 2
        c = Double.apply(b)
        node = weakref.ref(c.grad_fn)
        del b, c
        assert node() is None
    finally:
        gc.enable()


def test_same_helper_sees_a_difference():
    """The comparison these tests rest on fails for a gradient that differs (so no test here passes vacuously)."""
    with pytest.raises(AssertionError):
        same(lambda lib: exp_function(lib).apply(leaf(lib, [1.0])).tolist()
             if lib is mt else [0.0])
    with pytest.raises(AssertionError):
        assert_same(mt.tensor([1.0]), torch.tensor([2.0]))


# ====================================================================== when no gradient reaches a node
# PyTorch wakes a node even when every gradient sent to it is undefined (a backward returned None there, or
# a pre-hook dropped it): tensor hooks see None, a custom backward runs on zeros (or None without
# materializing), a built-in node passes None on. Each scenario logs what it saw, in order.

def none_logging_functions(lib, log):
    def shown(g):
        return None if g is None else g.tolist()

    class Drop(lib.autograd.Function):  # its backward gives no gradient
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return None

    class PlusOne(lib.autograd.Function):  # d/dx is "grad + 1": visible when it runs on zeros
        @staticmethod
        def forward(ctx, x, materialize=True):
            ctx.set_materialize_grads(materialize)
            return x.clone()

        @staticmethod
        def backward(ctx, grad):
            log.append(("PlusOne.backward", shown(grad)))
            return (None if grad is None else grad + 1), None
    return Drop, PlusOne, lambda name: (lambda g: log.append((name, shown(g))))


def none_scenario(kind, lib):
    log = []
    Drop, PlusOne, logger = none_logging_functions(lib, log)
    x = lib.tensor([1., 2.], requires_grad=True)
    x.register_hook(logger("hook on x"))
    if kind == "custom below a dropped gradient":
        y = PlusOne.apply(x)
        y.register_hook(logger("hook on y"))
        Drop.apply(y).sum().backward()
    elif kind == "through a built-in node":
        y = PlusOne.apply(x).exp()
        y.register_hook(logger("hook on y"))
        Drop.apply(y).sum().backward()
    elif kind == "not materialized":
        Drop.apply(PlusOne.apply(x, False)).sum().backward()
    elif kind == "pre-hook drops it":
        y = PlusOne.apply(x)
        y.retain_grad()
        y.grad_fn.register_prehook(lambda grads: (None,))
        y.sum().backward()
        log.append(("y.grad", y.grad.tolist()))
    elif kind == "built-in only":
        z = x.exp()
        z.retain_grad()
        Drop.apply(z).sum().backward()
        log.append(("z.grad", z.grad))
    elif kind == "beside a real gradient":
        (Drop.apply(PlusOne.apply(x)) + x).sum().backward()
    elif kind == "unused output's hook":
        a, b = two_outputs_function(lib).apply(x, lib.tensor([1., 1.]))
        a.register_hook(logger("hook on a"))
        b.register_hook(logger("hook on b"))
        b.retain_grad()
        a.sum().backward()
        log.append(("b.grad", b.grad))
    log.append(("x.grad", None if x.grad is None else x.grad.tolist()))
    return log


@pytest.mark.parametrize("kind", ["custom below a dropped gradient", "through a built-in node", "not materialized",
                                  "pre-hook drops it", "built-in only", "beside a real gradient",
                                  "unused output's hook"])
def test_a_node_no_gradient_reaches_still_runs(kind):
    assert none_scenario(kind, mt) == none_scenario(kind, torch)


def test_a_hook_given_none_may_not_return_a_gradient():
    def run(lib):
        Drop, _, _ = none_logging_functions(lib, [])
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x.exp()
        y.register_hook(lambda g: lib.ones(2))
        Drop.apply(y).sum().backward()
    assert_same_error(lambda: run(mt), lambda: run(torch))


@pytest.mark.parametrize("allow_unused", [False, True])
def test_grad_of_a_tensor_only_none_reached(allow_unused):
    def run(lib):
        Drop, _, _ = none_logging_functions(lib, [])
        x, w = lib.tensor([1., 2.], requires_grad=True), lib.tensor([1., 2.], requires_grad=True)
        return lib.autograd.grad(Drop.apply(x * w).sum(), [w, x], allow_unused=allow_unused)
    check_both(run)


# ====================================================================== views made by forward
# An output that is a view (made in forward, or an argument returned as it is) has the custom backward as
# its history; PyTorch forbids in-place changes that would replace it, through the view or its base.

def view_functions(lib):
    class Same(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    class Head(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x[:2]

        @staticmethod
        def backward(ctx, grad):
            return lib.cat([grad, lib.zeros(1)]) * 2

    class Halves(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x[:2], x[1:]

        @staticmethod
        def backward(ctx, g1, g2):
            return lib.ones(3)

    class HeadAndNumber(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x[:2], k

        @staticmethod
        def backward(ctx, grad, _):
            return lib.ones(3), None
    return Same, Head, Halves, HeadAndNumber


VIEW_CASES = {
    "argument returned, changed": lambda lib, F, b: F[0].apply(b).mul_(2),
    "argument returned, argument changed": lambda lib, F, b: (F[0].apply(b), b.mul_(2))[0].grad_fn,
    "view returned, changed": lambda lib, F, b: F[1].apply(b).mul_(2),
    "view returned, base changed": lambda lib, F, b: (F[1].apply(b), b.mul_(2))[0].grad_fn,
    "view returned, base changed, used": lambda lib, F, b: (F[1].apply(b), b.mul_(2))[0] * 1,
    "view of the view changed": lambda lib, F, b: F[1].apply(b)[:1].mul_(2),
    "two views, one changed": lambda lib, F, b: F[2].apply(b)[1].mul_(2),
    "two views, base changed": lambda lib, F, b: (F[2].apply(b), b.mul_(2))[0][0].grad_fn,
    "view and a number, changed": lambda lib, F, b: F[3].apply(b, 3)[0].mul_(2),
    "changed under no_grad, then used": lambda lib, F, b: _changed_without_grad(lib, F[1].apply(b)).sum().backward(),
    "leaf returned, changed": lambda lib, F, b: F[0].apply(b.grad_fn.next_functions[0][0].variable).mul_(2),
    "base changed under no_grad, flag read": lambda lib, F, b: (F[1].apply(b), _changed_without_grad(lib, b))[0]
    .requires_grad,
    "no_grad view of the view, changed": lambda lib, F, b: _no_grad_view(lib, F[1].apply(b)).add_(1),
}


def _no_grad_view(lib, t):
    with lib.no_grad():
        return t.view(2)


def _changed_without_grad(lib, view):
    with lib.no_grad():
        view.mul_(2)
    return view


@pytest.mark.parametrize("case", list(VIEW_CASES))
def test_in_place_changes_of_views_forward_made_raise_torchs_errors(case):
    """(or, reading the flag, do not raise: only using the view does)"""
    def run(lib):
        b = lib.tensor([1., 2., 3.], requires_grad=True) * 1
        return VIEW_CASES[case](lib, view_functions(lib), b)
    check_both(run)


def test_views_forward_made_work_where_nothing_records():
    def run(lib):
        Same, Head, _, _ = view_functions(lib)
        x = lib.tensor([1., 2., 3.])
        y = Same.apply(x)
        y.mul_(2)                               # nothing requires grad: no history to protect
        b = lib.tensor([1., 2., 3.], requires_grad=True) * 1
        with lib.no_grad():
            z = Same.apply(b)                   # under no_grad an argument comes back as no view
        z.mul_(2)
        return x, y._is_view(), z._is_view(), z.requires_grad, b
    check_both(run)


def test_a_view_forward_made_under_no_grad_is_a_no_grad_view():
    """(torch's message goes on with the custom-Function sentence; ours stops after the first two)"""
    for lib in (mt, torch):
        Head = view_functions(lib)[1]
        b = lib.tensor([1., 2., 3.], requires_grad=True) * 1
        with lib.no_grad():
            z = Head.apply(b)
        with pytest.raises(RuntimeError, match="^A view was created in no_grad mode and is being modified inplace "
                                               "with grad mode enabled."):
            z.mul_(2)


def test_views_forward_made_backpropagate_through_the_custom_backward():
    def run(lib):
        Same, Head, _, _ = view_functions(lib)
        x = lib.tensor([1., 2., 3.], requires_grad=True)
        (Same.apply(x * 1).sum() + Head.apply(x * 1).sum()).backward()
        return x.grad
    check_both(run)


def test_an_argument_returned_and_marked_non_differentiable_is_a_detached_alias():
    def run(lib):
        class Marked(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mark_non_differentiable(x)
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad
        x = lib.ones(3, requires_grad=True)
        y = Marked.apply(x)
        seen = (y.requires_grad, y.grad_fn, y._is_view())
        y.add_(1)  # nothing to record: allowed, and it changes x's memory
        return seen, x
    check_both(run)
