"""Time softmax-cross-entropy and the multiclass hinge (loss + gradient, integer labels) and
softmax forward+backward.

Peers: the NumPy formula, PyTorch's ``cross_entropy`` / ``multi_margin_loss`` / ``softmax``
with autograd, and scikit-learn's ``HalfMultinomialLoss.loss_gradient`` (each only when
installed). Every contender gets the same number of threads. Run standalone:

    .venv/bin/python benchmarks/bench_losses.py [--threads N [N ...]] [--repeat R]

NumPy itself runs single-threaded (its exp and reductions do not use threads).
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np

import neuronlab as nl

SHAPES = [(65536, 10), (4096, 1000)]
DTYPES = [np.float32, np.float64]


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of `repeat` rounds, each long enough (>= 0.05 s) to time, in ms per call."""
    fn()  # warm up: first-touch page faults, lazy initialisation
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < 0.05:
        fn()
        calls += 1
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e3


# -- softmax cross-entropy -----------------------------------------------------------------
def numpy_sce(z: np.ndarray, labels: np.ndarray):
    m = z.shape[0]
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(m)
    loss = np.mean(np.log(s[:, 0]) - shifted[rows, labels])
    grad = e / s
    grad[rows, labels] -= 1
    grad /= m
    return loss, grad


def sce_contenders(threads: int):
    loss = nl.losses.SoftmaxCrossEntropy()
    yield "neuronlab", lambda z, labels: (lambda: loss.loss_and_gradient(z, labels))
    yield "numpy", lambda z, labels: (lambda: numpy_sce(z, labels))
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        pass
    else:
        torch.set_num_threads(threads)

        def torch_case(z, labels):
            zt = torch.from_numpy(z).requires_grad_()
            lt = torch.from_numpy(labels.astype(np.int64))

            def run():
                zt.grad = None
                value = F.cross_entropy(zt, lt)
                value.backward()
                return value.item(), zt.grad

            return run

        yield f"torch {torch.__version__.split('+')[0]}", torch_case
    try:
        from sklearn._loss.loss import HalfMultinomialLoss
    except ImportError:
        pass
    else:
        def sklearn_case(z, labels):
            k = z.shape[1]
            sk = HalfMultinomialLoss(n_classes=k)
            y_true = labels.astype(z.dtype)
            loss_out, grad_out = np.empty(z.shape[0], z.dtype), np.empty_like(z)

            def run():  # per-sample losses and unscaled gradient, plus the mean: less work
                sk.loss_gradient(y_true, z, loss_out=loss_out, gradient_out=grad_out,
                                 n_threads=threads)
                return loss_out.mean(), grad_out

            return run

        yield "scikit-learn", sklearn_case


# -- the multiclass hinge --------------------------------------------------------------------
def numpy_hinge(z: np.ndarray, labels: np.ndarray, margin: float = 1.0):
    """The vectorized multiclass SVM loss as CS231n's assignment writes it: mean and gradient."""
    m = z.shape[0]
    rows = np.arange(m)
    margins = np.maximum(0, z - z[rows, labels][:, None] + margin)
    margins[rows, labels] = 0
    loss = margins.sum() / m
    grad = (margins > 0).astype(z.dtype)
    grad[rows, labels] = -grad.sum(axis=1)
    grad /= m
    return loss, grad


def hinge_contenders(threads: int):
    loss = nl.losses.MulticlassHinge()
    yield "neuronlab", lambda z, labels: (lambda: loss.loss_and_gradient(z, labels))
    yield "numpy", lambda z, labels: (lambda: numpy_hinge(z, labels))
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return
    torch.set_num_threads(threads)

    def torch_case(z, labels):  # multi_margin_loss also divides each sample's sum by K
        zt = torch.from_numpy(z).requires_grad_()
        lt = torch.from_numpy(labels.astype(np.int64))

        def run():
            zt.grad = None
            value = F.multi_margin_loss(zt, lt)
            value.backward()
            return value.item(), zt.grad

        return run

    yield f"torch {torch.__version__.split('+')[0]}", torch_case


# -- softmax forward + backward ------------------------------------------------------------
def numpy_softmax_fb(z: np.ndarray, dy: np.ndarray):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    y = e / e.sum(axis=1, keepdims=True)
    return y, y * (dy - np.sum(y * dy, axis=1, keepdims=True))


def softmax_contenders(threads: int):
    sm = nl.softmax.Softmax()

    def ours(z, dy):
        def run():
            y = sm(z)
            return y, sm.backward_from_output(y, dy)
        return run

    yield "neuronlab", ours
    yield "numpy", lambda z, dy: (lambda: numpy_softmax_fb(z, dy))
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(threads)

    def torch_case(z, dy):
        zt, dyt = torch.from_numpy(z).requires_grad_(), torch.from_numpy(dy)

        def run():
            zt.grad = None
            y = torch.softmax(zt, dim=1)
            y.backward(dyt)
            return y, zt.grad

        return run

    yield f"torch {torch.__version__.split('+')[0]}", torch_case


def table(title: str, contenders, make_inputs, repeat: int) -> list[str]:
    lines = [f"{title}", ""]
    header = None
    rng = np.random.default_rng(0)
    for shape in SHAPES:
        for dtype in DTYPES:
            args = make_inputs(rng, shape, dtype)
            times = {name: best_time(make(*args), repeat) for name, make in contenders}
            if header is None:
                header = ["shape", "dtype", *(f"{n} ms" for n in times), "numpy / neuronlab"]
                lines.append("| " + " | ".join(header) + " |")
                lines.append("|" + "|".join("---" for _ in header) + "|")
            ratio = times["numpy"] / times["neuronlab"]
            cells = [f"{shape[0]} x {shape[1]}", np.dtype(dtype).name,
                     *(f"{t:.3f}" for t in times.values()), f"{ratio:.1f}x"]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None, quick: bool = False) -> None:
    """Run from benchmarks/run.py as main(quick=...); quick keeps one round per case."""
    if argv is None and quick:
        argv = ["--repeat", "1"]
    elif argv is None:
        argv = []
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = sorted({1, nl.get_num_threads()})
    parser.add_argument("--threads", type=int, nargs="+", default=default,
                        help="thread counts to run, the same for every contender "
                             f"(default: {' '.join(map(str, default))})")
    parser.add_argument("--repeat", type=int, default=7, help="timing rounds; the best counts")
    args = parser.parse_args(argv)
    for threads in args.threads:
        run(threads, args.repeat)


def run(threads: int, repeat: int) -> None:
    before = nl.get_num_threads()
    nl.set_num_threads(threads)

    def sce_inputs(rng, shape, dtype):
        z = rng.normal(0, 3, shape).astype(dtype)
        return z, rng.integers(0, shape[1], shape[0])

    def softmax_inputs(rng, shape, dtype):
        return rng.normal(0, 3, shape).astype(dtype), rng.normal(size=shape).astype(dtype)

    print(f"neuronlab {nl.__version__}, numpy {np.__version__}, threads={threads}\n")
    print("\n".join(table("Softmax cross-entropy: loss + gradient, integer labels",
                          list(sce_contenders(threads)), sce_inputs, repeat)))
    print()
    print("\n".join(table("Multiclass hinge (margin 1): loss + gradient, integer labels",
                          list(hinge_contenders(threads)), sce_inputs, repeat)))
    print()
    print("\n".join(table("Softmax: forward + backward (vector-Jacobian product)",
                          list(softmax_contenders(threads)), softmax_inputs, repeat)))
    print()
    nl.set_num_threads(before)


if __name__ == "__main__":
    main(sys.argv[1:])
