"""A table of op specs drives forward, backward and dtype checks against torch.

Each row names an op, a minitorch callable, a torch callable, how to generate its inputs and whether it
is differentiable. Because both libraries share one API, most rows are written once as
``fn(lib, *inputs)``; :func:`spec` binds it to each library.

Inputs are NumPy arrays built from a seeded generator: float arrays become tensors of the dtype under
test (float32, float64) with ``requires_grad=True``; integer and bool arrays (indices, masks) keep
their dtype. Every row runs on every available device.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minitorch_lsm as mt
from helpers import (DEVICES, FLOAT_DTYPES, assert_same, assert_same_grads, backward_both, flat_tensors, make,
                     outcome)

Generator = Callable[[np.random.Generator], Any]


@dataclass(frozen=True)
class OpSpec:
    name: str
    mt: Callable[..., Any]
    torch: Callable[..., Any]
    inputs: tuple[Any, ...]          # generators (called with the rng) or constants
    differentiable: bool = True
    needs: str | None = None         # a minitorch_lsm attribute the row needs (skipped if absent)


def spec(name: str, fn: Callable[..., Any], inputs: tuple[Any, ...], differentiable: bool = True,
         needs: str | None = None) -> OpSpec:
    """A row whose minitorch and torch callables are ``fn`` bound to each library."""
    return OpSpec(name, functools.partial(fn, mt), functools.partial(fn, torch), inputs, differentiable, needs)


# ---------------------------------------------------------------------- input generators
def randn(*shape: int) -> Generator:
    return lambda rng: np.asarray(rng.standard_normal(shape))


def positive(*shape: int) -> Generator:
    """Values in [0.5, 2): safe for log, sqrt, rsqrt and fractional powers."""
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def nonzero(*shape: int) -> Generator:
    """Values of magnitude in [0.5, 2) and either sign: safe divisors and abs."""
    return lambda rng: rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def rounded(*shape: int) -> Generator:
    """Small whole numbers as floats: comparisons see many ties."""
    return lambda rng: np.round(rng.standard_normal(shape))


def with_zeros(*shape: int, count: int = 1) -> Generator:
    """Normal values with ``count`` zeros in the first row (prod's special case)."""
    def make_values(rng: np.random.Generator) -> np.ndarray:
        x = rng.uniform(0.5, 2.0, shape)
        x.reshape(shape[0], -1)[0, :count] = 0.0
        return x
    return make_values


def mask(*shape: int) -> Generator:
    return lambda rng: rng.random(shape) < 0.5


def index(*values: Any) -> np.ndarray:
    return np.array(values, dtype=np.int64)


# ---------------------------------------------------------------------- the table
X23, Y23 = randn(2, 3), randn(2, 3)
X234 = randn(2, 3, 4)

SPECS = [
    # --- arithmetic, both operand orders and Python scalars
    spec("add", lambda L, x, y: x + y, (X23, Y23)),
    spec("add_broadcast", lambda L, x, y: x + y, (randn(2, 1, 3), randn(4, 1))),
    spec("add_int_scalar", lambda L, x: x + 2, (X23,)),
    spec("radd_float_scalar", lambda L, x: 2.5 + x, (X23,)),
    spec("add_bool_scalar", lambda L, x: x + True, (X23,)),
    spec("add_alpha", lambda L, x, y: L.add(x, y, alpha=2), (X23, Y23)),
    spec("add_0d", lambda L, x, y: x + y, (X23, randn())),
    spec("sub", lambda L, x, y: x - y, (X23, randn(3))),
    spec("sub_scalar", lambda L, x: x - 1, (X23,)),
    spec("rsub_scalar", lambda L, x: 1.5 - x, (X23,)),
    spec("sub_alpha", lambda L, x, y: L.sub(x, y, alpha=0.5), (X23, Y23)),
    spec("mul", lambda L, x, y: x * y, (X23, randn(2, 1))),
    spec("mul_scalar", lambda L, x: x * 3, (X23,)),
    spec("rmul_scalar", lambda L, x: -0.5 * x, (X23,)),
    spec("mul_self", lambda L, x: x * x, (X23,)),
    spec("div", lambda L, x, y: x / y, (X23, nonzero(2, 3))),
    spec("div_broadcast", lambda L, x, y: x / y, (randn(3, 1), nonzero(4))),
    spec("div_scalar", lambda L, x: x / 4, (X23,)),
    spec("rdiv_scalar", lambda L, x: 4 / x, (nonzero(2, 3),)),
    spec("pow_int_scalar", lambda L, x: x ** 2, (X23,)),
    spec("pow_3", lambda L, x: L.pow(x, 3), (X23,)),
    spec("pow_half", lambda L, x: x ** 0.5, (positive(2, 3),)),
    spec("pow_negative", lambda L, x: x ** -1.5, (positive(2, 3),)),
    spec("pow_zero", lambda L, x: x ** 0, (X23,)),
    spec("rpow_scalar", lambda L, x: 2 ** x, (X23,)),
    spec("rpow_float_scalar", lambda L, x: 2.5 ** x, (X23,)),
    spec("pow_tensor", lambda L, x, y: x ** y, (positive(2, 3), randn(2, 3))),
    spec("pow_tensor_broadcast", lambda L, x, y: L.pow(x, y), (positive(2, 1), randn(3))),
    spec("matmul_operator", lambda L, x, y: x @ y, (X23, randn(3, 4))),
    # --- unary math
    spec("neg", lambda L, x: -x, (X23,)),
    spec("neg_function", lambda L, x: L.neg(x), (X23,)),
    spec("abs", lambda L, x: x.abs(), (nonzero(2, 3),)),
    spec("abs_function", lambda L, x: L.abs(x), (nonzero(2, 3),)),
    spec("exp", lambda L, x: x.exp(), (X23,)),
    spec("log", lambda L, x: L.log(x), (positive(2, 3),)),
    spec("log1p", lambda L, x: x.log1p(), (positive(2, 3),)),
    spec("sqrt", lambda L, x: x.sqrt(), (positive(2, 3),)),
    spec("rsqrt", lambda L, x: L.rsqrt(x), (positive(2, 3),)),
    spec("sin", lambda L, x: x.sin(), (X23,)),
    spec("cos", lambda L, x: L.cos(x), (X23,)),
    spec("relu", lambda L, x: x.relu(), (nonzero(2, 3),)),
    spec("relu_function", lambda L, x: L.relu(x), (nonzero(2, 3),)),
    spec("sigmoid", lambda L, x: x.sigmoid(), (randn(2, 3),)),
    spec("sigmoid_large", lambda L, x: L.sigmoid(x * 50), (randn(2, 3),)),
    spec("tanh", lambda L, x: L.tanh(x), (X23,)),
    # --- selection
    spec("clamp", lambda L, x: x.clamp(-0.5, 0.5), (X23,)),
    spec("clamp_min", lambda L, x: L.clamp(x, min=0.1), (X23,)),
    spec("clamp_max", lambda L, x: x.clamp(max=0.2), (X23,)),
    spec("clamp_tensor_bounds", lambda L, x, lo, hi: L.clamp(x, min=lo - 1, max=hi + 1), (X23, randn(3), randn(2, 1))),
    spec("clip", lambda L, x: L.clip(x, -1, 1), (X23,)),
    spec("maximum", lambda L, x, y: L.maximum(x, y), (X23, randn(3))),
    spec("minimum", lambda L, x, y: L.minimum(x, y), (X23, Y23)),
    spec("max_binary", lambda L, x, y: L.max(x, y), (X23, Y23)),
    spec("where", lambda L, m, x, y: L.where(m, x, y), (mask(2, 3), X23, randn(3))),
    spec("where_scalar", lambda L, x: L.where(x > 0, x, 0.0), (X23,)),
    spec("where_method", lambda L, m, x, y: x.where(m, y), (mask(2, 3), X23, Y23)),
    # --- comparisons and logic: no gradient, bool results
    spec("lt", lambda L, x, y: x < y, (rounded(2, 3), rounded(2, 3)), differentiable=False),
    spec("le", lambda L, x, y: x <= y, (rounded(2, 3), rounded(3)), differentiable=False),
    spec("gt_scalar", lambda L, x: x > 0.3, (X23,), differentiable=False),
    spec("ge", lambda L, x, y: L.ge(x, y), (rounded(2, 3), rounded(2, 3)), differentiable=False),
    spec("eq", lambda L, x, y: x == y, (rounded(2, 3), rounded(2, 3)), differentiable=False),
    spec("ne", lambda L, x, y: L.ne(x, y), (rounded(2, 3), rounded(2, 1)), differentiable=False),
    spec("eq_int_scalar", lambda L, x: x == 1, (rounded(2, 3),), differentiable=False),
    spec("logical_and", lambda L, x, y: L.logical_and(x > 0, y > 0), (X23, Y23), differentiable=False),
    spec("logical_or", lambda L, x, y: x.logical_or(y), (rounded(2, 3), rounded(2, 3)), differentiable=False),
    spec("logical_xor", lambda L, x, y: L.logical_xor(x, y), (rounded(2, 3), rounded(2, 3)), differentiable=False),
    spec("logical_not", lambda L, x: L.logical_not(x), (rounded(2, 3),), differentiable=False),
    spec("invert_mask", lambda L, m: ~m, (mask(2, 3),), differentiable=False),
    spec("and_masks", lambda L, m, n: m & n, (mask(2, 3), mask(2, 3)), differentiable=False),
    spec("or_masks", lambda L, m, n: m | n, (mask(2, 3), mask(3)), differentiable=False),
    spec("isnan", lambda L, x: L.isnan(L.log(x)), (X23,), differentiable=False),
    # --- reductions
    spec("sum", lambda L, x: x.sum(), (X234,)),
    spec("sum_dim", lambda L, x: x.sum(1), (X234,)),
    spec("sum_dims_keepdim", lambda L, x: x.sum((0, 2), keepdim=True), (X234,)),
    spec("sum_negative_dim", lambda L, x: L.sum(x, dim=-1, keepdim=True), (X234,)),
    spec("sum_0d", lambda L, x: x.sum(), (randn(),)),
    spec("mean", lambda L, x: x.mean(), (X234,)),
    spec("mean_dim", lambda L, x: L.mean(x, 1), (X234,)),
    spec("mean_dims_keepdim", lambda L, x: x.mean(dim=(-1, 0), keepdim=True), (X234,)),
    spec("prod", lambda L, x: x.prod(), (positive(2, 3),)),
    spec("prod_dim", lambda L, x: x.prod(1), (X234,)),
    spec("prod_keepdim", lambda L, x: L.prod(x, 0, keepdim=True), (X234,)),
    spec("prod_one_zero", lambda L, x: x.prod(1), (with_zeros(2, 4),)),
    spec("prod_two_zeros", lambda L, x: x.prod(1), (with_zeros(2, 4, count=2),)),
    spec("prod_all_one_zero", lambda L, x: x.prod(), (with_zeros(2, 3),)),
    spec("var", lambda L, x: x.var(), (X234,)),
    spec("var_dim", lambda L, x: x.var(1), (X234,)),
    spec("var_dims_keepdim", lambda L, x: L.var(x, (0, 2), keepdim=True), (X234,)),
    spec("var_unbiased_false", lambda L, x: x.var(1, unbiased=False), (X234,)),
    spec("var_correction0", lambda L, x: x.var(dim=-1, correction=0), (X234,)),
    spec("std", lambda L, x: x.std(), (X234,)),
    spec("std_dim_keepdim", lambda L, x: L.std(x, 2, keepdim=True), (X234,)),
    spec("std_dims", lambda L, x: x.std((0, 1)), (X234,)),
    spec("std_unbiased_false", lambda L, x: x.std(unbiased=False), (X234,)),
    spec("amax", lambda L, x: x.amax(), (X234,)),
    spec("amax_dim", lambda L, x: L.amax(x, 1), (X234,)),
    spec("amax_dims_keepdim", lambda L, x: x.amax((0, 2), keepdim=True), (X234,)),
    spec("amax_ties", lambda L, x: x.amax(1), (rounded(3, 5),)),
    spec("amin", lambda L, x: x.amin(), (X234,)),
    spec("amin_dims", lambda L, x: L.amin(x, (-1, 1)), (X234,)),
    spec("max", lambda L, x: x.max(), (X234,)),
    spec("max_ties", lambda L, x: x.max(), (rounded(3, 4),)),
    spec("min", lambda L, x: L.min(x), (X234,)),
    spec("max_dim", lambda L, x: x.max(1), (X234,)),
    spec("max_dim_keepdim", lambda L, x: L.max(x, dim=-1, keepdim=True), (X234,)),
    spec("max_dim_0d", lambda L, x: L.max(x, 0), (randn(),)),
    spec("min_dim", lambda L, x: x.min(0), (X234,)),
    spec("min_dim_keepdim", lambda L, x: x.min(2, keepdim=True), (X234,)),
    spec("max_dim_values", lambda L, x: x.max(dim=1).values, (X234,)),
    spec("min_dim_indices", lambda L, x: x.min(dim=1)[1], (X234,), differentiable=False),
    spec("argmax", lambda L, x: x.argmax(), (X234,), differentiable=False),
    spec("argmax_dim", lambda L, x: L.argmax(x, 1), (X234,), differentiable=False),
    spec("argmax_keepdim", lambda L, x: x.argmax(dim=-1, keepdim=True), (X234,), differentiable=False),
    spec("argmin", lambda L, x: L.argmin(x), (X234,), differentiable=False),
    spec("argmin_dim", lambda L, x: x.argmin(0), (X234,), differentiable=False),
    spec("logsumexp", lambda L, x: L.logsumexp(x, 1), (X234,), needs="logsumexp"),
    spec("logsumexp_dims_keepdim", lambda L, x: x.logsumexp((0, 2), keepdim=True), (X234,), needs="logsumexp"),
    spec("logsumexp_large", lambda L, x: L.logsumexp(x * 1e3, dim=-1), (X234,), needs="logsumexp"),
    # --- matrix products
    spec("matmul_1d_1d", lambda L, x, y: L.matmul(x, y), (randn(3), randn(3))),
    spec("matmul_2d_1d", lambda L, x, y: x @ y, (randn(2, 3), randn(3))),
    spec("matmul_1d_2d", lambda L, x, y: x @ y, (randn(3), randn(3, 4))),
    spec("matmul_2d_2d", lambda L, x, y: x.matmul(y), (randn(2, 3), randn(3, 4))),
    spec("matmul_batched", lambda L, x, y: x @ y, (randn(2, 2, 3), randn(2, 3, 4))),
    spec("matmul_broadcast", lambda L, x, y: x @ y, (randn(2, 1, 2, 3), randn(3, 3, 4))),
    spec("matmul_3d_2d", lambda L, x, y: x @ y, (randn(2, 2, 3), randn(3, 4))),
    spec("matmul_1d_3d", lambda L, x, y: x @ y, (randn(3), randn(2, 3, 4))),
    spec("matmul_3d_1d", lambda L, x, y: x @ y, (randn(2, 4, 3), randn(3))),
    spec("mm", lambda L, x, y: L.mm(x, y), (randn(2, 3), randn(3, 4))),
    spec("bmm", lambda L, x, y: L.bmm(x, y), (randn(2, 2, 3), randn(2, 3, 4))),
    spec("dot", lambda L, x, y: L.dot(x, y), (randn(4), randn(4))),
    # --- shape
    spec("reshape", lambda L, x: x.reshape(3, -1), (X234,)),
    spec("reshape_function", lambda L, x: L.reshape(x, (4, 6)), (X234,)),
    spec("view", lambda L, x: x.view(6, 4), (X234,)),
    spec("view_flat", lambda L, x: x.view(-1), (X234,)),
    spec("reshape_0d", lambda L, x: x.reshape(1, 1), (randn(),)),
    spec("transpose", lambda L, x: x.transpose(0, 2), (X234,)),
    spec("transpose_function", lambda L, x: L.transpose(x, -1, 1), (X234,)),
    spec("t", lambda L, x: x.t(), (X23,)),
    spec("T", lambda L, x: x.T, (X23,)),
    spec("mT", lambda L, x: x.mT, (X234,)),
    spec("permute", lambda L, x: x.permute(2, 0, 1), (X234,)),
    spec("permute_function", lambda L, x: L.permute(x, (1, -1, 0)), (X234,)),
    spec("unsqueeze", lambda L, x: x.unsqueeze(0), (X23,)),
    spec("unsqueeze_last", lambda L, x: L.unsqueeze(x, -1), (X23,)),
    spec("squeeze", lambda L, x: x.squeeze(), (randn(2, 1, 3, 1),)),
    spec("squeeze_dim", lambda L, x: x.squeeze(1), (randn(2, 1, 3, 1),)),
    spec("squeeze_non_one", lambda L, x: L.squeeze(x, 0), (randn(2, 1, 3, 1),)),
    spec("flatten", lambda L, x: x.flatten(), (X234,)),
    spec("flatten_start", lambda L, x: x.flatten(1), (X234,)),
    spec("flatten_range", lambda L, x: L.flatten(x, 0, 1), (X234,)),
    spec("expand", lambda L, x: x.expand(4, 2, 3), (randn(2, 1),)),
    spec("expand_minus_one", lambda L, x: x.expand(-1, 5), (randn(3, 1),)),
    spec("expand_as", lambda L, x, y: x.expand_as(y), (randn(3),  randn(2, 3))),
    spec("repeat", lambda L, x: x.repeat(2, 1), (X23,)),
    spec("repeat_new_dims", lambda L, x: x.repeat(2, 1, 3), (X23,)),
    spec("cat", lambda L, x, y: L.cat([x, y]), (X23, randn(1, 3))),
    spec("cat_dim1", lambda L, x, y, z: L.cat((x, y, z), dim=1), (X23, randn(2, 1), randn(2, 2))),
    spec("cat_negative_dim", lambda L, x, y: L.cat([x, y], -1), (X234, randn(2, 3, 1))),
    spec("stack", lambda L, x, y: L.stack([x, y]), (X23, Y23)),
    spec("stack_dim", lambda L, x, y: L.stack((x, y), dim=-1), (X23, Y23)),
    spec("split", lambda L, x: x.split(2, dim=1), (randn(2, 5),)),
    spec("split_sizes", lambda L, x: L.split(x, [1, 4], 1), (randn(2, 5),)),
    spec("chunk", lambda L, x: x.chunk(3, 1), (randn(2, 5),)),
    spec("chunk_function", lambda L, x: L.chunk(x, 2), (randn(4, 3),)),
    spec("unbind", lambda L, x: x.unbind(1), (X23,)),
    # --- indexing
    spec("getitem_int", lambda L, x: x[1], (randn(4, 5, 3),)),
    spec("getitem_negative_int", lambda L, x: x[-1, 2], (randn(4, 5, 3),)),
    spec("getitem_slice", lambda L, x: x[1:3], (randn(4, 5, 3),)),
    spec("getitem_step", lambda L, x: x[::2, 1:4:2], (randn(4, 5, 3),)),
    spec("getitem_int_slice", lambda L, x: x[:, 1], (randn(4, 5, 3),)),
    spec("getitem_ellipsis", lambda L, x: x[..., 0], (randn(4, 5, 3),)),
    spec("getitem_none", lambda L, x: x[None, :, None, 1:], (randn(4, 5, 3),)),
    spec("getitem_mixed", lambda L, x: x[1, ..., ::2], (randn(4, 5, 3),)),
    spec("getitem_bool_mask", lambda L, x, m: x[m], (randn(4, 5, 3), mask(4, 5))),
    spec("getitem_bool_mask_full", lambda L, x, m: x[m], (randn(4, 5, 3), mask(4, 5, 3))),
    spec("getitem_bool_mask_dim1", lambda L, x, m: x[:, m], (randn(4, 5, 3), mask(5))),
    spec("getitem_long_tensor", lambda L, x, i: x[i], (randn(4, 5, 3), index(0, 2, 2, -1))),
    spec("getitem_long_tensor_2d", lambda L, x, i: x[i], (randn(4, 5, 3), index([0, 1], [3, 3]))),
    spec("getitem_list", lambda L, x: x[[0, 3, 0]], (randn(4, 5, 3),)),
    spec("getitem_list_dim1", lambda L, x: x[:, [1, 1, 4]], (randn(4, 5, 3),)),
    spec("getitem_two_tensors", lambda L, x, i, j: x[i, j], (randn(4, 5, 3), index(0, 3, 3), index(4, 0, 4))),
    spec("getitem_split_advanced", lambda L, x, i, j: x[i, :, j], (randn(4, 5, 3), index(0, 3), index(2, 2))),
    spec("getitem_0d_long", lambda L, x, i: x[i], (randn(4, 5, 3), np.array(2))),
    spec("gather", lambda L, x, i: x.gather(1, i), (randn(2, 5), index([0, 4, 4], [1, 0, 2]))),
    spec("gather_dim0", lambda L, x, i: L.gather(x, 0, i), (randn(3, 2), index([2, 0], [1, 1], [0, 0], [2, 1]))),
    spec("scatter", lambda L, x, i, s: x.scatter(1, i, s), (randn(2, 5), index([0, 4, 2], [1, 0, 3]), randn(2, 3))),
    # torch's own backward rejects a src larger than the index, so this row checks the forward only
    spec("scatter_larger_src", lambda L, x, i, s: L.scatter(x, 0, i, s), (randn(3, 2), index([2, 0]), randn(2, 2)),
         differentiable=False),
    spec("scatter_value", lambda L, x, i: x.scatter(1, i, 2.5), (randn(2, 5), index([0, 4, 2], [1, 0, 3]))),
    spec("scatter_add", lambda L, x, i, s: x.scatter_add(1, i, s), (randn(2, 5), index([0, 4, 4], [1, 1, 1]), randn(2, 3))),
    spec("index_select", lambda L, x, i: x.index_select(0, i), (randn(4, 3), index(3, 0, 3))),
    spec("index_select_dim1", lambda L, x, i: L.index_select(x, 1, i), (randn(4, 3), index(2, 1))),
    spec("masked_fill", lambda L, x, m: x.masked_fill(m, 0.5), (X23, mask(2, 3))),
    spec("masked_fill_broadcast", lambda L, x, m: L.masked_fill(x, m, float("-inf")), (X23, mask(3))),
    spec("masked_fill_0d_tensor", lambda L, x, m: x.masked_fill(m, L.tensor(2.0)), (X23, mask(2, 3))),
    # --- copies and dtype moves
    spec("detach", lambda L, x: x.detach(), (X23,), differentiable=False),
    spec("clone", lambda L, x: x.clone(), (X23,)),
    spec("clone_function", lambda L, x: L.clone(x) * 2, (X23,)),
    spec("contiguous", lambda L, x: x.t().contiguous(), (X23,)),
    spec("to_float64", lambda L, x: x.to(L.float64) * 2, (X23,)),
    spec("float", lambda L, x: x.float(), (X23,)),
    spec("double", lambda L, x: x.double(), (X23,)),
]
_names = [s.name for s in SPECS]
assert len(set(_names)) == len(_names), "op spec names must be unique"


def _params(specs: list[OpSpec]) -> list[Any]:
    marks = lambda s: [pytest.mark.skip(reason=f"minitorch_lsm.{s.needs} does not exist yet")] \
        if s.needs and not hasattr(mt, s.needs) else []  # noqa: E731
    return [pytest.param(s, id=s.name, marks=marks(s)) for s in specs]


def build_inputs(op: OpSpec, rng: np.random.Generator, dtype: str, device: str) -> tuple[list[Any], list[Any]]:
    """The same inputs for both libraries: float arrays in ``dtype`` requiring grad, the rest as they are."""
    values = [g(rng) if callable(g) else g for g in op.inputs]
    mt_inputs, torch_inputs = [], []
    for v in values:
        if isinstance(v, np.ndarray):
            is_float = v.dtype.kind == "f"
            for lib, out in ((mt, mt_inputs), (torch, torch_inputs)):
                out.append(make(lib, v, dtype if is_float else None, device if lib is mt else "cpu",
                                requires_grad=is_float))
        else:
            mt_inputs.append(v)
            torch_inputs.append(v)
    return mt_inputs, torch_inputs


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("op", _params(SPECS))
def test_forward(op: OpSpec, dtype: str, device: str, rng: np.random.Generator) -> None:
    """Values, shape, dtype and requires_grad of the result match torch's."""
    mt_inputs, torch_inputs = build_inputs(op, rng, dtype, device)
    expected = op.torch(*torch_inputs)
    actual = op.mt(*mt_inputs)
    assert_same(actual, expected)
    for a, e in zip(flat_tensors(actual), flat_tensors(expected)):
        assert a.device.type == device
        assert (a.grad_fn is None) == (e.grad_fn is None)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("op", _params([s for s in SPECS if s.differentiable]))
def test_backward(op: OpSpec, dtype: str, device: str, rng: np.random.Generator) -> None:
    """The gradient of every input, for a random upstream gradient, matches torch's (dtype included)."""
    mt_inputs, torch_inputs = build_inputs(op, rng, dtype, device)
    backward_both(op.mt(*mt_inputs), op.torch(*torch_inputs), rng)
    assert_same_grads(mt_inputs, torch_inputs)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", _params(SPECS))
def test_integer_inputs(op: OpSpec, device: str, rng: np.random.Generator) -> None:
    """With int64 data in place of floats, the result dtype and values match torch's, or both raise alike."""
    values = [g(rng) if callable(g) else g for g in op.inputs]
    values = [np.asarray(np.round(v * 3), dtype=np.int64) if isinstance(v, np.ndarray) and v.dtype.kind == "f"
              else v for v in values]
    mt_inputs = [make(mt, v, device=device) if isinstance(v, np.ndarray) else v for v in values]
    torch_inputs = [make(torch, v) if isinstance(v, np.ndarray) else v for v in values]
    actual, mt_error = outcome(lambda: op.mt(*mt_inputs))
    expected, torch_error = outcome(lambda: op.torch(*torch_inputs))
    if torch_error is not None:
        assert mt_error is not None, f"torch raised {type(torch_error).__name__}: {torch_error}"
        assert type(mt_error) is type(torch_error), f"{mt_error!r} != {torch_error!r}"
    else:
        assert mt_error is None, f"minitorch_lsm raised {mt_error!r}"
        assert_same(actual, expected)


# ---------------------------------------------------------------------- hypothesis: broadcasting
BINARY = {
    "add": lambda L, x, y: x + y,
    "sub": lambda L, x, y: L.sub(x, y),
    "mul": lambda L, x, y: x * y,
    "div": lambda L, x, y: x / (y.abs() + 0.5),
    "pow": lambda L, x, y: (x.abs() + 0.5) ** y,
    "maximum": lambda L, x, y: L.maximum(x, y),
    "minimum": lambda L, x, y: L.minimum(x, y),
    "where": lambda L, x, y: L.where(x > y, x, y * 2),
    "lt": lambda L, x, y: x < y,
    "eq": lambda L, x, y: L.eq(x, y),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", sorted(BINARY))
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2**32 - 1))
def test_binary_broadcasting(name: str, dtype: str, device: str, shapes: Any, seed: int) -> None:
    """Any two broadcastable shapes: forward matches torch and gradients come back in each input's shape."""
    rng = np.random.default_rng(seed)
    fn = BINARY[name]
    x, y = (rng.standard_normal(s) for s in shapes.input_shapes)
    if rng.random() < 0.5:  # multiples of 0.5: exact in every dtype, and ties for eq, maximum, where
        x, y = np.round(2 * x) / 2, np.round(2 * y) / 2
    mt_inputs = [make(mt, v, dtype, device, requires_grad=True) for v in (x, y)]
    torch_inputs = [make(torch, v, dtype, requires_grad=True) for v in (x, y)]
    actual, expected = fn(mt, *mt_inputs), fn(torch, *torch_inputs)
    assert tuple(actual.shape) == shapes.result_shape
    assert_same(actual, expected)
    backward_both(actual, expected, rng)
    assert_same_grads(mt_inputs, torch_inputs)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(shapes=mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=3, max_side=3),
       seed=st.integers(0, 2**32 - 1))
