"""One test per trap in the reference's trap list, and one per row of its non-finite table (§4), each
checked against PyTorch (values, gradients, dtypes, warnings, errors) and against the reference's numbers."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minitorch_lsm as mt
import minitorch_lsm.nn.functional as F
from oracle import DEVICES, assert_close, assert_same_error, pair, recorded_warnings, silently, warning_summary

pytestmark = pytest.mark.usefixtures("c_and_numpy_kernels")  # each test runs on the C kernels and on the NumPy ones

EX_X = np.array([[1., 2., 3.], [1., 1., 1.], [0., 5., 1.]], dtype=np.float32)
EX_T = np.array([2, 0, 1])
EX_W = np.array([1., 2., 4.], dtype=np.float32)
inf, nan = np.inf, np.nan


def numbers(t) -> np.ndarray:
    return np.asarray(t.detach().cpu().numpy(), dtype=np.float64)


# ---------------------------------------------------------------------- the ten traps
def test_trap_01_implicit_dim_of_3d_input_is_0():
    x = np.random.default_rng(0).standard_normal((2, 3, 3)).astype(np.float32)
    a, e = pair(x)
    out, caught = recorded_warnings(lambda: F.log_softmax(a))
    expected, expected_caught = recorded_warnings(lambda: TF.log_softmax(e))
    assert_close(out, expected)
    assert_close(out, TF.log_softmax(e, 0))
    assert warning_summary(caught) == warning_summary(expected_caught) == [
        (UserWarning, "Implicit dimension choice for log_softmax has been deprecated. "
                      "Change the call to include dim=X as an argument.")]
    assert caught[0].filename == __file__
    for shape, dim in [((), 0), ((3,), 0), ((2, 3), 1), ((2, 3, 3, 3), 1), ((2, 2, 2, 2, 2), 1)]:
        a, e = pair(np.random.default_rng(1).standard_normal(shape).astype(np.float32))
        assert_close(silently(lambda: F.log_softmax(a)), TF.log_softmax(e, dim))


def test_trap_02_third_positional_argument_is_stacklevel():
    a, e = pair(np.array([[1., 2., 3.]], np.float32))
    assert F.softmax(a, 1, mt.float64).dtype is mt.float32
    assert TF.softmax(e, 1, torch.float64).dtype is torch.float32
    assert F.log_softmax(a, 1, 3, mt.float64).dtype is mt.float64
    assert_close(F.softmax(a, 1, dtype=mt.float64), TF.softmax(e, 1, dtype=torch.float64))
    assert_close(mt.softmax(a, 1, mt.float64), torch.softmax(e, 1, torch.float64))
    assert_close(a.log_softmax(1, mt.float64), e.log_softmax(1, torch.float64))


def test_trap_03_dtype_casts_first_grad_in_input_dtype_integer_rules():
    x64 = np.random.default_rng(2).standard_normal((3, 4)) * 3
    a, e = pair(x64, requires_grad=True)
    out = F.log_softmax(a, 1, dtype=mt.float32)
    first = F.log_softmax(mt.tensor(x64).float(), 1)
    np.testing.assert_array_equal(out.detach().numpy(), first.numpy())
    expected = TF.log_softmax(e, 1, dtype=torch.float32)
    assert_close(out, expected)
    out.sum().backward()
    expected.sum().backward()
    assert a.grad.dtype is mt.float64
    assert_close(a.grad, e.grad, rtol=1.3e-6, atol=1e-5)
    ai, ei = pair(np.array([[1, 2, 3], [1, 1, 1]]))
    assert_same_error(lambda: F.log_softmax(ai, 1), lambda: TF.log_softmax(ei, 1))
    assert_same_error(lambda: F.log_softmax(ai, 0), lambda: TF.log_softmax(ei, 0))
    with pytest.raises(NotImplementedError, match='"log_softmax_lastdim_kernel_impl" not implemented for \'Long\''):
        F.log_softmax(ai, 1)
    with pytest.raises(NotImplementedError, match='"log_softmax_kernel_impl" not implemented for \'Long\''):
        F.log_softmax(ai, 0)
    assert_close(F.log_softmax(ai, 1, dtype=mt.float32), TF.log_softmax(ei, 1, dtype=torch.float32))
    empty_a, empty_e = pair(np.zeros((0, 3), np.int64))
    assert_close(F.log_softmax(empty_a, 1), TF.log_softmax(empty_e, 1))
    assert_close(mt.logsumexp(ai, 1), torch.logsumexp(ei, 1))


@pytest.mark.parametrize("device", DEVICES)
def test_trap_04_weighted_mean_divides_by_target_weights(device):
    a, e = pair(EX_X, device=device, requires_grad=True)
    ta, te = pair(EX_T, device=device)
    wa, we = pair(EX_W, device=device)
    la, le = F.log_softmax(a, 1), TF.log_softmax(e, 1)
    out, expected = F.nll_loss(la, ta, wa), TF.nll_loss(le, te, we)
    assert_close(out, expected)
    assert abs(out.item() - 2.7785 / 7) < 1e-4
    out = F.nll_loss(la, ta, wa, ignore_index=2)
    assert_close(out, TF.nll_loss(le, te, we, ignore_index=2))
    assert abs(out.item() - 1.1481 / 3) < 1e-4
    # every target ignored: forward nan, gradient exactly 0
    b, f = pair(EX_X, device=device, requires_grad=True)
    ignored_a, ignored_e = pair(np.zeros(3, np.int64), device=device)
    out, expected = F.nll_loss(b, ignored_a, ignore_index=0), TF.nll_loss(f, ignored_e, ignore_index=0)
    assert_close(out, expected)
    assert np.isnan(out.item())
    out.backward()
    expected.backward()
    assert_close(b.grad, f.grad)
    assert (numbers(b.grad) == 0).all()
    # every weight zero: forward nan, gradient nan at the target positions
    c, g = pair(EX_X, device=device, requires_grad=True)
    za, ze = pair(np.zeros(3, np.float32), device=device)
    out, expected = F.nll_loss(c, ta, za), TF.nll_loss(g, te, ze)
    assert_close(out, expected)
    out.backward()
    expected.backward()
    assert_close(c.grad, g.grad)
    assert np.isnan(numbers(c.grad)[np.arange(3), EX_T]).all()


def test_trap_05_probability_target_mean_divides_by_positions():
    a, e = pair(EX_X, requires_grad=True)
    wa, we = pair(EX_W)
    onehot = np.eye(3, dtype=np.float32)[EX_T]
    pa, pe = pair(onehot)
    ta, te = pair(EX_T)
    out, expected = F.cross_entropy(a, pa, wa), TF.cross_entropy(e, pe, we)
    assert_close(out, expected)
    assert abs(out.item() - 0.926175) < 1e-5
    index = F.cross_entropy(a, ta, wa)
    assert_close(index, TF.cross_entropy(e, te, we))
    assert abs(index.item() - 0.396932) < 1e-5
    out.backward()
    expected.backward()
    assert_close(a.grad, e.grad)
    la, le = pair(np.eye(3, dtype=np.int64)[EX_T])
    assert_same_error(lambda: F.cross_entropy(a, la), lambda: TF.cross_entropy(e, le))


def test_trap_06_label_smoothing_with_weights_and_negative_epsilon():
    a, e = pair(EX_X, requires_grad=True)
    wa, we = pair(EX_W)
    ta, te = pair(EX_T)
    out, expected = F.cross_entropy(a, ta, wa, label_smoothing=0.1), TF.cross_entropy(e, te, we, label_smoothing=0.1)
    assert_close(out, expected)
    assert abs(out.item() - 0.527319) < 1e-5
    none = F.cross_entropy(a, ta, wa, reduction="none", label_smoothing=0.1)
    assert_close(none, TF.cross_entropy(e, te, we, reduction="none", label_smoothing=0.1))
    np.testing.assert_allclose(numbers(none), [1.695823, 1.245094, 0.750315], atol=1e-5)
    out.backward()
    expected.backward()
    assert_close(a.grad, e.grad)
    # a negative epsilon is no smoothing at all
    assert_close(F.cross_entropy(a, ta, wa, label_smoothing=-0.5), TF.cross_entropy(e, te, we, label_smoothing=-0.5))
    np.testing.assert_array_equal(numbers(F.cross_entropy(a, ta, wa, label_smoothing=-0.5)), numbers(F.cross_entropy(a, ta, wa)))
    # epsilon > 1 only fails at forward time
    module = mt.nn.CrossEntropyLoss(label_smoothing=1.5)
    assert_same_error(lambda: module(a, ta), lambda: torch.nn.CrossEntropyLoss(label_smoothing=1.5)(e, te))
    with pytest.raises(RuntimeError, match=r"^label_smoothing must be between 0.0 and 1.0. Got: 1.5$"):
        module(a, ta)


@pytest.mark.parametrize("device", DEVICES)
def test_trap_07_target_validation(device):
    a, e = pair(EX_X, device=device)
    for bad in (np.array([2, 0, 1], np.int32), np.array([2, 0, 1], np.int16), np.array([2., 0., 1.], np.float32),
                np.array([True, False, True])):
        ta, te = pair(bad, device=device)
        for reduction in ("mean", "none"):
            assert_same_error(lambda: F.nll_loss(a, ta, reduction=reduction), lambda: TF.nll_loss(e, te, reduction=reduction))
            assert_same_error(lambda: F.cross_entropy(a, ta, reduction=reduction),
                              lambda: TF.cross_entropy(e, te, reduction=reduction))
    with pytest.raises(RuntimeError, match="^expected target dtype to be Long or Byte, but got Int$"):
        F.nll_loss(a, mt.tensor([2, 0, 1], dtype=mt.int32).to(device))
    for bad in ([3, 0, 1], [-1, 0, 1], [2, 0, 100]):
        ta, te = pair(np.array(bad), device=device)
        for reduction in ("mean", "sum", "none"):
            assert_same_error(lambda: F.nll_loss(a, ta, reduction=reduction), lambda: TF.nll_loss(e, te, reduction=reduction))
    ta, te = pair(np.array([-1, 0, 1]), device=device)
    assert_close(F.nll_loss(a, ta, ignore_index=-1), TF.nll_loss(e, te, ignore_index=-1))
    ta, te = pair(np.array([255, 0, 1]), device=device)
    assert_close(F.nll_loss(a, ta, ignore_index=255), TF.nll_loss(e, te, ignore_index=255))
    ta, te = pair(np.array([2, 0]), device=device)
    err = assert_same_error(lambda: F.nll_loss(a, ta), lambda: TF.nll_loss(e, te))
    assert isinstance(err, ValueError) and str(err) == "Expected input batch_size (3) to match target batch_size (2)."


def test_trap_08_non_finite_rows():
    rows = np.array([[1., inf, 2.], [1., nan, 2.], [-inf, -inf, -inf], [1., -inf, 2.]], np.float32)
    a, e = pair(rows)
    assert_close(F.log_softmax(a, 1), TF.log_softmax(e, 1))
    assert_close(F.softmax(a, 1), TF.softmax(e, 1))
    assert_close(mt.logsumexp(a, 1), torch.logsumexp(e, 1))
    assert np.isnan(numbers(F.log_softmax(a, 1))[:3]).all()
    np.testing.assert_array_equal(numbers(mt.logsumexp(a, 1))[[0, 2]], [inf, -inf])
    assert_close(mt.logsumexp(mt.zeros(3, 0), 1), torch.logsumexp(torch.zeros(3, 0), 1))
    x, t1, t0 = np.array([[0., -inf]], np.float32), np.array([1]), np.array([0])
    for target, value in ((t1, inf), (t0, 0.0)):
        a, e = pair(x, requires_grad=True)
        ta, te = pair(target)
        out, expected = F.cross_entropy(a, ta), TF.cross_entropy(e, te)
        assert_close(out, expected)
        assert out.item() == value
        out.backward()
        expected.backward()
        assert_close(a.grad, e.grad)
    a, e = pair(x)
    pa, pe = pair(np.array([[1., 0.]], np.float32))
    assert_close(F.cross_entropy(a, pa), TF.cross_entropy(e, pe))
    assert np.isnan(F.cross_entropy(a, pa).item())


@pytest.mark.parametrize("device", DEVICES)
def test_trap_09_empty_batches(device):
    a, e = pair(np.zeros((0, 3), np.float32), device=device, requires_grad=True)
    ta, te = pair(np.zeros(0, np.int64), device=device)
    for function, reference in ((F.nll_loss, TF.nll_loss), (F.cross_entropy, TF.cross_entropy)):
        for reduction in ("mean", "sum", "none"):
            out, expected = function(a, ta, reduction=reduction), reference(e, te, reduction=reduction)
            assert_close(out, expected, what=f"{reference.__name__} {reduction}")
            out.sum().backward()
            expected.sum().backward()
            assert_close(a.grad, e.grad)
        assert np.isnan(function(a, ta).item())
        assert function(a, ta, reduction="sum").item() == 0.0
    assert_close(F.log_softmax(a, 1), TF.log_softmax(e, 1))
    assert_close(F.softmax(a, 0), TF.softmax(e, 0))


def test_trap_10_shapes_reductions_and_reprs():
    logits = np.array([1., 2., 3.], np.float32)
    for target in (np.array(2), np.array([2])):
        a, e = pair(logits)
        ta, te = pair(target)
        for reduction in ("none", "mean", "sum"):
            assert_close(F.nll_loss(a, ta, reduction=reduction), TF.nll_loss(e, te, reduction=reduction))
            assert_close(F.cross_entropy(a, ta, reduction=reduction), TF.cross_entropy(e, te, reduction=reduction))
            assert F.cross_entropy(a, ta, reduction=reduction).shape == ()
    a, e = pair(EX_X)
    ta, te = pair(np.zeros((3, 2), np.int64))
    assert_same_error(lambda: F.nll_loss(a, ta), lambda: TF.nll_loss(e, te))
    ta, te = pair(EX_T)
    assert_same_error(lambda: F.nll_loss(a, ta, reduction="avg"), lambda: TF.nll_loss(e, te, reduction="avg"))
    module = mt.nn.NLLLoss(reduction="avg")  # accepted until called
    assert_same_error(lambda: module(a, ta), lambda: torch.nn.NLLLoss(reduction="avg")(e, te))
    out, caught = recorded_warnings(lambda: F.nll_loss(a, ta, reduce=True, reduction="bad"))
    expected, expected_caught = recorded_warnings(lambda: TF.nll_loss(e, te, reduce=True, reduction="bad"))
    assert_close(out, expected)
    assert warning_summary(caught) == warning_summary(expected_caught)
    w = mt.tensor([1., 2., 3.])
    assert repr(mt.nn.CrossEntropyLoss(label_smoothing=.1, weight=w)) == "CrossEntropyLoss()"
    assert repr(mt.nn.LogSoftmax(dim=1)) == "LogSoftmax(dim=1)"
    # promotion rules that loss code relies on
    assert (mt.tensor([1, 2]) + mt.tensor(1., dtype=mt.float64)).dtype is mt.float64
    assert (mt.tensor([1., 2.]) + mt.tensor(1., dtype=mt.float64)).dtype is mt.float32
    assert mt.tensor(np.array([1., 2.])).dtype is mt.float64


# ---------------------------------------------------------------------- §4: non-finite rows, one test per row
def _row_check(row, ls=None, sm=None, lse=None, ls_e0=None, ls_sum=None, sm_e0=None, sm_sum=None, lse_grad=None,
               ls_grads_nan=False, sm_grads_nan=False):
    """Compare log_softmax, softmax and logsumexp of one (1, 3) row, and their gradients, with torch
    and with the reference's printed numbers."""
    x = np.array([row], dtype=np.float32)
    results = {}
    for name, f, tf in (("ls", F.log_softmax, TF.log_softmax), ("sm", F.softmax, TF.softmax)):
        for grad_name, grad in (("e0", np.array([[1., 0., 0.]], np.float32)), ("sum", np.ones((1, 3), np.float32))):
            a, e = pair(x, requires_grad=True)
            out, expected = f(a, 1), tf(e, 1)
            assert_close(out, expected, what=f"{name}({row})")
            out.backward(mt.tensor(grad))
            expected.backward(torch.tensor(grad))
            assert_close(a.grad, e.grad, what=f"{name} g({grad_name}) of {row}")
            results[name] = numbers(out)[0]
            results[f"{name}_{grad_name}"] = numbers(a.grad)[0]
    a, e = pair(x, requires_grad=True)
    out, expected = mt.logsumexp(a, 1), torch.logsumexp(e, 1)
    assert_close(out, expected, what=f"logsumexp({row})")
    out.sum().backward()
    expected.sum().backward()
    assert_close(a.grad, e.grad, what=f"logsumexp grad of {row}")
    results["lse"], results["lse_grad"] = numbers(out)[0], numbers(a.grad)[0]

    def agree(key, value, atol=1e-4):
        if value is not None:
            np.testing.assert_allclose(results[key], value, rtol=1e-4, atol=atol, equal_nan=True, err_msg=key)
    agree("ls", ls), agree("sm", sm), agree("lse", lse), agree("ls_e0", ls_e0), agree("ls_sum", ls_sum)
    agree("sm_e0", sm_e0), agree("sm_sum", sm_sum), agree("lse_grad", lse_grad)
    if ls_grads_nan:
        assert np.isnan(results["ls_e0"]).all() and np.isnan(results["ls_sum"]).all()
    if sm_grads_nan:
        assert np.isnan(results["sm_e0"]).all() and np.isnan(results["sm_sum"]).all()
    return results


