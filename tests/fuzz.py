"""A differential fuzzer: minitorch_lsm against the real PyTorch, case by case, each case fully
determined by one integer seed.

How a case is made and checked
------------------------------
* ``generate(seed)`` draws everything from ``numpy.random.Generator(seed)``: which op (from ``OPS``,
  the op table), the input arrays (shapes including empty and 0-d; dtypes float16/32/64, int32/64,
  uint8, bool; values normal, large, huge, tiny, exact ties, -inf masks, inf, nan, zeros) and the
  arguments. A case is a list of leaves (NumPy arrays plus dtype and requires_grad) and a few lines
  of Python that assign ``out``. The same code runs in both libraries: it is executed with
  ``torch``, ``F`` and ``nn`` bound to ``minitorch_lsm`` (and its ``nn.functional``/``nn``) or to
  ``torch``. So the op table's "minitorch call" and "torch call" are one library-agnostic snippet,
  and ``--repro SEED`` prints exactly the snippet that ran.
* Programs (op ``program``) chain 2-5 ops on one or two float leaves and end in a sum or a loss.
* Every float output that requires grad in torch is backpropagated with the same seeded upstream
  gradient in both libraries and the leaf gradients are compared.

Comparison rules (torch is the oracle)
--------------------------------------
* torch raises -> minitorch must raise the same exception class (``exc_class``/``mt_no_raise``);
  a different message is the softer kind ``message``.
* torch succeeds -> minitorch must succeed (``mt_raised``), with the same structure (``type``),
  shape, dtype, ``requires_grad``, NaN positions (``nan``) and values (``value``) within torch's
  default tolerances for the dtype (float32 1.3e-6/1e-5, float64 1e-7/1e-7, float16 1e-3/1e-5 with
  atol 1e-2 for softmax/loss/program cases). Integer and bool results must be equal. Because two
  correct implementations need not agree bit for bit, the check allows for rounding noise (``Tol``):
  - a value that misses the tolerance is accepted when it is as close to a float64 reference (the
    same code run by torch on float64 leaves, rounded to the result dtype) as 4x torch's own error;
  - a case that computes in a lower precision somewhere (a float16 leaf, ``dtype=torch.float32`` on
    float64 input) gets that precision's tolerances for every float result;
  - sum-type cases (reductions, matmul, losses, programs, and gradients that sum broadcast copies)
    get 4 * eps * sum|inputs| of extra absolute slack (summation order), and when an input is within
    a factor 64 of overflow their inf/nan placement is not compared;
  - in programs, numeric mismatches are dropped when both libraries agree on float64 leaves (a mask
    or max flipped by a rounding-level difference).
* Gradients: the same rules, kinds prefixed ``grad_`` (``grad_raise`` when backward raises in one
  library only, ``grad_none`` when one library has no ``.grad``).
* Warnings are recorded in both (``simplefilter('always')``): a different set of warning
  categories/messages is kind ``warning``; NumPy ``RuntimeWarning``s (overflow/invalid value
  encountered ...) that leak out of minitorch are kind ``np_warning``.

Known issues: ``KNOWN_ISSUES`` below maps an id to a one-line reason and a matcher. Mismatches that
match are reported as "known" (the quick test in ``tests/test_fuzz_quick.py`` ignores them; the long
mode lists them).

Usage::

    python tests/fuzz.py --cases 20000 [--seed-start 0] [--ops log_softmax,cross_entropy,...] [--jobs 2]
                         [--jsonl mismatches.jsonl] [--allow-known]
    python tests/fuzz.py --repro SEED          # print the snippet, both outcomes and the mismatches
    python tests/fuzz.py --list-ops

Exit status 1 if any mismatch was found (``--allow-known``: only if any that is not known).
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import time
import traceback
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

import minitorch_lsm as mt
import minitorch_lsm.nn  # noqa: F401  (mt.nn.functional)

# ====================================================================== known issues
# id -> (one-line reason, matcher). A matcher is a dict of optional regexes, all of which must match:
#   "op" and "kind" (full match): the op name and the mismatch kind; "detail" and "case" (searched): the mismatch
#   detail and the case's one-line description (inputs as name:dtype(shape)[values], then the code).
# Each entry is one distinct root cause found by the long run (see the report); fixing the library
# should make its matches disappear, and then the entry should be deleted.
KNOWN_ISSUES: dict[str, tuple[str, dict[str, str]]] = {
    # ---- the softmax family and losses
    "nll-empty-batch-0d-target": (
        "nll_loss on (0,C) input with a 0-d target returns a loss (torch: IndexError 'Dimension specified as 0 but "
        "tensor has no dimensions', checked before the input dtype)",
        {"op": "nll_loss|cross_entropy", "detail": "Dimension specified as 0 but tensor has no dimensions"}),
    "torch-uint8-target-message": (
        "torch bug, not minitorch: with reduction='none' and a uint8 target torch formats the out-of-bounds target as a "
        "char ('Target \\x03 ...', UnicodeDecodeError for >= 128); minitorch mimics it, but torch's message is cut at "
        "the NUL byte for target 0 ('Target ')",
        {"op": "nll_loss|cross_entropy", "detail": r"torch (UnicodeDecodeError|'Target [^0-9])"}),
    "ce-smoothing-C0-weight": (
        "cross_entropy with label_smoothing, a weight and C=0 raises IndexError 'index ... is out of bounds for "
        "dimension ... with size 0' (the mean denominator indexes the weight with the targets); torch returns nan",
        {"op": "cross_entropy", "kind": "mt_raised",
         "detail": "index (0 )?is out of bounds for dimension (0 )?with size 0"}),
    # ---- reductions
    "fp16-sum-accumulation": (
        "float16 scatter-add (scatter_add, and the backward of index_select/gather with repeated indices) accumulates "
        "in float16 (NumPy); torch accumulates in float32 (errors of many ulps). sum/mean, matmul and the engine's "
        "broadcast-gradient sums accumulate in float32",
        {"kind": "grad_value|value", "case": "float16", "op": "scatter_add|index_select|gather|program"}),
    "empty-dim-list": (
        "logsumexp (ops/softmax.py) with dim=() or dim=[] reduces nothing; torch reduces over all dims with "
        "keepdim=True and raises 'output with shape [] doesn't match the broadcast shape [1, ...]' without it",
        {"case": r"(\(|, |dim=)(\(\)|\[\])", "kind": "shape|mt_no_raise|warning|value|grad_nan|grad_value|nan",
         "op": "logsumexp|program"}),
    "dim-in-messages": (
        "logsumexp's 'dim N appears multiple times' names the smallest dim listed (torch: the dim that repeats first; "
        "ops/_util.normalize_dims)",
        {"op": "logsumexp|program", "kind": "message", "detail": r"appears multiple times"}),
    "prod-order": (
        "prod multiplies in NumPy's order: a slice with a zero and factors whose partial products overflow can give "
        "(-)0 where torch's order reaches inf * 0 = nan (float16 710 * 65504, float64 1e30 * 3e38)",
        {"op": "prod", "kind": "nan", "detail": "NaN in torch only"}),
    # ---- elementwise
    "torch-pow-bool-scalar-backward": (
        "torch bug, not minitorch: the backward of True ** tensor fails with 'INTERNAL ASSERT FAILED ... unknown "
        "ivalue tag 4'; minitorch returns a gradient",
        {"op": "pow", "kind": "grad_raise", "detail": "INTERNAL ASSERT FAILED"}),
    "error-precedence": (
        "errors checked in a different order than torch: duplicate dims before empty dims or the dim range",
        {"op": "amax|amin|var|std|sum|mean|logsumexp", "kind": "message|exc_class|mt_raised",
         "detail": r"appears multiple times.*to have non-zero size|Dimension out of range.*appears multiple times"}),
    # ---- shape and indexing
    "mT-0d-warn-once": (
        "fuzzer artifact, not minitorch: x.mT on a 0-d tensor warns once per process in both libraries "
        "(TORCH_WARN_ONCE), but the fuzzer runs torch twice per case, so the first such case in a process records "
        "the warning in minitorch only",
        {"op": "mT", "kind": "warning", "detail": "extra in minitorch: UserWarning: Tensor.mT is deprecated on 0-D"}),
}


def known_issue(op: str, kind: str, detail: str, case: str) -> str | None:
    """The id of the first known issue that matches this mismatch, or None."""
    fields = {"op": op, "kind": kind, "detail": detail, "case": case}
    for issue_id, (_reason, matcher) in KNOWN_ISSUES.items():
        if all((re.fullmatch if key in ("op", "kind") else re.search)(pattern, fields[key], re.S)
               for key, pattern in matcher.items()):
            return issue_id
    return None


# ====================================================================== cases
@dataclass
class Leaf:
    name: str
    array: np.ndarray        # values, already of ``dtype``
    dtype: str               # "float32", "int64", "bool", ...
    requires_grad: bool = False
    kind: str = ""           # the value kind it was drawn with (for the one-line description)


@dataclass
class Case:
    seed: int
    op: str
    family: str
    leaves: list[Leaf]
    code: str                # statements that assign ``out``
    loose_fp16: bool = False  # softmax/loss/program: float16 atol 1e-2

    def describe(self) -> str:
        """One line: the inputs, then the code."""
        ins = ", ".join(f"{l.name}:{l.dtype}{tuple(l.array.shape)}"
                        f"{'[' + l.kind + ']' if l.kind else ''}{'^' if l.requires_grad else ''}"
                        for l in self.leaves)
        return f"{ins} :: {' ; '.join(self.code.strip().splitlines())}"


FLOATS = ["float16", "float32", "float64"]
INTS = ["int32", "int64", "uint8"]
ALL_DTYPES = FLOATS + INTS + ["bool"]


class Gen:
    """A seeded drawing helper that also collects the case's leaves."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.Generator(np.random.PCG64(seed))
        self.leaves: list[Leaf] = []
        self.loose_fp16 = False

    # ---------------------------------------------------------------- basic draws
    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def pick(self, items: Any, p: Any = None) -> Any:
        items = list(items)
        if p is not None:
            p = np.asarray(p, dtype=float)
            p = p / p.sum()
        return items[int(self.rng.choice(len(items), p=p))]

    def int(self, low: int, high: int) -> int:
        """An int in [low, high] (inclusive)."""
        return int(self.rng.integers(low, high + 1))

    def shape(self, min_ndim: int = 0, max_ndim: int = 4, max_size: int = 5, empty: float = 0.08) -> tuple[int, ...]:
        ndim = self.int(min_ndim, max_ndim)
        dims = [self.int(1, max_size) for _ in range(ndim)]
        if dims and self.chance(empty):
            dims[self.int(0, ndim - 1)] = 0
        return tuple(dims)

    def dtype(self, floats: float = 0.7) -> str:
        if self.chance(floats):
            return self.pick(FLOATS, [0.15, 0.55, 0.30])
        return self.pick(["int32", "int64", "uint8", "bool"], [0.2, 0.45, 0.15, 0.2])

    # ---------------------------------------------------------------- values
    FLOAT_KINDS = ["normal", "large", "huge", "tiny", "ties", "neginf", "inf", "nan", "zeros", "mixed"]
    FLOAT_KIND_P = [0.34, 0.08, 0.05, 0.04, 0.12, 0.10, 0.05, 0.05, 0.03, 0.14]
    SPECIALS = [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, np.inf, -np.inf, np.nan, 1e30, -1e30, 1e-30, 3e38, -3e38, 65504.0,
                1e4, -1e4, 1e-7, 88.0, 710.0]

    def values(self, shape: tuple[int, ...], dtype: str, kind: str | None = None) -> tuple[np.ndarray, str]:
        rng = self.rng
        if dtype == "bool":
            return rng.random(shape) < 0.5, "bool"
        if dtype in INTS:
            kind = kind or self.pick(["small", "ties", "wide", "extreme"], [0.5, 0.2, 0.2, 0.1])
            info = np.iinfo(dtype)
            if kind == "small":
                a = rng.integers(-5 if dtype != "uint8" else 0, 6, shape)
            elif kind == "ties":
                a = rng.integers(0, 2, shape)
            elif kind == "wide":
                a = rng.integers(max(info.min, -1000), min(info.max, 1000) + 1, shape)
            else:
                a = rng.choice(np.array([info.min, info.max, 0, 1, -1 if dtype != "uint8" else 2], dtype=np.int64),
                               shape)
            return np.asarray(a).astype(dtype), kind
        kind = kind or self.pick(self.FLOAT_KINDS, self.FLOAT_KIND_P)
        n = rng.standard_normal(shape)
        if kind == "normal":
            a = n * self.pick([1.0, 3.0])
        elif kind == "large":
            a = n * 1e4
        elif kind == "huge":
            a = rng.choice([1e30, -1e30, 0.0, 1.0, -3e38], shape)
        elif kind == "tiny":
            a = n * self.pick([1e-30, 1e-40, 1e-8])
        elif kind == "ties":
            a = rng.integers(-2, 3, shape).astype(np.float64)
        elif kind == "neginf":
            a = np.where(rng.random(shape) < 0.35, -np.inf, n)
        elif kind == "inf":
            a = np.where(rng.random(shape) < 0.2, rng.choice([np.inf, -np.inf], shape), n)
        elif kind == "nan":
            a = np.where(rng.random(shape) < 0.2, np.nan, n)
        elif kind == "zeros":
            a = np.zeros(shape)
        else:  # mixed
            a = np.where(rng.random(shape) < 0.5, rng.choice(self.SPECIALS, shape), n)
        with np.errstate(over="ignore"):
            return np.asarray(a, dtype=np.float64).astype(dtype), kind

    def leaf(self, name: str, shape: tuple[int, ...], dtype: str, grad: bool | None = None,
             kind: str | None = None, array: np.ndarray | None = None) -> str:
        """Add a leaf; floats require grad by default (``grad=None``)."""
        if array is None:
            array, kind = self.values(shape, dtype, kind)
        else:
            array = np.asarray(array).astype(dtype)
        requires_grad = (dtype in FLOATS) if grad is None else (grad and dtype in FLOATS)
        self.leaves.append(Leaf(name, np.asarray(array), dtype, requires_grad, kind or ""))
        return name

    # ---------------------------------------------------------------- argument helpers
    def dim(self, ndim: int, out_of_range: float = 0.06) -> int:
        """A dim for an ``ndim`` tensor: usually valid (either sign), sometimes out of range."""
        span = max(ndim, 1)
        if self.chance(out_of_range):
            return self.pick([span, -span - 1, span + 1])
        d = self.int(0, span - 1)
        return d - span if self.chance(0.4) else d

    def scalar(self, ints: bool = True) -> Any:
        """A Python scalar argument (as source text)."""
        choices = ["2", "-1", "0", "True", "0.5", "-2.5", "1e5", "3", "float('inf')", "float('-inf')", "1e-3", "0.0"]
        if not ints:
            choices = [c for c in choices if "." in c or "e" in c or "inf" in c]
        return self.pick(choices)

    def broadcast_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """A shape that broadcasts with ``shape`` (sometimes one that does not)."""
        k = self.int(0, len(shape))
        out = list(shape[len(shape) - k:])
        for i in range(len(out)):
            if self.chance(0.3):
                out[i] = 1
        if self.chance(0.15):
            out = [self.int(1, 3)] * self.int(1, 2) + out
        if out and self.chance(0.05):
            i = self.int(0, len(out) - 1)
            out[i] = out[i] + self.int(1, 2)  # incompatible (unless it was 1 and becomes 1)
        if not self.chance(0.5):  # two spare draws: they keep every seed's case as in the recorded long runs
            self.chance(0.5)
        return tuple(out)


