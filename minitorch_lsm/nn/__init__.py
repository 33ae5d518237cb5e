"""``nn``: modules, parameters, the functional API and initializers.

``nn`` builds on ``ops`` and ``autograd``; nothing below it imports from here.
"""
from . import functional, init
from .module import Module
from .modules import (CrossEntropyLoss, Dropout, Flatten, Identity, Linear, LogSoftmax, ModuleDict, ModuleList,
                      MSELoss, NLLLoss, ReLU, Sequential, Sigmoid, Softmax, Softmin, Tanh)
from .parameter import Parameter

__all__ = ["functional", "init", "Module", "Parameter", "Linear", "Identity", "Flatten", "Dropout", "ReLU", "Tanh",
           "Sigmoid", "LogSoftmax", "Softmax", "Softmin", "Sequential", "ModuleList", "ModuleDict", "NLLLoss",
           "CrossEntropyLoss", "MSELoss"]
