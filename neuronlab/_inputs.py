# Goes once network.py is split: it is the last module importing these from here.
from neuronlab._validation import check_count, make_rng  # noqa: F401