def _fdtype(name: str) -> str:
    return f"torch.{name}"


# ====================================================================== op generators
# Each generator takes (g, op) and returns the code (statements assigning ``out``), adding its leaves to g.
UNARY = ["exp", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "relu", "neg", "abs", "sign",
         "isnan", "isinf", "isfinite", "logical_not", "clone", "clamp"]


def gen_unary(g: Gen, op: str) -> str:
    dt = g.dtype(0.75)
    x = g.leaf("x", g.shape(), dt)
    if op == "clamp":
        lo, hi = g.pick(["None", "-1", "-0.5", "0", "float('-inf')"]), g.pick(["None", "1", "0.5", "2", "float('nan')"])
        if g.chance(0.5):
            return f"out = torch.clamp({x}, min={lo}, max={hi})"
        return f"out = {x}.clamp({lo}, {hi})"
    form = g.int(0, 2)
    if op == "relu" and form == 2:
        return f"out = F.relu({x})"
    if op == "neg" and form == 2:
        return f"out = -{x}"
    if op == "abs" and form == 2:
        return f"out = abs({x})"
    if op == "logical_not" and form == 2 and dt in INTS + ["bool"]:
        return f"out = ~{x}"
    return f"out = torch.{op}({x})" if form == 0 else f"out = {x}.{op}()"


BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "logical_and",
          "logical_or", "logical_xor", "floor_divide", "remainder", "where", "bitwise"]
_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "eq": "==", "ne": "!=", "lt": "<", "le": "<=",
           "gt": ">", "ge": ">=", "floor_divide": "//", "remainder": "%"}


def gen_binary(g: Gen, op: str) -> str:
    a_shape = g.shape(max_ndim=3, max_size=4)
    b_shape = g.broadcast_shape(a_shape) if g.chance(0.85) else a_shape
    if g.chance(0.5):
        a_shape, b_shape = b_shape, a_shape
    same = g.chance(0.5)
    a_dt = g.dtype(0.7)
    b_dt = a_dt if same else g.dtype(0.6)
    if op == "where":
        c = g.leaf("c", g.broadcast_shape(a_shape), "bool")
        a = g.leaf("a", a_shape, a_dt)
        if g.chance(0.2):
            return f"out = torch.where({c}, {a}, {g.scalar()})"
        b = g.leaf("b", b_shape, b_dt)
        return f"out = torch.where({c}, {a}, {b})" if g.chance(0.5) else f"out = {a}.where({c}, {b})"
    if op == "bitwise":
        a_dt, b_dt = g.pick(INTS + ["bool"]), g.pick(INTS + ["bool"])
        if g.chance(0.1):
            b_dt = "float32"
        a, b = g.leaf("a", a_shape, a_dt), g.leaf("b", b_shape, b_dt)
        return f"out = {a} {g.pick(['&', '|', '^'])} {b}"
    a = g.leaf("a", a_shape, a_dt)
    form = g.pick(["func", "method", "op", "scalar_r", "scalar_l"], [0.3, 0.15, 0.2, 0.2, 0.15])
    if form in ("scalar_r", "scalar_l"):
        s = g.scalar()
        if op in _SYMBOL:
            sym = _SYMBOL[op]
            return f"out = {a} {sym} {s}" if form == "scalar_r" else f"out = {s} {sym} {a}"
        if op in ("maximum", "minimum"):  # no scalar overload: a 0-d tensor of the same dtype? torch raises on scalar
            return f"out = torch.{op}({a}, {s})"
        return f"out = torch.{op}({a}, {s})"
    b = g.leaf("b", b_shape, b_dt)
    if op in ("add", "sub") and g.chance(0.2):
        return f"out = torch.{op}({a}, {b}, alpha={g.pick(['2', '0.5', '-1'])})"
    if op == "div" and g.chance(0.3):
        return f"out = torch.div({a}, {b}, rounding_mode={g.pick(['None', repr('floor'), repr('trunc')])})"
    if form == "op" and op in _SYMBOL:
        return f"out = {a} {_SYMBOL[op]} {b}"
    if form == "method":
        return f"out = {a}.{op}({b})"
    return f"out = torch.{op}({a}, {b})"


