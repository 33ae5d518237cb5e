"""The layer classes, one file per family."""
from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Softmin, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .linear import Dropout, Flatten, Identity, Linear
from .loss import CrossEntropyLoss, MSELoss, NLLLoss

__all__ = ["LogSoftmax", "Softmax", "Softmin", "ReLU", "Tanh", "Sigmoid", "Sequential", "ModuleList", "ModuleDict",
           "Linear", "Identity", "Flatten", "Dropout", "NLLLoss", "CrossEntropyLoss", "MSELoss"]
