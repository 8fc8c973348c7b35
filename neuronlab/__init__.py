"""neuronlab: learn how artificial neurons work.

Compiled kernels for every activation function of the course with their derivatives,
wrapped in small Python objects that read like the formulas they compute.

>>> import neuronlab as nl
>>> nl.activations.available()[:4]
['binary_step', 'elu', 'gelu', 'hard_sigmoid']
"""
from neuronlab import activations, losses, softmax  # softmax registers its activations
from neuronlab._config import get_num_threads, set_num_threads

__version__ = "0.1.0"

__all__ = ["activations", "get_num_threads", "losses", "set_num_threads", "softmax"]