REDUCTIONS = ["sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "logsumexp", "var", "std",
              "all", "any"]
_MULTI_DIM = {"sum", "mean", "amax", "amin", "logsumexp", "var", "std"}


def gen_reduction(g: Gen, op: str) -> str:
    dt = g.dtype(0.75)
    shape = g.shape(max_ndim=4, max_size=4, empty=0.12)
    x = g.leaf("x", shape, dt)
    nd = len(shape)
    kd = g.pick(["", ", keepdim=True", ", keepdim=False", ", True"])
    if op == "logsumexp" or g.chance(0.7):
        if op in _MULTI_DIM and g.chance(0.3):
            k = g.int(0, max(nd, 1))
            dims = [g.dim(nd, 0.03) for _ in range(k)]
            dim = repr(tuple(dims)) if g.chance(0.6) else repr(list(dims))
        else:
            dim = str(g.dim(nd))
    else:
        dim = None
    extra = ""
    if op in ("var", "std") and g.chance(0.5):
        extra = g.pick([", unbiased=False", ", unbiased=True", ", correction=0", ", correction=2"])
    if op in ("sum", "mean", "prod") and g.chance(0.15):
        extra += f", dtype={_fdtype(g.pick(['float64', 'float32', 'int64']))}"
    if dim is None:
        if op in ("max", "min") and g.chance(0.3):
            b = g.leaf("b", g.broadcast_shape(shape), dt)
            return f"out = torch.{op}({x}, {b})"
        if op in ("var", "std") and extra.startswith(", unbiased"):
            return f"out = {x}.{op}({extra[2:].split('=')[1]})"
        if extra and op in ("var", "std", "sum", "mean", "prod"):
            return f"out = torch.{op}({x}{extra})"
        return f"out = torch.{op}({x})" if g.chance(0.5) else f"out = {x}.{op}()"
    if kd == ", True" and op in ("var", "std"):
        kd = ", keepdim=True"
    if g.chance(0.5):
        return f"out = torch.{op}({x}, {dim}{kd}{extra})"
    if kd == ", True":
        return f"out = {x}.{op}({dim}{kd}{extra})"
    return f"out = {x}.{op}(dim={dim}{kd}{extra})"


SOFTMAX = ["log_softmax", "softmax", "softmin", "logsumexp_family"]


def gen_softmax(g: Gen, op: str) -> str:
    g.loose_fp16 = True
    dt = g.dtype(0.88) if not g.chance(0.05) else "int64"
    shape = g.shape(max_ndim=5 if g.chance(0.1) else 4, max_size=4, empty=0.1)
    x = g.leaf("x", shape, dt)
    nd = len(shape)
    if op == "logsumexp_family":  # log_softmax written out against logsumexp
        d = g.dim(nd)
        return f"out = {x} - torch.logsumexp({x}, {d}, keepdim=True)"
    dim_src = "None" if g.chance(0.15) else str(g.dim(nd))
    dtype_kw = ""
    if g.chance(0.2):
        dtype_kw = f", dtype={_fdtype(g.pick(['float64', 'float32', 'float16', 'int64'], [0.4, 0.35, 0.2, 0.05]))}"
    form = g.pick(["F", "F_kw", "torch", "method", "module", "stacklevel"], [0.3, 0.2, 0.15, 0.15, 0.12, 0.08])
    if op == "softmin" and form in ("torch", "method"):
        form = "F"
    cls = {"log_softmax": "LogSoftmax", "softmax": "Softmax", "softmin": "Softmin"}[op]
    if form == "F":
        return f"out = F.{op}({x}, {dim_src}{dtype_kw})"
    if form == "F_kw":
        return f"out = F.{op}({x}, dim={dim_src}{dtype_kw})"
    if form == "stacklevel":  # the positional trap: the third argument is _stacklevel
        return f"out = F.{op}({x}, {dim_src}, 3{dtype_kw})"
    if form == "module":
        return f"out = nn.{cls}({'dim=' + dim_src if g.chance(0.7) else dim_src})({x})"
    if dim_src == "None":
        dim_src = str(g.dim(nd))
    if form == "torch":
        pos = dtype_kw.replace(", dtype=", ", ") if dtype_kw and g.chance(0.5) else dtype_kw
        return f"out = torch.{op}({x}, {dim_src}{pos})"
    return f"out = {x}.{op}({dim_src}{dtype_kw})"


LOSSES = ["nll_loss", "cross_entropy"]


def gen_loss(g: Gen, op: str) -> str:
    g.loose_fp16 = True
    layout = g.pick(["C", "NC", "NCd"], [0.15, 0.55, 0.3])
    C = g.pick([0, 1, 2, 3, 4, 5], [0.03, 0.1, 0.25, 0.3, 0.2, 0.12])
    N = g.pick([0, 1, 2, 3, 4], [0.06, 0.2, 0.3, 0.3, 0.14])
    spatial = tuple(g.int(0 if g.chance(0.1) else 1, 3) for _ in range(g.int(1, 3))) if layout == "NCd" else ()
    shape = (C,) if layout == "C" else (N, C) + spatial
    if g.chance(0.01):
        shape = ()
    in_dt = g.pick(["float32", "float64", "float16", "int64"], [0.6, 0.25, 0.12, 0.03])
    x = g.leaf("x", shape, in_dt)
    tshape = () if layout == "C" else (N,) + spatial
    prob = op == "cross_entropy" and g.chance(0.2)
    if prob:
        t_dt = g.pick([in_dt if in_dt in FLOATS else "float32", "float32", "float64", "int64"], [0.75, 0.1, 0.1, 0.05])
        if t_dt in FLOATS:
            p = g.rng.random(shape)
            style = g.pick(["normalised", "raw", "onehot"])
            cdim = 0 if len(shape) == 1 else 1
            if style == "normalised" and C and shape:
                p = p / np.maximum(p.sum(axis=cdim, keepdims=True), 1e-12)
            elif style == "onehot" and C and shape:
                hot = g.rng.integers(0, C, shape[:cdim] + (1,) + shape[cdim + 1:])
                p = (np.arange(C).reshape((C,) + (1,) * (len(shape) - cdim - 1)) == hot).astype(float)
            t = g.leaf("t", shape, t_dt, grad=g.chance(0.2), array=p)
            g.leaves[-1].kind = style
        else:
            t = g.leaf("t", shape, t_dt, array=g.rng.integers(0, max(C, 1), shape))
    else:
        if layout == "C" and g.chance(0.15):
            tshape = g.pick([(1,), (3,), (2,)])
        if g.chance(0.06):  # a wrong target shape
            tshape = g.pick([tshape + (2,), tshape[1:], (N + 1,) + tshape[1:], (N,) + tuple(s + 1 for s in spatial)])
        t_vals = g.rng.integers(0, max(C, 1), tshape)
        t_dt = g.pick(["int64", "uint8", "int32", "float32"], [0.86, 0.08, 0.03, 0.03])
        t = None
    kwargs = []
    ignore = None
    if g.chance(0.4):
        ignore = g.pick([-100, 0, 1, -1, 255, C])
        kwargs.append(f"ignore_index={ignore}")
    if not prob:
        if t_vals.size:
            if ignore is not None and g.chance(0.7):
                mask = g.rng.random(tshape) < 0.4
                t_vals = np.where(mask, ignore, t_vals)
            if g.chance(0.06):
                flat = t_vals.reshape(-1)
                flat[g.int(0, flat.size - 1)] = g.pick([C, -1, C + 1, 255])
        if t_dt == "uint8":
            t_vals = np.where((t_vals < 0) | (t_vals > 255), 0, t_vals)
        t = g.leaf("t", tshape, t_dt, array=t_vals)
        g.leaves[-1].kind = "index"
    if g.chance(0.4):
        w_dt = in_dt if g.chance(0.93) else g.pick(["float32", "float64", "float16"])
        wC = C if g.chance(0.95) else C + g.pick([1, -1]) if C else 1
        wkind = g.pick(["pos", "zeros_some", "all_zero", "neg"], [0.6, 0.2, 0.08, 0.12])
        wv = g.rng.uniform(0.1, 2.0, (max(wC, 0),))
        if wkind == "zeros_some":
            wv = np.where(g.rng.random(wv.shape) < 0.4, 0.0, wv)
        elif wkind == "all_zero":
            wv = np.zeros_like(wv)
        elif wkind == "neg":
            wv = wv * g.rng.choice([-1.0, 1.0], wv.shape)
        g.leaf("w", (wC,), w_dt, grad=g.chance(0.05), array=wv)
        g.leaves[-1].kind = wkind
        kwargs.append("weight=w")
    if g.chance(0.05):
        sa, rd = g.pick(["None", "True", "False"]), g.pick(["None", "True", "False"])
        kwargs.append(f"size_average={sa}, reduce={rd}")
        if sa == rd == "None":
            kwargs[-1] = "size_average=False"
    red = g.pick(["mean", "sum", "none", "elementwise_mean", "avg", None], [0.3, 0.22, 0.3, 0.03, 0.03, 0.12])
    if red is not None:
        kwargs.append(f"reduction={red!r}")
    if op == "cross_entropy" and g.chance(0.35):
        kwargs.append(f"label_smoothing={g.pick(['0.1', '0.5', '1.0', '0', '-0.5', '1.5', '0.25'])}")
    if g.chance(0.2):  # the module form
        return f"out = nn.{'NLLLoss' if op == 'nll_loss' else 'CrossEntropyLoss'}({', '.join(kwargs)})({x}, {t})"
    if g.chance(0.1) and op == "nll_loss":  # composed with log_softmax, the usual pairing
        return f"out = F.nll_loss(F.log_softmax({x}, {0 if len(shape) == 1 else 1}), {t}{''.join(', ' + k for k in kwargs)})"
    return f"out = F.{op}({x}, {t}{''.join(', ' + k for k in kwargs)})"


