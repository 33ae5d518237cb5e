"""Indexing, views and splitting against torch: where the dims of an index go, views and strides,
grad_fn names, and the edge cases of chunk/split/cat/index_select.

The property test at the top draws index tuples mixing ints, slices, None, ``...``, bools and tensor,
list and mask indices, and checks values, shapes, dtypes, grad_fn names, gradients, errors and
``x[index] = value`` against torch. The named tests below pin each fix with the case that found it.
"""
from __future__ import annotations

import warnings
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import assume, given

import minitorch_lsm as mt
from helpers import assert_same, assert_same_error, check_both, outcome

LIBS = pytest.mark.parametrize("lib", [mt, torch], ids=["minitorch", "torch"])


# ---------------------------------------------------------------------- random index tuples
@st.composite
def indexed(draw: Any) -> tuple[tuple[int, ...], list[tuple[Any, ...]]]:
    """A shape and an index for it, as library-neutral entries (see ``build``).

    The index covers a prefix of the dims, then maybe ``...``, then maybe a suffix, so masks can be drawn
    with the sizes of the dims they index; None and True/False are sprinkled in between. A few values
    are out of bounds and a few masks have a wrong size, so errors are compared too.
    """
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=0, max_size=4)))
    ndim = len(shape)
    use_ellipsis = draw(st.booleans()) and draw(st.booleans())
    prefix = draw(st.integers(0, ndim))
    suffix = draw(st.integers(0, ndim - prefix)) if use_ellipsis else 0
    dims = list(range(prefix)) + list(range(ndim - suffix, ndim))

    def value(size: int) -> int:
        if size == 0 or draw(st.integers(0, 19)) == 0:
            return draw(st.sampled_from([size, -size - 1, 0]))
        return draw(st.integers(-size, size - 1))

    def consuming(start: int, stop: int) -> list[tuple[Any, ...]]:
        entries, d = [], start
        while d < stop:
            size = shape[d]
            kind = draw(st.sampled_from(["int", "int", "slice", "slice", "tensor", "tensor", "list", "mask",
                                         "int0d"]))
            if kind == "mask":
                k = draw(st.integers(1, stop - d))
                mshape = list(shape[d:d + k])
                if draw(st.integers(0, 9)) == 0:
                    mshape[0] += 1
                entries.append(("mask", np.array(draw(st.lists(st.booleans(), min_size=int(np.prod(mshape)),
                                                                max_size=int(np.prod(mshape))))).reshape(mshape)))
                d += k
                continue
            if kind == "slice":
                bound = st.one_of(st.none(), st.integers(-size - 1, size + 1))
                entries.append(("slice", draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, 3]))))
            elif kind in ("tensor", "list"):
                ishape = tuple(draw(st.lists(st.integers(0 if kind == "tensor" else 1, 3), max_size=2)))
                values = np.array([value(size) for _ in range(int(np.prod(ishape)))], dtype=np.int64).reshape(ishape)
                if kind == "list":
                    entries.append(("list", values.tolist()))
                else:
                    entries.append(("tensor", values, draw(st.sampled_from(["int64", "int32"]))))
            else:
                entries.append((kind, value(size)))
            d += 1
        return entries

    entries = consuming(0, prefix)
    if use_ellipsis:
        entries += [("ellipsis",)] + consuming(ndim - suffix, ndim)
    for _ in range(draw(st.integers(0, 2))):  # dims that index nothing: None, True/False
        extra = draw(st.sampled_from([("none",), ("none",), ("bool", True), ("bool", False), ("bool0d", True)]))
        entries.insert(draw(st.integers(0, len(entries))), extra)
    if draw(st.integers(0, 19)) == 0:
        entries.append(("int", 0))  # maybe too many indices
    assert len(dims) <= ndim
    return shape, entries


def build(lib: Any, entries: list[tuple[Any, ...]], as_tuple: bool) -> Any:
    """The index for ``lib`` (minitorch_lsm or torch) from library-neutral entries."""
    out = []
    for kind, *rest in entries:
        if kind == "int":
            out.append(rest[0])
        elif kind == "slice":
            out.append(slice(*rest))
        elif kind == "none":
            out.append(None)
        elif kind == "ellipsis":
            out.append(Ellipsis)
        elif kind == "bool":
            out.append(rest[0])
        elif kind == "bool0d":
            out.append(lib.tensor(rest[0]))
        elif kind == "int0d":
            out.append(lib.tensor(rest[0]))
        elif kind == "list":
            out.append(rest[0])
        elif kind == "tensor":
            out.append(lib.tensor(rest[0], dtype=getattr(lib, rest[1])))
        else:  # mask
            out.append(lib.tensor(rest[0]))
    return tuple(out) if as_tuple or len(out) != 1 else out[0]


