"""Gradient checking: compare the gradients autograd computes with finite differences.

For each element ``x[k]`` of each input that requires grad, the *numerical* Jacobian row is the central
difference ``J_num[k, j] = (f(x + eps e_k)[j] - f(x - eps e_k)[j]) / (2 eps)``, whose error shrinks like
``eps**2`` (the first-order terms of the two Taylor series cancel). The *analytical* Jacobian comes from
autograd: backward from output element ``j`` with a one-hot ``grad_output`` gives column ``J_an[:, j]``.
They agree when ``|J_an - J_num| <= atol + rtol * |J_num|`` elementwise. Use float64: with ``eps = 1e-6``,
float32 rounding (1e-7 of each value) swamps the difference. ``gradgradcheck`` runs the same check on
the function that returns the gradients, so it tests second derivatives.

Examples:
    >>> import minitorch_lsm as torch
    >>> x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    >>> torch.autograd.gradcheck(lambda x: (x * x).log1p(), x)
    True
"""
from __future__ import annotations

import itertools
import warnings
from typing import Any, Callable, Iterator

from .. import _creation, _dtype, _random
from ..tensor import Tensor
from .grad_mode import no_grad

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` and :func:`gradgradcheck` when a check fails.

    Examples:
        >>> from minitorch_lsm.autograd.gradcheck import GradcheckError
        >>> issubclass(GradcheckError, RuntimeError)
        True
    """


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _floating(out: Any) -> tuple[Tensor, ...]:
    """The outputs that can have gradients (non-floating ones are ignored)."""
    return tuple(o for o in _as_tuple(out) if isinstance(o, Tensor) and o.dtype.is_floating_point)


def _positions(t: Tensor) -> Iterator[tuple[int, ...]]:  # row-major, the order of t.reshape(-1)
    return itertools.product(*(range(n) for n in t.shape))


def _allclose(a: Tensor, b: Tensor, rtol: float, atol: float) -> bool:
    with no_grad():
        return bool(((a - b).abs() <= atol + rtol * b.abs()).all())


def _numerical_jacobian(func: Callable[..., Any], inputs: tuple[Any, ...], x: Tensor,
                        outputs: tuple[Tensor, ...], eps: float) -> list[Tensor]:
    """For each output, the (x.numel(), output.numel()) matrix of central differences."""
    def run() -> list[Tensor]:  # clone: an output may share memory with x
        return [o.detach().clone() for o in _floating(func(*inputs))]

    jacobians = [_creation.zeros(x.numel(), o.numel(), dtype=o.dtype, device=o.device) for o in outputs]
    for k, idx in enumerate(_positions(x)):
        # Write straight into the raw array (numpy or cupy alike): autograd sees nothing and no version
        # is bumped, so what the graph saved stays valid once the value is restored.
        original = x._data[idx].item()
        try:
            x._data[idx] = original - eps
            before = run()
            x._data[idx] = original + eps
            after = run()
        finally:
            x._data[idx] = original
        with no_grad():
            for jacobian, a, b in zip(jacobians, before, after):
                jacobian._data[k] = ((b - a) / (2 * eps)).reshape(-1)._data
    return jacobians


def _analytical_jacobian(output: Tensor, diff: list[Tensor], nondet_tol: float,
                         check_grad_dtypes: bool) -> list[Tensor]:
    """For each input, the (input.numel(), output.numel()) matrix autograd gives, one column per backward.
    It is computed twice, to catch a backward that is not deterministic."""
    from . import grad

    runs = []
    for _ in range(2):
        jacobians = [_creation.zeros(x.numel(), output.numel(), dtype=x.dtype, device=x.device) for x in diff]
        for j, idx in enumerate(_positions(output)):
            one_hot = _creation.zeros_like(output)
            one_hot._data[idx] = 1
            grads = grad(output, diff, one_hot, retain_graph=True, allow_unused=True)
            for jacobian, x, g in zip(jacobians, diff, grads):
                if g is None:  # x does not reach this output: the column stays zero
                    continue
                if check_grad_dtypes and g.dtype is not x.dtype:
                    raise GradcheckError("Gradient has dtype mismatch")
                jacobian._data[:, j] = g._data.reshape(-1)
        runs.append(jacobians)
    if not all(_allclose(a, b, 0.0, nondet_tol) for a, b in zip(*runs)):
        raise GradcheckError(
            "Backward is not reentrant, i.e., running backward with same input and grad_output multiple times "
            "gives different values, although analytical gradient matches numerical gradient."
            f"The tolerance for nondeterminism was {nondet_tol}.")
    return runs[0]


def gradcheck(func: Callable[..., Any], inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False, masked: bool | None = None) -> bool:
    """Check autograd's gradients of ``func(*inputs)`` against central finite differences.

    Only floating inputs with ``requires_grad`` are checked, against the outputs that require grad (if
    none does, the numerical Jacobian must be zero). Returns True, or on a mismatch raises
    :class:`GradcheckError` (returns False if not ``raise_exception``). ``nondet_tol`` bounds how much two
    runs of backward may differ; ``check_grad_dtypes`` requires each gradient to have its input's dtype.
    Accepted and ignored, as they name what this library lacks: ``check_undefined_grad`` (a node has one
    output, so backward never sees an undefined gradient), ``check_batched_grad`` and
    ``check_batched_forward_grad`` (no vmap), ``check_forward_ad`` (no forward mode), ``fast_mode``
    (full Jacobians are always compared: the stricter check) and ``masked`` (no sparse tensors).

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.tensor([1., 2.], dtype=torch.float64, requires_grad=True)
        >>> torch.autograd.gradcheck(lambda x: (x * x).sum(), x)
        True
        >>> kink = torch.tensor([1e-9], dtype=torch.float64, requires_grad=True)  # relu is not differentiable at 0
        >>> torch.autograd.gradcheck(torch.relu, kink, raise_exception=False)
        False
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    inputs = _as_tuple(inputs)
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype is not _dtype.float64:
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating "
                          "point or complex. ", stacklevel=2)
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of them have requires_grad=True.")
    outputs = _floating(func(*inputs))
    if not check_backward_ad:
        return True
    try:
        numerical = [_numerical_jacobian(func, inputs, x, outputs, eps) for x in diff]  # [input][output]
        checked = [(o, [n[k] for n in numerical]) for k, o in enumerate(outputs) if o.requires_grad]
        if not checked and any(bool((n != 0).any()) for per_input in numerical for n in per_input):
            raise GradcheckError("Numerical gradient for function expected to be zero")
        for i, (output, numerical_per_input) in enumerate(checked):
            analytical = _analytical_jacobian(output, diff, nondet_tol, check_grad_dtypes)
            for j, (a, n) in enumerate(zip(analytical, numerical_per_input)):
                if not _allclose(a, n, rtol, atol):
                    raise GradcheckError(f"Jacobian mismatch for output {i:d} with respect to input {j:d},\n"
                                         f"numerical:{n}\nanalytical:{a}\n")
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func: Callable[..., Any], inputs: Any, grad_outputs: Any = None, *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False, masked: bool = False) -> bool:
    """Check second derivatives: :func:`gradcheck` of ``(*inputs, *grad_outputs) -> autograd.grad(...)``,
    the gradients of ``func``'s outputs weighted by ``grad_outputs``, built with ``create_graph=True``.

    When ``grad_outputs`` is None, random ones that require grad are drawn (fixed seed, each output's
    dtype). ``gen_non_contig_grad_outputs`` is ignored (no strides here); ``check_fwd_over_rev`` and
    ``check_rev_over_rev`` become gradcheck's ``check_forward_ad`` and ``check_backward_ad``.

    Examples:
        >>> import minitorch_lsm as torch
        >>> x = torch.tensor([1., 2.], dtype=torch.float64, requires_grad=True)
        >>> torch.autograd.gradgradcheck(lambda x: (x ** 3).sum(), x)
        True
    """
    from . import grad

    def differentiable(out: Any) -> list[Tensor]:
        return [o for o in _as_tuple(out) if isinstance(o, Tensor) and o.requires_grad]

    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        generator = _random.Generator().manual_seed(0)
        grad_outputs = tuple(_random.randn(o.shape, dtype=o.dtype, generator=generator).to(o.device).requires_grad_()
                             for o in differentiable(func(*inputs)))

    def new_func(*args: Tensor) -> tuple[Tensor, ...]:
        ins, outs_grads = args[:len(inputs)], args[len(inputs):]
        diff = [x for x in ins if isinstance(x, Tensor) and x.requires_grad]
        grads = grad(differentiable(func(*ins)), diff, outs_grads, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(new_func, inputs + _as_tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad, check_grad_dtypes=check_grad_dtypes,
                     check_batched_grad=check_batched_grad, check_forward_ad=check_fwd_over_rev,
                     check_backward_ad=check_rev_over_rev, fast_mode=fast_mode, masked=masked)


gradcheck.GradcheckError = GradcheckError  # type: ignore[attr-defined]  # torch.autograd.gradcheck.GradcheckError
