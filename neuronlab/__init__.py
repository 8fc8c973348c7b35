"""neuronlab: learn how artificial neurons work.

Compiled kernels for every activation function of the course with their derivatives,
wrapped in small Python objects that read like the formulas they compute.

>>> import neuronlab as nl
>>> nl.activations.available()[:4]
['binary_step', 'elu', 'gelu', 'hard_sigmoid']
"""
# softmax registers softmax, log_softmax and maxout with the activations.
from neuronlab import (
    activations,
    datasets,
    diagnostics,
    evaluation,
    gradcheck,
    init,
    losses,
    metrics,
    optim,
    persistence,
    plot,
    softmax,
    training,
)
from neuronlab._config import get_num_threads, set_num_threads, show_config
from neuronlab.layers import Layer
from neuronlab.network import Network
from neuronlab.perceptron import LogisticNeuron, Perceptron
from neuronlab.training import EarlyStopping, History

__version__ = "0.1.0"


def __getattr__(name: str):
    # neuronlab.estimators imports scikit-learn, which takes a while and is optional:
    # nl.estimators imports it the first time it is used, not on ``import neuronlab``.
    if name == "estimators":
        import importlib

        return importlib.import_module("neuronlab.estimators")
    raise AttributeError(f"module 'neuronlab' has no attribute {name!r}")


__all__ = [
    "EarlyStopping",
    "History",
    "Layer",
    "LogisticNeuron",
    "Network",
    "Perceptron",
    "activations",
    "datasets",
    "diagnostics",
    "estimators",
    "evaluation",
    "get_num_threads",
    "gradcheck",
    "init",
    "losses",
    "metrics",
    "optim",
    "persistence",
    "plot",
    "set_num_threads",
    "show_config",
    "softmax",
    "training",
]