def run_getitem(lib: Any, shape: tuple[int, ...], entries: list[tuple[Any, ...]], as_tuple: bool) -> Any:
    x = lib.arange(float(np.prod(shape)), dtype=lib.float64).reshape(shape).requires_grad_()
    y = x[build(lib, entries, as_tuple)]
    return x, y


@given(indexed(), st.booleans(), st.integers(0, 2**31 - 1))
def test_getitem_matches_torch_for_random_indices(case: Any, as_tuple: bool, seed: int) -> None:
    """Values, shape, grad_fn name and the gradient of ``x[index]``, or the same error, as torch."""
    shape, entries = case
    mt_result, mt_error = outcome(lambda: run_getitem(mt, shape, entries, as_tuple))
    torch_result, torch_error = outcome(lambda: run_getitem(torch, shape, entries, as_tuple))
    if torch_error is not None or mt_error is not None:
        assert torch_error is not None, f"minitorch raised {mt_error!r}; torch did not"
        assert mt_error is not None, f"torch raised {torch_error!r}; minitorch did not"
        assert (type(mt_error), str(mt_error)) == (type(torch_error), str(torch_error))
        return
    (mx, my), (tx, ty) = mt_result, torch_result
    assert_same(my, ty)
    assert my.grad_fn.name() == ty.grad_fn.name()
    upstream = np.random.default_rng(seed).standard_normal(tuple(ty.shape))
    my.backward(mt.tensor(upstream))
    ty.backward(torch.tensor(upstream))
    assert_same(mx.grad, tx.grad, check_requires_grad=False, what="grad")


@given(indexed(), st.booleans())
def test_setitem_matches_torch_for_random_indices(case: Any, use_tensor: bool) -> None:
    """``x[index] = value`` (a number, or a tensor shaped like ``x[index]``) changes the same positions."""
    shape, entries = case

    def run(lib: Any) -> Any:
        x = lib.zeros(shape, dtype=lib.float64)
        index = build(lib, entries, True)
        region = x[index]
        positions = lib.arange(float(np.prod(shape)), dtype=lib.float64).reshape(shape)[index]
        if use_tensor and len(set(positions.reshape(-1).tolist())) == positions.numel():
            x[index] = lib.arange(1., region.numel() + 1, dtype=lib.float64).reshape(region.shape)
        else:  # repeated positions: which value wins is up to torch's kernel, so write one number
            x[index] = 7.5
        return x

    region, _ = outcome(lambda: torch.zeros(shape)[build(torch, entries, True)])
    assume(region is None or region.numel() > 0)  # an empty region: setitem still bounds-checks it, torch does not
    check_both(run)


# ---------------------------------------------------------------------- 1. ints are selects, applied first
INT_AND_TENSOR = ["x[0, :, i]", "x[:, 0, i]", "x[i, :, 0]", "x[i, 0]", "x[0, ..., i]", "x[i, :, i]", "x[0, i, :]",
                  "x[1, :, [0, 2]]", "x[-1, :, lib.tensor([[0, 1], [2, 3]])]", "x[0, :, lib.tensor([True, False, True, False])]",
                  "x[lib.tensor(0), :, i]", "x[None, 0, :, i]", "x[0, None, i]", "x[:, True, i]", "x[i, ..., 0]",
                  "x[0, ..., i, :]", "x[..., i, 0]", "x[[0, 1], 1:, [2, 3]]"]


@pytest.mark.parametrize("expression", INT_AND_TENSOR)
def test_int_and_tensor_indices_put_dims_where_torch_does(expression: str) -> None:
    """``x[0, :, i]`` is ``x[0][:, i]``: shape (3, 2), not NumPy's (2, 3); the gradient lands in the same places."""
    def run(lib):
        x = lib.arange(24.).reshape(2, 3, 4).requires_grad_()
        y = eval(expression, {"lib": lib, "x": x, "i": lib.tensor([0, 1])})
        y.backward(lib.arange(float(y.numel())).reshape(y.shape))
        return y, x.grad, y.grad_fn.name()
    check_both(run)