SHAPE_OPS = ["reshape", "view", "flatten", "permute", "transpose", "t", "unsqueeze", "squeeze", "expand", "repeat",
             "T", "mT", "expand_as"]


def _factor_shape(g: Gen, n: int) -> list[int]:
    if n == 0:
        return g.pick([[0], [0, g.int(1, 3)], [g.int(1, 3), 0], [0, -1], [-1, 0]])
    dims, rest = [], n
    for _ in range(g.int(0, 2)):
        divs = [d for d in range(1, rest + 1) if rest % d == 0]
        d = g.pick(divs)
        dims.append(d)
        rest //= d
    dims.append(rest)
    order = list(g.rng.permutation(len(dims)))
    dims = [dims[i] for i in order]
    if g.chance(0.3):
        dims[g.int(0, len(dims) - 1)] = -1
    if g.chance(0.08):
        dims[0] = dims[0] + 1 if dims[0] != -1 else 2  # usually incompatible
    return dims


def gen_shape(g: Gen, op: str) -> str:
    dt = g.dtype(0.7)
    shape = g.shape(max_ndim=4, max_size=4)
    x = g.leaf("x", shape, dt)
    nd = len(shape)
    if op in ("reshape", "view"):
        dims = _factor_shape(g, int(np.prod(shape)))
        return f"out = {x}.{op}({', '.join(map(str, dims))})" if g.chance(0.5) else f"out = {x}.{op}({tuple(dims)!r})"
    if op == "flatten":
        if g.chance(0.3):
            return f"out = torch.flatten({x})"
        return f"out = {x}.flatten({g.dim(nd)}, {g.dim(nd)})"
    if op == "permute":
        perm = [int(i) for i in g.rng.permutation(nd)]
        if g.chance(0.1) and perm:
            perm[0] = perm[-1] if len(perm) > 1 else 5
        perm = [p - nd if g.chance(0.3) else p for p in perm]
        return f"out = {x}.permute({', '.join(map(str, perm))})" if g.chance(0.5) else f"out = torch.permute({x}, {tuple(perm)!r})"
    if op == "transpose":
        return f"out = {x}.transpose({g.dim(nd)}, {g.dim(nd)})"
    if op == "t":
        return f"out = {x}.t()"
    if op == "T":
        if nd != 2:  # torch warns only once per process for .T on ndim != 2: keep it deterministic
            return f"out = {x}.mT" if nd >= 2 else f"out = {x}.t()"
        return f"out = {x}.T"
    if op == "mT":
        return f"out = {x}.mT"
    if op == "unsqueeze":
        return f"out = {x}.unsqueeze({g.dim(nd + 1)})"
    if op == "squeeze":
        return f"out = {x}.squeeze()" if g.chance(0.3) else f"out = {x}.squeeze({g.dim(nd)})"
    if op in ("expand", "expand_as"):
        sizes = [s if s != 1 or g.chance(0.5) else g.int(1, 3) for s in shape]
        sizes = [-1 if g.chance(0.3) else s for s in sizes]
        if g.chance(0.3):
            sizes = [g.int(1, 3)] + sizes
        if sizes and g.chance(0.05):
            sizes[-1] = sizes[-1] + 2
        if op == "expand_as":
            other = tuple(abs(s) if s != -1 else (shape[i - (len(sizes) - nd)] if i >= len(sizes) - nd else 1)
                          for i, s in enumerate(sizes))
            y = g.leaf("y", other, g.pick(ALL_DTYPES), grad=False)
            return f"out = {x}.expand_as({y})"
        return f"out = {x}.expand({', '.join(map(str, sizes))})" if sizes else f"out = {x}.expand(())"
    if op == "repeat":
        reps = [g.int(0 if g.chance(0.1) else 1, 3) for _ in range(max(nd + g.int(-1, 1), 0))]
        if not reps:
            reps = [2]
        return f"out = {x}.repeat({', '.join(map(str, reps))})"
    raise KeyError(op)


INDEXING = ["getitem", "getitem_tensor", "getitem_mask", "gather", "index_select", "masked_fill", "narrow", "cat",
            "stack", "split", "chunk", "unbind", "scatter", "scatter_add"]


def _index_item(g: Gen, size: int) -> str:
    k = g.pick(["int", "slice", "none", "full"], [0.35, 0.4, 0.1, 0.15])
    if k == "int":
        if g.chance(0.08):
            return str(g.pick([size, -size - 1]))
        return str(g.int(-size, size - 1)) if size else "0"
    if k == "slice":
        a = g.pick(["", str(g.int(-size - 1, size + 1))])
        b = g.pick(["", str(g.int(-size - 1, size + 1))])
        step = g.pick(["", "", "2", "3", "-1" if g.chance(0.1) else "1"])
        return f"{a}:{b}" + (f":{step}" if step else "")
    if k == "none":
        return "None"
    return ":"


def gen_indexing(g: Gen, op: str) -> str:
    dt = g.dtype(0.7)
    shape = g.shape(min_ndim=0 if op.startswith("getitem") else 1, max_ndim=4, max_size=4)
    x = g.leaf("x", shape, dt)
    nd = len(shape)
    if op == "getitem":
        items = [_index_item(g, s) for s in shape[:g.int(0, nd)]]
        if g.chance(0.15):
            items.insert(g.int(0, len(items)), "...")
        if g.chance(0.05):
            items.append("0")  # maybe too many indices
        if not items:
            items = ["..."] if g.chance(0.5) else ["None"]
        return f"out = {x}[{', '.join(items)}]"
    if op == "getitem_tensor":
        if nd == 0 or g.chance(0.15):
            idx = g.pick(["[0, 0]", "[-1]", "[]"])
            return f"out = {x}[{idx}]"
        size = shape[0]
        ishape = g.shape(min_ndim=0, max_ndim=2, max_size=3)
        vals = g.rng.integers(-size, max(size, 1), ishape) if size else np.zeros(ishape, int)
        if g.chance(0.08) and vals.size:
            vals.reshape(-1)[0] = size
        i = g.leaf("i", ishape, g.pick(["int64", "int32", "uint8"], [0.85, 0.1, 0.05]), array=vals)
        if g.chance(0.5) and nd >= 2:
            return f"out = {x}[:, {i}]" if g.chance(0.5) else f"out = {x}[{i}, 1:]"
        return f"out = {x}[{i}]"
    if op == "getitem_mask":
        k = g.int(1, max(nd, 1)) if nd else 0
        mshape = shape[:k] if g.chance(0.9) else tuple(s + 1 for s in shape[:k])
        m = g.leaf("m", mshape, "bool")
        return f"out = {x}[{m}]"
    if op == "gather" or op in ("scatter", "scatter_add"):
        d = g.dim(nd, 0.03)
        ishape = tuple(g.int(0 if g.chance(0.05) else 1, s) if s else 0 for s in shape)
        dd = d % nd if -nd <= d < nd else 0
        high = shape[dd] if shape else 1
        vals = g.rng.integers(0, max(high, 1), ishape)
        if g.chance(0.05) and vals.size:
            vals.reshape(-1)[0] = high + g.pick([0, 1])
        i = g.leaf("i", ishape, "int64" if g.chance(0.95) else "int32", array=vals)
        if op == "gather":
            return f"out = torch.gather({x}, {d}, {i})" if g.chance(0.5) else f"out = {x}.gather({d}, {i})"
        src = g.leaf("src", ishape, dt if g.chance(0.9) else g.pick(FLOATS))
        if op == "scatter":
            if g.chance(0.3):
                return f"out = {x}.scatter({d}, {i}, value={g.scalar()})"
            # duplicate indices make torch's scatter order-dependent: use unique indices along d only when safe
            return f"out = {x}.scatter({d}, {i}, {src})"
        return f"out = {x}.scatter_add({d}, {i}, {src})"
    if op == "index_select":
        d = g.dim(nd, 0.03)
        dd = d % nd if -nd <= d < nd else 0
        size = shape[dd] if shape else 1
        vals = g.rng.integers(0, max(size, 1), g.int(0, 4))
        if g.chance(0.06) and vals.size:
            vals[0] = g.pick([size, -1])
        i = g.leaf("i", vals.shape, g.pick(["int64", "int32"], [0.9, 0.1]), array=vals)
        return f"out = torch.index_select({x}, {d}, {i})"
    if op == "masked_fill":
        m = g.leaf("m", g.broadcast_shape(shape), "bool")
        v = g.pick([g.scalar(), "float('-inf')", "float('nan')", "0"])
        if g.chance(0.15):
            v = g.leaf("v", (), g.pick(["float32", "float64", "int64"]), grad=False)
        return f"out = {x}.masked_fill({m}, {v})"
    if op == "narrow":
        d = g.dim(nd, 0.03)
        dd = d % nd if -nd <= d < nd else 0
        size = shape[dd]
        start = g.int(-size, size)
        length = g.int(0, max(size - (start % size if size else 0), 0)) if g.chance(0.9) else size + 1
        return f"out = {x}.narrow({d}, {start}, {length})"
    if op in ("cat", "stack"):
        oshape = list(shape)
        d = g.dim(nd + (op == "stack"), 0.03)
        if op == "cat" and g.chance(0.6) and -nd <= d < nd:
            oshape[d] = g.int(0, 3)
        if g.chance(0.05):
            oshape = oshape[:-1]
        y = g.leaf("y", tuple(oshape), dt if g.chance(0.8) else g.dtype(0.6))
        seq = f"[{x}, {y}]" if g.chance(0.7) else f"({x}, {y}, {x})"
        return f"out = torch.{op}({seq}, {d})" if g.chance(0.6) else f"out = torch.{op}({seq}, dim={d})"
    if op == "split":
        d = g.dim(nd, 0.03)
        if g.chance(0.6):
            return f"out = {x}.split({g.int(1, 3)}, {d})" if g.chance(0.8) else f"out = {x}.split(0, {d})"
        dd = d % nd if -nd <= d < nd else 0
        size = shape[dd]
        a = g.int(0, size)
        secs = [a, size - a] if g.chance(0.9) else [a, size - a + 1]
        return f"out = torch.split({x}, {secs!r}, dim={d})"
    if op == "chunk":
        return f"out = {x}.chunk({g.int(1, 4) if g.chance(0.95) else 0}, {g.dim(nd, 0.03)})"
    if op == "unbind":
        return f"out = {x}.unbind({g.dim(nd, 0.03)})"
    raise KeyError(op)


