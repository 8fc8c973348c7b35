"""The package imports, every registered activation runs, and dtypes are preserved."""
import numpy as np
import pytest

import neuronlab as nl

ELEMENTWISE = [n for n in nl.activations.available() if nl.activations.get(n).elementwise]


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_activation_runs_and_keeps_dtype(name, dtype):
    act = nl.activations.get(name)
    x = np.linspace(-3, 3, 7, dtype=dtype)
    for result in (act(x), act.derivative(x), act.second_derivative(x), act.backward(x, x)):
        assert result.dtype == dtype
        assert result.shape == x.shape
        assert np.all(np.isfinite(result))


def test_silu_is_swish():
    assert nl.activations.get("silu") == nl.activations.get("swish", beta=1.0)