def test_audit_repro_int_slice_tensor() -> None:
    x = mt.arange(24).reshape(2, 3, 4)
    assert x[0, :, mt.tensor([0, 1])].tolist() == [[0, 1], [4, 5], [8, 9]]


@pytest.mark.parametrize("expression", ["x[0, :, i] = v", "x[0, ..., i] = v", "x[1, :, [0, 2]] = v", "x[0, :, i] = 5",
                                        "x[0, :, lib.tensor([True, False, True, False])] = v"])
def test_setitem_with_int_and_tensor_indices(expression: str) -> None:
    """``x[0, :, i] = v`` with ``v`` shaped like ``x[0, :, i]`` (3, 2): torch accepts it, and so do we."""
    def run(lib):
        x = lib.zeros(2, 3, 4)
        exec(expression, {"lib": lib, "x": x, "i": lib.tensor([0, 1]), "v": lib.arange(6.).reshape(3, 2)})
        return x
    check_both(run)


def test_setitem_with_int_and_tensor_indices_records_autograd() -> None:
    def run(lib):
        w = lib.ones(3, 2, requires_grad=True)
        x = lib.zeros(2, 3, 4, requires_grad=True) * 1
        x[0, :, lib.tensor([1, 3])] = w * 2
        (x * lib.arange(24.).reshape(2, 3, 4)).sum().backward()
        return x, w.grad
    check_both(run)


def test_double_backward_through_int_and_tensor_index() -> None:
    x = mt.arange(24., dtype=mt.float64).reshape(2, 3, 4).requires_grad_()
    i = mt.tensor([0, 2])
    assert mt.autograd.gradcheck(lambda t: t[0, :, i] ** 2, (x,))
    assert mt.autograd.gradgradcheck(lambda t: t[0, :, i] ** 2, (x,))


# ---------------------------------------------------------------------- 2. uint8 index tensors are masks
@pytest.mark.parametrize("expression", ["x[lib.tensor([1, 0], dtype=lib.uint8)]", "x[lib.tensor([2, 0], dtype=lib.uint8), 1]",
                                        "x[:, lib.tensor([1, 0, 1], dtype=lib.uint8)]",
                                        "x[lib.tensor(1, dtype=lib.uint8)]", "x[lib.tensor(0, dtype=lib.uint8)]"])
def test_uint8_index_is_a_bool_mask_with_torchs_warning(expression: str) -> None:
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = eval(expression, {"lib": lib, "x": lib.arange(6.).reshape(2, 3)})
        return out, [(w.category.__name__, str(w.message)) for w in caught]
    (mt_out, mt_warnings), (torch_out, torch_warnings) = run(mt), run(torch)
    assert_same(mt_out, torch_out)
    assert mt_warnings == torch_warnings  # one per 1-D+ uint8 index; 0-d uint8 is True/False, silently


@pytest.mark.parametrize("expression", ["x[lib.tensor([1, 0], dtype=lib.int8)]", "x[lib.tensor([1.])]",
                                        "x[lib.tensor(1.)]", "x[lib.tensor([1, 0], dtype=lib.int16)]"])
def test_float_and_small_int_index_tensors_are_refused(expression: str) -> None:
    assert_same_error(lambda: eval(expression, {"lib": mt, "x": mt.zeros(2, 3)}),
                      lambda: eval(expression, {"lib": torch, "x": torch.zeros(2, 3)}))


@pytest.mark.parametrize("expression", ["x[lib.tensor(1, dtype=lib.int8)]", "x[lib.tensor(1, dtype=lib.int32)]",
                                        "x[lib.tensor(True)]", "x[1, lib.tensor(False)]", "x[range(2)]",
                                        "x[[lib.tensor(0), 1]]", "x[[0, slice(None)]]", "x[[[0, 1], [1, 0]]]",
                                        "x[lib.tensor(1):]", "x[::lib.tensor(2)]"])
def test_index_entries_torch_converts(expression: str) -> None:
    """0-d integer tensors are ints, 0-d bool tensors are True/False, short lists of sequences are tuples."""
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = eval(expression, {"lib": lib, "x": lib.arange(6.).reshape(2, 3)})
        return out, [str(w.message) for w in caught]
    check_both(run)


# ---------------------------------------------------------------------- 3. slice steps
@pytest.mark.parametrize("expression", ["x[::-1]", "x[::0]", "x[1::-2]", "x[5, ::-1]", "x[::-1, 5]",
                                        "x[1.5:]", "x[lib.tensor([1.]), 5]", "x[5, {1}]"])