MATMUL = ["matmul", "mm", "bmm", "dot"]


def gen_matmul(g: Gen, op: str) -> str:
    dt = g.pick(["float32", "float64", "float16", "int64", "int32"], [0.5, 0.3, 0.1, 0.07, 0.03])
    dt2 = dt if g.chance(0.9) else g.pick(["float32", "float64", "int64"])
    kind = g.pick(["normal", "ties", "mixed", "large"], [0.6, 0.2, 0.1, 0.1]) if dt in FLOATS else None
    n, k, m, b = g.int(0 if g.chance(0.1) else 1, 4), g.int(0 if g.chance(0.1) else 1, 4), g.int(1, 4), g.int(1, 3)
    k2 = k if g.chance(0.92) else k + 1
    if op == "dot":
        sa, sb = (k,), (k2,) if g.chance(0.95) else (k, 1)
    elif op == "mm":
        sa, sb = (n, k), (k2, m)
    elif op == "bmm":
        sa, sb = (b, n, k), (b if g.chance(0.95) else b + 1, k2, m)
    else:
        ra, rb = g.pick([1, 2, 3, 4], [0.25, 0.35, 0.3, 0.1]), g.pick([1, 2, 3], [0.25, 0.45, 0.3])
        sa = (k,) if ra == 1 else ((n, k) if ra == 2 else ((b, n, k) if ra == 3 else (2, 1 if g.chance(0.5) else b, n, k)))
        sb = (k2,) if rb == 1 else ((k2, m) if rb == 2 else ((b if g.chance(0.8) else 1), k2, m))
    a = g.leaf("a", sa, dt, kind=kind)
    bb = g.leaf("b", sb, dt2, kind=kind if dt2 in FLOATS else None)
    if op == "matmul" and g.chance(0.4):
        return f"out = {a} @ {bb}"
    return f"out = torch.{op}({a}, {bb})" if g.chance(0.6) else f"out = {a}.{op}({bb})"


# ---------------------------------------------------------------------- programs
def gen_program(g: Gen, op: str) -> str:
    g.loose_fp16 = True
    dt = g.pick(FLOATS, [0.12, 0.6, 0.28])
    shape = list(g.shape(min_ndim=1, max_ndim=3, max_size=4, empty=0.05))
    kind = g.pick(Gen.FLOAT_KINDS, [0.45, 0.06, 0.03, 0.03, 0.12, 0.12, 0.03, 0.03, 0.03, 0.1])
    x = g.leaf("x", tuple(shape), dt, kind=kind)
    y_shape = list(shape)
    two = g.chance(0.5)
    if two:
        y_shape = list(g.broadcast_shape(tuple(shape))) if g.chance(0.3) else list(shape)
        if len(y_shape) > len(shape) or any(a != b and a != 1 for a, b in zip(y_shape[::-1], shape[::-1])):
            y_shape = list(shape)
        g.leaf("y", tuple(y_shape), dt if g.chance(0.85) else g.pick(FLOATS))
    lines, cur = [], list(shape)
    steps = g.int(2, 5)
    for _ in range(steps):
        nd = len(cur)
        choices = ["unary", "softmax", "lse", "reduce_keep", "scale", "mask", "shape"]
        if two:
            choices.append("binary")
        if nd >= 2:
            choices.append("matmul")
        if nd >= 1 and cur[0] > 0:
            choices.append("index")
        c = g.pick(choices)
        d = g.int(0, nd - 1) - (nd if g.chance(0.4) else 0) if nd else 0
        if c == "unary":
            f = g.pick(["h.exp()", "h.tanh()", "h.sigmoid()", "h.relu()", "-h", "h.abs()", "torch.log(h.abs() + 1)",
                        "h.sqrt()", "h ** 2", "h.clamp(-3, 3)", "h.log1p()", "torch.sin(h)"])
            lines.append(f"h = {f}")
        elif c == "softmax":
            f = g.pick([f"F.log_softmax(h, {d})", f"F.softmax(h, dim={d})", f"h.log_softmax({d})", f"torch.softmax(h, {d})"])
            lines.append(f"h = {f}")
        elif c == "lse":
            lines.append(g.pick([f"h = h - torch.logsumexp(h, {d}, keepdim=True)", f"h = torch.logsumexp(h, {d}, keepdim=True) * h"]))
        elif c == "reduce_keep":
            r = g.pick(["sum", "mean", "amax", "amin", "prod", "std"], [0.3, 0.3, 0.15, 0.1, 0.1, 0.05])
            lines.append(f"h = h - h.{r}({d}, keepdim=True)" if g.chance(0.6) else f"h = h.{r}({d}, keepdim=True)")
            if not lines[-1].startswith("h = h -"):
                cur[d] = 1
        elif c == "scale":
            lines.append(f"h = h {g.pick(['*', '+', '/', '-'])} {g.pick(['2', '0.5', '-3', '1e3', '1e-3'])}")
        elif c == "mask":
            lines.append(g.pick(["h = h.masked_fill(h < -0.5, float('-inf'))", "h = h.masked_fill(h > 1, 0.0)",
                                 "h = torch.where(h > 0, h, h * 0.1)"]))
        elif c == "binary":
            f = g.pick(["h + y", "h * y", "torch.maximum(h, y)", "h - y", "torch.where(y > 0, h, y)"])
            if tuple(cur) != tuple(y_shape):
                f = f.replace("y", "y.sum()")
            lines.append(f"h = {f}")
        elif c == "matmul":
            lines.append("h = h @ h.transpose(-1, -2)")
            cur = cur[:-1] + [cur[-2]]
        elif c == "index":
            if nd >= 2 and g.chance(0.5):
                lines.append("h = h[0]")
                cur = cur[1:]
            else:
                lines.append("h = h[1:]" if cur[0] > 1 else "h = h[:1]")
                cur[0] = max(cur[0] - 1, 0) if cur[0] > 1 else cur[0]
        else:
            s = g.pick(["t", "flat", "unsq"]) if nd >= 2 else g.pick(["unsq", "flat"])
            if s == "t":
                a, b = sorted(g.rng.choice(nd, 2, replace=False))
                lines.append(f"h = h.transpose({a}, {b})")
                cur[a], cur[b] = cur[b], cur[a]
            elif s == "flat":
                lines.append("h = h.reshape(-1)")
                cur = [int(np.prod(cur))]
            else:
                lines.append("h = h.unsqueeze(0)")
                cur = [1] + cur
    code = "h = x\n" + "\n".join(lines) + "\n"
    if cur and cur[-1] > 0 and g.chance(0.3):
        C = cur[-1]
        rows = int(np.prod(cur)) // C
        t = g.leaf("t", (rows,), "int64", array=g.rng.integers(0, C, (rows,)))
        loss = g.pick(["F.cross_entropy", "F.nll_loss"])
        extra = g.pick(["", ", reduction='sum'", ", label_smoothing=0.1" if loss == "F.cross_entropy" else ""])
        code += f"out = {loss}(h.reshape(-1, {C}), {t}{extra})"
    else:
        code += g.pick(["out = h.sum()", "out = h.mean()", "out = h.sum()"])
    return code


# ====================================================================== the op table
@dataclass(frozen=True)
class Op:
    name: str
    family: str
    arity: int
    gen: Callable[[Gen, str], str]   # draws the arguments (leaves into the Gen) and returns the code
    differentiable: bool = True       # float leaves require grad and outputs are backpropagated


def _table() -> list[Op]:
    ops = []
    ops += [Op(n, "unary", 1, gen_unary) for n in UNARY]
    ops += [Op(n, "binary", 2, gen_binary) for n in BINARY]
    ops += [Op(n, "reduction", 1, gen_reduction) for n in REDUCTIONS]
    ops += [Op(n, "softmax", 1, gen_softmax) for n in SOFTMAX]
    ops += [Op(n, "loss", 3, gen_loss) for n in LOSSES]
    ops += [Op(n, "shape", 1, gen_shape) for n in SHAPE_OPS]
    ops += [Op(n, "indexing", 2, gen_indexing) for n in INDEXING]
    ops += [Op(n, "matmul", 2, gen_matmul) for n in MATMUL]
    ops += [Op("program", "program", 2, gen_program)]
    return ops


OPS = _table()
OPS_BY_NAME = {op.name: op for op in OPS}
FAMILY_WEIGHTS = {"softmax": 0.2, "loss": 0.2, "program": 0.15, "unary": 0.07, "binary": 0.1, "reduction": 0.1,
                  "shape": 0.06, "indexing": 0.07, "matmul": 0.05}


def select_ops(names: str | None) -> list[Op]:
    """Ops by name or family name (comma separated); all ops when ``names`` is empty."""
    if not names:
        return OPS
    wanted = {n.strip() for n in names.split(",") if n.strip()}
    unknown = wanted - set(OPS_BY_NAME) - set(FAMILY_WEIGHTS)
    if unknown:
        raise SystemExit(f"unknown ops: {sorted(unknown)} (see --list-ops)")
    return [op for op in OPS if op.name in wanted or op.family in wanted]