def test_nonfinite_row_plus_inf():
    _row_check([1., inf, 2.], ls=[nan] * 3, sm=[nan] * 3, lse=inf, lse_grad=[0., nan, 0.],
               ls_grads_nan=True, sm_grads_nan=True)


def test_nonfinite_row_inf_and_minus_inf():
    _row_check([inf, -inf, 0.], ls=[nan] * 3, sm=[nan] * 3, lse=inf, lse_grad=[nan, 0., 0.])


def test_nonfinite_row_one_minus_inf():
    r = _row_check([1., -inf, 2.], ls=[-1.3133, -inf, -0.3133], sm=[0.2689, 0., 0.7311], lse=2.3133,
                   ls_e0=[0.7311, 0., -0.7311], ls_sum=[0.1932, 1.0, -1.1932], sm_e0=[0.1966, 0., -0.1966])
    assert np.signbit(r["sm_e0"][1])  # -0., as torch


def test_nonfinite_row_all_minus_inf():
    r = _row_check([-inf, -inf, -inf], ls=[nan] * 3, sm=[nan] * 3, lse=-inf, lse_grad=[nan] * 3,
                   ls_grads_nan=True, sm_grads_nan=True)
    assert np.isnan(r["lse_grad"]).all()


def test_nonfinite_row_nan():
    r = _row_check([1., nan, 2.], ls=[nan] * 3, sm=[nan] * 3, lse=nan, lse_grad=[nan] * 3,
                   ls_grads_nan=True, sm_grads_nan=True)
    assert np.isnan(r["lse"])