def test_negative_or_zero_step_and_the_order_of_errors(expression: str) -> None:
    """``x[::-1]`` raises torch's ValueError; entries are checked in order, tensor dtypes last."""
    assert_same_error(lambda: eval(expression, {"lib": mt, "x": mt.arange(10.).reshape(2, 5)}),
                      lambda: eval(expression, {"lib": torch, "x": torch.arange(10.).reshape(2, 5)}))


def test_arange_reversed_raises_value_error() -> None:
    with pytest.raises(ValueError, match="step must be greater than zero"):
        mt.arange(10.)[::-1]


# ---------------------------------------------------------------------- index errors and empty results
ERRORS = ["x[0, 0, 0]", "x[5]", "x[:, 7]", "x[None, 5]", "x[..., 9]", "x[1, 5]", "x[i, 9]",
          "x[:, lib.tensor([9])]", "x[lib.tensor([1, 9, -7])]", "x[lib.tensor([0, 1]), lib.tensor([1, 0, 2])]",
          "x[lib.tensor([True])]", "x[None, lib.tensor([True, False, True])]", "x[lib.tensor([0]), lib.tensor([5, 0])]",
          "lib.zeros(0, 3)[lib.tensor([5])]", "lib.zeros(0, 0)[lib.tensor([5])]", "s[0]", "s[:]", "s[lib.tensor([0])]",
          "x[:, 'a']", "x[{0}]", "x[[[True, False, True]]]"]


@pytest.mark.parametrize("expression", ERRORS)
def test_index_errors_match_torch(expression: str) -> None:
    def run(lib):
        names = {"lib": lib, "x": lib.arange(10.).reshape(2, 5), "s": lib.tensor(1.), "i": lib.tensor([0])}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return eval(expression, names)
    assert_same_error(lambda: run(mt), lambda: run(torch))


@pytest.mark.parametrize("expression", ["x[lib.tensor([9]), lib.tensor([], dtype=lib.long)]", "x[lib.tensor([9]), 5:]",
                                        "lib.zeros(2, 0)[lib.tensor([5])]", "x[lib.tensor([9])[:0]]"])
def test_empty_results_do_not_check_bounds(expression: str) -> None:
    check_both(lambda lib: eval(expression, {"lib": lib, "x": lib.arange(10.).reshape(2, 5)}))


# ---------------------------------------------------------------------- 4. chunk and split edge cases
SPLITS = ["lib.zeros(0).chunk(3)", "lib.zeros(0, 4).chunk(3)", "lib.zeros(0, 4).chunk(3, 1)", "lib.zeros(5).chunk(3)",
          "lib.zeros(6).chunk(4)", "lib.zeros(2).chunk(5)", "lib.zeros(1).chunk(0)", "lib.zeros(()).chunk(1)",
          "lib.zeros(0).split(2)", "lib.zeros(0).split(0)", "lib.zeros(5).split(0)", "lib.zeros(0).split([0, 0])",
          "lib.zeros(0).split([])", "lib.zeros(2).split([])", "lib.zeros(3).split([3, 0])", "lib.zeros(()).split(1)",
          "lib.zeros(5).split(-1)", "lib.zeros(4).split([2, -1, 3])", "lib.zeros(3).split([1], -1)",
          "lib.zeros(()).unbind()", "lib.zeros(0).unbind()", "lib.zeros(3, 0).unbind(1)", "lib.zeros(()).unbind(5)",
          "lib.zeros(2).narrow(0, 2, 0)", "lib.zeros(2).narrow(0, 3, 0)", "lib.zeros(2).narrow(0, -3, 1)",
          "lib.zeros(2).narrow(0, 1, -1)", "lib.zeros(()).narrow(0, 0, 0)", "lib.zeros(2).narrow(0, 1, 2)"]


@pytest.mark.parametrize("expression", SPLITS)
def test_chunk_split_unbind_narrow_edge_cases(expression: str) -> None:
    check_both(lambda lib: eval(expression, {"lib": lib}))


def test_chunk_of_an_empty_dim_gives_every_chunk_and_gradients() -> None:
    def run(lib):
        x = lib.zeros(0, 2, requires_grad=True)
        pieces = x.chunk(3)
        lib.stack(pieces).sum().backward()
        return pieces, x.grad, [p.grad_fn.name() for p in pieces]
    check_both(run)