def generate(seed: int, ops: list[Op] | None = None) -> Case:
    """The case for ``seed``: the op (weighted by family), then its arguments, all from one generator."""
    ops = ops or OPS
    g = Gen(seed)
    families = sorted({op.family for op in ops}, key=list(FAMILY_WEIGHTS).index)
    family = g.pick(families, [FAMILY_WEIGHTS[f] for f in families])
    op = g.pick([o for o in ops if o.family == family])
    code = op.gen(g, op.name)
    if not op.differentiable:
        for leaf in g.leaves:
            leaf.requires_grad = False
    return Case(seed, op.name, op.family, g.leaves, code, g.loose_fp16)


# ====================================================================== running a case
@dataclass
class Run:
    out: Any = None
    error: BaseException | None = None
    grads: list[Any] | None = None          # per requires-grad leaf (None where .grad is None)
    grad_error: BaseException | None = None
    roots: list[int] = field(default_factory=list)   # indices (in the flat outputs) that were backpropagated
    warnings: list[tuple[str, str]] = field(default_factory=list)


def namespace(lib: Any) -> dict[str, Any]:
    return {"torch": lib, "F": lib.nn.functional, "nn": lib.nn, "np": np, "__builtins__": __builtins__}


def is_tensor(value: Any) -> bool:
    return isinstance(value, (torch.Tensor, mt.Tensor))


def flat(value: Any) -> list[Any]:
    if isinstance(value, (tuple, list)) and not isinstance(value, torch.Size):
        return [t for v in value for t in flat(v)]
    return [value]


def make_leaf(lib: Any, leaf: Leaf, ref: bool = False) -> Any:
    dtype = "float64" if ref and leaf.dtype in FLOATS else leaf.dtype
    return lib.tensor(leaf.array, dtype=getattr(lib, dtype), requires_grad=leaf.requires_grad)


def execute(case: Case, lib: Any, upstream: dict[int, np.ndarray] | None, ref: bool = False) -> Run:
    """Run the case's code in ``lib``; then backward with ``upstream`` (flat output index -> array)."""
    run = Run()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        ns = namespace(lib)
        try:
            leaves = [make_leaf(lib, leaf, ref) for leaf in case.leaves]
        except Exception as error:  # noqa: BLE001
            run.error = error
            return run
        ns.update({leaf.name: t for leaf, t in zip(case.leaves, leaves)})
        try:
            exec(case.code, ns)  # noqa: S102 - the generated snippet
            run.out = ns["out"]
        except Exception as error:  # noqa: BLE001 - comparing errors is the point
            run.error = error
        grad_leaves = [t for leaf, t in zip(case.leaves, leaves) if leaf.requires_grad]
        if run.error is None and upstream and grad_leaves:
            outs = flat(run.out)
            try:
                roots, grads = [], []
                for i, g in upstream.items():
                    o = outs[i]
                    roots.append(o)
                    grads.append(lib.tensor(g, dtype=o.dtype))
                    run.roots.append(i)
                lib.autograd.backward(roots, grads)
                run.grads = [t.grad for t in grad_leaves]
            except Exception as error:  # noqa: BLE001
                run.grad_error = error
    run.warnings = [(w.category.__name__, str(w.message)) for w in record]
    return run


def upstream_for(case: Case, run: Run) -> dict[int, np.ndarray]:
    """A seeded upstream gradient for every float output of torch's run that requires grad."""
    rng = np.random.Generator(np.random.PCG64(case.seed + 0x5EED))
    ups = {}
    if run.error is not None or not any(leaf.requires_grad for leaf in case.leaves):
        return ups
    for i, o in enumerate(flat(run.out)):
        if isinstance(o, torch.Tensor) and o.requires_grad and o.dtype.is_floating_point:
            ups[i] = np.round(rng.standard_normal(tuple(o.shape)), 3).astype(str(o.dtype).replace("torch.", ""))
    return ups


# ====================================================================== comparing
TOLERANCES = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7), "bfloat16": (1.6e-2, 1e-5)}


@dataclass
class Mismatch:
    kind: str
    detail: str
    known: str | None = None


def dtype_name(dtype: Any) -> str:
    return str(dtype).replace("torch.", "")


def to_numpy(t: Any) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t.detach().cpu().numpy())


def _fmt(v: Any) -> str:
    return np.array2string(np.asarray(v), precision=6, threshold=12, edgeitems=3, max_line_width=200).replace("\n", "")


@dataclass
class Tol:
    """How a case's float results are compared (see the module docstring)."""
    loose_fp16: bool = False      # softmax/loss/program: float16 atol 1e-2
    inside: str | None = None     # the lowest float precision the case computes in (a float16 leaf, dtype=torch.float32
    #                               on float64 input, ...): every float result gets at least that dtype's tolerances
    slack: float = 0.0            # extra absolute allowance for summation-order rounding (sum-type cases only)
    nonfinite_ok: bool = False    # inputs near overflow in a sum-type case: inf/nan placement depends on order


def _tolerance(dt: str, tol: Tol) -> tuple[float, float]:
    rtol, atol = TOLERANCES[dt]
    if tol.inside in TOLERANCES:
        rtol, atol = max(rtol, TOLERANCES[tol.inside][0]), max(atol, TOLERANCES[tol.inside][1])
    if tol.loose_fp16 and "float16" in (dt, tol.inside):
        atol = 1e-2
    return rtol, atol


def compare_tensor(a: Any, e: Any, r: Any, what: str, tol: Tol) -> list[Mismatch]:
    """minitorch ``a`` against torch ``e`` (``r``: torch's float64 reference, or None)."""
    if not isinstance(a, mt.Tensor):
        return [Mismatch(f"{what}type", f"{what}expected a Tensor, got {type(a).__name__}: {a!r:.100}")]
    out = []
    if tuple(a.shape) != tuple(e.shape):
        return [Mismatch(f"{what}shape", f"{what}shape {tuple(a.shape)} != torch {tuple(e.shape)}")]
    if dtype_name(a.dtype) != dtype_name(e.dtype):
        return [Mismatch(f"{what}dtype", f"{what}dtype {dtype_name(a.dtype)} != torch {dtype_name(e.dtype)}")]
    try:
        av = to_numpy(a)
    except Exception as error:  # noqa: BLE001
        return [Mismatch(f"{what}type", f"{what}cannot read values: {error!r}")]
    ev = to_numpy(e)
    if av.shape != ev.shape:
        return [Mismatch(f"{what}shape", f"{what}array shape {av.shape} != {ev.shape}")]
    dt = dtype_name(e.dtype)
    if dt not in TOLERANCES:
        bad = av != ev
        if bad.any():
            i = tuple(int(j) for j in np.argwhere(bad)[0])
            out.append(Mismatch(f"{what}value", f"{what}{int(bad.sum())}/{bad.size} differ; at {i}: {av[i]!r} != torch {ev[i]!r}; "
                                f"mt {_fmt(av)} torch {_fmt(ev)}"))
        return out
    rtol, atol = _tolerance(dt, tol)
    a64, e64 = av.astype(np.float64), ev.astype(np.float64)
    an, en = np.isnan(a64), np.isnan(e64)
    odd = np.zeros(a64.shape, bool)
    if tol.nonfinite_ok:  # order-dependent overflow: only finite-vs-finite elements are compared
        odd = ~np.isfinite(a64) | ~np.isfinite(e64)
    if ((an != en) & ~odd).any():
        i = tuple(int(j) for j in np.argwhere((an != en) & ~odd)[0])
        out.append(Mismatch(f"{what}nan", f"{what}NaN in {'mt' if an[i] else 'torch'} only, at {i}: {a64[i]!r} vs torch {e64[i]!r}; "
                            f"mt {_fmt(av)} torch {_fmt(ev)}"))
    with np.errstate(all="ignore"):
        ok = (a64 == e64) | (an & en) | odd | (np.isfinite(a64) & np.isfinite(e64)
                                               & (np.abs(a64 - e64) <= atol + tol.slack + rtol * np.abs(e64)))
        ok |= an != en  # already reported
        if not ok.all() and r is not None:
            rv = to_numpy(r)
            if rv.shape == av.shape:
                r64 = rv.astype(dt).astype(np.float64)  # the correctly rounded result in the result dtype
                err_t = np.abs(e64 - r64)
                err_m = np.abs(a64 - r64)
                ok |= (a64 == r64) | (np.isfinite(err_m) & (err_m <= 4 * np.where(np.isfinite(err_t), err_t, 0)
                                                             + atol + tol.slack + rtol * np.abs(r64)))
    if not ok.all():
        bad = ~ok
        i = tuple(int(j) for j in np.argwhere(bad)[0])
        with np.errstate(all="ignore"):
            diff = np.abs(a64 - e64)[bad]
        out.append(Mismatch(f"{what}value", f"{what}{int(bad.sum())}/{bad.size} differ (max abs diff {np.nanmax(diff) if diff.size else 0:.3g}); "
                            f"at {i}: {a64[i]!r} != torch {e64[i]!r}; mt {_fmt(av)} torch {_fmt(ev)}"))
    return out


