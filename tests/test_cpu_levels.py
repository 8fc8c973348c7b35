"""The kernels are built once per CPU level (baseline, x86-64-v3, x86-64-v4), and every level
this machine can run must pass the kernel tests and agree with the others.

The level is chosen when neuronlab is imported, so each other level runs in a subprocess
with ``NEURONLAB_CPU`` set. The rest of the suite runs at the level that import chose.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import neuronlab as nl
from neuronlab import _kernels
from neuronlab._config import config

ROOT = Path(__file__).resolve().parent.parent
RUNNABLE = _kernels.runnable_levels()
OTHERS = [level for level in _kernels.available_levels() if level != _kernels.LEVEL]
# the tests of the kernels themselves, which the whole suite runs at the chosen level
KERNEL_TESTS = ["tests/test_activations.py", "tests/test_fastmath.py", "tests/test_formulas.py",
                "tests/test_softmax.py", "tests/test_losses.py", "tests/test_streaming.py",
                "tests/test_layers.py", "tests/test_optim.py"]

# Activations whose kernels are exact or nearly so, with no fused multiply-add to contract and
# no vector libm: every level must give the same bits (docs/kernels.rst, "Same bits everywhere").
SAME_BITS = ["binary_step", "hard_sigmoid", "hard_tanh", "identity", "leaky_relu", "prelu",
             "relu", "rrelu", "softsign"]


def run(level: str, code: str = "", args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = {**os.environ, "NEURONLAB_CPU": level}
    cmd = [sys.executable, *(("-c", textwrap.dedent(code)) if code else ()), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=1200)


def cannot_run(level: str) -> str:
    return f"this CPU cannot run the {level} build (it runs {', '.join(RUNNABLE)})"


def test_import_loads_the_best_level_this_cpu_runs():
    done = run("", "from neuronlab import _kernels as k; print(k.LEVEL, k.runnable_levels()[-1])")
    chosen, best = done.stdout.split()
    assert chosen == best
    assert nl.show_config is not None and config()["level"] == _kernels.LEVEL


def test_every_kernel_module_comes_from_the_chosen_level():
    from neuronlab._kernels import _dense, _elementwise, _losses, _optim, _softmax
    from neuronlab._kernels.fastmath import _fastmath

    for module in (_dense, _elementwise, _losses, _optim, _softmax, _fastmath):
        assert f"/_kernels/levels/{_kernels.LEVEL}/" in Path(module.__file__).as_posix(), module.__file__


@pytest.mark.parametrize("value, message", [
    ("v9", "NEURONLAB_CPU must be one of baseline, v3, v4"),
    ("avx512", "NEURONLAB_CPU must be one of baseline, v3, v4"),
])
def test_an_unknown_level_is_refused_by_name(value, message):
    done = run(value, "import neuronlab")
    assert done.returncode != 0
    assert "ValueError" in done.stderr and message in done.stderr and repr(value) in done.stderr


def test_a_level_above_the_cpu_is_refused_naming_what_it_lacks(monkeypatch):
    if "v4" not in _kernels.available_levels():
        pytest.skip("no v4 build here (not x86-64, or a NEURONLAB_NATIVE=1 build)")
    old_cpu = {**_kernels.cpu_features(), "avx512bw": False, "os_avx512": False}
    monkeypatch.setattr(_kernels, "features", lambda: old_cpu)
    with pytest.raises(ValueError, match=r"NEURONLAB_CPU=v4: this CPU \(or its operating system\) "
                                         r"lacks avx512bw, os_avx512; it can run baseline, v3"):
        _kernels._choose("v4")
    assert _kernels._choose("") == "v3"


def test_show_config_and_python_m_neuronlab_info_say_the_level(capsys):
    nl.show_config()
    printed = capsys.readouterr().out
    assert f"CPU level:     {_kernels.LEVEL} (" in printed and f"neuronlab {nl.__version__}" in printed
    assert "BLAS:" in printed and "threads:" in printed
    for level in OTHERS:
        done = run(level, args=("-m", "neuronlab", "info"))
        assert done.returncode == 0, done.stderr
        assert f"CPU level:     {level} (forced by NEURONLAB_CPU={level})" in done.stdout


@pytest.mark.parametrize("level", ["baseline", "v3", "v4"])
def test_the_kernel_tests_pass_at_every_level(level):
    """The kernel tests once more, at each level other than the one this run loaded."""
    if level not in _kernels.available_levels():
        pytest.skip(f"no {level} build in this installation")
    if level == _kernels.LEVEL:
        pytest.skip(f"{level} is the level this whole run tests")
    if level not in RUNNABLE:
        pytest.skip(cannot_run(level))
    done = run(level, args=("-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *KERNEL_TESTS))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout.splitlines()[-1]


DUMP = """
import sys
import numpy as np
import neuronlab as nl
rng = np.random.default_rng(0)
z = np.concatenate([np.linspace(-40, 40, 8001), rng.normal(0, 3, 8000), [0.0, -0.0, 1e-300, 1e-40]])
out = {}
for name in nl.activations.available():
    act = nl.activations.get(name)
    if name in ("softmax", "log_softmax", "maxout"):
        continue
    for dtype in ("float32", "float64"):
        for op in ("forward", "derivative", "second_derivative"):
            out[f"{name}.{op}.{dtype}"] = getattr(act, op)(z.astype(dtype))
