"""``torch.linalg``: what this library has of it, the vector norm.

Examples:
    >>> import minitorch_lsm as torch
    >>> torch.linalg.vector_norm(torch.tensor([[3., 4.], [6., 8.]]), dim=1)
    tensor([ 5., 10.])
"""
from .ops.norm import vector_norm

__all__ = ["vector_norm"]