def compare_value(a: Any, e: Any, r: Any, what: str, tol: Tol, check_rg: bool = True) -> list[Mismatch]:
    if isinstance(e, torch.Tensor):
        out = compare_tensor(a, e, r if isinstance(r, torch.Tensor) else None, what, tol)
        if check_rg and isinstance(a, mt.Tensor) and bool(a.requires_grad) != bool(e.requires_grad):
            out.append(Mismatch(f"{what}requires_grad", f"{what}requires_grad {a.requires_grad} != torch {e.requires_grad}"))
        return out
    if isinstance(e, (tuple, list)) and not isinstance(e, torch.Size):
        if not isinstance(a, (tuple, list)) or len(a) != len(e):
            return [Mismatch(f"{what}type", f"{what}expected a sequence of {len(e)}, got {type(a).__name__}"
                             f"{' of ' + str(len(a)) if isinstance(a, (tuple, list)) else ''}")]
        rs = r if isinstance(r, (tuple, list)) and len(r) == len(e) else [None] * len(e)
        out = []
        for k, (x, y, z) in enumerate(zip(a, e, rs)):
            out += compare_value(x, y, z, f"{what}[{k}] ", tol, check_rg)
        return out
    if isinstance(e, torch.Size):
        return [] if tuple(a) == tuple(e) else [Mismatch(f"{what}value", f"{what}{a!r} != torch {e!r}")]
    if type(a) is not type(e) or not (a == e or (a != a and e != e)):
        return [Mismatch(f"{what}type", f"{what}{a!r:.80} != torch {e!r:.80}")]
    return []


# sum-type cases: the result is a sum whose rounding depends on the summation order
_SUM_OPS = {"sum", "mean", "prod", "var", "std", "scatter_add", "matmul", "mm", "bmm", "dot", "program"}
# ...and cases whose gradients are sums (broadcast operands, repeated or expanded inputs)
_GRAD_SUM_FAMILIES = {"binary", "shape", "indexing", "reduction", "matmul", "program", "loss"}


def tolerances(case: Case, ups: dict[int, np.ndarray]) -> tuple[Tol, Tol]:
    """The Tol for the forward results and for the gradients of ``case``."""
    used = {leaf.dtype for leaf in case.leaves} | set(re.findall(r"torch\.(float16|float32|float64)", case.code))
    inside = next((d for d in FLOATS if d in used), None)  # FLOATS is ordered from the lowest precision up
    floats = [np.abs(leaf.array.astype(np.float64)).reshape(-1) for leaf in case.leaves if leaf.dtype in FLOATS]
    vals = np.concatenate(floats) if floats else np.zeros(0)
    vals = vals[np.isfinite(vals)]
    size = float(vals.sum() * max(1.0, vals.max())) if vals.size else 0.0
    eps = 2.3e-16 if all(leaf.dtype == "float64" for leaf in case.leaves if leaf.dtype in FLOATS) else 1.2e-7
    near_overflow = any(leaf.dtype in ("float32", "float64") and leaf.array.size and
                        np.nanmax(np.where(np.isfinite(leaf.array), np.abs(leaf.array.astype(np.float64)), 0))
                        > np.finfo(leaf.dtype).max / 64 for leaf in case.leaves if leaf.dtype in FLOATS)
    sum_type = case.op in _SUM_OPS or (case.family == "loss" and "'none'" not in case.code)
    up = max([1.0] + [float(np.nanmax(np.abs(u))) for u in ups.values() if u.size])
    fwd = Tol(case.loose_fp16, inside, 4 * eps * size if sum_type else 0.0, near_overflow and sum_type)
    grad_sum = sum_type or case.family in _GRAD_SUM_FAMILIES
    bwd = Tol(case.loose_fp16, inside, 4 * eps * size * up if grad_sum else 0.0, near_overflow and grad_sum)
    return fwd, bwd


_NP_WARNING = re.compile(r"encountered in|overflow|underflow|divide by zero|invalid value")


def compare_runs(case: Case, th: Run, mtr: Run, ref: Callable[[], Run | None], ups: dict[int, np.ndarray]) -> list[Mismatch]:
    out: list[Mismatch] = []
    ftol, gtol = tolerances(case, ups)
    if th.error is not None:
        if mtr.error is None:
            out.append(Mismatch("mt_no_raise", f"torch raised {type(th.error).__name__}: {str(th.error)[:200]}; "
                                f"minitorch returned {_short(mtr.out)}"))
        elif type(mtr.error).__name__ != type(th.error).__name__:
            out.append(Mismatch("exc_class", f"minitorch {type(mtr.error).__name__}: {str(mtr.error)[:200]} | "
                                f"torch {type(th.error).__name__}: {str(th.error)[:200]}"))
        elif str(mtr.error) != str(th.error):
            out.append(Mismatch("message", f"{type(th.error).__name__}: minitorch {str(mtr.error)[:200]!r} | "
                                f"torch {str(th.error)[:200]!r}"))
    elif mtr.error is not None:
        out.append(Mismatch("mt_raised", f"minitorch {type(mtr.error).__name__}: {str(mtr.error)[:300]} "
                            f"[{_where(mtr.error)}]; torch returned {_short(th.out)}"))
    else:
        reference = None
        fwd = compare_value(mtr.out, th.out, None, "", ftol)
        if any(m.kind.endswith("value") for m in fwd):
            reference = ref()
            fwd = compare_value(mtr.out, th.out, reference.out if reference and reference.error is None else None,
                                "", ftol)
        out += fwd
        if not any(m.kind.split()[-1] in ("shape", "dtype", "type") for m in fwd) and th.roots:
            if (th.grad_error is None) != (mtr.grad_error is None):
                err = th.grad_error or mtr.grad_error
                who = "torch" if th.grad_error else "minitorch"
                out.append(Mismatch("grad_raise", f"backward raised in {who} only: {type(err).__name__}: {str(err)[:200]}"
                                    + (f" [{_where(err)}]" if who == "minitorch" else "")))
            elif th.grads is not None and mtr.grads is not None:
                rgrads = None
                for k, (a, e) in enumerate(zip(mtr.grads, th.grads)):
                    name = [leaf.name for leaf in case.leaves if leaf.requires_grad][k]
                    if e is None or a is None:
                        if (e is None) != (a is None):
                            out.append(Mismatch("grad_none", f"grad of {name}: torch {'None' if e is None else 'a tensor'}, "
                                                f"minitorch {'None' if a is None else _short(a)}"))
                        continue
                    ms = compare_value(a, e, None, f"grad {name} ", gtol, check_rg=False)
                    if any(m.kind.endswith("value") for m in ms):
                        if rgrads is None:
                            reference = reference or ref()
                            rgrads = reference.grads if reference and reference.grads else []
                        r = rgrads[k] if k < len(rgrads) else None
                        ms = compare_value(a, e, r, f"grad {name} ", gtol, check_rg=False)
                    for m in ms:
                        m.kind = "grad_" + m.kind.split()[-1]
                    out += ms
    for m in out:
        if not m.kind.startswith("grad_") and " " in m.kind:
            m.kind = m.kind.split()[-1]
    tw = Counter(w for w in th.warnings)
    mw = Counter(w for w in mtr.warnings if not (w[0] == "RuntimeWarning" and _NP_WARNING.search(w[1])))
    npw = [w for w in mtr.warnings if w[0] == "RuntimeWarning" and _NP_WARNING.search(w[1])]
    if set(tw) != set(mw):
        missing, extra = set(tw) - set(mw), set(mw) - set(tw)
        out.append(Mismatch("warning", "; ".join([f"missing in minitorch: {c}: {m[:150]}" for c, m in sorted(missing)]
                                                 + [f"extra in minitorch: {c}: {m[:150]}" for c, m in sorted(extra)])))
    if npw:
        out.append(Mismatch("np_warning", f"NumPy warning leaked from minitorch: {npw[0][1][:150]}"))
    return out


def _short(value: Any) -> str:
    if is_tensor(value):
        return f"tensor{tuple(value.shape)} {dtype_name(value.dtype)}"
    if isinstance(value, (tuple, list)):
        return f"{type(value).__name__}[{', '.join(_short(v) for v in value[:4])}{', ...' if len(value) > 4 else ''}]"
    return f"{value!r:.60}"


