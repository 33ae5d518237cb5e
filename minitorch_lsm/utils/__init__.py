"""Utilities: ``utils.data`` (datasets and loaders) and ``utils.dlpack``."""
from . import data, dlpack

__all__ = ["data", "dlpack"]