def test_matmul_broadcasting(dtype: str, device: str, shapes: Any, seed: int) -> None:
    """matmul over 1-D, 2-D and broadcast batched shapes: forward and both gradients match torch."""
    rng = np.random.default_rng(seed)
    x, y = (rng.standard_normal(s) for s in shapes.input_shapes)
    mt_inputs = [make(mt, v, dtype, device, requires_grad=True) for v in (x, y)]
    torch_inputs = [make(torch, v, dtype, requires_grad=True) for v in (x, y)]
    actual, expected = mt_inputs[0] @ mt_inputs[1], torch_inputs[0] @ torch_inputs[1]
    assert_same(actual, expected)
    backward_both(actual, expected, rng)
    assert_same_grads(mt_inputs, torch_inputs)


# ---------------------------------------------------------------------- hypothesis: reductions over any dims
REDUCTIONS = {
    "sum": lambda L, x, dims, keep: x.sum(dims, keepdim=keep),
    "mean": lambda L, x, dims, keep: x.mean(dims, keepdim=keep),
    "amax": lambda L, x, dims, keep: x.amax(dims, keepdim=keep),
    "amin": lambda L, x, dims, keep: L.amin(x, dims, keep),
    "var": lambda L, x, dims, keep: x.var(dims, keepdim=keep, correction=0),
    "std": lambda L, x, dims, keep: x.std(dims, keepdim=keep, correction=0) + 1,
    "logsumexp": lambda L, x, dims, keep: L.logsumexp(x, dims, keep),
    "prod": lambda L, x, dims, keep: x.prod(dims[0], keepdim=keep),
    "max": lambda L, x, dims, keep: x.max(dims[0], keepdim=keep),
    "argmin": lambda L, x, dims, keep: x.argmin(dims[0], keepdim=keep),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_reductions_over_any_dims(name: str, device: str, data: Any) -> None:
    """Random shapes (0-d included) and random dims, negative or not, with and without keepdim."""
    shape = data.draw(st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple), label="shape")
    ndim = max(len(shape), 1)
    axes = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim, unique_by=lambda d: d % ndim),
                     label="dims")
    keep = data.draw(st.booleans(), label="keepdim")
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    mt_x, torch_x = make(mt, x, "float64", device, requires_grad=True), make(torch, x, "float64", requires_grad=True)
    fn, dims = REDUCTIONS[name], tuple(axes)
    expected = fn(torch, torch_x, dims, keep)
    actual = fn(mt, mt_x, dims, keep)
    assert_same(actual, expected)
    backward_both(actual, expected, np.random.default_rng(0))
    assert_same_grads([mt_x], [torch_x])