def _where(error: BaseException) -> str:
    """file:line of the innermost frame inside minitorch_lsm (where minitorch raised)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "minitorch_lsm" in f.filename]
    if not frames:
        return "?"
    f = frames[-1]
    return f"{f.filename.split('minitorch_lsm/')[-1]}:{f.lineno}"


@dataclass
class Result:
    seed: int
    op: str
    family: str
    description: str
    mismatches: list[Mismatch]

    @property
    def new(self) -> list[Mismatch]:
        return [m for m in self.mismatches if m.known is None]


_NUMERIC = {"value", "nan", "grad_value", "grad_nan"}


def _drop_rounding_noise(case: Case, mismatches: list[Mismatch], torch64: Run | None,
                         ups: dict[int, np.ndarray]) -> list[Mismatch]:
    """Programs chain ops, and data-dependent ones (masks, where, max) turn rounding-level differences into
    large ones. When minitorch and torch agree once both run on float64 leaves, the low-precision numeric
    mismatches are rounding noise and are dropped; otherwise they stay."""
    if torch64 is None or torch64.error is not None:
        return mismatches
    mt64 = execute(case, mt, {i: u.astype(np.float64) if u.dtype.kind == "f" else u for i, u in ups.items()}, ref=True)
    if mt64.error is not None:
        return mismatches
    again = compare_value(mt64.out, torch64.out, None, "", Tol(inside="float64"))
    if (torch64.grads is None) != (mt64.grads is None):
        return mismatches
    for a, e in zip(mt64.grads or [], torch64.grads or []):
        if (a is None) != (e is None):
            return mismatches
        if a is not None:
            again += compare_value(a, e, None, "grad ", Tol(inside="float64"), check_rg=False)
    if any(m.kind.split()[-1] in ("value", "nan", "shape", "dtype", "type") for m in again):
        return mismatches
    return [m for m in mismatches if m.kind not in _NUMERIC]


class CaseTimeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout("case timed out")


def check_seed(seed: int, ops: list[Op] | None = None, timeout: int = 30) -> Result:
    """Generate, run in both libraries, compare."""
    try:
        case = generate(seed, ops)
    except Exception as error:  # noqa: BLE001 - a generator bug: report it, do not stop the run
        return Result(seed, "?", "?", "", [Mismatch("harness", f"generate: {type(error).__name__}: {error}")])
    use_alarm = timeout and hasattr(signal, "SIGALRM")
    if use_alarm:
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(timeout)
    try:
        th = execute(case, torch, None)
        ups = upstream_for(case, th)
        if ups:
            th = execute(case, torch, ups)
        mtr = execute(case, mt, ups)
        cache: list[Run | None] = []

        def ref() -> Run | None:
            if not cache:
                try:
                    cache.append(execute(case, torch, {i: u.astype(np.float64) if u.dtype.kind == "f" else u
                                                        for i, u in ups.items()}, ref=True))
                except Exception:  # noqa: BLE001
                    cache.append(None)
            return cache[0]

        mismatches = compare_runs(case, th, mtr, ref, ups)
        if case.family == "program" and any(m.kind in _NUMERIC for m in mismatches):
            mismatches = _drop_rounding_noise(case, mismatches, ref(), ups)
    except CaseTimeout:
        mismatches = [Mismatch("timeout", f"case took more than {timeout}s")]
    except Exception as error:  # noqa: BLE001 - a fuzzer bug or a crash outside the code: report it
        mismatches = [Mismatch("harness", f"{type(error).__name__}: {error} [{traceback.format_exc(limit=-2)[-300:]}]")]
    finally:
        if use_alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
    for m in mismatches:
        m.known = known_issue(case.op, m.kind, m.detail, case.describe())
    return Result(seed, case.op, case.family, case.describe(), mismatches)


# ====================================================================== repro
def _literal(leaf: Leaf) -> str:
    a = leaf.array
    if a.size == 0:
        body = f"np.zeros({tuple(a.shape)!r}, dtype={leaf.dtype!r})"
    else:
        body = f"np.array({a.tolist()!r}, dtype={leaf.dtype!r})"
    rg = ", requires_grad=True" if leaf.requires_grad else ""
    return f"{leaf.name} = torch.tensor({body}, dtype=torch.{leaf.dtype}{rg})"


def snippet(case: Case, lib: str = "torch") -> str:
    """The exact code of the case, runnable on its own (``lib``: "torch" or "minitorch_lsm")."""
    head = ("import numpy as np\n"
            + ("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n" if lib == "torch" else
               "import minitorch_lsm as torch\nimport minitorch_lsm.nn as nn\nimport minitorch_lsm.nn.functional as F\n")
            + "inf, nan = float('inf'), float('nan')\n")
    body = "\n".join(_literal(leaf) for leaf in case.leaves) + "\n" + case.code.strip() + "\nprint(out)\n"
    grads = [leaf.name for leaf in case.leaves if leaf.requires_grad]
    if grads:
        body += ("# backward: the fuzzer uses a seeded upstream gradient on every float output\n"
                 f"# print({', '.join(n + '.grad' for n in grads)})\n")
    return head + body


def repro_command(seed: int, ops: str | None = None) -> str:
    return f"python tests/fuzz.py --repro {seed}" + (f" --ops {ops}" if ops else "")


def show_run(name: str, run: Run) -> str:
    lines = [f"--- {name}"]
    if run.error is not None:
        lines.append(f"raised {type(run.error).__name__}: {run.error}")
    else:
        lines.append(f"out = {run.out!r}")
        if run.grad_error is not None:
            lines.append(f"backward raised {type(run.grad_error).__name__}: {run.grad_error}")
        elif run.grads is not None:
            lines += [f"grad[{k}] = {g!r}" for k, g in enumerate(run.grads)]
    lines += [f"warning {c}: {m}" for c, m in run.warnings]
    return "\n".join(lines)


def repro(seed: int, ops: list[Op] | None = None) -> int:
    case = generate(seed, ops)
    print(f"# seed {seed}: op {case.op} ({case.family})\n# {case.describe()}\n")
    print(snippet(case))
    th = execute(case, torch, None)
    ups = upstream_for(case, th)
    th = execute(case, torch, ups) if ups else th
    mtr = execute(case, mt, ups)
    if ups:
        print("# upstream gradients:", {i: u.tolist() for i, u in ups.items()})
    print(show_run("torch", th))
    print(show_run("minitorch_lsm", mtr))
    result = check_seed(seed, ops)
    print("--- mismatches" if result.mismatches else "--- no mismatch")
    for m in result.mismatches:
        print(f"[{m.kind}]{' (known: ' + m.known + ')' if m.known else ''} {m.detail}")
    return 1 if result.mismatches else 0


# ====================================================================== the long mode
_WORKER_OPS: list[Op] | None = None


def _init_worker(op_names: str | None) -> None:
    global _WORKER_OPS
    torch.set_num_threads(1)
    _WORKER_OPS = select_ops(op_names)


def _work(seed: int) -> Result:
    return check_seed(seed, _WORKER_OPS)


def run_many(seeds: range, op_names: str | None, jobs: int, progress: bool = True) -> tuple[list[Result], float]:
    start = time.time()
    results: list[Result] = []
    every = max(len(seeds) // 20, 1)
    if jobs > 1:
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        with ctx.Pool(jobs, initializer=_init_worker, initargs=(op_names,)) as pool:
            for k, res in enumerate(pool.imap_unordered(_work, seeds, chunksize=16), 1):
                results.append(res)
                if progress and k % every == 0:
                    _progress(k, len(seeds), results, start)
    else:
        _init_worker(op_names)
        for k, seed in enumerate(seeds, 1):
            results.append(_work(seed))
            if progress and k % every == 0:
                _progress(k, len(seeds), results, start)
    results.sort(key=lambda r: r.seed)
    return results, time.time() - start


def _progress(k: int, n: int, results: list[Result], start: float) -> None:
    bad = sum(1 for r in results if r.mismatches)
    new = sum(1 for r in results if r.new)
    print(f"  {k}/{n} cases, {time.time() - start:.0f}s, {bad} with mismatches ({new} not known)", flush=True)


def summary(results: list[Result], elapsed: float, op_names: str | None, max_list: int) -> str:
    lines = []
    n = len(results)
    bad = [r for r in results if r.mismatches]
    new = [r for r in results if r.new]
    kinds = Counter(m.kind for r in results for m in r.mismatches)
    lines.append(f"\n{n} cases in {elapsed:.1f}s; {len(bad)} with mismatches ({len(new)} with mismatches not known)")
    fam = Counter(r.family for r in results)
    lines.append("cases by family: " + ", ".join(f"{f} {c}" for f, c in fam.most_common()))
    if kinds:
        lines.append("mismatches by kind: " + ", ".join(f"{k} {c}" for k, c in kinds.most_common()))
    # table by op and kind
    table: dict[str, Counter] = defaultdict(Counter)
    for r in results:
        for kind in {m.kind + ("*" if m.known else "") for m in r.mismatches}:
            table[r.op][kind] += 1
    if table:
        lines.append("\nby op and kind (cases with that kind; * = matched a known issue):")
        ncase = Counter(r.op for r in results)
        for op in sorted(table, key=lambda o: -sum(table[o].values())):
            cells = "  ".join(f"{k}={c}" for k, c in sorted(table[op].items(), key=lambda kc: -kc[1]))
            lines.append(f"  {op:<17}{ncase[op]:>6} cases  {cells}")
    # known issues
    known = Counter(m.known for r in results for m in r.mismatches if m.known)
    if known:
        lines.append("\nknown issues (cases matched):")
        for issue_id, count in known.most_common():
            first = next(r.seed for r in results if any(m.known == issue_id for m in r.mismatches))
            lines.append(f"  {issue_id:<28} {count:>6}  e.g. seed {first}: {KNOWN_ISSUES[issue_id][0]}")
    if new:
        lines.append(f"\nmismatches not known ({len(new)} cases{', first ' + str(max_list) if len(new) > max_list else ''}):")
        for r in new[:max_list]:
            kinds_ = ",".join(sorted({m.kind for m in r.new}))
            lines.append(f"  seed {r.seed} [{r.op}] {kinds_}: {r.new[0].detail[:220]}")
            lines.append(f"      {repro_command(r.seed, op_names)}   # {r.description[:220]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Differential fuzzer: minitorch_lsm against torch.")
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed-start", type=int, default=0)
    parser.add_argument("--ops", default=None, help="comma-separated op or family names (see --list-ops)")
    parser.add_argument("--repro", type=int, default=None, metavar="SEED")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--max-list", type=int, default=300, help="how many not-known mismatching cases to list")
    parser.add_argument("--allow-known", action="store_true", help="exit 0 when every mismatch is a known issue")
    parser.add_argument("--list-ops", action="store_true")
    parser.add_argument("--jsonl", default=None, help="also write every mismatch as JSON lines to this file")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # the cases record their own warnings
    if args.list_ops:
        for family in FAMILY_WEIGHTS:
            print(f"{family}: {', '.join(op.name for op in OPS if op.family == family)}")
        return 0
    if args.repro is not None:
        return repro(args.repro, select_ops(args.ops))
    seeds = range(args.seed_start, args.seed_start + args.cases)
    print(f"fuzzing {len(seeds)} cases (seeds {seeds.start}..{seeds.stop - 1}) with {args.jobs} job(s)"
          + (f", ops {args.ops}" if args.ops else ""), flush=True)
    results, elapsed = run_many(seeds, args.ops, args.jobs)
    print(summary(results, elapsed, args.ops, args.max_list))
    if args.jsonl:
        import json

        with open(args.jsonl, "w") as f:
            for r in results:
                for m in r.mismatches:
                    f.write(json.dumps({"seed": r.seed, "op": r.op, "family": r.family, "kind": m.kind,
                                        "known": m.known, "detail": m.detail, "case": r.description}) + "\n")
    failing = [r for r in results if (r.new if args.allow_known else r.mismatches)]
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