# ---------------------------------------------------------------------- 5. view, strides, contiguity
VIEWS = ["lib.ones(2, 3).t().view(6)", "lib.ones(2, 3).t().view(3, 2)", "lib.ones(2, 3).t().view(3, 1, 2)",
         "lib.ones(4, 3)[:, :2].view(8)", "lib.ones(4, 3)[:, :2].view(4, 2, 1)", "lib.ones(4, 3)[:, :2].view(2, 2, 2)",
         "lib.ones(4, 1).expand(4, 3).view(12)", "lib.ones(4, 1).expand(4, 3).view(4, 3, 1)",
         "lib.ones(1, 3).expand(4, 3).view(2, 2, 3)", "lib.ones(0, 3).t().view(0)", "lib.ones(2, 3).t().view(-1)",
         "lib.ones(2, 3).t().view(5)", "lib.ones(2, 3).t().view_as(lib.ones(6))", "lib.zeros(0, 3).reshape(0, -1)",
         "lib.zeros(6).reshape(0, -1)", "lib.ones(2, 3).t().reshape(6)", "lib.ones(2, 3).t().flatten()"]


@pytest.mark.parametrize("expression", VIEWS)
def test_view_follows_the_strides(expression: str) -> None:
    """``x.t().view(6)`` raises torch's RuntimeError; views the strides allow work; reshape copies instead."""
    check_both(lambda lib: eval(expression, {"lib": lib}))