def test_nonfinite_row_huge_spread():
    _row_check([1e30, 0., -1e30], ls=[0., -1e30, -2e30], sm=[1., 0., 0.], lse=1e30, ls_sum=[-2., 1., 1.],
               sm_sum=[0., 0., 0.])


@pytest.mark.parametrize("value", [1e30, -1e30])
def test_nonfinite_row_all_huge_equal(value):
    r = _row_check([value] * 3, ls=[-1.0986] * 3, sm=[0.3333] * 3, lse=value)
    # torch gets 5.96e-08 (float32 rounding of 1 - 3 * exp(-log 3), with a correctly rounded exp); NumPy's
    # float32 exp rounds the other way here and gives 0: both are within one float32 ulp of 1
    assert (np.abs(r["ls_sum"]) <= 1.2e-7).all()


def test_nonfinite_row_near_float32_max():
    r = _row_check([3e38, 3e38, 0.], ls=[-0.6931, -0.6931, -3e38], sm=[0.5, 0.5, 0.], lse=3e38)
    assert np.isfinite(r["ls"]).all() and np.isfinite(r["lse"])


def test_nonfinite_row_wide_range():
    r = _row_check([0., 100., 200.], ls=[-200., -100., 0.], sm=[0., 3.78e-44, 1.], lse=200., sm_sum=[0., 0., 0.])
    assert r["sm"][1] > 0  # a float32 subnormal, not flushed to 0


# ---------------------------------------------------------------------- §4: cross_entropy with non-finite logits
@pytest.mark.parametrize("logits,target,smoothing", [
    ([0., -inf], 1, 0.0), ([0., -inf], 0, 0.0), ([-inf, -inf], 0, 0.0), ([inf, 0.], 0, 0.0), ([0., -inf], 0, 0.1),
    ([0., -inf], [1., 0.], 0.0), ([0., -inf], [0., 1.], 0.0), ([0., -inf], [1., 0.], 0.1)])
def test_cross_entropy_non_finite_logits(logits, target, smoothing):
    a, e = pair(np.array([logits], np.float32), requires_grad=True)
    target = np.array([target], np.float32 if isinstance(target, list) else np.int64)
    ta, te = pair(target)
    out = F.cross_entropy(a, ta, label_smoothing=smoothing)
    expected = TF.cross_entropy(e, te, label_smoothing=smoothing)
    assert_close(out, expected)
    out.backward()
    expected.backward()
    assert_close(a.grad, e.grad)
