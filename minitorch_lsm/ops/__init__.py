"""The ops, as functions (``torch.exp(x)``) and, through the table below, as Tensor methods (``x.exp()``).

Each function's first argument is the tensor, so the same function object serves as the method.
"""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import indexing, inplace, linalg, reduction, shape
from .comparison import (bitwise, eq, ge, gt, isfinite, isinf, isnan, le, logical_and, logical_not, logical_or,
                         logical_xor, lt, ne)
from .elementwise import add, div, floor_divide, mul, pow, remainder, rsub, sub
from .selection import clamp, clone, maximum, minimum
from .extrema import all, amax, amin, any, argmax, argmin, max, min
from .gather_scatter import gather, index_select, masked_fill, scatter, scatter_add
from .indexing import nonzero, where
from .joining import cat, chunk, narrow, repeat, split, stack, unbind
from .linalg import bmm, dot, matmul, mm
from .norm import norm
from .reduction import mean, prod, std, sum, var
from .softmax import log_softmax, logsumexp, softmax
from .shape import (broadcast_shapes, contiguous, expand, expand_as, flatten, is_contiguous, permute, reshape, reshape_as,
                    squeeze, stride, t, transpose, unsqueeze, view, view_as)
from .unary import abs, cos, exp, log, log1p, neg, relu, rsqrt, sigmoid, sign, sin, sqrt, tanh

def where_method(self: Tensor, condition: Tensor, other: Any) -> Tensor:
    """``x.where(condition, y)`` is ``torch.where(condition, x, y)``: x where condition holds, else y.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.tensor([1., 2., 3.]).where(torch.tensor([True, False, True]), 0.)
        tensor([1., 0., 3.])
    """
    return where(condition, self, other)


_METHODS = {
    # elementwise: arithmetic, unary math, selection, comparisons and logic
    "norm": norm, "add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "neg": neg, "abs": abs, "exp": exp, "log": log,
    "log1p": log1p, "sqrt": sqrt, "rsqrt": rsqrt, "sin": sin, "cos": cos, "relu": relu, "sigmoid": sigmoid,
    "tanh": tanh, "clamp": clamp, "clip": clamp, "maximum": maximum, "minimum": minimum, "sign": sign,
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "logical_and": logical_and, "logical_or": logical_or,
    "logical_xor": logical_xor, "logical_not": logical_not, "isnan": isnan, "isinf": isinf, "isfinite": isfinite,
    "floor_divide": floor_divide, "remainder": remainder, "clone": clone, "where": where_method,
    "subtract": sub, "multiply": mul, "divide": div, "negative": neg, "absolute": abs,
    # reductions
    "sum": sum, "mean": mean, "prod": prod, "var": var, "std": std, "amax": amax, "amin": amin, "max": max,
    "min": min, "argmax": argmax, "argmin": argmin, "all": all, "any": any,
    # the softmax family
    "log_softmax": log_softmax, "softmax": softmax, "logsumexp": logsumexp,
    # shape
    "reshape": reshape, "view": view, "flatten": flatten, "permute": permute, "transpose": transpose, "t": t,
    "unsqueeze": unsqueeze, "squeeze": squeeze, "expand": expand, "expand_as": expand_as, "contiguous": contiguous,
    "view_as": view_as, "reshape_as": reshape_as, "is_contiguous": is_contiguous, "stride": stride, "repeat": repeat, "split": split,
    "chunk": chunk, "unbind": unbind, "narrow": narrow, "gather": gather, "scatter": scatter, "scatter_add": scatter_add, "index_select": index_select,
    "masked_fill": masked_fill, "nonzero": nonzero,
    # linear algebra
    "matmul": matmul, "mm": mm, "bmm": bmm, "dot": dot,
    # in place
    "add_": inplace.add_, "sub_": inplace.sub_, "mul_": inplace.mul_, "div_": inplace.div_, "zero_": inplace.zero_,
    "fill_": inplace.fill_, "copy_": inplace.copy_, "clamp_": inplace.clamp_,
    "masked_fill_": inplace.masked_fill_, "exp_": inplace.exp_, "relu_": inplace.relu_, "neg_": inplace.neg_,
    "sqrt_": inplace.sqrt_, "sigmoid_": inplace.sigmoid_, "tanh_": inplace.tanh_, "pow_": inplace.pow_,
    "negative_": inplace.neg_, "clip_": inplace.clamp_,
}


def _swap(function: Any) -> Any:
    return lambda self, other: function(other, self)


_OPERATORS = {
    "__add__": add, "__radd__": add, "__sub__": sub, "__rsub__": rsub, "__mul__": mul,
    "__rmul__": mul, "__truediv__": div, "__rtruediv__": _swap(div), "__pow__": pow, "__rpow__": _swap(pow),
    "__matmul__": matmul, "__rmatmul__": _swap(matmul), "__floordiv__": floor_divide,
    "__rfloordiv__": _swap(floor_divide), "__mod__": remainder, "__rmod__": _swap(remainder),
    "__neg__": neg, "__pos__": lambda self: self, "__abs__": abs,
    "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
    "__and__": lambda a, b: bitwise("bitwise_and", a, b), "__rand__": lambda a, b: bitwise("bitwise_and", b, a),
    "__or__": lambda a, b: bitwise("bitwise_or", a, b), "__ror__": lambda a, b: bitwise("bitwise_or", b, a),
    "__xor__": lambda a, b: bitwise("bitwise_xor", a, b), "__rxor__": lambda a, b: bitwise("bitwise_xor", b, a),
    "__invert__": lambda a: bitwise("invert", a),
    "__iadd__": inplace.add_, "__isub__": inplace.sub_, "__imul__": inplace.mul_, "__itruediv__": inplace.div_,
    "__getitem__": indexing.getitem, "__setitem__": inplace.setitem,
}

_PROPERTIES = {"T": shape.T, "mT": shape.mT}


def install_tensor_methods() -> None:
    """Attach the ops to ``Tensor`` (called once, when the package is imported).

    A method is the function itself, so ``x.exp()`` is ``torch.exp(x)``; aliases share it.

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.Tensor.exp is torch.exp, torch.Tensor.clip is torch.Tensor.clamp
        (True, True)
    """
    for name, function in {**_METHODS, **_OPERATORS}.items():
        setattr(Tensor, name, function)
    for name, function in _PROPERTIES.items():
        setattr(Tensor, name, property(function))
    Tensor.__hash__ = lambda self: id(self)  # defining __eq__ above would otherwise make tensors unhashable


install_tensor_methods()