@st.composite
def strided(draw: Any) -> tuple[tuple[int, ...], list[tuple[str, Any]], tuple[int, ...]]:
    """A contiguous shape, a few view ops (transpose, step slice, expand of a size-1 dim) and a target shape."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    ops, current = [], list(shape)
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["t", "slice", "expand", "unsqueeze"]))
        d = draw(st.integers(0, len(current) - 1))
        if kind == "t" and len(current) > 1:
            e = draw(st.integers(0, len(current) - 1))
            ops.append(("t", (d, e)))
            current[d], current[e] = current[e], current[d]
        elif kind == "slice":
            step = draw(st.integers(1, 2))
            ops.append(("slice", (d, step)))
            current[d] = len(range(0, current[d], step))
        elif kind == "expand" and current[d] == 1:
            ops.append(("expand", (d, 3)))
            current[d] = 3
        elif kind == "unsqueeze":
            ops.append(("unsqueeze", d))
            current.insert(d, 1)
    numel = int(np.prod(current))
    factors = [f for f in range(1, numel + 1) if numel % f == 0]
    first = draw(st.sampled_from(factors))
    second = draw(st.sampled_from([f for f in factors if (numel // first) % f == 0]))
    return shape, ops, (first, second, numel // first // second)


def apply_views(lib: Any, shape: tuple[int, ...], ops: list[tuple[str, Any]]) -> Any:
    x = lib.arange(float(np.prod(shape))).reshape(shape)
    for kind, arg in ops:
        if kind == "t":
            x = x.transpose(*arg)
        elif kind == "slice":
            x = x[(slice(None),) * arg[0] + (slice(None, None, arg[1]),)]
        elif kind == "expand":
            sizes = list(x.shape)
            sizes[arg[0]] = arg[1]
            x = x.expand(*sizes)
        else:
            x = x.unsqueeze(arg)
    return x


@given(strided())
def test_view_and_is_contiguous_match_torch_on_strided_tensors(case: Any) -> None:
    shape, ops, target = case

    def run(lib):
        x = apply_views(lib, shape, ops)
        viewed, error = outcome(lambda: x.view(target))
        return x.is_contiguous(), x.contiguous().is_contiguous(), (viewed if error is None else str(error)), \
            x.reshape(target)
    check_both(run)


def test_is_contiguous_and_contiguous() -> None:
    x = mt.ones(2, 3, requires_grad=True)
    assert x.is_contiguous() and x.contiguous() is x
    t = x.t()
    assert not t.is_contiguous() and not x[:, :2].is_contiguous() and not mt.ones(4, 1).expand(4, 3).is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and c.grad_fn.name() == "CloneBackward0" and c is not t
    assert c.view(6).tolist() == t.reshape(6).tolist() == [1.] * 6
    c.sum().backward()
    assert x.grad.tolist() == [[1.] * 3] * 2


def test_reshape_names_view_or_copy_like_torch() -> None:
    def run(lib):
        x = lib.ones(2, 3, requires_grad=True)
        return [y.grad_fn.name() for y in (x.reshape(6), x.view(6), x.t().reshape(6), x.t().flatten(), x.flatten())]
    check_both(run)


def test_view_of_a_view_shares_memory_and_reshape_copy_does_not() -> None:
    x = mt.zeros(2, 3)
    x.view(3, 2)[0, 0] = 5.
    x.t().reshape(6)[0] = 7.
    assert x[0, 0].item() == 5.


# ---------------------------------------------------------------------- 6. grad_fn names
NAMES = ["x[0]", "x[0:1]", "x[:]", "x[...]", "x[None]", "x[..., None]", "x[0, None]", "x[None, 0]", "x[1:, 0]",
         "x[0, 1:]", "x[:, :]", "x[:, 0:3]", "x[True]", "x[0, 1, 2]", "x[lib.tensor(1)]", "x[lib.tensor([1])]",
         "x[0, :, None]", "x[..., 0]", "x[:,]", "x[0:100,]", "x[0:100]", "x[2:]", "x[(0,)]", "x[:, ::1]", "x[-5:]",
         "lib.stack([x, x])", "lib.index_select(x, 1, lib.tensor([0]))", "lib.scatter(x, 0, lib.tensor([[[0]]]), 1.)",
         "lib.scatter(x, 0, lib.tensor([[[0]]]), lib.ones(1, 1, 1))", "x.scatter(0, lib.tensor([[[0]]]), value=2.)",
         "x.split(1)[0]", "x.split([1, 1])[1]", "x.chunk(2)[0]", "x.unbind()[1]", "x.unbind(1)[0]", "x.chunk(3, 1)[2]",
         "lib.narrow(x, 0, 0, 2)", "x.t() if x.ndim == 2 else x.mT", "x.transpose(0, 1)", "x.permute(2, 0, 1)",
         "x.unsqueeze(0)", "x.squeeze()", "x.flatten()", "x.expand(2, 2, 3, 4)", "lib.cat([x, x])",
         "x.gather(0, lib.zeros(1, 3, 4, dtype=lib.long))", "x.masked_fill(x > 3, 0.)", "x.repeat(1, 2, 1)",
         "x.scatter_add(0, lib.zeros(1, 3, 4, dtype=lib.long), lib.ones(1, 3, 4))"]


@pytest.mark.parametrize("expression", NAMES)
def test_grad_fn_names_match_torch(expression: str) -> None:
    def run(lib):
        x = lib.arange(24.).reshape(2, 3, 4).requires_grad_()
        return eval(expression, {"lib": lib, "x": x}).grad_fn.name()
    assert run(mt) == run(torch)


def test_stack_is_one_node_over_its_inputs() -> None:
    a, b = mt.ones(2, requires_grad=True), mt.ones(2, requires_grad=True)
    y = mt.stack([a, b * 1], dim=1)
    assert [f.name() for f, _ in y.grad_fn.next_functions] == ["AccumulateGrad", "MulBackward0"]
    (y * mt.tensor([[1., 2.], [3., 4.]])).sum().backward()
    assert a.grad.tolist() == [1., 3.] and b.grad.tolist() == [2., 4.]


# ---------------------------------------------------------------------- 7. mT and T on 0-d tensors
def test_mT_of_a_0d_tensor_is_itself_and_warns_once() -> None:
    from minitorch_lsm.ops import shape

    message = ("Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases. (Triggered "
               "internally at /__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4373.)")
    x, t = mt.tensor(2., requires_grad=True), torch.tensor(2., requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's warning may have been shown already in this process
        assert t.mT is t
    shape._warned.discard(message)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert x.mT is x
        assert x.mT is x
    assert [str(w.message) for w in caught if "mT" in str(w.message)] == [message]  # once, as TORCH_WARN_ONCE
    assert_same_error(lambda: mt.ones(3).mT, lambda: torch.ones(3).mT)


def test_T_of_0d_and_3d_tensors() -> None:
    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x = lib.tensor(2., requires_grad=True)
            return x.T, x.T.grad_fn.name(), x.T._base is x, lib.ones(2, 3, 4).T.shape
    check_both(run)


# ---------------------------------------------------------------------- 8. where(condition) and nonzero
WHERE = ["lib.where(lib.tensor([[True, False], [True, True]]))", "lib.where(lib.tensor([1, 0, 2]))",
         "lib.where(lib.tensor(3))", "lib.where(lib.tensor(0))", "lib.where(lib.tensor([0.5, 0.]))",
         "lib.nonzero(lib.tensor([[1, 0], [0, 2]]))", "lib.nonzero(lib.tensor([[1, 0], [0, 2]]), as_tuple=True)",
         "lib.nonzero(lib.tensor(2))", "lib.nonzero(lib.tensor(0))", "lib.nonzero(lib.tensor(2), as_tuple=True)",
         "lib.nonzero(lib.tensor(0), as_tuple=True)", "lib.nonzero(lib.zeros(0, 3))",
         "lib.nonzero(lib.zeros(0, 3), as_tuple=True)", "lib.tensor([1., 0, float('nan')]).nonzero()",
         "lib.tensor([1., 0], requires_grad=True).nonzero()", "lib.tensor([True, False]).nonzero(as_tuple=True)",
         "lib.where(lib.tensor([True, False]), 1., 0.)", "lib.tensor([1., 2.]).where(lib.tensor([True, False]), 0.)",
         "lib.nonzero(lib.tensor([[1, 0], [0, 2]])).is_contiguous()"]


@pytest.mark.parametrize("expression", WHERE)
def test_where_with_one_argument_is_nonzero_as_tuple(expression: str) -> None:
    check_both(lambda lib: eval(expression, {"lib": lib}))


def test_nonzero_indexes_the_nonzero_values() -> None:
    x = mt.tensor([[0., 3.], [-1., 0.]])
    assert x[mt.where(x != 0)].tolist() == [3., -1.]
    assert x[x.nonzero(as_tuple=True)].tolist() == [3., -1.]


# ---------------------------------------------------------------------- neighbours: cat, index_select, scatter, masked_fill
OTHERS = ["lib.cat([lib.tensor([1.]), lib.zeros(0, dtype=lib.float64)])", "lib.cat([lib.zeros(0), lib.zeros(0)], 1)",
          "lib.cat([lib.zeros(2, 2), lib.zeros(0)])", "lib.cat([lib.zeros(0), lib.tensor(1.)])",
          "lib.cat([lib.zeros(0)], 2)", "lib.cat([lib.zeros(0, 2), lib.zeros(0)], 1)",
          "lib.stack([lib.tensor([1]), lib.tensor([1.])])", "lib.stack([lib.tensor(1.), lib.tensor(2.)])",
          "lib.stack([lib.ones(2), lib.ones(3)], 5)", "lib.stack(lib.ones(2, 2))",
          "lib.index_select(lib.tensor(5.), 0, lib.tensor([0]))", "lib.index_select(lib.tensor(5.), 0, lib.tensor([0, 0]))",
          "lib.index_select(lib.zeros(2, 3), 1, lib.tensor([-1]))", "lib.index_select(lib.zeros(2, 3), 0, lib.tensor([-1]))",
          "lib.index_select(lib.zeros(0, 2), 0, lib.tensor([0]))", "lib.index_select(lib.zeros(0), 0, lib.tensor([4]))",
          "lib.index_select(lib.zeros(3, 0, 2), 0, lib.tensor([0, -1]))", "lib.index_select(lib.zeros(2, 3), 0, lib.tensor(1))",
          "lib.zeros(3, dtype=lib.int64).scatter(0, lib.tensor([0]), value=float('inf'))",
          "lib.zeros(3, dtype=lib.int64).scatter(0, lib.tensor([5]), value=float('inf'))",
          "lib.zeros(3, dtype=lib.int64).scatter(0, lib.tensor([], dtype=lib.long), value=float('inf'))",
          "lib.zeros(2, 3).scatter_add(0, lib.tensor([[5]]), lib.ones(1, 1, dtype=lib.float64))",
          "lib.zeros(2, 3).scatter(0, lib.tensor([0]), lib.zeros(1))",
          "lib.zeros(1, 3, 3).masked_fill(lib.zeros(5, dtype=lib.bool), 1.)",
          "lib.zeros(3, 4, dtype=lib.int32).masked_fill(lib.zeros(2, 3, 1, dtype=lib.bool), float('-inf'))",
          "lib.zeros(()).flatten(2, 0)", "lib.zeros(()).squeeze(2)", "lib.zeros(()).squeeze((0, -1))",
          "lib.ones(()).permute()",
          # gather/scatter: negative indices are out of bounds; the index may not outgrow self (or src)
          "lib.arange(12.).reshape(3, 4).gather(1, lib.tensor([[-1]]))",
          "lib.arange(12.).reshape(3, 4).scatter(1, lib.tensor([[-1]]), 5.)",
          "lib.arange(12.).reshape(3, 4).scatter_add(1, lib.tensor([[-5]]), lib.ones(1, 1))",
          "lib.arange(12.).reshape(3, 4).gather(1, lib.tensor([[0]] * 4))",
          "lib.arange(12.).reshape(3, 4).gather(0, lib.tensor([[0] * 5]))",
          "lib.arange(12.).reshape(3, 4).gather(1, lib.tensor([[0] * 7]))",
          "lib.arange(12.).reshape(3, 4).gather(1, lib.zeros(5, 0, dtype=lib.long))",
          "lib.arange(12.).reshape(3, 4).scatter(1, lib.tensor([[0, 1]]), lib.tensor([[7.]]))",
          "lib.arange(12.).reshape(3, 4).scatter(0, lib.tensor([[0] * 5]), lib.ones(1, 5))",
          "lib.arange(12.).reshape(3, 4).scatter(1, lib.tensor([[0]] * 4), 1.)",
          "lib.arange(12.).reshape(3, 4).scatter_add(1, lib.tensor([[0, 1]]), lib.ones(1, 1))",
          "lib.arange(12.).reshape(3, 4).scatter(1, lib.tensor([[0]]), lib.ones(5, 5))",
          # ... and a 0-d input is a one-element vector
          "lib.tensor(2.).gather(0, lib.tensor(0))", "lib.tensor(2.).gather(0, lib.tensor([0, 0]))",
          "lib.tensor(2.).gather(0, lib.tensor(-1))", "lib.tensor([1., 2.]).gather(0, lib.tensor(1))",
          "lib.tensor(2.).scatter(0, lib.tensor(0), 5.)", "lib.tensor(2.).scatter(0, lib.tensor(0), lib.tensor(7.))",
          "lib.tensor(2.).scatter_add(0, lib.tensor(0), lib.tensor(7.))"]


@pytest.mark.parametrize("expression", OTHERS)
def test_neighbouring_edge_cases_match_torch(expression: str) -> None:
    check_both(lambda lib: eval(expression, {"lib": lib}))


@pytest.mark.parametrize("op", ["gather", "scatter", "scatter_add"])
@pytest.mark.parametrize("src_shape", [(), (1,)])
def test_gather_and_scatter_of_0d_tensors_give_gradients_like_torch(op: str, src_shape: tuple[int, ...]) -> None:
    def run(lib):
        x = lib.full(src_shape, 2., requires_grad=True)
        src = lib.tensor(3., requires_grad=True)
        index = lib.zeros(src_shape, dtype=lib.long)
        y = x.gather(0, lib.tensor([0, 0])) if op == "gather" else getattr(x, op)(0, index, src)
        (y * 5).sum().backward()
        return y, x.grad, src.grad
    check_both(run)


def test_cat_gives_skipped_empty_inputs_a_gradient() -> None:
    def run(lib):
        e, x = lib.zeros(0, requires_grad=True), lib.ones(2, 2, requires_grad=True)
        y = lib.cat([e, x, e])
        y.sum().backward()
        return y, e.grad, x.grad
    check_both(run)


@pytest.mark.parametrize("op", ["scatter_add", "gather", "index", "index_select"])
def test_float16_repeated_positions_add_up_as_torch_does(op: str) -> None:
    """scatter_add (and gather's backward) add float16 up in float32 and round once; index backward rounds each add."""
    rng = np.random.default_rng(1)
    x, src = rng.standard_normal(3).astype(np.float16), rng.standard_normal(40).astype(np.float16)
    positions, upstream = rng.integers(0, 3, 40), rng.standard_normal(40).astype(np.float16)

    def run(lib):
        t, i = lib.tensor(x, requires_grad=True), lib.tensor(positions)
        if op == "scatter_add":
            return t.scatter_add(0, i, lib.tensor(src))
        y = t.gather(0, i) if op == "gather" else t[i] if op == "index" else t.index_select(0, i)
        y.backward(lib.tensor(upstream))
        return t.grad
    assert run(mt).tolist() == run(torch).tolist()  # bit for bit: the rounding order is the point


def test_setitem_at_a_repeated_index_keeps_the_last_write_like_torch() -> None:
    results = []
    for lib in (mt, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        x = lib.zeros(3, requires_grad=True) * 1
        x[[0, 0, 2]] = w[[0, 1, 1]]  # position 0 is written twice: the second value stays
        (x * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        plain = lib.zeros(3)
        plain[lib.tensor([1, 1])] = lib.tensor([5.0, 7.0])
        results.append((x.detach(), w.grad, plain))
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
