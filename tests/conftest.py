"""Shared test settings: a fast Hypothesis profile, and the oracle module on sys.path."""
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import _oracle` from any test

# Property tests run the mpmath oracle on every example: few examples, no deadline
# (the first example pays for building SymPy expressions).
settings.register_profile(
    "neuronlab", max_examples=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("neuronlab")