logits = rng.normal(0, 4, (64, 1000))
labels = rng.integers(0, 1000, 64)
for dtype in ("float32", "float64"):
    x = logits.astype(dtype)
    out[f"softmax.{dtype}"] = nl.softmax.softmax(x)
    loss = nl.losses.get("softmax_cross_entropy")
    out[f"sce.{dtype}"] = np.array([loss(x, labels)])
    out[f"sce.gradient.{dtype}"] = loss.gradient(x, labels)
X, y = nl.datasets.blobs(300, n_classes=3, seed=0)
net = nl.Network([nl.Layer(2, 16, "tanh"), nl.Layer(16, 3, "softmax")], "cross_entropy", seed=0)
out["training_loss"] = np.array(net.fit(X, y, epochs=5, progress=False).loss)
np.savez(sys.argv[1], **out)
"""


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, dict[str, np.ndarray]]:
    """Every runnable level's results on the same inputs."""
    results = {}
    for level in [lv for lv in _kernels.available_levels() if lv in RUNNABLE]:
        path = tmp_path_factory.mktemp(level) / "out.npz"
        done = run(level, DUMP, (str(path),))
        assert done.returncode == 0, done.stderr
        results[level] = dict(np.load(path))
    return results


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| in ulp of the larger of the two (0 where both are equal or both NaN)."""
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    spacing = np.spacing(np.maximum(np.abs(a), np.abs(b)).astype(a.dtype)).astype(np.float64)
    return np.where(same, 0.0, np.abs(a.astype(np.float64) - b) / spacing)


def test_exact_activations_give_the_same_bits_at_every_level(outputs):
    if len(outputs) < 2:
        pytest.skip("this machine runs only one level")
    first, *rest = outputs
    for key in outputs[first]:
        if key.split(".")[0] in SAME_BITS:
            for level in rest:
                np.testing.assert_array_equal(outputs[level][key], outputs[first][key],
                                              err_msg=f"{key}: {level} against {first}")


def test_the_other_kernels_agree_across_levels(outputs):
    """Fused multiply-add (v3 and v4, not the baseline) and libmvec's vector widths change the
    last bits. f and the softmax agree to a few ulp. Where f' or f'' crosses zero, its value
    is the difference of larger terms and a relative error means nothing: the derivatives
    agree to a few ulp of their largest value. (Each level's own accuracy against mpmath is
    what test_the_kernel_tests_pass_at_every_level checks.)"""
    if len(outputs) < 2:
        pytest.skip("this machine runs only one level")
    first, *rest = outputs
    worst = {}
    for key, ref in outputs[first].items():
        if key.split(".")[0] in SAME_BITS or key == "training_loss":
            continue
        eps = np.finfo(ref.dtype).eps
        for level in rest:
            got = outputs[level][key]
            assert np.array_equal(np.isnan(got), np.isnan(ref)), f"{key}: NaN in different places"
            finite = np.isfinite(ref)
            np.testing.assert_array_equal(got[~finite], ref[~finite], err_msg=key)
            error = np.abs(got[finite].astype(np.float64) - ref[finite])
            if "derivative" in key or "gradient" in key:
                worst[f"{key} {level}"] = error.max() / (eps * np.abs(ref[finite]).max())
            elif key.startswith("sce."):   # one number, accumulated in float64
                worst[f"{key} {level}"] = error.max() / (np.finfo(np.float32).eps * abs(float(ref[0])))
            else:
                worst[f"{key} {level}"] = ulp_distance(got[finite], ref[finite]).max()
    assert max(worst.values()) <= 8, sorted(worst.items(), key=lambda kv: -kv[1])[:5]


def test_a_network_trains_to_the_same_history_at_every_level(outputs):
    if len(outputs) < 2:
        pytest.skip("this machine runs only one level")
    first, *rest = outputs
    for level in rest:
        np.testing.assert_allclose(outputs[level]["training_loss"], outputs[first]["training_loss"],
                                   rtol=1e-12)
